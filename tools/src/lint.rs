//! `verilator --lint-only -Wall` of the generated Verilog, with the waivers
//! that RustHDL's code generator makes necessary.  docs/lint.md explains each
//! waiver; keep the two lists identical.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// A warning we do not fail on.  `matching` narrows it to messages matching a
/// Verilator wildcard pattern (written to a `.vlt` config file); `None`
/// waives the rule everywhere (`-Wno-<rule>`).
pub struct Waiver {
    pub rule: &'static str,
    pub matching: Option<&'static str>,
    pub reason: &'static str,
}

pub const WAIVERS: &[Waiver] = &[
    Waiver {
        rule: "WIDTH",
        matching: None,
        reason: "RustHDL writes constants and intermediate expressions with widths that differ from their \
                 destination (e.g. 32-bit literals, zero-extending assignments); the Rust type checker already \
                 enforces widths.",
    },
    Waiver {
        rule: "DECLFILENAME",
        matching: None,
        reason: "RustHDL writes every module into one file, named after the top, so sub-modules (`top$child`) \
                 never match the file name.",
    },
    Waiver {
        rule: "UNUSEDSIGNAL",
        matching: Some("Signal is not used: '*$*'"),
        reason: "RustHDL declares a wire `child$port` for every output of every child instance, used or not \
                 (e.g. a FIFO's almost_full/overflow); only these `$` wires are waived, unused ports and \
                 signals of our own still fail.",
    },
    Waiver {
        rule: "UNUSEDSIGNAL",
        matching: Some("Bits of signal are not used: *"),
        reason: "Partly used vectors are normal in RustHDL (whole 512-bit beats or 320-bit keys passed to a block \
                 that reads some bytes) and RustHDL cannot attach lint pragmas to a signal; synthesis trims the bits.",
    },
    Waiver {
        rule: "UNUSEDPARAM",
        matching: None,
        reason: "RustHDL emits a localparam for every `Constant` field of a block whether or not `update` reads it; \
                 an unused constant cannot change the hardware.",
    },
];

/// Verilator config file (`.vlt`) with the narrowed waivers, after the
/// design's own configuration (`toe_hdl::verilator_config`, which splits
/// rust-hdl's always blocks so that no false combinational loop remains;
/// UNOPTFLAT is therefore not waived and fails the lint).
pub fn vlt_config(verilog: &str) -> String {
    let mut s = toe_hdl::verilator_config(verilog);
    for w in WAIVERS {
        if let Some(m) = w.matching {
            s.push_str(&format!(
                "// {}\nlint_off -rule {} -file \"*\" -match \"{}\"\n",
                w.reason, w.rule, m
            ));
        }
    }
    s
}

/// Command-line arguments for the global waivers.
pub fn wno_args() -> Vec<String> {
    let mut v: Vec<String> = WAIVERS
        .iter()
        .filter(|w| w.matching.is_none())
        .map(|w| format!("-Wno-{}", w.rule))
        .collect();
    v.dedup();
    v
}

/// Outcome of a lint run.
pub struct LintReport {
    /// Number of unwaived findings per rule.
    pub by_rule: BTreeMap<String, usize>,
    /// Verilator's own output (the findings with file:line).
    pub output: String,
    pub passed: bool,
}

/// Lints `verilog` (top module `toe`), writing it and the config into `dir`
/// so that file:line positions in the findings stay valid afterwards.
pub fn lint(verilog: &str, dir: &Path) -> Result<LintReport> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let v = dir.join("toe.v");
    let vlt = dir.join("waivers.vlt");
    std::fs::write(&v, verilog).with_context(|| format!("writing {}", v.display()))?;
    std::fs::write(&vlt, vlt_config(verilog))
        .with_context(|| format!("writing {}", vlt.display()))?;
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", "toe"])
        .args(wno_args())
        .arg(&vlt)
        .arg(&v)
        .stdin(Stdio::null())
        .output()
        .context("could not run verilator")?;
    let output =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut by_rule = BTreeMap::new();
    for line in output.lines() {
        if let Some(rest) = line
            .strip_prefix("%Warning-")
            .or_else(|| line.strip_prefix("%Error-"))
        {
            let rule = rest.split(':').next().unwrap_or("?").to_string();
            *by_rule.entry(rule).or_insert(0) += 1;
        }
    }
    let passed = out.status.success();
    if !passed && by_rule.is_empty() {
        // Verilator failed without a classified finding: a syntax error or a
        // broken installation.  Show it as such.
        bail!("verilator failed ({}):\n{}", out.status, output.trim_end());
    }
    Ok(LintReport {
        by_rule,
        output,
        passed,
    })
}
