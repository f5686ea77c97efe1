//! The TX checksum insertion block (`toe_hdl::tx::csum::TxCsum`) in
//! Verilator, stepped cycle by cycle, against the reference model
//! (`toe_model::nic::predict_tx`): frames from the model's random mix (TCP
//! with options, UDP, ICMP, ARP, IPv6, fragments, every malformed class),
//! a share cut short at a random length (down to the 14-byte minimum of a
//! TX descriptor) and most with stale or zero checksum fields, each with
//! one of the four combinations of the descriptor's checksum flags
//! (`TXF_CSUM_IP`, `TXF_CSUM_TCP`).  Beats go in as the TX arbiter gives
//! them: a beat offered is held until `i_ready` takes it, random bytes past
//! `keep` in a frame's last beat, random flags on the beats after a frame's
//! first (a frame's flags are those of its first beat) and random data
//! between beats; frames back to back or with random gaps.  The output sees
//! random `o_ready` (steady rates and long stalls that fill the FIFOs with
//! short frames).  Checked on every cycle: each beat taken (`o_valid` and
//! `o_ready`) is the next beat of the model's frames, in order, with the
//! same `keep`, `last` and every byte under `keep`; a beat offered and not
//! taken stays offered unchanged; nothing is offered once all frames are
//! out.  Seeded: `TOE_SEED=n`.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Stepper, Val, VltBlock};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_contract::desc::{TxDesc, MIN_TX_LEN, TXF_CSUM_IP, TXF_CSUM_TCP};
use toe_contract::MAX_FRAME;
use toe_hdl::tx::csum::TxCsum;
use toe_model::gen::{random_frame, FrameKind};
use toe_model::nic::{predict_tx, TxVerdict};
use toe_model::parse::ETH_HLEN;

fn block(name: &str) -> VltBlock {
    let mut uut = TxCsum::default();
    uut.connect_all();
    VltBlock::new(name, generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("i_valid", 1)
        .input("i_data", 512)
        .input("i_keep", 64)
        .input("i_last", 1)
        .input("i_flags", 2)
        .input("o_ready", 1)
        .output("i_ready", 1)
        .output("o_valid", 1)
        .output("o_data", 512)
        .output("o_keep", 64)
        .output("o_last", 1)
}

/// A beat to send.
struct InBeat {
    data: Val,
    keep: u64,
    last: bool,
    /// The frame's flags on its first beat, `None` on the others.
    flags: Option<u64>,
}

/// A beat the model expects out.
struct OutBeat {
    frame: usize,
    beat: usize,
    bytes: Vec<u8>,
    last: bool,
}

impl OutBeat {
    fn keep(&self) -> u64 {
        if self.bytes.len() == 64 {
            u64::MAX
        } else {
            (1u64 << self.bytes.len()) - 1
        }
    }
}

/// What a frame was, for messages.
struct FrameInfo {
    kind: FrameKind,
    len: usize,
    flags: u16,
    cut: bool,
}

#[derive(Default, Debug)]
struct Coverage {
    frames: usize,
    beats: usize,
    /// Frames per flag combination.
    by_flags: [usize; 4],
    /// Frames in which the model changed the IPv4 / the TCP checksum field.
    ip_patched: usize,
    tcp_patched: usize,
    /// TCP checksum fields in the second beat (IPv4 options).
    tcp_beat1: usize,
    cut: usize,
    /// Cycles with `i_ready` low while a beat was offered.
    in_stalls: usize,
    /// Cycles with a beat offered and `o_ready` low.
    out_stalls: usize,
}

struct Bench {
    st: Stepper,
    rng: StdRng,
    inq: VecDeque<InBeat>,
    exp: VecDeque<OutBeat>,
    frames: Vec<FrameInfo>,
    /// The input beat offered in the previous cycle and not taken.
    holding: bool,
    /// The output beat offered in the previous cycle and not taken.
    stalled: Option<(Val, u64, bool)>,
    cov: Coverage,
}

fn random_val(rng: &mut StdRng, bits: usize) -> Val {
    let mut limbs: Vec<u64> = (0..bits.div_ceil(64)).map(|_| rng.gen()).collect();
    if !bits.is_multiple_of(64) {
        *limbs.last_mut().unwrap() &= (1u64 << (bits % 64)) - 1;
    }
    Val(limbs)
}

impl Bench {
    fn new(name: &str, rng: StdRng) -> Bench {
        let mut b = Bench {
            st: block(name).start(),
            rng,
            inq: VecDeque::new(),
            exp: VecDeque::new(),
            frames: vec![],
            holding: false,
            stalled: None,
            cov: Coverage::default(),
        };
        for _ in 0..2 {
            let zero = Val::from(0u64);
            b.st.step(&[
                true.into(),
                false.into(),
                zero.clone(),
                zero.clone(),
                false.into(),
                zero.clone(),
                false.into(),
            ]);
        }
        b
    }

    /// A random frame (at most `max_len` bytes before any cut) with random
    /// flags, queued with the model's output.
    fn add_frame(&mut self, max_len: u16) {
        let rng = &mut self.rng;
        let (kind, g) = random_frame(rng, max_len);
        let mut bytes = g.bytes;
        // (Oversize malformed frames: cut to the largest a descriptor takes.)
        let mut cut = bytes.len() > MAX_FRAME;
        bytes.truncate(MAX_FRAME);
        if rng.gen_bool(0.1) && bytes.len() > MIN_TX_LEN {
            bytes.truncate(rng.gen_range(MIN_TX_LEN..bytes.len()));
            cut = true;
        }
        while bytes.len() < MIN_TX_LEN {
            bytes.push(rng.gen());
        }
        // Stale checksum fields (the host leaves them as they come): random,
        // zero or the generator's (correct) ones.
        if bytes.len() >= ETH_HLEN + 20 {
            let ihl4 = usize::from(bytes[ETH_HLEN] & 0xF) * 4;
            for at in [ETH_HLEN + 10, ETH_HLEN + ihl4 + 16] {
                if at + 2 <= bytes.len() {
                    match rng.gen_range(0..4) {
                        0 | 1 => rng.fill(&mut bytes[at..at + 2]),
                        2 => bytes[at..at + 2].fill(0),
                        _ => {}
                    }
                }
            }
        }
        let flags = rng.gen_range(0..4u16);
        let desc = TxDesc {
            addr: 0x1000,
            len: bytes.len() as u16,
            flags: (if flags & 1 != 0 { TXF_CSUM_IP } else { 0 })
                | (if flags & 2 != 0 { TXF_CSUM_TCP } else { 0 }),
        };
        let want = match predict_tx(&desc, &bytes) {
            TxVerdict::Send(f) => f,
            v => panic!("the model rejects a valid descriptor {desc:?}: {v:?}"),
        };
        assert_eq!(want.len(), bytes.len());
        // Coverage: which fields the model changed.
        let frame = self.frames.len();
        self.cov.by_flags[usize::from(flags)] += 1;
        self.cov.cut += usize::from(cut);
        let ipf = ETH_HLEN + 10..ETH_HLEN + 12;
        if want.len() >= ipf.end && want[ipf.clone()] != bytes[ipf] {
            self.cov.ip_patched += 1;
        }
        if want.len() >= ETH_HLEN + 20 {
            let at = ETH_HLEN + usize::from(want[ETH_HLEN] & 0xF) * 4 + 16;
            if at + 2 <= want.len() && want[at..at + 2] != bytes[at..at + 2] {
                self.cov.tcp_patched += 1;
                self.cov.tcp_beat1 += usize::from(at >= 64);
            }
        }
        let n = bytes.len().div_ceil(64);
        for beat in 0..n {
            let lo = 64 * beat;
            let hi = bytes.len().min(lo + 64);
            let mut limbs: Vec<u64> = (0..8).map(|_| self.rng.gen()).collect();
            for (i, b) in bytes[lo..hi].iter().enumerate() {
                limbs[i / 8] &= !(0xFFu64 << (8 * (i % 8)));
                limbs[i / 8] |= u64::from(*b) << (8 * (i % 8));
            }
            let keep = if hi - lo == 64 {
                u64::MAX
            } else {
                (1u64 << (hi - lo)) - 1
            };
            self.inq.push_back(InBeat {
                data: Val(limbs),
                keep,
                last: beat + 1 == n,
                flags: (beat == 0).then_some(u64::from(flags)),
            });
            self.exp.push_back(OutBeat {
                frame,
                beat,
                bytes: want[lo..hi].to_vec(),
                last: beat + 1 == n,
            });
        }
        self.frames.push(FrameInfo {
            kind,
            len: bytes.len(),
            flags,
            cut,
        });
    }

    /// One cycle: a new beat is offered with chance `p_in` (in 1/256; one
    /// not taken stays offered), `o_ready` is `ready`.
    fn cycle(&mut self, p_in: u32, ready: bool) {
        let offer = !self.inq.is_empty() && (self.holding || self.rng.gen_range(0..256u32) < p_in);
        let ins: Vec<Val> = match self.inq.front().filter(|_| offer) {
            Some(b) => vec![
                false.into(),
                true.into(),
                b.data.clone(),
                b.keep.into(),
                b.last.into(),
                b.flags.unwrap_or_else(|| self.rng.gen_range(0..4)).into(),
                ready.into(),
            ],
            None => vec![
                false.into(),
                false.into(),
                random_val(&mut self.rng, 512),
                self.rng.gen::<u64>().into(),
                self.rng.gen::<bool>().into(),
                self.rng.gen_range(0..4u64).into(),
                ready.into(),
            ],
        };
        let post = self.st.step(&ins);
        let cycle = self.st.cycle - 1;
        // Input side.
        self.holding = false;
        if offer {
            if post[0].bit() {
                self.inq.pop_front();
            } else {
                self.holding = true;
                self.cov.in_stalls += 1;
            }
        }
        // Output side.
        let (o_valid, data, keep, last) = (post[1].bit(), &post[2], post[3].u64(), post[4].bit());
        if let Some((d0, k0, l0)) = self.stalled.take() {
            assert!(
                o_valid && *data == d0 && keep == k0 && last == l0,
                "cycle {cycle}: an output beat not taken changed or was withdrawn"
            );
        }
        if !o_valid {
            return;
        }
        if !ready {
            self.stalled = Some((data.clone(), keep, last));
            self.cov.out_stalls += 1;
            return;
        }
        let want = self
            .exp
            .pop_front()
            .unwrap_or_else(|| panic!("cycle {cycle}: an output beat with no frame left"));
        let f = &self.frames[want.frame];
        let ctx = format!(
            "cycle {cycle}: frame {} ({:?}, {} bytes{}, flags {:#x}) beat {}",
            want.frame,
            f.kind,
            f.len,
            if f.cut { ", cut short" } else { "" },
            f.flags,
            want.beat
        );
        assert_eq!(keep, want.keep(), "{ctx}: keep");
        assert_eq!(last, want.last, "{ctx}: last");
        let got: Vec<u8> = (0..want.bytes.len())
            .map(|i| (data.0[i / 8] >> (8 * (i % 8))) as u8)
            .collect();
        if got != want.bytes {
            let diff: Vec<String> = (0..got.len())
                .filter(|&i| got[i] != want.bytes[i])
                .map(|i| {
                    format!(
                        "byte {}: {:02x}, model {:02x}",
                        64 * want.beat + i,
                        got[i],
                        want.bytes[i]
                    )
                })
                .collect();
            panic!("{ctx}: data differs: {}", diff.join("; "));
        }
        self.cov.beats += 1;
        if want.last {
            self.cov.frames += 1;
        }
    }
}

#[test]
fn tx_csum_verilated_matches_model() {
    let mut rnd = seeded_rng();
    let rng = StdRng::seed_from_u64(rnd());
    let t = std::time::Instant::now();
    let mut b = Bench::new("tx_csum_random", rng);
    println!("build {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    // Rounds: (frames, largest frame, input rate, output ready rate, long
    // output stalls).
    let rounds: [(usize, u16, u32, u32, bool); 8] = [
        (300, MAX_FRAME as u16, 256, 256, false),
        (300, MAX_FRAME as u16, 256, 128, false),
        (300, 1518, 96, 256, false),
        (300, 1518, 256, 32, false),
        (600, 128, 256, 256, false),
        (600, 128, 256, 200, true),
        (300, MAX_FRAME as u16, 256, 220, true),
        (400, 600, 160, 160, false),
    ];
    let mut stall_left = 0u32;
    for (frames, max_len, p_in, p_ready, long_stalls) in rounds {
        for _ in 0..frames {
            b.add_frame(max_len);
        }
        while !b.inq.is_empty() {
            let ready = if long_stalls {
                if stall_left > 0 {
                    stall_left -= 1;
                    false
                } else if b.rng.gen_range(0..256) < 2 {
                    stall_left = b.rng.gen_range(50..400);
                    false
                } else {
                    b.rng.gen_range(0..256) < p_ready
                }
            } else {
                b.rng.gen_range(0..256) < p_ready
            };
            b.cycle(p_in, ready);
        }
    }
    // Drain.
    let start = b.st.cycle;
    while !b.exp.is_empty() {
        b.cycle(256, true);
        assert!(
            b.st.cycle - start < 2000,
            "{} beats still expected after 2000 cycles of o_ready",
            b.exp.len()
        );
    }
    for _ in 0..50 {
        b.cycle(256, true);
    }
    let cov = &b.cov;
    println!("{} cycles, {cov:?} in {:.1?}", b.st.cycle, t.elapsed());
    assert_eq!(cov.frames, b.frames.len());
    assert!(cov.by_flags.iter().all(|&n| n > 500), "{cov:?}");
    assert!(
        cov.ip_patched > 600 && cov.tcp_patched > 400 && cov.tcp_beat1 > 10,
        "{cov:?}"
    );
    assert!(
        cov.cut > 200 && cov.in_stalls > 1000 && cov.out_stalls > 1000,
        "{cov:?}"
    );
}

#[test]
fn tx_csum_lint_clean() {
    if let Err(findings) = block("tx_csum_lint").lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
