//! The SYN-ACK frame: Ethernet/IPv4/TCP bytes from a queued record of
//! [`super::rx::SetupRx`] (the fields [`super::synack::SynAckGen`] made,
//! plus the SYN's MAC addresses swapped), as an AXI4-Stream source of one or
//! two 64-byte beats that the TX arbiter merges with the host's frames
//! ahead of the checksum inserter (`o_flags` asks for both checksums).
//!
//! Layout (Linux's order): Ethernet, IPv4 (ID 0, DF, TTL 64, checksum
//! left 0), TCP (flags SYN|ACK, checksum left 0), options MSS, then with
//! timestamps `SACK-permitted TS` or `NOP NOP TS`, then with a window
//! scale `NOP WS`.  Frames are 58 (padded to 60), 70 or 74 bytes.
//!
//! ## Record (`REC_BITS`)
//! | bits | field |
//! |------|-------|
//! | 47:0 | client MAC (destination) |
//! | 95:48 | our MAC (the SYN's destination) |
//! | 127:96, 159:128 | our IP, client IP |
//! | 175:160, 191:176 | our port, client port |
//! | 223:192, 255:224 | seq (the cookie), ack |
//! | 271:256, 287:272 | window, MSS |
//! | 288, 292:289 | window scale present, window scale |
//! | 293, 294 | SACK-permitted, timestamps |
//! | 326:295, 358:327 | TSval, TSecr |
use rust_hdl::prelude::*;

/// Width of a queued SYN-ACK record.
pub const REC_BITS: usize = 360;

fn bytes(list: &[(usize, u8)]) -> Constant<Bits<1024>> {
    let mut b = Bits::<1024>::default();
    for &(o, v) in list {
        b = b | (Bits::<1024>::from(v as u64) << (8 * o as u64));
    }
    Constant::new(b)
}

#[derive(LogicBlock)]
pub struct SynAckTx {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The record queue (first word fall through).
    pub rec_empty: Signal<In, Bit>,
    pub rec: Signal<In, Bits<REC_BITS>>,
    pub rec_pop: Signal<Out, Bit>,
    pub o_valid: Signal<Out, Bit>,
    pub o_data: Signal<Out, Bits<512>>,
    pub o_keep: Signal<Out, Bits<64>>,
    pub o_last: Signal<Out, Bit>,
    pub o_flags: Signal<Out, Bits<2>>,
    pub o_ready: Signal<In, Bit>,
    second: DFF<Bit>,
    fr: Signal<Local, Bits<1024>>,
    ts: Signal<Local, Bit>,
    ws: Signal<Local, Bit>,
    lastb: Signal<Local, Bit>,
    c_base: Constant<Bits<1024>>,
    c_ts_sack: Constant<Bits<1024>>,
    c_ts_nop: Constant<Bits<1024>>,
    c_ws: Constant<Bits<1024>>,
}

impl Default for SynAckTx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            rec_empty: Default::default(),
            rec: Default::default(),
            rec_pop: Default::default(),
            o_valid: Default::default(),
            o_data: Default::default(),
            o_keep: Default::default(),
            o_last: Default::default(),
            o_flags: Default::default(),
            o_ready: Default::default(),
            second: Default::default(),
            fr: Default::default(),
            ts: Default::default(),
            ws: Default::default(),
            lastb: Default::default(),
            // Ethertype, version/IHL, DF, TTL, protocol, SYN|ACK, MSS kind/length.
            c_base: bytes(&[
                (12, 0x08),
                (14, 0x45),
                (20, 0x40),
                (22, 64),
                (23, 6),
                (47, 0x12),
                (54, 2),
                (55, 4),
            ]),
            c_ts_sack: bytes(&[(58, 4), (59, 2), (60, 8), (61, 10)]),
            c_ts_nop: bytes(&[(58, 1), (59, 1), (60, 8), (61, 10)]),
            c_ws: bytes(&[(70, 1), (71, 3), (72, 3)]),
        }
    }
}

impl Logic for SynAckTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, second);
        self.ts.next = self.rec.val().get_bit(294);
        self.ws.next = self.rec.val().get_bit(288);
        // The frame is only assembled while a record waits (saves
        // simulation time on every other cycle).
        self.fr.next = 0.into();
        if !self.rec_empty.val() {
            self.fr.next = self.c_base.val()
                | (bit_cast::<1024, 360>((self.rec.val() >> 40) & 0xFF) << 0)
                | (bit_cast::<1024, 360>((self.rec.val() >> 32) & 0xFF) << 8)
                | (bit_cast::<1024, 360>((self.rec.val() >> 24) & 0xFF) << 16)
                | (bit_cast::<1024, 360>((self.rec.val() >> 16) & 0xFF) << 24)
                | (bit_cast::<1024, 360>((self.rec.val() >> 8) & 0xFF) << 32)
                | (bit_cast::<1024, 360>((self.rec.val() >> 0) & 0xFF) << 40)
                | (bit_cast::<1024, 360>((self.rec.val() >> 88) & 0xFF) << 48)
                | (bit_cast::<1024, 360>((self.rec.val() >> 80) & 0xFF) << 56)
                | (bit_cast::<1024, 360>((self.rec.val() >> 72) & 0xFF) << 64)
                | (bit_cast::<1024, 360>((self.rec.val() >> 64) & 0xFF) << 72)
                | (bit_cast::<1024, 360>((self.rec.val() >> 56) & 0xFF) << 80)
                | (bit_cast::<1024, 360>((self.rec.val() >> 48) & 0xFF) << 88)
                | (bit_cast::<1024, 360>((self.rec.val() >> 120) & 0xFF) << 208)
                | (bit_cast::<1024, 360>((self.rec.val() >> 112) & 0xFF) << 216)
                | (bit_cast::<1024, 360>((self.rec.val() >> 104) & 0xFF) << 224)
                | (bit_cast::<1024, 360>((self.rec.val() >> 96) & 0xFF) << 232)
                | (bit_cast::<1024, 360>((self.rec.val() >> 152) & 0xFF) << 240)
                | (bit_cast::<1024, 360>((self.rec.val() >> 144) & 0xFF) << 248)
                | (bit_cast::<1024, 360>((self.rec.val() >> 136) & 0xFF) << 256)
                | (bit_cast::<1024, 360>((self.rec.val() >> 128) & 0xFF) << 264)
                | (bit_cast::<1024, 360>((self.rec.val() >> 168) & 0xFF) << 272)
                | (bit_cast::<1024, 360>((self.rec.val() >> 160) & 0xFF) << 280)
                | (bit_cast::<1024, 360>((self.rec.val() >> 184) & 0xFF) << 288)
                | (bit_cast::<1024, 360>((self.rec.val() >> 176) & 0xFF) << 296)
                | (bit_cast::<1024, 360>((self.rec.val() >> 216) & 0xFF) << 304)
                | (bit_cast::<1024, 360>((self.rec.val() >> 208) & 0xFF) << 312)
                | (bit_cast::<1024, 360>((self.rec.val() >> 200) & 0xFF) << 320)
                | (bit_cast::<1024, 360>((self.rec.val() >> 192) & 0xFF) << 328)
                | (bit_cast::<1024, 360>((self.rec.val() >> 248) & 0xFF) << 336)
                | (bit_cast::<1024, 360>((self.rec.val() >> 240) & 0xFF) << 344)
                | (bit_cast::<1024, 360>((self.rec.val() >> 232) & 0xFF) << 352)
                | (bit_cast::<1024, 360>((self.rec.val() >> 224) & 0xFF) << 360)
                | (bit_cast::<1024, 360>((self.rec.val() >> 264) & 0xFF) << 384)
                | (bit_cast::<1024, 360>((self.rec.val() >> 256) & 0xFF) << 392)
                | (bit_cast::<1024, 360>((self.rec.val() >> 280) & 0xFF) << 448)
                | (bit_cast::<1024, 360>((self.rec.val() >> 272) & 0xFF) << 456);
            // IPv4 total length and TCP data offset.
            if self.ts.val() {
                if self.ws.val() {
                    self.fr.next = self.fr.val()
                        | (bit_cast::<1024, 8>(60.into()) << 136)
                        | (bit_cast::<1024, 8>(0xA0.into()) << 368);
                } else {
                    self.fr.next = self.fr.val()
                        | (bit_cast::<1024, 8>(56.into()) << 136)
                        | (bit_cast::<1024, 8>(0x90.into()) << 368);
                }
            } else {
                self.fr.next = self.fr.val()
                    | (bit_cast::<1024, 8>(44.into()) << 136)
                    | (bit_cast::<1024, 8>(0x60.into()) << 368);
            }
            if self.ts.val() {
                self.fr.next = self.fr.val()
                    | (bit_cast::<1024, 360>((self.rec.val() >> 319) & 0xFF) << 496)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 311) & 0xFF) << 504)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 303) & 0xFF) << 512)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 295) & 0xFF) << 520)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 351) & 0xFF) << 528)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 343) & 0xFF) << 536)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 335) & 0xFF) << 544)
                    | (bit_cast::<1024, 360>((self.rec.val() >> 327) & 0xFF) << 552);
                if self.rec.val().get_bit(293) {
                    self.fr.next = self.fr.val() | self.c_ts_sack.val();
                } else {
                    self.fr.next = self.fr.val() | self.c_ts_nop.val();
                }
            }
            if self.ws.val() {
                self.fr.next = self.fr.val()
                    | self.c_ws.val()
                    | (bit_cast::<1024, 360>((self.rec.val() >> 289) & 0xF) << 584);
            }
        }
        // Beats: 60 bytes (one), 70 or 74 bytes (two).
        self.o_valid.next = !self.rec_empty.val();
        self.o_flags.next = 3.into();
        self.o_data.next = bit_cast::<512, 1024>(self.fr.val());
        self.lastb.next = !self.ts.val() || self.second.q.val();
        self.o_last.next = self.lastb.val();
        self.o_keep.next = 0xFFFF_FFFF_FFFF_FFFF_u64.into();
        if !self.ts.val() {
            self.o_keep.next = 0x0FFF_FFFF_FFFF_FFFF_u64.into();
        }
        if self.second.q.val() {
            self.o_data.next = bit_cast::<512, 1024>(self.fr.val() >> 512);
            self.o_keep.next = 0x3F.into();
            if self.ws.val() {
                self.o_keep.next = 0x3FF.into();
            }
        }
        self.rec_pop.next = !self.rec_empty.val() && self.o_ready.val() && self.lastb.val();
        if !self.rec_empty.val() && self.o_ready.val() {
            self.second.d.next = !self.lastb.val();
        }
        if self.rst.val() {
            self.second.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_inject_generates_verilog() {
        let mut uut = SynAckTx::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
