//! The RX parse stage (`toe_hdl::rx::parse::RxParse`) in Verilator against
//! the reference model (`toe_model::nic::predict_rx`, `toe_model::parse`):
//! the model's random frame mix (TCP with random options, UDP, ICMP, ARP,
//! IPv6, fragments and every malformed class), a share of them with a
//! corrupted checksum, presented as `FrameSum` records (the first 136
//! bytes, the length, the MAC error flag and the two lane-form sums) one
//! per cycle with random gaps and a few resets; every output checked on
//! every cycle: drop reason, completion fields, hash kind, tuple, sequence
//! and acknowledgment numbers, MACs, the option window and the good-segment
//! flag (`out_good`, the RX event bus's `e_valid`) for a frame, and
//! `out_valid` low between frames.  Run once per configuration (drop bad
//! checksums off and on, two frame-size limits).  Seeded: `TOE_SEED=n`.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_contract::desc as d;
use toe_contract::regs::Counter;
use toe_hdl::rx::parse::{RxParse, REASON_COUNTED_ELSEWHERE, RX_PARSE_LATENCY};
use toe_model::gen::{random_frame, FrameKind};
use toe_model::nic::{predict_rx, NicConfig, RxVerdict};
use toe_model::parse::{parse, ETH_HLEN};

const FRAMES: usize = 8_000;
const HDR_BYTES: usize = 136;

fn block() -> VltBlock {
    let mut uut = RxParse::default();
    uut.connect_all();
    VltBlock::new("rx_parse", generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("max_frame", 16)
        .input("drop_bad_csum", 1)
        .input("in_valid", 1)
        .input("h0", 512)
        .input("h1", 512)
        .input("h2", 64)
        .input("len", 16)
        .input("err", 1)
        .input("ip_sum", 16)
        .input("l4_sum", 16)
        .output("out_valid", 1)
        .output("out_cpl", 256)
        .output("out_reason", 4)
        .output("out_opts", 320)
        .output("out_olen", 9)
        .output("out_tuple", 96)
        .output("out_hkind", 2)
        .output("out_seq", 32)
        .output("out_ackn", 32)
        .output("out_macs", 96)
        .output("out_good", 1)
}

/// Bytes `from..from + n` as a little-endian bit vector (byte i at bits
/// 8i+7:8i), zero past the frame.
fn bytes_val(frame: &[u8], from: usize, n: usize) -> Val {
    let mut limbs = vec![0u64; n.div_ceil(8)];
    for i in 0..n {
        if let Some(b) = frame.get(from + i) {
            limbs[i / 8] |= u64::from(*b) << (8 * (i % 8));
        }
    }
    Val(limbs)
}

/// Ones-complement sum of `frame[a..b]` in lane form (16-bit little-endian
/// lanes from even offsets), folded to 16 bits as `FrameSum` delivers it.
fn lane_sum(frame: &[u8], a: usize, b: usize) -> u64 {
    let mut s = 0u64;
    for (i, byte) in frame.iter().enumerate().take(b.min(frame.len())).skip(a) {
        s += u64::from(*byte) << (8 * (i % 2));
    }
    while s > 0xFFFF {
        s = (s & 0xFFFF) + (s >> 16);
    }
    s
}

/// `FrameSum`'s sums: the IPv4 header range and the TCP segment range
/// (from IHL and the total length, clamped to the frame).
fn sums(frame: &[u8]) -> (u64, u64) {
    if frame.len() < ETH_HLEN + 20 {
        return (0, 0);
    }
    let ihl4 = usize::from(frame[ETH_HLEN] & 0xF) * 4;
    let tl = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
    (
        lane_sum(frame, ETH_HLEN, ETH_HLEN + ihl4),
        lane_sum(frame, ETH_HLEN + ihl4, ETH_HLEN + tl),
    )
}

struct Frame {
    bytes: Vec<u8>,
    mac_error: bool,
    kind: FrameKind,
}

#[derive(Default, Debug)]
struct Coverage {
    delivered: usize,
    tcp: usize,
    tcp_csum_bad: usize,
    ip_csum_bad: usize,
    csum_drops: usize,
    good: usize,
    reasons: std::collections::BTreeMap<u64, usize>,
}

/// One run: `FRAMES` frames under one configuration; returns coverage.
fn run(b: &VltBlock, rng: &mut StdRng, max_frame: u16, drop_bad_csum: bool) -> Coverage {
    let cfg = NicConfig {
        max_frame,
        drop_bad_csum,
        ..NicConfig::all_queues_enabled()
    };
    // Stimulus: (reset, frame).
    let mut cycles: Vec<(bool, Option<Frame>)> = vec![(true, None), (true, None)];
    let mut n = 0;
    while n < FRAMES {
        let r = rng.gen_range(0..1000);
        if r < 3 {
            let f = rng.gen_bool(0.5).then(|| {
                let (kind, g) = random_frame(rng, max_frame);
                Frame {
                    bytes: g.bytes,
                    mac_error: g.mac_error,
                    kind,
                }
            });
            cycles.push((true, f));
        } else if r < 150 {
            cycles.push((false, None));
        } else {
            let (kind, g) = random_frame(rng, max_frame.saturating_add(64));
            let mut bytes = g.bytes;
            // A share with a corrupted checksum field or payload byte.
            if rng.gen_bool(0.15) && bytes.len() > 40 {
                let at = rng.gen_range(ETH_HLEN..bytes.len());
                bytes[at] ^= 1 << rng.gen_range(0..8);
            }
            cycles.push((
                false,
                Some(Frame {
                    bytes,
                    mac_error: g.mac_error,
                    kind,
                }),
            ));
            n += 1;
        }
    }
    for _ in 0..RX_PARSE_LATENCY + 2 {
        cycles.push((false, None));
    }
    let inputs: Vec<Vec<Val>> = cycles
        .iter()
        .map(|(rst, f)| {
            let mut row = vec![
                (*rst).into(),
                u64::from(max_frame).into(),
                drop_bad_csum.into(),
            ];
            match f {
                Some(f) => {
                    let (ip_sum, l4_sum) = sums(&f.bytes);
                    row.extend([
                        true.into(),
                        bytes_val(&f.bytes, 0, 64),
                        bytes_val(&f.bytes, 64, 64),
                        bytes_val(&f.bytes, 128, HDR_BYTES - 128),
                        (f.bytes.len() as u64).into(),
                        f.mac_error.into(),
                        ip_sum.into(),
                        l4_sum.into(),
                    ]);
                }
                None => row.extend((0..8).map(|_| Val::from(0u64))),
            }
            row
        })
        .collect();
    let outputs = b.run(&inputs);
    let l = RX_PARSE_LATENCY;
    let mut cov = Coverage::default();
    for (m, out) in outputs.iter().enumerate().skip(1) {
        let src = m.checked_sub(l);
        let killed = (m.saturating_sub(l)..m).any(|c| cycles[c].0);
        let frame = src.and_then(|s| cycles[s].1.as_ref());
        let Some(f) = frame.filter(|_| !killed) else {
            assert!(
                !out[0].bit(),
                "cycle {m}: out_valid without a frame {l} cycles before"
            );
            continue;
        };
        let ctx = format!(
            "cycle {m}: {:?} frame of {} bytes (mac error {}): {:02x?}",
            f.kind,
            f.bytes.len(),
            f.mac_error,
            &f.bytes[..f.bytes.len().min(80)]
        );
        assert!(out[0].bit(), "{ctx}: out_valid low");
        let cpl = &out[1];
        let reason = out[2].u64();
        *cov.reasons.entry(reason).or_default() += 1;
        let p = parse(&f.bytes, f.mac_error, max_frame);
        let v = predict_rx(&cfg, &f.bytes, f.mac_error);
        // The reason: the parse-stage drops by their counter, a checksum
        // drop as REASON_COUNTED_ELSEWHERE, 0 for everything decided later.
        let want_reason = match &v {
            RxVerdict::Drop { reason, counters } => match reason {
                Counter::RxDropMacError
                | Counter::RxDropRunt
                | Counter::RxDropOversize
                | Counter::RxDropMalformedL3
                | Counter::RxDropMalformedL4 => *reason as u64,
                Counter::RxBadIpCsum | Counter::RxBadTcpCsum => REASON_COUNTED_ELSEWHERE,
                _ => panic!("{ctx}: unexpected model drop {reason:?} {counters:?}"),
            },
            RxVerdict::Deliver { .. } => 0,
        };
        assert_eq!(reason, want_reason, "{ctx}: drop reason (model {v:?})");
        // A good TCP segment (the RX event bus's early record): delivered,
        // TCP over IPv4, both checksums verified.
        let good = want_reason == 0
            && p.tcp.is_some()
            && v.completion().is_some_and(|c| {
                c.flags & d::CPL_IP_CSUM_OK != 0 && c.flags & d::CPL_TCP_CSUM_OK != 0
            });
        assert_eq!(out[10].bit(), good, "{ctx}: out_good");
        cov.good += usize::from(good);
        let field = |bit: usize, width: usize| cpl.field(bit, width);
        // Completion fields, for a delivered frame.
        if let Some(c) = v.completion() {
            cov.delivered += 1;
            assert_eq!(field(d::CPL_LEN_BIT, 16), u64::from(c.len), "{ctx}: length");
            // CPL_OPT_BAD comes later, from the option walker.
            let want_flags = c.flags & !d::CPL_OPT_BAD;
            assert_eq!(
                field(d::CPL_FLAGS_BIT, 16),
                u64::from(want_flags),
                "{ctx}: flags"
            );
            assert_eq!(
                field(d::CPL_L3OFF_BIT, 8),
                u64::from(c.l3_off),
                "{ctx}: L3 offset"
            );
            assert_eq!(
                field(d::CPL_L4OFF_BIT, 8),
                u64::from(c.l4_off),
                "{ctx}: L4 offset"
            );
            assert_eq!(
                field(d::CPL_TCPFLAGS_BIT, 8),
                u64::from(c.tcp_flags),
                "{ctx}: TCP flags"
            );
            assert_eq!(
                field(d::CPL_WINDOW_BIT, 16),
                u64::from(c.window),
                "{ctx}: window"
            );
            cov.ip_csum_bad += usize::from(c.flags & d::CPL_IP_CSUM_BAD != 0);
            cov.tcp_csum_bad += usize::from(c.flags & d::CPL_TCP_CSUM_BAD != 0);
        }
        if want_reason == REASON_COUNTED_ELSEWHERE {
            cov.csum_drops += 1;
        }
        // Hash kind, tuple, numbers and options for any frame the parse
        // stage did not drop as malformed.
        if want_reason == 0 || want_reason == REASON_COUNTED_ELSEWHERE {
            let hkind = match (&p.ipv4, &p.tcp) {
                (Some(_), Some(_)) => 2,
                (Some(_), None) => 1,
                _ => 0,
            };
            assert_eq!(out[6].u64(), hkind, "{ctx}: hash kind");
            if let Some(ip) = &p.ipv4 {
                let addrs = u64::from(u32::from_be_bytes(ip.src)) << 32
                    | u64::from(u32::from_be_bytes(ip.dst));
                assert_eq!(out[5].field(32, 64), addrs, "{ctx}: tuple addresses");
            }
            if let (Some(ip), Some(t)) = (&p.ipv4, &p.tcp) {
                cov.tcp += 1;
                let ports = u64::from(t.src_port) << 16 | u64::from(t.dst_port);
                assert_eq!(out[5].field(0, 32), ports, "{ctx}: tuple ports");
                assert_eq!(out[7].u64(), u64::from(t.seq), "{ctx}: sequence number");
                assert_eq!(
                    out[8].u64(),
                    u64::from(t.ack),
                    "{ctx}: acknowledgment number"
                );
                let opts_at = ETH_HLEN + ip.header_len() + 20;
                assert_eq!(
                    out[3],
                    bytes_val(&f.bytes, opts_at, 40),
                    "{ctx}: option window"
                );
                assert_eq!(
                    out[4].u64(),
                    u64::from(t.data_offset) * 4 - 20,
                    "{ctx}: option length"
                );
            } else {
                assert_eq!(out[4].u64(), 0, "{ctx}: option length without TCP");
            }
        }
        if f.bytes.len() >= 12 {
            let mut macs = 0u64;
            let mut hi = 0u64;
            for (i, b) in f.bytes[..12].iter().enumerate() {
                if i < 4 {
                    hi = hi << 8 | u64::from(*b);
                } else {
                    macs = macs << 8 | u64::from(*b);
                }
            }
            assert_eq!(out[9].field(0, 64), macs, "{ctx}: MACs (low 8 bytes)");
            assert_eq!(out[9].field(64, 32), hi, "{ctx}: MACs (high 4 bytes)");
        }
    }
    cov
}

#[test]
fn rx_parse_verilated_matches_model() {
    let mut rnd = seeded_rng();
    let mut rng = StdRng::seed_from_u64(rnd());
    let b = block();
    b.build();
    for (max_frame, drop_bad_csum) in [(1518u16, false), (1518, true), (9018, false), (256, true)] {
        let t = std::time::Instant::now();
        let cov = run(&b, &mut rng, max_frame, drop_bad_csum);
        println!(
            "max_frame {max_frame} drop_bad_csum {drop_bad_csum}: {cov:?} in {:.1?}",
            t.elapsed()
        );
        assert!(
            cov.delivered > FRAMES / 3 && cov.tcp > FRAMES / 4 && cov.good > FRAMES / 8,
            "{cov:?}"
        );
        let reasons = [
            Counter::RxDropMacError,
            Counter::RxDropRunt,
            Counter::RxDropMalformedL3,
            Counter::RxDropMalformedL4,
        ];
        for r in reasons {
            assert!(
                cov.reasons.get(&(r as u64)).copied().unwrap_or(0) > 10,
                "{r:?}: {cov:?}"
            );
        }
        if drop_bad_csum {
            assert!(cov.csum_drops > 50, "{cov:?}");
        } else {
            assert!(cov.tcp_csum_bad > 50 && cov.ip_csum_bad > 10, "{cov:?}");
        }
        if max_frame == 256 {
            let over = cov.reasons.get(&(Counter::RxDropOversize as u64)).copied();
            assert!(over.unwrap_or(0) > 50, "{cov:?}");
        }
    }
}

#[test]
fn rx_parse_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
