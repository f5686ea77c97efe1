//! Receive path.
pub mod dma_addr;
pub mod dma_data;
pub mod opt_walk;
pub mod parse;
pub mod path;
pub mod rss;
