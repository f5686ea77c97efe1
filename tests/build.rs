//! Generates the design's Verilog from hdl/, Verilates it with a small C++
//! shim and links the result.  Verilator 5 (Debian) is required: `cargo
//! xtask deps` installs it.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let rtl = out.join("toe.v");
    std::fs::write(&rtl, toe_hdl::verilog()).expect("write toe.v");
    let shim = here.join("csrc/shim.cpp");
    println!("cargo:rerun-if-changed={}", shim.display());
    let mdir = out.join("vobj");
    let status = Command::new("verilator")
        .args([
            "--cc",
            "--build",
            "-j",
            "0",
            "-O3",
            "--x-assign",
            "fast",
            "--x-initial",
            "fast",
            "--noassert",
        ])
        .args([
            "-Wno-WIDTH",
            "-Wno-UNOPTFLAT",
            "-Wno-fatal",
            "-CFLAGS",
            "-fPIC -O2",
            "--trace-fst",
        ])
        .args(["--lib-create", "toe", "--top-module", "toe", "--Mdir"])
        .arg(&mdir)
        .arg(&rtl)
        .arg(&shim)
        .status()
        .expect("verilator not found: run `cargo xtask deps` (Debian package `verilator`)");
    assert!(status.success(), "verilator failed");
    println!("cargo:rustc-link-search=native={}", mdir.display());
    println!("cargo:rustc-link-lib=static=toe");
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=z");
    println!("cargo:rustc-link-lib=dylib=pthread");
}
