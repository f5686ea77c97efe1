//! Descriptor fetcher for four queues of one direction.
//!
//! Per queue it compares the host's producer index with its fetch index and
//! reads descriptors one 64-byte beat (four 16-byte descriptors) at a time
//! into a per-queue cache FIFO.  Many beats may be outstanding: a per-queue
//! credit counter reserves cache space at issue, so the cache never
//! overflows, and a tag FIFO remembers where each outstanding beat goes.
//! Returned beats are unpacked one descriptor per cycle from a holding
//! register, so the shared R channel is held for one cycle per beat.
use rust_hdl::prelude::*;

/// Cached descriptors per queue.
pub const CACHE: usize = 256;
crate::declare_clear_fifo!(DescCache, Bits<128>, 256, 1);
// Tag: queue (1:0), first slot in the beat (3:2), count (6:4).
crate::declare_clear_fifo!(FetchTags, Bits<7>, 64, 4);
// Returned beats with their tag, unpacked one descriptor per cycle off the R
// channel, so the shared R channel is held one cycle per beat.
crate::declare_clear_fifo!(FetchBeats, Bits<519>, 8, 2);

#[derive(LogicBlock)]
pub struct DescFetch {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Ring bases of the four queues, 64 bits each.
    pub base: Signal<In, Bits<256>>,
    /// Queue control, 8 bits each: 3:0 log2 size, 4 enable.
    pub qctl: Signal<In, Bits<32>>,
    /// Producer indices, 16 bits each.
    pub prod: Signal<In, Bits<64>>,
    pub qreset: Signal<In, Bits<4>>,
    // AXI AR (the top adds id, size, burst)
    pub ar_valid: Signal<Out, Bit>,
    pub ar_addr: Signal<Out, Bits<64>>,
    pub ar_ready: Signal<In, Bit>,
    // AXI R for this fetcher's id
    pub r_valid: Signal<In, Bit>,
    pub r_data: Signal<In, Bits<512>>,
    pub r_ready: Signal<Out, Bit>,
    // Cached descriptors: head of each queue
    pub head: Signal<Out, Bits<512>>,
    pub head_valid: Signal<Out, Bits<4>>,
    pub pop: Signal<In, Bits<4>>,
    cache: [DescCache; 4],
    tags: FetchTags,
    beats: FetchBeats,
    fidx: [DFF<Bits<16>>; 4],
    credits: [DFF<Bits<10>>; 4],
    /// Fetched beats per queue not yet unpacked (issued, in flight, or
    /// waiting in `beats`).
    outst: [DFF<Bits<7>>; 4],
    /// A queue reset is in progress: the queue's cache is held empty and
    /// its fetches still in flight are discarded until `outst` is 0, so no
    /// descriptor of before the reset is ever handed out after it.
    drain: [DFF<Bit>; 4],
    rr: DFF<Bits<2>>,
    /// A read offered and not yet accepted stays (AXI): its queue.
    ar_hold: DFF<Bit>,
    ar_hold_q: DFF<Bits<2>>,
    /// Descriptors of the head beat already unpacked.
    hold_cnt: DFF<Bits<3>>,
    // scratch
    want: Signal<Local, Bits<4>>,
    sel: Signal<Local, Bits<2>>,
    c1: Signal<Local, Bits<2>>,
    c2: Signal<Local, Bits<2>>,
    c3: Signal<Local, Bits<2>>,
    found: Signal<Local, Bit>,
    pending: Signal<Local, Bits<16>>,
    slot: Signal<Local, Bits<16>>,
    cnt: Signal<Local, Bits<16>>,
    mask: Signal<Local, Bits<16>>,
    issue: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    room: Signal<Local, Bit>,
    c_one: Constant<Bits<16>>,
}

impl Default for DescFetch {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            base: Default::default(),
            qctl: Default::default(),
            prod: Default::default(),
            qreset: Default::default(),
            ar_valid: Default::default(),
            ar_addr: Default::default(),
            ar_ready: Default::default(),
            r_valid: Default::default(),
            r_data: Default::default(),
            r_ready: Default::default(),
            head: Default::default(),
            head_valid: Default::default(),
            pop: Default::default(),
            cache: array_init::array_init(|_| Default::default()),
            tags: Default::default(),
            beats: Default::default(),
            fidx: array_init::array_init(|_| Default::default()),
            credits: array_init::array_init(|_| Default::default()),
            outst: array_init::array_init(|_| Default::default()),
            drain: array_init::array_init(|_| Default::default()),
            rr: Default::default(),
            ar_hold: Default::default(),
            ar_hold_q: Default::default(),
            hold_cnt: Default::default(),
            want: Default::default(),
            sel: Default::default(),
            c1: Default::default(),
            c2: Default::default(),
            c3: Default::default(),
            found: Default::default(),
            pending: Default::default(),
            slot: Default::default(),
            cnt: Default::default(),
            mask: Default::default(),
            issue: Default::default(),
            take: Default::default(),
            room: Default::default(),
            c_one: Constant::new(1u64.into()),
        }
    }
}

impl Logic for DescFetch {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rr, ar_hold, ar_hold_q, hold_cnt);
        clock!(self, clock, tags, beats);
        self.tags.clear.next = self.rst.val();
        self.beats.clear.next = self.rst.val();
        for q in 0..4 {
            self.cache[q].clock.next = self.clock.val();
            self.fidx[q].clock.next = self.clock.val();
            self.fidx[q].d.next = self.fidx[q].q.val();
            self.credits[q].clock.next = self.clock.val();
            self.credits[q].d.next = self.credits[q].q.val();
            self.outst[q].clock.next = self.clock.val();
            self.outst[q].d.next = self.outst[q].q.val();
            self.drain[q].clock.next = self.clock.val();
            self.drain[q].d.next = self.drain[q].q.val();
            self.cache[q].clear.next =
                self.rst.val() || self.qreset.val().get_bit(q) || self.drain[q].q.val();
        }
        // Which queues want a fetch: enabled, descriptors pending, room for a
        // whole beat in the cache.
        self.want.next = 0.into();
        if self.qctl.val().get_bit(4)
            && !self.drain[0].q.val()
            && (self.prod.val().get_bits::<16>(0) != self.fidx[0].q.val())
            && (self.credits[0].q.val() >= 4)
        {
            self.want.next = self.want.val() | 1;
        }
        if self.qctl.val().get_bit(12)
            && !self.drain[1].q.val()
            && (self.prod.val().get_bits::<16>(16) != self.fidx[1].q.val())
            && (self.credits[1].q.val() >= 4)
        {
            self.want.next = self.want.val() | 2;
        }
        if self.qctl.val().get_bit(20)
            && !self.drain[2].q.val()
            && (self.prod.val().get_bits::<16>(32) != self.fidx[2].q.val())
            && (self.credits[2].q.val() >= 4)
        {
            self.want.next = self.want.val() | 4;
        }
        if self.qctl.val().get_bit(28)
            && !self.drain[3].q.val()
            && (self.prod.val().get_bits::<16>(48) != self.fidx[3].q.val())
            && (self.credits[3].q.val() >= 4)
        {
            self.want.next = self.want.val() | 8;
        }
        // Round robin: first wanting queue at or after rr (checked in
        // reverse so the nearest one wins).
        self.found.next = false;
        self.sel.next = 0.into();
        // Candidates rr, rr+1, rr+2, rr+3 as 2-bit signals: in Verilog
        // `rr + k` inside a shift amount would not wrap at 4.
        self.c1.next = self.rr.q.val() + 1;
        self.c2.next = self.rr.q.val() + 2;
        self.c3.next = self.rr.q.val() + 3;
        if ((self.want.val() >> self.c3.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c3.val();
        }
        if ((self.want.val() >> self.c2.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c2.val();
        }
        if ((self.want.val() >> self.c1.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c1.val();
        }
        if ((self.want.val() >> self.rr.q.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.rr.q.val();
        }
        if self.ar_hold.q.val() {
            self.found.next = true;
            self.sel.next = self.ar_hold_q.q.val();
        }
        // Descriptors of the selected queue in the beat holding its fetch index.
        self.mask.next = (self.c_one.val()
            << bit_cast::<16, 32>(
                (self.qctl.val() >> (bit_cast::<8, 2>(self.sel.val()) << 3)) & 0xF,
            ))
            - 1;
        self.pending.next = 0.into();
        self.slot.next = 0.into();
        self.cnt.next = 0.into();
        for q in 0..4 {
            if self.sel.val().index() == q {
                self.pending.next = self.prod.val().get_bits::<16>(16 * q) - self.fidx[q].q.val();
                self.slot.next = self.fidx[q].q.val() & self.mask.val();
            }
        }
        self.cnt.next = 4 - (self.slot.val() & 3);
        if self.pending.val() < self.cnt.val() {
            self.cnt.next = self.pending.val();
        }
        // While holding an offered address, the (lagging) almost-full flag is
        // ignored: its margin leaves room for the held request.
        self.room.next = !self.tags.almost_full.val() || self.ar_hold.q.val();
        // `ar_valid` is `found && room`, spelled out from registers and
        // inputs (no scratch signals) so that it stays an assignment of its
        // own and does not depend on `pop` (see vlt.rs).
        self.ar_valid.next = (!self.tags.almost_full.val() || self.ar_hold.q.val())
            && (self.ar_hold.q.val()
                || (self.qctl.val().get_bit(4)
                    && !self.drain[0].q.val()
                    && (self.prod.val().get_bits::<16>(0) != self.fidx[0].q.val())
                    && (self.credits[0].q.val() >= 4))
                || (self.qctl.val().get_bit(12)
                    && !self.drain[1].q.val()
                    && (self.prod.val().get_bits::<16>(16) != self.fidx[1].q.val())
                    && (self.credits[1].q.val() >= 4))
                || (self.qctl.val().get_bit(20)
                    && !self.drain[2].q.val()
                    && (self.prod.val().get_bits::<16>(32) != self.fidx[2].q.val())
                    && (self.credits[2].q.val() >= 4))
                || (self.qctl.val().get_bit(28)
                    && !self.drain[3].q.val()
                    && (self.prod.val().get_bits::<16>(48) != self.fidx[3].q.val())
                    && (self.credits[3].q.val() >= 4)));
        self.ar_addr.next = self.base.val().get_bits::<64>(self.sel.val().index() * 64)
            + (bit_cast::<64, 16>(self.slot.val() & 0xFFFC) << 4);
        self.issue.next = self.found.val() && self.room.val() && self.ar_ready.val();
        self.ar_hold.d.next = self.found.val() && self.room.val() && !self.ar_ready.val();
        self.ar_hold_q.d.next = self.sel.val();
        self.tags.write.next = self.issue.val();
        self.tags.data_in.next = bit_cast::<7, 2>(self.sel.val())
            | (bit_cast::<7, 16>(self.slot.val() & 3) << 2)
            | (bit_cast::<7, 16>(self.cnt.val()) << 4);
        if self.issue.val() {
            self.rr.d.next = self.sel.val() + 1;
        }
        // Returned beats go into the beat FIFO with their tag.
        self.r_ready.next = !self.beats.almost_full.val();
        self.take.next = self.r_valid.val() && !self.beats.almost_full.val();
        self.tags.read.next = self.take.val();
        self.beats.write.next = self.take.val();
        self.beats.data_in.next = bit_cast::<519, 512>(self.r_data.val())
            | (bit_cast::<519, 7>(self.tags.data_out.val()) << 512);
        // Unpack the head beat: descriptor (slot + hold_cnt) of it per cycle.
        self.beats.read.next = false;
        for q in 0..4 {
            self.cache[q].write.next = !self.beats.empty.val()
                && !self.drain[q].q.val()
                && (bit_cast::<2, 519>(self.beats.data_out.val() >> 512).index() == q);
            self.cache[q].data_in.next = bit_cast::<128, 519>(
                self.beats.data_out.val()
                    >> (bit_cast::<10, 2>(
                        bit_cast::<2, 519>(self.beats.data_out.val() >> 514)
                            + bit_cast::<2, 3>(self.hold_cnt.q.val()),
                    ) << 7),
            );
        }
        if !self.beats.empty.val() {
            // hold_cnt counts the descriptors of the head beat already pushed.
            self.hold_cnt.d.next = self.hold_cnt.q.val() + 1;
            if bit_cast::<3, 3>(self.hold_cnt.q.val()) + 1
                == bit_cast::<3, 519>(self.beats.data_out.val() >> 516)
            {
                self.hold_cnt.d.next = 0.into();
                self.beats.read.next = true;
            }
        }
        // Heads, pops, credits, fetch indices.
        self.head.next = 0.into();
        self.head_valid.next = 0.into();
        for q in 0..4 {
            self.cache[q].read.next = self.pop.val().get_bit(q);
        }
        self.head.next = bit_cast::<512, 128>(self.cache[0].data_out.val())
            | (bit_cast::<512, 128>(self.cache[1].data_out.val()) << 128)
            | (bit_cast::<512, 128>(self.cache[2].data_out.val()) << 256)
            | (bit_cast::<512, 128>(self.cache[3].data_out.val()) << 384);
        // (Built bit by bit: `~x` inside a wider Verilog expression would be
        // inverted at the wider width.)
        for q in 0..4 {
            if !self.cache[q].empty.val() {
                self.head_valid.next = self.head_valid.val() | (1 << q);
            }
        }
        for q in 0..4 {
            if self.issue.val() && (self.sel.val().index() == q) {
                self.fidx[q].d.next = self.fidx[q].q.val() + self.cnt.val();
                self.credits[q].d.next =
                    self.credits[q].q.val() - bit_cast::<10, 16>(self.cnt.val());
                if self.pop.val().get_bit(q) && !self.cache[q].empty.val() {
                    self.credits[q].d.next =
                        self.credits[q].q.val() - bit_cast::<10, 16>(self.cnt.val()) + 1;
                }
            } else if self.pop.val().get_bit(q) && !self.cache[q].empty.val() {
                self.credits[q].d.next = self.credits[q].q.val() + 1;
            }
            // Beats outstanding: one more at issue, one less when a beat of
            // this queue leaves the beat FIFO.
            if self.issue.val() && (self.sel.val().index() == q) {
                self.outst[q].d.next = self.outst[q].q.val() + 1;
                if self.beats.read.val()
                    && (bit_cast::<2, 519>(self.beats.data_out.val() >> 512).index() == q)
                {
                    self.outst[q].d.next = self.outst[q].q.val();
                }
            } else if self.beats.read.val()
                && (bit_cast::<2, 519>(self.beats.data_out.val() >> 512).index() == q)
            {
                self.outst[q].d.next = self.outst[q].q.val() - 1;
            }
            if self.drain[q].q.val()
                && (self.outst[q].q.val() == 0)
                && !(self.ar_hold.q.val() && (self.ar_hold_q.q.val().index() == q))
            {
                self.drain[q].d.next = false;
            }
            if self.qreset.val().get_bit(q) || self.drain[q].q.val() {
                self.credits[q].d.next = 256.into();
            }
            if self.qreset.val().get_bit(q) {
                self.fidx[q].d.next = 0.into();
                self.drain[q].d.next = true;
            }
        }
        if self.rst.val() {
            self.rr.d.next = 0.into();
            self.ar_hold.d.next = false;
            self.hold_cnt.d.next = 0.into();
            for q in 0..4 {
                self.fidx[q].d.next = 0.into();
                self.credits[q].d.next = 256.into();
                self.outst[q].d.next = 0.into();
                self.drain[q].d.next = false;
            }
        }
    }
}
