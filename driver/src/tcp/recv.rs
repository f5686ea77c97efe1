//! Receive buffer with out-of-order reassembly and SACK blocks (RFC 9293
//! 3.10.7.4, RFC 2018), bounded: it holds at most `capacity` bytes, in
//! order or not, and tracks at most `MAX_RANGES` out-of-order ranges.
//! Whatever does not fit is not stored (the sender retransmits it), so
//! nothing a peer sends makes it grow.
use super::ring::ByteRing;
use super::seq::Seq;

/// Out-of-order ranges remembered at most.
pub const MAX_RANGES: usize = 16;

pub struct RecvBuffer {
    /// Ring of `capacity` bytes: readable bytes from `start`, then the
    /// window (out-of-order data lands at its offset from `rcv_nxt`).
    buf: ByteRing,
    readable: usize,
    rcv_nxt: Seq,
    /// Out-of-order ranges [from, to) beyond `rcv_nxt`, sorted, disjoint,
    /// not adjacent.
    ranges: Vec<(Seq, Seq)>,
    /// Ranges in the order they were last extended (newest first), for SACK
    /// (RFC 2018 4: the first block reports the most recent segment).
    recent: Vec<Seq>,
    /// Bytes refused because they were beyond the window or would need more
    /// than `MAX_RANGES` ranges.
    pub refused: u64,
}

impl RecvBuffer {
    pub fn new(rcv_nxt: Seq, capacity: usize) -> RecvBuffer {
        assert!(capacity > 0 && capacity < (1 << 30));
        RecvBuffer {
            buf: ByteRing::new(capacity),
            readable: 0,
            rcv_nxt,
            ranges: Vec::new(),
            recent: Vec::new(),
            refused: 0,
        }
    }

    /// Next sequence number expected (RCV.NXT).
    pub fn rcv_nxt(&self) -> Seq {
        self.rcv_nxt
    }
    /// In-order bytes waiting for the application.
    pub fn readable(&self) -> usize {
        self.readable
    }
    /// Receive window to advertise (RCV.WND): room after the readable bytes.
    pub fn window(&self) -> u32 {
        (self.buf.capacity() - self.readable) as u32
    }

    fn put(&mut self, at: usize, data: &[u8]) {
        // Bytes held now: the readable ones and the out-of-order ranges.
        let held = self.readable
            + self
                .ranges
                .last()
                .map_or(0, |(_, to)| (*to - self.rcv_nxt) as usize);
        self.buf.write(self.readable + at, data, held);
    }

    /// Bytes of memory the buffer uses now (it grows up to its capacity).
    pub fn allocated(&self) -> usize {
        self.buf.allocated()
    }
    /// See [`ByteRing::adopt`].
    pub fn adopt(&mut self, mem: Vec<u8>) -> Result<(), Vec<u8>> {
        self.buf.adopt(mem)
    }
    /// See [`ByteRing::give_back`].
    pub fn give_back(&mut self) -> Option<Vec<u8>> {
        self.buf.give_back()
    }

    /// Stores a segment's payload starting at `seq`; returns how many bytes
    /// became readable.  Bytes before RCV.NXT (already received) and beyond
    /// the window are dropped.
    pub fn insert(&mut self, seq: Seq, data: &[u8]) -> usize {
        let wnd = self.window();
        let mut s = seq;
        let mut d = data;
        // Trim what was already received.
        if s < self.rcv_nxt {
            let skip = (self.rcv_nxt - s) as usize;
            if skip >= d.len() {
                return 0;
            }
            d = &d[skip..];
            s = self.rcv_nxt;
        }
        // Trim what lies beyond the window.
        let off = (s - self.rcv_nxt) as usize;
        if off >= wnd as usize {
            self.refused += d.len() as u64;
            return 0;
        }
        if off + d.len() > wnd as usize {
            let keep = wnd as usize - off;
            self.refused += (d.len() - keep) as u64;
            d = &d[..keep];
        }
        if d.is_empty() {
            return 0;
        }
        let end = s + d.len() as u32;
        if off > 0 && !self.add_range(s, end) {
            self.refused += d.len() as u64;
            return 0;
        }
        self.put(off, d);
        if off > 0 {
            return 0;
        }
        // In order: advance over it and every range it now reaches.
        let mut nxt = end;
        while let Some(&(from, to)) = self.ranges.first() {
            if from > nxt {
                break;
            }
            nxt = nxt.max(to);
            self.ranges.remove(0);
            self.recent.retain(|r| *r != from);
        }
        let advanced = (nxt - self.rcv_nxt) as usize;
        self.rcv_nxt = nxt;
        self.readable += advanced;
        advanced
    }

    /// Merges [from, to) into the range list; false if it would need more
    /// than MAX_RANGES ranges.
    fn add_range(&mut self, from: Seq, to: Seq) -> bool {
        let (mut f, mut t) = (from, to);
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        let mut merged_keys = Vec::new();
        for &(a, b) in &self.ranges {
            if b < f || a > t {
                kept.push((a, b));
            } else {
                f = f.min(a);
                t = t.max(b);
                merged_keys.push(a);
            }
        }
        if kept.len() + 1 > MAX_RANGES {
            return false;
        }
        kept.push((f, t));
        kept.sort_by_key(|x| x.0);
        self.ranges = kept;
        self.recent.retain(|r| !merged_keys.contains(r));
        self.recent.insert(0, f);
        true
    }

    /// SACK blocks to send (at most `max`, newest first), as
    /// (left edge, right edge).
    pub fn sack_blocks(&self, max: usize) -> Vec<(Seq, Seq)> {
        self.recent
            .iter()
            .filter_map(|k| self.ranges.iter().find(|(a, _)| a == k).copied())
            .take(max)
            .collect()
    }

    /// Whether out-of-order data waits beyond a hole.
    pub fn has_holes(&self) -> bool {
        !self.ranges.is_empty()
    }

    /// In-order bytes in place (the first contiguous piece of them); see
    /// [`RecvBuffer::consume`].
    pub fn peek(&self) -> &[u8] {
        self.buf.slice(0, self.readable)
    }

    /// Drops `n` in-order bytes (read in place with [`RecvBuffer::peek`]).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.readable);
        self.buf.advance(n);
        self.readable -= n;
    }

    /// Copies in-order bytes to `dst`; returns how many.
    pub fn read(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.readable);
        self.buf.read(0, &mut dst[..n]);
        self.buf.advance(n);
        self.readable -= n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(from: u32, n: usize) -> Vec<u8> {
        (0..n).map(|i| (from as usize + i) as u8).collect()
    }

    #[test]
    fn in_order_and_reassembly() {
        let mut r = RecvBuffer::new(Seq(1000), 100);
        assert_eq!(r.insert(Seq(1000), &bytes(0, 10)), 10);
        // A hole at 1010..1020, then data after it.
        assert_eq!(r.insert(Seq(1020), &bytes(20, 10)), 0);
        assert_eq!(r.insert(Seq(1040), &bytes(40, 5)), 0);
        assert_eq!(
            r.sack_blocks(4),
            vec![(Seq(1040), Seq(1045)), (Seq(1020), Seq(1030))]
        );
        assert_eq!(r.rcv_nxt(), Seq(1010));
        // Filling the hole releases 1010..1030.
        assert_eq!(r.insert(Seq(1010), &bytes(10, 10)), 20);
        assert_eq!(r.rcv_nxt(), Seq(1030));
        assert_eq!(r.sack_blocks(4), vec![(Seq(1040), Seq(1045))]);
        let mut out = vec![0; 64];
        assert_eq!(r.read(&mut out), 30);
        assert_eq!(&out[..30], &bytes(0, 30)[..]);
        assert_eq!(r.window(), 100);
    }

    #[test]
    fn duplicates_overlaps_and_window_limits() {
        let mut r = RecvBuffer::new(Seq(u32::MAX - 4), 20);
        // Wraps around 2^32.
        assert_eq!(r.insert(Seq(u32::MAX - 4), &bytes(0, 8)), 8);
        // A duplicate, and an overlap extending the data.
        assert_eq!(r.insert(Seq(u32::MAX - 4), &bytes(0, 8)), 0);
        assert_eq!(r.insert(Seq(u32::MAX - 4) + 6, &bytes(6, 6)), 4);
        assert_eq!(r.readable(), 12);
        assert_eq!(r.window(), 8);
        // Beyond the window: trimmed and counted.
        assert_eq!(r.insert(r.rcv_nxt(), &bytes(12, 20)), 8);
        assert_eq!(r.refused, 12);
        assert_eq!(r.window(), 0);
        let mut out = vec![0; 20];
        assert_eq!(r.read(&mut out), 20);
        assert_eq!(out, bytes(0, 20));
    }

    #[test]
    fn range_count_is_bounded() {
        let mut r = RecvBuffer::new(Seq(0), 10_000);
        for i in 0..MAX_RANGES as u32 {
            r.insert(Seq(10 + 20 * i), &[1]);
        }
        assert_eq!(r.sack_blocks(100).len(), MAX_RANGES);
        // One more separate range is refused; one touching a range is fine.
        r.insert(Seq(5000), &[1]);
        assert_eq!(r.refused, 1);
        r.insert(Seq(11), &[1]);
        assert_eq!(r.sack_blocks(1), vec![(Seq(10), Seq(12))]);
        // Merging ranges frees slots.
        r.insert(Seq(0), &[0; 400]);
        assert_eq!(r.rcv_nxt(), Seq(400));
        assert!(r.sack_blocks(100).len() < MAX_RANGES);
    }
}
