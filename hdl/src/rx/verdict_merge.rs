//! The one point where the offloads' verdicts meet a received segment's
//! metadata (`rx::event`): the metadata record from the option walker's
//! output, registered once by the RX path (P + 13), is registered here
//! (P + 14 = [`VERDICT_AT`]) and leaves with every verdict of that cycle
//! applied, towards the metadata FIFO.
//!
//! Per part of a verdict, the lowest slot that claims it wins:
//!
//! * `consume`: the drop reason becomes `REASON_COUNTED_ELSEWHERE` (not
//!   delivered, counted by the offload);
//! * `kind`: the completion kind (bits 103:96);
//! * `opts`: MSS (127:112), window scale (135:128), SACK-permitted (136).
//!
//! The RX path's own candidate bits (227:224, reserved in the completion)
//! are cleared.  Every output is the register plus at most a two-way
//! priority pick per bit.
use super::event::{RxVerdictIn, RX_OFFLOADS, VERDICT_AT};
use super::parse::REASON_COUNTED_ELSEWHERE;
use super::path::META_BITS;
use rust_hdl::prelude::*;
use toe_contract::desc as d;

// The kernel loops over the slots by a literal count.
const _: () = assert!(RX_OFFLOADS == 2 && VERDICT_AT == 14 && META_BITS == 262);
// Field positions the kernel writes as literals.
const _: () = assert!(
    d::CPL_KIND_BIT == 96
        && d::CPL_MSS_BIT == 112
        && d::CPL_WSCALE_BIT == 128
        && d::CPL_OPTS_BIT == 136
        && d::OPT_SACK_PERM == 1
);

#[derive(LogicBlock)]
pub struct RxVerdictMerge {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The metadata record one cycle before the verdicts (P + 13).
    pub in_valid: Signal<In, Bit>,
    pub in_meta: Signal<In, Bits<262>>,
    /// The verdicts (P + 14), one per offload slot.
    pub verdict: [RxVerdictIn; RX_OFFLOADS],
    /// The record with the verdicts applied (P + 14); zero without a record.
    pub out_valid: Signal<Out, Bit>,
    pub out_meta: Signal<Out, Bits<262>>,
    m_valid: DFF<Bit>,
    m_meta: DFF<Bits<262>>,
    v_kind: Signal<Local, Bits<8>>,
    v_mss: Signal<Local, Bits<16>>,
    v_ws: Signal<Local, Bits<8>>,
    v_sackp: Signal<Local, Bit>,
    c_cand_mask: Constant<Bits<262>>,
    c_reason_mask: Constant<Bits<262>>,
    c_reason_consumed: Constant<Bits<262>>,
    c_kind_mask: Constant<Bits<262>>,
    /// MSS, window scale and the SACK-permitted bit of the options byte.
    c_opts_mask: Constant<Bits<262>>,
}

impl Default for RxVerdictMerge {
    fn default() -> Self {
        let field = |width: u64, at: usize| Bits::<262>::from((1u64 << width) - 1) << (at as u64);
        Self {
            clock: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_meta: Default::default(),
            verdict: Default::default(),
            out_valid: Default::default(),
            out_meta: Default::default(),
            m_valid: Default::default(),
            m_meta: Default::default(),
            v_kind: Default::default(),
            v_mss: Default::default(),
            v_ws: Default::default(),
            v_sackp: Default::default(),
            c_cand_mask: Constant::new(field(4, 224)),
            c_reason_mask: Constant::new(field(4, 256)),
            c_reason_consumed: Constant::new(Bits::<262>::from(REASON_COUNTED_ELSEWHERE) << 256u64),
            c_kind_mask: Constant::new(field(8, d::CPL_KIND_BIT)),
            c_opts_mask: Constant::new(
                field(16, d::CPL_MSS_BIT) | field(8, d::CPL_WSCALE_BIT) | field(1, d::CPL_OPTS_BIT),
            ),
        }
    }
}

impl Logic for RxVerdictMerge {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, m_valid, m_meta);
        self.m_valid.d.next = self.in_valid.val();
        self.m_meta.d.next = self.in_meta.val();
        self.out_valid.next = self.m_valid.q.val();
        // Only assembled with a record (simulation time; the FIFO writes
        // only then).
        self.out_meta.next = 0.into();
        self.v_kind.next = 0.into();
        self.v_mss.next = 0.into();
        self.v_ws.next = 0.into();
        self.v_sackp.next = false;
        if self.m_valid.q.val() {
            self.out_meta.next = self.m_meta.q.val() & !self.c_cand_mask.val();
            // The highest slot first, so the lowest claiming slot is the
            // last to write.
            for i in 0..2 {
                // (the slot's fields through locals: rust-hdl's kernel
                // translation takes no computed index inside a cast)
                self.v_kind.next = self.verdict[1 - i].kind.val();
                self.v_mss.next = self.verdict[1 - i].mss.val();
                self.v_ws.next = self.verdict[1 - i].ws.val();
                self.v_sackp.next = self.verdict[1 - i].sackp.val();
                if self.verdict[1 - i].kind_valid.val() {
                    self.out_meta.next = (self.out_meta.val() & !self.c_kind_mask.val())
                        | (bit_cast::<262, 8>(self.v_kind.val()) << 96);
                }
                if self.verdict[1 - i].opts_valid.val() {
                    self.out_meta.next = (self.out_meta.val() & !self.c_opts_mask.val())
                        | (bit_cast::<262, 16>(self.v_mss.val()) << 112)
                        | (bit_cast::<262, 8>(self.v_ws.val()) << 128)
                        | (bit_cast::<262, 1>(self.v_sackp.val().into()) << 136);
                }
                if self.verdict[1 - i].consume.val() {
                    self.out_meta.next = (self.out_meta.val() & !self.c_reason_mask.val())
                        | self.c_reason_consumed.val();
                }
            }
        }
        if self.rst.val() {
            self.m_valid.d.next = false;
            self.m_meta.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_verdict_merge_generates_verilog() {
        let mut uut = RxVerdictMerge::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
