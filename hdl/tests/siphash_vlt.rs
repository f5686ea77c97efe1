//! The pipelined SipHash-2-4 block (`toe_hdl::common::siphash`) in
//! Verilator: a few thousand random messages back to back, with idle
//! cycles, against the `siphasher` crate at exactly `SIPHASH_LATENCY`; and
//! `verilator --lint-only -Wall` of its Verilog with the project's waivers
//! (docs/lint.md).  Seeded: `TOE_SEED=n` replays a run.
mod common;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use toe_hdl::common::siphash::{SipHash24, SIPHASH_LATENCY, SIPHASH_TAG_BITS};

const VECTORS: usize = 4000;

fn block() -> VltBlock {
    let mut uut = SipHash24::default();
    uut.connect_all();
    VltBlock::new("siphash24", generate_verilog(&uut), "top")
        .clock("clock")
        .reset("rst", 3)
        .input("in_valid", 1)
        .input("k0", 64)
        .input("k1", 64)
        .input("m0", 64)
        .input("m1", 64)
        .input("m2", 64)
        .input("in_tag", SIPHASH_TAG_BITS)
        .output("out_valid", 1)
        .output("hash", 64)
        .output("out_tag", SIPHASH_TAG_BITS)
}

fn siphash(k0: u64, k1: u64, m: [u64; 3]) -> u64 {
    let mut h = SipHasher24::new_with_keys(k0, k1);
    for w in m {
        h.write(&w.to_le_bytes());
    }
    h.finish()
}

fn seed() -> u64 {
    let seed = std::env::var("TOE_SEED")
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("TOE_SEED={s:?} is not a number"))
        })
        .unwrap_or(1);
    println!("seed {seed} (replay with TOE_SEED={seed})");
    seed
}

#[test]
fn siphash_verilated_matches_crate() {
    let mut rng = seed().wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // One row per cycle; about one cycle in eight is idle (random data,
    // in_valid low).  The first message is key 00..0f, message 00..17.
    let mut inputs: Vec<Vec<Val>> = vec![];
    let mut expected: Vec<Option<(u64, u64)>> = vec![];
    let paper = 0x0706_0504_0302_0100u64;
    let paper2 = 0x0f0e_0d0c_0b0a_0908u64;
    let mut sent = 0;
    while sent < VECTORS {
        let valid = sent == 0 || rnd() % 8 != 0;
        let (k0, k1, m0, m1, m2) = if sent == 0 {
            (paper, paper2, paper, paper2, 0x1716_1514_1312_1110)
        } else {
            (rnd(), rnd(), rnd(), rnd(), rnd())
        };
        let tag = rnd() >> 32;
        inputs.push(vec![
            valid.into(),
            k0.into(),
            k1.into(),
            m0.into(),
            m1.into(),
            m2.into(),
            tag.into(),
        ]);
        expected.push(valid.then(|| (siphash(k0, k1, [m0, m1, m2]), tag)));
        sent += valid as usize;
    }
    for _ in 0..SIPHASH_LATENCY + 2 {
        inputs.push(vec![0u64.into(); 7]);
        expected.push(None);
    }
    let b = block();
    let t = std::time::Instant::now();
    b.build();
    println!("built in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let outputs = b.run(&inputs);
    println!("{} cycles simulated in {:.1?}", inputs.len(), t.elapsed());
    // Straight out of reset everything is zero.
    assert_eq!(outputs[0], vec![false.into(), 0u64.into(), 0u64.into()]);
    let mut checked = 0;
    for (n, out) in outputs.iter().enumerate() {
        let want = n.checked_sub(SIPHASH_LATENCY).and_then(|i| expected[i]);
        assert_eq!(out[0].bit(), want.is_some(), "out_valid in cycle {n}");
        if let Some((hash, tag)) = want {
            assert_eq!(
                (out[1].u64(), out[2].u64()),
                (hash, tag),
                "hash and tag in cycle {n} (input of cycle {})",
                n - SIPHASH_LATENCY
            );
            checked += 1;
        }
    }
    assert_eq!(checked, VECTORS);
}

#[test]
fn siphash_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}

/// A probe for the helper itself: ports wider than 64 bits (Verilator's
/// `VlWide`) and narrow ones, one register stage.
#[derive(LogicBlock, Default)]
struct WideProbe {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<100>>,
    pub b: Signal<In, Bits<7>>,
    pub q: Signal<Out, Bits<100>>,
    pub n: Signal<Out, Bits<7>>,
    ra: DFF<Bits<100>>,
    rb: DFF<Bits<7>>,
}

impl Logic for WideProbe {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ra, rb);
        self.ra.d.next = self.a.val() + 1;
        self.rb.d.next = self.b.val() ^ 0x55;
        self.q.next = self.ra.q.val();
        self.n.next = self.rb.q.val();
    }
}

#[test]
fn vlt_block_wide_ports() {
    let mut uut = WideProbe::default();
    uut.connect_all();
    let verilog = generate_verilog(&uut).replace("module top(", "module wide_probe(");
    let b = VltBlock::new("wide_probe", verilog, "wide_probe")
        .input("a", 100)
        .input("b", 7)
        .output("q", 100)
        .output("n", 7);
    let mask = (1u128 << 100) - 1;
    let mut x = 0x1234_5678_9abc_def0_u128;
    let mut a: Vec<u128> = vec![mask, 0, 0xffff_ffff, u64::MAX as u128, 1 << 99];
    for _ in 0..50 {
        x = x.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15) ^ (x >> 61);
        a.push(x & mask);
    }
    let inputs: Vec<Vec<Val>> = a
        .iter()
        .enumerate()
        .map(|(i, &v)| vec![v.into(), (i as u64 & 0x7f).into()])
        .collect();
    let out = b.run(&inputs);
    assert_eq!(out[0], vec![0u128.into(), 0u64.into()]);
    for (i, &v) in a.iter().enumerate() {
        let want_q: Val = ((v + 1) & mask).into();
        let want_n: Val = ((i as u64 & 0x7f) ^ 0x55).into();
        if let Some(o) = out.get(i + 1) {
            assert_eq!(o, &vec![want_q, want_n], "cycle {}", i + 1);
        }
    }
}
