//! The register port between the register file and an offload's module:
//! the register file drives writes (a one-cycle `we` with the offset in the
//! block and the data) and a read offset; the module answers `rdata`, a
//! function of `raddr` (0 for offsets it does not serve).
//!
//! [`RegPort`] is the module's side, [`RegHost`] the register file's
//! (`regs.ext[p]`); the parent connects them with
//! `RegHost::join(&mut self.regs.ext[p], &mut self.module.regs)`.  Which
//! block each port serves is the register-block table (`crate::regs`,
//! `toe_contract::regs::OFFLOAD_BLOCKS`).
use rust_hdl::prelude::*;

/// The module's side of a register port.
#[derive(LogicInterface, Default)]
#[join = "RegHost"]
pub struct RegPort {
    /// One cycle per write in the block's range.
    pub we: Signal<In, Bit>,
    /// The write's offset in the block.
    pub waddr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<32>>,
    /// The read's offset in the block (from a register).
    pub raddr: Signal<In, Bits<16>>,
    /// The value at `raddr`, 0 where the module has no register.
    pub rdata: Signal<Out, Bits<32>>,
}

/// The register file's side of a register port.
#[derive(LogicInterface, Default)]
#[join = "RegPort"]
pub struct RegHost {
    pub we: Signal<Out, Bit>,
    pub waddr: Signal<Out, Bits<16>>,
    pub wdata: Signal<Out, Bits<32>>,
    pub raddr: Signal<Out, Bits<16>>,
    pub rdata: Signal<In, Bits<32>>,
}
