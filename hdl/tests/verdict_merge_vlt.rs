//! The RX verdict merge (`toe_hdl::rx::verdict_merge::RxVerdictMerge`) in
//! Verilator, stepped cycle by cycle: random metadata records (with random
//! valid and the RX path's candidate bits set at random) and, a cycle
//! later, random verdicts from every offload slot, each part (consume,
//! kind, options) claimed independently, often by several slots at once,
//! with a few resets.  Checked every cycle against a plain reference:
//! the record comes out one cycle after it went in, its candidate bits
//! 227:224 cleared, each part of the verdict applied from the lowest slot
//! that claims it (consume: drop reason `REASON_COUNTED_ELSEWHERE`; kind:
//! bits 103:96; options: MSS 127:112, window scale 135:128,
//! SACK-permitted 136), every other bit unchanged; no record (all zero)
//! when none went in or after a reset.  Then `verilator --lint-only -Wall`.
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_contract::desc as d;
use toe_hdl::rx::event::RX_OFFLOADS;
use toe_hdl::rx::parse::REASON_COUNTED_ELSEWHERE;
use toe_hdl::rx::path::META_BITS;
use toe_hdl::rx::verdict_merge::RxVerdictMerge;

const LIMBS: usize = META_BITS.div_ceil(64);

/// The block's Verilog with `$` in names (rust-hdl's array ports such as
/// `verdict$0$consume`) turned into `_`, which C++ accepts.
fn block() -> VltBlock {
    let mut uut = RxVerdictMerge::default();
    uut.connect_all();
    let mut b = VltBlock::new(
        "verdict_merge",
        generate_verilog(&uut).replace('$', "_"),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("in_valid", 1)
    .input("in_meta", META_BITS);
    for i in 0..RX_OFFLOADS {
        b = b
            .input(&format!("verdict_{i}_consume"), 1)
            .input(&format!("verdict_{i}_kind_valid"), 1)
            .input(&format!("verdict_{i}_kind"), 8)
            .input(&format!("verdict_{i}_opts_valid"), 1)
            .input(&format!("verdict_{i}_mss"), 16)
            .input(&format!("verdict_{i}_ws"), 8)
            .input(&format!("verdict_{i}_sackp"), 1);
    }
    b.output("out_valid", 1).output("out_meta", META_BITS)
}

#[derive(Clone, Copy, Default, Debug)]
struct Verdict {
    consume: bool,
    kind: Option<u8>,
    opts: Option<(u16, u8, bool)>,
}

fn set(m: &mut [u64], at: usize, width: usize, v: u64) {
    for b in 0..width {
        let (w, s) = ((at + b) / 64, (at + b) % 64);
        m[w] = m[w] & !(1 << s) | ((v >> b) & 1) << s;
    }
}

/// The merge as the contract describes it: the lowest claiming slot wins.
fn reference(meta: &[u64], verdicts: &[Verdict]) -> Vec<u64> {
    let mut m = meta.to_vec();
    set(&mut m, 224, 4, 0);
    if let Some(v) = verdicts.iter().find(|v| v.kind.is_some()) {
        set(&mut m, d::CPL_KIND_BIT, 8, v.kind.unwrap() as u64);
    }
    if let Some(v) = verdicts.iter().find(|v| v.opts.is_some()) {
        let (mss, ws, sackp) = v.opts.unwrap();
        set(&mut m, d::CPL_MSS_BIT, 16, mss as u64);
        set(&mut m, d::CPL_WSCALE_BIT, 8, ws as u64);
        set(&mut m, d::CPL_OPTS_BIT, 1, sackp as u64);
    }
    if verdicts.iter().any(|v| v.consume) {
        set(&mut m, 256, 4, REASON_COUNTED_ELSEWHERE);
    }
    m
}

fn inputs(rst: bool, valid: bool, meta: &[u64], verdicts: &[Verdict]) -> Vec<Val> {
    let mut row = vec![rst.into(), valid.into(), Val(meta.to_vec())];
    for v in verdicts {
        let (mss, ws, sackp) = v.opts.unwrap_or_default();
        row.extend([
            v.consume.into(),
            v.kind.is_some().into(),
            (v.kind.unwrap_or(0) as u64).into(),
            v.opts.is_some().into(),
            (mss as u64).into(),
            (ws as u64).into(),
            sackp.into(),
        ]);
    }
    row
}

#[test]
fn verdict_merge_applies_the_lowest_claiming_slot_a_cycle_later() {
    let mut rnd = seeded_rng();
    let mut st = block().start();
    let none = vec![Verdict::default(); RX_OFFLOADS];
    let zero = vec![0u64; LIMBS];
    st.step(&inputs(true, false, &zero, &none));
    // The record that went in last cycle (None: none, or reset).
    let mut held: Option<Vec<u64>> = None;
    let (mut merged, mut claimed, mut contested) = (0usize, 0usize, 0usize);
    for cycle in 0..20_000 {
        let rst = rnd() % 997 == 0;
        let valid = rnd() % 4 != 0;
        let mut meta: Vec<u64> = (0..LIMBS).map(|_| rnd()).collect();
        meta[LIMBS - 1] &= (1 << (META_BITS % 64)) - 1;
        let verdicts: Vec<Verdict> = (0..RX_OFFLOADS)
            .map(|_| Verdict {
                consume: rnd() % 5 == 0,
                kind: (rnd() % 3 == 0).then(|| rnd() as u8),
                opts: (rnd() % 3 == 0).then(|| (rnd() as u16, rnd() as u8, rnd() % 2 == 0)),
            })
            .collect();
        let post = st.step(&inputs(rst, valid, &meta, &verdicts));
        match &held {
            Some(m) => {
                let want = reference(m, &verdicts);
                assert!(post[0].bit(), "cycle {cycle}: a record was lost");
                assert_eq!(
                    post[1].0, want,
                    "cycle {cycle}: record {m:x?} with verdicts {verdicts:?}"
                );
                merged += 1;
                let claims = verdicts
                    .iter()
                    .filter(|v| v.consume || v.kind.is_some() || v.opts.is_some())
                    .count();
                claimed += (claims > 0) as usize;
                contested += (claims > 1) as usize;
            }
            None => {
                assert!(!post[0].bit(), "cycle {cycle}: a record out of nothing");
                assert!(
                    post[1].0.iter().all(|&w| w == 0),
                    "cycle {cycle}: out_meta without a record"
                );
            }
        }
        held = (valid && !rst).then_some(meta);
    }
    println!("{merged} records merged, {claimed} claimed, {contested} by several slots");
    assert!(merged > 10_000 && contested > 1_000);
}

#[test]
fn verdict_merge_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
