//! The real Redis tools against a server, from a Linux network namespace:
//! `redis-cli`, `redis-benchmark` and a raw TCP exchange, and Debian's
//! `redis-server` in a namespace of its own as the behavioural reference.
//!
//! ```text
//!   namespace A (the clients)                     namespace B
//!   redis-cli / redis-benchmark / raw socket  --> server under test
//!   redis-cli / ... on B's loopback           --> redis-server 127.0.0.1:PORT
//! ```
//! Every client runs under `timeout(1)`: a server that stops answering
//! fails the test instead of hanging it (redis-benchmark retries a refused
//! connection forever).
//!
//! The packages are `redis-tools` and `redis-server`; `cargo xtask test`
//! installs them when it runs with CAP_NET_ADMIN (tools/src/deps.rs).
use crate::netns::Netns;
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Checks that redis-cli, redis-benchmark and redis-server run; the error
/// names the packages and how to install them.
pub fn redis_tools_present() -> Result<(), String> {
    let tools = [
        ("redis-cli", "redis-tools"),
        ("redis-benchmark", "redis-tools"),
        ("redis-server", "redis-server"),
        ("timeout", "coreutils"),
    ];
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(p, _)| {
            !Command::new(p)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(_, pkg)| *pkg)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing package(s) {}: install with `apt-get install -y {}` \
             (`cargo xtask test` does it when run as root)",
            missing.join(", "),
            missing.join(" ")
        ))
    }
}

/// What one redis-cli run printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliRun {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<i32>,
}

fn cli_run(out: Output) -> CliRun {
    CliRun {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

/// `redis-cli --no-raw -h host -p port args...` in `ns` (at most 30 s):
/// `--no-raw` so that errors print as `(error) ...` and nil as `(nil)`.
pub fn cli(ns: &Netns, host: &str, port: u16, args: &[&str]) -> CliRun {
    let port = port.to_string();
    let mut argv = vec![
        "timeout",
        "30",
        "redis-cli",
        "--no-raw",
        "-h",
        host,
        "-p",
        &port,
    ];
    argv.extend_from_slice(args);
    cli_run(ns.exec(&argv).unwrap_or_else(|e| panic!("{e}")))
}

/// One row of `redis-benchmark --csv`.
#[derive(Clone, Debug)]
pub struct BenchRow {
    pub test: String,
    pub rps: f64,
    pub avg_latency_ms: f64,
    pub p99_latency_ms: f64,
}

/// What a redis-benchmark run did.
#[derive(Clone, Debug)]
pub struct BenchRun {
    pub rows: Vec<BenchRow>,
    pub wall: Duration,
    pub stderr: String,
}

/// Runs `redis-benchmark -h host -p port --csv args...` in `ns`, at most
/// `limit`.  An error unless it exits successfully (redis-benchmark exits
/// on an error reply, "to avoid false results") and prints one CSV row
/// per test with a positive request rate.
pub fn benchmark(
    ns: &Netns,
    host: &str,
    port: u16,
    args: &[&str],
    limit: Duration,
) -> Result<BenchRun, String> {
    let port = port.to_string();
    let secs = limit.as_secs().max(1).to_string();
    let mut argv = vec![
        "timeout",
        &secs,
        "redis-benchmark",
        "-h",
        host,
        "-p",
        &port,
        "--csv",
    ];
    argv.extend_from_slice(args);
    let t = Instant::now();
    let out = ns.exec(&argv)?;
    let wall = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}) after {:.1} s (124: killed by timeout)\nstdout: {stdout}\nstderr: {stderr}",
            argv.join(" "),
            out.status,
            wall.as_secs_f64()
        ));
    }
    let rows = parse_csv(&stdout)?;
    if rows.is_empty() || rows.iter().any(|r| r.rps <= 0.0 || !r.rps.is_finite()) {
        return Err(format!("redis-benchmark printed no usable rows:\n{stdout}"));
    }
    Ok(BenchRun { rows, wall, stderr })
}

/// Parses redis-benchmark's CSV: a header
/// `"test","rps","avg_latency_ms",...` and a row per test.
pub fn parse_csv(text: &str) -> Result<Vec<BenchRow>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or("empty CSV")?
        .split(',')
        .map(|f| f.trim_matches('"').to_string())
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column {name} in {header:?}"))
    };
    let (ct, cr, ca, cp) = (
        col("test")?,
        col("rps")?,
        col("avg_latency_ms")?,
        col("p99_latency_ms")?,
    );
    let mut rows = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').map(|f| f.trim_matches('"')).collect();
        let num = |i: usize| -> Result<f64, String> {
            f.get(i)
                .ok_or(format!("short row {l:?}"))?
                .parse()
                .map_err(|e| format!("{l:?}: {e}"))
        };
        rows.push(BenchRow {
            test: f.get(ct).ok_or(format!("short row {l:?}"))?.to_string(),
            rps: num(cr)?,
            avg_latency_ms: num(ca)?,
            p99_latency_ms: num(cp)?,
        });
    }
    Ok(rows)
}

/// Sends `request` on a fresh TCP connection from inside `ns` (written in
/// pieces of `chunk` bytes, a millisecond apart, to cross segment
/// boundaries) and returns everything received until the server closes
/// (end the request with QUIT or a protocol error) or `limit` passes.
pub fn exchange(
    ns: &Netns,
    to: SocketAddrV4,
    request: Vec<u8>,
    chunk: usize,
    limit: Duration,
) -> Result<Vec<u8>, String> {
    ns.thread("redis-raw", move || -> Result<Vec<u8>, String> {
        let mut s = TcpStream::connect_timeout(&to.into(), limit)
            .map_err(|e| format!("connect {to}: {e}"))?;
        s.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(limit))
            .map_err(|e| e.to_string())?;
        for piece in request.chunks(chunk.max(1)) {
            s.write_all(piece)
                .map_err(|e| format!("write to {to}: {e}"))?;
            if chunk < request.len() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let mut got = Vec::new();
        let t = Instant::now();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok(got),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if t.elapsed() < limit && e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(format!(
                        "read from {to} after {} bytes ({:?}): {e}",
                        got.len(),
                        String::from_utf8_lossy(&got[..got.len().min(200)])
                    ))
                }
            }
        }
    })
    .join()
    .map_err(|_| "raw exchange thread panicked".to_string())?
}

/// Debian's redis-server in a namespace of its own, on its loopback,
/// without persistence; killed when dropped.
pub struct RefRedis {
    pub ns: Netns,
    pub port: u16,
    child: Child,
}

impl RefRedis {
    /// Starts it and waits until it answers PING (at most 10 s).
    pub fn start(port: u16) -> Result<RefRedis, String> {
        let ns = Netns::create()?;
        let dir = std::env::temp_dir();
        let p = port.to_string();
        let child = ns
            .command([
                "redis-server",
                "--port",
                &p,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                "/dev/null",
                "--daemonize",
                "no",
                "--dir",
                dir.to_str().unwrap_or("/tmp"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let r = RefRedis { ns, port, child };
        let t = Instant::now();
        while cli(&r.ns, "127.0.0.1", port, &["PING"]).stdout != "PONG\n" {
            if t.elapsed() > Duration::from_secs(10) {
                return Err("redis-server did not answer PING within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(r)
    }
}

impl Drop for RefRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
