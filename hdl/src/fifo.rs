//! Synchronous first-word-fall-through FIFO with a synchronous `clear`.
//!
//! rust-hdl's `SynchronousFIFO` has no reset: its pointers keep their values
//! through `rst`, so a function-level reset (or a queue reset) would leave
//! stale entries behind.  This FIFO has the same interface (less the unused
//! outputs) plus `clear`, which empties it at the next edge; its pointers
//! start at 0, so it is also empty from power-up.
//!
//! * `data_out` shows the oldest entry whenever `empty` is low; `read`
//!   pops it.  An entry becomes visible two edges after its write (the RAM
//!   read is registered).
//! * `full` and `almost_full` (fewer than `BLOCK` free) are computed from
//!   the registered pointers, counting entries written but not yet visible,
//!   so they never report more room than there is.
//! * A write while full and a read while empty are ignored.
use rust_hdl::prelude::*;

/// `declare_clear_fifo!(Name, Type, entries, block)`.
#[macro_export]
macro_rules! declare_clear_fifo {
    ($name: ident, $kind: ty, $count: expr, $block: expr) => {
        pub type $name =
            $crate::fifo::ClearFifo<$kind, { clog2($count) }, { clog2($count) + 1 }, $block>;
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
    /// Entries held, counting writes not yet visible (from registers).
    pub level: Signal<Out, Bits<NP1>>,
    ram: RAM<D, N>,
    /// Read and write pointers with one wrap bit; `wptr_seen` is the write
    /// pointer one edge late (entries below it are readable from the RAM).
    rptr: DFF<Bits<NP1>>,
    wptr: DFF<Bits<NP1>>,
    wptr_seen: DFF<Bits<NP1>>,
    do_read: Signal<Local, Bit>,
    do_write: Signal<Local, Bit>,
    rnext: Signal<Local, Bits<NP1>>,
    size: Constant<Bits<NP1>>,
    af_level: Constant<Bits<NP1>>,
}

impl<D: Synth, const N: usize, const NP1: usize, const BLOCK: u32> Default
    for ClearFifo<D, N, NP1, BLOCK>
{
    fn default() -> Self {
        assert_eq!(NP1, N + 1);
        assert!(
            (BLOCK as u128) < (1u128 << N),
            "almost-full block must be smaller than the FIFO"
        );
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
            do_read: Default::default(),
            do_write: Default::default(),
            rnext: Default::default(),
            size: Constant::new((1u128 << N).to_bits()),
            af_level: Constant::new(((1u128 << N) - BLOCK as u128).to_bits()),
        }
    }
}

impl<D: Synth, const N: usize, const NP1: usize, const BLOCK: u32> Logic
    for ClearFifo<D, N, NP1, BLOCK>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rptr, wptr, wptr_seen);
        // Outputs from registers only (no path from `read`/`write`), written
        // without scratch signals so that each stays an assignment of its
        // own (see vlt.rs).
        self.full.next = (self.wptr.q.val() - self.rptr.q.val()) == self.size.val();
        self.almost_full.next = (self.wptr.q.val() - self.rptr.q.val()) >= self.af_level.val();
        self.empty.next = self.rptr.q.val() == self.wptr_seen.q.val();
        self.level.next = self.wptr.q.val() - self.rptr.q.val();
        self.do_read.next = self.read.val() && (self.rptr.q.val() != self.wptr_seen.q.val());
        self.do_write.next =
            self.write.val() && ((self.wptr.q.val() - self.rptr.q.val()) != self.size.val());
        self.rnext.next = self.rptr.q.val();
        if self.do_read.val() {
            self.rnext.next = self.rptr.q.val() + 1;
        }
        self.rptr.d.next = self.rnext.val();
        if self.do_write.val() {
            self.wptr.d.next = self.wptr.q.val() + 1;
        }
        self.wptr_seen.d.next = self.wptr.q.val();
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
        }
    }
}
