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
use toe_driver::socket::{ConnectOptions, Endpoint, Event, Ready, Shutdown, SockError, SocketId};
use toe_tests::faults::{self, Dir, FaultLog, Faults, Faulty};
use toe_tests::netns;
use toe_tests::seed;
use toe_tests::socket_rig::{enable_setup_offload, EndpointOpts};
use toe_tests::tap_bench::TapBench;

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

/// The TAP bench (tests/src/tap_bench.rs) with the fault injector between
/// the TAP and the NIC, one endpoint per queue pair (TIME_WAIT shortened),
/// and what the failure reports need.
struct Bench {
    rig: TapBench,
    faults: FaultLog,
    fault_cfg: Faults,
    seed: u64,
}

fn bench(tag: &str, faults: Faults, seed: u64) -> Option<Bench> {
    bench_with(tag, faults, seed, false)
}

/// [`bench`], with the endpoints able to open connections by the NIC
/// (`nic_connect`).
fn bench_with(tag: &str, faults: Faults, seed: u64, nic_connect: bool) -> Option<Bench> {
    let mut log = None;
    let opts = EndpointOpts {
        nic_connect,
        msl: Some(MSL),
    };
    // Frames of at most 1514 bytes from Linux: the MTU of the TAP (1500 by
    // default; set to be sure).  No TSO/GSO reaches us either: a TAP
    // without IFF_VNET_HDR has no offloads, the kernel segments first.
    let rig = TapBench::builder(tag, 78)
        .mtu(1500)
        .endpoints(opts)
        .build_with(|tap| {
            let (wire, l) = Faulty::new(tap, faults, seed);
            log = Some(l);
            wire
        })?;
    Some(Bench {
        rig,
        faults: log.expect("the fault log"),
        fault_cfg: faults,
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
        self.rig.now()
    }

    /// Turns on the NIC's setup offload for PORT (our address only, a key
    /// from the seed, the established-tuple filter on every endpoint);
    /// `ts_period` speeds the NIC's clocks up (cycles per timestamp tick).
    fn setup_offload(&mut self, ts_period: Option<u32>) {
        let seed = self.seed;
        let key: [u8; 16] =
            std::array::from_fn(|i| (seed as u8).wrapping_mul(31).wrapping_add(i as u8));
        let local = (self.rig.nic_mac, self.rig.nic_ip.octets());
        enable_setup_offload(
            &self.rig.nic,
            &mut self.rig.eps,
            local,
            PORT,
            key,
            ts_period,
        );
    }

    /// Polls every endpoint once; returns the frames received.
    fn poll_all(&mut self, events: &mut [Vec<Event>]) -> usize {
        let now = self.now();
        let mut rx = 0;
        for (ep, ev) in self.rig.eps.iter_mut().zip(events.iter_mut()) {
            let n = ep.poll(&mut self.rig.nic, now, ev);
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
        self.rig.eps.iter().map(|e| e.connections()).collect()
    }

    /// Everything worth knowing when something went wrong.
    fn dump(&self, ours: Option<&Ours>) {
        eprintln!("==== state at {:?} (seed {}) ====", self.now(), self.seed);
        let dev = self.rig.nic.device();
        eprintln!(
            "NIC counters: {:?}",
            dev.counters()
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .collect::<Vec<_>>()
        );
        for q in 0..self.rig.nic.queue_pairs() {
            eprintln!(
                "queue {q}: driver {:?}; device {:?}",
                self.rig.nic.stats(q),
                dev.queue_counters(q)
            );
        }
        for ep in &self.rig.eps {
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
            eprintln!("our connection: {}", o.summary(&self.rig.eps));
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
        match self.rig.ns.exec(["ss", "-tino"]) {
            Ok(o) => eprintln!(
                "Linux's sockets (ss -tino):\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("ss: {e}"),
        }
        eprintln!("simulated cycles {}", self.rig.sim.cycles());
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
        let mut events = vec![Vec::new(); self.rig.eps.len()];
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
        let dev = self.rig.nic.device();
        let counters: Vec<_> = dev
            .counters()
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .collect();
        println!("NIC counters: {counters:?}");
        let rx_frames = dev.counter(Counter::RxFrames);
        for ep in &self.rig.eps {
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
        for ep in &self.rig.eps {
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
        let TapBench {
            eps, nic, sim, ns, ..
        } = self.rig;
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
            b.rig
                .ns
                .run(["sysctl", "-qw", &format!("{name}={}", on as u8)])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        b.setup_offload(None);
    }
    let no_faults = faults.loss == 0.0 && faults.duplicate == 0.0 && faults.reorder == 0.0;
    let listeners: Vec<SocketId> = b
        .rig
        .eps
        .iter_mut()
        .map(|ep| ep.listen(PORT, 16).expect("listen"))
        .collect();
    let up = stream(seed, 1, len);
    let down = stream(seed, 2, len);
    let target = SocketAddr::from((b.rig.nic_ip, PORT));
    let start = b.now();
    let to_send = up.clone();
    let mut linux = Some(b.rig.ns.thread("linux-client", move || {
        let s = TcpStream::connect_timeout(&target, Duration::from_secs(30))
            .map_err(|e| format!("Linux connect to {target}: {e}"))?;
        linux_transfer(s, to_send)
    }));
    let mut events = vec![Vec::new(); b.rig.eps.len()];
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
        for q in 0..b.rig.eps.len() {
            for e in &events[q] {
                if e.socket == listeners[q] {
                    while let Ok(s) = b.rig.eps[q].accept(listeners[q]) {
                        let (lport, raddr, rport) = b.rig.eps[q].peer(s).unwrap();
                        if ours.is_some() {
                            let o = ours.as_ref();
                            b.fail(o, &format!("a second connection from {raddr}:{rport}"));
                        }
                        println!("accepted {raddr}:{rport} -> :{lport} on queue {q} at {now:?}");
                        let rss = b.rig.nic.rx_queue_of(
                            raddr.octets(),
                            b.rig.nic_ip.octets(),
                            rport,
                            lport,
                        );
                        if rss != q as u32 {
                            b.fail(None, &format!("accepted on queue {q}, RSS says {rss}"));
                        }
                        b.rig.eps[q]
                            .set_interest(s, Ready::READABLE | Ready::WRITABLE)
                            .unwrap();
                        ours = Some(Ours::new(q, s, down.clone()));
                    }
                    continue;
                }
                let r = match ours.as_mut() {
                    Some(o) if o.q == q && o.s == e.socket => {
                        o.on_event(&mut b.rig.eps[q], e.ready, now, &mut buf)
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
        let d = b.rig.nic.device();
        let (synack, est) = (
            d.counter(Counter::SetupSynAck),
            d.counter(Counter::SetupEstablished),
        );
        let host: u64 = b
            .rig
            .eps
            .iter()
            .map(|e| e.tcp_stats().nic_established)
            .sum();
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
                if let Err(msg) = o.on_event(&mut b.rig.eps[o.q], e.ready, now, buf) {
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
    let bind = SocketAddr::from((b.rig.linux_ip, PORT));
    let to_send = down.clone();
    let mut linux = Some(b.rig.ns.thread("linux-server", move || {
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
    let s = b.rig.eps[q]
        .connect_with(
            (b.rig.linux_ip, PORT),
            start,
            ConnectOptions { nic: nic.is_some() },
        )
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut ours = Ours::new(q, s, up.clone());
    let mut events = vec![Vec::new(); b.rig.eps.len()];
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
                match ours.on_event(&mut b.rig.eps[q], e.ready, now, &mut buf) {
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
        .rig
        .nic
        .rx_queue_of(b.rig.linux_ip.octets(), b.rig.nic_ip.octets(), PORT, lport);
    if rss != q as u32 {
        b.fail(
            Some(&ours),
            &format!("connect on queue {q} picked port {lport}, which RSS sends to queue {rss}"),
        );
    }
    b.verify(&ours, &report, &down, true);
    if let Some(n) = nic {
        let d = b.rig.nic.device();
        let (syns, est) = (
            d.counter(Counter::ConnectSyn),
            d.counter(Counter::ConnectEstablished),
        );
        let st = b.rig.eps[q].tcp_stats();
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
        b.rig
            .ns
            .run(["sysctl", "-qw", &format!("{name}={}", on as u8)])
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
    let s = b.rig.eps[q]
        .connect_with((b.rig.linux_ip, 9), start, ConnectOptions { nic: true })
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut events = vec![Vec::new(); b.rig.eps.len()];
    let err = loop {
        if b.now() - start > Duration::from_secs(30) {
            b.fail(None, "no answer to the connect within 30 s");
        }
        let rx = b.poll_all(&mut events);
        if let Some(e) = b.rig.eps[q].error(s) {
            break e;
        }
        if rx == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    };
    assert_eq!(err, SockError::Refused);
    let d = b.rig.nic.device();
    let st = b.rig.eps[q].tcp_stats();
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
        ..Faults::none()
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

// ---------------------------------------------------------------------------
// Hostile and forgetful peers (issue 14): an echo server on our side, Linux
// clients and hand-made frames from the namespace.

/// Our side as an echo server on every endpoint: accepts, echoes what it
/// reads, closes when the peer has closed (or reset) its side.
struct Echo {
    listeners: Vec<SocketId>,
    /// (queue, socket, bytes read but not yet written back).
    conns: Vec<(usize, SocketId, Vec<u8>)>,
    accepted: usize,
}

impl Echo {
    fn new(b: &mut Bench, backlog: usize) -> Echo {
        let listeners = b
            .rig
            .eps
            .iter_mut()
            .map(|ep| ep.listen(PORT, backlog).expect("listen"))
            .collect();
        Echo {
            listeners,
            conns: Vec::new(),
            accepted: 0,
        }
    }

    /// One round: polls every endpoint and serves what is ready; returns
    /// the frames received.
    fn step(&mut self, b: &mut Bench, events: &mut [Vec<Event>], buf: &mut [u8]) -> usize {
        let rx = b.poll_all(events);
        for (q, (ep, evs)) in b.rig.eps.iter_mut().zip(events.iter()).enumerate() {
            for e in evs {
                if e.socket == self.listeners[q] {
                    while let Ok(s) = ep.accept(self.listeners[q]) {
                        ep.set_interest(s, Ready::READABLE | Ready::WRITABLE)
                            .expect("interest");
                        self.conns.push((q, s, Vec::new()));
                        self.accepted += 1;
                    }
                }
            }
        }
        let mut i = 0;
        while i < self.conns.len() {
            let (q, s, ref mut pending) = self.conns[i];
            let ep = &mut b.rig.eps[q];
            let mut done = false;
            loop {
                match ep.read(s, buf) {
                    Ok(0) => {
                        done = true;
                        break;
                    }
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                    Err(SockError::WouldBlock) => break,
                    Err(_) => {
                        done = true;
                        pending.clear();
                        break;
                    }
                }
            }
            while !pending.is_empty() {
                match ep.write(s, pending) {
                    Ok(n) => {
                        pending.drain(..n);
                    }
                    Err(_) => break,
                }
            }
            if done && pending.is_empty() {
                let _ = ep.close(s);
                self.conns.swap_remove(i);
            } else {
                i += 1;
            }
        }
        rx
    }

    /// Serves until `until` says stop, failing after `limit`.
    fn serve_until(
        &mut self,
        b: &mut Bench,
        limit: Duration,
        mut until: impl FnMut(&Bench) -> bool,
    ) {
        let start = b.now();
        let mut events = vec![Vec::new(); b.rig.eps.len()];
        let mut buf = vec![0u8; 64 * 1024];
        while !until(b) {
            if b.now() - start > limit {
                b.fail(None, &format!("not done after {limit:?}"));
            }
            if self.step(b, &mut events, &mut buf) == 0 {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
}

/// A TCP socket of the calling thread's namespace bound to `local` (with
/// SO_REUSEADDR) and connected to `to` within `timeout`.
fn connect_from(local: SocketAddr, to: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    use std::os::fd::FromRawFd;
    let sa = |a: SocketAddr| -> libc::sockaddr_in {
        let SocketAddr::V4(a) = a else {
            panic!("IPv4 only")
        };
        libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: a.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*a.ip()).to_be(),
            },
            sin_zero: [0; 8],
        }
    };
    // SAFETY: plain socket calls on a descriptor owned by the TcpStream
    // made from it (or closed on error).
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(format!("socket: {}", io::Error::last_os_error()));
        }
        let s = TcpStream::from_raw_fd(fd);
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &one as *const _ as *const libc::c_void,
            4,
        );
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            &tv as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as u32,
        );
        let l = sa(local);
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        if libc::bind(fd, &l as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(format!("bind {local}: {}", io::Error::last_os_error()));
        }
        let t = sa(to);
        if libc::connect(fd, &t as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(format!(
                "connect {local} -> {to}: {}",
                io::Error::last_os_error()
            ));
        }
        Ok(s)
    }
}

/// Sends `msg` and reads it back (our echo server) within 20 s.
fn echo_check(s: &mut TcpStream, msg: &[u8]) -> Result<(), String> {
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    s.write_all(msg).map_err(|e| format!("write: {e}"))?;
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back)
        .map_err(|e| format!("reading the echo of {} bytes: {e}", msg.len()))?;
    if back != msg {
        return Err("the echo differs".into());
    }
    Ok(())
}

/// Closes `s` with SO_LINGER 0: Linux forgets the connection at once and
/// sends an RST (which the wire may drop).
fn abort_linux(s: TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a live descriptor.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as u32,
        );
    }
    drop(s);
}

/// A Linux client connects from a fixed port, then loses its state (its
/// RST is lost on the wire, so our host keeps the connection) and connects
/// again from the same port.  As against Linux's own listener: our host
/// answers the new SYN with a challenge ACK (RFC 5961 section 4), the
/// client answers that with an RST, which ends the old connection, and the
/// client's retransmitted SYN opens a new one that carries data both ways.
/// With the setup offload, the NIC must hand that SYN to the host (the
/// tuple is in its established-tuple filter) instead of answering it with
/// a fresh cookie, which used to connect the client to nothing.
fn lost_state_reconnect(offload: bool) {
    let seed = seed(14);
    let faults = Faults {
        drop_first_rsts_to_nic: 1,
        ..Faults::none()
    };
    let tag = if offload { "tcplx-ls-o" } else { "tcplx-ls-s" };
    let Some(mut b) = bench(tag, faults, seed) else {
        return;
    };
    if offload {
        b.setup_offload(None);
    }
    let mut echo = Echo::new(&mut b, 16);
    let target = SocketAddr::from((b.rig.nic_ip, PORT));
    let local = SocketAddr::from((b.rig.linux_ip, 40_123));
    let client = b.rig.ns.thread("lost-state", move || {
        let mut s = connect_from(local, target, Duration::from_secs(10))?;
        echo_check(&mut s, b"first connection")?;
        abort_linux(s);
        let t = Instant::now();
        let mut s = connect_from(local, target, Duration::from_secs(20))
            .map_err(|e| format!("reconnect: {e}"))?;
        echo_check(&mut s, b"second connection from the same port")
            .map_err(|e| format!("reconnected: {e}"))?;
        let took = t.elapsed();
        drop(s);
        Ok::<Duration, String>(took)
    });
    echo.serve_until(&mut b, Duration::from_secs(60), |_| client.is_finished());
    let took = match client.join() {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => b.fail(None, &format!("Linux client: {e}")),
        Err(_) => b.fail(None, "the Linux client panicked"),
    };
    let challenges: u64 = b
        .rig
        .eps
        .iter()
        .map(|e| e.tcp_stats().challenge_acks_sent)
        .sum();
    let f = b.faults.lock().unwrap().clone();
    let dev = b.rig.nic.device();
    let to_host = dev.counter(Counter::SetupSynToHost);
    println!(
        "offload {offload}: reconnected in {:.2} s; {challenges} challenge ACK(s); \
         {} RST(s) from Linux ({} dropped); NIC: {to_host} SYN(s) to the host, {} SYN-ACK(s)",
        took.as_secs_f64(),
        f.to_nic.rst,
        f.to_nic.dropped,
        dev.counter(Counter::SetupSynAck)
    );
    if challenges == 0 {
        b.fail(None, "no challenge ACK for the SYN of a known tuple");
    }
    if offload && to_host == 0 {
        b.fail(
            None,
            "the NIC did not hand the SYN of a known tuple to the host",
        );
    }
    if echo.accepted != 2 {
        b.fail(
            None,
            &format!("{} connections accepted, want 2", echo.accepted),
        );
    }
    b.finish();
}

#[test]
fn linux_client_that_lost_its_state_reconnects_to_the_nic_listener() {
    lost_state_reconnect(true);
}

#[test]
fn linux_client_that_lost_its_state_reconnects_to_the_software_listener() {
    lost_state_reconnect(false);
}

/// The namespace side's MAC address of the TAP.
fn linux_mac(b: &Bench) -> [u8; 6] {
    let s = b
        .rig
        .ns
        .run(["cat", &format!("/sys/class/net/{}/address", b.rig.tap)])
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Vec<u8> = s
        .trim()
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).expect("MAC"))
        .collect();
    v.try_into().expect("6 bytes")
}

/// A spoofed SYN to us from `src` (a frame as a raw sender makes it).
fn raw_syn(b: &Bench, from_mac: [u8; 6], src: ([u8; 4], u16), isn: u32) -> Vec<u8> {
    use toe_model::gen;
    let mut t = gen::TcpSpec {
        src_port: src.1,
        dst_port: PORT,
        seq: isn,
        ack: 0,
        flags: gen::SYN,
        window: 64240,
        options: gen::options_bytes(&[gen::TcpOpt::Mss(1460)]),
        ..gen::TcpSpec::default()
    };
    t.ip.src = src.0;
    t.ip.dst = b.rig.nic_ip.octets();
    t.ip.src_mac = from_mac;
    t.ip.dst_mac = b.rig.nic_mac;
    gen::tcp_frame(&t)
}

/// 20,000 spoofed SYNs (sources in 198.18.0.0/15, RFC 2544's benchmark
/// range, off our link: their SYN-ACKs go nowhere) against a listener of
/// each kind, while five real Linux clients connect and exchange data.
/// The software listener must fall back to SYN cookies once its half-open
/// slots are taken; the NIC's listener keeps no state at all.
fn syn_flood_with_real_clients(offload: bool) {
    use std::sync::atomic::{AtomicU64, Ordering};
    const FLOOD: u64 = 20_000;
    const CLIENTS: usize = 5;
    let seed = seed(15);
    let tag = if offload { "tcplx-fl-o" } else { "tcplx-fl-s" };
    let Some(mut b) = bench(tag, Faults::none(), seed) else {
        return;
    };
    if offload {
        b.setup_offload(None);
    }
    let mut echo = Echo::new(&mut b, 16);
    let rx0 = b.rig.nic.device().counter(Counter::RxFrames);
    // Frames the NIC has received, for the flood's pacing (the TAP drops
    // what its reader does not take in time).
    let nic_rx = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let (tap, mac) = (b.rig.tap.clone(), linux_mac(&b));
    let frames: Vec<Vec<u8>> = {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..FLOOD)
            .map(|i| {
                let r = rng.next_u32();
                let src = [198, 18 | (r >> 24 & 1) as u8, (r >> 16) as u8, r as u8 | 1];
                raw_syn(&b, mac, (src, 1024 + (i % 60_000) as u16), rng.next_u32())
            })
            .collect()
    };
    let flood = {
        let (nic_rx, sent) = (nic_rx.clone(), sent.clone());
        b.rig.ns.thread("syn-flood", move || {
            let link = toe_tests::rawsock::RawLink::open(&tap)?;
            for f in &frames {
                while sent.load(Ordering::Acquire) > nic_rx.load(Ordering::Acquire) + 256 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                link.send(f)?;
                sent.fetch_add(1, Ordering::AcqRel);
            }
            Ok::<(), String>(())
        })
    };
    let target = SocketAddr::from((b.rig.nic_ip, PORT));
    let clients: Vec<JoinHandle<Result<Duration, String>>> = (0..CLIENTS)
        .map(|i| {
            let sent = sent.clone();
            b.rig.ns.thread("flood-client", move || {
                // Connect in the thick of it.
                while sent.load(Ordering::Acquire) < FLOOD / 4 + i as u64 * FLOOD / 10 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let t = Instant::now();
                let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(30))
                    .map_err(|e| format!("client {i}: connect: {e}"))?;
                echo_check(&mut s, format!("client {i} during a SYN flood").as_bytes())
                    .map_err(|e| format!("client {i}: {e}"))?;
                Ok(t.elapsed())
            })
        })
        .collect();
    let mut last = Instant::now();
    echo.serve_until(&mut b, Duration::from_secs(120), |b| {
        if last.elapsed() > Duration::from_millis(5) {
            let n = b.rig.nic.device().counter(Counter::RxFrames) - rx0;
            nic_rx.store(n, Ordering::Release);
            last = Instant::now();
        }
        flood.is_finished() && clients.iter().all(|c| c.is_finished())
    });
    if let Err(e) = flood.join().expect("flood thread") {
        b.fail(None, &format!("flood: {e}"));
    }
    for c in clients {
        match c.join() {
            Ok(Ok(t)) => println!(
                "a real client connected and echoed in {:.3} s",
                t.as_secs_f64()
            ),
            Ok(Err(e)) => b.fail(None, &e),
            Err(_) => b.fail(None, "a client thread panicked"),
        }
    }
    // Let the last SYNs arrive before counting.
    let want = FLOOD;
    echo.serve_until(&mut b, Duration::from_secs(30), |b| {
        b.rig.nic.device().counter(Counter::RxFrames) - rx0 >= want
    });
    let dev = b.rig.nic.device();
    let st: Vec<_> = b.rig.eps.iter().map(|e| e.tcp_stats()).collect();
    let sum = |f: fn(&toe_driver::tcp::stack::StackStats) -> u64| st.iter().map(f).sum::<u64>();
    println!(
        "offload {offload}: {} frames received by the NIC; NIC SYN-ACKs {}, SYN-ACK queue drops {}; \
         host: {} SYNs to listeners, {} SYN cookies sent, {} validated, {} half-open timeouts, \
         {} SYNs dropped; {} connections accepted",
        dev.counter(Counter::RxFrames) - rx0,
        dev.counter(Counter::SetupSynAck),
        dev.counter(Counter::SetupSynDropped),
        sum(|s| s.syn_received),
        sum(|s| s.syn_cookies_sent),
        sum(|s| s.syn_cookies_validated),
        sum(|s| s.synack_timeouts),
        sum(|s| s.syn_dropped_full),
        echo.accepted,
    );
    if echo.accepted != CLIENTS {
        b.fail(
            None,
            &format!("{} connections accepted, want {CLIENTS}", echo.accepted),
        );
    }
    let bound = b.rig.eps.len() * 16 + CLIENTS;
    let conns: usize = b.connections().iter().sum();
    if conns > bound {
        b.fail(
            None,
            &format!("{conns} connections held after the flood (bound {bound})"),
        );
    }
    b.finish();
}

#[test]
fn a_syn_flood_leaves_the_nic_listener_serving_real_clients() {
    syn_flood_with_real_clients(true);
}

#[test]
fn a_syn_flood_leaves_the_software_listener_serving_real_clients() {
    syn_flood_with_real_clients(false);
}

/// Hand-made clients from the namespace (an address of the link that no
/// stack owns, so no kernel answers for it): a final ACK sent 130 s (of the
/// NIC's clock, sped up here) after its SYN-ACK is refused, and so is a
/// captured final ACK replayed 130 s later after its connection was reset;
/// the same final ACK sent at once makes a connection.  The cookie clock
/// runs at its default period (64 s) with the default maximum age.
#[test]
fn late_and_replayed_final_acks_are_refused_end_to_end() {
    use std::sync::mpsc::channel;
    use toe_model::gen;
    const TS_PERIOD: u32 = 25; // cycles per NIC "millisecond"
    let seed = seed(16);
    let Some(mut b) = bench("tcplx-late", Faults::none(), seed) else {
        return;
    };
    b.setup_offload(Some(TS_PERIOD));
    let mut echo = Echo::new(&mut b, 16);
    let (tap, mac) = (b.rig.tap.clone(), linux_mac(&b));
    let client_ip = {
        let o = b.rig.linux_ip.octets();
        [o[0], o[1], o[2], 77]
    };
    let (nic_ip, nic_mac) = (b.rig.nic_ip.octets(), b.rig.nic_mac);
    let syns: Vec<Vec<u8>> = [41_001u16, 41_002]
        .iter()
        .map(|&p| raw_syn(&b, mac, (client_ip, p), 1000 + p as u32))
        .collect();
    // (to the client) "SYN-ACKs seen"; (from the test) "130 s have passed".
    let (seen_tx, seen_rx) = channel::<()>();
    let (go_tx, go_rx) = channel::<()>();
    let client = b.rig.ns.thread("late-acks", move || {
        let link = toe_tests::rawsock::RawLink::open(&tap)?;
        let synack = |port: u16| {
            move |f: &[u8]| {
                let p = toe_model::parse(f, false, 9018);
                matches!((&p.ipv4, &p.tcp), (Some(i), Some(t))
                    if i.src == nic_ip && t.dst_port == port && t.flags & 0x12 == 0x12)
            }
        };
        let ack_for = |syn: &[u8], synack: &[u8], flags: u8| {
            let s = toe_model::parse(syn, false, 9018).tcp.unwrap();
            let sa = toe_model::parse(synack, false, 9018).tcp.unwrap();
            let mut t = gen::TcpSpec {
                src_port: s.src_port,
                dst_port: PORT,
                seq: s.seq.wrapping_add(1),
                ack: sa.seq.wrapping_add(1),
                flags,
                window: 502,
                ..gen::TcpSpec::default()
            };
            t.ip.src = client_ip;
            t.ip.dst = nic_ip;
            t.ip.src_mac = mac;
            t.ip.dst_mac = nic_mac;
            gen::tcp_frame(&t)
        };
        let mut got = Vec::new();
        for (i, syn) in syns.iter().enumerate() {
            link.send(syn)?;
            // Generous: the NIC answers within a few hundred cycles, but
            // on a loaded 2-core machine the simulation may crawl.
            let sa = link
                .recv_matching(Duration::from_secs(60), synack(41_001 + i as u16))
                .ok_or(format!("no SYN-ACK for SYN {i}"))?;
            got.push(sa);
        }
        // Connection 1 at once, then reset by the client.
        let ack1 = ack_for(&syns[0], &got[0], gen::ACK);
        link.send(&ack1)?;
        std::thread::sleep(Duration::from_millis(300));
        link.send(&ack_for(&syns[0], &got[0], gen::RST))?;
        seen_tx.send(()).map_err(|e| e.to_string())?;
        go_rx.recv().map_err(|e| e.to_string())?;
        // 130 s later: connection 2's final ACK, and connection 1's replayed.
        link.send(&ack_for(&syns[1], &got[1], gen::ACK))?;
        link.send(&ack1)?;
        Ok::<(), String>(())
    });
    let mut ts0 = None;
    let dev_ts = |b: &Bench| b.rig.nic.device().setup_ts_now().expect("timestamp clock");
    // The wait is measured on the NIC's clock (130,000 ticks of TS_PERIOD
    // cycles, about 3.3 M cycles); the wall-clock limits below only catch a
    // hang, so they are far above what a loaded machine needs.
    let mut sent_go = false;
    echo.serve_until(&mut b, Duration::from_secs(900), |b| {
        if ts0.is_none() && seen_rx.try_recv().is_ok() {
            ts0 = Some(dev_ts(b));
        }
        match ts0 {
            Some(t) if dev_ts(b).wrapping_sub(t) >= 130_000 => {
                sent_go = go_tx.send(()).is_ok();
                true
            }
            _ => client.is_finished(),
        }
    });
    if !sent_go {
        // The client ended before the wait was over: its error says why.
        let e = client.join().expect("client thread").err();
        b.fail(None, &e.unwrap_or_else(|| "the client ended early".into()));
    }
    let before = b.rig.nic.device().counter(Counter::SetupAckNotCookie);
    echo.serve_until(&mut b, Duration::from_secs(300), |b| {
        client.is_finished()
            && (b.rig.nic.device().counter(Counter::SetupAckNotCookie) >= before + 2
                || b.rig.nic.device().counter(Counter::SetupEstablished) > 1)
    });
    if let Err(e) = client.join().expect("client thread") {
        b.fail(None, &e);
    }
    let dev = b.rig.nic.device();
    let est = dev.counter(Counter::SetupEstablished);
    let host: u64 = b
        .rig
        .eps
        .iter()
        .map(|e| e.tcp_stats().nic_established)
        .sum();
    println!(
        "NIC: {est} final ACK(s) validated, {} refused; host: {host} connection(s) from the NIC",
        dev.counter(Counter::SetupAckNotCookie)
    );
    if est != 1 || host != 1 {
        b.fail(
            None,
            &format!("{est} validated / {host} connections: only the prompt final ACK may connect"),
        );
    }
    b.finish();
}
