//! An independent TCP/IP stack (smoltcp) as an in-process peer on the
//! simulated wire: the embedded default that needs no privileges.
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{ChecksumCapabilities, Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::icmp;
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, Icmpv4Packet, Icmpv4Repr, IpAddress, IpCidr, Ipv4Address,
};
use toe_sim::wire::PeerPort;

/// A smoltcp device on the peer's end of an in-process wire.
pub struct PortDevice {
    pub port: PeerPort,
}

pub struct Rx(Vec<u8>);
pub struct Tx<'a>(&'a PeerPort);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.send(buf);
        r
    }
}

impl Device for PortDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;
    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx<'_>)> {
        let f = self.port.try_recv()?;
        Some((Rx(f), Tx(&self.port)))
    }
    fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
        Some(Tx(&self.port))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
}

/// A smoltcp host with one ICMP socket.
pub struct SmolPeer {
    pub dev: PortDevice,
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub icmp: SocketHandle,
    pub ident: u16,
}

impl SmolPeer {
    /// A host with `mac` and `ip`/`prefix` on the wire `port`.
    pub fn new(port: PeerPort, mac: [u8; 6], ip: [u8; 4], prefix: u8, now: Instant) -> SmolPeer {
        let mut dev = PortDevice { port };
        let cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        let mut iface = Interface::new(cfg, &mut dev, now);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(ip)), prefix))
                .unwrap();
        });
        let mut sockets = SocketSet::new(vec![]);
        let meta = || vec![icmp::PacketMetadata::EMPTY; 64];
        let sock = icmp::Socket::new(
            icmp::PacketBuffer::new(meta(), vec![0; 64 * 1024]),
            icmp::PacketBuffer::new(meta(), vec![0; 64 * 1024]),
        );
        let icmp = sockets.add(sock);
        let ident = 0x7e57;
        sockets
            .get_mut::<icmp::Socket>(icmp)
            .bind(icmp::Endpoint::Ident(ident))
            .unwrap();
        SmolPeer {
            dev,
            iface,
            sockets,
            icmp,
            ident,
        }
    }

    pub fn poll(&mut self, now: Instant) {
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
    }

    /// Queues an echo request to `dst`; false if the socket is full.
    pub fn ping(&mut self, dst: [u8; 4], seq: u16, data: &[u8]) -> bool {
        let repr = Icmpv4Repr::EchoRequest {
            ident: self.ident,
            seq_no: seq,
            data,
        };
        let s = self.sockets.get_mut::<icmp::Socket>(self.icmp);
        let Ok(buf) = s.send(repr.buffer_len(), IpAddress::Ipv4(Ipv4Address::from(dst))) else {
            return false;
        };
        repr.emit(
            &mut Icmpv4Packet::new_unchecked(buf),
            &ChecksumCapabilities::default(),
        );
        true
    }

    /// Echo replies received: (from, seq, data).
    pub fn replies(&mut self) -> Vec<([u8; 4], u16, Vec<u8>)> {
        let s = self.sockets.get_mut::<icmp::Socket>(self.icmp);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = s.recv_slice(&mut buf) {
            let Ok(p) = Icmpv4Packet::new_checked(&buf[..n]) else {
                continue;
            };
            if let Ok(Icmpv4Repr::EchoReply { seq_no, data, .. }) =
                Icmpv4Repr::parse(&p, &ChecksumCapabilities::default())
            {
                let IpAddress::Ipv4(a) = from else { continue };
                out.push((a.octets(), seq_no, data.to_vec()));
            }
        }
        out
    }
}

/// A smoltcp host as the simulator's wire itself, inside the simulator's
/// process: it answers ARP and ICMP echo and, if told to, pings a target
/// every `interval`.  What `cargo xtask sim -- --peer ...` runs.
pub struct SmolWire {
    peer: SmolPeer,
    nic: toe_sim::wire::ChannelWire,
    start: std::time::Instant,
    target: Option<[u8; 4]>,
    interval: std::time::Duration,
    next_ping: std::time::Duration,
    seq: u16,
    /// Echo requests sent and replies received (with the right payload).
    pub pings_sent: u64,
    pub replies: u64,
    pub bad_replies: u64,
}

impl SmolWire {
    pub fn new(
        mac: [u8; 6],
        ip: [u8; 4],
        prefix: u8,
        target: Option<[u8; 4]>,
        interval: std::time::Duration,
    ) -> SmolWire {
        let (nic_end, peer_end) = toe_sim::wire::channel();
        // The channel's NIC end is driven from here: frames the NIC sends
        // go to smoltcp through `peer_end`, and back.
        let start = std::time::Instant::now();
        let peer = SmolPeer::new(peer_end, mac, ip, prefix, Instant::from_micros(0));
        SmolWire {
            peer,
            nic: nic_end,
            start,
            target,
            interval,
            next_ping: interval,
            seq: 0,
            pings_sent: 0,
            replies: 0,
            bad_replies: 0,
        }
    }

    fn payload(seq: u16) -> Vec<u8> {
        (0..56u16).map(|i| (i ^ seq) as u8).collect()
    }

    fn poll(&mut self) {
        let now = self.start.elapsed();
        let t = Instant::from_micros(now.as_micros() as i64);
        if let Some(dst) = self.target {
            if now >= self.next_ping && self.peer.ping(dst, self.seq, &Self::payload(self.seq)) {
                self.seq = self.seq.wrapping_add(1);
                self.pings_sent += 1;
                self.next_ping = now + self.interval;
            }
        }
        self.peer.poll(t);
        for (_, seq, data) in self.peer.replies() {
            if data == Self::payload(seq) {
                self.replies += 1;
            } else {
                self.bad_replies += 1;
            }
        }
    }
}

impl toe_sim::wire::Wire for SmolWire {
    fn recv(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        self.poll();
        self.nic.recv()
    }
    fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        self.nic.send(frame)?;
        self.poll();
        Ok(())
    }
    fn describe(&self) -> String {
        format!(
            "in-process smoltcp host {}",
            Ipv4Address::from(self.peer_ip())
        )
    }
}

impl Drop for SmolWire {
    fn drop(&mut self) {
        if self.target.is_some() {
            eprintln!(
                "{}: {} echo requests sent, {} replies with the right payload, {} wrong",
                toe_sim::wire::Wire::describe(self),
                self.pings_sent,
                self.replies,
                self.bad_replies
            );
        }
    }
}

impl SmolWire {
    fn peer_ip(&self) -> [u8; 4] {
        match self.peer.iface.ip_addrs().first().map(|c| c.address()) {
            Some(IpAddress::Ipv4(a)) => a.octets(),
            _ => [0; 4],
        }
    }
}
