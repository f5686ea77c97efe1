//! DMA memory from 2 MiB hugepages, with a fallback to ordinary pages.
//!
//! Memory comes in chunks of 2 MiB (or a multiple, for larger requests),
//! each mapped once by the caller (the VFIO backend maps it into the IOMMU).
//! Requests are carved out of the current chunk by bump allocation, 4 KiB
//! aligned; nothing is freed before the allocator is dropped, so every
//! region handed out is fresh anonymous memory and therefore zeroed.
//!
//! Why hugepages: fewer IOMMU and CPU TLB entries.  Why a fallback is safe:
//! behind an IOMMU the device sees the IOVA, so the memory does not need to
//! be physically contiguous (IOVA = virtual address, as ixy.rs does); and
//! the IOMMU mapping pins the pages, so they cannot move or be swapped out.
//! The fallback is slower, not wrong.
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Size of one hugepage and of one chunk.
pub const HUGEPAGE: usize = 2 << 20;
/// Alignment and granule of every allocation.
pub const PAGE: usize = 4096;

/// Where the memory may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// 2 MiB hugepages only; [`Error::NoHugepages`] when none are free.
    Require,
    /// Hugepages if any are free, else ordinary locked pages (with a
    /// warning, see [`HugepageAllocator::take_warning`]).
    PreferWithFallback,
    /// Ordinary locked pages only (tests; hosts whose hugepages are spoken for).
    Never,
}

/// One mapping the allocator owns.
#[derive(Debug)]
struct Chunk {
    ptr: *mut u8,
    len: usize,
    huge: bool,
}

/// Bump allocator over hugepage chunks.
#[derive(Debug)]
pub struct HugepageAllocator {
    policy: Policy,
    sysfs: PathBuf,
    proc: PathBuf,
    chunks: Vec<Chunk>,
    /// Chunk index and bytes used of the chunk small requests come from.
    current: Option<(usize, usize)>,
    warning: Option<String>,
    warned: bool,
}

// SAFETY: the allocator owns its mappings exclusively; the raw pointers are
// only addresses, and moving the owner to another thread is fine.
unsafe impl Send for HugepageAllocator {}

impl HugepageAllocator {
    /// An allocator reading hugepage counts from `/sys` and `/proc`.
    pub fn new(policy: Policy) -> Self {
        Self::with_paths(policy, "/sys", "/proc")
    }

    /// Same, with other roots for the sysfs and procfs files that explain a
    /// failure (tests).  The allocation itself always uses the real kernel.
    pub fn with_paths(policy: Policy, sysfs: impl Into<PathBuf>, proc: impl Into<PathBuf>) -> Self {
        HugepageAllocator {
            policy,
            sysfs: sysfs.into(),
            proc: proc.into(),
            chunks: Vec::new(),
            current: None,
            warning: None,
            warned: false,
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Allocates `len` bytes rounded up to 4 KiB (at least 4 KiB), 4 KiB
    /// aligned and zeroed.  When a new chunk is needed, `map(ptr, len)` is
    /// called on the whole chunk before anything is carved out of it; if it
    /// fails the chunk is released and the error returned.
    pub fn alloc(
        &mut self,
        len: usize,
        mut map: impl FnMut(*mut u8, usize) -> Result<()>,
    ) -> Result<(*mut u8, usize)> {
        let len = round_up(len.max(1), PAGE);
        if len > HUGEPAGE {
            // Large requests get chunks of their own; the current one stays.
            let idx = self.new_chunk(round_up(len, HUGEPAGE), &mut map)?;
            return Ok((self.chunks[idx].ptr, len));
        }
        let (idx, used) = match self.current {
            Some((idx, used)) if used + len <= self.chunks[idx].len => (idx, used),
            _ => (self.new_chunk(HUGEPAGE, &mut map)?, 0),
        };
        self.current = Some((idx, used + len));
        // SAFETY: used + len <= chunk length, so the result stays inside the mapping.
        Ok((unsafe { self.chunks[idx].ptr.add(used) }, len))
    }

    /// The chunks allocated so far, as `(address, length)`: the caller
    /// unmaps them from the IOMMU before dropping the allocator.
    pub fn chunks(&self) -> impl Iterator<Item = (*mut u8, usize)> + '_ {
        self.chunks.iter().map(|c| (c.ptr, c.len))
    }

    /// How many chunks are hugepage-backed.
    pub fn huge_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.huge).count()
    }

    /// The fallback warning, once: `Some` the first time after a chunk was
    /// allocated from ordinary pages under [`Policy::PreferWithFallback`].
    pub fn take_warning(&mut self) -> Option<String> {
        if self.warned {
            return None;
        }
        let w = self.warning.take();
        self.warned = w.is_some();
        w
    }

    /// Why no hugepage is available, from the kernel's counters.
    pub fn hugepage_status(&self) -> String {
        hugepage_status(&self.sysfs, &self.proc)
    }

    fn new_chunk(
        &mut self,
        len: usize,
        map: &mut impl FnMut(*mut u8, usize) -> Result<()>,
    ) -> Result<usize> {
        let chunk = match self.policy {
            Policy::Never => mmap_plain(len)?,
            Policy::Require => {
                mmap_huge(len).ok_or_else(|| Error::NoHugepages(self.hugepage_status()))?
            }
            Policy::PreferWithFallback => match mmap_huge(len) {
                Some(c) => c,
                None => {
                    if self.warning.is_none() && !self.warned {
                        self.warning = Some(format!(
                            "warning: {}; using ordinary 4 KiB pages for DMA memory instead (works behind the IOMMU, but slower). Reserve hugepages with `echo 64 > /proc/sys/vm/nr_hugepages`",
                            self.hugepage_status()
                        ));
                    }
                    mmap_plain(len)?
                }
            },
        };
        if let Err(e) = map(chunk.ptr, chunk.len) {
            unmap(&chunk);
            return Err(e);
        }
        self.chunks.push(chunk);
        Ok(self.chunks.len() - 1)
    }
}

impl Drop for HugepageAllocator {
    fn drop(&mut self) {
        for c in &self.chunks {
            unmap(c);
        }
    }
}

fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// Anonymous shared 2 MiB hugepages, populated now (so a shortage shows here
/// and not as SIGBUS on first touch).  `None` when the kernel has none.
fn mmap_huge(len: usize) -> Option<Chunk> {
    let flags = libc::MAP_SHARED
        | libc::MAP_ANONYMOUS
        | libc::MAP_HUGETLB
        | libc::MAP_HUGE_2MB
        | libc::MAP_POPULATE;
    // SAFETY: a fresh anonymous mapping at an address the kernel chooses;
    // it aliases nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    Some(Chunk {
        ptr: p.cast(),
        len,
        huge: true,
    })
}

/// Ordinary anonymous pages, populated and locked.  The IOMMU mapping pins
/// them anyway, so a failing `mlock` (RLIMIT_MEMLOCK) is not fatal here:
/// the DMA mapping will then report the limit.
fn mmap_plain(len: usize) -> Result<Chunk> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE;
    // SAFETY: a fresh anonymous mapping at an address the kernel chooses.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(Error::io(
            format!("allocating {len} bytes of DMA memory (mmap)"),
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: p..p+len is the mapping just created.
    unsafe { libc::mlock(p, len) };
    Ok(Chunk {
        ptr: p.cast(),
        len,
        huge: false,
    })
}

fn unmap(c: &Chunk) {
    // SAFETY: the chunk is a mapping this module created and nothing uses
    // it any more (the caller has removed it from the IOMMU).
    unsafe { libc::munmap(c.ptr.cast(), c.len) };
}

/// A one-line account of the 2 MiB hugepage counters, e.g.
/// "0 of 0 2 MiB hugepages free (/sys/kernel/mm/hugepages/hugepages-2048kB)".
pub fn hugepage_status(sysfs: &Path, proc: &Path) -> String {
    let dir = sysfs.join("kernel/mm/hugepages/hugepages-2048kB");
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    };
    if let (Some(free), Some(total)) = (read("free_hugepages"), read("nr_hugepages")) {
        return format!("{free} of {total} 2 MiB hugepages free ({})", dir.display());
    }
    let meminfo = proc.join("meminfo");
    match std::fs::read_to_string(&meminfo) {
        Ok(text) => {
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| {
                        l.strip_prefix(name)?
                            .split_whitespace()
                            .next()
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| "?".into())
            };
            format!(
                "HugePages_Free: {}, HugePages_Total: {}, Hugepagesize: {} kB ({})",
                field("HugePages_Free:"),
                field("HugePages_Total:"),
                field("Hugepagesize:"),
                meminfo.display()
            )
        }
        Err(e) => format!(
            "hugepage counters unreadable: {} and {}: {e}",
            dir.display(),
            meminfo.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_map(_: *mut u8, _: usize) -> Result<()> {
        Ok(())
    }

    #[test]
    fn bump_allocation_is_aligned_zeroed_writable_and_fresh() {
        let mut a = HugepageAllocator::new(Policy::Never);
        let (p1, l1) = a.alloc(100, no_map).unwrap();
        let (p2, l2) = a.alloc(PAGE + 1, no_map).unwrap();
        assert_eq!((l1, l2), (PAGE, 2 * PAGE));
        assert_eq!(p1 as usize % PAGE, 0);
        assert_eq!(
            p2 as usize,
            p1 as usize + PAGE,
            "bump allocation within a chunk"
        );
        for (p, l) in [(p1, l1), (p2, l2)] {
            for i in 0..l {
                // SAFETY: in bounds of an allocation no one else uses.
                unsafe {
                    assert_eq!(p.add(i).read_volatile(), 0);
                    p.add(i).write_volatile(0xA5);
                }
            }
        }
        assert_eq!(a.chunks().count(), 1);
        assert_eq!(a.huge_chunks(), 0);
    }

    #[test]
    fn chunk_boundaries_and_large_requests() {
        let mut maps = Vec::new();
        let mut a = HugepageAllocator::new(Policy::Never);
        let mut rec = |p: *mut u8, l: usize| {
            maps.push((p as usize, l));
            Ok(())
        };
        a.alloc(HUGEPAGE - PAGE, &mut rec).unwrap();
        a.alloc(PAGE, &mut rec).unwrap(); // fills chunk 0 exactly
        let (big, big_len) = a.alloc(HUGEPAGE + 1, &mut rec).unwrap();
        assert_eq!(big_len, HUGEPAGE + PAGE);
        let (p, _) = a.alloc(2 * PAGE, &mut rec).unwrap(); // chunk 0 full: new chunk
        assert_eq!(maps.len(), 3);
        assert_eq!(maps[1], (big as usize, 2 * HUGEPAGE));
        assert_eq!(maps[2].0, p as usize);
        let chunks: Vec<_> = a.chunks().map(|(p, l)| (p as usize, l)).collect();
        assert_eq!(chunks, maps);
    }

    #[test]
    fn failing_map_releases_the_chunk() {
        let mut a = HugepageAllocator::new(Policy::Never);
        let err = a
            .alloc(PAGE, |_, _| Err(Error::Config("no".into())))
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        assert_eq!(a.chunks().count(), 0);
        a.alloc(PAGE, no_map).unwrap();
        assert_eq!(a.chunks().count(), 1);
    }

    #[test]
    fn status_from_sysfs_then_meminfo() {
        let t = tempfile::tempdir().unwrap();
        let (sys, proc) = (t.path().join("sys"), t.path().join("proc"));
        std::fs::create_dir_all(&proc).unwrap();
        std::fs::write(
            proc.join("meminfo"),
            "MemTotal: 1 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n",
        )
        .unwrap();
        let s = hugepage_status(&sys, &proc);
        assert!(
            s.contains("HugePages_Free: 0") && s.contains("Hugepagesize: 2048"),
            "{s}"
        );
        let dir = sys.join("kernel/mm/hugepages/hugepages-2048kB");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("free_hugepages"), "3\n").unwrap();
        std::fs::write(dir.join("nr_hugepages"), "8\n").unwrap();
        assert!(hugepage_status(&sys, &proc).starts_with("3 of 8 2 MiB hugepages free"));
        let none = hugepage_status(&t.path().join("x"), &t.path().join("y"));
        assert!(none.contains("unreadable"), "{none}");
    }
}
