//! Frame-level round-robin merge of `N` AXI4-Stream sources (512-bit data,
//! 64-bit keep, last, 2 bits of side flags) into one.  No buffering: one
//! beat per cycle passes straight through the granted input.
//!
//! The grant is a register (`grant`, one-hot), so no ready depends on any
//! valid (the sources' valid/ready logic cannot form a combinational loop
//! through this block), and the output is a multiplexer of the inputs by a
//! register.  A source keeps the grant from its first beat to its last
//! (`busy`), so beats of two frames never interleave.  The grant moves
//! (i) with a frame's last beat, or (ii) at a frame boundary when the
//! granted source is idle (one idle cycle), and only to a source that
//! waits: the first waiting source after the granted one in cyclic order
//! (round robin).  A source that waits is therefore served after at most
//! `N - 1` other frames, and a lone busy source is served back to back.
//! With `N = 2` this is the former two-input `TxArb` exactly.
//!
//! The next grant is `RoundRobinNext`'s (`common::round_robin_next`), as in
//! `RecArbN`.
//!
//! Depth (`cargo xtask depth`, UltraScale+ mapping, the block alone,
//! 2026-12-07, with `RoundRobinNext`): N = 2: 1 LUT level everywhere;
//! N = 4: 3 LUT levels (+ 2 carry cells) into `grant`, 2 to the outputs;
//! N = 8: 4 LUT levels (+ 2 carry cells) into `grant`, 3 to `o_data`, 1 to
//! each `i[k].ready`.  Data path: one multiplexer level of
//! `N` inputs (no register; put a `RegSlice` after it if a path needs one).
use super::round_robin_next::RoundRobinNext;
use super::stream::{FrameIn, FrameOut};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct FrameArb<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // Inputs
    /// The sources.
    pub i: [FrameIn; N],
    // Output
    /// The merged stream.
    pub o: FrameOut,
    /// The granted source (one-hot).
    grant: DFF<Bits<N>>,
    /// Inside a frame of the granted source.
    busy: DFF<Bit>,
    /// The valids, packed.
    req: Signal<Local, Bits<N>>,
    /// The next grant: the first waiting source after the granted one.
    rr: RoundRobinNext<N>,
    mine: Signal<Local, Bit>,
    lst: Signal<Local, Bit>,
    hs: Signal<Local, Bit>,
}

impl<const N: usize> Default for FrameArb<N> {
    fn default() -> Self {
        assert!((1..=32).contains(&N), "1 to 32 inputs");
        Self {
            clock: Default::default(),
            rst: Default::default(),
            i: core::array::from_fn(|_| Default::default()),
            o: Default::default(),
            grant: Default::default(),
            busy: Default::default(),
            req: Default::default(),
            rr: Default::default(),
            mine: Default::default(),
            lst: Default::default(),
            hs: Default::default(),
        }
    }
}

impl<const N: usize> Logic for FrameArb<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, grant, busy);
        // Output: the granted input (reads registers and inputs only).
        self.o.valid.next = false;
        self.o.data.next = 0.into();
        self.o.keep.next = 0.into();
        self.o.last.next = false;
        self.o.flags.next = 0.into();
        for i in 0..N {
            if self.grant.q.val().get_bit(i) {
                self.o.valid.next = self.i[i].valid.val();
                self.o.data.next = self.i[i].data.val();
                self.o.keep.next = self.i[i].keep.val();
                self.o.last.next = self.i[i].last.val();
                self.o.flags.next = self.i[i].flags.val();
            }
            self.i[i].ready.next = self.o.ready.val() && self.grant.q.val().get_bit(i);
        }
        // State, from the inputs (outputs are not read back).
        self.req.next = 0.into();
        self.mine.next = false;
        self.lst.next = false;
        for i in 0..N {
            self.req.next = self.req.val().replace_bit(i, self.i[i].valid.val());
            if self.grant.q.val().get_bit(i) {
                self.mine.next = self.i[i].valid.val();
                self.lst.next = self.i[i].last.val();
            }
        }
        self.rr.grant.next = self.grant.q.val();
        self.rr.req.next = self.req.val();
        self.hs.next = self.mine.val() && self.o.ready.val();
        if self.hs.val() {
            self.busy.d.next = !self.lst.val();
        }
        if ((self.hs.val() && self.lst.val()) || (!self.busy.q.val() && !self.mine.val()))
            && self.rr.any.val()
        {
            self.grant.d.next = self.rr.pick.val();
        }
        if self.rst.val() {
            self.grant.d.next = 1.into();
            self.busy.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_arb_generates_verilog() {
        let mut uut = FrameArb::<3>::default();
        uut.connect_all();
        assert!(generate_verilog(&uut).contains("module top("));
    }
}
