//! The register slice (`toe_hdl::common::reg_slice::RegSlice`) in
//! Verilator, stepped cycle by cycle: random valid on the input side and
//! random ready on the output side, with a few resets; checked every cycle:
//! every output is registered (the same before and after the cycle's inputs
//! are applied), words come out in order with none lost or repeated, an
//! offered word stays until taken (AXI), and with the output always ready a
//! word moves every cycle; `next_valid`/`next_data` show the word that
//! follows the one taken.  Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_hdl::common::reg_slice::RegSlice;

const W: usize = 100;

fn block() -> VltBlock {
    let mut uut = RegSlice::<W>::default();
    uut.connect_all();
    VltBlock::new("reg_slice", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("in_valid", 1)
        .input("in_data", W)
        .input("out_ready", 1)
        .output("in_ready", 1)
        .output("out_valid", 1)
        .output("out_data", W)
        .output("next_valid", 1)
        .output("next_data", W)
}

fn word(n: u64) -> Val {
    // Distinct in both limbs.
    Val(vec![
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        n & 0xF_FFFF_FFFF,
    ])
}

#[test]
fn reg_slice_in_order_registered_full_rate() {
    let mut rnd = seeded_rng();
    let mut st = block().start();
    // Reset.
    for _ in 0..2 {
        st.step(&[true.into(), false.into(), 0u64.into(), false.into()]);
    }
    let mut next_in = 0u64;
    let mut inflight: VecDeque<u64> = VecDeque::new();
    let mut offered: Option<Val> = None;
    let (mut moved, mut cycles) = (0usize, 0usize);
    // Phases: random valid/ready, then both always on (full rate).
    for phase in 0..6 {
        let full_rate = phase % 2 == 1;
        let (phase_moved, phase_start) = (moved, cycles);
        for _ in 0..4000 {
            let pre = st.peek().to_vec();
            let (in_ready, out_valid) = (pre[0].bit(), pre[1].bit());
            if let Some(w) = &offered {
                assert!(out_valid, "cycle {cycles}: an offered word was withdrawn");
                assert_eq!(&pre[2], w, "cycle {cycles}: an offered word changed");
            }
            let rst = !full_rate && rnd() % 2000 == 0;
            let in_valid = full_rate || rnd() % 3 != 0;
            let out_ready = full_rate || rnd() % 3 != 0;
            let post = st.step(&[rst.into(), in_valid.into(), word(next_in), out_ready.into()]);
            assert_eq!(
                post[..3],
                pre[..3],
                "cycle {cycles}: an output follows an input"
            );
            // The word after the one taken: the next in order, if any
            // (held in the slice, or this cycle's input).
            if !rst && out_valid && out_ready {
                let after = match inflight.get(1) {
                    Some(&n) => Some(n),
                    None => in_valid.then_some(next_in),
                };
                assert_eq!(post[3].bit(), after.is_some(), "cycle {cycles}: next_valid");
                if let Some(n) = after {
                    assert_eq!(post[4], word(n), "cycle {cycles}: next_data");
                }
            }
            cycles += 1;
            if rst {
                inflight.clear();
                offered = None;
                continue;
            }
            if out_valid && out_ready {
                let want = inflight.pop_front().expect("a word out of nothing");
                assert_eq!(pre[2], word(want), "cycle {cycles}: out of order");
                moved += 1;
                offered = None;
            } else if out_valid {
                offered = Some(pre[2].clone());
            }
            if in_valid && in_ready {
                inflight.push_back(next_in);
                next_in += 1;
            }
            assert!(
                inflight.len() <= 2,
                "cycle {cycles}: holds more than two words"
            );
        }
        if full_rate {
            let (n, c) = (moved - phase_moved, cycles - phase_start);
            println!("full rate: {n} words in {c} cycles");
            assert!(n + 3 >= c, "{n} words in {c} cycles");
        }
    }
    println!("{moved} words moved in {cycles} cycles");
    assert!(moved > 10_000);
}

#[test]
fn reg_slice_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
