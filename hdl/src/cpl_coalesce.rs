//! Completion coalescer: takes completion requests from the RX and TX
//! engines, fills in the phase bit and ring address, and packs consecutive
//! completions of one ring into a 64-byte line (two 32-byte records), so one
//! W beat can carry two completions.  The DMA write engine takes a line when
//! it is `urgent` (full, or a request waits that cannot join it) or when it
//! has nothing else to write, so an idle NIC writes completions at once.
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

#[derive(LogicBlock)]
pub struct CplCoalesce {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Completion ring bases, 64 bits per ring.
    pub cpl_base: Signal<In, Bits<512>>,
    /// Queue control, 8 bits per ring: 3:0 log2 size.
    pub qctl: Signal<In, Bits<64>>,
    pub rx_req: Signal<In, Bit>,
    pub rx_data: Signal<In, Bits<275>>,
    pub rx_full: Signal<Out, Bit>,
    /// Requests held in the RX request FIFO.
    pub rx_level: Signal<Out, Bits<6>>,
    pub tx_req: Signal<In, Bit>,
    pub tx_data: Signal<In, Bits<275>>,
    pub tx_full: Signal<Out, Bit>,
    pub line_valid: Signal<Out, Bit>,
    pub line_urgent: Signal<Out, Bit>,
    /// The staged line has waited `AGE_FLUSH` cycles: an idle NIC writes it.
    pub line_aged: Signal<Out, Bit>,
    pub line_addr: Signal<Out, Bits<64>>,
    pub line_data: Signal<Out, Bits<512>>,
    pub line_strb: Signal<Out, Bits<64>>,
    pub line_take: Signal<In, Bit>,
    rxf: CplReqFifo,
    txf: CplReqFifo,
    st_valid: DFF<Bit>,
    st_addr: DFF<Bits<64>>,
    st_data: DFF<Bits<512>>,
    st_strb: DFF<Bits<64>>,
    rr: DFF<Bit>,
    urgent: DFF<Bit>,
    age: DFF<Bits<3>>,
    // scratch
    use_tx: Signal<Local, Bit>,
    any: Signal<Local, Bit>,
    req: Signal<Local, Bits<275>>,
    ring: Signal<Local, Bits<3>>,
    idx: Signal<Local, Bits<16>>,
    log2: Signal<Local, Bits<16>>,
    addr: Signal<Local, Bits<64>>,
    lineaddr: Signal<Local, Bits<64>>,
    half: Signal<Local, Bit>,
    rec: Signal<Local, Bits<256>>,
    fits: Signal<Local, Bit>,
    fits_st: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    stv: Signal<Local, Bit>,
    c_index: Constant<Bits<16>>,
    c_phase: Constant<Bits<256>>,
    c_one: Constant<Bits<16>>,
}

impl Default for CplCoalesce {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            cpl_base: Default::default(),
            qctl: Default::default(),
            rx_req: Default::default(),
            rx_data: Default::default(),
            rx_full: Default::default(),
            rx_level: Default::default(),
            tx_req: Default::default(),
            tx_data: Default::default(),
            tx_full: Default::default(),
            line_valid: Default::default(),
            line_urgent: Default::default(),
            line_aged: Default::default(),
            line_addr: Default::default(),
            line_data: Default::default(),
            line_strb: Default::default(),
            line_take: Default::default(),
            rxf: Default::default(),
            txf: Default::default(),
            st_valid: Default::default(),
            st_addr: Default::default(),
            st_data: Default::default(),
            st_strb: Default::default(),
            rr: Default::default(),
            urgent: Default::default(),
            age: Default::default(),
            use_tx: Default::default(),
            any: Default::default(),
            req: Default::default(),
            ring: Default::default(),
            idx: Default::default(),
            log2: Default::default(),
            addr: Default::default(),
            lineaddr: Default::default(),
            half: Default::default(),
            rec: Default::default(),
            fits: Default::default(),
            fits_st: Default::default(),
            accept: Default::default(),
            stv: Default::default(),
            c_index: Constant::new((d::CPL_INDEX_BIT as u64).into()),
            c_phase: Constant::new(Bits::<256>::from(1u64) << (d::CPL_PHASE_BIT as u64)),
            c_one: Constant::new(1u64.into()),
        }
    }
}

impl Logic for CplCoalesce {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, st_valid, st_addr, st_data, st_strb, rr, urgent, age);
        clock!(self, clock, rxf, txf);
        self.rxf.clear.next = self.rst.val();
        self.txf.clear.next = self.rst.val();
        self.rxf.write.next = self.rx_req.val();
        self.rxf.data_in.next = self.rx_data.val();
        self.rx_full.next = self.rxf.almost_full.val();
        self.rx_level.next = self.rxf.level.val();
        self.txf.write.next = self.tx_req.val();
        self.txf.data_in.next = self.tx_data.val();
        self.tx_full.next = self.txf.almost_full.val();
        // Pick a request (alternating when both wait).
        self.use_tx.next = !self.txf.empty.val() && (self.rxf.empty.val() || self.rr.q.val());
        self.any.next = !self.txf.empty.val() || !self.rxf.empty.val();
        self.req.next = self.rxf.data_out.val();
        if self.use_tx.val() {
            self.req.next = self.txf.data_out.val();
        }
        self.ring.next = bit_cast::<3, 275>(self.req.val() >> 256);
        self.idx.next = bit_cast::<16, 275>(self.req.val() >> 259);
        self.log2.next =
            bit_cast::<16, 64>((self.qctl.val() >> (bit_cast::<8, 3>(self.ring.val()) << 3)) & 0xF);
        self.addr.next = self
            .cpl_base
            .val()
            .get_bits::<64>(self.ring.val().index() * 64)
            + (bit_cast::<64, 16>(self.idx.val() & ((self.c_one.val() << self.log2.val()) - 1))
                << 5);
        self.lineaddr.next = self.addr.val() & 0xFFFF_FFFF_FFFF_FFC0_u64;
        self.half.next = self.addr.val().get_bit(5);
        self.rec.next = (bit_cast::<256, 275>(self.req.val())
            & !(bit_cast::<256, 16>(0xFFFF.into()) << self.c_index.val()))
            & !self.c_phase.val();
        self.rec.next =
            self.rec.val() | (bit_cast::<256, 16>(self.idx.val()) << self.c_index.val());
        if ((self.idx.val() >> self.log2.val()) & 1) == 0 {
            self.rec.next = self.rec.val() | self.c_phase.val();
        }
        // The staged line after a possible take this cycle.
        self.stv.next = self.st_valid.q.val() && !self.line_take.val();
        // A request joins the staged line if it is the other half of it.
        // The request is the empty half of the staged line (registered
        // state only), and that line stays this cycle.
        self.fits_st.next = (self.lineaddr.val() == self.st_addr.q.val())
            && ((self.half.val() && ((self.st_strb.q.val() >> 32) == 0))
                || (!self.half.val() && ((self.st_strb.q.val() & 0xFFFF_FFFF_u64) == 0)));
        self.fits.next = self.stv.val() && self.fits_st.val();
        self.accept.next = self.any.val() && (!self.stv.val() || self.fits.val());
        self.rxf.read.next = self.accept.val() && !self.use_tx.val();
        self.txf.read.next = self.accept.val() && self.use_tx.val();
        if self.line_take.val() {
            self.st_valid.d.next = false;
        }
        if self.accept.val() {
            self.rr.d.next = !self.rr.q.val();
            self.st_valid.d.next = true;
            self.st_addr.d.next = self.lineaddr.val();
            if self.fits.val() {
                if self.half.val() {
                    self.st_data.d.next =
                        self.st_data.q.val() | (bit_cast::<512, 256>(self.rec.val()) << 256);
                    self.st_strb.d.next = self.st_strb.q.val() | 0xFFFF_FFFF_0000_0000_u64;
                } else {
                    self.st_data.d.next =
                        self.st_data.q.val() | bit_cast::<512, 256>(self.rec.val());
                    self.st_strb.d.next = self.st_strb.q.val() | 0xFFFF_FFFF_u64;
                }
            } else {
                if self.half.val() {
                    self.st_data.d.next = bit_cast::<512, 256>(self.rec.val()) << 256;
                    self.st_strb.d.next = 0xFFFF_FFFF_0000_0000_u64.into();
                } else {
                    self.st_data.d.next = bit_cast::<512, 256>(self.rec.val());
                    self.st_strb.d.next = 0xFFFF_FFFF_u64.into();
                }
            }
        }
        self.line_valid.next = self.st_valid.q.val();
        self.line_addr.next = self.st_addr.q.val();
        self.line_data.next = self.st_data.q.val();
        self.line_strb.next = self.st_strb.q.val();
        // Urgency is a registered hint (one cycle late), so the take -> urgent
        // path forms no combinational loop with the DMA engine; a line flushed
        // half full is still correct (the other half is written later).
        self.urgent.d.next = self.st_valid.q.val()
            && ((self.st_strb.q.val() == 0xFFFF_FFFF_FFFF_FFFF_u64)
                || (self.any.val() && !self.fits_st.val()));
        if self.line_take.val() {
            // The hint described the line just taken, not the next one.
            self.urgent.d.next = false;
        }
        // Age of the staged line, restarted when a new line is staged.
        if self.st_valid.q.val() && (self.age.q.val() != 7) {
            self.age.d.next = self.age.q.val() + 1;
        }
        if self.accept.val() && !self.fits.val() {
            self.age.d.next = 0.into();
        }
        self.line_aged.next = self.st_valid.q.val() && (self.age.q.val() >= 4);
        // A full line is urgent at once (registered state only); a line that
        // blocks a waiting request becomes urgent one cycle later.
        self.line_urgent.next = self.st_valid.q.val()
            && (self.urgent.q.val() || (self.st_strb.q.val() == 0xFFFF_FFFF_FFFF_FFFF_u64));
        if self.rst.val() {
            self.age.d.next = 0.into();
            self.st_valid.d.next = false;
            self.urgent.d.next = false;
            self.rr.d.next = false;
        }
    }
}

// The invariant above, checked where both sizes are known.
const _: () = assert!(32 - 2 > 16);
