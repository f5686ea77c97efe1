//! The teardown entries' timers: one deadline per slot in a RAM, swept
//! once per tick, so that no per-packet scan is needed and the resolution
//! does not depend on how full the table is (issue 17; docs/teardown.md,
//! "Timers").
//!
//! * The engine arms a slot with a deadline (a tick of the timestamp clock,
//!   the low 32 bits) or disarms it, one slot per cycle on `set_*` (port B
//!   of the RAM).
//! * When `now` changes, a pass reads every slot on port A, one per cycle,
//!   and queues each armed slot whose deadline has come (`deadline <= now`
//!   in sequence space, RFC 9293 3.4 style, so a pass that runs late still
//!   finds it) on `fire_*`.  2^S slots take 2^S cycles: 65,536 slots are
//!   a quarter of a 1 ms tick at 250 MHz, so every pass ends within the tick
//!   that started it and a deadline fires in its own tick.  A tick that
//!   comes during a pass starts the next pass right after it (`overruns`
//!   counts those: none means every deadline fired in its tick).
//! * A full fire queue pauses the pass (nothing is skipped).  A slot stays
//!   armed until the engine changes it, so a slot whose fire the engine has
//!   not handled by the next pass fires again: the engine checks each fire
//!   against the entry (armed, deadline come) and ignores the others.
//! * Reset clears the RAM, one slot per cycle (`clearing`; `set_ready` low
//!   meanwhile), since RAM contents are undefined at power-up.
use crate::common::dual_port_ram::DualPortRam;
use crate::common::fifo::ClearFifo;
use rust_hdl::prelude::*;

/// The fire queue: 16 slots, and room for the three reads in flight (and
/// one spare) when the pass pauses.
type FireFifo<const S: usize> = ClearFifo<Bits<S>, 4, 5, 5>;

#[derive(LogicBlock, Default)]
pub struct TimerSweep<const S: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The tick (timestamp clock).
    pub now: Signal<In, Bits<32>>,
    /// Arm (`set_armed`) a slot with `set_deadline`, or disarm it.
    pub set_valid: Signal<In, Bit>,
    pub set_ready: Signal<Out, Bit>,
    pub set_slot: Signal<In, Bits<S>>,
    pub set_armed: Signal<In, Bit>,
    pub set_deadline: Signal<In, Bits<32>>,
    /// A slot whose deadline has come.
    pub fire_valid: Signal<Out, Bit>,
    pub fire_ready: Signal<In, Bit>,
    pub fire_slot: Signal<Out, Bits<S>>,
    /// The RAM is being cleared after a reset.
    pub clearing: Signal<Out, Bit>,
    /// Passes completed, and ticks that came during a pass.
    pub passes: Signal<Out, Bits<32>>,
    pub overruns: Signal<Out, Bits<32>>,
    /// Slot word: bit 32 armed, bits 31:0 the deadline.
    ram: DualPortRam<Bits<33>, S>,
    fires: FireFifo<S>,
    clear_busy: DFF<Bit>,
    clear_slot: DFF<Bits<S>>,
    tick_seen: DFF<Bits<32>>,
    /// A tick came: a pass is owed.
    pass_owed: DFF<Bit>,
    sweeping: DFF<Bit>,
    sweep_slot: DFF<Bits<S>>,
    /// The read issued last cycle (its data is on port A now).
    rd_valid: DFF<Bit>,
    rd_slot: DFF<Bits<S>>,
    /// The RAM's output registered (an UltraRAM's clock-to-out is long).
    word_valid: DFF<Bit>,
    word_slot: DFF<Bits<S>>,
    word: DFF<Bits<33>>,
    /// Registered comparison: the slot to queue.
    due_valid: DFF<Bit>,
    due_slot: DFF<Bits<S>>,
    pass_count: DFF<Bits<32>>,
    overrun_count: DFF<Bits<32>>,
    last_slot: Signal<Local, Bit>,
    advance: Signal<Local, Bit>,
    overdue: Signal<Local, Bits<32>>,
}

impl<const S: usize> Logic for TimerSweep<S> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            clear_busy,
            clear_slot,
            tick_seen,
            pass_owed,
            sweeping,
            sweep_slot,
            rd_valid,
            rd_slot,
            word_valid,
            word_slot,
            word,
            due_valid,
            due_slot,
            pass_count,
            overrun_count
        );
        clock!(self, clock, fires);
        self.ram.clock.next = self.clock.val();
        // ------------------------------------------------------ port B: the engine, or the clear
        self.set_ready.next = !self.clear_busy.q.val();
        self.ram.b_addr.next = self.set_slot.val();
        self.ram.b_we.next = self.set_valid.val() && !self.clear_busy.q.val();
        self.ram.b_wdata.next = bit_cast::<33, 32>(self.set_deadline.val())
            | (bit_cast::<33, 1>(self.set_armed.val().into()) << 32);
        if self.clear_busy.q.val() {
            self.ram.b_addr.next = self.clear_slot.q.val();
            self.ram.b_we.next = true;
            self.ram.b_wdata.next = 0.into();
            self.clear_slot.d.next = self.clear_slot.q.val() + 1;
            if self.clear_slot.q.val().all() {
                self.clear_busy.d.next = false;
            }
        }
        self.clearing.next = self.clear_busy.q.val();
        // ------------------------------------------------------ passes
        if self.now.val() != self.tick_seen.q.val() {
            self.tick_seen.d.next = self.now.val();
            self.pass_owed.d.next = true;
            if self.sweeping.q.val() {
                self.overrun_count.d.next = self.overrun_count.q.val() + 1;
            }
        }
        self.last_slot.next = self.sweep_slot.q.val().all();
        // A read goes out when sweeping and the queue has room for it and
        // the three before it.
        self.advance.next =
            self.sweeping.q.val() && !self.fires.almost_full.val() && !self.clear_busy.q.val();
        self.ram.a_addr.next = self.sweep_slot.q.val();
        self.rd_valid.d.next = self.advance.val();
        self.rd_slot.d.next = self.sweep_slot.q.val();
        if self.advance.val() {
            self.sweep_slot.d.next = self.sweep_slot.q.val() + 1;
            if self.last_slot.val() {
                self.sweeping.d.next = false;
                self.pass_count.d.next = self.pass_count.q.val() + 1;
            }
        }
        if !self.sweeping.q.val() && self.pass_owed.q.val() && !self.clear_busy.q.val() {
            self.sweeping.d.next = true;
            self.pass_owed.d.next = false;
            self.sweep_slot.d.next = 0.into();
        }
        self.word_valid.d.next = self.rd_valid.q.val();
        self.word_slot.d.next = self.rd_slot.q.val();
        self.word.d.next = self.ram.a_data.val();
        // Armed and deadline <= now.
        self.overdue.next = self.now.val() - self.word.q.val().get_bits::<32>(0);
        self.due_valid.d.next = self.word_valid.q.val()
            && self.word.q.val().get_bit(32)
            && !self.overdue.val().get_bit(31);
        self.due_slot.d.next = self.word_slot.q.val();
        self.fires.write.next = self.due_valid.q.val();
        self.fires.data_in.next = self.due_slot.q.val();
        self.fires.clear.next = self.rst.val();
        self.fire_valid.next = !self.fires.empty.val();
        self.fire_slot.next = self.fires.data_out.val();
        self.fires.read.next = self.fire_ready.val() && !self.fires.empty.val();
        self.passes.next = self.pass_count.q.val();
        self.overruns.next = self.overrun_count.q.val();
        // ------------------------------------------------------ reset
        if self.rst.val() {
            self.clear_busy.d.next = true;
            self.clear_slot.d.next = 0.into();
            self.tick_seen.d.next = self.now.val();
            self.pass_owed.d.next = false;
            self.sweeping.d.next = false;
            self.sweep_slot.d.next = 0.into();
            self.rd_valid.d.next = false;
            self.rd_slot.d.next = 0.into();
            self.word_valid.d.next = false;
            self.word_slot.d.next = 0.into();
            self.word.d.next = 0.into();
            self.due_valid.d.next = false;
            self.due_slot.d.next = 0.into();
            self.pass_count.d.next = 0.into();
            self.overrun_count.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_sweep_generates_verilog() {
        // The size of a 64K-entry table.
        let mut uut = TimerSweep::<16>::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
        // `TOE_DUMP_VERILOG=dir` keeps it (for `cargo xtask depth --verilog`).
        if let Ok(dir) = std::env::var("TOE_DUMP_VERILOG") {
            std::fs::write(format!("{dir}/timer_sweep.v"), v).unwrap();
        }
    }
}
