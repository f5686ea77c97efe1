//! Blocks shared by several offloads.
//!
//! * [`conn_table`]: the hashed connection table (teardown, splicing), with
//!   its helpers [`conn_table_engine`], [`conn_table_lookup`],
//!   [`dual_port_ram`], [`key_chunk_eq`].
//! * [`frame_arb`]: a round-robin arbiter of `N` AXI-stream frame sources
//!   (whole frames, one beat per cycle).
//! * [`rec_arb`]: a round-robin arbiter of `N` record queues (FIFO heads).
//! * [`round_robin_next`]: the next grant of both arbiters (the first
//!   requester after the current grant).
//! * [`siphash`]: the pipelined SipHash-2-4 (SYN cookies, the connection
//!   table's keyed hash).
//! * [`fifo`]: the FIFO with registered flags (`ClearFifo`,
//!   `declare_clear_fifo!`), the one FIFO of the design.
//! * [`ctl_frame_tx`]: the control-frame builder (`CtlFrameTx`): TCP control
//!   frames (SYN-ACKs, SYNs, ACKs) from queued records.
//! * [`reg_slice`]: a register slice (skid buffer) for a valid/ready channel.
//! * [`stream`]: stream bundles (`FrameOut`/`FrameIn`, `FifoOut`/`FifoIn`).
//! * [`reg_port`]: the register port bundle (`RegPort`, `RegHost`) between
//!   the register file and an offload's module.
pub mod conn_table;
pub mod conn_table_engine;
pub mod conn_table_lookup;
pub mod ctl_frame_tx;
pub mod dual_port_ram;
pub mod fifo;
pub mod frame_arb;
pub mod key_chunk_eq;
pub mod rec_arb;
pub mod reg_port;
pub mod reg_slice;
pub mod round_robin_next;
pub mod siphash;
pub mod stream;
