//! The host TCP library's core (RFC 9293), with explicit time and no I/O:
//! the connection state machine and its parts, each with unit tests.
//! The socket layer (`socket.rs`) runs it over a queue pair; the NIC's
//! offloads (`driver/src/offload/`) reach it only through the traits of
//! [`offload`], so nothing here names a device type.
//!
//! * [`conn`]: one connection's state machine (tests in `conn_tests.rs`,
//!   `TOE_TRACE_TCP=1` prints every segment of a test's exchange);
//! * [`seq`]: sequence numbers compared modulo 2^32 (RFC 9293 3.4);
//! * [`checks`]: segment acceptability (RFC 9293 3.10.7.4) and the RFC 5961
//!   checks of RST, SYN and ACK;
//! * [`isn`]: initial sequence numbers from a keyed hash (RFC 6528);
//! * [`cookie`]: SYN cookies in the NIC's format (`toe_contract::setup`);
//! * [`options`]: MSS, window scale, SACK and timestamp negotiation;
//! * [`rto`]: the retransmission timer (RFC 6298);
//! * [`cc`]: congestion control, NewReno (RFC 5681, 6582) or CUBIC (RFC 9438);
//! * [`recv`]: bounded receive buffer with reassembly and SACK blocks (RFC 2018);
//! * [`send`]: bounded send buffer with a SACK scoreboard;
//! * [`handles`]: maps, sets and sorting keyed by the 4-tuple, one hash each;
//! * [`stack`]: the endpoint (listeners, connection table, segment I/O);
//! * [`wire`]: TCP headers written and read field by field;
//! * [`offload`]: the core's side of the offload seam: the data and hooks
//!   the NIC's offloads (`driver/src/offload/`) use, no device types.
pub mod cc;
pub mod checks;
pub mod conn;
pub mod cookie;
pub mod handles;
pub mod isn;
pub mod offload;
pub mod options;
pub mod recv;
pub mod ring;
pub mod rto;
pub mod send;
pub mod seq;
pub mod stack;
pub mod wire;

#[cfg(test)]
mod conn_tests;
#[cfg(test)]
mod handshake_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod stack_connect_tests;
#[cfg(test)]
mod stack_setup_tests;
#[cfg(test)]
mod teardown_tests;
