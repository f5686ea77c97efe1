//! The setup offload with real TCP stacks: smoltcp clients connect through
//! the Verilated NIC to the host library; the NIC answers every SYN and
//! hands the host established connections (it never sees a SYN).
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use toe_contract::regs::Counter;
use toe_driver::socket::{ConnectOptions, SockError};
use toe_tests::socket_rig::{self, SocketRig};

const NET: u8 = 7;
const PEER: [u8; 4] = socket_rig::peer_ip(NET);

/// `n` clients each send `len` bytes to an echo server on port 80 and read
/// them back; returns (NIC counters SYN-ACK / established, host stats).
fn echo(offload: bool, n: usize, len: usize) -> (u64, u64, u64, u64) {
    let tag = if offload { "setupeco" } else { "setupsw" };
    let mut b = SocketRig::builder(tag, NET);
    if offload {
        b = b.setup_offload();
    }
    let mut rig = b.build();
    let ls: Vec<u32> = rig
        .eps
        .iter_mut()
        .map(|ep| ep.listen(80, 64).unwrap())
        .collect();
    let mut clients: Vec<(SocketHandle, Vec<u8>, Vec<u8>)> = Vec::new();
    for i in 0..n {
        let h = rig.smol_connect(80, 50000 + i as u16);
        let data: Vec<u8> = (0..len).map(|b| (b * 31 + i * 7) as u8).collect();
        clients.push((h, data, Vec::new()));
    }
    let mut conns: Vec<Vec<u32>> = vec![vec![]; 4];
    let mut events = vec![vec![]; 4];
    let mut sent = vec![0usize; n];
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        rig.step(&mut events);
        for (q, ep) in rig.eps.iter_mut().enumerate() {
            while let Ok(s) = ep.accept(ls[q]) {
                conns[q].push(s);
            }
            for &s in &conns[q] {
                while let Ok(k) = ep.read(s, &mut buf) {
                    if k == 0 {
                        break;
                    }
                    assert_eq!(ep.write(s, &buf[..k]), Ok(k), "echo write");
                }
            }
        }
        let mut done = 0;
        for (i, (h, data, got)) in clients.iter_mut().enumerate() {
            let s = rig.peer.sockets.get_mut::<tcp::Socket>(*h);
            if s.can_send() && sent[i] < data.len() {
                sent[i] += s.send_slice(&data[sent[i]..]).unwrap();
            }
            while s.can_recv() {
                s.recv(|b| {
                    got.extend_from_slice(b);
                    (b.len(), ())
                })
                .unwrap();
            }
            if got.len() == data.len() {
                done += 1;
            }
        }
        if done == n {
            break;
        }
        if Instant::now() >= deadline {
            let d = rig.nic.device();
            let c: Vec<_> = d.counters().into_iter().filter(|(_, v)| *v != 0).collect();
            let st: Vec<_> = rig.eps.iter().map(|e| e.tcp_stats()).collect();
            panic!("echo did not finish: {done} of {n}; NIC counters {c:?}; host {st:?}");
        }
    }
    for (h, data, got) in &clients {
        assert_eq!(got, data, "client {h:?}: echoed bytes differ");
    }
    let d = rig.nic.device();
    let stats: Vec<_> = rig.eps.iter().map(|e| e.tcp_stats()).collect();
    let nic_est: u64 = stats.iter().map(|s| s.nic_established).sum();
    let rx: u64 = stats.iter().map(|s| s.rx_segments).sum();
    (
        d.counter(Counter::SetupSynAck),
        d.counter(Counter::SetupEstablished),
        nic_est,
        rx,
    )
}

#[test]
fn smoltcp_clients_connect_through_the_nic_handshake() {
    let n = 8;
    let (synacks, est, host_est, _) = echo(true, n, 3000);
    println!("offload: {synacks} SYN-ACKs by the NIC, {est} established reports, {host_est} connections created from them");
    assert_eq!(synacks, n as u64, "the NIC answered every SYN");
    assert!(est >= n as u64);
    assert_eq!(host_est, n as u64, "every connection came from the NIC");
}

#[test]
fn the_software_handshake_stays_available() {
    let n = 4;
    let (synacks, est, host_est, _) = echo(false, n, 1000);
    assert_eq!((synacks, est, host_est), (0, 0, 0));
}

/// Our clients open `n` connections by the NIC to a smoltcp echo server
/// (more than the NIC's 16 slots: the rest run the software handshake),
/// send `len` bytes each and read them back.
#[test]
fn our_nic_opens_to_a_smoltcp_server() {
    let (n, len) = (24usize, 2000usize);
    let mut rig = SocketRig::builder("aosmol", NET).nic_connect().build();
    let servers: Vec<SocketHandle> = (0..n)
        .map(|_| {
            let mut s = tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 16 * 1024]),
                tcp::SocketBuffer::new(vec![0; 16 * 1024]),
            );
            s.listen(7).unwrap();
            rig.peer.sockets.add(s)
        })
        .collect();
    let t = rig.t0.elapsed();
    // (queue, socket, data to send, bytes sent, bytes received)
    type Client = (usize, u32, Vec<u8>, usize, Vec<u8>);
    let mut ours: Vec<Client> = (0..n)
        .map(|i| {
            let q = i % rig.eps.len();
            let s = rig.eps[q]
                .connect_with((Ipv4Addr::from(PEER), 7), t, ConnectOptions { nic: true })
                .expect("connect");
            let data: Vec<u8> = (0..len).map(|b| (b * 13 + i * 5) as u8).collect();
            (q, s, data, 0, Vec::new())
        })
        .collect();
    let mut events = vec![vec![]; 4];
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        rig.step(&mut events);
        for &h in &servers {
            let s = rig.peer.sockets.get_mut::<tcp::Socket>(h);
            while s.can_recv() && s.can_send() {
                let k = s.recv_slice(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                assert_eq!(s.send_slice(&buf[..k]).unwrap(), k, "smoltcp echo");
            }
        }
        let mut done = 0;
        for (q, s, data, sent, got) in ours.iter_mut() {
            let ep = &mut rig.eps[*q];
            if let Some(e) = ep.error(*s) {
                panic!("connection failed: {e}");
            }
            if *sent < data.len() {
                if let Ok(k) = ep.write(*s, &data[*sent..]) {
                    *sent += k;
                }
            }
            while let Ok(k) = ep.read(*s, &mut buf) {
                if k == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..k]);
            }
            if got.len() == data.len() {
                done += 1;
            }
        }
        if done == n {
            break;
        }
        assert!(Instant::now() < deadline, "echo: {done} of {n} done");
    }
    for (_, _, data, _, got) in &ours {
        assert_eq!(got, data, "echoed bytes differ");
    }
    let d = rig.nic.device();
    let st: Vec<_> = rig.eps.iter().map(|e| e.tcp_stats()).collect();
    let est: u64 = st.iter().map(|s| s.nic_connect_established).sum();
    let fallback: u64 = st.iter().map(|s| s.nic_connect_fallback).sum();
    println!(
        "{n} connects: {est} opened by the NIC ({} SYNs, {} completed), {fallback} by software",
        d.counter(Counter::ConnectSyn),
        d.counter(Counter::ConnectEstablished)
    );
    assert_eq!(est + fallback, n as u64);
    assert!(est >= 16, "the NIC's 16 slots were used");
    assert_eq!(d.counter(Counter::ConnectEstablished), est);
    assert_eq!(d.connect_pending().unwrap(), 0);
}

/// smoltcp answers a NIC open to a closed port with RST: refused.
#[test]
fn smoltcp_refuses_a_nic_open_to_a_closed_port() {
    let mut rig = SocketRig::builder("aosmolrst", NET).nic_connect().build();
    let t = rig.t0.elapsed();
    let s = rig.eps[1]
        .connect_with((Ipv4Addr::from(PEER), 9), t, ConnectOptions { nic: true })
        .expect("connect");
    let mut events = vec![vec![]; 4];
    let deadline = Instant::now() + Duration::from_secs(30);
    let err = loop {
        rig.step(&mut events);
        if let Some(e) = rig.eps[1].error(s) {
            break e;
        }
        assert!(Instant::now() < deadline, "no answer to the connect");
    };
    assert_eq!(err, SockError::Refused);
    let d = rig.nic.device();
    assert_eq!(d.counter(Counter::ConnectRefused), 1);
    assert_eq!(rig.eps[1].tcp_stats().nic_connect_refused, 1);
}
