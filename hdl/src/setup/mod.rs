//! Connection-setup offload (AccelTCP, Moon et al., NSDI 2020).
//!
//! The NIC will answer a listener's SYNs itself with a SYN-ACK whose initial
//! sequence number is a SYN cookie, and validate the cookie carried in the
//! client's final ACK before handing the new connection to the host, all at
//! one packet per cycle.  Unlike AccelTCP's unkeyed CRC32 cookie, ours is a
//! keyed PRF of the 4-tuple, the client's ISN and the cookie fields, so that
//! cookies cannot be forged by an off-path sender.
//!
//! Planned parts: the PRF, cookie generation (SYN to SYN-ACK rewrite), cookie
//! validation on the ACK, and the listen table.  So far only the PRF exists:
//!
//! * [`siphash`]: a fully pipelined SipHash-2-4 of the cookie's 24-byte
//!   message (`toe_contract::setup::message`), one message per cycle.
//!
//! The cookie layout, the option encoding and the "established" completion
//! are specified in `toe_contract::setup`; the reference model is
//! `toe_model::cookie`.
pub mod siphash;
