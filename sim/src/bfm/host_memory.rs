//! Host memory as the DUT's DMA sees it: only regions the host "posted"
//! (allocated or explicitly posted) may be touched; everything else is a
//! violation reported by the AXI4 slave.
use std::collections::BTreeMap;

/// Default base of [`HostMemory::alloc`]: above 4 GiB so that truncated
/// 64-bit addresses never hit posted memory.
pub const ALLOC_BASE: u64 = 0x1_0000_0000;
/// Unposted gap left between two allocations, so that overruns are caught.
pub const GUARD: u64 = 4096;

/// Sparse host memory made of posted regions.  Host-side accessors
/// (`read`, `write`, `fill`...) panic on unposted bytes: that is a test bug.
#[derive(Default)]
pub struct HostMemory {
    /// Region start -> contents.
    regions: BTreeMap<u64, Vec<u8>>,
    next: u64,
    /// Memory owned by someone else (the shared DMA window of the simulated
    /// device), posted as a whole.
    window: Option<Window>,
}

/// Externally owned memory at a fixed bus address.
struct Window {
    base: u64,
    ptr: *mut u8,
    len: usize,
}

// The window is shared memory; the simulator is its only user in this
// process.
unsafe impl Send for Window {}

impl HostMemory {
    pub fn new() -> Self {
        HostMemory {
            regions: BTreeMap::new(),
            next: ALLOC_BASE,
            window: None,
        }
    }

    /// Posts externally owned memory (the simulated device's shared DMA
    /// window) at bus address `base`.  DMA inside it is allowed; the host
    /// side (the driver, in another process or thread) writes it directly.
    ///
    /// # Safety
    /// `ptr..ptr+len` must stay mapped and writable for the life of this
    /// `HostMemory`.  Others may write it concurrently; the DMA accessors
    /// copy through raw pointers and never hold references into it.
    pub unsafe fn post_window(&mut self, base: u64, ptr: *mut u8, len: usize) {
        assert!(len > 0, "empty window");
        let end = base.checked_add(len as u64).expect("window wraps around");
        assert!(
            self.regions
                .range(..end)
                .next_back()
                .is_none_or(|(&s, v)| s + v.len() as u64 <= base),
            "window {base:#x}+{len} overlaps a posted region"
        );
        self.window = Some(Window { base, ptr, len });
        self.next = self.next.max(end + GUARD);
    }

    /// If `addr..addr+len` lies inside the window, a raw pointer to it.
    fn in_window(&self, addr: u64, len: u64) -> Option<*mut u8> {
        let w = self.window.as_ref()?;
        let off = addr.checked_sub(w.base)?;
        (off.checked_add(len)? <= w.len as u64).then(|| {
            // SAFETY: in bounds of the window mapping.
            unsafe { w.ptr.add(off as usize) }
        })
    }

    /// Posts a zeroed region of `len` bytes whose address is a multiple of
    /// `align` (a power of two); regions are separated by unposted guards.
    pub fn alloc(&mut self, len: usize, align: u64) -> u64 {
        assert!(
            align.is_power_of_two(),
            "alignment {align} is not a power of two"
        );
        assert!(len > 0, "empty allocation");
        let a = (self.next + align - 1) & !(align - 1);
        self.post(a, len);
        self.next = a + len as u64 + GUARD;
        a
    }

    /// Posts a zeroed region at a fixed address.  Panics on overlap.
    pub fn post(&mut self, addr: u64, len: usize) {
        assert!(len > 0, "empty region");
        let end = addr.checked_add(len as u64).expect("region wraps around");
        if let Some((&s, v)) = self.regions.range(..end).next_back() {
            assert!(
                s + v.len() as u64 <= addr,
                "region {addr:#x}+{len} overlaps posted region {s:#x}+{}",
                v.len()
            );
        }
        self.regions.insert(addr, vec![0; len]);
        self.next = self.next.max(end + GUARD);
    }

    /// Withdraws the region starting at `addr` (DMA to it becomes a
    /// violation).  Returns its contents.
    pub fn free(&mut self, addr: u64) -> Vec<u8> {
        self.regions
            .remove(&addr)
            .unwrap_or_else(|| panic!("no region starts at {addr:#x}"))
    }

    /// Start and length of the region holding `addr`.
    pub fn region_of(&self, addr: u64) -> Option<(u64, usize)> {
        if let Some(w) = &self.window {
            if addr >= w.base && addr - w.base < w.len as u64 {
                return Some((w.base, w.len));
            }
        }
        let (&s, v) = self.regions.range(..=addr).next_back()?;
        (addr < s + v.len() as u64).then_some((s, v.len()))
    }

    /// Whether every byte of `addr..addr+len` is posted (possibly across
    /// adjacent regions).
    pub fn is_posted(&self, mut addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        while addr < end {
            match self.region_of(addr) {
                Some((s, l)) => addr = s + l as u64,
                None => return false,
            }
        }
        true
    }

    /// First unposted byte of `addr..addr+len`, if any.
    pub fn first_unposted(&self, mut addr: u64, len: u64) -> Option<u64> {
        let end = addr.saturating_add(len);
        while addr < end {
            match self.region_of(addr) {
                Some((s, l)) => addr = s + l as u64,
                None => return Some(addr),
            }
        }
        None
    }

    /// Calls `f(offset_in_slice, region_bytes)` for each posted piece of
    /// `addr..addr+len`; returns false if some byte is not posted.
    fn pieces(&self, addr: u64, len: usize, mut f: impl FnMut(usize, &[u8])) -> bool {
        if let Some(p) = self.in_window(addr, len as u64) {
            let mut tmp = vec![0u8; len];
            // SAFETY: in bounds; copied out through a raw pointer.
            unsafe { std::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), len) };
            f(0, &tmp);
            return true;
        }
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let Some((&s, v)) = self.regions.range(..=a).next_back() else {
                return false;
            };
            let off = (a - s) as usize;
            if off >= v.len() {
                return false;
            }
            let n = (v.len() - off).min(len - done);
            f(done, &v[off..off + n]);
            done += n;
        }
        true
    }

    fn pieces_mut(&mut self, addr: u64, len: usize, mut f: impl FnMut(usize, &mut [u8])) -> bool {
        if let Some(p) = self.in_window(addr, len as u64) {
            let mut tmp = vec![0u8; len];
            // SAFETY: in bounds; read-modify-write through raw pointers.
            unsafe { std::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), len) };
            f(0, &mut tmp);
            unsafe { std::ptr::copy_nonoverlapping(tmp.as_ptr(), p, len) };
            return true;
        }
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let Some((&s, v)) = self.regions.range_mut(..=a).next_back() else {
                return false;
            };
            let off = (a - s) as usize;
            if off >= v.len() {
                return false;
            }
            let n = (v.len() - off).min(len - done);
            f(done, &mut v[off..off + n]);
            done += n;
        }
        true
    }

    /// Host write.  Panics on unposted bytes.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let ok = self.pieces_mut(addr, data.len(), |o, r| {
            r.copy_from_slice(&data[o..o + r.len()])
        });
        assert!(
            ok,
            "host write {addr:#x}+{} touches unposted memory",
            data.len()
        );
    }

    /// Host read into `buf`.  Panics on unposted bytes.
    pub fn read_into(&self, addr: u64, buf: &mut [u8]) {
        let len = buf.len();
        let ok = self.pieces(addr, len, |o, r| buf[o..o + r.len()].copy_from_slice(r));
        assert!(ok, "host read {addr:#x}+{len} touches unposted memory");
    }

    /// Host read.  Panics on unposted bytes.
    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.read_into(addr, &mut v);
        v
    }

    /// Host fill.  Panics on unposted bytes.
    pub fn fill(&mut self, addr: u64, len: usize, byte: u8) {
        let ok = self.pieces_mut(addr, len, |_, r| r.fill(byte));
        assert!(ok, "host fill {addr:#x}+{len} touches unposted memory");
    }

    pub fn read_u32(&self, addr: u64) -> u32 {
        let mut b = [0; 4];
        self.read_into(addr, &mut b);
        u32::from_le_bytes(b)
    }
    pub fn read_u64(&self, addr: u64) -> u64 {
        let mut b = [0; 8];
        self.read_into(addr, &mut b);
        u64::from_le_bytes(b)
    }
    pub fn write_u32(&mut self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes())
    }
    pub fn write_u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes())
    }

    /// DMA read of one 64-byte line: unposted bytes read as zero.  Returns
    /// whether every byte was posted.
    pub fn dma_read_line(&self, addr: u64, out: &mut [u8; 64]) -> bool {
        if let Some(p) = self.in_window(addr, 64) {
            // SAFETY: in bounds; copied through a raw pointer.
            unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), 64) };
            return true;
        }
        *out = [0; 64];
        if self.pieces(addr, 64, |o, r| out[o..o + r.len()].copy_from_slice(r)) {
            return true;
        }
        // Partly posted: copy byte by byte what is there.
        for (i, b) in out.iter_mut().enumerate() {
            if let Some(p) = self.in_window(addr + i as u64, 1) {
                // SAFETY: in bounds of the window.
                *b = unsafe { p.read() };
            } else if let Some((s, _)) = self.region_of(addr + i as u64) {
                *b = self.regions[&s][(addr + i as u64 - s) as usize];
            }
        }
        false
    }

    /// DMA write of one 64-byte line under byte strobes.  Bytes that are
    /// not posted are dropped; returns the first such address, if any.
    pub fn dma_write_line(&mut self, addr: u64, data: &[u8; 64], strb: u64) -> Option<u64> {
        if let Some(p) = self.in_window(addr, 64) {
            if strb == !0 && (p as usize).is_multiple_of(8) {
                // Ascending 8-byte stores: on x86 (TSO) another core sees
                // them in this order, so a driver that sees a completion's
                // phase bit (in its last byte) also sees the bytes before
                // it, as with a PCIe write of one line.
                for i in 0..8 {
                    let w = u64::from_ne_bytes(data[8 * i..8 * i + 8].try_into().unwrap());
                    // SAFETY: in bounds and 8-byte aligned.
                    unsafe { std::ptr::write_volatile((p as *mut u64).add(i), w) };
                }
            } else {
                for (i, &byte) in data.iter().enumerate() {
                    if strb >> i & 1 != 0 {
                        // SAFETY: in bounds.
                        unsafe { p.add(i).write(byte) };
                    }
                }
            }
            return None;
        }
        if strb == !0 && self.pieces_mut(addr, 64, |o, r| r.copy_from_slice(&data[o..o + r.len()]))
        {
            return None;
        }
        let mut bad = None;
        for (i, &byte) in data.iter().enumerate() {
            if strb >> i & 1 == 0 {
                continue;
            }
            let a = addr + i as u64;
            if let Some(p) = self.in_window(a, 1) {
                // SAFETY: in bounds of the window.
                unsafe { p.write(byte) };
                continue;
            }
            match self.region_of(a) {
                Some((s, _)) => self.regions.get_mut(&s).unwrap()[(a - s) as usize] = byte,
                None => {
                    bad.get_or_insert(a);
                }
            }
        }
        bad
    }
}
