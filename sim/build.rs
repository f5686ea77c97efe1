//! Generates the design's Verilog (`toe_hdl::verilog()`), Verilates it
//! under the simulation-only top level `toe_sim_top` (vsrc/toe_sim_top.v:
//! register slices on every interface channel, so that a clock cycle needs
//! one evaluation; `toe` itself is unchanged) together with the C++ shim
//! (csrc/shim.cpp) and links the result.
//!
//! Two libraries are built from the same Verilog:
//! * `toe_fast`: no tracing support, used by default;
//! * `toe_fst` (feature `fst`, on by default): compiled with `--trace-fst`,
//!   used only when a waveform is asked for at run time.
//!
//! Requires Verilator 5 and zlib headers (Debian: `verilator`, `zlib1g-dev`),
//! and uses clang (Debian: `clang`) when it is installed (below).
//! `TOE_SIM_OPT` overrides the C++ optimisation flags of the model's hot code
//! (default `-O3 -march=native`).
//!
//! Compiler (`TOE_SIM_CXX`): the model is compiled with clang++ when it is
//! installed (Debian `clang`), else with g++; `TOE_SIM_CXX=g++` (or any
//! compiler command) forces one.  Measured on 2026-12-07 (csrc/trainer.cpp's
//! phases, processor time, medians of 5 alternating runs): clang 14 runs the
//! model 20% faster than gcc 12 idle and 13% faster with MAC RX traffic
//! without PGO, and 11% and 7% faster with PGO on both (0.81 / 0.60 against
//! 0.73 / 0.56 M cycles/s).  Objects built by clang need libatomic (the
//! Verilator runtime's atomics), linked here.
//!
//! Profile-guided optimisation (`TOE_SIM_PGO`): `toe_fast` is first built
//! instrumented (gcc `-fprofile-generate`), a training workload runs on it
//! (csrc/trainer.cpp: idle, back-to-back MAC RX traffic, then RX delivery
//! into four queues and TX), and the library is rebuilt with
//! `-fprofile-use` (with clang: `-fprofile-generate=DIR`, `llvm-profdata
//! merge`, `-fprofile-use=FILE`).  On by default in release builds (`cargo xtask bench`,
//! `--release`), off in debug builds (tests), where it would add the second
//! compilation to every build; `TOE_SIM_PGO=1` or `=0` forces it on or off.
//! If any step of it fails, the build warns and falls back to the plain
//! library.  The profile data (`*.gcda`) stays in the library's object folder
//! under OUT_DIR.  Measured on 2026-11-24: about 5% more cycles per second
//! (idle and with MAC RX traffic) for about 30 s more per release build.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Verilator warning waivers: rust-hdl's Verilog assigns narrower or wider
/// values freely (WIDTH).  Every other warning is fatal.  In particular
/// UNOPTFLAT must stay fatal: Verilator 5 evaluates combinational loops in a
/// single pass and can simulate them wrongly;
/// `toe_hdl::verilator_config` splits rust-hdl's blocks so none remain.
const WAIVERS: &[&str] = &["-Wno-WIDTH"];

/// Training run for profile-guided optimisation of `toe_fast`.
struct Pgo {
    /// csrc/trainer.cpp.
    trainer: PathBuf,
    /// Header with the register map and record layouts (from toe_contract).
    contract_h: PathBuf,
    /// Cycles of each of the trainer's three phases.
    cycles: u64,
}

/// The C++ compiler of the model (`TOE_SIM_CXX`, else clang++ when it runs,
/// else g++).
struct Cxx {
    prog: String,
    clang: bool,
}

impl Cxx {
    fn find() -> Cxx {
        let prog = match std::env::var("TOE_SIM_CXX") {
            Ok(p) if !p.trim().is_empty() => p,
            _ if runs_ok("clang++", &["--version"]) => "clang++".into(),
            _ => "g++".into(),
        };
        let clang = Command::new(&prog)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("clang"));
        Cxx { prog, clang }
    }

    /// llvm-profdata of this clang (its own program directory first).
    fn profdata(&self) -> Option<String> {
        let own = Command::new(&self.prog)
            .arg("-print-prog-name=llvm-profdata")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        own.into_iter()
            .chain(["llvm-profdata".to_string()])
            .find(|p| runs_ok(p, &["merge", "--help"]))
    }

    /// Options that instrument for profiling, and that use the profile.
    fn pgo_flags(&self, mdir: &Path) -> (String, String) {
        if self.clang {
            (
                format!("-fprofile-generate={}", mdir.join("prof").display()),
                format!(
                    "-fprofile-use={} -Wno-profile-instr-unprofiled \
                     -Wno-profile-instr-out-of-date",
                    mdir.join("toe.profdata").display()
                ),
            )
        } else {
            (
                "-fprofile-generate -fprofile-update=single".into(),
                "-fprofile-use -fprofile-partial-training -Wno-missing-profile".into(),
            )
        }
    }
}

/// True if `prog args` starts and exits successfully.
fn runs_ok(prog: &str, args: &[&str]) -> bool {
    Command::new(prog)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[allow(clippy::too_many_arguments)]
fn verilate(
    out: &Path,
    vlt: &Path,
    fast_h: &Path,
    rtl: &Path,
    top: &Path,
    shim: &Path,
    name: &str,
    class: &str,
    trace: bool,
    cxx: &Cxx,
    opt: &str,
    pgo: Option<&Pgo>,
) {
    // A per-library translation unit that instantiates the shim for this
    // model class and symbol prefix.
    let unit = out.join(format!("shim_{name}.cpp"));
    let src = format!(
        "#define TOE_CLASS {class}\n#define TOE_HEADER \"{class}.h\"\n\
         #define TOE_ROOT_HEADER \"{class}___024root.h\"\n#define TOE_FN(n) {name}_##n\n\
         #define TOE_ROOT_FN(n) {class}___024root___##n\n\
         #include \"{}\"\n",
        shim.display()
    );
    write_if_changed(&unit, &src);
    let mdir = out.join(format!("vobj_{name}"));
    // Verilator only generates the C++ here; the build script runs make
    // itself (below), once or, with PGO, twice with different flags.
    let mut cmd = Command::new("verilator");
    cmd.args(["--cc", "-O3"])
        .args(["--x-assign", "fast", "--x-initial", "fast", "--noassert"])
        .args(WAIVERS)
        .args(["-CFLAGS", "-fPIC"])
        // clang 14 defaults to C++14; the shim uses C++17 (g++ 12's default).
        .args(["-CFLAGS", "-std=gnu++17"])
        // Faster wide-shift helper (csrc/vlfast.h), same results.
        .arg("-CFLAGS")
        .arg(format!("-include {}", fast_h.display()));
    if trace {
        cmd.arg("--trace-fst");
    }
    cmd.args([
        "--prefix",
        class,
        "--lib-create",
        name,
        "--top-module",
        "toe_sim_top",
        "--Mdir",
    ])
    .arg(&mdir)
    .arg(vlt)
    .arg(rtl)
    .arg(top)
    .arg(&unit);
    run(&mut cmd, &format!("verilator failed for {name}"));
    let lib = mdir.join(format!("lib{name}.a"));
    // Flags the objects in mdir were compiled with ("pgo <flags>":
    // profile-guided).
    // Removed while building, so that an interrupted build leaves none.
    let stamp = mdir.join("toe_flags.txt");
    let prev_flags = std::fs::read_to_string(&stamp).ok();
    let _ = std::fs::remove_file(&stamp);
    let flags = format!("{} {opt}", cxx.prog);
    let built = match pgo {
        Some(p) => match build_pgo(&mdir, class, name, cxx, opt, p) {
            Ok(()) => true,
            Err(e) => {
                println!(
                    "cargo:warning=toe-sim: profile-guided build of {name} failed, \
                     building without it: {e}"
                );
                false
            }
        },
        None => false,
    };
    if !built {
        // Verilator leaves unchanged files alone, so make rebuilds only what
        // changed, unless the flags changed (make cannot see that) or a
        // failed profile-guided build left instrumented objects.
        if pgo.is_some() || prev_flags.as_deref() != Some(flags.as_str()) {
            remove_objects(&mdir, true);
        }
        if let Err(e) = make(&mdir, class, name, cxx, opt) {
            panic!("building the Verilated model {name} failed: {e}");
        }
        write_if_changed(&stamp, &flags);
    } else {
        write_if_changed(&stamp, &format!("pgo {flags}"));
    }
    assert!(lib.exists(), "verilator did not produce {}", lib.display());
    println!("cargo:rustc-link-search=native={}", mdir.display());
    println!("cargo:rustc-link-lib=static={name}");
}

/// Runs a command to completion; panics with its output when it fails.
fn run(cmd: &mut Command, what: &str) {
    // Cargo may run us under a make jobserver; Verilator's make must not
    // inherit it.
    for v in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] {
        cmd.env_remove(v);
    }
    let output = cmd.output().unwrap_or_else(|e| {
        panic!("{what}: cannot run {cmd:?}: {e} (install Verilator 5, Debian package `verilator`)")
    });
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("{what} (command: {cmd:?})");
    }
}

/// Builds the Verilated library in `mdir` with `opt` as the flags of the
/// model's hot code (Verilator's OPT_FAST; the shim is compiled with them
/// too).
fn make(mdir: &Path, class: &str, name: &str, cxx: &Cxx, opt: &str) -> Result<(), String> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(mdir)
        .args(["-f", &format!("{class}.mk"), "-j", &jobs.to_string()])
        .arg(format!("CXX={}", cxx.prog))
        .arg(format!("OPT_FAST={opt}"))
        .arg("OPT_GLOBAL=-O2")
        // The static library only (Verilator's default target also links a
        // shared one).
        .arg(format!("lib{name}.a"));
    for v in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] {
        cmd.env_remove(v);
    }
    let output = cmd.output().map_err(|e| format!("cannot run make: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{cmd:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// Deletes the compiled objects and libraries in `mdir` (make does not see
/// flag changes), and with `profiles` also the profile data.
fn remove_objects(mdir: &Path, profiles: bool) {
    let Ok(dir) = std::fs::read_dir(mdir) else {
        return;
    };
    for e in dir.flatten() {
        let p = e.path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if matches!(ext, "o" | "a" | "so") || (profiles && matches!(ext, "gcda" | "profdata")) {
            let _ = std::fs::remove_file(&p);
        }
    }
    if profiles {
        let _ = std::fs::remove_dir_all(mdir.join("prof"));
    }
}

/// Instrumented build, training run, optimised rebuild.
fn build_pgo(
    mdir: &Path,
    class: &str,
    name: &str,
    cxx: &Cxx,
    opt: &str,
    pgo: &Pgo,
) -> Result<(), String> {
    let profdata = if cxx.clang {
        Some(
            cxx.profdata()
                .ok_or("llvm-profdata not found (Debian: llvm)")?,
        )
    } else {
        None
    };
    let (gen_flags, use_flags) = cxx.pgo_flags(mdir);
    remove_objects(mdir, true);
    make(mdir, class, name, cxx, &format!("{opt} {gen_flags}"))?;
    // The trainer, linked against the instrumented library.
    let trainer = mdir.join("toe_trainer");
    let mut cc = Command::new(&cxx.prog);
    cc.args(["-O2", "-std=c++17"])
        .arg(format!(
            "-I{}",
            pgo.trainer.parent().expect("csrc").display()
        ))
        .arg(format!(
            "-DTOE_CONTRACT_HEADER=\"{}\"",
            pgo.contract_h.display()
        ))
        .arg(format!("-DTOE_FN(n)={name}_##n"))
        .arg(&pgo.trainer)
        .arg(mdir.join(format!("lib{name}.a")))
        .args(gen_flags.split_whitespace())
        .args(["-lpthread", "-latomic", "-o"])
        .arg(&trainer);
    let output = cc.output().map_err(|e| format!("cannot run g++: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "compiling the trainer failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // Training run, in the object folder (where gcc puts the .gcda files).
    let t = Instant::now();
    let mut child = Command::new(&trainer)
        .arg(pgo.cycles.to_string())
        .current_dir(mdir)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run the trainer: {e}"))?;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if t.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the trainer did not finish in 600 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        return Err(format!("the trainer failed ({status})"));
    }
    // gcc: .gcda files beside the objects; clang: .profraw files in prof/,
    // merged into toe.profdata.
    let (dir, ext) = if cxx.clang {
        (mdir.join("prof"), "profraw")
    } else {
        (mdir.to_path_buf(), "gcda")
    };
    let profiles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    if profiles.is_empty() {
        return Err("the trainer wrote no profile data".into());
    }
    if let Some(profdata) = profdata {
        let output = Command::new(profdata)
            .arg("merge")
            .arg("-o")
            .arg(mdir.join("toe.profdata"))
            .args(&profiles)
            .output()
            .map_err(|e| format!("cannot run llvm-profdata: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "llvm-profdata merge failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    remove_objects(mdir, false);
    make(mdir, class, name, cxx, &format!("{opt} {use_flags}"))
}

/// C++ header with the parts of the hardware/software contract the trainer
/// uses (register map, record layouts), from toe_contract.
fn contract_header() -> String {
    use toe_contract::{desc, regs};
    macro_rules! consts {
        ($($m:ident :: $n:ident),* $(,)?) => {
            [$((stringify!($n), $m::$n as u64)),*]
        };
    }
    let top = [
        ("NUM_QUEUES", toe_contract::NUM_QUEUES as u64),
        ("RSS_TABLE_ENTRIES", toe_contract::RSS_TABLE_ENTRIES as u64),
    ];
    let list = consts![
        regs::ID_BASE,
        regs::ID_CTRL,
        regs::RSS_BASE,
        regs::RSS_CTRL,
        regs::RSS_CTRL_ENABLE,
        regs::RSS_KEY,
        regs::RSS_KEY_WORDS,
        regs::RSS_TABLE,
        regs::Q_DESC_LO,
        regs::Q_DESC_HI,
        regs::Q_CPL_LO,
        regs::Q_CPL_HI,
        regs::Q_CTRL,
        regs::Q_CTRL_ENABLE,
        regs::Q_PROD,
        regs::Q_CONS,
        regs::COUNTERS_BASE,
        regs::CNT_FIRST,
        regs::NUM_COUNTERS,
        desc::RECORD_BYTES,
        desc::RXD_ADDR_BIT,
        desc::RXD_LEN_BIT,
        desc::TXD_ADDR_BIT,
        desc::TXD_LEN_BIT,
        desc::TXD_FLAGS_BIT,
        desc::TXF_CSUM_IP,
        desc::TXF_CSUM_TCP,
    ];
    let mut h = String::from(
        "// Generated by sim/build.rs from toe_contract for csrc/trainer.cpp.\n\
         #pragma once\n#include <cstdint>\nnamespace toe_contract {\n",
    );
    for (n, v) in top.iter().chain(list.iter()) {
        h += &format!("constexpr uint32_t {n} = {v:#x}u;\n");
    }
    h += &format!(
        "constexpr uint32_t txq(uint32_t q, uint32_t r) {{ return {:#x}u + q * {:#x}u + r; }}\n\
         constexpr uint32_t rxq(uint32_t q, uint32_t r) {{ return {:#x}u + q * {:#x}u + r; }}\n\
         }}  // namespace toe_contract\n",
        regs::TXQ_BASE,
        regs::QUEUE_STRIDE,
        regs::RXQ_BASE,
        regs::QUEUE_STRIDE
    );
    h
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let shim = here.join("csrc/shim.cpp");
    let fast_h = here.join("csrc/vlfast.h");
    let top = here.join("vsrc/toe_sim_top.v");
    println!("cargo:rerun-if-changed={}", top.display());
    println!("cargo:rerun-if-changed={}", shim.display());
    println!("cargo:rerun-if-changed={}", fast_h.display());
    println!(
        "cargo:rerun-if-changed={}",
        here.join("csrc/ports.h").display()
    );
    let trainer = here.join("csrc/trainer.cpp");
    println!("cargo:rerun-if-changed={}", trainer.display());
    println!("cargo:rerun-if-env-changed=TOE_SIM_OPT");
    println!("cargo:rerun-if-env-changed=TOE_SIM_PGO");
    // Under clippy (`cargo xtask test` runs it) nothing is linked, and this
    // script's output is kept apart from the builds' (clippy-driver wraps
    // the workspace crates it depends on, which changes their hashes): the
    // Verilated models, minutes of C++ compilation, are not needed.
    println!("cargo:rerun-if-env-changed=RUSTC_WORKSPACE_WRAPPER");
    if std::env::var("RUSTC_WORKSPACE_WRAPPER").is_ok_and(|w| w.contains("clippy-driver")) {
        return;
    }
    println!("cargo:rerun-if-env-changed=TOE_SIM_CXX");
    let opt = std::env::var("TOE_SIM_OPT").unwrap_or_else(|_| "-O3 -march=native".into());
    let cxx = Cxx::find();
    let pgo_on = match std::env::var("TOE_SIM_PGO").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        Ok(v) => panic!("TOE_SIM_PGO must be 0 or 1, not {v:?}"),
        Err(_) => std::env::var("PROFILE").as_deref() == Ok("release"),
    };
    let contract_h = out.join("toe_contract.h");
    write_if_changed(&contract_h, &contract_header());
    let pgo = Pgo {
        trainer,
        contract_h,
        cycles: 100_000,
    };

    let rtl = out.join("toe.v");
    let verilog = toe_hdl::verilog();
    write_if_changed(&rtl, &verilog);
    let vlt = out.join("toe.vlt");
    write_if_changed(&vlt, &toe_hdl::verilator_config(&verilog));

    verilate(
        &out,
        &vlt,
        &fast_h,
        &rtl,
        &top,
        &shim,
        "toe_fast",
        "Vtoe",
        false,
        &cxx,
        &opt,
        pgo_on.then_some(&pgo),
    );
    // The tracing model is only used for waveforms: no PGO.
    if std::env::var_os("CARGO_FEATURE_FST").is_some() {
        verilate(
            &out, &vlt, &fast_h, &rtl, &top, &shim, "toe_fst", "Vtoe_fst", true, &cxx, &opt, None,
        );
    }
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=z");
    println!("cargo:rustc-link-lib=dylib=pthread");
    if cxx.clang {
        println!("cargo:rustc-link-lib=dylib=atomic");
    }
}
