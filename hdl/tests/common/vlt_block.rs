//! Runs one rust-hdl block in Verilator, cycle by cycle, from a test.
//!
//! Give it the block's Verilog (`rust_hdl::prelude::generate_verilog`), the
//! top module name, the clock, an optional active-high synchronous reset and
//! the data ports with their widths; [`VltBlock::run`] writes a C++
//! testbench, builds it with Verilator (once per content: the build is
//! reused while the Verilog and the ports stay the same), feeds it one line
//! of input values per cycle and returns the outputs of every cycle.
//! [`VltBlock::lint`] runs `verilator --lint-only -Wall` with the waivers of
//! `cargo xtask lint` (tools/src/lint.rs, docs/lint.md).
//!
//! Cycle convention: reset is held for the edges given to
//! [`VltBlock::reset`] with the other inputs at zero, then in cycle `n` the
//! testbench sets `inputs[n]`, evaluates, records the outputs
//! (`outputs[n]`) and gives the rising edge that samples `inputs[n]`.  A block whose outputs come from registers
//! `L` edges after its inputs shows `inputs[n]`'s result in `outputs[n + L]`.
//!
//! Values are [`Val`]s (little-endian 64-bit limbs), so ports of any width
//! work; Verilator keeps ports wider than 64 bits as arrays of 32-bit words
//! (`VlWide`), and the testbench converts.  The build uses the flags of the
//! design's simulator (sim/build.rs) and `toe_hdl::verilator_config`, with
//! warnings other than WIDTH fatal (in particular UNOPTFLAT).
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A port value: little-endian 64-bit limbs (`ceil(width / 64)` of them
/// in the outputs).  Values compare by number, whatever their limb count.
#[derive(Clone, Debug, Default)]
pub struct Val(pub Vec<u64>);

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        let n = self.0.len().max(other.0.len());
        (0..n).all(|i| self.0.get(i).unwrap_or(&0) == other.0.get(i).unwrap_or(&0))
    }
}

impl Eq for Val {}

impl Val {
    /// The low 64 bits.
    pub fn u64(&self) -> u64 {
        self.0.first().copied().unwrap_or(0)
    }

    /// Bits `at..at + width` (width at most 64).
    #[allow(dead_code)]
    pub fn field(&self, at: usize, width: usize) -> u64 {
        assert!(width <= 64);
        let limb = |i: usize| self.0.get(i).copied().unwrap_or(0);
        let lo = limb(at / 64) >> (at % 64);
        let hi = if at % 64 == 0 {
            0
        } else {
            limb(at / 64 + 1) << (64 - at % 64)
        };
        let v = lo | hi;
        if width == 64 {
            v
        } else {
            v & ((1 << width) - 1)
        }
    }

    /// Bit 0.
    pub fn bit(&self) -> bool {
        self.u64() & 1 != 0
    }

    /// Most significant first, without leading zeros.
    fn hex(&self) -> String {
        let mut s = String::new();
        for (i, l) in self.0.iter().enumerate().rev() {
            if s.is_empty() {
                if *l != 0 || i == 0 {
                    write!(s, "{l:x}").unwrap();
                }
            } else {
                write!(s, "{l:016x}").unwrap();
            }
        }
        if s.is_empty() {
            s.push('0');
        }
        s
    }

    fn from_hex(s: &str) -> Option<Val> {
        let s = s.trim_start_matches('0');
        let mut limbs = vec![];
        let mut end = s.len();
        while end > 0 {
            let start = end.saturating_sub(16);
            limbs.push(u64::from_str_radix(&s[start..end], 16).ok()?);
            end = start;
        }
        if limbs.is_empty() {
            limbs.push(0);
        }
        Some(Val(limbs))
    }

    /// Number of significant bits.
    fn bits(&self) -> usize {
        match self.0.iter().rposition(|&l| l != 0) {
            Some(i) => 64 * i + 64 - self.0[i].leading_zeros() as usize,
            None => 0,
        }
    }

    /// Limbs for a port of `width` bits (zero-extended).
    fn limbs(&self, width: usize) -> Val {
        let mut l = self.0.clone();
        l.resize(width.div_ceil(64).max(1), 0);
        Val(l)
    }
}

impl From<u64> for Val {
    fn from(x: u64) -> Val {
        Val(vec![x])
    }
}

impl From<u32> for Val {
    fn from(x: u32) -> Val {
        Val(vec![x as u64])
    }
}

impl From<bool> for Val {
    fn from(x: bool) -> Val {
        Val(vec![x as u64])
    }
}

impl From<u128> for Val {
    fn from(x: u128) -> Val {
        Val(vec![x as u64, (x >> 64) as u64])
    }
}

/// A data port of the top module.
#[derive(Clone, Debug, Hash)]
pub struct Port {
    pub name: String,
    pub width: usize,
}

/// A block to simulate (see the module documentation).
#[derive(Clone, Debug)]
pub struct VltBlock {
    /// Names the build directories (`$CARGO_TARGET_TMPDIR/vlt_block/<name>-sim`
    /// and `-lint`): one name per block, since concurrent builds of one
    /// name would collide.
    pub name: String,
    pub verilog: String,
    pub top: String,
    pub clock: String,
    /// Active-high reset input and the number of edges it is held.
    pub reset: Option<(String, usize)>,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
}

/// The waivers of `cargo xtask lint` (tools/src/lint.rs `WAIVERS`, reasons
/// in docs/lint.md): (rule, message pattern or `None` for everywhere).
/// [`VltBlock::lint`] checks that this copy matches that list.
pub const LINT_WAIVERS: &[(&str, Option<&str>)] = &[
    ("WIDTH", None),
    ("DECLFILENAME", None),
    ("UNUSEDSIGNAL", Some("Signal is not used: '*$*'")),
    ("UNUSEDSIGNAL", Some("Bits of signal are not used: *")),
    ("UNUSEDPARAM", None),
];

/// Panics with the install command when Verilator is not on the PATH.
/// `verilog` with the signals of the top module's bundle ports `bundles`
/// (rust-hdl names them `field$signal`, e.g. `tag$write`) renamed
/// `field_signal`, which C++ accepts.  Other `$` names (the children's
/// wires, which the lint waives) stay as they are.
pub fn bundle_ports(verilog: &str, bundles: &[&str]) -> String {
    let mut out = verilog.to_string();
    for b in bundles {
        let from = format!("{b}$");
        let mut s = String::with_capacity(out.len());
        let mut last = 0;
        for (i, _) in out.match_indices(&from) {
            let starts = out[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'));
            if starts {
                s.push_str(&out[last..i]);
                s.push_str(b);
                s.push('_');
                last = i + from.len();
            }
        }
        s.push_str(&out[last..]);
        out = s;
    }
    out
}

pub fn require_verilator() {
    let ok = Command::new("verilator")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`verilator` not found: install it with `sudo apt-get update && sudo apt-get install -y verilator` \
         (Verilator 5; `cargo xtask deps` does it when run as root or with sudo)"
    );
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Runs `cmd`, panicking with its output when it fails.
fn run_checked(cmd: &mut Command, what: &str) -> std::process::Output {
    // A make jobserver from the environment must not leak into Verilator's
    // make (see sim/build.rs).
    for v in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] {
        cmd.env_remove(v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({cmd:?}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

impl VltBlock {
    pub fn new(name: &str, verilog: String, top: &str) -> VltBlock {
        VltBlock {
            name: name.into(),
            verilog,
            top: top.into(),
            clock: "clock".into(),
            reset: None,
            inputs: vec![],
            outputs: vec![],
        }
    }

    pub fn clock(mut self, name: &str) -> Self {
        self.clock = name.into();
        self
    }

    /// Active-high synchronous reset, held for `cycles` rising edges.
    pub fn reset(mut self, name: &str, cycles: usize) -> Self {
        self.reset = Some((name.into(), cycles));
        self
    }

    pub fn input(mut self, name: &str, width: usize) -> Self {
        self.inputs.push(Port {
            name: name.into(),
            width,
        });
        self
    }

    pub fn output(mut self, name: &str, width: usize) -> Self {
        self.outputs.push(Port {
            name: name.into(),
            width,
        });
        self
    }

    fn dir(&self, what: &str) -> PathBuf {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("vlt_block")
            .join(format!("{}-{what}", self.name));
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        d
    }

    /// The C++ testbench: reads one line of hex input values per cycle
    /// from the file named by argv[1], prints one line of hex outputs.
    /// With a second argument (step mode, [`VltBlock::start`]) it also
    /// prints the outputs before reading each line (the registered
    /// outputs of the cycle, with the previous cycle's inputs still
    /// applied) and flushes after every line, so that a test can choose
    /// each cycle's inputs from what the block shows.
    fn testbench(&self) -> String {
        let mut s = String::from(
            "// Generated by hdl/tests/common/vlt_block.rs.\n\
             #include \"Vdut.h\"\n#include \"verilated.h\"\n\
             #include <cstdint>\n#include <cstdio>\n#include <cstdlib>\n#include <cstring>\n\
             #include <fstream>\n#include <sstream>\n#include <string>\n\n\
             static uint64_t hex64(const std::string& t, int width) {\n\
             \x20   uint64_t v = strtoull(t.c_str(), nullptr, 16);\n\
             \x20   return width >= 64 ? v : v & ((1ULL << width) - 1);\n}\n\n\
             // Ports wider than 64 bits: 32-bit words, least significant first.\n\
             static void hexwide(const std::string& t, uint32_t* w, int width) {\n\
             \x20   int words = (width + 31) / 32;\n\
             \x20   for (int i = 0; i < words; i++) {\n\
             \x20       int end = (int)t.size() - 8 * i;\n\
             \x20       int start = end - 8 < 0 ? 0 : end - 8;\n\
             \x20       w[i] = end > 0 ? (uint32_t)strtoul(t.substr(start, end - start).c_str(), nullptr, 16) : 0;\n\
             \x20   }\n\
             \x20   if (width % 32) w[words - 1] &= (1U << (width % 32)) - 1;\n}\n\n\
             static void printwide(const uint32_t* w, int width) {\n\
             \x20   for (int i = (width + 31) / 32 - 1; i >= 0; i--) printf(\"%08x\", w[i]);\n}\n\n",
        );
        s.push_str("static void print_outputs(Vdut& top) {\n");
        for (i, p) in self.outputs.iter().enumerate() {
            if i > 0 {
                s.push_str("    putchar(' ');\n");
            }
            if p.width > 64 {
                writeln!(
                    s,
                    "    printwide((const uint32_t*)top.{}.data(), {});",
                    p.name, p.width
                )
                .unwrap();
            } else {
                writeln!(
                    s,
                    "    printf(\"%llx\", (unsigned long long)top.{});",
                    p.name
                )
                .unwrap();
            }
        }
        s.push_str("    putchar('\\n');\n}\n\n");
        s.push_str(
            "int main(int argc, char** argv) {\n\
             \x20   if (argc < 2) { fprintf(stderr, \"usage: %s STIMULUS [step]\\n\", argv[0]); return 2; }\n\
             \x20   const bool step = argc > 2;\n\
             \x20   VerilatedContext ctx;\n\
             \x20   Vdut top{&ctx};\n\
             \x20   std::ifstream in(argv[1]);\n\
             \x20   if (!in) { fprintf(stderr, \"cannot open %s\\n\", argv[1]); return 2; }\n",
        );
        writeln!(s, "    top.{} = 0;", self.clock).unwrap();
        for p in &self.inputs {
            if p.width > 64 {
                writeln!(
                    s,
                    "    for (int i = 0; i < {}; i++) top.{}[i] = 0;",
                    p.width.div_ceil(32),
                    p.name
                )
                .unwrap();
            } else {
                writeln!(s, "    top.{} = 0;", p.name).unwrap();
            }
        }
        if let Some((rst, n)) = &self.reset {
            writeln!(s, "    top.{rst} = 1;\n    top.eval();").unwrap();
            writeln!(
                s,
                "    for (int i = 0; i < {n}; i++) {{\n        top.{c} = 1;\n        top.eval();\n        \
                 top.{c} = 0;\n        top.eval();\n    }}\n    top.{rst} = 0;",
                c = self.clock
            )
            .unwrap();
        }
        s.push_str(
            "    top.eval();\n    std::string line, tok;\n    while (true) {\n        \
             if (step) { print_outputs(top); fflush(stdout); }\n        \
             if (!std::getline(in, line)) break;\n        \
             std::istringstream ls(line);\n",
        );
        for p in &self.inputs {
            s.push_str(
                "        if (!(ls >> tok)) { fprintf(stderr, \"short line\\n\"); return 2; }\n",
            );
            if p.width > 64 {
                writeln!(
                    s,
                    "        hexwide(tok, (uint32_t*)top.{n}.data(), {w});",
                    n = p.name,
                    w = p.width
                )
                .unwrap();
            } else {
                writeln!(s, "        top.{} = hex64(tok, {});", p.name, p.width).unwrap();
            }
        }
        writeln!(
            s,
            "        top.eval();\n        print_outputs(top);\n        if (step) fflush(stdout);\n        \
             top.{c} = 1;\n        top.eval();\n        top.{c} = 0;\n        \
             top.eval();\n    }}\n    top.final();\n    return 0;\n}}",
            c = self.clock
        )
        .unwrap();
        s
    }

    /// Builds the simulator (or reuses the previous build of the same
    /// content) and returns the executable.
    pub fn build(&self) -> PathBuf {
        require_verilator();
        for p in self.inputs.iter().chain(&self.outputs) {
            assert!(
                p.width > 0 && !p.name.contains('$'),
                "port {p:?}: zero width or not a top-level port"
            );
        }
        let dir = self.dir("sim");
        let v = dir.join(format!("{}.v", self.top));
        let vlt = dir.join(format!("{}.vlt", self.top));
        let tb = dir.join("tb.cpp");
        let mdir = dir.join("obj");
        let exe = mdir.join("dut_tb");
        let config = toe_hdl::verilator_config(&self.verilog);
        let tb_text = self.testbench();
        let mut cmd = Command::new("verilator");
        cmd.args(["--cc", "--exe", "--build", "-j", "0", "-O3"])
            .args(["--x-assign", "fast", "--x-initial", "fast", "--noassert"])
            .args(["-Wno-WIDTH", "--prefix", "Vdut", "-o", "dut_tb"])
            .arg("--top-module")
            .arg(&self.top)
            .arg("--Mdir")
            .arg(&mdir)
            .args([&vlt, &v, &tb]);
        let mut h = DefaultHasher::new();
        (&self.verilog, &config, &tb_text, format!("{cmd:?}")).hash(&mut h);
        let stamp = format!("{:016x}\n", h.finish());
        let stamp_file = dir.join("stamp");
        if exe.exists() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
            return exe;
        }
        let _ = std::fs::remove_file(&stamp_file);
        write_file(&v, &self.verilog);
        write_file(&vlt, &config);
        write_file(&tb, &tb_text);
        run_checked(&mut cmd, "verilator build");
        assert!(exe.exists(), "verilator did not produce {}", exe.display());
        write_file(&stamp_file, &stamp);
        exe
    }

    /// Simulates `inputs` (one `Vec` per cycle, values in the order of
    /// `self.inputs`) and returns the outputs of every cycle, in the order
    /// of `self.outputs`.
    pub fn run(&self, inputs: &[Vec<Val>]) -> Vec<Vec<Val>> {
        let exe = self.build();
        let mut text = String::new();
        for (n, cycle) in inputs.iter().enumerate() {
            assert_eq!(
                cycle.len(),
                self.inputs.len(),
                "cycle {n}: one value per input port"
            );
            for (p, val) in self.inputs.iter().zip(cycle) {
                assert!(
                    val.bits() <= p.width,
                    "cycle {n}: value {val:?} does not fit {} ({} bits)",
                    p.name,
                    p.width
                );
                text.push_str(&val.hex());
                text.push(' ');
            }
            text.push('\n');
        }
        // One file per run: tests of one binary run in parallel.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let stim = exe.with_file_name(format!(
            "stimulus-{}-{}.txt",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        write_file(&stim, &text);
        let out = run_checked(Command::new(&exe).arg(&stim), "verilated testbench");
        let _ = std::fs::remove_file(&stim);
        let stdout = String::from_utf8(out.stdout).expect("testbench output is ASCII");
        let rows: Vec<Vec<Val>> = stdout
            .lines()
            .map(|l| {
                let row: Vec<Val> = l
                    .split_whitespace()
                    .map(|t| Val::from_hex(t).unwrap_or_else(|| panic!("bad hex {t:?}")))
                    .zip(&self.outputs)
                    .map(|(v, p)| v.limbs(p.width))
                    .collect();
                assert_eq!(row.len(), self.outputs.len(), "testbench line {l:?}");
                row
            })
            .collect();
        assert_eq!(rows.len(), inputs.len(), "one output line per cycle");
        rows
    }

    /// `verilator --lint-only -Wall` with the project's waivers; `Err`
    /// holds Verilator's findings.
    pub fn lint(&self) -> Result<(), String> {
        require_verilator();
        check_waivers_match_xtask();
        let dir = self.dir("lint");
        let v = dir.join(format!("{}.v", self.top));
        let vlt = dir.join("waivers.vlt");
        let mut config = toe_hdl::verilator_config(&self.verilog);
        let mut args = vec![];
        for (rule, matching) in LINT_WAIVERS {
            match matching {
                Some(m) => {
                    writeln!(config, "lint_off -rule {rule} -file \"*\" -match \"{m}\"").unwrap()
                }
                None => args.push(format!("-Wno-{rule}")),
            }
        }
        write_file(&v, &self.verilog);
        write_file(&vlt, &config);
        let out = Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", self.top.as_str()])
            .args(&args)
            .arg(&vlt)
            .arg(&v)
            .output()
            .expect("cannot run verilator");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            ))
        }
    }
}

/// A block running in step mode ([`VltBlock::start`]): the test gives the
/// inputs of one cycle at a time and sees the outputs before choosing them
/// ([`Stepper::peek`]) and after ([`Stepper::step`]).  Reactive
/// stimulus (an AXI master that holds its request until it is taken, a
/// memory that answers the addresses a block asks for) needs this; the
/// batch mode ([`VltBlock::run`]) is faster for fixed stimulus.
pub struct Stepper {
    child: std::process::Child,
    to_tb: std::io::BufWriter<std::process::ChildStdin>,
    from_tb: std::io::BufReader<std::process::ChildStdout>,
    widths: Vec<usize>,
    inputs: Vec<Port>,
    pre: Vec<Val>,
    /// Cycles stepped so far.
    pub cycle: u64,
    line: String,
}

impl VltBlock {
    /// Builds the simulator (as [`VltBlock::run`]) and starts it in step
    /// mode, after the reset given to [`VltBlock::reset`].
    pub fn start(&self) -> Stepper {
        use std::process::Stdio;
        let exe = self.build();
        let mut child = Command::new(&exe)
            .arg("/dev/stdin")
            .arg("step")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let to_tb = std::io::BufWriter::new(child.stdin.take().unwrap());
        let from_tb = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut st = Stepper {
            child,
            to_tb,
            from_tb,
            widths: self.outputs.iter().map(|p| p.width).collect(),
            inputs: self.inputs.clone(),
            pre: vec![],
            cycle: 0,
            line: String::new(),
        };
        st.pre = st.read_outputs();
        st
    }
}

impl Stepper {
    fn read_outputs(&mut self) -> Vec<Val> {
        use std::io::BufRead;
        self.line.clear();
        let n = self
            .from_tb
            .read_line(&mut self.line)
            .expect("reading the testbench's outputs");
        assert!(n > 0, "the testbench ended early (cycle {})", self.cycle);
        let row: Vec<Val> = self
            .line
            .split_whitespace()
            .map(|t| Val::from_hex(t).unwrap_or_else(|| panic!("bad hex {t:?}")))
            .zip(&self.widths)
            .map(|(v, &w)| v.limbs(w))
            .collect();
        assert_eq!(
            row.len(),
            self.widths.len(),
            "testbench line {:?}",
            self.line
        );
        row
    }

    /// The outputs of the coming cycle before its inputs are applied (the
    /// previous cycle's inputs are still on the ports): exact for outputs
    /// that come from registers.
    pub fn peek(&self) -> &[Val] {
        &self.pre
    }

    /// Applies one cycle's inputs (in the order of the block's inputs),
    /// returns the outputs with them applied, and gives the clock edge.
    pub fn step(&mut self, inputs: &[Val]) -> Vec<Val> {
        use std::io::Write;
        assert_eq!(inputs.len(), self.inputs.len(), "one value per input port");
        let mut text = String::new();
        for (p, val) in self.inputs.iter().zip(inputs) {
            assert!(
                val.bits() <= p.width,
                "cycle {}: value {val:?} does not fit {} ({} bits)",
                self.cycle,
                p.name,
                p.width
            );
            text.push_str(&val.hex());
            text.push(' ');
        }
        text.push('\n');
        self.to_tb
            .write_all(text.as_bytes())
            .and_then(|_| self.to_tb.flush())
            .expect("writing to the testbench");
        let post = self.read_outputs();
        self.pre = self.read_outputs();
        self.cycle += 1;
        post
    }
}

impl Drop for Stepper {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = self.to_tb.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Panics when [`LINT_WAIVERS`] differs from tools/src/lint.rs `WAIVERS`.
fn check_waivers_match_xtask() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/src/lint.rs");
    let Ok(src) = std::fs::read_to_string(&path) else {
        return;
    };
    let mut theirs: Vec<(String, Option<String>)> = vec![];
    for block in src.split("Waiver {").skip(1) {
        let field = |key: &str| {
            let at = block.find(key)? + key.len();
            Some(block[at..].trim_start().to_string())
        };
        // Skip the struct definition (`rule: &'static str`).
        let (Some(rule), Some(matching)) = (field("rule:"), field("matching:")) else {
            continue;
        };
        if !rule.starts_with('"') {
            continue;
        }
        let quoted = |s: &str| s.split('"').nth(1).map(str::to_string);
        let matching = if matching.starts_with("None") {
            None
        } else {
            quoted(&matching)
        };
        theirs.push((quoted(&rule).unwrap_or_default(), matching));
    }
    let ours: Vec<(String, Option<String>)> = LINT_WAIVERS
        .iter()
        .map(|(r, m)| (r.to_string(), m.map(str::to_string)))
        .collect();
    assert_eq!(
        ours,
        theirs,
        "hdl/tests/common/vlt_block.rs LINT_WAIVERS must match {}",
        path.display()
    );
}
