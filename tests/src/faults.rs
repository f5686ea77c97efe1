//! A fault injector on the simulated wire: loss, duplication, reordering
//! and delay, in process, seeded.
//!
//! ```text
//!   SimThread (NIC MAC) <--> Faulty { to_nic lane, from_nic lane } <--> inner wire (TAP ...)
//! ```
//! Each direction is a lane: a frame entering it may be dropped, copied
//! twice, or held back until one or two later frames have passed it, and
//! then waits in a delay line (`delay` plus up to `jitter`, never passing
//! the frame ahead of it, so only the explicit holds reorder).  Loss,
//! duplication and reordering apply to TCP segments only (ARP and the rest
//! are delayed, not damaged), SYN and FIN included; [`Faults::lossy`] is a
//! link that loses and duplicates every frame, ARP included.  What happened is
//! counted per direction in a [`FaultLog`] the test keeps a handle to, with
//! the last events for failure reports; `TOE_TRACE_TCP=1` prints every TCP
//! segment and its fate as it enters a lane and, when frames are delayed,
//! again (`out`) as it leaves, on the clock of [`trace_ms`].
//!
//! With [`Faults::none`] the wrapper only counts and traces (no delay).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use toe_sim::wire::Wire;

/// What to do to the frames, the same in both directions.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    /// Probability that a TCP segment is lost.
    pub loss: f64,
    /// Probability that a TCP segment arrives twice.
    pub duplicate: f64,
    /// Probability that a TCP segment is held back until the next one or
    /// two segments of its direction have passed it.
    pub reorder: f64,
    /// Every frame waits this long ...
    pub delay: Duration,
    /// ... plus a random extra of up to this much.
    pub jitter: Duration,
    /// A held frame goes out after this long even if nothing passes it
    /// (then it was only delayed).
    pub hold_limit: Duration,
    /// The first this many SYNs (SYN without ACK) leaving the NIC are lost:
    /// a connect whose SYN must be retransmitted.
    pub drop_first_syns: u32,
    /// The first this many RSTs going to the NIC are lost: a peer that
    /// forgets a connection without the host learning of it.
    pub drop_first_rsts_to_nic: u32,
    /// Loss and duplication hit every frame, not TCP segments only (ARP
    /// requests and replies are lost too, as on a lossy link).
    pub every_frame: bool,
}

impl Faults {
    /// Nothing: frames pass at once (counted and traced).
    pub fn none() -> Faults {
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            hold_limit: Duration::ZERO,
            drop_first_syns: 0,
            drop_first_rsts_to_nic: 0,
            every_frame: false,
        }
    }

    /// A lossy link: every frame, ARP included, is lost with probability
    /// `loss` and arrives twice with probability `loss / 2`, each
    /// direction; no delay.
    pub fn lossy(loss: f64) -> Faults {
        Faults {
            loss,
            duplicate: loss / 2.0,
            every_frame: true,
            ..Faults::none()
        }
    }
}

/// Which way a frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the inner wire (Linux) to the NIC's MAC RX.
    ToNic,
    /// From the NIC's MAC TX out to the inner wire.
    FromNic,
}

impl Dir {
    fn arrow(self) -> &'static str {
        match self {
            Dir::ToNic => "wire>nic",
            Dir::FromNic => "nic>wire",
        }
    }
}

/// Counts of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Frames that entered the lane.
    pub frames: u64,
    pub tcp_segments: u64,
    /// TCP payload bytes that entered the lane (retransmissions included).
    pub tcp_payload: u64,
    pub syn: u64,
    /// SYNs without ACK (connection requests).
    pub syn_only: u64,
    pub fin: u64,
    pub rst: u64,
    /// Segments (with `every_frame`, frames) lost (`loss`,
    /// `drop_first_syns`, `drop_first_rsts_to_nic`).
    pub dropped: u64,
    pub duplicated: u64,
    /// Held frames that one or more later frames overtook.
    pub reordered: u64,
    /// Held frames let go by `hold_limit` with nothing having passed them.
    pub hold_expired: u64,
    /// Frames delivered out of the lane (duplicates included).
    pub delivered: u64,
    /// Most frames waiting in the delay line at once.
    pub max_queued: u64,
}

/// What the injector did, shared with the test while the simulator runs.
#[derive(Clone, Debug, Default)]
pub struct FaultStats {
    pub to_nic: LaneStats,
    pub from_nic: LaneStats,
    /// Which side sent the first FIN on the wire (the active closer).
    pub first_fin: Option<Dir>,
    /// The last events (TCP segments and their fate), oldest first.
    pub recent: VecDeque<String>,
}

impl FaultStats {
    pub fn lane(&self, d: Dir) -> &LaneStats {
        match d {
            Dir::ToNic => &self.to_nic,
            Dir::FromNic => &self.from_nic,
        }
    }
    fn lane_mut(&mut self, d: Dir) -> &mut LaneStats {
        match d {
            Dir::ToNic => &mut self.to_nic,
            Dir::FromNic => &mut self.from_nic,
        }
    }
}

pub type FaultLog = Arc<Mutex<FaultStats>>;

/// Milliseconds since the first call in this process: the clock of the
/// trace lines, shared with tests that add their own.
pub fn trace_ms() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Whether `TOE_TRACE_TCP` asks for a line per TCP segment.
pub fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TOE_TRACE_TCP").is_some())
}

/// How many events [`FaultStats::recent`] keeps.
const RECENT: usize = 400;

struct Held {
    frame: Vec<u8>,
    /// Frames still to pass it before it goes.
    after: u32,
    passed: u32,
    since: Instant,
}

struct Lane {
    /// Frames and when they leave; times never decrease.
    line: VecDeque<(Instant, Vec<u8>)>,
    last_release: Option<Instant>,
    held: Option<Held>,
}

/// Parsed view of a TCP segment for counting and tracing.
struct TcpView {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    payload: usize,
    line: String,
}

fn tcp_view(frame: &[u8]) -> Option<TcpView> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let t = TcpPacket::new_checked(ip.payload()).ok()?;
    let mut flags = String::new();
    for (on, c) in [
        (t.syn(), 'S'),
        (t.fin(), 'F'),
        (t.rst(), 'R'),
        (t.psh(), 'P'),
        (t.ack(), '.'),
    ] {
        if on {
            flags.push(c);
        }
    }
    let mut line = String::new();
    let _ = write!(
        line,
        "{}:{} > {}:{} [{flags}] seq {} ack {} len {} win {}",
        ip.src_addr(),
        t.src_port(),
        ip.dst_addr(),
        t.dst_port(),
        t.seq_number().0 as u32,
        t.ack_number().0 as u32,
        t.payload().len(),
        t.window_len(),
    );
    Some(TcpView {
        syn: t.syn(),
        ack: t.ack(),
        fin: t.fin(),
        rst: t.rst(),
        payload: t.payload().len(),
        line,
    })
}

/// A [`Wire`] that damages the traffic of `inner` as `Faults` says.
pub struct Faulty<W> {
    inner: W,
    cfg: Faults,
    rng: StdRng,
    to_nic: Lane,
    from_nic: Lane,
    log: FaultLog,
    trace: bool,
}

impl<W: Wire> Faulty<W> {
    /// Wraps `inner`; `seed` makes the faults repeatable (given the same
    /// traffic).  The returned log is shared with the wire.
    pub fn new(inner: W, cfg: Faults, seed: u64) -> (Faulty<W>, FaultLog) {
        let log = FaultLog::default();
        let lane = || Lane {
            line: VecDeque::new(),
            last_release: None,
            held: None,
        };
        (
            Faulty {
                inner,
                cfg,
                rng: StdRng::seed_from_u64(seed),
                to_nic: lane(),
                from_nic: lane(),
                log: log.clone(),
                trace: tracing(),
            },
            log,
        )
    }

    /// Puts `frame` into the lane of `dir`, deciding its fate.
    fn admit(&mut self, dir: Dir, frame: Vec<u8>, now: Instant) {
        let cfg = self.cfg;
        let view = tcp_view(&frame);
        let rng = &mut self.rng;
        let lane = match dir {
            Dir::ToNic => &mut self.to_nic,
            Dir::FromNic => &mut self.from_nic,
        };
        let mut log = self.log.lock().unwrap();
        let st = log.lane_mut(dir);
        st.frames += 1;
        let Some(v) = view else {
            // Not TCP: delayed only, unless `every_frame`.
            if cfg.every_frame && cfg.loss > 0.0 && rng.gen_bool(cfg.loss) {
                log.lane_mut(dir).dropped += 1;
                return;
            }
            if cfg.every_frame && cfg.duplicate > 0.0 && rng.gen_bool(cfg.duplicate) {
                lane.enqueue(frame.clone(), now, &cfg, rng);
                log.lane_mut(dir).duplicated += 1;
            }
            lane.enqueue(frame, now, &cfg, rng);
            let q = lane.line.len() as u64;
            let st = log.lane_mut(dir);
            st.max_queued = st.max_queued.max(q);
            return;
        };
        st.tcp_segments += 1;
        st.tcp_payload += v.payload as u64;
        st.syn += v.syn as u64;
        st.syn_only += (v.syn && !v.ack) as u64;
        st.fin += v.fin as u64;
        st.rst += v.rst as u64;
        if v.fin && log.first_fin.is_none() {
            log.first_fin = Some(dir);
        }
        let first_syn = dir == Dir::FromNic && v.syn && !v.ack;
        let rst_in = dir == Dir::ToNic && v.rst;
        let fate = if first_syn && log.from_nic.syn_only <= cfg.drop_first_syns as u64 {
            log.lane_mut(dir).dropped += 1;
            "DROPPED (first SYNs)"
        } else if rst_in && log.to_nic.rst <= cfg.drop_first_rsts_to_nic as u64 {
            log.lane_mut(dir).dropped += 1;
            "DROPPED (first RSTs)"
        } else if cfg.loss > 0.0 && rng.gen_bool(cfg.loss) {
            log.lane_mut(dir).dropped += 1;
            "DROPPED"
        } else if cfg.reorder > 0.0 && lane.held.is_none() && rng.gen_bool(cfg.reorder) {
            lane.held = Some(Held {
                frame,
                after: rng.gen_range(1..=2),
                passed: 0,
                since: now,
            });
            "HELD"
        } else {
            let dup = cfg.duplicate > 0.0 && rng.gen_bool(cfg.duplicate);
            if dup {
                lane.enqueue(frame.clone(), now, &cfg, rng);
                log.lane_mut(dir).duplicated += 1;
            }
            lane.enqueue(frame, now, &cfg, rng);
            if let Some(h) = &mut lane.held {
                h.passed += 1;
                h.after -= 1;
                if h.after == 0 {
                    let h = lane.held.take().unwrap();
                    lane.enqueue(h.frame, now, &cfg, rng);
                    log.lane_mut(dir).reordered += 1;
                }
            }
            if dup {
                "DUPLICATED"
            } else {
                ""
            }
        };
        let q = lane.line.len() as u64;
        let st = log.lane_mut(dir);
        st.max_queued = st.max_queued.max(q);
        let ms = trace_ms();
        let event = format!("{ms:10.3} ms {} {} {fate}", dir.arrow(), v.line);
        if self.trace {
            eprintln!("{event}");
        }
        if log.recent.len() >= RECENT {
            log.recent.pop_front();
        }
        log.recent.push_back(event);
    }

    /// The next frame of `dir` whose time has come.
    fn due(&mut self, dir: Dir, now: Instant) -> Option<Vec<u8>> {
        let cfg = self.cfg;
        let lane = match dir {
            Dir::ToNic => &mut self.to_nic,
            Dir::FromNic => &mut self.from_nic,
        };
        if lane
            .held
            .as_ref()
            .is_some_and(|h| now.duration_since(h.since) >= cfg.hold_limit)
        {
            let h = lane.held.take().unwrap();
            {
                let mut log = self.log.lock().unwrap();
                let st = log.lane_mut(dir);
                if h.passed > 0 {
                    st.reordered += 1;
                } else {
                    st.hold_expired += 1;
                }
            }
            lane.enqueue(h.frame, now, &cfg, &mut self.rng);
        }
        if lane.line.front().is_some_and(|(t, _)| *t <= now) {
            self.log.lock().unwrap().lane_mut(dir).delivered += 1;
            let f = lane.line.pop_front().map(|(_, f)| f);
            if self.trace && !(self.cfg.delay.is_zero() && self.cfg.jitter.is_zero()) {
                if let Some(v) = f.as_deref().and_then(tcp_view) {
                    eprintln!("{:10.3} ms {} {} out", trace_ms(), dir.arrow(), v.line);
                }
            }
            return f;
        }
        None
    }

    /// Sends what is due towards the inner wire.
    fn pump_out(&mut self, now: Instant) -> io::Result<()> {
        while let Some(f) = self.due(Dir::FromNic, now) {
            self.inner.send(&f)?;
        }
        Ok(())
    }
}

impl Lane {
    fn enqueue(&mut self, frame: Vec<u8>, now: Instant, cfg: &Faults, rng: &mut StdRng) {
        let mut at = now + cfg.delay;
        if !cfg.jitter.is_zero() {
            at += cfg.jitter.mul_f64(rng.gen::<f64>());
        }
        // The delay line keeps its order: jitter spaces frames out, the
        // holds alone reorder.
        if let Some(last) = self.last_release {
            at = at.max(last);
        }
        self.last_release = Some(at);
        self.line.push_back((at, frame));
    }
}

impl<W: Wire> Wire for Faulty<W> {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        let now = Instant::now();
        self.pump_out(now)?;
        // Take everything the inner wire has (a burst at most), so its
        // own queue does not add drops of its own.
        for _ in 0..64 {
            match self.inner.recv()? {
                Some(f) => self.admit(Dir::ToNic, f, now),
                None => break,
            }
        }
        Ok(self.due(Dir::ToNic, now))
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let now = Instant::now();
        self.admit(Dir::FromNic, frame.to_vec(), now);
        self.pump_out(now)
    }

    fn describe(&self) -> String {
        format!("{} with faults {:?}", self.inner.describe(), self.cfg)
    }
}
