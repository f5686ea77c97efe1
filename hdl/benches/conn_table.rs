//! Benchmark of the connection table (`toe_hdl::common::conn_table`) at
//! its default size (65536 entries), on the Verilated block in closed loop
//! with every result checked against the reference model (the driver of
//! tests/conn_table_vlt.rs): lookups per cycle back to back, alone and
//! while the engine inserts; the load factor at the first "full" when
//! filling with random keys and with a hostile key set; insert cycles.
//! Every figure is counted from simulated cycles.
//!
//! `cargo bench -p toe-hdl --bench conn_table -- [--json] [--seed N]`
//! (`cargo xtask bench` runs it).
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/conn_table_drv.rs"]
mod conn_table_drv;
#[path = "../tests/common/vlt_live.rs"]
mod vlt_live;

use conn_table_drv::{block, Cmd, Tb};
use toe_hdl::common::conn_table::*;
use toe_model::conn_table::{tuple_key, Status};

const BITS: usize = CONN_TABLE_BUCKET_BITS;

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn key96(r: &mut impl FnMut() -> u64) -> u128 {
    ((r() as u128) << 64 | r() as u128) & ((1u128 << 96) - 1)
}

struct Rate {
    lookups: u64,
    cycles: u64,
    inserts: usize,
}

impl Rate {
    fn per_cycle(&self) -> f64 {
        self.lookups as f64 / self.cycles as f64
    }
}

/// `n` lookups in `n` consecutive cycles (keys from `keys`); with
/// `inserting`, the offload port keeps the engine busy with inserts.
/// Lookups per cycle = results / cycles from the first result to the last.
fn lookup_rate(
    tb: &mut Tb,
    keys: &[u128],
    n: usize,
    inserting: bool,
    r: &mut impl FnMut() -> u64,
) -> Rate {
    tb.idle_until_ready();
    let before = tb.stats.lookups;
    let done = tb.log.len();
    tb.stats.first_result = None;
    for i in 0..n {
        if inserting && tb.port_free(1) {
            tb.port_cmd[1] = Some(Cmd {
                op: 1,
                key: key96(r) | 1 << 94,
                value: 1,
            });
        }
        tb.cycle(Some(keys[i % keys.len()]));
    }
    tb.idle_until_ready();
    let lookups = tb.stats.lookups - before;
    assert_eq!(lookups, n as u64, "every lookup answered");
    Rate {
        lookups,
        cycles: tb.stats.last_result - tb.stats.first_result.unwrap() + 1,
        inserts: tb.log[done..].iter().filter(|d| d.cmd.op == 1).count(),
    }
}

struct Fill {
    keys: &'static str,
    entries: usize,
    stash: usize,
    mean_cycles: f64,
    max_cycles: u64,
    max_kicks: u32,
}

impl Fill {
    fn load(&self) -> f64 {
        self.entries as f64 / CONN_TABLE_ENTRIES as f64
    }
    fn table_load(&self) -> f64 {
        (self.entries - self.stash) as f64 / CONN_TABLE_ENTRIES as f64
    }
}

/// Clears the table and inserts fresh keys until the first "full".
fn fill(tb: &mut Tb, name: &'static str, keys: &mut dyn FnMut() -> u128) -> Fill {
    tb.command_hold(
        0,
        Cmd {
            op: 4,
            key: 0,
            value: 0,
        },
    );
    let (mut sum, mut max, mut n, mut kicks) = (0u64, 0u64, 0u64, 0u32);
    loop {
        let (rsp, cycles) = tb.command_hold(
            0,
            Cmd {
                op: 1,
                key: keys(),
                value: n,
            },
        );
        match rsp.status {
            Status::Ok => {
                sum += cycles;
                max = max.max(cycles);
                n += 1;
                kicks = kicks.max(rsp.kicks);
            }
            Status::Full => break,
            s => panic!("fresh key: {s:?}"),
        }
    }
    Fill {
        keys: name,
        entries: tb.model.entries(),
        stash: tb.model.stash_used(),
        mean_cycles: sum as f64 / n as f64,
        max_cycles: max,
        max_kicks: kicks,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1u64);
    let mut r = rng(seed);
    let (k0, k1) = (r(), r());
    let t0 = std::time::Instant::now();
    let b = block::<BITS>("conn_table_64k");
    let mut tb = Tb::new(&b, BITS as u32, k0, k1);
    // Half the lookups hit: 4096 entries inserted, 8192 keys looked up.
    let present: Vec<u128> = (0..4096).map(|_| key96(&mut r) & !(1 << 94)).collect();
    for &k in &present {
        tb.insert(k, k as u64 & 0xffff_ffff);
    }
    let mut keys = present.clone();
    keys.extend((0..4096).map(|_| key96(&mut r) | 1 << 95));
    let alone = lookup_rate(&mut tb, &keys, 20_000, false, &mut r);
    let busy = lookup_rate(&mut tb, &keys, 20_000, true, &mut r);
    let fills = [fill(&mut tb, "random", &mut || key96(&mut r)), {
        // One client address, one server address and port: the source
        // port counts up, then the client address moves on.
        let mut i = 0u32;
        fill(
            &mut tb,
            "hostile: one address pair, sequential ports",
            &mut move || {
                i += 1;
                tuple_key(0x0a00_0000 + (i >> 16), 0xc0a8_0001, i as u16, 80)
            },
        )
    }];
    let secs = t0.elapsed().as_secs_f64();
    if json {
        let f: Vec<String> = fills
            .iter()
            .map(|f| {
                format!(
                    "{{\"keys\":\"{}\",\"entries_at_first_full\":{},\"stash_at_first_full\":{},\"load_factor\":{:.4},\"table_load_factor\":{:.4},\"mean_insert_cycles\":{:.2},\"max_insert_cycles\":{},\"max_evictions\":{}}}",
                    f.keys, f.entries, f.stash, f.load(), f.table_load(), f.mean_cycles, f.max_cycles, f.max_kicks
                )
            })
            .collect();
        println!(
            "{{\"entries\":{CONN_TABLE_ENTRIES},\"lookup_latency_cycles\":{CONN_LOOKUP_LATENCY},\"lookups\":{},\"lookup_cycles\":{},\"lookups_per_cycle\":{:.4},\"lookups_during_inserts\":{},\"lookup_cycles_during_inserts\":{},\"lookups_per_cycle_during_inserts\":{:.4},\"inserts_during_lookups\":{},\"fill\":[{}],\"cycles_simulated\":{},\"seconds\":{secs:.1}}}",
            alone.lookups, alone.cycles, alone.per_cycle(), busy.lookups, busy.cycles, busy.per_cycle(), busy.inserts, f.join(","), tb.sim.cycle
        );
        return;
    }
    println!(
        "connection table (Verilated RTL, {CONN_TABLE_ENTRIES} entries: 2 x {} buckets x {CONN_WAYS} ways + {CONN_STASH}-entry stash, 32-bit values; every result checked against the model)",
        1 << BITS
    );
    println!(
        "lookups back to back: {} results in {} cycles = {:.3} lookups/cycle (latency {CONN_LOOKUP_LATENCY} cycles)",
        alone.lookups,
        alone.cycles,
        alone.per_cycle()
    );
    println!(
        "lookups while the engine inserts: {} results in {} cycles = {:.3} lookups/cycle ({} inserts done meanwhile)",
        busy.lookups,
        busy.cycles,
        busy.per_cycle(),
        busy.inserts
    );
    println!(
        "{:<46} {:>10} {:>6} {:>8} {:>8} {:>9} {:>9} {:>7}",
        "fill until the first \"full\", keys",
        "entries",
        "stash",
        "load",
        "table",
        "cyc/ins",
        "max cyc",
        "max ev"
    );
    for f in &fills {
        println!(
            "{:<46} {:>10} {:>6} {:>8.4} {:>8.4} {:>9.2} {:>9} {:>7}",
            f.keys,
            f.entries,
            f.stash,
            f.load(),
            f.table_load(),
            f.mean_cycles,
            f.max_cycles,
            f.max_kicks
        );
    }
    println!("({} cycles simulated in {secs:.1} s)", tb.sim.cycle);
}
