//! Frame analyzer: a tap on a 512-bit AXI4-Stream that, per frame, captures
//! the first 136 header bytes, the frame length, the error flag and two
//! ones-complement partial sums (IPv4 header range and TCP segment range).
//!
//! Sums are taken over 16-bit little-endian lanes of the bus (lane w = bytes
//! 2w, 2w+1 with byte 2w in the low half).  The ones-complement sum commutes
//! with byte swapping, so downstream logic compares and inserts checksums in
//! lane form without swapping.  Ranges come from IHL and the IP total length
//! in the first beat; bytes past the IP total length (Ethernet padding) are
//! not summed.  One record comes out one cycle after each frame's last beat.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct FrameSum {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// One beat transferred this cycle.
    pub beat: Signal<In, Bit>,
    pub data: Signal<In, Bits<512>>,
    pub keep: Signal<In, Bits<64>>,
    pub last: Signal<In, Bit>,
    pub user: Signal<In, Bit>,
    /// Record of the frame whose last beat was seen in the previous cycle.
    pub rec_valid: Signal<Out, Bit>,
    pub h0: Signal<Out, Bits<512>>,
    pub h1: Signal<Out, Bits<512>>,
    pub h2: Signal<Out, Bits<64>>,
    pub len: Signal<Out, Bits<16>>,
    pub err: Signal<Out, Bit>,
    /// Folded sums (lane form).
    pub ip_sum: Signal<Out, Bits<16>>,
    pub l4_sum: Signal<Out, Bits<16>>,
    // State
    beat_idx: DFF<Bits<8>>,
    ihl_q: DFF<Bits<4>>,
    tl_q: DFF<Bits<16>>,
    ip_acc: DFF<Bits<32>>,
    l4_acc: DFF<Bits<32>>,
    err_q: DFF<Bit>,
    h0_q: DFF<Bits<512>>,
    h1_q: DFF<Bits<512>>,
    h2_q: DFF<Bits<64>>,
    out_valid: DFF<Bit>,
    out_len: DFF<Bits<16>>,
    out_err: DFF<Bit>,
    out_ip: DFF<Bits<16>>,
    out_l4: DFF<Bits<16>>,
    // Scratch
    ihl: Signal<Local, Bits<16>>,
    tl: Signal<Local, Bits<16>>,
    ip_end: Signal<Local, Bits<16>>,
    l4_end: Signal<Local, Bits<16>>,
    off: Signal<Local, Bits<16>>,
    // Byte bounds of the IPv4 header (from `b_iplo`) and of the TCP segment
    // (from `b_iphi`) within this beat, clamped to 0..=64.
    b_iplo: Signal<Local, Bits<8>>,
    b_iphi: Signal<Local, Bits<8>>,
    b_l4hi: Signal<Local, Bits<8>>,
    // Lanes (16-bit) wholly inside each range.
    ipm: Signal<Local, Bits<32>>,
    l4m: Signal<Local, Bits<32>>,
    // Bit offset of the byte of a TCP segment that ends in mid-lane.
    pbit: Signal<Local, Bits<16>>,
    lane: Signal<Local, Bits<16>>,
    ipb: Signal<Local, Bits<32>>,
    l4b: Signal<Local, Bits<32>>,
    kc: Signal<Local, Bits<64>>,
    cnt: Signal<Local, Bits<16>>,
    // All lanes (a constant).
    ones: Signal<Local, Bits<32>>,
    t_ip: Signal<Local, Bits<32>>,
    t_l4: Signal<Local, Bits<32>>,
    f_ip: Signal<Local, Bits<32>>,
    f_l4: Signal<Local, Bits<32>>,
}

impl Logic for FrameSum {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, beat_idx, ihl_q, tl_q, ip_acc, l4_acc, err_q, h0_q, h1_q, h2_q, out_valid,
            out_len, out_err, out_ip, out_l4
        );
        // Header fields come from the current beat on the first beat of a frame.
        self.ihl.next = bit_cast::<16, 4>(self.ihl_q.q.val());
        self.tl.next = self.tl_q.q.val();
        if self.beat_idx.q.val() == 0 {
            self.ihl.next = bit_cast::<16, 512>((self.data.val() >> 112) & 0xF);
            self.tl.next = bit_cast::<16, 512>(
                ((self.data.val() >> 120) & 0xFF00) | ((self.data.val() >> 136) & 0xFF),
            );
        }
        self.ip_end.next = (self.ihl.val() << 2) + 14;
        self.l4_end.next = self.tl.val() + 14;
        // Masked lane sums and byte count of this beat.  They are only used
        // when a beat is transferred, so they are only computed then (which
        // saves simulation time when the bus is idle; in hardware the `if`
        // is just an enable).
        self.off.next = bit_cast::<16, 8>(self.beat_idx.q.val()) << 6;
        self.ones.next = 0xFFFF_FFFF_u64.into();
        self.b_iplo.next = 0.into();
        self.b_iphi.next = 0.into();
        self.b_l4hi.next = 0.into();
        self.ipm.next = 0.into();
        self.l4m.next = 0.into();
        self.pbit.next = 0.into();
        self.lane.next = 0.into();
        self.ipb.next = 0.into();
        self.l4b.next = 0.into();
        self.kc.next = 0.into();
        self.cnt.next = 0.into();
        if self.beat.val() {
            // The IPv4 header is bytes [14, ip_end) of the frame, the TCP
            // segment [ip_end, l4_end); this beat is [off, off + 64).  Both
            // bounds of the header are even, so it covers whole lanes; the
            // segment may end in mid-lane (its last byte is then the low
            // byte of a lane, the high byte is not summed).
            if self.beat_idx.q.val() == 0 {
                self.b_iplo.next = 14.into();
            }
            if self.ip_end.val() > self.off.val() {
                self.b_iphi.next = 64.into();
                if self.ip_end.val() < self.off.val() + 64 {
                    self.b_iphi.next = bit_cast::<8, 16>(self.ip_end.val() - self.off.val());
                }
            }
            if self.l4_end.val() > self.off.val() {
                self.b_l4hi.next = 64.into();
                if self.l4_end.val() < self.off.val() + 64 {
                    self.b_l4hi.next = bit_cast::<8, 16>(self.l4_end.val() - self.off.val());
                }
            }
            // Lanes lo/2 .. hi/2 (none when hi <= lo).
            self.ipm.next = (self.ones.val() << (self.b_iplo.val() >> 1))
                & !(self.ones.val() << (self.b_iphi.val() >> 1));
            self.l4m.next = (self.ones.val() << (self.b_iphi.val() >> 1))
                & !(self.ones.val() << (self.b_l4hi.val() >> 1));
            for w in 0..32 {
                self.lane.next = self.data.val().get_bits::<16>(16 * w);
                if self.ipm.val().get_bit(w) {
                    self.ipb.next = self.ipb.val() + bit_cast::<32, 16>(self.lane.val());
                }
                if self.l4m.val().get_bit(w) {
                    self.l4b.next = self.l4b.val() + bit_cast::<32, 16>(self.lane.val());
                }
            }
            if self.b_l4hi.val().get_bit(0) && (self.b_l4hi.val() > self.b_iphi.val()) {
                self.pbit.next = (bit_cast::<16, 8>(self.b_l4hi.val()) - 1) << 3;
                self.l4b.next = self.l4b.val()
                    + bit_cast::<32, 8>(self.data.val().get_bits::<8>(self.pbit.val().index()));
            }
            // Bytes in this beat (tkeep is contiguous from byte 0, so this is
            // the number of set bits; counted in parallel).
            self.kc.next = self.keep.val() - ((self.keep.val() >> 1) & 0x5555_5555_5555_5555_u64);
            self.kc.next = (self.kc.val() & 0x3333_3333_3333_3333_u64)
                + ((self.kc.val() >> 2) & 0x3333_3333_3333_3333_u64);
            self.kc.next = (self.kc.val() + (self.kc.val() >> 4)) & 0x0F0F_0F0F_0F0F_0F0F_u64;
            self.kc.next = self.kc.val() + (self.kc.val() >> 8);
            self.kc.next = self.kc.val() + (self.kc.val() >> 16);
            self.kc.next = self.kc.val() + (self.kc.val() >> 32);
            self.cnt.next = bit_cast::<16, 64>(self.kc.val() & 0x7F);
        }
        self.t_ip.next = self.ip_acc.q.val() + self.ipb.val();
        self.t_l4.next = self.l4_acc.q.val() + self.l4b.val();
        if self.beat_idx.q.val() == 0 {
            self.t_ip.next = self.ipb.val();
            self.t_l4.next = self.l4b.val();
        }
        self.f_ip.next = (self.t_ip.val() & 0xFFFF) + (self.t_ip.val() >> 16);
        self.f_ip.next = (self.f_ip.val() & 0xFFFF) + (self.f_ip.val() >> 16);
        self.f_l4.next = (self.t_l4.val() & 0xFFFF) + (self.t_l4.val() >> 16);
        self.f_l4.next = (self.f_l4.val() & 0xFFFF) + (self.f_l4.val() >> 16);
        self.out_valid.d.next = false;
        if self.beat.val() {
            self.ip_acc.d.next = self.t_ip.val();
            self.l4_acc.d.next = self.t_l4.val();
            if self.beat_idx.q.val() == 0 {
                self.ihl_q.d.next = bit_cast::<4, 16>(self.ihl.val());
                self.tl_q.d.next = self.tl.val();
                self.h0_q.d.next = self.data.val();
                self.h1_q.d.next = 0.into();
                self.h2_q.d.next = 0.into();
                self.err_q.d.next = self.user.val();
            } else {
                self.err_q.d.next = self.err_q.q.val() || self.user.val();
            }
            if self.beat_idx.q.val() == 1 {
                self.h1_q.d.next = self.data.val();
            }
            if self.beat_idx.q.val() == 2 {
                self.h2_q.d.next = bit_cast::<64, 512>(self.data.val());
            }
            if self.beat_idx.q.val() != 255 {
                self.beat_idx.d.next = self.beat_idx.q.val() + 1;
            }
            if self.last.val() {
                self.beat_idx.d.next = 0.into();
                self.out_valid.d.next = true;
                self.out_len.d.next = self.off.val() + self.cnt.val();
                self.out_err.d.next =
                    self.user.val() || (self.err_q.q.val() && (self.beat_idx.q.val() != 0));
                self.out_ip.d.next = bit_cast::<16, 32>(self.f_ip.val());
                self.out_l4.d.next = bit_cast::<16, 32>(self.f_l4.val());
            }
        }
        self.rec_valid.next = self.out_valid.q.val();
        self.len.next = self.out_len.q.val();
        self.err.next = self.out_err.q.val();
        self.ip_sum.next = self.out_ip.q.val();
        self.l4_sum.next = self.out_l4.q.val();
        // The header registers hold the last complete frame's header until the
        // next frame's first beat, which is at least one cycle after rec_valid.
        self.h0.next = self.h0_q.q.val();
        self.h1.next = self.h1_q.q.val();
        self.h2.next = self.h2_q.q.val();
        if self.rst.val() {
            self.beat_idx.d.next = 0.into();
            self.out_valid.d.next = false;
            self.err_q.d.next = false;
        }
    }
}
