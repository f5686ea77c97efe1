//! The teardown engine: the closing connections the host handed over, in
//! the shared connection table, with their segment processing, timers,
//! TIME-WAIT recycling and completion events (issue 17, docs/teardown.md).
//! The reference model is `toe_model::teardown::Teardown`; the engine
//! follows it decision for decision, with the differences listed at the
//! end.
//!
//! ## Where things are
//!
//! * The connection table ([`ConnTable`]) maps a 4-tuple (received-segment
//!   order, `toe_contract::teardown` key) to a *slot*, `S` bits.  A slot
//!   indexes a word RAM (`toe_contract::teardown::Entry` packed, bits
//!   509:0; the key 605:510; the TIME-WAIT stamp 637:606) and the timer RAM
//!   of [`TimerSweep`].  Slots come from a counter of never-used slots,
//!   then from a FIFO of freed ones.
//! * **Fast path** (every segment, one per cycle, no backpressure): the
//!   tuple is looked up (the table's lookup port), the slot's word read on
//!   the word RAM's port A, and the verdict comes [`SEG_VERDICT_LATENCY`]
//!   cycles after the segment: `vd_consume` for every segment of a held
//!   tuple except a TIME-WAIT SYN that RFC 6191 accepts (that one goes on
//!   to the setup offload or the host).  Held segments go into a FIFO for
//!   the engine (16 deep; a full FIFO drops the segment after consuming it,
//!   counted in `seg_overflow`: the peer retransmits, as after a loss).
//! * **Engine** (one job at a time, so every change of an entry is ordered;
//!   priority: hand-over, then timer fire, then segment): reads the slot's
//!   word on port B, decides ([`TeardownDecide`] for a segment, the timer
//!   rules for a fire, the record for a hand-over), sends at most one
//!   reply (the `rp_*` record stream), then removes the entry (table
//!   DELETE, slot freed, timer disarmed, event on `ev_*`) or writes it
//!   back (word, timer).
//! * **TIME-WAIT order**: entering TIME-WAIT pushes (slot, stamp) on a FIFO
//!   of 2^S; the oldest live TIME-WAIT entry is the first element whose
//!   slot is still in TIME-WAIT with the same stamp (stale elements are
//!   popped on the way).  Recycling happens when a hand-over finds no free
//!   slot, when TIME-WAIT entries exceed `max_tw`, and when the FIFO is
//!   full.
//!
//! ## Differences from the model
//!
//! * Hand-overs with kept data (`SND.UNA` before the FIN) fall back to the
//!   host (`Fallback` event, counted): retransmitting data needs the DMA
//!   re-read of the host buffer, not built yet.
//! * A segment the fast path and the engine see differently (the entry
//!   changed between the lookup and the engine's read, within a few tens of
//!   cycles) is dropped by the engine: a TIME-WAIT SYN passed on that the
//!   engine would refuse, or one consumed that it would accept, and a
//!   segment whose slot was freed or reused meanwhile.
//! * Timers fire in the tick of their deadline as long as the engine keeps
//!   up with the fires (a full fire queue delays them, never loses them).
use super::decide::TeardownDecide;
use super::timer_sweep::TimerSweep;
use crate::common::conn_table::ConnTable;
use crate::common::dual_port_ram::DualPortRam;
use crate::common::fifo::ClearFifo;
use rust_hdl::prelude::*;

/// Cycles from a segment on `sg_*` to its verdict on `vd_*`.
pub const SEG_VERDICT_LATENCY: usize = crate::common::conn_table::CONN_LOOKUP_LATENCY + 6;

/// Slot word: the entry (509:0), the key (605:510), the TIME-WAIT stamp
/// (637:606).
pub const WORD_BITS: usize = 638;
/// A hand-over record: one 512-bit beat, byte i at bits 8i+7:8i.
pub const RECORD_BITS: usize = 512;
/// Segment fields through the fast path: flags 7:0, seq 39:8, ack 71:40,
/// window 87:72, payload length 103:88, ts 104, tsval 136:105, tuple
/// 232:137.
const SEGF_BITS: usize = 233;
/// A held segment for the engine: the fields (232:0), "passed on" (233),
/// the slot (234 and up).
const JOB_BITS_EXTRA: usize = 1;

/// Reply codes on `rp_kind` (what the frame is; the fields say the rest).
pub const RP_ACK: u64 = 1;
pub const RP_CHALLENGE_ACK: u64 = 2;
pub const RP_RST_AT_ACK: u64 = 3;
pub const RP_FROM_UNA: u64 = 4;
pub const RP_FIN: u64 = 5;
pub const RP_RST_ACK: u64 = 6;

/// `cnt_inc` bit = `toe_contract::teardown::TdCounter` index; bit 14 is a
/// segment dropped because the engine's segment FIFO was full.
pub const CNT_BITS: usize = 15;

/// 16-deep queues of the fast path and the engine's outputs.
type SegFifo = ClearFifo<Bits<SEGF_BITS>, 5, 6, 1>;

#[derive(LogicBlock, Default)]
pub struct TeardownEngine<
    const B: usize,
    const S: usize,
    const SP1: usize,
    const JB: usize,
    const TWB: usize,
> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // Configuration (`TD_*` registers) and the tick.
    pub enable: Signal<In, Bit>,
    pub tw_ticks: Signal<In, Bits<32>>,
    pub fin_timeout: Signal<In, Bits<32>>,
    pub retries_default: Signal<In, Bits<4>>,
    pub max_tw: Signal<In, Bits<SP1>>,
    pub now: Signal<In, Bits<32>>,
    pub hash_k0: Signal<In, Bits<64>>,
    pub hash_k1: Signal<In, Bits<64>>,
    // Received segments (every good TCP segment; no backpressure).
    pub sg_valid: Signal<In, Bit>,
    pub sg_tuple: Signal<In, Bits<96>>,
    pub sg_flags: Signal<In, Bits<8>>,
    pub sg_seq: Signal<In, Bits<32>>,
    pub sg_ack: Signal<In, Bits<32>>,
    pub sg_window: Signal<In, Bits<16>>,
    pub sg_plen: Signal<In, Bits<16>>,
    pub sg_ts: Signal<In, Bit>,
    pub sg_tsval: Signal<In, Bits<32>>,
    /// The verdict, `SEG_VERDICT_LATENCY` cycles after the segment.
    pub vd_valid: Signal<Out, Bit>,
    pub vd_consume: Signal<Out, Bit>,
    // Hand-overs: the record, its queue and the descriptor's length.
    pub ho_valid: Signal<In, Bit>,
    pub ho_ready: Signal<Out, Bit>,
    pub ho_record: Signal<In, Bits<RECORD_BITS>>,
    pub ho_queue: Signal<In, Bits<2>>,
    pub ho_len: Signal<In, Bits<16>>,
    /// A record that breaks a limit (`HandOverError`): nothing kept, no
    /// event (the TX path reports the bad descriptor).
    pub ho_rejected: Signal<Out, Bit>,
    // Replies (one frame each, for the control-frame builder).
    pub rp_valid: Signal<Out, Bit>,
    pub rp_ready: Signal<In, Bit>,
    pub rp_kind: Signal<Out, Bits<3>>,
    /// The entry's key (peer address, our address, peer port, our port).
    pub rp_key: Signal<Out, Bits<96>>,
    /// Peer MAC 95:48 (the destination), our MAC 47:0.
    pub rp_macs: Signal<Out, Bits<96>>,
    pub rp_flags: Signal<Out, Bits<8>>,
    pub rp_seq: Signal<Out, Bits<32>>,
    pub rp_ack: Signal<Out, Bits<32>>,
    pub rp_window: Signal<Out, Bits<16>>,
    pub rp_ts: Signal<Out, Bit>,
    pub rp_tsval: Signal<Out, Bits<32>>,
    pub rp_tsecr: Signal<Out, Bits<32>>,
    // Completion events.
    pub ev_valid: Signal<Out, Bit>,
    pub ev_ready: Signal<In, Bit>,
    pub ev_queue: Signal<Out, Bits<2>>,
    pub ev_reason: Signal<Out, Bits<3>>,
    pub ev_state: Signal<Out, Bits<3>>,
    pub ev_retries: Signal<Out, Bits<4>>,
    pub ev_duration: Signal<Out, Bits<32>>,
    pub ev_tag: Signal<Out, Bits<32>>,
    /// Counter increments this cycle (`CNT_BITS`).
    pub cnt_inc: Signal<Out, Bits<CNT_BITS>>,
    /// Entries held, of which in TIME-WAIT.
    pub entries: Signal<Out, Bits<SP1>>,
    pub tw_entries: Signal<Out, Bits<SP1>>,
    /// The table and the timer RAM are being cleared after a reset.
    pub clearing: Signal<Out, Bit>,

    conn_table: ConnTable<B, S>,
    words: DualPortRam<Bits<WORD_BITS>, S>,
    timers: TimerSweep<S>,
    decide: TeardownDecide,
    free_slots: ClearFifo<Bits<S>, S, SP1, 1>,
    /// (slot, stamp): `TWB` = S + 32.
    tw_order: ClearFifo<Bits<TWB>, S, SP1, 1>,
    seg_fifo: SegFifo,
    jobs: ClearFifo<Bits<JB>, 4, 5, 2>,
    replies: ClearFifo<Bits<380>, 2, 3, 1>,
    events: ClearFifo<Bits<76>, 2, 3, 1>,

    // ------------------------------------------------------ fast path
    f0_valid: DFF<Bit>,
    f0_fields: DFF<Bits<SEGF_BITS>>,
    f1_valid: DFF<Bit>,
    f1_hit: DFF<Bit>,
    f1_slot: DFF<Bits<S>>,
    f1_fields: DFF<Bits<SEGF_BITS>>,
    f2_valid: DFF<Bit>,
    f2_hit: DFF<Bit>,
    f2_slot: DFF<Bits<S>>,
    f2_fields: DFF<Bits<SEGF_BITS>>,
    f3_valid: DFF<Bit>,
    f3_hit: DFF<Bit>,
    f3_slot: DFF<Bits<S>>,
    f3_fields: DFF<Bits<SEGF_BITS>>,
    /// The word's TIME-WAIT SYN inputs: state TIME-WAIT, timestamps on,
    /// TS.Recent, RCV.NXT.
    f3_tw: DFF<Bit>,
    f3_ts_on: DFF<Bit>,
    f3_ts_recent: DFF<Bits<32>>,
    f3_rcv_nxt: DFF<Bits<32>>,
    f4_valid: DFF<Bit>,
    f4_hit: DFF<Bit>,
    f4_slot: DFF<Bits<S>>,
    f4_fields: DFF<Bits<SEGF_BITS>>,
    f4_tw_syn: DFF<Bit>,
    f4_ts_ok: DFF<Bit>,
    f4_tsr_lt_tsv: DFF<Bit>,
    f4_rcv_lt_seq: DFF<Bit>,
    f5_valid: DFF<Bit>,
    f5_consume: DFF<Bit>,
    f5_push: DFF<Bit>,
    f5_job: DFF<Bits<JB>>,
    seg_overflow: DFF<Bit>,

    // ------------------------------------------------------ engine
    /// 0 IDLE, 1 RD_ADDR, 2 RD_LATCH, 3 SEG_CHECK, 4 SEG_WAIT, 5
    /// FIRE_CHECK, 6 FIRE_CAP, 7 REPLY, 8 DEL_CMD, 9 DEL_RSP, 10 REMOVE,
    /// 11 WRITE, 12 TW_PUSH, 13 TW_LIMIT, 14 HO_CHECK, 15 HO_READ_CMD,
    /// 16 HO_READ_RSP, 17 HO_ALLOC, 18 HO_INS_CMD, 19 HO_INS_RSP, 20
    /// HO_WRITE, 21 FALLBACK, 22 RC_POP, 23 RC_WAIT, 24 RC_CHECK.
    state: DFF<Bits<5>>,
    /// 0 segment, 1 fire, 2 recycle, 3 the TIME-WAIT push again: what the
    /// word read is for.
    mode: DFF<Bits<2>>,
    /// Where a recycle returns: 0 IDLE, 1 HO_ALLOC, 2 HO_INS_CMD (retry),
    /// 3 TW_PUSH, 4 TW_LIMIT.
    ret: DFF<Bits<3>>,
    /// The insert was retried once after a recycle.
    retried: DFF<Bit>,
    /// The recycle found nothing to recycle.
    rc_none: DFF<Bit>,
    job_slot: DFF<Bits<S>>,
    job_seg: DFF<Bits<SEGF_BITS>>,
    job_passed: DFF<Bit>,
    rc_stamp: DFF<Bits<32>>,
    /// The slot a TIME-WAIT push was for, while a recycle makes room.
    home_slot: DFF<Bits<S>>,
    /// The slot's word being worked on.
    word: DFF<Bits<WORD_BITS>>,
    wait_count: DFF<Bits<4>>,
    /// What to do: reply code, remove (reason), write (timer set, deadline).
    act_reply: DFF<Bits<3>>,
    act_remove: DFF<Bit>,
    act_reason: DFF<Bits<3>>,
    act_timer: DFF<Bit>,
    act_deadline: DFF<Bits<32>>,
    /// The word was in TIME-WAIT when read (for the count), and enters it.
    was_tw: DFF<Bit>,
    enters_tw: DFF<Bit>,
    backoff: DFF<Bits<32>>,
    /// The segment ACK (RST <SEQ=SEG.ACK>).
    seg_ack: DFF<Bits<32>>,
    // Hand-over
    ho_rec: DFF<Bits<RECORD_BITS>>,
    ho_q: DFF<Bits<2>>,
    ho_length: DFF<Bits<16>>,
    ho_key: DFF<Bits<96>>,
    ho_slot: DFF<Bits<S>>,
    ho_have_slot: DFF<Bit>,
    // Slots and counts
    /// The next never-used slot, and "all used once".
    fresh: DFF<Bits<S>>,
    fresh_done: DFF<Bit>,
    live: DFF<Bits<SP1>>,
    tw_live: DFF<Bits<SP1>>,
    tw_stamp: DFF<Bits<32>>,
    cnt: DFF<Bits<CNT_BITS>>,
    // Scratch
    seg_flags: Signal<Local, Bits<8>>,
    seg_seq: Signal<Local, Bits<32>>,
    f_diff_ts: Signal<Local, Bits<32>>,
    f_diff_seq: Signal<Local, Bits<32>>,
    f_accept: Signal<Local, Bit>,
    w_state: Signal<Local, Bits<3>>,
    w_deadline: Signal<Local, Bits<32>>,
    w_overdue: Signal<Local, Bits<32>>,
    w_retries: Signal<Local, Bits<4>>,
    w_limit: Signal<Local, Bits<4>>,
    w_rto: Signal<Local, Bits<16>>,
    w_ts_offset: Signal<Local, Bits<32>>,
    w_fin_seq: Signal<Local, Bits<32>>,
    w_rcv_nxt: Signal<Local, Bits<32>>,
    w_snd_una: Signal<Local, Bits<32>>,
    w_tsval: Signal<Local, Bits<32>>,
    rp_word: Signal<Local, Bits<380>>,
    ev_word: Signal<Local, Bits<76>>,
    new_word: Signal<Local, Bits<WORD_BITS>>,
    r_snd_una: Signal<Local, Bits<32>>,
    r_fin_seq: Signal<Local, Bits<32>>,
    r_kept: Signal<Local, Bits<32>>,
    r_bad: Signal<Local, Bit>,
    r_limit: Signal<Local, Bits<4>>,
    r_ts_now: Signal<Local, Bits<32>>,
    r_rto: Signal<Local, Bits<16>>,
    r_deadline: Signal<Local, Bits<32>>,
    r_ts_offset: Signal<Local, Bits<32>>,
    w_snd_nxt: Signal<Local, Bits<32>>,
    w_duration: Signal<Local, Bits<32>>,
    w_retries_p1: Signal<Local, Bits<4>>,
    alloc_fresh: Signal<Local, Bit>,
    inc: Signal<Local, Bits<CNT_BITS>>,
}

impl<const B: usize, const S: usize, const SP1: usize, const JB: usize, const TWB: usize> Logic
    for TeardownEngine<B, S, SP1, JB, TWB>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            f0_valid,
            f0_fields,
            f1_valid,
            f1_hit,
            f1_slot,
            f1_fields,
            f2_valid,
            f2_hit,
            f2_slot,
            f2_fields,
            f3_valid,
            f3_hit,
            f3_slot,
            f3_fields,
            f3_tw,
            f3_ts_on,
            f3_ts_recent,
            f3_rcv_nxt,
            f4_valid,
            f4_hit,
            f4_slot,
            f4_fields,
            f4_tw_syn,
            f4_ts_ok,
            f4_tsr_lt_tsv,
            f4_rcv_lt_seq,
            f5_valid,
            f5_consume,
            f5_push,
            f5_job,
            seg_overflow,
            state,
            mode,
            ret,
            retried,
            rc_none,
            job_slot,
            job_seg,
            job_passed,
            rc_stamp,
            home_slot,
            word,
            wait_count,
            act_reply,
            act_remove,
            act_reason,
            act_timer,
            act_deadline,
            was_tw,
            enters_tw,
            backoff,
            seg_ack,
            ho_rec,
            ho_q,
            ho_length,
            ho_key,
            ho_slot,
            ho_have_slot,
            fresh,
            fresh_done,
            live,
            tw_live,
            tw_stamp,
            cnt
        );
        clock!(
            self, clock, conn_table, timers, decide, free_slots, tw_order, seg_fifo, jobs, replies,
            events
        );
        self.words.clock.next = self.clock.val();
        // ------------------------------------------------------ defaults
        self.conn_table.rst.next = self.rst.val();
        self.conn_table.hash_k0.next = self.hash_k0.val();
        self.conn_table.hash_k1.next = self.hash_k1.val();
        self.conn_table.h_cmd_valid.next = false;
        self.conn_table.h_cmd_op.next = 0.into();
        self.conn_table.h_cmd_key.next = 0.into();
        self.conn_table.h_cmd_value.next = 0.into();
        self.conn_table.h_rsp_ready.next = true;
        self.conn_table.o_cmd_valid.next = false;
        self.conn_table.o_cmd_op.next = 0.into();
        self.conn_table.o_cmd_key.next = 0.into();
        self.conn_table.o_cmd_value.next = 0.into();
        self.conn_table.o_rsp_ready.next = false;
        self.timers.rst.next = self.rst.val();
        self.timers.now.next = self.now.val();
        self.timers.set_valid.next = false;
        self.timers.set_slot.next = self.job_slot.q.val();
        self.timers.set_armed.next = false;
        self.timers.set_deadline.next = self.act_deadline.q.val();
        self.timers.fire_ready.next = false;
        self.decide.rst.next = self.rst.val();
        self.free_slots.clear.next = self.rst.val();
        self.free_slots.write.next = false;
        self.free_slots.data_in.next = self.job_slot.q.val();
        self.free_slots.read.next = false;
        self.tw_order.clear.next = self.rst.val();
        self.tw_order.write.next = false;
        // (stamp 31:0, slot above)
        self.tw_order.data_in.next = bit_cast::<TWB, 32>(self.tw_stamp.q.val())
            | (bit_cast::<TWB, S>(self.job_slot.q.val()) << 32);
        self.tw_order.read.next = false;
        self.jobs.clear.next = self.rst.val();
        self.jobs.read.next = false;
        self.replies.clear.next = self.rst.val();
        self.replies.write.next = false;
        self.events.clear.next = self.rst.val();
        self.events.write.next = false;
        self.words.b_we.next = false;
        self.words.b_addr.next = self.job_slot.q.val();
        self.words.b_wdata.next = self.word.q.val();
        self.ho_ready.next = false;
        self.ho_rejected.next = false;
        self.inc.next = 0.into();
        // ------------------------------------------------------ fast path
        // f0: the segment registered; its lookup and its fields queued.
        self.f0_valid.d.next = self.sg_valid.val();
        self.f0_fields.d.next = bit_cast::<SEGF_BITS, 8>(self.sg_flags.val())
            | (bit_cast::<SEGF_BITS, 32>(self.sg_seq.val()) << 8)
            | (bit_cast::<SEGF_BITS, 32>(self.sg_ack.val()) << 40)
            | (bit_cast::<SEGF_BITS, 16>(self.sg_window.val()) << 72)
            | (bit_cast::<SEGF_BITS, 16>(self.sg_plen.val()) << 88)
            | (bit_cast::<SEGF_BITS, 1>(self.sg_ts.val().into()) << 104)
            | (bit_cast::<SEGF_BITS, 32>(self.sg_tsval.val()) << 105)
            | (bit_cast::<SEGF_BITS, 96>(self.sg_tuple.val()) << 137);
        self.conn_table.lk_valid.next = self.f0_valid.q.val();
        self.conn_table.lk_key.next = self.f0_fields.q.val().get_bits::<96>(137);
        self.conn_table.lk_tag.next = 0.into();
        self.seg_fifo.clear.next = self.rst.val();
        self.seg_fifo.write.next = self.f0_valid.q.val();
        self.seg_fifo.data_in.next = self.f0_fields.q.val();
        self.seg_fifo.read.next = self.conn_table.lk_out_valid.val();
        // f1: the lookup's answer with its fields.
        self.f1_valid.d.next = self.conn_table.lk_out_valid.val();
        self.f1_hit.d.next = self.conn_table.lk_out_valid.val() && self.conn_table.lk_out_hit.val();
        self.f1_slot.d.next = self.conn_table.lk_out_value.val();
        self.f1_fields.d.next = self.seg_fifo.data_out.val();
        // f2: the slot's word read on port A.
        self.words.a_addr.next = self.f1_slot.q.val();
        self.f2_valid.d.next = self.f1_valid.q.val();
        self.f2_hit.d.next = self.f1_hit.q.val();
        self.f2_slot.d.next = self.f1_slot.q.val();
        self.f2_fields.d.next = self.f1_fields.q.val();
        // f3: the word's TIME-WAIT SYN inputs registered.
        self.f3_valid.d.next = self.f2_valid.q.val();
        self.f3_hit.d.next = self.f2_hit.q.val();
        self.f3_slot.d.next = self.f2_slot.q.val();
        self.f3_fields.d.next = self.f2_fields.q.val();
        self.f3_tw.d.next = self.words.a_data.val().get_bits::<3>(0) == 5;
        self.f3_ts_on.d.next = self.words.a_data.val().get_bit(3);
        self.f3_ts_recent.d.next = self.words.a_data.val().get_bits::<32>(183);
        self.f3_rcv_nxt.d.next = self.words.a_data.val().get_bits::<32>(87);
        // f4: RFC 6191's comparisons (decide's step 1).
        self.seg_flags.next = self.f3_fields.q.val().get_bits::<8>(0);
        self.seg_seq.next = self.f3_fields.q.val().get_bits::<32>(8);
        self.f4_valid.d.next = self.f3_valid.q.val();
        self.f4_hit.d.next = self.f3_hit.q.val();
        self.f4_slot.d.next = self.f3_slot.q.val();
        self.f4_fields.d.next = self.f3_fields.q.val();
        self.f4_tw_syn.d.next = self.f3_tw.q.val()
            && self.seg_flags.val().get_bit(1)
            && !self.seg_flags.val().get_bit(4)
            && !self.seg_flags.val().get_bit(2);
        self.f4_ts_ok.d.next = self.f3_ts_on.q.val() && self.f3_fields.q.val().get_bit(104);
        self.f_diff_ts.next =
            self.f3_ts_recent.q.val() - self.f3_fields.q.val().get_bits::<32>(105);
        self.f4_tsr_lt_tsv.d.next = self.f_diff_ts.val().get_bit(31);
        self.f_diff_seq.next = self.f3_rcv_nxt.q.val() - self.seg_seq.val();
        self.f4_rcv_lt_seq.d.next = self.f_diff_seq.val().get_bit(31);
        // f5: the verdict, and the job for the engine.
        self.f_accept.next = self.f4_tw_syn.q.val()
            && ((self.f4_ts_ok.q.val() && self.f4_tsr_lt_tsv.q.val())
                || (!self.f4_ts_ok.q.val() && self.f4_rcv_lt_seq.q.val()));
        self.f5_valid.d.next = self.f4_valid.q.val();
        self.f5_consume.d.next = self.f4_hit.q.val() && !self.f_accept.val();
        self.f5_push.d.next = self.f4_hit.q.val();
        self.f5_job.d.next = bit_cast::<JB, 233>(self.f4_fields.q.val())
            | (bit_cast::<JB, 1>(self.f_accept.val().into()) << 233)
            | (bit_cast::<JB, S>(self.f4_slot.q.val()) << 234);
        self.vd_valid.next = self.f5_valid.q.val();
        self.vd_consume.next = self.f5_consume.q.val();
        self.jobs.write.next = self.f5_push.q.val() && !self.jobs.full.val();
        self.jobs.data_in.next = self.f5_job.q.val();
        self.seg_overflow.d.next = self.f5_push.q.val() && self.jobs.full.val();

        // ------------------------------------------------------ engine
        // Fields of the word being worked on.
        self.w_state.next = self.word.q.val().get_bits::<3>(0);
        self.w_retries.next = self.word.q.val().get_bits::<4>(5);
        self.w_limit.next = self.word.q.val().get_bits::<4>(9);
        self.w_snd_una.next = self.word.q.val().get_bits::<32>(23);
        self.w_fin_seq.next = self.word.q.val().get_bits::<32>(55);
        self.w_rcv_nxt.next = self.word.q.val().get_bits::<32>(87);
        self.w_rto.next = self.word.q.val().get_bits::<16>(167);
        self.w_ts_offset.next = self.word.q.val().get_bits::<32>(215);
        self.w_deadline.next = self.word.q.val().get_bits::<32>(247);
        self.w_overdue.next = self.now.val() - self.w_deadline.val();
        self.w_tsval.next = self.now.val() + self.w_ts_offset.val();
        // Sums and differences wrap in 32-bit (4-bit) signals first: inside
        // a wider expression Verilog would carry into the next field.
        self.w_snd_nxt.next = self.w_fin_seq.val() + 1;
        self.w_duration.next = self.now.val() - self.word.q.val().get_bits::<32>(279);
        self.w_retries_p1.next = self.w_retries.val() + 1;
        // The reply record: kind 2:0, flags 10:3, seq 42:11, ack 74:43,
        // window 90:75, ts 91, tsval 123:92, tsecr 155:124, key 251:156,
        // macs (peer 347:300, ours 299:252) 347:252, spare 379:348.
        self.rp_word.next = bit_cast::<380, 3>(self.act_reply.q.val())
            | (bit_cast::<380, 32>(self.w_tsval.val()) << 92)
            | (bit_cast::<380, 32>(self.word.q.val().get_bits::<32>(183)) << 124)
            | (bit_cast::<380, 96>(self.word.q.val().get_bits::<96>(510)) << 156)
            | (bit_cast::<380, 48>(self.word.q.val().get_bits::<48>(417)) << 252)
            | (bit_cast::<380, 48>(self.word.q.val().get_bits::<48>(369)) << 300);
        // ACK / challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
        if (self.act_reply.q.val() == 1) || (self.act_reply.q.val() == 2) {
            self.rp_word.next = self.rp_word.val()
                | (bit_cast::<380, 8>(0x10.into()) << 3)
                | (bit_cast::<380, 32>(self.w_snd_nxt.val()) << 11)
                | (bit_cast::<380, 32>(self.w_rcv_nxt.val()) << 43)
                | (bit_cast::<380, 16>(self.word.q.val().get_bits::<16>(135)) << 75)
                | (bit_cast::<380, 1>(self.word.q.val().get_bit(3).into()) << 91);
        }
        // RST <SEQ=SEG.ACK>.
        if self.act_reply.q.val() == 3 {
            self.rp_word.next = self.rp_word.val()
                | (bit_cast::<380, 8>(0x04.into()) << 3)
                | (bit_cast::<380, 32>(self.seg_ack.q.val()) << 11);
        }
        // FIN|ACK from SND.UNA (no kept data: SND.UNA is the FIN's).
        if self.act_reply.q.val() == 4 {
            self.rp_word.next = self.rp_word.val()
                | (bit_cast::<380, 8>(0x11.into()) << 3)
                | (bit_cast::<380, 32>(self.w_snd_una.val()) << 11)
                | (bit_cast::<380, 32>(self.w_rcv_nxt.val()) << 43)
                | (bit_cast::<380, 16>(self.word.q.val().get_bits::<16>(135)) << 75)
                | (bit_cast::<380, 1>(self.word.q.val().get_bit(3).into()) << 91);
        }
        // The hand-over's FIN|ACK.
        if self.act_reply.q.val() == 5 {
            self.rp_word.next = self.rp_word.val()
                | (bit_cast::<380, 8>(0x11.into()) << 3)
                | (bit_cast::<380, 32>(self.w_fin_seq.val()) << 11)
                | (bit_cast::<380, 32>(self.w_rcv_nxt.val()) << 43)
                | (bit_cast::<380, 16>(self.word.q.val().get_bits::<16>(135)) << 75)
                | (bit_cast::<380, 1>(self.word.q.val().get_bit(3).into()) << 91);
        }
        // Retries exhausted: RST|ACK at SND.NXT (Linux's active reset).
        if self.act_reply.q.val() == 6 {
            self.rp_word.next = self.rp_word.val()
                | (bit_cast::<380, 8>(0x14.into()) << 3)
                | (bit_cast::<380, 32>(self.w_snd_nxt.val()) << 11)
                | (bit_cast::<380, 32>(self.w_rcv_nxt.val()) << 43);
        }
        self.replies.data_in.next = self.rp_word.val();
        // The event: queue 1:0, reason 4:2, state 7:5, retries 11:8,
        // duration 43:12, tag 75:44.
        self.ev_word.next = bit_cast::<76, 2>(self.word.q.val().get_bits::<2>(13))
            | (bit_cast::<76, 3>(self.act_reason.q.val()) << 2)
            | (bit_cast::<76, 3>(self.w_state.val()) << 5)
            | (bit_cast::<76, 4>(self.w_retries.val()) << 8)
            | (bit_cast::<76, 32>(self.w_duration.val()) << 12)
            | (bit_cast::<76, 32>(self.word.q.val().get_bits::<32>(465)) << 44);
        self.events.data_in.next = self.ev_word.val();
        // The hand-over record's fields (byte i at bits 8i+7:8i).
        self.r_snd_una.next = self.ho_rec.q.val().get_bits::<32>(192);
        self.r_fin_seq.next = self.ho_rec.q.val().get_bits::<32>(224);
        self.r_kept.next = self.r_fin_seq.val() - self.r_snd_una.val();
        self.r_rto.next = self.ho_rec.q.val().get_bits::<16>(384);
        self.r_ts_now.next = self.ho_rec.q.val().get_bits::<32>(320);
        self.r_deadline.next = self.now.val() + bit_cast::<32, 16>(self.r_rto.val());
        self.r_ts_offset.next = self.r_ts_now.val() - self.now.val();
        self.r_limit.next = self.ho_rec.q.val().get_bits::<4>(432);
        if !self.ho_rec.q.val().get_bits::<8>(432).any() {
            self.r_limit.next = self.retries_default.val();
        }
        // HandOverError: reserved bits, kept > 4096 (also SND.UNA after the
        // FIN), RTO or MSS 0, a shift above 14, a retry limit above 15, the
        // descriptor's length not 64 + kept.
        self.r_bad.next = self.ho_rec.q.val().get_bits::<6>(426).any()
            || self.ho_rec.q.val().get_bits::<40>(440).any()
            || (self.r_kept.val() > 4096)
            || !self.r_rto.val().any()
            || !self.ho_rec.q.val().get_bits::<16>(400).any()
            || (self.ho_rec.q.val().get_bits::<4>(416) > 14)
            || (self.ho_rec.q.val().get_bits::<4>(420) > 14)
            || self.ho_rec.q.val().get_bits::<4>(436).any()
            || (bit_cast::<32, 16>(self.ho_length.q.val()) != self.r_kept.val() + 64);
        // The new entry from the record (toe_contract::teardown::entry_bits).
        self.new_word.next = bit_cast::<WORD_BITS, 3>(1.into())
            | (bit_cast::<WORD_BITS, 1>(self.ho_rec.q.val().get_bit(425).into()) << 3)
            | (bit_cast::<WORD_BITS, 4>(self.r_limit.val()) << 9)
            | (bit_cast::<WORD_BITS, 2>(self.ho_q.q.val()) << 13)
            | (bit_cast::<WORD_BITS, 4>(self.ho_rec.q.val().get_bits::<4>(416)) << 15)
            | (bit_cast::<WORD_BITS, 4>(self.ho_rec.q.val().get_bits::<4>(420)) << 19)
            | (bit_cast::<WORD_BITS, 32>(self.r_snd_una.val()) << 23)
            | (bit_cast::<WORD_BITS, 32>(self.r_fin_seq.val()) << 55)
            | (bit_cast::<WORD_BITS, 32>(self.ho_rec.q.val().get_bits::<32>(256)) << 87)
            | (bit_cast::<WORD_BITS, 16>(self.ho_rec.q.val().get_bits::<16>(352)) << 119)
            | (bit_cast::<WORD_BITS, 16>(self.ho_rec.q.val().get_bits::<16>(368)) << 135)
            | (bit_cast::<WORD_BITS, 16>(self.ho_rec.q.val().get_bits::<16>(400)) << 151)
            | (bit_cast::<WORD_BITS, 16>(self.r_rto.val()) << 167)
            | (bit_cast::<WORD_BITS, 32>(self.r_deadline.val()) << 247)
            | (bit_cast::<WORD_BITS, 32>(self.now.val()) << 279)
            | (bit_cast::<WORD_BITS, 32>(self.ho_rec.q.val().get_bits::<32>(480)) << 465)
            | (bit_cast::<WORD_BITS, 96>(self.ho_key.q.val()) << 510);
        // Timestamps on: TS.Recent, and our TSval as an offset from the tick.
        if self.ho_rec.q.val().get_bit(425) {
            self.new_word.next = self.new_word.val()
                | (bit_cast::<WORD_BITS, 32>(self.ho_rec.q.val().get_bits::<32>(288)) << 183)
                | (bit_cast::<WORD_BITS, 32>(self.r_ts_offset.val()) << 215);
        }
        // Passive close: LAST-ACK.
        if self.ho_rec.q.val().get_bit(424) {
            self.new_word.next = (self.new_word.val() & !bit_cast::<WORD_BITS, 3>(7.into()))
                | bit_cast::<WORD_BITS, 3>(4.into());
        }
        // MACs: the record's bytes in network order, the entry's first
        // byte most significant.
        self.new_word.next = self.new_word.val()
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(96)) << 409)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(104)) << 401)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(112)) << 393)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(120)) << 385)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(128)) << 377)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(136)) << 369)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(144)) << 457)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(152)) << 449)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(160)) << 441)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(168)) << 433)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(176)) << 425)
            | (bit_cast::<WORD_BITS, 8>(self.ho_rec.q.val().get_bits::<8>(184)) << 417);
        self.alloc_fresh.next = !self.fresh_done.q.val();
        // The decision block's inputs: the word and the job's segment.
        self.decide.in_valid.next = false;
        self.decide.in_state.next = self.w_state.val();
        self.decide.in_ts_on.next = self.word.q.val().get_bit(3);
        self.decide.in_rtx.next = self.word.q.val().get_bit(4);
        self.decide.in_retries.next = self.w_retries.val();
        self.decide.in_snd_shift.next = self.word.q.val().get_bits::<4>(15);
        self.decide.in_rcv_shift.next = self.word.q.val().get_bits::<4>(19);
        self.decide.in_snd_una.next = self.w_snd_una.val();
        self.decide.in_fin_seq.next = self.w_fin_seq.val();
        self.decide.in_rcv_nxt.next = self.w_rcv_nxt.val();
        self.decide.in_snd_wnd.next = self.word.q.val().get_bits::<16>(119);
        self.decide.in_rcv_wnd.next = self.word.q.val().get_bits::<16>(135);
        self.decide.in_ts_recent.next = self.word.q.val().get_bits::<32>(183);
        self.decide.in_flags.next = self.job_seg.q.val().get_bits::<8>(0);
        self.decide.in_seq.next = self.job_seg.q.val().get_bits::<32>(8);
        self.decide.in_ack.next = self.job_seg.q.val().get_bits::<32>(40);
        self.decide.in_window.next = self.job_seg.q.val().get_bits::<16>(72);
        self.decide.in_plen.next = self.job_seg.q.val().get_bits::<16>(88);
        self.decide.in_ts.next = self.job_seg.q.val().get_bit(104);
        self.decide.in_tsval.next = self.job_seg.q.val().get_bits::<32>(105);

        match self.state.q.val().index() {
            // IDLE: the next job.
            0 => {
                self.act_reply.d.next = 0.into();
                self.act_remove.d.next = false;
                self.act_timer.d.next = false;
                self.retried.d.next = false;
                self.ret.d.next = 0.into();
                if self.ho_valid.val()
                    && !self.conn_table.clearing.val()
                    && !self.timers.clearing.val()
                {
                    self.ho_ready.next = true;
                    self.ho_rec.d.next = self.ho_record.val();
                    self.ho_q.d.next = self.ho_queue.val();
                    self.ho_length.d.next = self.ho_len.val();
                    self.ho_have_slot.d.next = false;
                    self.state.d.next = 14.into();
                } else if self.timers.fire_valid.val() {
                    self.timers.fire_ready.next = true;
                    self.job_slot.d.next = self.timers.fire_slot.val();
                    self.mode.d.next = 1.into();
                    self.state.d.next = 1.into();
                } else if !self.jobs.empty.val() {
                    self.jobs.read.next = true;
                    self.job_seg.d.next = self.jobs.data_out.val().get_bits::<SEGF_BITS>(0);
                    self.job_passed.d.next = self.jobs.data_out.val().get_bit(233);
                    self.job_slot.d.next = self.jobs.data_out.val().get_bits::<S>(234);
                    self.mode.d.next = 0.into();
                    self.state.d.next = 1.into();
                }
            }
            // RD_ADDR: port B reads the slot's word.
            1 => {
                self.state.d.next = 2.into();
            }
            // RD_LATCH: the word registered.
            2 => {
                self.word.d.next = self.words.b_data.val();
                self.was_tw.d.next = self.words.b_data.val().get_bits::<3>(0) == 5;
                self.enters_tw.d.next = false;
                if self.mode.q.val() == 0 {
                    self.state.d.next = 3.into();
                } else if self.mode.q.val() == 1 {
                    self.state.d.next = 5.into();
                } else if self.mode.q.val() == 2 {
                    self.state.d.next = 24.into();
                } else {
                    self.state.d.next = 12.into();
                }
            }
            // SEG_CHECK: the slot still holds the segment's tuple.
            3 => {
                self.seg_ack.d.next = self.job_seg.q.val().get_bits::<32>(40);
                if self.w_state.val().any()
                    && (self.word.q.val().get_bits::<96>(510)
                        == self.job_seg.q.val().get_bits::<96>(137))
                {
                    self.decide.in_valid.next = true;
                    self.wait_count.d.next = 0.into();
                    self.state.d.next = 4.into();
                } else {
                    self.state.d.next = 0.into();
                }
            }
            // SEG_WAIT: the decision.
            4 => {
                self.wait_count.d.next = self.wait_count.q.val() + 1;
                if self.decide.out_valid.val() {
                    self.state.d.next = 7.into();
                    // The fast path and the engine must agree on a
                    // TIME-WAIT SYN (see the module doc).
                    if self.decide.out_pass_on.val() != self.job_passed.q.val() {
                        self.state.d.next = 0.into();
                    } else {
                        self.act_reply.d.next = self.decide.out_reply.val();
                        self.act_remove.d.next = self.decide.out_remove.val();
                        self.act_reason.d.next = self.decide.out_reason.val();
                        self.act_timer.d.next =
                            self.decide.out_write.val() && self.decide.out_timer.val().any();
                        self.act_deadline.d.next = self.w_deadline.val();
                        if self.decide.out_timer.val() == 1 {
                            self.act_deadline.d.next = self.now.val() + self.tw_ticks.val();
                        }
                        if self.decide.out_timer.val() == 2 {
                            self.act_deadline.d.next = self.now.val() + self.fin_timeout.val();
                        }
                        if self.decide.out_timer.val() == 3 {
                            self.act_deadline.d.next =
                                self.now.val() + bit_cast::<32, 16>(self.w_rto.val());
                        }
                        self.enters_tw.d.next = self.decide.out_write.val()
                            && (self.decide.out_state.val() == 5)
                            && !self.was_tw.q.val();
                        if self.decide.out_count_valid.val() {
                            self.inc.next = bit_cast::<CNT_BITS, 1>(1.into())
                                << bit_cast::<CNT_BITS, 4>(self.decide.out_count.val());
                        }
                        // The new fields into the word.
                        self.word.d.next = (self.word.q.val()
                            & !(bit_cast::<WORD_BITS, 3>(7.into())
                                | (bit_cast::<WORD_BITS, 5>(0x1F.into()) << 4)
                                | (bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 23)
                                | (bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 87)
                                | (bit_cast::<WORD_BITS, 16>(0xFFFF.into()) << 119)
                                | (bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 183)))
                            | bit_cast::<WORD_BITS, 3>(self.decide.out_state.val())
                            | (bit_cast::<WORD_BITS, 1>(self.decide.out_rtx.val().into()) << 4)
                            | (bit_cast::<WORD_BITS, 4>(self.decide.out_retries.val()) << 5)
                            | (bit_cast::<WORD_BITS, 32>(self.decide.out_snd_una.val()) << 23)
                            | (bit_cast::<WORD_BITS, 32>(self.decide.out_rcv_nxt.val()) << 87)
                            | (bit_cast::<WORD_BITS, 16>(self.decide.out_snd_wnd.val()) << 119)
                            | (bit_cast::<WORD_BITS, 32>(self.decide.out_ts_recent.val()) << 183);
                    }
                }
                if self.wait_count.q.val() == 15 {
                    self.state.d.next = 0.into();
                }
            }
            // FIRE_CHECK: the timer rules (model: `Teardown::fire`).
            5 => {
                self.state.d.next = 0.into();
                if self.w_state.val().any() && !self.w_overdue.val().get_bit(31) {
                    if (self.w_state.val() == 1)
                        || (self.w_state.val() == 3)
                        || (self.w_state.val() == 4)
                    {
                        if self.w_retries.val() >= self.w_limit.val() {
                            self.act_reply.d.next = 6.into();
                            self.act_remove.d.next = true;
                            self.act_reason.d.next = 2.into();
                            self.state.d.next = 7.into();
                        } else {
                            self.word.d.next = (self.word.q.val()
                                & !(bit_cast::<WORD_BITS, 5>(0x1F.into()) << 4))
                                | (bit_cast::<WORD_BITS, 1>(1.into()) << 4)
                                | (bit_cast::<WORD_BITS, 4>(self.w_retries_p1.val()) << 5);
                            self.backoff.d.next = bit_cast::<32, 16>(self.w_rto.val())
                                << bit_cast::<32, 4>(self.w_retries_p1.val());
                            self.inc.next = bit_cast::<CNT_BITS, 1>(1.into()) << 4;
                            self.state.d.next = 6.into();
                        }
                    } else {
                        // FIN-WAIT-2: timeout (3); TIME-WAIT: its end (0).
                        self.act_remove.d.next = true;
                        self.act_reason.d.next = 0.into();
                        if self.w_state.val() == 2 {
                            self.act_reason.d.next = 3.into();
                        }
                        self.state.d.next = 8.into();
                    }
                }
            }
            // FIRE_CAP: the backoff capped at RTO_MAX (120,000 ticks).
            6 => {
                self.act_reply.d.next = 4.into();
                self.act_timer.d.next = true;
                self.act_deadline.d.next = self.now.val() + self.backoff.q.val();
                if self.backoff.q.val() > 120_000 {
                    self.act_deadline.d.next = self.now.val() + 120_000;
                }
                self.state.d.next = 7.into();
            }
            // REPLY: the frame, when the queue has room.
            7 => {
                if !self.act_reply.q.val().any() {
                    self.state.d.next = 11.into();
                    if self.act_remove.q.val() {
                        self.state.d.next = 8.into();
                    }
                } else if !self.replies.full.val() {
                    self.replies.write.next = true;
                    if (self.act_reply.q.val() == 1) || (self.act_reply.q.val() == 2) {
                        // AckSent 5, ChallengeAck 7.
                        self.inc.next = self.inc.val() | (bit_cast::<CNT_BITS, 1>(1.into()) << 5);
                        if self.act_reply.q.val() == 2 {
                            self.inc.next = bit_cast::<CNT_BITS, 1>(1.into()) << 7;
                        }
                    }
                    if (self.act_reply.q.val() == 3) || (self.act_reply.q.val() == 6) {
                        self.inc.next = self.inc.val() | (bit_cast::<CNT_BITS, 1>(1.into()) << 6);
                    }
                    if (self.act_reply.q.val() == 4) || (self.act_reply.q.val() == 5) {
                        self.inc.next = self.inc.val() | (bit_cast::<CNT_BITS, 1>(1.into()) << 3);
                    }
                    self.state.d.next = 11.into();
                    if self.act_remove.q.val() {
                        self.state.d.next = 8.into();
                    }
                }
            }
            // DEL_CMD: the table forgets the tuple.
            8 => {
                self.conn_table.o_cmd_valid.next = true;
                self.conn_table.o_cmd_op.next = 3.into();
                self.conn_table.o_cmd_key.next = self.word.q.val().get_bits::<96>(510);
                if self.conn_table.o_cmd_ready.val() {
                    self.state.d.next = 9.into();
                }
            }
            // DEL_RSP
            9 => {
                self.conn_table.o_rsp_ready.next = true;
                if self.conn_table.o_rsp_valid.val() {
                    self.state.d.next = 10.into();
                }
            }
            // REMOVE: slot freed, timer disarmed, the event (when there is
            // room; every write here happens in that one cycle).
            10 => {
                if !self.events.full.val() && self.timers.set_ready.val() {
                    self.events.write.next = true;
                    self.words.b_we.next = true;
                    self.words.b_wdata.next = 0.into();
                    self.timers.set_valid.next = true;
                    self.timers.set_armed.next = false;
                    self.free_slots.write.next = true;
                    self.live.d.next = self.live.q.val() - 1;
                    if self.was_tw.q.val() {
                        self.tw_live.d.next = self.tw_live.q.val() - 1;
                    }
                    // Ended 13 (and TwRecycled 2 for a recycle).
                    self.inc.next = self.inc.val() | (bit_cast::<CNT_BITS, 1>(1.into()) << 13);
                    if self.act_reason.q.val() == 4 {
                        self.inc.next = self.inc.val() | (bit_cast::<CNT_BITS, 1>(1.into()) << 2);
                    }
                    self.state.d.next = 0.into();
                    // The freed slot is visible in its FIFO two edges later.
                    if self.ret.q.val() == 1 {
                        self.state.d.next = 23.into();
                    }
                    if self.ret.q.val() == 2 {
                        self.state.d.next = 18.into();
                    }
                    if self.ret.q.val() == 3 {
                        self.job_slot.d.next = self.home_slot.q.val();
                        self.mode.d.next = 3.into();
                        self.state.d.next = 1.into();
                    }
                    if self.ret.q.val() == 4 {
                        self.state.d.next = 13.into();
                    }
                }
            }
            // WRITE: the word back, the timer.
            11 => {
                if self.timers.set_ready.val() {
                    self.words.b_we.next = true;
                    self.words.b_wdata.next = self.word.q.val();
                    if self.act_timer.q.val() {
                        self.words.b_wdata.next = (self.word.q.val()
                            & !(bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 247))
                            | (bit_cast::<WORD_BITS, 32>(self.act_deadline.q.val()) << 247);
                        self.timers.set_valid.next = true;
                        self.timers.set_armed.next = true;
                    }
                    self.state.d.next = 0.into();
                    if self.enters_tw.q.val() {
                        self.state.d.next = 12.into();
                    }
                }
            }
            // TW_PUSH: into the TIME-WAIT order (its stamp into the word).
            12 => {
                if self.tw_order.full.val() {
                    // Room first (a stale element, or the oldest entry); the
                    // word is written already and read again after.
                    self.ret.d.next = 3.into();
                    self.home_slot.d.next = self.job_slot.q.val();
                    self.state.d.next = 22.into();
                } else {
                    self.tw_order.write.next = true;
                    self.words.b_we.next = true;
                    self.words.b_wdata.next = (self.word.q.val()
                        & !(bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 606))
                        | (bit_cast::<WORD_BITS, 32>(self.tw_stamp.q.val()) << 606);
                    if self.act_timer.q.val() {
                        self.words.b_wdata.next = (self.word.q.val()
                            & !((bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 606)
                                | (bit_cast::<WORD_BITS, 32>(0xFFFF_FFFF_u64.into()) << 247)))
                            | (bit_cast::<WORD_BITS, 32>(self.tw_stamp.q.val()) << 606)
                            | (bit_cast::<WORD_BITS, 32>(self.act_deadline.q.val()) << 247);
                    }
                    self.tw_stamp.d.next = self.tw_stamp.q.val() + 1;
                    self.tw_live.d.next = self.tw_live.q.val() + 1;
                    self.state.d.next = 13.into();
                }
            }
            // TW_LIMIT: TD_MAX_TW (Linux's tcp_max_tw_buckets, recycling).
            13 => {
                self.state.d.next = 0.into();
                if self.tw_live.q.val() > self.max_tw.val() {
                    self.ret.d.next = 4.into();
                    self.state.d.next = 22.into();
                }
            }
            // HO_CHECK: the record's limits, the offload's switch, kept data.
            14 => {
                self.ho_key.d.next = (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(0))
                    << 88)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(8)) << 80)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(16)) << 72)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(24)) << 64)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(32)) << 56)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(40)) << 48)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(48)) << 40)
                    | (bit_cast::<96, 8>(self.ho_rec.q.val().get_bits::<8>(56)) << 32)
                    | (bit_cast::<96, 16>(self.ho_rec.q.val().get_bits::<16>(64)) << 16)
                    | bit_cast::<96, 16>(self.ho_rec.q.val().get_bits::<16>(80));
                if self.r_bad.val() {
                    self.ho_rejected.next = true;
                    self.state.d.next = 0.into();
                } else if !self.enable.val() || self.r_kept.val().any() {
                    self.state.d.next = 21.into();
                } else {
                    self.state.d.next = 15.into();
                }
            }
            // HO_READ_CMD: is the tuple held already?
            15 => {
                self.conn_table.o_cmd_valid.next = true;
                self.conn_table.o_cmd_op.next = 0.into();
                self.conn_table.o_cmd_key.next = self.ho_key.q.val();
                if self.conn_table.o_cmd_ready.val() {
                    self.state.d.next = 16.into();
                }
            }
            16 => {
                self.conn_table.o_rsp_ready.next = true;
                if self.conn_table.o_rsp_valid.val() {
                    self.state.d.next = 17.into();
                    if self.conn_table.o_rsp_status.val() != 2 {
                        self.state.d.next = 21.into();
                    }
                }
            }
            // HO_ALLOC: a slot (never used, freed, or a recycled TIME-WAIT).
            17 => {
                if self.alloc_fresh.val() {
                    self.ho_slot.d.next = self.fresh.q.val();
                    self.fresh.d.next = self.fresh.q.val() + 1;
                    if self.fresh.q.val().all() {
                        self.fresh_done.d.next = true;
                    }
                    self.ho_have_slot.d.next = true;
                    self.state.d.next = 18.into();
                } else if !self.free_slots.empty.val() {
                    self.free_slots.read.next = true;
                    self.ho_slot.d.next = self.free_slots.data_out.val();
                    self.ho_have_slot.d.next = true;
                    self.state.d.next = 18.into();
                } else if self.rc_none.q.val() {
                    self.state.d.next = 21.into();
                } else {
                    self.ret.d.next = 1.into();
                    self.state.d.next = 22.into();
                }
            }
            // HO_INS_CMD
            18 => {
                self.rc_none.d.next = false;
                self.conn_table.o_cmd_valid.next = true;
                self.conn_table.o_cmd_op.next = 1.into();
                self.conn_table.o_cmd_key.next = self.ho_key.q.val();
                self.conn_table.o_cmd_value.next = self.ho_slot.q.val();
                if self.conn_table.o_cmd_ready.val() {
                    self.state.d.next = 19.into();
                }
            }
            // HO_INS_RSP: OK, or FULL (recycle once and retry), or fall back.
            19 => {
                self.conn_table.o_rsp_ready.next = true;
                if self.conn_table.o_rsp_valid.val() {
                    if self.conn_table.o_rsp_status.val() == 0 {
                        self.state.d.next = 20.into();
                    } else if (self.conn_table.o_rsp_status.val() == 3) && !self.retried.q.val() {
                        self.retried.d.next = true;
                        self.ret.d.next = 2.into();
                        self.state.d.next = 22.into();
                    } else {
                        self.state.d.next = 21.into();
                    }
                }
            }
            // HO_WRITE: the entry, its timer (RTO), the FIN.
            20 => {
                if self.timers.set_ready.val() {
                    self.ho_have_slot.d.next = false;
                    self.words.b_addr.next = self.ho_slot.q.val();
                    self.words.b_we.next = true;
                    self.words.b_wdata.next = self.new_word.val();
                    self.word.d.next = self.new_word.val();
                    self.job_slot.d.next = self.ho_slot.q.val();
                    self.timers.set_valid.next = true;
                    self.timers.set_slot.next = self.ho_slot.q.val();
                    self.timers.set_armed.next = true;
                    self.timers.set_deadline.next = self.r_deadline.val();
                    self.live.d.next = self.live.q.val() + 1;
                    // HandOvers 0.
                    self.inc.next = bit_cast::<CNT_BITS, 1>(1.into());
                    self.act_reply.d.next = 5.into();
                    self.act_remove.d.next = false;
                    self.act_timer.d.next = false;
                    self.enters_tw.d.next = false;
                    self.state.d.next = 7.into();
                }
            }
            // FALLBACK: the event (reason 5, state 0); a slot taken goes back.
            21 => {
                self.events.data_in.next = bit_cast::<76, 2>(self.ho_q.q.val())
                    | (bit_cast::<76, 3>(5.into()) << 2)
                    | (bit_cast::<76, 32>(self.ho_rec.q.val().get_bits::<32>(480)) << 44);
                if !self.events.full.val() {
                    self.events.write.next = true;
                    // Fallback 1.
                    self.inc.next = bit_cast::<CNT_BITS, 1>(1.into()) << 1;
                    if self.ho_have_slot.q.val() {
                        self.free_slots.write.next = true;
                        self.free_slots.data_in.next = self.ho_slot.q.val();
                        self.ho_have_slot.d.next = false;
                    }
                    self.rc_none.d.next = false;
                    self.state.d.next = 0.into();
                }
            }
            // RC_POP: the oldest TIME-WAIT candidate.
            22 => {
                if self.tw_order.empty.val() {
                    // Nothing to recycle: back, noting it.
                    self.rc_none.d.next = true;
                    if self.ret.q.val() == 1 {
                        self.state.d.next = 17.into();
                    } else if self.ret.q.val() == 2 {
                        self.state.d.next = 21.into();
                    } else if self.ret.q.val() == 3 {
                        self.job_slot.d.next = self.home_slot.q.val();
                        self.mode.d.next = 3.into();
                        self.state.d.next = 1.into();
                    } else {
                        self.state.d.next = 0.into();
                    }
                } else {
                    self.tw_order.read.next = true;
                    self.rc_stamp.d.next = self.tw_order.data_out.val().get_bits::<32>(0);
                    self.job_slot.d.next = self.tw_order.data_out.val().get_bits::<S>(32);
                    self.mode.d.next = 2.into();
                    self.state.d.next = 1.into();
                }
            }
            // RC_WAIT: one cycle, for the freed slot to show in its FIFO.
            23 => {
                self.state.d.next = 17.into();
            }
            // RC_CHECK: still that TIME-WAIT entry? Then recycle it.
            24 => {
                if (self.w_state.val() == 5)
                    && (self.word.q.val().get_bits::<32>(606) == self.rc_stamp.q.val())
                {
                    self.act_reply.d.next = 0.into();
                    self.act_remove.d.next = true;
                    self.act_reason.d.next = 4.into();
                    self.state.d.next = 8.into();
                } else if self.ret.q.val() == 3 {
                    // A stale element popped is room enough.
                    self.job_slot.d.next = self.home_slot.q.val();
                    self.mode.d.next = 3.into();
                    self.state.d.next = 1.into();
                } else {
                    self.state.d.next = 22.into();
                }
            }
            _ => {
                self.state.d.next = 0.into();
            }
        }
        // ------------------------------------------------------ outputs
        self.rp_valid.next = !self.replies.empty.val();
        self.replies.read.next = self.rp_ready.val() && !self.replies.empty.val();
        self.rp_kind.next = self.replies.data_out.val().get_bits::<3>(0);
        self.rp_flags.next = self.replies.data_out.val().get_bits::<8>(3);
        self.rp_seq.next = self.replies.data_out.val().get_bits::<32>(11);
        self.rp_ack.next = self.replies.data_out.val().get_bits::<32>(43);
        self.rp_window.next = self.replies.data_out.val().get_bits::<16>(75);
        self.rp_ts.next = self.replies.data_out.val().get_bit(91);
        self.rp_tsval.next = self.replies.data_out.val().get_bits::<32>(92);
        self.rp_tsecr.next = self.replies.data_out.val().get_bits::<32>(124);
        self.rp_key.next = self.replies.data_out.val().get_bits::<96>(156);
        self.rp_macs.next = self.replies.data_out.val().get_bits::<96>(252);
        self.ev_valid.next = !self.events.empty.val();
        self.events.read.next = self.ev_ready.val() && !self.events.empty.val();
        self.ev_queue.next = self.events.data_out.val().get_bits::<2>(0);
        self.ev_reason.next = self.events.data_out.val().get_bits::<3>(2);
        self.ev_state.next = self.events.data_out.val().get_bits::<3>(5);
        self.ev_retries.next = self.events.data_out.val().get_bits::<4>(8);
        self.ev_duration.next = self.events.data_out.val().get_bits::<32>(12);
        self.ev_tag.next = self.events.data_out.val().get_bits::<32>(44);
        self.cnt.d.next =
            self.inc.val() | (bit_cast::<CNT_BITS, 1>(self.seg_overflow.q.val().into()) << 14);
        self.cnt_inc.next = self.cnt.q.val();
        self.entries.next = self.live.q.val();
        self.tw_entries.next = self.tw_live.q.val();
        self.clearing.next = self.conn_table.clearing.val() || self.timers.clearing.val();
        // ------------------------------------------------------ reset
        if self.rst.val() {
            self.f0_valid.d.next = false;
            self.f0_fields.d.next = 0.into();
            self.f1_valid.d.next = false;
            self.f1_hit.d.next = false;
            self.f1_slot.d.next = 0.into();
            self.f1_fields.d.next = 0.into();
            self.f2_valid.d.next = false;
            self.f2_hit.d.next = false;
            self.f2_slot.d.next = 0.into();
            self.f2_fields.d.next = 0.into();
            self.f3_valid.d.next = false;
            self.f3_hit.d.next = false;
            self.f3_slot.d.next = 0.into();
            self.f3_fields.d.next = 0.into();
            self.f3_tw.d.next = false;
            self.f3_ts_on.d.next = false;
            self.f3_ts_recent.d.next = 0.into();
            self.f3_rcv_nxt.d.next = 0.into();
            self.f4_valid.d.next = false;
            self.f4_hit.d.next = false;
            self.f4_slot.d.next = 0.into();
            self.f4_fields.d.next = 0.into();
            self.f4_tw_syn.d.next = false;
            self.f4_ts_ok.d.next = false;
            self.f4_tsr_lt_tsv.d.next = false;
            self.f4_rcv_lt_seq.d.next = false;
            self.f5_valid.d.next = false;
            self.f5_consume.d.next = false;
            self.f5_push.d.next = false;
            self.f5_job.d.next = 0.into();
            self.seg_overflow.d.next = false;
            self.state.d.next = 0.into();
            self.mode.d.next = 0.into();
            self.ret.d.next = 0.into();
            self.retried.d.next = false;
            self.rc_none.d.next = false;
            self.job_slot.d.next = 0.into();
            self.job_seg.d.next = 0.into();
            self.job_passed.d.next = false;
            self.rc_stamp.d.next = 0.into();
            self.home_slot.d.next = 0.into();
            self.word.d.next = 0.into();
            self.wait_count.d.next = 0.into();
            self.act_reply.d.next = 0.into();
            self.act_remove.d.next = false;
            self.act_reason.d.next = 0.into();
            self.act_timer.d.next = false;
            self.act_deadline.d.next = 0.into();
            self.was_tw.d.next = false;
            self.enters_tw.d.next = false;
            self.backoff.d.next = 0.into();
            self.seg_ack.d.next = 0.into();
            self.ho_rec.d.next = 0.into();
            self.ho_q.d.next = 0.into();
            self.ho_length.d.next = 0.into();
            self.ho_key.d.next = 0.into();
            self.ho_slot.d.next = 0.into();
            self.ho_have_slot.d.next = false;
            self.fresh.d.next = 0.into();
            self.fresh_done.d.next = false;
            self.live.d.next = 0.into();
            self.tw_live.d.next = 0.into();
            self.tw_stamp.d.next = 0.into();
            self.cnt.d.next = 0.into();
        }
    }
}

// The engine for a table of `2^B` buckets per way (8 x 2^B entries) and
// `2^S` slots: `SP1` = S + 1, `JB` = the job width (233 + S + 1), `TWB` =
// S + 32 (const generics cannot compute them).
/// A small engine for block tests: 128 table entries, 16 slots.
pub type TeardownEngineSmall = TeardownEngine<4, 4, 5, { SEGF_BITS + 4 + JOB_BITS_EXTRA }, 36>;
/// The full size: 64K table entries, 64K slots.
pub type TeardownEngine64K = TeardownEngine<13, 16, 17, { SEGF_BITS + 16 + JOB_BITS_EXTRA }, 48>;

#[cfg(test)]
mod tests {
    use super::*;
    use toe_contract::teardown::entry_bits as eb;

    #[test]
    fn teardown_engine_generates_verilog() {
        let mut uut = TeardownEngineSmall::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
        if let Ok(dir) = std::env::var("TOE_DUMP_VERILOG") {
            std::fs::write(format!("{dir}/teardown_engine.v"), v).unwrap();
        }
    }

    /// The full-size engine's Verilog, for `cargo xtask depth --verilog`
    /// (`TOE_DUMP_VERILOG=dir`).
    #[test]
    fn teardown_engine_64k_generates_verilog() {
        let Ok(dir) = std::env::var("TOE_DUMP_VERILOG") else {
            return;
        };
        let mut uut = TeardownEngine64K::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        std::fs::write(format!("{dir}/teardown_engine_64k.v"), v).unwrap();
    }

    /// The kernel's literal bit positions are the contract's.
    #[test]
    fn word_layout_is_the_contracts() {
        assert_eq!(eb::STATE, (0, 3));
        assert_eq!(eb::TS_ON, (3, 1));
        assert_eq!(eb::RTX, (4, 1));
        assert_eq!(eb::RETRIES, (5, 4));
        assert_eq!(eb::RETRY_LIMIT, (9, 4));
        assert_eq!(eb::QUEUE, (13, 2));
        assert_eq!(eb::SND_SHIFT, (15, 4));
        assert_eq!(eb::RCV_SHIFT, (19, 4));
        assert_eq!(eb::SND_UNA, (23, 32));
        assert_eq!(eb::FIN_SEQ, (55, 32));
        assert_eq!(eb::RCV_NXT, (87, 32));
        assert_eq!(eb::SND_WND, (119, 16));
        assert_eq!(eb::RCV_WND, (135, 16));
        assert_eq!(eb::MSS, (151, 16));
        assert_eq!(eb::RTO, (167, 16));
        assert_eq!(eb::TS_RECENT, (183, 32));
        assert_eq!(eb::TS_OFFSET, (215, 32));
        assert_eq!(eb::DEADLINE, (247, 32));
        assert_eq!(eb::START, (279, 32));
        assert_eq!(eb::PEER_MAC, (369, 48));
        assert_eq!(eb::LOCAL_MAC, (417, 48));
        assert_eq!(eb::TAG, (465, 32));
        assert_eq!(toe_contract::teardown::ENTRY_BITS, 510);
        assert_eq!(toe_contract::teardown::TD_NUM_COUNTERS, 14);
    }
}
