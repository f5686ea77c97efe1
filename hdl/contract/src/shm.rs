//! The simulated device's transport: how a driver reaches the Verilated NIC
//! run by the simulator (`cargo xtask sim`) through one shared-memory file.
//!
//! This is not part of the hardware; it stands in for PCIe.  The file (under
//! `/dev/shm`, or a memfd) holds three areas:
//!
//! | offset            | size          | contents                          |
//! |-------------------|---------------|-----------------------------------|
//! | 0                 | 4 KiB         | header (below)                    |
//! | `MAILBOX_OFF`     | 16 B x `MAILBOX_SLOTS` | register-access requests  |
//! | `WINDOW_OFF`      | `window_len`  | DMA window: host memory the NIC reaches at bus address `window_base + offset` |
//!
//! Register accesses go through the mailbox, a single-producer (driver) /
//! single-consumer (simulator) ring of slots.  The driver fills slot
//! `head % MAILBOX_SLOTS`, then publishes it by storing `head + 1` with
//! release ordering.  The simulator performs the slots in order, each as a
//! real AXI4-Lite transaction on the RTL's register port, stores a read's
//! result and status in the slot, then stores `tail + 1` with release
//! ordering.  Writes are posted (the driver does not wait for them); a read
//! waits until `tail` passes it, which also means every earlier write has
//! reached the RTL, as on PCIe.  A driver never has more than
//! `MAILBOX_SLOTS` requests outstanding.
//!
//! All header fields are little-endian; the `*_OFF` constants are byte
//! offsets in the header.  Counters are 64-bit and only ever grow.

/// "TOESIM01".
pub const MAGIC: u64 = u64::from_le_bytes(*b"TOESIM01");
/// Version of this layout.
pub const LAYOUT_VERSION: u32 = 1;

/// u64: `MAGIC` (written last by the simulator when the file is ready).
pub const MAGIC_OFF: usize = 0x00;
/// u32: `LAYOUT_VERSION`.
pub const VERSION_OFF: usize = 0x08;
/// u32: simulator state, one of `STATE_*`.
pub const STATE_OFF: usize = 0x0C;
/// u64: bus address of window byte 0.
pub const WINDOW_BASE_OFF: usize = 0x10;
/// u64: window length in bytes.
pub const WINDOW_LEN_OFF: usize = 0x18;
/// u32: process id of the simulator.
pub const SIM_PID_OFF: usize = 0x20;
/// u32: process id of the attached driver, 0 when none (claimed with a
/// compare-and-swap from 0; a driver whose recorded process is gone may
/// take over).
pub const CLIENT_PID_OFF: usize = 0x24;
/// u64: simulated clock cycles so far (updated by the simulator at least
/// every few thousand cycles; a driver uses it to tell a live simulator
/// from a hung one).
pub const CYCLE_OFF: usize = 0x28;
/// u64: mailbox head (next slot the driver fills), in its own cache line.
pub const HEAD_OFF: usize = 0x40;
/// u64: mailbox tail (next slot the simulator performs), own cache line.
pub const TAIL_OFF: usize = 0x80;

/// The simulator is running and serves the mailbox.
pub const STATE_RUNNING: u32 = 1;
/// The simulator has stopped (cleanly or not); nothing serves the mailbox.
pub const STATE_STOPPED: u32 = 2;

/// Byte offset of the mailbox in the file.
pub const MAILBOX_OFF: usize = 0x1000;
/// Mailbox slots (a power of two).
pub const MAILBOX_SLOTS: usize = 256;
/// Bytes per slot: u32 op, u32 addr, u32 data, u32 status.
pub const SLOT_BYTES: usize = 16;
/// Byte offset of the DMA window in the file (2 MiB aligned, so the window
/// can be backed by huge pages).
pub const WINDOW_OFF: usize = 0x20_0000;
/// Default window: 64 MiB at bus address 4 GiB (above 32 bits, so that a
/// truncated address never hits it).
pub const DEFAULT_WINDOW_LEN: u64 = 64 << 20;
pub const DEFAULT_WINDOW_BASE: u64 = 0x1_0000_0000;

/// Slot `op` values.
pub const OP_READ: u32 = 1;
pub const OP_WRITE: u32 = 2;
/// Hold the RTL in reset for a few cycles (function-level reset).  The DMA
/// window is untouched.
pub const OP_RESET: u32 = 3;

/// Slot `status` values.
pub const STATUS_OK: u32 = 0;
/// The AXI4-Lite response was not OKAY or the access timed out; a read's
/// data is then all ones.
pub const STATUS_ERROR: u32 = 1;
/// The op is not one of `OP_*`.
pub const STATUS_BAD_OP: u32 = 2;

/// Byte offsets of the slot fields.
pub const SLOT_OP: usize = 0;
pub const SLOT_ADDR: usize = 4;
pub const SLOT_DATA: usize = 8;
pub const SLOT_STATUS: usize = 12;

/// Total file length for a window of `window_len` bytes.
pub const fn file_len(window_len: u64) -> u64 {
    WINDOW_OFF as u64 + window_len
}

const _: () = assert!(MAILBOX_SLOTS.is_power_of_two());
const _: () = assert!(MAILBOX_OFF + MAILBOX_SLOTS * SLOT_BYTES <= WINDOW_OFF);
const _: () = assert!(TAIL_OFF + 8 <= MAILBOX_OFF);

/// The header words and mailbox slots of a mapped file, as atomics.  Both
/// sides (driver and simulator) reach the shared fields only through this.
#[derive(Clone, Copy, Debug)]
pub struct View {
    base: *mut u8,
    len: usize,
}

impl View {
    /// # Safety
    /// `base..base+len` must be a mapping of the whole file, 8-byte
    /// aligned, that outlives the view; its header and mailbox words are
    /// only ever accessed atomically.
    pub const unsafe fn new(base: *mut u8, len: usize) -> View {
        View { base, len }
    }

    /// The u32 header or mailbox word at byte offset `off`.
    pub fn u32_at(&self, off: usize) -> &core::sync::atomic::AtomicU32 {
        assert!(
            off % 4 == 0 && off + 4 <= self.len,
            "u32 at {off:#x} outside the file"
        );
        // SAFETY: aligned and in bounds of the mapping (see `new`).
        unsafe { &*(self.base.add(off) as *const core::sync::atomic::AtomicU32) }
    }

    /// The u64 header word at byte offset `off`.
    pub fn u64_at(&self, off: usize) -> &core::sync::atomic::AtomicU64 {
        assert!(
            off % 8 == 0 && off + 8 <= self.len,
            "u64 at {off:#x} outside the file"
        );
        // SAFETY: as above.
        unsafe { &*(self.base.add(off) as *const core::sync::atomic::AtomicU64) }
    }

    /// Field `field` (`SLOT_*`) of the mailbox slot of request `index`.
    pub fn slot(&self, index: u64, field: usize) -> &core::sync::atomic::AtomicU32 {
        let slot = (index as usize) & (MAILBOX_SLOTS - 1);
        self.u32_at(MAILBOX_OFF + slot * SLOT_BYTES + field)
    }
}
