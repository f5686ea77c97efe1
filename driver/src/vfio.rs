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
//! into the IOMMU at an IOVA the backend chooses inside the ranges the
//! IOMMU accepts ([`IovaSpace`]), from 4 GiB up.  (It used IOVA = virtual
//! address, as ixy.rs does, until the VM rig of tools/src/vm.rs ran it on a
//! real kernel: an IOMMU with 39-bit addresses, like QEMU's and many
//! client chips', refuses every user-space address above 512 GiB with
//! EINVAL, and a process's mappings live near 2^47.)  The driver polls;
//! MSI-X through eventfds is available with [`VfioBackend::enable_msix`].
//!
//! Lanes ([`Backend::lane`], one register path per thread) share the BAR0
//! mapping: MMIO stores from different CPUs need no lock.  The BAR, the DMA
//! memory and the VFIO objects live in one `Arc` shared by the backend and
//! its lanes, and are released (bus mastering off, IOMMU unmapped, memory
//! freed) with the last of them.  Everything here runs against the real
//! kernel VFIO interface in the VM rig (`cargo xtask test`, step "vfio
//! guest"), on emulated devices; not yet on our board.
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

use crate::backend::{Backend, DmaRegion, Lane, Registers};
use crate::error::{Error, Result};
use crate::hugepage::{HugepageAllocator, Policy};

/// PCI config space: command register and its bus-master bit.
const PCI_COMMAND: u64 = 0x04;
const PCI_COMMAND_MASTER: u16 = 1 << 2;
/// VFIO ioctls not wrapped by vfio-ioctls the way the driver needs them
/// (linux/vfio.h: `_IO(';', 100 + n)`).
const VFIO_DEVICE_GET_INFO: libc::c_ulong = 0x3b6b;
const VFIO_DEVICE_RESET: libc::c_ulong = 0x3b6f;
const VFIO_IOMMU_GET_INFO: libc::c_ulong = 0x3b70;
/// `vfio_device_info.flags`: the device has a reset method.
const VFIO_DEVICE_FLAGS_RESET: u32 = 1 << 0;
/// `vfio_iommu_type1_info.flags`: a capability chain follows.
const VFIO_IOMMU_INFO_CAPS: u32 = 1 << 1;
/// Capability id of the valid IOVA ranges.
const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: u16 = 1;
/// Lowest IOVA the backend hands out: above the 32-bit hole (x86's MSI
/// window at 0xfee00000 and the usual reserved regions).
pub const IOVA_BASE: u64 = 1 << 32;
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
    dma: std::sync::Mutex<(HugepageAllocator, IovaSpace)>,
    /// VFIO reports a reset method (FLR, PM, slot or bus reset).
    can_reset: bool,
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
    fn dma(&self) -> std::sync::MutexGuard<'_, (HugepageAllocator, IovaSpace)> {
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
            .field("dma_chunks", &self.board.dma().0.chunks().count())
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
        let can_reset = device_flags(&device)
            .map_err(|e| Error::io(format!("VFIO_DEVICE_GET_INFO on {addr}"), e))?
            & VFIO_DEVICE_FLAGS_RESET
            != 0;
        // The container has its IOMMU now (set when the group was added).
        let ranges = iova_ranges(&*container)
            .map_err(|e| Error::io(format!("VFIO_IOMMU_GET_INFO for {addr}"), e))?;

        Ok(VfioBackend {
            board: Arc::new(Board {
                dma: std::sync::Mutex::new((
                    HugepageAllocator::with_paths(policy, &paths.sysfs, &paths.proc),
                    IovaSpace::new(ranges),
                )),
                can_reset,
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

    /// True if VFIO offers a reset method for the device (function-level
    /// reset, power-management reset, or a slot or bus reset because it is
    /// alone on its bus).  Without one, [`Backend::reset`] only re-enables
    /// bus mastering; the caller disables the queues.
    pub fn can_reset(&self) -> bool {
        self.board.can_reset
    }

    /// The IOVA ranges the IOMMU accepts, inclusive, as VFIO reports them.
    pub fn iova_ranges(&self) -> Vec<(u64, u64)> {
        self.board.dma().1.ranges.clone()
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
    /// The RTL has no interrupt output yet and the driver polls; this runs
    /// in the VM rig on an emulated e1000e (each vector's eventfd counts
    /// exactly the interrupts raised for it).
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
    /// device has a reset method, see [`VfioBackend::can_reset`]; otherwise
    /// the queues are only disabled by the caller), then bus mastering
    /// again.  A failing reset is an error: vfio-ioctls' `reset()` ignores
    /// the ioctl's result, so the driver issues it itself.
    fn reset(&mut self) -> Result<()> {
        if self.board.can_reset {
            // SAFETY: VFIO_DEVICE_RESET takes no argument; the fd is a VFIO device.
            let r = unsafe { libc::ioctl(self.board.device.as_raw_fd(), VFIO_DEVICE_RESET) };
            if r < 0 {
                return Err(Error::Vfio {
                    addr: self.board.addr.clone(),
                    what: "function-level reset (VFIO_DEVICE_RESET)".into(),
                    detail: io::Error::last_os_error().to_string(),
                });
            }
        }
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
        let mut guard = board.dma();
        let (dma, iovas) = &mut *guard;
        let (ptr, len) = dma.alloc(len, |p, l| {
            let iova = iovas.place(l).ok_or_else(|| Error::Vfio {
                addr: addr.clone(),
                what: format!("mapping {l} bytes of DMA memory into the IOMMU"),
                detail: format!(
                    "no room left in the IOMMU's address ranges {}",
                    iovas.describe()
                ),
            })?;
            // SAFETY: p..p+l is a fresh mapping owned by the allocator, with
            // no Rust reference into it; it stays mapped until Drop, which
            // removes it from the IOMMU before unmapping it.
            unsafe { container.vfio_dma_map(iova, l, p) }.map_err(|e| Error::Vfio {
                addr: addr.clone(),
                what: format!("mapping {l} bytes of DMA memory into the IOMMU at IOVA {iova:#x}"),
                detail: dma_map_hint(&e),
            })?;
            iovas.record(p, iova, l);
            Ok(())
        })?;
        if let Some(w) = dma.take_warning() {
            eprintln!("vfio {addr}: {w}");
        }
        let iova = iovas
            .iova_of(ptr)
            .expect("every chunk the allocator hands out was mapped and recorded");
        // SAFETY: mapped, writable, and mapped in the IOMMU at `iova` until
        // the backend and all its lanes are dropped.
        Ok(unsafe { DmaRegion::new(ptr, iova, len) })
    }

    /// Lane `k` >= 1: BAR0 shared, no lock.  Lanes are not counted or
    /// exclusive here (MMIO has no producer index), only numbered for
    /// messages.
    fn lane(&self, k: u32) -> Result<Box<Lane>> {
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

impl Registers for VfioLane {
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
        let maps = self.dma().1.maps.clone();
        for (_, iova, l) in maps {
            let _ = self.container.vfio_dma_unmap(iova, l);
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

/// Why a DMA mapping failed, with the fix for the causes the kernel's
/// type1 IOMMU driver reports.
fn dma_map_hint(e: &vfio_ioctls::VfioError) -> String {
    let errno = match e {
        vfio_ioctls::VfioError::IommuDmaMap(se) => se.errno(),
        _ => 0,
    };
    let hint = match errno {
        libc::ENOMEM => "the locked-memory limit is reached: raise it (`ulimit -l unlimited`) or run as root",
        libc::ENOSPC => "the IOMMU driver's limit on DMA mappings per container is reached (/sys/module/vfio_iommu_type1/parameters/dma_entry_limit): raise it or allocate fewer, larger regions",
        libc::EINVAL => "the IOVA is outside the IOMMU's address ranges",
        libc::EEXIST => "the IOVA range is already mapped",
        _ => "",
    };
    if hint.is_empty() {
        explain(e)
    } else {
        format!("{}: {hint}", explain(e))
    }
}

/// Where DMA memory goes in the IOMMU's address space: chunks at
/// increasing IOVAs, 2 MiB aligned, from [`IOVA_BASE`] up, inside the
/// ranges VFIO reports as valid (the IOMMU's address width minus reserved
/// regions such as the MSI window).
#[derive(Debug)]
struct IovaSpace {
    /// Valid ranges, inclusive, sorted.
    ranges: Vec<(u64, u64)>,
    next: u64,
    /// (virtual address, IOVA, length) of every chunk mapped.
    maps: Vec<(usize, u64, usize)>,
}

impl IovaSpace {
    fn new(mut ranges: Vec<(u64, u64)>) -> Self {
        ranges.sort_unstable();
        IovaSpace {
            ranges,
            next: IOVA_BASE,
            maps: Vec::new(),
        }
    }

    /// An IOVA for `len` bytes (a multiple of 4 KiB), or None if no valid
    /// range has room.
    fn place(&mut self, len: usize) -> Option<u64> {
        let align = crate::hugepage::HUGEPAGE as u64;
        let len = len as u64;
        for &(start, end) in &self.ranges {
            let at = self.next.max(start).checked_next_multiple_of(align)?;
            if at.checked_add(len - 1).is_some_and(|last| last <= end) {
                self.next = at + len;
                return Some(at);
            }
        }
        None
    }

    fn record(&mut self, ptr: *mut u8, iova: u64, len: usize) {
        self.maps.push((ptr as usize, iova, len));
    }

    /// The IOVA of a virtual address inside a mapped chunk.
    fn iova_of(&self, ptr: *mut u8) -> Option<u64> {
        let p = ptr as usize;
        self.maps
            .iter()
            .find(|(v, _, l)| (*v..*v + *l).contains(&p))
            .map(|(v, iova, _)| iova + (p - v) as u64)
    }

    fn describe(&self) -> String {
        let r: Vec<String> = self
            .ranges
            .iter()
            .map(|(s, e)| format!("{s:#x}-{e:#x}"))
            .collect();
        format!("[{}] above {:#x}", r.join(", "), self.next)
    }
}

/// `vfio_device_info.flags` of the device.
fn device_flags(device: &VfioDevice) -> io::Result<u32> {
    // struct vfio_device_info: argsz, flags, num_regions, num_irqs,
    // cap_offset, pad (six u32).
    let mut info = [0u32; 6];
    info[0] = std::mem::size_of_val(&info) as u32;
    // SAFETY: the kernel writes at most argsz bytes into `info`.
    let r = unsafe { libc::ioctl(device.as_raw_fd(), VFIO_DEVICE_GET_INFO, info.as_mut_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info[1])
}

/// The valid IOVA ranges of a container whose IOMMU is set (the
/// VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE capability, Linux 5.4 and later).
/// Without the capability: [`IOVA_BASE`] up to 2^39 - 1, the smallest
/// address width of Intel IOMMUs.
fn iova_ranges(container: &impl AsRawFd) -> io::Result<Vec<(u64, u64)>> {
    // struct vfio_iommu_type1_info: argsz u32, flags u32, iova_pgsizes
    // u64, cap_offset u32, pad u32; then the capability chain.
    let get = |buf: &mut Vec<u64>| -> io::Result<()> {
        let argsz = (buf.len() * 8) as u32;
        buf[0] = argsz as u64; // argsz in the low half, flags = 0
                               // SAFETY: the kernel writes at most argsz bytes into `buf`.
        let r =
            unsafe { libc::ioctl(container.as_raw_fd(), VFIO_IOMMU_GET_INFO, buf.as_mut_ptr()) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    };
    let mut buf = vec![0u64; 3];
    get(&mut buf)?;
    let u32_at = |b: &[u64], off: usize| -> u32 {
        let w = b[off / 8];
        if off.is_multiple_of(8) {
            w as u32
        } else {
            (w >> 32) as u32
        }
    };
    let fallback = Ok(vec![(IOVA_BASE, (1u64 << 39) - 1)]);
    let (argsz, flags) = (u32_at(&buf, 0) as usize, u32_at(&buf, 4));
    if flags & VFIO_IOMMU_INFO_CAPS == 0 || argsz <= 24 {
        return fallback;
    }
    buf = vec![0u64; argsz.div_ceil(8)];
    get(&mut buf)?;
    // Capabilities are 4-byte aligned (not 8): read them from bytes.
    let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_le_bytes()).collect();
    let rd = |off: usize, n: usize| -> Option<u64> {
        let b = bytes.get(off..off + n)?;
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(b);
        Some(u64::from_le_bytes(w))
    };
    let mut off = u32_at(&buf, 16) as usize;
    let mut hops = 0;
    while off != 0 && hops < 64 {
        hops += 1;
        let (Some(id), Some(next)) = (rd(off, 2), rd(off + 4, 4)) else {
            break;
        };
        if id as u16 == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE {
            let Some(n) = rd(off + 8, 4) else { break };
            let ranges: Option<Vec<(u64, u64)>> = (0..n as usize)
                .map(|i| Some((rd(off + 16 + 16 * i, 8)?, rd(off + 24 + 16 * i, 8)?)))
                .collect();
            match ranges {
                Some(r) if !r.is_empty() => return Ok(r),
                _ => break,
            }
        }
        off = next as usize;
    }
    fallback
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
    fn iovas_stay_inside_the_valid_ranges() {
        const M2: usize = 2 << 20;
        // A 39-bit IOMMU with the x86 MSI window reserved.
        let mut s = IovaSpace::new(vec![(0xfef0_0000, (1 << 39) - 1), (0, 0xfedf_ffff)]);
        let a = s.place(M2).unwrap();
        assert_eq!(a, IOVA_BASE);
        s.record(0x7f00_0000_0000usize as *mut u8, a, M2);
        let b = s.place(2 * M2).unwrap();
        assert_eq!(b, IOVA_BASE + M2 as u64);
        assert_eq!(
            s.iova_of((0x7f00_0000_0000usize + 4096) as *mut u8),
            Some(a + 4096)
        );
        assert_eq!(s.iova_of(0x1000 as *mut u8), None);
        // Nothing fits past the end of the last range.
        let mut t = IovaSpace::new(vec![(0, IOVA_BASE + 3 * M2 as u64 - 1)]);
        assert!(t.place(2 * M2).is_some());
        assert!(t.place(2 * M2).is_none());
        assert!(t.place(M2).is_some());
        // A range below the base is skipped, one above it is used from its start.
        let mut u = IovaSpace::new(vec![(0, 0xffff), (1 << 40, (1 << 41) - 1)]);
        assert_eq!(u.place(M2), Some(1 << 40));
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
