//! The harness: the Verilated design plus every bus-functional model,
//! clocked together.
//!
//! Each [`Harness::tick`] is one clock cycle:
//! 1. every model computes the pins it drives from its own state;
//! 2. the design's outputs are sampled: they are registers, set by the
//!    previous rising edge (the model's top puts a register slice on every
//!    channel, see [`crate::dut`]), so they already hold this cycle's values;
//!    each model works out which of its handshakes (valid && ready) happen
//!    at this edge and updates its state;
//! 3. the rising edge is evaluated with the new inputs ([`Dut::step`]: one
//!    model evaluation).
//!
//! Model inputs never depend combinationally on the design's outputs of
//! the same cycle; the design's outputs never depend combinationally on its
//! inputs.  Inside the wrapper, `toe`'s combinational paths (ready from
//! valid, ...) are fine: they end in the slices' registers.  Each channel's
//! slice adds one cycle of latency (a register read takes two more cycles
//! than on `toe` alone, a DMA read two more), not throughput.
//!
//! Environment (read by [`Harness::new`] unless `HarnessConfig::use_env`
//! is false):
//! * `TOE_FST=/path/w.fst`: write an FST waveform of the whole run;
//! * `TOE_PCAP=/path/f.pcap`: capture MAC RX and TX frames;
//! * `TOE_SEED=n`: override the seed (to replay a randomized run);
//! * `TOE_SIM_CHECK=1`: evaluate every cycle twice, clock low then the edge,
//!   and check that no output changes at clock low (see
//!   [`HarnessConfig::check_registered_outputs`]; slower).
//!
//! When a test harness thread has a name other than `main` (as under
//! `cargo test`), the file names get the thread name inserted before the
//! extension (`/tmp/w.my_test.fst`) so that parallel tests do not clobber
//! each other; the path used is printed on stderr.
use crate::bfm::{
    AxiMasterPins, AxiSlave, AxiSlaveConfig, AxilMaster, AxilResult, AxilSlavePins, Direction,
    HostMemory, MacSink, MacSource, PcapCapture, StreamBeat, Violation,
};
use crate::dut::{Dut, FstError};
use std::fmt;
use std::path::{Path, PathBuf};

/// Everything configurable about the simulated environment.
#[derive(Clone, Debug)]
pub struct HarnessConfig {
    /// Seed of every random choice of the models.
    pub seed: u64,
    /// Host memory timing (latency, bandwidth, outstanding requests).
    pub axi: AxiSlaveConfig,
    /// Probability of an idle cycle before each MAC RX beat within a frame.
    pub rx_beat_gap: f64,
    /// Probability of an idle cycle before each MAC RX frame.
    pub rx_frame_gap: f64,
    /// Probability that the MAC TX sink holds `tx_tready` low in a cycle.
    pub tx_backpressure: f64,
    /// Cycles of `rst` high at construction.
    pub reset_cycles: u64,
    /// Bound, in cycles, of each blocking register access.
    pub reg_timeout: u64,
    /// Panic (with every message) as soon as a model records a violation.
    /// When false, violations accumulate in the models for the test to check.
    pub panic_on_violation: bool,
    /// Write an FST waveform from cycle 0.
    pub fst: Option<PathBuf>,
    /// Use the tracing-capable model even without `fst`, so that
    /// [`Harness::enable_fst`] can start a waveform later (slower).
    pub traceable: bool,
    /// Capture MAC frames to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Directions captured to `pcap`.
    pub pcap_dirs: Direction,
    /// Evaluate every cycle twice (clock low with the new inputs, then the
    /// rising edge) instead of once, and panic if an output changes at the
    /// clock-low evaluation: a check of the one-evaluation scheme, which
    /// gives the same results.  Cycles with a waveform open are always
    /// evaluated (and checked) this way.
    pub check_registered_outputs: bool,
    /// Honour TOE_FST, TOE_PCAP, TOE_SEED and TOE_SIM_CHECK.
    pub use_env: bool,
}

impl Default for HarnessConfig {
    fn default() -> Self {
        HarnessConfig {
            seed: 1,
            axi: AxiSlaveConfig::default(),
            rx_beat_gap: 0.0,
            rx_frame_gap: 0.0,
            tx_backpressure: 0.0,
            reset_cycles: 8,
            reg_timeout: 1000,
            panic_on_violation: true,
            fst: None,
            traceable: false,
            pcap: None,
            pcap_dirs: Direction::Both,
            check_registered_outputs: false,
            use_env: true,
        }
    }
}

/// A bounded wait ended without its condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout {
    /// Cycles waited.
    pub waited: u64,
    /// Cycle at which the wait gave up.
    pub cycle: u64,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "condition not met after {} cycles (at cycle {})",
            self.waited, self.cycle
        )
    }
}
impl std::error::Error for Timeout {}

/// A register access that did not complete normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxilError {
    /// No response within `HarnessConfig::reg_timeout` cycles.
    Timeout {
        write: bool,
        addr: u32,
        cycles: u64,
        at: u64,
    },
    /// Response other than OKAY.
    Resp { write: bool, addr: u32, resp: u32 },
}

impl fmt::Display for AxilError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |w: bool| if w { "write" } else { "read" };
        match *self {
            AxilError::Timeout { write, addr, cycles, at } => write!(
                f,
                "AXI4-Lite register {} at {addr:#06x}: no response within {cycles} cycles (gave up at cycle {at})",
                kind(write)
            ),
            AxilError::Resp { write, addr, resp } => {
                write!(f, "AXI4-Lite register {} at {addr:#06x}: response {resp} (not OKAY)", kind(write))
            }
        }
    }
}
impl std::error::Error for AxilError {}

/// The design and its environment.  Fields are public so that tests can
/// queue frames (`mac_rx`), inspect what was sent (`mac_tx`), post host
/// memory (`mem`), tune or inspect the DMA slave (`axi`) and queue
/// non-blocking register accesses (`axil`).
pub struct Harness {
    pub dut: Dut,
    pub mem: HostMemory,
    pub axi: AxiSlave,
    pub mac_rx: MacSource,
    pub mac_tx: MacSink,
    pub axil: AxilMaster,
    cfg: HarnessConfig,
    pcap: Option<PcapCapture>,
    m_pins: AxiMasterPins,
    tx_beat: StreamBeat,
}

/// Inserts the current thread's name (if any and not `main`) before the
/// extension of `p`.
fn per_test_path(p: &Path) -> PathBuf {
    let t = std::thread::current();
    let Some(name) = t.name().filter(|n| *n != "main") else {
        return p.to_path_buf();
    };
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = match p.extension() {
        Some(e) => format!("{stem}.{clean}.{}", e.to_string_lossy()),
        None => format!("{stem}.{clean}"),
    };
    p.with_file_name(file)
}

impl Harness {
    /// Builds the environment (honouring the environment variables, see the
    /// module documentation) and applies reset.
    pub fn new(mut cfg: HarnessConfig) -> Harness {
        if cfg.use_env {
            if let Ok(s) = std::env::var("TOE_SEED") {
                cfg.seed = s
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("TOE_SEED={s:?} is not a number"));
            }
            if cfg.fst.is_none() {
                cfg.fst = std::env::var_os("TOE_FST").map(|p| per_test_path(Path::new(&p)));
            }
            if cfg.pcap.is_none() {
                cfg.pcap = std::env::var_os("TOE_PCAP").map(|p| per_test_path(Path::new(&p)));
            }
            if let Ok(v) = std::env::var("TOE_SIM_CHECK") {
                cfg.check_registered_outputs |= !matches!(v.trim(), "" | "0");
            }
        }
        let mut dut = if cfg.fst.is_some() || cfg.traceable {
            Dut::new_traceable().unwrap_or_else(|e| panic!("toe-sim: {e}"))
        } else {
            Dut::new()
        };
        if cfg.check_registered_outputs {
            dut.set_skip_identical(false);
        }
        if let Some(p) = &cfg.fst {
            dut.enable_fst(p).unwrap_or_else(|e| panic!("toe-sim: {e}"));
            eprintln!("toe-sim: writing FST waveform to {}", p.display());
        }
        let pcap = cfg.pcap.as_ref().map(|p| {
            eprintln!("toe-sim: capturing MAC frames to {}", p.display());
            PcapCapture::create(p, cfg.pcap_dirs)
                .unwrap_or_else(|e| panic!("toe-sim: pcap {}: {e}", p.display()))
        });
        let mut mac_rx = MacSource::new(cfg.seed);
        mac_rx.beat_gap = cfg.rx_beat_gap;
        mac_rx.frame_gap = cfg.rx_frame_gap;
        let mut mac_tx = MacSink::new(cfg.seed);
        mac_tx.backpressure = cfg.tx_backpressure;
        let mut h = Harness {
            dut,
            mem: HostMemory::new(),
            axi: AxiSlave::new(cfg.axi.clone(), cfg.seed),
            mac_rx,
            mac_tx,
            axil: AxilMaster::new(),
            pcap,
            m_pins: AxiMasterPins::default(),
            tx_beat: StreamBeat::default(),
            cfg,
        };
        let n = h.cfg.reset_cycles;
        h.reset(n);
        h
    }

    /// Harness with the default configuration.
    pub fn default_config() -> Harness {
        Harness::new(HarnessConfig::default())
    }

    /// The configuration in use (after environment overrides).
    pub fn config(&self) -> &HarnessConfig {
        &self.cfg
    }

    /// Holds `rst` high for `cycles` cycles (models keep running).
    pub fn reset(&mut self, cycles: u64) {
        self.dut.set_rst(true);
        for _ in 0..cycles {
            self.tick();
        }
        self.dut.set_rst(false);
    }

    /// Function-level reset, as a PCIe FLR does it: the design is held in
    /// reset for `cycles` cycles and the bus models start afresh, forgetting
    /// DMA bursts and frames in flight.  Queued MAC RX frames not yet
    /// started are kept; host memory is untouched.
    pub fn function_reset(&mut self, cycles: u64) {
        let seed = self.cfg.seed;
        let mut axi = AxiSlave::new(self.cfg.axi.clone(), seed);
        axi.violations = std::mem::take(&mut self.axi.violations);
        self.axi = axi;
        let mut sink = MacSink::new(seed);
        sink.backpressure = self.mac_tx.backpressure;
        sink.violations = std::mem::take(&mut self.mac_tx.violations);
        sink.frame_count = self.mac_tx.frame_count;
        sink.frames = std::mem::take(&mut self.mac_tx.frames);
        self.mac_tx = sink;
        self.mac_rx.abort_current();
        self.reset(cycles);
    }

    /// Cycles since the model was created (reset included).
    pub fn cycle(&self) -> u64 {
        self.dut.cycle()
    }

    /// Starts an FST waveform now (needs `traceable` or `fst` in the
    /// configuration).
    pub fn enable_fst(&mut self, path: impl AsRef<Path>) -> Result<(), FstError> {
        self.dut.enable_fst(path)
    }

    /// Flushes the waveform and pcap files.
    pub fn flush(&mut self) {
        if self.dut.is_tracing() {
            self.dut.flush_fst();
        }
        if let Some(p) = &mut self.pcap {
            p.flush();
        }
    }

    /// One clock cycle across the design and every model.
    pub fn tick(&mut self) {
        let cycle = self.dut.cycle();
        let d = &mut self.dut;
        // 1. Inputs from model state.  Data buses are only updated with a
        //    valid beat (otherwise they keep their old value, which lets the
        //    shim skip evaluations whose inputs did not change).
        let b = self.mac_rx.drive();
        d.set_rx_tvalid(b.valid);
        if b.valid {
            d.set_rx_tdata(&b.data);
            d.set_rx_tkeep(b.keep);
            d.set_rx_tlast(b.last);
            d.set_rx_tuser(b.user);
        }
        d.set_tx_tready(self.mac_tx.drive());
        let l = self.axil.drive();
        d.set_s_axil_awaddr(l.awaddr);
        d.set_s_axil_awvalid(l.awvalid);
        d.set_s_axil_wdata(l.wdata);
        d.set_s_axil_wstrb(l.wstrb);
        d.set_s_axil_wvalid(l.wvalid);
        d.set_s_axil_bready(l.bready);
        d.set_s_axil_araddr(l.araddr);
        d.set_s_axil_arvalid(l.arvalid);
        d.set_s_axil_rready(l.rready);
        let s = self.axi.drive(&self.mem, cycle);
        d.set_m_axi_awready(s.awready);
        d.set_m_axi_wready(s.wready);
        d.set_m_axi_bvalid(s.bvalid);
        d.set_m_axi_bid(s.bid);
        d.set_m_axi_bresp(s.bresp);
        d.set_m_axi_arready(s.arready);
        d.set_m_axi_rvalid(s.rvalid);
        if s.rvalid {
            d.set_m_axi_rid(s.rid);
            d.set_m_axi_rdata(&s.rdata);
            d.set_m_axi_rresp(s.rresp);
            d.set_m_axi_rlast(s.rlast);
        }

        // 2. Sample outputs (registers: as of the previous rising edge);
        //    handshakes of this edge; model updates.
        let rx_done = self.mac_rx.update(d.rx_tready(), cycle);
        let t = &mut self.tx_beat;
        t.valid = d.tx_tvalid();
        if t.valid {
            t.data = d.tx_tdata();
            t.keep = d.tx_tkeep();
            t.last = d.tx_tlast();
            t.user = d.tx_tuser();
        }
        let tx_done = self.mac_tx.update(&self.tx_beat, cycle);
        let sp = AxilSlavePins {
            awready: d.s_axil_awready(),
            wready: d.s_axil_wready(),
            bresp: d.s_axil_bresp(),
            bvalid: d.s_axil_bvalid(),
            arready: d.s_axil_arready(),
            rdata: d.s_axil_rdata(),
            rresp: d.s_axil_rresp(),
            rvalid: d.s_axil_rvalid(),
        };
        self.axil.update(&sp, cycle);
        let m = &mut self.m_pins;
        m.aw.valid = d.m_axi_awvalid();
        if m.aw.valid {
            m.aw.id = d.m_axi_awid();
            m.aw.addr = d.m_axi_awaddr();
            m.aw.len = d.m_axi_awlen();
            m.aw.size = d.m_axi_awsize();
            m.aw.burst = d.m_axi_awburst();
        }
        m.wvalid = d.m_axi_wvalid();
        if m.wvalid {
            m.wdata = d.m_axi_wdata();
            m.wstrb = d.m_axi_wstrb();
            m.wlast = d.m_axi_wlast();
        }
        m.bready = d.m_axi_bready();
        m.ar.valid = d.m_axi_arvalid();
        if m.ar.valid {
            m.ar.id = d.m_axi_arid();
            m.ar.addr = d.m_axi_araddr();
            m.ar.len = d.m_axi_arlen();
            m.ar.size = d.m_axi_arsize();
            m.ar.burst = d.m_axi_arburst();
        }
        m.rready = d.m_axi_rready();
        self.axi.update(&self.m_pins, &mut self.mem, cycle);

        // 3. Rising edge with the new inputs.
        self.dut.step();

        if let Some(p) = &mut self.pcap {
            if rx_done && p.dirs.has_rx() {
                p.write(cycle, &self.mac_rx.last_done().unwrap().data);
            }
            if tx_done && p.dirs.has_tx() {
                p.write(cycle, &self.mac_tx.last().unwrap().data);
            }
        }
        if self.cfg.panic_on_violation
            && !(self.axi.violations.is_empty()
                && self.mac_tx.violations.is_empty()
                && self.axil.violations.is_empty())
        {
            self.fail_on_violations();
        }
    }

    /// Every violation recorded so far by any model.
    pub fn violations(&self) -> Vec<Violation> {
        let mut v: Vec<Violation> = self
            .axi
            .violations
            .iter()
            .chain(&self.mac_tx.violations)
            .chain(&self.axil.violations)
            .cloned()
            .collect();
        v.sort_by_key(|x| x.cycle);
        v
    }

    #[cold]
    fn fail_on_violations(&mut self) -> ! {
        self.flush();
        let list: Vec<String> = self.violations().iter().map(|v| format!("  {v}")).collect();
        panic!(
            "toe-sim: protocol violation(s) at cycle {} (seed {}, replay with TOE_SEED={}):\n{}",
            self.cycle(),
            self.cfg.seed,
            self.cfg.seed,
            list.join("\n")
        );
    }

    /// Runs `n` cycles.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.tick();
        }
    }

    /// Ticks until `cond` holds (checked before each cycle) or `max_cycles`
    /// have passed.  Returns the cycles waited.
    pub fn run_until(
        &mut self,
        max_cycles: u64,
        mut cond: impl FnMut(&Harness) -> bool,
    ) -> Result<u64, Timeout> {
        let start = self.cycle();
        loop {
            let waited = self.cycle() - start;
            if cond(self) {
                return Ok(waited);
            }
            if waited >= max_cycles {
                return Err(Timeout {
                    waited,
                    cycle: self.cycle(),
                });
            }
            self.tick();
        }
    }

    fn wait_axil(&mut self, t: u64, write: bool, addr: u32) -> Result<AxilResult, AxilError> {
        let limit = self.cfg.reg_timeout;
        match self.run_until(limit, |h| h.axil.is_done(t)) {
            Ok(_) => Ok(self.axil.take(t).unwrap()),
            Err(e) => Err(AxilError::Timeout {
                write,
                addr,
                cycles: e.waited,
                at: e.cycle,
            }),
        }
    }

    /// Register write; waits (bounded) for the response.
    pub fn try_reg_write(&mut self, addr: u32, val: u32) -> Result<(), AxilError> {
        let t = self.axil.write(addr, val);
        match self.wait_axil(t, true, addr)? {
            AxilResult::Write { resp: 0, .. } => Ok(()),
            AxilResult::Write { resp, .. } => Err(AxilError::Resp {
                write: true,
                addr,
                resp,
            }),
            AxilResult::Read { .. } => unreachable!(),
        }
    }

    /// Register read; waits (bounded) for the data.
    pub fn try_reg_read(&mut self, addr: u32) -> Result<u32, AxilError> {
        let t = self.axil.read(addr);
        match self.wait_axil(t, false, addr)? {
            AxilResult::Read { data, resp: 0, .. } => Ok(data),
            AxilResult::Read { resp, .. } => Err(AxilError::Resp {
                write: false,
                addr,
                resp,
            }),
            AxilResult::Write { .. } => unreachable!(),
        }
    }

    /// Register write; panics on timeout or error response.
    pub fn reg_write(&mut self, addr: u32, val: u32) {
        if let Err(e) = self.try_reg_write(addr, val) {
            self.flush();
            panic!("toe-sim: {e}");
        }
    }

    /// Register read; panics on timeout or error response.
    pub fn reg_read(&mut self, addr: u32) -> u32 {
        self.try_reg_read(addr).unwrap_or_else(|e| {
            self.flush();
            panic!("toe-sim: {e}")
        })
    }
}
