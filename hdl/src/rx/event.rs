//! The RX parsed-header event bus and the offloads' verdicts.
//!
//! Every offload that looks at received segments taps one record from
//! [`RxPath`](super::path::RxPath) (`rx.ev`, an [`RxEvent`]) and answers
//! with one [`RxVerdict`] per segment into one slot of `rx.verdict`; the RX
//! path applies all verdicts at one merge point
//! ([`RxVerdictMerge`](super::verdict_merge::RxVerdictMerge)) before the
//! metadata FIFO.  With `P` the cycle the parser's record comes out
//! (docs/pipeline.md):
//!
//! | cycle | what | fields |
//! |---|---|---|
//! | P | early record: a good TCP segment (IPv4, TCP, both checksums verified, no drop reason) with its header fields | `e_valid`, `e_flags`, `e_tuple`, `e_seq`, `e_ackn`, `e_window`, `e_macs` |
//! | P + 1 | its Toeplitz hash (RSS) | `e_hash` |
//! | P + [`LATE_TAP`] | late record: the same segment at the option walker's output, with its options | `l_valid`, `l_flags`, `l_mss`, `l_ws`, `l_sackp`, `l_ts`, `l_tsval`, `l_tsecr`, `l_optbad` |
//! | P + [`VERDICT_AT`] | every offload's verdict, from its own flip-flops | [`RxVerdict`] |
//!
//! Segments leave the pipeline in order, one per cycle at most, at a fixed
//! latency: an offload matches early and late records by order (a FIFO of
//! its own, as the setup offload's SYN queue) or by a delay line of
//! `LATE_TAP` stages.  A verdict is all zero (deliver unchanged) unless the
//! offload claims the segment.  What a verdict can say:
//!
//! * `consume`: the segment is not delivered to the host.  Its completion
//!   carries the drop reason [`REASON_COUNTED_ELSEWHERE`](super::parse::REASON_COUNTED_ELSEWHERE):
//!   no RX drop counter counts it, the offload counts it in its own
//!   counters (a SYN the NIC answered, a SYN dropped as martian).
//! * `kind_valid` and `kind`: delivered with this completion kind
//!   (`toe_contract::setup::KIND_*`) instead of a plain segment's.
//! * `opts_valid` and `mss`, `ws`, `sackp`: the negotiated options replace
//!   the segment's MSS, window scale and SACK-permitted fields (an
//!   "established" completion carries the options of the cookie's
//!   handshake, not of the final ACK).
//!
//! When several offloads claim the same segment, the lowest slot wins each
//! of the three parts; slots are fixed per offload ([`SLOT_SETUP`],
//! [`SLOT_CONNECT`]).  A new offload (docs/offload_seam.md) joins `rx.ev`
//! to its [`RxEventIn`], adds a slot ([`RX_OFFLOADS`]) and joins its
//! [`RxVerdict`] to `rx.verdict[slot]`.  Forwarding a segment to TX with a
//! rewrite (connection splicing) is not a verdict yet: it needs the frame's
//! data, which stays in the RX data FIFO; splicing will add it here.
use rust_hdl::prelude::*;

/// Cycles from the early record (P) to the late record: RSS (2) and the
/// option walker (10).
pub const LATE_TAP: usize = 12;
/// The cycle, after P, at which every offload's verdict is valid: the late
/// record plus two registered stages in the offload (one to decide from
/// its registered late record, one to register the verdict).
pub const VERDICT_AT: usize = LATE_TAP + 2;
/// Offloads that answer RX segments (slots of `RxPath::verdict`).  The
/// merge's kernel loops over the slots by a literal count: keep
/// `RxVerdictMerge` in step when this changes.
pub const RX_OFFLOADS: usize = 2;
/// The passive-open setup offload (`setup::rx::SetupRx`).
pub const SLOT_SETUP: usize = 0;
/// The NIC's active open (`setup::connect::Connect`).
pub const SLOT_CONNECT: usize = 1;

/// The parsed-header record of each received segment: `RxPath`'s side.
/// Join it to every offload's [`RxEventIn`]:
/// `RxEvent::join(&mut rx.ev, &mut offload.ev)`.
#[derive(LogicInterface, Default)]
#[join = "RxEventIn"]
pub struct RxEvent {
    // Early record (P)
    /// A good TCP segment: the fields below are valid this cycle.
    pub e_valid: Signal<Out, Bit>,
    /// TCP flags (FIN 0, SYN 1, RST 2, PSH 3, ACK 4, URG 5, ECE 6, CWR 7).
    pub e_flags: Signal<Out, Bits<8>>,
    /// src IP (95:64), dst IP (63:32), src port (31:16), dst port (15:0).
    pub e_tuple: Signal<Out, Bits<96>>,
    pub e_seq: Signal<Out, Bits<32>>,
    pub e_ackn: Signal<Out, Bits<32>>,
    /// The window field, unscaled.
    pub e_window: Signal<Out, Bits<16>>,
    /// Destination MAC (95:48), source MAC (47:0), first byte most significant.
    pub e_macs: Signal<Out, Bits<96>>,
    /// The early record's Toeplitz hash, at P + 1.
    pub e_hash: Signal<Out, Bits<32>>,
    // Late record (P + LATE_TAP)
    /// The same good TCP segment at the option walker's output.
    pub l_valid: Signal<Out, Bit>,
    pub l_flags: Signal<Out, Bits<8>>,
    /// MSS option (0: none).
    pub l_mss: Signal<Out, Bits<16>>,
    /// Window scale, completion format: bit 7 present, bits 3:0 the shift.
    pub l_ws: Signal<Out, Bits<8>>,
    pub l_sackp: Signal<Out, Bit>,
    /// Timestamps option present, and its values.
    pub l_ts: Signal<Out, Bit>,
    pub l_tsval: Signal<Out, Bits<32>>,
    pub l_tsecr: Signal<Out, Bits<32>>,
    /// The options did not parse (an option length below 2 or past the
    /// header); the fields above hold what parsed before the bad one.
    pub l_optbad: Signal<Out, Bit>,
}

/// The parsed-header record, an offload's side.
#[derive(LogicInterface, Default)]
#[join = "RxEvent"]
pub struct RxEventIn {
    pub e_valid: Signal<In, Bit>,
    pub e_flags: Signal<In, Bits<8>>,
    pub e_tuple: Signal<In, Bits<96>>,
    pub e_seq: Signal<In, Bits<32>>,
    pub e_ackn: Signal<In, Bits<32>>,
    pub e_window: Signal<In, Bits<16>>,
    pub e_macs: Signal<In, Bits<96>>,
    pub e_hash: Signal<In, Bits<32>>,
    pub l_valid: Signal<In, Bit>,
    pub l_flags: Signal<In, Bits<8>>,
    pub l_mss: Signal<In, Bits<16>>,
    pub l_ws: Signal<In, Bits<8>>,
    pub l_sackp: Signal<In, Bit>,
    pub l_ts: Signal<In, Bit>,
    pub l_tsval: Signal<In, Bits<32>>,
    pub l_tsecr: Signal<In, Bits<32>>,
    pub l_optbad: Signal<In, Bit>,
}

/// An offload's verdict on the segment at P + VERDICT_AT, from its own
/// flip-flops: the offload's side.  Join it to the RX path's slot:
/// `RxVerdict::join(&mut offload.verdict, &mut rx.verdict[SLOT])`.
#[derive(LogicInterface, Default)]
#[join = "RxVerdictIn"]
pub struct RxVerdict {
    /// Not delivered: the offload consumed it (and counts it).
    pub consume: Signal<Out, Bit>,
    /// Delivered with completion kind `kind`.
    pub kind_valid: Signal<Out, Bit>,
    pub kind: Signal<Out, Bits<8>>,
    /// The negotiated options replace the segment's.
    pub opts_valid: Signal<Out, Bit>,
    pub mss: Signal<Out, Bits<16>>,
    /// Completion format: bit 7 present, bits 3:0 the shift.
    pub ws: Signal<Out, Bits<8>>,
    pub sackp: Signal<Out, Bit>,
}

/// A verdict, the RX path's side.
#[derive(LogicInterface, Default)]
#[join = "RxVerdict"]
pub struct RxVerdictIn {
    pub consume: Signal<In, Bit>,
    pub kind_valid: Signal<In, Bit>,
    pub kind: Signal<In, Bits<8>>,
    pub opts_valid: Signal<In, Bit>,
    pub mss: Signal<In, Bits<16>>,
    pub ws: Signal<In, Bits<8>>,
    pub sackp: Signal<In, Bit>,
}
