//! `toe-model`: the reference model and scoreboard of the TOE SmartNIC
//! datapath.
//!
//! It predicts, bit-exactly and per docs/semantics.md (the normative
//! behaviour the RTL implements), what the NIC does with every RX frame
//! (drop counter, or queue + 32-byte completion) and every TX descriptor
//! (rejection, or the frame with checksums inserted).  Testbenches feed the
//! same stimulus to the model and to the Verilated RTL and compare through
//! [`Scoreboard`].  Field layouts come from `toe-contract`.
//!
//! * [`cookie`]: SYN cookies of the connection-setup offload.
//! * [`conn_table`]: the hashed connection table (cuckoo, keyed SipHash).
//! * [`csum`]: RFC 1071 checksums.
//! * [`toeplitz`]: the RSS Toeplitz hash.
//! * [`parse`]: the reference frame parser and validity classes.
//! * [`setup`]: what the setup offload does with a frame, and its SYN-ACK.
//! * [`teardown`]: the teardown engine (FIN-WAIT to TIME-WAIT after the
//!   host hands a close over).
//! * [`nic`]: `predict_rx` / `predict_tx` and the register state they use.
//! * [`scoreboard`]: expected/actual comparison with readable diffs.
//! * [`gen`]: seeded frame generators (well-formed via smoltcp, and one per
//!   malformed class).

pub mod conn_table;
pub mod connect;
pub mod cookie;
pub mod csum;
pub mod gen;
pub mod nic;
pub mod parse;
pub mod scoreboard;
pub mod setup;
pub mod teardown;
pub use toe_contract::rss as toeplitz;

#[cfg(test)]
mod tests;

pub use nic::{
    predict_rx, predict_synack, predict_tx, tx_completion, NicConfig, RxVerdict, TxVerdict,
};
pub use parse::{parse, Class, Parsed};
pub use scoreboard::{cpl_diff, hex_diff, CounterModel, Scoreboard};
