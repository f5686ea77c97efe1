//! BAR0 register file behind an AXI4-Lite slave.
//!
//! One transaction at a time per direction.  Writes must carry all four byte
//! strobes (registers are written whole); a partial write is answered with
//! SLVERR and changes nothing.  Unknown addresses read 0 and ignore writes.
//! 64-bit counters: reading the LO word latches the HI word.
use rust_hdl::prelude::*;
use toe_contract::regs as r;
use toe_contract::{MAX_FRAME, NUM_QUEUES};

/// Number of 64-bit counters: 24 global slots (the contract's counters, the
/// rest reserved), then per RX queue packets and bytes, then per TX queue.
pub const NUM_CNT: usize = 24 + 4 * NUM_QUEUES;
const _: () = assert!(r::COUNTER_SLOTS == 24);

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
    // The setup block (its own module): writes in its address range are
    // passed on, reads in it return `ext_rdata` (a function of `araddr`).
    pub ext_we: Signal<Out, Bit>,
    pub ext_waddr: Signal<Out, Bits<16>>,
    pub ext_wdata: Signal<Out, Bits<32>>,
    pub ext_rdata: Signal<In, Bits<32>>,
    // State
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
    bvalid_r: DFF<Bit>,
    bresp_r: DFF<Bits<2>>,
    rvalid_r: DFF<Bit>,
    rdata_r: DFF<Bits<32>>,
    // Decode scratch
    wsel_q: Signal<Local, Bits<3>>,
    wreg_q: Signal<Local, Bits<6>>,
    rsel_q: Signal<Local, Bits<3>>,
    rreg_q: Signal<Local, Bits<6>>,
    rd: Signal<Local, Bits<32>>,
    do_write: Signal<Local, Bit>,
    widx: Signal<Local, Bits<16>>,
    ridx: Signal<Local, Bits<16>>,
    sh: Signal<Local, Bits<16>>,
    cv: Signal<Local, Bits<64>>,
    c_one8: Constant<Bits<8>>,
    c_ones32: Constant<Bits<32>>,
    c_key_top: Constant<Bits<16>>,
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
    c_maxframe: Constant<Bits<16>>,
    c_rss_base: Constant<Bits<16>>,
    c_q_base: Constant<Bits<16>>,
    c_cnt_base: Constant<Bits<16>>,
    c_id_device: Constant<Bits<16>>,
    c_id_hwver: Constant<Bits<16>>,
    c_id_caps: Constant<Bits<16>>,
    c_id_ctrl: Constant<Bits<16>>,
    c_id_maxf: Constant<Bits<16>>,
    c_id_scratch: Constant<Bits<16>>,
    c_rss_ctrl: Constant<Bits<16>>,
    c_rss_key: Constant<Bits<16>>,
    c_rss_table: Constant<Bits<16>>,
    c_q_count: Constant<Bits<16>>,
    c_txq: Constant<Bits<16>>,
    c_setup_base: Constant<Bits<16>>,
    c_setup_end: Constant<Bits<16>>,
    c_rxq: Constant<Bits<16>>,
    c_q_dlo: Constant<Bits<6>>,
    c_q_dhi: Constant<Bits<6>>,
    c_q_clo: Constant<Bits<6>>,
    c_q_chi: Constant<Bits<6>>,
    c_q_ctrl: Constant<Bits<6>>,
    c_q_prod: Constant<Bits<6>>,
    c_q_cons: Constant<Bits<6>>,
    c_q_cnt: Constant<Bits<6>>,
    c_cnt_count: Constant<Bits<16>>,
    c_cnt_first: Constant<Bits<16>>,
    c_rx_first_cnt: Constant<Bits<16>>,
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
            ext_we: Default::default(),
            ext_waddr: Default::default(),
            ext_wdata: Default::default(),
            ext_rdata: Default::default(),
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
            bvalid_r: Default::default(),
            bresp_r: Default::default(),
            rvalid_r: Default::default(),
            rdata_r: Default::default(),
            wsel_q: Default::default(),
            wreg_q: Default::default(),
            rsel_q: Default::default(),
            rreg_q: Default::default(),
            rd: Default::default(),
            do_write: Default::default(),
            widx: Default::default(),
            ridx: Default::default(),
            sh: Default::default(),
            cv: Default::default(),
            c_one8: Constant::new(1u64.into()),
            c_ones32: Constant::new(0xFFFF_FFFFu64.into()),
            c_key_top: c16(288),
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
            c_maxframe: c16(MAX_FRAME as u32),
            c_rss_base: c16(r::RSS_BASE),
            c_q_base: c16(r::QUEUES_BASE),
            c_cnt_base: c16(r::COUNTERS_BASE),
            c_id_device: c16(r::ID_BASE + r::ID_DEVICE),
            c_id_hwver: c16(r::ID_BASE + r::ID_HW_VERSION),
            c_id_caps: c16(r::ID_BASE + r::ID_CAPS),
            c_id_ctrl: c16(r::ID_BASE + r::ID_CTRL),
            c_id_maxf: c16(r::ID_BASE + r::ID_MAX_FRAME),
            c_id_scratch: c16(r::ID_BASE + r::ID_SCRATCH),
            c_rss_ctrl: c16(r::RSS_BASE + r::RSS_CTRL),
            c_rss_key: c16(r::RSS_BASE + r::RSS_KEY),
            c_rss_table: c16(r::RSS_BASE + r::RSS_TABLE),
            c_q_count: c16(r::QUEUES_BASE + r::QUEUES_COUNT),
            c_txq: c16(r::TXQ_BASE),
            c_setup_base: c16(r::SETUP_BASE),
            c_setup_end: c16(r::SETUP_BASE + 0x100),
            c_rxq: c16(r::RXQ_BASE),
            c_q_dlo: Constant::new((r::Q_DESC_LO as u64).into()),
            c_q_dhi: Constant::new((r::Q_DESC_HI as u64).into()),
            c_q_clo: Constant::new((r::Q_CPL_LO as u64).into()),
            c_q_chi: Constant::new((r::Q_CPL_HI as u64).into()),
            c_q_ctrl: Constant::new((r::Q_CTRL as u64).into()),
            c_q_prod: Constant::new((r::Q_PROD as u64).into()),
            c_q_cons: Constant::new((r::Q_CONS as u64).into()),
            c_q_cnt: Constant::new((r::Q_PKTS_LO as u64).into()),
            c_cnt_count: c16(r::COUNTERS_BASE + r::CNT_COUNT),
            c_cnt_first: c16(r::COUNTERS_BASE + r::CNT_FIRST),
            c_rx_first_cnt: c16(r::NUM_COUNTERS),
        }
    }
}

impl Logic for RegFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ctrl, maxf, scratch, rssctl, key, ind_tbl, dbase, cbase, qctl, qprod,
            qrst, hi_snap, bvalid_r, bresp_r, rvalid_r, rdata_r
        );
        for i in 0..NUM_CNT {
            self.cnt[i].clock.next = self.clock.val();
            self.cnt[i].d.next = self.cnt[i].q.val();
        }
        // Counter events.
        for i in 0..24 {
            if self.cnt_inc.val().get_bit(i) {
                self.cnt[i].d.next = self.cnt[i].q.val() + 1;
            }
        }
        for q in 0..4 {
            if self.rxq_evt.val() && (self.rxq_id.val().index() == q) {
                self.cnt[24 + 2 * q].d.next = self.cnt[24 + 2 * q].q.val() + 1;
                self.cnt[25 + 2 * q].d.next =
                    self.cnt[25 + 2 * q].q.val() + bit_cast::<64, 16>(self.rxq_len.val());
            }
            if self.txq_evt.val() && (self.txq_id.val().index() == q) {
                self.cnt[32 + 2 * q].d.next = self.cnt[32 + 2 * q].q.val() + 1;
                self.cnt[33 + 2 * q].d.next =
                    self.cnt[33 + 2 * q].q.val() + bit_cast::<64, 16>(self.txq_len.val());
            }
        }
        // ---------------------------------------------------------- writes
        self.awready.next = self.awvalid.val() && self.wvalid.val() && !self.bvalid_r.q.val();
        self.wready.next = self.awvalid.val() && self.wvalid.val() && !self.bvalid_r.q.val();
        self.do_write.next = self.awvalid.val()
            && self.wvalid.val()
            && !self.bvalid_r.q.val()
            && (self.wstrb.val() == 15);
        self.qrst.d.next = 0.into();
        if self.bvalid_r.q.val() && self.bready.val() {
            self.bvalid_r.d.next = false;
        }
        if self.awvalid.val() && self.wvalid.val() && !self.bvalid_r.q.val() {
            self.bvalid_r.d.next = true;
            self.bresp_r.d.next = 0.into();
            if self.wstrb.val() != 15 {
                self.bresp_r.d.next = 2.into();
            }
        }
        // Queue window decode: 0x1000 TX, 0x2000 RX, bits 7:6 queue, 5:0 register.
        self.wsel_q.next = bit_cast::<3, 16>((self.awaddr.val() >> 6) & 3);
        if (self.awaddr.val() & 0xF000) == self.c_rxq.val() {
            self.wsel_q.next = bit_cast::<3, 16>(((self.awaddr.val() >> 6) & 3) + 4);
        }
        self.wreg_q.next = bit_cast::<6, 16>(self.awaddr.val() & 0x3F);
        self.widx.next = 0.into();
        self.sh.next = 0.into();
        self.ext_we.next = self.do_write.val()
            && (self.awaddr.val() >= self.c_setup_base.val())
            && (self.awaddr.val() < self.c_setup_end.val());
        self.ext_waddr.next = self.awaddr.val() - self.c_setup_base.val();
        self.ext_wdata.next = self.wdata.val();
        if self.do_write.val() {
            if self.awaddr.val() == self.c_id_ctrl.val() {
                self.ctrl.d.next = self.wdata.val();
            }
            if self.awaddr.val() == self.c_id_maxf.val() {
                self.maxf.d.next = bit_cast::<16, 32>(self.wdata.val());
            }
            if self.awaddr.val() == self.c_id_scratch.val() {
                self.scratch.d.next = self.wdata.val();
            }
            if self.awaddr.val() == self.c_rss_ctrl.val() {
                self.rssctl.d.next = self.wdata.val().get_bit(0);
            }
            if (self.awaddr.val() >= self.c_rss_key.val())
                && (self.awaddr.val() < self.c_rss_table.val())
            {
                self.widx.next = (self.awaddr.val() - self.c_rss_key.val()) >> 2;
                if self.widx.val() < 10 {
                    self.sh.next = self.c_key_top.val() - (self.widx.val() << 5);
                    self.key.d.next = (self.key.q.val()
                        & !(bit_cast::<320, 32>(self.c_ones32.val()) << self.sh.val()))
                        | (bit_cast::<320, 32>(self.wdata.val()) << self.sh.val());
                }
            }
            if (self.awaddr.val() >= self.c_rss_table.val())
                && (self.awaddr.val() < self.c_q_base.val())
            {
                self.widx.next = (self.awaddr.val() - self.c_rss_table.val()) >> 2;
                self.sh.next = self.widx.val() << 1;
                self.ind_tbl.d.next = (self.ind_tbl.q.val()
                    & !(bit_cast::<128, 2>(3.into()) << self.sh.val()))
                    | (bit_cast::<128, 32>(self.wdata.val() & 3) << self.sh.val());
            }
            if (((self.awaddr.val() & 0xF000) == self.c_txq.val())
                || ((self.awaddr.val() & 0xF000) == self.c_rxq.val()))
                && ((self.awaddr.val() & 0x0F00) == 0)
            {
                self.sh.next = bit_cast::<16, 3>(self.wsel_q.val()) << 6;
                if self.wreg_q.val() == self.c_q_dlo.val() {
                    self.dbase.d.next = (self.dbase.q.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << self.sh.val()))
                        | (bit_cast::<512, 32>(self.wdata.val()) << self.sh.val());
                }
                if self.wreg_q.val() == self.c_q_clo.val() {
                    self.cbase.d.next = (self.cbase.q.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << self.sh.val()))
                        | (bit_cast::<512, 32>(self.wdata.val()) << self.sh.val());
                }
                if self.wreg_q.val() == self.c_q_dhi.val() {
                    self.sh.next = (bit_cast::<16, 3>(self.wsel_q.val()) << 6) + 32;
                    self.dbase.d.next = (self.dbase.q.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << self.sh.val()))
                        | (bit_cast::<512, 32>(self.wdata.val()) << self.sh.val());
                }
                if self.wreg_q.val() == self.c_q_chi.val() {
                    self.sh.next = (bit_cast::<16, 3>(self.wsel_q.val()) << 6) + 32;
                    self.cbase.d.next = (self.cbase.q.val()
                        & !(bit_cast::<512, 32>(self.c_ones32.val()) << self.sh.val()))
                        | (bit_cast::<512, 32>(self.wdata.val()) << self.sh.val());
                }
                if self.wreg_q.val() == self.c_q_ctrl.val() {
                    self.sh.next = bit_cast::<16, 3>(self.wsel_q.val()) << 3;
                    self.qctl.d.next = (self.qctl.q.val()
                        & !(bit_cast::<64, 8>(0xFF.into()) << self.sh.val()))
                        | (bit_cast::<64, 32>(
                            (self.wdata.val() & 0xF) | ((self.wdata.val() >> 27) & 0x10),
                        ) << self.sh.val());
                    if self.wdata.val().get_bit(31) {
                        self.qrst.d.next = self.c_one8.val() << self.wsel_q.val();
                        self.qprod.d.next = self.qprod.q.val()
                            & !(bit_cast::<128, 32>(self.c_ones32.val() & 0xFFFF)
                                << (bit_cast::<16, 3>(self.wsel_q.val()) << 4));
                    }
                }
                if self.wreg_q.val() == self.c_q_prod.val() {
                    self.sh.next = bit_cast::<16, 3>(self.wsel_q.val()) << 4;
                    self.qprod.d.next = (self.qprod.q.val()
                        & !(bit_cast::<128, 32>(self.c_ones32.val() & 0xFFFF) << self.sh.val()))
                        | (bit_cast::<128, 32>(self.wdata.val() & 0xFFFF) << self.sh.val());
                }
            }
        }
        // ---------------------------------------------------------- reads
        self.arready.next = !self.rvalid_r.q.val();
        if self.rvalid_r.q.val() && self.rready.val() {
            self.rvalid_r.d.next = false;
        }
        self.rsel_q.next = bit_cast::<3, 16>((self.araddr.val() >> 6) & 3);
        if (self.araddr.val() & 0xF000) == self.c_rxq.val() {
            self.rsel_q.next = bit_cast::<3, 16>(((self.araddr.val() >> 6) & 3) + 4);
        }
        self.rreg_q.next = bit_cast::<6, 16>(self.araddr.val() & 0x3F);
        self.rd.next = 0.into();
        self.ridx.next = 0.into();
        self.cv.next = 0.into();
        // Block headers: type, version, next.
        if self.araddr.val() == 0 {
            self.rd.next = self.c_t_id.val();
        }
        if self.araddr.val() == 4 {
            self.rd.next = self.c_v_id.val();
        }
        if self.araddr.val() == 8 {
            self.rd.next = bit_cast::<32, 16>(self.c_rss_base.val());
        }
        if self.araddr.val() == self.c_rss_base.val() {
            self.rd.next = self.c_t_rss.val();
        }
        if self.araddr.val() == self.c_rss_base.val() + 4 {
            self.rd.next = self.c_v_rss.val();
        }
        if self.araddr.val() == self.c_rss_base.val() + 8 {
            self.rd.next = bit_cast::<32, 16>(self.c_q_base.val());
        }
        if self.araddr.val() == self.c_q_base.val() {
            self.rd.next = self.c_t_q.val();
        }
        if self.araddr.val() == self.c_q_base.val() + 4 {
            self.rd.next = self.c_v_q.val();
        }
        if self.araddr.val() == self.c_q_base.val() + 8 {
            self.rd.next = bit_cast::<32, 16>(self.c_cnt_base.val());
        }
        if self.araddr.val() == self.c_cnt_base.val() {
            self.rd.next = self.c_t_cnt.val();
        }
        if self.araddr.val() == self.c_cnt_base.val() + 4 {
            self.rd.next = self.c_v_cnt.val();
        }
        if self.araddr.val() == self.c_cnt_base.val() + 8 {
            self.rd.next = bit_cast::<32, 16>(self.c_setup_base.val());
        }
        if (self.araddr.val() >= self.c_setup_base.val())
            && (self.araddr.val() < self.c_setup_end.val())
        {
            self.rd.next = self.ext_rdata.val();
        }
        if self.araddr.val() == self.c_id_device.val() {
            self.rd.next = self.c_device.val();
        }
        if self.araddr.val() == self.c_id_hwver.val() {
            self.rd.next = self.c_hwver.val();
        }
        if self.araddr.val() == self.c_id_caps.val() {
            self.rd.next = self.c_caps.val();
        }
        if self.araddr.val() == self.c_id_ctrl.val() {
            self.rd.next = self.ctrl.q.val();
        }
        if self.araddr.val() == self.c_id_maxf.val() {
            self.rd.next = bit_cast::<32, 16>(self.maxf.q.val());
        }
        if self.araddr.val() == self.c_id_scratch.val() {
            self.rd.next = self.scratch.q.val();
        }
        if self.araddr.val() == self.c_rss_ctrl.val() {
            self.rd.next = bit_cast::<32, 1>(self.rssctl.q.val().into());
        }
        if self.araddr.val() == self.c_q_count.val() {
            self.rd.next = self.c_nq.val();
        }
        if self.araddr.val() == self.c_cnt_count.val() {
            self.rd.next = self.c_ncnt.val();
        }
        if (self.araddr.val() >= self.c_rss_key.val())
            && (self.araddr.val() < self.c_rss_table.val())
        {
            self.ridx.next = (self.araddr.val() - self.c_rss_key.val()) >> 2;
            if self.ridx.val() < 10 {
                self.rd.next = bit_cast::<32, 320>(
                    self.key.q.val() >> (self.c_key_top.val() - (self.ridx.val() << 5)),
                );
            }
        }
        if (self.araddr.val() >= self.c_rss_table.val())
            && (self.araddr.val() < self.c_q_base.val())
        {
            self.ridx.next = (self.araddr.val() - self.c_rss_table.val()) >> 2;
            self.rd.next =
                bit_cast::<32, 128>((self.ind_tbl.q.val() >> (self.ridx.val() << 1)) & 3);
        }
        // Global counters: LO at first + 8i, HI at +4; reading LO latches HI.
        if (self.araddr.val() >= self.c_cnt_first.val())
            && (self.araddr.val() < self.c_setup_base.val())
        {
            self.ridx.next = (self.araddr.val() - self.c_cnt_first.val()) >> 3;
            for i in 0..24 {
                if self.ridx.val().index() == i {
                    if self.araddr.val().get_bit(2) {
                        self.rd.next = self.hi_snap.q.val();
                    } else {
                        self.cv.next = self.cnt[i].q.val();
                        self.rd.next = bit_cast::<32, 64>(self.cv.val());
                    }
                }
            }
        }
        if (((self.araddr.val() & 0xF000) == self.c_txq.val())
            || ((self.araddr.val() & 0xF000) == self.c_rxq.val()))
            && ((self.araddr.val() & 0x0F00) == 0)
        {
            self.sh.next = bit_cast::<16, 3>(self.rsel_q.val()) << 6;
            if self.rreg_q.val() == self.c_q_dlo.val() {
                self.rd.next = bit_cast::<32, 512>(self.dbase.q.val() >> self.sh.val());
            }
            if self.rreg_q.val() == self.c_q_dhi.val() {
                self.rd.next = bit_cast::<32, 512>(self.dbase.q.val() >> (self.sh.val() + 32));
            }
            if self.rreg_q.val() == self.c_q_clo.val() {
                self.rd.next = bit_cast::<32, 512>(self.cbase.q.val() >> self.sh.val());
            }
            if self.rreg_q.val() == self.c_q_chi.val() {
                self.rd.next = bit_cast::<32, 512>(self.cbase.q.val() >> (self.sh.val() + 32));
            }
            if self.rreg_q.val() == self.c_q_ctrl.val() {
                self.rd.next =
                    bit_cast::<32, 64>((self.qctl.q.val() >> (self.sh.val() >> 3)) & 0xF)
                        | (bit_cast::<32, 64>((self.qctl.q.val() >> (self.sh.val() >> 3)) & 0x10)
                            << 27);
            }
            if self.rreg_q.val() == self.c_q_prod.val() {
                self.rd.next =
                    bit_cast::<32, 128>((self.qprod.q.val() >> (self.sh.val() >> 2)) & 0xFFFF);
            }
            if self.rreg_q.val() == self.c_q_cons.val() {
                self.rd.next =
                    bit_cast::<32, 128>((self.cons.val() >> (self.sh.val() >> 2)) & 0xFFFF);
            }
            // Per-queue counters: RX queue q uses counters 24+2q (packets) and
            // 25+2q (bytes), TX queue q 32+2q and 33+2q.
            for q in 0..4 {
                if self.rsel_q.val().index() == q {
                    if self.rreg_q.val() == self.c_q_cnt.val() {
                        self.cv.next = self.cnt[32 + 2 * q].q.val();
                        self.rd.next = bit_cast::<32, 64>(self.cv.val());
                    }
                    if self.rreg_q.val() == self.c_q_cnt.val() + 8 {
                        self.cv.next = self.cnt[33 + 2 * q].q.val();
                        self.rd.next = bit_cast::<32, 64>(self.cv.val());
                    }
                }
                if self.rsel_q.val().index() == q + 4 {
                    if self.rreg_q.val() == self.c_q_cnt.val() {
                        self.cv.next = self.cnt[24 + 2 * q].q.val();
                        self.rd.next = bit_cast::<32, 64>(self.cv.val());
                    }
                    if self.rreg_q.val() == self.c_q_cnt.val() + 8 {
                        self.cv.next = self.cnt[25 + 2 * q].q.val();
                        self.rd.next = bit_cast::<32, 64>(self.cv.val());
                    }
                }
            }
            if (self.rreg_q.val() == self.c_q_cnt.val() + 4)
                || (self.rreg_q.val() == self.c_q_cnt.val() + 12)
            {
                self.rd.next = self.hi_snap.q.val();
            }
        }
        if self.arvalid.val() && !self.rvalid_r.q.val() {
            self.rvalid_r.d.next = true;
            self.rdata_r.d.next = self.rd.val();
            // Reading a counter's LO word latches its HI word.
            if (self.araddr.val() >= self.c_cnt_first.val())
                && (self.araddr.val() < self.c_setup_base.val())
            {
                for i in 0..24 {
                    if self.ridx.val().index() == i {
                        self.cv.next = self.cnt[i].q.val();
                        self.hi_snap.d.next = bit_cast::<32, 64>(self.cv.val() >> 32);
                    }
                }
            }
            if (self.rreg_q.val() == self.c_q_cnt.val())
                || (self.rreg_q.val() == self.c_q_cnt.val() + 8)
            {
                for q in 0..4 {
                    if self.rsel_q.val().index() == q {
                        if self.rreg_q.val() == self.c_q_cnt.val() {
                            self.cv.next = self.cnt[32 + 2 * q].q.val();
                            self.hi_snap.d.next = bit_cast::<32, 64>(self.cv.val() >> 32);
                        } else {
                            self.cv.next = self.cnt[33 + 2 * q].q.val();
                            self.hi_snap.d.next = bit_cast::<32, 64>(self.cv.val() >> 32);
                        }
                    }
                    if self.rsel_q.val().index() == q + 4 {
                        if self.rreg_q.val() == self.c_q_cnt.val() {
                            self.cv.next = self.cnt[24 + 2 * q].q.val();
                            self.hi_snap.d.next = bit_cast::<32, 64>(self.cv.val() >> 32);
                        } else {
                            self.cv.next = self.cnt[25 + 2 * q].q.val();
                            self.hi_snap.d.next = bit_cast::<32, 64>(self.cv.val() >> 32);
                        }
                    }
                }
            }
        }
        self.rvalid.next = self.rvalid_r.q.val();
        self.rdata.next = self.rdata_r.q.val();
        self.rresp.next = 0.into();
        self.bvalid.next = self.bvalid_r.q.val();
        self.bresp.next = self.bresp_r.q.val();
        // ---------------------------------------------------------- outputs
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
        // ---------------------------------------------------------- reset
        if self.rst.val() {
            self.ctrl.d.next = 0.into();
            self.maxf.d.next = self.c_maxframe.val();
            self.scratch.d.next = 0.into();
            self.rssctl.d.next = false;
            self.qrst.d.next = 0.into();
            self.bvalid_r.d.next = false;
            self.rvalid_r.d.next = false;
            self.key.d.next = 0.into();
            self.ind_tbl.d.next = 0.into();
            self.dbase.d.next = 0.into();
            self.cbase.d.next = 0.into();
            self.qctl.d.next = 0.into();
            self.qprod.d.next = 0.into();
            for i in 0..NUM_CNT {
                self.cnt[i].d.next = 0.into();
            }
        }
    }
}
