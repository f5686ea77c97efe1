//! A small application on the driver: answers ARP and ICMP echo on the
//! NIC and prints what it saw.  The device is chosen at run time, the code
//! is the same for both:
//!
//! ```text
//! cargo xtask sim -- --tap toe0 &            # simulated NIC on a TAP device
//! ip link set toe0 up; ip addr add 10.9.0.1/24 dev toe0
//! cargo run --release -p toe-driver --example responder -- sim 10.9.0.2 &
//! ping 10.9.0.2
//!
//! cargo run --release -p toe-driver --example responder -- pci:0000:01:00.0 10.9.0.2
//! ```
use std::time::{Duration, Instant};
use toe_driver::net::{Host, NetConfig, NetIf};
use toe_driver::nic::{Nic, NicConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: responder DEVICE IPV4 [SECONDS]   (DEVICE: sim, sim:PATH, pci:DDDD:BB:DD.F)"
        );
        std::process::exit(2);
    }
    let ip: std::net::Ipv4Addr = match args[1].parse() {
        Ok(ip) => ip,
        Err(e) => {
            eprintln!("responder: {}: {e}", args[1]);
            std::process::exit(2);
        }
    };
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let mut nic =
        match toe_driver::open_backend(&args[0]).and_then(|b| Nic::open(b, NicConfig::default())) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("responder: {e}");
                std::process::exit(1);
            }
        };
    let mac = [
        0x02,
        0x00,
        0x5e,
        ip.octets()[1],
        ip.octets()[2],
        ip.octets()[3],
    ];
    let mut host = Host::new(NetIf::new(NetConfig::new(mac, ip.octets(), 24)));
    eprintln!(
        "responder: {} answering as {ip} ({mac:02x?})",
        nic.device().info().backend
    );
    let start = Instant::now();
    let mut last = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        let p = host.poll(&mut nic, start.elapsed(), |_| {});
        if p.rx == 0 && p.tx == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let s = host.net.stats();
            eprintln!(
                "responder: {} frames in, {} out, {} echo requests answered, {} ARP requests answered",
                s.rx_frames, s.tx_frames, s.tx_echo_replies, s.rx_arp_requests
            );
            if let Err(e) = nic.device().check() {
                eprintln!("responder: {e}");
                std::process::exit(1);
            }
        }
    }
}
