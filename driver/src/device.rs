//! Bring-up and the device-wide registers: identity, register blocks,
//! counters, RSS.
use crate::backend::{Backend, DmaRegion, Registers};
use crate::error::{Error, Result};
use toe_contract::regs::{self as r, Counter};

/// The driver handles hardware versions with this major number and at
/// least this minor number.
pub const NEED_MAJOR: u16 = (r::HW_VERSION >> 16) as u16;
pub const NEED_MINOR: u16 = (r::HW_VERSION & 0xffff) as u16;

/// One register block found by walking the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub offset: u32,
    pub kind: u32,
    pub version: u32,
}

impl BlockInfo {
    pub fn name(&self) -> &'static str {
        match self.kind {
            r::TYPE_ID => "id",
            r::TYPE_RSS => "rss",
            r::TYPE_QUEUES => "queues",
            r::TYPE_COUNTERS => "counters",
            r::TYPE_SETUP => "setup",
            toe_contract::teardown::TYPE_TEARDOWN => "teardown",
            _ => "unknown",
        }
    }
}

/// What bring-up found.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub backend: String,
    pub device_id: u32,
    pub hw_major: u16,
    pub hw_minor: u16,
    pub queue_pairs: u32,
    pub data_bits: u32,
    pub max_frame: u32,
    pub counters: u32,
    pub blocks: Vec<BlockInfo>,
}

/// Per-queue traffic counters kept by the NIC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub rx_bytes: u64,
}

/// A NIC found and identified on a backend.
pub struct Device {
    backend: Box<dyn Backend>,
    info: DeviceInfo,
    rss_base: u32,
    queues_base: u32,
    counters_base: u32,
    /// What the offloads keep per device (one value per type, see
    /// [`Device::offload_state`]).
    offload_state: std::sync::Mutex<Vec<OffloadState>>,
}

/// One offload's per-device state, of a type the device does not know.
type OffloadState = std::sync::Arc<dyn std::any::Any + Send + Sync>;

impl Device {
    /// Identifies the device and walks its register blocks.  Does not
    /// reset it or touch any queue.
    pub fn open(backend: Box<dyn Backend>) -> Result<Device> {
        backend.check()?;
        let name = backend.describe();
        let id = backend.read32(r::ID_BASE + r::ID_DEVICE);
        if id == !0 {
            backend.check()?;
            return Err(Error::DeviceGone { backend: name });
        }
        if id != r::DEVICE_ID {
            return Err(Error::WrongDevice {
                backend: name,
                found: id,
                expected: r::DEVICE_ID,
            });
        }
        let hw = backend.read32(r::ID_BASE + r::ID_HW_VERSION);
        let (major, minor) = ((hw >> 16) as u16, hw as u16);
        if major != NEED_MAJOR || minor < NEED_MINOR {
            return Err(Error::WrongVersion {
                backend: name,
                found_major: major,
                found_minor: minor,
                need_major: NEED_MAJOR,
                need_minor: NEED_MINOR,
            });
        }
        let blocks = walk_blocks(backend.as_ref())?;
        let find = |kind: u32, what: &'static str| -> Result<u32> {
            let b = blocks
                .iter()
                .find(|b| b.kind == kind)
                .ok_or(Error::MissingBlock(what))?;
            if b.version >> 16 != 1 {
                return Err(Error::BadBlockList {
                    offset: b.offset,
                    why: format!("{what} block version {:#x} is not 1.x", b.version),
                });
            }
            Ok(b.offset)
        };
        let rss_base = find(r::TYPE_RSS, "rss")?;
        let queues_base = find(r::TYPE_QUEUES, "queues")?;
        let counters_base = find(r::TYPE_COUNTERS, "counters")?;
        let caps = backend.read32(r::ID_BASE + r::ID_CAPS);
        let info = DeviceInfo {
            backend: name,
            device_id: id,
            hw_major: major,
            hw_minor: minor,
            queue_pairs: backend.read32(queues_base + r::QUEUES_COUNT),
            data_bits: caps >> 16,
            max_frame: backend.read32(r::ID_BASE + r::ID_MAX_FRAME),
            counters: backend.read32(counters_base + r::CNT_COUNT),
            blocks,
        };
        if info.queue_pairs == 0 || info.queue_pairs > 64 {
            return Err(Error::BadBlockList {
                offset: queues_base,
                why: format!("queue count {} out of range", info.queue_pairs),
            });
        }
        Ok(Device {
            backend,
            info,
            rss_base,
            queues_base,
            counters_base,
            offload_state: Default::default(),
        })
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion> {
        self.backend.alloc_dma(len)
    }

    pub fn read32(&self, off: u32) -> u32 {
        self.backend.read32(off)
    }

    pub fn write32(&self, off: u32, val: u32) {
        self.backend.write32(off, val)
    }

    /// Whether the device still answers; the error names the cause.
    pub fn check(&self) -> Result<()> {
        self.backend.check()?;
        if self.read32(r::ID_BASE + r::ID_DEVICE) == !0 {
            self.backend.check()?;
            return Err(Error::DeviceGone {
                backend: self.info.backend.clone(),
            });
        }
        Ok(())
    }

    /// Function-level reset, then every queue disabled.
    pub fn reset(&mut self) -> Result<()> {
        self.backend.reset()?;
        for q in 0..self.info.queue_pairs {
            self.write32(r::txq(q, r::Q_CTRL), 0);
            self.write32(r::rxq(q, r::Q_CTRL), 0);
        }
        self.check()
    }

    /// A 64-bit counter pair (reading LO latches HI).
    fn read64(&self, lo: u32) -> u64 {
        let l = self.read32(lo) as u64;
        let h = self.read32(lo + 4) as u64;
        h << 32 | l
    }

    pub fn counter(&self, c: Counter) -> u64 {
        self.read64(self.counters_base + r::CNT_FIRST + 8 * c as u32)
    }

    /// Every global counter the device has, with its name.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        Counter::ALL
            .iter()
            .take(self.info.counters as usize)
            .map(|&c| (c.name(), self.counter(c)))
            .collect()
    }

    pub fn queue_counters(&self, q: u32) -> QueueCounters {
        QueueCounters {
            tx_packets: self.read64(r::txq(q, r::Q_PKTS_LO)),
            tx_bytes: self.read64(r::txq(q, r::Q_BYTES_LO)),
            rx_packets: self.read64(r::rxq(q, r::Q_PKTS_LO)),
            rx_bytes: self.read64(r::rxq(q, r::Q_BYTES_LO)),
        }
    }

    /// Programs the Toeplitz key and spreads the indirection table over
    /// the first `queues` queues, then enables RSS.
    pub fn enable_rss(&self, key: &[u8; toe_contract::RSS_KEY_BYTES], queues: u32) -> Result<()> {
        if queues == 0 || queues > self.info.queue_pairs {
            return Err(Error::Config(format!(
                "RSS over {queues} queues, device has {}",
                self.info.queue_pairs
            )));
        }
        for (i, w) in key.chunks(4).enumerate() {
            let v = u32::from_be_bytes(w.try_into().unwrap());
            self.write32(self.rss_base + r::RSS_KEY + 4 * i as u32, v);
        }
        for (i, q) in toe_contract::rss::spread_table(queues).iter().enumerate() {
            self.write32(self.rss_base + r::RSS_TABLE + 4 * i as u32, u32::from(*q));
        }
        self.write32(self.rss_base + r::RSS_CTRL, r::RSS_CTRL_ENABLE);
        Ok(())
    }

    pub fn disable_rss(&self) {
        self.write32(self.rss_base + r::RSS_CTRL, 0);
    }

    pub fn queues_base(&self) -> u32 {
        self.queues_base
    }

    /// The per-device state of type `T` an offload keeps (`offload/`:
    /// staging locks, slot claims, anything every handle of this device
    /// must share), made with `T::default()` on first use.  The device
    /// holds it without knowing its type, so no offload is wired in here.
    pub(crate) fn offload_state<T: std::any::Any + Default + Send + Sync>(
        &self,
    ) -> std::sync::Arc<T> {
        let mut all = self.offload_state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = all.iter().find_map(|a| a.clone().downcast::<T>().ok()) {
            return t;
        }
        let t = std::sync::Arc::new(T::default());
        all.push(t.clone());
        t
    }
}

/// The device's own register path (lane 0): the only path while the NIC
/// is not split, so writes from every user are ordered.
impl Registers for Device {
    fn read32(&self, off: u32) -> u32 {
        Device::read32(self, off)
    }
    fn write32(&self, off: u32, val: u32) {
        Device::write32(self, off, val)
    }
    fn is_only_path(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        self.backend.describe()
    }
    fn check(&self) -> Result<()> {
        Device::check(self)
    }
}

/// Walks the block list from offset 0, refusing loops, misaligned or
/// out-of-range pointers and unterminated lists.
pub fn walk_blocks(b: &dyn Backend) -> Result<Vec<BlockInfo>> {
    let mut blocks = Vec::new();
    let mut off = 0u32;
    loop {
        if !off.is_multiple_of(4) || off > 0xfff0 {
            return Err(Error::BadBlockList {
                offset: off,
                why: "block pointer misaligned or beyond BAR0".into(),
            });
        }
        if blocks.iter().any(|x: &BlockInfo| x.offset == off) {
            return Err(Error::BadBlockList {
                offset: off,
                why: "the list loops".into(),
            });
        }
        if blocks.len() >= 64 {
            return Err(Error::BadBlockList {
                offset: off,
                why: "more than 64 blocks".into(),
            });
        }
        let kind = b.read32(off + r::BLK_TYPE);
        if kind == !0 {
            b.check()?;
            return Err(Error::DeviceGone {
                backend: b.describe(),
            });
        }
        let version = b.read32(off + r::BLK_VERSION);
        let next = b.read32(off + r::BLK_NEXT);
        blocks.push(BlockInfo {
            offset: off,
            kind,
            version,
        });
        if next == 0 {
            return Ok(blocks);
        }
        off = next;
    }
}

/// Register contents of a plain NIC's discoverable blocks (ID, RSS,
/// queues, counters; with `setup`, the setup block with active open and a
/// running timestamp clock too), for the fake backends of unit tests.
#[cfg(test)]
pub(crate) fn register_map(setup: bool) -> std::collections::HashMap<u32, u32> {
    register_map_with(setup, false)
}

/// [`register_map`], with the teardown block after the setup block when
/// `teardown` (the real device does not list it yet: docs/teardown.md).
#[cfg(test)]
pub(crate) fn register_map_with(
    setup: bool,
    teardown: bool,
) -> std::collections::HashMap<u32, u32> {
    use toe_contract::teardown as t;
    let sb = r::SETUP_BASE;
    let mut m = std::collections::HashMap::new();
    let mut blocks = vec![
        (r::ID_BASE, r::TYPE_ID, r::VERSION_ID, r::RSS_BASE),
        (r::RSS_BASE, r::TYPE_RSS, r::VERSION_RSS, r::QUEUES_BASE),
        (
            r::QUEUES_BASE,
            r::TYPE_QUEUES,
            r::VERSION_QUEUES,
            r::COUNTERS_BASE,
        ),
        (
            r::COUNTERS_BASE,
            r::TYPE_COUNTERS,
            r::VERSION_COUNTERS,
            if setup { sb } else { 0 },
        ),
    ];
    let after_setup = if teardown { t::TEARDOWN_BASE } else { 0 };
    if teardown && !setup {
        blocks.last_mut().unwrap().3 = t::TEARDOWN_BASE;
    }
    if teardown {
        blocks.push((t::TEARDOWN_BASE, t::TYPE_TEARDOWN, t::VERSION_TEARDOWN, 0));
    }
    if setup {
        blocks.push((sb, r::TYPE_SETUP, r::VERSION_SETUP, after_setup));
        m.insert(
            sb + r::SETUP_CONN_SLOTS,
            toe_contract::setup::CONNECT_SLOTS as u32,
        );
        m.insert(sb + r::SETUP_TS_PERIOD, 250_000);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// A register file in memory, shaped like the NIC's.
    struct Fake {
        regs: RefCell<HashMap<u32, u32>>,
    }

    impl Fake {
        fn nic() -> Fake {
            Fake {
                regs: RefCell::new(register_map(false)),
            }
        }
        fn set(self, off: u32, v: u32) -> Fake {
            self.regs.borrow_mut().insert(off, v);
            self
        }
    }

    impl Backend for Fake {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn read32(&self, off: u32) -> u32 {
            *self.regs.borrow().get(&off).unwrap_or(&0)
        }
        fn write32(&self, off: u32, val: u32) {
            self.regs.borrow_mut().insert(off, val);
        }
        fn check(&self) -> Result<()> {
            Ok(())
        }
        fn alloc_dma(&mut self, _len: usize) -> Result<DmaRegion> {
            Err(Error::Config("no DMA in the fake".into()))
        }
    }

    fn open(f: Fake) -> std::result::Result<DeviceInfo, String> {
        Device::open(Box::new(f))
            .map(|d| d.info().clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_device_is_identified() {
        let d = open(Fake::nic()).unwrap();
        assert_eq!(d.queue_pairs, 4);
        assert_eq!(d.blocks.len(), 4);
    }

    #[test]
    fn identification_errors_name_the_cause() {
        let e = open(Fake::nic().set(r::ID_DEVICE, 0x1234_5678)).unwrap_err();
        assert!(
            e.contains("not a TOE NIC") && e.contains("0x12345678"),
            "{e}"
        );
        let e = open(Fake::nic().set(r::ID_DEVICE, !0)).unwrap_err();
        assert!(e.contains("does not respond"), "{e}");
        let e = open(Fake::nic().set(r::ID_HW_VERSION, 0x0001_0000)).unwrap_err();
        assert!(
            e.contains("hardware version 1.0") && e.contains("needs 0.x"),
            "{e}"
        );
        let e = open(Fake::nic().set(r::ID_HW_VERSION, 0x0000_0000)).unwrap_err();
        assert!(e.contains("hardware version 0.0"), "{e}");
    }

    #[test]
    fn broken_block_lists_are_refused() {
        // A loop back to the RSS block.
        let e = open(Fake::nic().set(r::COUNTERS_BASE + r::BLK_NEXT, r::RSS_BASE)).unwrap_err();
        assert!(e.contains("loops"), "{e}");
        // A misaligned pointer.
        let e = open(Fake::nic().set(r::RSS_BASE + r::BLK_NEXT, 0x302)).unwrap_err();
        assert!(e.contains("misaligned"), "{e}");
        // The list ends before the counters.
        let e = open(Fake::nic().set(r::QUEUES_BASE + r::BLK_NEXT, 0)).unwrap_err();
        assert!(e.contains("counters"), "{e}");
        // A block of an unknown major version.
        let e = open(Fake::nic().set(r::QUEUES_BASE + r::BLK_VERSION, 0x0002_0000)).unwrap_err();
        assert!(e.contains("not 1.x"), "{e}");
        // An absurd queue count.
        let e = open(Fake::nic().set(r::QUEUES_BASE + r::QUEUES_COUNT, 0)).unwrap_err();
        assert!(e.contains("queue count 0"), "{e}");
    }
}
