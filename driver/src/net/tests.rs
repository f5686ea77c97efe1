//! Packet-level tests: feed a frame, assert exactly what comes out.
use super::*;
use smoltcp::wire::{Icmpv4Message, Ipv4Address as Ip};

const US_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const US: Ip = Ip::new(10, 9, 0, 2);
const PEER: Ip = Ip::new(10, 9, 0, 1);
const T0: Duration = Duration::from_secs(100);

fn netif() -> NetIf {
    NetIf::new(NetConfig::new(US_MAC, US.octets(), 24))
}

fn eth(
    dst: EthernetAddress,
    src: EthernetAddress,
    ty: EthernetProtocol,
    payload: &[u8],
) -> Vec<u8> {
    let repr = EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype: ty,
    };
    let mut b = vec![0; 14 + payload.len()];
    let mut f = EthernetFrame::new_unchecked(&mut b[..]);
    repr.emit(&mut f);
    f.payload_mut().copy_from_slice(payload);
    b
}

fn arp(
    op: ArpOperation,
    sha: EthernetAddress,
    spa: Ip,
    tha: EthernetAddress,
    tpa: Ip,
    dst: EthernetAddress,
) -> Vec<u8> {
    let r = ArpRepr::EthernetIpv4 {
        operation: op,
        source_hardware_addr: sha,
        source_protocol_addr: spa,
        target_hardware_addr: tha,
        target_protocol_addr: tpa,
    };
    let mut p = vec![0; r.buffer_len()];
    r.emit(&mut ArpPacket::new_unchecked(&mut p[..]));
    eth(dst, sha, EthernetProtocol::Arp, &p)
}

fn ipv4(src: Ip, dst: Ip, proto: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let r = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len: payload.len(),
        hop_limit: 64,
    };
    let mut b = vec![0; 20 + payload.len()];
    let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
    r.emit(&mut p, &csum());
    p.payload_mut().copy_from_slice(payload);
    b
}

fn echo(req: bool, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let r = if req {
        Icmpv4Repr::EchoRequest {
            ident,
            seq_no: seq,
            data,
        }
    } else {
        Icmpv4Repr::EchoReply {
            ident,
            seq_no: seq,
            data,
        }
    };
    let mut b = vec![0; r.buffer_len()];
    r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]), &csum());
    b
}

fn us_mac() -> EthernetAddress {
    EthernetAddress(US_MAC)
}

#[test]
fn arp_request_for_us_is_answered_and_learned() {
    let mut n = netif();
    let f = arp(
        ArpOperation::Request,
        PEER_MAC,
        PEER,
        EthernetAddress([0; 6]),
        US,
        EthernetAddress::BROADCAST,
    );
    assert_eq!(n.receive(&f, T0), Received::Handled);
    let out = n.poll_transmit().expect("ARP reply");
    assert!(n.poll_transmit().is_none());
    let e = EthernetFrame::new_checked(&out[..]).unwrap();
    assert_eq!(e.dst_addr(), PEER_MAC);
    assert_eq!(e.ethertype(), EthernetProtocol::Arp);
    let r = ArpRepr::parse(&ArpPacket::new_checked(e.payload()).unwrap()).unwrap();
    assert_eq!(
        r,
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: us_mac(),
            source_protocol_addr: US,
            target_hardware_addr: PEER_MAC,
            target_protocol_addr: PEER,
        }
    );
    assert_eq!(n.arp().lookup(PEER, T0), Some(PEER_MAC));
    assert_eq!(n.stats().rx_arp_requests, 1);
}

#[test]
fn arp_request_for_another_host_is_ignored() {
    let mut n = netif();
    let f = arp(
        ArpOperation::Request,
        PEER_MAC,
        PEER,
        EthernetAddress([0; 6]),
        Ip::new(10, 9, 0, 77),
        EthernetAddress::BROADCAST,
    );
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    assert!(n.poll_transmit().is_none());
    // RFC 826: not a target, no existing entry: nothing learned.
    assert_eq!(n.arp().lookup(PEER, T0), None);
}

#[test]
fn echo_request_is_answered_with_the_same_payload() {
    let mut n = netif();
    let data: Vec<u8> = (0..56).collect();
    let f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Icmp, &echo(true, 0x1234, 7, &data)),
    );
    assert_eq!(n.receive(&f, T0), Received::Handled);
    // The sender was learned from the request: no ARP round trip.
    let out = n.poll_transmit().expect("echo reply");
    assert!(n.poll_transmit().is_none());
    let e = EthernetFrame::new_checked(&out[..]).unwrap();
    assert_eq!(e.dst_addr(), PEER_MAC);
    let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (US, PEER));
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!(icmp.msg_type(), Icmpv4Message::EchoReply);
    assert_eq!((icmp.echo_ident(), icmp.echo_seq_no()), (0x1234, 7));
    assert_eq!(icmp.data(), &data[..]);
    assert_eq!(n.stats().tx_echo_replies, 1);
}

#[test]
fn bad_checksums_and_garbage_are_counted_drops() {
    let mut n = netif();
    let mut icmp = echo(true, 1, 1, b"abc");
    icmp[2] ^= 0xff;
    let f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Icmp, &icmp),
    );
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    let mut ip = ipv4(PEER, US, IpProtocol::Icmp, &echo(true, 1, 1, b"abc"));
    ip[10] ^= 0xff;
    let f = eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, &ip);
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    assert_eq!(n.stats().drop_bad_checksum, 2);
    // Truncated frames, a bad IP version, a length beyond the frame.
    assert_eq!(n.receive(&[0u8; 10], T0), Received::Dropped);
    let mut ip = ipv4(PEER, US, IpProtocol::Tcp, &[0; 20]);
    ip[0] = 0x65;
    assert_eq!(
        n.receive(&eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, &ip), T0),
        Received::Dropped
    );
    let mut ip = ipv4(PEER, US, IpProtocol::Tcp, &[0; 20]);
    ip[2..4].copy_from_slice(&1000u16.to_be_bytes());
    assert_eq!(
        n.receive(&eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, &ip), T0),
        Received::Dropped
    );
    assert_eq!(n.stats().drop_malformed, 3);
    assert!(n.poll_transmit().is_none());
}

#[test]
fn other_hosts_and_protocols_are_not_ours() {
    let mut n = netif();
    let other = EthernetAddress([2, 0, 0, 0, 0, 9]);
    let f = eth(
        other,
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Icmp, &echo(true, 1, 1, b"")),
    );
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    let f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(
            PEER,
            Ip::new(10, 9, 0, 3),
            IpProtocol::Icmp,
            &echo(true, 1, 1, b""),
        ),
    );
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    assert_eq!(n.stats().drop_not_for_us, 2);
    let f = eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv6, &[0; 40]);
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    assert_eq!(n.stats().drop_unsupported, 1);
    // Upper-layer protocols are delivered.
    let f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Tcp, &[7; 20]),
    );
    match n.receive(&f, T0) {
        Received::Ipv4 {
            src,
            protocol,
            payload,
            ..
        } => {
            assert_eq!(
                (src, protocol, payload),
                (PEER, IpProtocol::Tcp, &[7u8; 20][..])
            );
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn fragments_are_dropped() {
    let mut n = netif();
    let mut ip = ipv4(PEER, US, IpProtocol::Icmp, &echo(true, 1, 1, b"abcd"));
    {
        let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
        p.set_more_frags(true);
        p.fill_checksum();
    }
    assert_eq!(
        n.receive(&eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, &ip), T0),
        Received::Dropped
    );
    assert_eq!(n.stats().drop_fragment, 1);
}

#[test]
fn ping_resolves_then_sends_and_times_out_without_answer() {
    let mut n = netif();
    n.ping(PEER, 9, 1, b"hi", T0).unwrap();
    // Only the ARP request goes out; the echo waits.
    let req = n.poll_transmit().unwrap();
    assert!(n.poll_transmit().is_none());
    let e = EthernetFrame::new_checked(&req[..]).unwrap();
    assert!(e.dst_addr().is_broadcast());
    // Answer it: the echo request follows.
    let rep = arp(ArpOperation::Reply, PEER_MAC, PEER, us_mac(), US, us_mac());
    assert_eq!(n.receive(&rep, T0), Received::Handled);
    let f = n.poll_transmit().expect("echo request after resolution");
    let e = EthernetFrame::new_checked(&f[..]).unwrap();
    assert_eq!(e.dst_addr(), PEER_MAC);
    // The reply comes back to us.
    let back = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Icmp, &echo(false, 9, 1, b"hi")),
    );
    assert_eq!(
        n.receive(&back, T0),
        Received::EchoReply {
            from: PEER,
            ident: 9,
            seq: 1,
            data: b"hi"
        }
    );
    // A host that never answers: retried once a second, dropped after 3 s.
    let ghost = Ip::new(10, 9, 0, 50);
    n.ping(ghost, 9, 2, b"", T0).unwrap();
    assert!(n.poll_transmit().is_some());
    n.poll(T0 + Duration::from_millis(500));
    assert!(n.poll_transmit().is_none());
    n.poll(T0 + Duration::from_secs(1));
    assert!(n.poll_transmit().is_some(), "ARP request repeated");
    n.poll(T0 + Duration::from_secs(3));
    assert_eq!(n.stats().drop_unresolved, 1);
}

#[test]
fn queues_are_bounded_with_backpressure() {
    let mut cfg = NetConfig::new(US_MAC, US.octets(), 24);
    cfg.pending_capacity = 2;
    cfg.tx_capacity = 3;
    let mut n = NetIf::new(cfg);
    let ghost = Ip::new(10, 9, 0, 50);
    assert!(n.ping(ghost, 1, 1, b"", T0).is_ok());
    assert!(n.ping(ghost, 1, 2, b"", T0).is_ok());
    assert_eq!(n.ping(ghost, 1, 3, b"", T0), Err(SendError::WouldBlock));
    assert_eq!(
        n.ping(Ip::new(192, 168, 1, 1), 1, 1, b"", T0),
        Err(SendError::NoRoute)
    );
    assert_eq!(n.ping(PEER, 1, 1, &[0; 1500], T0), Err(SendError::TooBig));
    // A flood of echo requests from resolved peers cannot grow the TX
    // queue beyond its bound: the excess is counted.
    for i in 0..10u16 {
        let f = eth(
            us_mac(),
            PEER_MAC,
            EthernetProtocol::Ipv4,
            &ipv4(PEER, US, IpProtocol::Icmp, &echo(true, 1, i, b"x")),
        );
        n.receive(&f, T0);
    }
    assert!(n.tx_queued() <= 3);
    assert!(n.stats().drop_tx_full > 0);
}

#[test]
fn broadcast_echo_is_not_answered() {
    let mut n = netif();
    let f = eth(
        EthernetAddress::BROADCAST,
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(
            PEER,
            Ip::new(10, 9, 0, 255),
            IpProtocol::Icmp,
            &echo(true, 1, 1, b""),
        ),
    );
    assert_eq!(n.receive(&f, T0), Received::Handled);
    assert!(n.poll_transmit().is_none());
}

/// With checksum offload on, IPv4 packets leave with the header checksum
/// field zero and ask the NIC to insert it (and TCP's, for TCP); received
/// frames are trusted only for what the NIC says it verified.
#[test]
fn checksum_offload_leaves_sums_to_the_nic_and_trusts_only_its_verdicts() {
    use toe_contract::desc::{TXF_CSUM_IP, TXF_CSUM_TCP};
    let mut cfg = NetConfig::new(US_MAC, US.octets(), 24);
    cfg.checksum_offload = true;
    let mut n = NetIf::new(cfg);
    n.learn(PEER, PEER_MAC, T0);
    n.send_ipv4(PEER, IpProtocol::Tcp, &[0u8; 20], T0).unwrap();
    n.send_ipv4(PEER, IpProtocol::Udp, &[0u8; 8], T0).unwrap();
    let tcp = n.poll_transmit().unwrap();
    let udp = n.poll_transmit().unwrap();
    assert_eq!(tcp.tx_flags, TXF_CSUM_IP | TXF_CSUM_TCP);
    assert_eq!(udp.tx_flags, TXF_CSUM_IP);
    let ip = Ipv4Packet::new_checked(&tcp[14..]).unwrap();
    assert_eq!(ip.checksum(), 0, "left to the NIC");
    // A frame with a broken IPv4 checksum: dropped unless the NIC verified
    // it (then the NIC's verdict stands: it summed the bytes it received).
    let mut f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Tcp, &[0u8; 20]),
    );
    f[24] ^= 0xff;
    assert_eq!(n.receive(&f, T0), Received::Dropped);
    let checks = RxChecks {
        ip_ok: true,
        l4_ok: true,
    };
    match n.receive_checked(&f, T0, checks) {
        Received::Ipv4 { l4_verified, .. } => assert!(l4_verified),
        other => panic!("{other:?}"),
    }
    // Without offload, the NIC's verdicts are not used.
    let mut plain = netif();
    assert_eq!(plain.receive_checked(&f, T0, checks), Received::Dropped);
    plain.learn(PEER, PEER_MAC, T0);
    plain
        .send_ipv4(PEER, IpProtocol::Tcp, &[0u8; 20], T0)
        .unwrap();
    let out = plain.poll_transmit().unwrap();
    assert_eq!(out.tx_flags, 0);
    assert!(Ipv4Packet::new_checked(&out[14..])
        .unwrap()
        .verify_checksum());
}

/// A TCP SYN (20-byte header, checksum not filled: the layer does not look
/// at it) from `src` to `dst`.
fn tcp_syn() -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&40000u16.to_be_bytes());
    t[2..4].copy_from_slice(&80u16.to_be_bytes());
    t[4..8].copy_from_slice(&1234u32.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = 0x02;
    t[14..16].copy_from_slice(&65535u16.to_be_bytes());
    t
}

/// RFC 1122 3.2.1.3 and 4.2.3.10, RFC 1812 5.3.7: TCP segments not for
/// our unicast address (broadcast, multicast, another host), in a
/// broadcast or multicast Ethernet frame, or from a source no host can
/// have (broadcast, multicast, 0/8, 127/8, 240/4, or our own address: a
/// LAND attack) are dropped and counted, never handed to TCP (which would
/// answer them with a SYN-ACK or an RST).
#[test]
fn martian_tcp_segments_are_dropped_and_counted() {
    let bcast_mac = EthernetAddress::BROADCAST;
    let mcast_mac = EthernetAddress([0x01, 0x00, 0x5e, 0, 0, 1]);
    let cases: Vec<(&str, EthernetAddress, Ip, Ip)> = vec![
        ("subnet broadcast", us_mac(), PEER, Ip::new(10, 9, 0, 255)),
        (
            "limited broadcast",
            us_mac(),
            PEER,
            Ip::new(255, 255, 255, 255),
        ),
        ("multicast", us_mac(), PEER, Ip::new(224, 0, 0, 1)),
        ("another host", us_mac(), PEER, Ip::new(10, 9, 0, 77)),
        ("broadcast MAC", bcast_mac, PEER, US),
        ("multicast MAC", mcast_mac, PEER, US),
        ("LAND", us_mac(), US, US),
        (
            "source broadcast",
            us_mac(),
            Ip::new(255, 255, 255, 255),
            US,
        ),
        (
            "source subnet broadcast",
            us_mac(),
            Ip::new(10, 9, 0, 255),
            US,
        ),
        ("source multicast", us_mac(), Ip::new(239, 1, 2, 3), US),
        ("source this network", us_mac(), Ip::new(0, 0, 0, 0), US),
        ("source 0/8", us_mac(), Ip::new(0, 1, 2, 3), US),
        ("source loopback", us_mac(), Ip::new(127, 0, 0, 1), US),
        ("source class E", us_mac(), Ip::new(240, 0, 0, 9), US),
    ];
    let mut n = netif();
    for (i, (what, mac, src, dst)) in cases.iter().enumerate() {
        let f = eth(
            *mac,
            PEER_MAC,
            EthernetProtocol::Ipv4,
            &ipv4(*src, *dst, IpProtocol::Tcp, &tcp_syn()),
        );
        assert_eq!(n.receive(&f, T0), Received::Dropped, "{what}");
        assert!(n.poll_transmit().is_none(), "{what}");
        let s = n.stats();
        assert_eq!(s.rx_martian + s.drop_not_for_us, i as u64 + 1, "{what}");
    }
    assert_eq!(n.stats().rx_delivered, 0);
    // "Another host" and the multicast MAC (no group joined) are
    // not-for-us; the rest are martians.
    assert_eq!(n.stats().drop_not_for_us, 2);
    assert_eq!(n.stats().rx_martian, cases.len() as u64 - 2);
    // The same SYN from a real peer to our unicast address is delivered.
    let f = eth(
        us_mac(),
        PEER_MAC,
        EthernetProtocol::Ipv4,
        &ipv4(PEER, US, IpProtocol::Tcp, &tcp_syn()),
    );
    assert!(matches!(n.receive(&f, T0), Received::Ipv4 { .. }));
}

/// A queue pair in memory for [`Host`]: buffers in a map, sent frames in
/// order, and a count of frames written in place ([`QueueIo::fill`]).
#[derive(Default)]
struct MemQueue {
    bufs: std::cell::RefCell<std::collections::HashMap<u32, Vec<u8>>>,
    next: u32,
    fills: std::cell::Cell<usize>,
    sent: Vec<Vec<u8>>,
}

impl crate::nic::QueueIo for MemQueue {
    fn index(&self) -> u32 {
        0
    }
    fn rx_burst(&mut self, _: &mut Vec<crate::nic::Packet>, _: usize) -> usize {
        0
    }
    fn rx_ready(&self) -> bool {
        false
    }
    fn alloc(&mut self) -> Option<crate::nic::Packet> {
        self.next += 1;
        self.bufs.get_mut().insert(self.next, Vec::new());
        Some(crate::nic::Packet::for_test(
            self.next,
            0,
            0,
            Default::default(),
        ))
    }
    fn free(&mut self, p: crate::nic::Packet) {
        self.bufs.get_mut().remove(&p.test_buf());
    }
    fn read(&self, p: &crate::nic::Packet, at: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&self.bufs.borrow()[&p.test_buf()][at..at + dst.len()]);
    }
    fn write(&self, p: &mut crate::nic::Packet, at: usize, src: &[u8]) {
        let mut bufs = self.bufs.borrow_mut();
        let b = bufs.get_mut(&p.test_buf()).unwrap();
        b.resize(b.len().max(at + src.len()), 0);
        b[at..at + src.len()].copy_from_slice(src);
        p.len = p.len.max(at + src.len());
    }
    fn fill(&self, p: &mut crate::nic::Packet, len: usize, f: &mut dyn FnMut(&mut [u8])) {
        self.fills.set(self.fills.get() + 1);
        let mut bufs = self.bufs.borrow_mut();
        let b = bufs.get_mut(&p.test_buf()).unwrap();
        b.clear();
        b.resize(len, 0);
        f(b);
        p.len = len;
    }
    fn tx_burst(&mut self, pkts: &mut Vec<crate::nic::Packet>) -> usize {
        let n = pkts.len();
        for p in pkts.drain(..) {
            let mut b = self.bufs.get_mut().remove(&p.test_buf()).unwrap();
            b.truncate(p.len);
            self.sent.push(b);
        }
        n
    }
    fn buf_size(&self) -> usize {
        2048
    }
}

fn udp_to_peer(host: &mut Host, q: &mut MemQueue, byte: u8) -> Result<(), SendError> {
    host.send_ipv4_on(q, PEER, IpProtocol::Udp, 8, T0, |b| b.fill(byte))
}

/// With the next hop resolved and nothing queued, a frame is built in a
/// TX buffer (one `fill`, nothing in the network layer's queue), byte for
/// byte the frame the queued path builds.
#[test]
fn frames_are_built_in_place_in_tx_buffers() {
    let mut host = Host::new(netif());
    host.net.learn(PEER, PEER_MAC, T0);
    let mut q = MemQueue::default();
    udp_to_peer(&mut host, &mut q, 0xab).unwrap();
    assert_eq!(q.fills.get(), 1);
    assert_eq!(host.net.tx_queued(), 0);
    assert_eq!(host.tx_pending(), 1);
    assert_eq!(host.net.stats().tx_frames, 1);
    assert_eq!(host.flush_on(&mut q), 1);

    let mut queued = netif();
    queued.learn(PEER, PEER_MAC, T0);
    queued
        .send_ipv4_with(PEER, IpProtocol::Udp, 8, T0, |b| b.fill(0xab))
        .unwrap();
    assert_eq!(q.sent, vec![queued.poll_transmit().unwrap().bytes]);
}

/// A frame waiting in the network layer's queue (the TX ring was full)
/// keeps its place: later frames queue behind it instead of jumping ahead
/// in TX buffers.
#[test]
fn frames_built_in_place_never_overtake_queued_ones() {
    let mut host = Host::new(netif());
    host.net.learn(PEER, PEER_MAC, T0);
    let mut q = MemQueue::default();
    host.net
        .send_ipv4_with(PEER, IpProtocol::Udp, 8, T0, |b| b.fill(1))
        .unwrap();
    udp_to_peer(&mut host, &mut q, 2).unwrap();
    assert_eq!(q.fills.get(), 0, "built in place ahead of a queued frame");
    assert_eq!(host.flush_on(&mut q), 2);
    let last: Vec<u8> = q.sent.iter().map(|f| f[f.len() - 1]).collect();
    assert_eq!(last, vec![1, 2]);
}

/// An unresolved next hop: the packet waits for ARP, no TX buffer is
/// taken, and the ARP request goes out.
#[test]
fn unresolved_frames_wait_for_arp_without_a_tx_buffer() {
    let mut host = Host::new(netif());
    let mut q = MemQueue::default();
    udp_to_peer(&mut host, &mut q, 3).unwrap();
    assert_eq!(q.fills.get(), 0);
    assert_eq!(host.flush_on(&mut q), 1);
    assert_eq!(
        EthernetFrame::new_checked(&q.sent[0][..])
            .unwrap()
            .ethertype(),
        EthernetProtocol::Arp
    );
    assert_eq!(host.net.unresolved(), vec![PEER]);
}

/// The Ethernet and IPv4 headers written in place are the bytes smoltcp's
/// `EthernetRepr` and `Ipv4Repr` wrote (with the identification and DF
/// set afterwards, as the layer did), with and without the checksum.
#[test]
fn frames_are_written_as_smoltcp_wrote_them() {
    use proptest::prelude::*;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    let gen = (
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..100),
    );
    runner
        .run(
            &gen,
            |(sm, dm, src, dst, ttl, proto, ident, offload, payload)| {
                let repr = Ipv4Repr {
                    src_addr: Ip::from(src),
                    dst_addr: Ip::from(dst),
                    next_header: IpProtocol::from(proto),
                    payload_len: payload.len(),
                    hop_limit: ttl,
                };
                let f = Ipv4Frame {
                    src_mac: EthernetAddress(sm),
                    dst_mac: EthernetAddress(dm),
                    repr,
                    ident,
                    offload,
                    tx_flags: 0,
                };
                let mut ours = vec![0xa5; f.len()];
                f.emit(&mut ours, |b| b.copy_from_slice(&payload));
                // The reference: smoltcp's representations.
                let mut theirs = vec![0x5a; f.len()];
                let mut e = EthernetFrame::new_unchecked(&mut theirs[..]);
                EthernetRepr {
                    src_addr: EthernetAddress(sm),
                    dst_addr: EthernetAddress(dm),
                    ethertype: EthernetProtocol::Ipv4,
                }
                .emit(&mut e);
                let mut p = Ipv4Packet::new_unchecked(e.payload_mut());
                let caps = if offload {
                    ChecksumCapabilities::ignored()
                } else {
                    csum()
                };
                repr.emit(&mut p, &caps);
                p.set_ident(ident);
                p.set_dont_frag(true);
                if offload {
                    p.set_checksum(0);
                } else {
                    p.fill_checksum();
                }
                p.payload_mut().copy_from_slice(&payload);
                prop_assert_eq!(ours, theirs);
                Ok(())
            },
        )
        .unwrap();
}

/// Malformed IPv4 headers are dropped as smoltcp's checked packet dropped
/// them (buffer shorter than the header or the total length, a header
/// longer than the total length, a version other than 4), and a packet
/// that passes is delivered with the bytes between its header and total
/// length (padding after it ignored).
#[test]
fn ipv4_length_checks_are_smoltcps() {
    let seg = [0x11u8; 24];
    let good = ipv4(PEER, US, IpProtocol::Tcp, &seg);
    let mut n = netif();
    // Ethernet padding after the packet is not payload.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 6]);
    match n.receive(
        &eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, &padded),
        T0,
    ) {
        Received::Ipv4 { payload, src, .. } => {
            assert_eq!(payload, &seg[..]);
            assert_eq!(src, PEER);
        }
        r => panic!("{r:?}"),
    }
    let mut cases: Vec<Vec<u8>> = vec![good[..19].to_vec(), good[..30].to_vec()];
    let mut long_header = good.clone();
    long_header[0] = 0x4f; // 60-byte header in a 44-byte packet
    cases.push(long_header);
    let mut v6 = good.clone();
    v6[0] = 0x65;
    cases.push(v6);
    for (i, c) in cases.iter().enumerate() {
        let smol_rejects = Ipv4Packet::new_checked(&c[..]).map_or(true, |p| p.version() != 4);
        assert!(smol_rejects, "case {i}");
        let before = n.stats().drop_malformed;
        let f = eth(us_mac(), PEER_MAC, EthernetProtocol::Ipv4, c);
        let r = n.receive(&f, T0);
        assert!(matches!(r, Received::Dropped), "case {i}: {r:?}");
        assert_eq!(n.stats().drop_malformed, before + 1, "case {i}");
    }
    // A frame shorter than an Ethernet header.
    let before = n.stats().drop_malformed;
    assert!(matches!(n.receive(&[0u8; 13], T0), Received::Dropped));
    assert_eq!(n.stats().drop_malformed, before + 1);
}
