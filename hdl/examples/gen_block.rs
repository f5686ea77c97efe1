//! Prints the Verilog of one block for a quick lint:
//! `cargo run -p toe-hdl --example gen_block -- rx_path > rx_path.v`.
use rust_hdl::prelude::*;

fn render<B: Block + Default>() -> String {
    let mut uut = B::default();
    uut.connect_all();
    generate_verilog(&uut)
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let v = match which.as_str() {
        "regs" => render::<toe_hdl::regs::RegFile>(),
        "rx_path" => render::<toe_hdl::rx::path::RxPath>(),
        "tx_sched" => render::<toe_hdl::tx::sched::TxSched>(),
        "tx_csum" => render::<toe_hdl::tx::csum::TxCsum>(),
        "connect" => render::<toe_hdl::setup::connect::Connect>(),
        "opt_walk" => render::<toe_hdl::rx::opt_walk::OptWalk>(),
        "rx_parse" => render::<toe_hdl::rx::parse::RxParse>(),
        "dma_addr" => render::<toe_hdl::rx::dma_addr::DmaAddr>(),
        "ctl_frame_tx" => render::<toe_hdl::common::ctl_frame_tx::CtlFrameTx>(),
        "listen" => render::<toe_hdl::setup::listen::ListenTable>(),
        "frame_arb2" => render::<toe_hdl::common::frame_arb::FrameArb<2>>(),
        "frame_arb4" => render::<toe_hdl::common::frame_arb::FrameArb<4>>(),
        "frame_arb8" => render::<toe_hdl::common::frame_arb::FrameArb<8>>(),
        "rec_arb2" => render::<toe_hdl::common::rec_arb::RecArbN<2, 368>>(),
        "rec_arb4" => render::<toe_hdl::common::rec_arb::RecArbN<4, 368>>(),
        "rec_arb8" => render::<toe_hdl::common::rec_arb::RecArbN<8, 368>>(),
        "top" => toe_hdl::verilog(),
        other => {
            eprintln!("unknown block '{other}': regs, rx_path, tx_sched, tx_csum, connect, opt_walk, rx_parse, dma_addr, ctl_frame_tx, listen, frame_arb2/4/8, rec_arb2/4/8, top");
            std::process::exit(2);
        }
    };
    println!("{v}");
}
