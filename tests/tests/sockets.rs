//! The socket API and event loop (driver/src/socket.rs) over the
//! Verilated NIC: one stack instance per queue pair, smoltcp as the peer.
//!
//! * many smoltcp clients connect to an echo server that listens on every
//!   instance; RSS spreads the flows and each instance serves the flows of
//!   its own queue only;
//! * every instance opens a connection to a smoltcp server: the local port
//!   it picks must bring the replies back to its own queue (otherwise the
//!   handshake never completes), and the peer's MAC, resolved by the ARP
//!   reply that lands on queue 0, reaches the others through `Neighbours`;
//! * a connection to a port nobody listens on reports `Refused`.
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_driver::socket::{Ready, SockError};
use toe_tests::socket_rig::{self, SocketRig};

const NET: u8 = 6;
const PEER: [u8; 4] = socket_rig::peer_ip(NET);
const US: [u8; 4] = socket_rig::our_ip(NET);

/// Echo on every instance; `n` smoltcp clients, `len` bytes each.
#[test]
fn echo_server_on_every_queue_serves_the_flows_rss_gives_it() {
    let mut rig = SocketRig::new("sockecho", NET);
    let listeners: Vec<u32> = rig
        .eps
        .iter_mut()
        .map(|ep| ep.listen(7, 64).expect("listen"))
        .collect();
    assert_eq!(
        rig.eps[0].listen(7, 1),
        Err(SockError::AddrInUse),
        "second listener on one port"
    );
    let n = 12usize;
    let len = 20_000usize;
    let mut clients = Vec::new();
    for i in 0..n {
        let h = rig.smol_connect(7, 41000 + i as u16);
        let data: Vec<u8> = (0..len).map(|j| (j * 7 + i * 13) as u8).collect();
        clients.push((h, data, 0usize, Vec::new(), false));
    }
    let mut events = vec![Vec::new(); rig.eps.len()];
    // Per instance: accepted sockets and bytes waiting to be echoed.
    let mut served: Vec<Vec<(u32, Vec<u8>)>> = vec![Vec::new(); rig.eps.len()];
    let mut accepted = vec![0usize; rig.eps.len()];
    let mut closed = 0usize;
    let mut buf = vec![0u8; 8192];
    while rig.t0.elapsed() < Duration::from_secs(120) && closed < n {
        rig.step(&mut events);
        // The clients.
        for (h, data, sent, got, done) in clients.iter_mut() {
            let s = rig.peer.sockets.get_mut::<tcp::Socket>(*h);
            if s.can_send() && *sent < data.len() {
                *sent += s.send_slice(&data[*sent..]).unwrap();
            }
            while s.can_recv() {
                let k = s.recv_slice(&mut buf).unwrap();
                got.extend_from_slice(&buf[..k]);
            }
            if got.len() == data.len() && !*done {
                s.close();
                *done = true;
            }
        }
        // The servers: one event loop per instance.
        for (q, ep) in rig.eps.iter_mut().enumerate() {
            for e in events[q].clone() {
                if e.socket == listeners[q] {
                    assert!(e.ready.contains(Ready::ACCEPTABLE), "{e:?}");
                    while let Ok(s) = ep.accept(listeners[q]) {
                        let (lport, raddr, rport) = ep.peer(s).unwrap();
                        assert_eq!((lport, raddr), (7, Ipv4Addr::from(PEER)));
                        // RSS put this flow here: the NIC's own view agrees.
                        assert_eq!(
                            rig.nic.rx_queue_of(PEER, US, rport, 7),
                            q as u32,
                            "flow from port {rport} accepted on queue {q}"
                        );
                        accepted[q] += 1;
                        served[q].push((s, Vec::new()));
                    }
                    continue;
                }
                let Some(i) = served[q].iter().position(|(s, _)| *s == e.socket) else {
                    panic!("event for unknown socket {e:?}");
                };
                if e.ready.contains(Ready::READABLE) {
                    loop {
                        match ep.read(e.socket, &mut buf) {
                            Ok(0) => {
                                // End of stream: echo what is left, then close.
                                if served[q][i].1.is_empty() {
                                    ep.close(e.socket).unwrap();
                                    served[q].remove(i);
                                    closed += 1;
                                }
                                break;
                            }
                            Ok(k) => served[q][i].1.extend_from_slice(&buf[..k]),
                            Err(SockError::WouldBlock) => break,
                            Err(err) => panic!("read: {err}"),
                        }
                    }
                }
            }
            // Echo what is pending (backpressure: keep what does not fit).
            for (s, pending) in served[q].iter_mut() {
                if !pending.is_empty() {
                    match ep.write(*s, pending) {
                        Ok(k) => {
                            pending.drain(..k);
                        }
                        Err(SockError::WouldBlock) => {}
                        Err(err) => panic!("write: {err}"),
                    }
                }
            }
        }
    }
    println!("accepted per queue {accepted:?}, closed {closed}");
    for (h, data, sent, got, _) in &clients {
        assert_eq!(*sent, data.len());
        assert!(
            got == data,
            "client {h:?}: {} of {} bytes echoed",
            got.len(),
            data.len()
        );
    }
    assert_eq!(closed, n, "server sockets closed after end of stream");
    assert_eq!(accepted.iter().sum::<usize>(), n);
    assert!(
        accepted.iter().filter(|a| **a > 0).count() >= 2,
        "RSS spread 12 flows over at least two queues: {accepted:?}"
    );
    for ep in &rig.eps {
        assert_eq!(ep.tcp_stats().rx_bad, 0);
    }
    drop(rig.nic);
    assert_eq!(rig.sim.stop().violations, 0);
}

#[test]
fn connect_from_every_queue_and_a_refused_port() {
    let mut rig = SocketRig::new("sockconn", NET);
    // A smoltcp server per instance on port 9000 + q, answering "hello".
    let servers: Vec<SocketHandle> = (0..rig.eps.len())
        .map(|q| {
            let h = rig.smol_socket();
            rig.peer
                .sockets
                .get_mut::<tcp::Socket>(h)
                .listen(9000 + q as u16)
                .unwrap();
            h
        })
        .collect();
    let mut events = vec![Vec::new(); rig.eps.len()];
    let t = rig.now();
    let conns: Vec<u32> = (0..rig.eps.len())
        .map(|q| {
            rig.eps[q]
                .connect((Ipv4Addr::from(PEER), 9000 + q as u16), t)
                .expect("connect")
        })
        .collect();
    let refused = rig.eps[2]
        .connect((Ipv4Addr::from(PEER), 5), t)
        .expect("connect");
    let mut got = vec![Vec::new(); rig.eps.len()];
    let mut refused_seen = None;
    let mut buf = [0u8; 256];
    while rig.t0.elapsed() < Duration::from_secs(60) {
        rig.step(&mut events);
        for h in &servers {
            let s = rig.peer.sockets.get_mut::<tcp::Socket>(*h);
            if s.may_send() && s.send_queue() == 0 && s.state() == tcp::State::Established {
                s.send_slice(b"hello").unwrap();
                s.close();
            }
        }
        for q in 0..rig.eps.len() {
            for e in events[q].clone() {
                if e.socket == refused && q == 2 {
                    if e.ready.contains(Ready::ERROR) {
                        refused_seen = rig.eps[2].error(refused);
                    }
                    continue;
                }
                assert_eq!(e.socket, conns[q], "queue {q}: {e:?}");
                if e.ready.contains(Ready::WRITABLE) {
                    // Established: WRITABLE is not needed any more.
                    rig.eps[q].set_interest(e.socket, Ready::READABLE).unwrap();
                }
                if e.ready.contains(Ready::READABLE) {
                    match rig.eps[q].read(e.socket, &mut buf) {
                        Ok(0) => {}
                        Ok(k) => got[q].extend_from_slice(&buf[..k]),
                        Err(SockError::WouldBlock) => {}
                        Err(err) => panic!("queue {q}: {err}"),
                    }
                }
            }
        }
        if refused_seen.is_some() && got.iter().all(|g| g == b"hello") {
            break;
        }
    }
    for (q, g) in got.iter().enumerate() {
        let (lport, _, _) = rig.eps[q].peer(conns[q]).unwrap();
        assert_eq!(
            rig.nic.rx_queue_of(PEER, US, 9000 + q as u16, lport),
            q as u32,
            "queue {q} chose local port {lport}"
        );
        assert_eq!(g, b"hello", "queue {q} received");
    }
    assert_eq!(refused_seen, Some(SockError::Refused));
    for (ep, &s) in rig.eps.iter_mut().zip(&conns) {
        ep.close(s).unwrap();
    }
    assert_eq!(rig.eps[0].close(conns[0]), Err(SockError::BadSocket));
    drop(rig.nic);
    assert_eq!(rig.sim.stop().violations, 0);
}
