//! The SYN-ACK block (`toe_hdl::setup::synack`) in Verilator: thousands of
//! random SYNs back to back (every option combination, random keys, clocks,
//! MSS tables and our parameters per SYN, junk in absent options, some idle
//! cycles and resets with SYNs in flight), every output compared field by
//! field with the reference model (`toe_model::cookie::syn_ack`) at exactly
//! `SYNACK_LATENCY`, and every cookie accepted by the model's `check_ack`;
//! then `verilator --lint-only -Wall` of its Verilog with the project's
//! waivers.  Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;
#[path = "common/synack_ref.rs"]
mod synack_ref;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use synack_ref::{
    check_round_trip, expected_values, input_values, random_syn, SynIn, INPUTS, OUTPUTS,
};
use toe_hdl::setup::synack::{SynAckGen, SYNACK_LATENCY};

const SYNS: usize = 20_000;

fn block() -> VltBlock {
    let mut uut = SynAckGen::default();
    uut.connect_all();
    // `rst` is an ordinary input, driven per cycle.
    let mut b = VltBlock::new("synack", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1);
    for (name, w) in INPUTS {
        b = b.input(name, w);
    }
    for (name, w) in OUTPUTS {
        b = b.output(name, w);
    }
    b
}

#[test]
fn synack_verilated_matches_model() {
    let mut rnd = seeded_rng();
    // One entry per cycle: (rst, valid, SYN).
    let mut cycles: Vec<(bool, bool, SynIn)> = vec![];
    let first = random_syn(&mut rnd);
    cycles.push((true, false, first));
    cycles.push((true, false, first));
    let mut sent = 0;
    while sent < SYNS {
        let r = rnd();
        let s = random_syn(&mut rnd);
        if r % 2000 == 7 {
            // A reset with SYNs in flight (and one presented during it).
            cycles.push((true, true, s));
            continue;
        }
        let valid = !r.is_multiple_of(10);
        cycles.push((false, valid, s));
        sent += valid as usize;
    }
    for _ in 0..SYNACK_LATENCY + 2 {
        cycles.push((false, false, first));
    }
    let rst_at: Vec<bool> = cycles.iter().map(|c| c.0).collect();
    let inputs: Vec<Vec<Val>> = cycles
        .iter()
        .map(|(rst, valid, s)| {
            let mut row: Vec<Val> = vec![(*rst).into()];
            row.extend(input_values(s, *valid).into_iter().map(Val::from));
            row
        })
        .collect();
    let b = block();
    let t = std::time::Instant::now();
    b.build();
    println!("built in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let outputs = b.run(&inputs);
    println!("{} cycles simulated in {:.1?}", inputs.len(), t.elapsed());
    let mut checked = 0;
    let mut dropped = 0;
    let mut with_ts = 0;
    let mut clamped_ws = 0;
    let mut classes = [0usize; 4];
    // Cycles 0 and 1 are the reset; everything reads zero after it.
    assert!(
        outputs[2].iter().all(|v| v.u64() == 0),
        "after reset: {:?}",
        outputs[2]
    );
    for (n, out) in outputs.iter().enumerate().skip(2) {
        let src = n.checked_sub(SYNACK_LATENCY);
        let syn = src.and_then(|i| {
            let (_, valid, s) = &cycles[i];
            let killed = (i..n).any(|r| rst_at[r]);
            dropped += (*valid && killed && i >= 2) as usize;
            (*valid && !killed).then_some(s)
        });
        let got: Vec<u64> = out.iter().map(Val::u64).collect();
        match syn {
            None => assert_eq!(got[0], 0, "out_valid in cycle {n}"),
            Some(s) => {
                let want = expected_values(s);
                for (k, (name, _)) in OUTPUTS.iter().enumerate() {
                    assert_eq!(
                        got[k],
                        want[k],
                        "{name} in cycle {n} for the SYN of cycle {}: {s:?}",
                        n - SYNACK_LATENCY
                    );
                }
                check_round_trip(s, got[6] as u32, (got[13] == 1).then_some(got[14] as u32));
                checked += 1;
                with_ts += s.syn.tsval.is_some() as usize;
                clamped_ws += s.syn.wscale.is_some_and(|w| w > 14) as usize;
                classes[toe_contract::setup::mss_class(&s.mss_table, s.syn.mss) as usize] += 1;
            }
        }
    }
    println!(
        "{checked} SYN-ACKs checked, {dropped} dropped by resets, {with_ts} with timestamps, \
         {clamped_ws} with wscale > 14, MSS classes {classes:?}"
    );
    assert_eq!(
        checked + dropped,
        SYNS + rst_at.iter().skip(2).filter(|&&r| r).count()
    );
    assert!(dropped > 0 && classes.iter().all(|&c| c > 100) && clamped_ws > 50);
}

#[test]
fn synack_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
