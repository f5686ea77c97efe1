//! Stream bundles: the handshakes between blocks as rust-hdl interfaces, so
//! a parent connects two blocks with one `join` instead of field by field.
//!
//! * [`FrameOut`] / [`FrameIn`]: a frame stream (AXI4-Stream beats of 512
//!   data bits, 64 keep bits, last, and 2 side flags; valid/ready).  The
//!   source's side is `FrameOut`, the sink's `FrameIn`.
//! * [`FifoOut`] / [`FifoIn`]: the read side of a queue of `W`-bit
//!   records (a FIFO head: `empty`, `data`, `pop`), as the record queues
//!   and their arbiter pass them.  The queue's side is `FifoOut`, the
//!   reader's `FifoIn`.
//! * [`PushOut`] / [`PushIn`]: the write side of such a queue (`write`,
//!   `data`, `full`): the writer's side is `PushOut`, the queue's `PushIn`.
//! * [`HeadsOut`] / [`HeadsIn`]: the heads of `Q` queues side by side
//!   (the descriptor caches' heads, one valid and one pop bit per queue).
//!
//! The register port is in [`super::reg_port`].
//!
//! In a parent's kernel: `FrameOut::join(&mut self.src.o, &mut self.dst.i)`.
//! rust-hdl writes a join as one continuous assignment per signal
//! (`always @(*) dst$i$valid = src$o$valid;`) and names a bundle's signals
//! `field$signal` (`o$valid`), which `tools` already rewrites for Vivado
//! and the block tests turn into `o_valid`.  Bundles are wiring only: no
//! logic, so no depth.
use rust_hdl::prelude::*;

/// A frame stream, the source's side.
#[derive(LogicInterface, Default)]
#[join = "FrameIn"]
pub struct FrameOut {
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<512>>,
    pub keep: Signal<Out, Bits<64>>,
    pub last: Signal<Out, Bit>,
    /// Side flags (the TX checksum requests).
    pub flags: Signal<Out, Bits<2>>,
    pub ready: Signal<In, Bit>,
}

/// A frame stream, the sink's side.
#[derive(LogicInterface, Default)]
#[join = "FrameOut"]
pub struct FrameIn {
    pub valid: Signal<In, Bit>,
    pub data: Signal<In, Bits<512>>,
    pub keep: Signal<In, Bits<64>>,
    pub last: Signal<In, Bit>,
    pub flags: Signal<In, Bits<2>>,
    pub ready: Signal<Out, Bit>,
}

/// The head of a record queue, the queue's side: `data` is the oldest
/// record while `empty` is low; `pop` takes it.
#[derive(LogicInterface, Default)]
#[join = "FifoIn"]
pub struct FifoOut<const W: usize> {
    pub empty: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<W>>,
    pub pop: Signal<In, Bit>,
}

/// The head of a record queue, the reader's side.
#[derive(LogicInterface, Default)]
#[join = "FifoOut"]
pub struct FifoIn<const W: usize> {
    pub empty: Signal<In, Bit>,
    pub data: Signal<In, Bits<W>>,
    pub pop: Signal<Out, Bit>,
}

/// A push into a queue of `W`-bit records, the writer's side: `write`
/// enqueues `data`; the writer never writes while `full` is high.
#[derive(LogicInterface, Default)]
#[join = "PushIn"]
pub struct PushOut<const W: usize> {
    pub write: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<W>>,
    pub full: Signal<In, Bit>,
}

/// A push into a queue of `W`-bit records, the queue's side.
#[derive(LogicInterface, Default)]
#[join = "PushOut"]
pub struct PushIn<const W: usize> {
    pub write: Signal<In, Bit>,
    pub data: Signal<In, Bits<W>>,
    pub full: Signal<Out, Bit>,
}

/// The heads of `Q` queues at once (the descriptor caches' heads): `data`
/// holds queue q's head in bits `W/Q` wide at `q * W / Q`, `valid` bit q
/// says it is there, `pop` bit q takes it.  The queues' side.
#[derive(LogicInterface, Default)]
#[join = "HeadsIn"]
pub struct HeadsOut<const Q: usize, const W: usize> {
    pub data: Signal<Out, Bits<W>>,
    pub valid: Signal<Out, Bits<Q>>,
    pub pop: Signal<In, Bits<Q>>,
}

/// The heads of `Q` queues at once, the reader's side.
#[derive(LogicInterface, Default)]
#[join = "HeadsOut"]
pub struct HeadsIn<const Q: usize, const W: usize> {
    pub data: Signal<In, Bits<W>>,
    pub valid: Signal<In, Bits<Q>>,
    pub pop: Signal<Out, Bits<Q>>,
}
