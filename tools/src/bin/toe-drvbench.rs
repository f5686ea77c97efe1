//! Driver cost per packet, for `cargo xtask bench --driver`.
//!
//! Attaches to a simulator started with `--loopback` (every frame the NIC
//! sends comes back on RX), then repeats: send a batch of frames
//! (`measure_tx`: allocate buffers, copy the frame in, post descriptors,
//! one doorbell, and reclaim the previous batch's TX completions), wait
//! outside any measured function until the batch has looped back, receive
//! it (`measure_rx`: poll completions, copy each frame out, free the
//! buffer, refill the ring, one doorbell).  Run under
//! `valgrind --tool=callgrind --toggle-collect=*measure_tx*` (or rx), the
//! instruction count is the driver's alone: the simulator is another
//! process, and the waits are outside the measured functions.
use std::hint::black_box;
use std::time::{Duration, Instant};
use toe_driver::nic::{Nic, NicConfig, Packet};
use toe_driver::shm::ShmBackend;

struct Args {
    shm: String,
    batches: usize,
    batch: usize,
    len: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        shm: toe_driver::shm::DEFAULT_PATH.into(),
        batches: 20,
        batch: 128,
        len: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--shm" => a.shm = v()?,
            "--batches" => a.batches = v()?.parse().map_err(|e| format!("--batches: {e}"))?,
            "--batch" => a.batch = v()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--len" => a.len = v()?.parse().map_err(|e| format!("--len: {e}"))?,
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    if a.batch == 0 || a.batch > 256 || a.len < 60 || a.len > 1514 {
        return Err("--batch must be 1..=256 and --len 60..=1514".into());
    }
    Ok(a)
}

#[inline(never)]
fn measure_tx(nic: &mut Nic, frame: &[u8], n: usize, out: &mut Vec<Packet>) -> usize {
    for _ in 0..n {
        let Some(mut p) = nic.alloc(0) else { break };
        nic.write(&mut p, 0, frame);
        out.push(p);
    }
    let mut sent = 0;
    while !out.is_empty() {
        sent += nic.tx_burst(0, out);
    }
    sent
}

#[inline(never)]
fn measure_rx(nic: &mut Nic, n: usize, buf: &mut [u8], polls: &mut usize) -> usize {
    let mut got = 0;
    let mut pkts = Vec::with_capacity(64);
    while got < n {
        *polls += 1;
        nic.rx_burst(0, &mut pkts, 64);
        for p in pkts.drain(..) {
            nic.read(&p, 0, &mut buf[..p.len]);
            black_box(&buf[..p.len]);
            nic.free(p);
            got += 1;
        }
    }
    got
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("toe-drvbench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&a) {
        eprintln!("toe-drvbench: {e}");
        std::process::exit(1);
    }
}

fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let backend = ShmBackend::open(&a.shm, Duration::from_secs(120))?;
    let cfg = NicConfig {
        queue_pairs: 1,
        log2_ring: 8,
        rss_key: None,
        ..NicConfig::default()
    };
    let mut nic = Nic::open(Box::new(backend), cfg)?;
    // A frame of a local experimental EtherType: delivered as non-IP.
    let mut frame = vec![0u8; a.len];
    frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    for (i, b) in frame[14..].iter_mut().enumerate() {
        *b = i as u8;
    }
    // Let the NIC fetch the RX descriptors first.
    std::thread::sleep(Duration::from_millis(50));
    let mut out = Vec::with_capacity(a.batch);
    let mut buf = vec![0u8; 2048];
    let (mut tx, mut rx, mut polls) = (0, 0, 0);
    let start = Instant::now();
    for b in 0..a.batches {
        tx += measure_tx(&mut nic, &frame, a.batch, &mut out);
        // Unmeasured wait until the batch is back in the RX ring.
        let want = ((b + 1) * a.batch) as u64;
        let t = Instant::now();
        while nic.device().queue_counters(0).rx_packets < want {
            if t.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "batch {b}: only {} of {want} frames came back: counters {:?}",
                    nic.device().queue_counters(0).rx_packets,
                    nic.device().counters()
                )
                .into());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // Completions follow the counted frames by a few cycles.
        std::thread::sleep(Duration::from_millis(2));
        rx += measure_rx(&mut nic, a.batch, &mut buf, &mut polls);
    }
    let st = nic.stats(0);
    println!(
        "toe-drvbench: {tx} sent, {rx} received in {} batches of {} ({}-byte frames), {polls} RX polls, {} doorbells, {:.2} s",
        a.batches,
        a.batch,
        a.len,
        st.doorbells,
        start.elapsed().as_secs_f64()
    );
    if st.tx_errors != 0 || st.bad_completions != 0 {
        return Err(format!("driver errors: {st:?}").into());
    }
    Ok(())
}
