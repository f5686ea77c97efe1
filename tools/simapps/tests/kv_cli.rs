//! The key-value server's program (`toe-kv`, what `cargo xtask kv` runs):
//! its refusals are clear errors; it attaches to a simulator in another
//! process (`toe-simd`), serves, and prints its final report when
//! `--duration` ends; in its default mode it serves redis-cli in a
//! namespace it creates and stops on SIGINT.  The server against real clients is
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
    for bad in [
        &["--listen", "6379:maybe"][..],
        &["--listen", "6379:teardown=maybe"],
        &["--listen", "6379:setup=on,setup=off"],
        &["--listen", "6379:checksum=on"],
        &["--listen", "6379:setup"],
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
        "--teardown-offload",
        "off",
        "--listen",
        "6379",
        "--listen",
        "6380:setup=off,teardown=off",
        "--duration",
        "2",
    ]);
    // The simulated NIC has no teardown register block: switching the
    // teardown offload on, by default or on one listener, fails with the
    // driver's reason, on one line, instead of closing in software.
    let mut refusals = Vec::new();
    for (args, port) in [
        (&["--teardown-offload", "on"][..], "6379"),
        (
            &["--listen", "6379", "--listen", "6380:teardown=on"],
            "6380",
        ),
    ] {
        let mut all = vec!["--sim", &shm, "--duration", "1"];
        all.extend_from_slice(args);
        refusals.push((args, port, kv(&all)));
    }
    let _ = simd.kill();
    let _ = simd.wait();
    let _ = std::fs::remove_file(&shm);
    let (out, err) = text(&o);
    assert!(o.status.success(), "toe-kv failed:\n{out}\n{err}");
    for want in [
        "serving on simulator",
        "4 queue pairs",
        ":6379 setup offload on, teardown offload off",
        ":6380 setup offload off, teardown offload off",
        "req/s",
        "final report",
        "queue 3",
        "NIC counters",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    for (args, port, o) in refusals {
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{args:?} ran:\n{out}\n{err}");
        assert!(!out.contains("serving"), "{args:?} served:\n{out}");
        assert!(
            err.starts_with("toe-kv: teardown offload on for port ")
                && err.contains("does not implement the teardown offload")
                && err.contains("register block list has no block of type"),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!(
                "toe-kv: teardown offload on for port {port}: device at "
            )),
            "{args:?}: {err}"
        );
    }
}

/// What a person types: the default mode (the simulated NIC in the
/// program, its TAP in a namespace the program creates), redis-cli from
/// the namespace, Ctrl-C (SIGINT) for the final report; the namespace is
/// gone afterwards.  Needs CAP_NET_ADMIN (prints why and passes without).
#[test]
fn default_mode_serves_redis_cli_in_a_namespace_and_stops_on_sigint() {
    if !toe_sim_support::netns::tap_tests_enabled() {
        return;
    }
    let have_cli = Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        have_cli,
        "redis-cli is missing although we have CAP_NET_ADMIN: `apt-get install -y redis-tools` \
         (`cargo xtask test` does it when run as root)"
    );
    let redis_cli = |ns: &str, args: &[&str]| -> String {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "timeout",
                "10",
                "redis-cli",
                "-h",
                "10.80.0.2",
            ])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli (package redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ns = format!("toekv-test-{}", std::process::id());
    // Whatever happens, the namespace does not outlive the test (the
    // program deletes it itself; checked below).
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("ip")
                .args(["netns", "delete", &self.0])
                .stderr(Stdio::null())
                .status();
        }
    }
    let _cleanup = Cleanup(ns.clone());
    let tap = toe_sim_support::netns::unique_tap_name();
    let child = Command::new(env!("CARGO_BIN_EXE_toe-kv"))
        .args([
            "--tap",
            &tap,
            "--netns",
            &ns,
            "--ip",
            "10.80.0.2/24",
            "--tap-addr",
            "10.80.0.1/24",
            "--duration",
            "120",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start toe-kv");
    let t = std::time::Instant::now();
    let mut pong = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        pong = redis_cli(&ns, &["ping"]);
        if pong == "PONG\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let set = redis_cli(&ns, &["set", "greeting", "hello"]);
    let get = redis_cli(&ns, &["get", "greeting"]);
    // Ctrl-C.
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let stopping = std::time::Instant::now();
    let o = child.wait_with_output().expect("toe-kv ends");
    let stop_time = stopping.elapsed();
    let (out, err) = text(&o);
    assert_eq!(
        (pong.as_str(), set.as_str(), get.as_str()),
        ("PONG\n", "OK\n", "hello\n"),
        "toe-kv said:\n{out}\n{err}"
    );
    assert!(o.status.success(), "toe-kv failed:\n{out}\n{err}");
    // It stopped on the signal, not at the end of --duration.
    assert!(
        stop_time < Duration::from_secs(30),
        "{stop_time:?} from SIGINT to exit:\n{out}"
    );
    for want in [
        "in namespace",
        "final report",
        "replies       0 errors",
        "handshakes by the NIC",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    let list = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains(&ns),
        "namespace {ns} left behind"
    );
}
