//! AXI4 slave in front of [`HostMemory`]: serves the DUT's DMA reads and
//! writes with a configurable latency and bandwidth, and checks every
//! request against the rules the DUT must follow.
//!
//! Checks (each failure is a [`Violation`] naming channel, address, length):
//! * every byte read, and every byte written with its strobe set, lies in
//!   memory the host posted;
//! * `axsize` = 6 (64-byte beats), `axburst` = INCR, `axlen` <= 255;
//! * addresses 64-byte aligned, bursts do not cross a 4 KiB boundary;
//! * `wlast` exactly on the last beat of each write burst;
//! * address channels hold `valid` and their payload until taken.
//!
//! Reads are queued (up to `max_reads` outstanding) and answered in order
//! of issue, whatever their IDs (which respects AXI's per-ID ordering), after
//! `read_latency` cycles.  Data is read from memory when a beat is first
//! presented.  Writes wait for their address before taking data
//! (allowed by AXI); `bvalid` follows the last data beat after
//! `write_latency` cycles.
use super::{chance, rng, HostMemory, Violation};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::ops::Range;

/// Read or write direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Read,
    Write,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Read => "read",
            Channel::Write => "write",
        }
    }
}

/// Address channel (AW or AR) as driven by the master.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrPins {
    pub id: u32,
    pub addr: u64,
    pub len: u32,
    pub size: u32,
    pub burst: u32,
    pub valid: bool,
}

/// Pins the DUT drives as AXI4 master (`m_axi_*` outputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxiMasterPins {
    pub aw: AddrPins,
    /// Only meaningful when `wvalid`.
    pub wdata: [u8; 64],
    pub wstrb: u64,
    pub wlast: bool,
    pub wvalid: bool,
    pub bready: bool,
    pub ar: AddrPins,
    pub rready: bool,
}

impl Default for AxiMasterPins {
    fn default() -> Self {
        AxiMasterPins {
            aw: AddrPins::default(),
            wdata: [0; 64],
            wstrb: 0,
            wlast: false,
            wvalid: false,
            bready: false,
            ar: AddrPins::default(),
            rready: false,
        }
    }
}

/// Pins the slave drives (`m_axi_*` inputs of the DUT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxiSlavePins {
    pub awready: bool,
    pub wready: bool,
    pub bid: u32,
    pub bresp: u32,
    pub bvalid: bool,
    pub arready: bool,
    pub rid: u32,
    pub rdata: [u8; 64],
    pub rresp: u32,
    pub rlast: bool,
    pub rvalid: bool,
}

impl Default for AxiSlavePins {
    fn default() -> Self {
        AxiSlavePins {
            awready: false,
            wready: false,
            bid: 0,
            bresp: 0,
            bvalid: false,
            arready: false,
            rid: 0,
            rdata: [0; 64],
            rresp: 0,
            rlast: false,
            rvalid: false,
        }
    }
}

/// Timing of the host side.
#[derive(Clone, Debug, PartialEq)]
pub struct AxiSlaveConfig {
    /// Cycles from a read request's handshake to its first data beat
    /// (250 = 1 us at 250 MHz, a PCIe round trip).
    pub read_latency: u64,
    /// Cycles from a write burst's last data beat to its response.
    pub write_latency: u64,
    /// Read data beats per cycle, at most 1.0 (0.5 = one beat every 2 cycles).
    pub read_bandwidth: f64,
    /// Write data beats accepted per cycle, at most 1.0.
    pub write_bandwidth: f64,
    /// Read bursts outstanding before `arready` goes low.
    pub max_reads: usize,
    /// Write bursts accepted (address taken) before `awready` goes low.
    pub max_writes: usize,
    /// Probability that `arready`/`awready` are low in a cycle anyway.
    pub ready_stall: f64,
}

impl Default for AxiSlaveConfig {
    fn default() -> Self {
        AxiSlaveConfig {
            read_latency: 250,
            write_latency: 8,
            read_bandwidth: 1.0,
            write_bandwidth: 1.0,
            max_reads: 64,
            max_writes: 16,
            ready_stall: 0.0,
        }
    }
}

/// Traffic counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxiStats {
    pub read_bursts: u64,
    pub read_beats: u64,
    pub write_bursts: u64,
    pub write_beats: u64,
    /// Bytes written with their strobe set.
    pub write_bytes: u64,
    /// Most read bursts outstanding at once.
    pub max_reads_outstanding: usize,
    /// Bursts answered with SLVERR (injected errors).
    pub error_responses: u64,
}

struct ReadBurst {
    id: u32,
    addr: u64,
    beats: u32,
    next_beat: u32,
    due: u64,
    resp: u32,
}

struct WriteBurst {
    id: u32,
    addr: u64,
    len: u32,
    beats: u32,
    next_beat: u32,
    resp: u32,
}

struct Bresp {
    id: u32,
    resp: u32,
    due: u64,
}

/// AXI response codes.
pub const OKAY: u32 = 0;
pub const SLVERR: u32 = 2;

const MODEL: &str = "AXI4 slave (host memory)";

/// The slave.  See the module documentation.
pub struct AxiSlave {
    pub cfg: AxiSlaveConfig,
    rng: ChaCha8Rng,
    pins: AxiSlavePins,
    reads: VecDeque<ReadBurst>,
    writes: VecDeque<WriteBurst>,
    bresps: VecDeque<Bresp>,
    r_tokens: f64,
    w_tokens: f64,
    /// Address requests seen stalled last cycle (for stability checks).
    ar_stalled: Option<AddrPins>,
    aw_stalled: Option<AddrPins>,
    errors: Vec<(Channel, Range<u64>)>,
    pub stats: AxiStats,
    pub violations: Vec<Violation>,
    /// Print every request and read beat to stderr (env TOE_TRACE_AXI).
    pub trace: bool,
}

impl AxiSlave {
    pub fn new(cfg: AxiSlaveConfig, seed: u64) -> Self {
        assert!(
            cfg.read_bandwidth > 0.0 && cfg.read_bandwidth <= 1.0,
            "read_bandwidth must be in (0, 1]"
        );
        assert!(
            cfg.write_bandwidth > 0.0 && cfg.write_bandwidth <= 1.0,
            "write_bandwidth must be in (0, 1]"
        );
        assert!(cfg.max_reads > 0 && cfg.max_writes > 0);
        AxiSlave {
            cfg,
            rng: rng(seed, 3),
            pins: AxiSlavePins::default(),
            reads: VecDeque::with_capacity(256),
            writes: VecDeque::with_capacity(64),
            bresps: VecDeque::with_capacity(64),
            r_tokens: 1.0,
            w_tokens: 1.0,
            ar_stalled: None,
            aw_stalled: None,
            errors: Vec::new(),
            stats: AxiStats::default(),
            violations: Vec::new(),
            trace: std::env::var_os("TOE_TRACE_AXI").is_some(),
        }
    }

    /// Answers every burst of `ch` that overlaps `range` with SLVERR (write
    /// data of such bursts is dropped).
    pub fn inject_error(&mut self, ch: Channel, range: Range<u64>) {
        self.errors.push((ch, range));
    }
    /// Removes all injected errors.
    pub fn clear_errors(&mut self) {
        self.errors.clear();
    }

    /// Read bursts accepted and not fully answered.
    pub fn reads_outstanding(&self) -> usize {
        self.reads.len()
    }
    /// Write bursts accepted and not yet answered on B.
    pub fn writes_outstanding(&self) -> usize {
        self.writes.len() + self.bresps.len()
    }
    /// Nothing in flight.
    pub fn is_idle(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty() && self.bresps.is_empty()
    }

    fn violation(&mut self, cycle: u64, what: String) {
        self.violations.push(Violation {
            cycle,
            model: MODEL,
            what,
        });
    }

    /// Pins for this cycle, from state only.
    pub fn drive(&mut self, mem: &HostMemory, cycle: u64) -> &AxiSlavePins {
        let stall = self.cfg.ready_stall;
        self.pins.arready = self.reads.len() < self.cfg.max_reads && !chance(&mut self.rng, stall);
        self.pins.awready =
            self.writes.len() < self.cfg.max_writes && !chance(&mut self.rng, stall);
        self.pins.wready = !self.writes.is_empty() && self.w_tokens >= 1.0 - 1e-9;
        if !self.pins.rvalid && self.r_tokens >= 1.0 - 1e-9 {
            if let Some(r) = self.reads.front() {
                if r.due <= cycle {
                    let addr = r.addr + 64 * r.next_beat as u64;
                    mem.dma_read_line(addr, &mut self.pins.rdata);
                    self.pins.rid = r.id;
                    self.pins.rresp = r.resp;
                    self.pins.rlast = r.next_beat + 1 == r.beats;
                    self.pins.rvalid = true;
                    self.r_tokens -= 1.0;
                }
            }
        }
        if !self.pins.bvalid {
            if let Some(b) = self.bresps.front() {
                if b.due <= cycle {
                    self.pins.bid = b.id;
                    self.pins.bresp = b.resp;
                    self.pins.bvalid = true;
                }
            }
        }
        &self.pins
    }

    /// Checks a burst request; returns false when it breaks a rule.
    fn check_request(&mut self, ch: Channel, a: &AddrPins, mem: &HostMemory, cycle: u64) -> bool {
        let beats = a.len as u64 + 1;
        let bytes = beats * 64;
        let what = |s: String| {
            format!(
                "{} burst addr={:#x} len={} ({} beats, {} bytes) id={}: {s}",
                ch.name(),
                a.addr,
                a.len,
                beats,
                bytes,
                a.id
            )
        };
        let mut errs = Vec::new();
        if a.size != 6 {
            errs.push(format!("size={} (must be 6: 64-byte beats)", a.size));
        }
        if a.burst != 1 {
            errs.push(format!("burst type {} (must be 1: INCR)", a.burst));
        }
        if a.len > 255 {
            errs.push("len > 255".to_string());
        }
        if !a.addr.is_multiple_of(64) {
            errs.push("address not 64-byte aligned".to_string());
        }
        if (a.addr & 0xfff) + bytes > 0x1000 {
            errs.push(format!(
                "crosses the 4 KiB boundary at {:#x}",
                (a.addr | 0xfff) + 1
            ));
        }
        if ch == Channel::Read {
            if let Some(b) = mem.first_unposted(a.addr, bytes) {
                errs.push(format!("reads unposted host memory at {b:#x}"));
            }
        }
        let ok = errs.is_empty();
        for e in errs {
            let w = what(e);
            self.violation(cycle, w);
        }
        ok
    }

    fn injected(&self, ch: Channel, addr: u64, bytes: u64) -> bool {
        self.errors
            .iter()
            .any(|(c, r)| *c == ch && r.start < addr + bytes && addr < r.end)
    }

    fn check_stable(&mut self, ch: Channel, prev: Option<AddrPins>, now: &AddrPins, cycle: u64) {
        if let Some(p) = prev {
            if !now.valid {
                self.violation(
                    cycle,
                    format!(
                        "{} address valid dropped before it was taken (addr={:#x})",
                        ch.name(),
                        p.addr
                    ),
                );
            } else if p != *now {
                self.violation(
                    cycle,
                    format!(
                        "{} address request changed while waiting (addr={:#x} -> {:#x})",
                        ch.name(),
                        p.addr,
                        now.addr
                    ),
                );
            }
        }
    }

    /// Takes the master's pins as sampled before the edge and performs the
    /// handshakes of this edge.
    pub fn update(&mut self, m: &AxiMasterPins, mem: &mut HostMemory, cycle: u64) {
        let s = self.pins;
        // ---- AR
        let prev = self.ar_stalled.take();
        self.check_stable(Channel::Read, prev, &m.ar, cycle);
        if m.ar.valid {
            if s.arready {
                let a = m.ar;
                if self.trace {
                    eprintln!(
                        "cycle {cycle}: AR id {} addr {:#x} len {}",
                        a.id, a.addr, a.len
                    );
                }
                self.check_request(Channel::Read, &a, mem, cycle);
                let beats = (a.len & 0xff) + 1;
                let resp = if self.injected(Channel::Read, a.addr, beats as u64 * 64) {
                    SLVERR
                } else {
                    OKAY
                };
                self.reads.push_back(ReadBurst {
                    id: a.id,
                    addr: a.addr & !63,
                    beats,
                    next_beat: 0,
                    due: cycle + self.cfg.read_latency,
                    resp,
                });
                self.stats.read_bursts += 1;
                self.stats.max_reads_outstanding =
                    self.stats.max_reads_outstanding.max(self.reads.len());
            } else {
                self.ar_stalled = Some(m.ar);
            }
        }
        // ---- R
        if s.rvalid && m.rready {
            if self.trace {
                eprintln!(
                    "cycle {cycle}: R id {} rlast {} rresp {}",
                    s.rid, s.rlast as u8, s.rresp
                );
            }
            self.pins.rvalid = false;
            self.stats.read_beats += 1;
            let r = self.reads.front_mut().expect("rvalid without burst");
            r.next_beat += 1;
            if r.next_beat == r.beats {
                if r.resp != OKAY {
                    self.stats.error_responses += 1;
                }
                self.reads.pop_front();
            }
        }
        // ---- AW
        let prev = self.aw_stalled.take();
        self.check_stable(Channel::Write, prev, &m.aw, cycle);
        if m.aw.valid {
            if s.awready {
                let a = m.aw;
                if self.trace {
                    eprintln!(
                        "cycle {cycle}: AW id {} addr {:#x} len {}",
                        a.id, a.addr, a.len
                    );
                }
                self.check_request(Channel::Write, &a, mem, cycle);
                let beats = (a.len & 0xff) + 1;
                let resp = if self.injected(Channel::Write, a.addr, beats as u64 * 64) {
                    SLVERR
                } else {
                    OKAY
                };
                self.writes.push_back(WriteBurst {
                    id: a.id,
                    addr: a.addr & !63,
                    len: a.len,
                    beats,
                    next_beat: 0,
                    resp,
                });
                self.stats.write_bursts += 1;
            } else {
                self.aw_stalled = Some(m.aw);
            }
        }
        // ---- W (wready is only high with a burst queued)
        if m.wvalid && s.wready {
            self.w_tokens -= 1.0;
            self.stats.write_beats += 1;
            let w = self.writes.front_mut().expect("wready without burst");
            let (id, addr, len, resp) = (w.id, w.addr, w.len, w.resp);
            let beat = w.next_beat;
            let last = beat + 1 == w.beats;
            w.next_beat += 1;
            if m.wlast != last {
                let what = format!(
                    "write burst addr={addr:#x} len={len} id={id}: wlast={} on beat {beat} of {}",
                    m.wlast as u8,
                    len + 1
                );
                self.violation(cycle, what);
            }
            let line = addr + 64 * beat as u64;
            if resp == OKAY {
                self.stats.write_bytes += m.wstrb.count_ones() as u64;
                if let Some(bad) = mem.dma_write_line(line, &m.wdata, m.wstrb) {
                    let what = format!(
                        "write burst addr={addr:#x} len={len} ({} bytes) id={id}: beat {beat} writes unposted host memory at {bad:#x} (wstrb={:#018x})",
                        (len + 1) * 64,
                        m.wstrb
                    );
                    self.violation(cycle, what);
                }
            }
            if last {
                self.writes.pop_front();
                if resp != OKAY {
                    self.stats.error_responses += 1;
                }
                self.bresps.push_back(Bresp {
                    id,
                    resp,
                    due: cycle + self.cfg.write_latency,
                });
            }
        }
        // ---- B
        if s.bvalid && m.bready {
            self.pins.bvalid = false;
            self.bresps.pop_front();
        }
        self.r_tokens = (self.r_tokens + self.cfg.read_bandwidth).min(1.0);
        self.w_tokens = (self.w_tokens + self.cfg.write_bandwidth).min(1.0);
    }
}
