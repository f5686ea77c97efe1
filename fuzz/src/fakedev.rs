//! A device for the driver that is only memory: registers in a map (shaped
//! like the NIC's block list, so `Device::open` accepts it) and DMA
//! regions on the heap that the fuzz target writes as a hostile device
//! would (completions, RX buffers), between the driver's calls.
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use toe_contract::regs as r;
use toe_driver::{Backend, DmaRegion};

/// The registers of a 4-queue NIC without the setup block.
pub fn register_map() -> HashMap<u32, u32> {
    let mut m = HashMap::new();
    let blocks = [
        (r::ID_BASE, r::TYPE_ID, r::VERSION_ID, r::RSS_BASE),
        (r::RSS_BASE, r::TYPE_RSS, r::VERSION_RSS, r::QUEUES_BASE),
        (
            r::QUEUES_BASE,
            r::TYPE_QUEUES,
            r::VERSION_QUEUES,
            r::COUNTERS_BASE,
        ),
        (r::COUNTERS_BASE, r::TYPE_COUNTERS, r::VERSION_COUNTERS, 0),
    ];
    for (base, t, v, next) in blocks {
        m.insert(base + r::BLK_TYPE, t);
        m.insert(base + r::BLK_VERSION, v);
        m.insert(base + r::BLK_NEXT, next);
    }
    m.insert(r::ID_BASE + r::ID_DEVICE, r::DEVICE_ID);
    m.insert(r::ID_BASE + r::ID_HW_VERSION, r::HW_VERSION);
    m.insert(r::ID_BASE + r::ID_CAPS, 4 | 512 << 16);
    m.insert(r::QUEUES_BASE + r::QUEUES_COUNT, 4);
    m.insert(r::COUNTERS_BASE + r::CNT_COUNT, r::NUM_COUNTERS);
    m
}

/// One heap allocation handed to the driver as DMA memory.
pub struct Mem {
    pub ptr: *mut u8,
    pub len: usize,
    pub iova: u64,
}

/// What the fuzz target keeps of the device: its memory and registers.
#[derive(Default)]
pub struct DevState {
    pub regions: Vec<Mem>,
    pub regs: HashMap<u32, u32>,
    next_iova: u64,
}

impl DevState {
    /// Writes `src` into region `i` at `off` (clipped to the region).
    pub fn poke(&self, i: usize, off: usize, src: &[u8]) {
        let Some(m) = self.regions.get(i) else { return };
        if off >= m.len {
            return;
        }
        let n = src.len().min(m.len - off);
        // SAFETY: in bounds of a live allocation; the driver holds no
        // reference into it (only raw pointers).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), m.ptr.add(off), n) }
    }
    /// Reads `n` bytes of region `i` at `off` (clipped).
    pub fn peek(&self, i: usize, off: usize, n: usize) -> Vec<u8> {
        let Some(m) = self.regions.get(i) else {
            return vec![];
        };
        let off = off.min(m.len);
        let n = n.min(m.len - off);
        let mut v = vec![0; n];
        // SAFETY: in bounds.
        unsafe { std::ptr::copy_nonoverlapping(m.ptr.add(off), v.as_mut_ptr(), n) }
        v
    }
}

impl Drop for DevState {
    fn drop(&mut self) {
        for m in self.regions.drain(..) {
            // SAFETY: allocated in `alloc_dma` with this layout.
            unsafe { dealloc(m.ptr, Layout::from_size_align(m.len, 4096).unwrap()) }
        }
    }
}

/// The backend; the target keeps a second handle on the same state.
pub struct HeapDev(pub Rc<RefCell<DevState>>);

// The fuzz targets are single-threaded; `Backend` asks for `Send` because
// real backends move to a queue's thread.
unsafe impl Send for HeapDev {}

impl HeapDev {
    pub fn new() -> (HeapDev, Rc<RefCell<DevState>>) {
        let st = Rc::new(RefCell::new(DevState {
            regions: vec![],
            regs: register_map(),
            next_iova: 0x1_0000_0000,
        }));
        (HeapDev(st.clone()), st)
    }
}

impl Backend for HeapDev {
    fn describe(&self) -> String {
        "fuzz heap device".into()
    }
    fn read32(&self, off: u32) -> u32 {
        *self.0.borrow().regs.get(&off).unwrap_or(&0)
    }
    fn write32(&self, off: u32, val: u32) {
        self.0.borrow_mut().regs.insert(off, val);
    }
    fn check(&self) -> toe_driver::Result<()> {
        Ok(())
    }
    fn alloc_dma(&mut self, len: usize) -> toe_driver::Result<DmaRegion> {
        let len = len.next_multiple_of(4096).max(4096);
        let layout = Layout::from_size_align(len, 4096).unwrap();
        // SAFETY: non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        let mut st = self.0.borrow_mut();
        let iova = st.next_iova;
        st.next_iova += len as u64;
        st.regions.push(Mem { ptr, len, iova });
        // SAFETY: the allocation lives until the state is dropped, after
        // the NIC (the target drops the NIC first).
        Ok(unsafe { DmaRegion::new(ptr, iova, len) })
    }
}

/// A stand-in for the simulator behind the shared-memory transport
/// (`toe_contract::shm`): a thread that serves the mailboxes from the
/// register map of [`register_map`] and never moves a frame.  Lets the C
/// ABI open a NIC ("sim:PATH") without Verilator, in microseconds.
pub struct ShmFake {
    pub path: std::path::PathBuf,
}

impl ShmFake {
    /// Creates the file and starts serving it (for the life of the
    /// process).
    pub fn start(path: impl Into<std::path::PathBuf>, window_len: u64) -> ShmFake {
        use std::os::fd::AsRawFd;
        use std::sync::atomic::Ordering;
        use toe_contract::shm;
        let path = path.into();
        let _ = std::fs::remove_file(&path);
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .expect("create the shared file");
        let len = shm::file_len(window_len);
        f.set_len(len).expect("size the shared file");
        // SAFETY: a shared mapping of the whole file, never unmapped.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        assert!(ptr != libc::MAP_FAILED, "mmap");
        let base = ptr as usize;
        let view = move || unsafe { shm::View::new(base as *mut u8, len as usize) };
        let v = view();
        v.u32_at(shm::VERSION_OFF)
            .store(shm::LAYOUT_VERSION, Ordering::Relaxed);
        v.u64_at(shm::WINDOW_BASE_OFF)
            .store(shm::DEFAULT_WINDOW_BASE, Ordering::Relaxed);
        v.u64_at(shm::WINDOW_LEN_OFF)
            .store(window_len, Ordering::Relaxed);
        v.u32_at(shm::SIM_PID_OFF)
            .store(std::process::id(), Ordering::Relaxed);
        v.u32_at(shm::LANES_OFF).store(1, Ordering::Relaxed);
        v.u32_at(shm::STATE_OFF)
            .store(shm::STATE_RUNNING, Ordering::Release);
        v.u64_at(shm::MAGIC_OFF)
            .store(shm::MAGIC, Ordering::Release);
        std::thread::spawn(move || {
            let v = view();
            let mut regs = register_map();
            let mut idle = 0u32;
            loop {
                v.u64_at(shm::CYCLE_OFF).fetch_add(64, Ordering::Relaxed);
                let head = v.head(0).load(Ordering::Acquire);
                let mut tail = v.tail(0).load(Ordering::Relaxed);
                if tail == head {
                    idle += 1;
                    if idle > 2000 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    } else {
                        std::hint::spin_loop();
                    }
                    continue;
                }
                idle = 0;
                while tail != head {
                    let op = v.lane_slot(0, tail, shm::SLOT_OP).load(Ordering::Relaxed);
                    let addr = v.lane_slot(0, tail, shm::SLOT_ADDR).load(Ordering::Relaxed);
                    let data = v.lane_slot(0, tail, shm::SLOT_DATA).load(Ordering::Relaxed);
                    let status = match op {
                        shm::OP_READ => {
                            let val = *regs.get(&addr).unwrap_or(&0);
                            v.lane_slot(0, tail, shm::SLOT_DATA)
                                .store(val, Ordering::Relaxed);
                            shm::STATUS_OK
                        }
                        shm::OP_WRITE => {
                            regs.insert(addr, data);
                            shm::STATUS_OK
                        }
                        shm::OP_RESET => {
                            regs = register_map();
                            shm::STATUS_OK
                        }
                        _ => shm::STATUS_BAD_OP,
                    };
                    v.lane_slot(0, tail, shm::SLOT_STATUS)
                        .store(status, Ordering::Relaxed);
                    tail += 1;
                    v.tail(0).store(tail, Ordering::Release);
                }
            }
        });
        ShmFake { path }
    }
}
