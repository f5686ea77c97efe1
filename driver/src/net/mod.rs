//! A minimal host network layer over the driver: Ethernet, ARP (RFC 826)
//! with a bounded cache, IPv4 (RFC 791, host rules of RFC 1122) and ICMP
//! echo (RFC 792).  Upper layers (TCP) receive the IPv4 packets addressed
//! to this host that the layer does not handle itself.
//!
//! The layer is pure packet logic with explicit time: [`NetIf::receive`]
//! takes a frame and the current time, replies are queued for
//! [`NetIf::poll_transmit`].  [`Host`] glues it to a [`crate::nic::Nic`].
//! ARP and ICMP are parsed and built with smoltcp's `wire` module; the
//! Ethernet and IPv4 headers of every frame are read and written in place.
pub mod arp;
mod host;

pub use host::Host;

use arp::ArpCache;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Address, Ipv4Packet, Ipv4Repr,
};
use std::collections::VecDeque;
use std::time::Duration;

/// Addresses and limits of one interface.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub mac: EthernetAddress,
    pub ip: Ipv4Address,
    /// Length of the on-link prefix (24 for a /24).
    pub prefix_len: u8,
    /// Next hop for destinations off the prefix.
    pub gateway: Option<Ipv4Address>,
    /// ARP cache entries at most.
    pub arp_capacity: usize,
    /// IPv4 packets waiting for address resolution at most.
    pub pending_capacity: usize,
    /// How long a packet may wait for resolution before it is dropped.
    pub pending_timeout: Duration,
    /// Frames queued for transmission at most.
    pub tx_capacity: usize,
    /// TTL of packets this host originates.
    pub ttl: u8,
    /// Leave the IPv4 header checksum (and TCP's, see `tcp::stack`) to the
    /// NIC: frames go out with the field zero and `tx_flags` asking for
    /// insertion, and received frames the NIC verified are not summed again
    /// (docs/semantics.md).  Off by default (a plain NIC may not offer it).
    pub checksum_offload: bool,
}

impl NetConfig {
    pub fn new(mac: [u8; 6], ip: [u8; 4], prefix_len: u8) -> Self {
        NetConfig {
            mac: EthernetAddress(mac),
            ip: Ipv4Address::from(ip),
            prefix_len,
            gateway: None,
            arp_capacity: 1024,
            pending_capacity: 256,
            pending_timeout: Duration::from_secs(3),
            tx_capacity: 1024,
            ttl: 64,
            checksum_offload: false,
        }
    }
}

/// What the layer counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    pub rx_frames: u64,
    pub rx_arp_requests: u64,
    pub rx_arp_replies: u64,
    pub rx_echo_requests: u64,
    pub rx_echo_replies: u64,
    pub rx_delivered: u64,
    pub tx_frames: u64,
    pub tx_arp_requests: u64,
    pub tx_echo_replies: u64,
    /// Frames not for us (other MAC, other IP, broadcasts we ignore).
    pub drop_not_for_us: u64,
    /// Martian packets dropped (RFC 1122 3.2.1.3 and 4.2.3.10, RFC 1812
    /// 5.3.7): any IPv4 packet whose source no host can have (broadcast,
    /// multicast, 0.0.0.0/8, 127.0.0.0/8, 240.0.0.0/4, our own address:
    /// a LAND attack), and TCP segments sent to a broadcast or multicast
    /// address or in a broadcast or multicast Ethernet frame.
    pub rx_martian: u64,
    /// Frames that do not parse (truncated, bad lengths, bad version).
    pub drop_malformed: u64,
    pub drop_bad_checksum: u64,
    /// EtherTypes and IP protocols nobody handles (IPv6, UDP, ...).
    pub drop_unsupported: u64,
    /// IPv4 fragments (reassembly is not supported; RFC 1122 3.3.2 allows
    /// a host to drop them when it cannot reassemble).
    pub drop_fragment: u64,
    /// Packets dropped because address resolution timed out.
    pub drop_unresolved: u64,
    /// Replies dropped because the transmit queue was full.
    pub drop_tx_full: u64,
}

/// Why a send did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The transmit or resolution queue is full: try again after the
    /// queued frames have been sent (backpressure, nothing was dropped).
    WouldBlock,
    /// The payload does not fit one frame.
    TooBig,
    /// No route: off-link destination and no gateway.
    NoRoute,
}

/// What a received frame turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// Handled here (ARP, echo request answered).
    Handled,
    /// Dropped and counted.
    Dropped,
    /// An echo reply to a request of ours.
    EchoReply {
        from: Ipv4Address,
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    /// An IPv4 packet for an upper layer.
    Ipv4 {
        src: Ipv4Address,
        dst: Ipv4Address,
        protocol: IpProtocol,
        payload: &'a [u8],
        /// The NIC verified the transport checksum (TCP) as good.
        l4_verified: bool,
    },
}

/// What the NIC verified of a received frame (from its completion).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxChecks {
    pub ip_ok: bool,
    pub l4_ok: bool,
}

/// A frame to send and the TX offloads it asks for (`desc::TXF_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub tx_flags: u16,
}

impl std::ops::Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where an IPv4 packet goes ([`NetIf::route_ipv4`]).
#[derive(Clone, Copy, Debug)]
pub enum Route {
    /// The next hop's MAC address is known: the frame can be built.
    Resolved(Ipv4Frame),
    /// The next hop needs ARP first ([`NetIf::send_routed`] queues it).
    Unresolved {
        frame: Ipv4Frame,
        next_hop: Ipv4Address,
    },
}

/// The headers of one Ethernet frame carrying an IPv4 packet, ready to be
/// written wherever the frame goes.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Frame {
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    repr: Ipv4Repr,
    ident: u16,
    offload: bool,
    /// The TX offloads the frame asks for (`desc::TXF_*`).
    pub tx_flags: u16,
}

impl Ipv4Frame {
    /// Bytes of the frame (Ethernet and IPv4 headers and the payload).
    pub fn len(&self) -> usize {
        ETH_HEADER + IPV4_HEADER + self.repr.payload_len
    }
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the frame into `buf` (exactly [`Ipv4Frame::len`] bytes),
    /// the payload by `fill_payload`.  The headers are written field by
    /// field (the bytes smoltcp's `EthernetRepr` and `Ipv4Repr` wrote: the
    /// tests compare them), not through its representations.
    pub fn emit(&self, buf: &mut [u8], fill_payload: impl FnOnce(&mut [u8])) {
        let (eth, ip) = buf.split_at_mut(ETH_HEADER);
        eth[0..6].copy_from_slice(&self.dst_mac.0);
        eth[6..12].copy_from_slice(&self.src_mac.0);
        eth[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        self.emit_ip(ip, fill_payload)
    }

    /// Writes the IPv4 packet alone into `buf`: a 20-byte header (RFC 791
    /// 3.1: no options, DSCP and ECN zero, DF set, not a fragment) and the
    /// payload.
    fn emit_ip(&self, buf: &mut [u8], fill_payload: impl FnOnce(&mut [u8])) {
        let total = IPV4_HEADER + self.repr.payload_len;
        let (h, payload) = buf.split_at_mut(IPV4_HEADER);
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        // Identification distinguishes our datagrams (RFC 6864 allows
        // any value for atomic datagrams; a counter is conventional).
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        // Don't Fragment, fragment offset 0.
        h[6] = 0x40;
        h[7] = 0;
        h[8] = self.repr.hop_limit;
        h[9] = u8::from(self.repr.next_header);
        h[10..12].fill(0);
        h[12..16].copy_from_slice(&self.repr.src_addr.octets());
        h[16..20].copy_from_slice(&self.repr.dst_addr.octets());
        if !self.offload {
            Ipv4Packet::new_unchecked(&mut *h).fill_checksum();
        }
        fill_payload(&mut payload[..self.repr.payload_len]);
    }
}

/// Ethernet header length and the IPv4 EtherType.
const ETH_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
/// IPv4 header without options.
const IPV4_HEADER: usize = 20;

/// Largest IPv4 packet sent (Ethernet MTU).
pub const MTU: usize = 1500;

pub struct NetIf {
    cfg: NetConfig,
    arp: ArpCache,
    /// (next hop, IPv4 packet, queued at).
    /// (next hop, IPv4 packet, its TX flags, queued at).
    pending: VecDeque<(Ipv4Address, Vec<u8>, u16, Duration)>,
    out: VecDeque<Frame>,
    ident: u16,
    stats: NetStats,
}

fn csum() -> ChecksumCapabilities {
    ChecksumCapabilities::default()
}

impl NetIf {
    pub fn new(cfg: NetConfig) -> Self {
        NetIf {
            arp: ArpCache::new(cfg.arp_capacity),
            cfg,
            pending: VecDeque::new(),
            out: VecDeque::new(),
            ident: 1,
            stats: NetStats::default(),
        }
    }

    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }
    pub fn stats(&self) -> NetStats {
        self.stats
    }
    pub fn arp(&self) -> &ArpCache {
        &self.arp
    }

    /// Next frame to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Frame> {
        let f = self.out.pop_front();
        if f.is_some() {
            self.stats.tx_frames += 1;
        }
        f
    }

    /// Puts a frame back at the front (the NIC could not take it).
    pub fn unsend(&mut self, frame: Frame) {
        self.stats.tx_frames -= 1;
        self.out.push_front(frame);
    }

    /// Frames waiting to be sent.
    pub fn tx_queued(&self) -> usize {
        self.out.len()
    }

    fn on_link(&self, ip: Ipv4Address) -> bool {
        let bits = u32::from_be_bytes(ip.octets()) ^ u32::from_be_bytes(self.cfg.ip.octets());
        self.cfg.prefix_len == 0 || bits >> (32 - self.cfg.prefix_len.min(32) as u32) == 0
    }

    fn broadcast(&self) -> Ipv4Address {
        let host_bits = if self.cfg.prefix_len >= 32 {
            0
        } else {
            u32::MAX >> self.cfg.prefix_len
        };
        Ipv4Address::from_bits(u32::from_be_bytes(self.cfg.ip.octets()) | host_bits)
    }

    fn queue_frame(&mut self, frame: Vec<u8>) -> bool {
        if self.out.len() >= self.cfg.tx_capacity {
            self.stats.drop_tx_full += 1;
            return false;
        }
        self.out.push_back(Frame {
            bytes: frame,
            tx_flags: 0,
        });
        true
    }

    fn eth_frame(
        &self,
        dst: EthernetAddress,
        ethertype: EthernetProtocol,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Vec<u8> {
        let repr = EthernetRepr {
            src_addr: self.cfg.mac,
            dst_addr: dst,
            ethertype,
        };
        let mut buf = vec![0u8; repr.buffer_len() + payload_len];
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        repr.emit(&mut f);
        fill(f.payload_mut());
        buf
    }

    fn arp_frame(
        &self,
        op: ArpOperation,
        target_mac: EthernetAddress,
        target_ip: Ipv4Address,
        eth_dst: EthernetAddress,
    ) -> Vec<u8> {
        let repr = ArpRepr::EthernetIpv4 {
            operation: op,
            source_hardware_addr: self.cfg.mac,
            source_protocol_addr: self.cfg.ip,
            target_hardware_addr: target_mac,
            target_protocol_addr: target_ip,
        };
        self.eth_frame(eth_dst, EthernetProtocol::Arp, repr.buffer_len(), |p| {
            repr.emit(&mut ArpPacket::new_unchecked(p))
        })
    }

    /// Handles one received frame at time `now`.
    pub fn receive<'a>(&mut self, frame: &'a [u8], now: Duration) -> Received<'a> {
        self.receive_checked(frame, now, RxChecks::default())
    }

    /// [`NetIf::receive`] of a frame whose checksums the NIC verified as
    /// `checks` says: those are trusted (with `checksum_offload` on), the
    /// others are verified here.
    pub fn receive_checked<'a>(
        &mut self,
        frame: &'a [u8],
        now: Duration,
        checks: RxChecks,
    ) -> Received<'a> {
        let checks = if self.cfg.checksum_offload {
            checks
        } else {
            RxChecks::default()
        };
        self.stats.rx_frames += 1;
        // The Ethernet header read in place (smoltcp's `EthernetFrame`
        // checks and fields, without its accessors).
        if frame.len() < ETH_HEADER {
            self.stats.drop_malformed += 1;
            return Received::Dropped;
        }
        let mac = |i: usize| {
            EthernetAddress([
                frame[i],
                frame[i + 1],
                frame[i + 2],
                frame[i + 3],
                frame[i + 4],
                frame[i + 5],
            ])
        };
        let dst = mac(0);
        if dst != self.cfg.mac && !dst.is_broadcast() {
            self.stats.drop_not_for_us += 1;
            return Received::Dropped;
        }
        let payload = &frame[ETH_HEADER..];
        match u16::from_be_bytes([frame[12], frame[13]]) {
            ETHERTYPE_ARP => self.receive_arp(payload, now),
            ETHERTYPE_IPV4 => self.receive_ipv4(mac(6), dst, payload, now, checks),
            _ => {
                self.stats.drop_unsupported += 1;
                Received::Dropped
            }
        }
    }

    fn receive_arp<'a>(&mut self, payload: &'a [u8], now: Duration) -> Received<'a> {
        let Ok(repr) = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) else {
            self.stats.drop_malformed += 1;
            return Received::Dropped;
        };
        let ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr: sha,
            source_protocol_addr: spa,
            target_protocol_addr: tpa,
            ..
        } = repr
        else {
            self.stats.drop_unsupported += 1;
            return Received::Dropped;
        };
        // RFC 826 packet reception: update an existing entry; if we are the
        // target, add the sender and answer requests.
        let for_us = tpa == self.cfg.ip;
        if sha.is_unicast() && !spa.is_unspecified() && (for_us || self.arp.contains(spa, now)) {
            self.arp.insert(spa, sha, now);
            self.flush_pending(spa, sha);
        }
        if !for_us {
            self.stats.drop_not_for_us += 1;
            return Received::Dropped;
        }
        match operation {
            ArpOperation::Request => {
                self.stats.rx_arp_requests += 1;
                let f = self.arp_frame(ArpOperation::Reply, sha, spa, sha);
                self.queue_frame(f);
            }
            ArpOperation::Reply => self.stats.rx_arp_replies += 1,
            _ => self.stats.drop_unsupported += 1,
        }
        Received::Handled
    }

    /// A source address no host can have (RFC 1122 3.2.1.3: broadcast,
    /// multicast, "this network" 0/8, loopback 127/8, reserved class E
    /// 240/4; RFC 1812 5.3.7, "martian" addresses), or ours (a LAND attack:
    /// a packet from us to us, which a TCP would answer to itself).
    fn martian_source(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        let o = src.octets();
        src.is_broadcast()
            || src == self.broadcast()
            || src.is_multicast()
            || o[0] == 0
            || o[0] == 127
            || o[0] >= 240
            || src == self.cfg.ip
            || src == dst
    }

    fn receive_ipv4<'a>(
        &mut self,
        src_mac: EthernetAddress,
        dst_mac: EthernetAddress,
        payload: &'a [u8],
        now: Duration,
        checks: RxChecks,
    ) -> Received<'a> {
        // The header read in place: the length checks of smoltcp's
        // `Ipv4Packet::new_checked` (buffer, header and total length
        // consistent), then the fields.
        if payload.len() < IPV4_HEADER {
            self.stats.drop_malformed += 1;
            return Received::Dropped;
        }
        let hlen = (payload[0] & 0x0f) as usize * 4;
        let tlen = u16::from_be_bytes([payload[2], payload[3]]) as usize;
        if payload.len() < hlen || hlen > tlen || payload.len() < tlen || payload[0] >> 4 != 4 {
            self.stats.drop_malformed += 1;
            return Received::Dropped;
        }
        if !checks.ip_ok && !Ipv4Packet::new_unchecked(payload).verify_checksum() {
            self.stats.drop_bad_checksum += 1;
            return Received::Dropped;
        }
        let addr =
            |i: usize| Ipv4Address::new(payload[i], payload[i + 1], payload[i + 2], payload[i + 3]);
        let (src, dst) = (addr(12), addr(16));
        if self.martian_source(src, dst) {
            self.stats.rx_martian += 1;
            return Received::Dropped;
        }
        let protocol = IpProtocol::from(payload[9]);
        // TCP is unicast only (RFC 1122 4.2.3.10: a SYN to a broadcast or
        // multicast address is discarded), in a frame sent to our MAC.
        let tcp_to_group = protocol == IpProtocol::Tcp
            && (dst.is_broadcast()
                || dst == self.broadcast()
                || dst.is_multicast()
                || !dst_mac.is_unicast());
        if tcp_to_group {
            self.stats.rx_martian += 1;
            return Received::Dropped;
        }
        if dst != self.cfg.ip && dst != self.broadcast() && !dst.is_broadcast() {
            self.stats.drop_not_for_us += 1;
            return Received::Dropped;
        }
        // More Fragments, or a fragment offset.
        if payload[6] & 0x20 != 0 || u16::from_be_bytes([payload[6], payload[7]]) & 0x1fff != 0 {
            self.stats.drop_fragment += 1;
            return Received::Dropped;
        }
        let body = &payload[hlen..tlen];
        // A sender on our link is worth remembering (saves a request when
        // we answer it).
        if self.on_link(src) && src_mac.is_unicast() && self.arp.lookup(src, now).is_none() {
            self.arp.insert(src, src_mac, now);
        }
        if protocol == IpProtocol::Icmp {
            return self.receive_icmp(src, dst, body, now);
        }
        self.stats.rx_delivered += 1;
        Received::Ipv4 {
            src,
            dst,
            protocol,
            payload: body,
            l4_verified: checks.l4_ok && protocol == IpProtocol::Tcp,
        }
    }

    fn receive_icmp<'a>(
        &mut self,
        src: Ipv4Address,
        dst: Ipv4Address,
        body: &'a [u8],
        now: Duration,
    ) -> Received<'a> {
        let Ok(pkt) = Icmpv4Packet::new_checked(body) else {
            self.stats.drop_malformed += 1;
            return Received::Dropped;
        };
        if !pkt.verify_checksum() {
            self.stats.drop_bad_checksum += 1;
            return Received::Dropped;
        }
        let Ok(repr) = Icmpv4Repr::parse(&pkt, &csum()) else {
            // Other ICMP messages go to upper layers (unreachables for TCP).
            self.stats.rx_delivered += 1;
            return Received::Ipv4 {
                src,
                dst,
                protocol: IpProtocol::Icmp,
                payload: body,
                l4_verified: false,
            };
        };
        match repr {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => {
                self.stats.rx_echo_requests += 1;
                // RFC 1122 3.2.2.6: no reply to a broadcast echo request
                // is required; we do not answer them (smurf protection).
                if dst != self.cfg.ip {
                    return Received::Handled;
                }
                let reply = Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                let mut icmp = vec![0u8; reply.buffer_len()];
                reply.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]), &csum());
                if self.send_ipv4(src, IpProtocol::Icmp, &icmp, now).is_ok() {
                    self.stats.tx_echo_replies += 1;
                } else {
                    self.stats.drop_tx_full += 1;
                }
                Received::Handled
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                self.stats.rx_echo_replies += 1;
                let data = &body[8..];
                Received::EchoReply {
                    from: src,
                    ident,
                    seq: seq_no,
                    data,
                }
            }
            _ => {
                self.stats.rx_delivered += 1;
                Received::Ipv4 {
                    src,
                    dst,
                    protocol: IpProtocol::Icmp,
                    payload: body,
                    l4_verified: false,
                }
            }
        }
    }

    /// Sends an IPv4 packet with `payload` to `dst`, resolving the next hop
    /// with ARP (the packet waits, bounded, while the request is out).
    pub fn send_ipv4(
        &mut self,
        dst: Ipv4Address,
        protocol: IpProtocol,
        payload: &[u8],
        now: Duration,
    ) -> Result<(), SendError> {
        self.send_ipv4_with(dst, protocol, payload.len(), now, |b| {
            b.copy_from_slice(payload)
        })
    }

    /// [`NetIf::send_ipv4`] with the `len` payload bytes written by `fill`
    /// straight into the frame (no intermediate buffer).
    pub fn send_ipv4_with(
        &mut self,
        dst: Ipv4Address,
        protocol: IpProtocol,
        len: usize,
        now: Duration,
        fill_payload: impl FnOnce(&mut [u8]),
    ) -> Result<(), SendError> {
        let r = self.route_ipv4(dst, protocol, len, now)?;
        self.send_routed(r, now, fill_payload)
    }

    /// The first half of a send: checks (size, route, room in the TX
    /// queue), the IPv4 header's fields (the identification is taken) and
    /// the next hop's MAC address when the ARP cache has it.  The caller
    /// either builds the frame itself ([`Ipv4Frame::emit`], e.g. straight
    /// into a TX DMA buffer, then [`NetIf::count_sent`]) or hands the
    /// route to [`NetIf::send_routed`].
    pub fn route_ipv4(
        &mut self,
        dst: Ipv4Address,
        protocol: IpProtocol,
        len: usize,
        now: Duration,
    ) -> Result<Route, SendError> {
        let repr = Ipv4Repr {
            src_addr: self.cfg.ip,
            dst_addr: dst,
            next_header: protocol,
            payload_len: len,
            hop_limit: self.cfg.ttl,
        };
        if repr.buffer_len() + len > MTU {
            return Err(SendError::TooBig);
        }
        let next_hop = if self.on_link(dst) {
            dst
        } else {
            self.cfg.gateway.ok_or(SendError::NoRoute)?
        };
        if self.out.len() >= self.cfg.tx_capacity {
            return Err(SendError::WouldBlock);
        }
        let ident = self.ident;
        self.ident = self.ident.wrapping_add(1);
        let offload = self.cfg.checksum_offload;
        let tx_flags = if !offload {
            0
        } else if protocol == IpProtocol::Tcp {
            toe_contract::desc::TXF_CSUM_IP | toe_contract::desc::TXF_CSUM_TCP
        } else {
            toe_contract::desc::TXF_CSUM_IP
        };
        let dst_mac = if dst.is_broadcast() || dst == self.broadcast() {
            Some(EthernetAddress::BROADCAST)
        } else {
            self.arp.lookup(next_hop, now)
        };
        let frame = Ipv4Frame {
            src_mac: self.cfg.mac,
            dst_mac: dst_mac.unwrap_or(EthernetAddress::BROADCAST),
            repr,
            ident,
            offload,
            tx_flags,
        };
        Ok(match dst_mac {
            Some(_) => Route::Resolved(frame),
            None => Route::Unresolved { frame, next_hop },
        })
    }

    /// The second half of [`NetIf::send_ipv4_with`]: the frame is built
    /// into a buffer of its own and queued for [`NetIf::poll_transmit`],
    /// or, with the next hop unresolved, the packet waits for ARP.
    pub fn send_routed(
        &mut self,
        r: Route,
        now: Duration,
        fill_payload: impl FnOnce(&mut [u8]),
    ) -> Result<(), SendError> {
        match r {
            // Built in place in the frame: one buffer, one copy of the
            // payload.
            Route::Resolved(f) => {
                let mut bytes = vec![0u8; f.len()];
                f.emit(&mut bytes, fill_payload);
                self.out.push_back(Frame {
                    bytes,
                    tx_flags: f.tx_flags,
                });
            }
            Route::Unresolved { frame, next_hop } => {
                if self.pending.len() >= self.cfg.pending_capacity {
                    return Err(SendError::WouldBlock);
                }
                let mut ip = vec![0u8; frame.repr.buffer_len() + frame.repr.payload_len];
                frame.emit_ip(&mut ip, fill_payload);
                self.pending.push_back((next_hop, ip, frame.tx_flags, now));
                self.request(next_hop, now);
            }
        }
        Ok(())
    }

    /// Counts a frame built with [`Ipv4Frame::emit`] and sent by the
    /// caller (as [`NetIf::poll_transmit`] counts the queued ones).
    pub fn count_sent(&mut self) {
        self.stats.tx_frames += 1;
    }

    /// The MAC address of the next hop towards `dst` (the gateway for a
    /// destination off the prefix), from the ARP cache; when it is not
    /// there, an ARP request goes out (at most one per retry interval) and
    /// the answer is `Ok(None)`: ask again later.
    pub fn resolve(
        &mut self,
        dst: Ipv4Address,
        now: Duration,
    ) -> Result<Option<EthernetAddress>, SendError> {
        let next_hop = if self.on_link(dst) {
            dst
        } else {
            self.cfg.gateway.ok_or(SendError::NoRoute)?
        };
        if let Some(mac) = self.arp.lookup(next_hop, now) {
            return Ok(Some(mac));
        }
        self.request(next_hop, now);
        Ok(None)
    }

    /// The next hop towards `dst`, if there is a route.
    pub fn next_hop(&self, dst: Ipv4Address) -> Option<Ipv4Address> {
        if self.on_link(dst) {
            Some(dst)
        } else {
            self.cfg.gateway
        }
    }

    fn request(&mut self, ip: Ipv4Address, now: Duration) {
        if self.arp.should_request(ip, now) {
            let f = self.arp_frame(
                ArpOperation::Request,
                EthernetAddress([0; 6]),
                ip,
                EthernetAddress::BROADCAST,
            );
            if self.queue_frame(f) {
                self.stats.tx_arp_requests += 1;
            }
        }
    }

    fn flush_pending(&mut self, ip: Ipv4Address, mac: EthernetAddress) {
        let mut keep = VecDeque::new();
        while let Some((hop, pkt, flags, t)) = self.pending.pop_front() {
            if hop == ip {
                let f = self.eth_frame(mac, EthernetProtocol::Ipv4, pkt.len(), |b| {
                    b.copy_from_slice(&pkt)
                });
                // Resolution queue entries were admitted against the
                // pending bound; the transmit queue may exceed its bound
                // by at most that much.
                self.out.push_back(Frame {
                    bytes: f,
                    tx_flags: flags,
                });
            } else {
                keep.push_back((hop, pkt, flags, t));
            }
        }
        self.pending = keep;
    }

    /// Next hops that packets are waiting to be resolved for.
    pub fn unresolved(&self) -> Vec<Ipv4Address> {
        let mut v: Vec<Ipv4Address> = self.pending.iter().map(|(h, _, _, _)| *h).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Records a neighbour resolved elsewhere (for example by the stack
    /// instance of another queue, which received the ARP reply) and sends
    /// what waited for it.
    pub fn learn(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Duration) {
        if !mac.is_unicast() || !self.on_link(ip) {
            return;
        }
        self.arp.insert(ip, mac, now);
        self.flush_pending(ip, mac);
    }

    /// Sends an ICMP echo request.
    pub fn ping(
        &mut self,
        dst: Ipv4Address,
        ident: u16,
        seq: u16,
        data: &[u8],
        now: Duration,
    ) -> Result<(), SendError> {
        let req = Icmpv4Repr::EchoRequest {
            ident,
            seq_no: seq,
            data,
        };
        let mut icmp = vec![0u8; req.buffer_len()];
        req.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]), &csum());
        self.send_ipv4(dst, IpProtocol::Icmp, &icmp, now)
    }

    /// Timers: drops packets whose resolution timed out, repeats requests
    /// for the others, expires cache entries.
    pub fn poll(&mut self, now: Duration) {
        if !self.pending.is_empty() {
            let timeout = self.cfg.pending_timeout;
            let before = self.pending.len();
            self.pending.retain(|(_, _, _, t)| now < *t + timeout);
            self.stats.drop_unresolved += (before - self.pending.len()) as u64;
            let hops: Vec<Ipv4Address> = self.pending.iter().map(|(h, _, _, _)| *h).collect();
            for h in hops {
                self.request(h, now);
            }
        }
        self.arp.expire(now);
    }
}

#[cfg(test)]
mod tests;
