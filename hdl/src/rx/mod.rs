//! Receive path.
pub mod dma_addr;
pub mod dma_data;
pub mod opt_walk;
pub mod opt_walk_stage;
pub mod parse;
pub mod path;
pub mod rss;
