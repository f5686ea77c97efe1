//! RTL of the TOE SmartNIC in RustHDL.
//!
//! One module per file, valid/ready streams between them.  `verilog()` renders
//! the whole design as Verilog with top module `toe`.

pub mod common;
pub mod cpl_coalesce;
pub mod desc_fetch;
pub mod frame_sum;
pub mod regs;
pub mod rx;
pub mod setup;
pub mod teardown;
pub mod top;
pub mod tx;

use rust_hdl::prelude::*;

/// Generated Verilog of the full design, top module `toe`: rust-hdl's output
/// with its full-width field extractions narrowed to part-selects
/// ([`narrow::narrow_extracts`]).
pub fn verilog() -> String {
    // The design's structure and rust-hdl's walk over it take more stack
    // than a test thread's 2 MiB: build it on a thread of its own.
    let gen = || {
        let mut uut = top::Toe::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        narrow::narrow_extracts(&v.replace("module top(", "module toe("))
    };
    match std::thread::Builder::new()
        .name("verilog".into())
        .stack_size(256 << 20)
        .spawn(gen)
    {
        Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        // No thread to be had: try on this one.
        Err(_) => gen(),
    }
}

pub mod narrow;

pub mod vlt;
pub use vlt::verilator_config;

/// The design's Verilog with names a Tcl shell takes as they are: rust-hdl
/// joins a module's instance path with `$` (`top$rx$fsum`, `age$q`), which
/// Vivado's Tcl (XDC, `get_cells`, reports) would substitute as variables.
/// Every `$` inside an identifier becomes `__`; system tasks (`$signed`)
/// stay.  Used by the Vivado flow (`cargo xtask vivado`).
pub fn verilog_for_vivado() -> String {
    tcl_safe_names(&verilog())
}

/// `$` between identifier characters becomes `__` (see
/// [`verilog_for_vivado`]).
pub fn tcl_safe_names(v: &str) -> String {
    let b = v.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = String::with_capacity(v.len() + v.len() / 64);
    let mut last = 0;
    for i in 0..b.len() {
        if b[i] == b'$' && i > 0 && i + 1 < b.len() && ident(b[i - 1]) && ident(b[i + 1]) {
            out.push_str(&v[last..i]);
            out.push_str("__");
            last = i + 1;
        }
    }
    out.push_str(&v[last..]);
    out
}

#[cfg(test)]
mod names_tests {
    #[test]
    fn dollars_inside_names_become_double_underscores_and_system_tasks_stay() {
        let v = "module top$rx$fsum(a$q);\n  assign x = $signed(a$q) + $unsigned(b);\nendmodule";
        assert_eq!(
            super::tcl_safe_names(v),
            "module top__rx__fsum(a__q);\n  assign x = $signed(a__q) + $unsigned(b);\nendmodule"
        );
    }
}
