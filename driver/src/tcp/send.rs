//! Bounded send buffer with a SACK scoreboard: what the application wrote
//! and the peer has not acknowledged.  `write` takes only what fits
//! (backpressure); segments are cut from it for first transmission or
//! retransmission; cumulative ACKs free it; SACK blocks (RFC 2018) mark
//! ranges the peer holds so retransmission fills the holes first (the
//! "next segment to retransmit" rule of RFC 6675, without its pipe
//! accounting).
use super::ring::ByteRing;
use super::seq::Seq;

/// SACKed ranges remembered at most (a peer cannot grow the scoreboard).
pub const MAX_SACKED: usize = 32;

pub struct SendBuffer {
    buf: ByteRing,
    /// Bytes held: acknowledged bytes are dropped at once, so these are
    /// `[una, una + len)`, of which `[una, nxt)` were sent.
    len: usize,
    una: Seq,
    nxt: Seq,
    /// Highest sequence number sent so far (SND.MAX): after a rewind,
    /// ACKs up to it are still valid.
    max: Seq,
    sacked: Vec<(Seq, Seq)>,
}

impl SendBuffer {
    /// A buffer whose first byte will carry sequence number `first`
    /// (ISS + 1).
    pub fn new(first: Seq, capacity: usize) -> SendBuffer {
        assert!(capacity > 0 && capacity < (1 << 30));
        SendBuffer {
            buf: ByteRing::new(capacity),
            len: 0,
            una: first,
            nxt: first,
            max: first,
            sacked: Vec::new(),
        }
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

    pub fn una(&self) -> Seq {
        self.una
    }
    pub fn nxt(&self) -> Seq {
        self.nxt
    }
    /// Highest sequence number sent (SND.MAX).
    pub fn max_sent(&self) -> Seq {
        self.max
    }
    /// Room for `write`.
    pub fn free(&self) -> usize {
        self.buf.capacity() - self.len
    }
    /// Sent and not yet acknowledged.
    pub fn in_flight(&self) -> u32 {
        self.nxt - self.una
    }
    /// Written and not yet sent.
    pub fn unsent(&self) -> usize {
        self.len - self.in_flight() as usize
    }
    pub fn sacked(&self) -> &[(Seq, Seq)] {
        &self.sacked
    }

    /// Queues as much of `data` as fits; returns how much.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.buf.write(self.len, &data[..n], self.len);
        self.len += n;
        n
    }

    /// Lets `fill` write up to `max` bytes straight into the buffer's free
    /// room (the first contiguous piece of it) and queues the `k` bytes it
    /// says it wrote (at most the room it was given); returns `k`.
    pub fn write_with(&mut self, max: usize, fill: impl FnOnce(&mut [u8]) -> usize) -> usize {
        let n = max.min(self.free());
        let room = self.buf.slice_mut(self.len, n, self.len);
        let k = fill(room).min(room.len());
        self.len += k;
        k
    }

    fn copy(&self, from: Seq, n: usize) -> Vec<u8> {
        let off = (from - self.una) as usize;
        let mut v = vec![0u8; n];
        self.buf.read(off, &mut v);
        v
    }

    /// Copies the bytes in flight `[una, nxt)` into `dst` (at most its
    /// length, from `una`); returns how many.  For the teardown offload's
    /// hand-over, which gives the NIC the unacknowledged bytes.
    pub fn copy_in_flight(&self, dst: &mut [u8]) -> usize {
        let n = (self.in_flight() as usize).min(dst.len());
        self.buf.read(0, &mut dst[..n]);
        n
    }

    /// Counts everything written so far as sent once (SND.NXT and SND.MAX
    /// at its end): a connection rebuilt from a teardown hand-over the NIC
    /// refused, whose bytes the host had sent before handing it over.
    pub fn assume_sent(&mut self) {
        self.nxt = self.una + self.len as u32;
        self.max = self.max.max(self.nxt);
    }

    /// The next segment of new data: at most `mss` bytes and at most
    /// `room` (what the congestion and peer windows still allow).
    pub fn next_new(&mut self, mss: usize, room: u32) -> Option<(Seq, Vec<u8>)> {
        let n = self.unsent().min(mss).min(room as usize);
        if n == 0 {
            return None;
        }
        let seq = self.nxt;
        let data = self.copy(seq, n);
        self.nxt = self.nxt + n as u32;
        self.max = self.max.max(self.nxt);
        Some((seq, data))
    }

    /// The segment to retransmit: from the first byte not acknowledged and
    /// not SACKed, at most `mss` bytes, stopping at the next SACKed range.
    pub fn next_retransmit(&self, mss: usize) -> Option<(Seq, Vec<u8>)> {
        let mut from = self.una;
        for &(a, b) in &self.sacked {
            if a > from {
                break;
            }
            from = from.max(b);
        }
        if from >= self.nxt {
            return None;
        }
        let limit = self
            .sacked
            .iter()
            .find(|(a, _)| *a > from)
            .map_or(self.nxt, |(a, _)| *a);
        let n = ((limit - from) as usize).min(mss);
        Some((from, self.copy(from, n)))
    }

    /// A cumulative acknowledgement; returns the bytes it freed (0 for an
    /// old or impossible one, which the caller has checked already).
    pub fn ack(&mut self, ack: Seq) -> usize {
        if ack <= self.una || ack > self.max {
            return 0;
        }
        let n = (ack - self.una) as usize;
        self.buf.advance(n);
        self.len -= n;
        self.una = ack;
        // After a rewind the peer may acknowledge beyond the resend point.
        self.nxt = self.nxt.max(ack);
        self.sacked.retain(|(_, b)| *b > ack);
        for r in &mut self.sacked {
            r.0 = r.0.max(ack);
        }
        n
    }

    fn sacked_bytes(&self) -> u32 {
        self.sacked.iter().map(|(a, b)| *b - *a).sum()
    }

    /// Records SACK blocks, clipped to what is in flight; returns how many
    /// bytes they newly mark as held by the peer.
    pub fn sack(&mut self, blocks: &[(Seq, Seq)]) -> u32 {
        let before = self.sacked_bytes();
        for &(a, b) in blocks {
            let (a, b) = (a.max(self.una), b.min(self.max));
            if a >= b {
                continue;
            }
            let (mut f, mut t) = (a, b);
            let mut kept: Vec<(Seq, Seq)> = Vec::with_capacity(self.sacked.len() + 1);
            for &(x, y) in &self.sacked {
                if y < f || x > t {
                    kept.push((x, y));
                } else {
                    f = f.min(x);
                    t = t.max(y);
                }
            }
            if kept.len() >= MAX_SACKED {
                continue;
            }
            kept.push((f, t));
            kept.sort_by_key(|p| p.0);
            self.sacked = kept;
        }
        self.sacked_bytes().saturating_sub(before)
    }

    /// Everything in flight is to be sent again (after a timeout, RFC 6298
    /// 5.4 with go-back-N): the scoreboard is cleared (RFC 2018 8: a
    /// timeout may mean the peer reneged).
    pub fn rewind(&mut self) {
        self.nxt = self.una;
        self.sacked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| i as u8).collect()
    }

    #[test]
    fn backpressure_segmenting_and_acks() {
        let first = Seq(u32::MAX - 100);
        let mut s = SendBuffer::new(first, 1000);
        assert_eq!(s.write(&data(1500)), 1000);
        assert_eq!(s.free(), 0);
        let (q1, d1) = s.next_new(400, 10_000).unwrap();
        assert_eq!((q1, d1.len()), (first, 400));
        // The window allows only 300 more.
        let (q2, d2) = s.next_new(400, 300).unwrap();
        assert_eq!((q2, d2), (first + 400, data(700)[400..].to_vec()));
        assert_eq!((s.in_flight(), s.unsent()), (700, 300));
        // A cumulative ACK across the 2^32 wrap frees buffer space.
        assert_eq!(s.ack(first + 500), 500);
        assert_eq!(s.free(), 500);
        assert_eq!(s.ack(first + 100), 0, "old ACK");
        assert_eq!(s.ack(first + 900), 0, "ACK of unsent data");
        assert_eq!(s.write(&data(10)), 10);
        let (_, rest) = s.next_new(1000, 10_000).unwrap();
        assert_eq!(rest.len(), 310);
    }

    #[test]
    fn sack_holes_are_retransmitted_first() {
        let mut s = SendBuffer::new(Seq(0), 10_000);
        s.write(&data(5000));
        while s.next_new(1000, u32::MAX).is_some() {}
        // The peer holds 1000..2000 and 3000..4000.
        s.sack(&[(Seq(3000), Seq(4000)), (Seq(1000), Seq(2000))]);
        let (q, d) = s.next_retransmit(1460).unwrap();
        assert_eq!((q, d.len()), (Seq(0), 1000));
        s.ack(Seq(1000));
        // Next hole: 2000..3000.
        let (q, d) = s.next_retransmit(1460).unwrap();
        assert_eq!((q, d.len()), (Seq(2000), 1000));
        assert_eq!(d[0], 2000u32 as u8);
        s.ack(Seq(3000));
        assert_eq!(s.sacked(), &[(Seq(3000), Seq(4000))]);
        let (q, _) = s.next_retransmit(1460).unwrap();
        assert_eq!(q, Seq(4000));
        // A timeout rewinds and forgets the scoreboard.
        s.rewind();
        assert!(s.sacked().is_empty());
        assert_eq!(s.next_new(1000, u32::MAX).unwrap().0, Seq(3000));
        // An ACK for data sent before the rewind is still valid.
        assert_eq!(s.max_sent(), Seq(5000));
        assert_eq!(s.ack(Seq(4500)), 1500);
        assert_eq!((s.una(), s.nxt()), (Seq(4500), Seq(4500)));
    }

    #[test]
    fn scoreboard_is_bounded_and_clipped() {
        let mut s = SendBuffer::new(Seq(0), 100_000);
        s.write(&data(100_000));
        while s.next_new(1000, 50_000 - s.in_flight()).is_some() {}
        for i in 0..100u32 {
            s.sack(&[(Seq(10 + 100 * i), Seq(20 + 100 * i))]);
        }
        assert_eq!(s.sacked().len(), MAX_SACKED);
        // Blocks beyond what was sent are clipped away.
        s.sack(&[(Seq(60_000), Seq(70_000))]);
        assert!(s.sacked().iter().all(|(_, b)| *b <= s.nxt()));
    }
}
