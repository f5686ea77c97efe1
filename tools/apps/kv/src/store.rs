//! The key space: byte-string keys to byte-string values with optional
//! expiry, on an explicit clock, with a memory limit.
//!
//! Time is passed in (`now`, milliseconds on the server's clock) to every
//! call: nothing here reads a clock, so tests set the time they want.
//! Expired keys vanish lazily when touched and actively through
//! [`Store::expire_some`], which the server calls once per loop, so their
//! memory comes back even if nobody reads them.
//!
//! Memory is counted per entry as key and value bytes plus a fixed
//! overhead ([`ENTRY_OVERHEAD`], [`EXPIRY_OVERHEAD`] for a key with a
//! deadline), an estimate of the allocator's and the tables' share.  A
//! write that would take the count above the limit is refused (the caller
//! replies `-OOM`), as Redis's `maxmemory` with the `noeviction` policy
//! does; deletions and shrinking writes always go through.
use std::collections::{BTreeSet, HashMap};

/// Bytes counted for an entry besides its key and value.
pub const ENTRY_OVERHEAD: usize = 64;
/// Bytes counted for a key's place in the expiry index, besides the key.
pub const EXPIRY_OVERHEAD: usize = 32;

#[derive(Clone, Debug)]
struct Entry {
    value: Vec<u8>,
    /// Deadline in ms on the store's clock.
    expire_at: Option<u64>,
}

/// Counters of what the store did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub expired_keys: u64,
    /// Writes refused for the memory limit.
    pub oom_rejections: u64,
    pub hits: u64,
    pub misses: u64,
}

/// A write refused because it would exceed the memory limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

#[derive(Debug)]
pub struct Store {
    map: HashMap<Vec<u8>, Entry>,
    /// (deadline, key) for every key with a deadline.
    expiries: BTreeSet<(u64, Vec<u8>)>,
    used: usize,
    limit: usize,
    stats: StoreStats,
}

fn cost(key: &[u8], value_len: usize, expiring: bool) -> usize {
    let mut c = ENTRY_OVERHEAD + key.len() + value_len;
    if expiring {
        c += EXPIRY_OVERHEAD + key.len();
    }
    c
}

impl Store {
    /// An empty store that may hold `limit` bytes (as counted above).
    pub fn new(limit: usize) -> Store {
        Store {
            map: HashMap::new(),
            expiries: BTreeSet::new(),
            used: 0,
            limit,
            stats: StoreStats::default(),
        }
    }

    pub fn used_memory(&self) -> usize {
        self.used
    }
    pub fn limit(&self) -> usize {
        self.limit
    }
    pub fn stats(&self) -> StoreStats {
        self.stats
    }
    /// Keys, expired ones not yet reclaimed included (call
    /// [`Store::expire_some`] first for an exact count).
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Keys with a deadline.
    pub fn expiring(&self) -> usize {
        self.expiries.len()
    }

    /// Removes the key if its deadline has passed; true if it is (still)
    /// there afterwards.
    fn live(&mut self, key: &[u8], now: u64) -> bool {
        match self.map.get(key) {
            None => false,
            Some(e) if e.expire_at.is_some_and(|t| t <= now) => {
                self.remove(key);
                self.stats.expired_keys += 1;
                false
            }
            Some(_) => true,
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (k, e) = self.map.remove_entry(key)?;
        self.used -= cost(&k, e.value.len(), e.expire_at.is_some());
        if let Some(t) = e.expire_at {
            self.expiries.remove(&(t, k));
        }
        Some(e)
    }

    /// The value of `key`, if it lives at `now`.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&[u8]> {
        if self.live(key, now) {
            self.stats.hits += 1;
            self.map.get(key).map(|e| e.value.as_slice())
        } else {
            self.stats.misses += 1;
            None
        }
    }

    pub fn exists(&mut self, key: &[u8], now: u64) -> bool {
        self.live(key, now)
    }

    /// The key's deadline: None if absent, Some(None) if it has none.
    pub fn deadline(&mut self, key: &[u8], now: u64) -> Option<Option<u64>> {
        if !self.live(key, now) {
            return None;
        }
        self.map.get(key).map(|e| e.expire_at)
    }

    /// Whether a write replacing `old` counted bytes by `new` may go on.
    fn admit(&mut self, old: usize, new: usize) -> Result<(), OutOfMemory> {
        if new > old && self.used - old + new > self.limit {
            self.stats.oom_rejections += 1;
            return Err(OutOfMemory);
        }
        Ok(())
    }

    /// Sets `key` to `value` with deadline `expire_at`; `keep_ttl` keeps the
    /// old deadline instead (SET KEEPTTL).  Refused when over the limit.
    pub fn set(
        &mut self,
        key: &[u8],
        value: Vec<u8>,
        expire_at: Option<u64>,
        keep_ttl: bool,
        now: u64,
    ) -> Result<(), OutOfMemory> {
        let old = if self.live(key, now) {
            self.map.get(key).map(|e| (e.value.len(), e.expire_at))
        } else {
            None
        };
        let expire_at = if keep_ttl {
            old.and_then(|(_, t)| t)
        } else {
            expire_at
        };
        let old_cost = old.map_or(0, |(len, t)| cost(key, len, t.is_some()));
        self.admit(old_cost, cost(key, value.len(), expire_at.is_some()))?;
        self.remove(key);
        self.insert(key.to_vec(), Entry { value, expire_at });
        Ok(())
    }

    fn insert(&mut self, key: Vec<u8>, e: Entry) {
        self.used += cost(&key, e.value.len(), e.expire_at.is_some());
        if let Some(t) = e.expire_at {
            self.expiries.insert((t, key.clone()));
        }
        self.map.insert(key, e);
    }

    /// Sets every (key, value) pair, all or none: refused as a whole when
    /// the pairs together would exceed the limit.  Deadlines are cleared.
    pub fn mset(&mut self, pairs: &[(&[u8], &[u8])], now: u64) -> Result<(), OutOfMemory> {
        // The last value of each key is what stays.
        let mut last: HashMap<&[u8], &[u8]> = HashMap::new();
        for (k, v) in pairs {
            last.insert(k, v);
        }
        let (mut old, mut new) = (0usize, 0usize);
        for (k, v) in &last {
            if self.live(k, now) {
                let e = &self.map[*k];
                old += cost(k, e.value.len(), e.expire_at.is_some());
            }
            new += cost(k, v.len(), false);
        }
        self.admit(old, new)?;
        for (k, v) in last {
            self.remove(k);
            self.insert(
                k.to_vec(),
                Entry {
                    value: v.to_vec(),
                    expire_at: None,
                },
            );
        }
        Ok(())
    }

    /// Deletes `key`; true if it lived.
    pub fn del(&mut self, key: &[u8], now: u64) -> bool {
        self.live(key, now) && self.remove(key).is_some()
    }

    /// Sets the key's deadline (None: persistent).  False if the key does
    /// not live.  A deadline at or before `now` deletes the key.
    pub fn set_deadline(
        &mut self,
        key: &[u8],
        at: Option<u64>,
        now: u64,
    ) -> Result<bool, OutOfMemory> {
        if !self.live(key, now) {
            return Ok(false);
        }
        if at.is_some_and(|t| t <= now) {
            self.remove(key);
            return Ok(true);
        }
        let e = self.map.get(key).expect("live");
        let (len, was) = (e.value.len(), e.expire_at);
        self.admit(cost(key, len, was.is_some()), cost(key, len, at.is_some()))?;
        let (k, mut e) = self.map.remove_entry(key).expect("live");
        self.used -= cost(&k, len, was.is_some());
        if let Some(t) = was {
            self.expiries.remove(&(t, k.clone()));
        }
        e.expire_at = at;
        self.insert(k, e);
        Ok(true)
    }

    /// Adds `by` to the integer in `key` (absent: 0), keeping its deadline.
    pub fn incr_by(&mut self, key: &[u8], by: i64, now: u64) -> Result<i64, IncrError> {
        let cur = match self.get(key, now) {
            None => 0,
            Some(v) => crate::resp::parse_i64(v).ok_or(IncrError::NotInteger)?,
        };
        let n = cur.checked_add(by).ok_or(IncrError::Overflow)?;
        let keep = self.map.contains_key(key);
        self.set(key, n.to_string().into_bytes(), None, keep, now)
            .map_err(|_| IncrError::Oom)?;
        Ok(n)
    }

    /// Deletes every key.
    pub fn flush(&mut self) {
        self.map.clear();
        self.expiries.clear();
        self.used = 0;
    }

    /// Deletes up to `max` keys whose deadline is at or before `now`;
    /// returns how many.
    pub fn expire_some(&mut self, now: u64, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some((t, _)) = self.expiries.first() else {
                break;
            };
            if *t > now {
                break;
            }
            let (_, k) = self.expiries.pop_first().expect("first");
            let e = self.map.remove(&k).expect("indexed key exists");
            self.used -= cost(&k, e.value.len(), true);
            self.stats.expired_keys += 1;
            n += 1;
        }
        n
    }
}

/// Why INCR and friends failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrError {
    NotInteger,
    Overflow,
    Oom,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_del_and_memory_count() {
        let mut s = Store::new(1 << 20);
        assert_eq!(s.get(b"k", 0), None);
        s.set(b"k", b"v".to_vec(), None, false, 0).unwrap();
        assert_eq!(s.get(b"k", 0), Some(&b"v"[..]));
        assert_eq!(s.used_memory(), ENTRY_OVERHEAD + 2);
        s.set(b"k", b"vvv".to_vec(), Some(10), false, 0).unwrap();
        assert_eq!(s.used_memory(), ENTRY_OVERHEAD + 4 + EXPIRY_OVERHEAD + 1);
        assert!(s.del(b"k", 0));
        assert!(!s.del(b"k", 0));
        assert_eq!(s.used_memory(), 0);
        assert_eq!(s.expiring(), 0);
    }

    #[test]
    fn expiry_on_the_given_clock() {
        let mut s = Store::new(1 << 20);
        s.set(b"a", b"1".to_vec(), Some(100), false, 0).unwrap();
        s.set(b"b", b"2".to_vec(), Some(200), false, 0).unwrap();
        assert_eq!(s.deadline(b"a", 99), Some(Some(100)));
        assert_eq!(s.get(b"a", 100), None, "gone at its deadline");
        assert_eq!(s.len(), 1);
        // Active expiry reclaims b without anybody reading it.
        assert_eq!(s.expire_some(199, 10), 0);
        assert_eq!(s.expire_some(200, 10), 1);
        assert!(s.is_empty());
        assert_eq!(s.used_memory(), 0);
        assert_eq!(s.stats().expired_keys, 2);
    }

    #[test]
    fn deadlines_change_and_keep() {
        let mut s = Store::new(1 << 20);
        s.set(b"k", b"5".to_vec(), Some(1000), false, 0).unwrap();
        assert_eq!(s.incr_by(b"k", 2, 10), Ok(7));
        assert_eq!(s.deadline(b"k", 10), Some(Some(1000)), "INCR keeps the TTL");
        s.set(b"k", b"x".to_vec(), None, true, 10).unwrap();
        assert_eq!(s.deadline(b"k", 10), Some(Some(1000)), "KEEPTTL");
        assert_eq!(s.set_deadline(b"k", Some(50), 10), Ok(true));
        assert_eq!(s.expiring(), 1);
        assert_eq!(s.set_deadline(b"k", None, 10), Ok(true));
        assert_eq!(s.expiring(), 0);
        assert_eq!(
            s.set_deadline(b"k", Some(10), 10),
            Ok(true),
            "past: deleted"
        );
        assert_eq!(s.get(b"k", 10), None);
        assert_eq!(s.set_deadline(b"k", Some(99), 10), Ok(false));
    }

    #[test]
    fn incr_errors() {
        let mut s = Store::new(1 << 20);
        s.set(b"t", b"abc".to_vec(), None, false, 0).unwrap();
        assert_eq!(s.incr_by(b"t", 1, 0), Err(IncrError::NotInteger));
        s.set(b"m", i64::MAX.to_string().into_bytes(), None, false, 0)
            .unwrap();
        assert_eq!(s.incr_by(b"m", 1, 0), Err(IncrError::Overflow));
        assert_eq!(s.incr_by(b"new", -3, 0), Ok(-3));
    }

    #[test]
    fn memory_limit_refuses_growth_not_shrinking() {
        let mut s = Store::new(200);
        s.set(b"a", vec![0; 100], None, false, 0).unwrap();
        assert_eq!(s.set(b"b", vec![0; 100], None, false, 0), Err(OutOfMemory));
        assert_eq!(s.get(b"b", 0), None);
        // Growing a itself past the limit is refused, shrinking is fine.
        assert_eq!(s.set(b"a", vec![0; 150], None, false, 0), Err(OutOfMemory));
        s.set(b"a", vec![0; 10], None, false, 0).unwrap();
        s.set(b"b", vec![0; 50], None, false, 0).unwrap();
        assert!(s.used_memory() <= 200);
        assert_eq!(s.stats().oom_rejections, 2);
        s.flush();
        assert_eq!(s.used_memory(), 0);
    }
}
