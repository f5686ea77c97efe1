//! The open Lattice ECP5 flow: Yosys (`synth_ecp5`) -> nextpnr-ecp5 ->
//! ecppack, for the LFE5UM5G-85F (the largest ECP5: 83,640 LUT4s).
//!
//! Two uses (`cargo xtask ecp5`, README "Open ECP5 bitstream"):
//!
//! * one module of the design, out of context: the module sits in a
//!   generated harness ([`harness`]) that feeds all its inputs from one
//!   shift register and loads all its outputs into another, so the block
//!   needs three pins, keeps every output observable (nothing is optimised
//!   away) and is timed register to register on a global clock;
//! * the board build: the core under the TrellisBoard wrapper
//!   (tools/ecp5/*.v, constraints/trellisboard.lpf).
//!
//! Each run writes its files to a build directory and runs the three tools
//! there with relative paths (YoWASP's WebAssembly tools see only their
//! working directory).  Figures come from nextpnr's JSON report
//! (`--report`: utilisation per cell type, fmax per clock) and its log
//! (LUT4s by kind, before packing), parsed by [`parse_report`] and
//! [`parse_lut_breakdown`].

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// nextpnr's device option for the LFE5UM5G-85F.
pub const DEVICE: &str = "--um5g-85k";
/// What the device has (nextpnr's report says the same).
pub const LUT4_AVAILABLE: u64 = 83_640;
pub const FF_AVAILABLE: u64 = 83_640;
pub const BRAM_AVAILABLE: u64 = 208;
pub const DSP_AVAILABLE: u64 = 156;
/// Package of the module builds: the ECP5 Evaluation Board's (the harness
/// needs three pins, any package would do).
pub const MODULE_PACKAGE: &str = "CABGA381";
/// Package of the TrellisBoard (LFE5UM5G-85F-8BG756C).
pub const BOARD_PACKAGE: &str = "CABGA756";

/// Where the board build's sources are.
pub fn board_files() -> (Vec<PathBuf>, PathBuf) {
    let root = crate::deps::workspace_root();
    let dir = root.join("tools/ecp5");
    (
        vec![
            dir.join("trellisboard_top.v"),
            dir.join("rgmii_mac.v"),
            dir.join("uart_host.v"),
            dir.join("host_mem.v"),
            dir.join("cdc.v"),
        ],
        root.join("constraints/trellisboard.lpf"),
    )
}

/// Top module of the board build.
pub const BOARD_TOP: &str = "trellisboard_top";

/// One use of a resource: used of available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Use {
    pub used: u64,
    pub available: u64,
}

/// One clock's timing: achieved fmax against the constraint, in MHz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fmax {
    pub achieved: f64,
    pub constraint: f64,
}

/// What nextpnr's `--report` JSON says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PnrReport {
    /// Per cell type (TRELLIS_COMB = LUT4 sites, TRELLIS_FF, DP16KD,
    /// MULT18X18D, TRELLIS_IO, ...).
    pub utilisation: BTreeMap<String, Use>,
    /// Per clock net.
    pub fmax: BTreeMap<String, Fmax>,
}

/// Parses nextpnr-ecp5's `--report` JSON.
pub fn parse_report(json: &str) -> Result<PnrReport> {
    let doc: Value = serde_json::from_str(json).context("nextpnr's report is not JSON")?;
    let mut r = PnrReport::default();
    let util = doc
        .get("utilization")
        .and_then(Value::as_object)
        .context("nextpnr's report has no `utilization` object")?;
    for (cell, u) in util {
        let (Some(used), Some(available)) = (
            u.get("used").and_then(Value::as_u64),
            u.get("available").and_then(Value::as_u64),
        ) else {
            bail!("nextpnr's report: `utilization.{cell}` lacks used/available");
        };
        r.utilisation.insert(cell.clone(), Use { used, available });
    }
    if let Some(fmax) = doc.get("fmax").and_then(Value::as_object) {
        for (clock, f) in fmax {
            let (Some(achieved), Some(constraint)) = (
                f.get("achieved").and_then(Value::as_f64),
                f.get("constraint").and_then(Value::as_f64),
            ) else {
                bail!("nextpnr's report: `fmax.{clock}` lacks achieved/constraint");
            };
            r.fmax.insert(
                clock.clone(),
                Fmax {
                    achieved,
                    constraint,
                },
            );
        }
    }
    Ok(r)
}

/// LUT4s by kind, from nextpnr's "Logic utilisation before packing".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LutBreakdown {
    pub total: u64,
    pub logic: u64,
    pub carry: u64,
    /// LUTs used as distributed RAM.
    pub ram: u64,
    pub ffs: u64,
}

/// Reads the "Total LUT4s", "logic LUTs", "carry LUTs", "RAM LUTs" and
/// "Total DFFs" lines of a nextpnr-ecp5 log.
pub fn parse_lut_breakdown(log: &str) -> Option<LutBreakdown> {
    let value = |key: &str| -> Option<u64> {
        log.lines().find_map(|l| {
            let rest = l.split_once(key)?.1.trim_start_matches(':').trim();
            rest.split('/').next()?.trim().parse().ok()
        })
    };
    Some(LutBreakdown {
        total: value("Total LUT4s")?,
        logic: value("logic LUTs").unwrap_or(0),
        carry: value("carry LUTs").unwrap_or(0),
        ram: value(" RAM LUTs").unwrap_or(0),
        ffs: value("Total DFFs").unwrap_or(0),
    })
}

/// Why a nextpnr run failed, from its log: the device is full (named
/// resource), or its first error line.
pub fn pnr_failure(log: &str) -> String {
    for l in log.lines() {
        // "Unable to place cell 'x', no BELs remaining to implement cell type 'TRELLIS_COMB'"
        if let Some(rest) = l.split("no BELs remaining to implement cell type").nth(1) {
            let cell = rest.trim().trim_matches(|c| c == '\'' || c == '.');
            return format!("the design does not fit the LFE5UM5G-85F: no {cell} site left");
        }
        if l.contains("Design uses") && l.contains("but device") {
            return format!("the design does not fit the LFE5UM5G-85F: {}", l.trim());
        }
    }
    log.lines()
        .find(|l| l.starts_with("ERROR:"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| "no ERROR line in its log".to_string())
}

/// Cell counts from Yosys' `stat -json` (the whole design, "design").
pub fn parse_stat_json(json: &str) -> Result<BTreeMap<String, u64>> {
    let doc: Value = serde_json::from_str(json).context("yosys stat -json output is not JSON")?;
    // "design" holds the totals when there are several modules; with one
    // module it may be absent and the module's own counts are the totals.
    let node = doc
        .get("design")
        .or_else(|| {
            doc.get("modules")
                .and_then(Value::as_object)
                .filter(|m| m.len() == 1)
                .and_then(|m| m.values().next())
        })
        .context("yosys stat -json: no `design` totals")?;
    let cells = node
        .get("num_cells_by_type")
        .and_then(Value::as_object)
        .context("yosys stat -json: no `num_cells_by_type`")?;
    Ok(cells
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
        .collect())
}

/// LUT4 sites the mapped cells need: a LUT4 each, two per CCU2C (a carry
/// cell is two LUT4s with their carry logic); wide multiplexers (PFUMX,
/// L6MUX21) combine LUTs and take none of their own.
pub fn lut4_estimate(cells: &BTreeMap<String, u64>) -> u64 {
    cells.get("LUT4").copied().unwrap_or(0) + 2 * cells.get("CCU2C").copied().unwrap_or(0)
}

/// Fails with the resource that does not fit, from Yosys' counts, before a
/// place and route that could only fail (and would take long to).
pub fn check_fit(cells: &BTreeMap<String, u64>) -> Result<()> {
    let get = |k: &str| cells.get(k).copied().unwrap_or(0);
    let luts = lut4_estimate(cells);
    let checks = [
        ("LUT4s (LUT4 + 2 per CCU2C)", luts, LUT4_AVAILABLE),
        ("flip-flops", get("TRELLIS_FF"), FF_AVAILABLE),
        ("block RAMs (DP16KD)", get("DP16KD"), BRAM_AVAILABLE),
        ("multipliers (MULT18X18D)", get("MULT18X18D"), DSP_AVAILABLE),
    ];
    for (what, n, avail) in checks {
        if n > avail {
            bail!(
                "the design does not fit the LFE5UM5G-85F: Yosys mapped it to {n} {what}, the device has {avail} ({:.0}%)",
                100.0 * n as f64 / avail as f64
            );
        }
    }
    Ok(())
}

/// A port of a Verilog module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub input: bool,
    pub width: usize,
}

/// The ports of module `module` in `verilog`, from its declarations
/// (`input wire [511:0] data;`, rust-hdl's style; ANSI headers too).
pub fn module_ports(verilog: &str, module: &str) -> Result<Vec<Port>> {
    let header = format!("module {module}");
    let start = verilog
        .match_indices(&header)
        .map(|(i, _)| i)
        .find(|&i| {
            verilog[i + header.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '(' || c == ' ' || c == '#' || c == '\n')
        })
        .with_context(|| format!("module `{module}` not found in the design"))?;
    let body = &verilog[start..];
    let body = &body[..body.find("endmodule").unwrap_or(body.len())];
    // Without `//` comments (a declaration may follow one).
    let body: String = body
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut ports = Vec::new();
    for stmt in body.split([';', ',', '(', ')']) {
        let s = stmt.trim();
        let input = if s.starts_with("input ") {
            true
        } else if s.starts_with("output ") {
            false
        } else {
            continue;
        };
        let width = match (s.find('['), s.find(']')) {
            (Some(a), Some(b)) if a < b => {
                let (hi, lo) = s[a + 1..b]
                    .split_once(':')
                    .with_context(|| format!("port range not understood: `{s}`"))?;
                let hi: i64 = hi.trim().parse().with_context(|| format!("port `{s}`"))?;
                let lo: i64 = lo.trim().parse().with_context(|| format!("port `{s}`"))?;
                (hi - lo).unsigned_abs() as usize + 1
            }
            _ => 1,
        };
        let name = s
            .rsplit(|c: char| c.is_whitespace() || c == ']')
            .next()
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            bail!("port name not found in `{s}`");
        }
        ports.push(Port { name, input, width });
    }
    if ports.is_empty() {
        bail!("module `{module}` has no ports");
    }
    Ok(ports)
}

/// A module wrapped for an out-of-context build.
pub struct Harness {
    pub verilog: String,
    pub top: String,
    /// Bits of the input shift register (every input but the clock).
    pub in_bits: usize,
    /// Bits of the output register (every output).
    pub out_bits: usize,
}

/// Name of the harness' top module.
pub const HARNESS_TOP: &str = "ecp5_harness";

/// Wraps `module` of `verilog` (its clock input, if any, is `clock`): pin `sin`
/// shifts into a register that drives every other input; every output is
/// loaded (pin `load` high) into a register that shifts out on pin `sout`.
/// The block's inputs and outputs are thus registered and observable; the
/// harness adds `in_bits` flip-flops and `out_bits` flip-flops and LUTs
/// (a load/shift multiplexer per output bit).
pub fn harness(verilog: &str, module: &str) -> Result<Harness> {
    let ports = module_ports(verilog, module)?;
    // A module without a clock (combinational, e.g. one SipHash round) is
    // timed from the input register to the output register.
    let clocked = ports
        .iter()
        .any(|p| p.input && p.name == "clock" && p.width == 1);
    let ins: Vec<&Port> = ports
        .iter()
        .filter(|p| p.input && p.name != "clock")
        .collect();
    let outs: Vec<&Port> = ports.iter().filter(|p| !p.input).collect();
    let in_bits: usize = ins.iter().map(|p| p.width).sum::<usize>().max(1);
    let out_bits: usize = outs.iter().map(|p| p.width).sum();
    if out_bits == 0 {
        bail!("module `{module}` has no outputs: nothing of it would be left");
    }
    let mut v = format!(
        "// Generated by `cargo xtask ecp5 --module`: the harness of `{module}`.\n\
         module {HARNESS_TOP}(input wire clk, input wire sin, input wire load, output wire sout);\n\
         \x20   reg [{}:0] ish = 0;\n",
        in_bits - 1
    );
    if in_bits == 1 {
        v.push_str("    always @(posedge clk) ish <= sin;\n");
    } else {
        v.push_str(&format!(
            "    always @(posedge clk) ish <= {{ish[{}:0], sin}};\n",
            in_bits - 2
        ));
    }
    v.push_str(&format!("    wire [{}:0] o;\n", out_bits - 1));
    let esc = if module
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        module.to_string()
    } else {
        format!("\\{module} ")
    };
    let mut conns = Vec::new();
    if clocked {
        conns.push(".clock(clk)".to_string());
    }
    let mut at = 0;
    for p in &ins {
        conns.push(format!(".{}(ish[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    let mut at = 0;
    for p in &outs {
        conns.push(format!(".{}(o[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    v.push_str(&format!("    {esc} dut({});\n", conns.join(", ")));
    v.push_str(&format!("    reg [{}:0] osh = 0;\n", out_bits - 1));
    if out_bits == 1 {
        v.push_str("    always @(posedge clk) osh <= load ? o : 1'b0;\n");
    } else {
        v.push_str(&format!(
            "    always @(posedge clk) osh <= load ? o : {{osh[{}:0], 1'b0}};\n",
            out_bits - 2
        ));
    }
    v.push_str(&format!(
        "    assign sout = osh[{}];\nendmodule\n",
        out_bits - 1
    ));
    Ok(Harness {
        verilog: v,
        top: HARNESS_TOP.to_string(),
        in_bits,
        out_bits,
    })
}

/// What to build.
pub struct Build {
    /// Shown in messages: the module's name or "board".
    pub name: String,
    pub top: String,
    /// Verilog files, written to the build directory under these names.
    pub sources: Vec<(String, String)>,
    /// LPF text (clock constraints, pins).
    pub lpf: String,
    pub package: String,
    /// `--freq` target for clocks the LPF does not constrain, in MHz.
    pub freq: Option<f64>,
    pub seed: u64,
    pub dir: PathBuf,
    /// Gives up (and kills the tool) after this long, over all stages.
    pub timeout: Option<Duration>,
}

/// What a build gave.
#[derive(Clone, Debug)]
pub struct BuildReport {
    pub name: String,
    pub top: String,
    pub package: String,
    /// Yosys' cell counts after synth_ecp5.
    pub cells: BTreeMap<String, u64>,
    pub luts: Option<LutBreakdown>,
    pub pnr: PnrReport,
    pub bit: PathBuf,
    pub bit_bytes: u64,
    /// Seconds for synthesis, place and route, packing.
    pub seconds: [f64; 3],
    pub yosys_version: String,
    pub nextpnr_version: String,
}

/// Runs `prog args` in `dir`, stdout and stderr to `dir/log`, killing it
/// past `deadline`.  Fails with the stage's name and the log's last lines.
fn run_stage(
    stage: &str,
    prog: &Path,
    args: &[String],
    dir: &Path,
    log: &str,
    deadline: Option<Instant>,
) -> Result<()> {
    let out = std::fs::File::create(dir.join(log))?;
    let err = out.try_clone()?;
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("{stage}: could not start {}", prog.display()))?;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{stage} ({}) did not finish within the time allowed (--timeout); log in {}",
                prog.display(),
                dir.join(log).display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !status.success() {
        bail!(
            "{stage} ({}) failed ({status}); log in {}:\n{}",
            prog.display(),
            dir.join(log).display(),
            tail(&dir.join(log), 15)
        );
    }
    Ok(())
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn first_line(prog: &Path, arg: &str) -> String {
    Command::new(prog)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            let mut t = String::from_utf8_lossy(&o.stdout).into_owned();
            t.push_str(&String::from_utf8_lossy(&o.stderr));
            t.lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with("Preparing"))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_default()
}

/// Escapes a module name for Yosys' command line.
fn yosys_name(top: &str) -> String {
    if top.contains('$') {
        format!("\\{top}")
    } else {
        top.to_string()
    }
}

/// Synthesis, place and route, bitstream.
pub fn run(progs: &crate::deps::Ecp5Programs, b: &Build) -> Result<BuildReport> {
    let deadline = b.timeout.map(|t| Instant::now() + t);
    std::fs::create_dir_all(&b.dir).with_context(|| format!("creating {}", b.dir.display()))?;
    for (name, text) in &b.sources {
        std::fs::write(b.dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    std::fs::write(b.dir.join("build.lpf"), &b.lpf)?;
    for stale in [
        "synth.json",
        "stat.json",
        "report.json",
        "build.config",
        "build.bit",
    ] {
        let _ = std::fs::remove_file(b.dir.join(stale));
    }

    // 1. Yosys.
    let t0 = Instant::now();
    let reads: Vec<String> = b
        .sources
        .iter()
        .map(|(n, _)| format!("read_verilog {n}"))
        .collect();
    let script = format!(
        "{}; synth_ecp5 -top {} -json synth.json; tee -q -o stat.json stat -json",
        reads.join("; "),
        yosys_name(&b.top)
    );
    run_stage(
        "yosys synth_ecp5",
        &progs.yosys,
        &["-q".into(), "-p".into(), script],
        &b.dir,
        "yosys.log",
        deadline,
    )?;
    let cells = parse_stat_json(&std::fs::read_to_string(b.dir.join("stat.json"))?)?;
    check_fit(&cells)?;
    let t_synth = t0.elapsed().as_secs_f64();

    // 2. nextpnr-ecp5.
    let t1 = Instant::now();
    let mut args: Vec<String> = vec![
        DEVICE.into(),
        "--package".into(),
        b.package.clone(),
        "--json".into(),
        "synth.json".into(),
        "--lpf".into(),
        "build.lpf".into(),
        "--textcfg".into(),
        "build.config".into(),
        "--report".into(),
        "report.json".into(),
        "--seed".into(),
        b.seed.to_string(),
        "--timing-allow-fail".into(),
        "--quiet".into(),
        "-l".into(),
        "nextpnr.log".into(),
    ];
    if let Some(f) = b.freq {
        args.push("--freq".into());
        args.push(format!("{f}"));
    }
    if b.top == HARNESS_TOP {
        // The harness' three pins go wherever the placer likes.
        args.push("--lpf-allow-unconstrained".into());
    }
    if let Err(e) = run_stage(
        "nextpnr-ecp5",
        &progs.nextpnr,
        &args,
        &b.dir,
        "nextpnr.out",
        deadline,
    ) {
        let log = std::fs::read_to_string(b.dir.join("nextpnr.log")).unwrap_or_default();
        let out = std::fs::read_to_string(b.dir.join("nextpnr.out")).unwrap_or_default();
        if format!("{e}").contains("did not finish") {
            return Err(e);
        }
        bail!(
            "nextpnr-ecp5 failed: {} (log in {})",
            pnr_failure(&format!("{log}\n{out}")),
            b.dir.join("nextpnr.log").display()
        );
    }
    let report = parse_report(&std::fs::read_to_string(b.dir.join("report.json"))?)?;
    let luts = parse_lut_breakdown(
        &std::fs::read_to_string(b.dir.join("nextpnr.log")).unwrap_or_default(),
    );
    let t_pnr = t1.elapsed().as_secs_f64();

    // 3. ecppack.
    let t2 = Instant::now();
    run_stage(
        "ecppack",
        &progs.ecppack,
        &[
            "--input".into(),
            "build.config".into(),
            "--bit".into(),
            "build.bit".into(),
        ],
        &b.dir,
        "ecppack.log",
        deadline,
    )?;
    let bit = b.dir.join("build.bit");
    let bit_bytes = std::fs::metadata(&bit)
        .with_context(|| format!("ecppack wrote no {}", bit.display()))?
        .len();
    if bit_bytes == 0 {
        bail!("ecppack wrote an empty {}", bit.display());
    }
    Ok(BuildReport {
        name: b.name.clone(),
        top: b.top.clone(),
        package: b.package.clone(),
        cells,
        luts,
        pnr: report,
        bit,
        bit_bytes,
        seconds: [t_synth, t_pnr, t2.elapsed().as_secs_f64()],
        yosys_version: first_line(&progs.yosys, "-V"),
        nextpnr_version: first_line(&progs.nextpnr, "--version"),
    })
}

/// The clock name nextpnr reports, shortened for a table
/// (`$glbnet$clk$TRELLIS_IO_IN` -> `clk`).
pub fn clock_label(net: &str) -> String {
    let s = net.strip_prefix("$glbnet$").unwrap_or(net);
    let s = s.strip_suffix("$TRELLIS_IO_IN").unwrap_or(s);
    s.to_string()
}

impl BuildReport {
    fn used(&self, cell: &str) -> Use {
        self.pnr.utilisation.get(cell).copied().unwrap_or(Use {
            used: 0,
            available: 0,
        })
    }

    /// The report as lines of text.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{}: LFE5UM5G-85F {} — synth {:.0} s, place and route {:.0} s, pack {:.0} s\n",
            self.name, self.package, self.seconds[0], self.seconds[1], self.seconds[2]
        );
        let row = |s: &mut String, what: &str, u: Use| {
            let pct = if u.available > 0 {
                100.0 * u.used as f64 / u.available as f64
            } else {
                0.0
            };
            s.push_str(&format!(
                "  {:<26} {:>7} / {:<7} {:>5.1}%\n",
                what, u.used, u.available, pct
            ));
        };
        row(&mut s, "LUT4 (TRELLIS_COMB)", self.used("TRELLIS_COMB"));
        if let Some(l) = self.luts {
            s.push_str(&format!(
                "    of which logic {}, carry {}, distributed RAM {}\n",
                l.logic, l.carry, l.ram
            ));
        }
        row(&mut s, "FF (TRELLIS_FF)", self.used("TRELLIS_FF"));
        row(&mut s, "BRAM (DP16KD, 18 Kib)", self.used("DP16KD"));
        row(&mut s, "DSP (MULT18X18D)", self.used("MULT18X18D"));
        row(&mut s, "I/O (TRELLIS_IO)", self.used("TRELLIS_IO"));
        row(&mut s, "PLL (EHXPLLL)", self.used("EHXPLLL"));
        if self.pnr.fmax.is_empty() {
            s.push_str("  fmax: no register-to-register path on a constrained clock\n");
        }
        for (clk, f) in &self.pnr.fmax {
            s.push_str(&format!(
                "  fmax {:<20} {:>7.2} MHz (target {:.2} MHz: {})\n",
                clock_label(clk),
                f.achieved,
                f.constraint,
                if f.achieved >= f.constraint {
                    "met"
                } else {
                    "NOT met"
                }
            ));
        }
        s.push_str(&format!(
            "  bitstream {} ({} bytes)\n",
            self.bit.display(),
            self.bit_bytes
        ));
        s.push_str(&format!(
            "  tools: {} / {}\n",
            self.yosys_version, self.nextpnr_version
        ));
        s
    }

    pub fn json(&self) -> Value {
        let util: serde_json::Map<String, Value> = self
            .pnr
            .utilisation
            .iter()
            .filter(|(_, u)| u.used > 0)
            .map(|(k, u)| {
                (
                    k.clone(),
                    serde_json::json!({"used": u.used, "available": u.available}),
                )
            })
            .collect();
        let fmax: serde_json::Map<String, Value> = self
            .pnr
            .fmax
            .iter()
            .map(|(k, f)| {
                (
                    clock_label(k),
                    serde_json::json!({"achieved_mhz": f.achieved, "target_mhz": f.constraint}),
                )
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "top": self.top,
            "device": "LFE5UM5G-85F",
            "package": self.package,
            "utilisation": util,
            "lut4": self.luts.map(|l| serde_json::json!({
                "total": l.total, "logic": l.logic, "carry": l.carry, "ram": l.ram})),
            "fmax": fmax,
            "yosys_cells": self.cells,
            "bitstream": self.bit.display().to_string(),
            "bitstream_bytes": self.bit_bytes,
            "seconds": {"synth": self.seconds[0], "pnr": self.seconds[1], "pack": self.seconds[2]},
            "yosys": self.yosys_version,
            "nextpnr": self.nextpnr_version,
        })
    }
}

/// The build of one module of `verilog` in its harness.
pub fn module_build(
    verilog: &str,
    module: &str,
    freq: f64,
    seed: u64,
    dir: &Path,
    timeout: Option<Duration>,
) -> Result<(Build, Harness)> {
    let h = harness(verilog, module)?;
    let lpf = format!(
        "# Generated by `cargo xtask ecp5 --module`: the harness' clock.\nFREQUENCY PORT \"clk\" {freq} MHz;\n"
    );
    Ok((
        Build {
            name: module.to_string(),
            top: h.top.clone(),
            sources: vec![
                ("toe.v".into(), verilog.to_string()),
                ("harness.v".into(), h.verilog.clone()),
            ],
            lpf,
            package: MODULE_PACKAGE.into(),
            freq: Some(freq),
            seed,
            dir: dir.to_path_buf(),
            timeout,
        },
        h,
    ))
}

/// The board build: the core's Verilog `core` (top module `toe`) under the
/// TrellisBoard wrapper.
pub fn board_build(core: &str, seed: u64, dir: &Path, timeout: Option<Duration>) -> Result<Build> {
    let (files, lpf) = board_files();
    let mut sources = vec![("toe.v".to_string(), core.to_string())];
    for f in files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name")?
            .to_string();
        sources.push((
            name,
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?,
        ));
    }
    Ok(Build {
        name: "TrellisBoard (core + RGMII MAC + UART host bridge + on-chip host memory)".into(),
        top: BOARD_TOP.into(),
        sources,
        lpf: std::fs::read_to_string(&lpf).with_context(|| format!("reading {}", lpf.display()))?,
        package: BOARD_PACKAGE.into(),
        freq: None,
        seed,
        dir: dir.to_path_buf(),
        timeout,
    })
}

/// The blocks of the CI step: one stage of the SYN-cookie generator's
/// SipHash-2-4 pipeline (four 64-bit adds, rotations and XORs between two
/// registers; the pipeline has twelve of them), small enough for the whole
/// flow in a minute or two on a quiet machine.  The whole pipeline
/// (`top$srx$gen$sip`) and the other blocks are documented commands
/// (docs/timing.md, "ECP5").
pub const CI_MODULES: &[&str] = &["top$srx$gen$sip$rounds$0"];

/// The `ecp5` step of `cargo xtask test`: [`CI_MODULES`] through the whole
/// flow to a bitstream, with the figures printed.
pub fn ci_step(verilog: &str, freq: f64) -> Result<()> {
    println!(
        "== ecp5: {} through yosys, nextpnr-ecp5, ecppack",
        CI_MODULES.join(", ")
    );
    let progs = crate::deps::ensure_ecp5()?;
    for m in CI_MODULES {
        let dir = crate::deps::workspace_root()
            .join("target/xtask/ecp5")
            .join(m.replace('$', "_"));
        let (b, h) = module_build(verilog, m, freq, 1, &dir, Some(Duration::from_secs(600)))?;
        let r = run(&progs, &b)?;
        print!("{}", r.table());
        println!(
            "  harness: {} input and {} output register bits (counted above)",
            h.in_bits, h.out_bits
        );
        if r.pnr.fmax.is_empty() {
            bail!("{m}: nextpnr reported no fmax");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "module top$a$b(clock,rst,x,y,z);\n    // Module arguments\n    input wire  clock;\n    input wire  rst;\n    input wire  [63:0] x;\n    output reg  [31:0] y;\n    output wire  z;\n    reg q;\nendmodule\nmodule top$a(clock);\n    input wire clock;\nendmodule\n";

    #[test]
    fn finds_ports_of_the_named_module_only() {
        let p = module_ports(V, "top$a$b").unwrap();
        assert_eq!(
            p,
            vec![
                Port {
                    name: "clock".into(),
                    input: true,
                    width: 1
                },
                Port {
                    name: "rst".into(),
                    input: true,
                    width: 1
                },
                Port {
                    name: "x".into(),
                    input: true,
                    width: 64
                },
                Port {
                    name: "y".into(),
                    input: false,
                    width: 32
                },
                Port {
                    name: "z".into(),
                    input: false,
                    width: 1
                },
            ]
        );
        assert_eq!(module_ports(V, "top$a").unwrap().len(), 1);
        assert!(module_ports(V, "top$x").is_err());
    }

    #[test]
    fn harness_connects_every_port() {
        let h = harness(V, "top$a$b").unwrap();
        assert_eq!((h.in_bits, h.out_bits), (65, 33));
        assert!(h.verilog.contains("\\top$a$b  dut(.clock(clk), .rst(ish[0:0]), .x(ish[64:1]), .y(o[31:0]), .z(o[32:32]));"), "{}", h.verilog);
        assert!(h.verilog.contains("ish <= {ish[63:0], sin};"));
        assert!(h.verilog.contains("osh <= load ? o : {osh[31:0], 1'b0};"));
        assert!(harness(V, "top$a").is_err(), "no outputs");
        let comb = "module r(a,b);\n    input wire [3:0] a;\n    output wire [3:0] b;\nendmodule\n";
        let h = harness(comb, "r").unwrap();
        assert!(
            h.verilog.contains("r dut(.a(ish[3:0]), .b(o[3:0]));"),
            "{}",
            h.verilog
        );
    }

    #[test]
    fn fit_check_names_the_resource() {
        let mut cells = BTreeMap::new();
        cells.insert("LUT4".to_string(), 60_000);
        cells.insert("CCU2C".to_string(), 10_000);
        assert!(check_fit(&cells).is_ok());
        cells.insert("CCU2C".to_string(), 20_000);
        let e = check_fit(&cells).unwrap_err().to_string();
        assert!(e.contains("100000 LUT4s") && e.contains("83640"), "{e}");
    }

    #[test]
    fn pnr_failure_names_the_full_resource() {
        let log = "Info: Placing..\nERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'TRELLIS_COMB'\n";
        assert_eq!(
            pnr_failure(log),
            "the design does not fit the LFE5UM5G-85F: no TRELLIS_COMB site left"
        );
        assert_eq!(
            pnr_failure("ERROR: IO 'a' is unconstrained\n"),
            "ERROR: IO 'a' is unconstrained"
        );
    }
}
