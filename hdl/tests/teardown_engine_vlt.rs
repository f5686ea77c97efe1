//! The teardown engine (`toe_hdl::teardown::engine::TeardownEngineSmall`:
//! 16 slots, a 128-entry table) in Verilator against the reference model
//! `toe_model::teardown::Teardown` with the same capacity and registers,
//! one operation at a time, each given time to settle:
//!
//! * hand-overs of random closes (active and passive, timestamps on and
//!   off, random windows, scales, RTOs, retry limits, tags) for tuples from
//!   a pool of 24, so that a tuple already held falls back and the table
//!   fills and recycles TIME-WAIT entries; now and then a record that
//!   breaks a limit (rejected, no event);
//! * segments for tuples of the pool, aimed at what the entries expect:
//!   the ACK of our FIN, the peer's FIN, both, retransmitted FINs, exact,
//!   in-window and blind RSTs, SYNs in TIME-WAIT with newer and older
//!   timestamps or sequence numbers, data after close, old timestamps,
//!   out-of-window segments, segments for tuples not held;
//! * ticks, one at a time (retransmissions with backoff, retry limits,
//!   FIN-WAIT-2 timeouts, TIME-WAIT expiry).
//!
//! After each operation the frames the model sends must equal the engine's
//! reply records (addresses, ports, MACs, flags, sequence and
//! acknowledgement numbers, window, timestamps), its events the engine's
//! (queue, reason, state, retries, duration, tag), both as multisets; each
//! segment's verdict (consumed or not) must match the model's; and the
//! entry counts and counters must agree.  The run must reach every event
//! reason and reply the engine can produce.  Then `verilator --lint-only
//! -Wall`.  Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::BTreeMap;
use toe_contract::teardown::{
    CloseOrder, HandOver, Reason, TdCounter, TeardownEvent, HANDOVER_BYTES,
};
use toe_hdl::teardown::engine::{TeardownEngineSmall, CNT_BITS, SEG_VERDICT_LATENCY};
use toe_model::gen;
use toe_model::teardown::{key_of, Config, Key, Output, Teardown, Verdict};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const SLOTS: usize = 16;
const LOCAL: ([u8; 4], u16) = ([10, 9, 0, 1], 80);
const LOCAL_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// Cycles each operation gets to settle (a tick can fire all 16 entries:
/// about 40 cycles each).
const SETTLE_TICK: usize = 1_200;
const SETTLE_OP: usize = 200;

fn block() -> VltBlock {
    let mut uut = TeardownEngineSmall::default();
    uut.connect_all();
    VltBlock::new("teardown_engine", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("enable", 1)
        .input("tw_ticks", 32)
        .input("fin_timeout", 32)
        .input("retries_default", 4)
        .input("max_tw", 5)
        .input("now", 32)
        .input("hash_k0", 64)
        .input("hash_k1", 64)
        .input("sg_valid", 1)
        .input("sg_tuple", 96)
        .input("sg_flags", 8)
        .input("sg_seq", 32)
        .input("sg_ack", 32)
        .input("sg_window", 16)
        .input("sg_plen", 16)
        .input("sg_ts", 1)
        .input("sg_tsval", 32)
        .input("ho_valid", 1)
        .input("ho_record", 512)
        .input("ho_queue", 2)
        .input("ho_len", 16)
        .input("rp_ready", 1)
        .input("ev_ready", 1)
        .output("vd_valid", 1)
        .output("vd_consume", 1)
        .output("ho_ready", 1)
        .output("ho_rejected", 1)
        .output("rp_valid", 1)
        .output("rp_kind", 3)
        .output("rp_key", 96)
        .output("rp_macs", 96)
        .output("rp_flags", 8)
        .output("rp_seq", 32)
        .output("rp_ack", 32)
        .output("rp_window", 16)
        .output("rp_ts", 1)
        .output("rp_tsval", 32)
        .output("rp_tsecr", 32)
        .output("ev_valid", 1)
        .output("ev_queue", 2)
        .output("ev_reason", 3)
        .output("ev_state", 3)
        .output("ev_retries", 4)
        .output("ev_duration", 32)
        .output("ev_tag", 32)
        .output("cnt_inc", CNT_BITS)
        .output("entries", 5)
        .output("tw_entries", 5)
        .output("clearing", 1)
}

/// One cycle's inputs.
#[derive(Clone)]
struct In {
    rst: bool,
    now: u32,
    seg: Option<Seg>,
    ho: Option<([u8; HANDOVER_BYTES], u8, u16)>,
}

#[derive(Clone, Copy, Debug)]
struct Seg {
    key: Key,
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    plen: u16,
    tsval: Option<u32>,
}

struct Cfg {
    tw_ticks: u32,
    fin_timeout: u32,
    retries: u8,
    max_tw: usize,
}

fn row(c: &Cfg, i: &In) -> Vec<Val> {
    let s = i.seg.unwrap_or(Seg {
        key: 0,
        flags: 0,
        seq: 0,
        ack: 0,
        window: 0,
        plen: 0,
        tsval: None,
    });
    let (rec, q, len) = i.ho.unwrap_or(([0; HANDOVER_BYTES], 0, 0));
    let limbs: Vec<u64> = rec
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    vec![
        i.rst.into(),
        true.into(),
        (c.tw_ticks as u64).into(),
        (c.fin_timeout as u64).into(),
        (c.retries as u64).into(),
        (c.max_tw as u64).into(),
        (i.now as u64).into(),
        0x0706_0504_0302_0100u64.into(),
        0x0f0e_0d0c_0b0a_0908u64.into(),
        i.seg.is_some().into(),
        Val(vec![s.key as u64, (s.key >> 64) as u64]),
        (s.flags as u64).into(),
        (s.seq as u64).into(),
        (s.ack as u64).into(),
        (s.window as u64).into(),
        (s.plen as u64).into(),
        s.tsval.is_some().into(),
        (s.tsval.unwrap_or(0) as u64).into(),
        i.ho.is_some().into(),
        Val(limbs),
        (q as u64).into(),
        (len as u64).into(),
        true.into(),
        true.into(),
    ]
}

/// A reply as the engine gives it and as the model's frame says it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Reply {
    key: Key,
    peer_mac: u64,
    local_mac: u64,
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    ts: Option<(u32, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ev {
    queue: u8,
    reason: u8,
    state: u8,
    retries: u8,
    duration: u32,
    tag: u32,
}

fn mac48(m: &[u8]) -> u64 {
    m.iter().fold(0, |v, &b| v << 8 | b as u64)
}

fn model_outputs(out: &[Output]) -> (Vec<Reply>, Vec<Ev>) {
    let (mut r, mut e) = (vec![], vec![]);
    for o in out {
        match o {
            Output::Frame(f) => {
                let p = toe_model::parse(f, false, toe_contract::MAX_FRAME as u16);
                let (ip, t) = (p.ipv4.unwrap(), p.tcp.unwrap());
                assert_eq!(
                    t.seg_len,
                    4 * t.data_offset as usize,
                    "no payload without kept data"
                );
                r.push(Reply {
                    key: key_of((ip.dst, t.dst_port), (ip.src, t.src_port)),
                    peer_mac: mac48(&f[0..6]),
                    local_mac: mac48(&f[6..12]),
                    flags: t.flags,
                    seq: t.seq,
                    ack: t.ack,
                    window: t.window,
                    ts: t.opts.timestamps,
                });
            }
            Output::Event { queue, event, .. } => e.push(ev_of(*queue, event)),
        }
    }
    r.sort();
    e.sort();
    (r, e)
}

fn ev_of(queue: u8, e: &TeardownEvent) -> Ev {
    Ev {
        queue,
        reason: e.reason as u8,
        state: e.state.map_or(0, |s| s as u8),
        retries: e.retries,
        duration: e.duration,
        tag: e.tag,
    }
}

fn frame_of(s: &Seg) -> Vec<u8> {
    let peer_ip = ((s.key >> 64) as u32).to_be_bytes();
    let local_ip = ((s.key >> 32) as u32).to_be_bytes();
    let mut options = vec![];
    if let Some(v) = s.tsval {
        options.extend_from_slice(&[1, 1, 8, 10]);
        options.extend_from_slice(&v.to_be_bytes());
        options.extend_from_slice(&0u32.to_be_bytes());
    }
    gen::tcp_frame(&gen::TcpSpec {
        ip: gen::Ipv4Spec {
            dst_mac: LOCAL_MAC,
            src_mac: [2, 0, 0, 0, 0, 2],
            src: peer_ip,
            dst: local_ip,
            ttl: 64,
            ..gen::Ipv4Spec::default()
        },
        src_port: (s.key >> 16) as u16,
        dst_port: s.key as u16,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        window: s.window,
        urgent: 0,
        options,
        payload: vec![0x5a; s.plen as usize],
    })
}

fn pool(i: usize) -> (([u8; 4], u16), [u8; 6]) {
    (
        ([10, 9, 1, 2 + (i % 6) as u8], 40_000 + i as u16),
        [2, 0, 0, 1, (i >> 8) as u8, i as u8],
    )
}

/// A segment aimed at what the model's entry for `key` expects.
fn segment(rnd: &mut impl FnMut() -> u64, td: &Teardown, key: Key) -> Seg {
    let mut pick = |n: u64| if n == 0 { rnd() } else { rnd() % n };
    let mut s = Seg {
        key,
        flags: ACK,
        seq: pick(0) as u32,
        ack: pick(0) as u32,
        window: pick(0) as u16,
        plen: 0,
        tsval: (pick(2) == 0).then(|| pick(0) as u32),
    };
    let Some(e) = td.entry(key) else {
        return s;
    };
    let snd_nxt = e.fin_seq.wrapping_add(1);
    s.seq = e.rcv_nxt;
    s.ack = snd_nxt;
    if e.ts_on && pick(6) != 0 {
        s.tsval = Some(match pick(6) {
            0 => e.ts_recent.wrapping_sub(1 + pick(100) as u32),
            1 => e.ts_recent,
            _ => e.ts_recent.wrapping_add(1 + pick(100) as u32),
        });
    }
    // A new connection's SYN on a TIME-WAIT tuple, often.
    if e.state == toe_contract::teardown::State::TimeWait && pick(3) == 0 {
        s.flags = SYN;
        s.seq = e.rcv_nxt.wrapping_add(1 + pick(100_000) as u32);
        if pick(4) == 0 {
            s.seq = e.rcv_nxt.wrapping_sub(pick(100_000) as u32);
        }
        return s;
    }
    match pick(14) {
        // The ACK of our FIN.
        0 | 1 => {}
        // The peer's FIN (with or without the ACK of ours).
        2 | 3 => {
            s.flags = ACK | FIN;
            if pick(2) == 0 {
                s.ack = e.snd_una;
            }
        }
        // A retransmitted FIN.
        4 => {
            s.flags = ACK | FIN;
            s.seq = e.rcv_nxt.wrapping_sub(1);
        }
        // RST: exact, in window, blind.
        5 => {
            s.flags = RST | if pick(2) == 0 { ACK } else { 0 };
            s.seq = match pick(3) {
                0 => e.rcv_nxt,
                1 => e.rcv_nxt.wrapping_add(1 + pick(100) as u32),
                _ => pick(0) as u32,
            };
        }
        // A SYN (a new connection on a TIME-WAIT tuple, or in window).
        6 | 7 => {
            s.flags = SYN;
            s.seq = match pick(3) {
                0 => e.rcv_nxt.wrapping_add(1 + pick(100_000) as u32),
                1 => e.rcv_nxt.wrapping_sub(pick(100_000) as u32),
                _ => pick(0) as u32,
            };
        }
        // Data (after close, or in CLOSING/LAST-ACK/TIME-WAIT).
        8 => {
            s.flags = ACK | PSH;
            s.plen = 1 + pick(200) as u16;
            if pick(2) == 0 {
                s.seq = e.rcv_nxt.wrapping_sub(s.plen as u32);
            }
        }
        // Out of window, an old ACK, an ACK beyond SND.NXT.
        9 => s.seq = e.rcv_nxt.wrapping_add(1 << 30),
        10 => s.ack = snd_nxt.wrapping_add(1 + pick(5) as u32),
        11 => s.ack = e.snd_una.wrapping_sub(1 << 30),
        // The same ACK (window update), no ACK bit.
        12 => s.ack = e.snd_una,
        _ => s.flags = 0,
    }
    s
}

/// TIME-WAIT bounded by the table only: hand-overs recycle the oldest.
#[test]
fn teardown_engine_matches_the_model() {
    run(
        Cfg {
            tw_ticks: 40,
            fin_timeout: 25,
            retries: 3,
            max_tw: SLOTS,
        },
        "Recycled after a hand-over",
    );
}

/// `TD_MAX_TW` = 3: entering TIME-WAIT beyond it recycles the oldest.
#[test]
fn teardown_engine_matches_the_model_with_a_time_wait_limit() {
    run(
        Cfg {
            tw_ticks: 60,
            fin_timeout: 25,
            retries: 4,
            max_tw: 3,
        },
        "Recycled after a segment",
    );
}

fn run(cfg: Cfg, must_see: &str) {
    let mut rnd = seeded_rng();
    let mut td = Teardown::new(
        SLOTS,
        Config {
            enabled: true,
            tw_ticks: cfg.tw_ticks,
            fin_timeout: cfg.fin_timeout,
            retries: cfg.retries,
            max_tw: cfg.max_tw,
        },
    );
    let start: u32 = 1_000;
    td.advance(start as u64);
    let mut now = start;
    // The inputs, and what each operation must produce: (first row, last
    // row, replies, events, verdict row and consume, rejected).
    let mut rows: Vec<In> = vec![];
    struct Op {
        what: String,
        from: usize,
        to: usize,
        replies: Vec<Reply>,
        events: Vec<Ev>,
        verdict: Option<bool>,
        rejected: bool,
        entries: usize,
        tw: usize,
    }
    let mut ops: Vec<Op> = vec![];
    let idle = |now: u32| In {
        rst: false,
        now,
        seg: None,
        ho: None,
    };
    // Reset, and the table's and timers' clear.
    for _ in 0..4 {
        rows.push(In {
            rst: true,
            ..idle(now)
        });
    }
    for _ in 0..300 {
        rows.push(idle(now));
    }
    let n_ops = 2_000;
    let mut tag = 0u32;
    for _ in 0..n_ops {
        let from = rows.len();
        let choice = rnd() % 10;
        let (what, out, verdict, rejected, settle);
        if choice < 3 {
            // A hand-over.
            let i = (rnd() % 24) as usize;
            let (peer, peer_mac) = pool(i);
            let fin_seq = rnd() as u32;
            tag += 1;
            let mut h = HandOver {
                peer,
                local: LOCAL,
                peer_mac,
                local_mac: LOCAL_MAC,
                order: if rnd() % 3 == 0 {
                    CloseOrder::Passive
                } else {
                    CloseOrder::Active
                },
                snd_una: fin_seq,
                fin_seq,
                rcv_nxt: rnd() as u32,
                ts: (rnd() % 2 == 0).then(|| (rnd() as u32, rnd() as u32)),
                snd_wnd: rnd() as u16,
                snd_shift: (rnd() % 15) as u8,
                rcv_wnd: rnd() as u16,
                rcv_shift: (rnd() % 15) as u8,
                rto: 1 + (rnd() % 4) as u16,
                mss: 1460,
                retry_limit: (rnd() % 5) as u8,
                tag,
            };
            if rnd() % 25 == 0 {
                h.rto = 0;
            }
            let rec = h.encode();
            let queue = (rnd() % 4) as u8;
            let r = td.handover(queue, 0, &rec);
            rejected = r.is_err();
            out = r.unwrap_or_default();
            verdict = None;
            what = format!("hand-over {h:?}");
            rows.push(In {
                ho: Some((rec, queue, HANDOVER_BYTES as u16)),
                ..idle(now)
            });
            settle = SETTLE_OP;
        } else if choice < 8 {
            // A segment, mostly for a held tuple.
            let held: Vec<Key> = (0..24)
                .map(|i| key_of(pool(i).0, LOCAL))
                .filter(|&k| td.entry(k).is_some())
                .collect();
            let key = if !held.is_empty() && rnd() % 5 != 0 {
                held[(rnd() % held.len() as u64) as usize]
            } else {
                key_of(pool((rnd() % 24) as usize).0, LOCAL)
            };
            let s = segment(&mut rnd, &td, key);
            let (v, o) = td.segment(&frame_of(&s));
            out = o;
            verdict = Some(v == Verdict::Consumed);
            rejected = false;
            what = format!("segment {s:?} for {:?}", td.entry(key));
            rows.push(In {
                seg: Some(s),
                ..idle(now)
            });
            settle = SETTLE_OP;
        } else {
            now += 1;
            out = td.advance(now as u64);
            verdict = None;
            rejected = false;
            what = format!("tick {now}");
            rows.push(idle(now));
            settle = SETTLE_TICK;
        }
        for _ in 1..settle {
            rows.push(idle(now));
        }
        let (replies, events) = model_outputs(&out);
        ops.push(Op {
            what,
            from,
            to: rows.len(),
            replies,
            events,
            verdict,
            rejected,
            entries: td.entries(),
            tw: td.tw_entries(),
        });
    }
    let inputs: Vec<Vec<Val>> = rows.iter().map(|i| row(&cfg, i)).collect();
    let out = block().run(&inputs);

    let mut cov: BTreeMap<String, usize> = BTreeMap::new();
    let mut counts = [0u64; CNT_BITS];
    for o in &out {
        let inc = o[22].u64();
        for (b, c) in counts.iter_mut().enumerate() {
            *c += inc >> b & 1;
        }
    }
    for op in &ops {
        let (mut replies, mut events) = (vec![], vec![]);
        let (mut verdict, mut rejected) = (None, false);
        for r in op.from..op.to {
            let o = &out[r];
            if rows[r].ho.is_some() {
                assert!(
                    o[2].bit(),
                    "row {r}: the hand-over was not taken at once ({})",
                    op.what
                );
            }
            rejected |= o[3].bit();
            if o[4].bit() {
                let key = o[6].field(0, 64) as u128 | (o[6].field(64, 32) as u128) << 64;
                let macs = (o[7].field(0, 64) as u128) | (o[7].field(64, 32) as u128) << 64;
                replies.push(Reply {
                    key,
                    peer_mac: (macs >> 48) as u64 & 0xFFFF_FFFF_FFFF,
                    local_mac: macs as u64 & 0xFFFF_FFFF_FFFF,
                    flags: o[8].u64() as u8,
                    seq: o[9].u64() as u32,
                    ack: o[10].u64() as u32,
                    window: o[11].u64() as u16,
                    ts: o[12]
                        .bit()
                        .then(|| (o[13].u64() as u32, o[14].u64() as u32)),
                });
            }
            if o[15].bit() {
                events.push(Ev {
                    queue: o[16].u64() as u8,
                    reason: o[17].u64() as u8,
                    state: o[18].u64() as u8,
                    retries: o[19].u64() as u8,
                    duration: o[20].u64() as u32,
                    tag: o[21].u64() as u32,
                });
            }
            if o[0].bit() && rows[r.saturating_sub(SEG_VERDICT_LATENCY)].seg.is_some() {
                verdict = Some(o[1].bit());
            }
        }
        replies.sort();
        events.sort();
        assert_eq!(replies, op.replies, "replies after {}", op.what);
        assert_eq!(events, op.events, "events after {}", op.what);
        assert_eq!(verdict, op.verdict, "verdict of {}", op.what);
        assert_eq!(rejected, op.rejected, "rejection of {}", op.what);
        let last = &out[op.to - 1];
        assert_eq!(
            last[23].u64() as usize,
            op.entries,
            "entries after {}",
            op.what
        );
        assert_eq!(
            last[24].u64() as usize,
            op.tw,
            "TIME-WAIT entries after {}",
            op.what
        );
        for r in &op.replies {
            *cov.entry(format!("reply flags {:#04x}", r.flags))
                .or_default() += 1;
        }
        let kind = op.what.split(' ').next().unwrap_or("");
        for e in &op.events {
            *cov.entry(format!("event {:?}", reason_name(e.reason)))
                .or_default() += 1;
            *cov.entry(format!("{:?} after a {kind}", reason_name(e.reason)))
                .or_default() += 1;
        }
    }
    for c in [
        TdCounter::HandOvers,
        TdCounter::Fallback,
        TdCounter::TwRecycled,
        TdCounter::FinSent,
        TdCounter::Retransmits,
        TdCounter::AckSent,
        TdCounter::RstSent,
        TdCounter::ChallengeAck,
        TdCounter::RstDropped,
        TdCounter::PawsDrop,
        TdCounter::TwSynAccepted,
        TdCounter::TwSynRefused,
        TdCounter::TwFinReacked,
        TdCounter::Ended,
    ] {
        assert_eq!(counts[c as usize], td.counter(c), "counter {c:?}");
        *cov.entry(format!("counter {c:?}")).or_default() += counts[c as usize] as usize;
    }
    assert_eq!(counts[14], 0, "no segment dropped for a full engine queue");
    for (k, v) in &cov {
        println!("{v:>7}  {k}");
    }
    for reason in [
        Reason::Normal,
        Reason::RstReceived,
        Reason::RetriesExhausted,
        Reason::Fin2Timeout,
        Reason::Recycled,
        Reason::Fallback,
        Reason::DataAfterClose,
        Reason::TimeWaitReused,
    ] {
        let k = format!("event {reason:?}");
        assert!(
            cov.get(&k).copied().unwrap_or(0) >= 5,
            "only {:?} of {k}",
            cov.get(&k)
        );
    }
    assert!(
        cov.get(must_see).copied().unwrap_or(0) >= 5,
        "only {:?} of {must_see}",
        cov.get(must_see)
    );
}

fn reason_name(r: u8) -> Reason {
    [
        Reason::Normal,
        Reason::RstReceived,
        Reason::RetriesExhausted,
        Reason::Fin2Timeout,
        Reason::Recycled,
        Reason::Fallback,
        Reason::DataAfterClose,
        Reason::TimeWaitReused,
    ][r as usize]
}

#[test]
fn teardown_engine_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
