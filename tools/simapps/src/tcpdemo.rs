//! Part 3 of `cargo xtask demo`: the host TCP library serving real TCP
//! through the simulated NIC.
//!
//! One stack instance per queue pair (`toe_driver::socket::Endpoint`)
//! serves a tiny HTTP/1.0-like protocol on port 80: a client sends
//! `GET <n>\r\n`, the server answers with `n` bytes of a known pattern and
//! closes (so the server side goes through FIN_WAIT and TIME_WAIT).  The
//! clients are smoltcp, an independent TCP stack, on the simulated wire;
//! they check every byte.  RSS spreads the connections over the queues; the
//! summary says how many each instance served.
use smoltcp::iface::{Config as IfConfig, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::time::{Duration, Instant};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig};
use toe_driver::socket::{Endpoint, EndpointConfig, Event, Neighbours, Ready, SockError};
use toe_sim_support::peer::PortDevice;
use toe_sim_support::simdev::SimThread;

const CLIENT: [u8; 4] = [10, 7, 0, 1];
const SERVER: [u8; 4] = [10, 7, 0, 2];
const PORT: u16 = 80;

/// Byte `i` of a response.
fn body(i: usize) -> u8 {
    (i as u8).wrapping_mul(7) ^ (i >> 8) as u8
}

/// Response length of transaction `k` (64 bytes to about 96 KiB).
fn length_of(k: usize) -> usize {
    64 + (k * 7919) % (96 * 1024)
}

/// A server connection: the request read so far, then the response left.
struct Served {
    socket: u32,
    request: Vec<u8>,
    left: Option<(usize, usize)>,
}

/// Runs `transactions` requests, `concurrency` at a time.  Returns whether
/// every response arrived intact and every connection closed cleanly.
pub fn run(transactions: usize, concurrency: usize) -> bool {
    println!(
        "\n--- part 3: the host TCP library serving TCP through the simulated NIC (smoltcp clients),\n    the NIC completing every handshake (setup offload: SYN cookies, no SYN reaches the host) ---"
    );
    let (w, port) = toe_sim::wire::channel();
    let sim = SimThread::start("demotcp", w, |_| {});
    let mut nic = match Nic::open(Box::new(sim.backend()), NicConfig::default()) {
        Ok(n) => n,
        Err(e) => {
            println!("driver: {e}");
            return false;
        }
    };
    sim.settle(2000);
    let board = Neighbours::new();
    let mut eps: Vec<Endpoint> = Vec::new();
    for q in 0..nic.queue_pairs() {
        let mut cfg = EndpointConfig::new(q, NetConfig::new([2, 0, 0, 0, 7, 2], SERVER, 24));
        cfg.neighbours = Some(board.clone());
        // A short TIME_WAIT so the demo ends with an empty table.
        cfg.tcp.msl = Duration::from_millis(250);
        match Endpoint::new(cfg, &nic) {
            Ok(e) => eps.push(e),
            Err(e) => {
                println!("endpoint: {e}");
                return false;
            }
        }
    }
    // The NIC answers the SYNs and hands the endpoints established
    // connections (docs/setup.md); a real server draws the key from getrandom.
    let setup = toe_driver::offload::SetupParams::matching(
        &toe_driver::tcp::conn::Config::default(),
        *b"demo-cookie-key!",
    )
    .with_local([2, 0, 0, 0, 7, 2], &[SERVER]);
    if let Err(e) = nic
        .device()
        .setup_configure(&setup)
        .and_then(|()| nic.device().listen_offload(None, PORT, true).map(|_| ()))
    {
        println!("setup offload: {e}");
        return false;
    }
    let filter = nic.device().est_filter().expect("the setup block is there");
    for e in eps.iter_mut() {
        e.set_est_filter(Some(filter.clone()));
    }
    let listeners: Vec<u32> = eps
        .iter_mut()
        .map(|e| e.listen(PORT, 64).expect("listen on a fresh endpoint"))
        .collect();
    let t0 = Instant::now();
    let now = || SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
    let mut dev = PortDevice { port };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress([
            2, 0, 0, 0, 7, 1,
        ]))),
        &mut dev,
        now(),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(CLIENT)), 24))
            .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    // Client slots: (socket, transaction, bytes received, request sent).
    let mut slots: Vec<(SocketHandle, Option<usize>, Vec<u8>, bool)> = (0..concurrency)
        .map(|_| {
            let h = socks.add(tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 64 * 1024]),
                tcp::SocketBuffer::new(vec![0; 4096]),
            ));
            (h, None, Vec::new(), false)
        })
        .collect();
    let (mut started, mut good, mut bad) = (0usize, 0usize, 0usize);
    let mut bytes = 0usize;
    let mut served: Vec<Vec<Served>> = (0..eps.len()).map(|_| Vec::new()).collect();
    let mut per_queue = vec![0usize; eps.len()];
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); eps.len()];
    let mut buf = vec![0u8; 16 * 1024];
    let limit = Duration::from_secs(300);
    while (good + bad < transactions || eps.iter().any(|e| e.connections() > 0))
        && t0.elapsed() < limit
    {
        // Clients.
        iface.poll(now(), &mut dev, &mut socks);
        for (h, k, got, asked) in slots.iter_mut() {
            let s = socks.get_mut::<tcp::Socket>(*h);
            match *k {
                None if started < transactions => {
                    s.abort();
                    let cx = iface.context();
                    if s.connect(
                        cx,
                        (IpAddress::Ipv4(Ipv4Address::from(SERVER)), PORT),
                        20000 + (started % 40000) as u16,
                    )
                    .is_ok()
                    {
                        *k = Some(started);
                        started += 1;
                        got.clear();
                        *asked = false;
                    }
                }
                Some(t) => {
                    if !*asked && s.may_send() {
                        let _ = s.send_slice(format!("GET {}\r\n", length_of(t)).as_bytes());
                        *asked = true;
                    }
                    while s.can_recv() {
                        let n = s.recv_slice(&mut buf).unwrap_or(0);
                        got.extend_from_slice(&buf[..n]);
                    }
                    if s.state() == tcp::State::CloseWait {
                        s.close();
                    }
                    if matches!(s.state(), tcp::State::Closed | tcp::State::TimeWait)
                        || (!s.is_open())
                    {
                        let ok = got.len() == length_of(t)
                            && got.iter().enumerate().all(|(i, b)| *b == body(i));
                        if ok {
                            good += 1;
                            bytes += got.len();
                        } else {
                            bad += 1;
                        }
                        *k = None;
                    }
                }
                None => {}
            }
        }
        // Servers: one event loop per queue's instance.
        let el = t0.elapsed();
        for (q, ep) in eps.iter_mut().enumerate() {
            ep.poll(&mut nic, el, &mut events[q]);
            for e in events[q].iter() {
                if e.socket == listeners[q] {
                    while let Ok(s) = ep.accept(listeners[q]) {
                        per_queue[q] += 1;
                        served[q].push(Served {
                            socket: s,
                            request: Vec::new(),
                            left: None,
                        });
                    }
                    continue;
                }
                let Some(c) = served[q].iter_mut().find(|c| c.socket == e.socket) else {
                    continue;
                };
                if e.ready.contains(Ready::READABLE) && c.left.is_none() {
                    while let Ok(n) = ep.read(c.socket, &mut buf) {
                        if n == 0 {
                            break;
                        }
                        c.request.extend_from_slice(&buf[..n]);
                    }
                    let line = String::from_utf8_lossy(&c.request).to_string();
                    if let Some(req) = line.strip_suffix("\r\n") {
                        let n = req
                            .strip_prefix("GET ")
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        c.left = Some((0, n));
                        let _ = ep.set_interest(c.socket, Ready::WRITABLE);
                    }
                }
            }
            // Responses, as far as the send buffers take them
            // (backpressure); then close.
            served[q].retain_mut(|c| {
                let Some((at, n)) = c.left.as_mut() else {
                    return true;
                };
                while *at < *n {
                    let chunk: Vec<u8> = (*at..(*at + 8192).min(*n)).map(body).collect();
                    match ep.write(c.socket, &chunk) {
                        Ok(w) => *at += w,
                        Err(SockError::WouldBlock) => return true,
                        Err(_) => break,
                    }
                }
                let _ = ep.close(c.socket);
                false
            });
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let lingering: usize = eps.iter().map(|e| e.connections()).sum();
    let st: Vec<_> = eps.iter().map(|e| e.stats()).collect();
    let tcp: Vec<_> = eps.iter().map(|e| e.tcp_stats()).collect();
    let counters = nic.device().counters();
    drop(nic);
    let dev = sim.stop();
    println!(
        "{transactions} transactions ({concurrency} at a time): {good} responses intact, {bad} wrong or cut short; {bytes} response bytes in {wall:.2} s"
    );
    println!(
        "connections per queue (RSS): {}; left in the tables at the end: {lingering}",
        per_queue
            .iter()
            .enumerate()
            .map(|(q, n)| format!("q{q} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "stack: {} segments in, {} malformed, {} RST sent, {} SYNs refused for a full backlog; sockets: {} accepted, {} closed, {} waits for TX room",
        tcp.iter().map(|t| t.rx_segments).sum::<u64>(),
        tcp.iter().map(|t| t.rx_bad).sum::<u64>(),
        tcp.iter().map(|t| t.rst_sent).sum::<u64>(),
        tcp.iter().map(|t| t.syn_dropped_full).sum::<u64>(),
        st.iter().map(|s| s.accepted).sum::<u64>(),
        st.iter().map(|s| s.closed).sum::<u64>(),
        st.iter().map(|s| s.tx_waits).sum::<u64>(),
    );
    let from_nic: u64 = tcp.iter().map(|t| t.nic_established).sum();
    let host_syns: u64 = tcp.iter().map(|t| t.syn_received).sum();
    let synacks = counters
        .iter()
        .find(|(k, _)| *k == "setup_synack")
        .map_or(0, |(_, v)| *v);
    println!(
        "setup offload: {from_nic} of {transactions} connections established by the NIC ({synacks} SYN-ACKs sent by the NIC, {host_syns} SYNs seen by the host)"
    );
    let nz: Vec<String> = counters
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("NIC counters: {}", nz.join(", "));
    println!(
        "simulated device: {} frames in, {} out; {:.2} M cycles/s; {} violations",
        dev.frames_in,
        dev.frames_out,
        dev.cycles_per_second() / 1e6,
        dev.violations
    );
    let ok = good == transactions
        && bad == 0
        && lingering == 0
        && dev.violations == 0
        && tcp.iter().all(|t| t.rx_bad == 0)
        && from_nic == transactions as u64
        && host_syns == 0;
    println!("part 3: {}", if ok { "OK" } else { "MISMATCH" });
    ok
}
