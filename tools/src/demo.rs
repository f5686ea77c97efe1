//! `cargo xtask demo`: the simulated SmartNIC moving traffic, with a printed
//! summary.  No privileges, no hardware.
//!
//! Hook for the RTL/sim engineer: fill in [`run`].  The CLI has already run
//! `deps::ensure(deps::SIM)` (Verilator, g++, clang, make, zlib headers) when `run`
//! is called.
//!
//! Bootstrap constraint: toe-tools must build on a machine without Verilator
//! (installing it is `cargo xtask deps`' job), so do not make toe-tools depend
//! on a crate whose build script runs Verilator.  Either run the simulation
//! as a child process (e.g. `cargo run -p toe-sim --example demo`, using
//! `std::env::var("CARGO")`), or make toe-sim's Verilator step lazy.

use anyhow::Result;
use std::path::PathBuf;

/// Options of `cargo xtask demo`.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Seed of the traffic generators, so a run can be reproduced.
    pub seed: u64,
    /// Write an FST waveform of the run here.
    pub trace: Option<PathBuf>,
}

/// Runs the demo and prints its summary.
pub fn run(opts: &DemoOptions) -> Result<()> {
    let mut args = vec!["--seed".to_string(), opts.seed.to_string()];
    if let Some(t) = &opts.trace {
        args.push("--trace".into());
        args.push(t.display().to_string());
    }
    crate::simrun::run_simapp("toe-demo", &args)
}
