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
//! | [`engine`] | the closing connections: table, slots, fast-path verdicts, one job at a time (hand-over, timer fire, segment), replies, events, TIME-WAIT recycling | verdict 23 (`SEG_VERDICT_LATENCY`) |
//! | [`timer_sweep`] | one deadline per slot in a RAM, swept once per tick; due slots queued for the engine | a pass of 2^S cycles |
//!
//! Not built yet: the engine's attachment to the chip (the RX event bus
//! with the payload length and a later verdict point, the hand-over from
//! the TX queue, replies through the control-frame builder, events through
//! the completion path, the register block), and retransmission of kept
//! data by DMA re-read (the engine falls back to the host for hand-overs
//! with kept data); docs/teardown.md has the plan.
pub mod decide;
pub mod engine;
pub mod timer_sweep;
