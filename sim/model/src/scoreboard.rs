//! Scoreboard: expected RX deliveries per queue and expected TX frames in
//! order per queue, compared with what the DUT produced, plus a model of the
//! counters.  Mismatches come back as readable messages.

use crate::nic::RxVerdict;
use std::collections::VecDeque;
use std::fmt::Write;
use toe_contract::desc::Completion;
use toe_contract::regs::{Counter, NUM_COUNTERS};
use toe_contract::NUM_QUEUES;

/// Hex dump of both buffers around their first differing byte, or None when
/// they are equal.
pub fn hex_diff(expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let ndiff = expected.iter().zip(actual).filter(|(a, b)| a != b).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "length expected {} actual {}; first difference at byte {first} ({ndiff} differing bytes in the common part)",
        expected.len(),
        actual.len()
    );
    let start = first & !15;
    let start = start.saturating_sub(16);
    let end = (first + 48).min(expected.len().max(actual.len()));
    for (name, buf) in [("exp", expected), ("act", actual)] {
        let mut off = start;
        while off < end {
            let _ = write!(s, "  {name} {off:04x}:");
            for i in off..(off + 16).min(end) {
                let mark = if expected.get(i) != actual.get(i) {
                    '*'
                } else {
                    ' '
                };
                match buf.get(i) {
                    Some(b) => {
                        let _ = write!(s, "{mark}{b:02x}");
                    }
                    None => s.push_str(" --"),
                }
            }
            s.push('\n');
            off += 16;
        }
    }
    Some(s)
}

/// Field-by-field differences of two completions ("field: expected X, actual Y").
pub fn cpl_diff(expected: &Completion, actual: &Completion) -> Vec<String> {
    let mut d = Vec::new();
    macro_rules! f {
        ($($name:ident),*) => {$(
            if expected.$name != actual.$name {
                d.push(format!("{}: expected {:#x?}, actual {:#x?}", stringify!($name), expected.$name, actual.$name));
            }
        )*};
    }
    f!(
        index, len, hash, flags, l3_off, l4_off, kind, tcp_flags, mss, wscale, opts, window, tsval,
        tsecr, phase
    );
    d
}

/// An expected RX delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedRx {
    pub frame: Vec<u8>,
    pub cpl: Completion,
}

/// Expected values of the NIC counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterModel {
    pub global: [u64; NUM_COUNTERS as usize],
    pub rx_pkts: [u64; NUM_QUEUES],
    pub rx_bytes: [u64; NUM_QUEUES],
    pub tx_pkts: [u64; NUM_QUEUES],
    pub tx_bytes: [u64; NUM_QUEUES],
}

impl CounterModel {
    pub fn get(&self, c: Counter) -> u64 {
        self.global[c as usize]
    }
    pub fn count(&mut self, c: Counter) {
        self.global[c as usize] += 1;
    }
    /// Accounts one RX frame: RxFrames, the verdict's counters, and for a
    /// delivery either the per-queue counters or, when `buffer_drop` is
    /// Some(RxDropNoBuffer / RxDropBufferTooSmall), that drop counter.
    pub fn rx(&mut self, v: &RxVerdict, buffer_drop: Option<Counter>) {
        self.count(Counter::RxFrames);
        v.counters().iter().for_each(|&c| self.count(c));
        if let RxVerdict::Deliver { queue, cpl, .. } = v {
            match buffer_drop {
                Some(c) => self.count(c),
                None => {
                    self.rx_pkts[*queue] += 1;
                    self.rx_bytes[*queue] += u64::from(cpl.len);
                }
            }
        }
    }
    /// Accounts one sent TX frame of `len` bytes on `queue`.
    pub fn tx_sent(&mut self, queue: usize, len: usize) {
        self.count(Counter::TxFrames);
        self.tx_pkts[queue] += 1;
        self.tx_bytes[queue] += len as u64;
    }
    /// Differences against counters read from the DUT.
    pub fn diff(&self, actual: &CounterModel) -> Vec<String> {
        let mut d = Vec::new();
        for i in 0..NUM_COUNTERS as usize {
            if self.global[i] != actual.global[i] {
                d.push(format!(
                    "counter {i}: expected {}, actual {}",
                    self.global[i], actual.global[i]
                ));
            }
        }
        for q in 0..NUM_QUEUES {
            for (name, e, a) in [
                ("rx_pkts", self.rx_pkts[q], actual.rx_pkts[q]),
                ("rx_bytes", self.rx_bytes[q], actual.rx_bytes[q]),
                ("tx_pkts", self.tx_pkts[q], actual.tx_pkts[q]),
                ("tx_bytes", self.tx_bytes[q], actual.tx_bytes[q]),
            ] {
                if e != a {
                    d.push(format!("queue {q} {name}: expected {e}, actual {a}"));
                }
            }
        }
        d
    }
}

/// Expected RX deliveries and TX frames/completions, per queue, in order.
#[derive(Clone, Debug, Default)]
pub struct Scoreboard {
    rx: [VecDeque<ExpectedRx>; NUM_QUEUES],
    tx: [VecDeque<Vec<u8>>; NUM_QUEUES],
    tx_cpl: [VecDeque<Completion>; NUM_QUEUES],
    /// Expected counters; the scoreboard does not update them itself.
    pub counters: CounterModel,
    /// Number of successful comparisons so far.
    pub matched: u64,
}

impl Scoreboard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `frame` with completion `cpl` (index and phase filled in) on
    /// RX queue `queue`, after the ones already expected there.
    pub fn expect_rx(&mut self, queue: usize, frame: &[u8], cpl: Completion) {
        self.rx[queue].push_back(ExpectedRx {
            frame: frame.to_vec(),
            cpl,
        });
    }

    /// Compares an RX delivery of the DUT with the oldest expected one of
    /// that queue (consumed either way).
    pub fn check_rx(&mut self, queue: usize, frame: &[u8], cpl: &Completion) -> Result<(), String> {
        let Some(exp) = self.rx[queue].pop_front() else {
            return Err(format!(
                "RX queue {queue}: unexpected delivery (nothing expected), cpl {cpl:x?}, frame of {} bytes",
                frame.len()
            ));
        };
        let mut msg = String::new();
        let d = cpl_diff(&exp.cpl, cpl);
        if !d.is_empty() {
            let _ = writeln!(msg, "completion differs:\n  {}", d.join("\n  "));
        }
        if let Some(h) = hex_diff(&exp.frame, frame) {
            let _ = write!(msg, "frame data differs: {h}");
        }
        if msg.is_empty() {
            self.matched += 1;
            Ok(())
        } else {
            Err(format!("RX queue {queue} (index {}): {msg}", exp.cpl.index))
        }
    }

    /// Expects `frame` to leave the MAC from TX queue `queue`, after the
    /// frames already expected from that queue.
    pub fn expect_tx(&mut self, queue: usize, frame: Vec<u8>) {
        self.tx[queue].push_back(frame);
    }

    /// Matches a frame seen on the MAC against the head of every TX queue
    /// (queues are interleaved round-robin; order holds within a queue) and
    /// returns the queue it came from.
    pub fn check_tx(&mut self, frame: &[u8]) -> Result<usize, String> {
        if let Some(q) = (0..NUM_QUEUES).find(|&q| self.tx[q].front().is_some_and(|f| f == frame)) {
            self.tx[q].pop_front();
            self.matched += 1;
            return Ok(q);
        }
        let mut msg = format!("TX frame of {} bytes matches no queue head:\n", frame.len());
        for q in 0..NUM_QUEUES {
            match self.tx[q].front() {
                None => {
                    let _ = writeln!(msg, " queue {q}: nothing expected");
                }
                Some(e) => {
                    let _ = write!(
                        msg,
                        " queue {q}: {}",
                        hex_diff(e, frame).unwrap_or_default()
                    );
                }
            }
        }
        Err(msg)
    }

    /// Compares a TX frame known to come from `queue` with that queue's head.
    pub fn check_tx_on(&mut self, queue: usize, frame: &[u8]) -> Result<(), String> {
        let Some(exp) = self.tx[queue].pop_front() else {
            return Err(format!(
                "TX queue {queue}: unexpected frame of {} bytes",
                frame.len()
            ));
        };
        match hex_diff(&exp, frame) {
            None => {
                self.matched += 1;
                Ok(())
            }
            Some(h) => Err(format!("TX queue {queue}: {h}")),
        }
    }

    /// Expects a TX completion on queue `queue`.
    pub fn expect_tx_cpl(&mut self, queue: usize, cpl: Completion) {
        self.tx_cpl[queue].push_back(cpl);
    }

    /// Compares a TX completion with the oldest expected one of the queue.
    pub fn check_tx_cpl(&mut self, queue: usize, cpl: &Completion) -> Result<(), String> {
        let Some(exp) = self.tx_cpl[queue].pop_front() else {
            return Err(format!("TX queue {queue}: unexpected completion {cpl:x?}"));
        };
        let d = cpl_diff(&exp, cpl);
        if d.is_empty() {
            self.matched += 1;
            Ok(())
        } else {
            Err(format!(
                "TX queue {queue} completion (index {}) differs:\n  {}",
                exp.index,
                d.join("\n  ")
            ))
        }
    }

    pub fn pending_rx(&self, queue: usize) -> usize {
        self.rx[queue].len()
    }
    pub fn pending_tx(&self, queue: usize) -> usize {
        self.tx[queue].len()
    }
    pub fn pending_tx_cpl(&self, queue: usize) -> usize {
        self.tx_cpl[queue].len()
    }

    /// Ok when nothing expected is still outstanding.
    pub fn finish(&self) -> Result<(), String> {
        let mut msg = String::new();
        for q in 0..NUM_QUEUES {
            for (what, n) in [
                ("RX deliveries", self.pending_rx(q)),
                ("TX frames", self.pending_tx(q)),
                ("TX completions", self.pending_tx_cpl(q)),
            ] {
                if n != 0 {
                    let _ = writeln!(msg, "queue {q}: {n} expected {what} never seen");
                }
            }
        }
        if msg.is_empty() {
            Ok(())
        } else {
            Err(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_diff_points_at_first_difference() {
        let a: Vec<u8> = (0..100).collect();
        let mut b = a.clone();
        b[70] = 0;
        let s = hex_diff(&a, &b).unwrap();
        assert!(s.contains("first difference at byte 70"), "{s}");
        assert!(s.contains("*46") && s.contains("*00"), "{s}");
        assert!(hex_diff(&a, &a).is_none());
        assert!(hex_diff(&a, &a[..50])
            .unwrap()
            .contains("first difference at byte 50"));
    }

    #[test]
    fn scoreboard_rx_tx() {
        let mut sb = Scoreboard::new();
        let c = Completion {
            len: 60,
            ..Default::default()
        };
        sb.expect_rx(1, &[1; 60], c);
        let bad = Completion {
            len: 60,
            mss: 5,
            ..Default::default()
        };
        let e = sb.check_rx(1, &[1; 60], &bad).unwrap_err();
        assert!(e.contains("mss: expected 0x0, actual 0x5"), "{e}");
        sb.expect_rx(1, &[1; 60], c);
        sb.check_rx(1, &[1; 60], &c).unwrap();
        assert!(sb.check_rx(0, &[1; 60], &c).is_err());

        sb.expect_tx(0, vec![1; 20]);
        sb.expect_tx(0, vec![2; 20]);
        sb.expect_tx(3, vec![3; 20]);
        assert_eq!(sb.check_tx(&[3; 20]), Ok(3));
        assert!(sb.check_tx(&[2; 20]).is_err());
        assert!(sb.finish().is_err());
        assert_eq!(sb.check_tx(&[1; 20]), Ok(0));
        assert_eq!(sb.check_tx(&[2; 20]), Ok(0));
        sb.finish().unwrap();
    }
}
