//! MAC TX sink: collects the frames the DUT sends on its `tx_*` AXI4-Stream
//! master port, with optional random backpressure, and checks the stream
//! protocol.
use super::{chance, rng, StreamBeat, Violation};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// A frame received from the DUT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxFrame {
    /// Bytes selected by `tx_tkeep`, in wire order.
    pub data: Vec<u8>,
    /// `tx_tuser` on the last beat (frame to be aborted by the MAC).
    pub error: bool,
    /// Cycle of the first beat's handshake.
    pub start_cycle: u64,
    /// Cycle of the last beat's handshake.
    pub end_cycle: u64,
}

/// Receives frames.  Protocol checks (recorded in `violations`):
/// `tkeep` contiguous from byte 0 and non-zero on the last beat, all ones on
/// other beats; `tvalid` held and the beat unchanged while not taken.
pub struct MacSink {
    rng: ChaCha8Rng,
    /// Probability that `tx_tready` is low in a cycle.
    pub backpressure: f64,
    ready: bool,
    cur: Vec<u8>,
    cur_start: Option<u64>,
    /// Frames received and not yet popped, oldest first.
    pub frames: VecDeque<TxFrame>,
    /// Total frames received (popped or not).
    pub frame_count: u64,
    /// Beats taken.
    pub beats: u64,
    /// Cycles `tx_tvalid` was high with `tx_tready` low.
    pub stall_cycles: u64,
    stalled: Option<StreamBeat>,
    pub violations: Vec<Violation>,
}

const MODEL: &str = "MAC TX sink";

impl MacSink {
    pub fn new(seed: u64) -> Self {
        MacSink {
            rng: rng(seed, 2),
            backpressure: 0.0,
            ready: true,
            cur: Vec::with_capacity(2048),
            cur_start: None,
            frames: VecDeque::new(),
            frame_count: 0,
            beats: 0,
            stall_cycles: 0,
            stalled: None,
            violations: Vec::new(),
        }
    }

    /// Oldest received frame.
    pub fn pop(&mut self) -> Option<TxFrame> {
        self.frames.pop_front()
    }

    /// Newest received frame.
    pub fn last(&self) -> Option<&TxFrame> {
        self.frames.back()
    }

    /// `tx_tready` for this cycle (from state and the seeded generator).
    pub fn drive(&mut self) -> bool {
        self.ready = !chance(&mut self.rng, self.backpressure);
        self.ready
    }

    fn violation(&mut self, cycle: u64, what: String) {
        self.violations.push(Violation {
            cycle,
            model: MODEL,
            what,
        });
    }

    /// Takes the DUT's beat as sampled before the edge (`data` only needs
    /// to be meaningful when `valid`).  Returns true when a frame completed
    /// (it is then [`MacSink::last`]).
    pub fn update(&mut self, beat: &StreamBeat, cycle: u64) -> bool {
        if let Some(prev) = self.stalled.take() {
            if !beat.valid {
                self.violation(cycle, "tx_tvalid dropped before the beat was taken".into());
            } else if prev != *beat {
                self.violation(
                    cycle,
                    "tx beat changed while tx_tvalid was high and tx_tready low".into(),
                );
            }
        }
        if !beat.valid {
            return false;
        }
        if !self.ready {
            self.stall_cycles += 1;
            self.stalled = Some(*beat);
            return false;
        }
        self.beats += 1;
        if self.cur_start.is_none() {
            self.cur_start = Some(cycle);
        }
        let k = beat.keep;
        if beat.last {
            if k == 0 || k & k.wrapping_add(1) != 0 {
                self.violation(
                    cycle,
                    format!("last beat tx_tkeep {k:#018x} is not contiguous from byte 0"),
                );
            }
        } else if k != !0 {
            self.violation(
                cycle,
                format!("tx_tkeep {k:#018x} not full on a beat without tx_tlast"),
            );
        }
        if k == !0 {
            self.cur.extend_from_slice(&beat.data);
        } else {
            for i in 0..64 {
                if k >> i & 1 != 0 {
                    self.cur.push(beat.data[i]);
                }
            }
        }
        if !beat.last {
            return false;
        }
        let data = std::mem::replace(&mut self.cur, Vec::with_capacity(2048));
        self.frames.push_back(TxFrame {
            data,
            error: beat.user,
            start_cycle: self.cur_start.take().unwrap(),
            end_cycle: cycle,
        });
        self.frame_count += 1;
        true
    }
}
