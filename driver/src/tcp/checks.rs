//! Segment checks of RFC 9293 section 3.10.7.4 for synchronized states,
//! hardened as RFC 5961 asks.  Pure functions: the connection applies
//! their verdicts.
use super::seq::Seq;

/// RFC 9293 3.10.7.4, "first check sequence number": whether any part of a
/// segment of `seg_len` octets (SYN and FIN count) starting at `seg_seq`
/// falls in the receive window.
pub fn acceptable(seg_seq: Seq, seg_len: u32, rcv_nxt: Seq, rcv_wnd: u32) -> bool {
    match (seg_len, rcv_wnd) {
        (0, 0) => seg_seq == rcv_nxt,
        (0, _) => seg_seq.in_window(rcv_nxt, rcv_wnd),
        (_, 0) => false,
        (_, _) => {
            seg_seq.in_window(rcv_nxt, rcv_wnd)
                || (seg_seq + (seg_len - 1)).in_window(rcv_nxt, rcv_wnd)
        }
    }
}

/// What to do with a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go on processing it.
    Accept,
    /// Drop it and send an ACK (RFC 9293 for unacceptable segments; RFC
    /// 5961's challenge ACK for suspicious RST and SYN).
    DropAndAck,
    /// Drop it silently.
    Drop,
    /// RST accepted: the connection is reset.
    Reset,
}

/// RFC 5961 section 3.2: an RST is honoured only when its sequence number
/// is exactly RCV.NXT; anywhere else in the window it draws a challenge
/// ACK; outside the window it is dropped.
pub fn check_rst(seg_seq: Seq, rcv_nxt: Seq, rcv_wnd: u32) -> Verdict {
    if seg_seq == rcv_nxt {
        Verdict::Reset
    } else if seg_seq.in_window(rcv_nxt, rcv_wnd.max(1)) {
        Verdict::DropAndAck
    } else {
        Verdict::Drop
    }
}

/// RFC 5961 section 4.2: a SYN in a synchronized state, wherever its
/// sequence number lies, draws a challenge ACK and is dropped.
pub fn check_syn() -> Verdict {
    Verdict::DropAndAck
}

/// RFC 5961 section 5.2 with RFC 9293 3.10.7.4 "fifth check the ACK
/// field": an ACK is acceptable when
/// `SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT`; one acknowledging data
/// not yet sent draws an ACK and is dropped; an older one is dropped
/// (with an ACK, as 5961 says).
pub fn check_ack(seg_ack: Seq, snd_una: Seq, snd_nxt: Seq, max_snd_wnd: u32) -> Verdict {
    if seg_ack > snd_nxt || seg_ack < snd_una - max_snd_wnd {
        Verdict::DropAndAck
    } else {
        Verdict::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptability_table() {
        let nxt = Seq(1000);
        // Zero-length segment, zero window: only exactly RCV.NXT.
        assert!(acceptable(nxt, 0, nxt, 0));
        assert!(!acceptable(nxt + 1, 0, nxt, 0));
        // Zero-length, open window.
        assert!(acceptable(nxt + 99, 0, nxt, 100));
        assert!(!acceptable(nxt + 100, 0, nxt, 100));
        assert!(!acceptable(nxt - 1, 0, nxt, 100));
        // Data, zero window: never.
        assert!(!acceptable(nxt, 10, nxt, 0));
        // Data overlapping the window at either end.
        assert!(acceptable(nxt - 5, 10, nxt, 100));
        assert!(acceptable(nxt + 95, 10, nxt, 100));
        assert!(!acceptable(nxt - 10, 10, nxt, 100));
        assert!(!acceptable(nxt + 100, 10, nxt, 100));
        // Across the wrap of the sequence space.
        assert!(acceptable(Seq(5), 10, Seq(u32::MAX - 2), 100));
    }

    #[test]
    fn rst_is_exact_or_challenged() {
        let nxt = Seq(u32::MAX - 10);
        assert_eq!(check_rst(nxt, nxt, 1000), Verdict::Reset);
        assert_eq!(check_rst(nxt + 500, nxt, 1000), Verdict::DropAndAck);
        assert_eq!(check_rst(nxt + 1000, nxt, 1000), Verdict::Drop);
        assert_eq!(check_rst(nxt - 1, nxt, 1000), Verdict::Drop);
        assert_eq!(check_syn(), Verdict::DropAndAck);
    }

    #[test]
    fn ack_range_of_rfc_5961() {
        let (una, nxt) = (Seq(10_000), Seq(12_000));
        assert_eq!(check_ack(Seq(11_000), una, nxt, 4000), Verdict::Accept);
        assert_eq!(check_ack(nxt, una, nxt, 4000), Verdict::Accept);
        assert_eq!(check_ack(nxt + 1, una, nxt, 4000), Verdict::DropAndAck);
        // Old but within MAX.SND.WND: a duplicate, acceptable.
        assert_eq!(check_ack(Seq(6_000), una, nxt, 4000), Verdict::Accept);
        assert_eq!(check_ack(Seq(5_999), una, nxt, 4000), Verdict::DropAndAck);
    }
}
