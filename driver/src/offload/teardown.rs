//! The teardown offload's host side (issue 17 deliverable 5; design in
//! docs/teardown.md, contract `toe_contract::teardown`): finding the
//! device's teardown block, building the hand-over record from a closed
//! connection's TCB, and the end of each hand-over (statistics, or the
//! close finished in software when the NIC refused it).
//!
//! How a close goes, for a connection whose socket has the offload on
//! (`Endpoint::set_teardown_offload`):
//!
//! 1. `close()` in ESTABLISHED (active close) or CLOSE-WAIT (passive
//!    close) asks the TCP core for no FIN; the connection joins
//!    [`Teardowns`]' waiting list and keeps its TCB while bytes written are
//!    unsent (backpressure: nothing is dropped, the core keeps sending
//!    them as the windows allow).  In any other state the close is the
//!    software one.
//! 2. Once everything written has been sent, [`Teardowns::run`] builds the
//!    record (`HandOver`: the TCB's sequence numbers, windows and shifts,
//!    timestamps, RTO in NIC ticks, MSS, a tag) followed by the bytes
//!    `[SND.UNA, FIN)`, and posts it on the connection's TX queue as a
//!    descriptor with opcode `TX_OP_TEARDOWN`, after every frame built
//!    before it (so the NIC's FIN follows the data).  The TCB is freed at
//!    once ([`TeardownHooks::hand_over`]): TIME-WAIT no longer occupies the
//!    host's table.  The record and the tuple are kept here until the
//!    teardown's end.
//! 3. The buffer: a hand-over without kept bytes (`kept = 0`) gets its
//!    buffer back with the descriptor's TX completion (the NIC copied the
//!    record and never reads the buffer again); one with kept bytes
//!    leaves it to the NIC until the teardown's completion event (the NIC
//!    re-reads the bytes to retransmit them).  [`HandOverBufs`] in the
//!    queue layer keeps these accounts.
//! 4. The end: the teardown's completion event (`KIND_TEARDOWN`, matched
//!    by tag) comes back from the queue layer, with the buffer when the
//!    NIC held it, and [`Teardowns::on_done`] counts it by reason and
//!    duration.  `Fallback` (or the descriptor rejected, as today's RTL
//!    does with every opcode but 0) means the NIC holds nothing: the
//!    connection is rebuilt from the record kept here in host memory and,
//!    when there were kept bytes, the returned buffer's bytes
//!    ([`TeardownHooks::handover_fallback`]) and its close runs in software
//!    from FIN-WAIT-1 or LAST-ACK.
//!
//! Closes the offload does not take run in software and are counted:
//! more unacknowledged bytes than a hand-over carries (`MAX_KEPT_BYTES`,
//! or what fits a buffer after the record), a hand-over with kept bytes
//! when [`TeardownParams::max_held_buffers`] of them are in flight (each
//! holds one buffer of the queue's pool until its event), any hand-over
//! when [`TeardownParams::max_records`] are in flight (the records kept
//! in host memory for the fallback), no route to the peer.
use super::connect::{NextHop, CORE_CLOCK_HZ};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::tcp::conn::{Handle, State};
use crate::tcp::offload::{TeardownCheck, TeardownHooks, TeardownTcb};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use toe_contract::regs as r;
use toe_contract::teardown as t;

/// How soon to try again a hand-over that waited for a buffer, the
/// frames queued before it or the next hop.
pub const RETRY: Duration = Duration::from_millis(1);

/// What an endpoint needs of the device's teardown offload (from
/// [`Device::teardown_params`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeardownParams {
    /// One tick of the NIC's timestamp clock, the unit of the record's RTO
    /// (`SETUP_TS_PERIOD` cycles at [`CORE_CLOCK_HZ`]; 1 ms at reset).
    pub tick: Duration,
    /// Hand-overs with kept bytes (`kept > 0`) an endpoint may have in
    /// flight (posted, no event yet): each holds one buffer of its queue's
    /// pool until its event, which for a normal active close comes after
    /// TIME-WAIT (`TD_TW_TICKS`, 60 s at reset), and those buffers are
    /// missing from the RX refill.  Beyond it such closes run in software
    /// (counted, `sw_limit`).  Hand-overs without kept bytes do not count:
    /// their buffer is back with the TX completion, like a frame's.
    pub max_held_buffers: usize,
    /// Hand-overs of any kind an endpoint may have in flight: each keeps
    /// its record (the TCB's numbers, about 80 bytes) in host memory until
    /// its event, for the fallback.  Bounds that memory (a few MB at the
    /// default, 65,536: the NIC's table size, beyond which hand-overs only
    /// recycle TIME-WAIT entries); beyond it closes run in software
    /// (counted, `sw_record_limit`).
    pub max_records: usize,
    /// The record's retry limit (0: the device's `TD_RETRIES`; at most 15).
    pub retry_limit: u8,
}

impl TeardownParams {
    /// For a device whose timestamp clock ticks every `tick`.
    pub fn with_tick(tick: Duration) -> TeardownParams {
        TeardownParams {
            tick,
            max_held_buffers: 256,
            max_records: 65_536,
            retry_limit: 0,
        }
    }

    /// `d` in ticks, rounded up, within the record's 16 bits and above 0:
    /// an RTO longer than 65,535 ticks (65.5 s at 1 ms ticks, but 655 ms
    /// at the 10 us ticks simulations use) is handed over as 65,535.
    pub fn ticks(&self, d: Duration) -> u16 {
        let tick = self.tick.as_nanos().max(1);
        d.as_nanos().div_ceil(tick).clamp(1, u16::MAX as u128) as u16
    }
}

impl Device {
    /// The teardown block's offset, found by walking the block list as
    /// for every offload (never assumed at its contract address).
    pub(crate) fn teardown_base(&self) -> Result<u32> {
        let info = self.info();
        info.blocks
            .iter()
            .find(|b| b.kind == t::TYPE_TEARDOWN && b.version >> 16 == 1)
            .map(|b| b.offset)
            .ok_or_else(|| Error::NoOffload {
                backend: info.backend.clone(),
                offload: "teardown",
                block_type: t::TYPE_TEARDOWN,
                found: info
                    .blocks
                    .iter()
                    .map(|b| format!("{} {:#010x} v{:#x}", b.name(), b.kind, b.version))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Whether the device has the teardown offload.
    pub fn has_teardown_offload(&self) -> bool {
        self.teardown_base().is_ok()
    }

    /// The teardown offload's parameters for an endpoint
    /// (`EndpointConfig::teardown`).  Fails, naming the cause, when the
    /// device has no teardown block, or when its timestamp clock (the
    /// teardown timers' tick, in the setup block) is stopped.
    pub fn teardown_params(&self) -> Result<TeardownParams> {
        self.teardown_base()?;
        let period = match self.setup_base() {
            Ok(sb) => self.read32(sb + r::SETUP_TS_PERIOD),
            // No setup block to set it: the clock runs at its reset rate.
            Err(_) => r::DEFAULT_TS_PERIOD,
        };
        if period == 0 {
            return Err(Error::Config(
                "teardown offload: the NIC's timestamp clock is stopped (SETUP_TS_PERIOD 0), \
                 so its retransmission and TIME-WAIT timers would never fire"
                    .into(),
            ));
        }
        Ok(TeardownParams::with_tick(Duration::from_nanos(
            period as u64 * 1_000_000_000 / CORE_CLOCK_HZ,
        )))
    }

    /// Turns hand-overs on or off in the NIC (`TD_CTRL`; off: every
    /// hand-over completes as `Fallback` and closes in software).
    pub fn teardown_enable(&self, on: bool) -> Result<()> {
        let b = self.teardown_base()?;
        let c = self.read32(b + t::TD_CTRL);
        let c = if on {
            c | t::TD_CTRL_ENABLE
        } else {
            c & !t::TD_CTRL_ENABLE
        };
        self.write32(b + t::TD_CTRL, c);
        Ok(())
    }

    /// Counter `c` of the teardown block (64 bits: reading LO latches HI).
    pub fn teardown_counter(&self, c: t::TdCounter) -> Result<u64> {
        let off = self.teardown_base()? + t::TD_CNT_FIRST + 8 * c as u32;
        let lo = self.read32(off) as u64;
        let hi = self.read32(off + 4) as u64;
        Ok(hi << 32 | lo)
    }
}

// ------------------------------------------------------- queue bookkeeping

/// A hand-over's end, from the queue layer: its teardown ended (`event`)
/// after the descriptor completed, or the NIC rejected the descriptor
/// (`event` `None`: no teardown ran, none will end).  `buf` is the
/// hand-over's buffer when it had kept bytes (the NIC held it until now);
/// `None` without kept bytes, whose buffer went back to the pool with the
/// TX completion.
#[derive(Debug, PartialEq, Eq)]
pub struct Returned<B> {
    pub tag: u32,
    pub event: Option<t::TeardownEvent>,
    pub buf: Option<B>,
}

/// The queue layer's accounts of hand-overs (`nic.rs`).  A hand-over's
/// buffer is the NIC's from its post until its TX completion when it has
/// no kept bytes (the NIC copied the record and never reads the buffer
/// again: [`HandOverBufs::tx_done`] gives it back for the pool), and until
/// both its TX completion and its teardown event have been seen, in
/// either order (they come on two rings), when it has kept bytes (the NIC
/// re-reads them to retransmit).  A rejected descriptor's buffer comes
/// back with its TX completion.  Bounded by the hand-overs in flight:
/// every map holds at most one entry per hand-over.
#[derive(Debug)]
pub struct HandOverBufs<B> {
    /// Tags on the TX ring, completion not seen (count per tag).
    posted: HashMap<u32, u32>,
    /// Kept bytes: TX completion seen, event not yet: the buffer waits
    /// here.
    held: HashMap<u32, B>,
    /// No kept bytes: TX completion seen (the buffer is back in the pool),
    /// event not yet.
    released: HashSet<u32>,
    /// Event seen before the TX completion.
    early: HashMap<u32, t::TeardownEvent>,
    done: VecDeque<Returned<B>>,
}

impl<B> Default for HandOverBufs<B> {
    fn default() -> Self {
        HandOverBufs {
            posted: HashMap::new(),
            held: HashMap::new(),
            released: HashSet::new(),
            early: HashMap::new(),
            done: VecDeque::new(),
        }
    }
}

impl<B> HandOverBufs<B> {
    /// A hand-over descriptor with `tag` went onto the TX ring.
    pub fn posted(&mut self, tag: u32) {
        *self.posted.entry(tag).or_insert(0) += 1;
    }

    /// Its TX completion, for a descriptor of `kept` bytes after the
    /// record.  Returns the buffer when it goes back to the pool now:
    /// without kept bytes always (the NIC never reads it again), with kept
    /// bytes never (it goes back with the event, through
    /// [`HandOverBufs::take`]).  `rejected` (CPL_ERROR) ends the hand-over
    /// at once (no event will come); otherwise it ends with its event,
    /// unless the event came first.
    #[must_use = "a buffer returned goes back to the pool"]
    pub fn tx_done(&mut self, tag: u32, buf: B, kept: usize, rejected: bool) -> Option<B> {
        if let Some(n) = self.posted.get_mut(&tag) {
            *n -= 1;
            if *n == 0 {
                self.posted.remove(&tag);
            }
        }
        let (free, buf) = if kept == 0 {
            (Some(buf), None)
        } else {
            (None, Some(buf))
        };
        let event = self.early.remove(&tag);
        if rejected {
            self.done.push_back(Returned {
                tag,
                event: None,
                buf,
            });
        } else if let Some(ev) = event {
            self.done.push_back(Returned {
                tag,
                event: Some(ev),
                buf,
            });
        } else if let Some(buf) = buf {
            self.held.insert(tag, buf);
        } else {
            self.released.insert(tag);
        }
        free
    }

    /// A teardown's completion event.  False when its tag names no
    /// hand-over in flight (a device bug, counted by the caller).
    pub fn event(&mut self, ev: t::TeardownEvent) -> bool {
        if let Some(buf) = self.held.remove(&ev.tag) {
            self.done.push_back(Returned {
                tag: ev.tag,
                event: Some(ev),
                buf: Some(buf),
            });
            true
        } else if self.released.remove(&ev.tag) {
            self.done.push_back(Returned {
                tag: ev.tag,
                event: Some(ev),
                buf: None,
            });
            true
        } else if self.posted.contains_key(&ev.tag) && !self.early.contains_key(&ev.tag) {
            self.early.insert(ev.tag, ev);
            true
        } else {
            false
        }
    }

    /// The next hand-over ended (with its buffer if the NIC held it).
    pub fn take(&mut self) -> Option<Returned<B>> {
        self.done.pop_front()
    }

    /// Buffers the NIC holds now: on the TX ring, or with kept bytes
    /// waiting for their event.
    pub fn held(&self) -> usize {
        self.held.len() + self.posted.values().sum::<u32>() as usize
    }

    /// Hand-overs whose buffer is back but whose event has not come.
    pub fn released(&self) -> usize {
        self.released.len()
    }
}

// ------------------------------------------------------------- endpoint

/// What [`Teardowns::run`] needs from the socket layer's queue: the peer's
/// next hop and a way to post the hand-over descriptor after every frame
/// built so far.
pub trait HandOverPort {
    /// Our MAC address (the frames' source).
    fn local_mac(&self) -> [u8; 6];
    /// The next hop's MAC for `dst`.
    fn next_hop(&mut self, dst: [u8; 4]) -> NextHop;
    /// Bytes per buffer.
    fn buf_size(&self) -> usize;
    /// Posts a descriptor with opcode `TX_OP_TEARDOWN` whose `len` bytes
    /// `fill` writes, after every frame built before; false when it cannot
    /// now (no free buffer, or frames still wait in the network layer and
    /// would go after it): try again at the next poll.
    fn post(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> bool;
}

/// Counts of the teardown offload's host side, per endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeardownStats {
    /// Closes asked for with the offload on.
    pub closes: u64,
    /// Of those, closes that waited for unsent data before the hand-over.
    pub deferred: u64,
    /// Hand-overs posted (TCB freed).
    pub handed_over: u64,
    /// Closes run in software: not ESTABLISHED or CLOSE-WAIT at close (a
    /// FIN already sent, a handshake in progress).
    pub sw_state: u64,
    /// Closes run in software: more unacknowledged bytes than a hand-over
    /// carries (`MAX_KEPT_BYTES`, or a buffer's room after the record).
    pub sw_too_much_kept: u64,
    /// Closes with kept bytes run in software:
    /// [`TeardownParams::max_held_buffers`] hand-overs holding a buffer
    /// in flight.
    pub sw_limit: u64,
    /// Closes run in software: [`TeardownParams::max_records`] hand-overs
    /// in flight.
    pub sw_record_limit: u64,
    /// Closes run in software: no route to the peer.
    pub sw_no_route: u64,
    /// Teardowns ended, by `Reason` (index: the reason's value).
    pub ended: [u64; 8],
    /// Hand-overs whose descriptor the NIC rejected (finished in software).
    pub rejected: u64,
    /// Connections rebuilt in software after `Fallback` or a rejection.
    pub rebuilt: u64,
    /// Refused hand-overs whose connection could not be rebuilt (its tuple
    /// in use again): given up.
    pub lost: u64,
    /// Events or returned buffers whose tag names no hand-over in flight.
    pub unknown_tag: u64,
    /// Sum and largest of the ended teardowns' durations, NIC ticks.
    pub duration_ticks: u64,
    pub duration_max: u32,
}

impl TeardownStats {
    /// Teardowns ended for `reason`.
    pub fn ended(&self, reason: t::Reason) -> u64 {
        self.ended[reason as usize]
    }
}

/// A hand-over posted, until its end: what the fallback needs (the
/// record's numbers, the kept bytes excepted), in host memory, not in the
/// DMA buffer, which for `kept = 0` is back in the pool long before.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    h: Handle,
    tcb: TeardownTcb,
    /// When it was posted (the record's TSval is the one for then).
    at: Duration,
}

/// One endpoint's teardown offload: closes waiting for their data to go
/// out, hand-overs in flight (by tag), statistics.
#[derive(Debug)]
pub struct Teardowns {
    params: TeardownParams,
    local_ip: [u8; 4],
    /// Closes waiting for their hand-over, and whether each was counted
    /// as deferred (it had to wait for unsent data).
    waiting: Vec<(Handle, bool)>,
    in_flight: HashMap<u32, InFlight>,
    /// Of those, hand-overs with kept bytes (each holds a buffer).
    holding: usize,
    next_tag: u32,
    stats: TeardownStats,
    /// The record and kept bytes while building, or the kept bytes read
    /// back for a rebuild (at most a buffer).
    scratch: Vec<u8>,
}

impl Teardowns {
    pub fn new(params: TeardownParams, local_ip: [u8; 4]) -> Teardowns {
        Teardowns {
            params,
            local_ip,
            waiting: Vec::new(),
            in_flight: HashMap::new(),
            holding: 0,
            next_tag: 1,
            stats: TeardownStats::default(),
            scratch: Vec::new(),
        }
    }

    pub fn params(&self) -> &TeardownParams {
        &self.params
    }
    pub fn stats(&self) -> TeardownStats {
        self.stats
    }
    /// Hand-overs posted whose end has not come back.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
    /// Of those, hand-overs with kept bytes, whose buffer the NIC holds
    /// until their end.
    pub fn holding_buffers(&self) -> usize {
        self.holding
    }
    /// Closes waiting for their data to be sent.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// The application closed `h` (in `state`) with the offload on.  True:
    /// it waits for its hand-over (the caller must not close it in the
    /// TCP core); false: the caller closes it in software.
    pub fn close(&mut self, h: Handle, state: State) -> bool {
        self.stats.closes += 1;
        if matches!(state, State::Established | State::CloseWait) {
            if !self.waiting.iter().any(|w| w.0 == h) {
                self.waiting.push((h, false));
            }
            true
        } else {
            self.stats.sw_state += 1;
            false
        }
    }

    /// Most unacknowledged bytes a hand-over can carry in a buffer of
    /// `buf_size` bytes.
    pub fn max_kept(buf_size: usize) -> u32 {
        (buf_size.saturating_sub(t::HANDOVER_BYTES) as u32).min(t::MAX_KEPT_BYTES)
    }

    /// Hands over every waiting close whose data is all sent; closes in
    /// software those the offload cannot take.  `handed` gets the
    /// connections handed over (their TCB is gone).  Returns whether a
    /// close ready to go had to wait for something other than its own
    /// connection (a free buffer, frames queued before it, the next hop):
    /// nothing in the TCP core will wake the caller for it, so poll again
    /// soon ([`RETRY`]).
    pub fn run<T: TeardownHooks + ?Sized>(
        &mut self,
        tcp: &mut T,
        port: &mut dyn HandOverPort,
        now: Duration,
        handed: &mut Vec<Handle>,
    ) -> bool {
        let mut blocked = false;
        let mut i = 0;
        while i < self.waiting.len() {
            let h = self.waiting[i].0;
            match self.try_hand_over(tcp, port, h, now) {
                Step::Wait => {
                    blocked = true;
                    i += 1;
                }
                Step::Unsent => {
                    if !std::mem::replace(&mut self.waiting[i].1, true) {
                        self.stats.deferred += 1;
                    }
                    i += 1;
                }
                Step::Done(true) => {
                    self.waiting.swap_remove(i);
                    handed.push(h);
                }
                Step::Done(false) => {
                    self.waiting.swap_remove(i);
                }
            }
        }
        blocked
    }

    fn try_hand_over<T: TeardownHooks + ?Sized>(
        &mut self,
        tcp: &mut T,
        port: &mut dyn HandOverPort,
        h: Handle,
        now: Duration,
    ) -> Step {
        let tcb = match tcp.teardown_tcb(h, now) {
            TeardownCheck::Ready(tcb) => tcb,
            TeardownCheck::Wait => {
                return Step::Unsent;
            }
            // Gone (reset, aborted for unread data) or past the states a
            // hand-over takes: whatever is left closes in software.
            TeardownCheck::No => {
                tcp.close_in_software(h);
                return Step::Done(false);
            }
        };
        let software = |tcp: &mut T, count: &mut u64| {
            *count += 1;
            tcp.close_in_software(h);
            Step::Done(false)
        };
        if tcb.kept() > Self::max_kept(port.buf_size()) {
            return software(tcp, &mut self.stats.sw_too_much_kept);
        }
        // Only hand-overs with kept bytes hold a buffer past their TX
        // completion; the others hold a record in host memory only.
        if tcb.kept() > 0 && self.holding >= self.params.max_held_buffers {
            return software(tcp, &mut self.stats.sw_limit);
        }
        if self.in_flight.len() >= self.params.max_records {
            return software(tcp, &mut self.stats.sw_record_limit);
        }
        let peer_mac = match port.next_hop(h.1.octets()) {
            NextHop::Resolved(m) => m,
            NextHop::Waiting => return Step::Wait,
            NextHop::NoRoute => return software(tcp, &mut self.stats.sw_no_route),
        };
        let tag = self.new_tag();
        let rec = t::HandOver {
            peer: (h.1.octets(), h.2),
            local: (self.local_ip, h.0),
            peer_mac,
            local_mac: port.local_mac(),
            order: if tcb.passive {
                t::CloseOrder::Passive
            } else {
                t::CloseOrder::Active
            },
            snd_una: tcb.snd_una,
            fin_seq: tcb.fin_seq,
            rcv_nxt: tcb.rcv_nxt,
            ts: tcb.ts,
            snd_wnd: tcb.snd_wnd,
            snd_shift: tcb.snd_shift,
            rcv_wnd: tcb.rcv_wnd,
            rcv_shift: tcb.rcv_shift,
            rto: self.params.ticks(tcb.rto),
            mss: tcb.mss.max(1),
            retry_limit: self.params.retry_limit.min(t::MAX_RETRY_LIMIT),
            tag,
        };
        if let Err(e) = rec.check() {
            // Cannot happen for a TCB (shifts <= 14, RTO and MSS > 0,
            // kept checked above); a record the NIC would reject is not
            // posted.
            debug_assert!(false, "hand-over record out of limits: {e:?} {rec:?}");
            return software(tcp, &mut self.stats.sw_state);
        }
        let len = t::HANDOVER_BYTES + tcb.kept() as usize;
        self.scratch.clear();
        self.scratch.extend_from_slice(&rec.encode());
        self.scratch.resize(len, 0);
        let n = tcp.copy_unacked(h, &mut self.scratch[t::HANDOVER_BYTES..]);
        debug_assert_eq!(n, tcb.kept() as usize);
        let bytes = &self.scratch;
        if !port.post(len, &mut |b| b.copy_from_slice(bytes)) {
            return Step::Wait;
        }
        tcp.hand_over(h);
        self.in_flight.insert(tag, InFlight { h, tcb, at: now });
        self.holding += (tcb.kept() > 0) as usize;
        self.stats.handed_over += 1;
        Step::Done(true)
    }

    fn new_tag(&mut self) -> u32 {
        // Tags in flight are at most `max_records`: a free one is near.
        while self.in_flight.contains_key(&self.next_tag) {
            self.next_tag = self.next_tag.wrapping_add(1);
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        tag
    }

    /// A hand-over ended: the teardown's end (`event`), or the descriptor
    /// rejected (`None`).  `read_kept` copies the returned buffer's kept
    /// bytes (after the record) into its argument; it is called only for a
    /// refused hand-over with kept bytes (whose buffer the NIC held until
    /// now), which is rebuilt in software from the record kept here
    /// (returned: the handle, again a connection of the table).  The
    /// caller frees the buffer, if any, afterwards.
    pub fn on_done<T: TeardownHooks + ?Sized>(
        &mut self,
        tcp: &mut T,
        tag: u32,
        event: Option<t::TeardownEvent>,
        read_kept: &mut dyn FnMut(&mut [u8]),
        now: Duration,
    ) -> Option<Handle> {
        let Some(f) = self.in_flight.remove(&tag) else {
            self.stats.unknown_tag += 1;
            return None;
        };
        self.holding -= (f.tcb.kept() > 0) as usize;
        match event {
            Some(ev) if ev.reason != t::Reason::Fallback => {
                self.stats.ended[ev.reason as usize] += 1;
                self.stats.duration_ticks += ev.duration as u64;
                self.stats.duration_max = self.stats.duration_max.max(ev.duration);
                tcp.handover_ended(f.h);
                None
            }
            _ => {
                match event {
                    Some(ev) => self.stats.ended[ev.reason as usize] += 1,
                    None => self.stats.rejected += 1,
                }
                self.scratch.clear();
                self.scratch.resize(f.tcb.kept() as usize, 0);
                if !self.scratch.is_empty() {
                    read_kept(&mut self.scratch);
                }
                // Our TSval clock (milliseconds) ran on while the hand-over
                // was out: the rebuilt connection continues it.
                let gone = now.saturating_sub(f.at).as_millis() as u32;
                let tcb = TeardownTcb {
                    ts: f.tcb.ts.map(|(recent, v)| (recent, v.wrapping_add(gone))),
                    ..f.tcb
                };
                if tcp.handover_fallback(f.h, &tcb, &self.scratch, now) {
                    self.stats.rebuilt += 1;
                    Some(f.h)
                } else {
                    self.stats.lost += 1;
                    None
                }
            }
        }
    }
}

enum Step {
    /// Not now: try at the next poll.
    Wait,
    /// Not now, bytes written are unsent: try at the next poll.
    Unsent,
    /// Off the waiting list: handed over (true) or closed in software.
    Done(bool),
}

#[cfg(test)]
#[path = "teardown_tests.rs"]
mod tests;
