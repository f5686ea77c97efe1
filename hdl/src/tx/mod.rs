//! Transmit path.
pub mod arb;
pub mod csum;
pub mod sched;
pub mod stream;
