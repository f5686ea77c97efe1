//! Completion coalescer: takes completion requests from the RX and TX
//! engines, fills in the phase bit and ring address, and packs consecutive
//! completions of one ring into a 64-byte line (two 32-byte records), so one
//! W beat can carry two completions.  The DMA write engine takes a line when
//! it is `urgent` (full, a request could not join it, or a second line waits)
//! or when it has nothing else to write, so an idle NIC writes completions
//! at once.
//!
//! Pipelined for timing (docs/timing.md), every path a few LUTs deep and
//! carry chains of at most 32 bits:
//!
//! 1. Pick: a request leaves the RX or the TX request FIFO (alternating when
//!    both wait) into a register, while the ready queue below has room for
//!    it (a count of the requests between the pick and the merge).
//! 2. Record and low address: the ring's log2 size and base are selected,
//!    the index and phase put into the record, and the low 32 bits of
//!    `base + 32 * slot` added (with the carry kept).
//! 3. High address: the high word plus the carry gives the line address,
//!    which is compared with the previous request's line (so the merge
//!    below needs one bit); the request enters the ready queue.
//! 4. Merge: the ready queue's head joins the staged line (the other half
//!    of the line of the request before it, that line still staged) or
//!    starts a new one.
//! 5. Out: the staged line moves into an output register slice (`line_out`,
//!    a `RegSlice`: two lines) when it is full, when the head cannot join
//!    it, or when it has waited `AGE` cycles; the DMA write engine takes
//!    lines from there.  The merge decides from registered state only (the
//!    slice's registered `in_ready`), so the engine's take, itself decided
//!    from the coalescer's outputs, reaches nothing but the slice
//!    (docs/timing.md: the take used to reach the ready queue's read
//!    pointer through the merge, 9 LUT levels).
//!
//! A request reaches the staged line six cycles after its write (two in the
//! old single-stage design) and the engine a cycle after the line is
//! complete; throughput stays one request per cycle and one line per two
//! cycles.  The FIFOs have registered flags (`ClearFifo`); every output
//! comes from a register.
use crate::common::reg_slice::RegSlice;
use crate::common::stream::PushIn;
use rust_hdl::prelude::*;
use toe_contract::desc as d;

// Request: record (255:0, index and phase ignored), ring (258:256, TX
// queues 0..3, RX queues 4..7), index (274:259).
// Deadlock freedom: the RX data stage must never wait for room here, since
// completion lines drain this FIFO through the same in-order job FIFO as the
// frames (a frame job waiting at its head would block the line job behind
// it).  The RX address stage (`DmaAddr`) therefore starts a frame only while
// this FIFO's level plus the frames already started stays below 28 of its 32
// entries (`rx_level`).  An earlier argument that sizing alone prevents the
// wait was wrong: tests/tests/tcp_interop.rs deadlocked it.
crate::declare_clear_fifo!(CplReqFifo, Bits<275>, 32, 2);
/// Ready queue: record (255:0), half (256), line address bits 63:6
/// (314:257), same line as the request before it (315).
pub const READY_BITS: usize = 316;
/// Entries of the ready queue (requests between the pick and the merge).
pub const READY_ENTRIES: u32 = 16;
crate::declare_clear_fifo!(CplReadyFifo, Bits<316>, 16, 1);
/// A line in the output slice: data (511:0), line address bits 63:6
/// (569:512), low half filled (570), high half filled (571), urgent (572:
/// full, or it left because a request could not join it).
pub const LINE_BITS: usize = 573;
/// Cycles a staged line waits for its other half before it moves out.
pub const AGE: u64 = 4;

#[derive(LogicBlock)]
pub struct CplCoalesce {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Completion ring bases, 64 bits per ring.
    pub cpl_base: Signal<In, Bits<512>>,
    /// Queue control, 8 bits per ring: 3:0 log2 size.
    pub qctl: Signal<In, Bits<64>>,
    /// RX completion requests (`DmaData`).
    pub rx: PushIn<275>,
    /// Requests held in the RX request FIFO.
    pub rx_level: Signal<Out, Bits<6>>,
    /// TX completion requests (`TxStream`).
    pub tx: PushIn<275>,
    pub line_valid: Signal<Out, Bit>,
    pub line_urgent: Signal<Out, Bit>,
    pub line_addr: Signal<Out, Bits<64>>,
    pub line_data: Signal<Out, Bits<512>>,
    pub line_strb: Signal<Out, Bits<64>>,
    pub line_take: Signal<In, Bit>,
    rxf: CplReqFifo,
    txf: CplReqFifo,
    ready: CplReadyFifo,
    line_out: RegSlice<LINE_BITS>,
    /// Requests picked and not yet merged (stages 1 to 3 and the ready
    /// queue), and whether the ready queue is full with them.
    used: DFF<Bits<5>>,
    no_room: DFF<Bit>,
    rr: DFF<Bit>,
    // Stage 1: the picked request.
    s1_valid: DFF<Bit>,
    s1_req: DFF<Bits<275>>,
    // Stage 2: record, low address with carry, high word of the base.
    s2_valid: DFF<Bit>,
    s2_rec: DFF<Bits<256>>,
    s2_lo: DFF<Bits<33>>,
    s2_hi: DFF<Bits<32>>,
    /// Line address (bits 63:6) of the last request into the ready queue.
    last_line: DFF<Bits<58>>,
    // The staged line: valid, line address (63:6), data, halves filled.
    st_valid: DFF<Bit>,
    st_line: DFF<Bits<58>>,
    st_data: DFF<Bits<512>>,
    st_lo: DFF<Bit>,
    st_hi: DFF<Bit>,
    age: DFF<Bits<3>>,
    // scratch
    use_tx: Signal<Local, Bit>,
    pick: Signal<Local, Bit>,
    merged: Signal<Local, Bit>,
    used_up: Signal<Local, Bits<5>>,
    used_down: Signal<Local, Bits<5>>,
    ring: Signal<Local, Bits<3>>,
    idx: Signal<Local, Bits<16>>,
    log2: Signal<Local, Bits<4>>,
    slot: Signal<Local, Bits<16>>,
    base: Signal<Local, Bits<64>>,
    rec: Signal<Local, Bits<256>>,
    hi: Signal<Local, Bits<32>>,
    line: Signal<Local, Bits<58>>,
    rq_in: Signal<Local, Bits<316>>,
    h_rec: Signal<Local, Bits<256>>,
    h_half: Signal<Local, Bit>,
    h_line: Signal<Local, Bits<58>>,
    h_same: Signal<Local, Bit>,
    fits_st: Signal<Local, Bit>,
    head: Signal<Local, Bit>,
    st_full: Signal<Local, Bit>,
    st_aged: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
    stv: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    out_word: Signal<Local, Bits<LINE_BITS>>,
    c_index: Constant<Bits<16>>,
    c_phase: Constant<Bits<256>>,
    c_one: Constant<Bits<16>>,
    c_room_m1: Constant<Bits<5>>,
    c_room: Constant<Bits<5>>,
    c_age: Constant<Bits<3>>,
}

impl Default for CplCoalesce {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            cpl_base: Default::default(),
            qctl: Default::default(),
            rx: Default::default(),
            rx_level: Default::default(),
            tx: Default::default(),
            line_valid: Default::default(),
            line_urgent: Default::default(),
            line_addr: Default::default(),
            line_data: Default::default(),
            line_strb: Default::default(),
            line_take: Default::default(),
            rxf: Default::default(),
            txf: Default::default(),
            ready: Default::default(),
            line_out: Default::default(),
            used: Default::default(),
            no_room: Default::default(),
            rr: Default::default(),
            s1_valid: Default::default(),
            s1_req: Default::default(),
            s2_valid: Default::default(),
            s2_rec: Default::default(),
            s2_lo: Default::default(),
            s2_hi: Default::default(),
            last_line: Default::default(),
            st_valid: Default::default(),
            st_line: Default::default(),
            st_data: Default::default(),
            st_lo: Default::default(),
            st_hi: Default::default(),
            age: Default::default(),
            use_tx: Default::default(),
            pick: Default::default(),
            merged: Default::default(),
            used_up: Default::default(),
            used_down: Default::default(),
            ring: Default::default(),
            idx: Default::default(),
            log2: Default::default(),
            slot: Default::default(),
            base: Default::default(),
            rec: Default::default(),
            hi: Default::default(),
            line: Default::default(),
            rq_in: Default::default(),
            h_rec: Default::default(),
            h_half: Default::default(),
            h_line: Default::default(),
            h_same: Default::default(),
            fits_st: Default::default(),
            head: Default::default(),
            st_full: Default::default(),
            st_aged: Default::default(),
            push: Default::default(),
            stv: Default::default(),
            accept: Default::default(),
            out_word: Default::default(),
            c_index: Constant::new((d::CPL_INDEX_BIT as u64).into()),
            c_phase: Constant::new(Bits::<256>::from(1u64) << (d::CPL_PHASE_BIT as u64)),
            c_one: Constant::new(1u64.into()),
            c_room_m1: Constant::new(((READY_ENTRIES - 1) as u64).into()),
            c_room: Constant::new((READY_ENTRIES as u64).into()),
            c_age: Constant::new(AGE.into()),
        }
    }
}

impl Logic for CplCoalesce {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, used, no_room, rr, s1_valid, s1_req, s2_valid, s2_rec, s2_lo, s2_hi,
            last_line, st_valid, st_line, st_data, st_lo, st_hi, age
        );
        clock!(self, clock, rxf, txf, ready, line_out);
        self.line_out.rst.next = self.rst.val();
        self.rxf.clear.next = self.rst.val();
        self.txf.clear.next = self.rst.val();
        self.ready.clear.next = self.rst.val();
        self.rxf.write.next = self.rx.write.val();
        self.rxf.data_in.next = self.rx.data.val();
        self.rx.full.next = self.rxf.almost_full.val();
        self.rx_level.next = self.rxf.level.val();
        self.txf.write.next = self.tx.write.val();
        self.txf.data_in.next = self.tx.data.val();
        self.tx.full.next = self.txf.almost_full.val();
        // ------------------------------------------------ 1: pick
        // A request (alternating when both wait) while the ready queue has
        // room for everything picked and not yet merged.
        self.use_tx.next = !self.txf.empty.val() && (self.rxf.empty.val() || self.rr.q.val());
        self.pick.next = (!self.txf.empty.val() || !self.rxf.empty.val()) && !self.no_room.q.val();
        self.rxf.read.next = self.pick.val() && !self.use_tx.val();
        self.txf.read.next = self.pick.val() && self.use_tx.val();
        self.s1_valid.d.next = self.pick.val();
        self.s1_req.d.next = self.rxf.data_out.val();
        if self.use_tx.val() {
            self.s1_req.d.next = self.txf.data_out.val();
        }
        if self.pick.val() {
            self.rr.d.next = !self.rr.q.val();
        }
        // ------------------------------------------------ 2: record, low address
        self.ring.next = bit_cast::<3, 275>(self.s1_req.q.val() >> 256);
        self.idx.next = bit_cast::<16, 275>(self.s1_req.q.val() >> 259);
        self.log2.next =
            bit_cast::<4, 64>(self.qctl.val() >> (bit_cast::<9, 3>(self.ring.val()) << 3));
        self.slot.next = self.idx.val() & ((self.c_one.val() << self.log2.val()) - 1);
        self.base.next =
            bit_cast::<64, 512>(self.cpl_base.val() >> (bit_cast::<9, 3>(self.ring.val()) << 6));
        self.rec.next = (bit_cast::<256, 275>(self.s1_req.q.val())
            & !(bit_cast::<256, 16>(0xFFFF.into()) << self.c_index.val()))
            & !self.c_phase.val();
        self.rec.next =
            self.rec.val() | (bit_cast::<256, 16>(self.idx.val()) << self.c_index.val());
        if ((self.idx.val() >> self.log2.val()) & 1) == 0 {
            self.rec.next = self.rec.val() | self.c_phase.val();
        }
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_rec.d.next = self.rec.val();
        self.s2_lo.d.next = bit_cast::<33, 64>(self.base.val() & 0xFFFF_FFFF_u64)
            + (bit_cast::<33, 16>(self.slot.val()) << 5);
        self.s2_hi.d.next = bit_cast::<32, 64>(self.base.val() >> 32);
        // ------------------------------------------------ 3: high address
        self.hi.next = self.s2_hi.q.val();
        if self.s2_lo.q.val().get_bit(32) {
            self.hi.next = self.s2_hi.q.val() + 1;
        }
        self.line.next = bit_cast::<58, 33>((self.s2_lo.q.val() >> 6) & 0x3FF_FFFF)
            | (bit_cast::<58, 32>(self.hi.val()) << 26);
        self.ready.write.next = self.s2_valid.q.val();
        self.rq_in.next = bit_cast::<316, 256>(self.s2_rec.q.val())
            | (bit_cast::<316, 1>(self.s2_lo.q.val().get_bit(5).into()) << 256)
            | (bit_cast::<316, 58>(self.line.val()) << 257);
        if self.line.val() == self.last_line.q.val() {
            self.rq_in.next = self.rq_in.val() | (bit_cast::<316, 1>(true.into()) << 315);
        }
        self.ready.data_in.next = self.rq_in.val();
        if self.s2_valid.q.val() {
            self.last_line.d.next = self.line.val();
        }
        // ------------------------------------------------ 4: merge
        self.h_rec.next = bit_cast::<256, 316>(self.ready.data_out.val());
        self.h_half.next = self.ready.data_out.val().get_bit(256);
        self.h_line.next = bit_cast::<58, 316>(self.ready.data_out.val() >> 257);
        self.h_same.next = self.ready.data_out.val().get_bit(315);
        self.head.next = !self.ready.empty.val();
        // The head joins the staged line if it is the other half of it: the
        // staged line is the line of the request merged before (registered
        // state only).
        self.fits_st.next = self.h_same.val()
            && ((self.h_half.val() && !self.st_hi.q.val())
                || (!self.h_half.val() && !self.st_lo.q.val()));
        self.st_full.next = self.st_lo.q.val() && self.st_hi.q.val();
        self.st_aged.next = self.age.q.val() >= self.c_age.val();
        // ------------------------------------------------ 5: out
        // The staged line moves out when the output slice has room and it
        // is full, in the way of the head, or aged with no head to join it.
        // A full line never fits a head, so a head that fits always joins.
        self.push.next = self.st_valid.q.val() && self.line_out.in_ready.val();
        if self.head.val() {
            self.push.next = self.push.val() && !self.fits_st.val();
        } else {
            self.push.next = self.push.val() && (self.st_full.val() || self.st_aged.val());
        }
        // The staged line after a possible move out this cycle.
        self.stv.next = self.st_valid.q.val() && !self.push.val();
        self.accept.next = self.head.val()
            && (!self.st_valid.q.val() || self.fits_st.val() || self.line_out.in_ready.val());
        self.ready.read.next = self.accept.val();
        self.line_out.in_valid.next = self.push.val();
        self.line_out.in_data.next = bit_cast::<LINE_BITS, 512>(self.st_data.q.val())
            | (bit_cast::<LINE_BITS, 58>(self.st_line.q.val()) << 512)
            | (bit_cast::<LINE_BITS, 1>(self.st_lo.q.val().into()) << 570)
            | (bit_cast::<LINE_BITS, 1>(self.st_hi.q.val().into()) << 571);
        if self.st_full.val() || self.head.val() {
            self.line_out.in_data.next =
                self.line_out.in_data.val() | (bit_cast::<LINE_BITS, 1>(true.into()) << 572);
        }
        if self.push.val() {
            self.st_valid.d.next = false;
        }
        if self.accept.val() {
            self.st_valid.d.next = true;
            self.st_line.d.next = self.h_line.val();
            if self.stv.val() {
                // Joins: the other half is filled already.
                if self.h_half.val() {
                    self.st_data.d.next =
                        self.st_data.q.val() | (bit_cast::<512, 256>(self.h_rec.val()) << 256);
                    self.st_hi.d.next = true;
                } else {
                    self.st_data.d.next =
                        self.st_data.q.val() | bit_cast::<512, 256>(self.h_rec.val());
                    self.st_lo.d.next = true;
                }
            } else {
                if self.h_half.val() {
                    self.st_data.d.next = bit_cast::<512, 256>(self.h_rec.val()) << 256;
                } else {
                    self.st_data.d.next = bit_cast::<512, 256>(self.h_rec.val());
                }
                self.st_hi.d.next = self.h_half.val();
                self.st_lo.d.next = !self.h_half.val();
            }
        }
        // Requests between the pick and the merge; room for one more while
        // fewer than the ready queue's entries (a merge frees its place a
        // cycle late).
        self.merged.next = self.accept.val();
        self.used_up.next = self.used.q.val() + 1;
        self.used_down.next = self.used.q.val() - 1;
        if self.pick.val() && !self.merged.val() {
            self.used.d.next = self.used_up.val();
        }
        if !self.pick.val() && self.merged.val() {
            self.used.d.next = self.used_down.val();
        }
        self.no_room.d.next = self.used.q.val() >= self.c_room.val();
        if self.pick.val() {
            self.no_room.d.next = self.used.q.val() >= self.c_room_m1.val();
        }
        // Age of the staged line, restarted when a new line is staged.
        if self.st_valid.q.val() && (self.age.q.val() != 7) {
            self.age.d.next = self.age.q.val() + 1;
        }
        if self.accept.val() && !self.stv.val() {
            self.age.d.next = 0.into();
        }
        // The engine's side: every line in the slice is due (it left the
        // staging register full, pushed out, or aged).  Urgent: full, or it
        // was in a request's way, or a second line waits behind it.
        self.line_out.out_ready.next = self.line_take.val();
        self.out_word.next = self.line_out.out_data.val();
        self.line_valid.next = self.line_out.out_valid.val();
        self.line_urgent.next = self.line_out.out_valid.val()
            && (self.out_word.val().get_bit(572) || !self.line_out.in_ready.val());
        self.line_addr.next =
            bit_cast::<64, 58>(bit_cast::<58, LINE_BITS>(self.out_word.val() >> 512)) << 6;
        self.line_data.next = bit_cast::<512, LINE_BITS>(self.out_word.val());
        self.line_strb.next = 0.into();
        if self.out_word.val().get_bit(570) {
            self.line_strb.next = 0xFFFF_FFFF_u64.into();
        }
        if self.out_word.val().get_bit(571) {
            self.line_strb.next = self.line_strb.val() | 0xFFFF_FFFF_0000_0000_u64;
        }
        if self.rst.val() {
            self.age.d.next = 0.into();
            self.st_valid.d.next = false;
            self.st_lo.d.next = false;
            self.st_hi.d.next = false;
            self.rr.d.next = false;
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.used.d.next = 0.into();
            self.no_room.d.next = false;
        }
    }
}

// The invariant above, checked where both sizes are known.
const _: () = assert!(32 - 2 > 16);
