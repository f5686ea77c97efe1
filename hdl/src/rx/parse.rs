//! RX parse stage: turns a frame record from `FrameSum` into the partial
//! completion record, a drop reason, the TCP options window and the RSS
//! input tuple.  One record per cycle, fixed latency [`RX_PARSE_LATENCY`].
//!
//! Drop reasons are the contract's counter numbers (`regs::Counter`), so the
//! DMA engine counts a drop by its reason; 0 delivers;
//! [`REASON_COUNTED_ELSEWHERE`] drops a frame without a drop counter: one
//! whose bad checksum is counted by its flags, or a segment an offload
//! consumed and counts itself (`rx::event`).
//!
//! ## Pipeline (T: the cycle `in_valid` is high)
//!
//! Three registered stages, each a few LUT levels deep (checked with
//! `cargo run -p toe-hdl --example gen_block -- rx_parse > p.v` and
//! `cargo xtask depth --verilog p.v --module top`, docs/timing.md):
//!
//! | stage | logic | registered |
//! |---|---|---|
//! | T | Ethernet/IPv4 header fields, one compare or adder each (version, IHL, total length against IHL and the frame length, fragment, protocol, frame length against the limits); the TCP header picked by the IHL nibble (a 16-way multiplexer, no shift); the pseudo-header sum without the length (one adder tree) | `s1_*` |
//! | T+1 | IPv4/TCP well-formedness (data offset against the segment length); the pseudo-header length added and folded once; ports, sequence and acknowledgment numbers in host order | `s2_*` |
//! | T+2 | TCP checksum verdict (the folded sum is 0xFFFF); completion flags, drop reason by priority, partial completion, option window | `r_*` (the outputs) |
//!
//! One fold suffices: the folded sum is at most 0xFFFF + 0xF, and the
//! two-fold ones-complement result is 0xFFFF exactly when it is 0xFFFF.
use rust_hdl::prelude::*;
use toe_contract::desc as d;
use toe_contract::regs::Counter;

/// Drop reason of a frame not delivered and counted elsewhere (not a
/// counter number: no RX drop counter counts it).
pub const REASON_COUNTED_ELSEWHERE: u64 = 15;
/// Cycles from a frame record in to its parsed record out.
pub const RX_PARSE_LATENCY: usize = 3;

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

#[derive(LogicBlock)]
pub struct RxParse {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub max_frame: Signal<In, Bits<16>>,
    pub drop_bad_csum: Signal<In, Bit>,
    // Frame record in
    pub in_valid: Signal<In, Bit>,
    pub h0: Signal<In, Bits<512>>,
    pub h1: Signal<In, Bits<512>>,
    pub h2: Signal<In, Bits<64>>,
    pub len: Signal<In, Bits<16>>,
    pub err: Signal<In, Bit>,
    pub ip_sum: Signal<In, Bits<16>>,
    pub l4_sum: Signal<In, Bits<16>>,
    // Out
    pub out_valid: Signal<Out, Bit>,
    pub out_cpl: Signal<Out, Bits<256>>,
    pub out_reason: Signal<Out, Bits<4>>,
    pub out_opts: Signal<Out, Bits<320>>,
    pub out_olen: Signal<Out, Bits<9>>,
    /// src ip, dst ip, src port, dst port in network order, bit 95 first.
    pub out_tuple: Signal<Out, Bits<96>>,
    /// 0: no hash, 1: IPv4 2-tuple, 2: IPv4/TCP 4-tuple.
    pub out_hkind: Signal<Out, Bits<2>>,
    /// A good TCP segment: IPv4 and TCP well formed, both checksums
    /// verified, no drop reason (`out_hkind` 2, `out_reason` 0, flags IP
    /// and TCP checksum OK), from its own register so that the RX event
    /// bus's `e_valid` is one gate after the parser.
    pub out_good: Signal<Out, Bit>,
    /// TCP sequence and acknowledgment numbers (valid with `out_hkind` 2).
    pub out_seq: Signal<Out, Bits<32>>,
    pub out_ackn: Signal<Out, Bits<32>>,
    /// Destination MAC (95:48) and source MAC (47:0), first byte most significant.
    pub out_macs: Signal<Out, Bits<96>>,
    // ------------------------------------------------ stage 1 (T)
    s1_valid: DFF<Bit>,
    s1_len: DFF<Bits<16>>,
    s1_err: DFF<Bit>,
    s1_runt: DFF<Bit>,
    s1_oversize: DFF<Bit>,
    s1_is_ip: DFF<Bit>,
    /// Version is not 4, IHL below 5, total length below the header or
    /// beyond the frame.
    s1_ip_hdr_bad: DFF<Bit>,
    s1_ip_csum_ok: DFF<Bit>,
    s1_frag: DFF<Bit>,
    s1_proto_tcp: DFF<Bit>,
    /// IHL (header length in 32-bit words).
    s1_ihl: DFF<Bits<4>>,
    /// IP payload length: total length - 4 IHL.
    s1_plen: DFF<Bits<16>>,
    /// The 60 bytes from the L4 offset (14 + 4 IHL).
    s1_tcp: DFF<Bits<480>>,
    /// TCP sum plus the pseudo header's addresses and protocol, unfolded.
    s1_psum: DFF<Bits<20>>,
    /// Source and destination address (network order, bit 63 first).
    s1_addrs: DFF<Bits<64>>,
    s1_macs: DFF<Bits<96>>,
    // ------------------------------------------------ stage 2 (T+1)
    s2_valid: DFF<Bit>,
    s2_len: DFF<Bits<16>>,
    s2_err: DFF<Bit>,
    s2_runt: DFF<Bit>,
    s2_oversize: DFF<Bit>,
    s2_is_ip: DFF<Bit>,
    s2_ip_hdr_bad: DFF<Bit>,
    s2_ip_csum_ok: DFF<Bit>,
    s2_frag: DFF<Bit>,
    s2_is_tcp: DFF<Bit>,
    /// Segment shorter than 20 bytes, data offset below 5 or beyond it.
    s2_l4_bad: DFF<Bit>,
    /// The TCP checksum with its pseudo header, folded once.
    s2_csum_fold: DFF<Bits<17>>,
    s2_l4off: DFF<Bits<8>>,
    /// Option bytes (4 data offset - 20).
    s2_olen: DFF<Bits<9>>,
    s2_opts: DFF<Bits<320>>,
    s2_tcp_flags: DFF<Bits<8>>,
    /// Window in lane form (as the completion carries it).
    s2_window: DFF<Bits<16>>,
    s2_tuple: DFF<Bits<96>>,
    s2_seq: DFF<Bits<32>>,
    s2_ackn: DFF<Bits<32>>,
    s2_macs: DFF<Bits<96>>,
    // ------------------------------------------------ stage 3 (T+2): outputs
    r_valid: DFF<Bit>,
    r_seq: DFF<Bits<32>>,
    r_ackn: DFF<Bits<32>>,
    r_macs: DFF<Bits<96>>,
    r_cpl: DFF<Bits<256>>,
    r_reason: DFF<Bits<4>>,
    r_opts: DFF<Bits<320>>,
    r_olen: DFF<Bits<9>>,
    r_tuple: DFF<Bits<96>>,
    r_hkind: DFF<Bits<2>>,
    r_good: DFF<Bit>,
    // ------------------------------------------------ scratch
    hdr: Signal<Local, Bits<1088>>,
    ihl4: Signal<Local, Bits<16>>,
    /// IHL decoded one-hot.
    ihl_hot: Signal<Local, Bits<16>>,
    tl: Signal<Local, Bits<16>>,
    doff4: Signal<Local, Bits<16>>,
    csum_sum: Signal<Local, Bits<20>>,
    is_tcp: Signal<Local, Bit>,
    l4_bad: Signal<Local, Bit>,
    ip_bad: Signal<Local, Bit>,
    tcp_csum_ok: Signal<Local, Bit>,
    flags: Signal<Local, Bits<16>>,
    reason: Signal<Local, Bits<4>>,
    c_et_ip: Constant<Bits<16>>,
    c_cpl_len: Constant<Bits<16>>,
    c_cpl_flags: Constant<Bits<16>>,
    c_cpl_l3: Constant<Bits<16>>,
    c_cpl_l4: Constant<Bits<16>>,
    c_cpl_tcpflags: Constant<Bits<16>>,
    c_cpl_window: Constant<Bits<16>>,
    f_ipv4: Constant<Bits<16>>,
    f_tcp: Constant<Bits<16>>,
    f_ipok: Constant<Bits<16>>,
    f_ipbad: Constant<Bits<16>>,
    f_tcpok: Constant<Bits<16>>,
    f_tcpbad: Constant<Bits<16>>,
    f_frag: Constant<Bits<16>>,
    r_mac: Constant<Bits<4>>,
    r_runt: Constant<Bits<4>>,
    r_over: Constant<Bits<4>>,
    r_l3: Constant<Bits<4>>,
    r_l4: Constant<Bits<4>>,
    r_elsewhere: Constant<Bits<4>>,
    c_min_frame: Constant<Bits<16>>,
    c_one16: Constant<Bits<16>>,
}

impl Default for RxParse {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            max_frame: Default::default(),
            drop_bad_csum: Default::default(),
            in_valid: Default::default(),
            h0: Default::default(),
            h1: Default::default(),
            h2: Default::default(),
            len: Default::default(),
            err: Default::default(),
            ip_sum: Default::default(),
            l4_sum: Default::default(),
            out_valid: Default::default(),
            out_cpl: Default::default(),
            out_reason: Default::default(),
            out_opts: Default::default(),
            out_olen: Default::default(),
            out_tuple: Default::default(),
            out_hkind: Default::default(),
            out_good: Default::default(),
            out_seq: Default::default(),
            out_ackn: Default::default(),
            out_macs: Default::default(),
            s1_valid: Default::default(),
            s1_len: Default::default(),
            s1_err: Default::default(),
            s1_runt: Default::default(),
            s1_oversize: Default::default(),
            s1_is_ip: Default::default(),
            s1_ip_hdr_bad: Default::default(),
            s1_ip_csum_ok: Default::default(),
            s1_frag: Default::default(),
            s1_proto_tcp: Default::default(),
            s1_ihl: Default::default(),
            s1_plen: Default::default(),
            s1_tcp: Default::default(),
            s1_psum: Default::default(),
            s1_addrs: Default::default(),
            s1_macs: Default::default(),
            s2_valid: Default::default(),
            s2_len: Default::default(),
            s2_err: Default::default(),
            s2_runt: Default::default(),
            s2_oversize: Default::default(),
            s2_is_ip: Default::default(),
            s2_ip_hdr_bad: Default::default(),
            s2_ip_csum_ok: Default::default(),
            s2_frag: Default::default(),
            s2_is_tcp: Default::default(),
            s2_l4_bad: Default::default(),
            s2_csum_fold: Default::default(),
            s2_l4off: Default::default(),
            s2_olen: Default::default(),
            s2_opts: Default::default(),
            s2_tcp_flags: Default::default(),
            s2_window: Default::default(),
            s2_tuple: Default::default(),
            s2_seq: Default::default(),
            s2_ackn: Default::default(),
            s2_macs: Default::default(),
            r_valid: Default::default(),
            r_seq: Default::default(),
            r_ackn: Default::default(),
            r_macs: Default::default(),
            r_cpl: Default::default(),
            r_reason: Default::default(),
            r_opts: Default::default(),
            r_olen: Default::default(),
            r_tuple: Default::default(),
            r_hkind: Default::default(),
            r_good: Default::default(),
            hdr: Default::default(),
            ihl4: Default::default(),
            ihl_hot: Default::default(),
            tl: Default::default(),
            doff4: Default::default(),
            csum_sum: Default::default(),
            is_tcp: Default::default(),
            l4_bad: Default::default(),
            ip_bad: Default::default(),
            tcp_csum_ok: Default::default(),
            flags: Default::default(),
            reason: Default::default(),
            // Ethertype 0x0800 as lane 6 (bytes 12, 13 = 0x08, 0x00).
            c_et_ip: k(0x0008),
            c_cpl_len: k(d::CPL_LEN_BIT as u64),
            c_cpl_flags: k(d::CPL_FLAGS_BIT as u64),
            c_cpl_l3: k(d::CPL_L3OFF_BIT as u64),
            c_cpl_l4: k(d::CPL_L4OFF_BIT as u64),
            c_cpl_tcpflags: k(d::CPL_TCPFLAGS_BIT as u64),
            c_cpl_window: k(d::CPL_WINDOW_BIT as u64),
            f_ipv4: k(d::CPL_IPV4 as u64),
            f_tcp: k(d::CPL_TCP as u64),
            f_ipok: k(d::CPL_IP_CSUM_OK as u64),
            f_ipbad: k(d::CPL_IP_CSUM_BAD as u64),
            f_tcpok: k(d::CPL_TCP_CSUM_OK as u64),
            f_tcpbad: k(d::CPL_TCP_CSUM_BAD as u64),
            f_frag: k(d::CPL_FRAGMENT as u64),
            r_mac: k(Counter::RxDropMacError as u64),
            r_runt: k(Counter::RxDropRunt as u64),
            r_over: k(Counter::RxDropOversize as u64),
            r_l3: k(Counter::RxDropMalformedL3 as u64),
            r_l4: k(Counter::RxDropMalformedL4 as u64),
            r_elsewhere: k(REASON_COUNTED_ELSEWHERE),
            c_min_frame: k(toe_contract::MIN_FRAME as u64),
            c_one16: k(1),
        }
    }
}

impl Logic for RxParse {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            s1_valid,
            s1_len,
            s1_err,
            s1_runt,
            s1_oversize,
            s1_is_ip,
            s1_ip_hdr_bad,
            s1_ip_csum_ok,
            s1_frag,
            s1_proto_tcp,
            s1_ihl,
            s1_plen,
            s1_tcp,
            s1_psum,
            s1_addrs,
            s1_macs,
            s2_valid,
            s2_len,
            s2_err,
            s2_runt,
            s2_oversize,
            s2_is_ip,
            s2_ip_hdr_bad,
            s2_ip_csum_ok,
            s2_frag,
            s2_is_tcp,
            s2_l4_bad,
            s2_csum_fold,
            s2_l4off,
            s2_olen,
            s2_opts,
            s2_tcp_flags,
            s2_window,
            s2_tuple,
            s2_seq,
            s2_ackn,
            s2_macs,
            r_valid,
            r_cpl,
            r_reason,
            r_opts,
            r_olen,
            r_tuple,
            r_hkind,
            r_good,
            r_seq,
            r_ackn,
            r_macs
        );
        // Each stage computes only for a frame: between frames its registers
        // hold (clock enable), which saves simulation time.
        self.hdr.next = 0.into();
        self.ihl4.next = 0.into();
        self.ihl_hot.next = 0.into();
        self.tl.next = 0.into();
        self.doff4.next = 0.into();
        self.csum_sum.next = 0.into();
        self.is_tcp.next = false;
        self.l4_bad.next = false;
        self.ip_bad.next = false;
        self.tcp_csum_ok.next = false;
        self.flags.next = 0.into();
        self.reason.next = 0.into();

        // ---------------------------------------------- stage 1 (T)
        self.s1_valid.d.next = self.in_valid.val();
        if self.in_valid.val() {
            self.hdr.next = bit_cast::<1088, 512>(self.h0.val())
                | (bit_cast::<1088, 512>(self.h1.val()) << 512)
                | (bit_cast::<1088, 64>(self.h2.val()) << 1024);
            self.s1_len.d.next = self.len.val();
            self.s1_err.d.next = self.err.val();
            self.s1_runt.d.next = self.len.val() < self.c_min_frame.val();
            self.s1_oversize.d.next = self.len.val() > self.max_frame.val();
            self.s1_is_ip.d.next = self.h0.val().get_bits::<16>(96) == self.c_et_ip.val();
            self.s1_ihl.d.next = self.h0.val().get_bits::<4>(112);
            self.ihl4.next = bit_cast::<16, 4>(self.h0.val().get_bits::<4>(112)) << 2;
            self.tl.next = (bit_cast::<16, 8>(self.h0.val().get_bits::<8>(128)) << 8)
                | bit_cast::<16, 8>(self.h0.val().get_bits::<8>(136));
            self.s1_ip_hdr_bad.d.next = (self.h0.val().get_bits::<4>(116) != 4)
                || (self.h0.val().get_bits::<4>(112) < 5)
                || (self.tl.val() < self.ihl4.val())
                || (self.tl.val() + 14 > self.len.val());
            self.s1_ip_csum_ok.d.next = self.ip_sum.val() == 0xFFFF;
            // MF flag (byte 20 bit 5) or a fragment offset.
            self.s1_frag.d.next = self.h0.val().get_bit(165)
                || (self.h0.val().get_bits::<5>(160) != 0)
                || (self.h0.val().get_bits::<8>(168) != 0);
            self.s1_proto_tcp.d.next = self.h0.val().get_bits::<8>(184) == 6;
            self.s1_plen.d.next = self.tl.val() - self.ihl4.val();
            // The L4 header at byte 14 + 4 IHL, one of 16 places.
            self.ihl_hot.next = self.c_one16.val() << self.h0.val().get_bits::<4>(112);
            for ihl in 0..16_usize {
                if self.ihl_hot.val().get_bit(ihl) {
                    self.s1_tcp.d.next = self.hdr.val().get_bits::<480>(112 + 32 * ihl);
                }
            }
            // Pseudo header in lane form: addresses are lanes 13..16, the
            // protocol word 00 06 is lane 0x0600 (the length follows at T+1).
            self.s1_psum.d.next = bit_cast::<20, 16>(self.l4_sum.val())
                + bit_cast::<20, 16>(self.h0.val().get_bits::<16>(208))
                + bit_cast::<20, 16>(self.h0.val().get_bits::<16>(224))
                + bit_cast::<20, 16>(self.h0.val().get_bits::<16>(240))
                + bit_cast::<20, 16>(self.h0.val().get_bits::<16>(256))
                + 0x0600;
            self.s1_addrs.d.next = (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(208)) << 56)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(216)) << 48)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(224)) << 40)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(232)) << 32)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(240)) << 24)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(248)) << 16)
                | (bit_cast::<64, 8>(self.h0.val().get_bits::<8>(256)) << 8)
                | bit_cast::<64, 8>(self.h0.val().get_bits::<8>(264));
            self.s1_macs.d.next = (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(0)) << 88)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(8)) << 80)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(16)) << 72)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(24)) << 64)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(32)) << 56)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(40)) << 48)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(48)) << 40)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(56)) << 32)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(64)) << 24)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(72)) << 16)
                | (bit_cast::<96, 8>(self.h0.val().get_bits::<8>(80)) << 8)
                | bit_cast::<96, 8>(self.h0.val().get_bits::<8>(88));
        }

        // ---------------------------------------------- stage 2 (T+1)
        self.s2_valid.d.next = self.s1_valid.q.val();
        if self.s1_valid.q.val() {
            self.s2_len.d.next = self.s1_len.q.val();
            self.s2_err.d.next = self.s1_err.q.val();
            self.s2_runt.d.next = self.s1_runt.q.val();
            self.s2_oversize.d.next = self.s1_oversize.q.val();
            self.s2_is_ip.d.next = self.s1_is_ip.q.val();
            self.s2_ip_hdr_bad.d.next = self.s1_ip_hdr_bad.q.val();
            self.s2_ip_csum_ok.d.next = self.s1_ip_csum_ok.q.val();
            self.s2_frag.d.next = self.s1_frag.q.val();
            self.s2_is_tcp.d.next =
                self.s1_is_ip.q.val() && self.s1_proto_tcp.q.val() && !self.s1_frag.q.val();
            self.doff4.next = bit_cast::<16, 4>(self.s1_tcp.q.val().get_bits::<4>(100)) << 2;
            self.s2_l4_bad.d.next = (self.s1_plen.q.val() < 20)
                || (self.s1_tcp.q.val().get_bits::<4>(100) < 5)
                || (self.doff4.val() > self.s1_plen.q.val());
            // The pseudo header's length (byte swapped into lane form), then
            // one end-around fold.
            self.csum_sum.next = self.s1_psum.q.val()
                + (bit_cast::<20, 8>(self.s1_plen.q.val().get_bits::<8>(0)) << 8)
                + bit_cast::<20, 8>(self.s1_plen.q.val().get_bits::<8>(8));
            self.s2_csum_fold.d.next = bit_cast::<17, 16>(self.csum_sum.val().get_bits::<16>(0))
                + bit_cast::<17, 4>(self.csum_sum.val().get_bits::<4>(16));
            self.s2_l4off.d.next = (bit_cast::<8, 4>(self.s1_ihl.q.val()) << 2) + 14;
            self.s2_olen.d.next = bit_cast::<9, 16>(self.doff4.val() - 20);
            self.s2_opts.d.next = self.s1_tcp.q.val().get_bits::<320>(160);
            self.s2_tcp_flags.d.next = self.s1_tcp.q.val().get_bits::<8>(104);
            self.s2_window.d.next = (bit_cast::<16, 8>(self.s1_tcp.q.val().get_bits::<8>(112))
                << 8)
                | bit_cast::<16, 8>(self.s1_tcp.q.val().get_bits::<8>(120));
            self.s2_tuple.d.next = (bit_cast::<96, 64>(self.s1_addrs.q.val()) << 32)
                | (bit_cast::<96, 8>(self.s1_tcp.q.val().get_bits::<8>(0)) << 24)
                | (bit_cast::<96, 8>(self.s1_tcp.q.val().get_bits::<8>(8)) << 16)
                | (bit_cast::<96, 8>(self.s1_tcp.q.val().get_bits::<8>(16)) << 8)
                | bit_cast::<96, 8>(self.s1_tcp.q.val().get_bits::<8>(24));
            self.s2_seq.d.next = (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(32)) << 24)
                | (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(40)) << 16)
                | (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(48)) << 8)
                | bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(56));
            self.s2_ackn.d.next = (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(64)) << 24)
                | (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(72)) << 16)
                | (bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(80)) << 8)
                | bit_cast::<32, 8>(self.s1_tcp.q.val().get_bits::<8>(88));
            self.s2_macs.d.next = self.s1_macs.q.val();
        }

        // ---------------------------------------------- stage 3 (T+2)
        self.r_valid.d.next = self.s2_valid.q.val();
        self.r_good.d.next = false;
        if self.s2_valid.q.val() {
            self.tcp_csum_ok.next = self.s2_csum_fold.q.val() == 0xFFFF;
            self.is_tcp.next = self.s2_is_tcp.q.val();
            self.l4_bad.next = self.s2_l4_bad.q.val();
            self.ip_bad.next = self.s2_ip_hdr_bad.q.val();
            // Flags and drop reason, in the order docs/semantics.md gives.
            if self.s2_is_ip.q.val() {
                self.flags.next = self.f_ipv4.val();
                if self.s2_ip_csum_ok.q.val() {
                    self.flags.next = self.flags.val() | self.f_ipok.val();
                } else {
                    self.flags.next = self.flags.val() | self.f_ipbad.val();
                }
                if self.s2_frag.q.val() {
                    self.flags.next = self.flags.val() | self.f_frag.val();
                }
                if self.is_tcp.val() {
                    self.flags.next = self.flags.val() | self.f_tcp.val();
                    if self.tcp_csum_ok.val() {
                        self.flags.next = self.flags.val() | self.f_tcpok.val();
                    } else {
                        self.flags.next = self.flags.val() | self.f_tcpbad.val();
                    }
                }
            }
            if self.drop_bad_csum.val()
                && self.s2_is_ip.q.val()
                && (!self.s2_ip_csum_ok.q.val() || (self.is_tcp.val() && !self.tcp_csum_ok.val()))
            {
                self.reason.next = self.r_elsewhere.val();
            }
            if self.is_tcp.val() && self.l4_bad.val() {
                self.reason.next = self.r_l4.val();
            }
            if self.s2_is_ip.q.val() && self.ip_bad.val() {
                self.reason.next = self.r_l3.val();
                self.flags.next = 0.into();
            }
            if self.s2_oversize.q.val() {
                self.reason.next = self.r_over.val();
            }
            if self.s2_runt.q.val() {
                self.reason.next = self.r_runt.val();
            }
            if self.s2_err.q.val() {
                self.reason.next = self.r_mac.val();
            }
            self.r_reason.d.next = self.reason.val();
            self.r_cpl.d.next = (bit_cast::<256, 16>(self.s2_len.q.val()) << self.c_cpl_len.val())
                | (bit_cast::<256, 16>(self.flags.val()) << self.c_cpl_flags.val());
            self.r_opts.d.next = 0.into();
            self.r_olen.d.next = 0.into();
            self.r_hkind.d.next = 0.into();
            self.r_tuple.d.next = self.s2_tuple.q.val();
            if self.s2_is_ip.q.val() && !self.ip_bad.val() {
                self.r_cpl.d.next =
                    self.r_cpl.d.val() | (bit_cast::<256, 8>(14.into()) << self.c_cpl_l3.val());
                self.r_hkind.d.next = 1.into();
                if self.is_tcp.val() && !self.l4_bad.val() {
                    self.r_hkind.d.next = 2.into();
                    self.r_cpl.d.next = self.r_cpl.d.val()
                        | (bit_cast::<256, 8>(self.s2_l4off.q.val()) << self.c_cpl_l4.val())
                        | (bit_cast::<256, 8>(self.s2_tcp_flags.q.val())
                            << self.c_cpl_tcpflags.val())
                        | (bit_cast::<256, 16>(self.s2_window.q.val()) << self.c_cpl_window.val());
                    self.r_opts.d.next = self.s2_opts.q.val();
                    self.r_olen.d.next = self.s2_olen.q.val();
                }
            }
            // Good: no drop reason (with both checksums good the
            // checksum drop cannot apply), TCP over IPv4, both verified.
            self.r_good.d.next = self.s2_is_ip.q.val()
                && self.s2_ip_csum_ok.q.val()
                && self.is_tcp.val()
                && self.tcp_csum_ok.val()
                && !self.ip_bad.val()
                && !self.l4_bad.val()
                && !self.s2_oversize.q.val()
                && !self.s2_runt.q.val()
                && !self.s2_err.q.val();
            self.r_seq.d.next = self.s2_seq.q.val();
            self.r_ackn.d.next = self.s2_ackn.q.val();
            self.r_macs.d.next = self.s2_macs.q.val();
        }
        self.out_seq.next = self.r_seq.q.val();
        self.out_ackn.next = self.r_ackn.q.val();
        self.out_macs.next = self.r_macs.q.val();
        self.out_valid.next = self.r_valid.q.val();
        self.out_cpl.next = self.r_cpl.q.val();
        self.out_reason.next = self.r_reason.q.val();
        self.out_opts.next = self.r_opts.q.val();
        self.out_olen.next = self.r_olen.q.val();
        self.out_tuple.next = self.r_tuple.q.val();
        self.out_hkind.next = self.r_hkind.q.val();
        self.out_good.next = self.r_good.q.val();
        if self.rst.val() {
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.r_valid.d.next = false;
            self.r_good.d.next = false;
        }
    }
}
