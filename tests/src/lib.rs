//! Full-chip test harness for the TOE SmartNIC: the Verilated design
//! (`dut`), bus-functional models (`harness`) and the host side of the
//! rings (`host`).  Set `TOE_FST=/path/wave.fst` to record a waveform of any
//! test.
pub mod dut;
pub mod harness;
pub mod host;
