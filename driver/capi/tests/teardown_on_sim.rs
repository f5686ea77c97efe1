//! The teardown offload's host side on today's simulated NIC (Verilated
//! RTL), which has no teardown block and rejects the hand-over opcode like
//! any unknown one (CPL_ERROR, TxBadDescriptor).  An endpoint is given the
//! offload anyway (`EndpointConfig::teardown`, as a device with the block
//! would give it), so the whole host path runs against the real queues:
//! the hand-over descriptor goes onto the TX ring after the data, the
//! queue layer reads its tag back and holds the buffer, the TX completion
//! with CPL_ERROR returns it through `take_teardowns`, and the connection
//! is rebuilt and closed in software.  A smoltcp client on the simulated
//! wire must get every byte and the FIN, and no buffer may leak.
//! (The device itself refuses the option: `tests/abi_errors.rs`.)
use smoltcp::iface::{Config as IfConfig, Interface, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::time::{Duration, Instant};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig};
use toe_driver::offload::TeardownParams;
use toe_driver::socket::{Endpoint, EndpointConfig};
use toe_sim::wire;
use toe_sim_support::peer::PortDevice;
use toe_sim_support::simdev::SimThread;

const US: [u8; 4] = [10, 7, 0, 2];
const PEER: [u8; 4] = [10, 7, 0, 1];
const US_MAC: [u8; 6] = [2, 0, 0, 0, 7, 2];
const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 7, 1];
const PORT: u16 = 80;

#[test]
fn a_hand_over_the_rtl_rejects_is_finished_in_software() {
    let (w, port) = wire::channel();
    let sim = SimThread::start("tdrej", w, |_| {});
    let cfg = NicConfig {
        queue_pairs: 1,
        rss_key: None,
        ..NicConfig::default()
    };
    let mut nic = Nic::open(Box::new(sim.backend()), cfg).expect("open the NIC");
    sim.settle(2000);
    assert!(
        !nic.device().has_teardown_offload(),
        "the simulated device grew a teardown block: give this test a device without one"
    );
    let mut ecfg = EndpointConfig::new(0, NetConfig::new(US_MAC, US, 24));
    ecfg.tcp.msl = Duration::from_millis(200);
    ecfg.teardown = Some(TeardownParams::with_tick(Duration::from_millis(1)));
    let mut ep = Endpoint::new(ecfg, &nic).expect("endpoint");
    let l = ep.listen(PORT, 4).unwrap();
    ep.set_teardown_offload(l, true).unwrap();

    let t0 = Instant::now();
    let smol_now = |t0: Instant| SmolInstant::from_micros(t0.elapsed().as_micros() as i64);
    let mut dev = PortDevice { port };
    let mut iface = Interface::new(
        IfConfig::new(HardwareAddress::Ethernet(EthernetAddress(PEER_MAC))),
        &mut dev,
        smol_now(t0),
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(PEER)), 24))
            .unwrap()
    });
    let mut socks = SocketSet::new(vec![]);
    let h = socks.add(tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 16 * 1024]),
        tcp::SocketBuffer::new(vec![0; 16 * 1024]),
    ));
    socks
        .get_mut::<tcp::Socket>(h)
        .connect(
            iface.context(),
            (IpAddress::Ipv4(Ipv4Address::from(US)), PORT),
            41_000,
        )
        .unwrap();

    // Within a default buffer after the record (1,984 bytes).
    let response: Vec<u8> = (0..1500u32).map(|i| (i * 11 + i / 97) as u8).collect();
    let pool_before = nic.pool_available(0);
    let mut events = Vec::new();
    let mut conn = None;
    let mut request = Vec::new();
    let mut got = Vec::new();
    let mut sent_request = false;
    let mut server_closed = false;
    let mut client_closed = false;
    let limit = Duration::from_secs(30);
    loop {
        assert!(
            t0.elapsed() < limit,
            "not done within {limit:?}: got {} bytes, client {:?}, server connections {}, \
             teardown {:?}",
            got.len(),
            socks.get::<tcp::Socket>(h).state(),
            ep.connections(),
            ep.teardown_stats()
        );
        let now = t0.elapsed();
        iface.poll(smol_now(t0), &mut dev, &mut socks);
        ep.poll(&mut nic, now, &mut events);
        let s = socks.get_mut::<tcp::Socket>(h);
        if s.may_send() && !sent_request {
            assert_eq!(s.send_slice(b"GET /"), Ok(5));
            sent_request = true;
        }
        while s.can_recv() {
            let mut b = [0u8; 4096];
            let n = s.recv_slice(&mut b).unwrap();
            got.extend_from_slice(&b[..n]);
        }
        if got.len() == response.len() && !s.may_recv() && !client_closed {
            // The server's FIN came after every byte.
            s.close();
            client_closed = true;
        }
        if conn.is_none() {
            conn = ep.accept(l).ok();
        }
        if let (Some(c), false) = (conn, server_closed) {
            let mut b = [0u8; 64];
            if let Ok(n) = ep.read(c, &mut b) {
                request.extend_from_slice(&b[..n]);
            }
            if request == b"GET /" {
                assert_eq!(ep.write(c, &response), Ok(response.len()));
                ep.close(c).unwrap();
                server_closed = true;
            }
        }
        if client_closed && ep.connections() == 0 && ep.teardowns_pending() == (0, 0) {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(got, response);
    let st = ep.teardown_stats().unwrap();
    assert_eq!(
        (st.handed_over, st.rejected, st.rebuilt, st.lost),
        (1, 1, 1, 0),
        "{st:?}"
    );
    assert_eq!(ep.tcp_stats().teardown_rebuilt, 1);
    let qs = nic.stats(0);
    assert_eq!(qs.teardown_posted, 1, "{qs:?}");
    assert_eq!(qs.tx_errors, 1, "the RTL rejected the opcode: {qs:?}");
    assert_eq!(nic.handovers_held(0), 0);
    // Every TX buffer is back (a read of in-flight descriptors reclaims
    // the completed ones first).
    let deadline = Instant::now() + Duration::from_secs(30);
    while nic.tx_in_flight(0) > 0 {
        assert!(Instant::now() < deadline, "TX descriptors never completed");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(nic.pool_available(0), pool_before, "a buffer leaked");
    drop(nic);
    sim.stop();
}
