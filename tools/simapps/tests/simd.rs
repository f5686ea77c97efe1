//! The simulator as its own process (`toe-simd`, what `cargo xtask sim`
//! runs) and the driver in this one: the cross-process path an
//! application uses.
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use toe_driver::nic::{Nic, NicConfig};
use toe_driver::shm::ShmBackend;

#[test]
fn driver_in_another_process_than_the_simulator() {
    let shm = format!("/dev/shm/toe-simd-test-{}", std::process::id());
    let simd = Command::new(env!("CARGO_BIN_EXE_toe-simd"))
        .args(["--shm", &shm, "--loopback"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start toe-simd");
    let backend = ShmBackend::open(&shm, Duration::from_secs(120)).expect("attach");
    let cfg = NicConfig {
        queue_pairs: 1,
        rss_key: None,
        ..NicConfig::default()
    };
    let mut nic = Nic::open(Box::new(backend), cfg).expect("nic");
    // What `cargo xtask info --sim PATH` prints, from the same driver.
    let info = toe_tools::info::describe(nic.device());
    for want in [
        "TOE1",
        "hw version  0.1",
        "queues",
        "counters",
        "rx_drop_no_buffer",
    ] {
        assert!(info.contains(want), "info lacks {want:?}:\n{info}");
    }
    std::thread::sleep(Duration::from_millis(20));
    // Frames sent come back through the loopback wire.
    let frames: Vec<Vec<u8>> = (0..50u8)
        .map(|i| {
            let mut f = vec![i; 60 + i as usize * 20];
            f[12] = 0x88;
            f[13] = 0xb5;
            f
        })
        .collect();
    let mut back = Vec::new();
    let mut next = 0;
    let t = Instant::now();
    while back.len() < frames.len() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "{} of {} frames came back",
            back.len(),
            frames.len()
        );
        if next < frames.len() && next < back.len() + 16 {
            let mut p = nic.alloc(0).expect("buffer");
            nic.write(&mut p, 0, &frames[next]);
            let mut v = vec![p];
            if nic.tx_burst(0, &mut v) == 1 {
                next += 1;
            }
        }
        let mut got = Vec::new();
        nic.rx_burst(0, &mut got, 16);
        for p in got {
            back.push(nic.to_vec(&p));
            nic.free(p);
        }
    }
    assert_eq!(back, frames);
    drop(nic);
    // SIGINT stops it cleanly with a summary, and the file goes away.
    Command::new("kill")
        .args(["-INT", &simd.id().to_string()])
        .status()
        .unwrap();
    let out = simd.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "toe-simd: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(" 0 violations") && text.contains("50 frames out"),
        "{text}"
    );
    let e = ShmBackend::open(&shm, Duration::ZERO)
        .err()
        .expect("gone")
        .to_string();
    assert!(e.contains("no simulator serves this file"), "{e}");
}

/// `cargo xtask sim -- --peer IP --ping TARGET`: a smoltcp host inside the
/// simulator process pings the host library attached from this process.
#[test]
fn in_process_peer_of_the_simulator_pings_the_host_library() {
    use toe_driver::net::{Host, NetConfig, NetIf};
    let shm = format!("/dev/shm/toe-simd-peer-{}", std::process::id());
    let simd = Command::new(env!("CARGO_BIN_EXE_toe-simd"))
        .args(["--shm", &shm, "--peer", "10.6.0.1/24", "--ping", "10.6.0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start toe-simd");
    let backend = ShmBackend::open(&shm, Duration::from_secs(120)).expect("attach");
    let mut nic = Nic::open(Box::new(backend), NicConfig::default()).expect("nic");
    let mut host = Host::new(NetIf::new(NetConfig::new(
        [2, 0, 0x5e, 6, 0, 2],
        [10, 6, 0, 2],
        24,
    )));
    let t = Instant::now();
    while host.net.stats().tx_echo_replies < 10 {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "{:?}",
            host.net.stats()
        );
        host.poll(&mut nic, t.elapsed(), |_| {});
        std::thread::sleep(Duration::from_micros(200));
    }
    // Replies handed to the NIC are not yet on the wire: the simulator
    // must not be stopped before they left.  This matters when the
    // requests come in one burst: the peer's first ARP request is lost
    // when the driver attaches more than its first ping interval (100 ms)
    // after the simulator started (a NIC without a driver drops frames);
    // smoltcp asks again one second later and meanwhile queues its pings,
    // so all ten arrive, and are answered, at once.  Wait until every TX
    // descriptor has completed (the frame is in the TX checksum stage),
    // then 20,000 simulated cycles more for the frames to leave the MAC.
    while host.poll(&mut nic, t.elapsed(), |_| {}).tx > 0 || nic.tx_in_flight(0) > 0 {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "TX descriptors never completed: {:?}, {:?}",
            host.net.stats(),
            nic.stats(0)
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    toe_sim_support::simdev::settle(std::path::Path::new(&shm), 20_000);
    // For a failure: where frames stopped (host layer, NIC counters, TX
    // queue registers), read before the simulator is stopped.
    let diag = {
        use toe_contract::regs;
        let d = nic.device();
        let mut s = format!("stats {:?}\ncounters {:?}\n", nic.stats(0), d.counters());
        for q in 0..4u32 {
            let r = |x: u32| d.read32(regs::txq(q, x));
            s += &format!(
                "txq{q}: ctrl {:#x} prod {} cons {}\n",
                r(regs::Q_CTRL),
                r(regs::Q_PROD),
                r(regs::Q_CONS)
            );
        }
        s
    };
    drop(nic);
    Command::new("kill")
        .args(["-INT", &simd.id().to_string()])
        .status()
        .unwrap();
    let out = simd.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // The peer's own count: every reply it got carried its payload.
    let line = err
        .lines()
        .find(|l| l.contains("echo requests sent"))
        .expect("peer summary");
    let replies: u64 = line
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect(line);
    assert!(
        replies >= 10,
        "{line}\nsimd stdout: {}\nhost stats: {:?}\n{diag}",
        String::from_utf8_lossy(&out.stdout),
        host.net.stats()
    );
    assert!(line.ends_with(" 0 wrong"), "{line}");
}
