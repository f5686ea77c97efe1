//! The host TCP stack (`TcpStack`) against a peer the fuzzer steers, with
//! connections pre-placed in a chosen RFC 9293 state first (SYN-RECEIVED,
//! ESTABLISHED by the software handshake, by the NIC's handshake report or
//! by an active open, SYN-SENT, FIN-WAIT-1, FIN-WAIT-2, CLOSING,
//! TIME-WAIT, CLOSE-WAIT, LAST-ACK), each reached by feeding the handshake
//! and the closing segments and checked to be in that state.  Then the
//! input is a list of operations: peer segments with fuzzed flags,
//! sequence and acknowledgement numbers (near the edges or anywhere),
//! windows, options and payload; SYNs; NIC reports; raw bytes; the
//! application's connect, write, read, close and abort; time passing.
//!
//! The peer's payload byte at sequence number `s` is always
//! `pattern(stream, s)`, and the application writes a known stream, so:
//! * every byte the application reads is the next byte of the peer's
//!   stream (delivered once, in order, nothing invented);
//! * every data byte the stack sends is the byte the application wrote at
//!   that offset (retransmissions included);
//! * no segment carries data beyond the right edge of any window the peer
//!   offered (a zero-window probe may carry the one byte just past it);
//! * the acknowledgement number the stack sends never moves backwards
//!   within a connection, and its sequence numbers never fall before its
//!   ISN;
//! * tables and buffers stay within their limits; nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr};
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_driver::tcp::conn::{Config, State};
use toe_driver::tcp::isn::IsnGenerator;
use toe_driver::tcp::stack::{Handle, NicEstablished, TcpStack};
use toe_fuzz::{pattern, Input};

const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const LISTEN: u16 = 80;
/// The port active opens connect to.
const REMOTE: u16 = 7777;
const MAX_CONNS: usize = 32;
const RECV_BUF: usize = 16 * 1024;
const SEND_BUF: usize = 16 * 1024;

/// What the harness knows of one connection (one incarnation of a tuple).
#[derive(Clone, Debug, Default)]
struct Track {
    h: Option<Handle>,
    /// Peer's port (the tuple's remote port).
    pport: u16,
    /// Peer's ISN as the connection took it.
    irs: Option<u32>,
    /// Our ISN (from our SYN / SYN-ACK, or the NIC's report).
    iss: Option<u32>,
    /// Sequence space we used, relative to `iss` (SYN included).
    snd_max: u32,
    /// Highest right edge the peer ever offered, relative to `iss`.
    edge: Option<u32>,
    /// Last acknowledgement number we sent.
    last_ack: Option<u32>,
    /// Bytes the application wrote, in order.
    written: Vec<u8>,
    /// Bytes the application read.
    read: u32,
    /// Peer's next sequence number (for well-formed segments) and TSval.
    peer_nxt: u32,
    /// The furthest end of the peer's segments, relative to `irs`
    /// (segments "before" `irs` left out, so it never wraps).
    sent_rel: u32,
    peer_ts: u32,
    /// The peer's window scale offer (for its windows' interpretation).
    scale: u8,
}

struct Run {
    stack: TcpStack,
    now: Duration,
    tracks: Vec<Track>,
}

#[derive(Clone, Copy, Default)]
struct Opts {
    mss: Option<u16>,
    ws: Option<u8>,
    sack_perm: bool,
    ts: bool,
}

/// TOE_FUZZ_TRACE=1 prints every segment (to triage a crash input).
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("TOE_FUZZ_TRACE").is_some())
}

fn stream_of(pport: u16) -> u32 {
    pport as u32
}

impl Run {
    fn state(&self, i: usize) -> Option<State> {
        self.tracks[i]
            .h
            .and_then(|h| self.stack.conn_ref(h))
            .map(|c| c.state())
    }

    /// The peer sends a segment on track `i`; the payload is the peer's
    /// stream at those sequence numbers.
    #[allow(clippy::too_many_arguments)]
    fn peer_send(
        &mut self,
        i: usize,
        ctl: TcpControl,
        seq: u32,
        ack: Option<u32>,
        window: u16,
        opts: Opts,
        sack: [Option<(u32, u32)>; 3],
        len: usize,
        nic: Option<NicEstablished>,
    ) {
        let t = &mut self.tracks[i];
        let first = seq.wrapping_add((ctl == TcpControl::Syn) as u32);
        let payload: Vec<u8> = (0..len as u32)
            .map(|j| pattern(stream_of(t.pport), first.wrapping_add(j) as u64))
            .collect();
        t.peer_ts = t.peer_ts.wrapping_add(1);
        let r = TcpRepr {
            src_port: t.pport,
            dst_port: t.h.map_or(LISTEN, |h| h.0),
            control: ctl,
            seq_number: TcpSeqNumber(seq as i32),
            ack_number: ack.map(|a| TcpSeqNumber(a as i32)),
            window_len: window,
            window_scale: opts.ws,
            max_seg_size: opts.mss,
            sack_permitted: opts.sack_perm,
            sack_ranges: sack,
            timestamp: opts.ts.then(|| TcpTimestampRepr::new(t.peer_ts, 0)),
            payload: &payload,
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(
            &mut TcpPacket::new_unchecked(&mut b),
            &IpAddress::Ipv4(PEER),
            &IpAddress::Ipv4(US),
            &ChecksumCapabilities::default(),
        );
        if ctl == TcpControl::Syn {
            if ack.is_none() {
                if let Some(ws) = opts.ws {
                    t.scale = ws.min(14);
                } else {
                    t.scale = 0;
                }
            }
        }
        let end = first
            .wrapping_add(len as u32)
            .wrapping_add((ctl == TcpControl::Fin) as u32);
        if (end.wrapping_sub(t.peer_nxt) as i32) > 0 {
            t.peer_nxt = end;
        }
        // The offered window, counted for acceptable ACKs only.
        if let (Some(a), Some(iss)) = (ack, t.iss) {
            let rel = a.wrapping_sub(iss);
            if rel <= t.snd_max && ctl != TcpControl::Rst {
                let shift = if ctl == TcpControl::Syn {
                    0
                } else {
                    self.peer_shift(i)
                };
                let edge = rel.saturating_add((window as u32) << shift);
                let t = &mut self.tracks[i];
                t.edge = Some(t.edge.map_or(edge, |e| e.max(edge)));
            }
        }
        let before = self.state(i);
        let h = (
            self.tracks[i].h.map_or(LISTEN, |h| h.0),
            PEER,
            self.tracks[i].pport,
        );
        if trace() {
            eprintln!(
                "peer>us [{i}] {ctl:?} seq {seq} ack {ack:?} win {window} len {len} nic {} state {before:?}",
                nic.is_some()
            );
        }
        match nic {
            Some(n) => self.stack.on_established(PEER, US, &b, true, &n, self.now),
            None => self.stack.on_packet(PEER, US, &b, self.now),
        }
        let after = self.stack.conn_ref(h).map(|c| c.state());
        self.note_transition(i, h, before, after, seq, end, ack, window);
        let t = &mut self.tracks[i];
        if let Some(irs) = t.irs {
            let rel = end.wrapping_sub(irs);
            if (rel as i32) >= 0 && rel > t.sent_rel {
                t.sent_rel = rel;
            }
        }
    }

    /// The shift the connection applies to the peer's windows: as
    /// negotiated, or the largest possible while unknown (so that the
    /// window check never blames the stack for our ignorance).
    fn peer_shift(&self, i: usize) -> u8 {
        self.tracks[i]
            .h
            .and_then(|h| self.stack.conn_ref(h))
            .and_then(|c| c.negotiated().map(|n| n.snd_wscale))
            .unwrap_or(14)
    }

    /// Learns a new incarnation from the state change a segment caused.
    #[allow(clippy::too_many_arguments)]
    fn note_transition(
        &mut self,
        i: usize,
        h: Handle,
        before: Option<State>,
        after: Option<State>,
        seq: u32,
        end: u32,
        ack: Option<u32>,
        window: u16,
    ) {
        let t = &mut self.tracks[i];
        let synced = |s: Option<State>| {
            !matches!(
                s,
                None | Some(State::SynSent) | Some(State::SynReceived) | Some(State::Closed)
            )
        };
        let new_passive = after == Some(State::SynReceived)
            && before != Some(State::SynReceived)
            && before != Some(State::SynSent);
        let new_established = synced(after)
            && !synced(before)
            && before != Some(State::SynSent)
            && before != Some(State::SynReceived);
        if new_passive || new_established {
            let pport = t.pport;
            let scale = t.scale;
            *t = Track {
                h: Some(h),
                pport,
                irs: Some(if new_passive {
                    seq
                } else {
                    seq.wrapping_sub(1)
                }),
                // The segment that made the connection defines the peer's
                // sequence space from here on.
                peer_nxt: end,
                peer_ts: t.peer_ts,
                scale,
                ..Track::default()
            };
            if new_established {
                // A NIC report or a SYN cookie: our ISN is ack - 1, the
                // window comes from this segment.
                let a = ack.expect("an ACK completed the handshake");
                t.iss = Some(a.wrapping_sub(1));
                t.snd_max = 1;
                // The scale is the report's (or the cookie's): take the
                // largest, as for any window whose scale is not known yet.
                t.edge = Some(1u32.saturating_add((window as u32) << 14));
            }
        } else if before == Some(State::SynSent) && after.is_some() && after != Some(State::SynSent)
        {
            t.irs = Some(seq);
            t.peer_nxt = end;
        }
    }

    fn add_track(&mut self, h: Option<Handle>, pport: u16) -> usize {
        self.tracks.push(Track {
            h,
            pport,
            peer_nxt: 0x1000_0000u32.wrapping_mul(pport as u32),
            ..Track::default()
        });
        self.tracks.len() - 1
    }

    /// Everything the stack has to send, checked.
    fn drain(&mut self) {
        let out = self.stack.dispatch(self.now);
        assert!(
            out.len() <= 4096,
            "{} segments from one dispatch",
            out.len()
        );
        for (dst, bytes) in out {
            assert_eq!(dst, PEER);
            let p = TcpPacket::new_checked(&bytes[..]).expect("parsable segment out");
            let r = TcpRepr::parse(
                &p,
                &IpAddress::Ipv4(US),
                &IpAddress::Ipv4(PEER),
                &ChecksumCapabilities::ignored(),
            )
            .expect("well-formed segment out");
            assert!(
                toe_fuzz::tcp_ok(US.octets(), PEER.octets(), &bytes),
                "bad checksum out"
            );
            let Some(i) = self
                .tracks
                .iter()
                .position(|t| t.pport == r.dst_port && t.h.is_some_and(|h| h.0 == r.src_port))
            else {
                continue; // an RST to a stray, a raw segment's answer
            };
            self.check_out(i, &r);
        }
    }

    fn check_out(&mut self, i: usize, r: &TcpRepr) {
        if trace() {
            eprintln!(
                "us>peer [{i}] {:?} seq {} ack {:?} win {} len {}",
                r.control,
                r.seq_number.0 as u32,
                r.ack_number.map(|a| a.0 as u32),
                r.window_len,
                r.payload.len()
            );
        }
        if r.control == TcpControl::Rst {
            return;
        }
        let seq = r.seq_number.0 as u32;
        let t = &mut self.tracks[i];
        if r.control == TcpControl::Syn {
            // Our SYN or SYN-ACK names our ISN.
            if t.iss != Some(seq) {
                t.iss = Some(seq);
                t.snd_max = 1;
                t.written.clear();
                t.last_ack = None;
                t.edge = None;
            }
            if let Some(a) = r.ack_number {
                // (A SYN cookie's SYN-ACK: no connection, yet the SYN is
                // acknowledged.)
                t.irs = Some((a.0 as u32).wrapping_sub(1));
                t.sent_rel = t.sent_rel.max(1);
            }
        }
        let Some(iss) = t.iss else { return };
        let rel = seq.wrapping_sub(iss);
        assert!((rel as i32) >= 0, "segment seq {seq} before our ISN {iss}");
        let data = r.payload.len() as u32;
        let syn = (r.control == TcpControl::Syn) as u32;
        if data > 0 {
            // The bytes are the application's, at their offsets.
            let off = (rel - syn).wrapping_sub(1) as usize;
            assert!(
                off + data as usize <= t.written.len(),
                "data at offset {off}+{data} beyond the {} bytes written",
                t.written.len()
            );
            assert!(
                r.payload == &t.written[off..off + data as usize],
                "data at offset {off} is not what the application wrote"
            );
            // Within the peer's window (a probe may take one byte more).
            let end = rel + syn + data;
            if let Some(edge) = t.edge {
                let probe_ok = data == 1 && end == edge.wrapping_add(1);
                assert!(
                    end <= edge || probe_ok || (rel as i32) < 0,
                    "segment [{rel}, {end}) beyond the peer's right edge {edge} (relative to ISN)"
                );
            } else {
                panic!("data sent before the peer offered any window");
            }
        }
        let end = rel + syn + data + (r.control == TcpControl::Fin) as u32;
        if end > t.snd_max && (end as i32) >= 0 {
            t.snd_max = end;
        }
        if let Some(a) = r.ack_number {
            let a = a.0 as u32;
            if let Some(last) = t.last_ack {
                assert!(
                    (a.wrapping_sub(last) as i32) >= 0,
                    "acknowledgement number went back from {last} to {a}"
                );
            }
            t.last_ack = Some(a);
            if let Some(irs) = t.irs {
                // Never beyond what the peer sent (its SYN and FIN included).
                let acked = a.wrapping_sub(irs);
                let sent = t.sent_rel;
                assert!(
                    acked <= sent,
                    "acknowledged {acked} bytes of sequence space, the peer sent {sent}"
                );
            }
        }
    }

    fn app_write(&mut self, i: usize, n: usize) {
        let Some(h) = self.tracks[i].h else { return };
        let t = &self.tracks[i];
        let from = t.written.len();
        let data: Vec<u8> = (0..n)
            .map(|k| pattern(0xABCD ^ t.pport as u32, (from + k) as u64))
            .collect();
        if let Some(c) = self.stack.conn(h) {
            let took = c.write(&data);
            assert!(took <= n);
            self.tracks[i].written.extend_from_slice(&data[..took]);
            assert!(self.tracks[i].written.len() <= 1 << 24);
        }
    }

    fn app_read(&mut self, i: usize) {
        let Some(h) = self.tracks[i].h else { return };
        let Some(c) = self.stack.conn(h) else { return };
        assert!(
            c.readable() <= RECV_BUF,
            "{} bytes readable, buffer {RECV_BUF}",
            c.readable()
        );
        let mut buf = vec![0u8; 3000];
        let n = c.read(&mut buf);
        let t = &mut self.tracks[i];
        if n == 0 {
            return;
        }
        let irs = t
            .irs
            .expect("data read from a connection whose peer ISN is unknown");
        for (k, &b) in buf[..n].iter().enumerate() {
            let seq = irs
                .wrapping_add(1)
                .wrapping_add(t.read)
                .wrapping_add(k as u32);
            assert_eq!(
                b,
                pattern(stream_of(t.pport), seq as u64),
                "byte {} of the peer's stream read wrong (not once, in order)",
                t.read as usize + k
            );
        }
        t.read += n as u32;
    }

    fn accept_all(&mut self) {
        while let Some(h) = self.stack.accept(LISTEN) {
            // Passive connections are tracked already (by their peer port).
            if !self.tracks.iter().any(|t| t.h == Some(h)) {
                let i = self.add_track(Some(h), h.2);
                self.tracks[i].h = Some(h);
            }
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.stack.on_timer(self.now);
    }

    /// A well-behaved peer segment: the next sequence number, everything
    /// we sent acknowledged, a large window.
    fn peer_ok(&mut self, i: usize, ctl: TcpControl, len: usize) {
        let t = &self.tracks[i];
        let ack = t.iss.map(|s| s.wrapping_add(t.snd_max));
        let seq = t.peer_nxt;
        let opts = Opts {
            ts: true,
            ..Opts::default()
        };
        self.peer_send(i, ctl, seq, ack, 65535, opts, [None; 3], len, None);
        self.drain();
    }
}

fn syn_opts(inp: &mut Input) -> Opts {
    let b = inp.u8();
    Opts {
        mss: (b & 1 != 0).then(|| if b & 0x80 != 0 { inp.u16() } else { 1460 }),
        ws: (b & 2 != 0).then(|| inp.u8() % 16),
        sack_perm: b & 4 != 0,
        ts: b & 8 != 0,
    }
}

fn config() -> Config {
    Config {
        recv_buffer: RECV_BUF,
        send_buffer: SEND_BUF,
        ..Config::default()
    }
}

/// Pre-placement: a connection in the state `which` names (0: none).
fn preplace(run: &mut Run, which: u8, inp: &mut Input) {
    let full = Opts {
        mss: Some(1460),
        ws: Some(7),
        sack_perm: true,
        ts: true,
    };
    let pport = 40000;
    let i = run.add_track(Some((LISTEN, PEER, pport)), pport);
    let isn = inp.u32();
    run.tracks[i].peer_nxt = isn;
    let passive_syn = |run: &mut Run| {
        run.peer_send(
            i,
            TcpControl::Syn,
            isn,
            None,
            64240,
            full,
            [None; 3],
            0,
            None,
        );
        run.tracks[i].peer_nxt = isn.wrapping_add(1);
        run.drain();
    };
    let expect = |run: &Run, s: State| {
        assert_eq!(
            run.state(i),
            Some(s),
            "pre-placement {which} did not reach {s:?}"
        );
    };
    match which {
        0 => {}
        1 => {
            passive_syn(run);
            expect(run, State::SynReceived);
        }
        2..=7 => {
            passive_syn(run);
            run.peer_ok(i, TcpControl::None, 0);
            run.accept_all();
            expect(run, State::Established);
            match which {
                3 => {
                    // FIN-WAIT-1: we close.
                    run.stack.conn(run.tracks[i].h.unwrap()).unwrap().close();
                    run.drain();
                    expect(run, State::FinWait1);
                }
                4 => {
                    run.stack.conn(run.tracks[i].h.unwrap()).unwrap().close();
                    run.drain();
                    run.peer_ok(i, TcpControl::None, 0);
                    expect(run, State::FinWait2);
                }
                5 => {
                    run.stack.conn(run.tracks[i].h.unwrap()).unwrap().close();
                    run.drain();
                    run.peer_ok(i, TcpControl::None, 0);
                    run.peer_ok(i, TcpControl::Fin, 0);
                    expect(run, State::TimeWait);
                }
                6 => {
                    run.peer_ok(i, TcpControl::Fin, 0);
                    expect(run, State::CloseWait);
                    run.stack.conn(run.tracks[i].h.unwrap()).unwrap().close();
                    run.drain();
                    expect(run, State::LastAck);
                }
                7 => {
                    // CLOSING: both FINs cross.
                    run.stack.conn(run.tracks[i].h.unwrap()).unwrap().close();
                    run.drain();
                    let t = &run.tracks[i];
                    let (seq, ack) = (t.peer_nxt, t.iss.map(|s| s.wrapping_add(t.snd_max - 1)));
                    run.peer_send(
                        i,
                        TcpControl::Fin,
                        seq,
                        ack,
                        65535,
                        Opts {
                            ts: true,
                            ..Opts::default()
                        },
                        [None; 3],
                        0,
                        None,
                    );
                    run.drain();
                    expect(run, State::Closing);
                }
                _ => {}
            }
        }
        8 => {
            // ESTABLISHED from the NIC's handshake report.
            let cookie = inp.u32();
            let nic = NicEstablished {
                peer_mss: 1460,
                peer_wscale: Some(7),
                sack: true,
                ts: Some((5, 9)),
            };
            run.tracks[i].scale = 7;
            let seq = isn.wrapping_add(1);
            run.peer_send(
                i,
                TcpControl::None,
                seq,
                Some(cookie.wrapping_add(1)),
                502,
                full_ts(),
                [None; 3],
                0,
                Some(nic),
            );
            run.drain();
            run.accept_all();
            expect(run, State::Established);
        }
        9 | 10 => {
            // Active open: SYN-SENT, then ESTABLISHED.
            run.tracks.pop();
            let h = run.stack.connect((PEER, REMOTE), run.now).expect("connect");
            let i = run.add_track(Some(h), REMOTE);
            run.tracks[i].peer_nxt = isn;
            run.drain();
            assert_eq!(run.state(i), Some(State::SynSent));
            if which == 10 {
                let ack = run.tracks[i].iss.map(|s| s.wrapping_add(1));
                run.peer_send(
                    i,
                    TcpControl::Syn,
                    isn,
                    ack,
                    64240,
                    full,
                    [None; 3],
                    0,
                    None,
                );
                run.tracks[i].peer_nxt = isn.wrapping_add(1);
                run.drain();
                assert_eq!(run.state(i), Some(State::Established));
            }
        }
        _ => {}
    }
}

fn full_ts() -> Opts {
    Opts {
        ts: true,
        ..Opts::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let which = inp.u8() % 11;
    let mut run = Run {
        stack: TcpStack::new(US, config(), IsnGenerator::new([9; 16]), MAX_CONNS),
        now: Duration::from_secs(64 * 16),
        tracks: Vec::new(),
    };
    run.stack.listen(LISTEN, 4);
    preplace(&mut run, which, &mut inp);
    let mut ops = 0;
    while !inp.is_empty() && ops < 128 {
        ops += 1;
        if run.tracks.is_empty() {
            let i = run.add_track(None, 40001);
            let _ = i;
        }
        let i = inp.u8() as usize % run.tracks.len();
        match inp.u8() % 16 {
            // A peer segment with fuzzed fields.
            0..=5 => {
                let f = inp.u8();
                let ctl = match f & 7 {
                    0..=3 => TcpControl::None,
                    4 => TcpControl::Fin,
                    5 => TcpControl::Rst,
                    6 => TcpControl::Syn,
                    _ => TcpControl::Psh,
                };
                let t = &run.tracks[i];
                let seq = match inp.u8() % 8 {
                    0 => inp.u32(),
                    1 => t.peer_nxt.wrapping_sub(1 + inp.u8() as u32),
                    2 => t.peer_nxt.wrapping_add(inp.u16() as u32),
                    3 => t.peer_nxt.wrapping_add(inp.u32() % 70000),
                    _ => t.peer_nxt,
                };
                let base = t.iss.map_or(0, |s| s.wrapping_add(t.snd_max));
                let ack = if f & 8 != 0 {
                    None
                } else {
                    Some(match inp.u8() % 6 {
                        0 => inp.u32(),
                        1 => base.wrapping_sub(inp.u16() as u32),
                        2 => base.wrapping_add(inp.u8() as u32),
                        _ => base,
                    })
                };
                let window = if f & 0x10 != 0 { inp.u16() } else { 65535 };
                let opts = if ctl == TcpControl::Syn {
                    syn_opts(&mut inp)
                } else {
                    Opts {
                        ts: f & 0x20 != 0,
                        ..Opts::default()
                    }
                };
                let mut sack = [None; 3];
                // (Not on a SYN: its options and three blocks overflow the
                // 60-byte header.)
                if f & 0x40 != 0 && ctl != TcpControl::Syn {
                    for s in sack.iter_mut().take(1 + inp.u8() as usize % 3) {
                        let l = base.wrapping_sub(inp.u16() as u32);
                        *s = Some((l, l.wrapping_add(inp.u16() as u32)));
                    }
                }
                let len = if f & 0x80 != 0 {
                    inp.u16() as usize % 3000
                } else {
                    0
                };
                run.peer_send(i, ctl, seq, ack, window, opts, sack, len, None);
                run.drain();
            }
            // Well-behaved progress: data, an ACK of everything, a FIN.
            6 => {
                let len = inp.u16() as usize % 1500;
                run.peer_ok(i, TcpControl::None, len);
            }
            7 => run.peer_ok(i, TcpControl::Fin, 0),
            // A NIC report for this tuple.
            8 => {
                let t = &run.tracks[i];
                let seq = match inp.u8() % 2 {
                    0 => t.peer_nxt,
                    _ => inp.u32(),
                };
                let ack = inp.u32();
                let nic = NicEstablished {
                    peer_mss: inp.u16(),
                    peer_wscale: inp.bool().then(|| inp.u8() % 16),
                    sack: inp.bool(),
                    ts: inp.bool().then(|| (inp.u32(), inp.u32())),
                };
                let len = inp.u8() as usize * 4;
                let ctl = if inp.u8() % 8 == 0 {
                    TcpControl::Fin
                } else {
                    TcpControl::None
                };
                run.peer_send(
                    i,
                    ctl,
                    seq,
                    Some(ack),
                    inp.u16(),
                    full_ts(),
                    [None; 3],
                    len,
                    Some(nic),
                );
                run.drain();
            }
            // Application calls.
            9 => {
                let n = inp.u16() as usize % 20000;
                run.app_write(i, n);
                run.drain();
            }
            10 => {
                run.app_read(i);
                run.drain();
            }
            11 => {
                if let Some(h) = run.tracks[i].h {
                    if let Some(c) = run.stack.conn(h) {
                        if inp.bool() {
                            c.close();
                        } else {
                            run.stack.abort(h);
                        }
                    }
                }
                run.drain();
            }
            // Time passes.
            12 => {
                let d = match inp.u8() % 4 {
                    0 => Duration::from_secs(inp.u8() as u64),
                    _ => Duration::from_millis(inp.u16() as u64 % 2000),
                };
                run.advance(d);
                run.drain();
            }
            // A new peer: a SYN from another port, or an active open.
            13 => {
                if run.tracks.len() < 6 {
                    if inp.bool() {
                        let pport = 41000 + run.tracks.len() as u16;
                        let j = run.add_track(Some((LISTEN, PEER, pport)), pport);
                        let isn = inp.u32();
                        run.tracks[j].peer_nxt = isn;
                        let o = syn_opts(&mut inp);
                        run.peer_send(
                            j,
                            TcpControl::Syn,
                            isn,
                            None,
                            inp.u16(),
                            o,
                            [None; 3],
                            0,
                            None,
                        );
                        run.tracks[j].peer_nxt = isn.wrapping_add(1);
                    } else if let Some(h) = run
                        .stack
                        .connect((PEER, REMOTE + run.tracks.len() as u16), run.now)
                    {
                        let j = run.add_track(Some(h), h.2);
                        run.tracks[j].peer_nxt = inp.u32();
                    }
                    run.drain();
                }
            }
            // Raw bytes from a port no track uses.
            14 => {
                let mut b = inp.frame(200).to_vec();
                if b.len() >= 4 {
                    b[0] = 0;
                    b[1] = 9;
                    b[2..4].copy_from_slice(&LISTEN.to_be_bytes());
                }
                run.stack.on_packet(PEER, US, &b, run.now);
                run.drain();
            }
            _ => {
                run.accept_all();
            }
        }
        run.stack.reap();
        assert!(
            run.stack.len() <= MAX_CONNS,
            "{} connections, limit {MAX_CONNS}",
            run.stack.len()
        );
        // A connection that is gone takes its incarnation with it.
        for t in run.tracks.iter_mut() {
            if let Some(h) = t.h {
                if run.stack.conn_ref(h).is_none() && (t.iss.is_some() || t.irs.is_some()) {
                    let (pport, nxt, ts) = (t.pport, t.peer_nxt, t.peer_ts);
                    *t = Track {
                        h: Some(h),
                        pport,
                        peer_nxt: nxt,
                        peer_ts: ts,
                        ..Track::default()
                    };
                }
            }
        }
    }
});
