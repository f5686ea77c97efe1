//! Option negotiation at connection setup: MSS (RFC 9293 3.7.1, RFC 6691),
//! window scaling and timestamps (RFC 7323), SACK-permitted (RFC 2018).
//! Each side's SYN states what it offers; an option is in use only when
//! both SYNs carried it.

/// What one side put in its SYN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SynOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// TSval of the SYN, when it carried a timestamp option.
    pub tsval: Option<u32>,
}

/// What the connection uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Largest segment we may send (the peer's MSS, or 536 when it sent
    /// none, RFC 9293 3.7.1), never above our own send limit.
    pub send_mss: u16,
    /// Shift applied to the windows the peer advertises, and to ours (0
    /// both when window scaling is off, RFC 7323 2.2).
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub sack: bool,
    pub timestamps: bool,
    /// The peer's last TSval (TS.Recent, RFC 7323 4.3), when timestamps
    /// are in use.
    pub ts_recent: Option<u32>,
}

/// RFC 9293 3.7.1: without an MSS option, assume 536 (IPv4).
pub const DEFAULT_MSS: u16 = 536;
/// RFC 7323 2.3: shifts above 14 are treated as 14.
pub const MAX_WSCALE: u8 = 14;

impl Negotiated {
    /// The outcome given our SYN (`ours`), the peer's (`theirs`), and the
    /// largest segment our path can carry (`our_limit`, e.g. MTU - 40).
    pub fn new(ours: &SynOptions, theirs: &SynOptions, our_limit: u16) -> Negotiated {
        let scaling = ours.wscale.is_some() && theirs.wscale.is_some();
        let timestamps = ours.tsval.is_some() && theirs.tsval.is_some();
        Negotiated {
            send_mss: theirs.mss.unwrap_or(DEFAULT_MSS).min(our_limit).max(1),
            snd_wscale: if scaling {
                theirs.wscale.unwrap().min(MAX_WSCALE)
            } else {
                0
            },
            rcv_wscale: if scaling {
                ours.wscale.unwrap().min(MAX_WSCALE)
            } else {
                0
            },
            sack: ours.sack_permitted && theirs.sack_permitted,
            timestamps,
            ts_recent: if timestamps { theirs.tsval } else { None },
        }
    }

    /// Bytes of the TCP options every data segment carries (timestamps:
    /// 10 bytes padded to 12), to subtract from the MSS when cutting
    /// segments (RFC 6691).
    pub fn option_overhead(&self) -> u16 {
        if self.timestamps {
            12
        } else {
            0
        }
    }

    /// Payload bytes per segment.
    pub fn payload_per_segment(&self) -> u16 {
        self.send_mss.saturating_sub(self.option_overhead()).max(1)
    }
}

/// The options of one segment as [`parse`] reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// MSS, window scale, SACK-permitted, TSval (taken from any segment;
    /// the connection looks at them only in a SYN).
    pub syn: SynOptions,
    /// SACK blocks (RFC 2018), at most 4.
    pub sack: Vec<(super::seq::Seq, super::seq::Seq)>,
    /// (TSval, TSecr), RFC 7323.
    pub ts: Option<(u32, u32)>,
    /// Something was wrong: an option of the wrong length (skipped), or a
    /// length below 2 or past the end of the header (parsing stopped
    /// there).
    pub malformed: bool,
}

/// Reads TCP options (RFC 9293 3.1, 3.2) the way Linux's
/// `tcp_parse_options` does, so that a SYN with a broken option is
/// answered rather than dropped: end-of-list stops, NOP is skipped; an
/// option whose length is below 2 or runs past the end of the header
/// stops the parsing, keeping what came before; a known option of the
/// wrong length (MSS not 4 bytes, RFC 9293 3.2; window scale not 3,
/// timestamps not 10, RFC 7323; SACK-permitted not 2, SACK not 2 + 8n,
/// RFC 2018) is skipped; an MSS of 0 is ignored (as Linux does: the RFC
/// 9293 default applies); unknown kinds are skipped (RFC 9293 3.1, "must
/// be prepared to handle an illegal option length").
pub fn parse(mut b: &[u8]) -> Parsed {
    use super::seq::Seq;
    let mut p = Parsed::default();
    let be32 = |x: &[u8]| u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
    while let Some(&kind) = b.first() {
        match kind {
            0 => break,
            1 => {
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(1) else {
            p.malformed = true;
            break;
        };
        let len = len as usize;
        if len < 2 || len > b.len() {
            p.malformed = true;
            break;
        }
        let data = &b[2..len];
        match (kind, len) {
            (2, 4) => {
                let mss = u16::from_be_bytes([data[0], data[1]]);
                if mss != 0 {
                    p.syn.mss = Some(mss);
                }
            }
            (3, 3) => p.syn.wscale = Some(data[0].min(MAX_WSCALE)),
            (4, 2) => p.syn.sack_permitted = true,
            (5, n) if n >= 10 && (n - 2) % 8 == 0 => {
                p.sack = data
                    .chunks_exact(8)
                    .take(4)
                    .map(|c| (Seq(be32(&c[..4])), Seq(be32(&c[4..]))))
                    .collect();
            }
            (8, 10) => {
                p.ts = Some((be32(&data[..4]), be32(&data[4..])));
                p.syn.tsval = Some(be32(&data[..4]));
            }
            (2..=5 | 8, _) => p.malformed = true,
            _ => {}
        }
        b = &b[len..];
    }
    p
}

/// The window shift to offer for a receive buffer of `bytes`: the smallest
/// shift that lets the 16-bit window field cover it (RFC 7323 2.3).
pub fn wscale_for(bytes: u32) -> u8 {
    let mut s = 0;
    while s < MAX_WSCALE && (bytes >> s) > 0xffff {
        s += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(mss: u16, ws: u8) -> SynOptions {
        SynOptions {
            mss: Some(mss),
            wscale: Some(ws),
            sack_permitted: true,
            tsval: Some(77),
        }
    }

    #[test]
    fn everything_offered_by_both() {
        let n = Negotiated::new(&full(1460, 7), &full(1400, 9), 1460);
        assert_eq!(
            n,
            Negotiated {
                send_mss: 1400,
                snd_wscale: 9,
                rcv_wscale: 7,
                sack: true,
                timestamps: true,
                ts_recent: Some(77),
            }
        );
        assert_eq!(n.payload_per_segment(), 1388);
    }

    #[test]
    fn options_only_when_both_sides_offer_them() {
        let bare = SynOptions::default();
        let n = Negotiated::new(&full(1460, 7), &bare, 1460);
        assert_eq!(
            (n.send_mss, n.snd_wscale, n.rcv_wscale),
            (DEFAULT_MSS, 0, 0)
        );
        assert!(!n.sack && !n.timestamps && n.ts_recent.is_none());
        // Window scaling needs both: our offer alone scales nothing.
        let only_ts = SynOptions {
            tsval: Some(5),
            ..SynOptions::default()
        };
        let n = Negotiated::new(&full(1460, 7), &only_ts, 1460);
        assert_eq!((n.snd_wscale, n.rcv_wscale, n.timestamps), (0, 0, true));
    }

    #[test]
    fn options_are_parsed_as_linux_parses_them() {
        let all = [
            2, 4, 5, 180, 1, 3, 3, 9, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8, 1, 1,
        ];
        let p = parse(&all);
        assert_eq!(
            p.syn,
            SynOptions {
                mss: Some(1460),
                wscale: Some(9),
                sack_permitted: true,
                tsval: Some(7),
            }
        );
        assert_eq!((p.ts, p.malformed), (Some((7, 8)), false));
        // Wrong MSS length: skipped, the rest is read.
        let p = parse(&[2, 5, 1, 2, 3, 3, 3, 9, 0]);
        assert_eq!(
            (p.syn.mss, p.syn.wscale, p.malformed),
            (None, Some(9), true)
        );
        // A length past the end: stop, keep what came before.
        let p = parse(&[4, 2, 2, 10, 5, 180, 0, 0]);
        assert!(p.syn.sack_permitted && p.syn.mss.is_none() && p.malformed);
        // Length 0 or 1, a kind without its length byte.
        assert!(parse(&[8, 0, 2, 4, 5, 180]).malformed);
        assert!(parse(&[1, 1, 1, 2]).malformed);
        // A window scale above 14 counts as 14 (RFC 7323 2.3); MSS 0 is
        // no MSS; SACK blocks.
        let p = parse(&[3, 3, 15, 2, 4, 0, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!((p.syn.wscale, p.syn.mss), (Some(14), None));
        assert_eq!(
            p.sack,
            vec![(super::super::seq::Seq(1), super::super::seq::Seq(2))]
        );
    }

    #[test]
    fn limits_are_enforced() {
        // A peer MSS above our path limit, and a shift above 14.
        let n = Negotiated::new(&full(1460, 7), &full(9000, 15), 1460);
        assert_eq!((n.send_mss, n.snd_wscale), (1460, 14));
        assert_eq!(wscale_for(65_535), 0);
        assert_eq!(wscale_for(65_536), 1);
        assert_eq!(wscale_for(4 << 20), 7);
        assert_eq!(wscale_for(u32::MAX), 14);
    }
}
