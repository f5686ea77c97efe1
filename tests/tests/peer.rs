//! The host library answers, and asks, an independent stack (smoltcp) on
//! the simulated wire: ARP both ways and ICMP echo both ways through the
//! Verilated NIC, in process, without privileges.
use smoltcp::time::Instant as SmolInstant;
use std::time::{Duration, Instant};
use toe_driver::net::{Host, NetConfig, NetIf, Received};
use toe_driver::nic::{Nic, NicConfig};
use toe_sim::wire;
use toe_tests::peer::SmolPeer;
use toe_tests::simdev::SimThread;

const PEER_IP: [u8; 4] = [10, 5, 0, 1];
const HOST_IP: [u8; 4] = [10, 5, 0, 2];

#[test]
fn smoltcp_and_the_host_library_ping_each_other() {
    let (w, port) = wire::channel();
    let sim = SimThread::start("smolpeer", w, |_| {});
    let mut nic = Nic::open(Box::new(sim.backend()), NicConfig::default()).expect("nic");
    sim.settle(2000);
    let mut host = Host::new(NetIf::new(NetConfig::new([2, 0, 0, 0, 5, 2], HOST_IP, 24)));
    let t0 = Instant::now();
    let now = || SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
    let mut peer = SmolPeer::new(port, [2, 0, 0, 0, 5, 1], PEER_IP, 24, now());
    // smoltcp pings the host library: 30 requests of different sizes.
    let data = |seq: u16| -> Vec<u8> {
        (0..(8 + seq as usize * 37))
            .map(|i| (i as u16 ^ seq) as u8)
            .collect()
    };
    let their = |seq: u16| -> Vec<u8> {
        (0..(100 + seq as usize * 130))
            .map(|i| (i * 7 + seq as usize) as u8)
            .collect()
    };
    let n = 30u16;
    let mut next = 0u16;
    let mut replies = Vec::new();
    // The host library pings smoltcp: 10 requests.
    let mut ours = Vec::new();
    let mut our_next = 0u16;
    while (replies.len() < n as usize || ours.len() < 10) && t0.elapsed() < Duration::from_secs(120)
    {
        if next < n && next as usize <= replies.len() + 4 && peer.ping(HOST_IP, next, &data(next)) {
            next += 1;
        }
        if our_next < 10
            && our_next as usize <= ours.len()
            && host
                .net
                .ping(PEER_IP.into(), 99, our_next, &their(our_next), t0.elapsed())
                .is_ok()
        {
            our_next += 1;
        }
        peer.poll(now());
        host.poll(&mut nic, t0.elapsed(), |r| {
            if let Received::EchoReply {
                from,
                ident: 99,
                seq,
                data,
            } = r
            {
                ours.push((from.octets(), seq, data.to_vec()));
            }
        });
        replies.extend(peer.replies());
        std::thread::sleep(Duration::from_micros(100));
    }
    assert_eq!(replies.len(), n as usize, "echo replies smoltcp received");
    for (i, (from, seq, d)) in replies.iter().enumerate() {
        assert_eq!((*from, *seq), (HOST_IP, i as u16));
        assert_eq!(d, &data(i as u16), "payload of reply {i}");
    }
    // The first request may have waited for ARP; none may be lost after.
    assert!(
        ours.len() >= 10,
        "echo replies the host library received: {}; stats {:?}",
        ours.len(),
        host.net.stats()
    );
    for (i, (from, seq, d)) in ours.iter().enumerate() {
        assert_eq!((*from, *seq), (PEER_IP, i as u16));
        assert_eq!(d, &their(i as u16));
    }
    let st = host.net.stats();
    assert_eq!(
        (st.rx_echo_requests, st.tx_echo_replies),
        (n as u64, n as u64)
    );
    assert_eq!(
        st.drop_bad_checksum + st.drop_malformed + st.drop_tx_full,
        0
    );
    drop(nic);
    assert_eq!(sim.stop().violations, 0);
}
