//! Generates the design's Verilog (`toe_hdl::verilog()`), Verilates it
//! together with the C++ shim (csrc/shim.cpp) and links the result.
//!
//! Two libraries are built from the same Verilog:
//! * `toe_fast`: no tracing support, used by default;
//! * `toe_fst` (feature `fst`, on by default): compiled with `--trace-fst`,
//!   used only when a waveform is asked for at run time.
//!
//! Requires Verilator 5 and zlib headers (Debian: `verilator`, `zlib1g-dev`).
//! `TOE_SIM_OPT` overrides the C++ optimisation flags of the model's hot code
//! (default `-O3 -march=native`).
use std::path::{Path, PathBuf};
use std::process::Command;

/// Verilator warning waivers: rust-hdl's Verilog assigns narrower or wider
/// values freely (WIDTH).  Every other warning is fatal.  In particular
/// UNOPTFLAT must stay fatal: Verilator 5 evaluates combinational loops in a
/// single pass and can simulate them wrongly;
/// `toe_hdl::verilator_config` splits rust-hdl's blocks so none remain.
const WAIVERS: &[&str] = &["-Wno-WIDTH"];

fn verilate(
    out: &Path,
    vlt: &Path,
    fast_h: &Path,
    rtl: &Path,
    shim: &Path,
    name: &str,
    class: &str,
    trace: bool,
    opt: &str,
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
    let mut cmd = Command::new("verilator");
    cmd.args(["--cc", "--build", "-j", "0", "-O3"])
        .args(["--x-assign", "fast", "--x-initial", "fast", "--noassert"])
        .args(WAIVERS)
        .args(["-CFLAGS", "-fPIC"])
        // Faster wide-shift helper (csrc/vlfast.h), same results.
        .arg("-CFLAGS")
        .arg(format!("-include {}", fast_h.display()))
        .arg("-MAKEFLAGS")
        // Verilator hands this string to a shell: escape the spaces.
        .arg(format!(
            "OPT_FAST={} OPT_GLOBAL=-O2",
            opt.replace(' ', "\\ ")
        ));
    if trace {
        cmd.arg("--trace-fst");
    }
    cmd.args([
        "--prefix",
        class,
        "--lib-create",
        name,
        "--top-module",
        "toe",
        "--Mdir",
    ])
    .arg(&mdir)
    .arg(vlt)
    .arg(rtl)
    .arg(&unit);
    // Cargo may run us under a make jobserver; Verilator's make must not
    // inherit it.
    for v in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] {
        cmd.env_remove(v);
    }
    let output = cmd
        .output()
        .expect("cannot run `verilator`: install Verilator 5 (Debian package `verilator`)");
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("verilator failed for {name} (command: {cmd:?})");
    }
    let lib = mdir.join(format!("lib{name}.a"));
    assert!(lib.exists(), "verilator did not produce {}", lib.display());
    println!("cargo:rustc-link-search=native={}", mdir.display());
    println!("cargo:rustc-link-lib=static={name}");
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
    println!("cargo:rerun-if-changed={}", shim.display());
    println!("cargo:rerun-if-changed={}", fast_h.display());
    println!(
        "cargo:rerun-if-changed={}",
        here.join("csrc/ports.h").display()
    );
    println!("cargo:rerun-if-env-changed=TOE_SIM_OPT");
    let opt = std::env::var("TOE_SIM_OPT").unwrap_or_else(|_| "-O3 -march=native".into());

    let rtl = out.join("toe.v");
    let verilog = toe_hdl::verilog();
    write_if_changed(&rtl, &verilog);
    let vlt = out.join("toe.vlt");
    write_if_changed(&vlt, &toe_hdl::verilator_config(&verilog));

    verilate(
        &out, &vlt, &fast_h, &rtl, &shim, "toe_fast", "Vtoe", false, &opt,
    );
    if std::env::var_os("CARGO_FEATURE_FST").is_some() {
        verilate(
            &out, &vlt, &fast_h, &rtl, &shim, "toe_fst", "Vtoe_fst", true, &opt,
        );
    }
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=z");
    println!("cargo:rustc-link-lib=dylib=pthread");
}
