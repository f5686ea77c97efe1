//! The TCP option walker (`toe_hdl::rx::opt_walk`) in Verilator against a
//! plain Rust walker (common/opt_walk_ref.rs): the directed cases (real
//! stacks' SYN and ACK layouts, every hostile shape), each of them again
//! with every area length from 0 to 40, then tens of thousands of random
//! option areas, one frame per cycle back to back with random gaps and a
//! few resets, every output checked every cycle (results and the record
//! riding along on a frame's cycle, zeros between frames); and
//! `verilator --lint-only -Wall` of its Verilog with the project's waivers.
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/opt_walk_ref.rs"]
mod opt_walk_ref;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use opt_walk_ref::{directed, random_area, walk, Area, Walked};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::rx::opt_walk::{OptWalk, OPT_WALK_LATENCY};

const RANDOM_FRAMES: usize = 60_000;
const PAY_BITS: usize = 262;

fn block() -> VltBlock {
    let mut uut = OptWalk::default();
    uut.connect_all();
    // `rst` is an ordinary input here, driven per cycle by the stimulus.
    VltBlock::new("opt_walk", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("in_valid", 1)
        .input("in_pay", PAY_BITS)
        .input("in_opts", 320)
        .input("in_olen", 9)
        .output("out_valid", 1)
        .output("out_pay", PAY_BITS)
        .output("out_done", 1)
        .output("out_bad", 1)
        .output("out_mss", 16)
        .output("out_ws", 8)
        .output("out_sackp", 1)
        .output("out_sackb", 3)
        .output("out_ts", 1)
        .output("out_tsval", 32)
        .output("out_tsecr", 32)
}

/// One cycle of stimulus.
#[derive(Clone, Debug, Default)]
struct Cycle {
    rst: bool,
    /// A frame: its option area, its record (riding along) and a name.
    frame: Option<(Area, Val, &'static str)>,
}

fn opts_val(a: &Area) -> Val {
    let mut limbs = vec![0u64; 5];
    for (i, b) in a.bytes.iter().enumerate() {
        limbs[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    Val(limbs)
}

fn random_pay(rnd: &mut impl FnMut() -> u64) -> Val {
    let mut limbs: Vec<u64> = (0..5).map(|_| rnd()).collect();
    limbs[4] &= (1 << (PAY_BITS - 256)) - 1;
    Val(limbs)
}

fn row(c: &Cycle) -> Vec<Val> {
    match &c.frame {
        Some((a, pay, _)) => vec![
            c.rst.into(),
            true.into(),
            pay.clone(),
            opts_val(a),
            (a.olen as u64).into(),
        ],
        None => vec![
            c.rst.into(),
            false.into(),
            0u64.into(),
            0u64.into(),
            0u64.into(),
        ],
    }
}

fn got(out: &[Val]) -> Walked {
    Walked {
        done: out[2].bit(),
        bad: out[3].bit(),
        mss: out[4].u64() as u16,
        ws: out[5].u64() as u8,
        sack_perm: out[6].bit(),
        sack_blocks: out[7].u64() as u8,
        ts: out[8].bit(),
        tsval: out[9].u64() as u32,
        tsecr: out[10].u64() as u32,
    }
}

/// What the random frames exercised (checked to be non-trivial).
#[derive(Debug, Default)]
struct Coverage {
    frames: usize,
    not_done: usize,
    bad: usize,
    bad_after_values: usize,
    eol: usize,
    mss: usize,
    ws: usize,
    ws_clamped: usize,
    sack_perm: usize,
    sack: [usize; 5],
    ts: usize,
    overridden: usize,
    dropped_by_reset: usize,
}

/// How the walk went (for coverage only): the same recorded kind twice,
/// well formed (a later occurrence overrides); the walk ended at an EOL.
fn trace(a: &Area) -> (bool, bool) {
    let mut seen = [0u32; 9];
    let mut eol = false;
    let mut at = 0;
    let mut steps = 0;
    while at < a.olen && steps < 40 {
        steps += 1;
        let k = a.bytes[at];
        if k == 0 {
            eol = true;
            break;
        }
        if k == 1 {
            at += 1;
            continue;
        }
        if at + 1 >= a.olen {
            break;
        }
        let len = a.bytes[at + 1] as usize;
        if len < 2 || at + len > a.olen {
            break;
        }
        if matches!((k, len), (2, 4) | (3, 3) | (5, 10 | 18 | 26 | 34) | (8, 10)) {
            seen[k as usize] += 1;
        }
        at += len;
    }
    (seen.iter().any(|&n| n > 1), eol)
}

#[test]
fn opt_walk_verilated_matches_reference() {
    let mut rnd = seeded_rng();
    let mut cycles: Vec<Cycle> = vec![
        Cycle {
            rst: true,
            frame: None
        };
        3
    ];
    // Directed: back to back, then each with every area length.
    let cases = directed();
    for (name, a) in &cases {
        let pay = random_pay(&mut rnd);
        cycles.push(Cycle {
            rst: false,
            frame: Some((*a, pay, name)),
        });
    }
    for (name, a) in &cases {
        for olen in 0..=40 {
            let pay = random_pay(&mut rnd);
            let mut b = *a;
            b.olen = olen;
            cycles.push(Cycle {
                rst: false,
                frame: Some((b, pay, name)),
            });
        }
    }
    let directed_end = cycles.len();
    // Random: mostly back to back, gaps of 1 to 3, rare resets.
    let mut frames = 0;
    while frames < RANDOM_FRAMES {
        let r = rnd() % 1000;
        if r < 2 {
            for _ in 0..1 + rnd() % 3 {
                let frame = if rnd().is_multiple_of(2) {
                    Some((random_area(&mut rnd), random_pay(&mut rnd), "random"))
                } else {
                    None
                };
                cycles.push(Cycle { rst: true, frame });
            }
        } else if r < 150 {
            for _ in 0..1 + rnd() % 3 {
                cycles.push(Cycle::default());
            }
        } else {
            cycles.push(Cycle {
                rst: false,
                frame: Some((random_area(&mut rnd), random_pay(&mut rnd), "random")),
            });
            frames += 1;
        }
    }
    for _ in 0..OPT_WALK_LATENCY + 2 {
        cycles.push(Cycle::default());
    }
    let inputs: Vec<Vec<Val>> = cycles.iter().map(row).collect();
    let b = block();
    let t = std::time::Instant::now();
    b.build();
    println!("built in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let outputs = b.run(&inputs);
    println!("{} cycles simulated in {:.1?}", inputs.len(), t.elapsed());

    let l = OPT_WALK_LATENCY;
    let mut cov = Coverage::default();
    let mut checked = 0;
    for (m, out) in outputs.iter().enumerate().skip(1) {
        // The frame of cycle m - L, unless a reset came in m-L ..= m-1.
        let src = m.checked_sub(l);
        let killed = (m.saturating_sub(l)..m).any(|c| cycles[c].rst);
        let frame = src.and_then(|n| cycles[n].frame.as_ref());
        match (frame, killed) {
            (Some((a, pay, name)), false) => {
                let want = walk(&a.bytes, a.olen);
                let n = src.unwrap();
                assert!(
                    out[0].bit(),
                    "cycle {m}: out_valid low for the frame of cycle {n} ({name})"
                );
                assert_eq!(
                    out[1], *pay,
                    "cycle {m}: the record of cycle {n} ({name}) did not ride along"
                );
                assert_eq!(
                    got(out),
                    want,
                    "cycle {m}: frame of cycle {n} ({name}): area {:?} olen {}",
                    &a.bytes[..],
                    a.olen
                );
                checked += 1;
                if n >= directed_end {
                    cov.frames += 1;
                    cov.not_done += usize::from(!want.done);
                    cov.bad += usize::from(want.bad);
                    cov.bad_after_values +=
                        usize::from(want.bad && (want.mss != 0 || want.ws != 0 || want.ts));
                    let (repeated, eol) = trace(a);
                    cov.eol += usize::from(eol);
                    cov.mss += usize::from(want.mss != 0);
                    cov.ws += usize::from(want.ws != 0);
                    cov.ws_clamped += usize::from(want.ws == 0x8e);
                    cov.sack_perm += usize::from(want.sack_perm);
                    cov.sack[want.sack_blocks as usize] += 1;
                    cov.ts += usize::from(want.ts);
                    cov.overridden += usize::from(repeated);
                }
            }
            (frame, _) => {
                if frame.is_some() {
                    cov.dropped_by_reset += 1;
                }
                assert!(
                    !out[0].bit(),
                    "cycle {m}: out_valid without a frame {l} cycles before"
                );
                assert_eq!(
                    got(out),
                    Walked::default(),
                    "cycle {m}: results between frames are 0"
                );
            }
        }
    }
    println!("{checked} frames checked; random frames: {cov:?}");
    assert!(checked > RANDOM_FRAMES);
    assert!(cov.frames > RANDOM_FRAMES / 2);
    assert!(cov.bad > 1000 && cov.bad_after_values > 100 && cov.eol > 1000);
    assert!(
        cov.mss > 1000
            && cov.ws > 1000
            && cov.ws_clamped > 100
            && cov.ws > cov.ws_clamped + 1000
            && cov.ts > 1000
    );
    assert!(cov.sack_perm > 1000 && cov.sack[1..].iter().all(|&n| n > 100) && cov.not_done > 10);
    assert!(cov.overridden > 1000 && cov.dropped_by_reset > 0);
}

#[test]
fn opt_walk_reference_agrees_with_the_model() {
    // The reference against the model's walker (toe_model::parse), which
    // reports raw values: the same walk on every directed case and many
    // random areas (40 NOPs aside, the model has no step limit).
    let mut rnd = seeded_rng();
    let mut areas: Vec<Area> = directed().into_iter().map(|(_, a)| a).collect();
    for _ in 0..20_000 {
        areas.push(random_area(&mut rnd));
    }
    for a in &areas {
        let w = walk(&a.bytes, a.olen);
        let m = toe_model::parse::walk_tcp_options(&a.bytes[..a.olen]);
        assert_eq!(w.bad, m.bad, "{a:?}");
        assert_eq!(w.mss, m.mss.unwrap_or(0), "{a:?}");
        assert_eq!(w.ws, m.wscale.map_or(0, |v| 0x80 | v.min(14)), "{a:?}");
        assert_eq!(w.sack_perm, m.sack_perm, "{a:?}");
        assert_eq!(w.sack_blocks, m.sack_blocks, "{a:?}");
        assert_eq!(w.ts, m.timestamps.is_some(), "{a:?}");
        assert_eq!((w.tsval, w.tsecr), m.timestamps.unwrap_or((0, 0)), "{a:?}");
    }
}

#[test]
fn opt_walk_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
