//! A byte ring for the send and receive buffers: logical offsets from the
//! oldest byte, a fixed capacity (the bound the buffer advertises), and
//! memory that grows on demand up to it (doubling, from a small start),
//! so a connection that moves 64 bytes does not pay for zeroing 64 KiB.
//! Copies are at most two slice copies.

/// Memory a ring starts with once it holds anything.
const FIRST_ALLOC: usize = 512;

pub struct ByteRing {
    mem: Vec<u8>,
    /// Index in `mem` of logical offset 0.
    start: usize,
    capacity: usize,
}

impl ByteRing {
    pub fn new(capacity: usize) -> ByteRing {
        assert!(capacity > 0 && capacity < (1 << 30));
        ByteRing {
            mem: Vec::new(),
            start: 0,
            capacity,
        }
    }

    /// Bytes the ring may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of memory allocated now.
    pub fn allocated(&self) -> usize {
        self.mem.len()
    }

    /// Makes logical offsets `0..end` addressable; `live` bytes from
    /// offset 0 hold data and move with the growth.
    fn reserve(&mut self, end: usize, live: usize) {
        assert!(
            end <= self.capacity,
            "ring offset {end} beyond capacity {}",
            self.capacity
        );
        if end <= self.mem.len() {
            return;
        }
        let mut size = self.mem.len().max(FIRST_ALLOC.min(self.capacity));
        while size < end {
            size = (size * 2).min(self.capacity);
        }
        let mut mem = vec![0u8; size];
        let live = live.min(self.mem.len());
        self.read(0, &mut mem[..live]);
        self.mem = mem;
        self.start = 0;
    }

    /// Copies `data` to logical offset `at`; `live` bytes from offset 0
    /// hold data that must survive a growth (the caller's in-use span).
    pub fn write(&mut self, at: usize, data: &[u8], live: usize) {
        if data.is_empty() {
            // Nothing to place (and no memory yet on a fresh ring: the
            // index below would divide by zero).
            return;
        }
        self.reserve(at + data.len(), live.max(at));
        let len = self.mem.len();
        let i = (self.start + at) % len;
        let first = data.len().min(len - i);
        self.mem[i..i + first].copy_from_slice(&data[..first]);
        self.mem[..data.len() - first].copy_from_slice(&data[first..]);
    }

    /// Copies bytes from logical offset `at` into `dst`.
    pub fn read(&self, at: usize, dst: &mut [u8]) {
        if dst.is_empty() {
            return;
        }
        let len = self.mem.len();
        assert!(at + dst.len() <= len, "ring read beyond what was written");
        let i = (self.start + at) % len;
        let first = dst.len().min(len - i);
        dst[..first].copy_from_slice(&self.mem[i..i + first]);
        let rest = dst.len() - first;
        dst[first..].copy_from_slice(&self.mem[..rest]);
    }

    /// Drops `n` bytes from the front: logical offset `n` becomes 0.
    pub fn advance(&mut self, n: usize) {
        if !self.mem.is_empty() {
            self.start = (self.start + n) % self.mem.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the tcp_states fuzz target: an empty write to a ring that
    /// holds nothing yet (a connection's first `write(&[])`, which the C
    /// ABI's `toe_write(.., 0)` reaches) divided by zero and panicked.
    #[test]
    fn writing_nothing_to_a_fresh_ring() {
        let mut r = ByteRing::new(100);
        r.write(0, &[], 0);
        assert_eq!(r.allocated(), 0);
        r.write(0, b"abc", 0);
        r.write(3, &[], 3);
        let mut b = [0u8; 3];
        r.read(0, &mut b);
        assert_eq!(&b, b"abc");
    }

    /// Against a plain model: a VecDeque of the live bytes.
    #[test]
    fn matches_a_model_through_growth_and_wrap() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as usize
        };
        let cap = 10_000;
        let mut r = ByteRing::new(cap);
        let mut model: std::collections::VecDeque<u8> = Default::default();
        let mut next = 0u8;
        for _ in 0..5000 {
            if rnd(2) == 0 {
                let n = rnd(cap - model.len() + 1).min(3000);
                let data: Vec<u8> = (0..n)
                    .map(|_| {
                        next = next.wrapping_add(1);
                        next
                    })
                    .collect();
                r.write(model.len(), &data, model.len());
                model.extend(&data);
            } else {
                let n = rnd(model.len() + 1);
                let mut out = vec![0; n];
                r.read(0, &mut out);
                let want: Vec<u8> = model.drain(..n).collect();
                assert_eq!(out, want);
                r.advance(n);
            }
            assert!(r.allocated() <= cap);
        }
    }

    #[test]
    fn small_use_allocates_little() {
        let mut r = ByteRing::new(64 * 1024);
        r.write(0, &[1; 64], 0);
        assert_eq!(r.allocated(), FIRST_ALLOC);
        let mut b = [0; 64];
        r.read(0, &mut b);
        assert_eq!(b, [1; 64]);
    }

    #[test]
    fn out_of_order_write_keeps_the_live_bytes() {
        let mut r = ByteRing::new(100_000);
        r.write(0, &[7; 100], 100);
        // A write far ahead (reassembly) grows the memory.
        r.write(50_000, &[9; 10], 100);
        let mut b = [0; 100];
        r.read(0, &mut b);
        assert_eq!(b, [7; 100]);
        let mut c = [0; 10];
        r.read(50_000, &mut c);
        assert_eq!(c, [9; 10]);
    }
}
