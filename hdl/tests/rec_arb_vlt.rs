//! The record arbiter (`toe_hdl::common::rec_arb::RecArbN<N, W>`) in
//! Verilator with 2, 4 and 8 queues of 368-bit records, stepped cycle by
//! cycle: first-word-fall-through queues that fill at random, a consumer
//! that pops the offered record at random (or holds it, reading it over
//! several cycles as `CtlFrameTx` does).  Checked every cycle: the offered
//! record and empty flag are the head of one queue, the pop goes to that
//! queue only (so records leave each queue in order, none lost or
//! repeated), the offer does not move while a record is held unpopped, an
//! empty offer moves to a queue with a record within a cycle, fairness (a
//! queue with a record sees at most `N - 1` pops of others before its own),
//! and with every queue busy and the consumer always popping one record
//! per cycle; at the end every record comes out (a drain).  The order,
//! fairness and drain bookkeeping is `common/arb_check.rs`, shared with
//! `frame_arb_vlt`.  Seeded: `TOE_SEED=n` replays a run.
#[path = "common/arb_check.rs"]
mod arb_check;
mod common;
#[path = "common/seed.rs"]
mod seed;

use arb_check::{assert_full_rate, drain, Fairness, Ledger};
use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_hdl::common::rec_arb::RecArbN;

const W: usize = 368;

/// The block's Verilog with `$` in names (rust-hdl's array ports such as
/// `i_rec$0`) turned into `_`, which C++ accepts.
fn block<const N: usize>(name: &str) -> VltBlock {
    let mut uut = RecArbN::<N, W>::default();
    uut.connect_all();
    let mut b = VltBlock::new(name, generate_verilog(&uut).replace('$', "_"), "top")
        .clock("clock")
        .input("rst", 1);
    for i in 0..N {
        b = b
            .input(&format!("i_{i}_empty"), 1)
            .input(&format!("i_{i}_data"), W);
    }
    b = b.input("o_pop", 1);
    for i in 0..N {
        b = b.output(&format!("i_{i}_pop"), 1);
    }
    b.output("o_empty", 1).output("o_data", W)
}

/// Record `seq` of queue `q` (`seq = u32::MAX`: what an empty queue shows).
fn rec(q: usize, seq: u64) -> Val {
    let tag = (q as u64) << 32 | seq;
    let mut v = vec![tag];
    for k in 1..5u64 {
        v.push(
            tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(k as u32 * 9)
                ^ k,
        );
    }
    v.push((tag ^ 0x5555) & 0xFFFF_FFFF_FFFF);
    Val(v)
}

fn queue_of(v: &Val) -> usize {
    (v.u64() >> 32) as usize
}

/// What queue `q` shows: its head record, or the empty marker.
fn head(qs: &[VecDeque<u64>], q: usize) -> Val {
    rec(q, qs[q].front().copied().unwrap_or(u32::MAX as u64))
}

/// The block's inputs for queues `qs` and the consumer's `pop`.
fn inputs(qs: &[VecDeque<u64>], pop: bool) -> Vec<Val> {
    let mut ins: Vec<Val> = vec![false.into()];
    for (i, q) in qs.iter().enumerate() {
        ins.push(q.is_empty().into());
        ins.push(head(qs, i));
    }
    ins.push(pop.into());
    ins
}

/// The outputs after a step: queue `sel`'s head offered (and its empty
/// flag), the consumer's `pop` passed to that queue alone.
fn check_outputs(post: &[Val], qs: &[VecDeque<u64>], sel: usize, pop: bool, at: &str) {
    let n = qs.len();
    assert_eq!(post[n].bit(), qs[sel].is_empty(), "{at}: o_empty");
    assert_eq!(
        post[n + 1],
        head(qs, sel),
        "{at}: o_rec is not queue {sel}'s head"
    );
    for (i, p) in post[..n].iter().enumerate() {
        assert_eq!(p.bit(), pop && i == sel, "{at}: i_pop_{i}");
    }
}

fn run<const N: usize>(name: &str) {
    let mut rnd = seeded_rng();
    let mut st = block::<N>(name).start();
    let mut idle: Vec<Val> = vec![true.into()];
    for i in 0..N {
        idle.extend([true.into(), rec(i, u32::MAX as u64)]);
    }
    idle.push(false.into());
    for _ in 0..2 {
        st.step(&idle);
    }
    let mut qs: Vec<VecDeque<u64>> = vec![VecDeque::new(); N];
    let mut next_seq = vec![0u64; N];
    let mut ledger = Ledger::new(N);
    let mut fair = Fairness::new(N);
    // The offer of the previous cycle: (queue, held unpopped with a record,
    // empty while another queue had a record).
    let mut prev: Option<(usize, bool, bool)> = None;
    let (mut pops, mut cycles) = (0usize, 0usize);
    for phase in 0..6 {
        let full = phase % 2 == 1;
        let (phase_pops, phase_start) = (pops, cycles);
        let fill = [3u64, 0, 6, 0, 9, 0][phase];
        for _ in 0..4000 {
            for (i, q) in qs.iter_mut().enumerate() {
                while q.len() < 4 && (full || rnd() % 10 < fill) {
                    q.push_back(next_seq[i]);
                    ledger.sent(i, next_seq[i]);
                    next_seq[i] += 1;
                    if !full {
                        break;
                    }
                }
            }
            // The offered queue (a register): shown before the inputs.
            let sel = queue_of(&st.peek()[N + 1]);
            assert!(sel < N, "cycle {cycles}: offered queue {sel}");
            let c = cycles;
            cycles += 1;
            if let Some((p, held, moved)) = prev {
                if held {
                    assert_eq!(sel, p, "cycle {c}: the offer moved from a held record");
                }
                if moved {
                    assert!(
                        !qs[sel].is_empty(),
                        "cycle {c}: still offering an empty queue"
                    );
                }
            }
            let others_wait = qs
                .iter()
                .enumerate()
                .any(|(i, q)| i != sel && !q.is_empty());
            let pop = !qs[sel].is_empty() && (full || rnd() % 3 != 0);
            let post = st.step(&inputs(&qs, pop));
            check_outputs(&post, &qs, sel, pop, &format!("cycle {c}"));
            for (i, q) in qs.iter().enumerate() {
                if !q.is_empty() {
                    fair.waits(i);
                }
            }
            if pop {
                ledger.came_out(sel, qs[sel].pop_front().unwrap(), c);
                pops += 1;
                fair.served(sel);
                fair.grant_ended(sel, c);
            }
            prev = Some((
                sel,
                !pop && !qs[sel].is_empty(),
                qs[sel].is_empty() && others_wait,
            ));
        }
        if full {
            assert_full_rate(N, pops - phase_pops, cycles - phase_start, "pops");
        }
    }
    // Drain: no new records, the consumer pops whatever is offered.
    drain(&mut ledger, 1000, |ledger, c| {
        let sel = queue_of(&st.peek()[N + 1]);
        let pop = !qs[sel].is_empty();
        let post = st.step(&inputs(&qs, pop));
        check_outputs(&post, &qs, sel, pop, &format!("drain cycle {c}"));
        if pop {
            ledger.came_out(sel, qs[sel].pop_front().unwrap(), c);
        }
    });
    println!(
        "N = {N}: {pops} pops in {cycles} cycles; worst wait {} pops",
        fair.worst
    );
    assert!(pops > 10_000);
}

#[test]
fn rec_arb2_in_order_fair() {
    run::<2>("rec_arb2");
}

#[test]
fn rec_arb4_in_order_fair() {
    run::<4>("rec_arb4");
}

#[test]
fn rec_arb8_in_order_fair() {
    run::<8>("rec_arb8");
}

#[test]
fn rec_arb_lint_clean() {
    if let Err(findings) = block::<4>("rec_arb_lint").lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
