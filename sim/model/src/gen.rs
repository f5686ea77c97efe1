//! Seeded frame generators for tests.
//!
//! Well-formed packets are built with smoltcp's `wire` module (header fields
//! through its setters, checksums through its `fill_checksum`); TCP options
//! are emitted one by one with `TcpOption::emit` so that any order (and any
//! malformation) can be produced.  Malformed frames start from a well-formed
//! one and break exactly one thing, keeping every other check passing.

use crate::csum;
use crate::parse::{ETHERTYPE_IPV4, ETH_HLEN};
use rand::seq::SliceRandom;
use rand::Rng;
use smoltcp::wire::{
    ArpHardware, ArpOperation, ArpPacket, EthernetAddress, EthernetFrame, EthernetProtocol,
    Icmpv4Message, Icmpv4Packet, IpAddress, IpProtocol, Ipv4Address, Ipv4Packet, Ipv6Address,
    Ipv6Packet, TcpOption, TcpPacket, UdpPacket, ETHERNET_HEADER_LEN, IPV4_HEADER_LEN,
    IPV6_HEADER_LEN, TCP_HEADER_LEN, UDP_HEADER_LEN,
};
use toe_contract::desc::{CPL_IP_CSUM_BAD, CPL_OPT_BAD, CPL_TCP_CSUM_BAD};
use toe_contract::regs::Counter;
use toe_contract::{MAX_FRAME, MIN_FRAME};

/// Longest TCP option area.
pub const MAX_TCP_OPTS: usize = 40;
/// Longest IPv4 option area.
pub const MAX_IP_OPTS: usize = 40;

/// TCP flag bits of header byte 13.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;
pub const ECE: u8 = 0x40;
pub const CWR: u8 = 0x80;

/// A TCP option to emit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOpt {
    End,
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// 1 to 4 blocks.
    Sack(Vec<(u32, u32)>),
    Timestamps {
        tsval: u32,
        tsecr: u32,
    },
    /// Any kind with the given data (length byte = 2 + data.len()).
    Unknown {
        kind: u8,
        data: Vec<u8>,
    },
}

#[allow(clippy::len_without_is_empty)]
impl TcpOpt {
    /// Encoded length in bytes.
    pub fn len(&self) -> usize {
        match self {
            TcpOpt::Sack(b) => 2 + 8 * b.len(),
            TcpOpt::Unknown { data, .. } => 2 + data.len(),
            o => o.with_smoltcp(|s| s.buffer_len()),
        }
    }

    fn with_smoltcp<R>(&self, f: impl FnOnce(TcpOption<'_>) -> R) -> R {
        match self {
            TcpOpt::End => f(TcpOption::EndOfList),
            TcpOpt::Nop => f(TcpOption::NoOperation),
            TcpOpt::Mss(v) => f(TcpOption::MaxSegmentSize(*v)),
            TcpOpt::WindowScale(v) => f(TcpOption::WindowScale(*v)),
            TcpOpt::SackPermitted => f(TcpOption::SackPermitted),
            TcpOpt::Timestamps { tsval, tsecr } => f(TcpOption::TimeStamp {
                tsval: *tsval,
                tsecr: *tsecr,
            }),
            TcpOpt::Sack(blocks) if blocks.len() <= 3 => {
                let mut r = [None; 3];
                for (slot, b) in r.iter_mut().zip(blocks) {
                    *slot = Some(*b);
                }
                f(TcpOption::SackRange(r))
            }
            // smoltcp emits at most 3 SACK blocks: send 4 as a raw kind 5.
            TcpOpt::Sack(blocks) => {
                let data: Vec<u8> = blocks
                    .iter()
                    .flat_map(|(l, r)| l.to_be_bytes().into_iter().chain(r.to_be_bytes()))
                    .collect();
                f(TcpOption::Unknown {
                    kind: 5,
                    data: &data,
                })
            }
            TcpOpt::Unknown { kind, data } => f(TcpOption::Unknown { kind: *kind, data }),
        }
    }

    /// Appends the encoded option to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + self.len(), 0);
        self.with_smoltcp(|o| {
            o.emit(&mut out[start..]);
        });
    }
}

/// Encodes options in the given order, padded with End-of-list (zero)
/// bytes to a multiple of 4.  Panics beyond 40 bytes.
pub fn options_bytes(opts: &[TcpOpt]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in opts {
        o.emit_into(&mut out);
    }
    pad4(&mut out);
    assert!(
        out.len() <= MAX_TCP_OPTS,
        "TCP options of {} bytes exceed 40",
        out.len()
    );
    out
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// Ethernet and IPv4 header fields of a generated frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Spec {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub tos: u8,
    pub ident: u16,
    pub ttl: u8,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In 8-byte units.
    pub frag_offset: u16,
    /// IPv4 option bytes (padded with zeros to a multiple of 4, at most 40).
    pub options: Vec<u8>,
    /// Byte used for Ethernet padding up to 60 bytes (not covered by any
    /// checksum, so a non-zero value tests that padding is ignored).
    pub pad_byte: u8,
}

impl Default for Ipv4Spec {
    fn default() -> Self {
        Ipv4Spec {
            dst_mac: [0x02, 0, 0, 0, 0, 0x01],
            src_mac: [0x02, 0, 0, 0, 0, 0x02],
            src: [10, 0, 0, 2],
            dst: [10, 0, 0, 1],
            tos: 0,
            ident: 0x1234,
            ttl: 64,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: Vec::new(),
            pad_byte: 0,
        }
    }
}

/// A TCP segment in an IPv4 frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSpec {
    pub ip: Ipv4Spec,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// Header byte 13 (see the FIN..CWR constants).
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    /// Raw option bytes (use `options_bytes`); length a multiple of 4, <= 40.
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

impl Default for TcpSpec {
    fn default() -> Self {
        TcpSpec {
            ip: Ipv4Spec::default(),
            src_port: 40000,
            dst_port: 80,
            seq: 1000,
            ack: 2000,
            flags: ACK,
            window: 65535,
            urgent: 0,
            options: Vec::new(),
            payload: Vec::new(),
        }
    }
}

impl TcpSpec {
    /// Frame length `tcp_frame` will produce.
    pub fn frame_len(&self) -> usize {
        (ETH_HLEN + IPV4_HEADER_LEN + self.ip.options.len() + TCP_HEADER_LEN)
            .saturating_add(self.options.len() + self.payload.len())
            .max(MIN_FRAME)
    }

    /// Replaces the option bytes, shortening or lengthening the payload so
    /// that the frame keeps its length where possible.
    pub fn set_options_keep_len(&mut self, options: Vec<u8>) {
        let target = self.frame_len();
        self.options = options;
        let hdrs = ETH_HLEN + IPV4_HEADER_LEN + self.ip.options.len() + TCP_HEADER_LEN;
        let n = target.saturating_sub(hdrs + self.options.len());
        self.payload.resize(n, 0x5a);
    }
}

fn ip4(a: [u8; 4]) -> Ipv4Address {
    Ipv4Address::from(a)
}

/// Builds Ethernet + IPv4 around an L4 payload of `l4_len` bytes written by
/// `fill` (which gets the IPv4 payload slice), pads to 60 bytes, and fills
/// the IPv4 header checksum last.
fn build_ipv4(
    ip: &Ipv4Spec,
    proto: IpProtocol,
    l4_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    assert!(
        ip.options.len().is_multiple_of(4) && ip.options.len() <= MAX_IP_OPTS,
        "bad IPv4 options"
    );
    let hlen = IPV4_HEADER_LEN + ip.options.len();
    let total = hlen + l4_len;
    assert!(total <= 0xFFFF, "IPv4 total length {total} too large");
    let mut buf = vec![0u8; ETHERNET_HEADER_LEN + total];
    {
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.set_dst_addr(EthernetAddress(ip.dst_mac));
        eth.set_src_addr(EthernetAddress(ip.src_mac));
        eth.set_ethertype(EthernetProtocol::Ipv4);
        let payload = eth.payload_mut();
        // smoltcp has no IPv4 option setter: the options follow the fixed header.
        payload[IPV4_HEADER_LEN..hlen].copy_from_slice(&ip.options);
        let mut p = Ipv4Packet::new_unchecked(payload);
        p.set_version(4);
        p.set_header_len(hlen as u8);
        p.set_dscp(ip.tos >> 2);
        p.set_ecn(ip.tos & 3);
        p.set_total_len(total as u16);
        p.set_ident(ip.ident);
        p.clear_flags();
        p.set_dont_frag(ip.dont_frag);
        p.set_more_frags(ip.more_frags);
        p.set_frag_offset(ip.frag_offset * 8);
        p.set_hop_limit(ip.ttl);
        p.set_next_header(proto);
        p.set_src_addr(ip4(ip.src));
        p.set_dst_addr(ip4(ip.dst));
        fill(p.payload_mut());
        p.fill_checksum();
    }
    pad_frame(&mut buf, ip.pad_byte);
    buf
}

/// Pads a frame to the 60-byte minimum with `pad_byte`.
pub fn pad_frame(buf: &mut Vec<u8>, pad_byte: u8) {
    if buf.len() < MIN_FRAME {
        buf.resize(MIN_FRAME, pad_byte);
    }
}

/// A TCP/IPv4 frame with correct IPv4 and TCP checksums.
pub fn tcp_frame(s: &TcpSpec) -> Vec<u8> {
    assert!(
        s.options.len().is_multiple_of(4) && s.options.len() <= MAX_TCP_OPTS,
        "bad TCP options"
    );
    let seg_len = TCP_HEADER_LEN + s.options.len() + s.payload.len();
    build_ipv4(&s.ip, IpProtocol::Tcp, seg_len, |seg| {
        let mut t = TcpPacket::new_unchecked(seg);
        t.set_src_port(s.src_port);
        t.set_dst_port(s.dst_port);
        t.set_seq_number(smoltcp::wire::TcpSeqNumber(s.seq as i32));
        t.set_ack_number(smoltcp::wire::TcpSeqNumber(s.ack as i32));
        t.set_header_len((TCP_HEADER_LEN + s.options.len()) as u8);
        t.clear_flags();
        t.set_fin(s.flags & FIN != 0);
        t.set_syn(s.flags & SYN != 0);
        t.set_rst(s.flags & RST != 0);
        t.set_psh(s.flags & PSH != 0);
        t.set_ack(s.flags & ACK != 0);
        t.set_urg(s.flags & URG != 0);
        t.set_ece(s.flags & ECE != 0);
        t.set_cwr(s.flags & CWR != 0);
        t.set_window_len(s.window);
        t.set_urgent_at(s.urgent);
        t.options_mut().copy_from_slice(&s.options);
        t.payload_mut().copy_from_slice(&s.payload);
        t.fill_checksum(
            &IpAddress::Ipv4(ip4(s.ip.src)),
            &IpAddress::Ipv4(ip4(s.ip.dst)),
        );
    })
}

/// A UDP/IPv4 frame with correct checksums.
pub fn udp_frame(ip: &Ipv4Spec, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = UDP_HEADER_LEN + payload.len();
    build_ipv4(ip, IpProtocol::Udp, len, |seg| {
        let mut u = UdpPacket::new_unchecked(seg);
        u.set_src_port(sport);
        u.set_dst_port(dport);
        u.set_len(len as u16);
        u.payload_mut().copy_from_slice(payload);
        u.fill_checksum(&IpAddress::Ipv4(ip4(ip.src)), &IpAddress::Ipv4(ip4(ip.dst)));
    })
}

/// An ICMP echo request in IPv4.
pub fn icmp_frame(ip: &Ipv4Spec, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    build_ipv4(ip, IpProtocol::Icmp, 8 + payload.len(), |seg| {
        let mut p = Icmpv4Packet::new_unchecked(seg);
        p.set_msg_type(Icmpv4Message::EchoRequest);
        p.set_msg_code(0);
        p.set_echo_ident(ident);
        p.set_echo_seq_no(seq);
        p.data_mut().copy_from_slice(payload);
        p.fill_checksum();
    })
}

/// An IPv4 frame with protocol `proto` and an opaque payload (for
/// fragments: a non-first fragment's payload is not an L4 header).
pub fn ipv4_raw_frame(ip: &Ipv4Spec, proto: u8, payload: &[u8]) -> Vec<u8> {
    build_ipv4(ip, IpProtocol::from(proto), payload.len(), |p| {
        p.copy_from_slice(payload)
    })
}

/// An ARP request (42 bytes, padded to 60 with `pad_byte`).
pub fn arp_frame(src_mac: [u8; 6], src_ip: [u8; 4], target_ip: [u8; 4], pad_byte: u8) -> Vec<u8> {
    let mut buf = vec![0u8; ETHERNET_HEADER_LEN + 28];
    {
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.set_dst_addr(EthernetAddress::BROADCAST);
        eth.set_src_addr(EthernetAddress(src_mac));
        eth.set_ethertype(EthernetProtocol::Arp);
        let mut a = ArpPacket::new_unchecked(eth.payload_mut());
        a.set_hardware_type(ArpHardware::Ethernet);
        a.set_protocol_type(EthernetProtocol::Ipv4);
        a.set_hardware_len(6);
        a.set_protocol_len(4);
        a.set_operation(ArpOperation::Request);
        a.set_source_hardware_addr(&src_mac);
        a.set_source_protocol_addr(&src_ip);
        a.set_target_hardware_addr(&[0; 6]);
        a.set_target_protocol_addr(&target_ip);
    }
    pad_frame(&mut buf, pad_byte);
    buf
}

/// An IPv6 frame (next header TCP) with an opaque payload.
pub fn ipv6_frame(src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + payload.len()];
    {
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.set_dst_addr(EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        eth.set_src_addr(EthernetAddress([0x02, 0, 0, 0, 0, 0x02]));
        eth.set_ethertype(EthernetProtocol::Ipv6);
        let mut p = Ipv6Packet::new_unchecked(eth.payload_mut());
        p.set_version(6);
        p.set_traffic_class(0);
        p.set_flow_label(0x12345);
        p.set_payload_len(payload.len() as u16);
        p.set_next_header(IpProtocol::Tcp);
        p.set_hop_limit(64);
        p.set_src_addr(Ipv6Address::from(src));
        p.set_dst_addr(Ipv6Address::from(dst));
        p.payload_mut().copy_from_slice(payload);
    }
    pad_frame(&mut buf, 0);
    buf
}

// ------------------------------------------------------------------ random

/// A frame length in 60..=9018, biased towards small frames and the edges
/// of the 64-byte beat.
pub fn random_frame_len(rng: &mut impl Rng) -> usize {
    match rng.gen_range(0..10) {
        0..=3 => rng.gen_range(MIN_FRAME..=200),
        4 => {
            let beats = rng.gen_range(1..=MAX_FRAME / 64);
            (beats * 64 + rng.gen_range(0..3))
                .saturating_sub(1)
                .clamp(MIN_FRAME, MAX_FRAME)
        }
        5 => *[
            MIN_FRAME,
            64,
            65,
            127,
            128,
            1514,
            1518,
            MAX_FRAME - 1,
            MAX_FRAME,
        ]
        .choose(rng)
        .unwrap(),
        6..=7 => rng.gen_range(MIN_FRAME..=1518),
        _ => rng.gen_range(MIN_FRAME..=MAX_FRAME),
    }
}

/// Random bytes.
pub fn random_bytes(rng: &mut impl Rng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v[..]);
    v
}

/// A random subset of MSS, window scale, SACK-permitted, SACK (1-4 blocks)
/// and timestamps, in random order, with random NOPs between, fitting in
/// 40 bytes once padded.
pub fn random_options(rng: &mut impl Rng) -> Vec<TcpOpt> {
    let mut pool = vec![
        TcpOpt::Mss(rng.gen()),
        TcpOpt::WindowScale(rng.gen_range(0..=20)),
        TcpOpt::SackPermitted,
        TcpOpt::Timestamps {
            tsval: rng.gen(),
            tsecr: rng.gen(),
        },
        TcpOpt::Sack(
            (0..rng.gen_range(1..=4))
                .map(|_| (rng.gen(), rng.gen()))
                .collect(),
        ),
    ];
    pool.shuffle(rng);
    let mut out = Vec::new();
    let mut used = 0;
    for o in pool {
        if !rng.gen_bool(0.6) {
            continue;
        }
        let nops = if rng.gen_bool(0.3) {
            rng.gen_range(1..=2)
        } else {
            0
        };
        if (used + nops + o.len()).next_multiple_of(4) > MAX_TCP_OPTS {
            continue;
        }
        for _ in 0..nops {
            out.push(TcpOpt::Nop);
        }
        used += nops + o.len();
        out.push(o);
    }
    out
}

/// Random IPv4 header fields (unicast-ish addresses, sometimes IPv4
/// options, never a fragment).
pub fn random_ipv4(rng: &mut impl Rng) -> Ipv4Spec {
    let ip_opts = if rng.gen_bool(0.15) {
        // NOPs then a record-route-like option; content is opaque to the NIC.
        let n = rng.gen_range(1..=10) * 4;
        let mut v = vec![1u8; n];
        if n >= 8 {
            v[n - 7] = 7;
            v[n - 6] = 7;
            v[n - 5] = 4;
            v[n - 4..].copy_from_slice(&[0, 0, 0, 0]);
        }
        v
    } else {
        Vec::new()
    };
    Ipv4Spec {
        dst_mac: [0x02, 0, 0, 0, 0, 0x01],
        src_mac: [0x02, rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen()],
        src: rng.gen(),
        dst: rng.gen(),
        tos: rng.gen(),
        ident: rng.gen(),
        ttl: rng.gen_range(1..=255),
        dont_frag: rng.gen(),
        more_frags: false,
        frag_offset: 0,
        options: ip_opts,
        pad_byte: rng.gen(),
    }
}

/// A random well-formed TCP segment whose frame is `frame_len` bytes long
/// (or as short as its headers allow when `frame_len` is smaller; Ethernet
/// padding fills up to 60 bytes).
pub fn random_tcp(rng: &mut impl Rng, frame_len: usize) -> TcpSpec {
    let ip = random_ipv4(rng);
    let options = options_bytes(&random_options(rng));
    let hdrs = ETH_HLEN + IPV4_HEADER_LEN + ip.options.len() + TCP_HEADER_LEN + options.len();
    let payload_len = frame_len.saturating_sub(hdrs);
    TcpSpec {
        ip,
        src_port: rng.gen(),
        dst_port: rng.gen(),
        seq: rng.gen(),
        ack: rng.gen(),
        flags: rng.gen(),
        window: rng.gen(),
        urgent: rng.gen(),
        options,
        payload: random_bytes(rng, payload_len),
    }
}

// --------------------------------------------------------------- malformed

/// One malformed (or checksum/option-flagged) frame class of docs/semantics.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformed {
    Runt,
    Oversize,
    MacError,
    BadIpVersion,
    IhlBelow5,
    TlBelowIhl,
    /// IPv4 total length beyond the frame.
    Truncated,
    DataOffsetBelow5,
    DataOffsetBeyondSegment,
    /// TCP segment (TL - IHL*4) shorter than 20 bytes.
    SegmentTooShort,
    BadIpCsum,
    BadTcpCsum,
    /// An option with length byte 0.
    OptLenZero,
    /// An option with length byte 1.
    OptLenOne,
    /// An option whose length runs past the end of the option area.
    OptPastEnd,
    /// A multi-byte option kind in the last option byte.
    OptKindAtEnd,
}

/// What the datapath must do with a `Malformed` frame (queue enabled,
/// CTRL_DROP_BAD_CSUM clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Dropped with this counter.
    Drop(Counter),
    /// Delivered with this completion flag set (and, for checksums, the
    /// given counter incremented).
    Flag(u16, Option<Counter>),
}

impl Malformed {
    pub const ALL: [Malformed; 16] = [
        Malformed::Runt,
        Malformed::Oversize,
        Malformed::MacError,
        Malformed::BadIpVersion,
        Malformed::IhlBelow5,
        Malformed::TlBelowIhl,
        Malformed::Truncated,
        Malformed::DataOffsetBelow5,
        Malformed::DataOffsetBeyondSegment,
        Malformed::SegmentTooShort,
        Malformed::BadIpCsum,
        Malformed::BadTcpCsum,
        Malformed::OptLenZero,
        Malformed::OptLenOne,
        Malformed::OptPastEnd,
        Malformed::OptKindAtEnd,
    ];

    pub fn expect(self) -> Expect {
        use Malformed::*;
        match self {
            Runt => Expect::Drop(Counter::RxDropRunt),
            Oversize => Expect::Drop(Counter::RxDropOversize),
            MacError => Expect::Drop(Counter::RxDropMacError),
            BadIpVersion | IhlBelow5 | TlBelowIhl | Truncated => {
                Expect::Drop(Counter::RxDropMalformedL3)
            }
            DataOffsetBelow5 | DataOffsetBeyondSegment | SegmentTooShort => {
                Expect::Drop(Counter::RxDropMalformedL4)
            }
            BadIpCsum => Expect::Flag(CPL_IP_CSUM_BAD, Some(Counter::RxBadIpCsum)),
            BadTcpCsum => Expect::Flag(CPL_TCP_CSUM_BAD, Some(Counter::RxBadTcpCsum)),
            OptLenZero | OptLenOne | OptPastEnd | OptKindAtEnd => Expect::Flag(CPL_OPT_BAD, None),
        }
    }
}

/// A generated frame and the MAC error flag to present it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenFrame {
    pub bytes: Vec<u8>,
    pub mac_error: bool,
}

fn ip_hdr_len(f: &[u8]) -> usize {
    usize::from(f[ETH_HLEN] & 0xF) * 4
}

/// Rewrites IPv4 fields through smoltcp and refills the header checksum
/// (over the header length the edited header claims, clamped to the frame).
fn edit_ipv4(f: &mut [u8], edit: impl FnOnce(&mut Ipv4Packet<&mut [u8]>)) {
    let mut p = Ipv4Packet::new_unchecked(&mut f[ETH_HLEN..]);
    edit(&mut p);
    let hlen = (usize::from(p.header_len())).max(IPV4_HEADER_LEN);
    let ip = &mut f[ETH_HLEN..];
    let c = csum::ipv4_header_checksum(&ip[..hlen]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Option bytes ending in the given malformation, after a random valid
/// prefix.  Returns the bytes (multiple of 4, at most 40).
fn bad_options(rng: &mut impl Rng, class: Malformed) -> Vec<u8> {
    let kinds = [2u8, 3, 4, 5, 8, 30, 254];
    let kind = *kinds.choose(rng).unwrap();
    let mut prefix_opts = random_options(rng);
    // Leave room for the malformed tail.
    while prefix_opts.iter().map(TcpOpt::len).sum::<usize>() > 28 {
        prefix_opts.pop();
    }
    let mut v = Vec::new();
    for o in &prefix_opts {
        o.emit_into(&mut v);
    }
    match class {
        Malformed::OptLenZero | Malformed::OptLenOne => {
            v.push(kind);
            v.push(if class == Malformed::OptLenZero { 0 } else { 1 });
            let n = rng.gen_range(0..4);
            v.extend(random_bytes(rng, n));
            pad4(&mut v);
        }
        Malformed::OptPastEnd => {
            v.push(kind);
            let p = v.len() - 1;
            v.push(0);
            pad4(&mut v);
            if rng.gen_bool(0.5) && v.len() + 4 <= MAX_TCP_OPTS {
                v.extend([1, 1, 1, 1]);
            }
            let end = v.len();
            // len >= 2 and p + len > end.
            let len = (end - p + rng.gen_range(1..=8)).max(2);
            v[p + 1] = len as u8;
        }
        Malformed::OptKindAtEnd => {
            // NOPs up to one byte before a 4-byte boundary, then the kind.
            while v.len() % 4 != 3 {
                v.push(1);
            }
            v.push(kind);
        }
        _ => unreachable!(),
    }
    assert!(v.len() % 4 == 0 && v.len() <= MAX_TCP_OPTS);
    v
}

/// A frame of the given malformed class (`max_frame` is the ID_MAX_FRAME
/// value, for `Oversize`).  Everything but the named defect is well formed
/// (IPv4 header checksums are recomputed after an edit).
pub fn malformed(rng: &mut impl Rng, class: Malformed, max_frame: u16) -> GenFrame {
    use Malformed::*;
    let mut mac_error = false;
    fn small(rng: &mut impl Rng) -> TcpSpec {
        let len = rng.gen_range(MIN_FRAME..=120);
        let mut s = random_tcp(rng, len);
        s.ip.options.clear();
        s
    }
    let bytes = match class {
        Runt => {
            let base = match rng.gen_range(0..3) {
                0 => arp_frame(rng.gen(), rng.gen(), rng.gen(), 0),
                1 => tcp_frame(&random_tcp(rng, MIN_FRAME)),
                _ => random_bytes(rng, MIN_FRAME),
            };
            base[..rng.gen_range(0..MIN_FRAME)].to_vec()
        }
        Oversize => {
            let target = usize::from(max_frame) + rng.gen_range(1..=64);
            let mut f = tcp_frame(&random_tcp(rng, target.min(ETH_HLEN + 0xFFFF)));
            f.resize(target.max(f.len()), 0);
            f
        }
        MacError => {
            mac_error = true;
            tcp_frame(&{
                let n = random_frame_len(rng)
                    .min(usize::from(max_frame))
                    .max(MIN_FRAME);
                random_tcp(rng, n)
            })
        }
        BadIpVersion | IhlBelow5 | TlBelowIhl | Truncated => {
            let mut f = tcp_frame(&{
                let n = random_frame_len(rng)
                    .min(1600)
                    .min(usize::from(max_frame))
                    .max(MIN_FRAME);
                random_tcp(rng, n)
            });
            let flen = f.len();
            let hlen = ip_hdr_len(&f);
            match class {
                BadIpVersion => {
                    let v = *[0u8, 1, 5, 6, 7, 15].choose(rng).unwrap();
                    edit_ipv4(&mut f, |p| p.set_version(v));
                }
                IhlBelow5 => {
                    let ihl = rng.gen_range(0..5u8);
                    edit_ipv4(&mut f, |p| p.set_header_len(ihl * 4));
                }
                TlBelowIhl => {
                    let tl = rng.gen_range(0..hlen) as u16;
                    edit_ipv4(&mut f, |p| p.set_total_len(tl));
                }
                _ => {
                    let tl = (flen - ETH_HLEN + rng.gen_range(1..=100)).min(0xFFFF) as u16;
                    edit_ipv4(&mut f, |p| p.set_total_len(tl));
                }
            }
            f
        }
        DataOffsetBelow5 => {
            let mut f = tcp_frame(&small(rng));
            let doff = rng.gen_range(0..5u8);
            let hlen = ip_hdr_len(&f);
            let mut t = TcpPacket::new_unchecked(&mut f[ETH_HLEN + hlen..]);
            t.set_header_len(doff * 4);
            f
        }
        DataOffsetBeyondSegment => {
            let mut s = small(rng);
            // Keep P <= 56 so that some data offset <= 15 exceeds it.
            s.payload.truncate(rng.gen_range(0..=16));
            let room = (36 - s.payload.len()) / 4 * 4;
            let keep = rng.gen_range(0..=s.options.len().min(room) / 4) * 4;
            s.options.truncate(keep);
            let p = TCP_HEADER_LEN + s.options.len() + s.payload.len();
            let mut f = tcp_frame(&s);
            let doff = rng.gen_range(p / 4 + 1..=15) as u8;
            let hlen = ip_hdr_len(&f);
            let mut t = TcpPacket::new_unchecked(&mut f[ETH_HLEN + hlen..]);
            t.set_header_len(doff * 4);
            f
        }
        SegmentTooShort => {
            let mut f = tcp_frame(&small(rng));
            let hlen = ip_hdr_len(&f);
            let tl = (hlen + rng.gen_range(0..20)) as u16;
            edit_ipv4(&mut f, |p| p.set_total_len(tl));
            f
        }
        BadIpCsum => {
            let mut f = tcp_frame(&{
                let n = random_frame_len(rng)
                    .min(usize::from(max_frame))
                    .max(MIN_FRAME);
                random_tcp(rng, n)
            });
            let hlen = ip_hdr_len(&f);
            loop {
                let x: u16 = rng.gen_range(1..=0xFFFF);
                let mut g = f.clone();
                let mut p = Ipv4Packet::new_unchecked(&mut g[ETH_HLEN..]);
                let c = p.checksum() ^ x;
                p.set_checksum(c);
                if !csum::ipv4_header_ok(&g[ETH_HLEN..ETH_HLEN + hlen]) {
                    f = g;
                    break;
                }
            }
            f
        }
        BadTcpCsum => {
            let s = {
                let n = random_frame_len(rng)
                    .min(usize::from(max_frame))
                    .max(MIN_FRAME);
                random_tcp(rng, n)
            };
            let mut f = tcp_frame(&s);
            let hlen = ip_hdr_len(&f);
            let tl = ETH_HLEN + u16::from_be_bytes([f[ETH_HLEN + 2], f[ETH_HLEN + 3]]) as usize;
            loop {
                let x: u16 = rng.gen_range(1..=0xFFFF);
                let mut g = f.clone();
                let mut t = TcpPacket::new_unchecked(&mut g[ETH_HLEN + hlen..tl]);
                let c = t.checksum() ^ x;
                t.set_checksum(c);
                if !csum::tcp_checksum_ok(s.ip.src, s.ip.dst, &g[ETH_HLEN + hlen..tl]) {
                    f = g;
                    break;
                }
            }
            f
        }
        OptLenZero | OptLenOne | OptPastEnd | OptKindAtEnd => {
            let mut s = {
                let n = random_frame_len(rng)
                    .min(2000)
                    .min(usize::from(max_frame))
                    .max(MIN_FRAME);
                random_tcp(rng, n)
            };
            s.set_options_keep_len(bad_options(rng, class));
            tcp_frame(&s)
        }
    };
    GenFrame { bytes, mac_error }
}

/// Kinds of frames `random_frame` produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    Tcp,
    Udp,
    Icmp,
    Arp,
    Ipv6,
    /// IPv4 fragment (TCP or UDP, first or later).
    Fragment,
    Malformed(Malformed),
}

/// A random frame from a mix of well-formed TCP (about half), other
/// protocols, fragments and malformed classes.
pub fn random_frame(rng: &mut impl Rng, max_frame: u16) -> (FrameKind, GenFrame) {
    let len = random_frame_len(rng)
        .min(usize::from(max_frame))
        .max(MIN_FRAME);
    let ok = |bytes| GenFrame {
        bytes,
        mac_error: false,
    };
    match rng.gen_range(0..20) {
        0..=9 => (FrameKind::Tcp, ok(tcp_frame(&random_tcp(rng, len)))),
        10 => {
            let ip = random_ipv4(rng);
            let n =
                len.saturating_sub(ETH_HLEN + IPV4_HEADER_LEN + ip.options.len() + UDP_HEADER_LEN);
            let payload = random_bytes(rng, n);
            (
                FrameKind::Udp,
                ok(udp_frame(&ip, rng.gen(), rng.gen(), &payload)),
            )
        }
        11 => {
            let ip = random_ipv4(rng);
            let n = len.saturating_sub(ETH_HLEN + IPV4_HEADER_LEN + ip.options.len() + 8);
            let payload = random_bytes(rng, n);
            (
                FrameKind::Icmp,
                ok(icmp_frame(&ip, rng.gen(), rng.gen(), &payload)),
            )
        }
        12 => (
            FrameKind::Arp,
            ok(arp_frame(rng.gen(), rng.gen(), rng.gen(), rng.gen())),
        ),
        13 => {
            let payload = random_bytes(rng, len.saturating_sub(ETH_HLEN + IPV6_HEADER_LEN));
            (
                FrameKind::Ipv6,
                ok(ipv6_frame(rng.gen(), rng.gen(), &payload)),
            )
        }
        14..=15 => (FrameKind::Fragment, ok(random_fragment(rng, len))),
        _ => {
            let class = *Malformed::ALL.choose(rng).unwrap();
            (
                FrameKind::Malformed(class),
                malformed(rng, class, max_frame),
            )
        }
    }
}

/// A random IPv4 fragment (TCP or UDP, first fragment with MF or a later one).
pub fn random_fragment(rng: &mut impl Rng, frame_len: usize) -> Vec<u8> {
    let mut ip = random_ipv4(rng);
    match rng.gen_range(0..3) {
        0 => ip.more_frags = true,
        1 => ip.frag_offset = rng.gen_range(1..0x2000),
        _ => {
            ip.more_frags = true;
            ip.frag_offset = rng.gen_range(1..0x2000);
        }
    }
    ip.dont_frag = false;
    if ip.frag_offset == 0 && rng.gen_bool(0.7) {
        // First fragment: a real TCP header at its start.
        let mut s = random_tcp(rng, frame_len);
        s.ip = ip;
        tcp_frame(&s)
    } else {
        let proto = if rng.gen_bool(0.7) { 6 } else { 17 };
        let n = frame_len.saturating_sub(ETH_HLEN + IPV4_HEADER_LEN + ip.options.len());
        ipv4_raw_frame(&ip, proto, &random_bytes(rng, n))
    }
}

/// Whether a frame is an IPv4 frame (ethertype only).
pub fn is_ipv4(f: &[u8]) -> bool {
    f.len() >= ETH_HLEN && u16::from_be_bytes([f[12], f[13]]) == ETHERTYPE_IPV4
}
