//! Guards against a rust-hdl pitfall: `bit_cast::<W, N>(!x)` is generated as
//! Verilog `(~x) & mask`, and Verilog sizes `~x` to the wider context before
//! inverting, so the high bits come out as ones (in Rust they are zeros).
//! Two real bugs came from this (TX checksum off by one, phantom descriptor
//! valid bits).  Invert into a signal of the narrow width first.
use std::path::Path;

fn scan(dir: &Path, bad: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            scan(&p, bad);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, line) in text.lines().enumerate() {
                let l = line.replace(' ', "");
                if let Some(pos) = l.find("bit_cast::<") {
                    let rest = &l[pos..];
                    if let Some(open) = rest.find(">(") {
                        let arg = &rest[open + 2..];
                        let masked = arg.contains(")&0x");
                        if (arg.starts_with('!') || arg.starts_with("(!")) && !masked {
                            bad.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn no_inversion_inside_widening_casts() {
    let mut bad = vec![];
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut bad);
    assert!(
        bad.is_empty(),
        "inversion inside bit_cast (see this file's doc):\n{}",
        bad.join("\n")
    );
}
