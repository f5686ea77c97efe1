//! Transmit path.
pub mod csum;
pub mod sched;
pub mod stream;
