//! Safe wrapper over the Verilated model of the design: the only `unsafe`
//! code of the crate.
//!
//! The model's top is `toe_sim_top` (vsrc/toe_sim_top.v), a simulation-only
//! wrapper with the same ports as the design `toe`, which it contains
//! unchanged: it puts a full-throughput register slice (skid buffer) on
//! every interface channel (MAC RX and TX, AXI4-Lite AW/W/B/AR/R, AXI4
//! AW/W/B/AR/R), as a vendor shell or an AXI interconnect would.  Every
//! output is therefore a register: none depends combinationally on an
//! input.  Each channel crossing costs one cycle of latency, never
//! throughput.
//!
//! The C++ shim (csrc/shim.cpp) exchanges all ports at once: [`Inputs`] and
//! [`Outputs`] mirror its `ToeIn`/`ToeOut` structs (csrc/ports.h), field by
//! field, all `u32` words.  Setters write the Rust-side input struct; the
//! next [`Dut::eval`]/[`Dut::posedge`] hands it to the model in one call and
//! refreshes the output struct, which getters read.
//!
//! # Clocking
//! Outputs after a rising edge hold for the whole next cycle, whatever the
//! inputs do.  A testbench cycle is therefore: sample the outputs (those of
//! the previous rising edge), decide the handshakes of this edge, set the
//! inputs, then [`Dut::step`]: one rising edge with those inputs.
//!
//! [`Dut::step`] is one model evaluation (the rising edge with the new
//! inputs; Verilator settles what depends on the inputs, then the clocked
//! logic) while no waveform is being written.  With a waveform it is two,
//! clock low with the new inputs and then the rising edge, so that the
//! waveform shows the clock and the inputs changing at the falling edge.
//! Both give the same outputs (tests/harness.rs checks it).
//!
//! [`Dut::eval`] (clock low, current inputs) and [`Dut::posedge`] (rising
//! edge) are the two evaluations one at a time, for tests of the model.
//! The period is [`CLOCK_PERIOD_PS`] (250 MHz).
use std::ffi::{c_void, CString};
use std::fmt;
use std::path::Path;
use std::ptr::NonNull;

/// Clock period of the simulated design, in picoseconds (250 MHz).
pub const CLOCK_PERIOD_PS: u64 = 4000;

/// All inputs of `toe` (mirror of `ToeIn` in csrc/ports.h).  Ports wider
/// than 32 bits are little-endian arrays of 32-bit words; byte `i` of a
/// 512-bit data port is byte `i` of the word array in little-endian order.
#[repr(C)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    pub clock: u32,
    pub rst: u32,
    pub rx_tdata: [u32; 16],
    pub rx_tkeep: [u32; 2],
    pub rx_tvalid: u32,
    pub rx_tlast: u32,
    pub rx_tuser: u32,
    pub tx_tready: u32,
    pub s_axil_awaddr: u32,
    pub s_axil_awvalid: u32,
    pub s_axil_wdata: u32,
    pub s_axil_wstrb: u32,
    pub s_axil_wvalid: u32,
    pub s_axil_bready: u32,
    pub s_axil_araddr: u32,
    pub s_axil_arvalid: u32,
    pub s_axil_rready: u32,
    pub m_axi_awready: u32,
    pub m_axi_wready: u32,
    pub m_axi_bid: u32,
    pub m_axi_bresp: u32,
    pub m_axi_bvalid: u32,
    pub m_axi_arready: u32,
    pub m_axi_rid: u32,
    pub m_axi_rdata: [u32; 16],
    pub m_axi_rresp: u32,
    pub m_axi_rlast: u32,
    pub m_axi_rvalid: u32,
}

/// All outputs of `toe` (mirror of `ToeOut` in csrc/ports.h).
#[repr(C)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    pub rx_tready: u32,
    pub tx_tdata: [u32; 16],
    pub tx_tkeep: [u32; 2],
    pub tx_tvalid: u32,
    pub tx_tlast: u32,
    pub tx_tuser: u32,
    pub s_axil_awready: u32,
    pub s_axil_wready: u32,
    pub s_axil_bresp: u32,
    pub s_axil_bvalid: u32,
    pub s_axil_arready: u32,
    pub s_axil_rdata: u32,
    pub s_axil_rresp: u32,
    pub s_axil_rvalid: u32,
    pub m_axi_awid: u32,
    pub m_axi_awaddr: [u32; 2],
    pub m_axi_awlen: u32,
    pub m_axi_awsize: u32,
    pub m_axi_awburst: u32,
    pub m_axi_awvalid: u32,
    pub m_axi_wdata: [u32; 16],
    pub m_axi_wstrb: [u32; 2],
    pub m_axi_wlast: u32,
    pub m_axi_wvalid: u32,
    pub m_axi_bready: u32,
    pub m_axi_arid: u32,
    pub m_axi_araddr: [u32; 2],
    pub m_axi_arlen: u32,
    pub m_axi_arsize: u32,
    pub m_axi_arburst: u32,
    pub m_axi_arvalid: u32,
    pub m_axi_rready: u32,
}

// ------------------------------------------------------------------ FFI

/// Entry points of one Verilated library (the shim is compiled once per
/// library with its own symbol prefix).
struct Api {
    name: &'static str,
    abi: unsafe extern "C" fn() -> u32,
    new: unsafe extern "C" fn() -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    eval: unsafe extern "C" fn(*mut c_void, *const Inputs, *mut Outputs, u64),
    cycle: unsafe extern "C" fn(*mut c_void, *const Inputs, *mut Outputs, u64, u64) -> i32,
    trace_open: unsafe extern "C" fn(*mut c_void, *const std::os::raw::c_char) -> i32,
    trace_flush: unsafe extern "C" fn(*mut c_void),
    trace_close: unsafe extern "C" fn(*mut c_void),
    set_skip: unsafe extern "C" fn(*mut c_void, i32) -> i32,
    skipped: unsafe extern "C" fn(*mut c_void) -> u64,
    ico_skipped: unsafe extern "C" fn(*mut c_void) -> u64,
}

macro_rules! api {
    ($name:literal, $static:ident, $abi:ident, $new:ident, $free:ident, $eval:ident,
     $cycle:ident, $open:ident, $flush:ident, $close:ident, $skip:ident, $skipped:ident,
     $ico_skipped:ident) => {
        extern "C" {
            fn $abi() -> u32;
            fn $new() -> *mut c_void;
            fn $free(s: *mut c_void);
            fn $eval(s: *mut c_void, i: *const Inputs, o: *mut Outputs, time: u64);
            fn $cycle(
                s: *mut c_void,
                i: *const Inputs,
                o: *mut Outputs,
                low: u64,
                high: u64,
            ) -> i32;
            fn $open(s: *mut c_void, path: *const std::os::raw::c_char) -> i32;
            fn $flush(s: *mut c_void);
            fn $close(s: *mut c_void);
            fn $skip(s: *mut c_void, on: i32) -> i32;
            fn $skipped(s: *mut c_void) -> u64;
            fn $ico_skipped(s: *mut c_void) -> u64;
        }
        static $static: Api = Api {
            name: $name,
            abi: $abi,
            new: $new,
            free: $free,
            eval: $eval,
            cycle: $cycle,
            trace_open: $open,
            trace_flush: $flush,
            trace_close: $close,
            set_skip: $skip,
            skipped: $skipped,
            ico_skipped: $ico_skipped,
        };
    };
}

api!(
    "toe_fast",
    FAST,
    toe_fast_abi,
    toe_fast_new,
    toe_fast_free,
    toe_fast_eval,
    toe_fast_cycle,
    toe_fast_trace_open,
    toe_fast_trace_flush,
    toe_fast_trace_close,
    toe_fast_set_skip,
    toe_fast_skipped,
    toe_fast_ico_skipped
);
#[cfg(feature = "fst")]
api!(
    "toe_fst",
    FST,
    toe_fst_abi,
    toe_fst_new,
    toe_fst_free,
    toe_fst_eval,
    toe_fst_cycle,
    toe_fst_trace_open,
    toe_fst_trace_flush,
    toe_fst_trace_close,
    toe_fst_set_skip,
    toe_fst_skipped,
    toe_fst_ico_skipped
);

extern "C" {
    fn toe_fast_selftest_shiftl(iters: u32, seed: u64) -> u64;
}

/// Compares the model's faster wide-shift helper (csrc/vlfast.h) with
/// Verilator's own on `iters` random operands; returns the number of
/// differing results (0 expected).
pub fn shift_helper_mismatches(iters: u32, seed: u64) -> u64 {
    // SAFETY: a pure function of its arguments.
    unsafe { toe_fast_selftest_shiftl(iters, seed) }
}

/// Why a waveform could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FstError {
    /// The crate was built without the `fst` feature.
    NotBuilt,
    /// This model was created without tracing support (use
    /// [`Dut::new_traceable`] or `HarnessConfig::traceable`).
    NotTraceable,
    /// A waveform is already being written.
    AlreadyOpen,
    /// Verilator could not open the file.
    Open(String),
}

impl fmt::Display for FstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FstError::NotBuilt => write!(f, "toe-sim was built without the `fst` feature"),
            FstError::NotTraceable => write!(
                f,
                "this model has no tracing support: create it with Dut::new_traceable() \
                 or HarnessConfig {{ traceable: true, .. }}"
            ),
            FstError::AlreadyOpen => write!(f, "a waveform is already open"),
            FstError::Open(p) => write!(f, "cannot open waveform file {p}"),
        }
    }
}
impl std::error::Error for FstError {}

/// The Verilated design.  Not `Send`: Verilator models stay on the thread
/// that created them.
pub struct Dut {
    sim: NonNull<c_void>,
    api: &'static Api,
    inp: Inputs,
    out: Outputs,
    cycle: u64,
    tracing: bool,
}

impl Dut {
    /// The fast model (no tracing support).
    pub fn new() -> Dut {
        Dut::create(&FAST)
    }

    /// A model that can write an FST waveform ([`Dut::enable_fst`]); it
    /// runs somewhat slower than [`Dut::new`] even while no waveform is open.
    pub fn new_traceable() -> Result<Dut, FstError> {
        #[cfg(feature = "fst")]
        {
            Ok(Dut::create(&FST))
        }
        #[cfg(not(feature = "fst"))]
        {
            Err(FstError::NotBuilt)
        }
    }

    fn create(api: &'static Api) -> Dut {
        let want =
            ((std::mem::size_of::<Inputs>() as u32) << 16) | std::mem::size_of::<Outputs>() as u32;
        // SAFETY: argument-less query of the linked shim.
        let have = unsafe { (api.abi)() };
        assert_eq!(
            have, want,
            "{}: port structs of csrc/ports.h and src/dut.rs differ",
            api.name
        );
        // SAFETY: returns a fresh model owned by this Dut, freed in Drop.
        let p = unsafe { (api.new)() };
        let sim = NonNull::new(p).expect("toe_new returned null");
        Dut {
            sim,
            api,
            inp: Inputs::default(),
            out: Outputs::default(),
            cycle: 0,
            tracing: false,
        }
    }

    /// Whether this model can write waveforms.
    pub fn is_traceable(&self) -> bool {
        !std::ptr::eq(self.api, &FAST)
    }

    /// Starts writing an FST waveform of the whole design to `path` (from
    /// the next evaluation on).  One waveform per model.
    pub fn enable_fst(&mut self, path: impl AsRef<Path>) -> Result<(), FstError> {
        if !self.is_traceable() {
            return Err(FstError::NotTraceable);
        }
        if self.tracing {
            return Err(FstError::AlreadyOpen);
        }
        let p = path.as_ref().to_string_lossy().into_owned();
        let c = CString::new(p.clone()).map_err(|_| FstError::Open(p.clone()))?;
        // SAFETY: the model is alive; the string outlives the call.
        let r = unsafe { (self.api.trace_open)(self.sim.as_ptr(), c.as_ptr()) };
        if r != 0 {
            return Err(FstError::Open(p));
        }
        self.tracing = true;
        Ok(())
    }

    /// Whether a waveform is being written.
    pub fn is_tracing(&self) -> bool {
        self.tracing
    }

    /// Flushes the waveform file (it is also closed on drop).
    pub fn flush_fst(&mut self) {
        // SAFETY: the model is alive.
        unsafe { (self.api.trace_flush)(self.sim.as_ptr()) }
    }

    /// Closes the waveform file.
    pub fn close_fst(&mut self) {
        // SAFETY: the model is alive.
        unsafe { (self.api.trace_close)(self.sim.as_ptr()) }
    }

    /// Enables or disables skipping of clock-low evaluations (in
    /// [`Dut::step`], and in [`Dut::eval`] when the inputs did not change
    /// since the rising edge), and of the input-combinational region on
    /// rising edges whose inputs did not change since the previous
    /// evaluation (both on by default where the Verilator version allows
    /// it).  Off, every evaluation is a real one: [`Dut::step`] is then two.
    /// Returns whether skipping clock-low evaluations is possible.
    pub fn set_skip_identical(&mut self, on: bool) -> bool {
        // SAFETY: the model is alive.
        unsafe { (self.api.set_skip)(self.sim.as_ptr(), on as i32) != 0 }
    }

    /// Number of clock-low evaluations skipped so far (one per
    /// [`Dut::step`] on the one-evaluation path).
    pub fn skipped_evals(&self) -> u64 {
        // SAFETY: the model is alive.
        unsafe { (self.api.skipped)(self.sim.as_ptr()) }
    }

    /// Number of rising edges evaluated without Verilator's
    /// input-combinational region (inputs unchanged since the previous
    /// evaluation; see csrc/shim.cpp).
    pub fn skipped_ico_regions(&self) -> u64 {
        // SAFETY: the model is alive.
        unsafe { (self.api.ico_skipped)(self.sim.as_ptr()) }
    }

    fn eval_at(&mut self, time: u64) {
        // SAFETY: the model is alive; both structs match the shim's layout
        // (checked in `create`) and are valid for the call.
        unsafe { (self.api.eval)(self.sim.as_ptr(), &self.inp, &mut self.out, time) }
    }

    /// Evaluates with the clock low and the current inputs.  Outputs then
    /// hold the values the rising edge of this cycle will see.
    pub fn eval(&mut self) {
        self.inp.clock = 0;
        self.eval_at(self.cycle * CLOCK_PERIOD_PS);
    }

    /// Raises the clock and evaluates: the rising edge ending this cycle.
    /// Increments the cycle counter.
    pub fn posedge(&mut self) {
        self.inp.clock = 1;
        self.eval_at(self.cycle * CLOCK_PERIOD_PS + CLOCK_PERIOD_PS / 2);
        self.cycle += 1;
    }

    /// One full clock cycle with the current inputs, ending with its
    /// rising edge (one evaluation, or two while a waveform is written or
    /// skipping is off; see the module documentation).  Same outputs as
    /// [`Dut::eval`] then [`Dut::posedge`].  Increments the cycle counter.
    ///
    /// When it takes two evaluations, it also checks the property the
    /// one-evaluation path relies on: the clock-low evaluation with the new
    /// inputs left every output as the previous rising edge set it.  Panics
    /// otherwise (an output depending combinationally on an input).
    pub fn step(&mut self) {
        let low = self.cycle * CLOCK_PERIOD_PS;
        // SAFETY: as in `eval_at`; `out` holds the previous outputs, as the
        // shim requires.
        let changed = unsafe {
            (self.api.cycle)(
                self.sim.as_ptr(),
                &self.inp,
                &mut self.out,
                low,
                low + CLOCK_PERIOD_PS / 2,
            )
        };
        self.inp.clock = 1;
        self.cycle += 1;
        assert!(
            changed == 0,
            "toe-sim: an output of the model changed at the clock-low evaluation of cycle {} \
             (combinational path from an input to an output): sampling outputs before \
             the evaluation would be wrong",
            self.cycle - 1
        );
    }

    /// Rising edges so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// All inputs as they will be applied at the next evaluation.
    pub fn inputs(&self) -> &Inputs {
        &self.inp
    }
    /// Mutable access to all inputs.
    pub fn inputs_mut(&mut self) -> &mut Inputs {
        &mut self.inp
    }
    /// All outputs, as of the last evaluation.
    pub fn outputs(&self) -> &Outputs {
        &self.out
    }
}

impl Default for Dut {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Dut {
    fn drop(&mut self) {
        // SAFETY: the model was created by this api and is freed once.
        unsafe { (self.api.free)(self.sim.as_ptr()) }
    }
}

// ------------------------------------------------------------------ typed accessors

/// 64 bytes (byte 0 first on the wire / lowest address) to 16 words.
#[inline]
pub fn bytes_to_words(b: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    for (i, c) in b.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// 16 words to 64 bytes.
#[inline]
pub fn words_to_bytes(w: &[u32; 16]) -> [u8; 64] {
    let mut b = [0u8; 64];
    for (i, x) in w.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    b
}

#[inline]
fn split(v: u64) -> [u32; 2] {
    [v as u32, (v >> 32) as u32]
}
#[inline]
fn join(w: [u32; 2]) -> u64 {
    w[0] as u64 | (w[1] as u64) << 32
}

macro_rules! set_bit {
    ($($name:ident => $field:ident),* $(,)?) => {$(
        #[doc = concat!("Drives `", stringify!($field), "`.")]
        #[inline]
        pub fn $name(&mut self, v: bool) { self.inp.$field = v as u32; }
    )*};
}
macro_rules! set_u32 {
    ($($name:ident => $field:ident : $bits:literal),* $(,)?) => {$(
        #[doc = concat!("Drives `", stringify!($field), "` (", stringify!($bits), " bits; higher bits are dropped).")]
        #[inline]
        pub fn $name(&mut self, v: u32) { self.inp.$field = v & (((1u64 << $bits) - 1) as u32); }
    )*};
}
macro_rules! get_bit {
    ($($name:ident => $field:ident),* $(,)?) => {$(
        #[doc = concat!("Samples `", stringify!($field), "`.")]
        #[inline]
        pub fn $name(&self) -> bool { self.out.$field & 1 != 0 }
    )*};
}
macro_rules! get_u32 {
    ($($name:ident => $field:ident),* $(,)?) => {$(
        #[doc = concat!("Samples `", stringify!($field), "`.")]
        #[inline]
        pub fn $name(&self) -> u32 { self.out.$field }
    )*};
}

impl Dut {
    set_bit!(
        set_rst => rst, set_rx_tvalid => rx_tvalid, set_rx_tlast => rx_tlast,
        set_rx_tuser => rx_tuser, set_tx_tready => tx_tready,
        set_s_axil_awvalid => s_axil_awvalid, set_s_axil_wvalid => s_axil_wvalid,
        set_s_axil_bready => s_axil_bready, set_s_axil_arvalid => s_axil_arvalid,
        set_s_axil_rready => s_axil_rready, set_m_axi_awready => m_axi_awready,
        set_m_axi_wready => m_axi_wready, set_m_axi_bvalid => m_axi_bvalid,
        set_m_axi_arready => m_axi_arready, set_m_axi_rlast => m_axi_rlast,
        set_m_axi_rvalid => m_axi_rvalid,
    );
    set_u32!(
        set_s_axil_awaddr => s_axil_awaddr: 16, set_s_axil_wdata => s_axil_wdata: 32,
        set_s_axil_wstrb => s_axil_wstrb: 4, set_s_axil_araddr => s_axil_araddr: 16,
        set_m_axi_bid => m_axi_bid: 4, set_m_axi_bresp => m_axi_bresp: 2,
        set_m_axi_rid => m_axi_rid: 4, set_m_axi_rresp => m_axi_rresp: 2,
    );
    get_bit!(
        rx_tready => rx_tready, tx_tvalid => tx_tvalid, tx_tlast => tx_tlast,
        tx_tuser => tx_tuser, s_axil_awready => s_axil_awready,
        s_axil_wready => s_axil_wready, s_axil_bvalid => s_axil_bvalid,
        s_axil_arready => s_axil_arready, s_axil_rvalid => s_axil_rvalid,
        m_axi_awvalid => m_axi_awvalid, m_axi_wlast => m_axi_wlast,
        m_axi_wvalid => m_axi_wvalid, m_axi_bready => m_axi_bready,
        m_axi_arvalid => m_axi_arvalid, m_axi_rready => m_axi_rready,
    );
    get_u32!(
        s_axil_bresp => s_axil_bresp, s_axil_rdata => s_axil_rdata,
        s_axil_rresp => s_axil_rresp, m_axi_awid => m_axi_awid, m_axi_awlen => m_axi_awlen,
        m_axi_awsize => m_axi_awsize, m_axi_awburst => m_axi_awburst,
        m_axi_arid => m_axi_arid, m_axi_arlen => m_axi_arlen, m_axi_arsize => m_axi_arsize,
        m_axi_arburst => m_axi_arburst,
    );

    /// Drives `rx_tdata` (byte 0 first on the wire).
    #[inline]
    pub fn set_rx_tdata(&mut self, b: &[u8; 64]) {
        self.inp.rx_tdata = bytes_to_words(b);
    }
    /// Drives `rx_tkeep` (bit i qualifies byte i).
    #[inline]
    pub fn set_rx_tkeep(&mut self, v: u64) {
        self.inp.rx_tkeep = split(v);
    }
    /// Drives `m_axi_rdata` (byte 0 = lowest address).
    #[inline]
    pub fn set_m_axi_rdata(&mut self, b: &[u8; 64]) {
        self.inp.m_axi_rdata = bytes_to_words(b);
    }
    /// Samples `tx_tdata`.
    #[inline]
    pub fn tx_tdata(&self) -> [u8; 64] {
        words_to_bytes(&self.out.tx_tdata)
    }
    /// Samples `tx_tkeep`.
    #[inline]
    pub fn tx_tkeep(&self) -> u64 {
        join(self.out.tx_tkeep)
    }
    /// Samples `m_axi_awaddr`.
    #[inline]
    pub fn m_axi_awaddr(&self) -> u64 {
        join(self.out.m_axi_awaddr)
    }
    /// Samples `m_axi_araddr`.
    #[inline]
    pub fn m_axi_araddr(&self) -> u64 {
        join(self.out.m_axi_araddr)
    }
    /// Samples `m_axi_wdata`.
    #[inline]
    pub fn m_axi_wdata(&self) -> [u8; 64] {
        words_to_bytes(&self.out.m_axi_wdata)
    }
    /// Samples `m_axi_wstrb`.
    #[inline]
    pub fn m_axi_wstrb(&self) -> u64 {
        join(self.out.m_axi_wstrb)
    }
}
