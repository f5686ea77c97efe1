//! Developer tooling of the TOE SmartNIC, driven by `cargo xtask`.
pub mod bench;
pub mod demo;
pub mod deps;
pub mod depth;
pub mod drvbench;
pub mod ecp5;
pub mod fuzz;
pub mod info;
pub mod lint;
pub mod simrun;
pub mod synth;
pub mod tcpbench;
pub mod vivado;
pub mod vm;
