//! Packet-level tests of the teardown model: frames in, frames and events
//! out, explicit ticks.
use super::*;
use crate::parse::parse;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use toe_contract::teardown::*;

const PEER: ([u8; 4], u16) = ([10, 0, 0, 2], 40000);
const LOCAL: ([u8; 4], u16) = ([10, 0, 0, 1], 80);
const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const LOCAL_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// Our FIN's sequence number and the peer's next sequence number.
const FINSEQ: u32 = 100_000;
const IRS: u32 = 5000;
const RTO: u64 = 200;

fn rec(order: CloseOrder, ts: Option<(u32, u32)>) -> HandOver {
    HandOver {
        peer: PEER,
        local: LOCAL,
        peer_mac: PEER_MAC,
        local_mac: LOCAL_MAC,
        order,
        snd_una: FINSEQ,
        fin_seq: FINSEQ,
        rcv_nxt: match order {
            CloseOrder::Active => IRS,
            CloseOrder::Passive => IRS + 1,
        },
        ts,
        snd_wnd: 65535,
        snd_shift: 0,
        rcv_wnd: 65535,
        rcv_shift: 0,
        rto: RTO as u16,
        mss: 1460,
        retry_limit: 3,
        tag: 0x77,
    }
}

fn buf(r: &HandOver, data: &[u8]) -> Vec<u8> {
    let mut b = r.encode().to_vec();
    b.extend_from_slice(data);
    b
}

fn engine() -> Teardown {
    Teardown::new(16, Config::new(16))
}

fn key() -> Key {
    key_of(PEER, LOCAL)
}

/// A segment from `peer` to `local`.
fn seg_from(
    peer: ([u8; 4], u16),
    local: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
    ts: Option<(u32, u32)>,
) -> Vec<u8> {
    let mut options = vec![];
    if let Some((v, e)) = ts {
        options.extend_from_slice(&[1, 1, 8, 10]);
        options.extend_from_slice(&v.to_be_bytes());
        options.extend_from_slice(&e.to_be_bytes());
    }
    gen::tcp_frame(&gen::TcpSpec {
        ip: gen::Ipv4Spec {
            dst_mac: LOCAL_MAC,
            src_mac: PEER_MAC,
            src: peer.0,
            dst: local.0,
            ..gen::Ipv4Spec::default()
        },
        src_port: peer.1,
        dst_port: local.1,
        seq,
        ack,
        flags,
        window: 65535,
        urgent: 0,
        options,
        payload: payload.to_vec(),
    })
}

fn seg(flags: u8, seq: u32, ack: u32) -> Vec<u8> {
    seg_from(PEER, LOCAL, flags, seq, ack, &[], None)
}

/// A frame the engine sent, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tx {
    to: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    payload: Vec<u8>,
    ts: Option<(u32, u32)>,
}

fn tx_of(f: &[u8]) -> Tx {
    let p = parse(f, false, 9018);
    let (ip, t) = (p.ipv4.unwrap(), p.tcp.unwrap());
    assert!(ip.csum_ok && t.csum_ok, "checksums of a sent frame");
    assert_eq!(&f[0..6], &PEER_MAC[..], "destination MAC");
    assert_eq!(&f[6..12], &LOCAL_MAC[..], "source MAC");
    let hl = 14 + 4 * ip.ihl as usize + 4 * t.data_offset as usize;
    let end = 14 + ip.total_len as usize;
    Tx {
        to: (ip.dst, t.dst_port),
        flags: t.flags,
        seq: t.seq,
        ack: t.ack,
        window: t.window,
        payload: f[hl..end].to_vec(),
        ts: t.opts.timestamps,
    }
}

fn frames(out: &[Output]) -> Vec<Tx> {
    out.iter()
        .filter_map(|o| match o {
            Output::Frame(f) => Some(tx_of(f)),
            _ => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<TeardownEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event { event, .. } => Some(*event),
            _ => None,
        })
        .collect()
}

/// One frame with these flags, seq and ack.
fn one(out: &[Output], flags: u8, seq: u32, ack: u32) -> Tx {
    let f = frames(out);
    assert_eq!(f.len(), 1, "one frame expected: {f:?}");
    assert_eq!(
        (f[0].flags, f[0].seq, f[0].ack),
        (flags, seq, ack),
        "{:?}",
        f[0]
    );
    f[0].clone()
}

fn state(td: &Teardown) -> Option<State> {
    td.entry(key()).map(|e| e.state)
}

/// Steps tick by tick to `to`, recording each output with its tick.
fn run(td: &mut Teardown, to: u64) -> Vec<(u64, Output)> {
    let mut v = vec![];
    while td.now() < to {
        let t = td.now() + 1;
        v.extend(td.advance(t).into_iter().map(|o| (t, o)));
    }
    v
}

fn handover(td: &mut Teardown, r: &HandOver) -> Vec<Output> {
    td.handover(0, 0x1000, &buf(r, &[])).unwrap()
}

/// Active close up to TIME-WAIT at tick 10; returns the engine.
fn to_time_wait(ts: Option<(u32, u32)>) -> Teardown {
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, ts));
    td.advance(10);
    let pts = ts.map(|(r, _)| (r + 1, 0));
    td.segment(&seg_from(PEER, LOCAL, ACK, IRS, FINSEQ + 1, &[], pts));
    td.segment(&seg_from(PEER, LOCAL, ACK | FIN, IRS, FINSEQ + 1, &[], pts));
    assert_eq!(state(&td), Some(State::TimeWait));
    td
}

#[test]
fn server_closes_first() {
    let mut td = engine();
    let out = handover(&mut td, &rec(CloseOrder::Active, None));
    let fin = one(&out, ACK | FIN, FINSEQ, IRS);
    assert_eq!((fin.to, fin.window, fin.payload.len()), (PEER, 65535, 0));
    assert_eq!(state(&td), Some(State::FinWait1));
    assert!(td.advance(50).is_empty());
    let (v, out) = td.segment(&seg(ACK, IRS, FINSEQ + 1));
    assert_eq!((v, out.len()), (Verdict::Consumed, 0));
    assert_eq!(state(&td), Some(State::FinWait2));
    td.advance(80);
    let (_, out) = td.segment(&seg(ACK | FIN, IRS, FINSEQ + 1));
    one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(state(&td), Some(State::TimeWait));
    assert_eq!(td.deadline_of(key()), Some(80 + DEFAULT_TW_TICKS as u64));
    assert!(td.advance(80 + DEFAULT_TW_TICKS as u64 - 1).is_empty());
    let out = td.advance(80 + DEFAULT_TW_TICKS as u64);
    assert!(frames(&out).is_empty());
    let ev = events(&out);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].reason, Reason::Normal);
    assert_eq!(ev[0].state, Some(State::TimeWait));
    assert_eq!(ev[0].duration, 80 + DEFAULT_TW_TICKS);
    assert_eq!(ev[0].tag, 0x77);
    assert_eq!(td.entries(), 0);
    assert_eq!(td.counter(TdCounter::HandOvers), 1);
    assert_eq!(td.counter(TdCounter::Ended), 1);
}

#[test]
fn peer_closes_first() {
    let mut td = engine();
    let out = handover(&mut td, &rec(CloseOrder::Passive, None));
    one(&out, ACK | FIN, FINSEQ, IRS + 1);
    assert_eq!(state(&td), Some(State::LastAck));
    td.advance(30);
    // An ACK that does not cover our FIN changes nothing.
    let (_, out) = td.segment(&seg(ACK, IRS + 1, FINSEQ));
    assert!(out.is_empty());
    let (v, out) = td.segment(&seg(ACK, IRS + 1, FINSEQ + 1));
    assert_eq!(v, Verdict::Consumed);
    assert!(frames(&out).is_empty());
    let ev = events(&out);
    assert_eq!(
        (ev[0].reason, ev[0].state, ev[0].duration),
        (Reason::Normal, Some(State::LastAck), 30)
    );
    assert_eq!(td.entries(), 0);
    // Later segments of the tuple are not ours any more.
    assert_eq!(
        td.segment(&seg(ACK, IRS + 1, FINSEQ + 1)).0,
        Verdict::NotOurs
    );
}

#[test]
fn simultaneous_close() {
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    td.advance(5);
    // The peer's FIN crossed ours: it does not acknowledge our FIN.
    let (_, out) = td.segment(&seg(ACK | FIN, IRS, FINSEQ));
    one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(state(&td), Some(State::Closing));
    // Our FIN's retransmission timer still runs in CLOSING.
    assert_eq!(td.deadline_of(key()), Some(RTO));
    let (_, out) = td.segment(&seg(ACK, IRS + 1, FINSEQ + 1));
    assert!(out.is_empty());
    assert_eq!(state(&td), Some(State::TimeWait));
    assert_eq!(td.deadline_of(key()), Some(5 + DEFAULT_TW_TICKS as u64));
    // FIN and ACK of our FIN in one segment from FIN-WAIT-1: TIME-WAIT.
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    let (_, out) = td.segment(&seg(ACK | FIN, IRS, FINSEQ + 1));
    one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(state(&td), Some(State::TimeWait));
}

#[test]
fn close_with_unacknowledged_data() {
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
    let r = HandOver {
        snd_una: FINSEQ - 3000,
        ..rec(CloseOrder::Active, Some((100, 9000)))
    };
    let mut td = engine();
    // The descriptor's length must match the kept bytes.
    assert_eq!(
        td.handover(0, 0x2000, &buf(&r, &data[1..])),
        Err(HandOverError::Length)
    );
    let out = td.handover(1, 0x2000, &buf(&r, &data)).unwrap();
    let fin = one(&out, ACK | FIN, FINSEQ, IRS);
    assert_eq!(fin.ts, Some((9000, 100)));
    let e = td.entry(key()).unwrap();
    assert_eq!((e.buf_addr, e.kept, e.queue), (0x2000, 3000, 1));
    // The first data segment is lost: the FIN's ACK says so.
    td.advance(20);
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ - 3000));
    assert!(out.is_empty());
    // The timeout resends from SND.UNA, one MSS.
    let out = run(&mut td, RTO);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, RTO);
    let s = tx_of(match &out[0].1 {
        Output::Frame(f) => f,
        o => panic!("{o:?}"),
    });
    assert_eq!((s.flags, s.seq, s.ack), (ACK | PSH, FINSEQ - 3000, IRS));
    assert_eq!(s.payload, data[..1460]);
    assert_eq!(s.ts, Some((9000 + RTO as u32, 100)));
    // A partial ACK after a retransmission: the next segment at once.
    td.advance(250);
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ - 3000 + 1460));
    let s = one(&out, ACK | PSH, FINSEQ - 3000 + 1460, IRS);
    assert_eq!(s.payload, data[1460..2920]);
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ - 80));
    let s = one(&out, ACK | PSH | FIN, FINSEQ - 80, IRS);
    assert_eq!(s.payload, data[2920..]);
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ + 1));
    assert!(out.is_empty());
    assert_eq!(state(&td), Some(State::FinWait2));
}

#[test]
fn fin_lost_and_retransmitted_with_backoff() {
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    let out = run(&mut td, 1500);
    let ticks: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    // RTO, then 2 RTO, then 4 RTO after each retransmission.
    assert_eq!(ticks, vec![RTO, 3 * RTO, 7 * RTO]);
    for (_, o) in &out {
        one(std::slice::from_ref(o), ACK | FIN, FINSEQ, IRS);
    }
    assert_eq!(td.entry(key()).unwrap().retries, 3);
    assert_eq!(td.counter(TdCounter::Retransmits), 3);
    // The third one arrives and is acknowledged: FIN-WAIT-2.
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ + 1));
    assert!(out.is_empty());
    let e = td.entry(key()).unwrap();
    assert_eq!((e.state, e.retries), (State::FinWait2, 0));
    assert_eq!(
        td.deadline_of(key()),
        Some(1500 + DEFAULT_FIN_TIMEOUT as u64)
    );
}

#[test]
fn backoff_is_capped_at_rto_max() {
    let r = HandOver {
        rto: 60_000,
        retry_limit: 5,
        ..rec(CloseOrder::Passive, None)
    };
    let mut td = engine();
    handover(&mut td, &r);
    let mut times = vec![];
    for _ in 0..6 {
        let d = td.deadline_of(key()).unwrap();
        times.push(d);
        td.advance(d);
    }
    assert_eq!(
        times,
        vec![60_000, 180_000, 300_000, 420_000, 540_000, 660_000]
    );
    assert_eq!(td.entries(), 0);
}

#[test]
fn retry_limit_reached_sends_rst() {
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Passive, None));
    let out = run(&mut td, 4000);
    let ticks: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    // Limit 3: FINs at RTO, 3 RTO, 7 RTO, then RST and the event at 15 RTO.
    assert_eq!(ticks, vec![RTO, 3 * RTO, 7 * RTO, 15 * RTO, 15 * RTO]);
    let last: Vec<Output> = out[3..].iter().map(|(_, o)| o.clone()).collect();
    one(&last, RST | ACK, FINSEQ + 1, IRS + 1);
    let ev = events(&last);
    assert_eq!(ev[0].reason, Reason::RetriesExhausted);
    assert_eq!((ev[0].duration, ev[0].retries), (15 * RTO as u32, 3));
    assert_eq!(td.entries(), 0);
    assert_eq!(td.counter(TdCounter::RstSent), 1);
    // A record's 0 takes the register default.
    let mut td = Teardown::new(
        4,
        Config {
            retries: 1,
            ..Config::new(4)
        },
    );
    handover(
        &mut td,
        &HandOver {
            retry_limit: 0,
            ..rec(CloseOrder::Active, None)
        },
    );
    assert_eq!(td.entry(key()).unwrap().retry_limit, 1);
    let out = run(&mut td, 3 * RTO);
    assert_eq!(
        events(&out.into_iter().map(|x| x.1).collect::<Vec<_>>())[0].duration,
        3 * RTO as u32
    );
}

#[test]
fn final_ack_lost_fin_reacknowledged_in_time_wait() {
    let mut td = to_time_wait(None);
    let tw = DEFAULT_TW_TICKS as u64;
    assert_eq!(td.deadline_of(key()), Some(10 + tw));
    td.advance(30_000);
    let (v, out) = td.segment(&seg(ACK | FIN, IRS, FINSEQ + 1));
    assert_eq!(v, Verdict::Consumed);
    one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(td.deadline_of(key()), Some(30_000 + tw));
    assert_eq!(td.counter(TdCounter::TwFinReacked), 1);
    assert!(td.advance(10 + tw).is_empty());
    let out = td.advance(30_000 + tw);
    assert_eq!(events(&out)[0].reason, Reason::Normal);
    assert_eq!(events(&out)[0].duration, 30_000 + tw as u32);
}

#[test]
fn fin_wait_2_timeout() {
    let mut td = Teardown::new(
        4,
        Config {
            fin_timeout: 1234,
            ..Config::new(4)
        },
    );
    handover(&mut td, &rec(CloseOrder::Active, None));
    td.advance(7);
    td.segment(&seg(ACK, IRS, FINSEQ + 1));
    let out = run(&mut td, 7 + 1234);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 7 + 1234);
    let ev = events(&[out[0].1.clone()]);
    assert_eq!(
        (ev[0].reason, ev[0].state),
        (Reason::Fin2Timeout, Some(State::FinWait2))
    );
    assert_eq!(td.entries(), 0);
}

#[test]
fn time_wait_expiry_is_configurable() {
    let mut td = Teardown::new(
        4,
        Config {
            tw_ticks: 500,
            ..Config::new(4)
        },
    );
    handover(&mut td, &rec(CloseOrder::Active, None));
    td.advance(3);
    td.segment(&seg(ACK | FIN, IRS, FINSEQ + 1));
    assert_eq!(td.tw_entries(), 1);
    let out = run(&mut td, 1000);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 503);
    assert_eq!(td.tw_entries(), 0);
    // In TIME-WAIT a plain duplicate ACK changes nothing.
    let mut td = to_time_wait(None);
    let (v, out) = td.segment(&seg(ACK, IRS + 1, FINSEQ + 1));
    assert_eq!((v, out.len()), (Verdict::Consumed, 0));
    assert_eq!(td.deadline_of(key()), Some(10 + DEFAULT_TW_TICKS as u64));
}

#[test]
fn new_syn_in_time_wait_without_timestamps() {
    // Above RCV.NXT: accepted, entry removed, SYN passed on.
    let mut td = to_time_wait(None);
    let (v, out) = td.segment(&seg(SYN, IRS + 100_000, 0));
    assert_eq!(v, Verdict::PassOn);
    assert!(frames(&out).is_empty());
    assert_eq!(events(&out)[0].reason, Reason::TimeWaitReused);
    assert_eq!(td.entries(), 0);
    // At or below RCV.NXT: the TIME-WAIT ACK.
    for isn in [IRS + 1, IRS - 5] {
        let mut td = to_time_wait(None);
        let (v, out) = td.segment(&seg(SYN, isn, 0));
        assert_eq!(v, Verdict::Consumed);
        one(&out, ACK, FINSEQ + 1, IRS + 1);
        assert_eq!(state(&td), Some(State::TimeWait));
        assert_eq!(td.counter(TdCounter::TwSynRefused), 1);
    }
}

#[test]
fn new_syn_in_time_wait_with_timestamps() {
    // The old connection used timestamps; TS.Recent is 501 after the
    // peer's FIN (to_time_wait sends TSval 501).
    let ts = Some((500, 70_000));
    let syn = |tsval: u32, isn: u32| seg_from(PEER, LOCAL, SYN, isn, 0, &[], Some((tsval, 0)));
    let mut td = to_time_wait(ts);
    assert_eq!(td.entry(key()).unwrap().ts_recent, 501);
    // Newer TSval: accepted even with a lower sequence number.
    let (v, _) = td.segment(&syn(502, IRS - 1000));
    assert_eq!(v, Verdict::PassOn);
    // Same TSval: refused even with a higher sequence number; the ACK
    // carries our clock (offset from the hand-over) and TS.Recent.
    let mut td = to_time_wait(ts);
    td.advance(40);
    let (v, out) = td.segment(&syn(501, IRS + 100_000));
    assert_eq!(v, Verdict::Consumed);
    let a = one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(a.ts, Some((70_040, 501)));
    // A SYN without timestamps falls back to the sequence rule.
    let mut td = to_time_wait(ts);
    assert_eq!(td.segment(&seg(SYN, IRS + 100_000, 0)).0, Verdict::PassOn);
    let mut td = to_time_wait(ts);
    assert_eq!(td.segment(&seg(SYN, IRS, 0)).0, Verdict::Consumed);
}

#[test]
fn paws_drops_old_timestamps() {
    let mut td = to_time_wait(Some((500, 0)));
    let (v, out) = td.segment(&seg_from(
        PEER,
        LOCAL,
        ACK,
        IRS + 1,
        FINSEQ + 1,
        &[],
        Some((400, 0)),
    ));
    assert_eq!(v, Verdict::Consumed);
    one(&out, ACK, FINSEQ + 1, IRS + 1);
    assert_eq!(td.counter(TdCounter::PawsDrop), 1);
    assert_eq!(td.entry(key()).unwrap().ts_recent, 501);
}

#[test]
fn data_after_close_gets_rst() {
    for fin_acked in [false, true] {
        let mut td = engine();
        handover(&mut td, &rec(CloseOrder::Active, None));
        if fin_acked {
            td.segment(&seg(ACK, IRS, FINSEQ + 1));
        }
        let (v, out) = td.segment(&seg_from(
            PEER,
            LOCAL,
            ACK | PSH,
            IRS,
            FINSEQ + 1,
            b"late",
            None,
        ));
        assert_eq!(v, Verdict::Consumed);
        // RFC 9293 reset generation for a segment with ACK: <SEQ=SEG.ACK>.
        let r = one(&out, RST, FINSEQ + 1, 0);
        assert_eq!(r.ts, None);
        let ev = events(&out);
        assert_eq!(ev[0].reason, Reason::DataAfterClose);
        assert_eq!(td.entries(), 0);
    }
    // Data in LAST-ACK (beyond the peer's FIN) is only acknowledged.
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Passive, None));
    let (_, out) = td.segment(&seg_from(PEER, LOCAL, ACK, IRS + 1, FINSEQ, b"x", None));
    assert!(frames(&out).iter().all(|f| f.flags & RST == 0));
    assert_eq!(state(&td), Some(State::LastAck));
}

#[test]
fn blind_rst() {
    // Exact: removed.
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    let (v, out) = td.segment(&seg(RST, IRS, 0));
    assert_eq!(v, Verdict::Consumed);
    assert!(frames(&out).is_empty());
    assert_eq!(events(&out)[0].reason, Reason::RstReceived);
    assert_eq!(td.entries(), 0);
    // In window but not exact: challenge ACK, entry kept.
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    let (_, out) = td.segment(&seg(RST, IRS + 100, 0));
    one(&out, ACK, FINSEQ + 1, IRS);
    assert_eq!(state(&td), Some(State::FinWait1));
    assert_eq!(td.counter(TdCounter::ChallengeAck), 1);
    // Out of window: dropped silently.
    for s in [IRS + 65535, IRS - 1, IRS + 1_000_000] {
        let (_, out) = td.segment(&seg(RST | ACK, s, FINSEQ + 1));
        assert!(out.is_empty(), "seq {s}");
    }
    assert_eq!(td.counter(TdCounter::RstDropped), 3);
    // An in-window SYN gets the challenge ACK too (RFC 5961 4.2).
    let (_, out) = td.segment(&seg(SYN, IRS + 5, 0));
    one(&out, ACK, FINSEQ + 1, IRS);
    // The exact RST also ends TIME-WAIT (RFC 9293; Linux's default).
    let mut td = to_time_wait(None);
    let (_, out) = td.segment(&seg(RST, IRS + 1, 0));
    assert_eq!(events(&out)[0].reason, Reason::RstReceived);
}

#[test]
fn unacceptable_segments_get_the_rfc9293_ack() {
    let mut td = engine();
    handover(&mut td, &rec(CloseOrder::Active, None));
    td.segment(&seg(ACK, IRS, FINSEQ + 1));
    // Old data (already received by the host): ACK, no RST, entry kept.
    let (v, out) = td.segment(&seg_from(
        PEER,
        LOCAL,
        ACK,
        IRS - 10,
        FINSEQ + 1,
        b"0123456789",
        None,
    ));
    assert_eq!(v, Verdict::Consumed);
    one(&out, ACK, FINSEQ + 1, IRS);
    assert_eq!(state(&td), Some(State::FinWait2));
    // An ACK of something never sent: ACK, drop.
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ + 10));
    one(&out, ACK, FINSEQ + 1, IRS);
    // A zero receive window accepts only SEG.SEQ = RCV.NXT, no data.
    let mut td = engine();
    handover(
        &mut td,
        &HandOver {
            rcv_wnd: 0,
            ..rec(CloseOrder::Active, None)
        },
    );
    let (_, out) = td.segment(&seg(ACK, IRS + 1, FINSEQ + 1));
    one(&out, ACK, FINSEQ + 1, IRS);
    assert_eq!(state(&td), Some(State::FinWait1));
    let (_, out) = td.segment(&seg(ACK, IRS, FINSEQ + 1));
    assert!(out.is_empty());
    assert_eq!(state(&td), Some(State::FinWait2));
}

#[test]
fn bad_records_are_rejected_and_keep_nothing() {
    let mut td = engine();
    let r = rec(CloseOrder::Active, None);
    assert_eq!(
        td.handover(0, 0x1000, &buf(&HandOver { rto: 0, ..r }, &[])),
        Err(HandOverError::ZeroRto)
    );
    assert_eq!(td.handover(0, 0x1000, &[0; 10]), Err(HandOverError::Length));
    assert_eq!(td.entries(), 0);
    assert_eq!(td.counter(TdCounter::HandOvers), 0);
}

fn peer_n(i: u32) -> ([u8; 4], u16) {
    ([10, 1, (i >> 8) as u8, i as u8], 30000 + i as u16)
}

fn rec_n(i: u32, order: CloseOrder) -> HandOver {
    HandOver {
        peer: peer_n(i),
        tag: i,
        ..rec(order, None)
    }
}

#[test]
fn table_full_falls_back_to_software() {
    let mut td = Teardown::new(2, Config::new(2));
    handover(&mut td, &rec_n(1, CloseOrder::Active));
    handover(&mut td, &rec_n(2, CloseOrder::Passive));
    let out = handover(&mut td, &rec_n(3, CloseOrder::Active));
    assert!(frames(&out).is_empty());
    let ev = events(&out);
    assert_eq!(
        (ev[0].reason, ev[0].state, ev[0].tag),
        (Reason::Fallback, None, 3)
    );
    assert_eq!(td.entries(), 2);
    assert_eq!(td.counter(TdCounter::Fallback), 1);
    // The same tuple twice: fallback too, the first entry untouched.
    let out = handover(&mut td, &rec_n(1, CloseOrder::Active));
    assert_eq!(events(&out)[0].reason, Reason::Fallback);
    assert_eq!(
        td.entry(key_of(peer_n(1), LOCAL)).unwrap().state,
        State::FinWait1
    );
    // Disabled: every hand-over falls back.
    let mut td = Teardown::new(
        2,
        Config {
            enabled: false,
            ..Config::new(2)
        },
    );
    let out = handover(&mut td, &rec_n(1, CloseOrder::Active));
    assert_eq!(events(&out)[0].reason, Reason::Fallback);
    assert_eq!(td.entries(), 0);
}

/// Active close of connection `i` into TIME-WAIT at the current tick.
fn close_to_tw(td: &mut Teardown, i: u32) {
    handover(td, &rec_n(i, CloseOrder::Active));
    td.segment(&seg_from(
        peer_n(i),
        LOCAL,
        ACK | FIN,
        IRS,
        FINSEQ + 1,
        &[],
        None,
    ));
    assert_eq!(
        td.entry(key_of(peer_n(i), LOCAL)).unwrap().state,
        State::TimeWait
    );
}

#[test]
fn time_wait_recycling() {
    // The table: a live close is never refused for TIME-WAIT room.
    let mut td = Teardown::new(2, Config::new(2));
    close_to_tw(&mut td, 1);
    td.advance(5);
    close_to_tw(&mut td, 2);
    td.advance(9);
    let out = handover(&mut td, &rec_n(3, CloseOrder::Active));
    let ev = events(&out);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].reason, ev[0].tag, ev[0].duration),
        (Reason::Recycled, 1, 9)
    );
    one(&out, ACK | FIN, FINSEQ, IRS);
    assert_eq!(td.entries(), 2);
    assert_eq!(td.counter(TdCounter::TwRecycled), 1);
    // The oldest by entry into TIME-WAIT, even if a re-ACK restarted its
    // timer (the FIFO order).
    let out = handover(&mut td, &rec_n(4, CloseOrder::Active));
    assert_eq!(
        (events(&out)[0].reason, events(&out)[0].tag),
        (Reason::Recycled, 2)
    );
    // Full of live closes: fallback.
    let out = handover(&mut td, &rec_n(5, CloseOrder::Active));
    assert_eq!(events(&out)[0].reason, Reason::Fallback);
    // A refused hand-over (the tuple is held) recycles nothing.
    let mut td = Teardown::new(2, Config::new(2));
    close_to_tw(&mut td, 1);
    close_to_tw(&mut td, 2);
    let out = handover(&mut td, &rec_n(2, CloseOrder::Active));
    let ev = events(&out);
    assert_eq!((ev.len(), ev[0].reason), (1, Reason::Fallback));
    assert_eq!((td.entries(), td.counter(TdCounter::TwRecycled)), (2, 0));
    // TD_MAX_TW: the limit on TIME-WAIT entries, below the capacity.
    let mut td = Teardown::new(
        8,
        Config {
            max_tw: 2,
            ..Config::new(8)
        },
    );
    close_to_tw(&mut td, 1);
    close_to_tw(&mut td, 2);
    td.segment(&seg_from(
        peer_n(1),
        LOCAL,
        ACK | FIN,
        IRS,
        FINSEQ + 1,
        &[],
        None,
    ));
    handover(&mut td, &rec_n(3, CloseOrder::Active));
    let (_, out) = td.segment(&seg_from(
        peer_n(3),
        LOCAL,
        ACK | FIN,
        IRS,
        FINSEQ + 1,
        &[],
        None,
    ));
    let ev = events(&out);
    assert_eq!(
        (ev.len(), ev[0].reason, ev[0].tag),
        (1, Reason::Recycled, 1)
    );
    assert_eq!((td.entries(), td.tw_entries()), (2, 2));
}

// ------------------------------------------------------------ randomized run

/// A Linux-like peer for one connection.
#[derive(Debug)]
struct PeerConn {
    order: CloseOrder,
    /// Active close: when the peer first sends its own FIN (None: not
    /// yet decided).
    fin_at: Option<u64>,
    fin_sent: u32,
    fin_acked: bool,
    got_our_fin: bool,
}

#[test]
fn randomized_long_run_drains_the_table() {
    let seed: u64 = std::env::var("TOE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("teardown randomized run: seed {seed} (TOE_SEED={seed} replays)");
    let mut rng = StdRng::seed_from_u64(seed);
    let cap = 128;
    let cfg = Config {
        tw_ticks: 1000,
        fin_timeout: 20_000,
        ..Config::new(cap)
    };
    let mut td = Teardown::new(cap, cfg);
    let n = 20_000u32;
    let loss = 0.1;
    let mut peers: BTreeMap<u32, PeerConn> = BTreeMap::new();
    let mut ended: BTreeMap<u32, TeardownEvent> = BTreeMap::new();
    // (tick, to_nic, frame)
    let mut wire: VecDeque<(u64, bool, Vec<u8>)> = VecDeque::new();
    let idx = |p: ([u8; 4], u16)| (p.1 - 30000) as u32;
    let mut fin_due: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    let mut next = 0u32;
    let mut t = 0u64;
    let note = |ended: &mut BTreeMap<u32, TeardownEvent>, out: &[Output]| {
        for o in out {
            if let Output::Event { event, .. } = o {
                assert!(
                    ended.insert(event.tag, *event).is_none(),
                    "two events for {}",
                    event.tag
                );
            }
        }
    };
    while next < n || td.entries() > 0 || !wire.is_empty() {
        assert!(t < 10_000_000, "the run does not end");
        let out = td.advance(t);
        note(&mut ended, &out);
        let mut sent: Vec<Vec<u8>> = frames_raw(&out);
        // New closes: about one every 8 ticks, in bursts of 150 at
        // once now and then (table pressure: recycling, and fallback
        // when a burst finds the table full of live closes).
        let burst = if rng.gen_bool(0.0002) { 150 } else { 1 };
        for _ in 0..burst {
            if next < n && rng.gen_bool(if burst > 1 { 1.0 } else { 0.125 }) {
                let order = if rng.gen_bool(0.5) {
                    CloseOrder::Active
                } else {
                    CloseOrder::Passive
                };
                let r = HandOver {
                    retry_limit: 8,
                    ..rec_n(next, order)
                };
                let out = td.handover(0, 0x1000, &buf(&r, &[])).unwrap();
                note(&mut ended, &out);
                sent.extend(frames_raw(&out));
                let mut p = PeerConn {
                    order,
                    fin_at: None,
                    fin_sent: 0,
                    fin_acked: false,
                    got_our_fin: false,
                };
                // Sometimes the peer's FIN crosses ours (simultaneous close).
                if order == CloseOrder::Active && rng.gen_bool(0.2) {
                    p.fin_at = Some(t);
                    fin_due.entry(t).or_default().push(next);
                }
                peers.insert(next, p);
                next += 1;
            }
        }
        // Frames due now.
        let mut due = vec![];
        wire.retain(|(at, to_nic, f)| {
            if *at == t {
                due.push((*to_nic, f.clone()));
                false
            } else {
                true
            }
        });
        let mut to_nic_now = vec![];
        for (to_nic, f) in due {
            if to_nic {
                to_nic_now.push(f);
                continue;
            }
            // The peer's reaction.
            let s = tx_of_any(&f);
            let i = idx(s.to);
            let p = peers.get_mut(&i).unwrap();
            let peer_seq = match p.order {
                CloseOrder::Passive => IRS + 1,
                CloseOrder::Active if p.fin_sent > 0 => IRS + 1,
                CloseOrder::Active => IRS,
            };
            if s.flags & RST != 0 {
                continue;
            }
            if s.flags & FIN != 0 {
                p.got_our_fin = true;
                to_nic_now_push(
                    &mut wire,
                    &mut rng,
                    t,
                    loss,
                    seg_from(peer_n(i), LOCAL, ACK, peer_seq, FINSEQ + 1, &[], None),
                );
                if p.order == CloseOrder::Active && p.fin_at.is_none() {
                    let at = t + rng.gen_range(1..300);
                    p.fin_at = Some(at);
                    fin_due.entry(at).or_default().push(i);
                }
            }
            if s.ack == IRS + 1 && p.fin_sent > 0 {
                p.fin_acked = true;
            }
        }
        for f in to_nic_now {
            let (_, out) = td.segment(&f);
            note(&mut ended, &out);
            sent.extend(frames_raw(&out));
        }
        // The peers' FINs and their retransmissions (every 150 ticks, 10
        // tries).
        for i in fin_due.remove(&t).unwrap_or_default() {
            let p = peers.get_mut(&i).unwrap();
            if !p.fin_acked && p.fin_sent < 10 {
                let ack = if p.got_our_fin { FINSEQ + 1 } else { FINSEQ };
                let f = seg_from(peer_n(i), LOCAL, ACK | FIN, IRS, ack, &[], None);
                to_nic_now_push(&mut wire, &mut rng, t, loss, f);
                p.fin_sent += 1;
                fin_due.entry(t + 150).or_default().push(i);
            }
        }
        for f in sent {
            if !rng.gen_bool(loss) {
                wire.push_back((t + rng.gen_range(1..40), false, f));
            }
        }
        t += 1;
    }
    // Every hand-over ended exactly once; the table is empty.
    assert_eq!(ended.len(), n as usize);
    assert_eq!((td.entries(), td.tw_entries()), (0, 0));
    let mut by = BTreeMap::new();
    for e in ended.values() {
        *by.entry(format!("{:?}", e.reason)).or_insert(0) += 1;
    }
    println!("reasons: {by:?}, ticks {t}");
    for e in ended.values() {
        assert!(
            matches!(
                e.reason,
                Reason::Normal | Reason::Recycled | Reason::Fallback
            ),
            "connection {} ended {:?}",
            e.tag,
            e.reason
        );
    }
    assert!(by.get("Normal").copied().unwrap_or(0) > n as usize / 2);
    // A normal end means the peer acknowledged our FIN; after an active
    // close the peer's FIN was acknowledged too, unless every one of our
    // ACKs to it was lost (rare at 10% loss).
    let (mut active, mut peer_done) = (0, 0);
    for (i, e) in &ended {
        let p = &peers[i];
        if e.reason == Reason::Normal {
            assert!(
                p.got_our_fin,
                "connection {i}: normal end without our FIN arriving"
            );
            if p.order == CloseOrder::Active {
                active += 1;
                peer_done += p.fin_acked as u32;
            }
        }
    }
    println!("active normal closes {active}, peer's FIN acknowledged in {peer_done}");
    assert!(peer_done * 100 >= active * 99);
    assert_eq!(
        td.counter(TdCounter::HandOvers) + td.counter(TdCounter::Fallback),
        n as u64
    );
    assert_eq!(
        td.counter(TdCounter::Ended),
        td.counter(TdCounter::HandOvers)
    );
}

fn frames_raw(out: &[Output]) -> Vec<Vec<u8>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Frame(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn tx_of_any(f: &[u8]) -> Tx {
    tx_of(f)
}

fn to_nic_now_push(
    wire: &mut VecDeque<(u64, bool, Vec<u8>)>,
    rng: &mut StdRng,
    t: u64,
    loss: f64,
    f: Vec<u8>,
) {
    if !rng.gen_bool(loss) {
        wire.push_back((t + rng.gen_range(1..40), true, f));
    }
}

// ------------------------------------------------------------ proptests

proptest! {
    /// RFC 5961 3.2 for any RST sequence number and window.
    #[test]
    fn rst_classification(off in any::<u32>(), wnd in 0u16..=65535, shift in 0u8..=3) {
        let mut td = engine();
        handover(&mut td, &HandOver { rcv_wnd: wnd, rcv_shift: shift, ..rec(CloseOrder::Active, None) });
        let (v, out) = td.segment(&seg(RST, IRS.wrapping_add(off), 0));
        prop_assert_eq!(v, Verdict::Consumed);
        let w = (wnd as u64) << shift;
        if off == 0 {
            prop_assert_eq!(events(&out)[0].reason, Reason::RstReceived);
            prop_assert_eq!(td.entries(), 0);
        } else if (off as u64) < w {
            prop_assert_eq!(frames(&out).len(), 1);
            prop_assert_eq!(frames(&out)[0].flags, ACK);
            prop_assert_eq!(td.entries(), 1);
        } else {
            prop_assert!(out.is_empty());
            prop_assert_eq!(td.entries(), 1);
        }
    }

    /// Any valid record survives the descriptor buffer; the entry made from
    /// it round-trips its packed value.
    #[test]
    fn records_and_entries_round_trip(
        una in any::<u32>(), kept in 0u32..=MAX_KEPT_BYTES, rcv in any::<u32>(),
        ts in proptest::option::of((any::<u32>(), any::<u32>())),
        w in (any::<u16>(), 0u8..=14, any::<u16>(), 0u8..=14),
        rto in 1u16.., mss in 1u16.., lim in 0u8..=15, tag in any::<u32>(),
        passive in any::<bool>(), now in any::<u32>(),
    ) {
        let r = HandOver {
            snd_una: una, fin_seq: una.wrapping_add(kept), rcv_nxt: rcv, ts,
            snd_wnd: w.0, snd_shift: w.1, rcv_wnd: w.2, rcv_shift: w.3,
            rto, mss, retry_limit: lim, tag,
            order: if passive { CloseOrder::Passive } else { CloseOrder::Active },
            ..rec(CloseOrder::Active, None)
        };
        prop_assert_eq!(HandOver::decode(&r.encode()), Ok(r));
        let mut td = engine();
        td.advance(now as u64);
        let data = vec![0xA5; kept as usize];
        let out = td.handover(2, 0x40 * 77, &buf(&r, &data)).unwrap();
        prop_assert_eq!(frames(&out).len(), 1);
        let e = td.entry(key()).unwrap();
        prop_assert_eq!(Entry::unpack(&e.pack()), Some(e));
        prop_assert_eq!((e.snd_una, e.fin_seq, e.rcv_nxt, e.kept as u32, e.tag), (una, una.wrapping_add(kept), rcv, kept, tag));
        prop_assert_eq!(e.start, now);
        prop_assert_eq!(e.ts_on, ts.is_some());
    }
}
