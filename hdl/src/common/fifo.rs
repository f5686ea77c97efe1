//! Synchronous first-word-fall-through FIFO with a synchronous `clear` and
//! registered flags, the one FIFO of the design.
//!
//! rust-hdl's `SynchronousFIFO` has no reset: its pointers keep their values
//! through `rst`, so a function-level reset (or a queue reset) would leave
//! stale entries behind.  This FIFO has the same interface (less the unused
//! outputs) plus `clear`, which empties it at the next edge.  Its `empty`,
//! `full`, `almost_full` and `level` come straight from flip-flops, computed
//! as next state in the cycle before (from the level and this cycle's write
//! and read) instead of compared from the pointers after the edge, and the
//! read pointer's successor is kept in a register, so `read` reaches the
//! RAM's read address through one multiplexer: a block that acts on a
//! FIFO's flags starts its logic at a register (docs/timing.md).
//!
//! * `data_out` shows the oldest entry whenever `empty` is low; `read`
//!   pops it.  An entry becomes visible two edges after its write (the RAM
//!   read is registered).
//! * `full` and `almost_full` (fewer than `BLOCK` free) count entries
//!   written but not yet visible, so they never report more room than
//!   there is; `level` is the number of entries held, with the same count.
//! * A write while full and a read while empty are ignored.
//! * Every register's power-up value (0) is the empty state, so the FIFO
//!   is empty from power-up as well as after `clear`.
use rust_hdl::prelude::*;

/// `declare_clear_fifo!(Name, Type, entries, block)`.
#[macro_export]
macro_rules! declare_clear_fifo {
    ($name: ident, $kind: ty, $count: expr, $block: expr) => {
        pub type $name = $crate::common::fifo::ClearFifo<
            $kind,
            { clog2($count) },
            { clog2($count) + 1 },
            $block,
        >;
    };
}

#[derive(LogicBlock)]
pub struct ClearFifo<D: Synth, const N: usize, const NP1: usize, const BLOCK: u32> {
    pub clock: Signal<In, Clock>,
    /// Empties the FIFO at the next edge (writes and reads of this cycle
    /// are dropped).
    pub clear: Signal<In, Bit>,
    pub read: Signal<In, Bit>,
    pub data_out: Signal<Out, D>,
    pub empty: Signal<Out, Bit>,
    pub write: Signal<In, Bit>,
    pub data_in: Signal<In, D>,
    pub full: Signal<Out, Bit>,
    pub almost_full: Signal<Out, Bit>,
    /// Entries held, counting writes not yet visible.
    pub level: Signal<Out, Bits<NP1>>,
    ram: RAM<D, N>,
    /// Read and write pointers with one wrap bit; `wptr_seen` is the write
    /// pointer one edge late (entries below it are readable from the RAM).
    rptr: DFF<Bits<NP1>>,
    wptr: DFF<Bits<NP1>>,
    wptr_seen: DFF<Bits<NP1>>,
    /// `rptr + 1` with bit 0 inverted (so that its power-up value 0 means 1).
    rptr_inc_x: DFF<Bits<NP1>>,
    /// Entries held (`wptr - rptr`).
    held: DFF<Bits<NP1>>,
    /// Registered flags: an entry is visible; `held == size`;
    /// `held >= size - BLOCK`.
    nonempty_r: DFF<Bit>,
    full_r: DFF<Bit>,
    afull_r: DFF<Bit>,
    do_read: Signal<Local, Bit>,
    do_write: Signal<Local, Bit>,
    rptr_inc: Signal<Local, Bits<NP1>>,
    rptr_inc2: Signal<Local, Bits<NP1>>,
    rnext: Signal<Local, Bits<NP1>>,
    held_up: Signal<Local, Bits<NP1>>,
    held_down: Signal<Local, Bits<NP1>>,
    size: Constant<Bits<NP1>>,
    size_m1: Constant<Bits<NP1>>,
    af_level: Constant<Bits<NP1>>,
    af_m1: Constant<Bits<NP1>>,
    af_p1: Constant<Bits<NP1>>,
    one: Constant<Bits<NP1>>,
}

impl<D: Synth, const N: usize, const NP1: usize, const BLOCK: u32> Default
    for ClearFifo<D, N, NP1, BLOCK>
{
    fn default() -> Self {
        assert_eq!(NP1, N + 1);
        assert!(
            BLOCK >= 1 && (BLOCK as u128) < (1u128 << N),
            "almost-full block must be at least 1 and smaller than the FIFO"
        );
        let size = 1u128 << N;
        let af = size - BLOCK as u128;
        Self {
            clock: Default::default(),
            clear: Default::default(),
            read: Default::default(),
            data_out: Default::default(),
            empty: Default::default(),
            write: Default::default(),
            data_in: Default::default(),
            full: Default::default(),
            almost_full: Default::default(),
            level: Default::default(),
            ram: Default::default(),
            rptr: Default::default(),
            wptr: Default::default(),
            wptr_seen: Default::default(),
            rptr_inc_x: Default::default(),
            held: Default::default(),
            nonempty_r: Default::default(),
            full_r: Default::default(),
            afull_r: Default::default(),
            do_read: Default::default(),
            do_write: Default::default(),
            rptr_inc: Default::default(),
            rptr_inc2: Default::default(),
            rnext: Default::default(),
            held_up: Default::default(),
            held_down: Default::default(),
            size: Constant::new(size.to_bits()),
            size_m1: Constant::new((size - 1).to_bits()),
            af_level: Constant::new(af.to_bits()),
            af_m1: Constant::new((af - 1).to_bits()),
            af_p1: Constant::new((af + 1).to_bits()),
            one: Constant::new(1u128.to_bits()),
        }
    }
}

impl<D: Synth, const N: usize, const NP1: usize, const BLOCK: u32> Logic
    for ClearFifo<D, N, NP1, BLOCK>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, rptr, wptr, wptr_seen, rptr_inc_x, held, nonempty_r, full_r, afull_r
        );
        // Outputs from registers only.
        self.empty.next = !self.nonempty_r.q.val();
        self.full.next = self.full_r.q.val();
        self.almost_full.next = self.afull_r.q.val();
        self.level.next = self.held.q.val();
        self.do_read.next = self.read.val() && self.nonempty_r.q.val();
        self.do_write.next = self.write.val() && !self.full_r.q.val();
        // Successors, computed from registers alongside (each in a signal
        // of the pointer's width, so that it wraps).
        self.rptr_inc.next = self.rptr_inc_x.q.val() ^ self.one.val();
        self.rptr_inc2.next = self.rptr_inc.val() + 1;
        self.held_up.next = self.held.q.val() + 1;
        self.held_down.next = self.held.q.val() - 1;
        self.rnext.next = self.rptr.q.val();
        if self.do_read.val() {
            self.rnext.next = self.rptr_inc.val();
            self.rptr_inc_x.d.next = self.rptr_inc2.val() ^ self.one.val();
            self.nonempty_r.d.next = self.rptr_inc.val() != self.wptr.q.val();
        } else {
            self.nonempty_r.d.next = self.rptr.q.val() != self.wptr.q.val();
        }
        self.rptr.d.next = self.rnext.val();
        if self.do_write.val() {
            self.wptr.d.next = self.wptr.q.val() + 1;
        }
        self.wptr_seen.d.next = self.wptr.q.val();
        // Level and flags of the next cycle, from the present level and
        // this cycle's write and read.
        if self.do_write.val() && !self.do_read.val() {
            self.held.d.next = self.held_up.val();
            self.full_r.d.next = self.held.q.val() == self.size_m1.val();
            self.afull_r.d.next = self.held.q.val() >= self.af_m1.val();
        } else if !self.do_write.val() && self.do_read.val() {
            self.held.d.next = self.held_down.val();
            self.full_r.d.next = false;
            self.afull_r.d.next = self.held.q.val() >= self.af_p1.val();
        } else {
            self.full_r.d.next = self.held.q.val() == self.size.val();
            self.afull_r.d.next = self.held.q.val() >= self.af_level.val();
        }
        // The RAM reads the entry that will be at the head after this edge.
        self.ram.read_clock.next = self.clock.val();
        self.ram.read_address.next = self.rnext.val().get_bits::<N>(0);
        self.data_out.next = self.ram.read_data.val();
        self.ram.write_clock.next = self.clock.val();
        self.ram.write_enable.next = self.do_write.val() && !self.clear.val();
        self.ram.write_address.next = self.wptr.q.val().get_bits::<N>(0);
        self.ram.write_data.next = self.data_in.val();
        if self.clear.val() {
            self.rptr.d.next = 0.into();
            self.wptr.d.next = 0.into();
            self.wptr_seen.d.next = 0.into();
            self.rptr_inc_x.d.next = 0.into();
            self.held.d.next = 0.into();
            self.nonempty_r.d.next = false;
            self.full_r.d.next = false;
            self.afull_r.d.next = false;
        }
    }
}
