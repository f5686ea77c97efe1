//! The driver (toe-driver) against the Verilated NIC served through the
//! shared-memory transport, with an in-process peer on the wire.
use std::time::{Duration, Instant};
use toe_contract::regs as r;
use toe_driver::device::Device;
use toe_driver::nic::{Nic, NicConfig, Packet};
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
    assert_eq!(kinds, [r::TYPE_ID, r::TYPE_RSS, r::TYPE_QUEUES, r::TYPE_COUNTERS]);
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
