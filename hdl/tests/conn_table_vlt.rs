//! The connection table (`toe_hdl::common::conn_table`) in Verilator, in
//! closed loop (common/vlt_live.rs), every result checked against the
//! reference model `toe_model::conn_table` (common/conn_table_drv.rs:
//! responses bit for bit, entry and stash counts, lookups against the
//! ordering rule): directed commands on both ports; randomized mixes of
//! inserts, updates, deletes, reads, clears and resets with lookups in
//! almost every cycle and response backpressure; fills to the first "full"
//! with random keys and with hostile key sets (one address pair and
//! sequential ports; sequential addresses), at the small size and at the
//! default size (65536 entries); `verilator --lint-only -Wall`.
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/conn_table_drv.rs"]
mod conn_table_drv;
#[path = "common/seed.rs"]
mod seed;
#[path = "common/vlt_live.rs"]
mod vlt_live;

use conn_table_drv::{block, Cmd, Tb};
use seed::seeded_rng;
use toe_hdl::common::conn_table::*;
use toe_model::conn_table::{self as model, tuple_key, Loc, Status};

/// A generator of keys to insert.
type KeySource = Box<dyn FnMut() -> u128>;

/// The small table of most runs: 2 x 16 buckets x 4 = 128 entries.
const SMALL_BITS: usize = 4;

fn small_block() -> common::vlt_block::VltBlock {
    block::<SMALL_BITS>("conn_table_small")
}

fn key96(r: &mut impl FnMut() -> u64) -> u128 {
    ((r() as u128) << 64 | r() as u128) & ((1u128 << 96) - 1)
}

#[test]
fn conn_table_constants_match_model() {
    assert_eq!(CONN_WAYS, model::WAYS);
    assert_eq!(CONN_STASH, model::STASH);
    assert_eq!(CONN_MAX_KICKS as u32, model::MAX_KICKS);
    assert_eq!(CONN_LFSR_SEED, model::LFSR_SEED);
    assert_eq!(CONN_LFSR_TAPS, model::LFSR_TAPS);
    assert_eq!(CONN_HASH_DOMAIN, model::DOMAIN);
    assert_eq!(
        [
            CONN_OP_READ,
            CONN_OP_INSERT,
            CONN_OP_UPDATE,
            CONN_OP_DELETE,
            CONN_OP_CLEAR
        ],
        [
            model::OP_READ as u64,
            model::OP_INSERT as u64,
            model::OP_UPDATE as u64,
            model::OP_DELETE as u64,
            model::OP_CLEAR as u64
        ]
    );
    assert_eq!(CONN_STATUS_FULL, Status::Full as u64);
    assert_eq!(CONN_STATUS_MISSING, Status::Missing as u64);
    assert_eq!(CONN_STATUS_EXISTS, Status::Exists as u64);
    assert_eq!(CONN_TABLE_ENTRIES, 65536);
}

/// Every command kind on both ports, with expectations written out (not
/// only the model's), and lookups before, during and after.
#[test]
fn conn_table_directed() {
    let mut rnd = seeded_rng();
    let (k0, k1) = (rnd(), rnd());
    let mut tb = Tb::new(&small_block(), SMALL_BITS as u32, k0, k1);
    let a = tuple_key(0x0a00_0001, 0x0a00_0002, 40000, 80);
    let b = tuple_key(0x0a00_0001, 0x0a00_0002, 40001, 80);
    let c = |op, key, value| Cmd { op, key, value };
    let (r, cycles) = tb.command_hold(0, c(1, a, 0x1111));
    assert_eq!((r.status, r.value), (Status::Ok, 0));
    println!("insert without eviction: {cycles} cycles from acceptance to response");
    assert_eq!(
        cycles, 21,
        "documented in conn_table_engine.rs and docs/conn_table.md"
    );
    assert_eq!(tb.command_hold(1, c(1, a, 0x2222)).0.status, Status::Exists);
    assert_eq!(tb.command_hold(1, c(0, a, 0)).0.value, 0x1111);
    assert_eq!(tb.command_hold(0, c(0, b, 0)).0.status, Status::Missing);
    assert_eq!(tb.command_hold(1, c(2, a, 0x3333)).0.value, 0x1111);
    assert_eq!(
        tb.command_hold(1, c(2, b, 0x3333)).0.status,
        Status::Missing
    );
    assert_eq!(tb.command_hold(0, c(3, b, 0)).0.status, Status::Missing);
    // Lookups back to back: a hits with its new value, b misses.
    for i in 0..40 {
        tb.cycle(Some(if i % 2 == 0 { a } else { b }));
    }
    tb.idle_until_ready();
    assert_eq!(tb.stats.lookups, 40);
    assert_eq!(tb.stats.lookup_hits, 20);
    // Both ports at once, lookups of the key in every cycle meanwhile: the
    // lookups switch from value to miss around the delete.
    tb.port_cmd[0] = Some(c(3, a, 0));
    tb.port_cmd[1] = Some(c(1, b, 0x4444));
    for _ in 0..120 {
        tb.cycle(Some(a));
    }
    tb.idle_until_ready();
    assert_eq!(tb.model.lookup(a), None);
    assert_eq!(tb.model.lookup(b), Some(0x4444));
    assert!(tb.stats.lookup_in_flight > 0);
    // Fill, clear by command, everything misses, the table works again.
    for i in 0..60u32 {
        tb.insert(tuple_key(i, 7, 1, 2), i as u64);
    }
    tb.port_cmd[0] = Some(c(4, 0, 0));
    for i in 0..(1 << SMALL_BITS) + 40u32 {
        tb.cycle(Some(tuple_key(i % 60, 7, 1, 2)));
    }
    tb.idle_until_ready();
    assert_eq!(tb.model.entries(), 0);
    // The sweep: one bucket per cycle, the response the cycle after.
    let clear = tb.log.iter().rev().find(|d| d.cmd.op == 4).unwrap();
    assert_eq!(clear.cycles, (1 << SMALL_BITS) + 1);
    assert_eq!(tb.insert(a, 5), Status::Ok);
    tb.cycle(Some(a));
    tb.idle_until_ready();
    println!("{:?}", tb.stats);
}

#[derive(Clone, Copy)]
struct Mix {
    /// Percent of cycles with a lookup, of free port-cycles with a new command.
    lookup: u64,
    cmd: u64,
    /// Weights of insert, delete, update, read.
    weights: [u64; 4],
    /// Percent of response cycles with ready.
    rsp_ready: u64,
    /// One clear command per this many commands, one reset per this many cycles.
    clear_every: u64,
    reset_every: u64,
}

/// Random traffic on both ports and the lookup port for `cycles` cycles,
/// keys from `pool` (80%) or fresh.
fn random_run(
    tb: &mut Tb,
    rnd: &mut impl FnMut() -> u64,
    pool: &mut Vec<u128>,
    cycles: usize,
    mix: Mix,
) {
    let total: u64 = mix.weights.iter().sum();
    for _ in 0..cycles {
        if rnd().is_multiple_of(mix.reset_every) {
            tb.reset(1 + (rnd() % 3) as usize);
            continue;
        }
        for p in 0..2 {
            if tb.port_free(p) && rnd() % 100 < mix.cmd {
                let key = if rnd() % 100 < 80 && !pool.is_empty() {
                    pool[(rnd() % pool.len() as u64) as usize]
                } else {
                    let k = key96(rnd);
                    pool.push(k);
                    k
                };
                let mut w = rnd() % total;
                let mut op = 0;
                for (i, &x) in mix.weights.iter().enumerate() {
                    if w < x {
                        op = [1u8, 3, 2, 0][i];
                        break;
                    }
                    w -= x;
                }
                if rnd().is_multiple_of(mix.clear_every) {
                    op = 4;
                }
                tb.port_cmd[p] = Some(Cmd {
                    op,
                    key,
                    value: rnd() & 0xffff_ffff,
                });
            }
            tb.rsp_ready[p] = rnd() % 100 < mix.rsp_ready;
        }
        let lk = (rnd() % 100 < mix.lookup).then(|| {
            if rnd() % 100 < 80 && !pool.is_empty() {
                pool[(rnd() % pool.len() as u64) as usize]
            } else {
                key96(rnd)
            }
        });
        tb.cycle(lk);
    }
    tb.rsp_ready = [true, true];
    tb.idle_until_ready();
}

/// Randomized mixes on the small table: phases that fill it (to full and
/// beyond, evictions and the stash) and phases that empty it (stash
/// refills), with lookups in 90% of cycles, both command ports, response
/// backpressure, clears and resets.
#[test]
fn conn_table_randomized_against_model() {
    let mut rnd = seeded_rng();
    let (k0, k1) = (rnd(), rnd());
    let mut tb = Tb::new(&small_block(), SMALL_BITS as u32, k0, k1);
    let mut pool: Vec<u128> = (0..160).map(|_| key96(&mut rnd)).collect();
    let filling = Mix {
        lookup: 90,
        cmd: 60,
        weights: [70, 10, 10, 10],
        rsp_ready: 75,
        clear_every: 700,
        reset_every: 60_000,
    };
    let emptying = Mix {
        weights: [25, 55, 10, 10],
        ..filling
    };
    let t = std::time::Instant::now();
    let mut max_stash = 0;
    let mut max_entries = 0;
    for phase in 0..12 {
        let mix = if phase % 2 == 0 { filling } else { emptying };
        // Let the pool drift so that new keys keep arriving.
        if pool.len() > 400 {
            pool.drain(0..200);
        }
        for _ in 0..8 {
            random_run(&mut tb, &mut rnd, &mut pool, 1000, mix);
            max_stash = max_stash.max(tb.model.stash_used());
            max_entries = max_entries.max(tb.model.entries());
        }
    }
    // A run whose keys share an address pair and differ in the port.
    let mut hostile: Vec<u128> = (0..200u16)
        .map(|p| tuple_key(0x0a00_0001, 0xc0a8_0001, 1024 + p, 443))
        .collect();
    random_run(&mut tb, &mut rnd, &mut hostile, 12_000, filling);
    let s = tb.stats.clone();
    println!(
        "{} cycles in {:.1?}; {s:?}; max stash {max_stash}, max entries {max_entries}",
        tb.sim.cycle,
        t.elapsed()
    );
    assert!(s.lookups > 50_000 && s.lookup_hits > 10_000 && s.lookup_in_flight > 100);
    assert!(
        s.by_status.iter().all(|&n| n > 50),
        "every status: {:?}",
        s.by_status
    );
    assert!(
        s.by_op[..4].iter().all(|&n| n > 100) && s.by_op[4] >= 3,
        "every opcode: {:?}",
        s.by_op
    );
    assert!(
        s.walks > 50 && s.max_kicks as usize == CONN_MAX_KICKS,
        "walks {} max kicks {}",
        s.walks,
        s.max_kicks
    );
    assert!(max_stash == CONN_STASH && s.resets > 0 && s.count_checks > 1000);
}

/// Inserts fresh keys from `keys` until the first "full" (every response
/// checked against the model); returns the entries at that point.
fn fill(tb: &mut Tb, keys: &mut impl FnMut() -> u128) -> (usize, Vec<u128>, u64) {
    let mut inserted = vec![];
    let mut cycles = 0;
    loop {
        let k = keys();
        let (r, c) = tb.command_hold(
            0,
            Cmd {
                op: 1,
                key: k,
                value: k as u64 & 0xffff_ffff,
            },
        );
        match r.status {
            Status::Ok => {
                inserted.push(k);
                cycles += c;
            }
            Status::Full => return (tb.model.entries(), inserted, cycles),
            s => panic!("insert of a fresh key: {s:?}"),
        }
    }
}

/// Lookups of `keys` back to back (one per cycle), each checked.
fn lookup_all(tb: &mut Tb, keys: &[u128]) {
    for &k in keys {
        tb.cycle(Some(k));
    }
    tb.idle_until_ready();
}

/// Fill the small table to the first "full" with random keys and with two
/// hostile key sets, check every entry by lookup, then delete to drain the
/// stash and refill.
#[test]
fn conn_table_fill_to_full_random_and_hostile_keys() {
    let mut rnd = seeded_rng();
    let (k0, k1) = (rnd(), rnd());
    let mut tb = Tb::new(&small_block(), SMALL_BITS as u32, k0, k1);
    let cap = (2 * CONN_WAYS) << SMALL_BITS;
    let mut r2 = seeded_rng();
    let mut next_port = 0u16;
    let mut next_ip = 0u32;
    let sets: Vec<(&str, KeySource)> = vec![
        ("random keys", Box::new(move || key96(&mut r2))),
        (
            "one address pair, sequential source ports",
            Box::new(move || {
                next_port += 1;
                tuple_key(0x0a00_0001, 0x0a00_0002, next_port, 80)
            }),
        ),
        (
            "sequential source addresses, one port pair",
            Box::new(move || {
                next_ip += 1;
                tuple_key(0x0a00_0000 + next_ip, 0x0a00_0002, 40000, 80)
            }),
        ),
    ];
    for (name, mut keys) in sets {
        tb.command_hold(
            0,
            Cmd {
                op: 4,
                key: 0,
                value: 0,
            },
        );
        let (n, inserted, cycles) = fill(&mut tb, &mut keys);
        let load = (n - tb.model.stash_used()) as f64 / cap as f64;
        println!(
            "{name}: first full at {n} entries ({} in the stash), table load {load:.3}, {:.1} cycles per insert",
            tb.model.stash_used(),
            cycles as f64 / inserted.len() as f64
        );
        assert_eq!(tb.model.stash_used(), CONN_STASH);
        assert!(load > 0.8, "{name}: load {load}");
        let hits = tb.stats.lookup_hits;
        lookup_all(&mut tb, &inserted);
        assert_eq!((tb.stats.lookup_hits - hits) as usize, inserted.len());
        // Delete a third: the stash drains into the freed slots.
        for &k in inserted.iter().step_by(3) {
            assert_eq!(
                tb.command_hold(
                    1,
                    Cmd {
                        op: 3,
                        key: k,
                        value: 0
                    }
                )
                .0
                .status,
                Status::Ok
            );
        }
        println!("  after deleting a third: stash {}", tb.model.stash_used());
        let (m, _, _) = fill(&mut tb, &mut keys);
        assert!(m >= n - 4, "{name}: refilled to {m} only");
    }
}

/// The default size (65536 entries): fill with random keys until the first
/// "full", every response checked, then look up a sample.
#[test]
fn conn_table_default_size_fill() {
    let mut rnd = seeded_rng();
    let (k0, k1) = (rnd(), rnd());
    let b = block::<CONN_TABLE_BUCKET_BITS>("conn_table_64k");
    let t = std::time::Instant::now();
    let mut tb = Tb::new(&b, CONN_TABLE_BUCKET_BITS as u32, k0, k1);
    println!("built and swept in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut r2 = seeded_rng();
    // Inserted keys have bit 95 clear, the keys looked up to miss have it set.
    let (n, inserted, cycles) = fill(&mut tb, &mut || key96(&mut r2) & !(1u128 << 95));
    let load = (n - tb.model.stash_used()) as f64 / CONN_TABLE_ENTRIES as f64;
    println!(
        "65536 entries: first full at {n} entries, table load {load:.4}, {:.2} cycles per insert ({} cycles simulated in {:.1?})",
        cycles as f64 / inserted.len() as f64,
        tb.sim.cycle,
        t.elapsed()
    );
    assert!(load > 0.9);
    let sample: Vec<u128> = inserted.iter().step_by(13).copied().collect();
    lookup_all(&mut tb, &sample);
    let misses: Vec<u128> = (0..2000).map(|_| key96(&mut rnd) | 1u128 << 95).collect();
    lookup_all(&mut tb, &misses);
    assert_eq!(tb.stats.lookup_hits as usize, sample.len());
    let stash = inserted
        .iter()
        .filter(|&&k| matches!(tb.model.command(0, k, 0).loc, Some(Loc::Stash(_))))
        .count();
    assert_eq!(stash, CONN_STASH);
}

#[test]
fn conn_table_lint_clean() {
    if let Err(findings) = small_block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
