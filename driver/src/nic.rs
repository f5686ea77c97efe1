//! The NIC as an application uses it: queue pairs with batched RX and TX
//! over a buffer pool each.
//!
//! ```text
//!   rx_burst(q) -> Vec<Packet>    packets received; their buffers are the
//!                                 caller's until freed or sent
//!   alloc(q)    -> Packet          an empty TX buffer
//!   tx_burst(q, &mut Vec<Packet>)  sends from the front as many as the ring
//!                                 takes (backpressure: the rest stay)
//!   free(q, Packet)
//! ```
//! One doorbell per burst, after a release fence.  Each queue pair has its
//! own pool, so queue pairs share nothing but the device.
use crate::backend::Backend;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::pool::{BufId, Pool};
use crate::ring::Ring;
use std::sync::atomic::{fence, Ordering};
use toe_contract::desc::{self as d, Completion, RxDesc, TxDesc, CPL_BYTES, RECORD_BYTES};
use toe_contract::regs as r;

/// Ring and pool sizes.
#[derive(Clone, Debug)]
pub struct NicConfig {
    /// Queue pairs to enable (at most what the device has).
    pub queue_pairs: u32,
    /// log2 of the ring size (descriptor and completion rings).
    pub log2_ring: u32,
    /// Bytes per buffer (multiple of 64; at least the largest frame).
    pub buf_size: usize,
    /// Buffers per queue pair (RX ring plus TX in flight plus the
    /// application's); at least twice the ring size.
    pub bufs_per_queue: u32,
    /// Reset the device before use.
    pub reset: bool,
    /// RSS key (spread over all enabled queues); `None` disables RSS.
    pub rss_key: Option<[u8; toe_contract::RSS_KEY_BYTES]>,
}

/// The Microsoft RSS verification key, a common default.
pub const DEFAULT_RSS_KEY: [u8; 40] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

impl Default for NicConfig {
    fn default() -> Self {
        NicConfig {
            queue_pairs: 4,
            log2_ring: 8,
            buf_size: 2048,
            bufs_per_queue: 1024,
            reset: true,
            rss_key: Some(DEFAULT_RSS_KEY),
        }
    }
}

/// A packet buffer owned by the application.
#[derive(Debug)]
pub struct Packet {
    buf: BufId,
    /// Queue pair whose pool owns the buffer.
    q: u32,
    /// Bytes of frame in the buffer.
    pub len: usize,
    /// TX offload flags (`desc::TXF_*`).
    pub tx_flags: u16,
    /// The RX completion (parsed headers, checksum verdicts, RSS hash).
    pub cpl: Completion,
}

/// Driver-side statistics of a queue pair.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// TX completions with CPL_ERROR (descriptor rejected by the NIC).
    pub tx_errors: u64,
    /// Completions that named no posted descriptor, or a length beyond the
    /// buffer (a device bug; the completion is skipped).
    pub bad_completions: u64,
    /// RX refills that found the pool empty.
    pub rx_refill_starved: u64,
    /// Doorbells rung.
    pub doorbells: u64,
}

struct QueuePair {
    q: u32,
    pool: Pool,
    rx: Ring,
    tx: Ring,
    rx_slots: Vec<Option<BufId>>,
    tx_slots: Vec<Option<BufId>>,
    stats: QueueStats,
}

pub struct Nic {
    dev: Device,
    qps: Vec<QueuePair>,
    cfg: NicConfig,
}

impl Nic {
    /// Identifies the device, resets it (unless told not to), and brings up
    /// the queue pairs with full RX rings.
    pub fn open(backend: Box<dyn Backend>, cfg: NicConfig) -> Result<Nic> {
        let mut dev = Device::open(backend)?;
        Self::with_device(&mut dev, &cfg)?;
        let mut nic = Nic {
            dev,
            qps: Vec::new(),
            cfg,
        };
        nic.bring_up()?;
        Ok(nic)
    }

    fn with_device(dev: &mut Device, cfg: &NicConfig) -> Result<()> {
        let info = dev.info();
        if cfg.queue_pairs == 0 || cfg.queue_pairs > info.queue_pairs {
            return Err(Error::Config(format!(
                "{} queue pairs asked for, device has {}",
                cfg.queue_pairs, info.queue_pairs
            )));
        }
        if !(toe_contract::MIN_LOG2_RING..=toe_contract::MAX_LOG2_RING).contains(&cfg.log2_ring) {
            return Err(Error::Config(format!(
                "ring size 2^{} outside 2^{}..2^{}",
                cfg.log2_ring,
                toe_contract::MIN_LOG2_RING,
                toe_contract::MAX_LOG2_RING
            )));
        }
        if cfg.buf_size % 64 != 0 || cfg.buf_size < 64 || cfg.buf_size > 65536 {
            return Err(Error::Config(format!(
                "buffer size {} must be a multiple of 64 between 64 and 65536",
                cfg.buf_size
            )));
        }
        if (cfg.bufs_per_queue as u64) < 2u64 << cfg.log2_ring {
            return Err(Error::Config(format!(
                "{} buffers per queue: need at least twice the ring size ({})",
                cfg.bufs_per_queue,
                2u64 << cfg.log2_ring
            )));
        }
        Ok(())
    }

    fn bring_up(&mut self) -> Result<()> {
        if self.cfg.reset {
            self.dev.reset()?;
        }
        let n = 1usize << self.cfg.log2_ring;
        for q in 0..self.cfg.queue_pairs {
            let mk_ring = |dev: &mut Device| -> Result<Ring> {
                let desc = dev.alloc_dma(n * RECORD_BYTES)?;
                let cpl = dev.alloc_dma(n * CPL_BYTES)?;
                Ok(Ring::new(desc, cpl, self.cfg.log2_ring))
            };
            let rx = mk_ring(&mut self.dev)?;
            let tx = mk_ring(&mut self.dev)?;
            let pool_mem = self
                .dev
                .alloc_dma(self.cfg.bufs_per_queue as usize * self.cfg.buf_size)?;
            let pool = Pool::new(pool_mem, self.cfg.buf_size);
            for (ring, base) in [(&rx, r::rxq(q, 0)), (&tx, r::txq(q, 0))] {
                self.dev
                    .write32(base + r::Q_DESC_LO, ring.desc_iova() as u32);
                self.dev
                    .write32(base + r::Q_DESC_HI, (ring.desc_iova() >> 32) as u32);
                self.dev.write32(base + r::Q_CPL_LO, ring.cpl_iova() as u32);
                self.dev
                    .write32(base + r::Q_CPL_HI, (ring.cpl_iova() >> 32) as u32);
                self.dev
                    .write32(base + r::Q_CTRL, r::Q_CTRL_ENABLE | self.cfg.log2_ring);
            }
            let mut qp = QueuePair {
                q,
                pool,
                rx,
                tx,
                rx_slots: vec![None; n],
                tx_slots: vec![None; n],
                stats: QueueStats::default(),
            };
            qp.refill(&self.dev);
            self.qps.push(qp);
        }
        match self.cfg.rss_key {
            Some(key) => self.dev.enable_rss(&key, self.cfg.queue_pairs)?,
            None => self.dev.disable_rss(),
        }
        self.dev.check()
    }

    pub fn device(&self) -> &Device {
        &self.dev
    }
    pub fn config(&self) -> &NicConfig {
        &self.cfg
    }
    pub fn queue_pairs(&self) -> u32 {
        self.qps.len() as u32
    }
    pub fn stats(&self, q: u32) -> QueueStats {
        self.qps[q as usize].stats
    }

    /// Receives up to `max` packets from queue `q` into `out`; refills the
    /// RX ring with one doorbell.  Returns how many were received.
    pub fn rx_burst(&mut self, q: u32, out: &mut Vec<Packet>, max: usize) -> usize {
        let qp = &mut self.qps[q as usize];
        let mut got = 0;
        while got < max {
            let Some(c) = qp.rx.poll() else { break };
            let slot = (c.index & qp.rx.mask()) as usize;
            let Some(buf) = qp.rx_slots[slot].take() else {
                qp.stats.bad_completions += 1;
                continue;
            };
            if c.len as usize > qp.pool.buf_size() || c.kind != d::KIND_RX {
                qp.stats.bad_completions += 1;
                qp.pool.free(buf);
                continue;
            }
            qp.stats.rx_packets += 1;
            qp.stats.rx_bytes += c.len as u64;
            out.push(Packet {
                buf,
                q,
                len: c.len as usize,
                tx_flags: 0,
                cpl: c,
            });
            got += 1;
        }
        qp.refill(&self.dev);
        got
    }

    /// Whether queue `q` has a received frame waiting (a cheap check for
    /// a busy-polling loop; nothing is consumed).
    pub fn rx_ready(&self, q: u32) -> bool {
        self.qps[q as usize].rx.ready()
    }

    /// An empty buffer from queue `q`'s pool for a frame to send, or `None`
    /// when every buffer is in use (free or send some first).
    pub fn alloc(&mut self, q: u32) -> Option<Packet> {
        let qp = &mut self.qps[q as usize];
        qp.reclaim_tx();
        qp.pool.alloc().map(|buf| Packet {
            buf,
            q,
            len: 0,
            tx_flags: 0,
            cpl: Completion::default(),
        })
    }

    /// Returns a packet's buffer to queue `q`'s pool.
    pub fn free(&mut self, p: Packet) {
        self.qps[p.q as usize].pool.free(p.buf)
    }

    /// Queue pair whose pool owns the packet's buffer.
    pub fn queue_of(p: &Packet) -> u32 {
        p.q
    }

    /// Copies the packet's bytes out.
    pub fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        assert!(at + dst.len() <= p.len, "read beyond the packet");
        self.qps[p.q as usize].pool.read(p.buf, at, dst)
    }

    pub fn to_vec(&self, p: &Packet) -> Vec<u8> {
        let mut v = vec![0; p.len];
        self.read(p, 0, &mut v);
        v
    }

    /// Copies `src` into the packet at `at` and extends its length.
    pub fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        self.qps[p.q as usize].pool.write(p.buf, at, src);
        p.len = p.len.max(at + src.len());
    }

    /// The RX queue the NIC delivers a TCP segment from `src:sport` to
    /// `dst:dport` to (the RSS hash and indirection table the driver
    /// programmed; queue 0 without RSS).  A stack that opens connections
    /// picks its port so that the replies come back to its own queue.
    pub fn rx_queue_of(&self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> u32 {
        use toe_contract::rss;
        match &self.cfg.rss_key {
            None => 0,
            Some(key) => {
                let hash = rss::toeplitz(key, &rss::tuple4(src, dst, sport, dport));
                rss::queue_of(hash, &rss::spread_table(self.qps.len() as u32)) as u32
            }
        }
    }

    /// Buffer size of the pools.
    pub fn buf_size(&self) -> usize {
        self.cfg.buf_size
    }

    /// Sends packets from the front of `pkts` while the TX ring has room
    /// (one doorbell); sent packets are removed from `pkts` and their
    /// buffers return to the pool when the NIC completes them.  Returns how
    /// many were sent; the rest stay in `pkts` (backpressure).
    pub fn tx_burst(&mut self, q: u32, pkts: &mut Vec<Packet>) -> usize {
        let qp = &mut self.qps[q as usize];
        qp.reclaim_tx();
        let mut n = 0;
        for p in pkts.iter() {
            if qp.tx.is_full() {
                break;
            }
            assert_eq!(
                p.q, q,
                "packet of queue {} sent on queue {q}: buffers belong to their queue's pool",
                p.q
            );
            let desc = TxDesc {
                addr: qp.pool.iova(p.buf),
                len: p.len as u16,
                flags: p.tx_flags,
            };
            let slot = qp.tx.push(&desc.encode());
            qp.tx_slots[slot as usize] = Some(p.buf);
            qp.stats.tx_packets += 1;
            qp.stats.tx_bytes += p.len as u64;
            n += 1;
        }
        pkts.drain(..n);
        if n > 0 {
            qp.doorbell(&self.dev, true);
        }
        n
    }

    /// TX descriptors posted and not yet completed on queue `q`.
    pub fn tx_in_flight(&mut self, q: u32) -> u16 {
        let qp = &mut self.qps[q as usize];
        qp.reclaim_tx();
        qp.tx.in_flight()
    }

    /// Free buffers in queue `q`'s pool.
    pub fn pool_available(&self, q: u32) -> usize {
        self.qps[q as usize].pool.available()
    }

    /// Disables every queue and hands back the device.  Buffers still held
    /// by the application are simply forgotten with the pools.
    pub fn close(self) -> Result<Device> {
        for qp in &self.qps {
            self.dev.write32(r::rxq(qp.q, r::Q_CTRL), 0);
            self.dev.write32(r::txq(qp.q, r::Q_CTRL), 0);
        }
        self.dev.disable_rss();
        // A read flushes the posted writes.
        self.dev.check()?;
        Ok(self.dev)
    }
}

impl QueuePair {
    fn doorbell(&mut self, dev: &Device, tx: bool) {
        // Descriptors are in memory before the NIC hears of them.
        fence(Ordering::Release);
        let (reg, prod) = if tx {
            (r::txq(self.q, r::Q_PROD), self.tx.prod)
        } else {
            (r::rxq(self.q, r::Q_PROD), self.rx.prod)
        };
        dev.write32(reg, prod as u32);
        self.stats.doorbells += 1;
    }

    /// Posts a buffer in every free RX slot.
    fn refill(&mut self, dev: &Device) {
        let mut posted = 0;
        while !self.rx.is_full() {
            let Some(buf) = self.pool.alloc() else {
                self.stats.rx_refill_starved += 1;
                break;
            };
            let desc = RxDesc {
                addr: self.pool.iova(buf),
                len: self.pool.buf_size() as u32,
            };
            let slot = self.rx.push(&desc.encode());
            self.rx_slots[slot as usize] = Some(buf);
            posted += 1;
        }
        if posted > 0 {
            self.doorbell(dev, false);
        }
    }

    /// Returns the buffers of completed TX descriptors to the pool.
    fn reclaim_tx(&mut self) {
        while let Some(c) = self.tx.poll() {
            let slot = (c.index & self.tx.mask()) as usize;
            match self.tx_slots[slot].take() {
                Some(buf) => self.pool.free(buf),
                None => self.stats.bad_completions += 1,
            }
            if c.flags & d::CPL_ERROR != 0 {
                self.stats.tx_errors += 1;
            }
        }
    }
}
