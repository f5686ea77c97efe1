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

// ---------------------------------------------------------------- active open
//
// The host stages a SYN as a control-frame record ([`CtlRecord`]) in
// `SETUP_CONN_REC` and starts it in slot [`connect_slot`] of its local
// port.  The NIC sends the SYN at once, then again after `rto`, `2 rto`,
// `4 rto`, ... (`SETUP_CONN_RTO`, `SETUP_CONN_RETRIES`).  The answer is
// delivered on the RSS queue of the connection:
// - a SYN-ACK from the slot's peer acknowledging `isn + 1`: the NIC sends
//   the handshake ACK and delivers the SYN-ACK frame as [`KIND_CONNECTED`]
//   (its completion fields hold the peer's options as parsed);
// - an RST with ACK acknowledging `isn + 1` (RFC 9293 3.10.7.3): the RST
//   frame as [`KIND_CONNECT_REFUSED`].
// Either way the slot is free again.  When the last retransmission goes
// unanswered the NIC frees the slot and sets its bit in
// `SETUP_CONN_TIMEDOUT`: a timeout has no frame to ride on, and the host
// holds a timer for every open anyway ([`connect_give_up_ticks`]).

/// Completion kind of a SYN-ACK that completed a NIC active open.
pub const KIND_CONNECTED: u8 = 3;
/// Completion kind of an RST that refused a NIC active open.
pub const KIND_CONNECT_REFUSED: u8 = 4;
/// Active-open slots; a connection uses slot [`connect_slot`] of its local
/// port, so the NIC finds it in one lookup whatever the table size.
pub const CONNECT_SLOTS: usize = 16;
/// Default first retransmission timeout (ticks of the timestamp clock).
pub const DEFAULT_CONNECT_RTO: u32 = 1000;
/// Default SYN retransmissions (Linux's `tcp_syn_retries`).
pub const DEFAULT_CONNECT_RETRIES: u32 = 6;
/// Width of a control-frame record (`hdl/src/setup/inject.rs`).
pub const CTL_REC_BITS: usize = 368;

/// The active-open slot of a local port.
pub const fn connect_slot(local_port: u16) -> usize {
    local_port as usize % CONNECT_SLOTS
}

/// Ticks from the first SYN until the NIC gives up: the last of
/// `1 + retries` SYNs is sent at `rto (2^retries - 1)` and waited for
/// `rto 2^retries`.
pub const fn connect_give_up_ticks(rto: u32, retries: u32) -> u64 {
    rto as u64 * ((1u64 << (retries + 1)) - 1)
}

/// A TCP control frame the NIC builds (`hdl/src/setup/inject.rs`): the
/// layout is Linux's option order (MSS; timestamps as `SACK-permitted TS`
/// or `NOP NOP TS`, or SACK-permitted alone as `NOP NOP SACK-permitted`;
/// window scale as `NOP WS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CtlRecord {
    /// Destination (the peer or its gateway) and source (ours) MACs.
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    /// Our address and port.
    pub src: ([u8; 4], u16),
    /// The peer's address and port.
    pub dst: ([u8; 4], u16),
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// TSval, TSecr.
    pub ts: Option<(u32, u32)>,
}

fn put(w: &mut [u32; 12], at: usize, width: usize, v: u64) {
    for i in 0..width {
        if v >> i & 1 == 1 {
            w[(at + i) / 32] |= 1 << ((at + i) % 32);
        }
    }
}

fn get(w: &[u32; 12], at: usize, width: usize) -> u64 {
    (0..width).fold(0, |v, i| {
        v | ((w[(at + i) / 32] >> ((at + i) % 32) & 1) as u64) << i
    })
}

fn mac48(m: &[u8; 6]) -> u64 {
    m.iter().fold(0, |v, &b| v << 8 | b as u64)
}

impl CtlRecord {
    /// The record as `SETUP_CONN_REC` words (word i holds bits 32i+31:32i).
    /// Bits: 47:0 destination MAC, 95:48 source MAC (first byte most
    /// significant), 127:96 our IP, 159:128 the peer's IP (big-endian
    /// numbers), 175:160 our port, 191:176 the peer's, 223:192 seq,
    /// 255:224 ack, 271:256 window, 287:272 MSS, 288 window scale present,
    /// 292:289 window scale, 293 SACK-permitted, 294 timestamps, 326:295
    /// TSval, 358:327 TSecr, 366:359 flags, 367 MSS present.
    pub fn words(&self) -> [u32; 12] {
        let mut w = [0u32; 12];
        put(&mut w, 0, 48, mac48(&self.dst_mac));
        put(&mut w, 48, 48, mac48(&self.src_mac));
        put(&mut w, 96, 32, u32::from_be_bytes(self.src.0) as u64);
        put(&mut w, 128, 32, u32::from_be_bytes(self.dst.0) as u64);
        put(&mut w, 160, 16, self.src.1 as u64);
        put(&mut w, 176, 16, self.dst.1 as u64);
        put(&mut w, 192, 32, self.seq as u64);
        put(&mut w, 224, 32, self.ack as u64);
        put(&mut w, 256, 16, self.window as u64);
        put(&mut w, 272, 16, self.mss.unwrap_or(0) as u64);
        put(&mut w, 288, 1, self.wscale.is_some() as u64);
        put(&mut w, 289, 4, self.wscale.unwrap_or(0).min(14) as u64);
        put(&mut w, 293, 1, self.sack_permitted as u64);
        put(&mut w, 294, 1, self.ts.is_some() as u64);
        put(&mut w, 295, 32, self.ts.map_or(0, |t| t.0) as u64);
        put(&mut w, 327, 32, self.ts.map_or(0, |t| t.1) as u64);
        put(&mut w, 359, 8, self.flags as u64);
        put(&mut w, 367, 1, self.mss.is_some() as u64);
        w
    }

    /// The record the words describe.
    pub fn from_words(w: &[u32; 12]) -> CtlRecord {
        let mac = |at| {
            let v = get(w, at, 48);
            core::array::from_fn(|i| (v >> (40 - 8 * i)) as u8)
        };
        CtlRecord {
            dst_mac: mac(0),
            src_mac: mac(48),
            src: (
                (get(w, 96, 32) as u32).to_be_bytes(),
                get(w, 160, 16) as u16,
            ),
            dst: (
                (get(w, 128, 32) as u32).to_be_bytes(),
                get(w, 176, 16) as u16,
            ),
            seq: get(w, 192, 32) as u32,
            ack: get(w, 224, 32) as u32,
            window: get(w, 256, 16) as u16,
            mss: (get(w, 367, 1) == 1).then(|| get(w, 272, 16) as u16),
            wscale: (get(w, 288, 1) == 1).then(|| get(w, 289, 4) as u8),
            sack_permitted: get(w, 293, 1) == 1,
            ts: (get(w, 294, 1) == 1).then(|| (get(w, 295, 32) as u32, get(w, 327, 32) as u32)),
            flags: get(w, 359, 8) as u8,
        }
    }
}

/// What the host asks of the NIC to open a connection: the SYN (flags
/// [`TCP_SYN`], `seq` the ISN from the host's RFC 6528 generator, the
/// options it offers) and the window of the handshake ACK should the peer
/// scale windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    pub syn: CtlRecord,
    pub ack_window: u16,
}

/// TCP flag bits as they appear in a record.
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

impl ConnectRequest {
    /// The slot this request must use.
    pub fn slot(&self) -> usize {
        connect_slot(self.syn.src.1)
    }
}

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

/// The passive-open configuration of the setup block (`regs::SETUP_*`) as
/// its registers hold it: the one encoding into register writes of both
/// the driver's parameters and the simulator model's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetupRegs<'a> {
    /// Key slots 0 and 1 (`None`: not valid; written as zeros).
    pub keys: [Option<[u8; 16]>; 2],
    pub current_slot: u8,
    pub max_age: u32,
    pub mss_table: [u16; 4],
    /// What the SYN-ACK offers.
    pub our_mss: u16,
    pub our_wscale: u8,
    pub our_window: u16,
    /// This host's MAC and unicast addresses; of the `LOCAL_IPS` address
    /// registers those past `local_ips` are written empty (0), and
    /// addresses past `LOCAL_IPS` are not written.
    pub local_mac: [u8; 6],
    pub local_ips: &'a [[u8; 4]],
}

impl SetupRegs<'_> {
    /// Calls `w(offset, value)` for each register this configuration
    /// sets, offsets within the setup block: both key slots, the maximum
    /// age, the local MAC and addresses, what the SYN-ACK offers, the MSS
    /// table.  Not the clocks, the listener table, the established-tuple
    /// filter, nor `SETUP_CTRL`, which goes last ([`SetupRegs::ctrl`]).
    pub fn write(&self, mut w: impl FnMut(u32, u32)) {
        use crate::regs as r;
        for (slot, base) in [(0, r::SETUP_KEY0), (1, r::SETUP_KEY1)] {
            let words = r::setup_key_words(&self.keys[slot].unwrap_or([0; 16]));
            for (i, v) in words.into_iter().enumerate() {
                w(base + 4 * i as u32, v);
            }
        }
        w(r::SETUP_MAX_AGE, self.max_age);
        let [hi, lo] = r::setup_local_mac_words(self.local_mac);
        w(r::SETUP_LOCAL_MAC_HI, hi);
        w(r::SETUP_LOCAL_MAC_LO, lo);
        for i in 0..r::LOCAL_IPS as usize {
            let ip = self.local_ips.get(i).copied().unwrap_or([0; 4]);
            w(r::SETUP_LOCAL_IP + 4 * i as u32, r::setup_local_ip_word(ip));
        }
        w(r::SETUP_OURS, r::setup_ours(self.our_mss, self.our_wscale));
        w(r::SETUP_WINDOW, self.our_window as u32);
        for (i, v) in r::setup_mss_table_words(&self.mss_table)
            .into_iter()
            .enumerate()
        {
            w(r::SETUP_MSS_TABLE + 4 * i as u32, v);
        }
    }

    /// `SETUP_CTRL` for this configuration: the current slot, the slots
    /// holding keys valid, the offload on or off.
    pub fn ctrl(&self, enable: bool) -> u32 {
        let valid = [self.keys[0].is_some(), self.keys[1].is_some()];
        crate::regs::setup_ctrl(enable, self.current_slot, valid)
    }
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
    fn ctl_records_round_trip_and_place_fields() {
        let r = CtlRecord {
            dst_mac: [1, 2, 3, 4, 5, 6],
            src_mac: [7, 8, 9, 10, 11, 12],
            src: ([10, 0, 0, 1], 40001),
            dst: ([10, 0, 0, 2], 80),
            seq: 0x1122_3344,
            ack: 0,
            flags: TCP_SYN,
            window: 64240,
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            ts: Some((0xAABB_CCDD, 0)),
        };
        let w = r.words();
        assert_eq!(CtlRecord::from_words(&w), r);
        assert_eq!(w[0], 0x0304_0506);
        assert_eq!(w[1] & 0xFFFF, 0x0102);
        assert_eq!(w[3], 0x0A00_0001);
        assert_eq!(w[5] & 0xFFFF, 40001);
        assert_eq!(w[6], 0x1122_3344);
        assert_eq!(w[11] >> (359 - 352), TCP_SYN as u32 | 1 << 8);
        let bare = CtlRecord {
            mss: None,
            wscale: None,
            ts: None,
            ..r
        };
        assert_eq!(CtlRecord::from_words(&bare.words()), bare);
    }

    #[test]
    fn setup_regs_write_every_configured_register_once() {
        use crate::regs as r;
        use std::collections::BTreeMap;
        let ips = [[10, 0, 0, 1], [10, 0, 0, 9]];
        let c = SetupRegs {
            keys: [None, Some(core::array::from_fn(|i| i as u8))],
            current_slot: 1,
            max_age: 3,
            mss_table: DEFAULT_MSS_TABLE,
            our_mss: 1460,
            our_wscale: 7,
            our_window: 65535,
            local_mac: [0x02, 0, 0, 0, 0, 0x01],
            local_ips: &ips,
        };
        let mut m = BTreeMap::new();
        c.write(|a, v| assert!(m.insert(a, v).is_none(), "{a:#x} written twice"));
        assert_eq!(m.len(), 8 + 1 + 2 + r::LOCAL_IPS as usize + 2 + 2);
        assert_eq!(m[&r::SETUP_KEY0], 0);
        assert_eq!(m[&(r::SETUP_KEY1 + 4)], 0x0706_0504);
        assert_eq!(m[&r::SETUP_MAX_AGE], 3);
        assert_eq!(m[&r::SETUP_LOCAL_MAC_HI], 0x0200);
        assert_eq!(m[&r::SETUP_LOCAL_MAC_LO], 0x0000_0001);
        assert_eq!(m[&r::SETUP_LOCAL_IP], 0x0A00_0001);
        assert_eq!(m[&(r::SETUP_LOCAL_IP + 4)], 0x0A00_0009);
        assert_eq!(m[&(r::SETUP_LOCAL_IP + 8)], 0);
        assert_eq!(m[&(r::SETUP_LOCAL_IP + 12)], 0);
        assert_eq!(m[&r::SETUP_OURS], 1460 | 7 << 16);
        assert_eq!(m[&r::SETUP_WINDOW], 65535);
        assert_eq!(m[&r::SETUP_MSS_TABLE], 536 | 1300 << 16);
        assert_eq!(
            c.ctrl(true),
            r::SETUP_CTRL_ENABLE | r::SETUP_CTRL_SLOT | r::SETUP_CTRL_KEY1_VALID
        );
        assert_eq!(c.ctrl(false) & r::SETUP_CTRL_ENABLE, 0);
    }

    #[test]
    fn connect_slots_and_give_up_time() {
        assert_eq!(connect_slot(40001), 1);
        assert_eq!(connect_slot(40016), 0);
        // Linux's default: 1 s, 6 retries: 127 s.
        assert_eq!(connect_give_up_ticks(1000, 6), 127_000);
        assert_eq!(connect_give_up_ticks(3, 0), 3);
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
