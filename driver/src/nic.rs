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
//!
//! # One thread per queue pair
//!
//! A [`Nic`] is used from one thread.  [`Nic::split`] turns it into a
//! [`NicControl`] (the device: counters, RSS, shutdown) and one [`NicQueue`]
//! per queue pair.  A `NicQueue` is `Send`: it owns its rings, slots, pool
//! and statistics, and rings its doorbells through a register path of its
//! own ([`Backend::lane`] `q + 1`; lane 0 stays with the control), so
//! threads running one queue each share no lock on the fast path (RX and TX
//! bursts, doorbells).  The per-queue methods of `Nic` and of `NicQueue`
//! are the same code (a private per-queue type; `Nic` rings doorbells
//! through the device's own path).
//!
//! Ordering: each queue's registers are written by its owner only, in
//! order.  Accesses of different lanes are not ordered with each other (a
//! doorbell of queue 1 may reach the device before a write the control
//! posted earlier), so `split` first flushes what the `Nic` posted, and
//! [`NicControl::close`] waits for what the queues posted.
//!
//! Closing while queue handles live: [`NicControl::close`] marks every
//! queue closed, waits until no doorbell is being rung (a per-queue
//! handshake on one atomic word, uncontended in steady state), waits until
//! every lane's writes have reached the device, then disables the queues
//! and RSS.  From then on a surviving `NicQueue` rings no doorbell:
//! `rx_burst` and `tx_burst` move nothing (`is_closed` says why), while
//! `alloc`, `free`, `read` and `write` keep working on its pool, whose
//! memory stays valid as long as the handle lives (its lane keeps the
//! backend's DMA memory alive).  A stale handle therefore can neither touch
//! freed memory nor disturb a driver that opens the device again.
use crate::backend::{Backend, Lane, Registers};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::offload::teardown::HandOverBufs;
use crate::pool::{BufId, Pool};
use crate::ring::Ring;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Arc;
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

/// A packet buffer owned by the application.  It belongs to the pool of
/// the queue pair it came from ([`Nic::queue_of`]) and goes back there
/// (freed or sent on that queue).
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

#[cfg(test)]
impl Packet {
    /// A packet for a test double of [`QueueIo`].
    pub(crate) fn for_test(buf: BufId, q: u32, len: usize, cpl: Completion) -> Packet {
        Packet {
            buf,
            q,
            len,
            tx_flags: 0,
            cpl,
        }
    }
    pub(crate) fn test_buf(&self) -> BufId {
        self.buf
    }
}

/// A hand-over ended ([`QueueIo::take_teardowns`]): the teardown's end
/// (`event`), or `None` when the NIC rejected the descriptor (no teardown
/// ran; the close must finish in software).
#[derive(Debug)]
pub struct TeardownDone {
    pub tag: u32,
    pub event: Option<toe_contract::teardown::TeardownEvent>,
    /// The descriptor's buffer (record and kept bytes, its length the
    /// descriptor's) when the hand-over had kept bytes: the NIC held it
    /// until now.  `None` without kept bytes: that buffer went back to the
    /// pool with the descriptor's TX completion.
    pub packet: Option<Packet>,
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
    /// Teardown-end events on the RX ring (`offload::dispatch::Handler::
    /// TeardownEnd`): counted, their RX buffers returned at once; the
    /// hand-over each names (by tag) ends through
    /// [`QueueIo::take_teardowns`], with its buffer if it had kept bytes.
    pub teardown_events: u64,
    /// Hand-over descriptors (opcode `TX_OP_TEARDOWN`) posted.
    pub teardown_posted: u64,
    /// Doorbells rung.
    pub doorbells: u64,
}

/// What a stack instance needs from one queue pair.  Implemented by a
/// [`NicQueue`] (a thread's own handle) and by [`QueueRef`] (queue `q` of a
/// [`Nic`], see [`Nic::queue`]), so that the host layer and the sockets run
/// unchanged on either.
pub trait QueueIo {
    /// The queue pair's index.
    fn index(&self) -> u32;
    /// Receives up to `max` packets into `out`, refills the RX ring (one
    /// doorbell); returns how many were received.
    fn rx_burst(&mut self, out: &mut Vec<Packet>, max: usize) -> usize;
    /// Whether a received frame is waiting (nothing is consumed).
    fn rx_ready(&self) -> bool;
    /// An empty buffer of this queue's pool.
    fn alloc(&mut self) -> Option<Packet>;
    /// Returns a packet of this queue to its pool.
    fn free(&mut self, p: Packet);
    /// Copies the packet's bytes from `at` into `dst`.
    fn read(&self, p: &Packet, at: usize, dst: &mut [u8]);
    /// Copies `src` into the packet at `at` and extends its length.
    fn write(&self, p: &mut Packet, at: usize, src: &[u8]);
    /// Calls `f` with the packet's bytes (zero-copy on the device's
    /// queues: in place in the buffer, which the device no longer writes
    /// once its completion was consumed; the default copies them out).
    fn with_bytes(&self, p: &Packet, f: &mut dyn FnMut(&[u8])) {
        let mut v = vec![0; p.len];
        self.read(p, 0, &mut v);
        f(&v)
    }
    /// Sets the packet's length to `len` and calls `f` to write those
    /// bytes (zero-copy on the device's queues: in place in the buffer,
    /// which the device reads only once the packet is sent; the default
    /// writes through a copy).  `len` must fit the buffer.
    fn fill(&self, p: &mut Packet, len: usize, f: &mut dyn FnMut(&mut [u8])) {
        let mut v = vec![0; len];
        f(&mut v);
        p.len = 0;
        self.write(p, 0, &v)
    }
    /// Sends from the front of `pkts` while the TX ring has room (one
    /// doorbell); returns how many were sent.
    fn tx_burst(&mut self, pkts: &mut Vec<Packet>) -> usize;
    /// Bytes per buffer.
    fn buf_size(&self) -> usize;
    /// Hand-overs (descriptors with opcode `TX_OP_TEARDOWN`) ended: their
    /// TX completion and their teardown's event both seen (or the
    /// descriptor rejected).  A hand-over with kept bytes comes with its
    /// buffer, which the NIC may read again until then (to retransmit
    /// them), so it was not freed; the caller frees it when done with it.
    /// One without kept bytes comes without: its buffer went back to the
    /// pool with the TX completion (the NIC never reads it again).
    fn take_teardowns(&mut self, _into: &mut Vec<TeardownDone>) {}
    /// A register path for device-wide commands issued by the owner of
    /// this queue (the offloads' commands, `crate::offload`):
    /// the device's own for queue `q` of a [`Nic`], the queue's lane for a
    /// [`NicQueue`] (none once the NIC is closed).  `None` when there is
    /// none.
    fn registers(&self) -> Option<&dyn Registers> {
        None
    }
}

/// Whether a queue may still ring doorbells, and whether its owner is
/// ringing one now: bit 31 closed, the low bits the doorbells in progress
/// (0 or 1: a queue has one owner).  Only the owner writes it in steady
/// state (two uncontended atomic operations per doorbell); the closer sets
/// the bit and waits for the count to drop.  Aligned so that the gates of
/// different queues never share a cache line.
#[repr(align(128))]
#[derive(Default)]
struct Gate(AtomicU32);

const GATE_CLOSED: u32 = 1 << 31;

/// Inside the doorbell section; leaving it (even by unwinding) lets a
/// closer waiting in [`Gate::close`] go on.
struct Ringing<'a> {
    gate: &'a Gate,
}

impl Drop for Ringing<'_> {
    fn drop(&mut self) {
        // Release: the register write happened before the closer sees 0.
        self.gate.0.fetch_sub(1, Ordering::Release);
    }
}

impl Gate {
    /// Enters the doorbell section unless the queue is closed.
    fn enter(&self) -> Option<Ringing<'_>> {
        let before = self.0.fetch_add(1, Ordering::Acquire);
        // Undoes the increment when dropped, whichever way this goes.
        let inside = Ringing { gate: self };
        if before & GATE_CLOSED != 0 {
            return None;
        }
        Some(inside)
    }
    fn is_closed(&self) -> bool {
        self.0.load(Ordering::Acquire) & GATE_CLOSED != 0
    }
    /// Closes the gate; returns once no doorbell is being rung (every
    /// doorbell rung before has returned from its register write).
    fn close(&self) {
        self.0.fetch_or(GATE_CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        while self.0.load(Ordering::Acquire) & !GATE_CLOSED != 0 {
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// One queue pair: rings, slots, pool, statistics.  The per-queue code of
/// both [`Nic`] and [`NicQueue`].
struct Queue {
    q: u32,
    pool: Pool,
    rx: Ring,
    tx: Ring,
    rx_slots: Vec<Option<BufId>>,
    tx_slots: Vec<Option<BufId>>,
    /// For a hand-over descriptor in a TX slot: its tag and length.
    tx_handover: Vec<Option<(u32, u16)>>,
    /// Hand-overs until their event; the buffers of those with kept
    /// bytes.
    handovers: HandOverBufs<(BufId, u16)>,
    stats: QueueStats,
    gate: Arc<Gate>,
}

pub struct Nic {
    dev: Device,
    qs: Vec<Queue>,
    cfg: NicConfig,
}

/// The device side of a split [`Nic`] (see [`Nic::split`]): identification,
/// counters, RSS, shutdown.  Register accesses go through the backend's own
/// path (lane 0).  Dropping it without [`NicControl::close`] leaves the
/// queues running.
pub struct NicControl {
    dev: Device,
    cfg: NicConfig,
    gates: Vec<Arc<Gate>>,
}

/// One queue pair of a split [`Nic`], for the one thread that runs it: its
/// rings, slots, buffer pool and statistics, and its own register path for
/// doorbells.  `Send`, not `Sync`.  See the module documentation for what
/// happens when the control closes the NIC while the handle lives.
pub struct NicQueue {
    core: Queue,
    lane: Box<Lane>,
    cfg: NicConfig,
    queue_pairs: u32,
}

/// Queue `q` of a [`Nic`] as a [`QueueIo`] (see [`Nic::queue`]).
pub struct QueueRef<'a> {
    core: &'a mut Queue,
    dev: &'a Device,
}

/// [`Nic::split`] failed; the NIC comes back unchanged with the reason.
pub struct SplitError {
    pub nic: Box<Nic>,
    pub error: Error,
}

impl std::fmt::Debug for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplitError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot split the NIC into per-queue handles: {}",
            self.error
        )
    }
}

impl std::error::Error for SplitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SplitError> for Error {
    fn from(e: SplitError) -> Error {
        e.error
    }
}

const _: () = {
    const fn send<T: Send>() {}
    send::<NicQueue>();
    send::<NicControl>();
    send::<Nic>();
};

/// The RX queue RSS gives a TCP segment (queue 0 without RSS).
fn steer(
    cfg: &NicConfig,
    queue_pairs: u32,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
) -> u32 {
    use toe_contract::rss;
    match &cfg.rss_key {
        None => 0,
        Some(key) => {
            let hash = rss::toeplitz(key, &rss::tuple4(src, dst, sport, dport));
            rss::queue_of(hash, &rss::spread_table(queue_pairs)) as u32
        }
    }
}

/// Closes every queue's gate, waits for the lanes, disables the queues and
/// RSS, and flushes with a read.
fn shut_down(dev: &Device, gates: &[Arc<Gate>]) -> Result<()> {
    for g in gates {
        g.close();
    }
    // Doorbells rung on other lanes before the gates closed must land
    // before the queues are disabled (lanes are not ordered with lane 0).
    let synced = dev.backend().sync_lanes();
    for q in 0..gates.len() as u32 {
        dev.write32(r::rxq(q, r::Q_CTRL), 0);
        dev.write32(r::txq(q, r::Q_CTRL), 0);
    }
    dev.disable_rss();
    synced?;
    // A read flushes the posted writes.
    dev.check()
}

impl Nic {
    /// Identifies the device, resets it (unless told not to), and brings up
    /// the queue pairs with full RX rings.
    pub fn open(backend: Box<dyn Backend>, cfg: NicConfig) -> Result<Nic> {
        let mut dev = Device::open(backend)?;
        Self::with_device(&mut dev, &cfg)?;
        let mut nic = Nic {
            dev,
            qs: Vec::new(),
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
        if !cfg.buf_size.is_multiple_of(64) || cfg.buf_size < 64 || cfg.buf_size > 65536 {
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
            let mut qp = Queue {
                q,
                pool,
                rx,
                tx,
                rx_slots: vec![None; n],
                tx_slots: vec![None; n],
                tx_handover: vec![None; n],
                handovers: HandOverBufs::default(),
                stats: QueueStats::default(),
                gate: Arc::default(),
            };
            qp.refill(&self.dev);
            self.qs.push(qp);
        }
        match self.cfg.rss_key {
            Some(key) => self.dev.enable_rss(&key, self.cfg.queue_pairs)?,
            None => self.dev.disable_rss(),
        }
        self.dev.check()
    }

    /// Splits the NIC into the device side and one handle per queue pair,
    /// each to be run by its own thread (see the module documentation).
    /// Queue `q` gets lane `q + 1` of the backend.  Fails, handing the NIC
    /// back, when the backend has no lanes (or too few) or the device is
    /// gone.
    pub fn split(self) -> std::result::Result<(NicControl, Vec<NicQueue>), SplitError> {
        let mut lanes = Vec::with_capacity(self.qs.len());
        for q in 0..self.queue_pairs() {
            match self.dev.backend().lane(q + 1) {
                Ok(l) => lanes.push(l),
                Err(error) => {
                    return Err(SplitError {
                        nic: Box::new(self),
                        error,
                    })
                }
            }
        }
        // What this NIC posted on lane 0 (refill doorbells) lands before
        // any queue rings on its own lane: lanes are not ordered.
        if let Err(error) = self.dev.check() {
            drop(lanes);
            return Err(SplitError {
                nic: Box::new(self),
                error,
            });
        }
        let Nic { dev, qs, cfg } = self;
        let queue_pairs = qs.len() as u32;
        let gates = qs.iter().map(|q| q.gate.clone()).collect();
        let queues = qs
            .into_iter()
            .zip(lanes)
            .map(|(core, lane)| NicQueue {
                core,
                lane,
                cfg: cfg.clone(),
                queue_pairs,
            })
            .collect();
        Ok((NicControl { dev, cfg, gates }, queues))
    }

    /// Queue `q` as a [`QueueIo`], for code written against one queue (the
    /// host layer, a stack instance).  Panics if `q` is out of range.
    pub fn queue(&mut self, q: u32) -> QueueRef<'_> {
        let n = self.qs.len();
        let core = self
            .qs
            .get_mut(q as usize)
            .unwrap_or_else(|| panic!("queue {q} of a NIC with {n} queue pairs"));
        QueueRef {
            core,
            dev: &self.dev,
        }
    }

    pub fn device(&self) -> &Device {
        &self.dev
    }
    pub fn config(&self) -> &NicConfig {
        &self.cfg
    }
    pub fn queue_pairs(&self) -> u32 {
        self.qs.len() as u32
    }
    pub fn stats(&self, q: u32) -> QueueStats {
        self.qs[q as usize].stats
    }

    /// Receives up to `max` packets from queue `q` into `out`; refills the
    /// RX ring with one doorbell.  Returns how many were received.
    pub fn rx_burst(&mut self, q: u32, out: &mut Vec<Packet>, max: usize) -> usize {
        self.qs[q as usize].rx_burst(&self.dev, out, max)
    }

    /// Whether queue `q` has a received frame waiting (a cheap check for
    /// a busy-polling loop; nothing is consumed).
    pub fn rx_ready(&self, q: u32) -> bool {
        self.qs[q as usize].rx_ready()
    }

    /// An empty buffer from queue `q`'s pool for a frame to send, or `None`
    /// when every buffer is in use (free or send some first).
    pub fn alloc(&mut self, q: u32) -> Option<Packet> {
        self.qs[q as usize].alloc()
    }

    /// Returns a packet's buffer to its queue's pool.
    pub fn free(&mut self, p: Packet) {
        self.qs[p.q as usize].free(p)
    }

    /// Queue pair whose pool owns the packet's buffer.
    pub fn queue_of(p: &Packet) -> u32 {
        p.q
    }

    /// Copies the packet's bytes out.
    pub fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        self.qs[p.q as usize].read(p, at, dst)
    }

    pub fn to_vec(&self, p: &Packet) -> Vec<u8> {
        let mut v = vec![0; p.len];
        self.read(p, 0, &mut v);
        v
    }

    /// Copies `src` into the packet at `at` and extends its length.
    pub fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        self.qs[p.q as usize].write(p, at, src)
    }

    /// The packet's bytes in place, without a copy: a received frame
    /// (whose completion `rx_burst` has consumed, so the device no longer
    /// writes it) or one being built.  The slice borrows the packet, so
    /// the packet cannot be freed or sent while it lives; the buffer goes
    /// back to the pool with [`Nic::free`] (or [`Nic::tx_burst`]).
    pub fn bytes<'a>(&'a self, p: &'a Packet) -> &'a [u8] {
        self.qs[p.q as usize].bytes(p)
    }

    /// The packet's first `len` bytes in place, to build a frame to send
    /// straight into its DMA buffer (no copy); the packet's length becomes
    /// `len`.  The device reads the buffer only after [`Nic::tx_burst`],
    /// which takes the packet.  Panics when `len` exceeds the buffer size.
    pub fn bytes_mut<'a>(&'a self, p: &'a mut Packet, len: usize) -> &'a mut [u8] {
        self.qs[p.q as usize].bytes_mut(p, len)
    }

    /// The RX queue the NIC delivers a TCP segment from `src:sport` to
    /// `dst:dport` to (the RSS hash and indirection table the driver
    /// programmed; queue 0 without RSS).  A stack that opens connections
    /// picks its port so that the replies come back to its own queue.
    pub fn rx_queue_of(&self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> u32 {
        steer(&self.cfg, self.queue_pairs(), src, dst, sport, dport)
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
        self.qs[q as usize].tx_burst(&self.dev, pkts)
    }

    /// TX descriptors posted and not yet completed on queue `q`.
    pub fn tx_in_flight(&mut self, q: u32) -> u16 {
        self.qs[q as usize].tx_in_flight()
    }

    /// Free buffers in queue `q`'s pool.
    pub fn pool_available(&self, q: u32) -> usize {
        self.qs[q as usize].pool.available()
    }

    /// Hand-over buffers the NIC holds on queue `q` (teardown offload:
    /// descriptors on the TX ring, and hand-overs with kept bytes whose
    /// teardown has not ended; one without kept bytes holds its buffer
    /// only until its TX completion).
    pub fn handovers_held(&self, q: u32) -> usize {
        self.qs[q as usize].handovers_held()
    }

    /// Disables every queue and hands back the device.  Buffers still held
    /// by the application are simply forgotten with the pools.
    pub fn close(self) -> Result<Device> {
        let gates: Vec<Arc<Gate>> = self.qs.iter().map(|q| q.gate.clone()).collect();
        shut_down(&self.dev, &gates)?;
        Ok(self.dev)
    }
}

impl NicControl {
    pub fn device(&self) -> &Device {
        &self.dev
    }
    pub fn config(&self) -> &NicConfig {
        &self.cfg
    }
    pub fn queue_pairs(&self) -> u32 {
        self.gates.len() as u32
    }
    /// As [`Nic::rx_queue_of`].
    pub fn rx_queue_of(&self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> u32 {
        steer(&self.cfg, self.queue_pairs(), src, dst, sport, dport)
    }

    /// Stops every queue, whether or not its handle still lives (see the
    /// module documentation), disables RSS, and hands back the device.
    /// Queue handles alive after this ring no doorbell any more.
    pub fn close(self) -> Result<Device> {
        shut_down(&self.dev, &self.gates)?;
        Ok(self.dev)
    }
}

impl NicQueue {
    /// The queue pair's index.
    pub fn index(&self) -> u32 {
        self.core.q
    }
    /// Queue pairs of the NIC this handle came from.
    pub fn queue_pairs(&self) -> u32 {
        self.queue_pairs
    }
    /// The configuration the NIC was opened with.
    pub fn config(&self) -> &NicConfig {
        &self.cfg
    }
    pub fn stats(&self) -> QueueStats {
        self.core.stats
    }
    /// Whether the control has closed the NIC: nothing moves any more.
    pub fn is_closed(&self) -> bool {
        self.core.gate.is_closed()
    }
    /// Where this queue's doorbells go ("sim /dev/shm/toe-sim lane 2").
    pub fn describe(&self) -> String {
        self.lane.describe()
    }

    /// As [`Nic::rx_burst`]; 0 once closed.
    pub fn rx_burst(&mut self, out: &mut Vec<Packet>, max: usize) -> usize {
        self.core.rx_burst(&*self.lane, out, max)
    }
    /// As [`Nic::rx_ready`]; false once closed.
    pub fn rx_ready(&self) -> bool {
        self.core.rx_ready()
    }
    /// As [`Nic::alloc`].
    pub fn alloc(&mut self) -> Option<Packet> {
        self.core.alloc()
    }
    /// As [`Nic::free`]; panics on a packet of another queue's pool.
    pub fn free(&mut self, p: Packet) {
        self.core.free(p)
    }
    /// As [`Nic::read`]; panics on a packet of another queue's pool.
    pub fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        self.core.read(p, at, dst)
    }
    pub fn to_vec(&self, p: &Packet) -> Vec<u8> {
        let mut v = vec![0; p.len];
        self.read(p, 0, &mut v);
        v
    }
    /// As [`Nic::write`]; panics on a packet of another queue's pool.
    pub fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        self.core.write(p, at, src)
    }
    /// As [`Nic::bytes`]; panics on a packet of another queue's pool.
    pub fn bytes<'a>(&'a self, p: &'a Packet) -> &'a [u8] {
        self.core.bytes(p)
    }
    /// As [`Nic::bytes_mut`]; panics on a packet of another queue's pool.
    pub fn bytes_mut<'a>(&'a self, p: &'a mut Packet, len: usize) -> &'a mut [u8] {
        self.core.bytes_mut(p, len)
    }
    /// As [`Nic::tx_burst`]; sends nothing once closed.
    pub fn tx_burst(&mut self, pkts: &mut Vec<Packet>) -> usize {
        self.core.tx_burst(&*self.lane, pkts)
    }
    /// As [`Nic::tx_in_flight`].
    pub fn tx_in_flight(&mut self) -> u16 {
        self.core.tx_in_flight()
    }
    /// Free buffers in the pool.
    pub fn pool_available(&self) -> usize {
        self.core.pool.available()
    }
    /// As [`Nic::handovers_held`].
    pub fn handovers_held(&self) -> usize {
        self.core.handovers_held()
    }
    pub fn buf_size(&self) -> usize {
        self.cfg.buf_size
    }
    /// As [`Nic::rx_queue_of`].
    pub fn rx_queue_of(&self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> u32 {
        steer(&self.cfg, self.queue_pairs, src, dst, sport, dport)
    }
}

impl QueueIo for NicQueue {
    fn index(&self) -> u32 {
        self.core.q
    }
    fn rx_burst(&mut self, out: &mut Vec<Packet>, max: usize) -> usize {
        NicQueue::rx_burst(self, out, max)
    }
    fn rx_ready(&self) -> bool {
        NicQueue::rx_ready(self)
    }
    fn alloc(&mut self) -> Option<Packet> {
        NicQueue::alloc(self)
    }
    fn free(&mut self, p: Packet) {
        NicQueue::free(self, p)
    }
    fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        NicQueue::read(self, p, at, dst)
    }
    fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        NicQueue::write(self, p, at, src)
    }
    fn with_bytes(&self, p: &Packet, f: &mut dyn FnMut(&[u8])) {
        f(self.core.bytes(p))
    }
    fn fill(&self, p: &mut Packet, len: usize, f: &mut dyn FnMut(&mut [u8])) {
        f(self.core.bytes_mut(p, len))
    }
    fn tx_burst(&mut self, pkts: &mut Vec<Packet>) -> usize {
        NicQueue::tx_burst(self, pkts)
    }
    fn take_teardowns(&mut self, into: &mut Vec<TeardownDone>) {
        self.core.take_teardowns(into)
    }
    fn buf_size(&self) -> usize {
        self.cfg.buf_size
    }
    fn registers(&self) -> Option<&dyn Registers> {
        if self.is_closed() {
            None
        } else {
            Some(&*self.lane)
        }
    }
}

impl QueueIo for QueueRef<'_> {
    fn index(&self) -> u32 {
        self.core.q
    }
    fn rx_burst(&mut self, out: &mut Vec<Packet>, max: usize) -> usize {
        self.core.rx_burst(self.dev, out, max)
    }
    fn rx_ready(&self) -> bool {
        self.core.rx_ready()
    }
    fn alloc(&mut self) -> Option<Packet> {
        self.core.alloc()
    }
    fn free(&mut self, p: Packet) {
        self.core.free(p)
    }
    fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        self.core.read(p, at, dst)
    }
    fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        self.core.write(p, at, src)
    }
    fn with_bytes(&self, p: &Packet, f: &mut dyn FnMut(&[u8])) {
        f(self.core.bytes(p))
    }
    fn fill(&self, p: &mut Packet, len: usize, f: &mut dyn FnMut(&mut [u8])) {
        f(self.core.bytes_mut(p, len))
    }
    fn tx_burst(&mut self, pkts: &mut Vec<Packet>) -> usize {
        self.core.tx_burst(self.dev, pkts)
    }
    fn take_teardowns(&mut self, into: &mut Vec<TeardownDone>) {
        self.core.take_teardowns(into)
    }
    fn buf_size(&self) -> usize {
        self.core.pool.buf_size()
    }
    fn registers(&self) -> Option<&dyn Registers> {
        Some(self.dev)
    }
}

impl Queue {
    fn own(&self, p: &Packet, what: &str) {
        assert_eq!(
            p.q, self.q,
            "packet of queue {} {what} queue {}: buffers belong to their queue's pool",
            p.q, self.q
        );
    }

    fn rx_burst<R: Registers + ?Sized>(
        &mut self,
        regs: &R,
        out: &mut Vec<Packet>,
        max: usize,
    ) -> usize {
        if self.gate.is_closed() {
            return 0;
        }
        let mut got = 0;
        while got < max {
            let Some(c) = self.rx.poll() else { break };
            let slot = (c.index & self.rx.mask()) as usize;
            let Some(buf) = self.rx_slots[slot].take() else {
                self.stats.bad_completions += 1;
                continue;
            };
            // Which kinds carry received bytes: the completion-kind
            // dispatch table (`offload::dispatch`).
            let frame_kind = crate::offload::dispatch::rx_frame(c.kind);
            if crate::offload::dispatch::handler(c.kind)
                == Some(crate::offload::dispatch::Handler::TeardownEnd)
            {
                // No received bytes: the RX buffer goes back at once; the
                // event ends the hand-over its tag names (and returns its
                // buffer if it had kept bytes).
                self.stats.teardown_events += 1;
                self.pool.free(buf);
                match toe_contract::teardown::TeardownEvent::from_completion(&c) {
                    Some(ev) if self.handovers.event(ev) => {}
                    _ => self.stats.bad_completions += 1,
                }
                continue;
            }
            if c.len as usize > self.pool.buf_size() || !frame_kind {
                self.stats.bad_completions += 1;
                self.pool.free(buf);
                continue;
            }
            self.stats.rx_packets += 1;
            self.stats.rx_bytes += c.len as u64;
            out.push(Packet {
                buf,
                q: self.q,
                len: c.len as usize,
                tx_flags: 0,
                cpl: c,
            });
            got += 1;
        }
        self.refill(regs);
        got
    }

    fn rx_ready(&self) -> bool {
        !self.gate.is_closed() && self.rx.ready()
    }

    fn alloc(&mut self) -> Option<Packet> {
        self.reclaim_tx();
        self.pool.alloc().map(|buf| Packet {
            buf,
            q: self.q,
            len: 0,
            tx_flags: 0,
            cpl: Completion::default(),
        })
    }

    fn free(&mut self, p: Packet) {
        self.own(&p, "freed on");
        self.pool.free(p.buf)
    }

    fn read(&self, p: &Packet, at: usize, dst: &mut [u8]) {
        self.own(p, "read on");
        assert!(at + dst.len() <= p.len, "read beyond the packet");
        self.pool.read(p.buf, at, dst)
    }

    /// The packet's bytes in place.  Sound because a `Packet` is the only
    /// handle to its buffer: `rx_burst` makes one only after the
    /// completion was consumed (acquire), `alloc` only for a buffer no
    /// ring holds, and the device gets the buffer back only through
    /// `tx_burst` or `free`, which take the packet, so not while the
    /// borrow lives.
    fn bytes<'a>(&'a self, p: &'a Packet) -> &'a [u8] {
        self.own(p, "read on");
        // SAFETY: see above: nobody writes the buffer while `p` is
        // borrowed.
        unsafe { self.pool.bytes(p.buf, p.len) }
    }

    /// The packet's first `len` bytes in place, for writing; its length
    /// becomes `len`.  Sound as [`Queue::bytes`], and `p` is borrowed
    /// mutably, so this is the only reference into the buffer.
    fn bytes_mut<'a>(&'a self, p: &'a mut Packet, len: usize) -> &'a mut [u8] {
        self.own(p, "written on");
        assert!(
            len <= self.pool.buf_size(),
            "{len} bytes do not fit a buffer of {}",
            self.pool.buf_size()
        );
        p.len = len;
        // SAFETY: as above, with the packet held mutably.
        unsafe { self.pool.bytes_mut(p.buf, len) }
    }

    fn write(&self, p: &mut Packet, at: usize, src: &[u8]) {
        self.own(p, "written on");
        self.pool.write(p.buf, at, src);
        p.len = p.len.max(at + src.len());
    }

    fn tx_burst<R: Registers + ?Sized>(&mut self, regs: &R, pkts: &mut Vec<Packet>) -> usize {
        if self.gate.is_closed() {
            return 0;
        }
        self.reclaim_tx();
        let mut n = 0;
        for p in pkts.iter() {
            if self.tx.is_full() {
                break;
            }
            self.own(p, "sent on");
            let desc = TxDesc {
                addr: self.pool.iova(p.buf),
                len: p.len as u16,
                flags: p.tx_flags,
            };
            let slot = self.tx.push(&desc.encode());
            self.tx_slots[slot as usize] = Some(p.buf);
            self.tx_handover[slot as usize] = None;
            if p.tx_flags >> d::TXF_OPCODE_SHIFT == toe_contract::teardown::TX_OP_TEARDOWN
                && p.len >= toe_contract::teardown::HANDOVER_BYTES
            {
                // The record's tag (bytes 60..64), read back from the
                // buffer the host wrote: the event names the buffer by it.
                let mut tag = [0u8; 4];
                self.pool.read(p.buf, 60, &mut tag);
                let tag = u32::from_le_bytes(tag);
                self.tx_handover[slot as usize] = Some((tag, p.len as u16));
                self.handovers.posted(tag);
                self.stats.teardown_posted += 1;
            }
            self.stats.tx_packets += 1;
            self.stats.tx_bytes += p.len as u64;
            n += 1;
        }
        pkts.drain(..n);
        if n > 0 {
            self.doorbell(regs, true);
        }
        n
    }

    fn take_teardowns(&mut self, into: &mut Vec<TeardownDone>) {
        self.reclaim_tx();
        while let Some(r) = self.handovers.take() {
            into.push(TeardownDone {
                tag: r.tag,
                event: r.event,
                packet: r.buf.map(|(buf, len)| Packet {
                    buf,
                    q: self.q,
                    len: len as usize,
                    tx_flags: 0,
                    cpl: Completion::default(),
                }),
            });
        }
    }

    /// Hand-over buffers the NIC holds now (on the TX ring, or with kept
    /// bytes until their event).
    fn handovers_held(&self) -> usize {
        self.handovers.held()
    }

    fn tx_in_flight(&mut self) -> u16 {
        self.reclaim_tx();
        self.tx.in_flight()
    }

    fn doorbell<R: Registers + ?Sized>(&mut self, regs: &R, tx: bool) {
        // Descriptors are in memory before the NIC hears of them.
        fence(Ordering::Release);
        let (reg, prod) = if tx {
            (r::txq(self.q, r::Q_PROD), self.tx.prod)
        } else {
            (r::rxq(self.q, r::Q_PROD), self.rx.prod)
        };
        // A closed queue (the control shut the NIC down) rings nothing.
        let Some(_ringing) = self.gate.enter() else {
            return;
        };
        regs.write32(reg, prod as u32);
        self.stats.doorbells += 1;
    }

    /// Posts a buffer in every free RX slot.
    fn refill<R: Registers + ?Sized>(&mut self, regs: &R) {
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
            self.doorbell(regs, false);
        }
    }

    /// Returns the buffers of completed TX descriptors to the pool.
    fn reclaim_tx(&mut self) {
        while let Some(c) = self.tx.poll() {
            let slot = (c.index & self.tx.mask()) as usize;
            match (self.tx_slots[slot].take(), self.tx_handover[slot].take()) {
                // A hand-over's buffer: back now without kept bytes (the NIC
                // copied the record), the NIC's until its event with them.
                (Some(buf), Some((tag, len))) => {
                    let kept = len as usize - toe_contract::teardown::HANDOVER_BYTES;
                    let rejected = c.flags & d::CPL_ERROR != 0;
                    if let Some((buf, _)) = self.handovers.tx_done(tag, (buf, len), kept, rejected)
                    {
                        self.pool.free(buf);
                    }
                }
                (Some(buf), None) => self.pool.free(buf),
                (None, _) => self.stats.bad_completions += 1,
            }
            if c.flags & d::CPL_ERROR != 0 {
                self.stats.tx_errors += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::DmaRegion;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    #[test]
    fn closing_waits_for_a_doorbell_being_rung_then_refuses_more() {
        let gate = Arc::new(Gate::default());
        let ringing = gate.enter().expect("open gate");
        let closed = Arc::new(AtomicBool::new(false));
        let closer = {
            let (gate, closed) = (gate.clone(), closed.clone());
            std::thread::spawn(move || {
                gate.close();
                closed.store(true, Ordering::Release);
            })
        };
        let t = std::time::Instant::now();
        while !gate.is_closed() {
            assert!(t.elapsed() < Duration::from_secs(30), "closer never ran");
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !closed.load(Ordering::Acquire),
            "close returned while a doorbell was being rung"
        );
        assert!(gate.enter().is_none(), "closing gate lets a doorbell in");
        drop(ringing);
        closer.join().unwrap();
        assert!(closed.load(Ordering::Acquire) && gate.is_closed());
        assert!(gate.enter().is_none());
        assert_eq!(gate.0.load(Ordering::Relaxed), GATE_CLOSED, "no count left");
    }

    /// A queue pair on heap memory, its rings of 4 and a pool of 16
    /// buffers of 256 bytes, and the NIC's side: TX and RX completions
    /// written into the completion rings as the device would.
    struct Rig {
        q: Queue,
        tx_cpl: DmaRegion,
        rx_cpl: DmaRegion,
        tx_done: u16,
        rx_done: u16,
        // Owns the memory the regions point into.
        _mem: Vec<Vec<u64>>,
    }

    struct NoRegs;
    impl Registers for NoRegs {
        fn read32(&self, _off: u32) -> u32 {
            0
        }
        fn write32(&self, _off: u32, _val: u32) {}
    }

    const LOG2: u32 = 2;

    impl Rig {
        fn new() -> Rig {
            let n = 1usize << LOG2;
            let mut mem = vec![
                vec![0u64; n * RECORD_BYTES / 8],
                vec![0u64; n * CPL_BYTES / 8],
                vec![0u64; n * RECORD_BYTES / 8],
                vec![0u64; n * CPL_BYTES / 8],
                vec![0u64; 16 * 256 / 8],
            ];
            // SAFETY: the vectors live as long as the rig (moved with it:
            // their heap memory does not move) and are reached only
            // through these regions.
            let regions: Vec<DmaRegion> = mem
                .iter_mut()
                .enumerate()
                .map(|(i, m)| unsafe {
                    DmaRegion::new(m.as_mut_ptr() as *mut u8, (i as u64 + 1) << 20, m.len() * 8)
                })
                .collect();
            let view = |i: usize| unsafe {
                DmaRegion::new(regions[i].ptr(0), regions[i].iova(), regions[i].len())
            };
            let (rx_cpl, tx_cpl) = (view(1), view(3));
            let mut regions = regions.into_iter();
            let mut ring = || Ring::new(regions.next().unwrap(), regions.next().unwrap(), LOG2);
            let (rx, tx) = (ring(), ring());
            let pool = Pool::new(regions.next().unwrap(), 256);
            let mut q = Queue {
                q: 0,
                pool,
                rx,
                tx,
                rx_slots: vec![None; n],
                tx_slots: vec![None; n],
                tx_handover: vec![None; n],
                handovers: HandOverBufs::default(),
                stats: QueueStats::default(),
                gate: Arc::default(),
            };
            q.refill(&NoRegs);
            Rig {
                q,
                tx_cpl,
                rx_cpl,
                tx_done: 0,
                rx_done: 0,
                _mem: mem,
            }
        }

        /// Posts a hand-over with `tag` and `kept` bytes after the record.
        fn hand_over(&mut self, tag: u32, kept: usize) {
            use toe_contract::teardown as t;
            let mut p = self.q.alloc().expect("a free buffer");
            let mut b = vec![0u8; t::HANDOVER_BYTES + kept];
            b[60..64].copy_from_slice(&tag.to_le_bytes());
            self.q.write(&mut p, 0, &b);
            p.tx_flags = t::TX_OP_TEARDOWN << d::TXF_OPCODE_SHIFT;
            assert_eq!(self.q.tx_burst(&NoRegs, &mut vec![p]), 1);
        }

        /// The NIC completes the next TX descriptor, the queue layer
        /// takes the completion.
        fn tx_complete(&mut self, error: bool) {
            let i = self.tx_done;
            let c = Completion {
                index: i,
                kind: d::KIND_TX,
                flags: if error { d::CPL_ERROR } else { 0 },
                phase: toe_contract::desc::phase_for(i, LOG2),
                ..Completion::default()
            };
            let at = (i as usize & ((1 << LOG2) - 1)) * CPL_BYTES;
            self.tx_cpl.write(at, &c.encode());
            self.tx_done += 1;
            // The queue layer consumes it (as its next alloc or burst does).
            self.q.reclaim_tx();
        }

        /// The NIC ends the teardown `tag` (on the RX ring).
        fn event(&mut self, tag: u32, reason: toe_contract::teardown::Reason) {
            let i = self.rx_done;
            let ev = toe_contract::teardown::TeardownEvent {
                reason,
                state: None,
                retries: 0,
                duration: 3,
                tag,
            };
            let c = ev.to_completion(i, toe_contract::desc::phase_for(i, LOG2));
            let at = (i as usize & ((1 << LOG2) - 1)) * CPL_BYTES;
            self.rx_cpl.write(at, &c.encode());
            self.rx_done += 1;
            assert_eq!(self.q.rx_burst(&NoRegs, &mut Vec::new(), 8), 0);
        }

        fn take(&mut self) -> Vec<TeardownDone> {
            let mut v = Vec::new();
            self.q.take_teardowns(&mut v);
            v
        }

        /// Buffers neither free nor in the RX ring.
        fn out(&self) -> usize {
            16 - (1 << LOG2) - self.q.pool.available()
        }
    }

    /// Teardown contract: a hand-over without kept bytes gets its buffer
    /// back with its TX completion, before its teardown's end (60 s of
    /// TIME-WAIT for an active close); the end comes later without a
    /// buffer.  So for a fallback (below, the second hand-over): the
    /// buffer is back, the event still ends the hand-over.
    #[test]
    fn a_hand_over_without_kept_bytes_returns_its_buffer_with_its_tx_completion() {
        use toe_contract::teardown::Reason;
        let mut r = Rig::new();
        assert_eq!(r.out(), 0);
        r.hand_over(7, 0);
        assert_eq!((r.out(), r.q.handovers_held()), (1, 1));
        r.tx_complete(false);
        assert!(r.take().is_empty(), "the teardown has not ended");
        assert_eq!(r.out(), 0, "back in the pool with the TX completion");
        assert_eq!(r.q.handovers_held(), 0);
        assert_eq!(r.q.handovers.released(), 1);
        r.event(7, Reason::Normal);
        let done = r.take();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].tag, 7);
        assert_eq!(done[0].event.map(|e| e.reason), Some(Reason::Normal));
        assert!(done[0].packet.is_none(), "its buffer came back before");
        assert_eq!((r.out(), r.q.handovers.released()), (0, 0));
        // Refused by the NIC (Fallback) after the TX completion.
        r.hand_over(8, 0);
        r.tx_complete(false);
        assert_eq!(r.out(), 0);
        r.event(8, Reason::Fallback);
        let done = r.take();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].event.map(|e| e.reason), Some(Reason::Fallback));
        assert!(done[0].packet.is_none());
        // Rejected (CPL_ERROR): ended at once, the buffer back too.
        r.hand_over(9, 0);
        r.tx_complete(true);
        let done = r.take();
        assert_eq!((done.len(), done[0].event), (1, None));
        assert!(done[0].packet.is_none());
        assert_eq!(r.out(), 0);
        assert_eq!(r.q.stats.bad_completions, 0);
    }

    /// Teardown contract: a hand-over with kept bytes leaves its buffer to
    /// the NIC (which re-reads the bytes to retransmit them) until its
    /// teardown's end, whatever the TX completion says.
    #[test]
    fn a_hand_over_with_kept_bytes_holds_its_buffer_until_its_event() {
        use toe_contract::teardown::Reason;
        let mut r = Rig::new();
        r.hand_over(7, 100);
        r.hand_over(8, 0);
        r.tx_complete(false);
        r.tx_complete(false);
        assert!(r.take().is_empty());
        assert_eq!(r.out(), 1, "the NIC holds the buffer with kept bytes");
        assert_eq!(r.q.handovers_held(), 1);
        r.event(7, Reason::Normal);
        let mut done = r.take();
        assert_eq!(done.len(), 1);
        let p = done
            .pop()
            .unwrap()
            .packet
            .expect("the buffer, with the event");
        assert_eq!(p.len, 64 + 100);
        assert_eq!(r.out(), 1, "the caller frees it");
        r.q.free(p);
        assert_eq!((r.out(), r.q.handovers_held()), (0, 0));
        r.event(8, Reason::Normal);
        assert!(r.take()[0].packet.is_none());
        assert_eq!(r.out(), 0);
    }

    #[test]
    fn a_panic_while_ringing_does_not_block_close() {
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        let r = std::thread::spawn(move || {
            let _ringing = g.enter().unwrap();
            panic!("register write panicked");
        })
        .join();
        assert!(r.is_err());
        gate.close();
        assert!(gate.is_closed());
    }
}
