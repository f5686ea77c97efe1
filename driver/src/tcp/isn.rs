//! Initial sequence numbers (RFC 6528): ISN = M + F(localip, localport,
//! remoteip, remoteport, secretkey), where M is a timer ticking every
//! 4 microseconds and F a keyed pseudorandom function, here SipHash-2-4
//! with a 128-bit secret.  Different connections get unpredictable ISNs;
//! one connection's ISN grows with time, so a new incarnation of a
//! 4-tuple starts beyond the old one's numbers (RFC 9293 3.4.1).
use super::seq::Seq;
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use std::net::Ipv4Addr;
use std::time::Duration;

pub struct IsnGenerator {
    key: [u8; 16],
}

impl IsnGenerator {
    /// A generator with the given secret (keep it secret; pick it at random
    /// at start-up).
    pub fn new(key: [u8; 16]) -> Self {
        IsnGenerator { key }
    }

    /// A second secret derived from this one for another purpose (`label`
    /// names it, e.g. the SYN cookie key): as random as the ISN secret,
    /// and revealing nothing about it.
    pub fn derive_key(&self, label: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, half) in out.chunks_mut(8).enumerate() {
            let mut h = SipHasher24::new_with_key(&self.key);
            h.write(label);
            h.write_u8(i as u8);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        out
    }

    /// A generator with a secret from the operating system's random source.
    pub fn from_os_random() -> std::io::Result<Self> {
        let mut key = [0u8; 16];
        std::fs::File::open("/dev/urandom").and_then(|mut f| {
            use std::io::Read;
            f.read_exact(&mut key)
        })?;
        Ok(IsnGenerator { key })
    }

    /// The ISN for a connection from `local` to `remote` at time `now`
    /// (time since an arbitrary fixed origin).
    pub fn isn(&self, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16), now: Duration) -> Seq {
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write(&local.0.octets());
        h.write(&local.1.to_be_bytes());
        h.write(&remote.0.octets());
        h.write(&remote.1.to_be_bytes());
        let f = h.finish() as u32;
        let m = (now.as_micros() / 4) as u32;
        Seq(m.wrapping_add(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: (Ipv4Addr, u16) = (Ipv4Addr::new(10, 0, 0, 1), 40000);
    const B: (Ipv4Addr, u16) = (Ipv4Addr::new(10, 0, 0, 2), 80);

    #[test]
    fn isn_grows_with_time_by_one_every_4_us() {
        let g = IsnGenerator::new([7; 16]);
        let t = Duration::from_secs(10);
        let a = g.isn(A, B, t);
        assert_eq!(g.isn(A, B, t + Duration::from_micros(400)) - a, 100);
    }

    #[test]
    fn isn_depends_on_tuple_and_key() {
        let g = IsnGenerator::new([7; 16]);
        let t = Duration::from_secs(1);
        let base = g.isn(A, B, t);
        assert_ne!(base, g.isn(B, A, t));
        assert_ne!(base, g.isn((A.0, A.1 + 1), B, t));
        assert_ne!(base, IsnGenerator::new([8; 16]).isn(A, B, t));
        assert_eq!(base, IsnGenerator::new([7; 16]).isn(A, B, t));
        // Spread: 1000 source ports give (almost) 1000 different offsets.
        let mut v: Vec<u32> = (0..1000).map(|p| g.isn((A.0, p), B, t).0).collect();
        v.sort();
        v.dedup();
        assert!(v.len() >= 999);
    }
}
