//! The driver (toe-driver) against the Verilated NIC served through the
//! shared-memory transport, with an in-process peer on the wire.
use std::time::{Duration, Instant};
use toe_contract::regs as r;
use toe_driver::device::Device;
use toe_driver::nic::{Nic, NicConfig, Packet};
use toe_driver::Backend;
use toe_sim::wire::{self, PeerPort};
use toe_tests::simdev::SimThread;

fn wait_rx(nic: &mut Nic, want: usize, timeout: Duration) -> Vec<Packet> {
    let start = Instant::now();
    let mut got = Vec::new();
    while got.len() < want && start.elapsed() < timeout {
        let mut n = 0;
        for q in 0..nic.queue_pairs() {
            n += nic.rx_burst(q, &mut got, 64);
        }
        if n == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    got
}

#[test]
fn bring_up_and_identify() {
    let sim = SimThread::start("bringup", wire::NullWire, |_| {});
    let dev = Device::open(Box::new(sim.backend())).expect("device");
    let info = dev.info().clone();
    assert_eq!(info.device_id, r::DEVICE_ID);
    assert_eq!((info.hw_major, info.hw_minor), (0, 1));
    assert_eq!(info.queue_pairs, 4);
    assert_eq!(info.data_bits, 512);
    let kinds: Vec<u32> = info.blocks.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            r::TYPE_ID,
            r::TYPE_RSS,
            r::TYPE_QUEUES,
            r::TYPE_COUNTERS,
            r::TYPE_SETUP
        ]
    );
    // A real register round trip through the RTL.
    dev.write32(r::ID_BASE + r::ID_SCRATCH, 0x5a5a_1234);
    assert_eq!(dev.read32(r::ID_BASE + r::ID_SCRATCH), 0x5a5a_1234);
    assert!(dev.counters().iter().all(|&(_, v)| v == 0));
    drop(dev);
    let st = sim.stop();
    assert_eq!(st.violations, 0);
    assert!(st.register_reads > 10 && st.register_writes >= 1, "{st:?}");
}

fn peer_frame(i: usize, len: usize) -> Vec<u8> {
    use rand::SeedableRng;
    use toe_model::gen;
    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
    gen::tcp_frame(&gen::random_tcp(&mut rng, len))
}

#[test]
fn rx_and_tx_through_the_driver() {
    let (w, peer) = wire::channel();
    let sim = SimThread::start("rxtx", w, |_| {});
    let mut nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    sim.settle(2000);
    let n = 40;
    let frames: Vec<Vec<u8>> = (0..n).map(|i| peer_frame(i, 60 + i * 37)).collect();
    for f in &frames {
        assert!(peer.send(f.clone()));
    }
    let got = wait_rx(&mut nic, n, Duration::from_secs(60));
    assert_eq!(got.len(), n, "frames received by the driver");
    let mut seen: Vec<Vec<u8>> = got.iter().map(|p| nic.to_vec(p)).collect();
    seen.sort();
    let mut want = frames.clone();
    want.sort();
    assert_eq!(seen, want);
    // Echo every packet back on the queue it arrived on.
    let mut by_q: Vec<Vec<Packet>> = (0..4).map(|_| Vec::new()).collect();
    for p in got {
        by_q[Nic::queue_of(&p) as usize].push(p);
    }
    for (q, pkts) in by_q.iter_mut().enumerate() {
        while !pkts.is_empty() {
            nic.tx_burst(q as u32, pkts);
        }
    }
    let mut echoed = Vec::new();
    let start = Instant::now();
    while echoed.len() < n && start.elapsed() < Duration::from_secs(60) {
        if let Some(f) = peer.recv_timeout(Duration::from_millis(10)) {
            echoed.push(f);
        }
    }
    echoed.sort();
    assert_eq!(echoed, want);
    let dev = nic.close().unwrap();
    assert_eq!(dev.counter(r::Counter::TxFrames), n as u64);
    assert_eq!(dev.counter(r::Counter::RxFrames), n as u64);
    drop(dev);
    let _ = peer_keep(peer);
    assert_eq!(sim.stop().violations, 0);
}

fn peer_keep(p: PeerPort) -> PeerPort {
    p
}

fn small_ring() -> NicConfig {
    NicConfig {
        log2_ring: 4,
        bufs_per_queue: 32,
        rss_key: None,
        ..NicConfig::default()
    }
}

/// Waits until the NIC has counted `n` received frames.
fn wait_counter(nic: &Nic, c: r::Counter, n: u64) {
    let start = Instant::now();
    while nic.device().counter(c) < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{c:?} stuck at {}",
            nic.device().counter(c)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn rings_wrap_many_times_in_order() {
    let (w, peer) = wire::channel();
    let sim = SimThread::start("wrap", w, |_| {});
    let mut nic = Nic::open(Box::new(sim.backend()), small_ring()).expect("nic");
    let n = 200;
    let batch = 8;
    let frames: Vec<Vec<u8>> = (0..n)
        .map(|i| peer_frame(1000 + i, 60 + (i * 13) % 600))
        .collect();
    let mut received = Vec::new();
    let mut echoed = Vec::new();
    // Batches of 8 on a 16-entry ring: 200 frames wrap the RX and TX rings
    // (and their completion rings) 12 times.  Between batches the NIC gets
    // time to fetch the refilled descriptors (about 1 us of DMA latency;
    // frames arriving before that would be dropped for want of a buffer).
    for chunk in frames.chunks(batch) {
        sim.settle(1000);
        for f in chunk {
            peer.send(f.clone());
        }
        let got = wait_rx(&mut nic, chunk.len(), Duration::from_secs(60));
        assert_eq!(
            got.len(),
            chunk.len(),
            "after {} frames: counters {:?}",
            received.len(),
            nic.device().counters()
        );
        for p in &got {
            received.push(nic.to_vec(p));
        }
        let mut out = got;
        while !out.is_empty() {
            nic.tx_burst(0, &mut out);
        }
        while echoed.len() < received.len() {
            echoed.push(peer.recv_timeout(Duration::from_secs(60)).expect("echo"));
        }
    }
    // RSS off: one queue, so order is kept end to end.
    assert_eq!(received, frames);
    assert_eq!(echoed, frames);
    let st = nic.stats(0);
    assert_eq!(
        (
            st.rx_packets,
            st.tx_packets,
            st.tx_errors,
            st.bad_completions
        ),
        (n as u64, n as u64, 0, 0)
    );
    assert_eq!(nic.device().counter(r::Counter::RxDropNoBuffer), 0);
    drop(nic);
    assert_eq!(sim.stop().violations, 0);
}

#[test]
fn rx_exhaustion_drops_and_counts_then_recovers() {
    let (w, peer) = wire::channel();
    let sim = SimThread::start("exhaust", w, |_| {});
    let mut nic = Nic::open(Box::new(sim.backend()), small_ring()).expect("nic");
    sim.settle(2000);
    // 1. The driver does not poll: 16 buffers posted, 40 frames arrive.
    for i in 0..40 {
        peer.send(peer_frame(i, 100));
    }
    wait_counter(&nic, r::Counter::RxFrames, 40);
    assert_eq!(nic.device().counter(r::Counter::RxDropNoBuffer), 24);
    let mut held = wait_rx(&mut nic, 16, Duration::from_secs(60));
    assert_eq!(held.len(), 16);
    sim.settle(2000);
    // 2. The application holds every buffer: the pool runs dry, the ring
    //    cannot be refilled, and frames are dropped and counted.
    for i in 0..16 {
        peer.send(peer_frame(100 + i, 100));
    }
    wait_counter(&nic, r::Counter::RxFrames, 56);
    held.extend(wait_rx(&mut nic, 16, Duration::from_secs(60)));
    assert_eq!(held.len(), 32);
    assert_eq!(nic.pool_available(0), 0);
    assert!(nic.stats(0).rx_refill_starved > 0);
    for i in 0..5 {
        peer.send(peer_frame(200 + i, 100));
    }
    wait_counter(&nic, r::Counter::RxFrames, 61);
    assert_eq!(nic.device().counter(r::Counter::RxDropNoBuffer), 29);
    sim.settle(2000);
    let mut none = Vec::new();
    assert_eq!(nic.rx_burst(0, &mut none, 64), 0);
    // 3. Buffers come back: the ring refills and traffic flows again.
    for p in held.drain(..) {
        nic.free(p);
    }
    assert_eq!(nic.rx_burst(0, &mut none, 64), 0);
    sim.settle(2000);
    let fresh: Vec<Vec<u8>> = (0..10).map(|i| peer_frame(300 + i, 200)).collect();
    for f in &fresh {
        peer.send(f.clone());
    }
    let got = wait_rx(&mut nic, 10, Duration::from_secs(60));
    let data: Vec<Vec<u8>> = got.iter().map(|p| nic.to_vec(p)).collect();
    assert_eq!(data, fresh);
    assert_eq!(nic.device().counter(r::Counter::RxDropNoBuffer), 29);
    drop(nic);
    assert_eq!(sim.stop().violations, 0);
}

#[test]
fn clean_shutdown_and_restart() {
    let (w, peer) = wire::channel();
    let sim = SimThread::start("restart", w, |_| {});
    for round in 0..3u64 {
        let mut nic = Nic::open(Box::new(sim.backend()), small_ring()).expect("nic");
        // Reset cleared the counters of the previous round.
        assert_eq!(
            nic.device().counter(r::Counter::RxFrames),
            0,
            "round {round}"
        );
        sim.settle(2000);
        let f = peer_frame(round as usize, 300);
        peer.send(f.clone());
        let got = wait_rx(&mut nic, 1, Duration::from_secs(60));
        assert_eq!(
            got.len(),
            1,
            "round {round}: counters {:?}, queue {:?}",
            nic.device().counters(),
            nic.device().queue_counters(0)
        );
        if nic.to_vec(&got[0]) != f {
            use std::os::unix::fs::FileExt;
            let file = std::fs::File::open(&sim.path).unwrap();
            let mut win = vec![0u8; 8 << 20];
            file.read_exact_at(&mut win, toe_contract::shm::WINDOW_OFF as u64)
                .unwrap();
            let hits: Vec<usize> = win
                .windows(32)
                .enumerate()
                .filter(|(_, w)| *w == &f[..32])
                .map(|(i, _)| i)
                .collect();
            panic!(
                "round {round}: cpl {:?}; frame found in window at {:x?}",
                got[0].cpl, hits
            );
        }
        let mut out = got;
        assert_eq!(nic.tx_burst(0, &mut out), 1);
        assert_eq!(peer.recv_timeout(Duration::from_secs(60)), Some(f));
        let dev = nic.close().expect("clean close");
        for q in 0..4 {
            assert_eq!(dev.read32(r::rxq(q, r::Q_CTRL)) & r::Q_CTRL_ENABLE, 0);
            assert_eq!(dev.read32(r::txq(q, r::Q_CTRL)) & r::Q_CTRL_ENABLE, 0);
        }
        // A frame arriving while no queue is enabled is dropped and counted.
        peer.send(peer_frame(99, 80));
        let start = Instant::now();
        while dev.counter(r::Counter::RxDropQueueDisabled) == 0 {
            assert!(start.elapsed() < Duration::from_secs(60));
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let st = sim.stop();
    assert_eq!((st.resets, st.violations), (3, 0));
}

#[test]
fn simulator_gone_and_bad_requests_are_reported() {
    let sim = SimThread::start("gone", wire::NullWire, |_| {});
    let path = sim.path.clone();
    let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    let b = nic.device().backend();
    // Unaligned and out-of-range register addresses: all ones, counted by
    // the simulator, no harm done.
    assert_eq!(b.read32(0x0002), !0);
    assert_eq!(b.read32(0x1_0000), !0);
    b.write32(0x0003, 5);
    assert!(nic.device().check().is_ok());
    let st = sim.stop();
    assert_eq!(st.bad_requests, 3);
    // The simulator has stopped: reads give all ones and the error says why.
    let b = nic.device().backend();
    assert_eq!(b.read32(r::ID_BASE + r::ID_DEVICE), !0);
    let e = nic.device().check().unwrap_err().to_string();
    assert!(
        e.contains("does not respond") && e.contains("stopped"),
        "{e}"
    );
    drop(nic);
    let e = toe_driver::shm::ShmBackend::open(&path, Duration::ZERO)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no simulator serves this file"), "{e}");
}

/// Regression: re-enabling a queue without a device reset must forget the
/// descriptors the NIC had prefetched for the old ring (they point into
/// buffers the driver no longer owns).
#[test]
fn reenabled_queue_forgets_prefetched_descriptors() {
    let (w, peer) = wire::channel();
    let sim = SimThread::start("reenable", w, |_| {});
    let cfg = NicConfig {
        reset: false,
        ..small_ring()
    };
    let mut nic = Nic::open(Box::new(sim.backend()), cfg.clone()).expect("nic");
    sim.settle(2000);
    let f = peer_frame(7, 400);
    peer.send(f.clone());
    let got = wait_rx(&mut nic, 1, Duration::from_secs(60));
    assert_eq!(nic.to_vec(&got[0]), f);
    drop(nic.close().unwrap());
    // A new ring and pool elsewhere in the DMA window: the NIC had 15
    // descriptors of the old ring cached.
    let mut backend = sim.backend();
    let _moved = backend.alloc_dma(1 << 20).unwrap();
    let mut nic = Nic::open(Box::new(backend), cfg).expect("nic again");
    sim.settle(2000);
    for i in 0..20 {
        let f = peer_frame(50 + i, 64 + 20 * i);
        peer.send(f.clone());
        let got = wait_rx(&mut nic, 1, Duration::from_secs(60));
        assert_eq!(got.len(), 1);
        assert_eq!(
            nic.to_vec(&got[0]),
            f,
            "frame {i} landed in the wrong buffer"
        );
        nic.free(got.into_iter().next().unwrap());
        sim.settle(600);
    }
    drop(nic);
    assert_eq!(sim.stop().violations, 0);
}

/// Requests a driver posted that the simulator never took are reported
/// when it stops (what `toe-simd` prints for a stalled mailbox), and taken
/// when it runs on.
#[test]
fn requests_left_in_the_mailbox_are_reported_at_the_stop() {
    use std::sync::atomic::AtomicBool;
    use toe_sim::device::{DeviceConfig, SimDevice};
    let path = toe_tests::simdev::unique_path("untaken");
    let mut dev =
        SimDevice::create(DeviceConfig::new(&path), Box::new(wire::NullWire)).expect("device");
    let b = toe_driver::shm::ShmBackend::open(&path, Duration::ZERO).expect("attach");
    for i in 0..3 {
        b.write32(r::ID_SCRATCH, i);
    }
    let stop = AtomicBool::new(false);
    let st = dev.run(&stop, Some(0)).expect("run");
    assert_eq!((st.lane_untaken[0], st.in_flight), (3, 0));
    let st = dev.run(&stop, Some(1000)).expect("run");
    assert_eq!((st.lane_untaken[0], st.in_flight), (0, 0));
    assert_eq!(st.register_writes, 3);
    drop(b);
}
