//! What the host TCP library costs, next to smoltcp doing the same work,
//! for `cargo xtask bench --tcp`.
//!
//! Two processes, so that the measured one contains only the server:
//!
//! * `toe-tcpbench peer --shm PATH`: the simulated NIC (Verilated RTL) and,
//!   on its wire, smoltcp clients.  Waits for a line on stdin (the server
//!   is up), runs the clients, prints one JSON line.  Not measured.
//! * `toe-tcpbench serve --shm PATH --stack toe|smoltcp`: the server, over
//!   the same driver (`Nic`, one queue pair) and the same NIC.  `toe` is
//!   this project's library (`toe_driver::socket::Endpoint`); `smoltcp` is
//!   smoltcp's `Interface` and TCP sockets on a `phy::Device` over the same
//!   `Nic`.  Each loop iteration that has work (a frame in the RX ring or a
//!   timer due; checked by one volatile load outside) runs `serve_step`:
//!   stack poll, application, stack poll.  Under
//!   `valgrind --tool=callgrind --toggle-collect=*serve_step*` the count is
//!   the server's work alone: no simulator, no idle spinning.
//!
//! Modes: `rr` (short transactions: connect, 64-byte request, 64-byte
//! response, close; `--n` of them, `--concurrency` at a time) and `bulk`
//! (one connection uploads `--bytes`, the server checks every byte).
use clap::{Parser, Subcommand, ValueEnum};
use smoltcp::iface::{Config as IfConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig, Packet};
use toe_driver::shm::ShmBackend;
use toe_driver::socket::{Endpoint, EndpointConfig, Event, Ready, SockError};
use toe_sim::device::{DeviceConfig, SimDevice};
use toe_sim::wire;

const CLIENT_IP: [u8; 4] = [10, 9, 0, 1];
const SERVER_IP: [u8; 4] = [10, 9, 0, 2];
const CLIENT_MAC: [u8; 6] = [2, 0, 0, 9, 0, 1];
const SERVER_MAC: [u8; 6] = [2, 0, 0, 9, 0, 2];
const PORT: u16 = 7;
const MSG: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Rr,
    Bulk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Stack {
    Toe,
    /// The host library with the NIC completing the handshakes (setup
    /// offload on the listener).
    ToeOffload,
    Smoltcp,
}

#[derive(Parser)]
#[command(about = "TCP server cost and throughput over the simulated NIC")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The simulated NIC and the smoltcp clients (not measured).
    Peer {
        #[arg(long)]
        shm: String,
        #[arg(long, value_enum, default_value = "rr")]
        mode: Mode,
        /// Transactions (rr).
        #[arg(long, default_value_t = 200)]
        n: usize,
        /// Transactions in flight at once (rr).
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Bytes uploaded (bulk).
        #[arg(long, default_value_t = 8 << 20)]
        bytes: usize,
    },
    /// The measured server.
    Serve {
        #[arg(long)]
        shm: String,
        #[arg(long, value_enum)]
        stack: Stack,
        #[arg(long, value_enum, default_value = "rr")]
        mode: Mode,
        #[arg(long, default_value_t = 200)]
        n: usize,
        #[arg(long, default_value_t = 8 << 20)]
        bytes: usize,
    },
}

fn main() {
    let r = match Cli::parse().cmd {
        Cmd::Peer {
            shm,
            mode,
            n,
            concurrency,
            bytes,
        } => peer(&shm, mode, n, concurrency.max(1), bytes),
        Cmd::Serve {
            shm,
            stack,
            mode,
            n,
            bytes,
        } => serve(&shm, stack, mode, n, bytes),
    };
    if let Err(e) = r {
        eprintln!("toe-tcpbench: {e}");
        std::process::exit(1);
    }
}

/// Byte `i` of the bulk stream.
fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 9)) as u8
}

/// Simulated cycles so far, as the simulator publishes them (every 1024
/// cycles) in the shared file.
fn sim_cycles(shm: &str) -> u64 {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 8];
    match std::fs::File::open(shm)
        .and_then(|f| f.read_exact_at(&mut b, toe_contract::shm::CYCLE_OFF as u64))
    {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0,
    }
}

fn smol_now(t0: Instant) -> SmolInstant {
    SmolInstant::from_micros(t0.elapsed().as_micros() as i64)
}

// ------------------------------------------------------------------ peer

fn peer(shm: &str, mode: Mode, n: usize, conc: usize, bytes: usize) -> Result<(), String> {
    let (w, port) = wire::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, path) = (stop.clone(), shm.to_string());
    // The device is created in its own thread (the Verilated model is not
    // Send).
    let sim = std::thread::spawn(move || {
        SimDevice::create(DeviceConfig::new(path), Box::new(w))?.run(&s2, None)
    });
    // The server says when it is up.
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let c0 = sim_cycles(shm);
    let mut phy = toe_sim_support::peer::PortDevice { port };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress(CLIENT_MAC))),
        &mut phy,
        smol_now(t0),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(
            IpAddress::Ipv4(Ipv4Address::from(CLIENT_IP)),
            24,
        ))
        .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    let server = (IpAddress::Ipv4(Ipv4Address::from(SERVER_IP)), PORT);
    let limit = Duration::from_secs(600);
    let result = match mode {
        Mode::Rr => {
            // Per slot: socket, phase (0 connect sent, 1 request sent,
            // 2 closing), response bytes.
            let mut slots: Vec<(SocketHandle, u8, Vec<u8>)> = (0..conc)
                .map(|_| {
                    let h = socks.add(tcp::Socket::new(
                        tcp::SocketBuffer::new(vec![0; 4096]),
                        tcp::SocketBuffer::new(vec![0; 4096]),
                    ));
                    (h, 3, Vec::new())
                })
                .collect();
            let (mut started, mut done, mut next_port) = (0usize, 0usize, 20000u16);
            let start = Instant::now();
            while done < n {
                if t0.elapsed() > limit {
                    return Err(format!("rr: {done} of {n} transactions in {limit:?}"));
                }
                iface.poll(smol_now(t0), &mut phy, &mut socks);
                for (h, phase, resp) in slots.iter_mut() {
                    let s = socks.get_mut::<tcp::Socket>(*h);
                    match *phase {
                        3 if started < n => {
                            // Idle slot: a new transaction from a new port.
                            s.abort();
                            next_port = if next_port >= 60000 {
                                20000
                            } else {
                                next_port + 1
                            };
                            s.connect(iface.context(), server, next_port)
                                .map_err(|e| format!("connect: {e}"))?;
                            started += 1;
                            *phase = 0;
                            resp.clear();
                        }
                        0 if s.may_send() => {
                            s.send_slice(&[0x51; MSG]).map_err(|e| e.to_string())?;
                            *phase = 1;
                        }
                        1 => {
                            let mut b = [0u8; MSG];
                            while s.can_recv() {
                                let k = s.recv_slice(&mut b).map_err(|e| e.to_string())?;
                                resp.extend_from_slice(&b[..k]);
                            }
                            if resp.len() >= MSG {
                                if resp[..MSG] != [0x52; MSG] {
                                    return Err("rr: wrong response bytes".into());
                                }
                                s.close();
                                *phase = 2;
                            } else if !s.is_active() {
                                return Err(format!("rr: connection ended in {}", s.state()));
                            }
                        }
                        2 if matches!(s.state(), tcp::State::TimeWait | tcp::State::Closed) => {
                            done += 1;
                            *phase = 3;
                        }
                        _ => {}
                    }
                }
            }
            serde_json_line(&[
                ("mode", "\"rr\"".into()),
                ("transactions", done.to_string()),
                ("seconds", format!("{:.3}", start.elapsed().as_secs_f64())),
                ("sim_cycles", (sim_cycles(shm) - c0).to_string()),
            ])
        }
        Mode::Bulk => {
            let h = socks.add(tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 64 * 1024]),
                tcp::SocketBuffer::new(vec![0; 64 * 1024]),
            ));
            socks
                .get_mut::<tcp::Socket>(h)
                .connect(iface.context(), server, 30000)
                .map_err(|e| format!("connect: {e}"))?;
            let start = Instant::now();
            let c0 = sim_cycles(shm);
            let mut sent = 0usize;
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                if t0.elapsed() > limit {
                    return Err(format!("bulk: {sent} of {bytes} bytes in {limit:?}"));
                }
                iface.poll(smol_now(t0), &mut phy, &mut socks);
                let s = socks.get_mut::<tcp::Socket>(h);
                while s.can_send() && sent < bytes {
                    let k = chunk.len().min(bytes - sent);
                    for (j, b) in chunk[..k].iter_mut().enumerate() {
                        *b = pattern(sent + j);
                    }
                    let w = s.send_slice(&chunk[..k]).map_err(|e| e.to_string())?;
                    sent += w;
                    if w < k {
                        break;
                    }
                }
                if sent == bytes && s.send_queue() == 0 && s.state() == tcp::State::Established {
                    s.close();
                }
                // Everything acknowledged, FIN included.
                if matches!(s.state(), tcp::State::TimeWait | tcp::State::FinWait2) {
                    break;
                }
                if !s.is_open() && sent < bytes {
                    return Err(format!("bulk: connection ended in {}", s.state()));
                }
            }
            let secs = start.elapsed().as_secs_f64();
            serde_json_line(&[
                ("mode", "\"bulk\"".into()),
                ("sim_cycles", (sim_cycles(shm) - c0).to_string()),
                ("bytes", bytes.to_string()),
                ("seconds", format!("{secs:.3}")),
                (
                    "megabits_per_second",
                    format!("{:.1}", bytes as f64 * 8.0 / secs / 1e6),
                ),
            ])
        }
    };
    // Let the last ACKs and FINs reach the server before the NIC goes.
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(300) {
        iface.poll(smol_now(t0), &mut phy, &mut socks);
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, Ordering::Relaxed);
    let st = sim
        .join()
        .map_err(|_| "simulator thread panicked".to_string())?
        .map_err(|e| e.to_string())?;
    println!(
        "{}, \"sim_cycles_per_second\": {:.0}}}",
        result.trim_end_matches('}'),
        st.cycles_per_second()
    );
    Ok(())
}

/// A flat JSON object from preformatted values.
fn serde_json_line(kv: &[(&str, String)]) -> String {
    let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    format!("{{{}}}", body.join(", "))
}

// ---------------------------------------------------------------- server

fn serve(shm: &str, stack: Stack, mode: Mode, n: usize, bytes: usize) -> Result<(), String> {
    let backend = ShmBackend::open(shm, Duration::from_secs(120)).map_err(|e| e.to_string())?;
    let cfg = NicConfig {
        queue_pairs: 1,
        rss_key: None,
        ..NicConfig::default()
    };
    let mut nic = Nic::open(Box::new(backend), cfg).map_err(|e| e.to_string())?;
    // Let the NIC fetch the RX descriptors before the clients start.
    std::thread::sleep(Duration::from_millis(50));
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let (steps, served) = match stack {
        Stack::Toe => serve_toe(&mut nic, mode, n, bytes, t0, false)?,
        Stack::ToeOffload => serve_toe(&mut nic, mode, n, bytes, t0, true)?,
        Stack::Smoltcp => serve_smol(&mut nic, mode, n, bytes, t0)?,
    };
    println!(
        "{{\"stack\": \"{stack:?}\", \"steps\": {steps}, \"served\": {served}, \"seconds\": {:.3}}}",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What one server has done.
#[derive(Default)]
struct Progress {
    /// rr: transactions whose connection the server closed.
    transactions: usize,
    /// bulk: bytes received and checked.
    bytes: usize,
    bad: bool,
}

fn finished(p: &Progress, mode: Mode, n: usize, bytes: usize) -> bool {
    match mode {
        Mode::Rr => p.transactions >= n,
        Mode::Bulk => p.bytes >= bytes,
    }
}

struct ToeServer {
    ep: Endpoint,
    listener: u32,
    events: Vec<Event>,
    buf: Vec<u8>,
}

fn serve_toe(
    nic: &mut Nic,
    mode: Mode,
    n: usize,
    bytes: usize,
    t0: Instant,
    offload: bool,
) -> Result<(u64, usize), String> {
    let mut cfg = EndpointConfig::new(0, NetConfig::new(SERVER_MAC, SERVER_IP, 24));
    cfg.tcp.recv_buffer = 64 * 1024;
    cfg.tcp.send_buffer = 64 * 1024;
    if offload {
        let d = nic.device();
        let key: [u8; 16] = *b"tcpbench-cookies";
        d.setup_configure(
            &toe_driver::offload::SetupParams::matching(&cfg.tcp, key)
                .with_local(cfg.net.mac.0, &[cfg.net.ip.octets()]),
        )
        .map_err(|e| e.to_string())?;
        d.listen_offload(None, PORT, true)
            .map_err(|e| e.to_string())?;
        cfg.est_filter = Some(d.est_filter().map_err(|e| e.to_string())?);
    }
    let mut ep = Endpoint::new(cfg, nic).map_err(|e| e.to_string())?;
    let listener = ep.listen(PORT, 128).map_err(|e| e.to_string())?;
    let mut s = ToeServer {
        ep,
        listener,
        events: Vec::new(),
        buf: vec![0; 64 * 1024],
    };
    let mut p = Progress::default();
    let mut steps = 0u64;
    let limit = Duration::from_secs(1200);
    while !finished(&p, mode, n, bytes) || s.ep.sockets() > 1 {
        let now = t0.elapsed();
        if now > limit {
            return Err(format!(
                "server: timed out ({} transactions, {} bytes)",
                p.transactions, p.bytes
            ));
        }
        // The gate: one volatile load, plus the timer deadline.
        if !nic.rx_ready(0) && s.ep.poll_at().is_none_or(|t| t > now) {
            std::hint::spin_loop();
            continue;
        }
        steps += 1;
        serve_step_toe(&mut s, nic, now, &mut p);
        if p.bad {
            return Err("server: received bytes differ from the stream sent".into());
        }
    }
    if offload && mode == Mode::Rr {
        // The comparison means something only if the NIC did the handshakes.
        let st = s.ep.tcp_stats();
        let d = nic.device();
        use toe_contract::regs::Counter;
        if (st.nic_established as usize) < n {
            return Err(format!(
                "setup offload: only {} of {n} connections came from the NIC (SYN-ACKs {}, \
                 SYNs to the host {}, martian {}; host SYNs {})",
                st.nic_established,
                d.counter(Counter::SetupSynAck),
                d.counter(Counter::SetupSynToHost),
                d.counter(Counter::SetupSynMartian),
                st.syn_received
            ));
        }
    }
    Ok((steps, p.transactions.max(p.bytes)))
}

#[inline(never)]
fn serve_step_toe(s: &mut ToeServer, nic: &mut Nic, now: Duration, p: &mut Progress) {
    s.ep.poll(nic, now, &mut s.events);
    for i in 0..s.events.len() {
        let e = s.events[i];
        if e.socket == s.listener {
            while let Ok(c) = s.ep.accept(s.listener) {
                let _ = c;
            }
            continue;
        }
        if e.ready.intersects(Ready::READABLE | Ready::CLOSED) {
            loop {
                match s.ep.read(e.socket, &mut s.buf) {
                    Ok(0) | Err(SockError::Reset | SockError::TimedOut | SockError::Refused) => {
                        let _ = s.ep.close(e.socket);
                        p.transactions += 1;
                        break;
                    }
                    Ok(k) => {
                        if k == MSG && s.buf[..MSG] == [0x51; MSG] {
                            let _ = s.ep.write(e.socket, &[0x52; MSG]);
                        } else {
                            for (j, b) in s.buf[..k].iter().enumerate() {
                                if *b != pattern(p.bytes + j) {
                                    p.bad = true;
                                }
                            }
                            p.bytes += k;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }
    s.ep.poll(nic, now, &mut s.events);
}

/// smoltcp's `phy::Device` over the driver's queue 0: frames are copied
/// out of and into DMA buffers (as the library's network layer does), and
/// transmitted with one doorbell per step.
struct NicPhy<'n> {
    nic: &'n mut Nic,
    rx: Vec<Packet>,
    frame: Vec<u8>,
    tx: Vec<Packet>,
}

struct Rx<'a>(&'a [u8]);
struct Tx<'a> {
    nic: &'a mut Nic,
    tx: &'a mut Vec<Packet>,
}

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut b = vec![0u8; len];
        let r = f(&mut b);
        if let Some(mut p) = self.nic.alloc(0) {
            self.nic.write(&mut p, 0, &b);
            self.tx.push(p);
        }
        r
    }
}

impl Device for NicPhy<'_> {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(&mut self, _t: SmolInstant) -> Option<(Rx<'_>, Tx<'_>)> {
        if self.rx.is_empty() {
            self.nic.rx_burst(0, &mut self.rx, 32);
            self.rx.reverse();
        }
        let p = self.rx.pop()?;
        self.frame.resize(p.len, 0);
        self.nic.read(&p, 0, &mut self.frame);
        self.nic.free(p);
        Some((
            Rx(&self.frame),
            Tx {
                nic: self.nic,
                tx: &mut self.tx,
            },
        ))
    }

    fn transmit(&mut self, _t: SmolInstant) -> Option<Tx<'_>> {
        if self.nic.pool_available(0) == 0 {
            return None;
        }
        Some(Tx {
            nic: self.nic,
            tx: &mut self.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c.max_burst_size = Some(32);
        c
    }
}

struct SmolServer<'n> {
    phy: NicPhy<'n>,
    iface: Interface,
    socks: SocketSet<'static>,
    handles: Vec<SocketHandle>,
    buf: Vec<u8>,
}

fn serve_smol(
    nic: &mut Nic,
    mode: Mode,
    n: usize,
    bytes: usize,
    t0: Instant,
) -> Result<(u64, usize), String> {
    let mut phy = NicPhy {
        nic,
        rx: Vec::with_capacity(32),
        frame: Vec::with_capacity(2048),
        tx: Vec::with_capacity(64),
    };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress(SERVER_MAC))),
        &mut phy,
        smol_now(t0),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(
            IpAddress::Ipv4(Ipv4Address::from(SERVER_IP)),
            24,
        ))
        .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    // A listening socket per connection that may be open at once.
    let handles: Vec<SocketHandle> = (0..16)
        .map(|_| {
            let mut s = tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 64 * 1024]),
                tcp::SocketBuffer::new(vec![0; 64 * 1024]),
            );
            s.listen(PORT).unwrap();
            socks.add(s)
        })
        .collect();
    let mut s = SmolServer {
        phy,
        iface,
        socks,
        handles,
        buf: vec![0; 64 * 1024],
    };
    let mut p = Progress::default();
    let mut steps = 0u64;
    let limit = Duration::from_secs(1200);
    loop {
        let busy = s.handles.iter().any(|h| {
            let st = s.socks.get::<tcp::Socket>(*h).state();
            st != tcp::State::Listen
        });
        if finished(&p, mode, n, bytes) && !busy {
            break;
        }
        let now = smol_now(t0);
        if t0.elapsed() > limit {
            return Err(format!(
                "server: timed out ({} transactions, {} bytes)",
                p.transactions, p.bytes
            ));
        }
        let due = s.iface.poll_at(now, &s.socks).is_some_and(|t| t <= now);
        if !s.phy.nic.rx_ready(0) && !due {
            std::hint::spin_loop();
            continue;
        }
        steps += 1;
        serve_step_smol(&mut s, now, &mut p);
        if p.bad {
            return Err("server: received bytes differ from the stream sent".into());
        }
    }
    Ok((steps, p.transactions.max(p.bytes)))
}

#[inline(never)]
fn serve_step_smol(s: &mut SmolServer<'_>, now: SmolInstant, p: &mut Progress) {
    s.iface.poll(now, &mut s.phy, &mut s.socks);
    for h in &s.handles {
        let sock = s.socks.get_mut::<tcp::Socket>(*h);
        while sock.can_recv() {
            let Ok(k) = sock.recv_slice(&mut s.buf) else {
                break;
            };
            if k == MSG && s.buf[..MSG] == [0x51; MSG] {
                let _ = sock.send_slice(&[0x52; MSG]);
            } else {
                for (j, b) in s.buf[..k].iter().enumerate() {
                    if *b != pattern(p.bytes + j) {
                        p.bad = true;
                    }
                }
                p.bytes += k;
            }
        }
        match sock.state() {
            tcp::State::CloseWait => sock.close(),
            tcp::State::Closed | tcp::State::TimeWait => {
                sock.abort();
                let _ = sock.listen(PORT);
                p.transactions += 1;
            }
            _ => {}
        }
    }
    s.iface.poll(now, &mut s.phy, &mut s.socks);
    s.phy.nic.tx_burst(0, &mut s.phy.tx);
}
