//! Full-chip tests of the TOE SmartNIC on the toe-sim harness: the host
//! side of the rings (`host`) and helpers shared by the tests.  Set
//! `TOE_FST=/path/wave.fst` or `TOE_PCAP=/path/mac.pcap` for a waveform or a
//! capture of any test, `TOE_SEED=n` to replay a randomized one.
pub mod host;

use toe_sim::harness::Harness;

/// Reads a 64-bit global counter (LO first, which latches HI).
pub fn counter(h: &mut Harness, c: toe_contract::regs::Counter) -> u64 {
    let a = toe_contract::regs::counter(c);
    let lo = h.reg_read(a) as u64;
    lo | (h.reg_read(a + 4) as u64) << 32
}
