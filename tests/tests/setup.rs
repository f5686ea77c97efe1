//! Connection-setup offload on the Verilated chip, against the reference
//! model (`toe_model::setup`, `toe_model::cookie`): SYN-ACKs byte for byte,
//! "established" completions field for field, counters, and the cases the
//! offload must refuse.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use toe_contract::regs::{self as r, Counter};
use toe_contract::setup::KIND_ESTABLISHED;
use toe_model::cookie::SetupConfig;
use toe_model::gen::{self, TcpOpt, TcpSpec};
use toe_model::nic;
use toe_model::setup::{Listener, SetupState};
use toe_sim::harness::{Harness, HarnessConfig};
use toe_tests::chip_rig::Chip;
use toe_tests::counter;

const SERVER: [u8; 4] = [10, 0, 0, 1];

fn seed() -> u64 {
    toe_tests::seed(0x5e7)
}

/// Listener 0: 10.0.0.1:80 offloaded; 1: any:8080 offloaded; 2: any:22
/// not offloaded; 3: 10.0.0.1:8080 not offloaded (exact beats any-IP).
fn state() -> SetupState {
    let mut s = SetupState {
        enabled: true,
        cfg: SetupConfig {
            keys: [Some(*b"0123456789abcdef"), None],
            ..SetupConfig::default()
        },
        cookie_t: 1000,
        ts_now: 0x1234_5600,
        // The generator's default destination MAC; 10.0.0.9 is the any-IP
        // listener's address in the tests.
        local_mac: [0x02, 0, 0, 0, 0, 0x01],
        local_ips: [SERVER, [10, 0, 0, 9], [0; 4], [0; 4]],
        ..SetupState::default()
    };
    s.listeners[0] = Some(Listener {
        ip: Some(SERVER),
        port: 80,
        offload: true,
    });
    s.listeners[1] = Some(Listener {
        ip: None,
        port: 8080,
        offload: true,
    });
    s.listeners[2] = Some(Listener {
        ip: None,
        port: 22,
        offload: false,
    });
    s.listeners[5] = Some(Listener {
        ip: Some(SERVER),
        port: 8080,
        offload: false,
    });
    s
}

fn syn(src_port: u16, dst_port: u16, isn: u32, opts: &[TcpOpt]) -> TcpSpec {
    let mut t = TcpSpec {
        src_port,
        dst_port,
        seq: isn,
        ack: 0,
        flags: gen::SYN,
        window: 64240,
        ..TcpSpec::default()
    };
    t.ip.dst = SERVER;
    t.options = gen::options_bytes(opts);
    t
}

/// The client's final ACK for a SYN-ACK frame, carrying `payload`.
fn final_ack(s: &TcpSpec, synack: &[u8], payload: &[u8]) -> TcpSpec {
    let p = toe_model::parse(synack, false, 9018);
    let t = p.tcp.unwrap();
    let mut a = s.clone();
    a.flags = gen::ACK | if payload.is_empty() { 0 } else { gen::PSH };
    a.seq = s.seq.wrapping_add(1);
    a.ack = t.seq.wrapping_add(1);
    a.window = 502;
    a.options = match t.opts.timestamps {
        Some((v, _)) => gen::options_bytes(&[
            TcpOpt::Nop,
            TcpOpt::Nop,
            TcpOpt::Timestamps {
                tsval: 4242,
                tsecr: v,
            },
        ]),
        None => vec![],
    };
    a.payload = payload.to_vec();
    a
}

fn option_sets() -> Vec<Vec<TcpOpt>> {
    use TcpOpt::*;
    let ts = Timestamps {
        tsval: 0xAABB_CCDD,
        tsecr: 0,
    };
    vec![
        vec![],
        vec![Mss(1460)],
        vec![Mss(1300), SackPermitted],
        vec![Mss(1460), SackPermitted, ts.clone(), Nop, WindowScale(7)],
        vec![Mss(9000), Nop, Nop, ts.clone(), Nop, WindowScale(14)],
        vec![Mss(1440), Nop, Nop, ts.clone()],
        vec![WindowScale(15), ts.clone(), SackPermitted, Mss(536)],
        vec![ts.clone()],
        vec![Mss(1200), WindowScale(2)],
        vec![SackPermitted, Nop, WindowScale(0), Nop, Nop, ts, Mss(0)],
    ]
}

#[test]
fn setup_block_is_discoverable_and_reads_back() {
    let mut c = Chip::new().listening(state());
    let h = &mut c.h;
    assert_eq!(h.reg_read(r::COUNTERS_BASE + r::BLK_NEXT), r::SETUP_BASE);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::BLK_TYPE), r::TYPE_SETUP);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::BLK_VERSION), r::VERSION_SETUP);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::BLK_NEXT), 0);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_LISTEN_COUNT), 64);
    for (i, l) in state().listeners.iter().enumerate().take(8) {
        h.reg_write(r::SETUP_BASE + r::SETUP_LISTEN_INDEX, i as u32);
        let (ip, w) = r::ListenEntry::words(*l);
        assert_eq!(
            h.reg_read(r::SETUP_BASE + r::SETUP_LISTEN_PORT),
            w,
            "entry {i}"
        );
        if w & r::LISTEN_ANY_IP == 0 {
            assert_eq!(
                h.reg_read(r::SETUP_BASE + r::SETUP_LISTEN_IP),
                ip,
                "entry {i}"
            );
        }
    }
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_OURS), 1460 | 7 << 16);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_MAX_AGE), 2);
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_COOKIE_T), 1000);
    // Key words are write-only.
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_KEY0), 0);
    // The timestamp clock ticks every TS_PERIOD cycles, the cookie clock
    // every COOKIE_PERIOD timestamp ticks.
    h.reg_write(r::SETUP_BASE + r::SETUP_TS_PERIOD, 10);
    h.reg_write(r::SETUP_BASE + r::SETUP_COOKIE_PERIOD, 10);
    h.run(1000);
    let t = h.reg_read(r::SETUP_BASE + r::SETUP_COOKIE_T);
    assert!((1009..=1011).contains(&t), "cookie clock {t}");
    // The local addresses read back.
    assert_eq!(h.reg_read(r::SETUP_BASE + r::SETUP_LOCAL_MAC_HI), 0x0200);
    assert_eq!(
        h.reg_read(r::SETUP_BASE + r::SETUP_LOCAL_MAC_LO),
        0x0000_0001
    );
    assert_eq!(
        h.reg_read(r::SETUP_BASE + r::SETUP_LOCAL_IP + 4),
        u32::from_be_bytes([10, 0, 0, 9])
    );
}

/// Out of reset, with nothing programmed, both clocks run (1 ms timestamp
/// ticks, 64 s cookie ticks) and a cookie lives one tick at most: a set-up
/// that forgets the clocks still gets expiring cookies.
#[test]
fn the_clocks_run_from_reset_so_cookies_expire_by_default() {
    let mut h = Harness::new(HarnessConfig::default());
    let b = r::SETUP_BASE;
    assert_eq!(h.reg_read(b + r::SETUP_TS_PERIOD), r::DEFAULT_TS_PERIOD);
    assert_eq!(
        h.reg_read(b + r::SETUP_COOKIE_PERIOD),
        r::DEFAULT_COOKIE_PERIOD
    );
    assert_eq!(h.reg_read(b + r::SETUP_MAX_AGE), r::DEFAULT_COOKIE_MAX_AGE);
    assert_eq!(r::DEFAULT_TS_PERIOD, 250_000, "1 ms at 250 MHz");
    assert_eq!(r::DEFAULT_COOKIE_PERIOD, 64_000, "64 s of 1 ms ticks");
    let ts0 = h.reg_read(b + r::SETUP_TS_NOW);
    h.run(2 * r::DEFAULT_TS_PERIOD as u64 + 10);
    let ts1 = h.reg_read(b + r::SETUP_TS_NOW);
    assert!(ts1 >= ts0 + 2, "timestamp clock {ts0} -> {ts1}");
}

/// The cookie clock at its default period and the default maximum age
/// (the timestamp clock sped up 62,500 times so that minutes pass in
/// simulation): a final ACK 60 s or 100 s after its SYN-ACK is a
/// connection, one 130 s after is not, and a captured final ACK replayed
/// 130 s later (after its connection was reset) re-creates nothing.
#[test]
fn late_and_replayed_final_acks_are_refused_with_the_default_cookie_clock() {
    const TS_PERIOD: u32 = 4; // cycles per "1 ms" tick
    let cycles = |secs: u64| secs * 1000 * TS_PERIOD as u64;
    let mut st = state();
    st.cookie_period = r::DEFAULT_COOKIE_PERIOD;
    st.cfg.max_age = r::DEFAULT_COOKIE_MAX_AGE;
    st.ts_period = TS_PERIOD;
    let mut c = Chip::new().listening(st);
    let o = vec![TcpOpt::Mss(1460)];
    for (i, secs, ok) in [(0u16, 60u64, true), (1, 100, true), (2, 130, false)] {
        // Writing the clock restarts its period: the SYN-ACK is made at
        // the start of a cookie tick.
        let t0 = 5000 + 10 * i as u32;
        c.h.reg_write(r::SETUP_BASE + r::SETUP_COOKIE_T, t0);
        c.cfg.setup.cookie_t = t0;
        let s = syn(46000 + i, 80, 77 + i as u32, &o);
        let sa = c.exchange(gen::tcp_frame(&s)).1.expect("SYN-ACK");
        c.h.run(cycles(secs));
        let t = c.h.reg_read(r::SETUP_BASE + r::SETUP_COOKIE_T);
        c.cfg.setup.cookie_t = t;
        let ack = gen::tcp_frame(&final_ack(&s, &sa, b"late"));
        let (rx, _) = c.exchange(ack.clone());
        let kind = rx.unwrap().0.kind;
        assert_eq!(
            kind == KIND_ESTABLISHED,
            ok,
            "final ACK {secs} s after the SYN-ACK (cookie clock {t0} -> {t})"
        );
        if ok {
            // The connection is reset; its final ACK, replayed 130 s after
            // the SYN-ACK, creates nothing.
            c.h.run(cycles(130 - secs));
            c.cfg.setup.cookie_t = c.h.reg_read(r::SETUP_BASE + r::SETUP_COOKIE_T);
            let (rx, _) = c.exchange(ack);
            assert_ne!(
                rx.unwrap().0.kind,
                KIND_ESTABLISHED,
                "replay after {secs} s"
            );
        }
    }
    c.check_counters();
}

/// Writes the RSS key (RSS itself stays off: completions go to queue 0)
/// and returns it for the model; the established-tuple filter is indexed by
/// the Toeplitz hash under this key.
fn program_rss_key(c: &mut Chip, key: [u8; 40]) {
    for i in 0..10 {
        let w = u32::from_be_bytes(key[4 * i..4 * i + 4].try_into().unwrap());
        c.h.reg_write(r::RSS_BASE + r::RSS_KEY + 4 * i as u32, w);
    }
    c.cfg.rss_key = key;
}

/// RFC 1122 4.2.3.10 and RFC 1812 5.3.7: the NIC never answers a SYN that
/// is not addressed to this host or comes from an address no peer can
/// have; those are dropped and counted.  An any-IP listener answers only
/// for the host's own addresses: other destinations go to the host's
/// ordinary path (which drops them too).
#[test]
fn syns_not_for_this_host_are_never_answered() {
    let mut c = Chip::new().listening(state());
    let o = vec![TcpOpt::Mss(1460)];
    type Edit = fn(&mut TcpSpec);
    let cases: Vec<(&str, u16, Edit, bool)> = vec![
        // (what, port, change, dropped by the NIC)
        ("broadcast MAC", 80, |s| s.ip.dst_mac = [0xFF; 6], true),
        (
            "multicast MAC",
            80,
            |s| s.ip.dst_mac = [0x01, 0, 0x5E, 0, 0, 1],
            true,
        ),
        (
            "another station's MAC",
            80,
            |s| s.ip.dst_mac = [0x02, 0, 0, 0, 0, 0x77],
            true,
        ),
        ("source broadcast", 80, |s| s.ip.src = [255; 4], true),
        ("source multicast", 80, |s| s.ip.src = [224, 0, 0, 5], true),
        ("source class E", 80, |s| s.ip.src = [240, 1, 2, 3], true),
        ("source loopback", 80, |s| s.ip.src = [127, 0, 0, 1], true),
        ("source 0.0.0.0", 80, |s| s.ip.src = [0; 4], true),
        ("LAND", 80, |s| s.ip.src = SERVER, true),
        (
            "source our other address",
            80,
            |s| s.ip.src = [10, 0, 0, 9],
            true,
        ),
        (
            "any-IP, not our address",
            8080,
            |s| s.ip.dst = [10, 0, 0, 77],
            false,
        ),
        (
            "any-IP, subnet broadcast",
            8080,
            |s| s.ip.dst = [10, 0, 0, 255],
            false,
        ),
        (
            "any-IP, limited broadcast",
            8080,
            |s| s.ip.dst = [255; 4],
            false,
        ),
        (
            "any-IP, multicast",
            8080,
            |s| s.ip.dst = [224, 0, 0, 1],
            false,
        ),
        (
            "any-IP, broadcast MAC",
            8080,
            |s| {
                s.ip.dst = [10, 0, 0, 9];
                s.ip.dst_mac = [0xFF; 6];
            },
            true,
        ),
        (
            "any-IP, LAND",
            8080,
            |s| {
                s.ip.dst = [10, 0, 0, 9];
                s.ip.src = [10, 0, 0, 9];
            },
            true,
        ),
    ];
    let mut dropped = 0;
    for (i, (what, port, edit, nic_drops)) in cases.into_iter().enumerate() {
        let mut s = syn(47000 + i as u16, port, 3, &o);
        if port == 8080 {
            s.ip.dst = [10, 0, 0, 9];
        }
        edit(&mut s);
        let (rx, tx) = c.exchange(gen::tcp_frame(&s));
        assert!(tx.is_none(), "{what}: answered");
        assert_eq!(rx.is_none(), nic_drops, "{what}");
        dropped += nic_drops as u64;
    }
    assert_eq!(counter(&mut c.h, Counter::SetupSynMartian), dropped);
    // The same SYNs from a proper source to a proper destination are
    // answered, on both listener kinds.
    for (i, (port, dst)) in [(80u16, SERVER), (8080, [10, 0, 0, 9])]
        .into_iter()
        .enumerate()
    {
        let mut s = syn(47100 + i as u16, port, 3, &o);
        s.ip.dst = dst;
        assert!(c.exchange(gen::tcp_frame(&s)).1.is_some(), "port {port}");
    }
    // A final ACK whose cookie is good but that comes to another MAC is
    // not a connection.
    let s = syn(47200, 80, 5, &o);
    let sa = c.exchange(gen::tcp_frame(&s)).1.unwrap();
    let mut a = final_ack(&s, &sa, b"");
    a.ip.dst_mac = [0xFF; 6];
    assert_ne!(
        c.exchange(gen::tcp_frame(&a)).0.unwrap().0.kind,
        KIND_ESTABLISHED
    );
    c.check_counters();
}

/// RFC 5961 4: a SYN for a tuple the host holds a connection for must reach
/// the host (which answers with a challenge ACK), not get a fresh cookie.
/// The host marks such tuples in the established-tuple filter.
#[test]
fn syns_for_tuples_in_the_established_filter_go_to_the_host() {
    let mut rng = StdRng::seed_from_u64(seed());
    let mut c = Chip::new().listening(state());
    let mut key = [0u8; 40];
    rng.fill(&mut key[..]);
    program_rss_key(&mut c, key);
    let o = vec![TcpOpt::Mss(1460)];
    let a = syn(48000, 80, 11, &o);
    let index =
        |s: &TcpSpec| r::est_filter_index(&key, (s.ip.src, s.src_port), (s.ip.dst, s.dst_port));
    // A second client whose tuple maps to another bit.
    let mut b = syn(48001, 80, 12, &o);
    while index(&b) == index(&a) {
        b.src_port += 1;
    }
    assert!(c.exchange(gen::tcp_frame(&a)).1.is_some(), "before marking");
    toe_tests::set_est_filter(&mut c.h, index(&a), true);
    c.cfg.setup.est_filter.insert(index(&a));
    let (rx, tx) = c.exchange(gen::tcp_frame(&a));
    assert!(tx.is_none(), "a marked tuple's SYN was answered");
    let (cpl, _) = rx.expect("a marked tuple's SYN did not reach the host");
    assert_eq!(cpl.tcp_flags & 0x12, 0x02);
    assert!(c.exchange(gen::tcp_frame(&b)).1.is_some(), "another tuple");
    // An ACK is unaffected by the filter (the host's segments flow as ever).
    toe_tests::set_est_filter(&mut c.h, index(&a), false);
    c.cfg.setup.est_filter.remove(&index(&a));
    assert!(c.exchange(gen::tcp_frame(&a)).1.is_some(), "after clearing");
    // Clear-all: every bit, one per cycle; single writes are ignored
    // meanwhile and the register says so.
    for s in [&a, &b] {
        toe_tests::set_est_filter(&mut c.h, index(s), true);
        c.cfg.setup.est_filter.insert(index(s));
    }
    assert!(c.exchange(gen::tcp_frame(&b)).1.is_none());
    c.h.reg_write(r::SETUP_BASE + r::SETUP_EST_FILTER, r::EST_FILTER_CLEAR_ALL);
    assert_ne!(
        c.h.reg_read(r::SETUP_BASE + r::SETUP_EST_FILTER) & r::EST_FILTER_CLEARING,
        0
    );
    c.h.run(r::EST_FILTER_BITS as u64 + 100);
    assert_eq!(c.h.reg_read(r::SETUP_BASE + r::SETUP_EST_FILTER), 0);
    c.cfg.setup.est_filter.clear();
    assert!(
        c.exchange(gen::tcp_frame(&a)).1.is_some(),
        "after clear-all"
    );
    assert!(
        c.exchange(gen::tcp_frame(&b)).1.is_some(),
        "after clear-all"
    );
    c.check_counters();
}

/// A client whose MSS is below every MSS-table entry (RFC 9293 3.7.1: we
/// must never send more) is left to the host: the NIC neither answers with
/// a larger MSS class nor drops it.  A SYN whose options do not parse is
/// answered as Linux answers it: with the options parsed before the broken
/// one (an MSS option of the wrong length is ignored), byte for byte as the
/// model says.
#[test]
fn syns_with_a_tiny_mss_go_to_the_host_and_broken_options_are_answered_as_linux_does() {
    let mut c = Chip::new().listening(state());
    for (i, mss) in [88u16, 1, 535].into_iter().enumerate() {
        let s = syn(49000 + i as u16, 80, 1, &[TcpOpt::Mss(mss)]);
        let (rx, tx) = c.exchange(gen::tcp_frame(&s));
        assert!(tx.is_none(), "MSS {mss} answered");
        assert!(rx.is_some(), "MSS {mss} not delivered");
    }
    let s = syn(49010, 80, 1, &[TcpOpt::Mss(536)]);
    assert!(c.exchange(gen::tcp_frame(&s)).1.is_some(), "MSS 536");
    // An MSS option of length 3 (ignored), one of length 5 running into
    // the next, an option running past the header, and timestamps before
    // a broken option (kept).
    let ts = [1u8, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0];
    let broken: Vec<Vec<u8>> = vec![
        vec![2, 3, 5, 0],
        vec![2, 5, 5, 180, 0],
        vec![1, 1, 8, 12, 0, 0],
        [&ts[..], &[2, 1, 0, 0]].concat(),
    ];
    for (i, bytes) in broken.into_iter().enumerate() {
        let mut s = syn(49020 + i as u16, 80, 1, &[]);
        s.options = bytes;
        while !s.options.len().is_multiple_of(4) {
            s.options.push(0);
        }
        let (rx, tx) = c.exchange(gen::tcp_frame(&s));
        assert!(tx.is_some() && rx.is_none(), "options {:?}", s.options);
    }
    assert_eq!(counter(&mut c.h, Counter::SetupSynToHost), 3);
    c.check_counters();
}

#[test]
fn syns_are_answered_as_the_model_says_for_every_option_layout() {
    let mut c = Chip::new().listening(state());
    for (i, opts) in option_sets().iter().enumerate() {
        for port in [80u16, 8080] {
            let mut s = syn(40000 + i as u16, port, 0x1000_0000 * i as u32 + 77, opts);
            if port == 8080 {
                // The any-IP listener (10.0.0.1:8080 itself is not offloaded).
                s.ip.dst = [10, 0, 0, 9];
            }
            let f = gen::tcp_frame(&s);
            let (rx, tx) = c.exchange(f);
            assert!(rx.is_none(), "the SYN reached the host");
            let tx = tx.expect("no SYN-ACK");
            println!("options {opts:?}: SYN-ACK of {} bytes", tx.len());
        }
    }
    assert_eq!(
        counter(&mut c.h, Counter::SetupSynAck),
        2 * option_sets().len() as u64
    );
    c.check_counters();
}

#[test]
fn a_valid_final_ack_is_delivered_established_with_its_data() {
    let mut c = Chip::new().listening(state());
    for (i, opts) in option_sets().iter().enumerate() {
        let s = syn(41000 + i as u16, 80, 0xFFFF_FFF0 + i as u32, opts);
        let (_, tx) = c.exchange(gen::tcp_frame(&s));
        let synack = tx.unwrap();
        let data: Vec<u8> = (0..(i * 37) as u32).map(|b| (b * 7) as u8).collect();
        let (rx, tx) = c.exchange(gen::tcp_frame(&final_ack(&s, &synack, &data)));
        assert!(tx.is_none());
        let (cpl, bytes) = rx.expect("the final ACK was not delivered");
        assert_eq!(cpl.kind, KIND_ESTABLISHED, "options {opts:?}");
        assert!(bytes.ends_with(&data) || data.is_empty());
        println!("options {opts:?}: established {cpl:?}");
    }
    assert_eq!(
        counter(&mut c.h, Counter::SetupEstablished),
        option_sets().len() as u64
    );
    c.check_counters();
}

#[test]
fn forged_late_duplicate_and_foreign_acks_are_not_connections() {
    let mut rng = StdRng::seed_from_u64(seed());
    let mut c = Chip::new().listening(state());
    let opts = vec![TcpOpt::Mss(1460)];
    let s = syn(42000, 80, 5555, &opts);
    let synack = c.exchange(gen::tcp_frame(&s)).1.unwrap();
    let good = final_ack(&s, &synack, b"hello");
    // Forged: random acknowledgment numbers.
    for _ in 0..50 {
        let mut a = good.clone();
        a.ack = rng.gen();
        let (rx, _) = c.exchange(gen::tcp_frame(&a));
        assert_ne!(rx.unwrap().0.kind, KIND_ESTABLISHED);
    }
    // Another 4-tuple or ISN with this cookie.
    for change in 0..3 {
        let mut a = good.clone();
        match change {
            0 => a.src_port += 1,
            1 => a.seq = a.seq.wrapping_add(1),
            _ => a.ip.src = [10, 0, 0, 99],
        }
        let (rx, _) = c.exchange(gen::tcp_frame(&a));
        assert_ne!(rx.unwrap().0.kind, KIND_ESTABLISHED, "change {change}");
    }
    // The genuine one, then its duplicate: both check (the NIC keeps no
    // state; the host turns a duplicate into an ordinary segment).
    for _ in 0..2 {
        let (rx, _) = c.exchange(gen::tcp_frame(&good));
        assert_eq!(rx.unwrap().0.kind, KIND_ESTABLISHED);
    }
    // Late: the cookie clock moves past the maximum age.
    let mut st = c.cfg.setup.clone();
    st.cookie_t += st.cfg.max_age;
    c.set_state(st.clone());
    assert_eq!(
        c.exchange(gen::tcp_frame(&good)).0.unwrap().0.kind,
        KIND_ESTABLISHED
    );
    st.cookie_t += 1;
    c.set_state(st);
    assert_ne!(
        c.exchange(gen::tcp_frame(&good)).0.unwrap().0.kind,
        KIND_ESTABLISHED
    );
    // A bad TCP checksum is never a candidate.
    let mut f = gen::tcp_frame(&good);
    f[50] ^= 0xFF;
    c.exchange(f);
    c.check_counters();
}

#[test]
fn syns_to_other_listeners_or_with_setup_off_reach_the_host() {
    let mut c = Chip::new().listening(state());
    let o = vec![TcpOpt::Mss(1460)];
    for (port, dst) in [
        (22u16, SERVER),
        (8080, SERVER),
        (443, SERVER),
        (80, [10, 0, 0, 7]),
    ] {
        let mut s = syn(43000, port, 1, &o);
        s.ip.dst = dst;
        let (rx, tx) = c.exchange(gen::tcp_frame(&s));
        assert!(tx.is_none(), "port {port}");
        assert_eq!(rx.unwrap().0.tcp_flags & 0x02, 0x02, "port {port}");
    }
    // Any-IP 8080 answers for other addresses.
    let mut s = syn(43001, 8080, 1, &o);
    s.ip.dst = [10, 0, 0, 9];
    assert!(c.exchange(gen::tcp_frame(&s)).1.is_some());
    // Setup disabled, or no valid key in the current slot: to the host.
    let mut st = state();
    st.enabled = false;
    c.set_state(st);
    assert!(c
        .exchange(gen::tcp_frame(&syn(43002, 80, 1, &o)))
        .1
        .is_none());
    let mut st = state();
    st.cfg.current_slot = 1;
    c.set_state(st);
    assert!(c
        .exchange(gen::tcp_frame(&syn(43003, 80, 1, &o)))
        .1
        .is_none());
    c.check_counters();
}

#[test]
fn key_rotation_keeps_the_old_key_for_its_grace_period() {
    let mut c = Chip::new().listening(state());
    let o = vec![TcpOpt::Mss(1460)];
    let s0 = syn(44000, 80, 9, &o);
    let sa0 = c.exchange(gen::tcp_frame(&s0)).1.unwrap();
    // Rotate: slot 1 gets a new key and becomes current; slot 0 stays valid.
    let mut st = c.cfg.setup.clone();
    st.cfg.keys[1] = Some(*b"fedcba9876543210");
    st.cfg.current_slot = 1;
    c.set_state(st.clone());
    let s1 = syn(44001, 80, 10, &o);
    let sa1 = c.exchange(gen::tcp_frame(&s1)).1.unwrap();
    for (s, sa) in [(&s0, &sa0), (&s1, &sa1)] {
        let (rx, _) = c.exchange(gen::tcp_frame(&final_ack(s, sa, b"")));
        assert_eq!(rx.unwrap().0.kind, KIND_ESTABLISHED);
    }
    // Grace period over: slot 0 invalid, its cookies refused.
    st.cfg.keys[0] = None;
    c.set_state(st);
    let (rx, _) = c.exchange(gen::tcp_frame(&final_ack(&s0, &sa0, b"")));
    assert_ne!(rx.unwrap().0.kind, KIND_ESTABLISHED);
    let (rx, _) = c.exchange(gen::tcp_frame(&final_ack(&s1, &sa1, b"")));
    assert_eq!(rx.unwrap().0.kind, KIND_ESTABLISHED);
    c.check_counters();
}

/// SYNs from random sources back to back, with one legitimate client's
/// handshake in the middle: every SYN is answered or counted as dropped,
/// no state changes, and the legitimate connection is established.
#[test]
fn a_syn_flood_changes_no_state_and_a_real_client_still_connects() {
    let n: usize = std::env::var("TOE_FLOOD_SYNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = StdRng::seed_from_u64(seed());
    let mut c = Chip::new().listening(state());
    let regs_before: Vec<u32> = (0..0x70)
        .step_by(4)
        .map(|o| c.h.reg_read(r::SETUP_BASE + o))
        .collect();
    let legit = syn(
        45000,
        80,
        0xC0FFEE,
        &[TcpOpt::Mss(1460), TcpOpt::SackPermitted],
    );
    let is_legit = |f: &[u8]| {
        let p = toe_model::parse(f, false, 9018);
        p.ipv4.map(|i| i.dst) == Some(legit.ip.src) && p.tcp.map(|t| t.dst_port) == Some(45000)
    };
    // The MAC takes a beat only 40% of the time: the SYN-ACK queue fills
    // and SYNs are dropped and counted (clients retransmit them).
    c.h.mac_tx.backpressure = 0.6;
    let mut sent = 0usize;
    let mut synacks = 0u64;
    let mut legit_synack = None;
    // SYN-ACKs off the MAC: counted, the legitimate client's kept.
    let mut take = |h: &mut Harness| {
        while let Some(f) = h.mac_tx.pop() {
            synacks += 1;
            if is_legit(&f.data) {
                legit_synack = Some(f.data);
            }
        }
    };
    while sent < n || c.h.mac_rx.pending() > 0 {
        while sent < n && c.h.mac_rx.pending() < 64 {
            if sent == n / 2 {
                c.h.mac_rx.push_bytes(gen::tcp_frame(&legit));
            }
            let mut s = syn(rng.gen(), 80, rng.gen(), &[TcpOpt::Mss(1460)]);
            // Random unicast sources (never martian, never the client's).
            s.ip.src = [
                11 + rng.gen_range(0..100u8),
                rng.gen(),
                rng.gen(),
                rng.gen(),
            ];
            c.h.mac_rx.push_bytes(gen::tcp_frame(&s));
            sent += 1;
        }
        c.h.run(32);
        take(&mut c.h);
    }
    c.h.mac_tx.backpressure = 0.0;
    c.h.run(2000);
    take(&mut c.h);
    let answered = counter(&mut c.h, Counter::SetupSynAck);
    let dropped = counter(&mut c.h, Counter::SetupSynDropped);
    println!("{n} flood SYNs + 1: {answered} answered, {dropped} dropped (queue full), {synacks} SYN-ACKs seen");
    assert_eq!(answered + dropped, n as u64 + 1);
    assert!(dropped > 0, "the SYN-ACK queue never filled");
    assert_eq!(answered, synacks);
    assert_eq!(counter(&mut c.h, Counter::RxFrames), n as u64 + 1);
    assert!(
        c.host.poll_rx(&c.h, 0).is_none(),
        "a flood SYN reached the host"
    );
    let regs_after: Vec<u32> = (0..0x70)
        .step_by(4)
        .map(|o| c.h.reg_read(r::SETUP_BASE + o))
        .collect();
    // Everything but the clocks' registers is unchanged.
    for (i, (a, b)) in regs_before.iter().zip(&regs_after).enumerate() {
        let off = 4 * i as u32;
        if off != r::SETUP_COOKIE_T && off != r::SETUP_TS_NOW {
            assert_eq!(a, b, "setup register {off:#x} changed");
        }
    }
    // The legitimate client: its SYN-ACK (or, if its SYN was dropped, a
    // retransmitted SYN's) and then its final ACK.
    let synack = match legit_synack {
        Some(f) => f,
        None => {
            c.h.mac_rx.push_bytes(gen::tcp_frame(&legit));
            c.h.run(500);
            c.h.mac_tx
                .pop()
                .expect("retransmitted SYN not answered")
                .data
        }
    };
    assert_eq!(
        Some(synack.clone()),
        nic::predict_synack(&c.cfg, &gen::tcp_frame(&legit))
    );
    c.want.clear();
    let (rx, _) = c.exchange(gen::tcp_frame(&final_ack(
        &legit,
        &synack,
        b"GET / HTTP/1.1\r\n\r\n",
    )));
    assert_eq!(rx.unwrap().0.kind, KIND_ESTABLISHED);
}

/// Host TX frames and NIC SYN-ACKs share the MAC: a SYN flood while the
/// host sends frames of every size; every host frame leaves intact and in
/// order, every SYN is answered, and neither source starves the other.
#[test]
fn host_frames_and_synacks_share_the_mac_fairly() {
    let mut rng = StdRng::seed_from_u64(seed());
    let mut c = Chip::new().listening(state());
    c.h.mac_tx.backpressure = 0.3;
    let mut host_frames = Vec::new();
    for i in 0..200usize {
        let len = 60 + (rng.gen::<usize>() % 1400);
        let mut t = TcpSpec {
            src_port: 80,
            dst_port: 30000 + i as u16,
            seq: rng.gen(),
            payload: (0..len - 54).map(|_| rng.gen()).collect(),
            ..TcpSpec::default()
        };
        t.ip.src = SERVER;
        t.ip.dst = [10, 0, 0, 50];
        let f = gen::tcp_frame(&t);
        c.host.send(&mut c.h, i % 4, &f, 0);
        host_frames.push(f);
    }
    let n_syn = 3000usize;
    let mut pushed = 0;
    let mut out = Vec::new();
    let mut first_host = None;
    let mut last_host = 0;
    let mut synacks_before_last_host = 0;
    while out.len() < host_frames.len() + n_syn && c.h.cycle() < 2_000_000 {
        while pushed < n_syn && c.h.mac_rx.pending() < 16 {
            let mut s = syn(rng.gen(), 80, rng.gen(), &[TcpOpt::Mss(1460)]);
            s.ip.src = [192, 168, (pushed >> 8) as u8, pushed as u8];
            c.h.mac_rx.push_bytes(gen::tcp_frame(&s));
            pushed += 1;
        }
        c.h.run(16);
        while let Some(f) = c.h.mac_tx.pop() {
            let is_synack = f.data.get(47) == Some(&0x12);
            if !is_synack {
                first_host.get_or_insert(out.len());
                last_host = out.len();
            }
            out.push((is_synack, f.data));
        }
    }
    for (i, (s, _)) in out.iter().enumerate() {
        if *s && i < last_host {
            synacks_before_last_host += 1;
        }
    }
    let hosts: Vec<&Vec<u8>> = out.iter().filter(|(s, _)| !s).map(|(_, f)| f).collect();
    let synacks = out.iter().filter(|(s, _)| *s).count();
    let dropped = counter(&mut c.h, Counter::SetupSynDropped);
    println!(
        "{} host frames, {synacks} SYN-ACKs, {dropped} SYNs dropped; {synacks_before_last_host} SYN-ACKs went out while host frames were waiting",
        hosts.len()
    );
    assert_eq!(hosts.len(), host_frames.len(), "host frames lost");
    // Per TX queue order is kept; across queues the scheduler interleaves.
    let mut sorted_out: Vec<&Vec<u8>> = hosts.clone();
    sorted_out.sort();
    let mut sorted_in: Vec<&Vec<u8>> = host_frames.iter().collect();
    sorted_in.sort();
    assert_eq!(sorted_out, sorted_in, "host frames changed");
    assert_eq!(synacks as u64 + dropped, n_syn as u64);
    assert!(
        synacks_before_last_host > 100,
        "SYN-ACKs starved by host traffic"
    );
    assert!(
        first_host.is_some_and(|i| i < 100),
        "host frames starved by SYN-ACKs"
    );
}

/// Random TCP segments (random flags, options in any order including
/// malformed ones, IP options, payloads) to offloaded and other listeners,
/// a third of the ACKs carrying a genuine cookie from an earlier SYN-ACK:
/// every SYN-ACK byte for byte and every completion field for field as the
/// model says, and the counters at the end.
#[test]
fn random_segments_to_listeners_match_the_model() {
    let n: usize = std::env::var("TOE_SETUP_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let mut rng = StdRng::seed_from_u64(seed());
    let mut c = Chip::new().listening(state());
    // (SYN spec, SYN-ACK frame) of answered SYNs.
    let mut answered: Vec<(TcpSpec, Vec<u8>)> = Vec::new();
    let (mut syns, mut est) = (0, 0);
    for _ in 0..n {
        let len = rng.gen_range(60..300);
        let mut t = gen::random_tcp(&mut rng, len);
        t.ip.more_frags = false;
        t.ip.frag_offset = 0;
        let (dst, port) = match rng.gen_range(0..4) {
            0 | 1 => (SERVER, 80),
            2 => ([10, 0, 0, rng.gen()], 8080),
            _ => (SERVER, rng.gen_range(20..30)),
        };
        t.ip.dst = dst;
        t.dst_port = port;
        t.flags = match rng.gen_range(0..8) {
            0 | 1 => gen::SYN | if rng.gen_bool(0.3) { 0xC0 } else { 0 },
            2 | 3 => gen::ACK | if rng.gen_bool(0.5) { gen::PSH } else { 0 },
            4 => gen::ACK | gen::FIN,
            5 => gen::SYN | gen::ACK,
            6 => gen::RST | if rng.gen_bool(0.5) { gen::ACK } else { 0 },
            _ => rng.gen(),
        };
        if t.flags & gen::SYN != 0 && t.flags & gen::ACK == 0 {
            t.payload.clear();
        }
        if t.flags & gen::ACK != 0 && !answered.is_empty() && rng.gen_bool(0.35) {
            let (s, sa) = &answered[rng.gen_range(0..answered.len())];
            let mut a = final_ack(s, sa, &t.payload.clone());
            if rng.gen_bool(0.2) {
                a.flags |= gen::FIN;
            }
            t = a;
        }
        let f = gen::tcp_frame(&t);
        let (rx, tx) = c.exchange(f);
        if let Some(sa) = tx {
            syns += 1;
            answered.push((t.clone(), sa));
        }
        if rx.is_some_and(|(cpl, _)| cpl.kind == KIND_ESTABLISHED) {
            est += 1;
        }
    }
    println!("{n} segments: {syns} SYNs answered, {est} delivered established");
    assert!(syns > 100 && est > 50, "too few of the interesting cases");
    c.check_counters();
}

/// Many marked tuples do not make other tuples' SYNs go to the host: only a
/// SYN whose own bit is set does (here 64 marked connections, 40 new
/// clients from fresh ports, RSS on and off).
#[test]
fn only_marked_tuples_go_to_the_host_with_many_marked() {
    let mut rng = StdRng::seed_from_u64(seed());
    for rss_on in [false, true] {
        let mut c = Chip::new().listening(state());
        let mut key = [0u8; 40];
        rng.fill(&mut key[..]);
        program_rss_key(&mut c, key);
        if rss_on {
            // Every entry of the indirection table points at queue 0.
            c.h.reg_write(r::RSS_BASE + r::RSS_CTRL, r::RSS_CTRL_ENABLE);
            c.cfg.rss_enable = true;
        }
        let o = vec![TcpOpt::Mss(1460)];
        let index =
            |s: &TcpSpec| r::est_filter_index(&key, (s.ip.src, s.src_port), (s.ip.dst, s.dst_port));
        for p in 0..64u16 {
            let s = syn(30000 + p, 80, 1, &o);
            toe_tests::set_est_filter(&mut c.h, index(&s), true);
            c.cfg.setup.est_filter.insert(index(&s));
        }
        let (mut answered, mut to_host) = (0, 0);
        for p in 0..40u16 {
            let s = syn(20000 + p, 80, 7, &o);
            let marked = c.cfg.setup.est_filter.contains(&index(&s));
            let (_, tx) = c.exchange(gen::tcp_frame(&s));
            assert_eq!(tx.is_none(), marked, "port {} (rss {rss_on})", 20000 + p);
            if tx.is_some() {
                answered += 1;
            } else {
                to_host += 1;
            }
        }
        println!("rss {rss_on}: {answered} answered, {to_host} to the host");
        assert!(answered >= 38);
        c.check_counters();
    }
}
