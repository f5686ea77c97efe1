//! The listener table (`toe_hdl::setup::listen`) in Verilator: a directed
//! sequence, then tens of thousands of random cycles (writes to random and
//! to a few hot entries while queries flow, exact and any-IP entries,
//! invalid entries, resets of 1 to 3 cycles) against a plain Rust table
//! (common/listen_ref.rs), every output checked every cycle; and
//! `verilator --lint-only -Wall` of its Verilog with the project's waivers.
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/listen_ref.rs"]
mod listen_ref;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use listen_ref::{directed, expect, random_cycles, Cycle};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::setup::listen::{ListenTable, LISTEN_INDEX_BITS, LISTEN_LATENCY, LISTEN_TAG_BITS};

const CYCLES: usize = 40_000;

fn block() -> VltBlock {
    let mut uut = ListenTable::default();
    uut.connect_all();
    // `rst` is an ordinary input here, driven per cycle by the stimulus.
    VltBlock::new("listen", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("wr_en", 1)
        .input("wr_index", LISTEN_INDEX_BITS)
        .input("wr_valid", 1)
        .input("wr_any_ip", 1)
        .input("wr_ip", 32)
        .input("wr_port", 16)
        .input("wr_offload", 1)
        .input("rd_index", LISTEN_INDEX_BITS)
        .input("rd_en", 1)
        .input("in_valid", 1)
        .input("in_ip", 32)
        .input("in_port", 16)
        .input("in_tag", LISTEN_TAG_BITS)
        .output("rd_valid", 1)
        .output("rd_any_ip", 1)
        .output("rd_ip", 32)
        .output("rd_port", 16)
        .output("rd_offload", 1)
        .output("out_valid", 1)
        .output("out_hit", 1)
        .output("out_exact", 1)
        .output("out_offload", 1)
        .output("out_index", LISTEN_INDEX_BITS)
        .output("out_tag", LISTEN_TAG_BITS)
}

fn row(c: &Cycle) -> Vec<Val> {
    let (wr_en, (wi, we)) = match c.wr {
        Some(w) => (true, w),
        None => (false, (0, Default::default())),
    };
    let (qv, (ip, port, tag)) = match c.query {
        Some(q) => (true, q),
        None => (false, (0, 0, 0)),
    };
    vec![
        c.rst.into(),
        wr_en.into(),
        (wi as u64).into(),
        we.valid.into(),
        we.any_ip.into(),
        (we.ip as u64).into(),
        (we.port as u64).into(),
        we.offload.into(),
        (c.rd_index as u64).into(),
        true.into(),
        qv.into(),
        (ip as u64).into(),
        (port as u64).into(),
        (tag as u64).into(),
    ]
}

#[test]
fn listen_verilated_matches_reference() {
    let mut rnd = seeded_rng();
    let mut cycles = directed();
    cycles.extend(random_cycles(&mut rnd, CYCLES / 2, 25, 1500));
    // A second half with few writes: long runs of queries against a
    // stable, fuller table.
    let mut quiet = random_cycles(&mut rnd, CYCLES / 2, 3, 0);
    quiet.remove(0); // no reset between the halves
    cycles.extend(quiet);
    for _ in 0..LISTEN_LATENCY + 2 {
        cycles.push(Cycle::default());
    }
    let want = expect(&cycles, LISTEN_LATENCY);
    let inputs: Vec<Vec<Val>> = cycles.iter().map(row).collect();
    let b = block();
    let t = std::time::Instant::now();
    b.build();
    println!("built in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let outputs = b.run(&inputs);
    println!("{} cycles simulated in {:.1?}", inputs.len(), t.elapsed());
    let mut answered = 0;
    // Cycle 0 drives the first reset; outputs are defined from cycle 1.
    for (n, out) in outputs.iter().enumerate().skip(1) {
        if let Some(e) = want.reads[n] {
            assert_eq!(
                (
                    out[0].bit(),
                    out[1].bit(),
                    out[2].u64(),
                    out[3].u64(),
                    out[4].bit()
                ),
                (e.valid, e.any_ip, e.ip as u64, e.port as u64, e.offload),
                "read-back in cycle {n} (rd_index {} of cycle {})",
                cycles[n - 1].rd_index,
                n - 1
            );
        }
        let got_valid = out[5].bit();
        match want.answers[n] {
            None => assert!(
                !got_valid && !out[6].bit(),
                "cycle {n}: out_valid/out_hit without a query {LISTEN_LATENCY} cycles before"
            ),
            Some((a, tag)) => {
                let q = cycles[n - LISTEN_LATENCY].query.unwrap();
                assert_eq!(
                    (
                        got_valid,
                        out[6].bit(),
                        out[7].bit(),
                        out[8].bit(),
                        out[9].u64() as usize,
                        out[10].u64() as u32
                    ),
                    (true, a.hit, a.exact, a.offload, a.index, tag),
                    "cycle {n}: answer (valid, hit, exact, offload, index, tag) to query {q:x?} of cycle {}",
                    n - LISTEN_LATENCY
                );
                answered += 1;
            }
        }
    }
    let cov = want.coverage;
    println!("{cov:?}");
    assert!(answered > CYCLES / 2);
    assert!(cov.dropped_by_reset > 0 && cov.misses > 100 && cov.any_hits > 1000);
    assert!(cov.exact_hits > 1000 && cov.exact_over_lower_any > 100);
    assert!(cov.invalid_skipped > 100 && cov.high_index_hits > 100);
    assert!(cov.changed_by_write > 100);
}

#[test]
fn listen_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
