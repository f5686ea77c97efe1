//! Simulation speed of the full design, in clock cycles per second.
use crate::bfm::MacFrame;
use crate::harness::{Harness, HarnessConfig};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::Instant;

/// What to measure.
#[derive(Clone, Debug, Default)]
pub struct SpeedOptions {
    /// Keep the MAC RX port busy with back-to-back frames (64..1518 bytes,
    /// Ethernet/IPv4/TCP headers, random payload) instead of idling.
    pub rx_traffic: bool,
    /// Use the tracing-capable model (without writing a waveform).
    pub traceable: bool,
    /// Write an FST waveform here while measuring.
    pub fst: Option<PathBuf>,
}

/// Result of [`measure_speed_with`].
#[derive(Clone, Copy, Debug)]
pub struct Speed {
    pub cycles: u64,
    /// Wall-clock time of the measured cycles.
    pub seconds: f64,
    pub cycles_per_second: f64,
    /// Processor time of the simulating thread for the same cycles: what
    /// one core delivers when nothing else competes for it (on a shared
    /// machine the wall-clock figure falls with the load, this one much
    /// less; caches and memory bandwidth are still shared).
    pub cpu_seconds: f64,
    pub cycles_per_cpu_second: f64,
    /// Clock-low evaluations the shim did not run (every cycle on the
    /// one-evaluation path of `Dut::step`).
    pub skipped_evals: u64,
    /// Rising edges evaluated without the input-combinational region.
    pub skipped_ico: u64,
    /// MAC RX frames the design took during the measurement.
    pub rx_frames: u64,
}

/// A plausible Ethernet/IPv4/TCP frame of `len` bytes (checksums not
/// computed: only simulation activity matters here).
pub fn filler_frame(rng: &mut impl Rng, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(54)];
    rng.fill(&mut f[54..]);
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    let ip_len = (f.len() - 14) as u16;
    f[16..18].copy_from_slice(&ip_len.to_be_bytes());
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&[10, 0, 0, 2]);
    f[30..34].copy_from_slice(&[10, 0, 0, 1]);
    f[34..36].copy_from_slice(&rng.gen::<u16>().to_be_bytes());
    f[36..38].copy_from_slice(&80u16.to_be_bytes());
    f[46] = 0x50;
    f[47] = 0x18;
    f
}

/// Idle run of the fast model: cycles per second.
pub fn measure_speed(cycles: u64) -> f64 {
    measure_speed_with(cycles, &SpeedOptions::default()).cycles_per_second
}

/// Runs the full design for `cycles` cycles (after reset and a warm-up)
/// and measures wall-clock speed, model and harness included.
pub fn measure_speed_with(cycles: u64, opt: &SpeedOptions) -> Speed {
    let mut h = Harness::new(HarnessConfig {
        traceable: opt.traceable,
        fst: opt.fst.clone(),
        use_env: false,
        ..Default::default()
    });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut feed = |h: &mut Harness| {
        while opt.rx_traffic && h.mac_rx.pending() < 4 {
            let len = rng.gen_range(64..=1518);
            let f = filler_frame(&mut rng, len);
            h.mac_rx.push(MacFrame::new(f));
        }
    };
    for _ in 0..1000 {
        feed(&mut h);
        h.tick();
    }
    let frames0 = h.mac_rx.sent.len();
    let skipped0 = h.dut.skipped_evals();
    let ico0 = h.dut.skipped_ico_regions();
    let t = Instant::now();
    let c = thread_cpu_seconds();
    let mut left = cycles;
    while left > 0 {
        feed(&mut h);
        let n = left.min(64);
        h.run(n);
        left -= n;
    }
    let seconds = t.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds() - c;
    Speed {
        cycles,
        seconds,
        cycles_per_second: cycles as f64 / seconds,
        cpu_seconds,
        cycles_per_cpu_second: cycles as f64 / cpu_seconds,
        skipped_evals: h.dut.skipped_evals() - skipped0,
        skipped_ico: h.dut.skipped_ico_regions() - ico0,
        rx_frames: (h.mac_rx.sent.len() - frames0) as u64,
    }
}

/// Processor time the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}
