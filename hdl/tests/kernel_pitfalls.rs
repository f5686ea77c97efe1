//! Guards against a rust-hdl pitfall: `bit_cast::<W, N>(!x)` is generated as
//! Verilog `(~x) & mask`, and Verilog sizes `~x` to the wider context before
//! inverting, so the high bits come out as ones (in Rust they are zeros).
//! Two real bugs came from this (TX checksum off by one, phantom descriptor
//! valid bits).  Invert into a signal of the narrow width first.
//!
//! The same holds for `+` and `-`: `bit_cast::<W, N>(a - 1)` with W > N is
//! computed at width W, so it does not wrap at N bits (`0 - 1` sets every
//! bit up to W).  Two bugs of the setup offload came from this (the cookie
//! clock rebuilt from `now - age`, the SYN-ACK's `isn + 1`).  Compute the
//! sum in a signal of width N first.
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

/// Widening casts (`bit_cast::<W, N>` with W > N) whose argument is a sum
/// or difference at its top level (one-line arguments).
fn scan_sums(dir: &Path, bad: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            scan_sums(&p, bad);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, line) in text.lines().enumerate() {
            let l: Vec<char> = line.chars().filter(|c| *c != ' ').collect();
            let s: String = l.iter().collect();
            let mut from = 0;
            while let Some(pos) = s[from..].find("bit_cast::<") {
                let at = from + pos + "bit_cast::<".len();
                from = at;
                let Some(close) = s[at..].find(">(") else {
                    break;
                };
                let Some((w, n)) = s[at..at + close].split_once(',') else {
                    continue;
                };
                let (Ok(w), Ok(n)) = (w.parse::<usize>(), n.parse::<usize>()) else {
                    continue;
                };
                if w <= n {
                    continue;
                }
                // The argument up to its closing parenthesis, top level only.
                let mut depth = 1;
                let mut top = String::new();
                let mut closed = false;
                for c in s[at + close + 2..].chars() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                closed = true;
                                break;
                            }
                        }
                        _ if depth == 1 => top.push(c),
                        _ => {}
                    }
                }
                if closed && (top.contains('+') || top.contains('-')) {
                    bad.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                }
            }
        }
    }
}

#[test]
fn no_sums_inside_widening_casts() {
    let mut bad = vec![];
    scan_sums(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut bad);
    assert!(
        bad.is_empty(),
        "a sum or difference inside a widening bit_cast (see this file's doc):\n{}",
        bad.join("\n")
    );
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
