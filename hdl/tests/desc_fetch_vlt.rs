//! The descriptor fetcher (`toe_hdl::desc_fetch::DescFetch`) in Verilator,
//! driven cycle by cycle (step mode) by a host (common/desc_ref.rs: four
//! rings in host memory, doorbells of random sizes, queue resets that move
//! and resize a ring), an AXI memory that takes reads with random
//! backpressure and answers them in order after random latencies, and a
//! consumer that pops each queue's head at random.  Checked every cycle:
//!
//! * every head the block shows is the next descriptor the host posted on
//!   that queue (so every descriptor arrives once, in order, and none from
//!   before a queue reset), and the consumer ends with all of them;
//! * every read is a 64-byte beat of a ring, the beat holding the queue's
//!   next descriptors (the first beat after a reset), offered until taken
//!   with its address unchanged;
//! * no output changes with the inputs of its own cycle;
//! * a bulk doorbell of 256 descriptors is fetched in 64 reads and
//!   delivered at one descriptor per cycle.
//!
//! Then `verilator --lint-only -Wall`.  `TOE_SEED=n` replays.
mod common;
#[path = "common/desc_ref.rs"]
mod desc_ref;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{bundle_ports, Val, VltBlock};
use desc_ref::{Host, Ring};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_hdl::desc_fetch::DescFetch;

const RANDOM_CYCLES: u64 = 60_000;

const I_RST: usize = 0;
const I_BASE: usize = 1;
const I_QCTL: usize = 2;
const I_PROD: usize = 3;
const I_QRESET: usize = 4;
const I_AR_READY: usize = 5;
const I_R_VALID: usize = 6;
const I_R_DATA: usize = 7;
const I_POP: usize = 8;
const O_AR_VALID: usize = 0;
const O_AR_ADDR: usize = 1;
const O_R_READY: usize = 2;
const O_HEAD: usize = 3;
const O_HEAD_VALID: usize = 4;

fn block() -> VltBlock {
    let mut uut = DescFetch::default();
    uut.connect_all();
    VltBlock::new(
        "desc_fetch",
        bundle_ports(&generate_verilog(&uut), &["head"]),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("base", 256)
    .input("qctl", 32)
    .input("prod", 64)
    .input("qreset", 4)
    .input("ar_ready", 1)
    .input("r_valid", 1)
    .input("r_data", 512)
    .input("head_pop", 4)
    .output("ar_valid", 1)
    .output("ar_addr", 64)
    .output("r_ready", 1)
    .output("head_data", 512)
    .output("head_valid", 4)
}

fn head_of(v: &Val, q: usize) -> u128 {
    (v.0[2 * q + 1] as u128) << 64 | v.0[2 * q] as u128
}

/// A ring base: 64-byte aligned, sometimes just below a 4 GiB boundary so
/// that the ring crosses it.
fn random_base(rnd: &mut impl FnMut() -> u64, log2: u32) -> u64 {
    if rnd() % 3 == 0 {
        let hi = rnd() % 0xFFFF + 1;
        (hi << 32) - 64 * (rnd() % (1u64 << log2.saturating_sub(2)).max(1))
    } else {
        (rnd() & 0x0000_FFFF_FFFF_FFC0) | 0x40
    }
}

/// The inputs a register file would drive for these rings.
fn config(host: &Host) -> (Val, Val, Val) {
    let mut base = vec![0u64; 4];
    let mut qctl = 0u64;
    let mut prod = 0u64;
    for (q, r) in host.rings.iter().enumerate() {
        base[q] = r.base;
        qctl |= ((r.log2 as u64) | (r.enabled as u64) << 4) << (8 * q);
        prod |= (r.prod as u64) << (16 * q);
    }
    (Val(base), qctl.into(), prod.into())
}

#[derive(PartialEq)]
enum Phase {
    Bulk,
    Random,
    Drain,
}

#[test]
fn desc_fetch_verilated_matches_reference() {
    let mut rnd = seeded_rng();
    let b = block();
    let t0 = std::time::Instant::now();
    let mut st = b.start();
    println!("built and started in {:.1?}", t0.elapsed());
    let mut rings = vec![];
    for q in 0..4 {
        let log2 = if q == 0 { 9 } else { 2 + (rnd() % 7) as u32 };
        let base = random_base(&mut rnd, log2);
        rings.push(Ring {
            base,
            log2,
            enabled: false,
            epoch: 0,
            prod: 0,
            next: 0,
        });
    }
    let mut host = Host::new(rings);
    // Reads taken and not yet answered: (cycle due, beat data).
    let mut pending: VecDeque<(u64, Vec<u64>)> = VecDeque::new();
    // Per queue: the beat slot of its last read (None after a reset).
    let mut last_beat: [Option<u64>; 4] = [None; 4];
    // Queue reset in progress: (queue, cycle to change the ring, cycle of
    // the reset pulse).
    let mut resetting: Option<(usize, u64, u64)> = None;
    let mut prev_ar: Option<u64> = None;
    let mut phase = Phase::Bulk;
    let mut bulk: Option<(u64, u64)> = None; // (start cycle, reads of queue 0)
    let mut bulk_done = false;
    let mut random_left = RANDOM_CYCLES;
    let mut drain_left = 20_000u64;
    let (mut reads, mut pops, mut resets, mut ar_stalls, mut r_stalls, mut empty_pops) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut t = 0u64;
    // Queues are enabled (with the reset pulse, as the register file
    // gives it) in cycles 2 to 5.
    loop {
        let pre = st.peek().to_vec();
        let in_reset = t < 2;
        let mut inp = vec![Val::from(0u64); 9];
        let mut qreset = 0u64;
        if (2..6).contains(&t) {
            let q = (t - 2) as usize;
            host.rings[q].enabled = true;
            qreset |= 1 << q;
        }
        // ------------------------------------------------ checks of the heads
        if !in_reset {
            let hv = pre[O_HEAD_VALID].u64();
            for q in 0..4 {
                if hv >> q & 1 == 1 {
                    let r = &host.rings[q];
                    assert!(
                        r.outstanding() > 0,
                        "cycle {t}: queue {q} shows a head with nothing posted"
                    );
                    let want = desc_ref::desc(q, r.epoch, r.next);
                    assert_eq!(
                        head_of(&pre[O_HEAD], q),
                        want,
                        "cycle {t}: head of queue {q} (index {}, epoch {})",
                        r.next,
                        r.epoch
                    );
                }
            }
        }
        // ------------------------------------------------ host
        match phase {
            Phase::Bulk => {
                if t == 10 {
                    assert_eq!(host.post(0, 256), 256);
                    bulk = Some((t, 0));
                }
            }
            Phase::Random => {
                if rnd() % 4 == 0 {
                    let q = (rnd() % 4) as usize;
                    let n = 1 + (rnd() % 8) as u32;
                    if host.rings[q].enabled && resetting.is_none_or(|(rq, _, _)| rq != q) {
                        host.post(q, n);
                    }
                }
                if resetting.is_none() && rnd() % 2500 == 0 {
                    // Disable a queue, move and resize its ring a few cycles
                    // later, enable it with the reset pulse later still.
                    let q = (rnd() % 4) as usize;
                    host.rings[q].enabled = false;
                    let change = t + 3 + rnd() % 10;
                    resetting = Some((q, change, change + 1 + rnd() % 30));
                }
            }
            Phase::Drain => {}
        }
        if let Some((q, change, pulse)) = resetting {
            if t == change {
                let log2 = 2 + (rnd() % 7) as u32;
                host.rings[q].log2 = log2;
                host.rings[q].base = random_base(&mut rnd, log2);
            }
            if t == pulse {
                qreset |= 1 << q;
            }
        }
        // ------------------------------------------------ memory, consumer
        let ar_p = match phase {
            Phase::Bulk | Phase::Drain => 100,
            Phase::Random => [100, 60, 20, 90][((t / 2000) % 4) as usize],
        };
        let ar_ready = rnd() % 100 < ar_p;
        let r_valid = pending.front().is_some_and(|p| p.0 <= t);
        let mut pop = 0u64;
        let hv = pre[O_HEAD_VALID].u64();
        for q in 0..4 {
            if qreset >> q & 1 == 1 {
                continue;
            }
            let p = match phase {
                Phase::Bulk | Phase::Drain => 100,
                Phase::Random => [90, 50, 10, 70][((t / 1500 + q as u64) % 4) as usize],
            };
            if hv >> q & 1 == 1 && rnd() % 100 < p {
                pop |= 1 << q;
            } else if hv >> q & 1 == 0 && rnd() % 20 == 0 {
                // Popping an empty queue changes nothing.
                pop |= 1 << q;
                empty_pops += 1;
            }
        }
        let (base, qctl, prod) = config(&host);
        inp[I_RST] = in_reset.into();
        inp[I_BASE] = base;
        inp[I_QCTL] = qctl;
        inp[I_PROD] = if qreset != 0 {
            // The register file clears a queue's producer index with its
            // reset pulse.
            let mut p = prod.u64();
            for q in 0..4 {
                if qreset >> q & 1 == 1 {
                    p &= !(0xFFFF << (16 * q));
                }
            }
            p.into()
        } else {
            prod
        };
        inp[I_QRESET] = qreset.into();
        inp[I_AR_READY] = ar_ready.into();
        inp[I_R_VALID] = r_valid.into();
        inp[I_R_DATA] = if r_valid {
            Val(pending.front().unwrap().1.clone())
        } else {
            Val(vec![0; 8])
        };
        inp[I_POP] = pop.into();
        // ------------------------------------------------ the cycle
        let post = st.step(&inp);
        for (i, (a, b)) in pre.iter().zip(&post).enumerate() {
            assert_eq!(
                a,
                b,
                "cycle {t}: output {} changed with this cycle's inputs",
                b_name(i)
            );
        }
        if !in_reset {
            // AR: held until taken, with the same address.
            if let Some(a) = prev_ar {
                assert!(
                    post[O_AR_VALID].bit() && post[O_AR_ADDR].u64() == a,
                    "cycle {t}: a read of {a:#x} offered and not taken was withdrawn or changed"
                );
            }
            prev_ar = None;
            if post[O_AR_VALID].bit() {
                let a = post[O_AR_ADDR].u64();
                if ar_ready {
                    let (q, slot) = host
                        .beat_of(a)
                        .unwrap_or_else(|| panic!("cycle {t}: read of {a:#x} is no ring's beat"));
                    let r = &host.rings[q];
                    let mask = r.size() as u64 - 1;
                    let ok = match last_beat[q] {
                        None => slot == 0,
                        Some(l) => slot == l || slot == (l + 4) & mask,
                    };
                    assert!(
                        ok,
                        "cycle {t}: queue {q} read slot {slot} after slot {:?}",
                        last_beat[q]
                    );
                    last_beat[q] = Some(slot);
                    // Answered in order, 1 to 80 cycles later (4 in the
                    // bulk phase).
                    let lat = if phase == Phase::Random {
                        1 + rnd() % 80
                    } else {
                        4
                    };
                    let due = (t + lat).max(pending.back().map_or(0, |p| p.0));
                    pending.push_back((due, host.mem.beat(a)));
                    reads += 1;
                    if let Some((_, n)) = bulk.as_mut() {
                        if q == 0 {
                            *n += 1;
                        }
                    }
                } else {
                    prev_ar = Some(a);
                    ar_stalls += 1;
                }
            }
            if r_valid {
                if post[O_R_READY].bit() {
                    pending.pop_front();
                } else {
                    r_stalls += 1;
                }
            }
            for q in 0..4 {
                if pop >> q & 1 == 1 && hv >> q & 1 == 1 {
                    host.consume(q, head_of(&pre[O_HEAD], q))
                        .unwrap_or_else(|e| panic!("cycle {t}: {e}"));
                    pops += 1;
                }
            }
        }
        for q in 0..4 {
            if qreset >> q & 1 == 1 {
                let r = &mut host.rings[q];
                r.enabled = true;
                if t >= 6 {
                    r.epoch += 1;
                    resets += 1;
                }
                r.prod = 0;
                r.next = 0;
                last_beat[q] = None;
                if resetting.is_some_and(|(rq, _, _)| rq == q) {
                    resetting = None;
                }
            }
        }
        t += 1;
        // ------------------------------------------------ phases
        match phase {
            Phase::Bulk => {
                if let Some((start, n)) = bulk {
                    if host.rings[0].outstanding() == 0 {
                        let took = t - start;
                        println!("bulk: 256 descriptors in {n} reads, {took} cycles");
                        assert_eq!(n, 64, "reads for 256 descriptors from slot 0");
                        assert!(took <= 256 + 40, "256 descriptors took {took} cycles");
                        bulk_done = true;
                        phase = Phase::Random;
                    }
                }
                assert!(t < 5000, "the bulk doorbell was not served");
            }
            Phase::Random => {
                random_left -= 1;
                if random_left == 0 {
                    phase = Phase::Drain;
                }
            }
            Phase::Drain => {
                let left: u32 = host.rings.iter().map(|r| r.outstanding()).sum();
                if left == 0 && resetting.is_none() && pending.is_empty() {
                    break;
                }
                drain_left -= 1;
                assert!(drain_left > 0, "descriptors left undelivered: {left}");
            }
        }
    }
    println!("{t} cycles in {:.1?}", t0.elapsed());
    println!(
        "reads {reads} pops {pops} queue resets {resets} AR stalls {ar_stalls} R stalls {r_stalls} \
         pops of empty queues {empty_pops}"
    );
    assert!(bulk_done);
    assert!(reads > 5000 && pops > 20_000 && resets >= 10);
    assert!(ar_stalls > 1000 && r_stalls > 100 && empty_pops > 1000);
}

fn b_name(i: usize) -> String {
    block().outputs[i].name.clone()
}

#[test]
fn desc_fetch_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
