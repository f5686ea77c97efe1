//! Verilator configuration for rust-hdl's Verilog.
//!
//! rust-hdl emits each module as one `always @(*)` block and routes every
//! connection through the parent's block, so each valid/ready handshake
//! looks like a combinational loop to Verilator (UNOPTFLAT).  Verilator 5
//! evaluates such loops in a single pass and can simulate them wrongly: we
//! saw a FIFO read pointer advance on a pop that had already been withdrawn
//! in the same cycle.  `isolate_assignments` moves a variable's assignments
//! into a block of their own, which breaks these false loops, but it is only
//! faithful for variables the block never reads back after assigning them;
//! kernels use local signals as sequential temporaries (accumulators), and
//! those must stay where they are.  So, per module, this isolates exactly the
//! variables of the `always @(*)` block that are assigned and never read
//! after their first assignment (ports, child ports, register inputs).
//!
//! With it, Verilator reports no UNOPTFLAT for the whole design, and the
//! simulator build keeps that warning fatal.

/// A character of a Verilog identifier as rust-hdl writes them (`$` joins
/// hierarchy levels).
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !is_ident_char(c))
        .filter(|t| !t.is_empty())
}

/// Verilator's name for a Verilog identifier containing `$`.
fn encode(name: &str) -> String {
    name.replace('$', "__024")
}

/// Left-hand variable of a blocking assignment line (`x = ...;` or
/// `x[(..)+:(..)] = ...;`), with the rest of the line.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    let end = t.find(|c: char| !is_ident_char(c))?;
    let (name, rest) = t.split_at(end);
    if name.is_empty() || name == "if" || name == "else" || name == "end" || name == "begin" {
        return None;
    }
    let rest = rest.trim_start();
    let rest = if rest.starts_with('[') {
        &rest[rest.find(']')? + 1..]
    } else {
        rest
    };
    let rest = rest.trim_start();
    if rest.starts_with('=') && !rest.starts_with("==") {
        Some((name, &rest[1..]))
    } else {
        None
    }
}

/// Variables of one always block that can be isolated.
///
/// A variable qualifies when the block never reads it after its first
/// assignment, and when none of its assignments (right-hand sides and the
/// `if`/`case` conditions around them) reads a sequential temporary, i.e.
/// a variable assigned more than once and read back.  An isolated
/// assignment is evaluated apart from the block, so it would see such a
/// temporary's final (or previous) value instead of the value it has at
/// that point of the block: a register decode held in a temporary once
/// sent an RX doorbell to the TX queue written the cycle before.
fn isolatable(block: &str) -> Vec<String> {
    let lines: Vec<&str> = block.lines().collect();
    // Assignments: (variable, line, tokens read by the assignment and by
    // the conditions around it).
    let mut assigns: Vec<(String, usize, Vec<String>)> = vec![];
    let mut conds: Vec<String> = vec![];
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if let Some((name, rhs)) = assignment(l) {
            let mut reads: Vec<String> = tokens(rhs).map(str::to_string).collect();
            for c in &conds {
                reads.extend(tokens(c).map(str::to_string));
            }
            assigns.push((name.to_string(), i, reads));
            continue;
        }
        // Keep the stack of enclosing conditions: `if (c) begin`,
        // `end else begin`, `end`, `case (x)` ... `endcase`, items `v: begin`.
        if t == "end" {
            conds.pop();
        } else if t.starts_with("end else") {
            let c = conds.pop().unwrap_or_default();
            let extra = t.strip_prefix("end else").unwrap_or("");
            conds.push(format!("{c} {extra}"));
        } else if t.starts_with("endcase") {
            conds.pop();
        } else if t.starts_with("case") || (t.ends_with("begin") && !t.starts_with("always")) {
            conds.push(t.to_string());
        }
    }
    let read_after = |name: &str, at: usize| {
        lines[at + 1..].iter().any(|l| {
            let read_part = match assignment(l) {
                // The target's own index expression counts as a read.
                Some((lhs, rhs)) if lhs == name => rhs,
                Some((_, rhs)) => rhs,
                None => l,
            };
            tokens(read_part).any(|t| t == name)
        })
    };
    let mut names: Vec<(String, usize)> = vec![];
    for (n, i, _) in &assigns {
        if !names.iter().any(|(m, _)| m == n) {
            names.push((n.clone(), *i));
        }
    }
    let count = |n: &str| assigns.iter().filter(|(m, _, _)| m == n).count();
    let temporaries: Vec<&str> = names
        .iter()
        .filter(|(n, at)| count(n) > 1 && read_after(n, *at))
        .map(|(n, _)| n.as_str())
        .collect();
    names
        .iter()
        .filter(|(name, at)| !read_after(name, *at))
        .filter(|(name, _)| {
            !assigns
                .iter()
                .filter(|(m, _, _)| m == name)
                .any(|(_, _, reads)| reads.iter().any(|r| temporaries.contains(&r.as_str())))
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// The Verilator configuration file (`.vlt`) for `verilog`; pass it to
/// Verilator before the Verilog file.
pub fn verilator_config(verilog: &str) -> String {
    let mut out = String::from(
        "`verilator_config\n// Generated by toe_hdl::verilator_config; see hdl/src/vlt.rs.\n",
    );
    for chunk in verilog.split("\nmodule ").skip(1) {
        let Some(name) = chunk.split('(').next() else {
            continue;
        };
        let name = name.trim();
        let Some(start) = chunk.find("always @(*)") else {
            continue;
        };
        let end = chunk[start..]
            .find("endmodule")
            .map_or(chunk.len(), |e| start + e);
        for var in isolatable(&chunk[start..end]) {
            out.push_str(&format!(
                "isolate_assignments -module \"{}\" -var \"{}\"\n",
                encode(name),
                encode(&var)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_temporaries_are_kept_outputs_isolated() {
        let block = "always @(*) begin\n    acc = 0;\n    acc = acc + a;\n    out = acc;\n    \
                     d$x = q;\n    if (c) begin\n        d$x = q + 1;\n    end\n    v[(i)+:(2)] = w;\nend\n";
        let v = isolatable(block);
        assert!(
            !v.contains(&"acc".to_string()),
            "a temporary read back must stay"
        );
        // `out` reads the temporary: isolating it would let it see `acc`
        // from the wrong point of the block.
        assert!(!v.contains(&"out".to_string()));
        assert!(v.contains(&"d$x".to_string()));
        assert!(v.contains(&"v".to_string()));
    }

    #[test]
    fn assignments_reading_temporaries_stay() {
        let block = "always @(*) begin\n    sh = 0;\n    sel = a;\n    if (b) begin\n        sel = a + 4;\n    end\n    \
                     if (w) begin\n        sh = sel << 4;\n        d$p = q | (x << sh);\n    end\n    \
                     if (sel == 2) begin\n        d$y = 1;\n    end\n    d$z = q2;\n    if (w) begin\n        d$z = x;\n    end\nend\n";
        let v = isolatable(block);
        assert!(
            !v.contains(&"d$p".to_string()),
            "reads the temporary sh: {v:?}"
        );
        assert!(
            !v.contains(&"d$y".to_string()),
            "under a condition on the temporary sel: {v:?}"
        );
        assert!(v.contains(&"d$z".to_string()), "{v:?}");
    }

    #[test]
    fn whole_design_config_names_encoded_modules() {
        let cfg = verilator_config(&crate::verilog());
        assert!(cfg.contains("-module \"top__024dmaa\""));
        assert!(!cfg.contains('$'), "Verilator names must be encoded");
    }
}
