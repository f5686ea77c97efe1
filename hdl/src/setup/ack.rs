//! Final-ACK validation: is `ack - 1` a SYN cookie this NIC made for this
//! 4-tuple and client ISN (`seq - 1`), under a valid key, recently enough?
//! Computes what `toe_model::cookie::check_ack` decides, one ACK per cycle,
//! no backpressure, the verdict [`ACK_LATENCY`] cycles later.
//!
//! Stage 0 (input registers): the cookie's fields (`t mod 8`, MSS class,
//! key slot, MAC), the age `(now - t_low) mod 8` and the full clock value
//! `now - age` (`toe_contract::setup::cookie_time`), the slot's key, and
//! the message (`toe_contract::setup::message`).  Then the SipHash block
//! (12 stages) re-computes the MAC, and the output compares it.  The
//! expected MAC, the class and the "slot valid and young enough" bit ride
//! in the SipHash tag.  Configuration is sampled with the ACK, except the
//! MSS table, which is read at the output.
use crate::common::siphash::{SipHash24, SIPHASH_LATENCY};
use rust_hdl::prelude::*;

/// Cycles from an ACK on the inputs to its verdict on the outputs.
pub const ACK_LATENCY: usize = SIPHASH_LATENCY + 1;
/// Width of the sideband tag.
pub const ACK_TAG_BITS: usize = 3;

#[derive(LogicBlock, Default)]
pub struct AckCheck {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_cip: Signal<In, Bits<32>>,
    pub in_cport: Signal<In, Bits<16>>,
    pub in_sip: Signal<In, Bits<32>>,
    pub in_sport: Signal<In, Bits<16>>,
    pub in_seq: Signal<In, Bits<32>>,
    pub in_ack: Signal<In, Bits<32>>,
    pub in_tag: Signal<In, Bits<ACK_TAG_BITS>>,
    /// The cookie clock now.
    pub now: Signal<In, Bits<32>>,
    pub max_age: Signal<In, Bits<3>>,
    pub key_valid: Signal<In, Bits<2>>,
    pub key0_lo: Signal<In, Bits<64>>,
    pub key0_hi: Signal<In, Bits<64>>,
    pub key1_lo: Signal<In, Bits<64>>,
    pub key1_hi: Signal<In, Bits<64>>,
    pub mss_table: Signal<In, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    /// The cookie checks.
    pub out_ok: Signal<Out, Bit>,
    /// The MSS table entry the cookie's class names (meaningful with `out_ok`).
    pub out_mss: Signal<Out, Bits<16>>,
    pub out_tag: Signal<Out, Bits<ACK_TAG_BITS>>,
    sip: SipHash24,
    s_valid: DFF<Bit>,
    s_m0: DFF<Bits<64>>,
    s_m1: DFF<Bits<64>>,
    s_m2: DFF<Bits<64>>,
    s_k0: DFF<Bits<64>>,
    s_k1: DFF<Bits<64>>,
    s_tag: DFF<Bits<32>>,
    cookie: Signal<Local, Bits<32>>,
    t_low: Signal<Local, Bits<32>>,
    age: Signal<Local, Bits<32>>,
    tfull: Signal<Local, Bits<32>>,
    /// The client's ISN (seq - 1).
    cisn: Signal<Local, Bits<32>>,
    cls: Signal<Local, Bits<2>>,
    slot: Signal<Local, Bit>,
    pre: Signal<Local, Bit>,
    got: Signal<Local, Bits<26>>,
    want: Signal<Local, Bits<26>>,
}

impl Logic for AckCheck {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s_valid, s_m0, s_m1, s_m2, s_k0, s_k1, s_tag);
        clock!(self, clock, sip);
        // ------------------------------------------------------ stage 0
        self.s_valid.d.next = self.in_valid.val();
        // Only an ACK's fields are worked out (simulation time); the stage
        // registers hold otherwise.
        self.cookie.next = 0.into();
        self.t_low.next = 0.into();
        self.cls.next = 0.into();
        self.slot.next = false;
        self.age.next = 0.into();
        self.tfull.next = 0.into();
        self.cisn.next = 0.into();
        self.pre.next = false;
        if self.in_valid.val() {
            self.cookie.next = self.in_ack.val() - 1;
            self.t_low.next = self.cookie.val() >> 29;
            self.cls.next = bit_cast::<2, 32>(self.cookie.val() >> 27);
            self.slot.next = self.cookie.val().get_bit(26);
            self.age.next = (self.now.val() - self.t_low.val()) & 7;
            self.pre.next = (self.age.val() <= bit_cast::<32, 3>(self.max_age.val()))
                && ((!self.slot.val() && self.key_valid.val().get_bit(0))
                    || (self.slot.val() && self.key_valid.val().get_bit(1)));
            self.cisn.next = self.in_seq.val() - 1;
            self.s_m0.d.next = bit_cast::<64, 32>(self.in_cip.val())
                | (bit_cast::<64, 32>(self.in_sip.val()) << 32);
            self.s_m1.d.next = bit_cast::<64, 16>(self.in_cport.val())
                | (bit_cast::<64, 16>(self.in_sport.val()) << 16)
                | (bit_cast::<64, 32>(self.cisn.val()) << 32);
            // 32-bit wrap-around first (a wider Verilog context would not wrap).
            self.tfull.next = self.now.val() - self.age.val();
            self.s_m2.d.next =
                bit_cast::<64, 32>(self.tfull.val()) | (bit_cast::<64, 2>(self.cls.val()) << 32);
            self.s_k0.d.next = self.key0_lo.val();
            self.s_k1.d.next = self.key0_hi.val();
            if self.slot.val() {
                self.s_k0.d.next = self.key1_lo.val();
                self.s_k1.d.next = self.key1_hi.val();
            }
            // tag: MAC (25:0), class (27:26), pre (28), user tag (31:29)
            self.s_tag.d.next = (self.cookie.val() & 0x3FF_FFFF)
                | (bit_cast::<32, 2>(self.cls.val()) << 26)
                | (bit_cast::<32, 1>(self.pre.val().into()) << 28)
                | (bit_cast::<32, 3>(self.in_tag.val()) << 29);
        }
        // ------------------------------------------------------ the MAC
        self.sip.rst.next = self.rst.val();
        self.sip.in_valid.next = self.s_valid.q.val();
        self.sip.k0.next = self.s_k0.q.val();
        self.sip.k1.next = self.s_k1.q.val();
        self.sip.m0.next = self.s_m0.q.val();
        self.sip.m1.next = self.s_m1.q.val();
        self.sip.m2.next = self.s_m2.q.val();
        self.sip.in_tag.next = self.s_tag.q.val();
        // ------------------------------------------------------ verdict
        self.got.next = bit_cast::<26, 64>(self.sip.hash.val());
        self.want.next = bit_cast::<26, 32>(self.sip.out_tag.val());
        self.out_valid.next = self.sip.out_valid.val();
        self.out_ok.next = self.sip.out_valid.val()
            && self.sip.out_tag.val().get_bit(28)
            && (self.got.val() == self.want.val());
        self.out_tag.next = bit_cast::<3, 32>(self.sip.out_tag.val() >> 29);
        self.out_mss.next = self.mss_table.val().get_bits::<16>(0);
        if ((self.sip.out_tag.val() >> 26) & 3) == 1 {
            self.out_mss.next = self.mss_table.val().get_bits::<16>(16);
        }
        if ((self.sip.out_tag.val() >> 26) & 3) == 2 {
            self.out_mss.next = self.mss_table.val().get_bits::<16>(32);
        }
        if ((self.sip.out_tag.val() >> 26) & 3) == 3 {
            self.out_mss.next = self.mss_table.val().get_bits::<16>(48);
        }
        if self.rst.val() {
            self.s_valid.d.next = false;
            self.s_m0.d.next = 0.into();
            self.s_m1.d.next = 0.into();
            self.s_m2.d.next = 0.into();
            self.s_k0.d.next = 0.into();
            self.s_k1.d.next = 0.into();
            self.s_tag.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_ack_generates_verilog() {
        let mut uut = AckCheck::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
