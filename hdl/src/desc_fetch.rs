//! Descriptor fetcher for four queues of one direction.
//!
//! Per queue it compares the host's producer index with its fetch index and
//! reads descriptors one 64-byte beat (four 16-byte descriptors) at a time
//! into a per-queue cache FIFO.  Many beats may be outstanding: a per-queue
//! credit counter reserves cache space, so the cache never overflows, and a
//! tag FIFO remembers where each outstanding beat goes.  Returned beats are
//! unpacked one descriptor per cycle from a holding FIFO, so the shared R
//! channel is held for one cycle per beat.
//!
//! Pipelined for timing (docs/timing.md), every path a few LUTs deep:
//!
//! 1. Per queue, every cycle, the next read is prepared into registers
//!    from the queue's state: whether it wants one (enabled, not draining,
//!    descriptors pending, room for a whole beat), its address (the 64-bit
//!    ring base plus the slot, as a 32-bit add and a precomputed +1 of the
//!    high word), its descriptor count and its tag.
//! 2. A round robin grants one prepared read into the AR output register
//!    when that register is free or being taken, and advances the queue's
//!    fetch index.  A granted queue waits two cycles before its next grant:
//!    its prepared read is then recomputed from the advanced fetch index
//!    and the reduced credits (one beat per queue every third cycle, four
//!    descriptors per beat: more than a queue ever consumes).
//! 3. `ar_valid`/`ar_addr` come straight from the output register; the tag
//!    is written when the read is taken.
//!
//! The FIFOs have registered flags (`ClearFifo`); `r_ready` is a register's
//! output; no output depends on an input of the same cycle.
use crate::common::stream::HeadsOut;
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
    /// Cached descriptors: the head of each queue (128 bits each).
    pub head: HeadsOut<4, 512>,
    cache: [DescCache; 4],
    tags: FetchTags,
    beats: FetchBeats,
    fidx: [DFF<Bits<16>>; 4],
    credits: [DFF<Bits<10>>; 4],
    /// Fetched beats per queue not yet unpacked (granted, in flight, or
    /// waiting in `beats`).
    outst: [DFF<Bits<7>>; 4],
    /// A queue reset is in progress: the queue's cache is held empty and
    /// its fetches still in flight are discarded until `outst` is 0, so no
    /// descriptor of before the reset is ever handed out after it.
    drain: [DFF<Bit>; 4],
    /// The prepared read of each queue (stage 1): wanted, address, count,
    /// tag.
    p_want: DFF<Bits<4>>,
    p_addr: [DFF<Bits<64>>; 4],
    p_cnt: [DFF<Bits<3>>; 4],
    p_tag: [DFF<Bits<7>>; 4],
    /// Queues granted one and two cycles ago (one-hot), and the count
    /// granted one cycle ago (taken from the credits then).
    g1: DFF<Bits<4>>,
    g2: DFF<Bits<4>>,
    g1_cnt: DFF<Bits<3>>,
    rr: DFF<Bits<2>>,
    /// The AR output register: a read offered until taken, its queue and
    /// its tag.
    arv: DFF<Bit>,
    ara: DFF<Bits<64>>,
    arq: DFF<Bits<2>>,
    art: DFF<Bits<7>>,
    /// Descriptors of the head beat already unpacked.
    hold_cnt: DFF<Bits<3>>,
    // scratch
    want: Signal<Local, Bits<4>>,
    elig: Signal<Local, Bits<4>>,
    gcnt: Signal<Local, Bits<3>>,
    blo: Signal<Local, Bits<32>>,
    sel: Signal<Local, Bits<2>>,
    c1: Signal<Local, Bits<2>>,
    c2: Signal<Local, Bits<2>>,
    c3: Signal<Local, Bits<2>>,
    found: Signal<Local, Bit>,
    grant: Signal<Local, Bit>,
    log2: Signal<Local, Bits<4>>,
    mask: Signal<Local, Bits<16>>,
    slot: Signal<Local, Bits<16>>,
    avail: Signal<Local, Bits<16>>,
    first: Signal<Local, Bits<3>>,
    cnt: Signal<Local, Bits<3>>,
    lo33: Signal<Local, Bits<33>>,
    hi: Signal<Local, Bits<32>>,
    hi_inc: Signal<Local, Bits<32>>,
    take: Signal<Local, Bit>,
    leave: Signal<Local, Bit>,
    head_q: Signal<Local, Bits<2>>,
    popped: Signal<Local, Bit>,
    c_ones: Constant<Bits<16>>,
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
            cache: array_init::array_init(|_| Default::default()),
            tags: Default::default(),
            beats: Default::default(),
            fidx: array_init::array_init(|_| Default::default()),
            credits: array_init::array_init(|_| Default::default()),
            outst: array_init::array_init(|_| Default::default()),
            drain: array_init::array_init(|_| Default::default()),
            p_want: Default::default(),
            p_addr: array_init::array_init(|_| Default::default()),
            p_cnt: array_init::array_init(|_| Default::default()),
            p_tag: array_init::array_init(|_| Default::default()),
            g1: Default::default(),
            g2: Default::default(),
            g1_cnt: Default::default(),
            rr: Default::default(),
            arv: Default::default(),
            ara: Default::default(),
            arq: Default::default(),
            art: Default::default(),
            hold_cnt: Default::default(),
            want: Default::default(),
            elig: Default::default(),
            gcnt: Default::default(),
            blo: Default::default(),
            sel: Default::default(),
            c1: Default::default(),
            c2: Default::default(),
            c3: Default::default(),
            found: Default::default(),
            grant: Default::default(),
            log2: Default::default(),
            mask: Default::default(),
            slot: Default::default(),
            avail: Default::default(),
            first: Default::default(),
            cnt: Default::default(),
            lo33: Default::default(),
            hi: Default::default(),
            hi_inc: Default::default(),
            take: Default::default(),
            leave: Default::default(),
            head_q: Default::default(),
            popped: Default::default(),
            c_ones: Constant::new(0xFFFFu64.into()),
        }
    }
}

impl Logic for DescFetch {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, p_want, g1, g2, g1_cnt, rr, arv, ara, arq, art, hold_cnt);
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
            self.p_addr[q].clock.next = self.clock.val();
            self.p_addr[q].d.next = self.p_addr[q].q.val();
            self.p_cnt[q].clock.next = self.clock.val();
            self.p_cnt[q].d.next = self.p_cnt[q].q.val();
            self.p_tag[q].clock.next = self.clock.val();
            self.p_tag[q].d.next = self.p_tag[q].q.val();
            self.cache[q].clear.next =
                self.rst.val() || self.qreset.val().get_bit(q) || self.drain[q].q.val();
        }
        // ------------------------------------------------ 1: prepare
        // Per queue: the beat holding its fetch index, the descriptors of
        // it to read (up to the producer index), its address.
        self.want.next = 0.into();
        for q in 0..4 {
            self.log2.next = self.qctl.val().get_bits::<4>(8 * q);
            // mask = 2^log2 - 1 (log2 <= 15), as a shift (no carry chain).
            self.mask.next = !(self.c_ones.val() << self.log2.val());
            self.slot.next = self.fidx[q].q.val() & self.mask.val();
            self.avail.next = self.prod.val().get_bits::<16>(16 * q) - self.fidx[q].q.val();
            // The beat's first slot to read, and the descriptors of the beat
            // from it: min(4 - first, avail), written out per case.
            self.first.next = bit_cast::<3, 16>(self.slot.val() & 3);
            self.cnt.next = 4.into();
            if self.first.val() == 1 {
                self.cnt.next = 3.into();
            }
            if self.first.val() == 2 {
                self.cnt.next = 2.into();
            }
            if self.first.val() == 3 {
                self.cnt.next = 1.into();
            }
            if ((self.avail.val() & 0xFFFC) == 0)
                && (bit_cast::<3, 16>(self.avail.val() & 3) < self.cnt.val())
            {
                self.cnt.next = bit_cast::<3, 16>(self.avail.val() & 3);
            }
            if self.qctl.val().get_bit(8 * q + 4)
                && !self.drain[q].q.val()
                && (self.prod.val().get_bits::<16>(16 * q) != self.fidx[q].q.val())
                && (self.credits[q].q.val() >= 4)
            {
                self.want.next = self.want.val() | (1 << q);
            }
            // Address: base + 16 * (slot & ~3), as a 32-bit add and the
            // high word or its successor.
            self.blo.next = self.base.val().get_bits::<32>(64 * q);
            self.lo33.next = bit_cast::<33, 32>(self.blo.val())
                + (bit_cast::<33, 16>(self.slot.val() & 0xFFFC) << 4);
            self.hi.next = self.base.val().get_bits::<32>(64 * q + 32);
            self.hi_inc.next = self.hi.val() + 1;
            if self.lo33.val().get_bit(32) {
                self.hi.next = self.hi_inc.val();
            }
            self.p_addr[q].d.next = bit_cast::<64, 33>(self.lo33.val() & 0xFFFF_FFFF_u64)
                | (bit_cast::<64, 32>(self.hi.val()) << 32);
            self.p_cnt[q].d.next = self.cnt.val();
            self.p_tag[q].d.next =
                (bit_cast::<7, 3>(self.cnt.val()) << 4) | (bit_cast::<7, 3>(self.first.val()) << 2);
        }
        self.p_want.d.next = self.want.val();
        // ------------------------------------------------ 2: grant
        // Eligible: prepared, not granted in the last two cycles (its
        // prepared read is stale until then), not draining or resetting.
        self.elig.next =
            self.p_want.q.val() & !self.g1.q.val() & !self.g2.q.val() & !self.qreset.val();
        for q in 0..4 {
            if self.drain[q].q.val() {
                self.elig.next = self.elig.val().replace_bit(q, false);
            }
        }
        // Round robin: first eligible queue at or after rr (checked in
        // reverse so the nearest one wins).  Candidates as 2-bit signals:
        // in Verilog `rr + k` inside a shift amount would not wrap at 4.
        self.found.next = false;
        self.sel.next = 0.into();
        self.c1.next = self.rr.q.val() + 1;
        self.c2.next = self.rr.q.val() + 2;
        self.c3.next = self.rr.q.val() + 3;
        if ((self.elig.val() >> self.c3.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c3.val();
        }
        if ((self.elig.val() >> self.c2.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c2.val();
        }
        if ((self.elig.val() >> self.c1.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.c1.val();
        }
        if ((self.elig.val() >> self.rr.q.val()) & 1) == 1 {
            self.found.next = true;
            self.sel.next = self.rr.q.val();
        }
        // The output register is free or being taken, and the tag FIFO has
        // room for the read it holds and this one (its almost-full margin).
        self.grant.next = self.found.val()
            && (!self.arv.q.val() || self.ar_ready.val())
            && !self.tags.almost_full.val();
        self.g1.d.next = 0.into();
        self.g2.d.next = self.g1.q.val();
        self.g1_cnt.d.next = 0.into();
        if self.arv.q.val() && self.ar_ready.val() {
            self.arv.d.next = false;
        }
        self.gcnt.next = 0.into();
        for q in 0..4 {
            if self.sel.val().index() == q {
                self.gcnt.next = self.p_cnt[q].q.val();
            }
        }
        for q in 0..4 {
            if self.grant.val() && (self.sel.val().index() == q) {
                self.arv.d.next = true;
                self.ara.d.next = self.p_addr[q].q.val();
                self.art.d.next = self.p_tag[q].q.val() | bit_cast::<7, 2>(self.sel.val());
                self.arq.d.next = self.sel.val();
                self.g1.d.next = (1 << q).into();
                self.g1_cnt.d.next = self.gcnt.val();
                self.fidx[q].d.next = self.fidx[q].q.val() + bit_cast::<16, 3>(self.gcnt.val());
            }
        }
        if self.grant.val() {
            self.rr.d.next = self.sel.val() + 1;
        }
        self.ar_valid.next = self.arv.q.val();
        self.ar_addr.next = self.ara.q.val();
        // ------------------------------------------------ 3: tags, beats
        self.tags.write.next = self.arv.q.val() && self.ar_ready.val();
        self.tags.data_in.next = self.art.q.val();
        // A beat is taken when there is room for it and its tag is visible
        // (a read answered within two cycles waits for it).
        self.r_ready.next = !self.beats.almost_full.val() && !self.tags.empty.val();
        self.take.next =
            self.r_valid.val() && !self.beats.almost_full.val() && !self.tags.empty.val();
        self.tags.read.next = self.take.val();
        self.beats.write.next = self.take.val();
        self.beats.data_in.next = bit_cast::<519, 512>(self.r_data.val())
            | (bit_cast::<519, 7>(self.tags.data_out.val()) << 512);
        // Unpack the head beat: descriptor (slot + hold_cnt) of it per cycle.
        self.head_q.next = bit_cast::<2, 519>(self.beats.data_out.val() >> 512);
        self.leave.next = false;
        for q in 0..4 {
            self.cache[q].write.next = !self.beats.empty.val()
                && !self.drain[q].q.val()
                && (self.head_q.val().index() == q);
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
                self.leave.next = true;
            }
        }
        self.beats.read.next = self.leave.val();
        // ------------------------------------------------ heads, credits
        for q in 0..4 {
            self.cache[q].read.next = self.head.pop.val().get_bit(q);
        }
        self.head.data.next = bit_cast::<512, 128>(self.cache[0].data_out.val())
            | (bit_cast::<512, 128>(self.cache[1].data_out.val()) << 128)
            | (bit_cast::<512, 128>(self.cache[2].data_out.val()) << 256)
            | (bit_cast::<512, 128>(self.cache[3].data_out.val()) << 384);
        // (Built bit by bit: `~x` inside a wider Verilog expression would be
        // inverted at the wider width.)
        self.head.valid.next = 0.into();
        for q in 0..4 {
            if !self.cache[q].empty.val() {
                self.head.valid.next = self.head.valid.val() | (1 << q);
            }
        }
        for q in 0..4 {
            // Credits: the count granted a cycle ago is taken, a pop gives
            // one back.
            self.popped.next = self.head.pop.val().get_bit(q) && !self.cache[q].empty.val();
            if self.g1.q.val().get_bit(q) {
                self.credits[q].d.next =
                    self.credits[q].q.val() - bit_cast::<10, 3>(self.g1_cnt.q.val());
                if self.popped.val() {
                    self.credits[q].d.next =
                        self.credits[q].q.val() - bit_cast::<10, 3>(self.g1_cnt.q.val()) + 1;
                }
            } else if self.popped.val() {
                self.credits[q].d.next = self.credits[q].q.val() + 1;
            }
            // Beats outstanding: one more a cycle after the grant, one less
            // when a beat of this queue leaves the beat FIFO.
            if self.g1.q.val().get_bit(q) {
                self.outst[q].d.next = self.outst[q].q.val() + 1;
                if self.leave.val() && (self.head_q.val().index() == q) {
                    self.outst[q].d.next = self.outst[q].q.val();
                }
            } else if self.leave.val() && (self.head_q.val().index() == q) {
                self.outst[q].d.next = self.outst[q].q.val() - 1;
            }
            if self.drain[q].q.val()
                && (self.outst[q].q.val() == 0)
                && !self.g1.q.val().get_bit(q)
                && !(self.arv.q.val() && (self.arq.q.val().index() == q))
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
            self.arv.d.next = false;
            self.hold_cnt.d.next = 0.into();
            self.p_want.d.next = 0.into();
            self.g1.d.next = 0.into();
            self.g2.d.next = 0.into();
            self.g1_cnt.d.next = 0.into();
            for q in 0..4 {
                self.fidx[q].d.next = 0.into();
                self.credits[q].d.next = 256.into();
                self.outst[q].d.next = 0.into();
                self.drain[q].d.next = false;
            }
        }
    }
}
