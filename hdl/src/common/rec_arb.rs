//! Round-robin merge of `N` record queues (first word fall through: a head
//! record `i[k].data` and `i[k].empty`, popped by `i[k].pop`: `FifoIn` bundles) of `W`-bit records into
//! one such queue.  Used to merge the control-frame records that `CtlFrameTx`
//! reads: the setup offload's SYN-ACKs and the active open's SYNs and ACKs.
//!
//! The choice is a register (`sel`, one-hot), so the record and its empty
//! flag depend on no pop (the consumer may read the record on every beat of
//! a frame and pop it with the last beat; a combinational choice would form
//! a loop through it).  The choice moves only at a pop, or when the chosen
//! queue is empty (then no record is being consumed), and only to a queue
//! that has a record: the first such queue after the chosen one in cyclic
//! order (round robin).  So a waiting queue is served after at most `N - 1`
//! other records, and a lone busy queue is served back to back.  With
//! `N = 2` this is the former two-input `RecArb` exactly.  The next choice
//! is `RoundRobinNext`'s (`common::round_robin_next`), as in `FrameArb`.
//!
//! Depth (`cargo xtask depth`, the block alone, W = 368, with
//! `RoundRobinNext`): N = 2: 1 LUT level; N = 4: 3 (+ 2 carry cells) into
//! `sel`, 2 to `o.data`; N = 8: 4 (+ 2 carry cells) into `sel`, 3 to
//! `o.data`.
use super::round_robin_next::RoundRobinNext;
use super::stream::{FifoIn, FifoOut};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RecArbN<const N: usize, const W: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The record queues' heads.
    pub i: [FifoIn<W>; N],
    /// The merged head.
    pub o: FifoOut<W>,
    /// The offered queue (one-hot).
    sel: DFF<Bits<N>>,
    /// Queues with a record, packed.
    req: Signal<Local, Bits<N>>,
    /// The next choice: the first queue with a record after the offered one.
    rr: RoundRobinNext<N>,
    /// The offered queue is empty.
    cur_empty: Signal<Local, Bit>,
}

impl<const N: usize, const W: usize> Default for RecArbN<N, W> {
    fn default() -> Self {
        assert!((1..=32).contains(&N), "1 to 32 inputs");
        Self {
            clock: Default::default(),
            rst: Default::default(),
            i: core::array::from_fn(|_| Default::default()),
            o: Default::default(),
            sel: Default::default(),
            req: Default::default(),
            rr: Default::default(),
            cur_empty: Default::default(),
        }
    }
}

impl<const N: usize, const W: usize> Logic for RecArbN<N, W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sel);
        // Output: the offered queue (reads registers and inputs only, no
        // pop: the consumer's pop may depend on the record).
        self.o.empty.next = true;
        self.o.data.next = 0.into();
        for i in 0..N {
            if self.sel.q.val().get_bit(i) {
                self.o.empty.next = self.i[i].empty.val();
                self.o.data.next = self.i[i].data.val();
            }
            self.i[i].pop.next = self.o.pop.val() && self.sel.q.val().get_bit(i);
        }
        // The choice.
        self.req.next = 0.into();
        self.cur_empty.next = true;
        for i in 0..N {
            self.req.next = self.req.val().replace_bit(i, !self.i[i].empty.val());
            if self.sel.q.val().get_bit(i) {
                self.cur_empty.next = self.i[i].empty.val();
            }
        }
        self.rr.grant.next = self.sel.q.val();
        self.rr.req.next = self.req.val();
        if (self.o.pop.val() || self.cur_empty.val()) && self.rr.any.val() {
            self.sel.d.next = self.rr.pick.val();
        }
        if self.rst.val() {
            self.sel.d.next = 1.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rec_arb_generates_verilog() {
        let mut uut = RecArbN::<3, 368>::default();
        uut.connect_all();
        assert!(generate_verilog(&uut).contains("module top("));
    }
}
