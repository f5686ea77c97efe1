//! The simulated device: the Verilated NIC behind the shared-memory
//! transport of `toe_contract::shm`, with its MAC ports on a [`Wire`].
//!
//! A driver in another process (or another thread) maps the same file and
//! sees BAR0 through the mailbox lanes and host memory through the DMA
//! window.  Each lane's requests are performed in order; the lanes are
//! served round-robin (one request per lane per turn) and are not ordered
//! with each other, like posted writes from different CPUs on PCIe.
//! Every register access becomes a real AXI4-Lite transaction on the RTL's
//! register port (there is no shadow register file here), and every DMA of
//! the RTL lands in the window.  DMA outside the window is answered with an
//! error response (as an IOMMU fault would be) and counted.
use crate::bfm::{AxilResult, MacFrame};
use crate::harness::{Harness, HarnessConfig};
use crate::wire::Wire;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use toe_contract::shm;
use toe_contract::MIN_FRAME;

/// How the simulated device is set up.
#[derive(Clone, Debug)]
pub struct DeviceConfig {
    /// The shared file (created, truncated, removed at the end).
    pub path: PathBuf,
    /// Bus address and length of the DMA window.
    pub window_base: u64,
    pub window_len: u64,
    /// The harness (seed, host memory latency, pcap of the wire, FST).
    pub harness: HarnessConfig,
    /// Register accesses performed concurrently (in order) at most, over
    /// all lanes.
    pub axil_depth: usize,
    /// Mailbox lanes served (1 to `shm::MAX_LANES`; lane 0 is the
    /// driver's main path, the others are for threads of their own).
    pub lanes: usize,
}

impl DeviceConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DeviceConfig {
            path: path.into(),
            window_base: shm::DEFAULT_WINDOW_BASE,
            window_len: shm::DEFAULT_WINDOW_LEN,
            harness: HarnessConfig {
                // A misbehaving driver must not bring the simulator down:
                // violations are reported and counted instead.
                panic_on_violation: false,
                ..HarnessConfig::default()
            },
            axil_depth: 4,
            lanes: shm::MAX_LANES,
        }
    }
}

/// What the simulated device did.
#[derive(Clone, Debug, Default)]
pub struct DeviceStats {
    pub cycles: u64,
    pub wall: Duration,
    pub register_reads: u64,
    pub register_writes: u64,
    pub resets: u64,
    /// Mailbox slots with an unknown op or a bad address.
    pub bad_requests: u64,
    /// Requests taken from each lane (index = lane).
    pub lane_requests: Vec<u64>,
    /// When the run ended: requests each lane's driver had published and
    /// the simulator had not yet taken (a stalled mailbox shows here).
    pub lane_untaken: Vec<u64>,
    /// When the run ended: requests taken and not yet performed, all lanes.
    pub in_flight: u64,
    /// Frames from the wire into MAC RX (after padding runts).
    pub frames_in: u64,
    /// Frames from MAC TX onto the wire.
    pub frames_out: u64,
    /// Protocol violations and DMA faults recorded by the bus models.
    pub violations: u64,
}

impl DeviceStats {
    /// Simulated cycles per wall-clock second.
    pub fn cycles_per_second(&self) -> f64 {
        self.cycles as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// The shared file, mapped.
struct Mapping {
    ptr: *mut u8,
    len: usize,
    view: shm::View,
    _file: File,
}

unsafe impl Send for Mapping {}

impl Mapping {
    fn create(path: &Path, len: u64) -> io::Result<Mapping> {
        let ctx = |e: io::Error, what: &str| {
            io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| ctx(e, "cannot create the shared file"))?;
        file.set_len(len).map_err(|e| ctx(e, "cannot size"))?;
        // SAFETY: mapping a file we own, shared, for its whole length.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(ctx(io::Error::last_os_error(), "cannot map"));
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len: len as usize,
            // SAFETY: the whole file, mapped until `Mapping` drops.
            view: unsafe { shm::View::new(ptr.cast(), len as usize) },
            _file: file,
        })
    }
    fn u32_at(&self, off: usize) -> &AtomicU32 {
        self.view.u32_at(off)
    }
    fn u64_at(&self, off: usize) -> &AtomicU64 {
        self.view.u64_at(off)
    }
    fn slot(&self, lane: usize, index: u64, field: usize) -> &AtomicU32 {
        self.view.lane_slot(lane, index, field)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A request taken from a mailbox lane and being performed.
struct InFlight {
    index: u64,
    ticket: Option<u64>,
}

/// What a lane's next request did when offered.
enum Take {
    Taken,
    /// A reset that must wait for the accesses in flight.
    ResetWaits,
}

/// The simulated device.
pub struct SimDevice {
    pub h: Harness,
    map: Mapping,
    cfg: DeviceConfig,
    wire: Box<dyn Wire>,
    stats: DeviceStats,
    /// Per lane, the requests being performed, in order.
    inflight: Vec<VecDeque<InFlight>>,
    /// Per lane, the index of the next request to take (the simulator is
    /// the only consumer, so this is the truth; `tail` trails it by the
    /// requests in flight).
    next: Vec<u64>,
    /// Requests in flight over all lanes.
    outstanding: usize,
    /// The lane served first in the next turn (round-robin).
    rotor: usize,
    /// A lane whose next request is a reset waiting for the others.
    reset_waits: Option<usize>,
    seen_violations: usize,
    /// Print every mailbox request (env `TOE_TRACE_MAILBOX`).
    trace: bool,
}

impl SimDevice {
    /// Creates the shared file, builds the model and publishes the file
    /// (magic written last).
    pub fn create(cfg: DeviceConfig, wire: Box<dyn Wire>) -> io::Result<SimDevice> {
        if cfg.lanes == 0 || cfg.lanes > shm::MAX_LANES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} mailbox lanes asked for, the layout has 1 to {}",
                    cfg.lanes,
                    shm::MAX_LANES
                ),
            ));
        }
        if cfg.window_len == 0 || !cfg.window_len.is_multiple_of(4096) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "DMA window length {} is not a positive multiple of 4096",
                    cfg.window_len
                ),
            ));
        }
        let map = Mapping::create(&cfg.path, shm::file_len(cfg.window_len))?;
        let mut h = Harness::new(cfg.harness.clone());
        // SAFETY: the window is part of `map`, which lives as long as `h`
        // (both are fields of the device; `h` is declared first, so it is
        // dropped first).
        unsafe {
            h.mem.post_window(
                cfg.window_base,
                map.ptr.add(shm::WINDOW_OFF),
                cfg.window_len as usize,
            )
        };
        map.u32_at(shm::VERSION_OFF)
            .store(shm::LAYOUT_VERSION, Ordering::Relaxed);
        map.u32_at(shm::LANES_OFF)
            .store(cfg.lanes as u32, Ordering::Relaxed);
        map.u64_at(shm::WINDOW_BASE_OFF)
            .store(cfg.window_base, Ordering::Relaxed);
        map.u64_at(shm::WINDOW_LEN_OFF)
            .store(cfg.window_len, Ordering::Relaxed);
        map.u32_at(shm::SIM_PID_OFF)
            .store(std::process::id(), Ordering::Relaxed);
        map.u32_at(shm::STATE_OFF)
            .store(shm::STATE_RUNNING, Ordering::Relaxed);
        map.u64_at(shm::MAGIC_OFF)
            .store(shm::MAGIC, Ordering::Release);
        let lanes = cfg.lanes;
        Ok(SimDevice {
            h,
            map,
            cfg,
            wire,
            stats: DeviceStats {
                lane_requests: vec![0; lanes],
                ..DeviceStats::default()
            },
            inflight: (0..lanes).map(|_| VecDeque::new()).collect(),
            next: vec![0; lanes],
            outstanding: 0,
            rotor: 0,
            reset_waits: None,
            seen_violations: 0,
            trace: std::env::var_os("TOE_TRACE_MAILBOX").is_some(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.cfg.path
    }

    pub fn stats(&self) -> &DeviceStats {
        &self.stats
    }

    /// Takes new mailbox requests, round-robin over the lanes (one per
    /// lane per turn, in order within a lane), up to the configured depth
    /// over all lanes.  A reset waits until nothing is in flight and holds
    /// every lane back meanwhile.
    fn take_requests(&mut self) -> bool {
        let mut took = false;
        if let Some(lane) = self.reset_waits {
            if self.outstanding > 0 {
                return false;
            }
            self.reset_waits = None;
            let Take::Taken = self.take_one(lane) else {
                unreachable!("a reset with nothing in flight is performed")
            };
            took = true;
        }
        let lanes = self.inflight.len();
        let start = self.rotor;
        self.rotor = (self.rotor + 1) % lanes;
        loop {
            let mut progress = false;
            for i in 0..lanes {
                if self.outstanding >= self.cfg.axil_depth {
                    return took;
                }
                let lane = (start + i) % lanes;
                if self.next[lane] >= self.map.view.head(lane).load(Ordering::Acquire) {
                    continue;
                }
                match self.take_one(lane) {
                    Take::Taken => {
                        progress = true;
                        took = true;
                    }
                    Take::ResetWaits => {
                        self.reset_waits = Some(lane);
                        return took;
                    }
                }
            }
            if !progress {
                return took;
            }
        }
    }

    /// Takes the next request of `lane` (the caller saw it published).
    fn take_one(&mut self, lane: usize) -> Take {
        let next = self.next[lane];
        let op = self
            .map
            .slot(lane, next, shm::SLOT_OP)
            .load(Ordering::Relaxed);
        let addr = self
            .map
            .slot(lane, next, shm::SLOT_ADDR)
            .load(Ordering::Relaxed);
        let data = self
            .map
            .slot(lane, next, shm::SLOT_DATA)
            .load(Ordering::Relaxed);
        let addr_ok = addr.is_multiple_of(4) && addr <= 0xfffc;
        let ticket = match op {
            shm::OP_READ if addr_ok => {
                self.stats.register_reads += 1;
                Some(self.h.axil.read(addr))
            }
            shm::OP_WRITE if addr_ok => {
                self.stats.register_writes += 1;
                Some(self.h.axil.write(addr, data))
            }
            shm::OP_RESET if self.outstanding == 0 => {
                self.stats.resets += 1;
                self.h.function_reset(16);
                None
            }
            // A reset waits until earlier accesses (of every lane) are done.
            shm::OP_RESET => return Take::ResetWaits,
            _ => {
                self.stats.bad_requests += 1;
                self.map
                    .slot(lane, next, shm::SLOT_DATA)
                    .store(!0, Ordering::Relaxed);
                self.map
                    .slot(lane, next, shm::SLOT_STATUS)
                    .store(shm::STATUS_BAD_OP, Ordering::Relaxed);
                None
            }
        };
        if self.trace {
            eprintln!(
                "toe-sim: cycle {} lane {lane} mailbox #{next}: op {op} addr {addr:#06x} data {data:#x}",
                self.h.cycle()
            );
        }
        self.stats.lane_requests[lane] += 1;
        self.next[lane] = next + 1;
        self.inflight[lane].push_back(InFlight {
            index: next,
            ticket,
        });
        self.outstanding += 1;
        Take::Taken
    }

    /// Completes finished requests, in order within each lane.
    fn complete_requests(&mut self) {
        if self.outstanding == 0 {
            return;
        }
        for lane in 0..self.inflight.len() {
            while let Some(f) = self.inflight[lane].front() {
                let index = f.index;
                match f.ticket {
                    Some(t) => {
                        let Some(res) = self.h.axil.take(t) else {
                            break;
                        };
                        let (data, resp) = match res {
                            AxilResult::Read { data, resp, .. } => (data, resp),
                            AxilResult::Write { resp, .. } => (0, resp),
                        };
                        let ok = resp == 0;
                        self.map
                            .slot(lane, index, shm::SLOT_DATA)
                            .store(if ok { data } else { !0 }, Ordering::Relaxed);
                        self.map.slot(lane, index, shm::SLOT_STATUS).store(
                            if ok {
                                shm::STATUS_OK
                            } else {
                                shm::STATUS_ERROR
                            },
                            Ordering::Relaxed,
                        );
                    }
                    None => {
                        if self
                            .map
                            .slot(lane, index, shm::SLOT_OP)
                            .load(Ordering::Relaxed)
                            == shm::OP_RESET
                        {
                            self.map
                                .slot(lane, index, shm::SLOT_STATUS)
                                .store(shm::STATUS_OK, Ordering::Relaxed);
                        }
                    }
                }
                self.inflight[lane].pop_front();
                self.outstanding -= 1;
                self.map.view.tail(lane).store(index + 1, Ordering::Release);
            }
        }
    }

    fn report_violations(&mut self) {
        let n = self.h.axi.violations.len()
            + self.h.mac_tx.violations.len()
            + self.h.axil.violations.len();
        if n > self.seen_violations {
            let all = self.h.violations();
            for v in all.iter().skip(self.seen_violations) {
                eprintln!("toe-sim: {v}");
            }
            self.stats.violations += (n - self.seen_violations) as u64;
            self.seen_violations = n;
        }
    }

    /// Runs until `stop` is set, the wire fails, or `max_cycles` (if any)
    /// have run.  Sleeps briefly while nothing at all happens, so an idle
    /// simulator does not hold a core.
    pub fn run(&mut self, stop: &AtomicBool, max_cycles: Option<u64>) -> io::Result<DeviceStats> {
        let start = Instant::now();
        let first_cycle = self.h.cycle();
        let mut quiet: u64 = 0;
        let result = loop {
            if stop.load(Ordering::Relaxed) {
                break Ok(());
            }
            if max_cycles.is_some_and(|m| self.h.cycle() - first_cycle >= m) {
                break Ok(());
            }
            let mut busy = self.take_requests();
            // Feed the MAC from the wire while it has little queued.
            if self.h.mac_rx.pending() < 2 && (quiet > 0 || self.h.cycle().is_multiple_of(16)) {
                match self.wire.recv() {
                    Ok(Some(mut f)) => {
                        // The MAC pads runts to the Ethernet minimum, as a
                        // sender's MAC does on a real wire.
                        if f.len() < MIN_FRAME {
                            f.resize(MIN_FRAME, 0);
                        }
                        self.h.mac_rx.push(MacFrame::new(f));
                        self.stats.frames_in += 1;
                        busy = true;
                    }
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            }
            self.h.tick();
            self.complete_requests();
            let mut sent = Ok(());
            while let Some(f) = self.h.mac_tx.pop() {
                self.stats.frames_out += 1;
                busy = true;
                sent = self.wire.send(&f.data);
                if sent.is_err() {
                    break;
                }
            }
            if let Err(e) = sent {
                break Err(e);
            }
            let cycle = self.h.cycle();
            if cycle.is_multiple_of(1024) {
                self.map
                    .u64_at(shm::CYCLE_OFF)
                    .store(cycle, Ordering::Relaxed);
                self.report_violations();
            }
            busy |= self.outstanding > 0
                || self.reset_waits.is_some()
                || !self.h.mac_rx.is_idle()
                || !self.h.axi.is_idle()
                || !self.h.axil.is_idle();
            if busy {
                quiet = 0;
            } else {
                quiet += 1;
                // Nothing moved for a while: nap between polls.
                if quiet >= 4096 && quiet.is_multiple_of(256) {
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
        };
        self.report_violations();
        self.map
            .u64_at(shm::CYCLE_OFF)
            .store(self.h.cycle(), Ordering::Relaxed);
        self.stats.cycles += self.h.cycle() - first_cycle;
        self.stats.wall += start.elapsed();
        self.stats.lane_untaken = (0..self.next.len())
            .map(|k| {
                let head = self.map.view.head(k).load(Ordering::Acquire);
                head.saturating_sub(self.next[k])
            })
            .collect();
        self.stats.in_flight = self.outstanding as u64;
        self.h.flush();
        result.map(|()| self.stats.clone())
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        self.map
            .u32_at(shm::STATE_OFF)
            .store(shm::STATE_STOPPED, Ordering::Release);
        let _ = std::fs::remove_file(&self.cfg.path);
    }
}
