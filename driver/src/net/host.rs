//! The network layer on a NIC: received frames go through [`NetIf`],
//! queued frames go out through the NIC's TX rings.
//!
//! The per-queue calls ([`Host::receive_on`], [`Host::flush_on`]) work on
//! any [`QueueIo`]: queue `q` of a [`Nic`] used from one thread, or a
//! [`crate::nic::NicQueue`] owned by the thread that runs it.
use super::{NetIf, Received, Route, SendError};
use crate::nic::{Nic, Packet, QueueIo};
use smoltcp::wire::{IpProtocol, Ipv4Address};
use std::time::Duration;

/// Frames held in TX buffers before a doorbell at most.
const TX_BATCH: usize = 64;

/// Per-call counts of [`Host::poll`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    pub rx: usize,
    pub tx: usize,
}

pub struct Host {
    pub net: NetIf,
    rx: Vec<Packet>,
    tx: Vec<Packet>,
    /// Queue pair used for transmission.
    pub tx_queue: u32,
    /// Frames per RX burst.
    pub burst: usize,
}

impl Host {
    pub fn new(net: NetIf) -> Self {
        Host {
            net,
            rx: Vec::with_capacity(64),
            tx: Vec::with_capacity(64),
            tx_queue: 0,
            burst: 32,
        }
    }

    /// Receives a burst from every queue, hands each frame to the network
    /// layer (and what it does not handle to `deliver`), runs the timers
    /// at `now`, and sends what is queued while the TX ring has room.
    pub fn poll(
        &mut self,
        nic: &mut Nic,
        now: Duration,
        mut deliver: impl FnMut(Received<'_>),
    ) -> Polled {
        let mut done = Polled::default();
        for q in 0..nic.queue_pairs() {
            done.rx += self.receive(nic, q, now, &mut deliver);
        }
        self.net.poll(now);
        done.tx = self.flush(nic);
        done
    }

    /// Receives one burst from queue `q` only (a stack instance that owns
    /// one queue pair) and hands each frame to the network layer.  Returns
    /// the frames received.  Timers and transmission are the caller's
    /// (`net.poll`, [`Host::flush`]).
    pub fn receive(
        &mut self,
        nic: &mut Nic,
        q: u32,
        now: Duration,
        mut deliver: impl FnMut(Received<'_>),
    ) -> usize {
        self.receive_on(&mut nic.queue(q), now, |r, _| deliver(r))
    }

    /// [`Host::receive`] on one queue handle; `deliver` also gets the
    /// frame's completion (its kind: an "established" report of the setup
    /// offload is `toe_contract::setup::KIND_ESTABLISHED`).
    pub fn receive_on<Q: QueueIo + ?Sized>(
        &mut self,
        io: &mut Q,
        now: Duration,
        mut deliver: impl FnMut(Received<'_>, &toe_contract::desc::Completion),
    ) -> usize {
        let n = io.rx_burst(&mut self.rx, self.burst);
        for p in self.rx.drain(..) {
            let cpl = p.cpl;
            let f = cpl.flags;
            let checks = super::RxChecks {
                ip_ok: f & toe_contract::desc::CPL_IP_CSUM_OK != 0,
                l4_ok: f & toe_contract::desc::CPL_TCP_CSUM_OK != 0,
            };
            // Parsed in place in the RX buffer (its completion consumed:
            // the device no longer writes it); the buffer goes back to the
            // pool once the layers above are done with the frame.
            let net = &mut self.net;
            io.with_bytes(
                &p,
                &mut |frame| match net.receive_checked(frame, now, checks) {
                    r @ (Received::EchoReply { .. } | Received::Ipv4 { .. }) => deliver(r, &cpl),
                    Received::Handled | Received::Dropped => {}
                },
            );
            io.free(p);
        }
        n
    }

    /// Frames built but not yet on the TX ring, in TX buffers or queued in
    /// the network layer.
    pub fn tx_pending(&self) -> usize {
        self.tx.len() + self.net.tx_queued()
    }

    /// [`NetIf::send_ipv4_with`] on queue handle `io`: when nothing waits
    /// in the network layer's queue (so order is kept) and the next hop is
    /// resolved, the frame is built straight into a TX DMA buffer of `io`
    /// (the payload written in place by `fill_payload`, no copy), sent
    /// by the next [`Host::flush_on`].  Otherwise it takes the queued
    /// path.
    pub fn send_ipv4_on<Q: QueueIo + ?Sized>(
        &mut self,
        io: &mut Q,
        dst: Ipv4Address,
        protocol: IpProtocol,
        len: usize,
        now: Duration,
        fill_payload: impl FnOnce(&mut [u8]),
    ) -> Result<(), SendError> {
        if self.net.tx_queued() > 0 || self.tx.len() >= TX_BATCH {
            return self
                .net
                .send_ipv4_with(dst, protocol, len, now, fill_payload);
        }
        let r = self.net.route_ipv4(dst, protocol, len, now)?;
        let f = match r {
            Route::Resolved(f) if f.len() <= io.buf_size() => f,
            r => return self.net.send_routed(r, now, fill_payload),
        };
        let Some(mut p) = io.alloc() else {
            return self.net.send_routed(r, now, fill_payload);
        };
        let mut fill = Some(fill_payload);
        io.fill(&mut p, f.len(), &mut |b| {
            if let Some(fill) = fill.take() {
                f.emit(b, fill)
            }
        });
        p.tx_flags = f.tx_flags;
        self.net.count_sent();
        self.tx.push(p);
        Ok(())
    }

    /// Posts a descriptor that is not a frame of this layer (a teardown
    /// hand-over, `toe_contract::teardown::TX_OP_TEARDOWN` in `tx_flags`):
    /// a TX buffer of `io` gets the `len` bytes `fill` writes and goes onto
    /// the TX ring after every frame built before it (the next
    /// [`Host::flush_on`] sends it).  False, nothing posted, when frames
    /// wait in the network layer's queue (they would go after it), `len`
    /// does not fit a buffer, or no buffer is free: try again later.
    pub fn post_on<Q: QueueIo + ?Sized>(
        &mut self,
        io: &mut Q,
        len: usize,
        tx_flags: u16,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> bool {
        if self.net.tx_queued() > 0 || len > io.buf_size() {
            return false;
        }
        let Some(mut p) = io.alloc() else {
            return false;
        };
        io.fill(&mut p, len, fill);
        p.tx_flags = tx_flags;
        self.tx.push(p);
        true
    }

    /// Moves queued frames into TX buffers and sends them on queue
    /// `tx_queue`; frames the NIC cannot take yet stay queued
    /// (backpressure).  Returns frames sent.
    pub fn flush(&mut self, nic: &mut Nic) -> usize {
        let q = self.tx_queue;
        self.flush_on(&mut nic.queue(q))
    }

    /// [`Host::flush`] on one queue handle (whatever `tx_queue` says).
    /// Frames waiting in TX buffers (backpressure) belong to the queue they
    /// were allocated on: keep flushing on that one.
    pub fn flush_on<Q: QueueIo + ?Sized>(&mut self, io: &mut Q) -> usize {
        while self.tx.len() < TX_BATCH {
            let Some(f) = self.net.poll_transmit() else {
                break;
            };
            let Some(mut p) = io.alloc() else {
                self.net.unsend(f);
                break;
            };
            if f.len() > io.buf_size() {
                // Cannot happen for frames the layer builds (MTU-bound).
                io.free(p);
                continue;
            }
            io.write(&mut p, 0, &f);
            p.tx_flags = f.tx_flags;
            self.tx.push(p);
        }
        io.tx_burst(&mut self.tx)
    }
}
