//! TX checksum insertion (store and forward).  Frames enter a data FIFO
//! while `FrameSum` sums them; at each frame's end the IPv4 header and TCP
//! checksums are computed (RFC 1071, RFC 9293 3.1 pseudo header) and queued.
//! A frame leaves only when its checksums are known, with the requested
//! fields patched in beat 0 (IPv4) and beat 0 or 1 (TCP).
use crate::frame_sum::{FrameSum, FRAME_SUM_LATENCY};

const _: () = assert!(FRAME_SUM_LATENCY < 16, "TxCsumFifo's almost-full margin");
use rust_hdl::prelude::*;

crate::declare_clear_fifo!(TxDataFifo, Bits<577>, 256, 4);
// ip_do (0), ip csum (16:1), tcp_do (17), tcp csum (33:18), tcp lane (40:34).
// Almost full with fewer than 16 free: frames still inside FrameSum (at most
// one per cycle of its FRAME_SUM_LATENCY, 10) must find room when their
// record comes out.
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
    hdr: Signal<Local, Bits<1088>>,
    ihl4: Signal<Local, Bits<16>>,
    tl: Signal<Local, Bits<16>>,
    plen: Signal<Local, Bits<16>>,
    l4off: Signal<Local, Bits<16>>,
    is_ip: Signal<Local, Bit>,
    tcp_ok: Signal<Local, Bit>,
    ipc: Signal<Local, Bits<32>>,
    tcpf: Signal<Local, Bits<16>>,
    tcpc: Signal<Local, Bits<32>>,
    ntcpf: Signal<Local, Bits<16>>,
    ent: Signal<Local, Bits<41>>,
    d: Signal<Local, Bits<512>>,
    sh: Signal<Local, Bits<16>>,
    go: Signal<Local, Bit>,
}

impl Logic for TxCsum {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, first, fl, ob);
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
        // Checksums of the frame that just ended.  Only computed when its
        // record is written (the FIFO ignores data_in otherwise), which saves
        // simulation time on all other cycles.
        self.hdr.next = 0.into();
        self.ihl4.next = 0.into();
        self.tl.next = 0.into();
        self.plen.next = 0.into();
        self.l4off.next = 0.into();
        self.is_ip.next = false;
        self.tcp_ok.next = false;
        self.ipc.next = 0.into();
        self.tcpf.next = 0.into();
        self.ntcpf.next = 0.into();
        self.tcpc.next = 0.into();
        self.ent.next = 0.into();
        self.cfifo.write.next = self.fsum.rec_valid.val();
        self.cfifo.data_in.next = 0.into();
        if self.fsum.rec_valid.val() {
            self.hdr.next = bit_cast::<1088, 512>(self.fsum.h0.val())
                | (bit_cast::<1088, 512>(self.fsum.h1.val()) << 512)
                | (bit_cast::<1088, 64>(self.fsum.h2.val()) << 1024);
            self.ihl4.next = bit_cast::<16, 512>((self.fsum.h0.val() >> 112) & 0xF) << 2;
            self.tl.next = bit_cast::<16, 512>(
                ((self.fsum.h0.val() >> 120) & 0xFF00) | ((self.fsum.h0.val() >> 136) & 0xFF),
            );
            self.plen.next = self.tl.val() - self.ihl4.val();
            self.l4off.next = self.ihl4.val() + 14;
            self.is_ip.next = (((self.fsum.h0.val() >> 96) & 0xFFFF) == 0x0008)
                && (((self.fsum.h0.val() >> 116) & 0xF) == 4)
                && (self.ihl4.val() >= 20)
                && (self.ihl4.val() + 14 <= self.fsum.len.val());
            self.tcp_ok.next = self.is_ip.val()
                && (self.tl.val() >= self.ihl4.val() + 20)
                && (self.tl.val() + 14 <= self.fsum.len.val())
                && (((self.fsum.h0.val() >> 184) & 0xFF) == 6)
                && !self.fsum.h0.val().get_bit(165)
                && (((self.fsum.h0.val() >> 160) & 0x1F) == 0)
                && (((self.fsum.h0.val() >> 168) & 0xFF) == 0);
            // IPv4: sum without the old checksum field, complemented.
            self.ipc.next = bit_cast::<32, 16>(self.fsum.ip_sum.val())
                + bit_cast::<32, 512>(!(self.fsum.h0.val() >> 192) & 0xFFFF);
            self.ipc.next = (self.ipc.val() & 0xFFFF) + (self.ipc.val() >> 16);
            self.ipc.next = (self.ipc.val() & 0xFFFF) + (self.ipc.val() >> 16);
            self.ipc.next = !self.ipc.val() & 0xFFFF;
            self.tcpf.next = bit_cast::<16, 1088>(self.hdr.val() >> ((self.l4off.val() + 16) << 3));
            // Invert into a 16-bit signal first: in Verilog `~x` inside a wider
            // expression is inverted at the wider width.
            self.ntcpf.next = !self.tcpf.val();
            self.tcpc.next = bit_cast::<32, 16>(self.fsum.l4_sum.val())
                + bit_cast::<32, 16>(self.ntcpf.val())
                + bit_cast::<32, 512>((self.fsum.h0.val() >> 208) & 0xFFFF)
                + bit_cast::<32, 512>((self.fsum.h0.val() >> 224) & 0xFFFF)
                + bit_cast::<32, 512>((self.fsum.h0.val() >> 240) & 0xFFFF)
                + bit_cast::<32, 512>((self.fsum.h0.val() >> 256) & 0xFFFF)
                + 0x0600
                + bit_cast::<32, 16>(((self.plen.val() & 0xFF) << 8) | (self.plen.val() >> 8));
            self.tcpc.next = (self.tcpc.val() & 0xFFFF) + (self.tcpc.val() >> 16);
            self.tcpc.next = (self.tcpc.val() & 0xFFFF) + (self.tcpc.val() >> 16);
            self.tcpc.next = !self.tcpc.val() & 0xFFFF;
            self.ent.next =
                bit_cast::<41, 1>((self.rec_fl.val().get_bit(0) && self.is_ip.val()).into())
                    | (bit_cast::<41, 32>(self.ipc.val()) << 1)
                    | (bit_cast::<41, 1>(
                        (self.rec_fl.val().get_bit(1) && self.tcp_ok.val()).into(),
                    ) << 17)
                    | (bit_cast::<41, 32>(self.tcpc.val()) << 18)
                    | (bit_cast::<41, 16>((self.l4off.val() + 16) >> 1) << 34);
            self.cfifo.data_in.next = self.ent.val();
        }
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
        }
    }
}
