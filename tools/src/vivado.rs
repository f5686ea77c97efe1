//! The Vivado flow for an Alveo U250 (tools/vivado/build.tcl, the shell
//! tools/vivado/u250_top.v, constraints/u250_board.xdc) and the checks of
//! it that need no Vivado:
//!
//! * the core's Verilog for Vivado has no `$` inside a name (Tcl would
//!   substitute it) and as many distinct module names as rust-hdl's own;
//! * Yosys elaborates the shell with the core and the IP port lists of
//!   tools/vivado/ip_stubs.v (`hierarchy -check`): every instance's ports
//!   exist with the names the shell uses;
//! * tclsh runs build.tcl with every Vivado command recorded instead of
//!   executed: the script parses and calls the whole flow in order;
//! * tclsh sources the XDC files with `get_ports` recorded: every port they
//!   name exists in the shell (board XDC) or the core (out-of-context XDC),
//!   and every port of the shell but the negative legs of differential pairs
//!   has a pin.

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    crate::deps::workspace_root()
}

/// Where the flow's files are.
pub fn flow_dir() -> PathBuf {
    root().join("tools/vivado")
}

/// Writes `out/toe.v` (the core with Tcl-safe names) for build.tcl.
pub fn prepare(out: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let v = out.join("toe.v");
    let text = std::panic::catch_unwind(toe_hdl::verilog_for_vivado)
        .map_err(|_| anyhow::anyhow!("Verilog generation panicked"))?;
    std::fs::write(&v, text).with_context(|| format!("writing {}", v.display()))?;
    Ok(v)
}

fn module_names(v: &str) -> BTreeSet<String> {
    v.lines()
        .filter_map(|l| l.strip_prefix("module "))
        .map(|m| m.split('(').next().unwrap_or(m).trim().to_string())
        .collect()
}

/// Runs tclsh on `script`; its standard output.
fn tclsh(script: &str) -> Result<String> {
    let out = Command::new("tclsh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .expect("piped")
                .write_all(script.as_bytes())?;
            c.wait_with_output()
        })
        .context("running tclsh (apt-get install tcl)")?;
    if !out.status.success() {
        bail!(
            "tclsh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The ports an XDC file names through `get_ports` (bit selects and
/// wildcards reduced to the port's name).
pub fn xdc_ports(xdc: &Path) -> Result<BTreeSet<String>> {
    let script = format!(
        "set ::ports {{}}\n\
         proc get_ports {{args}} {{ foreach a $args {{ foreach p $a {{ lappend ::ports $p }} }}; return {{}} }}\n\
         proc unknown {{args}} {{ return {{}} }}\n\
         source {{{}}}\n\
         foreach p $::ports {{ puts $p }}\n",
        xdc.display()
    );
    Ok(tclsh(&script)?
        .lines()
        .map(|l| l.split('[').next().unwrap_or(l).trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// The Vivado commands build.tcl calls, in order, when run with `out` as
/// its argument and every Vivado command recorded (returning 0).
pub fn tcl_flow(out: &Path) -> Result<Vec<String>> {
    let script = format!(
        "set ::calls {{}}\n\
         proc unknown {{args}} {{ lappend ::calls [lindex $args 0]; return 0 }}\n\
         set argv [list {{{out}}}]\n\
         set argc 1\n\
         source {{{tcl}}}\n\
         foreach c $::calls {{ puts $c }}\n",
        out = out.display(),
        tcl = flow_dir().join("build.tcl").display()
    );
    Ok(tclsh(&script)?.lines().map(str::to_string).collect())
}

/// Yosys elaborates `top` from `files` (`hierarchy -check`: every module
/// instantiated exists and has the ports it is connected by).
fn yosys_elaborates(files: &[PathBuf], top: &str) -> Result<()> {
    let yosys = crate::deps::yosys_program().context("yosys not found (run `cargo xtask deps`)")?;
    let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let out = Command::new(&yosys)
        .arg("-q")
        .arg("-p")
        .arg(format!(
            "read_verilog {}; hierarchy -check -top {top}",
            list.join(" ")
        ))
        .stdin(Stdio::null())
        .output()
        .context("running yosys")?;
    if !out.status.success() {
        bail!(
            "yosys could not elaborate {top}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The port names of module `name` in Verilog `v` (its header's list, ANSI
/// or not: the last identifier of each comma-separated item).
pub fn module_ports(v: &str, name: &str) -> Result<BTreeSet<String>> {
    let start = v
        .find(&format!("module {name}"))
        .with_context(|| format!("module {name} not found"))?;
    let rest = &v[start..];
    let open = rest.find('(').context("module header without ports")?;
    let close = rest.find(");").context("module header not closed")?;
    let header: String = rest[open + 1..close]
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(header
        .split(',')
        .filter_map(|item| {
            item.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .rfind(|w| !w.is_empty())
                .map(str::to_string)
        })
        .collect())
}

/// Every check of the flow that can run here; a line per check passed.
pub fn check() -> Result<Vec<String>> {
    let mut done = Vec::new();
    let dir = std::env::temp_dir().join(format!("toe-vivado-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        // 1. Names.
        let plain = toe_hdl::verilog();
        let safe = toe_hdl::tcl_safe_names(&plain);
        let b = safe.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        if let Some(i) = (1..b.len().saturating_sub(1))
            .find(|&i| b[i] == b'$' && ident(b[i - 1]) && ident(b[i + 1]))
        {
            bail!(
                "a `$` is left inside a name: {}",
                &safe[i.saturating_sub(40)..i + 10]
            );
        }
        let (m0, m1) = (module_names(&plain), module_names(&safe));
        if m0.len() != m1.len() {
            bail!("renaming merged module names: {} -> {}", m0.len(), m1.len());
        }
        done.push(format!("names: {} modules, no `$` inside a name", m1.len()));
        // 2. The shell elaborates with the core and the IP port lists.
        let core = dir.join("toe.v");
        std::fs::write(&core, &safe)?;
        let vd = flow_dir();
        yosys_elaborates(
            &[core.clone(), vd.join("u250_top.v"), vd.join("ip_stubs.v")],
            "u250_top",
        )?;
        let shell_src = std::fs::read_to_string(vd.join("u250_top.v"))?;
        let shell_ports = module_ports(&shell_src, "u250_top")?;
        let core_ports = module_ports(&safe, "toe")?;
        done.push(format!(
            "yosys: u250_top elaborates with the core and the IP ports ({} shell ports, {} core ports)",
            shell_ports.len(),
            core_ports.len()
        ));
        // 3. The Tcl flow runs through, in order.
        let calls = tcl_flow(&dir)?;
        let want = [
            "set_part",
            "create_ip",
            "generate_target",
            "synth_ip",
            "read_verilog",
            "read_xdc",
            "synth_design",
            "opt_design",
            "place_design",
            "route_design",
            "report_timing_summary",
            "report_utilization",
            "write_bitstream",
        ];
        let mut at = 0;
        for w in want {
            match calls[at..].iter().position(|c| c == w) {
                Some(p) => at += p + 1,
                None => bail!(
                    "build.tcl does not call {w} after {:?} (calls: {calls:?})",
                    want
                ),
            }
        }
        let ips = calls.iter().filter(|c| *c == "create_ip").count();
        if ips != 4 {
            bail!("build.tcl creates {ips} IP cores, the shell instantiates 4");
        }
        done.push(format!(
            "tclsh: build.tcl runs the whole flow ({} Vivado calls, 4 IP cores)",
            calls.len()
        ));
        // 4. Every port an XDC names exists; every shell port has a pin.
        let board = xdc_ports(&root().join("constraints/u250_board.xdc"))?;
        let missing: Vec<&String> = board.iter().filter(|p| !shell_ports.contains(*p)).collect();
        if !missing.is_empty() {
            bail!("constraints/u250_board.xdc names ports u250_top lacks: {missing:?}");
        }
        let unpinned: Vec<&String> = shell_ports
            .iter()
            .filter(|p| !p.ends_with("_n") && !board.contains(*p))
            .collect();
        if !unpinned.is_empty() {
            bail!("u250_top ports without a pin in constraints/u250_board.xdc: {unpinned:?}");
        }
        let ooc = xdc_ports(&root().join("constraints/u250.xdc"))?;
        let missing: Vec<&String> = ooc.iter().filter(|p| !core_ports.contains(*p)).collect();
        if !missing.is_empty() {
            bail!("constraints/u250.xdc names ports the core lacks: {missing:?}");
        }
        done.push(format!(
            "xdc: {} board ports, all in u250_top, every positive/single-ended port pinned; out-of-context clock port exists",
            board.len()
        ));
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|()| done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ports_come_from_ansi_and_plain_headers() {
        let ansi = "module u (\n  input wire [3:0] a, // x, y\n  output reg b,\n  input c_n\n);\nendmodule";
        let p = super::module_ports(ansi, "u").unwrap();
        assert_eq!(p.into_iter().collect::<Vec<_>>(), ["a", "b", "c_n"]);
        let plain = "module toe(clock,rst,rx_tdata);\n input clock;";
        let p = super::module_ports(plain, "toe").unwrap();
        assert_eq!(p.len(), 3);
        assert!(super::module_ports(plain, "nope").is_err());
    }
}
