//! What one received segment does to one teardown entry: the RFC 9293
//! segment processing of the closing states (FIN-WAIT-1, FIN-WAIT-2,
//! CLOSING, LAST-ACK, TIME-WAIT), with RFC 5961's RST and SYN checks, PAWS
//! (RFC 7323) and the RFC 6191 TIME-WAIT SYN.  The specification is
//! `toe_model::teardown::decide` (steps 1 to 8 of that module's doc); this
//! block computes the same [`Decision`](toe_model) fields, one segment per
//! cycle, [`DECIDE_LATENCY`] cycles later, no backpressure.
//!
//! The engine around it reads the entry, feeds the entry's fields and the
//! segment's, and applies the outputs: the reply (built by the
//! control-frame path from the *new* entry), the write-back with a timer
//! code, or the removal with its event reason.  The block keeps no state
//! between segments: two segments of one connection must not be in the
//! pipeline at once (the engine serialises per entry).
//!
//! Stages (each one registered; sequence-space comparisons are a 32-bit
//! subtraction's sign, RFC 9293 3.4):
//!
//! | stage | computes |
//! |---|---|
//! | 1 | sums and differences of the inputs: SEQ - RCV.NXT, SEG.LEN - 1, the scaled windows, SND.NXT, SEQ + payload, the timestamp, RCV.NXT/SEQ and SND.UNA/ACK signs |
//! | 2 | the segment's last sequence number minus RCV.NXT, "SEQ in window", SND.UNA - MAX.SND.WND, SND.NXT/ACK sign, the FIN-position equalities |
//! | 3 | "last sequence number in window", ACK/(SND.UNA - MAX.SND.WND) sign |
//! | 4 | steps 1 to 3: TIME-WAIT SYN, PAWS, acceptability |
//! | 5 | steps 4 to 8 as one-hot cases |
//! | 6 | the outputs: reply, timer, removal, counter and the new fields |
use rust_hdl::prelude::*;

/// Cycles from a segment on the inputs to its decision on the outputs.
pub const DECIDE_LATENCY: usize = 6;

/// `out_reply` codes (`toe_model::teardown::Reply`).
pub const REPLY_NONE: u64 = 0;
/// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`.
pub const REPLY_ACK: u64 = 1;
/// The same segment, as an RFC 5961 challenge ACK.
pub const REPLY_CHALLENGE_ACK: u64 = 2;
/// `<SEQ=SEG.ACK><CTL=RST>`.
pub const REPLY_RST_AT_ACK: u64 = 3;
/// The next segment from SND.UNA, acknowledging the new RCV.NXT.
pub const REPLY_FROM_UNA: u64 = 4;

/// `out_timer` codes (`toe_model::teardown::Timer`).
pub const TIMER_KEEP: u64 = 0;
pub const TIMER_TIME_WAIT: u64 = 1;
pub const TIMER_FIN2: u64 = 2;
pub const TIMER_RTO: u64 = 3;

// The kernel compares states, reply, timer, reason and counter codes as
// literals (rust-hdl emits a named constant as an undeclared name):
// states (`toe_contract::teardown::State`) FIN-WAIT-1 1, FIN-WAIT-2 2,
// CLOSING 3, LAST-ACK 4, TIME-WAIT 5; the `REPLY_*` and `TIMER_*` codes
// above.

/// The fields carried unchanged from stage 1 to the outputs, packed:
/// SND.UNA 31:0, SND.WND 47:32, RCV.NXT 79:48, TS.Recent 111:80, SEG.ACK
/// 143:112, SEG.WND 159:144, SEG.TSval 191:160, RCV.NXT + 1 223:192,
/// retries 227:224, rtx 228, state 231:229.
const CARRY_BITS: usize = 232;

#[derive(LogicBlock, Default)]
pub struct TeardownDecide {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    // The entry (`toe_contract::teardown::Entry`'s fields that decide).
    pub in_state: Signal<In, Bits<3>>,
    pub in_ts_on: Signal<In, Bit>,
    pub in_rtx: Signal<In, Bit>,
    pub in_retries: Signal<In, Bits<4>>,
    pub in_snd_shift: Signal<In, Bits<4>>,
    pub in_rcv_shift: Signal<In, Bits<4>>,
    pub in_snd_una: Signal<In, Bits<32>>,
    pub in_fin_seq: Signal<In, Bits<32>>,
    pub in_rcv_nxt: Signal<In, Bits<32>>,
    pub in_snd_wnd: Signal<In, Bits<16>>,
    pub in_rcv_wnd: Signal<In, Bits<16>>,
    pub in_ts_recent: Signal<In, Bits<32>>,
    // The segment.
    /// TCP flags (FIN 0, SYN 1, RST 2, PSH 3, ACK 4).
    pub in_flags: Signal<In, Bits<8>>,
    pub in_seq: Signal<In, Bits<32>>,
    pub in_ack: Signal<In, Bits<32>>,
    pub in_window: Signal<In, Bits<16>>,
    /// Payload length.
    pub in_plen: Signal<In, Bits<16>>,
    /// A timestamps option that parsed, and its TSval.
    pub in_ts: Signal<In, Bit>,
    pub in_tsval: Signal<In, Bits<32>>,
    // The decision.
    pub out_valid: Signal<Out, Bit>,
    /// A TIME-WAIT SYN accepted (RFC 6191): delivered, not consumed.
    pub out_pass_on: Signal<Out, Bit>,
    /// `REPLY_*`.
    pub out_reply: Signal<Out, Bits<3>>,
    /// Write the new fields back with `out_timer` (never with `out_remove`).
    pub out_write: Signal<Out, Bit>,
    /// `TIMER_*` (meaningful with `out_write`).
    pub out_timer: Signal<Out, Bits<2>>,
    /// Remove the entry; its event's reason (`toe_contract::teardown::Reason`).
    pub out_remove: Signal<Out, Bit>,
    pub out_reason: Signal<Out, Bits<3>>,
    /// A counter this decision explains (`toe_contract::teardown::TdCounter`).
    pub out_count_valid: Signal<Out, Bit>,
    pub out_count: Signal<Out, Bits<4>>,
    // The entry's new fields (the others do not change).
    pub out_state: Signal<Out, Bits<3>>,
    pub out_rtx: Signal<Out, Bit>,
    pub out_retries: Signal<Out, Bits<4>>,
    pub out_snd_una: Signal<Out, Bits<32>>,
    pub out_snd_wnd: Signal<Out, Bits<16>>,
    pub out_rcv_nxt: Signal<Out, Bits<32>>,
    pub out_ts_recent: Signal<Out, Bits<32>>,

    // ------------------------------------------------------ stage 1
    s1_valid: DFF<Bit>,
    s1_carry: DFF<Bits<CARRY_BITS>>,
    s1_flags: DFF<Bits<8>>,
    s1_state: DFF<Bits<3>>,
    s1_ts_ok: DFF<Bit>,
    s1_plen_nonzero: DFF<Bit>,
    /// SEG.LEN is 0 (no payload, no SYN, no FIN).
    s1_len_zero: DFF<Bit>,
    /// SEG.LEN - 1.
    s1_len_m1: DFF<Bits<32>>,
    /// SEG.SEQ - RCV.NXT.
    s1_seq_off: DFF<Bits<32>>,
    /// RCV.WND, scaled.
    s1_rcv_wnd: DFF<Bits<32>>,
    /// MAX.SND.WND stand-in: the peer's window, scaled.
    s1_snd_wnd: DFF<Bits<32>>,
    s1_snd_nxt: DFF<Bits<32>>,
    s1_snd_una: DFF<Bits<32>>,
    s1_ack: DFF<Bits<32>>,
    s1_rcv_nxt: DFF<Bits<32>>,
    s1_rcv_nxt_m1: DFF<Bits<32>>,
    /// SEG.SEQ + payload length (where a FIN sits).
    s1_seq_end: DFF<Bits<32>>,
    /// RCV.NXT < SEG.SEQ.
    s1_rcv_lt_seq: DFF<Bit>,
    /// TS.Recent < SEG.TSval, and SEG.TSval < TS.Recent.
    s1_tsr_lt_tsv: DFF<Bit>,
    s1_tsv_lt_tsr: DFF<Bit>,
    /// SND.UNA < SEG.ACK, and equal.
    s1_una_lt_ack: DFF<Bit>,
    s1_una_eq_ack: DFF<Bit>,
    // ------------------------------------------------------ stage 2
    s2_valid: DFF<Bit>,
    s2_carry: DFF<Bits<CARRY_BITS>>,
    s2_flags: DFF<Bits<8>>,
    s2_state: DFF<Bits<3>>,
    s2_ts_ok: DFF<Bit>,
    s2_plen_nonzero: DFF<Bit>,
    s2_len_zero: DFF<Bit>,
    s2_rcv_lt_seq: DFF<Bit>,
    s2_tsr_lt_tsv: DFF<Bit>,
    s2_tsv_lt_tsr: DFF<Bit>,
    s2_una_lt_ack: DFF<Bit>,
    s2_una_eq_ack: DFF<Bit>,
    s2_rcv_wnd: DFF<Bits<32>>,
    s2_ack: DFF<Bits<32>>,
    /// The segment's last sequence number - RCV.NXT.
    s2_last_off: DFF<Bits<32>>,
    s2_seq_in_wnd: DFF<Bit>,
    s2_seq_is_rcv_nxt: DFF<Bit>,
    s2_rcv_wnd_zero: DFF<Bit>,
    /// SND.UNA - MAX.SND.WND.
    s2_una_minus_wnd: DFF<Bits<32>>,
    /// SND.NXT < SEG.ACK; SEG.ACK = SND.NXT (our FIN acknowledged).
    s2_snd_nxt_lt_ack: DFF<Bit>,
    s2_fin_acked: DFF<Bit>,
    /// The FIN sits at RCV.NXT; at RCV.NXT - 1 (retransmitted).
    s2_fin_at_rcv_nxt: DFF<Bit>,
    s2_fin_before_rcv_nxt: DFF<Bit>,
    /// RCV.NXT < SEG.SEQ + payload (data beyond what we received).
    s2_rcv_lt_end: DFF<Bit>,
    // ------------------------------------------------------ stage 3
    s3_valid: DFF<Bit>,
    s3_carry: DFF<Bits<CARRY_BITS>>,
    s3_flags: DFF<Bits<8>>,
    s3_state: DFF<Bits<3>>,
    s3_ts_ok: DFF<Bit>,
    s3_plen_nonzero: DFF<Bit>,
    s3_len_zero: DFF<Bit>,
    s3_rcv_lt_seq: DFF<Bit>,
    s3_tsr_lt_tsv: DFF<Bit>,
    s3_tsv_lt_tsr: DFF<Bit>,
    s3_una_lt_ack: DFF<Bit>,
    s3_una_eq_ack: DFF<Bit>,
    s3_seq_in_wnd: DFF<Bit>,
    s3_last_in_wnd: DFF<Bit>,
    s3_seq_is_rcv_nxt: DFF<Bit>,
    s3_rcv_wnd_zero: DFF<Bit>,
    /// SEG.ACK < SND.UNA - MAX.SND.WND (too old, RFC 5961 5.2).
    s3_ack_too_old: DFF<Bit>,
    s3_snd_nxt_lt_ack: DFF<Bit>,
    s3_fin_acked: DFF<Bit>,
    s3_fin_at_rcv_nxt: DFF<Bit>,
    s3_fin_before_rcv_nxt: DFF<Bit>,
    s3_rcv_lt_end: DFF<Bit>,
    // ------------------------------------------------------ stage 4
    s4_valid: DFF<Bit>,
    s4_carry: DFF<Bits<CARRY_BITS>>,
    s4_flags: DFF<Bits<8>>,
    s4_state: DFF<Bits<3>>,
    s4_plen_nonzero: DFF<Bit>,
    s4_seq_is_rcv_nxt: DFF<Bit>,
    s4_una_lt_ack: DFF<Bit>,
    s4_una_eq_ack: DFF<Bit>,
    s4_ack_too_old: DFF<Bit>,
    s4_snd_nxt_lt_ack: DFF<Bit>,
    s4_fin_acked: DFF<Bit>,
    s4_fin_at_rcv_nxt: DFF<Bit>,
    s4_rcv_lt_end: DFF<Bit>,
    /// Step 1: a TIME-WAIT SYN accepted / refused.
    s4_tw_syn_accept: DFF<Bit>,
    s4_tw_syn_refuse: DFF<Bit>,
    /// Step 2: PAWS drop.
    s4_paws: DFF<Bit>,
    /// Step 3: not acceptable: an RST dropped / ACKed (and a retransmitted
    /// TIME-WAIT FIN).
    s4_rst_dropped: DFF<Bit>,
    s4_unacceptable_ack: DFF<Bit>,
    s4_tw_fin_reack: DFF<Bit>,
    /// Past steps 1 to 3.
    s4_go: DFF<Bit>,
    /// RFC 7323 4.3: TS.Recent takes SEG.TSval.
    s4_ts_update: DFF<Bit>,
    // ------------------------------------------------------ stage 5
    s5_valid: DFF<Bit>,
    s5_carry: DFF<Bits<CARRY_BITS>>,
    s5_tw_syn_accept: DFF<Bit>,
    s5_tw_syn_refuse: DFF<Bit>,
    s5_paws: DFF<Bit>,
    s5_rst_dropped: DFF<Bit>,
    s5_unacceptable_ack: DFF<Bit>,
    s5_tw_fin_reack: DFF<Bit>,
    s5_ts_update: DFF<Bit>,
    /// Step 4: an exact RST / an in-window one (challenge ACK).
    s5_rst_exact: DFF<Bit>,
    s5_rst_challenge: DFF<Bit>,
    /// Step 5: a SYN in window.
    s5_syn_challenge: DFF<Bit>,
    /// Step 6 reached (the entry is written back unless removed).
    s5_step6: DFF<Bit>,
    /// Step 6: an ACK beyond SND.NXT.
    s5_ack_beyond: DFF<Bit>,
    /// New data acknowledged; the same ACK (window update).
    s5_new_ack: DFF<Bit>,
    s5_same_ack: DFF<Bit>,
    /// Our FIN acknowledged: FIN-WAIT-1 -> FIN-WAIT-2, CLOSING ->
    /// TIME-WAIT, LAST-ACK -> removed.
    s5_fw1_to_fw2: DFF<Bit>,
    s5_closing_to_tw: DFF<Bit>,
    s5_last_ack_done: DFF<Bit>,
    /// A partial ACK: the timer restarts at RTO (and after a timeout
    /// retransmission the next segment goes out).
    s5_restart_rto: DFF<Bit>,
    s5_send_from_una: DFF<Bit>,
    /// Step 7: data after close.
    s5_data_after_close: DFF<Bit>,
    /// Step 8: a FIN (ACKed); the peer's FIN at RCV.NXT -> CLOSING /
    /// TIME-WAIT.
    s5_fin_ack: DFF<Bit>,
    s5_fin_to_closing: DFF<Bit>,
    s5_fin_to_tw: DFF<Bit>,
    // ------------------------------------------------------ outputs
    o_valid: DFF<Bit>,
    o_pass_on: DFF<Bit>,
    o_reply: DFF<Bits<3>>,
    o_write: DFF<Bit>,
    o_timer: DFF<Bits<2>>,
    o_remove: DFF<Bit>,
    o_reason: DFF<Bits<3>>,
    o_count_valid: DFF<Bit>,
    o_count: DFF<Bits<4>>,
    o_state: DFF<Bits<3>>,
    o_rtx: DFF<Bit>,
    o_retries: DFF<Bits<4>>,
    o_snd_una: DFF<Bits<32>>,
    o_snd_wnd: DFF<Bits<16>>,
    o_rcv_nxt: DFF<Bits<32>>,
    o_ts_recent: DFF<Bits<32>>,
    // Scratch.
    in_syn: Signal<Local, Bit>,
    in_fin: Signal<Local, Bit>,
    syn: Signal<Local, Bit>,
    rst_flag: Signal<Local, Bit>,
    ack_flag: Signal<Local, Bit>,
    fin: Signal<Local, Bit>,
    syn_5: Signal<Local, Bit>,
    rst_5: Signal<Local, Bit>,
    ack_5: Signal<Local, Bit>,
    fin_5: Signal<Local, Bit>,
    len: Signal<Local, Bits<32>>,
    tw_syn: Signal<Local, Bit>,
    acceptable: Signal<Local, Bit>,
    step6_ack: Signal<Local, Bit>,
    in_fin_wait: Signal<Local, Bit>,
    new_ack: Signal<Local, Bit>,
    step7: Signal<Local, Bit>,
    data_after: Signal<Local, Bit>,
    fin_in: Signal<Local, Bit>,
    fw1_to_fw2: Signal<Local, Bit>,
    rcv_nxt_p1: Signal<Local, Bits<32>>,
    // Differences whose sign is a sequence-space comparison.
    diff_rcv_seq: Signal<Local, Bits<32>>,
    diff_tsr_tsv: Signal<Local, Bits<32>>,
    diff_tsv_tsr: Signal<Local, Bits<32>>,
    diff_una_ack: Signal<Local, Bits<32>>,
    diff_snd_nxt_ack: Signal<Local, Bits<32>>,
    diff_rcv_end: Signal<Local, Bits<32>>,
    diff_ack_old: Signal<Local, Bits<32>>,
}

impl Logic for TeardownDecide {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            s1_valid,
            s1_carry,
            s1_flags,
            s1_state,
            s1_ts_ok,
            s1_plen_nonzero,
            s1_len_zero,
            s1_len_m1,
            s1_seq_off,
            s1_rcv_wnd,
            s1_snd_wnd,
            s1_snd_nxt,
            s1_snd_una,
            s1_ack,
            s1_rcv_nxt,
            s1_rcv_nxt_m1,
            s1_seq_end,
            s1_rcv_lt_seq,
            s1_tsr_lt_tsv,
            s1_tsv_lt_tsr,
            s1_una_lt_ack,
            s1_una_eq_ack,
            s2_valid,
            s2_carry,
            s2_flags,
            s2_state,
            s2_ts_ok,
            s2_plen_nonzero,
            s2_len_zero,
            s2_rcv_lt_seq,
            s2_tsr_lt_tsv,
            s2_tsv_lt_tsr,
            s2_una_lt_ack,
            s2_una_eq_ack,
            s2_rcv_wnd,
            s2_ack,
            s2_last_off,
            s2_seq_in_wnd,
            s2_seq_is_rcv_nxt,
            s2_rcv_wnd_zero,
            s2_una_minus_wnd,
            s2_snd_nxt_lt_ack,
            s2_fin_acked,
            s2_fin_at_rcv_nxt,
            s2_fin_before_rcv_nxt,
            s2_rcv_lt_end,
            s3_valid,
            s3_carry,
            s3_flags,
            s3_state,
            s3_ts_ok,
            s3_plen_nonzero,
            s3_len_zero,
            s3_rcv_lt_seq,
            s3_tsr_lt_tsv,
            s3_tsv_lt_tsr,
            s3_una_lt_ack,
            s3_una_eq_ack,
            s3_seq_in_wnd,
            s3_last_in_wnd,
            s3_seq_is_rcv_nxt,
            s3_rcv_wnd_zero,
            s3_ack_too_old,
            s3_snd_nxt_lt_ack,
            s3_fin_acked,
            s3_fin_at_rcv_nxt,
            s3_fin_before_rcv_nxt,
            s3_rcv_lt_end,
            s4_valid,
            s4_carry,
            s4_flags,
            s4_state,
            s4_plen_nonzero,
            s4_seq_is_rcv_nxt,
            s4_una_lt_ack,
            s4_una_eq_ack,
            s4_ack_too_old,
            s4_snd_nxt_lt_ack,
            s4_fin_acked,
            s4_fin_at_rcv_nxt,
            s4_rcv_lt_end,
            s4_tw_syn_accept,
            s4_tw_syn_refuse,
            s4_paws,
            s4_rst_dropped,
            s4_unacceptable_ack,
            s4_tw_fin_reack,
            s4_go,
            s4_ts_update,
            s5_valid,
            s5_carry,
            s5_tw_syn_accept,
            s5_tw_syn_refuse,
            s5_paws,
            s5_rst_dropped,
            s5_unacceptable_ack,
            s5_tw_fin_reack,
            s5_ts_update,
            s5_rst_exact,
            s5_rst_challenge,
            s5_syn_challenge,
            s5_step6,
            s5_ack_beyond,
            s5_new_ack,
            s5_same_ack,
            s5_fw1_to_fw2,
            s5_closing_to_tw,
            s5_last_ack_done,
            s5_restart_rto,
            s5_send_from_una,
            s5_data_after_close,
            s5_fin_ack,
            s5_fin_to_closing,
            s5_fin_to_tw,
            o_valid,
            o_pass_on,
            o_reply,
            o_write,
            o_timer,
            o_remove,
            o_reason,
            o_count_valid,
            o_count,
            o_state,
            o_rtx,
            o_retries,
            o_snd_una,
            o_snd_wnd,
            o_rcv_nxt,
            o_ts_recent
        );
        // ------------------------------------------------------ stage 1
        self.s1_valid.d.next = self.in_valid.val();
        self.in_syn.next = self.in_flags.val().get_bit(1);
        self.in_fin.next = self.in_flags.val().get_bit(0);
        self.len.next = bit_cast::<32, 16>(self.in_plen.val())
            + bit_cast::<32, 1>(self.in_syn.val().into())
            + bit_cast::<32, 1>(self.in_fin.val().into());
        // Sums wrap at 32 bits in a 32-bit signal first (inside a wider
        // expression Verilog would carry into the next field).
        self.rcv_nxt_p1.next = self.in_rcv_nxt.val() + 1;
        self.s1_carry.d.next = bit_cast::<CARRY_BITS, 32>(self.in_snd_una.val())
            | (bit_cast::<CARRY_BITS, 16>(self.in_snd_wnd.val()) << 32)
            | (bit_cast::<CARRY_BITS, 32>(self.in_rcv_nxt.val()) << 48)
            | (bit_cast::<CARRY_BITS, 32>(self.in_ts_recent.val()) << 80)
            | (bit_cast::<CARRY_BITS, 32>(self.in_ack.val()) << 112)
            | (bit_cast::<CARRY_BITS, 16>(self.in_window.val()) << 144)
            | (bit_cast::<CARRY_BITS, 32>(self.in_tsval.val()) << 160)
            | (bit_cast::<CARRY_BITS, 32>(self.rcv_nxt_p1.val()) << 192)
            | (bit_cast::<CARRY_BITS, 4>(self.in_retries.val()) << 224)
            | (bit_cast::<CARRY_BITS, 1>(self.in_rtx.val().into()) << 228)
            | (bit_cast::<CARRY_BITS, 3>(self.in_state.val()) << 229);
        self.s1_flags.d.next = self.in_flags.val();
        self.s1_state.d.next = self.in_state.val();
        self.s1_ts_ok.d.next = self.in_ts_on.val() && self.in_ts.val();
        self.s1_plen_nonzero.d.next = self.in_plen.val().any();
        self.s1_len_zero.d.next =
            !self.in_plen.val().any() && !self.in_syn.val() && !self.in_fin.val();
        self.s1_len_m1.d.next = self.len.val() - 1;
        self.s1_seq_off.d.next = self.in_seq.val() - self.in_rcv_nxt.val();
        self.s1_rcv_wnd.d.next =
            bit_cast::<32, 16>(self.in_rcv_wnd.val()) << self.in_rcv_shift.val();
        self.s1_snd_wnd.d.next =
            bit_cast::<32, 16>(self.in_snd_wnd.val()) << self.in_snd_shift.val();
        self.s1_snd_nxt.d.next = self.in_fin_seq.val() + 1;
        self.s1_snd_una.d.next = self.in_snd_una.val();
        self.s1_ack.d.next = self.in_ack.val();
        self.s1_rcv_nxt.d.next = self.in_rcv_nxt.val();
        self.s1_rcv_nxt_m1.d.next = self.in_rcv_nxt.val() - 1;
        self.s1_seq_end.d.next = self.in_seq.val() + bit_cast::<32, 16>(self.in_plen.val());
        self.diff_rcv_seq.next = self.in_rcv_nxt.val() - self.in_seq.val();
        self.s1_rcv_lt_seq.d.next = self.diff_rcv_seq.val().get_bit(31);
        self.diff_tsr_tsv.next = self.in_ts_recent.val() - self.in_tsval.val();
        self.s1_tsr_lt_tsv.d.next = self.diff_tsr_tsv.val().get_bit(31);
        self.diff_tsv_tsr.next = self.in_tsval.val() - self.in_ts_recent.val();
        self.s1_tsv_lt_tsr.d.next = self.diff_tsv_tsr.val().get_bit(31);
        self.diff_una_ack.next = self.in_snd_una.val() - self.in_ack.val();
        self.s1_una_lt_ack.d.next = self.diff_una_ack.val().get_bit(31);
        self.s1_una_eq_ack.d.next = self.in_snd_una.val() == self.in_ack.val();
        // ------------------------------------------------------ stage 2
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_carry.d.next = self.s1_carry.q.val();
        self.s2_flags.d.next = self.s1_flags.q.val();
        self.s2_state.d.next = self.s1_state.q.val();
        self.s2_ts_ok.d.next = self.s1_ts_ok.q.val();
        self.s2_plen_nonzero.d.next = self.s1_plen_nonzero.q.val();
        self.s2_len_zero.d.next = self.s1_len_zero.q.val();
        self.s2_rcv_lt_seq.d.next = self.s1_rcv_lt_seq.q.val();
        self.s2_tsr_lt_tsv.d.next = self.s1_tsr_lt_tsv.q.val();
        self.s2_tsv_lt_tsr.d.next = self.s1_tsv_lt_tsr.q.val();
        self.s2_una_lt_ack.d.next = self.s1_una_lt_ack.q.val();
        self.s2_una_eq_ack.d.next = self.s1_una_eq_ack.q.val();
        self.s2_rcv_wnd.d.next = self.s1_rcv_wnd.q.val();
        self.s2_ack.d.next = self.s1_ack.q.val();
        self.s2_last_off.d.next = self.s1_seq_off.q.val() + self.s1_len_m1.q.val();
        self.s2_seq_in_wnd.d.next = self.s1_seq_off.q.val() < self.s1_rcv_wnd.q.val();
        self.s2_seq_is_rcv_nxt.d.next = !self.s1_seq_off.q.val().any();
        self.s2_rcv_wnd_zero.d.next = !self.s1_rcv_wnd.q.val().any();
        self.s2_una_minus_wnd.d.next = self.s1_snd_una.q.val() - self.s1_snd_wnd.q.val();
        self.diff_snd_nxt_ack.next = self.s1_snd_nxt.q.val() - self.s1_ack.q.val();
        self.s2_snd_nxt_lt_ack.d.next = self.diff_snd_nxt_ack.val().get_bit(31);
        self.s2_fin_acked.d.next = self.s1_ack.q.val() == self.s1_snd_nxt.q.val();
        self.s2_fin_at_rcv_nxt.d.next = self.s1_seq_end.q.val() == self.s1_rcv_nxt.q.val();
        self.s2_fin_before_rcv_nxt.d.next = self.s1_seq_end.q.val() == self.s1_rcv_nxt_m1.q.val();
        self.diff_rcv_end.next = self.s1_rcv_nxt.q.val() - self.s1_seq_end.q.val();
        self.s2_rcv_lt_end.d.next = self.diff_rcv_end.val().get_bit(31);
        // ------------------------------------------------------ stage 3
        self.s3_valid.d.next = self.s2_valid.q.val();
        self.s3_carry.d.next = self.s2_carry.q.val();
        self.s3_flags.d.next = self.s2_flags.q.val();
        self.s3_state.d.next = self.s2_state.q.val();
        self.s3_ts_ok.d.next = self.s2_ts_ok.q.val();
        self.s3_plen_nonzero.d.next = self.s2_plen_nonzero.q.val();
        self.s3_len_zero.d.next = self.s2_len_zero.q.val();
        self.s3_rcv_lt_seq.d.next = self.s2_rcv_lt_seq.q.val();
        self.s3_tsr_lt_tsv.d.next = self.s2_tsr_lt_tsv.q.val();
        self.s3_tsv_lt_tsr.d.next = self.s2_tsv_lt_tsr.q.val();
        self.s3_una_lt_ack.d.next = self.s2_una_lt_ack.q.val();
        self.s3_una_eq_ack.d.next = self.s2_una_eq_ack.q.val();
        self.s3_seq_in_wnd.d.next = self.s2_seq_in_wnd.q.val();
        self.s3_last_in_wnd.d.next = self.s2_last_off.q.val() < self.s2_rcv_wnd.q.val();
        self.s3_seq_is_rcv_nxt.d.next = self.s2_seq_is_rcv_nxt.q.val();
        self.s3_rcv_wnd_zero.d.next = self.s2_rcv_wnd_zero.q.val();
        self.diff_ack_old.next = self.s2_ack.q.val() - self.s2_una_minus_wnd.q.val();
        self.s3_ack_too_old.d.next = self.diff_ack_old.val().get_bit(31);
        self.s3_snd_nxt_lt_ack.d.next = self.s2_snd_nxt_lt_ack.q.val();
        self.s3_fin_acked.d.next = self.s2_fin_acked.q.val();
        self.s3_fin_at_rcv_nxt.d.next = self.s2_fin_at_rcv_nxt.q.val();
        self.s3_fin_before_rcv_nxt.d.next = self.s2_fin_before_rcv_nxt.q.val();
        self.s3_rcv_lt_end.d.next = self.s2_rcv_lt_end.q.val();
        // ------------------------------------------------------ stage 4: steps 1-3
        self.s4_valid.d.next = self.s3_valid.q.val();
        self.s4_carry.d.next = self.s3_carry.q.val();
        self.s4_flags.d.next = self.s3_flags.q.val();
        self.s4_state.d.next = self.s3_state.q.val();
        self.s4_plen_nonzero.d.next = self.s3_plen_nonzero.q.val();
        self.s4_seq_is_rcv_nxt.d.next = self.s3_seq_is_rcv_nxt.q.val();
        self.s4_una_lt_ack.d.next = self.s3_una_lt_ack.q.val();
        self.s4_una_eq_ack.d.next = self.s3_una_eq_ack.q.val();
        self.s4_ack_too_old.d.next = self.s3_ack_too_old.q.val();
        self.s4_snd_nxt_lt_ack.d.next = self.s3_snd_nxt_lt_ack.q.val();
        self.s4_fin_acked.d.next = self.s3_fin_acked.q.val();
        self.s4_fin_at_rcv_nxt.d.next = self.s3_fin_at_rcv_nxt.q.val();
        self.s4_rcv_lt_end.d.next = self.s3_rcv_lt_end.q.val();
        self.syn.next = self.s3_flags.q.val().get_bit(1);
        self.rst_flag.next = self.s3_flags.q.val().get_bit(2);
        self.ack_flag.next = self.s3_flags.q.val().get_bit(4);
        self.fin.next = self.s3_flags.q.val().get_bit(0);
        // Step 1 (RFC 6191): a SYN for a TIME-WAIT tuple.
        self.tw_syn.next = (self.s3_state.q.val() == 5)
            && self.syn.val()
            && !self.ack_flag.val()
            && !self.rst_flag.val();
        self.s4_tw_syn_accept.d.next = self.tw_syn.val()
            && ((self.s3_ts_ok.q.val() && self.s3_tsr_lt_tsv.q.val())
                || (!self.s3_ts_ok.q.val() && self.s3_rcv_lt_seq.q.val()));
        self.s4_tw_syn_refuse.d.next = self.tw_syn.val()
            && !((self.s3_ts_ok.q.val() && self.s3_tsr_lt_tsv.q.val())
                || (!self.s3_ts_ok.q.val() && self.s3_rcv_lt_seq.q.val()));
        // Step 2 (RFC 7323 5.3): PAWS.
        self.s4_paws.d.next = !self.tw_syn.val()
            && self.s3_ts_ok.q.val()
            && !self.rst_flag.val()
            && self.s3_tsv_lt_tsr.q.val();
        // Step 3 (RFC 9293 3.10.7.4): acceptability.
        self.acceptable.next = false;
        if self.s3_len_zero.q.val() {
            if self.s3_rcv_wnd_zero.q.val() {
                self.acceptable.next = self.s3_seq_is_rcv_nxt.q.val();
            } else {
                self.acceptable.next = self.s3_seq_in_wnd.q.val();
            }
        } else {
            self.acceptable.next = !self.s3_rcv_wnd_zero.q.val()
                && (self.s3_seq_in_wnd.q.val() || self.s3_last_in_wnd.q.val());
        }
        self.s4_go.d.next = !self.tw_syn.val()
            && !(self.s3_ts_ok.q.val() && !self.rst_flag.val() && self.s3_tsv_lt_tsr.q.val())
            && self.acceptable.val();
        self.s4_rst_dropped.d.next = !self.tw_syn.val()
            && !(self.s3_ts_ok.q.val() && !self.rst_flag.val() && self.s3_tsv_lt_tsr.q.val())
            && !self.acceptable.val()
            && self.rst_flag.val();
        self.s4_unacceptable_ack.d.next = !self.tw_syn.val()
            && !(self.s3_ts_ok.q.val() && !self.rst_flag.val() && self.s3_tsv_lt_tsr.q.val())
            && !self.acceptable.val()
            && !self.rst_flag.val();
        self.s4_tw_fin_reack.d.next = !self.tw_syn.val()
            && !(self.s3_ts_ok.q.val() && !self.rst_flag.val() && self.s3_tsv_lt_tsr.q.val())
            && !self.acceptable.val()
            && !self.rst_flag.val()
            && (self.s3_state.q.val() == 5)
            && self.fin.val()
            && self.s3_fin_before_rcv_nxt.q.val();
        // RFC 7323 4.3 (applied only past step 3): SEG.SEQ <= RCV.NXT and
        // TS.Recent <= SEG.TSval.
        self.s4_ts_update.d.next =
            self.s3_ts_ok.q.val() && !self.s3_rcv_lt_seq.q.val() && !self.s3_tsv_lt_tsr.q.val();
        // ------------------------------------------------------ stage 5: steps 4-8
        self.s5_valid.d.next = self.s4_valid.q.val();
        self.s5_carry.d.next = self.s4_carry.q.val();
        self.s5_tw_syn_accept.d.next = self.s4_tw_syn_accept.q.val();
        self.s5_tw_syn_refuse.d.next = self.s4_tw_syn_refuse.q.val();
        self.s5_paws.d.next = self.s4_paws.q.val();
        self.s5_rst_dropped.d.next = self.s4_rst_dropped.q.val();
        self.s5_unacceptable_ack.d.next = self.s4_unacceptable_ack.q.val();
        self.s5_tw_fin_reack.d.next = self.s4_tw_fin_reack.q.val();
        self.s5_ts_update.d.next = self.s4_go.q.val() && self.s4_ts_update.q.val();
        self.syn_5.next = self.s4_flags.q.val().get_bit(1);
        self.rst_5.next = self.s4_flags.q.val().get_bit(2);
        self.ack_5.next = self.s4_flags.q.val().get_bit(4);
        self.fin_5.next = self.s4_flags.q.val().get_bit(0);
        // Step 4 (RFC 5961 3.2).
        self.s5_rst_exact.d.next =
            self.s4_go.q.val() && self.rst_5.val() && self.s4_seq_is_rcv_nxt.q.val();
        self.s5_rst_challenge.d.next =
            self.s4_go.q.val() && self.rst_5.val() && !self.s4_seq_is_rcv_nxt.q.val();
        // Step 5 (RFC 5961 4.2).
        self.s5_syn_challenge.d.next = self.s4_go.q.val() && !self.rst_5.val() && self.syn_5.val();
        // Step 6.
        self.s5_step6.d.next = self.s4_go.q.val() && !self.rst_5.val() && !self.syn_5.val();
        self.step6_ack.next =
            self.s4_go.q.val() && !self.rst_5.val() && !self.syn_5.val() && self.ack_5.val();
        self.s5_ack_beyond.d.next = self.step6_ack.val() && self.s4_snd_nxt_lt_ack.q.val();
        self.new_ack.next = self.step6_ack.val()
            && !self.s4_snd_nxt_lt_ack.q.val()
            && !self.s4_ack_too_old.q.val()
            && self.s4_una_lt_ack.q.val();
        self.s5_new_ack.d.next = self.new_ack.val();
        self.s5_same_ack.d.next = self.step6_ack.val()
            && !self.s4_snd_nxt_lt_ack.q.val()
            && !self.s4_ack_too_old.q.val()
            && !self.s4_una_lt_ack.q.val()
            && self.s4_una_eq_ack.q.val();
        self.fw1_to_fw2.next =
            self.new_ack.val() && self.s4_fin_acked.q.val() && (self.s4_state.q.val() == 1);
        self.s5_fw1_to_fw2.d.next = self.fw1_to_fw2.val();
        self.s5_closing_to_tw.d.next =
            self.new_ack.val() && self.s4_fin_acked.q.val() && (self.s4_state.q.val() == 3);
        self.s5_last_ack_done.d.next =
            self.new_ack.val() && self.s4_fin_acked.q.val() && (self.s4_state.q.val() == 4);
        self.s5_restart_rto.d.next = self.new_ack.val()
            && !self.s4_fin_acked.q.val()
            && ((self.s4_state.q.val() == 1)
                || (self.s4_state.q.val() == 3)
                || (self.s4_state.q.val() == 4));
        self.s5_send_from_una.d.next = self.new_ack.val()
            && !self.s4_fin_acked.q.val()
            && self.s4_carry.q.val().get_bit(228)
            && ((self.s4_state.q.val() == 1)
                || (self.s4_state.q.val() == 3)
                || (self.s4_state.q.val() == 4));
        // Steps 7 and 8: an ACK that neither went beyond SND.NXT, nor was
        // too old, nor ended LAST-ACK.
        self.step7.next = self.step6_ack.val()
            && !self.s4_snd_nxt_lt_ack.q.val()
            && !self.s4_ack_too_old.q.val()
            && !(self.new_ack.val() && self.s4_fin_acked.q.val() && (self.s4_state.q.val() == 4));
        self.in_fin_wait.next = (self.s4_state.q.val() == 1) || (self.s4_state.q.val() == 2);
        self.data_after.next = self.step7.val()
            && self.s4_plen_nonzero.q.val()
            && self.in_fin_wait.val()
            && self.s4_rcv_lt_end.q.val();
        self.s5_data_after_close.d.next = self.data_after.val();
        self.s5_fin_ack.d.next = self.step7.val() && !self.data_after.val() && self.fin_5.val();
        self.fin_in.next = self.step7.val()
            && !self.data_after.val()
            && self.fin_5.val()
            && self.s4_fin_at_rcv_nxt.q.val()
            && self.in_fin_wait.val();
        self.s5_fin_to_closing.d.next =
            self.fin_in.val() && (self.s4_state.q.val() == 1) && !self.fw1_to_fw2.val();
        self.s5_fin_to_tw.d.next =
            self.fin_in.val() && ((self.s4_state.q.val() == 2) || self.fw1_to_fw2.val());
        // ------------------------------------------------------ stage 6: outputs
        self.o_valid.d.next = self.s5_valid.q.val();
        self.o_pass_on.d.next = self.s5_tw_syn_accept.q.val();
        self.o_reply.d.next = 0.into();
        if self.s5_tw_syn_refuse.q.val()
            || self.s5_paws.q.val()
            || self.s5_unacceptable_ack.q.val()
            || self.s5_ack_beyond.q.val()
            || self.s5_fin_ack.q.val()
        {
            self.o_reply.d.next = 1.into();
        }
        if self.s5_rst_challenge.q.val() || self.s5_syn_challenge.q.val() {
            self.o_reply.d.next = 2.into();
        }
        if self.s5_send_from_una.q.val() {
            self.o_reply.d.next = 4.into();
        }
        if self.s5_data_after_close.q.val() {
            self.o_reply.d.next = 3.into();
        }
        self.o_remove.d.next = self.s5_tw_syn_accept.q.val()
            || self.s5_rst_exact.q.val()
            || self.s5_last_ack_done.q.val()
            || self.s5_data_after_close.q.val();
        // Reason codes: Normal 0, RstReceived 1, DataAfterClose 6,
        // TimeWaitReused 7.
        self.o_reason.d.next = 0.into();
        if self.s5_rst_exact.q.val() {
            self.o_reason.d.next = 1.into();
        }
        if self.s5_data_after_close.q.val() {
            self.o_reason.d.next = 6.into();
        }
        if self.s5_tw_syn_accept.q.val() {
            self.o_reason.d.next = 7.into();
        }
        self.o_write.d.next = (self.s5_tw_fin_reack.q.val()
            || self.s5_rst_challenge.q.val()
            || self.s5_syn_challenge.q.val()
            || self.s5_step6.q.val())
            && !self.s5_last_ack_done.q.val()
            && !self.s5_data_after_close.q.val();
        self.o_timer.d.next = 0.into();
        if self.s5_restart_rto.q.val() {
            self.o_timer.d.next = 3.into();
        }
        if self.s5_fw1_to_fw2.q.val() {
            self.o_timer.d.next = 2.into();
        }
        if self.s5_tw_fin_reack.q.val()
            || self.s5_closing_to_tw.q.val()
            || self.s5_fin_to_tw.q.val()
        {
            self.o_timer.d.next = 1.into();
        }
        // Counters: RstDropped 8, PawsDrop 9, TwSynAccepted 10,
        // TwSynRefused 11, TwFinReacked 12.
        self.o_count_valid.d.next = self.s5_rst_dropped.q.val()
            || self.s5_paws.q.val()
            || self.s5_tw_syn_accept.q.val()
            || self.s5_tw_syn_refuse.q.val()
            || self.s5_tw_fin_reack.q.val();
        self.o_count.d.next = 0.into();
        if self.s5_rst_dropped.q.val() {
            self.o_count.d.next = 8.into();
        }
        if self.s5_paws.q.val() {
            self.o_count.d.next = 9.into();
        }
        if self.s5_tw_syn_accept.q.val() {
            self.o_count.d.next = 10.into();
        }
        if self.s5_tw_syn_refuse.q.val() {
            self.o_count.d.next = 11.into();
        }
        if self.s5_tw_fin_reack.q.val() {
            self.o_count.d.next = 12.into();
        }
        // The new fields.
        self.o_state.d.next = self.s5_carry.q.val().get_bits::<3>(229);
        if self.s5_fw1_to_fw2.q.val() {
            self.o_state.d.next = 2.into();
        }
        if self.s5_fin_to_closing.q.val() {
            self.o_state.d.next = 3.into();
        }
        if self.s5_closing_to_tw.q.val() || self.s5_fin_to_tw.q.val() {
            self.o_state.d.next = 5.into();
        }
        self.o_rtx.d.next = self.s5_carry.q.val().get_bit(228) && !self.s5_fw1_to_fw2.q.val();
        self.o_retries.d.next = self.s5_carry.q.val().get_bits::<4>(224);
        self.o_snd_una.d.next = self.s5_carry.q.val().get_bits::<32>(0);
        if self.s5_new_ack.q.val() {
            self.o_retries.d.next = 0.into();
            self.o_snd_una.d.next = self.s5_carry.q.val().get_bits::<32>(112);
        }
        self.o_snd_wnd.d.next = self.s5_carry.q.val().get_bits::<16>(32);
        if self.s5_new_ack.q.val() || self.s5_same_ack.q.val() {
            self.o_snd_wnd.d.next = self.s5_carry.q.val().get_bits::<16>(144);
        }
        self.o_rcv_nxt.d.next = self.s5_carry.q.val().get_bits::<32>(48);
        if self.s5_fin_to_closing.q.val() || self.s5_fin_to_tw.q.val() {
            self.o_rcv_nxt.d.next = self.s5_carry.q.val().get_bits::<32>(192);
        }
        self.o_ts_recent.d.next = self.s5_carry.q.val().get_bits::<32>(80);
        if self.s5_ts_update.q.val() {
            self.o_ts_recent.d.next = self.s5_carry.q.val().get_bits::<32>(160);
        }
        // ------------------------------------------------------ out
        self.out_valid.next = self.o_valid.q.val();
        self.out_pass_on.next = self.o_pass_on.q.val();
        self.out_reply.next = self.o_reply.q.val();
        self.out_write.next = self.o_write.q.val();
        self.out_timer.next = self.o_timer.q.val();
        self.out_remove.next = self.o_remove.q.val();
        self.out_reason.next = self.o_reason.q.val();
        self.out_count_valid.next = self.o_count_valid.q.val();
        self.out_count.next = self.o_count.q.val();
        self.out_state.next = self.o_state.q.val();
        self.out_rtx.next = self.o_rtx.q.val();
        self.out_retries.next = self.o_retries.q.val();
        self.out_snd_una.next = self.o_snd_una.q.val();
        self.out_snd_wnd.next = self.o_snd_wnd.q.val();
        self.out_rcv_nxt.next = self.o_rcv_nxt.q.val();
        self.out_ts_recent.next = self.o_ts_recent.q.val();
        // ------------------------------------------------------ reset
        if self.rst.val() {
            self.s1_valid.d.next = false;
            self.s1_carry.d.next = 0.into();
            self.s1_flags.d.next = 0.into();
            self.s1_state.d.next = 0.into();
            self.s1_ts_ok.d.next = false;
            self.s1_plen_nonzero.d.next = false;
            self.s1_len_zero.d.next = false;
            self.s1_len_m1.d.next = 0.into();
            self.s1_seq_off.d.next = 0.into();
            self.s1_rcv_wnd.d.next = 0.into();
            self.s1_snd_wnd.d.next = 0.into();
            self.s1_snd_nxt.d.next = 0.into();
            self.s1_snd_una.d.next = 0.into();
            self.s1_ack.d.next = 0.into();
            self.s1_rcv_nxt.d.next = 0.into();
            self.s1_rcv_nxt_m1.d.next = 0.into();
            self.s1_seq_end.d.next = 0.into();
            self.s1_rcv_lt_seq.d.next = false;
            self.s1_tsr_lt_tsv.d.next = false;
            self.s1_tsv_lt_tsr.d.next = false;
            self.s1_una_lt_ack.d.next = false;
            self.s1_una_eq_ack.d.next = false;
            self.s2_valid.d.next = false;
            self.s2_carry.d.next = 0.into();
            self.s2_flags.d.next = 0.into();
            self.s2_state.d.next = 0.into();
            self.s2_ts_ok.d.next = false;
            self.s2_plen_nonzero.d.next = false;
            self.s2_len_zero.d.next = false;
            self.s2_rcv_lt_seq.d.next = false;
            self.s2_tsr_lt_tsv.d.next = false;
            self.s2_tsv_lt_tsr.d.next = false;
            self.s2_una_lt_ack.d.next = false;
            self.s2_una_eq_ack.d.next = false;
            self.s2_rcv_wnd.d.next = 0.into();
            self.s2_ack.d.next = 0.into();
            self.s2_last_off.d.next = 0.into();
            self.s2_seq_in_wnd.d.next = false;
            self.s2_seq_is_rcv_nxt.d.next = false;
            self.s2_rcv_wnd_zero.d.next = false;
            self.s2_una_minus_wnd.d.next = 0.into();
            self.s2_snd_nxt_lt_ack.d.next = false;
            self.s2_fin_acked.d.next = false;
            self.s2_fin_at_rcv_nxt.d.next = false;
            self.s2_fin_before_rcv_nxt.d.next = false;
            self.s2_rcv_lt_end.d.next = false;
            self.s3_valid.d.next = false;
            self.s3_carry.d.next = 0.into();
            self.s3_flags.d.next = 0.into();
            self.s3_state.d.next = 0.into();
            self.s3_ts_ok.d.next = false;
            self.s3_plen_nonzero.d.next = false;
            self.s3_len_zero.d.next = false;
            self.s3_rcv_lt_seq.d.next = false;
            self.s3_tsr_lt_tsv.d.next = false;
            self.s3_tsv_lt_tsr.d.next = false;
            self.s3_una_lt_ack.d.next = false;
            self.s3_una_eq_ack.d.next = false;
            self.s3_seq_in_wnd.d.next = false;
            self.s3_last_in_wnd.d.next = false;
            self.s3_seq_is_rcv_nxt.d.next = false;
            self.s3_rcv_wnd_zero.d.next = false;
            self.s3_ack_too_old.d.next = false;
            self.s3_snd_nxt_lt_ack.d.next = false;
            self.s3_fin_acked.d.next = false;
            self.s3_fin_at_rcv_nxt.d.next = false;
            self.s3_fin_before_rcv_nxt.d.next = false;
            self.s3_rcv_lt_end.d.next = false;
            self.s4_valid.d.next = false;
            self.s4_carry.d.next = 0.into();
            self.s4_flags.d.next = 0.into();
            self.s4_state.d.next = 0.into();
            self.s4_plen_nonzero.d.next = false;
            self.s4_seq_is_rcv_nxt.d.next = false;
            self.s4_una_lt_ack.d.next = false;
            self.s4_una_eq_ack.d.next = false;
            self.s4_ack_too_old.d.next = false;
            self.s4_snd_nxt_lt_ack.d.next = false;
            self.s4_fin_acked.d.next = false;
            self.s4_fin_at_rcv_nxt.d.next = false;
            self.s4_rcv_lt_end.d.next = false;
            self.s4_tw_syn_accept.d.next = false;
            self.s4_tw_syn_refuse.d.next = false;
            self.s4_paws.d.next = false;
            self.s4_rst_dropped.d.next = false;
            self.s4_unacceptable_ack.d.next = false;
            self.s4_tw_fin_reack.d.next = false;
            self.s4_go.d.next = false;
            self.s4_ts_update.d.next = false;
            self.s5_valid.d.next = false;
            self.s5_carry.d.next = 0.into();
            self.s5_tw_syn_accept.d.next = false;
            self.s5_tw_syn_refuse.d.next = false;
            self.s5_paws.d.next = false;
            self.s5_rst_dropped.d.next = false;
            self.s5_unacceptable_ack.d.next = false;
            self.s5_tw_fin_reack.d.next = false;
            self.s5_ts_update.d.next = false;
            self.s5_rst_exact.d.next = false;
            self.s5_rst_challenge.d.next = false;
            self.s5_syn_challenge.d.next = false;
            self.s5_step6.d.next = false;
            self.s5_ack_beyond.d.next = false;
            self.s5_new_ack.d.next = false;
            self.s5_same_ack.d.next = false;
            self.s5_fw1_to_fw2.d.next = false;
            self.s5_closing_to_tw.d.next = false;
            self.s5_last_ack_done.d.next = false;
            self.s5_restart_rto.d.next = false;
            self.s5_send_from_una.d.next = false;
            self.s5_data_after_close.d.next = false;
            self.s5_fin_ack.d.next = false;
            self.s5_fin_to_closing.d.next = false;
            self.s5_fin_to_tw.d.next = false;
            self.o_valid.d.next = false;
            self.o_pass_on.d.next = false;
            self.o_reply.d.next = 0.into();
            self.o_write.d.next = false;
            self.o_timer.d.next = 0.into();
            self.o_remove.d.next = false;
            self.o_reason.d.next = 0.into();
            self.o_count_valid.d.next = false;
            self.o_count.d.next = 0.into();
            self.o_state.d.next = 0.into();
            self.o_rtx.d.next = false;
            self.o_retries.d.next = 0.into();
            self.o_snd_una.d.next = 0.into();
            self.o_snd_wnd.d.next = 0.into();
            self.o_rcv_nxt.d.next = 0.into();
            self.o_ts_recent.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teardown_decide_generates_verilog() {
        let mut uut = TeardownDecide::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
        // `TOE_DUMP_VERILOG=dir` keeps it (for `cargo xtask depth --verilog`).
        if let Ok(dir) = std::env::var("TOE_DUMP_VERILOG") {
            std::fs::write(format!("{dir}/teardown_decide.v"), v).unwrap();
        }
    }
}
