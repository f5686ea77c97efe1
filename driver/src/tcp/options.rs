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
