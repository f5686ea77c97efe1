//! The simulated device in a thread of the test process, served through
//! the same shared-memory transport the simulator process uses.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use toe_driver::nic::{Nic, NicConfig};
use toe_driver::shm::ShmBackend;
use toe_sim::device::{DeviceConfig, DeviceStats, SimDevice};
use toe_sim::wire::Wire;

pub struct SimThread {
    pub path: PathBuf,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<DeviceStats>>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A unique shared-file path for this test.
pub fn unique_path(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(format!(
        "/dev/shm/toe-test-{}-{n}-{tag}",
        std::process::id()
    ))
}

impl SimThread {
    /// Starts a simulated device on `wire`; `tweak` adjusts the config.
    pub fn start(
        tag: &str,
        wire: impl Wire + 'static,
        tweak: impl FnOnce(&mut DeviceConfig) + Send + 'static,
    ) -> SimThread {
        let path = unique_path(tag);
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (path.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name(format!("sim-{tag}"))
            .spawn(move || {
                let mut cfg = DeviceConfig::new(p);
                tweak(&mut cfg);
                let mut dev = SimDevice::create(cfg, Box::new(wire)).expect("simulated device");
                dev.run(&s, None).expect("simulator loop")
            })
            .unwrap();
        SimThread {
            path,
            stop,
            handle: Some(handle),
        }
    }

    /// Starts a simulated device on `wire` and opens the driver on it
    /// (default configuration), then lets the NIC fetch its RX buffers
    /// (see [`SimThread::settle`]).
    pub fn with_nic(tag: &str, wire: impl Wire + 'static) -> (SimThread, Nic) {
        let sim = SimThread::start(tag, wire, |_| {});
        let nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("open the NIC");
        sim.settle(2000);
        (sim, nic)
    }

    /// Attaches a driver backend (waits for the device to appear).
    pub fn backend(&self) -> ShmBackend {
        ShmBackend::open(&self.path, Duration::from_secs(60)).expect("attach to simulated device")
    }

    /// Simulated cycles so far, as the simulator publishes them (every 1024
    /// cycles) in the shared file.
    pub fn cycles(&self) -> u64 {
        published_cycles(&self.path)
    }

    /// Waits until the simulated clock has advanced by `n` cycles: after
    /// bring-up, the NIC fetches the posted RX descriptors by DMA (about
    /// 1 us); frames arriving before that are dropped for want of a buffer,
    /// as on a real NIC.
    pub fn settle(&self, n: u64) {
        settle(&self.path, n)
    }

    /// Stops the simulator and returns what it did.
    pub fn stop(mut self) -> DeviceStats {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .unwrap()
            .join()
            .expect("simulator thread panicked")
    }
}

/// The simulated clock of the simulator serving `path` (a thread's or
/// another process's), as it publishes it in the shared file every 1024
/// cycles; 0 while the file cannot be read.
pub fn published_cycles(path: &Path) -> u64 {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 8];
    match std::fs::File::open(path)
        .and_then(|f| f.read_exact_at(&mut b, toe_contract::shm::CYCLE_OFF as u64))
    {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0,
    }
}

/// Waits until the simulated clock of the simulator serving `path` has
/// advanced by `n` cycles; panics if it does not within 120 s.
pub fn settle(path: &Path, n: u64) {
    let start = published_cycles(path);
    let t = std::time::Instant::now();
    while published_cycles(path) < start + n + 1024 {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "simulated clock stuck at {}",
            published_cycles(path)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

impl Drop for SimThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
