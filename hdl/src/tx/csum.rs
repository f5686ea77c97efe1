//! TX checksum insertion (store and forward).  Frames enter a data FIFO
//! while `FrameSum` sums them; at each frame's end the IPv4 header and TCP
//! checksums are computed (RFC 1071, RFC 9293 3.1 pseudo header) and queued.
//! A frame leaves only when its checksums are known, with the requested
//! fields patched in beat 0 (IPv4) and beat 0 or 1 (TCP).
//!
//! The checksums of a frame are finished in [`CSUM_RECORD_STAGES`]
//! registered stages after `FrameSum`'s record (one adder each, so no path
//! is deeper than a few LUTs and one carry chain at 250 MHz):
//!
//! 1. header checks (IPv4, TCP, lengths), the TCP checksum field picked by
//!    the IHL nibble (an 11-way multiplexer, not a shift), pairs of
//!    pseudo-header words summed, the IPv4 sum with the old field's
//!    complement;
//! 2. pairs of pairs; the IPv4 sum folded once;
//! 3. the TCP sum of everything; the IPv4 sum folded again and complemented;
//! 4. the TCP sum folded once;
//! 5. folded again and complemented: the record is queued.
use crate::frame_sum::{FrameSum, FRAME_SUM_LATENCY};
use rust_hdl::prelude::*;

/// Registered stages from `FrameSum`'s record to the checksum queue.
pub const CSUM_RECORD_STAGES: usize = 5;

const _: () = assert!(
    FRAME_SUM_LATENCY + CSUM_RECORD_STAGES < 16,
    "TxCsumFifo's almost-full margin"
);

crate::declare_clear_fifo!(TxDataFifo, Bits<577>, 256, 4);
// ip_do (0), ip csum (16:1), tcp_do (17), tcp csum (33:18), tcp lane (40:34).
// Almost full with fewer than 16 free: frames still inside FrameSum and the
// record stages (at most one per cycle of FRAME_SUM_LATENCY +
// CSUM_RECORD_STAGES = 15) must find room when their record comes out.
crate::declare_clear_fifo!(TxCsumFifo, Bits<41>, 64, 16);
// The insertions each frame asks for, from its last beat until FrameSum's
// record of it (FRAME_SUM_LATENCY cycles later; frames behind it may have
// other flags).
crate::declare_clear_fifo!(TxFlagFifo, Bits<2>, 16, 1);

#[derive(LogicBlock, Default)]
pub struct TxCsum {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub i_valid: Signal<In, Bit>,
    pub i_data: Signal<In, Bits<512>>,
    pub i_keep: Signal<In, Bits<64>>,
    pub i_last: Signal<In, Bit>,
    pub i_flags: Signal<In, Bits<2>>,
    pub i_ready: Signal<Out, Bit>,
    pub o_valid: Signal<Out, Bit>,
    pub o_data: Signal<Out, Bits<512>>,
    pub o_keep: Signal<Out, Bits<64>>,
    pub o_last: Signal<Out, Bit>,
    pub o_ready: Signal<In, Bit>,
    fsum: FrameSum,
    dfifo: TxDataFifo,
    cfifo: TxCsumFifo,
    first: DFF<Bit>,
    fl: DFF<Bits<2>>,
    flfifo: TxFlagFifo,
    /// The flags of the frame whose record comes out this cycle.
    rec_fl: Signal<Local, Bits<2>>,
    ob: DFF<Bits<8>>,
    beat: Signal<Local, Bit>,
    // Record stage 1 (from FrameSum's record)
    rec1_valid: DFF<Bit>,
    /// IPv4 header checksum wanted and possible; TCP likewise.
    rec1_ip_do: DFF<Bit>,
    rec1_tcp_do: DFF<Bit>,
    /// The TCP checksum's 16-bit lane in the first two beats.
    rec1_lane: DFF<Bits<7>>,
    /// IPv4: header sum plus the old checksum field's complement.
    rec1_ip: DFF<Bits<17>>,
    /// TCP: segment sum + old field's complement; source address halves;
    /// destination address halves; protocol + TCP length (byte-swapped).
    rec1_tcp_a: DFF<Bits<17>>,
    rec1_tcp_b: DFF<Bits<17>>,
    rec1_tcp_c: DFF<Bits<17>>,
    rec1_tcp_d: DFF<Bits<17>>,
    // Stage 2
    rec2_valid: DFF<Bit>,
    rec2_ip_do: DFF<Bit>,
    rec2_tcp_do: DFF<Bit>,
    rec2_lane: DFF<Bits<7>>,
    rec2_ip: DFF<Bits<17>>,
    rec2_tcp_ab: DFF<Bits<18>>,
    rec2_tcp_cd: DFF<Bits<18>>,
    // Stage 3
    rec3_valid: DFF<Bit>,
    rec3_ip_do: DFF<Bit>,
    rec3_tcp_do: DFF<Bit>,
    rec3_lane: DFF<Bits<7>>,
    /// The IPv4 checksum, final.
    rec3_ip: DFF<Bits<16>>,
    rec3_tcp: DFF<Bits<19>>,
    // Stage 4
    rec4_valid: DFF<Bit>,
    rec4_ip_do: DFF<Bit>,
    rec4_tcp_do: DFF<Bit>,
    rec4_lane: DFF<Bits<7>>,
    rec4_ip: DFF<Bits<16>>,
    rec4_tcp: DFF<Bits<17>>,
    ihl: Signal<Local, Bits<4>>,
    ihl4: Signal<Local, Bits<16>>,
    tl: Signal<Local, Bits<16>>,
    plen: Signal<Local, Bits<16>>,
    is_ip: Signal<Local, Bit>,
    tcp_ok: Signal<Local, Bit>,
    /// The TCP header's checksum field (at byte 14 + 4 IHL + 16).
    tcpf: Signal<Local, Bits<16>>,
    ntcpf: Signal<Local, Bits<16>>,
    ip_fold: Signal<Local, Bits<17>>,
    tcp_fold: Signal<Local, Bits<17>>,
    tcp_csum: Signal<Local, Bits<16>>,
    ent: Signal<Local, Bits<41>>,
    d: Signal<Local, Bits<512>>,
    sh: Signal<Local, Bits<16>>,
    go: Signal<Local, Bit>,
}

impl Logic for TxCsum {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            first,
            fl,
            ob,
            rec1_valid,
            rec1_ip_do,
            rec1_tcp_do,
            rec1_lane,
            rec1_ip,
            rec1_tcp_a,
            rec1_tcp_b,
            rec1_tcp_c,
            rec1_tcp_d,
            rec2_valid,
            rec2_ip_do,
            rec2_tcp_do,
            rec2_lane,
            rec2_ip,
            rec2_tcp_ab,
            rec2_tcp_cd,
            rec3_valid,
            rec3_ip_do,
            rec3_tcp_do,
            rec3_lane,
            rec3_ip,
            rec3_tcp,
            rec4_valid,
            rec4_ip_do,
            rec4_tcp_do,
            rec4_lane,
            rec4_ip,
            rec4_tcp
        );
        clock!(self, clock, fsum, dfifo, cfifo, flfifo);
        self.flfifo.clear.next = self.rst.val();
        self.dfifo.clear.next = self.rst.val();
        self.cfifo.clear.next = self.rst.val();
        self.fsum.rst.next = self.rst.val();
        // Room for the beat and for its frame's checksum record: many short
        // frames (SYN-ACKs) fill the record FIFO before the data FIFO.
        self.i_ready.next = !self.dfifo.almost_full.val() && !self.cfifo.almost_full.val();
        self.beat.next =
            self.i_valid.val() && !self.dfifo.almost_full.val() && !self.cfifo.almost_full.val();
        self.dfifo.write.next = self.beat.val();
        self.dfifo.data_in.next = bit_cast::<577, 512>(self.i_data.val())
            | (bit_cast::<577, 64>(self.i_keep.val()) << 512)
            | (bit_cast::<577, 1>(self.i_last.val().into()) << 576);
        self.fsum.beat.next = self.beat.val();
        self.fsum.data.next = self.i_data.val();
        self.fsum.keep.next = self.i_keep.val();
        self.fsum.last.next = self.i_last.val();
        self.fsum.user.next = false;
        if self.beat.val() {
            self.first.d.next = self.i_last.val();
            if self.first.q.val() {
                self.fl.d.next = self.i_flags.val();
            }
        }
        // A frame's flags are those of its first beat.
        self.flfifo.write.next = self.beat.val() && self.i_last.val();
        self.flfifo.data_in.next = self.fl.q.val();
        if self.first.q.val() {
            self.flfifo.data_in.next = self.i_flags.val();
        }
        self.flfifo.read.next = self.fsum.rec_valid.val();
        self.rec_fl.next = self.flfifo.data_out.val();
        // ------------------------------------------------------ record 1
        // Checksums of the frame that just ended (RFC 1071; RFC 9293 3.1
        // pseudo header).  Header byte b is bits 8b+7:8b of h0 (h1 from 64).
        self.ihl.next = bit_cast::<4, 512>(self.fsum.h0.val() >> 112);
        self.ihl4.next = bit_cast::<16, 4>(self.ihl.val()) << 2;
        self.tl.next = bit_cast::<16, 512>(
            ((self.fsum.h0.val() >> 120) & 0xFF00) | ((self.fsum.h0.val() >> 136) & 0xFF),
        );
        self.plen.next = self.tl.val() - self.ihl4.val();
        self.is_ip.next = (((self.fsum.h0.val() >> 96) & 0xFFFF) == 0x0008)
            && (((self.fsum.h0.val() >> 116) & 0xF) == 4)
            && (self.ihl.val() >= 5)
            && (self.ihl4.val() + 14 <= self.fsum.len.val());
        self.tcp_ok.next = self.is_ip.val()
            && (self.tl.val() >= self.ihl4.val() + 20)
            && (self.tl.val() + 14 <= self.fsum.len.val())
            && (((self.fsum.h0.val() >> 184) & 0xFF) == 6)
            && !self.fsum.h0.val().get_bit(165)
            && (((self.fsum.h0.val() >> 160) & 0x1F) == 0)
            && (((self.fsum.h0.val() >> 168) & 0xFF) == 0);
        // The TCP checksum field at byte 30 + 4 IHL: one of 11 places.
        self.tcpf.next = 0.into();
        if self.ihl.val() == 5 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h0.val() >> 400);
        }
        if self.ihl.val() == 6 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h0.val() >> 432);
        }
        if self.ihl.val() == 7 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h0.val() >> 464);
        }
        if self.ihl.val() == 8 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h0.val() >> 496);
        }
        if self.ihl.val() == 9 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 16);
        }
        if self.ihl.val() == 10 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 48);
        }
        if self.ihl.val() == 11 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 80);
        }
        if self.ihl.val() == 12 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 112);
        }
        if self.ihl.val() == 13 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 144);
        }
        if self.ihl.val() == 14 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 176);
        }
        if self.ihl.val() == 15 {
            self.tcpf.next = bit_cast::<16, 512>(self.fsum.h1.val() >> 208);
        }
        // Invert into a 16-bit signal first: in Verilog `~x` inside a wider
        // expression is inverted at the wider width.
        self.ntcpf.next = !self.tcpf.val();
        self.rec1_valid.d.next = self.fsum.rec_valid.val();
        self.rec1_ip_do.d.next = self.rec_fl.val().get_bit(0) && self.is_ip.val();
        self.rec1_tcp_do.d.next = self.rec_fl.val().get_bit(1) && self.tcp_ok.val();
        // (14 + 4 IHL + 16) / 2
        self.rec1_lane.d.next = bit_cast::<7, 16>((self.ihl4.val() + 30) >> 1);
        self.rec1_ip.d.next = bit_cast::<17, 16>(self.fsum.ip_sum.val())
            + bit_cast::<17, 512>(!(self.fsum.h0.val() >> 192) & 0xFFFF);
        self.rec1_tcp_a.d.next =
            bit_cast::<17, 16>(self.fsum.l4_sum.val()) + bit_cast::<17, 16>(self.ntcpf.val());
        self.rec1_tcp_b.d.next = bit_cast::<17, 512>((self.fsum.h0.val() >> 208) & 0xFFFF)
            + bit_cast::<17, 512>((self.fsum.h0.val() >> 224) & 0xFFFF);
        self.rec1_tcp_c.d.next = bit_cast::<17, 512>((self.fsum.h0.val() >> 240) & 0xFFFF)
            + bit_cast::<17, 512>((self.fsum.h0.val() >> 256) & 0xFFFF);
        self.rec1_tcp_d.d.next =
            bit_cast::<17, 16>(((self.plen.val() & 0xFF) << 8) | (self.plen.val() >> 8)) + 0x0600;
        // ------------------------------------------------------ record 2
        self.rec2_valid.d.next = self.rec1_valid.q.val();
        self.rec2_ip_do.d.next = self.rec1_ip_do.q.val();
        self.rec2_tcp_do.d.next = self.rec1_tcp_do.q.val();
        self.rec2_lane.d.next = self.rec1_lane.q.val();
        self.rec2_ip.d.next = (self.rec1_ip.q.val() & 0xFFFF) + (self.rec1_ip.q.val() >> 16);
        self.rec2_tcp_ab.d.next = bit_cast::<18, 17>(self.rec1_tcp_a.q.val())
            + bit_cast::<18, 17>(self.rec1_tcp_b.q.val());
        self.rec2_tcp_cd.d.next = bit_cast::<18, 17>(self.rec1_tcp_c.q.val())
            + bit_cast::<18, 17>(self.rec1_tcp_d.q.val());
        // ------------------------------------------------------ record 3
        self.rec3_valid.d.next = self.rec2_valid.q.val();
        self.rec3_ip_do.d.next = self.rec2_ip_do.q.val();
        self.rec3_tcp_do.d.next = self.rec2_tcp_do.q.val();
        self.rec3_lane.d.next = self.rec2_lane.q.val();
        self.ip_fold.next = (self.rec2_ip.q.val() & 0xFFFF) + (self.rec2_ip.q.val() >> 16);
        self.rec3_ip.d.next = !bit_cast::<16, 17>(self.ip_fold.val());
        self.rec3_tcp.d.next = bit_cast::<19, 18>(self.rec2_tcp_ab.q.val())
            + bit_cast::<19, 18>(self.rec2_tcp_cd.q.val());
        // ------------------------------------------------------ record 4
        self.rec4_valid.d.next = self.rec3_valid.q.val();
        self.rec4_ip_do.d.next = self.rec3_ip_do.q.val();
        self.rec4_tcp_do.d.next = self.rec3_tcp_do.q.val();
        self.rec4_lane.d.next = self.rec3_lane.q.val();
        self.rec4_ip.d.next = self.rec3_ip.q.val();
        self.rec4_tcp.d.next = bit_cast::<17, 19>(self.rec3_tcp.q.val() & 0xFFFF)
            + bit_cast::<17, 19>(self.rec3_tcp.q.val() >> 16);
        // ------------------------------------------------------ record 5
        self.tcp_fold.next = (self.rec4_tcp.q.val() & 0xFFFF) + (self.rec4_tcp.q.val() >> 16);
        // Complemented in a 16-bit signal (see `ntcpf`).
        self.tcp_csum.next = !bit_cast::<16, 17>(self.tcp_fold.val());
        self.ent.next = bit_cast::<41, 1>(self.rec4_ip_do.q.val().into())
            | (bit_cast::<41, 16>(self.rec4_ip.q.val()) << 1)
            | (bit_cast::<41, 1>(self.rec4_tcp_do.q.val().into()) << 17)
            | (bit_cast::<41, 16>(self.tcp_csum.val()) << 18)
            | (bit_cast::<41, 7>(self.rec4_lane.q.val()) << 34);
        self.cfifo.write.next = self.rec4_valid.q.val();
        self.cfifo.data_in.next = self.ent.val();
        // Output: a frame leaves once its checksums are queued.
        self.go.next = !self.cfifo.empty.val() && !self.dfifo.empty.val();
        self.d.next = bit_cast::<512, 577>(self.dfifo.data_out.val());
        if (self.ob.q.val() == 0) && self.cfifo.data_out.val().get_bit(0) {
            self.d.next = (self.d.val() & !(bit_cast::<512, 16>(0xFFFF.into()) << 192))
                | (bit_cast::<512, 41>((self.cfifo.data_out.val() >> 1) & 0xFFFF) << 192);
        }
        self.sh.next = bit_cast::<16, 41>((self.cfifo.data_out.val() >> 34) & 31) << 4;
        if self.cfifo.data_out.val().get_bit(17)
            && (bit_cast::<8, 41>(self.cfifo.data_out.val() >> 39) == self.ob.q.val())
        {
            self.d.next = (self.d.val() & !(bit_cast::<512, 16>(0xFFFF.into()) << self.sh.val()))
                | (bit_cast::<512, 41>((self.cfifo.data_out.val() >> 18) & 0xFFFF)
                    << self.sh.val());
        }
        self.o_valid.next = self.go.val();
        self.o_data.next = self.d.val();
        self.o_keep.next = bit_cast::<64, 577>(self.dfifo.data_out.val() >> 512);
        self.o_last.next = self.dfifo.data_out.val().get_bit(576);
        self.dfifo.read.next = self.go.val() && self.o_ready.val();
        self.cfifo.read.next =
            self.go.val() && self.o_ready.val() && self.dfifo.data_out.val().get_bit(576);
        if self.go.val() && self.o_ready.val() {
            self.ob.d.next = self.ob.q.val() + 1;
            if self.dfifo.data_out.val().get_bit(576) {
                self.ob.d.next = 0.into();
            }
        }
        if self.rst.val() {
            self.first.d.next = true;
            self.ob.d.next = 0.into();
            self.rec1_valid.d.next = false;
            self.rec2_valid.d.next = false;
            self.rec3_valid.d.next = false;
            self.rec4_valid.d.next = false;
        }
    }
}
