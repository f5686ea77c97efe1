//! Driver errors.  Every variant names its cause and, where there is one,
//! the fix.
use std::path::PathBuf;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} does not exist: VFIO is not available (load the vfio-pci module: `modprobe vfio-pci`)"
    )]
    NoVfio(PathBuf),
    #[error("PCI device {0} not found under /sys/bus/pci/devices")]
    NoPciDevice(String),
    #[error("PCI device {0} has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line)")]
    NoIommu(String),
    /// `driver` is `"none"` for a device bound to no driver.
    #[error("{}", not_vfio_bound(.addr, .driver))]
    NotVfioBound { addr: String, driver: String },
    #[error("IOMMU group {group} is not viable: device {other} in the same group is bound to {driver} (bind every device of the group to vfio-pci or leave it unbound)")]
    GroupNotViable {
        group: u32,
        other: String,
        driver: String,
    },
    #[error("no 2 MiB hugepages are reserved ({0}); reserve some with `echo 64 > /proc/sys/vm/nr_hugepages`")]
    NoHugepages(String),
    #[error("VFIO: {what} for {addr} failed: {detail}")]
    Vfio {
        addr: String,
        what: String,
        detail: String,
    },
    #[error("BAR0 of {addr} cannot be mapped into user space (VFIO region flags {flags:#x}, size {size:#x}): the BAR is missing or not memory-mappable; check the FPGA bitstream declares a 64-bit memory BAR0")]
    BarNotMappable { addr: String, flags: u32, size: u64 },
    #[error("device at {backend} is not a TOE NIC: ID register reads {found:#010x}, expected {expected:#010x}")]
    WrongDevice {
        backend: String,
        found: u32,
        expected: u32,
    },
    #[error("device at {backend} has hardware version {found_major}.{found_minor}; this driver needs {need_major}.x (at least {need_major}.{need_minor})")]
    WrongVersion {
        backend: String,
        found_major: u16,
        found_minor: u16,
        need_major: u16,
        need_minor: u16,
    },
    #[error("device at {backend} does not respond: register reads return all ones (device removed, simulator gone or bus error)")]
    DeviceGone { backend: String },
    #[error("register block list is broken at offset {offset:#x}: {why}")]
    BadBlockList { offset: u32, why: String },
    #[error("required register block {0} missing")]
    MissingBlock(&'static str),
    /// An offload asked for that the device does not have: its register
    /// block is not in the device's block list.
    #[error("device at {backend} does not implement the {offload} offload: its register block list has no block of type {block_type:#010x} with version 1.x (blocks found: {found})")]
    NoOffload {
        backend: String,
        offload: &'static str,
        block_type: u32,
        found: String,
    },
    #[error("simulator: {0}")]
    Sim(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("out of DMA memory: {requested} bytes requested, {available} available in {backend}")]
    DmaExhausted {
        backend: String,
        requested: usize,
        available: usize,
    },
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(std::time::Duration, String),
}

/// The message of [`Error::NotVfioBound`].  A device bound to no driver
/// needs no unbinding: telling the user to write to
/// `/sys/bus/pci/drivers/none/unbind`, as this message did before it was
/// seen in the VM rig (tools/src/vm.rs), sends them to a path that does not
/// exist.
fn not_vfio_bound(addr: &str, driver: &str) -> String {
    let bind = format!(
        "echo vfio-pci > /sys/bus/pci/devices/{addr}/driver_override; echo {addr} > /sys/bus/pci/drivers_probe"
    );
    if driver == "none" {
        format!("PCI device {addr} is not bound to any driver; it must be bound to vfio-pci (bind it: `{bind}`)")
    } else {
        format!(
            "PCI device {addr} is bound to {driver}, not vfio-pci (bind it: `echo {addr} > /sys/bus/pci/drivers/{driver}/unbind; {bind}`)"
        )
    }
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}
