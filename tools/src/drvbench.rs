//! `cargo xtask bench --driver`: what the host driver costs and what the
//! simulator moves over TAP.
//!
//! * Host instructions per RX and per TX packet in the driver: the
//!   simulator (`toe-simd --loopback`) runs as its own process; the driver
//!   benchmark (`toe-drvbench`) runs under callgrind with collection
//!   toggled on only inside its `measure_tx` or `measure_rx` function, so
//!   neither simulator time nor the waits between batches are counted.
//! * Frames per second over TAP (`toe-tapbench`, needs CAP_NET_ADMIN):
//!   Linux floods the host layer with pings through the simulated NIC.
use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One driver cost measurement.
#[derive(Clone, Debug)]
pub struct Cost {
    pub dir: &'static str,
    pub frame: usize,
    pub packets: u64,
    pub instructions: u64,
}

impl Cost {
    pub fn per_packet(&self) -> f64 {
        self.instructions as f64 / self.packets as f64
    }
}

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn build() -> Result<std::path::PathBuf> {
    let st = Command::new(cargo())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "toe-simapps",
            "--bin",
            "toe-simd",
            "--bin",
            "toe-tapbench",
            "-p",
            "toe-tools",
            "--bin",
            "toe-drvbench",
        ])
        .status()
        .context("cannot run cargo build")?;
    if !st.success() {
        bail!("building the benchmark programs failed ({st})");
    }
    Ok(crate::deps::target_dir().join("release"))
}

/// A child process stopped (SIGINT, then killed) when dropped.
struct Simd(std::process::Child);

impl Drop for Simd {
    fn drop(&mut self) {
        // SAFETY-free: `kill -INT` through the standard tool.
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Instructions callgrind collected, from its stderr ("Collected : N").
pub(crate) fn collected(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().replace(',', "").parse().ok())
}

pub fn driver_costs(bin: &std::path::Path) -> Result<Vec<Cost>> {
    let shm = format!("/dev/shm/toe-drvbench-{}", std::process::id());
    let _sim = Simd(
        Command::new(bin.join("toe-simd"))
            .args(["--shm", &shm, "--loopback"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start toe-simd")?,
    );
    let (batches, batch) = (20u64, 128u64);
    let mut out = Vec::new();
    for frame in [64usize, 1514] {
        for dir in ["tx", "rx"] {
            let o = Command::new("valgrind")
                .args([
                    "--tool=callgrind",
                    "--callgrind-out-file=/dev/null",
                    &format!("--toggle-collect=*measure_{dir}*"),
                ])
                .arg(bin.join("toe-drvbench"))
                .args([
                    "--shm",
                    &shm,
                    "--batches",
                    &batches.to_string(),
                    "--batch",
                    &batch.to_string(),
                    "--len",
                    &frame.to_string(),
                ])
                .output()
                .context("cannot run valgrind")?;
            let err = String::from_utf8_lossy(&o.stderr);
            if !o.status.success() {
                bail!("toe-drvbench under callgrind failed ({}):\n{err}", o.status);
            }
            let n = collected(&err)
                .with_context(|| format!("no instruction count in callgrind's output:\n{err}"))?;
            out.push(Cost {
                dir,
                frame,
                packets: batches * batch,
                instructions: n,
            });
        }
    }
    Ok(out)
}

/// The TAP measurement's JSON object, or why it was skipped.
pub fn tap(bin: &std::path::Path) -> Result<std::result::Result<serde_json::Value, String>> {
    if !crate::deps::can_admin_net() {
        return Ok(Err("skipped: needs CAP_NET_ADMIN (run as root)".into()));
    }
    crate::deps::ensure(crate::deps::NET)?;
    let o = Command::new(bin.join("toe-tapbench"))
        .args(["--count", "20000"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run toe-tapbench")?;
    if !o.status.success() {
        bail!("toe-tapbench failed ({})", o.status);
    }
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).context("toe-tapbench printed no JSON")?;
    Ok(Ok(v))
}

pub fn run(json: bool) -> Result<()> {
    crate::deps::ensure(&[crate::deps::Tool::Valgrind])?;
    let bin = build()?;
    let costs = driver_costs(&bin)?;
    let tap = tap(&bin)?;
    if json {
        let c: Vec<serde_json::Value> = costs
            .iter()
            .map(|c| {
                serde_json::json!({"direction": c.dir, "frame_bytes": c.frame, "packets": c.packets,
                    "instructions": c.instructions, "instructions_per_packet": (c.per_packet() * 10.0).round() / 10.0})
            })
            .collect();
        let t = match &tap {
            Ok(v) => v.clone(),
            Err(why) => serde_json::json!({ "skipped": why }),
        };
        println!(
            "{}",
            serde_json::json!({"driver_instructions": c, "tap": t})
        );
        return Ok(());
    }
    println!("Host driver cost (instructions counted by callgrind inside the driver's TX or RX path only;");
    println!("simulator in another process, batches of 128, one doorbell per batch)\n");
    println!("| direction | frame | packets | instructions | instructions/packet |");
    println!("|---|---|---|---|---|");
    for c in &costs {
        println!(
            "| {} | {} B | {} | {} | {:.1} |",
            c.dir.to_uppercase(),
            c.frame,
            c.packets,
            c.instructions,
            c.per_packet()
        );
    }
    println!();
    match tap {
        Ok(v) => println!(
            "TAP: {} frames in {} s = {} frames/s through the simulated NIC (ping -f -l 64 from a network namespace, {} echo replies; simulator {:.2} M cycles/s)",
            v["tap_frames"], v["tap_seconds"], v["tap_frames_per_second"], v["echo_replies"],
            v["sim_cycles_per_second"].as_f64().unwrap_or(0.0) / 1e6
        ),
        Err(why) => println!("TAP: {why}"),
    }
    Ok(())
}
