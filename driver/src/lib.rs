//! Userspace driver for the TOE SmartNIC.
//!
//! The driver talks to the device through a [`Backend`]: BAR0 register
//! accesses and DMA-able memory.  Two backends exist:
//! * [`vfio`]: a real board bound to `vfio-pci`;
//! * [`shm`]: the Verilated NIC run by the simulator (`cargo xtask sim`),
//!   which exposes BAR0 and a DMA window through shared memory.
//!
//! Everything above the backend (bring-up, rings, buffer pool, the host
//! network layer) is the same code for both, so an application runs
//! unchanged against either.
//!
//! A [`Nic`] runs from one thread, or splits ([`Nic::split`]) into a
//! [`NicControl`] and one `Send` [`NicQueue`] per queue pair, each with a
//! register path of its own ([`Backend::lane`]), for one thread per queue
//! pair with no lock shared on the fast path.
//!
//! What the NIC's offloads need beyond frames (completion-kind dispatch,
//! the setup offload's commands, the NIC's active open) is in [`offload`];
//! the host TCP library's core ([`tcp`]) reaches it only through the hook
//! traits of [`tcp::offload`] (docs/offload_seam.md).
//!
//! Memory the device writes (completion rings, RX buffers) is only ever
//! touched through raw pointers with volatile or atomic accesses, never
//! through Rust references; a release fence precedes every doorbell.
pub mod backend;
pub mod device;
pub mod error;
pub mod hugepage;
pub mod net;
pub mod nic;
pub mod offload;
pub mod pool;
pub mod ring;
pub mod shm;
pub mod socket;
pub mod tcp;
pub mod vfio;

pub use backend::{Backend, DmaRegion, Lane, Registers};
pub use device::{Device, DeviceInfo};
pub use error::{Error, Result};
pub use nic::{Nic, NicConfig, NicControl, NicQueue, Packet, QueueIo, SplitError};

/// Opens the backend a device string names, so that an application picks
/// its device at run time and is otherwise unchanged:
/// * `sim` or `sim:PATH`: the simulated device served by `cargo xtask sim`
///   (default path [`shm::DEFAULT_PATH`]);
/// * `pci:DDDD:BB:DD.F` (or a bare PCI address): a board bound to vfio-pci.
pub fn open_backend(spec: &str) -> Result<Box<dyn Backend>> {
    let wait = std::time::Duration::from_secs(5);
    if spec == "sim" {
        return Ok(Box::new(shm::ShmBackend::open(shm::DEFAULT_PATH, wait)?));
    }
    if let Some(path) = spec.strip_prefix("sim:") {
        return Ok(Box::new(shm::ShmBackend::open(path, wait)?));
    }
    let addr = spec.strip_prefix("pci:").unwrap_or(spec);
    Ok(Box::new(vfio::VfioBackend::open(addr)?))
}
