//! RX front end: MAC stream into a store-and-forward data FIFO while the
//! header pipeline (FrameSum -> RxParse -> Rss -> OptWalk x OPT_STAGES)
//! produces one metadata record per frame into the metadata FIFO.  The
//! pipeline has fixed latency and never stalls; the MAC is back-pressured
//! only when the FIFOs could overflow.
use super::opt_walk::OptWalk;
use super::parse::RxParse;
use super::rss::Rss;
use crate::frame_sum::FrameSum;
use rust_hdl::prelude::*;
use toe_contract::desc as d;

/// Option walker stages: 10 stages x 4 steps cover 40 bytes of NOPs.
pub const OPT_STAGES: usize = 10;
// The kernel names the last stage as walk[9] (rust-hdl resolves array
// indices textually, without constants).
const _: () = assert!(OPT_STAGES == 10);
/// Metadata record: completion (255:0), drop reason (259:256), queue (261:260).
pub const META_BITS: usize = 262;

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
    // Metadata FIFO (first word fall through)
    pub meta_empty: Signal<Out, Bit>,
    pub meta: Signal<Out, Bits<262>>,
    pub meta_pop: Signal<In, Bit>,
    // Data FIFO: bit 512 is the last-beat flag
    pub data_empty: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<513>>,
    pub data_pop: Signal<In, Bit>,
    fsum: FrameSum,
    parse: RxParse,
    rss: Rss,
    walk: [OptWalk; OPT_STAGES],
    dfifo: RxDataFifo,
    mfifo: RxMetaFifo,
    inflight: DFF<Bits<8>>,
    beat: Signal<Local, Bit>,
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
            meta_empty: Default::default(),
            meta: Default::default(),
            meta_pop: Default::default(),
            data_empty: Default::default(),
            data: Default::default(),
            data_pop: Default::default(),
            fsum: Default::default(),
            parse: Default::default(),
            rss: Default::default(),
            walk: array_init::array_init(|_| Default::default()),
            dfifo: Default::default(),
            mfifo: Default::default(),
            inflight: Default::default(),
            beat: Default::default(),
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
        dff_setup!(self, clock, inflight);
        clock!(self, clock, fsum, parse, rss, dfifo, mfifo);
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
        self.rss.in_cpl.next = self.parse.out_cpl.val();
        self.rss.in_reason.next = self.parse.out_reason.val();
        self.rss.in_opts.next = self.parse.out_opts.val();
        self.rss.in_olen.next = self.parse.out_olen.val();
        self.rss.in_tuple.next = self.parse.out_tuple.val();
        self.rss.in_hkind.next = self.parse.out_hkind.val();
        // Option walker chain
        for i in 0..OPT_STAGES {
            self.walk[i].clock.next = self.clock.val();
            self.walk[i].rst.next = self.rst.val();
        }
        self.walk[0].in_valid.next = self.rss.out_valid.val();
        self.walk[0].in_pay.next = bit_cast::<262, 256>(self.rss.out_cpl.val())
            | (bit_cast::<262, 4>(self.rss.out_reason.val()) << 256)
            | (bit_cast::<262, 2>(self.rss.out_queue.val()) << 260);
        self.walk[0].in_opts.next = self.rss.out_opts.val();
        self.walk[0].in_olen.next = self.rss.out_olen.val();
        self.walk[0].in_pos.next = 0.into();
        self.walk[0].in_done.next = false;
        self.walk[0].in_bad.next = false;
        self.walk[0].in_mss.next = 0.into();
        self.walk[0].in_ws.next = 0.into();
        self.walk[0].in_sackp.next = false;
        self.walk[0].in_sackb.next = 0.into();
        self.walk[0].in_ts.next = false;
        self.walk[0].in_tsval.next = 0.into();
        self.walk[0].in_tsecr.next = 0.into();
        for i in 1..OPT_STAGES {
            self.walk[i].in_valid.next = self.walk[i - 1].out_valid.val();
            self.walk[i].in_pay.next = self.walk[i - 1].out_pay.val();
            self.walk[i].in_opts.next = self.walk[i - 1].out_opts.val();
            self.walk[i].in_olen.next = self.walk[i - 1].out_olen.val();
            self.walk[i].in_pos.next = self.walk[i - 1].out_pos.val();
            self.walk[i].in_done.next = self.walk[i - 1].out_done.val();
            self.walk[i].in_bad.next = self.walk[i - 1].out_bad.val();
            self.walk[i].in_mss.next = self.walk[i - 1].out_mss.val();
            self.walk[i].in_ws.next = self.walk[i - 1].out_ws.val();
            self.walk[i].in_sackp.next = self.walk[i - 1].out_sackp.val();
            self.walk[i].in_sackb.next = self.walk[i - 1].out_sackb.val();
            self.walk[i].in_ts.next = self.walk[i - 1].out_ts.val();
            self.walk[i].in_tsval.next = self.walk[i - 1].out_tsval.val();
            self.walk[i].in_tsecr.next = self.walk[i - 1].out_tsecr.val();
        }
        // Merge the parsed options into the completion.
        self.optbyte.next = (bit_cast::<8, 3>(self.walk[9].out_sackb.val()) << 4)
            | (bit_cast::<8, 1>(self.walk[9].out_ts.val().into()) << 1)
            | bit_cast::<8, 1>(self.walk[9].out_sackp.val().into());
        self.merged.next = self.walk[9].out_pay.val()
            | (bit_cast::<262, 16>(self.walk[9].out_mss.val()) << self.c_mss.val())
            | (bit_cast::<262, 8>(self.walk[9].out_ws.val()) << self.c_ws.val())
            | (bit_cast::<262, 8>(self.optbyte.val()) << self.c_opts.val())
            | (bit_cast::<262, 32>(self.walk[9].out_tsval.val()) << self.c_tsval.val())
            | (bit_cast::<262, 32>(self.walk[9].out_tsecr.val()) << self.c_tsecr.val());
        if self.walk[9].out_bad.val() {
            self.merged.next = self.merged.val() | self.c_optbad.val();
        }
        self.mfifo.write.next = self.walk[9].out_valid.val();
        self.mfifo.data_in.next = self.merged.val();
        // Outputs
        self.meta_empty.next = self.mfifo.empty.val();
        self.meta.next = self.mfifo.data_out.val();
        self.mfifo.read.next = self.meta_pop.val();
        self.data_empty.next = self.dfifo.empty.val();
        self.data.next = self.dfifo.data_out.val();
        self.dfifo.read.next = self.data_pop.val();
        // Frames between the MAC and the metadata FIFO's consumer.
        if self.frame_in.val() && !(self.meta_pop.val() && !self.mfifo.empty.val()) {
            self.inflight.d.next = self.inflight.q.val() + 1;
        }
        if !self.frame_in.val() && (self.meta_pop.val() && !self.mfifo.empty.val()) {
            self.inflight.d.next = self.inflight.q.val() - 1;
        }
        if self.rst.val() {
            self.inflight.d.next = 0.into();
        }
    }
}
