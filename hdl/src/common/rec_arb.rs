//! Round-robin merge of `N` record queues (first word fall through: a head
//! record `i_rec` and `i_empty`, popped by `i_pop`) of `W`-bit records into
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
//! `sel`, 2 to `o_rec`; N = 8: 4 (+ 2 carry cells) into `sel`, 3 to
//! `o_rec`.
use super::round_robin_next::RoundRobinNext;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RecArbN<const N: usize, const W: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub i_empty: [Signal<In, Bit>; N],
    pub i_rec: [Signal<In, Bits<W>>; N],
    pub i_pop: [Signal<Out, Bit>; N],
    pub o_empty: Signal<Out, Bit>,
    pub o_rec: Signal<Out, Bits<W>>,
    /// The consumer pops the offered record.
    pub o_pop: Signal<In, Bit>,
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
            i_empty: core::array::from_fn(|_| Default::default()),
            i_rec: core::array::from_fn(|_| Default::default()),
            i_pop: core::array::from_fn(|_| Default::default()),
            o_empty: Default::default(),
            o_rec: Default::default(),
            o_pop: Default::default(),
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
        self.o_empty.next = true;
        self.o_rec.next = 0.into();
        for i in 0..N {
            if self.sel.q.val().get_bit(i) {
                self.o_empty.next = self.i_empty[i].val();
                self.o_rec.next = self.i_rec[i].val();
            }
            self.i_pop[i].next = self.o_pop.val() && self.sel.q.val().get_bit(i);
        }
        // The choice.
        self.req.next = 0.into();
        self.cur_empty.next = true;
        for i in 0..N {
            self.req.next = self.req.val().replace_bit(i, !self.i_empty[i].val());
            if self.sel.q.val().get_bit(i) {
                self.cur_empty.next = self.i_empty[i].val();
            }
        }
        self.rr.grant.next = self.sel.q.val();
        self.rr.req.next = self.req.val();
        if (self.o_pop.val() || self.cur_empty.val()) && self.rr.any.val() {
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
