//! Bus-functional models.  Each model is pure Rust and works at pin level,
//! without the Verilated design, so it can be unit-tested on its own:
//!
//! * `drive(..)` computes the pins the model drives this cycle from its
//!   state only (never from the other side's pins of the same cycle);
//! * `update(.., cycle)` is given the other side's pins as sampled before
//!   the rising edge, works out which handshakes (valid && ready) happen at
//!   this edge and updates the state.
//!
//! All randomness comes from seeded ChaCha generators: a run is
//! reproducible from its seed.
pub mod axi_slave;
pub mod axil_master;
pub mod host_memory;
pub mod mac_sink;
pub mod mac_source;
pub mod pcap;

use std::fmt;

pub use axi_slave::{
    AddrPins, AxiMasterPins, AxiSlave, AxiSlaveConfig, AxiSlavePins, AxiStats, Channel,
};
pub use axil_master::{AxilMaster, AxilMasterPins, AxilOp, AxilResult, AxilSlavePins, Ticket};
pub use host_memory::HostMemory;
pub use mac_sink::{MacSink, TxFrame};
pub use mac_source::{MacFrame, MacSource, SentFrame};
pub use pcap::{Direction, PcapCapture};

/// One beat of a 512-bit AXI4-Stream (MAC RX or TX).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamBeat {
    /// Byte 0 is the first byte on the wire.
    pub data: [u8; 64],
    /// Bit i qualifies byte i.
    pub keep: u64,
    pub valid: bool,
    pub last: bool,
    /// Frame error (meaningful on the last beat).
    pub user: bool,
}

impl Default for StreamBeat {
    fn default() -> Self {
        StreamBeat {
            data: [0; 64],
            keep: 0,
            valid: false,
            last: false,
            user: false,
        }
    }
}

/// A protocol or checking violation seen by a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Cycle of the offending handshake or request.
    pub cycle: u64,
    /// Which model saw it (e.g. "AXI4 slave", "MAC TX sink").
    pub model: &'static str,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[cycle {}] {}: {}", self.cycle, self.model, self.what)
    }
}

/// Seeded generator for model `stream` (each model draws from its own
/// stream so that enabling one model's randomness does not change another's).
pub(crate) fn rng(seed: u64, stream: u64) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// True with probability `p` (no draw at all when p <= 0).
#[inline]
pub(crate) fn chance(rng: &mut rand_chacha::ChaCha8Rng, p: f64) -> bool {
    use rand::Rng;
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.gen_bool(p)
    }
}
