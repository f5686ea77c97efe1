//! The C ABI from C: examples/echo_server.c is compiled with the system C
//! compiler against the generated header, once with the static library
//! (run moving bytes with the zero-copy calls, `toe_read_in_place` and
//! `toe_write_in_place`) and once with the shared one (run with
//! `toe_read`/`toe_write` and the NIC's setup offload), and each build
//! serves smoltcp clients through the simulated NIC.
//!
//! The simulator runs in a thread of this process (the device); the C
//! program is the driver, in its own process, attached through the shared
//! file; the smoltcp clients are on the other end of the simulated wire.
//! Six clients with ports chosen so that RSS gives every queue at least one
//! flow send data of their own, check the echo byte for byte and close.
//! Three send 50 KB and read as the echo comes; the other three send 150 KB
//! and read nothing until all is sent, which is more than the server's send
//! buffer, their receive window and the server's per-connection buffer
//! together: the server must see short writes and a full buffer, stop
//! reading, and carry on when the client reads.  The server must exit 0 and
//! report 6 connections, the bytes, the flows per queue that RSS predicts,
//! and that backpressure happened.
use smoltcp::iface::{Config as IfConfig, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use toe_contract::rss;
use toe_driver::nic::DEFAULT_RSS_KEY;
use toe_sim::wire;
use toe_sim_support::peer::PortDevice;
use toe_sim_support::simdev::SimThread;

const PEER: [u8; 4] = [10, 7, 0, 1];
const US: [u8; 4] = [10, 7, 0, 2];
const US_MAC: &str = "02:00:00:00:07:02";
const PORT: u16 = 7;
const QUEUES: u32 = 4;
const CLIENTS: usize = 6;
/// Bytes a client sends: clients with an odd number are slow readers.
const LEN: usize = 50_000;
const SLOW_LEN: usize = 150_000;
/// What `cargo rustc -p toe-capi -- --print native-static-libs` prints
/// (Linux, glibc).
const NATIVE_LIBS: [&str; 7] = [
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// The two runs share the machine's cores with the simulator: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The directory with the libtoe.a and libtoe.so of this build: the test
/// binary's own (`<target>/<profile>/deps`).  `cargo test` compiles the
/// library once with all its crate types (staticlib, cdylib, rlib) into
/// `deps` before building the tests, but copies them up to
/// `<target>/<profile>` only on `cargo build`, so the copies there may be
/// stale.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .expect("test binary in <target>/<profile>/deps")
        .to_path_buf();
    let rlib = dir.join("libtoe.rlib");
    let built = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    for lib in ["libtoe.a", "libtoe.so"] {
        let path = dir.join(lib);
        assert!(
            path.is_file(),
            "{} missing: cargo builds it with the library (crate-type staticlib and cdylib) \
             before the tests; run `cargo test -p toe-capi`",
            path.display()
        );
        // The same rustc run writes the rlib this test is linked with.
        let (a, r) = (built(&path), built(&rlib));
        assert!(
            a.is_some() && r.is_some() && a.unwrap() + Duration::from_secs(60) >= r.unwrap(),
            "{} is older than {}: not from this build",
            path.display(),
            rlib.display()
        );
    }
    dir
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Static,
    Shared,
}

/// Compiles examples/echo_server.c; returns the program.
fn compile(link: Link) -> PathBuf {
    let lib_dir = lib_dir();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/echo_server.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("echo_server_{link:?}"));
    let mut cmd = Command::new("cc");
    cmd.args([
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-O1",
    ])
    .arg("-I")
    .arg(env!("OUT_DIR"))
    .arg(&src)
    .arg("-o")
    .arg(&out);
    match link {
        Link::Static => {
            cmd.arg(lib_dir.join("libtoe.a")).args(NATIVE_LIBS);
        }
        Link::Shared => {
            cmd.arg("-L").arg(&lib_dir).arg("-l:libtoe.so");
        }
    }
    let res = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `cc` ({e}): install gcc"));
    assert!(
        res.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        res.status,
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

/// The C server as a child process; killed if the test ends first.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stdout: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn spawn(program: &Path, device: &str, ld_path: Option<&Path>) -> Server {
        let mut cmd = Command::new(program);
        cmd.args([
            device,
            &QUEUES.to_string(),
            &format!("{}.{}.{}.{}/24", US[0], US[1], US[2], US[3]),
            US_MAC,
            &PORT.to_string(),
            &CLIENTS.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("LD_LIBRARY_PATH");
        if let Some(p) = ld_path {
            cmd.env("LD_LIBRARY_PATH", p);
            // The shared-library run has the NIC complete the handshakes.
            cmd.env("TOE_ECHO_SETUP_OFFLOAD", "1");
        } else {
            // The static run moves bytes with the zero-copy calls
            // (toe_read_in_place, toe_write_in_place).
            cmd.env("TOE_ECHO_IN_PLACE", "1");
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let all = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines() {
                let Ok(line) = line else { break };
                eprintln!("[echo_server] {line}");
                all.lock().unwrap().push_str(&line);
                all.lock().unwrap().push('\n');
                let _ = tx.send(line);
            }
        });
        let mut out_pipe = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out_pipe.read_to_string(&mut s);
            s
        });
        Server {
            child,
            lines,
            stderr,
            stdout: Some(stdout),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the "listening" line (the NIC is up, every endpoint
    /// listens).
    fn wait_ready(&mut self, limit: Duration) {
        let t = Instant::now();
        while t.elapsed() < limit {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if line.contains("listening on") => return,
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "echo_server exited ({status}) before listening:\n{}",
                    self.stderr()
                );
            }
        }
        panic!(
            "echo_server not listening after {limit:?}:\n{}",
            self.stderr()
        );
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("waiting for echo_server")
    }

    fn stdout(&mut self) -> String {
        self.stdout.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn queue_of_port(client_port: u16) -> usize {
    let hash = rss::toeplitz(&DEFAULT_RSS_KEY, &rss::tuple4(PEER, US, client_port, PORT));
    rss::queue_of(hash, &rss::spread_table(QUEUES))
}

/// Client ports: one flow for each queue first, then any.
fn client_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    let mut covered = [false; QUEUES as usize];
    for p in 41000u16..42000 {
        let q = queue_of_port(p);
        if !covered[q] {
            covered[q] = true;
            ports.push(p);
        }
        if ports.len() == QUEUES as usize {
            break;
        }
    }
    assert_eq!(
        ports.len(),
        QUEUES as usize,
        "RSS never picked some queue for 1000 ports"
    );
    let mut p = 42000u16;
    while ports.len() < CLIENTS {
        ports.push(p);
        p += 1;
    }
    ports
}

/// Distinct data per client (xorshift, seeded by the client's number).
fn client_data(i: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let len = if slow_reader(i) { SLOW_LEN } else { LEN };
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn slow_reader(i: usize) -> bool {
    i % 2 == 1
}

struct Client {
    h: SocketHandle,
    port: u16,
    data: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    closing: bool,
    /// Reads only once everything is sent.
    slow: bool,
}

fn run_echo_server(link: Link) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let program = compile(link);
    let lib_dir = lib_dir();
    match link {
        Link::Static => {
            // Needs no libtoe.so: runs (and complains about its arguments)
            // without a library path.
            let out = Command::new(&program).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{out:?}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
        }
        Link::Shared => {
            // Really linked to libtoe.so: without the library path the
            // loader cannot find it.
            let out = Command::new(&program)
                .env_remove("LD_LIBRARY_PATH")
                .output()
                .unwrap();
            assert!(!out.status.success());
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("libtoe.so"),
                "{out:?}"
            );
        }
    }

    let (w, port) = wire::channel();
    let tag = format!("capi{link:?}");
    let sim = SimThread::start(&tag, w, |_| {});
    let device = format!("sim:{}", sim.path.display());
    let ld = match link {
        Link::Static => None,
        Link::Shared => Some(lib_dir.as_path()),
    };
    let mut server = Server::spawn(&program, &device, ld);
    server.wait_ready(Duration::from_secs(120));

    let t0 = Instant::now();
    let now = |t0: Instant| SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
    let mut dev = PortDevice { port };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress([
            2, 0, 0, 0, 7, 1,
        ]))),
        &mut dev,
        now(t0),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(PEER)), 24))
            .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    let ports = client_ports();
    let mut clients: Vec<Client> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let h = socks.add(tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 16 * 1024]),
                tcp::SocketBuffer::new(vec![0; 16 * 1024]),
            ));
            socks
                .get_mut::<tcp::Socket>(h)
                .connect(
                    iface.context(),
                    (IpAddress::Ipv4(Ipv4Address::from(US)), PORT),
                    p,
                )
                .unwrap();
            Client {
                h,
                port: p,
                data: client_data(i),
                sent: 0,
                got: Vec::new(),
                closing: false,
                slow: slow_reader(i),
            }
        })
        .collect();

    let limit = Duration::from_secs(400);
    let mut buf = vec![0u8; 8192];
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        let mut busy = iface.poll(now(t0), &mut dev, &mut socks) != PollResult::None;
        for c in clients.iter_mut() {
            let s = socks.get_mut::<tcp::Socket>(c.h);
            if s.can_send() && c.sent < c.data.len() {
                let k = s.send_slice(&c.data[c.sent..]).unwrap();
                c.sent += k;
                busy |= k > 0;
            }
            while s.can_recv() && (!c.slow || c.sent == c.data.len()) {
                let k = s.recv_slice(&mut buf).unwrap();
                assert!(
                    c.got.len() + k <= c.data.len(),
                    "client port {}: more bytes echoed than sent",
                    c.port
                );
                assert!(
                    buf[..k] == c.data[c.got.len()..c.got.len() + k],
                    "client port {}: echo differs from what was sent, within bytes {}..{}",
                    c.port,
                    c.got.len(),
                    c.got.len() + k
                );
                c.got.extend_from_slice(&buf[..k]);
                busy = true;
            }
            if c.got.len() == c.data.len() && !c.closing {
                s.close();
                c.closing = true;
            }
        }
        let all_closed = clients.iter().all(|c| {
            c.closing
                && matches!(
                    socks.get::<tcp::Socket>(c.h).state(),
                    tcp::State::TimeWait | tcp::State::Closed
                )
        });
        if exited.is_none() {
            if let Some(status) = server.try_wait() {
                exited = Some((status, Instant::now()));
            }
        }
        if let Some((status, at)) = exited {
            assert!(
                status.success(),
                "echo_server failed ({status}):\n{}",
                server.stderr()
            );
            if all_closed {
                break;
            }
            // The server exits after its connections finished closing, so
            // the clients have the server's FIN by then (or very soon).
            assert!(
                at.elapsed() < Duration::from_secs(10),
                "echo_server exited but client states are {:?}",
                clients
                    .iter()
                    .map(|c| socks.get::<tcp::Socket>(c.h).state())
                    .collect::<Vec<_>>()
            );
        }
        if t0.elapsed() > limit {
            let progress: Vec<String> = clients
                .iter()
                .map(|c| {
                    format!(
                        "port {} (queue {}): sent {} echoed {} state {}",
                        c.port,
                        queue_of_port(c.port),
                        c.sent,
                        c.got.len(),
                        socks.get::<tcp::Socket>(c.h).state()
                    )
                })
                .collect();
            panic!(
                "not done after {limit:?}:\n{}\nserver stderr:\n{}",
                progress.join("\n"),
                server.stderr()
            );
        }
        if !busy {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let elapsed = t0.elapsed();

    let mut total = 0;
    for c in &clients {
        assert_eq!(c.sent, c.data.len());
        assert!(c.got == c.data, "client port {}", c.port);
        total += c.data.len();
    }
    let stdout = server.stdout();
    let mut per_queue = vec![0usize; QUEUES as usize];
    for &p in &ports {
        per_queue[queue_of_port(p)] += 1;
    }
    assert!(per_queue.iter().all(|n| *n > 0), "{per_queue:?}");
    let expected = format!(
        "served {CLIENTS} connections, {total} bytes echoed, accepted per queue: {}; \
         backpressure: ",
        per_queue
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bad = || format!("summary line of echo_server: {stdout:?}, expected {expected:?}...");
    let rest = stdout
        .strip_prefix(&expected)
        .unwrap_or_else(|| panic!("{}", bad()));
    let counts: Vec<u64> = rest
        .strip_suffix(" full buffers\n")
        .and_then(|r| r.split_once(" short writes, "))
        .and_then(|(a, b)| Some(vec![a.parse().ok()?, b.parse().ok()?]))
        .unwrap_or_else(|| panic!("{}", bad()));
    assert!(
        counts[0] > 0 && counts[1] > 0,
        "the slow readers caused no backpressure in the server: {stdout:?}"
    );
    println!("{link:?} build: {} in {elapsed:.1?}", stdout.trim_end());
    if link == Link::Shared {
        assert!(
            server
                .stderr()
                .contains("the NIC completes the handshakes (setup offload)"),
            "the shared-library run did not turn the setup offload on:\n{}",
            server.stderr()
        );
    }
    let stats = sim.stop();
    println!(
        "simulator: {} cycles, {} frames in, {} frames out, {} register accesses",
        stats.cycles,
        stats.frames_in,
        stats.frames_out,
        stats.register_reads + stats.register_writes
    );
    assert_eq!(
        stats.violations, 0,
        "bus protocol violations in the simulator"
    );
    // Every byte crossed the simulated NIC both ways, in segments of at
    // most 1460 bytes.
    let min_frames = total.div_ceil(1460) as u64;
    assert!(
        stats.frames_in >= min_frames && stats.frames_out >= min_frames,
        "{} frames in and {} out through the NIC, at least {min_frames} each expected",
        stats.frames_in,
        stats.frames_out
    );
}

#[test]
fn c_echo_server_linked_statically_serves_smoltcp_clients() {
    run_echo_server(Link::Static);
}

#[test]
fn c_echo_server_linked_to_the_shared_library_serves_smoltcp_clients() {
    run_echo_server(Link::Shared);
}
