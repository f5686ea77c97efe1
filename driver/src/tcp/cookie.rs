//! SYN cookies made and checked by the host (the software handshake of a
//! listener whose half-open limit is reached), in the format the NIC's
//! setup offload uses (`toe_contract::setup`: 3 bits of clock, 2 bits of
//! MSS class, 1 bit of key slot, 26 bits of SipHash-2-4 MAC over the
//! 4-tuple, the client's ISN, the full clock and the MSS class), so that
//! one validation rule serves both paths (RFC 4987 3.6 describes the
//! technique; the layout and the option encoding follow Linux and the
//! NIC, docs/setup.md).
//!
//! The cookie clock is the stack's explicit time divided into ticks
//! (Linux: 64 s); a cookie made at tick `t` is accepted up to tick
//! `t + max_age` (default 1: at least one and at most two ticks).
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_contract::setup as s;

/// How the host answers SYNs beyond a listener's half-open limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynCookies {
    /// Answer with a cookie (otherwise such SYNs are dropped and counted
    /// `syn_dropped_full`).
    pub enabled: bool,
    /// The 128-bit SipHash key.  `None`: derived per stack from the ISN
    /// generator's secret (random when that is).
    pub key: Option<[u8; 16]>,
    /// Length of one tick of the cookie clock (Linux: 64 s).
    pub tick: Duration,
    /// Oldest cookie accepted, in ticks (at most
    /// `toe_contract::setup::MAX_COOKIE_AGE`, 7).
    pub max_age: u32,
    /// MSS classes (`toe_contract::setup::DEFAULT_MSS_TABLE`).
    pub mss_table: [u16; 4],
    /// Key slot bit written into our cookies (the NIC's slot numbering).
    pub slot: u8,
}

impl Default for SynCookies {
    fn default() -> Self {
        SynCookies {
            enabled: true,
            key: None,
            tick: Duration::from_secs(64),
            max_age: 1,
            mss_table: s::DEFAULT_MSS_TABLE,
            slot: 0,
        }
    }
}

/// Why a cookie did not check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Made with another key slot.
    Slot,
    /// Older than `max_age` ticks.
    Expired,
    /// The MAC does not match (forged, or another connection's).
    BadMac,
}

/// SipHash-2-4 of the contract's 24-byte message under `key` (as the NIC
/// and `toe_model::cookie` compute it).
pub fn mac(key: &[u8; 16], msg: &[u64; 3]) -> u64 {
    let mut h = SipHasher24::new_with_key(key);
    for w in msg {
        h.write(&w.to_le_bytes());
    }
    h.finish()
}

/// A stack's cookie maker and checker.
#[derive(Clone, Debug)]
pub struct CookieJar {
    pub cfg: SynCookies,
    key: [u8; 16],
}

impl CookieJar {
    pub fn new(cfg: SynCookies, key: [u8; 16]) -> CookieJar {
        CookieJar { cfg, key }
    }

    /// The cookie clock at `now`.
    pub fn clock(&self, now: Duration) -> u32 {
        let tick = self.cfg.tick.as_nanos().max(1);
        (now.as_nanos() / tick) as u32
    }

    /// How long a cookie made now can be accepted, at most.
    pub fn lifetime(&self) -> Duration {
        self.cfg.tick * (self.cfg.max_age.min(s::MAX_COOKIE_AGE) + 1)
    }

    /// The cookie (our ISN) for a client's SYN, or `None` when the client's
    /// MSS is below every MSS class: a cookie would make us send segments
    /// larger than the client accepts (RFC 9293 3.7.1).
    pub fn make(
        &self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        client_isn: u32,
        client_mss: Option<u16>,
        now: Duration,
    ) -> Option<u32> {
        let class = s::mss_class(&self.cfg.mss_table, client_mss);
        if client_mss.unwrap_or(536) < self.cfg.mss_table[class as usize] {
            return None;
        }
        let t = self.clock(now);
        let m = s::message(
            (client.0.octets(), client.1),
            (server.0.octets(), server.1),
            client_isn,
            t,
            class,
        );
        Some(s::cookie(t, class, self.cfg.slot, mac(&self.key, &m)))
    }

    /// Checks `cookie` (the final ACK's number minus one) for the client's
    /// ISN (its sequence number minus one): the MSS the cookie encodes.
    pub fn check(
        &self,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        client_isn: u32,
        cookie: u32,
        now: Duration,
    ) -> Result<u16, Reject> {
        let (t_low, class, slot, got) = s::fields(cookie);
        if slot != self.cfg.slot & 1 {
            return Err(Reject::Slot);
        }
        let (t, age) = s::cookie_time(t_low, self.clock(now));
        if age > self.cfg.max_age.min(s::MAX_COOKIE_AGE) {
            return Err(Reject::Expired);
        }
        let m = s::message(
            (client.0.octets(), client.1),
            (server.0.octets(), server.1),
            client_isn,
            t,
            class,
        );
        if mac(&self.key, &m) as u32 & s::COOKIE_MAC_MASK != got {
            return Err(Reject::BadMac);
        }
        Ok(self.cfg.mss_table[class as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: (Ipv4Addr, u16) = (Ipv4Addr::new(192, 0, 2, 7), 40123);
    const S: (Ipv4Addr, u16) = (Ipv4Addr::new(198, 51, 100, 1), 80);

    #[test]
    fn same_mac_as_the_contract_message_and_the_model() {
        // The NIC's reference model computes the same function: SipHash-2-4
        // over the three little-endian words of `message`.
        let jar = CookieJar::new(SynCookies::default(), [0x11; 16]);
        let now = Duration::from_secs(64 * 1000 + 5);
        let c = jar.make(C, S, 0x8000_0001, Some(1460), now).unwrap();
        let m = s::message(
            (C.0.octets(), C.1),
            (S.0.octets(), S.1),
            0x8000_0001,
            1000,
            3,
        );
        assert_eq!(c, s::cookie(1000, 3, 0, mac(&[0x11; 16], &m)));
        assert_eq!(jar.check(C, S, 0x8000_0001, c, now), Ok(1460));
    }

    #[test]
    fn validity_is_one_to_two_ticks_and_everything_is_covered() {
        let jar = CookieJar::new(SynCookies::default(), [3; 16]);
        let t0 = Duration::from_secs(64 * 10 + 63);
        let c = jar.make(C, S, 9, Some(1400), t0).unwrap();
        assert_eq!(jar.check(C, S, 9, c, t0), Ok(1300));
        let end_of_next = Duration::from_secs(64 * 12 - 1);
        assert_eq!(jar.check(C, S, 9, c, end_of_next), Ok(1300));
        assert_eq!(
            jar.check(C, S, 9, c, end_of_next + Duration::from_secs(1)),
            Err(Reject::Expired)
        );
        assert_eq!(jar.check(C, S, 10, c, t0), Err(Reject::BadMac));
        assert_eq!(jar.check((C.0, 1), S, 9, c, t0), Err(Reject::BadMac));
        // Another MSS class written into the cookie: the MAC covers it.
        assert_eq!(
            jar.check(C, S, 9, c ^ (3 << s::COOKIE_MSS_SHIFT), t0),
            Err(Reject::BadMac)
        );
        assert_eq!(
            jar.check(C, S, 9, c ^ (1 << s::COOKIE_SLOT_SHIFT), t0),
            Err(Reject::Slot)
        );
        // An MSS below the smallest class cannot be carried.
        assert_eq!(jar.make(C, S, 9, Some(535), t0), None);
        assert!(jar.make(C, S, 9, None, t0).is_some());
    }
}
