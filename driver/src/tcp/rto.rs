//! Retransmission timeout (RFC 6298), with explicit time.
//!
//! * Before any RTT measurement RTO is 1 s (2.1).
//! * First measurement R: SRTT = R, RTTVAR = R/2 (2.2).
//! * Later: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R'
//!   (2.3, alpha = 1/8, beta = 1/4), RTO = SRTT + max(G, 4 RTTVAR).
//! * RTO is at least 1 s (2.4, the RFC's SHOULD; configurable because data
//!   centres use less) and at most a configured maximum (2.5, at least 60 s
//!   is allowed).
//! * On expiry the RTO doubles, up to the maximum (5.5), and the estimator
//!   keeps its state; Karn's algorithm (3): no samples from retransmitted
//!   segments, which is the caller's job (it samples only fresh segments).
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct RtoConfig {
    pub initial: Duration,
    pub min: Duration,
    pub max: Duration,
    /// Clock granularity G.
    pub granularity: Duration,
    /// Consecutive expiries after which the connection gives up.
    pub max_retries: u32,
}

impl Default for RtoConfig {
    fn default() -> Self {
        RtoConfig {
            initial: Duration::from_secs(1),
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
            granularity: Duration::from_millis(1),
            max_retries: 15,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Rto {
    cfg: RtoConfig,
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    backoffs: u32,
}

/// What an expiry means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Retransmit and wait this long.
    Retransmit(Duration),
    /// Too many retries: abort the connection.
    GiveUp,
}

impl Rto {
    pub fn new(cfg: RtoConfig) -> Rto {
        Rto {
            rto: cfg.initial.clamp(cfg.min, cfg.max),
            cfg,
            srtt: None,
            rttvar: Duration::ZERO,
            backoffs: 0,
        }
    }

    /// The current timeout.
    pub fn rto(&self) -> Duration {
        self.rto
    }
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
    /// Expiries since the last new acknowledgement.
    pub fn backoffs(&self) -> u32 {
        self.backoffs
    }

    /// A round-trip sample from a segment sent once (Karn).  Also ends any
    /// backoff (5.7's "new RTT sample" case).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        self.backoffs = 0;
        self.recompute();
    }

    fn recompute(&mut self) {
        let srtt = self.srtt.unwrap_or(Duration::ZERO);
        let rto = srtt + self.cfg.granularity.max(self.rttvar * 4);
        self.rto = rto.clamp(self.cfg.min, self.cfg.max);
    }

    /// New data was acknowledged without a sample: the retry count starts
    /// again (the connection makes progress), but the backed-off RTO is
    /// kept until a valid sample (Karn; RFC 6298 5.5 and the note after
    /// 5.7).
    pub fn acked(&mut self) {
        self.backoffs = 0;
    }

    /// Raises the RTO to at least `min` (RFC 6298 5.7's 3 s after a SYN
    /// timeout).
    pub fn floor(&mut self, min: Duration) {
        self.rto = self.rto.max(min).min(self.cfg.max);
    }

    /// The timer expired (5.4 to 5.6).
    pub fn expired(&mut self) -> Expiry {
        if self.backoffs >= self.cfg.max_retries {
            return Expiry::GiveUp;
        }
        self.backoffs += 1;
        self.rto = (self.rto * 2).min(self.cfg.max);
        Expiry::Retransmit(self.rto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn initial_and_first_sample() {
        let mut r = Rto::new(RtoConfig::default());
        assert_eq!(r.rto(), ms(1000));
        r.sample(ms(100));
        assert_eq!((r.srtt(), r.rttvar()), (Some(ms(100)), ms(50)));
        // 100 + 4*50 = 300, raised to the 1 s minimum.
        assert_eq!(r.rto(), ms(1000));
        let mut fast = Rto::new(RtoConfig {
            min: ms(10),
            ..RtoConfig::default()
        });
        fast.sample(ms(100));
        assert_eq!(fast.rto(), ms(300));
    }

    #[test]
    fn smoothing_follows_rfc_6298() {
        let mut r = Rto::new(RtoConfig {
            min: ms(1),
            ..RtoConfig::default()
        });
        r.sample(ms(100));
        r.sample(ms(200));
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5
        assert_eq!(r.rttvar(), Duration::from_micros(62_500));
        assert_eq!(r.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(r.rto(), Duration::from_micros(112_500 + 250_000));
    }

    #[test]
    fn backoff_doubles_to_the_maximum_then_gives_up() {
        let cfg = RtoConfig {
            max_retries: 8,
            ..RtoConfig::default()
        };
        let mut r = Rto::new(cfg);
        let mut seen = vec![];
        for _ in 0..8 {
            match r.expired() {
                Expiry::Retransmit(d) => seen.push(d.as_secs()),
                Expiry::GiveUp => panic!("gave up early"),
            }
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(r.expired(), Expiry::GiveUp);
        // A fresh sample ends the backoff.
        r.sample(ms(50));
        assert_eq!((r.backoffs(), r.rto()), (0, ms(1000)));
    }
}
