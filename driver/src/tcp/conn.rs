//! One TCP connection: the state machine of RFC 9293 (section 3.3.2, event
//! processing of 3.10), with explicit time and no I/O.  Segments go in
//! through [`Conn::on_segment`], timers through [`Conn::on_timer`]; what to
//! send comes out of [`Conn::dispatch`], and [`Conn::poll_at`] says when
//! the next timer fires.
//!
//! Covered here: active and passive open, simultaneous open and close,
//! data transfer with cumulative ACKs and send/receive windows (scaled,
//! RFC 7323), retransmission with the RFC 6298 timer, NewReno/CUBIC
//! congestion control with fast retransmit, zero-window probing (persist
//! timer, 3.8.6.1), FIN exchange in every state, TIME_WAIT (2 MSL), RST
//! in every state with the RFC 5961 checks.
//! Also delayed ACKs, keepalive, and SACK blocks sent (from the receive
//! buffer's holes) and used (retransmission skips SACKed ranges).
//! Timestamps (RFC 7323) when both sides offer them: on every segment,
//! RTT measured from the echo, PAWS.
//! Not yet: the listener/demultiplexer that answers segments for no
//! connection with RST.
use super::cc::{Action, Algorithm, Congestion};
use super::checks::{self, Verdict};
use super::options::{Negotiated, SynOptions};
use super::recv::RecvBuffer;
use super::rto::{Expiry, Rto, RtoConfig};
use super::send::SendBuffer;
use super::seq::Seq;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

/// A connection: (local port, remote address, remote port).
pub type Handle = (u16, Ipv4Addr, u16);

/// RFC 9293 3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
    Closed,
}

/// A segment as the state machine sees it (ports and addresses are the
/// caller's business).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub seq: Seq,
    /// The acknowledgement number, when the ACK flag is set.
    pub ack: Option<Seq>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    /// The window field as carried (unscaled).
    pub window: u16,
    /// Options of a SYN.
    pub syn_opts: SynOptions,
    /// SACK blocks (RFC 2018), when SACK was negotiated.
    pub sack: Vec<(Seq, Seq)>,
    /// Timestamps option (TSval, TSecr), RFC 7323.
    pub ts: Option<(u32, u32)>,
    pub payload: Vec<u8>,
}

impl Segment {
    /// SEG.LEN: payload plus one for SYN and for FIN.
    pub fn len(&self) -> u32 {
        self.payload.len() as u32 + self.syn as u32 + self.fin as u32
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the connection ended, when it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Both FINs exchanged and acknowledged.
    Normally,
    /// The peer sent an acceptable RST.
    Reset,
    /// Retransmissions exhausted (RFC 9293 3.8.3 R2).
    TimedOut,
    /// `abort` was called.
    Aborted,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub algorithm: Algorithm,
    pub rto: RtoConfig,
    /// Maximum segment lifetime; TIME_WAIT lasts 2 MSL (RFC 9293 3.4.2).
    pub msl: Duration,
    pub send_buffer: usize,
    pub recv_buffer: usize,
    /// Our MSS limit (path MTU - 40).
    pub mss: u16,
    pub syn_opts: SynOptions,
    /// Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2): an in-order
    /// segment is acknowledged after at most this long, or at once for
    /// every second full-sized segment.  `None` ACKs every segment at once.
    pub delayed_ack: Option<Duration>,
    /// Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): after `idle` without
    /// hearing from the peer, a probe every `interval`; `count` unanswered
    /// probes end the connection.  Off by default, as the RFCs require.
    pub keepalive: Option<Keepalive>,
    /// Offer timestamps (RFC 7323): RTT measurement on every ACK and PAWS.
    pub timestamps: bool,
    /// RFC 5961 section 7: at most one challenge ACK per connection in
    /// this interval (an RST in the window but not at RCV.NXT, a SYN in a
    /// synchronized state, an unacceptable ACK); the others are
    /// suppressed and counted.  Per connection, not global, so that the
    /// limit reveals nothing about other connections (CVE-2016-5696).
    /// Linux: `tcp_invalid_ratelimit`, 500 ms.  Zero: no limit.
    pub challenge_ack_interval: Duration,
    /// SYN-ACK retransmissions of a passive open before the half-open
    /// connection is dropped silently (Linux `tcp_synack_retries`, 5: gives
    /// up about 63 s after the SYN with a 1 s initial RTO).
    pub synack_retries: u32,
    /// Smallest MSS a peer may announce: SYNs (and NIC reports) below are
    /// refused, dropped and counted, since we never send a segment larger
    /// than the peer's MSS (RFC 9293 3.7.1) and tiny segments would
    /// multiply our packet rate (Linux's `tcp_min_snd_mss`, 48, which Linux
    /// enforces by sending 48-byte segments anyway).
    pub min_peer_mss: u16,
    /// SYN cookies for listeners whose half-open limit is reached
    /// (software handshake; the NIC's setup offload makes its own).
    pub syn_cookies: super::cookie::SynCookies,
}

#[derive(Clone, Copy, Debug)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub count: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            algorithm: Algorithm::NewReno,
            rto: RtoConfig::default(),
            msl: Duration::from_secs(30),
            send_buffer: 64 * 1024,
            recv_buffer: 64 * 1024,
            mss: 1460,
            delayed_ack: Some(Duration::from_millis(40)),
            keepalive: None,
            timestamps: true,
            challenge_ack_interval: Duration::from_millis(500),
            synack_retries: 5,
            min_peer_mss: 48,
            syn_cookies: super::cookie::SynCookies::default(),
            syn_opts: SynOptions {
                mss: Some(1460),
                wscale: Some(super::options::wscale_for(64 * 1024)),
                sack_permitted: true,
                tsval: None,
            },
        }
    }
}

pub struct Conn {
    cfg: Config,
    state: State,
    iss: Seq,
    irs: Seq,
    snd: SendBuffer,
    rcv: Option<RecvBuffer>,
    neg: Option<Negotiated>,
    /// Peer's window in bytes (scaled), SND.WL1, SND.WL2 (3.10.7.4).
    snd_wnd: u32,
    snd_wl1: Seq,
    snd_wl2: Seq,
    max_snd_wnd: u32,
    /// Our SYN: sent, acknowledged.
    syn_acked: bool,
    /// FIN: asked for by `close`, sent with sequence number.
    fin_wanted: bool,
    fin_seq: Option<Seq>,
    /// Where our FIN was first sent (kept through rewinds, so that its ACK
    /// stays acceptable).
    fin_hi: Option<Seq>,
    fin_acked: bool,
    /// The peer's FIN was received (RCV.NXT is past it).
    fin_received: bool,
    rto: Rto,
    cc: Congestion,
    rtx_deadline: Option<Duration>,
    time_wait_deadline: Option<Duration>,
    delack_deadline: Option<Duration>,
    /// TS.Recent and Last.ACK.sent (RFC 7323 4.3).
    ts_recent: Option<u32>,
    last_ack_sent: Seq,
    /// The window (in bytes) our last segment with an ACK advertised: with
    /// `last_ack_sent`, the right edge the peer knows.
    last_wnd_sent: u32,
    /// Full-sized segments received since our last ACK.
    unacked_full: u32,
    /// Last time anything was heard from the peer, and keepalive probes
    /// sent since.
    last_heard: Duration,
    keepalive_sent: u32,
    keepalive_deadline: Option<Duration>,
    /// Segment timed for an RTT sample: (end seq, sent at).
    timing: Option<(Seq, Duration)>,
    /// Send an ACK at the next dispatch.
    ack_now: bool,
    /// Retransmit from SND.UNA at the next dispatch.
    rtx_now: bool,
    /// The timer is the persist timer: the peer's window is zero and data
    /// waits (RFC 9293 3.8.6.1); send a one-byte probe at the next
    /// dispatch when set.
    persist: bool,
    probe_now: bool,
    /// Current persist interval (doubles per probe up to the RTO maximum).
    persist_interval: Duration,
    out: VecDeque<Segment>,
    closed: Option<Closed>,
    /// Added to the millisecond clock to make our TSvals (RFC 7323 5.4
    /// allows any starting value): the ISS normally; for a handshake the
    /// NIC completed, chosen so our TSvals continue from the NIC's.
    ts_offset: u32,
    /// Our SYN was retransmitted: data starts with an RTO of at least 3 s
    /// (RFC 6298 5.7).
    syn_timed_out: bool,
    /// Opened from LISTEN (`accept`): a SYN in SYN-RECEIVED returns it to
    /// LISTEN (RFC 9293 3.10.7.4, fourth).
    passive: bool,
    /// An active open whose SYN the NIC sends and retransmits (SYN-SENT
    /// only; see [`Conn::connect_by_nic`]).
    nic: Option<NicOpen>,
    /// The NIC let go of this connection's open slot by itself: it
    /// answered (connected or refused) or gave up.  Otherwise an open that
    /// ends early must be aborted in the NIC.
    nic_freed: bool,
    /// The window field of the handshake ACK the NIC sent for us.
    nic_handshake_window: Option<u16>,
    /// When the last challenge ACK was sent (RFC 5961 7), and challenge
    /// ACKs sent and suppressed by the limit.
    last_challenge: Option<Duration>,
    challenges_sent: u64,
    challenges_suppressed: u64,
    /// What the peer's SYN offered (a passive open's SYN-ACK offers no
    /// option the SYN did not).
    peer_syn: Option<SynOptions>,
    /// The peer's SYN announced an MSS below `min_peer_mss`: refused.
    mss_refused: bool,
    /// The deadline the stack last entered in its timer heap for this
    /// connection (still there, unless popped): the stack enters a
    /// deadline only when it differs, not on every dispatch.
    pub(super) timer_entered: Option<Duration>,
    /// In the stack's list of connections to visit at the next dispatch.
    pub(super) in_dirty: bool,
    /// Came from a listener and has not joined its accept queue yet: the
    /// stack looks for its listener after each dispatch until it has.
    pub(super) joining: bool,
}

/// The host's side of an active open the NIC performs.
#[derive(Clone, Copy, Debug)]
struct NicOpen {
    /// When to ask the NIC whether the open timed out.
    check_at: Option<Duration>,
    /// That time has come: [`Conn::take_nic_check`] hands the check out.
    check_due: bool,
    /// When the NIC was told to start; `None` while not yet issued.
    issued_at: Option<Duration>,
    /// The NIC's first SYN retransmission timeout.
    first_rto: Duration,
    /// Window of the NIC's handshake ACK if the peer scales windows
    /// (`ConnectRequest::ack_window`), and the SYN's otherwise.
    ack_window: u16,
    syn_window: u16,
    /// Consecutive checks that found the slot neither pending nor timed
    /// out (the answer may still be on its way to the host).
    idle_checks: u8,
}

/// What the NIC says about an open when the host checks at its deadline
/// (`SETUP_CONN_PENDING`, `SETUP_CONN_TIMEDOUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NicOpenStatus {
    /// Still sending SYNs: look again later.
    Pending,
    /// The last retransmission went unanswered.
    TimedOut,
    /// Neither: the NIC answered, but no completion reached the host.
    Idle,
}

/// What a teardown hand-over takes from a connection's TCB: the TCP half
/// of `toe_contract::teardown::HandOver` (addresses, MACs, the RTO in NIC
/// ticks and the tag are the offload glue's, `offload/teardown.rs`).
/// Sequence numbers as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeardownTcb {
    /// Passive close: the peer's FIN came first (CLOSE-WAIT), `rcv_nxt`
    /// counts it; otherwise an active close from ESTABLISHED.
    pub passive: bool,
    /// SND.UNA.
    pub snd_una: u32,
    /// SND.NXT: the FIN's sequence number (everything written was sent).
    pub fin_seq: u32,
    /// RCV.NXT (past the peer's FIN for a passive close).
    pub rcv_nxt: u32,
    /// (TS.Recent, the TSval the connection would send now), when the
    /// connection uses timestamps (RFC 7323).
    pub ts: Option<(u32, u32)>,
    /// The peer's window as its field would carry it (SND.WND >> shift),
    /// and the shift (RFC 7323 2.3).
    pub snd_wnd: u16,
    pub snd_shift: u8,
    /// Our window field as our next ACK would carry it, and our shift.
    pub rcv_wnd: u16,
    pub rcv_shift: u8,
    /// The current retransmission timeout (RFC 6298).
    pub rto: Duration,
    /// Payload bytes per segment: the peer's MSS less the options every
    /// segment carries (RFC 6691), so the NIC's retransmissions fit.
    pub mss: u16,
}

impl TeardownTcb {
    /// Unacknowledged bytes `[SND.UNA, FIN)`.
    pub fn kept(&self) -> u32 {
        self.fin_seq.wrapping_sub(self.snd_una)
    }
}

/// Whether a connection can be handed over to the teardown offload now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownCheck {
    /// Yes: ESTABLISHED (active close) or CLOSE-WAIT (passive close), no
    /// FIN asked for or sent, every byte written sent once.
    Ready(TeardownTcb),
    /// Not yet: bytes written are still unsent (window, congestion window
    /// or a retransmission rewind holds them back).  Ask again later.
    Wait,
    /// Never: no such connection, it ended, or it is in a state a
    /// hand-over cannot take (handshaking, FIN already asked for or sent).
    No,
}

/// Consecutive idle checks after which the answer counts as lost.
const NIC_IDLE_CHECKS: u8 = 2;

/// A handshake the NIC completed with SYN cookies (setup offload,
/// `toe_contract::setup`): what its "established" completion reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// Our ISN (the cookie) and the peer's.
    pub our_isn: Seq,
    pub peer_isn: Seq,
    /// The peer's MSS (its MSS class).
    pub peer_mss: u16,
    /// The peer's window scale, if window scaling was agreed, and ours (the
    /// NIC offers the configured one then).
    pub wscale: Option<(u8, u8)>,
    pub sack: bool,
    /// (peer's TSval, TSecr) of the final ACK, when timestamps are on.
    pub ts: Option<(u32, u32)>,
    /// The window field of the final ACK (scaled by the peer's shift).
    pub window: u16,
}

impl Conn {
    fn base(cfg: Config, iss: Seq, state: State) -> Conn {
        let mss = cfg.mss as u32;
        Conn {
            snd: SendBuffer::new(iss + 1, cfg.send_buffer),
            rto: Rto::new(cfg.rto),
            cc: Congestion::new(cfg.algorithm, mss),
            cfg,
            state,
            iss,
            irs: Seq(0),
            rcv: None,
            neg: None,
            snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: Seq(0),
            max_snd_wnd: 0,
            syn_acked: false,
            fin_wanted: false,
            fin_seq: None,
            fin_hi: None,
            fin_acked: false,
            fin_received: false,
            rtx_deadline: None,
            time_wait_deadline: None,
            delack_deadline: None,
            ts_recent: None,
            last_ack_sent: Seq(0),
            last_wnd_sent: 0,
            unacked_full: 0,
            last_heard: Duration::ZERO,
            keepalive_sent: 0,
            keepalive_deadline: None,
            timing: None,
            ack_now: false,
            rtx_now: false,
            persist: false,
            probe_now: false,
            persist_interval: Duration::ZERO,
            out: VecDeque::new(),
            closed: None,
            ts_offset: iss.0,
            syn_timed_out: false,
            passive: false,
            nic: None,
            nic_freed: false,
            nic_handshake_window: None,
            last_challenge: None,
            challenges_sent: 0,
            challenges_suppressed: 0,
            peer_syn: None,
            mss_refused: false,
            timer_entered: None,
            in_dirty: false,
            joining: false,
        }
    }

    /// Active open (3.10.1): SYN_SENT with our SYN queued.
    pub fn connect(cfg: Config, iss: Seq, now: Duration) -> Conn {
        let mut c = Conn::base(cfg, iss, State::SynSent);
        c.send_syn(now);
        c
    }

    /// Active open by the NIC (`toe_contract::setup`, active open): SYN-SENT
    /// with our SYN built exactly as [`Conn::connect`] sends it (options
    /// from the configuration, TSval from our clock) but handed back
    /// instead of queued: the NIC sends and retransmits it, so no
    /// retransmission timer runs here.  No RTT sample is taken from the
    /// handshake: the NIC's retransmissions repeat the same TSval, so the
    /// SYN a SYN-ACK answers is unknown (Karn, RFC 6298 3).  Returns the
    /// connection, the SYN, and the window of the NIC's handshake ACK when
    /// the peer scales windows (our free space at our shift, RFC 7323 2.3).
    pub fn connect_by_nic(cfg: Config, iss: Seq, now: Duration) -> (Conn, Segment, u16) {
        let mut c = Conn::base(cfg, iss, State::SynSent);
        let mut syn = Segment {
            seq: iss,
            syn: true,
            window: c.rcv_window_field(true),
            syn_opts: c.our_syn_opts(),
            ..Segment::default()
        };
        if syn.syn_opts.tsval.is_some() {
            let v = c.ts_now(now);
            syn.syn_opts.tsval = Some(v);
            syn.ts = Some((v, 0));
        }
        let shift = c
            .cfg
            .syn_opts
            .wscale
            .unwrap_or(0)
            .min(super::options::MAX_WSCALE);
        let ack_window = (c.cfg.recv_buffer as u32 >> shift).min(0xffff) as u16;
        c.nic = Some(NicOpen {
            check_at: None,
            check_due: false,
            issued_at: None,
            first_rto: Duration::ZERO,
            ack_window,
            syn_window: syn.window,
            idle_checks: 0,
        });
        (c, syn, ack_window)
    }

    /// Whether this is an active open the NIC is performing.
    pub fn nic_pending(&self) -> bool {
        self.nic.is_some()
    }

    /// Whether the NIC let go of the open by itself (answered or gave up),
    /// so its slot needs no abort.
    pub fn nic_freed(&self) -> bool {
        self.nic_freed
    }

    /// The window field of the handshake ACK the NIC sent on our behalf:
    /// the request's ACK window if the peer's SYN-ACK scaled windows, the
    /// SYN's window otherwise (`SETUP_CONN_ACK_WIN`).
    pub fn nic_handshake_window(&self) -> Option<u16> {
        self.nic_handshake_window
    }

    /// The NIC has been told to start the open at `now`; it gives up
    /// `give_up` later (its last SYN's wait included) and first
    /// retransmits after `first_rto`.  The host looks at the NIC's
    /// timed-out bit once that has passed, with `margin` for the two
    /// clocks.
    pub fn nic_issued(
        &mut self,
        now: Duration,
        give_up: Duration,
        first_rto: Duration,
        margin: Duration,
    ) {
        if let Some(n) = self.nic.as_mut() {
            n.issued_at = Some(now);
            n.first_rto = first_rto;
            n.check_at = Some(now + give_up + margin);
        }
    }

    /// Whether the timeout check is due (once per deadline).
    pub fn take_nic_check(&mut self) -> bool {
        match self.nic.as_mut() {
            Some(n) if n.check_due => {
                n.check_due = false;
                true
            }
            _ => false,
        }
    }

    /// The NIC's answer to the timeout check.  Pending: look again at
    /// `recheck`.  Timed out: the connection ends as a software connect
    /// whose SYN retransmissions ran out does (RFC 9293 3.8.3 R2, ETIMEDOUT).
    /// Idle (neither pending nor timed out, and no completion came): once
    /// more at `recheck`, as the answer may still be on its way; then the
    /// answer is taken as lost: the connection ends timed out and an RST
    /// (`<SEQ=ISS+1>`, in the window of a peer the NIC's ACK may have
    /// synchronised) is queued so that no half-open connection stays
    /// behind (RFC 9293 3.5.2).
    pub fn on_nic_status(&mut self, st: NicOpenStatus, recheck: Duration) {
        let Some(n) = self.nic.as_mut() else {
            return;
        };
        match st {
            NicOpenStatus::Pending => {
                n.idle_checks = 0;
                n.check_at = Some(recheck);
            }
            NicOpenStatus::Idle if n.idle_checks + 1 < NIC_IDLE_CHECKS => {
                n.idle_checks += 1;
                n.check_at = Some(recheck);
            }
            NicOpenStatus::Idle => {
                self.end(Closed::TimedOut);
                self.nic_freed = true;
                self.out.push_back(Segment {
                    seq: self.iss + 1,
                    rst: true,
                    ..Segment::default()
                });
            }
            NicOpenStatus::TimedOut => {
                self.end(Closed::TimedOut);
                self.nic_freed = true;
            }
        }
    }

    /// The open could not be handed to the NIC: it continues as a software
    /// active open, our SYN queued now (RFC 9293 3.10.1).
    pub fn nic_fallback(&mut self, now: Duration) {
        if self.nic.take().is_some() && self.state == State::SynSent {
            self.send_syn(now);
        }
    }

    /// A SYN-ACK that completed our NIC open (completion kind
    /// `KIND_CONNECTED`): processed as SYN-SENT processes a segment (RFC
    /// 9293 3.10.7.3: the peer's options and TS.Recent, SND.WND, RCV.NXT,
    /// SND.UNA), except that the handshake ACK is not sent, since the NIC
    /// sent it (`<SEQ=ISS+1><ACK=RCV.NXT>`, its TSval our SYN's).  Data on
    /// the SYN-ACK (the NIC acknowledged only the SYN) is taken and
    /// acknowledged here ("continue processing at the sixth step").  An
    /// open that took longer than the first retransmission timeout had its
    /// SYN retransmitted: data starts with an RTO of at least 3 s (RFC 6298
    /// 5.7).  For a connection that is no NIC open this is an ordinary
    /// segment.
    pub fn on_nic_connected(&mut self, seg: &Segment, now: Duration) {
        let Some(open) = self.nic else {
            return self.on_segment(seg, now);
        };
        if self.state != State::SynSent {
            return self.on_segment(seg, now);
        }
        self.nic = None;
        self.nic_freed = true;
        self.last_heard = now;
        if open
            .issued_at
            .is_some_and(|t| now.saturating_sub(t) >= open.first_rto)
        {
            self.syn_timed_out = true;
        }
        self.on_segment_syn_sent(seg, now);
        match self.state {
            State::Established => {
                self.ack_now = false;
                self.last_ack_sent = self.irs + 1;
                self.nic_handshake_window = Some(if seg.syn_opts.wscale.is_some() {
                    open.ack_window
                } else {
                    open.syn_window
                });
                if !seg.payload.is_empty() {
                    if let Some(r) = self.rcv.as_mut() {
                        r.insert(seg.seq + 1, &seg.payload);
                    }
                    self.ack_now = true;
                }
            }
            // Not a SYN-ACK we can take, and the NIC has let the slot go:
            // our own SYN from now on.
            State::SynSent => self.send_syn(now),
            // Simultaneous open: our SYN-ACK is retransmitted by us.
            State::SynReceived => self.arm_rtx(now),
            _ => {}
        }
    }

    /// An RST refusing our NIC open (completion kind
    /// `KIND_CONNECT_REFUSED`): exactly an RST in SYN-SENT (RFC 9293
    /// 3.10.7.3: acceptable with an acceptable ACK, "connection reset").
    pub fn on_nic_refused(&mut self, seg: &Segment, now: Duration) {
        if self.nic.is_none() || self.state != State::SynSent {
            return self.on_segment(seg, now);
        }
        self.nic = None;
        self.nic_freed = true;
        self.last_heard = now;
        self.on_segment_syn_sent(seg, now);
        if self.state == State::SynSent {
            // Not acceptable, and the NIC has let the slot go.
            self.send_syn(now);
        }
    }

    /// Passive open (3.10.7.2, LISTEN): a SYN arrived for a listener;
    /// SYN_RECEIVED with our SYN-ACK queued.  `None` if `syn` is not a
    /// plain SYN (RST or ACK set: the listener handles those).
    pub fn accept(cfg: Config, syn: &Segment, iss: Seq, now: Duration) -> Option<Conn> {
        if !syn.syn || syn.rst || syn.ack.is_some() {
            return None;
        }
        let mut c = Conn::base(cfg, iss, State::SynReceived);
        c.passive = true;
        c.take_peer_syn(syn);
        c.send_syn(now);
        Some(c)
    }

    /// A connection whose handshake the NIC completed (setup offload):
    /// ESTABLISHED at once, with the options the cookie carried (RFC 9293
    /// 3.10.7.3's SYN-RECEIVED to ESTABLISHED step, done by the NIC).  The
    /// final ACK itself, and any data it carries, is then fed to
    /// [`Conn::on_segment`] like any segment.
    pub fn established(cfg: Config, h: &Handshake, now: Duration) -> Conn {
        let mut c = Conn::base(cfg, h.our_isn, State::Established);
        c.irs = h.peer_isn;
        c.rcv = Some(RecvBuffer::new(h.peer_isn + 1, c.cfg.recv_buffer));
        let neg = Negotiated {
            send_mss: h.peer_mss.min(c.cfg.mss).max(1),
            snd_wscale: h
                .wscale
                .map_or(0, |(p, _)| p.min(super::options::MAX_WSCALE)),
            rcv_wscale: h
                .wscale
                .map_or(0, |(_, o)| o.min(super::options::MAX_WSCALE)),
            sack: h.sack,
            timestamps: h.ts.is_some(),
            ts_recent: h.ts.map(|(v, _)| v),
        };
        c.ts_recent = neg.ts_recent;
        if let Some((_, ecr)) = h.ts {
            // Our next TSval continues from the one the NIC sent (the peer
            // checks ours with PAWS too).
            c.ts_offset = ecr.wrapping_sub(now.as_millis() as u32).wrapping_add(1);
        }
        c.snd_wnd = (h.window as u32) << neg.snd_wscale;
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = h.peer_isn + 1;
        c.snd_wl2 = h.our_isn + 1;
        c.syn_acked = true;
        c.rtx_deadline = None;
        c.last_heard = now;
        c.last_ack_sent = h.peer_isn + 1;
        c.cc = Congestion::new(c.cfg.algorithm, neg.payload_per_segment() as u32);
        c.neg = Some(neg);
        c
    }

    /// The connection's state for a teardown hand-over (see
    /// `TeardownHooks::teardown_tcb` (tcp/offload.rs)): ready in
    /// ESTABLISHED or CLOSE-WAIT with no FIN asked for and nothing written
    /// left unsent; wait while bytes are unsent.
    pub fn teardown_tcb(&self, now: Duration) -> TeardownCheck {
        let passive = match self.state {
            State::Established => false,
            State::CloseWait => true,
            _ => return TeardownCheck::No,
        };
        let (Some(neg), Some(rcv)) = (self.neg, self.rcv.as_ref()) else {
            return TeardownCheck::No;
        };
        if self.fin_wanted || self.fin_seq.is_some() || self.closed.is_some() || !self.syn_acked {
            return TeardownCheck::No;
        }
        if self.snd.unsent() > 0 {
            return TeardownCheck::Wait;
        }
        TeardownCheck::Ready(TeardownTcb {
            passive,
            snd_una: self.snd.una().0,
            fin_seq: self.snd.nxt().0,
            // The ACK our segments carry: past the peer's FIN once it came.
            rcv_nxt: (rcv.rcv_nxt() + self.fin_received as u32).0,
            ts: neg
                .timestamps
                .then(|| (self.ts_recent.unwrap_or(0), self.ts_now(now))),
            snd_wnd: (self.snd_wnd >> neg.snd_wscale).min(0xffff) as u16,
            snd_shift: neg.snd_wscale,
            rcv_wnd: self.rcv_window_field(false),
            rcv_shift: neg.rcv_wscale,
            rto: self.rto.rto(),
            mss: neg.payload_per_segment(),
        })
    }

    /// Copies the bytes in flight `[SND.UNA, SND.NXT)` into `dst` (at
    /// most its length); returns how many.
    pub fn copy_unacked(&self, dst: &mut [u8]) -> usize {
        self.snd.copy_in_flight(dst)
    }

    /// A connection rebuilt from a teardown hand-over the NIC refused
    /// (`Reason::Fallback`, or the descriptor rejected): FIN-WAIT-1 (active
    /// close) or LAST-ACK (passive), `kept` (`[SND.UNA, FIN)`, sent before
    /// the hand-over) in flight with the retransmission timer running from
    /// `now`, and the FIN not yet sent: the next dispatch sends it (RFC
    /// 9293 3.10.4: the FIN follows the queued data).  SACK is off (the
    /// record does not say whether it was agreed); timestamps continue from
    /// the record's TSval, taken as the one to send at `now`.
    pub fn from_teardown(cfg: Config, t: &TeardownTcb, kept: &[u8], now: Duration) -> Conn {
        let una = Seq(t.snd_una);
        let state = if t.passive {
            State::LastAck
        } else {
            State::FinWait1
        };
        let rto = RtoConfig {
            initial: t.rto,
            ..cfg.rto
        };
        let mut c = Conn::base(cfg, una - 1, state);
        c.rto = Rto::new(rto);
        if kept.len() > c.snd.free() {
            c.snd = SendBuffer::new(una, kept.len());
        }
        c.snd.write(kept);
        c.snd.assume_sent();
        let rcv_nxt = Seq(t.rcv_nxt) - t.passive as u32;
        c.irs = rcv_nxt - 1;
        c.rcv = Some(RecvBuffer::new(rcv_nxt, c.cfg.recv_buffer));
        c.fin_received = t.passive;
        let timestamps = t.ts.is_some();
        let neg = Negotiated {
            send_mss: t.mss.saturating_add(if timestamps { 12 } else { 0 }),
            snd_wscale: t.snd_shift.min(super::options::MAX_WSCALE),
            rcv_wscale: t.rcv_shift.min(super::options::MAX_WSCALE),
            sack: false,
            timestamps,
            ts_recent: t.ts.map(|(r, _)| r),
        };
        c.ts_recent = neg.ts_recent;
        if let Some((_, now_ts)) = t.ts {
            c.ts_offset = now_ts.wrapping_sub(now.as_millis() as u32);
        }
        c.snd_wnd = (t.snd_wnd as u32) << neg.snd_wscale;
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = rcv_nxt;
        c.snd_wl2 = una;
        c.syn_acked = true;
        c.fin_wanted = true;
        c.last_heard = now;
        c.last_ack_sent = Seq(t.rcv_nxt);
        c.cc = Congestion::new(c.cfg.algorithm, neg.payload_per_segment() as u32);
        c.neg = Some(neg);
        if c.snd.in_flight() > 0 {
            c.arm_rtx(now);
        }
        c
    }

    pub fn state(&self) -> State {
        self.state
    }
    /// Challenge ACKs (RFC 5961) this connection sent, and those its limit
    /// suppressed (`Config::challenge_ack_interval`).
    pub fn challenge_acks(&self) -> (u64, u64) {
        (self.challenges_sent, self.challenges_suppressed)
    }
    /// Whether the peer's SYN (an active open's SYN-ACK) was refused for
    /// an MSS below `Config::min_peer_mss`.
    pub fn mss_refused(&self) -> bool {
        self.mss_refused
    }
    /// Whether this connection was opened from LISTEN (a SYN to a
    /// listener, software handshake).
    pub fn is_passive(&self) -> bool {
        self.passive
    }

    /// A challenge ACK (RFC 5961 3.2, 4.2, 5.2), at most one per
    /// `challenge_ack_interval` per connection (RFC 5961 section 7 asks
    /// for a limit; a per-connection one leaks nothing about other
    /// connections, unlike the global counter of CVE-2016-5696).
    fn challenge_ack(&mut self, now: Duration) {
        let every = self.cfg.challenge_ack_interval;
        if !every.is_zero()
            && self
                .last_challenge
                .is_some_and(|t| now.saturating_sub(t) < every)
        {
            self.challenges_suppressed += 1;
            return;
        }
        self.last_challenge = Some(now);
        self.challenges_sent += 1;
        self.ack_now = true;
    }
    pub fn closed(&self) -> Option<Closed> {
        self.closed
    }
    /// Smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.rto.srtt()
    }
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.neg.as_ref()
    }
    /// Bytes the application may read.
    pub fn readable(&self) -> usize {
        self.rcv.as_ref().map_or(0, |r| r.readable())
    }
    /// Whether the peer has closed its direction and everything before its
    /// FIN has been read.
    pub fn read_closed(&self) -> bool {
        self.fin_received && self.readable() == 0
    }

    fn take_peer_syn(&mut self, syn: &Segment) {
        self.peer_syn = Some(syn.syn_opts);
        self.irs = syn.seq;
        self.rcv = Some(RecvBuffer::new(syn.seq + 1, self.cfg.recv_buffer));
        let neg = Negotiated::new(&self.our_syn_opts(), &syn.syn_opts, self.cfg.mss);
        self.ts_recent = neg.ts_recent;
        // A SYN's window is never scaled (RFC 7323 2.2).
        self.snd_wnd = syn.window as u32;
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn.seq;
        self.cc = Congestion::new(self.cfg.algorithm, neg.payload_per_segment() as u32);
        self.neg = Some(neg);
    }

    /// What our SYN offers (the TSval is filled in when it is sent).  A
    /// passive open's SYN-ACK offers window scaling and timestamps only if
    /// the SYN did (RFC 7323 2.2, 3.2), and SACK-permitted likewise (as
    /// Linux does).
    fn our_syn_opts(&self) -> SynOptions {
        let mut o = SynOptions {
            tsval: self.cfg.timestamps.then_some(0),
            ..self.cfg.syn_opts
        };
        if let (true, Some(p)) = (self.passive, self.peer_syn) {
            o.wscale = o.wscale.filter(|_| p.wscale.is_some());
            o.tsval = o.tsval.filter(|_| p.tsval.is_some());
            o.sack_permitted &= p.sack_permitted;
        }
        o
    }

    /// Our timestamp clock: milliseconds, offset per connection by the ISS
    /// so that it reveals nothing about uptime (RFC 7323 7.1).
    fn ts_now(&self, now: Duration) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.ts_offset)
    }

    fn send_syn(&mut self, now: Duration) {
        let rcv_wnd = self.rcv_window_field(true);
        let seg = Segment {
            seq: self.iss,
            ack: self.rcv.as_ref().map(|r| r.rcv_nxt()),
            syn: true,
            window: rcv_wnd,
            syn_opts: self.our_syn_opts(),
            ..Segment::default()
        };
        self.out.push_back(seg);
        // Karn: a retransmitted SYN gives no sample (RFC 6298 3).
        if self.rto.backoffs() == 0 {
            self.timing.get_or_insert((self.iss + 1, now));
        } else {
            self.syn_timed_out = true;
        }
        self.arm_rtx(now);
    }

    /// The window field to send: free receive space, scaled down.
    fn rcv_window_field(&self, syn: bool) -> u16 {
        let free = self
            .rcv
            .as_ref()
            .map_or(self.cfg.recv_buffer as u32, |r| r.window());
        let shift = if syn {
            0
        } else {
            self.neg.map_or(0, |n| n.rcv_wscale)
        };
        (free >> shift).min(0xffff) as u16
    }

    fn arm_rtx(&mut self, now: Duration) {
        if self.rtx_deadline.is_none() {
            self.rtx_deadline = Some(now + self.rto.rto());
        }
    }

    /// The sequence number for segments without data: the highest sent
    /// (SND.MAX, counting our FIN).  After a go-back-N rewind SND.NXT is
    /// behind it; an ACK carrying that older number would lie before the
    /// peer's RCV.NXT and be dropped unread.
    pub(crate) fn snd_nxt(&self) -> Seq {
        let m = self.snd.max_sent();
        match self.fin_hi {
            Some(f) if f == m => f + 1,
            _ => m,
        }
    }

    fn ack_segment(&self) -> Segment {
        let sack = match (&self.rcv, self.neg) {
            // At most 3 blocks (room left next to timestamps, RFC 2018 3).
            (Some(r), Some(n)) if n.sack => r.sack_blocks(3),
            _ => Vec::new(),
        };
        Segment {
            seq: self.snd_nxt(),
            ack: self
                .rcv
                .as_ref()
                .map(|r| r.rcv_nxt() + self.fin_received as u32),
            window: self.rcv_window_field(false),
            sack,
            ..Segment::default()
        }
    }

    fn end(&mut self, how: Closed) {
        self.state = State::Closed;
        self.nic = None;
        self.closed = Some(how);
        self.rtx_deadline = None;
        self.time_wait_deadline = None;
        self.delack_deadline = None;
        self.keepalive_deadline = None;
        self.out.clear();
    }

    /// Queues data; returns how much fit (0 once the sending side is
    /// closed).
    pub fn write(&mut self, data: &[u8]) -> usize {
        match self.state {
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
                if !self.fin_wanted =>
            {
                self.snd.write(data)
            }
            _ => 0,
        }
    }

    /// Bytes of memory the send and receive buffers hold now: none until
    /// data moves (they grow on demand up to their capacities).
    pub fn buffer_memory(&self) -> usize {
        self.snd.allocated() + self.rcv.as_ref().map_or(0, |r| r.allocated())
    }

    /// Gives the receive buffer (`recv`) and the send buffer (`send`) a
    /// first allocation from `spare` when they have none yet: the stack
    /// does this just before data arrives or is written, so connections
    /// stay without buffers until then, and a buffer a finished
    /// connection gave back ([`Conn::give_back_memory`]) is used again
    /// instead of a fresh allocation.
    pub(super) fn lend_memory(&mut self, spare: &mut Vec<Vec<u8>>, recv: bool, send: bool) {
        if recv {
            if let (Some(r), Some(m)) = (self.rcv.as_mut(), spare.pop()) {
                if let Err(m) = r.adopt(m) {
                    spare.push(m);
                }
            }
        }
        if send {
            if let Some(m) = spare.pop() {
                if let Err(m) = self.snd.adopt(m) {
                    spare.push(m);
                }
            }
        }
    }

    /// Puts the buffers' first allocations (zeroed) into `spare`, up to
    /// `max` buffers there, for [`Conn::lend_memory`]; for a connection
    /// leaving the table.
    pub(super) fn give_back_memory(&mut self, spare: &mut Vec<Vec<u8>>, max: usize) {
        let rcv = self.rcv.as_mut().and_then(|r| r.give_back());
        for m in [self.snd.give_back(), rcv].into_iter().flatten() {
            if spare.len() < max {
                spare.push(m);
            }
        }
    }

    /// Internal state for diagnostics.
    pub fn debug_summary(&self) -> String {
        format!(
            "una {} nxt {} max {} in_flight {} unsent {} snd_wnd {} cwnd {} ssthresh {} rto {:?} backoffs {} persist {} rtx {:?}",
            self.snd.una().0, self.snd.nxt().0, self.snd.max_sent().0, self.snd.in_flight(), self.snd.unsent(),
            self.snd_wnd, self.cc.cwnd(), self.cc.ssthresh(), self.rto.rto(), self.rto.backoffs(), self.persist, self.rtx_deadline
        )
    }

    /// Bytes `write` would take now.
    pub fn send_room(&self) -> usize {
        match self.state {
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
                if !self.fin_wanted =>
            {
                self.snd.free()
            }
            _ => 0,
        }
    }

    /// Reads in-order data; the window update goes out with the next ACK.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let before = self.rcv_window_field(false);
        let n = self.rcv.as_mut().map_or(0, |r| r.read(buf));
        self.after_read(n, before);
        n
    }

    /// After the application took `n` bytes (the window field was
    /// `before`): a window update goes out when the window reopened from
    /// zero, or when the right edge the peer knows can move by at least
    /// min(half the buffer, one MSS) (receiver-side silly window syndrome
    /// avoidance, RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3), so a sender that
    /// filled the window does not wait for our delayed ACK.
    fn after_read(&mut self, n: usize, before: u16) {
        if n == 0 {
            return;
        }
        if before == 0 {
            // The window reopened: tell the peer (RFC 9293 3.8.6.2.2).
            self.ack_now = true;
            return;
        }
        let Some(r) = self.rcv.as_ref() else {
            return;
        };
        if self.fin_received
            || !matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            )
        {
            return;
        }
        let shift = self.neg.map_or(0, |n| n.rcv_wscale);
        let wnd = (self.rcv_window_field(false) as u32) << shift;
        let right = r.rcv_nxt() + wnd;
        let known = self.last_ack_sent + self.last_wnd_sent;
        let step = (self.cfg.recv_buffer as u32 / 2).min(self.cfg.mss as u32);
        if right > known && right - known >= step {
            self.ack_now = true;
        }
    }

    /// Reads in place: `f` gets the in-order bytes waiting (the first
    /// contiguous piece of the receive buffer, possibly empty) and returns
    /// how many it consumed; returns that count.  No copy.
    pub fn read_with(&mut self, f: impl FnOnce(&[u8]) -> usize) -> usize {
        let before = self.rcv_window_field(false);
        let n = match self.rcv.as_mut() {
            Some(r) => {
                let n = f(r.peek()).min(r.readable());
                r.consume(n);
                n
            }
            None => {
                f(&[]);
                0
            }
        };
        self.after_read(n, before);
        n
    }

    /// Writes in place: `f` writes up to `max` bytes straight into the send
    /// buffer's free room and returns how many it wrote; those are queued
    /// (as [`Conn::write`] would: 0 once the sending side is closed, and
    /// then `f` is not called).  No copy.
    pub fn write_with(&mut self, max: usize, f: impl FnOnce(&mut [u8]) -> usize) -> usize {
        match self.state {
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
                if !self.fin_wanted =>
            {
                self.snd.write_with(max, f)
            }
            _ => 0,
        }
    }

    /// Closes our direction: a FIN follows the queued data (3.10.4).
    pub fn close(&mut self) {
        match self.state {
            State::SynSent => self.end(Closed::Normally),
            // No data queued: the FIN goes now, FIN-WAIT-1 (3.10.4); with
            // data, after ESTABLISHED.
            State::SynReceived => {
                self.fin_wanted = true;
                if self.snd.unsent() == 0 {
                    self.state = State::FinWait1;
                }
            }
            // "In any case, enter FIN-WAIT-1" (3.10.4): the FIN follows the
            // queued data, but a FIN from the peer meanwhile is a
            // simultaneous close (CLOSING, then TIME-WAIT).
            State::Established => {
                self.fin_wanted = true;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin_wanted = true;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Aborts: an RST goes out (3.10.5) and the connection is closed.
    pub fn abort(&mut self) -> Option<Segment> {
        // CLOSING, LAST-ACK, TIME-WAIT: "respond with ok and delete the
        // TCB", nothing sent.  Elsewhere <SEQ=SND.NXT>: past our FIN and
        // past data sent before a go-back-N rewind (SND.MAX), or the peer
        // finds the RST outside its window.
        let rst = match self.state {
            State::SynSent | State::Closed | State::Closing | State::LastAck | State::TimeWait => {
                None
            }
            _ => Some(Segment {
                seq: self.snd_nxt(),
                rst: true,
                ..Segment::default()
            }),
        };
        self.end(Closed::Aborted);
        rst
    }

    /// When [`Conn::on_timer`] must next be called.
    pub fn poll_at(&self) -> Option<Duration> {
        // The earliest of the deadlines set (a plain loop: the stack asks
        // for it on every dispatch of the connection).
        let mut t = self.rtx_deadline;
        for d in [
            self.time_wait_deadline,
            self.delack_deadline,
            self.keepalive_deadline,
            self.nic.and_then(|n| n.check_at),
        ]
        .into_iter()
        .flatten()
        {
            if t.is_none_or(|x| d < x) {
                t = Some(d);
            }
        }
        t
    }

    /// Runs the timers due at `now`.
    pub fn on_timer(&mut self, now: Duration) {
        if let Some(n) = self.nic.as_mut() {
            if n.check_at.is_some_and(|d| now >= d) {
                n.check_at = None;
                n.check_due = true;
            }
        }
        if self.time_wait_deadline.is_some_and(|d| now >= d) {
            self.end(Closed::Normally);
            return;
        }
        if self.delack_deadline.is_some_and(|d| now >= d) {
            self.delack_deadline = None;
            self.ack_now = true;
        }
        if let (Some(d), Some(k)) = (self.keepalive_deadline, self.cfg.keepalive) {
            if now >= d {
                if self.keepalive_sent >= k.count {
                    self.end(Closed::TimedOut);
                    return;
                }
                // A probe: one old sequence number, no data, which the
                // peer must answer with an ACK (RFC 1122 4.2.3.6).
                let mut probe = self.ack_segment();
                probe.seq = self.snd.una() - 1;
                self.out.push_back(probe);
                self.keepalive_sent += 1;
                self.keepalive_deadline = Some(now + k.interval);
            }
        }
        if self.rtx_deadline.is_some_and(|d| now >= d) {
            self.rtx_deadline = None;
            if self.persist {
                // Zero-window probe, with backoff but no limit: a peer
                // that keeps answering with a zero window is alive
                // (RFC 9293 3.8.6.1).
                self.probe_now = true;
                self.persist_interval = (self.persist_interval * 2).min(self.cfg.rto.max);
                self.rtx_deadline = Some(now + self.persist_interval);
                return;
            }
            if self.passive
                && self.state == State::SynReceived
                && self.rto.backoffs() >= self.cfg.synack_retries
            {
                // Linux's tcp_synack_retries: the half-open connection is
                // dropped without an RST (the peer may never have sent the
                // SYN; RFC 4987 3.2 on SYN-RECEIVED timers).
                self.end(Closed::TimedOut);
                return;
            }
            match self.rto.expired() {
                Expiry::GiveUp => {
                    self.end(Closed::TimedOut);
                }
                Expiry::Retransmit(_) => {
                    // Karn: no sample from what is retransmitted.
                    self.timing = None;
                    let flight = self.snd.in_flight();
                    self.cc.on_timeout(flight, now);
                    if !self.syn_acked {
                        self.send_syn(now);
                    } else {
                        // Go back to SND.UNA; the FIN (if sent) goes
                        // again after the data.
                        self.snd.rewind();
                        if !self.fin_acked {
                            self.fin_seq = None;
                        }
                        self.arm_rtx(now);
                    }
                }
            }
        }
    }

    /// Processes an arriving segment (RFC 9293 3.10.7.3 for SYN_SENT,
    /// 3.10.7.4 for the other states).
    pub fn on_segment(&mut self, seg: &Segment, now: Duration) {
        self.last_heard = now;
        self.keepalive_sent = 0;
        self.keepalive_deadline = None;
        match self.state {
            State::Closed => {}
            State::SynSent => self.on_segment_syn_sent(seg, now),
            _ => self.on_segment_synchronized(seg, now),
        }
        if self.nic.is_some() && self.state != State::SynSent {
            // An ordinary segment moved a NIC open on (a simultaneous
            // open's SYN, or an answer the NIC did not classify): the host
            // carries on and the NIC's open must be aborted (the slot is
            // not freed).
            self.nic = None;
            if self.state == State::SynReceived {
                self.arm_rtx(now);
            }
        }
    }

    fn on_segment_syn_sent(&mut self, seg: &Segment, now: Duration) {
        // First, the ACK bit.
        if let Some(ack) = seg.ack {
            if ack <= self.iss || ack > self.snd.nxt() {
                if !seg.rst {
                    self.out.push_back(Segment {
                        seq: ack,
                        rst: true,
                        ..Segment::default()
                    });
                }
                return;
            }
        }
        // Second, RST: acceptable only with an acceptable ACK.
        if seg.rst {
            if seg.ack.is_some() {
                self.end(Closed::Reset);
            }
            return;
        }
        if !seg.syn {
            return;
        }
        if seg.syn_opts.mss.is_some_and(|m| m < self.cfg.min_peer_mss) {
            // We never send more than the peer's MSS (RFC 9293 3.7.1) and
            // refuse one this small: the open ends as reset, and a SYN-ACK
            // (its ACK acceptable, checked above) is answered with RST
            // <SEQ=SEG.ACK> so that the peer does not stay half-open.
            self.mss_refused = true;
            self.end(Closed::Reset);
            if let Some(ack) = seg.ack {
                self.out.push_back(Segment {
                    seq: ack,
                    rst: true,
                    ..Segment::default()
                });
            }
            return;
        }
        self.take_peer_syn(seg);
        if let Some(ack) = seg.ack {
            // SYN-ACK: established.
            self.syn_acked = true;
            self.snd.ack(ack);
            self.sample_rtt(ack, now);
            self.rto.acked();
            self.syn_rto_floor();
            self.rtx_deadline = None;
            self.state = State::Established;
            self.ack_now = true;
        } else {
            // Simultaneous open: SYN_RECEIVED, our SYN again with an ACK.
            self.state = State::SynReceived;
            self.out.push_back(Segment {
                seq: self.iss,
                ack: Some(seg.seq + 1),
                syn: true,
                window: self.rcv_window_field(true),
                syn_opts: self.our_syn_opts(),
                ..Segment::default()
            });
        }
    }

    /// RFC 6298 5.7: after a SYN timeout, without an RTT sample, the RTO
    /// is re-initialised to 3 s when data transmission begins.
    fn syn_rto_floor(&mut self) {
        if self.syn_timed_out && self.rto.srtt().is_none() {
            self.rto.floor(Duration::from_secs(3));
        }
    }

    fn sample_rtt(&mut self, ack: Seq, now: Duration) {
        if let Some((end, sent)) = self.timing {
            if ack >= end {
                self.rto.sample(now.saturating_sub(sent));
                self.timing = None;
            }
        }
    }

    fn on_segment_synchronized(&mut self, seg: &Segment, now: Duration) {
        let rcv_nxt = self.rcv.as_ref().map_or(Seq(0), |r| r.rcv_nxt()) + self.fin_received as u32;
        let rcv_wnd = self.rcv.as_ref().map_or(0, |r| r.window());
        // First: sequence number acceptability.
        // PAWS (RFC 7323 5.3): a segment whose TSval is older than
        // TS.Recent is a duplicate from an old incarnation or a wrapped
        // sequence space: ACK and drop (RST exempt).
        let ts_on = self.neg.is_some_and(|n| n.timestamps);
        if let (true, Some((tsval, _)), Some(recent)) = (ts_on, seg.ts, self.ts_recent) {
            if !seg.rst && (tsval.wrapping_sub(recent) as i32) < 0 {
                self.ack_now = true;
                return;
            }
        }
        if let (true, Some((tsval, _))) = (ts_on, seg.ts) {
            // RFC 7323 4.3: remember TSval of the segment that the next ACK
            // answers.
            if seg.seq <= self.last_ack_sent
                && self
                    .ts_recent
                    .is_none_or(|r| (tsval.wrapping_sub(r) as i32) >= 0)
            {
                self.ts_recent = Some(tsval);
            }
        }
        // With a zero receive window nothing is acceptable, but the ACK of
        // a segment at RCV.NXT is still processed (3.10.7.4); its data and
        // FIN are not.
        let ack_only = rcv_wnd == 0 && seg.seq == rcv_nxt && !seg.rst && !seg.syn;
        if !ack_only && !checks::acceptable(seg.seq, seg.len(), rcv_nxt, rcv_wnd) {
            if seg.syn && !seg.rst && self.state != State::SynReceived {
                // RFC 5961 4.2: a SYN, wherever its sequence number lies,
                // draws a challenge ACK (and the limit applies).
                self.challenge_ack(now);
                return;
            }
            if !seg.rst {
                self.ack_now = true;
                // TIME_WAIT: a retransmitted FIN restarts the 2 MSL wait.
                if seg.fin && self.state == State::TimeWait {
                    self.enter_time_wait(now);
                }
            }
            return;
        }
        // Second: RST (RFC 5961 3.2).
        if seg.rst {
            match checks::check_rst(seg.seq, rcv_nxt, rcv_wnd) {
                Verdict::Reset => self.end(Closed::Reset),
                Verdict::DropAndAck => self.challenge_ack(now),
                _ => {}
            }
            return;
        }
        // Fourth: a SYN in a synchronized state draws a challenge ACK (RFC
        // 5961 4.2).  (A retransmitted SYN, or the SYN-ACK of a
        // simultaneous open, lies before RCV.NXT and was answered with an
        // ACK by the first check.)
        if seg.syn {
            if self.state == State::SynReceived && self.passive {
                // Back to LISTEN: this attempt is forgotten, the listener
                // stays.
                self.end(Closed::Reset);
                return;
            }
            self.challenge_ack(now);
            return;
        }
        // Fifth: the ACK field.
        let Some(ack) = seg.ack else { return };
        if !self.syn_acked {
            // SYN-RECEIVED, or FIN-WAIT-1 after a close before the
            // handshake completed.
            if ack <= self.iss || ack > self.snd_nxt() {
                self.out.push_back(Segment {
                    seq: ack,
                    rst: true,
                    ..Segment::default()
                });
                return;
            }
            self.syn_acked = true;
            if self.state == State::SynReceived {
                self.state = State::Established;
            }
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = ack;
            self.rtx_deadline = None;
            self.sample_rtt(ack, now);
            self.syn_rto_floor();
        }
        let una = self.snd.una();
        let fin_end = self.fin_hi.map(|f| f + 1);
        let snd_max = fin_end
            .unwrap_or(self.snd.max_sent())
            .max(self.snd.max_sent());
        match checks::check_ack(ack, una, snd_max, self.max_snd_wnd) {
            Verdict::Accept => {}
            _ => {
                self.challenge_ack(now);
                return;
            }
        }
        let wnd = (seg.window as u32) << self.neg.map_or(0, |n| n.snd_wscale);
        let newly_sacked = if self.neg.is_some_and(|n| n.sack) && !seg.sack.is_empty() {
            self.snd.sack(&seg.sack)
        } else {
            0
        };
        if ack > una {
            // New data acknowledged.
            let data_ack = ack.min(self.snd.max_sent());
            let freed = self.snd.ack(data_ack) as u32;
            if fin_end == Some(ack) {
                self.fin_acked = true;
            }
            match seg.ts {
                // RTTM (RFC 7323 4): the echoed timestamp measures the
                // round trip even across retransmissions.
                Some((_, tsecr)) if ts_on && tsecr != 0 => {
                    let rtt = self.ts_now(now).wrapping_sub(tsecr);
                    if rtt < 600_000 {
                        self.rto.sample(Duration::from_millis(rtt as u64));
                    }
                    self.timing = None;
                }
                _ => self.sample_rtt(ack, now),
            }
            let act = self.cc.on_ack(
                freed.max(1),
                ack,
                self.snd.in_flight(),
                self.rto.srtt(),
                now,
            );
            self.rto.acked();
            self.rtx_deadline = None;
            if self.snd.in_flight() > 0 || (self.fin_seq.is_some() && !self.fin_acked) {
                self.arm_rtx(now);
            } else if self.persist {
                // The probe byte was taken but the window may still be
                // zero: keep probing (RFC 1122 4.2.2.17); a window update
                // below ends persist mode.
                self.rtx_deadline = Some(now + self.persist_interval);
            }
            if act == Action::Retransmit {
                self.rtx_now = true;
            }
        } else if ack == una
            && self.snd.in_flight() > 0
            && (newly_sacked > 0
                || (seg.payload.is_empty() && !seg.fin && wnd == self.snd_wnd && wnd > 0))
        {
            // A duplicate ACK: RFC 5681 2 (no data, same window), or, with
            // SACK, any ACK whose SACK blocks mark new data as received
            // (RFC 6675 2), whatever its window or payload: a receiver that
            // autotunes its window changes it on nearly every ACK, and
            // data flowing the other way carries the duplicates.
            if self
                .cc
                .on_dupack(una, self.snd.nxt(), self.snd.in_flight(), now)
                == Action::Retransmit
            {
                self.rtx_now = true;
            }
        }
        // Window update (3.10.7.4): only from an ACK at or beyond SND.UNA
        // (an older one, acceptable under RFC 5961 5.2, offers a window
        // from its own ACK, not from SND.UNA); from an ACK of new data
        // always (as Linux's tcp_may_update_window: otherwise the old
        // window would count from the new SND.UNA), else from a newer
        // segment, or the same one with a newer ACK.
        if ack >= una
            && (ack > una
                || self.snd_wl1 < seg.seq
                || (self.snd_wl1 == seg.seq && self.snd_wl2 <= ack))
        {
            if self.persist && wnd > 0 {
                // The window reopened: stop probing and send again from
                // SND.UNA (the probe byte may have been refused).
                self.persist = false;
                self.rtx_deadline = None;
                self.snd.rewind();
                self.rto.acked();
            }
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = ack;
        }
        // State changes on the ACK of our FIN.
        if self.fin_acked {
            match self.state {
                State::FinWait1 => self.state = State::FinWait2,
                State::Closing => self.enter_time_wait(now),
                State::LastAck => {
                    self.end(Closed::Normally);
                    return;
                }
                _ => {}
            }
        }
        if ack_only {
            if !seg.payload.is_empty() || seg.fin {
                self.ack_now = true;
            }
            return;
        }
        // Seventh: the payload.
        if !seg.payload.is_empty() {
            match self.state {
                State::Established | State::FinWait1 | State::FinWait2 => {
                    let in_order = self.rcv.as_ref().is_some_and(|r| r.rcv_nxt() == seg.seq);
                    let had_holes = self.has_holes();
                    if let Some(r) = self.rcv.as_mut() {
                        r.insert(seg.seq, &seg.payload);
                    }
                    let full = seg.payload.len()
                        >= (self.neg.map_or(536, |n| n.send_mss.min(self.cfg.mss)) as usize)
                            .saturating_sub(12);
                    self.unacked_full += full as u32;
                    match self.cfg.delayed_ack {
                        // Out of order, or filling all or part of a hole: ACK
                        // at once, so the sender sees duplicates and learns of
                        // the repair (RFC 5681 4.2).
                        Some(d)
                            if in_order
                                && !had_holes
                                && !self.has_holes()
                                && self.unacked_full < 2 =>
                        {
                            self.delack_deadline.get_or_insert(now + d);
                        }
                        _ => self.ack_now = true,
                    }
                }
                _ => {}
            }
        }
        // Eighth: FIN, once everything before it has arrived.
        if seg.fin && !self.fin_received {
            let fin_at = seg.seq + seg.payload.len() as u32;
            if self.rcv.as_ref().is_some_and(|r| r.rcv_nxt() == fin_at) {
                self.fin_received = true;
                match (self.state, self.cfg.delayed_ack) {
                    // A FIN that closes the peer's side of an established
                    // connection is acknowledged like in-order data
                    // (delayed ACK, RFC 1122 4.2.3.2; Linux does so in its
                    // interactive mode): an application that closes at
                    // once sends its FIN with the ACK, one segment instead
                    // of two.
                    (State::Established, Some(d)) if !self.has_holes() => {
                        self.delack_deadline.get_or_insert(now + d);
                    }
                    _ => self.ack_now = true,
                }
                match self.state {
                    State::SynReceived | State::Established => self.state = State::CloseWait,
                    State::FinWait1 => {
                        if self.fin_acked {
                            self.enter_time_wait(now);
                        } else {
                            self.state = State::Closing;
                        }
                    }
                    State::FinWait2 => self.enter_time_wait(now),
                    _ => {}
                }
            }
        }
    }

    fn has_holes(&self) -> bool {
        self.rcv.as_ref().is_some_and(|r| r.has_holes())
    }

    fn enter_time_wait(&mut self, now: Duration) {
        self.state = State::TimeWait;
        self.rtx_deadline = None;
        self.time_wait_deadline = Some(now + 2 * self.cfg.msl);
    }

    /// The next segment to send at `now`, if any.
    pub fn dispatch(&mut self, now: Duration) -> Option<Segment> {
        let mut seg = self.dispatch_inner(now);
        if let Some(s) = seg.as_mut() {
            let echo = self.ts_recent.unwrap_or(0);
            if s.syn && s.syn_opts.tsval.is_some() {
                s.syn_opts.tsval = Some(self.ts_now(now));
                s.ts = Some((self.ts_now(now), if s.ack.is_some() { echo } else { 0 }));
            } else if !s.rst && self.neg.is_some_and(|n| n.timestamps) {
                s.ts = Some((self.ts_now(now), echo));
            }
            if let Some(a) = s.ack {
                self.last_ack_sent = a;
                let shift = if s.syn {
                    0
                } else {
                    self.neg.map_or(0, |n| n.rcv_wscale)
                };
                self.last_wnd_sent = (s.window as u32) << shift;
            }
        }
        if seg.as_ref().is_some_and(|s| s.ack.is_some()) {
            // Whatever goes out carries the ACK.
            self.delack_deadline = None;
            self.unacked_full = 0;
        }
        if let Some(k) = self.cfg.keepalive {
            if self.state == State::Established
                && self.keepalive_deadline.is_none()
                && self.snd.in_flight() == 0
                && self.snd.unsent() == 0
            {
                self.keepalive_deadline = Some(self.last_heard + k.idle);
            }
        }
        seg
    }

    fn dispatch_inner(&mut self, now: Duration) -> Option<Segment> {
        if let Some(s) = self.out.pop_front() {
            return Some(s);
        }
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) {
            return self.pure_ack();
        }
        let mss = self.neg.map_or(536, |n| n.payload_per_segment()) as usize;
        if self.rtx_now {
            self.rtx_now = false;
            if let Some((seq, data)) = self.snd.next_retransmit(mss) {
                self.timing = None;
                self.ack_now = false;
                self.arm_rtx(now);
                let end = seq + data.len() as u32;
                let mut s = self.data_segment(seq, data);
                // The FIN went out right after this data: it goes again
                // with it (it occupies the sequence number after it).
                s.fin = self.fin_seq == Some(end) && !self.fin_acked;
                return Some(s);
            }
        }
        if self.probe_now {
            self.probe_now = false;
            // One byte beyond the window, to draw an ACK with the current
            // window: the same byte each time once one is out.
            let probe = if self.snd.in_flight() > 0 {
                self.snd.next_retransmit(1)
            } else {
                self.snd.next_new(1, 1)
            };
            if let Some((seq, data)) = probe {
                return Some(self.data_segment(seq, data));
            }
        }
        if self.snd_wnd == 0 && self.snd.unsent() > 0 && self.snd.in_flight() == 0 && !self.persist
        {
            // Zero window with data waiting: the persist timer runs.
            self.persist = true;
            self.persist_interval = self.rto.rto();
            self.rtx_deadline = Some(now + self.persist_interval);
        }
        if self.persist {
            return self.pure_ack();
        }
        let wnd = self.snd_wnd.min(self.cc.cwnd());
        let room = wnd.saturating_sub(self.snd.in_flight());
        let max_before = self.snd.max_sent();
        if let Some((seq, data)) = self.snd.next_new(mss, room) {
            // Karn: only data never sent before is timed (after a
            // go-back-N rewind, next_new resends).
            if seq >= max_before {
                self.timing.get_or_insert((seq + data.len() as u32, now));
            }
            self.arm_rtx(now);
            self.ack_now = false;
            let mut s = self.data_segment(seq, data);
            if self.fin_wanted
                && !self.fin_acked
                && self.snd.unsent() == 0
                && self.fin_seq.is_none()
            {
                s.fin = true;
                self.fin_seq = Some(self.snd.nxt());
                self.after_fin_sent();
            }
            return Some(s);
        }
        // A FIN on its own once all data is out.
        if self.fin_wanted && !self.fin_acked && self.snd.unsent() == 0 && self.fin_seq.is_none() {
            let seq = self.snd.nxt();
            self.fin_seq = Some(seq);
            self.after_fin_sent();
            self.arm_rtx(now);
            self.ack_now = false;
            let mut s = self.ack_segment();
            s.seq = seq;
            s.fin = true;
            return Some(s);
        }
        self.pure_ack()
    }

    fn after_fin_sent(&mut self) {
        self.fin_hi = self.fin_hi.or(self.fin_seq);
        self.state = match self.state {
            State::Established | State::SynReceived => State::FinWait1,
            State::CloseWait => State::LastAck,
            s => s,
        };
    }

    fn data_segment(&self, seq: Seq, data: Vec<u8>) -> Segment {
        let mut s = self.ack_segment();
        s.seq = seq;
        // SACK blocks only as far as they fit next to the payload within
        // the peer's MSS (8 bytes a block plus 4 for kind, length and
        // padding; RFC 6691: options count against the segment size).
        if let Some(n) = self.neg {
            let room =
                (n.send_mss as usize).saturating_sub(n.option_overhead() as usize + data.len());
            s.sack.truncate(room.saturating_sub(4) / 8);
        }
        s.payload = data;
        s
    }

    fn pure_ack(&mut self) -> Option<Segment> {
        if !self.ack_now || self.rcv.is_none() || self.state == State::Closed {
            return None;
        }
        self.ack_now = false;
        Some(self.ack_segment())
    }
}
