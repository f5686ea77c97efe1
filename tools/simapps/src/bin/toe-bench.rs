//! `cargo xtask bench`: sustained RX and TX throughput of the Verilated
//! design in cycles per packet (and the implied Mpps and Gbps at 250 MHz),
//! and the simulation speed.  Figures are measured here, never assumed.
//!
//! RX: N back-to-back frames of one size from the MAC (no idle cycles) into
//! one queue with enough posted buffers; cycles from the first beat offered
//! to the last completion in host memory.  TX: N descriptors posted with one
//! doorbell; cycles from the doorbell to the last beat on the MAC.  Both with
//! the DMA model's read latency (default 250 cycles = 1 us, PCIe-like) and
//! one data beat per cycle per direction.
//!
//! Every point is also run with half the frames: the difference is the
//! steady-state cycles per packet (`steady`), free of the pipeline's fixed
//! latency, which the plain ratio (`cyc/pkt`) spreads over the run; the
//! rest is that fixed latency (`fixed cy`).
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use toe_sim::bfm::mac_source::MacFrame;
use toe_sim::harness::{Harness, HarnessConfig};
use toe_sim::speed::{measure_speed_with, SpeedOptions};
use toe_sim_support::host::Host;

const CLOCK_HZ: f64 = 250e6;
const SIZES: [usize; 4] = [64, 128, 512, 1518];

struct Point {
    size: usize,
    frames: usize,
    cycles: u64,
}

/// A point and the same run with half the frames.
struct Measured {
    full: Point,
    half: Point,
}

impl Measured {
    fn new(run: impl Fn(usize) -> Point, frames: usize) -> Measured {
        Measured {
            full: run(frames),
            half: run(frames / 2),
        }
    }
    /// Cycles per packet in steady state.
    fn steady(&self) -> f64 {
        (self.full.cycles as f64 - self.half.cycles as f64)
            / (self.full.frames - self.half.frames) as f64
    }
    /// Cycles of the run not explained by the steady rate.
    fn fixed(&self) -> f64 {
        self.full.cycles as f64 - self.steady() * self.full.frames as f64
    }
}

impl Point {
    fn cpp(&self) -> f64 {
        self.cycles as f64 / self.frames as f64
    }
    fn mpps(&self) -> f64 {
        CLOCK_HZ / self.cpp() / 1e6
    }
    /// On-wire rate: frame + preamble/SFD (8) + inter-frame gap (12).
    fn gbps(&self) -> f64 {
        self.mpps() * 1e6 * ((self.size + 20) * 8) as f64 / 1e9
    }
}

fn harness(latency: u64) -> Harness {
    let mut cfg = HarnessConfig::default();
    cfg.axi.read_latency = latency;
    cfg.axi.max_reads = 256;
    cfg.axi.max_writes = 64;
    cfg.use_env = false;
    cfg.panic_on_violation = true;
    Harness::new(cfg)
}

fn rx_point(size: usize, frames: usize, latency: u64, seed: u64) -> Point {
    let mut h = harness(latency);
    let mut host = Host::new(&mut h, 12, 2048);
    host.post_rx(&mut h, 0, frames.min(4095));
    h.run(latency * 4 + 2000);
    let mut rng = StdRng::seed_from_u64(seed);
    let f = toe_simapps::tcp_frame(&mut rng, size - 4);
    for _ in 0..frames {
        h.mac_rx.push(MacFrame::new(f.clone()));
    }
    let start = h.cycle();
    let mut n = 0usize;
    h.run_until(50_000_000, |h| {
        while host.poll_rx(h, 0).is_some() {
            n += 1;
        }
        n >= frames
    })
    .expect("RX benchmark did not finish");
    if std::env::var_os("TOE_BENCH_DEBUG").is_some() {
        eprintln!(
            "rx {size}: cycles {} mac stalls {} write bursts {} write beats {}",
            h.cycle() - start,
            h.mac_rx.stall_cycles,
            h.axi.stats.write_bursts,
            h.axi.stats.write_beats
        );
    }
    Point {
        size,
        frames,
        cycles: h.cycle() - start,
    }
}

fn tx_point(size: usize, frames: usize, latency: u64, seed: u64) -> Point {
    let mut h = harness(latency);
    let mut host = Host::new(&mut h, 12, 2048);
    let mut rng = StdRng::seed_from_u64(seed);
    let f = toe_simapps::tcp_frame(&mut rng, size - 4);
    // Write all descriptors first, then ring the doorbell once.
    let start_prod = host.tx[0].prod;
    for _ in 0..frames {
        let buf = h.mem.alloc(f.len().next_multiple_of(64), 64);
        h.mem.write(buf, &f);
        let d = toe_contract::desc::TxDesc {
            addr: buf,
            len: f.len() as u16,
            flags: 0,
        };
        let ring = &mut host.tx[0];
        let slot = (ring.prod & ((1 << ring.log2) - 1)) as u64;
        h.mem.write(ring.desc + slot * 16, &d.encode());
        ring.prod = ring.prod.wrapping_add(1);
    }
    assert_eq!(host.tx[0].prod.wrapping_sub(start_prod) as usize, frames);
    let start = h.cycle();
    h.reg_write(
        toe_contract::regs::txq(0, toe_contract::regs::Q_PROD),
        host.tx[0].prod as u32,
    );
    h.run_until(50_000_000, |h| h.mac_tx.frames.len() >= frames)
        .expect("TX benchmark did not finish");
    if std::env::var_os("TOE_BENCH_DEBUG").is_some() {
        eprintln!(
            "tx {size}: cycles {} read bursts {} read beats {} max reads outstanding {} write bursts {} mac stalls {}",
            h.cycle() - start,
            h.axi.stats.read_bursts,
            h.axi.stats.read_beats,
            h.axi.stats.max_reads_outstanding,
            h.axi.stats.write_bursts,
            h.mac_tx.stall_cycles
        );
    }
    Point {
        size,
        frames,
        cycles: h.cycle() - start,
    }
}

/// SYN to SYN-ACK rate of the setup offload: `n` back-to-back SYNs (one
/// listener, random clients) from the MAC; cycles from the first SYN
/// offered to the last SYN-ACK on the MAC.  `full`: Linux's SYN options
/// (MSS, SACK-permitted, timestamps, window scale: a 74-byte SYN and
/// SYN-ACK, two beats each); otherwise MSS only (60 bytes, one beat).
fn syn_point(n: usize, full: bool, seed: u64) -> (Point, u64) {
    use rand::Rng;
    use toe_model::gen::{self, TcpOpt, TcpSpec};
    use toe_model::setup::{Listener, SetupState};
    let mut h = harness(250);
    let mut st = SetupState {
        enabled: true,
        ..SetupState::default()
    };
    st.cfg.keys[0] = Some(*b"bench-cookie-key");
    // The SYNs' destination (the generator's defaults) is this host.
    st.local_mac = gen::Ipv4Spec::default().dst_mac;
    st.local_ips[0] = gen::Ipv4Spec::default().dst;
    st.listeners[0] = Some(Listener {
        ip: None,
        port: 80,
        offload: true,
    });
    toe_sim_support::program_setup(&mut h, &st);
    let mut rng = StdRng::seed_from_u64(seed);
    let opts = if full {
        vec![
            TcpOpt::Mss(1460),
            TcpOpt::SackPermitted,
            TcpOpt::Timestamps { tsval: 1, tsecr: 0 },
            TcpOpt::Nop,
            TcpOpt::WindowScale(7),
        ]
    } else {
        vec![TcpOpt::Mss(1460)]
    };
    let mut len = 0;
    for _ in 0..n {
        let mut t = TcpSpec {
            src_port: rng.gen(),
            dst_port: 80,
            seq: rng.gen(),
            ack: 0,
            flags: gen::SYN,
            options: gen::options_bytes(&opts),
            ..TcpSpec::default()
        };
        // Random unicast sources (172.16.0.0/12: never martian, never ours).
        t.ip.src = [172, 16 | rng.gen_range(0..16u8), rng.gen(), rng.gen()];
        let f = gen::tcp_frame(&t);
        len = f.len();
        h.mac_rx.push(MacFrame::new(f));
    }
    let start = h.cycle();
    h.run_until(10_000_000, |h| h.mac_tx.frames.len() >= n)
        .expect("SYN benchmark did not finish");
    let cycles = h.cycle() - start;
    let answered = toe_sim_support::counter(&mut h, toe_contract::regs::Counter::SetupSynAck);
    (
        Point {
            size: len + 4,
            frames: n,
            cycles,
        },
        answered,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1u64);
    let frames = 2000usize;
    let t0 = Instant::now();
    let mut rows = vec![];
    for latency in [250u64, 50] {
        for size in SIZES {
            let n = if size >= 1518 { 600 } else { frames };
            let rx = Measured::new(|n| rx_point(size, n, latency, seed), n);
            rows.push(("rx", latency, rx));
            let tx = Measured::new(|n| tx_point(size, n, latency, seed), n);
            rows.push(("tx", latency, tx));
        }
    }
    let syns: Vec<(bool, Measured, u64)> = [false, true]
        .into_iter()
        .map(|full| {
            let (p, a) = syn_point(frames, full, seed);
            let (half, _) = syn_point(frames / 2, full, seed);
            (full, Measured { full: p, half }, a)
        })
        .collect();
    let idle = measure_speed_with(1_000_000, &SpeedOptions::default());
    let busy = measure_speed_with(
        1_000_000,
        &SpeedOptions {
            rx_traffic: true,
            ..Default::default()
        },
    );
    if json {
        let pts: Vec<String> = rows
            .iter()
            .map(|(dir, lat, m)| {
                let p = &m.full;
                format!(
                    "{{\"dir\":\"{dir}\",\"read_latency_cycles\":{lat},\"frame_bytes\":{},\"frames\":{},\"cycles\":{},\"cycles_per_packet\":{:.3},\"steady_cycles_per_packet\":{:.3},\"fixed_cycles\":{:.0},\"mpps\":{:.2},\"gbps\":{:.2}}}",
                    p.size, p.frames, p.cycles, p.cpp(), m.steady(), m.fixed(), p.mpps(), p.gbps()
                )
            })
            .collect();
        let syn: Vec<String> = syns
            .iter()
            .map(|(full, m, a)| {
                let p = &m.full;
                format!(
                    "{{\"syn_options\":\"{}\",\"syn_bytes\":{},\"syns\":{},\"answered\":{a},\"cycles\":{},\"cycles_per_syn\":{:.3},\"steady_cycles_per_syn\":{:.3},\"fixed_cycles\":{:.0},\"mpps\":{:.2}}}",
                    if *full { "mss,sack,ts,ws" } else { "mss" },
                    p.size, p.frames, p.cycles, p.cpp(), m.steady(), m.fixed(), p.mpps()
                )
            })
            .collect();
        println!(
            "{{\"clock_hz\":{CLOCK_HZ},\"throughput\":[{}],\"setup_offload\":[{}],\"sim_cycles_per_second_idle\":{:.0},\"sim_cycles_per_second_rx_traffic\":{:.0},\"sim_cycles_per_cpu_second_idle\":{:.0},\"sim_cycles_per_cpu_second_rx_traffic\":{:.0}}}",
            pts.join(","),
            syn.join(","),
            idle.cycles_per_second,
            busy.cycles_per_second,
            idle.cycles_per_cpu_second,
            busy.cycles_per_cpu_second
        );
        return;
    }
    println!(
        "TOE SmartNIC benchmark (Verilated RTL, 512-bit data path, figures at a 250 MHz clock)"
    );
    println!("frame bytes include the FCS; Gbps counts preamble and inter-frame gap (frame + 20 bytes)\n");
    println!(
        "{:<4} {:>12} {:>7} {:>7} {:>10} {:>8} {:>9} {:>9} {:>9}",
        "dir", "DMA latency", "bytes", "frames", "cyc/pkt", "steady", "fixed cy", "Mpps", "Gbps"
    );
    for (dir, lat, m) in &rows {
        let p = &m.full;
        println!(
            "{:<4} {:>9} cy {:>7} {:>7} {:>10.3} {:>8.3} {:>9.0} {:>9.2} {:>9.2}",
            dir,
            lat,
            p.size,
            p.frames,
            p.cpp(),
            m.steady(),
            m.fixed(),
            p.mpps(),
            p.gbps()
        );
    }
    println!(
        "\n100GbE line rate: 64 B = 148.81 Mpps = 1.68 cycles/packet at 250 MHz (target <= 1.67)"
    );
    println!("\nsetup offload: back-to-back SYNs from the MAC to one offloaded listener, cycles from the");
    println!("first SYN offered to the last SYN-ACK on the MAC (target <= 2 cycles per SYN)");
    println!(
        "{:<16} {:>9} {:>7} {:>9} {:>10} {:>8} {:>9} {:>9}",
        "SYN options", "bytes", "SYNs", "answered", "cyc/SYN", "steady", "fixed cy", "M SYN/s"
    );
    for (full, m, a) in &syns {
        let p = &m.full;
        println!(
            "{:<16} {:>9} {:>7} {:>9} {:>10.3} {:>8.3} {:>9.0} {:>9.2}",
            if *full { "mss,sack,ts,ws" } else { "mss" },
            p.size,
            p.frames,
            a,
            p.cpp(),
            m.steady(),
            m.fixed(),
            p.mpps()
        );
    }
    println!(
        "\nsimulation speed (full design, one core): idle {:.2} M cycles/s, with back-to-back MAC RX traffic {:.2} M cycles/s (wall clock); per second of the simulating thread's processor time {:.2} / {:.2}",
        idle.cycles_per_second / 1e6,
        busy.cycles_per_second / 1e6,
        idle.cycles_per_cpu_second / 1e6,
        busy.cycles_per_cpu_second / 1e6
    );
    println!(
        "(benchmark wall time {:.1} s; resource estimate: `cargo xtask synth`)",
        t0.elapsed().as_secs_f64()
    );
}
