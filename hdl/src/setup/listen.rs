//! The listener table of the setup offload: which (IP, port) the NIC
//! listens on, and whether it answers that listener's SYNs itself.
//!
//! [`LISTEN_ENTRIES`] (64) entries, each `{valid, any_ip, ip (32), port (16),
//! offload (1)}`, held in registers so that every entry is compared with
//! every query in parallel: one query per cycle, whatever the table size.
//! The registers are grouped by bit rather than by entry (register `j` of
//! the address holds bit `j` of all 64 addresses): the logic is the same,
//! and the simulator compares a query with the whole table in 48 wide ANDs
//! instead of 128 separate comparisons, and copies 48 registers per clock
//! instead of 128.
//!
//! ## Write port (register style)
//!
//! When `wr_en` is high at a rising edge, entry `wr_index` takes
//! `{wr_valid, wr_any_ip, wr_ip, wr_port, wr_offload}` whole.  `rst`
//! (synchronous, active high) clears every entry and every pipeline
//! register, and wins over a write in the same cycle.  Addresses are 32-bit
//! numbers with the first byte most significant (a.b.c.d = a << 24 | ...).
//!
//! The read-back port returns entry `rd_index` as it was in the cycle
//! `rd_index` was presented with `rd_en` high (before a write of that
//! cycle; the outputs hold while `rd_en` is low), one cycle
//! later on `rd_*`.
//!
//! ## Lookup: [`LISTEN_LATENCY`] = 2
//!
//! A query `(in_valid, in_ip, in_port, in_tag)` presented in cycle `n` is
//! compared with the table as it is during cycle `n` (all writes of cycles
//! before `n`, none of cycle `n`), and its answer is on `out_*` in cycle
//! `n + 2`:
//!
//! * `out_valid`: `in_valid` delayed; `out_tag`: `in_tag` delayed.
//! * `out_hit`: some valid entry matches (implies `out_valid`).
//! * Matching rule: an *exact* entry (`any_ip` = 0) matches when its IP and
//!   port equal the query's; an *any-IP* entry (`any_ip` = 1, its `ip`
//!   ignored) matches on the port alone.  If an exact entry matches, the
//!   lowest-index matching exact entry wins (`out_exact` = 1); otherwise the
//!   lowest-index matching any-IP entry wins (`out_exact` = 0).  This is the
//!   usual "specific bind beats wildcard bind" rule, and it costs no extra
//!   stage: the two classes are priority-encoded side by side.
//! * `out_index`: the winning entry; `out_offload`: its offload bit (as it
//!   was in cycle `n`).  Both are 0 on a miss.
//!
//! A reset in cycle `r` drops the queries of cycles `r - 1` and `r` (their
//! `out_valid` stays low).
//!
//! ## Pipeline
//!
//! | stage | logic | registers |
//! |-------|-------|-----------|
//! | 1 | per entry: 32-bit and 16-bit equality, valid and any-IP gating | exact-match vector, any-IP-match vector, offload bits (64 each), valid, tag |
//! | 2 | lowest set bit of each vector (`v & (~v + 1)`, a 64-bit carry chain), pick exact over any-IP, one-hot to index (OR of 32 bits per index bit), offload (AND-OR over 64) | hit, exact, index, offload, valid, tag |
//!
//! Stage 1 is about three LUT levels deep (the query fans out to 64
//! comparators); stage 2 a carry chain and three to four LUT levels.
//! Every register is reset.
use rust_hdl::prelude::*;

/// Number of listener entries.
pub const LISTEN_ENTRIES: usize = 64;
/// Width of an entry index.
pub const LISTEN_INDEX_BITS: usize = 6;
const _: () = assert!(LISTEN_ENTRIES == 1 << LISTEN_INDEX_BITS);
/// Cycles from a query on the inputs to its answer on the outputs.
pub const LISTEN_LATENCY: usize = 2;
/// Width of the sideband tag.
pub const LISTEN_TAG_BITS: usize = 32;

/// Bit `b` of entry index `i`, as a mask over the 64 entries: entry `i` is
/// in mask `b` when bit `b` of `i` is set.
fn index_mask(b: usize) -> Constant<Bits<LISTEN_ENTRIES>> {
    let mut m = 0u64;
    for i in 0..LISTEN_ENTRIES {
        if i >> b & 1 == 1 {
            m |= 1 << i;
        }
    }
    Constant::new(m.into())
}

#[derive(LogicBlock)]
pub struct ListenTable {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    // Write port
    pub wr_en: Signal<In, Bit>,
    pub wr_index: Signal<In, Bits<LISTEN_INDEX_BITS>>,
    pub wr_valid: Signal<In, Bit>,
    pub wr_any_ip: Signal<In, Bit>,
    pub wr_ip: Signal<In, Bits<32>>,
    pub wr_port: Signal<In, Bits<16>>,
    pub wr_offload: Signal<In, Bit>,
    // Read-back port (one cycle)
    pub rd_index: Signal<In, Bits<LISTEN_INDEX_BITS>>,
    /// The read-back registers load only while this is high (the 64-way
    /// multiplexer costs simulation time): hold it high whenever
    /// `rd_index` or the table may have changed (the register block does,
    /// for the cycle of every write and the next).
    pub rd_en: Signal<In, Bit>,
    pub rd_valid: Signal<Out, Bit>,
    pub rd_any_ip: Signal<Out, Bit>,
    pub rd_ip: Signal<Out, Bits<32>>,
    pub rd_port: Signal<Out, Bits<16>>,
    pub rd_offload: Signal<Out, Bit>,
    // Query
    pub in_valid: Signal<In, Bit>,
    pub in_ip: Signal<In, Bits<32>>,
    pub in_port: Signal<In, Bits<16>>,
    pub in_tag: Signal<In, Bits<LISTEN_TAG_BITS>>,
    // Answer, LISTEN_LATENCY cycles later
    pub out_valid: Signal<Out, Bit>,
    pub out_hit: Signal<Out, Bit>,
    pub out_exact: Signal<Out, Bit>,
    pub out_offload: Signal<Out, Bit>,
    pub out_index: Signal<Out, Bits<LISTEN_INDEX_BITS>>,
    pub out_tag: Signal<Out, Bits<LISTEN_TAG_BITS>>,
    // The table: flag bit i belongs to entry i.
    e_valid: DFF<Bits<LISTEN_ENTRIES>>,
    e_any: DFF<Bits<LISTEN_ENTRIES>>,
    e_off: DFF<Bits<LISTEN_ENTRIES>>,
    // Addresses and ports, stored bit-sliced: bit i of `e_ipb[j]` is bit j
    // of entry i's address (the same flip-flops as 64 registers of 32 bits,
    // grouped the other way, so that one query is 48 wide ANDs).
    e_ipb: [DFF<Bits<LISTEN_ENTRIES>>; 32],
    e_portb: [DFF<Bits<LISTEN_ENTRIES>>; 16],
    // Read-back registers
    r_valid: DFF<Bit>,
    r_any: DFF<Bit>,
    r_ip: DFF<Bits<32>>,
    r_port: DFF<Bits<16>>,
    r_off: DFF<Bit>,
    // Stage 1
    s1_valid: DFF<Bit>,
    s1_tag: DFF<Bits<LISTEN_TAG_BITS>>,
    s1_mx: DFF<Bits<LISTEN_ENTRIES>>,
    s1_ma: DFF<Bits<LISTEN_ENTRIES>>,
    s1_off: DFF<Bits<LISTEN_ENTRIES>>,
    // Stage 2
    s2_valid: DFF<Bit>,
    s2_tag: DFF<Bits<LISTEN_TAG_BITS>>,
    s2_hit: DFF<Bit>,
    s2_exact: DFF<Bit>,
    s2_off: DFF<Bit>,
    s2_index: DFF<Bits<LISTEN_INDEX_BITS>>,
    // Scratch
    /// One-hot of `wr_index`.
    wsel: Signal<Local, Bits<LISTEN_ENTRIES>>,
    /// Exact and any-IP match vectors of the query.
    mx: Signal<Local, Bits<LISTEN_ENTRIES>>,
    ma: Signal<Local, Bits<LISTEN_ENTRIES>>,
    pm: Signal<Local, Bits<LISTEN_ENTRIES>>,
    rip: Signal<Local, Bits<32>>,
    rport: Signal<Local, Bits<16>>,
    /// Lowest set bit of each stage-1 vector, and the winner.
    ohx: Signal<Local, Bits<LISTEN_ENTRIES>>,
    oha: Signal<Local, Bits<LISTEN_ENTRIES>>,
    oh: Signal<Local, Bits<LISTEN_ENTRIES>>,
    hx: Signal<Local, Bit>,
    idx: Signal<Local, Bits<LISTEN_INDEX_BITS>>,
    c_one: Constant<Bits<LISTEN_ENTRIES>>,
    c_m0: Constant<Bits<LISTEN_ENTRIES>>,
    c_m1: Constant<Bits<LISTEN_ENTRIES>>,
    c_m2: Constant<Bits<LISTEN_ENTRIES>>,
    c_m3: Constant<Bits<LISTEN_ENTRIES>>,
    c_m4: Constant<Bits<LISTEN_ENTRIES>>,
    c_m5: Constant<Bits<LISTEN_ENTRIES>>,
}

impl Default for ListenTable {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            wr_en: Default::default(),
            wr_index: Default::default(),
            wr_valid: Default::default(),
            wr_any_ip: Default::default(),
            wr_ip: Default::default(),
            wr_port: Default::default(),
            wr_offload: Default::default(),
            rd_index: Default::default(),
            rd_en: Default::default(),
            rd_valid: Default::default(),
            rd_any_ip: Default::default(),
            rd_ip: Default::default(),
            rd_port: Default::default(),
            rd_offload: Default::default(),
            in_valid: Default::default(),
            in_ip: Default::default(),
            in_port: Default::default(),
            in_tag: Default::default(),
            out_valid: Default::default(),
            out_hit: Default::default(),
            out_exact: Default::default(),
            out_offload: Default::default(),
            out_index: Default::default(),
            out_tag: Default::default(),
            e_valid: Default::default(),
            e_any: Default::default(),
            e_off: Default::default(),
            e_ipb: array_init::array_init(|_| Default::default()),
            e_portb: array_init::array_init(|_| Default::default()),
            r_valid: Default::default(),
            r_any: Default::default(),
            r_ip: Default::default(),
            r_port: Default::default(),
            r_off: Default::default(),
            s1_valid: Default::default(),
            s1_tag: Default::default(),
            s1_mx: Default::default(),
            s1_ma: Default::default(),
            s1_off: Default::default(),
            s2_valid: Default::default(),
            s2_tag: Default::default(),
            s2_hit: Default::default(),
            s2_exact: Default::default(),
            s2_off: Default::default(),
            s2_index: Default::default(),
            wsel: Default::default(),
            mx: Default::default(),
            ma: Default::default(),
            pm: Default::default(),
            rip: Default::default(),
            rport: Default::default(),
            ohx: Default::default(),
            oha: Default::default(),
            oh: Default::default(),
            hx: Default::default(),
            idx: Default::default(),
            c_one: Constant::new(1u64.into()),
            c_m0: index_mask(0),
            c_m1: index_mask(1),
            c_m2: index_mask(2),
            c_m3: index_mask(3),
            c_m4: index_mask(4),
            c_m5: index_mask(5),
        }
    }
}

impl Logic for ListenTable {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, e_valid, e_any, e_off, r_valid, r_any, r_ip, r_port, r_off, s1_valid,
            s1_tag, s1_mx, s1_ma, s1_off, s2_valid, s2_tag, s2_hit, s2_exact, s2_off, s2_index
        );
        for j in 0..32 {
            self.e_ipb[j].clock.next = self.clock.val();
            self.e_ipb[j].d.next = self.e_ipb[j].q.val();
        }
        for j in 0..16 {
            self.e_portb[j].clock.next = self.clock.val();
            self.e_portb[j].d.next = self.e_portb[j].q.val();
        }
        // ------------------------------------------------------ write port
        self.wsel.next = self.c_one.val() << self.wr_index.val();
        if self.wr_en.val() {
            self.e_valid.d.next = self.e_valid.q.val() & !self.wsel.val();
            self.e_any.d.next = self.e_any.q.val() & !self.wsel.val();
            self.e_off.d.next = self.e_off.q.val() & !self.wsel.val();
            if self.wr_valid.val() {
                self.e_valid.d.next = self.e_valid.q.val() | self.wsel.val();
            }
            if self.wr_any_ip.val() {
                self.e_any.d.next = self.e_any.q.val() | self.wsel.val();
            }
            if self.wr_offload.val() {
                self.e_off.d.next = self.e_off.q.val() | self.wsel.val();
            }
            for j in 0..32 {
                self.e_ipb[j].d.next = self.e_ipb[j].q.val() & !self.wsel.val();
                if self.wr_ip.val().get_bit(j) {
                    self.e_ipb[j].d.next = self.e_ipb[j].q.val() | self.wsel.val();
                }
            }
            for j in 0..16 {
                self.e_portb[j].d.next = self.e_portb[j].q.val() & !self.wsel.val();
                if self.wr_port.val().get_bit(j) {
                    self.e_portb[j].d.next = self.e_portb[j].q.val() | self.wsel.val();
                }
            }
        }
        // ------------------------------------------------------ read-back
        self.rip.next = 0.into();
        self.rport.next = 0.into();
        if self.rd_en.val() {
            self.r_valid.d.next = self.e_valid.q.val().get_bit(self.rd_index.val().index());
            self.r_any.d.next = self.e_any.q.val().get_bit(self.rd_index.val().index());
            self.r_off.d.next = self.e_off.q.val().get_bit(self.rd_index.val().index());
            for j in 0..32 {
                self.rip.next = self.rip.val().replace_bit(
                    j,
                    self.e_ipb[j].q.val().get_bit(self.rd_index.val().index()),
                );
            }
            for j in 0..16 {
                self.rport.next = self.rport.val().replace_bit(
                    j,
                    self.e_portb[j].q.val().get_bit(self.rd_index.val().index()),
                );
            }
            self.r_ip.d.next = self.rip.val();
            self.r_port.d.next = self.rport.val();
        }
        self.rd_valid.next = self.r_valid.q.val();
        self.rd_any_ip.next = self.r_any.q.val();
        self.rd_ip.next = self.r_ip.q.val();
        self.rd_port.next = self.r_port.q.val();
        self.rd_offload.next = self.r_off.q.val();
        // ------------------------------------------------------ stage 1
        // Every entry against the query, in parallel.
        // Bit j of the query selects, for all entries at once, those whose
        // bit j agrees: valid entries with the query's port (`pm`), then
        // any-IP ones (`ma`) and exact ones that also have its address (`mx`).
        // Every cycle, not only for a query: gating the comparison with
        // `in_valid` put the RX parser's SYN decision in front of this
        // 50-input AND (8 LUT levels in the whole design); `s1_valid`
        // says whether the result counts.
        self.pm.next = self.e_valid.q.val();
        for j in 0..16 {
            if self.in_port.val().get_bit(j) {
                self.pm.next = self.pm.val() & self.e_portb[j].q.val();
            } else {
                self.pm.next = self.pm.val() & !self.e_portb[j].q.val();
            }
        }
        self.ma.next = self.pm.val() & self.e_any.q.val();
        self.mx.next = self.pm.val() & !self.e_any.q.val();
        for j in 0..32 {
            if self.in_ip.val().get_bit(j) {
                self.mx.next = self.mx.val() & self.e_ipb[j].q.val();
            } else {
                self.mx.next = self.mx.val() & !self.e_ipb[j].q.val();
            }
        }
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_tag.d.next = self.in_tag.val();
        self.s1_mx.d.next = self.mx.val();
        self.s1_ma.d.next = self.ma.val();
        self.s1_off.d.next = self.e_off.q.val();
        // ------------------------------------------------------ stage 2
        // Lowest set bit of each vector; an exact match beats any-IP.
        self.ohx.next = self.s1_mx.q.val() & (!self.s1_mx.q.val() + 1);
        self.oha.next = self.s1_ma.q.val() & (!self.s1_ma.q.val() + 1);
        self.hx.next = self.s1_mx.q.val().any();
        self.oh.next = self.oha.val();
        if self.hx.val() {
            self.oh.next = self.ohx.val();
        }
        self.idx.next = 0.into();
        if (self.oh.val() & self.c_m0.val()).any() {
            self.idx.next = self.idx.val() | 1;
        }
        if (self.oh.val() & self.c_m1.val()).any() {
            self.idx.next = self.idx.val() | 2;
        }
        if (self.oh.val() & self.c_m2.val()).any() {
            self.idx.next = self.idx.val() | 4;
        }
        if (self.oh.val() & self.c_m3.val()).any() {
            self.idx.next = self.idx.val() | 8;
        }
        if (self.oh.val() & self.c_m4.val()).any() {
            self.idx.next = self.idx.val() | 16;
        }
        if (self.oh.val() & self.c_m5.val()).any() {
            self.idx.next = self.idx.val() | 32;
        }
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_tag.d.next = self.s1_tag.q.val();
        // Answers only for a query (stage 1 compares every cycle).
        self.s2_hit.d.next = false;
        self.s2_exact.d.next = false;
        self.s2_off.d.next = false;
        self.s2_index.d.next = 0.into();
        if self.s1_valid.q.val() {
            self.s2_hit.d.next = self.hx.val() || self.s1_ma.q.val().any();
            self.s2_exact.d.next = self.hx.val();
            self.s2_off.d.next = (self.oh.val() & self.s1_off.q.val()).any();
            self.s2_index.d.next = self.idx.val();
        }
        self.out_valid.next = self.s2_valid.q.val();
        self.out_tag.next = self.s2_tag.q.val();
        self.out_hit.next = self.s2_hit.q.val();
        self.out_exact.next = self.s2_exact.q.val();
        self.out_offload.next = self.s2_off.q.val();
        self.out_index.next = self.s2_index.q.val();
        // ------------------------------------------------------ reset
        if self.rst.val() {
            self.e_valid.d.next = 0.into();
            self.e_any.d.next = 0.into();
            self.e_off.d.next = 0.into();
            for j in 0..32 {
                self.e_ipb[j].d.next = 0.into();
            }
            for j in 0..16 {
                self.e_portb[j].d.next = 0.into();
            }
            self.r_valid.d.next = false;
            self.r_any.d.next = false;
            self.r_ip.d.next = 0.into();
            self.r_port.d.next = 0.into();
            self.r_off.d.next = false;
            self.s1_valid.d.next = false;
            self.s1_tag.d.next = 0.into();
            self.s1_mx.d.next = 0.into();
            self.s1_ma.d.next = 0.into();
            self.s1_off.d.next = 0.into();
            self.s2_valid.d.next = false;
            self.s2_tag.d.next = 0.into();
            self.s2_hit.d.next = false;
            self.s2_exact.d.next = false;
            self.s2_off.d.next = false;
            self.s2_index.d.next = 0.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_listen_index_masks() {
        assert_eq!(index_mask(0).val().to_u64(), 0xAAAA_AAAA_AAAA_AAAA);
        assert_eq!(index_mask(5).val().to_u64(), 0xFFFF_FFFF_0000_0000);
    }

    #[test]
    fn setup_listen_generates_verilog() {
        let mut uut = ListenTable::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
