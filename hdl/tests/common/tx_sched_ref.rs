//! What the TX scheduler must do with one descriptor, in plain Rust: which
//! descriptors it rejects and the AXI read bursts of a good one (64-byte
//! beats, at most 64 per burst, never across a 4 KiB boundary: AXI4
//! A3.4.1).  The contract's descriptor: address, length, flags (bits 15:12
//! reserved, must be zero).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Desc {
    pub addr: u64,
    pub len: u16,
    pub flags: u16,
}

impl Desc {
    /// The 128-bit head word the descriptor cache shows.
    pub fn head(&self) -> u128 {
        self.addr as u128 | (self.len as u128) << 64 | (self.flags as u128) << 80
    }

    /// Rejected: reserved flags, a length outside 14..=9018 (an Ethernet
    /// header to a jumbo frame), or an address not 64-byte aligned.
    pub fn rejected(&self) -> bool {
        self.flags >> 12 != 0 || self.len < 14 || self.len > 9018 || self.addr & 63 != 0
    }

    /// The read bursts (address, AXI length = beats - 1) of a good
    /// descriptor, in order; none for a rejected one.
    pub fn bursts(&self) -> Vec<(u64, u8)> {
        if self.rejected() {
            return vec![];
        }
        let mut out = vec![];
        let mut addr = self.addr;
        let mut beats = (self.len as u64).div_ceil(64);
        while beats > 0 {
            let to_page = (4096 - (addr & 4095)) / 64;
            let n = beats.min(to_page).min(64);
            out.push((addr, (n - 1) as u8));
            addr = addr.wrapping_add(n * 64);
            beats -= n;
        }
        out
    }
}

/// A tag as the scheduler writes it: queue, index, length, flags, error.
pub fn tag_fields(tag: u64) -> (usize, u16, u16, u16, bool) {
    (
        (tag & 3) as usize,
        (tag >> 2) as u16,
        (tag >> 18) as u16,
        (tag >> 34) as u16,
        (tag >> 50) & 1 != 0,
    )
}
