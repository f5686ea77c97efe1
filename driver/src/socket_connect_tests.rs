//! The socket layer's side of active opens by the NIC, on a queue double:
//! frames in with their completion kind, frames out, and the setup
//! block's registers (a register file that plays the command register:
//! START sets the slot's pending bit, ABORT clears it).
use super::*;
use crate::backend::Registers;
use crate::nic::Packet;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, EthernetRepr, IpAddress,
    Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr,
};
use std::cell::RefCell;
use toe_contract::desc::{Completion, KIND_RX};
use toe_contract::regs as r;
use toe_contract::setup as s;

const US: [u8; 4] = [10, 0, 0, 1];
const PEER: [u8; 4] = [10, 0, 0, 2];
const US_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const T0: Duration = Duration::from_secs(50);
const PEER_ISN: u32 = 0x3000_0000;
const SB: u32 = r::SETUP_BASE;

#[derive(Default)]
struct FakeRegs {
    m: RefCell<HashMap<u32, u32>>,
    log: RefCell<Vec<(u32, u32)>>,
}

impl FakeRegs {
    fn set(&self, off: u32, v: u32) {
        self.m.borrow_mut().insert(off, v);
    }
    fn writes(&self) -> Vec<(u32, u32)> {
        std::mem::take(&mut *self.log.borrow_mut())
    }
}

impl Registers for FakeRegs {
    fn read32(&self, off: u32) -> u32 {
        *self.m.borrow().get(&off).unwrap_or(&0)
    }
    fn write32(&self, off: u32, val: u32) {
        self.log.borrow_mut().push((off, val));
        let mut m = self.m.borrow_mut();
        if off == SB + r::SETUP_CONN_CMD {
            let bit = 1 << (val & 0xF);
            let p = m.entry(SB + r::SETUP_CONN_PENDING).or_insert(0);
            if val & r::CONN_CMD_START != 0 {
                *p |= bit;
            } else {
                *p &= !bit;
            }
            *m.entry(SB + r::SETUP_CONN_TIMEDOUT).or_insert(0) &= !bit;
        } else {
            m.insert(off, val);
        }
    }
}

/// Queue 0 of a one-queue NIC without RSS.  Buffers sit behind a
/// RefCell, as `QueueIo::write` takes `&self`.
#[derive(Default)]
struct Q {
    rx: VecDeque<(Vec<u8>, Completion)>,
    bufs: RefCell<HashMap<u32, Vec<u8>>>,
    next: u32,
    tx: Vec<Vec<u8>>,
    regs: Option<FakeRegs>,
}

impl QueueIo for Q {
    fn index(&self) -> u32 {
        0
    }
    fn rx_burst(&mut self, out: &mut Vec<Packet>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some((f, cpl)) = self.rx.pop_front() else {
                break;
            };
            let len = f.len();
            let id = self.buf(f);
            out.push(Packet::for_test(id, 0, len, cpl));
            n += 1;
        }
        n
    }
    fn rx_ready(&self) -> bool {
        !self.rx.is_empty()
    }
    fn alloc(&mut self) -> Option<Packet> {
        let id = self.buf(Vec::new());
        Some(Packet::for_test(id, 0, 0, Completion::default()))
    }
    fn free(&mut self, p: Packet) {
        self.bufs.get_mut().remove(&p.test_buf());
    }
    fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&self.bufs.borrow()[&p.test_buf()][at..at + dst.len()]);
    }
    fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        let mut bufs = self.bufs.borrow_mut();
        let b = bufs.get_mut(&p.test_buf()).unwrap();
        if b.len() < at + src.len() {
            b.resize(at + src.len(), 0);
        }
        b[at..at + src.len()].copy_from_slice(src);
        p.len = p.len.max(at + src.len());
    }
    fn tx_burst(&mut self, pkts: &mut Vec<Packet>) -> usize {
        let n = pkts.len();
        for p in pkts.drain(..) {
            let mut b = self.bufs.get_mut().remove(&p.test_buf()).unwrap();
            b.truncate(p.len);
            self.tx.push(b);
        }
        n
    }
    fn buf_size(&self) -> usize {
        2048
    }
    fn registers(&self) -> Option<&dyn Registers> {
        self.regs.as_ref().map(|r| r as &dyn Registers)
    }
}

impl Q {
    fn new(regs: bool) -> Q {
        Q {
            regs: regs.then(FakeRegs::default),
            ..Q::default()
        }
    }
    fn buf(&mut self, bytes: Vec<u8>) -> u32 {
        self.next += 1;
        self.bufs.get_mut().insert(self.next, bytes);
        self.next
    }
    fn regs(&self) -> &FakeRegs {
        self.regs.as_ref().unwrap()
    }
    fn push(&mut self, frame: Vec<u8>, kind: u8) {
        let cpl = Completion {
            kind,
            ..Completion::default()
        };
        self.rx.push_back((frame, cpl));
    }
    /// Frames sent since the last call: "arp", or the TCP segment's
    /// "syn"/"rst"/"ack" with (seq, ack, payload length).
    fn sent(&mut self) -> Vec<(String, u32, u32, usize)> {
        std::mem::take(&mut self.tx)
            .iter()
            .map(|f| {
                let e = EthernetFrame::new_checked(&f[..]).unwrap();
                if e.ethertype() == EthernetProtocol::Arp {
                    return ("arp".to_string(), 0, 0, 0);
                }
                let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
                let t = TcpPacket::new_checked(ip.payload()).unwrap();
                let ctl = if t.syn() {
                    "syn"
                } else if t.rst() {
                    "rst"
                } else {
                    "ack"
                };
                (
                    ctl.to_string(),
                    t.seq_number().0 as u32,
                    t.ack_number().0 as u32,
                    t.payload().len(),
                )
            })
            .collect()
    }
}

fn endpoint(nic: Option<NicConnector>) -> Endpoint {
    let mut cfg = EndpointConfig::new(0, NetConfig::new(US_MAC, US, 24));
    cfg.nic_connect = nic;
    Endpoint::build(cfg, 1, None).unwrap()
}

fn connector() -> NicConnector {
    NicConnector::for_test(1000, 6, Duration::from_millis(1))
}

fn frame(tcp: &TcpRepr) -> Vec<u8> {
    let ip = Ipv4Repr {
        src_addr: PEER.into(),
        dst_addr: US.into(),
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(PEER_MAC),
        dst_addr: EthernetAddress(US_MAC),
        ethertype: EthernetProtocol::Ipv4,
    };
    let mut b = vec![0u8; eth.buffer_len() + ip.buffer_len() + tcp.buffer_len()];
    let mut e = EthernetFrame::new_unchecked(&mut b[..]);
    eth.emit(&mut e);
    let mut p = Ipv4Packet::new_unchecked(e.payload_mut());
    ip.emit(&mut p, &ChecksumCapabilities::default());
    tcp.emit(
        &mut TcpPacket::new_unchecked(p.payload_mut()),
        &IpAddress::Ipv4(PEER.into()),
        &IpAddress::Ipv4(US.into()),
        &ChecksumCapabilities::default(),
    );
    b
}

fn arp_reply() -> Vec<u8> {
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Reply,
        source_hardware_addr: EthernetAddress(PEER_MAC),
        source_protocol_addr: PEER.into(),
        target_hardware_addr: EthernetAddress(US_MAC),
        target_protocol_addr: US.into(),
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(PEER_MAC),
        dst_addr: EthernetAddress(US_MAC),
        ethertype: EthernetProtocol::Arp,
    };
    let mut b = vec![0u8; eth.buffer_len() + arp.buffer_len()];
    let mut e = EthernetFrame::new_unchecked(&mut b[..]);
    eth.emit(&mut e);
    arp.emit(&mut ArpPacket::new_unchecked(e.payload_mut()));
    b
}

/// The peer's answer to our SYN (`control` Syn: a SYN-ACK; Rst: an RST).
fn answer(port: u16, control: TcpControl, isn: u32, payload: &[u8]) -> Vec<u8> {
    let syn = control == TcpControl::Syn;
    frame(&TcpRepr {
        src_port: 80,
        dst_port: port,
        control,
        seq_number: TcpSeqNumber(if syn { PEER_ISN as i32 } else { 0 }),
        ack_number: Some(TcpSeqNumber(isn.wrapping_add(1) as i32)),
        window_len: if syn { 29200 } else { 0 },
        window_scale: syn.then_some(7),
        max_seg_size: syn.then_some(1460),
        sack_permitted: syn,
        sack_ranges: [None, None, None],
        timestamp: syn.then(|| TcpTimestampRepr::new(1234, 0)),
        payload,
    })
}

fn poll(ep: &mut Endpoint, q: &mut Q, now: Duration) -> Vec<Event> {
    let mut ev = Vec::new();
    ep.poll_queue(q, now, &mut ev);
    ev
}

/// An offloaded connect taken as far as the NIC's START; returns the
/// socket, its local port and the record the NIC got.
fn issued(ep: &mut Endpoint, q: &mut Q, now: Duration) -> (SocketId, u16, s::CtlRecord) {
    let sock = ep
        .connect_with((PEER.into(), 80), now, ConnectOptions { nic: true })
        .unwrap();
    poll(ep, q, now);
    assert_eq!(
        q.sent(),
        vec![("arp".to_string(), 0, 0, 0)],
        "resolve first"
    );
    assert!(
        q.regs().writes().is_empty(),
        "nothing staged before the MAC is known"
    );
    q.push(arp_reply(), KIND_RX);
    poll(ep, q, now + Duration::from_millis(1));
    assert!(q.sent().is_empty(), "no SYN from the host");
    let w = q.regs().writes();
    assert_eq!(w.len(), 14, "{w:x?}");
    let words: [u32; 12] = core::array::from_fn(|i| {
        assert_eq!(w[i].0, SB + r::SETUP_CONN_REC + 4 * i as u32);
        w[i].1
    });
    let rec = s::CtlRecord::from_words(&words);
    assert_eq!(w[12].0, SB + r::SETUP_CONN_ACK_WIN);
    assert_eq!(
        w[13],
        (
            SB + r::SETUP_CONN_CMD,
            r::CONN_CMD_START | s::connect_slot(rec.src.1) as u32
        )
    );
    assert_eq!((rec.dst_mac, rec.src_mac), (PEER_MAC, US_MAC));
    assert_eq!((rec.src.0, rec.dst), (US, (PEER, 80)));
    assert_eq!(rec.flags, s::TCP_SYN);
    assert_eq!(ep.tcp_stats().nic_connect_requested, 1);
    (sock, rec.src.1, rec)
}

fn has(ev: &[Event], s: SocketId, r: Ready) -> bool {
    ev.iter().any(|e| e.socket == s && e.ready.contains(r))
}

#[test]
fn a_connected_report_makes_the_socket_writable_without_a_host_ack() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    let (sock, port, rec) = issued(&mut ep, &mut q, T0);
    assert_eq!(nic.slots().claimed(), 1 << s::connect_slot(port));
    let t = T0 + Duration::from_millis(5);
    q.push(
        answer(port, TcpControl::Syn, rec.seq, b""),
        s::KIND_CONNECTED,
    );
    let ev = poll(&mut ep, &mut q, t);
    assert!(has(&ev, sock, Ready::WRITABLE), "{ev:?}");
    assert!(q.sent().is_empty(), "the NIC sent the handshake ACK");
    assert_eq!(ep.tcp_stats().nic_connect_established, 1);
    assert_eq!(nic.slots().claimed(), 0);
    assert_eq!(ep.write(sock, b"hello").unwrap(), 5);
    poll(&mut ep, &mut q, t);
    assert_eq!(
        q.sent(),
        vec![("ack".to_string(), rec.seq.wrapping_add(1), PEER_ISN + 1, 5)]
    );
    assert!(q.regs().writes().is_empty(), "nothing more for the NIC");
}

#[test]
fn a_refused_report_is_econnrefused() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    let (sock, port, rec) = issued(&mut ep, &mut q, T0);
    q.push(
        answer(port, TcpControl::Rst, rec.seq, b""),
        s::KIND_CONNECT_REFUSED,
    );
    let ev = poll(&mut ep, &mut q, T0 + Duration::from_millis(2));
    assert!(has(&ev, sock, Ready::ERROR), "{ev:?}");
    assert_eq!(ep.error(sock), Some(SockError::Refused));
    assert_eq!(ep.read(sock, &mut [0u8; 4]), Err(SockError::Refused));
    assert!(q.sent().is_empty());
    assert_eq!(nic.slots().claimed(), 0);
}

#[test]
fn the_timeout_check_reads_the_nic_and_reports_etimedout() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    let t1 = T0 + Duration::from_millis(1);
    let (sock, port, _) = issued(&mut ep, &mut q, T0);
    let slot = s::connect_slot(port);
    // 127 s at 1 ms ticks, plus the margin.
    let deadline = ep.poll_at().unwrap();
    let p = NicConnectParams::from_connector(&nic);
    assert_eq!(deadline, t1 + p.give_up + p.margin());
    assert_eq!(p.give_up, Duration::from_secs(127));
    // Still pending at the deadline (the fake's START set the bit).
    let ev = poll(&mut ep, &mut q, deadline);
    assert!(!has(&ev, sock, Ready::ERROR));
    assert_eq!(ep.error(sock), None);
    // The NIC gives up.
    q.regs().set(SB + r::SETUP_CONN_PENDING, 0);
    q.regs().set(SB + r::SETUP_CONN_TIMEDOUT, 1 << slot);
    let again = ep.poll_at().unwrap();
    assert_eq!(again, deadline + p.recheck());
    let ev = poll(&mut ep, &mut q, again);
    assert!(has(&ev, sock, Ready::ERROR), "{ev:?}");
    assert_eq!(ep.error(sock), Some(SockError::TimedOut));
    assert!(q.sent().is_empty(), "no SYN, no RST");
    assert!(
        q.regs().writes().is_empty(),
        "a timed-out slot needs no abort"
    );
    assert_eq!(nic.slots().claimed(), 0);
    assert_eq!(ep.tcp_stats().nic_connect_timed_out, 1);
}

#[test]
fn closing_a_pending_connect_aborts_it_in_the_nic_then_frees_the_slot() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    let (sock, port, rec) = issued(&mut ep, &mut q, T0);
    ep.close(sock).unwrap();
    poll(&mut ep, &mut q, T0 + Duration::from_millis(2));
    let slot = s::connect_slot(port) as u32;
    assert_eq!(
        q.regs().writes(),
        vec![(SB + r::SETUP_CONN_CMD, r::CONN_CMD_ABORT | slot)]
    );
    assert_eq!(nic.slots().claimed(), 0);
    assert_eq!(ep.tcp_stats().nic_connect_aborted, 1);
    // The NIC's answer was already on its way: the peer gets an RST.
    q.push(
        answer(port, TcpControl::Syn, rec.seq, b""),
        s::KIND_CONNECTED,
    );
    poll(&mut ep, &mut q, T0 + Duration::from_millis(3));
    assert_eq!(
        q.sent(),
        vec![("rst".to_string(), rec.seq.wrapping_add(1), 0, 0)]
    );
}

#[test]
fn without_a_register_path_the_connect_runs_the_software_handshake() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(false);
    let sock = ep
        .connect_with((PEER.into(), 80), T0, ConnectOptions { nic: true })
        .unwrap();
    poll(&mut ep, &mut q, T0);
    assert_eq!(ep.tcp_stats().nic_connect_fallback, 1);
    assert_eq!(nic.slots().claimed(), 0);
    // Our own SYN, once ARP has answered.
    q.push(arp_reply(), KIND_RX);
    poll(&mut ep, &mut q, T0 + Duration::from_millis(1));
    let out = q.sent();
    assert!(out.iter().any(|o| o.0 == "syn"), "{out:?}");
    assert!(ep.peer(sock).is_ok());
}

#[test]
fn a_next_hop_that_never_resolves_falls_back_after_the_arp_timeout() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    ep.connect_with((PEER.into(), 80), T0, ConnectOptions { nic: true })
        .unwrap();
    poll(&mut ep, &mut q, T0);
    let timeout = NetConfig::new(US_MAC, US, 24).pending_timeout;
    assert_eq!(ep.poll_at(), Some(T0 + timeout));
    poll(&mut ep, &mut q, T0 + timeout - Duration::from_millis(1));
    assert_eq!(nic.slots().claimed().count_ones(), 1, "still waiting");
    poll(&mut ep, &mut q, T0 + timeout);
    assert_eq!(ep.tcp_stats().nic_connect_fallback, 1);
    assert_eq!(nic.slots().claimed(), 0);
    assert!(q.regs().writes().is_empty());
}

#[test]
fn a_plain_connect_stays_in_software_even_with_a_connector() {
    let nic = connector();
    let mut ep = endpoint(Some(nic.clone()));
    let mut q = Q::new(true);
    ep.connect((PEER.into(), 80), T0).unwrap();
    q.push(arp_reply(), KIND_RX);
    poll(&mut ep, &mut q, T0);
    poll(&mut ep, &mut q, T0 + Duration::from_millis(1));
    assert!(q.sent().iter().any(|o| o.0 == "syn"));
    assert!(q.regs().writes().is_empty());
    assert_eq!(nic.slots().claimed(), 0);
}

/// What an idle established connection costs in memory, in bytes (docs/
/// tcp.md, "Light connections"): its boxed `Conn` and the stack's table
/// entry (key, box pointer, control byte), its socket slot and the socket
/// layer's handle-to-socket entry, and no buffer memory until data moves.
#[test]
fn an_idle_established_connection_costs_about_a_kilobyte() {
    use crate::tcp::conn::Conn;
    let conn = std::mem::size_of::<Conn>() + 8 + std::mem::size_of::<Box<Conn>>() + 1;
    let socket = std::mem::size_of::<Option<Socket>>() + 8 + std::mem::size_of::<SocketId>() + 1;
    eprintln!(
        "idle established connection: Conn {} B, table entry {conn} B, socket {socket} B, total {} B",
        std::mem::size_of::<Conn>(),
        conn + socket
    );
    assert!(conn + socket < 2048, "{} bytes", conn + socket);
}
