//! `cargo xtask <command>`: the project's developer commands.
use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;
use toe_tools::{bench, demo, deps, info, lint, simrun, synth};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Developer commands of the TOE SmartNIC")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check for (and install, when root or with passwordless sudo) verilator, yosys, g++, make, zlib headers, python3.
    Deps,
    /// Whole suite: deps, `cargo test --workspace`, Verilator lint of the design, clippy.
    Test {
        /// Use `cargo test` even when cargo-nextest is installed.
        #[arg(long)]
        no_nextest: bool,
        /// Extra arguments for the test runner (e.g. a test name filter).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Write the generated Verilog of the design to DIR/toe.v.
    Verilog { dir: PathBuf },
    /// `verilator --lint-only -Wall` on the generated Verilog, with the waivers of docs/lint.md.
    Lint {
        /// Where to keep toe.v and the waiver file (findings refer to them).
        #[arg(long, default_value_os_t = deps::workspace_root().join("target/xtask/lint"))]
        dir: PathBuf,
    },
    /// `cargo clippy`, warnings as errors, as `cargo xtask test` runs it (docs/lint.md).
    Clippy,
    /// Yosys resource estimate (LUT, FF, BRAM, URAM, DSP, carry).
    Synth {
        #[arg(long, value_enum, default_value_t = synth::Family::Xcup)]
        family: synth::Family,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Give up after this many seconds.
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// Synthesise this Verilog file instead of the design (e.g. one block
        /// from `cargo run -p toe-hdl --example gen_block`).
        #[arg(long, value_name = "FILE")]
        verilog: Option<PathBuf>,
        /// Top module of --verilog.
        #[arg(long, default_value = "toe", requires = "verilog")]
        top: String,
    },
    /// Logic depth after mapping to UltraScale+ with Yosys: LUT levels (and
    /// carry and wide-mux cells) of the deepest path into every endpoint
    /// register, the worst paths by the signals they pass, resources per
    /// module instance.
    Depth {
        /// The module to map: `toe`, the whole design (about half an hour),
        /// or one block by its rust-hdl module name, e.g. `top$rx$fsum`
        /// (seconds to minutes); `--list` shows the names.
        #[arg(long, default_value = "toe")]
        module: String,
        /// LUT levels allowed (about 6 at 250 MHz on UltraScale+).
        #[arg(long, default_value_t = 6)]
        limit: u32,
        /// How many of the deepest endpoints to list.
        #[arg(long, default_value_t = 25)]
        worst: usize,
        /// How many of the deepest paths to print signal by signal.
        #[arg(long, default_value_t = 3)]
        paths: usize,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
        /// Fail when an endpoint is deeper than --limit.
        #[arg(long)]
        check: bool,
        /// List the design's modules (names for --module) and exit.
        #[arg(long)]
        list: bool,
        /// Give up after this many seconds.
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// Map this Verilog file instead of the design.
        #[arg(long, value_name = "FILE")]
        verilog: Option<PathBuf>,
    },
    /// The Vivado flow for an Alveo U250: writes OUT/toe.v (names safe for
    /// Tcl) and prints the command to build the bitstream with
    /// tools/vivado/build.tcl; `--check` runs the checks that need no
    /// Vivado (Tcl flow, XDC ports, the shell's elaboration with Yosys).
    Vivado {
        /// Build directory.
        #[arg(default_value_os_t = deps::workspace_root().join("target/vivado"))]
        out: PathBuf,
        #[arg(long)]
        check: bool,
    },
    /// The open Lattice ECP5 flow (yosys synth_ecp5, nextpnr-ecp5,
    /// ecppack) for an LFE5UM5G-85F: one or more modules out of context
    /// (`--module`), or the board build for the TrellisBoard (the core under
    /// tools/ecp5/trellisboard_top.v with constraints/trellisboard.lpf).
    /// Prints utilisation and fmax per clock, writes a .bit.
    Ecp5 {
        /// A module to build in a harness (rust-hdl name, e.g.
        /// `top$srx$gen$sip`; `cargo xtask depth --list` shows them);
        /// repeat for several.  Without it: the board build.
        #[arg(long)]
        module: Vec<String>,
        /// Target clock of module builds, MHz (the board's clocks are in its LPF).
        #[arg(long, default_value_t = 100.0)]
        freq: f64,
        /// Print one JSON object per build instead of a table.
        #[arg(long)]
        json: bool,
        /// Give up after this many seconds per build.
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// The core's Verilog from this file (top module `toe`) instead of
        /// the generated design.
        #[arg(long, value_name = "FILE")]
        verilog: Option<PathBuf>,
        /// nextpnr's placer seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Build directory (default target/xtask/ecp5/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The step `cargo xtask test` runs: the CI subset of modules.
        #[arg(long, conflicts_with_all = ["module", "verilog", "out"])]
        ci: bool,
    },
    /// The simulated SmartNIC moving traffic, with a printed summary.
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write an FST waveform of the run to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
    },
    /// Run the simulated SmartNIC as a device a driver attaches to (BAR0 and
    /// DMA through a shared-memory file; MAC on a TAP device or nothing).
    /// Arguments go to the simulator: `cargo xtask sim -- --help`.
    Sim {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// The Redis-protocol key-value server (tools/apps/kv) on the NIC: the
    /// simulated NIC on a TAP device by default (needs root), `--sim` for a
    /// running `cargo xtask sim`, `--pci ADDR` for a board.  Arguments go to
    /// the server: `cargo xtask kv -- --help` (docs/apps.md).
    Kv {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Coverage-guided fuzzing (cargo-fuzz, nightly): the targets under
    /// fuzz/ one after the other, each for --time seconds or --runs
    /// executions (docs/fuzzing.md).
    Fuzz {
        /// Targets to run (default: all).
        targets: Vec<String>,
        /// Seconds per target.
        #[arg(long, value_name = "SECS")]
        time: Option<u64>,
        /// Executions per target.
        #[arg(long, value_name = "N")]
        runs: Option<u64>,
        /// Without AddressSanitizer (faster; for long campaigns).
        #[arg(long)]
        no_sanitizer: bool,
        /// Only replay the committed corpora and regressions.
        #[arg(long)]
        replay: bool,
        /// The step `cargo xtask test` runs: replay, 30 s per target with
        /// AddressSanitizer, a short differential run.
        #[arg(long, conflicts_with_all = ["time", "runs", "replay", "no_sanitizer"])]
        ci: bool,
    },
    /// Differential run of the Verilated chip against the model with
    /// randomized traffic, register changes and timing; arguments go to
    /// toe-diff: `cargo xtask diff -- --cycles 100000000 --seed 5`.
    Diff {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// The driver's VFIO backend in a QEMU guest with an emulated IOMMU:
    /// the "vfio guest" step of `test` alone (tools/src/vm.rs).
    Vm,
    /// What the driver finds on a device: ID, version, register blocks,
    /// queues, counters.
    Info {
        /// A running simulator's shared file.
        #[arg(long, value_name = "PATH", num_args = 0..=1,
              default_missing_value = "/dev/shm/toe-sim", conflicts_with = "pci")]
        sim: Option<PathBuf>,
        /// A board bound to vfio-pci at this PCI address (DDDD:BB:DD.F).
        #[arg(long, value_name = "ADDR")]
        pci: Option<String>,
    },
    /// Throughput and latency of the simulated SmartNIC; with `--driver`,
    /// the host driver's instructions per packet and frames/s over TAP;
    /// with `--tcp`, the host TCP library next to smoltcp.
    Bench {
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Measure the driver (callgrind) and the TAP path instead of the RTL.
        #[arg(long, conflicts_with = "tcp")]
        driver: bool,
        /// Measure the host TCP library and smoltcp: server instructions per
        /// short transaction (callgrind) and bulk throughput.
        #[arg(long)]
        tcp: bool,
        /// Short transactions per stack (with --tcp).
        #[arg(long, default_value_t = 500)]
        transactions: usize,
        /// Bytes of the bulk upload (with --tcp).
        #[arg(long, default_value_t = 16 << 20)]
        bulk_bytes: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Deps => {
            deps::ensure(deps::ALL)?;
            print!("{}", deps::report(deps::ALL));
            // What the TAP tests use; they only run with CAP_NET_ADMIN.
            if deps::can_admin_net() {
                deps::ensure(deps::NET)?;
                print!("{}", deps::report(deps::NET));
            }
            Ok(())
        }
        Cmd::Test { no_nextest, args } => test(no_nextest, &args),
        Cmd::Verilog { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join("toe.v");
            std::fs::write(&path, verilog()?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        Cmd::Clippy => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            run_clippy(&cargo)
        }
        Cmd::Lint { dir } => {
            deps::ensure(&[deps::Tool::Verilator])?;
            run_lint(&dir)
        }
        Cmd::Synth {
            family,
            json,
            timeout,
            verilog: file,
            top,
        } => {
            deps::ensure(&[deps::Tool::Yosys])?;
            let text = match file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => verilog()?,
            };
            let dir = std::env::temp_dir().join(format!("toe-synth-{}", std::process::id()));
            let report = synth::synth(&text, &top, family, &dir, timeout.map(Duration::from_secs))?;
            let _ = std::fs::remove_dir_all(&dir);
            if json {
                println!("{}", report.json());
            } else {
                print!("{}", report.table());
            }
            Ok(())
        }
        Cmd::Depth {
            module,
            limit,
            worst,
            paths,
            json,
            check,
            list,
            timeout,
            verilog: file,
        } => {
            let text = match file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => verilog()?,
            };
            if list {
                for l in text.lines() {
                    if let Some(m) = l.strip_prefix("module ") {
                        let name = m.split('(').next().unwrap_or(m).trim();
                        // Skip single registers (a rust-hdl DFF: ports d, q, clock).
                        if !m.contains("(d,q,clock)") {
                            println!("{name}");
                        }
                    }
                }
                return Ok(());
            }
            deps::ensure(&[deps::Tool::Yosys])?;
            let dir = deps::workspace_root()
                .join("target/xtask/depth")
                .join(module.replace('$', "_"));
            let report = toe_tools::depth::run(
                &text,
                &module,
                limit,
                &dir,
                timeout.map(Duration::from_secs),
            )?;
            if json {
                println!("{}", report.json(worst));
            } else {
                report.print(worst, paths);
            }
            if check && report.over() > 0 {
                bail!(
                    "{} endpoint(s) of {module} deeper than {limit} LUT levels",
                    report.over()
                );
            }
            Ok(())
        }
        Cmd::Vivado { out, check } => {
            if check {
                deps::ensure(&[deps::Tool::Yosys, deps::Tool::Tclsh])?;
                for line in toe_tools::vivado::check()? {
                    println!("ok  {line}");
                }
                return Ok(());
            }
            let v = toe_tools::vivado::prepare(&out)?;
            println!("wrote {}", v.display());
            println!(
                "build with Vivado (2022.2 or later):\n  vivado -mode batch -source {} -tclargs {}",
                toe_tools::vivado::flow_dir().join("build.tcl").display(),
                out.display()
            );
            Ok(())
        }
        Cmd::Ecp5 {
            module,
            freq,
            json,
            timeout,
            verilog: file,
            seed,
            out,
            ci,
        } => {
            if ci {
                return toe_tools::ecp5::ci_step(&verilog()?, freq);
            }
            let progs = deps::ensure_ecp5()?;
            let text = match file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => verilog()?,
            };
            let timeout = timeout.map(Duration::from_secs);
            let base = deps::workspace_root().join("target/xtask/ecp5");
            let mut builds = Vec::new();
            if module.is_empty() {
                let dir = out.clone().unwrap_or_else(|| base.join("trellisboard"));
                builds.push(toe_tools::ecp5::board_build(&text, seed, &dir, timeout)?);
            }
            for m in &module {
                let dir = match &out {
                    Some(o) if module.len() == 1 => o.clone(),
                    Some(o) => o.join(m.replace('$', "_")),
                    None => base.join(m.replace('$', "_")),
                };
                let (b, h) = toe_tools::ecp5::module_build(&text, m, freq, seed, &dir, timeout)?;
                if !json {
                    println!(
                        "{m}: in a harness of {} input and {} output register bits",
                        h.in_bits, h.out_bits
                    );
                }
                builds.push(b);
            }
            for b in &builds {
                let r = toe_tools::ecp5::run(&progs, b)?;
                if json {
                    println!("{}", r.json());
                } else {
                    print!("{}", r.table());
                }
            }
            Ok(())
        }
        Cmd::Demo { seed, trace } => {
            deps::ensure(deps::SIM)?;
            demo::run(&demo::DemoOptions { seed, trace })
        }
        Cmd::Sim { args } => {
            deps::ensure(deps::SIM)?;
            simrun::run_simapp("toe-simd", &args)
        }
        Cmd::Kv { args } => {
            deps::ensure(deps::SIM)?;
            simrun::run_simapp("toe-kv", &args)
        }
        Cmd::Vm => toe_tools::vm::check(),
        Cmd::Fuzz {
            targets,
            time,
            runs,
            no_sanitizer,
            replay,
            ci,
        } => {
            if ci {
                deps::ensure(deps::SIM)?;
                return toe_tools::fuzz::ci_step(30);
            }
            let secs = if time.is_none() && runs.is_none() && !replay {
                Some(60)
            } else {
                time
            };
            toe_tools::fuzz::run(&toe_tools::fuzz::FuzzOptions {
                targets,
                secs,
                runs,
                sanitizer: !no_sanitizer,
                replay_only: replay,
            })
            .map(|_| ())
        }
        Cmd::Diff { args } => {
            deps::ensure(deps::SIM)?;
            toe_tools::fuzz::diff(&args)
        }
        Cmd::Info { sim, pci } => {
            let target = match (sim, pci) {
                (_, Some(a)) => info::Target::Pci(a),
                (Some(p), None) => info::Target::Sim(p),
                (None, None) => bail!(
                    "say which device: --sim [PATH] (a running `cargo xtask sim`) or --pci ADDR"
                ),
            };
            print!("{}", info::info(&target)?);
            Ok(())
        }
        Cmd::Bench {
            json, driver: true, ..
        } => {
            deps::ensure(deps::SIM)?;
            toe_tools::drvbench::run(json)
        }
        Cmd::Bench {
            json,
            tcp: true,
            transactions,
            bulk_bytes,
            ..
        } => {
            deps::ensure(deps::SIM)?;
            toe_tools::tcpbench::run(json, transactions, bulk_bytes)
        }
        Cmd::Bench { json, seed, .. } => {
            deps::ensure(deps::SIM)?;
            bench::run(&bench::BenchOptions { json, seed })
        }
    }
}

/// The design as Verilog; a panic in the generator becomes an error.
fn verilog() -> Result<String> {
    std::panic::catch_unwind(toe_hdl::verilog)
        .map_err(|_| anyhow!("Verilog generation (toe_hdl::verilog) panicked"))
}

fn run_lint(dir: &Path) -> Result<()> {
    let report = lint::lint(&verilog()?, dir)?;
    let mut waived: Vec<&str> = lint::WAIVERS.iter().map(|w| w.rule).collect();
    waived.dedup();
    if report.passed {
        println!(
            "lint: clean ({}; waived as in docs/lint.md: {})",
            dir.join("toe.v").display(),
            waived.join(", ")
        );
        return Ok(());
    }
    print!("{}", report.output);
    let counts: Vec<String> = report
        .by_rule
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    bail!(
        "lint: {} (see docs/lint.md for what is waived and why)",
        counts.join(", ")
    )
}

fn test(no_nextest: bool, args: &[String]) -> Result<()> {
    deps::ensure(deps::ALL)?;
    // The TAP tests run (and then need `ip` and `ping`) with CAP_NET_ADMIN.
    if deps::can_admin_net() {
        deps::ensure(deps::NET)?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let nextest = !no_nextest
        && Command::new(&cargo)
            .args(["nextest", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());

    let mut results: Vec<(&str, Result<()>)> = Vec::new();
    if nextest {
        let mut cmd = Command::new(&cargo);
        cmd.args(["nextest", "run", "--workspace", "--no-tests=warn"])
            .args(args);
        results.push(("tests (nextest)", run_step(cmd)));
        let mut cmd = Command::new(&cargo);
        cmd.args(["test", "--workspace", "--doc"]);
        results.push(("doctests", run_step(cmd)));
    } else {
        let mut cmd = Command::new(&cargo);
        cmd.args(["test", "--workspace"]);
        if !args.is_empty() {
            cmd.arg("--").args(args);
        }
        results.push(("tests", run_step(cmd)));
    }
    println!("== lint");
    results.push((
        "lint",
        run_lint(&deps::workspace_root().join("target/xtask/lint")),
    ));
    results.push(("clippy", run_clippy(&cargo)));
    // The driver's VFIO backend in a QEMU guest with an emulated IOMMU
    // (tools/src/vm.rs); prints SKIP and passes where it cannot run.
    results.push(("vfio guest", toe_tools::vm::check()));
    // Fuzz targets: corpus replay and 30 s each; a short differential run
    // (tools/src/fuzz.rs, docs/fuzzing.md).
    results.push(("fuzz", toe_tools::fuzz::ci_step(30)));
    // The open ECP5 flow on a representative block, to a bitstream with
    // its fmax (tools/src/ecp5.rs; the board build is `cargo xtask ecp5`).
    results.push((
        "ecp5",
        verilog().and_then(|v| toe_tools::ecp5::ci_step(&v, 100.0)),
    ));

    let failed: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(|e| format!("{e:#}")))
        .collect();
    let names: Vec<&str> = results.iter().map(|(n, _)| *n).collect();
    if failed.is_empty() {
        println!("xtask test: PASSED ({})", names.join(", "));
        Ok(())
    } else {
        bail!("xtask test: FAILED — {}", failed.join("; "))
    }
}

/// Workspace crates the clippy step leaves out until their findings are
/// fixed: toe-hdl (kernels in regs.rs, cpl_coalesce.rs, rx/path.rs,
/// rx/dma_addr.rs, rx/dma_data.rs, tx/stream.rs; tests/desc_fetch_vlt.rs).
/// Remove a crate from the list once
/// `cargo clippy -p CRATE --all-targets --no-deps -- -D warnings` passes.
const CLIPPY_EXCLUDED: &[&str] = &["toe-hdl"];

/// `cargo clippy` with warnings as errors on every target of the workspace
/// but [`CLIPPY_EXCLUDED`], which are checked as dependencies but not
/// linted (`--no-deps`).  It type-checks and generates no code: with the
/// target directory warm, seconds (docs/lint.md, "Clippy").
/// clippy comes with rustup's default profile; a minimal toolchain gets
/// the component first.
fn run_clippy(cargo: &str) -> Result<()> {
    let have = |cargo: &str| {
        Command::new(cargo)
            .args(["clippy", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have(cargo) {
        let mut add = Command::new("rustup");
        add.args(["component", "add", "clippy"]);
        run_step(add).context("clippy is not installed")?;
    }
    let mut cmd = Command::new(cargo);
    cmd.args(["clippy", "--workspace", "--all-targets", "--no-deps"]);
    for c in CLIPPY_EXCLUDED {
        cmd.args(["--exclude", c]);
    }
    cmd.args(["--", "-D", "warnings"]);
    run_step(cmd)
}

fn run_step(mut cmd: Command) -> Result<()> {
    let shown = format!("{:?}", cmd).replace('"', "");
    println!("== {shown}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}
