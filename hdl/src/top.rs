//! Top level: the ports a vendor shell connects to, and the wiring of the
//! register file, RX path, DMA write engine, descriptor fetchers, completion
//! coalescer and TX path.
//!
//! Counter pulses 14..17 are the setup offload's (`regs::Counter::Setup*`),
//! 18..21 the active open's (`regs::Counter::Connect*`), 22..23 the setup
//! offload's address and hand-over counters (`SetupSynMartian`, `SetupSynToHost`).
//!
//! AXI read IDs: 0 RX descriptor fetch, 1 TX descriptor fetch, 2 TX data.
//! All writes use ID 0, so the host sees data before its completion.
#![allow(unused_parens)] // the grant expressions of the read arbiter are written out in full
use crate::common::ctl_frame_tx::{CtlFrameTx, REC_BITS};
use crate::common::frame_arb::FrameArb;
use crate::common::rec_arb::RecArbN;
use crate::common::reg_port::RegHost;
use crate::common::reg_slice::RegSlice;
use crate::common::stream::{FifoOut, FrameOut, HeadsOut, PushOut};
use crate::cpl_coalesce::CplCoalesce;
use crate::desc_fetch::DescFetch;
use crate::regs::RegFile;
use crate::rx::dma_addr::{DmaAddr, JOB_BITS};
use crate::rx::dma_data::DmaData;
use crate::rx::event::{RxEvent, RxVerdict};
use crate::rx::path::RxPath;
use crate::setup::connect::Connect;
use crate::setup::regs::{SetupCfg, SetupRegs};
use crate::setup::rx::SetupRx;
use crate::tx::csum::TxCsum;
use crate::tx::sched::{TxSched, TAG_BITS};
use crate::tx::stream::TxStream;
use rust_hdl::prelude::*;

// The kernel places the setup offload's counter pulses at literal bits.
const _: () = {
    use toe_contract::regs::Counter;
    assert!(Counter::DmaError as u32 == 12);
    assert!(Counter::SetupSynAck as u32 == 14);
    assert!(Counter::SetupEstablished as u32 == 15);
    assert!(Counter::SetupAckNotCookie as u32 == 16);
    assert!(Counter::SetupSynDropped as u32 == 17);
    assert!(Counter::ConnectSyn as u32 == 18);
    assert!(Counter::ConnectEstablished as u32 == 19);
    assert!(Counter::ConnectRefused as u32 == 20);
    assert!(Counter::ConnectTimeout as u32 == 21);
    assert!(toe_contract::regs::SETUP_BASE == 0x600);
    // The register ports joined below, by their literal index.
    assert!(crate::regs::PORT_SETUP_REGS == 0 && crate::regs::PORT_CONNECT == 1);
    assert!(crate::regs::EXT_PORTS == 2);
    // The RX verdict slots joined below, by their literal index.
    assert!(crate::rx::event::SLOT_SETUP == 0 && crate::rx::event::SLOT_CONNECT == 1);
    assert!(crate::rx::event::RX_OFFLOADS == 2);
};

#[derive(LogicBlock, Default)]
pub struct Toe {
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    // MAC RX (AXI4-Stream slave)
    pub rx_tdata: Signal<In, Bits<512>>,
    pub rx_tkeep: Signal<In, Bits<64>>,
    pub rx_tvalid: Signal<In, Bit>,
    pub rx_tlast: Signal<In, Bit>,
    pub rx_tuser: Signal<In, Bit>,
    pub rx_tready: Signal<Out, Bit>,
    // MAC TX (AXI4-Stream master)
    pub tx_tdata: Signal<Out, Bits<512>>,
    pub tx_tkeep: Signal<Out, Bits<64>>,
    pub tx_tvalid: Signal<Out, Bit>,
    pub tx_tlast: Signal<Out, Bit>,
    pub tx_tuser: Signal<Out, Bit>,
    pub tx_tready: Signal<In, Bit>,
    // AXI4-Lite slave (BAR0)
    pub s_axil_awaddr: Signal<In, Bits<16>>,
    pub s_axil_awvalid: Signal<In, Bit>,
    pub s_axil_awready: Signal<Out, Bit>,
    pub s_axil_wdata: Signal<In, Bits<32>>,
    pub s_axil_wstrb: Signal<In, Bits<4>>,
    pub s_axil_wvalid: Signal<In, Bit>,
    pub s_axil_wready: Signal<Out, Bit>,
    pub s_axil_bresp: Signal<Out, Bits<2>>,
    pub s_axil_bvalid: Signal<Out, Bit>,
    pub s_axil_bready: Signal<In, Bit>,
    pub s_axil_araddr: Signal<In, Bits<16>>,
    pub s_axil_arvalid: Signal<In, Bit>,
    pub s_axil_arready: Signal<Out, Bit>,
    pub s_axil_rdata: Signal<Out, Bits<32>>,
    pub s_axil_rresp: Signal<Out, Bits<2>>,
    pub s_axil_rvalid: Signal<Out, Bit>,
    pub s_axil_rready: Signal<In, Bit>,
    // AXI4 master (DMA into host memory)
    pub m_axi_awid: Signal<Out, Bits<4>>,
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    pub m_axi_awvalid: Signal<Out, Bit>,
    pub m_axi_awready: Signal<In, Bit>,
    pub m_axi_wdata: Signal<Out, Bits<512>>,
    pub m_axi_wstrb: Signal<Out, Bits<64>>,
    pub m_axi_wlast: Signal<Out, Bit>,
    pub m_axi_wvalid: Signal<Out, Bit>,
    pub m_axi_wready: Signal<In, Bit>,
    pub m_axi_bid: Signal<In, Bits<4>>,
    pub m_axi_bresp: Signal<In, Bits<2>>,
    pub m_axi_bvalid: Signal<In, Bit>,
    pub m_axi_bready: Signal<Out, Bit>,
    pub m_axi_arid: Signal<Out, Bits<4>>,
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    pub m_axi_arvalid: Signal<Out, Bit>,
    pub m_axi_arready: Signal<In, Bit>,
    pub m_axi_rid: Signal<In, Bits<4>>,
    pub m_axi_rdata: Signal<In, Bits<512>>,
    pub m_axi_rresp: Signal<In, Bits<2>>,
    pub m_axi_rlast: Signal<In, Bit>,
    pub m_axi_rvalid: Signal<In, Bit>,
    pub m_axi_rready: Signal<Out, Bit>,
    regs: RegFile,
    rx: RxPath,
    dmaa: DmaAddr,
    dmad: DmaData,
    rxf: DescFetch,
    txf: DescFetch,
    coal: CplCoalesce,
    txs: TxSched,
    txt: TxStream,
    txc: TxCsum,
    sregs: SetupRegs,
    srx: SetupRx,
    ctl_tx: CtlFrameTx,
    /// TX frames: 0 the host's (TxStream), 1 the NIC's (CtlFrameTx).
    arb: FrameArb<2>,
    conn: Connect,
    /// Control-frame records: 0 SYN-ACKs (SetupRx), 1 SYNs and ACKs (Connect).
    rarb: RecArbN<2, 368>,
    dma_err: DFF<Bit>,
    /// Source whose read address waits for arready (0 none, 1 RX fetch,
    /// 2 TX fetch, 3 TX data): it keeps the channel until accepted (AXI).
    ar_owner: DFF<Bits<2>>,
    /// Register slices: every AXI master channel and the TX stream leave
    /// (and the read data enters) through flip-flops, with no path from an
    /// input port to an output port.  AR: id (75:72), len (71:64), address.
    ar_slice: RegSlice<76>,
    /// R: last (518), resp (517:516), id (515:512), data.
    r_slice: RegSlice<519>,
    /// AW: len (71:64), address.
    aw_slice: RegSlice<72>,
    /// W and the TX stream: last (576), strobe/keep (575:512), data.
    w_slice: RegSlice<577>,
    tx_slice: RegSlice<577>,
    /// Between the TX arbiter and the checksum inserter: the arbiter's
    /// grant (from the sources' valid) and the inserter's first stage are
    /// not one path.
    arb_slice: RegSlice<579>,
}
impl Logic for Toe {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, dma_err, ar_owner);
        clock!(
            self, clock, regs, rx, dmaa, dmad, rxf, txf, coal, txs, txt, txc, sregs, srx, ctl_tx,
            arb, conn, rarb, ar_slice, r_slice, aw_slice, w_slice, tx_slice, arb_slice
        );
        self.regs.rst.next = self.rst.val();
        self.rx.rst.next = self.rst.val();
        self.dmaa.rst.next = self.rst.val();
        self.dmad.rst.next = self.rst.val();
        self.rxf.rst.next = self.rst.val();
        self.txf.rst.next = self.rst.val();
        self.coal.rst.next = self.rst.val();
        self.txs.rst.next = self.rst.val();
        self.txt.rst.next = self.rst.val();
        self.txc.rst.next = self.rst.val();
        self.sregs.rst.next = self.rst.val();
        self.srx.rst.next = self.rst.val();
        self.ctl_tx.rst.next = self.rst.val();
        self.arb.rst.next = self.rst.val();
        self.conn.rst.next = self.rst.val();
        self.rarb.rst.next = self.rst.val();
        self.ar_slice.rst.next = self.rst.val();
        self.r_slice.rst.next = self.rst.val();
        self.aw_slice.rst.next = self.rst.val();
        self.w_slice.rst.next = self.rst.val();
        self.tx_slice.rst.next = self.rst.val();
        self.arb_slice.rst.next = self.rst.val();
        // ------------------------------------------------ AXI4-Lite
        self.regs.awaddr.next = self.s_axil_awaddr.val();
        self.regs.awvalid.next = self.s_axil_awvalid.val();
        self.s_axil_awready.next = self.regs.awready.val();
        self.regs.wdata.next = self.s_axil_wdata.val();
        self.regs.wstrb.next = self.s_axil_wstrb.val();
        self.regs.wvalid.next = self.s_axil_wvalid.val();
        self.s_axil_wready.next = self.regs.wready.val();
        self.s_axil_bresp.next = self.regs.bresp.val();
        self.s_axil_bvalid.next = self.regs.bvalid.val();
        self.regs.bready.next = self.s_axil_bready.val();
        self.regs.araddr.next = self.s_axil_araddr.val();
        self.regs.arvalid.next = self.s_axil_arvalid.val();
        self.s_axil_arready.next = self.regs.arready.val();
        self.s_axil_rdata.next = self.regs.rdata.val();
        self.s_axil_rresp.next = self.regs.rresp.val();
        self.s_axil_rvalid.next = self.regs.rvalid.val();
        self.regs.rready.next = self.s_axil_rready.val();
        // ------------------------------------------------ RX
        self.rx.max_frame.next = self.regs.max_frame.val();
        self.rx.drop_bad_csum.next = self.regs.drop_bad_csum.val();
        self.rx.rss_enable.next = self.regs.rss_enable.val();
        self.rx.rss_key.next = self.regs.rss_key.val();
        self.rx.rss_table.next = self.regs.rss_table.val();
        self.rx.tdata.next = self.rx_tdata.val();
        self.rx.tkeep.next = self.rx_tkeep.val();
        self.rx.tvalid.next = self.rx_tvalid.val();
        self.rx.tlast.next = self.rx_tlast.val();
        self.rx.tuser.next = self.rx_tuser.val();
        self.rx_tready.next = self.rx.tready.val();
        self.rxf.base.next = bit_cast::<256, 512>(self.regs.desc_base.val() >> 256);
        self.rxf.qctl.next = bit_cast::<32, 64>(self.regs.qctl_out.val() >> 32);
        self.rxf.prod.next = bit_cast::<64, 128>(self.regs.prod.val() >> 64);
        self.rxf.qreset.next = bit_cast::<4, 8>(self.regs.qreset.val() >> 4);
        FifoOut::<262>::join(&mut self.rx.meta, &mut self.dmaa.meta);
        HeadsOut::<4, 512>::join(&mut self.rxf.head, &mut self.dmaa.desc);
        self.dmaa.qctl.next = bit_cast::<32, 64>(self.regs.qctl_out.val() >> 32);
        self.dmaa.prod.next = bit_cast::<64, 128>(self.regs.prod.val() >> 64);
        self.dmaa.qreset.next = bit_cast::<4, 8>(self.regs.qreset.val() >> 4);
        PushOut::<JOB_BITS>::join(&mut self.dmaa.job, &mut self.dmad.job);
        // Every line the coalescer offers is due (`DmaAddr::line_aged`).
        self.dmaa.line_aged.next = self.coal.line_valid.val();
        FifoOut::<513>::join(&mut self.rx.data, &mut self.dmad.data);
        // ------------------------------------------------ completions
        self.coal.cpl_base.next = self.regs.cpl_base.val();
        self.coal.qctl.next = self.regs.qctl_out.val();
        PushOut::<275>::join(&mut self.dmad.req, &mut self.coal.rx);
        PushOut::<275>::join(&mut self.txt.req, &mut self.coal.tx);
        self.dmaa.line_valid.next = self.coal.line_valid.val();
        self.dmaa.line_urgent.next = self.coal.line_urgent.val();
        self.dmaa.cpl_level.next = self.coal.rx_level.val();
        self.dmaa.cpl_req.next = self.dmad.req.write.val();
        self.dmaa.line_addr.next = self.coal.line_addr.val();
        self.dmaa.line_data.next = self.coal.line_data.val();
        self.dmaa.line_strb.next = self.coal.line_strb.val();
        self.coal.line_take.next = self.dmaa.line_take.val();
        // ------------------------------------------------ TX
        self.txf.base.next = bit_cast::<256, 512>(self.regs.desc_base.val());
        self.txf.qctl.next = bit_cast::<32, 64>(self.regs.qctl_out.val());
        self.txf.prod.next = bit_cast::<64, 128>(self.regs.prod.val());
        self.txf.qreset.next = bit_cast::<4, 8>(self.regs.qreset.val());
        HeadsOut::<4, 512>::join(&mut self.txf.head, &mut self.txs.desc);
        self.txs.qctl.next = bit_cast::<32, 64>(self.regs.qctl_out.val());
        self.txs.qreset.next = bit_cast::<4, 8>(self.regs.qreset.val());
        self.txt.qreset.next = bit_cast::<4, 8>(self.regs.qreset.val());
        PushOut::<TAG_BITS>::join(&mut self.txs.tag, &mut self.txt.tag_in);
        // Host frames and the control frames (the setup offload's SYN-ACKs,
        // the active open's SYNs and ACKs) share the checksum inserter and
        // the MAC.
        FrameOut::join(&mut self.txt.o, &mut self.arb.i[0]);
        FrameOut::join(&mut self.ctl_tx.o, &mut self.arb.i[1]);
        self.arb_slice.in_valid.next = self.arb.o.valid.val();
        self.arb_slice.in_data.next = bit_cast::<579, 512>(self.arb.o.data.val())
            | (bit_cast::<579, 64>(self.arb.o.keep.val()) << 512)
            | (bit_cast::<579, 1>(self.arb.o.last.val().into()) << 576)
            | (bit_cast::<579, 2>(self.arb.o.flags.val()) << 577);
        self.arb.o.ready.next = self.arb_slice.in_ready.val();
        self.txc.i_valid.next = self.arb_slice.out_valid.val();
        self.txc.i_data.next = self.arb_slice.out_data.val().get_bits::<512>(0);
        self.txc.i_keep.next = self.arb_slice.out_data.val().get_bits::<64>(512);
        self.txc.i_last.next = self.arb_slice.out_data.val().get_bit(576);
        self.txc.i_flags.next = self.arb_slice.out_data.val().get_bits::<2>(577);
        self.arb_slice.out_ready.next = self.txc.i_ready.val();
        // ------------------------------------------------ setup offload
        // Register ports, by the register-block table (regs::EXT_PORT_BLOCK).
        RegHost::join(&mut self.regs.ext[0], &mut self.sregs.regs);
        RegHost::join(&mut self.regs.ext[1], &mut self.conn.regs);
        SetupCfg::join(&mut self.sregs.cfg, &mut self.srx.cfg);
        // ------------------------------------------------ RX offloads
        // Each reads the parsed-header event bus and answers in its
        // verdict slot (rx::event).
        RxEvent::join(&mut self.rx.ev, &mut self.srx.ev);
        RxVerdict::join(&mut self.srx.verdict, &mut self.rx.verdict[0]);
        RxEvent::join(&mut self.rx.ev, &mut self.conn.ev);
        RxVerdict::join(&mut self.conn.verdict, &mut self.rx.verdict[1]);
        self.conn.ts_now.next = self.sregs.cfg.ts_now.val();
        // SYN-ACKs (A) and the active open's SYNs and ACKs (B) share the
        // control-frame builder.
        FifoOut::<REC_BITS>::join(&mut self.srx.q, &mut self.rarb.i[0]);
        FifoOut::<REC_BITS>::join(&mut self.conn.q, &mut self.rarb.i[1]);
        FifoOut::<REC_BITS>::join(&mut self.rarb.o, &mut self.ctl_tx.rec);
        self.tx_slice.in_valid.next = self.txc.o_valid.val();
        self.tx_slice.in_data.next = bit_cast::<577, 512>(self.txc.o_data.val())
            | (bit_cast::<577, 64>(self.txc.o_keep.val()) << 512)
            | (bit_cast::<577, 1>(self.txc.o_last.val().into()) << 576);
        self.txc.o_ready.next = self.tx_slice.in_ready.val();
        self.tx_tvalid.next = self.tx_slice.out_valid.val();
        self.tx_tdata.next = self.tx_slice.out_data.val().get_bits::<512>(0);
        self.tx_tkeep.next = self.tx_slice.out_data.val().get_bits::<64>(512);
        self.tx_tlast.next = self.tx_slice.out_data.val().get_bit(576);
        self.tx_tuser.next = false;
        self.tx_slice.out_ready.next = self.tx_tready.val();
        // ------------------------------------------------ AXI read: fixed priority
        // RX descriptor fetch, then TX descriptor fetch, then TX data; a
        // request offered and not yet accepted keeps the channel.  The grants
        // are written out in each expression (no local signals), so that
        // Verilator sees no combinational loop through this block.
        self.ar_slice.in_valid.next =
            self.rxf.ar_valid.val() || self.txf.ar_valid.val() || self.txs.ar_valid.val();
        self.ar_slice.in_data.next = bit_cast::<76, 64>(self.txs.ar_addr.val())
            | (bit_cast::<76, 8>(self.txs.ar_len.val()) << 64)
            | (bit_cast::<76, 4>(2.into()) << 72);
        if ((self.ar_owner.q.val() == 2)
            || ((self.ar_owner.q.val() == 0)
                && self.txf.ar_valid.val()
                && !self.rxf.ar_valid.val()))
        {
            self.ar_slice.in_data.next =
                bit_cast::<76, 64>(self.txf.ar_addr.val()) | (bit_cast::<76, 4>(1.into()) << 72);
        }
        if ((self.ar_owner.q.val() == 1)
            || ((self.ar_owner.q.val() == 0) && self.rxf.ar_valid.val()))
        {
            self.ar_slice.in_data.next = bit_cast::<76, 64>(self.rxf.ar_addr.val());
        }
        self.m_axi_arvalid.next = self.ar_slice.out_valid.val();
        self.m_axi_araddr.next = self.ar_slice.out_data.val().get_bits::<64>(0);
        self.m_axi_arlen.next = self.ar_slice.out_data.val().get_bits::<8>(64);
        self.m_axi_arid.next = self.ar_slice.out_data.val().get_bits::<4>(72);
        self.ar_slice.out_ready.next = self.m_axi_arready.val();
        self.m_axi_arsize.next = 6.into();
        self.m_axi_arburst.next = 1.into();
        // A source's ready never depends on its own valid (ready offered to
        // a source that is not asking is harmless), so no loop forms.
        self.rxf.ar_ready.next = self.ar_slice.in_ready.val()
            && ((self.ar_owner.q.val() == 1) || (self.ar_owner.q.val() == 0));
        self.txf.ar_ready.next = self.ar_slice.in_ready.val()
            && ((self.ar_owner.q.val() == 2)
                || ((self.ar_owner.q.val() == 0) && !self.rxf.ar_valid.val()));
        self.txs.ar_ready.next = self.ar_slice.in_ready.val()
            && ((self.ar_owner.q.val() == 3)
                || ((self.ar_owner.q.val() == 0)
                    && !self.rxf.ar_valid.val()
                    && !self.txf.ar_valid.val()));
        self.ar_owner.d.next = 0.into();
        if !self.ar_slice.in_ready.val() {
            if ((self.ar_owner.q.val() == 3)
                || ((self.ar_owner.q.val() == 0)
                    && self.txs.ar_valid.val()
                    && !self.rxf.ar_valid.val()
                    && !self.txf.ar_valid.val()))
            {
                self.ar_owner.d.next = 3.into();
            }
            if ((self.ar_owner.q.val() == 2)
                || ((self.ar_owner.q.val() == 0)
                    && self.txf.ar_valid.val()
                    && !self.rxf.ar_valid.val()))
            {
                self.ar_owner.d.next = 2.into();
            }
            if ((self.ar_owner.q.val() == 1)
                || ((self.ar_owner.q.val() == 0) && self.rxf.ar_valid.val()))
            {
                self.ar_owner.d.next = 1.into();
            }
        }
        // R through its slice (m_axi_rready is a flip-flop), then
        // demultiplexed by ID.
        self.r_slice.in_valid.next = self.m_axi_rvalid.val();
        self.r_slice.in_data.next = bit_cast::<519, 512>(self.m_axi_rdata.val())
            | (bit_cast::<519, 4>(self.m_axi_rid.val()) << 512)
            | (bit_cast::<519, 2>(self.m_axi_rresp.val()) << 516)
            | (bit_cast::<519, 1>(self.m_axi_rlast.val().into()) << 518);
        self.m_axi_rready.next = self.r_slice.in_ready.val();
        self.rxf.r_valid.next =
            self.r_slice.out_valid.val() && (self.r_slice.out_data.val().get_bits::<4>(512) == 0);
        self.txf.r_valid.next =
            self.r_slice.out_valid.val() && (self.r_slice.out_data.val().get_bits::<4>(512) == 1);
        self.txt.r_valid.next =
            self.r_slice.out_valid.val() && (self.r_slice.out_data.val().get_bits::<4>(512) == 2);
        self.rxf.r_data.next = self.r_slice.out_data.val().get_bits::<512>(0);
        self.txf.r_data.next = self.r_slice.out_data.val().get_bits::<512>(0);
        self.txt.r_data.next = self.r_slice.out_data.val().get_bits::<512>(0);
        // A beat of an ID nobody uses is taken and dropped (counted below).
        self.r_slice.out_ready.next = true;
        if self.r_slice.out_data.val().get_bits::<4>(512) == 0 {
            self.r_slice.out_ready.next = self.rxf.r_ready.val();
        }
        if self.r_slice.out_data.val().get_bits::<4>(512) == 1 {
            self.r_slice.out_ready.next = self.txf.r_ready.val();
        }
        if self.r_slice.out_data.val().get_bits::<4>(512) == 2 {
            self.r_slice.out_ready.next = self.txt.r_ready.val();
        }
        // ------------------------------------------------ AXI write
        self.aw_slice.in_valid.next = self.dmaa.aw_valid.val();
        self.aw_slice.in_data.next = bit_cast::<72, 64>(self.dmaa.aw_addr.val())
            | (bit_cast::<72, 8>(self.dmaa.aw_len.val()) << 64);
        self.dmaa.aw_ready.next = self.aw_slice.in_ready.val();
        self.m_axi_awid.next = 0.into();
        self.m_axi_awaddr.next = self.aw_slice.out_data.val().get_bits::<64>(0);
        self.m_axi_awlen.next = self.aw_slice.out_data.val().get_bits::<8>(64);
        self.m_axi_awsize.next = 6.into();
        self.m_axi_awburst.next = 1.into();
        self.m_axi_awvalid.next = self.aw_slice.out_valid.val();
        self.aw_slice.out_ready.next = self.m_axi_awready.val();
        self.w_slice.in_valid.next = self.dmad.w_valid.val();
        self.w_slice.in_data.next = bit_cast::<577, 512>(self.dmad.w_data.val())
            | (bit_cast::<577, 64>(self.dmad.w_strb.val()) << 512)
            | (bit_cast::<577, 1>(self.dmad.w_last.val().into()) << 576);
        self.dmad.w_ready.next = self.w_slice.in_ready.val();
        self.m_axi_wdata.next = self.w_slice.out_data.val().get_bits::<512>(0);
        self.m_axi_wstrb.next = self.w_slice.out_data.val().get_bits::<64>(512);
        self.m_axi_wlast.next = self.w_slice.out_data.val().get_bit(576);
        self.m_axi_wvalid.next = self.w_slice.out_valid.val();
        self.w_slice.out_ready.next = self.m_axi_wready.val();
        self.m_axi_bready.next = true;
        // DMA error responses (SLVERR/DECERR) are counted.
        // Also counted: a B response for an ID never used (all writes use ID 0),
        // a descriptor read beat (IDs 0 and 1, always one beat) without RLAST,
        // or a read beat for an ID never used (taken and dropped).
        self.dma_err.d.next = (self.m_axi_bvalid.val()
            && ((self.m_axi_bresp.val() != 0) || (self.m_axi_bid.val() != 0)))
            || (self.m_axi_rvalid.val()
                && self.m_axi_rready.val()
                && ((self.m_axi_rresp.val() != 0)
                    || ((self.m_axi_rid.val() < 2) && !self.m_axi_rlast.val())
                    || (self.m_axi_rid.val() > 2)));
        // ------------------------------------------------ counters
        self.regs.cnt_inc.next = bit_cast::<24, 16>(self.dmaa.cnt_inc.val())
            | bit_cast::<24, 16>(self.txt.cnt_inc.val())
            | bit_cast::<24, 1>(self.rx.frame_in.val().into())
            | (bit_cast::<24, 1>(self.dma_err.q.val().into()) << 12)
            | (bit_cast::<24, 1>(self.srx.cnt_synack.val().into()) << 14)
            | (bit_cast::<24, 1>(self.srx.cnt_est.val().into()) << 15)
            | (bit_cast::<24, 1>(self.srx.cnt_not_cookie.val().into()) << 16)
            | (bit_cast::<24, 1>(self.srx.cnt_syn_drop.val().into()) << 17)
            | (bit_cast::<24, 1>(self.conn.cnt_syn.val().into()) << 18)
            | (bit_cast::<24, 1>(self.conn.cnt_est.val().into()) << 19)
            | (bit_cast::<24, 1>(self.conn.cnt_refused.val().into()) << 20)
            | (bit_cast::<24, 1>(self.conn.cnt_timeout.val().into()) << 21)
            | (bit_cast::<24, 1>(self.srx.cnt_syn_martian.val().into()) << 22)
            | (bit_cast::<24, 1>(self.srx.cnt_syn_to_host.val().into()) << 23);
        self.regs.rxq_evt.next = self.dmad.q_evt.val();
        self.regs.rxq_id.next = self.dmad.q_id.val();
        self.regs.rxq_len.next = self.dmad.q_len.val();
        self.regs.txq_evt.next = self.txt.q_evt.val();
        self.regs.txq_id.next = self.txt.q_id.val();
        self.regs.txq_len.next = self.txt.q_len.val();
        self.regs.cons.next = bit_cast::<128, 64>(self.txt.cons.val())
            | (bit_cast::<128, 64>(self.dmaa.cons.val()) << 64);
        if self.rst.val() {
            self.dma_err.d.next = false;
            self.ar_owner.d.next = 0.into();
        }
    }
}
