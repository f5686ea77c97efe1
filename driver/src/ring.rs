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
    /// nothing is consumed).  Never for a ring with nothing posted: a
    /// completion there is the device's error (see [`Ring::poll`]).
    pub fn ready(&self) -> bool {
        if self.in_flight() == 0 {
            return false;
        }
        let off = (self.cons & self.mask()) as usize * CPL_BYTES;
        let last = self.cpl.read_u64(off + CPL_BYTES - 8);
        (last >> 63 != 0) == phase_for(self.cons, self.log2)
    }

    /// The next completion if the NIC has written it.  A completion
    /// beyond the descriptors posted is not taken: a device that writes
    /// more completions than it was given descriptors would otherwise move
    /// the consumer index past the producer, and the ring would look full
    /// (`in_flight` wrapped to 65535) for ever, stopping the queue.
    pub fn poll(&mut self) -> Option<Completion> {
        if self.in_flight() == 0 {
            return None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use toe_contract::desc::phase_for;

    /// Found by the driver_completions fuzz target: TX completions for
    /// descriptors never posted moved `cons` past `prod`, after which the
    /// ring was "full" for ever and the queue sent nothing again.
    #[test]
    fn completions_beyond_the_posted_descriptors_are_not_taken() {
        let log2 = 2;
        let mut desc_mem = vec![0u64; 4 * RECORD_BYTES / 8];
        let mut cpl_mem = vec![0u64; 4 * CPL_BYTES / 8];
        // SAFETY: the vectors outlive the ring and are only reached
        // through it (and the writes below, between its calls).
        let (desc, cpl) = unsafe {
            (
                DmaRegion::new(desc_mem.as_mut_ptr() as *mut u8, 0x1000, desc_mem.len() * 8),
                DmaRegion::new(cpl_mem.as_mut_ptr() as *mut u8, 0x2000, cpl_mem.len() * 8),
            )
        };
        let cpl_view =
            unsafe { DmaRegion::new(cpl_mem.as_mut_ptr() as *mut u8, 0x2000, cpl_mem.len() * 8) };
        let mut ring = Ring::new(desc, cpl, log2);
        let write = |i: u16| {
            let c = Completion {
                index: i,
                phase: phase_for(i, log2),
                ..Completion::default()
            };
            cpl_view.write((i as usize & 3) * CPL_BYTES, &c.encode());
        };
        // A completion with a valid phase, nothing posted.
        write(0);
        assert!(!ring.ready());
        assert!(ring.poll().is_none());
        assert_eq!(ring.in_flight(), 0);
        // One posted: that completion is taken, the next phantom is not.
        ring.push(&[0; RECORD_BYTES]);
        assert!(ring.ready());
        assert_eq!(ring.poll().map(|c| c.index), Some(0));
        write(1);
        assert!(ring.poll().is_none());
        assert_eq!((ring.in_flight(), ring.is_full()), (0, false));
        // The ring keeps working: four posted, four taken.
        for _ in 0..4 {
            ring.push(&[0; RECORD_BYTES]);
        }
        assert!(ring.is_full());
        for i in 1..5u16 {
            write(i);
            assert_eq!(ring.poll().map(|c| c.index), Some(i));
        }
        assert_eq!(ring.in_flight(), 0);
    }
}
