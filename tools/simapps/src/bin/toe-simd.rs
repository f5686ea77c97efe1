//! `cargo xtask sim`: the simulated SmartNIC as a device a driver attaches
//! to.  The Verilated RTL runs here; BAR0 and a DMA window are exposed
//! through a shared-memory file (see `toe_contract::shm`), and the MAC
//! ports connect to a TAP device or to nothing.  Runs until interrupted
//! (Ctrl-C, SIGTERM) or for `--cycles`, then prints what it did.
use clap::Parser;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use toe_sim::device::{DeviceConfig, SimDevice};
use toe_sim::harness::HarnessConfig;
use toe_sim::wire::{LoopWire, NullWire, TapWire, Wire};

#[derive(Parser)]
#[command(
    name = "cargo xtask sim",
    about = "Run the simulated SmartNIC as a device for the driver"
)]
struct Args {
    /// Shared-memory file the driver attaches to.
    #[arg(long, default_value = "/dev/shm/toe-sim")]
    shm: PathBuf,
    /// Connect the MAC to this TAP device (created if needed; needs
    /// CAP_NET_ADMIN).  Without it the wire has no peer.
    #[arg(long, value_name = "NAME", conflicts_with = "loopback")]
    tap: Option<String>,
    /// Loop every frame the NIC sends back into its RX (for benchmarks).
    #[arg(long, conflicts_with = "peer")]
    loopback: bool,
    /// An in-process peer on the wire: a smoltcp host at IP/PREFIX that
    /// answers ARP and ping (no privileges needed).
    #[arg(long, value_name = "IP/PREFIX", conflicts_with = "tap")]
    peer: Option<String>,
    /// With --peer: ping this address every 100 ms and report the replies.
    #[arg(long, value_name = "IP", requires = "peer")]
    ping: Option<std::net::Ipv4Addr>,
    /// DMA window size in MiB.
    #[arg(long, default_value_t = 64)]
    window_mib: u64,
    /// Capture the wire (both directions) to this pcap file.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Write an FST waveform (slow).
    #[arg(long)]
    fst: Option<PathBuf>,
    /// Stop after this many cycles.
    #[arg(long)]
    cycles: Option<u64>,
    /// Seed of the bus models' random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Host memory read latency in cycles (250 = 1 us at 250 MHz).
    #[arg(long)]
    read_latency: Option<u64>,
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
            eprintln!("toe-simd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(a: Args) -> Result<(), String> {
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let wire: Box<dyn Wire> = match &a.tap {
        Some(name) => Box::new(TapWire::open(name).map_err(|e| e.to_string())?),
        None if a.loopback => Box::new(LoopWire::default()),
        None if a.peer.is_some() => {
            let spec = a.peer.as_deref().unwrap();
            let (ip, prefix) = spec.split_once('/').unwrap_or((spec, "24"));
            let ip: std::net::Ipv4Addr = ip.parse().map_err(|e| format!("--peer {spec}: {e}"))?;
            let prefix: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= 32)
                .ok_or(format!("--peer {spec}: bad prefix length"))?;
            let o = ip.octets();
            Box::new(toe_sim_support::peer::SmolWire::new(
                [0x02, 0x00, 0x5e, o[1], o[2], o[3]],
                o,
                prefix,
                a.ping.map(|p| p.octets()),
                Duration::from_millis(100),
            ))
        }
        None => Box::new(NullWire),
    };
    let describe = wire.describe();
    let mut harness = HarnessConfig {
        seed: a.seed,
        panic_on_violation: false,
        pcap: a.pcap.clone(),
        fst: a.fst.clone(),
        ..HarnessConfig::default()
    };
    if let Some(l) = a.read_latency {
        harness.axi.read_latency = l;
    }
    let cfg = DeviceConfig {
        window_len: a.window_mib << 20,
        harness,
        ..DeviceConfig::new(&a.shm)
    };
    let mut dev = SimDevice::create(cfg, wire).map_err(|e| e.to_string())?;
    eprintln!(
        "toe-simd: serving {} (window {} MiB), wire: {describe}; Ctrl-C stops",
        a.shm.display(),
        a.window_mib
    );
    let st = dev.run(&STOP, a.cycles).map_err(|e| e.to_string())?;
    drop(dev);
    std::thread::sleep(Duration::from_millis(1));
    println!(
        "toe-simd: {} cycles in {:.2} s ({:.2} M cycles/s); registers: {} reads, {} writes, {} resets, {} bad requests; wire: {} frames in, {} frames out; {} violations",
        st.cycles,
        st.wall.as_secs_f64(),
        st.cycles_per_second() / 1e6,
        st.register_reads,
        st.register_writes,
        st.resets,
        st.bad_requests,
        st.frames_in,
        st.frames_out,
        st.violations
    );
    // A driver's requests left behind: the mailbox stalled (or the driver
    // posted them as the simulator was stopped).
    let untaken: u64 = st.lane_untaken.iter().sum();
    if untaken > 0 || st.in_flight > 0 {
        println!(
            "toe-simd: at the stop, {untaken} mailbox requests not taken (per lane {:?}), {} in flight",
            st.lane_untaken, st.in_flight
        );
    }
    if st.violations > 0 {
        return Err(format!(
            "{} protocol violations or DMA faults (see above)",
            st.violations
        ));
    }
    Ok(())
}
