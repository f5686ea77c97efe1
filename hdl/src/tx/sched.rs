//! TX scheduler: round-robin over the TX queues with cached descriptors,
//! validates each descriptor and issues the AXI read bursts for its frame
//! (split at 4 KiB boundaries), one burst per cycle.  A tag per descriptor
//! (also for rejected ones) tells `TxStream` what the returning data is.
use rust_hdl::prelude::*;

/// Tag: queue (1:0), index (17:2), length (33:18), flags (49:34), error (50).
pub const TAG_BITS: usize = 51;

#[derive(LogicBlock, Default)]
pub struct TxSched {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub desc: Signal<In, Bits<512>>,
    pub desc_valid: Signal<In, Bits<4>>,
    pub desc_pop: Signal<Out, Bits<4>>,
    /// TX queue control, 8 bits per queue (bit 4 enable).
    pub qctl: Signal<In, Bits<32>>,
    pub qreset: Signal<In, Bits<4>>,
    pub ar_valid: Signal<Out, Bit>,
    pub ar_addr: Signal<Out, Bits<64>>,
    pub ar_len: Signal<Out, Bits<8>>,
    pub ar_ready: Signal<In, Bit>,
    pub tag_write: Signal<Out, Bit>,
    pub tag_data: Signal<Out, Bits<51>>,
    pub tag_full: Signal<In, Bit>,
    rr: DFF<Bits<2>>,
    /// A read offered and not yet accepted stays (AXI): its queue.
    ar_hold: DFF<Bit>,
    ar_hold_q: DFF<Bits<2>>,
    lock_q: DFF<Bits<2>>,
    done: DFF<Bits<16>>,
    qidx: [DFF<Bits<16>>; 4],
    avail: Signal<Local, Bits<4>>,
    sel: Signal<Local, Bits<2>>,
    c1: Signal<Local, Bits<2>>,
    c2: Signal<Local, Bits<2>>,
    c3: Signal<Local, Bits<2>>,
    found: Signal<Local, Bit>,
    head: Signal<Local, Bits<128>>,
    addr: Signal<Local, Bits<64>>,
    len: Signal<Local, Bits<16>>,
    flags: Signal<Local, Bits<16>>,
    bad: Signal<Local, Bit>,
    beats: Signal<Local, Bits<16>>,
    rem: Signal<Local, Bits<16>>,
    cur: Signal<Local, Bits<64>>,
    to4k: Signal<Local, Bits<16>>,
    blen: Signal<Local, Bits<16>>,
    idx: Signal<Local, Bits<16>>,
    finish: Signal<Local, Bit>,
    room: Signal<Local, Bit>,
}

impl Logic for TxSched {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rr, ar_hold, ar_hold_q, lock_q, done);
        for q in 0..4 {
            self.qidx[q].clock.next = self.clock.val();
            self.qidx[q].d.next = self.qidx[q].q.val();
        }
        self.avail.next = self.desc_valid.val()
            & ((bit_cast::<4, 32>(self.qctl.val() >> 4) & 1)
                | (bit_cast::<4, 32>(self.qctl.val() >> 11) & 2)
                | (bit_cast::<4, 32>(self.qctl.val() >> 18) & 4)
                | (bit_cast::<4, 32>(self.qctl.val() >> 25) & 8));
        self.found.next = false;
        self.sel.next = 0.into();
        // Candidates rr, rr+1, rr+2, rr+3 as 2-bit signals: in Verilog
        // `rr + k` inside a shift amount would not wrap at 4.
        self.c1.next = self.rr.q.val() + 1;
        self.c2.next = self.rr.q.val() + 2;
        self.c3.next = self.rr.q.val() + 3;
        if ((self.avail.val() >> self.c3.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c3.val();
        }
        if ((self.avail.val() >> self.c2.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c2.val();
        }
        if ((self.avail.val() >> self.c1.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c1.val();
        }
        if ((self.avail.val() >> self.rr.q.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.rr.q.val();
        }
        if self.ar_hold.q.val() {
            self.found.next = true;
            self.sel.next = self.ar_hold_q.q.val();
        }
        // Mid-frame: stay on the queue whose frame is being issued.
        if self.done.q.val() != 0 {
            self.found.next = true;
            self.sel.next = self.lock_q.q.val();
        }
        self.head.next =
            bit_cast::<128, 512>(self.desc.val() >> (bit_cast::<10, 2>(self.sel.val()) << 7));
        self.addr.next = bit_cast::<64, 128>(self.head.val());
        self.len.next = bit_cast::<16, 128>(self.head.val() >> 64);
        self.flags.next = bit_cast::<16, 128>(self.head.val() >> 80);
        self.bad.next = ((self.flags.val() >> 12) != 0)
            || (self.len.val() < 14)
            || (self.len.val() > 9018)
            || ((self.addr.val() & 63) != 0);
        self.beats.next = (self.len.val() + 63) >> 6;
        self.rem.next = self.beats.val() - self.done.q.val();
        self.cur.next = self.addr.val() + (bit_cast::<64, 16>(self.done.q.val()) << 6);
        self.to4k.next = (4096 - bit_cast::<16, 64>(self.cur.val() & 4095)) >> 6;
        self.blen.next = self.rem.val();
        if self.to4k.val() < self.rem.val() {
            self.blen.next = self.to4k.val();
        }
        self.idx.next = 0.into();
        for q in 0..4 {
            if self.sel.val().index() == q {
                self.idx.next = self.qidx[q].q.val();
            }
        }
        // While holding an offered address, the (lagging) almost-full flag is
        // ignored: its margin leaves room for the held request.
        self.room.next = !self.tag_full.val() || self.ar_hold.q.val();
        self.ar_valid.next = self.found.val() && !self.bad.val() && self.room.val();
        self.ar_addr.next = self.cur.val();
        self.ar_len.next = bit_cast::<8, 16>(self.blen.val() - 1);
        self.ar_hold.d.next =
            self.found.val() && !self.bad.val() && self.room.val() && !self.ar_ready.val();
        self.ar_hold_q.d.next = self.sel.val();
        self.finish.next = false;
        if self.found.val() && self.room.val() {
            if self.bad.val() {
                self.finish.next = true;
            } else if self.ar_ready.val() {
                if self.blen.val() == self.rem.val() {
                    self.finish.next = true;
                } else {
                    self.done.d.next = self.done.q.val() + self.blen.val();
                    self.lock_q.d.next = self.sel.val();
                }
            }
        }
        self.desc_pop.next = 0.into();
        self.tag_write.next = self.finish.val();
        self.tag_data.next = bit_cast::<51, 2>(self.sel.val())
            | (bit_cast::<51, 16>(self.idx.val()) << 2)
            | (bit_cast::<51, 16>(self.len.val()) << 18)
            | (bit_cast::<51, 16>(self.flags.val()) << 34)
            | (bit_cast::<51, 1>(self.bad.val().into()) << 50);
        if self.finish.val() {
            self.desc_pop.next = bit_cast::<4, 2>(1.into()) << self.sel.val();
            self.done.d.next = 0.into();
            self.rr.d.next = self.sel.val() + 1;
            for q in 0..4 {
                if self.sel.val().index() == q {
                    self.qidx[q].d.next = self.qidx[q].q.val() + 1;
                }
            }
        }
        for q in 0..4 {
            if self.qreset.val().get_bit(q) {
                self.qidx[q].d.next = 0.into();
            }
        }
        if self.rst.val() {
            self.rr.d.next = 0.into();
            self.ar_hold.d.next = false;
            self.done.d.next = 0.into();
            for q in 0..4 {
                self.qidx[q].d.next = 0.into();
            }
        }
    }
}
