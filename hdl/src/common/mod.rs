//! Blocks shared by several offloads.
//!
//! * [`conn_table`]: the hashed connection table (teardown, splicing), with
//!   its helpers [`conn_table_engine`], [`conn_table_lookup`],
//!   [`dual_port_ram`], [`key_chunk_eq`].
//! * [`frame_arb`]: a round-robin arbiter of `N` AXI-stream frame sources
//!   (whole frames, one beat per cycle).
//! * [`rec_arb`]: a round-robin arbiter of `N` record queues (FIFO heads).
//! * [`reg_slice`]: a register slice (skid buffer) for a valid/ready channel.
pub mod conn_table;
pub mod conn_table_engine;
pub mod conn_table_lookup;
pub mod dual_port_ram;
pub mod frame_arb;
pub mod key_chunk_eq;
pub mod rec_arb;
pub mod reg_slice;
