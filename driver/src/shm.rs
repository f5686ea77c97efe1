//! Simulation backend: the Verilated NIC served by the simulator
//! (`cargo xtask sim`, or `toe_sim::device::SimDevice` in a thread) through
//! the shared-memory transport described in `toe_contract::shm`.
//!
//! Register reads and writes go through the mailbox and become AXI4-Lite
//! transactions on the RTL's port; DMA memory is carved out of the shared
//! window.  Writes are posted; a read returns after every earlier write has
//! reached the RTL.
use crate::backend::{Backend, DmaRegion};
use crate::error::{Error, Result};
use std::cell::Cell;
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use toe_contract::shm;

/// Default location of the shared file.
pub const DEFAULT_PATH: &str = "/dev/shm/toe-sim";

/// How long a register read may wait while the simulator's clock does not
/// move before the device is declared gone.
const STALL_LIMIT: Duration = Duration::from_secs(5);

pub struct ShmBackend {
    path: PathBuf,
    ptr: *mut u8,
    len: usize,
    view: shm::View,
    window_base: u64,
    window_len: usize,
    /// Next mailbox slot to fill (the driver is the only producer).
    head: Cell<u64>,
    /// Bytes of the window handed out so far.
    next_dma: usize,
    /// Set when the simulator stopped answering; reads then return all ones.
    gone: Cell<Option<String>>,
}

// The mapping is owned by this value; accesses are atomic or raw.
unsafe impl Send for ShmBackend {}

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
        // drop (the file descriptor may be closed after mmap).
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
        let mut b = ShmBackend {
            path: path.to_path_buf(),
            ptr: ptr.cast(),
            len: len as usize,
            // SAFETY: the whole file, mapped until the backend drops.
            view: unsafe { shm::View::new(ptr.cast(), len as usize) },
            window_base: 0,
            window_len: 0,
            head: Cell::new(0),
            next_dma: 0,
            gone: Cell::new(None),
        };
        if b.u64_at(shm::MAGIC_OFF).load(Ordering::Acquire) != shm::MAGIC {
            return Err(sim_err(path, "not (yet) a simulated device: bad magic"));
        }
        let version = b.u32_at(shm::VERSION_OFF).load(Ordering::Relaxed);
        if version != shm::LAYOUT_VERSION {
            return Err(Error::Config(format!(
                "{}: simulator speaks transport version {version}, this driver {}",
                path.display(),
                shm::LAYOUT_VERSION
            )));
        }
        if b.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
            return Err(Error::DeviceGone {
                backend: b.describe(),
            });
        }
        b.window_base = b.u64_at(shm::WINDOW_BASE_OFF).load(Ordering::Relaxed);
        let wlen = b.u64_at(shm::WINDOW_LEN_OFF).load(Ordering::Relaxed);
        if shm::file_len(wlen) > len {
            return Err(Error::Config(format!(
                "{}: window of {wlen} bytes does not fit a file of {len}",
                path.display()
            )));
        }
        b.window_len = wlen as usize;
        b.claim()?;
        b.head.set(b.u64_at(shm::HEAD_OFF).load(Ordering::Relaxed));
        // Wait for requests of an earlier driver to drain.
        b.wait_tail(b.head.get())?;
        Ok(b)
    }

    /// Becomes the one driver of this device.
    fn claim(&self) -> Result<()> {
        let me = std::process::id();
        let slot = self.u32_at(shm::CLIENT_PID_OFF);
        loop {
            let cur = slot.load(Ordering::Acquire);
            let free = cur == 0 || cur == me || !Path::new(&format!("/proc/{cur}")).exists();
            if !free {
                return Err(sim_err(
                    &self.path,
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

    fn u32_at(&self, off: usize) -> &AtomicU32 {
        self.view.u32_at(off)
    }
    fn u64_at(&self, off: usize) -> &AtomicU64 {
        self.view.u64_at(off)
    }
    fn slot(&self, index: u64, field: usize) -> &AtomicU32 {
        self.view.slot(index, field)
    }

    /// Simulated cycles so far, as published by the simulator.
    pub fn sim_cycles(&self) -> u64 {
        self.u64_at(shm::CYCLE_OFF).load(Ordering::Relaxed)
    }

    /// Waits until the simulator has performed every request before `index`.
    fn wait_tail(&self, index: u64) -> Result<()> {
        let tail = self.u64_at(shm::TAIL_OFF);
        let mut spins = 0u32;
        let mut last_cycle = self.sim_cycles();
        let mut last_move = Instant::now();
        while tail.load(Ordering::Acquire) < index {
            spins += 1;
            if spins < 1000 {
                std::hint::spin_loop();
                continue;
            }
            std::thread::yield_now();
            if spins % 64 != 0 {
                continue;
            }
            if self.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
                return Err(self.mark_gone("the simulator has stopped"));
            }
            let c = self.sim_cycles();
            if c != last_cycle {
                last_cycle = c;
                last_move = Instant::now();
            } else if last_move.elapsed() > STALL_LIMIT {
                return Err(self.mark_gone(&format!(
                    "the simulator's clock has not moved for {STALL_LIMIT:?}"
                )));
            }
        }
        Ok(())
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
        self.slot(i, shm::SLOT_OP).store(op, Ordering::Relaxed);
        self.slot(i, shm::SLOT_ADDR).store(addr, Ordering::Relaxed);
        self.slot(i, shm::SLOT_DATA).store(data, Ordering::Relaxed);
        self.slot(i, shm::SLOT_STATUS).store(0, Ordering::Relaxed);
        self.head.set(i + 1);
        // Release: the slot, and every earlier write to DMA memory
        // (descriptors before a doorbell), are visible before the new head.
        self.u64_at(shm::HEAD_OFF).store(i + 1, Ordering::Release);
        Ok(i)
    }

    /// A request's status after it has been performed.
    fn status(&self, i: u64) -> u32 {
        self.slot(i, shm::SLOT_STATUS).load(Ordering::Relaxed)
    }
}

impl Backend for ShmBackend {
    fn describe(&self) -> String {
        format!("sim {}", self.path.display())
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
        if self.status(i) != shm::STATUS_OK {
            return !0;
        }
        self.slot(i, shm::SLOT_DATA).load(Ordering::Relaxed)
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
        if self.u32_at(shm::STATE_OFF).load(Ordering::Acquire) != shm::STATE_RUNNING {
            return Err(self.mark_gone("the simulator has stopped"));
        }
        Ok(())
    }

    fn reset(&mut self) -> Result<()> {
        self.check()?;
        let i = self.post(shm::OP_RESET, 0, 0)?;
        self.wait_tail(i + 1)
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
        // backend lives; the simulator's DMA reaches it at window_base+off.
        let r = unsafe {
            DmaRegion::new(
                self.ptr.add(shm::WINDOW_OFF + off),
                self.window_base + off as u64,
                len,
            )
        };
        r.fill(0, len, 0);
        Ok(r)
    }
}

impl Drop for ShmBackend {
    fn drop(&mut self) {
        // Let posted writes land before detaching.
        let _ = self.wait_tail(self.head.get());
        fence(Ordering::SeqCst);
        let _ = self.u32_at(shm::CLIENT_PID_OFF).compare_exchange(
            std::process::id(),
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}
