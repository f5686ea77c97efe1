//! `cargo xtask demo`: the simulated SmartNIC serving traffic.
//!
//! Mixed traffic (TCP with options in any order, UDP, ICMP, ARP, IPv6,
//! fragments, a few malformed frames) arrives on the MAC; RSS spreads it over
//! four RX queues; the host side polls the completion rings, reposts every
//! buffer, and echoes each TCP segment back (addresses and ports swapped,
//! checksum fields zeroed) on the TX queue it arrived on, asking the NIC to
//! insert the IPv4 and TCP checksums.  Every frame leaving the MAC is checked
//! with an independent checksum routine.  Then the NIC's counters and a
//! summary are printed.  No privileges, no hardware: the Verilated RTL and
//! models of the MAC and host memory run in this process.
//!
//! Part 2 puts the driver on the same RTL served as a device (shared
//! memory, as `cargo xtask sim` serves it) and pings smoltcp; part 3 has
//! the host TCP library serve request/response TCP to smoltcp clients
//! through it (`tcpdemo.rs`).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use toe_contract::desc as d;
use toe_contract::regs::{self as r, Counter};
use toe_model::{csum, gen};
use toe_sim::bfm::mac_source::MacFrame;
use toe_sim::harness::{Harness, HarnessConfig};
use toe_sim_support::host::Host;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Swaps addresses and ports of a TCP/IPv4 frame and zeroes both checksums.
fn echo_of(f: &[u8], l4: usize) -> Vec<u8> {
    let mut e = f.to_vec();
    e[0..6].copy_from_slice(&f[6..12]);
    e[6..12].copy_from_slice(&f[0..6]);
    e[26..30].copy_from_slice(&f[30..34]);
    e[30..34].copy_from_slice(&f[26..30]);
    e[l4..l4 + 2].copy_from_slice(&f[l4 + 2..l4 + 4]);
    e[l4 + 2..l4 + 4].copy_from_slice(&f[l4..l4 + 2]);
    e[24] = 0;
    e[25] = 0;
    e[l4 + 16] = 0;
    e[l4 + 17] = 0;
    e
}

fn checksums_ok(f: &[u8]) -> bool {
    let ihl = ((f[14] & 0xF) as usize) * 4;
    let tl = u16::from_be_bytes([f[16], f[17]]) as usize;
    let l4 = 14 + ihl;
    csum::ipv4_header_ok(&f[14..l4])
        && csum::tcp_checksum_ok(
            f[26..30].try_into().unwrap(),
            f[30..34].try_into().unwrap(),
            &f[l4..14 + tl],
        )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = arg(&args, "--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let frames: usize = arg(&args, "--frames")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut cfg = HarnessConfig {
        seed,
        ..Default::default()
    };
    if let Some(p) = arg(&args, "--trace") {
        cfg.fst = Some(p.into());
    }
    if let Some(p) = arg(&args, "--pcap") {
        cfg.pcap = Some(p.into());
    }
    let wall = Instant::now();
    let mut h = Harness::new(cfg);
    let id = h.reg_read(r::ID_DEVICE);
    let ver = h.reg_read(r::ID_HW_VERSION);
    let log2 = 8;
    let mut host = Host::new(&mut h, log2, 9216);
    let mut rng = StdRng::seed_from_u64(seed);
    let nic = toe_simapps::enable_rss(&mut h, &mut rng);
    for q in 0..4 {
        host.post_rx(&mut h, q, (1 << log2) - 1);
    }
    h.run(1000);

    let mut offered = 0usize;
    let mut expected_delivered = 0usize;
    let mut delivered = [0usize; 4];
    let mut echoed = 0usize;
    let mut tcp_csum_ok = 0usize;
    let mut malformed = 0usize;
    let mut wrong = 0usize;
    let start = h.cycle();
    let mut last_progress = h.cycle();
    while (offered < frames
        || delivered.iter().sum::<usize>() < expected_delivered
        || h.mac_tx.frames.len() < echoed)
        && h.cycle() - last_progress < 200_000
    {
        // Keep the MAC busy, a bounded number of frames ahead.
        while offered < frames && h.mac_rx.pending() < 64 {
            let f = if rng.gen_ratio(1, 50) {
                malformed += 1;
                let class = gen::Malformed::ALL[rng.gen_range(0..gen::Malformed::ALL.len())];
                gen::malformed(&mut rng, class, 9018)
            } else {
                gen::random_frame(&mut rng, 9018).1
            };
            if f.bytes.is_empty() {
                continue; // a MAC never delivers an empty frame
            }
            if let toe_model::nic::RxVerdict::Deliver { .. } =
                toe_model::nic::predict_rx(&nic, &f.bytes, f.mac_error)
            {
                expected_delivered += 1;
            }
            h.mac_rx.push(if f.mac_error {
                MacFrame::with_error(f.bytes)
            } else {
                MacFrame::new(f.bytes)
            });
            offered += 1;
        }
        h.tick();
        for (q, delivered_q) in delivered.iter_mut().enumerate() {
            while let Some((c, data)) = host.poll_rx(&h, q) {
                *delivered_q += 1;
                last_progress = h.cycle();
                if c.len as usize != data.len() {
                    wrong += 1;
                }
                let ok = d::CPL_TCP | d::CPL_TCP_CSUM_OK | d::CPL_IP_CSUM_OK;
                if c.flags & ok == ok {
                    tcp_csum_ok += 1;
                    host.send(
                        &mut h,
                        q,
                        &echo_of(&data, c.l4_off as usize),
                        d::TXF_CSUM_IP | d::TXF_CSUM_TCP,
                    );
                    echoed += 1;
                }
                host.post_rx(&mut h, q, 1);
            }
            while host.poll_tx(&h, q).is_some() {}
        }
    }
    let cycles = h.cycle() - start;
    let sent_ok = h
        .mac_tx
        .frames
        .iter()
        .filter(|f| checksums_ok(&f.data))
        .count();
    let c = |h: &mut Harness, k: Counter| toe_sim_support::counter(h, k);
    println!("TOE SmartNIC demo: simulated NIC (Verilated RTL) serving mixed traffic");
    println!(
        "device {:#010x} (\"TOE1\"), hardware version {}.{}, 4 queue pairs, RSS on, seed {seed}\n",
        id,
        ver >> 16,
        ver & 0xFFFF
    );
    println!(
        "MAC RX: {offered} frames offered ({malformed} deliberately malformed), NIC counted {}",
        c(&mut h, Counter::RxFrames)
    );
    println!(
        "delivered to host: {} (queues {:?}), expected by the reference model {expected_delivered}, length mismatches {wrong}",
        delivered.iter().sum::<usize>(),
        delivered
    );
    println!("TCP segments with verified IPv4+TCP checksums: {tcp_csum_ok}");
    println!("echoed with checksum offload: {echoed}; MAC TX frames {} of which {sent_ok} carry correct checksums", h.mac_tx.frames.len());
    println!("\nNIC counters:");
    for k in [
        Counter::RxDropMacError,
        Counter::RxDropRunt,
        Counter::RxDropOversize,
        Counter::RxDropMalformedL3,
        Counter::RxDropMalformedL4,
        Counter::RxBadIpCsum,
        Counter::RxBadTcpCsum,
        Counter::RxDropNoBuffer,
        Counter::TxFrames,
        Counter::TxBadDescriptor,
        Counter::DmaError,
    ] {
        println!("  {:<22} {}", format!("{k:?}"), c(&mut h, k));
    }
    let secs = wall.elapsed().as_secs_f64();
    println!(
        "\n{cycles} cycles = {:.1} us of NIC time at 250 MHz; wall time {secs:.1} s ({:.2} M cycles/s incl. host-side work)",
        cycles as f64 / 250.0,
        h.cycle() as f64 / secs / 1e6
    );
    let ok = delivered.iter().sum::<usize>() == expected_delivered
        && wrong == 0
        && sent_ok == echoed
        && h.mac_tx.frames.len() == echoed;
    drop(h);
    let part2 = driver_phase();
    let transactions: usize = arg(&args, "--transactions")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let part3 = toe_simapps::tcpdemo::run(transactions, 16);
    let ok = ok && part2 && part3;
    println!(
        "{}",
        if ok {
            "result: OK"
        } else {
            "result: MISMATCH (see figures above)"
        }
    );
    if !ok {
        std::process::exit(1);
    }
}

/// Part 2: the same RTL as a device behind the driver.  The simulated NIC
/// runs in a thread and is reached only through the shared-memory
/// transport (every register access a real AXI4-Lite transaction, every
/// DMA into the shared window), exactly as `cargo xtask sim` serves it to
/// another process.  The host library (driver + ARP/IPv4/ICMP layer) and
/// an independent stack (smoltcp, in process, on the wire) ping each other.
fn driver_phase() -> bool {
    use smoltcp::time::Instant as SmolInstant;
    use std::time::Duration;
    use toe_driver::net::{Host, NetConfig, NetIf, Received};
    use toe_driver::nic::{Nic, NicConfig};
    use toe_sim_support::peer::SmolPeer;
    use toe_sim_support::simdev::SimThread;
    const PEER: [u8; 4] = [10, 5, 0, 1];
    const US: [u8; 4] = [10, 5, 0, 2];
    println!("
--- part 2: the host driver on the simulated device (shared memory, as `cargo xtask sim` serves it) ---");
    let (w, port) = toe_sim::wire::channel();
    let sim = SimThread::start("demo", w, |_| {});
    let mut nic = match Nic::open(Box::new(sim.backend()), NicConfig::default()) {
        Ok(n) => n,
        Err(e) => {
            println!("driver: {e}");
            return false;
        }
    };
    let info = nic.device().info().clone();
    println!(
        "driver found {:#010x} version {}.{} with {} queue pairs, blocks: {}",
        info.device_id,
        info.hw_major,
        info.hw_minor,
        info.queue_pairs,
        info.blocks
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    sim.settle(2000);
    let mut host = Host::new(NetIf::new(NetConfig::new([2, 0, 0, 0, 5, 2], US, 24)));
    let t0 = Instant::now();
    let now = || SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
    let mut peer = SmolPeer::new(port, [2, 0, 0, 0, 5, 1], PEER, 24, now());
    let payload = |seq: u16| -> Vec<u8> {
        (0..(16 + (seq as usize * 53) % 1400))
            .map(|i| (i ^ seq as usize) as u8)
            .collect()
    };
    let (n, m) = (200u16, 50u16);
    let (mut sent, mut ours_sent) = (0u16, 0u16);
    let mut replies = Vec::new();
    let mut ours = Vec::new();
    while (replies.len() < n as usize || ours.len() < m as usize)
        && t0.elapsed() < Duration::from_secs(120)
    {
        if sent < n && sent as usize <= replies.len() + 8 && peer.ping(US, sent, &payload(sent)) {
            sent += 1;
        }
        if ours_sent < m
            && ours_sent as usize <= ours.len() + 8
            && host
                .net
                .ping(
                    PEER.into(),
                    7,
                    ours_sent,
                    &payload(1000 + ours_sent),
                    t0.elapsed(),
                )
                .is_ok()
        {
            ours_sent += 1;
        }
        peer.poll(now());
        host.poll(&mut nic, t0.elapsed(), |r| {
            if let Received::EchoReply {
                ident: 7,
                seq,
                data,
                ..
            } = r
            {
                ours.push((seq, data.to_vec()));
            }
        });
        replies.extend(peer.replies());
    }
    let wall = t0.elapsed().as_secs_f64();
    let good = replies
        .iter()
        .filter(|(from, seq, d)| *from == US && *d == payload(*seq))
        .count();
    let ours_good = ours
        .iter()
        .filter(|(seq, d)| *d == payload(1000 + *seq))
        .count();
    let st = host.net.stats();
    let qs = nic.stats(0);
    let counters = nic.device().counters();
    drop(nic);
    let dev = sim.stop();
    println!(
        "smoltcp -> host library: {sent} echo requests, {} replies, {good} with the right payload",
        replies.len()
    );
    println!("host library -> smoltcp: {ours_sent} echo requests, {} replies, {ours_good} with the right payload", ours.len());
    println!(
        "host layer: {} frames in, {} out, {} ARP requests answered, drops: {} malformed, {} bad checksum, {} TX queue full",
        st.rx_frames, st.tx_frames, st.rx_arp_requests, st.drop_malformed, st.drop_bad_checksum, st.drop_tx_full
    );
    println!(
        "driver (queue 0): {} RX, {} TX packets, {} doorbells",
        qs.rx_packets, qs.tx_packets, qs.doorbells
    );
    let nz: Vec<String> = counters
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("NIC counters: {}", nz.join(", "));
    println!(
        "simulated device: {} register reads, {} writes through the mailbox; {} frames in, {} out; {:.2} M cycles/s; {} violations; {wall:.2} s",
        dev.register_reads, dev.register_writes, dev.frames_in, dev.frames_out, dev.cycles_per_second() / 1e6, dev.violations
    );
    let ok = good == n as usize && ours_good == m as usize && dev.violations == 0;
    println!("part 2: {}", if ok { "OK" } else { "MISMATCH" });
    ok
}
