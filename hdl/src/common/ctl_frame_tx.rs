//! TCP control frames (the setup offload's SYN-ACKs, the active open's
//! SYNs and ACKs): Ethernet/IPv4/TCP bytes from a queued record, as an AXI4-Stream
//! source of one or two 64-byte beats that the TX arbiter merges with the
//! host's frames ahead of the checksum inserter (`o_flags` asks for both
//! checksums).
//!
//! Layout (Linux's order): Ethernet, IPv4 (ID 0, DF, TTL 64, checksum left
//! 0), TCP (the record's flags, checksum left 0), then the options the
//! record asks for: MSS; timestamps as `SACK-permitted TS` or `NOP NOP TS`,
//! or without timestamps SACK-permitted as `NOP NOP SACK-permitted`; a
//! window scale as `NOP WS`.  Frames are 54 to 74 bytes, padded to 60
//! (`toe_model::setup::ctl_frame` is the reference).
//!
//! ## Record (`REC_BITS`)
//! | bits | field |
//! |------|-------|
//! | 47:0 | destination MAC (the peer) |
//! | 95:48 | source MAC (ours) |
//! | 127:96, 159:128 | our IP, the peer's IP |
//! | 175:160, 191:176 | our port, the peer's port |
//! | 223:192, 255:224 | seq, ack |
//! | 271:256, 287:272 | window, MSS (with bit 367) |
//! | 288, 292:289 | window scale present, window scale |
//! | 293, 294 | SACK-permitted, timestamps |
//! | 326:295, 358:327 | TSval, TSecr |
//! | 366:359 | TCP flags |
//! | 367 | MSS option present |
use rust_hdl::prelude::*;

/// Width of a queued control-frame record.
pub const REC_BITS: usize = 368;

fn bytes(list: &[(usize, u8)]) -> Constant<Bits<1024>> {
    let mut b = Bits::<1024>::default();
    for &(o, v) in list {
        b = b | (Bits::<1024>::from(v as u64) << (8 * o as u64));
    }
    Constant::new(b)
}

#[derive(LogicBlock)]
pub struct CtlFrameTx {
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
    sack: Signal<Local, Bit>,
    mss: Signal<Local, Bit>,
    lastb: Signal<Local, Bit>,
    /// Option blocks as byte lanes (byte 0 in bits 7:0).
    mssb: Signal<Local, Bits<160>>,
    stb: Signal<Local, Bits<160>>,
    wsb: Signal<Local, Bits<160>>,
    optv: Signal<Local, Bits<160>>,
    mss_len: Signal<Local, Bits<8>>,
    st_len: Signal<Local, Bits<8>>,
    olen: Signal<Local, Bits<8>>,
    flen: Signal<Local, Bits<8>>,
    ws_off: Signal<Local, Bits<8>>,
    ip_len: Signal<Local, Bits<8>>,
    len2: Signal<Local, Bits<8>>,
    c_base: Constant<Bits<1024>>,
}

impl Default for CtlFrameTx {
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
            sack: Default::default(),
            mss: Default::default(),
            lastb: Default::default(),
            mssb: Default::default(),
            stb: Default::default(),
            wsb: Default::default(),
            optv: Default::default(),
            mss_len: Default::default(),
            st_len: Default::default(),
            olen: Default::default(),
            flen: Default::default(),
            ws_off: Default::default(),
            ip_len: Default::default(),
            len2: Default::default(),
            // Ethertype, version/IHL, DF, TTL, protocol.
            c_base: bytes(&[(12, 0x08), (14, 0x45), (20, 0x40), (22, 64), (23, 6)]),
        }
    }
}

impl Logic for CtlFrameTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, second);
        self.ts.next = self.rec.val().get_bit(294);
        self.ws.next = self.rec.val().get_bit(288);
        self.sack.next = self.rec.val().get_bit(293);
        self.mss.next = self.rec.val().get_bit(367);
        // Option lengths: MSS 4; timestamps 12 (SACK-permitted rides in
        // their padding) or SACK-permitted alone 4; window scale 4.
        self.mss_len.next = 0.into();
        if self.mss.val() {
            self.mss_len.next = 4.into();
        }
        self.st_len.next = 0.into();
        if self.sack.val() {
            self.st_len.next = 4.into();
        }
        if self.ts.val() {
            self.st_len.next = 12.into();
        }
        self.olen.next = self.mss_len.val() + self.st_len.val();
        if self.ws.val() {
            self.olen.next = self.olen.val() + 4;
        }
        self.flen.next = self.olen.val() + 54;
        // Sums in signals of their own width before they are widened (a
        // wider Verilog context would not wrap; see tests/kernel_pitfalls.rs).
        self.ws_off.next = self.mss_len.val() + self.st_len.val();
        self.ip_len.next = self.olen.val() + 40;
        self.len2.next = self.flen.val() - 64;
        // The frame is only assembled while a record waits (saves
        // simulation time on every other cycle).
        self.fr.next = 0.into();
        self.mssb.next = 0.into();
        self.stb.next = 0.into();
        self.wsb.next = 0.into();
        self.optv.next = 0.into();
        if !self.rec_empty.val() {
            if self.mss.val() {
                self.mssb.next = bit_cast::<160, 8>(2.into())
                    | (bit_cast::<160, 8>(4.into()) << 8)
                    | (bit_cast::<160, 368>((self.rec.val() >> 280) & 0xFF) << 16)
                    | (bit_cast::<160, 368>((self.rec.val() >> 272) & 0xFF) << 24);
            }
            if self.sack.val() {
                // NOP NOP SACK-permitted
                self.stb.next = bit_cast::<160, 32>(0x0204_0101.into());
            }
            if self.ts.val() {
                // (SACK-permitted or NOP NOP) TS TSval TSecr
                self.stb.next = bit_cast::<160, 32>(0x0a08_0101.into())
                    | (bit_cast::<160, 368>((self.rec.val() >> 319) & 0xFF) << 32)
                    | (bit_cast::<160, 368>((self.rec.val() >> 311) & 0xFF) << 40)
                    | (bit_cast::<160, 368>((self.rec.val() >> 303) & 0xFF) << 48)
                    | (bit_cast::<160, 368>((self.rec.val() >> 295) & 0xFF) << 56)
                    | (bit_cast::<160, 368>((self.rec.val() >> 351) & 0xFF) << 64)
                    | (bit_cast::<160, 368>((self.rec.val() >> 343) & 0xFF) << 72)
                    | (bit_cast::<160, 368>((self.rec.val() >> 335) & 0xFF) << 80)
                    | (bit_cast::<160, 368>((self.rec.val() >> 327) & 0xFF) << 88);
                if self.sack.val() {
                    self.stb.next = (self.stb.val() & !bit_cast::<160, 16>(0xFFFF.into()))
                        | bit_cast::<160, 16>(0x0204.into());
                }
            }
            if self.ws.val() {
                // NOP WS
                self.wsb.next = bit_cast::<160, 24>(0x03_0301.into())
                    | (bit_cast::<160, 368>((self.rec.val() >> 289) & 0xF) << 24);
            }
            self.optv.next = self.mssb.val()
                | (self.stb.val() << (bit_cast::<16, 8>(self.mss_len.val()) << 3))
                | (self.wsb.val() << (bit_cast::<16, 8>(self.ws_off.val()) << 3));
            self.fr.next = self.c_base.val()
                | (bit_cast::<1024, 160>(self.optv.val()) << 432)
                | (bit_cast::<1024, 368>((self.rec.val() >> 359) & 0xFF) << 376)
                | (bit_cast::<1024, 8>(self.ip_len.val()) << 136)
                | (bit_cast::<1024, 8>((self.olen.val() + 20) << 2) << 368)
                | (bit_cast::<1024, 368>((self.rec.val() >> 40) & 0xFF) << 0)
                | (bit_cast::<1024, 368>((self.rec.val() >> 32) & 0xFF) << 8)
                | (bit_cast::<1024, 368>((self.rec.val() >> 24) & 0xFF) << 16)
                | (bit_cast::<1024, 368>((self.rec.val() >> 16) & 0xFF) << 24)
                | (bit_cast::<1024, 368>((self.rec.val() >> 8) & 0xFF) << 32)
                | (bit_cast::<1024, 368>((self.rec.val() >> 0) & 0xFF) << 40)
                | (bit_cast::<1024, 368>((self.rec.val() >> 88) & 0xFF) << 48)
                | (bit_cast::<1024, 368>((self.rec.val() >> 80) & 0xFF) << 56)
                | (bit_cast::<1024, 368>((self.rec.val() >> 72) & 0xFF) << 64)
                | (bit_cast::<1024, 368>((self.rec.val() >> 64) & 0xFF) << 72)
                | (bit_cast::<1024, 368>((self.rec.val() >> 56) & 0xFF) << 80)
                | (bit_cast::<1024, 368>((self.rec.val() >> 48) & 0xFF) << 88)
                | (bit_cast::<1024, 368>((self.rec.val() >> 120) & 0xFF) << 208)
                | (bit_cast::<1024, 368>((self.rec.val() >> 112) & 0xFF) << 216)
                | (bit_cast::<1024, 368>((self.rec.val() >> 104) & 0xFF) << 224)
                | (bit_cast::<1024, 368>((self.rec.val() >> 96) & 0xFF) << 232)
                | (bit_cast::<1024, 368>((self.rec.val() >> 152) & 0xFF) << 240)
                | (bit_cast::<1024, 368>((self.rec.val() >> 144) & 0xFF) << 248)
                | (bit_cast::<1024, 368>((self.rec.val() >> 136) & 0xFF) << 256)
                | (bit_cast::<1024, 368>((self.rec.val() >> 128) & 0xFF) << 264)
                | (bit_cast::<1024, 368>((self.rec.val() >> 168) & 0xFF) << 272)
                | (bit_cast::<1024, 368>((self.rec.val() >> 160) & 0xFF) << 280)
                | (bit_cast::<1024, 368>((self.rec.val() >> 184) & 0xFF) << 288)
                | (bit_cast::<1024, 368>((self.rec.val() >> 176) & 0xFF) << 296)
                | (bit_cast::<1024, 368>((self.rec.val() >> 216) & 0xFF) << 304)
                | (bit_cast::<1024, 368>((self.rec.val() >> 208) & 0xFF) << 312)
                | (bit_cast::<1024, 368>((self.rec.val() >> 200) & 0xFF) << 320)
                | (bit_cast::<1024, 368>((self.rec.val() >> 192) & 0xFF) << 328)
                | (bit_cast::<1024, 368>((self.rec.val() >> 248) & 0xFF) << 336)
                | (bit_cast::<1024, 368>((self.rec.val() >> 240) & 0xFF) << 344)
                | (bit_cast::<1024, 368>((self.rec.val() >> 232) & 0xFF) << 352)
                | (bit_cast::<1024, 368>((self.rec.val() >> 224) & 0xFF) << 360)
                | (bit_cast::<1024, 368>((self.rec.val() >> 264) & 0xFF) << 384)
                | (bit_cast::<1024, 368>((self.rec.val() >> 256) & 0xFF) << 392);
        }
        // Beats: up to 64 bytes in one (padded to 60), else two.
        self.o_valid.next = !self.rec_empty.val();
        self.o_flags.next = 3.into();
        self.o_data.next = bit_cast::<512, 1024>(self.fr.val());
        self.lastb.next = (self.flen.val() <= 64) || self.second.q.val();
        self.o_last.next = self.lastb.val();
        self.o_keep.next = 0xFFFF_FFFF_FFFF_FFFF_u64.into();
        if self.flen.val() < 60 {
            self.o_keep.next = 0x0FFF_FFFF_FFFF_FFFF_u64.into();
        }
        if (self.flen.val() >= 60) && (self.flen.val() < 64) {
            self.o_keep.next =
                (bit_cast::<64, 1>(true.into()) << bit_cast::<64, 8>(self.flen.val())) - 1;
        }
        if self.second.q.val() {
            self.o_data.next = bit_cast::<512, 1024>(self.fr.val() >> 512);
            self.o_keep.next =
                (bit_cast::<64, 1>(true.into()) << bit_cast::<64, 8>(self.len2.val())) - 1;
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
        let mut uut = CtlFrameTx::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
