//! Sockets and an event loop over the NIC: the user calls of RFC 9293
//! 3.9.1 (listen/open, send, receive, close, abort) as a nonblocking
//! socket API with epoll-like readiness.
//!
//! One [`Endpoint`] per queue pair, run to completion (mTCP's model): it
//! receives only from its own RX queue, sends only on its own TX queue, and
//! owns its network layer, connections and sockets.  Instances on different
//! queues share nothing on the fast path.  RSS keeps a flow on one queue;
//! [`Endpoint::connect`] picks a local port whose replies RSS steers back to
//! the queue it was called on (the driver knows the key and table it
//! programmed, see [`Nic::rx_queue_of`]).
//!
//! ARP replies carry no ports and RSS sends them to queue 0.  A
//! [`Neighbours`] board shared by the instances of one interface carries
//! resolved neighbours between them; an instance locks it only when it has
//! packets waiting for resolution or has just learned a new neighbour, never
//! in steady state.
//!
//! ```text
//!   let mut ep = Endpoint::new(EndpointConfig::new(q, net), &nic)?;
//!   let l = ep.listen(7, 64)?;
//!   loop {
//!       ep.poll(&mut nic, now, &mut events);
//!       for e in &events { accept / read / write / close ... }
//!   }
//! ```
//!
//! With one thread per queue pair, split the NIC ([`Nic::split`]) and give
//! each thread its [`NicQueue`] and its endpoint: an `Endpoint` is `Send`,
//! and the same code runs on the queue handle.
//!
//! ```text
//!   let (ctl, queues) = nic.split()?;
//!   for mut queue in queues {                        // one thread each
//!       let mut ep = Endpoint::on_queue(EndpointConfig::new(queue.index(), net), &queue)?;
//!       loop { ep.poll_queue(&mut queue, now, &mut events); ... }
//!   }
//! ```
//!
//! Readiness is level-triggered: a socket is reported by every `poll` while
//! its condition holds (data to read, room to write, a connection to
//! accept), like epoll without EPOLLET.  [`Ready::CLOSED`] and
//! [`Ready::ERROR`] are always reported; the other conditions only when in
//! the socket's interest set ([`Endpoint::set_interest`]).
use crate::error::{Error, Result};
use crate::net::{Host, NetConfig, NetIf, Received, SendError};
use crate::nic::{Nic, NicQueue, QueueIo, TeardownDone};
use crate::offload::teardown::HandOverPort;
use crate::offload::{
    self, ActiveOpens, EstFilter, NextHop, NicConnector, TeardownParams, TeardownStats, Teardowns,
};
use crate::tcp::conn::{Closed, Config, Conn, State};
use crate::tcp::handles::{self, HandleMap, HandleSet};
use crate::tcp::isn::IsnGenerator;
use crate::tcp::offload::NicConnectParams;
use crate::tcp::stack::{Handle, Outgoing, StackStats, TcpStack};
use smoltcp::wire::{EthernetAddress, IpProtocol, Ipv4Address};
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toe_contract::rss;

/// A socket of one [`Endpoint`] (like a file descriptor: small, reused
/// after close).
pub type SocketId = u32;

/// Readiness conditions, a bit set.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Ready(pub u32);

impl Ready {
    pub const NONE: Ready = Ready(0);
    /// A listener has an established connection to accept.
    pub const ACCEPTABLE: Ready = Ready(1);
    /// `read` returns data, or 0 at end of stream.
    pub const READABLE: Ready = Ready(2);
    /// `write` takes at least one byte (for a connecting socket: the
    /// connection is established).
    pub const WRITABLE: Ready = Ready(4);
    /// The connection is over in both directions (or was reset).
    pub const CLOSED: Ready = Ready(8);
    /// The connection failed: refused, reset or timed out
    /// ([`Endpoint::error`] says which).
    pub const ERROR: Ready = Ready(16);
    /// Every condition.
    pub const ALL: Ready = Ready(31);

    pub fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, o: Ready) -> Ready {
        Ready(self.0 | o.0)
    }
}
impl std::ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, o: Ready) {
        self.0 |= o.0
    }
}
impl std::ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, o: Ready) -> Ready {
        Ready(self.0 & o.0)
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (Ready::ACCEPTABLE, "ACCEPTABLE"),
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::CLOSED, "CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(r, _)| self.contains(*r))
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() {
            write!(f, "NONE")
        } else {
            write!(f, "{}", set.join("|"))
        }
    }
}

/// One readiness report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub socket: SocketId,
    pub ready: Ready,
}

/// Why a socket call did not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockError {
    /// Nothing to read, no room to write, nothing to accept: poll and
    /// retry (EAGAIN).
    WouldBlock,
    /// No such socket (never opened, or closed).
    BadSocket,
    /// The call does not apply to this kind of socket (read on a
    /// listener, accept on a connection).
    WrongKind,
    /// The port already has a listener.
    AddrInUse,
    /// The peer answered the SYN with RST (ECONNREFUSED).
    Refused,
    /// The peer reset the connection (ECONNRESET).
    Reset,
    /// Retransmissions (or keepalive probes) went unanswered (ETIMEDOUT).
    TimedOut,
    /// Writing after `shutdown(Write)` or `close` (EPIPE).
    Shutdown,
    /// A socket, connection or port limit is reached.
    NoResources,
    /// The NIC does not implement the offload asked for (a socket option
    /// such as [`Endpoint::set_teardown_offload`]);
    /// [`Endpoint::teardown_unavailable`] names the cause.
    NotSupported,
}

impl std::fmt::Display for SockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            SockError::WouldBlock => "operation would block",
            SockError::BadSocket => "no such socket",
            SockError::WrongKind => "call does not apply to this kind of socket",
            SockError::AddrInUse => "port already has a listener",
            SockError::Refused => "connection refused (RST in reply to SYN)",
            SockError::Reset => "connection reset by peer",
            SockError::TimedOut => "connection timed out",
            SockError::Shutdown => "sending side already shut down",
            SockError::NoResources => "socket or connection limit reached",
            SockError::NotSupported => "the NIC does not implement this offload",
        };
        f.write_str(s)
    }
}

impl std::error::Error for SockError {}

/// Which direction(s) [`Endpoint::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// Neighbours (IPv4 to MAC) resolved by any instance of one interface.
#[derive(Clone, Default)]
pub struct Neighbours(Arc<Mutex<HashMap<[u8; 4], [u8; 6]>>>);

impl Neighbours {
    pub fn new() -> Self {
        Self::default()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 4], [u8; 6]>> {
        // A panic elsewhere while holding the lock leaves a map that is
        // still consistent (single inserts).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn len(&self) -> usize {
        self.lock().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone)]
pub struct EndpointConfig {
    /// The queue pair this instance owns.
    pub queue: u32,
    pub net: NetConfig,
    pub tcp: Config,
    /// Secret for the RFC 6528 ISN generator (same on every instance of
    /// an interface).
    pub isn_key: [u8; 16],
    /// Connections (any state, TIME_WAIT included).
    pub max_conns: usize,
    /// Open sockets (listeners and connections).
    pub max_sockets: usize,
    /// Shared with the other instances of the interface, if any.
    pub neighbours: Option<Neighbours>,
    /// The device's active open ([`crate::Device::nic_connector`]), for
    /// connects asked to run on the NIC ([`ConnectOptions::nic`]); the
    /// same connector (or clones) on every instance of the device, so that
    /// they share its slots.
    pub nic_connect: Option<NicConnector>,
    /// The device's established-tuple filter ([`crate::Device::est_filter`],
    /// the same on every instance): with it, the instance marks the tuples
    /// of its passive connections, so that the NIC's setup offload hands
    /// their SYNs to the host (RFC 5961 section 4: challenge ACK) instead
    /// of answering them with a cookie.  Needed wherever the setup offload
    /// is on.
    pub est_filter: Option<EstFilter>,
    /// The device's teardown offload ([`crate::Device::teardown_params`]),
    /// for sockets that ask for it ([`Endpoint::set_teardown_offload`]).
    /// `None`: [`Endpoint::new`] asks the device itself (and remembers why
    /// not, [`Endpoint::teardown_unavailable`]); an endpoint made with
    /// [`Endpoint::on_queue`] has it only when given here.
    pub teardown: Option<TeardownParams>,
}

impl EndpointConfig {
    /// With the NIC's checksum offloads on (IPv4 and TCP, both ways); set
    /// `net.checksum_offload = false` to compute them in software.
    pub fn new(queue: u32, mut net: NetConfig) -> Self {
        net.checksum_offload = true;
        EndpointConfig {
            queue,
            net,
            tcp: Config::default(),
            isn_key: [0x5a; 16],
            max_conns: 4096,
            max_sockets: 4096,
            neighbours: None,
            nic_connect: None,
            est_filter: None,
            teardown: None,
        }
    }
}

/// How [`Endpoint::connect_with`] opens a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Active open by the NIC: the NIC sends the SYN, retransmits it and
    /// sends the handshake ACK; the host learns "connected", "refused" or
    /// (by its own deadline) "timed out" (docs/setup.md, "Active open").
    /// Needs [`EndpointConfig::nic_connect`].  Without it, with all 16
    /// slots of the device busy, or when the request cannot be issued (no
    /// register path, next hop unresolved for `net.pending_timeout`), the
    /// connect runs the software handshake (`StackStats::nic_connect_fallback`).
    pub nic: bool,
}

/// Counts of what the socket layer did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub accepted: u64,
    pub connects: u64,
    pub closed: u64,
    /// Connections reset because data arrived after the application closed
    /// them or with unread data at close (RFC 2525 2.17, as Linux does).
    pub reset_unread: u64,
    /// Bytes discarded after `shutdown(Read)`.
    pub discarded_bytes: u64,
    /// Segments that waited for room in the network layer's TX queue.
    pub tx_waits: u64,
}

/// Why an endpoint's teardown offload is not available, when nobody said.
const TEARDOWN_NOT_ASKED: &str = "the endpoint was made on a queue handle without \
     EndpointConfig::teardown (ask the device: Device::teardown_params)";

enum Kind {
    Listener {
        port: u16,
        /// Connections accepted from it start with the teardown offload
        /// on.
        teardown: bool,
    },
    Stream {
        h: Handle,
        /// `close` hands the connection to the NIC's teardown offload.
        teardown: bool,
        rd_shut: bool,
        wr_shut: bool,
        /// Opened by `connect` and not yet established.
        connecting: bool,
        /// How the connection ended, kept after it leaves the table.
        end: Option<Closed>,
        was_connecting: bool,
    },
}

struct Socket {
    kind: Kind,
    interest: Ready,
    /// In `listed` (reported by `poll` until its readiness clears).
    listed: bool,
    /// Its readiness when last computed ([`Endpoint::relist`]): a socket's
    /// readiness changes only with its connection (input, timers, the
    /// application's calls), and every such change touches the connection,
    /// so `report` uses this instead of computing it again.
    ready: Ready,
}

pub struct Endpoint {
    queue: u32,
    host: Host,
    tcp: TcpStack,
    local: Ipv4Addr,
    rss: Option<(
        [u8; toe_contract::RSS_KEY_BYTES],
        [u8; toe_contract::RSS_TABLE_ENTRIES],
    )>,
    sockets: Vec<Option<Socket>>,
    free: Vec<SocketId>,
    max_sockets: usize,
    by_handle: HandleMap<SocketId>,
    listeners: HashMap<u16, SocketId, ahash::RandomState>,
    /// Closed by the application, still finishing (FIN, TIME_WAIT).
    orphans: HandleSet,
    listed: Vec<SocketId>,
    touched: Vec<Handle>,
    out: VecDeque<Outgoing>,
    neighbours: Option<Neighbours>,
    arp_generation: u64,
    stats: EndpointStats,
    scratch: Vec<u8>,
    /// The device's active open, if configured (`offload::connect`).
    opens: Option<ActiveOpens>,
    /// The device's established-tuple filter, if the setup offload is on.
    est_filter: Option<EstFilter>,
    /// Scratch for the stack's tuple events.
    tuple_events: Vec<(Handle, bool)>,
    /// The teardown offload, when the device has it.
    teardowns: Option<Teardowns>,
    /// Why not, when it has not.
    teardown_missing: Option<String>,
    /// Scratch: hand-overs ended, connections handed over.
    td_done: Vec<TeardownDone>,
    td_handed: Vec<Handle>,
    /// A hand-over ready to go waited for a buffer, queued frames or the
    /// next hop: [`Endpoint::poll_at`] asks for a poll by then.
    td_retry_at: Option<Duration>,
}

impl Endpoint {
    /// A stack instance on queue pair `cfg.queue` of `nic`.
    pub fn new(mut cfg: EndpointConfig, nic: &Nic) -> Result<Endpoint> {
        let mut missing = None;
        if cfg.teardown.is_none() {
            match nic.device().teardown_params() {
                Ok(p) => cfg.teardown = Some(p),
                Err(e) => missing = Some(e.to_string()),
            }
        }
        let mut ep = Self::build(cfg, nic.queue_pairs(), nic.config().rss_key)?;
        if missing.is_some() {
            ep.teardown_missing = missing;
        }
        Ok(ep)
    }

    /// A stack instance on the queue handle `queue` (of a split NIC), to be
    /// polled with [`Endpoint::poll_queue`] by the thread that owns it.
    /// `cfg.queue` must be the handle's queue.
    pub fn on_queue(cfg: EndpointConfig, queue: &NicQueue) -> Result<Endpoint> {
        if cfg.queue != queue.index() {
            return Err(Error::Config(format!(
                "endpoint configured for queue {} on the handle of queue {}",
                cfg.queue,
                queue.index()
            )));
        }
        Self::build(cfg, queue.queue_pairs(), queue.config().rss_key)
    }

    fn build(
        cfg: EndpointConfig,
        queue_pairs: u32,
        rss_key: Option<[u8; toe_contract::RSS_KEY_BYTES]>,
    ) -> Result<Endpoint> {
        if cfg.queue >= queue_pairs {
            return Err(Error::Config(format!(
                "endpoint on queue {}, the NIC has {queue_pairs} queue pairs",
                cfg.queue,
            )));
        }
        if cfg.max_sockets == 0 || cfg.max_conns == 0 {
            return Err(Error::Config(
                "endpoint needs max_sockets and max_conns above 0".into(),
            ));
        }
        let local = cfg.net.ip;
        let mut host = Host::new(NetIf::new(cfg.net.clone()));
        host.tx_queue = cfg.queue;
        let mut tcp = TcpStack::new(
            local,
            cfg.tcp.clone(),
            IsnGenerator::new(cfg.isn_key),
            cfg.max_conns,
        );
        tcp.set_tx_checksum_offload(cfg.net.checksum_offload);
        tcp.set_tuple_events(cfg.est_filter.is_some());
        tcp.set_nic_connect(
            cfg.nic_connect
                .as_ref()
                .map(NicConnectParams::from_connector),
        );
        Ok(Endpoint {
            queue: cfg.queue,
            host,
            tcp,
            local,
            rss: rss_key.map(|k| (k, rss::spread_table(queue_pairs))),
            sockets: Vec::new(),
            free: Vec::new(),
            max_sockets: cfg.max_sockets,
            by_handle: HandleMap::new(),
            listeners: HashMap::default(),
            orphans: HandleSet::new(),
            listed: Vec::new(),
            touched: Vec::new(),
            out: VecDeque::new(),
            neighbours: cfg.neighbours,
            arp_generation: 0,
            stats: EndpointStats::default(),
            scratch: vec![0; 4096],
            opens: cfg.nic_connect.map(ActiveOpens::new),
            est_filter: cfg.est_filter,
            tuple_events: Vec::new(),
            teardowns: cfg.teardown.map(|p| Teardowns::new(p, local.octets())),
            teardown_missing: cfg
                .teardown
                .is_none()
                .then(|| TEARDOWN_NOT_ASKED.to_string()),
            td_done: Vec::new(),
            td_handed: Vec::new(),
            td_retry_at: None,
        })
    }

    pub fn queue(&self) -> u32 {
        self.queue
    }
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }
    pub fn tcp_stats(&self) -> StackStats {
        self.tcp.stats()
    }
    pub fn net(&self) -> &NetIf {
        &self.host.net
    }
    /// Connections in the table (TIME_WAIT included).
    pub fn connections(&self) -> usize {
        self.tcp.len()
    }
    /// Open sockets.
    pub fn sockets(&self) -> usize {
        self.sockets.len() - self.free.len()
    }

    fn add(&mut self, kind: Kind, interest: Ready) -> std::result::Result<SocketId, SockError> {
        let s = Socket {
            kind,
            interest,
            listed: false,
            ready: Ready::NONE,
        };
        if let Some(id) = self.free.pop() {
            self.sockets[id as usize] = Some(s);
            Ok(id)
        } else if self.sockets.len() < self.max_sockets {
            self.sockets.push(Some(s));
            Ok(self.sockets.len() as SocketId - 1)
        } else {
            Err(SockError::NoResources)
        }
    }

    fn has_room(&self) -> bool {
        !self.free.is_empty() || self.sockets.len() < self.max_sockets
    }

    fn sock(&self, s: SocketId) -> std::result::Result<&Socket, SockError> {
        self.sockets
            .get(s as usize)
            .and_then(|x| x.as_ref())
            .ok_or(SockError::BadSocket)
    }

    fn sock_mut(&mut self, s: SocketId) -> std::result::Result<&mut Socket, SockError> {
        self.sockets
            .get_mut(s as usize)
            .and_then(|x| x.as_mut())
            .ok_or(SockError::BadSocket)
    }

    /// Listens on `port` (any address of this interface); `backlog` bounds
    /// connections handshaking or waiting to be accepted.
    pub fn listen(
        &mut self,
        port: u16,
        backlog: usize,
    ) -> std::result::Result<SocketId, SockError> {
        if self.listeners.contains_key(&port) || port == 0 {
            return Err(SockError::AddrInUse);
        }
        let id = self.add(
            Kind::Listener {
                port,
                teardown: false,
            },
            Ready::ACCEPTABLE | Ready::CLOSED | Ready::ERROR,
        )?;
        self.tcp.listen(port, backlog.max(1));
        self.listeners.insert(port, id);
        Ok(id)
    }

    /// An established connection from listener `l`, as a new socket.
    pub fn accept(&mut self, l: SocketId) -> std::result::Result<SocketId, SockError> {
        let (port, teardown) = match self.sock(l)?.kind {
            Kind::Listener { port, teardown } => (port, teardown),
            Kind::Stream { .. } => return Err(SockError::WrongKind),
        };
        if !self.has_room() {
            return Err(SockError::NoResources);
        }
        let h = self.tcp.accept(port).ok_or(SockError::WouldBlock)?;
        // The accept queue shrank: the listener's readiness changes.
        self.relist(l);
        let mut kind = stream(h, false);
        if let Kind::Stream { teardown: t, .. } = &mut kind {
            *t = teardown;
        }
        let id = self.add(kind, Ready::READABLE | Ready::CLOSED | Ready::ERROR)?;
        self.by_handle.insert(h, id);
        handles::push_once(&mut self.touched, h);
        self.stats.accepted += 1;
        Ok(id)
    }

    /// Opens a connection to `remote` (nonblocking: the socket reports
    /// WRITABLE once established, ERROR if refused or timed out).
    pub fn connect(
        &mut self,
        remote: (Ipv4Addr, u16),
        now: Duration,
    ) -> std::result::Result<SocketId, SockError> {
        self.connect_with(remote, now, ConnectOptions::default())
    }

    /// [`Endpoint::connect`] with options: `opts.nic` has the NIC perform
    /// the handshake (see [`ConnectOptions`]); the socket behaves the same
    /// either way.
    pub fn connect_with(
        &mut self,
        remote: (Ipv4Addr, u16),
        now: Duration,
        opts: ConnectOptions,
    ) -> std::result::Result<SocketId, SockError> {
        if !self.has_room() {
            return Err(SockError::NoResources);
        }
        let (local, queue, rss) = (self.local.octets(), self.queue, self.rss);
        let steered = |port| match &rss {
            None => queue == 0,
            Some((key, table)) => {
                let hash =
                    rss::toeplitz(key, &rss::tuple4(remote.0.octets(), local, remote.1, port));
                rss::queue_of(hash, table) as u32 == queue
            }
        };
        let h = if opts.nic {
            self.tcp.connect_by_nic_where(remote, now, steered)
        } else {
            self.tcp.connect_where(remote, now, steered)
        }
        .ok_or(SockError::NoResources)?;
        let id = self.add(
            stream(h, true),
            Ready::READABLE | Ready::WRITABLE | Ready::CLOSED | Ready::ERROR,
        )?;
        self.by_handle.insert(h, id);
        handles::push_once(&mut self.touched, h);
        self.stats.connects += 1;
        Ok(id)
    }

    /// Which conditions `poll` reports for `s` (CLOSED and ERROR always).
    pub fn set_interest(
        &mut self,
        s: SocketId,
        interest: Ready,
    ) -> std::result::Result<(), SockError> {
        let sock = self.sock_mut(s)?;
        sock.interest = interest | Ready::CLOSED | Ready::ERROR;
        self.relist(s);
        Ok(())
    }

    /// The connection's 4-tuple: (local port, remote address, remote port).
    pub fn peer(&self, s: SocketId) -> std::result::Result<Handle, SockError> {
        match self.sock(s)?.kind {
            Kind::Stream { h, .. } => Ok(h),
            Kind::Listener { .. } => Err(SockError::WrongKind),
        }
    }

    /// Reads received data: Ok(0) is the end of the stream.
    pub fn read(&mut self, s: SocketId, buf: &mut [u8]) -> std::result::Result<usize, SockError> {
        let (h, rd_shut, _) = self.stream_of(s)?;
        if rd_shut {
            return Ok(0);
        }
        // The error is looked up only when it is the answer (a read does
        // not change how a connection ended).
        let Some(c) = self.tcp.conn(h) else {
            return self.error(s).map_or(Ok(0), Err);
        };
        let n = c.read(buf);
        let (read_closed, closed) = (c.read_closed(), c.closed().is_some());
        handles::push_once(&mut self.touched, h);
        if n > 0 || buf.is_empty() || read_closed {
            return Ok(n);
        }
        if closed {
            self.error(s).map_or(Ok(0), Err)
        } else {
            Err(SockError::WouldBlock)
        }
    }

    /// [`Endpoint::read`] without the copy: `f` gets the received bytes in
    /// place in the connection's receive buffer (the first contiguous
    /// piece of what waits; call again for the rest) and returns how many
    /// it consumed.  The slice is valid only inside `f`.  Returns
    /// `Ok(consumed)`, `Ok(0)` without calling `f` at the end of the
    /// stream, or the errors of `read` (`f` is not called then either).
    pub fn read_with(
        &mut self,
        s: SocketId,
        f: impl FnOnce(&[u8]) -> usize,
    ) -> std::result::Result<usize, SockError> {
        let (h, rd_shut, _) = self.stream_of(s)?;
        if rd_shut {
            return Ok(0);
        }
        let Some(c) = self.tcp.conn(h) else {
            return self.error(s).map_or(Ok(0), Err);
        };
        if c.readable() > 0 {
            let n = c.read_with(f);
            handles::push_once(&mut self.touched, h);
            return Ok(n);
        }
        let (read_closed, closed) = (c.read_closed(), c.closed().is_some());
        handles::push_once(&mut self.touched, h);
        if read_closed {
            return Ok(0);
        }
        if closed {
            self.error(s).map_or(Ok(0), Err)
        } else {
            Err(SockError::WouldBlock)
        }
    }

    /// [`Endpoint::write`] without the copy: `f` writes up to `max` bytes
    /// straight into the connection's send buffer (the first contiguous
    /// piece of its free room, possibly less than `max`; call again for
    /// more) and returns how many it wrote, which are queued.  Returns
    /// `Ok(written)` or the errors of `write` (WouldBlock when there is no
    /// room; `f` is not called on an error).
    pub fn write_with(
        &mut self,
        s: SocketId,
        max: usize,
        f: impl FnOnce(&mut [u8]) -> usize,
    ) -> std::result::Result<usize, SockError> {
        let c = self.conn_for_write(s)?;
        let open = send_side_open(c.state());
        if max == 0 {
            return if open {
                Ok(0)
            } else {
                Err(SockError::Shutdown)
            };
        }
        if c.send_room() == 0 {
            return Err(if open {
                SockError::WouldBlock
            } else {
                SockError::Shutdown
            });
        }
        match c.write_with(max, f) {
            0 if !open => Err(SockError::Shutdown),
            n => Ok(n),
        }
    }

    /// Queues data to send; returns how much was taken (flow control and
    /// the bounded send buffer: WouldBlock when none fits).
    pub fn write(&mut self, s: SocketId, data: &[u8]) -> std::result::Result<usize, SockError> {
        let c = self.conn_for_write(s)?;
        let n = c.write(data);
        if n == 0 && !data.is_empty() {
            return Err(if send_side_open(c.state()) {
                SockError::WouldBlock
            } else {
                SockError::Shutdown
            });
        }
        Ok(n)
    }

    /// The connection behind a stream socket that may still send: the
    /// checks `write` and `write_with` share (the socket's write side not
    /// shut down, the connection present and not closed; otherwise its
    /// error, else Shutdown).  Marks the connection touched.
    fn conn_for_write(&mut self, s: SocketId) -> std::result::Result<&mut Conn, SockError> {
        let (h, _, _) = self.stream_of(s)?;
        if let Ok(Socket {
            kind: Kind::Stream { wr_shut: true, .. },
            ..
        }) = self.sock(s)
        {
            return Err(SockError::Shutdown);
        }
        // The error is looked up only when it is the answer.
        if self.tcp.conn_ref(h).is_none_or(|c| c.closed().is_some()) {
            return Err(self.error(s).unwrap_or(SockError::Shutdown));
        }
        handles::push_once(&mut self.touched, h);
        self.tcp.conn_to_write(h).ok_or(SockError::Shutdown)
    }

    /// Closes one or both directions; the socket stays open.
    pub fn shutdown(&mut self, s: SocketId, how: Shutdown) -> std::result::Result<(), SockError> {
        let (h, _, _) = self.stream_of(s)?;
        if let Some(Socket {
            kind: Kind::Stream {
                rd_shut, wr_shut, ..
            },
            ..
        }) = self.sockets[s as usize].as_mut()
        {
            if how != Shutdown::Write {
                *rd_shut = true;
            }
            if how != Shutdown::Read {
                *wr_shut = true;
            }
        }
        if how != Shutdown::Read {
            if let Some(c) = self.tcp.conn(h) {
                c.close();
            }
        }
        handles::push_once(&mut self.touched, h);
        Ok(())
    }

    /// Closes the socket.  A connection finishes in the background (FIN,
    /// retransmission, TIME_WAIT) unless unread data is pending, in which
    /// case it is reset (RFC 2525 2.17).  Closing a listener resets the
    /// connections it has not handed out.
    pub fn close(&mut self, s: SocketId) -> std::result::Result<(), SockError> {
        let sock = self
            .sockets
            .get_mut(s as usize)
            .and_then(|x| x.take())
            .ok_or(SockError::BadSocket)?;
        self.free.push(s);
        self.stats.closed += 1;
        match sock.kind {
            Kind::Listener { port, .. } => {
                self.listeners.remove(&port);
                self.tcp.unlisten(port);
            }
            Kind::Stream { h, teardown, .. } => {
                self.by_handle.remove(&h);
                if let Some(c) = self.tcp.conn(h) {
                    if c.readable() > 0 {
                        self.stats.reset_unread += 1;
                        self.tcp.abort(h);
                    } else {
                        // With the teardown offload on, the FIN is the
                        // NIC's once the data is out (offload::teardown);
                        // otherwise (or in a state it cannot take) ours.
                        let state = c.state();
                        let offloaded =
                            teardown && self.teardowns.as_mut().is_some_and(|t| t.close(h, state));
                        if !offloaded {
                            if let Some(c) = self.tcp.conn(h) {
                                c.close();
                            }
                        }
                        self.orphans.insert(h);
                    }
                }
            }
        }
        Ok(())
    }

    /// Resets the connection at once (RST) and closes the socket.
    pub fn abort(&mut self, s: SocketId) -> std::result::Result<(), SockError> {
        let (h, _, _) = self.stream_of(s)?;
        self.tcp.abort(h);
        self.close(s)
    }

    /// The error a failed connection ended with, if it did.
    pub fn error(&self, s: SocketId) -> Option<SockError> {
        match self.sock(s).ok()?.kind {
            Kind::Stream {
                h,
                end,
                was_connecting,
                ..
            } => {
                let end = self.tcp.conn_ref(h).and_then(|c| c.closed()).or(end)?;
                end_error(end, was_connecting).err()
            }
            Kind::Listener { .. } => None,
        }
    }

    fn stream_of(
        &self,
        s: SocketId,
    ) -> std::result::Result<(Handle, bool, Option<Closed>), SockError> {
        match self.sock(s)?.kind {
            Kind::Stream {
                h, rd_shut, end, ..
            } => Ok((h, rd_shut, end)),
            Kind::Listener { .. } => Err(SockError::WrongKind),
        }
    }

    /// What `s` is ready for now (all conditions, before the interest).
    pub fn readiness(&self, s: SocketId) -> Ready {
        let Ok(sock) = self.sock(s) else {
            return Ready::NONE;
        };
        match sock.kind {
            Kind::Listener { port, .. } => {
                if self.tcp.has_acceptable(port) {
                    Ready::ACCEPTABLE
                } else {
                    Ready::NONE
                }
            }
            Kind::Stream {
                h,
                rd_shut,
                wr_shut,
                end,
                ..
            } => stream_readiness(self.tcp.conn_ref(h), rd_shut, wr_shut, end),
        }
    }

    fn relist(&mut self, s: SocketId) {
        let r = self.readiness(s);
        if let Some(Some(sock)) = self.sockets.get_mut(s as usize) {
            sock.ready = r;
            if !sock.listed && (r & sock.interest).0 != 0 {
                sock.listed = true;
                self.listed.push(s);
            }
        }
    }

    /// Runs the stack once: one RX burst from this instance's queue, TCP
    /// input, timers, TCP output onto the TX ring (what does not fit waits:
    /// backpressure), then `events` gets every socket ready for something
    /// in its interest.  Returns the number of frames received.
    pub fn poll(&mut self, nic: &mut Nic, now: Duration, events: &mut Vec<Event>) -> usize {
        let q = self.queue;
        self.poll_queue(&mut nic.queue(q), now, events)
    }

    /// [`Endpoint::poll`] on a queue handle: a [`NicQueue`] owned by this
    /// thread, or queue `q` of a [`Nic`] ([`Nic::queue`]).  Panics if the
    /// handle is another queue's.
    pub fn poll_queue<Q: QueueIo + ?Sized>(
        &mut self,
        io: &mut Q,
        now: Duration,
        events: &mut Vec<Event>,
    ) -> usize {
        assert_eq!(
            io.index(),
            self.queue,
            "endpoint of queue {} polled on queue {}",
            self.queue,
            io.index()
        );
        self.import_neighbours(now);
        let tcp = &mut self.tcp;
        let rx = self.host.receive_on(io, now, |r, cpl| {
            if let Received::Ipv4 {
                src,
                dst,
                protocol: IpProtocol::Tcp,
                payload,
                l4_verified,
            } = r
            {
                // The TCP core's entry point for the completion's kind.
                offload::dispatch::deliver(tcp, cpl, src, dst, payload, l4_verified, now);
            }
        });
        self.host.net.poll(now);
        self.tcp.on_timer(now);
        self.nic_opens(io, now);
        self.teardown_ends(io, now);
        self.tcp.take_touched(&mut self.touched);
        self.settle_touched();
        self.transmit(io, now);
        self.teardown_handovers(io, now);
        self.export_neighbours(now);
        self.tcp.reap();
        self.mark_tuples(io);
        self.report(events);
        rx
    }

    /// Turns the teardown offload on or off for socket `s`: for a
    /// connection, whether `close` hands it to the NIC (docs/teardown.md,
    /// "Host side"); for a listener, whether the connections accepted from
    /// it start with it on (as AccelTCP's TCP_TEARDOWN_OFFLOAD).  Off is
    /// always accepted.  On fails with [`SockError::NotSupported`] when
    /// the device has no teardown offload
    /// ([`Endpoint::teardown_unavailable`] says why).
    pub fn set_teardown_offload(
        &mut self,
        s: SocketId,
        on: bool,
    ) -> std::result::Result<(), SockError> {
        self.sock(s)?;
        if on && self.teardowns.is_none() {
            return Err(SockError::NotSupported);
        }
        match &mut self.sock_mut(s)?.kind {
            Kind::Listener { teardown, .. } | Kind::Stream { teardown, .. } => *teardown = on,
        }
        Ok(())
    }

    /// Whether the teardown offload is on for socket `s`.
    pub fn teardown_offload(&self, s: SocketId) -> std::result::Result<bool, SockError> {
        match self.sock(s)?.kind {
            Kind::Listener { teardown, .. } | Kind::Stream { teardown, .. } => Ok(teardown),
        }
    }

    /// Why the teardown offload cannot be turned on here (`None`: it can):
    /// the device's own answer (no teardown register block, clock
    /// stopped), or that nobody asked the device.
    pub fn teardown_unavailable(&self) -> Option<&str> {
        match &self.teardowns {
            Some(_) => None,
            None => Some(
                self.teardown_missing
                    .as_deref()
                    .unwrap_or(TEARDOWN_NOT_ASKED),
            ),
        }
    }

    /// The teardown offload's counts (`None` without the offload).
    pub fn teardown_stats(&self) -> Option<TeardownStats> {
        self.teardowns.as_ref().map(|t| t.stats())
    }

    /// Hand-overs posted whose teardown has not ended, and closes waiting
    /// for their data to be sent before their hand-over.
    pub fn teardowns_pending(&self) -> (usize, usize) {
        self.teardowns
            .as_ref()
            .map_or((0, 0), |t| (t.in_flight(), t.waiting()))
    }

    /// The ends of teardowns the NIC ran: each hand-over ended is
    /// accounted for, a refused hand-over's connection rebuilt from its
    /// record and, with kept bytes, its returned buffer (an orphan again,
    /// closing in software), and that buffer freed.
    fn teardown_ends<Q: QueueIo + ?Sized>(&mut self, io: &mut Q, now: Duration) {
        let Some(td) = self.teardowns.as_mut() else {
            return;
        };
        io.take_teardowns(&mut self.td_done);
        for d in self.td_done.drain(..) {
            // Only a hand-over with kept bytes comes with its buffer (the
            // others' went back with their TX completion); the record is
            // in `td`, in host memory.
            let p = d.packet.as_ref();
            let rebuilt = td.on_done(
                &mut self.tcp,
                d.tag,
                d.event,
                &mut |dst: &mut [u8]| {
                    let at = toe_contract::teardown::HANDOVER_BYTES;
                    if let Some(p) = p.filter(|p| at + dst.len() <= p.len) {
                        io.read(p, at, dst);
                    }
                },
                now,
            );
            if let Some(p) = d.packet {
                io.free(p);
            }
            if let Some(h) = rebuilt {
                self.orphans.insert(h);
            }
        }
    }

    /// Closes waiting for the teardown offload whose data is all sent are
    /// handed over (after this poll's frames on the TX ring) and leave the
    /// table.
    fn teardown_handovers<Q: QueueIo + ?Sized>(&mut self, io: &mut Q, now: Duration) {
        self.td_retry_at = None;
        let Some(td) = self.teardowns.as_mut() else {
            return;
        };
        if td.waiting() == 0 {
            return;
        }
        let mut port = Port {
            host: &mut self.host,
            io,
            neighbours: self.neighbours.as_ref(),
            now,
        };
        if td.run(&mut self.tcp, &mut port, now, &mut self.td_handed) {
            self.td_retry_at = Some(now + offload::teardown::RETRY);
        }
        for h in self.td_handed.drain(..) {
            self.orphans.remove(&h);
        }
        self.host.flush_on(io);
    }

    /// Starts (or stops) marking this instance's passive connections in
    /// the NIC's established-tuple filter (see
    /// [`EndpointConfig::est_filter`]); connections that exist already are
    /// not marked, so set it before listening.
    pub fn set_est_filter(&mut self, f: Option<EstFilter>) {
        self.tcp.set_tuple_events(f.is_some());
        self.est_filter = f;
    }

    /// Passive connections that came and went, marked in the NIC's
    /// established-tuple filter through the queue's register path.
    fn mark_tuples<Q: QueueIo + ?Sized>(&mut self, io: &Q) {
        offload::setup::mark_tuples(
            self.est_filter.as_ref(),
            &mut self.tcp,
            io.registers(),
            self.local.octets(),
            &mut self.tuple_events,
        );
    }

    /// The NIC's active opens (`offload::connect::ActiveOpens`) through the
    /// queue's register path, next hops resolved by this instance's
    /// network layer (or another instance's, through the board).
    fn nic_opens<Q: QueueIo + ?Sized>(&mut self, io: &Q, now: Duration) {
        let Some(opens) = self.opens.as_mut() else {
            return;
        };
        let (mac, timeout) = {
            let c = self.host.net.config();
            (c.mac.0, c.pending_timeout)
        };
        let (host, neighbours) = (&mut self.host, &self.neighbours);
        let mut next_hop = |dst: [u8; 4]| next_hop_of(host, neighbours.as_ref(), dst, now);
        opens.run(
            &mut self.tcp,
            io.registers(),
            mac,
            timeout,
            &mut next_hop,
            now,
        );
    }

    /// Segments out through the network layer and onto the TX ring.
    fn transmit<Q: QueueIo + ?Sized>(&mut self, io: &mut Q, now: Duration) {
        self.tcp.dispatch_into(now, &mut self.out);
        // Connections that completed a handshake in dispatch join their
        // listener's accept queue: readiness.
        self.tcp.take_touched(&mut self.touched);
        self.settle_touched();
        while let Some(o) = self.out.pop_front() {
            // The TCP packet is built straight into the frame, in a TX DMA
            // buffer when nothing waits before it.
            let (len, emit) = o.prepare();
            match self
                .host
                .send_ipv4_on(io, o.dst, IpProtocol::Tcp, len, now, emit)
            {
                Ok(()) => {}
                Err(SendError::WouldBlock) => {
                    self.stats.tx_waits += 1;
                    self.out.push_front(o);
                    break;
                }
                // Segments are built within the MSS; a route missing for a
                // peer is the peer's connection timing out.
                Err(_) => {}
            }
            if self.host.tx_pending() >= 64 {
                self.host.flush_on(io);
            }
        }
        self.host.flush_on(io);
    }

    /// Readiness and orphan handling for the connections touched.
    fn settle_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        handles::sort_dedup(&mut touched);
        for h in touched.drain(..) {
            if let Some(&s) = self.by_handle.get(&h) {
                self.settle_stream(s, h);
            } else if self.orphans.contains(&h) {
                match self.tcp.conn_ref(h) {
                    None => {
                        self.orphans.remove(&h);
                    }
                    Some(c) if c.readable() > 0 => {
                        // Data after close: nobody will read it (RFC 2525
                        // 2.17; Linux resets too).
                        self.stats.reset_unread += 1;
                        self.tcp.abort(h);
                        self.orphans.remove(&h);
                    }
                    Some(c) => {
                        if c.state() == State::Closed {
                            self.orphans.remove(&h);
                        }
                    }
                }
            } else if let Some(&l) = self.listeners.get(&h.0) {
                self.relist(l);
            }
        }
        self.touched = touched;
    }

    /// Keeps what a socket needs after its connection leaves the table,
    /// discards data after `shutdown(Read)`, and relists the socket with
    /// its readiness.
    fn settle_stream(&mut self, s: SocketId, h: Handle) {
        let scratch = &mut self.scratch;
        let Some(Some(Socket {
            kind:
                Kind::Stream {
                    rd_shut,
                    wr_shut,
                    connecting,
                    end,
                    was_connecting,
                    ..
                },
            interest,
            listed,
            ready,
        })) = self.sockets.get_mut(s as usize)
        else {
            return;
        };
        // Looked at, not written (which would mark it for output), unless
        // there are bytes to discard.
        if *rd_shut && self.tcp.conn_ref(h).is_some_and(|c| c.readable() > 0) {
            let Some(c) = self.tcp.conn(h) else {
                return;
            };
            loop {
                let n = c.read(scratch);
                if n == 0 {
                    break;
                }
                self.stats.discarded_bytes += n as u64;
            }
        }
        let c = self.tcp.conn_ref(h);
        if let Some(c) = c {
            if *connecting && !matches!(c.state(), State::SynSent) {
                *connecting = false;
                *was_connecting = c.state() == State::Closed;
            }
            if let Some(e) = c.closed() {
                *end = Some(e);
            }
        }
        // Relisted with the connection looked up once (as `relist`).
        *ready = stream_readiness(c, *rd_shut, *wr_shut, *end);
        if !*listed && (*ready & *interest).0 != 0 {
            *listed = true;
            self.listed.push(s);
        }
    }

    /// Fills `events` from the ready list; sockets no longer ready leave it.
    fn report(&mut self, events: &mut Vec<Event>) {
        events.clear();
        let mut i = 0;
        while i < self.listed.len() {
            let s = self.listed[i];
            match self.sockets.get_mut(s as usize) {
                Some(Some(sock)) if (sock.ready & sock.interest).0 != 0 => {
                    events.push(Event {
                        socket: s,
                        ready: sock.ready & sock.interest,
                    });
                    i += 1;
                }
                other => {
                    if let Some(Some(sock)) = other {
                        sock.listed = false;
                    }
                    self.listed.swap_remove(i);
                }
            }
        }
    }

    fn import_neighbours(&mut self, now: Duration) {
        let Some(board) = &self.neighbours else {
            return;
        };
        let want = self.host.net.unresolved();
        if want.is_empty() {
            return;
        }
        let found: Vec<(Ipv4Address, [u8; 6])> = {
            let map = board.lock();
            want.iter()
                .filter_map(|ip| map.get(&ip.octets()).map(|m| (*ip, *m)))
                .collect()
        };
        for (ip, mac) in found {
            self.host.net.learn(ip, EthernetAddress(mac), now);
        }
    }

    fn export_neighbours(&mut self, now: Duration) {
        let Some(board) = &self.neighbours else {
            return;
        };
        let g = self.host.net.arp().generation();
        if g == self.arp_generation {
            return;
        }
        self.arp_generation = g;
        let mut map = board.lock();
        for (ip, mac) in self.host.net.arp().entries(now) {
            map.insert(ip.octets(), mac.0);
        }
    }

    /// When the stack next needs `poll` without new frames (a timer).
    pub fn poll_at(&self) -> Option<Duration> {
        let timeout = self.host.net.config().pending_timeout;
        let arp = self.opens.as_ref().and_then(|o| o.poll_at(timeout));
        [self.tcp.poll_at(), arp, self.td_retry_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
#[path = "socket_connect_tests.rs"]
mod connect_tests;

#[cfg(test)]
#[path = "socket_teardown_tests.rs"]
mod teardown_tests;

// A stack instance moves to the thread that runs its queue.
const _: () = {
    const fn send<T: Send>() {}
    send::<Endpoint>();
};

/// The MAC of `dst`'s next hop, resolved by this instance's network layer
/// or another instance's (through the board).
fn next_hop_of(
    host: &mut Host,
    neighbours: Option<&Neighbours>,
    dst: [u8; 4],
    now: Duration,
) -> NextHop {
    let dst = Ipv4Address::from(dst);
    let mac = match host.net.resolve(dst, now) {
        Ok(Some(m)) => Some(m.0),
        // Another instance may have learned it (ARP replies land on
        // queue 0).
        Ok(None) => board_lookup(host, neighbours, dst, now),
        Err(_) => None,
    };
    match mac {
        Some(mac) => NextHop::Resolved(mac),
        None if host.net.next_hop(dst).is_none() => NextHop::NoRoute,
        None => NextHop::Waiting,
    }
}

/// The socket layer's queue as the teardown offload posts on it.
struct Port<'a, Q: ?Sized> {
    host: &'a mut Host,
    io: &'a mut Q,
    neighbours: Option<&'a Neighbours>,
    now: Duration,
}

impl<Q: QueueIo + ?Sized> HandOverPort for Port<'_, Q> {
    fn local_mac(&self) -> [u8; 6] {
        self.host.net.config().mac.0
    }
    fn next_hop(&mut self, dst: [u8; 4]) -> NextHop {
        next_hop_of(self.host, self.neighbours, dst, self.now)
    }
    fn buf_size(&self) -> usize {
        self.io.buf_size()
    }
    fn post(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> bool {
        use toe_contract::desc::TXF_OPCODE_SHIFT;
        use toe_contract::teardown::TX_OP_TEARDOWN;
        self.host
            .post_on(self.io, len, TX_OP_TEARDOWN << TXF_OPCODE_SHIFT, fill)
    }
}

/// A neighbour another instance of the interface resolved.
fn board_lookup(
    host: &mut Host,
    board: Option<&Neighbours>,
    dst: Ipv4Address,
    now: Duration,
) -> Option<[u8; 6]> {
    let hop = host.net.next_hop(dst)?;
    let mac = *board?.lock().get(&hop.octets())?;
    host.net.learn(hop, EthernetAddress(mac), now);
    Some(mac)
}

/// What a stream socket is ready for (all conditions, before the
/// interest), from its connection (`None`: it left the table, ending as
/// `end`) and its shutdown flags.
fn stream_readiness(c: Option<&Conn>, rd_shut: bool, wr_shut: bool, end: Option<Closed>) -> Ready {
    let Some(c) = c else {
        return match end {
            Some(Closed::Normally) | None => Ready::CLOSED | Ready::READABLE,
            Some(_) => Ready::CLOSED | Ready::ERROR | Ready::READABLE,
        };
    };
    let mut r = Ready::NONE;
    if rd_shut || c.readable() > 0 || c.read_closed() {
        r |= Ready::READABLE;
    }
    if !wr_shut && matches!(c.state(), State::Established | State::CloseWait) && c.send_room() > 0 {
        r |= Ready::WRITABLE;
    }
    match c.closed() {
        Some(Closed::Normally) => r |= Ready::CLOSED | Ready::READABLE,
        Some(_) => r |= Ready::CLOSED | Ready::ERROR | Ready::READABLE,
        None => {
            if c.state() == State::TimeWait
                || (c.read_closed() && wr_shut && c.state() != State::CloseWait)
            {
                r |= Ready::CLOSED;
            }
        }
    }
    r
}

fn stream(h: Handle, connecting: bool) -> Kind {
    Kind::Stream {
        h,
        teardown: false,
        rd_shut: false,
        wr_shut: false,
        connecting,
        end: None,
        was_connecting: false,
    }
}

/// The error a connection that ended as `e` reports.
fn end_error(e: Closed, refused: bool) -> std::result::Result<(), SockError> {
    match e {
        Closed::Normally => Ok(()),
        Closed::Reset if refused => Err(SockError::Refused),
        Closed::Reset => Err(SockError::Reset),
        Closed::TimedOut => Err(SockError::TimedOut),
        Closed::Aborted => Err(SockError::Shutdown),
    }
}

/// Whether a connection in `state` may still queue data to send (RFC 9293
/// 3.10.2: SEND is accepted from SYN-SENT through CLOSE-WAIT).
fn send_side_open(state: State) -> bool {
    matches!(
        state,
        State::SynSent | State::SynReceived | State::Established | State::CloseWait
    )
}
