//! Resource estimate with Yosys: out-of-context synthesis of the generated
//! Verilog for UltraScale+ (`synth_xilinx -family xcup`) or ECP5
//! (`synth_ecp5`), counted from `stat`.  An estimate, not a Vivado report.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// Xilinx UltraScale+ (Alveo U200/U250/U280 class).
    Xcup,
    /// Lattice ECP5.
    Ecp5,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Xcup => "xcup",
            Family::Ecp5 => "ecp5",
        }
    }

    /// The Yosys synthesis command.  `-noiopad -noclkbuf`: the core sits
    /// inside a vendor shell, so it gets no I/O or clock buffers of its own.
    /// `-uram`: large memories may map to UltraRAM, as Vivado would do.
    pub fn synth_command(self, top: &str) -> String {
        match self {
            Family::Xcup => {
                format!("synth_xilinx -family xcup -top {top} -flatten -noiopad -noclkbuf -uram")
            }
            Family::Ecp5 => format!("synth_ecp5 -top {top}"),
        }
    }

    /// Resource class of a cell type of this family.
    fn class(self, cell: &str) -> &'static str {
        let starts = |p: &str| cell.starts_with(p);
        match self {
            Family::Xcup => match cell {
                _ if starts("LUT") => "LUT",
                _ if starts("RAMB36") => "RAMB36",
                _ if starts("RAMB18") => "RAMB18",
                _ if starts("RAM") => "LUTRAM",
                _ if starts("SRL") => "SRL",
                _ if starts("FD") || starts("LD") => "FF",
                _ if starts("URAM") => "URAM",
                _ if starts("DSP") => "DSP",
                _ if starts("CARRY") => "CARRY",
                _ if starts("MUXF") => "MUXF",
                _ => "other",
            },
            Family::Ecp5 => match cell {
                "LUT4" => "LUT",
                "TRELLIS_FF" => "FF",
                "DP16KD" | "PDPW16KD" => "BRAM",
                "TRELLIS_DPR16X4" => "LUTRAM",
                "MULT18X18D" | "ALU54B" => "DSP",
                "CCU2C" => "CARRY",
                "PFUMX" | "L6MUX21" => "MUXF",
                _ => "other",
            },
        }
    }

    /// Rows of the table, in order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Family::Xcup => &[
                "LUT", "LUTRAM", "SRL", "FF", "RAMB36", "RAMB18", "URAM", "DSP", "CARRY", "MUXF",
                "other",
            ],
            Family::Ecp5 => &[
                "LUT", "LUTRAM", "FF", "BRAM", "DSP", "CARRY", "MUXF", "other",
            ],
        }
    }
}

/// What `synth` found.
pub struct SynthReport {
    pub family: Family,
    pub top: String,
    /// Cell count per resource class (every class of the family, 0 if none).
    pub classes: BTreeMap<&'static str, u64>,
    /// Raw cell count per cell type.
    pub cells: BTreeMap<String, u64>,
    /// Warnings of Yosys' `check` after synthesis (e.g. logic loops).
    pub check_warnings: Vec<String>,
    pub seconds: f64,
    pub yosys_version: String,
}

/// Synthesises `verilog` (top module `top`) in `dir`, showing a spinner
/// with the current Yosys pass; gives up after `timeout`.
pub fn synth(
    verilog: &str,
    top: &str,
    family: Family,
    dir: &Path,
    timeout: Option<Duration>,
) -> Result<SynthReport> {
    let yosys = crate::deps::yosys_program().context("yosys not found (run `cargo xtask deps`)")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let v = dir.join("toe.v");
    let stat = dir.join("stat.txt");
    let log = dir.join("yosys.log");
    std::fs::write(&v, verilog).with_context(|| format!("writing {}", v.display()))?;
    let script = format!(
        "read_verilog {}; {}; tee -o {} check; tee -o {} stat",
        v.display(),
        family.synth_command(top),
        dir.join("check.txt").display(),
        stat.display()
    );

    let start = Instant::now();
    let mut child = Command::new(&yosys)
        .arg("-p")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("could not start {}", yosys.display()))?;

    // Copy Yosys' output to the log, remembering the current pass.
    let pass = Arc::new(Mutex::new(String::from("reading Verilog")));
    let reader = {
        let out = child.stdout.take().expect("piped");
        let pass = pass.clone();
        let mut file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = writeln!(file, "{line}");
                if let Some(p) = pass_name(&line) {
                    *pass.lock().unwrap() = p;
                }
            }
        })
    };

    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} yosys {elapsed:>4} {msg}").expect("valid template"),
    );
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            spinner.finish_and_clear();
            bail!(
                "yosys did not finish within {:?}; log in {}",
                timeout.unwrap(),
                log.display()
            );
        }
        spinner.set_message(pass.lock().unwrap().clone());
        spinner.tick();
        std::thread::sleep(Duration::from_millis(100));
    };
    spinner.finish_and_clear();
    let _ = reader.join();
    if !status.success() {
        bail!(
            "yosys failed ({status}); log in {}:\n{}",
            log.display(),
            tail(&log, 20)
        );
    }

    let stat_text =
        std::fs::read_to_string(&stat).with_context(|| format!("reading {}", stat.display()))?;
    let cells = parse_stat(&stat_text, top)
        .with_context(|| format!("no cell list for `{top}` in {}", stat.display()))?;
    let mut classes: BTreeMap<&'static str, u64> =
        family.classes().iter().map(|c| (*c, 0)).collect();
    for (cell, n) in &cells {
        *classes.entry(family.class(cell)).or_insert(0) += n;
    }
    let check_text = std::fs::read_to_string(dir.join("check.txt")).unwrap_or_default();
    let check_warnings = check_text
        .lines()
        .filter(|l| l.starts_with("Warning:"))
        .map(str::to_string)
        .collect();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let yosys_version = log_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Yosys ").map(str::to_string))
        .unwrap_or_default();
    Ok(SynthReport {
        family,
        top: top.to_string(),
        classes,
        cells,
        check_warnings,
        seconds: start.elapsed().as_secs_f64(),
        yosys_version,
    })
}

/// "12.3. Executing ABC pass (...)" -> "ABC pass (...)".
fn pass_name(line: &str) -> Option<String> {
    let (num, rest) = line.split_once(". Executing ")?;
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let mut s: String = rest.chars().take(60).collect();
    if rest.len() > 60 {
        s.push('…');
    }
    Some(s)
}

/// Cell counts of module `top` from Yosys `stat` text.
pub fn parse_stat(text: &str, top: &str) -> Option<BTreeMap<String, u64>> {
    let header = format!("=== {top} ===");
    let section = text.split(header.as_str()).nth(1)?;
    let section = section.split("===").next().unwrap_or(section);
    let mut lines = section
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Number of cells:"));
    lines.next()?;
    let mut cells = BTreeMap::new();
    for line in lines {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(cell), Some(n), None) => match n.parse() {
                Ok(n) => {
                    cells.insert(cell.to_string(), n);
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    Some(cells)
}

impl SynthReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} on {} — yosys {} in {:.0} s: `{}`\n",
            self.top,
            self.family.name(),
            self.yosys_version.split(' ').next().unwrap_or("?"),
            self.seconds,
            self.family.synth_command(&self.top)
        );
        s.push_str(&format!("  {:<8} {:>10}\n", "resource", "cells"));
        for class in self.family.classes() {
            s.push_str(&format!(
                "  {:<8} {:>10}\n",
                class,
                self.classes.get(class).copied().unwrap_or(0)
            ));
        }
        let other: Vec<String> = self
            .cells
            .iter()
            .filter(|(c, _)| self.family.class(c) == "other")
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        if !other.is_empty() {
            s.push_str(&format!("  other = {}\n", other.join(", ")));
        }
        for w in &self.check_warnings {
            s.push_str(&format!("  yosys check: {w}\n"));
        }
        s.push_str(
            "  (Yosys estimate before place and route; the vendor tools' figures will differ.)\n",
        );
        s
    }

    /// The same as one JSON object.
    pub fn json(&self) -> String {
        let classes: Vec<String> = self
            .family
            .classes()
            .iter()
            .map(|c| format!("\"{}\":{}", c, self.classes.get(c).copied().unwrap_or(0)))
            .collect();
        let cells: Vec<String> = self
            .cells
            .iter()
            .map(|(c, n)| format!("\"{}\":{}", json_escape(c), n))
            .collect();
        let warnings: Vec<String> = self
            .check_warnings
            .iter()
            .map(|w| format!("\"{}\"", json_escape(w)))
            .collect();
        format!(
            "{{\"top\":\"{}\",\"family\":\"{}\",\"command\":\"{}\",\"yosys\":\"{}\",\"seconds\":{:.1},\"resources\":{{{}}},\"cells\":{{{}}},\"check_warnings\":[{}]}}",
            json_escape(&self.top),
            self.family.name(),
            self.family.synth_command(&self.top),
            json_escape(&self.yosys_version),
            self.seconds,
            classes.join(","),
            cells.join(","),
            warnings.join(",")
        )
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn tail(path: &PathBuf, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_cells() {
        let text = "\n=== toe ===\n\n   Number of wires:                 10\n   Number of cells:                 13\n     CARRY8                          2\n     FDRE                           10\n     LUT6                            1\n\n";
        let cells = parse_stat(text, "toe").unwrap();
        assert_eq!(cells.get("FDRE"), Some(&10));
        assert_eq!(cells.len(), 3);
        assert_eq!(Family::Xcup.class("FDRE"), "FF");
        assert_eq!(Family::Xcup.class("RAMB36E2"), "RAMB36");
        assert_eq!(Family::Xcup.class("RAM64M8"), "LUTRAM");
    }

    #[test]
    fn recognises_pass_headers() {
        assert_eq!(
            pass_name("4.12. Executing ABC pass.").as_deref(),
            Some("ABC pass.")
        );
        assert_eq!(pass_name("foo. Executing"), None);
    }
}
