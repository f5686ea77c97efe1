//! `cargo xtask kv`: the Redis-protocol key-value server (tools/apps/kv) on the
//! NIC, for the real Redis tools.
//!
//! Where the NIC is:
//! * by default, the Verilated NIC in this process, its MAC on a TAP device
//!   (`--tap NAME`, default `toekv0`) that this program addresses in the
//!   root namespace, or in namespace `--netns NS` (created if missing,
//!   deleted at exit if created); needs CAP_NET_ADMIN;
//! * `--sim [PATH]`: a simulator already running (`cargo xtask sim`, which
//!   has its own `--tap`);
//! * `--pci ADDR`: a board bound to vfio-pci.
//!
//! One server instance per queue pair (one thread each, RSS spreading the
//! connections); the setup and teardown offloads per listener
//! (`--listen PORT[:on|off]`, `--listen PORT:setup=on|off,teardown=on|off`,
//! defaults `--setup-offload on|off` and `--teardown-offload on|off`).  A
//! device without the teardown block refuses `teardown=on` with the
//! driver's reason.  A live summary once per second, a final report on
//! Ctrl-C, SIGTERM or after `--duration`.
use clap::Parser;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use toe_driver::nic::{Nic, NicConfig};
use toe_kv::{KvConfig, Listener, Running, Totals};
use toe_sim_support::simdev::SimThread;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Parser)]
#[command(
    name = "cargo xtask kv",
    about = "Redis-protocol key-value server on the TOE NIC (simulated by default)"
)]
struct Args {
    /// The simulated NIC's MAC on this TAP device (created if needed).
    #[arg(long, value_name = "NAME", default_value = "toekv0", conflicts_with_all = ["sim", "pci"])]
    tap: String,
    /// Move the TAP device into this network namespace (created if
    /// missing) instead of addressing it in the root namespace.
    #[arg(long, value_name = "NS", conflicts_with_all = ["sim", "pci"])]
    netns: Option<String>,
    /// Linux's address on the TAP, CIDR (the server's --ip must be in it).
    #[arg(long, value_name = "IP/PREFIX", default_value = "10.79.0.1/24")]
    tap_addr: String,
    /// Attach to a simulator started with `cargo xtask sim` instead of
    /// running one here.
    #[arg(long, value_name = "PATH", num_args = 0..=1,
          default_missing_value = toe_driver::shm::DEFAULT_PATH, conflicts_with = "pci")]
    sim: Option<String>,
    /// A board bound to vfio-pci (e.g. 0000:03:00.0).
    #[arg(long, value_name = "ADDR")]
    pci: Option<String>,
    /// The server's address, CIDR.
    #[arg(long, value_name = "IP/PREFIX", default_value = "10.79.0.2/24")]
    ip: String,
    /// The server's MAC (default: 02:00:5e:79:00:02).
    #[arg(long, value_name = "MAC")]
    mac: Option<String>,
    /// A port to listen on, with its own offload switches (SWITCHES:
    /// `on|off` or `setup=on|off,teardown=on|off`): `6380:off`
    /// (setup offload only, as before), or `6380:setup=off,teardown=on`
    /// (either or both; what is not said follows --setup-offload and
    /// --teardown-offload); repeat for several.  Default: 6379 with
    /// --setup-offload and --teardown-offload.
    #[arg(long, value_name = "PORT[:SWITCHES]")]
    listen: Vec<String>,
    /// Setup offload (the NIC completes handshakes with SYN cookies) for
    /// listeners that do not say.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    setup_offload: OnOff,
    /// Teardown offload (`close` hands the connection to the NIC, which
    /// sends the FIN and runs FIN_WAIT/TIME_WAIT) for listeners that do not
    /// say.  A device without the teardown register block (today's chip
    /// and simulated NIC) refuses `on` with the driver's reason.
    #[arg(long, value_enum, default_value_t = OnOff::Off)]
    teardown_offload: OnOff,
    /// The store's memory limit (bytes, or with k/m/g); writes beyond it
    /// get -OOM.
    #[arg(long, default_value = "64m")]
    maxmemory: String,
    /// Longest bulk string accepted (Redis proto-max-bulk-len).
    #[arg(long, default_value = "1m")]
    max_bulk: String,
    /// Stop after this many seconds (default: Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// No live summary, only the final report.
    #[arg(long)]
    quiet: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn main() -> std::process::ExitCode {
    let a = Args::parse();
    match run(a) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("toe-kv: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1usize << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (&t[..], 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or(format!(
            "{s:?} is not a size (bytes, or a number with k, m or g)"
        ))
}

fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (ip, p) = s.split_once('/').unwrap_or((s, "24"));
    let ip: Ipv4Addr = ip.parse().map_err(|e| format!("{s}: {e}"))?;
    let p: u8 = p
        .parse()
        .ok()
        .filter(|p| (1..=30).contains(p))
        .ok_or(format!("{s}: bad prefix length"))?;
    Ok((ip, p))
}

fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let v: Vec<u8> = s
        .split(':')
        .map(|h| u8::from_str_radix(h, 16))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--mac {s}: {e}"))?;
    v.try_into().map_err(|_| format!("--mac {s}: six bytes"))
}

fn listeners(a: &Args) -> Result<Vec<Listener>, String> {
    let setup_default = a.setup_offload == OnOff::On;
    let teardown_default = a.teardown_offload == OnOff::On;
    if a.listen.is_empty() {
        return Ok(vec![Listener {
            port: 6379,
            setup_offload: setup_default,
            teardown_offload: teardown_default,
        }]);
    }
    let mut out: Vec<Listener> = Vec::new();
    for l in &a.listen {
        let (port, sw) = l.split_once(':').unwrap_or((l, ""));
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or(format!("--listen {l}: bad port"))?;
        let (setup_offload, teardown_offload) = switches(sw, setup_default, teardown_default)
            .map_err(|why| {
                format!(
                    "--listen {l}: {why}; say PORT, PORT:on, PORT:off or \
                     PORT:setup=on|off,teardown=on|off"
                )
            })?;
        if out.iter().any(|o| o.port == port) {
            return Err(format!("--listen: port {port} twice"));
        }
        out.push(Listener {
            port,
            setup_offload,
            teardown_offload,
        });
    }
    Ok(out)
}

/// A listener's switches after `PORT:`: nothing, `on`/`off` (the setup
/// offload, the original form), or `setup=..`/`teardown=..` separated by
/// commas; (setup, teardown).
fn switches(sw: &str, setup: bool, teardown: bool) -> Result<(bool, bool), String> {
    let on_off = |v: &str| match v {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{v:?} is not on or off")),
    };
    match sw {
        "" => return Ok((setup, teardown)),
        "on" | "off" => return Ok((on_off(sw)?, teardown)),
        _ => {}
    }
    let (mut s, mut t) = (None, None);
    for part in sw.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or(format!("{part:?} is not NAME=on|off"))?;
        let slot = match k {
            "setup" => &mut s,
            "teardown" => &mut t,
            _ => return Err(format!("no offload {k:?} (setup or teardown)")),
        };
        if slot.replace(on_off(v)?).is_some() {
            return Err(format!("{k} said twice"));
        }
    }
    Ok((s.unwrap_or(setup), t.unwrap_or(teardown)))
}

/// `ip ARGS...`, failing with what it printed.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` (iproute2): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// A namespace this program created, deleted when dropped.
struct OwnedNetns(String);

impl Drop for OwnedNetns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "delete", &self.0]) {
            eprintln!("toe-kv: {e}");
        }
    }
}

/// Where the NIC came from, kept alive while it runs.
enum Device {
    Simulated {
        sim: SimThread,
        _ns: Option<OwnedNetns>,
        place: String,
    },
    Attached(String),
}

fn open_nic(a: &Args) -> Result<(Nic, Device), String> {
    if let Some(path) = &a.sim {
        let b = toe_driver::shm::ShmBackend::open(path, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        let nic = Nic::open(Box::new(b), NicConfig::default()).map_err(|e| e.to_string())?;
        return Ok((nic, Device::Attached(format!("simulator {path}"))));
    }
    if let Some(addr) = &a.pci {
        let b =
            toe_driver::vfio::VfioBackend::open(addr).map_err(|e| format!("--pci {addr}: {e}"))?;
        let nic = Nic::open(Box::new(b), NicConfig::default()).map_err(|e| e.to_string())?;
        return Ok((nic, Device::Attached(format!("board {addr} (VFIO)"))));
    }
    if let Err(why) = toe_sim_support::netns::can_admin_net() {
        return Err(format!(
            "the simulated NIC's wire is a TAP device, which needs CAP_NET_ADMIN ({why}); \
             run as root, or attach to a simulator started elsewhere with \
             `cargo xtask sim -- --tap NAME` and `cargo xtask kv -- --sim`"
        ));
    }
    parse_cidr(&a.tap_addr)?;
    let wire = toe_sim::wire::TapWire::open(&a.tap).map_err(|e| format!("TAP {}: {e}", a.tap))?;
    let (sim, nic) = SimThread::with_nic("kv", wire);
    // Addressed after the NIC has its RX buffers (Linux's first ARP would
    // otherwise find none).
    let mut owned = None;
    let place = match &a.netns {
        Some(ns) => {
            let exists = Command::new("ip")
                .args(["netns", "exec", ns, "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !exists {
                ip(&["netns", "add", ns])?;
                owned = Some(OwnedNetns(ns.clone()));
                ip(&["-n", ns, "link", "set", "lo", "up"])?;
            }
            ip(&["link", "set", "dev", &a.tap, "netns", ns])?;
            ip(&["-n", ns, "address", "replace", &a.tap_addr, "dev", &a.tap])?;
            ip(&["-n", ns, "link", "set", "dev", &a.tap, "up"])?;
            format!("namespace {ns}")
        }
        None => {
            ip(&["address", "replace", &a.tap_addr, "dev", &a.tap])?;
            ip(&["link", "set", "dev", &a.tap, "up"])?;
            "the root namespace".to_string()
        }
    };
    Ok((
        nic,
        Device::Simulated {
            sim,
            _ns: owned,
            place: format!("simulated NIC, TAP {} ({}) in {place}", a.tap, a.tap_addr),
        },
    ))
}

fn counter(c: &[(&'static str, u64)], name: &str) -> u64 {
    c.iter().find(|(n, _)| *n == name).map_or(0, |(_, v)| *v)
}

fn human(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn summary_line(r: &Running, t: &Totals, prev: &Totals, dt: f64, at: Duration) -> String {
    let nic = r.nic_counters();
    let (keys, mem) = {
        let db = r.shared.store.lock().unwrap_or_else(|e| e.into_inner());
        (db.len(), db.used_memory())
    };
    format!(
        "[{:>5.0} s] {:>7.0} req/s | conns {} open, {} accepted ({:.0}/s) | handshakes: NIC {} host {} | \
         keys {keys} ({}) | errors {} | NIC rx {} tx {} synack {} established {}",
        at.as_secs_f64(),
        (t.commands - prev.commands) as f64 / dt,
        t.active,
        t.accepted,
        (t.accepted - prev.accepted) as f64 / dt,
        t.nic_established,
        t.host_syns,
        human(mem),
        t.error_replies,
        counter(&nic, "rx_frames"),
        counter(&nic, "tx_frames"),
        counter(&nic, "setup_synack"),
        counter(&nic, "setup_established"),
    )
}

fn run(a: Args) -> Result<(), String> {
    let listeners = listeners(&a)?;
    let (ip, prefix) = parse_cidr(&a.ip)?;
    let mac = match &a.mac {
        Some(m) => parse_mac(m)?,
        None => {
            let o = ip.octets();
            [0x02, 0x00, 0x5e, o[1], o[2], o[3]]
        }
    };
    let mut cfg = KvConfig::new(mac, ip.octets(), prefix);
    cfg.listeners = listeners.clone();
    cfg.maxmemory = parse_size(&a.maxmemory)?;
    cfg.limits.max_bulk = parse_size(&a.max_bulk)?;
    cfg.max_query = 2 * cfg.limits.max_bulk + cfg.limits.max_inline;
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let (nic, device) = open_nic(&a)?;
    let queues = nic.queue_pairs();
    let running = toe_kv::start(nic, cfg)?;
    let place = match &device {
        Device::Simulated { place, .. } => place.clone(),
        Device::Attached(p) => p.clone(),
    };
    println!("toe-kv: serving on {place}, {queues} queue pairs (one instance each)");
    for l in &listeners {
        println!(
            "toe-kv: {ip}:{} setup offload {}, teardown offload {}",
            l.port,
            if l.setup_offload { "on" } else { "off" },
            if l.teardown_offload { "on" } else { "off" }
        );
    }
    let ns_prefix = a
        .netns
        .as_ref()
        .filter(|_| a.sim.is_none() && a.pci.is_none())
        .map_or(String::new(), |n| format!("ip netns exec {n} "));
    println!(
        "toe-kv: try `{ns_prefix}redis-cli -h {ip} -p {} ping` or `{ns_prefix}redis-benchmark -h {ip} -p {} -t ping,set,get -n 10000`; Ctrl-C stops",
        listeners[0].port, listeners[0].port
    );
    let start = Instant::now();
    let limit = a.duration.map(Duration::from_secs_f64);
    let mut prev = running.shared.totals();
    let mut last = Instant::now();
    let mut peak = 0f64;
    while !STOP.load(Ordering::Relaxed) && limit.is_none_or(|l| start.elapsed() < l) {
        std::thread::sleep(Duration::from_millis(50));
        if running.any_ended() {
            break;
        }
        if last.elapsed() >= Duration::from_secs(1) {
            running.refresh();
            let t = running.shared.totals();
            let dt = last.elapsed().as_secs_f64();
            peak = peak.max((t.commands - prev.commands) as f64 / dt);
            if !a.quiet {
                println!("{}", summary_line(&running, &t, &prev, dt, start.elapsed()));
            }
            prev = t;
            last = Instant::now();
        }
    }
    let shared = running.shared.clone();
    let stopped = running.stop();
    let elapsed = start.elapsed().as_secs_f64();
    let t = shared.totals();
    let nic = shared
        .nic
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .clone();
    let db = shared.store.lock().unwrap_or_else(|e| e.into_inner());
    println!("\ntoe-kv: final report after {elapsed:.1} s on {place}");
    println!(
        "  requests      {} ({:.0}/s on average, {:.0}/s at the best second)",
        t.commands,
        t.commands as f64 / elapsed,
        peak
    );
    println!(
        "  connections   {} accepted, {} closed, {} reset by the peer; handshakes by the NIC {}, by the host {}",
        t.accepted, t.closed, t.reset, t.nic_established, t.host_syns
    );
    println!(
        "  replies       {} errors, {} protocol errors (connection closed), {} requests over the size limit",
        t.error_replies, t.protocol_errors, t.oversized
    );
    println!("  bytes         {} in, {} out", t.bytes_in, t.bytes_out);
    let s = db.stats();
    println!(
        "  store         {} keys, {} of {} used, {} expired, {} writes refused (OOM), {} hits, {} misses",
        db.len(),
        human(db.used_memory()),
        human(db.limit()),
        s.expired_keys,
        s.oom_rejections,
        s.hits,
        s.misses
    );
    for (i, q) in shared.queues.iter().enumerate() {
        println!(
            "  queue {i}       {} connections, {} requests",
            q.accepted.load(Ordering::Relaxed),
            q.commands.load(Ordering::Relaxed)
        );
    }
    let nonzero: Vec<String> = nic
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    println!("  NIC counters  {}", nonzero.join(", "));
    drop(db);
    if let Device::Simulated { sim, .. } = device {
        let st = sim.stop();
        println!(
            "  simulator     {} cycles in {:.1} s ({:.2} M cycles/s), {} frames in, {} out",
            st.cycles,
            st.wall.as_secs_f64(),
            st.cycles_per_second() / 1e6,
            st.frames_in,
            st.frames_out
        );
    }
    stopped
}
