//! TX stream: turns the read data of each tagged descriptor into one
//! AXI4-Stream frame (tkeep from the length), then hands its completion to
//! the coalescer and counts it.  Rejected descriptors complete with
//! CPL_ERROR without data.  Completion order equals descriptor order.
use crate::common::stream::{FrameOut, PushIn, PushOut};
use rust_hdl::prelude::*;
use toe_contract::desc as d;
use toe_contract::regs::Counter;

// 256 tags: enough reads in flight to cover a 1 us (250-cycle) read latency.
crate::declare_clear_fifo!(TxTagFifo, Bits<51>, 256, 4);

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

#[derive(LogicBlock)]
pub struct TxStream {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub qreset: Signal<In, Bits<4>>,
    /// Frame tags from `TxSched`.
    pub tag_in: PushIn<51>,
    pub r_valid: Signal<In, Bit>,
    pub r_data: Signal<In, Bits<512>>,
    pub r_ready: Signal<Out, Bit>,
    /// The host's frames, to the TX arbiter; `o.flags` are the descriptor's
    /// checksum flags (bit 0 IPv4, bit 1 TCP), valid with every beat.
    pub o: FrameOut,
    /// Completion requests, to the coalescer.
    pub req: PushOut<275>,
    pub cnt_inc: Signal<Out, Bits<16>>,
    pub q_evt: Signal<Out, Bit>,
    pub q_id: Signal<Out, Bits<2>>,
    pub q_len: Signal<Out, Bits<16>>,
    pub cons: Signal<Out, Bits<64>>,
    tags: TxTagFifo,
    bcnt: DFF<Bits<16>>,
    /// The completion request, registered (the coalescer's request FIFO is
    /// written a cycle after the frame's last beat; its almost-full margin
    /// of two covers the request held here).
    req_v: DFF<Bit>,
    req_word: DFF<Bits<275>>,
    qcons: [DFF<Bits<16>>; 4],
    tag: Signal<Local, Bits<51>>,
    err: Signal<Local, Bit>,
    len: Signal<Local, Bits<16>>,
    tq: Signal<Local, Bits<2>>,
    is_last: Signal<Local, Bit>,
    hs: Signal<Local, Bit>,
    done: Signal<Local, Bit>,
    rword: Signal<Local, Bits<275>>,
    c_one64: Constant<Bits<64>>,
    c_ones64: Constant<Bits<64>>,
    c_kind: Constant<Bits<256>>,
    c_err: Constant<Bits<256>>,
    c_len: Constant<Bits<16>>,
    n_bad: Constant<Bits<16>>,
    n_tx: Constant<Bits<16>>,
}

impl Default for TxStream {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            qreset: Default::default(),
            tag_in: Default::default(),
            r_valid: Default::default(),
            r_data: Default::default(),
            r_ready: Default::default(),
            o: Default::default(),
            req: Default::default(),
            cnt_inc: Default::default(),
            q_evt: Default::default(),
            q_id: Default::default(),
            q_len: Default::default(),
            cons: Default::default(),
            tags: Default::default(),
            bcnt: Default::default(),
            req_v: Default::default(),
            req_word: Default::default(),
            qcons: array_init::array_init(|_| Default::default()),
            tag: Default::default(),
            err: Default::default(),
            len: Default::default(),
            tq: Default::default(),
            is_last: Default::default(),
            hs: Default::default(),
            done: Default::default(),
            rword: Default::default(),
            c_one64: k(1),
            c_ones64: k(u64::MAX),
            c_kind: Constant::new(Bits::<256>::from(d::KIND_TX as u64) << (d::CPL_KIND_BIT as u64)),
            c_err: Constant::new(
                Bits::<256>::from(d::CPL_ERROR as u64) << (d::CPL_FLAGS_BIT as u64),
            ),
            c_len: k(d::CPL_LEN_BIT as u64),
            n_bad: k(1 << Counter::TxBadDescriptor as u64),
            n_tx: k(1 << Counter::TxFrames as u64),
        }
    }
}

impl Logic for TxStream {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, bcnt, req_v, req_word);
        clock!(self, clock, tags);
        self.tags.clear.next = self.rst.val();
        for q in 0..4 {
            self.qcons[q].clock.next = self.clock.val();
            self.qcons[q].d.next = self.qcons[q].q.val();
        }
        self.tags.write.next = self.tag_in.write.val();
        self.tags.data_in.next = self.tag_in.data.val();
        self.tag_in.full.next = self.tags.almost_full.val();
        self.tag.next = self.tags.data_out.val();
        self.tq.next = bit_cast::<2, 51>(self.tag.val());
        self.len.next = bit_cast::<16, 51>(self.tag.val() >> 18);
        self.err.next = self.tag.val().get_bit(50);
        self.is_last.next = self.bcnt.q.val() + 1 == ((self.len.val() + 63) >> 6);
        // Data beats
        self.r_ready.next = !self.tags.empty.val()
            && !self.err.val()
            && self.o.ready.val()
            && !(self.is_last.val() && self.req.full.val());
        self.o.valid.next = self.r_valid.val()
            && !self.tags.empty.val()
            && !self.err.val()
            && !(self.is_last.val() && self.req.full.val());
        self.hs.next = self.r_valid.val()
            && !self.tags.empty.val()
            && !self.err.val()
            && self.o.ready.val()
            && !(self.is_last.val() && self.req.full.val());
        self.o.data.next = self.r_data.val();
        self.o.last.next = self.is_last.val();
        self.o.flags.next = bit_cast::<2, 51>(self.tag.val() >> 34);
        self.o.keep.next = self.c_ones64.val();
        if self.is_last.val() && ((self.len.val() & 63) != 0) {
            self.o.keep.next = (self.c_one64.val() << (self.len.val() & 63)) - 1;
        }
        if self.hs.val() {
            self.bcnt.d.next = self.bcnt.q.val() + 1;
        }
        // A frame (or a rejected descriptor) completes.
        self.done.next = (self.hs.val() && self.is_last.val())
            || (!self.tags.empty.val() && self.err.val() && !self.req.full.val());
        self.tags.read.next = self.done.val();
        self.req_v.d.next = self.done.val();
        self.rword.next = bit_cast::<275, 256>(
            (bit_cast::<256, 16>(self.len.val()) << self.c_len.val()) | self.c_kind.val(),
        ) | (bit_cast::<275, 2>(self.tq.val()) << 256)
            | (bit_cast::<275, 16>(bit_cast::<16, 51>(self.tag.val() >> 2)) << 259);
        if self.err.val() {
            self.rword.next = self.rword.val() | bit_cast::<275, 256>(self.c_err.val());
        }
        self.req_word.d.next = self.rword.val();
        self.req.write.next = self.req_v.q.val();
        self.req.data.next = self.req_word.q.val();
        self.cnt_inc.next = 0.into();
        self.q_evt.next = false;
        self.q_id.next = self.tq.val();
        self.q_len.next = self.len.val();
        if self.done.val() {
            self.bcnt.d.next = 0.into();
            for q in 0..4 {
                if self.tq.val().index() == q {
                    self.qcons[q].d.next = self.qcons[q].q.val() + 1;
                }
            }
            if self.err.val() {
                self.cnt_inc.next = self.n_bad.val();
            } else {
                self.cnt_inc.next = self.n_tx.val();
                self.q_evt.next = true;
            }
        }
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
            self.bcnt.d.next = 0.into();
            self.req_v.d.next = false;
            self.req_word.d.next = 0.into();
            for q in 0..4 {
                self.qcons[q].d.next = 0.into();
            }
        }
    }
}
