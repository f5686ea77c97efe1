//! Packet-level tests of the stack against hostile peers (issue 14): bytes
//! in, exactly what comes out.  Challenge ACK limit (RFC 5961 7), SYN
//! floods (SYN cookies in the NIC's format, half-open limit, SYN-ACK
//! retries), tiny MSS, malformed options, the NIC's repeated reports, and
//! the passive-tuple events the socket layer feeds to the NIC's filter.
use super::conn::{Config, State};
use super::isn::IsnGenerator;
use super::stack::{Handle, NicEstablished, TcpStack};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr};
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_contract::setup as cs;

const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The start of a cookie tick (64 s ticks): tick 16.
const T0: Duration = Duration::from_secs(64 * 16);
const CISN: u32 = 0x4000_0000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn stack(cfg: Config, backlog: usize, max_conns: usize) -> TcpStack {
    let mut s = TcpStack::new(US, cfg, IsnGenerator::new([7; 16]), max_conns);
    s.listen(80, backlog);
    s
}

/// A client's segment.
#[derive(Clone, Debug)]
struct Seg {
    src: Ipv4Addr,
    sport: u16,
    seq: u32,
    ack: Option<u32>,
    ctl: TcpControl,
    window: u16,
    mss: Option<u16>,
    ws: Option<u8>,
    sack: bool,
    ts: Option<(u32, u32)>,
    payload: Vec<u8>,
}

impl Seg {
    /// A SYN with MSS 1460, window scale 7, SACK-permitted, timestamps.
    fn syn(sport: u16) -> Seg {
        Seg {
            src: PEER,
            sport,
            seq: CISN,
            ack: None,
            ctl: TcpControl::Syn,
            window: 64240,
            mss: Some(1460),
            ws: Some(7),
            sack: true,
            ts: Some((777, 0)),
            payload: vec![],
        }
    }
    /// A bare SYN: MSS only.
    fn plain_syn(sport: u16, mss: Option<u16>) -> Seg {
        Seg {
            mss,
            ws: None,
            sack: false,
            ts: None,
            ..Seg::syn(sport)
        }
    }
    fn ack(sport: u16, seq: u32, ack: u32) -> Seg {
        Seg {
            src: PEER,
            sport,
            seq,
            ack: Some(ack),
            ctl: TcpControl::None,
            window: 1000,
            mss: None,
            ws: None,
            sack: false,
            ts: None,
            payload: vec![],
        }
    }
    fn bytes(&self) -> Vec<u8> {
        let r = TcpRepr {
            src_port: self.sport,
            dst_port: 80,
            control: self.ctl,
            seq_number: TcpSeqNumber(self.seq as i32),
            ack_number: self.ack.map(|a| TcpSeqNumber(a as i32)),
            window_len: self.window,
            window_scale: self.ws,
            max_seg_size: self.mss,
            sack_permitted: self.sack,
            sack_ranges: [None, None, None],
            timestamp: self.ts.map(|(v, e)| TcpTimestampRepr::new(v, e)),
            payload: &self.payload,
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(
            &mut TcpPacket::new_unchecked(&mut b),
            &IpAddress::Ipv4(self.src),
            &IpAddress::Ipv4(US),
            &ChecksumCapabilities::default(),
        );
        b
    }
    fn to(&self, s: &mut TcpStack, now: Duration) {
        s.on_packet(self.src, US, &self.bytes(), now);
    }
}

/// A segment the stack sent.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Out {
    dst: Ipv4Addr,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    rst: bool,
    fin: bool,
    mss: Option<u16>,
    ws: Option<u8>,
    sack: bool,
    ts: Option<(u32, u32)>,
    len: usize,
    /// Bytes of TCP options.
    opt_len: usize,
}

fn sent(s: &mut TcpStack, now: Duration) -> Vec<Out> {
    s.dispatch(now)
        .into_iter()
        .map(|(dst, b)| {
            let p = TcpPacket::new_checked(&b[..]).unwrap();
            let r = TcpRepr::parse(
                &p,
                &IpAddress::Ipv4(US),
                &IpAddress::Ipv4(dst),
                &ChecksumCapabilities::default(),
            )
            .unwrap();
            Out {
                dst,
                dport: r.dst_port,
                seq: r.seq_number.0 as u32,
                ack: r.ack_number.map(|a| a.0 as u32),
                syn: r.control == TcpControl::Syn,
                rst: r.control == TcpControl::Rst,
                fin: r.control == TcpControl::Fin,
                mss: r.max_seg_size,
                ws: r.window_scale,
                sack: r.sack_permitted,
                ts: r.timestamp.map(|t| (t.tsval, t.tsecr)),
                len: r.payload.len(),
                opt_len: p.header_len() as usize - 20,
            }
        })
        .collect()
}

/// A client completes the software handshake from `sport` at `now`
/// (SYN without options): the connection's handle and our ISN.
fn handshake(s: &mut TcpStack, sport: u16, now: Duration) -> (Handle, u32) {
    Seg::plain_syn(sport, Some(1460)).to(s, now);
    let out = sent(s, now);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].syn && out[0].ack == Some(CISN + 1));
    let iss = out[0].seq;
    Seg::ack(sport, CISN + 1, iss + 1).to(s, now);
    assert!(sent(s, now).is_empty());
    let h = (80, PEER, sport);
    assert_eq!(s.conn_ref(h).map(|c| c.state()), Some(State::Established));
    (h, iss)
}

fn rst(sport: u16, seq: u32) -> Seg {
    Seg {
        ctl: TcpControl::Rst,
        ack: None,
        ..Seg::ack(sport, seq, 0)
    }
}

/// Item 1.  RFC 5961 section 7: challenge ACKs are limited per connection
/// (Linux: one per 500 ms, `tcp_invalid_ratelimit`); the limit covers the
/// three kinds (inexact RST, SYN, unacceptable ACK); another connection
/// has its own budget (no global counter, CVE-2016-5696).
#[test]
fn challenge_acks_are_rate_limited_per_connection() {
    let mut s = stack(Config::default(), 8, 64);
    let (_, iss) = handshake(&mut s, 5000, T0);
    let mut acks = 0;
    // 200 in-window, inexact RSTs in 0.22 s.
    for i in 0..200u64 {
        let t = T0 + Duration::from_micros(1100 * i);
        rst(5000, CISN + 1 + 1000).to(&mut s, t);
        for o in sent(&mut s, t) {
            assert!(!o.rst && o.ack == Some(CISN + 1), "{o:?}");
            acks += 1;
        }
    }
    assert_eq!(acks, 1, "one challenge ACK per 500 ms");
    assert_eq!(s.stats().challenge_acks_sent, 1);
    assert_eq!(s.stats().challenge_acks_suppressed, 199);
    // Another connection is not affected.
    handshake(&mut s, 5001, T0 + ms(200));
    rst(5001, CISN + 1 + 1000).to(&mut s, T0 + ms(210));
    assert_eq!(sent(&mut s, T0 + ms(210)).len(), 1);
    // The first connection again, after 500 ms: a SYN draws a challenge
    // (RFC 5961 4), the RST right after it does not.
    let t = T0 + ms(600);
    Seg::plain_syn(5000, Some(1460)).to(&mut s, t);
    rst(5000, CISN + 1 + 1000).to(&mut s, t);
    let out = sent(&mut s, t);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(!out[0].syn && out[0].ack == Some(CISN + 1));
    // An ACK of data never sent (RFC 5961 5.2) shares the limit.
    let t = T0 + ms(1200);
    Seg::ack(5000, CISN + 1, iss + 1 + 5000).to(&mut s, t);
    Seg::ack(5000, CISN + 1, iss + 1 + 5000).to(&mut s, t + ms(1));
    assert_eq!(sent(&mut s, t + ms(1)).len(), 1);
    let st = s.stats();
    assert_eq!(
        (st.challenge_acks_sent, st.challenge_acks_suppressed),
        (4, 201)
    );
    assert_eq!(
        s.conn_ref((80, PEER, 5000)).unwrap().state(),
        State::Established
    );
    // Zero interval: no limit.
    let cfg = Config {
        challenge_ack_interval: Duration::ZERO,
        ..Config::default()
    };
    let mut s = stack(cfg, 8, 64);
    handshake(&mut s, 5000, T0);
    let mut acks = 0;
    for _ in 0..3 {
        rst(5000, CISN + 1 + 1000).to(&mut s, T0);
        acks += sent(&mut s, T0).len();
    }
    assert_eq!(acks, 3);
}

/// A deterministic pseudo-random sequence (xorshift64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Item 2.  After 20,000 spoofed SYNs (no final ACKs) a real client
/// connects at once; the table stays within the half-open limit; the
/// half-open connections go away after their SYN-ACK retries.
#[test]
fn a_syn_flood_does_not_starve_a_real_client() {
    const BACKLOG: usize = 16;
    let mut s = stack(Config::default(), BACKLOG, 1024);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut synacks = 0;
    let mut most = 0;
    for i in 0..20_000u64 {
        let r = rng.next();
        let src = Ipv4Addr::from(0x0b00_0000 | (r as u32 & 0x00ff_ffff));
        let t = T0 + Duration::from_micros(50 * i);
        let syn = Seg {
            src,
            seq: (r >> 32) as u32,
            ..Seg::syn(1024 + (r >> 24) as u16 % 60000)
        };
        syn.to(&mut s, t);
        s.on_timer(t);
        for (dst, _) in s.dispatch(t) {
            assert_eq!(dst, src);
            synacks += 1;
        }
        s.reap();
        most = most.max(s.len());
    }
    assert!(most <= BACKLOG, "{most} connections in the table");
    assert_eq!(
        synacks, 20_000,
        "every SYN answered (cookies beyond the limit)"
    );
    assert!(s.stats().syn_cookies_sent >= 20_000 - BACKLOG as u64);
    // The real client.
    let t = T0 + ms(1500);
    Seg::syn(6000).to(&mut s, t);
    let out = sent(&mut s, t);
    assert_eq!(out.len(), 1, "{out:?}");
    let sa = &out[0];
    assert!(sa.syn && sa.ack == Some(CISN + 1) && sa.dst == PEER);
    let ack = Seg {
        ts: Some((778, sa.ts.unwrap().0)),
        ..Seg::ack(6000, CISN + 1, sa.seq + 1)
    };
    ack.to(&mut s, t + ms(1));
    sent(&mut s, t + ms(1));
    assert_eq!(s.accept(80), Some((80, PEER, 6000)));
    assert!(s.len() <= BACKLOG + 1);
    // The half-open connections are gone after their retries (about 63 s).
    let end = t + Duration::from_secs(70);
    while let Some(d) = s.poll_at().filter(|&d| d <= end) {
        s.on_timer(d);
        for o in sent(&mut s, d) {
            assert!(!o.rst, "no RST for a half-open connection that times out");
        }
        s.reap();
    }
    assert_eq!(s.len(), 1, "only the real client's connection is left");
}

/// Item 2.  SYN-ACK retransmissions are bounded (Linux
/// `tcp_synack_retries`, 5): SYN-ACKs at 0, 1, 3, 7, 15 and 31 s, then the
/// half-open connection is dropped silently (no RST) at 63 s.
#[test]
fn synack_retries_are_bounded_and_the_half_open_connection_is_freed() {
    let mut s = stack(Config::default(), 8, 64);
    Seg::plain_syn(7000, Some(1460)).to(&mut s, T0);
    let mut at = vec![];
    let mut t = T0;
    loop {
        for o in sent(&mut s, t) {
            assert!(o.syn && !o.rst, "{o:?}");
            at.push((t - T0).as_secs());
        }
        s.reap();
        match s.poll_at() {
            Some(d) if d <= T0 + Duration::from_secs(300) => {
                t = d;
                s.on_timer(d);
            }
            _ => break,
        }
    }
    assert_eq!(at, vec![0, 1, 3, 7, 15, 31]);
    assert_eq!(t, T0 + Duration::from_secs(63));
    assert!(s.is_empty());
    assert_eq!(s.stats().synack_timeouts, 1);
    // The listener's half-open budget is back: the next SYN gets state,
    // not a cookie.
    Seg::plain_syn(7001, Some(1460)).to(&mut s, t);
    assert_eq!(sent(&mut s, t).len(), 1);
    assert_eq!(s.len(), 1);
    assert_eq!(s.stats().syn_cookies_sent, 0);
}

/// Item 2.  Beyond the half-open limit a SYN is answered with a cookie in
/// the contract's format (MSS class, clock, MAC; window scale and SACK in
/// the TSval's low bits), and the final ACK creates the connection
/// ESTABLISHED with those options.  Without timestamps only the MSS is
/// kept.  A forged or expired cookie is answered with RST.
#[test]
fn syn_cookies_carry_the_options_and_complete_the_handshake() {
    let cfg = Config::default();
    let our_ws = cfg.syn_opts.wscale.unwrap();
    let mut s = stack(cfg, 1, 64);
    // The one half-open slot.
    Seg::plain_syn(6000, Some(1460)).to(&mut s, T0);
    assert_eq!(sent(&mut s, T0).len(), 1);
    // Cookie, with timestamps: MSS 1400 (class 1300), window scale 9, SACK.
    let syn = Seg {
        mss: Some(1400),
        ws: Some(9),
        ..Seg::syn(6001)
    };
    syn.to(&mut s, T0);
    let out = sent(&mut s, T0);
    assert_eq!(out.len(), 1, "{out:?}");
    let sa = out[0].clone();
    assert_eq!(s.len(), 1, "no state for a cookie");
    assert!(sa.syn && sa.ack == Some(CISN + 1));
    assert_eq!((sa.mss, sa.ws, sa.sack), (Some(1460), Some(our_ws), true));
    let (tsval, tsecr) = sa.ts.unwrap();
    assert_eq!(tsecr, 777);
    assert_eq!(tsval & cs::TS_OPT_MASK, 9 | cs::TS_SACK_BIT);
    let (t_low, class, slot, _) = cs::fields(sa.seq);
    assert_eq!((t_low, class, slot), (16 % 8, 1, 0));
    assert_eq!(s.stats().syn_cookies_sent, 1);
    // The final ACK, 10 ms later, with a request.
    let t = T0 + ms(10);
    let ack = Seg {
        ts: Some((778, tsval)),
        payload: b"hello".to_vec(),
        ..Seg::ack(6001, CISN + 1, sa.seq + 1)
    };
    ack.to(&mut s, t);
    let out = sent(&mut s, t);
    let h = s.accept(80).expect("a connection from the cookie");
    assert_eq!(h, (80, PEER, 6001));
    assert_eq!(s.stats().syn_cookies_validated, 1);
    let c = s.conn(h).unwrap();
    assert_eq!(c.state(), State::Established);
    let n = *c.negotiated().unwrap();
    assert_eq!(
        (n.send_mss, n.snd_wscale, n.rcv_wscale, n.sack, n.timestamps),
        (1300, 9, our_ws, true, true)
    );
    let mut buf = [0u8; 16];
    assert_eq!(c.read(&mut buf), 5);
    assert_eq!(c.write(b"hi"), 2);
    let out: Vec<Out> = [out, sent(&mut s, t)].concat();
    let data = out.iter().find(|o| o.len == 2).expect("our data");
    assert_eq!(data.seq, sa.seq + 1);
    assert_eq!(data.ack, Some(CISN + 1 + 5));
    // Our TSvals continue from the SYN-ACK's (the client's PAWS).
    assert!(data.ts.unwrap().0.wrapping_sub(tsval) < 1000);

    // Without timestamps: MSS only, no window scale, no SACK.
    Seg::plain_syn(6002, Some(1460)).to(&mut s, T0);
    let sa = sent(&mut s, T0).remove(0);
    assert_eq!(
        (sa.mss, sa.ws, sa.sack, sa.ts),
        (Some(1460), None, false, None)
    );
    Seg::ack(6002, CISN + 1, sa.seq + 1).to(&mut s, t);
    sent(&mut s, t);
    let h = s.accept(80).unwrap();
    let n = *s.conn(h).unwrap().negotiated().unwrap();
    assert_eq!(
        (n.send_mss, n.snd_wscale, n.sack, n.timestamps),
        (1460, 0, false, false)
    );
    assert_eq!(s.stats().syn_cookies_validated, 2);

    // A forged cookie: RST, no connection.
    Seg::ack(6003, CISN + 1, 0x1234_5678).to(&mut s, t);
    let out = sent(&mut s, t);
    assert_eq!(out.len(), 1);
    assert!(out[0].rst && out[0].seq == 0x1234_5678);
    // The right cookie, for another client ISN: RST.
    Seg::plain_syn(6004, Some(1460)).to(&mut s, T0);
    let sa = sent(&mut s, T0).remove(0);
    Seg::ack(6004, CISN + 2, sa.seq + 1).to(&mut s, t);
    assert!(sent(&mut s, t)[0].rst);
    // Expired: made in tick 16, accepted through tick 17 only.
    Seg::ack(6004, CISN + 1, sa.seq + 1).to(&mut s, T0 + Duration::from_secs(128));
    let out = sent(&mut s, T0 + Duration::from_secs(128));
    assert!(out.len() == 1 && out[0].rst, "{out:?}");
    assert_eq!(s.stats().syn_cookies_rejected, 3);
    assert!(s.accept(80).is_none());
}

/// Item 2.  A full accept queue (established, not accepted) drops the SYN
/// and a valid cookie's final ACK, as Linux does, counted.
#[test]
fn a_full_accept_queue_drops_syns_and_cookie_acks() {
    let mut s = stack(Config::default(), 1, 64);
    // Half-open slot taken, then a cookie out.
    Seg::plain_syn(6000, Some(1460)).to(&mut s, T0);
    let first = sent(&mut s, T0).remove(0);
    Seg::plain_syn(6001, Some(1460)).to(&mut s, T0);
    let cookie = sent(&mut s, T0).remove(0);
    // The half-open one completes: the accept queue (1) is full.
    Seg::ack(6000, CISN + 1, first.seq + 1).to(&mut s, T0);
    sent(&mut s, T0);
    Seg::ack(6001, CISN + 1, cookie.seq + 1).to(&mut s, T0);
    assert!(sent(&mut s, T0).is_empty(), "dropped, not answered");
    Seg::plain_syn(6002, Some(1460)).to(&mut s, T0);
    assert!(sent(&mut s, T0).is_empty());
    let st = s.stats();
    assert_eq!((st.syn_cookies_dropped_full, st.syn_dropped_full), (1, 1));
    assert_eq!(s.accept(80), Some((80, PEER, 6000)));
    assert!(s.accept(80).is_none());
}

/// Item 3.  RFC 9293 3.7.1: we never send more than the peer's MSS.  A SYN
/// whose MSS is below the floor (`min_peer_mss`, 48) is refused; above it
/// every segment fits, options included (RFC 6691); a NIC report is held
/// to the same rules.
#[test]
fn a_tiny_mss_is_refused_and_a_small_one_is_honoured() {
    let mut s = stack(Config::default(), 8, 64);
    for (port, mss) in [(8000, 1), (8001, 47)] {
        Seg::syn(port).with_mss(mss).to(&mut s, T0);
        assert!(sent(&mut s, T0).is_empty(), "MSS {mss}");
    }
    assert_eq!(s.stats().syn_mss_refused, 2);
    assert!(s.is_empty());
    // MSS 88 with timestamps: 76 bytes of data and 12 of options at most.
    let syn = Seg::syn(8003).with_mss(88);
    syn.to(&mut s, T0);
    let sa = sent(&mut s, T0).remove(0);
    Seg {
        ts: Some((778, sa.ts.unwrap().0)),
        ..Seg::ack(8003, CISN + 1, sa.seq + 1)
    }
    .to(&mut s, T0);
    sent(&mut s, T0);
    let h = s.accept(80).unwrap();
    assert_eq!(s.conn(h).unwrap().write(&[7u8; 1000]), 1000);
    let mut total = 0;
    let mut t = T0;
    for _ in 0..100 {
        let out = sent(&mut s, t);
        for o in &out {
            assert!(o.len + o.opt_len <= 88, "{o:?}");
            total += o.len;
        }
        if total >= 1000 {
            break;
        }
        t += ms(5);
        let next = sa.seq + 1 + total as u32;
        Seg {
            ts: Some((779, 0)),
            ..Seg::ack(8003, CISN + 1, next)
        }
        .to(&mut s, t);
    }
    assert_eq!(total, 1000);

    // The NIC's report: honoured (100), refused below the floor (20).
    let mut s = stack(Config::default(), 8, 64);
    for (port, mss) in [(8100u16, 100u16), (8101, 20)] {
        let nic = NicEstablished {
            peer_mss: mss,
            peer_wscale: None,
            sack: true,
            ts: Some((5, 6)),
        };
        let ack = Seg {
            ts: Some((5, 6)),
            ..Seg::ack(port, CISN + 1, 0x1000_0001)
        };
        s.on_established(PEER, US, &ack.bytes(), true, &nic, T0);
    }
    sent(&mut s, T0);
    assert_eq!(s.stats().nic_established, 1);
    assert_eq!(s.stats().syn_mss_refused, 1);
    let h = s.accept(80).unwrap();
    assert!(s.accept(80).is_none());
    s.conn(h).unwrap().write(&[1u8; 500]);
    for o in sent(&mut s, T0) {
        assert!(o.len + o.opt_len <= 100, "{o:?}");
    }
}

impl Seg {
    fn with_mss(self, mss: u16) -> Seg {
        Seg {
            mss: Some(mss),
            ..self
        }
    }
}

/// A SYN from PEER:`sport` with raw `opts` (a multiple of 4 bytes).
fn raw_syn(sport: u16, opts: &[u8]) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0);
    let mut b = vec![0u8; 20 + opts.len()];
    b[0..2].copy_from_slice(&sport.to_be_bytes());
    b[2..4].copy_from_slice(&80u16.to_be_bytes());
    b[4..8].copy_from_slice(&CISN.to_be_bytes());
    b[12] = (((20 + opts.len()) / 4) << 4) as u8;
    b[13] = 0x02;
    b[14..16].copy_from_slice(&64240u16.to_be_bytes());
    b[20..].copy_from_slice(opts);
    TcpPacket::new_unchecked(&mut b[..])
        .fill_checksum(&IpAddress::Ipv4(PEER), &IpAddress::Ipv4(US));
    b
}

/// Item 4.  Options as Linux's `tcp_parse_options` reads them: an MSS
/// option whose length is not 4 is skipped, parsing stops at a length
/// below 2 or one that runs past the header, and what parsed before is
/// kept; the SYN is answered.
#[test]
fn malformed_syn_options_are_read_as_linux_reads_them() {
    let mut s = stack(Config::default(), 8, 64);
    let cases: [(&[u8], bool, Option<u8>); 5] = [
        // MSS with length 3, then the end of the list.
        (&[2, 3, 5, 0], false, None),
        // MSS with length 5, then NOPs.
        (&[2, 5, 5, 180, 9, 1, 1, 0], false, None),
        // SACK-permitted, then an MSS option that runs past the header.
        (&[4, 2, 2, 10, 5, 180, 0, 0], true, None),
        // Window scale, then an option of length 1.
        (&[3, 3, 7, 8, 1, 0, 0, 0], false, Some(7)),
        // An option of length 0 first.
        (&[30, 0, 2, 4, 5, 180, 0, 0], false, None),
    ];
    for (i, (opts, sack, ws)) in cases.iter().enumerate() {
        let port = 9000 + i as u16;
        s.on_packet(PEER, US, &raw_syn(port, opts), T0);
        let out = sent(&mut s, T0);
        assert_eq!(out.len(), 1, "case {i}: {out:?}");
        let sa = &out[0];
        assert!(sa.syn && sa.ack == Some(CISN + 1), "case {i}");
        assert_eq!(sa.mss, Some(1460), "case {i}: our MSS");
        assert_eq!(sa.sack, *sack, "case {i}");
        assert_eq!(sa.ws.is_some(), ws.is_some(), "case {i}");
        assert_eq!(sa.ts, None, "case {i}");
        let c = s.conn_ref((80, PEER, port)).unwrap();
        let n = c.negotiated().unwrap();
        assert_eq!(n.send_mss, 536, "case {i}: no MSS parsed, RFC 9293 default");
        assert_eq!(n.snd_wscale, ws.unwrap_or(0), "case {i}");
    }
    assert_eq!(s.stats().rx_bad, 0);
    assert_eq!(s.stats().rx_bad_options, cases.len() as u64);
}

/// Item 5.  The NIC reports a segment again while its ACK number still
/// carries the cookie: one handshake (`nic_established`), one
/// re-validation (`nic_established_dup`).
#[test]
fn a_repeated_report_counts_one_handshake_and_one_revalidation() {
    let mut s = stack(Config::default(), 8, 64);
    let nic = NicEstablished {
        peer_mss: 1460,
        peer_wscale: None,
        sack: false,
        ts: None,
    };
    let cookie = 0x2000_0000u32;
    let ack = Seg::ack(4000, CISN + 1, cookie + 1);
    s.on_established(PEER, US, &ack.bytes(), true, &nic, T0);
    let data = Seg {
        payload: b"GET /".to_vec(),
        ..ack.clone()
    };
    s.on_established(PEER, US, &data.bytes(), true, &nic, T0 + ms(1));
    sent(&mut s, T0 + ms(1));
    let st = s.stats();
    assert_eq!((st.nic_established, st.nic_established_dup), (1, 1));
    let h = s.accept(80).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.conn(h).unwrap().read(&mut buf), 5);
}

/// Item 7.  Passive connections entering and leaving the table are
/// reported exactly once each: software handshake, NIC report, software
/// cookie; removed by RST, by TIME-WAIT's end, by a SYN-ACK timeout.
/// Active opens are not reported.
#[test]
fn tuple_events_report_passive_connections_exactly_once() {
    let mut s = stack(Config::default(), 1, 64);
    let mut ev = vec![];
    // Nothing is recorded until asked for.
    handshake(&mut s, 100, T0);
    s.accept(80).unwrap();
    s.take_tuple_events(&mut ev);
    assert!(ev.is_empty());
    s.set_tuple_events(true);
    let h1 = (80, PEER, 101);
    handshake(&mut s, 101, T0);
    assert_eq!(s.accept(80), Some(h1));
    s.take_tuple_events(&mut ev);
    assert_eq!(std::mem::take(&mut ev), vec![(h1, true)]);
    // The NIC's report.
    let h2 = (80, PEER, 102);
    let nic = NicEstablished {
        peer_mss: 1460,
        peer_wscale: None,
        sack: false,
        ts: None,
    };
    let cookie = 0x3000_0000u32;
    s.on_established(
        PEER,
        US,
        &Seg::ack(102, CISN + 1, cookie + 1).bytes(),
        true,
        &nic,
        T0,
    );
    // Again (a re-validation): no new event.
    s.on_established(
        PEER,
        US,
        &Seg::ack(102, CISN + 1, cookie + 1).bytes(),
        true,
        &nic,
        T0,
    );
    sent(&mut s, T0);
    assert_eq!(s.accept(80), Some(h2));
    // An active open: none.
    s.connect((PEER, 9999), T0).unwrap();
    sent(&mut s, T0);
    s.take_tuple_events(&mut ev);
    assert_eq!(std::mem::take(&mut ev), vec![(h2, true)]);
    // A half-open one, then a cookie one (the half-open limit is 1).
    let h3 = (80, PEER, 103);
    Seg::plain_syn(103, Some(1460)).to(&mut s, T0);
    sent(&mut s, T0);
    let h4 = (80, PEER, 104);
    Seg::plain_syn(104, Some(1460)).to(&mut s, T0);
    let sa = sent(&mut s, T0).remove(0);
    s.take_tuple_events(&mut ev);
    assert_eq!(
        std::mem::take(&mut ev),
        vec![(h3, true)],
        "no event for a cookie SYN-ACK"
    );
    Seg::ack(104, CISN + 1, sa.seq + 1).to(&mut s, T0);
    sent(&mut s, T0);
    s.take_tuple_events(&mut ev);
    assert_eq!(std::mem::take(&mut ev), vec![(h4, true)]);
    // h1 reset by the peer (RST at RCV.NXT).
    let t = T0 + ms(10);
    rst(101, CISN + 1).to(&mut s, t);
    sent(&mut s, t);
    s.reap();
    s.take_tuple_events(&mut ev);
    assert_eq!(std::mem::take(&mut ev), vec![(h1, false)]);
    // h2: we close, the peer acknowledges and closes: TIME-WAIT, 2 MSL.
    s.conn(h2).unwrap().close();
    let fin = sent(&mut s, t).into_iter().find(|o| o.fin).unwrap();
    let ack_fin = Seg {
        ctl: TcpControl::Fin,
        ..Seg::ack(102, CISN + 1, fin.seq + 1)
    };
    ack_fin.to(&mut s, t);
    sent(&mut s, t);
    assert_eq!(s.conn_ref(h2).unwrap().state(), State::TimeWait);
    s.take_tuple_events(&mut ev);
    assert!(ev.is_empty());
    // Run the clock 2 minutes: h2 leaves TIME-WAIT (60 s) and h3's SYN-ACKs
    // run out (63 s).
    let end = t + Duration::from_secs(120);
    while let Some(d) = s.poll_at().filter(|&d| d <= end) {
        s.on_timer(d);
        sent(&mut s, d);
        s.reap();
        s.take_tuple_events(&mut ev);
    }
    assert_eq!(ev, vec![(h2, false), (h3, false)]);
    // Aborting h4 (the application) removes it too.
    ev.clear();
    s.abort(h4);
    s.take_tuple_events(&mut ev);
    assert_eq!(ev, vec![(h4, false)]);
}

/// Item 3, active open: a SYN-ACK announcing an MSS below the floor is
/// refused like such a SYN: RST `<SEQ=SEG.ACK>` and the connection ends
/// (reset), rather than sending the server segments above its MSS.
#[test]
fn a_syn_ack_with_a_tiny_mss_resets_the_active_open() {
    let mut s = TcpStack::new(US, Config::default(), IsnGenerator::new([7; 16]), 8);
    let h = s.connect((PEER, 80), T0).unwrap();
    let syn = sent(&mut s, T0).remove(0);
    assert!(syn.syn);
    let synack = Seg {
        sport: 80,
        seq: CISN,
        ack: Some(syn.seq + 1),
        ctl: TcpControl::Syn,
        ..Seg::syn(80).with_mss(8)
    };
    let mut b = synack.bytes();
    b[2..4].copy_from_slice(&h.0.to_be_bytes());
    TcpPacket::new_unchecked(&mut b[..])
        .fill_checksum(&IpAddress::Ipv4(PEER), &IpAddress::Ipv4(US));
    s.on_packet(PEER, US, &b, T0 + ms(5));
    let out = sent(&mut s, T0 + ms(5));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].rst && out[0].seq == syn.seq + 1, "{out:?}");
    assert_eq!(
        s.conn_ref(h).unwrap().closed(),
        Some(super::conn::Closed::Reset)
    );
    assert_eq!(s.stats().syn_mss_refused, 1);
}

/// An application that pokes a connection on every poll (reads that find
/// nothing, writes that do not change the deadline) does not fill the
/// timer heap: a deadline is entered once, not on every dispatch (the
/// heap grew by one entry per dispatch and was rebuilt from the whole
/// table every 64 or so).
#[test]
fn the_timer_heap_holds_a_deadline_once_however_often_it_is_dispatched() {
    let mut s = stack(Config::default(), 8, 64);
    let (h, _) = handshake(&mut s, 40000, T0);
    s.conn(h).unwrap().write(b"request");
    assert_eq!(sent(&mut s, T0).len(), 1);
    let entries = s.timer_entries();
    assert!(entries <= 2, "{entries} entries after the first data");
    for i in 1..=200 {
        let mut buf = [0u8; 16];
        assert_eq!(s.conn(h).unwrap().read(&mut buf), 0);
        assert!(sent(&mut s, T0 + ms(i)).is_empty());
        assert!(
            s.timer_entries() <= entries,
            "{} timer entries after {i} dispatches",
            s.timer_entries()
        );
    }
    // The deadline still fires: the data is retransmitted after the RTO.
    s.on_timer(T0 + Duration::from_secs(2));
    let out = sent(&mut s, T0 + Duration::from_secs(2));
    assert_eq!(out.iter().map(|o| o.len).collect::<Vec<_>>(), vec![7]);
}

/// One short transaction on connection `sport`: the client sends
/// `request`, we answer `reply` and close after the client's FIN; the
/// connection is gone from the table afterwards.
fn transaction(s: &mut TcpStack, sport: u16, request: &[u8], reply: &[u8], now: Duration) {
    let (h, iss) = handshake(s, sport, now);
    assert_eq!(
        s.conn_ref(h).unwrap().buffer_memory(),
        0,
        "light until data moves"
    );
    Seg {
        payload: request.to_vec(),
        ..Seg::ack(sport, CISN + 1, iss + 1)
    }
    .to(s, now);
    let mut buf = [0u8; 64];
    assert_eq!(s.conn(h).unwrap().read(&mut buf), request.len());
    assert_eq!(s.conn_to_write(h).unwrap().write(reply), reply.len());
    let out = sent(s, now);
    assert_eq!(out.iter().map(|o| o.len).sum::<usize>(), reply.len());
    let cseq = CISN + 1 + request.len() as u32;
    let sseq = iss + 1 + reply.len() as u32;
    Seg {
        ctl: TcpControl::Fin,
        ..Seg::ack(sport, cseq, sseq)
    }
    .to(s, now);
    s.conn(h).unwrap().close();
    let fin = sent(s, now);
    assert!(fin.iter().any(|o| o.fin), "{fin:?}");
    Seg::ack(sport, cseq + 1, sseq + 1).to(s, now);
    assert!(sent(s, now).is_empty());
    s.reap();
    assert!(s.conn_ref(h).is_none(), "the connection is reaped");
}

/// Short connections reuse the buffers finished ones gave back (zeroed)
/// instead of allocating: a connection starts without buffers, takes a
/// spare one for the request and another for the reply, and gives both
/// back when it leaves the table.
#[test]
fn finished_connections_lend_their_buffers_to_the_next() {
    let mut s = stack(Config::default(), 8, 64);
    assert_eq!(s.spare_buffers(), 0);
    transaction(&mut s, 40000, b"ping", b"pong", T0);
    assert_eq!(s.spare_buffers(), 2, "both buffers given back");
    let (h, iss) = handshake(&mut s, 40001, T0);
    assert_eq!(s.conn_ref(h).unwrap().buffer_memory(), 0);
    assert_eq!(s.spare_buffers(), 2, "nothing lent before data moves");
    Seg {
        payload: b"abc".to_vec(),
        ..Seg::ack(40001, CISN + 1, iss + 1)
    }
    .to(&mut s, T0);
    assert_eq!(s.spare_buffers(), 1, "the receive buffer took a spare one");
    let mut buf = [0u8; 8];
    assert_eq!(s.conn(h).unwrap().read(&mut buf), 3);
    assert_eq!(&buf[..3], b"abc");
    s.conn_to_write(h).unwrap().write(b"xyz");
    assert_eq!(s.spare_buffers(), 0, "the send buffer took the other");
    assert_eq!(s.conn_ref(h).unwrap().buffer_memory(), 1024);
    let out = sent(&mut s, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].len, 3);
}

/// Zero-copy socket calls: `read_with` shows the received bytes in place
/// and drops only what the reader consumed; `write_with` lets the writer
/// fill the send buffer in place, and exactly what it wrote is sent.
#[test]
fn read_and_write_in_place_move_exactly_what_the_caller_consumed_or_wrote() {
    let mut s = stack(Config::default(), 8, 64);
    let (h, iss) = handshake(&mut s, 40002, T0);
    Seg {
        payload: b"GET /x".to_vec(),
        ..Seg::ack(40002, CISN + 1, iss + 1)
    }
    .to(&mut s, T0);
    let mut seen = Vec::new();
    let n = s.conn(h).unwrap().read_with(|b| {
        seen.extend_from_slice(b);
        4
    });
    assert_eq!((n, &seen[..]), (4, &b"GET /x"[..]));
    let mut rest = Vec::new();
    assert_eq!(
        s.conn(h).unwrap().read_with(|b| {
            rest.extend_from_slice(b);
            b.len()
        }),
        2
    );
    assert_eq!(rest, b"/x");
    assert_eq!(s.conn(h).unwrap().read_with(|b| b.len()), 0);
    // A writer that is offered 100 bytes and writes 5 of them.
    let w = s.conn_to_write(h).unwrap().write_with(100, |room| {
        assert!(room.len() == 100, "{} bytes of room", room.len());
        room[..5].copy_from_slice(b"hello");
        5
    });
    assert_eq!(w, 5);
    // A writer claiming more than it was given is held to the room.
    let w = s.conn_to_write(h).unwrap().write_with(3, |_| 1000);
    assert_eq!(w, 3);
    let out = sent(&mut s, T0);
    assert_eq!(out.iter().map(|o| o.len).sum::<usize>(), 8);
}

/// A deadline that moves later is still met (its entry pops early and is
/// entered again for the new time) and one that moves earlier is met at
/// the earlier time, with one heap entry per connection throughout.
#[test]
fn deadlines_that_move_later_or_earlier_are_met() {
    let mut s = stack(Config::default(), 8, 64);
    let (h, iss) = handshake(&mut s, 40003, T0);
    // Data: the RTO runs (1 s).
    s.conn(h).unwrap().write(b"a");
    assert_eq!(sent(&mut s, T0).len(), 1);
    // Acknowledged at 0.5 s, more data: the RTO restarts, 1.5 s.
    Seg::ack(40003, CISN + 1, iss + 2).to(&mut s, T0 + ms(500));
    s.conn(h).unwrap().write(b"b");
    assert_eq!(sent(&mut s, T0 + ms(500)).len(), 1);
    assert!(s.timer_entries() <= 2, "{}", s.timer_entries());
    // At 1 s the first entry pops: nothing is due, nothing is sent.
    s.on_timer(T0 + ms(1000));
    assert!(sent(&mut s, T0 + ms(1000)).is_empty());
    // After the (RTT-updated) RTO the data is retransmitted.
    let rto = s.conn_ref(h).unwrap().poll_at().unwrap();
    assert!(rto > T0 + ms(1000), "{rto:?}");
    s.on_timer(rto);
    let out = sent(&mut s, rto);
    assert_eq!(
        out.iter().map(|o| (o.seq, o.len)).collect::<Vec<_>>(),
        vec![(iss + 2, 1)]
    );
    // A delayed ACK (40 ms) is earlier than the RTO entered: met on time.
    Seg {
        payload: b"x".to_vec(),
        ..Seg::ack(40003, CISN + 1, iss + 2)
    }
    .to(&mut s, rto);
    assert!(sent(&mut s, rto).is_empty());
    s.on_timer(rto + ms(40));
    let out = sent(&mut s, rto + ms(40));
    assert_eq!(
        out.iter().map(|o| o.ack).collect::<Vec<_>>(),
        vec![Some(CISN + 2)]
    );
}
