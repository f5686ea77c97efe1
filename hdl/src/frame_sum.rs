//! Frame analyzer: a tap on a 512-bit AXI4-Stream that, per frame, captures
//! the first 136 header bytes, the frame length, the error flag and two
//! ones-complement partial sums (IPv4 header range and TCP segment range).
//!
//! Sums are taken over 16-bit little-endian lanes of the bus (lane w = bytes
//! 2w, 2w+1 with byte 2w in the low half).  The ones-complement sum commutes
//! with byte swapping, so downstream logic compares and inserts checksums in
//! lane form without swapping.  Ranges come from IHL and the IP total length
//! in the first beat; bytes past the IP total length (Ethernet padding) are
//! not summed.
//!
//! ## Pipeline ([`FRAME_SUM_LATENCY`] = 10)
//!
//! One beat per cycle, every stage a few LUT levels deep (checked with
//! `cargo xtask depth --module 'top$rx$fsum'`, docs/timing.md).  With `T` the
//! cycle of a beat:
//!
//! | cycle | logic | registered |
//! |---|---|---|
//! | T | header fields of the first beat; bytes of each range left from this beat on (a counter per range, no compare against a beat offset) | the beat, its lane bounds (0..=64), the remaining byte counts |
//! | T+1 | lane masks from the bounds (a decoder each), masked lanes; byte popcount of `keep`; a frame's header, error flag go into the header queue at its last beat | 2 x 32 masked lanes, 8 byte counts |
//! | T+2 .. T+6 | balanced adder trees, 32 -> 16 -> 8 -> 4 -> 2 -> 1 lanes per range; the byte count, then the length | partial sums |
//! | T+7 | the frame's running sum (one 32-bit add per beat) | the frame's sum at its last beat |
//! | T+8, T+9 | two end-around folds to 16 bits | the folded sums |
//!
//! A frame's record comes out [`FRAME_SUM_LATENCY`] cycles after its last
//! beat: the sums from the pipeline, the header, length and error flag from
//! the header queue (16 entries, more than the frames the pipeline holds).
use rust_hdl::prelude::*;

/// Cycles from a frame's last beat to its record (`rec_valid`).
pub const FRAME_SUM_LATENCY: usize = 10;

// Header (1087:0: h0, h1, h2) and error flag (1088) of a frame.
crate::declare_clear_fifo!(FrameHdrFifo, Bits<1089>, 16, 1);

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
    /// Record of the frame whose last beat was seen FRAME_SUM_LATENCY
    /// cycles ago; the other outputs are valid with it.
    pub rec_valid: Signal<Out, Bit>,
    pub h0: Signal<Out, Bits<512>>,
    pub h1: Signal<Out, Bits<512>>,
    pub h2: Signal<Out, Bits<64>>,
    pub len: Signal<Out, Bits<16>>,
    pub err: Signal<Out, Bit>,
    /// Folded sums (lane form).
    pub ip_sum: Signal<Out, Bits<16>>,
    pub l4_sum: Signal<Out, Bits<16>>,
    // ---------------------------------------------------------- beat side (T)
    beat_idx: DFF<Bits<8>>,
    /// The next beat continues a frame (0: it is a frame's first; 0 from
    /// power-up and reset).
    in_frame: DFF<Bit>,
    err_q: DFF<Bit>,
    h0_q: DFF<Bits<512>>,
    h1_q: DFF<Bits<512>>,
    h2_q: DFF<Bits<64>>,
    /// Bytes of the IPv4 header and of the TCP segment from the next beat's
    /// first byte on (0 once the range has ended).
    ip_left: DFF<Bits<16>>,
    l4_left: DFF<Bits<16>>,
    // ---------------------------------------------------------- stage 1 (T+1)
    s1_valid: DFF<Bit>,
    s1_first: DFF<Bit>,
    s1_last: DFF<Bit>,
    s1_err: DFF<Bit>,
    s1_data: DFF<Bits<512>>,
    s1_keep: DFF<Bits<64>>,
    s1_off: DFF<Bits<16>>,
    /// Byte bounds within the beat: the IPv4 header is [iplo, iphi), the
    /// TCP segment [iphi, l4hi).
    s1_iplo: DFF<Bits<7>>,
    s1_iphi: DFF<Bits<7>>,
    s1_l4hi: DFF<Bits<7>>,
    // ---------------------------------------------------------- stage 2 (T+2)
    s2_valid: DFF<Bit>,
    s2_first: DFF<Bit>,
    s2_last: DFF<Bit>,
    s2_off: DFF<Bits<16>>,
    s2_ip: [DFF<Bits<16>>; 32],
    s2_l4: [DFF<Bits<16>>; 32],
    /// Set bits of each byte of `keep`, 4 bits per byte.
    s2_bytes: DFF<Bits<32>>,
    // ---------------------------------------------------------- adder trees
    s3_valid: DFF<Bit>,
    s3_first: DFF<Bit>,
    s3_last: DFF<Bit>,
    s3_off: DFF<Bits<16>>,
    s3_cnt: DFF<Bits<7>>,
    s3_ip: [DFF<Bits<17>>; 16],
    s3_l4: [DFF<Bits<17>>; 16],
    s4_valid: DFF<Bit>,
    s4_first: DFF<Bit>,
    s4_last: DFF<Bit>,
    s4_len: DFF<Bits<16>>,
    s4_ip: [DFF<Bits<18>>; 8],
    s4_l4: [DFF<Bits<18>>; 8],
    s5_valid: DFF<Bit>,
    s5_first: DFF<Bit>,
    s5_last: DFF<Bit>,
    s5_len: DFF<Bits<16>>,
    s5_ip: [DFF<Bits<19>>; 4],
    s5_l4: [DFF<Bits<19>>; 4],
    s6_valid: DFF<Bit>,
    s6_first: DFF<Bit>,
    s6_last: DFF<Bit>,
    s6_len: DFF<Bits<16>>,
    s6_ip: [DFF<Bits<20>>; 2],
    s6_l4: [DFF<Bits<20>>; 2],
    s7_valid: DFF<Bit>,
    s7_first: DFF<Bit>,
    s7_last: DFF<Bit>,
    s7_len: DFF<Bits<16>>,
    s7_ip: DFF<Bits<21>>,
    s7_l4: DFF<Bits<21>>,
    // ---------------------------------------------------------- running sum, folds
    ip_acc: DFF<Bits<32>>,
    l4_acc: DFF<Bits<32>>,
    s8_valid: DFF<Bit>,
    s8_len: DFF<Bits<16>>,
    s8_ip: DFF<Bits<32>>,
    s8_l4: DFF<Bits<32>>,
    s9_valid: DFF<Bit>,
    s9_len: DFF<Bits<16>>,
    s9_ip: DFF<Bits<17>>,
    s9_l4: DFF<Bits<17>>,
    out_valid: DFF<Bit>,
    out_len: DFF<Bits<16>>,
    out_ip: DFF<Bits<16>>,
    out_l4: DFF<Bits<16>>,
    hfifo: FrameHdrFifo,
    // ---------------------------------------------------------- scratch
    ip_end: Signal<Local, Bits<16>>,
    l4_end: Signal<Local, Bits<16>>,
    ip_cur: Signal<Local, Bits<16>>,
    l4_cur: Signal<Local, Bits<16>>,
    /// All lanes (a constant), and the lanes of each range in this beat.
    ones: Signal<Local, Bits<32>>,
    ipm: Signal<Local, Bits<32>>,
    l4m: Signal<Local, Bits<32>>,
    /// The lane holding a TCP segment's last byte when it ends in mid-lane.
    l4p: Signal<Local, Bits<32>>,
    bytes: Signal<Local, Bits<32>>,
    ip_next: Signal<Local, Bits<32>>,
    l4_next: Signal<Local, Bits<32>>,
}

impl Logic for FrameSum {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, beat_idx, in_frame, err_q, h0_q, h1_q, h2_q, ip_left, l4_left, s1_valid,
            s1_first, s1_last, s1_err, s1_data, s1_keep, s1_off, s1_iplo, s1_iphi, s1_l4hi,
            s2_valid, s2_first, s2_last, s2_off, s2_bytes, s3_valid, s3_first, s3_last, s3_off,
            s3_cnt, s4_valid, s4_first, s4_last, s4_len, s5_valid, s5_first, s5_last, s5_len,
            s6_valid, s6_first, s6_last, s6_len, s7_valid, s7_first, s7_last, s7_len, s7_ip, s7_l4,
            ip_acc, l4_acc, s8_valid, s8_len, s8_ip, s8_l4, s9_valid, s9_len, s9_ip, s9_l4,
            out_valid, out_len, out_ip, out_l4
        );
        clock!(self, clock, hfifo);
        for w in 0..32 {
            self.s2_ip[w].clock.next = self.clock.val();
            self.s2_ip[w].d.next = self.s2_ip[w].q.val();
            self.s2_l4[w].clock.next = self.clock.val();
            self.s2_l4[w].d.next = self.s2_l4[w].q.val();
        }
        for i in 0..16 {
            self.s3_ip[i].clock.next = self.clock.val();
            self.s3_ip[i].d.next = self.s3_ip[i].q.val();
            self.s3_l4[i].clock.next = self.clock.val();
            self.s3_l4[i].d.next = self.s3_l4[i].q.val();
        }
        for i in 0..8 {
            self.s4_ip[i].clock.next = self.clock.val();
            self.s4_ip[i].d.next = self.s4_ip[i].q.val();
            self.s4_l4[i].clock.next = self.clock.val();
            self.s4_l4[i].d.next = self.s4_l4[i].q.val();
        }
        for i in 0..4 {
            self.s5_ip[i].clock.next = self.clock.val();
            self.s5_ip[i].d.next = self.s5_ip[i].q.val();
            self.s5_l4[i].clock.next = self.clock.val();
            self.s5_l4[i].d.next = self.s5_l4[i].q.val();
        }
        for i in 0..2 {
            self.s6_ip[i].clock.next = self.clock.val();
            self.s6_ip[i].d.next = self.s6_ip[i].q.val();
            self.s6_l4[i].clock.next = self.clock.val();
            self.s6_l4[i].d.next = self.s6_l4[i].q.val();
        }
        self.hfifo.clear.next = self.rst.val();
        // ------------------------------------------------------ T: the beat
        // Ranges in bytes from the frame's start: the IPv4 header ends at
        // 14 + 4 IHL, the TCP segment at 14 + total length.  What is left of
        // each from a beat's first byte is counted down by 64 per beat.
        self.ip_end.next = (bit_cast::<16, 512>((self.data.val() >> 112) & 0xF) << 2) + 14;
        self.l4_end.next = bit_cast::<16, 512>(
            ((self.data.val() >> 120) & 0xFF00) | ((self.data.val() >> 136) & 0xFF),
        ) + 14;
        self.ip_cur.next = self.ip_left.q.val();
        self.l4_cur.next = self.l4_left.q.val();
        if !self.in_frame.q.val() {
            self.ip_cur.next = self.ip_end.val();
            self.l4_cur.next = self.l4_end.val();
        }
        self.s1_valid.d.next = self.beat.val();
        if self.beat.val() {
            self.s1_first.d.next = !self.in_frame.q.val();
            self.s1_last.d.next = self.last.val();
            self.s1_data.d.next = self.data.val();
            self.s1_keep.d.next = self.keep.val();
            self.s1_off.d.next = bit_cast::<16, 8>(self.beat_idx.q.val()) << 6;
            self.s1_iplo.d.next = 0.into();
            if !self.in_frame.q.val() {
                self.s1_iplo.d.next = 14.into();
            }
            self.s1_iphi.d.next = bit_cast::<7, 16>(self.ip_cur.val());
            self.ip_left.d.next = 0.into();
            if self.ip_cur.val() >= 64 {
                self.s1_iphi.d.next = 64.into();
                self.ip_left.d.next = self.ip_cur.val() - 64;
            }
            self.s1_l4hi.d.next = bit_cast::<7, 16>(self.l4_cur.val());
            self.l4_left.d.next = 0.into();
            if self.l4_cur.val() >= 64 {
                self.s1_l4hi.d.next = 64.into();
                self.l4_left.d.next = self.l4_cur.val() - 64;
            }
            self.s1_err.d.next = self.user.val() || (self.err_q.q.val() && self.in_frame.q.val());
            if !self.in_frame.q.val() {
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
            self.in_frame.d.next = true;
            if self.beat_idx.q.val() != 255 {
                self.beat_idx.d.next = self.beat_idx.q.val() + 1;
            }
            if self.last.val() {
                self.beat_idx.d.next = 0.into();
                self.in_frame.d.next = false;
            }
        }
        // ------------------------------------------------------ T+1: lanes
        // Lanes lo/2 .. hi/2 of each range (none when hi <= lo); a segment
        // ending in mid-lane adds that lane's low byte (byte 2w).
        self.ones.next = 0xFFFF_FFFF_u64.into();
        self.ipm.next = (self.ones.val() << (self.s1_iplo.q.val() >> 1))
            & !(self.ones.val() << (self.s1_iphi.q.val() >> 1));
        self.l4m.next = (self.ones.val() << (self.s1_iphi.q.val() >> 1))
            & !(self.ones.val() << (self.s1_l4hi.q.val() >> 1));
        self.l4p.next = 0.into();
        if self.s1_l4hi.q.val().get_bit(0) && (self.s1_l4hi.q.val() > self.s1_iphi.q.val()) {
            self.l4p.next = bit_cast::<32, 1>(true.into()) << (self.s1_l4hi.q.val() >> 1);
        }
        self.bytes.next = 0.into();
        self.s2_valid.d.next = self.s1_valid.q.val();
        if self.s1_valid.q.val() {
            self.s2_first.d.next = self.s1_first.q.val();
            self.s2_last.d.next = self.s1_last.q.val();
            self.s2_off.d.next = self.s1_off.q.val();
            for w in 0..32 {
                self.s2_ip[w].d.next = 0.into();
                if self.ipm.val().get_bit(w) {
                    self.s2_ip[w].d.next = self.s1_data.q.val().get_bits::<16>(16 * w);
                }
                self.s2_l4[w].d.next = 0.into();
                if self.l4m.val().get_bit(w) {
                    self.s2_l4[w].d.next = self.s1_data.q.val().get_bits::<16>(16 * w);
                }
                if self.l4p.val().get_bit(w) {
                    self.s2_l4[w].d.next = self.s1_data.q.val().get_bits::<16>(16 * w) & 0xFF;
                }
            }
            // Bytes in the beat (tkeep is contiguous from byte 0): set bits
            // per byte of keep, added up in the next stage.
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(0).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(1).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(2).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(3).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(4).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(5).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(6).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(7).into()),
                ) << 0);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(8).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(9).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(10).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(11).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(12).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(13).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(14).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(15).into()),
                ) << 4);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(16).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(17).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(18).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(19).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(20).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(21).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(22).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(23).into()),
                ) << 8);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(24).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(25).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(26).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(27).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(28).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(29).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(30).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(31).into()),
                ) << 12);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(32).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(33).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(34).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(35).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(36).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(37).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(38).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(39).into()),
                ) << 16);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(40).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(41).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(42).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(43).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(44).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(45).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(46).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(47).into()),
                ) << 20);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(48).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(49).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(50).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(51).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(52).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(53).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(54).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(55).into()),
                ) << 24);
            self.bytes.next = self.bytes.val()
                | (bit_cast::<32, 4>(
                    bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(56).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(57).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(58).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(59).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(60).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(61).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(62).into())
                        + bit_cast::<4, 1>(self.s1_keep.q.val().get_bit(63).into()),
                ) << 28);
            self.s2_bytes.d.next = self.bytes.val();
        }
        // A frame's header and error flag wait in the queue for its sums.
        self.hfifo.write.next = self.s1_valid.q.val() && self.s1_last.q.val();
        self.hfifo.data_in.next = 0.into();
        if self.s1_valid.q.val() && self.s1_last.q.val() {
            self.hfifo.data_in.next = bit_cast::<1089, 512>(self.h0_q.q.val())
                | (bit_cast::<1089, 512>(self.h1_q.q.val()) << 512)
                | (bit_cast::<1089, 64>(self.h2_q.q.val()) << 1024)
                | (bit_cast::<1089, 1>(self.s1_err.q.val().into()) << 1088);
        }
        // ------------------------------------------------------ T+2 .. T+6: trees
        self.s3_valid.d.next = self.s2_valid.q.val();
        if self.s2_valid.q.val() {
            self.s3_first.d.next = self.s2_first.q.val();
            self.s3_last.d.next = self.s2_last.q.val();
            self.s3_off.d.next = self.s2_off.q.val();
            self.s3_cnt.d.next = bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(0))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(4))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(8))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(12))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(16))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(20))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(24))
                + bit_cast::<7, 4>(self.s2_bytes.q.val().get_bits::<4>(28));
            self.s3_ip[0].d.next = bit_cast::<17, 16>(self.s2_ip[0].q.val())
                + bit_cast::<17, 16>(self.s2_ip[1].q.val());
            self.s3_l4[0].d.next = bit_cast::<17, 16>(self.s2_l4[0].q.val())
                + bit_cast::<17, 16>(self.s2_l4[1].q.val());
            self.s3_ip[1].d.next = bit_cast::<17, 16>(self.s2_ip[2].q.val())
                + bit_cast::<17, 16>(self.s2_ip[3].q.val());
            self.s3_l4[1].d.next = bit_cast::<17, 16>(self.s2_l4[2].q.val())
                + bit_cast::<17, 16>(self.s2_l4[3].q.val());
            self.s3_ip[2].d.next = bit_cast::<17, 16>(self.s2_ip[4].q.val())
                + bit_cast::<17, 16>(self.s2_ip[5].q.val());
            self.s3_l4[2].d.next = bit_cast::<17, 16>(self.s2_l4[4].q.val())
                + bit_cast::<17, 16>(self.s2_l4[5].q.val());
            self.s3_ip[3].d.next = bit_cast::<17, 16>(self.s2_ip[6].q.val())
                + bit_cast::<17, 16>(self.s2_ip[7].q.val());
            self.s3_l4[3].d.next = bit_cast::<17, 16>(self.s2_l4[6].q.val())
                + bit_cast::<17, 16>(self.s2_l4[7].q.val());
            self.s3_ip[4].d.next = bit_cast::<17, 16>(self.s2_ip[8].q.val())
                + bit_cast::<17, 16>(self.s2_ip[9].q.val());
            self.s3_l4[4].d.next = bit_cast::<17, 16>(self.s2_l4[8].q.val())
                + bit_cast::<17, 16>(self.s2_l4[9].q.val());
            self.s3_ip[5].d.next = bit_cast::<17, 16>(self.s2_ip[10].q.val())
                + bit_cast::<17, 16>(self.s2_ip[11].q.val());
            self.s3_l4[5].d.next = bit_cast::<17, 16>(self.s2_l4[10].q.val())
                + bit_cast::<17, 16>(self.s2_l4[11].q.val());
            self.s3_ip[6].d.next = bit_cast::<17, 16>(self.s2_ip[12].q.val())
                + bit_cast::<17, 16>(self.s2_ip[13].q.val());
            self.s3_l4[6].d.next = bit_cast::<17, 16>(self.s2_l4[12].q.val())
                + bit_cast::<17, 16>(self.s2_l4[13].q.val());
            self.s3_ip[7].d.next = bit_cast::<17, 16>(self.s2_ip[14].q.val())
                + bit_cast::<17, 16>(self.s2_ip[15].q.val());
            self.s3_l4[7].d.next = bit_cast::<17, 16>(self.s2_l4[14].q.val())
                + bit_cast::<17, 16>(self.s2_l4[15].q.val());
            self.s3_ip[8].d.next = bit_cast::<17, 16>(self.s2_ip[16].q.val())
                + bit_cast::<17, 16>(self.s2_ip[17].q.val());
            self.s3_l4[8].d.next = bit_cast::<17, 16>(self.s2_l4[16].q.val())
                + bit_cast::<17, 16>(self.s2_l4[17].q.val());
            self.s3_ip[9].d.next = bit_cast::<17, 16>(self.s2_ip[18].q.val())
                + bit_cast::<17, 16>(self.s2_ip[19].q.val());
            self.s3_l4[9].d.next = bit_cast::<17, 16>(self.s2_l4[18].q.val())
                + bit_cast::<17, 16>(self.s2_l4[19].q.val());
            self.s3_ip[10].d.next = bit_cast::<17, 16>(self.s2_ip[20].q.val())
                + bit_cast::<17, 16>(self.s2_ip[21].q.val());
            self.s3_l4[10].d.next = bit_cast::<17, 16>(self.s2_l4[20].q.val())
                + bit_cast::<17, 16>(self.s2_l4[21].q.val());
            self.s3_ip[11].d.next = bit_cast::<17, 16>(self.s2_ip[22].q.val())
                + bit_cast::<17, 16>(self.s2_ip[23].q.val());
            self.s3_l4[11].d.next = bit_cast::<17, 16>(self.s2_l4[22].q.val())
                + bit_cast::<17, 16>(self.s2_l4[23].q.val());
            self.s3_ip[12].d.next = bit_cast::<17, 16>(self.s2_ip[24].q.val())
                + bit_cast::<17, 16>(self.s2_ip[25].q.val());
            self.s3_l4[12].d.next = bit_cast::<17, 16>(self.s2_l4[24].q.val())
                + bit_cast::<17, 16>(self.s2_l4[25].q.val());
            self.s3_ip[13].d.next = bit_cast::<17, 16>(self.s2_ip[26].q.val())
                + bit_cast::<17, 16>(self.s2_ip[27].q.val());
            self.s3_l4[13].d.next = bit_cast::<17, 16>(self.s2_l4[26].q.val())
                + bit_cast::<17, 16>(self.s2_l4[27].q.val());
            self.s3_ip[14].d.next = bit_cast::<17, 16>(self.s2_ip[28].q.val())
                + bit_cast::<17, 16>(self.s2_ip[29].q.val());
            self.s3_l4[14].d.next = bit_cast::<17, 16>(self.s2_l4[28].q.val())
                + bit_cast::<17, 16>(self.s2_l4[29].q.val());
            self.s3_ip[15].d.next = bit_cast::<17, 16>(self.s2_ip[30].q.val())
                + bit_cast::<17, 16>(self.s2_ip[31].q.val());
            self.s3_l4[15].d.next = bit_cast::<17, 16>(self.s2_l4[30].q.val())
                + bit_cast::<17, 16>(self.s2_l4[31].q.val());
        }
        self.s4_valid.d.next = self.s3_valid.q.val();
        if self.s3_valid.q.val() {
            self.s4_first.d.next = self.s3_first.q.val();
            self.s4_last.d.next = self.s3_last.q.val();
            self.s4_len.d.next = self.s3_off.q.val() + bit_cast::<16, 7>(self.s3_cnt.q.val());
            self.s4_ip[0].d.next = bit_cast::<18, 17>(self.s3_ip[0].q.val())
                + bit_cast::<18, 17>(self.s3_ip[1].q.val());
            self.s4_l4[0].d.next = bit_cast::<18, 17>(self.s3_l4[0].q.val())
                + bit_cast::<18, 17>(self.s3_l4[1].q.val());
            self.s4_ip[1].d.next = bit_cast::<18, 17>(self.s3_ip[2].q.val())
                + bit_cast::<18, 17>(self.s3_ip[3].q.val());
            self.s4_l4[1].d.next = bit_cast::<18, 17>(self.s3_l4[2].q.val())
                + bit_cast::<18, 17>(self.s3_l4[3].q.val());
            self.s4_ip[2].d.next = bit_cast::<18, 17>(self.s3_ip[4].q.val())
                + bit_cast::<18, 17>(self.s3_ip[5].q.val());
            self.s4_l4[2].d.next = bit_cast::<18, 17>(self.s3_l4[4].q.val())
                + bit_cast::<18, 17>(self.s3_l4[5].q.val());
            self.s4_ip[3].d.next = bit_cast::<18, 17>(self.s3_ip[6].q.val())
                + bit_cast::<18, 17>(self.s3_ip[7].q.val());
            self.s4_l4[3].d.next = bit_cast::<18, 17>(self.s3_l4[6].q.val())
                + bit_cast::<18, 17>(self.s3_l4[7].q.val());
            self.s4_ip[4].d.next = bit_cast::<18, 17>(self.s3_ip[8].q.val())
                + bit_cast::<18, 17>(self.s3_ip[9].q.val());
            self.s4_l4[4].d.next = bit_cast::<18, 17>(self.s3_l4[8].q.val())
                + bit_cast::<18, 17>(self.s3_l4[9].q.val());
            self.s4_ip[5].d.next = bit_cast::<18, 17>(self.s3_ip[10].q.val())
                + bit_cast::<18, 17>(self.s3_ip[11].q.val());
            self.s4_l4[5].d.next = bit_cast::<18, 17>(self.s3_l4[10].q.val())
                + bit_cast::<18, 17>(self.s3_l4[11].q.val());
            self.s4_ip[6].d.next = bit_cast::<18, 17>(self.s3_ip[12].q.val())
                + bit_cast::<18, 17>(self.s3_ip[13].q.val());
            self.s4_l4[6].d.next = bit_cast::<18, 17>(self.s3_l4[12].q.val())
                + bit_cast::<18, 17>(self.s3_l4[13].q.val());
            self.s4_ip[7].d.next = bit_cast::<18, 17>(self.s3_ip[14].q.val())
                + bit_cast::<18, 17>(self.s3_ip[15].q.val());
            self.s4_l4[7].d.next = bit_cast::<18, 17>(self.s3_l4[14].q.val())
                + bit_cast::<18, 17>(self.s3_l4[15].q.val());
        }
        self.s5_valid.d.next = self.s4_valid.q.val();
        if self.s4_valid.q.val() {
            self.s5_first.d.next = self.s4_first.q.val();
            self.s5_last.d.next = self.s4_last.q.val();
            self.s5_len.d.next = self.s4_len.q.val();
            self.s5_ip[0].d.next = bit_cast::<19, 18>(self.s4_ip[0].q.val())
                + bit_cast::<19, 18>(self.s4_ip[1].q.val());
            self.s5_l4[0].d.next = bit_cast::<19, 18>(self.s4_l4[0].q.val())
                + bit_cast::<19, 18>(self.s4_l4[1].q.val());
            self.s5_ip[1].d.next = bit_cast::<19, 18>(self.s4_ip[2].q.val())
                + bit_cast::<19, 18>(self.s4_ip[3].q.val());
            self.s5_l4[1].d.next = bit_cast::<19, 18>(self.s4_l4[2].q.val())
                + bit_cast::<19, 18>(self.s4_l4[3].q.val());
            self.s5_ip[2].d.next = bit_cast::<19, 18>(self.s4_ip[4].q.val())
                + bit_cast::<19, 18>(self.s4_ip[5].q.val());
            self.s5_l4[2].d.next = bit_cast::<19, 18>(self.s4_l4[4].q.val())
                + bit_cast::<19, 18>(self.s4_l4[5].q.val());
            self.s5_ip[3].d.next = bit_cast::<19, 18>(self.s4_ip[6].q.val())
                + bit_cast::<19, 18>(self.s4_ip[7].q.val());
            self.s5_l4[3].d.next = bit_cast::<19, 18>(self.s4_l4[6].q.val())
                + bit_cast::<19, 18>(self.s4_l4[7].q.val());
        }
        self.s6_valid.d.next = self.s5_valid.q.val();
        if self.s5_valid.q.val() {
            self.s6_first.d.next = self.s5_first.q.val();
            self.s6_last.d.next = self.s5_last.q.val();
            self.s6_len.d.next = self.s5_len.q.val();
            self.s6_ip[0].d.next = bit_cast::<20, 19>(self.s5_ip[0].q.val())
                + bit_cast::<20, 19>(self.s5_ip[1].q.val());
            self.s6_l4[0].d.next = bit_cast::<20, 19>(self.s5_l4[0].q.val())
                + bit_cast::<20, 19>(self.s5_l4[1].q.val());
            self.s6_ip[1].d.next = bit_cast::<20, 19>(self.s5_ip[2].q.val())
                + bit_cast::<20, 19>(self.s5_ip[3].q.val());
            self.s6_l4[1].d.next = bit_cast::<20, 19>(self.s5_l4[2].q.val())
                + bit_cast::<20, 19>(self.s5_l4[3].q.val());
        }
        self.s7_valid.d.next = self.s6_valid.q.val();
        if self.s6_valid.q.val() {
            self.s7_first.d.next = self.s6_first.q.val();
            self.s7_last.d.next = self.s6_last.q.val();
            self.s7_len.d.next = self.s6_len.q.val();
            self.s7_ip.d.next = bit_cast::<21, 20>(self.s6_ip[0].q.val())
                + bit_cast::<21, 20>(self.s6_ip[1].q.val());
            self.s7_l4.d.next = bit_cast::<21, 20>(self.s6_l4[0].q.val())
                + bit_cast::<21, 20>(self.s6_l4[1].q.val());
        }
        // ------------------------------------------------------ T+7: running sum
        self.ip_next.next = self.ip_acc.q.val() + bit_cast::<32, 21>(self.s7_ip.q.val());
        self.l4_next.next = self.l4_acc.q.val() + bit_cast::<32, 21>(self.s7_l4.q.val());
        if self.s7_first.q.val() {
            self.ip_next.next = bit_cast::<32, 21>(self.s7_ip.q.val());
            self.l4_next.next = bit_cast::<32, 21>(self.s7_l4.q.val());
        }
        self.s8_valid.d.next = self.s7_valid.q.val() && self.s7_last.q.val();
        if self.s7_valid.q.val() {
            self.ip_acc.d.next = self.ip_next.val();
            self.l4_acc.d.next = self.l4_next.val();
            if self.s7_last.q.val() {
                self.s8_ip.d.next = self.ip_next.val();
                self.s8_l4.d.next = self.l4_next.val();
                self.s8_len.d.next = self.s7_len.q.val();
            }
        }
        // ------------------------------------------------------ T+8, T+9: folds
        self.s9_valid.d.next = self.s8_valid.q.val();
        if self.s8_valid.q.val() {
            self.s9_len.d.next = self.s8_len.q.val();
            self.s9_ip.d.next = bit_cast::<17, 32>(self.s8_ip.q.val() & 0xFFFF)
                + bit_cast::<17, 32>(self.s8_ip.q.val() >> 16);
            self.s9_l4.d.next = bit_cast::<17, 32>(self.s8_l4.q.val() & 0xFFFF)
                + bit_cast::<17, 32>(self.s8_l4.q.val() >> 16);
        }
        self.out_valid.d.next = self.s9_valid.q.val();
        if self.s9_valid.q.val() {
            self.out_len.d.next = self.s9_len.q.val();
            self.out_ip.d.next = bit_cast::<16, 17>(self.s9_ip.q.val())
                + bit_cast::<16, 17>(self.s9_ip.q.val() >> 16);
            self.out_l4.d.next = bit_cast::<16, 17>(self.s9_l4.q.val())
                + bit_cast::<16, 17>(self.s9_l4.q.val() >> 16);
        }
        // ------------------------------------------------------ the record
        self.rec_valid.next = self.out_valid.q.val();
        self.hfifo.read.next = self.out_valid.q.val();
        self.len.next = self.out_len.q.val();
        self.ip_sum.next = self.out_ip.q.val();
        self.l4_sum.next = self.out_l4.q.val();
        self.h0.next = bit_cast::<512, 1089>(self.hfifo.data_out.val());
        self.h1.next = bit_cast::<512, 1089>(self.hfifo.data_out.val() >> 512);
        self.h2.next = bit_cast::<64, 1089>(self.hfifo.data_out.val() >> 1024);
        self.err.next = self.hfifo.data_out.val().get_bit(1088);
        if self.rst.val() {
            self.beat_idx.d.next = 0.into();
            self.in_frame.d.next = false;
            self.err_q.d.next = false;
            self.ip_left.d.next = 0.into();
            self.l4_left.d.next = 0.into();
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.s3_valid.d.next = false;
            self.s4_valid.d.next = false;
            self.s5_valid.d.next = false;
            self.s6_valid.d.next = false;
            self.s7_valid.d.next = false;
            self.s8_valid.d.next = false;
            self.s9_valid.d.next = false;
            self.out_valid.d.next = false;
        }
    }
}
