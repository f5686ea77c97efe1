//! DMA write engine: owns the AXI write channels.  It moves each received
//! frame from the data FIFO into the next RX buffer of the queue RSS chose
//! (bursts split at 4 KiB boundaries, W beats sent with or ahead of AW),
//! counts drops by reason, hands the completion to the coalescer, and
//! writes completion lines.  A new frame starts in the cycle the previous
//! one ends, so one-beat frames move at one per cycle between completion
//! lines.
use rust_hdl::prelude::*;
use toe_contract::desc as d;
use toe_contract::regs::Counter;

// States (kernels need literals): 0 idle, 1 frame, 2 drain, 3 completion line.

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

#[derive(LogicBlock)]
pub struct DmaWrite {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub meta_empty: Signal<In, Bit>,
    pub meta: Signal<In, Bits<262>>,
    pub meta_pop: Signal<Out, Bit>,
    pub data_empty: Signal<In, Bit>,
    pub data: Signal<In, Bits<513>>,
    pub data_pop: Signal<Out, Bit>,
    /// RX descriptor cache heads (128 bits per queue) and pops.
    pub desc: Signal<In, Bits<512>>,
    pub desc_valid: Signal<In, Bits<4>>,
    pub desc_pop: Signal<Out, Bits<4>>,
    /// RX queue control, 8 bits per queue (bit 4 enable).
    pub qctl: Signal<In, Bits<32>>,
    pub qreset: Signal<In, Bits<4>>,
    /// Completion indices per RX queue (16 bits each).
    pub cons: Signal<Out, Bits<64>>,
    // Coalescer
    pub req: Signal<Out, Bit>,
    pub req_data: Signal<Out, Bits<275>>,
    pub req_full: Signal<In, Bit>,
    pub line_valid: Signal<In, Bit>,
    pub line_urgent: Signal<In, Bit>,
    pub line_addr: Signal<In, Bits<64>>,
    pub line_data: Signal<In, Bits<512>>,
    pub line_strb: Signal<In, Bits<64>>,
    pub line_take: Signal<Out, Bit>,
    // AXI write address and data
    pub aw_valid: Signal<Out, Bit>,
    pub aw_addr: Signal<Out, Bits<64>>,
    pub aw_len: Signal<Out, Bits<8>>,
    pub aw_ready: Signal<In, Bit>,
    pub w_valid: Signal<Out, Bit>,
    pub w_data: Signal<Out, Bits<512>>,
    pub w_strb: Signal<Out, Bits<64>>,
    pub w_last: Signal<Out, Bit>,
    pub w_ready: Signal<In, Bit>,
    // Counter events
    pub cnt_inc: Signal<Out, Bits<16>>,
    pub q_evt: Signal<Out, Bit>,
    pub q_id: Signal<Out, Bits<2>>,
    pub q_len: Signal<Out, Bits<16>>,
    st: DFF<Bits<2>>,
    cur_addr: DFF<Bits<64>>,
    left: DFF<Bits<16>>,
    bcur: DFF<Bits<16>>,
    blen: DFF<Bits<16>>,
    aw_done: DFF<Bit>,
    w_done: DFF<Bit>,
    last_strb: DFF<Bits<64>>,
    cur_q: DFF<Bits<2>>,
    cur_idx: DFF<Bits<16>>,
    cur_cpl: DFF<Bits<256>>,
    cur_len: DFF<Bits<16>>,
    qcons: [DFF<Bits<16>>; 4],
    // scratch
    aw_hs: Signal<Local, Bit>,
    w_hs: Signal<Local, Bit>,
    nblen: Signal<Local, Bits<16>>,
    nleft: Signal<Local, Bits<16>>,
    naw: Signal<Local, Bit>,
    fin: Signal<Local, Bit>,
    taking: Signal<Local, Bit>,
    naddr: Signal<Local, Bits<64>>,
    to4k: Signal<Local, Bits<16>>,
    mq: Signal<Local, Bits<2>>,
    mlen: Signal<Local, Bits<16>>,
    mreason: Signal<Local, Bits<4>>,
    mdesc: Signal<Local, Bits<128>>,
    beats: Signal<Local, Bits<16>>,
    inc: Signal<Local, Bits<16>>,
    c_len: Constant<Bits<16>>,
    c_rxring: Constant<Bits<275>>,
    c_flags: Constant<Bits<16>>,
    c_one64: Constant<Bits<64>>,
    c_one16: Constant<Bits<16>>,
    c_ones64: Constant<Bits<64>>,
    r_csum: Constant<Bits<4>>,
    r_l4: Constant<Bits<4>>,
    n_ipbad: Constant<Bits<16>>,
    n_tcpbad: Constant<Bits<16>>,
    n_disabled: Constant<Bits<16>>,
    n_nobuf: Constant<Bits<16>>,
    n_small: Constant<Bits<16>>,
    f_ipbad: Constant<Bits<16>>,
    f_tcpbad: Constant<Bits<16>>,
}

impl Default for DmaWrite {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            meta_empty: Default::default(),
            meta: Default::default(),
            meta_pop: Default::default(),
            data_empty: Default::default(),
            data: Default::default(),
            data_pop: Default::default(),
            desc: Default::default(),
            desc_valid: Default::default(),
            desc_pop: Default::default(),
            qctl: Default::default(),
            qreset: Default::default(),
            cons: Default::default(),
            req: Default::default(),
            req_data: Default::default(),
            req_full: Default::default(),
            line_valid: Default::default(),
            line_urgent: Default::default(),
            line_addr: Default::default(),
            line_data: Default::default(),
            line_strb: Default::default(),
            line_take: Default::default(),
            aw_valid: Default::default(),
            aw_addr: Default::default(),
            aw_len: Default::default(),
            aw_ready: Default::default(),
            w_valid: Default::default(),
            w_data: Default::default(),
            w_strb: Default::default(),
            w_last: Default::default(),
            w_ready: Default::default(),
            cnt_inc: Default::default(),
            q_evt: Default::default(),
            q_id: Default::default(),
            q_len: Default::default(),
            st: Default::default(),
            cur_addr: Default::default(),
            left: Default::default(),
            bcur: Default::default(),
            blen: Default::default(),
            aw_done: Default::default(),
            w_done: Default::default(),
            last_strb: Default::default(),
            cur_q: Default::default(),
            cur_idx: Default::default(),
            cur_cpl: Default::default(),
            cur_len: Default::default(),
            qcons: array_init::array_init(|_| Default::default()),
            aw_hs: Default::default(),
            w_hs: Default::default(),
            nblen: Default::default(),
            nleft: Default::default(),
            naw: Default::default(),
            fin: Default::default(),
            taking: Default::default(),
            naddr: Default::default(),
            to4k: Default::default(),
            mq: Default::default(),
            mlen: Default::default(),
            mreason: Default::default(),
            mdesc: Default::default(),
            beats: Default::default(),
            inc: Default::default(),
            c_len: k(d::CPL_LEN_BIT as u64),
            // RX rings are coalescer rings 4..7.
            c_rxring: Constant::new(Bits::<275>::from(1u64) << 258u64),
            c_flags: k(d::CPL_FLAGS_BIT as u64),
            c_one64: k(1),
            c_one16: k(1),
            c_ones64: k(u64::MAX),
            r_csum: k(super::parse::REASON_CSUM),
            r_l4: k(Counter::RxDropMalformedL4 as u64),
            n_ipbad: k(1 << Counter::RxBadIpCsum as u64),
            n_tcpbad: k(1 << Counter::RxBadTcpCsum as u64),
            n_disabled: k(1 << Counter::RxDropQueueDisabled as u64),
            n_nobuf: k(1 << Counter::RxDropNoBuffer as u64),
            n_small: k(1 << Counter::RxDropBufferTooSmall as u64),
            f_ipbad: k(d::CPL_IP_CSUM_BAD as u64),
            f_tcpbad: k(d::CPL_TCP_CSUM_BAD as u64),
        }
    }
}

impl Logic for DmaWrite {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, st, cur_addr, left, bcur, blen, aw_done, w_done, last_strb, cur_q,
            cur_idx, cur_cpl, cur_len
        );
        for q in 0..4 {
            self.qcons[q].clock.next = self.clock.val();
            self.qcons[q].d.next = self.qcons[q].q.val();
        }
        // Defaults
        self.meta_pop.next = false;
        self.data_pop.next = false;
        self.desc_pop.next = 0.into();
        self.req.next = false;
        self.req_data.next = bit_cast::<275, 256>(self.cur_cpl.q.val())
            | (bit_cast::<275, 2>(self.cur_q.q.val()) << 256)
            | self.c_rxring.val()
            | (bit_cast::<275, 16>(self.cur_idx.q.val()) << 259);
        self.line_take.next = false;
        self.aw_valid.next = false;
        self.aw_addr.next = self.cur_addr.q.val();
        self.aw_len.next = bit_cast::<8, 16>(self.bcur.q.val() - 1);
        self.w_valid.next = false;
        self.w_data.next = bit_cast::<512, 513>(self.data.val());
        self.w_strb.next = self.c_ones64.val();
        self.w_last.next = false;
        self.inc.next = 0.into();
        self.q_evt.next = false;
        self.q_id.next = self.cur_q.q.val();
        self.q_len.next = self.cur_len.q.val();
        self.fin.next = false;
        self.taking.next = false;
        self.nblen.next = self.blen.q.val();
        self.nleft.next = self.left.q.val();
        self.naw.next = self.aw_done.q.val();
        self.naddr.next = self.cur_addr.q.val();
        self.to4k.next = 0.into();
        self.aw_hs.next = false;
        self.w_hs.next = false;
        if self.st.q.val() == 0 {
            self.fin.next = true;
        }
        if self.st.q.val() == 1 {
            self.aw_valid.next = !self.aw_done.q.val();
            self.w_valid.next = (self.blen.q.val() != 0) && !self.data_empty.val();
            self.w_last.next = self.blen.q.val() == 1;
            if self.left.q.val() == 1 {
                self.w_strb.next = self.last_strb.q.val();
            }
            self.aw_hs.next = !self.aw_done.q.val() && self.aw_ready.val();
            self.w_hs.next =
                (self.blen.q.val() != 0) && !self.data_empty.val() && self.w_ready.val();
            self.data_pop.next = self.w_hs.val();
            if self.w_hs.val() {
                self.nblen.next = self.blen.q.val() - 1;
                self.nleft.next = self.left.q.val() - 1;
            }
            self.naw.next = self.aw_done.q.val() || self.aw_hs.val();
            self.blen.d.next = self.nblen.val();
            self.left.d.next = self.nleft.val();
            self.aw_done.d.next = self.naw.val();
            if (self.nblen.val() == 0) && self.naw.val() {
                if self.nleft.val() == 0 {
                    // Frame written: hand over its completion.
                    self.fin.next = true;
                    self.req.next = true;
                    self.q_evt.next = true;
                } else {
                    // Next burst, up to the next 4 KiB boundary.
                    self.naddr.next =
                        self.cur_addr.q.val() + (bit_cast::<64, 16>(self.bcur.q.val()) << 6);
                    self.to4k.next = (4096 - bit_cast::<16, 64>(self.naddr.val() & 4095)) >> 6;
                    self.cur_addr.d.next = self.naddr.val();
                    self.bcur.d.next = self.nleft.val();
                    if self.to4k.val() < self.nleft.val() {
                        self.bcur.d.next = self.to4k.val();
                    }
                    self.blen.d.next = self.bcur.d.val();
                    self.aw_done.d.next = false;
                }
            }
        }
        if self.st.q.val() == 2 {
            self.data_pop.next = !self.data_empty.val();
            if !self.data_empty.val() && self.data.val().get_bit(512) {
                self.fin.next = true;
            }
        }
        if self.st.q.val() == 3 {
            self.aw_valid.next = !self.aw_done.q.val();
            self.aw_addr.next = self.line_addr.val();
            self.aw_len.next = 0.into();
            self.w_valid.next = !self.w_done.q.val();
            self.w_data.next = self.line_data.val();
            self.w_strb.next = self.line_strb.val();
            self.w_last.next = true;
            self.aw_hs.next = !self.aw_done.q.val() && self.aw_ready.val();
            self.w_hs.next = !self.w_done.q.val() && self.w_ready.val();
            self.aw_done.d.next = self.aw_done.q.val() || self.aw_hs.val();
            self.w_done.d.next = self.w_done.q.val() || self.w_hs.val();
            if (self.aw_done.q.val() || self.aw_hs.val())
                && (self.w_done.q.val() || self.w_hs.val())
            {
                self.line_take.next = true;
                self.taking.next = true;
                self.fin.next = true;
            }
        }
        // Decide what comes next.
        self.mq.next = bit_cast::<2, 262>(self.meta.val() >> 260);
        self.mreason.next = bit_cast::<4, 262>(self.meta.val() >> 256);
        self.mlen.next = bit_cast::<16, 262>(self.meta.val() >> self.c_len.val());
        self.mdesc.next =
            bit_cast::<128, 512>(self.desc.val() >> (bit_cast::<10, 2>(self.mq.val()) << 7));
        self.beats.next = (self.mlen.val() + 63) >> 6;
        if self.fin.val() {
            self.st.d.next = 0.into();
            if self.line_valid.val()
                && !self.taking.val()
                && (self.line_urgent.val() || self.meta_empty.val())
            {
                self.st.d.next = 3.into();
                self.aw_done.d.next = false;
                self.w_done.d.next = false;
            } else if !self.meta_empty.val() && !self.req_full.val() {
                self.meta_pop.next = true;
                self.st.d.next = 2.into();
                // Checksum counters (a frame dropped for a malformed header
                // earlier than the check does not count).
                if (self.mreason.val() == 0)
                    || (self.mreason.val() == self.r_csum.val())
                    || (self.mreason.val() == self.r_l4.val())
                {
                    if (bit_cast::<16, 262>(self.meta.val() >> self.c_flags.val())
                        & self.f_ipbad.val())
                        != 0
                    {
                        self.inc.next = self.inc.val() | self.n_ipbad.val();
                    }
                }
                if (self.mreason.val() == 0) || (self.mreason.val() == self.r_csum.val()) {
                    if (bit_cast::<16, 262>(self.meta.val() >> self.c_flags.val())
                        & self.f_tcpbad.val())
                        != 0
                    {
                        self.inc.next = self.inc.val() | self.n_tcpbad.val();
                    }
                }
                if self.mreason.val() != 0 {
                    if self.mreason.val() != self.r_csum.val() {
                        self.inc.next = self.inc.val() | (self.c_one16.val() << self.mreason.val());
                    }
                } else if !self
                    .qctl
                    .val()
                    .get_bit(bit_cast::<8, 2>(self.mq.val()).index() * 8 + 4)
                {
                    self.inc.next = self.inc.val() | self.n_disabled.val();
                } else if !self.desc_valid.val().get_bit(self.mq.val().index()) {
                    self.inc.next = self.inc.val() | self.n_nobuf.val();
                } else if bit_cast::<32, 128>(self.mdesc.val() >> 64)
                    < bit_cast::<32, 16>(self.mlen.val())
                {
                    self.inc.next = self.inc.val() | self.n_small.val();
                } else {
                    self.st.d.next = 1.into();
                    self.desc_pop.next = bit_cast::<4, 2>(1.into()) << self.mq.val();
                    self.cur_q.d.next = self.mq.val();
                    self.cur_len.d.next = self.mlen.val();
                    self.cur_cpl.d.next = bit_cast::<256, 262>(self.meta.val());
                    self.cur_addr.d.next = bit_cast::<64, 128>(self.mdesc.val());
                    self.left.d.next = self.beats.val();
                    self.to4k.next = (4096 - bit_cast::<16, 128>(self.mdesc.val() & 4095)) >> 6;
                    self.bcur.d.next = self.beats.val();
                    self.blen.d.next = self.beats.val();
                    if self.to4k.val() < self.beats.val() {
                        self.bcur.d.next = self.to4k.val();
                        self.blen.d.next = self.to4k.val();
                    }
                    self.aw_done.d.next = false;
                    self.last_strb.d.next = self.c_ones64.val();
                    if (self.mlen.val() & 63) != 0 {
                        self.last_strb.d.next = (self.c_one64.val() << (self.mlen.val() & 63)) - 1;
                    }
                    for q in 0..4 {
                        if self.mq.val().index() == q {
                            self.cur_idx.d.next = self.qcons[q].q.val();
                            self.qcons[q].d.next = self.qcons[q].q.val() + 1;
                        }
                    }
                }
            }
        }
        self.cnt_inc.next = self.inc.val();
        self.cons.next = bit_cast::<64, 16>(self.qcons[0].q.val())
            | (bit_cast::<64, 16>(self.qcons[1].q.val()) << 16)
            | (bit_cast::<64, 16>(self.qcons[2].q.val()) << 32)
            | (bit_cast::<64, 16>(self.qcons[3].q.val()) << 48);
        for q in 0..4 {
            if self.qreset.val().get_bit(q) {
                self.qcons[q].d.next = 0.into();
            }
        }
        if self.rst.val() {
            self.st.d.next = 0.into();
            for q in 0..4 {
                self.qcons[q].d.next = 0.into();
            }
        }
    }
}
