//! Frames per second the simulated NIC moves over TAP, for
//! `cargo xtask bench --driver`.
//!
//! The NIC (Verilated RTL in a thread, behind the shared-memory transport)
//! is wired to a TAP device in a fresh network namespace; the driver and
//! its host network layer answer ICMP echo.  Linux floods it with `ping -f`
//! with many requests outstanding (`-l`), so the wire stays busy in both
//! directions.  Prints one JSON object on stdout (details on stderr).
//! Needs CAP_NET_ADMIN, `ip` and `ping`.
use std::time::{Duration, Instant};
use toe_driver::net::{Host, NetConfig, NetIf};
use toe_driver::nic::{Nic, NicConfig};
use toe_sim::wire::TapWire;
use toe_sim_support::netns::{self, Netns};
use toe_sim_support::simdev::SimThread;

fn main() {
    if let Err(e) = run() {
        eprintln!("toe-tapbench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let count: u32 = std::env::args()
        .skip_while(|a| a != "--count")
        .nth(1)
        .map(|v| v.parse().map_err(|e| format!("--count: {e}")))
        .transpose()?
        .unwrap_or(20_000);
    netns::can_admin_net()?;
    netns::net_tools_present()?;
    let tap = netns::unique_tap_name();
    let wire = TapWire::open(&tap).map_err(|e| e.to_string())?;
    let ns = Netns::create()?;
    let sub = (ns.index() % 256) as u8;
    let nic_ip = [10, 78, sub, 2];
    let sim = SimThread::start("tapbench", wire, |_| {});
    let mut nic =
        Nic::open(Box::new(sim.backend()), NicConfig::default()).map_err(|e| e.to_string())?;
    ns.adopt_link(&tap, &format!("10.78.{sub}.1/24"))?;
    let mut host = Host::new(NetIf::new(NetConfig::new(
        [0x02, 0, 0x5e, 0x78, 0, sub],
        nic_ip,
        24,
    )));
    let target = format!("10.78.{sub}.2");
    let start = Instant::now();
    let mut child = ns.spawn([
        "ping",
        "-f",
        "-q",
        "-n",
        "-l",
        "64",
        "-c",
        &count.to_string(),
        "-s",
        "56",
        "-W",
        "2",
        &target,
    ])?;
    let t0 = Instant::now();
    let status = loop {
        host.poll(&mut nic, start.elapsed(), |_| {});
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            return Err("ping did not finish within 600 s".into());
        }
    };
    let wall = t0.elapsed();
    let mut out = String::new();
    use std::io::Read;
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let net = host.net.stats();
    drop(nic);
    let st = sim.stop();
    if !status.success() {
        return Err(format!("ping failed ({status}): {out}"));
    }
    let frames = st.frames_in + st.frames_out;
    eprintln!("toe-tapbench: {}", out.trim().replace('\n', " | "));
    eprintln!(
        "toe-tapbench: {} echo requests answered, {frames} frames over TAP in {:.2} s, simulator {:.2} M cycles/s",
        net.tx_echo_replies,
        wall.as_secs_f64(),
        st.cycles_per_second() / 1e6
    );
    println!(
        "{{\"tap_frames\":{frames},\"tap_seconds\":{:.3},\"tap_frames_per_second\":{:.0},\"echo_replies\":{},\"sim_cycles_per_second\":{:.0}}}",
        wall.as_secs_f64(),
        frames as f64 / wall.as_secs_f64(),
        net.tx_echo_replies,
        st.cycles_per_second()
    );
    drop(ns);
    Ok(())
}
