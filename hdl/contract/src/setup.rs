//! Connection-setup offload: the SYN cookie and what the NIC tells the host
//! (implemented by `toe_hdl::setup`, modelled by `toe_model::cookie` and
//! `toe_model::setup`; docs/setup.md).
//!
//! For a SYN to a listener with setup offload on, the NIC answers with a
//! SYN-ACK whose sequence number is a SYN cookie and keeps no state.  The
//! client's final ACK carries the cookie back (`ack - 1`); the NIC checks
//! it and delivers that ACK frame (with any data it carries) to the RSS
//! queue as a completion of kind [`KIND_ESTABLISHED`], whose option fields
//! hold the negotiated parameters decoded from the cookie instead of the
//! frame's own options.  An ACK whose cookie does not check is delivered as
//! an ordinary frame (it may belong to a connection the host already owns;
//! the host answers a stray one with RST, RFC 9293 3.10.7.1).
//!
//! ## The cookie (32 bits, the SYN-ACK's ISN)
//!
//! | bits  | field |
//! |-------|-------|
//! | 31:29 | `t mod 8`: the cookie clock when the SYN arrived |
//! | 28:27 | MSS class: index into the MSS table (largest entry not above the client's MSS) |
//! | 26    | key slot (two keys, so the host can rotate with a grace period) |
//! | 25:0  | MAC: the low 26 bits of SipHash-2-4 under the slot's 128-bit key over [`message`] |
//!
//! The MAC covers the 4-tuple, the client's ISN, the full cookie clock and
//! the MSS class, so none of them can be changed without the key.  An ACK
//! is accepted when the slot's key is valid, the cookie's age (the current
//! clock minus the clock reconstructed from its low 3 bits) is at most the
//! configured maximum (at most 7 ticks), and the MAC matches.
//!
//! ## Options without state (as Linux does)
//!
//! When the client's SYN carries timestamps (RFC 7323), the SYN-ACK's
//! TSval carries the client's other options in its low 6 bits
//! ([`ts_encode`]): bits 3:0 the client's window scale (15: none), bit 4
//! SACK-permitted; the client echoes it in TSecr of the final ACK.
//! Without timestamps there is nowhere to keep them: the SYN-ACK offers
//! neither window scaling nor SACK, only the MSS (Linux's fallback).

/// Completion kind of a validated final ACK (see the module doc).
pub const KIND_ESTABLISHED: u8 = 2;

pub const COOKIE_T_SHIFT: u32 = 29;
pub const COOKIE_MSS_SHIFT: u32 = 27;
pub const COOKIE_SLOT_SHIFT: u32 = 26;
pub const COOKIE_MAC_BITS: u32 = 26;
pub const COOKIE_MAC_MASK: u32 = (1 << COOKIE_MAC_BITS) - 1;
/// Largest maximum age the 3-bit clock field can express.
pub const MAX_COOKIE_AGE: u32 = 7;

/// Default MSS classes (Linux's `msstab`): 536 is the RFC 9293 default.
pub const DEFAULT_MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

/// TSval low bits holding the options ([`ts_encode`]).
pub const TS_OPT_BITS: u32 = 6;
pub const TS_OPT_MASK: u32 = (1 << TS_OPT_BITS) - 1;
/// Window-scale field value meaning "the client sent no window scale".
pub const TS_NO_WSCALE: u32 = 0xF;
pub const TS_SACK_BIT: u32 = 1 << 4;

/// The three little-endian 64-bit words the MAC is computed over (a 24-byte
/// SipHash message).  Addresses are taken as big-endian 32-bit numbers.
pub fn message(
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    client_isn: u32,
    t: u32,
    mss_class: u8,
) -> [u64; 3] {
    let cip = u32::from_be_bytes(client.0) as u64;
    let sip = u32::from_be_bytes(server.0) as u64;
    [
        cip | sip << 32,
        client.1 as u64 | (server.1 as u64) << 16 | (client_isn as u64) << 32,
        t as u64 | ((mss_class & 3) as u64) << 32,
    ]
}

/// The cookie from its fields and the MAC's hash.
pub fn cookie(t: u32, mss_class: u8, slot: u8, hash: u64) -> u32 {
    (t & 7) << COOKIE_T_SHIFT
        | ((mss_class & 3) as u32) << COOKIE_MSS_SHIFT
        | ((slot & 1) as u32) << COOKIE_SLOT_SHIFT
        | (hash as u32 & COOKIE_MAC_MASK)
}

/// A cookie's fields: (t mod 8, MSS class, key slot, MAC).
pub fn fields(cookie: u32) -> (u32, u8, u8, u32) {
    (
        cookie >> COOKIE_T_SHIFT,
        (cookie >> COOKIE_MSS_SHIFT & 3) as u8,
        (cookie >> COOKIE_SLOT_SHIFT & 1) as u8,
        cookie & COOKIE_MAC_MASK,
    )
}

/// The full clock value a cookie was made at, from its low 3 bits and the
/// clock `now` (the latest value not after `now` with those low bits), and
/// the age.
pub fn cookie_time(t_low: u32, now: u32) -> (u32, u32) {
    let age = now.wrapping_sub(t_low) & 7;
    (now.wrapping_sub(age), age)
}

/// Index of the largest MSS class not above the client's MSS (class 0 when
/// the client sent none or a smaller one: RFC 9293's default 536).
pub fn mss_class(table: &[u16; 4], client_mss: Option<u16>) -> u8 {
    let mss = client_mss.unwrap_or(536);
    let mut best = 0u8;
    for (i, &m) in table.iter().enumerate() {
        if m <= mss && m >= table[best as usize] {
            best = i as u8;
        }
    }
    best
}

/// The SYN-ACK's TSval: the NIC's timestamp clock with the low 6 bits
/// replaced by the client's window scale and SACK-permitted.
pub fn ts_encode(clock: u32, client_wscale: Option<u8>, sack: bool) -> u32 {
    let ws = client_wscale.map_or(TS_NO_WSCALE, |w| w.min(14) as u32);
    (clock & !TS_OPT_MASK) | ws | if sack { TS_SACK_BIT } else { 0 }
}

/// The client's window scale and SACK-permitted, from the TSecr of its
/// final ACK.
pub fn ts_decode(tsecr: u32) -> (Option<u8>, bool) {
    let ws = tsecr & 0xF;
    (
        if ws == TS_NO_WSCALE || ws > 14 {
            None
        } else {
            Some(ws as u8)
        },
        tsecr & TS_SACK_BIT != 0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        for t in 0..8 {
            for m in 0..4 {
                for s in 0..2 {
                    let c = cookie(t + 8 * 77, m, s, 0xdead_beef_1234_5678);
                    assert_eq!(fields(c), (t, m, s, 0x1234_5678 & COOKIE_MAC_MASK));
                }
            }
        }
    }

    #[test]
    fn cookie_time_reconstructs_across_wrap() {
        for now in [0u32, 1, 5, 7, 8, 1000, u32::MAX, u32::MAX - 3] {
            for age in 0..8u32 {
                let t = now.wrapping_sub(age);
                assert_eq!(cookie_time(t & 7, now), (t, age), "now {now} age {age}");
            }
        }
    }

    #[test]
    fn mss_classes() {
        let t = DEFAULT_MSS_TABLE;
        assert_eq!(mss_class(&t, None), 0);
        assert_eq!(mss_class(&t, Some(100)), 0);
        assert_eq!(mss_class(&t, Some(1299)), 0);
        assert_eq!(mss_class(&t, Some(1300)), 1);
        assert_eq!(mss_class(&t, Some(1459)), 2);
        assert_eq!(mss_class(&t, Some(1460)), 3);
        assert_eq!(mss_class(&t, Some(9000)), 3);
    }

    #[test]
    fn ts_options_round_trip() {
        for ws in [None, Some(0), Some(7), Some(14), Some(15)] {
            for sack in [false, true] {
                let v = ts_encode(0x1234_5678, ws, sack);
                assert_eq!(v & !TS_OPT_MASK, 0x1234_5640);
                assert_eq!(ts_decode(v), (ws.map(|w| w.min(14)), sack));
            }
        }
    }

    #[test]
    fn message_packs_every_field() {
        let m = message(
            ([10, 0, 0, 1], 40000),
            ([10, 0, 0, 2], 80),
            0xAABB_CCDD,
            9,
            3,
        );
        assert_eq!(m[0], 0x0A00_0002_0A00_0001);
        assert_eq!(m[1], 0xAABB_CCDD_0050_9C40);
        assert_eq!(m[2], 0x0000_0003_0000_0009);
    }
}
