//! Plain Rust reference of the BAR0 register file (`toe_hdl::regs`),
//! written from the contract (docs/contract.md): the registers' values,
//! what a full-word read or write of an aligned address does, and the
//! configuration buses the block drives.  Timing is the test's business
//! (hdl/tests/regs_vlt.rs).
#![allow(dead_code)]

use toe_contract::regs as r;

/// Counters: 24 global, then RX queue q packets 24 + 2q and bytes 25 + 2q,
/// then TX queue q packets 32 + 2q and bytes 33 + 2q.
pub const COUNTERS: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegsRef {
    pub ctrl: u32,
    pub max_frame: u16,
    pub scratch: u32,
    pub rss_ctrl: bool,
    pub key: [u32; 10],
    pub table: [u8; 64],
    /// Queues 0..3 TX, 4..7 RX.
    pub desc_base: [u64; 8],
    pub cpl_base: [u64; 8],
    /// Bits 3:0 log2 size, bit 4 enable.
    pub qctl: [u8; 8],
    pub prod: [u16; 8],
    pub cnt: [u64; COUNTERS],
    pub hi_snap: u32,
}

/// What a write did besides changing registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteEffect {
    /// AXI response: 0 OKAY, 2 SLVERR.
    pub resp: u32,
    /// A write in the setup block's range: (offset in the block, data).
    pub ext: Option<(u16, u32)>,
    /// Queues reset by this write (bit k, k as in `desc_base`).
    pub qreset: u8,
}

/// What a read of `addr` is: which counter's LO word, or a HI word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    CounterLo(usize),
    CounterHi,
    Other,
}

/// Queue window of an address: (queue as in `desc_base`, register offset).
pub fn queue_window(addr: u16) -> Option<(usize, u32)> {
    let a = addr as u32;
    let q = ((a >> 6) & 3) as usize;
    if (r::TXQ_BASE..r::TXQ_BASE + 0x100).contains(&a) {
        Some((q, a & 0x3F))
    } else if (r::RXQ_BASE..r::RXQ_BASE + 0x100).contains(&a) {
        Some((4 + q, a & 0x3F))
    } else {
        None
    }
}

/// Counter of a queue's packets (`bytes` false) or bytes.
pub fn queue_counter(q: usize, bytes: bool) -> usize {
    let base = if q < 4 { 32 + 2 * q } else { 24 + 2 * (q - 4) };
    base + bytes as usize
}

pub fn read_kind(addr: u16) -> ReadKind {
    let a = addr as u32;
    let first = r::COUNTERS_BASE + r::CNT_FIRST;
    if a >= first && a < first + 8 * r::COUNTER_SLOTS {
        return if a & 4 == 0 {
            ReadKind::CounterLo(((a - first) / 8) as usize)
        } else {
            ReadKind::CounterHi
        };
    }
    if let Some((q, reg)) = queue_window(addr) {
        match reg {
            r::Q_PKTS_LO => return ReadKind::CounterLo(queue_counter(q, false)),
            r::Q_BYTES_LO => return ReadKind::CounterLo(queue_counter(q, true)),
            r::Q_PKTS_HI | r::Q_BYTES_HI => return ReadKind::CounterHi,
            _ => {}
        }
    }
    ReadKind::Other
}

impl Default for RegsRef {
    fn default() -> Self {
        Self::new()
    }
}

impl RegsRef {
    /// The state after reset.
    pub fn new() -> RegsRef {
        RegsRef {
            ctrl: 0,
            max_frame: toe_contract::MAX_FRAME as u16,
            scratch: 0,
            rss_ctrl: false,
            key: [0; 10],
            table: [0; 64],
            desc_base: [0; 8],
            cpl_base: [0; 8],
            qctl: [0; 8],
            prod: [0; 8],
            cnt: [0; COUNTERS],
            hi_snap: 0,
        }
    }

    /// A write of `data` to `addr` with byte strobes `strb`.
    pub fn write(&mut self, addr: u16, data: u32, strb: u32) -> WriteEffect {
        let mut e = WriteEffect::default();
        if strb != 0xF {
            e.resp = 2;
            return e;
        }
        let a = addr as u32;
        let rss = r::RSS_BASE;
        match a {
            x if x == r::ID_BASE + r::ID_CTRL => self.ctrl = data,
            x if x == r::ID_BASE + r::ID_MAX_FRAME => self.max_frame = data as u16,
            x if x == r::ID_BASE + r::ID_SCRATCH => self.scratch = data,
            x if x == rss + r::RSS_CTRL => self.rss_ctrl = data & 1 != 0,
            x if (rss + r::RSS_KEY..rss + r::RSS_KEY + 40).contains(&x) => {
                self.key[((x - rss - r::RSS_KEY) / 4) as usize] = data
            }
            x if (rss + r::RSS_TABLE..rss + r::RSS_TABLE + 256).contains(&x) => {
                self.table[((x - rss - r::RSS_TABLE) / 4) as usize] = (data & 3) as u8
            }
            x if (r::SETUP_BASE..r::SETUP_BASE + r::SETUP_SIZE).contains(&x) => {
                e.ext = Some(((x - r::SETUP_BASE) as u16, data))
            }
            _ => {
                if let Some((q, reg)) = queue_window(addr) {
                    let lo = |v: &mut u64| *v = (*v & !0xFFFF_FFFF) | data as u64;
                    let hi = |v: &mut u64| *v = (*v & 0xFFFF_FFFF) | (data as u64) << 32;
                    match reg {
                        r::Q_DESC_LO => lo(&mut self.desc_base[q]),
                        r::Q_DESC_HI => hi(&mut self.desc_base[q]),
                        r::Q_CPL_LO => lo(&mut self.cpl_base[q]),
                        r::Q_CPL_HI => hi(&mut self.cpl_base[q]),
                        r::Q_CTRL => {
                            let enable = data & r::Q_CTRL_ENABLE != 0;
                            self.qctl[q] = (data & 0xF) as u8 | (enable as u8) << 4;
                            if enable {
                                e.qreset |= 1 << q;
                                self.prod[q] = 0;
                            }
                        }
                        r::Q_PROD => self.prod[q] = data as u16,
                        _ => {}
                    }
                }
            }
        }
        e
    }

    /// A read of `addr`, with the engines' consumer indices `cons` and the
    /// setup block answering `ext(offset)`; a LO counter read latches HI.
    pub fn read(&mut self, addr: u16, cons: &[u16; 8], ext: impl Fn(u16) -> u32) -> u32 {
        let a = addr as u32;
        match read_kind(addr) {
            ReadKind::CounterLo(i) => {
                self.hi_snap = (self.cnt[i] >> 32) as u32;
                return self.cnt[i] as u32;
            }
            ReadKind::CounterHi => return self.hi_snap,
            ReadKind::Other => {}
        }
        let header = |base: u32, ty: u32, ver: u32, next: u32| -> Option<u32> {
            match a.wrapping_sub(base) {
                x if x == r::BLK_TYPE => Some(ty),
                x if x == r::BLK_VERSION => Some(ver),
                x if x == r::BLK_NEXT => Some(next),
                _ => None,
            }
        };
        let blocks = [
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
                r::COUNTERS_NEXT,
            ),
        ];
        // The offload blocks' headers come from the register-block table.
        let offload = r::OFFLOAD_BLOCKS
            .iter()
            .enumerate()
            .map(|(i, b)| (b.base, b.type_id, b.version, r::offload_next(i)));
        for (base, ty, ver, next) in blocks.into_iter().chain(offload) {
            if let Some(v) = header(base, ty, ver, next) {
                return v;
            }
        }
        let rss = r::RSS_BASE;
        match a {
            x if x == r::ID_BASE + r::ID_DEVICE => r::DEVICE_ID,
            x if x == r::ID_BASE + r::ID_HW_VERSION => r::HW_VERSION,
            x if x == r::ID_BASE + r::ID_CAPS => {
                toe_contract::NUM_QUEUES as u32 | (toe_contract::DATA_BITS as u32) << 16
            }
            x if x == r::ID_BASE + r::ID_CTRL => self.ctrl,
            x if x == r::ID_BASE + r::ID_MAX_FRAME => self.max_frame as u32,
            x if x == r::ID_BASE + r::ID_SCRATCH => self.scratch,
            x if x == rss + r::RSS_CTRL => self.rss_ctrl as u32,
            x if (rss + r::RSS_KEY..rss + r::RSS_KEY + 40).contains(&x) => {
                self.key[((x - rss - r::RSS_KEY) / 4) as usize]
            }
            x if (rss + r::RSS_TABLE..rss + r::RSS_TABLE + 256).contains(&x) => {
                self.table[((x - rss - r::RSS_TABLE) / 4) as usize] as u32
            }
            x if x == r::QUEUES_BASE + r::QUEUES_COUNT => toe_contract::NUM_QUEUES as u32,
            x if x == r::COUNTERS_BASE + r::CNT_COUNT => r::NUM_COUNTERS,
            x if (r::SETUP_BASE + r::BLK_FIRST..r::SETUP_BASE + r::SETUP_SIZE).contains(&x) => {
                ext((x - r::SETUP_BASE) as u16)
            }
            _ => match queue_window(addr) {
                Some((q, r::Q_DESC_LO)) => self.desc_base[q] as u32,
                Some((q, r::Q_DESC_HI)) => (self.desc_base[q] >> 32) as u32,
                Some((q, r::Q_CPL_LO)) => self.cpl_base[q] as u32,
                Some((q, r::Q_CPL_HI)) => (self.cpl_base[q] >> 32) as u32,
                Some((q, r::Q_CTRL)) => {
                    (self.qctl[q] & 0xF) as u32 | ((self.qctl[q] >> 4) as u32 & 1) << 31
                }
                Some((q, r::Q_PROD)) => self.prod[q] as u32,
                Some((q, r::Q_CONS)) => cons[q] as u32,
                _ => 0,
            },
        }
    }

    /// One cycle of counter events.
    pub fn count(&mut self, inc: u32, rx: Option<(usize, u16)>, tx: Option<(usize, u16)>) {
        for i in 0..24 {
            if inc >> i & 1 == 1 {
                self.cnt[i] = self.cnt[i].wrapping_add(1);
            }
        }
        for (ev, off) in [(rx, 4), (tx, 0)] {
            if let Some((q, len)) = ev {
                let p = queue_counter(q + off, false);
                self.cnt[p] = self.cnt[p].wrapping_add(1);
                self.cnt[p + 1] = self.cnt[p + 1].wrapping_add(len as u64);
            }
        }
    }

    /// The configuration buses, as 64-bit limbs (least significant
    /// first): rss_key (320), rss_table (128), desc_base (512), cpl_base
    /// (512), qctl_out (64), prod (128).
    pub fn buses(&self) -> [Vec<u64>; 6] {
        let mut key = vec![0u64; 5];
        for (i, w) in self.key.iter().enumerate() {
            put(&mut key, 288 - 32 * i, 32, *w as u64);
        }
        let mut table = vec![0u64; 2];
        for (i, e) in self.table.iter().enumerate() {
            put(&mut table, 2 * i, 2, *e as u64);
        }
        let desc = self.desc_base.to_vec();
        let cpl = self.cpl_base.to_vec();
        let mut qctl = vec![0u64; 1];
        for (q, c) in self.qctl.iter().enumerate() {
            put(&mut qctl, 8 * q, 8, *c as u64);
        }
        let mut prod = vec![0u64; 2];
        for (q, p) in self.prod.iter().enumerate() {
            put(&mut prod, 16 * q, 16, *p as u64);
        }
        [key, table, desc, cpl, qctl, prod]
    }
}

/// Sets bits `at .. at + width` (within one 64-bit limb or across two).
pub fn put(limbs: &mut [u64], at: usize, width: usize, x: u64) {
    for b in 0..width {
        let bit = x >> b & 1;
        let (l, o) = ((at + b) / 64, (at + b) % 64);
        limbs[l] = (limbs[l] & !(1 << o)) | bit << o;
    }
}
