//! Reference parser: a frame into header metadata and a validity class,
//! following the RX checks of docs/semantics.md in their normative order.

use crate::csum;

/// Ethernet header length (no VLAN handling: a tagged frame is non-IPv4).
pub const ETH_HLEN: usize = 14;
/// Ethertype of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;

/// How the RX datapath classifies a frame (the first check that hits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// The MAC flagged the frame (`rx_tuser`).
    MacError,
    /// Shorter than 60 bytes.
    Runt,
    /// Longer than the max frame register.
    Oversize,
    /// IPv4 with a malformed network header.
    MalformedL3,
    /// IPv4 TCP (not a fragment) with a malformed TCP header.
    MalformedL4,
    /// Not IPv4 (ARP, IPv6, VLAN-tagged, ...).
    NonIpv4,
    /// IPv4 fragment (any protocol): no L4 processing.
    Fragment,
    /// IPv4, not a fragment, protocol other than TCP.
    Ipv4Other,
    /// IPv4 TCP, not a fragment, header well formed (checksums and options
    /// may still be bad).
    Tcp,
}

/// Parsed IPv4 header fields (only for a well-formed IPv4 header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Info {
    pub version: u8,
    /// Header length in 32-bit words.
    pub ihl: u8,
    pub tos: u8,
    pub total_len: u16,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    /// The header checksum verifies.
    pub csum_ok: bool,
}

impl Ipv4Info {
    /// MF set or a non-zero offset.
    pub fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }
    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl) * 4
    }
}

/// Result of the TCP option walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOpts {
    pub mss: Option<u16>,
    /// Raw window scale value as carried (unclamped).
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// SACK blocks of the last valid SACK option (0 if none).
    pub sack_blocks: u8,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// The walk hit a malformed option (CPL_OPT_BAD).
    pub bad: bool,
}

impl TcpOpts {
    /// Window shift as the completion reports it: min(value, 14).
    pub fn wscale_shift(&self) -> Option<u8> {
        self.wscale.map(|v| v.min(14))
    }
}

/// Parsed TCP header fields (only for a well-formed TCP header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// Data offset in 32-bit words.
    pub data_offset: u8,
    /// Byte 13 of the header (CWR ECE URG ACK PSH RST SYN FIN).
    pub flags: u8,
    pub window: u16,
    pub checksum: u16,
    pub urgent: u16,
    /// Segment length P = TL - IHL*4.
    pub seg_len: usize,
    /// The TCP checksum verifies.
    pub csum_ok: bool,
    pub opts: TcpOpts,
}

/// Everything the RX datapath learns about a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub len: usize,
    pub class: Class,
    /// Bytes 12..14 when the frame got as far as the ethertype check.
    pub ethertype: Option<u16>,
    /// Present for classes Fragment, Ipv4Other, Tcp and MalformedL4.
    pub ipv4: Option<Ipv4Info>,
    /// Present for class Tcp.
    pub tcp: Option<TcpInfo>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The option walk of docs/semantics.md over the option bytes
/// (`DO*4 - 20` bytes following the fixed TCP header).
pub fn walk_tcp_options(opts: &[u8]) -> TcpOpts {
    let mut r = TcpOpts::default();
    let end = opts.len();
    let mut p = 0usize;
    loop {
        if p >= end {
            break;
        }
        match opts[p] {
            0 => break,
            1 => p += 1,
            kind => {
                if p + 1 >= end {
                    r.bad = true;
                    break;
                }
                let len = usize::from(opts[p + 1]);
                if len < 2 || p + len > end {
                    r.bad = true;
                    break;
                }
                let v = &opts[p + 2..p + len];
                match (kind, len) {
                    (2, 4) => r.mss = Some(be16(v, 0)),
                    (3, 3) => r.wscale = Some(v[0]),
                    (4, 2) => r.sack_perm = true,
                    (5, 10 | 18 | 26 | 34) => r.sack_blocks = ((len - 2) / 8) as u8,
                    (8, 10) => r.timestamps = Some((be32(v, 0), be32(v, 4))),
                    _ => {}
                }
                p += len;
            }
        }
    }
    r
}

/// Parses `frame` as the RX datapath does.  `max_frame` is the ID_MAX_FRAME
/// register value.  Never panics.
pub fn parse(frame: &[u8], mac_error: bool, max_frame: u16) -> Parsed {
    let len = frame.len();
    let mut out = Parsed {
        len,
        class: Class::NonIpv4,
        ethertype: None,
        ipv4: None,
        tcp: None,
    };
    if mac_error {
        out.class = Class::MacError;
        return out;
    }
    if len < toe_contract::MIN_FRAME {
        out.class = Class::Runt;
        return out;
    }
    if len > usize::from(max_frame) {
        out.class = Class::Oversize;
        return out;
    }
    let ethertype = be16(frame, 12);
    out.ethertype = Some(ethertype);
    if ethertype != ETHERTYPE_IPV4 {
        out.class = Class::NonIpv4;
        return out;
    }
    let ip = &frame[ETH_HLEN..];
    let version = ip[0] >> 4;
    let ihl = ip[0] & 0xF;
    let tl = usize::from(be16(ip, 2));
    let hlen = usize::from(ihl) * 4;
    if version != 4 || ihl < 5 || tl < hlen || ETH_HLEN + tl > len {
        out.class = Class::MalformedL3;
        return out;
    }
    let flags_off = be16(ip, 6);
    let info = Ipv4Info {
        version,
        ihl,
        tos: ip[1],
        total_len: tl as u16,
        ident: be16(ip, 4),
        dont_frag: flags_off & 0x4000 != 0,
        more_frags: flags_off & 0x2000 != 0,
        frag_offset: flags_off & 0x1FFF,
        ttl: ip[8],
        protocol: ip[9],
        checksum: be16(ip, 10),
        src: [ip[12], ip[13], ip[14], ip[15]],
        dst: [ip[16], ip[17], ip[18], ip[19]],
        csum_ok: csum::ipv4_header_ok(&ip[..hlen]),
    };
    out.ipv4 = Some(info);
    if info.is_fragment() {
        out.class = Class::Fragment;
        return out;
    }
    if info.protocol != PROTO_TCP {
        out.class = Class::Ipv4Other;
        return out;
    }
    let seg = &ip[hlen..tl];
    let p = seg.len();
    if p < 20 {
        out.class = Class::MalformedL4;
        return out;
    }
    let data_offset = seg[12] >> 4;
    let dlen = usize::from(data_offset) * 4;
    if data_offset < 5 || dlen > p {
        out.class = Class::MalformedL4;
        return out;
    }
    out.tcp = Some(TcpInfo {
        src_port: be16(seg, 0),
        dst_port: be16(seg, 2),
        seq: be32(seg, 4),
        ack: be32(seg, 8),
        data_offset,
        flags: seg[13],
        window: be16(seg, 14),
        checksum: be16(seg, 16),
        urgent: be16(seg, 18),
        seg_len: p,
        csum_ok: csum::tcp_checksum_ok(info.src, info.dst, seg),
        opts: walk_tcp_options(&seg[20..dlen]),
    });
    out.class = Class::Tcp;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_walk_basic() {
        let o = walk_tcp_options(&[
            2, 4, 0x05, 0xb4, 1, 3, 3, 20, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
        ]);
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(20));
        assert_eq!(o.wscale_shift(), Some(14));
        assert!(o.sack_perm);
        assert_eq!(o.timestamps, Some((1, 2)));
        assert!(!o.bad);
    }

    #[test]
    fn option_walk_bad_and_partial() {
        // Kind in the last byte.
        let o = walk_tcp_options(&[2, 4, 0, 100, 1, 1, 1, 8]);
        assert_eq!((o.mss, o.bad), (Some(100), true));
        // Length 0 and 1.
        assert!(walk_tcp_options(&[3, 0, 0, 0]).bad);
        assert!(walk_tcp_options(&[3, 1, 0, 0]).bad);
        // Running past the end.
        let o = walk_tcp_options(&[4, 2, 8, 10, 0, 0]);
        assert!(o.sack_perm && o.bad);
        // End of list stops before garbage.
        assert!(!walk_tcp_options(&[0, 0xff, 0xff, 0xff]).bad);
        // Unknown kinds and known kinds of the wrong length are skipped.
        let o = walk_tcp_options(&[2, 5, 1, 2, 3, 30, 3, 9, 5, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(o, TcpOpts::default());
    }

    #[test]
    fn later_option_overwrites() {
        let o = walk_tcp_options(&[
            2, 4, 0, 1, 2, 4, 0, 2, 5, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 10,
            0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(o.mss, Some(2));
        assert_eq!(o.sack_blocks, 1);
    }

    #[test]
    fn never_panics_on_short_inputs() {
        for n in 0..80 {
            let f = vec![0x45u8; n];
            let _ = parse(&f, false, 9018);
            let mut g = vec![0u8; n];
            if n > 14 {
                g[12] = 8;
                g[14] = 0x4f;
            }
            let _ = parse(&g, false, 9018);
        }
    }
}
