//! The NIC's active open (`toe_contract::setup`, "active open"; the
//! registers are the setup block's `SETUP_CONN_*`): the commands that stage
//! and start or abort an open, the device-wide slot claims and staging
//! lock, and [`ActiveOpens`], which carries the TCP core's requests to the
//! NIC and the NIC's status back (the core's side is
//! [`crate::tcp::offload::ActiveOpenHooks`]).  The answers ride on
//! completions: `KIND_CONNECTED` and `KIND_CONNECT_REFUSED`
//! ([`super::dispatch`]).
use crate::backend::Registers;
use crate::device::Device;
use crate::error::{Error, Result};
use toe_contract::regs as r;
use toe_contract::setup as s;

use crate::tcp::conn::NicOpenStatus;
pub use crate::tcp::offload::ConnectSlots;
use crate::tcp::offload::{ActiveOpenHooks, NicAbort, NicConnectParams, NicConnectRequest};
use std::time::Duration;
//
// The NIC sends a connection's SYN, retransmits it with exponential backoff
// and completes the handshake itself (`toe_contract::setup`, "active
// open"): the host stages the SYN as a control-frame record in the shared
// `SETUP_CONN_REC` registers and starts it in the slot of its local port.
// Everything here takes a register path ([`Registers`]): the device's own
// (a `Nic` run from one thread) or a queue's lane (a split NIC, one thread
// per queue), so that every stack instance can issue its own opens.

/// Most SYN retransmissions the NIC does (`toe_contract::regs::CONN_MAX_RETRIES`).
pub const CONNECT_MAX_RETRIES: u32 = r::CONN_MAX_RETRIES;

/// The core clock the timestamp clock's period (`SETUP_TS_PERIOD`, in
/// cycles) is counted in: the design's target, 250 MHz.
pub const CORE_CLOCK_HZ: u64 = 250_000_000;

/// What every user of one device's active-open registers shares: the lock
/// over the staging registers, the slot claims and the configured timing.
/// Kept per device by [`Device::offload_state`].
#[derive(Debug)]
pub(crate) struct ConnectShared {
    /// Held from the first staged word to the flushing read after the
    /// command, so that two paths never interleave their records.
    stage: std::sync::Mutex<()>,
    /// Which slots belong to an open of some stack instance.
    slots: ConnectSlots,
    /// `rto_ticks << 32 | retries` as last configured (the reset values
    /// until [`Device::connect_configure`]).
    timing: std::sync::atomic::AtomicU64,
}

impl Default for ConnectShared {
    fn default() -> Self {
        ConnectShared {
            stage: std::sync::Mutex::new(()),
            slots: ConnectSlots::new(),
            timing: std::sync::atomic::AtomicU64::new(
                (s::DEFAULT_CONNECT_RTO as u64) << 32 | s::DEFAULT_CONNECT_RETRIES as u64,
            ),
        }
    }
}

/// One device's active open as a stack instance uses it (`Send + Sync`,
/// cloned into every stack instance's configuration): the setup block's
/// address, the shared slot claims and staging lock, and the timing the
/// host needs to know when to look for a timeout.  From
/// [`Device::nic_connector`].
#[derive(Clone, Debug)]
pub struct NicConnector {
    base: u32,
    shared: std::sync::Arc<ConnectShared>,
    rto_ticks: u32,
    retries: u32,
    tick: std::time::Duration,
}

fn slot_error(slot: usize) -> Error {
    Error::Config(format!(
        "active open: slot {slot} out of range (the NIC has {} slots)",
        s::CONNECT_SLOTS
    ))
}

impl NicConnector {
    /// A connector for tests of the socket layer, with claims of its own.
    #[cfg(test)]
    pub(crate) fn for_test(
        rto_ticks: u32,
        retries: u32,
        tick: std::time::Duration,
    ) -> NicConnector {
        NicConnector {
            base: r::SETUP_BASE,
            shared: std::sync::Arc::default(),
            rto_ticks,
            retries,
            tick,
        }
    }

    /// The slot claims shared by every instance of the device.
    pub fn slots(&self) -> ConnectSlots {
        self.shared.slots.clone()
    }

    /// The first SYN retransmission timeout, in ticks, and the number of
    /// retransmissions, as configured when this connector was made.
    pub fn timing(&self) -> (u32, u32) {
        (self.rto_ticks, self.retries)
    }

    /// One tick of the NIC's timestamp clock on the host's clock.
    pub fn tick(&self) -> std::time::Duration {
        self.tick
    }

    /// Another tick length (for a device whose core clock is not
    /// [`CORE_CLOCK_HZ`], or a simulation whose host time runs faster).
    pub fn with_tick(mut self, tick: std::time::Duration) -> NicConnector {
        self.tick = tick;
        self
    }

    /// The first retransmission timeout on the host's clock.
    pub fn first_rto(&self) -> std::time::Duration {
        self.tick.saturating_mul(self.rto_ticks)
    }

    /// From the first SYN until the NIC gives up
    /// ([`toe_contract::setup::connect_give_up_ticks`]) on the host's clock.
    pub fn give_up(&self) -> std::time::Duration {
        let ticks = s::connect_give_up_ticks(self.rto_ticks, self.retries);
        let ns = (self.tick.as_nanos()).saturating_mul(ticks as u128);
        std::time::Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
    }

    /// Stages `req` and starts its open in slot `req.slot()`, which the
    /// caller must have claimed ([`ConnectSlots::claim`]).  The twelve
    /// record words, the ACK window and the command are written under the
    /// device's staging lock, and a read on the same path flushes them
    /// before the lock is released (writes of different lanes are not
    /// ordered with each other).
    pub fn start(&self, regs: &dyn Registers, req: &s::ConnectRequest) -> Result<()> {
        let slot = req.slot();
        let bad = |why: String| Err(Error::Config(format!("active open: {why}")));
        if self.slots().claimed() & (1 << slot) == 0 {
            return bad(format!(
                "slot {slot} (local port {}) is not claimed: claim it first so that no other \
                 open uses it",
                req.syn.src.1
            ));
        }
        let syn = &req.syn;
        if syn.flags & (s::TCP_SYN | s::TCP_ACK | s::TCP_RST | s::TCP_FIN) != s::TCP_SYN {
            return bad(format!(
                "the record's flags {:#04x} are not a plain SYN",
                syn.flags
            ));
        }
        if syn.src.1 == 0 || syn.dst.1 == 0 {
            return bad(format!(
                "port 0 in {}:{} -> {}:{}",
                ip(syn.src.0),
                syn.src.1,
                ip(syn.dst.0),
                syn.dst.1
            ));
        }
        if syn.wscale.is_some_and(|w| w > 14) {
            return bad(format!(
                "window scale {} above 14 (RFC 7323)",
                syn.wscale.unwrap_or(0)
            ));
        }
        if syn.dst_mac == [0; 6] || syn.dst_mac[0] & 1 == 1 || syn.src_mac[0] & 1 == 1 {
            return bad(format!(
                "next-hop MAC {:02x?} or our MAC {:02x?} is not a unicast address",
                syn.dst_mac, syn.src_mac
            ));
        }
        let b = self.base;
        let _g = self.shared.stage.lock().unwrap_or_else(|e| e.into_inner());
        for (i, w) in syn.words().into_iter().enumerate() {
            regs.write32(b + r::SETUP_CONN_REC + 4 * i as u32, w);
        }
        regs.write32(b + r::SETUP_CONN_ACK_WIN, req.ack_window as u32);
        regs.write32(b + r::SETUP_CONN_CMD, r::CONN_CMD_START | slot as u32);
        // Flush this path's writes before another path may stage.
        regs.read32(b + r::SETUP_CONN_PENDING);
        Ok(())
    }

    /// Tells the NIC to forget slot `slot`'s open (no more SYNs; an answer
    /// already on its way may still arrive).  Release the claim afterwards.
    pub fn abort(&self, regs: &dyn Registers, slot: usize) -> Result<()> {
        if slot >= s::CONNECT_SLOTS {
            return Err(slot_error(slot));
        }
        let b = self.base;
        let _g = self.shared.stage.lock().unwrap_or_else(|e| e.into_inner());
        regs.write32(b + r::SETUP_CONN_CMD, r::CONN_CMD_ABORT | slot as u32);
        regs.read32(b + r::SETUP_CONN_PENDING);
        Ok(())
    }

    /// Slots whose open is in progress (`SETUP_CONN_PENDING`).
    pub fn pending(&self, regs: &dyn Registers) -> u16 {
        regs.read32(self.base + r::SETUP_CONN_PENDING) as u16
    }

    /// Slots whose open timed out (`SETUP_CONN_TIMEDOUT`; a bit stays set
    /// until the slot's next start or abort).
    pub fn timed_out(&self, regs: &dyn Registers) -> u16 {
        regs.read32(self.base + r::SETUP_CONN_TIMEDOUT) as u16
    }
}

// The core's view of a connector, made here so that the core (`crate::tcp`)
// never names one.
impl NicConnectParams {
    /// What the TCP core needs of `c`: the slot claims and the timing on
    /// the host's clock.
    pub fn from_connector(c: &NicConnector) -> NicConnectParams {
        NicConnectParams {
            slots: c.slots(),
            give_up: c.give_up(),
            first_rto: c.first_rto(),
        }
    }
}

fn ip(a: [u8; 4]) -> std::net::Ipv4Addr {
    a.into()
}

impl Device {
    /// The active open's timing: first SYN retransmission after
    /// `rto_ticks` ticks of the timestamp clock, then `2 rto`, `4 rto` ...
    /// for `retries` retransmissions (RFC 6298 2.1 and 5.5; Linux's
    /// `tcp_syn_retries` is 6).
    pub fn connect_configure(&self, rto_ticks: u32, retries: u32) -> Result<()> {
        let b = self.setup_base()?;
        if rto_ticks == 0 {
            return Err(Error::Config(
                "active open: SYN retransmission timeout of 0 ticks (at least 1)".into(),
            ));
        }
        if retries > r::CONN_MAX_RETRIES {
            return Err(Error::Config(format!(
                "active open: {retries} SYN retransmissions, the NIC does at most {}",
                r::CONN_MAX_RETRIES
            )));
        }
        let connect = self.offload_state::<ConnectShared>();
        let _g = connect.stage.lock().unwrap_or_else(|e| e.into_inner());
        self.write32(b + r::SETUP_CONN_RTO, rto_ticks);
        self.write32(b + r::SETUP_CONN_RETRIES, retries);
        connect.timing.store(
            (rto_ticks as u64) << 32 | retries as u64,
            std::sync::atomic::Ordering::Release,
        );
        Ok(())
    }

    /// The active open for stack instances ([`NicConnector`]), with the
    /// timing last configured and the tick length from `SETUP_TS_PERIOD`
    /// at [`CORE_CLOCK_HZ`].  Fails when the device has no active open
    /// (`SETUP_CONN_SLOTS` is not 16) or its timestamp clock is stopped
    /// (the NIC would never retransmit nor give up).
    pub fn nic_connector(&self) -> Result<NicConnector> {
        let b = self.setup_base()?;
        let slots = self.read32(b + r::SETUP_CONN_SLOTS);
        if slots != s::CONNECT_SLOTS as u32 {
            return Err(Error::Config(format!(
                "active open: the device reports {slots} slots (SETUP_CONN_SLOTS), this driver \
                 needs {} (a design without active open reads 0)",
                s::CONNECT_SLOTS
            )));
        }
        let period = self.read32(b + r::SETUP_TS_PERIOD);
        if period == 0 {
            return Err(Error::Config(
                "active open: the NIC's timestamp clock is stopped (SETUP_TS_PERIOD 0), so SYNs \
                 would never be retransmitted: set SetupParams::ts_period (setup_configure) or \
                 setup_set_ts_period first"
                    .into(),
            ));
        }
        let timing = self
            .offload_state::<ConnectShared>()
            .timing
            .load(std::sync::atomic::Ordering::Acquire);
        Ok(NicConnector {
            base: b,
            shared: self.offload_state::<ConnectShared>(),
            rto_ticks: (timing >> 32) as u32,
            retries: timing as u32,
            tick: std::time::Duration::from_nanos(period as u64 * 1_000_000_000 / CORE_CLOCK_HZ),
        })
    }

    /// The timestamp clock's period in core cycles (0: stopped).
    pub fn setup_ts_period(&self) -> Result<u32> {
        Ok(self.read32(self.setup_base()? + r::SETUP_TS_PERIOD))
    }

    /// The timestamp clock (`SETUP_TS_NOW`).
    pub fn setup_ts_now(&self) -> Result<u32> {
        Ok(self.read32(self.setup_base()? + r::SETUP_TS_NOW))
    }

    /// Sets the timestamp clock's period in core cycles (0 stops it)
    /// without touching the rest of the setup offload.
    pub fn setup_set_ts_period(&self, cycles: u32) -> Result<()> {
        let b = self.setup_base()?;
        self.write32(b + r::SETUP_TS_PERIOD, cycles);
        Ok(())
    }

    fn connector_unchecked(&self) -> Result<NicConnector> {
        let timing = self
            .offload_state::<ConnectShared>()
            .timing
            .load(std::sync::atomic::Ordering::Acquire);
        Ok(NicConnector {
            base: self.setup_base()?,
            shared: self.offload_state::<ConnectShared>(),
            rto_ticks: (timing >> 32) as u32,
            retries: timing as u32,
            tick: std::time::Duration::ZERO,
        })
    }

    /// Stages `req` and starts its open on the device's own register path
    /// ([`NicConnector::start`]); its slot must be claimed
    /// ([`Device::connect_claim`]).
    pub fn connect_start(&self, req: &s::ConnectRequest) -> Result<()> {
        self.connector_unchecked()?.start(self, req)
    }

    /// Aborts slot `slot`'s open ([`NicConnector::abort`]).
    pub fn connect_abort(&self, slot: usize) -> Result<()> {
        self.connector_unchecked()?.abort(self, slot)
    }

    /// Slots whose open is in progress.
    pub fn connect_pending(&self) -> Result<u16> {
        Ok(self.connector_unchecked()?.pending(self))
    }

    /// Slots whose open timed out.
    pub fn connect_timed_out(&self) -> Result<u16> {
        Ok(self.connector_unchecked()?.timed_out(self))
    }

    /// Claims slot `slot` for an open; false when taken or out of range.
    pub fn connect_claim(&self, slot: usize) -> bool {
        self.connect_slots().claim(slot)
    }

    /// Gives slot `slot` back.
    pub fn connect_release(&self, slot: usize) {
        self.connect_slots().release(slot)
    }

    /// The device's slot claims, shared with every [`NicConnector`].
    pub fn connect_slots(&self) -> ConnectSlots {
        self.offload_state::<ConnectShared>().slots.clone()
    }
}

/// Where an open's next hop stands, as the socket layer's network layer
/// knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// Resolved: the SYN goes to this MAC address.
    Resolved([u8; 6]),
    /// Being resolved (ARP): ask again at the next poll.
    Waiting,
    /// No route: the open cannot go to the NIC.
    NoRoute,
}

/// One stack instance's NIC active opens: what the TCP core asks for
/// ([`ActiveOpenHooks`]) carried out on a register path, and what the NIC
/// says carried back.  Requests wait here for their next hop's MAC
/// address.
#[derive(Debug)]
pub struct ActiveOpens {
    nic: NicConnector,
    /// Opens waiting for their next hop's MAC address, since when.
    waiting: Vec<(NicConnectRequest, Duration)>,
}

impl ActiveOpens {
    pub fn new(nic: NicConnector) -> ActiveOpens {
        ActiveOpens {
            nic,
            waiting: Vec::new(),
        }
    }

    pub fn connector(&self) -> &NicConnector {
        &self.nic
    }

    /// When a waiting open gives up on its next hop (`pending_timeout`
    /// after it started waiting), the earliest.
    pub fn poll_at(&self, pending_timeout: Duration) -> Option<Duration> {
        self.waiting.iter().map(|(_, t)| *t + pending_timeout).min()
    }

    /// Aborts of opens that ended on the host, new requests issued (once
    /// `next_hop` resolves their destination, `our_mac` as the source),
    /// and timeout checks, all through `regs` (`None`: the NIC is closed
    /// or no path is at hand, so requests fall back to the software
    /// handshake and checks find the open over).  Requests whose next hop
    /// stays unresolved for `pending_timeout`, or has no route, fall back
    /// too.
    #[allow(clippy::too_many_arguments)]
    pub fn run<T: ActiveOpenHooks + ?Sized>(
        &mut self,
        tcp: &mut T,
        regs: Option<&dyn Registers>,
        our_mac: [u8; 6],
        pending_timeout: Duration,
        next_hop: &mut dyn FnMut([u8; 4]) -> NextHop,
        now: Duration,
    ) {
        if tcp.nic_opens() == 0 && self.waiting.is_empty() {
            return;
        }
        let nic = &self.nic;
        let mut aborts: Vec<NicAbort> = Vec::new();
        tcp.take_nic_aborts(&mut aborts);
        for a in aborts {
            if a.issued {
                if let Some(r) = regs {
                    // Only a slot out of range fails, and slots come from
                    // connect_slot.
                    let _ = nic.abort(r, a.slot);
                }
            } else {
                self.waiting.retain(|(w, _)| w.handle != a.handle);
            }
            nic.slots().release(a.slot);
        }
        let mut fresh = Vec::new();
        tcp.take_connect_requests(&mut fresh);
        self.waiting.extend(fresh.into_iter().map(|r| (r, now)));
        let mut i = 0;
        while i < self.waiting.len() {
            let (w, since) = self.waiting[i];
            let h = w.handle;
            let Some(r) = regs else {
                self.waiting.swap_remove(i);
                tcp.nic_connect_fallback(h, now);
                continue;
            };
            match next_hop(w.req.syn.dst.0) {
                NextHop::Resolved(mac) => {
                    self.waiting.swap_remove(i);
                    let mut req = w.req;
                    req.syn.dst_mac = mac;
                    req.syn.src_mac = our_mac;
                    if nic.start(r, &req).is_err() {
                        tcp.nic_connect_fallback(h, now);
                    } else if !tcp.nic_connect_issued(h, now) {
                        let _ = nic.abort(r, req.slot());
                        nic.slots().release(req.slot());
                    }
                }
                NextHop::NoRoute => {
                    self.waiting.swap_remove(i);
                    tcp.nic_connect_fallback(h, now);
                }
                NextHop::Waiting if now.saturating_sub(since) >= pending_timeout => {
                    self.waiting.swap_remove(i);
                    tcp.nic_connect_fallback(h, now);
                }
                NextHop::Waiting => i += 1,
            }
        }
        let mut checks = Vec::new();
        tcp.take_nic_checks(&mut checks);
        if !checks.is_empty() {
            let (timed_out, pending) = match regs {
                Some(r) => (nic.timed_out(r), nic.pending(r)),
                // The NIC is closed: the open cannot complete.
                None => (!0, 0),
            };
            for (h, slot) in checks {
                let st = if timed_out >> slot & 1 == 1 {
                    NicOpenStatus::TimedOut
                } else if pending >> slot & 1 == 1 {
                    NicOpenStatus::Pending
                } else {
                    NicOpenStatus::Idle
                };
                tcp.on_nic_check(h, st, now);
            }
        }
    }
}
