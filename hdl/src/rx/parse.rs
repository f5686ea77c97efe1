//! RX parse stage: turns a frame record from `FrameSum` into the partial
//! completion record, a drop reason, the TCP options window and the RSS
//! input tuple.  One record per cycle, registered, fixed latency.
//!
//! Drop reasons are the contract's counter numbers (`regs::Counter`), so the
//! DMA engine counts a drop by its reason; 0 delivers; `REASON_CSUM` drops a
//! frame whose bad checksum was already counted by its flags.
use rust_hdl::prelude::*;
use toe_contract::desc as d;
use toe_contract::regs::Counter;

pub const REASON_CSUM: u64 = 15;

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
    /// TCP sequence and acknowledgment numbers (valid with `out_hkind` 2).
    pub out_seq: Signal<Out, Bits<32>>,
    pub out_ackn: Signal<Out, Bits<32>>,
    /// Destination MAC (95:48) and source MAC (47:0), first byte most significant.
    pub out_macs: Signal<Out, Bits<96>>,
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
    hdr: Signal<Local, Bits<1088>>,
    tcp: Signal<Local, Bits<480>>,
    is_ip: Signal<Local, Bit>,
    ihl4: Signal<Local, Bits<16>>,
    tl: Signal<Local, Bits<16>>,
    plen: Signal<Local, Bits<16>>,
    l4off: Signal<Local, Bits<16>>,
    ip_bad: Signal<Local, Bit>,
    frag: Signal<Local, Bit>,
    is_tcp: Signal<Local, Bit>,
    doff4: Signal<Local, Bits<16>>,
    l4_bad: Signal<Local, Bit>,
    ps: Signal<Local, Bits<32>>,
    ip_ok: Signal<Local, Bit>,
    tcp_ok: Signal<Local, Bit>,
    flags: Signal<Local, Bits<16>>,
    reason: Signal<Local, Bits<4>>,
    c_et_ip: Constant<Bits<512>>,
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
    r_csum: Constant<Bits<4>>,
    c_min_frame: Constant<Bits<16>>,
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
            out_seq: Default::default(),
            out_ackn: Default::default(),
            out_macs: Default::default(),
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
            hdr: Default::default(),
            tcp: Default::default(),
            is_ip: Default::default(),
            ihl4: Default::default(),
            tl: Default::default(),
            plen: Default::default(),
            l4off: Default::default(),
            ip_bad: Default::default(),
            frag: Default::default(),
            is_tcp: Default::default(),
            doff4: Default::default(),
            l4_bad: Default::default(),
            ps: Default::default(),
            ip_ok: Default::default(),
            tcp_ok: Default::default(),
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
            r_csum: k(REASON_CSUM),
            c_min_frame: k(toe_contract::MIN_FRAME as u64),
        }
    }
}

impl Logic for RxParse {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r_valid, r_cpl, r_reason, r_opts, r_olen, r_tuple, r_hkind, r_seq, r_ackn,
            r_macs
        );
        // Everything below only for a frame: between frames the registers
        // hold (clock enable), which saves simulation time.
        self.hdr.next = 0.into();
        self.tcp.next = 0.into();
        self.ihl4.next = 0.into();
        self.tl.next = 0.into();
        self.plen.next = 0.into();
        self.l4off.next = 0.into();
        self.doff4.next = 0.into();
        self.ps.next = 0.into();
        self.flags.next = 0.into();
        self.reason.next = 0.into();
        self.is_ip.next = false;
        self.ip_bad.next = false;
        self.frag.next = false;
        self.is_tcp.next = false;
        self.l4_bad.next = false;
        self.ip_ok.next = false;
        self.tcp_ok.next = false;
        self.r_valid.d.next = self.in_valid.val();
        if self.in_valid.val() {
            self.hdr.next = bit_cast::<1088, 512>(self.h0.val())
                | (bit_cast::<1088, 512>(self.h1.val()) << 512)
                | (bit_cast::<1088, 64>(self.h2.val()) << 1024);
            // L3
            self.is_ip.next = ((self.h0.val() >> 96) & 0xFFFF) == self.c_et_ip.val();
            self.ihl4.next = bit_cast::<16, 512>((self.h0.val() >> 112) & 0xF) << 2;
            self.tl.next = bit_cast::<16, 512>(
                ((self.h0.val() >> 120) & 0xFF00) | ((self.h0.val() >> 136) & 0xFF),
            );
            self.ip_bad.next = (((self.h0.val() >> 116) & 0xF) != 4)
                || (self.ihl4.val() < 20)
                || (self.tl.val() < self.ihl4.val())
                || (self.tl.val() + 14 > self.len.val());
            // MF flag (byte 20 bit 5) or a fragment offset.
            self.frag.next = self.h0.val().get_bit(165) || (((self.h0.val() >> 160) & 0x1FFF) != 0);
            self.frag.next = self.h0.val().get_bit(165)
                || (((self.h0.val() >> 160) & 0x1F) != 0)
                || (((self.h0.val() >> 168) & 0xFF) != 0);
            self.plen.next = self.tl.val() - self.ihl4.val();
            self.l4off.next = self.ihl4.val() + 14;
            self.tcp.next = bit_cast::<480, 1088>(self.hdr.val() >> (self.l4off.val() << 3));
            self.is_tcp.next =
                self.is_ip.val() && (((self.h0.val() >> 184) & 0xFF) == 6) && !self.frag.val();
            self.doff4.next = bit_cast::<16, 480>((self.tcp.val() >> 100) & 0xF) << 2;
            self.l4_bad.next = (self.plen.val() < 20)
                || (self.doff4.val() < 20)
                || (self.doff4.val() > self.plen.val());
            // Checksums: pseudo header in lane form (addresses are lanes 13..16,
            // protocol word 00 06 is lane 0x0600, the length is byte swapped).
            self.ps.next = bit_cast::<32, 16>(self.l4_sum.val())
                + bit_cast::<32, 512>((self.h0.val() >> 208) & 0xFFFF)
                + bit_cast::<32, 512>((self.h0.val() >> 224) & 0xFFFF)
                + bit_cast::<32, 512>((self.h0.val() >> 240) & 0xFFFF)
                + bit_cast::<32, 512>((self.h0.val() >> 256) & 0xFFFF)
                + 0x0600
                + bit_cast::<32, 16>(((self.plen.val() & 0xFF) << 8) | (self.plen.val() >> 8));
            self.ps.next = (self.ps.val() & 0xFFFF) + (self.ps.val() >> 16);
            self.ps.next = (self.ps.val() & 0xFFFF) + (self.ps.val() >> 16);
            self.ip_ok.next = self.ip_sum.val() == 0xFFFF;
            self.tcp_ok.next = self.ps.val() == 0xFFFF;
            // Flags and drop reason, in the order docs/semantics.md gives.
            self.flags.next = 0.into();
            self.reason.next = 0.into();
            if self.is_ip.val() {
                self.flags.next = self.f_ipv4.val();
                if self.ip_ok.val() {
                    self.flags.next = self.flags.val() | self.f_ipok.val();
                } else {
                    self.flags.next = self.flags.val() | self.f_ipbad.val();
                }
                if self.frag.val() {
                    self.flags.next = self.flags.val() | self.f_frag.val();
                }
                if self.is_tcp.val() {
                    self.flags.next = self.flags.val() | self.f_tcp.val();
                    if self.tcp_ok.val() {
                        self.flags.next = self.flags.val() | self.f_tcpok.val();
                    } else {
                        self.flags.next = self.flags.val() | self.f_tcpbad.val();
                    }
                }
            }
            if self.drop_bad_csum.val()
                && self.is_ip.val()
                && (!self.ip_ok.val() || (self.is_tcp.val() && !self.tcp_ok.val()))
            {
                self.reason.next = self.r_csum.val();
            }
            if self.is_tcp.val() && self.l4_bad.val() {
                self.reason.next = self.r_l4.val();
            }
            if self.is_ip.val() && self.ip_bad.val() {
                self.reason.next = self.r_l3.val();
                self.flags.next = 0.into();
            }
            if self.len.val() > self.max_frame.val() {
                self.reason.next = self.r_over.val();
            }
            if self.len.val() < self.c_min_frame.val() {
                self.reason.next = self.r_runt.val();
            }
            if self.err.val() {
                self.reason.next = self.r_mac.val();
            }
            // Registered outputs.
            self.r_reason.d.next = self.reason.val();
            self.r_cpl.d.next = (bit_cast::<256, 16>(self.len.val()) << self.c_cpl_len.val())
                | (bit_cast::<256, 16>(self.flags.val()) << self.c_cpl_flags.val());
            self.r_opts.d.next = 0.into();
            self.r_olen.d.next = 0.into();
            self.r_hkind.d.next = 0.into();
            self.r_tuple.d.next = (bit_cast::<96, 512>((self.h0.val() >> 208) & 0xFF) << 88)
                | (bit_cast::<96, 512>((self.h0.val() >> 216) & 0xFF) << 80)
                | (bit_cast::<96, 512>((self.h0.val() >> 224) & 0xFF) << 72)
                | (bit_cast::<96, 512>((self.h0.val() >> 232) & 0xFF) << 64)
                | (bit_cast::<96, 512>((self.h0.val() >> 240) & 0xFF) << 56)
                | (bit_cast::<96, 512>((self.h0.val() >> 248) & 0xFF) << 48)
                | (bit_cast::<96, 512>((self.h0.val() >> 256) & 0xFF) << 40)
                | (bit_cast::<96, 512>((self.h0.val() >> 264) & 0xFF) << 32)
                | (bit_cast::<96, 480>(self.tcp.val() & 0xFF) << 24)
                | (bit_cast::<96, 480>((self.tcp.val() >> 8) & 0xFF) << 16)
                | (bit_cast::<96, 480>((self.tcp.val() >> 16) & 0xFF) << 8)
                | bit_cast::<96, 480>((self.tcp.val() >> 24) & 0xFF);
            if self.is_ip.val() && !self.ip_bad.val() {
                self.r_cpl.d.next =
                    self.r_cpl.d.val() | (bit_cast::<256, 8>(14.into()) << self.c_cpl_l3.val());
                self.r_hkind.d.next = 1.into();
                if self.is_tcp.val() && !self.l4_bad.val() {
                    self.r_hkind.d.next = 2.into();
                    self.r_cpl.d.next = self.r_cpl.d.val()
                        | (bit_cast::<256, 16>(self.l4off.val()) << self.c_cpl_l4.val())
                        | (bit_cast::<256, 480>((self.tcp.val() >> 104) & 0xFF)
                            << self.c_cpl_tcpflags.val())
                        | (bit_cast::<256, 480>(
                            ((self.tcp.val() >> 104) & 0xFF00) | ((self.tcp.val() >> 120) & 0xFF),
                        ) << self.c_cpl_window.val());
                    self.r_opts.d.next = bit_cast::<320, 480>(self.tcp.val() >> 160);
                    self.r_olen.d.next = bit_cast::<9, 16>(self.doff4.val() - 20);
                }
            }
            self.r_seq.d.next = (bit_cast::<32, 480>((self.tcp.val() >> 32) & 0xFF) << 24)
                | (bit_cast::<32, 480>((self.tcp.val() >> 40) & 0xFF) << 16)
                | (bit_cast::<32, 480>((self.tcp.val() >> 48) & 0xFF) << 8)
                | (bit_cast::<32, 480>((self.tcp.val() >> 56) & 0xFF) << 0);
            self.r_ackn.d.next = (bit_cast::<32, 480>((self.tcp.val() >> 64) & 0xFF) << 24)
                | (bit_cast::<32, 480>((self.tcp.val() >> 72) & 0xFF) << 16)
                | (bit_cast::<32, 480>((self.tcp.val() >> 80) & 0xFF) << 8)
                | (bit_cast::<32, 480>((self.tcp.val() >> 88) & 0xFF) << 0);
            self.r_macs.d.next = (bit_cast::<96, 512>((self.h0.val() >> 0) & 0xFF) << 88)
                | (bit_cast::<96, 512>((self.h0.val() >> 8) & 0xFF) << 80)
                | (bit_cast::<96, 512>((self.h0.val() >> 16) & 0xFF) << 72)
                | (bit_cast::<96, 512>((self.h0.val() >> 24) & 0xFF) << 64)
                | (bit_cast::<96, 512>((self.h0.val() >> 32) & 0xFF) << 56)
                | (bit_cast::<96, 512>((self.h0.val() >> 40) & 0xFF) << 48)
                | (bit_cast::<96, 512>((self.h0.val() >> 48) & 0xFF) << 40)
                | (bit_cast::<96, 512>((self.h0.val() >> 56) & 0xFF) << 32)
                | (bit_cast::<96, 512>((self.h0.val() >> 64) & 0xFF) << 24)
                | (bit_cast::<96, 512>((self.h0.val() >> 72) & 0xFF) << 16)
                | (bit_cast::<96, 512>((self.h0.val() >> 80) & 0xFF) << 8)
                | (bit_cast::<96, 512>((self.h0.val() >> 88) & 0xFF) << 0);
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
        if self.rst.val() {
            self.r_valid.d.next = false;
        }
    }
}
