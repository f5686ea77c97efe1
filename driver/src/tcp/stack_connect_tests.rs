//! Packet-level tests of active opens by the NIC (`TcpStack::connect_by_nic_where`
//! and what the NIC reports back): requests out instead of SYNs, then the
//! NIC's "connected" and "refused" reports and the timeout check as bytes
//! and statuses in, segments, slot claims and connection states out.  The
//! NIC's part is played here as `toe_contract::setup` defines it.
use super::conn::{Closed, Config, NicOpenStatus, State};
use super::isn::IsnGenerator;
use super::offload::ConnectSlots;
use super::stack::{NicAbort, NicConnectParams, NicConnectRequest, TcpStack};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr};
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_contract::setup as s;

const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const T0: Duration = Duration::from_secs(100);
const PEER_ISN: u32 = 0x7000_0000;
const PEER_TSVAL: u32 = 0x0A0B_0C0D;

fn params(slots: &ConnectSlots) -> NicConnectParams {
    NicConnectParams {
        slots: slots.clone(),
        // Linux's defaults: 1 s, 6 retries.
        give_up: Duration::from_secs(127),
        first_rto: Duration::from_secs(1),
    }
}

fn stack_on(slots: &ConnectSlots) -> TcpStack {
    let mut st = TcpStack::new(US, Config::default(), IsnGenerator::new([7; 16]), 64);
    st.set_nic_connect(Some(params(slots)));
    st
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What the stack sends now, parsed: (control, seq, ack, window, payload
/// length, timestamps).
#[derive(Debug, PartialEq, Eq)]
struct Out {
    ctl: TcpControl,
    seq: u32,
    ack: Option<u32>,
    window: u16,
    len: usize,
    ts: Option<(u32, u32)>,
}

fn sent(st: &mut TcpStack, now: Duration) -> Vec<Out> {
    st.dispatch(now)
        .into_iter()
        .map(|(dst, b)| {
            assert_eq!(dst, PEER);
            let p = TcpPacket::new_checked(&b[..]).unwrap();
            let r = TcpRepr::parse(
                &p,
                &IpAddress::Ipv4(US),
                &IpAddress::Ipv4(PEER),
                &ChecksumCapabilities::default(),
            )
            .unwrap();
            Out {
                ctl: r.control,
                seq: r.seq_number.0 as u32,
                ack: r.ack_number.map(|a| a.0 as u32),
                window: r.window_len,
                len: r.payload.len(),
                ts: r.timestamp.map(|t| (t.tsval, t.tsecr)),
            }
        })
        .collect()
}

/// A NIC open to PEER:80, issued at `T0`; returns its handle and request.
fn open(st: &mut TcpStack) -> ((u16, Ipv4Addr, u16), NicConnectRequest) {
    let h = st
        .connect_by_nic_where((PEER, 80), T0, |_| true)
        .expect("a port");
    let mut reqs = Vec::new();
    st.take_connect_requests(&mut reqs);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].handle, h);
    assert!(st.nic_connect_issued(h, T0));
    (h, reqs[0])
}

struct PeerSeg {
    ctl: TcpControl,
    seq: u32,
    ack: u32,
    window: u16,
    mss: Option<u16>,
    wscale: Option<u8>,
    sack: bool,
    ts: Option<(u32, u32)>,
    payload: Vec<u8>,
}

/// The peer's SYN-ACK answering `req` with every option.
fn synack(req: &NicConnectRequest) -> PeerSeg {
    PeerSeg {
        ctl: TcpControl::Syn,
        seq: PEER_ISN,
        ack: req.req.syn.seq.wrapping_add(1),
        window: 65160,
        mss: Some(1400),
        wscale: Some(9),
        sack: true,
        ts: req.req.syn.ts.map(|(v, _)| (PEER_TSVAL, v)),
        payload: Vec::new(),
    }
}

fn bytes(sport_dport: (u16, u16), p: &PeerSeg) -> Vec<u8> {
    let r = TcpRepr {
        src_port: sport_dport.0,
        dst_port: sport_dport.1,
        control: p.ctl,
        seq_number: TcpSeqNumber(p.seq as i32),
        ack_number: Some(TcpSeqNumber(p.ack as i32)),
        window_len: p.window,
        window_scale: p.wscale,
        max_seg_size: p.mss,
        sack_permitted: p.sack,
        sack_ranges: [None, None, None],
        timestamp: p.ts.map(|(v, e)| TcpTimestampRepr::new(v, e)),
        payload: &p.payload,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(
        &mut TcpPacket::new_unchecked(&mut b),
        &IpAddress::Ipv4(PEER),
        &IpAddress::Ipv4(US),
        &ChecksumCapabilities::default(),
    );
    b
}

fn connected(st: &mut TcpStack, h: (u16, Ipv4Addr, u16), p: &PeerSeg, now: Duration) {
    st.on_nic_connected(PEER, US, &bytes((80, h.0), p), false, now);
}

#[test]
fn an_offloaded_connect_hands_out_a_request_and_sends_no_syn() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let h = st.connect_by_nic_where((PEER, 80), T0, |_| true).unwrap();
    assert!(sent(&mut st, T0).is_empty(), "the NIC sends the SYN");
    assert_eq!(st.conn_ref(h).unwrap().state(), State::SynSent);
    assert_eq!(slots.claimed(), 1 << s::connect_slot(h.0));
    // No retransmission timer, and no check before the request is issued.
    assert_eq!(st.poll_at(), None);
    let mut reqs = Vec::new();
    st.take_connect_requests(&mut reqs);
    assert_eq!(reqs.len(), 1);
    let r = reqs[0].req;
    assert_eq!(r.slot(), s::connect_slot(h.0));
    assert_eq!(
        (r.syn.src, r.syn.dst),
        ((US.octets(), h.0), (PEER.octets(), 80))
    );
    assert_eq!((r.syn.flags, r.syn.ack), (s::TCP_SYN, 0));
    assert_eq!(
        (r.syn.src_mac, r.syn.dst_mac),
        ([0; 6], [0; 6]),
        "the socket layer's"
    );
    assert!(st.nic_connect_issued(h, T0));
    assert_eq!(st.stats().nic_connect_requested, 1);
    // Checked once the NIC must have given up, with a margin.
    let deadline = T0 + params(&slots).give_up + params(&slots).margin();
    st.dispatch(T0);
    assert_eq!(st.poll_at(), Some(deadline));
    // Nothing happens before: no SYN of our own, ever.
    st.on_timer(deadline - ms(1));
    let mut checks = Vec::new();
    st.take_nic_checks(&mut checks);
    assert!(checks.is_empty());
    assert!(sent(&mut st, deadline - ms(1)).is_empty());
}

#[test]
fn the_request_carries_the_software_syn() {
    for cfg in [
        Config::default(),
        Config {
            timestamps: false,
            ..Config::default()
        },
        Config {
            syn_opts: super::options::SynOptions {
                mss: Some(1200),
                wscale: None,
                sack_permitted: false,
                tsval: None,
            },
            recv_buffer: 200_000,
            ..Config::default()
        },
    ] {
        let mut soft = TcpStack::new(US, cfg.clone(), IsnGenerator::new([7; 16]), 8);
        let hs = soft.connect((PEER, 80), T0).unwrap();
        let b = soft.dispatch(T0).remove(0).1;
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        let syn = TcpRepr::parse(
            &p,
            &IpAddress::Ipv4(US),
            &IpAddress::Ipv4(PEER),
            &ChecksumCapabilities::default(),
        )
        .unwrap();
        let mut nic = TcpStack::new(US, cfg.clone(), IsnGenerator::new([7; 16]), 8);
        nic.set_nic_connect(Some(params(&ConnectSlots::new())));
        let hn = nic.connect_by_nic_where((PEER, 80), T0, |_| true).unwrap();
        assert_eq!(hn, hs, "the same ephemeral port");
        let mut reqs = Vec::new();
        nic.take_connect_requests(&mut reqs);
        let r = reqs[0].req.syn;
        assert_eq!(r.seq, syn.seq_number.0 as u32, "the RFC 6528 ISN");
        assert_eq!(r.window, syn.window_len);
        assert_eq!(r.mss, syn.max_seg_size);
        assert_eq!(r.wscale, syn.window_scale);
        assert_eq!(r.sack_permitted, syn.sack_permitted);
        assert_eq!(r.ts, syn.timestamp.map(|t| (t.tsval, t.tsecr)));
        // The handshake ACK's window, should the peer scale: ours scaled.
        let shift = cfg.syn_opts.wscale.unwrap_or(0);
        assert_eq!(
            reqs[0].req.ack_window as u32,
            (cfg.recv_buffer as u32 >> shift).min(65535)
        );
    }
}

#[test]
fn a_connected_report_establishes_without_an_ack_from_the_host() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    let t = T0 + ms(3);
    connected(&mut st, h, &synack(&req), t);
    assert!(
        sent(&mut st, t).is_empty(),
        "the NIC sent the handshake ACK"
    );
    assert_eq!(slots.claimed(), 0, "the NIC freed the slot");
    assert_eq!(st.nic_opens(), 0);
    assert_eq!(st.stats().nic_connect_established, 1);
    let c = st.conn(h).unwrap();
    assert_eq!(c.state(), State::Established);
    let n = *c.negotiated().unwrap();
    assert_eq!(n.send_mss, 1400);
    let ours = Config::default().syn_opts.wscale.unwrap();
    assert_eq!((n.snd_wscale, n.rcv_wscale), (9, ours));
    assert!(n.sack && n.timestamps);
    assert_eq!(n.ts_recent, Some(PEER_TSVAL));
    assert_eq!(c.nic_handshake_window(), Some(req.req.ack_window));
    // Data flows: our first byte is ISS + 1, the peer's SYN is acknowledged,
    // the peer's TSval echoed, our window scaled as the NIC's ACK said.
    assert_eq!(c.write(b"GET / HTTP/1.1\r\n\r\n"), 18);
    let out = sent(&mut st, t);
    assert_eq!(out.len(), 1);
    let iss = req.req.syn.seq;
    assert_eq!(out[0].seq, iss.wrapping_add(1));
    assert_eq!(out[0].ack, Some(PEER_ISN + 1));
    assert_eq!(out[0].len, 18);
    assert_eq!(out[0].window, req.req.ack_window);
    let (tsval, tsecr) = out[0].ts.unwrap();
    assert_eq!(tsecr, PEER_TSVAL);
    assert!(
        tsval.wrapping_sub(req.req.syn.ts.unwrap().0) as i32 >= 0,
        "our TSvals go on from the SYN's"
    );
    // Segments are cut to the peer's MSS less the timestamp option.
    let c = st.conn(h).unwrap();
    assert_eq!(c.write(&[7u8; 3000]), 3000);
    let out = sent(&mut st, t);
    assert!(
        out.iter().all(|o| o.len <= 1400 - 12),
        "MSS minus timestamps"
    );
    assert_eq!(out.iter().map(|o| o.len).sum::<usize>(), 3000);
}

#[test]
fn without_window_scaling_the_handshake_ack_carried_the_syns_window() {
    let mut st = stack_on(&ConnectSlots::new());
    let (h, req) = open(&mut st);
    let mut p = synack(&req);
    p.wscale = None;
    p.sack = false;
    p.ts = None;
    p.mss = None;
    connected(&mut st, h, &p, T0 + ms(1));
    assert!(sent(&mut st, T0 + ms(1)).is_empty());
    let c = st.conn(h).unwrap();
    assert_eq!(c.state(), State::Established);
    let n = *c.negotiated().unwrap();
    assert_eq!((n.snd_wscale, n.rcv_wscale), (0, 0));
    assert!(!n.sack && !n.timestamps);
    assert_eq!(n.send_mss, 536, "no MSS option: RFC 9293 3.7.1's default");
    assert_eq!(c.nic_handshake_window(), Some(req.req.syn.window));
    c.write(b"x");
    let out = sent(&mut st, T0 + ms(1));
    assert_eq!(out[0].ts, None);
    assert_eq!(out[0].window, 65535, "unscaled, capped");
}

#[test]
fn data_on_the_syn_ack_is_taken_and_acknowledged_by_the_host() {
    let mut st = stack_on(&ConnectSlots::new());
    let (h, req) = open(&mut st);
    let mut p = synack(&req);
    p.payload = b"220 hello\r\n".to_vec();
    let t = T0 + ms(2);
    connected(&mut st, h, &p, t);
    let out = sent(&mut st, t);
    // The NIC acknowledged only the SYN; the data is ours to acknowledge.
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, Some(PEER_ISN + 1 + 11));
    assert_eq!(out[0].len, 0);
    let mut buf = [0u8; 32];
    let c = st.conn(h).unwrap();
    assert_eq!(c.read(&mut buf), 11);
    assert_eq!(&buf[..11], b"220 hello\r\n");
}

#[test]
fn an_open_that_outlived_the_first_rto_starts_data_with_a_3_s_rto() {
    // RFC 6298 5.7: the NIC must have retransmitted the SYN.
    for (after, rto) in [
        (ms(500), Duration::from_secs(1)),
        (ms(1500), Duration::from_secs(3)),
    ] {
        let mut st = stack_on(&ConnectSlots::new());
        let (h, req) = open(&mut st);
        let mut p = synack(&req);
        p.ts = None;
        let t = T0 + after;
        connected(&mut st, h, &p, t);
        st.conn(h).unwrap().write(b"x");
        assert_eq!(sent(&mut st, t).len(), 1);
        assert_eq!(st.poll_at(), Some(t + rto), "after {after:?}");
    }
}

#[test]
fn a_refused_report_is_connection_refused() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    let rst = PeerSeg {
        ctl: TcpControl::Rst,
        seq: 0,
        ack: req.req.syn.seq.wrapping_add(1),
        window: 0,
        mss: None,
        wscale: None,
        sack: false,
        ts: None,
        payload: Vec::new(),
    };
    st.on_nic_refused(PEER, US, &bytes((80, h.0), &rst), false, T0 + ms(1));
    assert!(
        sent(&mut st, T0 + ms(1)).is_empty(),
        "an RST is never answered"
    );
    let c = st.conn_ref(h).unwrap();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed(), Some(Closed::Reset));
    assert_eq!(slots.claimed(), 0);
    assert_eq!(st.stats().nic_connect_refused, 1);
    let mut aborts = Vec::new();
    st.take_nic_aborts(&mut aborts);
    assert!(aborts.is_empty(), "the NIC freed the slot itself");
    st.reap();
    assert!(st.conn_ref(h).is_none());
}

#[test]
fn the_timeout_check_fails_a_timed_out_open_and_rechecks_a_pending_one() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, _) = open(&mut st);
    st.dispatch(T0);
    let p = params(&slots);
    let deadline = T0 + p.give_up + p.margin();
    st.on_timer(deadline);
    let mut checks = Vec::new();
    st.take_nic_checks(&mut checks);
    assert_eq!(checks, vec![(h, s::connect_slot(h.0))]);
    // The NIC is still at it (its clock runs slower than ours): later.
    st.on_nic_check(h, NicOpenStatus::Pending, deadline);
    assert_eq!(st.conn_ref(h).unwrap().state(), State::SynSent);
    assert!(sent(&mut st, deadline).is_empty());
    let again = deadline + p.recheck();
    assert_eq!(st.poll_at(), Some(again));
    st.on_timer(again - ms(1));
    st.take_nic_checks(&mut checks);
    assert_eq!(checks.len(), 1, "no second check before its time");
    st.on_timer(again);
    st.take_nic_checks(&mut checks);
    assert_eq!(checks.len(), 2);
    st.on_nic_check(h, NicOpenStatus::TimedOut, again);
    let c = st.conn_ref(h).unwrap();
    assert_eq!(c.closed(), Some(Closed::TimedOut));
    assert!(sent(&mut st, again).is_empty());
    assert_eq!(slots.claimed(), 0);
    assert_eq!(st.stats().nic_connect_timed_out, 1);
    assert_eq!(st.nic_opens(), 0);
}

#[test]
fn an_idle_slot_is_checked_again_then_taken_as_a_lost_answer() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    st.dispatch(T0);
    let p = params(&slots);
    let d = T0 + p.give_up + p.margin();
    st.on_timer(d);
    let mut checks = Vec::new();
    st.take_nic_checks(&mut checks);
    // Neither pending nor timed out: the answer may be on its way.
    st.on_nic_check(h, NicOpenStatus::Idle, d);
    assert_eq!(st.conn_ref(h).unwrap().state(), State::SynSent);
    assert!(sent(&mut st, d).is_empty());
    st.on_timer(d + p.recheck());
    st.take_nic_checks(&mut checks);
    assert_eq!(checks.len(), 2);
    st.on_nic_check(h, NicOpenStatus::Idle, d + p.recheck());
    // Lost: timed out, and an RST for a peer the NIC's ACK synchronised.
    assert_eq!(st.conn_ref(h).unwrap().closed(), Some(Closed::TimedOut));
    let out = sent(&mut st, d + p.recheck());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ctl, TcpControl::Rst);
    assert_eq!(out[0].seq, req.req.syn.seq.wrapping_add(1));
    assert_eq!(slots.claimed(), 0);
    assert_eq!(st.stats().nic_connect_lost, 1);
}

#[test]
fn aborting_a_pending_open_aborts_it_in_the_nic_then_frees_the_slot() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    st.abort(h);
    assert!(
        sent(&mut st, T0).is_empty(),
        "no RST from SYN-SENT (RFC 9293 3.10.5)"
    );
    let mut aborts = Vec::new();
    st.take_nic_aborts(&mut aborts);
    assert_eq!(
        aborts,
        vec![NicAbort {
            handle: h,
            slot: req.req.slot(),
            issued: true
        }]
    );
    // The slot stays claimed until the caller has told the NIC.
    assert_eq!(slots.claimed(), 1 << req.req.slot());
    assert_eq!(st.nic_opens(), 0);
    assert_eq!(st.stats().nic_connect_aborted, 1);
    st.take_nic_aborts(&mut aborts);
    assert_eq!(aborts.len(), 1, "reported once");
    // A SYN-ACK for it still comes (the NIC had already answered): the
    // peer, synchronised by the NIC's ACK, is reset with <SEQ=SEG.ACK>.
    connected(&mut st, h, &synack(&req), T0 + ms(5));
    let out = sent(&mut st, T0 + ms(5));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ctl, TcpControl::Rst);
    assert_eq!(out[0].seq, req.req.syn.seq.wrapping_add(1));
    assert_eq!(st.stats().nic_connect_unexpected, 1);
}

#[test]
fn closing_an_open_not_yet_issued_drops_its_request() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let h = st.connect_by_nic_where((PEER, 80), T0, |_| true).unwrap();
    st.conn(h).unwrap().close();
    st.dispatch(T0);
    st.reap();
    let mut aborts = Vec::new();
    st.take_nic_aborts(&mut aborts);
    assert_eq!(aborts.len(), 1);
    assert!(!aborts[0].issued, "nothing to tell the NIC");
    let mut reqs = Vec::new();
    st.take_connect_requests(&mut reqs);
    assert!(reqs.is_empty(), "the request is dropped");
}

#[test]
fn an_open_that_cannot_be_issued_falls_back_to_the_software_handshake() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let h = st.connect_by_nic_where((PEER, 80), T0, |_| true).unwrap();
    st.nic_connect_fallback(h, T0 + ms(1));
    assert_eq!(slots.claimed(), 0);
    let out = sent(&mut st, T0 + ms(1));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ctl, TcpControl::Syn);
    assert_eq!(st.stats().nic_connect_fallback, 1);
    // With its own retransmission timer.
    assert_eq!(st.poll_at(), Some(T0 + ms(1) + Duration::from_secs(1)));
    let mut reqs = Vec::new();
    st.take_connect_requests(&mut reqs);
    assert!(reqs.is_empty());
}

#[test]
fn slots_are_never_claimed_twice_across_stacks() {
    let slots = ConnectSlots::new();
    let mut a = stack_on(&slots);
    let mut b = stack_on(&slots);
    // Stack b takes odd ports only (as RSS would give it other ports).
    let mut claimed = Vec::new();
    for i in 0..12 {
        let ha = a
            .connect_by_nic_where((PEER, 80 + i), T0, |p| p % 2 == 0)
            .unwrap();
        let hb = b
            .connect_by_nic_where((PEER, 80 + i), T0, |p| p % 2 == 1)
            .unwrap();
        claimed.push(ha);
        claimed.push(hb);
    }
    let mut reqs = Vec::new();
    a.take_connect_requests(&mut reqs);
    b.take_connect_requests(&mut reqs);
    // 8 even and 8 odd slots: the rest ran as software connects.
    assert_eq!(reqs.len(), 16);
    let mut seen = 0u16;
    for r in &reqs {
        let bit = 1 << r.req.slot();
        assert_eq!(seen & bit, 0, "slot {} twice", r.req.slot());
        seen |= bit;
    }
    assert_eq!(slots.claimed(), 0xFFFF);
    assert_eq!(
        a.stats().nic_connect_fallback + b.stats().nic_connect_fallback,
        8
    );
    let syns = a.dispatch(T0).len() + b.dispatch(T0).len();
    assert_eq!(syns, 8, "software SYNs for the fallbacks only");
    // A slot freed by one stack serves the other.
    let victim = reqs.iter().find(|r| r.handle.0 % 2 == 1).unwrap();
    b.abort(victim.handle);
    let mut aborts = Vec::new();
    b.take_nic_aborts(&mut aborts);
    slots.release(aborts[0].slot);
    let h = a
        .connect_by_nic_where((PEER, 999), T0, |p| s::connect_slot(p) == aborts[0].slot)
        .unwrap();
    assert_eq!(s::connect_slot(h.0), aborts[0].slot);
    assert_eq!(a.nic_opens(), 9);
}

#[test]
fn a_duplicate_syn_ack_later_is_acknowledged() {
    let mut st = stack_on(&ConnectSlots::new());
    let (h, req) = open(&mut st);
    let p = synack(&req);
    connected(&mut st, h, &p, T0 + ms(1));
    assert!(sent(&mut st, T0 + ms(1)).is_empty());
    // The peer did not get the NIC's ACK and retransmits; the NIC has
    // freed the slot and delivers it as an ordinary frame.
    let t = T0 + ms(1001);
    st.on_packet(PEER, US, &bytes((80, h.0), &p), t);
    let out = sent(&mut st, t);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ctl, TcpControl::None);
    assert_eq!(out[0].seq, req.req.syn.seq.wrapping_add(1));
    assert_eq!(out[0].ack, Some(PEER_ISN + 1));
    assert_eq!(st.conn_ref(h).unwrap().state(), State::Established);
}

#[test]
fn an_ordinary_segment_that_moves_the_open_on_aborts_it_in_the_nic() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    // Simultaneous open (RFC 9293 3.10.7.3): the peer's own SYN.
    let syn = PeerSeg {
        ctl: TcpControl::Syn,
        seq: PEER_ISN,
        ack: 0,
        window: 65535,
        mss: Some(1460),
        wscale: None,
        sack: false,
        ts: None,
        payload: Vec::new(),
    };
    let mut b = bytes((80, h.0), &syn);
    // No ACK flag.
    b[13] &= !0x10;
    let mut p = TcpPacket::new_unchecked(&mut b[..]);
    p.fill_checksum(&IpAddress::Ipv4(PEER), &IpAddress::Ipv4(US));
    st.on_packet(PEER, US, &b, T0 + ms(1));
    assert_eq!(st.conn_ref(h).unwrap().state(), State::SynReceived);
    let out = sent(&mut st, T0 + ms(1));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ctl, TcpControl::Syn);
    assert_eq!(out[0].ack, Some(PEER_ISN + 1), "our SYN-ACK, from the host");
    assert_eq!(
        st.poll_at(),
        Some(T0 + ms(1) + Duration::from_secs(1)),
        "retransmitted by the host"
    );
    let mut aborts = Vec::new();
    st.take_nic_aborts(&mut aborts);
    assert_eq!(aborts.len(), 1);
    assert_eq!((aborts[0].slot, aborts[0].issued), (req.req.slot(), true));
}

#[test]
fn without_nic_configuration_an_offloaded_connect_is_a_software_one() {
    let mut st = TcpStack::new(US, Config::default(), IsnGenerator::new([7; 16]), 8);
    let h = st.connect_by_nic_where((PEER, 80), T0, |_| true).unwrap();
    let out = sent(&mut st, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ctl, TcpControl::Syn);
    assert_eq!(st.stats().nic_connect_fallback, 1);
    assert!(!st.conn_ref(h).unwrap().nic_pending());
}

#[test]
fn reports_that_do_not_parse_are_counted_bad() {
    let slots = ConnectSlots::new();
    let mut st = stack_on(&slots);
    let (h, req) = open(&mut st);
    let mut b = bytes((80, h.0), &synack(&req));
    b[16] ^= 0xFF;
    st.on_nic_connected(PEER, US, &b, false, T0);
    st.on_nic_refused(PEER, US, &[1, 2, 3], true, T0);
    assert_eq!(st.stats().rx_bad, 2);
    assert!(st.conn_ref(h).unwrap().nic_pending(), "still waiting");
    assert_eq!(slots.claimed(), 1 << req.req.slot());
}
