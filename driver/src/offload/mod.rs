//! The NIC's offloads as the driver sees them, in one place (how to add
//! one: docs/offload_seam.md):
//!
//! * [`dispatch`]: completion-kind dispatch, the one table from every
//!   completion kind of the contract to its handler;
//! * [`setup`]: the connection-setup offload's passive-open commands
//!   (keys, clocks, listener table, established-tuple filter);
//! * [`connect`]: the NIC's active open, its first user of the seam
//!   (staging and starting opens, slot claims, and [`ActiveOpens`], which
//!   runs the TCP core's requests against the NIC);
//! * [`teardown`]: the teardown offload's host side (the device's block,
//!   hand-over records built from closed connections, the queue layer's
//!   accounts of the buffers the NIC holds, and each teardown's end).
//!
//! The seam: the TCP core (`crate::tcp`) names no device type.  It
//! exchanges plain data with the offloads and exposes one small hook trait
//! per offload ([`crate::tcp::offload`]: [`SegmentInput`],
//! [`ActiveOpenHooks`], [`SetupHooks`], [`TeardownHooks`]), which the glue here calls with a
//! register path ([`crate::backend::Registers`]).  The socket layer
//! (`socket.rs`) wires them together once per poll.  Per-device state an
//! offload shares between its handles lives in the device without the
//! device knowing its type (`Device::offload_state`).
//!
//! Dependencies run one way: `socket` -> `offload` -> (`tcp`, `device`,
//! `backend`); `nic` -> `offload::dispatch`; nothing here uses `socket` or
//! `nic`, and `tcp` uses nothing here.
pub mod connect;
pub mod dispatch;
pub mod setup;
pub mod teardown;

#[cfg(test)]
mod setup_tests;

pub use crate::tcp::offload::{ActiveOpenHooks, SegmentInput, SetupHooks, TeardownHooks};
pub use connect::{
    ActiveOpens, ConnectSlots, NextHop, NicConnector, CONNECT_MAX_RETRIES, CORE_CLOCK_HZ,
};
pub use setup::{EstFilter, ListenEntry, SetupParams};
pub use teardown::{TeardownParams, TeardownStats, Teardowns};
