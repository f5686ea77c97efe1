//! Prints the Verilog of the connection table (top module `top`), for
//! `cargo xtask depth --verilog FILE --module top` and `cargo xtask synth
//! --verilog FILE --top top`:
//! `cargo run -p toe-hdl --example conn_table_verilog -- [small|64k] > conn_table.v`.
use rust_hdl::prelude::*;
use toe_hdl::common::conn_table::{ConnTable64K, ConnTableSmall};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "64k".into());
    let v = match which.as_str() {
        "small" => {
            let mut uut = ConnTableSmall::default();
            uut.connect_all();
            generate_verilog(&uut)
        }
        "64k" => {
            let mut uut = ConnTable64K::default();
            uut.connect_all();
            generate_verilog(&uut)
        }
        other => {
            eprintln!("unknown size '{other}': small, 64k");
            std::process::exit(2);
        }
    };
    print!("{v}");
}
