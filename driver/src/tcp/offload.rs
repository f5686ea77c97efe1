//! The TCP core's side of the offload seam (docs/offload_seam.md): the
//! plain data it exchanges with the NIC's offloads and the hooks through
//! which the offloads' device glue (`driver/src/offload/`) drives it.  Nothing
//! here names a device, a queue or a register: the core stays I/O-free,
//! and the offload glue depends on this module, never the other way round.
//!
//! One trait per offload, implemented by `TcpStack` (in `stack.rs`):
//! * [`SegmentInput`]: received segments by completion kind (the
//!   completion-kind dispatch, `offload/dispatch.rs`);
//! * [`ActiveOpenHooks`]: the NIC's active open (requests out, "issued",
//!   "fell back", aborts and status checks);
//! * [`SetupHooks`]: the setup offload (passive connections that come and
//!   go, for the NIC's established-tuple filter);
//! * [`TeardownHooks`]: the teardown offload (a connection's state for the
//!   hand-over record, freeing the TCB at the hand-over, and rebuilding
//!   the connection when the NIC refuses it).
//!
//! The hooks are the stack's own methods of the same names; the traits
//! only say which of them an offload may call.
use super::conn::{Handle, NicOpenStatus};
pub use super::conn::{TeardownCheck, TeardownTcb};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;
use toe_contract::setup as s;

/// The active-open slots of one device, claimed by the stack instances
/// that use them (an open uses slot `local port % 16`,
/// [`toe_contract::setup::connect_slot`]): no two opens ever share a slot.
/// Cloning gives another handle to the same claims.  Host bookkeeping
/// only: the device keeps its claims in `offload/connect.rs`.
#[derive(Clone, Debug, Default)]
pub struct ConnectSlots(Arc<AtomicU16>);

impl ConnectSlots {
    /// A set of claims of its own, all slots free (a device has one,
    /// `Device::connect_slots`; this is for a stack used without one).
    pub fn new() -> ConnectSlots {
        ConnectSlots::default()
    }

    /// Claims `slot`; false when it is out of range or taken.
    pub fn claim(&self, slot: usize) -> bool {
        if slot >= s::CONNECT_SLOTS {
            return false;
        }
        let bit = 1u16 << slot;
        self.0.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Gives `slot` back.  Only its claimer calls this, after the NIC is
    /// done with the slot (it answered, timed out, or was told to abort).
    pub fn release(&self, slot: usize) {
        if slot < s::CONNECT_SLOTS {
            self.0.fetch_and(!(1u16 << slot), Ordering::AcqRel);
        }
    }

    /// The claimed slots, bit i for slot i.
    pub fn claimed(&self) -> u16 {
        self.0.load(Ordering::Acquire)
    }
}

/// What the stack needs for active opens by the NIC: the device's slot
/// claims and its timing on the host's clock (made by
/// `NicConnectParams::from_connector` in `offload/connect.rs`).
#[derive(Clone, Debug)]
pub struct NicConnectParams {
    pub slots: ConnectSlots,
    /// From the first SYN until the NIC gives up.
    pub give_up: Duration,
    /// The NIC's first SYN retransmission timeout.
    pub first_rto: Duration,
}

impl NicConnectParams {
    /// Slack on the deadline for the two clocks (the NIC's timestamp
    /// clock and the host's) and the last answer's way to the host.
    pub fn margin(&self) -> Duration {
        self.give_up / 16 + Duration::from_millis(10)
    }
    /// How long to wait before asking the NIC again.
    pub fn recheck(&self) -> Duration {
        self.first_rto
            .clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// An active open for the NIC to perform: the SYN as a control-frame
/// record, MAC addresses still zero (the offload glue fills them in), and
/// the connection it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NicConnectRequest {
    pub handle: Handle,
    pub req: s::ConnectRequest,
}

/// A NIC open that ended on the host first: the NIC must forget slot
/// `slot` (if `issued`), then the slot is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NicAbort {
    pub handle: Handle,
    pub slot: usize,
    /// The request reached the NIC (otherwise it is dropped wherever it
    /// waits, and nothing is written).
    pub issued: bool,
}

/// What the NIC's "established" completion reports (toe_contract::setup):
/// the options negotiated from its SYN cookie (decoded from the completion
/// by `offload/dispatch.rs`).  The ISNs and the window come from the
/// segment itself (`seq - 1`, `ack - 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NicEstablished {
    /// The client's MSS class value: the most we may send.
    pub peer_mss: u16,
    /// The client's window scale, when both sides scale.
    pub peer_wscale: Option<u8>,
    pub sack: bool,
    /// (TSval, TSecr) of the final ACK, when timestamps are on.
    pub ts: Option<(u32, u32)>,
}

/// Received TCP segments, by what the NIC says they are (its completion
/// kind): the entry points `offload/dispatch.rs` calls.
pub trait SegmentInput {
    /// An ordinary segment (`KIND_RX`).
    fn on_segment(&mut self, src: Ipv4Addr, dst: Ipv4Addr, tcp: &[u8], ok: bool, now: Duration);
    /// A client's final ACK the setup offload validated (`KIND_ESTABLISHED`).
    fn on_established(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        ok: bool,
        nic: &NicEstablished,
        now: Duration,
    );
    /// The SYN-ACK that completed a NIC active open (`KIND_CONNECTED`).
    fn on_nic_connected(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tcp: &[u8],
        ok: bool,
        now: Duration,
    );
    /// The RST that refused a NIC active open (`KIND_CONNECT_REFUSED`).
    fn on_nic_refused(&mut self, src: Ipv4Addr, dst: Ipv4Addr, tcp: &[u8], ok: bool, now: Duration);
}

/// The NIC's active open as the core runs it: the offload glue
/// (`ActiveOpens`, `offload/connect.rs`) takes requests, aborts and
/// due checks, and reports what the NIC did.
pub trait ActiveOpenHooks {
    /// NIC opens in progress (slots this stack holds).
    fn nic_opens(&self) -> usize;
    /// Opens that ended on the host: write an abort for the issued ones,
    /// then release their slots.
    fn take_nic_aborts(&mut self, into: &mut Vec<NicAbort>);
    /// Opens waiting to be issued.
    fn take_connect_requests(&mut self, into: &mut Vec<NicConnectRequest>);
    /// The NIC has started `h`'s open; false when `h` is no NIC open of
    /// this stack (abort and release its slot).
    fn nic_connect_issued(&mut self, h: Handle, now: Duration) -> bool;
    /// `h`'s request could not be issued: it runs the software handshake.
    fn nic_connect_fallback(&mut self, h: Handle, now: Duration);
    /// Opens whose deadline passed: read the NIC's status of each slot.
    fn take_nic_checks(&mut self, into: &mut Vec<(Handle, usize)>);
    /// The NIC's status of `h`'s open at its check.
    fn on_nic_check(&mut self, h: Handle, st: NicOpenStatus, now: Duration);
}

/// The setup offload's hook: passive connections that entered (`true`)
/// or left the table, for the NIC's established-tuple filter.
pub trait SetupHooks {
    fn take_tuple_events(&mut self, into: &mut Vec<(Handle, bool)>);
}

/// The teardown offload's hooks (docs/teardown.md, "Host side").  The
/// offload glue decides when a closed connection goes to the NIC; the core
/// only says whether it can go now, gives its state, frees it, and takes
/// it back.
pub trait TeardownHooks {
    /// Whether `h` can be handed over now, with its state if so (see
    /// [`TeardownCheck`]).
    fn teardown_tcb(&self, h: Handle, now: Duration) -> TeardownCheck;
    /// Closes `h` in software (a FIN follows the queued data, RFC 9293
    /// 3.10.4): for a close the offload does not take.
    fn close_in_software(&mut self, h: Handle);
    /// Copies `h`'s unacknowledged bytes `[SND.UNA, SND.NXT)` into `dst`;
    /// returns how many (0 for no such connection).
    fn copy_unacked(&self, h: Handle, dst: &mut [u8]) -> usize;
    /// Frees `h`'s TCB at once, sending nothing: the NIC runs the rest of
    /// the close.  Until [`TeardownHooks::handover_ended`], segments for
    /// its tuple that find no connection are dropped silently (counted),
    /// not answered with RST: the NIC may not have taken the tuple yet, or
    /// may refuse it.  False when there is no such connection.
    fn hand_over(&mut self, h: Handle) -> bool;
    /// The NIC has finished `h`'s close (or the tuple is otherwise no
    /// longer handed over): its segments are the core's again.
    fn handover_ended(&mut self, h: Handle);
    /// The NIC refused the hand-over: `h` is rebuilt from what was handed
    /// over (`kept`: the unacknowledged bytes; `tcb.ts`'s TSval taken as
    /// the one to send at `now`) in FIN-WAIT-1 or LAST-ACK with its FIN
    /// not yet sent, and the close finishes in software.
    /// False when it cannot be (the tuple is in use again): the caller
    /// gives up on it.
    fn handover_fallback(
        &mut self,
        h: Handle,
        tcb: &TeardownTcb,
        kept: &[u8],
        now: Duration,
    ) -> bool;
}
