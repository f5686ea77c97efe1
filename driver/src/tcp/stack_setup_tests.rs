//! Packet-level tests of `TcpStack::on_established`: the NIC's
//! "established" report of a client's final ACK (setup offload) as bytes
//! in, segments and accept-queue effects out.
use super::conn::{Config, State};
use super::isn::IsnGenerator;
use super::stack::{NicEstablished, TcpStack};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber};
use std::net::Ipv4Addr;
use std::time::Duration;

const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const T0: Duration = Duration::from_secs(100);
const COOKIE: u32 = 0x1234_5678;
const CLIENT_ISN: u32 = 777;

fn stack() -> TcpStack {
    let mut s = TcpStack::new(US, Config::default(), IsnGenerator::new([7; 16]), 16);
    s.listen(80, 2);
    s
}

/// The client's segment as bytes (checksum filled).
fn segment(sport: u16, seq: u32, ack: u32, ctl: TcpControl, payload: &[u8]) -> Vec<u8> {
    let r = TcpRepr {
        src_port: sport,
        dst_port: 80,
        control: ctl,
        seq_number: TcpSeqNumber(seq as i32),
        ack_number: Some(TcpSeqNumber(ack as i32)),
        window_len: 502,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None, None, None],
        timestamp: None,
        payload,
    };
    let mut b = vec![0u8; r.buffer_len()];
    let mut p = TcpPacket::new_unchecked(&mut b);
    r.emit(
        &mut p,
        &IpAddress::Ipv4(PEER),
        &IpAddress::Ipv4(US),
        &ChecksumCapabilities::default(),
    );
    b
}

fn final_ack(sport: u16, payload: &[u8]) -> Vec<u8> {
    segment(sport, CLIENT_ISN + 1, COOKIE + 1, TcpControl::None, payload)
}

fn nic() -> NicEstablished {
    NicEstablished {
        peer_mss: 1300,
        peer_wscale: Some(9),
        sack: true,
        ts: None,
    }
}

/// What the stack sends now: (flags byte, seq, ack, payload length).
fn sent(s: &mut TcpStack, now: Duration) -> Vec<(u8, u32, u32, usize)> {
    s.dispatch(now)
        .into_iter()
        .map(|(dst, b)| {
            assert_eq!(dst, PEER);
            let p = TcpPacket::new_checked(&b[..]).unwrap();
            (
                b[13],
                p.seq_number().0 as u32,
                p.ack_number().0 as u32,
                p.payload().len(),
            )
        })
        .collect()
}

#[test]
fn a_report_becomes_an_accepted_established_connection_with_the_nic_options() {
    let mut s = stack();
    s.on_established(PEER, US, &final_ack(4000, b""), true, &nic(), T0);
    // Nothing to send: the handshake is complete, no SYN-ACK from the host.
    assert!(sent(&mut s, T0).is_empty());
    assert_eq!(s.stats().nic_established, 1);
    let h = s.accept(80).expect("acceptable");
    let c = s.conn(h).unwrap();
    assert_eq!(c.state(), State::Established);
    // A light connection: no send or receive buffer memory until data.
    assert_eq!(c.buffer_memory(), 0);
    let n = *c.negotiated().unwrap();
    assert_eq!(n.send_mss, 1300);
    assert_eq!(n.snd_wscale, 9);
    assert_eq!(n.rcv_wscale, Config::default().syn_opts.wscale.unwrap());
    assert!(n.sack);
    assert!(!n.timestamps);
    // Our first byte is COOKIE + 1.
    assert_eq!(c.write(b"hi"), 2);
    let out = sent(&mut s, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].1, out[0].2, out[0].3),
        (COOKIE + 1, CLIENT_ISN + 1, 2)
    );
}

#[test]
fn data_on_the_final_ack_is_readable_and_acknowledged() {
    let mut s = stack();
    s.on_established(
        PEER,
        US,
        &final_ack(4001, b"GET / HTTP/1.1\r\n\r\n"),
        true,
        &nic(),
        T0,
    );
    // The accept queue is settled when the stack dispatches.
    let first = sent(&mut s, T0);
    let h = s.accept(80).unwrap();
    let mut buf = [0u8; 64];
    let n = s.conn(h).unwrap().read(&mut buf);
    assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\n\r\n");
    // Acknowledged (at once or when the delayed-ACK timer fires).
    let later = T0 + Duration::from_millis(500);
    s.on_timer(later);
    let out: Vec<_> = [first, sent(&mut s, T0), sent(&mut s, later)].concat();
    assert!(out.iter().any(|o| o.2 == CLIENT_ISN + 1 + 18), "{out:?}");
}

#[test]
fn a_repeated_report_is_an_ordinary_segment() {
    let mut s = stack();
    s.on_established(PEER, US, &final_ack(4002, b"abc"), true, &nic(), T0);
    s.on_established(PEER, US, &final_ack(4002, b"abc"), true, &nic(), T0);
    assert_eq!(s.stats().nic_established, 1);
    assert_eq!(s.stats().nic_established_dup, 1);
    sent(&mut s, T0);
    let h = s.accept(80).unwrap();
    assert!(s.accept(80).is_none(), "one connection only");
    let mut buf = [0u8; 16];
    assert_eq!(s.conn(h).unwrap().read(&mut buf), 3, "data once");
}

#[test]
fn a_report_for_a_port_nobody_listens_on_is_answered_with_rst() {
    let mut s = stack();
    let mut b = final_ack(4003, b"");
    b[2..4].copy_from_slice(&81u16.to_be_bytes());
    // Re-checksum for the new port: the NIC verified it (verified = true).
    s.on_established(PEER, US, &b, true, &nic(), T0);
    let out = sent(&mut s, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0 & 0x04, 0x04, "RST");
    assert_eq!(
        out[0].1,
        COOKIE + 1,
        "RST's SEQ is the segment's ACK (RFC 9293 3.10.7.1)"
    );
    assert_eq!(s.stats().nic_established_no_listener, 1);
}

#[test]
fn a_full_backlog_drops_the_report_and_counts_it() {
    let mut s = stack();
    for p in 0..3u16 {
        s.on_established(PEER, US, &final_ack(5000 + p, b""), true, &nic(), T0);
    }
    assert_eq!(s.stats().nic_established, 2);
    assert_eq!(s.stats().nic_established_dropped, 1);
}

#[test]
fn a_corrupt_report_is_counted_bad_not_a_connection() {
    let mut s = stack();
    let mut b = final_ack(4004, b"x");
    b[16] ^= 0xFF; // checksum wrong, and the NIC did not verify it
    s.on_established(PEER, US, &b, false, &nic(), T0);
    assert_eq!(s.stats().rx_bad, 1);
    assert!(s.accept(80).is_none());
    s.on_established(PEER, US, &[0u8; 7], true, &nic(), T0);
    assert_eq!(s.stats().rx_bad, 2);
}
