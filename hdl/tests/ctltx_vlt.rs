//! The control-frame builder (`toe_hdl::common::ctl_frame_tx::CtlFrameTx`) in
//! Verilator: random records (random flags, every combination of MSS,
//! SACK-permitted, timestamps and window scale, random fields) with random
//! backpressure from the sink; every frame it emits, byte for byte, is the
//! reference model's `toe_model::setup::ctl_frame` with the two checksum
//! fields left 0 (the TX checksum inserter fills them, as `o_flags` asks);
//! then `verilator --lint-only -Wall` of its Verilog.  `TOE_SEED=n` replays.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{bundle_ports, Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::common::ctl_frame_tx::{CtlFrameTx, REC_BITS};
use toe_model::setup::{ctl_frame, Ctl};

const FRAMES: usize = 3000;

fn block() -> VltBlock {
    let mut uut = CtlFrameTx::default();
    uut.connect_all();
    VltBlock::new(
        "ctltx",
        bundle_ports(&generate_verilog(&uut), &["rec", "o"]),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("rec_empty", 1)
    .input("rec_data", REC_BITS)
    .input("o_ready", 1)
    .output("rec_pop", 1)
    .output("o_valid", 1)
    .output("o_data", 512)
    .output("o_keep", 64)
    .output("o_last", 1)
    .output("o_flags", 2)
}

struct Rec {
    macs: [u8; 12],
    from: ([u8; 4], u16),
    to: ([u8; 4], u16),
    c: Ctl,
}

fn set(bits: &mut [u64; 6], at: usize, width: usize, v: u64) {
    for b in 0..width {
        if v >> b & 1 == 1 {
            bits[(at + b) / 64] |= 1 << ((at + b) % 64);
        }
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |a, &x| a << 8 | x as u64)
}

fn encode(r: &Rec) -> Val {
    let mut w = [0u64; 6];
    set(&mut w, 0, 48, be(&r.macs[0..6]));
    set(&mut w, 48, 48, be(&r.macs[6..12]));
    set(&mut w, 96, 32, be(&r.from.0));
    set(&mut w, 128, 32, be(&r.to.0));
    set(&mut w, 160, 16, r.from.1 as u64);
    set(&mut w, 176, 16, r.to.1 as u64);
    set(&mut w, 192, 32, r.c.seq as u64);
    set(&mut w, 224, 32, r.c.ack as u64);
    set(&mut w, 256, 16, r.c.window as u64);
    set(&mut w, 272, 16, r.c.mss.unwrap_or(0) as u64);
    set(&mut w, 288, 1, r.c.wscale.is_some() as u64);
    set(&mut w, 289, 4, r.c.wscale.unwrap_or(0) as u64);
    set(&mut w, 293, 1, r.c.sack_permitted as u64);
    set(&mut w, 294, 1, r.c.ts.is_some() as u64);
    set(&mut w, 295, 32, r.c.ts.map_or(0, |t| t.0) as u64);
    set(&mut w, 327, 32, r.c.ts.map_or(0, |t| t.1) as u64);
    set(&mut w, 359, 8, r.c.flags as u64);
    set(&mut w, 367, 1, r.c.mss.is_some() as u64);
    Val(w.to_vec())
}

fn bytes_of(v: &Val, keep: u64) -> Vec<u8> {
    (0..64)
        .filter(|i| keep >> i & 1 == 1)
        .map(|i| (v.0.get(i / 8).copied().unwrap_or(0) >> (8 * (i % 8))) as u8)
        .collect()
}

#[test]
fn control_frames_verilated_match_model() {
    let mut rnd = seeded_rng();
    let recs: Vec<Rec> = (0..FRAMES)
        .map(|_| {
            let r = rnd();
            let mut macs = [0u8; 12];
            macs[..8].copy_from_slice(&rnd().to_le_bytes());
            macs[8..].copy_from_slice(&(rnd() as u32).to_le_bytes());
            Rec {
                macs,
                from: ((rnd() as u32).to_be_bytes(), rnd() as u16),
                to: ((rnd() as u32).to_be_bytes(), rnd() as u16),
                c: Ctl {
                    seq: rnd() as u32,
                    ack: rnd() as u32,
                    flags: rnd() as u8,
                    window: rnd() as u16,
                    mss: (r & 1 == 1).then_some(rnd() as u16),
                    sack_permitted: r & 2 == 2,
                    ts: (r & 4 == 4).then(|| (rnd() as u32, rnd() as u32)),
                    wscale: (r & 8 == 8).then_some((rnd() % 15) as u8),
                },
            }
        })
        .collect();
    let expect: Vec<Vec<u8>> = recs
        .iter()
        .map(|r| {
            let mut f = ctl_frame(&r.macs, r.from, r.to, &r.c);
            f[24] = 0;
            f[25] = 0;
            f[50] = 0;
            f[51] = 0;
            f
        })
        .collect();
    // Closed loop: the queue offers records in order (with random gaps),
    // the sink takes beats under random backpressure; a record leaves the
    // queue when `rec_pop` says so.
    let b = block();
    let mut st = b.start();
    let empty = Val(vec![0]);
    for _ in 0..2 {
        st.step(&[true.into(), true.into(), empty.clone(), false.into()]);
    }
    let mut frames: Vec<Vec<u8>> = vec![];
    let mut cur: Vec<u8> = vec![];
    let mut next = 0;
    let mut cycles = 0u64;
    while frames.len() < FRAMES {
        cycles += 1;
        assert!(
            cycles < 20 * FRAMES as u64,
            "stalled after {} frames",
            frames.len()
        );
        let offer = next < FRAMES && !rnd().is_multiple_of(8);
        let ready = !rnd().is_multiple_of(4);
        let rec = if offer {
            encode(&recs[next])
        } else {
            empty.clone()
        };
        let o = st.step(&[false.into(), (!offer).into(), rec, ready.into()]);
        if o[0].bit() {
            assert!(offer, "cycle {cycles}: popped an empty queue");
            next += 1;
        }
        if o[1].bit() && ready {
            assert_eq!(o[5].u64(), 3, "o_flags in cycle {cycles}");
            cur.extend(bytes_of(&o[2], o[3].u64()));
            if o[4].bit() {
                frames.push(std::mem::take(&mut cur));
            }
        }
    }
    assert_eq!(next, FRAMES, "records popped");
    // Full rate: with records always waiting and the sink always ready,
    // single-beat frames leave one per cycle, two-beat frames one per two.
    let beats: u64 = expect[..200]
        .iter()
        .map(|f| 1 + (f.len() > 64) as u64)
        .sum();
    let mut start = None;
    let mut done = 0;
    let mut k = 0;
    let mut c = 0u64;
    while done < 200 {
        c += 1;
        assert!(c < 1000, "full-rate run stalled");
        let rec = if k < 200 {
            encode(&recs[k])
        } else {
            empty.clone()
        };
        let o = st.step(&[false.into(), (k >= 200).into(), rec, true.into()]);
        if o[0].bit() {
            k += 1;
        }
        if o[1].bit() {
            start.get_or_insert(c);
            if o[4].bit() {
                done += 1;
            }
        }
    }
    let took = c + 1 - start.unwrap();
    println!("200 frames, {beats} beats, in {took} cycles at full rate");
    assert_eq!(took, beats, "beats per cycle at full rate");
    let mut lens = std::collections::BTreeMap::new();
    for (k, (got, want)) in frames.iter().zip(&expect).enumerate() {
        assert_eq!(got, want, "frame {k}: {:?}", recs[k].c);
        *lens.entry(got.len()).or_insert(0) += 1;
    }
    println!("{FRAMES} frames checked; lengths {lens:?}");
    assert!(lens.len() >= 5, "too few layouts");
}

#[test]
fn control_frames_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
