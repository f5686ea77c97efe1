//! Ethernet frames into the host network layer (`NetIf`: Ethernet, ARP,
//! IPv4, ICMP) and the TCP packets it passes up into a `TcpStack` with two
//! listeners (one small enough that SYN cookies start); what the stack
//! sends goes back down through `NetIf` (ARP resolution included).
//!
//! Invariants, checked after every frame: no panic; queues and tables
//! bounded; every frame sent is a well-formed Ethernet/IPv4 frame of at
//! most 1514 bytes with good checksums; no packet is sent to a martian
//! address (broadcast, multicast, 0/8, 127/8, 240/4, our own); never an
//! RST in answer to an RST, and an RST only to the sender of the frame
//! just received.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Address, Ipv4Packet, TcpPacket,
};
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_driver::net::{NetConfig, NetIf, Received, RxChecks};
use toe_driver::tcp::conn::Config;
use toe_driver::tcp::isn::IsnGenerator;
use toe_driver::tcp::stack::TcpStack;
use toe_fuzz::Input;

const US: [u8; 4] = [10, 0, 0, 1];
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAX_CONNS: usize = 64;

fn martian(ip: [u8; 4]) -> bool {
    ip == [255; 4]
        || ip == [10, 0, 0, 255]
        || ip[0] == 0
        || ip[0] == 127
        || ip[0] >= 224
        || ip == US
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let mut cfg = NetConfig::new(MAC, US, 24);
    cfg.checksum_offload = flags & 1 != 0;
    cfg.tx_capacity = 64;
    cfg.pending_capacity = 16;
    cfg.arp_capacity = 16;
    if flags & 2 != 0 {
        cfg.gateway = Some(Ipv4Address::new(10, 0, 0, 254));
    }
    let mut net = NetIf::new(cfg);
    let tcp_cfg = Config::default();
    let mut stack = TcpStack::new(
        Ipv4Addr::from(US),
        tcp_cfg,
        IsnGenerator::new([3; 16]),
        MAX_CONNS,
    );
    stack.set_tx_checksum_offload(false);
    stack.listen(80, 2);
    stack.listen(443, 64);
    let mut now = Duration::from_secs(100);
    let mut frames = 0;
    while !inp.is_empty() && frames < 64 {
        frames += 1;
        let ctl = inp.u8();
        now += Duration::from_millis(if ctl & 0x80 != 0 {
            inp.u16() as u64 * 16
        } else {
            1
        });
        let checks = RxChecks {
            ip_ok: ctl & 1 != 0,
            l4_ok: ctl & 2 != 0,
        };
        let frame = inp.frame(2000);
        // What the frame is, as an independent parser reads it, so that the
        // replies can be judged.
        let mut in_rst = None;
        if let Ok(eth) = EthernetFrame::new_checked(frame) {
            if eth.ethertype() == EthernetProtocol::Ipv4 {
                if let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) {
                    if ip.next_header() == IpProtocol::Tcp {
                        if let Ok(t) = TcpPacket::new_checked(ip.payload()) {
                            in_rst = Some((ip.src_addr().octets(), t.src_port(), t.rst()));
                        }
                    }
                }
            }
        }
        match net.receive_checked(frame, now, checks) {
            Received::Ipv4 {
                src,
                dst,
                protocol: IpProtocol::Tcp,
                payload,
                l4_verified,
            } => {
                assert!(
                    !martian(src.octets()),
                    "a martian source reached TCP: {src}"
                );
                assert_eq!(
                    dst.octets(),
                    US,
                    "TCP for another address reached the stack"
                );
                stack.on_packet_checked(
                    Ipv4Addr::from(src.octets()),
                    Ipv4Addr::from(dst.octets()),
                    payload,
                    l4_verified,
                    now,
                );
            }
            _ => {}
        }
        if ctl & 0x40 != 0 {
            stack.on_timer(now);
        }
        let mut out = std::collections::VecDeque::new();
        stack.dispatch_into(now, &mut out);
        for o in &out {
            let bytes = o.to_bytes();
            let t = TcpPacket::new_checked(&bytes[..]).expect("the stack emits a parsable segment");
            assert!(
                !martian(o.dst.octets()),
                "segment to a martian address {}",
                o.dst
            );
            assert!(
                toe_fuzz::tcp_ok(US, o.dst.octets(), &bytes),
                "bad TCP checksum out"
            );
            assert!(t.src_port() != 0 && t.dst_port() != 0);
            if t.rst() && ctl & 0x40 == 0 {
                match in_rst {
                    Some((src, sport, rst)) => {
                        assert!(!rst, "an RST answered an RST");
                        assert_eq!(
                            (o.dst.octets(), t.dst_port()),
                            (src, sport),
                            "RST to someone else"
                        );
                    }
                    None => panic!("RST without a TCP segment in"),
                }
            }
            let _ = net.send_ipv4(
                Ipv4Address::from(o.dst.octets()),
                IpProtocol::Tcp,
                &bytes,
                now,
            );
        }
        net.poll(now);
        assert!(net.tx_queued() <= 64, "TX queue over its capacity");
        assert!(stack.len() <= MAX_CONNS, "connection table over max_conns");
        while let Some(f) = net.poll_transmit() {
            assert!(f.len() <= 1514, "frame of {} bytes", f.len());
            let eth = EthernetFrame::new_checked(&f.bytes[..]).expect("Ethernet frame out");
            assert_eq!(eth.src_addr().0, MAC);
            if eth.ethertype() == EthernetProtocol::Ipv4 {
                let ip = Ipv4Packet::new_checked(eth.payload()).expect("IPv4 out");
                assert_eq!(ip.src_addr().octets(), US);
                assert!(
                    !martian(ip.dst_addr().octets()),
                    "packet to martian {}",
                    ip.dst_addr()
                );
                if !net.config().checksum_offload {
                    assert!(
                        toe_fuzz::ipv4_ok(&eth.payload()[..ip.header_len() as usize]),
                        "bad IPv4 checksum out"
                    );
                }
            }
        }
    }
});
