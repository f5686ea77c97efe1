//! RX front end: MAC stream into a store-and-forward data FIFO while the
//! header pipeline (FrameSum -> RxParse -> Rss -> OptWalk)
//! produces one metadata record per frame into the metadata FIFO.  The
//! pipeline has fixed latency and never stalls; the MAC is back-pressured
//! only when the FIFOs could overflow.
//!
//! Cycles below count from P, the cycle the parser's record comes out
//! (`RX_PARSE_LATENCY` = 3 cycles after `FrameSum`'s record, itself
//! `FRAME_SUM_LATENCY` after a frame's last beat).
use super::opt_walk::{OptWalk, OPT_WALK_LATENCY};
use super::parse::RxParse;
use super::rss::Rss;
use crate::common::stream::FifoOut;
use crate::frame_sum::FrameSum;
use crate::setup::rx::SetupTap;
use rust_hdl::prelude::*;
use toe_contract::desc as d;

// The late setup tap comes from the option walker's output: RSS (2 cycles)
// then the walker (P + 12, the comments below and setup::rx::LATE_TAP).
const _: () = assert!(crate::setup::rx::LATE_TAP == 2 + OPT_WALK_LATENCY);
/// Metadata record: completion (255:0), drop reason (259:256), queue (261:260).
pub const META_BITS: usize = 262;

// Completion bit positions the kernel writes as literals (rust-hdl kernels
// take no paths): flags 64 (IP checksum OK +2, TCP checksum OK +4, options
// bad +7), TCP flags 104, MSS 112, window scale 128, options 136 (SACK-
// permitted +0, timestamps +1), TSecr 192.
const _: () = assert!(
    d::CPL_FLAGS_BIT == 64
        && d::CPL_IP_CSUM_OK == 1 << 2
        && d::CPL_TCP_CSUM_OK == 1 << 4
        && d::CPL_OPT_BAD == 1 << 7
        && d::CPL_TCPFLAGS_BIT == 104
        && d::CPL_MSS_BIT == 112
        && d::CPL_WSCALE_BIT == 128
        && d::CPL_OPTS_BIT == 136
        && d::OPT_SACK_PERM == 1
        && d::OPT_TS == 2
        && d::CPL_TSECR_BIT == 192
);

crate::declare_clear_fifo!(RxDataFifo, Bits<513>, 256, 4);
crate::declare_clear_fifo!(RxMetaFifo, Bits<262>, 64, 1);

#[derive(LogicBlock)]
pub struct RxPath {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub max_frame: Signal<In, Bits<16>>,
    pub drop_bad_csum: Signal<In, Bit>,
    pub rss_enable: Signal<In, Bit>,
    pub rss_key: Signal<In, Bits<320>>,
    pub rss_table: Signal<In, Bits<128>>,
    // MAC RX
    pub tdata: Signal<In, Bits<512>>,
    pub tkeep: Signal<In, Bits<64>>,
    pub tvalid: Signal<In, Bit>,
    pub tlast: Signal<In, Bit>,
    pub tuser: Signal<In, Bit>,
    pub tready: Signal<Out, Bit>,
    /// One pulse per frame received from the MAC.
    pub frame_in: Signal<Out, Bit>,
    /// Metadata FIFO (first word fall through): frame metadata, to `DmaAddr`.
    pub meta: FifoOut<262>,
    /// Data FIFO (bit 512 the last-beat flag): frame beats, to `DmaData`.
    pub data: FifoOut<513>,
    /// Setup offload taps (see crate::setup::rx): early (parser output, P;
    /// its Toeplitz hash `e_hash` at P + 1), late (option walker output,
    /// P + 12), and the verdicts back (`l_answer`: the late tap's SYN was
    /// answered by the NIC, consume it; the ACK verdict `a_*` at P + 13,
    /// the merge stage).  The active open reads `tap.e_*`/`tap.l_*` too.
    pub tap: SetupTap,
    /// Active-open candidates: SYN-ACK (no RST/FIN), RST with ACK (no SYN).
    pub e_sa: Signal<Out, Bit>,
    pub e_rst: Signal<Out, Bit>,
    /// Late tap of an active-open candidate, and the verdict (kind
    /// connected / connect refused) for its completion.
    pub l_cand: Signal<Out, Bit>,
    pub l_conn: Signal<In, Bit>,
    pub l_refused: Signal<In, Bit>,
    /// Counter pulses: ACK delivered as "established"; ACK to an offloaded
    /// listener that is not a valid cookie.
    pub cnt_est: Signal<Out, Bit>,
    pub cnt_not_cookie: Signal<Out, Bit>,
    fsum: FrameSum,
    parse: RxParse,
    rss: Rss,
    walk: OptWalk,
    dfifo: RxDataFifo,
    mfifo: RxMetaFifo,
    inflight: DFF<Bits<8>>,
    m_valid: DFF<Bit>,
    m_meta: DFF<Bits<262>>,
    beat: Signal<Local, Bit>,
    cand_ok: Signal<Local, Bit>,
    est: Signal<Local, Bit>,
    fin: Signal<Local, Bits<262>>,
    ecr_ws: Signal<Local, Bits<8>>,
    est_sack: Signal<Local, Bit>,
    merged: Signal<Local, Bits<262>>,
    optbyte: Signal<Local, Bits<8>>,
    c_mss: Constant<Bits<16>>,
    c_ws: Constant<Bits<16>>,
    c_opts: Constant<Bits<16>>,
    c_tsval: Constant<Bits<16>>,
    c_tsecr: Constant<Bits<16>>,
    c_optbad: Constant<Bits<262>>,
    c_reason_mask: Constant<Bits<262>>,
    c_reason_consumed: Constant<Bits<262>>,
    c_cand_mask: Constant<Bits<262>>,
    /// Kind, MSS, window scale and the SACK-permitted bit of the options byte.
    c_est_mask: Constant<Bits<262>>,
    c_kind_est: Constant<Bits<262>>,
    c_kind_mask: Constant<Bits<262>>,
    c_kind_conn: Constant<Bits<262>>,
    c_kind_refused: Constant<Bits<262>>,
}

impl Default for RxPath {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            max_frame: Default::default(),
            drop_bad_csum: Default::default(),
            rss_enable: Default::default(),
            rss_key: Default::default(),
            rss_table: Default::default(),
            tdata: Default::default(),
            tkeep: Default::default(),
            tvalid: Default::default(),
            tlast: Default::default(),
            tuser: Default::default(),
            tready: Default::default(),
            frame_in: Default::default(),
            meta: Default::default(),
            data: Default::default(),
            tap: Default::default(),
            e_sa: Default::default(),
            e_rst: Default::default(),
            l_cand: Default::default(),
            l_conn: Default::default(),
            l_refused: Default::default(),
            cnt_est: Default::default(),
            cnt_not_cookie: Default::default(),
            fsum: Default::default(),
            parse: Default::default(),
            rss: Default::default(),
            walk: Default::default(),
            dfifo: Default::default(),
            mfifo: Default::default(),
            inflight: Default::default(),
            m_valid: Default::default(),
            m_meta: Default::default(),
            beat: Default::default(),
            cand_ok: Default::default(),
            est: Default::default(),
            fin: Default::default(),
            ecr_ws: Default::default(),
            est_sack: Default::default(),
            merged: Default::default(),
            optbyte: Default::default(),
            c_mss: Constant::new((d::CPL_MSS_BIT as u64).into()),
            c_ws: Constant::new((d::CPL_WSCALE_BIT as u64).into()),
            c_opts: Constant::new((d::CPL_OPTS_BIT as u64).into()),
            c_tsval: Constant::new((d::CPL_TSVAL_BIT as u64).into()),
            c_tsecr: Constant::new((d::CPL_TSECR_BIT as u64).into()),
            c_optbad: Constant::new(
                Bits::<262>::from(d::CPL_OPT_BAD as u64) << (d::CPL_FLAGS_BIT as u64),
            ),
            c_reason_mask: Constant::new(Bits::<262>::from(0xFu64) << 256u64),
            c_reason_consumed: Constant::new(
                Bits::<262>::from(crate::rx::parse::REASON_CSUM) << 256u64,
            ),
            c_cand_mask: Constant::new(Bits::<262>::from(0xFu64) << 224u64),
            c_est_mask: Constant::new(
                (Bits::<262>::from(0xFFu64) << (d::CPL_KIND_BIT as u64))
                    | (Bits::<262>::from(0xFFFF_FFu64) << (d::CPL_MSS_BIT as u64))
                    | (Bits::<262>::from(1u64) << (d::CPL_OPTS_BIT as u64)),
            ),
            c_kind_est: Constant::new(
                Bits::<262>::from(toe_contract::setup::KIND_ESTABLISHED as u64)
                    << (d::CPL_KIND_BIT as u64),
            ),
            c_kind_mask: Constant::new(Bits::<262>::from(0xFFu64) << (d::CPL_KIND_BIT as u64)),
            c_kind_conn: Constant::new(
                Bits::<262>::from(toe_contract::setup::KIND_CONNECTED as u64)
                    << (d::CPL_KIND_BIT as u64),
            ),
            c_kind_refused: Constant::new(
                Bits::<262>::from(toe_contract::setup::KIND_CONNECT_REFUSED as u64)
                    << (d::CPL_KIND_BIT as u64),
            ),
        }
    }
}

impl Logic for RxPath {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, inflight, m_valid, m_meta);
        clock!(self, clock, fsum, parse, rss, walk, dfifo, mfifo);
        self.dfifo.clear.next = self.rst.val();
        self.mfifo.clear.next = self.rst.val();
        self.fsum.rst.next = self.rst.val();
        self.parse.rst.next = self.rst.val();
        self.rss.rst.next = self.rst.val();
        // Accept a beat when the data FIFO has room and the metadata FIFO can
        // take every frame that may still be in the header pipeline.
        self.tready.next = !self.dfifo.almost_full.val() && (self.inflight.q.val() < 40);
        self.beat.next =
            self.tvalid.val() && !self.dfifo.almost_full.val() && (self.inflight.q.val() < 40);
        self.frame_in.next = self.beat.val() && self.tlast.val();
        self.dfifo.write.next = self.beat.val();
        self.dfifo.data_in.next = bit_cast::<513, 512>(self.tdata.val())
            | (bit_cast::<513, 1>(self.tlast.val().into()) << 512);
        self.fsum.beat.next = self.beat.val();
        self.fsum.data.next = self.tdata.val();
        self.fsum.keep.next = self.tkeep.val();
        self.fsum.last.next = self.tlast.val();
        self.fsum.user.next = self.tuser.val();
        // Parse
        self.parse.max_frame.next = self.max_frame.val();
        self.parse.drop_bad_csum.next = self.drop_bad_csum.val();
        self.parse.in_valid.next = self.fsum.rec_valid.val();
        self.parse.h0.next = self.fsum.h0.val();
        self.parse.h1.next = self.fsum.h1.val();
        self.parse.h2.next = self.fsum.h2.val();
        self.parse.len.next = self.fsum.len.val();
        self.parse.err.next = self.fsum.err.val();
        self.parse.ip_sum.next = self.fsum.ip_sum.val();
        self.parse.l4_sum.next = self.fsum.l4_sum.val();
        // RSS
        self.rss.enable.next = self.rss_enable.val();
        self.rss.key.next = self.rss_key.val();
        self.rss.ind_table.next = self.rss_table.val();
        self.rss.in_valid.next = self.parse.out_valid.val();
        // Setup offload candidates (a good TCP segment: header parsed,
        // both checksums verified, no drop reason): SYN without
        // ACK/RST/FIN, or ACK without SYN/RST.  They ride in reserved
        // completion bits 224 and 225 to the merge stage (bit 226: the
        // active open's candidate; bits 227:224 are cleared there).
        self.cand_ok.next = self.parse.out_valid.val()
            && (self.parse.out_hkind.val() == 2)
            && (self.parse.out_reason.val() == 0)
            && self.parse.out_cpl.val().get_bit(66)
            && self.parse.out_cpl.val().get_bit(68);
        self.tap.e_syn.next =
            self.cand_ok.val() && (((self.parse.out_cpl.val() >> 104) & 0x17) == 0x02);
        self.tap.e_ack.next =
            self.cand_ok.val() && (((self.parse.out_cpl.val() >> 104) & 0x16) == 0x10);
        self.e_sa.next = self.cand_ok.val() && (((self.parse.out_cpl.val() >> 104) & 0x17) == 0x12);
        self.e_rst.next =
            self.cand_ok.val() && (((self.parse.out_cpl.val() >> 104) & 0x17) == 0x14);
        self.tap.e_tuple.next = self.parse.out_tuple.val();
        self.tap.e_seq.next = self.parse.out_seq.val();
        self.tap.e_ackn.next = self.parse.out_ackn.val();
        self.tap.e_macs.next = self.parse.out_macs.val();
        self.tap.e_hash.next = self.rss.out_hash.val();
        self.rss.in_cpl.next = self.parse.out_cpl.val()
            | (bit_cast::<256, 1>(self.tap.e_syn.val().into()) << 224)
            | (bit_cast::<256, 1>(self.tap.e_ack.val().into()) << 225)
            | (bit_cast::<256, 1>((self.e_sa.val() || self.e_rst.val()).into()) << 226);
        self.rss.in_reason.next = self.parse.out_reason.val();
        self.rss.in_opts.next = self.parse.out_opts.val();
        self.rss.in_olen.next = self.parse.out_olen.val();
        self.rss.in_tuple.next = self.parse.out_tuple.val();
        self.rss.in_hkind.next = self.parse.out_hkind.val();
        // Option walker
        self.walk.rst.next = self.rst.val();
        self.walk.in_valid.next = self.rss.out_valid.val();
        self.walk.in_pay.next = bit_cast::<262, 256>(self.rss.out_cpl.val())
            | (bit_cast::<262, 4>(self.rss.out_reason.val()) << 256)
            | (bit_cast::<262, 2>(self.rss.out_queue.val()) << 260);
        self.walk.in_opts.next = self.rss.out_opts.val();
        self.walk.in_olen.next = self.rss.out_olen.val();
        // Merge the parsed options into the completion.
        self.optbyte.next = (bit_cast::<8, 3>(self.walk.out_sackb.val()) << 4)
            | (bit_cast::<8, 1>(self.walk.out_ts.val().into()) << 1)
            | bit_cast::<8, 1>(self.walk.out_sackp.val().into());
        self.merged.next = self.walk.out_pay.val()
            | (bit_cast::<262, 16>(self.walk.out_mss.val()) << self.c_mss.val())
            | (bit_cast::<262, 8>(self.walk.out_ws.val()) << self.c_ws.val())
            | (bit_cast::<262, 8>(self.optbyte.val()) << self.c_opts.val())
            | (bit_cast::<262, 32>(self.walk.out_tsval.val()) << self.c_tsval.val())
            | (bit_cast::<262, 32>(self.walk.out_tsecr.val()) << self.c_tsecr.val());
        if self.walk.out_bad.val() {
            self.merged.next = self.merged.val() | self.c_optbad.val();
        }
        // Late setup tap: a SYN the NIC answers is consumed here (drop
        // reason 15: not delivered, counted by the setup block).
        self.tap.l_syn.next = self.walk.out_valid.val() && self.walk.out_pay.val().get_bit(224);
        self.tap.l_mss.next = self.walk.out_mss.val();
        self.tap.l_ws.next = self.walk.out_ws.val();
        self.tap.l_sackp.next = self.walk.out_sackp.val();
        self.tap.l_ts.next = self.walk.out_ts.val();
        self.tap.l_tsval.next = self.walk.out_tsval.val();
        // Active open: the verdict for a SYN-ACK or RST candidate.
        self.l_cand.next = self.walk.out_valid.val() && self.walk.out_pay.val().get_bit(226);
        if self.l_conn.val() {
            self.merged.next =
                (self.merged.val() & !self.c_kind_mask.val()) | self.c_kind_conn.val();
        }
        if self.l_refused.val() {
            self.merged.next =
                (self.merged.val() & !self.c_kind_mask.val()) | self.c_kind_refused.val();
        }
        if self.tap.l_answer.val() {
            self.merged.next =
                (self.merged.val() & !self.c_reason_mask.val()) | self.c_reason_consumed.val();
        }
        // Merge stage (P + 13): a valid final ACK becomes an "established"
        // completion whose option fields are the negotiated ones: the MSS
        // from the cookie's class, the client's window scale and
        // SACK-permitted from the TSecr it echoes (toe_contract::setup).
        self.m_valid.d.next = self.walk.out_valid.val();
        self.m_meta.d.next = self.merged.val();
        self.est.next = self.m_valid.q.val()
            && self.m_meta.q.val().get_bit(225)
            && self.tap.a_hit.val()
            && self.tap.a_ok.val()
            && !self.m_meta.q.val().get_bit(71);
        self.cnt_est.next = self.est.val();
        self.cnt_not_cookie.next = self.m_valid.q.val()
            && self.m_meta.q.val().get_bit(225)
            && self.tap.a_hit.val()
            && !self.est.val();
        self.fin.next = 0.into();
        self.ecr_ws.next = 0.into();
        self.est_sack.next = false;
        if self.m_valid.q.val() {
            self.fin.next = self.m_meta.q.val() & !self.c_cand_mask.val();
            self.ecr_ws.next = 0.into();
            if ((self.m_meta.q.val() >> 192) & 0xF) < 15 {
                self.ecr_ws.next = bit_cast::<8, 262>((self.m_meta.q.val() >> 192) & 0xF) | 0x80;
            }
            if !self.m_meta.q.val().get_bit(137) {
                self.ecr_ws.next = 0.into();
            }
            self.est_sack.next =
                self.m_meta.q.val().get_bit(137) && self.m_meta.q.val().get_bit(196);
            if self.est.val() {
                self.fin.next = (self.fin.val() & !self.c_est_mask.val())
                    | self.c_kind_est.val()
                    | (bit_cast::<262, 16>(self.tap.a_mss.val()) << 112)
                    | (bit_cast::<262, 8>(self.ecr_ws.val()) << 128)
                    | (bit_cast::<262, 1>(self.est_sack.val().into()) << 136);
            }
        }
        self.mfifo.write.next = self.m_valid.q.val();
        self.mfifo.data_in.next = self.fin.val();
        // Outputs
        self.meta.empty.next = self.mfifo.empty.val();
        self.meta.data.next = self.mfifo.data_out.val();
        self.mfifo.read.next = self.meta.pop.val();
        self.data.empty.next = self.dfifo.empty.val();
        self.data.data.next = self.dfifo.data_out.val();
        self.dfifo.read.next = self.data.pop.val();
        // Frames between the MAC and the metadata FIFO's consumer.
        if self.frame_in.val() && !(self.meta.pop.val() && !self.mfifo.empty.val()) {
            self.inflight.d.next = self.inflight.q.val() + 1;
        }
        if !self.frame_in.val() && (self.meta.pop.val() && !self.mfifo.empty.val()) {
            self.inflight.d.next = self.inflight.q.val() - 1;
        }
        if self.rst.val() {
            self.inflight.d.next = 0.into();
            self.m_valid.d.next = false;
            self.m_meta.d.next = 0.into();
        }
    }
}
