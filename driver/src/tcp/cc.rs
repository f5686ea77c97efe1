//! Congestion control: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438),
//! selectable per connection, with explicit time.  Windows are in bytes.
//!
//! The connection tells the controller what happened (new data
//! acknowledged, a duplicate ACK, a retransmission timeout) and asks it for
//! the congestion window; the controller tells it when to fast-retransmit.
use super::seq::Seq;
use std::time::Duration;

/// Which algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    NewReno,
    Cubic,
}

/// What the connection should do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    /// Retransmit the first unacknowledged segment now (fast retransmit, or
    /// a partial ACK during recovery, RFC 6582 3.2 step 4).
    Retransmit,
}

/// RFC 9438 constants: multiplicative decrease and cubic scaling (in
/// segments and seconds).
const BETA: f64 = 0.7;
const C: f64 = 0.4;

#[derive(Clone, Debug)]
pub struct Congestion {
    alg: Algorithm,
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    dupacks: u32,
    /// NewReno's "recover" (RFC 6582): snd.nxt when recovery began.
    recover: Option<Seq>,
    /// Bytes acknowledged towards the next congestion-avoidance increase.
    ca_acked: u32,
    // CUBIC state (RFC 9438 4.1-4.6), windows in segments.
    w_max: f64,
    k: f64,
    epoch: Option<Duration>,
    w_est: f64,
}

impl Congestion {
    /// Initial window per RFC 5681 3.1.
    pub fn new(alg: Algorithm, mss: u32) -> Congestion {
        let mss = mss.max(1);
        let iw = if mss > 2190 {
            2 * mss
        } else if mss > 1095 {
            3 * mss
        } else {
            4 * mss
        };
        Congestion {
            alg,
            mss,
            cwnd: iw,
            ssthresh: u32::MAX,
            dupacks: 0,
            recover: None,
            ca_acked: 0,
            w_max: 0.0,
            k: 0.0,
            epoch: None,
            w_est: 0.0,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }
    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }
    pub fn in_recovery(&self) -> bool {
        self.recover.is_some()
    }

    /// The window after a loss (RFC 5681 (4) for NewReno, RFC 9438 4.6 for
    /// CUBIC, with fast convergence), from the data in flight.
    fn on_loss(&mut self, flight: u32, now: Duration) {
        match self.alg {
            Algorithm::NewReno => {
                self.ssthresh = (flight / 2).max(2 * self.mss);
            }
            Algorithm::Cubic => {
                let w = self.cwnd as f64 / self.mss as f64;
                // Fast convergence: release bandwidth when the window did
                // not regain the previous maximum.
                self.w_max = if w < self.w_max {
                    w * (1.0 + BETA) / 2.0
                } else {
                    w
                };
                self.ssthresh = ((self.cwnd as f64 * BETA) as u32).max(2 * self.mss);
                self.epoch = None;
                let _ = now;
            }
        }
    }

    /// `acked` new bytes acknowledged; `una` is the new snd.una, `flight`
    /// the bytes still in flight, `rtt` the smoothed RTT if known.
    pub fn on_ack(
        &mut self,
        acked: u32,
        una: Seq,
        flight: u32,
        rtt: Option<Duration>,
        now: Duration,
    ) -> Action {
        self.dupacks = 0;
        if let Some(recover) = self.recover {
            if una >= recover {
                // Full acknowledgement: leave recovery (RFC 6582 3.2 (3)).
                self.cwnd = self.ssthresh.min(flight.max(self.mss) + self.mss);
                self.recover = None;
                return Action::None;
            }
            // Partial acknowledgement: deflate, retransmit (3.2 (4)).
            self.cwnd = self.cwnd.saturating_sub(acked);
            if acked >= self.mss {
                self.cwnd += self.mss;
            }
            self.cwnd = self.cwnd.max(self.mss);
            return Action::Retransmit;
        }
        if self.cwnd < self.ssthresh {
            // Slow start (RFC 5681 3.1, (2)): at most one SMSS per ACK.
            self.cwnd = self.cwnd.saturating_add(acked.min(self.mss));
            return Action::None;
        }
        match self.alg {
            Algorithm::NewReno => {
                // Congestion avoidance by byte counting (RFC 5681 3.1 and
                // RFC 3465): one SMSS per window of acknowledged data.
                self.ca_acked += acked;
                if self.ca_acked >= self.cwnd {
                    self.ca_acked -= self.cwnd;
                    self.cwnd = self.cwnd.saturating_add(self.mss);
                }
            }
            Algorithm::Cubic => self.cubic_increase(acked, rtt, now),
        }
        Action::None
    }

    fn cubic_increase(&mut self, acked: u32, rtt: Option<Duration>, now: Duration) {
        let mss = self.mss as f64;
        let cwnd = self.cwnd as f64 / mss;
        let epoch = *self.epoch.get_or_insert_with(|| {
            // A new congestion-avoidance epoch (RFC 9438 4.2): K from the
            // window at the last reduction.
            if self.w_max < cwnd {
                self.w_max = cwnd;
            }
            self.k = ((self.w_max - cwnd) / C).cbrt();
            self.w_est = cwnd;
            now
        });
        let t = (now.saturating_sub(epoch) + rtt.unwrap_or(Duration::ZERO)).as_secs_f64();
        let target = (C * (t - self.k).powi(3) + self.w_max).clamp(cwnd, 1.5 * cwnd);
        // Reno-friendly estimate (4.3).
        let alpha = 3.0 * (1.0 - BETA) / (1.0 + BETA);
        self.w_est += alpha * (acked as f64 / mss) / cwnd;
        let next = if target < self.w_est {
            self.w_est
        } else {
            cwnd + (target - cwnd) / cwnd * (acked as f64 / mss)
        };
        self.cwnd = ((next * mss) as u32).max(self.cwnd);
    }

    /// A duplicate ACK (RFC 5681 3.2); `una` and `nxt` are snd.una and
    /// snd.nxt, `flight` the bytes in flight.
    pub fn on_dupack(&mut self, una: Seq, nxt: Seq, flight: u32, now: Duration) -> Action {
        self.dupacks += 1;
        if self.recover.is_some() {
            // Window inflation for each further duplicate (3.2 (4)).
            self.cwnd = self.cwnd.saturating_add(self.mss);
            return Action::None;
        }
        if self.dupacks == 3 {
            self.on_loss(flight, now);
            self.recover = Some(nxt);
            self.cwnd = self.ssthresh + 3 * self.mss;
            let _ = una;
            return Action::Retransmit;
        }
        Action::None
    }

    /// The retransmission timer expired (RFC 5681 (4), loss window of one
    /// segment); recovery ends (RFC 6582 4).
    pub fn on_timeout(&mut self, flight: u32, now: Duration) {
        self.on_loss(flight, now);
        self.cwnd = self.mss;
        self.recover = None;
        self.dupacks = 0;
        self.ca_acked = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;
    const T: Duration = Duration::ZERO;

    #[test]
    fn initial_window_rfc_5681() {
        assert_eq!(Congestion::new(Algorithm::NewReno, 1460).cwnd(), 4380);
        assert_eq!(Congestion::new(Algorithm::NewReno, 1000).cwnd(), 4000);
        assert_eq!(Congestion::new(Algorithm::NewReno, 9000).cwnd(), 18000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(Algorithm::NewReno, MSS);
        let mut una = Seq(0);
        for _ in 0..4 {
            una = una + MSS;
            c.on_ack(MSS, una, 0, None, T);
        }
        assert_eq!(c.cwnd(), 8 * MSS);
        c.on_timeout(8 * MSS, T);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 4 * MSS));
        // Slow start up to ssthresh, then one MSS per window.
        for _ in 0..3 {
            una = una + MSS;
            c.on_ack(MSS, una, 0, None, T);
        }
        assert_eq!(c.cwnd(), 4 * MSS);
        for _ in 0..4 {
            una = una + MSS;
            c.on_ack(MSS, una, 0, None, T);
        }
        assert_eq!(c.cwnd(), 5 * MSS);
    }

    #[test]
    fn fast_retransmit_and_newreno_recovery() {
        let mut c = Congestion::new(Algorithm::NewReno, MSS);
        for _ in 0..6 {
            c.on_ack(MSS, Seq(0), 0, None, T);
        }
        assert_eq!(c.cwnd(), 10 * MSS);
        let (una, nxt) = (Seq(10_000), Seq(20_000));
        assert_eq!(c.on_dupack(una, nxt, 10 * MSS, T), Action::None);
        assert_eq!(c.on_dupack(una, nxt, 10 * MSS, T), Action::None);
        assert_eq!(c.on_dupack(una, nxt, 10 * MSS, T), Action::Retransmit);
        assert!(c.in_recovery());
        assert_eq!((c.ssthresh(), c.cwnd()), (5 * MSS, 8 * MSS));
        c.on_dupack(una, nxt, 10 * MSS, T);
        assert_eq!(c.cwnd(), 9 * MSS);
        // Partial ACK: deflate by what it acked, add one MSS, retransmit.
        assert_eq!(
            c.on_ack(2 * MSS, Seq(12_000), 8 * MSS, None, T),
            Action::Retransmit
        );
        assert_eq!(c.cwnd(), 8 * MSS);
        assert!(c.in_recovery());
        // Full ACK: out of recovery at min(ssthresh, flight + MSS).
        assert_eq!(c.on_ack(8 * MSS, nxt, 0, None, T), Action::None);
        assert!(!c.in_recovery());
        assert_eq!(c.cwnd(), MSS * 2);
    }

    #[test]
    fn cubic_reduces_by_beta_and_grows_back_past_w_max() {
        let mut c = Congestion::new(Algorithm::Cubic, MSS);
        c.ssthresh = 0;
        c.cwnd = 100 * MSS;
        c.on_timeout(100 * MSS, T);
        assert_eq!(c.ssthresh(), 70 * MSS);
        c.cwnd = c.ssthresh();
        // K = cbrt(30 / 0.4) = 4.2 s: the window approaches W_max = 100
        // around then and grows beyond it afterwards.
        let rtt = Duration::from_millis(100);
        let mut t = Duration::from_secs(1);
        let mut at = vec![];
        for step in 0..100 {
            for _ in 0..(c.cwnd() / MSS) {
                c.on_ack(MSS, Seq(0), c.cwnd(), Some(rtt), t);
            }
            t += rtt;
            if step % 10 == 9 {
                at.push(c.cwnd() / MSS);
            }
        }
        assert!(
            at.windows(2).all(|w| w[0] <= w[1]),
            "monotonic growth: {at:?}"
        );
        assert!(
            (90..=101).contains(&at[3]),
            "plateau near W_max around K: {at:?}"
        );
        assert!(*at.last().unwrap() > 110, "probing beyond W_max: {at:?}");
    }

    #[test]
    fn cubic_fast_convergence() {
        let mut c = Congestion::new(Algorithm::Cubic, MSS);
        c.cwnd = 100 * MSS;
        c.on_timeout(100 * MSS, T);
        assert!((c.w_max - 100.0).abs() < 1e-9);
        c.cwnd = 80 * MSS;
        c.on_timeout(80 * MSS, T);
        // Below the previous maximum: W_max = 80 * (1 + 0.7) / 2 = 68.
        assert!((c.w_max - 68.0).abs() < 1e-9);
    }
}
