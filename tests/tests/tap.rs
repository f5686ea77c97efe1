//! Linux on the wire: the simulated NIC's MAC is a TAP device moved into a
//! network namespace, the driver and its host network layer (`Host`,
//! `NetIf`) run in this process, and Linux's own `ping` talks to them.
//!
//! ```text
//!   namespace toe-<pid>-<n>               this process
//!   ping 10.77.n.2 --- TAP toeXtY --- SimThread (Verilated NIC) --- Nic + Host
//!   10.77.n.1/24                          (recorded wire)            10.77.n.2/24
//! ```
//! Both directions of ARP and ICMP echo are exercised, every frame on the
//! wire is recorded and its payload checked, and the counters of the three
//! parties (Linux's ping, the host layer, the NIC) must agree.
//!
//! These tests need CAP_NET_ADMIN: without it they print why and pass;
//! with it (CI runs as root) they must run, and missing `ip`/`ping` fail.
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, Icmpv4Packet, Icmpv4Repr, IpProtocol,
    Ipv4Address, Ipv4Packet,
};
use std::io::Read;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toe_contract::regs::Counter;
use toe_driver::net::{Host, NetConfig, NetIf, Received};
use toe_sim::wire::Wire;
use toe_tests::tap_bench::TapBench;

/// Which way a recorded frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// From Linux (the TAP) into the NIC's MAC.
    ToNic,
    /// From the NIC's MAC out to Linux.
    FromNic,
}

type Log = Arc<Mutex<Vec<(Dir, Vec<u8>)>>>;

/// A wire that keeps a copy of every frame passing through it.
struct Recorded<W> {
    inner: W,
    log: Log,
}

impl<W: Wire> Wire for Recorded<W> {
    fn recv(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let f = self.inner.recv()?;
        if let Some(f) = &f {
            self.log.lock().unwrap().push((Dir::ToNic, f.clone()));
        }
        Ok(f)
    }
    fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        self.log
            .lock()
            .unwrap()
            .push((Dir::FromNic, frame.to_vec()));
        self.inner.send(frame)
    }
    fn describe(&self) -> String {
        format!("{} (recorded)", self.inner.describe())
    }
}

/// The bench with the host layer on top and every frame on the wire
/// recorded, or None (reason printed) when TAP tests cannot run here.
fn bench(tag: &str) -> Option<(TapBench, Host, Log)> {
    let log = Log::default();
    let l = log.clone();
    let b = TapBench::builder(tag, 77).build_with(|wire| Recorded {
        inner: wire,
        log: l,
    })?;
    let host = Host::new(NetIf::new(NetConfig::new(b.nic_mac, b.nic_ip.octets(), 24)));
    Some((b, host, log))
}

/// A child process killed (and reaped) if the test ends before it does.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An ICMP echo message seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Echo {
    request: bool,
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
    src: Ipv4Address,
    dst: Ipv4Address,
    ident: u16,
    seq: u16,
    data: Vec<u8>,
}

/// Parses `frame` as an ICMP echo request or reply with valid IPv4 and
/// ICMP checksums; None for anything else.
fn echo(frame: &[u8]) -> Option<Echo> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Icmp {
        return None;
    }
    assert!(
        ip.verify_checksum(),
        "bad IPv4 checksum on the wire: {frame:02x?}"
    );
    let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
    assert!(
        icmp.verify_checksum(),
        "bad ICMP checksum on the wire: {frame:02x?}"
    );
    let (request, ident, seq, data) =
        match Icmpv4Repr::parse(&icmp, &ChecksumCapabilities::default()).ok()? {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (true, ident, seq_no, data),
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (false, ident, seq_no, data),
            _ => return None,
        };
    Some(Echo {
        request,
        eth_src: eth.src_addr(),
        eth_dst: eth.dst_addr(),
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        ident,
        seq,
        data: data.to_vec(),
    })
}

/// The echo messages recorded in direction `dir`.
fn echoes(log: &Log, dir: Dir) -> Vec<Echo> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(d, _)| *d == dir)
        .filter_map(|(_, f)| echo(f))
        .collect()
}

/// A MAC address as `ip neigh` prints it.
fn lladdr(mac: EthernetAddress) -> String {
    let b = mac.as_bytes();
    format!(
        "lladdr {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

/// Bytes of ping's payload that hold its send timestamp (a 64-bit
/// `struct timeval`); the pattern given with -p fills the rest.
const PING_TIMESTAMP: usize = 16;
const PATTERN: [u8; 16] = [
    0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0xc3, 0x3c, 0x0f, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
];
const COUNT: usize = 20;
const SIZE: usize = 200;

#[test]
fn linux_ping_through_tap_is_answered() {
    let Some((b, mut host, log)) = bench("tap-ping") else {
        return;
    };
    let TapBench {
        mut nic,
        sim,
        ns,
        tap,
        linux_ip,
        nic_ip,
        nic_mac,
        ..
    } = b;
    let nic_mac = EthernetAddress(nic_mac);
    let pattern: String = PATTERN.iter().map(|b| format!("{b:02x}")).collect();
    let (count, size) = (COUNT.to_string(), SIZE.to_string());
    let dst = nic_ip.to_string();
    let argv = [
        "ping", "-n", "-c", &count, "-i", "0.01", "-s", &size, "-p", &pattern, "-W", "2", &dst,
    ];
    let mut child = KillOnDrop(Some(ns.spawn(argv).unwrap_or_else(|e| panic!("{e}"))));
    let mut delivered = Vec::new();
    let start = Instant::now();
    let status = loop {
        let polled = host.poll(&mut nic, start.elapsed(), |r| {
            delivered.push(format!("{r:?}"))
        });
        let c = child.0.as_mut().unwrap();
        if let Some(st) = c.try_wait().expect("wait for ping") {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "ping still running after 120 s; host stats {:?}",
            host.net.stats()
        );
        if polled.rx == 0 && polled.tx == 0 {
            std::thread::sleep(Duration::from_micros(100));
        }
    };
    // Reaped: `try_wait` returned its status above.
    #[allow(clippy::zombie_processes)]
    let mut c = child.0.take().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    eprintln!(
        "ping {nic_ip} from namespace {} ({:.1} s):\n{out}{err}",
        ns.name(),
        start.elapsed().as_secs_f64()
    );

    // 1. Linux's verdict: every request answered once, with its data
    //    (ping compares each reply's payload with what it sent).
    assert!(status.success(), "ping failed ({status}):\n{out}{err}");
    let summary = format!("{COUNT} packets transmitted, {COUNT} received");
    assert!(out.contains(&summary), "expected `{summary}` in:\n{out}");
    for bad in ["wrong data", "DUP!", "truncated"] {
        assert!(!out.contains(bad), "ping reported `{bad}`:\n{out}");
    }
    // Linux resolved our address to our MAC through the host layer's ARP.
    let neigh = ns
        .run(["ip", "neigh", "show", "dev", &tap, &nic_ip.to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        neigh.contains(&lladdr(nic_mac)),
        "Linux neighbour entry for {nic_ip}: {neigh:?}, want {nic_mac}"
    );

    // 2. The wire: each request carries the pattern, each reply from the
    //    NIC mirrors its request exactly.
    let requests = echoes(&log, Dir::ToNic);
    let replies = echoes(&log, Dir::FromNic);
    assert_eq!(
        requests.len(),
        COUNT,
        "echo requests on the wire: {requests:?}"
    );
    assert_eq!(
        replies.len(),
        COUNT,
        "echo replies on the wire: {replies:?}"
    );
    for (i, (q, r)) in requests.iter().zip(&replies).enumerate() {
        assert!(
            q.request && (q.src, q.dst) == (linux_ip, nic_ip),
            "request {i}: {q:?}"
        );
        assert_eq!(q.data.len(), SIZE, "request {i} payload length");
        for (j, &byte) in q.data.iter().enumerate().skip(PING_TIMESTAMP) {
            assert_eq!(
                byte,
                PATTERN[j % PATTERN.len()],
                "request {i} payload byte {j}: {:02x?}",
                q.data
            );
        }
        assert!(
            !r.request && (r.src, r.dst) == (nic_ip, linux_ip),
            "reply {i}: {r:?}"
        );
        assert_eq!(
            (r.eth_src, r.eth_dst),
            (nic_mac, q.eth_src),
            "reply {i} Ethernet addresses"
        );
        assert_eq!(
            (r.ident, r.seq),
            (q.ident, q.seq),
            "reply {i} identifier and sequence number"
        );
        assert_eq!(r.data, q.data, "reply {i} payload");
    }

    // 3. The host layer and the NIC counted the same traffic.
    let st = host.net.stats();
    assert_eq!(
        (st.rx_echo_requests, st.tx_echo_replies),
        (COUNT as u64, COUNT as u64),
        "{st:?}"
    );
    assert!(
        st.rx_arp_requests >= 1,
        "Linux's ARP request was not answered: {st:?}"
    );
    assert_eq!(
        (st.drop_malformed, st.drop_bad_checksum, st.drop_tx_full),
        (0, 0, 0),
        "{st:?}"
    );
    assert!(delivered.is_empty(), "unexpected deliveries: {delivered:?}");
    let dev = nic.device();
    let (rx, tx) = (
        dev.counter(Counter::RxFrames),
        dev.counter(Counter::TxFrames),
    );
    assert_eq!(
        tx, st.tx_frames,
        "frames the NIC sent vs frames the host layer queued"
    );
    assert!(
        tx > COUNT as u64 && rx > COUNT as u64,
        "NIC counters rx {rx} tx {tx}"
    );
    for c in [
        Counter::RxDropNoBuffer,
        Counter::RxBadIpCsum,
        Counter::TxBadDescriptor,
        Counter::DmaError,
    ] {
        assert_eq!(dev.counter(c), 0, "{c:?}");
    }
    drop(nic);
    let sim_stats = sim.stop();
    assert_eq!(sim_stats.violations, 0, "{sim_stats:?}");
    // Linux may still send (a neighbour probe) after the counters were read.
    assert!(
        sim_stats.frames_in >= rx && sim_stats.frames_out == tx,
        "{sim_stats:?}"
    );
    drop(ns);
}

#[test]
fn host_layer_pings_linux_through_tap() {
    let Some((b, mut host, log)) = bench("tap-rping") else {
        return;
    };
    let TapBench {
        mut nic,
        sim,
        ns,
        tap,
        linux_ip,
        nic_ip,
        nic_mac,
        ..
    } = b;
    let nic_mac = EthernetAddress(nic_mac);
    const IDENT: u16 = 0x7e57;
    let payload = |seq: u16| -> Vec<u8> {
        (0..64 + 97 * seq as usize)
            .map(|i| (i * 7 + seq as usize) as u8)
            .collect()
    };
    let start = Instant::now();
    let mut replies: Vec<(Ipv4Address, u16, u16, Vec<u8>)> = Vec::new();
    for seq in 0..10u16 {
        host.net
            .ping(linux_ip, IDENT, seq, &payload(seq), start.elapsed())
            .unwrap_or_else(|e| panic!("ping {seq}: {e:?}"));
        let sent = Instant::now();
        while !replies.iter().any(|r| r.2 == seq) {
            assert!(
                sent.elapsed() < Duration::from_secs(30),
                "no reply to echo request {seq} within 30 s; host stats {:?}",
                host.net.stats()
            );
            let polled = host.poll(&mut nic, start.elapsed(), |r| match r {
                Received::EchoReply {
                    from,
                    ident,
                    seq,
                    data,
                } => replies.push((from, ident, seq, data.to_vec())),
                other => panic!("unexpected delivery {other:?}"),
            });
            if polled.rx == 0 && polled.tx == 0 {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
    eprintln!(
        "10 echo requests to {linux_ip} answered in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let want: Vec<_> = (0..10).map(|s| (linux_ip, IDENT, s, payload(s))).collect();
    assert_eq!(replies, want, "echo replies delivered by the host layer");

    let st = host.net.stats();
    assert!(
        st.tx_arp_requests >= 1 && st.rx_arp_replies >= 1,
        "ARP for {linux_ip}: {st:?}"
    );
    assert_eq!(st.rx_echo_replies, 10, "{st:?}");
    assert_eq!(st.drop_unresolved, 0, "{st:?}");
    // Linux learned our address from our request.
    let neigh = ns
        .run(["ip", "neigh", "show", "dev", &tap, &nic_ip.to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        neigh.contains(&lladdr(nic_mac)),
        "Linux neighbour entry for {nic_ip}: {neigh:?}, want {nic_mac}"
    );
    // The wire carried exactly our 10 requests and Linux's 10 replies.
    let requests = echoes(&log, Dir::FromNic);
    let answers = echoes(&log, Dir::ToNic);
    assert_eq!(requests.len(), 10, "{requests:?}");
    assert_eq!(answers.len(), 10, "{answers:?}");
    for (q, r) in requests.iter().zip(&answers) {
        assert!(q.request && !r.request);
        assert_eq!((q.seq, &q.data), (r.seq, &r.data));
    }
    assert_eq!(nic.device().counter(Counter::TxFrames), st.tx_frames);
    drop(nic);
    let sim_stats = sim.stop();
    assert_eq!(sim_stats.violations, 0, "{sim_stats:?}");
    drop(ns);
}
