//! The TX scheduler (`toe_hdl::tx::sched`) in Verilator, stepped cycle by
//! cycle against queues of descriptors that behave as the descriptor cache
//! does (a popped head is replaced by the next one a cycle later), with
//! random gaps in the heads, random AXI `arready` and a random tag-FIFO
//! almost-full flag.  Checked every cycle: pops only of enabled queues with
//! a head; an offered read address held until taken (AXI4 A3.2.1); each
//! tag in pick order, with its queue's running index, the descriptor's
//! length and flags, the error bit exactly for rejected descriptors, and
//! after exactly the bursts of `tx_sched_ref` (4 KiB boundaries, at most 64
//! beats).  Also: one burst per cycle in steady state, and queue resets
//! (descriptors picked before a reset are retired, the index restarts).
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;
#[path = "common/tx_sched_ref.rs"]
mod tx_sched_ref;

use common::vlt_block::{bundle_ports, Stepper, Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_hdl::tx::sched::TxSched;
use tx_sched_ref::{tag_fields, Desc};

/// The block, built under `name` (each test its own simulator binary, so
/// tests running in parallel do not rebuild one another's).
fn block(name: &str) -> VltBlock {
    let mut uut = TxSched::default();
    uut.connect_all();
    VltBlock::new(
        name,
        bundle_ports(&generate_verilog(&uut), &["tag", "desc"]),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("desc_data", 512)
    .input("desc_valid", 4)
    .input("qctl", 32)
    .input("qreset", 4)
    .input("ar_ready", 1)
    .input("tag_full", 1)
    .output("desc_pop", 4)
    .output("ar_valid", 1)
    .output("ar_addr", 64)
    .output("ar_len", 8)
    .output("tag_write", 1)
    .output("tag_data", 51)
}

/// A picked descriptor waiting for its tag.
struct Pending {
    queue: usize,
    index: u16,
    desc: Desc,
    /// Picked before a reset of its queue: it may still complete (when it
    /// was already being issued) or be retired without a tag.
    optional: bool,
}

/// The descriptor side and the checker.
struct Bench {
    st: Stepper,
    rnd: Box<dyn FnMut() -> u64>,
    queues: [VecDeque<Desc>; 4],
    next_index: [u16; 4],
    enabled: [bool; 4],
    pending: VecDeque<Pending>,
    bursts: Vec<(u64, u8)>,
    /// The address offered and not taken in the previous cycle.
    held: Option<(u64, u8)>,
    tags: usize,
    bursts_total: usize,
}

impl Bench {
    fn new(name: &str) -> Bench {
        Bench {
            st: block(name).start(),
            rnd: Box::new(seeded_rng()),
            queues: Default::default(),
            next_index: [0; 4],
            enabled: [true; 4],
            pending: VecDeque::new(),
            bursts: vec![],
            held: None,
            tags: 0,
            bursts_total: 0,
        }
    }

    /// One cycle: `head_gap` in 1/256 (a head hidden, as during a cache
    /// refill), `ready` and `full` the chances of `arready` and of the tag
    /// FIFO's almost-full flag in 1/256, `reset` a queue to reset.
    fn cycle(&mut self, head_gap: u64, ready: u64, full: u64, reset: Option<usize>) {
        let mut desc = [0u64; 8];
        let mut valid = 0u64;
        for q in 0..4 {
            if let Some(d) = self.queues[q].front() {
                if (self.rnd)() % 256 >= head_gap {
                    valid |= 1 << q;
                }
                let h = d.head();
                desc[2 * q] = h as u64;
                desc[2 * q + 1] = (h >> 64) as u64;
            }
        }
        let qctl: u64 = (0..4)
            .filter(|&q| self.enabled[q])
            .map(|q| 1u64 << (8 * q + 4))
            .sum();
        let ar_ready = (self.rnd)() % 256 < ready;
        let tag_full = (self.rnd)() % 256 < full;
        let qreset = reset.map_or(0u64, |q| 1 << q);
        let pre = self.st.peek().to_vec();
        // Registered outputs: the read address channel.
        let offered = pre[1].bit().then(|| (pre[2].u64(), pre[3].u64() as u8));
        if let Some(h) = self.held {
            assert_eq!(
                offered,
                Some(h),
                "cycle {}: an offered read address changed or was withdrawn before arready",
                self.st.cycle
            );
        }
        let post = self.st.step(&[
            false.into(),
            Val(desc.to_vec()),
            valid.into(),
            qctl.into(),
            qreset.into(),
            ar_ready.into(),
            tag_full.into(),
        ]);
        let cycle = self.st.cycle - 1;
        // Pops: enabled queues showing a head, one per cycle.
        let pops = post[0].u64();
        assert!(pops.count_ones() <= 1, "cycle {cycle}: pops {pops:#x}");
        for q in 0..4 {
            if pops >> q & 1 == 1 {
                assert!(
                    valid >> q & 1 == 1 && self.enabled[q],
                    "cycle {cycle}: pop of queue {q} without a head or while disabled"
                );
                let desc = self.queues[q].pop_front().unwrap();
                self.pending.push_back(Pending {
                    queue: q,
                    index: self.next_index[q],
                    desc,
                    optional: false,
                });
                self.next_index[q] = self.next_index[q].wrapping_add(1);
            }
        }
        if let Some(q) = reset {
            // Picked up to this cycle: old ring.
            for p in self.pending.iter_mut().filter(|p| p.queue == q) {
                p.optional = true;
            }
            self.next_index[q] = 0;
        }
        // The read address channel.
        self.held = None;
        if let Some(b) = offered {
            if ar_ready {
                self.bursts.push(b);
                self.bursts_total += 1;
            } else {
                self.held = Some(b);
            }
        }
        // Tags.
        if post[4].bit() {
            let (q, index, len, flags, err) = tag_fields(post[5].u64());
            let got = (q, index, len, flags, err);
            loop {
                let p = self.pending.pop_front().unwrap_or_else(|| {
                    panic!("cycle {cycle}: tag {got:?} for no picked descriptor")
                });
                let want = (
                    p.queue,
                    p.index,
                    p.desc.len,
                    p.desc.flags,
                    p.desc.rejected(),
                );
                if p.optional && want != got {
                    continue; // retired by its queue's reset
                }
                assert_eq!(
                    got, want,
                    "cycle {cycle}: tag (queue, index, length, flags, error)"
                );
                assert_eq!(
                    self.bursts,
                    p.desc.bursts(),
                    "cycle {cycle}: read bursts (address, arlen) of {:?}",
                    p.desc
                );
                break;
            }
            self.bursts.clear();
            self.tags += 1;
        }
    }
}

fn random_desc(rnd: &mut dyn FnMut() -> u64) -> Desc {
    let page = (rnd() % 1024) << 12;
    let r = rnd() % 16;
    let (addr, len) = match r {
        // Short frames anywhere in a page.
        0..=7 => (page + (rnd() % 64) * 64, 14 + (rnd() % 1500) as u16),
        // Near a page end: split bursts.
        8..=11 => (
            page + 4096 - (1 + rnd() % 8) * 64,
            60 + (rnd() % 9000) as u16,
        ),
        // Jumbo frames.
        12..=13 => (page + (rnd() % 64) * 64, (8000 + rnd() % 1019) as u16),
        // Bad: misaligned, too short, too long, reserved flags.
        _ => match rnd() % 4 {
            0 => (page + 1 + rnd() % 63, 100),
            1 => (page, (rnd() % 14) as u16),
            2 => (page, 9019 + (rnd() % 1000) as u16),
            _ => (page, 200),
        },
    };
    let flags = if r == 15 && rnd() % 2 == 0 {
        0x1000 << (rnd() % 4)
    } else {
        (rnd() % 0x1000) as u16
    };
    Desc { addr, len, flags }
}

#[test]
fn tx_sched_issues_bursts_and_tags_as_the_reference_says() {
    let mut b = Bench::new("tx_sched_random");
    // Directed: every boundary case on queue 0, alone.
    let directed = [
        Desc {
            addr: 0x1000,
            len: 14,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 64,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 65,
            flags: 0,
        },
        Desc {
            addr: 0x1FC0,
            len: 64,
            flags: 0,
        },
        Desc {
            addr: 0x1FC0,
            len: 65,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 4096,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 4097,
            flags: 0,
        },
        Desc {
            addr: 0x1040,
            len: 9018,
            flags: 0x0FFF,
        },
        Desc {
            addr: 0xFFFF_FFFF_FFFF_F000,
            len: 9018,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 9019,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 13,
            flags: 0,
        },
        Desc {
            addr: 0x1020,
            len: 100,
            flags: 0,
        },
        Desc {
            addr: 0x1000,
            len: 100,
            flags: 0x8000,
        },
    ];
    b.queues[0].extend(directed);
    for _ in 0..400 {
        b.cycle(0, 256, 0, None);
    }
    assert_eq!(b.tags, directed.len(), "directed descriptors tagged");
    // Randomized: four queues, gaps, backpressure on both sides, queues
    // switched off and on, occasional queue resets.
    for round in 0..40 {
        for q in 0..4 {
            for _ in 0..(b.rnd)() % 40 {
                let d = random_desc(&mut b.rnd);
                b.queues[q].push_back(d);
            }
            b.enabled[q] = (b.rnd)() % 5 != 0;
        }
        let ready = [256, 200, 64, 16][round % 4];
        let full = [0, 8, 64][round % 3];
        for _ in 0..1500 {
            let reset = ((b.rnd)() % 700 == 0).then(|| ((b.rnd)() % 4) as usize);
            let gap = (b.rnd)() % 32;
            b.cycle(gap, ready, full, reset);
        }
    }
    // Drain: everything enabled, no backpressure.
    b.enabled = [true; 4];
    for _ in 0..3000 {
        b.cycle(0, 256, 0, None);
    }
    assert!(
        b.queues.iter().all(|q| q.is_empty()),
        "all descriptors picked"
    );
    assert!(
        b.pending.iter().all(|p| p.optional),
        "every picked descriptor tagged ({} left)",
        b.pending.len()
    );
    println!(
        "{} tags, {} bursts in {} cycles",
        b.tags, b.bursts_total, b.st.cycle
    );
    assert!(b.tags > 2000, "enough traffic: {}", b.tags);
}

#[test]
fn tx_sched_issues_one_single_burst_frame_per_cycle() {
    let mut b = Bench::new("tx_sched_rate");
    const FRAMES: usize = 2000;
    for i in 0..FRAMES {
        b.queues[i % 4].push_back(Desc {
            addr: 0x10_0000 + 64 * i as u64,
            len: 60,
            flags: 0,
        });
    }
    // One queue alone first, then all four.
    b.enabled = [true, false, false, false];
    let start = b.st.cycle;
    while !b.queues[0].is_empty() || b.pending.iter().any(|p| p.queue == 0) {
        b.cycle(0, 256, 0, None);
        assert!(b.st.cycle - start < 2 * FRAMES as u64, "queue 0 stalls");
    }
    let one = b.st.cycle - start;
    b.enabled = [true; 4];
    let start = b.st.cycle;
    let tags0 = b.tags;
    while b.tags < FRAMES {
        b.cycle(0, 256, 0, None);
        assert!(b.st.cycle - start < 2 * FRAMES as u64, "stalls");
    }
    let all = b.st.cycle - start;
    println!(
        "queue 0 alone: {} frames in {one} cycles; four queues: {} frames in {all} cycles",
        FRAMES / 4,
        b.tags - tags0
    );
    // One frame per cycle after a fixed pipeline latency.
    assert!(one <= (FRAMES / 4) as u64 + 8, "queue alone: {one} cycles");
    assert!(
        all <= (b.tags - tags0) as u64 + 8,
        "four queues: {all} cycles"
    );
}

#[test]
fn tx_sched_verilog_lints_clean() {
    block("tx_sched_lint").lint().unwrap();
}
