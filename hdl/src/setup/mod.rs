//! Connection-setup offload (AccelTCP, Moon et al., NSDI 2020).
//!
//! The NIC will answer a listener's SYNs itself with a SYN-ACK whose initial
//! sequence number is a SYN cookie, and validate the cookie carried in the
//! client's final ACK before handing the new connection to the host, all at
//! one packet per cycle.  Unlike AccelTCP's unkeyed CRC32 cookie, ours is a
//! keyed PRF of the 4-tuple, the client's ISN and the cookie fields, so that
//! cookies cannot be forged by an off-path sender.
//!
//! ## Blocks so far
//!
//! Standalone, each with native and Verilated tests against the model; none
//! is wired into the chip yet.  All take one item per cycle with no
//! backpressure, have a fixed latency, and reset every register.
//!
//! | block | what | latency |
//! |-------|------|---------|
//! | [`siphash`] | SipHash-2-4 of the cookie's 24-byte message (`toe_contract::setup::message`) | 12 ([`siphash::SIPHASH_LATENCY`]) |
//! | [`listen`] | listener table: 64 entries {valid, any-IP, IP, port, offload}, register-style write and read-back ports, parallel lookup; an exact entry beats an any-IP one, then the lowest index wins | 2 ([`listen::LISTEN_LATENCY`]) |
//! | [`synack`] | a SYN's parsed fields to the SYN-ACK's header fields: MSS class, message, SipHash, cookie, ack, options (TSval encoding), 4-tuple swapped | 12 ([`synack::SYNACK_LATENCY`]) |
//!
//! ## Next
//!
//! * ACK validation: for an ACK to an offloaded listener, `cookie = ack - 1`
//!   split into its fields, the full clock rebuilt from its low 3 bits
//!   (`toe_contract::setup::cookie_time`), the slot's key validity and the
//!   age checked, the message re-hashed with a second [`siphash::SipHash24`]
//!   and the MAC compared; the outcome and the decoded options
//!   (`ts_decode` of TSecr) go into a `KIND_ESTABLISHED` completion
//!   (`toe_model::cookie::check_ack` is the reference).
//! * SYN-ACK frame builder and TX injection: Ethernet/IPv4/TCP bytes from
//!   [`synack::SynAckGen`]'s fields (MAC addresses swapped, IP ID, TTL,
//!   option layout, both checksums), merged into the MAC TX stream beside
//!   the host's traffic.
//! * Integration into the RX path: dispatch after the parser (SYN or ACK,
//!   listener lookup in parallel with the option walk, offload and key-slot
//!   checks) and the drop/deliver decision.
//! * Registers: a setup block in the register file (listener table writes
//!   and read-back, two key slots with valid bits, current slot, MSS table,
//!   our MSS/window scale/window, maximum cookie age, the cookie and
//!   timestamp clocks), and counters (SYN-ACKs sent, ACKs accepted and
//!   rejected by reason).
//!
//! The cookie layout, the option encoding and the "established" completion
//! are specified in `toe_contract::setup`; the reference model is
//! `toe_model::cookie`.
pub mod ack;
pub mod inject;
pub mod listen;
pub mod regs;
pub mod rx;
pub mod siphash;
pub mod synack;
