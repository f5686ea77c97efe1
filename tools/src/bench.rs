//! `cargo xtask bench`: throughput and latency of the simulated SmartNIC,
//! as a table or (with `--json`) one JSON object; the README's
//! "Measurements" table is filled from it.
//!
//! Two programs: the whole chip (`toe-simapps`' `toe-bench`), then the
//! connection table block at its default size (`cargo bench -p toe-hdl
//! --bench conn_table`: lookups per cycle, load factor at the first
//! "full"), whose JSON object joins the chip's under `"conn_table"`.
//!
//! The CLI has already run `deps::ensure(deps::SIM)` when `run` is called.
//! Same bootstrap constraint as `demo` (see tools/src/demo.rs): no build
//! dependency on Verilator.

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};

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
        let chip = capture(&cargo_cmd(
            &[
                "run",
                "--release",
                "--quiet",
                "-p",
                "toe-simapps",
                "--bin",
                "toe-bench",
            ],
            &args,
        ))?;
        let table = capture(&conn_table_cmd(&args))?;
        println!("{}", join_json(&chip, "conn_table", &table)?);
        return Ok(());
    }
    crate::simrun::run_simapp("toe-bench", &args)?;
    println!();
    let status = conn_table_cmd(&args)
        .status()
        .context("could not start `cargo bench -p toe-hdl --bench conn_table`")?;
    if !status.success() {
        bail!("the connection table benchmark failed ({status})");
    }
    Ok(())
}

fn cargo_cmd(cargo_args: &[&str], args: &[String]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(cargo_args).arg("--").args(args);
    c
}

/// The connection table benchmark (a bench target of toe-hdl: it reuses
/// the block tests' Verilator rig and needs Verilator only when it runs).
pub fn conn_table_cmd(args: &[String]) -> Command {
    cargo_cmd(
        &["bench", "--quiet", "-p", "toe-hdl", "--bench", "conn_table"],
        args,
    )
}

/// Runs `cmd`, returns its standard output (standard error passes through).
fn capture(cmd: &Command) -> Result<String> {
    let mut c = Command::new(cmd.get_program());
    c.args(cmd.get_args()).stderr(Stdio::inherit());
    let out = c
        .output()
        .with_context(|| format!("could not start {:?}", cmd))?;
    if !out.status.success() {
        bail!("{:?} failed ({})", cmd, out.status);
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// `outer` (one JSON object) with `inner` (another) added under `key`,
/// the text of both otherwise unchanged.
pub fn join_json(outer: &str, key: &str, inner: &str) -> Result<String> {
    for (what, text) in [("chip", outer), (key, inner)] {
        let v: serde_json::Value = serde_json::from_str(text)
            .with_context(|| format!("the {what} benchmark printed no JSON: {text:?}"))?;
        if !v.is_object() {
            bail!("the {what} benchmark printed {text:?}, not one JSON object");
        }
    }
    let body = outer
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(outer)
        .trim_end();
    let sep = if body.ends_with('{') { "" } else { "," };
    Ok(format!("{body}{sep}\"{key}\":{}}}", inner.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_json_joins_the_connection_table_object() {
        let j = join_json(
            r#"{"clock_hz":250000000,"throughput":[]}"#,
            "conn_table",
            r#"{"lookups_per_cycle":1.0}"#,
        )
        .unwrap();
        assert_eq!(
            j,
            r#"{"clock_hz":250000000,"throughput":[],"conn_table":{"lookups_per_cycle":1.0}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["conn_table"]["lookups_per_cycle"], 1.0);
        assert_eq!(join_json("{}", "k", "{}").unwrap(), r#"{"k":{}}"#);
        assert!(join_json("not json", "k", "{}").is_err());
    }
}
