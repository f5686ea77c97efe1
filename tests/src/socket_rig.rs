//! The socket rig: the driver's socket API (one [`Endpoint`] per queue
//! pair) on the simulated NIC, with smoltcp as the peer on the wire.
//!
//! ```text
//!   SmolPeer 10.<net>.0.1 --- wire --- SimThread (Verilated NIC) --- Nic + Endpoints 10.<net>.0.2
//! ```
//! [`SocketRig::new`] builds the plain rig; [`SocketRig::builder`] adds the
//! NIC's setup offload for port 80 ([`SocketRigBuilder::setup_offload`]) or
//! active opens by the NIC ([`SocketRigBuilder::nic_connect`]).
//!
//! The endpoint pieces are shared with the TAP bench
//! ([`crate::tap_bench`]): [`endpoints`] opens one endpoint per queue pair,
//! [`enable_setup_offload`] turns the NIC's setup offload on for a port.
use crate::peer::SmolPeer;
use crate::simdev::SimThread;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{IpAddress, Ipv4Address};
use std::time::{Duration, Instant};
use toe_driver::net::NetConfig;
use toe_driver::nic::Nic;
use toe_driver::offload::SetupParams;
use toe_driver::socket::{Endpoint, EndpointConfig, Event, Neighbours};
use toe_sim::wire;

/// NIC active open timing in the simulation: a timestamp tick of 2,500
/// cycles (10 us of NIC time, a few ms of host time at simulation speed)
/// and a first retransmission after 40 ticks.
pub const SIM_TS_PERIOD: u32 = 2500;
pub const SIM_CONNECT_RTO: u32 = 40;

/// What the endpoints of a rig can do beyond the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointOpts {
    /// Open connections by the NIC (active open offload, with the timing
    /// above and 6 retries).
    pub nic_connect: bool,
    /// The TCP maximum segment lifetime (TIME_WAIT lasts two), if not the
    /// library's default.
    pub msl: Option<Duration>,
}

/// One endpoint per queue pair of `nic`, all with the address `net` and
/// one neighbour table.
pub fn endpoints(nic: &Nic, net: NetConfig, opts: EndpointOpts) -> Vec<Endpoint> {
    let board = Neighbours::new();
    let connector = opts.nic_connect.then(|| {
        let dev = nic.device();
        dev.setup_set_ts_period(SIM_TS_PERIOD)
            .expect("timestamp clock");
        dev.connect_configure(SIM_CONNECT_RTO, 6)
            .expect("active open timing");
        dev.nic_connector().expect("active open")
    });
    (0..nic.queue_pairs())
        .map(|q| {
            let mut cfg = EndpointConfig::new(q, net.clone());
            cfg.neighbours = Some(board.clone());
            if let Some(msl) = opts.msl {
                cfg.tcp.msl = msl;
            }
            cfg.nic_connect = connector.clone();
            Endpoint::new(cfg, nic).expect("endpoint")
        })
        .collect()
}

/// The NIC's setup offload for our `mac`/`ip`, `port`, keyed with `key`,
/// the same SYN options as the host library's default configuration; the
/// established-tuple filter on every endpoint.  `ts_period` sets the NIC's
/// clocks (cycles per timestamp tick), if not the default.
pub fn enable_setup_offload(
    nic: &Nic,
    eps: &mut [Endpoint],
    (mac, ip): ([u8; 6], [u8; 4]),
    port: u16,
    key: [u8; 16],
    ts_period: Option<u32>,
) {
    let cfg = toe_driver::tcp::conn::Config::default();
    let mut p = SetupParams::matching(&cfg, key).with_local(mac, &[ip]);
    if let Some(t) = ts_period {
        p.ts_period = t;
    }
    let dev = nic.device();
    dev.setup_configure(&p)
        .expect("configure the setup offload");
    dev.listen_offload(None, port, true)
        .expect("offloaded listener");
    let filter = dev.est_filter().expect("filter");
    for ep in eps.iter_mut() {
        ep.set_est_filter(Some(filter.clone()));
    }
}

/// The peer's address on subnet `net`: 10.`net`.0.1.
pub const fn peer_ip(net: u8) -> [u8; 4] {
    [10, net, 0, 1]
}

/// Our (the endpoints') address on subnet `net`: 10.`net`.0.2.
pub const fn our_ip(net: u8) -> [u8; 4] {
    [10, net, 0, 2]
}

/// The key of the setup offload in socket rigs.
const SETUP_KEY: [u8; 16] = *b"setup-offload-k1";

/// Endpoints on the simulated NIC and a smoltcp peer, on subnet 10.`net`.0.0/24.
/// Fields drop in order: simulator, driver, endpoints, peer.
pub struct SocketRig {
    pub sim: SimThread,
    pub nic: Nic,
    pub eps: Vec<Endpoint>,
    pub peer: SmolPeer,
    pub t0: Instant,
    net: u8,
}

/// What [`SocketRig::builder`] returns.
pub struct SocketRigBuilder {
    tag: String,
    net: u8,
    setup_offload: bool,
    nic_connect: bool,
}

impl SocketRig {
    /// The plain rig on subnet `net`; `tag` names the simulator's file.
    pub fn new(tag: &str, net: u8) -> SocketRig {
        SocketRig::builder(tag, net).build()
    }

    pub fn builder(tag: &str, net: u8) -> SocketRigBuilder {
        SocketRigBuilder {
            tag: tag.into(),
            net,
            setup_offload: false,
            nic_connect: false,
        }
    }

    /// Time since the rig was built: the clock of the peer and endpoints.
    pub fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// A smoltcp TCP socket on the peer, 16 KiB buffers.
    pub fn smol_socket(&mut self) -> SocketHandle {
        self.peer.sockets.add(tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 16 * 1024]),
            tcp::SocketBuffer::new(vec![0; 16 * 1024]),
        ))
    }

    /// A smoltcp TCP socket on the peer (as [`SocketRig::smol_socket`])
    /// connecting from `local_port` to our `port`.
    pub fn smol_connect(&mut self, port: u16, local_port: u16) -> SocketHandle {
        let h = self.smol_socket();
        let cx = self.peer.iface.context();
        let us = IpAddress::Ipv4(Ipv4Address::from(our_ip(self.net)));
        self.peer
            .sockets
            .get_mut::<tcp::Socket>(h)
            .connect(cx, (us, port), local_port)
            .expect("smoltcp connect");
        h
    }

    /// One round: the peer, then every endpoint.  Events per endpoint.
    pub fn step(&mut self, events: &mut [Vec<Event>]) {
        let t = self.now();
        self.peer
            .poll(SmolInstant::from_micros(t.as_micros() as i64));
        for (ep, ev) in self.eps.iter_mut().zip(events.iter_mut()) {
            ep.poll(&mut self.nic, t, ev);
        }
    }
}

impl SocketRigBuilder {
    /// The NIC answers SYNs to port 80 (any address) and hands the
    /// endpoints established connections.
    pub fn setup_offload(mut self) -> Self {
        self.setup_offload = true;
        self
    }

    /// The endpoints can open connections by the NIC.
    pub fn nic_connect(mut self) -> Self {
        self.nic_connect = true;
        self
    }

    pub fn build(self) -> SocketRig {
        let (us, peer) = (our_ip(self.net), peer_ip(self.net));
        let our_mac = [2, 0, 0, 0, self.net, 2];
        let (w, port) = wire::channel();
        let (sim, nic) = SimThread::with_nic(&self.tag, w);
        let opts = EndpointOpts {
            nic_connect: self.nic_connect,
            msl: None,
        };
        let mut eps = endpoints(&nic, NetConfig::new(our_mac, us, 24), opts);
        if self.setup_offload {
            enable_setup_offload(&nic, &mut eps, (our_mac, us), 80, SETUP_KEY, None);
        }
        let peer = SmolPeer::new(
            port,
            [2, 0, 0, 0, self.net, 1],
            peer,
            24,
            SmolInstant::from_micros(0),
        );
        SocketRig {
            sim,
            nic,
            eps,
            peer,
            t0: Instant::now(),
            net: self.net,
        }
    }
}
