//! The reference model's frame parser (`toe_model::parse`, the
//! specification the RTL parser is checked against in the differential
//! runs) against two independent parsers: smoltcp's `wire` module for the
//! Ethernet, IPv4 and TCP headers and checksums, and the host stack's
//! option reader (`toe_driver::tcp::options::parse`, Linux's rules) for
//! the TCP options.  Also checks that the model's RX prediction agrees
//! with its own parse (class, counters, completion fields).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smoltcp::wire::{EthernetFrame, EthernetProtocol, Ipv4Packet, TcpOption, TcpPacket};
use toe_model::nic::{self, NicConfig, RxVerdict};
use toe_model::parse::{self, Class};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (mac_error, frame) = (data[0] & 0x80 != 0, &data[1..]);
    let max = toe_contract::MAX_FRAME as u16;
    let p = parse::parse(frame, mac_error, max);
    let verdict = nic::predict_rx(&NicConfig::all_queues_enabled(), frame, mac_error);
    if mac_error {
        assert_eq!(p.class, Class::MacError);
        assert!(matches!(verdict, RxVerdict::Drop { .. }));
        return;
    }
    if frame.len() < 60 {
        assert_eq!(p.class, Class::Runt);
        return;
    }
    if frame.len() > max as usize {
        assert_eq!(p.class, Class::Oversize);
        return;
    }
    let eth = EthernetFrame::new_checked(frame).expect("60 bytes hold an Ethernet header");
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        assert_eq!(p.class, Class::NonIpv4);
        if let RxVerdict::Deliver { cpl, .. } = &verdict {
            assert_eq!(cpl.flags, 0, "non-IPv4 frames carry no flags");
        }
        return;
    }
    let ip = Ipv4Packet::new_unchecked(eth.payload());
    let l3_ok = ip.check_len().is_ok() && ip.version() == 4 && ip.header_len() >= 20;
    assert_eq!(
        p.class == Class::MalformedL3,
        !l3_ok,
        "IPv4 header validity: model {:?}, smoltcp {}",
        p.class,
        l3_ok
    );
    if !l3_ok {
        return;
    }
    let info = p.ipv4.expect("a well-formed IPv4 header is reported");
    assert_eq!(info.src, ip.src_addr().octets());
    assert_eq!(info.dst, ip.dst_addr().octets());
    assert_eq!(info.ident, ip.ident());
    assert_eq!(info.ttl, ip.hop_limit());
    assert_eq!(info.protocol, u8::from(ip.next_header()));
    assert_eq!(info.more_frags, ip.more_frags());
    assert_eq!(info.dont_frag, ip.dont_frag());
    assert_eq!(info.frag_offset as usize * 8, ip.frag_offset() as usize);
    assert_eq!(info.total_len, ip.total_len());
    assert_eq!(
        info.csum_ok,
        toe_fuzz::ipv4_ok(&eth.payload()[..ip.header_len() as usize]),
        "IPv4 header checksum verdict"
    );
    let fragment = ip.more_frags() || ip.frag_offset() != 0;
    if fragment {
        assert_eq!(p.class, Class::Fragment);
        return;
    }
    if info.protocol != 6 {
        assert_eq!(p.class, Class::Ipv4Other);
        return;
    }
    let seg = &eth.payload()[ip.header_len() as usize..ip.total_len() as usize];
    let tcp = TcpPacket::new_unchecked(seg);
    let l4_ok = tcp.check_len().is_ok();
    assert_eq!(
        p.class == Class::MalformedL4,
        !l4_ok,
        "TCP header validity: model {:?}, smoltcp {}",
        p.class,
        l4_ok
    );
    if !l4_ok {
        return;
    }
    assert_eq!(p.class, Class::Tcp);
    let t = p.tcp.expect("class Tcp has TCP fields");
    assert_eq!((t.src_port, t.dst_port), (tcp.src_port(), tcp.dst_port()));
    assert_eq!(t.seq, tcp.seq_number().0 as u32);
    assert_eq!(t.ack, tcp.ack_number().0 as u32);
    assert_eq!(t.window, tcp.window_len());
    assert_eq!(t.urgent, tcp.urgent_at());
    assert_eq!(t.seg_len, seg.len());
    let flags = [
        (0x01, tcp.fin()),
        (0x02, tcp.syn()),
        (0x04, tcp.rst()),
        (0x08, tcp.psh()),
        (0x10, tcp.ack()),
        (0x20, tcp.urg()),
        (0x40, tcp.ece()),
        (0x80, tcp.cwr()),
    ];
    for (bit, set) in flags {
        assert_eq!(t.flags & bit != 0, set, "flag {bit:#x}");
    }
    let ok = toe_fuzz::tcp_ok(ip.src_addr().octets(), ip.dst_addr().octets(), seg);
    assert_eq!(t.csum_ok, ok, "TCP checksum verdict");

    // Options: the host stack's reader walks them by the same rules
    // (stop on a length below 2 or past the end; skip a known kind of the
    // wrong length; a later option replaces an earlier one).
    let opts = &seg[20..tcp.header_len() as usize];
    let o = t.opts;
    let h = toe_driver::tcp::options::parse(opts);
    if o.bad {
        assert!(
            h.malformed,
            "model found a broken option, host reader did not"
        );
    }
    assert_eq!(o.wscale.map(|v| v.min(14)), h.syn.wscale, "window scale");
    assert_eq!(o.sack_perm, h.syn.sack_permitted, "SACK-permitted");
    assert_eq!(o.timestamps, h.ts, "timestamps");
    assert_eq!(o.sack_blocks as usize, h.sack.len(), "SACK blocks");
    match o.mss {
        None => assert_eq!(h.syn.mss, None),
        Some(0) => {} // the host ignores an MSS of 0 (keeps an earlier one)
        Some(m) => assert_eq!(h.syn.mss, Some(m), "MSS"),
    }
    // smoltcp's reader refuses what the model skips or stops at; where it
    // reads every option, it must find the same values.
    let mut b = opts;
    let (mut mss, mut ws, mut sp, mut ts, mut sack) = (None, None, false, None, 0usize);
    let mut smol_ok = true;
    while !b.is_empty() {
        match TcpOption::parse(b) {
            Ok((rest, opt)) => {
                match opt {
                    TcpOption::EndOfList => break,
                    TcpOption::MaxSegmentSize(m) => mss = Some(m),
                    TcpOption::WindowScale(w) => ws = Some(w),
                    TcpOption::SackPermitted => sp = true,
                    TcpOption::SackRange(r) => sack = r.iter().flatten().count(),
                    TcpOption::TimeStamp { tsval, tsecr } => ts = Some((tsval, tsecr)),
                    _ => {}
                }
                b = rest;
            }
            Err(_) => {
                smol_ok = false;
                break;
            }
        }
    }
    if smol_ok {
        assert!(
            !o.bad,
            "smoltcp read every option, the model found a broken one"
        );
        assert_eq!(o.mss, mss);
        assert_eq!(o.wscale, ws);
        assert_eq!(o.sack_perm, sp);
        assert_eq!(o.timestamps, ts);
        assert_eq!((o.sack_blocks as usize).min(3), sack);
    }

    // The prediction reports what the parse found.
    if let RxVerdict::Deliver { cpl, .. } = &verdict {
        use toe_contract::desc as dd;
        assert_eq!(cpl.len as usize, frame.len());
        assert_eq!(cpl.tcp_flags, t.flags);
        assert_eq!(cpl.window, t.window);
        assert_eq!(cpl.mss, o.mss.unwrap_or(0));
        assert_eq!(cpl.flags & dd::CPL_OPT_BAD != 0, o.bad);
        assert_eq!(cpl.l4_off as usize, 14 + ip.header_len() as usize);
    }
});
