//! The teardown offload's segment decision (`toe_hdl::teardown::decide::
//! TeardownDecide`) in Verilator against its specification,
//! `toe_model::teardown::decide`: 40,000 random entries and segments, one
//! per cycle with random gaps and a few resets, aimed at the edges the
//! decision turns on (sequence numbers at, just below and just above
//! RCV.NXT, window edges, ACKs at SND.UNA, SND.NXT and beyond, too old for
//! RFC 5961, timestamps older, equal and newer, zero windows, every state
//! and flag combination).  Every output field is compared for every
//! segment, and the run must reach every reply, timer, removal reason and
//! counter the decision can produce (printed as a coverage table), so a
//! branch of the RTL that never fires fails the test.  Then `verilator
//! --lint-only -Wall`.  Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::BTreeMap;
use toe_contract::teardown::{Entry, Reason, State, TdCounter};
use toe_hdl::teardown::decide::{TeardownDecide, DECIDE_LATENCY};
use toe_model::teardown::{decide, Decision, Reply, Seg, Timer, Verdict};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

fn block() -> VltBlock {
    let mut uut = TeardownDecide::default();
    uut.connect_all();
    VltBlock::new("teardown_decide", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("in_valid", 1)
        .input("in_state", 3)
        .input("in_ts_on", 1)
        .input("in_rtx", 1)
        .input("in_retries", 4)
        .input("in_snd_shift", 4)
        .input("in_rcv_shift", 4)
        .input("in_snd_una", 32)
        .input("in_fin_seq", 32)
        .input("in_rcv_nxt", 32)
        .input("in_snd_wnd", 16)
        .input("in_rcv_wnd", 16)
        .input("in_ts_recent", 32)
        .input("in_flags", 8)
        .input("in_seq", 32)
        .input("in_ack", 32)
        .input("in_window", 16)
        .input("in_plen", 16)
        .input("in_ts", 1)
        .input("in_tsval", 32)
        .output("out_valid", 1)
        .output("out_pass_on", 1)
        .output("out_reply", 3)
        .output("out_write", 1)
        .output("out_timer", 2)
        .output("out_remove", 1)
        .output("out_reason", 3)
        .output("out_count_valid", 1)
        .output("out_count", 4)
        .output("out_state", 3)
        .output("out_rtx", 1)
        .output("out_retries", 4)
        .output("out_snd_una", 32)
        .output("out_snd_wnd", 16)
        .output("out_rcv_nxt", 32)
        .output("out_ts_recent", 32)
}

fn inputs(rst: bool, valid: bool, e: &Entry, s: &Seg) -> Vec<Val> {
    vec![
        rst.into(),
        valid.into(),
        (e.state as u64).into(),
        e.ts_on.into(),
        e.rtx.into(),
        (e.retries as u64).into(),
        (e.snd_shift as u64).into(),
        (e.rcv_shift as u64).into(),
        (e.snd_una as u64).into(),
        (e.fin_seq as u64).into(),
        (e.rcv_nxt as u64).into(),
        (e.snd_wnd as u64).into(),
        (e.rcv_wnd as u64).into(),
        (e.ts_recent as u64).into(),
        (s.flags as u64).into(),
        (s.seq as u64).into(),
        (s.ack as u64).into(),
        (s.window as u64).into(),
        (s.plen as u64).into(),
        s.tsval.is_some().into(),
        (s.tsval.unwrap_or(0) as u64).into(),
    ]
}

/// What the block's outputs must be for a decision.
fn expected(d: &Decision) -> Vec<u64> {
    let reply = match d.reply {
        Reply::None => 0,
        Reply::Ack => 1,
        Reply::ChallengeAck => 2,
        Reply::RstAtAck => 3,
        Reply::FromUna => 4,
    };
    let timer = match d.timer {
        Timer::Keep => 0,
        Timer::TimeWait => 1,
        Timer::Fin2 => 2,
        Timer::Rto => 3,
    };
    let write = d.write && d.remove.is_none();
    let e = &d.entry;
    vec![
        1,
        (d.verdict == Verdict::PassOn) as u64,
        reply,
        write as u64,
        // The timer code only matters with a write-back.
        if write { timer } else { u64::MAX },
        d.remove.is_some() as u64,
        d.remove.map_or(u64::MAX, |r| r as u64),
        d.count.is_some() as u64,
        d.count.map_or(u64::MAX, |c| c as u64),
        e.state as u64,
        e.rtx as u64,
        e.retries as u64,
        e.snd_una as u64,
        e.snd_wnd as u64,
        e.rcv_nxt as u64,
        e.ts_recent as u64,
    ]
}

const NAMES: [&str; 16] = [
    "valid",
    "pass_on",
    "reply",
    "write",
    "timer",
    "remove",
    "reason",
    "count_valid",
    "count",
    "state",
    "rtx",
    "retries",
    "snd_una",
    "snd_wnd",
    "rcv_nxt",
    "ts_recent",
];

/// A random entry and segment, aimed at the decision's edges.
fn case(rnd: &mut impl FnMut() -> u64) -> (Entry, Seg) {
    // pick(0): any 64-bit value.
    let mut pick = |n: u64| if n == 0 { rnd() } else { rnd() % n };
    let state = match pick(5) {
        0 => State::FinWait1,
        1 => State::FinWait2,
        2 => State::Closing,
        3 => State::LastAck,
        _ => State::TimeWait,
    };
    // Values at the 32-bit wrap now and then.
    let near_wrap = |v: u64| match v % 8 {
        0 => u32::MAX,
        1 => 0,
        2 => u32::MAX - 1,
        _ => (v >> 3) as u32,
    };
    let fin_seq = near_wrap(pick(0));
    let snd_una = match pick(5) {
        0 => fin_seq,
        1 => fin_seq.wrapping_add(1),
        2 => fin_seq.wrapping_sub(1 + pick(3000) as u32),
        3 => fin_seq.wrapping_sub(pick(1 << 20) as u32),
        _ => pick(0) as u32,
    };
    let rcv_nxt = near_wrap(pick(0));
    let wnd = |p: u64, r: u64| match p {
        0 => 0u16,
        1 => (r % 16) as u16,
        2 => (r % 2000) as u16,
        _ => r as u16,
    };
    let snd_wnd = wnd(pick(6), pick(0));
    let rcv_wnd = wnd(pick(6), pick(0));
    let ts_recent = pick(0) as u32;
    let e = Entry {
        state,
        ts_on: pick(3) != 0,
        rtx: pick(2) == 0,
        retries: pick(16) as u8,
        retry_limit: 8,
        queue: 0,
        snd_shift: pick(15) as u8,
        rcv_shift: match pick(3) {
            0 => 0,
            _ => pick(15) as u8,
        },
        snd_una,
        fin_seq,
        rcv_nxt,
        snd_wnd,
        rcv_wnd,
        mss: 1460,
        rto: 200,
        ts_recent,
        ts_offset: 0,
        deadline: 0,
        start: 0,
        buf_addr: 0,
        kept: 0,
        peer_mac: [0; 6],
        local_mac: [0; 6],
        tag: 0,
    };
    let mut flags = 0u8;
    if pick(10) < 8 {
        flags |= ACK;
    }
    if pick(4) == 0 {
        flags |= FIN;
    }
    if pick(8) == 0 {
        flags |= SYN;
    }
    if pick(8) == 0 {
        flags |= RST;
    }
    if pick(4) == 0 {
        flags |= PSH;
    }
    // A TIME-WAIT SYN often enough to see both of its outcomes.
    if state == State::TimeWait && pick(6) == 0 {
        flags = SYN;
    }
    let plen = match pick(6) {
        0..=2 => 0u16,
        3 => 1 + pick(4) as u16,
        4 => pick(3000) as u16,
        _ => pick(0) as u16,
    };
    let small = pick(3000) as u32;
    let seq = match pick(9) {
        0 | 1 => rcv_nxt,
        2 => rcv_nxt.wrapping_sub(1),
        3 => rcv_nxt.wrapping_add(1),
        4 => rcv_nxt.wrapping_add(small),
        5 => rcv_nxt.wrapping_sub(small),
        6 => rcv_nxt.wrapping_sub(plen as u32),
        7 => rcv_nxt.wrapping_sub(plen as u32).wrapping_sub(1),
        _ => pick(0) as u32,
    };
    let snd_nxt = fin_seq.wrapping_add(1);
    let max_wnd = (snd_wnd as u32) << e.snd_shift;
    let ack = match pick(10) {
        0 | 1 => snd_nxt,
        2 => snd_una,
        3 => fin_seq,
        4 => snd_nxt.wrapping_add(1),
        5 => snd_una.wrapping_add(1 + pick(3000) as u32),
        6 => snd_una.wrapping_sub(max_wnd),
        7 => snd_una.wrapping_sub(max_wnd).wrapping_sub(1),
        8 => snd_una.wrapping_sub(small),
        _ => pick(0) as u32,
    };
    let tsval = match pick(8) {
        0 => None,
        1 => Some(ts_recent),
        2 => Some(ts_recent.wrapping_sub(1)),
        3 | 4 => Some(ts_recent.wrapping_add(1 + pick(1000) as u32)),
        5 => Some(ts_recent.wrapping_sub(pick(1 << 31) as u32)),
        _ => Some(pick(0) as u32),
    };
    let s = Seg {
        flags,
        seq,
        ack,
        window: pick(0) as u16,
        plen,
        tsval,
    };
    (e, s)
}

/// A coverage key: what kind of decision this was.
fn outcome(d: &Decision) -> String {
    let mut k = format!("reply {:?}", d.reply);
    if d.verdict == Verdict::PassOn {
        k += " pass-on";
    }
    if let Some(r) = d.remove {
        k += &format!(" remove {r:?}");
    } else if d.write {
        k += &format!(" write {:?}", d.timer);
    }
    if let Some(c) = d.count {
        k += &format!(" count {c:?}");
    }
    k
}

#[test]
fn teardown_decide_matches_the_model() {
    let mut rnd = seeded_rng();
    let n = 40_000;
    let mut rows = vec![];
    let mut sent: Vec<(Entry, Seg, Decision)> = vec![];
    // Index into `sent` of the segment fed at each row.
    let mut fed = vec![];
    let (idle_e, idle_s) = case(&mut rnd);
    rows.push(inputs(true, false, &idle_e, &idle_s));
    fed.push(None);
    while sent.len() < n {
        let (e, s) = case(&mut rnd);
        let valid = rnd() % 8 != 0;
        let rst = rnd() % 5_000 == 0;
        rows.push(inputs(rst, valid, &e, &s));
        if valid && !rst {
            fed.push(Some(sent.len()));
            sent.push((e, s, decide(&e, &s)));
        } else {
            // A reset also clears what is in flight (the harness samples
            // the outputs before each row's clock edge: the segment fed
            // DECIDE_LATENCY rows before the reset is already out).
            if rst {
                for f in fed.iter_mut().rev().take(DECIDE_LATENCY - 1) {
                    if let Some(i) = f.take() {
                        sent[i].2.verdict = Verdict::NotOurs;
                    }
                }
            }
            fed.push(None);
        }
    }
    for _ in 0..DECIDE_LATENCY + 2 {
        rows.push(inputs(false, false, &idle_e, &idle_s));
        fed.push(None);
    }
    let out = block().run(&rows);
    let mut checked = 0usize;
    let mut coverage: BTreeMap<String, usize> = BTreeMap::new();
    for (row, o) in out.iter().enumerate() {
        // The segment fed DECIDE_LATENCY rows earlier.
        let src = row
            .checked_sub(DECIDE_LATENCY)
            .and_then(|r| fed[r])
            .filter(|&i| sent[i].2.verdict != Verdict::NotOurs);
        match src {
            None => assert!(!o[0].bit(), "row {row}: a decision out of nothing"),
            Some(i) => {
                let (e, s, d) = &sent[i];
                let want = expected(d);
                for (k, w) in want.iter().enumerate() {
                    if *w != u64::MAX {
                        assert_eq!(
                            o[k].u64(),
                            *w,
                            "segment {i} (row {row}), output {}: entry {e:?}, segment {s:?}, model {d:?}",
                            NAMES[k]
                        );
                    }
                }
                checked += 1;
                *coverage.entry(outcome(d)).or_default() += 1;
            }
        }
    }
    for (k, v) in &coverage {
        println!("{v:>7}  {k}");
    }
    println!("{checked} decisions checked");
    assert!(checked > n - 100);
    // Every reply, timer, reason and counter the decision can produce.
    let seen = |pat: &str| {
        coverage
            .iter()
            .filter(|(k, _)| k.contains(pat))
            .map(|(_, v)| v)
            .sum::<usize>()
    };
    for pat in [
        "reply Ack",
        "reply ChallengeAck",
        "reply RstAtAck",
        "reply FromUna",
        "pass-on",
        "write Keep",
        "write TimeWait",
        "write Fin2",
        "write Rto",
    ] {
        assert!(seen(pat) >= 20, "only {} decisions with {pat:?}", seen(pat));
    }
    for r in [
        Reason::Normal,
        Reason::RstReceived,
        Reason::DataAfterClose,
        Reason::TimeWaitReused,
    ] {
        let pat = format!("remove {r:?}");
        assert!(
            seen(&pat) >= 20,
            "only {} decisions with {pat:?}",
            seen(&pat)
        );
    }
    for c in [
        TdCounter::RstDropped,
        TdCounter::PawsDrop,
        TdCounter::TwSynAccepted,
        TdCounter::TwSynRefused,
        TdCounter::TwFinReacked,
    ] {
        let pat = format!("count {c:?}");
        assert!(
            seen(&pat) >= 20,
            "only {} decisions with {pat:?}",
            seen(&pat)
        );
    }
}

#[test]
fn teardown_decide_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
