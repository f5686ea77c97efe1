//! A TCP endpoint for one IPv4 address: listeners, a connection table
//! keyed by the 4-tuple, and the translation between TCP packets on the
//! wire (headers written and read by [`super::wire`]) and [`Conn`].  Segments
//! for no connection and no listener are answered with RST (RFC 9293
//! 3.10.7.1).  Bounded: at most `max_conns` connections; per listener at
//! most `backlog` half-open (SYN-RECEIVED) connections, beyond which SYNs
//! are answered with SYN cookies (no state), and `backlog` established
//! connections waiting for `accept`, beyond which SYNs and cookie ACKs are
//! dropped and counted.  See docs/tcp.md, "Hostile peers".
use super::conn::{Closed, Config, Conn, Handshake, NicOpenStatus, Segment, State};
use super::cookie::CookieJar;
use super::handles::{self, HandleMap, HandleSet};
use super::isn::IsnGenerator;
use super::options::SynOptions;
use super::seq::Seq;
use smoltcp::wire::{IpAddress, TcpPacket};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

pub use super::conn::Handle;
pub use super::offload::{
    ActiveOpenHooks, NicAbort, NicConnectParams, NicConnectRequest, NicEstablished, SegmentInput,
    SetupHooks, TeardownCheck, TeardownHooks, TeardownTcb,
};

/// A segment ready to go out: built into a frame by [`Outgoing::emit`]
/// where the network layer wants it, without an intermediate buffer.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub dst: Ipv4Addr,
    src: Ipv4Addr,
    sport: u16,
    dport: u16,
    seg: Segment,
    /// Leave the checksum to the NIC.
    offload: bool,
}

impl Outgoing {
    /// Bytes of the TCP packet (header, options, payload).
    pub fn len(&self) -> usize {
        super::wire::segment_len(&self.seg)
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Writes the TCP packet into `buf` (exactly [`Outgoing::len`] bytes).
    pub fn emit(&self, buf: &mut [u8]) {
        self.write(buf, super::wire::header_len(&self.seg))
    }
    fn write(&self, buf: &mut [u8], hlen: usize) {
        super::wire::write(
            buf,
            hlen,
            self.sport,
            self.dport,
            &self.seg,
            self.src,
            self.dst,
            self.offload,
        )
    }
    /// [`Outgoing::len`] and [`Outgoing::emit`] from one header layout
    /// (computed once, not once for each).
    pub fn prepare(&self) -> (usize, impl FnOnce(&mut [u8]) + '_) {
        let hlen = super::wire::header_len(&self.seg);
        (hlen + self.seg.payload.len(), move |buf: &mut [u8]| {
            self.write(buf, hlen)
        })
    }
    /// The TCP packet as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len()];
        self.emit(&mut v);
        v
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    pub rx_segments: u64,
    /// Segments that do not parse: truncated header, bad data offset, port
    /// 0, bad checksum, more than one of SYN, FIN and RST.
    pub rx_bad: u64,
    pub rst_sent: u64,
    /// SYNs dropped because the listener's accept queue (established
    /// connections not yet accepted) held `backlog` connections.
    pub syn_dropped_full: u64,
    /// SYNs that reached a listener (the software handshake).
    pub syn_received: u64,
    /// Handshakes completed by the NIC (new connections): `KIND_ESTABLISHED`
    /// reports that created a connection.
    pub nic_established: u64,
    /// Re-validations: `KIND_ESTABLISHED` reports for a connection that
    /// already exists (the client repeated its final ACK, or sent more
    /// segments whose ACK number still carries the cookie, so the NIC
    /// validated them again); handled as ordinary segments.
    pub nic_established_dup: u64,
    /// "Established" reports dropped: backlog or table full.
    pub nic_established_dropped: u64,
    /// "Established" reports for a port nobody listens on (answered RST).
    pub nic_established_no_listener: u64,
    /// Active opens handed to the NIC (a `ConnectRequest` issued).
    pub nic_connect_requested: u64,
    /// NIC opens the peer accepted (`KIND_CONNECTED`): ESTABLISHED.
    pub nic_connect_established: u64,
    /// NIC opens the peer refused (`KIND_CONNECT_REFUSED`).
    pub nic_connect_refused: u64,
    /// NIC opens whose SYN retransmissions ran out (`SETUP_CONN_TIMEDOUT`).
    pub nic_connect_timed_out: u64,
    /// NIC opens that ended before the NIC did (abort, close, an ordinary
    /// segment) and were aborted in the NIC.
    pub nic_connect_aborted: u64,
    /// Offloaded connects asked for that ran the software handshake: no
    /// NIC open configured, no free slot, or the endpoint could not issue
    /// the request.
    pub nic_connect_fallback: u64,
    /// NIC opens the NIC finished without a completion reaching the host
    /// (neither pending nor timed out at two checks): ended timed out, RST
    /// sent.
    pub nic_connect_lost: u64,
    /// `KIND_CONNECTED` / `KIND_CONNECT_REFUSED` reports for no pending NIC
    /// open (handled as ordinary segments: RST if there is no connection).
    pub nic_connect_unexpected: u64,
    /// Challenge ACKs sent (RFC 5961: RST in the window but not exact, SYN
    /// in a synchronized state, unacceptable ACK), summed over connections.
    pub challenge_acks_sent: u64,
    /// Challenge ACKs suppressed by the per-connection limit
    /// (`Config::challenge_ack_interval`, RFC 5961 section 7).
    pub challenge_acks_suppressed: u64,
    /// SYN-ACKs with a SYN cookie sent (a listener's half-open limit or the
    /// table was full).
    pub syn_cookies_sent: u64,
    /// Final ACKs whose cookie checked: connections created ESTABLISHED.
    pub syn_cookies_validated: u64,
    /// ACKs for no connection, to a listener that sent cookies recently,
    /// whose cookie did not check (bad MAC, expired, other key slot):
    /// answered with RST like any stray ACK.
    pub syn_cookies_rejected: u64,
    /// Valid cookies whose connection could not be created: the accept
    /// queue or the table was full (dropped, as Linux does).
    pub syn_cookies_dropped_full: u64,
    /// SYNs beyond the half-open limit that no cookie can answer (cookies
    /// off, or the client's MSS below every MSS class): dropped.
    pub syn_cookies_unusable: u64,
    /// Half-open (SYN-RECEIVED) connections dropped silently when their
    /// SYN-ACK retransmissions ran out (`Config::synack_retries`).
    pub synack_timeouts: u64,
    /// SYNs (and NIC "established" reports) whose MSS is below
    /// `Config::min_peer_mss`: dropped.
    pub syn_mss_refused: u64,
    /// SYNs whose options did not parse cleanly (a length below 2 or
    /// beyond the header, an option of the wrong size) and were answered
    /// with what parsed before, as Linux does.
    pub rx_bad_options: u64,
    /// Connections handed over to the NIC's teardown offload (their TCB
    /// freed at once).
    pub teardown_handed_over: u64,
    /// Connections rebuilt in software after the NIC refused the hand-over.
    pub teardown_rebuilt: u64,
    /// Segments for a handed-over tuple that found no connection while the
    /// hand-over was in flight: dropped silently instead of RST.
    pub teardown_dropped: u64,
}

#[derive(Clone, Copy, Debug)]
struct NicSlot {
    slot: usize,
    issued: bool,
}

struct Listener {
    backlog: usize,
    /// Connections from this listener not yet accepted (handshaking or
    /// established).
    pending: usize,
    /// Of those, half-open (SYN-RECEIVED): at most `backlog`.
    half_open: usize,
    /// Established connections waiting for `accept`, oldest first.
    ready: VecDeque<Handle>,
    /// When this listener last answered a SYN with a cookie: ACKs are
    /// checked for cookies only within a cookie's lifetime of it (as
    /// Linux's `tcp_synq_no_recent_overflow`), so a listener that never
    /// needed cookies offers no 26-bit MAC to guess at.
    last_cookie: Option<Duration>,
}

impl Listener {
    /// Established connections not yet accepted.
    fn queued(&self) -> usize {
        self.pending.saturating_sub(self.half_open)
    }
}

/// Lists connection `h` (`c`) for the next dispatch, once: its
/// `in_dirty` flag stands for its place in the list.
fn mark_dirty(dirty: &mut Vec<Handle>, c: &mut Conn, h: Handle) {
    if !c.in_dirty {
        c.in_dirty = true;
        dirty.push(h);
    }
}

/// `c` in a box, a spare one when there is one.
#[allow(clippy::vec_box)] // the boxes are what is kept (a `Conn` is not copied)
fn boxed(spare: &mut Vec<Box<Conn>>, c: Conn) -> Box<Conn> {
    match spare.pop() {
        Some(mut b) => {
            *b = c;
            b
        }
        None => Box::new(c),
    }
}

/// Connection boxes kept in `TcpStack::spare_conns` at most.
const SPARE_CONNS: usize = 64;

/// Buffers kept in `TcpStack::spare` at most (512 bytes each: 128 KiB).
const SPARE_BUFFERS: usize = 256;

/// Hash maps keyed by what peers choose (addresses, ports): a keyed hash
/// with a per-process random key (so a peer cannot aim for collisions)
/// that is much cheaper than SipHash for 8-byte keys.
type Map<K, V> = HashMap<K, V, ahash::RandomState>;

/// The work of one call is proportional to the connections it touches,
/// not to the connections in the table: segments go to one connection by
/// hash, timers come from a heap, and output and reaping visit only the
/// connections touched since the previous dispatch.
pub struct TcpStack {
    ip: Ipv4Addr,
    cfg: Config,
    isn: IsnGenerator,
    listeners: Map<u16, Listener>,
    conns: HandleMap<Box<Conn>>,
    /// Which listener a connection came from, until accepted, and whether
    /// it is still half-open (counted in the listener's `half_open`).
    pending: HandleMap<(u16, bool)>,
    cookies: CookieJar,
    /// Passive-tuple events, when asked for ([`TcpStack::set_tuple_events`]).
    tuple_events: Option<Vec<(Handle, bool)>>,
    /// Passive connections whose addition was recorded.
    passive: HandleSet,
    out: VecDeque<Outgoing>,
    /// The buffer received payloads are parsed into, kept between segments.
    rx_payload: Vec<u8>,
    /// First allocations of send and receive buffers that finished
    /// connections gave back (zeroed), lent to connections when data
    /// first moves: short connections cost no allocation (at most
    /// `SPARE_BUFFERS`).
    spare: Vec<Vec<u8>>,
    /// Boxes of connections that left the table (at most `SPARE_CONNS`),
    /// for new ones: the table holds boxes, so that a 1 KiB `Conn` is not
    /// copied on insertion and removal, and a box is not allocated per
    /// connection.
    #[allow(clippy::vec_box)]
    spare_conns: Vec<Box<Conn>>,
    /// Connections whose state may have changed since the last
    /// [`TcpStack::take_touched`] (a segment arrived, a timer ran, the
    /// handshake completed), so a socket layer recomputes readiness for
    /// these only.
    touched: Vec<Handle>,
    /// Connections that may have output or a new deadline since the last
    /// dispatch (touched by input, a timer, or the application).
    dirty: Vec<Handle>,
    /// Deadlines, earliest first: per connection one entry at or before
    /// its earliest deadline (`Conn::timer_entered`), re-entered for the
    /// new deadline when it pops early; entries of connections that went
    /// or that an earlier entry replaced are skipped, and the heap is
    /// rebuilt when they outnumber the connections.
    timers: BinaryHeap<Reverse<(Duration, u64)>>,
    /// Connections found CLOSED by dispatch, removed by `reap`.
    closed: Vec<Handle>,
    max_conns: usize,
    next_port: u16,
    stats: StackStats,
    /// TCP checksums of outgoing segments left to the NIC.
    tx_offload: bool,
    /// Active opens by the NIC, when configured.
    nic: Option<NicConnectParams>,
    /// NIC opens whose slot this stack holds (at most one per slot).
    nic_opens: HandleMap<NicSlot>,
    /// Requests not yet taken by the socket layer.
    nic_requests: VecDeque<NicConnectRequest>,
    /// NIC opens whose timeout check is due.
    nic_checks: Vec<(Handle, usize)>,
    /// Tuples handed over to the NIC's teardown offload and not yet ended
    /// (whether the connection was a passive one, for its tuple events):
    /// at most the offload glue's hand-overs in flight.
    handed_over: HandleMap<bool>,
}

impl TcpStack {
    pub fn new(ip: Ipv4Addr, cfg: Config, isn: IsnGenerator, max_conns: usize) -> TcpStack {
        let key = cfg
            .syn_cookies
            .key
            .unwrap_or_else(|| isn.derive_key(b"toe syn cookie key"));
        TcpStack {
            cookies: CookieJar::new(cfg.syn_cookies, key),
            tuple_events: None,
            passive: HandleSet::default(),
            ip,
            cfg,
            isn,
            listeners: Map::default(),
            conns: HandleMap::default(),
            pending: HandleMap::default(),
            out: VecDeque::new(),
            rx_payload: Vec::new(),
            spare: Vec::new(),
            spare_conns: Vec::new(),
            touched: Vec::new(),
            dirty: Vec::new(),
            timers: BinaryHeap::new(),
            closed: Vec::new(),
            max_conns,
            next_port: 49152,
            stats: StackStats::default(),
            tx_offload: false,
            nic: None,
            nic_opens: HandleMap::default(),
            nic_requests: VecDeque::new(),
            nic_checks: Vec::new(),
            handed_over: HandleMap::default(),
        }
    }

    /// Lets [`TcpStack::connect_by_nic_where`] hand opens to the NIC
    /// (`None`: every connect runs the software handshake).
    pub fn set_nic_connect(&mut self, p: Option<NicConnectParams>) {
        self.nic = p;
    }

    pub fn stats(&self) -> StackStats {
        self.stats
    }

    /// Leave the TCP checksum of outgoing segments to the NIC (the field is
    /// sent as zero; the network layer asks for insertion).
    pub fn set_tx_checksum_offload(&mut self, on: bool) {
        self.tx_offload = on;
    }

    fn outgoing(&self, dst: Ipv4Addr, sport: u16, dport: u16, seg: Segment) -> Outgoing {
        Outgoing {
            dst,
            src: self.ip,
            sport,
            dport,
            seg,
            offload: self.tx_offload,
        }
    }

    pub fn listen(&mut self, port: u16, backlog: usize) {
        self.listeners.insert(
            port,
            Listener {
                backlog,
                pending: 0,
                half_open: 0,
                ready: VecDeque::new(),
                last_cookie: None,
            },
        );
    }

    /// Forgets that `h` waits for `accept`; whether it was half-open.
    fn forget_pending(&mut self, h: Handle) -> bool {
        let Some((port, half_open)) = self.pending.remove(&h) else {
            return false;
        };
        if let Some(l) = self.listeners.get_mut(&port) {
            l.pending = l.pending.saturating_sub(1);
            if half_open {
                l.half_open = l.half_open.saturating_sub(1);
            }
        }
        half_open
    }

    /// A passive connection entered the table.
    fn note_added(&mut self, h: Handle) {
        if let Some(ev) = self.tuple_events.as_mut() {
            if self.passive.insert(h) {
                ev.push((h, true));
            }
        }
    }

    /// Every removal from `conns` goes through here (tuple events).
    fn remove_conn(&mut self, h: Handle) -> Option<Box<Conn>> {
        let c = self.conns.remove(&h)?;
        if self.passive.remove(&h) {
            if let Some(ev) = self.tuple_events.as_mut() {
                ev.push((h, false));
            }
        }
        Some(c)
    }

    /// Folds a connection's challenge-ACK counts (taken before some input)
    /// into the stack's.
    fn count_challenges(&mut self, h: Handle, before: (u64, u64)) {
        if let Some(c) = self.conns.get(&h) {
            let (s, q) = c.challenge_acks();
            self.stats.challenge_acks_sent += s - before.0;
            self.stats.challenge_acks_suppressed += q - before.1;
        }
    }

    fn challenges_of(&self, h: Handle) -> (u64, u64) {
        self.conns.get(&h).map_or((0, 0), |c| c.challenge_acks())
    }

    /// An established connection from the listener on `port`.
    pub fn accept(&mut self, port: u16) -> Option<Handle> {
        loop {
            let h = self.listeners.get_mut(&port)?.ready.pop_front()?;
            // Skip connections that ended before they were accepted.
            if self.conns.contains_key(&h) {
                self.forget_pending(h);
                return Some(h);
            }
        }
    }

    /// Stops listening on `port`; connections not yet accepted are aborted
    /// (RST), as closing a listening socket does.
    pub fn unlisten(&mut self, port: u16) {
        if self.listeners.remove(&port).is_none() {
            return;
        }
        let orphans: Vec<Handle> = self
            .pending
            .iter()
            .filter(|(_, p)| p.0 == port)
            .map(|(h, _)| h)
            .collect();
        for h in orphans {
            self.pending.remove(&h);
            self.abort(h);
        }
    }

    /// Whether a connection waits in the accept queue of the listener on
    /// `port` (stops at the first live one: the socket layer asks on every
    /// poll while the listener is ready).
    pub fn has_acceptable(&self, port: u16) -> bool {
        self.listeners
            .get(&port)
            .is_some_and(|l| l.ready.iter().any(|h| self.conns.contains_key(h)))
    }

    /// Connections waiting in the accept queue of the listener on `port`.
    pub fn acceptable(&self, port: u16) -> usize {
        self.listeners.get(&port).map_or(0, |l| {
            l.ready
                .iter()
                .filter(|h| self.conns.contains_key(h))
                .count()
        })
    }

    /// Aborts a connection: RST to the peer (RFC 9293 3.10.5) and the
    /// connection is gone.
    pub fn abort(&mut self, h: Handle) {
        if let Some(mut c) = self.remove_conn(h) {
            if let Some(seg) = c.abort() {
                self.stats.rst_sent += 1;
                let o = self.outgoing(h.1, h.0, h.2, seg);
                self.out.push_back(o);
            }
        }
        self.forget_pending(h);
    }

    /// Records which passive connections enter and leave the table, for
    /// [`TcpStack::take_tuple_events`] (off by default: nothing is
    /// recorded, so nothing accumulates when nobody drains).  Turn it on
    /// before listening: connections already in the table are not
    /// reported.  Off forgets what was recorded.
    pub fn set_tuple_events(&mut self, on: bool) {
        if on {
            self.tuple_events.get_or_insert_with(Vec::new);
        } else {
            self.tuple_events = None;
            self.passive.clear();
        }
    }

    /// Passive connections (created from a listener: software handshake,
    /// software SYN cookie, or the NIC's `KIND_ESTABLISHED` report) that
    /// entered the table (`true`, once, when the entry is created: in
    /// SYN-RECEIVED for a software handshake) or left it (`false`, once:
    /// closed, reset, aborted, timed out, TIME-WAIT over, unlistened) since
    /// the last call, in order.  For the NIC's filter of established
    /// tuples, so that a SYN for a tuple the host has reaches the host (a
    /// challenge ACK, RFC 5961 4) instead of drawing a cookie.  Drain after
    /// every poll: between two calls it grows by at most two entries per
    /// connection created.
    pub fn take_tuple_events(&mut self, into: &mut Vec<(Handle, bool)>) {
        if let Some(ev) = self.tuple_events.as_mut() {
            into.append(ev);
        }
    }

    /// The connections touched since the last call (see `touched`).
    pub fn take_touched(&mut self, into: &mut Vec<Handle>) {
        into.append(&mut self.touched);
    }

    /// Opens a connection to `remote` from an ephemeral port.
    pub fn connect(&mut self, remote: (Ipv4Addr, u16), now: Duration) -> Option<Handle> {
        self.connect_where(remote, now, |_| true)
    }

    /// Opens a connection to `remote` from an ephemeral port (49152 to
    /// 65535, RFC 6335) that `accept_port` agrees to: a per-queue stack
    /// takes only ports whose replies RSS steers to its own queue.
    pub fn connect_where(
        &mut self,
        remote: (Ipv4Addr, u16),
        now: Duration,
        accept_port: impl Fn(u16) -> bool,
    ) -> Option<Handle> {
        if self.conns.len() >= self.max_conns {
            return None;
        }
        for _ in 0..16384 {
            let port = self.next_port;
            self.next_port = if self.next_port == u16::MAX {
                49152
            } else {
                self.next_port + 1
            };
            let h = (port, remote.0, remote.1);
            if !self.conns.contains_key(&h)
                && !self.nic_opens.contains_key(&h)
                && !self.listeners.contains_key(&port)
                && accept_port(port)
            {
                let iss = self.isn.isn((self.ip, port), remote, now);
                let mut c = Conn::connect(self.cfg.clone(), iss, now);
                mark_dirty(&mut self.dirty, &mut c, h);
                self.conns.insert(h, boxed(&mut self.spare_conns, c));
                return Some(h);
            }
        }
        None
    }

    /// Opens a connection to `remote` with the NIC sending the SYN (active
    /// open by the NIC, `toe_contract::setup`): from an ephemeral port
    /// `accept_port` agrees to whose slot (`port % 16`) this stack can
    /// claim.  The SYN is the one [`TcpStack::connect_where`] would send
    /// (ISN from the RFC 6528 generator, the configured options); it
    /// becomes a request for the socket layer to issue
    /// ([`TcpStack::take_connect_requests`]).  The stack sends no SYN and
    /// runs no retransmission timer; it looks for a timeout when the NIC
    /// should have given up ([`TcpStack::take_nic_checks`]).  Without a
    /// NIC configuration or a free slot, this is a software connect
    /// (counted `nic_connect_fallback`).
    pub fn connect_by_nic_where(
        &mut self,
        remote: (Ipv4Addr, u16),
        now: Duration,
        accept_port: impl Fn(u16) -> bool,
    ) -> Option<Handle> {
        use toe_contract::setup as s;
        if self.conns.len() >= self.max_conns {
            return None;
        }
        let Some(slots) = self.nic.as_ref().map(|p| p.slots.clone()) else {
            self.stats.nic_connect_fallback += 1;
            return self.connect_where(remote, now, accept_port);
        };
        let start = self.next_port;
        let mut port = start;
        for _ in 0..16384 {
            let h = (port, remote.0, remote.1);
            let next = if port == u16::MAX { 49152 } else { port + 1 };
            if !self.conns.contains_key(&h)
                && !self.nic_opens.contains_key(&h)
                && !self.listeners.contains_key(&port)
                && accept_port(port)
                && slots.claim(s::connect_slot(port))
            {
                self.next_port = next;
                let iss = self.isn.isn((self.ip, port), remote, now);
                let (mut c, syn, ack_window) = Conn::connect_by_nic(self.cfg.clone(), iss, now);
                mark_dirty(&mut self.dirty, &mut c, h);
                let o = syn.syn_opts;
                let req = s::ConnectRequest {
                    syn: s::CtlRecord {
                        dst_mac: [0; 6],
                        src_mac: [0; 6],
                        src: (self.ip.octets(), port),
                        dst: (remote.0.octets(), remote.1),
                        seq: syn.seq.0,
                        ack: 0,
                        flags: s::TCP_SYN,
                        window: syn.window,
                        mss: o.mss,
                        wscale: o.wscale,
                        sack_permitted: o.sack_permitted,
                        ts: syn.ts,
                    },
                    ack_window,
                };
                self.conns.insert(h, boxed(&mut self.spare_conns, c));
                self.nic_opens.insert(
                    h,
                    NicSlot {
                        slot: s::connect_slot(port),
                        issued: false,
                    },
                );
                self.nic_requests
                    .push_back(NicConnectRequest { handle: h, req });
                return Some(h);
            }
            port = next;
        }
        self.stats.nic_connect_fallback += 1;
        self.connect_where(remote, now, accept_port)
    }

    /// NIC opens waiting for the socket layer to issue them (fill in the
    /// MAC addresses, start it on the NIC (`offload/connect.rs`), then
    /// [`TcpStack::nic_connect_issued`] or
    /// [`TcpStack::nic_connect_fallback`]).
    pub fn take_connect_requests(&mut self, into: &mut Vec<NicConnectRequest>) {
        into.extend(self.nic_requests.drain(..));
    }

    /// The NIC has started `h`'s open at `now`: the timeout check is
    /// scheduled.  False when `h` is no NIC open of this stack (its slot
    /// must then be aborted and released by the caller).
    pub fn nic_connect_issued(&mut self, h: Handle, now: Duration) -> bool {
        let (Some(p), Some(e), Some(c)) = (
            self.nic.as_ref(),
            self.nic_opens.get_mut(&h),
            self.conns.get_mut(&h),
        ) else {
            return false;
        };
        if !c.nic_pending() {
            return false;
        }
        e.issued = true;
        c.nic_issued(now, p.give_up, p.first_rto, p.margin());
        self.stats.nic_connect_requested += 1;
        mark_dirty(&mut self.dirty, c, h);
        true
    }

    /// `h`'s request could not be issued (no register path, neighbour not
    /// resolved in time): the slot is released and the open continues as
    /// a software connect.
    pub fn nic_connect_fallback(&mut self, h: Handle, now: Duration) {
        let Some(e) = self.nic_opens.get(&h).copied() else {
            return;
        };
        if e.issued {
            return;
        }
        self.nic_opens.remove(&h);
        self.nic_requests.retain(|r| r.handle != h);
        if let Some(p) = &self.nic {
            p.slots.release(e.slot);
        }
        if let Some(c) = self.conns.get_mut(&h) {
            c.nic_fallback(now);
            self.stats.nic_connect_fallback += 1;
            handles::push_once(&mut self.touched, h);
            mark_dirty(&mut self.dirty, c, h);
        }
    }

    /// NIC opens that ended on the host (the application aborted or
    /// closed them, or an ordinary segment moved them on): the caller
    /// writes `CONN_CMD_ABORT` for the issued ones, then releases their
    /// slots ([`ConnectSlots::release`](super::offload::ConnectSlots::release)).  Requests not yet
    /// taken are dropped here.
    pub fn take_nic_aborts(&mut self, into: &mut Vec<NicAbort>) {
        if self.nic_opens.is_empty() {
            return;
        }
        let conns = &self.conns;
        let mut ended = Vec::new();
        for (h, e) in self.nic_opens.iter() {
            match conns.get(&h) {
                Some(c) if c.nic_pending() => {}
                Some(c) if c.nic_freed() => ended.push((h, *e, false)),
                _ => ended.push((h, *e, true)),
            }
        }
        for (h, e, abort) in ended {
            self.nic_opens.remove(&h);
            if !abort {
                if let Some(p) = &self.nic {
                    p.slots.release(e.slot);
                }
                continue;
            }
            self.nic_requests.retain(|r| r.handle != h);
            self.stats.nic_connect_aborted += 1;
            into.push(NicAbort {
                handle: h,
                slot: e.slot,
                issued: e.issued,
            });
        }
    }

    /// NIC opens whose deadline has passed: the caller reads the NIC's
    /// pending and timed-out bits for each (handle, slot) and reports with
    /// [`TcpStack::on_nic_check`].
    pub fn take_nic_checks(&mut self, into: &mut Vec<(Handle, usize)>) {
        into.append(&mut self.nic_checks);
    }

    /// The NIC's status of `h`'s open at its check ([`Conn::on_nic_status`]).
    pub fn on_nic_check(&mut self, h: Handle, st: NicOpenStatus, now: Duration) {
        let Some(p) = self.nic.clone() else {
            return;
        };
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        if !c.nic_pending() {
            return;
        }
        c.on_nic_status(st, now + p.recheck());
        handles::push_once(&mut self.touched, h);
        mark_dirty(&mut self.dirty, c, h);
        if c.nic_pending() {
            return;
        }
        if st == NicOpenStatus::TimedOut {
            self.stats.nic_connect_timed_out += 1;
        } else {
            self.stats.nic_connect_lost += 1;
        }
        if let Some(e) = self.nic_opens.remove(&h) {
            p.slots.release(e.slot);
        }
    }

    /// NIC opens in progress (slots this stack holds).
    pub fn nic_opens(&self) -> usize {
        self.nic_opens.len()
    }

    /// A SYN-ACK that completed a NIC open (completion kind
    /// `KIND_CONNECTED`; the NIC has sent the handshake ACK and freed the
    /// slot): the connection becomes ESTABLISHED without an ACK from the
    /// host ([`Conn::on_nic_connected`]).  With no connection (the open was
    /// aborted meanwhile) the peer, synchronised by the NIC's ACK, gets an
    /// RST `<SEQ=SEG.ACK>` (RFC 9293 3.10.7.1); for a connection that is no
    /// pending NIC open it is an ordinary segment.
    pub fn on_nic_connected(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
        now: Duration,
    ) {
        self.on_nic_answer(src, dst, tcp, verified, now, true)
    }

    /// An RST that refused a NIC open (completion kind
    /// `KIND_CONNECT_REFUSED`; the slot is free): the connection is reset
    /// as by an acceptable RST in SYN-SENT (RFC 9293 3.10.7.3), and the
    /// application sees "connection refused".
    pub fn on_nic_refused(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
        now: Duration,
    ) {
        self.on_nic_answer(src, dst, tcp, verified, now, false)
    }

    fn on_nic_answer(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
        now: Duration,
        connected: bool,
    ) {
        self.stats.rx_segments += 1;
        let Some((ports, seg)) = self.parse(src, dst, tcp, verified) else {
            self.stats.rx_bad += 1;
            return;
        };
        let h = (ports.dst, src, ports.src);
        let pending = self.conns.get(&h).is_some_and(|c| c.nic_pending());
        if !pending {
            self.stats.nic_connect_unexpected += 1;
            self.on_segment_parsed(src, dst, ports, &seg, now);
            return self.recycle(seg);
        }
        let before = self.challenges_of(h);
        if let Some(c) = self.conns.get_mut(&h) {
            if connected {
                c.on_nic_connected(&seg, now);
                if c.state() == State::Established {
                    self.stats.nic_connect_established += 1;
                }
            } else {
                c.on_nic_refused(&seg, now);
                if c.closed().is_some() {
                    self.stats.nic_connect_refused += 1;
                }
            }
        }
        self.count_challenges(h, before);
        if self.conns.get(&h).is_some_and(|c| c.mss_refused()) {
            self.stats.syn_mss_refused += 1;
        }
        // The NIC has let the slot go.
        if let Some(e) = self.nic_opens.remove(&h) {
            if let Some(p) = &self.nic {
                p.slots.release(e.slot);
            }
        }
        handles::push_once(&mut self.touched, h);
        if let Some(c) = self.conns.get_mut(&h) {
            mark_dirty(&mut self.dirty, c, h);
        }
    }

    /// [`TcpStack::conn`] for a write: the send buffer gets its first
    /// memory (a spare one when there is one) if it has none yet.
    pub fn conn_to_write(&mut self, h: Handle) -> Option<&mut Conn> {
        let c = self.conns.get_mut(&h)?;
        c.lend_memory(&mut self.spare, false, true);
        mark_dirty(&mut self.dirty, c, h);
        Some(c)
    }

    /// The connection, for the application (it may write, read or close:
    /// the connection is visited by the next dispatch).
    pub fn conn(&mut self, h: Handle) -> Option<&mut Conn> {
        let c = self.conns.get_mut(&h)?;
        mark_dirty(&mut self.dirty, c, h);
        Some(c)
    }

    pub fn conn_ref(&self, h: Handle) -> Option<&Conn> {
        self.conns.get(&h).map(|c| &**c)
    }

    /// Forgets connections that have ended (found by the last dispatch).
    pub fn reap(&mut self) {
        let mut closed = std::mem::take(&mut self.closed);
        for h in closed.drain(..) {
            let Some(how) = self
                .conns
                .get(&h)
                .filter(|c| c.state() == State::Closed)
                .map(|c| c.closed())
            else {
                continue;
            };
            if let Some(mut c) = self.remove_conn(h) {
                c.give_back_memory(&mut self.spare, SPARE_BUFFERS);
                if self.spare_conns.len() < SPARE_CONNS {
                    self.spare_conns.push(c);
                }
            }
            if self.forget_pending(h) && how == Some(Closed::TimedOut) {
                self.stats.synack_timeouts += 1;
            }
        }
        // The list keeps its memory for the next dispatch.
        self.closed = closed;
    }

    /// Connections in the table (any state but CLOSED, until reaped).
    pub fn len(&self) -> usize {
        self.conns.len()
    }
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// A TCP packet (`tcp`: header and payload) from `src` to `dst`.
    pub fn on_packet(&mut self, src: Ipv4Addr, dst: Ipv4Addr, tcp: &[u8], now: Duration) {
        self.on_packet_checked(src, dst, tcp, false, now)
    }

    /// A client's final ACK that the NIC's setup offload validated (a
    /// completion of kind `KIND_ESTABLISHED`): the connection is created
    /// directly in ESTABLISHED from what the NIC negotiated, joins its
    /// listener's accept queue, and takes the segment's data.  The NIC
    /// keeps no state, so a repeated final ACK is reported again: for a
    /// connection that exists it is an ordinary segment.
    pub fn on_established(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
        nic: &NicEstablished,
        now: Duration,
    ) {
        self.stats.rx_segments += 1;
        let Some((ports, seg)) = self.parse(src, dst, tcp, verified) else {
            self.stats.rx_bad += 1;
            return;
        };
        let (sport, dport) = (ports.src, ports.dst);
        let h = (dport, src, sport);
        let ack = match seg.ack {
            Some(a) if !seg.syn && !seg.rst && !self.conns.contains_key(&h) => a,
            _ => {
                self.stats.nic_established_dup += 1;
                self.on_segment_parsed(src, dst, ports, &seg, now);
                return self.recycle(seg);
            }
        };
        let Some(l) = self.listeners.get(&dport) else {
            // The NIC listens where the host does not: as in CLOSED.
            self.stats.nic_established_no_listener += 1;
            self.stats.rst_sent += 1;
            let rst = Segment {
                seq: ack,
                rst: true,
                ..Segment::default()
            };
            let o = self.outgoing(src, dport, sport, rst);
            self.out.push_back(o);
            return;
        };
        if nic.peer_mss < self.cfg.min_peer_mss {
            // Never a segment above the peer's MSS (RFC 9293 3.7.1), and
            // none below the floor either: refused.
            self.stats.syn_mss_refused += 1;
            return;
        }
        if self.conns.len() >= self.max_conns || l.queued() >= l.backlog {
            self.stats.nic_established_dropped += 1;
            return;
        }
        let hs = Handshake {
            our_isn: ack - 1,
            peer_isn: seg.seq - 1,
            peer_mss: nic.peer_mss,
            wscale: nic
                .peer_wscale
                .map(|p| (p, self.cfg.syn_opts.wscale.unwrap_or(0))),
            sack: nic.sack,
            ts: nic.ts,
            window: seg.window,
        };
        self.stats.nic_established += 1;
        self.create_established(h, &hs, &seg, now);
        self.recycle(seg);
    }

    /// A connection whose handshake completed without a SYN-RECEIVED entry
    /// (the NIC's report, or one of our SYN cookies): ESTABLISHED at once,
    /// in its listener's accept queue, with the data the final ACK carries.
    fn create_established(&mut self, h: Handle, hs: &Handshake, seg: &Segment, now: Duration) {
        let mut c = Conn::established(self.cfg.clone(), hs, now);
        if !seg.is_empty() {
            c.lend_memory(&mut self.spare, !seg.payload.is_empty(), false);
            c.on_segment(seg, now);
        }
        if let Some(l) = self.listeners.get_mut(&h.0) {
            l.pending += 1;
        }
        mark_dirty(&mut self.dirty, &mut c, h);
        c.joining = true;
        self.conns.insert(h, boxed(&mut self.spare_conns, c));
        self.pending.insert(h, (h.0, false));
        self.note_added(h);
        handles::push_once(&mut self.touched, h);
    }

    /// [`TcpStack::on_packet`] for a segment whose checksum the NIC has
    /// already verified (`verified`: not summed again).
    pub fn on_packet_checked(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
        now: Duration,
    ) {
        self.stats.rx_segments += 1;
        let Some((ports, seg)) = self.parse(src, dst, tcp, verified) else {
            self.stats.rx_bad += 1;
            return;
        };
        self.on_segment_parsed(src, dst, ports, &seg, now);
        self.recycle(seg);
    }

    /// [`parse_segment`], counting malformed options.
    fn parse(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        verified: bool,
    ) -> Option<(Ports, Segment)> {
        let buf = std::mem::take(&mut self.rx_payload);
        let (ports, seg, malformed) = parse_segment(src, dst, tcp, verified, buf)?;
        self.stats.rx_bad_options += malformed as u64;
        Some((ports, seg))
    }

    /// Keeps a received segment's payload buffer for the next one (no
    /// allocation per segment).
    fn recycle(&mut self, seg: Segment) {
        let mut buf = seg.payload;
        buf.clear();
        self.rx_payload = buf;
    }

    /// A parsed segment from `src`: to its connection, or to LISTEN/CLOSED.
    fn on_segment_parsed(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ports: Ports,
        seg: &Segment,
        now: Duration,
    ) {
        let h = (ports.dst, src, ports.src);
        // One lookup for the segment (the challenge-ACK counts read from
        // the connection before and after, not looked up again).
        if let Some(c) = self.conns.get_mut(&h) {
            let refused = c.mss_refused();
            let before = c.challenge_acks();
            c.lend_memory(&mut self.spare, !seg.payload.is_empty(), false);
            c.on_segment(seg, now);
            if !refused && c.mss_refused() {
                self.stats.syn_mss_refused += 1;
            }
            let (sent, suppressed) = c.challenge_acks();
            self.stats.challenge_acks_sent += sent - before.0;
            self.stats.challenge_acks_suppressed += suppressed - before.1;
            mark_dirty(&mut self.dirty, c, h);
            handles::push_once(&mut self.touched, h);
            return;
        }
        // A tuple handed over to the NIC's teardown offload: the NIC may
        // not hold it yet (its descriptor is behind data on the queue) or
        // may refuse it (the connection is then rebuilt here), so no RST;
        // the peer retransmits.  A SYN takes its normal way (RFC 6191: the
        // NIC passes on a SYN that ends its TIME-WAIT).
        if (!seg.syn || seg.ack.is_some()) && self.handed_over.contains_key(&h) {
            self.stats.teardown_dropped += 1;
            return;
        }
        // LISTEN (3.10.7.2).
        if seg.rst {
            return;
        }
        if let Some(ack) = seg.ack {
            if !seg.syn && self.cookie_ack(src, dst, ports, seg, ack, now) {
                return;
            }
            self.rst(src, ports, ack, None);
            return;
        }
        if !seg.syn {
            return;
        }
        self.stats.syn_received += 1;
        let Some(l) = self.listeners.get_mut(&ports.dst) else {
            // CLOSED (3.10.7.1): RST, ACK of the segment.
            self.rst(src, ports, Seq(0), Some(seg.seq + seg.len()));
            return;
        };
        if seg.syn_opts.mss.is_some_and(|m| m < self.cfg.min_peer_mss) {
            // We never send more than the peer's MSS (RFC 9293 3.7.1), and
            // segments this small would multiply our packet rate: refused.
            self.stats.syn_mss_refused += 1;
            return;
        }
        if l.queued() >= l.backlog {
            // The accept queue is full: dropped, as Linux does.
            self.stats.syn_dropped_full += 1;
            return;
        }
        if l.half_open >= l.backlog || self.conns.len() >= self.max_conns {
            return self.syn_cookie(src, dst, ports, seg, now);
        }
        let iss = self.isn.isn((dst, ports.dst), (src, ports.src), now);
        if let Some(mut c) = Conn::accept(self.cfg.clone(), seg, iss, now) {
            l.pending += 1;
            l.half_open += 1;
            mark_dirty(&mut self.dirty, &mut c, h);
            c.joining = true;
            self.conns.insert(h, boxed(&mut self.spare_conns, c));
            self.pending.insert(h, (ports.dst, true));
            self.note_added(h);
        }
    }

    /// Answers a SYN with a SYN-ACK whose ISN is a SYN cookie, keeping no
    /// state (RFC 4987 3.6), in the NIC's format (`toe_contract::setup`):
    /// our MSS; when the client sent timestamps (and we use them), window
    /// scale and SACK-permitted as the client offered them, its window
    /// scale and SACK-permitted kept in our TSval's low 6 bits
    /// (`ts_encode`); without timestamps only the MSS survives, so neither
    /// is offered (as Linux and the NIC do).
    fn syn_cookie(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ports: Ports,
        syn: &Segment,
        now: Duration,
    ) {
        use toe_contract::setup as cs;
        let cookie = if self.cookies.cfg.enabled {
            self.cookies.make(
                (src, ports.src),
                (dst, ports.dst),
                syn.seq.0,
                syn.syn_opts.mss,
                now,
            )
        } else {
            None
        };
        let Some(cookie) = cookie else {
            self.stats.syn_cookies_unusable += 1;
            return;
        };
        let ours = self.cfg.syn_opts;
        let theirs = syn.syn_opts;
        let ts = match (self.cfg.timestamps, theirs.tsval) {
            (true, Some(v)) => {
                // Our TSval clock as the connection will continue it
                // (milliseconds plus the ISN, Conn::ts_now).
                let clock = (now.as_millis() as u32).wrapping_add(cookie);
                let sack = theirs.sack_permitted && ours.sack_permitted;
                Some((cs::ts_encode(clock, theirs.wscale, sack), v))
            }
            _ => None,
        };
        let wscale = match (ts, theirs.wscale) {
            (Some(_), Some(_)) => ours.wscale,
            _ => None,
        };
        let synack = Segment {
            seq: Seq(cookie),
            ack: Some(syn.seq + 1),
            syn: true,
            // A SYN-ACK's window is never scaled (RFC 7323 2.2).
            window: self.cfg.recv_buffer.min(0xffff) as u16,
            syn_opts: SynOptions {
                mss: ours.mss.or(Some(self.cfg.mss)),
                wscale,
                sack_permitted: ts.is_some() && theirs.sack_permitted && ours.sack_permitted,
                tsval: ts.map(|t| t.0),
            },
            ts,
            ..Segment::default()
        };
        if let Some(l) = self.listeners.get_mut(&ports.dst) {
            l.last_cookie = Some(now);
        }
        self.stats.syn_cookies_sent += 1;
        let o = self.outgoing(src, ports.dst, ports.src, synack);
        self.out.push_back(o);
    }

    /// An ACK for no connection to a listener that sent cookies recently:
    /// if its number carries a valid cookie (`ack - 1`, for the client ISN
    /// `seq - 1`), the connection is created ESTABLISHED with what the
    /// cookie kept (the MSS class; window scale and SACK from the TSecr
    /// when timestamps are on) and true is returned, also when a full
    /// accept queue or table drops it (no RST, as Linux).  False: not a
    /// cookie of ours (the caller answers with RST, RFC 9293 3.10.7.2).
    fn cookie_ack(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ports: Ports,
        seg: &Segment,
        ack: Seq,
        now: Duration,
    ) -> bool {
        let lifetime = self.cookies.lifetime();
        let Some(l) = self.listeners.get(&ports.dst) else {
            return false;
        };
        if !self.cookies.cfg.enabled
            || l.last_cookie
                .is_none_or(|t| now.saturating_sub(t) > lifetime)
        {
            return false;
        }
        let checked = self.cookies.check(
            (src, ports.src),
            (dst, ports.dst),
            (seg.seq - 1).0,
            (ack - 1).0,
            now,
        );
        let Ok(mss) = checked else {
            self.stats.syn_cookies_rejected += 1;
            return false;
        };
        if self.conns.len() >= self.max_conns || l.queued() >= l.backlog {
            self.stats.syn_cookies_dropped_full += 1;
            return true;
        }
        let ts = if self.cfg.timestamps { seg.ts } else { None };
        let (peer_ws, sack) = match ts {
            Some((_, ecr)) => toe_contract::setup::ts_decode(ecr),
            None => (None, false),
        };
        let ours = self.cfg.syn_opts;
        let hs = Handshake {
            our_isn: ack - 1,
            peer_isn: seg.seq - 1,
            peer_mss: mss,
            wscale: peer_ws.zip(ours.wscale),
            sack: sack && ours.sack_permitted,
            ts,
            window: seg.window,
        };
        self.stats.syn_cookies_validated += 1;
        self.create_established((ports.dst, src, ports.src), &hs, seg, now);
        true
    }

    fn rst(&mut self, to: Ipv4Addr, ports: Ports, seq: Seq, ack: Option<Seq>) {
        let seg = Segment {
            seq,
            ack,
            rst: true,
            ..Segment::default()
        };
        self.stats.rst_sent += 1;
        let o = self.outgoing(to, ports.dst, ports.src, seg);
        self.out.push_back(o);
    }

    /// Timers due at `now`.
    pub fn on_timer(&mut self, now: Duration) {
        while let Some(Reverse((t, k))) = self.timers.peek().copied() {
            if t > now {
                break;
            }
            self.timers.pop();
            let h = handles::handle(k);
            if let Some(c) = self.conns.get_mut(&h) {
                if c.timer_entered != Some(t) {
                    // A stale entry: an earlier one was entered since.
                    continue;
                }
                c.timer_entered = None;
                match c.poll_at() {
                    // The deadline moved later since this entry: it is
                    // entered now (one entry per connection at a time).
                    Some(d) if d > now => {
                        c.timer_entered = Some(d);
                        self.timers.push(Reverse((d, k)));
                        continue;
                    }
                    None => continue,
                    Some(_) => {}
                }
                c.on_timer(now);
                if c.take_nic_check() {
                    if let Some(e) = self.nic_opens.get(&h) {
                        self.nic_checks.push((h, e.slot));
                    }
                }
                handles::push_once(&mut self.touched, h);
                mark_dirty(&mut self.dirty, c, h);
            }
        }
    }

    /// Buffers finished connections gave back, waiting to be lent (see
    /// `spare`).
    pub fn spare_buffers(&self) -> usize {
        self.spare.len()
    }

    /// Entries in the timer heap, stale ones included (deadlines that
    /// moved): about one per connection with a deadline.
    pub fn timer_entries(&self) -> usize {
        self.timers.len()
    }

    /// The earliest deadline (possibly one that has since moved later:
    /// polling then merely finds nothing due).
    pub fn poll_at(&self) -> Option<Duration> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Every TCP packet to send now: (destination, TCP header + payload).
    pub fn dispatch(&mut self, now: Duration) -> Vec<(Ipv4Addr, Vec<u8>)> {
        let mut v = VecDeque::new();
        self.dispatch_into(now, &mut v);
        v.into_iter().map(|o| (o.dst, o.to_bytes())).collect()
    }

    /// Every segment to send now, appended to `v` (built into frames by the
    /// caller, [`Outgoing::emit`]).
    pub fn dispatch_into(&mut self, now: Duration, v: &mut VecDeque<Outgoing>) {
        // Appended one by one (`push_back`: the generic `Extend` path and
        // an empty drain cost more than the segments' own work).
        if !self.out.is_empty() {
            v.extend(self.out.drain(..));
        }
        let (ip, offload) = (self.ip, self.tx_offload);
        // Each connection is listed once (its `in_dirty` flag), in the
        // order it was touched.
        let mut dirty = std::mem::take(&mut self.dirty);
        for &h in &dirty {
            let Some(c) = self.conns.get_mut(&h) else {
                continue;
            };
            c.in_dirty = false;
            while let Some(seg) = c.dispatch(now) {
                v.push_back(Outgoing {
                    dst: h.1,
                    src: ip,
                    sport: h.0,
                    dport: h.2,
                    seg,
                    offload,
                });
            }
            // A connection has one entry in the heap, for its earliest
            // deadline known: a deadline is entered only when it comes
            // before the entered one (a later one is entered when that
            // entry pops, `on_timer`), so the heap does not fill with an
            // entry per deadline change.
            if let Some(t) = c
                .poll_at()
                .filter(|t| c.timer_entered.is_none_or(|e| *t < e))
            {
                c.timer_entered = Some(t);
                self.timers.push(Reverse((t, handles::key(h))));
            }
            if c.state() == State::Closed {
                self.closed.push(h);
            }
            // A connection that completed its handshake joins its
            // listener's accept queue (looked up only until it has: its
            // `joining` flag).
            if c.joining && c.state() != State::SynReceived && c.state() != State::Closed {
                match self.pending.get_mut(&h) {
                    Some((port, half_open)) => {
                        if let Some(l) = self.listeners.get_mut(port) {
                            if std::mem::take(half_open) {
                                l.half_open = l.half_open.saturating_sub(1);
                            }
                            if !l.ready.contains(&h) {
                                l.ready.push_back(h);
                                handles::push_once(&mut self.touched, h);
                            }
                            c.joining = false;
                        }
                    }
                    None => c.joining = false,
                }
            }
        }
        dirty.clear();
        self.dirty = dirty;
        if self.timers.len() > 2 * self.conns.len() + 64 {
            self.rebuild_timers();
        }
    }

    fn rebuild_timers(&mut self) {
        self.timers = self
            .conns
            .iter()
            .filter_map(|(h, c)| c.poll_at().map(|t| Reverse((t, handles::key(h)))))
            .collect();
        for (_, c) in self.conns.iter_mut() {
            c.timer_entered = c.poll_at();
        }
    }
}

/// The ports of a received segment.
#[derive(Clone, Copy, Debug)]
struct Ports {
    src: u16,
    dst: u16,
}

/// The TCP packet `tcp` from `src` to `dst` parsed (its checksum verified
/// unless the NIC did), with the segment the connection code takes, and
/// whether its options were malformed.  The header is read by
/// [`super::wire::check`] (the checks of smoltcp's `TcpPacket`), the
/// options as Linux reads them ([`super::options::parse`]: smoltcp's
/// `TcpRepr::parse` rejects a segment with a broken option, Linux answers
/// it with what parsed before).  Rejected: a truncated header, a data
/// offset below 5 or past the end, port 0, a bad checksum, more than one
/// of SYN, FIN and RST.
fn parse_segment(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    tcp: &[u8],
    verified: bool,
    mut payload: Vec<u8>,
) -> Option<(Ports, Segment, bool)> {
    use super::wire::{ACK, FIN, RST, SYN};
    let h = super::wire::check(tcp)?;
    if h.src_port == 0 || h.dst_port == 0 {
        return None;
    }
    if !verified
        && !TcpPacket::new_unchecked(tcp)
            .verify_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(dst))
    {
        return None;
    }
    let (syn, fin, rst) = (h.flags & SYN != 0, h.flags & FIN != 0, h.flags & RST != 0);
    if syn as u8 + fin as u8 + rst as u8 > 1 {
        return None;
    }
    let o = super::options::parse(&tcp[super::wire::HEADER..h.len]);
    let seg = Segment {
        seq: Seq(h.seq),
        ack: (h.flags & ACK != 0).then_some(Seq(h.ack)),
        syn,
        fin,
        rst,
        window: h.window,
        syn_opts: o.syn,
        sack: o.sack,
        ts: o.ts,
        payload: {
            payload.clear();
            payload.extend_from_slice(&tcp[h.len..]);
            payload
        },
    };
    let ports = Ports {
        src: h.src_port,
        dst: h.dst_port,
    };
    Some((ports, seg, o.malformed))
}

/// Builds the TCP packet for `seg` with its checksum.
pub fn emit(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, seg: &Segment) -> Vec<u8> {
    Outgoing {
        dst,
        src,
        sport,
        dport,
        seg: seg.clone(),
        offload: false,
    }
    .to_bytes()
}

// The TCP core's side of the offload seam (`super::offload`): the hooks
// are the stack's own methods.
impl SegmentInput for TcpStack {
    fn on_segment(&mut self, src: Ipv4Addr, dst: Ipv4Addr, tcp: &[u8], ok: bool, now: Duration) {
        self.on_packet_checked(src, dst, tcp, ok, now)
    }
    fn on_established(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        ok: bool,
        nic: &NicEstablished,
        now: Duration,
    ) {
        TcpStack::on_established(self, src, dst, tcp, ok, nic, now)
    }
    fn on_nic_connected(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        ok: bool,
        now: Duration,
    ) {
        TcpStack::on_nic_connected(self, src, dst, tcp, ok, now)
    }
    fn on_nic_refused(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        ok: bool,
        now: Duration,
    ) {
        TcpStack::on_nic_refused(self, src, dst, tcp, ok, now)
    }
}

impl ActiveOpenHooks for TcpStack {
    fn nic_opens(&self) -> usize {
        TcpStack::nic_opens(self)
    }
    fn take_nic_aborts(&mut self, into: &mut Vec<NicAbort>) {
        TcpStack::take_nic_aborts(self, into)
    }
    fn take_connect_requests(&mut self, into: &mut Vec<NicConnectRequest>) {
        TcpStack::take_connect_requests(self, into)
    }
    fn nic_connect_issued(&mut self, h: Handle, now: Duration) -> bool {
        TcpStack::nic_connect_issued(self, h, now)
    }
    fn nic_connect_fallback(&mut self, h: Handle, now: Duration) {
        TcpStack::nic_connect_fallback(self, h, now)
    }
    fn take_nic_checks(&mut self, into: &mut Vec<(Handle, usize)>) {
        TcpStack::take_nic_checks(self, into)
    }
    fn on_nic_check(&mut self, h: Handle, st: NicOpenStatus, now: Duration) {
        TcpStack::on_nic_check(self, h, st, now)
    }
}

impl SetupHooks for TcpStack {
    fn take_tuple_events(&mut self, into: &mut Vec<(Handle, bool)>) {
        TcpStack::take_tuple_events(self, into)
    }
}

impl TeardownHooks for TcpStack {
    fn teardown_tcb(&self, h: Handle, now: Duration) -> TeardownCheck {
        self.conns
            .get(&h)
            .map_or(TeardownCheck::No, |c| c.teardown_tcb(now))
    }

    fn close_in_software(&mut self, h: Handle) {
        if let Some(c) = self.conn(h) {
            c.close();
        }
    }

    fn copy_unacked(&self, h: Handle, dst: &mut [u8]) -> usize {
        self.conns.get(&h).map_or(0, |c| c.copy_unacked(dst))
    }

    fn hand_over(&mut self, h: Handle) -> bool {
        let was_passive = self.passive.contains(&h);
        let Some(mut c) = self.remove_conn(h) else {
            return false;
        };
        self.forget_pending(h);
        c.give_back_memory(&mut self.spare, SPARE_BUFFERS);
        if self.spare_conns.len() < SPARE_CONNS {
            self.spare_conns.push(c);
        }
        self.handed_over.insert(h, was_passive);
        self.stats.teardown_handed_over += 1;
        true
    }

    fn handover_ended(&mut self, h: Handle) {
        self.handed_over.remove(&h);
    }

    fn handover_fallback(
        &mut self,
        h: Handle,
        tcb: &TeardownTcb,
        kept: &[u8],
        now: Duration,
    ) -> bool {
        let was_passive = self.handed_over.remove(&h).unwrap_or(false);
        if self.conns.contains_key(&h) {
            return false;
        }
        // Not bounded by `max_conns`: the connection was in the table a
        // moment ago, and dropping it would leave the peer hanging.
        let mut c = Conn::from_teardown(self.cfg.clone(), tcb, kept, now);
        mark_dirty(&mut self.dirty, &mut c, h);
        self.conns.insert(h, boxed(&mut self.spare_conns, c));
        if was_passive {
            self.note_added(h);
        }
        handles::push_once(&mut self.touched, h);
        self.stats.teardown_rebuilt += 1;
        true
    }
}
