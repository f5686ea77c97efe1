//! A register slice (a "full" skid buffer) for one valid/ready channel of
//! `W` bits: every output is a flip-flop (`out_valid`, `out_data` and
//! `in_ready`), so nothing on one side depends combinationally on the
//! other, and it still moves one transfer per cycle.
//!
//! Placed on the chip's AXI master channels and its TX stream (top.rs), it
//! makes every external output registered, which is what a timing tool and
//! an AXI interconnect expect, at one cycle of latency per channel.
//!
//! Two registers: the output register and a skid register that catches the
//! one transfer accepted while the output stalls (`in_ready` is registered,
//! so it can only fall a cycle later).  `in_ready` is high exactly while
//! the skid register is empty.
//!
//! `next_valid`/`next_data` show the word that `out_data` will hold after
//! the current one is taken (the skid word, else the input): a consumer
//! that registers its `out_ready` (takes a word, pops it a cycle later)
//! reads the following word from them in the cycle between.
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RegSlice<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<W>>,
    pub in_ready: Signal<Out, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<W>>,
    pub out_ready: Signal<In, Bit>,
    pub next_valid: Signal<Out, Bit>,
    pub next_data: Signal<Out, Bits<W>>,
    out_full: DFF<Bit>,
    out_word: DFF<Bits<W>>,
    skid_full: DFF<Bit>,
    skid_word: DFF<Bits<W>>,
}

impl<const W: usize> Default for RegSlice<W> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_data: Default::default(),
            in_ready: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            out_ready: Default::default(),
            next_valid: Default::default(),
            next_data: Default::default(),
            out_full: Default::default(),
            out_word: Default::default(),
            skid_full: Default::default(),
            skid_word: Default::default(),
        }
    }
}

impl<const W: usize> Logic for RegSlice<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, out_full, out_word, skid_full, skid_word);
        self.in_ready.next = !self.skid_full.q.val();
        self.out_valid.next = self.out_full.q.val();
        self.out_data.next = self.out_word.q.val();
        self.next_valid.next = self.skid_full.q.val() || self.in_valid.val();
        self.next_data.next = self.in_data.val();
        if self.skid_full.q.val() {
            self.next_data.next = self.skid_word.q.val();
        }
        if self.out_ready.val() || !self.out_full.q.val() {
            // The output register moves on: it takes the skid word, else
            // this cycle's input (accepted: the skid register is empty).
            if self.skid_full.q.val() {
                self.out_full.d.next = true;
                self.out_word.d.next = self.skid_word.q.val();
                self.skid_full.d.next = false;
            } else {
                self.out_full.d.next = self.in_valid.val();
                if self.in_valid.val() {
                    self.out_word.d.next = self.in_data.val();
                }
            }
        } else if self.in_valid.val() && !self.skid_full.q.val() {
            // The output stalls: the accepted input waits in the skid register.
            self.skid_full.d.next = true;
            self.skid_word.d.next = self.in_data.val();
        }
        if self.rst.val() {
            self.out_full.d.next = false;
            self.skid_full.d.next = false;
        }
    }
}
