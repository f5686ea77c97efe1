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

    /// Takes `mem` (a buffer of [`FIRST_ALLOC`] bytes another ring gave
    /// back, see [`ByteRing::give_back`]) as this ring's first memory, when
    /// it has none yet; otherwise hands it back.
    pub fn adopt(&mut self, mem: Vec<u8>) -> Result<(), Vec<u8>> {
        if !self.mem.is_empty() || mem.len() != FIRST_ALLOC.min(self.capacity) {
            return Err(mem);
        }
        self.mem = mem;
        self.start = 0;
        Ok(())
    }

    /// The ring's memory, zeroed (nothing of this connection's data stays
    /// in it), if it is still the first allocation: for another ring to
    /// [`ByteRing::adopt`].  The ring is empty afterwards; call it only
    /// when the ring's contents are no longer needed.
    pub fn give_back(&mut self) -> Option<Vec<u8>> {
        if self.mem.is_empty() || self.mem.len() != FIRST_ALLOC.min(self.capacity) {
            return None;
        }
        let mut mem = std::mem::take(&mut self.mem);
        mem.fill(0);
        self.start = 0;
        Some(mem)
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

    /// The bytes from logical offset `at`, up to `len` of them, in place:
    /// the first contiguous piece (shorter when the span wraps).
    pub fn slice(&self, at: usize, len: usize) -> &[u8] {
        if len == 0 {
            return &[];
        }
        let n = self.mem.len();
        assert!(at + len <= n, "ring slice beyond what was written");
        let i = (self.start + at) % n;
        &self.mem[i..i + len.min(n - i)]
    }

    /// Room for up to `len` bytes at logical offset `at`, in place (the
    /// first contiguous piece; memory grows as for [`ByteRing::write`],
    /// `live` bytes from offset 0 surviving).
    pub fn slice_mut(&mut self, at: usize, len: usize, live: usize) -> &mut [u8] {
        if len == 0 {
            return &mut [];
        }
        self.reserve(at + len, live.max(at));
        let n = self.mem.len();
        let i = (self.start + at) % n;
        &mut self.mem[i..i + len.min(n - i)]
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

    /// Memory given back is zeroed (nothing of one connection's data
    /// reaches another), and only a first allocation moves between rings.
    #[test]
    fn memory_given_back_is_zeroed_and_only_first_allocations_move() {
        let mut a = ByteRing::new(4096);
        a.write(0, &[0xee; 100], 0);
        let m = a.give_back().unwrap();
        assert_eq!(m.len(), FIRST_ALLOC);
        assert!(m.iter().all(|b| *b == 0));
        assert_eq!(a.allocated(), 0);
        let mut b = ByteRing::new(4096);
        b.adopt(m).unwrap();
        assert_eq!(b.allocated(), FIRST_ALLOC);
        b.write(0, b"xyz", 0);
        let mut out = [0u8; 3];
        b.read(0, &mut out);
        assert_eq!(&out, b"xyz");
        // A ring that has memory keeps it; a grown one gives none back.
        assert!(b.adopt(vec![0; FIRST_ALLOC]).is_err());
        b.write(0, &[1; 2000], 0);
        assert!(b.give_back().is_none());
        // A small ring's first allocation is its capacity: no 512 bytes.
        assert!(ByteRing::new(100).adopt(vec![0; FIRST_ALLOC]).is_err());
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
