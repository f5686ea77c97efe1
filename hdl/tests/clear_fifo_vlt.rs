//! The FIFO with registered flags (`toe_hdl::common::fifo::ClearFifo`) in
//! Verilator against a queue model, every output checked every cycle:
//! random writes, reads (also while empty and while full) and clears, in
//! phases that fill, drain and mix; entries become visible two edges after
//! their write, `full`/`almost_full`/`level` count them from the write on.
//! Then `verilator --lint-only -Wall`.  `TOE_SEED=n` replays.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;

toe_hdl::declare_clear_fifo!(F16, Bits<8>, 16, 3);
const SIZE: usize = 16;
const BLOCK: usize = 3;
const CYCLES: usize = 30_000;

fn block() -> VltBlock {
    let mut uut = F16::default();
    uut.connect_all();
    VltBlock::new("clear_fifo", generate_verilog(&uut), "top")
        .clock("clock")
        .input("clear", 1)
        .input("write", 1)
        .input("data_in", 8)
        .input("read", 1)
        .output("empty", 1)
        .output("full", 1)
        .output("almost_full", 1)
        .output("level", 5)
        .output("data_out", 8)
}

#[test]
fn clear_fifo_verilated_matches_a_queue() {
    let mut rnd = seeded_rng();
    let mut inputs: Vec<Vec<Val>> = vec![];
    for n in 0..CYCLES {
        let r = rnd();
        let phase = (n / 300) % 3;
        let wp = [85, 15, 50][phase] as u64;
        let rp = [15, 85, 50][phase] as u64;
        let clear = n == 0 || r % 211 == 0;
        inputs.push(vec![
            clear.into(),
            (r % 100 < wp).into(),
            ((r >> 16) & 0xFF).into(),
            ((r >> 8) % 100 < rp).into(),
        ]);
    }
    let outputs = block().run(&inputs);
    // The model: visible entries, and entries written but not yet visible
    // (with the cycle of their write).
    let mut q: VecDeque<u64> = VecDeque::new();
    let mut fresh: VecDeque<(u64, usize)> = VecDeque::new();
    let (mut reads, mut full_cycles, mut refused) = (0, 0, 0);
    for (n, (inp, out)) in inputs.iter().zip(&outputs).enumerate() {
        while fresh.front().is_some_and(|&(_, c)| c + 2 <= n) {
            q.push_back(fresh.pop_front().unwrap().0);
        }
        let total = q.len() + fresh.len();
        if n > 0 {
            assert_eq!(out[0].bit(), q.is_empty(), "cycle {n}: empty");
            assert_eq!(out[1].bit(), total == SIZE, "cycle {n}: full");
            assert_eq!(
                out[2].bit(),
                total >= SIZE - BLOCK,
                "cycle {n}: almost_full"
            );
            assert_eq!(out[3].u64() as usize, total, "cycle {n}: level");
            if let Some(&h) = q.front() {
                assert_eq!(out[4].u64(), h, "cycle {n}: data_out");
            }
        }
        full_cycles += (total == SIZE) as usize;
        if inp[0].bit() {
            q.clear();
            fresh.clear();
            continue;
        }
        if inp[3].bit() && !q.is_empty() {
            q.pop_front();
            reads += 1;
        }
        if inp[1].bit() {
            if total < SIZE {
                fresh.push_back((inp[2].u64(), n));
            } else {
                refused += 1;
            }
        }
    }
    println!("reads {reads}, cycles full {full_cycles}, writes refused {refused}");
    assert!(reads > 5000 && full_cycles > 500 && refused > 500);
}

#[test]
fn clear_fifo_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
