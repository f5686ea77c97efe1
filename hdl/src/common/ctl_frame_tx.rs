//! TCP control frames (the setup offload's SYN-ACKs, the active open's
//! SYNs and ACKs): Ethernet/IPv4/TCP bytes from a queued record, as an AXI4-Stream
//! source of one or two 64-byte beats that the TX arbiter merges with the
//! host's frames ahead of the checksum inserter (`o.flags` asks for both
//! checksums).
//!
//! Layout (Linux's order): Ethernet, IPv4 (ID 0, DF, TTL 64, checksum left
//! 0), TCP (the record's flags, checksum left 0), then the options the
//! record asks for: MSS; timestamps as `SACK-permitted TS` or `NOP NOP TS`,
//! or without timestamps SACK-permitted as `NOP NOP SACK-permitted`; a
//! window scale as `NOP WS`.  Frames are 54 to 74 bytes, padded to 60
//! (`toe_model::setup::ctl_frame` is the reference).
//!
//! Timing: a record is popped into a holding register (`rec_r`) before its
//! frame is built, so no frame field depends on the queue's output or the
//! record arbiter's select (the paths from the SYN-ACK queue through the
//! frame fields and the TX arbiter into the frame sum were 10 LUT levels).
//! The pop happens when the holding register is empty or its frame's last
//! beat leaves, so back-to-back single-beat frames still go one per cycle;
//! a frame leaves one cycle after its record is popped.
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
use crate::common::stream::{FifoIn, FrameOut};
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
    /// The record queue (first word fall through), from the record arbiter.
    pub rec: FifoIn<REC_BITS>,
    /// The frames built, to the TX arbiter.
    pub o: FrameOut,
    second: DFF<Bit>,
    /// The record being sent, taken from the queue into this register
    /// (every frame field starts at a flip-flop), and whether it holds one.
    rec_r: DFF<Bits<REC_BITS>>,
    held: DFF<Bit>,
    frees: Signal<Local, Bit>,
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
    ws_off: Signal<Local, Bits<8>>,
    ip_len: Signal<Local, Bits<8>>,
    doff: Signal<Local, Bits<8>>,
    /// Lengths of the held record: options, the window scale's offset
    /// among them, the IPv4 total length, the TCP data offset byte.
    olen_r: DFF<Bits<8>>,
    ws_off_r: DFF<Bits<8>>,
    ip_len_r: DFF<Bits<8>>,
    doff_r: DFF<Bits<8>>,
    blocks: Signal<Local, Bits<3>>,
    one_beat: Signal<Local, Bit>,
    c_base: Constant<Bits<1024>>,
}

impl Default for CtlFrameTx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            rec: Default::default(),
            o: Default::default(),
            second: Default::default(),
            rec_r: Default::default(),
            held: Default::default(),
            frees: Default::default(),
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
            ws_off: Default::default(),
            ip_len: Default::default(),
            doff: Default::default(),
            olen_r: Default::default(),
            ws_off_r: Default::default(),
            ip_len_r: Default::default(),
            doff_r: Default::default(),
            blocks: Default::default(),
            one_beat: Default::default(),
            // Ethertype, version/IHL, DF, TTL, protocol.
            c_base: bytes(&[(12, 0x08), (14, 0x45), (20, 0x40), (22, 64), (23, 6)]),
        }
    }
}

impl Logic for CtlFrameTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, second, held, rec_r, olen_r, ws_off_r, ip_len_r, doff_r);
        // The option flags of the held record (frame bytes below) ...
        self.ts.next = self.rec_r.q.val().get_bit(294);
        self.ws.next = self.rec_r.q.val().get_bit(288);
        self.sack.next = self.rec_r.q.val().get_bit(293);
        self.mss.next = self.rec_r.q.val().get_bit(367);
        // ... and the lengths, computed from the incoming record and
        // registered with it.  Option lengths: MSS 4; timestamps 12
        // (SACK-permitted rides in their padding) or SACK-permitted alone
        // 4; window scale 4.  Sums in signals of their own width before
        // they are widened (a wider Verilog context would not wrap; see
        // tests/kernel_pitfalls.rs).
        self.mss_len.next = 0.into();
        if self.rec.data.val().get_bit(367) {
            self.mss_len.next = 4.into();
        }
        self.st_len.next = 0.into();
        if self.rec.data.val().get_bit(293) {
            self.st_len.next = 4.into();
        }
        if self.rec.data.val().get_bit(294) {
            self.st_len.next = 12.into();
        }
        self.ws_off.next = self.mss_len.val() + self.st_len.val();
        self.olen.next = self.ws_off.val();
        if self.rec.data.val().get_bit(288) {
            self.olen.next = self.ws_off.val() + 4;
        }
        self.ip_len.next = self.olen.val() + 40;
        self.doff.next = (self.olen.val() + 20) << 2;
        // Options come in 4-byte blocks, at most 5: the frame is
        // 54 + 4 * blocks bytes, one beat up to two blocks (60 bytes with
        // padding, or 62), two beats from three (2, 6 or 10 bytes in the
        // second).  Decided from the registered block count, without adders.
        self.blocks.next = self.olen_r.q.val().get_bits::<3>(2);
        self.one_beat.next =
            (self.blocks.val() == 0) || (self.blocks.val() == 1) || (self.blocks.val() == 2);
        // The frame is only assembled while a record is held (saves
        // simulation time on every other cycle).
        self.fr.next = 0.into();
        self.mssb.next = 0.into();
        self.stb.next = 0.into();
        self.wsb.next = 0.into();
        self.optv.next = 0.into();
        if self.held.q.val() {
            if self.mss.val() {
                self.mssb.next = bit_cast::<160, 8>(2.into())
                    | (bit_cast::<160, 8>(4.into()) << 8)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 280) & 0xFF) << 16)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 272) & 0xFF) << 24);
            }
            if self.sack.val() {
                // NOP NOP SACK-permitted
                self.stb.next = bit_cast::<160, 32>(0x0204_0101.into());
            }
            if self.ts.val() {
                // (SACK-permitted or NOP NOP) TS TSval TSecr
                self.stb.next = bit_cast::<160, 32>(0x0a08_0101.into())
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 319) & 0xFF) << 32)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 311) & 0xFF) << 40)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 303) & 0xFF) << 48)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 295) & 0xFF) << 56)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 351) & 0xFF) << 64)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 343) & 0xFF) << 72)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 335) & 0xFF) << 80)
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 327) & 0xFF) << 88);
                if self.sack.val() {
                    self.stb.next = (self.stb.val() & !bit_cast::<160, 16>(0xFFFF.into()))
                        | bit_cast::<160, 16>(0x0204.into());
                }
            }
            if self.ws.val() {
                // NOP WS
                self.wsb.next = bit_cast::<160, 24>(0x03_0301.into())
                    | (bit_cast::<160, 368>((self.rec_r.q.val() >> 289) & 0xF) << 24);
            }
            // SACK-permitted/timestamps follow the MSS option when present.
            self.optv.next = self.mssb.val()
                | self.stb.val()
                | (self.wsb.val() << (bit_cast::<16, 8>(self.ws_off_r.q.val()) << 3));
            if self.mss.val() {
                self.optv.next = self.mssb.val()
                    | (self.stb.val() << 32)
                    | (self.wsb.val() << (bit_cast::<16, 8>(self.ws_off_r.q.val()) << 3));
            }
            self.fr.next = self.c_base.val()
                | (bit_cast::<1024, 160>(self.optv.val()) << 432)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 359) & 0xFF) << 376)
                | (bit_cast::<1024, 8>(self.ip_len_r.q.val()) << 136)
                | (bit_cast::<1024, 8>(self.doff_r.q.val()) << 368)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 40) & 0xFF) << 0)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 32) & 0xFF) << 8)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 24) & 0xFF) << 16)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 16) & 0xFF) << 24)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 8) & 0xFF) << 32)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 0) & 0xFF) << 40)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 88) & 0xFF) << 48)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 80) & 0xFF) << 56)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 72) & 0xFF) << 64)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 64) & 0xFF) << 72)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 56) & 0xFF) << 80)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 48) & 0xFF) << 88)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 120) & 0xFF) << 208)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 112) & 0xFF) << 216)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 104) & 0xFF) << 224)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 96) & 0xFF) << 232)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 152) & 0xFF) << 240)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 144) & 0xFF) << 248)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 136) & 0xFF) << 256)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 128) & 0xFF) << 264)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 168) & 0xFF) << 272)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 160) & 0xFF) << 280)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 184) & 0xFF) << 288)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 176) & 0xFF) << 296)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 216) & 0xFF) << 304)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 208) & 0xFF) << 312)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 200) & 0xFF) << 320)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 192) & 0xFF) << 328)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 248) & 0xFF) << 336)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 240) & 0xFF) << 344)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 232) & 0xFF) << 352)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 224) & 0xFF) << 360)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 264) & 0xFF) << 384)
                | (bit_cast::<1024, 368>((self.rec_r.q.val() >> 256) & 0xFF) << 392);
        }
        // Beats: up to 64 bytes in one (padded to 60), else two.
        self.o.valid.next = self.held.q.val();
        self.o.flags.next = 3.into();
        self.o.data.next = bit_cast::<512, 1024>(self.fr.val());
        self.lastb.next = self.one_beat.val() || self.second.q.val();
        self.o.last.next = self.lastb.val();
        self.o.keep.next = 0xFFFF_FFFF_FFFF_FFFF_u64.into();
        if (self.blocks.val() == 0) || (self.blocks.val() == 1) {
            self.o.keep.next = 0x0FFF_FFFF_FFFF_FFFF_u64.into();
        }
        if self.blocks.val() == 2 {
            self.o.keep.next = 0x3FFF_FFFF_FFFF_FFFF_u64.into();
        }
        if self.second.q.val() {
            self.o.data.next = bit_cast::<512, 1024>(self.fr.val() >> 512);
            self.o.keep.next = 0x3FF.into();
            if self.blocks.val() == 3 {
                self.o.keep.next = 0x3.into();
            }
            if self.blocks.val() == 4 {
                self.o.keep.next = 0x3F.into();
            }
        }
        // The holding stage is free for the next record when it is empty
        // or its last beat leaves in this cycle; the pop depends on
        // registers and the sink's ready only.
        self.frees.next = self.held.q.val() && self.o.ready.val() && self.lastb.val();
        self.rec.pop.next = !self.rec.empty.val() && (!self.held.q.val() || self.frees.val());
        if self.held.q.val() && self.o.ready.val() {
            self.second.d.next = !self.lastb.val();
        }
        if self.frees.val() {
            self.held.d.next = false;
        }
        if self.rec.pop.val() {
            self.held.d.next = true;
            self.rec_r.d.next = self.rec.data.val();
            self.olen_r.d.next = self.olen.val();
            self.ws_off_r.d.next = self.ws_off.val();
            self.ip_len_r.d.next = self.ip_len.val();
            self.doff_r.d.next = self.doff.val();
        }
        if self.rst.val() {
            self.second.d.next = false;
            self.held.d.next = false;
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
