//! Whatever bytes arrive, the network layer and the receive buffer neither
//! panic nor grow: malformed input is a counted drop.
use proptest::prelude::*;
use std::time::Duration;
use toe_driver::net::{NetConfig, NetIf, Received};
use toe_driver::tcp::recv::{RecvBuffer, MAX_RANGES};
use toe_driver::tcp::seq::Seq;

/// A valid ICMP echo request to 10.9.0.2 from 10.9.0.1.
fn echo_frame() -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, // Ethernet
        0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2, // IPv4
        8, 0, 0, 0, 0x12, 0x34, 0, 1, // ICMP echo request
    ];
    let ip = ip_sum(&f[14..34]);
    f[24..26].copy_from_slice(&ip.to_be_bytes());
    let icmp = ip_sum(&f[34..42]);
    f[36..38].copy_from_slice(&icmp.to_be_bytes());
    f
}

fn ip_sum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn netif() -> NetIf {
    let mut cfg = NetConfig::new([0x02, 0, 0, 0, 0, 0x01], [10, 9, 0, 2], 24);
    cfg.tx_capacity = 64;
    cfg.arp_capacity = 16;
    NetIf::new(cfg)
}

proptest! {
    #[test]
    fn random_frames_are_counted_not_fatal(frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..50)) {
        let mut n = netif();
        for (i, f) in frames.iter().enumerate() {
            let _ = n.receive(f, Duration::from_millis(i as u64));
        }
        let s = n.stats();
        prop_assert_eq!(s.rx_frames, frames.len() as u64);
        prop_assert!(n.tx_queued() <= 64);
        prop_assert!(n.arp().len() <= 16);
    }

    #[test]
    fn mutated_echo_requests_are_answered_or_dropped(flips in prop::collection::vec((0usize..42, any::<u8>()), 0..4), cut in 0usize..43) {
        let mut f = echo_frame();
        for (i, x) in flips {
            f[i] ^= x;
        }
        f.truncate(cut.max(14).min(f.len()));
        let mut n = netif();
        let r = n.receive(&f, Duration::ZERO);
        let replied = n.poll_transmit().is_some();
        match r {
            Received::Handled | Received::Dropped => {}
            Received::Ipv4 { .. } | Received::EchoReply { .. } => {}
        }
        // A reply only ever answers something that parsed as ours.
        if replied {
            prop_assert!(n.stats().tx_echo_replies + n.stats().rx_arp_requests >= 1);
        }
    }

    #[test]
    fn receive_buffer_matches_a_model(segs in prop::collection::vec((0u32..3000, 1usize..400), 1..60)) {
        let cap = 2048usize;
        let isn = Seq(u32::MAX - 1000);
        let mut r = RecvBuffer::new(isn, cap);
        // Model: the stream's bytes are (offset as u8); what is readable
        // must be exactly the prefix, never more than the capacity.
        let mut read = 0usize;
        let mut out = vec![0u8; 4096];
        for (i, (off, len)) in segs.iter().enumerate() {
            let data: Vec<u8> = (*off as usize..*off as usize + len).map(|b| b as u8).collect();
            r.insert(isn + *off, &data);
            prop_assert!(r.readable() <= cap);
            prop_assert!(r.sack_blocks(100).len() <= MAX_RANGES);
            if i % 3 == 0 {
                let n = r.read(&mut out);
                for (k, b) in out[..n].iter().enumerate() {
                    prop_assert_eq!(*b, (read + k) as u8);
                }
                read += n;
            }
            prop_assert_eq!(r.rcv_nxt() - isn, (read + r.readable()) as u32);
        }
    }
}
