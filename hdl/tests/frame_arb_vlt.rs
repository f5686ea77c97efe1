//! The frame arbiter (`toe_hdl::common::frame_arb::FrameArb<N>`) in
//! Verilator with 2, 4 and 8 sources, stepped cycle by cycle: each source
//! offers random frames (1 to 6 beats, random gaps before and inside
//! frames, valid held until taken as AXI4-Stream requires), the output
//! sees random backpressure.  Checked every cycle: an output beat is
//! exactly the one input beat accepted in that cycle (data, keep, last,
//! flags passed through); beats of two frames never interleave; each
//! source's beats come out in order, none lost or repeated (all frames
//! out at the end); an offered output beat stays until taken; fairness: a
//! source waiting with a frame sees at most `N - 1` frames of other sources
//! end before its first beat goes, and between frames the output is idle
//! at most one cycle while a source waits; and with every source always busy and
//! the output always ready a beat moves every cycle.  The order, fairness
//! and drain bookkeeping is `common/arb_check.rs`, shared with
//! `rec_arb_vlt`.  Seeded: `TOE_SEED=n` replays a run.
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
use toe_hdl::common::frame_arb::FrameArb;

/// The block's Verilog with `$` in names (rust-hdl's array ports such as
/// `i$0$valid`) turned into `_`, which C++ accepts.
fn block<const N: usize>(name: &str) -> VltBlock {
    let mut uut = FrameArb::<N>::default();
    uut.connect_all();
    let mut b = VltBlock::new(name, generate_verilog(&uut).replace('$', "_"), "top")
        .clock("clock")
        .input("rst", 1);
    for i in 0..N {
        b = b
            .input(&format!("i_{i}_valid"), 1)
            .input(&format!("i_{i}_data"), 512)
            .input(&format!("i_{i}_keep"), 64)
            .input(&format!("i_{i}_last"), 1)
            .input(&format!("i_{i}_flags"), 2);
    }
    b = b.input("o_ready", 1);
    for i in 0..N {
        b = b.output(&format!("i_{i}_ready"), 1);
    }
    b.output("o_valid", 1)
        .output("o_data", 512)
        .output("o_keep", 64)
        .output("o_last", 1)
        .output("o_flags", 2)
}

/// One beat: source, frame number, beat number in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Beat {
    src: usize,
    frame: u64,
    idx: u64,
    last: bool,
    keep: u64,
    flags: u64,
}

impl Beat {
    fn data(&self) -> Val {
        let tag = (self.src as u64) << 56 | self.frame << 16 | self.idx;
        let mut v = vec![tag];
        for k in 1..8u64 {
            v.push(
                tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .rotate_left(k as u32 * 7)
                    ^ k,
            );
        }
        Val(v)
    }
}

struct Source {
    frames: u64,
    /// Beats of the frame in progress (the head is offered when `on`).
    beats: VecDeque<Beat>,
    /// The head is offered (valid); held until taken.
    on: bool,
}

impl Source {
    /// The source's inputs: its head beat while offered, else all 0.
    fn inputs(&self) -> [Val; 5] {
        match (self.on, self.beats.front()) {
            (true, Some(b)) => [
                true.into(),
                b.data(),
                b.keep.into(),
                b.last.into(),
                b.flags.into(),
            ],
            _ => [
                false.into(),
                0u64.into(),
                0u64.into(),
                false.into(),
                0u64.into(),
            ],
        }
    }
}

fn run<const N: usize>(name: &str) {
    let mut rnd = seeded_rng();
    let mut st = block::<N>(name).start();
    let idle = |rst: bool| -> Vec<Val> {
        let mut v: Vec<Val> = vec![rst.into()];
        for _ in 0..N {
            v.extend([
                false.into(),
                0u64.into(),
                0u64.into(),
                false.into(),
                0u64.into(),
            ]);
        }
        v.push(false.into());
        v
    };
    for _ in 0..2 {
        st.step(&idle(true));
    }
    let mut src: Vec<Source> = (0..N)
        .map(|_| Source {
            frames: 0,
            beats: VecDeque::new(),
            on: false,
        })
        .collect();
    // The source of the frame in progress at the output.
    let mut out_frame: Option<usize> = None;
    let mut offered: Option<Vec<Val>> = None;
    let mut idle_run = 0usize;
    let (mut moved, mut cycles, mut frames_out) = (0usize, 0usize, 0usize);
    let mut ledger = Ledger::new(N);
    let mut fair = Fairness::new(N);
    for phase in 0..6 {
        let full = phase % 2 == 1;
        let (phase_moved, phase_start) = (moved, cycles);
        let load = [2u64, 0, 5, 0, 9, 0][phase];
        for _ in 0..3000 {
            // Sources: a new frame when idle, valid on or off.
            for (i, s) in src.iter_mut().enumerate() {
                if s.beats.is_empty() && (full || rnd() % 10 < 3 + load) {
                    let len = 1 + rnd() % if rnd() % 8 == 0 { 12 } else { 4 };
                    let flags = rnd() % 4;
                    for idx in 0..len {
                        let b = Beat {
                            src: i,
                            frame: s.frames,
                            idx,
                            last: idx + 1 == len,
                            keep: if idx + 1 == len { rnd() } else { u64::MAX },
                            flags,
                        };
                        s.beats.push_back(b);
                        ledger.sent(i, b);
                    }
                    s.frames += 1;
                }
                if !s.on && !s.beats.is_empty() {
                    s.on = full || rnd() % 3 != 0;
                }
                if s.on && s.beats.front().unwrap().idx == 0 {
                    fair.waits(i);
                }
            }
            let o_ready = full || rnd() % 3 != 0;
            let mut ins: Vec<Val> = vec![false.into()];
            for s in &src {
                ins.extend(s.inputs());
            }
            ins.push(o_ready.into());
            let post = st.step(&ins);
            let c = cycles;
            cycles += 1;
            let o_valid = post[N].bit();
            // Between frames, with a source waiting, the output is idle at
            // most one cycle (while the grant moves).
            if out_frame.is_none() && !o_valid && src.iter().any(|s| s.on) {
                idle_run += 1;
                assert!(
                    idle_run <= 1,
                    "cycle {c}: idle {idle_run} cycles while a source waits"
                );
            } else {
                idle_run = 0;
            }
            let outv = post[N..].to_vec();
            if let Some(w) = &offered {
                assert_eq!(
                    &outv, w,
                    "cycle {c}: an offered beat changed or was withdrawn"
                );
            }
            offered = (o_valid && !o_ready).then_some(outv);
            // Input handshakes.
            let mut taken: Vec<Beat> = vec![];
            for (i, s) in src.iter_mut().enumerate() {
                if s.on && post[i].bit() {
                    taken.push(s.beats.pop_front().unwrap());
                    s.on = false;
                }
            }
            if !(o_valid && o_ready) {
                assert!(
                    taken.is_empty(),
                    "cycle {c}: beats taken without output: {taken:?}"
                );
                continue;
            }
            assert_eq!(
                taken.len(),
                1,
                "cycle {c}: one output beat, inputs taken {taken:?}"
            );
            let b = taken[0];
            assert_eq!(post[N + 1], b.data(), "cycle {c}: data of {b:?}");
            assert_eq!(post[N + 2].u64(), b.keep, "cycle {c}: keep of {b:?}");
            assert_eq!(post[N + 3].bit(), b.last, "cycle {c}: last of {b:?}");
            assert_eq!(post[N + 4].u64(), b.flags, "cycle {c}: flags of {b:?}");
            ledger.came_out(b.src, b, c);
            match out_frame {
                Some(f) => assert_eq!(f, b.src, "cycle {c}: frames interleave: {b:?}"),
                None => assert_eq!(b.idx, 0, "cycle {c}: a frame starts mid-way"),
            }
            out_frame = if b.last { None } else { Some(b.src) };
            if b.idx == 0 {
                fair.served(b.src);
            }
            if b.last {
                frames_out += 1;
                fair.grant_ended(b.src, c);
            }
            moved += 1;
        }
        if full {
            assert_full_rate(N, moved - phase_moved, cycles - phase_start, "beats");
        }
    }
    // Drain: every source offers what it has left, the output is ready.
    drain(&mut ledger, 20_000, |ledger, c| {
        let mut ins: Vec<Val> = vec![false.into()];
        for s in src.iter_mut() {
            s.on = !s.beats.is_empty();
            ins.extend(s.inputs());
        }
        ins.push(true.into());
        let post = st.step(&ins);
        for (i, s) in src.iter_mut().enumerate() {
            if s.on && post[i].bit() {
                let b = s.beats.pop_front().unwrap();
                assert_eq!(post[N + 1], b.data(), "drain cycle {c}: data");
                ledger.came_out(i, b, c);
                if b.last {
                    frames_out += 1;
                }
            }
        }
    });
    println!(
        "N = {N}: {moved} beats, {frames_out} frames in {cycles} cycles; worst wait {} frames",
        fair.worst
    );
    assert!(frames_out > 2000);
}

#[test]
fn frame_arb2_whole_frames_in_order_fair() {
    run::<2>("frame_arb2");
}

#[test]
fn frame_arb4_whole_frames_in_order_fair() {
    run::<4>("frame_arb4");
}

#[test]
fn frame_arb8_whole_frames_in_order_fair() {
    run::<8>("frame_arb8");
}

#[test]
fn frame_arb_lint_clean() {
    if let Err(findings) = block::<4>("frame_arb_lint").lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
