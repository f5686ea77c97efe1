//! The TAP bench: Linux on the simulated NIC's wire.  The NIC's MAC is a
//! TAP device moved into a fresh network namespace; the driver (and, if
//! asked, one socket-API endpoint per queue pair) runs in this process.
//!
//! ```text
//!   namespace toe-<pid>-<n>                 this process
//!   Linux 10.<net>.<n>.1/24 --- TAP toeXtY --- [wrapper] --- SimThread --- Nic [+ Endpoints]
//!                                                            (Verilated)   10.<net>.<n>.2/24
//! ```
//! `wrapper` is any [`Wire`] around the TAP ([`TapBenchBuilder::build_with`]):
//! a recorder, the fault injector of [`crate::faults`].  Threads that must
//! act as Linux programs join the namespace with [`Netns::thread`].
//!
//! Such benches need CAP_NET_ADMIN: without it [`TapBenchBuilder::build`]
//! prints why and returns None (the test passes); with it (CI runs as
//! root) they must run, and missing `ip`/`ping` fail.
use crate::netns::{self, Netns};
use crate::simdev::SimThread;
use crate::socket_rig::{endpoints, EndpointOpts};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use toe_driver::net::NetConfig;
use toe_driver::nic::Nic;
use toe_driver::socket::Endpoint;
use toe_sim::wire::{TapWire, Wire};

/// A NIC on a TAP device inside a fresh namespace.  Fields drop in order:
/// endpoints, driver, simulator (closes the TAP), namespace.
pub struct TapBench {
    /// One per queue pair with [`TapBenchBuilder::endpoints`], else none.
    pub eps: Vec<Endpoint>,
    pub nic: Nic,
    pub sim: SimThread,
    pub ns: Netns,
    /// The TAP's name (inside the namespace).
    pub tap: String,
    /// The namespace's end (on the TAP device).
    pub linux_ip: Ipv4Addr,
    /// The simulated NIC's host.
    pub nic_ip: Ipv4Addr,
    pub nic_mac: [u8; 6],
    /// When the bench was built: the clock of the endpoints.
    pub t0: Instant,
}

/// What [`TapBench::builder`] returns.
pub struct TapBenchBuilder {
    tag: String,
    net: u8,
    mtu: Option<u32>,
    endpoints: Option<EndpointOpts>,
}

impl TapBench {
    /// A bench on subnets 10.`net`.<n>.0/24 (`n` from the namespace);
    /// `tag` names the simulator's file.
    pub fn builder(tag: &str, net: u8) -> TapBenchBuilder {
        TapBenchBuilder {
            tag: tag.into(),
            net,
            mtu: None,
            endpoints: None,
        }
    }

    /// Time since the bench was built.
    pub fn now(&self) -> Duration {
        self.t0.elapsed()
    }
}

impl TapBenchBuilder {
    /// Sets the TAP's MTU inside the namespace (Linux's default is 1500).
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Opens one endpoint per queue pair on the NIC's address.
    pub fn endpoints(mut self, opts: EndpointOpts) -> Self {
        self.endpoints = Some(opts);
        self
    }

    /// The bench with the TAP as the simulator's wire, or None (reason
    /// printed) when TAP benches cannot run here.
    pub fn build(self) -> Option<TapBench> {
        self.build_with(|w| w)
    }

    /// [`TapBenchBuilder::build`], with `wrap` putting a wire of its own
    /// around the TAP (between Linux and the NIC's MAC).
    pub fn build_with<W: Wire + 'static>(
        self,
        wrap: impl FnOnce(TapWire) -> W,
    ) -> Option<TapBench> {
        if !netns::tap_tests_enabled() {
            return None;
        }
        let tap = netns::unique_tap_name();
        let wire = TapWire::open(&tap).unwrap_or_else(|e| panic!("{e}"));
        let ns = Netns::create().unwrap_or_else(|e| panic!("{e}"));
        let sub = (ns.index() % 256) as u8;
        let linux_ip = Ipv4Addr::new(10, self.net, sub, 1);
        let nic_ip = Ipv4Addr::new(10, self.net, sub, 2);
        // Locally administered unicast, `net` in it as it reads in the
        // address (77 as 0x77).
        let bcd = ((self.net / 10) << 4) | (self.net % 10);
        let nic_mac = [0x02, 0x00, 0x5e, bcd, 0x00, sub];
        // The NIC fetches the posted RX descriptors by DMA after bring-up;
        // a frame Linux sends as soon as the link is up (its first ARP
        // request) would otherwise be dropped for want of a buffer (and
        // counted) whenever the simulator thread runs late: hence the
        // settling in `with_nic` before the link comes up.
        let (sim, nic) = SimThread::with_nic(&self.tag, wrap(wire));
        ns.adopt_link(&tap, &format!("{linux_ip}/24"))
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(mtu) = self.mtu {
            ns.run(["ip", "link", "set", "dev", &tap, "mtu", &mtu.to_string()])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let eps = match self.endpoints {
            Some(opts) => endpoints(&nic, NetConfig::new(nic_mac, nic_ip.octets(), 24), opts),
            None => Vec::new(),
        };
        Some(TapBench {
            eps,
            nic,
            sim,
            ns,
            tap,
            linux_ip,
            nic_ip,
            nic_mac,
            t0: Instant::now(),
        })
    }
}
