//! Maps and sets keyed by a connection's 4-tuple ([`Handle`]), for the
//! per-segment lookups of the stack and the socket layer.
//!
//! The tuple (local port, remote address, remote port) packs into one
//! `u64` ([`key`]), hashed with one keyed `ahash` round (a per-process
//! random key, so peers, who choose addresses and ports, cannot aim for
//! collisions).  Hashing the tuple through `Hash` instead costs a call per
//! field, and the socket layer's std maps (SipHash-1-3) about 160
//! instructions per lookup: several lookups per segment made it one of
//! the largest per-transaction costs (docs/tcp.md, "Per-transaction
//! work").  Sorting handles by [`key`] is likewise one integer compare.
use super::conn::Handle;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The handle as one integer: local port, remote address, remote port.
pub fn key(h: Handle) -> u64 {
    (h.0 as u64) << 48 | (u32::from(h.1) as u64) << 16 | h.2 as u64
}

/// The handle a [`key`] was made from.
pub fn handle(k: u64) -> Handle {
    ((k >> 48) as u16, Ipv4Addr::from((k >> 16) as u32), k as u16)
}

/// A map from handles to `V`.
pub struct HandleMap<V>(HashMap<u64, V, ahash::RandomState>);

impl<V> Default for HandleMap<V> {
    fn default() -> Self {
        HandleMap(HashMap::default())
    }
}

impl<V> HandleMap<V> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, h: &Handle) -> Option<&V> {
        self.0.get(&key(*h))
    }
    pub fn get_mut(&mut self, h: &Handle) -> Option<&mut V> {
        self.0.get_mut(&key(*h))
    }
    pub fn contains_key(&self, h: &Handle) -> bool {
        self.0.contains_key(&key(*h))
    }
    pub fn insert(&mut self, h: Handle, v: V) -> Option<V> {
        self.0.insert(key(h), v)
    }
    pub fn remove(&mut self, h: &Handle) -> Option<V> {
        self.0.remove(&key(*h))
    }
    pub fn clear(&mut self) {
        self.0.clear()
    }
    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &V)> {
        self.0.iter().map(|(k, v)| (handle(*k), v))
    }
    /// Every entry, mutably, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Handle, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (handle(*k), v))
    }
}

/// A set of handles.
#[derive(Default)]
pub struct HandleSet(HandleMap<()>);

impl HandleSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// True when `h` was not in the set.
    pub fn insert(&mut self, h: Handle) -> bool {
        self.0.insert(h, ()).is_none()
    }
    /// True when `h` was in the set.
    pub fn remove(&mut self, h: &Handle) -> bool {
        self.0.remove(h).is_some()
    }
    pub fn contains(&self, h: &Handle) -> bool {
        self.0.contains_key(h)
    }
    pub fn clear(&mut self) {
        self.0.clear()
    }
}

/// Appends `h` unless it is the last entry already: a connection touched
/// several times in a row (a segment, then the application's read, write
/// and close) is listed once, so the list stays short before
/// [`sort_dedup`].
pub fn push_once(v: &mut Vec<Handle>, h: Handle) {
    if v.last() != Some(&h) {
        v.push(h);
    }
}

/// Sorts `v` by [`key`] and drops repeated handles.
pub fn sort_dedup(v: &mut Vec<Handle>) {
    v.sort_unstable_by_key(|h| key(*h));
    v.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_order_as_the_tuple_does() {
        let hs = [
            (0u16, Ipv4Addr::new(0, 0, 0, 0), 0u16),
            (80, Ipv4Addr::new(10, 0, 0, 1), 49152),
            (80, Ipv4Addr::new(10, 0, 0, 1), 49153),
            (80, Ipv4Addr::new(10, 0, 0, 2), 1),
            (81, Ipv4Addr::new(0, 0, 0, 0), 0),
            (u16::MAX, Ipv4Addr::new(255, 255, 255, 255), u16::MAX),
        ];
        for h in hs {
            assert_eq!(handle(key(h)), h);
        }
        for w in hs.windows(2) {
            assert!(w[0] < w[1] && key(w[0]) < key(w[1]), "{w:?}");
        }
    }

    #[test]
    fn map_and_set_behave_as_std_ones() {
        let mut m = HandleMap::new();
        let a = (7, Ipv4Addr::new(10, 9, 0, 1), 50000);
        let b = (7, Ipv4Addr::new(10, 9, 0, 1), 50001);
        assert_eq!(m.insert(a, 1), None);
        assert_eq!(m.insert(a, 2), Some(1));
        assert_eq!(m.insert(b, 3), None);
        assert_eq!(m.get(&a), Some(&2));
        *m.get_mut(&b).unwrap() += 1;
        let mut all: Vec<_> = m.iter().map(|(h, v)| (h, *v)).collect();
        all.sort();
        assert_eq!(all, vec![(a, 2), (b, 4)]);
        assert_eq!(m.remove(&a), Some(2));
        assert!(!m.contains_key(&a) && m.len() == 1);
        let mut s = HandleSet::new();
        assert!(s.insert(a) && !s.insert(a) && s.contains(&a));
        assert!(s.remove(&a) && !s.remove(&a) && s.is_empty());
        let mut v = vec![b, a, b, a];
        sort_dedup(&mut v);
        assert_eq!(v, vec![a, b]);
    }
}
