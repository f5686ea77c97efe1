//! Active open by the NIC on the Verilated chip, against the reference
//! model (`toe_model::connect`): the SYN and the handshake ACK byte for
//! byte, "connected"/"refused" completions field for field, the backoff
//! schedule and the timeout, and the frames a pending open must ignore.
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use toe_contract::desc::{Completion, KIND_RX};
use toe_contract::regs::{self as r, Counter};
use toe_contract::setup::{
    connect_give_up_ticks, connect_slot, ConnectRequest, CtlRecord, KIND_CONNECTED,
    KIND_CONNECT_REFUSED, TCP_SYN,
};
use toe_model::connect::{record_frame, ConnectAction};
use toe_model::gen::{self, TcpOpt, TcpSpec};
use toe_model::nic::{self, NicConfig, RxVerdict};
use toe_sim::harness::{Harness, HarnessConfig};
use toe_tests::host::Host;

const US: [u8; 4] = [10, 0, 0, 1];
const PEER: [u8; 4] = [10, 0, 0, 2];
const OUR_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

fn seed() -> u64 {
    toe_tests::seed(0xc0ec7)
}

/// A SYN as the host library would offer it.
fn request(local_port: u16, peer_port: u16, isn: u32, full: bool) -> ConnectRequest {
    ConnectRequest {
        syn: CtlRecord {
            dst_mac: PEER_MAC,
            src_mac: OUR_MAC,
            src: (US, local_port),
            dst: (PEER, peer_port),
            seq: isn,
            ack: 0,
            flags: TCP_SYN,
            window: 65535,
            mss: Some(1460),
            wscale: full.then_some(7),
            sack_permitted: full,
            ts: full.then_some((0x0102_0304, 0)),
        },
        ack_window: 2048,
    }
}

struct Chip {
    h: Harness,
    host: Host,
    cfg: NicConfig,
    want: HashMap<u32, u64>,
}

impl Chip {
    fn new() -> Chip {
        Chip::with(HarnessConfig::default())
    }

    fn with(hc: HarnessConfig) -> Chip {
        let mut h = Harness::new(hc);
        let mut host = Host::new(&mut h, 6, 9216);
        host.post_rx(&mut h, 0, 32);
        Chip {
            h,
            host,
            cfg: NicConfig::all_queues_enabled(),
            want: HashMap::new(),
        }
    }

    fn count(&mut self, c: Counter, n: u64) {
        *self.want.entry(c as u32).or_default() += n;
    }

    /// Stages and starts a request (as `toe_driver` does).
    fn start(&mut self, req: &ConnectRequest) {
        let b = r::SETUP_BASE;
        for (i, w) in req.syn.words().into_iter().enumerate() {
            self.h.reg_write(b + r::SETUP_CONN_REC + 4 * i as u32, w);
        }
        self.h
            .reg_write(b + r::SETUP_CONN_ACK_WIN, req.ack_window as u32);
        self.h
            .reg_write(b + r::SETUP_CONN_CMD, r::CONN_CMD_START | req.slot() as u32);
        self.cfg.setup.connect[req.slot()] = Some(*req);
    }

    fn abort(&mut self, slot: usize) {
        self.h.reg_write(
            r::SETUP_BASE + r::SETUP_CONN_CMD,
            r::CONN_CMD_ABORT | slot as u32,
        );
        self.cfg.setup.connect[slot] = None;
    }

    fn pending(&mut self) -> u32 {
        self.h.reg_read(r::SETUP_BASE + r::SETUP_CONN_PENDING)
    }

    fn timed_out(&mut self) -> u32 {
        self.h.reg_read(r::SETUP_BASE + r::SETUP_CONN_TIMEDOUT)
    }

    fn model_pending(&self) -> u32 {
        (0..16).fold(0, |m, i| {
            m | (self.cfg.setup.connect[i].is_some() as u32) << i
        })
    }

    /// Waits for `n` frames on the MAC and returns them.
    fn sent(&mut self, n: usize) -> Vec<Vec<u8>> {
        self.h
            .run_until(20_000, |h| h.mac_tx.frames.len() >= n)
            .expect("frames not sent");
        self.h.run(200);
        let v: Vec<_> = self.h.mac_tx.frames.drain(..).map(|f| f.data).collect();
        assert_eq!(v.len(), n, "more frames sent than expected");
        v
    }

    /// Sends one frame from the peer; checks the delivery and the ACK the
    /// NIC sends (if any) against the model; returns the completion.
    fn exchange(&mut self, frame: Vec<u8>) -> Option<Completion> {
        let v = nic::predict_rx(&self.cfg, &frame, false);
        let act = nic::predict_connect(&self.cfg, &frame);
        self.count(Counter::RxFrames, 1);
        for c in v.counters() {
            self.count(*c, 1);
        }
        let want_ack = match &act {
            ConnectAction::Connected { slot, ack } => {
                self.cfg.setup.connect[*slot] = None;
                Some(ack.clone())
            }
            ConnectAction::Refused { slot } => {
                self.cfg.setup.connect[*slot] = None;
                None
            }
            ConnectAction::None => None,
        };
        self.h.mac_rx.push_bytes(frame.clone());
        let want_rx = matches!(v, RxVerdict::Deliver { .. });
        let (host, h) = (&mut self.host, &mut self.h);
        let mut got = None;
        h.run_until(20_000, |h| {
            if got.is_none() {
                got = host.poll_rx(h, 0);
            }
            h.mac_rx.is_idle()
                && (got.is_some() || !want_rx)
                && (want_ack.is_none() || !h.mac_tx.frames.is_empty())
        })
        .expect("the frame's outcome did not appear");
        h.run(300);
        let ack = h.mac_tx.pop().map(|f| f.data);
        assert!(h.mac_tx.pop().is_none(), "more than one frame sent");
        assert_eq!(ack, want_ack, "handshake ACK differs from the model's");
        let out = match (&v, got) {
            (RxVerdict::Deliver { cpl, .. }, Some((c, data))) => {
                assert_eq!(data, frame, "delivered bytes differ");
                let mut e = *cpl;
                e.index = c.index;
                e.phase = c.phase;
                assert_eq!(c, e, "completion differs from the model's");
                host.post_rx(h, 0, 1);
                Some(c)
            }
            (RxVerdict::Drop { .. }, None) => None,
            (v, g) => panic!("model {v:?}, chip {g:?}"),
        };
        let want = self.model_pending();
        assert_eq!(self.pending(), want, "pending slots");
        out
    }

    fn check_counters(&mut self) {
        toe_tests::check_counters(&mut self.h, &self.want);
    }
}

/// The peer's answer to a SYN: flags, ack and options.
fn answer(req: &ConnectRequest, flags: u8, ack: u32, opts: &[TcpOpt]) -> Vec<u8> {
    let s = &req.syn;
    let mut t = TcpSpec {
        src_port: s.dst.1,
        dst_port: s.src.1,
        seq: 0x7000_0000,
        ack,
        flags,
        window: 29200,
        options: gen::options_bytes(opts),
        ..TcpSpec::default()
    };
    t.ip.src = s.dst.0;
    t.ip.dst = s.src.0;
    t.ip.src_mac = s.dst_mac;
    t.ip.dst_mac = s.src_mac;
    gen::tcp_frame(&t)
}

fn synack_opts() -> Vec<Vec<TcpOpt>> {
    use TcpOpt::*;
    let ts = Timestamps {
        tsval: 0x5555_0001,
        tsecr: 0x0102_0304,
    };
    vec![
        vec![],
        vec![Mss(1460)],
        vec![Mss(1460), SackPermitted, ts.clone(), Nop, WindowScale(9)],
        vec![Mss(1400), Nop, Nop, ts.clone()],
        vec![Nop, WindowScale(2), Mss(536)],
        vec![ts, Mss(8960), SackPermitted, Nop, Nop],
    ]
}

#[test]
fn connect_registers_reset_and_read_back() {
    let mut c = Chip::new();
    let b = r::SETUP_BASE;
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_RTO), 1000);
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_RETRIES), 6);
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_SLOTS), 16);
    assert_eq!(c.pending(), 0);
    assert_eq!(c.timed_out(), 0);
    c.h.reg_write(b + r::SETUP_CONN_RTO, 0);
    assert_eq!(
        c.h.reg_read(b + r::SETUP_CONN_RTO),
        1,
        "RTO 0 would never back off"
    );
    c.h.reg_write(b + r::SETUP_CONN_RTO, 250);
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_RTO), 250);
    c.h.reg_write(b + r::SETUP_CONN_RETRIES, 99);
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_RETRIES), r::CONN_MAX_RETRIES);
    c.h.reg_write(b + r::SETUP_CONN_ACK_WIN, 0x1_2345);
    assert_eq!(c.h.reg_read(b + r::SETUP_CONN_ACK_WIN), 0x2345);
    // Nothing is sent without a start.
    c.h.run(2000);
    assert!(c.h.mac_tx.frames.is_empty());
}

#[test]
fn syn_then_synack_completes_with_the_nics_ack() {
    let mut c = Chip::new();
    let mut port = 40000u16;
    for full in [true, false] {
        for opts in synack_opts() {
            port += 1;
            let req = request(port, 80, 0xFFFF_FFF0u32.wrapping_add(port as u32), full);
            c.start(&req);
            let syn = c.sent(1);
            assert_eq!(
                syn[0],
                record_frame(&req.syn),
                "SYN differs from the model's"
            );
            c.count(Counter::ConnectSyn, 1);
            assert_eq!(c.pending(), 1 << connect_slot(port));
            let sa = answer(
                &req,
                gen::SYN | gen::ACK,
                req.syn.seq.wrapping_add(1),
                &opts,
            );
            let cpl = c.exchange(sa).expect("SYN-ACK delivered");
            assert_eq!(cpl.kind, KIND_CONNECTED, "options {opts:?}");
            assert_eq!(c.pending(), 0);
            // A retransmitted SYN-ACK is an ordinary segment now.
            let again = answer(
                &req,
                gen::SYN | gen::ACK,
                req.syn.seq.wrapping_add(1),
                &opts,
            );
            assert_eq!(c.exchange(again).expect("delivered").kind, KIND_RX);
        }
    }
    c.check_counters();
}

#[test]
fn rst_refuses_and_other_frames_leave_the_open_pending() {
    let mut c = Chip::new();
    let req = request(50003, 443, 0x1000, true);
    c.start(&req);
    c.sent(1);
    c.count(Counter::ConnectSyn, 1);
    let isn1 = req.syn.seq.wrapping_add(1);
    let sa = gen::SYN | gen::ACK;
    // Frames that are not the answer: wrong ack, wrong peer port, wrong
    // local address, an RST without ACK, a bare ACK, a SYN, data.
    let mut wrong_port = request(50003, 444, 0x1000, true);
    wrong_port.syn.src = req.syn.src;
    let mut wrong_ip = req;
    wrong_ip.syn.src.0 = [10, 0, 0, 9];
    for f in [
        answer(&req, sa, isn1.wrapping_add(1), &[]),
        answer(&req, sa, req.syn.seq, &[]),
        answer(&wrong_port, sa, isn1, &[]),
        answer(&wrong_ip, sa, isn1, &[]),
        answer(&req, gen::RST, isn1, &[]),
        answer(&req, gen::RST | gen::ACK, isn1.wrapping_add(7), &[]),
        answer(&req, gen::ACK, isn1, &[]),
        answer(&req, gen::SYN, 0, &[]),
        answer(&req, sa | gen::FIN, isn1, &[]),
        answer(&req, sa | gen::RST, isn1, &[]),
    ] {
        let cpl = c.exchange(f).expect("delivered");
        assert_eq!(cpl.kind, KIND_RX);
        assert_eq!(c.pending(), 1 << connect_slot(50003));
    }
    // A bad checksum is never an answer.
    let mut bad = answer(&req, sa, isn1, &[]);
    let n = bad.len();
    bad[n - 1] ^= 0xFF;
    bad[50] ^= 0x01;
    let cpl = c.exchange(bad).expect("delivered");
    assert_eq!(cpl.kind, KIND_RX);
    // The refusal.
    let cpl = c
        .exchange(answer(&req, gen::RST | gen::ACK, isn1, &[]))
        .unwrap();
    assert_eq!(cpl.kind, KIND_CONNECT_REFUSED);
    assert_eq!(c.pending(), 0);
    c.check_counters();
}

#[test]
fn syn_retransmits_with_backoff_then_times_out() {
    let mut c = Chip::new();
    let b = r::SETUP_BASE;
    let period = 40u32; // cycles per tick
    let (rto, retries) = (5u32, 3u32);
    c.h.reg_write(b + r::SETUP_TS_PERIOD, period);
    c.h.reg_write(b + r::SETUP_CONN_RTO, rto);
    c.h.reg_write(b + r::SETUP_CONN_RETRIES, retries);
    let req = request(40007, 80, 77, true);
    c.start(&req);
    let t0 = c.h.cycle();
    let give_up = connect_give_up_ticks(rto, retries) * period as u64;
    let mut syns = vec![];
    loop {
        c.h.run(8);
        while let Some(f) = c.h.mac_tx.pop() {
            syns.push((f.start_cycle, f.data));
        }
        if c.timed_out() != 0 {
            break;
        }
        assert!(
            c.h.cycle() - t0 < give_up + 20_000,
            "the open never timed out"
        );
    }
    let t_end = c.h.cycle();
    assert_eq!(syns.len() as u32, 1 + retries, "SYNs sent");
    for (_, f) in &syns {
        assert_eq!(f, &record_frame(&req.syn), "a retransmitted SYN differs");
    }
    // Each wait is measured from the previous send (deadline = clock at
    // the send + rto << n): between one tick short (the clock may tick
    // just after the send) and the full wait plus the sweep (16 cycles)
    // and the TX pipeline.
    let p = period as u64;
    assert!(
        syns[0].0 - t0 < 100,
        "first SYN after {} cycles",
        syns[0].0 - t0
    );
    let mut prev = syns[0].0;
    for (i, (at, _)) in syns.iter().enumerate().skip(1) {
        let wait = ((rto as u64) << (i - 1)) * p;
        let d = at - prev;
        assert!(
            d + p >= wait && d <= wait + 60,
            "SYN {i} after {d} cycles, want about {wait}"
        );
        prev = *at;
    }
    let wait = ((rto as u64) << retries) * p;
    let d = t_end - prev;
    assert!(
        d + p >= wait && d <= wait + 300,
        "gave up {d} cycles after the last SYN, want about {wait}"
    );
    assert!(t_end - t0 + p * (retries as u64 + 1) + 300 >= give_up);
    assert_eq!(c.timed_out(), 1 << connect_slot(40007));
    assert_eq!(c.pending(), 0);
    c.cfg.setup.connect[connect_slot(40007)] = None;
    c.count(Counter::ConnectSyn, 1 + retries as u64);
    c.count(Counter::ConnectTimeout, 1);
    // A late SYN-ACK is an ordinary segment; a new start clears the bit.
    let sa = answer(&req, gen::SYN | gen::ACK, 78, &[]);
    assert_eq!(c.exchange(sa).unwrap().kind, KIND_RX);
    c.h.reg_write(b + r::SETUP_CONN_RTO, 1000);
    c.start(&req);
    c.sent(1);
    c.count(Counter::ConnectSyn, 1);
    assert_eq!(c.timed_out(), 0);
    c.check_counters();
}

#[test]
fn a_lost_syn_is_retransmitted_and_the_open_completes() {
    let mut c = Chip::new();
    let b = r::SETUP_BASE;
    c.h.reg_write(b + r::SETUP_TS_PERIOD, 200);
    c.h.reg_write(b + r::SETUP_CONN_RTO, 4);
    let req = request(40123, 8080, 0xDEAD_BEEF, true);
    c.start(&req);
    // The first SYN is lost on the wire; the second one is answered.
    let lost = c.sent(1);
    let again = c.sent(1);
    assert_eq!(lost, again);
    c.count(Counter::ConnectSyn, 2);
    let opts = &synack_opts()[2];
    let sa = answer(&req, gen::SYN | gen::ACK, 0xDEAD_BEF0, opts);
    assert_eq!(c.exchange(sa).unwrap().kind, KIND_CONNECTED);
    // No further SYN once connected.
    c.h.run(4 * 200 * 4);
    assert!(
        c.h.mac_tx.frames.is_empty(),
        "SYN sent after the open completed"
    );
    c.check_counters();
}

#[test]
fn abort_forgets_the_open() {
    let mut c = Chip::new();
    let req = request(40002, 80, 5, false);
    c.start(&req);
    c.sent(1);
    c.count(Counter::ConnectSyn, 1);
    c.abort(req.slot());
    assert_eq!(c.pending(), 0);
    let sa = answer(&req, gen::SYN | gen::ACK, 6, &[]);
    assert_eq!(c.exchange(sa).unwrap().kind, KIND_RX);
    // Restarting a slot with another request replaces it.
    let r2 = request(40002, 81, 500, true);
    c.start(&r2);
    assert_eq!(c.sent(1)[0], record_frame(&r2.syn));
    c.count(Counter::ConnectSyn, 1);
    let sa = answer(&r2, gen::SYN | gen::ACK, 501, &synack_opts()[2]);
    assert_eq!(c.exchange(sa).unwrap().kind, KIND_CONNECTED);
    c.check_counters();
}

/// Every slot at once, answered in random order, interleaved with the
/// wrong answers and unrelated traffic, with MAC backpressure.
#[test]
fn sixteen_opens_at_once_in_random_order() {
    let s = seed();
    let mut rng = StdRng::seed_from_u64(s);
    let mut c = Chip::with(HarnessConfig {
        seed: s,
        tx_backpressure: 0.5,
        ..HarnessConfig::default()
    });
    for round in 0..3u32 {
        let reqs: Vec<ConnectRequest> = (0..16u16)
            .map(|i| {
                request(
                    49152 + 16 * (round as u16 + 1) * 7 + i,
                    rng.gen_range(1..1024),
                    rng.gen(),
                    rng.gen(),
                )
            })
            .collect();
        let mut slots: Vec<usize> = reqs.iter().map(|q| q.slot()).collect();
        slots.sort();
        slots.dedup();
        assert_eq!(slots.len(), 16);
        for q in &reqs {
            c.start(q);
        }
        let mut syns = c.sent(16);
        let mut want: Vec<_> = reqs.iter().map(|q| record_frame(&q.syn)).collect();
        syns.sort();
        want.sort();
        assert_eq!(syns, want, "the 16 SYNs");
        c.count(Counter::ConnectSyn, 16);
        let mut order = reqs.clone();
        order.shuffle(&mut rng);
        for q in &order {
            if rng.gen_bool(0.3) {
                let f = answer(q, gen::SYN | gen::ACK, q.syn.seq.wrapping_add(2), &[]);
                c.exchange(f);
            }
            let opts = synack_opts();
            let o = &opts[rng.gen_range(0..opts.len())];
            let kind = if rng.gen_bool(0.2) {
                c.exchange(answer(
                    q,
                    gen::RST | gen::ACK,
                    q.syn.seq.wrapping_add(1),
                    &[],
                ))
                .unwrap()
                .kind
            } else {
                c.exchange(answer(q, gen::SYN | gen::ACK, q.syn.seq.wrapping_add(1), o))
                    .unwrap()
                    .kind
            };
            assert!(kind == KIND_CONNECTED || kind == KIND_CONNECT_REFUSED);
        }
        assert_eq!(c.pending(), 0);
    }
    c.check_counters();
}
