//! Reference model of the NIC's teardown engine (issue 17,
//! `toe_contract::teardown`, docs/teardown.md).  It is the scoreboard the
//! RTL will be checked against: frames in, frames and events out, time as
//! an explicit tick count (the timestamp clock, 1 ms at reset), never a
//! wall clock.
//!
//! Per entry it keeps exactly the contract's [`Entry`] (stored packed, so
//! the model can use no state the RTL's 510-bit value lacks), keyed by the
//! 4-tuple as received segments carry it ([`key_of`]).  The only other
//! per-connection data are the hand-over buffer's bytes, which stand in
//! for host memory the NIC re-reads by DMA.
//!
//! ## Timer semantics (what the RTL must match)
//!
//! Each entry has one deadline (`Entry::deadline`, low 32 bits of the
//! tick).  An entry fires in the tick equal to its deadline: the RTL sweeps
//! every entry once per tick (65,536 entries at one per cycle take 65,536
//! cycles, a quarter of a 1 ms tick at 250 MHz), so no deadline is seen
//! late and the resolution does not depend on the table's fill.  Actions
//! taken when an entry fires happen at that tick (the new deadline counts
//! from it; the TSval uses it).  Within one tick the order of different
//! entries' outputs is not specified (the sweep goes in table order, the
//! model in key order): a scoreboard compares one tick's outputs as a
//! multiset.  Frames and events caused by a received segment happen at the
//! current tick.
//!
//! ## Segment processing (RFC 9293 3.10.7.4 order)
//!
//! 1. TIME-WAIT and a SYN (no ACK, no RST): RFC 6191 (below).
//! 2. PAWS (RFC 7323 5.3): timestamps on, a segment whose TSval is older
//!    than TS.Recent and not an RST: ACK, drop.
//! 3. Sequence acceptability (RFC 9293 3.10.7.4, first check; RCV.WND =
//!    the window field of our ACKs << our shift): not acceptable: an RST
//!    is dropped, anything else is answered with `<SEQ=SND.NXT>
//!    <ACK=RCV.NXT><CTL=ACK>`.  In TIME-WAIT a retransmitted FIN (ending
//!    at RCV.NXT - 1) restarts the 2*MSL timer as well (RFC 9293 TIME-WAIT,
//!    "Restart the 2 MSL time-wait timeout").
//! 4. RST (RFC 5961 3.2): exactly RCV.NXT removes the entry (event
//!    `RstReceived`; RFC 9293 also in TIME-WAIT, as Linux's default
//!    `tcp_rfc1337` = 0); otherwise (in window) a challenge ACK.
//! 5. SYN in window (RFC 5961 4.2): challenge ACK.
//! 6. No ACK bit: drop.  ACK beyond SND.NXT: ACK, drop (RFC 9293); below
//!    SND.UNA - MAX.SND.WND: drop (RFC 5961 5.2).  New data acknowledged:
//!    SND.UNA and SND.WND advance, the retry count and backoff reset
//!    (RFC 6298 5.3 restarts the timer; Linux clears `icsk_backoff`), and
//!    after a timeout retransmission the next segment goes out at once.
//!    Our FIN acknowledged: FIN-WAIT-1 -> FIN-WAIT-2, CLOSING -> TIME-WAIT,
//!    LAST-ACK -> removed (`Normal`).
//! 7. Data beyond RCV.NXT in FIN-WAIT-1/2: the receive side is closed (the
//!    host freed the socket), so, as Linux does for an orphaned socket
//!    (`tcp_rcv_state_process`, RCV_SHUTDOWN), RST `<SEQ=SEG.ACK>` and
//!    removal (`DataAfterClose`).  In CLOSING, LAST-ACK and TIME-WAIT the
//!    text is ignored (RFC 9293).
//! 8. The peer's FIN at RCV.NXT: RCV.NXT + 1, ACK; FIN-WAIT-1 -> CLOSING
//!    (or TIME-WAIT if this segment acknowledged our FIN), FIN-WAIT-2 ->
//!    TIME-WAIT.  A FIN above RCV.NXT (a gap): duplicate ACK.
//!
//! TIME-WAIT SYN (RFC 6191 2): when the old connection used timestamps and
//! the SYN has them, it is accepted if its TSval is newer than TS.Recent;
//! otherwise if its sequence number is above RCV.NXT.  Accepted: the entry
//! is removed (`TimeWaitReused`) and the SYN goes on ([`Verdict::PassOn`]);
//! refused: the TIME-WAIT ACK.
//!
//! Challenge ACKs are not rate limited yet (RFC 5961 7 asks for a limit;
//! per entry, because a global one leaks state, CVE-2016-5696).
use crate::conn_table::tuple_key;
use crate::gen;
use crate::parse::{parse, Class};
use std::collections::{BTreeMap, BTreeSet};
use toe_contract::teardown::{
    CloseOrder, Entry, HandOver, HandOverError, Reason, State, TdCounter, TeardownEvent,
    DEFAULT_FIN_TIMEOUT, DEFAULT_RETRIES, DEFAULT_TW_TICKS, HANDOVER_BYTES, RTO_MAX_TICKS,
    TD_NUM_COUNTERS,
};

const FIN: u8 = gen::FIN;
const SYN: u8 = gen::SYN;
const RST: u8 = gen::RST;
const PSH: u8 = gen::PSH;
const ACK: u8 = gen::ACK;

/// The table key of a connection: peer address, our address, peer port,
/// our port (the order of a received segment's source and destination).
pub type Key = u128;

pub fn key_of(peer: ([u8; 4], u16), local: ([u8; 4], u16)) -> Key {
    tuple_key(
        u32::from_be_bytes(peer.0),
        u32::from_be_bytes(local.0),
        peer.1,
        local.1,
    )
}

fn key_parts(k: Key) -> (([u8; 4], u16), ([u8; 4], u16)) {
    (
        (((k >> 64) as u32).to_be_bytes(), (k >> 16) as u16),
        (((k >> 32) as u32).to_be_bytes(), k as u16),
    )
}

/// `a < b` in sequence space (RFC 9293 3.4).
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn le(a: u32, b: u32) -> bool {
    !lt(b, a)
}

/// The configuration registers (`TD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub enabled: bool,
    pub tw_ticks: u32,
    pub fin_timeout: u32,
    pub retries: u8,
    /// Most TIME-WAIT entries (`TD_MAX_TW`).
    pub max_tw: usize,
}

impl Config {
    /// The reset values for a table of `capacity` entries, enabled.
    pub fn new(capacity: usize) -> Config {
        Config {
            enabled: true,
            tw_ticks: DEFAULT_TW_TICKS,
            fin_timeout: DEFAULT_FIN_TIMEOUT,
            retries: DEFAULT_RETRIES as u8,
            max_tw: capacity,
        }
    }
}

/// What the engine emits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A frame for the MAC.
    Frame(Vec<u8>),
    /// A teardown ended (every reason but `Fallback` removed `key`'s entry).
    Event {
        queue: u8,
        key: Key,
        event: TeardownEvent,
    },
}

/// What becomes of a received segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No entry for its tuple (or not a good TCP segment): it goes on.
    NotOurs,
    /// The engine handled it; not delivered.
    Consumed,
    /// A SYN that ended a TIME-WAIT (RFC 6191): it takes its normal path.
    PassOn,
}

/// The teardown engine.
#[derive(Clone, Debug)]
pub struct Teardown {
    pub cfg: Config,
    capacity: usize,
    now: u64,
    entries: BTreeMap<Key, [u64; 8]>,
    /// (deadline, key): the model's fast path to the sweep's result.
    timers: BTreeSet<(u64, Key)>,
    deadline: BTreeMap<Key, u64>,
    /// TIME-WAIT entries in the order they entered TIME-WAIT (the RTL: a
    /// FIFO of keys).
    tw_order: BTreeMap<u64, Key>,
    tw_pos: BTreeMap<Key, u64>,
    tw_next: u64,
    /// The hand-over buffers' data (host memory the NIC reads by DMA).
    kept: BTreeMap<Key, Vec<u8>>,
    counters: [u64; TD_NUM_COUNTERS],
}

impl Teardown {
    pub fn new(capacity: usize, cfg: Config) -> Teardown {
        Teardown {
            cfg,
            capacity,
            now: 0,
            entries: BTreeMap::new(),
            timers: BTreeSet::new(),
            deadline: BTreeMap::new(),
            tw_order: BTreeMap::new(),
            tw_pos: BTreeMap::new(),
            tw_next: 0,
            kept: BTreeMap::new(),
            counters: [0; TD_NUM_COUNTERS],
        }
    }

    pub fn now(&self) -> u64 {
        self.now
    }
    pub fn entries(&self) -> usize {
        self.entries.len()
    }
    pub fn tw_entries(&self) -> usize {
        self.tw_order.len()
    }
    pub fn counter(&self, c: TdCounter) -> u64 {
        self.counters[c as usize]
    }
    pub fn entry(&self, key: Key) -> Option<Entry> {
        self.entries.get(&key).map(|w| Entry::unpack(w).unwrap())
    }
    /// The full tick an entry's timer fires at.
    pub fn deadline_of(&self, key: Key) -> Option<u64> {
        self.deadline.get(&key).copied()
    }

    fn count(&mut self, c: TdCounter) {
        self.counters[c as usize] += 1;
    }

    fn store(&mut self, key: Key, e: &Entry, deadline: u64) {
        let e = Entry {
            deadline: deadline as u32,
            ..*e
        };
        assert!(e.fits(), "entry does not fit its layout: {e:?}");
        let w = e.pack();
        debug_assert_eq!(Entry::unpack(&w), Some(e));
        self.entries.insert(key, w);
        if let Some(old) = self.deadline.insert(key, deadline) {
            self.timers.remove(&(old, key));
        }
        self.timers.insert((deadline, key));
        if e.state == State::TimeWait && !self.tw_pos.contains_key(&key) {
            self.tw_pos.insert(key, self.tw_next);
            self.tw_order.insert(self.tw_next, key);
            self.tw_next += 1;
        }
    }

    fn remove(&mut self, key: Key, e: &Entry, reason: Reason, out: &mut Vec<Output>) {
        self.entries.remove(&key);
        if let Some(d) = self.deadline.remove(&key) {
            self.timers.remove(&(d, key));
        }
        if let Some(p) = self.tw_pos.remove(&key) {
            self.tw_order.remove(&p);
        }
        self.kept.remove(&key);
        self.count(TdCounter::Ended);
        out.push(Output::Event {
            queue: e.queue,
            key,
            event: TeardownEvent {
                reason,
                state: Some(e.state),
                retries: e.retries,
                duration: (self.now as u32).wrapping_sub(e.start),
                tag: e.tag,
            },
        });
    }

    fn recycle_oldest_tw(&mut self, out: &mut Vec<Output>) -> bool {
        let Some((_, &key)) = self.tw_order.iter().next() else {
            return false;
        };
        let e = self.entry(key).unwrap();
        self.count(TdCounter::TwRecycled);
        self.remove(key, &e, Reason::Recycled, out);
        true
    }

    /// Linux's `tcp_max_tw_buckets`, but recycling the oldest.
    fn enforce_tw_limit(&mut self, out: &mut Vec<Output>) {
        while self.tw_order.len() > self.cfg.max_tw {
            self.recycle_oldest_tw(out);
        }
    }

    fn tsval(&self, e: &Entry) -> u32 {
        (self.now as u32).wrapping_add(e.ts_offset)
    }

    /// A segment from us to the peer.
    fn frame(&self, key: Key, e: &Entry, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (peer, local) = key_parts(key);
        let mut options = vec![];
        if e.ts_on && flags & RST == 0 {
            options.extend_from_slice(&[1, 1, 8, 10]);
            options.extend_from_slice(&self.tsval(e).to_be_bytes());
            options.extend_from_slice(&e.ts_recent.to_be_bytes());
        }
        gen::tcp_frame(&gen::TcpSpec {
            ip: gen::Ipv4Spec {
                dst_mac: e.peer_mac,
                src_mac: e.local_mac,
                src: local.0,
                dst: peer.0,
                ident: 0,
                ttl: 64,
                dont_frag: true,
                ..gen::Ipv4Spec::default()
            },
            src_port: local.1,
            dst_port: peer.1,
            seq,
            ack,
            flags,
            window: if flags & RST != 0 { 0 } else { e.rcv_wnd },
            urgent: 0,
            options,
            payload: payload.to_vec(),
        })
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`.
    fn ack(&mut self, key: Key, e: &Entry, out: &mut Vec<Output>) {
        let f = self.frame(key, e, e.fin_seq.wrapping_add(1), e.rcv_nxt, ACK, &[]);
        self.count(TdCounter::AckSent);
        out.push(Output::Frame(f));
    }

    fn challenge_ack(&mut self, key: Key, e: &Entry, out: &mut Vec<Output>) {
        let f = self.frame(key, e, e.fin_seq.wrapping_add(1), e.rcv_nxt, ACK, &[]);
        self.count(TdCounter::ChallengeAck);
        out.push(Output::Frame(f));
    }

    /// The segment from SND.UNA: up to one MSS of the kept data (at least
    /// one byte into a zero window: a probe), with the FIN when the rest
    /// fits.
    fn send_from_una(&mut self, key: Key, e: &Entry, out: &mut Vec<Output>) {
        let snd_nxt = e.fin_seq.wrapping_add(1);
        if e.snd_una == snd_nxt {
            return;
        }
        let remaining = e.fin_seq.wrapping_sub(e.snd_una);
        let wnd = ((e.snd_wnd as u64) << e.snd_shift).max(1);
        let n = (remaining as u64).min(e.mss as u64).min(wnd) as u32;
        let fin = n == remaining;
        let buf_seq = e.fin_seq.wrapping_sub(e.kept as u32);
        let off = e.snd_una.wrapping_sub(buf_seq) as usize;
        let data = self.kept.get(&key).map_or(&[][..], |v| &v[..]);
        let payload = data[off..off + n as usize].to_vec();
        let flags = ACK | if fin { FIN } else { 0 } | if n > 0 { PSH } else { 0 };
        let f = self.frame(key, e, e.snd_una, e.rcv_nxt, flags, &payload);
        self.count(TdCounter::FinSent);
        out.push(Output::Frame(f));
    }

    fn rto_after(&self, e: &Entry) -> u64 {
        ((e.rto as u64) << e.retries).min(RTO_MAX_TICKS as u64)
    }

    /// A hand-over descriptor's buffer (`HANDOVER_BYTES` of record, then
    /// the kept data) arriving on `queue`, buffer at `addr`.  `Err`: the
    /// descriptor is rejected (nothing kept, no event).
    pub fn handover(
        &mut self,
        queue: u8,
        addr: u64,
        buf: &[u8],
    ) -> Result<Vec<Output>, HandOverError> {
        let Some(head) = buf.get(..HANDOVER_BYTES) else {
            return Err(HandOverError::Length);
        };
        let rec = HandOver::decode(head.try_into().unwrap())?;
        if buf.len() != HANDOVER_BYTES + rec.kept() as usize {
            return Err(HandOverError::Length);
        }
        let key = key_of(rec.peer, rec.local);
        let mut out = vec![];
        // Refused: offload off, the tuple already held, or no room even
        // after recycling the oldest TIME-WAIT entry (checked in this order,
        // so a refused hand-over recycles nothing).
        if !self.cfg.enabled
            || self.entries.contains_key(&key)
            || !(self.entries.len() < self.capacity || self.recycle_oldest_tw(&mut out))
        {
            self.count(TdCounter::Fallback);
            out.push(Output::Event {
                queue,
                key,
                event: TeardownEvent {
                    reason: Reason::Fallback,
                    state: None,
                    retries: 0,
                    duration: 0,
                    tag: rec.tag,
                },
            });
            return Ok(out);
        }
        let now = self.now as u32;
        let (ts_recent, ts_now) = rec.ts.unwrap_or((0, 0));
        let e = Entry {
            state: match rec.order {
                CloseOrder::Active => State::FinWait1,
                CloseOrder::Passive => State::LastAck,
            },
            ts_on: rec.ts.is_some(),
            rtx: false,
            retries: 0,
            retry_limit: if rec.retry_limit == 0 {
                self.cfg.retries.min(15)
            } else {
                rec.retry_limit
            },
            queue,
            snd_shift: rec.snd_shift,
            rcv_shift: rec.rcv_shift,
            snd_una: rec.snd_una,
            fin_seq: rec.fin_seq,
            rcv_nxt: rec.rcv_nxt,
            snd_wnd: rec.snd_wnd,
            rcv_wnd: rec.rcv_wnd,
            mss: rec.mss,
            rto: rec.rto,
            ts_recent,
            ts_offset: ts_now.wrapping_sub(now),
            deadline: 0,
            start: now,
            buf_addr: if rec.kept() > 0 { addr } else { 0 },
            kept: rec.kept() as u16,
            peer_mac: rec.peer_mac,
            local_mac: rec.local_mac,
            tag: rec.tag,
        };
        if rec.kept() > 0 {
            self.kept.insert(key, buf[HANDOVER_BYTES..].to_vec());
        }
        self.count(TdCounter::HandOvers);
        // The FIN (the host sent the data before the descriptor).
        let f = self.frame(key, &e, e.fin_seq, e.rcv_nxt, ACK | FIN, &[]);
        self.count(TdCounter::FinSent);
        out.push(Output::Frame(f));
        self.store(key, &e, self.now + e.rto as u64);
        Ok(out)
    }

    /// Advances time to tick `to`, firing every timer due on the way, each
    /// at its own tick.
    pub fn advance(&mut self, to: u64) -> Vec<Output> {
        assert!(to >= self.now, "time goes forward");
        let mut out = vec![];
        while let Some(&(d, key)) = self.timers.first() {
            if d > to {
                break;
            }
            self.timers.remove(&(d, key));
            self.deadline.remove(&key);
            self.now = self.now.max(d);
            self.fire(key, &mut out);
            self.enforce_tw_limit(&mut out);
        }
        self.now = to;
        out
    }

    fn fire(&mut self, key: Key, out: &mut Vec<Output>) {
        let mut e = self.entry(key).unwrap();
        match e.state {
            State::FinWait1 | State::Closing | State::LastAck => {
                if e.retries >= e.retry_limit {
                    // Linux's tcp_send_active_reset: RST|ACK at SND.NXT.
                    let f = self.frame(
                        key,
                        &e,
                        e.fin_seq.wrapping_add(1),
                        e.rcv_nxt,
                        RST | ACK,
                        &[],
                    );
                    self.count(TdCounter::RstSent);
                    out.push(Output::Frame(f));
                    self.remove(key, &e, Reason::RetriesExhausted, out);
                } else {
                    e.retries += 1;
                    e.rtx = true;
                    self.count(TdCounter::Retransmits);
                    self.send_from_una(key, &e, out);
                    let d = self.now + self.rto_after(&e);
                    self.store(key, &e, d);
                }
            }
            // Linux's default path (fin timeout = TIME-WAIT length): the
            // FIN-WAIT-2 timewait socket dies silently.
            State::FinWait2 => self.remove(key, &e, Reason::Fin2Timeout, out),
            State::TimeWait => self.remove(key, &e, Reason::Normal, out),
        }
    }

    /// A received frame at the current tick.
    pub fn segment(&mut self, frame: &[u8]) -> (Verdict, Vec<Output>) {
        let p = parse(frame, false, toe_contract::MAX_FRAME as u16);
        let (ip, t) = match (&p.ipv4, &p.tcp) {
            (Some(ip), Some(t)) if p.class == Class::Tcp && ip.csum_ok && t.csum_ok => (ip, t),
            _ => return (Verdict::NotOurs, vec![]),
        };
        let key = key_of((ip.src, t.src_port), (ip.dst, t.dst_port));
        let Some(e) = self.entry(key) else {
            return (Verdict::NotOurs, vec![]);
        };
        let s = Seg {
            flags: t.flags,
            seq: t.seq,
            ack: t.ack,
            window: t.window,
            plen: (t.seg_len - 4 * t.data_offset as usize) as u16,
            tsval: if t.opts.bad {
                None
            } else {
                t.opts.timestamps.map(|(v, _)| v)
            },
        };
        let mut out = vec![];
        let v = self.process(key, &e, &s, &mut out);
        self.enforce_tw_limit(&mut out);
        (v, out)
    }

    fn process(&mut self, key: Key, e: &Entry, s: &Seg, out: &mut Vec<Output>) -> Verdict {
        let d = decide(e, s);
        if let Some(c) = d.count {
            self.count(c);
        }
        match d.reply {
            Reply::None => {}
            Reply::Ack => self.ack(key, &d.entry, out),
            Reply::ChallengeAck => self.challenge_ack(key, &d.entry, out),
            Reply::RstAtAck => {
                let f = self.frame(key, &d.entry, s.ack, 0, RST, &[]);
                self.count(TdCounter::RstSent);
                out.push(Output::Frame(f));
            }
            Reply::FromUna => self.send_from_una(key, &d.entry, out),
        }
        if let Some(reason) = d.remove {
            self.remove(key, &d.entry, reason, out);
        } else if d.write {
            let deadline = match d.timer {
                Timer::Keep => self.deadline[&key],
                Timer::TimeWait => self.now + self.cfg.tw_ticks as u64,
                Timer::Fin2 => self.now + self.cfg.fin_timeout as u64,
                Timer::Rto => self.now + self.rto_after(&d.entry),
            };
            self.store(key, &d.entry, deadline);
        }
        d.verdict
    }
}

/// The fields of a received segment the engine decides on (what the RX
/// event bus carries: `e_flags`, `e_seq`, `e_ackn`, `e_window`, the payload
/// length and the late record's timestamps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Payload length (bytes after the TCP header).
    pub plen: u16,
    /// The timestamps option's TSval (`None`: no option, or the options
    /// did not parse).
    pub tsval: Option<u32>,
}

/// The one segment a decision sends (at most one: see [`decide`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    None,
    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` (counted `AckSent`).
    Ack,
    /// The same segment as an RFC 5961 challenge ACK (`ChallengeAck`).
    ChallengeAck,
    /// `<SEQ=SEG.ACK><CTL=RST>` (`RstSent`).
    RstAtAck,
    /// The next segment from SND.UNA (kept data and/or the FIN), with the
    /// entry's final RCV.NXT as its acknowledgement (`FinSent`).
    FromUna,
}

/// The entry's timer after a decision (when it is written back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Unchanged.
    Keep,
    /// Now + `TD_TW_TICKS`.
    TimeWait,
    /// Now + `TD_FIN_TIMEOUT`.
    Fin2,
    /// Now + the entry's RTO (the backoff was just reset).
    Rto,
}

/// What one received segment does to one entry: the pure part of the
/// engine, the specification of the RTL's `teardown::decide` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// `Consumed` or `PassOn`.
    pub verdict: Verdict,
    pub reply: Reply,
    /// The entry after the segment (its `deadline` field untouched).
    pub entry: Entry,
    /// Write `entry` back with `timer` (false: the entry is unchanged).
    pub write: bool,
    pub timer: Timer,
    /// The entry is removed, its event has this reason.
    pub remove: Option<Reason>,
    /// A counter only this decision explains (`RstDropped`, `PawsDrop`,
    /// `TwSynAccepted`, `TwSynRefused`, `TwFinReacked`); replies and
    /// removals count their own.
    pub count: Option<TdCounter>,
}

/// Segment processing (the module doc's steps 1 to 8) for entry `e`.
///
/// One reply at most: when a partial ACK after a timeout retransmission
/// (which sends the next segment from SND.UNA) comes with the peer's FIN,
/// the one segment from SND.UNA carries the new RCV.NXT and so also
/// acknowledges the FIN; when it comes with data after close, the RST
/// alone goes out (the connection ends).
pub fn decide(e: &Entry, s: &Seg) -> Decision {
    let mut d = Decision {
        verdict: Verdict::Consumed,
        reply: Reply::None,
        entry: *e,
        write: false,
        timer: Timer::Keep,
        remove: None,
        count: None,
    };
    let f = s.flags;
    let (syn, rst, ackf, finf) = (f & SYN != 0, f & RST != 0, f & ACK != 0, f & FIN != 0);
    let plen = s.plen as u32;
    let seg_len = plen + syn as u32 + finf as u32;

    // 1. RFC 6191: a new SYN for a TIME-WAIT tuple.
    if e.state == State::TimeWait && syn && !ackf && !rst {
        let accept = match s.tsval {
            Some(tsval) if e.ts_on => lt(e.ts_recent, tsval),
            _ => lt(e.rcv_nxt, s.seq),
        };
        if accept {
            d.count = Some(TdCounter::TwSynAccepted);
            d.remove = Some(Reason::TimeWaitReused);
            d.verdict = Verdict::PassOn;
        } else {
            d.count = Some(TdCounter::TwSynRefused);
            d.reply = Reply::Ack;
        }
        return d;
    }
    // 2. PAWS (RFC 7323 5.3).
    if let (true, Some(tsval), false) = (e.ts_on, s.tsval, rst) {
        if lt(tsval, e.ts_recent) {
            d.count = Some(TdCounter::PawsDrop);
            d.reply = Reply::Ack;
            return d;
        }
    }
    // 3. Acceptability (RFC 9293 3.10.7.4).
    let wnd = (e.rcv_wnd as u64) << e.rcv_shift;
    let in_wnd = |x: u32| (x.wrapping_sub(e.rcv_nxt) as u64) < wnd;
    let acceptable = match (seg_len, wnd) {
        (0, 0) => s.seq == e.rcv_nxt,
        (0, _) => in_wnd(s.seq),
        (_, 0) => false,
        (n, _) => in_wnd(s.seq) || in_wnd(s.seq.wrapping_add(n - 1)),
    };
    if !acceptable {
        if rst {
            d.count = Some(TdCounter::RstDropped);
            return d;
        }
        if e.state == State::TimeWait
            && finf
            && s.seq.wrapping_add(plen) == e.rcv_nxt.wrapping_sub(1)
        {
            // A retransmitted FIN: our last ACK was lost.
            d.count = Some(TdCounter::TwFinReacked);
            d.write = true;
            d.timer = Timer::TimeWait;
        }
        d.reply = Reply::Ack;
        return d;
    }
    let e = &mut d.entry;
    // RFC 7323 4.3: TS.Recent from an acceptable segment.
    if let (true, Some(tsval)) = (e.ts_on, s.tsval) {
        if le(s.seq, e.rcv_nxt) && le(e.ts_recent, tsval) {
            e.ts_recent = tsval;
        }
    }
    // 4. RST (RFC 5961 3.2).
    if rst {
        if s.seq == e.rcv_nxt {
            d.remove = Some(Reason::RstReceived);
        } else {
            d.reply = Reply::ChallengeAck;
            d.write = true;
        }
        return d;
    }
    // 5. SYN in window (RFC 5961 4.2).
    if syn {
        d.reply = Reply::ChallengeAck;
        d.write = true;
        return d;
    }
    // 6. ACK.
    d.write = true;
    if !ackf {
        return d;
    }
    let snd_nxt = e.fin_seq.wrapping_add(1);
    if lt(snd_nxt, s.ack) {
        d.reply = Reply::Ack;
        return d;
    }
    let max_wnd = (e.snd_wnd as u32) << e.snd_shift;
    if lt(s.ack, e.snd_una.wrapping_sub(max_wnd)) {
        return d;
    }
    if lt(e.snd_una, s.ack) {
        e.snd_una = s.ack;
        e.snd_wnd = s.window;
        e.retries = 0;
        let fin_acked = e.snd_una == snd_nxt;
        match e.state {
            State::FinWait1 if fin_acked => {
                e.state = State::FinWait2;
                e.rtx = false;
                d.timer = Timer::Fin2;
            }
            State::Closing if fin_acked => {
                e.state = State::TimeWait;
                d.timer = Timer::TimeWait;
            }
            State::LastAck if fin_acked => {
                d.remove = Some(Reason::Normal);
                return d;
            }
            State::FinWait1 | State::Closing | State::LastAck => {
                // RFC 6298 5.3: restart the timer for what is left.
                if e.rtx {
                    d.reply = Reply::FromUna;
                }
                d.timer = Timer::Rto;
            }
            _ => {}
        }
    } else if e.snd_una == s.ack {
        e.snd_wnd = s.window;
    }
    // 7. Data for the closed receive side.
    if plen > 0
        && matches!(e.state, State::FinWait1 | State::FinWait2)
        && lt(e.rcv_nxt, s.seq.wrapping_add(plen))
    {
        d.reply = Reply::RstAtAck;
        d.remove = Some(Reason::DataAfterClose);
        return d;
    }
    // 8. The peer's FIN.
    if finf {
        if s.seq.wrapping_add(plen) == e.rcv_nxt
            && matches!(e.state, State::FinWait1 | State::FinWait2)
        {
            e.rcv_nxt = e.rcv_nxt.wrapping_add(1);
            if e.state == State::FinWait1 {
                e.state = State::Closing;
                // Our FIN's timer keeps running.
            } else {
                e.state = State::TimeWait;
                d.timer = Timer::TimeWait;
            }
        }
        if d.reply == Reply::None {
            d.reply = Reply::Ack;
        }
    }
    d
}

#[cfg(test)]
#[path = "teardown_tests.rs"]
mod tests;
