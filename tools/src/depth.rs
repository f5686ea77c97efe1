//! Logic depth after mapping to UltraScale+: how many LUTs a signal passes
//! between two registers, per endpoint register, the measure an FPGA
//! engineer checks before place and route (at 250 MHz on UltraScale+ about
//! 5 to 7 LUT levels plus routing fit in 4 ns).
//!
//! Yosys (`synth_xilinx -family xcup`, hierarchy kept so that `stat` gives
//! resources per module) maps the design or one block of it; the netlist is
//! then flattened and written as JSON, and [`analyse`] walks it: every
//! flip-flop, block RAM, UltraRAM, SRL and DSP is a start and an end point,
//! top-level ports are start/end points too, and along each path it counts
//! LUTs (LUT1..LUT6 and LUT RAM reads: one level each), carry cells
//! (CARRY4/CARRY8, counted separately: a chain is fast but long chains are
//! not) and wide multiplexers (MUXF7/8/9, counted separately).  For each
//! endpoint register (a rust-hdl `DFF`, a bus of flip-flops) it reports the
//! deepest path into any of its bits, and for the worst endpoints the path
//! itself by the named signals it passes.
//!
//! An estimate with Yosys' mapping, not Vivado's: Vivado retimes nothing by
//! default either, but it may pack differently; treat a few levels of
//! difference as noise and a path of 20 levels as a fact.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Levels on a path: LUTs, carry cells, wide multiplexers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Levels {
    pub lut: u32,
    pub carry: u32,
    pub muxf: u32,
}

impl Levels {
    fn plus(self, k: Kind) -> Levels {
        let mut l = self;
        match k {
            Kind::Lut => l.lut += 1,
            Kind::Carry => l.carry += 1,
            Kind::Muxf => l.muxf += 1,
            Kind::Wire => {}
        }
        l
    }
}

/// One endpoint: a register bus (all bits of one rust-hdl `DFF`), a RAM or
/// DSP cell, or a top-level output port.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Hierarchical name, e.g. `rx.fsum.out_l4` (instances joined by `.`).
    pub name: String,
    /// The module instance it belongs to, e.g. `rx.fsum` (`` for the top).
    pub module: String,
    pub levels: Levels,
    /// Bits of the bus whose deepest path is over the limit.
    pub bits_over: usize,
    pub bits: usize,
    /// The deepest path, as the named signals it passes (start first).
    pub path: Vec<String>,
}

/// Resources of one module instance, its submodules included.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    pub lut: u64,
    pub ff: u64,
    pub carry: u64,
    pub muxf: u64,
    pub lutram: u64,
    pub bram36: u64,
    pub bram18: u64,
    pub uram: u64,
    pub dsp: u64,
}

pub struct DepthReport {
    pub top: String,
    pub limit: u32,
    /// Every endpoint, deepest first.
    pub endpoints: Vec<Endpoint>,
    /// Per module instance (`` is the top): inclusive resources.
    pub resources: BTreeMap<String, Resources>,
    pub seconds: f64,
    pub yosys_version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Lut,
    Carry,
    Muxf,
    Wire,
}

/// What a cell type is to the walk.
enum Role {
    /// Combinational: every input reaches every output, adding one level.
    Comb(Kind),
    /// Sequential: inputs end paths, outputs start them.
    Seq,
}

fn role(t: &str) -> Role {
    let s = |p: &str| t.starts_with(p);
    if s("LUT") {
        Role::Comb(Kind::Lut)
    } else if s("CARRY") {
        Role::Comb(Kind::Carry)
    } else if s("MUXF") {
        Role::Comb(Kind::Muxf)
    } else if s("RAM") && !s("RAMB") {
        // LUT RAM: its read is a LUT.
        Role::Comb(Kind::Lut)
    } else if s("INV") || s("BUF") || s("OBUF") || s("IBUF") || t == "GND" || t == "VCC" {
        Role::Comb(Kind::Wire)
    } else {
        // FD*, LD*, RAMB*, URAM*, SRL*, DSP*, and anything unknown.
        Role::Seq
    }
}

/// Resource class of an UltraScale+ cell type.
fn count(r: &mut Resources, t: &str, n: u64) {
    let s = |p: &str| t.starts_with(p);
    if s("LUT") {
        r.lut += n
    } else if s("FD") || s("LD") {
        r.ff += n
    } else if s("CARRY") {
        r.carry += n
    } else if s("MUXF") {
        r.muxf += n
    } else if s("RAMB36") {
        r.bram36 += n
    } else if s("RAMB18") {
        r.bram18 += n
    } else if s("URAM") {
        r.uram += n
    } else if s("DSP") {
        r.dsp += n
    } else if s("RAM") || s("SRL") {
        r.lutram += n
    }
}

/// The instance path of a flattened cell (`$flatten\rx.fsum.$abc$...` ->
/// `rx.fsum`; a cell of the top -> ``).
fn cell_module(name: &str) -> String {
    let Some(rest) = name.strip_prefix("$flatten\\") else {
        return String::new();
    };
    match rest.find(".$").or_else(|| rest.find(".\\")) {
        Some(i) => rest[..i].to_string(),
        None => rest
            .rsplit_once('.')
            .map_or(String::new(), |(m, _)| m.to_string()),
    }
}

/// A bit of the netlist: a net number, or a constant.
type Bit = i64;

fn bits_of(v: &Value) -> Vec<Option<Bit>> {
    v.as_array()
        .map(|a| a.iter().map(|b| b.as_i64()).collect())
        .unwrap_or_default()
}

/// Walks the flattened netlist `top` of a Yosys JSON document.
pub fn analyse(doc: &Value, top: &str, limit: u32) -> Result<Vec<Endpoint>> {
    let m = doc["modules"]
        .get(top)
        .with_context(|| format!("module {top} not in the netlist"))?;
    let cells = m["cells"].as_object().context("netlist without cells")?;
    // Readable names of bits: the shortest public name, preferring a
    // register's `.q`.
    let mut names: HashMap<Bit, String> = HashMap::new();
    for (n, v) in m["netnames"]
        .as_object()
        .context("netlist without netnames")?
    {
        if v["hide_name"].as_i64() == Some(1) {
            continue;
        }
        let bits = bits_of(&v["bits"]);
        let wide = bits.len() > 1;
        for (i, b) in bits.iter().enumerate() {
            let Some(b) = b else { continue };
            let full = if wide { format!("{n}[{i}]") } else { n.clone() };
            let better = match names.get(b) {
                None => true,
                Some(old) => {
                    let q = |s: &str| s.split('[').next().is_some_and(|h| h.ends_with(".q"));
                    (q(&full), std::cmp::Reverse(full.len()))
                        > (q(old), std::cmp::Reverse(old.len()))
                }
            };
            if better {
                names.insert(*b, full);
            }
        }
    }
    // Combinational cells: (kind, inputs, outputs); the driver of each bit.
    struct Comb {
        kind: Kind,
        inputs: Vec<Bit>,
    }
    let mut comb: Vec<Comb> = Vec::new();
    let mut driver: HashMap<Bit, usize> = HashMap::new();
    // Endpoint bits: (endpoint key, bit).
    let mut ends: Vec<(String, Bit)> = Vec::new();
    for (cname, c) in cells {
        let t = c["type"].as_str().unwrap_or("");
        let dirs = &c["port_directions"];
        let conns = c["connections"]
            .as_object()
            .context("cell without connections")?;
        match role(t) {
            Role::Comb(kind) => {
                let mut ins = Vec::new();
                let mut outs = Vec::new();
                for (p, v) in conns {
                    let bits = bits_of(v);
                    if dirs[p].as_str() == Some("output") {
                        outs.extend(bits.into_iter().flatten());
                    } else {
                        ins.extend(bits.into_iter().flatten());
                    }
                }
                let i = comb.len();
                comb.push(Comb { kind, inputs: ins });
                for o in outs {
                    driver.insert(o, i);
                }
            }
            Role::Seq => {
                // The endpoint's name: a flip-flop by its Q net (a rust-hdl
                // DFF `x` has `x.q`), anything else by its cell name.
                let q = ["Q", "q"].iter().find_map(|p| conns.get(*p)).map(bits_of);
                let key = match q.as_ref().and_then(|q| q.first().copied().flatten()) {
                    Some(b) if t.starts_with("FD") => match names.get(&b) {
                        Some(n) => {
                            let base = n.split('[').next().unwrap_or(n);
                            base.strip_suffix(".q").unwrap_or(base).to_string()
                        }
                        None => format!("{}:{t}", cell_module(cname)),
                    },
                    _ => format!("{} ({t})", cname.trim_start_matches("$flatten\\")),
                };
                for (p, v) in conns {
                    if dirs[p].as_str() == Some("input")
                        && p != "C"
                        && p != "CLK"
                        && !p.starts_with("CLK")
                    {
                        for b in bits_of(v).into_iter().flatten() {
                            ends.push((key.clone(), b));
                        }
                    }
                }
            }
        }
    }
    for (p, v) in m["ports"].as_object().context("netlist without ports")? {
        if v["direction"].as_str() == Some("output") {
            for b in bits_of(&v["bits"]).into_iter().flatten() {
                ends.push((format!("port {p}"), b));
            }
        }
    }
    // Depth of every bit, memoised, with the input it came through.
    let mut depth: HashMap<Bit, (Levels, Option<Bit>)> = HashMap::new();
    let mut stack: Vec<(Bit, bool)> = Vec::new();
    let mut on_stack: std::collections::HashSet<Bit> = Default::default();
    let mut solve = |b0: Bit, depth: &mut HashMap<Bit, (Levels, Option<Bit>)>| {
        stack.push((b0, false));
        while let Some((b, expanded)) = stack.pop() {
            if depth.contains_key(&b) {
                continue;
            }
            let Some(&ci) = driver.get(&b) else {
                depth.insert(b, (Levels::default(), None));
                continue;
            };
            let c = &comb[ci];
            if expanded {
                on_stack.remove(&b);
                let mut best = (Levels::default(), None);
                for &i in &c.inputs {
                    // An input still on the stack closes a combinational
                    // loop: counted as a start.
                    let d = depth.get(&i).map_or(Levels::default(), |d| d.0);
                    if best.1.is_none() || d > best.0 {
                        best = (d, Some(i));
                    }
                }
                depth.insert(b, (best.0.plus(c.kind), best.1));
            } else {
                on_stack.insert(b);
                stack.push((b, true));
                for &i in &c.inputs {
                    if !depth.contains_key(&i) && !on_stack.contains(&i) {
                        stack.push((i, false));
                    }
                }
            }
        }
    };
    let mut by_end: BTreeMap<String, Endpoint> = BTreeMap::new();
    for (key, b) in &ends {
        solve(*b, &mut depth);
        let l = depth[b].0;
        let e = by_end.entry(key.clone()).or_insert_with(|| Endpoint {
            name: key.clone(),
            module: key
                .rsplit_once('.')
                .map_or(String::new(), |(m, _)| m.to_string()),
            levels: Levels::default(),
            bits_over: 0,
            bits: 0,
            path: Vec::new(),
        });
        e.bits += 1;
        if l.lut > limit {
            e.bits_over += 1;
        }
        if e.path.is_empty() || l > e.levels {
            e.levels = l;
            // The path back to its start, by the named bits it passes.
            let mut path = Vec::new();
            let mut at = Some(*b);
            let mut guard = 0;
            while let Some(x) = at {
                if let Some(n) = names.get(&x) {
                    if path.last() != Some(n) {
                        path.push(n.clone());
                    }
                }
                at = depth.get(&x).and_then(|d| d.1);
                guard += 1;
                if guard > 100_000 {
                    break;
                }
            }
            path.reverse();
            if path.is_empty() {
                path.push(key.clone());
            }
            e.path = path;
        }
    }
    let mut v: Vec<Endpoint> = by_end.into_values().collect();
    v.sort_by(|a, b| b.levels.cmp(&a.levels).then(a.name.cmp(&b.name)));
    Ok(v)
}

/// Per-module resources from Yosys' hierarchical `stat` (module types are
/// instance paths in rust-hdl's output: `top$rx$fsum` is instance
/// `rx.fsum`), each including its submodules.
pub fn parse_stat(stat: &str, top: &str) -> BTreeMap<String, Resources> {
    let mut own: BTreeMap<String, Resources> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in stat.lines() {
        let l = line.trim();
        if let Some(m) = l.strip_prefix("=== ").and_then(|s| s.strip_suffix(" ===")) {
            cur = Some(m.to_string());
            continue;
        }
        if l.starts_with("design hierarchy") {
            cur = None;
            continue;
        }
        let Some(m) = &cur else { continue };
        let mut it = l.split_whitespace();
        if let (Some(t), Some(n), None) = (it.next(), it.next(), it.next()) {
            if let Ok(n) = n.parse::<u64>() {
                count(own.entry(m.clone()).or_default(), t, n);
            }
        }
    }
    // Module type -> instance path relative to `top`.
    let path = |m: &str| -> Option<String> {
        if m == top {
            return Some(String::new());
        }
        m.strip_prefix(top)
            .and_then(|r| r.strip_prefix('$'))
            .map(|r| r.replace('$', "."))
    };
    let mut incl: BTreeMap<String, Resources> = BTreeMap::new();
    for (m, r) in &own {
        let Some(p) = path(m) else { continue };
        // Add to this instance and every enclosing one.
        let mut prefix = Some(p.as_str());
        while let Some(pp) = prefix {
            let e = incl.entry(pp.to_string()).or_default();
            e.lut += r.lut;
            e.ff += r.ff;
            e.carry += r.carry;
            e.muxf += r.muxf;
            e.lutram += r.lutram;
            e.bram36 += r.bram36;
            e.bram18 += r.bram18;
            e.uram += r.uram;
            e.dsp += r.dsp;
            prefix = if pp.is_empty() {
                None
            } else {
                Some(pp.rsplit_once('.').map_or("", |(a, _)| a))
            };
        }
    }
    incl
}

/// Maps `verilog` (module `top`) with Yosys in `dir` and analyses it.
pub fn run(
    verilog: &str,
    top: &str,
    limit: u32,
    dir: &Path,
    timeout: Option<Duration>,
) -> Result<DepthReport> {
    let yosys = crate::deps::yosys_program().context("yosys not found (run `cargo xtask deps`)")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let v = dir.join("toe.v");
    let json = dir.join("net.json");
    let stat = dir.join("stat.txt");
    std::fs::write(&v, verilog).with_context(|| format!("writing {}", v.display()))?;
    // Names with `$` are escaped for Yosys' command parser.
    let top_arg = if top.contains('$') {
        format!("\\{top}")
    } else {
        top.to_string()
    };
    let script = format!(
        "read_verilog {v}; synth_xilinx -family xcup -top {top_arg} -noiopad -noclkbuf -uram; \
         tee -q -o {stat} stat; flatten; opt_clean; write_json {json}",
        v = v.display(),
        stat = stat.display(),
        json = json.display(),
    );
    let t0 = Instant::now();
    let mut child = Command::new(&yosys)
        .args(["-q", "-l"])
        .arg(dir.join("yosys.log"))
        .args(["-p", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", yosys.display()))?;
    loop {
        if let Some(st) = child.try_wait()? {
            if !st.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                bail!(
                    "yosys failed ({st}): {} (log: {})",
                    err.trim(),
                    dir.join("yosys.log").display()
                );
            }
            break;
        }
        if timeout.is_some_and(|t| t0.elapsed() > t) {
            let _ = child.kill();
            bail!("yosys did not finish within {:?}", timeout.unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let doc: Value = serde_json::from_slice(
        &std::fs::read(&json).with_context(|| format!("reading {}", json.display()))?,
    )
    .context("parsing Yosys' JSON netlist")?;
    let endpoints = analyse(&doc, top, limit)?;
    let resources = parse_stat(&std::fs::read_to_string(&stat).unwrap_or_default(), top);
    let yosys_version = Command::new(&yosys)
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Ok(DepthReport {
        top: top.to_string(),
        limit,
        endpoints,
        resources,
        seconds: t0.elapsed().as_secs_f64(),
        yosys_version,
    })
}

impl DepthReport {
    /// Endpoints deeper than the limit.
    pub fn over(&self) -> usize {
        self.endpoints
            .iter()
            .filter(|e| e.levels.lut > self.limit)
            .count()
    }

    /// The worst endpoint of each module instance, and how many of its
    /// endpoints are over the limit.
    pub fn per_module(&self) -> BTreeMap<String, (Levels, usize, usize)> {
        let mut m: BTreeMap<String, (Levels, usize, usize)> = BTreeMap::new();
        for e in &self.endpoints {
            let x = m.entry(e.module.clone()).or_default();
            x.0 = x.0.max(e.levels);
            x.1 += 1;
            x.2 += (e.levels.lut > self.limit) as usize;
        }
        m
    }

    pub fn print(&self, worst: usize, paths: usize) {
        println!(
            "logic depth of {} after mapping to UltraScale+ ({}, {:.1} s)",
            self.top, self.yosys_version, self.seconds
        );
        let n = self.endpoints.len();
        let over = self.over();
        let over8 = self.endpoints.iter().filter(|e| e.levels.lut > 8).count();
        println!(
            "{n} endpoints (register buses, RAM/DSP cells, output ports): {} within {} LUT levels, {over} deeper, {over8} deeper than 8",
            n - over,
            self.limit
        );
        println!();
        println!(
            "{:>4} {:>5} {:>4}  endpoint (bits over the limit / bits)",
            "LUT", "CARRY", "MUXF"
        );
        for e in self.endpoints.iter().take(worst) {
            println!(
                "{:>4} {:>5} {:>4}  {} ({}/{})",
                e.levels.lut, e.levels.carry, e.levels.muxf, e.name, e.bits_over, e.bits
            );
        }
        for e in self.endpoints.iter().take(paths) {
            println!();
            println!(
                "deepest path into {} ({} LUT levels):",
                e.name, e.levels.lut
            );
            for s in &e.path {
                println!("    {s}");
            }
        }
        println!();
        println!(
            "{:<28} {:>5} {:>6} {:>5}  {:>7} {:>7} {:>6} {:>6} {:>5} {:>5} {:>4}",
            "module instance",
            "worst",
            "ends",
            "over",
            "LUT",
            "FF",
            "CARRY",
            "MUXF",
            "BRAM",
            "URAM",
            "DSP"
        );
        let pm = self.per_module();
        let mut mods: Vec<&String> = self.resources.keys().collect();
        for k in pm.keys() {
            if !self.resources.contains_key(k) {
                mods.push(k);
            }
        }
        mods.sort();
        mods.dedup();
        for m in mods {
            let r = self.resources.get(m).cloned().unwrap_or_default();
            let (w, ends, over) = pm.get(m).copied().unwrap_or_default();
            // Registers of their own (a DFF module) are shown in their parent.
            if ends == 0 && r.lut == 0 && r.bram36 + r.bram18 + r.uram == 0 {
                continue;
            }
            let name = if m.is_empty() { "(top)" } else { m.as_str() };
            println!(
                "{:<28} {:>5} {:>6} {:>5}  {:>7} {:>7} {:>6} {:>6} {:>5} {:>5} {:>4}",
                name,
                w.lut,
                ends,
                over,
                r.lut,
                r.ff,
                r.carry,
                r.muxf,
                r.bram36 as f64 + r.bram18 as f64 / 2.0,
                r.uram,
                r.dsp
            );
        }
    }

    pub fn json(&self, worst: usize) -> Value {
        let ends: Vec<Value> = self
            .endpoints
            .iter()
            .take(worst)
            .map(|e| {
                serde_json::json!({
                    "endpoint": e.name, "module": e.module, "lut_levels": e.levels.lut,
                    "carry": e.levels.carry, "muxf": e.levels.muxf, "bits": e.bits,
                    "bits_over": e.bits_over, "path": e.path,
                })
            })
            .collect();
        let pm = self.per_module();
        let modules: serde_json::Map<String, Value> = self
            .resources
            .iter()
            .map(|(m, r)| {
                let (w, n, o) = pm.get(m).copied().unwrap_or_default();
                (
                    if m.is_empty() {
                        "(top)".into()
                    } else {
                        m.clone()
                    },
                    serde_json::json!({
                        "worst_lut_levels": w.lut, "endpoints": n, "over": o,
                        "lut": r.lut, "ff": r.ff, "carry": r.carry, "muxf": r.muxf,
                        "lutram": r.lutram, "ramb36": r.bram36, "ramb18": r.bram18,
                        "uram": r.uram, "dsp": r.dsp,
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "top": self.top, "limit": self.limit, "yosys": self.yosys_version,
            "seconds": self.seconds, "endpoints": self.endpoints.len(), "over": self.over(),
            "worst": ends, "modules": modules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-written netlist: FF a -> LUT -> LUT -> CARRY -> FF b, and
    /// FF a -> MUXF7 -> output port.
    #[test]
    fn levels_are_counted_per_endpoint_and_kind() {
        let doc = serde_json::json!({"modules": {"t": {
            "ports": {"o": {"direction": "output", "bits": [9]}},
            "netnames": {
                "a.q": {"hide_name": 0, "bits": [2]},
                "b.q": {"hide_name": 0, "bits": [3]},
                "mid": {"hide_name": 0, "bits": [5]},
            },
            "cells": {
                "fa": {"type": "FDRE", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                       "connections": {"C": [1], "D": [3], "Q": [2]}},
                "l1": {"type": "LUT2", "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                       "connections": {"I0": [2], "I1": ["0"], "O": [4]}},
                "l2": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"},
                       "connections": {"I0": [4], "O": [5]}},
                "c": {"type": "CARRY4", "port_directions": {"S": "input", "CI": "input", "O": "output", "CO": "output"},
                      "connections": {"S": [5, 5, 5, 5], "CI": ["0"], "O": [6, 7, 8, 10], "CO": [11, 12, 13, 14]}},
                "fb": {"type": "FDRE", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                       "connections": {"C": [1], "D": [6], "Q": [3]}},
                "m": {"type": "MUXF7", "port_directions": {"I0": "input", "I1": "input", "S": "input", "O": "output"},
                      "connections": {"I0": [2], "I1": [2], "S": [2], "O": [9]}},
            }
        }}});
        let e = analyse(&doc, "t", 1).unwrap();
        let by = |n: &str| {
            e.iter()
                .find(|x| x.name == n)
                .unwrap_or_else(|| panic!("{n}: {e:?}"))
        };
        // b's D: a.q -> LUT2 -> LUT1 (mid) -> CARRY4.
        assert_eq!(
            by("b").levels,
            Levels {
                lut: 2,
                carry: 1,
                muxf: 0
            }
        );
        assert_eq!(by("b").bits_over, 1);
        assert_eq!(by("b").path, vec!["a.q".to_string(), "mid".to_string()]);
        // a's D is b.q directly.
        assert_eq!(by("a").levels, Levels::default());
        assert_eq!(
            by("port o").levels,
            Levels {
                lut: 0,
                carry: 0,
                muxf: 1
            }
        );
        // Deepest first.
        assert_eq!(e[0].name, "b");
    }

    #[test]
    fn stat_is_summed_over_submodules() {
        let stat = "=== top$x ===\n  Number of cells: 3\n  LUT6 10\n  FDRE 4\n  top$x$r 1\n\
                    === top$x$r ===\n  FDRE 8\n  CARRY8 2\n\
                    === top$x$r$s ===\n  LUT1 1\n\
                    === design hierarchy ===\n  top$x 1\n";
        let r = parse_stat(stat, "top$x");
        assert_eq!(r[""].lut, 11);
        assert_eq!(r[""].ff, 12);
        assert_eq!(r["r"].ff, 8);
        assert_eq!(r["r"].carry, 2);
        assert_eq!(r["r.s"].lut, 1);
    }

    #[test]
    fn flattened_cell_names_give_their_instance() {
        assert_eq!(
            cell_module("$flatten\\rx.fsum.$abc$1$auto$blifparse.cc:5:x"),
            "rx.fsum"
        );
        assert_eq!(cell_module("$abc$1$auto"), "");
    }
}
