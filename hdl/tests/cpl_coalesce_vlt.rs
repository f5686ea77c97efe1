//! The completion coalescer (`toe_hdl::cpl_coalesce::CplCoalesce`) in
//! Verilator, driven cycle by cycle (step mode): the RX and TX engines
//! send completion requests (consecutive indices per ring, sometimes
//! jumps, rings of every size, bases just below a 4 GiB boundary) whenever
//! their FIFO is not almost full, and a DMA engine takes lines at random,
//! when urgent or when idle.  Checked against a plain Rust reference
//! (common/cpl_ref.rs), every line and every cycle:
//!
//! * every record is written once, in each engine's order, at its ring
//!   address with its index and phase, two records in a line only when
//!   they are its two halves; all are written by the end;
//! * `line_urgent` only with a line, a full line urgent at
//!   once; `rx_full`/`rx_level` consistent with each other;
//! * no output changes with the inputs of its own cycle;
//! * 400 consecutive completions of one ring, sent one per cycle and taken
//!   when urgent, leave as 200 full lines at one request per cycle.
//!
//! Then `verilator --lint-only -Wall`.  `TOE_SEED=n` replays.
mod common;
#[path = "common/cpl_ref.rs"]
mod cpl_ref;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{bundle_ports, Val, VltBlock};
use cpl_ref::{place, Checker, Req};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::cpl_coalesce::CplCoalesce;

const RANDOM_CYCLES: u64 = 60_000;

const I_RST: usize = 0;
const I_BASE: usize = 1;
const I_QCTL: usize = 2;
const I_RX_REQ: usize = 3;
const I_RX_DATA: usize = 4;
const I_TX_REQ: usize = 5;
const I_TX_DATA: usize = 6;
const I_TAKE: usize = 7;
const O_RX_FULL: usize = 0;
const O_RX_LEVEL: usize = 1;
const O_TX_FULL: usize = 2;
const O_VALID: usize = 3;
const O_URGENT: usize = 4;
const O_ADDR: usize = 5;
const O_DATA: usize = 6;
const O_STRB: usize = 7;

fn block() -> VltBlock {
    let mut uut = CplCoalesce::default();
    uut.connect_all();
    VltBlock::new(
        "cpl_coalesce",
        bundle_ports(&generate_verilog(&uut), &["rx", "tx"]),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("cpl_base", 512)
    .input("qctl", 64)
    .input("rx_write", 1)
    .input("rx_data", 275)
    .input("tx_write", 1)
    .input("tx_data", 275)
    .input("line_take", 1)
    .output("rx_full", 1)
    .output("rx_level", 6)
    .output("tx_full", 1)
    .output("line_valid", 1)
    .output("line_urgent", 1)
    .output("line_addr", 64)
    .output("line_data", 512)
    .output("line_strb", 64)
}

struct Config {
    base: [u64; 8],
    log2: [u32; 8],
}

fn random_config(rnd: &mut impl FnMut() -> u64) -> Config {
    let mut c = Config {
        base: [0; 8],
        log2: [0; 8],
    };
    for k in 0..8 {
        c.log2[k] = 2 + (rnd() % 14) as u32;
        c.base[k] = if rnd() % 3 == 0 {
            // Just below 4 GiB * n: the ring crosses the boundary.
            ((rnd() % 0xFFFF + 1) << 32) - 64 * (1 + rnd() % 8)
        } else {
            rnd() & 0x00FF_FFFF_FFFF_FFC0
        };
    }
    c
}

/// An engine: its rings, the next index of each, the ring it sends to
/// (it keeps to one ring for a while, as an engine serving one queue).
struct Engine {
    rings: [usize; 4],
    next: [u16; 8],
    cur: usize,
}

impl Engine {
    fn req(&mut self, rnd: &mut impl FnMut() -> u64, ring: Option<usize>) -> Req {
        // A given ring: consecutive indices; a random one: sometimes a jump.
        if ring.is_none() && rnd() % 50 == 0 {
            let r = self.rings[(rnd() % 4) as usize];
            self.next[r] = rnd() as u16;
        }
        if rnd() % 8 == 0 {
            self.cur = self.rings[(rnd() % 4) as usize];
        }
        let ring = ring.unwrap_or(self.cur);
        let index = self.next[ring];
        self.next[ring] = index.wrapping_add(1);
        Req {
            rec: [rnd(), rnd(), rnd(), rnd()],
            ring,
            index,
        }
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Phase {
    Burst,
    Random,
    Drain,
}

#[test]
fn cpl_coalesce_verilated_matches_reference() {
    let mut rnd = seeded_rng();
    let b = block();
    let t0 = std::time::Instant::now();
    let mut st = b.start();
    println!("built and started in {:.1?}", t0.elapsed());
    let mut cfg = random_config(&mut rnd);
    // The burst: ring 4 from index 0 (an even slot).
    cfg.log2[4] = 9;
    let mut rx = Engine {
        rings: [4, 5, 6, 7],
        next: [0; 8],
        cur: 4,
    };
    let mut tx = Engine {
        rings: [0, 1, 2, 3],
        next: [0; 8],
        cur: 0,
    };
    for k in 0..8 {
        if k != 4 {
            rx.next[k] = rnd() as u16;
            tx.next[k] = rnd() as u16;
        }
    }
    let mut chk = Checker::default();
    let mut phase = Phase::Burst;
    let mut burst_sent = 0u32;
    let mut burst_start = 0u64;
    let mut random_left = RANDOM_CYCLES;
    let mut drain_left = 5_000u64;
    let (mut requests, mut take_stalls, mut full_seen, mut resets) = (0u64, 0u64, 0u64, 0u64);
    let mut t = 0u64;
    loop {
        let pre = st.peek().to_vec();
        let rst = t == 0 || (phase == Phase::Random && random_left == RANDOM_CYCLES / 2);
        let mut inp = vec![Val::from(0u64); 8];
        inp[I_RST] = rst.into();
        inp[I_BASE] = Val(cfg.base.to_vec());
        let mut qctl = 0u64;
        for k in 0..8 {
            qctl |= (cfg.log2[k] as u64 | 0x10) << (8 * k);
        }
        inp[I_QCTL] = qctl.into();
        let checking = t > 0;
        if checking {
            let v = pre[O_VALID].bit();
            assert!(
                !pre[O_URGENT].bit() || v,
                "cycle {t}: line_urgent without a line"
            );
            if v && pre[O_STRB].u64() == u64::MAX {
                assert!(pre[O_URGENT].bit(), "cycle {t}: a full line not urgent");
            }
            let level = pre[O_RX_LEVEL].u64();
            assert!(level <= 32, "cycle {t}: rx_level {level}");
            assert_eq!(
                pre[O_RX_FULL].bit(),
                level >= 30,
                "cycle {t}: rx_full at level {level}"
            );
        }
        // ------------------------------------------------ engines
        let mut rx_req = None;
        let mut tx_req = None;
        if !rst {
            match phase {
                Phase::Burst => {
                    if burst_sent < 400 {
                        assert!(!pre[O_RX_FULL].bit(), "cycle {t}: the burst was held back");
                        if burst_sent == 0 {
                            burst_start = t;
                        }
                        rx_req = Some(rx.req(&mut rnd, Some(4)));
                        burst_sent += 1;
                    }
                }
                Phase::Random => {
                    let p = [90, 40, 10, 70][((t / 1000) % 4) as usize];
                    if !pre[O_RX_FULL].bit() && rnd() % 100 < p {
                        rx_req = Some(rx.req(&mut rnd, None));
                    }
                    // The TX engine pauses half of the time: requests of the two
                    // engines alternate, and alternating rings seldom share a
                    // line.
                    if (t / 3000) % 2 == 0 && !pre[O_TX_FULL].bit() && rnd() % 100 < p {
                        tx_req = Some(tx.req(&mut rnd, None));
                    }
                }
                Phase::Drain => {}
            }
        }
        if let Some(r) = rx_req {
            inp[I_RX_REQ] = true.into();
            inp[I_RX_DATA] = Val(r.word());
        }
        if let Some(r) = tx_req {
            inp[I_TX_REQ] = true.into();
            inp[I_TX_DATA] = Val(r.word());
        }
        // ------------------------------------------------ DMA engine
        let v = pre[O_VALID].bit();
        let take = !rst
            && v
            && match phase {
                Phase::Burst => pre[O_URGENT].bit(),
                Phase::Drain => true,
                Phase::Random => match (t / 700) % 3 {
                    // As the DMA engine: urgent lines, others when idle.
                    0 => pre[O_URGENT].bit() || rnd() % 4 == 0,
                    1 => rnd() % 3 == 0,
                    _ => rnd() % 10 != 0,
                },
            };
        if v && !take {
            take_stalls += 1;
        }
        inp[I_TAKE] = take.into();
        // ------------------------------------------------ the cycle
        let post = st.step(&inp);
        for (i, (a, b)) in pre.iter().zip(&post).enumerate() {
            assert_eq!(
                a,
                b,
                "cycle {t}: output {} changed with this cycle's inputs",
                name(i)
            );
        }
        if checking && take {
            chk.take(pre[O_ADDR].u64(), &pre[O_DATA].0, pre[O_STRB].u64())
                .unwrap_or_else(|e| panic!("cycle {t}: {e}"));
            full_seen += (pre[O_STRB].u64() == u64::MAX) as u64;
        }
        if !rst {
            if let Some(r) = rx_req {
                chk.rx.push_back(place(&r, &cfg.base, &cfg.log2));
                requests += 1;
            }
            if let Some(r) = tx_req {
                chk.tx.push_back(place(&r, &cfg.base, &cfg.log2));
                requests += 1;
            }
        } else {
            chk.rx.clear();
            chk.tx.clear();
            resets += 1;
        }
        t += 1;
        match phase {
            Phase::Burst => {
                if burst_sent == 400 && chk.rx.is_empty() {
                    let took = t - burst_start;
                    println!(
                        "burst: 400 requests in {took} cycles, {} lines, {} full",
                        chk.lines, chk.full_lines
                    );
                    assert_eq!((chk.lines, chk.full_lines), (200, 200), "burst lines");
                    assert!(took <= 400 + 20, "400 requests took {took} cycles");
                    phase = Phase::Random;
                    // New rings, as after the host set the queues up again.
                    cfg = random_config(&mut rnd);
                }
                assert!(t < 2000, "the burst did not drain");
            }
            Phase::Random => {
                random_left -= 1;
                if random_left == 0 {
                    phase = Phase::Drain;
                }
            }
            Phase::Drain => {
                if chk.rx.is_empty() && chk.tx.is_empty() {
                    break;
                }
                drain_left -= 1;
                assert!(
                    drain_left > 0,
                    "records never written: RX {} TX {}",
                    chk.rx.len(),
                    chk.tx.len()
                );
            }
        }
    }
    println!("{t} cycles in {:.1?}", t0.elapsed());
    println!(
        "requests {requests} lines {} full lines {} take stalls {take_stalls} resets {resets}",
        chk.lines, chk.full_lines
    );
    assert!(requests > 25_000 && chk.full_lines > 2_000 && chk.lines > chk.full_lines + 2_000);
    assert!(take_stalls > 5_000 && full_seen > 0 && resets == 2);
}

fn name(i: usize) -> String {
    block().outputs[i].name.clone()
}

#[test]
fn cpl_coalesce_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
