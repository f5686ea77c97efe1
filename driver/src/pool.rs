//! Packet buffer pool: one DMA region cut into equal buffers, with a free
//! stack (as ixy.rs does).  Buffers are named by index; their memory is
//! only reached through the pool's raw accessors.
use crate::backend::DmaRegion;

/// Index of a buffer in its pool.
pub type BufId = u32;

pub struct Pool {
    region: DmaRegion,
    buf_size: usize,
    count: u32,
    free: Vec<BufId>,
}

impl Pool {
    /// A pool over `region` with buffers of `buf_size` bytes (a multiple
    /// of 64, as the NIC's DMA needs).
    pub fn new(region: DmaRegion, buf_size: usize) -> Pool {
        assert!(
            buf_size >= 64 && buf_size.is_multiple_of(64),
            "buffer size {buf_size} is not a positive multiple of 64"
        );
        let count = (region.len() / buf_size) as u32;
        Pool {
            region,
            buf_size,
            count,
            // Lowest indices on top of the stack.
            free: (0..count).rev().collect(),
        }
    }

    pub fn buf_size(&self) -> usize {
        self.buf_size
    }
    pub fn capacity(&self) -> u32 {
        self.count
    }
    pub fn available(&self) -> usize {
        self.free.len()
    }

    pub fn alloc(&mut self) -> Option<BufId> {
        self.free.pop()
    }

    pub fn free(&mut self, id: BufId) {
        debug_assert!(
            id < self.count && !self.free.contains(&id),
            "double free of buffer {id}"
        );
        self.free.push(id);
    }

    /// Bus address of buffer `id`.
    pub fn iova(&self, id: BufId) -> u64 {
        assert!(id < self.count);
        self.region.iova() + id as u64 * self.buf_size as u64
    }

    fn off(&self, id: BufId, at: usize, len: usize) -> usize {
        assert!(id < self.count, "buffer {id} not in pool of {}", self.count);
        assert!(
            at + len <= self.buf_size,
            "access {at}+{len} beyond buffer of {}",
            self.buf_size
        );
        id as usize * self.buf_size + at
    }

    /// Copies `src` into buffer `id` at `at`.
    pub fn write(&self, id: BufId, at: usize, src: &[u8]) {
        self.region.write(self.off(id, at, src.len()), src)
    }

    /// The first `len` bytes of buffer `id` in place.
    ///
    /// # Safety
    /// As [`DmaRegion::slice`]: the caller owns buffer `id` (allocated, or
    /// received with its completion consumed) and neither it nor the
    /// device writes it while the slice lives.
    pub unsafe fn bytes(&self, id: BufId, len: usize) -> &[u8] {
        let off = self.off(id, 0, len);
        // SAFETY: in the buffer's bounds; exclusivity is the caller's.
        unsafe { self.region.slice(off, len) }
    }

    /// The first `len` bytes of buffer `id` in place, for writing.
    ///
    /// # Safety
    /// As [`Pool::bytes`], and no other reference into the buffer exists
    /// while the slice lives.
    #[allow(clippy::mut_from_ref)] // exclusivity is the contract above
    pub unsafe fn bytes_mut(&self, id: BufId, len: usize) -> &mut [u8] {
        let off = self.off(id, 0, len);
        // SAFETY: in the buffer's bounds; exclusivity is the caller's.
        unsafe { self.region.slice_mut(off, len) }
    }

    /// Copies bytes of buffer `id` from `at` into `dst`.
    pub fn read(&self, id: BufId, at: usize, dst: &mut [u8]) {
        self.region.read(self.off(id, at, dst.len()), dst)
    }
}
