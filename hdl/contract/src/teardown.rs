//! Connection-teardown offload (issue 17): the hand-over record the host
//! posts, the per-connection entry the NIC keeps, the completion event that
//! ends every offloaded teardown, and the configuration registers.
//! Modelled by `toe_model::teardown` (the scoreboard); described in
//! docs/teardown.md.  Not implemented in RTL or driver yet.
//!
//! ## Hand-over: a TX descriptor opcode
//!
//! The host closes an offloaded connection by posting, on the connection's
//! TX queue after its last data frames, a TX descriptor with opcode
//! [`TX_OP_TEARDOWN`] (bits 15:12 of the descriptor flags, the existing
//! opcode field of `desc.rs`; the checksum flags must be 0).  Its buffer
//! holds the [`HandOver`] record (bytes 0..64, one 512-bit beat) followed by
//! the unacknowledged bytes `[SND.UNA, FIN)` of the connection (bytes
//! `64..64 + kept`, `kept = fin_seq - snd_una <= MAX_KEPT_BYTES`); the
//! descriptor's length is `64 + kept`.
//!
//! Unacknowledged data: the NIC re-reads it by DMA.  The entry keeps the
//! buffer's address and `kept`, never the bytes; when a retransmission is
//! due the NIC reads the segment from `addr + 64 + (SND.UNA - buf_seq)`.
//! The bound `MAX_KEPT_BYTES` keeps the retransmission engine simple (at
//! most a few segments) and the host's held memory per close small; a host
//! with more unacknowledged data closes in software or waits for ACKs.
//!
//! Who owns the buffer:
//! - `kept == 0` (descriptor length 64): the NIC reads the buffer once, at
//!   the hand-over (the record goes into its table entry), and never
//!   again.  The buffer is the host's again with the descriptor's TX
//!   completion, as a frame's is; the teardown's completion event comes
//!   later (after TIME-WAIT for an active close) and names the hand-over
//!   by its `tag` only.  The entry stores no address (`buf_addr` 0).
//! - `kept > 0`: the buffer belongs to the NIC until the teardown's
//!   completion event ([`TeardownEvent`], matched by its `tag`), whatever
//!   the TX completion, then returns to the host.
//! - A rejected descriptor (TX completion with `CPL_ERROR`): the buffer is
//!   the host's with that completion, and no event follows.
//!
//! The host needs the record again only for a [`Reason::Fallback`] (it
//! finishes the close in software); for `kept == 0` it keeps what it needs
//! in its own memory, not in the buffer.
//!
//! ## Per-entry state: [`Entry`], [`ENTRY_BITS`] = 510 bits (64 bytes)
//!
//! The 4-tuple is the connection table's key (`tuple_key` order: peer
//! address, our address, peer port, our port, as received segments carry
//! it); the value is [`Entry::pack`]'s 512-bit word.
//!
//! ## Events
//!
//! Each accepted hand-over ends with exactly one completion of kind
//! [`KIND_TEARDOWN`] on the queue it was posted on ([`TeardownEvent`]);
//! a refused one ends at once with reason [`Reason::Fallback`] and the host
//! finishes the close in software from the record (its own copy) and, for
//! `kept > 0`, the kept bytes in the buffer the event returns.  The event
//! returns a buffer only for `kept > 0`: without kept bytes the buffer
//! came back with the TX completion (in either order with the event).

/// TX descriptor opcode of a teardown hand-over (flags bits 15:12).
pub const TX_OP_TEARDOWN: u16 = 1;
const _: () = assert!(TX_OP_TEARDOWN < 16 && TX_OP_TEARDOWN != crate::desc::TX_OP_SEND);
/// Completion kind of a teardown's end (see [`TeardownEvent`]).
pub const KIND_TEARDOWN: u8 = 5;

/// Bytes of the hand-over record at the start of the descriptor's buffer.
pub const HANDOVER_BYTES: usize = 64;
/// Most unacknowledged bytes a hand-over may leave to the NIC.
pub const MAX_KEPT_BYTES: u32 = 4096;
/// Largest retry limit (4-bit field); 0 in a record means the register
/// default [`TD_RETRIES`].
pub const MAX_RETRY_LIMIT: u8 = 15;
/// Largest window scale (RFC 7323 2.3).
pub const MAX_WSCALE: u8 = 14;
/// Upper bound of a backed-off retransmission timeout, in ticks (Linux's
/// `TCP_RTO_MAX`, 120 s at 1 ms ticks).
pub const RTO_MAX_TICKS: u32 = 120_000;

/// Close order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseOrder {
    /// We close first: the NIC sends the FIN and runs FIN-WAIT-1.
    Active,
    /// The peer's FIN arrived first (the host was in CLOSE-WAIT and
    /// `rcv_nxt` counts the peer's FIN): the NIC sends the FIN and runs
    /// LAST-ACK.
    Passive,
}

/// The hand-over record (64 bytes, little-endian numbers; addresses in
/// network byte order).
///
/// | bytes | field |
/// |---|---|
/// | 0..4 | peer IPv4 address |
/// | 4..8 | our IPv4 address |
/// | 8..10 | peer port |
/// | 10..12 | our port |
/// | 12..18 | peer (or gateway) MAC, the frames' destination |
/// | 18..24 | our MAC, the frames' source |
/// | 24..28 | SND.UNA |
/// | 28..32 | SND.NXT before the FIN: the FIN's sequence number |
/// | 32..36 | RCV.NXT (past the peer's FIN for a passive close) |
/// | 36..40 | TS.Recent (timestamps on) |
/// | 40..44 | the TSval the host would send now (timestamps on) |
/// | 44..46 | the peer's last window field (SND.WND >> peer shift) |
/// | 46..48 | the window field of our ACKs (RCV.WND >> our shift) |
/// | 48..50 | RTO, ticks (> 0) |
/// | 50..52 | MSS for retransmissions (> 0) |
/// | 52 | bits 3:0 peer window shift, bits 7:4 our window shift (<= 14) |
/// | 53 | bit 0 passive close, bit 1 timestamps on; others 0 |
/// | 54 | retry limit (0: `TD_RETRIES`; <= 15) |
/// | 55..60 | reserved (0) |
/// | 60..64 | tag: returned in the completion event |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandOver {
    pub peer: ([u8; 4], u16),
    pub local: ([u8; 4], u16),
    pub peer_mac: [u8; 6],
    pub local_mac: [u8; 6],
    pub order: CloseOrder,
    pub snd_una: u32,
    pub fin_seq: u32,
    pub rcv_nxt: u32,
    /// `Some((TS.Recent, TSval now))` when the connection uses timestamps.
    pub ts: Option<(u32, u32)>,
    pub snd_wnd: u16,
    pub snd_shift: u8,
    pub rcv_wnd: u16,
    pub rcv_shift: u8,
    pub rto: u16,
    pub mss: u16,
    pub retry_limit: u8,
    pub tag: u32,
}

/// Why a record is refused (the descriptor completes with `CPL_ERROR` and
/// counts as `TxBadDescriptor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandOverError {
    /// `fin_seq - snd_una` above [`MAX_KEPT_BYTES`] (or `snd_una` after
    /// `fin_seq`).
    TooMuchKept,
    ZeroRto,
    ZeroMss,
    BadShift,
    BadRetryLimit,
    /// Reserved bits or bytes not zero.
    Reserved,
    /// The descriptor's length is not `HANDOVER_BYTES + kept`.
    Length,
}

impl HandOver {
    /// Unacknowledged data bytes the buffer carries after the record.
    pub fn kept(&self) -> u32 {
        self.fin_seq.wrapping_sub(self.snd_una)
    }

    /// The field limits a record must meet.
    pub fn check(&self) -> Result<(), HandOverError> {
        if self.kept() > MAX_KEPT_BYTES {
            return Err(HandOverError::TooMuchKept);
        }
        if self.rto == 0 {
            return Err(HandOverError::ZeroRto);
        }
        if self.mss == 0 {
            return Err(HandOverError::ZeroMss);
        }
        if self.snd_shift > MAX_WSCALE || self.rcv_shift > MAX_WSCALE {
            return Err(HandOverError::BadShift);
        }
        if self.retry_limit > MAX_RETRY_LIMIT {
            return Err(HandOverError::BadRetryLimit);
        }
        Ok(())
    }

    pub fn encode(&self) -> [u8; HANDOVER_BYTES] {
        let mut b = [0u8; HANDOVER_BYTES];
        b[0..4].copy_from_slice(&self.peer.0);
        b[4..8].copy_from_slice(&self.local.0);
        b[8..10].copy_from_slice(&self.peer.1.to_le_bytes());
        b[10..12].copy_from_slice(&self.local.1.to_le_bytes());
        b[12..18].copy_from_slice(&self.peer_mac);
        b[18..24].copy_from_slice(&self.local_mac);
        b[24..28].copy_from_slice(&self.snd_una.to_le_bytes());
        b[28..32].copy_from_slice(&self.fin_seq.to_le_bytes());
        b[32..36].copy_from_slice(&self.rcv_nxt.to_le_bytes());
        let (recent, now) = self.ts.unwrap_or((0, 0));
        b[36..40].copy_from_slice(&recent.to_le_bytes());
        b[40..44].copy_from_slice(&now.to_le_bytes());
        b[44..46].copy_from_slice(&self.snd_wnd.to_le_bytes());
        b[46..48].copy_from_slice(&self.rcv_wnd.to_le_bytes());
        b[48..50].copy_from_slice(&self.rto.to_le_bytes());
        b[50..52].copy_from_slice(&self.mss.to_le_bytes());
        b[52] = (self.snd_shift & 0xF) | (self.rcv_shift & 0xF) << 4;
        b[53] = (self.order == CloseOrder::Passive) as u8 | (self.ts.is_some() as u8) << 1;
        b[54] = self.retry_limit;
        b[60..64].copy_from_slice(&self.tag.to_le_bytes());
        b
    }

    /// The record, if its reserved bits are zero and it meets
    /// [`HandOver::check`].
    pub fn decode(b: &[u8; HANDOVER_BYTES]) -> Result<HandOver, HandOverError> {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let ip = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        let mac = |i: usize| core::array::from_fn(|k| b[i + k]);
        if b[53] & !3 != 0 || b[55..60].iter().any(|&x| x != 0) {
            return Err(HandOverError::Reserved);
        }
        let h = HandOver {
            peer: (ip(0), u16_at(8)),
            local: (ip(4), u16_at(10)),
            peer_mac: mac(12),
            local_mac: mac(18),
            snd_una: u32_at(24),
            fin_seq: u32_at(28),
            rcv_nxt: u32_at(32),
            ts: (b[53] & 2 != 0).then(|| (u32_at(36), u32_at(40))),
            snd_wnd: u16_at(44),
            rcv_wnd: u16_at(46),
            rto: u16_at(48),
            mss: u16_at(50),
            snd_shift: b[52] & 0xF,
            rcv_shift: b[52] >> 4,
            order: if b[53] & 1 != 0 {
                CloseOrder::Passive
            } else {
                CloseOrder::Active
            },
            retry_limit: b[54],
            tag: u32_at(60),
        };
        h.check()?;
        Ok(h)
    }
}

// ---------------------------------------------------------------- entry

/// States of an entry (RFC 9293 3.3.2).  0 is not a state (a free slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    FinWait1 = 1,
    FinWait2 = 2,
    Closing = 3,
    LastAck = 4,
    TimeWait = 5,
}

impl State {
    pub fn from_bits(v: u8) -> Option<State> {
        Some(match v {
            1 => State::FinWait1,
            2 => State::FinWait2,
            3 => State::Closing,
            4 => State::LastAck,
            5 => State::TimeWait,
            _ => return None,
        })
    }
}

/// What the NIC keeps per closing connection (the connection table's
/// value).  Times are the low 32 bits of the tick counter; compare them
/// with wrapping arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub state: State,
    pub ts_on: bool,
    /// A timeout retransmission happened since the last new ACK: a partial
    /// ACK sends the next segment at once.
    pub rtx: bool,
    /// Retransmissions since the last new ACK (the backoff exponent).
    pub retries: u8,
    pub retry_limit: u8,
    /// The queue the hand-over came on (the event goes there).
    pub queue: u8,
    pub snd_shift: u8,
    pub rcv_shift: u8,
    pub snd_una: u32,
    pub fin_seq: u32,
    pub rcv_nxt: u32,
    pub snd_wnd: u16,
    pub rcv_wnd: u16,
    pub mss: u16,
    pub rto: u16,
    pub ts_recent: u32,
    /// Our TSval = tick + `ts_offset`.
    pub ts_offset: u32,
    /// Tick at which the entry's timer fires.
    pub deadline: u32,
    /// Tick of the hand-over (for the event's duration).
    pub start: u32,
    /// The hand-over buffer's address (64-byte aligned; stored >> 6);
    /// 0 when `kept` is 0: that buffer is the host's again after the
    /// descriptor's TX completion and is never read again.
    pub buf_addr: u64,
    /// Unacknowledged bytes handed over: the buffer's data starts at
    /// sequence number `fin_seq - kept`.
    pub kept: u16,
    pub peer_mac: [u8; 6],
    pub local_mac: [u8; 6],
    pub tag: u32,
}

/// Bit positions of the entry's fields in the 512-bit value: `(lsb,
/// width)`.
pub mod entry_bits {
    pub const STATE: (usize, usize) = (0, 3);
    pub const TS_ON: (usize, usize) = (3, 1);
    pub const RTX: (usize, usize) = (4, 1);
    pub const RETRIES: (usize, usize) = (5, 4);
    pub const RETRY_LIMIT: (usize, usize) = (9, 4);
    pub const QUEUE: (usize, usize) = (13, 2);
    pub const SND_SHIFT: (usize, usize) = (15, 4);
    pub const RCV_SHIFT: (usize, usize) = (19, 4);
    pub const SND_UNA: (usize, usize) = (23, 32);
    pub const FIN_SEQ: (usize, usize) = (55, 32);
    pub const RCV_NXT: (usize, usize) = (87, 32);
    pub const SND_WND: (usize, usize) = (119, 16);
    pub const RCV_WND: (usize, usize) = (135, 16);
    pub const MSS: (usize, usize) = (151, 16);
    pub const RTO: (usize, usize) = (167, 16);
    pub const TS_RECENT: (usize, usize) = (183, 32);
    pub const TS_OFFSET: (usize, usize) = (215, 32);
    pub const DEADLINE: (usize, usize) = (247, 32);
    pub const START: (usize, usize) = (279, 32);
    /// Buffer address bits 63:6.
    pub const BUF_ADDR: (usize, usize) = (311, 58);
    pub const PEER_MAC: (usize, usize) = (369, 48);
    pub const LOCAL_MAC: (usize, usize) = (417, 48);
    pub const TAG: (usize, usize) = (465, 32);
    pub const KEPT: (usize, usize) = (497, 13);
}

/// Width of the connection table's value for teardown entries.
pub const ENTRY_BITS: usize = entry_bits::KEPT.0 + entry_bits::KEPT.1;
const _: () = assert!(ENTRY_BITS <= 512);
const _: () = assert!(MAX_KEPT_BYTES < 1 << entry_bits::KEPT.1);

fn put(w: &mut [u64; 8], (at, width): (usize, usize), v: u64) {
    for i in 0..width {
        if v >> i & 1 == 1 {
            w[(at + i) / 64] |= 1 << ((at + i) % 64);
        }
    }
}

fn get(w: &[u64; 8], (at, width): (usize, usize)) -> u64 {
    (0..width).fold(0, |v, i| v | (w[(at + i) / 64] >> ((at + i) % 64) & 1) << i)
}

fn mac48(m: &[u8; 6]) -> u64 {
    m.iter().fold(0, |v, &b| v << 8 | b as u64)
}

fn mac_of(v: u64) -> [u8; 6] {
    core::array::from_fn(|i| (v >> (40 - 8 * i)) as u8)
}

impl Entry {
    /// The 512-bit value (word i holds bits 64i+63:64i).  Fields wider
    /// than their slot are truncated; [`Entry::fits`] tells.
    pub fn pack(&self) -> [u64; 8] {
        use entry_bits::*;
        let mut w = [0u64; 8];
        put(&mut w, STATE, self.state as u64);
        put(&mut w, TS_ON, self.ts_on as u64);
        put(&mut w, RTX, self.rtx as u64);
        put(&mut w, RETRIES, self.retries as u64 & 0xF);
        put(&mut w, RETRY_LIMIT, self.retry_limit as u64 & 0xF);
        put(&mut w, QUEUE, self.queue as u64 & 3);
        put(&mut w, SND_SHIFT, self.snd_shift as u64 & 0xF);
        put(&mut w, RCV_SHIFT, self.rcv_shift as u64 & 0xF);
        put(&mut w, SND_UNA, self.snd_una as u64);
        put(&mut w, FIN_SEQ, self.fin_seq as u64);
        put(&mut w, RCV_NXT, self.rcv_nxt as u64);
        put(&mut w, SND_WND, self.snd_wnd as u64);
        put(&mut w, RCV_WND, self.rcv_wnd as u64);
        put(&mut w, MSS, self.mss as u64);
        put(&mut w, RTO, self.rto as u64);
        put(&mut w, TS_RECENT, self.ts_recent as u64);
        put(&mut w, TS_OFFSET, self.ts_offset as u64);
        put(&mut w, DEADLINE, self.deadline as u64);
        put(&mut w, START, self.start as u64);
        put(&mut w, BUF_ADDR, self.buf_addr >> 6);
        put(&mut w, PEER_MAC, mac48(&self.peer_mac));
        put(&mut w, LOCAL_MAC, mac48(&self.local_mac));
        put(&mut w, TAG, self.tag as u64);
        put(&mut w, KEPT, self.kept as u64 & 0x1FFF);
        w
    }

    /// The entry a value holds (`None`: state bits not a state).
    pub fn unpack(w: &[u64; 8]) -> Option<Entry> {
        use entry_bits::*;
        Some(Entry {
            state: State::from_bits(get(w, STATE) as u8)?,
            ts_on: get(w, TS_ON) == 1,
            rtx: get(w, RTX) == 1,
            retries: get(w, RETRIES) as u8,
            retry_limit: get(w, RETRY_LIMIT) as u8,
            queue: get(w, QUEUE) as u8,
            snd_shift: get(w, SND_SHIFT) as u8,
            rcv_shift: get(w, RCV_SHIFT) as u8,
            snd_una: get(w, SND_UNA) as u32,
            fin_seq: get(w, FIN_SEQ) as u32,
            rcv_nxt: get(w, RCV_NXT) as u32,
            snd_wnd: get(w, SND_WND) as u16,
            rcv_wnd: get(w, RCV_WND) as u16,
            mss: get(w, MSS) as u16,
            rto: get(w, RTO) as u16,
            ts_recent: get(w, TS_RECENT) as u32,
            ts_offset: get(w, TS_OFFSET) as u32,
            deadline: get(w, DEADLINE) as u32,
            start: get(w, START) as u32,
            buf_addr: get(w, BUF_ADDR) << 6,
            peer_mac: mac_of(get(w, PEER_MAC)),
            local_mac: mac_of(get(w, LOCAL_MAC)),
            tag: get(w, TAG) as u32,
            kept: get(w, KEPT) as u16,
        })
    }

    /// Every field fits its slot (so `unpack(pack(e)) == e`).
    pub fn fits(&self) -> bool {
        self.retries <= 15
            && self.retry_limit <= 15
            && self.queue < crate::NUM_QUEUES as u8
            && self.snd_shift <= MAX_WSCALE
            && self.rcv_shift <= MAX_WSCALE
            && self.buf_addr.is_multiple_of(crate::BUF_ALIGN)
            && self.kept as u32 <= MAX_KEPT_BYTES
    }
}

// ---------------------------------------------------------------- events

/// How a teardown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// LAST-ACK acknowledged, or TIME-WAIT expired.
    Normal = 0,
    /// The peer's exact RST (RFC 5961 3.2) removed the entry.
    RstReceived = 1,
    /// The retry limit was reached: the NIC sent RST and removed the entry.
    RetriesExhausted = 2,
    /// FIN-WAIT-2 lasted the fin timeout (`TD_FIN_TIMEOUT`).
    Fin2Timeout = 3,
    /// A TIME-WAIT entry recycled to make room (table or `TD_MAX_TW`).
    Recycled = 4,
    /// The hand-over was refused (table full of live closes, or the tuple
    /// already held): the host finishes the close in software.
    Fallback = 5,
    /// Data arrived for the closed receive side: the NIC answered RST.
    DataAfterClose = 6,
    /// TIME-WAIT ended by a new SYN RFC 6191 accepts; the SYN went on.
    TimeWaitReused = 7,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::Normal,
        Reason::RstReceived,
        Reason::RetriesExhausted,
        Reason::Fin2Timeout,
        Reason::Recycled,
        Reason::Fallback,
        Reason::DataAfterClose,
        Reason::TimeWaitReused,
    ];
    pub fn from_bits(v: u8) -> Option<Reason> {
        Reason::ALL.get(v as usize).copied()
    }
}

/// A teardown's completion event: a completion record of kind
/// [`KIND_TEARDOWN`] on the queue's RX completion ring, consuming one RX
/// descriptor with no data (length 0).  It gives the hand-over's buffer
/// back to the host when the hand-over had kept bytes; one without kept
/// bytes had its buffer back with its TX completion.
///
/// | bytes | field |
/// |---|---|
/// | 0..2 | descriptor index (as every completion) |
/// | 2..4 | 0 (no frame) |
/// | 4..8 | duration: ticks from the hand-over to the end |
/// | 10 | reason ([`Reason`]) |
/// | 11 | the entry's state at the end (0 for a fallback) |
/// | 12 | kind [`KIND_TEARDOWN`] |
/// | 13 | retransmissions since the last new ACK |
/// | 20..24 | the hand-over's tag |
/// | 31 | bit 7 phase |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeardownEvent {
    pub reason: Reason,
    pub state: Option<State>,
    pub retries: u8,
    pub duration: u32,
    pub tag: u32,
}

impl TeardownEvent {
    /// The completion record (index and phase as the ring gives them).
    pub fn to_completion(&self, index: u16, phase: bool) -> crate::desc::Completion {
        crate::desc::Completion {
            index,
            hash: self.duration,
            l3_off: self.reason as u8,
            l4_off: self.state.map_or(0, |s| s as u8),
            kind: KIND_TEARDOWN,
            tcp_flags: self.retries,
            tsval: self.tag,
            phase,
            ..Default::default()
        }
    }

    /// The event a completion of kind [`KIND_TEARDOWN`] holds.
    pub fn from_completion(c: &crate::desc::Completion) -> Option<TeardownEvent> {
        if c.kind != KIND_TEARDOWN {
            return None;
        }
        Some(TeardownEvent {
            reason: Reason::from_bits(c.l3_off)?,
            state: State::from_bits(c.l4_off),
            retries: c.tcp_flags,
            duration: c.hash,
            tag: c.tsval,
        })
    }
}

// ---------------------------------------------------------------- registers
//
// The teardown block.  NOT YET IN `regs::OFFLOAD_BLOCKS`: adding it there
// changes the RTL's block list (`hdl/src/regs.rs` serves every listed
// block's header words and routes its range to a module port), which is
// the RTL change of the next step.  The offsets below are final; the block
// goes after the setup block.

pub const TYPE_TEARDOWN: u32 = 0x544F_0006;
pub const VERSION_TEARDOWN: u32 = 0x0001_0000;
pub const TEARDOWN_BASE: u32 = 0x0700;
pub const TEARDOWN_SIZE: u32 = 0x0100;
const _: () = assert!(
    crate::regs::SETUP_BASE + crate::regs::SETUP_SIZE <= TEARDOWN_BASE
        && TEARDOWN_BASE + TEARDOWN_SIZE <= crate::regs::OFFLOAD_SPACE.end
);

/// Control: bit 0 enable (hand-overs accepted; when clear every hand-over
/// completes as `Fallback`).
pub const TD_CTRL: u32 = 0x0C;
pub const TD_CTRL_ENABLE: u32 = 1 << 0;
/// TIME-WAIT duration 2*MSL, ticks of the timestamp clock (reset
/// [`DEFAULT_TW_TICKS`], Linux's 60 s).
pub const TD_TW_TICKS: u32 = 0x10;
/// FIN-WAIT-2 timeout, ticks (reset [`DEFAULT_FIN_TIMEOUT`], Linux's
/// `tcp_fin_timeout` 60 s).
pub const TD_FIN_TIMEOUT: u32 = 0x14;
/// Retry limit of records that give 0 (bits 3:0, reset
/// [`DEFAULT_RETRIES`], what Linux's `tcp_orphan_retries` = 0 means).
pub const TD_RETRIES: u32 = 0x18;
/// Most TIME-WAIT entries (Linux's `tcp_max_tw_buckets`); reset: the table
/// capacity.
pub const TD_MAX_TW: u32 = 0x1C;
/// Read only: entries held, of which in TIME-WAIT; capacity.
pub const TD_ENTRIES: u32 = 0x20;
pub const TD_TW_ENTRIES: u32 = 0x24;
pub const TD_CAPACITY: u32 = 0x28;
/// Counters: [`TdCounter`] i is 64 bits at `TD_CNT_FIRST + 8 i` (LO, then
/// HI; reading LO latches HI), as in the global counter block, whose 24
/// slots are all taken.
pub const TD_CNT_FIRST: u32 = 0x40;

pub const DEFAULT_TW_TICKS: u32 = 60_000;
pub const DEFAULT_FIN_TIMEOUT: u32 = 60_000;
pub const DEFAULT_RETRIES: u32 = 8;

/// The teardown block's counters, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TdCounter {
    /// Hand-overs accepted.
    HandOvers = 0,
    /// Hand-overs refused for want of room or a held tuple (`Fallback`).
    Fallback,
    /// TIME-WAIT entries recycled (`Recycled`).
    TwRecycled,
    /// Frames sent: FINs and data (first and retransmitted).
    FinSent,
    /// Timeout retransmissions.
    Retransmits,
    /// ACKs sent (peer's FIN, unacceptable segments, TIME-WAIT).
    AckSent,
    /// RSTs sent (retries exhausted, data after close).
    RstSent,
    /// Challenge ACKs (RFC 5961 in-window RST or SYN).
    ChallengeAck,
    /// RSTs dropped as out of window.
    RstDropped,
    /// Segments dropped by PAWS (RFC 7323 5.3), answered with an ACK.
    PawsDrop,
    /// SYNs for TIME-WAIT tuples accepted (RFC 6191) / refused.
    TwSynAccepted,
    TwSynRefused,
    /// Retransmitted FINs re-acknowledged in TIME-WAIT (timer restarted).
    TwFinReacked,
    /// Teardowns ended, any reason.
    Ended,
}
pub const TD_NUM_COUNTERS: usize = 14;
const _: () = assert!(TD_CNT_FIRST + 8 * TD_NUM_COUNTERS as u32 <= TEARDOWN_SIZE);

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> HandOver {
        HandOver {
            peer: ([10, 0, 0, 2], 40000),
            local: ([10, 0, 0, 1], 80),
            peer_mac: [2, 0, 0, 0, 0, 2],
            local_mac: [2, 0, 0, 0, 0, 1],
            order: CloseOrder::Active,
            snd_una: 0xFFFF_FF00,
            fin_seq: 0x0000_0100,
            rcv_nxt: 0x1234_5678,
            ts: Some((0xAABB_CCDD, 0x1122_3344)),
            snd_wnd: 501,
            snd_shift: 7,
            rcv_wnd: 65535,
            rcv_shift: 14,
            rto: 200,
            mss: 1460,
            retry_limit: 0,
            tag: 0xDEAD_BEEF,
        }
    }

    #[test]
    fn handover_round_trips_and_places_fields() {
        let r = rec();
        let b = r.encode();
        assert_eq!(HandOver::decode(&b), Ok(r));
        assert_eq!(r.kept(), 0x200);
        assert_eq!(&b[0..4], &[10, 0, 0, 2]);
        assert_eq!(u16::from_le_bytes([b[10], b[11]]), 80);
        assert_eq!(b[52], 7 | 14 << 4);
        assert_eq!(b[53], 2);
        assert_eq!(&b[60..64], &0xDEAD_BEEFu32.to_le_bytes());
        let p = HandOver {
            order: CloseOrder::Passive,
            ts: None,
            retry_limit: 15,
            ..r
        };
        let b = p.encode();
        assert_eq!(b[53], 1);
        assert_eq!(&b[36..44], &[0; 8]);
        assert_eq!(HandOver::decode(&b), Ok(p));
    }

    #[test]
    fn handover_limits() {
        let r = rec();
        let max = HandOver {
            fin_seq: r.snd_una.wrapping_add(MAX_KEPT_BYTES),
            ..r
        };
        assert_eq!(max.check(), Ok(()));
        let over = HandOver {
            fin_seq: max.fin_seq.wrapping_add(1),
            ..r
        };
        assert_eq!(over.check(), Err(HandOverError::TooMuchKept));
        // SND.UNA after the FIN's sequence number: a huge "kept".
        let back = HandOver {
            fin_seq: r.snd_una.wrapping_sub(1),
            ..r
        };
        assert_eq!(back.check(), Err(HandOverError::TooMuchKept));
        assert_eq!(
            HandOver { rto: 0, ..r }.check(),
            Err(HandOverError::ZeroRto)
        );
        assert_eq!(
            HandOver { mss: 0, ..r }.check(),
            Err(HandOverError::ZeroMss)
        );
        assert_eq!(
            HandOver { rcv_shift: 15, ..r }.check(),
            Err(HandOverError::BadShift)
        );
        assert_eq!(
            HandOver {
                retry_limit: 16,
                ..r
            }
            .check(),
            Err(HandOverError::BadRetryLimit)
        );
        let mut b = r.encode();
        b[57] = 1;
        assert_eq!(HandOver::decode(&b), Err(HandOverError::Reserved));
        let mut b = r.encode();
        b[53] |= 4;
        assert_eq!(HandOver::decode(&b), Err(HandOverError::Reserved));
        let mut b = r.encode();
        b[52] = 0xF0;
        assert_eq!(HandOver::decode(&b), Err(HandOverError::BadShift));
    }

    fn entry() -> Entry {
        Entry {
            state: State::TimeWait,
            ts_on: true,
            rtx: true,
            retries: 15,
            retry_limit: 15,
            queue: 3,
            snd_shift: 14,
            rcv_shift: 7,
            snd_una: 0xFFFF_FFFF,
            fin_seq: 0x8000_0001,
            rcv_nxt: 0x0123_4567,
            snd_wnd: 0xFFFF,
            rcv_wnd: 0x8001,
            mss: 9000,
            rto: 0xFFFF,
            ts_recent: 0xFEDC_BA98,
            ts_offset: 0x7654_3210,
            deadline: 0xFFFF_FFFE,
            start: 1,
            buf_addr: 0xFFFF_FFFF_FFFF_FFC0,
            kept: MAX_KEPT_BYTES as u16,
            peer_mac: [0xFF, 1, 2, 3, 4, 0x80],
            local_mac: [1, 0xFF, 0xFE, 0, 0, 1],
            tag: 0x8000_0001,
        }
    }

    #[test]
    fn entry_round_trips_at_field_limits() {
        let e = entry();
        assert!(e.fits());
        assert_eq!(Entry::unpack(&e.pack()), Some(e));
        for s in [
            State::FinWait1,
            State::FinWait2,
            State::Closing,
            State::LastAck,
        ] {
            let z = Entry {
                state: s,
                ts_on: false,
                rtx: false,
                retries: 0,
                retry_limit: 0,
                queue: 0,
                snd_shift: 0,
                rcv_shift: 0,
                buf_addr: 0,
                kept: 0,
                tag: 0,
                ..e
            };
            assert_eq!(Entry::unpack(&z.pack()), Some(z));
        }
        // Nothing above ENTRY_BITS.
        let w = e.pack();
        assert_eq!(w[7] >> (ENTRY_BITS - 448), 0);
        assert_eq!(ENTRY_BITS, 510);
        assert_eq!(Entry::unpack(&[0; 8]), None);
        assert!(!Entry { kept: 4097, ..e }.fits());
        assert!(!Entry {
            buf_addr: 0x20,
            ..e
        }
        .fits());
    }

    #[test]
    fn entry_fields_do_not_overlap() {
        use entry_bits::*;
        let mut f = [
            STATE,
            TS_ON,
            RTX,
            RETRIES,
            RETRY_LIMIT,
            QUEUE,
            SND_SHIFT,
            RCV_SHIFT,
            SND_UNA,
            FIN_SEQ,
            RCV_NXT,
            SND_WND,
            RCV_WND,
            MSS,
            RTO,
            TS_RECENT,
            TS_OFFSET,
            DEADLINE,
            START,
            BUF_ADDR,
            PEER_MAC,
            LOCAL_MAC,
            TAG,
            KEPT,
        ];
        f.sort();
        let mut end = 0;
        for (at, w) in f {
            assert_eq!(at, end, "gap or overlap at bit {at}");
            end = at + w;
        }
        assert_eq!(end, ENTRY_BITS);
    }

    #[test]
    fn events_round_trip_through_completions() {
        for (i, r) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(r as usize, i);
            let ev = TeardownEvent {
                reason: r,
                state: if r == Reason::Fallback {
                    None
                } else {
                    Some(State::TimeWait)
                },
                retries: 9,
                duration: 0xFFFF_FFF0 + i as u32,
                tag: 0x0102_0304,
            };
            let c = ev.to_completion(77, true);
            let b = c.encode();
            assert_eq!(b[12], KIND_TEARDOWN);
            assert_eq!(b[10], r as u8);
            assert_eq!(&b[20..24], &0x0102_0304u32.to_le_bytes());
            let back = crate::desc::Completion::decode(&b);
            assert_eq!(TeardownEvent::from_completion(&back), Some(ev));
        }
        let rx = crate::desc::Completion::default();
        assert_eq!(TeardownEvent::from_completion(&rx), None);
        let bad = crate::desc::Completion {
            kind: KIND_TEARDOWN,
            l3_off: 8,
            ..Default::default()
        };
        assert_eq!(TeardownEvent::from_completion(&bad), None);
    }

    #[test]
    fn opcode_fits_descriptor_field_and_kind_is_new() {
        use crate::desc;
        let d = desc::TxDesc {
            addr: 0x1000,
            len: (HANDOVER_BYTES + 100) as u16,
            flags: TX_OP_TEARDOWN << desc::TXF_OPCODE_SHIFT,
        };
        let back = desc::TxDesc::decode(&d.encode());
        assert_eq!(back.flags >> desc::TXF_OPCODE_SHIFT, TX_OP_TEARDOWN);
        assert_eq!(back.flags & (desc::TXF_CSUM_IP | desc::TXF_CSUM_TCP), 0);
        for k in [
            desc::KIND_RX,
            desc::KIND_TX,
            crate::setup::KIND_ESTABLISHED,
            crate::setup::KIND_CONNECTED,
            crate::setup::KIND_CONNECT_REFUSED,
        ] {
            assert_ne!(k, KIND_TEARDOWN);
        }
    }
}
