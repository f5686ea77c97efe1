//! One thread per queue pair (driver/src/nic.rs `Nic::split`) over the
//! Verilated NIC: each thread owns its `NicQueue` and rings its doorbells
//! on a mailbox lane of its own (hdl/contract/src/shm.rs).
//!
//! * four echo servers, one `Endpoint` per queue on its own thread,
//!   listening on the same port; smoltcp clients in the test's thread whose
//!   ports RSS spreads three to a queue; every byte echoed, every server
//!   serves exactly the flows RSS predicts, clean close;
//! * four threads ring doorbells concurrently on their lanes over a
//!   loopback wire: every frame comes back, in order, on its queue, the
//!   RTL's counters agree and the simulator saw exactly the doorbells the
//!   driver rang, lane by lane; after `NicControl::close` the surviving
//!   handles ring nothing;
//! * reads and writes on every lane at once, each lane in order;
//! * lanes out of range, and a backend without lanes, refuse `split` and
//!   hand the NIC back.
use smoltcp::iface::{Config as IfConfig, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use toe_contract::regs as r;
use toe_driver::backend::{Backend, DmaRegion};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig, NicQueue, Packet};
use toe_driver::socket::{Endpoint, EndpointConfig, Event, Neighbours, Ready, SockError};
use toe_sim::wire;
use toe_tests::peer::PortDevice;
use toe_tests::simdev::SimThread;

const PEER: [u8; 4] = [10, 6, 0, 1];
const US: [u8; 4] = [10, 6, 0, 2];

/// What one server thread did.
#[derive(Debug)]
struct Served {
    queue: u32,
    /// Client ports of the connections it accepted.
    ports: BTreeSet<u16>,
    /// Server sockets closed after end of stream.
    closed: usize,
    bytes: usize,
    rx_bad: u64,
}

/// An echo server event loop on one queue handle, until `stop` and every
/// connection is gone.
fn echo_server(
    mut queue: NicQueue,
    board: Neighbours,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> Result<Served, String> {
    let q = queue.index();
    let mut cfg = EndpointConfig::new(q, NetConfig::new([2, 0, 0, 0, 6, 2], US, 24));
    cfg.neighbours = Some(board);
    let mut ep = Endpoint::on_queue(cfg, &queue).map_err(|e| e.to_string())?;
    let l = ep.listen(7, 64).map_err(|e| e.to_string())?;
    let mut events: Vec<Event> = Vec::new();
    let mut served: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut out = Served {
        queue: q,
        ports: BTreeSet::new(),
        closed: 0,
        bytes: 0,
        rx_bad: 0,
    };
    let mut buf = vec![0u8; 8192];
    loop {
        if t0.elapsed() > Duration::from_secs(240) {
            return Err(format!("queue {q}: timed out with {out:?}"));
        }
        let rx = ep.poll_queue(&mut queue, t0.elapsed(), &mut events);
        let mut worked = rx > 0;
        for e in events.clone() {
            worked = true;
            if e.socket == l {
                while let Ok(s) = ep.accept(l) {
                    let (lport, raddr, rport) = ep.peer(s).map_err(|e| e.to_string())?;
                    if (lport, raddr) != (7, Ipv4Addr::from(PEER)) {
                        return Err(format!("queue {q}: accepted {lport} from {raddr}"));
                    }
                    out.ports.insert(rport);
                    served.push((s, Vec::new()));
                }
                continue;
            }
            let Some(i) = served.iter().position(|(s, _)| *s == e.socket) else {
                return Err(format!("queue {q}: event for unknown socket {e:?}"));
            };
            if e.ready.contains(Ready::READABLE) {
                loop {
                    match ep.read(e.socket, &mut buf) {
                        Ok(0) => {
                            // End of stream: close once everything is echoed.
                            if served[i].1.is_empty() {
                                ep.close(e.socket).map_err(|e| e.to_string())?;
                                served.remove(i);
                                out.closed += 1;
                            }
                            break;
                        }
                        Ok(k) => {
                            out.bytes += k;
                            served[i].1.extend_from_slice(&buf[..k]);
                        }
                        Err(SockError::WouldBlock) => break,
                        Err(err) => return Err(format!("queue {q}: read: {err}")),
                    }
                }
            }
        }
        for (s, pending) in served.iter_mut() {
            if !pending.is_empty() {
                match ep.write(*s, pending) {
                    Ok(k) => {
                        worked = true;
                        pending.drain(..k);
                    }
                    Err(SockError::WouldBlock) => {}
                    Err(err) => return Err(format!("queue {q}: write: {err}")),
                }
            }
        }
        if stop.load(Ordering::Acquire) && served.is_empty() && ep.connections() == 0 {
            break;
        }
        if !worked {
            // Two cores for six busy threads: give the simulator the CPU.
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    out.rx_bad = ep.tcp_stats().rx_bad;
    Ok(out)
}

/// A smoltcp client of the echo test.
struct Client {
    h: SocketHandle,
    port: u16,
    data: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    done: bool,
}

#[test]
fn echo_server_on_its_own_thread_per_queue() {
    let (w, port) = wire::channel();
    let sim = SimThread::start("threads-echo", w, |_| {});
    let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    sim.settle(2000);
    // Client ports: three flows per queue, as RSS will steer them.
    let per_queue = 3;
    let mut want: Vec<BTreeSet<u16>> = vec![BTreeSet::new(); nic.queue_pairs() as usize];
    let mut ports = Vec::new();
    for p in 41000u16.. {
        let q = nic.rx_queue_of(PEER, US, p, 7) as usize;
        if want[q].len() < per_queue {
            want[q].insert(p);
            ports.push(p);
        }
        if want.iter().all(|w| w.len() == per_queue) {
            break;
        }
    }
    let (ctl, queues) = nic.split().expect("split");
    assert_eq!(queues.len(), 4);
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let board = Neighbours::new();
    let servers: Vec<_> = queues
        .into_iter()
        .map(|queue| {
            let (board, stop) = (board.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("echo-q{}", queue.index()))
                .spawn(move || echo_server(queue, board, stop, t0))
                .unwrap()
        })
        .collect();

    // The clients, in this thread.
    let mut dev = PortDevice { port };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress([
            2, 0, 0, 0, 6, 1,
        ]))),
        &mut dev,
        SmolInstant::from_micros(0),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(PEER)), 24))
            .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    let len = 30_000usize;
    let mut clients: Vec<Client> = Vec::new();
    for (i, &p) in ports.iter().enumerate() {
        let h = socks.add(tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 16 * 1024]),
            tcp::SocketBuffer::new(vec![0; 16 * 1024]),
        ));
        socks
            .get_mut::<tcp::Socket>(h)
            .connect(
                iface.context(),
                (IpAddress::Ipv4(Ipv4Address::from(US)), 7),
                p,
            )
            .unwrap();
        // Distinct data per client: a position- and client-dependent
        // pattern that no other client's stream matches.
        let data: Vec<u8> = (0..len)
            .map(|j| (j.wrapping_mul(31) ^ (j >> 8) ^ (i * 97 + 5)) as u8)
            .collect();
        clients.push(Client {
            h,
            port: p,
            data,
            sent: 0,
            got: Vec::new(),
            done: false,
        });
    }
    let mut buf = vec![0u8; 8192];
    let deadline = Duration::from_secs(240);
    loop {
        assert!(
            t0.elapsed() < deadline,
            "clients timed out: {:?}",
            clients
                .iter()
                .map(|c| (
                    c.port,
                    c.sent,
                    c.got.len(),
                    socks.get::<tcp::Socket>(c.h).state()
                ))
                .collect::<Vec<_>>()
        );
        let now = SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
        iface.poll(now, &mut dev, &mut socks);
        let mut worked = false;
        for c in clients.iter_mut() {
            let s = socks.get_mut::<tcp::Socket>(c.h);
            if s.can_send() && c.sent < c.data.len() {
                let k = s.send_slice(&c.data[c.sent..]).unwrap();
                c.sent += k;
                worked |= k > 0;
            }
            while s.can_recv() {
                let k = s.recv_slice(&mut buf).unwrap();
                c.got.extend_from_slice(&buf[..k]);
                worked |= k > 0;
            }
            if c.got.len() >= c.data.len() && !c.done {
                s.close();
                c.done = true;
            }
        }
        // Done when every client has its echo and the servers' FINs.
        let finished = clients.iter().all(|c| {
            c.done
                && matches!(
                    socks.get::<tcp::Socket>(c.h).state(),
                    tcp::State::TimeWait | tcp::State::Closed
                )
        });
        if finished {
            stop.store(true, Ordering::Release);
        }
        // Keep answering until every server has seen its last ACK.
        if finished && servers.iter().all(|s| s.is_finished()) {
            break;
        }
        if !worked {
            std::thread::sleep(Duration::from_micros(20));
        }
    }
    let reports: Vec<Served> = servers
        .into_iter()
        .map(|s| s.join().expect("server thread panicked").expect("server"))
        .collect();
    println!(
        "served per queue: {:?}",
        reports
            .iter()
            .map(|r| (r.queue, r.ports.len(), r.bytes))
            .collect::<Vec<_>>()
    );
    for c in &clients {
        assert_eq!(c.sent, c.data.len(), "client {} sent everything", c.port);
        assert!(
            c.got == c.data,
            "client {}: {} of {} bytes echoed, first difference at {:?}",
            c.port,
            c.got.len(),
            c.data.len(),
            c.got.iter().zip(&c.data).position(|(a, b)| a != b)
        );
    }
    for r in &reports {
        let q = r.queue as usize;
        assert_eq!(
            r.ports, want[q],
            "queue {q} served the flows RSS gives it (and only those)"
        );
        assert_eq!(r.closed, per_queue, "queue {q} closed its connections");
        assert_eq!(r.bytes, per_queue * len, "queue {q} bytes received");
        assert_eq!(r.rx_bad, 0, "queue {q} bad segments");
    }
    let dev = ctl.close().expect("close");
    assert_eq!(dev.counter(r::Counter::RxDropQueueDisabled), 0);
    drop(dev);
    assert_eq!(sim.stop().violations, 0);
}

/// A TCP frame of `len` bytes carrying `(queue, seq)` whose 4-tuple RSS
/// steers to queue `q` (`sport` chosen for it).
fn frame_for(q: u32, seq: u32, sport: u16, len: usize) -> Vec<u8> {
    use toe_model::gen;
    let mut payload = vec![0u8; len.saturating_sub(54)];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = (i as u32 ^ seq.wrapping_mul(7) ^ q << 5) as u8;
    }
    payload[..4].copy_from_slice(&seq.to_be_bytes());
    payload[4] = q as u8;
    gen::tcp_frame(&gen::TcpSpec {
        ip: gen::Ipv4Spec {
            src: [10, 9, 0, 1],
            dst: [10, 9, 0, 2],
            ..gen::Ipv4Spec::default()
        },
        src_port: sport,
        dst_port: 5000,
        seq,
        payload,
        ..gen::TcpSpec::default()
    })
}

/// A source port RSS steers (10.9.0.1 -> 10.9.0.2:5000) to queue `q`.
fn port_for(nic: &Nic, q: u32) -> u16 {
    (30000u16..)
        .find(|&p| nic.rx_queue_of([10, 9, 0, 1], [10, 9, 0, 2], p, 5000) == q)
        .unwrap()
}

/// What one loopback thread did.
struct Looped {
    queue: NicQueue,
    sent: u32,
}

/// Sends `n` frames on the handle's queue, keeping at most `window` in
/// flight, and checks they come back in order on the same queue.
fn loop_frames(
    mut queue: NicQueue,
    n: u32,
    window: u32,
    sport: u16,
    start: Arc<Barrier>,
) -> Result<Looped, String> {
    let q = queue.index();
    let mut next_rx = 0u32;
    let mut sent = 0u32;
    let mut out: Vec<Packet> = Vec::new();
    let mut got: Vec<Packet> = Vec::new();
    let t0 = Instant::now();
    start.wait();
    while next_rx < n {
        if t0.elapsed() > Duration::from_secs(240) {
            return Err(format!(
                "queue {q}: {next_rx} of {n} frames back ({sent} sent), stats {:?}",
                queue.stats()
            ));
        }
        // Top up the window.
        while sent < n && sent - next_rx < window && out.len() < 32 {
            let Some(mut p) = queue.alloc() else { break };
            let len = 60 + (sent as usize * 37) % 900;
            queue.write(&mut p, 0, &frame_for(q, sent, sport, len));
            out.push(p);
            sent += 1;
        }
        if !out.is_empty() {
            queue.tx_burst(&mut out);
        }
        let k = queue.rx_burst(&mut got, 64);
        for p in got.drain(..) {
            if Nic::queue_of(&p) != q {
                return Err(format!(
                    "queue {q}: a packet of queue {}",
                    Nic::queue_of(&p)
                ));
            }
            let len = 60 + (next_rx as usize * 37) % 900;
            let want = frame_for(q, next_rx, sport, len);
            let have = queue.to_vec(&p);
            queue.free(p);
            if have != want {
                return Err(format!(
                    "queue {q}: frame {next_rx} differs (seq {:?} from queue {:?})",
                    have.get(54..58),
                    have.get(58)
                ));
            }
            next_rx += 1;
        }
        if k == 0 {
            std::thread::yield_now();
        }
    }
    Ok(Looped { queue, sent })
}

#[test]
fn doorbells_on_lanes_from_threads_lose_nothing() {
    let sim = SimThread::start("threads-lanes", wire::LoopWire::default(), |_| {});
    let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    sim.settle(2000);
    let n = 1500u32;
    let sports: Vec<u16> = (0..nic.queue_pairs()).map(|q| port_for(&nic, q)).collect();
    let (ctl, queues) = nic.split().expect("split");
    for q in &queues {
        assert!(
            q.describe().ends_with(&format!("lane {}", q.index() + 1)),
            "{}",
            q.describe()
        );
    }
    // Doorbells rung before the split (bring-up refill) went on lane 0.
    let before: Vec<u64> = queues.iter().map(|q| q.stats().doorbells).collect();
    let start = Arc::new(Barrier::new(queues.len()));
    let threads: Vec<_> = queues
        .into_iter()
        .map(|queue| {
            let (sport, start) = (sports[queue.index() as usize], start.clone());
            std::thread::spawn(move || loop_frames(queue, n, 96, sport, start))
        })
        .collect();
    let mut looped: Vec<Looped> = threads
        .into_iter()
        .map(|t| t.join().expect("loop thread panicked").expect("loop"))
        .collect();
    looped.sort_by_key(|l| l.queue.index());
    let dev = ctl.device();
    for l in &looped {
        let q = l.queue.index();
        assert_eq!(l.sent, n);
        let c = dev.queue_counters(q);
        assert_eq!(
            (c.tx_packets, c.rx_packets),
            (n as u64, n as u64),
            "queue {q}: the RTL's counters"
        );
        let s = l.queue.stats();
        assert_eq!((s.tx_packets, s.rx_packets), (n as u64, n as u64));
        assert_eq!(s.bad_completions + s.tx_errors, 0, "queue {q}: {s:?}");
    }
    let total = n as u64 * looped.len() as u64;
    assert_eq!(dev.counter(r::Counter::TxFrames), total);
    assert_eq!(dev.counter(r::Counter::RxFrames), total);
    assert_eq!(dev.counter(r::Counter::RxDropNoBuffer), 0);
    // Close while the handles live: afterwards they ring nothing.
    let doorbells: Vec<u64> = looped.iter().map(|l| l.queue.stats().doorbells).collect();
    let dev = ctl.close().expect("close");
    for l in &mut looped {
        let q = l.queue.index();
        assert!(l.queue.is_closed());
        assert!(!l.queue.rx_ready());
        let mut pkts = vec![l.queue.alloc().expect("the pool still works")];
        let sport = sports[q as usize];
        let f = frame_for(q, 99_999, sport, 100);
        l.queue.write(&mut pkts[0], 0, &f);
        assert_eq!(l.queue.to_vec(&pkts[0]), f);
        assert_eq!(l.queue.tx_burst(&mut pkts), 0, "queue {q} sent after close");
        l.queue.free(pkts.pop().unwrap());
        let mut got = Vec::new();
        assert_eq!(l.queue.rx_burst(&mut got, 64), 0);
        assert_eq!(l.queue.stats().doorbells, doorbells[q as usize]);
        assert_eq!(dev.read32(r::txq(q, r::Q_CTRL)) & r::Q_CTRL_ENABLE, 0);
        assert_eq!(dev.read32(r::rxq(q, r::Q_CTRL)) & r::Q_CTRL_ENABLE, 0);
    }
    assert_eq!(dev.counter(r::Counter::TxFrames), total);
    drop(dev);
    drop(looped);
    let st = sim.stop();
    assert_eq!(st.violations, 0);
    // Each lane carried its queue's doorbells and nothing else: none lost,
    // none after close.
    for (q, d) in doorbells.iter().enumerate() {
        assert_eq!(
            st.lane_requests[q + 1],
            *d - before[q],
            "lane {}: requests performed vs doorbells rung",
            q + 1
        );
        assert!(*d >= n as u64 / 32, "queue {q}: {d} doorbells");
    }
    assert!(st.lane_requests[5..].iter().all(|&k| k == 0));
}

/// Every lane reads and writes at once; each sees its own writes in order.
#[test]
fn reads_and_writes_on_every_lane_at_once() {
    let sim = SimThread::start("threads-rw", wire::NullWire, |_| {});
    let backend = sim.backend();
    assert_eq!(backend.lanes(), toe_contract::shm::MAX_LANES as u32);
    // Registers nobody else writes: ring base addresses of disabled queues
    // (RW in the RTL), one per lane.
    let regs: Vec<u32> = (0..4)
        .flat_map(|q| {
            [r::Q_DESC_LO, r::Q_DESC_HI, r::Q_CPL_LO, r::Q_CPL_HI]
                .into_iter()
                .flat_map(move |f| [r::rxq(q, f), r::txq(q, f)])
        })
        .collect();
    let lanes: Vec<_> = (1..backend.lanes())
        .map(|k| backend.lane(k).expect("lane"))
        .collect();
    let e = backend.lane(backend.lanes()).err().unwrap().to_string();
    assert!(e.contains("lane 16 asked for"), "{e}");
    let e = backend.lane(3).err().unwrap().to_string();
    assert!(e.contains("lane 3 is already in use"), "{e}");
    let start = Arc::new(Barrier::new(lanes.len()));
    let threads: Vec<_> = lanes
        .into_iter()
        .enumerate()
        .map(|(i, lane)| {
            let (reg, start) = (regs[i], start.clone());
            std::thread::spawn(move || {
                start.wait();
                for v in 0..200u32 {
                    // 64-byte aligned values (base address registers).
                    let val = (i as u32 + 1) << 24 | v << 6;
                    lane.write32(reg, val);
                    lane.write32(reg, val ^ 0x40);
                    let back = lane.read32(reg);
                    if back != val ^ 0x40 {
                        return Err(format!(
                            "{}: read {back:#x} after writing {:#x}",
                            lane.describe(),
                            val ^ 0x40
                        ));
                    }
                }
                lane.check().map_err(|e| e.to_string())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().expect("lane");
    }
    drop(backend);
    let st = sim.stop();
    assert_eq!((st.violations, st.bad_requests), (0, 0));
    for k in 1..16 {
        assert_eq!(st.lane_requests[k], 600, "lane {k}");
    }
}

/// A function-level reset on lane 0 while other lanes keep writing: the
/// simulator holds the lanes back until the accesses in flight are done,
/// resets, and carries on; nothing is lost and every lane works after.
#[test]
fn a_reset_waits_for_every_lane() {
    let sim = SimThread::start("threads-reset", wire::NullWire, |_| {});
    let mut backend = sim.backend();
    let regs = [
        r::rxq(0, r::Q_DESC_LO),
        r::rxq(1, r::Q_DESC_LO),
        r::txq(2, r::Q_CPL_LO),
        r::txq(3, r::Q_CPL_LO),
    ];
    let n = 3000u32;
    let lanes: Vec<_> = (1..=4).map(|k| backend.lane(k).expect("lane")).collect();
    let go = Arc::new(Barrier::new(lanes.len() + 1));
    let after = Arc::new(Barrier::new(lanes.len() + 1));
    let threads: Vec<_> = lanes
        .into_iter()
        .zip(regs)
        .map(|(lane, reg)| {
            let (go, after) = (go.clone(), after.clone());
            std::thread::spawn(move || {
                go.wait();
                for v in 0..n {
                    lane.write32(reg, v << 6);
                }
                after.wait();
                // After the resets: the lane still reads its own writes.
                lane.write32(reg, 0x5a5a_5a40);
                (lane.read32(reg), lane.check().map_err(|e| e.to_string()))
            })
        })
        .collect();
    go.wait();
    for _ in 0..3 {
        backend.reset().expect("reset with the other lanes busy");
    }
    after.wait();
    for t in threads {
        let (back, ok) = t.join().unwrap();
        ok.expect("lane after the resets");
        assert_eq!(back, 0x5a5a_5a40);
    }
    drop(backend);
    let st = sim.stop();
    assert_eq!((st.resets, st.violations, st.bad_requests), (3, 0, 0));
    for k in 1..=4 {
        assert_eq!(st.lane_requests[k], n as u64 + 2, "lane {k}");
    }
}

/// The simulated backend without its lanes: what a backend that cannot
/// give independent register paths looks like.
struct NoLanes(toe_driver::shm::ShmBackend);

impl Backend for NoLanes {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn read32(&self, off: u32) -> u32 {
        self.0.read32(off)
    }
    fn write32(&self, off: u32, val: u32) {
        self.0.write32(off, val)
    }
    fn check(&self) -> toe_driver::Result<()> {
        self.0.check()
    }
    fn reset(&mut self) -> toe_driver::Result<()> {
        self.0.reset()
    }
    fn alloc_dma(&mut self, len: usize) -> toe_driver::Result<DmaRegion> {
        self.0.alloc_dma(len)
    }
}

#[test]
fn split_refuses_without_enough_lanes_and_hands_the_nic_back() {
    // A backend with no lanes at all.
    let sim = SimThread::start("threads-nolanes", wire::NullWire, |_| {});
    let nic = Nic::open(Box::new(NoLanes(sim.backend())), NicConfig::default()).expect("nic");
    let e = nic.split().err().expect("split without lanes");
    let msg = e.to_string();
    assert!(
        msg.contains("no independent register paths") && msg.contains("lane 1"),
        "{msg}"
    );
    let mut nic = *e.nic;
    assert_eq!(
        nic.rx_burst(0, &mut Vec::new(), 8),
        0,
        "the NIC still works"
    );
    drop(nic.close().expect("close"));
    drop(sim.stop());

    // A simulator serving three lanes: queues 0 and 1 get lanes 1 and 2,
    // queue 2 would need lane 3.
    let sim = SimThread::start("threads-3lanes", wire::NullWire, |c| c.lanes = 3);
    let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    let e = nic.split().err().expect("split with 3 lanes");
    let msg = e.to_string();
    assert!(
        msg.contains("lane 3 asked for") && msg.contains("lanes 0 to 2"),
        "{msg}"
    );
    // Two queues fit.
    let nic = *e.nic;
    drop(nic.close().expect("close"));
    let cfg = NicConfig {
        queue_pairs: 2,
        ..NicConfig::default()
    };
    let nic = Nic::open(Box::new(sim.backend()), cfg).expect("nic, 2 queues");
    let (ctl, queues) = nic.split().expect("2 queues on 3 lanes");
    assert_eq!(queues.len(), 2);
    drop(queues);
    drop(ctl.close().expect("close"));
    assert_eq!(sim.stop().violations, 0);
}
