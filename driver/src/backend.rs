//! What the driver needs from a device: BAR0 registers and DMA memory.
use crate::error::Result;

/// A region of memory the device can reach by DMA.
///
/// The region is owned by the backend that allocated it and stays valid
/// while that backend, or any lane it handed out ([`Backend::lane`]),
/// lives.  It hands out raw pointers, and slices only through the unsafe
/// [`DmaRegion::slice`] / [`DmaRegion::slice_mut`]: the device may write
/// any byte it was given at any time, so a Rust reference may exist only
/// into bytes the device cannot write now (a buffer whose completion was
/// consumed, or one never posted).
#[derive(Debug)]
pub struct DmaRegion {
    vaddr: *mut u8,
    iova: u64,
    len: usize,
}

// The region is plain memory; moving the handle between threads is fine.
// Synchronisation with the device is the job of the code using it.
unsafe impl Send for DmaRegion {}

impl DmaRegion {
    /// # Safety
    /// `vaddr..vaddr+len` must be mapped, writable, and reachable by the
    /// device at `iova..iova+len` for as long as the region is used.
    pub unsafe fn new(vaddr: *mut u8, iova: u64, len: usize) -> Self {
        DmaRegion { vaddr, iova, len }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Bus address of byte 0, as the device sees it.
    pub fn iova(&self) -> u64 {
        self.iova
    }
    /// Raw pointer to byte `off`.  Panics if out of range.
    pub fn ptr(&self, off: usize) -> *mut u8 {
        assert!(
            off <= self.len,
            "offset {off} beyond DMA region of {} bytes",
            self.len
        );
        // SAFETY: in bounds of the mapping.
        unsafe { self.vaddr.add(off) }
    }
    /// Copies `src` into the region at `off` (volatile byte-wise semantics
    /// are not needed for data the device only reads after a doorbell).
    pub fn write(&self, off: usize, src: &[u8]) {
        assert!(
            off + src.len() <= self.len,
            "write of {} bytes at {off} beyond DMA region of {}",
            src.len(),
            self.len
        );
        // SAFETY: bounds checked; raw copy, no reference into the region.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.vaddr.add(off), src.len()) }
    }
    /// Copies bytes out of the region at `off` into `dst`.  Call it only
    /// after an acquire (fence or atomic load) that observed the device's
    /// completion for these bytes.
    pub fn read(&self, off: usize, dst: &mut [u8]) {
        assert!(
            off + dst.len() <= self.len,
            "read of {} bytes at {off} beyond DMA region of {}",
            dst.len(),
            self.len
        );
        // SAFETY: bounds checked; raw copy, no reference into the region.
        unsafe { std::ptr::copy_nonoverlapping(self.vaddr.add(off), dst.as_mut_ptr(), dst.len()) }
    }
    /// The bytes `off..off + len` in place, for reading.
    ///
    /// # Safety
    /// While the slice lives, neither the device nor anything else may
    /// write these bytes: they lie in a buffer the caller owns, which the
    /// device has finished with (its completion was observed with an
    /// acquire) or was never given.
    pub unsafe fn slice(&self, off: usize, len: usize) -> &[u8] {
        assert!(
            off + len <= self.len,
            "slice of {len} bytes at {off} beyond DMA region of {}",
            self.len
        );
        // SAFETY: bounds checked; exclusivity is the caller's contract.
        unsafe { std::slice::from_raw_parts(self.vaddr.add(off), len) }
    }
    /// The bytes `off..off + len` in place, for writing.
    ///
    /// # Safety
    /// As [`DmaRegion::slice`], and no other reference to these bytes may
    /// exist while the slice lives (the caller holds the buffer mutably).
    #[allow(clippy::mut_from_ref)] // the region hands out raw memory; exclusivity is the contract above
    pub unsafe fn slice_mut(&self, off: usize, len: usize) -> &mut [u8] {
        assert!(
            off + len <= self.len,
            "slice of {len} bytes at {off} beyond DMA region of {}",
            self.len
        );
        // SAFETY: bounds checked; exclusivity is the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.vaddr.add(off), len) }
    }
    /// Volatile 64-bit load at `off` (8-byte aligned).
    pub fn read_u64(&self, off: usize) -> u64 {
        assert!(off.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: aligned and in bounds.
        unsafe { std::ptr::read_volatile(self.vaddr.add(off) as *const u64) }
    }
    /// Volatile 64-bit store at `off` (8-byte aligned).
    pub fn write_u64(&self, off: usize, v: u64) {
        assert!(off.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: aligned and in bounds.
        unsafe { std::ptr::write_volatile(self.vaddr.add(off) as *mut u64, v) }
    }
    /// Fills `len` bytes at `off` with `byte`.
    pub fn fill(&self, off: usize, len: usize, byte: u8) {
        assert!(off + len <= self.len);
        // SAFETY: bounds checked.
        unsafe { std::ptr::write_bytes(self.vaddr.add(off), byte, len) }
    }
}

/// A device as the driver sees it.
///
/// Register accesses cannot fail on a real bus: a read from a device that
/// is gone returns all ones (as PCIe does).  [`Backend::check`] tells why
/// when the driver sees that.
pub trait Backend: Send {
    /// Where the device is ("vfio 0000:01:00.0", "sim /dev/shm/toe-sim").
    fn describe(&self) -> String;
    /// 32-bit read of BAR0 at byte offset `off`.
    fn read32(&self, off: u32) -> u32;
    /// 32-bit write of BAR0 at byte offset `off`.  Posted: it may complete
    /// after this call returns, but before any later read returns.
    fn write32(&self, off: u32, val: u32);
    /// Whether the device is still reachable; the error names the cause.
    fn check(&self) -> Result<()>;
    /// Function-level reset of the device (all queues disabled, counters
    /// cleared).  DMA memory stays allocated.
    fn reset(&mut self) -> Result<()> {
        Err(crate::error::Error::Config(format!(
            "{}: this backend cannot reset the device",
            self.describe()
        )))
    }
    /// Allocates `len` bytes (rounded up to 4 KiB) of DMA memory aligned to
    /// 4 KiB, zeroed.
    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion>;

    /// An independent register path ("lane") for one other thread, so that
    /// threads ringing doorbells share no lock and no producer index.
    ///
    /// Lane 0 is this backend's own path (the one [`Backend::read32`] and
    /// [`Backend::write32`] use) and is never handed out; `k` counts from 1.
    /// A lane is exclusive while it lives (asking for a lane that is out
    /// already is an error) and comes back when dropped.  It keeps the
    /// register path *and every [`DmaRegion`] this backend allocated* valid
    /// while it lives, even after the backend itself is dropped, so that
    /// rings and buffers owned by a thread never dangle.
    ///
    /// Ordering: the accesses of one lane are performed in order; accesses
    /// of different lanes are not ordered with each other (like posted
    /// writes from different CPUs on PCIe).  [`Backend::sync_lanes`] waits
    /// for the other lanes' writes.
    ///
    /// Backends that cannot give independent paths say so (the default).
    fn lane(&self, k: u32) -> Result<Box<Lane>> {
        Err(crate::error::Error::Config(format!(
            "{}: this backend has no independent register paths (lane {k} asked for); \
             use the NIC from one thread",
            self.describe()
        )))
    }

    /// Returns once every register write posted on any lane of this backend
    /// before the call has reached the device (a read on this backend's own
    /// path only orders its own writes).  A backend without lanes has
    /// nothing to wait for.
    fn sync_lanes(&self) -> Result<()> {
        Ok(())
    }
}

/// A path to BAR0 registers, the one register-access trait of the driver:
/// the device's own path (`Device`, lane 0) or a thread's lane
/// ([`Backend::lane`]).  Doorbells, the offloads' commands
/// (`offload/`) and test doubles all go through it.  A read returns
/// after every earlier write *of the same path* has reached the device.
pub trait Registers {
    /// 32-bit read of BAR0 at byte offset `off`.
    fn read32(&self, off: u32) -> u32;
    /// 32-bit posted write of BAR0 at byte offset `off`.
    fn write32(&self, off: u32, val: u32);
    /// Whether every stack instance writes through this same path, so that
    /// writes from different instances reach the device in the order they
    /// were made (the device's own path of an unsplit `Nic`); a queue's
    /// lane is one of several, unordered with the others.
    fn is_only_path(&self) -> bool {
        false
    }
    /// Where the device is and which path this is.
    fn describe(&self) -> String {
        "registers".into()
    }
    /// Whether the device is still reachable through this path; the error
    /// names the cause.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// A boxed path (a lane as [`Backend::lane`] hands it out) is a path.
impl<T: Registers + ?Sized> Registers for Box<T> {
    fn read32(&self, off: u32) -> u32 {
        (**self).read32(off)
    }
    fn write32(&self, off: u32, val: u32) {
        (**self).write32(off, val)
    }
    fn is_only_path(&self) -> bool {
        (**self).is_only_path()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn check(&self) -> Result<()> {
        (**self).check()
    }
}

/// One thread's register path to BAR0 (see [`Backend::lane`]).  `Send`,
/// not `Sync`: a lane has one user at a time, which is what lets a
/// simulated device keep it single-producer and a board need no lock at
/// all.
pub type Lane = dyn Registers + Send;
