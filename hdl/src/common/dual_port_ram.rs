//! A RAM with a read-only port A and a read/write port B on one clock,
//! both reads registered (data the cycle after the address), written as the
//! inference template that Yosys (`synth_xilinx -uram`) and Vivado map to
//! UltraRAM (large) or block RAM: port B is "no change" (its read data holds
//! in a write cycle), and a port-A read of the address port B writes in the
//! same cycle returns the old contents (UltraRAM executes port A before
//! port B; Yosys' URAM library: port B `wrtrans all old`).  rust-hdl's
//! `RAM` has one read and one write port, so a block that reads on one port
//! every cycle (lookups) could not also read on the other (the
//! modification engine).
//!
//! No reset: contents are undefined after power-up; users clear them with a
//! sweep (see `conn_table_engine`).
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

#[derive(LogicBlock, Default)]
pub struct DualPortRam<D: Synth, const N: usize> {
    pub clock: Signal<In, Clock>,
    /// Port A: read only.
    pub a_addr: Signal<In, Bits<N>>,
    pub a_data: Signal<Out, D>,
    /// Port B: a write when `b_we`, else a read.
    pub b_addr: Signal<In, Bits<N>>,
    pub b_we: Signal<In, Bit>,
    pub b_wdata: Signal<In, D>,
    pub b_data: Signal<Out, D>,
    _sim: BTreeMap<Bits<N>, D>,
}

impl<D: Synth, const N: usize> Logic for DualPortRam<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.a_data.next = *self._sim.get(&self.a_addr.val()).unwrap_or(&D::default());
            if self.b_we.val() {
                self._sim.insert(self.b_addr.val(), self.b_wdata.val());
            } else {
                self.b_data.next = *self._sim.get(&self.b_addr.val()).unwrap_or(&D::default());
            }
        }
    }

    fn connect(&mut self) {
        self.a_data.connect();
        self.b_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
reg [{d}:0] mem[{last}:0];

always @(posedge clock) begin
   a_data <= mem[a_addr];
end

always @(posedge clock) begin
   if (b_we) begin
      mem[b_addr] <= b_wdata;
   end else begin
      b_data <= mem[b_addr];
   end
end
",
            d = D::BITS - 1,
            last = (1usize << N) - 1
        ))
    }
}
