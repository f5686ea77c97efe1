//! The server: one run-to-completion instance per queue pair.
//!
//! [`start`] configures the NIC's setup offload for the listeners that ask
//! for it, splits the NIC ([`Nic::split`]) and runs one thread per queue
//! pair, each with its own [`Endpoint`] on its own [`NicQueue`]: it polls
//! its queue, accepts the connections RSS brings it, parses their requests,
//! runs them against the store and writes the replies, and never touches
//! another queue.  The key space is one [`Store`] behind a mutex, taken
//! once per batch of pipelined requests of one connection (a client's keys
//! must be the same whatever queue its connection lands on).
//!
//! Per connection: input is parsed as it arrives (pipelining: every whole
//! request in the buffer runs, replies go out in order); parsing pauses
//! while [`KvConfig::max_pending_out`] reply bytes wait for room in the
//! send buffer, and reading pauses while [`KvConfig::max_query`] input
//! bytes wait, so a connection's memory is bounded and TCP's flow control
//! pushes back on the client.  A protocol error is answered, then the
//! connection closes (as Redis does); so does a single request larger than
//! `max_query`.  QUIT closes after its reply.
//!
//! Offloads: [`Listener::setup_offload`] has the NIC answer the
//! listener's SYNs with SYN cookies and hand the host established
//! connections (docs/setup.md); without it the host library runs the
//! handshake.  [`Listener::teardown_offload`] has `close` hand the
//! listener's connections to the NIC, which sends the FIN and runs
//! FIN_WAIT/TIME_WAIT itself (docs/teardown.md, "Host side"): [`start`]
//! asks the device for it first and fails with the driver's reason when
//! the device has no teardown block (never running the teardown in
//! software while claiming the offload), and every instance switches it
//! on its listener with [`Endpoint::set_teardown_offload`] (inherited by
//! the connections it accepts).
use crate::cmd::{self, Ctx, Flow};
use crate::resp::{self, Limits, Parsed};
use crate::store::Store;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicControl, NicQueue};
use toe_driver::offload::{EstFilter, SetupParams, TeardownParams};
use toe_driver::socket::{Endpoint, EndpointConfig, Event, Neighbours, Ready, SockError, SocketId};

/// A port the server listens on, on every queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    /// The NIC completes this listener's handshakes (SYN cookies).
    pub setup_offload: bool,
    /// `close` hands this listener's connections to the NIC's teardown
    /// offload.
    pub teardown_offload: bool,
}

/// What the server is.
#[derive(Clone, Debug)]
pub struct KvConfig {
    pub mac: [u8; 6],
    pub ip: [u8; 4],
    pub prefix_len: u8,
    pub listeners: Vec<Listener>,
    /// Connections waiting to be accepted, per listener and queue.
    pub backlog: usize,
    /// The store's memory limit in bytes (Redis `maxmemory`, policy
    /// `noeviction`: writes beyond it get `-OOM`).
    pub maxmemory: usize,
    pub limits: Limits,
    /// Parsing of a connection's requests pauses while this many reply
    /// bytes wait to be sent.
    pub max_pending_out: usize,
    /// Reading from a connection pauses while this many unparsed bytes
    /// wait; a single request longer than this closes the connection.
    pub max_query: usize,
    /// Connections per queue (TIME_WAIT included) and sockets per queue.
    pub max_conns: usize,
    /// TCP maximum segment lifetime (TIME_WAIT is two), if not the
    /// library's default.
    pub msl: Option<Duration>,
    /// The setup offload's SYN cookie key (None: 16 bytes from the OS).
    pub cookie_key: Option<[u8; 16]>,
}

impl KvConfig {
    /// Port 6379 with the setup offload, 64 MiB of memory.
    pub fn new(mac: [u8; 6], ip: [u8; 4], prefix_len: u8) -> KvConfig {
        let limits = Limits::default();
        KvConfig {
            mac,
            ip,
            prefix_len,
            listeners: vec![Listener {
                port: 6379,
                setup_offload: true,
                teardown_offload: false,
            }],
            backlog: 128,
            maxmemory: 64 << 20,
            limits,
            max_pending_out: 1 << 20,
            max_query: 2 * limits.max_bulk + limits.max_inline,
            max_conns: 4096,
            msl: None,
            cookie_key: None,
        }
    }
}

/// What one queue's instance counts (published as it goes).
#[derive(Debug, Default)]
pub struct QueueCounters {
    pub accepted: AtomicU64,
    pub closed: AtomicU64,
    pub active: AtomicU64,
    pub commands: AtomicU64,
    pub error_replies: AtomicU64,
    pub protocol_errors: AtomicU64,
    /// Connections closed for a request longer than `max_query`.
    pub oversized: AtomicU64,
    /// Connections that ended in a reset or a timeout.
    pub reset: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// SYNs the host library took for no existing connection: its own
    /// handshakes (`StackStats::syn_received`; a client's retransmitted SYN
    /// counts again).
    pub host_syns: AtomicU64,
    /// Connections the NIC's setup offload handed over established.
    pub nic_established: AtomicU64,
    pub rst_sent: AtomicU64,
    /// The endpoint's teardown offload counts (`TeardownStats`): closes
    /// asked for with it on, hand-overs posted, closes run in software
    /// instead (any `sw_*` cause), hand-overs the NIC rejected,
    /// connections rebuilt in software after a refusal, and given up.
    pub td_closes: AtomicU64,
    pub td_handed_over: AtomicU64,
    pub td_software: AtomicU64,
    pub td_rejected: AtomicU64,
    pub td_rebuilt: AtomicU64,
    pub td_lost: AtomicU64,
}

/// The NIC's global counters (name, value) and when they were read.
pub type NicReading = (Option<Instant>, Vec<(&'static str, u64)>);

/// Everything the instances and the control thread share.
pub struct Shared {
    pub store: Mutex<Store>,
    pub queues: Vec<QueueCounters>,
    /// The NIC's global counters as last read by the control thread
    /// ([`Running::refresh`]), with when.
    pub nic: Mutex<NicReading>,
    pub stop: AtomicBool,
    pub cfg: KvConfig,
    /// Per listener (in `cfg.listeners` order): on how many queues the
    /// endpoint reports the teardown offload on
    /// ([`Endpoint::teardown_offload`], read back after switching it).
    pub teardown_on: Vec<AtomicU64>,
    pub started: Instant,
    /// Unix time in ms at `started`: the store's clock is this plus the
    /// monotonic time since.
    unix_base_ms: u64,
    config_params: Vec<(&'static str, String)>,
}

impl Shared {
    /// The shared state of a server of `queues` instances (no NIC needed:
    /// tests build one to run requests without packets).
    pub fn new(cfg: KvConfig, queues: usize) -> Shared {
        let config_params = vec![
            ("save", String::new()),
            ("appendonly", "no".to_string()),
            ("maxmemory", cfg.maxmemory.to_string()),
            ("maxmemory-policy", "noeviction".to_string()),
            ("databases", "1".to_string()),
            ("proto-max-bulk-len", cfg.limits.max_bulk.to_string()),
            ("client-query-buffer-limit", cfg.max_query.to_string()),
            (
                "port",
                cfg.listeners
                    .first()
                    .map_or(String::new(), |l| l.port.to_string()),
            ),
        ];
        Shared {
            store: Mutex::new(Store::new(cfg.maxmemory)),
            queues: (0..queues).map(|_| QueueCounters::default()).collect(),
            nic: Mutex::new((None, Vec::new())),
            stop: AtomicBool::new(false),
            started: Instant::now(),
            unix_base_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64,
            config_params,
            teardown_on: cfg.listeners.iter().map(|_| AtomicU64::new(0)).collect(),
            cfg,
        }
    }

    /// Now on the store's clock (ms since the Unix epoch, advancing with
    /// the monotonic clock).
    pub fn now_ms(&self) -> u64 {
        self.unix_base_ms + self.started.elapsed().as_millis() as u64
    }

    /// Sums over the queues.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for q in &self.queues {
            let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
            t.accepted += g(&q.accepted);
            t.closed += g(&q.closed);
            t.active += g(&q.active);
            t.commands += g(&q.commands);
            t.error_replies += g(&q.error_replies);
            t.protocol_errors += g(&q.protocol_errors);
            t.oversized += g(&q.oversized);
            t.reset += g(&q.reset);
            t.bytes_in += g(&q.bytes_in);
            t.bytes_out += g(&q.bytes_out);
            t.host_syns += g(&q.host_syns);
            t.nic_established += g(&q.nic_established);
            t.rst_sent += g(&q.rst_sent);
            t.td_closes += g(&q.td_closes);
            t.td_handed_over += g(&q.td_handed_over);
            t.td_software += g(&q.td_software);
            t.td_rejected += g(&q.td_rejected);
            t.td_rebuilt += g(&q.td_rebuilt);
            t.td_lost += g(&q.td_lost);
        }
        t
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panicking instance leaves the store consistent between calls.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The text of INFO `section` ("" or "all" or "everything": all).
    pub fn info(&self, db: &mut Store, section: &str) -> String {
        let all = matches!(section, "" | "all" | "everything" | "default");
        let want = |s: &str| all || section == s;
        let t = self.totals();
        let mut o = String::new();
        let line = |o: &mut String, k: &str, v: &dyn std::fmt::Display| {
            let _ = write!(o, "{k}:{v}\r\n");
        };
        if want("server") {
            o.push_str("# Server\r\n");
            // The command set and replies follow Redis 7.0; clients that
            // look at the version see that level.
            line(&mut o, "redis_version", &"7.0.0");
            line(&mut o, "toe_kv_version", &env!("CARGO_PKG_VERSION"));
            line(&mut o, "redis_mode", &"standalone");
            line(&mut o, "process_id", &std::process::id());
            let ports: Vec<String> = self
                .cfg
                .listeners
                .iter()
                .map(|l| l.port.to_string())
                .collect();
            line(&mut o, "tcp_port", &ports.join(","));
            line(
                &mut o,
                "uptime_in_seconds",
                &self.started.elapsed().as_secs(),
            );
            line(&mut o, "queue_pairs", &self.queues.len());
            o.push_str("\r\n");
        }
        if want("clients") {
            o.push_str("# Clients\r\n");
            line(&mut o, "connected_clients", &t.active);
            o.push_str("\r\n");
        }
        if want("memory") {
            o.push_str("# Memory\r\n");
            line(&mut o, "used_memory", &db.used_memory());
            line(&mut o, "maxmemory", &db.limit());
            line(&mut o, "maxmemory_policy", &"noeviction");
            o.push_str("\r\n");
        }
        if want("stats") {
            let s = db.stats();
            o.push_str("# Stats\r\n");
            line(&mut o, "total_connections_received", &t.accepted);
            line(&mut o, "total_commands_processed", &t.commands);
            line(&mut o, "total_net_input_bytes", &t.bytes_in);
            line(&mut o, "total_net_output_bytes", &t.bytes_out);
            line(&mut o, "total_error_replies", &t.error_replies);
            line(&mut o, "protocol_errors", &t.protocol_errors);
            line(&mut o, "expired_keys", &s.expired_keys);
            line(&mut o, "keyspace_hits", &s.hits);
            line(&mut o, "keyspace_misses", &s.misses);
            line(&mut o, "rejected_writes_oom", &s.oom_rejections);
            o.push_str("\r\n");
        }
        if want("offload") {
            o.push_str("# Offload\r\n");
            let queues = self.queues.len() as u64;
            for (i, l) in self.cfg.listeners.iter().enumerate() {
                let on = if l.setup_offload { "on" } else { "off" };
                // The endpoints' own answer, not the configuration: on
                // when every queue's listener has it on.
                let td_queues = self
                    .teardown_on
                    .get(i)
                    .map_or(0, |a| a.load(Ordering::Relaxed));
                let td = match td_queues {
                    0 => "off".to_string(),
                    n if n >= queues => "on".to_string(),
                    n => format!("partial({n}/{queues})"),
                };
                line(
                    &mut o,
                    &format!("listener_{}", l.port),
                    &format!("setup_offload={on},teardown_offload={td}"),
                );
            }
            line(&mut o, "host_handshakes", &t.host_syns);
            line(&mut o, "nic_handshakes", &t.nic_established);
            line(&mut o, "host_rst_sent", &t.rst_sent);
            line(&mut o, "teardown_closes", &t.td_closes);
            line(&mut o, "teardown_handed_over", &t.td_handed_over);
            line(&mut o, "teardown_software", &t.td_software);
            line(&mut o, "teardown_rejected", &t.td_rejected);
            line(&mut o, "teardown_rebuilt", &t.td_rebuilt);
            line(&mut o, "teardown_lost", &t.td_lost);
            let nic = self.nic.lock().unwrap_or_else(|e| e.into_inner());
            match nic.0 {
                Some(at) => line(&mut o, "nic_counters_age_ms", &at.elapsed().as_millis()),
                None => line(&mut o, "nic_counters_age_ms", &"-1"),
            }
            for (name, v) in &nic.1 {
                line(&mut o, &format!("nic_{name}"), v);
            }
            for (i, q) in self.queues.iter().enumerate() {
                line(
                    &mut o,
                    &format!("queue_{i}"),
                    &format!(
                        "accepted={},active={},commands={}",
                        q.accepted.load(Ordering::Relaxed),
                        q.active.load(Ordering::Relaxed),
                        q.commands.load(Ordering::Relaxed)
                    ),
                );
            }
            o.push_str("\r\n");
        }
        if want("keyspace") {
            o.push_str("# Keyspace\r\n");
            db.expire_some(self.now_ms(), usize::MAX);
            if !db.is_empty() {
                let _ = write!(
                    o,
                    "db0:keys={},expires={},avg_ttl=0\r\n",
                    db.len(),
                    db.expiring()
                );
            }
            o.push_str("\r\n");
        }
        // Redis ends the text without the last blank line.
        while o.ends_with("\r\n\r\n") {
            o.truncate(o.len() - 2);
        }
        o
    }
}

/// Sums of the per-queue counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub accepted: u64,
    pub closed: u64,
    pub active: u64,
    pub commands: u64,
    pub error_replies: u64,
    pub protocol_errors: u64,
    pub oversized: u64,
    pub reset: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub host_syns: u64,
    pub nic_established: u64,
    pub rst_sent: u64,
    pub td_closes: u64,
    pub td_handed_over: u64,
    pub td_software: u64,
    pub td_rejected: u64,
    pub td_rebuilt: u64,
    pub td_lost: u64,
}

/// A running server: the control side of the NIC and one thread per queue.
pub struct Running {
    ctl: NicControl,
    pub shared: Arc<Shared>,
    threads: Vec<JoinHandle<Result<(), String>>>,
}

/// 16 bytes for the cookie key from the OS.
fn os_random_key() -> [u8; 16] {
    use std::io::Read;
    let mut k = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut k))
        .is_err()
    {
        // No /dev/urandom: the clock, better than a constant.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        k = t.to_le_bytes();
    }
    k
}

/// Starts the server on `nic` (already open).  Fails if a listener asks
/// for the setup or the teardown offload and the device has none (the
/// teardown error is the driver's, naming the missing register block), or
/// the NIC cannot be split into queue handles.
pub fn start(nic: Nic, cfg: KvConfig) -> Result<Running, String> {
    if cfg.listeners.is_empty() {
        return Err("no listener configured".into());
    }
    let mut tcp = toe_driver::tcp::conn::Config::default();
    if let Some(msl) = cfg.msl {
        tcp.msl = msl;
    }
    // Asked first, so that nothing is configured on a device without it.
    let td_ports: Vec<String> = cfg
        .listeners
        .iter()
        .filter(|l| l.teardown_offload)
        .map(|l| l.port.to_string())
        .collect();
    let teardown: Option<TeardownParams> =
        if !td_ports.is_empty() {
            Some(nic.device().teardown_params().map_err(|e| {
                format!("teardown offload on for port {}: {e}", td_ports.join(", "))
            })?)
        } else {
            None
        };
    let est_filter: Option<EstFilter> = if cfg.listeners.iter().any(|l| l.setup_offload) {
        let dev = nic.device();
        if !dev.has_setup_offload() {
            return Err("--setup-offload on: this device has no setup offload block".into());
        }
        let key = cfg.cookie_key.unwrap_or_else(os_random_key);
        let p = SetupParams::matching(&tcp, key).with_local(cfg.mac, &[cfg.ip]);
        dev.setup_configure(&p)
            .map_err(|e| format!("configuring the setup offload: {e}"))?;
        for l in cfg.listeners.iter().filter(|l| l.setup_offload) {
            dev.listen_offload(None, l.port, true)
                .map_err(|e| format!("offloaded listener on port {}: {e}", l.port))?;
        }
        Some(
            dev.est_filter()
                .map_err(|e| format!("established-tuple filter: {e}"))?,
        )
    } else {
        None
    };
    let queue_pairs = nic.queue_pairs() as usize;
    let (ctl, queues) = nic.split().map_err(|e| e.to_string())?;
    let shared = Arc::new(Shared::new(cfg.clone(), queue_pairs));
    let board = Neighbours::new();
    let mut threads = Vec::new();
    for queue in queues {
        let mut ecfg = EndpointConfig::new(
            queue.index(),
            NetConfig::new(cfg.mac, cfg.ip, cfg.prefix_len),
        );
        ecfg.neighbours = Some(board.clone());
        ecfg.est_filter = est_filter.clone();
        ecfg.teardown = teardown;
        ecfg.tcp = tcp.clone();
        ecfg.max_conns = cfg.max_conns;
        ecfg.max_sockets = cfg.max_conns;
        let sh = shared.clone();
        let name = format!("kv-q{}", queue.index());
        threads.push(
            std::thread::Builder::new()
                .name(name)
                .spawn(move || serve_queue(queue, ecfg, sh))
                .map_err(|e| format!("spawn: {e}"))?,
        );
    }
    let r = Running {
        ctl,
        shared,
        threads,
    };
    r.refresh();
    Ok(r)
}

impl Running {
    /// Reads the NIC's counters into [`Shared::nic`] (for INFO and the
    /// summaries).
    pub fn refresh(&self) {
        let c = self.ctl.device().counters();
        *self.shared.nic.lock().unwrap_or_else(|e| e.into_inner()) = (Some(Instant::now()), c);
    }

    /// The NIC's counters as last read.
    pub fn nic_counters(&self) -> Vec<(&'static str, u64)> {
        self.shared
            .nic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// An instance that has ended (it ends only on [`Running::stop`] or an
    /// error).
    pub fn any_ended(&self) -> bool {
        self.threads.iter().any(|t| t.is_finished())
    }

    /// Stops the instances (listeners closed, connections closed once their
    /// replies are out, at most about a second), reads the counters a last
    /// time, closes the NIC.  Errors of instances are returned together.
    pub fn stop(self) -> Result<(), String> {
        self.shared.stop.store(true, Ordering::Relaxed);
        let mut errors = Vec::new();
        for t in self.threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push("an instance panicked".into()),
            }
        }
        let c = self.ctl.device().counters();
        *self.shared.nic.lock().unwrap_or_else(|e| e.into_inner()) = (Some(Instant::now()), c);
        if let Err(e) = self.ctl.close() {
            errors.push(format!("closing the NIC: {e}"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// What a connection's input and output buffers shrink back to once
/// empty.
const IDLE_BUFFER: usize = 16 * 1024;

/// One client connection.
struct Client {
    inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    /// Close once the replies are out (QUIT, protocol error, end of input).
    closing: bool,
    eof: bool,
    interest: Ready,
}

impl Client {
    fn new(closing: bool) -> Client {
        Client {
            inbuf: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            closing,
            eof: false,
            interest: Ready::READABLE,
        }
    }

    fn pending(&self) -> usize {
        self.out.len() - self.out_pos
    }
}

/// One queue's instance until [`Shared::stop`].
fn serve_queue(mut queue: NicQueue, ecfg: EndpointConfig, sh: Arc<Shared>) -> Result<(), String> {
    let q = queue.index();
    let qc = &sh.queues[q as usize];
    let mut ep = Endpoint::on_queue(ecfg, &queue).map_err(|e| format!("queue {q}: {e}"))?;
    let mut listeners: Vec<SocketId> = Vec::new();
    for (i, l) in sh.cfg.listeners.iter().enumerate() {
        let s = ep
            .listen(l.port, sh.cfg.backlog)
            .map_err(|e| format!("queue {q}: listen on {}: {e}", l.port))?;
        ep.set_teardown_offload(s, l.teardown_offload)
            .map_err(|e| {
                format!(
                    "queue {q}: teardown offload on port {}: {e}: {}",
                    l.port,
                    ep.teardown_unavailable().unwrap_or("?")
                )
            })?;
        if ep.teardown_offload(s) == Ok(true) {
            sh.teardown_on[i].fetch_add(1, Ordering::Relaxed);
        }
        listeners.push(s);
    }
    let mut clients: HashMap<SocketId, Client> = HashMap::new();
    let mut events: Vec<Event> = Vec::new();
    let mut idle = 0u32;
    let mut stopping: Option<Instant> = None;
    let mut last_sweep = Instant::now();
    loop {
        let now = sh.started.elapsed();
        let rx = ep.poll_queue(&mut queue, now, &mut events);
        let mut busy = rx > 0;
        for ev in events.iter().copied() {
            if listeners.contains(&ev.socket) {
                while let Ok(s) = ep.accept(ev.socket) {
                    busy = true;
                    qc.accepted.fetch_add(1, Ordering::Relaxed);
                    qc.active.fetch_add(1, Ordering::Relaxed);
                    clients.insert(s, Client::new(stopping.is_some()));
                }
                continue;
            }
            let Some(c) = clients.get_mut(&ev.socket) else {
                continue;
            };
            let done = service(&mut ep, ev.socket, c, ev.ready, &sh, qc, &mut busy);
            if done {
                clients.remove(&ev.socket);
                qc.active.fetch_sub(1, Ordering::Relaxed);
                qc.closed.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Publish what the stack counted.
        let st = ep.tcp_stats();
        qc.host_syns.store(st.syn_received, Ordering::Relaxed);
        qc.nic_established
            .store(st.nic_established, Ordering::Relaxed);
        qc.rst_sent.store(st.rst_sent, Ordering::Relaxed);
        if let Some(td) = ep.teardown_stats() {
            qc.td_closes.store(td.closes, Ordering::Relaxed);
            qc.td_handed_over.store(td.handed_over, Ordering::Relaxed);
            qc.td_software.store(
                td.sw_state
                    + td.sw_too_much_kept
                    + td.sw_limit
                    + td.sw_record_limit
                    + td.sw_no_route,
                Ordering::Relaxed,
            );
            qc.td_rejected.store(td.rejected, Ordering::Relaxed);
            qc.td_rebuilt.store(td.rebuilt, Ordering::Relaxed);
            qc.td_lost.store(td.lost, Ordering::Relaxed);
        }
        // Active expiry, a bounded amount at a time.
        if last_sweep.elapsed() >= Duration::from_millis(100) {
            last_sweep = Instant::now();
            if let Ok(mut db) = sh.store.try_lock() {
                db.expire_some(sh.now_ms(), 1000);
            }
        }
        if stopping.is_none() && sh.stop.load(Ordering::Relaxed) {
            stopping = Some(Instant::now());
            for l in listeners.drain(..) {
                let _ = ep.close(l);
            }
            let ids: Vec<SocketId> = clients.keys().copied().collect();
            for s in ids {
                let c = clients.get_mut(&s).expect("listed");
                c.closing = true;
                if c.pending() == 0 {
                    finish(&mut ep, s);
                    clients.remove(&s);
                    qc.active.fetch_sub(1, Ordering::Relaxed);
                    qc.closed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(t) = stopping {
            // FINs out and answered, or a second.
            let grace = t.elapsed() > Duration::from_secs(1);
            if (clients.is_empty() && ep.connections() == 0) || grace {
                for (s, _) in clients.drain() {
                    let _ = ep.abort(s);
                    qc.active.fetch_sub(1, Ordering::Relaxed);
                    qc.closed.fetch_add(1, Ordering::Relaxed);
                }
                // One last poll sends the resets.
                ep.poll_queue(&mut queue, sh.started.elapsed(), &mut events);
                return Ok(());
            }
        }
        if busy {
            idle = 0;
        } else {
            // Two cores may be shared with the simulator: back off when
            // nothing moves (a frame takes hundreds of simulated cycles,
            // about a millisecond at the simulator's speed).
            idle = idle.saturating_add(1);
            if idle < 16 {
                std::thread::yield_now();
            } else if idle < 512 {
                std::thread::sleep(Duration::from_micros(100));
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Reads, runs and answers what a connection has; true once it is closed.
fn service(
    ep: &mut Endpoint,
    s: SocketId,
    c: &mut Client,
    ready: Ready,
    sh: &Shared,
    qc: &QueueCounters,
    busy: &mut bool,
) -> bool {
    if ready.contains(Ready::ERROR) {
        qc.reset.fetch_add(1, Ordering::Relaxed);
        let _ = ep.close(s);
        return true;
    }
    loop {
        let mut progress = false;
        // Read while there is room for input.
        if ready.contains(Ready::READABLE) && !c.eof && !c.closing {
            while c.inbuf.len() < sh.cfg.max_query {
                let inbuf = &mut c.inbuf;
                match ep.read_with(s, |b| {
                    inbuf.extend_from_slice(b);
                    b.len()
                }) {
                    Ok(0) => {
                        c.eof = true;
                        break;
                    }
                    Ok(n) => {
                        qc.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                        progress = true;
                    }
                    Err(SockError::WouldBlock) => break,
                    Err(_) => {
                        qc.reset.fetch_add(1, Ordering::Relaxed);
                        let _ = ep.close(s);
                        return true;
                    }
                }
            }
        }
        if run_requests(c, sh, qc) {
            progress = true;
        }
        // Replies out.
        while c.pending() > 0 {
            match ep.write(s, &c.out[c.out_pos..]) {
                Ok(n) => {
                    c.out_pos += n;
                    qc.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                    progress = true;
                }
                Err(SockError::WouldBlock) => break,
                Err(_) => {
                    qc.reset.fetch_add(1, Ordering::Relaxed);
                    let _ = ep.close(s);
                    return true;
                }
            }
        }
        if c.pending() == 0 {
            c.out.clear();
            c.out_pos = 0;
            // A burst's buffers are not kept by an idle connection.
            if c.out.capacity() > IDLE_BUFFER {
                c.out.shrink_to(IDLE_BUFFER);
            }
        }
        if c.inbuf.is_empty() && c.inbuf.capacity() > IDLE_BUFFER {
            c.inbuf.shrink_to(IDLE_BUFFER);
        }
        *busy |= progress;
        if !progress {
            break;
        }
    }
    if (c.closing || c.eof) && c.pending() == 0 {
        finish(ep, s);
        return true;
    }
    let want = if c.pending() > 0 {
        Ready::READABLE | Ready::WRITABLE
    } else {
        Ready::READABLE
    };
    if want != c.interest {
        c.interest = want;
        let _ = ep.set_interest(s, want);
    }
    false
}

/// Runs the whole requests waiting in `c.inbuf` while the replies fit;
/// true if any ran (or the connection was marked closing).
fn run_requests(c: &mut Client, sh: &Shared, qc: &QueueCounters) -> bool {
    if c.closing || c.inbuf.is_empty() || c.pending() >= sh.cfg.max_pending_out {
        return false;
    }
    let mut used = 0;
    let mut ran = false;
    let mut db: Option<std::sync::MutexGuard<'_, Store>> = None;
    let info = |db: &mut Store, section: &str| sh.info(db, section);
    while c.pending() < sh.cfg.max_pending_out {
        match resp::parse(&c.inbuf[used..], &sh.cfg.limits) {
            Ok(Parsed::Incomplete) => {
                if c.inbuf.len() - used >= sh.cfg.max_query {
                    // One request larger than we take: close, as Redis
                    // does past its query buffer limit.
                    qc.oversized.fetch_add(1, Ordering::Relaxed);
                    c.closing = true;
                    ran = true;
                }
                break;
            }
            Err(e) => {
                resp::error(&mut c.out, &e.message());
                qc.protocol_errors.fetch_add(1, Ordering::Relaxed);
                qc.error_replies.fetch_add(1, Ordering::Relaxed);
                c.closing = true;
                ran = true;
                break;
            }
            Ok(Parsed::Request(args, n)) => {
                used += n;
                ran = true;
                if args.is_empty() {
                    continue;
                }
                let db = db.get_or_insert_with(|| sh.lock_store());
                let ctx = Ctx {
                    now_ms: sh.now_ms(),
                    config: &sh.config_params,
                    info: &info,
                };
                let start = c.out.len();
                let flow = cmd::execute(db, &args, &ctx, &mut c.out);
                qc.commands.fetch_add(1, Ordering::Relaxed);
                if c.out.get(start) == Some(&b'-') {
                    qc.error_replies.fetch_add(1, Ordering::Relaxed);
                }
                if flow == Flow::Close {
                    c.closing = true;
                    break;
                }
            }
        }
    }
    drop(db);
    if c.closing {
        c.inbuf.clear();
    } else {
        c.inbuf.drain(..used);
    }
    ran
}

/// Closes a connection whose replies are queued: what the client sent
/// after is read and dropped first, so that the close is a FIN after the
/// replies, not a reset (the library resets on unread data).
fn finish(ep: &mut Endpoint, s: SocketId) {
    while let Ok(n) = ep.read_with(s, |b| b.len()) {
        if n == 0 {
            break;
        }
    }
    let _ = ep.close(s);
}

#[cfg(test)]
mod tests {
    //! The request loop of one connection without packets: what
    //! [`run_requests`] does with the bytes a connection has received.
    use super::*;

    fn shared(tweak: impl FnOnce(&mut KvConfig)) -> Shared {
        let mut cfg = KvConfig::new([2, 0, 0, 0, 0, 2], [10, 0, 0, 2], 24);
        tweak(&mut cfg);
        Shared::new(cfg, 1)
    }

    fn client(input: &[u8]) -> Client {
        let mut c = Client::new(false);
        c.inbuf.extend_from_slice(input);
        c
    }

    fn out(c: &Client) -> String {
        String::from_utf8_lossy(&c.out[c.out_pos..]).into_owned()
    }

    #[test]
    fn pipelined_requests_answer_in_order_and_keep_a_partial_one() {
        let sh = shared(|_| {});
        let mut c =
            client(b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n*2\r\n$3\r\nGET");
        assert!(run_requests(&mut c, &sh, &sh.queues[0]));
        assert_eq!(out(&c), "+PONG\r\n+OK\r\n$1\r\nv\r\n");
        assert_eq!(c.inbuf, b"*2\r\n$3\r\nGET", "the partial request waits");
        c.inbuf.extend_from_slice(b"\r\n$1\r\nk\r\n");
        assert!(run_requests(&mut c, &sh, &sh.queues[0]));
        assert!(out(&c).ends_with("$1\r\nv\r\n$1\r\nv\r\n"));
        assert!(c.inbuf.is_empty() && !c.closing);
        assert_eq!(sh.queues[0].commands.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn protocol_error_answers_then_closes() {
        let sh = shared(|_| {});
        let mut c = client(b"PING\r\n*1\r\n$x\r\nPING\r\n");
        run_requests(&mut c, &sh, &sh.queues[0]);
        assert_eq!(
            out(&c),
            "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
        );
        assert!(c.closing && c.inbuf.is_empty());
        assert_eq!(sh.queues[0].protocol_errors.load(Ordering::Relaxed), 1);
        // Nothing more runs on a closing connection.
        c.inbuf.extend_from_slice(b"PING\r\n");
        assert!(!run_requests(&mut c, &sh, &sh.queues[0]));
    }

    #[test]
    fn quit_stops_the_pipeline() {
        let sh = shared(|_| {});
        let mut c = client(b"QUIT\r\nSET k v\r\n");
        run_requests(&mut c, &sh, &sh.queues[0]);
        assert_eq!(out(&c), "+OK\r\n");
        assert!(c.closing);
        assert_eq!(sh.lock_store().len(), 0, "the SET after QUIT did not run");
    }

    #[test]
    fn parsing_pauses_while_replies_wait() {
        let sh = shared(|c| c.max_pending_out = 10);
        let mut c = client(&b"PING\r\n".repeat(5));
        run_requests(&mut c, &sh, &sh.queues[0]);
        // Two replies (14 bytes) reach the budget; the rest waits.
        assert_eq!(out(&c), "+PONG\r\n+PONG\r\n");
        assert_eq!(c.inbuf.len(), 3 * 6);
        // Sent: parsing goes on.
        c.out_pos = c.out.len();
        run_requests(&mut c, &sh, &sh.queues[0]);
        assert_eq!(out(&c), "+PONG\r\n+PONG\r\n");
        assert_eq!(c.inbuf.len(), 6);
    }

    #[test]
    fn a_request_longer_than_the_query_limit_closes() {
        let sh = shared(|c| c.max_query = 100);
        let mut c = client(b"*2\r\n$4\r\nECHO\r\n$200\r\n");
        c.inbuf.extend_from_slice(&[b'x'; 90]);
        assert!(run_requests(&mut c, &sh, &sh.queues[0]));
        assert!(c.closing && c.out.is_empty());
        assert_eq!(sh.queues[0].oversized.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn info_has_the_offload_section() {
        let sh = shared(|c| {
            c.listeners.push(Listener {
                port: 6380,
                setup_offload: false,
                teardown_offload: true,
            })
        });
        *sh.nic.lock().unwrap() = (Some(Instant::now()), vec![("setup_synack", 7)]);
        // The second listener's endpoints said on (every queue), and
        // counted hand-overs.
        sh.teardown_on[1].store(sh.queues.len() as u64, Ordering::Relaxed);
        sh.queues[0].td_closes.store(5, Ordering::Relaxed);
        sh.queues[0].td_handed_over.store(4, Ordering::Relaxed);
        sh.queues[0].td_software.store(1, Ordering::Relaxed);
        let mut c = client(b"INFO offload\r\n");
        run_requests(&mut c, &sh, &sh.queues[0]);
        let o = out(&c);
        for want in [
            "# Offload\r\n",
            "listener_6379:setup_offload=on,teardown_offload=off\r\n",
            "listener_6380:setup_offload=off,teardown_offload=on\r\n",
            "teardown_closes:5\r\n",
            "teardown_handed_over:4\r\n",
            "teardown_software:1\r\n",
            "teardown_rejected:0\r\n",
            "nic_setup_synack:7\r\n",
        ] {
            assert!(o.contains(want), "{want:?} not in {o:?}");
        }
        assert!(!o.contains("# Server"), "only the section asked for");
    }
}
