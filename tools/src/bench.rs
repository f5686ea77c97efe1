//! `cargo xtask bench`: throughput and latency of the simulated SmartNIC,
//! as a table or (with `--json`) one JSON object; the README's
//! "Measurements" table is filled from it.
//!
//! Hook for the RTL/sim engineer: fill in [`run`].  The CLI has already run
//! `deps::ensure(deps::SIM)` when `run` is called.  Same bootstrap constraint
//! as `demo` (see tools/src/demo.rs): no build dependency on Verilator.

use anyhow::Result;

/// Options of `cargo xtask bench`.
#[derive(Clone, Debug, Default)]
pub struct BenchOptions {
    /// Print one JSON object instead of a table.
    pub json: bool,
    /// Seed of the traffic generators.
    pub seed: u64,
}

/// Runs the benchmarks and prints the results.  Report only measured
/// figures: simulated cycles at the 250 MHz target clock, never estimates.
pub fn run(opts: &BenchOptions) -> Result<()> {
    let mut args = vec!["--seed".to_string(), opts.seed.to_string()];
    if opts.json {
        args.push("--json".into());
    }
    crate::simrun::run_simapp("toe-bench", &args)
}
