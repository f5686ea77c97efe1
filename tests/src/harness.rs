//! Bus-functional models around the Verilated NIC: a host-memory AXI4 slave
//! with read latency and protocol checks, a MAC source and sink, and an
//! AXI4-Lite master.  Every cycle: inputs from model state, evaluate with
//! the clock low, sample handshakes, rising edge, update model state.
use crate::dut::{bytes_to_words, words_to_bytes, Dut, In, Out};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// Host memory: one flat window; only ranges the host posted may be touched.
pub struct HostMem {
    pub base: u64,
    bytes: Vec<u8>,
    next: u64,
    posted: Vec<(u64, u64)>,
    pub violations: Vec<String>,
}

impl HostMem {
    pub fn new(base: u64, size: usize) -> Self {
        HostMem {
            base,
            bytes: vec![0; size],
            next: base,
            posted: vec![],
            violations: vec![],
        }
    }
    /// Posts a zeroed region of `len` bytes aligned to `align`.
    pub fn alloc(&mut self, len: usize, align: u64) -> u64 {
        let a = (self.next + align - 1) & !(align - 1);
        self.next = a + len as u64;
        assert!(
            self.next <= self.base + self.bytes.len() as u64,
            "host memory model exhausted"
        );
        self.posted.push((a, a + len as u64));
        a
    }
    fn ok(&self, addr: u64, len: u64) -> bool {
        self.posted
            .iter()
            .any(|&(s, e)| addr >= s && addr + len <= e)
    }
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let o = (addr - self.base) as usize;
        self.bytes[o..o + data.len()].copy_from_slice(data);
    }
    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let o = (addr - self.base) as usize;
        self.bytes[o..o + len].to_vec()
    }
}

struct ReadBurst {
    id: u64,
    addr: u64,
    beats: u64,
    due: u64,
}

/// Configuration of the simulated environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// DMA read round trip in cycles (250 = 1 us at 250 MHz).
    pub read_latency: u64,
    /// Probability that the MAC sink is not ready in a cycle.
    pub tx_backpressure: f64,
    /// Probability of an idle cycle between source beats.
    pub rx_gaps: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            read_latency: 250,
            tx_backpressure: 0.0,
            rx_gaps: 0.0,
        }
    }
}

/// A frame sent to or received from the MAC.
#[derive(Clone, Debug)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub error: bool,
    pub cycle: u64,
}

pub struct Harness {
    pub dut: Dut,
    pub cfg: Config,
    pub mem: HostMem,
    pub cycle: u64,
    rng: StdRng,
    // MAC source
    pub rx_queue: VecDeque<Frame>,
    rx_off: usize,
    rx_gap: bool,
    pub rx_sent: u64,
    // MAC sink
    pub tx_frames: Vec<Frame>,
    tx_cur: Vec<u8>,
    tx_ready: bool,
    // AXI slave
    reads: VecDeque<ReadBurst>,
    writes: VecDeque<(u64, u64)>,
    bq: VecDeque<u64>,
    pub dma_reads: u64,
    pub dma_writes: u64,
    /// Print every DMA request (env TOE_TRACE_AXI=1).
    pub trace_axi: bool,
    // AXI-Lite
    lite_w: Option<(u32, u32, bool, bool)>,
    lite_r: Option<(u32, bool)>,
    lite_bresp: Option<u32>,
    lite_rdata: Option<u32>,
}

impl Harness {
    pub fn new(cfg: Config) -> Self {
        let mut h = Harness {
            dut: Dut::new(),
            rng: StdRng::seed_from_u64(cfg.seed),
            cfg,
            mem: HostMem::new(0x1_0000_0000, 96 << 20),
            cycle: 0,
            rx_queue: VecDeque::new(),
            rx_off: 0,
            rx_gap: false,
            rx_sent: 0,
            tx_frames: vec![],
            tx_cur: vec![],
            tx_ready: true,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            bq: VecDeque::new(),
            dma_reads: 0,
            dma_writes: 0,
            trace_axi: std::env::var("TOE_TRACE_AXI").is_ok(),
            lite_w: None,
            lite_r: None,
            lite_bresp: None,
            lite_rdata: None,
        };
        if let Ok(p) = std::env::var("TOE_FST") {
            h.dut.trace(&p);
        }
        h.dut.set(In::Rst, 1);
        for _ in 0..4 {
            h.tick();
        }
        h.dut.set(In::Rst, 0);
        h.tick();
        h
    }

    /// Queues a frame on the MAC RX side.
    pub fn send(&mut self, bytes: Vec<u8>, error: bool) {
        self.rx_queue.push_back(Frame {
            bytes,
            error,
            cycle: 0,
        });
    }

    pub fn tick(&mut self) {
        let d = &mut self.dut;
        // ---------------------------------------------------- drive inputs
        let src_valid = !self.rx_queue.is_empty() && !self.rx_gap;
        if src_valid {
            let f = &self.rx_queue[0];
            let n = (f.bytes.len() - self.rx_off).min(64);
            let mut b = [0u8; 64];
            b[..n].copy_from_slice(&f.bytes[self.rx_off..self.rx_off + n]);
            d.set_words(In::RxTdata, &bytes_to_words(&b));
            d.set(
                In::RxTkeep,
                if n == 64 { u64::MAX } else { (1u64 << n) - 1 },
            );
            let last = self.rx_off + n >= f.bytes.len();
            d.set(In::RxTlast, last as u64);
            d.set(In::RxTuser, (last && f.error) as u64);
        }
        d.set(In::RxTvalid, src_valid as u64);
        d.set(In::TxTready, self.tx_ready as u64);
        // AXI read data
        let r_valid = self.reads.front().map_or(false, |r| r.due <= self.cycle);
        if r_valid {
            let r = &self.reads[0];
            let mut b = [0u8; 64];
            let o = (r.addr - self.mem.base) as usize;
            if o + 64 <= self.mem.bytes.len() {
                b.copy_from_slice(&self.mem.bytes[o..o + 64]);
            }
            d.set_words(In::RData, &bytes_to_words(&b));
            d.set(In::RId, r.id);
            d.set(In::RLast, (r.beats == 1) as u64);
            d.set(In::RResp, 0);
        }
        d.set(In::RValid, r_valid as u64);
        d.set(In::ArReady, 1);
        d.set(In::AwReady, 1);
        d.set(In::WReady, 1);
        d.set(In::BValid, !self.bq.is_empty() as u64);
        d.set(In::BResp, 0);
        d.set(In::BId, 0);
        // AXI-Lite
        if let Some((a, v, aw, w)) = self.lite_w {
            d.set(In::AwAddrL, a as u64);
            d.set(In::WDataL, v as u64);
            d.set(In::WStrbL, 0xF);
            d.set(In::AwValidL, aw as u64);
            d.set(In::WValidL, w as u64);
        } else {
            d.set(In::AwValidL, 0);
            d.set(In::WValidL, 0);
        }
        d.set(In::BReadyL, 1);
        if let Some((a, v)) = self.lite_r {
            d.set(In::ArAddrL, a as u64);
            d.set(In::ArValidL, v as u64);
        } else {
            d.set(In::ArValidL, 0);
        }
        d.set(In::RReadyL, 1);
        // ---------------------------------------------------- sample
        d.set(In::Clock, 0);
        d.eval();
        let rx_hs = src_valid && d.bit(Out::RxTready);
        let tx_hs = d.bit(Out::TxTvalid) && self.tx_ready;
        let tx_beat = if tx_hs {
            Some((
                words_to_bytes(&d.get_words(Out::TxTdata)),
                d.get(Out::TxTkeep),
                d.bit(Out::TxTlast),
            ))
        } else {
            None
        };
        let ar = if d.bit(Out::ArValid) {
            Some((
                d.get(Out::ArId),
                d.get(Out::ArAddr),
                d.get(Out::ArLen),
                d.get(Out::ArSize),
                d.get(Out::ArBurst),
            ))
        } else {
            None
        };
        let r_hs = r_valid && d.bit(Out::RReady);
        let aw = if d.bit(Out::AwValid) {
            Some((
                d.get(Out::AwAddr),
                d.get(Out::AwLen),
                d.get(Out::AwSize),
                d.get(Out::AwBurst),
            ))
        } else {
            None
        };
        let w = if d.bit(Out::WValid) {
            Some((
                words_to_bytes(&d.get_words(Out::WData)),
                d.get(Out::WStrb),
                d.bit(Out::WLast),
            ))
        } else {
            None
        };
        let b_hs = !self.bq.is_empty() && d.bit(Out::BReady);
        let lite_aw_hs = self.lite_w.map_or(false, |(_, _, aw, _)| aw) && d.bit(Out::AwReadyL);
        let lite_w_hs = self.lite_w.map_or(false, |(_, _, _, w)| w) && d.bit(Out::WReadyL);
        let lite_b = if d.bit(Out::BValidL) {
            Some(d.get(Out::BRespL) as u32)
        } else {
            None
        };
        let lite_ar_hs = self.lite_r.map_or(false, |(_, v)| v) && d.bit(Out::ArReadyL);
        let lite_r = if d.bit(Out::RValidL) {
            Some(d.get(Out::RDataL) as u32)
        } else {
            None
        };
        d.set(In::Clock, 1);
        d.eval();
        // ---------------------------------------------------- update models
        if rx_hs {
            let f = &self.rx_queue[0];
            self.rx_off += 64;
            if self.rx_off >= f.bytes.len() {
                let mut f = self.rx_queue.pop_front().unwrap();
                f.cycle = self.cycle;
                self.rx_off = 0;
                self.rx_sent += 1;
            }
        }
        self.rx_gap = self.cfg.rx_gaps > 0.0 && self.rng.gen_bool(self.cfg.rx_gaps);
        if let Some((b, keep, last)) = tx_beat {
            let n = keep.trailing_ones() as usize;
            assert!(
                keep == u64::MAX || keep == (1u64 << n) - 1,
                "tkeep not contiguous: {keep:#x}"
            );
            assert!(last || n == 64, "partial tkeep on a non-last beat");
            self.tx_cur.extend_from_slice(&b[..n]);
            if last {
                self.tx_frames.push(Frame {
                    bytes: std::mem::take(&mut self.tx_cur),
                    error: false,
                    cycle: self.cycle,
                });
            }
        }
        self.tx_ready =
            !(self.cfg.tx_backpressure > 0.0 && self.rng.gen_bool(self.cfg.tx_backpressure));
        if let Some((id, addr, len, size, burst)) = ar {
            if self.trace_axi {
                println!("cycle {}: AR id {id} addr {addr:#x} len {len}", self.cycle);
            }
            self.check_burst("read", addr, len, size, burst);
            self.reads.push_back(ReadBurst {
                id,
                addr,
                beats: len + 1,
                due: self.cycle + self.cfg.read_latency,
            });
        }
        if r_hs {
            let r = &mut self.reads[0];
            r.addr += 64;
            r.beats -= 1;
            self.dma_reads += 1;
            if r.beats == 0 {
                self.reads.pop_front();
            }
        }
        if let Some((addr, len, size, burst)) = aw {
            if self.trace_axi {
                println!("cycle {}: AW addr {addr:#x} len {len}", self.cycle);
            }
            self.check_burst("write", addr, len, size, burst);
            self.writes.push_back((addr, len + 1));
        }
        if let Some((data, strb, last)) = w {
            match self.writes.front_mut() {
                None => self
                    .mem
                    .violations
                    .push(format!("cycle {}: W beat before its AW", self.cycle)),
                Some((addr, left)) => {
                    let a = *addr;
                    for i in 0..64 {
                        if strb >> i & 1 == 1 {
                            if !self.mem.ok(a + i, 1) {
                                self.mem.violations.push(format!(
                                    "DMA write outside posted memory at {:#x}",
                                    a + i
                                ));
                                break;
                            }
                            let o = (a + i - self.mem.base) as usize;
                            self.mem.bytes[o] = data[i as usize];
                        }
                    }
                    *addr += 64;
                    *left -= 1;
                    self.dma_writes += 1;
                    if (*left == 0) != last {
                        self.mem
                            .violations
                            .push(format!("wlast mismatch at {a:#x}"));
                    }
                    if *left == 0 {
                        self.writes.pop_front();
                        self.bq.push_back(self.cycle + 4);
                    }
                }
            }
        }
        if b_hs {
            self.bq.pop_front();
        }
        if let Some((a, v, aw, wv)) = self.lite_w {
            let (aw, wv) = (aw && !lite_aw_hs, wv && !lite_w_hs);
            self.lite_w = Some((a, v, aw, wv));
        }
        if let Some(b) = lite_b {
            self.lite_bresp = Some(b);
        }
        if lite_ar_hs {
            self.lite_r = self.lite_r.map(|(a, _)| (a, false));
        }
        if let Some(r) = lite_r {
            self.lite_rdata = Some(r);
        }
        self.cycle += 1;
        if let Some(v) = self.mem.violations.first() {
            panic!("DMA protocol violation: {v}");
        }
    }

    fn check_burst(&mut self, dir: &str, addr: u64, len: u64, size: u64, burst: u64) {
        let bytes = (len + 1) * 64;
        if size != 6 || burst != 1 || addr % 64 != 0 {
            self.mem.violations.push(format!(
                "{dir} burst at {addr:#x}: size {size}, burst {burst} (need 64-byte INCR, aligned)"
            ));
        }
        if addr / 4096 != (addr + bytes - 1) / 4096 {
            self.mem.violations.push(format!(
                "{dir} burst at {addr:#x} of {bytes} bytes crosses a 4 KiB boundary"
            ));
        }
        if dir == "read" && !self.mem.ok(addr, bytes) {
            self.mem
                .violations
                .push(format!("DMA read outside posted memory: {addr:#x}+{bytes}"));
        }
    }

    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.tick();
        }
    }

    /// Runs until `cond` holds, at most `max` cycles.
    pub fn run_until(
        &mut self,
        max: u64,
        mut cond: impl FnMut(&mut Self) -> bool,
    ) -> Result<u64, String> {
        let start = self.cycle;
        while !cond(self) {
            if self.cycle - start >= max {
                return Err(format!("timed out after {max} cycles"));
            }
            self.tick();
        }
        Ok(self.cycle - start)
    }

    pub fn reg_write(&mut self, addr: u32, val: u32) {
        self.lite_bresp = None;
        self.lite_w = Some((addr, val, true, true));
        self.run_until(100, |h| h.lite_bresp.is_some())
            .expect("AXI-Lite write timed out");
        self.lite_w = None;
        assert_eq!(
            self.lite_bresp,
            Some(0),
            "register write {addr:#x} answered with an error"
        );
    }

    pub fn reg_read(&mut self, addr: u32) -> u32 {
        self.lite_rdata = None;
        self.lite_r = Some((addr, true));
        self.run_until(100, |h| h.lite_rdata.is_some())
            .expect("AXI-Lite read timed out");
        self.lite_r = None;
        self.lite_rdata.unwrap()
    }

    pub fn counter(&mut self, c: toe_contract::regs::Counter) -> u64 {
        let a = toe_contract::regs::counter(c);
        let lo = self.reg_read(a) as u64;
        lo | (self.reg_read(a + 4) as u64) << 32
    }
}
