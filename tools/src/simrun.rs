//! Runs a program of the `toe-simapps` crate (the simulated NIC) as a child
//! `cargo run --release`, so that this CLI builds on a machine without
//! Verilator (toe-sim's build script needs it; `deps` installs it first).
use anyhow::{bail, Context, Result};
use std::process::Command;

pub fn run_simapp(bin: &str, args: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "toe-simapps",
            "--bin",
            bin,
            "--",
        ])
        .args(args)
        .status()
        .with_context(|| format!("could not start `cargo run -p toe-simapps --bin {bin}`"))?;
    if !status.success() {
        bail!("{bin} failed ({status})");
    }
    Ok(())
}
