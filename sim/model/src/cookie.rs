//! Reference model of the connection-setup offload's SYN cookies
//! (`toe_contract::setup` defines the layout): what the NIC answers to a
//! SYN for an offloaded listener, and how it judges the client's final
//! ACK.  The MAC is computed with the `siphasher` crate, independently of
//! the RTL's pipelined SipHash, so the two check each other.
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use toe_contract::setup as s;

/// What the host programs for the setup offload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupConfig {
    /// The two key slots (`None`: slot not valid).
    pub keys: [Option<[u8; 16]>; 2],
    /// Slot new SYN-ACKs use.
    pub current_slot: u8,
    pub mss_table: [u16; 4],
    /// Oldest cookie accepted, in clock ticks (at most 7).
    pub max_age: u32,
    /// What the SYN-ACK offers.
    pub our_mss: u16,
    pub our_wscale: u8,
    pub our_window: u16,
}

impl Default for SetupConfig {
    fn default() -> Self {
        SetupConfig {
            keys: [Some([0x11; 16]), None],
            current_slot: 0,
            mss_table: s::DEFAULT_MSS_TABLE,
            max_age: 2,
            our_mss: 1460,
            our_wscale: 7,
            our_window: 65535,
        }
    }
}

/// The fields of a client's SYN the offload uses (parsed, options in any
/// order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syn {
    pub client: ([u8; 4], u16),
    pub server: ([u8; 4], u16),
    pub isn: u32,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub tsval: Option<u32>,
}

/// The SYN-ACK the NIC sends (addresses and ports are the SYN's, swapped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynAck {
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub mss: u16,
    /// Our window scale, offered only if the client offered one and sent
    /// timestamps (the only place to keep the client's).
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval with the client's options encoded, TSecr = client's TSval).
    pub ts: Option<(u32, u32)>,
}

/// The client's final ACK, as the offload sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    pub client: ([u8; 4], u16),
    pub server: ([u8; 4], u16),
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub ts: Option<(u32, u32)>,
}

/// What the "established" completion reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Established {
    pub client_isn: u32,
    pub our_isn: u32,
    /// The client's MSS class value (what we may send).
    pub mss: u16,
    pub client_wscale: Option<u8>,
    pub sack_permitted: bool,
    pub ts: Option<(u32, u32)>,
    pub window: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// The cookie names a key slot that is not valid.
    NoKey,
    /// Older than `max_age` ticks.
    Expired { age: u32 },
    /// The MAC does not match (forged, or another connection's).
    BadMac,
}

/// SipHash-2-4 of the 24-byte message under `key`.
pub fn mac(key: &[u8; 16], msg: &[u64; 3]) -> u64 {
    let mut h = SipHasher24::new_with_key(key);
    for w in msg {
        h.write(&w.to_le_bytes());
    }
    h.finish()
}

/// The SYN-ACK for `syn` at cookie clock `t` and timestamp clock `ts_clock`
/// (`None` when the current slot has no key: the SYN is then left to the
/// host).
pub fn syn_ack(cfg: &SetupConfig, syn: &Syn, t: u32, ts_clock: u32) -> Option<SynAck> {
    let slot = cfg.current_slot & 1;
    let key = cfg.keys[slot as usize]?;
    let class = s::mss_class(&cfg.mss_table, syn.mss);
    let m = s::message(syn.client, syn.server, syn.isn, t, class);
    let seq = s::cookie(t, class, slot, mac(&key, &m));
    let ts = syn
        .tsval
        .map(|v| (s::ts_encode(ts_clock, syn.wscale, syn.sack_permitted), v));
    Some(SynAck {
        seq,
        ack: syn.isn.wrapping_add(1),
        window: cfg.our_window,
        mss: cfg.our_mss,
        wscale: if ts.is_some() && syn.wscale.is_some() {
            Some(cfg.our_wscale)
        } else {
            None
        },
        sack_permitted: ts.is_some() && syn.sack_permitted,
        ts,
    })
}

/// Judges a final ACK at cookie clock `now`.
pub fn check_ack(cfg: &SetupConfig, a: &Ack, now: u32) -> Result<Established, Reject> {
    let cookie = a.ack.wrapping_sub(1);
    let client_isn = a.seq.wrapping_sub(1);
    let (t_low, class, slot, got) = s::fields(cookie);
    let key = cfg.keys[slot as usize].ok_or(Reject::NoKey)?;
    let (t, age) = s::cookie_time(t_low, now);
    if age > cfg.max_age.min(s::MAX_COOKIE_AGE) {
        return Err(Reject::Expired { age });
    }
    let m = s::message(a.client, a.server, client_isn, t, class);
    if mac(&key, &m) as u32 & s::COOKIE_MAC_MASK != got {
        return Err(Reject::BadMac);
    }
    // Without timestamps in the ACK, nothing but the MSS was kept.
    let (client_wscale, sack_permitted) = match a.ts {
        Some((_, ecr)) => s::ts_decode(ecr),
        None => (None, false),
    };
    Ok(Established {
        client_isn,
        our_isn: cookie,
        mss: cfg.mss_table[class as usize],
        client_wscale,
        sack_permitted,
        ts: a.ts,
        window: a.window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn() -> Syn {
        Syn {
            client: ([192, 0, 2, 7], 40123),
            server: ([198, 51, 100, 1], 80),
            isn: 0x8000_0001,
            mss: Some(1460),
            wscale: Some(9),
            sack_permitted: true,
            tsval: Some(777),
        }
    }

    fn ack_for(sa: &SynAck, syn: &Syn) -> Ack {
        Ack {
            client: syn.client,
            server: syn.server,
            seq: syn.isn.wrapping_add(1),
            ack: sa.seq.wrapping_add(1),
            window: 502,
            ts: sa.ts.map(|(v, _)| (778, v)),
        }
    }

    #[test]
    fn a_handshake_checks_and_carries_the_options() {
        let cfg = SetupConfig::default();
        let sa = syn_ack(&cfg, &syn(), 1000, 0xABCD_EF00).unwrap();
        assert_eq!(sa.ack, 0x8000_0002);
        assert_eq!(
            (sa.mss, sa.wscale, sa.sack_permitted),
            (1460, Some(7), true)
        );
        assert_eq!(sa.ts, Some((0xABCD_EF00 | 9 | s::TS_SACK_BIT, 777)));
        let e = check_ack(&cfg, &ack_for(&sa, &syn()), 1001).unwrap();
        assert_eq!(
            e,
            Established {
                client_isn: 0x8000_0001,
                our_isn: sa.seq,
                mss: 1460,
                client_wscale: Some(9),
                sack_permitted: true,
                ts: Some((778, sa.ts.unwrap().0)),
                window: 502,
            }
        );
    }

    #[test]
    fn without_timestamps_only_the_mss_survives() {
        let cfg = SetupConfig::default();
        let syn = Syn {
            tsval: None,
            mss: Some(1400),
            ..syn()
        };
        let sa = syn_ack(&cfg, &syn, 5, 0).unwrap();
        assert_eq!((sa.wscale, sa.sack_permitted, sa.ts), (None, false, None));
        let e = check_ack(&cfg, &ack_for(&sa, &syn), 5).unwrap();
        assert_eq!(e.mss, 1300, "largest class not above 1400");
        assert_eq!((e.client_wscale, e.sack_permitted), (None, false));
    }

    #[test]
    fn age_limit_across_the_3_bit_clock() {
        let cfg = SetupConfig::default();
        let sa = syn_ack(&cfg, &syn(), 6, 0).unwrap();
        let a = ack_for(&sa, &syn());
        assert!(check_ack(&cfg, &a, 6).is_ok());
        assert!(
            check_ack(&cfg, &a, 8).is_ok(),
            "age 2 across the wrap of t mod 8"
        );
        assert_eq!(check_ack(&cfg, &a, 9), Err(Reject::Expired { age: 3 }));
        // Eight ticks later the low bits match again, but the MAC covers
        // the full clock.
        assert_eq!(check_ack(&cfg, &a, 14), Err(Reject::BadMac));
    }

    #[test]
    fn key_rotation_keeps_the_old_slot_for_a_grace_period() {
        let mut cfg = SetupConfig::default();
        let old = syn_ack(&cfg, &syn(), 50, 0).unwrap();
        cfg.keys[1] = Some([0x22; 16]);
        cfg.current_slot = 1;
        let new = syn_ack(&cfg, &syn(), 50, 0).unwrap();
        assert_ne!(old.seq, new.seq);
        assert!(check_ack(&cfg, &ack_for(&old, &syn()), 50).is_ok());
        assert!(check_ack(&cfg, &ack_for(&new, &syn()), 50).is_ok());
        cfg.keys[0] = None;
        assert_eq!(
            check_ack(&cfg, &ack_for(&old, &syn()), 50),
            Err(Reject::NoKey)
        );
        // A new key in the old slot does not revive old cookies.
        cfg.keys[0] = Some([0x33; 16]);
        assert_eq!(
            check_ack(&cfg, &ack_for(&old, &syn()), 50),
            Err(Reject::BadMac)
        );
    }

    #[test]
    fn anything_changed_fails_the_mac() {
        let cfg = SetupConfig::default();
        let sa = syn_ack(&cfg, &syn(), 9, 0).unwrap();
        let good = ack_for(&sa, &syn());
        let variants = [
            Ack {
                seq: good.seq + 1,
                ..good
            },
            Ack {
                client: ([192, 0, 2, 8], 40123),
                ..good
            },
            Ack {
                client: ([192, 0, 2, 7], 40124),
                ..good
            },
            Ack {
                server: ([198, 51, 100, 1], 81),
                ..good
            },
            // Another MSS class with the same MAC bits.
            Ack {
                ack: good.ack ^ (1 << s::COOKIE_MSS_SHIFT),
                ..good
            },
            Ack {
                ack: good.ack ^ 1,
                ..good
            },
        ];
        for v in variants {
            assert!(check_ack(&cfg, &v, 9).is_err(), "{v:?} accepted");
        }
    }

    #[test]
    fn random_acks_are_rejected() {
        let cfg = SetupConfig::default();
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut accepted = 0;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = Ack {
                client: ([10, 0, (x >> 8) as u8, x as u8], (x >> 16) as u16),
                server: ([198, 51, 100, 1], 80),
                seq: (x >> 32) as u32,
                ack: x as u32,
                window: 1,
                ts: None,
            };
            accepted += check_ack(&cfg, &a, 3).is_ok() as u32;
        }
        // 26-bit MAC: about 2^-26 per guess.
        assert_eq!(accepted, 0);
    }
}
