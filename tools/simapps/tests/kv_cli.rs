//! The key-value server's program (`toe-kv`, what `cargo xtask kv` runs):
//! its refusals are clear errors, and it attaches to a simulator in
//! another process (`toe-simd`), serves, and prints its final report when
//! `--duration` ends.  The server against real clients is
//! tests/tests/kv_redis.rs.
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn kv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toe-kv"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run toe-kv")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn refusals_are_clear_errors() {
    // No such board (and, on this machine, most likely no VFIO at all).
    let o = kv(&["--pci", "0000:ff:1f.7", "--duration", "1"]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}{err}");
    assert!(err.starts_with("toe-kv: --pci 0000:ff:1f.7: "), "{err}");
    // No simulator behind the file.
    let o = kv(&["--sim", "/dev/shm/toe-kv-test-no-such-sim"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("cargo xtask sim"), "{err}");
    // The teardown offload cannot be switched on yet, and says why.
    let o = kv(&["--teardown-offload", "on", "--sim", "/dev/null"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("teardown offload has no host side yet"),
        "{err}"
    );
    for bad in [
        &["--listen", "6379:maybe"][..],
        &["--listen", "0"],
        &["--maxmemory", "lots"],
        &["--ip", "10.0.0.300/24"],
    ] {
        let o = kv(bad);
        assert!(!o.status.success(), "{bad:?} accepted");
    }
}

#[test]
fn serves_a_simulator_in_another_process_and_reports() {
    let shm = format!("/dev/shm/toe-kv-test-{}", std::process::id());
    let mut simd = Command::new(env!("CARGO_BIN_EXE_toe-simd"))
        .args(["--shm", &shm])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start toe-simd");
    // Wait for the simulator's file (the Verilated model takes a moment).
    let t = std::time::Instant::now();
    while !std::path::Path::new(&shm).exists() && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = kv(&[
        "--sim",
        &shm,
        "--listen",
        "6379",
        "--listen",
        "6380:off",
        "--duration",
        "2",
    ]);
    let _ = simd.kill();
    let _ = simd.wait();
    let _ = std::fs::remove_file(&shm);
    let (out, err) = text(&o);
    assert!(o.status.success(), "toe-kv failed:\n{out}\n{err}");
    for want in [
        "serving on simulator",
        "4 queue pairs",
        ":6379 setup offload on",
        ":6380 setup offload off",
        "req/s",
        "final report",
        "queue 3",
        "NIC counters",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
}
