//! ARP cache (RFC 826), bounded, with explicit time.
use smoltcp::wire::{EthernetAddress, Ipv4Address};
use std::collections::HashMap;

/// Keyed by addresses peers choose: a keyed hash with a per-process random
/// key, cheaper than SipHash.
type Map<K, V> = HashMap<K, V, ahash::RandomState>;
use std::time::Duration;

/// How long a learned entry stays valid (Linux's default base reachable
/// time is 30 s; a host that stops answering is forgotten after this).
pub const ENTRY_LIFETIME: Duration = Duration::from_secs(60);
/// Least time between two requests for the same address.
pub const REQUEST_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug)]
struct Entry {
    mac: EthernetAddress,
    expires: Duration,
}

/// Address cache with at most `capacity` entries: when full, the entry
/// closest to expiry is replaced, so a peer cannot grow it without bound.
pub struct ArpCache {
    entries: Map<Ipv4Address, Entry>,
    /// Last request sent per unresolved address (bounded like `entries`).
    requested: Map<Ipv4Address, Duration>,
    capacity: usize,
    /// Inserts so far: lets a caller notice new entries without a scan.
    generation: u64,
    /// When [`ArpCache::expire`] next sweeps (lookups check expiry
    /// themselves; the sweep frees the room).
    next_sweep: Duration,
    /// The entry inserted last, as it is in `entries`: a host talks to
    /// one next hop (its peer on the link, or the gateway) most of the
    /// time, and this spares the hash lookup of every frame in and out.
    last: Option<(Ipv4Address, Entry)>,
}

impl ArpCache {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0);
        ArpCache {
            entries: Map::default(),
            requested: Map::default(),
            capacity,
            generation: 0,
            next_sweep: Duration::ZERO,
            last: None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records `ip` at `mac` (RFC 826's "merge" step).
    pub fn insert(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Duration) {
        if !self.entries.contains_key(&ip) && self.entries.len() >= self.capacity {
            if let Some(victim) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| *k)
            {
                self.entries.remove(&victim);
            }
        }
        let e = Entry {
            mac,
            expires: now + ENTRY_LIFETIME,
        };
        self.entries.insert(ip, e);
        self.last = Some((ip, e));
        self.requested.remove(&ip);
        self.generation += 1;
    }

    /// Changes with every insert.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The entries still valid at `now`.
    pub fn entries(
        &self,
        now: Duration,
    ) -> impl Iterator<Item = (Ipv4Address, EthernetAddress)> + '_ {
        self.entries
            .iter()
            .filter(move |(_, e)| now < e.expires)
            .map(|(ip, e)| (*ip, e.mac))
    }

    /// Whether `ip` is cached (RFC 826: only then is an existing entry
    /// updated from a packet not addressed to us).
    pub fn contains(&self, ip: Ipv4Address, now: Duration) -> bool {
        self.lookup(ip, now).is_some()
    }

    pub fn lookup(&self, ip: Ipv4Address, now: Duration) -> Option<EthernetAddress> {
        let e = match self.last {
            Some((last, e)) if last == ip => Some(e),
            _ => self.entries.get(&ip).copied(),
        };
        e.filter(|e| e.expires > now).map(|e| e.mac)
    }

    /// Whether a request for `ip` should go out now (rate limited), and
    /// notes that it does.
    pub fn should_request(&mut self, ip: Ipv4Address, now: Duration) -> bool {
        match self.requested.get(&ip) {
            Some(&t) if now < t + REQUEST_INTERVAL => false,
            _ => {
                if self.requested.len() >= self.capacity {
                    self.requested.retain(|_, t| now < *t + REQUEST_INTERVAL);
                    if self.requested.len() >= self.capacity {
                        return false;
                    }
                }
                self.requested.insert(ip, now);
                true
            }
        }
    }

    /// Drops expired entries.
    /// Sweeps at most once per [`REQUEST_INTERVAL`], not on every poll
    /// (an expired entry is never returned by a lookup meanwhile).
    pub fn expire(&mut self, now: Duration) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + REQUEST_INTERVAL;
        self.entries.retain(|_, e| e.expires > now);
        if self.last.is_some_and(|(_, e)| e.expires <= now) {
            self.last = None;
        }
        self.requested.retain(|_, t| now < *t + REQUEST_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Ipv4Address {
        Ipv4Address::new(10, 0, 0, n)
    }
    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    /// The memo of the last entry answers as the table would: replaced
    /// entries, other addresses and expired entries included.
    #[test]
    fn the_last_entry_memo_answers_as_the_table() {
        let mut c = ArpCache::new(1);
        c.insert(ip(1), MAC, Duration::ZERO);
        assert_eq!(c.lookup(ip(1), Duration::ZERO), Some(MAC));
        let other = EthernetAddress([2, 0, 0, 0, 0, 2]);
        c.insert(ip(2), other, Duration::from_secs(1));
        assert_eq!(c.lookup(ip(1), Duration::from_secs(1)), None, "evicted");
        assert_eq!(c.lookup(ip(2), Duration::from_secs(1)), Some(other));
        let later = Duration::from_secs(1) + ENTRY_LIFETIME;
        assert_eq!(c.lookup(ip(2), later), None, "expired");
        c.expire(later);
        assert!(c.is_empty());
        assert_eq!(c.lookup(ip(2), Duration::from_secs(1)), None, "swept");
    }

    #[test]
    fn entries_expire() {
        let mut c = ArpCache::new(4);
        c.insert(ip(1), MAC, Duration::ZERO);
        assert_eq!(c.lookup(ip(1), Duration::from_secs(59)), Some(MAC));
        assert_eq!(c.lookup(ip(1), ENTRY_LIFETIME), None);
        c.expire(ENTRY_LIFETIME);
        assert!(c.is_empty());
    }

    #[test]
    fn bounded_replaces_oldest() {
        let mut c = ArpCache::new(2);
        c.insert(ip(1), MAC, Duration::from_secs(0));
        c.insert(ip(2), MAC, Duration::from_secs(1));
        c.insert(ip(3), MAC, Duration::from_secs(2));
        assert_eq!(c.len(), 2);
        assert!(!c.contains(ip(1), Duration::from_secs(2)));
        assert!(c.contains(ip(3), Duration::from_secs(2)));
    }

    #[test]
    fn requests_are_rate_limited() {
        let mut c = ArpCache::new(2);
        assert!(c.should_request(ip(9), Duration::ZERO));
        assert!(!c.should_request(ip(9), Duration::from_millis(999)));
        assert!(c.should_request(ip(9), Duration::from_millis(1000)));
    }
}
