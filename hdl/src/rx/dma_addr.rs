//! RX DMA, address stage: decides what each frame becomes (written to the
//! next buffer of its queue, or dropped and counted), issues the AXI write
//! addresses (bursts split at 4 KiB), and queues one job per burst for the
//! data stage (`DmaData`).  It also issues the writes of completion lines.
//! Running ahead of the data stage lets a one-beat frame's address go out
//! while the previous frame's data is still moving, so frames of one beat
//! move at one per cycle between completion lines.
//!
//! Three steps, each starting at flip-flops (docs/timing.md):
//!
//! 1. **Windows.**  The head of the metadata FIFO and the head descriptor
//!    of each RX queue's cache are taken into register slices
//!    ([`RegSlice`]), so the FIFOs' pops depend on the slices' registered
//!    `in_ready` only.
//! 2. **Decide.**  The frame at the head of the metadata window is decided
//!    (deliver to its queue's head buffer, wait for a buffer that is being
//!    fetched, or drop and count) and taken into the issue register `r_*`
//!    with everything the issue step needs.  The windows are popped one
//!    cycle later from registers (`pop_meta`, `pop_desc`); in between, the
//!    decision reads the word after the taken one (`next_data`), so frames
//!    are still decided at one per cycle.
//! 3. **Issue.**  The frame in the issue register (or the rest of a frame
//!    that crosses 4 KiB, or a completion line) gets its AXI write address
//!    and job.
//!
//! Job (`JOB_BITS`): kind (1:0: 0 frame burst, 1 drop, 2 completion line),
//! last burst of the frame (2), beats of this burst (11:3), last-beat strobe
//! (75:12), completion request for the coalescer (350:76), queue (352:351),
//! length (368:353), line data (880:369).  A completion line job carries its
//! strobe in the strobe field.
use crate::common::reg_slice::RegSlice;
use crate::common::stream::{FifoIn, HeadsIn, PushOut};
use rust_hdl::prelude::*;
use toe_contract::desc as d;
use toe_contract::regs::Counter;

pub const JOB_BITS: usize = 881;

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

#[derive(LogicBlock)]
pub struct DmaAddr {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Frame metadata from `RxPath`; its head is taken into the window
    /// (`meta.pop`).
    pub meta: FifoIn<262>,
    /// The RX descriptor caches' heads (`DescFetch`); a queue's head
    /// descriptor is taken into its window (`desc.pop`).
    pub desc: HeadsIn<4, 512>,
    /// RX queue control, 8 bits per queue (bit 4 enable).
    pub qctl: Signal<In, Bits<32>>,
    /// RX producer indices (the host's doorbells), 16 bits per queue.
    pub prod: Signal<In, Bits<64>>,
    pub qreset: Signal<In, Bits<4>>,
    /// Descriptors consumed per RX queue (16 bits each).
    pub cons: Signal<Out, Bits<64>>,
    pub line_valid: Signal<In, Bit>,
    pub line_urgent: Signal<In, Bit>,
    pub line_addr: Signal<In, Bits<64>>,
    pub line_data: Signal<In, Bits<512>>,
    pub line_strb: Signal<In, Bits<64>>,
    pub line_take: Signal<Out, Bit>,
    pub aw_valid: Signal<Out, Bit>,
    pub aw_addr: Signal<Out, Bits<64>>,
    pub aw_len: Signal<Out, Bits<8>>,
    pub aw_ready: Signal<In, Bit>,
    /// Write jobs, to `DmaData`.
    pub job: PushOut<881>,
    /// The offered completion line may be written by an idle engine (with
    /// no frame decided) even if only half full.  The coalescer offers only
    /// such lines today, so top.rs drives this from `line_valid`; it stays
    /// its own input because the decision folded onto `line_valid` maps one
    /// LUT level deeper (7, `cargo xtask depth`, 2026-12-07: the take and
    /// the job's data through the issue kind).
    pub line_aged: Signal<In, Bit>,
    /// RX completion requests held by the coalescer, and a new one being
    /// made by the data stage this cycle.
    pub cpl_level: Signal<In, Bits<6>>,
    pub cpl_req: Signal<In, Bit>,
    pub cnt_inc: Signal<Out, Bits<16>>,
    /// Step 1: the windows onto the metadata FIFO and the descriptor caches.
    meta_win: RegSlice<262>,
    desc_win: [RegSlice<128>; 4],
    /// Pops of the windows, registered (taken in the cycle before).
    pop_meta: DFF<Bit>,
    pop_desc: DFF<Bits<4>>,
    /// Step 2 -> 3: the decided frame.  `r_job` is its job less the burst
    /// fields (beats, last burst): strobe, completion request, queue,
    /// length.  `r_to4k` is the beats from its buffer address to the next
    /// 4 KiB boundary.
    r_valid: DFF<Bit>,
    r_deliver: DFF<Bit>,
    r_addr: DFF<Bits<64>>,
    r_beats: DFF<Bits<16>>,
    r_to4k: DFF<Bits<16>>,
    r_job: DFF<Bits<369>>,
    /// Descriptors consumed per queue (the completion's ring index).
    qcons: [DFF<Bits<16>>; 4],
    /// Delivered frames whose completion request the data stage has not
    /// made yet.  A frame is only delivered while the coalescer has room
    /// for its completion on top of all of these, so the data stage never
    /// waits for the coalescer (which drains through this same job FIFO:
    /// waiting there could deadlock).  `took` and `cancel` are this
    /// count's increments and decrements from the cycle before; `room` is
    /// registered, compared one lower than the limit since one more frame
    /// may be taken meanwhile.
    inflight: DFF<Bits<6>>,
    took: DFF<Bit>,
    cancel: DFF<Bit>,
    room: DFF<Bit>,
    outstanding: Signal<Local, Bits<7>>,
    /// Counter increments, registered.
    cnt_r: DFF<Bits<16>>,
    // Step 3: the current multi-burst frame.
    busy: DFF<Bit>,
    /// An address offered and not yet accepted must stay (AXI): what it was
    /// (0 none, 1 frame, 2 completion line, 3 further burst).
    hold: DFF<Bits<2>>,
    cur_addr: DFF<Bits<64>>,
    rem: DFF<Bits<16>>,
    cur_job: DFF<Bits<369>>,
    // Step 2 scratch: the frame at the head of the metadata window and the
    // head descriptor of its queue.
    m_valid: Signal<Local, Bit>,
    m_meta: Signal<Local, Bits<262>>,
    mq: Signal<Local, Bits<2>>,
    mlen: Signal<Local, Bits<16>>,
    mreason: Signal<Local, Bits<4>>,
    mdesc: Signal<Local, Bits<128>>,
    m_dvalid: Signal<Local, Bit>,
    m_enabled: Signal<Local, Bit>,
    mprod: Signal<Local, Bits<16>>,
    idx: Signal<Local, Bits<16>>,
    strb: Signal<Local, Bits<64>>,
    req: Signal<Local, Bits<275>>,
    deliver: Signal<Local, Bit>,
    /// The head frame's buffer is posted but its descriptor not yet fetched:
    /// the frame waits (in the RX FIFO) instead of being dropped.
    buf_wait: Signal<Local, Bit>,
    r_free: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    inc: Signal<Local, Bits<16>>,
    // Step 3 scratch.
    r_done: Signal<Local, Bit>,
    addr: Signal<Local, Bits<64>>,
    left: Signal<Local, Bits<16>>,
    to4k: Signal<Local, Bits<16>>,
    split: Signal<Local, Bit>,
    blen: Signal<Local, Bits<16>>,
    go: Signal<Local, Bit>,
    kind: Signal<Local, Bits<2>>,
    c_cpljob: Constant<Bits<881>>,
    c_len: Constant<Bits<16>>,
    c_flags: Constant<Bits<16>>,
    c_one64: Constant<Bits<64>>,
    c_one16: Constant<Bits<16>>,
    /// Beats in a 4 KiB page.
    c_page: Constant<Bits<16>>,
    c_ones64: Constant<Bits<64>>,
    c_rxring: Constant<Bits<275>>,
    r_elsewhere: Constant<Bits<4>>,
    r_l4: Constant<Bits<4>>,
    n_ipbad: Constant<Bits<16>>,
    n_tcpbad: Constant<Bits<16>>,
    n_disabled: Constant<Bits<16>>,
    n_nobuf: Constant<Bits<16>>,
    n_small: Constant<Bits<16>>,
    f_ipbad: Constant<Bits<16>>,
    f_tcpbad: Constant<Bits<16>>,
}

impl Default for DmaAddr {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            meta: Default::default(),
            desc: Default::default(),
            qctl: Default::default(),
            prod: Default::default(),
            qreset: Default::default(),
            cons: Default::default(),
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
            job: Default::default(),
            line_aged: Default::default(),
            cpl_level: Default::default(),
            cpl_req: Default::default(),
            cnt_inc: Default::default(),
            meta_win: Default::default(),
            desc_win: array_init::array_init(|_| Default::default()),
            pop_meta: Default::default(),
            pop_desc: Default::default(),
            r_valid: Default::default(),
            r_deliver: Default::default(),
            r_addr: Default::default(),
            r_beats: Default::default(),
            r_to4k: Default::default(),
            r_job: Default::default(),
            qcons: array_init::array_init(|_| Default::default()),
            inflight: Default::default(),
            took: Default::default(),
            cancel: Default::default(),
            room: Default::default(),
            outstanding: Default::default(),
            cnt_r: Default::default(),
            busy: Default::default(),
            hold: Default::default(),
            cur_addr: Default::default(),
            rem: Default::default(),
            cur_job: Default::default(),
            m_valid: Default::default(),
            m_meta: Default::default(),
            mq: Default::default(),
            mlen: Default::default(),
            mreason: Default::default(),
            mdesc: Default::default(),
            m_dvalid: Default::default(),
            m_enabled: Default::default(),
            mprod: Default::default(),
            idx: Default::default(),
            strb: Default::default(),
            req: Default::default(),
            deliver: Default::default(),
            buf_wait: Default::default(),
            r_free: Default::default(),
            take: Default::default(),
            inc: Default::default(),
            r_done: Default::default(),
            addr: Default::default(),
            left: Default::default(),
            to4k: Default::default(),
            split: Default::default(),
            blen: Default::default(),
            go: Default::default(),
            kind: Default::default(),
            // Completion line job: kind 2, one beat.
            c_cpljob: Constant::new((2u64 | 1 << 3).into()),
            c_len: k(d::CPL_LEN_BIT as u64),
            c_flags: k(d::CPL_FLAGS_BIT as u64),
            c_one64: k(1),
            c_one16: k(1),
            c_page: k(4096 / 64),
            c_ones64: k(u64::MAX),
            // RX rings are coalescer rings 4..7.
            c_rxring: Constant::new(Bits::<275>::from(1u64) << 258u64),
            r_elsewhere: k(super::parse::REASON_COUNTED_ELSEWHERE),
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

impl Logic for DmaAddr {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, pop_meta, pop_desc, r_valid, r_deliver, r_addr, r_beats, r_to4k, r_job,
            inflight, took, cancel, room, cnt_r, busy, hold, cur_addr, rem, cur_job
        );
        clock!(self, clock, meta_win);
        for q in 0..4 {
            self.qcons[q].clock.next = self.clock.val();
            self.qcons[q].d.next = self.qcons[q].q.val();
            self.desc_win[q].clock.next = self.clock.val();
        }
        // ------------------------------------------------ 1: windows
        self.meta_win.rst.next = self.rst.val();
        self.meta_win.in_valid.next = !self.meta.empty.val();
        self.meta_win.in_data.next = self.meta.data.val();
        self.meta.pop.next = !self.meta.empty.val() && self.meta_win.in_ready.val();
        self.meta_win.out_ready.next = self.pop_meta.q.val();
        self.desc.pop.next = 0.into();
        for q in 0..4 {
            // A queue reset empties its window (its cache empties too).
            self.desc_win[q].rst.next = self.rst.val() || self.qreset.val().get_bit(q);
            self.desc_win[q].in_valid.next = self.desc.valid.val().get_bit(q);
            self.desc_win[q].in_data.next = self.desc.data.val().get_bits::<128>(128 * q);
            self.desc.pop.next = self.desc.pop.val().replace_bit(
                q,
                self.desc.valid.val().get_bit(q) && self.desc_win[q].in_ready.val(),
            );
            self.desc_win[q].out_ready.next = self.pop_desc.q.val().get_bit(q);
        }
        // ------------------------------------------------ 3: issue (first: the
        // decision reads whether the issue register frees)
        self.line_take.next = false;
        self.job.write.next = false;
        self.r_done.next = false;
        self.cancel.d.next = false;
        // The burst to issue: the rest of the current frame (it starts on
        // a 4 KiB boundary, or its frame fits below the next one), or the
        // first burst of the decided frame.
        // `split`: the burst ends at a 4 KiB boundary and more follow.  A
        // further burst starts on a boundary (the one before ended there;
        // buffers are BUF_ALIGN aligned), so it has a whole page before the
        // next: compared with registered counts only, not through the
        // current address.
        self.addr.next = self.r_addr.q.val();
        self.left.next = self.r_beats.q.val();
        self.to4k.next = self.r_to4k.q.val();
        self.split.next = self.r_to4k.q.val() < self.r_beats.q.val();
        if self.busy.q.val() {
            self.addr.next = self.cur_addr.q.val();
            self.left.next = self.rem.q.val();
            self.to4k.next = self.c_page.val();
            self.split.next = self.rem.q.val() > self.c_page.val();
        }
        self.blen.next = self.left.val();
        if self.split.val() {
            self.blen.next = self.to4k.val();
        }
        self.aw_valid.next = false;
        self.aw_addr.next = self.addr.val();
        self.aw_len.next = bit_cast::<8, 16>(self.blen.val() - 1);
        self.job.data.next = bit_cast::<881, 369>(self.cur_job.q.val());
        self.go.next = false;
        // What to do this cycle (held while an offered address waits).
        // A completion line goes when it is urgent (full, in the way of a
        // request, or another waits behind it), or with no frame waiting.
        // The coalescer offers its lines from a register slice, so the take
        // decided here reaches only that slice.
        self.kind.next = 0.into();
        if !self.job.full.val() {
            if self.busy.q.val() {
                self.kind.next = 3.into();
            } else if self.line_valid.val()
                && (self.line_urgent.val() || (!self.r_valid.q.val() && self.line_aged.val()))
            {
                self.kind.next = 2.into();
            } else if self.r_valid.q.val() {
                self.kind.next = 1.into();
            }
        }
        if self.hold.q.val() != 0 {
            self.kind.next = self.hold.q.val();
        }
        self.hold.d.next = 0.into();
        if self.kind.val() == 3 {
            // Further bursts of a frame that crosses 4 KiB boundaries.
            self.aw_valid.next = true;
            self.go.next = self.aw_ready.val();
            if !self.aw_ready.val() {
                self.hold.d.next = 3.into();
            }
            self.job.data.next = bit_cast::<881, 369>(self.cur_job.q.val())
                | bit_cast::<881, 16>(self.blen.val() << 3);
            if !self.split.val() {
                self.job.data.next = self.job.data.val() | 4;
            }
        } else if self.kind.val() == 2 {
            // A completion line: one beat.
            self.aw_valid.next = true;
            self.aw_addr.next = self.line_addr.val();
            self.aw_len.next = 0.into();
            self.job.data.next = self.c_cpljob.val()
                | (bit_cast::<881, 64>(self.line_strb.val()) << 12)
                | (bit_cast::<881, 512>(self.line_data.val()) << 369);
            if self.aw_ready.val() {
                self.job.write.next = true;
                self.line_take.next = true;
            } else {
                self.hold.d.next = 2.into();
            }
        } else if self.kind.val() == 1 {
            if self.r_deliver.q.val() {
                self.aw_valid.next = true;
                self.go.next = self.aw_ready.val();
                self.r_done.next = self.aw_ready.val();
                self.job.data.next = bit_cast::<881, 369>(self.r_job.q.val())
                    | bit_cast::<881, 16>(self.blen.val() << 3);
                if !self.split.val() {
                    self.job.data.next = self.job.data.val() | 4;
                }
                if !self.aw_ready.val() {
                    self.hold.d.next = 1.into();
                }
            } else {
                // Dropped: the data stage discards the frame's beats.
                self.job.data.next = 1.into();
                self.job.write.next = true;
                self.r_done.next = true;
            }
        }
        if self.go.val() {
            self.job.write.next = true;
            // Read only while busy, that is after a split burst: the next
            // page and what is left after it.
            self.busy.d.next = self.split.val();
            self.cur_addr.d.next = ((self.addr.val() >> 12) + 1) << 12;
            self.rem.d.next = self.left.val() - self.to4k.val();
            if !self.busy.q.val() {
                self.cur_job.d.next = self.r_job.q.val();
            }
        }
        // ------------------------------------------------ 2: decide
        // The frame at the head of the metadata window (the one after the
        // frame taken in the cycle before, if that one is still shown).
        self.m_valid.next = self.meta_win.out_valid.val();
        self.m_meta.next = self.meta_win.out_data.val();
        if self.pop_meta.q.val() {
            self.m_valid.next = self.meta_win.next_valid.val();
            self.m_meta.next = self.meta_win.next_data.val();
        }
        self.mq.next = self.m_meta.val().get_bits::<2>(260);
        self.mreason.next = self.m_meta.val().get_bits::<4>(256);
        self.mlen.next = bit_cast::<16, 262>(self.m_meta.val() >> self.c_len.val());
        // Its queue's head descriptor, likewise, and the queue's state.
        self.mdesc.next = 0.into();
        self.m_dvalid.next = false;
        self.idx.next = 0.into();
        self.mprod.next = 0.into();
        self.m_enabled.next = false;
        for q in 0..4 {
            if self.mq.val().index() == q {
                self.mdesc.next = self.desc_win[q].out_data.val();
                self.m_dvalid.next = self.desc_win[q].out_valid.val();
                if self.pop_desc.q.val().get_bit(q) {
                    self.mdesc.next = self.desc_win[q].next_data.val();
                    self.m_dvalid.next = self.desc_win[q].next_valid.val();
                }
                self.idx.next = self.qcons[q].q.val();
                self.mprod.next = self.prod.val().get_bits::<16>(16 * q);
                // A queue being reset this cycle takes no frame.
                self.m_enabled.next =
                    self.qctl.val().get_bit(8 * q + 4) && !self.qreset.val().get_bit(q);
            }
        }
        self.strb.next = self.c_ones64.val();
        if (self.mlen.val() & 63) != 0 {
            self.strb.next = (self.c_one64.val() << (self.mlen.val() & 63)) - 1;
        }
        self.req.next = bit_cast::<275, 256>(self.m_meta.val().get_bits::<256>(0))
            | (bit_cast::<275, 2>(self.mq.val()) << 256)
            | self.c_rxring.val()
            | (bit_cast::<275, 16>(self.idx.val()) << 259);
        self.deliver.next = (self.mreason.val() == 0)
            && self.m_enabled.val()
            && self.m_dvalid.val()
            && (self.mdesc.val().get_bits::<32>(64) >= bit_cast::<32, 16>(self.mlen.val()));
        // A frame that will be delivered once its queue's descriptor cache
        // catches up with the host's doorbell waits for it (about one host
        // memory read) rather than being dropped for want of a buffer.
        self.buf_wait.next = (self.mreason.val() == 0)
            && self.m_enabled.val()
            && !self.m_dvalid.val()
            && (self.mprod.val() != self.idx.val());
        // The issue register is free, or frees in this cycle (step 3).
        self.r_free.next = !self.r_valid.q.val() || self.r_done.val();
        self.take.next =
            self.r_free.val() && self.m_valid.val() && !self.buf_wait.val() && self.room.q.val();
        self.pop_meta.d.next = self.take.val();
        self.pop_desc.d.next = 0.into();
        self.inc.next = 0.into();
        if self.take.val() {
            self.r_valid.d.next = true;
            self.r_deliver.d.next = self.deliver.val();
            self.r_addr.d.next = self.mdesc.val().get_bits::<64>(0);
            self.r_beats.d.next = (self.mlen.val() + 63) >> 6;
            self.r_to4k.d.next =
                (4096 - bit_cast::<16, 64>(self.mdesc.val().get_bits::<64>(0) & 4095)) >> 6;
            self.r_job.d.next = (bit_cast::<369, 64>(self.strb.val()) << 12)
                | (bit_cast::<369, 275>(self.req.val()) << 76)
                | (bit_cast::<369, 2>(self.mq.val()) << 351)
                | (bit_cast::<369, 16>(self.mlen.val()) << 353);
            // Count checksum verdicts (a frame dropped for an earlier
            // malformed header does not count).
            if (self.mreason.val() == 0)
                || (self.mreason.val() == self.r_elsewhere.val())
                || (self.mreason.val() == self.r_l4.val())
            {
                if (bit_cast::<16, 262>(self.m_meta.val() >> self.c_flags.val())
                    & self.f_ipbad.val())
                    != 0
                {
                    self.inc.next = self.inc.val() | self.n_ipbad.val();
                }
            }
            if (self.mreason.val() == 0) || (self.mreason.val() == self.r_elsewhere.val()) {
                if (bit_cast::<16, 262>(self.m_meta.val() >> self.c_flags.val())
                    & self.f_tcpbad.val())
                    != 0
                {
                    self.inc.next = self.inc.val() | self.n_tcpbad.val();
                }
            }
            if self.deliver.val() {
                self.pop_desc.d.next = bit_cast::<4, 2>(1.into()) << self.mq.val();
                for q in 0..4 {
                    if self.mq.val().index() == q {
                        self.qcons[q].d.next = self.qcons[q].q.val() + 1;
                    }
                }
            } else if self.mreason.val() != 0 {
                // Dropped: the data stage discards the frame's beats.
                if self.mreason.val() != self.r_elsewhere.val() {
                    self.inc.next = self.inc.val() | (self.c_one16.val() << self.mreason.val());
                }
            } else if !self.m_enabled.val() {
                self.inc.next = self.inc.val() | self.n_disabled.val();
            } else if !self.m_dvalid.val() {
                self.inc.next = self.inc.val() | self.n_nobuf.val();
            } else {
                self.inc.next = self.inc.val() | self.n_small.val();
            }
        } else if self.r_done.val() {
            self.r_valid.d.next = false;
        }
        self.took.d.next = self.take.val() && self.deliver.val();
        // A queue reset before its decided frame's address is offered turns
        // the frame into a drop (its buffer belongs to the reset queue).
        if self.r_valid.q.val()
            && self.r_deliver.q.val()
            && (self.kind.val() != 1)
            && self
                .qreset
                .val()
                .get_bit(self.r_job.q.val().get_bits::<2>(351).index())
        {
            self.r_deliver.d.next = false;
            self.cancel.d.next = true;
            self.inc.next = self.inc.val() | self.n_disabled.val();
        }
        self.cnt_r.d.next = self.inc.val();
        self.cnt_inc.next = self.cnt_r.q.val();
        self.cons.next = bit_cast::<64, 16>(self.qcons[0].q.val())
            | (bit_cast::<64, 16>(self.qcons[1].q.val()) << 16)
            | (bit_cast::<64, 16>(self.qcons[2].q.val()) << 32)
            | (bit_cast::<64, 16>(self.qcons[3].q.val()) << 48);
        for q in 0..4 {
            if self.qreset.val().get_bit(q) {
                self.qcons[q].d.next = 0.into();
            }
        }
        // The count of delivered frames without a completion request
        // (`took`/`cancel` from the cycle before; `took` and `cancel` never
        // come together), and the room for one more.
        if self.took.q.val() && !self.cpl_req.val() {
            self.inflight.d.next = self.inflight.q.val() + 1;
        }
        if !self.took.q.val() && self.cancel.q.val() && self.cpl_req.val() {
            self.inflight.d.next = self.inflight.q.val() - 2;
        }
        if !self.took.q.val() && (self.cancel.q.val() != self.cpl_req.val()) {
            self.inflight.d.next = self.inflight.q.val() - 1;
        }
        self.outstanding.next =
            bit_cast::<7, 6>(self.cpl_level.val()) + bit_cast::<7, 6>(self.inflight.q.val());
        if self.took.q.val() {
            self.outstanding.next = self.outstanding.val() + 1;
        }
        self.room.d.next = self.outstanding.val() < 27;
        if self.rst.val() {
            self.pop_meta.d.next = false;
            self.pop_desc.d.next = 0.into();
            self.r_valid.d.next = false;
            self.inflight.d.next = 0.into();
            self.took.d.next = false;
            self.cancel.d.next = false;
            self.room.d.next = false;
            self.cnt_r.d.next = 0.into();
            self.busy.d.next = false;
            self.hold.d.next = 0.into();
            for q in 0..4 {
                self.qcons[q].d.next = 0.into();
            }
        }
    }
}
