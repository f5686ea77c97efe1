//! Packet-level tests of the teardown offload's hooks in the TCP core
//! (`TeardownHooks` on `TcpStack`): what a hand-over record takes from a
//! connection, the tuple while handed over, and the connection rebuilt
//! when the NIC refuses it.  Segments in as bytes, segments out parsed.
use super::conn::{Config, State};
use super::isn::IsnGenerator;
use super::offload::{TeardownCheck, TeardownHooks};
use super::stack::{NicEstablished, TcpStack};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr};
use std::net::Ipv4Addr;
use std::time::Duration;

const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const T0: Duration = Duration::from_secs(100);
const COOKIE: u32 = 0x1234_5678;
const CLIENT_ISN: u32 = 777;
const SPORT: u16 = 40_000;
const H: (u16, Ipv4Addr, u16) = (80, PEER, SPORT);
/// The client's TSval on its final ACK, and the TSecr it echoes.
const PEER_TS: u32 = 5_000;
const ECHO: u32 = 0x0100_0000;

/// The client's segment as bytes (checksum filled), timestamps on.
fn segment(seq: u32, ack: u32, ctl: TcpControl, tsval: u32, payload: &[u8]) -> Vec<u8> {
    let r = TcpRepr {
        src_port: SPORT,
        dst_port: 80,
        control: ctl,
        seq_number: TcpSeqNumber(seq as i32),
        ack_number: Some(TcpSeqNumber(ack as i32)),
        window_len: 502,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None, None, None],
        timestamp: Some(TcpTimestampRepr::new(tsval, ECHO)),
        payload,
    };
    let mut b = vec![0u8; r.buffer_len()];
    let mut p = TcpPacket::new_unchecked(&mut b);
    r.emit(
        &mut p,
        &IpAddress::Ipv4(PEER),
        &IpAddress::Ipv4(US),
        &ChecksumCapabilities::default(),
    );
    b
}

/// A segment we sent.
#[derive(Debug)]
struct Out {
    seq: u32,
    ack: u32,
    fin: bool,
    rst: bool,
    tsval: Option<u32>,
    payload: Vec<u8>,
}

fn sent(s: &mut TcpStack, now: Duration) -> Vec<Out> {
    s.dispatch(now)
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
                seq: p.seq_number().0 as u32,
                ack: p.ack_number().0 as u32,
                fin: p.fin(),
                rst: p.rst(),
                tsval: r.timestamp.map(|t| t.tsval),
                payload: p.payload().to_vec(),
            }
        })
        .collect()
}

/// An accepted connection the NIC's setup offload completed: the
/// client's window scale 9, our default shift, timestamps, MSS 1300.
fn established() -> TcpStack {
    let mut s = TcpStack::new(US, Config::default(), IsnGenerator::new([7; 16]), 16);
    s.listen(80, 4);
    let nic = NicEstablished {
        peer_mss: 1300,
        peer_wscale: Some(9),
        sack: false,
        ts: Some((PEER_TS, ECHO)),
    };
    let ack = segment(CLIENT_ISN + 1, COOKIE + 1, TcpControl::None, PEER_TS, b"");
    s.on_established(PEER, US, &ack, true, &nic, T0);
    assert!(sent(&mut s, T0).is_empty());
    assert_eq!(s.accept(80), Some(H));
    s
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 + 5) as u8).collect()
}

/// Active close: the record carries the TCB's numbers only once every byte
/// written has been sent; the kept bytes are exactly those in flight.
#[test]
fn the_record_is_the_tcb_once_everything_is_sent() {
    let mut s = established();
    let d = data(3000);
    assert_eq!(s.conn(H).unwrap().write(&d), 3000);
    assert_eq!(
        s.teardown_tcb(H, T0),
        TeardownCheck::Wait,
        "written, not yet sent"
    );
    let out = sent(&mut s, T0);
    assert_eq!(out.iter().map(|o| o.payload.len()).sum::<usize>(), 3000);
    let our_ts = out[0].tsval.unwrap();
    let TeardownCheck::Ready(t) = s.teardown_tcb(H, T0) else {
        panic!("ready once sent")
    };
    assert!(!t.passive);
    assert_eq!((t.snd_una, t.fin_seq), (COOKIE + 1, COOKIE + 1 + 3000));
    assert_eq!(t.rcv_nxt, CLIENT_ISN + 1);
    // TS.Recent is the client's TSval; our TSval continues our clock.
    assert_eq!(t.ts, Some((PEER_TS, our_ts)));
    // The window field the client sent, in its shift.
    assert_eq!((t.snd_wnd, t.snd_shift), (502, 9));
    let ours = Config::default().syn_opts.wscale.unwrap();
    assert_eq!(t.rcv_shift, ours);
    assert_eq!(t.rcv_wnd as u32, (64 * 1024) >> ours);
    // The client's MSS less the 12 bytes of timestamps (RFC 6691).
    assert_eq!(t.mss, 1300 - 12);
    assert_eq!(t.rto, Duration::from_secs(1));
    assert_eq!(t.kept(), 3000);
    let mut kept = vec![0u8; 4096];
    assert_eq!(s.copy_unacked(H, &mut kept), 3000);
    assert_eq!(&kept[..3000], &d[..]);
    // Part acknowledged: SND.UNA moves, the kept bytes shrink.
    let ack = segment(
        CLIENT_ISN + 1,
        COOKIE + 1 + 1000,
        TcpControl::None,
        PEER_TS + 1,
        b"",
    );
    s.on_packet(PEER, US, &ack, T0);
    let TeardownCheck::Ready(t) = s.teardown_tcb(H, T0) else {
        panic!()
    };
    assert_eq!(
        (t.snd_una, t.kept(), t.ts.unwrap().0),
        (COOKIE + 1001, 2000, PEER_TS + 1)
    );
    assert_eq!(s.copy_unacked(H, &mut kept), 2000);
    assert_eq!(&kept[..2000], &d[1000..]);
    // A FIN asked for (software close) is no hand-over any more.
    s.close_in_software(H);
    assert_eq!(s.teardown_tcb(H, T0), TeardownCheck::No);
    assert_eq!(s.teardown_tcb((80, PEER, 1), T0), TeardownCheck::No);
}

/// Passive close: the peer's FIN came first; RCV.NXT counts it.
#[test]
fn a_passive_close_counts_the_peers_fin() {
    let mut s = established();
    let fin = segment(
        CLIENT_ISN + 1,
        COOKIE + 1,
        TcpControl::Fin,
        PEER_TS + 2,
        b"bye",
    );
    s.on_packet(PEER, US, &fin, T0);
    sent(&mut s, T0);
    assert_eq!(s.conn_ref(H).unwrap().state(), State::CloseWait);
    let TeardownCheck::Ready(t) = s.teardown_tcb(H, T0) else {
        panic!("CLOSE-WAIT is handed over")
    };
    assert!(t.passive);
    assert_eq!(t.rcv_nxt, CLIENT_ISN + 1 + 3 + 1);
    assert_eq!(t.kept(), 0);
}

/// Handed over: the TCB is gone and the tuple's segments draw no RST
/// until the hand-over ends; then they do (RFC 9293 3.10.7.1).
#[test]
fn a_handed_over_tuple_is_dropped_silently_until_its_end() {
    let mut s = established();
    assert!(s.hand_over(H));
    assert!(!s.hand_over(H), "once");
    assert!(s.conn_ref(H).is_none());
    assert_eq!(s.len(), 0);
    let ack = segment(
        CLIENT_ISN + 1,
        COOKIE + 1,
        TcpControl::None,
        PEER_TS + 1,
        b"",
    );
    s.on_packet(PEER, US, &ack, T0);
    assert!(sent(&mut s, T0).is_empty(), "no RST while handed over");
    assert_eq!(s.stats().teardown_dropped, 1);
    assert_eq!(s.stats().teardown_handed_over, 1);
    s.handover_ended(H);
    s.on_packet(PEER, US, &ack, T0);
    let out = sent(&mut s, T0);
    assert!(out.len() == 1 && out[0].rst, "{out:?}");
}

/// Refused: the connection comes back in FIN-WAIT-1 with the kept bytes in
/// flight; its FIN goes at once at the record's sequence number, its
/// TSval continues from the record's, and at the RTO the kept bytes are
/// retransmitted from SND.UNA.
#[test]
fn a_refused_hand_over_is_rebuilt_and_sends_its_fin() {
    let mut s = established();
    let d = data(2000);
    s.conn(H).unwrap().write(&d);
    sent(&mut s, T0);
    let TeardownCheck::Ready(t) = s.teardown_tcb(H, T0) else {
        panic!()
    };
    let mut kept = vec![0u8; t.kept() as usize];
    s.copy_unacked(H, &mut kept);
    assert!(s.hand_over(H));
    let t1 = T0 + Duration::from_millis(3);
    assert!(s.handover_fallback(H, &t, &kept, t1));
    assert_eq!(s.stats().teardown_rebuilt, 1);
    assert_eq!(s.conn_ref(H).unwrap().state(), State::FinWait1);
    let out = sent(&mut s, t1);
    assert_eq!(out.len(), 1, "{out:?}");
    let fin = &out[0];
    assert!(fin.fin && fin.payload.is_empty());
    assert_eq!((fin.seq, fin.ack), (t.fin_seq, t.rcv_nxt));
    // The record's TSval is the one for the time of the rebuild (the
    // glue moves it on by the time the hand-over was out).
    assert_eq!(fin.tsval, Some(t.ts.unwrap().1));
    // The segments of the tuple are the connection's again.
    let ack = segment(
        CLIENT_ISN + 1,
        COOKIE + 1,
        TcpControl::None,
        PEER_TS + 1,
        b"",
    );
    s.on_packet(PEER, US, &ack, t1);
    assert_eq!(s.stats().teardown_dropped, 0);
    // Nothing acknowledged: at the RTO the kept bytes go again.
    let t2 = t1 + t.rto;
    s.on_timer(t2);
    let out = sent(&mut s, t2);
    assert!(!out.is_empty());
    assert_eq!(out[0].seq, t.snd_una);
    assert_eq!(out[0].payload, d[..out[0].payload.len()]);
    assert!(out[0].payload.len() <= t.mss as usize);
    // The client acknowledges everything and its FIN: TIME-WAIT.
    let fin = segment(
        CLIENT_ISN + 1,
        t.fin_seq + 1,
        TcpControl::Fin,
        PEER_TS + 3,
        b"",
    );
    s.on_packet(PEER, US, &fin, t2);
    sent(&mut s, t2);
    assert_eq!(s.conn_ref(H).unwrap().state(), State::TimeWait);
    // A second rebuild of a tuple in the table is refused.
    assert!(!s.handover_fallback(H, &t, &kept, t2));
}
