//! Receive path.
pub mod dma_write;
pub mod opt_walk;
pub mod parse;
pub mod path;
pub mod rss;
