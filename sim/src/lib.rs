//! Verilator simulation harness of the TOE SmartNIC.
//!
//! * [`dut`]: the Verilated design (top module `toe`, generated from
//!   `toe_hdl::verilog()` by the build script) behind a safe API;
//! * [`bfm`]: bus-functional models: MAC source and sink, AXI4-Lite
//!   master, host memory with an AXI4 slave that checks every DMA request,
//!   pcap capture;
//! * [`harness`]: all of them clocked together, with blocking register
//!   accesses and bounded waits;
//! * [`speed`]: simulation speed measurement.
//!
//! Typical use:
//! ```no_run
//! use toe_sim::{Harness, HarnessConfig};
//! let mut h = Harness::new(HarnessConfig { seed: 7, ..Default::default() });
//! let id = h.reg_read(0x0000);
//! let ring = h.mem.alloc(4096, 4096);
//! h.mac_rx.push_bytes(vec![0xff; 64]);
//! h.run_until(10_000, |h| h.mac_rx.is_idle()).expect("frame not taken");
//! # let _ = (id, ring);
//! ```
//!
//! Two copies of the model are linked: a fast one, and (feature `fst`, on
//! by default) one compiled with FST tracing, used only when a waveform is
//! asked for (`TOE_FST=/path.fst`, `HarnessConfig::fst`/`traceable`).
pub mod bfm;
pub mod dut;
pub mod harness;
pub mod speed;

pub use bfm::{HostMemory, MacFrame, MacSink, MacSource, TxFrame, Violation};
pub use dut::Dut;
pub use harness::{AxilError, Harness, HarnessConfig, Timeout};
pub use speed::{measure_speed, Speed};
pub mod device;
pub mod wire;
