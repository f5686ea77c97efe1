//! Support code for the integration tests.
pub mod vlt_block;
