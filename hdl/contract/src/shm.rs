//! The simulated device's transport: how a driver reaches the Verilated NIC
//! run by the simulator (`cargo xtask sim`) through one shared-memory file.
//!
//! This is not part of the hardware; it stands in for PCIe.  The file (under
//! `/dev/shm`, or a memfd) holds three areas:
//!
//! | offset                | size          | contents                          |
//! |-----------------------|---------------|-----------------------------------|
//! | 0                     | 4 KiB         | header (below), with every lane's head and tail |
//! | `mailbox_off(k)`      | 16 B x `MAILBOX_SLOTS` per lane, `MAX_LANES` lanes | register-access requests of lane `k` |
//! | `WINDOW_OFF`          | `window_len`  | DMA window: host memory the NIC reaches at bus address `window_base + offset` |
//!
//! Register accesses go through mailboxes ("lanes"), each a single-producer
//! (one driver thread) / single-consumer (simulator) ring of slots.  Lane 0
//! is the driver's main register path (bring-up, counters, RSS, reset); a
//! driver gives lanes 1.. to threads that ring doorbells of their own queue
//! pair, so that no two threads share a producer index (or a lock).  The
//! simulator serves `lanes` lanes (header field `LANES_OFF`, 1 to
//! `MAX_LANES`); the rest of the mailbox area is unused.
//!
//! On lane `k` the driver fills slot `head % MAILBOX_SLOTS` of
//! `mailbox_off(k)`, then publishes it by storing `head + 1` at
//! `head_off(k)` with release ordering.  The simulator performs each lane's
//! slots in order, each as a real AXI4-Lite transaction on the RTL's register
//! port, stores a read's result and status in the slot, then stores
//! `tail + 1` at `tail_off(k)` with release ordering.  Writes are posted
//! (the driver does not wait for them); a read waits until the lane's tail
//! passes it, which also means every earlier write *of that lane* has
//! reached the RTL, as on PCIe.  A producer never has more than
//! `MAILBOX_SLOTS` requests outstanding on its lane.
//!
//! Lanes are not ordered with each other: the simulator takes requests
//! round-robin from the lanes that have some (at most one per lane per
//! turn), so a write on lane 2 may reach the RTL before or after a write
//! posted earlier on lane 0, like posted writes from different CPUs on
//! PCIe.  A read on one lane says nothing about the writes of another; a
//! driver that needs them landed waits until every lane's tail has caught
//! up with its head.  `OP_RESET` (on any lane) waits until no access of any
//! lane is in flight and holds the other lanes back meanwhile.
//!
//! All header fields are little-endian; the `*_OFF` constants are byte
//! offsets in the header.  Counters are 64-bit and only ever grow.
//!
//! Version 1 had a single mailbox (lane 0, same offsets as now) and no
//! `LANES_OFF`; version 2 added the lanes.  The magic is the same in both
//! so that each side reaches the version check and says which versions
//! meet.

/// "TOESIM01".
pub const MAGIC: u64 = u64::from_le_bytes(*b"TOESIM01");
/// Version of this layout.
pub const LAYOUT_VERSION: u32 = 2;

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
/// u32: number of lanes the simulator serves (1 to `MAX_LANES`).
pub const LANES_OFF: usize = 0x30;
/// u64: lane 0's head (next slot the driver fills), in its own cache line.
pub const HEAD_OFF: usize = 0x40;
/// u64: lane 0's tail (next slot the simulator performs), own cache line.
pub const TAIL_OFF: usize = 0x80;
/// Bytes between the head (or tail) words of consecutive lanes: each lane
/// has a head line and a tail line of 64 bytes.
pub const LANE_STRIDE: usize = 0x80;
/// Lanes the layout has room for (lane 0 and 15 more).
pub const MAX_LANES: usize = 16;
/// Size of the header.
pub const HEADER_BYTES: usize = 0x1000;

/// Byte offset of lane `lane`'s head word (u64).
pub const fn head_off(lane: usize) -> usize {
    HEAD_OFF + lane * LANE_STRIDE
}
/// Byte offset of lane `lane`'s tail word (u64).
pub const fn tail_off(lane: usize) -> usize {
    TAIL_OFF + lane * LANE_STRIDE
}

/// The simulator is running and serves the mailbox.
pub const STATE_RUNNING: u32 = 1;
/// The simulator has stopped (cleanly or not); nothing serves the mailbox.
pub const STATE_STOPPED: u32 = 2;

/// Byte offset of lane 0's mailbox in the file.
pub const MAILBOX_OFF: usize = 0x1000;
/// Mailbox slots per lane (a power of two).
pub const MAILBOX_SLOTS: usize = 256;
/// Bytes per slot: u32 op, u32 addr, u32 data, u32 status.
pub const SLOT_BYTES: usize = 16;
/// Bytes of one lane's mailbox.
pub const LANE_BYTES: usize = MAILBOX_SLOTS * SLOT_BYTES;

/// Byte offset of lane `lane`'s mailbox in the file.
pub const fn mailbox_off(lane: usize) -> usize {
    MAILBOX_OFF + lane * LANE_BYTES
}
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
const _: () = assert!(LANES_OFF + 4 <= HEAD_OFF);
const _: () = assert!(tail_off(MAX_LANES - 1) + 8 <= HEADER_BYTES);
const _: () = assert!(HEADER_BYTES <= MAILBOX_OFF);
const _: () = assert!(mailbox_off(MAX_LANES) <= WINDOW_OFF);
// Every head and tail word alone in its 64-byte line.
const _: () =
    assert!(HEAD_OFF.is_multiple_of(64) && TAIL_OFF == HEAD_OFF + 64 && LANE_STRIDE == 128);

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
            off.is_multiple_of(4) && off + 4 <= self.len,
            "u32 at {off:#x} outside the file"
        );
        // SAFETY: aligned and in bounds of the mapping (see `new`).
        unsafe { &*(self.base.add(off) as *const core::sync::atomic::AtomicU32) }
    }

    /// The u64 header word at byte offset `off`.
    pub fn u64_at(&self, off: usize) -> &core::sync::atomic::AtomicU64 {
        assert!(
            off.is_multiple_of(8) && off + 8 <= self.len,
            "u64 at {off:#x} outside the file"
        );
        // SAFETY: as above.
        unsafe { &*(self.base.add(off) as *const core::sync::atomic::AtomicU64) }
    }

    /// Field `field` (`SLOT_*`) of lane 0's mailbox slot of request `index`.
    pub fn slot(&self, index: u64, field: usize) -> &core::sync::atomic::AtomicU32 {
        self.lane_slot(0, index, field)
    }

    /// Field `field` (`SLOT_*`) of lane `lane`'s mailbox slot of request
    /// `index` (request indices are free-running; the slot wraps).  Panics
    /// if `lane` is not below `MAX_LANES`.
    pub fn lane_slot(
        &self,
        lane: usize,
        index: u64,
        field: usize,
    ) -> &core::sync::atomic::AtomicU32 {
        assert!(
            lane < MAX_LANES,
            "lane {lane} beyond the {MAX_LANES} lanes of the layout"
        );
        assert!(field < SLOT_BYTES, "slot field {field} beyond a slot");
        let slot = (index as usize) & (MAILBOX_SLOTS - 1);
        self.u32_at(mailbox_off(lane) + slot * SLOT_BYTES + field)
    }

    /// Lane `lane`'s head word.  Panics if `lane` is not below `MAX_LANES`.
    pub fn head(&self, lane: usize) -> &core::sync::atomic::AtomicU64 {
        assert!(
            lane < MAX_LANES,
            "lane {lane} beyond the {MAX_LANES} lanes of the layout"
        );
        self.u64_at(head_off(lane))
    }

    /// Lane `lane`'s tail word.  Panics if `lane` is not below `MAX_LANES`.
    pub fn tail(&self, lane: usize) -> &core::sync::atomic::AtomicU64 {
        assert!(
            lane < MAX_LANES,
            "lane {lane} beyond the {MAX_LANES} lanes of the layout"
        );
        self.u64_at(tail_off(lane))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::sync::atomic::Ordering;
    use std::vec;

    /// A zeroed, 8-byte aligned stand-in for the file (header and
    /// mailboxes; the window is not needed).
    fn file() -> std::vec::Vec<u64> {
        vec![0u64; mailbox_off(MAX_LANES) / 8]
    }

    #[test]
    fn lanes_do_not_overlap() {
        // Heads and tails: distinct lines, inside the header, after the
        // fixed fields.
        let mut words = std::vec::Vec::new();
        for k in 0..MAX_LANES {
            words.push(head_off(k));
            words.push(tail_off(k));
        }
        let lines: std::collections::BTreeSet<usize> = words.iter().map(|w| w / 64).collect();
        assert_eq!(lines.len(), 2 * MAX_LANES, "one 64-byte line per word");
        assert!(words
            .iter()
            .all(|&w| w >= HEAD_OFF && w + 8 <= HEADER_BYTES));
        const { assert!(LANES_OFF + 4 <= HEAD_OFF && CYCLE_OFF + 8 <= LANES_OFF) };
        // Lane 0 is where version 1 had its single mailbox.
        assert_eq!(
            (head_off(0), tail_off(0), mailbox_off(0)),
            (0x40, 0x80, 0x1000)
        );
        // Mailboxes back to back, none reaching the window.
        for k in 1..MAX_LANES {
            assert_eq!(mailbox_off(k), mailbox_off(k - 1) + LANE_BYTES);
        }
        assert!(mailbox_off(MAX_LANES) <= WINDOW_OFF);
    }

    #[test]
    fn slots_wrap_within_their_lane() {
        let mut f = file();
        // SAFETY: the vector outlives the view and is only reached through it.
        let v = unsafe { View::new(f.as_mut_ptr().cast(), f.len() * 8) };
        let n = MAILBOX_SLOTS as u64;
        // Request n+3 of lane 5 lands in the slot of request 3 of lane 5.
        v.lane_slot(5, n + 3, SLOT_DATA)
            .store(0xabcd, Ordering::Relaxed);
        assert_eq!(v.lane_slot(5, 3, SLOT_DATA).load(Ordering::Relaxed), 0xabcd);
        assert_eq!(
            v.lane_slot(5, 2 * n + 3, SLOT_DATA).load(Ordering::Relaxed),
            0xabcd
        );
        // ... and nowhere in the neighbouring lanes.
        for k in [4, 6] {
            for i in 0..n {
                assert_eq!(v.lane_slot(k, i, SLOT_DATA).load(Ordering::Relaxed), 0);
            }
        }
        // The last slot of lane 4 and the first of lane 5 are adjacent.
        let last4 = v.lane_slot(4, n - 1, SLOT_STATUS) as *const _ as usize;
        let first5 = v.lane_slot(5, 0, SLOT_OP) as *const _ as usize;
        assert_eq!(first5 - last4, 4);
        // Lane 0 is the version 1 mailbox.
        v.slot(n, SLOT_OP).store(OP_WRITE, Ordering::Relaxed);
        assert_eq!(
            v.u32_at(MAILBOX_OFF + SLOT_OP).load(Ordering::Relaxed),
            OP_WRITE
        );
        v.head(3).store(7, Ordering::Relaxed);
        assert_eq!(v.u64_at(0x40 + 3 * 0x80).load(Ordering::Relaxed), 7);
        v.tail(15).store(9, Ordering::Relaxed);
        assert_eq!(v.u64_at(0x80 + 15 * 0x80).load(Ordering::Relaxed), 9);
    }

    #[test]
    #[should_panic(expected = "lane 16 beyond the 16 lanes")]
    fn a_lane_beyond_the_layout_panics() {
        let mut f = file();
        // SAFETY: as above.
        let v = unsafe { View::new(f.as_mut_ptr().cast(), f.len() * 8) };
        v.lane_slot(MAX_LANES, 0, SLOT_OP);
    }
}
