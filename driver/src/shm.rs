//! Simulation backend: the Verilated NIC served by the simulator
//! (`cargo xtask sim`, or `toe_sim::device::SimDevice` in a thread) through
//! the shared-memory transport described in `toe_contract::shm`.
//!
//! Register reads and writes go through a mailbox and become AXI4-Lite
//! transactions on the RTL's port; DMA memory is carved out of the shared
//! window.  Writes are posted; a read returns after every earlier write of
//! the same mailbox has reached the RTL.  A request the simulator has not
//! performed after 2^24 simulated cycles, or while its clock stood still
//! for 5 s, marks the device gone: reads then return all ones, writes are
//! dropped, and `check` names the cause.
//!
//! The backend produces on mailbox lane 0; [`Backend::lane`] hands lanes
//! 1.. to other threads ([`ShmLane`]), each the single producer of its own
//! mailbox, so that threads ringing doorbells share no lock.  The mapping
//! (registers and DMA window) lives until the backend and all its lanes are
//! gone, and only then is the device released to other processes.
use crate::backend::{Backend, DmaRegion, Lane, Registers};
use crate::error::{Error, Result};
use std::cell::Cell;
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toe_contract::shm;

/// Default location of the shared file.
pub const DEFAULT_PATH: &str = "/dev/shm/toe-sim";

/// How long a register read may wait while the simulator's clock does not
/// move before the device is declared gone.
const STALL_LIMIT: Duration = Duration::from_secs(5);

/// How many simulated cycles a request may wait to be performed while the
/// clock runs before the device is declared gone: 2^24 cycles, 67 ms of
/// device time at 250 MHz, the upper end of PCIe's completion timeout
/// ranges.  The simulator performs a request in a few cycles (a full
/// mailbox of every lane in well under a million), so a request this late
/// means it stopped serving the mailbox; a driver then gets an error
/// instead of waiting for ever.
const REQUEST_CYCLE_LIMIT: u64 = 1 << 24;

/// The shared file, mapped; shared by the backend and its lanes.  Dropped
/// with the last of them: the device is released (client pid cleared) and
/// the file unmapped.
struct Mapping {
    path: PathBuf,
    ptr: *mut u8,
    len: usize,
    view: shm::View,
    /// Lanes the simulator serves (header field `LANES_OFF`).
    lanes: usize,
    /// Which lanes have a producer in this process (lane 0: the backend).
    taken: Vec<AtomicBool>,
}

// The mapping is plain shared memory; every access to the header and the
// mailboxes is atomic, the window is only reached through raw pointers.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    fn u32_at(&self, off: usize) -> &AtomicU32 {
        self.view.u32_at(off)
    }
    fn u64_at(&self, off: usize) -> &AtomicU64 {
        self.view.u64_at(off)
    }

    /// Simulated cycles so far, as published by the simulator.
    fn cycles(&self) -> u64 {
        self.u64_at(shm::CYCLE_OFF).load(Ordering::Relaxed)
    }

    /// Waits until the simulator has performed every request of `lane`
    /// before `index`; the error says why it never will.
    fn wait_tail(&self, lane: usize, index: u64) -> std::result::Result<(), String> {
        let tail = self.view.tail(lane);
        let mut spins = 0u32;
        let first_cycle = self.cycles();
        let mut last_cycle = first_cycle;
        let mut last_move = Instant::now();
        while tail.load(Ordering::Acquire) < index {
            spins += 1;
            if spins < 1000 {
                std::hint::spin_loop();
                continue;
            }
            std::thread::yield_now();
            if !spins.is_multiple_of(64) {
                continue;
            }
            if self.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
                return Err("the simulator has stopped".into());
            }
            let c = self.cycles();
            if c.saturating_sub(first_cycle) > REQUEST_CYCLE_LIMIT {
                return Err(format!(
                    "request {} of mailbox lane {lane} not performed after {} simulated \
                     cycles (performed up to {}): the simulator stopped serving the mailbox",
                    index - 1,
                    c - first_cycle,
                    tail.load(Ordering::Acquire)
                ));
            }
            if c != last_cycle {
                last_cycle = c;
                last_move = Instant::now();
            } else if last_move.elapsed() > STALL_LIMIT {
                return Err(format!(
                    "the simulator's clock has not moved for {STALL_LIMIT:?}"
                ));
            }
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        fence(Ordering::SeqCst);
        let _ = self.u32_at(shm::CLIENT_PID_OFF).compare_exchange(
            std::process::id(),
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
        // SAFETY: unmapping our own mapping; nothing refers to it any more
        // (the backend, its lanes and their DMA regions are gone).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The single producer of one mailbox lane.
struct Producer {
    map: Arc<Mapping>,
    lane: usize,
    /// Next slot to fill (this is the only producer of the lane).
    head: Cell<u64>,
    /// Set when the simulator stopped answering; reads then return all ones.
    gone: Cell<Option<String>>,
}

impl Producer {
    fn new(map: Arc<Mapping>, lane: usize) -> Producer {
        // Acquire: the previous producer of this lane (if any) published its
        // last head before giving the lane back.
        let head = map.view.head(lane).load(Ordering::Acquire);
        Producer {
            map,
            lane,
            head: Cell::new(head),
            gone: Cell::new(None),
        }
    }

    fn describe(&self) -> String {
        match self.lane {
            0 => format!("sim {}", self.map.path.display()),
            k => format!("sim {} lane {k}", self.map.path.display()),
        }
    }

    fn wait_tail(&self, index: u64) -> Result<()> {
        self.map
            .wait_tail(self.lane, index)
            .map_err(|why| self.mark_gone(&why))
    }

    fn mark_gone(&self, why: &str) -> Error {
        self.gone.set(Some(why.to_string()));
        Error::DeviceGone {
            backend: format!("{} ({why})", self.describe()),
        }
    }

    fn is_gone(&self) -> bool {
        let g = self.gone.take();
        let r = g.is_some();
        self.gone.set(g);
        r
    }

    /// Queues one request; returns its index.
    fn post(&self, op: u32, addr: u32, data: u32) -> Result<u64> {
        let i = self.head.get();
        // Never more than MAILBOX_SLOTS outstanding.
        self.wait_tail((i + 1).saturating_sub(shm::MAILBOX_SLOTS as u64))?;
        let v = &self.map.view;
        v.lane_slot(self.lane, i, shm::SLOT_OP)
            .store(op, Ordering::Relaxed);
        v.lane_slot(self.lane, i, shm::SLOT_ADDR)
            .store(addr, Ordering::Relaxed);
        v.lane_slot(self.lane, i, shm::SLOT_DATA)
            .store(data, Ordering::Relaxed);
        v.lane_slot(self.lane, i, shm::SLOT_STATUS)
            .store(0, Ordering::Relaxed);
        self.head.set(i + 1);
        // Release: the slot, and every earlier write to DMA memory
        // (descriptors before a doorbell), are visible before the new head.
        v.head(self.lane).store(i + 1, Ordering::Release);
        Ok(i)
    }

    fn slot(&self, i: u64, field: usize) -> u32 {
        self.map
            .view
            .lane_slot(self.lane, i, field)
            .load(Ordering::Relaxed)
    }

    fn read32(&self, off: u32) -> u32 {
        if self.is_gone() {
            return !0;
        }
        let Ok(i) = self.post(shm::OP_READ, off, 0) else {
            return !0;
        };
        if self.wait_tail(i + 1).is_err() {
            return !0;
        }
        if self.slot(i, shm::SLOT_STATUS) != shm::STATUS_OK {
            return !0;
        }
        self.slot(i, shm::SLOT_DATA)
    }

    fn write32(&self, off: u32, val: u32) {
        if self.is_gone() {
            return;
        }
        // Errors mark the device gone; `check` reports them.
        let _ = self.post(shm::OP_WRITE, off, val);
    }

    fn check(&self) -> Result<()> {
        let g = self.gone.take();
        self.gone.set(g.clone());
        if let Some(why) = g {
            return Err(Error::DeviceGone {
                backend: format!("{} ({why})", self.describe()),
            });
        }
        if self.map.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
            return Err(self.mark_gone("the simulator has stopped"));
        }
        Ok(())
    }
}

pub struct ShmBackend {
    /// Lane 0.
    p: Producer,
    window_base: u64,
    window_len: usize,
    /// Bytes of the window handed out so far.
    next_dma: usize,
}

/// A register path of its own for one thread: mailbox lane `k` >= 1 of a
/// [`ShmBackend`] (see [`Backend::lane`]).  It keeps the mapping, and so
/// the DMA window, alive.
pub struct ShmLane {
    p: Producer,
}

// The producers' cells are only touched by their one owner; the mapping is
// shared through atomics (see `Mapping`).
unsafe impl Send for ShmBackend {}
unsafe impl Send for ShmLane {}

fn sim_err(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Sim(format!("{}: {why}", path.display()))
}

impl ShmBackend {
    /// Attaches to the simulator serving `path`, waiting up to `wait` for it
    /// to publish the file.
    pub fn open(path: impl AsRef<Path>, wait: Duration) -> Result<ShmBackend> {
        let path = path.as_ref();
        let deadline = Instant::now() + wait;
        loop {
            match Self::try_open(path) {
                Ok(b) => return Ok(b),
                Err(e @ Error::Sim(_)) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn try_open(path: &Path) -> Result<ShmBackend> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    sim_err(
                        path,
                        "no simulator serves this file (start one with `cargo xtask sim`)",
                    )
                } else {
                    Error::io(format!("cannot open {}", path.display()), e)
                }
            })?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?
            .len();
        if len < shm::WINDOW_OFF as u64 + 4096 {
            return Err(sim_err(
                path,
                format!("file is {len} bytes, too short for a simulated device"),
            ));
        }
        // SAFETY: shared mapping of the whole file, which stays mapped until
        // `Mapping` drops (the file descriptor may be closed after mmap).
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
            return Err(Error::io(
                format!("cannot map {}", path.display()),
                std::io::Error::last_os_error(),
            ));
        }
        let mut map = Mapping {
            path: path.to_path_buf(),
            ptr: ptr.cast(),
            len: len as usize,
            // SAFETY: the whole file, mapped until `Mapping` drops.
            view: unsafe { shm::View::new(ptr.cast(), len as usize) },
            lanes: 0,
            taken: Vec::new(),
        };
        if map.u64_at(shm::MAGIC_OFF).load(Ordering::Acquire) != shm::MAGIC {
            return Err(sim_err(path, "not (yet) a simulated device: bad magic"));
        }
        let version = map.u32_at(shm::VERSION_OFF).load(Ordering::Relaxed);
        if version != shm::LAYOUT_VERSION {
            return Err(Error::Config(format!(
                "{}: simulator speaks transport version {version}, this driver {} \
                 (version 2 added mailbox lanes): run a simulator built from the same \
                 tree as the driver (`cargo xtask sim`)",
                path.display(),
                shm::LAYOUT_VERSION
            )));
        }
        let lanes = map.u32_at(shm::LANES_OFF).load(Ordering::Relaxed) as usize;
        if lanes == 0 || lanes > shm::MAX_LANES {
            return Err(Error::Config(format!(
                "{}: simulator announces {lanes} mailbox lanes, the layout has 1 to {}",
                path.display(),
                shm::MAX_LANES
            )));
        }
        map.lanes = lanes;
        map.taken = (0..lanes).map(|k| AtomicBool::new(k == 0)).collect();
        let map = Arc::new(map);
        let mut b = ShmBackend {
            p: Producer::new(map.clone(), 0),
            window_base: 0,
            window_len: 0,
            next_dma: 0,
        };
        if map.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
            return Err(Error::DeviceGone {
                backend: b.describe(),
            });
        }
        b.window_base = map.u64_at(shm::WINDOW_BASE_OFF).load(Ordering::Relaxed);
        let wlen = map.u64_at(shm::WINDOW_LEN_OFF).load(Ordering::Relaxed);
        if shm::file_len(wlen) > len {
            return Err(Error::Config(format!(
                "{}: window of {wlen} bytes does not fit a file of {len}",
                path.display()
            )));
        }
        b.window_len = wlen as usize;
        b.claim()?;
        b.p.head.set(map.view.head(0).load(Ordering::Relaxed));
        // Wait for requests of an earlier driver to drain, on every lane.
        for k in 0..lanes {
            let head = map.view.head(k).load(Ordering::Acquire);
            map.wait_tail(k, head).map_err(|why| b.p.mark_gone(&why))?;
        }
        Ok(b)
    }

    /// Becomes the one driver of this device.
    fn claim(&self) -> Result<()> {
        let me = std::process::id();
        let slot = self.p.map.u32_at(shm::CLIENT_PID_OFF);
        loop {
            let cur = slot.load(Ordering::Acquire);
            let free = cur == 0 || cur == me || !Path::new(&format!("/proc/{cur}")).exists();
            if !free {
                return Err(sim_err(
                    &self.p.map.path,
                    format!("another driver (process {cur}) is attached to this simulated device"),
                ));
            }
            if slot
                .compare_exchange(cur, me, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Ok(());
            }
        }
    }

    /// Simulated cycles so far, as published by the simulator.
    pub fn sim_cycles(&self) -> u64 {
        self.p.map.cycles()
    }

    /// Mailbox lanes the simulator serves (lane 0 is this backend's own).
    pub fn lanes(&self) -> u32 {
        self.p.map.lanes as u32
    }
}

impl Backend for ShmBackend {
    fn describe(&self) -> String {
        self.p.describe()
    }

    fn read32(&self, off: u32) -> u32 {
        self.p.read32(off)
    }

    fn write32(&self, off: u32, val: u32) {
        self.p.write32(off, val)
    }

    fn check(&self) -> Result<()> {
        self.p.check()
    }

    fn reset(&mut self) -> Result<()> {
        self.check()?;
        let i = self.p.post(shm::OP_RESET, 0, 0)?;
        self.p.wait_tail(i + 1)
    }

    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion> {
        let len = len.max(1).next_multiple_of(4096);
        let avail = self.window_len - self.next_dma;
        if len > avail {
            return Err(Error::DmaExhausted {
                backend: self.describe(),
                requested: len,
                available: avail,
            });
        }
        let off = self.next_dma;
        self.next_dma += len;
        // SAFETY: inside the shared window, which stays mapped while the
        // backend or any of its lanes lives; the simulator's DMA reaches it
        // at window_base+off.
        let r = unsafe {
            DmaRegion::new(
                self.p.map.ptr.add(shm::WINDOW_OFF + off),
                self.window_base + off as u64,
                len,
            )
        };
        r.fill(0, len, 0);
        Ok(r)
    }

    fn lane(&self, k: u32) -> Result<Box<Lane>> {
        let map = &self.p.map;
        let k = k as usize;
        if k == 0 {
            return Err(Error::Config(format!(
                "{}: lane 0 is the backend's own register path; lanes for other threads \
                 are 1 to {}",
                self.describe(),
                map.lanes - 1
            )));
        }
        if k >= map.lanes {
            return Err(Error::Config(format!(
                "{}: lane {k} asked for, the simulator serves lanes 0 to {} (lane 0 is \
                 the backend's own; start it with more lanes)",
                self.describe(),
                map.lanes - 1
            )));
        }
        if map.taken[k].swap(true, Ordering::AcqRel) {
            return Err(Error::Config(format!(
                "{}: lane {k} is already in use (one producer per lane; drop the other \
                 handle first)",
                self.describe()
            )));
        }
        Ok(Box::new(ShmLane {
            p: Producer::new(map.clone(), k),
        }))
    }

    fn sync_lanes(&self) -> Result<()> {
        let map = &self.p.map;
        for k in 1..map.lanes {
            let head = map.view.head(k).load(Ordering::Acquire);
            map.wait_tail(k, head)
                .map_err(|why| self.p.mark_gone(&why))?;
        }
        Ok(())
    }
}

impl Registers for ShmLane {
    fn describe(&self) -> String {
        self.p.describe()
    }
    fn read32(&self, off: u32) -> u32 {
        self.p.read32(off)
    }
    fn write32(&self, off: u32, val: u32) {
        self.p.write32(off, val)
    }
    fn check(&self) -> Result<()> {
        self.p.check()
    }
}

impl ShmLane {
    /// The lane's number.
    pub fn index(&self) -> u32 {
        self.p.lane as u32
    }
}

impl Drop for ShmBackend {
    fn drop(&mut self) {
        // Let posted writes land before detaching; the mapping goes with
        // the last lane.  Not when the device is known gone: nothing would.
        if !self.p.is_gone() {
            let _ = self.p.wait_tail(self.p.head.get());
        }
    }
}

impl Drop for ShmLane {
    fn drop(&mut self) {
        if !self.p.is_gone() {
            let _ = self.p.wait_tail(self.p.head.get());
        }
        // Release: the next producer of this lane sees our last head.
        self.p.map.taken[self.p.lane].store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::AtomicBool;

    /// A file laid out as a simulator publishes it, without a simulator.
    fn fake_file(dir: &Path, version: u32, lanes: u32) -> PathBuf {
        let path = dir.join("toe-sim");
        let wlen = 1u64 << 20;
        let mut hdr = vec![0u8; shm::HEADER_BYTES];
        let put = |h: &mut Vec<u8>, off: usize, b: &[u8]| h[off..off + b.len()].copy_from_slice(b);
        put(&mut hdr, shm::MAGIC_OFF, &shm::MAGIC.to_le_bytes());
        put(&mut hdr, shm::VERSION_OFF, &version.to_le_bytes());
        put(&mut hdr, shm::STATE_OFF, &shm::STATE_RUNNING.to_le_bytes());
        put(
            &mut hdr,
            shm::WINDOW_BASE_OFF,
            &shm::DEFAULT_WINDOW_BASE.to_le_bytes(),
        );
        put(&mut hdr, shm::WINDOW_LEN_OFF, &wlen.to_le_bytes());
        put(&mut hdr, shm::LANES_OFF, &lanes.to_le_bytes());
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&hdr).unwrap();
        f.set_len(shm::file_len(wlen)).unwrap();
        path
    }

    /// Plays the simulator for the mailbox of lane `lane` of the file at
    /// `path`: performs requests in order on a register file of its own
    /// (reads return what the last write to that address stored, plus
    /// `lane << 24`), and records every write.
    fn serve(
        path: PathBuf,
        lane: usize,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<Vec<(u32, u32)>> {
        std::thread::spawn(move || {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap();
            let len = f.metadata().unwrap().len() as usize;
            // SAFETY: shared mapping of the whole file, unmapped below.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    f.as_raw_fd(),
                    0,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED);
            // SAFETY: as above.
            let v = unsafe { shm::View::new(ptr.cast(), len) };
            let mut regs = std::collections::HashMap::new();
            let mut writes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let head = v.head(lane).load(Ordering::Acquire);
                let mut tail = v.tail(lane).load(Ordering::Relaxed);
                if tail == head {
                    std::thread::yield_now();
                    continue;
                }
                while tail < head {
                    let op = v
                        .lane_slot(lane, tail, shm::SLOT_OP)
                        .load(Ordering::Relaxed);
                    let addr = v
                        .lane_slot(lane, tail, shm::SLOT_ADDR)
                        .load(Ordering::Relaxed);
                    let data = v
                        .lane_slot(lane, tail, shm::SLOT_DATA)
                        .load(Ordering::Relaxed);
                    match op {
                        shm::OP_WRITE => {
                            regs.insert(addr, data);
                            writes.push((addr, data));
                        }
                        shm::OP_READ => {
                            let r = regs.get(&addr).copied().unwrap_or(0) | (lane as u32) << 24;
                            v.lane_slot(lane, tail, shm::SLOT_DATA)
                                .store(r, Ordering::Relaxed);
                        }
                        _ => panic!("op {op}"),
                    }
                    v.lane_slot(lane, tail, shm::SLOT_STATUS)
                        .store(shm::STATUS_OK, Ordering::Relaxed);
                    tail += 1;
                    v.tail(lane).store(tail, Ordering::Release);
                }
            }
            // SAFETY: our own mapping.
            unsafe { libc::munmap(ptr, len) };
            writes
        })
    }

    #[test]
    fn an_older_simulator_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = fake_file(dir.path(), 1, 1);
        let e = ShmBackend::open(&path, Duration::ZERO)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("transport version 1, this driver 2") && e.contains("same tree"),
            "{e}"
        );
        let path = fake_file(dir.path(), shm::LAYOUT_VERSION, 0);
        let e = ShmBackend::open(&path, Duration::ZERO)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("announces 0 mailbox lanes"), "{e}");
        let path = fake_file(dir.path(), shm::LAYOUT_VERSION, 17);
        let e = ShmBackend::open(&path, Duration::ZERO)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("announces 17 mailbox lanes"), "{e}");
    }

    #[test]
    fn lanes_are_numbered_exclusive_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = fake_file(dir.path(), shm::LAYOUT_VERSION, 4);
        let b = ShmBackend::open(&path, Duration::ZERO).unwrap();
        assert_eq!(b.lanes(), 4);
        let e = b.lane(0).err().unwrap().to_string();
        assert!(e.contains("lane 0 is the backend's own"), "{e}");
        let e = b.lane(4).err().unwrap().to_string();
        assert!(
            e.contains("lane 4 asked for") && e.contains("lanes 0 to 3"),
            "{e}"
        );
        let l1 = b.lane(1).unwrap();
        assert!(l1.describe().ends_with("lane 1"), "{}", l1.describe());
        let e = b.lane(1).err().unwrap().to_string();
        assert!(e.contains("lane 1 is already in use"), "{e}");
        drop(l1);
        let _again = b.lane(1).unwrap();
        let _three = b.lane(3).unwrap();
    }

    /// A simulator whose clock runs but which never performs a request: a
    /// read fails (all ones) after the cycle limit instead of waiting for
    /// ever, and the error names the cause.
    #[test]
    fn a_mailbox_that_is_never_served_is_an_error_not_a_hang() {
        use std::io::{Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let path = fake_file(dir.path(), shm::LAYOUT_VERSION, 1);
        let stop = Arc::new(AtomicBool::new(false));
        let clock = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut f = OpenOptions::new().write(true).open(&path).unwrap();
                let mut c = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    c += 1 << 20;
                    f.seek(SeekFrom::Start(shm::CYCLE_OFF as u64)).unwrap();
                    f.write_all(&c.to_le_bytes()).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let b = ShmBackend::open(&path, Duration::ZERO).unwrap();
        let t = Instant::now();
        assert_eq!(b.read32(0x14), !0);
        assert!(t.elapsed() < STALL_LIMIT, "{:?}", t.elapsed());
        let e = b.check().expect_err("device gone").to_string();
        assert!(
            e.contains("request 0 of mailbox lane 0 not performed")
                && e.contains("stopped serving the mailbox"),
            "{e}"
        );
        stop.store(true, Ordering::Relaxed);
        clock.join().unwrap();
    }

    /// Writes and reads on one lane wrap its mailbox several times, in
    /// order, while lane 0 works beside it; a lane outlives the backend
    /// (and keeps the DMA window mapped), and the device is released with
    /// the last of them.
    #[test]
    fn a_lane_wraps_in_order_and_outlives_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let path = fake_file(dir.path(), shm::LAYOUT_VERSION, 3);
        let stop = Arc::new(AtomicBool::new(false));
        let s0 = serve(path.clone(), 0, stop.clone());
        let s2 = serve(path.clone(), 2, stop.clone());
        let mut b = ShmBackend::open(&path, Duration::ZERO).unwrap();
        let dma = b.alloc_dma(4096).unwrap();
        let lane = b.lane(2).unwrap();
        let n = 3 * shm::MAILBOX_SLOTS as u32 + 17;
        let (t, lane) = std::thread::scope(|s| {
            let h = s.spawn(move || {
                for i in 0..n {
                    lane.write32(0x1014, i);
                    if i % 100 == 99 {
                        // A read returns after the lane's earlier writes.
                        assert_eq!(lane.read32(0x1014), 2 << 24 | i);
                    }
                }
                (lane.read32(0x1014), lane)
            });
            for i in 0..n {
                b.write32(0x2014, i);
            }
            assert_eq!(b.read32(0x2014), n - 1);
            h.join().unwrap()
        });
        assert_eq!(t, 2 << 24 | (n - 1));
        b.sync_lanes().unwrap();
        drop(b);
        // The lane still reaches the device and the DMA memory is mapped.
        lane.write32(0x1014, 0xfeed);
        assert_eq!(lane.read32(0x1014), 2 << 24 | 0xfeed);
        dma.write(0, b"still mapped");
        let pid = |p: &Path| {
            let mut b = [0u8; 4];
            use std::os::unix::fs::FileExt;
            std::fs::File::open(p)
                .unwrap()
                .read_exact_at(&mut b, shm::CLIENT_PID_OFF as u64)
                .unwrap();
            u32::from_le_bytes(b)
        };
        assert_eq!(pid(&path), std::process::id(), "claimed while a lane lives");
        drop(lane);
        assert_eq!(pid(&path), 0, "released with the last lane");
        stop.store(true, Ordering::Relaxed);
        let w0 = s0.join().unwrap();
        let w2 = s2.join().unwrap();
        let want0: Vec<(u32, u32)> = (0..n).map(|i| (0x2014, i)).collect();
        let mut want2: Vec<(u32, u32)> = (0..n).map(|i| (0x1014, i)).collect();
        want2.push((0x1014, 0xfeed));
        assert_eq!(w0, want0, "lane 0 in order");
        assert_eq!(w2, want2, "lane 2 in order");
    }
}
