//! BAR0 register file behind an AXI4-Lite slave, pipelined so that no path
//! between two registers is deeper than a few LUTs (docs/timing.md).
//!
//! Every AXI output comes from a flip-flop, and no output depends on an
//! input in the same cycle: `awready`, `wready` and `arready` are "the
//! holding register is free", and a handshake only fills that register.
//!
//! * Writes: the address and the data are taken separately (each into a
//!   holding register, in any order).  When both are held and no response
//!   is pending, the write fires: its address is decoded into one-hot word
//!   selects (registered), and in the next cycle every selected word takes
//!   the data while `bvalid` is raised.  A write's effect is therefore
//!   visible from the cycle its response is first offered
//!   ([`WRITE_LATENCY`] cycles after the later of its two handshakes).
//!   Writes must carry all four byte strobes (registers are written whole);
//!   a partial write is answered with SLVERR and changes nothing.
//! * Reads: one at a time.  The cycle of the address handshake decodes the
//!   address into registered selects; the next cycle reads every group of
//!   registers (constants, RSS, counters, queue windows, the offload
//!   blocks' `ext[p].rdata`) into registers, sampling the register state of that cycle
//!   (the cycle after the handshake); the third cycle ORs the groups into
//!   `rdata`, which is offered with `rvalid` [`READ_LATENCY`] cycles after
//!   the handshake and held until taken.
//! * Unknown addresses read 0 and ignore writes.
//! * Offload blocks come from one table, `toe_contract::regs::OFFLOAD_BLOCKS`
//!   (type, version, base, size), with [`EXT_PORT_BLOCK`] naming the block
//!   each register port `ext[p]` serves (a block served by several modules
//!   has several ports).  From the table this file generates each block's
//!   header words (type, version, next; the counter block's next points at
//!   the first offload block) and each port's decode: a write in the
//!   block's range is passed on (`ext[p].we` for one cycle, the cycle
//!   before `bvalid` rises, with `waddr` the offset in the block); a read of
//!   the block's own registers (from `BLK_FIRST`) returns the ports'
//!   `rdata` ORed, each a function of its `raddr` (the offset, from a
//!   register) sampled in the cycle after the address handshake.
//! * 64-bit counters: reading a LO word (a global counter or a queue's
//!   packet or byte counter) latches the HI word of the same value, which
//!   every HI address reads until the next LO read.
use crate::common::reg_port::RegHost;
use rust_hdl::prelude::*;
use toe_contract::regs as r;
use toe_contract::{MAX_FRAME, NUM_QUEUES};

/// Number of 64-bit counters: 24 global slots (the contract's counters, the
/// rest reserved), then per RX queue packets and bytes, then per TX queue.
pub const NUM_CNT: usize = 24 + 4 * NUM_QUEUES;
const _: () = assert!(r::COUNTER_SLOTS == 24);
const _: () = assert!(NUM_QUEUES == 4 && NUM_CNT == 40);
// The decode below assumes this layout of the contract.
const _: () = assert!(r::RSS_KEY_WORDS == 10);
const _: () =
    assert!(r::RSS_BASE + r::RSS_KEY + 4 * r::RSS_KEY_WORDS <= r::RSS_BASE + r::RSS_TABLE);
const _: () = assert!(toe_contract::RSS_TABLE_ENTRIES == 64);
const _: () = assert!(r::TXQ_BASE == 0x1000 && r::RXQ_BASE == 0x2000 && r::QUEUE_STRIDE == 0x40);
const _: () = assert!(r::Q_DESC_HI == r::Q_DESC_LO + 4 && r::Q_CPL_HI == r::Q_CPL_LO + 4);
const _: () = assert!(r::Q_DESC_LO == 0x00 && r::Q_CPL_LO == 0x08);
const _: () = assert!(r::Q_PKTS_LO == 0x20 && r::Q_PKTS_HI == 0x24);
const _: () = assert!(r::Q_BYTES_LO == 0x28 && r::Q_BYTES_HI == 0x2C);
const _: () = assert!(r::CNT_FIRST % 8 == 0 && r::COUNTERS_BASE % 8 == 0);

/// Number of offload register blocks (`toe_contract::regs::OFFLOAD_BLOCKS`).
pub const NUM_BLOCKS: usize = r::OFFLOAD_BLOCKS.len();
/// Header words of the offload blocks (3 each).
pub const NUM_HDR: usize = 3 * NUM_BLOCKS;
/// The register-port table: port `p` (`RegFile::ext[p]`) serves offload
/// block `EXT_PORT_BLOCK[p]`.  A new offload module adds its port here
/// (and a `PORT_` name below), and top.rs joins `regs.ext[p]` to its
/// `RegPort`.
pub const EXT_PORT_BLOCK: [usize; 2] = [0, 0];
/// The setup block's registers (`crate::setup::regs::SetupRegs`).
pub const PORT_SETUP_REGS: usize = 0;
/// The active open's registers in the setup block (`crate::setup::connect::Connect`).
pub const PORT_CONNECT: usize = 1;
pub const EXT_PORTS: usize = EXT_PORT_BLOCK.len();
const _: () = {
    let mut p = 0;
    while p < EXT_PORTS {
        assert!(EXT_PORT_BLOCK[p] < NUM_BLOCKS);
        p += 1;
    }
    assert!(PORT_SETUP_REGS < EXT_PORTS && PORT_CONNECT < EXT_PORTS);
};

/// Cycles from a read's address handshake to `rvalid`.
pub const READ_LATENCY: usize = 3;
/// Cycles from the later of a write's address and data handshakes to
/// `bvalid` (when no earlier response is pending).
pub const WRITE_LATENCY: usize = 3;

fn c16(v: u32) -> Constant<Bits<16>> {
    Constant::new((v as u64).into())
}
fn c32(v: u32) -> Constant<Bits<32>> {
    Constant::new((v as u64).into())
}

#[derive(LogicBlock)]
pub struct RegFile {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // AXI4-Lite
    pub awaddr: Signal<In, Bits<16>>,
    pub awvalid: Signal<In, Bit>,
    pub awready: Signal<Out, Bit>,
    pub wdata: Signal<In, Bits<32>>,
    pub wstrb: Signal<In, Bits<4>>,
    pub wvalid: Signal<In, Bit>,
    pub wready: Signal<Out, Bit>,
    pub bresp: Signal<Out, Bits<2>>,
    pub bvalid: Signal<Out, Bit>,
    pub bready: Signal<In, Bit>,
    pub araddr: Signal<In, Bits<16>>,
    pub arvalid: Signal<In, Bit>,
    pub arready: Signal<Out, Bit>,
    pub rdata: Signal<Out, Bits<32>>,
    pub rresp: Signal<Out, Bits<2>>,
    pub rvalid: Signal<Out, Bit>,
    pub rready: Signal<In, Bit>,
    // Configuration outputs
    pub drop_bad_csum: Signal<Out, Bit>,
    pub max_frame: Signal<Out, Bits<16>>,
    pub rss_enable: Signal<Out, Bit>,
    /// Toeplitz key as a big-endian bit string: key bit 0 is bit 319.
    pub rss_key: Signal<Out, Bits<320>>,
    /// Indirection table, entry i in bits 2i+1:2i.
    pub rss_table: Signal<Out, Bits<128>>,
    /// Per queue (TX queues 0..3 then RX queues 0..3 in the bus below):
    /// descriptor ring base, completion ring base (64 bits each, queue k at 64k).
    pub desc_base: Signal<Out, Bits<512>>,
    pub cpl_base: Signal<Out, Bits<512>>,
    /// Queue control, 8 bits per queue at 8k: bits 3:0 log2 ring size, bit 4 enable.
    pub qctl_out: Signal<Out, Bits<64>>,
    /// Pulse, bit k: the queue was (re)enabled, its indices restart at 0.
    pub qreset: Signal<Out, Bits<8>>,
    /// Producer indices, 16 bits per queue at 16k.
    pub prod: Signal<Out, Bits<128>>,
    /// Consumer indices reported by the engines, 16 bits per queue at 16k.
    pub cons: Signal<In, Bits<128>>,
    // Counter events
    /// Global counter increments, bit i adds one to counter i.
    pub cnt_inc: Signal<In, Bits<24>>,
    pub rxq_evt: Signal<In, Bit>,
    pub rxq_id: Signal<In, Bits<2>>,
    pub rxq_len: Signal<In, Bits<16>>,
    pub txq_evt: Signal<In, Bit>,
    pub txq_id: Signal<In, Bits<2>>,
    pub txq_len: Signal<In, Bits<16>>,
    /// The offload blocks' register ports (module docs, [`EXT_PORT_BLOCK`]).
    pub ext: [RegHost; EXT_PORTS],
    // ------------------------------------------------------------ registers
    ctrl: DFF<Bits<32>>,
    maxf: DFF<Bits<16>>,
    scratch: DFF<Bits<32>>,
    rssctl: DFF<Bit>,
    key: DFF<Bits<320>>,
    ind_tbl: DFF<Bits<128>>,
    dbase: DFF<Bits<512>>,
    cbase: DFF<Bits<512>>,
    qctl: DFF<Bits<64>>,
    qprod: DFF<Bits<128>>,
    qrst: DFF<Bits<8>>,
    cnt: [DFF<Bits<64>>; NUM_CNT],
    hi_snap: DFF<Bits<32>>,
    // ------------------------------------------------------------ write side
    /// Holding registers of the AW and W channels.
    aw_full: DFF<Bit>,
    aw_addr_r: DFF<Bits<16>>,
    w_full: DFF<Bit>,
    w_data_r: DFF<Bits<32>>,
    w_strb_r: DFF<Bits<4>>,
    /// A fired write is applied this cycle (its selects below are set).
    wd_go: DFF<Bit>,
    wd_data: DFF<Bits<32>>,
    wd_resp: DFF<Bits<2>>,
    /// One-hot word selects of the fired write: ctrl, max frame, scratch,
    /// RSS control; key words; table entries; descriptor and completion
    /// ring base words (2q + hi); queue control; producer index; queue
    /// reset (a control write with the enable bit).
    wd_misc: DFF<Bits<4>>,
    wd_key: DFF<Bits<10>>,
    wd_tbl: DFF<Bits<64>>,
    wd_dbase: DFF<Bits<16>>,
    wd_cbase: DFF<Bits<16>>,
    wd_qctl: DFF<Bits<8>>,
    wd_qprod: DFF<Bits<8>>,
    wd_qrst: DFF<Bits<8>>,
    ext_we_r: [DFF<Bit>; EXT_PORTS],
    ext_waddr_r: [DFF<Bits<16>>; EXT_PORTS],
    ext_wdata_r: DFF<Bits<32>>,
    bvalid_r: DFF<Bit>,
    bresp_r: DFF<Bits<2>>,
    // ------------------------------------------------------------ read side
    /// A read is in flight (from its address handshake to its data
    /// handshake); stage valid bits of the read pipeline.
    rd_busy: DFF<Bit>,
    rs1: DFF<Bit>,
    rs2: DFF<Bit>,
    rvalid_r: DFF<Bit>,
    rdata_r: DFF<Bits<32>>,
    /// Decoded at the address handshake: the value of a constant register
    /// (0 for others); one-hot ctrl, max frame, scratch, RSS control; an
    /// RSS key word (index from the top: 9 - word); a table entry; a
    /// counter LO word (one-hot over the 40 counters); a HI word; a queue
    /// window register (one-hot desc, cpl, ctrl, prod, cons), its 32-bit
    /// ring-base word (2q + hi) and queue (TX 0..3, RX 4..7); an offload
    /// block's header word; per register port, a hit and the offset.
    rc_const: DFF<Bits<32>>,
    rc_hdr: DFF<Bits<32>>,
    rc_var: DFF<Bits<4>>,
    rk_hit: DFF<Bit>,
    rk_j: DFF<Bits<4>>,
    rt_hit: DFF<Bit>,
    rt_idx: DFF<Bits<6>>,
    rn_sel: DFF<Bits<40>>,
    rh_hit: DFF<Bit>,
    rq_kind: DFF<Bits<5>>,
    rq_w: DFF<Bits<4>>,
    rq_q: DFF<Bits<3>>,
    ext_hit: [DFF<Bit>; EXT_PORTS],
    ext_raddr_r: [DFF<Bits<16>>; EXT_PORTS],
    /// Groups read in the cycle after the handshake (0 when not selected).
    s_misc: DFF<Bits<32>>,
    s_q: DFF<Bits<32>>,
    /// The setup block's read data, its own group (so its read decode does
    /// not feed the queue-window multiplexer).
    s_ext: DFF<Bits<32>>,
    s_lo: DFF<Bits<32>>,
    s_hi: DFF<Bits<32>>,
    s_latch: DFF<Bit>,
    s_hihit: DFF<Bit>,
    /// Counter events from the other blocks, registered before the 64-bit
    /// counters (an event is counted one cycle later; the blocks' event
    /// logic and the counters' adders are not one path).
    ev_inc: DFF<Bits<24>>,
    ev_rx: DFF<Bit>,
    ev_rx_id: DFF<Bits<2>>,
    ev_rx_len: DFF<Bits<16>>,
    ev_tx: DFF<Bit>,
    ev_tx_id: DFF<Bits<2>>,
    ev_tx_len: DFF<Bits<16>>,
    // ------------------------------------------------------------ scratch
    fire: Signal<Local, Bit>,
    wok: Signal<Local, Bit>,
    wa: Signal<Local, Bits<16>>,
    w_qwin: Signal<Local, Bit>,
    w_q: Signal<Local, Bits<3>>,
    w_reg: Signal<Local, Bits<6>>,
    w_idx: Signal<Local, Bits<16>>,
    w_idx4: Signal<Local, Bits<16>>,
    qbyte: Signal<Local, Bits<8>>,
    key_n: Signal<Local, Bits<320>>,
    tbl_n: Signal<Local, Bits<128>>,
    dbase_n: Signal<Local, Bits<512>>,
    cbase_n: Signal<Local, Bits<512>>,
    qctl_n: Signal<Local, Bits<64>>,
    qprod_n: Signal<Local, Bits<128>>,
    ar_take: Signal<Local, Bit>,
    ra: Signal<Local, Bits<16>>,
    r_qwin: Signal<Local, Bit>,
    r_qrx: Signal<Local, Bit>,
    r_reg: Signal<Local, Bits<6>>,
    r_off: Signal<Local, Bits<16>>,
    r_idx: Signal<Local, Bits<16>>,
    r_cq: Signal<Local, Bits<6>>,
    cconst: Signal<Local, Bits<32>>,
    hconst: Signal<Local, Bits<32>>,
    m1: Signal<Local, Bits<32>>,
    q1: Signal<Local, Bits<32>>,
    ext_or: Signal<Local, Bits<32>>,
    qcb: Signal<Local, Bits<8>>,
    cacc: Signal<Local, Bits<64>>,
    c_one8: Constant<Bits<8>>,
    c_one16: Constant<Bits<16>>,
    c_one64: Constant<Bits<64>>,
    c_ones32: Constant<Bits<32>>,
    c_ones16: Constant<Bits<16>>,
    c_ones8: Constant<Bits<8>>,
    c_nine: Constant<Bits<16>>,
    c_cq_tx: Constant<Bits<6>>,
    c_cq_rx: Constant<Bits<6>>,
    // Contract constants
    c_device: Constant<Bits<32>>,
    c_hwver: Constant<Bits<32>>,
    c_caps: Constant<Bits<32>>,
    c_t_id: Constant<Bits<32>>,
    c_t_rss: Constant<Bits<32>>,
    c_t_q: Constant<Bits<32>>,
    c_t_cnt: Constant<Bits<32>>,
    c_v_id: Constant<Bits<32>>,
    c_v_rss: Constant<Bits<32>>,
    c_v_q: Constant<Bits<32>>,
    c_v_cnt: Constant<Bits<32>>,
    c_ncnt: Constant<Bits<32>>,
    c_nq: Constant<Bits<32>>,
    c_n_rss: Constant<Bits<32>>,
    c_n_q: Constant<Bits<32>>,
    c_n_cnt: Constant<Bits<32>>,
    c_n_cnt_next: Constant<Bits<32>>,
    c_maxframe: Constant<Bits<16>>,
    c_a_type: Constant<Bits<16>>,
    c_a_version: Constant<Bits<16>>,
    c_a_next: Constant<Bits<16>>,
    c_a_rss_type: Constant<Bits<16>>,
    c_a_rss_version: Constant<Bits<16>>,
    c_a_rss_next: Constant<Bits<16>>,
    c_a_q_type: Constant<Bits<16>>,
    c_a_q_version: Constant<Bits<16>>,
    c_a_q_next: Constant<Bits<16>>,
    c_a_cnt_type: Constant<Bits<16>>,
    c_a_cnt_version: Constant<Bits<16>>,
    c_a_cnt_next: Constant<Bits<16>>,
    c_id_device: Constant<Bits<16>>,
    c_id_hwver: Constant<Bits<16>>,
    c_id_caps: Constant<Bits<16>>,
    c_id_ctrl: Constant<Bits<16>>,
    c_id_maxf: Constant<Bits<16>>,
    c_id_scratch: Constant<Bits<16>>,
    c_rss_ctrl: Constant<Bits<16>>,
    c_rss_key: Constant<Bits<16>>,
    c_rss_key_end: Constant<Bits<16>>,
    c_rss_table: Constant<Bits<16>>,
    c_rss_table_end: Constant<Bits<16>>,
    c_q_count: Constant<Bits<16>>,
    c_txq: Constant<Bits<16>>,
    c_rxq: Constant<Bits<16>>,
    /// Offload blocks, from the table: header word addresses (type,
    /// version, next of block b at 3b..3b+2) and their values; per port,
    /// its block's base, first own register and end.
    c_hdr_a: [Constant<Bits<16>>; NUM_HDR],
    c_hdr_v: [Constant<Bits<32>>; NUM_HDR],
    c_ext_base: [Constant<Bits<16>>; EXT_PORTS],
    c_ext_first: [Constant<Bits<16>>; EXT_PORTS],
    c_ext_end: [Constant<Bits<16>>; EXT_PORTS],
    c_q_ctrl: Constant<Bits<6>>,
    c_q_prod: Constant<Bits<6>>,
    c_q_cons: Constant<Bits<6>>,
    c_q_pkts_lo: Constant<Bits<6>>,
    c_q_pkts_hi: Constant<Bits<6>>,
    c_q_bytes_lo: Constant<Bits<6>>,
    c_q_bytes_hi: Constant<Bits<6>>,
    c_cnt_count: Constant<Bits<16>>,
    c_cnt_first: Constant<Bits<16>>,
    c_cnt_end: Constant<Bits<16>>,
}

impl Default for RegFile {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            awaddr: Default::default(),
            awvalid: Default::default(),
            awready: Default::default(),
            wdata: Default::default(),
            wstrb: Default::default(),
            wvalid: Default::default(),
            wready: Default::default(),
            bresp: Default::default(),
            bvalid: Default::default(),
            bready: Default::default(),
            araddr: Default::default(),
            arvalid: Default::default(),
            arready: Default::default(),
            rdata: Default::default(),
            rresp: Default::default(),
            rvalid: Default::default(),
            rready: Default::default(),
            drop_bad_csum: Default::default(),
            max_frame: Default::default(),
            rss_enable: Default::default(),
            rss_key: Default::default(),
            rss_table: Default::default(),
            desc_base: Default::default(),
            cpl_base: Default::default(),
            qctl_out: Default::default(),
            qreset: Default::default(),
            prod: Default::default(),
            cons: Default::default(),
            cnt_inc: Default::default(),
            rxq_evt: Default::default(),
            rxq_id: Default::default(),
            rxq_len: Default::default(),
            txq_evt: Default::default(),
            txq_id: Default::default(),
            txq_len: Default::default(),
            ext: Default::default(),
            ctrl: Default::default(),
            maxf: Default::default(),
            scratch: Default::default(),
            rssctl: Default::default(),
            key: Default::default(),
            ind_tbl: Default::default(),
            dbase: Default::default(),
            cbase: Default::default(),
            qctl: Default::default(),
            qprod: Default::default(),
            qrst: Default::default(),
            cnt: array_init::array_init(|_| Default::default()),
            hi_snap: Default::default(),
            aw_full: Default::default(),
            aw_addr_r: Default::default(),
            w_full: Default::default(),
            w_data_r: Default::default(),
            w_strb_r: Default::default(),
            wd_go: Default::default(),
            wd_data: Default::default(),
            wd_resp: Default::default(),
            wd_misc: Default::default(),
            wd_key: Default::default(),
            wd_tbl: Default::default(),
            wd_dbase: Default::default(),
            wd_cbase: Default::default(),
            wd_qctl: Default::default(),
            wd_qprod: Default::default(),
            wd_qrst: Default::default(),
            ext_we_r: Default::default(),
            ext_waddr_r: Default::default(),
            ext_wdata_r: Default::default(),
            bvalid_r: Default::default(),
            bresp_r: Default::default(),
            rd_busy: Default::default(),
            rs1: Default::default(),
            rs2: Default::default(),
            rvalid_r: Default::default(),
            rdata_r: Default::default(),
            rc_const: Default::default(),
            rc_hdr: Default::default(),
            rc_var: Default::default(),
            rk_hit: Default::default(),
            rk_j: Default::default(),
            rt_hit: Default::default(),
            rt_idx: Default::default(),
            rn_sel: Default::default(),
            rh_hit: Default::default(),
            rq_kind: Default::default(),
            rq_w: Default::default(),
            rq_q: Default::default(),
            ext_hit: Default::default(),
            ext_raddr_r: Default::default(),
            s_misc: Default::default(),
            s_q: Default::default(),
            s_ext: Default::default(),
            s_lo: Default::default(),
            s_hi: Default::default(),
            s_latch: Default::default(),
            s_hihit: Default::default(),
            ev_inc: Default::default(),
            ev_rx: Default::default(),
            ev_rx_id: Default::default(),
            ev_rx_len: Default::default(),
            ev_tx: Default::default(),
            ev_tx_id: Default::default(),
            ev_tx_len: Default::default(),
            fire: Default::default(),
            wok: Default::default(),
            wa: Default::default(),
            w_qwin: Default::default(),
            w_q: Default::default(),
            w_reg: Default::default(),
            w_idx: Default::default(),
            w_idx4: Default::default(),
            qbyte: Default::default(),
            key_n: Default::default(),
            tbl_n: Default::default(),
            dbase_n: Default::default(),
            cbase_n: Default::default(),
            qctl_n: Default::default(),
            qprod_n: Default::default(),
            ar_take: Default::default(),
            ra: Default::default(),
            r_qwin: Default::default(),
            r_qrx: Default::default(),
            r_reg: Default::default(),
            r_off: Default::default(),
            r_idx: Default::default(),
            r_cq: Default::default(),
            cconst: Default::default(),
            hconst: Default::default(),
            m1: Default::default(),
            q1: Default::default(),
            ext_or: Default::default(),
            qcb: Default::default(),
            cacc: Default::default(),
            c_one8: Constant::new(1u64.into()),
            c_one16: Constant::new(1u64.into()),
            c_one64: Constant::new(1u64.into()),
            c_ones32: Constant::new(0xFFFF_FFFFu64.into()),
            c_ones16: Constant::new(0xFFFFu64.into()),
            c_ones8: Constant::new(0xFFu64.into()),
            c_nine: c16(9),
            c_cq_tx: Constant::new(32u64.into()),
            c_cq_rx: Constant::new(24u64.into()),
            c_device: c32(r::DEVICE_ID),
            c_hwver: c32(r::HW_VERSION),
            c_caps: c32(NUM_QUEUES as u32 | (toe_contract::DATA_BITS as u32) << 16),
            c_t_id: c32(r::TYPE_ID),
            c_t_rss: c32(r::TYPE_RSS),
            c_t_q: c32(r::TYPE_QUEUES),
            c_t_cnt: c32(r::TYPE_COUNTERS),
            c_v_id: c32(r::VERSION_ID),
            c_v_rss: c32(r::VERSION_RSS),
            c_v_q: c32(r::VERSION_QUEUES),
            c_v_cnt: c32(r::VERSION_COUNTERS),
            c_ncnt: c32(r::NUM_COUNTERS),
            c_nq: c32(NUM_QUEUES as u32),
            c_n_rss: c32(r::RSS_BASE),
            c_n_q: c32(r::QUEUES_BASE),
            c_n_cnt: c32(r::COUNTERS_BASE),
            c_n_cnt_next: c32(r::COUNTERS_NEXT),
            c_maxframe: c16(MAX_FRAME as u32),
            c_a_type: c16(r::ID_BASE + r::BLK_TYPE),
            c_a_version: c16(r::ID_BASE + r::BLK_VERSION),
            c_a_next: c16(r::ID_BASE + r::BLK_NEXT),
            c_a_rss_type: c16(r::RSS_BASE + r::BLK_TYPE),
            c_a_rss_version: c16(r::RSS_BASE + r::BLK_VERSION),
            c_a_rss_next: c16(r::RSS_BASE + r::BLK_NEXT),
            c_a_q_type: c16(r::QUEUES_BASE + r::BLK_TYPE),
            c_a_q_version: c16(r::QUEUES_BASE + r::BLK_VERSION),
            c_a_q_next: c16(r::QUEUES_BASE + r::BLK_NEXT),
            c_a_cnt_type: c16(r::COUNTERS_BASE + r::BLK_TYPE),
            c_a_cnt_version: c16(r::COUNTERS_BASE + r::BLK_VERSION),
            c_a_cnt_next: c16(r::COUNTERS_BASE + r::BLK_NEXT),
            c_id_device: c16(r::ID_BASE + r::ID_DEVICE),
            c_id_hwver: c16(r::ID_BASE + r::ID_HW_VERSION),
            c_id_caps: c16(r::ID_BASE + r::ID_CAPS),
            c_id_ctrl: c16(r::ID_BASE + r::ID_CTRL),
            c_id_maxf: c16(r::ID_BASE + r::ID_MAX_FRAME),
            c_id_scratch: c16(r::ID_BASE + r::ID_SCRATCH),
            c_rss_ctrl: c16(r::RSS_BASE + r::RSS_CTRL),
            c_rss_key: c16(r::RSS_BASE + r::RSS_KEY),
            c_rss_key_end: c16(r::RSS_BASE + r::RSS_KEY + 4 * r::RSS_KEY_WORDS),
            c_rss_table: c16(r::RSS_BASE + r::RSS_TABLE),
            c_rss_table_end: c16(r::RSS_BASE
                + r::RSS_TABLE
                + 4 * toe_contract::RSS_TABLE_ENTRIES as u32),
            c_q_count: c16(r::QUEUES_BASE + r::QUEUES_COUNT),
            c_txq: c16(r::TXQ_BASE),
            c_rxq: c16(r::RXQ_BASE),
            c_hdr_a: array_init::array_init(|h| {
                c16(r::OFFLOAD_BLOCKS[h / 3].base
                    + [r::BLK_TYPE, r::BLK_VERSION, r::BLK_NEXT][h % 3])
            }),
            c_hdr_v: array_init::array_init(|h| {
                let b = r::OFFLOAD_BLOCKS[h / 3];
                c32([b.type_id, b.version, r::offload_next(h / 3)][h % 3])
            }),
            c_ext_base: array_init::array_init(|p| c16(r::OFFLOAD_BLOCKS[EXT_PORT_BLOCK[p]].base)),
            c_ext_first: array_init::array_init(|p| {
                c16(r::OFFLOAD_BLOCKS[EXT_PORT_BLOCK[p]].base + r::BLK_FIRST)
            }),
            c_ext_end: array_init::array_init(|p| {
                let b = r::OFFLOAD_BLOCKS[EXT_PORT_BLOCK[p]];
                c16(b.base + b.size)
            }),
            c_q_ctrl: Constant::new((r::Q_CTRL as u64).into()),
            c_q_prod: Constant::new((r::Q_PROD as u64).into()),
            c_q_cons: Constant::new((r::Q_CONS as u64).into()),
            c_q_pkts_lo: Constant::new((r::Q_PKTS_LO as u64).into()),
            c_q_pkts_hi: Constant::new((r::Q_PKTS_HI as u64).into()),
            c_q_bytes_lo: Constant::new((r::Q_BYTES_LO as u64).into()),
            c_q_bytes_hi: Constant::new((r::Q_BYTES_HI as u64).into()),
            c_cnt_count: c16(r::COUNTERS_BASE + r::CNT_COUNT),
            c_cnt_first: c16(r::COUNTERS_BASE + r::CNT_FIRST),
            c_cnt_end: c16(r::COUNTERS_BASE + r::CNT_FIRST + 8 * r::COUNTER_SLOTS),
        }
    }
}

impl Logic for RegFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            ctrl,
            maxf,
            scratch,
            rssctl,
            key,
            ind_tbl,
            dbase,
            cbase,
            qctl,
            qprod,
            qrst,
            hi_snap,
            aw_full,
            aw_addr_r,
            w_full,
            w_data_r,
            w_strb_r,
            wd_go,
            wd_data,
            wd_resp,
            wd_misc,
            wd_key,
            wd_tbl,
            wd_dbase,
            wd_cbase,
            wd_qctl,
            wd_qprod,
            wd_qrst,
            ext_wdata_r,
            bvalid_r,
            bresp_r,
            rd_busy,
            rs1,
            rs2,
            rvalid_r,
            rdata_r,
            rc_const,
            rc_hdr,
            rc_var,
            rk_hit,
            rk_j,
            rt_hit,
            rt_idx,
            rn_sel,
            rh_hit,
            rq_kind,
            rq_w,
            rq_q,
            s_misc,
            s_q,
            s_ext,
            s_lo,
            s_hi,
            s_latch,
            s_hihit,
            ev_inc,
            ev_rx,
            ev_rx_id,
            ev_rx_len,
            ev_tx,
            ev_tx_id,
            ev_tx_len
        );
        for i in 0..NUM_CNT {
            self.cnt[i].clock.next = self.clock.val();
            self.cnt[i].d.next = self.cnt[i].q.val();
        }
        for p in 0..EXT_PORTS {
            self.ext_we_r[p].clock.next = self.clock.val();
            self.ext_waddr_r[p].clock.next = self.clock.val();
            self.ext_hit[p].clock.next = self.clock.val();
            self.ext_raddr_r[p].clock.next = self.clock.val();
            self.ext_waddr_r[p].d.next = self.ext_waddr_r[p].q.val();
            self.ext_hit[p].d.next = self.ext_hit[p].q.val();
            self.ext_raddr_r[p].d.next = self.ext_raddr_r[p].q.val();
            self.ext_we_r[p].d.next = false;
        }
        // Counter events, registered, then counted.
        self.ev_inc.d.next = self.cnt_inc.val();
        self.ev_rx.d.next = self.rxq_evt.val();
        self.ev_rx_id.d.next = self.rxq_id.val();
        self.ev_rx_len.d.next = self.rxq_len.val();
        self.ev_tx.d.next = self.txq_evt.val();
        self.ev_tx_id.d.next = self.txq_id.val();
        self.ev_tx_len.d.next = self.txq_len.val();
        for i in 0..24 {
            if self.ev_inc.q.val().get_bit(i) {
                self.cnt[i].d.next = self.cnt[i].q.val() + 1;
            }
        }
        for q in 0..4 {
            if self.ev_rx.q.val() && (self.ev_rx_id.q.val().index() == q) {
                self.cnt[24 + 2 * q].d.next = self.cnt[24 + 2 * q].q.val() + 1;
                self.cnt[25 + 2 * q].d.next =
                    self.cnt[25 + 2 * q].q.val() + bit_cast::<64, 16>(self.ev_rx_len.q.val());
            }
            if self.ev_tx.q.val() && (self.ev_tx_id.q.val().index() == q) {
                self.cnt[32 + 2 * q].d.next = self.cnt[32 + 2 * q].q.val() + 1;
                self.cnt[33 + 2 * q].d.next =
                    self.cnt[33 + 2 * q].q.val() + bit_cast::<64, 16>(self.ev_tx_len.q.val());
            }
        }
        // ================================================== writes
        // Holding registers: ready means empty (no input in the path).
        self.awready.next = !self.aw_full.q.val();
        self.wready.next = !self.w_full.q.val();
        if self.awvalid.val() && !self.aw_full.q.val() {
            self.aw_full.d.next = true;
            self.aw_addr_r.d.next = self.awaddr.val();
        }
        if self.wvalid.val() && !self.w_full.q.val() {
            self.w_full.d.next = true;
            self.w_data_r.d.next = self.wdata.val();
            self.w_strb_r.d.next = self.wstrb.val();
        }
        // Fire: both held, no response pending or being prepared.
        self.fire.next = self.aw_full.q.val()
            && self.w_full.q.val()
            && !self.wd_go.q.val()
            && !self.bvalid_r.q.val();
        self.wok.next = self.fire.val() && (self.w_strb_r.q.val() == 15);
        self.wa.next = self.aw_addr_r.q.val();
        // Queue window decode: 0x1000 TX, 0x2000 RX, bits 7:6 queue, 5:0 register.
        self.w_qwin.next = (((self.wa.val() & 0xF000) == self.c_txq.val())
            || ((self.wa.val() & 0xF000) == self.c_rxq.val()))
            && ((self.wa.val() & 0x0F00) == 0);
        self.w_q.next = bit_cast::<3, 16>((self.wa.val() >> 6) & 3);
        if (self.wa.val() & 0xF000) == self.c_rxq.val() {
            self.w_q.next = bit_cast::<3, 16>(((self.wa.val() >> 6) & 3) | 4);
        }
        self.w_reg.next = bit_cast::<6, 16>(self.wa.val() & 0x3F);
        self.w_idx.next = 0.into();
        self.w_idx4.next = 0.into();
        self.wd_go.d.next = self.fire.val();
        self.wd_misc.d.next = 0.into();
        self.wd_key.d.next = 0.into();
        self.wd_tbl.d.next = 0.into();
        self.wd_dbase.d.next = 0.into();
        self.wd_cbase.d.next = 0.into();
        self.wd_qctl.d.next = 0.into();
        self.wd_qprod.d.next = 0.into();
        self.wd_qrst.d.next = 0.into();
        if self.fire.val() {
            self.aw_full.d.next = false;
            self.w_full.d.next = false;
            self.wd_data.d.next = self.w_data_r.q.val();
            self.wd_resp.d.next = 0.into();
            if self.w_strb_r.q.val() != 15 {
                self.wd_resp.d.next = 2.into();
            }
            for p in 0..EXT_PORTS {
                self.ext_waddr_r[p].d.next = self.wa.val() - self.c_ext_base[p].val();
            }
            self.ext_wdata_r.d.next = self.w_data_r.q.val();
        }
        if self.wok.val() {
            for p in 0..EXT_PORTS {
                self.ext_we_r[p].d.next = (self.wa.val() >= self.c_ext_base[p].val())
                    && (self.wa.val() < self.c_ext_end[p].val());
            }
            if self.wa.val() == self.c_id_ctrl.val() {
                self.wd_misc.d.next = 1.into();
            }
            if self.wa.val() == self.c_id_maxf.val() {
                self.wd_misc.d.next = 2.into();
            }
            if self.wa.val() == self.c_id_scratch.val() {
                self.wd_misc.d.next = 4.into();
            }
            if self.wa.val() == self.c_rss_ctrl.val() {
                self.wd_misc.d.next = 8.into();
            }
            if (self.wa.val() >= self.c_rss_key.val()) && (self.wa.val() < self.c_rss_key_end.val())
            {
                self.w_idx.next = self.wa.val() - self.c_rss_key.val();
                self.w_idx4.next = self.w_idx.val() >> 2;
                self.wd_key.d.next =
                    bit_cast::<10, 16>(self.c_one16.val() << bit_cast::<4, 16>(self.w_idx4.val()));
            }
            if (self.wa.val() >= self.c_rss_table.val())
                && (self.wa.val() < self.c_rss_table_end.val())
            {
                self.w_idx.next = self.wa.val() - self.c_rss_table.val();
                self.w_idx4.next = self.w_idx.val() >> 2;
                self.wd_tbl.d.next = self.c_one64.val() << bit_cast::<6, 16>(self.w_idx4.val());
            }
            if self.w_qwin.val() {
                if (self.w_reg.val() == 0) || (self.w_reg.val() == 4) {
                    self.wd_dbase.d.next = self.c_one16.val()
                        << ((bit_cast::<4, 3>(self.w_q.val()) << 1)
                            | bit_cast::<4, 6>((self.w_reg.val() >> 2) & 1));
                }
                if (self.w_reg.val() == 8) || (self.w_reg.val() == 12) {
                    self.wd_cbase.d.next = self.c_one16.val()
                        << ((bit_cast::<4, 3>(self.w_q.val()) << 1)
                            | bit_cast::<4, 6>((self.w_reg.val() >> 2) & 1));
                }
                if self.w_reg.val() == self.c_q_ctrl.val() {
                    self.wd_qctl.d.next = self.c_one8.val() << self.w_q.val();
                    if self.w_data_r.q.val().get_bit(31) {
                        self.wd_qrst.d.next = self.c_one8.val() << self.w_q.val();
                    }
                }
                if self.w_reg.val() == self.c_q_prod.val() {
                    self.wd_qprod.d.next = self.c_one8.val() << self.w_q.val();
                }
            }
        }
        // Apply: every selected word takes the data; the response is
        // offered from the same edge.
        if self.wd_misc.q.val().get_bit(0) {
            self.ctrl.d.next = self.wd_data.q.val();
        }
        if self.wd_misc.q.val().get_bit(1) {
            self.maxf.d.next = bit_cast::<16, 32>(self.wd_data.q.val());
        }
        if self.wd_misc.q.val().get_bit(2) {
            self.scratch.d.next = self.wd_data.q.val();
        }
        if self.wd_misc.q.val().get_bit(3) {
            self.rssctl.d.next = self.wd_data.q.val().get_bit(0);
        }
        // The word selects below (wd_key .. wd_qrst) are zero unless wd_go
        // is set (all are registered from `wok`, which implies `fire`, and
        // cleared by reset), so their loops run only under wd_go: the same
        // function, and the Verilated model skips about 110 per-bit tests
        // in every cycle without a register write (`cargo xtask depth
        // --module 'top$regs'`: still at most 6 LUT levels).
        // Key word i holds key bits 288 - 32i .. 319 - 32i.
        self.key_n.next = self.key.q.val();
        self.tbl_n.next = self.ind_tbl.q.val();
        // Ring bases: word 2q (LO) and 2q + 1 (HI) of queue q.
        self.dbase_n.next = self.dbase.q.val();
        self.cbase_n.next = self.cbase.q.val();
        // Queue control (bits 3:0 log2 size, bit 4 enable from bit 31) and
        // producer index; enabling a queue clears its producer index.
        self.qbyte.next =
            bit_cast::<8, 32>((self.wd_data.q.val() & 0xF) | ((self.wd_data.q.val() >> 27) & 0x10));
        self.qctl_n.next = self.qctl.q.val();
        self.qprod_n.next = self.qprod.q.val();
        if self.wd_go.q.val() {
            for i in 0..10 {
                if ((self.wd_key.q.val() >> i) & 1) == 1 {
                    self.key_n.next = (self.key_n.val()
                        & !(bit_cast::<320, 32>(self.c_ones32.val()) << (288 - 32 * i)))
                        | (bit_cast::<320, 32>(self.wd_data.q.val()) << (288 - 32 * i));
                }
            }
            for i in 0..64 {
                if ((self.wd_tbl.q.val() >> i) & 1) == 1 {
                    self.tbl_n.next = (self.tbl_n.val()
                        & !(bit_cast::<128, 2>(3.into()) << (2 * i)))
                        | (bit_cast::<128, 32>(self.wd_data.q.val() & 3) << (2 * i));
                }
            }
            for w in 0..16 {
                if ((self.wd_dbase.q.val() >> w) & 1) == 1 {
                    self.dbase_n.next = (self.dbase_n.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << (32 * w)))
                        | (bit_cast::<512, 32>(self.wd_data.q.val()) << (32 * w));
                }
                if ((self.wd_cbase.q.val() >> w) & 1) == 1 {
                    self.cbase_n.next = (self.cbase_n.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << (32 * w)))
                        | (bit_cast::<512, 32>(self.wd_data.q.val()) << (32 * w));
                }
            }
            for q in 0..8 {
                if ((self.wd_qctl.q.val() >> q) & 1) == 1 {
                    self.qctl_n.next = (self.qctl_n.val()
                        & !(bit_cast::<64, 8>(self.c_ones8.val()) << (8 * q)))
                        | (bit_cast::<64, 8>(self.qbyte.val()) << (8 * q));
                }
                if ((self.wd_qprod.q.val() >> q) & 1) == 1 {
                    self.qprod_n.next = (self.qprod_n.val()
                        & !(bit_cast::<128, 16>(self.c_ones16.val()) << (16 * q)))
                        | (bit_cast::<128, 32>(self.wd_data.q.val() & 0xFFFF) << (16 * q));
                }
                if ((self.wd_qrst.q.val() >> q) & 1) == 1 {
                    self.qprod_n.next = self.qprod_n.val()
                        & !(bit_cast::<128, 16>(self.c_ones16.val()) << (16 * q));
                }
            }
        }
        self.key.d.next = self.key_n.val();
        self.ind_tbl.d.next = self.tbl_n.val();
        self.dbase.d.next = self.dbase_n.val();
        self.cbase.d.next = self.cbase_n.val();
        self.qctl.d.next = self.qctl_n.val();
        self.qprod.d.next = self.qprod_n.val();
        self.qrst.d.next = self.wd_qrst.q.val();
        if self.wd_go.q.val() {
            self.bvalid_r.d.next = true;
            self.bresp_r.d.next = self.wd_resp.q.val();
        }
        if self.bvalid_r.q.val() && self.bready.val() {
            self.bvalid_r.d.next = false;
        }
        self.bvalid.next = self.bvalid_r.q.val();
        self.bresp.next = self.bresp_r.q.val();
        for p in 0..EXT_PORTS {
            self.ext[p].we.next = self.ext_we_r[p].q.val();
            self.ext[p].waddr.next = self.ext_waddr_r[p].q.val();
            self.ext[p].wdata.next = self.ext_wdata_r.q.val();
        }
        // ================================================== reads
        // Stage 0, the address handshake: decode into selects.
        self.arready.next = !self.rd_busy.q.val();
        self.ar_take.next = self.arvalid.val() && !self.rd_busy.q.val();
        self.rs1.d.next = self.ar_take.val();
        self.rs2.d.next = self.rs1.q.val();
        self.ra.next = self.araddr.val();
        self.r_qrx.next = (self.ra.val() & 0xF000) == self.c_rxq.val();
        self.r_qwin.next = (((self.ra.val() & 0xF000) == self.c_txq.val()) || self.r_qrx.val())
            && ((self.ra.val() & 0x0F00) == 0);
        self.r_reg.next = bit_cast::<6, 16>(self.ra.val() & 0x3F);
        self.cconst.next = 0.into();
        // Block headers: type, version, next.
        if self.ra.val() == self.c_a_type.val() {
            self.cconst.next = self.c_t_id.val();
        }
        if self.ra.val() == self.c_a_version.val() {
            self.cconst.next = self.c_v_id.val();
        }
        if self.ra.val() == self.c_a_next.val() {
            self.cconst.next = self.c_n_rss.val();
        }
        if self.ra.val() == self.c_a_rss_type.val() {
            self.cconst.next = self.c_t_rss.val();
        }
        if self.ra.val() == self.c_a_rss_version.val() {
            self.cconst.next = self.c_v_rss.val();
        }
        if self.ra.val() == self.c_a_rss_next.val() {
            self.cconst.next = self.c_n_q.val();
        }
        if self.ra.val() == self.c_a_q_type.val() {
            self.cconst.next = self.c_t_q.val();
        }
        if self.ra.val() == self.c_a_q_version.val() {
            self.cconst.next = self.c_v_q.val();
        }
        if self.ra.val() == self.c_a_q_next.val() {
            self.cconst.next = self.c_n_cnt.val();
        }
        if self.ra.val() == self.c_a_cnt_type.val() {
            self.cconst.next = self.c_t_cnt.val();
        }
        if self.ra.val() == self.c_a_cnt_version.val() {
            self.cconst.next = self.c_v_cnt.val();
        }
        if self.ra.val() == self.c_a_cnt_next.val() {
            self.cconst.next = self.c_n_cnt_next.val();
        }
        if self.ra.val() == self.c_id_device.val() {
            self.cconst.next = self.c_device.val();
        }
        if self.ra.val() == self.c_id_hwver.val() {
            self.cconst.next = self.c_hwver.val();
        }
        if self.ra.val() == self.c_id_caps.val() {
            self.cconst.next = self.c_caps.val();
        }
        if self.ra.val() == self.c_q_count.val() {
            self.cconst.next = self.c_nq.val();
        }
        if self.ra.val() == self.c_cnt_count.val() {
            self.cconst.next = self.c_ncnt.val();
        }
        // Offload blocks' headers, from the table (a group of their own).
        self.hconst.next = 0.into();
        for h in 0..NUM_HDR {
            if self.ra.val() == self.c_hdr_a[h].val() {
                self.hconst.next = self.c_hdr_v[h].val();
            }
        }
        self.r_off.next = 0.into();
        self.r_idx.next = 0.into();
        // Counter index of a queue window's LO word: TX q packets 32 + 2q,
        // bytes 33 + 2q; RX 24 + 2q and 25 + 2q.
        self.r_cq.next = self.c_cq_tx.val();
        if self.r_qrx.val() {
            self.r_cq.next = self.c_cq_rx.val();
        }
        self.r_cq.next = self.r_cq.val()
            | bit_cast::<6, 16>((self.ra.val() >> 5) & 6)
            | bit_cast::<6, 16>((self.ra.val() >> 3) & 1);
        if self.ar_take.val() {
            self.rd_busy.d.next = true;
            self.rc_const.d.next = self.cconst.val();
            self.rc_hdr.d.next = self.hconst.val();
            self.rc_var.d.next = 0.into();
            if self.ra.val() == self.c_id_ctrl.val() {
                self.rc_var.d.next = 1.into();
            }
            if self.ra.val() == self.c_id_maxf.val() {
                self.rc_var.d.next = 2.into();
            }
            if self.ra.val() == self.c_id_scratch.val() {
                self.rc_var.d.next = 4.into();
            }
            if self.ra.val() == self.c_rss_ctrl.val() {
                self.rc_var.d.next = 8.into();
            }
            // RSS key word i (from the top of the 320-bit key: 9 - i).
            self.rk_hit.d.next = (self.ra.val() >= self.c_rss_key.val())
                && (self.ra.val() < self.c_rss_key_end.val());
            self.r_off.next = self.ra.val() - self.c_rss_key.val();
            self.r_idx.next = self.c_nine.val() - (self.r_off.val() >> 2);
            self.rk_j.d.next = bit_cast::<4, 16>(self.r_idx.val());
            // Indirection table entry.
            self.rt_hit.d.next = (self.ra.val() >= self.c_rss_table.val())
                && (self.ra.val() < self.c_rss_table_end.val());
            self.r_off.next = self.ra.val() - self.c_rss_table.val();
            self.rt_idx.d.next = bit_cast::<6, 16>(self.r_off.val() >> 2);
            // Counters: global LO at first + 8i, HI at +4; queue windows.
            self.rn_sel.d.next = 0.into();
            self.rh_hit.d.next = false;
            if (self.ra.val() >= self.c_cnt_first.val()) && (self.ra.val() < self.c_cnt_end.val()) {
                self.r_off.next = self.ra.val() - self.c_cnt_first.val();
                if self.ra.val().get_bit(2) {
                    self.rh_hit.d.next = true;
                } else {
                    self.rn_sel.d.next = bit_cast::<40, 64>(
                        self.c_one64.val() << bit_cast::<6, 16>(self.r_off.val() >> 3),
                    );
                }
            }
            if self.r_qwin.val() {
                if (self.r_reg.val() == self.c_q_pkts_lo.val())
                    || (self.r_reg.val() == self.c_q_bytes_lo.val())
                {
                    self.rn_sel.d.next = bit_cast::<40, 64>(self.c_one64.val() << self.r_cq.val());
                }
                if (self.r_reg.val() == self.c_q_pkts_hi.val())
                    || (self.r_reg.val() == self.c_q_bytes_hi.val())
                {
                    self.rh_hit.d.next = true;
                }
            }
            // Queue window registers.
            self.rq_kind.d.next = 0.into();
            if self.r_qwin.val() {
                if (self.r_reg.val() == 0) || (self.r_reg.val() == 4) {
                    self.rq_kind.d.next = 1.into();
                }
                if (self.r_reg.val() == 8) || (self.r_reg.val() == 12) {
                    self.rq_kind.d.next = 2.into();
                }
                if self.r_reg.val() == self.c_q_ctrl.val() {
                    self.rq_kind.d.next = 4.into();
                }
                if self.r_reg.val() == self.c_q_prod.val() {
                    self.rq_kind.d.next = 8.into();
                }
                if self.r_reg.val() == self.c_q_cons.val() {
                    self.rq_kind.d.next = 16.into();
                }
            }
            self.rq_q.d.next = bit_cast::<3, 16>((self.ra.val() >> 6) & 3);
            self.rq_w.d.next =
                bit_cast::<4, 16>(((self.ra.val() >> 5) & 6) | ((self.ra.val() >> 2) & 1));
            if self.r_qrx.val() {
                self.rq_q.d.next = bit_cast::<3, 16>(((self.ra.val() >> 6) & 3) | 4);
                self.rq_w.d.next =
                    bit_cast::<4, 16>(((self.ra.val() >> 5) & 6) | ((self.ra.val() >> 2) & 1) | 8);
            }
            // Offload blocks: their own registers, past the header.
            for p in 0..EXT_PORTS {
                self.ext_hit[p].d.next = (self.ra.val() >= self.c_ext_first[p].val())
                    && (self.ra.val() < self.c_ext_end[p].val());
                self.ext_raddr_r[p].d.next = self.ra.val() - self.c_ext_base[p].val();
            }
        }
        for p in 0..EXT_PORTS {
            self.ext[p].raddr.next = self.ext_raddr_r[p].q.val();
        }
        // Stage 1 (every cycle; meaningful in the cycle after a handshake):
        // read each group into a register.
        self.m1.next = self.rc_const.q.val() | self.rc_hdr.q.val();
        if self.rc_var.q.val().get_bit(0) {
            self.m1.next = self.m1.val() | self.ctrl.q.val();
        }
        if self.rc_var.q.val().get_bit(1) {
            self.m1.next = self.m1.val() | bit_cast::<32, 16>(self.maxf.q.val());
        }
        if self.rc_var.q.val().get_bit(2) {
            self.m1.next = self.m1.val() | self.scratch.q.val();
        }
        if self.rc_var.q.val().get_bit(3) {
            self.m1.next = self.m1.val() | bit_cast::<32, 1>(self.rssctl.q.val().into());
        }
        if self.rk_hit.q.val() {
            self.m1.next = self.m1.val()
                | bit_cast::<32, 320>(
                    self.key.q.val() >> (bit_cast::<9, 4>(self.rk_j.q.val()) << 5),
                );
        }
        if self.rt_hit.q.val() {
            self.m1.next = self.m1.val()
                | bit_cast::<32, 128>(
                    (self.ind_tbl.q.val() >> (bit_cast::<7, 6>(self.rt_idx.q.val()) << 1)) & 3,
                );
        }
        self.s_misc.d.next = self.m1.val();
        self.q1.next = 0.into();
        if self.rq_kind.q.val().get_bit(0) {
            self.q1.next = bit_cast::<32, 512>(
                self.dbase.q.val() >> (bit_cast::<9, 4>(self.rq_w.q.val()) << 5),
            );
        }
        if self.rq_kind.q.val().get_bit(1) {
            self.q1.next = bit_cast::<32, 512>(
                self.cbase.q.val() >> (bit_cast::<9, 4>(self.rq_w.q.val()) << 5),
            );
        }
        self.qcb.next =
            bit_cast::<8, 64>(self.qctl.q.val() >> (bit_cast::<6, 3>(self.rq_q.q.val()) << 3));
        if self.rq_kind.q.val().get_bit(2) {
            self.q1.next = bit_cast::<32, 8>(self.qcb.val() & 0xF)
                | (bit_cast::<32, 8>(self.qcb.val() & 0x10) << 27);
        }
        if self.rq_kind.q.val().get_bit(3) {
            self.q1.next = bit_cast::<32, 128>(
                (self.qprod.q.val() >> (bit_cast::<7, 3>(self.rq_q.q.val()) << 4)) & 0xFFFF,
            );
        }
        if self.rq_kind.q.val().get_bit(4) {
            self.q1.next = bit_cast::<32, 128>(
                (self.cons.val() >> (bit_cast::<7, 3>(self.rq_q.q.val()) << 4)) & 0xFFFF,
            );
        }
        self.s_q.d.next = self.q1.val();
        // The offload blocks' read data is its own group, ORed in at the
        // last stage (their read multiplexers do not feed the queue-window
        // group's).
        self.ext_or.next = 0.into();
        for p in 0..EXT_PORTS {
            if self.ext_hit[p].q.val() {
                self.ext_or.next = self.ext_or.val() | self.ext[p].rdata.val();
            }
        }
        self.s_ext.d.next = self.ext_or.val();
        // The counter read (s_lo, s_hi, s_latch) is only used at rs2, one
        // edge after rs1: it is taken at rs1 and held otherwise (a clock
        // enable), so the simulation skips the 40-way select when no
        // register is read.
        self.cacc.next = 0.into();
        if self.rs1.q.val() {
            for k in 0..NUM_CNT {
                if self.rn_sel.q.val().get_bit(k) {
                    self.cacc.next = self.cacc.val() | self.cnt[k].q.val();
                }
            }
            self.s_lo.d.next = bit_cast::<32, 64>(self.cacc.val());
            self.s_hi.d.next = bit_cast::<32, 64>(self.cacc.val() >> 32);
            self.s_latch.d.next = self.rn_sel.q.val().any();
        }
        self.s_hihit.d.next = self.rh_hit.q.val();
        // Stage 2: the groups ORed into the response; a LO counter read
        // latches its HI word.
        if self.rs2.q.val() {
            self.rvalid_r.d.next = true;
            self.rdata_r.d.next =
                self.s_misc.q.val() | self.s_q.q.val() | self.s_ext.q.val() | self.s_lo.q.val();
            if self.s_hihit.q.val() {
                self.rdata_r.d.next = self.hi_snap.q.val();
            }
            if self.s_latch.q.val() {
                self.hi_snap.d.next = self.s_hi.q.val();
            }
        }
        if self.rvalid_r.q.val() && self.rready.val() {
            self.rvalid_r.d.next = false;
            self.rd_busy.d.next = false;
        }
        self.rvalid.next = self.rvalid_r.q.val();
        self.rdata.next = self.rdata_r.q.val();
        self.rresp.next = 0.into();
        // ================================================== outputs
        self.drop_bad_csum.next = self.ctrl.q.val().get_bit(0);
        self.max_frame.next = self.maxf.q.val();
        self.rss_enable.next = self.rssctl.q.val();
        self.rss_key.next = self.key.q.val();
        self.rss_table.next = self.ind_tbl.q.val();
        self.desc_base.next = self.dbase.q.val();
        self.cpl_base.next = self.cbase.q.val();
        self.qctl_out.next = self.qctl.q.val();
        self.prod.next = self.qprod.q.val();
        self.qreset.next = self.qrst.q.val();
        // ================================================== reset
        if self.rst.val() {
            self.ctrl.d.next = 0.into();
            self.maxf.d.next = self.c_maxframe.val();
            self.scratch.d.next = 0.into();
            self.rssctl.d.next = false;
            self.key.d.next = 0.into();
            self.ind_tbl.d.next = 0.into();
            self.dbase.d.next = 0.into();
            self.cbase.d.next = 0.into();
            self.qctl.d.next = 0.into();
            self.qprod.d.next = 0.into();
            self.qrst.d.next = 0.into();
            for i in 0..NUM_CNT {
                self.cnt[i].d.next = 0.into();
            }
            self.ev_inc.d.next = 0.into();
            self.ev_rx.d.next = false;
            self.ev_tx.d.next = false;
            self.hi_snap.d.next = 0.into();
            self.aw_full.d.next = false;
            self.w_full.d.next = false;
            self.wd_go.d.next = false;
            self.wd_misc.d.next = 0.into();
            self.wd_key.d.next = 0.into();
            self.wd_tbl.d.next = 0.into();
            self.wd_dbase.d.next = 0.into();
            self.wd_cbase.d.next = 0.into();
            self.wd_qctl.d.next = 0.into();
            self.wd_qprod.d.next = 0.into();
            self.wd_qrst.d.next = 0.into();
            for p in 0..EXT_PORTS {
                self.ext_we_r[p].d.next = false;
                self.ext_hit[p].d.next = false;
            }
            self.bvalid_r.d.next = false;
            self.bresp_r.d.next = 0.into();
            self.rd_busy.d.next = false;
            self.rs1.d.next = false;
            self.rs2.d.next = false;
            self.rvalid_r.d.next = false;
            self.rdata_r.d.next = 0.into();
            self.rn_sel.d.next = 0.into();
            self.rh_hit.d.next = false;
            self.rc_var.d.next = 0.into();
            self.rc_const.d.next = 0.into();
            self.rc_hdr.d.next = 0.into();
            self.rk_hit.d.next = false;
            self.rt_hit.d.next = false;
            self.rq_kind.d.next = 0.into();
        }
    }
}
