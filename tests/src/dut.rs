//! Safe wrapper over the Verilated model (the only `unsafe` in the crate).
use std::ffi::CString;

#[repr(C)]
struct Sim {
    _p: [u8; 0],
}
extern "C" {
    fn toe_new() -> *mut Sim;
    fn toe_free(s: *mut Sim);
    fn toe_trace(s: *mut Sim, path: *const std::os::raw::c_char);
    fn toe_eval(s: *mut Sim);
    fn toe_set(s: *mut Sim, port: i32, v: *const u32);
    fn toe_get(s: *mut Sim, port: i32, v: *mut u32);
}

/// Input ports, numbered as in csrc/shim.cpp.
#[derive(Clone, Copy)]
#[repr(i32)]
pub enum In {
    Clock = 0,
    Rst,
    RxTdata,
    RxTkeep,
    RxTvalid,
    RxTlast,
    RxTuser,
    TxTready,
    AwAddrL,
    AwValidL,
    WDataL,
    WStrbL,
    WValidL,
    BReadyL,
    ArAddrL,
    ArValidL,
    RReadyL,
    AwReady,
    WReady,
    BId,
    BResp,
    BValid,
    ArReady,
    RId,
    RData,
    RResp,
    RLast,
    RValid,
}

/// Output ports.
#[derive(Clone, Copy)]
#[repr(i32)]
pub enum Out {
    RxTready = 100,
    TxTdata,
    TxTkeep,
    TxTvalid,
    TxTlast,
    TxTuser,
    AwReadyL,
    WReadyL,
    BRespL,
    BValidL,
    ArReadyL,
    RDataL,
    RRespL,
    RValidL,
    AwId,
    AwAddr,
    AwLen,
    AwSize,
    AwBurst,
    AwValid,
    WData,
    WStrb,
    WLast,
    WValid,
    BReady,
    ArId,
    ArAddr,
    ArLen,
    ArSize,
    ArBurst,
    ArValid,
    RReady,
}

pub struct Dut {
    sim: *mut Sim,
}

impl Dut {
    pub fn new() -> Self {
        // SAFETY: toe_new returns a fresh, owned model.
        Dut {
            sim: unsafe { toe_new() },
        }
    }
    /// Writes an FST waveform of everything from now on.
    pub fn trace(&mut self, path: &str) {
        let c = CString::new(path).expect("path");
        // SAFETY: the model is alive; the string outlives the call.
        unsafe { toe_trace(self.sim, c.as_ptr()) }
    }
    pub fn eval(&mut self) {
        // SAFETY: the model is alive.
        unsafe { toe_eval(self.sim) }
    }
    pub fn set_words(&mut self, p: In, v: &[u32; 16]) {
        // SAFETY: the shim reads at most 16 words.
        unsafe { toe_set(self.sim, p as i32, v.as_ptr()) }
    }
    pub fn set(&mut self, p: In, v: u64) {
        let mut w = [0u32; 16];
        w[0] = v as u32;
        w[1] = (v >> 32) as u32;
        self.set_words(p, &w);
    }
    pub fn get_words(&mut self, p: Out) -> [u32; 16] {
        let mut w = [0u32; 16];
        // SAFETY: the shim writes at most 16 words.
        unsafe { toe_get(self.sim, p as i32, w.as_mut_ptr()) };
        w
    }
    pub fn get(&mut self, p: Out) -> u64 {
        let w = self.get_words(p);
        w[0] as u64 | (w[1] as u64) << 32
    }
    pub fn bit(&mut self, p: Out) -> bool {
        self.get(p) & 1 != 0
    }
}

impl Default for Dut {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Dut {
    fn drop(&mut self) {
        // SAFETY: freed exactly once.
        unsafe { toe_free(self.sim) }
    }
}

pub fn bytes_to_words(b: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    for i in 0..16 {
        w[i] = u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
    }
    w
}

pub fn words_to_bytes(w: &[u32; 16]) -> [u8; 64] {
    let mut b = [0u8; 64];
    for i in 0..16 {
        b[4 * i..4 * i + 4].copy_from_slice(&w[i].to_le_bytes());
    }
    b
}
