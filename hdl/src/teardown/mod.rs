//! Connection-teardown offload (issue 17, docs/teardown.md): the NIC runs
//! the FIN exchange, retransmission and TIME-WAIT after the host frees the
//! connection.  The contract is `toe_contract::teardown`, the reference
//! model `toe_model::teardown`.
//!
//! ## Blocks
//!
//! | block | what | latency |
//! |-------|------|---------|
//! | [`decide`] | one received segment against one entry: the closing states' segment processing (RFC 9293, 5961, 7323, 6191) | 6 |
//! | [`timer_sweep`] | one deadline per slot in a RAM, swept once per tick; due slots queued for the engine | a pass of 2^S cycles |
//!
//! Not built yet: the engine around `decide` (connection-table lookups
//! from the RX event bus, per-entry serialisation, the write-back, the hand-over from the TX queue, replies through the
//! control-frame path, retransmission by DMA re-read, completion events)
//! and its register block; docs/teardown.md has the plan.
pub mod decide;
pub mod timer_sweep;
