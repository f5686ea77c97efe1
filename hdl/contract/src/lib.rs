//! The one definition of the hardware/software contract of the TOE SmartNIC.
//!
//! Both the RTL generator (`toe-hdl`) and the host side (driver, simulator,
//! testbenches) take every address, field offset and flag from this crate.
//! `docs/contract.md` describes the same contract in prose for driver writers.
//!
//! Conventions: BAR0 is 64 KiB of 32-bit little-endian registers.  All
//! in-memory structures (descriptors, completions) are little-endian.
//! Ring indices are free-running 16-bit counters; the slot is
//! `index & (size - 1)`.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod desc;
pub mod regs;
pub mod rss;
pub mod setup;
pub mod shm;
pub mod teardown;

/// Data path width of the MAC and DMA interfaces, in bits.
pub const DATA_BITS: usize = 512;
/// Data path width in bytes (one "beat").
pub const BEAT_BYTES: usize = DATA_BITS / 8;
/// Number of TX/RX queue pairs.
pub const NUM_QUEUES: usize = 4;
/// Largest frame (without FCS) the NIC accepts or sends: 9000-byte MTU jumbo
/// frame plus Ethernet header and one VLAN tag.
pub const MAX_FRAME: usize = 9018;
/// Smallest frame (without FCS) the MAC delivers; shorter frames are runts.
pub const MIN_FRAME: usize = 60;
/// Largest ring, as log2 of entries.
pub const MAX_LOG2_RING: u32 = 15;
/// Smallest ring, as log2 of entries (one beat of descriptors).
pub const MIN_LOG2_RING: u32 = 2;
/// DMA buffers (TX and RX) must be aligned to this many bytes.
pub const BUF_ALIGN: u64 = 64;
/// Bytes of the RSS Toeplitz key.
pub const RSS_KEY_BYTES: usize = 40;
/// Entries in the RSS indirection table.
pub const RSS_TABLE_ENTRIES: usize = 64;
