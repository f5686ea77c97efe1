//! Blocks shared by several offloads.
//!
//! * [`conn_table`]: the hashed connection table (teardown, splicing), with
//!   its helpers [`conn_table_engine`], [`conn_table_lookup`],
//!   [`dual_port_ram`], [`key_chunk_eq`].
//! * [`reg_slice`]: a register slice (skid buffer) for a valid/ready channel.
pub mod conn_table;
pub mod conn_table_engine;
pub mod conn_table_lookup;
pub mod dual_port_ram;
pub mod key_chunk_eq;
pub mod reg_slice;
