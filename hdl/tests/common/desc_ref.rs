//! Plain Rust reference for the descriptor fetcher's test
//! (hdl/tests/desc_fetch_vlt.rs): the host's side of four descriptor rings
//! as docs/contract.md describes them (ring base, log2 size, free-running
//! 16-bit producer index, slot `i & (size - 1)`, 16-byte descriptors), the
//! host memory holding them, and what a consumer must see: every posted
//! descriptor once, in order, and none of before a queue reset.
#![allow(dead_code)]

use std::collections::HashMap;

/// One queue's ring as the host keeps it.
#[derive(Clone, Debug)]
pub struct Ring {
    pub base: u64,
    pub log2: u32,
    pub enabled: bool,
    /// Incremented by every queue reset: descriptors carry it.
    pub epoch: u32,
    /// Producer index (posted descriptors).
    pub prod: u16,
    /// Next index the consumer must see.
    pub next: u16,
}

impl Ring {
    pub fn size(&self) -> u32 {
        1 << self.log2
    }
    pub fn slot(&self, i: u16) -> u64 {
        (i as u64) & (self.size() as u64 - 1)
    }
    /// Descriptors posted and not yet consumed.
    pub fn outstanding(&self) -> u32 {
        self.prod.wrapping_sub(self.next) as u32
    }
}

/// The descriptor the host writes for index `i` of queue `q` in `epoch`.
pub fn desc(q: usize, epoch: u32, i: u16) -> u128 {
    let mut x = (q as u64) << 56 ^ (epoch as u64) << 24 ^ i as u64 ^ 0x5151_0000_0000;
    let mut words = [0u64; 2];
    for w in &mut words {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        *w = z ^ (z >> 31);
    }
    (words[1] as u128) << 64 | words[0] as u128
}

/// Host memory in 16-byte words; never-written words read as a poison
/// pattern derived from the address (never a valid descriptor).
#[derive(Default)]
pub struct Memory {
    words: HashMap<u64, u128>,
}

impl Memory {
    pub fn write(&mut self, addr: u64, v: u128) {
        assert_eq!(addr % 16, 0);
        self.words.insert(addr / 16, v);
    }
    pub fn read16(&self, addr: u64) -> u128 {
        *self
            .words
            .get(&(addr / 16))
            .unwrap_or(&(0xDEAD_0000_0000_0000_0000_0000_0000_0000u128 | addr as u128))
    }
    /// A 64-byte beat as 8 little-endian 64-bit limbs.
    pub fn beat(&self, addr: u64) -> Vec<u64> {
        let mut v = vec![];
        for k in 0..4 {
            let d = self.read16(addr + 16 * k);
            v.push(d as u64);
            v.push((d >> 64) as u64);
        }
        v
    }
}

/// The host: rings and memory.
pub struct Host {
    pub rings: Vec<Ring>,
    pub mem: Memory,
}

impl Host {
    pub fn new(rings: Vec<Ring>) -> Host {
        Host {
            rings,
            mem: Memory::default(),
        }
    }

    /// Posts up to `n` descriptors on queue `q` (as many as fit): writes
    /// them into their slots, then advances the producer index.
    pub fn post(&mut self, q: usize, n: u32) -> u32 {
        let r = &self.rings[q];
        let room = r.size() - r.outstanding();
        let n = n.min(room);
        for k in 0..n {
            let r = &self.rings[q];
            let i = r.prod.wrapping_add(k as u16);
            let addr = r.base + 16 * r.slot(i);
            let v = desc(q, r.epoch, i);
            self.mem.write(addr, v);
        }
        let r = &mut self.rings[q];
        r.prod = r.prod.wrapping_add(n as u16);
        n
    }

    /// The queue a 64-byte read belongs to and the slot it starts at, if it
    /// is a beat of an enabled ring (64-byte aligned within the ring).
    pub fn beat_of(&self, addr: u64) -> Option<(usize, u64)> {
        for (q, r) in self.rings.iter().enumerate() {
            let end = r.base + 16 * r.size() as u64;
            if addr >= r.base && addr < end && (addr - r.base) % 64 == 0 {
                return Some((q, (addr - r.base) / 16));
            }
        }
        None
    }

    /// The consumer popped `got` from queue `q`: it must be the next
    /// posted descriptor.
    pub fn consume(&mut self, q: usize, got: u128) -> Result<(), String> {
        let r = &mut self.rings[q];
        if r.outstanding() == 0 {
            return Err(format!(
                "queue {q}: a descriptor popped with none posted: {got:032x}"
            ));
        }
        let want = desc(q, r.epoch, r.next);
        if got != want {
            return Err(format!(
                "queue {q} index {} (epoch {}): got {got:032x}, want {want:032x}",
                r.next, r.epoch
            ));
        }
        r.next = r.next.wrapping_add(1);
        Ok(())
    }
}
