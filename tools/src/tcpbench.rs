//! `cargo xtask bench --tcp`: the host TCP library next to smoltcp, doing
//! the same work over the same driver and simulated NIC in the same run.
//!
//! * Server instructions per short transaction (connect, 64-byte request,
//!   64-byte response, close): `toe-tcpbench serve` runs under callgrind
//!   with collection on only inside its `serve_step` function (stack poll,
//!   application, stack poll); the simulator and the smoltcp clients are
//!   another process (`toe-tcpbench peer`), and idle polling is outside the
//!   measured function.  Driver work (RX/TX rings, copies) is included for
//!   both stacks: it is the same code.
//! * Bulk upload through the simulated NIC (one connection, every byte
//!   checked by the server): wall-clock rate, and the rate in simulated
//!   time at 250 MHz.  Both are bounded by the simulator (about 1 M
//!   cycles/s), not by the stacks: they show the stacks keep the wire busy,
//!   not what hardware would do.
use crate::drvbench::{cargo, collected};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn build() -> Result<std::path::PathBuf> {
    let st = Command::new(cargo())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "toe-simapps",
            "--bin",
            "toe-tcpbench",
        ])
        .status()
        .context("cannot run cargo build")?;
    if !st.success() {
        bail!("building toe-tcpbench failed ({st})");
    }
    Ok(crate::deps::target_dir().join("release/toe-tcpbench"))
}

/// A child stopped when dropped (after a failure).
struct Kid(Child);
impl Drop for Kid {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// One run of a stack in one mode.
#[derive(Clone, Debug)]
pub struct Run {
    pub stack: &'static str,
    pub mode: &'static str,
    /// Transactions (rr) or bytes (bulk) the server handled.
    pub served: u64,
    /// Callgrind's count inside `serve_step` (None when not measured).
    pub instructions: Option<u64>,
    /// The peer's report (JSON).
    pub peer: serde_json::Value,
}

/// Runs the peer and a server; with `callgrind`, the server under it.
fn one(
    bin: &std::path::Path,
    stack: &'static str,
    mode: &'static str,
    size: &[&str],
    callgrind: bool,
) -> Result<Run> {
    let shm = format!(
        "/dev/shm/toe-tcpbench-{}-{stack}-{mode}",
        std::process::id()
    );
    let mut peer = Kid(Command::new(bin)
        .args(["peer", "--shm", &shm, "--mode", mode])
        .args(size)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start toe-tcpbench peer")?);
    let mut server = if callgrind {
        let mut c = Command::new("valgrind");
        // TOE_CALLGRIND_DIR keeps the profiles (callgrind_annotate).
        let out = match std::env::var("TOE_CALLGRIND_DIR") {
            Ok(d) => format!("--callgrind-out-file={d}/callgrind.{stack}.{mode}"),
            Err(_) => "--callgrind-out-file=/dev/null".into(),
        };
        c.args([
            "--tool=callgrind",
            &out,
            &format!(
                "--toggle-collect=*serve_step_{}*",
                if stack.starts_with("toe") {
                    "toe"
                } else {
                    "smol"
                }
            ),
        ])
        .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    server
        .args(["serve", "--shm", &shm, "--stack", stack, "--mode", mode])
        .args(size)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Kid(server.spawn().context("cannot start toe-tcpbench serve")?);
    let mut out = BufReader::new(server.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line)?;
    if line.trim() != "ready" {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut err);
        bail!("{stack} server did not come up: {line:?} {err}");
    }
    peer.0
        .stdin
        .take()
        .unwrap()
        .write_all(b"go\n")
        .context("telling the peer to start")?;
    let mut summary = String::new();
    out.read_line(&mut summary)?;
    let mut err = String::new();
    std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut err)?;
    let st = server.0.wait()?;
    if !st.success() {
        bail!("{stack} server ({mode}) failed ({st}): {summary}\n{err}");
    }
    let s: serde_json::Value = serde_json::from_str(summary.trim())
        .with_context(|| format!("{stack} server printed no summary: {summary:?}"))?;
    let pst = {
        let mut p = String::new();
        std::io::Read::read_to_string(peer.0.stdout.as_mut().unwrap(), &mut p)?;
        let st = peer.0.wait()?;
        if !st.success() {
            bail!("peer ({stack}, {mode}) failed ({st})");
        }
        serde_json::from_str::<serde_json::Value>(p.trim())
            .with_context(|| format!("the peer printed no JSON: {p:?}"))?
    };
    let _ = std::fs::remove_file(&shm);
    Ok(Run {
        stack,
        mode,
        served: s["served"].as_u64().unwrap_or(0),
        instructions: if callgrind {
            Some(collected(&err).with_context(|| format!("no count from callgrind:\n{err}"))?)
        } else {
            None
        },
        peer: pst,
    })
}

pub fn run(json: bool, transactions: usize, bulk_bytes: usize) -> Result<()> {
    crate::deps::ensure(&[crate::deps::Tool::Valgrind])?;
    let bin = build()?;
    let n = transactions.to_string();
    let bytes = bulk_bytes.to_string();
    let mut runs = Vec::new();
    for stack in ["toe", "smoltcp"] {
        runs.push(one(&bin, stack, "rr", &["--n", &n], true)?);
        runs.push(one(&bin, stack, "bulk", &["--bytes", &bytes], false)?);
        std::thread::sleep(Duration::from_millis(100));
    }
    // The same short transactions with the NIC completing the handshakes.
    runs.push(one(&bin, "toe-offload", "rr", &["--n", &n], true)?);
    let per_tx = |r: &Run| r.instructions.unwrap_or(0) as f64 / r.served.max(1) as f64;
    if json {
        let v: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                let mut o = serde_json::json!({"stack": r.stack, "mode": r.mode, "served": r.served, "peer": r.peer});
                if let Some(i) = r.instructions {
                    o["instructions"] = i.into();
                    o["instructions_per_transaction"] = ((per_tx(r) * 10.0).round() / 10.0).into();
                }
                o
            })
            .collect();
        println!("{}", serde_json::json!({ "tcp": v }));
        return Ok(());
    }
    println!("Host TCP cost: server instructions per short transaction (connect, 64 B request,");
    println!("64 B response, close; callgrind inside the server's event-loop step only, driver");
    println!("included, simulator and clients in another process), {transactions} transactions:\n");
    println!("| stack | transactions | instructions | instructions/transaction |");
    println!("|---|---|---|---|");
    for r in runs
        .iter()
        .filter(|r| r.mode == "rr" && r.stack != "toe-offload")
    {
        println!(
            "| {} | {} | {} | {:.0} |",
            r.stack,
            r.served,
            r.instructions.unwrap_or(0),
            per_tx(r)
        );
    }
    let sw = runs.iter().find(|r| r.mode == "rr" && r.stack == "toe");
    let hw = runs
        .iter()
        .find(|r| r.mode == "rr" && r.stack == "toe-offload");
    if let (Some(sw), Some(hw)) = (sw, hw) {
        println!("\nHost instructions per connection (the same transactions), software handshake");
        println!(
            "against the NIC's (setup offload: the host never sees the SYN, sends no SYN-ACK,"
        );
        println!("and gets the connection ESTABLISHED from the NIC's report):\n");
        println!("| handshake | transactions | instructions | instructions/connection |");
        println!("|---|---|---|---|");
        for (name, r) in [("software (host library)", sw), ("NIC (setup offload)", hw)] {
            println!(
                "| {name} | {} | {} | {:.0} |",
                r.served,
                r.instructions.unwrap_or(0),
                per_tx(r)
            );
        }
    }
    println!("\nBulk upload, one connection, {bulk_bytes} bytes, every byte checked by the server");
    println!("(simulator-bound: the NIC is simulated at about 1 M cycles/s):\n");
    println!(
        "| stack | wall-clock Mbit/s | simulated cycles | Gbit/s in simulated time at 250 MHz |"
    );
    println!("|---|---|---|---|");
    for r in runs.iter().filter(|r| r.mode == "bulk") {
        let cycles = r.peer["sim_cycles"].as_f64().unwrap_or(0.0);
        let sim_gbps = if cycles > 0.0 {
            r.served as f64 * 8.0 / (cycles / 250e6) / 1e9
        } else {
            0.0
        };
        println!(
            "| {} | {} | {} | {:.2} |",
            r.stack, r.peer["megabits_per_second"], cycles, sim_gbps
        );
    }
    Ok(())
}
