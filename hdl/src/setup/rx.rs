//! The setup offload beside the RX header pipeline: listener lookup, ACK
//! validation, SYN-ACK generation and the SYN-ACK queue.
//!
//! It reads the RX path's parsed-header event bus (`rx::event`: the early
//! record at P, the late one at P + 12) and answers with a verdict at
//! P + 14 in slot `SLOT_SETUP`, so the RX path never stalls for it.  With
//! `P` the cycle the parser's outputs are valid:
//!
//! * **P (early tap)**: the frame's addresses are checked against what
//!   this host owns (`local_mac`, `local_ips`) and against martian classes
//!   (RFC 1122 3.2.1.3 and 4.2.3.10, RFC 1812 5.3.7): a SYN or ACK to an
//!   offloaded listener whose Ethernet destination is not our MAC, whose
//!   source or destination address is martian, whose source is one of
//!   ours or equal to its destination (LAND) is never answered; an any-IP
//!   listener entry matches only our own addresses.  Every TCP segment whose headers and checksums are
//!   good and that is a SYN candidate (SYN, no ACK/RST/FIN) or an ACK
//!   candidate (ACK, no SYN/RST) is looked up in the [`ListenTable`] by its
//!   destination; ACK candidates also enter [`AckCheck`].  A SYN
//!   candidate's addresses, ports, MACs and ISN are queued (`sfifo`) until
//!   its options are known.
//! * **P + 12 (late tap, the option walker's output)**: for a SYN candidate
//!   the queue is popped; when its listener has offload on, setup is
//!   enabled and the current key slot is valid, the SYN is answered (and
//!   consumed: the verdict's `consume` at P + 14).
//! * **P + 13**: the answered SYN, registered with its options, the clocks
//!   and the key slot of P + 12, enters [`SynAckGen`] (the register keeps
//!   the decision out of the generator's first SipHash round).  An ACK
//!   candidate to an offloaded listener whose cookie [`AckCheck`] validates
//!   (and whose options parsed) becomes an "established" completion: the
//!   verdict at P + 14 sets its kind and the negotiated options (the MSS of
//!   the cookie's class; the client's window scale and SACK-permitted from
//!   the TSecr it echoes, `toe_contract::setup`).  Other ACK candidates to
//!   an offloaded listener are counted `SetupAckNotCookie` and delivered as
//!   they are.
//! * **P + 25**: the SYN-ACK's fields and the SYN's MACs (queued in
//!   `mfifo` at P + 13) form a record for the TX queue (`qfifo`); when it is
//!   full the SYN is dropped and counted (the client retransmits it).
//!
//! **Established-tuple filter.**  `EST_FILTER_BITS` one-bit entries in block
//! RAM, indexed by the top 16 bits of the segment's Toeplitz hash (read at
//! P + 1, known at P + 2).  The host sets a bit while it holds a connection
//! whose tuple maps to it.  A SYN to an offloaded listener whose bit is set
//! is not answered but delivered to the host (RFC 5961 4: a SYN for a
//! synchronized connection must draw a challenge ACK, which only the host
//! can send), and so are SYNs whose MSS is below every MSS-table entry;
//! these are counted `SetupSynToHost`.  A SYN whose options do not parse
//! (an option length below 2 or past the header) is answered with the
//! options parsed before the bad one, as Linux's `tcp_parse_options` does.  SYNs
//! failing the address checks are consumed and counted `SetupSynMartian`.
use super::ack::AckCheck;
use super::listen::ListenTable;
use super::regs::SetupCfgIn;
use super::synack::SynAckGen;
use crate::common::ctl_frame_tx::REC_BITS;
use crate::common::stream::FifoOut;
use crate::rx::event::{RxEventIn, RxVerdict};
use rust_hdl::prelude::*;
use toe_contract::setup::KIND_ESTABLISHED;

// The kernel writes the "established" kind as a literal.
const _: () = assert!(KIND_ESTABLISHED == 2);

crate::declare_clear_fifo!(SynFifo, Bits<224>, 32, 1);
crate::declare_clear_fifo!(MacFifo, Bits<96>, 32, 1);
crate::declare_clear_fifo!(RecFifo, Bits<368>, 16, 1);

#[derive(LogicBlock, Default)]
pub struct SetupRx {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// The setup block's configuration (`SetupRegs`), and state back.
    pub cfg: SetupCfgIn,
    /// The RX path's parsed-header event bus (`RxPath::ev`).
    pub ev: RxEventIn,
    /// The verdict on each segment, P + 14 (`RxPath::verdict[SLOT_SETUP]`).
    pub verdict: RxVerdict,
    /// The SYN-ACK records, to the record arbiter.
    pub q: FifoOut<REC_BITS>,
    /// Counter pulses: SYN-ACK queued, SYN dropped (queue full).
    pub cnt_synack: Signal<Out, Bit>,
    pub cnt_syn_drop: Signal<Out, Bit>,
    /// Counter pulses: SYN dropped as not for us, SYN left to the host.
    pub cnt_syn_martian: Signal<Out, Bit>,
    pub cnt_syn_to_host: Signal<Out, Bit>,
    /// Counter pulses: ACK delivered as "established"; ACK to an offloaded
    /// listener that is not a valid cookie.
    pub cnt_est: Signal<Out, Bit>,
    pub cnt_not_cookie: Signal<Out, Bit>,
    lt: ListenTable,
    ack: AckCheck,
    gen: SynAckGen,
    sfifo: SynFifo,
    mfifo: MacFifo,
    qfifo: RecFifo,
    /// Listener hit with offload, delayed: stage i holds P + 3 + i.
    hd: [DFF<Bit>; 11],
    /// The segment at the early tap is not for this host: stage i holds
    /// P + 1 + i.
    martian_d: [DFF<Bit>; 13],
    /// Its destination is one of our addresses: stage i holds P + 1 + i.
    dst_local_d: [DFF<Bit>; 2],
    /// Established-tuple filter: one bit per hash value.
    est_filter: RAM<Bit, 16>,
    /// Filter bit of the early tap's tuple: stage i holds P + 3 + i.
    est_d: [DFF<Bit>; 10],
    /// Clear-all sweep: bit 16 running, bits 15:0 the next index.
    ef_sweep: DFF<Bits<17>>,
    /// Every MSS table entry is above 536 (the client MSS without the
    /// option): registered from the configuration, off the SYN's path.
    default_mss_low: DFF<Bit>,
    /// The answered SYN, registered on its way into the SYN-ACK generator
    /// (one cycle after the late tap; cuts the decision out of the
    /// generator's first SipHash round).
    gen_valid: DFF<Bit>,
    /// Its FIFO word: tuple (223:128), ISN (127:96), MACs (95:0).
    gen_syn: DFF<Bits<224>>,
    gen_mss: DFF<Bits<16>>,
    /// The SYN carried an MSS option (computed before the register: the
    /// generator's MSS class is its deepest logic).
    gen_mss_present: DFF<Bit>,
    gen_ws: DFF<Bits<8>>,
    gen_sackp: DFF<Bit>,
    gen_ts: DFF<Bit>,
    gen_tsval: DFF<Bits<32>>,
    /// Clocks and key slot sampled with the SYN, as the generator saw them.
    gen_cookie_t: DFF<Bits<32>>,
    gen_ts_now: DFF<Bits<32>>,
    gen_slot: DFF<Bit>,
    /// The late record, registered (P + 13): the SYN consumed (answered or
    /// dropped); an ACK candidate, its options bad, timestamps present and
    /// the TSecr's low five bits (window scale and SACK-permitted, as the
    /// SYN-ACK encoded them).
    consumed_d: DFF<Bit>,
    ack_d: DFF<Bit>,
    optbad_d: DFF<Bit>,
    ts_d: DFF<Bit>,
    tsecr_d: DFF<Bits<5>>,
    /// The verdict (P + 14).
    v_consume: DFF<Bit>,
    v_est: DFF<Bit>,
    v_mss: DFF<Bits<16>>,
    v_ws: DFF<Bits<8>>,
    v_sackp: DFF<Bit>,
    /// SYN and ACK candidates at the early record, and at the late one.
    e_syn: Signal<Local, Bit>,
    e_ack: Signal<Local, Bit>,
    l_syn: Signal<Local, Bit>,
    /// P + 13: an ACK candidate to an offloaded listener with setup on.
    ack_hit: Signal<Local, Bit>,
    est: Signal<Local, Bit>,
    ecr_ws: Signal<Local, Bits<8>>,
    src_ip: Signal<Local, Bits<32>>,
    dst_ip: Signal<Local, Bits<32>>,
    martian: Signal<Local, Bit>,
    dst_local: Signal<Local, Bit>,
    /// The client's MSS (536 without the option) is below every table entry.
    mss_low: Signal<Local, Bit>,
    /// A SYN candidate to an offloaded listener at the late tap.
    syn_base: Signal<Local, Bit>,
    syn_drop: Signal<Local, Bit>,
    answer: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
}

impl Logic for SetupRx {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, lt, ack, gen, sfifo, mfifo, qfifo);
        dff_setup!(
            self,
            clock,
            default_mss_low,
            gen_valid,
            gen_syn,
            gen_mss,
            gen_mss_present,
            gen_ws,
            gen_sackp,
            gen_ts,
            gen_tsval,
            gen_cookie_t,
            gen_ts_now,
            gen_slot,
            consumed_d,
            ack_d,
            optbad_d,
            ts_d,
            tsecr_d,
            v_consume,
            v_est,
            v_mss,
            v_ws,
            v_sackp
        );
        for i in 0..11 {
            self.hd[i].clock.next = self.clock.val();
        }
        for i in 0..13 {
            self.martian_d[i].clock.next = self.clock.val();
        }
        for i in 0..2 {
            self.dst_local_d[i].clock.next = self.clock.val();
        }
        for i in 0..10 {
            self.est_d[i].clock.next = self.clock.val();
        }
        self.ef_sweep.clock.next = self.clock.val();
        self.est_filter.read_clock.next = self.clock.val();
        self.est_filter.write_clock.next = self.clock.val();
        // ------------------------------------------------------ candidates
        // SYN: SYN without ACK/RST/FIN.  ACK: ACK without SYN/RST.
        self.e_syn.next = self.ev.e_valid.val() && ((self.ev.e_flags.val() & 0x17) == 0x02);
        self.e_ack.next = self.ev.e_valid.val() && ((self.ev.e_flags.val() & 0x16) == 0x10);
        self.l_syn.next = self.ev.l_valid.val() && ((self.ev.l_flags.val() & 0x17) == 0x02);
        // ------------------------------------------------------ ownership
        self.src_ip.next = bit_cast::<32, 96>(self.ev.e_tuple.val() >> 64);
        self.dst_ip.next = bit_cast::<32, 96>(self.ev.e_tuple.val() >> 32);
        self.martian.next = false;
        self.dst_local.next = false;
        if self.e_syn.val() || self.e_ack.val() {
            self.martian.next = (bit_cast::<48, 96>(self.ev.e_macs.val() >> 48)
                != self.cfg.local_mac.val())
                || ((self.src_ip.val() >> 24) == 0)
                || ((self.src_ip.val() >> 24) == 127)
                || ((self.src_ip.val() >> 24) >= 224)
                || ((self.dst_ip.val() >> 24) == 0)
                || ((self.dst_ip.val() >> 24) == 127)
                || ((self.dst_ip.val() >> 24) >= 224)
                || (self.src_ip.val() == self.dst_ip.val())
                || (self.src_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val()))
                || (self.src_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 32))
                || (self.src_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 64))
                || (self.src_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 96));
            self.dst_local.next = (self.dst_ip.val()
                == bit_cast::<32, 128>(self.cfg.local_ips.val()))
                || (self.dst_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 32))
                || (self.dst_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 64))
                || (self.dst_ip.val() == bit_cast::<32, 128>(self.cfg.local_ips.val() >> 96));
        }
        self.martian_d[0].d.next = self.martian.val();
        for i in 1..13 {
            self.martian_d[i].d.next = self.martian_d[i - 1].q.val();
        }
        self.dst_local_d[0].d.next = self.dst_local.val();
        self.dst_local_d[1].d.next = self.dst_local_d[0].q.val();
        // ------------------------------------------------------ tuple filter
        // Read at P + 1 with the hash, the bit at P + 2.
        self.est_filter.read_address.next = bit_cast::<16, 32>(self.ev.e_hash.val() >> 16);
        self.est_d[0].d.next = self.est_filter.read_data.val();
        for i in 1..10 {
            self.est_d[i].d.next = self.est_d[i - 1].q.val();
        }
        self.ef_sweep.d.next = self.ef_sweep.q.val();
        self.est_filter.write_enable.next = self.cfg.ef_wr_en.val();
        self.est_filter.write_address.next = self.cfg.ef_wr_index.val();
        self.est_filter.write_data.next = self.cfg.ef_wr_value.val();
        if self.ef_sweep.q.val().get_bit(16) {
            self.est_filter.write_enable.next = true;
            self.est_filter.write_address.next = bit_cast::<16, 17>(self.ef_sweep.q.val());
            self.est_filter.write_data.next = false;
            self.ef_sweep.d.next = self.ef_sweep.q.val() + 1;
        }
        if self.cfg.ef_clear.val() {
            self.ef_sweep.d.next = 0x10000.into();
        }
        self.cfg.ef_clearing.next = self.ef_sweep.q.val().get_bit(16);
        self.lt.rst.next = self.rst.val();
        self.ack.rst.next = self.rst.val();
        self.gen.rst.next = self.rst.val();
        self.sfifo.clear.next = self.rst.val();
        self.mfifo.clear.next = self.rst.val();
        self.qfifo.clear.next = self.rst.val();
        // ------------------------------------------------------ listeners
        self.lt.wr_en.next = self.cfg.lt_wr_en.val();
        self.lt.wr_index.next = self.cfg.lt_index.val();
        self.lt.wr_valid.next = self.cfg.lt_wr_valid.val();
        self.lt.wr_any_ip.next = self.cfg.lt_wr_any_ip.val();
        self.lt.wr_ip.next = self.cfg.lt_wr_ip.val();
        self.lt.wr_port.next = self.cfg.lt_wr_port.val();
        self.lt.wr_offload.next = self.cfg.lt_wr_offload.val();
        self.lt.rd_index.next = self.cfg.lt_index.val();
        self.lt.rd_en.next = self.cfg.lt_rd_en.val();
        self.cfg.lt_rd_valid.next = self.lt.rd_valid.val();
        self.cfg.lt_rd_any_ip.next = self.lt.rd_any_ip.val();
        self.cfg.lt_rd_ip.next = self.lt.rd_ip.val();
        self.cfg.lt_rd_port.next = self.lt.rd_port.val();
        self.cfg.lt_rd_offload.next = self.lt.rd_offload.val();
        self.lt.in_valid.next = self.e_syn.val() || self.e_ack.val();
        self.lt.in_ip.next = bit_cast::<32, 96>(self.ev.e_tuple.val() >> 32);
        self.lt.in_port.next = bit_cast::<16, 96>(self.ev.e_tuple.val());
        self.lt.in_tag.next = 0.into();
        // An any-IP entry answers only for our own addresses.
        self.hd[0].d.next = self.lt.out_valid.val()
            && self.lt.out_hit.val()
            && self.lt.out_offload.val()
            && (self.lt.out_exact.val() || self.dst_local_d[1].q.val());
        for i in 1..11 {
            self.hd[i].d.next = self.hd[i - 1].q.val();
        }
        // ------------------------------------------------------ ACKs
        self.ack.in_valid.next = self.e_ack.val();
        self.ack.in_cip.next = bit_cast::<32, 96>(self.ev.e_tuple.val() >> 64);
        self.ack.in_sip.next = bit_cast::<32, 96>(self.ev.e_tuple.val() >> 32);
        self.ack.in_cport.next = bit_cast::<16, 96>(self.ev.e_tuple.val() >> 16);
        self.ack.in_sport.next = bit_cast::<16, 96>(self.ev.e_tuple.val());
        self.ack.in_seq.next = self.ev.e_seq.val();
        self.ack.in_ack.next = self.ev.e_ackn.val();
        self.ack.in_tag.next = 0.into();
        self.ack.now.next = self.cfg.cookie_t.val();
        self.ack.max_age.next = self.cfg.max_age.val();
        self.ack.key_valid.next = self.cfg.key_valid.val();
        self.ack.key0_lo.next = self.cfg.key0_lo.val();
        self.ack.key0_hi.next = self.cfg.key0_hi.val();
        self.ack.key1_lo.next = self.cfg.key1_lo.val();
        self.ack.key1_hi.next = self.cfg.key1_hi.val();
        self.ack.mss_table.next = self.cfg.mss_table.val();
        // P + 13: the verdict on an ACK candidate (`ack.out_*` and the
        // delay lines are at P + 13).
        self.ack_d.d.next = self.ev.l_valid.val() && ((self.ev.l_flags.val() & 0x16) == 0x10);
        self.optbad_d.d.next = self.ev.l_optbad.val();
        self.ts_d.d.next = self.ev.l_ts.val();
        self.tsecr_d.d.next = bit_cast::<5, 32>(self.ev.l_tsecr.val());
        self.ack_hit.next = self.ack_d.q.val()
            && self.hd[10].q.val()
            && self.cfg.enable.val()
            && !self.martian_d[12].q.val();
        self.est.next = self.ack_hit.val() && self.ack.out_ok.val() && !self.optbad_d.q.val();
        self.cnt_est.next = self.est.val();
        self.cnt_not_cookie.next = self.ack_hit.val() && !self.est.val();
        // The negotiated window scale (present, shift) and SACK-permitted,
        // from the TSecr the final ACK echoes (shift 15: none).
        self.ecr_ws.next = 0.into();
        if self.ts_d.q.val() && ((self.tsecr_d.q.val() & 0xF) < 15) {
            self.ecr_ws.next = bit_cast::<8, 5>(self.tsecr_d.q.val() & 0xF) | 0x80;
        }
        self.v_est.d.next = self.est.val();
        self.v_mss.d.next = self.ack.out_mss.val();
        self.v_ws.d.next = self.ecr_ws.val();
        self.v_sackp.d.next = self.ts_d.q.val() && self.tsecr_d.q.val().get_bit(4);
        // ------------------------------------------------------ SYNs
        // Early: tuple (223:128), ISN (127:96), MACs (95:0).
        self.sfifo.write.next = self.e_syn.val();
        // FIFO words are only assembled when written (simulation time).
        self.sfifo.data_in.next = 0.into();
        if self.e_syn.val() {
            self.sfifo.data_in.next = (bit_cast::<224, 96>(self.ev.e_tuple.val()) << 128)
                | (bit_cast::<224, 32>(self.ev.e_seq.val()) << 96)
                | bit_cast::<224, 96>(self.ev.e_macs.val());
        }
        self.sfifo.read.next = self.l_syn.val();
        // The client's MSS (536 without the option) below every table entry:
        // one comparison per entry against the option's value, the no-option
        // case from a register.
        self.default_mss_low.d.next = (bit_cast::<16, 64>(self.cfg.mss_table.val()) > 536)
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 16) > 536)
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 32) > 536)
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 48) > 536);
        self.mss_low.next = (bit_cast::<16, 64>(self.cfg.mss_table.val()) > self.ev.l_mss.val())
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 16) > self.ev.l_mss.val())
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 32) > self.ev.l_mss.val())
            && (bit_cast::<16, 64>(self.cfg.mss_table.val() >> 48) > self.ev.l_mss.val());
        if self.ev.l_mss.val() == 0 {
            self.mss_low.next = self.default_mss_low.q.val();
        }
        self.syn_base.next = self.l_syn.val() && self.hd[9].q.val() && self.cfg.enable.val();
        self.syn_drop.next = self.syn_base.val() && self.martian_d[11].q.val();
        self.answer.next = self.syn_base.val()
            && !self.martian_d[11].q.val()
            && !self.est_d[9].q.val()
            && !self.mss_low.val()
            && ((!self.cfg.slot.val() && self.cfg.key_valid.val().get_bit(0))
                || (self.cfg.slot.val() && self.cfg.key_valid.val().get_bit(1)));
        // Answered or dropped: either way not delivered (the verdict two
        // cycles later).
        self.consumed_d.d.next = self.answer.val() || self.syn_drop.val();
        self.v_consume.d.next = self.consumed_d.q.val();
        self.verdict.consume.next = self.v_consume.q.val();
        self.verdict.kind_valid.next = self.v_est.q.val();
        self.verdict.kind.next = 0.into();
        self.verdict.opts_valid.next = self.v_est.q.val();
        self.verdict.mss.next = 0.into();
        self.verdict.ws.next = 0.into();
        self.verdict.sackp.next = false;
        if self.v_est.q.val() {
            self.verdict.kind.next = 2.into();
            self.verdict.mss.next = self.v_mss.q.val();
            self.verdict.ws.next = self.v_ws.q.val();
            self.verdict.sackp.next = self.v_sackp.q.val();
        }
        self.cnt_syn_martian.next = self.syn_drop.val();
        self.cnt_syn_to_host.next =
            self.syn_base.val() && !self.syn_drop.val() && !self.answer.val();
        // Into the generator a cycle later, everything it takes registered.
        self.gen_valid.d.next = self.answer.val();
        self.gen_syn.d.next = self.sfifo.data_out.val();
        self.gen_mss.d.next = self.ev.l_mss.val();
        self.gen_mss_present.d.next = self.ev.l_mss.val() != 0;
        self.gen_ws.d.next = self.ev.l_ws.val();
        self.gen_sackp.d.next = self.ev.l_sackp.val();
        self.gen_ts.d.next = self.ev.l_ts.val();
        self.gen_tsval.d.next = self.ev.l_tsval.val();
        self.gen_cookie_t.d.next = self.cfg.cookie_t.val();
        self.gen_ts_now.d.next = self.cfg.ts_now.val();
        self.gen_slot.d.next = self.cfg.slot.val();
        self.gen.in_valid.next = self.gen_valid.q.val();
        self.gen.in_cip.next = bit_cast::<32, 224>(self.gen_syn.q.val() >> 192);
        self.gen.in_sip.next = bit_cast::<32, 224>(self.gen_syn.q.val() >> 160);
        self.gen.in_cport.next = bit_cast::<16, 224>(self.gen_syn.q.val() >> 144);
        self.gen.in_sport.next = bit_cast::<16, 224>(self.gen_syn.q.val() >> 128);
        self.gen.in_isn.next = bit_cast::<32, 224>(self.gen_syn.q.val() >> 96);
        self.gen.in_mss_present.next = self.gen_mss_present.q.val();
        self.gen.in_mss.next = self.gen_mss.q.val();
        self.gen.in_ws_present.next = self.gen_ws.q.val().get_bit(7);
        self.gen.in_ws.next = self.gen_ws.q.val() & 0xF;
        self.gen.in_sackp.next = self.gen_sackp.q.val();
        self.gen.in_ts_present.next = self.gen_ts.q.val();
        self.gen.in_tsval.next = self.gen_tsval.q.val();
        self.gen.in_tag.next = 0.into();
        self.gen.cookie_t.next = self.gen_cookie_t.q.val();
        self.gen.ts_now.next = self.gen_ts_now.q.val();
        self.gen.key_slot.next = self.gen_slot.q.val();
        self.gen.k0.next = self.cfg.key0_lo.val();
        self.gen.k1.next = self.cfg.key0_hi.val();
        if self.gen_slot.q.val() {
            self.gen.k0.next = self.cfg.key1_lo.val();
            self.gen.k1.next = self.cfg.key1_hi.val();
        }
        self.gen.mss_table.next = self.cfg.mss_table.val();
        self.gen.our_mss.next = self.cfg.our_mss.val();
        self.gen.our_ws.next = self.cfg.our_ws.val();
        self.gen.our_window.next = self.cfg.our_window.val();
        self.mfifo.write.next = self.gen_valid.q.val();
        self.mfifo.data_in.next = bit_cast::<96, 224>(self.gen_syn.q.val());
        self.mfifo.read.next = self.gen.out_valid.val();
        // ------------------------------------------------------ the record
        self.push.next = self.gen.out_valid.val() && !self.qfifo.full.val();
        self.qfifo.write.next = self.push.val();
        self.qfifo.data_in.next = 0.into();
        if self.gen.out_valid.val() {
            // The SYN's MACs are the record's: client (its source) in 47:0, ours in 95:48.
            self.qfifo.data_in.next = bit_cast::<368, 96>(self.mfifo.data_out.val())
                | (bit_cast::<368, 32>(self.gen.out_src_ip.val()) << 96)
                | (bit_cast::<368, 32>(self.gen.out_dst_ip.val()) << 128)
                | (bit_cast::<368, 16>(self.gen.out_src_port.val()) << 160)
                | (bit_cast::<368, 16>(self.gen.out_dst_port.val()) << 176)
                | (bit_cast::<368, 32>(self.gen.out_seq.val()) << 192)
                | (bit_cast::<368, 32>(self.gen.out_ack.val()) << 224)
                | (bit_cast::<368, 16>(self.gen.out_window.val()) << 256)
                | (bit_cast::<368, 16>(self.gen.out_mss.val()) << 272)
                | (bit_cast::<368, 1>(self.gen.out_ws_present.val().into()) << 288)
                | (bit_cast::<368, 4>(self.gen.out_ws.val()) << 289)
                | (bit_cast::<368, 1>(self.gen.out_sackp.val().into()) << 293)
                | (bit_cast::<368, 1>(self.gen.out_ts_present.val().into()) << 294)
                | (bit_cast::<368, 32>(self.gen.out_tsval.val()) << 295)
                | (bit_cast::<368, 32>(self.gen.out_tsecr.val()) << 327)
                // flags SYN|ACK, MSS option present
                | (bit_cast::<368, 8>(0x12.into()) << 359)
                | (bit_cast::<368, 1>(true.into()) << 367);
        }
        self.cnt_synack.next = self.push.val();
        self.cnt_syn_drop.next = self.gen.out_valid.val() && self.qfifo.full.val();
        self.q.empty.next = self.qfifo.empty.val();
        self.q.data.next = self.qfifo.data_out.val();
        self.qfifo.read.next = self.q.pop.val();
        if self.rst.val() {
            for i in 0..11 {
                self.hd[i].d.next = false;
            }
            for i in 0..13 {
                self.martian_d[i].d.next = false;
            }
            for i in 0..2 {
                self.dst_local_d[i].d.next = false;
            }
            for i in 0..10 {
                self.est_d[i].d.next = false;
            }
            self.ef_sweep.d.next = 0.into();
            self.gen_valid.d.next = false;
            self.consumed_d.d.next = false;
            self.ack_d.d.next = false;
            self.v_consume.d.next = false;
            self.v_est.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_rx_generates_verilog() {
        let mut uut = SetupRx::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
