//! Connection-setup offload (AccelTCP, Moon et al., NSDI 2020).
//!
//! The NIC answers a listener's SYNs itself with a SYN-ACK whose initial
//! sequence number is a SYN cookie, and validates the cookie carried in the
//! client's final ACK before handing the new connection to the host, at one
//! packet per cycle and without per-connection state.  Unlike AccelTCP's
//! unkeyed CRC32 cookie, ours is a keyed PRF (SipHash-2-4) of the 4-tuple,
//! the client's ISN and the cookie fields, so that cookies cannot be forged
//! by an off-path sender; MSS classes, window scale and SACK are
//! negotiated, not hard-coded (docs/setup.md).
//!
//! ## Blocks
//!
//! All take one item per cycle with no backpressure (except the TX side,
//! which is a valid/ready stream), have a fixed latency, and reset every
//! control register.
//!
//! | block | what | latency |
//! |-------|------|---------|
//! | [`siphash`](crate::common::siphash) | SipHash-2-4 of the cookie's 24-byte message | 12 |
//! | [`listen`] | listener table: 64 entries, parallel lookup, exact beats any-IP | 2 |
//! | [`synack`] | a SYN's fields to the SYN-ACK's (MSS class, cookie, TSval encoding) | 12 |
//! | [`ack`] | final-ACK validation (fields, age, key, re-hash, compare) | 13 |
//! | [`rx`] | the above beside the RX pipeline: taps at the parser (P) and the option walker (P + 12), verdicts and the generator's input at P + 13, SYN-ACK records at P + 25 into a 16-deep queue | - |
//! | [`ctl_frame_tx`](crate::common::ctl_frame_tx) | control-frame records (SYN-ACKs, and the active open's SYNs and ACKs: any flags, any option set) to Ethernet/IPv4/TCP frames of 60 to 74 bytes | stream |
//! | [`regs`] | the SETUP register block (keys, clocks, offer, MSS table, listener port) | - |
//! | [`connect`] | active open: 16 slots, SYN send and backoff, SYN-ACK/RST match at P + 1, the ACK record at P + 12 | - |
//!
//! In `crate::top`, `crate::common::rec_arb::RecArbN` merges the SYN-ACK
//! records with the active open's SYNs and ACKs (round robin), and
//! `crate::common::frame_arb::FrameArb` merges the SYN-ACKs with the host's
//! frames ahead of the checksum inserter (frame-level round robin); `crate::rx::path` marks
//! candidates, consumes answered SYNs and rewrites a valid final ACK's
//! completion in its merge stage.
//!
//! The cookie layout, the option encoding and the "established" completion
//! are specified in `toe_contract::setup`; the reference model is
//! `toe_model::cookie` and `toe_model::setup`.
pub mod ack;
pub mod connect;
pub mod listen;
pub mod regs;
pub mod rx;
pub mod synack;
