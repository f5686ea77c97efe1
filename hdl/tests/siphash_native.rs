//! RustHDL-native simulation of the pipelined SipHash-2-4 block
//! (`toe_hdl::common::siphash`) against the `siphasher` crate: random keys,
//! messages and tags back to back with some idle cycles, every output
//! checked every cycle at exactly `SIPHASH_LATENCY`, then a reset with
//! messages in flight.  Seeded: `TOE_SEED=n` replays a run.
//!
//! rust-hdl's simulator is slow with 64-bit signals, so this is a short
//! run (about 100 cycles); siphash_vlt.rs pushes thousands of vectors
//! through the Verilated block.
use rust_hdl::prelude::*;
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use toe_hdl::common::siphash::{SipHash24, SIPHASH_LATENCY};

type S = Sim<SipHash24>;

/// One message: key halves, message words, tag.
#[derive(Clone, Copy, Debug)]
struct Vector {
    k0: u64,
    k1: u64,
    m0: u64,
    m1: u64,
    m2: u64,
    tag: u32,
}

/// SipHash-2-4 of the 24 bytes `m0 | m1 | m2` (little-endian) by the crate.
fn reference(v: &Vector) -> u64 {
    let mut h = SipHasher24::new_with_keys(v.k0, v.k1);
    h.write(&v.m0.to_le_bytes());
    h.write(&v.m1.to_le_bytes());
    h.write(&v.m2.to_le_bytes());
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

/// Key 00..0f and message 00..17; the first 16 message bytes with that key
/// are entry 16 of the reference implementation's `vectors_sip64` (also in
/// `siphasher`'s tests).
const PAPER_KEY_MSG: Vector = Vector {
    k0: 0x0706_0504_0302_0100,
    k1: 0x0f0e_0d0c_0b0a_0908,
    m0: 0x0706_0504_0302_0100,
    m1: 0x0f0e_0d0c_0b0a_0908,
    m2: 0x1716_1514_1312_1110,
    tag: 0xfeed_0001,
};
const PAPER_HASH: u64 = 0x3f2a_cc7f_57c2_9bdb;

#[test]
fn crate_matches_reference_vector() {
    // The crate on the reference implementation's 16-byte vector (key and
    // message 00..0f); the block itself hashes 24 bytes.
    let mut h = SipHasher24::new_with_keys(PAPER_KEY_MSG.k0, PAPER_KEY_MSG.k1);
    h.write(&PAPER_KEY_MSG.m0.to_le_bytes());
    h.write(&PAPER_KEY_MSG.m1.to_le_bytes());
    assert_eq!(h.finish(), PAPER_HASH);
}

#[test]
fn siphash_native_matches_crate() {
    let mut rng = seed().wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut vectors = vec![
        PAPER_KEY_MSG,
        Vector {
            k0: 0,
            k1: 0,
            m0: 0,
            m1: 0,
            m2: 0,
            tag: 0,
        },
        Vector {
            k0: !0,
            k1: !0,
            m0: !0,
            m1: !0,
            m2: !0,
            tag: !0,
        },
    ];
    for _ in 0..40 {
        let tag = rnd() as u32;
        vectors.push(Vector {
            k0: rnd(),
            k1: rnd(),
            m0: rnd(),
            m1: rnd(),
            m2: rnd(),
            tag,
        });
    }
    // Input schedule, one entry per cycle: a message or an idle cycle
    // (idle cycles still drive random data with in_valid low).
    let mut schedule: Vec<(bool, Vector)> = vec![];
    for v in &vectors {
        while rnd() % 5 == 0 {
            let idle = Vector {
                k0: rnd(),
                k1: rnd(),
                m0: rnd(),
                m1: rnd(),
                m2: rnd(),
                tag: rnd() as u32,
            };
            schedule.push((false, idle));
        }
        schedule.push((true, *v));
    }
    let expected: Vec<Option<(u64, u32)>> = schedule
        .iter()
        .map(|(valid, v)| valid.then(|| (reference(v), v.tag)))
        .collect();
    let burst: Vec<Vector> = (0..6)
        .map(|_| Vector {
            k0: rnd(),
            k1: rnd(),
            m0: rnd(),
            m1: rnd(),
            m2: rnd(),
            tag: rnd() as u32,
        })
        .collect();
    let lat = SIPHASH_LATENCY;

    let mut uut = SipHash24::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(2, |x: &mut Box<SipHash24>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: S| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clock, x, 2);
        x.rst.next = false;
        // Cycle n: check the outputs, then drive schedule[n] (sampled by
        // the edge that ends cycle n), so it must come out in cycle n + lat.
        let mut seen = 0;
        for n in 0..schedule.len() + lat + 2 {
            let want = n
                .checked_sub(lat)
                .and_then(|i| expected.get(i).copied().flatten());
            sim_assert_eq!(sim, x.out_valid.val(), want.is_some(), x);
            if let Some((hash, tag)) = want {
                sim_assert_eq!(sim, x.hash.val().to_u64(), hash, x);
                sim_assert_eq!(sim, x.out_tag.val().to_u64(), tag as u64, x);
                seen += 1;
            }
            let (valid, v) = schedule.get(n).copied().unwrap_or((false, schedule[0].1));
            x.in_valid.next = valid;
            x.k0.next = v.k0.into();
            x.k1.next = v.k1.into();
            x.m0.next = v.m0.into();
            x.m1.next = v.m1.into();
            x.m2.next = v.m2.into();
            x.in_tag.next = (v.tag as u64).into();
            wait_clock_cycle!(sim, clock, x);
        }
        sim_assert_eq!(sim, seen, vectors.len(), x);
        // Reset with messages in flight: none of them may come out, and
        // every register reads zero after the reset edge.
        for v in &burst {
            x.in_valid.next = true;
            x.k0.next = v.k0.into();
            x.k1.next = v.k1.into();
            x.m0.next = v.m0.into();
            x.m1.next = v.m1.into();
            x.m2.next = v.m2.into();
            x.in_tag.next = (v.tag as u64).into();
            wait_clock_cycle!(sim, clock, x);
        }
        x.rst.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.rst.next = false;
        x.in_valid.next = false;
        sim_assert_eq!(sim, x.hash.val().to_u64(), 0, x);
        sim_assert_eq!(sim, x.out_tag.val().to_u64(), 0, x);
        for _ in 0..lat + 2 {
            sim_assert!(sim, !x.out_valid.val(), x);
            wait_clock_cycle!(sim, clock, x);
        }
        println!("{} cycles", schedule.len() + 2 * lat + burst.len() + 7);
        sim.done(x)
    });
    let t = std::time::Instant::now();
    sim.run(Box::new(uut), 100_000).unwrap();
    println!("simulated in {:.1?}", t.elapsed());
}
