//! The RSS block (`toe_hdl::rx::rss::Rss`) in Verilator against the
//! reference model (`toe_model::nic::rss`, the Toeplitz hash of
//! `toe_model::toeplitz`): frames from the model's random mix (TCP, UDP,
//! ICMP, ARP, IPv6, fragments, malformed classes) parsed by the model give
//! the hash kind (4-tuple for IPv4/TCP, 2-tuple for other IPv4, none) and
//! the tuple the parse stage hands the block; the tuple bits a kind does
//! not hash (the ports of a 2-tuple, everything of a no-hash frame) carry
//! random bytes.  One frame per cycle with random gaps and a few resets,
//! under a sequence of random keys, indirection tables and RSS on/off (the
//! Microsoft verification key and the driver's spread tables among them).
//! Checked on every cycle: `out_valid` exactly for the frames not killed by
//! a reset, two cycles after theirs; the queue; the completion with the
//! hash ORed into its hash field (hash and queue 0 when RSS is off or the
//! kind is none, as the model says); the drop reason, option window and
//! option length passed through; `out_hash` one cycle after the frame (the
//! Toeplitz hash of its tuple whether or not RSS is enabled, for the two
//! hashed kinds).  Seeded: `TOE_SEED=n`.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_contract::desc as d;
use toe_contract::rss::{spread_table, MS_VERIFICATION_KEY};
use toe_contract::{RSS_KEY_BYTES, RSS_TABLE_ENTRIES};
use toe_hdl::rx::rss::Rss;
use toe_model::gen::random_frame;
use toe_model::nic::{rss, NicConfig};
use toe_model::parse::parse;

/// Configurations (key, table, enable) in one run, and frames under each.
const CONFIGS: usize = 48;
const FRAMES_PER_CONFIG: usize = 600;
/// Cycles from `in_valid` to `out_valid`, and to `out_hash`.
const LATENCY: usize = 2;
const HASH_LATENCY: usize = 1;

fn block(name: &str) -> VltBlock {
    let mut uut = Rss::default();
    uut.connect_all();
    VltBlock::new(name, generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("enable", 1)
        .input("key", 320)
        .input("ind_table", 128)
        .input("in_valid", 1)
        .input("in_cpl", 256)
        .input("in_reason", 4)
        .input("in_opts", 320)
        .input("in_olen", 9)
        .input("in_tuple", 96)
        .input("in_hkind", 2)
        .output("out_valid", 1)
        .output("out_cpl", 256)
        .output("out_reason", 4)
        .output("out_queue", 2)
        .output("out_opts", 320)
        .output("out_olen", 9)
        .output("out_hash", 32)
}

/// The key as the port takes it: key byte 0 in bits 319:312 (its MSB is
/// bit 319), byte 39 in bits 7:0.
fn key_val(key: &[u8; RSS_KEY_BYTES]) -> Val {
    let mut limbs = vec![0u64; 5];
    for (k, b) in key.iter().enumerate() {
        let at = 8 * (RSS_KEY_BYTES - 1 - k);
        limbs[at / 64] |= u64::from(*b) << (at % 64);
    }
    Val(limbs)
}

/// The indirection table as the port takes it: entry i in bits 2i+1:2i.
fn table_val(table: &[u8; RSS_TABLE_ENTRIES]) -> Val {
    let mut v = 0u128;
    for (i, e) in table.iter().enumerate() {
        v |= u128::from(e & 3) << (2 * i);
    }
    v.into()
}

fn random_val(rng: &mut StdRng, bits: usize) -> Val {
    let mut limbs: Vec<u64> = (0..bits.div_ceil(64)).map(|_| rng.gen()).collect();
    if !bits.is_multiple_of(64) {
        *limbs.last_mut().unwrap() &= (1u64 << (bits % 64)) - 1;
    }
    Val(limbs)
}

/// One frame as the parse stage hands it to the block, with what the
/// model says of it.
struct Frame {
    cpl: Val,
    reason: u64,
    opts: Val,
    olen: u64,
    tuple: u128,
    hkind: u64,
    /// `rss()` under the frame's configuration: completion hash, queue.
    hash: u32,
    queue: usize,
    /// `rss()` with RSS enabled: the hash `out_hash` shows.
    raw_hash: u32,
    desc: String,
}

struct Row {
    rst: bool,
    cfg: usize,
    frame: Option<Frame>,
}

#[derive(Default, Debug)]
struct Coverage {
    frames: usize,
    killed: usize,
    kinds: [usize; 3],
    rss_on: usize,
    /// Hashed kinds with RSS off (completion hash and queue 0).
    rss_off: usize,
    queues: [usize; 4],
}

fn make_frame(rng: &mut StdRng, cfg: &NicConfig) -> Frame {
    let (kind, g) = random_frame(rng, 9018);
    let p = parse(&g.bytes, g.mac_error, 9018);
    // Start from random bits: what a kind does not hash must not matter.
    let mut tuple: u128 = rng.gen::<u128>() & ((1u128 << 96) - 1);
    let mut hkind = 0;
    if let Some(ip) = &p.ipv4 {
        hkind = 1;
        let addrs =
            u128::from(u32::from_be_bytes(ip.src)) << 32 | u128::from(u32::from_be_bytes(ip.dst));
        tuple = (tuple & 0xFFFF_FFFF) | addrs << 32;
        if let Some(t) = &p.tcp {
            hkind = 2;
            tuple = (tuple & !0xFFFF_FFFF) | u128::from(t.src_port) << 16 | u128::from(t.dst_port);
        }
    }
    let (hash, queue) = rss(cfg, &p);
    let on = NicConfig {
        rss_enable: true,
        ..cfg.clone()
    };
    let (raw_hash, _) = rss(&on, &p);
    // The completion as the parse stage makes it: hash field zero.
    let mut cpl = random_val(rng, 256);
    cpl.0[d::CPL_HASH_BIT / 64] &= !(0xFFFF_FFFFu64 << (d::CPL_HASH_BIT % 64));
    Frame {
        cpl,
        reason: rng.gen_range(0..16),
        opts: random_val(rng, 320),
        olen: rng.gen_range(0..512),
        tuple,
        hkind,
        hash,
        queue,
        raw_hash,
        desc: format!(
            "{kind:?} frame, hash kind {hkind}, tuple {tuple:024x}, RSS {}",
            if cfg.rss_enable { "on" } else { "off" }
        ),
    }
}

fn random_config(rng: &mut StdRng, n: usize) -> NicConfig {
    let mut key = [0u8; RSS_KEY_BYTES];
    rng.fill(&mut key[..]);
    let mut table = [0u8; RSS_TABLE_ENTRIES];
    rng.fill(&mut table[..]);
    match n % 6 {
        0 => key = MS_VERIFICATION_KEY,
        1 => table = spread_table(rng.gen_range(1..=4)),
        // All ones: every key window bit in play.
        2 => key = [0xFF; RSS_KEY_BYTES],
        _ => {}
    }
    NicConfig {
        rss_enable: n % 4 != 3,
        rss_key: key,
        rss_table: table,
        ..NicConfig::all_queues_enabled()
    }
}

#[test]
fn rss_verilated_matches_model() {
    let mut rnd = seeded_rng();
    let mut rng = StdRng::seed_from_u64(rnd());
    let b = block("rss_random");
    let t = std::time::Instant::now();
    b.build();
    println!("build {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let configs: Vec<NicConfig> = (0..CONFIGS).map(|n| random_config(&mut rng, n)).collect();
    let mut rows: Vec<Row> = (0..2)
        .map(|_| Row {
            rst: true,
            cfg: 0,
            frame: None,
        })
        .collect();
    for (c, cfg) in configs.iter().enumerate() {
        let mut n = 0;
        while n < FRAMES_PER_CONFIG {
            let r = rng.gen_range(0..1000);
            let rst = r < 4;
            let frame = if r < 2 || (4..150).contains(&r) {
                None
            } else {
                n += 1;
                Some(make_frame(&mut rng, cfg))
            };
            rows.push(Row { rst, cfg: c, frame });
        }
        // The configuration holds until the last frame under it is out.
        for _ in 0..LATENCY {
            rows.push(Row {
                rst: false,
                cfg: c,
                frame: None,
            });
        }
    }
    let cfg_vals: Vec<(Val, Val)> = configs
        .iter()
        .map(|c| (key_val(&c.rss_key), table_val(&c.rss_table)))
        .collect();
    let inputs: Vec<Vec<Val>> = rows
        .iter()
        .map(|r| {
            let cfg = &configs[r.cfg];
            let mut row = vec![
                r.rst.into(),
                cfg.rss_enable.into(),
                cfg_vals[r.cfg].0.clone(),
                cfg_vals[r.cfg].1.clone(),
            ];
            match &r.frame {
                Some(f) => row.extend([
                    true.into(),
                    f.cpl.clone(),
                    f.reason.into(),
                    f.opts.clone(),
                    f.olen.into(),
                    f.tuple.into(),
                    f.hkind.into(),
                ]),
                // Between frames: random bits on the data inputs.
                None => row.extend([
                    false.into(),
                    random_val(&mut rng, 256),
                    rng.gen_range(0..16u64).into(),
                    random_val(&mut rng, 320),
                    rng.gen_range(0..512u64).into(),
                    random_val(&mut rng, 96),
                    rng.gen_range(0..4u64).into(),
                ]),
            }
            row
        })
        .collect();
    let outputs = b.run(&inputs);
    let mut cov = Coverage::default();
    for (m, out) in outputs.iter().enumerate() {
        // out_hash of the frame of cycle m - 1.
        if let Some(f) = m
            .checked_sub(HASH_LATENCY)
            .and_then(|s| rows[s].frame.as_ref())
        {
            if f.hkind != 0 {
                assert!(
                    out[6].u64() == u64::from(f.raw_hash),
                    "cycle {m}: out_hash {:08x}, model {:08x}, of the {} of cycle {}",
                    out[6].u64(),
                    f.raw_hash,
                    f.desc,
                    m - HASH_LATENCY
                );
            }
        }
        let src = m.checked_sub(LATENCY);
        let killed = (m.saturating_sub(LATENCY)..m).any(|c| rows[c].rst);
        let frame = src.and_then(|s| rows[s].frame.as_ref());
        if frame.is_some() && killed {
            cov.killed += 1;
        }
        let Some(f) = frame.filter(|_| !killed) else {
            assert!(
                !out[0].bit(),
                "cycle {m}: out_valid without a frame {LATENCY} cycles before"
            );
            continue;
        };
        let ctx = format!("cycle {m}: {} of cycle {}", f.desc, m - LATENCY);
        assert!(out[0].bit(), "{ctx}: out_valid low");
        let mut want_cpl = f.cpl.clone();
        want_cpl.0[d::CPL_HASH_BIT / 64] |= u64::from(f.hash) << (d::CPL_HASH_BIT % 64);
        let got_hash = out[1].field(d::CPL_HASH_BIT, 32);
        assert!(
            got_hash == u64::from(f.hash),
            "{ctx}: completion hash {got_hash:08x}, model {:08x} (Toeplitz {:08x})",
            f.hash,
            f.raw_hash
        );
        assert_eq!(out[1], want_cpl, "{ctx}: completion");
        assert_eq!(
            out[3].u64(),
            f.queue as u64,
            "{ctx}: queue (hash {:08x})",
            f.hash
        );
        assert_eq!(out[2].u64(), f.reason, "{ctx}: reason");
        assert_eq!(out[4], f.opts, "{ctx}: option window");
        assert_eq!(out[5].u64(), f.olen, "{ctx}: option length");
        let cfg = &configs[rows[m - LATENCY].cfg];
        cov.frames += 1;
        cov.kinds[f.hkind as usize] += 1;
        if cfg.rss_enable && f.hkind != 0 {
            cov.rss_on += 1;
            cov.queues[f.queue] += 1;
        } else if f.hkind != 0 {
            cov.rss_off += 1;
        }
    }
    println!("{} cycles, {cov:?} in {:.1?}", rows.len(), t.elapsed());
    let n = CONFIGS * FRAMES_PER_CONFIG;
    assert!(cov.frames > n * 9 / 10, "{cov:?}");
    assert!(cov.killed > 0, "{cov:?}");
    assert!(cov.kinds.iter().all(|&k| k > n / 20), "{cov:?}");
    assert!(cov.rss_on > n / 3 && cov.rss_off > n / 10, "{cov:?}");
    assert!(cov.queues.iter().all(|&q| q > n / 40), "{cov:?}");
}

#[test]
fn rss_lint_clean() {
    if let Err(findings) = block("rss_lint").lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
