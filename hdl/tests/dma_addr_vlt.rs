//! The RX DMA address stage (`toe_hdl::rx::dma_addr::DmaAddr`) in
//! Verilator, stepped cycle by cycle: a metadata FIFO and four descriptor
//! caches that behave as the real ones do (first word fall through, random
//! gaps), random AXI `awready`, a random job-FIFO full flag, completion
//! lines offered at random, and a data stage that makes each delivered
//! frame's completion request some cycles after its last job.  Checked
//! against a plain Rust reference of the decision (deliver to the queue's
//! head buffer, or drop and count by reason; bursts split at 4 KiB):
//!
//! * every job in order, field for field (frames and drops; completion
//!   lines in their own order), and an AXI address exactly with each frame
//!   burst and line, held until taken (AXI4 A3.2.1);
//! * the counter increments, summed per counter, and the descriptors
//!   consumed per queue;
//! * a frame waits (is not dropped) while its queue's buffer is posted but
//!   not yet visible;
//! * never more than 28 delivered frames without their completion request
//!   (the coalescer's room), with no lines or completions outstanding;
//! * and at full rate (no gaps, always ready) one-beat frames are decided
//!   and issued at one per cycle.
//!
//! Seeded: `TOE_SEED=n` replays a run.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{bundle_ports, Stepper, Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_contract::desc as d;
use toe_contract::regs::Counter;
use toe_hdl::rx::dma_addr::DmaAddr;
use toe_hdl::rx::parse::REASON_COUNTED_ELSEWHERE;

fn block(name: &str) -> VltBlock {
    let mut uut = DmaAddr::default();
    uut.connect_all();
    VltBlock::new(
        name,
        bundle_ports(&generate_verilog(&uut), &["meta", "desc", "job"]),
        "top",
    )
    .clock("clock")
    .input("rst", 1)
    .input("meta_empty", 1)
    .input("meta_data", 262)
    .input("desc_data", 512)
    .input("desc_valid", 4)
    .input("qctl", 32)
    .input("prod", 64)
    .input("qreset", 4)
    .input("line_valid", 1)
    .input("line_urgent", 1)
    .input("line_addr", 64)
    .input("line_data", 512)
    .input("line_strb", 64)
    .input("aw_ready", 1)
    .input("job_full", 1)
    .input("line_aged", 1)
    .input("cpl_level", 6)
    .input("cpl_req", 1)
    .output("meta_pop", 1)
    .output("desc_pop", 4)
    .output("cons", 64)
    .output("line_take", 1)
    .output("aw_valid", 1)
    .output("aw_addr", 64)
    .output("aw_len", 8)
    .output("job_write", 1)
    .output("job_data", 881)
    .output("cnt_inc", 16)
}

/// Sets `width` bits of `v` at bit `at` of a little-endian limb vector.
fn put(w: &mut [u64], at: usize, width: usize, v: u64) {
    for b in 0..width {
        if v >> b & 1 == 1 {
            w[(at + b) / 64] |= 1 << ((at + b) % 64);
        }
    }
}

fn field(v: &Val, at: usize, width: usize) -> u64 {
    let mut x = 0;
    for b in 0..width {
        let bit = v.0.get((at + b) / 64).copied().unwrap_or(0) >> ((at + b) % 64) & 1;
        x |= bit << b;
    }
    x
}

#[derive(Clone, Debug)]
struct Meta {
    /// The completion fields (low 256 bits) as four limbs.
    low: [u64; 4],
    reason: u64,
    q: usize,
}

impl Meta {
    fn len(&self) -> u64 {
        self.low[0] >> d::CPL_LEN_BIT & 0xFFFF
    }
    fn flags(&self) -> u64 {
        self.low[1] >> (d::CPL_FLAGS_BIT - 64) & 0xFFFF
    }
    fn val(&self) -> Val {
        let mut w = [0u64; 5];
        w[..4].copy_from_slice(&self.low);
        put(&mut w, 256, 4, self.reason);
        put(&mut w, 260, 2, self.q as u64);
        Val(w.to_vec())
    }
}

#[derive(Clone, Copy, Debug)]
struct Desc {
    addr: u64,
    len: u64,
}

/// What the reference expects: jobs (as limb vectors), an address per
/// frame burst, counter totals, descriptors consumed per queue.
struct Expect {
    jobs: VecDeque<(Val, Option<(u64, u64)>)>,
    counts: [u64; 16],
    cons: [u64; 4],
}

fn bit(c: Counter) -> usize {
    c as usize
}

/// The reference decision for the frames in order, given each queue's
/// descriptors (all of them posted) and which queues are enabled.
fn reference(metas: &[Meta], descs: &[Vec<Desc>; 4], enabled: [bool; 4]) -> Expect {
    let mut e = Expect {
        jobs: VecDeque::new(),
        counts: [0; 16],
        cons: [0; 4],
    };
    for m in metas {
        let q = m.q;
        let len = m.len();
        if (m.reason == 0
            || m.reason == REASON_COUNTED_ELSEWHERE
            || m.reason == Counter::RxDropMalformedL4 as u64)
            && m.flags() & d::CPL_IP_CSUM_BAD as u64 != 0
        {
            e.counts[bit(Counter::RxBadIpCsum)] += 1;
        }
        if (m.reason == 0 || m.reason == REASON_COUNTED_ELSEWHERE)
            && m.flags() & d::CPL_TCP_CSUM_BAD as u64 != 0
        {
            e.counts[bit(Counter::RxBadTcpCsum)] += 1;
        }
        let drop = if m.reason != 0 {
            if m.reason != REASON_COUNTED_ELSEWHERE {
                e.counts[m.reason as usize] += 1;
            }
            true
        } else if !enabled[q] {
            e.counts[bit(Counter::RxDropQueueDisabled)] += 1;
            true
        } else if e.cons[q] as usize == descs[q].len() {
            e.counts[bit(Counter::RxDropNoBuffer)] += 1;
            true
        } else if descs[q][e.cons[q] as usize].len < len {
            e.counts[bit(Counter::RxDropBufferTooSmall)] += 1;
            true
        } else {
            false
        };
        if drop {
            e.jobs.push_back((Val(vec![1]), None));
            continue;
        }
        let desc = descs[q][e.cons[q] as usize];
        let idx = e.cons[q];
        e.cons[q] += 1;
        let strb = if len & 63 == 0 {
            u64::MAX
        } else {
            (1u64 << (len & 63)) - 1
        };
        let mut addr = desc.addr;
        let mut left = len.div_ceil(64);
        loop {
            let to4k = (4096 - (addr & 4095)) >> 6;
            let blen = left.min(to4k);
            let mut w = vec![0u64; 14];
            put(&mut w, 2, 1, (blen == left) as u64);
            put(&mut w, 3, 9, blen);
            put(&mut w, 12, 64, strb);
            for (i, l) in m.low.iter().enumerate() {
                put(&mut w, 76 + 64 * i, 64, *l);
            }
            put(&mut w, 76 + 256, 2, q as u64);
            put(&mut w, 76 + 258, 1, 1);
            put(&mut w, 76 + 259, 16, idx);
            put(&mut w, 351, 2, q as u64);
            put(&mut w, 353, 16, len);
            e.jobs.push_back((Val(w), Some((addr, blen - 1))));
            if blen == left {
                break;
            }
            addr += blen << 6;
            left -= blen;
        }
    }
    e
}

fn same(a: &Val, b: &Val, width: usize) -> bool {
    (0..width.div_ceil(64))
        .all(|i| a.0.get(i).copied().unwrap_or(0) == b.0.get(i).copied().unwrap_or(0))
}

struct Rig {
    st: Stepper,
    metas: VecDeque<Meta>,
    caches: [VecDeque<Desc>; 4],
    prod: [u64; 4],
    qctl: u64,
    lines: VecDeque<(u64, [u64; 8], u64)>,
    /// Completion requests the data stage still owes, with their delay.
    owed: VecDeque<u64>,
    delivered_open: i64,
    max_open: i64,
    in_frame: bool,
    offered: Option<(u64, u64)>,
    cycle: u64,
}

#[derive(Default)]
struct Seen {
    jobs: Vec<(Val, Option<(u64, u64)>)>,
    lines: Vec<(Val, (u64, u64))>,
    counts: [u64; 16],
    cons: Val,
    first_job: Option<u64>,
    last_job: u64,
}

impl Rig {
    fn new(st: Stepper, metas: &[Meta], prod: [u64; 4], qctl: u64) -> Rig {
        Rig {
            st,
            metas: metas.iter().cloned().collect(),
            caches: std::array::from_fn(|_| VecDeque::new()),
            prod,
            qctl,
            lines: VecDeque::new(),
            owed: VecDeque::new(),
            delivered_open: 0,
            max_open: 0,
            in_frame: false,
            offered: None,
            cycle: 0,
        }
    }

    /// One cycle with the given gap/backpressure choices.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        seen: &mut Seen,
        meta_gap: bool,
        desc_gaps: u64,
        aw_ready: bool,
        job_full: bool,
        line_urgent: bool,
        line_aged: bool,
        req_now: bool,
    ) {
        self.cycle += 1;
        let meta_empty = self.metas.is_empty() || meta_gap;
        let meta = if meta_empty {
            Val(vec![0])
        } else {
            self.metas[0].val()
        };
        let mut desc = [0u64; 8];
        let mut dvalid = 0u64;
        for q in 0..4 {
            if let Some(h) = self.caches[q].front() {
                if desc_gaps >> q & 1 == 0 {
                    dvalid |= 1 << q;
                    put(&mut desc, 128 * q, 64, h.addr);
                    put(&mut desc, 128 * q + 64, 32, h.len);
                }
            }
        }
        let mut prod = [0u64; 1];
        for q in 0..4 {
            put(&mut prod, 16 * q, 16, self.prod[q]);
        }
        let line = self.lines.front().copied();
        let mut ldata = vec![0u64; 8];
        let (lv, laddr, lstrb) = match line {
            Some((a, data, s)) => {
                ldata.copy_from_slice(&data);
                (true, a, s)
            }
            None => (false, 0, 0),
        };
        // The data stage: one owed completion request when its delay is up.
        let req = req_now && self.owed.front().is_some_and(|&t| t <= self.cycle);
        if req {
            self.owed.pop_front();
            self.delivered_open -= 1;
        }
        let o = self.st.step(&[
            false.into(),
            meta_empty.into(),
            meta,
            Val(desc.to_vec()),
            dvalid.into(),
            self.qctl.into(),
            prod[0].into(),
            0u64.into(),
            lv.into(),
            line_urgent.into(),
            laddr.into(),
            Val(ldata),
            lstrb.into(),
            aw_ready.into(),
            job_full.into(),
            line_aged.into(),
            0u64.into(),
            req.into(),
        ]);
        let c = self.cycle;
        if o[0].bit() {
            assert!(!meta_empty, "cycle {c}: metadata popped while empty");
            self.metas.pop_front();
        }
        let dp = o[1].u64();
        for q in 0..4 {
            if dp >> q & 1 == 1 {
                assert!(
                    dvalid >> q & 1 == 1,
                    "cycle {c}: queue {q} popped without a head"
                );
                self.caches[q].pop_front();
            }
        }
        seen.cons = o[2].clone();
        let aw = o[4].bit() && aw_ready;
        let jw = o[7].bit();
        if jw {
            // (the job FIFO's flag is its almost-full: an address offered
            // before it rose still completes with its job)
            assert!(
                !job_full || self.offered.is_some(),
                "cycle {c}: a new job written while the job FIFO is full"
            );
            let job = o[8].clone();
            let kind = job.field(0, 2);
            assert_eq!(
                aw,
                kind != 1,
                "cycle {c}: an address goes with every burst and line"
            );
            let a = (o[5].u64(), o[6].u64());
            seen.first_job.get_or_insert(c);
            seen.last_job = c;
            if kind == 2 {
                assert!(o[3].bit(), "cycle {c}: line job without line_take");
                seen.lines.push((job, a));
                self.lines.pop_front();
            } else {
                if kind == 0 && !self.in_frame {
                    self.delivered_open += 1;
                    self.max_open = self.max_open.max(self.delivered_open);
                }
                if kind == 0 {
                    self.in_frame = job.field(2, 1) == 0;
                }
                if kind == 0 && job.field(2, 1) == 1 {
                    self.owed.push_back(c + 1 + (c * 7919) % 23);
                }
                seen.jobs
                    .push((job, if kind == 0 { Some(a) } else { None }));
            }
        } else {
            assert!(!aw, "cycle {c}: an address taken without its job");
            assert!(!o[3].bit(), "cycle {c}: line taken without its job");
        }
        let inc = o[9].u64();
        for (b, n) in seen.counts.iter_mut().enumerate() {
            *n += inc >> b & 1;
        }
        // An address offered and not taken stays, unchanged (AXI4 A3.2.1).
        let offer = (o[5].u64(), o[6].u64());
        if let Some(prev) = self.offered.take() {
            assert!(o[4].bit(), "cycle {c}: an offered address was withdrawn");
            assert_eq!(offer, prev, "cycle {c}: an offered address changed");
        }
        if o[4].bit() && !aw_ready {
            self.offered = Some(offer);
        }
    }
}

fn random_metas(rnd: &mut impl FnMut() -> u64, n: usize) -> Vec<Meta> {
    (0..n)
        .map(|_| {
            let mut low = [rnd(), rnd(), rnd(), rnd()];
            let r = rnd() % 100;
            let len = match r % 4 {
                0 => 60 + rnd() % 5,
                1 => 64 * (1 + rnd() % 3),
                2 => 1 + rnd() % 1600,
                _ => 1 + rnd() % 9000,
            };
            low[0] = low[0] & !(0xFFFF << d::CPL_LEN_BIT) | len << d::CPL_LEN_BIT;
            let reason = match rnd() % 10 {
                0 => REASON_COUNTED_ELSEWHERE,
                1 => 1 + rnd() % 14,
                _ => 0,
            };
            Meta {
                low,
                reason,
                q: (rnd() % 4) as usize,
            }
        })
        .collect()
}

#[test]
fn dma_addr_decides_and_issues_as_the_reference() {
    let mut rnd = seeded_rng();
    let b = block("dma_addr_ref");
    for round in 0..3 {
        let metas = random_metas(&mut rnd, 1500);
        // Buffers: enough for most frames, a few too small, some queues
        // run out; addresses 64-byte aligned anywhere in a page.
        let descs: [Vec<Desc>; 4] = std::array::from_fn(|q| {
            (0..300 + 30 * q)
                .map(|_| Desc {
                    addr: (rnd() & 0xFFFF_FFFF_FFC0) | (rnd() % 64 * 64),
                    len: if rnd().is_multiple_of(20) {
                        rnd() % 2000
                    } else {
                        9216
                    },
                })
                .collect()
        });
        let enabled = [true, true, true, round != 1];
        let mut expect = reference(&metas, &descs, enabled);
        let mut st = b.start();
        for _ in 0..2 {
            let mut row = vec![Val(vec![0]); 18];
            row[0] = true.into();
            st.step(&row);
        }
        let qctl = (0..4).fold(0u64, |a, q| a | (enabled[q] as u64) << (8 * q + 4));
        let mut rig = Rig::new(
            st,
            &metas,
            std::array::from_fn(|q| descs[q].len() as u64),
            qctl,
        );
        rig.lines = (0..200)
            .map(|_| (rnd() & !63, std::array::from_fn(|_| rnd()), rnd()))
            .collect();
        // The caches fill over time (a buffer posted but not yet fetched
        // must make its frame wait).
        let mut fetched = [0usize; 4];
        let mut seen = Seen::default();
        let total_jobs = expect.jobs.len();
        let mut idle = 0;
        while seen.jobs.len() < total_jobs || !rig.lines.is_empty() {
            for q in 0..4 {
                if fetched[q] < descs[q].len()
                    && rig.caches[q].len() < 8
                    && !rnd().is_multiple_of(3)
                {
                    rig.caches[q].push_back(descs[q][fetched[q]]);
                    fetched[q] += 1;
                }
            }
            let before = seen.jobs.len() + seen.lines.len();
            let r = rnd();
            rig.step(
                &mut seen,
                r.is_multiple_of(7),
                (r >> 8) & (r >> 12) & 15,
                !(r >> 16).is_multiple_of(4),
                (r >> 20).is_multiple_of(9),
                (r >> 24).is_multiple_of(50),
                (r >> 28).is_multiple_of(3),
                if round == 2 {
                    (r >> 32).is_multiple_of(12)
                } else {
                    !(r >> 32).is_multiple_of(3)
                },
            );
            idle = if seen.jobs.len() + seen.lines.len() == before {
                idle + 1
            } else {
                0
            };
            assert!(
                idle < 2000,
                "round {round}: stalled after {} jobs",
                seen.jobs.len()
            );
        }
        // Jobs in order, field for field; each burst's address with it.
        assert_eq!(seen.jobs.len(), total_jobs, "round {round}: jobs");
        for (k, (got, addr)) in seen.jobs.iter().enumerate() {
            let (want, waddr) = expect.jobs.pop_front().unwrap();
            assert!(
                same(got, &want, 369),
                "round {round}: job {k}: kind {} beats {} last {} q {} len {} vs kind {} beats {} last {} q {} len {}",
                got.field(0, 2),
                got.field(3, 9),
                got.field(2, 1),
                got.field(351, 2),
                got.field(353, 16),
                want.field(0, 2),
                want.field(3, 9),
                want.field(2, 1),
                want.field(351, 2),
                want.field(353, 16)
            );
            assert_eq!(
                *addr, waddr,
                "round {round}: job {k}: AXI address and length"
            );
        }
        for (k, (job, a)) in seen.lines.iter().enumerate() {
            assert_eq!(job.field(0, 2), 2);
            assert_eq!(job.field(3, 9), 1, "line {k}: one beat");
            assert_eq!(a.1, 0, "line {k}: AXI length 0");
        }
        assert_eq!(seen.lines.len(), 200, "round {round}: every line written");
        for q in 0..4 {
            assert_eq!(
                field(&seen.cons, 16 * q, 16),
                expect.cons[q],
                "round {round}: descriptors consumed by queue {q}"
            );
        }
        assert_eq!(
            seen.counts, expect.counts,
            "round {round}: counter increments"
        );
        if round == 2 {
            // Slow completions: the room limit is what holds frames back.
            assert!(rig.max_open >= 24, "round 2 never neared the room limit");
        }
        assert!(
            rig.max_open <= 28,
            "round {round}: {} delivered frames without a completion request",
            rig.max_open
        );
        println!(
            "round {round}: {total_jobs} jobs, {} lines, at most {} frames open, counts {:?}, cons {:?}",
            seen.lines.len(),
            rig.max_open,
            expect.counts,
            expect.cons
        );
    }
}

#[test]
fn dma_addr_one_frame_per_cycle() {
    let mut rnd = seeded_rng();
    let b = block("dma_addr_rate");
    let mut metas = random_metas(&mut rnd, 300);
    for m in &mut metas {
        m.reason = 0;
        m.q = 0;
        m.low[0] = m.low[0] & !(0xFFFF << d::CPL_LEN_BIT) | 60 << d::CPL_LEN_BIT;
        m.low[1] &=
            !((d::CPL_IP_CSUM_BAD as u64 | d::CPL_TCP_CSUM_BAD as u64) << (d::CPL_FLAGS_BIT - 64));
    }
    let descs: Vec<Desc> = (0..300)
        .map(|i| Desc {
            addr: 0x10_0000 + 2048 * i,
            len: 2048,
        })
        .collect();
    let mut st = b.start();
    let mut row = vec![Val(vec![0]); 18];
    row[0] = true.into();
    st.step(&row);
    st.step(&row);
    let mut rig = Rig::new(st, &metas, [300, 0, 0, 0], 1 << 4);
    rig.caches[0] = descs.iter().copied().collect();
    let mut seen = Seen::default();
    while seen.jobs.len() < 300 {
        rig.step(&mut seen, false, 0, true, false, false, false, true);
        assert!(rig.cycle < 2000, "stalled after {} jobs", seen.jobs.len());
    }
    let span = seen.last_job - seen.first_job.unwrap() + 1;
    println!("300 one-beat frames issued in {span} cycles");
    assert_eq!(span, 300, "one frame per cycle at full rate");
}
