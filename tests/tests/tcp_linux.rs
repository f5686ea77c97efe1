//! The host TCP library (driver/src/tcp behind the socket API of
//! driver/src/socket.rs) against the Linux kernel's own TCP, through the
//! Verilated NIC and a TAP device, with and without injected faults.
//!
//! ```text
//!   namespace toe-<pid>-<n>                  this process
//!   Linux TCP (std::net, a thread that    TAP toeXtY --- [Faulty] --- SimThread --- Nic
//!   entered the namespace with setns)     10.78.n.1/24               (Verilated)    4 Endpoints
//!                                                                                  10.78.n.2/24
//! ```
//! * `linux_client_uploads_and_downloads_4_mib`: Linux connects to our
//!   listener (on every queue: RSS decides which one serves it), sends
//!   4 MiB while our server sends a different 4 MiB back; both sides check
//!   the SHA-256 of what they received against what the other sent, and
//!   both close cleanly (Linux reads EOF, no RST on the wire, our
//!   connection table empties once TIME_WAIT, shortened here, is over);
//! * `our_client_to_linux_server_4_mib`: our `Endpoint::connect` from
//!   queue 1 or 3 (the local port it picks must bring Linux's replies back
//!   to that queue) to a `TcpListener` in the namespace, 4 MiB each way;
//! * `faults_loss_reorder_duplicate_delay`: the first test with 2 MiB
//!   each way through `toe_tests::faults::Faulty` (netem is not available
//!   on every kernel; this one is in process and seeded): about 2% loss,
//!   1% duplication, 2% reordering per direction and 1 to 3 ms of delay.
//!
//! Each test prints its seed (`TOE_SEED=n` replays the data and the fault
//! pattern; timing still varies) and, on failure, the NIC counters, the
//! endpoints' statistics, the connection's progress, what the injector did
//! with the last segments and Linux's view (`ss -tino`).
//! `TOE_TRACE_TCP=1` prints every TCP segment on the wire and its fate.
//!
//! Like tests/tap.rs these need CAP_NET_ADMIN: without it they print why
//! and pass; with it (CI runs as root) they must run.
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use toe_contract::regs::Counter;
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig};
use toe_driver::socket::{
    ConnectOptions, Endpoint, EndpointConfig, Event, Neighbours, Ready, Shutdown, SockError,
    SocketId,
};
use toe_sim::wire::TapWire;
use toe_tests::faults::{self, Dir, FaultLog, Faults, Faulty};
use toe_tests::netns::{self, Netns};
use toe_tests::seed;
use toe_tests::simdev::SimThread;

const MIB: usize = 1 << 20;
/// The port of whichever side listens.
const PORT: u16 = 5001;
/// Our maximum segment lifetime: TIME_WAIT (2 MSL) lasts 1 s instead of
/// 60, so the tests can watch the connection table empty.
const MSL: Duration = Duration::from_millis(500);
/// How long a transfer may take before the test fails (TOE_TCP_LIMIT_SECS
/// sets another limit, to catch slow runs with their state).
fn transfer_limit() -> Duration {
    let secs = std::env::var("TOE_TCP_LIMIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    Duration::from_secs(secs)
}
/// Blocking socket calls on the Linux side give up after this long.
const LINUX_IO_TIMEOUT: Duration = Duration::from_secs(60);

/// `len` pseudo-random bytes, a different stream for each `salt`.
fn stream(seed: u64, salt: u64, len: usize) -> Arc<Vec<u8>> {
    let mut v = vec![0u8; len];
    StdRng::seed_from_u64(seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)).fill_bytes(&mut v);
    Arc::new(v)
}

fn sha256(d: &[u8]) -> [u8; 32] {
    Sha256::digest(d).into()
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where two byte strings first differ, for failure messages.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("first difference at byte {i}"),
        None if a.len() == b.len() => "identical".into(),
        None => format!(
            "identical over the shorter one ({} vs {} bytes)",
            a.len(),
            b.len()
        ),
    }
}

// ---------------------------------------------------------------------------
// The Linux side: std::net sockets on a thread inside the namespace.

/// Runs `f` on a new thread that has joined the network namespace `ns`
/// (setns(2) moves only the calling thread; sockets it creates belong to
/// the namespace for good).
fn spawn_in_netns<T: Send + 'static>(
    ns: &str,
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let ns = ns.to_string();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            enter_netns(&ns).unwrap_or_else(|e| panic!("{e}"));
            f()
        })
        .expect("spawn a thread")
}

fn enter_netns(ns: &str) -> Result<(), String> {
    // `ip netns add` bind-mounts the namespace here (/var/run is usually a
    // link to /run).
    let path = ["/run/netns", "/var/run/netns"]
        .iter()
        .map(|d| format!("{d}/{ns}"))
        .find(|p| std::path::Path::new(p).exists())
        .ok_or_else(|| format!("namespace {ns} not found under /run/netns or /var/run/netns"))?;
    let f = std::fs::File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
    // SAFETY: setns(2) on a descriptor we own; it changes only this thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "setns({path}, CLONE_NEWNET): {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// What the Linux side did and saw.
struct LinuxReport {
    local: SocketAddr,
    peer: SocketAddr,
    sent: usize,
    sent_digest: [u8; 32],
    received: Vec<u8>,
    received_digest: [u8; 32],
    /// Linux's TCP_INFO after the transfer.
    info: String,
    /// tcpi_options: bit 0 timestamps, 1 SACK, 2 window scaling.
    options: u8,
    elapsed: Duration,
}

/// Linux's TCP_INFO for `s`.
fn raw_tcp_info(s: &TcpStream) -> io::Result<libc::tcp_info> {
    // SAFETY: tcp_info is plain data; getsockopt writes at most `len`.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

/// Linux's TCP_INFO for `s`, the figures worth printing.
fn tcp_info(s: &TcpStream) -> String {
    let info = match raw_tcp_info(s) {
        Ok(i) => i,
        Err(e) => return format!("TCP_INFO: {e}"),
    };
    format!(
        "rtt {} us (min {}), rto {} us, snd_mss {} rcv_mss {}, cwnd {}, segs out {} in {}, \
         data segs out {} in {}, total retrans {}, reordering {}, options {:#x}, \
         wscale snd {} rcv {}",
        info.tcpi_rtt,
        info.tcpi_min_rtt,
        info.tcpi_rto,
        info.tcpi_snd_mss,
        info.tcpi_rcv_mss,
        info.tcpi_snd_cwnd,
        info.tcpi_segs_out,
        info.tcpi_segs_in,
        info.tcpi_data_segs_out,
        info.tcpi_data_segs_in,
        info.tcpi_total_retrans,
        info.tcpi_reordering,
        info.tcpi_options,
        info.tcpi_snd_rcv_wscale & 0xf,
        info.tcpi_snd_rcv_wscale >> 4,
    )
}

/// Sends `up` (then shuts down its sending side) while reading to EOF on
/// another thread, as an application using the kernel's TCP would.  An
/// error (a reset, a timeout) is returned with how far it got.
fn linux_transfer(s: TcpStream, up: Arc<Vec<u8>>) -> Result<LinuxReport, String> {
    let start = Instant::now();
    let ctx = |what: &str, e: io::Error| format!("Linux {what}: {e} ({:?})", e.kind());
    s.set_read_timeout(Some(LINUX_IO_TIMEOUT))
        .map_err(|e| ctx("set_read_timeout", e))?;
    s.set_write_timeout(Some(LINUX_IO_TIMEOUT))
        .map_err(|e| ctx("set_write_timeout", e))?;
    let local = s.local_addr().map_err(|e| ctx("local_addr", e))?;
    let peer = s.peer_addr().map_err(|e| ctx("peer_addr", e))?;
    let mut w = s.try_clone().map_err(|e| ctx("try_clone", e))?;
    let writer = std::thread::Builder::new()
        .name("linux-writer".into())
        .spawn(move || -> Result<(usize, [u8; 32]), String> {
            let mut h = Sha256::new();
            let mut sent = 0;
            for chunk in up.chunks(64 * 1024) {
                w.write_all(chunk)
                    .map_err(|e| format!("Linux write after {sent} bytes: {e} ({:?})", e.kind()))?;
                h.update(chunk);
                sent += chunk.len();
            }
            w.shutdown(NetShutdown::Write)
                .map_err(|e| format!("Linux shutdown(Write): {e}"))?;
            Ok((sent, h.finalize().into()))
        })
        .expect("spawn the writer");
    let mut received = Vec::new();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut rd = &s;
    loop {
        match rd.read(&mut buf) {
            // EOF: our FIN, after all the data.
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                received.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = s.shutdown(NetShutdown::Both);
                let w = writer.join();
                return Err(format!(
                    "Linux read after {} bytes: {e} ({:?}); writer: {:?}",
                    received.len(),
                    e.kind(),
                    w.map(|r| r.map(|(n, _)| n))
                ));
            }
        }
    }
    let (sent, sent_digest) = writer
        .join()
        .map_err(|_| "Linux writer panicked".to_string())?
        .map_err(|e| format!("{e} (reader got {} bytes and EOF)", received.len()))?;
    let info = tcp_info(&s);
    let options = tcp_options(&s);
    // Dropping `s` closes: everything was read, so no RST.
    Ok(LinuxReport {
        local,
        peer,
        sent,
        sent_digest,
        received_digest: h.finalize().into(),
        received,
        info,
        options,
        elapsed: start.elapsed(),
    })
}

/// tcpi_options of `s` (TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2,
/// TCPI_OPT_WSCALE 4); 0xFF when TCP_INFO cannot be read.
fn tcp_options(s: &TcpStream) -> u8 {
    raw_tcp_info(s).map_or(0xFF, |i| i.tcpi_options)
}

/// What Linux offers in its SYN (sysctls of the namespace), for handshakes
/// through the NIC's setup offload.
#[derive(Clone, Copy, Debug)]
struct LinuxSyn {
    timestamps: bool,
    sack: bool,
    window_scaling: bool,
}

// ---------------------------------------------------------------------------
// Our side.

/// A NIC on a TAP device inside a fresh namespace, one endpoint per queue
/// pair.  Fields drop in order: endpoints, driver, simulator (closes the
/// TAP), namespace.
struct Bench {
    eps: Vec<Endpoint>,
    nic: Nic,
    sim: SimThread,
    ns: Netns,
    faults: FaultLog,
    fault_cfg: Faults,
    linux_ip: Ipv4Addr,
    nic_ip: Ipv4Addr,
    t0: Instant,
    seed: u64,
}

fn bench(tag: &str, faults: Faults, seed: u64) -> Option<Bench> {
    bench_with(tag, faults, seed, false)
}

/// NIC active open timing in the simulation: a timestamp tick of 2,500
/// cycles (10 us of NIC time, a few ms of host time at simulation speed)
/// and a first retransmission after 40 ticks.
const SIM_TS_PERIOD: u32 = 2500;
const SIM_CONNECT_RTO: u32 = 40;

/// [`bench`], with the endpoints able to open connections by the NIC
/// (`nic_connect`).
fn bench_with(tag: &str, faults: Faults, seed: u64, nic_connect: bool) -> Option<Bench> {
    if !netns::tap_tests_enabled() {
        return None;
    }
    let tap = netns::unique_tap_name();
    let wire = TapWire::open(&tap).unwrap_or_else(|e| panic!("{e}"));
    let ns = Netns::create().unwrap_or_else(|e| panic!("{e}"));
    let sub = (ns.index() % 256) as u8;
    let linux_ip = Ipv4Addr::new(10, 78, sub, 1);
    let nic_ip = Ipv4Addr::new(10, 78, sub, 2);
    // Locally administered unicast.
    let mac = [0x02, 0x00, 0x5e, 0x78, 0x00, sub];
    let (wire, log) = Faulty::new(wire, faults, seed);
    let sim = SimThread::start(tag, wire, |_| {});
    let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("open the NIC");
    sim.settle(2000);
    ns.adopt_link(&tap, &format!("{linux_ip}/24"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Frames of at most 1514 bytes from Linux: the MTU of the TAP (1500 by
    // default; set to be sure).  No TSO/GSO reaches us either: a TAP
    // without IFF_VNET_HDR has no offloads, the kernel segments first.
    ns.run(["ip", "link", "set", "dev", &tap, "mtu", "1500"])
        .unwrap_or_else(|e| panic!("{e}"));
    let board = Neighbours::new();
    let connector = nic_connect.then(|| {
        let dev = nic.device();
        dev.setup_set_ts_period(SIM_TS_PERIOD)
            .expect("timestamp clock");
        dev.connect_configure(SIM_CONNECT_RTO, 6)
            .expect("active open timing");
        dev.nic_connector().expect("active open")
    });
    let eps = (0..nic.queue_pairs())
        .map(|q| {
            let mut cfg = EndpointConfig::new(q, NetConfig::new(mac, nic_ip.octets(), 24));
            cfg.neighbours = Some(board.clone());
            cfg.tcp.msl = MSL;
            cfg.nic_connect = connector.clone();
            Endpoint::new(cfg, &nic).expect("endpoint")
        })
        .collect();
    Some(Bench {
        eps,
        nic,
        sim,
        ns,
        faults: log,
        fault_cfg: faults,
        linux_ip,
        nic_ip,
        t0: Instant::now(),
        seed,
    })
}

/// One connection on our side: sends `out`, then shuts down its sending
/// side; reads to EOF; closes when both are done.
struct Ours {
    q: usize,
    s: SocketId,
    /// (local port, remote address, remote port).
    tuple: Option<(u16, Ipv4Addr, u16)>,
    out: Arc<Vec<u8>>,
    sent: usize,
    wr_shut: bool,
    received: Vec<u8>,
    hash: Sha256,
    eof: bool,
    closed: Option<Duration>,
    established: Option<Duration>,
}

impl Ours {
    fn new(q: usize, s: SocketId, out: Arc<Vec<u8>>) -> Ours {
        Ours {
            q,
            s,
            tuple: None,
            out,
            sent: 0,
            wr_shut: false,
            received: Vec::new(),
            hash: Sha256::new(),
            eof: false,
            closed: None,
            established: None,
        }
    }

    /// Acts on readiness `ready`; Ok(true) when data moved.
    fn on_event(
        &mut self,
        ep: &mut Endpoint,
        ready: Ready,
        now: Duration,
        buf: &mut [u8],
    ) -> Result<bool, String> {
        if self.closed.is_some() {
            return Ok(false);
        }
        if ready.contains(Ready::ERROR) {
            return Err(format!(
                "our socket reports {ready:?}: {:?}",
                ep.error(self.s)
            ));
        }
        if self.tuple.is_none() {
            self.tuple = ep.peer(self.s).ok();
        }
        let mut moved = false;
        if ready.contains(Ready::READABLE) && !self.eof {
            loop {
                match ep.read(self.s, buf) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => {
                        self.hash.update(&buf[..n]);
                        self.received.extend_from_slice(&buf[..n]);
                        moved = true;
                    }
                    Err(SockError::WouldBlock) => break,
                    Err(e) => {
                        return Err(format!("our read after {} bytes: {e}", self.received.len()))
                    }
                }
            }
        }
        if ready.contains(Ready::WRITABLE) && !self.wr_shut {
            self.established.get_or_insert(now);
            while self.sent < self.out.len() {
                match ep.write(self.s, &self.out[self.sent..]) {
                    Ok(n) => {
                        self.sent += n;
                        moved = true;
                    }
                    Err(SockError::WouldBlock) => break,
                    Err(e) => return Err(format!("our write after {} bytes: {e}", self.sent)),
                }
            }
            if self.sent == self.out.len() {
                ep.shutdown(self.s, Shutdown::Write)
                    .map_err(|e| format!("our shutdown(Write): {e}"))?;
                self.wr_shut = true;
                ep.set_interest(self.s, Ready::READABLE)
                    .map_err(|e| format!("set_interest: {e}"))?;
            }
        }
        if self.eof && self.wr_shut {
            ep.close(self.s).map_err(|e| format!("our close: {e}"))?;
            self.closed = Some(now);
        }
        Ok(moved)
    }

    fn summary(&self, eps: &[Endpoint]) -> String {
        let live = if self.closed.is_none() {
            let ep = &eps[self.q];
            format!(
                ", readiness {:?}, error {:?}",
                ep.readiness(self.s),
                ep.error(self.s)
            )
        } else {
            String::new()
        };
        format!(
            "queue {} socket {} tuple {:?}: sent {}/{} (FIN queued {}), received {} (EOF {}), \
             established at {:?}, closed at {:?}{live}",
            self.q,
            self.s,
            self.tuple,
            self.sent,
            self.out.len(),
            self.wr_shut,
            self.received.len(),
            self.eof,
            self.established,
            self.closed,
        )
    }
}

impl Bench {
    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// Polls every endpoint once; returns the frames received.
    fn poll_all(&mut self, events: &mut [Vec<Event>]) -> usize {
        let now = self.now();
        let mut rx = 0;
        for (ep, ev) in self.eps.iter_mut().zip(events.iter_mut()) {
            let n = ep.poll(&mut self.nic, now, ev);
            if n > 0 && faults::tracing() {
                eprintln!(
                    "{:10.3} ms host: queue {} received {n} frames",
                    faults::trace_ms(),
                    ep.queue()
                );
            }
            rx += n;
        }
        rx
    }

    fn connections(&self) -> Vec<usize> {
        self.eps.iter().map(|e| e.connections()).collect()
    }

    /// Everything worth knowing when something went wrong.
    fn dump(&self, ours: Option<&Ours>) {
        eprintln!("==== state at {:?} (seed {}) ====", self.now(), self.seed);
        let dev = self.nic.device();
        eprintln!(
            "NIC counters: {:?}",
            dev.counters()
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .collect::<Vec<_>>()
        );
        for q in 0..self.nic.queue_pairs() {
            eprintln!(
                "queue {q}: driver {:?}; device {:?}",
                self.nic.stats(q),
                dev.queue_counters(q)
            );
        }
        for ep in &self.eps {
            eprintln!(
                "endpoint {}: {} connections, {} sockets, {:?}, {:?}, {:?}",
                ep.queue(),
                ep.connections(),
                ep.sockets(),
                ep.stats(),
                ep.tcp_stats(),
                ep.net().stats()
            );
        }
        if let Some(o) = ours {
            eprintln!("our connection: {}", o.summary(&self.eps));
        }
        let f = self.faults.lock().unwrap().clone();
        eprintln!("injector {:?}", self.fault_cfg);
        eprintln!("  wire>nic {:?}", f.to_nic);
        eprintln!("  nic>wire {:?}", f.from_nic);
        eprintln!("  first FIN {:?}", f.first_fin);
        eprintln!("last {} TCP segments on the wire:", f.recent.len().min(150));
        for e in f.recent.iter().skip(f.recent.len().saturating_sub(150)) {
            eprintln!("  {e}");
        }
        match self.ns.exec(["ss", "-tino"]) {
            Ok(o) => eprintln!(
                "Linux's sockets (ss -tino):\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("ss: {e}"),
        }
        eprintln!("simulated cycles {}", self.sim.cycles());
    }

    fn fail(&self, ours: Option<&Ours>, msg: &str) -> ! {
        self.dump(ours);
        panic!(
            "{msg} (seed {}, replay with TOE_SEED={})",
            self.seed, self.seed
        );
    }

    /// Polls until every endpoint's connection table is empty (our
    /// connection finished its FIN exchange and TIME_WAIT).
    fn drain(&mut self, ours: &Ours) {
        let start = self.now();
        let mut events = vec![Vec::new(); self.eps.len()];
        while self.connections().iter().any(|&n| n > 0) {
            if self.now() - start > 2 * MSL + Duration::from_secs(30) {
                let c = self.connections();
                self.fail(
                    Some(ours),
                    &format!("connections left in the table after close: {c:?}"),
                );
            }
            if self.poll_all(&mut events) == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
            for (q, ev) in events.iter().enumerate() {
                if let Some(e) = ev.first() {
                    self.fail(
                        Some(ours),
                        &format!("event after close on queue {q}: {e:?}"),
                    );
                }
            }
        }
    }

    /// The checks after a transfer: same bytes both ways, clean close on
    /// both sides, nothing the NIC or the library had to drop.
    ///
    /// `linux_sent` is the stream the test gave Linux (to locate a
    /// difference; Linux hashed what it actually wrote).
    fn verify(&mut self, ours: &Ours, linux: &LinuxReport, linux_sent: &[u8], no_faults: bool) {
        // 1. The data, by digest (both sides computed their own).
        let ours_rx: [u8; 32] = ours.hash.clone().finalize().into();
        let ours_tx = sha256(&ours.out);
        println!(
            "Linux -> us: {} bytes, Linux sent sha256 {}, we received sha256 {}",
            linux.sent,
            hex(&linux.sent_digest),
            hex(&ours_rx)
        );
        println!(
            "us -> Linux: {} bytes, we sent sha256 {}, Linux received sha256 {}",
            ours.out.len(),
            hex(&ours_tx),
            hex(&linux.received_digest)
        );
        if ours_rx != linux.sent_digest || ours.received.len() != linux.sent {
            self.fail(
                Some(ours),
                &format!(
                    "Linux -> us data differs: {} bytes sent, {} received, {}",
                    linux.sent,
                    ours.received.len(),
                    first_difference(&ours.received, linux_sent)
                ),
            );
        }
        if ours_tx != linux.received_digest || linux.received.len() != ours.out.len() {
            self.fail(
                Some(ours),
                &format!(
                    "us -> Linux data differs: {} bytes sent, {} received, {}",
                    ours.out.len(),
                    linux.received.len(),
                    first_difference(&linux.received, &ours.out)
                ),
            );
        }
        println!(
            "Linux {} <-> us {}: Linux transfer {:.2} s; Linux TCP_INFO: {}",
            linux.local,
            linux.peer,
            linux.elapsed.as_secs_f64(),
            linux.info
        );

        // 2. Our connection leaves the table (FIN exchange, TIME_WAIT).
        self.drain(ours);
        let t = self.now() - ours.closed.expect("closed");
        let f = self.faults.lock().unwrap().clone();
        println!(
            "connection table empty {:.2} s after our close (first FIN from {}; TIME_WAIT {:?})",
            t.as_secs_f64(),
            match f.first_fin {
                Some(Dir::FromNic) => "us: our side went through TIME_WAIT",
                Some(Dir::ToNic) => "Linux: Linux keeps the TIME_WAIT",
                None => "nobody?",
            },
            2 * MSL
        );

        // 3. What every party counted.
        println!("injector wire>nic {:?}", f.to_nic);
        println!("injector nic>wire {:?}", f.from_nic);
        let dev = self.nic.device();
        let counters: Vec<_> = dev
            .counters()
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .collect();
        println!("NIC counters: {counters:?}");
        let rx_frames = dev.counter(Counter::RxFrames);
        for ep in &self.eps {
            println!(
                "endpoint {}: {:?} {:?} {:?}",
                ep.queue(),
                ep.stats(),
                ep.tcp_stats(),
                ep.net().stats()
            );
        }
        let no_buffer = dev.counter(Counter::RxDropNoBuffer);
        if no_buffer > 0 {
            println!("NOTE: the NIC dropped {no_buffer} frames for want of an RX buffer");
        }
        for c in [
            Counter::RxDropMacError,
            Counter::RxDropRunt,
            Counter::RxDropOversize,
            Counter::RxDropMalformedL3,
            Counter::RxDropMalformedL4,
            Counter::RxBadIpCsum,
            Counter::RxBadTcpCsum,
            Counter::RxDropBufferTooSmall,
            Counter::RxDropQueueDisabled,
            Counter::TxBadDescriptor,
            Counter::DmaError,
        ] {
            if dev.counter(c) != 0 {
                self.fail(
                    Some(ours),
                    &format!("NIC counter {c:?} = {}", dev.counter(c)),
                );
            }
        }
        if rx_frames < f.to_nic.delivered {
            self.fail(
                Some(ours),
                &format!(
                    "NIC counted {rx_frames} frames in, the wire delivered {}",
                    f.to_nic.delivered
                ),
            );
        }
        for ep in &self.eps {
            let (net, tcp, st) = (ep.net().stats(), ep.tcp_stats(), ep.stats());
            let bad = net.drop_malformed
                + net.drop_bad_checksum
                + net.drop_fragment
                + net.drop_tx_full
                + net.drop_unresolved
                + tcp.rx_bad
                + st.reset_unread;
            if bad != 0 {
                self.fail(
                    Some(ours),
                    &format!(
                        "endpoint {} dropped or reset: {net:?} {tcp:?} {st:?}",
                        ep.queue()
                    ),
                );
            }
        }
        // Without faults, nobody had reason to reset anything.
        if no_faults && (f.to_nic.rst != 0 || f.from_nic.rst != 0) {
            self.fail(
                Some(ours),
                &format!(
                    "RST on the wire: {} from Linux, {} from us",
                    f.to_nic.rst, f.from_nic.rst
                ),
            );
        }
    }

    /// Stops the simulator; it must have seen no protocol violation.
    fn finish(self) {
        let Bench {
            eps, nic, sim, ns, ..
        } = self;
        drop(eps);
        drop(nic);
        let st = sim.stop();
        println!(
            "simulator: {} cycles in {:.2} s ({:.2} M cycles/s), {} frames in, {} out",
            st.cycles,
            st.wall.as_secs_f64(),
            st.cycles as f64 / st.wall.as_secs_f64() / 1e6,
            st.frames_in,
            st.frames_out
        );
        assert_eq!(st.violations, 0, "{st:?}");
        drop(ns);
    }
}

/// Joins the Linux thread once it has finished; a panic there is a
/// failure of the test.
fn take_linux(
    b: &Bench,
    h: &mut Option<JoinHandle<Result<LinuxReport, String>>>,
    ours: Option<&Ours>,
) -> Option<LinuxReport> {
    if !h.as_ref().is_some_and(|h| h.is_finished()) {
        return None;
    }
    match h.take().unwrap().join() {
        Ok(Ok(r)) => Some(r),
        Ok(Err(e)) => b.fail(ours, &e),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            b.fail(ours, &format!("the Linux thread panicked: {msg}"))
        }
    }
}

/// Linux connects to our listener (on every queue), both sides send `len`
/// bytes, both close.
fn linux_client(tag: &str, faults: Faults, len: usize, seed: u64) -> Option<(FaultLog, Duration)> {
    linux_client_with(tag, faults, len, seed, None)
}

/// [`linux_client`], optionally with the NIC completing the handshake
/// (setup offload on our listener) and Linux's SYN options set by sysctls.
fn linux_client_with(
    tag: &str,
    faults: Faults,
    len: usize,
    seed: u64,
    offload: Option<LinuxSyn>,
) -> Option<(FaultLog, Duration)> {
    let mut b = bench(tag, faults, seed)?;
    if let Some(o) = offload {
        for (name, on) in [
            ("net.ipv4.tcp_timestamps", o.timestamps),
            ("net.ipv4.tcp_sack", o.sack),
            ("net.ipv4.tcp_window_scaling", o.window_scaling),
        ] {
            b.ns.run(["sysctl", "-qw", &format!("{name}={}", on as u8)])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let cfg = toe_driver::tcp::conn::Config::default();
        let key: [u8; 16] =
            std::array::from_fn(|i| (seed as u8).wrapping_mul(31).wrapping_add(i as u8));
        let dev = b.nic.device();
        dev.setup_configure(&toe_driver::setup::SetupParams::matching(&cfg, key))
            .expect("configure the setup offload");
        dev.listen_offload(None, PORT, true)
            .expect("offloaded listener");
    }
    let no_faults = faults.loss == 0.0 && faults.duplicate == 0.0 && faults.reorder == 0.0;
    let listeners: Vec<SocketId> = b
        .eps
        .iter_mut()
        .map(|ep| ep.listen(PORT, 16).expect("listen"))
        .collect();
    let up = stream(seed, 1, len);
    let down = stream(seed, 2, len);
    let target = SocketAddr::from((b.nic_ip, PORT));
    let start = b.now();
    let to_send = up.clone();
    let mut linux = Some(spawn_in_netns(b.ns.name(), "linux-client", move || {
        let s = TcpStream::connect_timeout(&target, Duration::from_secs(30))
            .map_err(|e| format!("Linux connect to {target}: {e}"))?;
        linux_transfer(s, to_send)
    }));
    let mut events = vec![Vec::new(); b.eps.len()];
    let mut ours: Option<Ours> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let report = loop {
        if b.now() - start > transfer_limit() {
            b.fail(
                ours.as_ref(),
                &format!("transfer not finished after {:?}", transfer_limit()),
            );
        }
        let rx = b.poll_all(&mut events);
        let now = b.now();
        let mut moved = false;
        for q in 0..b.eps.len() {
            for e in &events[q] {
                if e.socket == listeners[q] {
                    while let Ok(s) = b.eps[q].accept(listeners[q]) {
                        let (lport, raddr, rport) = b.eps[q].peer(s).unwrap();
                        if ours.is_some() {
                            let o = ours.as_ref();
                            b.fail(o, &format!("a second connection from {raddr}:{rport}"));
                        }
                        println!("accepted {raddr}:{rport} -> :{lport} on queue {q} at {now:?}");
                        let rss =
                            b.nic
                                .rx_queue_of(raddr.octets(), b.nic_ip.octets(), rport, lport);
                        if rss != q as u32 {
                            b.fail(None, &format!("accepted on queue {q}, RSS says {rss}"));
                        }
                        b.eps[q]
                            .set_interest(s, Ready::READABLE | Ready::WRITABLE)
                            .unwrap();
                        ours = Some(Ours::new(q, s, down.clone()));
                    }
                    continue;
                }
                let r = match ours.as_mut() {
                    Some(o) if o.q == q && o.s == e.socket => {
                        o.on_event(&mut b.eps[q], e.ready, now, &mut buf)
                    }
                    _ => Err(format!("event for an unknown socket on queue {q}: {e:?}")),
                };
                match r {
                    Ok(m) => moved |= m,
                    Err(msg) => b.fail(ours.as_ref(), &msg),
                }
            }
        }
        if let Some(r) = take_linux(&b, &mut linux, ours.as_ref()) {
            if ours.as_ref().is_some_and(|o| o.closed.is_some()) {
                break r;
            }
            // Linux is done; we finish our side (close) on the next polls.
            linux_done_early(&mut b, &mut ours, &mut events, &mut buf, start);
            break r;
        }
        if rx == 0 && !moved {
            std::thread::sleep(Duration::from_micros(50));
        }
    };
    let ours = ours.expect("accepted a connection");
    let took = b.now() - start;
    println!(
        "transfer of {len} bytes each way done in {:.2} s",
        took.as_secs_f64()
    );
    b.verify(&ours, &report, &up, no_faults);
    if let Some(o) = offload {
        let d = b.nic.device();
        let (synack, est) = (
            d.counter(Counter::SetupSynAck),
            d.counter(Counter::SetupEstablished),
        );
        let host: u64 = b.eps.iter().map(|e| e.tcp_stats().nic_established).sum();
        println!(
            "{o:?}: NIC sent {synack} SYN-ACK(s), validated {est} final ACK(s); {host} connection(s) from the NIC; Linux options {:#x}",
            report.options
        );
        assert!(synack >= 1, "the NIC did not answer the SYN");
        assert_eq!(host, 1, "the connection did not come from the NIC");
        // Without timestamps the cookie has nowhere to keep window scale
        // and SACK: Linux's own fallback, and what Linux must see.
        let want = o.timestamps as u8
            | ((o.timestamps && o.sack) as u8) << 1
            | ((o.timestamps && o.window_scaling) as u8) << 2;
        assert_eq!(report.options & 7, want, "options Linux negotiated");
    }
    let log = b.faults.clone();
    b.finish();
    Some((log, took))
}

/// Linux has finished (read our EOF, sent everything): poll until our side
/// has closed as well.
fn linux_done_early(
    b: &mut Bench,
    ours: &mut Option<Ours>,
    events: &mut [Vec<Event>],
    buf: &mut [u8],
    start: Duration,
) {
    loop {
        let Some(o) = ours.as_mut() else {
            b.fail(None, "Linux finished but we accepted no connection");
        };
        if o.closed.is_some() {
            return;
        }
        if b.now() - start > transfer_limit() {
            b.fail(ours.as_ref(), "Linux finished, our side did not close");
        }
        let rx = b.poll_all(events);
        let now = b.now();
        for e in &events[o.q] {
            if e.socket == o.s {
                if let Err(msg) = o.on_event(&mut b.eps[o.q], e.ready, now, buf) {
                    b.fail(ours.as_ref(), &msg);
                }
            }
        }
        if rx == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// Linux connects with every combination of the options its sysctls can
/// switch off; the NIC answers its SYN and validates its final ACK, the
/// transfer runs over the connection our library built from the NIC's
/// report.
#[test]
fn linux_handshakes_with_the_nic_for_every_option_combination() {
    let seed = seed(5);
    for combo in 0..8u8 {
        let o = LinuxSyn {
            timestamps: combo & 1 != 0,
            sack: combo & 2 != 0,
            window_scaling: combo & 4 != 0,
        };
        if linux_client_with(
            &format!("tcplx-syn{combo}"),
            Faults::none(),
            256 * 1024,
            seed,
            Some(o),
        )
        .is_none()
        {
            return;
        }
    }
}

#[test]
fn linux_client_uploads_and_downloads_4_mib() {
    let t = Instant::now();
    let seed = seed(1);
    if linux_client("tcplx-up", Faults::none(), 4 * MIB, seed).is_some() {
        println!("test time {:.2} s", t.elapsed().as_secs_f64());
    }
}

#[test]
fn our_client_to_linux_server_4_mib() {
    our_client_to_linux("tcplx-cl", 4 * MIB, seed(2), None);
}

/// How the NIC opens our client's connection: Linux's options (sysctls in
/// its namespace) and how many of the NIC's SYNs the wire loses.
#[derive(Clone, Copy, Debug)]
struct NicOpen {
    linux: LinuxSyn,
    lost_syns: u32,
}

/// Our client sends and receives `len` bytes with a Linux server; with
/// `nic`, the NIC opens the connection (active open offload).
fn our_client_to_linux(tag: &str, len: usize, seed: u64, nic: Option<NicOpen>) {
    let t = Instant::now();
    let faults = Faults {
        drop_first_syns: nic.map_or(0, |n| n.lost_syns),
        ..Faults::none()
    };
    let Some(mut b) = bench_with(tag, faults, seed, nic.is_some()) else {
        return;
    };
    if let Some(n) = nic {
        linux_syn_sysctls(&b, n.linux);
    }
    let up = stream(seed, 1, len);
    let down = stream(seed, 2, len);
    // Linux's server: listen, tell us, accept one connection, transfer.
    let (ready_tx, ready_rx) = mpsc::channel();
    let bind = SocketAddr::from((b.linux_ip, PORT));
    let to_send = down.clone();
    let mut linux = Some(spawn_in_netns(b.ns.name(), "linux-server", move || {
        let l = TcpListener::bind(bind).map_err(|e| format!("Linux bind {bind}: {e}"))?;
        l.set_nonblocking(true)
            .map_err(|e| format!("set_nonblocking: {e}"))?;
        let _ = ready_tx.send(());
        let t = Instant::now();
        let s = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if t.elapsed() > Duration::from_secs(30) {
                        return Err("Linux accepted nothing within 30 s".to_string());
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(format!("Linux accept: {e}")),
            }
        };
        s.set_nonblocking(false)
            .map_err(|e| format!("set_nonblocking: {e}"))?;
        linux_transfer(s, to_send)
    }));
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| {
            let _ = take_linux(&b, &mut linux, None);
            b.fail(None, "the Linux server did not start listening")
        });
    // Queue 1 or 3 (by seed): the port connect picks must make RSS bring
    // Linux's replies back there, and the ARP reply (queue 0) must reach
    // this instance through the shared neighbour board.
    let q = if seed.is_multiple_of(2) { 3 } else { 1 };
    let start = b.now();
    let s = b.eps[q]
        .connect_with(
            (b.linux_ip, PORT),
            start,
            ConnectOptions { nic: nic.is_some() },
        )
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut ours = Ours::new(q, s, up.clone());
    let mut events = vec![Vec::new(); b.eps.len()];
    let mut buf = vec![0u8; 64 * 1024];
    let mut report = None;
    while report.is_none() || ours.closed.is_none() {
        if b.now() - start > transfer_limit() {
            b.fail(
                Some(&ours),
                &format!("transfer not finished after {:?}", transfer_limit()),
            );
        }
        let rx = b.poll_all(&mut events);
        let now = b.now();
        let mut moved = false;
        for (eq, ev) in events.iter().enumerate() {
            for e in ev {
                if eq != q || e.socket != s {
                    b.fail(
                        Some(&ours),
                        &format!("event for an unknown socket on queue {eq}: {e:?}"),
                    );
                }
                match ours.on_event(&mut b.eps[q], e.ready, now, &mut buf) {
                    Ok(m) => moved |= m,
                    Err(msg) => b.fail(Some(&ours), &msg),
                }
            }
        }
        if report.is_none() {
            report = take_linux(&b, &mut linux, Some(&ours));
        }
        if rx == 0 && !moved {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    let report = report.unwrap();
    let took = b.now() - start;
    let (lport, raddr, rport) = ours.tuple.expect("connection tuple");
    println!(
        "queue {q} connected from port {lport} to {raddr}:{rport} (established after {:?}); \
         {len} bytes each way in {:.2} s",
        ours.established.map(|e| e - start),
        took.as_secs_f64()
    );
    let rss = b
        .nic
        .rx_queue_of(b.linux_ip.octets(), b.nic_ip.octets(), PORT, lport);
    if rss != q as u32 {
        b.fail(
            Some(&ours),
            &format!("connect on queue {q} picked port {lport}, which RSS sends to queue {rss}"),
        );
    }
    b.verify(&ours, &report, &down, true);
    if let Some(n) = nic {
        let d = b.nic.device();
        let (syns, est) = (
            d.counter(Counter::ConnectSyn),
            d.counter(Counter::ConnectEstablished),
        );
        let st = b.eps[q].tcp_stats();
        let lost = b.faults.lock().unwrap().from_nic.dropped;
        println!(
            "{n:?}: NIC sent {syns} SYN(s) ({lost} lost on the wire), completed {est} open(s); \
             host: {} requested, {} established, {} fell back; Linux options {:#x}",
            st.nic_connect_requested,
            st.nic_connect_established,
            st.nic_connect_fallback,
            report.options
        );
        assert_eq!(lost, n.lost_syns as u64, "SYNs the wire dropped");
        assert_eq!(syns, 1 + n.lost_syns as u64, "SYNs the NIC sent");
        assert_eq!(est, 1, "opens the NIC completed");
        assert_eq!(
            st.nic_connect_established, 1,
            "the connection came from the NIC"
        );
        assert_eq!(st.nic_connect_fallback, 0);
        // Our SYN offers timestamps, SACK and window scaling: Linux takes
        // what its sysctls allow.
        let o = n.linux;
        let want = o.timestamps as u8 | (o.sack as u8) << 1 | (o.window_scaling as u8) << 2;
        assert_eq!(report.options & 7, want, "options Linux negotiated");
    }
    b.finish();
    println!("test time {:.2} s", t.elapsed().as_secs_f64());
}

fn linux_syn_sysctls(b: &Bench, o: LinuxSyn) {
    for (name, on) in [
        ("net.ipv4.tcp_timestamps", o.timestamps),
        ("net.ipv4.tcp_sack", o.sack),
        ("net.ipv4.tcp_window_scaling", o.window_scaling),
    ] {
        b.ns.run(["sysctl", "-qw", &format!("{name}={}", on as u8)])
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The NIC opens our client's connections to a Linux server with every
/// combination of the options Linux's sysctls can switch off; the first
/// open's SYN is lost on the wire and retransmitted by the NIC.
#[test]
fn our_nic_opens_to_linux_for_every_option_combination_and_a_lost_syn() {
    let seed = seed(6);
    for combo in 0..8u8 {
        let linux = LinuxSyn {
            timestamps: combo & 1 != 0,
            sack: combo & 2 != 0,
            window_scaling: combo & 4 != 0,
        };
        let lost_syns = (combo == 0 || combo == 7) as u32;
        our_client_to_linux(
            &format!("tcplx-ao{combo}"),
            256 * 1024,
            seed,
            Some(NicOpen { linux, lost_syns }),
        );
        if !netns::tap_tests_enabled() {
            return;
        }
    }
}

/// A NIC open to a Linux port nobody listens on: Linux answers RST, the
/// NIC reports the refusal, the socket fails with `Refused`.
#[test]
fn our_nic_open_to_a_closed_linux_port_is_refused() {
    let seed = seed(7);
    let Some(mut b) = bench_with("tcplx-aref", Faults::none(), seed, true) else {
        return;
    };
    let q = 2;
    let start = b.now();
    let s = b.eps[q]
        .connect_with((b.linux_ip, 9), start, ConnectOptions { nic: true })
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut events = vec![Vec::new(); b.eps.len()];
    let err = loop {
        if b.now() - start > Duration::from_secs(30) {
            b.fail(None, "no answer to the connect within 30 s");
        }
        let rx = b.poll_all(&mut events);
        if let Some(e) = b.eps[q].error(s) {
            break e;
        }
        if rx == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    };
    assert_eq!(err, SockError::Refused);
    let d = b.nic.device();
    let st = b.eps[q].tcp_stats();
    println!(
        "refused after {:?}: NIC SYNs {}, refusals {}; host refused {}",
        b.now() - start,
        d.counter(Counter::ConnectSyn),
        d.counter(Counter::ConnectRefused),
        st.nic_connect_refused
    );
    assert_eq!(d.counter(Counter::ConnectRefused), 1);
    assert_eq!(d.counter(Counter::ConnectEstablished), 0);
    assert_eq!(st.nic_connect_refused, 1);
    assert_eq!(st.nic_connect_fallback, 0);
    assert_eq!(
        d.connect_pending().unwrap(),
        0,
        "the NIC still holds the open"
    );
    b.finish();
}

#[test]
fn faults_loss_reorder_duplicate_delay() {
    let t = Instant::now();
    let seed = seed(3);
    let faults = Faults {
        loss: 0.02,
        duplicate: 0.01,
        reorder: 0.02,
        delay: Duration::from_millis(1),
        jitter: Duration::from_millis(2),
        hold_limit: Duration::from_millis(10),
        drop_first_syns: 0,
    };
    let Some((log, took)) = linux_client("tcplx-flt", faults, 2 * MIB, seed) else {
        return;
    };
    let f = log.lock().unwrap().clone();
    println!(
        "faults over {:.2} s: wire>nic dropped {} duplicated {} reordered {} (of {} TCP segments); \
         nic>wire dropped {} duplicated {} reordered {} (of {})",
        took.as_secs_f64(),
        f.to_nic.dropped,
        f.to_nic.duplicated,
        f.to_nic.reordered,
        f.to_nic.tcp_segments,
        f.from_nic.dropped,
        f.from_nic.duplicated,
        f.from_nic.reordered,
        f.from_nic.tcp_segments,
    );
    for (name, l) in [("wire>nic", f.to_nic), ("nic>wire", f.from_nic)] {
        assert!(
            l.dropped > 0 && l.duplicated > 0 && l.reordered > 0,
            "the injector did not exercise every fault {name}: {l:?} (seed {seed})"
        );
    }
    println!("test time {:.2} s", t.elapsed().as_secs_f64());
}
