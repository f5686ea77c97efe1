//! Generates the C header `$OUT_DIR/toe.h` from src/lib.rs with cbindgen
//! (configuration in cbindgen.toml).  include/toe.h is the checked-in copy;
//! tests/header.rs fails when the two differ.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("toe.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join("cbindgen.toml").display()));
    let bindings = cbindgen::Builder::new()
        // The single source file: no `cargo metadata` run from the build.
        .with_src(dir.join("src/lib.rs"))
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate toe.h from src/lib.rs: {e}"));
    bindings.write_to_file(&out);
}
