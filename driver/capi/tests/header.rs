//! The checked-in header (include/toe.h, for C developers who do not run
//! cargo) must be the one build.rs generates from src/lib.rs.
use std::path::Path;

const GENERATED: &str = concat!(env!("OUT_DIR"), "/toe.h");
const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include/toe.h");
const REFRESH: &str = "TOE_CAPI_BLESS=1 cargo test -p toe-capi --test header";

#[test]
fn checked_in_header_is_the_generated_one() {
    let generated = std::fs::read_to_string(GENERATED)
        .unwrap_or_else(|e| panic!("build.rs did not generate {GENERATED}: {e}"));
    if std::env::var_os("TOE_CAPI_BLESS").is_some() {
        std::fs::write(CHECKED_IN, &generated)
            .unwrap_or_else(|e| panic!("cannot write {CHECKED_IN}: {e}"));
        eprintln!("wrote {CHECKED_IN}");
        return;
    }
    let checked_in = match std::fs::read_to_string(CHECKED_IN) {
        Ok(s) => s,
        Err(e) => panic!("{CHECKED_IN} cannot be read ({e}); create it with `{REFRESH}`"),
    };
    if checked_in == generated {
        return;
    }
    let first_diff = checked_in
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
    let line = |s: &str| {
        s.lines()
            .nth(first_diff)
            .unwrap_or("<end of file>")
            .to_string()
    };
    panic!(
        "{} is out of date (src/lib.rs or cbindgen.toml changed): first difference at line {}\n  \
         checked in: {}\n  generated:  {}\nrefresh it with `{REFRESH}` (from the workspace root)",
        Path::new(CHECKED_IN).display(),
        first_diff + 1,
        line(&checked_in),
        line(&generated),
    );
}
