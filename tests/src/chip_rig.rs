//! The chip rig: the Verilated chip on the cycle-level harness with the
//! ring host of queue 0 and the reference model beside it, for tests that
//! send one frame at a time and check everything the chip does with it.
//!
//! ```text
//!   test --frame--> MAC RX --> chip --> RX completion (queue 0) --> Host
//!                              chip --> MAC TX (SYN-ACK, handshake ACK, SYN)
//!   model: nic::predict_rx / predict_synack / predict_connect on `cfg`
//! ```
//! [`Chip::exchange`] checks the delivery (bytes and completion field for
//! field), the one frame the NIC sends in answer (a SYN-ACK of the setup
//! offload or the handshake ACK of an active open) and, once the test has
//! started an active open, the pending-slot register, all against the model; the counters
//! the model expects add up in `want` for [`Chip::check_counters`].
//!
//! Build one with [`Chip::new`] or [`Chip::with`] (a harness configuration:
//! seed, backpressure), then [`Chip::listening`] to program the setup
//! offload from a model state.  Active opens: [`Chip::start`],
//! [`Chip::abort`], [`Chip::sent`], [`Chip::pending`].
use crate::host::Host;
use crate::program_setup;
use std::collections::HashMap;
use toe_contract::desc::Completion;
use toe_contract::regs::{self as r, Counter};
use toe_contract::setup::ConnectRequest;
use toe_model::connect::ConnectAction;
use toe_model::nic::{self, NicConfig, RxVerdict};
use toe_model::setup::SetupState;
use toe_sim::harness::{Harness, HarnessConfig};

/// Cycles the rig keeps running after a frame's outcome appeared, so that
/// a second (wrong) frame or completion would show.
const SETTLE: u64 = 600;

pub struct Chip {
    pub h: Harness,
    /// Queue 0's rings, 32 RX buffers posted.
    pub host: Host,
    /// The model's view of the NIC's configuration.
    pub cfg: NicConfig,
    /// Counters the model expects (by counter index).
    pub want: HashMap<u32, u64>,
    /// Set by the first [`Chip::start`]: from then on every exchange also
    /// checks the pending active opens.
    opens: bool,
}

/// What the chip did with one frame: the delivery to the host (completion
/// and bytes) and the frame it sent on the MAC in answer.
pub type Outcome = (Option<(Completion, Vec<u8>)>, Option<Vec<u8>>);

impl Chip {
    /// The chip out of reset, default harness.
    pub fn new() -> Chip {
        Chip::with(HarnessConfig::default())
    }

    /// The chip on a harness configured by `hc`.
    pub fn with(hc: HarnessConfig) -> Chip {
        let mut h = Harness::new(hc);
        let mut host = Host::new(&mut h, 6, 9216);
        host.post_rx(&mut h, 0, 32);
        Chip {
            h,
            host,
            cfg: NicConfig::all_queues_enabled(),
            want: HashMap::new(),
            opens: false,
        }
    }

    /// The setup offload programmed from `s` (chip and model).
    pub fn listening(mut self, s: SetupState) -> Chip {
        self.set_state(s);
        self
    }

    /// Reprograms the setup offload from `s` (chip and model).
    pub fn set_state(&mut self, s: SetupState) {
        program_setup(&mut self.h, &s);
        self.cfg.setup = s;
    }

    /// Adds `n` to the count the model expects of `c`.
    pub fn count(&mut self, c: Counter, n: u64) {
        *self.want.entry(c as u32).or_default() += n;
    }

    /// Stages and starts an active open (as `toe_driver` does).
    pub fn start(&mut self, req: &ConnectRequest) {
        let b = r::SETUP_BASE;
        for (i, w) in req.syn.words().into_iter().enumerate() {
            self.h.reg_write(b + r::SETUP_CONN_REC + 4 * i as u32, w);
        }
        self.h
            .reg_write(b + r::SETUP_CONN_ACK_WIN, req.ack_window as u32);
        self.h
            .reg_write(b + r::SETUP_CONN_CMD, r::CONN_CMD_START | req.slot() as u32);
        self.cfg.setup.connect[req.slot()] = Some(*req);
        self.opens = true;
    }

    /// Aborts the active open of `slot`.
    pub fn abort(&mut self, slot: usize) {
        self.h.reg_write(
            r::SETUP_BASE + r::SETUP_CONN_CMD,
            r::CONN_CMD_ABORT | slot as u32,
        );
        self.cfg.setup.connect[slot] = None;
    }

    /// The chip's pending active-open slots (bit per slot).
    pub fn pending(&mut self) -> u32 {
        self.h.reg_read(r::SETUP_BASE + r::SETUP_CONN_PENDING)
    }

    /// The chip's timed-out active-open slots (bit per slot).
    pub fn timed_out(&mut self) -> u32 {
        self.h.reg_read(r::SETUP_BASE + r::SETUP_CONN_TIMEDOUT)
    }

    /// The model's pending active-open slots.
    pub fn model_pending(&self) -> u32 {
        (0..16).fold(0, |m, i| {
            m | (self.cfg.setup.connect[i].is_some() as u32) << i
        })
    }

    /// Waits for `n` frames on the MAC and returns them.
    pub fn sent(&mut self, n: usize) -> Vec<Vec<u8>> {
        self.h
            .run_until(20_000, |h| h.mac_tx.frames.len() >= n)
            .expect("frames not sent");
        self.h.run(200);
        let v: Vec<_> = self.h.mac_tx.frames.drain(..).map(|f| f.data).collect();
        assert_eq!(v.len(), n, "more frames sent than expected");
        v
    }

    /// Sends one frame from the peer; checks what the host received and
    /// what the MAC sent (a SYN-ACK, a handshake ACK or nothing) against
    /// the model, and the pending active opens once the test started one;
    /// returns both.
    pub fn exchange(&mut self, frame: Vec<u8>) -> Outcome {
        let v = nic::predict_rx(&self.cfg, &frame, false);
        let synack = nic::predict_synack(&self.cfg, &frame);
        let ack = match nic::predict_connect(&self.cfg, &frame) {
            ConnectAction::Connected { slot, ack } => {
                self.cfg.setup.connect[slot] = None;
                Some(ack)
            }
            ConnectAction::Refused { slot } => {
                self.cfg.setup.connect[slot] = None;
                None
            }
            ConnectAction::None => None,
        };
        assert!(
            synack.is_none() || ack.is_none(),
            "the model answers one frame twice"
        );
        let (want_tx, what) = match (synack, ack) {
            (Some(f), _) => (Some(f), "SYN-ACK"),
            (None, Some(f)) => (Some(f), "handshake ACK"),
            (None, None) => (None, "answer"),
        };
        self.count(Counter::RxFrames, 1);
        for c in v.counters() {
            self.count(*c, 1);
        }
        self.h.mac_rx.push_bytes(frame.clone());
        let (host, h) = (&mut self.host, &mut self.h);
        let mut got_rx = None;
        let want_rx = matches!(v, RxVerdict::Deliver { .. });
        h.run_until(20_000, |h| {
            if got_rx.is_none() {
                got_rx = host.poll_rx(h, 0);
            }
            h.mac_rx.is_idle()
                && (got_rx.is_some() || !want_rx)
                && (want_tx.is_none() || !h.mac_tx.frames.is_empty())
        })
        .expect("the frame's outcome did not appear");
        h.run(SETTLE);
        if got_rx.is_none() {
            got_rx = host.poll_rx(h, 0);
        }
        let tx = h.mac_tx.pop().map(|f| f.data);
        assert!(h.mac_tx.pop().is_none(), "more than one frame sent");
        assert_eq!(tx, want_tx, "{what} differs from the model's");
        match (&v, &got_rx) {
            (RxVerdict::Deliver { cpl, .. }, Some((c, data))) => {
                assert_eq!(data, &frame, "delivered bytes differ");
                let mut e = *cpl;
                e.index = c.index;
                e.phase = c.phase;
                assert_eq!(*c, e, "completion differs from the model's");
            }
            (RxVerdict::Drop { .. }, None) => {}
            (v, g) => panic!("model {v:?}, chip {g:?}"),
        }
        if got_rx.is_some() {
            host.post_rx(h, 0, 1);
        }
        if self.opens {
            let want = self.model_pending();
            assert_eq!(self.pending(), want, "pending slots");
        }
        (got_rx, tx)
    }

    /// [`Chip::exchange`], for the completion alone.
    pub fn completion(&mut self, frame: Vec<u8>) -> Option<Completion> {
        self.exchange(frame).0.map(|(c, _)| c)
    }

    /// Checks every counter against what the model expects.
    pub fn check_counters(&mut self) {
        crate::check_counters(&mut self.h, &self.want);
    }
}

impl Default for Chip {
    fn default() -> Chip {
        Chip::new()
    }
}
