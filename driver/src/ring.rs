//! Descriptor and completion rings in host memory.
//!
//! The descriptor ring is written by the driver and read by the NIC; the
//! completion ring is written by the NIC.  A completion is new when its
//! phase bit matches `phase_for(consumer index)`, so the driver never reads
//! a producer register.
use crate::backend::DmaRegion;
use std::sync::atomic::{fence, Ordering};
use toe_contract::desc::{phase_for, Completion, CPL_BYTES, RECORD_BYTES};

pub struct Ring {
    desc: DmaRegion,
    cpl: DmaRegion,
    log2: u32,
    /// Free-running index of the next descriptor to post.
    pub prod: u16,
    /// Free-running index of the next completion to read.
    pub cons: u16,
}

impl Ring {
    pub fn new(desc: DmaRegion, cpl: DmaRegion, log2: u32) -> Ring {
        let n = 1usize << log2;
        assert!(desc.len() >= n * RECORD_BYTES && cpl.len() >= n * CPL_BYTES);
        Ring {
            desc,
            cpl,
            log2,
            prod: 0,
            cons: 0,
        }
    }

    pub fn size(&self) -> u16 {
        1 << self.log2
    }
    pub fn log2(&self) -> u32 {
        self.log2
    }
    pub fn mask(&self) -> u16 {
        self.size() - 1
    }
    pub fn desc_iova(&self) -> u64 {
        self.desc.iova()
    }
    pub fn cpl_iova(&self) -> u64 {
        self.cpl.iova()
    }
    /// Descriptors posted and not yet completed.
    pub fn in_flight(&self) -> u16 {
        self.prod.wrapping_sub(self.cons)
    }
    pub fn is_full(&self) -> bool {
        self.in_flight() >= self.size()
    }

    /// Writes descriptor `record` at the producer index and advances it.
    /// The caller publishes with [`Ring::doorbell_value`] after a release
    /// fence.
    pub fn push(&mut self, record: &[u8; RECORD_BYTES]) -> u16 {
        debug_assert!(!self.is_full());
        let slot = self.prod & self.mask();
        self.desc.write(slot as usize * RECORD_BYTES, record);
        self.prod = self.prod.wrapping_add(1);
        slot
    }

    /// Whether the NIC has written the next completion (one volatile load;
    /// nothing is consumed).
    pub fn ready(&self) -> bool {
        let off = (self.cons & self.mask()) as usize * CPL_BYTES;
        let last = self.cpl.read_u64(off + CPL_BYTES - 8);
        (last >> 63 != 0) == phase_for(self.cons, self.log2)
    }

    /// The next completion if the NIC has written it.
    pub fn poll(&mut self) -> Option<Completion> {
        let off = (self.cons & self.mask()) as usize * CPL_BYTES;
        // The phase bit is bit 63 of the record's last 8 bytes.
        let last = self.cpl.read_u64(off + CPL_BYTES - 8);
        if (last >> 63 != 0) != phase_for(self.cons, self.log2) {
            return None;
        }
        // Everything the NIC wrote before the phase bit is visible now.
        fence(Ordering::Acquire);
        let mut b = [0u8; CPL_BYTES];
        self.cpl.read(off, &mut b);
        self.cons = self.cons.wrapping_add(1);
        Some(Completion::decode(&b))
    }
}
