//! TCP headers written and read directly, field by field (RFC 9293 3.1),
//! for the per-segment path.
//!
//! The stack used to build every segment through smoltcp's `TcpRepr`
//! (a representation assembled, its length computed, then emitted through
//! per-field setters and per-option calls) and read every segment through
//! `TcpPacket`'s checked accessors: several hundred instructions a segment
//! for about 40 bytes of header (docs/tcp.md, "Per-transaction work").
//! These functions write the same bytes (the tests compare them with
//! smoltcp's output for arbitrary segments) and read the same fields.
//!
//! Option layout, as before: MSS, window scale and SACK-permitted on a SYN
//! (RFC 9293 3.2, RFC 7323 2.2, RFC 2018 2), else SACK blocks when the
//! segment carries an ACK (at most three, RFC 2018 3), then timestamps
//! (RFC 7323 3.2), the rest of the 32-bit-aligned option space filled with
//! End of Option List (kind 0, RFC 9293 3.2).
use super::conn::Segment;
use std::net::Ipv4Addr;

/// Fixed TCP header length.
pub const HEADER: usize = 20;

/// Largest TCP header (data offset 15).
pub const MAX_HEADER: usize = 60;

/// SACK blocks sent at most (with timestamps, 3 fit in the 40 option
/// bytes: RFC 2018 3).
const MAX_SACK: usize = 3;

/// TCP header flags (RFC 9293 3.1).
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// Header length (options and padding included) of `seg` as sent.
pub fn header_len(seg: &Segment) -> usize {
    let mut n = HEADER;
    if seg.syn {
        n += if seg.syn_opts.mss.is_some() { 4 } else { 0 }
            + if seg.syn_opts.wscale.is_some() { 3 } else { 0 }
            + if seg.syn_opts.sack_permitted { 2 } else { 0 };
    }
    if seg.ts.is_some() {
        n += 10;
    }
    let blocks = seg.sack.len().min(MAX_SACK);
    if blocks > 0 {
        // Counted even where not sent (a SYN with SACK-permitted, a
        // segment without ACK): padding then, as smoltcp laid it out.
        n += 2 + 8 * blocks;
    }
    (n + 3) & !3
}

/// Bytes of the TCP packet for `seg` (header, options, payload).
pub fn segment_len(seg: &Segment) -> usize {
    header_len(seg) + seg.payload.len()
}

/// Writes the TCP packet for `seg` from `sport` to `dport` into `buf`
/// (exactly `hlen + payload` bytes, `hlen` from [`header_len`]), with its
/// checksum over the pseudo-header of `src` and `dst` unless `offload`
/// (then the checksum field is zero and the NIC fills it).
#[allow(clippy::too_many_arguments)]
pub fn write(
    buf: &mut [u8],
    hlen: usize,
    sport: u16,
    dport: u16,
    seg: &Segment,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    offload: bool,
) {
    debug_assert!(hlen <= MAX_HEADER && hlen == header_len(seg));
    let (h, payload) = buf.split_at_mut(hlen);
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&seg.seq.0.to_be_bytes());
    h[8..12].copy_from_slice(&seg.ack.map_or(0, |a| a.0).to_be_bytes());
    h[12] = ((hlen / 4) as u8) << 4;
    // One control flag, as the segment's kind (SYN, RST, FIN in that
    // order), PSH on data otherwise (RFC 9293 3.9.1's push at the end of
    // every write: the library sends what it has).
    let mut flags = if seg.syn {
        SYN
    } else if seg.rst {
        RST
    } else if seg.fin {
        FIN
    } else if !seg.payload.is_empty() {
        PSH
    } else {
        0
    };
    if seg.ack.is_some() {
        flags |= ACK;
    }
    h[13] = flags;
    h[14..16].copy_from_slice(&seg.window.to_be_bytes());
    // Checksum (filled below or by the NIC) and urgent pointer.
    h[16..20].fill(0);
    let o = &mut h[HEADER..];
    o.fill(0);
    let mut i = 0;
    if seg.syn {
        if let Some(mss) = seg.syn_opts.mss {
            o[i] = 2;
            o[i + 1] = 4;
            o[i + 2..i + 4].copy_from_slice(&mss.to_be_bytes());
            i += 4;
        }
        if let Some(ws) = seg.syn_opts.wscale {
            o[i] = 3;
            o[i + 1] = 3;
            o[i + 2] = ws;
            i += 3;
        }
    }
    let blocks = seg.sack.len().min(MAX_SACK);
    if seg.syn && seg.syn_opts.sack_permitted {
        o[i] = 4;
        o[i + 1] = 2;
        i += 2;
    } else if seg.ack.is_some() && blocks > 0 {
        o[i] = 5;
        o[i + 1] = (2 + 8 * blocks) as u8;
        for (k, (a, b)) in seg.sack[..blocks].iter().enumerate() {
            let p = i + 2 + 8 * k;
            o[p..p + 4].copy_from_slice(&a.0.to_be_bytes());
            o[p + 4..p + 8].copy_from_slice(&b.0.to_be_bytes());
        }
        i += 2 + 8 * blocks;
    }
    if let Some((val, ecr)) = seg.ts {
        o[i] = 8;
        o[i + 1] = 10;
        o[i + 2..i + 6].copy_from_slice(&val.to_be_bytes());
        o[i + 6..i + 10].copy_from_slice(&ecr.to_be_bytes());
    }
    payload[..seg.payload.len()].copy_from_slice(&seg.payload);
    if !offload {
        use smoltcp::wire::{IpAddress, TcpPacket};
        TcpPacket::new_unchecked(buf).fill_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(dst));
    }
}

/// The fixed fields of a received TCP header (RFC 9293 3.1), read after
/// [`check`] accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// Header length in bytes (data offset times four).
    pub len: usize,
    pub flags: u8,
    pub window: u16,
}

/// The header of the TCP packet `tcp`, or `None` when it is shorter than
/// the fixed header or its data offset is below 5 or past the end (the
/// checks of smoltcp's `TcpPacket::new_checked`).
pub fn check(tcp: &[u8]) -> Option<Header> {
    let h: &[u8; HEADER] = tcp.get(..HEADER)?.try_into().ok()?;
    let len = (h[12] >> 4) as usize * 4;
    if len < HEADER || len > tcp.len() {
        return None;
    }
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(Header {
        src_port: be16(0),
        dst_port: be16(2),
        seq: be32(4),
        ack: be32(8),
        len,
        flags: h[13],
        window: be16(14),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::options::SynOptions;
    use crate::tcp::seq::Seq;
    use proptest::prelude::*;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr,
    };

    /// The smoltcp representation the stack used to emit (the reference).
    fn smoltcp_bytes(
        sport: u16,
        dport: u16,
        seg: &Segment,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        offload: bool,
    ) -> Vec<u8> {
        let control = if seg.syn {
            TcpControl::Syn
        } else if seg.rst {
            TcpControl::Rst
        } else if seg.fin {
            TcpControl::Fin
        } else if !seg.payload.is_empty() {
            TcpControl::Psh
        } else {
            TcpControl::None
        };
        let mut sack = [None; 3];
        for (i, (a, b)) in seg.sack.iter().take(3).enumerate() {
            sack[i] = Some((a.0, b.0));
        }
        let r = TcpRepr {
            src_port: sport,
            dst_port: dport,
            control,
            seq_number: TcpSeqNumber(seg.seq.0 as i32),
            ack_number: seg.ack.map(|a| TcpSeqNumber(a.0 as i32)),
            window_len: seg.window,
            window_scale: if seg.syn { seg.syn_opts.wscale } else { None },
            max_seg_size: if seg.syn { seg.syn_opts.mss } else { None },
            sack_permitted: seg.syn && seg.syn_opts.sack_permitted,
            sack_ranges: sack,
            timestamp: seg.ts.map(|(v, e)| TcpTimestampRepr::new(v, e)),
            payload: &seg.payload,
        };
        let mut caps = ChecksumCapabilities::default();
        if offload {
            caps.tcp = smoltcp::phy::Checksum::None;
        }
        // Junk underneath: every byte must be written.
        let mut v = vec![0xa5; r.buffer_len()];
        r.emit(
            &mut TcpPacket::new_unchecked(&mut v[..]),
            &IpAddress::Ipv4(src),
            &IpAddress::Ipv4(dst),
            &caps,
        );
        v
    }

    fn ours(
        sport: u16,
        dport: u16,
        seg: &Segment,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        offload: bool,
    ) -> Vec<u8> {
        let hlen = header_len(seg);
        let mut v = vec![0x5a; segment_len(seg)];
        write(&mut v, hlen, sport, dport, seg, src, dst, offload);
        v
    }

    prop_compose! {
        fn segment()(
            seq in any::<u32>(), ack in proptest::option::of(any::<u32>()),
            kind in 0u8..5, window in any::<u16>(),
            mss in proptest::option::of(any::<u16>()), ws in proptest::option::of(0u8..15),
            sp in any::<bool>(), tsval in proptest::option::of(any::<u32>()),
            sack in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..5),
            ts in proptest::option::of((any::<u32>(), any::<u32>())),
            payload in proptest::collection::vec(any::<u8>(), 0..80),
        ) -> Segment {
            Segment {
                seq: Seq(seq),
                ack: ack.map(Seq),
                syn: kind == 1,
                fin: kind == 2 || kind == 4,
                rst: kind == 3,
                window,
                syn_opts: SynOptions { mss, wscale: ws, sack_permitted: sp, tsval },
                sack: sack.into_iter().map(|(a, b)| (Seq(a), Seq(b))).collect(),
                ts,
                payload,
            }
        }
    }

    proptest! {
        /// Every segment is written byte for byte as smoltcp's `TcpRepr`
        /// wrote it, with and without the checksum.
        #[test]
        fn writes_what_smoltcp_wrote(seg in segment(), sport in 1u16.., dport in 1u16..,
                                     src in any::<u32>(), dst in any::<u32>(), offload in any::<bool>()) {
            // Headers the stack sends fit the 60-byte maximum (a SYN carries
            // no SACK blocks, data segments keep only the blocks that fit).
            prop_assume!(header_len(&seg) <= MAX_HEADER);
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            let a = ours(sport, dport, &seg, src, dst, offload);
            let b = smoltcp_bytes(sport, dport, &seg, src, dst, offload);
            prop_assert_eq!(a, b);
        }

        /// The header reader accepts what smoltcp's checked packet accepts
        /// and reads the same fields.
        #[test]
        fn reads_what_smoltcp_reads(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let ours = check(&bytes);
            match TcpPacket::new_checked(&bytes[..]) {
                Err(_) => prop_assert!(ours.is_none()),
                Ok(p) => {
                    let h = ours.unwrap();
                    prop_assert_eq!(h.src_port, p.src_port());
                    prop_assert_eq!(h.dst_port, p.dst_port());
                    prop_assert_eq!(h.seq, p.seq_number().0 as u32);
                    prop_assert_eq!(h.ack, p.ack_number().0 as u32);
                    prop_assert_eq!(h.len, p.header_len() as usize);
                    prop_assert_eq!(h.window, p.window_len());
                    prop_assert_eq!(h.flags & SYN != 0, p.syn());
                    prop_assert_eq!(h.flags & FIN != 0, p.fin());
                    prop_assert_eq!(h.flags & RST != 0, p.rst());
                    prop_assert_eq!(h.flags & ACK != 0, p.ack());
                    prop_assert_eq!(&bytes[HEADER..h.len], p.options());
                    prop_assert_eq!(&bytes[h.len..], p.payload());
                }
            }
        }
    }

    /// A data segment with timestamps and SACK blocks, and a SYN-ACK with
    /// every option, byte for byte (a fixed case beside the random ones).
    #[test]
    fn fixed_segments_match() {
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        let data = Segment {
            seq: Seq(1000),
            ack: Some(Seq(2000)),
            window: 512,
            sack: vec![(Seq(3000), Seq(3100)), (Seq(4000), Seq(4100))],
            ts: Some((7, 9)),
            payload: vec![0x52; 64],
            ..Segment::default()
        };
        let synack = Segment {
            seq: Seq(u32::MAX),
            ack: Some(Seq(1)),
            syn: true,
            window: 65535,
            syn_opts: SynOptions {
                mss: Some(1460),
                wscale: Some(7),
                sack_permitted: true,
                tsval: Some(5),
            },
            ts: Some((5, 3)),
            ..Segment::default()
        };
        for seg in [data, synack] {
            for offload in [false, true] {
                assert_eq!(
                    ours(7, 50000, &seg, src, dst, offload),
                    smoltcp_bytes(7, 50000, &seg, src, dst, offload)
                );
            }
        }
    }
}
