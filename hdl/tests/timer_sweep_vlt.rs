//! The teardown timers (`toe_hdl::teardown::timer_sweep::TimerSweep`, 64
//! slots here) in Verilator: random arming and disarming of random slots
//! with deadlines in the past, at the current tick, a few ticks ahead and
//! far ahead, the tick counter crossing 2^32, random `fire_ready`, ticks
//! every 60 to 300 cycles, then a phase of ticks faster than a pass, and
//! resets.  Checked against the history of what was armed:
//!
//! * every fire names a slot that, at some cycle of the last pass's span,
//!   was armed with a deadline that had come (`deadline <= now` in
//!   sequence space);
//! * every slot that is armed with a deadline that comes, and stays so for
//!   two passes' time, fires in that time (no deadline is missed, however
//!   many fire at once);
//! * nothing fires after a reset until something is armed again (the RAM
//!   is cleared), and `set_ready` is low while it clears (64 cycles);
//! * passes happen, and ticks faster than a pass count as overruns.
//!
//! Then `verilator --lint-only -Wall`.  Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::teardown::timer_sweep::TimerSweep;

const S: usize = 6;
const SLOTS: usize = 1 << S;

fn block() -> VltBlock {
    let mut uut = TimerSweep::<S>::default();
    uut.connect_all();
    VltBlock::new("timer_sweep", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("now", 32)
        .input("set_valid", 1)
        .input("set_slot", S)
        .input("set_armed", 1)
        .input("set_deadline", 32)
        .input("fire_ready", 1)
        .output("set_ready", 1)
        .output("fire_valid", 1)
        .output("fire_slot", S)
        .output("clearing", 1)
        .output("passes", 32)
        .output("overruns", 32)
}

/// `a <= b` in sequence space.
fn le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Row {
    rst: bool,
    now: u32,
    set: Option<(usize, bool, u32)>,
    fire_ready: bool,
}

#[test]
fn timer_sweep_fires_every_due_slot_and_only_those() {
    let mut rnd = seeded_rng();
    let mut rows = vec![];
    let mut now: u32 = 0xFFFF_FF00u32.wrapping_add((rnd() % 64) as u32);
    let mut next_tick = 0usize;
    let total = 120_000;
    for r in 0..total {
        let fast = r > total * 3 / 4;
        if r >= next_tick {
            now = now.wrapping_add(1);
            next_tick = r + if fast {
                20
            } else {
                60 + (rnd() % 240) as usize
            };
        }
        let rst = r < 2 || rnd() % 40_000 == 0;
        let set = (rnd() % 6 == 0).then(|| {
            let slot = (rnd() % SLOTS as u64) as usize;
            let armed = rnd() % 4 != 0;
            let d = match rnd() % 5 {
                0 => now.wrapping_sub((rnd() % 3) as u32),
                1 => now,
                2 | 3 => now.wrapping_add(1 + (rnd() % 4) as u32),
                _ => now.wrapping_add(rnd() as u32 % 1000),
            };
            (slot, armed, d)
        });
        rows.push(Row {
            rst,
            now,
            set,
            fire_ready: rnd() % 3 != 0,
        });
    }
    let inputs: Vec<Vec<Val>> = rows
        .iter()
        .map(|r| {
            let (slot, armed, d) = r.set.unwrap_or((0, false, 0));
            vec![
                r.rst.into(),
                (r.now as u64).into(),
                r.set.is_some().into(),
                (slot as u64).into(),
                armed.into(),
                (d as u64).into(),
                r.fire_ready.into(),
            ]
        })
        .collect();
    let out = block().run(&inputs);

    // The state of each slot during each row (before that row's edge):
    // (armed, deadline), from the writes the block accepted.
    let mut state = vec![(false, 0u32); SLOTS];
    let mut history: Vec<Vec<(bool, u32)>> = vec![];
    let mut fires: Vec<(usize, usize)> = vec![];
    let mut clearing_rows = 0;
    let mut after_reset = false;
    for (r, (row, o)) in rows.iter().zip(&out).enumerate() {
        history.push(state.clone());
        let (set_ready, fire_valid, fire_slot, clearing) =
            (o[0].bit(), o[1].bit(), o[2].u64() as usize, o[3].bit());
        assert_eq!(set_ready, !clearing, "row {r}: set_ready is !clearing");
        clearing_rows += clearing as usize;
        if fire_valid && row.fire_ready {
            fires.push((r, fire_slot));
            assert!(
                !after_reset,
                "row {r}: slot {fire_slot} fired after a reset with nothing armed"
            );
        }
        if row.rst {
            state = vec![(false, 0); SLOTS];
            after_reset = true;
        } else if let (Some((slot, armed, d)), true) = (row.set, set_ready) {
            state[slot] = (armed, d);
            after_reset &= !armed;
        }
    }
    assert!(
        clearing_rows >= 2 * SLOTS,
        "the RAM was cleared after each reset"
    );
    // Soundness: the slot was due at some row of the recent past.
    const WINDOW: usize = 1_500;
    for &(f, slot) in &fires {
        let due = (f.saturating_sub(WINDOW)..=f).any(|c| {
            let (armed, d) = history[c][slot];
            armed && le(d, rows[c].now)
        });
        assert!(
            due,
            "row {f}: slot {slot} fired but was not due in the last {WINDOW} rows"
        );
    }
    // Completeness: armed, due and unchanged for SPAN rows -> fired in them.
    const SPAN: usize = 4 * SLOTS + 300;
    let mut checked = 0;
    for slot in 0..SLOTS {
        let mut r = 0;
        while r < rows.len() {
            let (armed, d) = history[r][slot];
            let since_reset = rows[r.saturating_sub(2 * SLOTS)..=r].iter().all(|x| !x.rst);
            if armed && le(d, rows[r].now) && since_reset && r + SPAN < rows.len() {
                let stays = (r..r + SPAN).all(|c| history[c][slot] == (armed, d) && !rows[c].rst);
                if stays {
                    let fired = fires
                        .iter()
                        .any(|&(f, s)| s == slot && f >= r && f < r + SPAN);
                    assert!(fired, "slot {slot}: due at row {r} (deadline {d:#x}, now {:#x}), not fired in {SPAN} rows", rows[r].now);
                    checked += 1;
                    r += SPAN;
                    continue;
                }
            }
            r += 1;
        }
    }
    let last = out.last().unwrap();
    let (passes, overruns) = (last[4].u64(), last[5].u64());
    println!(
        "{} fires, {checked} due intervals checked, {passes} passes, {overruns} overruns",
        fires.len()
    );
    assert!(checked > 200 && fires.len() > 1_000);
    assert!(passes > 100, "passes ran (counted since the last reset)");
    assert!(overruns > 10, "ticks faster than a pass count as overruns");
}

#[test]
fn timer_sweep_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
