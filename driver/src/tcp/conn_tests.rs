//! Packet-level tests of the connection state machine: put connections in
//! a state at a time, feed segments, assert exactly what comes out.
//!
//! Coverage of RFC 9293 3.3.2 / 3.10 and of every timer, by test.  "Fixed:"
//! marks tests written against the RFC that found a deviation, since
//! corrected in conn.rs / rto.rs.
//!
//! Transitions:
//! * CLOSED -> SYN-SENT, LISTEN -> SYN-RECEIVED (accept), SYN-SENT ->
//!   ESTABLISHED, SYN-RECEIVED -> ESTABLISHED:
//!   three_way_handshake_segment_by_segment
//! * SYN-SENT -> SYN-RECEIVED -> ESTABLISHED (simultaneous open):
//!   simultaneous_open
//! * SYN-SENT -> CLOSED on RST with acceptable ACK and on close(); RST
//!   without or with a bad ACK dropped; bad ACK answered with RST;
//!   SYN-RECEIVED bad ACK -> RST, ACK+FIN -> CLOSE-WAIT; ESTABLISHED ->
//!   FIN-WAIT-1 / CLOSE-WAIT; FIN-WAIT-1 -> FIN-WAIT-2 / CLOSING / TIME-WAIT;
//!   FIN-WAIT-2 -> TIME-WAIT; CLOSING -> TIME-WAIT; CLOSE-WAIT -> LAST-ACK;
//!   LAST-ACK -> CLOSED: transition_table (also, run end to end:
//!   data_both_ways_and_a_normal_close, simultaneous_close_goes_through_closing)
//! * SYN-SENT -> CLOSED, SYN retries exhausted:
//!   lost_syn_is_retransmitted_with_backoff_then_gives_up
//! * SYN-RECEIVED -> FIN-WAIT-1 (close):
//!   close_in_syn_received_with_data_queued_sends_data_and_fin_once_established;
//!   Fixed: close_in_syn_received_sends_fin_at_once
//! * ESTABLISHED -> FIN-WAIT-1 with data held back:
//!   Fixed: close_with_data_queued_enters_fin_wait_1_at_once
//! * TIME-WAIT -> CLOSED after 2 MSL: time_wait_lasts_exactly_two_msl;
//!   restart on a retransmitted FIN: time_wait_restarts_on_a_retransmitted_fin
//! * RST at RCV.NXT -> CLOSED (SYN-RECEIVED: the listener's LISTEN), in the
//!   window -> challenge ACK, outside -> dropped; SYN -> challenge ACK:
//!   rst_is_honoured_only_at_rcv_nxt, syn_in_established_draws_a_challenge_ack
//!   (ESTABLISHED), rst_and_syn_in_every_synchronized_state (the others);
//!   Fixed: syn_in_passive_syn_received_returns_to_listen
//! * abort() from each state: abort_from_each_state;
//!   Fixed: abort_rst_carries_snd_nxt, abort_in_closing_or_last_ack_sends_nothing
//! * R2 -> CLOSED (TimedOut) in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1,
//!   CLOSING, LAST-ACK: retransmission_limit_ends_the_connection_in_every_state
//!
//! Timers:
//! * retransmission, RFC 6298 5.1 to 5.6:
//!   retransmission_timer_starts_restarts_backs_off_and_stops; doubling, the
//!   60 s cap, default R2: rto_backoff_doubles_up_to_the_cap_then_gives_up;
//!   Fixed: karn_no_rtt_sample_from_a_retransmitted_segment,
//!   backed_off_rto_is_kept_until_a_fresh_rtt_sample; end to end:
//!   lost_data_is_retransmitted_and_arrives_intact, random_loss_both_ways_then_close
//! * SYN / SYN-ACK retransmission: lost_syn_is_retransmitted_with_backoff_then_gives_up,
//!   retransmission_limit_ends_the_connection_in_every_state;
//!   Fixed: after_a_syn_timeout_no_sample_and_rto_of_3_s
//! * persist: persist_timer_probes_with_backoff_and_no_limit,
//!   zero_window_is_probed_until_it_opens; Fixed: persist_timer_survives_an_acked_probe
//! * delayed ACK: delayed_ack_every_second_segment_or_after_the_delay (40 ms,
//!   every second full segment, piggybacked), delayed_ack_deadline_is_not_pushed_back,
//!   out_of_order_data_is_acked_at_once_with_sack_and_holes_are_resent
//! * keepalive: keepalive_idle_interval_and_count_exactly,
//!   keepalive_probes_an_idle_connection_and_ends_a_dead_one
//! * TIME-WAIT 2 MSL: time_wait_lasts_exactly_two_msl, transition_table
#![allow(clippy::field_reassign_with_default, clippy::type_complexity)]
use super::conn::*;
use super::seq::Seq;
use std::time::Duration;

const T0: Duration = Duration::from_secs(1000);
const ISS_A: Seq = Seq(1000);
const ISS_B: Seq = Seq(u32::MAX - 50);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Everything `c` wants to send now.
fn drain(c: &mut Conn, now: Duration) -> Vec<Segment> {
    let mut v = vec![];
    while let Some(s) = c.dispatch(now) {
        v.push(s);
        assert!(v.len() < 10_000, "dispatch never ends");
    }
    v
}

/// Two connections joined by a wire that can drop segments.
struct Pair {
    a: Conn,
    b: Conn,
    now: Duration,
    /// Drop the n-th segment from a to b (counting from 0), and from b to a.
    drop_ab: Vec<usize>,
    drop_ba: Vec<usize>,
    sent_ab: usize,
    sent_ba: usize,
}

impl Pair {
    /// a connects to b (listening).
    fn open() -> Pair {
        Pair::open_with(Config::default())
    }

    /// a connects to b (listening), both with `cfg`.
    fn open_with(cfg: Config) -> Pair {
        let mut a = Conn::connect(cfg.clone(), ISS_A, T0);
        let syn = drain(&mut a, T0).remove(0);
        let b = Conn::accept(cfg, &syn, ISS_B, T0).unwrap();
        Pair {
            a,
            b,
            now: T0,
            drop_ab: vec![],
            drop_ba: vec![],
            sent_ab: 0,
            sent_ba: 0,
        }
    }

    /// Exchanges segments (advancing time to the next timer when the wire
    /// is quiet) until `done` or `limit` of simulated time has passed.
    fn run(&mut self, limit: Duration, done: impl Fn(&Pair) -> bool) {
        let end = self.now + limit;
        while !done(self) && self.now < end {
            let mut moved = false;
            let trace = std::env::var_os("TOE_TRACE_TCP").is_some();
            for s in drain(&mut self.a, self.now) {
                moved = true;
                let n = self.sent_ab;
                if trace {
                    eprintln!(
                        "{:?} a>b #{n} seq {} ack {:?} len {} syn {} fin {} win {} {:?} {:?}{}",
                        self.now - T0,
                        s.seq.0,
                        s.ack.map(|a| a.0),
                        s.payload.len(),
                        s.syn,
                        s.fin,
                        s.window,
                        self.a.state(),
                        self.b.state(),
                        if self.drop_ab.contains(&n) {
                            " DROP"
                        } else {
                            ""
                        }
                    );
                }
                self.sent_ab += 1;
                if !self.drop_ab.contains(&n) {
                    self.b.on_segment(&s, self.now);
                }
            }
            for s in drain(&mut self.b, self.now) {
                moved = true;
                let n = self.sent_ba;
                if trace {
                    eprintln!(
                        "{:?} b>a #{n} seq {} ack {:?} len {} syn {} fin {} win {}{}",
                        self.now - T0,
                        s.seq.0,
                        s.ack.map(|a| a.0),
                        s.payload.len(),
                        s.syn,
                        s.fin,
                        s.window,
                        if self.drop_ba.contains(&n) {
                            " DROP"
                        } else {
                            ""
                        }
                    );
                }
                self.sent_ba += 1;
                if !self.drop_ba.contains(&n) {
                    self.a.on_segment(&s, self.now);
                }
            }
            if !moved {
                let next = [self.a.poll_at(), self.b.poll_at()]
                    .into_iter()
                    .flatten()
                    .min();
                match next {
                    Some(t) => {
                        self.now = self.now.max(t);
                        self.a.on_timer(self.now);
                        self.b.on_timer(self.now);
                    }
                    None => break,
                }
            } else {
                self.now += ms(1);
            }
        }
    }

    fn established(&mut self) {
        self.run(ms(10_000), |p| {
            p.a.state() == State::Established && p.b.state() == State::Established
        });
        assert_eq!(
            (self.a.state(), self.b.state()),
            (State::Established, State::Established)
        );
    }
}

#[test]
fn three_way_handshake_segment_by_segment() {
    let mut a = Conn::connect(Config::default(), ISS_A, T0);
    assert_eq!(a.state(), State::SynSent);
    let out = drain(&mut a, T0);
    assert_eq!(out.len(), 1);
    let syn = &out[0];
    assert!(syn.syn && syn.ack.is_none() && syn.seq == ISS_A);
    assert_eq!(syn.syn_opts.mss, Some(1460));
    let mut b = Conn::accept(Config::default(), syn, ISS_B, T0).unwrap();
    assert_eq!(b.state(), State::SynReceived);
    let out = drain(&mut b, T0);
    assert_eq!(out.len(), 1);
    let synack = &out[0];
    assert!(synack.syn && synack.seq == ISS_B && synack.ack == Some(ISS_A + 1));
    a.on_segment(synack, T0 + ms(10));
    assert_eq!(a.state(), State::Established);
    let out = drain(&mut a, T0 + ms(10));
    assert_eq!(out.len(), 1);
    let ack = &out[0];
    assert!(!ack.syn && ack.seq == ISS_A + 1 && ack.ack == Some(ISS_B + 1));
    b.on_segment(ack, T0 + ms(20));
    assert_eq!(b.state(), State::Established);
    assert!(drain(&mut b, T0 + ms(20)).is_empty());
    let n = a.negotiated().unwrap();
    assert!(n.sack && n.snd_wscale == 1 && n.rcv_wscale == 1);
    assert_eq!(a.poll_at(), None, "no timer once the SYN is acknowledged");
}

#[test]
fn lost_syn_is_retransmitted_with_backoff_then_gives_up() {
    let mut cfg = Config::default();
    cfg.rto.max_retries = 3;
    let mut a = Conn::connect(cfg, ISS_A, T0);
    drain(&mut a, T0);
    let mut times = vec![];
    while a.state() == State::SynSent {
        let t = a.poll_at().unwrap();
        a.on_timer(t);
        if let Some(s) = a.dispatch(t) {
            assert!(s.syn && s.seq == ISS_A);
            times.push((t - T0).as_secs());
        }
    }
    assert_eq!(times, [1, 3, 7]);
    assert_eq!(a.closed(), Some(Closed::TimedOut));
}

#[test]
fn data_both_ways_and_a_normal_close() {
    let mut p = Pair::open();
    p.established();
    let up: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let down: Vec<u8> = (0..30_000u32).map(|i| (i % 13) as u8).collect();
    let (mut wa, mut wb) = (0, 0);
    let (mut ra, mut rb) = (vec![], vec![]);
    let mut buf = vec![0u8; 8192];
    for _ in 0..2000 {
        wa += p.a.write(&up[wa..]);
        wb += p.b.write(&down[wb..]);
        p.run(ms(5), |_| false);
        loop {
            let n = p.b.read(&mut buf);
            if n == 0 {
                break;
            }
            rb.extend_from_slice(&buf[..n]);
        }
        loop {
            let n = p.a.read(&mut buf);
            if n == 0 {
                break;
            }
            ra.extend_from_slice(&buf[..n]);
        }
        if rb.len() == up.len() && ra.len() == down.len() {
            break;
        }
    }
    assert_eq!(rb, up);
    assert_eq!(ra, down);
    // a closes first: FIN_WAIT_1 -> FIN_WAIT_2; b sees CLOSE_WAIT.
    p.a.close();
    p.run(ms(1000), |p| {
        p.b.state() == State::CloseWait && p.a.state() == State::FinWait2
    });
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::FinWait2, State::CloseWait)
    );
    assert!(p.b.read_closed());
    // b closes: LAST_ACK, then CLOSED; a waits 2 MSL in TIME_WAIT.
    p.b.close();
    p.run(ms(1000), |p| p.b.state() == State::Closed);
    assert_eq!(
        (p.a.state(), p.b.closed()),
        (State::TimeWait, Some(Closed::Normally))
    );
    // 2 MSL = 60 s from entering TIME_WAIT, which happened in the last run.
    let tw = p.a.poll_at().unwrap();
    assert!(
        tw <= p.now + Duration::from_secs(60) && tw + ms(1000) >= p.now + Duration::from_secs(60)
    );
    p.a.on_timer(tw - ms(1));
    assert_eq!(p.a.state(), State::TimeWait);
    p.a.on_timer(tw);
    assert_eq!(p.a.closed(), Some(Closed::Normally));
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut p = Pair::open();
    p.established();
    p.a.close();
    p.b.close();
    let fa = drain(&mut p.a, p.now);
    let fb = drain(&mut p.b, p.now);
    assert!(fa[0].fin && fb[0].fin);
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::FinWait1, State::FinWait1)
    );
    p.a.on_segment(&fb[0], p.now);
    p.b.on_segment(&fa[0], p.now);
    assert_eq!((p.a.state(), p.b.state()), (State::Closing, State::Closing));
    p.run(ms(100), |p| {
        p.a.state() == State::TimeWait && p.b.state() == State::TimeWait
    });
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::TimeWait, State::TimeWait)
    );
}

#[test]
fn simultaneous_open() {
    let mut a = Conn::connect(Config::default(), ISS_A, T0);
    let mut b = Conn::connect(Config::default(), ISS_B, T0);
    let sa = drain(&mut a, T0).remove(0);
    let sb = drain(&mut b, T0).remove(0);
    a.on_segment(&sb, T0);
    b.on_segment(&sa, T0);
    assert_eq!(
        (a.state(), b.state()),
        (State::SynReceived, State::SynReceived)
    );
    let sa2 = drain(&mut a, T0).remove(0);
    let sb2 = drain(&mut b, T0).remove(0);
    assert!(sa2.syn && sa2.ack == Some(ISS_B + 1));
    // Each SYN-ACK lies before RCV.NXT: answered with a plain ACK
    // (RFC 9293 figure 8), which completes the other side.
    a.on_segment(&sb2, T0);
    b.on_segment(&sa2, T0);
    let aa = drain(&mut a, T0);
    let ab = drain(&mut b, T0);
    assert_eq!((aa.len(), ab.len()), (1, 1));
    assert!(!aa[0].syn && aa[0].ack == Some(ISS_B + 1));
    a.on_segment(&ab[0], T0);
    b.on_segment(&aa[0], T0);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
}

#[test]
fn lost_data_is_retransmitted_and_arrives_intact() {
    let mut p = Pair::open();
    p.established();
    // Drop the first two data segments from a to b.
    p.drop_ab = vec![p.sent_ab, p.sent_ab + 1];
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(p.a.write(&data), data.len());
    let mut got = vec![];
    let mut buf = vec![0u8; 4096];
    for _ in 0..200 {
        p.run(ms(200), |_| false);
        loop {
            let n = p.b.read(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got, data);
}

#[test]
fn rst_is_honoured_only_at_rcv_nxt() {
    let mut p = Pair::open();
    p.established();
    let rcv_nxt = ISS_A + 1;
    // In the window but not exact: challenge ACK, connection stays.
    p.b.on_segment(
        &Segment {
            seq: rcv_nxt + 100,
            rst: true,
            ..Segment::default()
        },
        p.now,
    );
    assert_eq!(p.b.state(), State::Established);
    let out = drain(&mut p.b, p.now);
    assert_eq!(out.len(), 1);
    assert!(!out[0].rst && out[0].ack == Some(rcv_nxt));
    // Outside the window: silently dropped.
    p.b.on_segment(
        &Segment {
            seq: rcv_nxt - 10,
            rst: true,
            ..Segment::default()
        },
        p.now,
    );
    assert!(drain(&mut p.b, p.now).is_empty());
    // Exact: reset.
    p.b.on_segment(
        &Segment {
            seq: rcv_nxt,
            rst: true,
            ..Segment::default()
        },
        p.now,
    );
    assert_eq!(p.b.closed(), Some(Closed::Reset));
}

#[test]
fn syn_in_established_draws_a_challenge_ack() {
    let mut p = Pair::open();
    p.established();
    let syn = Segment {
        seq: Seq(5),
        syn: true,
        ..Segment::default()
    };
    p.b.on_segment(&syn, p.now);
    assert_eq!(p.b.state(), State::Established);
    let out = drain(&mut p.b, p.now);
    assert_eq!(out.len(), 1);
    assert!(!out[0].syn && out[0].ack == Some(ISS_A + 1));
}

#[test]
fn ack_of_unsent_data_is_answered_not_taken() {
    let mut p = Pair::open();
    p.established();
    let bogus = Segment {
        seq: ISS_A + 1,
        ack: Some(ISS_B + 1 + 5000),
        window: 1000,
        ..Segment::default()
    };
    p.b.on_segment(&bogus, p.now);
    assert_eq!(p.b.state(), State::Established);
    let out = drain(&mut p.b, p.now);
    assert_eq!(out.len(), 1, "an ACK answers it");
}

#[test]
fn time_wait_restarts_on_a_retransmitted_fin() {
    let mut p = Pair::open();
    p.established();
    p.a.close();
    p.run(ms(100), |p| p.b.state() == State::CloseWait);
    p.b.close();
    // Capture b's FIN and deliver it twice.
    let fin = drain(&mut p.b, p.now).into_iter().find(|s| s.fin).unwrap();
    p.a.on_segment(&fin, p.now);
    assert_eq!(p.a.state(), State::TimeWait);
    let first = p.a.poll_at().unwrap();
    drain(&mut p.a, p.now);
    let later = p.now + Duration::from_secs(10);
    p.a.on_segment(&fin, later);
    assert_eq!(p.a.poll_at().unwrap(), first + Duration::from_secs(10));
    let out = drain(&mut p.a, later);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, Some(fin.seq + 1));
}

/// Random loss in both directions (seeded; set TOE_SEED to replay): the
/// data arrives intact and both sides close.
#[test]
fn random_loss_both_ways_then_close() {
    let seed: u64 = std::env::var("TOE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    println!("seed {seed} (replay with TOE_SEED={seed})");
    for round in 0..4u64 {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ round;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut p = Pair::open();
        // About 10% loss, decided per segment index in advance.
        p.drop_ab = (0..20_000).filter(|_| next() % 10 == 0).collect();
        p.drop_ba = (0..20_000).filter(|_| next() % 10 == 0).collect();
        p.established();
        let up: Vec<u8> = (0..60_000u32).map(|i| (i ^ round as u32) as u8).collect();
        let down: Vec<u8> = (0..20_000u32).map(|i| (i * 3) as u8).collect();
        let (mut wa, mut wb, mut ra, mut rb) = (0, 0, vec![], vec![]);
        let mut buf = vec![0u8; 8192];
        let mut closed = false;
        for _ in 0..20_000 {
            wa += p.a.write(&up[wa..]);
            wb += p.b.write(&down[wb..]);
            if !closed && wa == up.len() && wb == down.len() {
                p.a.close();
                p.b.close();
                closed = true;
            }
            p.run(ms(50), |_| false);
            for (c, out) in [(&mut p.a, &mut ra), (&mut p.b, &mut rb)] {
                loop {
                    let n = c.read(&mut buf);
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
            }
            if p.a.closed().is_some() && p.b.closed().is_some() {
                break;
            }
        }
        let first_diff = |x: &[u8], y: &[u8]| x.iter().zip(y).position(|(p, q)| p != q);
        assert!(rb == up, "round {round}: a -> b: got {} of {} bytes, first difference at {:?}; {:?} {:?} at {:?}", rb.len(), up.len(), first_diff(&rb, &up), p.a.closed(), p.b.closed(), p.now - T0);
        assert!(
            ra == down,
            "round {round}: b -> a: got {} of {} bytes, first difference at {:?}",
            ra.len(),
            down.len(),
            first_diff(&ra, &down)
        );
        assert!(
            matches!(p.a.state(), State::Closed | State::TimeWait)
                && matches!(p.b.state(), State::Closed | State::TimeWait),
            "round {round}: {:?} {:?}",
            p.a.state(),
            p.b.state()
        );
    }
}

#[test]
fn zero_window_is_probed_until_it_opens() {
    let mut cfg = Config::default();
    cfg.recv_buffer = 4096;
    cfg.syn_opts.wscale = Some(0);
    cfg.rto.max_retries = 3;
    let mut p = established_pair(cfg);
    let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    let mut w = p.a.write(&data);
    // b reads nothing for 10 minutes: its window closes at 4096 bytes and
    // a probes, with backoff, far beyond its retransmission limit of 3.
    let before = p.sent_ab;
    p.run(Duration::from_secs(600), |_| false);
    assert_eq!(
        p.a.state(),
        State::Established,
        "a zero window is not a dead peer"
    );
    assert_eq!(p.b.readable(), 4096);
    let probes = p.sent_ab - before;
    assert!(
        (5..60).contains(&probes),
        "{probes} segments while the window was closed"
    );
    // b reads: the window update restarts the transfer.
    let mut got = vec![];
    let mut buf = vec![0u8; 4096];
    for _ in 0..1000 {
        w += p.a.write(&data[w..]);
        loop {
            let n = p.b.read(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if got.len() == data.len() {
            break;
        }
        p.run(ms(20), |_| false);
    }
    assert_eq!(got, data);
}

fn established_pair(cfg: Config) -> Pair {
    let mut p = Pair::open_with(cfg);
    p.established();
    p
}

#[test]
fn delayed_ack_every_second_segment_or_after_the_delay() {
    let mut p = established_pair(Config::default());
    let t = p.now;
    // One small segment: no ACK at once, one after 40 ms.
    p.a.write(b"hello");
    let seg = drain(&mut p.a, t).remove(0);
    p.b.on_segment(&seg, t);
    assert!(drain(&mut p.b, t).is_empty(), "ACK delayed");
    assert_eq!(p.b.poll_at(), Some(t + ms(40)));
    p.b.on_timer(t + ms(40));
    let ack = drain(&mut p.b, t + ms(40));
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].ack, Some(seg.seq + 5));
    // Two full-sized segments: ACK at once.
    p.a.on_segment(&ack[0], t + ms(40));
    let mss = p.a.negotiated().unwrap().payload_per_segment() as usize;
    p.a.write(&vec![7u8; 2 * mss]);
    let segs = drain(&mut p.a, t + ms(41));
    assert_eq!(segs.len(), 2);
    p.b.on_segment(&segs[0], t + ms(41));
    assert!(drain(&mut p.b, t + ms(41)).is_empty());
    p.b.on_segment(&segs[1], t + ms(41));
    let ack = drain(&mut p.b, t + ms(41));
    assert_eq!(
        ack.len(),
        1,
        "every second full segment is acknowledged at once"
    );
    // Data going the other way carries the ACK and cancels the timer.
    p.a.write(b"x");
    let seg = drain(&mut p.a, t + ms(42)).remove(0);
    p.b.on_segment(&seg, t + ms(42));
    p.b.write(b"reply");
    let out = drain(&mut p.b, t + ms(43));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].payload.len(), out[0].ack), (5, Some(seg.seq + 1)));
    // No delayed-ACK timer left: the next timer is the retransmission of
    // "reply" (at least the 1 s minimum RTO away).
    assert!(p.b.poll_at().unwrap() >= t + ms(1043));
}

#[test]
fn out_of_order_data_is_acked_at_once_with_sack_and_holes_are_resent() {
    let mut p = established_pair(Config::default());
    // Warm up: grow a's congestion window past a few segments.
    p.a.write(&[0u8; 30_000]);
    let mut buf = vec![0u8; 65536];
    for _ in 0..100 {
        p.run(ms(10), |_| false);
        p.b.read(&mut buf);
    }
    assert_eq!(p.a.closed(), None);
    let t = p.now;
    // Timestamps are on: 12 bytes of options per segment.
    let mss = p.a.negotiated().unwrap().payload_per_segment() as usize;
    assert_eq!(mss, 1448);
    p.a.write(&vec![1u8; 6 * mss]);
    let segs = drain(&mut p.a, t);
    assert_eq!(segs.len(), 6);
    // The second segment is lost: the third arrives out of order.
    p.b.on_segment(&segs[0], t);
    p.b.on_segment(&segs[2], t);
    let ack = drain(&mut p.b, t);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].ack, Some(segs[1].seq));
    assert_eq!(ack[0].sack, vec![(segs[2].seq, segs[2].seq + mss as u32)]);
    // Three duplicates (each with SACK) trigger fast retransmit of the
    // hole only.
    let mut dups = vec![];
    for s in &segs[3..] {
        p.b.on_segment(s, t);
        dups.extend(drain(&mut p.b, t));
    }
    assert_eq!(dups.len(), 3);
    assert!(dups
        .iter()
        .all(|d| d.ack == Some(segs[1].seq) && !d.sack.is_empty()));
    p.a.on_segment(&ack[0], t);
    for d in &dups {
        p.a.on_segment(d, t);
    }
    let rtx = drain(&mut p.a, t);
    assert!(!rtx.is_empty());
    assert_eq!(
        (rtx[0].seq, rtx[0].payload.len()),
        (segs[1].seq, mss),
        "the hole, not what was SACKed"
    );
    p.b.on_segment(&rtx[0], t);
    let sent: usize = segs.iter().map(|s| s.payload.len()).sum();
    assert_eq!(p.b.readable(), sent);
}

#[test]
fn keepalive_probes_an_idle_connection_and_ends_a_dead_one() {
    let cfg = Config {
        keepalive: Some(Keepalive {
            idle: Duration::from_secs(60),
            interval: Duration::from_secs(10),
            count: 3,
        }),
        ..Config::default()
    };
    let mut p = established_pair(cfg);
    // A live peer answers the probes: still established after an hour.
    p.run(Duration::from_secs(3600), |_| false);
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::Established, State::Established)
    );
    assert!(p.sent_ab > 10, "probes went out");
    // The peer dies (everything dropped): 3 probes, then the connection ends.
    let now = p.now;
    let deadline = p.a.poll_at().unwrap();
    let mut probes = 0;
    let mut t = deadline;
    while p.a.closed().is_none() {
        p.a.on_timer(t);
        for s in drain(&mut p.a, t) {
            assert_eq!(s.seq, ISS_A + 1 - 1, "probe with an old sequence number");
            probes += 1;
        }
        t = match p.a.poll_at() {
            Some(x) => x,
            None => break,
        };
        assert!(t < now + Duration::from_secs(200));
    }
    assert_eq!((probes, p.a.closed()), (3, Some(Closed::TimedOut)));
}

#[test]
fn timestamps_are_echoed_measure_rtt_and_guard_against_old_segments() {
    let mut p = established_pair(Config::default());
    assert!(p.a.negotiated().unwrap().timestamps);
    let t = p.now;
    p.a.write(b"first");
    let s1 = drain(&mut p.a, t).remove(0);
    let (tsval, tsecr) = s1.ts.expect("data carries timestamps");
    assert_ne!(tsecr, 0, "echoes the peer's last TSval");
    p.b.on_segment(&s1, t + ms(30));
    p.b.on_timer(t + ms(70));
    let ack = drain(&mut p.b, t + ms(70)).remove(0);
    assert_eq!(ack.ts.unwrap().1, tsval, "b echoes a's TSval");
    // The echo measures the round trip (70 ms; the handshake's was 1 ms).
    let before = p.a.srtt().unwrap();
    p.a.on_segment(&ack, t + ms(70));
    let after = p.a.srtt().unwrap();
    assert_eq!(after, before * 7 / 8 + ms(70) / 8);
    let mut buf = [0u8; 16];
    assert_eq!(p.b.read(&mut buf), 5);
    // PAWS: a segment with an older TSval than the last one seen is dropped
    // and answered with an ACK, even though its sequence number fits.
    p.a.write(b"second");
    let mut s2 = drain(&mut p.a, t + ms(100)).remove(0);
    let good = s2.clone();
    s2.ts = Some((tsval.wrapping_sub(1000), s2.ts.unwrap().1));
    p.b.on_segment(&s2, t + ms(101));
    assert_eq!(p.b.readable(), 0);
    assert_eq!(drain(&mut p.b, t + ms(101)).len(), 1);
    p.b.on_segment(&good, t + ms(102));
    assert_eq!(p.b.readable(), 6);
}

#[test]
fn data_segments_never_exceed_the_mss_with_sack_blocks() {
    let mut p = established_pair(Config::default());
    let mss = p.a.negotiated().unwrap().send_mss as usize;
    let opts = p.a.negotiated().unwrap().option_overhead() as usize;
    // b has holes (so its ACKs carry SACK blocks) and sends full segments.
    p.a.write(&vec![1u8; 10 * 1448]);
    let segs = drain(&mut p.a, p.now);
    for s in segs.iter().skip(1).step_by(2) {
        p.b.on_segment(s, p.now);
    }
    drain(&mut p.b, p.now);
    p.b.write(&vec![2u8; 4 * 1448]);
    for s in drain(&mut p.b, p.now) {
        let option_bytes = opts
            + if s.sack.is_empty() {
                0
            } else {
                4 + 8 * s.sack.len()
            };
        assert!(
            s.payload.len() + option_bytes <= mss,
            "{} payload + {} option bytes",
            s.payload.len(),
            option_bytes
        );
    }
}

/// Warms up a's congestion window, then queues `n` full segments in a
/// (and closes a if `fin`) and returns what a sends.
fn flight_of(p: &mut Pair, n: usize, fin: bool) -> (Vec<Segment>, usize) {
    p.a.write(&[0u8; 30_000]);
    let mut buf = vec![0u8; 65536];
    let mut read = 0;
    while read < 30_000 {
        p.run(ms(10), |_| false);
        read += p.b.read(&mut buf);
    }
    // The last ACKs reach a: nothing in flight.
    p.run(ms(100), |_| false);
    assert!(p.a.debug_summary().contains("in_flight 0 "));
    let mss = p.a.negotiated().unwrap().payload_per_segment() as usize;
    p.a.write(&vec![1u8; n * mss]);
    if fin {
        p.a.close();
    }
    let segs = drain(&mut p.a, p.now);
    assert_eq!(segs.len(), n);
    (segs, mss)
}

/// Regression (found against Linux over TAP): a receiver that autotunes
/// changes its window on nearly every ACK, so RFC 5681's "same window"
/// duplicate test never matched and every loss waited for the RTO.  With
/// SACK, an ACK that SACKs new data is a duplicate (RFC 6675 2), whatever
/// its window, and also when it carries data.
#[test]
fn sack_duplicates_with_a_growing_window_or_data_trigger_fast_retransmit() {
    for carry_data in [false, true] {
        let mut p = established_pair(Config::default());
        let (segs, mss) = flight_of(&mut p, 5, false);
        let t = p.now;
        let hole = segs[0].seq;
        let mut bseq = p.b.snd_nxt();
        let mut rtx = vec![];
        for (i, s) in segs[1..4].iter().enumerate() {
            let dup = Segment {
                seq: bseq,
                ack: Some(hole),
                window: 1000 + 3 * i as u16,
                sack: vec![(segs[1].seq, s.seq + mss as u32)],
                payload: if carry_data { vec![9; 10] } else { vec![] },
                ..Segment::default()
            };
            if carry_data {
                bseq = bseq + 10;
            }
            p.a.on_segment(&dup, t);
            rtx.extend(
                drain(&mut p.a, t)
                    .into_iter()
                    .filter(|s| !s.payload.is_empty()),
            );
        }
        assert_eq!(
            rtx.first().map(|s| (s.seq, s.payload.len())),
            Some((hole, mss)),
            "third SACKing duplicate (data {carry_data}) retransmits the hole at once"
        );
    }
}

/// Regression (seen against Linux): the retransmission of the segment that
/// carried the FIN went out without it, so the FIN waited for the RTO.
#[test]
fn fin_rides_on_the_retransmission_of_the_last_segment() {
    let mut p = established_pair(Config::default());
    let (segs, _) = flight_of(&mut p, 5, true);
    assert!(segs[4].fin && !segs[3].fin, "FIN on the last data segment");
    let t = p.now;
    // The first and the last (FIN) segments are lost.
    let mut to_a = vec![];
    for s in &segs[1..4] {
        p.b.on_segment(s, t);
        to_a.extend(drain(&mut p.b, t));
    }
    let mut out = vec![];
    for d in &to_a {
        p.a.on_segment(d, t);
        out.extend(drain(&mut p.a, t));
    }
    assert_eq!(
        out.first().map(|s| s.seq),
        Some(segs[0].seq),
        "fast retransmit"
    );
    // The hole filled: a partial ACK up to the lost FIN segment (RFC 6582)
    // retransmits it, FIN included.
    p.b.on_segment(&out[0], t);
    let partial = drain(&mut p.b, t);
    assert_eq!(partial.last().and_then(|s| s.ack), Some(segs[4].seq));
    let mut again = vec![];
    for s in &partial {
        p.a.on_segment(s, t);
        again.extend(drain(&mut p.a, t));
    }
    let r = again
        .iter()
        .find(|s| s.seq == segs[4].seq)
        .expect("the last segment is retransmitted after the partial ACK");
    assert!(r.fin, "the FIN rides on the retransmitted last segment");
}

// ---------------------------------------------------------------------------
// One connection against a scripted peer: every transition of RFC 9293 3.3.2
// and 3.10 and every timer, segment by segment.  Timestamps are off (`quiet`)
// so that whole segments can be compared; the peer offers MSS 1460, window
// scale 0 and SACK.  Our ISS is `L`, the peer's `R` (just below 2^32, so its
// sequence numbers wrap).  The coverage map is at the top of the file.
// ---------------------------------------------------------------------------

use super::conn::State as S;
use super::options::SynOptions;

const L: Seq = ISS_A;
const R: Seq = ISS_B;
/// When the events of the tests below happen: 100 ms after `in_state`.
const T1: Duration = Duration::from_millis(1_000_100);
/// Our window field: 64 KiB of receive buffer, window scale 1.
const WND: u16 = 32_768;
/// The peer's window field (it does not scale).
const PEER_WND: u16 = 65_535;
const PEER_OPTS: SynOptions = SynOptions {
    mss: Some(1460),
    wscale: Some(0),
    sack_permitted: true,
    tsval: None,
};
const OUR_OPTS: SynOptions = SynOptions {
    mss: Some(1460),
    wscale: Some(1),
    sack_permitted: true,
    tsval: None,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The default configuration without timestamps.
fn quiet() -> Config {
    Config {
        timestamps: false,
        ..Config::default()
    }
}

/// A segment from the peer, ACK set.
fn peer(seq: Seq, ack: Seq) -> Segment {
    Segment {
        seq,
        ack: Some(ack),
        window: PEER_WND,
        ..Segment::default()
    }
}

/// A segment we send, ACK set.
fn us(seq: Seq, ack: Seq) -> Segment {
    Segment {
        seq,
        ack: Some(ack),
        window: WND,
        ..Segment::default()
    }
}

fn fin(s: Segment) -> Segment {
    Segment { fin: true, ..s }
}

fn with_data(s: Segment, data: &[u8]) -> Segment {
    Segment {
        payload: data.to_vec(),
        ..s
    }
}

/// A bare RST (no ACK), as both sides send them.
fn rst(seq: Seq) -> Segment {
    Segment {
        seq,
        rst: true,
        ..Segment::default()
    }
}

fn peer_syn() -> Segment {
    Segment {
        seq: R,
        syn: true,
        window: PEER_WND,
        syn_opts: PEER_OPTS,
        ..Segment::default()
    }
}

fn peer_syn_ack() -> Segment {
    Segment {
        syn: true,
        syn_opts: PEER_OPTS,
        ..peer(R, L + 1)
    }
}

/// Our SYN (a SYN's window is never scaled).
fn our_syn() -> Segment {
    Segment {
        seq: L,
        syn: true,
        window: 65_535,
        syn_opts: OUR_OPTS,
        ..Segment::default()
    }
}

fn our_syn_ack() -> Segment {
    Segment {
        ack: Some(R + 1),
        ..our_syn()
    }
}

/// A connection driven into `state` by exchanges that end at T0, with
/// nothing left to send.  SYN-SENT: connected at T0.  SYN-RECEIVED: a
/// passive open whose SYN-ACK went out at T0.  The others: an active open
/// whose SYN-ACK arrived at T0, 10 ms after the SYN (SRTT 10 ms, RTO 1 s);
/// then our FIN sent at T0 and/or the peer's FIN and ACK received at T0, no
/// data either way.
fn in_state(state: State, cfg: Config) -> Conn {
    let mut c = match state {
        S::SynSent => Conn::connect(cfg, L, T0),
        S::SynReceived => Conn::accept(cfg, &peer_syn(), L, T0).unwrap(),
        _ => {
            let mut c = Conn::connect(cfg, L, T0 - ms(10));
            drain(&mut c, T0 - ms(10));
            c.on_segment(&peer_syn_ack(), T0);
            c
        }
    };
    drain(&mut c, T0);
    if matches!(state, S::FinWait1 | S::FinWait2 | S::Closing | S::TimeWait) {
        c.close();
        drain(&mut c, T0);
    }
    if matches!(state, S::FinWait2 | S::TimeWait) {
        c.on_segment(&peer(R + 1, L + 2), T0);
    }
    match state {
        S::CloseWait | S::LastAck | S::Closing => c.on_segment(&fin(peer(R + 1, L + 1)), T0),
        S::TimeWait => c.on_segment(&fin(peer(R + 1, L + 2)), T0),
        _ => {}
    }
    if state == S::CloseWait {
        // The FIN's delayed ACK goes out.
        c.on_timer(T0 + ms(40));
    }
    drain(&mut c, T0);
    if state == S::LastAck {
        c.close();
        drain(&mut c, T0);
    }
    assert_eq!(c.state(), state, "in_state");
    c
}

/// (SND.NXT, RCV.NXT) of `in_state(state, _)`.
fn nxt(state: State) -> (Seq, Seq) {
    match state {
        S::SynReceived | S::Established => (L + 1, R + 1),
        S::FinWait1 | S::FinWait2 => (L + 2, R + 1),
        S::CloseWait => (L + 1, R + 2),
        S::Closing | S::LastAck | S::TimeWait => (L + 2, R + 2),
        _ => unreachable!(),
    }
}

enum Ev {
    Seg(Segment),
    Close,
}

/// Every transition caused by one segment or one `close`, from the state
/// `in_state` leaves, at T1: exactly the segments that go out, the state
/// after (and how it ended, if it did), and the next timer.
#[test]
fn transition_table() {
    use Ev::*;
    let (none, reset, normally) = (None, Some(Closed::Reset), Some(Closed::Normally));
    let (syn_timer, fin_timer) = (Some(T0 + secs(1)), Some(T0 + secs(1)));
    let (rto, two_msl) = (Some(T1 + secs(1)), Some(T1 + secs(60)));
    let delack = Some(T1 + ms(40));
    let rst_ack = |seq, ack| Segment {
        ack: Some(ack),
        ..rst(seq)
    };
    // (from, event at T1, segments out, state after, how it ended, next timer)
    #[rustfmt::skip]
    let rows: Vec<(State, Ev, Vec<Segment>, State, Option<Closed>, Option<Duration>)> = vec![
        // SYN-SENT (3.10.7.3).  RST with an acceptable ACK: refused.
        (S::SynSent, Seg(rst_ack(Seq(0), L + 1)), vec![], S::Closed, reset, None),
        // RST without ACK, or with an unacceptable ACK: dropped.
        (S::SynSent, Seg(rst(R)), vec![], S::SynSent, none, syn_timer),
        (S::SynSent, Seg(rst_ack(R, L + 2)), vec![], S::SynSent, none, syn_timer),
        // ACK beyond SND.NXT, or not beyond ISS: <SEQ=SEG.ACK><CTL=RST>.
        (S::SynSent, Seg(peer(R, L + 5)), vec![rst(L + 5)], S::SynSent, none, syn_timer),
        (S::SynSent, Seg(Segment { ack: Some(L), ..peer_syn_ack() }),
            vec![rst(L)], S::SynSent, none, syn_timer),
        // Acceptable ACK, neither SYN nor RST: dropped.
        (S::SynSent, Seg(peer(R, L + 1)), vec![], S::SynSent, none, syn_timer),
        // CLOSE in SYN-SENT: the TCB goes, nothing is sent (3.10.4).
        (S::SynSent, Close, vec![], S::Closed, normally, None),
        // SYN-RECEIVED: an unacceptable ACK draws <SEQ=SEG.ACK><CTL=RST>.
        (S::SynReceived, Seg(peer(R + 1, L + 5)),
            vec![rst(L + 5)], S::SynReceived, none, syn_timer),
        // The handshake's ACK with a FIN: ESTABLISHED, then CLOSE-WAIT; the
        // FIN's ACK is delayed like data's (our FIN may carry it).
        (S::SynReceived, Seg(fin(peer(R + 1, L + 1))),
            vec![], S::CloseWait, none, delack),
        // ESTABLISHED: close, nothing queued: the FIN at once.
        (S::Established, Close, vec![fin(us(L + 1, R + 1))], S::FinWait1, none, rto),
        (S::Established, Seg(fin(peer(R + 1, L + 1))),
            vec![], S::CloseWait, none, delack),
        // FIN-WAIT-1: our FIN acknowledged; the peer's FIN alone; both at once.
        (S::FinWait1, Seg(peer(R + 1, L + 2)), vec![], S::FinWait2, none, None),
        (S::FinWait1, Seg(fin(peer(R + 1, L + 1))),
            vec![us(L + 2, R + 2)], S::Closing, none, fin_timer),
        (S::FinWait1, Seg(fin(peer(R + 1, L + 2))),
            vec![us(L + 2, R + 2)], S::TimeWait, none, two_msl),
        (S::FinWait2, Seg(fin(peer(R + 1, L + 2))),
            vec![us(L + 2, R + 2)], S::TimeWait, none, two_msl),
        (S::Closing, Seg(peer(R + 2, L + 2)), vec![], S::TimeWait, none, two_msl),
        (S::CloseWait, Close, vec![fin(us(L + 1, R + 2))], S::LastAck, none, rto),
        // A retransmitted FIN in CLOSE-WAIT is acknowledged again.
        (S::CloseWait, Seg(fin(peer(R + 1, L + 1))),
            vec![us(L + 1, R + 2)], S::CloseWait, none, None),
        (S::LastAck, Seg(peer(R + 2, L + 2)), vec![], S::Closed, normally, None),
    ];
    for (i, (from, ev, out, to, closed, poll)) in rows.into_iter().enumerate() {
        let mut c = in_state(from, quiet());
        match ev {
            Seg(s) => c.on_segment(&s, T1),
            Close => c.close(),
        }
        let what = format!("row {i} from {from:?}");
        assert_eq!(drain(&mut c, T1), out, "{what}: segments");
        assert_eq!((c.state(), c.closed()), (to, closed), "{what}: state");
        assert_eq!(c.poll_at(), poll, "{what}: next timer");
    }
}

/// RFC 9293 3.10.4: CLOSE in SYN-RECEIVED with data queued waits for
/// ESTABLISHED; the data and the FIN then go together (FIN-WAIT-1).
#[test]
fn close_in_syn_received_with_data_queued_sends_data_and_fin_once_established() {
    let mut c = in_state(S::SynReceived, quiet());
    assert_eq!(c.write(&[3; 100]), 100);
    c.close();
    assert_eq!(drain(&mut c, T1), vec![]);
    assert_eq!(c.state(), S::SynReceived);
    c.on_segment(&peer(R + 1, L + 1), T1);
    assert_eq!(
        drain(&mut c, T1),
        vec![fin(with_data(us(L + 1, R + 1), &[3; 100]))]
    );
    assert_eq!(c.state(), S::FinWait1);
    assert_eq!(c.poll_at(), Some(T1 + secs(1)));
}

/// RFC 9293 3.10.4: "If no SENDs have been issued and there is no pending
/// data to send, then form a FIN segment and send it, and enter FIN-WAIT-1".
#[test]
fn close_in_syn_received_sends_fin_at_once() {
    let mut c = in_state(S::SynReceived, quiet());
    c.close();
    assert_eq!(drain(&mut c, T1), vec![fin(us(L + 1, R + 1))]);
    assert_eq!(c.state(), S::FinWait1);
}

/// RFC 9293 3.10.4, CLOSE in ESTABLISHED: "Queue this until all preceding
/// SENDs have been segmentized, then form a FIN segment and send it.  In
/// any case, enter FIN-WAIT-1 state."  So a FIN from the peer while ours
/// waits behind a zero window leads to CLOSING (3.10.7.4 eighth).
#[test]
fn close_with_data_queued_enters_fin_wait_1_at_once() {
    let mut c = in_state(S::Established, quiet());
    c.on_segment(
        &Segment {
            window: 0,
            ..peer(R + 1, L + 1)
        },
        T1,
    );
    c.write(&[1; 100]);
    c.close();
    assert_eq!(drain(&mut c, T1), vec![]);
    assert_eq!(c.state(), S::FinWait1);
    c.on_segment(
        &Segment {
            window: 0,
            ..fin(peer(R + 1, L + 1))
        },
        T1,
    );
    assert_eq!(drain(&mut c, T1), vec![us(L + 1, R + 2)]);
    assert_eq!(c.state(), S::Closing);
}

/// RST (RFC 5961 3.2) and SYN (RFC 5961 4.2) in every synchronized state
/// and SYN-RECEIVED (ESTABLISHED: `rst_is_honoured_only_at_rcv_nxt`,
/// `syn_in_established_draws_a_challenge_ack`).  RST at RCV.NXT: CLOSED
/// (in SYN-RECEIVED of a passive open the RFC's "return to LISTEN" is the
/// listener's business: the connection ends); in the window elsewhere:
/// challenge ACK; outside: dropped.  TIME-WAIT honours the RST too, as RFC
/// 9293 3.10.7.4 says (RFC 1337's ignoring it is optional).
#[test]
fn rst_and_syn_in_every_synchronized_state() {
    for state in [
        S::SynReceived,
        S::FinWait1,
        S::FinWait2,
        S::CloseWait,
        S::Closing,
        S::LastAck,
        S::TimeWait,
    ] {
        let (snd, rcv) = nxt(state);
        // No challenge ACK limit: the RST's and the SYN's come at once.
        let cfg = Config {
            challenge_ack_interval: Duration::ZERO,
            ..quiet()
        };
        let mut c = in_state(state, cfg);
        let timer = c.poll_at();
        c.on_segment(&rst(rcv + 1), T1);
        assert_eq!(
            drain(&mut c, T1),
            vec![us(snd, rcv)],
            "{state:?}: challenge"
        );
        c.on_segment(&rst(rcv - 1), T1);
        c.on_segment(&rst(rcv + 70_000), T1);
        assert_eq!(drain(&mut c, T1), vec![], "{state:?}: outside the window");
        if state != S::SynReceived {
            let syn = Segment {
                seq: rcv + 5,
                syn: true,
                window: PEER_WND,
                ..Segment::default()
            };
            c.on_segment(&syn, T1);
            assert_eq!(drain(&mut c, T1), vec![us(snd, rcv)], "{state:?}: SYN");
        }
        assert_eq!((c.state(), c.poll_at()), (state, timer), "{state:?}");
        c.on_segment(&rst(rcv), T1);
        assert_eq!(drain(&mut c, T1), vec![], "{state:?}: reset");
        assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::Reset)));
        assert_eq!(c.poll_at(), None);
    }
}

/// RFC 9293 3.10.7.4, fourth, SYN-RECEIVED: "If the connection was
/// initiated with a passive OPEN, then return this connection to the LISTEN
/// state and return."  (Only the synchronized states answer a SYN with a
/// challenge ACK, RFC 5961 4.)
#[test]
fn syn_in_passive_syn_received_returns_to_listen() {
    let mut c = in_state(S::SynReceived, quiet());
    c.on_segment(
        &Segment {
            seq: R + 5,
            ..peer_syn()
        },
        T1,
    );
    assert_eq!(drain(&mut c, T1), vec![]);
    assert_eq!(c.state(), S::Closed);
}

/// ABORT (RFC 9293 3.10.5): <SEQ=SND.NXT><CTL=RST> in SYN-RECEIVED,
/// ESTABLISHED and CLOSE-WAIT; nothing in SYN-SENT and TIME-WAIT.  (The
/// FIN-WAIT and CLOSING/LAST-ACK rows are the two tests below.)
#[test]
fn abort_from_each_state() {
    for (state, sent) in [
        (S::SynSent, None),
        (S::SynReceived, Some(rst(L + 1))),
        (S::Established, Some(rst(L + 1))),
        (S::CloseWait, Some(rst(L + 1))),
        (S::TimeWait, None),
    ] {
        let mut c = in_state(state, quiet());
        assert_eq!(c.abort(), sent, "{state:?}");
        assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::Aborted)));
        assert_eq!(drain(&mut c, T1), vec![], "{state:?}");
        assert_eq!(c.poll_at(), None, "{state:?}");
    }
}

/// RFC 9293 3.10.5: the RST carries SND.NXT, which is past our FIN once it
/// was sent, and past everything sent before a retransmission timeout.  One
/// below, it lies before the peer's RCV.NXT and the peer drops it (RFC 5961
/// 3.2, or RFC 9293's window check).
#[test]
fn abort_rst_carries_snd_nxt() {
    let mut got = vec![];
    for state in [S::FinWait1, S::FinWait2] {
        got.push((state, in_state(state, quiet()).abort()));
    }
    // ESTABLISHED, 3000 bytes sent, a timeout resent the first segment.
    let mut c = in_state(S::Established, quiet());
    c.write(&[0; 3000]);
    assert_eq!(drain(&mut c, T1).len(), 3);
    c.on_timer(T1 + secs(1));
    assert_eq!(drain(&mut c, T1 + secs(1)).len(), 1);
    got.push((S::Established, c.abort()));
    assert_eq!(
        got,
        vec![
            (S::FinWait1, Some(rst(L + 2))),
            (S::FinWait2, Some(rst(L + 2))),
            (S::Established, Some(rst(L + 3001))),
        ]
    );
}

#[test]
fn abort_in_closing_or_last_ack_sends_nothing() {
    let mut got = vec![];
    for state in [S::Closing, S::LastAck] {
        let mut c = in_state(state, quiet());
        got.push((state, c.abort()));
        assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::Aborted)));
    }
    assert_eq!(got, vec![(S::Closing, None), (S::LastAck, None)]);
}

/// R2 (RFC 9293 3.8.3, RFC 1122 4.2.3.5) in every state that retransmits,
/// with `max_retries` 3: the outstanding segment goes again, unchanged, at
/// 1, 3 and 7 s, and at 15 s the connection ends (TimedOut) without
/// sending anything.  (SYN-SENT: `lost_syn_is_retransmitted_...`.)
#[test]
fn retransmission_limit_ends_the_connection_in_every_state() {
    let data = [9u8; 100];
    for (state, outstanding) in [
        (S::SynReceived, our_syn_ack()),
        (S::Established, with_data(us(L + 1, R + 1), &data)),
        (S::FinWait1, fin(us(L + 1, R + 1))),
        (S::Closing, fin(us(L + 1, R + 2))),
        (S::LastAck, fin(us(L + 1, R + 2))),
    ] {
        let mut cfg = quiet();
        cfg.rto.max_retries = 3;
        let mut c = in_state(state, cfg);
        if state == S::Established {
            c.write(&data);
            assert_eq!(drain(&mut c, T0), vec![outstanding.clone()]);
        }
        for at in [1, 3, 7].map(|s| T0 + secs(s)) {
            assert_eq!(c.poll_at(), Some(at), "{state:?}");
            c.on_timer(at - Duration::from_nanos(1));
            assert_eq!(drain(&mut c, at), vec![], "{state:?}: early");
            c.on_timer(at);
            assert_eq!(drain(&mut c, at), vec![outstanding.clone()], "{state:?}");
            assert_eq!(c.state(), state);
        }
        assert_eq!(c.poll_at(), Some(T0 + secs(15)), "{state:?}");
        c.on_timer(T0 + secs(15));
        assert_eq!(drain(&mut c, T0 + secs(15)), vec![], "{state:?}");
        assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::TimedOut)));
        assert_eq!(c.poll_at(), None);
    }
}

/// RFC 6298 5.1 to 5.6: the timer starts with the first segment (not
/// restarted by later ones), restarts on an ACK of new data, on expiry
/// resends the first unacknowledged segment (cwnd is one segment, RFC 5681)
/// with RTO doubled, and stops once everything is acknowledged.
#[test]
fn retransmission_timer_starts_restarts_backs_off_and_stops() {
    let mut c = in_state(S::Established, quiet());
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    c.write(&data);
    assert_eq!(
        drain(&mut c, T1),
        vec![
            with_data(us(L + 1, R + 1), &data[..1460]),
            with_data(us(L + 1461, R + 1), &data[1460..2920]),
            with_data(us(L + 2921, R + 1), &data[2920..]),
        ]
    );
    assert_eq!(c.poll_at(), Some(T1 + secs(1)), "5.1");
    let t = T1 + ms(200);
    c.on_segment(&peer(R + 1, L + 1461), t);
    assert_eq!(drain(&mut c, t), vec![]);
    assert_eq!(c.poll_at(), Some(t + secs(1)), "5.3");
    c.on_timer(t + secs(1));
    assert_eq!(
        drain(&mut c, t + secs(1)),
        vec![with_data(us(L + 1461, R + 1), &data[1460..2920])],
        "5.4"
    );
    assert_eq!(c.poll_at(), Some(t + secs(3)), "5.5, 5.6");
    c.on_segment(&peer(R + 1, L + 3001), t + secs(2));
    assert_eq!(drain(&mut c, t + secs(2)), vec![]);
    assert_eq!(c.poll_at(), None, "5.2");
}

/// RFC 6298 5.5 and 2.5: RTO doubles on each expiry up to the 60 s maximum;
/// with the default `max_retries` (15) the connection gives up 663 s after
/// the first transmission (R2 at least 100 s, RFC 1122 4.2.3.5).
#[test]
fn rto_backoff_doubles_up_to_the_cap_then_gives_up() {
    let mut c = in_state(S::Established, quiet());
    c.write(b"once");
    let sent = drain(&mut c, T1);
    assert_eq!(sent, vec![with_data(us(L + 1, R + 1), b"once")]);
    let mut at = T1 + secs(1);
    let mut intervals = vec![2, 4, 8, 16, 32];
    intervals.extend([60; 10]);
    for next in intervals {
        assert_eq!(c.poll_at(), Some(at));
        c.on_timer(at);
        assert_eq!(drain(&mut c, at), sent);
        at += secs(next);
    }
    assert_eq!(at, T1 + secs(663));
    assert_eq!(c.poll_at(), Some(at));
    c.on_timer(at);
    assert_eq!(drain(&mut c, at), vec![]);
    assert_eq!(c.closed(), Some(Closed::TimedOut));
}

/// Karn (RFC 6298 3, RFC 1122 4.2.3.1): without timestamps an ACK of a
/// retransmitted segment gives no RTT sample.
#[test]
fn karn_no_rtt_sample_from_a_retransmitted_segment() {
    let mut c = in_state(S::Established, quiet());
    assert_eq!(c.srtt(), Some(ms(10)));
    c.write(&[5; 100]);
    drain(&mut c, T1);
    c.on_timer(T1 + secs(1));
    assert_eq!(drain(&mut c, T1 + secs(1)).len(), 1);
    c.on_segment(&peer(R + 1, L + 101), T1 + secs(1) + ms(50));
    assert_eq!(c.srtt(), Some(ms(10)), "no sample from an ambiguous ACK");
}

/// RFC 6298 5.5 and the note after 5.7 ("once a new RTT measurement is
/// obtained ... [RTO may] collapse back down"), Karn and Partridge: the
/// backed-off RTO stays for new data until a segment sent once is
/// acknowledged.
#[test]
fn backed_off_rto_is_kept_until_a_fresh_rtt_sample() {
    let mut c = in_state(S::Established, quiet());
    c.write(&[5; 100]);
    drain(&mut c, T1);
    c.on_timer(T1 + secs(1));
    drain(&mut c, T1 + secs(1));
    c.on_segment(&peer(R + 1, L + 101), T1 + secs(1) + ms(50));
    let t = T1 + secs(2);
    c.write(&[6; 100]);
    assert_eq!(drain(&mut c, t).len(), 1);
    assert_eq!(c.poll_at(), Some(t + secs(2)), "still backed off");
    c.on_segment(&peer(R + 1, L + 201), t + ms(10));
    c.write(&[7; 100]);
    assert_eq!(drain(&mut c, t + ms(20)).len(), 1);
    assert_eq!(c.poll_at(), Some(t + ms(20) + secs(1)), "a fresh sample");
}

/// SYN retransmission (RFC 6298 3 and 5.7): after a SYN timeout the SYN-ACK
/// gives no RTT sample, and the RTO is 3 s once data transmission begins.
#[test]
fn after_a_syn_timeout_no_sample_and_rto_of_3_s() {
    let mut c = Conn::connect(quiet(), L, T0);
    assert_eq!(drain(&mut c, T0), vec![our_syn()]);
    c.on_timer(T0 + secs(1));
    assert_eq!(drain(&mut c, T0 + secs(1)), vec![our_syn()]);
    let t = T0 + secs(1) + ms(50);
    c.on_segment(&peer_syn_ack(), t);
    assert_eq!(drain(&mut c, t), vec![us(L + 1, R + 1)]);
    assert_eq!(c.srtt(), None, "Karn: the SYN was sent twice");
    c.write(&[1; 100]);
    assert_eq!(drain(&mut c, t).len(), 1);
    assert_eq!(c.poll_at(), Some(t + secs(3)), "5.7");
}

/// Persist timer (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17): with data waiting
/// and a zero window, the first probe goes one RTO later, then at intervals
/// doubling to the 60 s maximum, the same byte each time, with no limit
/// (far past `max_retries` 3) while the peer answers; a window update sends
/// the data and the retransmission timer takes over.
#[test]
fn persist_timer_probes_with_backoff_and_no_limit() {
    let mut cfg = quiet();
    cfg.rto.max_retries = 3;
    let mut c = in_state(S::Established, cfg);
    let closed = Segment {
        window: 0,
        ..peer(R + 1, L + 1)
    };
    c.on_segment(&closed, T1);
    let data: Vec<u8> = (1..=100).collect();
    c.write(&data);
    assert_eq!(drain(&mut c, T1), vec![], "nothing fits");
    let probe = with_data(us(L + 1, R + 1), &data[..1]);
    let mut at = T1 + secs(1);
    for next in [2, 4, 8, 16, 32, 60, 60, 60] {
        assert_eq!(c.poll_at(), Some(at));
        c.on_timer(at);
        assert_eq!(drain(&mut c, at), vec![probe.clone()]);
        c.on_segment(&closed, at + ms(10));
        assert_eq!(drain(&mut c, at + ms(10)), vec![]);
        at += secs(next);
    }
    assert_eq!(c.poll_at(), Some(at));
    assert_eq!(c.state(), S::Established);
    let t = at - secs(30);
    c.on_segment(&peer(R + 1, L + 1), t);
    assert_eq!(drain(&mut c, t), vec![with_data(us(L + 1, R + 1), &data)]);
    assert_eq!(c.poll_at(), Some(t + secs(1)));
}

/// RFC 9293 3.8.6.1: probing goes on while the window is zero, also when
/// the peer took the probe's byte (as a receiver with window scaling does
/// when its free space rounds down to a zero window field).
#[test]
fn persist_timer_survives_an_acked_probe() {
    let mut c = in_state(S::Established, quiet());
    c.on_segment(
        &Segment {
            window: 0,
            ..peer(R + 1, L + 1)
        },
        T1,
    );
    let data: Vec<u8> = (1..=100).collect();
    c.write(&data);
    drain(&mut c, T1);
    c.on_timer(T1 + secs(1));
    assert_eq!(
        drain(&mut c, T1 + secs(1)),
        vec![with_data(us(L + 1, R + 1), &data[..1])]
    );
    let t = T1 + secs(1) + ms(10);
    c.on_segment(
        &Segment {
            window: 0,
            ..peer(R + 1, L + 2)
        },
        t,
    );
    assert_eq!(drain(&mut c, t), vec![]);
    let next = c.poll_at().expect("the persist timer still runs");
    c.on_timer(next);
    assert_eq!(
        drain(&mut c, next),
        vec![with_data(us(L + 2, R + 1), &data[1..2])]
    );
}

/// Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2), beyond
/// `delayed_ack_every_second_segment_or_after_the_delay`: a second small
/// segment does not push the deadline back; the timer leaves nothing
/// behind; with `delayed_ack: None` every segment is ACKed at once.
#[test]
fn delayed_ack_deadline_is_not_pushed_back() {
    let mut c = in_state(S::Established, quiet());
    c.on_segment(&with_data(peer(R + 1, L + 1), &[1; 10]), T1);
    assert_eq!(drain(&mut c, T1), vec![]);
    assert_eq!(c.poll_at(), Some(T1 + ms(40)));
    c.on_segment(&with_data(peer(R + 11, L + 1), &[2; 10]), T1 + ms(30));
    assert_eq!(drain(&mut c, T1 + ms(30)), vec![]);
    assert_eq!(c.poll_at(), Some(T1 + ms(40)));
    c.on_timer(T1 + ms(40));
    let ack = Segment {
        window: ((65_536 - 20) >> 1) as u16,
        ..us(L + 1, R + 21)
    };
    assert_eq!(drain(&mut c, T1 + ms(40)), vec![ack]);
    assert_eq!(c.poll_at(), None);
    let cfg = Config {
        delayed_ack: None,
        ..quiet()
    };
    let mut c = in_state(S::Established, cfg);
    c.on_segment(&with_data(peer(R + 1, L + 1), &[1; 10]), T1);
    let ack = Segment {
        window: ((65_536 - 10) >> 1) as u16,
        ..us(L + 1, R + 11)
    };
    assert_eq!(drain(&mut c, T1), vec![ack]);
    assert_eq!(c.poll_at(), None);
}

/// Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6) with exact deadlines: the
/// first probe `idle` after the last segment heard, <SEQ=SND.NXT-1> without
/// data; an answer restarts the idle period; `count` unanswered probes an
/// `interval` apart, and one interval after the last the connection ends.
#[test]
fn keepalive_idle_interval_and_count_exactly() {
    let cfg = Config {
        keepalive: Some(Keepalive {
            idle: secs(60),
            interval: secs(10),
            count: 3,
        }),
        ..quiet()
    };
    let mut c = in_state(S::Established, cfg);
    let probe = us(L, R + 1);
    assert_eq!(c.poll_at(), Some(T0 + secs(60)));
    c.on_timer(T0 + secs(60) - ms(1));
    assert_eq!(drain(&mut c, T0 + secs(60) - ms(1)), vec![]);
    c.on_timer(T0 + secs(60));
    assert_eq!(drain(&mut c, T0 + secs(60)), vec![probe.clone()]);
    assert_eq!(c.poll_at(), Some(T0 + secs(70)));
    let t = T0 + secs(60) + ms(10);
    c.on_segment(&peer(R + 1, L + 1), t);
    assert_eq!(drain(&mut c, t), vec![]);
    assert_eq!(
        c.poll_at(),
        Some(t + secs(60)),
        "idle again from the answer"
    );
    let t = t + secs(60);
    for i in 0..3 {
        c.on_timer(t + secs(10 * i));
        assert_eq!(drain(&mut c, t + secs(10 * i)), vec![probe.clone()]);
        assert_eq!(c.poll_at(), Some(t + secs(10 * (i + 1))));
    }
    assert_eq!(c.state(), S::Established);
    c.on_timer(t + secs(30));
    assert_eq!(drain(&mut c, t + secs(30)), vec![]);
    assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::TimedOut)));
    assert_eq!(c.poll_at(), None);
}

/// TIME-WAIT lasts exactly 2 MSL (RFC 9293 3.4.2, 3.10.7.4) and ends
/// silently; MSL from the configuration.
#[test]
fn time_wait_lasts_exactly_two_msl() {
    let cfg = Config {
        msl: secs(5),
        ..quiet()
    };
    let mut c = in_state(S::FinWait2, cfg);
    c.on_segment(&fin(peer(R + 1, L + 2)), T1);
    assert_eq!(drain(&mut c, T1), vec![us(L + 2, R + 2)]);
    assert_eq!(c.poll_at(), Some(T1 + secs(10)));
    c.on_timer(T1 + secs(10) - Duration::from_nanos(1));
    assert_eq!(c.state(), S::TimeWait);
    c.on_timer(T1 + secs(10));
    assert_eq!(drain(&mut c, T1 + secs(10)), vec![]);
    assert_eq!((c.state(), c.closed()), (S::Closed, Some(Closed::Normally)));
    assert_eq!(c.poll_at(), None);
}

/// Found by the tcp_states fuzz target: a connection's first write of
/// nothing panicked in the send buffer (division by zero); it takes 0
/// bytes and the connection goes on.
#[test]
fn an_empty_first_write_takes_nothing() {
    let mut p = Pair::open();
    p.established();
    assert_eq!(p.a.write(&[]), 0);
    assert_eq!(p.b.write(&[]), 0);
    assert_eq!(p.a.write(b"hi"), 2);
    p.run(ms(1000), |p| p.b.readable() == 2);
    let mut b = [0u8; 2];
    assert_eq!(p.b.read(&mut b), 2);
    assert_eq!(&b, b"hi");
}

/// Found by the tcp_states fuzz target: an old ACK (SEG.ACK < SND.UNA, but
/// within MAX.SND.WND, so acceptable under RFC 5961 5.2) on a newer
/// segment updated the send window, which then counted from SND.UNA: the
/// stack sent beyond the right edge the peer offered (SEG.ACK + SEG.WND).
/// RFC 9293 3.10.7.4 updates the window only when SND.UNA =< SEG.ACK.
#[test]
fn an_old_ack_does_not_open_the_window() {
    let mut cfg = Config::default();
    cfg.timestamps = false;
    cfg.syn_opts.wscale = None;
    cfg.delayed_ack = None;
    let mut p = Pair::open_with(cfg);
    p.established();
    let now = p.now;
    let b_nxt = ISS_B + 1;
    assert_eq!(p.a.write(&[7; 1000]), 1000);
    let sent: usize = drain(&mut p.a, now).iter().map(|s| s.payload.len()).sum();
    assert_eq!(sent, 1000);
    let seg = |seq: Seq, ack: u32, window: u16, payload: usize| Segment {
        seq,
        ack: Some(ISS_A + 1 + ack),
        window,
        payload: vec![1; payload],
        ..Segment::default()
    };
    // Everything acknowledged, window closed; more data waits.
    p.a.on_segment(&seg(b_nxt, 1000, 0, 0), now);
    assert_eq!(p.a.write(&[8; 1000]), 1000);
    // Data from the peer (same window), then an old ACK on a newer
    // segment offering 600 bytes from byte 500: a right edge of 1100.
    p.a.on_segment(&seg(b_nxt, 1000, 0, 10), now);
    p.a.on_segment(&seg(b_nxt + 10, 500, 600, 0), now);
    for s in drain(&mut p.a, now) {
        let end = (s.seq - (ISS_A + 1)) as usize + s.payload.len();
        // A zero-window probe may carry the one byte after the edge.
        assert!(
            end <= 1001,
            "sent up to byte {end}, beyond the window the peer offered"
        );
    }
}

/// Found by the tcp_states fuzz target: an ACK that acknowledged new data
/// but came on a segment with an older sequence number than the last
/// window update (SND.WL1) left the old window in place, which then
/// counted from the new SND.UNA: the stack sent beyond the right edge the
/// peer offered.  As Linux (`tcp_may_update_window`), an ACK that moves
/// SND.UNA forward always updates the window.
#[test]
fn an_ack_of_new_data_updates_the_window_whatever_its_sequence_number() {
    let mut cfg = Config::default();
    cfg.timestamps = false;
    cfg.syn_opts.wscale = None;
    cfg.delayed_ack = None;
    let mut p = Pair::open_with(cfg);
    p.established();
    let now = p.now;
    let b_nxt = ISS_B + 1;
    assert_eq!(p.a.write(&[7; 1000]), 1000);
    let sent: usize = drain(&mut p.a, now).iter().map(|s| s.payload.len()).sum();
    assert_eq!(sent, 1000);
    let seg = |seq: Seq, ack: u32, window: u16| Segment {
        seq,
        ack: Some(ISS_A + 1 + ack),
        window,
        ..Segment::default()
    };
    // A window update from a segment ahead of RCV.NXT (SND.WL1 moves there).
    p.a.on_segment(&seg(b_nxt + 10, 0, 1000), now);
    assert_eq!(p.a.write(&[8; 2000]), 2000);
    assert!(drain(&mut p.a, now).iter().all(|s| s.payload.is_empty()));
    // Everything acknowledged from an older sequence number, window 100:
    // the right edge is byte 1100.
    p.a.on_segment(&seg(b_nxt, 1000, 100), now);
    for s in drain(&mut p.a, now) {
        let end = (s.seq - (ISS_A + 1)) as usize + s.payload.len();
        assert!(
            end <= 1100,
            "sent up to byte {end}, beyond the window the peer offered"
        );
    }
}

/// The peer's FIN in ESTABLISHED is acknowledged like in-order data
/// (delayed ACK, RFC 1122 4.2.3.2, as Linux does in interactive mode): an
/// application that closes at once sends one segment, its FIN carrying the
/// ACK of the peer's, instead of an ACK and then a FIN; one that does not
/// close still ACKs when the delayed-ACK timer fires.
#[test]
fn the_fin_of_a_passive_close_rides_with_the_ack_of_the_peers_fin() {
    let mut c = in_state(S::Established, quiet());
    c.on_segment(&fin(peer(R + 1, L + 1)), T1);
    assert_eq!(c.state(), S::CloseWait);
    assert_eq!(drain(&mut c, T1), vec![], "no ACK before the application");
    c.close();
    assert_eq!(drain(&mut c, T1), vec![fin(us(L + 1, R + 2))]);
    assert_eq!(c.state(), S::LastAck);

    let mut c = in_state(S::Established, quiet());
    c.on_segment(&fin(peer(R + 1, L + 1)), T1);
    assert_eq!(c.poll_at(), Some(T1 + ms(40)));
    c.on_timer(T1 + ms(40));
    assert_eq!(drain(&mut c, T1 + ms(40)), vec![us(L + 1, R + 2)]);
}

/// Receiver-side window updates (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3):
/// once the application has read enough that the right edge the peer knows
/// can move by min(half the buffer, one MSS), an ACK with the new window
/// goes out at once instead of waiting for the next data or delayed ACK (a
/// sender with a full window would stall); reading less sends nothing.
#[test]
fn reading_a_full_segment_or_more_sends_a_window_update() {
    let mut c = in_state(S::Established, quiet());
    let seg = |seq: Seq| Segment {
        payload: vec![7; 1460],
        ..peer(seq, L + 1)
    };
    // Two full segments: ACKed at once (every second full segment).
    c.on_segment(&seg(R + 1), T1);
    c.on_segment(&seg(R + 1 + 1460), T1);
    let acks = drain(&mut c, T1);
    assert_eq!(acks.len(), 1, "{acks:?}");
    let wnd = acks[0].window;
    // Reading a little does not move the edge enough: nothing.
    let mut buf = vec![0u8; 4096];
    assert_eq!(c.read(&mut buf[..100]), 100);
    assert_eq!(drain(&mut c, T1), vec![]);
    // Reading the rest does: one pure ACK with the larger window.
    assert_eq!(c.read(&mut buf), 2820);
    let out = drain(&mut c, T1);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, Some(R + 1 + 2920));
    assert!(out[0].payload.is_empty());
    assert!(out[0].window > wnd, "{} after {wnd}", out[0].window);
}
