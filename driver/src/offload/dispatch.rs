//! Completion-kind dispatch, in one table: every kind the contract defines
//! (`toe_contract::desc::KIND_*`, `toe_contract::setup::KIND_*`) has
//! exactly one [`Handler`] here ([`KINDS`]).  The queue layer (`nic.rs`)
//! asks [`rx_frame`] which RX completions carry a received frame; the
//! socket layer hands each received TCP segment to the TCP core with
//! [`deliver`], which calls the core's entry point for its kind through
//! [`SegmentInput`].  A new offload adds its kinds to [`KINDS`] (and a
//! [`Handler`] variant with its arm in [`deliver`]); the unit test below
//! fails for any kind in the contract without exactly one entry.
use crate::tcp::offload::{NicEstablished, SegmentInput};
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_contract::desc::{self as d, Completion};
use toe_contract::setup as s;
use toe_contract::teardown as t;

/// Who handles a completion of some kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// A TX descriptor is done: its queue reclaims the buffer (`nic.rs`,
    /// TX completion ring).
    TxDone,
    /// A received frame for the host's network layer and TCP core
    /// ([`SegmentInput::on_segment`] for TCP).
    Frame,
    /// Setup offload: a client's final ACK the NIC validated, with the
    /// options its cookie carried ([`SegmentInput::on_established`]).
    Established,
    /// Active open: the SYN-ACK that completed a NIC open (the NIC sent
    /// the ACK; [`SegmentInput::on_nic_connected`]).
    Connected,
    /// Active open: the RST that refused a NIC open
    /// ([`SegmentInput::on_nic_refused`]).
    ConnectRefused,
    /// Teardown offload: the end of a teardown the NIC ran
    /// (`toe_contract::teardown::TeardownEvent`, docs/teardown.md).  It
    /// consumes an RX descriptor but carries no received bytes: the queue
    /// layer counts it (`QueueStats::teardown_events`), returns its RX
    /// buffer, and hands the event to the hand-over its tag names
    /// (`offload::teardown::HandOverBufs`), which goes back to the socket
    /// layer with it, with its buffer if it had kept bytes
    /// (`QueueIo::take_teardowns`, `Teardowns::on_done`).
    TeardownEnd,
}

impl Handler {
    /// Whether a completion for this handler carries received bytes (an
    /// RX buffer), so that it comes out of the RX ring as a packet.
    pub const fn carries_frame(self) -> bool {
        !matches!(self, Handler::TxDone | Handler::TeardownEnd)
    }
}

/// The dispatch table: completion kind, handler.
pub const KINDS: &[(u8, Handler)] = &[
    (d::KIND_RX, Handler::Frame),
    (d::KIND_TX, Handler::TxDone),
    (s::KIND_ESTABLISHED, Handler::Established),
    (s::KIND_CONNECTED, Handler::Connected),
    (s::KIND_CONNECT_REFUSED, Handler::ConnectRefused),
    (t::KIND_TEARDOWN, Handler::TeardownEnd),
];

/// [`KINDS`] indexed by kind, for the RX fast path.
const BY_KIND: [Option<Handler>; 256] = {
    let mut t = [None; 256];
    let mut i = 0;
    while i < KINDS.len() {
        t[KINDS[i].0 as usize] = Some(KINDS[i].1);
        i += 1;
    }
    t
};

/// The handler of completion kind `kind` (`None`: a kind this driver does
/// not know, which the queue layer counts as a bad completion).
pub fn handler(kind: u8) -> Option<Handler> {
    BY_KIND[kind as usize]
}

/// Whether an RX completion of kind `kind` carries a received frame.
pub fn rx_frame(kind: u8) -> bool {
    matches!(handler(kind), Some(h) if h.carries_frame())
}

/// What the NIC's "established" completion reports: the options it
/// negotiated from its SYN cookie.
pub fn established(c: &Completion) -> NicEstablished {
    let ts = c.opts & d::OPT_TS != 0;
    NicEstablished {
        peer_mss: c.mss,
        peer_wscale: (c.wscale & d::WSCALE_PRESENT != 0).then_some(c.wscale & 0xF),
        sack: c.opts & d::OPT_SACK_PERM != 0,
        ts: ts.then_some((c.tsval, c.tsecr)),
    }
}

/// Hands a received TCP segment (`tcp`: header and payload, `ok`: its
/// checksum verified) to the TCP core's entry point for the completion's
/// kind.
pub fn deliver<T: SegmentInput + ?Sized>(
    tcp: &mut T,
    cpl: &Completion,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    seg: &[u8],
    ok: bool,
    now: Duration,
) {
    match handler(cpl.kind) {
        // The NIC completed this handshake (setup offload).
        Some(Handler::Established) => tcp.on_established(src, dst, seg, ok, &established(cpl), now),
        // Our active open, completed or refused by the NIC.
        Some(Handler::Connected) => tcp.on_nic_connected(src, dst, seg, ok, now),
        Some(Handler::ConnectRefused) => tcp.on_nic_refused(src, dst, seg, ok, now),
        // An ordinary segment (the RX ring delivers no other kind as a
        // segment: TX and teardown completions carry no frame).
        Some(Handler::Frame) | Some(Handler::TxDone) | Some(Handler::TeardownEnd) | None => {
            tcp.on_segment(src, dst, seg, ok, now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `pub const KIND_*: u8 = N;` in the contract's sources
    /// (hdl/contract/src), read from the files so that a kind added there
    /// is seen here without anyone listing it.
    fn contract_kinds() -> Vec<(String, u8)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hdl/contract/src");
        let mut kinds = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for line in text.lines() {
                let Some(rest) = line.trim().strip_prefix("pub const KIND_") else {
                    continue;
                };
                let (name, value) = rest.split_once(':').expect("a typed constant");
                let value = value
                    .split_once('=')
                    .and_then(|(ty, v)| (ty.trim() == "u8").then_some(v))
                    .unwrap_or_else(|| panic!("KIND_{name} in {} is not a u8", f.display()));
                let v: u8 = value
                    .trim()
                    .trim_end_matches(';')
                    .parse()
                    .unwrap_or_else(|_| {
                        panic!(
                            "KIND_{name} in {}: value {value:?} not a literal",
                            f.display()
                        )
                    });
                kinds.push((format!("KIND_{name}"), v));
            }
        }
        kinds
    }

    #[test]
    fn every_contract_kind_has_exactly_one_handler() {
        let kinds = contract_kinds();
        // The ones this driver was written against, at least.
        for k in [
            d::KIND_RX,
            d::KIND_TX,
            s::KIND_ESTABLISHED,
            s::KIND_CONNECTED,
            s::KIND_CONNECT_REFUSED,
            t::KIND_TEARDOWN,
        ] {
            assert!(
                kinds.iter().any(|(_, v)| *v == k),
                "kind {k} not found in the contract"
            );
        }
        for (name, v) in &kinds {
            let n = KINDS.iter().filter(|(k, _)| k == v).count();
            assert_eq!(
                n, 1,
                "completion kind {name} = {v} has {n} handlers in offload::dispatch::KINDS \
                 (register it once)"
            );
            assert_eq!(handler(*v), KINDS.iter().find(|(k, _)| k == v).map(|x| x.1));
        }
        for (k, h) in KINDS {
            assert!(
                kinds.iter().any(|(_, v)| v == k),
                "KINDS maps kind {k} ({h:?}), which the contract does not define"
            );
        }
        assert!(
            kinds
                .iter()
                .all(|(_, v)| kinds.iter().filter(|(_, w)| w == v).count() == 1),
            "two contract kinds share a value: {kinds:?}"
        );
    }

    #[test]
    fn only_tx_completions_carry_no_frame() {
        assert!(rx_frame(d::KIND_RX) && rx_frame(s::KIND_ESTABLISHED));
        assert!(rx_frame(s::KIND_CONNECTED) && rx_frame(s::KIND_CONNECT_REFUSED));
        assert!(!rx_frame(d::KIND_TX) && !rx_frame(t::KIND_TEARDOWN));
        assert!(!rx_frame(0xEE), "an unknown kind is no frame");
    }
}
