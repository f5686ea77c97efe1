//! Narrowing of rust-hdl's field extractions in the generated Verilog.
//!
//! rust-hdl renders `bit_cast::<N, W>(x >> C)` as `((x >> 32'hC) & N'hM)`
//! and `bit_cast::<N, W>(x)` as `(x & N'hM)`, with `M = 2^N - 1`.  In Verilog
//! the width of such an expression is the width of `x` (W), not N: when
//! `x` is a 512-bit bus, every operator around the extracted field works at
//! 512 bits, and Verilator evaluates each of them word by word (a 16-bit
//! checksum term added at 512 bits is 16 additions with carries).  Rust-hdl's
//! own simulator gives the result N bits, which is what the Rust source
//! means.
//!
//! [`narrow_extracts`] rewrites exactly these two forms, for a plain
//! unsigned `reg`/`wire` operand of known width W, into a part-select:
//!
//! * `((x >> 32'hC) & N'hM)` becomes `(x[C+K-1:C])`, K = min(bits of M, W - C);
//! * `(x & N'hM)` becomes `(x[K-1:0])`, K = bits of M (only when K < W).
//!
//! The value is the same (bits C .. C+K-1 of `x`, zero-extended); only the
//! width the expression contributes to its context shrinks, to at most the
//! width rust-hdl gives it.  Masks that are not of the form `2^K - 1`,
//! shifts by non-constants, memories and anything else are left alone.  The
//! pass is applied by [`crate::verilog`], so the simulator, the lint and
//! synthesis all see the same text.  Measured with the PGO trainer
//! (sim/csrc/trainer.cpp, back-to-back MAC RX traffic) under callgrind: about
//! 10% fewer instructions per simulated cycle.
use std::collections::HashMap;

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    crate::vlt::is_ident_char(c as char)
}

/// Widths of the plain (non-memory, unsigned) `reg`/`wire` declarations of
/// one module, ports included.
fn widths(module: &str) -> HashMap<&str, u32> {
    let mut w = HashMap::new();
    for line in module.lines() {
        let mut t = line.trim();
        for kw in ["input ", "output ", "inout "] {
            if let Some(r) = t.strip_prefix(kw) {
                t = r.trim_start();
            }
        }
        let Some(r) = t.strip_prefix("reg").or_else(|| t.strip_prefix("wire")) else {
            continue;
        };
        let mut r = r.trim_start();
        if r.starts_with("signed") {
            continue;
        }
        let mut width = 1;
        if let Some(s) = r.strip_prefix('[') {
            let Some((range, rest)) = s.split_once(']') else {
                continue;
            };
            let Some((hi, lo)) = range.split_once(':') else {
                continue;
            };
            let (Ok(hi), Ok(0)) = (hi.trim().parse::<u32>(), lo.trim().parse::<u32>()) else {
                continue;
            };
            width = hi + 1;
            r = rest.trim_start();
        }
        // `name;` exactly: a memory (`name[..];`) or a list is skipped.
        let Some(name) = r.strip_suffix(';') else {
            continue;
        };
        if !name.is_empty() && is_ident_start(name.as_bytes()[0]) && name.bytes().all(is_ident_char)
        {
            w.insert(name, width);
        }
    }
    w
}

/// A small cursor over the bytes of a candidate expression.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn lit(&mut self, l: &str) -> Option<()> {
        if self.s[self.i..].starts_with(l.as_bytes()) {
            self.i += l.len();
            Some(())
        } else {
            None
        }
    }
    fn ident(&mut self) -> Option<&'a str> {
        let st = self.i;
        if self.i < self.s.len() && is_ident_start(self.s[self.i]) {
            while self.i < self.s.len() && is_ident_char(self.s[self.i]) {
                self.i += 1;
            }
            std::str::from_utf8(&self.s[st..self.i]).ok()
        } else {
            None
        }
    }
    fn digits(&mut self, hex: bool) -> Option<&'a str> {
        let st = self.i;
        while self.i < self.s.len()
            && (if hex {
                self.s[self.i].is_ascii_hexdigit()
            } else {
                self.s[self.i].is_ascii_digit()
            })
        {
            self.i += 1;
        }
        (self.i > st).then(|| std::str::from_utf8(&self.s[st..self.i]).unwrap())
    }
    /// `N'hM` with M = 2^K - 1: K (0 < K).
    fn ones_mask(&mut self) -> Option<u32> {
        self.digits(false)?;
        self.lit("'h")?;
        let m = self.digits(true)?.trim_start_matches('0');
        let b = m.as_bytes();
        if b.is_empty() || !b[1..].iter().all(|&c| c == b'f' || c == b'F') {
            return None;
        }
        let top = match b[0] {
            b'1' => 1,
            b'3' => 2,
            b'7' => 3,
            b'f' | b'F' => 4,
            _ => return None,
        };
        Some(top + 4 * (b.len() as u32 - 1))
    }
}

/// One candidate at `s[i]` (an opening parenthesis): the replacement text
/// and the length it replaces.
fn rewrite_at(s: &[u8], i: usize, w: &HashMap<&str, u32>) -> Option<(String, usize)> {
    let mut c = Cur { s, i: i + 1 };
    // ((x >> 32'hC) & N'hM), or (x & N'hM) with a shift of 0.
    let shifted = c.lit("(").is_some();
    let x = c.ident()?;
    let sh = if shifted {
        c.lit(" >> 32'h")?;
        let sh = u32::from_str_radix(c.digits(true)?, 16).ok()?;
        c.lit(")")?;
        sh
    } else {
        0
    };
    c.lit(" & ")?;
    let k = c.ones_mask()?;
    c.lit(")")?;
    let width = *w.get(x)?;
    // Nothing to narrow: a shift past the top, or a mask of every bit.
    if sh >= width || (!shifted && k >= width) {
        return None;
    }
    let k = k.min(width - sh);
    Some((format!("({x}[{}:{sh}])", sh + k - 1), c.i - i))
}

fn narrow_module(module: &str) -> String {
    let w = widths(module);
    let s = module.as_bytes();
    let mut out = String::with_capacity(module.len());
    let mut i = 0;
    let mut copied = 0;
    while i < s.len() {
        if s[i] == b'(' {
            if let Some((rep, len)) = rewrite_at(s, i, &w) {
                out.push_str(&module[copied..i]);
                out.push_str(&rep);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&module[copied..]);
    out
}

/// Rewrites rust-hdl's full-width field extractions in `verilog` (a whole
/// design, several modules) into part-selects; see the module docs.
pub fn narrow_extracts(verilog: &str) -> String {
    // One chunk per module (each starts at its `module` line), so that each
    // module's declarations apply to its own body only.
    let mut starts: Vec<usize> = verilog
        .match_indices("\nmodule ")
        .map(|(i, _)| i + 1)
        .collect();
    starts.insert(0, 0);
    starts.push(verilog.len());
    starts
        .windows(2)
        .map(|w| narrow_module(&verilog[w[0]..w[1]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "module m(a,b);\n    input wire  [511:0] a;\n    output reg  [15:0] b;\n    reg  [7:0] n;\n    reg  one;\n    reg[7:0] mem[15:0];\n    always @(*) begin\n";

    fn body(line: &str) -> String {
        narrow_extracts(&format!("{M}        {line}\n    end\nendmodule\n"))
            .lines()
            .nth(7)
            .unwrap()
            .trim()
            .to_string()
    }

    #[test]
    fn shifted_field_becomes_a_part_select() {
        assert_eq!(body("b = ((a >> 32'hd0) & 32'hffff);"), "b = (a[223:208]);");
        assert_eq!(
            body("b = ((a >> 32'h200) & 2'h3);"),
            "b = ((a >> 32'h200) & 2'h3);"
        );
        assert_eq!(
            body("b = ((a >> 32'h1f0) & 32'hffffffff);"),
            "b = (a[511:496]);"
        );
        assert_eq!(
            body("b = ((a >> 32'h70) & 4'hf) << 32'h2;"),
            "b = (a[115:112]) << 32'h2;"
        );
        assert_eq!(body("b = ((n >> 32'h4) & 2'h3);"), "b = (n[5:4]);");
    }

    #[test]
    fn low_field_becomes_a_part_select() {
        assert_eq!(body("b = (a & 16'hffff) + 1;"), "b = (a[15:0]) + 1;");
        assert_eq!(body("b = (a & 1'h1);"), "b = (a[0:0]);");
        // Already as narrow as the mask: left alone.
        assert_eq!(body("b = (n & 8'hff);"), "b = (n & 8'hff);");
        assert_eq!(body("b = (n & 16'hffff);"), "b = (n & 16'hffff);");
    }

    #[test]
    fn everything_else_is_left_alone() {
        for l in [
            "b = ((a >> 32'hd0) & 32'hff00);",
            "b = ((a >> s) & 32'hffff);",
            "b = ((a >> 32'hd0) | 32'hffff);",
            "b = (mem & 8'hff);",
            "b = (one & 1'h1);",
            "b = (x & 8'hff);",
            "b = (a & 32'h0);",
            "b = (a & 32'h7e);",
            "b = ((a + 32'h1) & 32'hffff);",
        ] {
            assert_eq!(body(l), l);
        }
    }

    #[test]
    fn declarations_are_per_module() {
        let v = "module p(x);\n    input wire  [63:0] x;\n    always @(*) y = (x & 8'hff);\nendmodule\n\
                 module q(x);\n    input wire  [3:0] x;\n    always @(*) y = (x & 8'hff);\nendmodule\n";
        let n = narrow_extracts(v);
        assert!(n.contains("y = (x[7:0]);"), "{n}");
        assert!(n.contains("y = (x & 8'hff);"), "{n}");
    }

    #[test]
    fn masks() {
        let k = |m: &str| {
            let mut c = Cur {
                s: m.as_bytes(),
                i: 0,
            };
            c.ones_mask()
        };
        assert_eq!(k("1'h1"), Some(1));
        assert_eq!(k("2'h3"), Some(2));
        assert_eq!(k("3'h7"), Some(3));
        assert_eq!(k("16'hffff"), Some(16));
        assert_eq!(k("275'h7ffff"), Some(19));
        assert_eq!(k("32'h00ff"), Some(8));
        assert_eq!(k("32'h0"), None);
        assert_eq!(k("32'hff00"), None);
        assert_eq!(k("32'h5"), None);
    }
}
