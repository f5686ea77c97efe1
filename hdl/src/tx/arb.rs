//! Frame-level round-robin merge of two AXI4-Stream sources (the host's TX
//! frames and the setup offload's SYN-ACKs) into one, ahead of the checksum
//! inserter.  No buffering: one beat per cycle passes straight through.
//!
//! The grant is a register (`cur_b`), so no ready depends on any valid
//! (the sources' valid/ready logic cannot form a combinational loop through
//! this block).  A source keeps the grant from its first beat to its last
//! (`busy`).  After a frame's last beat the grant passes to the other
//! source if it is waiting, so neither can starve the other; at a frame
//! boundary, if the granted source is idle and the other waits, the grant
//! moves (one idle cycle).
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct TxArb {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // Source A (host frames)
    pub a_valid: Signal<In, Bit>,
    pub a_data: Signal<In, Bits<512>>,
    pub a_keep: Signal<In, Bits<64>>,
    pub a_last: Signal<In, Bit>,
    pub a_flags: Signal<In, Bits<2>>,
    pub a_ready: Signal<Out, Bit>,
    // Source B (NIC-generated frames)
    pub b_valid: Signal<In, Bit>,
    pub b_data: Signal<In, Bits<512>>,
    pub b_keep: Signal<In, Bits<64>>,
    pub b_last: Signal<In, Bit>,
    pub b_flags: Signal<In, Bits<2>>,
    pub b_ready: Signal<Out, Bit>,
    // Output
    pub o_valid: Signal<Out, Bit>,
    pub o_data: Signal<Out, Bits<512>>,
    pub o_keep: Signal<Out, Bits<64>>,
    pub o_last: Signal<Out, Bit>,
    pub o_flags: Signal<Out, Bits<2>>,
    pub o_ready: Signal<In, Bit>,
    /// The grant: B (else A).
    cur_b: DFF<Bit>,
    /// Inside a frame of the granted source.
    busy: DFF<Bit>,
    hs: Signal<Local, Bit>,
    lst: Signal<Local, Bit>,
    other: Signal<Local, Bit>,
    mine: Signal<Local, Bit>,
}

impl Logic for TxArb {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, cur_b, busy);
        self.o_valid.next = self.a_valid.val();
        self.o_data.next = self.a_data.val();
        self.o_keep.next = self.a_keep.val();
        self.o_last.next = self.a_last.val();
        self.o_flags.next = self.a_flags.val();
        if self.cur_b.q.val() {
            self.o_valid.next = self.b_valid.val();
            self.o_data.next = self.b_data.val();
            self.o_keep.next = self.b_keep.val();
            self.o_last.next = self.b_last.val();
            self.o_flags.next = self.b_flags.val();
        }
        self.a_ready.next = self.o_ready.val() && !self.cur_b.q.val();
        self.b_ready.next = self.o_ready.val() && self.cur_b.q.val();
        // State, from the inputs (outputs are not read back).
        self.mine.next = (self.cur_b.q.val() && self.b_valid.val())
            || (!self.cur_b.q.val() && self.a_valid.val());
        self.other.next = (self.cur_b.q.val() && self.a_valid.val())
            || (!self.cur_b.q.val() && self.b_valid.val());
        self.lst.next =
            (self.cur_b.q.val() && self.b_last.val()) || (!self.cur_b.q.val() && self.a_last.val());
        self.hs.next = self.mine.val() && self.o_ready.val();
        if self.hs.val() {
            self.busy.d.next = !self.lst.val();
            if self.lst.val() && self.other.val() {
                self.cur_b.d.next = !self.cur_b.q.val();
            }
        }
        if !self.busy.q.val() && !self.mine.val() && self.other.val() {
            self.cur_b.d.next = !self.cur_b.q.val();
        }
        if self.rst.val() {
            self.cur_b.d.next = false;
            self.busy.d.next = false;
        }
    }
}
