//! Benchmark of the teardown engine (`toe_hdl::teardown::engine::
//! TeardownEngine64K`: 64K slots, the 64K-entry connection table) on the
//! Verilated block, every figure counted from simulated cycles:
//!
//! * hand-overs back to back (no kept data, distinct tuples): cycles per
//!   hand-over, from the first record offered to the last FIN out;
//! * the peers' FIN|ACK for every entry, in bursts of 16 (the engine's
//!   segment queue): cycles per segment job, to the last ACK out;
//! * TIME-WAIT expiry of all of them in one tick: cycles per expiry, to
//!   the last event out;
//! * the entries held at each point (the engine's own count).
//!
//! Each closing connection costs the engine the three jobs (hand-over,
//! the peer's FIN, the expiry); the sum is the engine's cycles per close.
//! `cargo bench -p toe-hdl --bench teardown_engine -- [--json] [--closes N]`.
#[path = "../tests/common/mod.rs"]
mod common;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use toe_contract::teardown::{CloseOrder, HandOver, HANDOVER_BYTES};
use toe_hdl::teardown::engine::{TeardownEngine64K, CNT_BITS};

const ACK: u64 = 0x10;
const FIN: u64 = 0x01;

fn block() -> VltBlock {
    let mut uut = TeardownEngine64K::default();
    uut.connect_all();
    VltBlock::new("teardown_engine_64k", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("enable", 1)
        .input("tw_ticks", 32)
        .input("fin_timeout", 32)
        .input("retries_default", 4)
        .input("max_tw", 17)
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
        .output("ho_ready", 1)
        .output("rp_valid", 1)
        .output("ev_valid", 1)
        .output("cnt_inc", CNT_BITS)
        .output("entries", 17)
        .output("clearing", 1)
}

/// One cycle's inputs.
#[derive(Clone, Default)]
struct In {
    rst: bool,
    now: u32,
    seg: Option<(u128, u64, u32, u32)>,
    ho: Option<[u8; HANDOVER_BYTES]>,
}

fn row(i: &In) -> Vec<Val> {
    let (tuple, flags, seq, ack) = i.seg.unwrap_or((0, 0, 0, 0));
    let rec = i.ho.unwrap_or([0; HANDOVER_BYTES]);
    let limbs: Vec<u64> = rec
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    vec![
        i.rst.into(),
        true.into(),
        5u64.into(),
        30u64.into(),
        8u64.into(),
        (1u64 << 16).into(),
        (i.now as u64).into(),
        0x1234u64.into(),
        0x5678u64.into(),
        i.seg.is_some().into(),
        Val(vec![tuple as u64, (tuple >> 64) as u64]),
        flags.into(),
        (seq as u64).into(),
        (ack as u64).into(),
        0xffffu64.into(),
        0u64.into(),
        false.into(),
        0u64.into(),
        i.ho.is_some().into(),
        Val(limbs),
        0u64.into(),
        (HANDOVER_BYTES as u64).into(),
        true.into(),
        true.into(),
    ]
}

struct Conn {
    rec: HandOver,
}

impl Conn {
    fn new(i: usize) -> Conn {
        let fin_seq = (i as u32).wrapping_mul(0x9e37_79b9);
        Conn {
            rec: HandOver {
                peer: ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000),
                local: ([10, 255, 0, 1], 80),
                peer_mac: [2, 0, 0, 0, 0, 2],
                local_mac: [2, 0, 0, 0, 0, 1],
                order: CloseOrder::Active,
                snd_una: fin_seq,
                fin_seq,
                rcv_nxt: fin_seq ^ 0x5555_5555,
                ts: None,
                snd_wnd: 65535,
                snd_shift: 7,
                rcv_wnd: 65535,
                rcv_shift: 7,
                rto: 200,
                mss: 1460,
                retry_limit: 0,
                tag: i as u32,
            },
        }
    }
    fn tuple(&self) -> u128 {
        let h = &self.rec;
        (u32::from_be_bytes(h.peer.0) as u128) << 64
            | (u32::from_be_bytes(h.local.0) as u128) << 32
            | (h.peer.1 as u128) << 16
            | h.local.1 as u128
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let closes: usize = args
        .iter()
        .position(|a| a == "--closes")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse().expect("--closes N"))
        .unwrap_or(4096);
    assert!(closes <= 60_000, "at most 60,000 closes (64K slots)");
    let conns: Vec<Conn> = (0..closes).map(Conn::new).collect();
    let mut st = block().start();
    let mut now = 1_000u32;
    let idle = |now: u32| In {
        now,
        ..In::default()
    };
    for _ in 0..4 {
        st.step(&row(&In {
            rst: true,
            ..idle(now)
        }));
    }
    // The table's and timers' clear (64K cycles).
    let mut o = st.step(&row(&idle(now)));
    while o[5].bit() {
        o = st.step(&row(&idle(now)));
    }

    // Hand-overs back to back.
    let (mut next, mut fins, mut cycles) = (0usize, 0usize, 0u64);
    while fins < closes {
        let i = if next < closes {
            In {
                ho: Some(conns[next].rec.encode()),
                ..idle(now)
            }
        } else {
            idle(now)
        };
        let o = st.step(&row(&i));
        cycles += 1;
        if i.ho.is_some() && o[0].bit() {
            next += 1;
        }
        fins += o[1].bit() as usize;
        assert!(cycles < 1_000 * closes as u64, "hand-overs stalled");
    }
    let o = st.step(&row(&idle(now)));
    let held = o[4].u64();
    assert_eq!(held as usize, closes, "every hand-over holds an entry");
    let handover = cycles as f64 / closes as f64;

    // The peers' FIN|ACK, 16 at a time.
    let (mut acks, mut cycles) = (0usize, 0u64);
    for burst in conns.chunks(16) {
        for c in burst {
            let s = (
                c.tuple(),
                ACK | FIN,
                c.rec.rcv_nxt,
                c.rec.fin_seq.wrapping_add(1),
            );
            st.step(&row(&In {
                seg: Some(s),
                ..idle(now)
            }));
            cycles += 1;
        }
        let want = acks + burst.len();
        let mut waited = 0;
        while acks < want {
            let o = st.step(&row(&idle(now)));
            cycles += 1;
            acks += o[1].bit() as usize;
            waited += 1;
            assert!(waited < 100_000, "segment jobs stalled");
        }
    }
    let segment = cycles as f64 / closes as f64;

    // TIME-WAIT (5 ticks) ends for all in one tick.
    now += 5;
    let (mut events, mut cycles) = (0usize, 0u64);
    while events < closes {
        let o = st.step(&row(&idle(now)));
        cycles += 1;
        events += o[2].bit() as usize;
        assert!(cycles < 1_000 * closes as u64, "expiry stalled");
    }
    let mut o = st.step(&row(&idle(now)));
    for _ in 0..100 {
        o = st.step(&row(&idle(now)));
    }
    assert_eq!(o[4].u64(), 0, "the table drained");
    let expiry = cycles as f64 / closes as f64;
    let total = handover + segment + expiry;
    if json {
        println!(
            "{{\"closes\":{closes},\"cycles_per_handover\":{handover:.2},\"cycles_per_segment_job\":{segment:.2},\"cycles_per_expiry\":{expiry:.2},\"cycles_per_close\":{total:.2},\"closes_per_second_at_250mhz\":{:.0}}}",
            250e6 / total
        );
    } else {
        println!("teardown engine, 64K slots, {closes} closes (no kept data), simulated cycles:");
        println!("  hand-over (record to FIN out)      {handover:8.2} cycles each");
        println!("  peer's FIN|ACK (segment job)       {segment:8.2} cycles each (bursts of 16)");
        println!("  TIME-WAIT expiry (fire to event)   {expiry:8.2} cycles each (all in one tick)");
        println!(
            "  per close                          {total:8.2} cycles = {:.2} M closes/s at 250 MHz",
            250e6 / total / 1e6
        );
    }
}
