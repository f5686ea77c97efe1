//! The key-value server (tools/apps/kv, `toe-kv`) on the Verilated NIC, driven
//! by the real Redis tools from a Linux network namespace over TAP, and
//! compared with Debian's `redis-server` on Linux's own stack.
//!
//! ```text
//!   namespace toe-<pid>-<n>             this process
//!   redis-cli, redis-benchmark,     TAP --- SimThread --- NicControl + 4 threads,
//!   raw sockets 10.79.n.1/24                (Verilated)   one Endpoint per queue pair
//!                                                         10.79.n.2: 6379 setup offload on
//!                                                                    6380 setup offload off
//!   namespace toe-<pid>-<m>: redis-server 127.0.0.1:6379 (the reference)
//! ```
//! * `redis_cli_and_raw_protocol_match_redis_server`: a script of
//!   redis-cli commands (PING, ECHO, SET with NX/XX/GET/EX, GET, INCR,
//!   INCRBY, DECR, EXPIRE/TTL, MSET/MGET, EXISTS, DEL, DBSIZE, CONFIG GET,
//!   an unknown command, wrong arity, a syntax error, a non-integer INCR,
//!   FLUSHALL, QUIT) prints byte for byte what it prints against
//!   redis-server, through both listeners (setup offload on and off); raw
//!   TCP exchanges (pipelined multibulk and inline requests, quoting, a
//!   100 KB value, protocol errors that close the connection), whole and
//!   cut into 3-byte writes, get the same bytes back as from redis-server;
//!   the offloaded listener's connections were all set up by the NIC and
//!   the other's by the host library; INFO shows the offload section;
//!   writes beyond the 1 MiB memory limit get Redis's `-OOM` error.
//! * `redis_benchmark_keepalive_and_short_connections`: redis-benchmark
//!   `-t ping,set,get` with keep-alive, pipelined (`-P 16`), then with
//!   `-k 0` (a connection per request) through each listener: exit status
//!   0 (it exits on any error reply), a CSV row per test, no error reply or
//!   protocol error counted by the server, the handshakes where the switch
//!   says (NIC or host), and connections served on every queue.
//!
//! Like tests/tap.rs these need CAP_NET_ADMIN: without it they print why
//! and pass; with it (CI runs as root) they must run, and missing Redis
//! tools fail them with the packages to install.
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};
use toe_kv::{KvConfig, Listener, Running};
use toe_tests::netns::{self, Netns};
use toe_tests::redis_rig::{self, benchmark, cli, exchange, RefRedis};
use toe_tests::simdev::SimThread;
use toe_tests::tap_bench::TapBench;

/// Subnet 10.79.n.0/24.
const NET: u8 = 79;
/// The listener whose handshakes the NIC completes.
const PORT_NIC: u16 = 6379;
/// The listener whose handshakes the host library runs.
const PORT_HOST: u16 = 6380;
/// The reference's port (on its own loopback).
const PORT_REF: u16 = 6379;
/// The server's memory limit.
const MAXMEMORY: usize = 1 << 20;

/// The KV server on the TAP bench.  Fields drop in order: server (stopped),
/// simulator, namespace.
struct KvRig {
    running: Option<Running>,
    _sim: SimThread,
    ns: Netns,
    ip: Ipv4Addr,
}

impl KvRig {
    fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    /// Stops the server; its instances' errors, if any.
    fn stop(mut self) -> Result<(), String> {
        self.running.take().expect("running").stop()
    }
}

impl Drop for KvRig {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = r.stop();
        }
    }
}

/// The server on a fresh TAP bench, or None (reason printed) without
/// CAP_NET_ADMIN.
fn kv_rig(tag: &str) -> Option<KvRig> {
    if !netns::tap_tests_enabled() {
        return None;
    }
    if let Err(e) = redis_rig::redis_tools_present() {
        panic!("the Redis tests cannot run although we have CAP_NET_ADMIN: {e}");
    }
    let TapBench {
        nic,
        sim,
        ns,
        nic_ip,
        nic_mac,
        ..
    } = TapBench::builder(tag, NET).mtu(1500).build()?;
    let mut cfg = KvConfig::new(nic_mac, nic_ip.octets(), 24);
    cfg.listeners = vec![
        Listener {
            port: PORT_NIC,
            setup_offload: true,
            teardown_offload: false,
        },
        Listener {
            port: PORT_HOST,
            setup_offload: false,
            teardown_offload: false,
        },
    ];
    // The server closes first after QUIT and protocol errors: a short
    // TIME_WAIT keeps the tables small.
    cfg.msl = Some(Duration::from_millis(500));
    cfg.cookie_key = Some(*b"kv-test-cookie-k");
    // Small enough for a test to fill (the 100 KB raw exchange fits).
    cfg.maxmemory = MAXMEMORY;
    let running = toe_kv::start(nic, cfg).unwrap_or_else(|e| panic!("start the KV server: {e}"));
    Some(KvRig {
        running: Some(running),
        _sim: sim,
        ns,
        ip: nic_ip,
    })
}

/// The redis-cli script, run in order on a fresh key space.
const SCRIPT: &[&[&str]] = &[
    &["FLUSHALL"],
    &["PING"],
    &["PING", "hello world"],
    &["ECHO", "a \"quoted\" b"],
    &["SET", "k", "v"],
    &["GET", "k"],
    &["GET", "missing"],
    &["SET", "k", "w", "NX"],
    &["SET", "k", "w", "XX", "GET"],
    &["GET", "k"],
    &["SET", "k", "v", "NX", "XX"],
    &["SET", "k", "v", "EX", "0"],
    &["SET", "k", "v", "EX", "ten"],
    &["INCR", "n"],
    &["INCRBY", "n", "41"],
    &["DECR", "n"],
    &["INCR", "k"],
    &["SET", "t", "v", "EX", "100"],
    &["TTL", "t"],
    &["EXPIRE", "k", "50"],
    &["TTL", "k"],
    &["EXPIRE", "k", "10", "NX"],
    &["TTL", "missing"],
    &["EXPIRE", "missing", "10"],
    &["MSET", "a", "1", "b", "2"],
    &["MGET", "a", "missing", "b"],
    &["MSET", "a"],
    &["EXISTS", "a", "b", "missing", "a"],
    &["DEL", "a", "b", "missing"],
    &["DBSIZE"],
    &["NOSUCHCOMMAND", "x", "y"],
    &["GET"],
    &["CONFIG", "GET", "appendonly"],
    &["CONFIG", "GET", "save"],
    &["FLUSHALL"],
    &["DBSIZE"],
    &["QUIT"],
];

/// Raw requests (each on its own connection; each ends with QUIT or a
/// protocol error, after which the server closes).
fn raw_cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut big = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$100000\r\n".to_vec();
    big.extend((0..100_000u32).map(|i| b'a' + (i % 26) as u8));
    big.extend_from_slice(b"\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n*1\r\n$4\r\nQUIT\r\n");
    vec![
        (
            "pipelined multibulk and inline",
            b"PING\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$3\r\n1 2\r\nGET x\r\n\
              SET y \"a\\x00b\\r\\n\"\r\nGET y\r\n\r\n*0\r\nset 'z' 'it\\'s'\r\nmget x y z\r\nQUIT\r\n"
                .to_vec(),
        ),
        ("a 100 KB value", big),
        (
            "invalid bulk length",
            b"PING\r\n*1\r\n$x\r\nPING\r\n".to_vec(),
        ),
        (
            "unbalanced quotes",
            b"PING\r\nECHO \"abc\r\nPING\r\n".to_vec(),
        ),
        ("expected '$'", b"*1\r\n:1\r\nPING\r\n".to_vec()),
        (
            "invalid multibulk length",
            b"*1x\r\n$4\r\nPING\r\n".to_vec(),
        ),
        ("QUIT then more", b"*1\r\n$4\r\nQUIT\r\nPING\r\n".to_vec()),
    ]
}

#[test]
fn redis_cli_and_raw_protocol_match_redis_server() {
    let Some(rig) = kv_rig("kvcli") else {
        return;
    };
    let reference = RefRedis::start(PORT_REF).unwrap_or_else(|e| panic!("{e}"));
    let ours = rig.ip.to_string();
    let t0 = Instant::now();
    // The reference's transcript first: the oracle.
    let want: Vec<_> = SCRIPT
        .iter()
        .map(|args| cli(&reference.ns, "127.0.0.1", PORT_REF, args))
        .collect();
    // A few replies spelled out, so that the oracle is checked too.
    assert_eq!(want[1].stdout, "PONG\n");
    assert_eq!(want[5].stdout, "\"v\"\n");
    assert_eq!(want[6].stdout, "(nil)\n");
    assert_eq!(want[13].stdout, "(integer) 1\n");
    assert!(
        want[30]
            .stdout
            .starts_with("(error) ERR unknown command 'NOSUCHCOMMAND'"),
        "{:?}",
        want[30]
    );
    let mut connections = [0u64; 2];
    for (pi, port) in [PORT_NIC, PORT_HOST].into_iter().enumerate() {
        for (args, want) in SCRIPT.iter().zip(&want) {
            let got = cli(&rig.ns, &ours, port, args);
            connections[pi] += 1;
            assert_eq!(
                (&got.stdout, got.status),
                (&want.stdout, want.status),
                "redis-cli {args:?} on port {port}: ours (left) and redis-server (right) differ; \
                 stderr ours {:?}, theirs {:?}",
                got.stderr,
                want.stderr
            );
        }
    }
    println!(
        "redis-cli: {} commands, each through both listeners, same output as redis-server ({:.1} s)",
        SCRIPT.len(),
        t0.elapsed().as_secs_f64()
    );
    let limit = Duration::from_secs(30);
    for (name, req) in raw_cases() {
        let theirs = exchange(
            &reference.ns,
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, PORT_REF),
            req.clone(),
            req.len(),
            limit,
        )
        .unwrap_or_else(|e| panic!("{name}: redis-server: {e}"));
        for (pi, port) in [PORT_NIC, PORT_HOST].into_iter().enumerate() {
            for chunk in [req.len(), 3] {
                if chunk == 3 && req.len() > 1000 {
                    continue;
                }
                let got = exchange(
                    &rig.ns,
                    SocketAddrV4::new(rig.ip, port),
                    req.clone(),
                    chunk,
                    limit,
                )
                .unwrap_or_else(|e| panic!("{name}: ours on port {port}: {e}"));
                connections[pi] += 1;
                assert!(
                    got == theirs,
                    "{name} on port {port} in {chunk}-byte writes: ours {:?}, redis-server {:?}",
                    String::from_utf8_lossy(&got[..got.len().min(300)]),
                    String::from_utf8_lossy(&theirs[..theirs.len().min(300)])
                );
            }
        }
    }
    println!(
        "raw exchanges: {} cases, same bytes as redis-server",
        raw_cases().len()
    );
    rig.running().refresh();
    // INFO's offload section: the switches and the NIC's counters.
    let info = cli(&rig.ns, &ours, PORT_NIC, &["INFO", "offload"]).stdout;
    for want in [
        "# Offload",
        "listener_6379:setup_offload=on,teardown_offload=off",
        "listener_6380:setup_offload=off,teardown_offload=off",
        "nic_setup_established:",
        "nic_rx_frames:",
    ] {
        assert!(info.contains(want), "INFO offload lacks {want:?}:\n{info}");
    }
    connections[0] += 1;
    let t = rig.running().shared.totals();
    let nic = rig.running().nic_counters();
    let nic_est = nic
        .iter()
        .find(|(n, _)| *n == "setup_established")
        .map_or(0, |(_, v)| *v);
    println!("server: {t:?}\nNIC: {nic:?}");
    assert_eq!(t.accepted, connections[0] + connections[1]);
    assert_eq!(
        t.nic_established, connections[0],
        "every connection to the offloaded listener set up by the NIC"
    );
    assert!(nic_est >= connections[0], "NIC setup_established {nic_est}");
    // The rest by the host library, which saw at least one SYN for each
    // (more if a client retransmitted one).
    assert!(
        t.host_syns >= connections[1],
        "{} SYNs at the host for {} connections",
        t.host_syns,
        connections[1]
    );
    // Four protocol-error cases, through both listeners, whole and cut.
    assert_eq!(t.protocol_errors, 4 * 2 * 2);
    // The memory limit: 100 KB values until writes are refused with
    // Redis's noeviction error; deleting makes room again.
    let mut fill = Vec::new();
    for i in 0..16 {
        fill.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$5\r\nfill{:x}\r\n$100000\r\n", i).as_bytes(),
        );
        fill.extend(std::iter::repeat_n(b'f', 100_000));
        fill.extend_from_slice(b"\r\n");
    }
    fill.extend_from_slice(b"DEL fill0 fill1\r\nSET after-del v\r\nQUIT\r\n");
    let got = exchange(
        &rig.ns,
        SocketAddrV4::new(rig.ip, PORT_NIC),
        fill,
        1 << 20,
        limit,
    )
    .unwrap_or_else(|e| panic!("filling the store: {e}"));
    let got = String::from_utf8_lossy(&got).into_owned();
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    let (ok, refused) = (got.matches("+OK\r\n").count(), got.matches(oom).count());
    // 16 SETs, the SET after DEL, QUIT; the limit holds about ten values.
    assert!(
        (5..=12).contains(&(ok - 2)) && ok - 2 + refused == 16,
        "{ok} OK and {refused} OOM replies: {got:?}"
    );
    assert!(
        got.ends_with(":2\r\n+OK\r\n+OK\r\n"),
        "DEL, SET, QUIT: {got:?}"
    );
    let used = rig.running().shared.store.lock().unwrap().used_memory();
    assert!(used <= MAXMEMORY, "{used} bytes counted, limit {MAXMEMORY}");
    println!(
        "memory limit: {} values stored, {refused} writes refused, {used} bytes counted",
        ok - 2
    );
    rig.stop().unwrap_or_else(|e| panic!("{e}"));
}

/// Requests per test of the keep-alive run (TOE_KV_N overrides).
fn keepalive_n() -> String {
    std::env::var("TOE_KV_N").unwrap_or_else(|_| "2000".into())
}

/// Requests per test of the short-connection runs (TOE_KV_SHORT_N
/// overrides).
fn short_n() -> String {
    std::env::var("TOE_KV_SHORT_N").unwrap_or_else(|_| "2000".into())
}

#[test]
fn redis_benchmark_keepalive_and_short_connections() {
    let Some(rig) = kv_rig("kvbench") else {
        return;
    };
    let ours = rig.ip.to_string();
    let limit = Duration::from_secs(120);
    let tests = "ping,set,get";
    let report = |what: &str, r: &redis_rig::BenchRun| {
        for row in &r.rows {
            println!(
                "{what}: {:<12} {:>9.0} requests/s, avg {:.2} ms, p99 {:.2} ms",
                row.test, row.rps, row.avg_latency_ms, row.p99_latency_ms
            );
        }
        println!("{what}: {:.1} s wall", r.wall.as_secs_f64());
    };
    // The server's counts once they stop moving: a client of a -k 0 run
    // may open one more connection as the benchmark exits, which must be
    // counted with that run, not the next.
    let stats = |rig: &KvRig| {
        let t0 = Instant::now();
        let mut last = rig.running().shared.totals();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let t = rig.running().shared.totals();
            if (t == last && t.active == 0) || t0.elapsed() > Duration::from_secs(5) {
                rig.running().refresh();
                return t;
            }
            last = t;
        }
    };
    let n = keepalive_n();
    let r = benchmark(
        &rig.ns,
        &ours,
        PORT_NIC,
        &["-n", &n, "-c", "10", "-t", tests],
        limit,
    )
    .unwrap_or_else(|e| panic!("keep-alive: {e}"));
    report("keep-alive, setup offload", &r);
    assert_eq!(r.rows.len(), 4, "PING_INLINE, PING_MBULK, SET, GET");
    let after_keep = stats(&rig);
    let n_num: u64 = n.parse().expect("TOE_KV_N is a number");
    assert!(
        after_keep.commands >= 4 * n_num,
        "{} commands counted, {} requests sent",
        after_keep.commands,
        4 * n_num
    );
    // Pipelined: 16 requests in flight per connection.
    let r = benchmark(
        &rig.ns,
        &ours,
        PORT_NIC,
        &["-n", &n, "-c", "10", "-P", "16", "-t", "set,get"],
        limit,
    )
    .unwrap_or_else(|e| panic!("pipelined: {e}"));
    report("keep-alive, -P 16", &r);
    assert_eq!(r.rows.len(), 2, "SET, GET");
    let after_keep = stats(&rig);
    assert!(after_keep.commands >= 6 * n_num);
    let short = short_n();
    let s_num: u64 = short.parse().expect("TOE_KV_SHORT_N is a number");
    let mut before = after_keep;
    for (port, offload) in [(PORT_NIC, true), (PORT_HOST, false)] {
        let what = format!("-k 0, setup offload {}", if offload { "on" } else { "off" });
        let r = benchmark(
            &rig.ns,
            &ours,
            port,
            &["-n", &short, "-c", "10", "-k", "0", "-t", tests],
            limit,
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        report(&what, &r);
        assert_eq!(r.rows.len(), 4);
        let now = stats(&rig);
        // A connection per request, and one for the CONFIG GETs.
        let conns = now.accepted - before.accepted;
        assert!(conns >= 4 * s_num, "{what}: {conns} connections");
        let (nic, host) = (
            now.nic_established - before.nic_established,
            now.host_syns - before.host_syns,
        );
        println!("{what}: {conns} connections, {nic} set up by the NIC, {host} by the host");
        // The host counts every SYN that reaches a listener, a client's
        // retransmission included: at least one per connection; a
        // connection the client resets before it is accepted (as the
        // benchmark exits) is counted by the NIC or the host but not
        // accepted.
        if offload {
            assert!(
                host == 0 && nic >= conns,
                "{what}: {nic} by the NIC, {host} SYNs at the host"
            );
        } else {
            assert!(
                nic == 0 && host >= conns,
                "{what}: {nic} by the NIC, {host} SYNs at the host"
            );
        }
        before = now;
    }
    let t = stats(&rig);
    println!("server: {t:?}\nNIC: {:?}", rig.running().nic_counters());
    assert_eq!(t.error_replies, 0, "error replies");
    assert_eq!(t.protocol_errors, 0, "protocol errors");
    // One instance per queue pair, RSS spreading the connections.
    for (q, c) in rig.running().shared.queues.iter().enumerate() {
        let n = c.accepted.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n > 0, "queue {q} accepted no connection");
    }
    rig.stop().unwrap_or_else(|e| panic!("{e}"));
}
