//! RTL of the TOE SmartNIC in RustHDL.
//!
//! One module per file, valid/ready streams between them.  `verilog()` renders
//! the whole design as Verilog with top module `toe`.

pub mod cpl_coalesce;
pub mod desc_fetch;
pub mod fifo;
pub mod frame_sum;
pub mod regs;
pub mod rx;
pub mod setup;
pub mod top;
pub mod tx;

use rust_hdl::prelude::*;

/// Generated Verilog of the full design, top module `toe`: rust-hdl's output
/// with its full-width field extractions narrowed to part-selects
/// ([`narrow::narrow_extracts`]).
pub fn verilog() -> String {
    let mut uut = top::Toe::default();
    uut.connect_all();
    let v = generate_verilog(&uut);
    narrow::narrow_extracts(&v.replace("module top(", "module toe("))
}

pub mod narrow;

pub mod vlt;
pub use vlt::verilator_config;
