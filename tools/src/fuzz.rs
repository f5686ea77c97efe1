//! `cargo xtask fuzz` and the fuzzing step of `cargo xtask test`: the
//! cargo-fuzz targets under `fuzz/` (their own workspace, built with the
//! nightly toolchain) and the differential run of the chip against the
//! model (`toe-diff` in tools/simapps).  See docs/fuzzing.md.
use crate::deps::workspace_root;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Every fuzz target (fuzz/fuzz_targets/NAME.rs).
pub const TARGETS: &[&str] = &[
    "net_frames",
    "tcp_states",
    "driver_completions",
    "capi_args",
    "model_parse",
];

/// How a campaign runs.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Targets (all when empty).
    pub targets: Vec<String>,
    /// Seconds per target (libFuzzer -max_total_time).
    pub secs: Option<u64>,
    /// Executions per target (libFuzzer -runs).
    pub runs: Option<u64>,
    /// AddressSanitizer (the default) or none (about twice as fast, for
    /// long campaigns; debug assertions stay on either way).
    pub sanitizer: bool,
    /// Only replay the committed corpus and regressions, no mutation.
    pub replay_only: bool,
}

/// What one target did.
#[derive(Clone, Debug, Default)]
pub struct TargetReport {
    pub target: String,
    pub execs: u64,
    pub cov: u64,
    pub features: u64,
    pub corpus: u64,
    pub secs: f64,
    pub crashed: bool,
    pub artifact: Option<String>,
}

fn fuzz_dir() -> PathBuf {
    workspace_root().join("fuzz")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Makes sure the nightly toolchain and cargo-fuzz are there, installing
/// what is missing (`rustup toolchain install nightly`, `cargo install
/// cargo-fuzz --locked`).
pub fn ensure_tools() -> Result<()> {
    let ok = |args: &[&str]| {
        Command::new("cargo")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&["+nightly", "--version"]) {
        println!("fuzz: installing the nightly toolchain (rustup toolchain install nightly --profile minimal)");
        let st = Command::new("rustup")
            .args(["toolchain", "install", "nightly", "--profile", "minimal"])
            .status()
            .context("running rustup")?;
        if !st.success() {
            bail!(
                "could not install the nightly toolchain: run `rustup toolchain install nightly`"
            );
        }
    }
    if !ok(&["fuzz", "--version"]) {
        println!("fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
        let st = Command::new("cargo")
            .args(["install", "cargo-fuzz", "--locked"])
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .context("running cargo install")?;
        if !st.success() {
            bail!("could not install cargo-fuzz: run `cargo install cargo-fuzz --locked`");
        }
    }
    Ok(())
}

fn base_cmd() -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(fuzz_dir()).env_remove("CARGO_TARGET_DIR");
    c.args(["+nightly", "fuzz"]);
    c
}

fn san_args(sanitizer: bool) -> Vec<&'static str> {
    if sanitizer {
        vec!["-O"]
    } else {
        vec!["-O", "-s", "none", "--target-dir", "target/nosan"]
    }
}

/// Builds every target.
pub fn build(sanitizer: bool) -> Result<()> {
    let mut c = base_cmd();
    c.arg("build").args(san_args(sanitizer));
    println!("== {:?}", c);
    let st = c.status().context("running cargo fuzz build")?;
    if !st.success() {
        bail!("cargo fuzz build failed ({st})");
    }
    Ok(())
}

/// Value of `key: N` in a libFuzzer status line.
fn field(line: &str, key: &str) -> Option<u64> {
    let i = line.find(key)? + key.len();
    let rest = line[i..].trim_start();
    let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let mut v: u64 = n.parse().ok()?;
    // corp: 12/3456b, rss: 12Mb: only the first number.
    if rest[n.len()..].starts_with(['k', 'K']) {
        v *= 1000;
    }
    Some(v)
}

/// Runs one target: replay of the corpus and regressions, or a campaign.
pub fn run_target(t: &str, o: &FuzzOptions) -> Result<TargetReport> {
    let dir = fuzz_dir();
    let work = dir.join("target/work").join(t);
    std::fs::create_dir_all(&work)?;
    let corpus = dir.join("corpus").join(t);
    let regress = dir.join("regressions").join(t);
    let mut c = base_cmd();
    c.arg("run").args(san_args(o.sanitizer)).arg(t);
    if o.replay_only {
        // Every committed input once: no new inputs are written.
        c.arg(&corpus);
        if regress.is_dir() {
            c.arg(&regress);
        }
        c.args(["--", "-runs=0"]);
    } else {
        c.arg(&work).arg(&corpus);
        if regress.is_dir() {
            c.arg(&regress);
        }
        c.arg("--");
        if let Some(s) = o.secs {
            c.arg(format!("-max_total_time={s}"));
        }
        if let Some(n) = o.runs {
            c.arg(format!("-runs={n}"));
        }
    }
    c.args([
        "-rss_limit_mb=2048",
        "-malloc_limit_mb=1024",
        "-print_final_stats=1",
    ]);
    let start = Instant::now();
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running cargo fuzz run {t}"))?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut r = TargetReport {
        target: t.to_string(),
        secs: start.elapsed().as_secs_f64(),
        crashed: !out.status.success(),
        ..Default::default()
    };
    for line in text.lines() {
        if line.starts_with('#')
            && (line.contains("DONE")
                || line.contains("pulse")
                || line.contains("INITED")
                || line.contains("NEW")
                || line.contains("REDUCE"))
        {
            r.cov = field(line, "cov:").unwrap_or(r.cov);
            r.features = field(line, "ft:").unwrap_or(r.features);
            r.corpus = field(line, "corp:").unwrap_or(r.corpus);
        }
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            r.execs = v.trim().parse().unwrap_or(0);
        }
        if line.contains("Test unit written to") {
            r.artifact = line
                .split("Test unit written to")
                .nth(1)
                .map(|s| s.trim().to_string());
        }
    }
    if r.crashed {
        let tail: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("panicked") || l.contains("ERROR") || l.contains("assert"))
            .take(6)
            .collect();
        eprintln!("fuzz {t}: FAILED\n  {}", tail.join("\n  "));
        if let Some(a) = &r.artifact {
            eprintln!(
                "  input: {a}\n  reproduce: (cd fuzz && cargo +nightly fuzz run {} {t} {a})\n  once fixed, keep it: cp {a} fuzz/regressions/{t}/",
                san_args(o.sanitizer).join(" ")
            );
        }
    }
    Ok(r)
}

/// Runs the chosen targets one after the other and prints a table.
pub fn run(o: &FuzzOptions) -> Result<Vec<TargetReport>> {
    ensure_tools()?;
    build(o.sanitizer)?;
    let targets: Vec<String> = if o.targets.is_empty() {
        TARGETS.iter().map(|s| s.to_string()).collect()
    } else {
        for t in &o.targets {
            if !TARGETS.contains(&t.as_str()) {
                bail!("no fuzz target {t}; targets: {}", TARGETS.join(", "));
            }
        }
        o.targets.clone()
    };
    let mut reports = Vec::new();
    for t in &targets {
        println!(
            "== fuzz {t}{}",
            if o.replay_only {
                " (corpus replay)"
            } else {
                ""
            }
        );
        let r = run_target(t, o)?;
        println!(
            "   {t}: {} executions in {:.0} s, coverage {} edges, {} features, corpus {}{}",
            r.execs,
            r.secs,
            r.cov,
            r.features,
            r.corpus,
            if r.crashed { ", FAILED" } else { "" }
        );
        reports.push(r);
    }
    println!(
        "{:<20} {:>12} {:>8} {:>9} {:>8} {:>7}  result",
        "target", "executions", "edges", "features", "corpus", "secs"
    );
    for r in &reports {
        println!(
            "{:<20} {:>12} {:>8} {:>9} {:>8} {:>7.0}  {}",
            r.target,
            r.execs,
            r.cov,
            r.features,
            r.corpus,
            r.secs,
            if r.crashed { "CRASH" } else { "ok" }
        );
    }
    let bad: Vec<&str> = reports
        .iter()
        .filter(|r| r.crashed)
        .map(|r| r.target.as_str())
        .collect();
    if !bad.is_empty() {
        bail!(
            "fuzz: {} failed (inputs under fuzz/artifacts/)",
            bad.join(", ")
        );
    }
    Ok(reports)
}

/// The step of `cargo xtask test`: every target replays its corpus and
/// regressions, then runs `secs` seconds with AddressSanitizer; then a
/// short differential run of the chip against the model.
pub fn ci_step(secs: u64) -> Result<()> {
    let start = Instant::now();
    let mut o = FuzzOptions {
        targets: vec![],
        secs: None,
        runs: None,
        sanitizer: true,
        replay_only: true,
    };
    run(&o)?;
    o.replay_only = false;
    o.secs = Some(secs);
    run(&o)?;
    diff_ci()?;
    println!("fuzz step: {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// A short differential run on the test profile's build of the simulator
/// (shared with `cargo test --workspace`, so Verilator is not run again).
/// A fixed seed, every traffic kind (the mixed-flags TX checksum mismatch
/// it found is fixed: docs/fuzzing.md).
pub fn diff_ci() -> Result<()> {
    let mut c = Command::new(cargo());
    c.current_dir(workspace_root()).args([
        "run",
        "--quiet",
        "-p",
        "toe-simapps",
        "--bin",
        "toe-diff",
        "--",
        "--seed",
        "21",
        "--cycles",
        "3000000",
        "--no-artefacts",
    ]);
    println!("== {:?}", c);
    let st = c.status().context("running toe-diff")?;
    if !st.success() {
        bail!("differential run failed ({st}): replay with `cargo xtask diff -- --seed 21 --cycles 3000000`");
    }
    Ok(())
}

/// Runs `toe-diff` (release build) with these arguments.
pub fn diff(args: &[String]) -> Result<()> {
    crate::simrun::run_simapp("toe-diff", args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read() {
        let l =
            "#1028718\tDONE   cov: 514 ft: 738 corp: 95/18Kb lim: 4096 exec/s: 33184 rss: 406Mb";
        assert_eq!(field(l, "cov:"), Some(514));
        assert_eq!(field(l, "ft:"), Some(738));
        assert_eq!(field(l, "corp:"), Some(95));
    }

    #[test]
    fn every_target_has_a_source_and_a_corpus() {
        for t in TARGETS {
            let src = fuzz_dir().join("fuzz_targets").join(format!("{t}.rs"));
            assert!(src.is_file(), "{} missing", src.display());
            let corpus = fuzz_dir().join("corpus").join(t);
            let n = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
            assert!(n > 0, "{} has no seeds", corpus.display());
        }
    }
}
