//! Packet-level tests of connections whose handshake the NIC completed
//! (setup offload): `Conn::established` from what the "established"
//! completion reports, then data, options and close as usual.  The NIC's
//! part is played here the way `toe_contract::setup` and the reference
//! model (`toe_model::cookie`) define it: the SYN-ACK's ISN is the cookie,
//! its TSval carries the client's options in the low 6 bits.
use super::conn::*;
use super::seq::Seq;
use std::time::Duration;
use toe_contract::setup as s;

const T0: Duration = Duration::from_secs(500);
const COOKIE: Seq = Seq(0x6543_2100);
const CLIENT_ISS: Seq = Seq(4000);

fn drain(c: &mut Conn, now: Duration) -> Vec<Segment> {
    let mut v = vec![];
    while let Some(x) = c.dispatch(now) {
        v.push(x);
        assert!(v.len() < 10_000);
    }
    v
}

/// A client (this library, software path) connects; the "NIC" answers
/// its SYN with a cookie SYN-ACK; returns the client, the client's final
/// ACK and the handshake the NIC reports for it.
fn offloaded_handshake(client_cfg: Config, nic_ts: u32) -> (Conn, Segment, Handshake) {
    let mut client = Conn::connect(client_cfg, CLIENT_ISS, T0);
    let syn = drain(&mut client, T0).remove(0);
    assert!(syn.syn);
    let o = syn.syn_opts;
    let with_ts = o.tsval.is_some();
    let synack = Segment {
        seq: COOKIE,
        ack: Some(syn.seq + 1),
        syn: true,
        window: 65535,
        syn_opts: super::options::SynOptions {
            mss: Some(1460),
            // Window scale and SACK only with timestamps (Linux's fallback).
            wscale: if with_ts && o.wscale.is_some() {
                Some(7)
            } else {
                None
            },
            sack_permitted: with_ts && o.sack_permitted,
            tsval: o
                .tsval
                .map(|_| s::ts_encode(nic_ts, o.wscale, o.sack_permitted)),
        },
        ts: o
            .tsval
            .map(|v| (s::ts_encode(nic_ts, o.wscale, o.sack_permitted), v)),
        ..Segment::default()
    };
    client.on_segment(&synack, T0 + Duration::from_millis(1));
    assert_eq!(client.state(), State::Established);
    let ack = drain(&mut client, T0 + Duration::from_millis(1)).remove(0);
    assert_eq!(ack.ack, Some(COOKIE + 1));
    // What the NIC decodes from that ACK (model: toe_model::cookie::check_ack).
    let (peer_ws, sack) = ack.ts.map_or((None, false), |(_, ecr)| s::ts_decode(ecr));
    let h = Handshake {
        our_isn: Seq(ack.ack.unwrap().0.wrapping_sub(1)),
        peer_isn: Seq(ack.seq.0.wrapping_sub(1)),
        peer_mss: s::DEFAULT_MSS_TABLE[s::mss_class(&s::DEFAULT_MSS_TABLE, o.mss) as usize],
        wscale: peer_ws.map(|p| (p, 7)),
        sack,
        ts: ack.ts,
        window: ack.window,
    };
    (client, ack, h)
}

#[test]
fn established_from_the_nic_talks_with_the_negotiated_options() {
    let (mut client, ack, h) = offloaded_handshake(Config::default(), 0x0100_0000);
    assert_eq!(h.wscale.map(|(p, _)| p), Config::default().syn_opts.wscale);
    assert!(h.sack);
    let t = T0 + Duration::from_millis(2);
    let mut server = Conn::established(Config::default(), &h, t);
    assert_eq!(server.state(), State::Established);
    server.on_segment(&ack, t);
    assert!(
        drain(&mut server, t).is_empty(),
        "a bare final ACK needs no answer"
    );
    // The server speaks first: sequence, ACK, scaled window, timestamps.
    assert_eq!(server.write(b"220 ready\r\n"), 11);
    let seg = drain(&mut server, t).remove(0);
    assert_eq!(seg.seq, COOKIE + 1);
    assert_eq!(seg.ack, Some(CLIENT_ISS + 1));
    assert_eq!(seg.payload, b"220 ready\r\n");
    let (tsval, tsecr) = seg.ts.expect("timestamps negotiated");
    assert_eq!(tsecr, ack.ts.unwrap().0, "echoes the client's TSval");
    assert!(
        tsval.wrapping_sub(h.ts.unwrap().1) as i32 > 0,
        "our TSvals continue after the NIC's ({tsval:#x} after {:#x}), or the client's PAWS drops them",
        h.ts.unwrap().1
    );
    // Our window is advertised scaled by the shift the NIC offered (7).
    assert_eq!(seg.window as u32, (64 * 1024) >> 7);
    client.on_segment(&seg, t);
    let mut buf = [0u8; 64];
    assert_eq!(client.read(&mut buf), 11);
    // And back, then a clean close from both ends.
    client.write(b"QUIT\r\n");
    for x in drain(&mut client, t) {
        server.on_segment(&x, t);
    }
    assert_eq!(server.read(&mut buf), 6);
    client.close();
    server.close();
    let mut now = t;
    for _ in 0..10 {
        now += Duration::from_millis(5);
        for x in drain(&mut client, now) {
            server.on_segment(&x, now);
        }
        for x in drain(&mut server, now) {
            client.on_segment(&x, now);
        }
    }
    assert_eq!(
        server.state(),
        State::TimeWait,
        "both closed at once: TIME_WAIT"
    );
    assert_eq!(client.state(), State::TimeWait);
}

#[test]
fn data_on_the_final_ack_is_delivered() {
    let (_, ack, h) = offloaded_handshake(Config::default(), 77 << 6);
    let t = T0 + Duration::from_millis(2);
    let mut server = Conn::established(Config::default(), &h, t);
    let with_data = Segment {
        payload: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
        ..ack
    };
    server.on_segment(&with_data, t);
    let mut buf = [0u8; 64];
    assert_eq!(server.read(&mut buf), 18);
    assert_eq!(&buf[..18], b"GET / HTTP/1.0\r\n\r\n");
    // The same ACK again (the NIC reports it once more, or the client
    // retransmits): a duplicate, ACKed, not delivered twice.
    server.on_segment(&with_data, t);
    assert_eq!(server.readable(), 0);
}

#[test]
fn without_timestamps_there_is_no_scaling_and_no_sack() {
    let cfg = Config {
        timestamps: false,
        ..Config::default()
    };
    let (mut client, ack, h) = offloaded_handshake(cfg.clone(), 0);
    assert_eq!((h.wscale, h.sack, h.ts), (None, false, None));
    let t = T0 + Duration::from_millis(2);
    let mut server = Conn::established(cfg, &h, t);
    server.on_segment(&ack, t);
    let n = server.write(&[5u8; 3000]);
    assert_eq!(n, 3000);
    let segs = drain(&mut server, t);
    assert!(segs.iter().all(|x| x.ts.is_none() && x.sack.is_empty()));
    assert_eq!(segs[0].window, 0xffff, "unscaled 64 KiB window, capped");
    assert!(segs.iter().all(|x| x.payload.len() <= 1460));
    let mut got = 0;
    for x in &segs {
        client.on_segment(x, t);
        got += x.payload.len();
    }
    assert_eq!(client.readable(), got);
}

#[test]
fn mss_class_limits_what_the_server_sends() {
    let cfg = Config {
        syn_opts: super::options::SynOptions {
            mss: Some(1380),
            ..Config::default().syn_opts
        },
        ..Config::default()
    };
    let (_, ack, h) = offloaded_handshake(cfg, 1 << 6);
    assert_eq!(h.peer_mss, 1300, "largest class not above 1380");
    let t = T0 + Duration::from_millis(2);
    let mut server = Conn::established(Config::default(), &h, t);
    server.on_segment(&ack, t);
    server.write(&[1u8; 5000]);
    let segs = drain(&mut server, t);
    // 1300 minus 12 bytes of timestamp option per segment (RFC 6691).
    assert!(
        segs.iter().all(|x| x.payload.len() <= 1288),
        "{:?}",
        segs.iter().map(|x| x.payload.len()).collect::<Vec<_>>()
    );
}
