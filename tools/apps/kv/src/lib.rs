//! A key-value server speaking the Redis protocol (RESP2) on the host TCP
//! library, for the real Redis tools (`redis-cli`, `redis-benchmark`).
//!
//! * [`resp`]: the protocol (requests parsed incrementally, multibulk and
//!   inline; replies encoded), packet-free;
//! * [`store`]: the key space with expiry on an explicit clock and a
//!   memory limit, packet-free;
//! * [`cmd`]: the commands, worded as Redis 7.0 words its replies;
//! * [`server`]: one run-to-completion instance per queue pair on
//!   `toe_driver::socket::Endpoint`, with the NIC's setup offload per
//!   listener.
//!
//! The program is `cargo xtask kv` (tools/simapps/src/bin/toe-kv.rs); how
//! to run it and what it implements: docs/apps.md.
pub mod cmd;
pub mod resp;
pub mod server;
pub mod store;

pub use server::{start, KvConfig, Listener, Running, Shared, Totals};
