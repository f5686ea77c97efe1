//! Active open by the NIC (`toe_contract::setup`, docs/setup.md): the host
//! stages a SYN record and starts it in the slot of its local port; the NIC
//! sends the SYN, retransmits it with exponential backoff, answers the
//! peer's SYN-ACK with the handshake ACK and tells the RX path how to
//! report the SYN-ACK (connected) or an RST (refused).
//!
//! ## Slots
//! `SLOTS` (16) slots, one per value of the local port's low 4 bits, so a
//! SYN-ACK finds its slot in one RAM read whatever the table size.  Per
//! slot: the match entry (`mram`: tuple, ISN, MACs, both ACK windows, the
//! SYN's TSval), the SYN record for replay (`rram`), and the timer (`tram`:
//! deadline and SYNs sent), plus `pending`, `kick` (SYN not sent yet) and
//! `timedout` bits in registers.
//!
//! ## Timer sweep
//! One slot per cycle (`sweep_slot`): its timer and record are read, and one
//! cycle later (`sweep_prev`) a kicked slot sends its first SYN, a due slot
//! retransmits (deadline `now + rto << n` after the n-th SYN) or, after
//! `retries` retransmissions, gives up (`timedout`).  Only this sweep writes
//! `tram`, so no two writers meet.  A SYN is queued only while the record
//! queue holds fewer than 8 records and no ACK waits in its register;
//! handshake ACKs always find room (at most one per slot waits, since a
//! slot's next ACK needs its next SYN to leave first: 16 ACKs + 9 SYNs + the
//! record in the queue's write register < 32).
//!
//! ## Matching (beside the RX pipeline, never stalling it)
//! * **P**: a SYN-ACK or RST+ACK candidate reads `mram` at its destination
//!   port's slot; its fields are registered (`x_*`).
//! * **P + 1**: hit = slot pending, the 4-tuple is the slot's (reversed),
//!   and the ACK number is ISN + 1.  A hit frees the slot.  Every
//!   candidate's verdict and the ACK's fields enter `vfifo`.
//! * **P + 12 (late record)**: the verdict is popped: a hit is reported
//!   to the RX path as the completion kind connected / connect refused
//!   (the RX verdict in slot `SLOT_CONNECT`, registered twice: P + 14), and a SYN-ACK hit builds the
//!   ACK (timestamps if the SYN-ACK has them: TSval the SYN's, TSecr the
//!   peer's TSval; the scaled window if the SYN-ACK has a window scale)
//!   into a register (P + 13); the record queue's write is registered too
//!   (P + 14), so the ACK is at the queue's head at P + 16.
use super::regs::c8;
use crate::common::reg_port::RegPort;
use crate::common::stream::FifoOut;
use crate::rx::event::{RxEventIn, RxVerdict};
use rust_hdl::prelude::*;
use toe_contract::regs as r;
use toe_contract::setup as s;

/// Active-open slots (`toe_contract::setup::CONNECT_SLOTS`).
pub const SLOTS: usize = 16;
const _: () = assert!(SLOTS == s::CONNECT_SLOTS && SLOTS == 16);
// The kernel writes the record's bit positions and the SYN/ACK flag values
// as literals.
const _: () = assert!(s::CTL_REC_BITS == 368 && s::TCP_ACK == 0x10);
const _: () = assert!(r::SETUP_CONN_REC_WORDS == 12 && r::CONN_MAX_RETRIES == 10);
const _: () = assert!(s::KIND_CONNECTED == 3 && s::KIND_CONNECT_REFUSED == 4);

/// Match entry: MACs and tuple as in the record (191:0), ISN 223:192, the
/// SYN's window 239:224, the scaled ACK window 255:240, the SYN's TSval
/// 287:256.
pub const MENT_BITS: usize = 288;
/// Verdict: hit 0, SYN-ACK (else RST) 1, then the ACK's fields: MACs and
/// tuple 193:2, seq 225:194, ack 257:226, SYN window 273:258, ACK window
/// 289:274, TSval 321:290.
pub const VERD_BITS: usize = 322;

crate::declare_clear_fifo!(VerdFifo, Bits<322>, 16, 1);
crate::declare_clear_fifo!(CtlRecFifo, Bits<368>, 32, 1);

#[derive(LogicBlock)]
pub struct Connect {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Register port (`regs::PORT_CONNECT`): offsets in the setup block, as
    /// `SetupRegs` gets them; `rdata` is zero outside this block's registers
    /// (ORed with `SetupRegs`' by the register file).
    pub regs: RegPort,
    /// The timestamp clock (`SETUP_TS_NOW`): timer ticks.
    pub ts_now: Signal<In, Bits<32>>,
    /// The RX path's parsed-header event bus (`RxPath::ev`): SYN-ACK
    /// (no RST/FIN) and RST with ACK (no SYN/FIN) candidates.
    pub ev: RxEventIn,
    /// The verdict on each segment, P + 14 (`RxPath::verdict[SLOT_CONNECT]`).
    pub verdict: RxVerdict,
    /// Control-frame records for the TX side: the SYN and ACK records, to the record arbiter.
    pub q: FifoOut<368>,
    /// Counter pulses.
    pub cnt_syn: Signal<Out, Bit>,
    pub cnt_est: Signal<Out, Bit>,
    pub cnt_refused: Signal<Out, Bit>,
    pub cnt_timeout: Signal<Out, Bit>,
    mram: RAM<Bits<288>, 4>,
    rram: RAM<Bits<368>, 4>,
    tram: RAM<Bits<36>, 4>,
    vfifo: VerdFifo,
    cfifo: CtlRecFifo,
    // Registers
    srec: DFF<Bits<368>>,
    sackwin: DFF<Bits<16>>,
    /// The handshake ACK of a hit, registered before it enters the record
    /// queue (so the RX path's late tap reaches no FIFO pointer).
    ack_v: DFF<Bit>,
    ack_rec: DFF<Bits<368>>,
    /// The record queue's write, registered (the timer sweep's SYN decision
    /// reached the queue's first-word register: 7 LUT levels).
    wr_v: DFF<Bit>,
    wr_rec: DFF<Bits<368>>,
    /// A refused candidate, registered (P + 13; a connected one is `ack_v`).
    refused_d: DFF<Bit>,
    /// The RX verdict (P + 14): connected, connect refused.
    v_conn: DFF<Bit>,
    v_refused: DFF<Bit>,
    rto: DFF<Bits<32>>,
    retries: DFF<Bits<4>>,
    pending: DFF<Bits<16>>,
    kick: DFF<Bits<16>>,
    timedout: DFF<Bits<16>>,
    /// A start last cycle, and its slot (the RAMs were read stale then).
    st_d: DFF<Bit>,
    st_slot: DFF<Bits<4>>,
    sweep_slot: DFF<Bits<4>>,
    sweep_prev: DFF<Bits<4>>,
    x_sa: DFF<Bit>,
    x_rst: DFF<Bit>,
    x_tuple: DFF<Bits<96>>,
    x_seq: DFF<Bits<32>>,
    x_ackn: DFF<Bits<32>>,
    /// The register port, registered: a write to this block's registers,
    /// its offset and data.
    wr_valid: DFF<Bit>,
    wr_offset: DFF<Bits<8>>,
    wr_data: DFF<Bits<32>>,
    // scratch
    rsub: Signal<Local, Bits<8>>,
    rbit: Signal<Local, Bits<16>>,
    ro: Signal<Local, Bits<8>>,
    start: Signal<Local, Bit>,
    abort: Signal<Local, Bit>,
    cslot: Signal<Local, Bits<4>>,
    cbit: Signal<Local, Bits<16>>,
    clr: Signal<Local, Bits<16>>,
    set_to: Signal<Local, Bits<16>>,
    unkick: Signal<Local, Bits<16>>,
    xslot: Signal<Local, Bits<4>>,
    xbit: Signal<Local, Bits<16>>,
    ment: Signal<Local, Bits<288>>,
    isn1: Signal<Local, Bits<32>>,
    seq1: Signal<Local, Bits<32>>,
    hit: Signal<Local, Bit>,
    verd: Signal<Local, Bits<322>>,
    /// Candidates at the early and the late record.
    e_sa: Signal<Local, Bit>,
    e_rst: Signal<Local, Bit>,
    l_cand: Signal<Local, Bit>,
    lv: Signal<Local, Bit>,
    conn_v: Signal<Local, Bit>,
    refused_v: Signal<Local, Bit>,
    ackwin: Signal<Local, Bits<16>>,
    ack_push: Signal<Local, Bit>,
    sbit: Signal<Local, Bits<16>>,
    sdl: Signal<Local, Bits<32>>,
    stries: Signal<Local, Bits<4>>,
    sdiff: Signal<Local, Bits<32>>,
    sdue: Signal<Local, Bit>,
    sroom: Signal<Local, Bit>,
    sfresh: Signal<Local, Bit>,
    send: Signal<Local, Bit>,
    rto_sh: Signal<Local, Bits<32>>,
    dl_n: Signal<Local, Bits<32>>,
    tries_n: Signal<Local, Bits<4>>,
    pend_n: Signal<Local, Bits<16>>,
    kick_n: Signal<Local, Bits<16>>,
    to_n: Signal<Local, Bits<16>>,
    c_mask224: Constant<Bits<288>>,
    c_rec: Constant<Bits<8>>,
    c_ackwin: Constant<Bits<8>>,
    c_rto: Constant<Bits<8>>,
    c_retries: Constant<Bits<8>>,
    c_cmd: Constant<Bits<8>>,
    c_pending: Constant<Bits<8>>,
    c_timedout: Constant<Bits<8>>,
    c_slots: Constant<Bits<8>>,
    c_ones32: Constant<Bits<368>>,
}

impl Default for Connect {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            regs: Default::default(),
            ts_now: Default::default(),
            ev: Default::default(),
            verdict: Default::default(),
            q: Default::default(),
            cnt_syn: Default::default(),
            cnt_est: Default::default(),
            cnt_refused: Default::default(),
            cnt_timeout: Default::default(),
            mram: Default::default(),
            rram: Default::default(),
            tram: Default::default(),
            vfifo: Default::default(),
            cfifo: Default::default(),
            srec: Default::default(),
            sackwin: Default::default(),
            ack_v: Default::default(),
            ack_rec: Default::default(),
            wr_v: Default::default(),
            wr_rec: Default::default(),
            refused_d: Default::default(),
            v_conn: Default::default(),
            v_refused: Default::default(),
            rto: Default::default(),
            retries: Default::default(),
            pending: Default::default(),
            kick: Default::default(),
            timedout: Default::default(),
            st_d: Default::default(),
            st_slot: Default::default(),
            sweep_slot: Default::default(),
            sweep_prev: Default::default(),
            x_sa: Default::default(),
            x_rst: Default::default(),
            x_tuple: Default::default(),
            x_seq: Default::default(),
            x_ackn: Default::default(),
            wr_valid: Default::default(),
            wr_offset: Default::default(),
            wr_data: Default::default(),
            rsub: Default::default(),
            rbit: Default::default(),
            ro: Default::default(),
            start: Default::default(),
            abort: Default::default(),
            cslot: Default::default(),
            cbit: Default::default(),
            clr: Default::default(),
            set_to: Default::default(),
            unkick: Default::default(),
            xslot: Default::default(),
            xbit: Default::default(),
            ment: Default::default(),
            isn1: Default::default(),
            seq1: Default::default(),
            hit: Default::default(),
            verd: Default::default(),
            e_sa: Default::default(),
            e_rst: Default::default(),
            l_cand: Default::default(),
            lv: Default::default(),
            conn_v: Default::default(),
            refused_v: Default::default(),
            ackwin: Default::default(),
            ack_push: Default::default(),
            sbit: Default::default(),
            sdl: Default::default(),
            stries: Default::default(),
            sdiff: Default::default(),
            sdue: Default::default(),
            sroom: Default::default(),
            sfresh: Default::default(),
            send: Default::default(),
            rto_sh: Default::default(),
            dl_n: Default::default(),
            tries_n: Default::default(),
            pend_n: Default::default(),
            kick_n: Default::default(),
            to_n: Default::default(),
            c_mask224: Constant::new((Bits::<288>::from(1u64) << 224u64) - Bits::<288>::from(1u64)),
            c_rec: c8(r::SETUP_CONN_REC),
            c_ackwin: c8(r::SETUP_CONN_ACK_WIN),
            c_rto: c8(r::SETUP_CONN_RTO),
            c_retries: c8(r::SETUP_CONN_RETRIES),
            c_cmd: c8(r::SETUP_CONN_CMD),
            c_pending: c8(r::SETUP_CONN_PENDING),
            c_timedout: c8(r::SETUP_CONN_TIMEDOUT),
            c_slots: c8(r::SETUP_CONN_SLOTS),
            c_ones32: Constant::new(0xFFFF_FFFFu64.into()),
        }
    }
}

impl Logic for Connect {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, srec, sackwin, ack_v, ack_rec, wr_v, wr_rec, rto, retries, pending, kick,
            timedout, st_d, st_slot, sweep_slot, sweep_prev, x_sa, x_rst, x_tuple, x_seq, x_ackn,
            wr_valid, wr_offset, wr_data, refused_d, v_conn, v_refused
        );
        clock!(self, clock, vfifo, cfifo);
        self.mram.read_clock.next = self.clock.val();
        self.mram.write_clock.next = self.clock.val();
        self.rram.read_clock.next = self.clock.val();
        self.rram.write_clock.next = self.clock.val();
        self.tram.read_clock.next = self.clock.val();
        self.tram.write_clock.next = self.clock.val();
        self.vfifo.clear.next = self.rst.val();
        self.cfifo.clear.next = self.rst.val();
        // ------------------------------------------------------ registers
        // Register writes take effect a cycle after the port (registered
        // first: the decode below starts at flip-flops).
        self.wr_valid.d.next = self.regs.we.val() && (self.regs.waddr.val() < 256);
        self.wr_offset.d.next = bit_cast::<8, 16>(self.regs.waddr.val());
        self.wr_data.d.next = self.regs.wdata.val();
        self.rsub.next = 0.into();
        self.rbit.next = 0.into();
        self.start.next = false;
        self.abort.next = false;
        self.cslot.next = bit_cast::<4, 32>(self.wr_data.q.val());
        if self.wr_valid.q.val() {
            // SETUP_CONN_REC word i: record bits 32i+31:32i.
            if (self.wr_offset.q.val() >= self.c_rec.val())
                && (self.wr_offset.q.val() < self.c_rec.val() + 48)
            {
                self.rsub.next = self.wr_offset.q.val() - self.c_rec.val();
                self.rbit.next = bit_cast::<16, 8>(self.rsub.val() & 0xFC) << 3;
                self.srec.d.next = (self.srec.q.val() & !(self.c_ones32.val() << self.rbit.val()))
                    | (bit_cast::<368, 32>(self.wr_data.q.val()) << self.rbit.val());
            }
            if self.wr_offset.q.val() == self.c_ackwin.val() {
                self.sackwin.d.next = bit_cast::<16, 32>(self.wr_data.q.val());
            }
            if self.wr_offset.q.val() == self.c_rto.val() {
                self.rto.d.next = self.wr_data.q.val();
                if self.wr_data.q.val() == 0 {
                    self.rto.d.next = 1.into();
                }
            }
            if self.wr_offset.q.val() == self.c_retries.val() {
                self.retries.d.next = bit_cast::<4, 32>(self.wr_data.q.val());
                if self.wr_data.q.val() > 10 {
                    self.retries.d.next = 10.into();
                }
            }
            if self.wr_offset.q.val() == self.c_cmd.val() {
                self.start.next = ((self.wr_data.q.val() >> 8) & 3) == 1;
                self.abort.next = ((self.wr_data.q.val() >> 8) & 3) == 2;
            }
        }
        self.cbit.next = bit_cast::<16, 1>(true.into()) << self.cslot.val();
        // A start writes the slot's entry, record and bits.
        self.mram.write_enable.next = self.start.val();
        self.mram.write_address.next = self.cslot.val();
        // Bits 223:0 of the record are the entry's; the SYN's window and
        // TSval move.
        self.mram.write_data.next = (bit_cast::<288, 368>(self.srec.q.val())
            & self.c_mask224.val())
            | (bit_cast::<288, 16>(self.sackwin.q.val()) << 240)
            | (bit_cast::<288, 368>((self.srec.q.val() >> 256) & 0xFFFF) << 224)
            | (bit_cast::<288, 368>((self.srec.q.val() >> 295) & 0xFFFF_FFFF_u64) << 256);
        self.rram.write_enable.next = self.start.val();
        self.rram.write_address.next = self.cslot.val();
        self.rram.write_data.next = self.srec.q.val();
        self.st_d.d.next = self.start.val();
        self.st_slot.d.next = self.cslot.val();
        // ------------------------------------------------------ matching (P)
        self.e_sa.next = self.ev.e_valid.val() && ((self.ev.e_flags.val() & 0x17) == 0x12);
        self.e_rst.next = self.ev.e_valid.val() && ((self.ev.e_flags.val() & 0x17) == 0x14);
        self.mram.read_address.next = bit_cast::<4, 96>(self.ev.e_tuple.val());
        self.x_sa.d.next = self.e_sa.val();
        self.x_rst.d.next = self.e_rst.val();
        if self.e_sa.val() || self.e_rst.val() {
            self.x_tuple.d.next = self.ev.e_tuple.val();
            self.x_seq.d.next = self.ev.e_seq.val();
            self.x_ackn.d.next = self.ev.e_ackn.val();
        }
        // ------------------------------------------------------ P + 1
        self.xslot.next = bit_cast::<4, 96>(self.x_tuple.q.val());
        self.xbit.next = bit_cast::<16, 1>(true.into()) << self.xslot.val();
        self.ment.next = self.mram.read_data.val();
        self.isn1.next = bit_cast::<32, 288>(self.ment.val() >> 192) + 1;
        self.seq1.next = self.x_seq.q.val() + 1;
        self.hit.next = false;
        self.verd.next = 0.into();
        self.clr.next = 0.into();
        if self.x_sa.q.val() || self.x_rst.q.val() {
            // Ours (127:96, 175:160) is the frame's destination, the peer's
            // (159:128, 191:176) its source.
            self.hit.next = ((self.pending.q.val() & self.xbit.val()) != 0)
                && !(self.st_d.q.val() && (self.st_slot.q.val() == self.xslot.val()))
                && (bit_cast::<32, 288>(self.ment.val() >> 96)
                    == bit_cast::<32, 96>(self.x_tuple.q.val() >> 32))
                && (bit_cast::<32, 288>(self.ment.val() >> 128)
                    == bit_cast::<32, 96>(self.x_tuple.q.val() >> 64))
                && (bit_cast::<16, 288>(self.ment.val() >> 160)
                    == bit_cast::<16, 96>(self.x_tuple.q.val()))
                && (bit_cast::<16, 288>(self.ment.val() >> 176)
                    == bit_cast::<16, 96>(self.x_tuple.q.val() >> 16))
                && (self.x_ackn.q.val() == self.isn1.val());
            if self.hit.val() {
                self.clr.next = self.xbit.val();
                self.verd.next = bit_cast::<322, 1>(true.into())
                    | (bit_cast::<322, 1>(self.x_sa.q.val().into()) << 1)
                    | (bit_cast::<322, 192>(bit_cast::<192, 288>(self.ment.val())) << 2)
                    | (bit_cast::<322, 32>(self.x_ackn.q.val()) << 194)
                    | (bit_cast::<322, 32>(self.seq1.val()) << 226)
                    | (bit_cast::<322, 64>(bit_cast::<64, 288>(self.ment.val() >> 224)) << 258)
                    | (bit_cast::<322, 32>(bit_cast::<32, 288>(self.ment.val() >> 256)) << 290);
            }
        }
        self.vfifo.write.next = self.x_sa.q.val() || self.x_rst.q.val();
        self.vfifo.data_in.next = self.verd.val();
        // ------------------------------------------------------ late tap
        self.l_cand.next = self.ev.l_valid.val()
            && (((self.ev.l_flags.val() & 0x17) == 0x12)
                || ((self.ev.l_flags.val() & 0x17) == 0x14));
        self.lv.next = self.l_cand.val() && !self.vfifo.empty.val();
        self.vfifo.read.next = self.lv.val();
        self.conn_v.next = self.lv.val()
            && self.vfifo.data_out.val().get_bit(0)
            && self.vfifo.data_out.val().get_bit(1);
        self.refused_v.next = self.lv.val()
            && self.vfifo.data_out.val().get_bit(0)
            && !self.vfifo.data_out.val().get_bit(1);
        // The RX verdict, two registers later (P + 14; `ack_v` is the
        // connected one's first).
        self.refused_d.d.next = self.refused_v.val();
        self.v_conn.d.next = self.ack_v.q.val();
        self.v_refused.d.next = self.refused_d.q.val();
        self.verdict.consume.next = false;
        self.verdict.kind_valid.next = self.v_conn.q.val() || self.v_refused.q.val();
        self.verdict.kind.next = 0.into();
        if self.v_conn.q.val() {
            self.verdict.kind.next = 3.into();
        }
        if self.v_refused.q.val() {
            self.verdict.kind.next = 4.into();
        }
        self.verdict.opts_valid.next = false;
        self.verdict.mss.next = 0.into();
        self.verdict.ws.next = 0.into();
        self.verdict.sackp.next = false;
        self.ackwin.next = bit_cast::<16, 322>(self.vfifo.data_out.val() >> 258);
        if self.ev.l_ws.val().get_bit(7) {
            self.ackwin.next = bit_cast::<16, 322>(self.vfifo.data_out.val() >> 274);
        }
        // The ACK: MACs and tuple, seq, ack, window; timestamps as the
        // SYN-ACK has them; flags ACK; no MSS, SACK-permitted or window
        // scale.  Queued a cycle later (`ack_push`).
        self.ack_v.d.next = self.conn_v.val();
        self.ack_rec.d.next =
            bit_cast::<368, 256>(bit_cast::<256, 322>(self.vfifo.data_out.val() >> 2))
                | (bit_cast::<368, 16>(self.ackwin.val()) << 256)
                | (bit_cast::<368, 1>(self.ev.l_ts.val().into()) << 294)
                | (bit_cast::<368, 32>(bit_cast::<32, 322>(self.vfifo.data_out.val() >> 290))
                    << 295)
                | (bit_cast::<368, 32>(self.ev.l_tsval.val()) << 327)
                | (bit_cast::<368, 8>(0x10.into()) << 359);
        self.ack_push.next = self.ack_v.q.val() && !self.cfifo.full.val();
        // ------------------------------------------------------ timer sweep
        self.tram.read_address.next = self.sweep_slot.q.val();
        self.rram.read_address.next = self.sweep_slot.q.val();
        self.sweep_slot.d.next = self.sweep_slot.q.val() + 1;
        self.sweep_prev.d.next = self.sweep_slot.q.val();
        self.send.next = false;
        self.set_to.next = 0.into();
        self.unkick.next = 0.into();
        self.sbit.next = 0.into();
        self.sdl.next = 0.into();
        self.stries.next = 0.into();
        self.sdiff.next = 0.into();
        self.sdue.next = false;
        self.sroom.next = false;
        self.sfresh.next = false;
        self.rto_sh.next = 0.into();
        self.dl_n.next = 0.into();
        self.tries_n.next = 0.into();
        self.tram.write_address.next = self.sweep_prev.q.val();
        self.tram.write_data.next = 0.into();
        // With no open pending (the usual case) none of this is evaluated.
        if self.pending.q.val() != 0 {
            self.sbit.next = bit_cast::<16, 1>(true.into()) << self.sweep_prev.q.val();
            self.sdl.next = bit_cast::<32, 36>(self.tram.read_data.val());
            self.stries.next = bit_cast::<4, 36>(self.tram.read_data.val() >> 32);
            self.sdiff.next = self.ts_now.val() - self.sdl.val();
            self.sdue.next = !self.sdiff.val().get_bit(31);
            self.sroom.next = (self.cfifo.level.val() < 8) && !self.ack_v.q.val();
            // The slot's RAMs were read while a start wrote them: next round.
            self.sfresh.next =
                self.st_d.q.val() && (self.st_slot.q.val() == self.sweep_prev.q.val());
            // The timer after a send: the first SYN waits rto, the n-th rto << (n - 1).
            self.rto_sh.next = self.rto.q.val() << self.stries.val();
            self.dl_n.next = self.ts_now.val() + self.rto_sh.val();
            self.tries_n.next = self.stries.val() + 1;
            if (self.kick.q.val() & self.sbit.val()) != 0 {
                self.dl_n.next = self.ts_now.val() + self.rto.q.val();
                self.tries_n.next = 1.into();
            }
            self.tram.write_data.next =
                bit_cast::<36, 32>(self.dl_n.val()) | (bit_cast::<36, 4>(self.tries_n.val()) << 32);
            if ((self.pending.q.val() & self.sbit.val()) != 0) && !self.sfresh.val() {
                if (self.kick.q.val() & self.sbit.val()) != 0 {
                    self.send.next = self.sroom.val();
                    if self.sroom.val() {
                        self.unkick.next = self.sbit.val();
                    }
                } else {
                    if self.sdue.val() {
                        if self.stries.val() > self.retries.q.val() {
                            self.set_to.next = self.sbit.val();
                        } else {
                            self.send.next = self.sroom.val();
                        }
                    }
                }
            }
        }
        // The timer is written exactly when a SYN is queued.
        self.tram.write_enable.next = self.send.val();
        // ------------------------------------------------------ records
        self.wr_v.d.next = self.ack_push.val() || self.send.val();
        self.wr_rec.d.next = self.rram.read_data.val();
        if self.ack_push.val() {
            self.wr_rec.d.next = self.ack_rec.q.val();
        }
        self.cfifo.write.next = self.wr_v.q.val();
        self.cfifo.data_in.next = self.wr_rec.q.val();
        self.cfifo.read.next = self.q.pop.val();
        self.q.empty.next = self.cfifo.empty.val();
        self.q.data.next = self.cfifo.data_out.val();
        // ------------------------------------------------------ slot bits
        self.pend_n.next = self.pending.q.val() & !self.clr.val() & !self.set_to.val();
        self.kick_n.next = self.kick.q.val() & !self.clr.val() & !self.unkick.val();
        self.to_n.next = self.timedout.q.val() | self.set_to.val();
        if self.start.val() {
            self.pend_n.next = self.pend_n.val() | self.cbit.val();
            self.kick_n.next = self.kick_n.val() | self.cbit.val();
            self.to_n.next = self.to_n.val() & !self.cbit.val();
        }
        if self.abort.val() {
            self.pend_n.next = self.pend_n.val() & !self.cbit.val();
            self.kick_n.next = self.kick_n.val() & !self.cbit.val();
            self.to_n.next = self.to_n.val() & !self.cbit.val();
        }
        self.pending.d.next = self.pend_n.val();
        self.kick.d.next = self.kick_n.val();
        self.timedout.d.next = self.to_n.val();
        self.cnt_syn.next = self.send.val();
        self.cnt_est.next = self.conn_v.val();
        self.cnt_refused.next = self.refused_v.val();
        self.cnt_timeout.next = self.set_to.val() != 0;
        // ------------------------------------------------------ reads
        self.ro.next = bit_cast::<8, 16>(self.regs.raddr.val());
        self.regs.rdata.next = 0.into();
        if self.regs.raddr.val() < 256 {
            if self.ro.val() == self.c_ackwin.val() {
                self.regs.rdata.next = bit_cast::<32, 16>(self.sackwin.q.val());
            }
            if self.ro.val() == self.c_rto.val() {
                self.regs.rdata.next = self.rto.q.val();
            }
            if self.ro.val() == self.c_retries.val() {
                self.regs.rdata.next = bit_cast::<32, 4>(self.retries.q.val());
            }
            if self.ro.val() == self.c_pending.val() {
                self.regs.rdata.next = bit_cast::<32, 16>(self.pending.q.val());
            }
            if self.ro.val() == self.c_timedout.val() {
                self.regs.rdata.next = bit_cast::<32, 16>(self.timedout.q.val());
            }
            if self.ro.val() == self.c_slots.val() {
                self.regs.rdata.next = 16.into();
            }
        }
        if self.rst.val() {
            self.srec.d.next = 0.into();
            self.sackwin.d.next = 0.into();
            self.ack_v.d.next = false;
            self.refused_d.d.next = false;
            self.v_conn.d.next = false;
            self.v_refused.d.next = false;
            self.ack_rec.d.next = 0.into();
            self.wr_v.d.next = false;
            self.wr_rec.d.next = 0.into();
            self.rto.d.next = 1000.into();
            self.retries.d.next = 6.into();
            self.pending.d.next = 0.into();
            self.kick.d.next = 0.into();
            self.timedout.d.next = 0.into();
            self.st_d.d.next = false;
            self.st_slot.d.next = 0.into();
            self.sweep_slot.d.next = 0.into();
            self.sweep_prev.d.next = 0.into();
            self.x_sa.d.next = false;
            self.x_rst.d.next = false;
            self.x_tuple.d.next = 0.into();
            self.x_seq.d.next = 0.into();
            self.x_ackn.d.next = 0.into();
            self.wr_valid.d.next = false;
            self.mram.write_enable.next = false;
            self.rram.write_enable.next = false;
            self.tram.write_enable.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_generates_verilog() {
        let mut uut = Connect::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
