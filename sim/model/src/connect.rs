//! Reference model of the NIC's active open (`toe_contract::setup`,
//! `hdl/src/setup/connect.rs`): the SYN it sends for a request, which
//! received frames complete or refuse a pending open, and the handshake ACK
//! it answers a SYN-ACK with.
use crate::parse::{Class, Parsed};
use crate::setup::{ctl_frame, Ctl};
use toe_contract::setup::{connect_slot, ConnectRequest, CtlRecord, CONNECT_SLOTS, TCP_ACK};

/// The pending opens, by slot.
pub type Slots = [Option<ConnectRequest>; CONNECT_SLOTS];

/// The frame a control-frame record becomes.
pub fn record_frame(r: &CtlRecord) -> Vec<u8> {
    let mut macs = [0u8; 12];
    macs[..6].copy_from_slice(&r.dst_mac);
    macs[6..].copy_from_slice(&r.src_mac);
    ctl_frame(
        &macs,
        r.src,
        r.dst,
        &Ctl {
            seq: r.seq,
            ack: r.ack,
            flags: r.flags,
            window: r.window,
            mss: r.mss,
            sack_permitted: r.sack_permitted,
            ts: r.ts,
            wscale: r.wscale.map(|w| w.min(14)),
        },
    )
}

/// What a pending open makes of a received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectAction {
    None,
    /// A SYN-ACK that completes slot `slot`: the NIC sends `ack` and
    /// delivers the frame as `KIND_CONNECTED`.
    Connected {
        slot: usize,
        ack: Vec<u8>,
    },
    /// An acceptable RST: delivered as `KIND_CONNECT_REFUSED`.
    Refused {
        slot: usize,
    },
}

/// Matches a frame against the pending opens: a good TCP segment (both
/// checksums verified) that is a SYN-ACK (no RST/FIN) or an RST with ACK
/// (no SYN), from the slot's peer to the slot's address and port, that
/// acknowledges the SYN (RFC 9293 3.10.7.3).
pub fn action(slots: &Slots, p: &Parsed) -> ConnectAction {
    let (ip, t) = match (&p.ipv4, &p.tcp) {
        (Some(ip), Some(t)) if p.class == Class::Tcp && ip.csum_ok && t.csum_ok => (ip, t),
        _ => return ConnectAction::None,
    };
    let sa = t.flags & 0x17 == 0x12;
    let rst = t.flags & 0x17 == 0x14;
    if !(sa || rst) {
        return ConnectAction::None;
    }
    let slot = connect_slot(t.dst_port);
    let Some(req) = &slots[slot] else {
        return ConnectAction::None;
    };
    let s = &req.syn;
    if s.src != (ip.dst, t.dst_port)
        || s.dst != (ip.src, t.src_port)
        || t.ack != s.seq.wrapping_add(1)
    {
        return ConnectAction::None;
    }
    if rst {
        return ConnectAction::Refused { slot };
    }
    // The ACK: timestamps when the SYN-ACK has them (TSval the SYN's,
    // TSecr the peer's), the scaled window when it has a window scale.
    let ack = CtlRecord {
        seq: t.ack,
        ack: t.seq.wrapping_add(1),
        flags: TCP_ACK,
        window: if t.opts.wscale.is_some() {
            req.ack_window
        } else {
            s.window
        },
        mss: None,
        wscale: None,
        sack_permitted: false,
        ts: t.opts.timestamps.map(|(v, _)| (s.ts.map_or(0, |x| x.0), v)),
        ..*s
    };
    ConnectAction::Connected {
        slot,
        ack: record_frame(&ack),
    }
}
