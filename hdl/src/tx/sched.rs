//! TX scheduler: round-robin over the TX queues with cached descriptors,
//! validates each descriptor and issues the AXI read bursts for its frame
//! (split at 4 KiB boundaries), one burst per cycle.  A tag per descriptor
//! (also for rejected ones) tells `TxStream` what the returning data is.
//!
//! Three stages, each within a few LUT levels (250 MHz on UltraScale+):
//!
//! 1. **Pick** (combinational from the queue heads, into `pick_*`): the
//!    first enabled queue with a cached descriptor from the round-robin
//!    pointer on is popped, its descriptor and running index registered.
//!    It picks only while the queue below has room (`queue_room`, from a
//!    registered count), so it never depends on the AXI handshake.
//! 2. **Decode** (from `pick_*` into the `decoded` FIFO): validity (flags,
//!    length 14..=9018, 64-byte aligned address), the first burst's length
//!    (to the frame's end or the next 4 KiB boundary) and the beats left
//!    after it.
//! 3. **Issue** (`cur_*`): the AXI read address channel comes straight from
//!    registers (`ar_valid`, `ar_addr`, `ar_len`).  After a burst that is not
//!    the frame's last, the next one starts on the 4 KiB boundary, so its
//!    address is the page number plus one and its length `min(left, 64)`
//!    beats, both prepared from registers.  The tag is written when the
//!    last burst is accepted (or at once for a rejected descriptor).
//!
//! A queue reset (`qreset`) restarts the queue's running index and retires
//! its descriptors still waiting in stages 1 and 2 (an epoch per queue,
//! carried with each descriptor and compared when it reaches stage 3); a
//! frame already being issued completes, as AXI requires of an offered read.
use crate::common::stream::{HeadsIn, PushOut};
use rust_hdl::prelude::*;

/// Tag: queue (1:0), index (17:2), length (33:18), flags (49:34), error (50).
pub const TAG_BITS: usize = 51;

/// Descriptors decoded and waiting for the issue stage (picked ones count
/// as soon as they are picked, so the FIFO never overflows).
pub const DECODED_DEPTH: usize = 8;

/// Decoded descriptor: queue (1:0), index (17:2), epoch (20:18), length
/// (36:21), flags (52:37), rejected (53), address (117:54), first burst's
/// AXI length (125:118), beats after the first burst (133:126), the first
/// burst is the last (134).
const DECODED_BITS: usize = 135;

crate::declare_clear_fifo!(TxDecodedFifo, Bits<135>, 8, 1);
const _: () = assert!(DECODED_BITS == 135 && DECODED_DEPTH == 8);

#[derive(LogicBlock, Default)]
pub struct TxSched {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The TX descriptor caches' heads (`DescFetch`).
    pub desc: HeadsIn<4, 512>,
    /// TX queue control, 8 bits per queue (bit 4 enable).
    pub qctl: Signal<In, Bits<32>>,
    pub qreset: Signal<In, Bits<4>>,
    pub ar_valid: Signal<Out, Bit>,
    pub ar_addr: Signal<Out, Bits<64>>,
    pub ar_len: Signal<Out, Bits<8>>,
    pub ar_ready: Signal<In, Bit>,
    /// Frame tags, to `TxStream`.
    pub tag: PushOut<51>,
    // ---------------------------------------------------------- pick
    /// Round-robin pointer: the queue looked at first.
    rr: DFF<Bits<2>>,
    /// Running descriptor index per queue.
    qidx: [DFF<Bits<16>>; 4],
    /// Incremented by each reset of the queue.
    qepoch: [DFF<Bits<3>>; 4],
    /// Descriptors picked and not yet taken by the issue stage.
    queued: DFF<Bits<4>>,
    /// `queued` leaves room for one more (registered).
    queue_room: DFF<Bit>,
    pick_valid: DFF<Bit>,
    pick_queue: DFF<Bits<2>>,
    pick_index: DFF<Bits<16>>,
    pick_epoch: DFF<Bits<3>>,
    pick_addr: DFF<Bits<64>>,
    pick_len: DFF<Bits<16>>,
    pick_flags: DFF<Bits<16>>,
    decoded: TxDecodedFifo,
    // ---------------------------------------------------------- issue
    cur_valid: DFF<Bit>,
    /// The AXI read address is offered (a good descriptor in `cur_*`).
    cur_offer: DFF<Bit>,
    cur_queue: DFF<Bits<2>>,
    cur_index: DFF<Bits<16>>,
    cur_len: DFF<Bits<16>>,
    cur_flags: DFF<Bits<16>>,
    cur_bad: DFF<Bit>,
    cur_addr: DFF<Bits<64>>,
    cur_arlen: DFF<Bits<8>>,
    /// Beats of the frame after the burst offered.
    cur_left: DFF<Bits<8>>,
    /// The burst offered is the frame's last.
    cur_last: DFF<Bit>,
    /// The tag FIFO's almost-full flag, a cycle late (its margin covers it).
    tag_full_q: DFF<Bit>,
    avail: Signal<Local, Bits<4>>,
    sel: Signal<Local, Bits<2>>,
    c1: Signal<Local, Bits<2>>,
    c2: Signal<Local, Bits<2>>,
    c3: Signal<Local, Bits<2>>,
    found: Signal<Local, Bit>,
    pick: Signal<Local, Bit>,
    head: Signal<Local, Bits<128>>,
    // decode
    bad: Signal<Local, Bit>,
    beats_m1: Signal<Local, Bits<16>>,
    to4k_m1: Signal<Local, Bits<16>>,
    first_arlen: Signal<Local, Bits<16>>,
    first_left: Signal<Local, Bits<16>>,
    split: Signal<Local, Bit>,
    one_burst: Signal<Local, Bit>,
    // issue
    entry: Signal<Local, Bits<135>>,
    entry_queue: Signal<Local, Bits<2>>,
    entry_live: Signal<Local, Bit>,
    finish: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    next_arlen: Signal<Local, Bits<8>>,
    next_left: Signal<Local, Bits<8>>,
    next_last: Signal<Local, Bit>,
    queued_next: Signal<Local, Bits<4>>,
}

impl Logic for TxSched {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, rr, queued, queue_room, pick_valid, pick_queue, pick_index, pick_epoch,
            pick_addr, pick_len, pick_flags, cur_valid, cur_offer, cur_queue, cur_index, cur_len,
            cur_flags, cur_bad, cur_addr, cur_arlen, cur_left, cur_last, tag_full_q
        );
        clock!(self, clock, decoded);
        for q in 0..4 {
            self.qidx[q].clock.next = self.clock.val();
            self.qidx[q].d.next = self.qidx[q].q.val();
            self.qepoch[q].clock.next = self.clock.val();
            self.qepoch[q].d.next = self.qepoch[q].q.val();
        }
        self.decoded.clear.next = self.rst.val();
        self.tag_full_q.d.next = self.tag.full.val();
        // ------------------------------------------------------ 1. pick
        self.avail.next = self.desc.valid.val()
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
        self.pick.next = self.found.val() && self.queue_room.q.val();
        self.head.next =
            bit_cast::<128, 512>(self.desc.data.val() >> (bit_cast::<10, 2>(self.sel.val()) << 7));
        self.desc.pop.next = 0.into();
        self.pick_valid.d.next = self.pick.val();
        self.pick_queue.d.next = self.sel.val();
        self.pick_addr.d.next = bit_cast::<64, 128>(self.head.val());
        self.pick_len.d.next = bit_cast::<16, 128>(self.head.val() >> 64);
        self.pick_flags.d.next = bit_cast::<16, 128>(self.head.val() >> 80);
        self.pick_index.d.next = 0.into();
        self.pick_epoch.d.next = 0.into();
        for q in 0..4 {
            if self.sel.val().index() == q {
                self.pick_index.d.next = self.qidx[q].q.val();
                self.pick_epoch.d.next = self.qepoch[q].q.val();
            }
        }
        if self.pick.val() {
            self.desc.pop.next = bit_cast::<4, 2>(1.into()) << self.sel.val();
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
                self.qepoch[q].d.next = self.qepoch[q].q.val() + 1;
            }
        }
        // ------------------------------------------------------ 2. decode
        self.bad.next = ((self.pick_flags.q.val() >> 12) != 0)
            || (self.pick_len.q.val() < 14)
            || (self.pick_len.q.val() > 9018)
            || ((self.pick_addr.q.val() & 63) != 0);
        // Beats less one (length >= 1 when good), and beats to the next
        // 4 KiB boundary less one (63 - address bits 11:6).
        self.beats_m1.next = (self.pick_len.q.val() - 1) >> 6;
        self.to4k_m1.next = bit_cast::<16, 64>((!self.pick_addr.q.val() >> 6) & 0x3F);
        // Split at the boundary: the first burst runs to it, the rest is
        // left (computed beside the comparison, not after it).
        self.split.next = self.to4k_m1.val() < self.beats_m1.val();
        self.one_burst.next = !self.split.val();
        self.first_arlen.next = self.beats_m1.val();
        self.first_left.next = 0.into();
        if self.split.val() {
            self.first_arlen.next = self.to4k_m1.val();
            self.first_left.next = self.beats_m1.val() - self.to4k_m1.val();
        }
        self.decoded.write.next = self.pick_valid.q.val();
        self.decoded.data_in.next = bit_cast::<135, 2>(self.pick_queue.q.val())
            | (bit_cast::<135, 16>(self.pick_index.q.val()) << 2)
            | (bit_cast::<135, 3>(self.pick_epoch.q.val()) << 18)
            | (bit_cast::<135, 16>(self.pick_len.q.val()) << 21)
            | (bit_cast::<135, 16>(self.pick_flags.q.val()) << 37)
            | (bit_cast::<135, 1>(self.bad.val().into()) << 53)
            | (bit_cast::<135, 64>(self.pick_addr.q.val()) << 54)
            | (bit_cast::<135, 8>(bit_cast::<8, 16>(self.first_arlen.val())) << 118)
            | (bit_cast::<135, 8>(bit_cast::<8, 16>(self.first_left.val())) << 126)
            | (bit_cast::<135, 1>(self.one_burst.val().into()) << 134);
        // ------------------------------------------------------ 3. issue
        self.ar_valid.next = self.cur_offer.q.val();
        self.ar_addr.next = self.cur_addr.q.val();
        self.ar_len.next = self.cur_arlen.q.val();
        self.finish.next = self.cur_valid.q.val()
            && (self.cur_bad.q.val() || (self.ar_ready.val() && self.cur_last.q.val()));
        self.tag.write.next = self.finish.val();
        self.tag.data.next = bit_cast::<51, 2>(self.cur_queue.q.val())
            | (bit_cast::<51, 16>(self.cur_index.q.val()) << 2)
            | (bit_cast::<51, 16>(self.cur_len.q.val()) << 18)
            | (bit_cast::<51, 16>(self.cur_flags.q.val()) << 34)
            | (bit_cast::<51, 1>(self.cur_bad.q.val().into()) << 50);
        // The burst after one that ends on a 4 KiB boundary: min(left, 64).
        self.next_arlen.next = 63.into();
        self.next_left.next = self.cur_left.q.val() - 64;
        self.next_last.next = false;
        if self.cur_left.q.val() <= 64 {
            self.next_arlen.next = self.cur_left.q.val() - 1;
            self.next_left.next = 0.into();
            self.next_last.next = true;
        }
        if self.ar_ready.val() && self.cur_offer.q.val() && !self.cur_last.q.val() {
            self.cur_addr.d.next = ((self.cur_addr.q.val() >> 12) + 1) << 12;
            self.cur_arlen.d.next = self.next_arlen.val();
            self.cur_left.d.next = self.next_left.val();
            self.cur_last.d.next = self.next_last.val();
        }
        if self.finish.val() {
            self.cur_valid.d.next = false;
            self.cur_offer.d.next = false;
        }
        self.entry.next = self.decoded.data_out.val();
        self.entry_queue.next = bit_cast::<2, 135>(self.entry.val());
        self.entry_live.next = false;
        for q in 0..4 {
            if self.entry_queue.val().index() == q {
                self.entry_live.next =
                    bit_cast::<3, 135>(self.entry.val() >> 18) == self.qepoch[q].q.val();
            }
        }
        self.take.next = (!self.cur_valid.q.val() || self.finish.val())
            && !self.tag_full_q.q.val()
            && !self.decoded.empty.val();
        self.decoded.read.next = self.take.val();
        if self.take.val() {
            self.cur_valid.d.next = self.entry_live.val();
            self.cur_offer.d.next = self.entry_live.val() && !self.entry.val().get_bit(53);
            self.cur_queue.d.next = self.entry_queue.val();
            self.cur_index.d.next = bit_cast::<16, 135>(self.entry.val() >> 2);
            self.cur_len.d.next = bit_cast::<16, 135>(self.entry.val() >> 21);
            self.cur_flags.d.next = bit_cast::<16, 135>(self.entry.val() >> 37);
            self.cur_bad.d.next = self.entry.val().get_bit(53);
            self.cur_addr.d.next = bit_cast::<64, 135>(self.entry.val() >> 54);
            self.cur_arlen.d.next = bit_cast::<8, 135>(self.entry.val() >> 118);
            self.cur_left.d.next = bit_cast::<8, 135>(self.entry.val() >> 126);
            self.cur_last.d.next = self.entry.val().get_bit(134);
        }
        // Picked and not yet taken; room while fewer than the FIFO holds.
        self.queued_next.next = self.queued.q.val();
        if self.pick.val() && !self.take.val() {
            self.queued_next.next = self.queued.q.val() + 1;
        }
        if !self.pick.val() && self.take.val() {
            self.queued_next.next = self.queued.q.val() - 1;
        }
        self.queued.d.next = self.queued_next.val();
        self.queue_room.d.next = self.queued_next.val() < 7;
        if self.rst.val() {
            self.rr.d.next = 0.into();
            self.queued.d.next = 0.into();
            self.queue_room.d.next = true;
            self.pick_valid.d.next = false;
            self.cur_valid.d.next = false;
            self.cur_offer.d.next = false;
            self.tag_full_q.d.next = false;
            for q in 0..4 {
                self.qidx[q].d.next = 0.into();
                self.qepoch[q].d.next = 0.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_sched_generates_verilog() {
        let mut uut = TxSched::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
