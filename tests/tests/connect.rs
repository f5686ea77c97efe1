//! Active open by the NIC on the Verilated chip, against the reference
//! model (`toe_model::connect`): the SYN and the handshake ACK byte for
//! byte, "connected"/"refused" completions field for field, the backoff
//! schedule and the timeout, and the frames a pending open must ignore.
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use toe_contract::desc::KIND_RX;
use toe_contract::regs::{self as r, Counter};
use toe_contract::setup::{
    connect_give_up_ticks, connect_slot, ConnectRequest, CtlRecord, KIND_CONNECTED,
    KIND_CONNECT_REFUSED, TCP_SYN,
};
use toe_model::connect::record_frame;
use toe_model::gen::{self, TcpOpt, TcpSpec};
use toe_sim::harness::HarnessConfig;
use toe_tests::chip_rig::Chip;

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
            let cpl = c.completion(sa).expect("SYN-ACK delivered");
            assert_eq!(cpl.kind, KIND_CONNECTED, "options {opts:?}");
            assert_eq!(c.pending(), 0);
            // A retransmitted SYN-ACK is an ordinary segment now.
            let again = answer(
                &req,
                gen::SYN | gen::ACK,
                req.syn.seq.wrapping_add(1),
                &opts,
            );
            assert_eq!(c.completion(again).expect("delivered").kind, KIND_RX);
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
        let cpl = c.completion(f).expect("delivered");
        assert_eq!(cpl.kind, KIND_RX);
        assert_eq!(c.pending(), 1 << connect_slot(50003));
    }
    // A bad checksum is never an answer.
    let mut bad = answer(&req, sa, isn1, &[]);
    let n = bad.len();
    bad[n - 1] ^= 0xFF;
    bad[50] ^= 0x01;
    let cpl = c.completion(bad).expect("delivered");
    assert_eq!(cpl.kind, KIND_RX);
    // The refusal.
    let cpl = c
        .completion(answer(&req, gen::RST | gen::ACK, isn1, &[]))
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
    assert_eq!(c.completion(sa).unwrap().kind, KIND_RX);
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
    assert_eq!(c.completion(sa).unwrap().kind, KIND_CONNECTED);
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
    assert_eq!(c.completion(sa).unwrap().kind, KIND_RX);
    // Restarting a slot with another request replaces it.
    let r2 = request(40002, 81, 500, true);
    c.start(&r2);
    assert_eq!(c.sent(1)[0], record_frame(&r2.syn));
    c.count(Counter::ConnectSyn, 1);
    let sa = answer(&r2, gen::SYN | gen::ACK, 501, &synack_opts()[2]);
    assert_eq!(c.completion(sa).unwrap().kind, KIND_CONNECTED);
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
                c.completion(f);
            }
            let opts = synack_opts();
            let o = &opts[rng.gen_range(0..opts.len())];
            let kind = if rng.gen_bool(0.2) {
                c.completion(answer(
                    q,
                    gen::RST | gen::ACK,
                    q.syn.seq.wrapping_add(1),
                    &[],
                ))
                .unwrap()
                .kind
            } else {
                c.completion(answer(q, gen::SYN | gen::ACK, q.syn.seq.wrapping_add(1), o))
                    .unwrap()
                    .kind
            };
            assert!(kind == KIND_CONNECTED || kind == KIND_CONNECT_REFUSED);
        }
        assert_eq!(c.pending(), 0);
    }
    c.check_counters();
}
