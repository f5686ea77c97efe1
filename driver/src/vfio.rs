//! The real board: a PCIe device bound to `vfio-pci`.
//!
//! Opening goes in two steps.  First [`preflight`] checks, on sysfs and
//! `/dev` only, everything that can be diagnosed without an ioctl, each
//! failure with its own [`Error`]: VFIO present, address well formed, device
//! present, IOMMU group present, device bound to vfio-pci, group viable.
//! Then the VFIO objects are opened with `vfio-ioctls` (container, group,
//! device), BAR0 is mapped from the device fd at its region offset, and bus
//! mastering is enabled in config space.
//!
//! DMA memory comes from [`HugepageAllocator`] and every chunk is mapped
//! into the IOMMU with IOVA = virtual address (as ixy.rs does).  The driver
//! polls; MSI-X through eventfds is available with [`VfioBackend::enable_msix`].
//!
//! Lanes ([`Backend::lane`], one register path per thread) share the BAR0
//! mapping: MMIO stores from different CPUs need no lock.  The BAR, the DMA
//! memory and the VFIO objects live in one `Arc` shared by the backend and
//! its lanes, and are released (bus mastering off, IOMMU unmapped, memory
//! freed) with the last of them.  Untested without a board, like the rest
//! of the code after the preflight checks.
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Arc;

use memmap2::{MmapOptions, MmapRaw};
use vfio_bindings::bindings::vfio::{
    VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_MSIX_IRQ_INDEX,
    VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
};
use vfio_ioctls::{VfioContainer, VfioDevice};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::backend::{Backend, DmaRegion, Lane};
use crate::error::{Error, Result};
use crate::hugepage::{HugepageAllocator, Policy};

/// PCI config space: command register and its bus-master bit.
const PCI_COMMAND: u64 = 0x04;
const PCI_COMMAND_MASTER: u16 = 1 << 2;
/// PCI class of a PCI-to-PCI bridge (class code 0x06, subclass 0x04).
const PCI_CLASS_BRIDGE_PCI: u32 = 0x0604;
/// Drivers a device sharing our IOMMU group may have without making the
/// group unusable (besides having none).
const ALLOWED_GROUP_DRIVERS: &[&str] = &["vfio-pci", "pci-stub"];

/// Where the checks look: the real roots by default, a fake tree in tests.
#[derive(Debug, Clone)]
pub struct VfioPaths {
    /// sysfs root (`/sys`).
    pub sysfs: PathBuf,
    /// devtmpfs root (`/dev`).
    pub dev: PathBuf,
    /// procfs root (`/proc`), for the hugepage counters.
    pub proc: PathBuf,
}

impl Default for VfioPaths {
    fn default() -> Self {
        VfioPaths {
            sysfs: "/sys".into(),
            dev: "/dev".into(),
            proc: "/proc".into(),
        }
    }
}

impl VfioPaths {
    /// `root/sys`, `root/dev` and `root/proc`.
    pub fn under(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        VfioPaths {
            sysfs: root.join("sys"),
            dev: root.join("dev"),
            proc: root.join("proc"),
        }
    }
}

/// What [`preflight`] found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Normalised address, `dddd:bb:dd.f`.
    pub addr: String,
    /// The device's sysfs directory.
    pub sysfs_dev: PathBuf,
    /// IOMMU group number.
    pub group: u32,
    /// `/dev/vfio/<group>`.
    pub group_dev: PathBuf,
}

/// Normalises a PCI address: `DDDD:BB:DD.F` (hex domain, bus and device,
/// function 0-7), or `BB:DD.F` for domain 0.  Returns it in lower case.
pub fn parse_pci_addr(s: &str) -> Result<String> {
    let bad = || {
        Error::Config(format!(
            "PCI address {s:?} is malformed: expected DDDD:BB:DD.F (hex domain, bus, device, and a function 0-7, e.g. 0000:01:00.0), as `lspci -D` prints it"
        ))
    };
    let full = if s.matches(':').count() == 1 {
        format!("0000:{s}")
    } else {
        s.to_owned()
    };
    let (rest, func) = full.split_once('.').ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split(':').collect();
    let hex = |p: &str, width: usize| {
        (p.len() == width && p.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(p, 16).ok())
            .flatten()
    };
    match (parts.as_slice(), func) {
        ([d, b, dev], f)
            if hex(d, 4).is_some()
                && hex(b, 2).is_some()
                && hex(dev, 2).is_some_and(|v| v < 32)
                && matches!(f.as_bytes(), [b'0'..=b'7']) =>
        {
            Ok(full.to_ascii_lowercase())
        }
        _ => Err(bad()),
    }
}

/// Name of the driver a sysfs device is bound to, `"none"` if unbound.
fn driver_of(dev: &Path) -> String {
    fs::read_link(dev.join("driver"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "none".into())
}

/// PCI class (class << 8 | subclass) of a sysfs device, if readable.
fn class_of(dev: &Path) -> Option<u32> {
    let s = fs::read_to_string(dev.join("class")).ok()?;
    let v = u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()?;
    Some(v >> 8)
}

/// Every check that needs no ioctl, in order, each with its own error.
pub fn preflight(pci_addr: &str, paths: &VfioPaths) -> Result<Preflight> {
    let container = paths.dev.join("vfio/vfio");
    if !container.exists() {
        return Err(Error::NoVfio(container));
    }
    let addr = parse_pci_addr(pci_addr)?;
    let sysfs_dev = paths.sysfs.join("bus/pci/devices").join(&addr);
    if !sysfs_dev.exists() {
        return Err(Error::NoPciDevice(addr));
    }
    let group = fs::read_link(sysfs_dev.join("iommu_group"))
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse::<u32>().ok())
        .ok_or_else(|| Error::NoIommu(addr.clone()))?;
    let driver = driver_of(&sysfs_dev);
    if driver != "vfio-pci" {
        return Err(Error::NotVfioBound { addr, driver });
    }
    let members = paths
        .sysfs
        .join(format!("kernel/iommu_groups/{group}/devices"));
    let entries = fs::read_dir(&members).map_err(|e| {
        Error::io(
            format!("listing IOMMU group {group} ({})", members.display()),
            e,
        )
    })?;
    let mut others: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    others.sort();
    for other in others {
        let name = other
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == addr || class_of(&other) == Some(PCI_CLASS_BRIDGE_PCI) {
            continue;
        }
        let driver = driver_of(&other);
        if driver != "none" && !ALLOWED_GROUP_DRIVERS.contains(&driver.as_str()) {
            return Err(Error::GroupNotViable {
                group,
                other: name,
                driver,
            });
        }
    }
    let group_dev = paths.dev.join(format!("vfio/{group}"));
    if !group_dev.exists() {
        return Err(Error::NoVfio(group_dev));
    }
    Ok(Preflight {
        addr,
        sysfs_dev,
        group,
        group_dev,
    })
}

/// A board bound to vfio-pci.
pub struct VfioBackend {
    board: Arc<Board>,
    msix: Vec<EventFd>,
}

/// What the backend and its lanes ([`VfioLane`]) share: BAR0, the DMA
/// memory and the VFIO objects.  Dropped with the last of them: bus
/// mastering off, DMA memory out of the IOMMU, then freed.
struct Board {
    addr: String,
    bar: Bar,
    /// Locked only to allocate (bring-up), never on the fast path.
    dma: std::sync::Mutex<HugepageAllocator>,
    device: VfioDevice,
    container: Arc<VfioContainer>,
}

/// A register path for one thread (see [`Backend::lane`]): BAR0 is MMIO,
/// so lanes share the mapping and need no lock (stores from different CPUs
/// are not ordered with each other).  Keeps the BAR, the DMA memory and the
/// device open while it lives.
pub struct VfioLane {
    board: Arc<Board>,
    lane: u32,
}

impl Board {
    fn dma(&self) -> std::sync::MutexGuard<'_, HugepageAllocator> {
        // The allocator's state stays consistent if a panic interrupted an
        // allocation (a chunk is recorded only once mapped).
        self.dma.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for VfioBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfioBackend")
            .field("addr", &self.board.addr)
            .field("bar_len", &self.board.bar.map.len())
            .field("dma_chunks", &self.board.dma().chunks().count())
            .field("msix", &self.msix.len())
            .finish()
    }
}

impl VfioBackend {
    /// Opens the board at `pci_addr` (`0000:01:00.0` or `01:00.0`), with DMA
    /// memory from hugepages, falling back to ordinary pages with a warning.
    pub fn open(pci_addr: &str) -> Result<Self> {
        Self::open_with(pci_addr, &VfioPaths::default(), Policy::PreferWithFallback)
    }

    /// Same, with other sysfs/dev/proc roots (the VFIO ioctls themselves
    /// always use the real `/dev/vfio`) and a hugepage policy.
    pub fn open_with(pci_addr: &str, paths: &VfioPaths, policy: Policy) -> Result<Self> {
        let pre = preflight(pci_addr, paths)?;
        let addr = pre.addr.clone();
        let vfio_err = |what: &str, e: vfio_ioctls::VfioError| Error::Vfio {
            addr: addr.clone(),
            what: what.into(),
            detail: explain(&e),
        };
        let container = Arc::new(
            VfioContainer::new(None)
                .map_err(|e| vfio_err("opening the container /dev/vfio/vfio", e))?,
        );
        let device = VfioDevice::new(&pre.sysfs_dev, container.clone(), false).map_err(|e| {
            vfio_err(
                &format!("opening group {} and the device", pre.group_dev.display()),
                e,
            )
        })?;

        let flags = device.get_region_flags(VFIO_PCI_BAR0_REGION_INDEX);
        let size = device.get_region_size(VFIO_PCI_BAR0_REGION_INDEX);
        let offset = device.get_region_offset(VFIO_PCI_BAR0_REGION_INDEX);
        let need =
            VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        if size < 4 || flags & need != need || usize::try_from(size).is_err() {
            return Err(Error::BarNotMappable { addr, flags, size });
        }
        let bar = MmapOptions::new()
            .offset(offset)
            .len(size as usize)
            .map_raw(device.as_raw_fd())
            .map_err(|e| Error::io(format!("mapping BAR0 of {addr} ({size:#x} bytes)"), e))?;

        enable_bus_master(&device)
            .map_err(|e| Error::io(format!("enabling bus mastering on {addr}"), e))?;

        Ok(VfioBackend {
            board: Arc::new(Board {
                dma: std::sync::Mutex::new(HugepageAllocator::with_paths(
                    policy,
                    &paths.sysfs,
                    &paths.proc,
                )),
                addr,
                bar: Bar::new(bar),
                device,
                container,
            }),
            msix: Vec::new(),
        })
    }

    /// The normalised PCI address.
    pub fn pci_addr(&self) -> &str {
        &self.board.addr
    }

    /// Size of BAR0 in bytes.
    pub fn bar_len(&self) -> usize {
        self.board.bar.map.len()
    }

    /// Register accesses ignored because they were outside BAR0 or not
    /// 4-byte aligned (a driver bug; reads returned all ones), on every lane.
    pub fn bad_accesses(&self) -> u64 {
        self.board.bar.bad.load(Ordering::Relaxed)
    }

    /// Enables `vectors` MSI-X vectors and returns one eventfd per vector
    /// (non-blocking duplicates of the ones registered with VFIO, which the
    /// backend keeps until it is dropped).
    ///
    /// UNTESTED: the RTL has no interrupt output yet and this code has never
    /// run against hardware.  The driver polls by default and does not need it.
    pub fn enable_msix(&mut self, vectors: u32) -> Result<Vec<EventFd>> {
        let offered = self
            .board
            .device
            .get_irq_info(VFIO_PCI_MSIX_IRQ_INDEX)
            .map_or(0, |i| i.count);
        if vectors == 0 || vectors > offered {
            return Err(Error::Config(format!(
                "{} offers {offered} MSI-X vectors, {vectors} requested",
                self.board.addr
            )));
        }
        let io_err = |e| Error::io("creating an eventfd for MSI-X", e);
        let fds = (0..vectors)
            .map(|_| EventFd::new(EFD_NONBLOCK).map_err(io_err))
            .collect::<Result<Vec<_>>>()?;
        self.board
            .device
            .enable_msix(fds.iter().collect())
            .map_err(|e| Error::Vfio {
                addr: self.board.addr.clone(),
                what: format!("enabling {vectors} MSI-X vectors"),
                detail: explain(&e),
            })?;
        let out = fds
            .iter()
            .map(|f| f.try_clone().map_err(io_err))
            .collect::<Result<Vec<_>>>();
        self.msix = fds;
        out
    }
}

/// BAR0 mapped shared from the device fd (unmapped on drop), accessed
/// only through volatile loads and stores on raw pointers.
struct Bar {
    map: MmapRaw,
    /// Accesses outside the BAR or misaligned: ignored, read as all ones.
    bad: AtomicU64,
}

impl Bar {
    fn new(map: MmapRaw) -> Self {
        Bar {
            map,
            bad: AtomicU64::new(0),
        }
    }

    /// A pointer to the register at `off`, if it is aligned and inside the BAR.
    fn reg(&self, off: u32) -> Option<*mut u32> {
        let off = off as usize;
        if !off.is_multiple_of(4) || off + 4 > self.map.len() {
            self.bad.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // SAFETY: off + 4 <= BAR length, so the pointer is inside the mapping.
        Some(unsafe { self.map.as_mut_ptr().add(off) }.cast())
    }

    fn read32(&self, off: u32) -> u32 {
        match self.reg(off) {
            // SAFETY: aligned and inside the mapping, which lives as long as
            // self; MMIO is accessed only volatile, never by reference.
            Some(p) => unsafe { p.read_volatile() },
            None => u32::MAX,
        }
    }

    fn write32(&self, off: u32, val: u32) {
        if let Some(p) = self.reg(off) {
            // SAFETY: as in read32.
            unsafe { p.write_volatile(val) }
        }
    }

    /// All ones from the ID register means the device no longer answers.
    fn check(&self, backend: impl FnOnce() -> String) -> Result<()> {
        if self.read32(toe_contract::regs::ID_DEVICE) == u32::MAX {
            return Err(Error::DeviceGone { backend: backend() });
        }
        Ok(())
    }
}

impl Backend for VfioBackend {
    fn describe(&self) -> String {
        format!("vfio {}", self.board.addr)
    }

    fn read32(&self, off: u32) -> u32 {
        self.board.bar.read32(off)
    }

    fn write32(&self, off: u32, val: u32) {
        self.board.bar.write32(off, val)
    }

    fn check(&self) -> Result<()> {
        self.board.bar.check(|| self.describe())
    }

    /// Function-level reset through VFIO (VFIO_DEVICE_RESET, when the
    /// device supports it; otherwise the queues are only disabled by the
    /// caller), then bus mastering again, which a reset clears.  Untested
    /// without a board.
    fn reset(&mut self) -> Result<()> {
        self.board.device.reset();
        enable_bus_master(&self.board.device).map_err(|e| Error::Vfio {
            addr: self.board.addr.clone(),
            what: "re-enabling bus mastering after reset".into(),
            detail: e.to_string(),
        })?;
        self.check()
    }

    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion> {
        let board = &*self.board;
        let (container, addr) = (&board.container, &board.addr);
        let mut dma = board.dma();
        let (ptr, len) = dma.alloc(len, |p, l| {
            // SAFETY: p..p+l is a fresh mapping owned by the allocator, with
            // no Rust reference into it; it stays mapped until Drop, which
            // removes it from the IOMMU before unmapping it.
            unsafe { container.vfio_dma_map(p as u64, l, p) }.map_err(|e| Error::Vfio {
                addr: addr.clone(),
                what: format!("mapping {l} bytes of DMA memory into the IOMMU"),
                detail: format!(
                    "{}: if the cause is ENOMEM, raise the locked-memory limit (`ulimit -l unlimited`) or run as root",
                    explain(&e)
                ),
            })
        })?;
        if let Some(w) = dma.take_warning() {
            eprintln!("vfio {addr}: {w}");
        }
        // SAFETY: mapped, writable, and mapped in the IOMMU at IOVA = address
        // until the backend and all its lanes are dropped.
        Ok(unsafe { DmaRegion::new(ptr, ptr as u64, len) })
    }

    /// Lane `k` >= 1: BAR0 shared, no lock.  Lanes are not counted or
    /// exclusive here (MMIO has no producer index), only numbered for
    /// messages.
    fn lane(&self, k: u32) -> Result<Box<dyn Lane>> {
        if k == 0 {
            return Err(Error::Config(format!(
                "{}: lane 0 is the backend's own register path; lanes for other threads \
                 count from 1",
                self.describe()
            )));
        }
        Ok(Box::new(VfioLane {
            board: self.board.clone(),
            lane: k,
        }))
    }

    /// A store to BAR0 from another CPU has left that CPU once the store
    /// instruction retired and the thread synchronised with us (the caller's
    /// handshake); PCIe keeps posted writes ahead of a later read
    /// completion from the same root complex, so one read of BAR0 here
    /// pushes them to the device.  Untested without a board.
    fn sync_lanes(&self) -> Result<()> {
        fence(Ordering::SeqCst);
        self.check()
    }
}

impl Lane for VfioLane {
    fn describe(&self) -> String {
        format!("vfio {} lane {}", self.board.addr, self.lane)
    }
    fn read32(&self, off: u32) -> u32 {
        self.board.bar.read32(off)
    }
    fn write32(&self, off: u32, val: u32) {
        self.board.bar.write32(off, val)
    }
    fn check(&self) -> Result<()> {
        self.board.bar.check(|| self.describe())
    }
}

impl Drop for VfioBackend {
    fn drop(&mut self) {
        if !self.msix.is_empty() {
            let _ = self.board.device.disable_msix();
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        // Stop the device from reaching memory before the memory goes away:
        // clear bus mastering, then take every chunk out of the IOMMU.  The
        // allocator then frees the memory and the device and container close
        // (fields drop after this function).
        let _ = set_bus_master(&self.device, false);
        for (p, l) in self.dma().chunks() {
            let _ = self.container.vfio_dma_unmap(p as u64, l);
        }
    }
}

/// The message of a vfio-ioctls error (its Display already includes the
/// OS error), with a hint where the cause is a common one.
fn explain(e: &vfio_ioctls::VfioError) -> String {
    let mut s = e.to_string();
    if s.contains("ermission denied") {
        s += " (run as root, or give this user access to /dev/vfio/*)";
    }
    s
}

fn enable_bus_master(device: &VfioDevice) -> io::Result<()> {
    set_bus_master(device, true)
}

/// Read-modify-write of the bus-master bit of the PCI command register.
fn set_bus_master(device: &VfioDevice, on: bool) -> io::Result<()> {
    let at = device.get_region_offset(VFIO_PCI_CONFIG_REGION_INDEX) + PCI_COMMAND;
    let mut buf = [0u8; 2];
    pread_exact(device, &mut buf, at)?;
    let cmd = u16::from_le_bytes(buf);
    let new = if on {
        cmd | PCI_COMMAND_MASTER
    } else {
        cmd & !PCI_COMMAND_MASTER
    };
    if new != cmd {
        pwrite_all(device, &new.to_le_bytes(), at)?;
    }
    Ok(())
}

fn pread_exact(fd: &impl AsRawFd, buf: &mut [u8], at: u64) -> io::Result<()> {
    // SAFETY: buf is valid for buf.len() bytes of writes.
    let n = unsafe {
        libc::pread(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            at as libc::off_t,
        )
    };
    match n {
        n if n < 0 => Err(io::Error::last_os_error()),
        n if n as usize != buf.len() => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "short config read",
        )),
        _ => Ok(()),
    }
}

fn pwrite_all(fd: &impl AsRawFd, buf: &[u8], at: u64) -> io::Result<()> {
    // SAFETY: buf is valid for buf.len() bytes of reads.
    let n = unsafe {
        libc::pwrite(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            at as libc::off_t,
        )
    };
    match n {
        n if n < 0 => Err(io::Error::last_os_error()),
        n if n as usize != buf.len() => Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short config write",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon_bar(len: usize) -> Bar {
        Bar::new(MmapOptions::new().len(len).map_anon().unwrap().into())
    }

    #[test]
    fn bar_access_is_bounds_checked() {
        let bar = anon_bar(4096);
        bar.write32(0x10, 0xDEAD_BEEF);
        bar.write32(4092, 7);
        assert_eq!((bar.read32(0x10), bar.read32(4092)), (0xDEAD_BEEF, 7));
        assert_eq!(bar.bad.load(Ordering::Relaxed), 0);
        bar.write32(4096, 1); // past the end: ignored
        bar.write32(0x11, 1); // misaligned: ignored
        assert_eq!(bar.read32(0x10), 0xDEAD_BEEF);
        assert_eq!(bar.read32(4094), u32::MAX);
        assert_eq!(bar.read32(u32::MAX), u32::MAX);
        assert_eq!(bar.bad.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn check_reports_a_device_reading_all_ones() {
        let bar = anon_bar(4096);
        bar.write32(toe_contract::regs::ID_DEVICE, toe_contract::regs::DEVICE_ID);
        bar.check(|| "vfio test".into()).unwrap();
        bar.write32(toe_contract::regs::ID_DEVICE, u32::MAX);
        let e = bar.check(|| "vfio test".into()).unwrap_err();
        assert!(
            matches!(e, Error::DeviceGone { ref backend } if backend == "vfio test"),
            "{e}"
        );
        // A BAR too small to hold the ID register reads as ones, too.
        assert!(anon_bar(8).check(String::new).is_err());
    }

    #[test]
    fn pci_addresses() {
        assert_eq!(parse_pci_addr("0000:01:00.0").unwrap(), "0000:01:00.0");
        assert_eq!(parse_pci_addr("01:00.1").unwrap(), "0000:01:00.1");
        assert_eq!(parse_pci_addr("ABCD:EF:1f.7").unwrap(), "abcd:ef:1f.7");
        for bad in [
            "",
            "01:00",
            "0000:01:00.8",
            "0000:01:20.0",
            "0:01:00.0",
            "0000:1:00.0",
            "0000:01:00.0x",
            "0000:0g:00.0",
            "00:00:01:00.0",
            "01-00.0",
        ] {
            match parse_pci_addr(bad) {
                Err(Error::Config(m)) => assert!(m.contains("DDDD:BB:DD.F"), "{m}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }
}
