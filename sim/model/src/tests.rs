//! Packet-level tests of the model against frames built with smoltcp.

use crate::gen::*;
use crate::nic::*;
use crate::parse::{parse, Class};
use crate::scoreboard::*;
use crate::toeplitz::{toeplitz, tuple2, tuple4, MS_VERIFICATION_KEY};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use smoltcp::wire::{IpAddress, Ipv4Packet, TcpPacket};
use toe_contract::desc::*;
use toe_contract::regs::Counter;

fn cfg_on() -> NicConfig {
    NicConfig::all_queues_enabled()
}

fn deliver(v: &RxVerdict) -> (usize, Completion, Vec<Counter>) {
    match v {
        RxVerdict::Deliver {
            queue,
            cpl,
            counters,
        } => (*queue, *cpl, counters.clone()),
        d => panic!("expected a delivery, got {d:?}"),
    }
}

fn syn_spec(opts: &[TcpOpt]) -> TcpSpec {
    TcpSpec {
        flags: SYN,
        window: 29200,
        options: options_bytes(opts),
        ..Default::default()
    }
}

const SYN_OPTS: [TcpOpt; 5] = [
    TcpOpt::Mss(1460),
    TcpOpt::SackPermitted,
    TcpOpt::Timestamps {
        tsval: 0x0102_0304,
        tsecr: 0,
    },
    TcpOpt::Nop,
    TcpOpt::WindowScale(7),
];

#[test]
fn linux_style_syn_exact_completion() {
    let f = tcp_frame(&syn_spec(&SYN_OPTS));
    assert_eq!(f.len(), 14 + 20 + 40);
    let (q, cpl, counters) = deliver(&predict_rx(&cfg_on(), &f, false));
    assert_eq!(q, 0);
    assert!(counters.is_empty());
    let want = Completion {
        index: 0,
        len: 74,
        hash: 0,
        flags: CPL_IPV4 | CPL_TCP | CPL_IP_CSUM_OK | CPL_TCP_CSUM_OK,
        l3_off: 14,
        l4_off: 34,
        kind: KIND_RX,
        tcp_flags: SYN,
        mss: 1460,
        wscale: WSCALE_PRESENT | 7,
        opts: OPT_SACK_PERM | OPT_TS,
        window: 29200,
        tsval: 0x0102_0304,
        tsecr: 0,
        phase: false,
    };
    assert_eq!(cpl_diff(&want, &cpl), Vec::<String>::new());
}

#[test]
fn option_order_does_not_matter() {
    let base = tcp_frame(&syn_spec(&SYN_OPTS));
    let want = deliver(&predict_rx(&cfg_on(), &base, false)).1;
    let orders: [&[TcpOpt]; 3] = [
        &[
            TcpOpt::WindowScale(7),
            TcpOpt::Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            },
            TcpOpt::Mss(1460),
            TcpOpt::SackPermitted,
        ],
        &[
            TcpOpt::Nop,
            TcpOpt::Nop,
            TcpOpt::Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            },
            TcpOpt::SackPermitted,
            TcpOpt::Nop,
            TcpOpt::WindowScale(7),
            TcpOpt::Mss(1460),
        ],
        &[
            TcpOpt::SackPermitted,
            TcpOpt::Mss(1460),
            TcpOpt::WindowScale(7),
            TcpOpt::Nop,
            TcpOpt::Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            },
            TcpOpt::End,
        ],
    ];
    for o in orders {
        let f = tcp_frame(&syn_spec(o));
        let mut got = deliver(&predict_rx(&cfg_on(), &f, false)).1;
        // Lengths may differ with padding.
        got.len = want.len;
        got.l4_off = want.l4_off;
        assert_eq!(cpl_diff(&want, &got), Vec::<String>::new(), "order {o:?}");
    }
}

#[test]
fn sack_blocks_wscale_clamp_and_overwrite() {
    let blocks = vec![(1, 2), (3, 4), (5, 6), (7, 8)];
    let f = tcp_frame(&syn_spec(&[TcpOpt::Sack(blocks), TcpOpt::WindowScale(200)]));
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(cpl.opts, 4 << OPT_SACK_BLOCKS_SHIFT);
    assert_eq!(cpl.wscale, WSCALE_PRESENT | 14);
    // A later MSS and a later timestamps overwrite the earlier ones.
    let f = tcp_frame(&syn_spec(&[
        TcpOpt::Mss(1),
        TcpOpt::Timestamps { tsval: 1, tsecr: 2 },
        TcpOpt::Mss(9000),
        TcpOpt::Timestamps { tsval: 3, tsecr: 4 },
    ]));
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(
        (cpl.mss, cpl.tsval, cpl.tsecr, cpl.opts),
        (9000, 3, 4, OPT_TS)
    );
    // Known kinds with the wrong length are skipped, as are unknown kinds.
    let f = tcp_frame(&syn_spec(&[
        TcpOpt::Unknown {
            kind: 2,
            data: vec![1, 2, 3],
        },
        TcpOpt::Unknown {
            kind: 8,
            data: vec![0; 4],
        },
        TcpOpt::Unknown {
            kind: 99,
            data: vec![7; 5],
        },
        TcpOpt::SackPermitted,
    ]));
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(
        (cpl.mss, cpl.opts, cpl.flags & CPL_OPT_BAD),
        (0, OPT_SACK_PERM, 0)
    );
}

/// Expected completion option fields from a list of options (last wins).
fn expected_opts(opts: &[TcpOpt]) -> (u16, u8, u8, u32, u32) {
    let (mut mss, mut ws, mut sp, mut blocks, mut ts) = (0, 0, false, 0u8, None);
    for o in opts {
        match o {
            TcpOpt::End => break,
            TcpOpt::Mss(v) => mss = *v,
            TcpOpt::WindowScale(v) => ws = WSCALE_PRESENT | (*v).min(14),
            TcpOpt::SackPermitted => sp = true,
            TcpOpt::Sack(b) => blocks = b.len() as u8,
            TcpOpt::Timestamps { tsval, tsecr } => ts = Some((*tsval, *tsecr)),
            _ => {}
        }
    }
    let flags = (if sp { OPT_SACK_PERM } else { 0 })
        | (if ts.is_some() { OPT_TS } else { 0 })
        | blocks << OPT_SACK_BLOCKS_SHIFT;
    let (a, b) = ts.unwrap_or((0, 0));
    (mss, ws, flags, a, b)
}

#[test]
fn ip_options_move_l4_offset() {
    let mut s = syn_spec(&SYN_OPTS);
    s.ip.options = vec![1, 1, 1, 0, 0x44, 12, 5, 0, 0, 0, 0, 0];
    let f = tcp_frame(&s);
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!((cpl.l3_off, cpl.l4_off), (14, 14 + 32));
    assert_eq!(
        cpl.flags,
        CPL_IPV4 | CPL_TCP | CPL_IP_CSUM_OK | CPL_TCP_CSUM_OK
    );
    assert_eq!(cpl.mss, 1460);
}

#[test]
fn ethernet_padding_is_not_summed() {
    let mut s = TcpSpec::default();
    s.ip.pad_byte = 0xA5;
    let f = tcp_frame(&s);
    assert_eq!(f.len(), 60);
    assert_eq!(f[59], 0xA5);
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(
        cpl.flags,
        CPL_IPV4 | CPL_TCP | CPL_IP_CSUM_OK | CPL_TCP_CSUM_OK
    );
    assert_eq!(cpl.len, 60);
    // Odd segment length: the last byte is padded with zero, not with the
    // Ethernet padding that follows.
    s.payload = vec![0x11; 3];
    let f = tcp_frame(&s);
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(cpl.flags & CPL_TCP_CSUM_OK, CPL_TCP_CSUM_OK);
}

#[test]
fn rss_microsoft_vectors_through_frames() {
    let mut cfg = cfg_on();
    cfg.rss_enable = true;
    cfg.rss_key = MS_VERIFICATION_KEY;
    for (i, e) in cfg.rss_table.iter_mut().enumerate() {
        *e = (i as u8).wrapping_mul(7).wrapping_add(1) & 3 | 0xFC; // upper bits must be ignored
    }
    let mut s = TcpSpec::default();
    s.ip.src = [66, 9, 149, 187];
    s.ip.dst = [161, 142, 100, 80];
    s.src_port = 2794;
    s.dst_port = 1766;
    let (q, cpl, _) = deliver(&predict_rx(&cfg, &tcp_frame(&s), false));
    assert_eq!(cpl.hash, 0x51ccc178);
    assert_eq!(q, usize::from(cfg.rss_table[0x78 & 63] & 3));
    // UDP: 2-tuple.
    let f = udp_frame(&s.ip, 1, 2, &[0; 30]);
    let (q, cpl, _) = deliver(&predict_rx(&cfg, &f, false));
    assert_eq!(cpl.hash, 0x323e8fc2);
    assert_eq!(q, usize::from(cfg.rss_table[0x323e8fc2 & 63] & 3));
    assert_eq!(cpl.flags, CPL_IPV4 | CPL_IP_CSUM_OK);
    assert_eq!((cpl.l4_off, cpl.tcp_flags, cpl.window), (0, 0, 0));
    // TCP first fragment: 2-tuple, no TCP processing.
    s.ip.more_frags = true;
    s.ip.dont_frag = false;
    let (_, cpl, _) = deliver(&predict_rx(&cfg, &tcp_frame(&s), false));
    assert_eq!(cpl.hash, 0x323e8fc2);
    assert_eq!(cpl.flags, CPL_IPV4 | CPL_IP_CSUM_OK | CPL_FRAGMENT);
    assert_eq!(
        (cpl.l3_off, cpl.l4_off, cpl.mss, cpl.tcp_flags),
        (14, 0, 0, 0)
    );
    // ARP: queue 0, hash 0, flags 0, even with RSS on.
    let f = arp_frame([2, 0, 0, 0, 0, 9], [10, 0, 0, 9], [10, 0, 0, 1], 0);
    let (q, cpl, _) = deliver(&predict_rx(&cfg, &f, false));
    assert_eq!(
        (q, cpl.hash, cpl.flags, cpl.l3_off, cpl.len),
        (0, 0, 0, 0, 60)
    );
    // RSS off: hash 0 queue 0.
    cfg.rss_enable = false;
    let (q, cpl, _) = deliver(&predict_rx(&cfg, &tcp_frame(&TcpSpec::default()), false));
    assert_eq!((q, cpl.hash), (0, 0));
}

#[test]
fn non_ipv4_frames_deliver_with_flags_zero() {
    let mut rng = StdRng::seed_from_u64(7);
    let f = ipv6_frame(rng.gen(), rng.gen(), &[0u8; 100]);
    let cpl = deliver(&predict_rx(&cfg_on(), &f, false)).1;
    assert_eq!(
        cpl,
        Completion {
            len: f.len() as u16,
            kind: KIND_RX,
            ..Default::default()
        }
    );
}

#[test]
fn every_malformed_class_gets_its_counter() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for max_frame in [9018u16, 1518] {
        let mut cfg = cfg_on();
        cfg.max_frame = max_frame;
        for class in Malformed::ALL {
            for _ in 0..40 {
                let g = malformed(&mut rng, class, max_frame);
                let v = predict_rx(&cfg, &g.bytes, g.mac_error);
                match class.expect() {
                    Expect::Drop(c) => {
                        assert_eq!(
                            v,
                            RxVerdict::Drop {
                                reason: c,
                                counters: vec![c]
                            },
                            "{class:?}: {:02x?}",
                            &g.bytes[..g.bytes.len().min(80)]
                        );
                    }
                    Expect::Flag(flag, counter) => {
                        let (_, cpl, counters) = deliver(&v);
                        assert_eq!(cpl.flags & flag, flag, "{class:?}");
                        assert_eq!(
                            counters,
                            counter.into_iter().collect::<Vec<_>>(),
                            "{class:?}"
                        );
                        let others = CPL_IP_CSUM_BAD | CPL_TCP_CSUM_BAD | CPL_OPT_BAD;
                        assert_eq!(
                            cpl.flags & others & !flag,
                            0,
                            "{class:?} has only its defect"
                        );
                        assert!(cpl.flags & CPL_TCP != 0);
                    }
                }
            }
        }
    }
}

#[test]
fn bad_options_keep_the_prefix() {
    // MSS then an option running past the end.
    let mut opts = Vec::new();
    TcpOpt::Mss(536).emit_into(&mut opts);
    TcpOpt::SackPermitted.emit_into(&mut opts);
    opts.extend([8, 12, 0, 0, 0, 0]);
    assert_eq!(opts.len(), 12);
    let s = TcpSpec {
        options: opts,
        ..Default::default()
    };
    let cpl = deliver(&predict_rx(&cfg_on(), &tcp_frame(&s), false)).1;
    assert_eq!(cpl.flags & CPL_OPT_BAD, CPL_OPT_BAD);
    assert_eq!((cpl.mss, cpl.opts, cpl.tsval), (536, OPT_SACK_PERM, 0));
}

#[test]
fn drop_bad_csum_and_queue_disabled_counters() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut cfg = cfg_on();
    cfg.drop_bad_csum = true;
    let g = malformed(&mut rng, Malformed::BadIpCsum, 9018);
    let v = predict_rx(&cfg, &g.bytes, false);
    assert_eq!(
        v,
        RxVerdict::Drop {
            reason: Counter::RxBadIpCsum,
            counters: vec![Counter::RxBadIpCsum]
        }
    );
    let g = malformed(&mut rng, Malformed::BadTcpCsum, 9018);
    let v = predict_rx(&cfg, &g.bytes, false);
    assert_eq!(v.drop_reason(), Some(Counter::RxBadTcpCsum));
    // Both bad: both counted.
    let mut f = g.bytes.clone();
    f[14 + 10] ^= 0x55;
    let v = predict_rx(&cfg, &f, false);
    assert_eq!(v.counters(), &[Counter::RxBadIpCsum, Counter::RxBadTcpCsum]);
    // Flag only, then queue disabled: the csum counter and the drop.
    cfg.drop_bad_csum = false;
    cfg.queue_enabled[0] = false;
    let v = predict_rx(&cfg, &f, false);
    assert_eq!(
        v,
        RxVerdict::Drop {
            reason: Counter::RxDropQueueDisabled,
            counters: vec![
                Counter::RxBadIpCsum,
                Counter::RxBadTcpCsum,
                Counter::RxDropQueueDisabled
            ]
        }
    );
    // Reset state: every queue disabled.
    let v = predict_rx(
        &NicConfig::default(),
        &tcp_frame(&TcpSpec::default()),
        false,
    );
    assert_eq!(v.drop_reason(), Some(Counter::RxDropQueueDisabled));
    // Bad IP checksum and a malformed TCP header: both counters.
    let mut g = malformed(&mut rng, Malformed::SegmentTooShort, 9018).bytes;
    g[14 + 10] ^= 0x55;
    let v = predict_rx(&cfg_on(), &g, false);
    assert_eq!(
        v.counters(),
        &[Counter::RxBadIpCsum, Counter::RxDropMalformedL4]
    );
}

#[test]
fn length_edges() {
    let cfg = cfg_on();
    let s = TcpSpec {
        payload: vec![0; 9018 - 54],
        ..Default::default()
    };
    let f = tcp_frame(&s);
    assert_eq!(f.len(), 9018);
    assert!(matches!(
        predict_rx(&cfg, &f, false),
        RxVerdict::Deliver { .. }
    ));
    let mut g = f.clone();
    g.push(0);
    assert_eq!(
        predict_rx(&cfg, &g, false).drop_reason(),
        Some(Counter::RxDropOversize)
    );
    assert_eq!(
        predict_rx(&cfg, &f[..59], false).drop_reason(),
        Some(Counter::RxDropRunt)
    );
    assert_eq!(
        predict_rx(&cfg, &[], false).drop_reason(),
        Some(Counter::RxDropRunt)
    );
    // MAC error beats everything.
    assert_eq!(
        predict_rx(&cfg, &[], true).drop_reason(),
        Some(Counter::RxDropMacError)
    );
    // TL exactly the frame: fine; one more: truncated.
    let s = TcpSpec {
        payload: vec![1; 100],
        ..Default::default()
    };
    let f = tcp_frame(&s);
    assert!(matches!(
        predict_rx(&cfg, &f, false),
        RxVerdict::Deliver { .. }
    ));
    let p = parse(&f, false, 9018);
    assert_eq!(p.class, Class::Tcp);
    assert_eq!(p.tcp.unwrap().seg_len, 120);
}

// ------------------------------------------------------------------ TX

fn verify_with_smoltcp(f: &[u8]) -> (bool, bool) {
    let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
    let ip_ok = ip.verify_checksum();
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    (
        ip_ok,
        tcp.verify_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(dst)),
    )
}

fn txd(len: usize, flags: u16) -> TxDesc {
    TxDesc {
        addr: 0x1000,
        len: len as u16,
        flags,
    }
}

#[test]
fn tx_inserts_checksums() {
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..200 {
        let n = random_frame_len(&mut rng);
        let good = tcp_frame(&random_tcp(&mut rng, n));
        let mut f = good.clone();
        // Garbage in both checksum fields.
        let l4 = 14 + usize::from(f[14] & 15) * 4;
        f[24] = rng.gen();
        f[25] = rng.gen();
        f[l4 + 16] = rng.gen();
        f[l4 + 17] = rng.gen();
        let TxVerdict::Send(out) = predict_tx(&txd(f.len(), TXF_CSUM_IP | TXF_CSUM_TCP), &f) else {
            panic!("rejected")
        };
        assert_eq!(verify_with_smoltcp(&out), (true, true));
        assert_eq!(out, good);
        // Only IP: TCP field untouched.
        let TxVerdict::Send(out) = predict_tx(&txd(f.len(), TXF_CSUM_IP), &f) else {
            panic!()
        };
        assert!(verify_with_smoltcp(&out).0);
        assert_eq!(out[l4 + 16..l4 + 18], f[l4 + 16..l4 + 18]);
        // Only TCP.
        let TxVerdict::Send(out) = predict_tx(&txd(f.len(), TXF_CSUM_TCP), &f) else {
            panic!()
        };
        assert!(verify_with_smoltcp(&out).1);
        assert_eq!(out[24..26], f[24..26]);
        // No flags: unchanged.
        assert_eq!(predict_tx(&txd(f.len(), 0), &f), TxVerdict::Send(f.clone()));
    }
}

#[test]
fn tx_non_qualifying_frames_unchanged() {
    let flags = TXF_CSUM_IP | TXF_CSUM_TCP;
    let arp = arp_frame([2; 6], [1; 4], [2; 4], 0);
    assert_eq!(
        predict_tx(&txd(60, flags), &arp),
        TxVerdict::Send(arp.clone())
    );
    let six = ipv6_frame([1; 16], [2; 16], &[0; 40]);
    assert_eq!(
        predict_tx(&txd(six.len(), flags), &six),
        TxVerdict::Send(six.clone())
    );
    // Only the Ethernet header.
    assert_eq!(
        predict_tx(&txd(14, flags), &arp),
        TxVerdict::Send(arp[..14].to_vec())
    );
    // A TCP fragment: IP checksum yes, TCP no.
    let mut s = TcpSpec::default();
    s.ip.more_frags = true;
    let mut f = tcp_frame(&s);
    f[24] ^= 0xff;
    f[14 + 20 + 16] ^= 0xff;
    let TxVerdict::Send(out) = predict_tx(&txd(f.len(), flags), &f) else {
        panic!()
    };
    assert_eq!(verify_with_smoltcp(&out), (true, false));
    // UDP: IP only.
    let mut u = udp_frame(&Ipv4Spec::default(), 1, 2, &[5; 20]);
    u[24] ^= 1;
    let TxVerdict::Send(out) = predict_tx(&txd(u.len(), flags), &u) else {
        panic!()
    };
    assert!(Ipv4Packet::new_checked(&out[14..])
        .unwrap()
        .verify_checksum());
    assert_eq!(out[25..], u[25..]);
    // TL beyond the descriptor length: IP checksum only.
    let f = tcp_frame(&TcpSpec {
        payload: vec![3; 50],
        ..Default::default()
    });
    let mut g = f.clone();
    g[14 + 20 + 16] ^= 0xff;
    g[24] ^= 0xff;
    let TxVerdict::Send(out) = predict_tx(&txd(g.len() - 1, flags), &g) else {
        panic!()
    };
    assert_eq!(
        out[..],
        f[..f.len() - 1]
            .iter()
            .zip(&g)
            .enumerate()
            .map(|(i, (a, b))| if i == 24 || i == 25 { *a } else { *b })
            .collect::<Vec<_>>()[..]
    );
}

#[test]
fn tx_rejects_bad_descriptors() {
    let f = vec![0u8; 9100];
    let bad = [
        TxDesc {
            addr: 0,
            len: 60,
            flags: 1 << TXF_OPCODE_SHIFT,
        },
        TxDesc {
            addr: 0,
            len: 60,
            flags: 0xF000,
        },
        TxDesc {
            addr: 0,
            len: 13,
            flags: 0,
        },
        TxDesc {
            addr: 0,
            len: 9019,
            flags: 0,
        },
        TxDesc {
            addr: 0x1001,
            len: 60,
            flags: 0,
        },
        TxDesc {
            addr: 0x20,
            len: 60,
            flags: 0,
        },
    ];
    for d in bad {
        assert_eq!(
            predict_tx(&d, &f),
            TxVerdict::Reject(Counter::TxBadDescriptor),
            "{d:?}"
        );
        assert_eq!(tx_completion(&d, 5).flags, CPL_ERROR);
    }
    for d in [
        TxDesc {
            addr: 0x40,
            len: 14,
            flags: 0,
        },
        TxDesc {
            addr: 0,
            len: 9018,
            flags: 0x0FFC,
        },
    ] {
        assert!(matches!(predict_tx(&d, &f), TxVerdict::Send(v) if v.len() == usize::from(d.len)));
        let c = tx_completion(&d, 9);
        assert_eq!(
            (c.index, c.len, c.kind, c.flags, c.hash),
            (9, d.len, KIND_TX, 0, 0)
        );
    }
}

#[test]
fn counter_model_accounts_rx_and_tx() {
    let mut m = CounterModel::default();
    let cfg = cfg_on();
    let f = tcp_frame(&TcpSpec::default());
    let v = predict_rx(&cfg, &f, false);
    m.rx(&v, None);
    m.rx(&v, Some(Counter::RxDropNoBuffer));
    m.rx(&predict_rx(&cfg, &f[..10], false), None);
    m.tx_sent(2, 100);
    assert_eq!(m.get(Counter::RxFrames), 3);
    assert_eq!(m.get(Counter::RxDropNoBuffer), 1);
    assert_eq!(m.get(Counter::RxDropRunt), 1);
    assert_eq!((m.rx_pkts[0], m.rx_bytes[0]), (1, 60));
    assert_eq!(
        (m.tx_pkts[2], m.tx_bytes[2], m.get(Counter::TxFrames)),
        (1, 100, 1)
    );
    let mut a = m.clone();
    a.rx_bytes[0] = 61;
    assert_eq!(
        m.diff(&a),
        vec!["queue 0 rx_bytes: expected 60, actual 61".to_string()]
    );
}

#[test]
fn random_mix_is_consistent_with_kind() {
    let mut rng = StdRng::seed_from_u64(99);
    let cfg = cfg_on();
    for _ in 0..500 {
        let (kind, g) = random_frame(&mut rng, 9018);
        let v = predict_rx(&cfg, &g.bytes, g.mac_error);
        match kind {
            FrameKind::Tcp => {
                let c = deliver(&v).1;
                assert_eq!(
                    c.flags,
                    CPL_IPV4 | CPL_TCP | CPL_IP_CSUM_OK | CPL_TCP_CSUM_OK
                );
            }
            FrameKind::Udp | FrameKind::Icmp => {
                assert_eq!(deliver(&v).1.flags, CPL_IPV4 | CPL_IP_CSUM_OK)
            }
            FrameKind::Fragment => {
                assert_eq!(
                    deliver(&v).1.flags,
                    CPL_IPV4 | CPL_IP_CSUM_OK | CPL_FRAGMENT
                )
            }
            FrameKind::Arp | FrameKind::Ipv6 => assert_eq!(deliver(&v).1.flags, 0),
            FrameKind::Malformed(m) => match m.expect() {
                Expect::Drop(c) => assert_eq!(v.drop_reason(), Some(c), "{m:?}"),
                Expect::Flag(f, _) => assert_eq!(deliver(&v).1.flags & f, f),
            },
        }
    }
}

// ------------------------------------------------------------ proptests

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_wellformed_tcp(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cfg = cfg_on();
        cfg.rss_enable = true;
        rng.fill(&mut cfg.rss_key[..]);
        rng.fill(&mut cfg.rss_table[..]);
        let n = random_frame_len(&mut rng);
        let mut opts = random_options(&mut rng);
        if rng.gen_bool(0.2) && opts.iter().map(TcpOpt::len).sum::<usize>() < MAX_TCP_OPTS {
            opts.push(TcpOpt::End);
        }
        let mut s = random_tcp(&mut rng, n);
        s.set_options_keep_len(options_bytes(&opts));
        let f = tcp_frame(&s);
        prop_assert_eq!(f.len(), s.frame_len());
        let (q, cpl, counters) = deliver(&predict_rx(&cfg, &f, false));
        prop_assert!(counters.is_empty());
        prop_assert_eq!(cpl.flags, CPL_IPV4 | CPL_TCP | CPL_IP_CSUM_OK | CPL_TCP_CSUM_OK);
        let hash = toeplitz(&cfg.rss_key, &tuple4(s.ip.src, s.ip.dst, s.src_port, s.dst_port));
        prop_assert_eq!(cpl.hash, hash);
        prop_assert_eq!(q, usize::from(cfg.rss_table[(hash & 63) as usize] & 3));
        prop_assert_eq!(usize::from(cpl.len), f.len());
        prop_assert_eq!(usize::from(cpl.l4_off), 34 + s.ip.options.len());
        prop_assert_eq!((cpl.tcp_flags, cpl.window), (s.flags, s.window));
        let (mss, ws, o, tsval, tsecr) = expected_opts(&opts);
        prop_assert_eq!((cpl.mss, cpl.wscale, cpl.opts, cpl.tsval, cpl.tsecr), (mss, ws, o, tsval, tsecr));
        // A 2-tuple hash for the same addresses as UDP.
        let u = udp_frame(&s.ip, 1, 2, &[]);
        let (_, ucpl, _) = deliver(&predict_rx(&cfg, &u, false));
        prop_assert_eq!(ucpl.hash, toeplitz(&cfg.rss_key, &tuple2(s.ip.src, s.ip.dst)));
    }

    #[test]
    fn predict_rx_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), mac in any::<bool>(), max in any::<u16>(), rss in any::<bool>()) {
        let cfg = NicConfig { rss_enable: rss, max_frame: max, queue_enabled: [true; 4], ..Default::default() };
        let _ = predict_rx(&cfg, &bytes, mac);
        // Make it look like IPv4 to get past the ethertype check.
        let mut b = bytes.clone();
        if b.len() > 14 {
            b[12] = 8;
            b[13] = 0;
            let _ = predict_rx(&cfg, &b, false);
        }
        let _ = predict_tx(&TxDesc { addr: 0, len: b.len() as u16, flags: 3 }, &b);
    }

    #[test]
    fn mutated_frames_never_panic(seed in any::<u64>(), flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..8)) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (_, g) = random_frame(&mut rng, 9018);
        let mut f = g.bytes;
        if f.is_empty() { return Ok(()); }
        // Concentrate on the headers.
        for (at, x) in flips {
            let i = usize::from(at) % f.len().min(80);
            f[i] ^= x;
        }
        let cfg = NicConfig { rss_enable: true, queue_enabled: [true; 4], ..Default::default() };
        let v = predict_rx(&cfg, &f, false);
        if let RxVerdict::Deliver { cpl, .. } = v {
            prop_assert_eq!(usize::from(cpl.len), f.len());
        }
        let _ = predict_tx(&TxDesc { addr: 0, len: f.len().min(9018) as u16, flags: 3 }, &f);
    }
}
