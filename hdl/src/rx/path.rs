//! RX front end: MAC stream into a store-and-forward data FIFO while the
//! header pipeline (FrameSum -> RxParse -> Rss -> OptWalk)
//! produces one metadata record per frame into the metadata FIFO.  The
//! pipeline has fixed latency and never stalls; the MAC is back-pressured
//! only when the FIFOs could overflow.
//!
//! Cycles below count from P, the cycle the parser's record comes out
//! (`RX_PARSE_LATENCY` = 3 cycles after `FrameSum`'s record, itself
//! `FRAME_SUM_LATENCY` after a frame's last beat).  Offloads tap the
//! parsed-header event bus (`ev`, `rx::event`) at P and P + 12 and answer
//! with verdicts at P + 14, applied at one merge point
//! ([`RxVerdictMerge`]) before the metadata FIFO.
use super::event::{RxEvent, RxVerdictIn, LATE_TAP, RX_OFFLOADS, VERDICT_AT};
use super::opt_walk::{OptWalk, OPT_WALK_LATENCY};
use super::parse::RxParse;
use super::rss::Rss;
use super::verdict_merge::RxVerdictMerge;
use crate::common::stream::FifoOut;
use crate::frame_sum::FrameSum;
use rust_hdl::prelude::*;
use toe_contract::desc as d;

// The late record comes from the option walker's output: RSS (2 cycles)
// then the walker (P + 12); the merge is two registers later (the `m_*`
// register here, the merge's own).
const _: () = assert!(LATE_TAP == 2 + OPT_WALK_LATENCY && VERDICT_AT == LATE_TAP + 2);
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
    /// The parsed-header event bus: every good TCP segment's early (P,
    /// hash at P + 1) and late (P + 12) record, to every offload.
    pub ev: RxEvent,
    /// The offloads' verdicts (P + 14), one slot each (`rx::event`).
    pub verdict: [RxVerdictIn; RX_OFFLOADS],
    fsum: FrameSum,
    parse: RxParse,
    rss: Rss,
    walk: OptWalk,
    merge: RxVerdictMerge,
    dfifo: RxDataFifo,
    mfifo: RxMetaFifo,
    inflight: DFF<Bits<8>>,
    m_valid: DFF<Bit>,
    m_meta: DFF<Bits<262>>,
    beat: Signal<Local, Bit>,
    cand_ok: Signal<Local, Bit>,
    merged: Signal<Local, Bits<262>>,
    optbyte: Signal<Local, Bits<8>>,
    c_mss: Constant<Bits<16>>,
    c_ws: Constant<Bits<16>>,
    c_opts: Constant<Bits<16>>,
    c_tsval: Constant<Bits<16>>,
    c_tsecr: Constant<Bits<16>>,
    c_optbad: Constant<Bits<262>>,
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
            ev: Default::default(),
            verdict: Default::default(),
            fsum: Default::default(),
            parse: Default::default(),
            rss: Default::default(),
            walk: Default::default(),
            merge: Default::default(),
            dfifo: Default::default(),
            mfifo: Default::default(),
            inflight: Default::default(),
            m_valid: Default::default(),
            m_meta: Default::default(),
            beat: Default::default(),
            cand_ok: Default::default(),
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
        }
    }
}

impl Logic for RxPath {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, inflight, m_valid, m_meta);
        clock!(self, clock, fsum, parse, rss, walk, merge, dfifo, mfifo);
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
        // The early record (P): a good TCP segment (header parsed, both
        // checksums verified, no drop reason: the parser's registered
        // `out_good`).  Its flag rides in reserved completion bit 224 to
        // the late record (bits 227:224 are cleared at the merge).
        self.cand_ok.next = self.parse.out_valid.val() && self.parse.out_good.val();
        self.ev.e_valid.next = self.cand_ok.val();
        self.ev.e_flags.next = self.parse.out_cpl.val().get_bits::<8>(104);
        self.ev.e_tuple.next = self.parse.out_tuple.val();
        self.ev.e_seq.next = self.parse.out_seq.val();
        self.ev.e_ackn.next = self.parse.out_ackn.val();
        self.ev.e_window.next = self.parse.out_cpl.val().get_bits::<16>(144);
        self.ev.e_macs.next = self.parse.out_macs.val();
        self.ev.e_hash.next = self.rss.out_hash.val();
        self.rss.in_cpl.next =
            self.parse.out_cpl.val() | (bit_cast::<256, 1>(self.cand_ok.val().into()) << 224);
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
        // The late record (P + 12).
        self.ev.l_valid.next = self.walk.out_valid.val() && self.walk.out_pay.val().get_bit(224);
        self.ev.l_flags.next = self.walk.out_pay.val().get_bits::<8>(104);
        self.ev.l_mss.next = self.walk.out_mss.val();
        self.ev.l_ws.next = self.walk.out_ws.val();
        self.ev.l_sackp.next = self.walk.out_sackp.val();
        self.ev.l_ts.next = self.walk.out_ts.val();
        self.ev.l_tsval.next = self.walk.out_tsval.val();
        self.ev.l_tsecr.next = self.walk.out_tsecr.val();
        self.ev.l_optbad.next = self.walk.out_bad.val();
        // P + 13, then the merge point (P + 14): the verdicts applied.
        self.m_valid.d.next = self.walk.out_valid.val();
        self.m_meta.d.next = self.merged.val();
        self.merge.rst.next = self.rst.val();
        self.merge.in_valid.next = self.m_valid.q.val();
        self.merge.in_meta.next = self.m_meta.q.val();
        for i in 0..2 {
            self.merge.verdict[i].consume.next = self.verdict[i].consume.val();
            self.merge.verdict[i].kind_valid.next = self.verdict[i].kind_valid.val();
            self.merge.verdict[i].kind.next = self.verdict[i].kind.val();
            self.merge.verdict[i].opts_valid.next = self.verdict[i].opts_valid.val();
            self.merge.verdict[i].mss.next = self.verdict[i].mss.val();
            self.merge.verdict[i].ws.next = self.verdict[i].ws.val();
            self.merge.verdict[i].sackp.next = self.verdict[i].sackp.val();
        }
        self.mfifo.write.next = self.merge.out_valid.val();
        self.mfifo.data_in.next = self.merge.out_meta.val();
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
