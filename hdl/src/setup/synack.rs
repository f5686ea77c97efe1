//! The SYN-ACK's header fields from a SYN's parsed fields: the SYN cookie
//! (through [`SipHash24`]), the acknowledgment number and the options to
//! offer.  Fully pipelined: one SYN per cycle, no backpressure, the answer
//! [`SYNACK_LATENCY`] cycles later.  Frame building (Ethernet/IPv4/TCP
//! bytes, checksums) is a later block.
//!
//! It computes what `toe_model::cookie::syn_ack` computes, for a
//! configuration whose current key slot holds a key (the block is given the
//! key itself; whether the slot is valid, and thus whether a SYN is answered
//! at all, is decided before it):
//!
//! * the MSS class ([`toe_contract::setup::mss_class`]: the largest table
//!   entry not above the client's MSS, 536 when the SYN carries none; for an
//!   unsorted table exactly the model's scan, computed as nine parallel
//!   comparisons and a little logic);
//! * the 24-byte message ([`toe_contract::setup::message`]):
//!   `m0 = cip | sip << 32`, `m1 = cport | sport << 16 | isn << 32`,
//!   `m2 = t | class << 32`;
//! * the cookie ([`toe_contract::setup::cookie`]):
//!   `(t & 7) << 29 | class << 27 | slot << 26 | (hash & 0x3FF_FFFF)`;
//! * `ack = isn + 1`, our window, our MSS (always offered);
//! * when the SYN carries timestamps: TSval = `ts_encode(ts_now, client
//!   wscale, SACK-permitted)` (the NIC's clock with its low 6 bits replaced:
//!   bits 3:0 the client's window scale, at most 14, 15 for none; bit 4
//!   SACK-permitted), TSecr = the client's TSval, our window scale if the
//!   client sent one, SACK-permitted if the client did.  Without timestamps
//!   neither window scale nor SACK is offered (nowhere to keep the client's).
//!
//! Fields not offered read 0 (`out_ws` without `out_ws_present`, `out_tsval`
//! and `out_tsecr` without `out_ts_present`).  Addresses are 32-bit numbers
//! with the first byte most significant; `out_src_*` is the SYN's
//! destination (us), `out_dst_*` its source (the client).
//!
//! ## Timing
//!
//! Everything, configuration included (`cookie_t`, `ts_now`, the key, the
//! MSS table, our MSS, window scale and window), is sampled with the SYN in
//! the cycle `in_valid` is high, so a change of configuration never mixes
//! into a SYN already in flight.  The SYN presented in cycle `n` is on the
//! outputs in cycle `n + SYNACK_LATENCY` (= `SIPHASH_LATENCY` = 12): the
//! message goes straight into the SipHash block (the class logic, about four
//! LUT levels after the input registers, ends in its message registers),
//! the other fields wait in a 16-deep FIFO beside it (written with the SYN,
//! read when its hash comes out; a FIFO rather than a 12-stage delay line,
//! because a delay line shifts 237 bits every cycle in simulation and
//! costs twelve times the registers), and the outputs are the FIFO's
//! registered read port (zero between SYN-ACKs) and wiring around the hash
//! register.
//! `in_tag` rides in the SipHash block's tag.  `rst` (synchronous) clears
//! every register; a reset in cycle `r` drops the SYNs of cycles `r - 11`
//! to `r`.
use crate::common::siphash::{SipHash24, SIPHASH_LATENCY, SIPHASH_TAG_BITS};
use rust_hdl::prelude::*;

/// Cycles from a SYN on the inputs to its SYN-ACK fields on the outputs.
pub const SYNACK_LATENCY: usize = SIPHASH_LATENCY;
// The kernel names the last delay stage as [11] (rust-hdl resolves array
// indices textually, without constants).
const _: () = assert!(SIPHASH_LATENCY == 12);
/// Width of the sideband tag.
pub const SYNACK_TAG_BITS: usize = SIPHASH_TAG_BITS;

/// Width of a delay-line word.
const LINE_BITS: usize = 237;
crate::declare_clear_fifo!(SynLine, Bits<237>, 16, 1);

#[derive(LogicBlock, Default)]
pub struct SynAckGen {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // The SYN's parsed fields
    pub in_valid: Signal<In, Bit>,
    pub in_cip: Signal<In, Bits<32>>,
    pub in_cport: Signal<In, Bits<16>>,
    pub in_sip: Signal<In, Bits<32>>,
    pub in_sport: Signal<In, Bits<16>>,
    /// The client's initial sequence number (the SYN's seq).
    pub in_isn: Signal<In, Bits<32>>,
    pub in_mss_present: Signal<In, Bit>,
    pub in_mss: Signal<In, Bits<16>>,
    pub in_ws_present: Signal<In, Bit>,
    pub in_ws: Signal<In, Bits<8>>,
    pub in_sackp: Signal<In, Bit>,
    pub in_ts_present: Signal<In, Bit>,
    pub in_tsval: Signal<In, Bits<32>>,
    pub in_tag: Signal<In, Bits<SYNACK_TAG_BITS>>,
    // Configuration, sampled with each SYN
    /// The cookie clock `t`.
    pub cookie_t: Signal<In, Bits<32>>,
    /// The timestamp clock (its low 6 bits are replaced).
    pub ts_now: Signal<In, Bits<32>>,
    /// The current key slot and its key, as two little-endian 64-bit halves
    /// (key bytes 0-7 and 8-15).
    pub key_slot: Signal<In, Bit>,
    pub k0: Signal<In, Bits<64>>,
    pub k1: Signal<In, Bits<64>>,
    /// MSS table, entry i in bits 16i+15:16i.
    pub mss_table: Signal<In, Bits<64>>,
    pub our_mss: Signal<In, Bits<16>>,
    /// Our window scale (0 to 14).
    pub our_ws: Signal<In, Bits<4>>,
    pub our_window: Signal<In, Bits<16>>,
    // The SYN-ACK's fields, SYNACK_LATENCY cycles later
    pub out_valid: Signal<Out, Bit>,
    pub out_tag: Signal<Out, Bits<SYNACK_TAG_BITS>>,
    pub out_src_ip: Signal<Out, Bits<32>>,
    pub out_src_port: Signal<Out, Bits<16>>,
    pub out_dst_ip: Signal<Out, Bits<32>>,
    pub out_dst_port: Signal<Out, Bits<16>>,
    /// The cookie.
    pub out_seq: Signal<Out, Bits<32>>,
    pub out_ack: Signal<Out, Bits<32>>,
    pub out_window: Signal<Out, Bits<16>>,
    pub out_mss: Signal<Out, Bits<16>>,
    pub out_ws_present: Signal<Out, Bit>,
    pub out_ws: Signal<Out, Bits<4>>,
    pub out_sackp: Signal<Out, Bit>,
    pub out_ts_present: Signal<Out, Bit>,
    pub out_tsval: Signal<Out, Bits<32>>,
    pub out_tsecr: Signal<Out, Bits<32>>,
    sip: SipHash24,
    /// The SYN-ACK's other fields wait here for the hash (written with the
    /// SYN, read as its hash comes out: at most SIPHASH_LATENCY + 1 inside).
    line: SynLine,
    /// The word written: dst IP, dst port, src IP, src port, ack, cookie
    /// bits 31:26, window, MSS, options, TSval, TSecr (see the kernel).
    word: Signal<Local, Bits<LINE_BITS>>,
    ack32: Signal<Local, Bits<32>>,
    // Scratch: the MSS class
    mss_eff: Signal<Local, Bits<16>>,
    tm0: Signal<Local, Bits<16>>,
    tm1: Signal<Local, Bits<16>>,
    tm2: Signal<Local, Bits<16>>,
    tm3: Signal<Local, Bits<16>>,
    le1: Signal<Local, Bit>,
    le2: Signal<Local, Bit>,
    le3: Signal<Local, Bit>,
    ge10: Signal<Local, Bit>,
    ge20: Signal<Local, Bit>,
    ge21: Signal<Local, Bit>,
    ge30: Signal<Local, Bit>,
    ge31: Signal<Local, Bit>,
    ge32: Signal<Local, Bit>,
    b1: Signal<Local, Bit>,
    c2: Signal<Local, Bit>,
    c3: Signal<Local, Bit>,
    cls: Signal<Local, Bits<2>>,
    // Scratch: options
    ws_enc: Signal<Local, Bits<4>>,
    ts_enc: Signal<Local, Bits<32>>,
    opt: Signal<Local, Bits<7>>,
}

impl Logic for SynAckGen {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, sip, line);
        self.line.clear.next = self.rst.val();
        // ------------------------------------------------------ MSS class
        // The model's scan (best = 0; for i in 1..4: if t[i] <= mss and
        // t[i] >= t[best] then best = i), from parallel comparisons.
        // Only for a SYN (simulation time).
        self.mss_eff.next = 0.into();
        self.tm0.next = 0.into();
        self.tm1.next = 0.into();
        self.tm2.next = 0.into();
        self.tm3.next = 0.into();
        self.le1.next = false;
        self.le2.next = false;
        self.le3.next = false;
        self.ge10.next = false;
        self.ge20.next = false;
        self.ge21.next = false;
        self.ge30.next = false;
        self.ge31.next = false;
        self.ge32.next = false;
        self.b1.next = false;
        self.c2.next = false;
        self.c3.next = false;
        self.cls.next = 0.into();
        if self.in_valid.val() {
            self.mss_eff.next = 536.into();
            if self.in_mss_present.val() {
                self.mss_eff.next = self.in_mss.val();
            }
            self.tm0.next = self.mss_table.val().get_bits::<16>(0);
            self.tm1.next = self.mss_table.val().get_bits::<16>(16);
            self.tm2.next = self.mss_table.val().get_bits::<16>(32);
            self.tm3.next = self.mss_table.val().get_bits::<16>(48);
            self.le1.next = self.tm1.val() <= self.mss_eff.val();
            self.le2.next = self.tm2.val() <= self.mss_eff.val();
            self.le3.next = self.tm3.val() <= self.mss_eff.val();
            self.ge10.next = self.tm1.val() >= self.tm0.val();
            self.ge20.next = self.tm2.val() >= self.tm0.val();
            self.ge21.next = self.tm2.val() >= self.tm1.val();
            self.ge30.next = self.tm3.val() >= self.tm0.val();
            self.ge31.next = self.tm3.val() >= self.tm1.val();
            self.ge32.next = self.tm3.val() >= self.tm2.val();
            // b1: best is 1 after entry 1; c2: entry 2 taken; c3: entry 3 taken.
            self.b1.next = self.le1.val() && self.ge10.val();
            self.c2.next = self.le2.val()
                && ((self.b1.val() && self.ge21.val()) || (!self.b1.val() && self.ge20.val()));
            self.c3.next = self.le3.val()
                && ((self.c2.val() && self.ge32.val())
                    || (!self.c2.val() && self.b1.val() && self.ge31.val())
                    || (!self.c2.val() && !self.b1.val() && self.ge30.val()));
            self.cls.next = 0.into();
            if self.b1.val() {
                self.cls.next = 1.into();
            }
            if self.c2.val() {
                self.cls.next = 2.into();
            }
            if self.c3.val() {
                self.cls.next = 3.into();
            }
        }
        // ------------------------------------------------------ the MAC
        self.sip.rst.next = self.rst.val();
        self.sip.in_valid.next = self.in_valid.val();
        self.sip.k0.next = self.k0.val();
        self.sip.k1.next = self.k1.val();
        self.sip.m0.next =
            bit_cast::<64, 32>(self.in_cip.val()) | (bit_cast::<64, 32>(self.in_sip.val()) << 32);
        self.sip.m1.next = bit_cast::<64, 16>(self.in_cport.val())
            | (bit_cast::<64, 16>(self.in_sport.val()) << 16)
            | (bit_cast::<64, 32>(self.in_isn.val()) << 32);
        self.sip.m2.next =
            bit_cast::<64, 32>(self.cookie_t.val()) | (bit_cast::<64, 2>(self.cls.val()) << 32);
        self.sip.in_tag.next = self.in_tag.val();
        // ------------------------------------------------------ options
        // TSval: the clock's low 6 bits replaced by the client's window
        // scale (at most 14, 15 for none) and SACK-permitted.
        self.ws_enc.next = 0.into();
        self.ts_enc.next = 0.into();
        self.opt.next = 0.into();
        if self.in_valid.val() {
            self.ws_enc.next = 15.into();
            if self.in_ws_present.val() {
                self.ws_enc.next = bit_cast::<4, 8>(self.in_ws.val());
                if self.in_ws.val() > 14 {
                    self.ws_enc.next = 14.into();
                }
            }
            self.ts_enc.next =
                (self.ts_now.val() & 0xFFFF_FFC0_u64) | bit_cast::<32, 4>(self.ws_enc.val());
            if self.in_sackp.val() {
                self.ts_enc.next = self.ts_enc.val() | 0x10;
            }
            self.opt.next = 0.into();
            if self.in_ts_present.val() {
                self.opt.next = 0x40.into();
                if self.in_ws_present.val() {
                    self.opt.next = self.opt.val() | 1 | (bit_cast::<7, 4>(self.our_ws.val()) << 1);
                }
                if self.in_sackp.val() {
                    self.opt.next = self.opt.val() | 0x20;
                }
            }
        }
        // ------------------------------------------------------ field FIFO
        // Bits: cip 236:205, cport 204:189, sip 188:157, sport 156:141,
        // ack 140:109, cookie bits 31:26 108:103, window 102:87, MSS 86:71,
        // options 70:64, TSval 63:32, TSecr 31:0.  Only assembled for a SYN.
        // In a 32-bit signal first: inside a wider expression Verilog
        // would carry isn + 1 past bit 31.
        self.ack32.next = self.in_isn.val() + 1;
        self.word.next = 0.into();
        if self.in_valid.val() {
            self.word.next = (bit_cast::<237, 32>(self.in_cip.val()) << 205)
                | (bit_cast::<237, 16>(self.in_cport.val()) << 189)
                | (bit_cast::<237, 32>(self.in_sip.val()) << 157)
                | (bit_cast::<237, 16>(self.in_sport.val()) << 141)
                | (bit_cast::<237, 32>(self.ack32.val()) << 109)
                | (bit_cast::<237, 6>(
                    (bit_cast::<6, 32>(self.cookie_t.val() & 7) << 3)
                        | (bit_cast::<6, 2>(self.cls.val()) << 1)
                        | bit_cast::<6, 1>(self.key_slot.val().into()),
                ) << 103)
                | (bit_cast::<237, 16>(self.our_window.val()) << 87)
                | (bit_cast::<237, 16>(self.our_mss.val()) << 71)
                | (bit_cast::<237, 7>(self.opt.val()) << 64);
            if self.in_ts_present.val() {
                self.word.next = self.word.val()
                    | (bit_cast::<237, 32>(self.ts_enc.val()) << 32)
                    | bit_cast::<237, 32>(self.in_tsval.val());
            }
        }
        self.line.write.next = self.in_valid.val();
        self.line.data_in.next = self.word.val();
        self.line.read.next = self.sip.out_valid.val();
        // ------------------------------------------------------ outputs
        self.out_valid.next = self.sip.out_valid.val();
        self.out_tag.next = self.sip.out_tag.val();
        self.out_dst_ip.next = bit_cast::<32, 237>(self.line.data_out.val() >> 205);
        self.out_dst_port.next = bit_cast::<16, 237>(self.line.data_out.val() >> 189);
        self.out_src_ip.next = bit_cast::<32, 237>(self.line.data_out.val() >> 157);
        self.out_src_port.next = bit_cast::<16, 237>(self.line.data_out.val() >> 141);
        self.out_ack.next = bit_cast::<32, 237>(self.line.data_out.val() >> 109);
        self.out_seq.next = (bit_cast::<32, 237>((self.line.data_out.val() >> 103) & 0x3F) << 26)
            | bit_cast::<32, 64>(self.sip.hash.val() & 0x3FF_FFFF);
        self.out_window.next = bit_cast::<16, 237>(self.line.data_out.val() >> 87);
        self.out_mss.next = bit_cast::<16, 237>(self.line.data_out.val() >> 71);
        self.out_ws_present.next = self.line.data_out.val().get_bit(64);
        self.out_ws.next = bit_cast::<4, 237>((self.line.data_out.val() >> 65) & 0xF);
        self.out_sackp.next = self.line.data_out.val().get_bit(69);
        self.out_ts_present.next = self.line.data_out.val().get_bit(70);
        self.out_tsval.next = bit_cast::<32, 237>(self.line.data_out.val() >> 32);
        self.out_tsecr.next = bit_cast::<32, 237>(self.line.data_out.val());
        if !self.sip.out_valid.val() {
            // Quiet outputs between SYN-ACKs.
            self.out_dst_ip.next = 0.into();
            self.out_dst_port.next = 0.into();
            self.out_src_ip.next = 0.into();
            self.out_src_port.next = 0.into();
            self.out_ack.next = 0.into();
            self.out_seq.next = 0.into();
            self.out_window.next = 0.into();
            self.out_mss.next = 0.into();
            self.out_ws_present.next = false;
            self.out_ws.next = 0.into();
            self.out_sackp.next = false;
            self.out_ts_present.next = false;
            self.out_tsval.next = 0.into();
            self.out_tsecr.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_synack_generates_verilog() {
        let mut uut = SynAckGen::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
