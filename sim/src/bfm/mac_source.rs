//! MAC RX source: feeds queued Ethernet frames into the DUT's `rx_*`
//! AXI4-Stream slave port, 64 bytes per beat.
use super::{chance, rng, StreamBeat};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// A frame as the MAC hands it over: bytes from the destination MAC address
/// to the end of the payload (no preamble, no FCS), and the MAC's error flag
/// (driven on `rx_tuser` with the last beat).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MacFrame {
    pub data: Vec<u8>,
    pub error: bool,
}

impl MacFrame {
    pub fn new(data: Vec<u8>) -> Self {
        MacFrame { data, error: false }
    }
    pub fn with_error(data: Vec<u8>) -> Self {
        MacFrame { data, error: true }
    }
}

/// Record of a frame fully handed to the DUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentFrame {
    /// Sequence number returned by [`MacSource::push`].
    pub id: u64,
    pub len: usize,
    pub error: bool,
    /// Cycle of the first beat's handshake.
    pub start_cycle: u64,
    /// Cycle of the last beat's handshake.
    pub end_cycle: u64,
}

struct Current {
    id: u64,
    frame: MacFrame,
    offset: usize,
    start_cycle: Option<u64>,
}

/// Drives queued frames beat by beat, honouring `rx_tready`, with optional
/// random idle cycles.  `valid` stays up until the beat is taken.
pub struct MacSource {
    queue: VecDeque<(u64, MacFrame)>,
    cur: Option<Current>,
    beat: StreamBeat,
    rng: ChaCha8Rng,
    /// Probability of an idle cycle before each beat other than a frame's first.
    pub beat_gap: f64,
    /// Probability of an idle cycle before each frame's first beat.
    pub frame_gap: f64,
    next_id: u64,
    /// Every frame fully sent, in order.
    pub sent: Vec<SentFrame>,
    /// Beats taken by the DUT.
    pub beats: u64,
    /// Cycles a beat was offered and not taken (`rx_tready` low).
    pub stall_cycles: u64,
    last_done: Option<MacFrame>,
}

impl MacSource {
    /// `seed` makes the gaps reproducible.
    pub fn new(seed: u64) -> Self {
        MacSource {
            queue: VecDeque::new(),
            cur: None,
            beat: StreamBeat::default(),
            rng: rng(seed, 1),
            beat_gap: 0.0,
            frame_gap: 0.0,
            next_id: 0,
            sent: Vec::new(),
            beats: 0,
            stall_cycles: 0,
            last_done: None,
        }
    }

    /// Queues a frame; returns its sequence number.  Empty frames are
    /// rejected (a beat needs at least one byte).
    pub fn push(&mut self, frame: MacFrame) -> u64 {
        assert!(!frame.data.is_empty(), "MacSource: empty frame");
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back((id, frame));
        id
    }

    /// Queues a good frame.
    pub fn push_bytes(&mut self, data: Vec<u8>) -> u64 {
        self.push(MacFrame::new(data))
    }

    /// Frames queued or in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.cur.is_some() as usize
    }

    /// Nothing left to send.
    pub fn is_idle(&self) -> bool {
        self.pending() == 0
    }

    /// The frame completed by the last `update` that returned true.
    pub fn last_done(&self) -> Option<&MacFrame> {
        self.last_done.as_ref()
    }

    /// Forgets the frame being sent (for a reset of the design); queued
    /// frames stay queued.
    pub fn abort_current(&mut self) {
        self.cur = None;
        self.beat.valid = false;
    }

    /// The beat driven this cycle (from state only).
    pub fn drive(&mut self) -> &StreamBeat {
        if !self.beat.valid {
            if self.cur.is_none() {
                if self.queue.is_empty() || chance(&mut self.rng, self.frame_gap) {
                    return &self.beat;
                }
                let (id, frame) = self.queue.pop_front().unwrap();
                self.cur = Some(Current {
                    id,
                    frame,
                    offset: 0,
                    start_cycle: None,
                });
            } else if chance(&mut self.rng, self.beat_gap) {
                return &self.beat;
            }
            let c = self.cur.as_ref().unwrap();
            let rest = &c.frame.data[c.offset..];
            let n = rest.len().min(64);
            self.beat.data = [0; 64];
            self.beat.data[..n].copy_from_slice(&rest[..n]);
            self.beat.keep = if n == 64 { !0 } else { (1u64 << n) - 1 };
            self.beat.last = n == rest.len();
            self.beat.user = self.beat.last && c.frame.error;
            self.beat.valid = true;
        }
        &self.beat
    }

    /// Takes `rx_tready` as sampled before the edge; returns true when a
    /// frame's last beat was taken (see [`MacSource::last_done`]).
    pub fn update(&mut self, ready: bool, cycle: u64) -> bool {
        if !self.beat.valid {
            return false;
        }
        if !ready {
            self.stall_cycles += 1;
            return false;
        }
        self.beats += 1;
        self.beat.valid = false;
        let c = self.cur.as_mut().expect("beat without frame");
        if c.start_cycle.is_none() {
            c.start_cycle = Some(cycle);
        }
        c.offset += self.beat.keep.count_ones() as usize;
        if !self.beat.last {
            return false;
        }
        let c = self.cur.take().unwrap();
        self.sent.push(SentFrame {
            id: c.id,
            len: c.frame.data.len(),
            error: c.frame.error,
            start_cycle: c.start_cycle.unwrap(),
            end_cycle: cycle,
        });
        self.last_done = Some(c.frame);
        true
    }
}
