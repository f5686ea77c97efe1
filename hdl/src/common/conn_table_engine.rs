//! The modification engine of the connection table
//! ([`super::conn_table::ConnTable`]): one command at a time from two
//! command ports (host and offload, round-robin), on port B of the table
//! RAMs, with the stash and the in-flight ("carry") entry of a cuckoo walk
//! in registers that the lookup pipeline reads.  The algorithm and its
//! ordering rules are described in `conn_table.rs` and docs/conn_table.md;
//! the reference model is `toe_model::conn_table`, which this block follows
//! decision for decision.
//!
//! States and cycles (each state one cycle unless it waits):
//!
//! | state | what                                                          |
//! |-------|---------------------------------------------------------------|
//! | CLEAR | writes "invalid" to bucket `sweep` of all 8 key RAMs; `2^B` cycles |
//! | IDLE  | `*_cmd_ready` for the port `sel` points to; takes a command     |
//! | HASH  | the key through the engine's SipHash (12 cycles + 1)           |
//! | READ  | reads the key's two buckets (port B, all 8 ways)               |
//! | WAIT  | registers the RAM outputs                                      |
//! | CMP1  | 12-bit chunk compares of the key with 8 slots and 4 stash entries |
//! | CMP2  | hit per slot, free ways, stash entries refilling either bucket |
//! | DEC   | found (where, value), first free way per table, free stash entry |
//! | PREP  | the command's write job and response                           |
//! | ACT   | applies it (RAM write, stash, count); a walk starts here       |
//! | KREAD, KWAIT, KDEC, KACT | one eviction step of the walk: read the carry's target bucket, pick a free way or the victim `lfsr & 3`, write the carry there (swap) |
//! | RSP   | `*_rsp_valid` until `*_rsp_ready`                              |
//!
//! A command without a walk takes 21 cycles from acceptance (the
//! handshake cycle) to the first cycle of its response; an insert whose
//! walk makes `k` evictions takes 25 + 4k (at most 281 with the limit of
//! 64), measured by the block tests and the benchmark.
//!
//! Coherence with the lookups: every change of what the table holds is one
//! edge that changes the RAMs, the stash and the carry together (a swap
//! writes the carry into the victim's slot and loads the victim into the
//! carry on the same edge; a refill writes the stash entry into the freed
//! slot and clears it from the stash on the same edge), and lookups sample
//! RAMs, stash and carry on one edge, so a lookup never sees a key absent
//! or twice because of a move.
use super::conn_table::*;
use super::key_chunk_eq::{KeyChunkEq, KEY_CHUNKS};
use crate::common::siphash::SipHash24;
use rust_hdl::prelude::*;

// Kernels cannot name Rust constants (a path becomes a Verilog signal
// name): states and codes are literals there.  States: 0 CLEAR, 1 IDLE,
// 2 HASH, 3 READ, 4 WAIT, 5 CMP1, 6 CMP2, 7 DEC, 8 PREP, 9 ACT, 10 KREAD,
// 11 KWAIT, 12 KDEC, 13 KACT, 14 RSP.
const _: () = assert!(
    CONN_OP_INSERT == 1
        && CONN_OP_UPDATE == 2
        && CONN_OP_DELETE == 3
        && CONN_OP_CLEAR == 4
        && CONN_STATUS_OK == 0
        && CONN_STATUS_EXISTS == 1
        && CONN_STATUS_MISSING == 2
        && CONN_STATUS_FULL == 3
);

#[derive(LogicBlock)]
pub struct ConnTableEngine<const B: usize, const V: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub hash_k0: Signal<In, Bits<64>>,
    pub hash_k1: Signal<In, Bits<64>>,
    /// Host command port.
    pub h_cmd_valid: Signal<In, Bit>,
    pub h_cmd_ready: Signal<Out, Bit>,
    pub h_cmd_op: Signal<In, Bits<CONN_OP_BITS>>,
    pub h_cmd_key: Signal<In, Bits<96>>,
    pub h_cmd_value: Signal<In, Bits<V>>,
    pub h_rsp_valid: Signal<Out, Bit>,
    pub h_rsp_ready: Signal<In, Bit>,
    /// Offload command port.
    pub o_cmd_valid: Signal<In, Bit>,
    pub o_cmd_ready: Signal<Out, Bit>,
    pub o_cmd_op: Signal<In, Bits<CONN_OP_BITS>>,
    pub o_cmd_key: Signal<In, Bits<96>>,
    pub o_cmd_value: Signal<In, Bits<V>>,
    pub o_rsp_valid: Signal<Out, Bit>,
    pub o_rsp_ready: Signal<In, Bit>,
    /// The response (of the port whose `*_rsp_valid` is set).
    pub rsp_status: Signal<Out, Bits<2>>,
    pub rsp_value: Signal<Out, Bits<V>>,
    pub rsp_loc: Signal<Out, Bits<CONN_LOC_BITS>>,
    pub rsp_kicks: Signal<Out, Bits<CONN_KICK_BITS>>,
    pub clearing: Signal<Out, Bit>,
    pub busy: Signal<Out, Bit>,
    pub entries: Signal<Out, Bits<CONN_COUNT_BITS>>,
    pub stash_used: Signal<Out, Bits<3>>,
    /// Port B of the RAMs: one address per table, write enables per RAM
    /// (bit `4 * table + way`), write data per table.
    pub t0_addr: Signal<Out, Bits<B>>,
    pub t1_addr: Signal<Out, Bits<B>>,
    pub we_key: Signal<Out, Bits<8>>,
    pub we_value: Signal<Out, Bits<8>>,
    pub wkey: Signal<Out, Bits<CONN_SLOT_BITS>>,
    pub wvalue: Signal<Out, Bits<V>>,
    /// Port B read data (the cycle after the address).
    pub rkey: [Signal<In, Bits<CONN_SLOT_BITS>>; 8],
    pub rvalue: [Signal<In, Bits<V>>; 8],
    /// Stash and carry, for the lookups.
    pub stash_valid: Signal<Out, Bits<CONN_STASH>>,
    pub stash_key: [Signal<Out, Bits<96>>; CONN_STASH],
    pub stash_value: [Signal<Out, Bits<V>>; CONN_STASH],
    pub carry_valid: Signal<Out, Bit>,
    pub carry_key: Signal<Out, Bits<96>>,
    pub carry_value: Signal<Out, Bits<V>>,

    hasher: SipHash24,
    cmp: [KeyChunkEq; 12],
    state: DFF<Bits<4>>,
    /// Round-robin pointer (0 host, 1 offload) and the port being served.
    sel: DFF<Bit>,
    port: DFF<Bit>,
    op: DFF<Bits<CONN_OP_BITS>>,
    key: DFF<Bits<96>>,
    value: DFF<Bits<V>>,
    hash_go: DFF<Bit>,
    b0: DFF<Bits<16>>,
    b1: DFF<Bits<16>>,
    rk: [DFF<Bits<CONN_SLOT_BITS>>; 8],
    rv: [DFF<Bits<V>>; 8],
    ceq: [DFF<Bits<KEY_CHUNKS>>; 12],
    /// CMP2: hit per slot (0-7) and stash entry (8-11); occupied ways;
    /// stash entries whose table-0 / table-1 bucket is the key's.
    hits: DFF<Bits<12>>,
    occ: DFF<Bits<8>>,
    rf0: DFF<Bits<CONN_STASH>>,
    rf1: DFF<Bits<CONN_STASH>>,
    /// DEC.
    f_any: DFF<Bit>,
    f_stash: DFF<Bit>,
    f_table: DFF<Bit>,
    f_way: DFF<Bits<2>>,
    f_sidx: DFF<Bits<2>>,
    f_value: DFF<Bits<V>>,
    free0: DFF<Bit>,
    fway0: DFF<Bits<2>>,
    free1: DFF<Bit>,
    fway1: DFF<Bits<2>>,
    sfree: DFF<Bit>,
    sfidx: DFF<Bits<2>>,
    r_any: DFF<Bit>,
    r_idx: DFF<Bits<2>>,
    /// The write job (PREP, KDEC) applied in ACT / KACT.
    w_key_en: DFF<Bit>,
    w_value_en: DFF<Bit>,
    w_table: DFF<Bit>,
    w_way: DFF<Bits<2>>,
    w_slot: DFF<Bits<CONN_SLOT_BITS>>,
    w_value: DFF<Bits<V>>,
    /// Other effects of ACT.
    p_walk: DFF<Bit>,
    p_stash_upd: DFF<Bit>,
    p_stash_clr: DFF<Bits<CONN_STASH>>,
    p_inc: DFF<Bit>,
    p_dec: DFF<Bit>,
    /// Stash.
    s_valid: DFF<Bits<CONN_STASH>>,
    s_key: [DFF<Bits<96>>; CONN_STASH],
    s_value: [DFF<Bits<V>>; CONN_STASH],
    s_b0: [DFF<Bits<16>>; CONN_STASH],
    s_b1: [DFF<Bits<16>>; CONN_STASH],
    /// Carry: the homeless entry of a walk, its target table, its bucket
    /// there and in the other table; whether it is the inserted key.
    c_valid: DFF<Bit>,
    c_key: DFF<Bits<96>>,
    c_value: DFF<Bits<V>>,
    c_t: DFF<Bit>,
    c_bt: DFF<Bits<16>>,
    c_bo: DFF<Bits<16>>,
    c_new: DFF<Bit>,
    new_loc: DFF<Bits<CONN_LOC_BITS>>,
    kicks: DFF<Bits<CONN_KICK_BITS>>,
    lfsr: DFF<Bits<16>>,
    /// KDEC: the target bucket has a free way; the eviction limit is
    /// reached; the victim (way k_way) and whether it is the inserted key.
    k_free: DFF<Bit>,
    k_last: DFF<Bit>,
    k_way: DFF<Bits<2>>,
    k_victim_new: DFF<Bit>,
    v_key: DFF<Bits<96>>,
    v_alt: DFF<Bits<16>>,
    v_value: DFF<Bits<V>>,
    /// Clear sweep: next bucket; the clear came from a command.
    sweep: DFF<Bits<17>>,
    clear_cmd: DFF<Bit>,
    rsp_st: DFF<Bits<2>>,
    rsp_val: DFF<Bits<V>>,
    rsp_lc: DFF<Bits<CONN_LOC_BITS>>,
    rsp_kk: DFF<Bits<CONN_KICK_BITS>>,
    count: DFF<Bits<CONN_COUNT_BITS>>,
    /// Constants: the last bucket, the bucket mask, the message's domain word.
    c_last: Constant<Bits<17>>,
    c_mask: Constant<Bits<16>>,
    c_domain: Constant<Bits<64>>,
    c_max_kicks: Constant<Bits<CONN_KICK_BITS>>,
    c_lfsr_seed: Constant<Bits<16>>,
    c_lfsr_taps: Constant<Bits<16>>,
    // Scratch.
    take: Signal<Local, Bit>,
    fv: Signal<Local, Bits<V>>,
    rmask: Signal<Local, Bits<CONN_STASH>>,
    rf_key: Signal<Local, Bits<96>>,
    rf_alt: Signal<Local, Bits<16>>,
    rf_value: Signal<Local, Bits<V>>,
    f_bucket: Signal<Local, Bits<16>>,
    f_loc: Signal<Local, Bits<CONN_LOC_BITS>>,
    kocc: Signal<Local, Bits<4>>,
    k_victim_loc: Signal<Local, Bits<CONN_LOC_BITS>>,
    placed_loc: Signal<Local, Bits<CONN_LOC_BITS>>,
    stash_loc: Signal<Local, Bits<CONN_LOC_BITS>>,
    kick_next: Signal<Local, Bits<CONN_KICK_BITS>>,
    count_up: Signal<Local, Bits<CONN_COUNT_BITS>>,
    count_down: Signal<Local, Bits<CONN_COUNT_BITS>>,
    sweep_next: Signal<Local, Bits<17>>,
    su: Signal<Local, Bits<3>>,
}

impl<const B: usize, const V: usize> Default for ConnTableEngine<B, V> {
    fn default() -> Self {
        assert!((1..=16).contains(&B), "bucket bits 1..=16");
        Self {
            clock: Default::default(),
            rst: Default::default(),
            hash_k0: Default::default(),
            hash_k1: Default::default(),
            h_cmd_valid: Default::default(),
            h_cmd_ready: Default::default(),
            h_cmd_op: Default::default(),
            h_cmd_key: Default::default(),
            h_cmd_value: Default::default(),
            h_rsp_valid: Default::default(),
            h_rsp_ready: Default::default(),
            o_cmd_valid: Default::default(),
            o_cmd_ready: Default::default(),
            o_cmd_op: Default::default(),
            o_cmd_key: Default::default(),
            o_cmd_value: Default::default(),
            o_rsp_valid: Default::default(),
            o_rsp_ready: Default::default(),
            rsp_status: Default::default(),
            rsp_value: Default::default(),
            rsp_loc: Default::default(),
            rsp_kicks: Default::default(),
            clearing: Default::default(),
            busy: Default::default(),
            entries: Default::default(),
            stash_used: Default::default(),
            t0_addr: Default::default(),
            t1_addr: Default::default(),
            we_key: Default::default(),
            we_value: Default::default(),
            wkey: Default::default(),
            wvalue: Default::default(),
            rkey: Default::default(),
            rvalue: Default::default(),
            stash_valid: Default::default(),
            stash_key: Default::default(),
            stash_value: Default::default(),
            carry_valid: Default::default(),
            carry_key: Default::default(),
            carry_value: Default::default(),
            hasher: Default::default(),
            cmp: Default::default(),
            state: Default::default(),
            sel: Default::default(),
            port: Default::default(),
            op: Default::default(),
            key: Default::default(),
            value: Default::default(),
            hash_go: Default::default(),
            b0: Default::default(),
            b1: Default::default(),
            rk: Default::default(),
            rv: Default::default(),
            ceq: Default::default(),
            hits: Default::default(),
            occ: Default::default(),
            rf0: Default::default(),
            rf1: Default::default(),
            f_any: Default::default(),
            f_stash: Default::default(),
            f_table: Default::default(),
            f_way: Default::default(),
            f_sidx: Default::default(),
            f_value: Default::default(),
            free0: Default::default(),
            fway0: Default::default(),
            free1: Default::default(),
            fway1: Default::default(),
            sfree: Default::default(),
            sfidx: Default::default(),
            r_any: Default::default(),
            r_idx: Default::default(),
            w_key_en: Default::default(),
            w_value_en: Default::default(),
            w_table: Default::default(),
            w_way: Default::default(),
            w_slot: Default::default(),
            w_value: Default::default(),
            p_walk: Default::default(),
            p_stash_upd: Default::default(),
            p_stash_clr: Default::default(),
            p_inc: Default::default(),
            p_dec: Default::default(),
            s_valid: Default::default(),
            s_key: Default::default(),
            s_value: Default::default(),
            s_b0: Default::default(),
            s_b1: Default::default(),
            c_valid: Default::default(),
            c_key: Default::default(),
            c_value: Default::default(),
            c_t: Default::default(),
            c_bt: Default::default(),
            c_bo: Default::default(),
            c_new: Default::default(),
            new_loc: Default::default(),
            kicks: Default::default(),
            lfsr: Default::default(),
            k_free: Default::default(),
            k_last: Default::default(),
            k_way: Default::default(),
            k_victim_new: Default::default(),
            v_key: Default::default(),
            v_alt: Default::default(),
            v_value: Default::default(),
            sweep: Default::default(),
            clear_cmd: Default::default(),
            rsp_st: Default::default(),
            rsp_val: Default::default(),
            rsp_lc: Default::default(),
            rsp_kk: Default::default(),
            count: Default::default(),
            c_last: Constant::new(((1u64 << B) - 1).into()),
            c_mask: Constant::new(((1u64 << B) - 1).into()),
            c_domain: Constant::new((CONN_HASH_DOMAIN << 32).into()),
            c_max_kicks: Constant::new((CONN_MAX_KICKS as u64).into()),
            c_lfsr_seed: Constant::new((CONN_LFSR_SEED as u64).into()),
            c_lfsr_taps: Constant::new((CONN_LFSR_TAPS as u64).into()),
            take: Default::default(),
            fv: Default::default(),
            rmask: Default::default(),
            rf_key: Default::default(),
            rf_alt: Default::default(),
            rf_value: Default::default(),
            f_bucket: Default::default(),
            f_loc: Default::default(),
            kocc: Default::default(),
            k_victim_loc: Default::default(),
            placed_loc: Default::default(),
            stash_loc: Default::default(),
            kick_next: Default::default(),
            count_up: Default::default(),
            count_down: Default::default(),
            sweep_next: Default::default(),
            su: Default::default(),
        }
    }
}

impl<const B: usize, const V: usize> Logic for ConnTableEngine<B, V> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            sel,
            port,
            op,
            key,
            value,
            hash_go,
            b0,
            b1,
            hits,
            occ,
            rf0,
            rf1,
            f_any,
            f_stash,
            f_table,
            f_way,
            f_sidx,
            f_value,
            free0,
            fway0,
            free1,
            fway1,
            sfree,
            sfidx,
            r_any,
            r_idx,
            w_key_en,
            w_value_en,
            w_table,
            w_way,
            w_slot,
            w_value,
            p_walk,
            p_stash_upd,
            p_stash_clr,
            p_inc,
            p_dec,
            s_valid,
            c_valid,
            c_key,
            c_value,
            c_t,
            c_bt,
            c_bo,
            c_new,
            new_loc,
            kicks,
            lfsr,
            k_free,
            k_last,
            k_way,
            k_victim_new,
            v_key,
            v_alt,
            v_value,
            sweep,
            clear_cmd,
            rsp_st,
            rsp_val,
            rsp_lc,
            rsp_kk,
            count
        );
        for i in 0..8 {
            self.rk[i].clock.next = self.clock.val();
            self.rk[i].d.next = self.rk[i].q.val();
            self.rv[i].clock.next = self.clock.val();
            self.rv[i].d.next = self.rv[i].q.val();
        }
        for i in 0..12 {
            self.ceq[i].clock.next = self.clock.val();
            self.ceq[i].d.next = self.ceq[i].q.val();
        }
        for j in 0..CONN_STASH {
            self.s_key[j].clock.next = self.clock.val();
            self.s_key[j].d.next = self.s_key[j].q.val();
            self.s_value[j].clock.next = self.clock.val();
            self.s_value[j].d.next = self.s_value[j].q.val();
            self.s_b0[j].clock.next = self.clock.val();
            self.s_b0[j].d.next = self.s_b0[j].q.val();
            self.s_b1[j].clock.next = self.clock.val();
            self.s_b1[j].d.next = self.s_b1[j].q.val();
        }
        clock!(self, clock, hasher);

        // ---- The engine's hash: the latched key, one pulse.
        self.hasher.rst.next = self.rst.val();
        self.hasher.k0.next = self.hash_k0.val();
        self.hasher.k1.next = self.hash_k1.val();
        self.hasher.in_valid.next = self.hash_go.q.val();
        self.hasher.m0.next = self.key.q.val().get_bits::<64>(0);
        self.hasher.m1.next =
            bit_cast::<64, 32>(self.key.q.val().get_bits::<32>(64)) | self.c_domain.val();
        self.hasher.m2.next = 0.into();
        self.hasher.in_tag.next = 0.into();
        self.hash_go.d.next = false;

        // ---- Compares (CMP1): the key against the 8 read slots and the stash.
        for i in 0..8 {
            self.cmp[i].a.next = self.key.q.val();
            self.cmp[i].b.next = self.rk[i].q.val().get_bits::<96>(17);
        }
        for j in 0..CONN_STASH {
            self.cmp[8 + j].a.next = self.key.q.val();
            self.cmp[8 + j].b.next = self.s_key[j].q.val();
        }

        // ---- Port B defaults: every table reads at its bucket.
        self.t0_addr.next = self.b0.q.val().get_bits::<B>(0);
        self.t1_addr.next = self.b1.q.val().get_bits::<B>(0);
        self.we_key.next = 0.into();
        self.we_value.next = 0.into();
        self.wkey.next = self.w_slot.q.val();
        self.wvalue.next = self.w_value.q.val();

        // ---- Scratch defaults.
        self.take.next = false;
        self.fv.next = 0.into();
        self.rmask.next = self.rf0.q.val();
        self.rf_key.next = 0.into();
        self.rf_alt.next = 0.into();
        self.rf_value.next = 0.into();
        self.f_bucket.next = self.b0.q.val();
        self.f_loc.next = 0.into();
        self.kocc.next = 0.into();
        self.k_victim_loc.next = 0.into();
        self.placed_loc.next = 0.into();
        self.stash_loc.next = 0.into();
        self.kick_next.next = self.kicks.q.val() + 1;
        self.count_up.next = self.count.q.val() + 1;
        self.count_down.next = self.count.q.val() - 1;
        self.sweep_next.next = self.sweep.q.val() + 1;

        // ---- Outputs from registers.
        self.h_cmd_ready.next = (self.state.q.val() == 1) & !self.sel.q.val();
        self.o_cmd_ready.next = (self.state.q.val() == 1) & self.sel.q.val();
        self.h_rsp_valid.next = (self.state.q.val() == 14) & !self.port.q.val();
        self.o_rsp_valid.next = (self.state.q.val() == 14) & self.port.q.val();
        self.rsp_status.next = self.rsp_st.q.val();
        self.rsp_value.next = self.rsp_val.q.val();
        self.rsp_loc.next = self.rsp_lc.q.val();
        self.rsp_kicks.next = self.rsp_kk.q.val();
        self.clearing.next = self.state.q.val() == 0;
        self.busy.next = self.state.q.val() != 1;
        self.entries.next = self.count.q.val();
        self.su.next = 0.into();
        for j in 0..CONN_STASH {
            if self.s_valid.q.val().get_bit(j) {
                self.su.next = self.su.val() + 1;
            }
        }
        self.stash_used.next = self.su.val();
        self.stash_valid.next = self.s_valid.q.val();
        for j in 0..CONN_STASH {
            self.stash_key[j].next = self.s_key[j].q.val();
            self.stash_value[j].next = self.s_value[j].q.val();
        }
        self.carry_valid.next = self.c_valid.q.val();
        self.carry_key.next = self.c_key.q.val();
        self.carry_value.next = self.c_value.q.val();

        // ---- The state machine.
        match self.state.q.val().index() {
            0 => {
                // CLEAR
                self.t0_addr.next = self.sweep.q.val().get_bits::<B>(0);
                self.t1_addr.next = self.sweep.q.val().get_bits::<B>(0);
                self.we_key.next = 0xff.into();
                self.wkey.next = 0.into();
                self.sweep.d.next = self.sweep_next.val();
                if self.sweep.q.val() == self.c_last.val() {
                    if self.clear_cmd.q.val() {
                        self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                            .into();
                        self.rsp_val.d.next = 0.into();
                        self.rsp_lc.d.next = 0.into();
                        self.rsp_kk.d.next = 0.into();
                        self.state.d.next = 14.into();
                    } else {
                        self.state.d.next = 1.into();
                    }
                }
            }
            1 => {
                // IDLE
                if self.sel.q.val() {
                    self.take.next = self.o_cmd_valid.val();
                    self.op.d.next = self.o_cmd_op.val();
                    self.key.d.next = self.o_cmd_key.val();
                    self.value.d.next = self.o_cmd_value.val();
                    if !self.o_cmd_valid.val() & self.h_cmd_valid.val() {
                        self.sel.d.next = false;
                    }
                } else {
                    self.take.next = self.h_cmd_valid.val();
                    self.op.d.next = self.h_cmd_op.val();
                    self.key.d.next = self.h_cmd_key.val();
                    self.value.d.next = self.h_cmd_value.val();
                    if !self.h_cmd_valid.val() & self.o_cmd_valid.val() {
                        self.sel.d.next = true;
                    }
                }
                if self.take.val() {
                    self.port.d.next = self.sel.q.val();
                    self.sel.d.next = !self.sel.q.val();
                    if (self.sel.q.val() & (self.o_cmd_op.val() == 4/* CONN_OP_CLEAR */))
                        | (!self.sel.q.val() & (self.h_cmd_op.val() == 4/* CONN_OP_CLEAR */))
                    {
                        self.state.d.next = 0.into();
                        self.clear_cmd.d.next = true;
                        self.sweep.d.next = 0.into();
                        self.s_valid.d.next = 0.into();
                        self.c_valid.d.next = false;
                        self.count.d.next = 0.into();
                        self.lfsr.d.next = self.c_lfsr_seed.val();
                    } else {
                        self.state.d.next = 2.into();
                        self.hash_go.d.next = true;
                    }
                }
            }
            2 => {
                // HASH
                if self.hasher.out_valid.val() {
                    self.b0.d.next = self.hasher.hash.val().get_bits::<16>(0) & self.c_mask.val();
                    self.b1.d.next = self.hasher.hash.val().get_bits::<16>(32) & self.c_mask.val();
                    self.state.d.next = 3.into();
                }
            }
            3 => {
                // READ: the addresses are the buckets (defaults).
                self.state.d.next = 4.into();
            }
            4 => {
                // WAIT
                for i in 0..8 {
                    self.rk[i].d.next = self.rkey[i].val();
                    self.rv[i].d.next = self.rvalue[i].val();
                }
                self.state.d.next = 5.into();
            }
            5 => {
                // CMP1
                for i in 0..12 {
                    self.ceq[i].d.next = self.cmp[i].eq.val();
                }
                self.state.d.next = 6.into();
            }
            6 => {
                // CMP2
                self.hits.d.next = 0.into();
                self.occ.d.next = 0.into();
                for i in 0..8 {
                    self.hits.d.next = self
                        .hits
                        .d
                        .val()
                        .replace_bit(i, self.ceq[i].q.val().all() & self.rk[i].q.val().get_bit(0));
                    self.occ.d.next = self
                        .occ
                        .d
                        .val()
                        .replace_bit(i, self.rk[i].q.val().get_bit(0));
                }
                self.rf0.d.next = 0.into();
                self.rf1.d.next = 0.into();
                for j in 0..CONN_STASH {
                    self.hits.d.next = self.hits.d.val().replace_bit(
                        8 + j,
                        self.ceq[8 + j].q.val().all() & self.s_valid.q.val().get_bit(j),
                    );
                    self.rf0.d.next = self.rf0.d.val().replace_bit(
                        j,
                        self.s_valid.q.val().get_bit(j) & (self.s_b0[j].q.val() == self.b0.q.val()),
                    );
                    self.rf1.d.next = self.rf1.d.val().replace_bit(
                        j,
                        self.s_valid.q.val().get_bit(j) & (self.s_b1[j].q.val() == self.b1.q.val()),
                    );
                }
                self.state.d.next = 7.into();
            }
            7 => {
                // DEC: hits are one-hot (a key is stored once).
                self.f_any.d.next = self.hits.q.val().any();
                self.f_stash.d.next = self.hits.q.val().get_bits::<4>(8).any();
                self.f_table.d.next = self.hits.q.val().get_bits::<4>(4).any();
                self.f_way.d.next = 0.into();
                if self.hits.q.val().get_bit(1)
                    | self.hits.q.val().get_bit(3)
                    | self.hits.q.val().get_bit(5)
                    | self.hits.q.val().get_bit(7)
                {
                    self.f_way.d.next = self.f_way.d.val() | 1;
                }
                if self.hits.q.val().get_bit(2)
                    | self.hits.q.val().get_bit(3)
                    | self.hits.q.val().get_bit(6)
                    | self.hits.q.val().get_bit(7)
                {
                    self.f_way.d.next = self.f_way.d.val() | 2;
                }
                self.f_sidx.d.next = 0.into();
                if self.hits.q.val().get_bit(9) | self.hits.q.val().get_bit(11) {
                    self.f_sidx.d.next = self.f_sidx.d.val() | 1;
                }
                if self.hits.q.val().get_bit(10) | self.hits.q.val().get_bit(11) {
                    self.f_sidx.d.next = self.f_sidx.d.val() | 2;
                }
                for i in 0..8 {
                    if self.hits.q.val().get_bit(i) {
                        self.fv.next = self.fv.val() | self.rv[i].q.val();
                    }
                }
                for j in 0..CONN_STASH {
                    if self.hits.q.val().get_bit(8 + j) {
                        self.fv.next = self.fv.val() | self.s_value[j].q.val();
                    }
                }
                self.f_value.d.next = self.fv.val();
                // First free way per table, first free stash entry.
                self.free0.d.next = self.occ.q.val().get_bits::<4>(0) != 0xf;
                self.free1.d.next = self.occ.q.val().get_bits::<4>(4) != 0xf;
                self.fway0.d.next = 0.into();
                if self.occ.q.val().get_bit(0) {
                    self.fway0.d.next = 1.into();
                    if self.occ.q.val().get_bit(1) {
                        self.fway0.d.next = 2.into();
                        if self.occ.q.val().get_bit(2) {
                            self.fway0.d.next = 3.into();
                        }
                    }
                }
                self.fway1.d.next = 0.into();
                if self.occ.q.val().get_bit(4) {
                    self.fway1.d.next = 1.into();
                    if self.occ.q.val().get_bit(5) {
                        self.fway1.d.next = 2.into();
                        if self.occ.q.val().get_bit(6) {
                            self.fway1.d.next = 3.into();
                        }
                    }
                }
                self.sfree.d.next = self.s_valid.q.val() != 0xf;
                self.sfidx.d.next = 0.into();
                if self.s_valid.q.val().get_bit(0) {
                    self.sfidx.d.next = 1.into();
                    if self.s_valid.q.val().get_bit(1) {
                        self.sfidx.d.next = 2.into();
                        if self.s_valid.q.val().get_bit(2) {
                            self.sfidx.d.next = 3.into();
                        }
                    }
                }
                // The stash entry that refills a slot freed in the found table.
                if self.hits.q.val().get_bits::<4>(4).any() {
                    self.rmask.next = self.rf1.q.val();
                }
                self.r_any.d.next = self.rmask.val().any();
                self.r_idx.d.next = 0.into();
                if !self.rmask.val().get_bit(0) {
                    self.r_idx.d.next = 1.into();
                    if !self.rmask.val().get_bit(1) {
                        self.r_idx.d.next = 2.into();
                        if !self.rmask.val().get_bit(2) {
                            self.r_idx.d.next = 3.into();
                        }
                    }
                }
                self.state.d.next = 8.into();
            }
            8 => {
                // PREP: the write job and the response.
                self.w_key_en.d.next = false;
                self.w_value_en.d.next = false;
                self.w_table.d.next = self.f_table.q.val();
                self.w_way.d.next = self.f_way.q.val();
                self.w_slot.d.next = 0.into();
                self.w_value.d.next = self.value.q.val();
                self.p_walk.d.next = false;
                self.p_stash_upd.d.next = false;
                self.p_stash_clr.d.next = 0.into();
                self.p_inc.d.next = false;
                self.p_dec.d.next = false;
                self.rsp_kk.d.next = 0.into();
                // Where the key was found.
                if self.f_table.q.val() {
                    self.f_bucket.next = self.b1.q.val();
                }
                self.f_loc.next = bit_cast::<CONN_LOC_BITS, 16>(self.f_bucket.val())
                    | (bit_cast::<CONN_LOC_BITS, 2>(self.f_way.q.val()) << 16);
                if self.f_table.q.val() {
                    self.f_loc.next = self.f_loc.val() | (1 << 18);
                }
                if self.f_stash.q.val() {
                    self.f_loc.next =
                        (bit_cast::<CONN_LOC_BITS, 2>(self.f_sidx.q.val()) << 16) | (1 << 19);
                }
                // The refilling stash entry, with its bucket in the other table.
                for j in 0..CONN_STASH {
                    if self.r_idx.q.val().index() == j {
                        self.rf_key.next = self.s_key[j].q.val();
                        self.rf_value.next = self.s_value[j].q.val();
                        if self.f_table.q.val() {
                            self.rf_alt.next = self.s_b0[j].q.val();
                        } else {
                            self.rf_alt.next = self.s_b1[j].q.val();
                        }
                    }
                }
                if self.f_any.q.val() {
                    self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                        .into();
                    self.rsp_val.d.next = self.f_value.q.val();
                    self.rsp_lc.d.next = self.f_loc.val();
                } else {
                    self.rsp_st.d.next = 2 /* CONN_STATUS_MISSING */
                        .into();
                    self.rsp_val.d.next = 0.into();
                    self.rsp_lc.d.next = 0.into();
                }
                if self.op.q.val() == 1
                /* CONN_OP_INSERT */
                {
                    if self.f_any.q.val() {
                        self.rsp_st.d.next = 1 /* CONN_STATUS_EXISTS */
                            .into();
                    } else if self.free0.q.val() {
                        self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                            .into();
                        self.rsp_lc.d.next = bit_cast::<CONN_LOC_BITS, 16>(self.b0.q.val())
                            | (bit_cast::<CONN_LOC_BITS, 2>(self.fway0.q.val()) << 16);
                        self.w_key_en.d.next = true;
                        self.w_value_en.d.next = true;
                        self.w_table.d.next = false;
                        self.w_way.d.next = self.fway0.q.val();
                        self.w_slot.d.next = (bit_cast::<CONN_SLOT_BITS, 96>(self.key.q.val())
                            << 17)
                            | (bit_cast::<CONN_SLOT_BITS, 16>(self.b1.q.val()) << 1)
                            | 1;
                        self.p_inc.d.next = true;
                    } else if self.free1.q.val() {
                        self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                            .into();
                        self.rsp_lc.d.next = bit_cast::<CONN_LOC_BITS, 16>(self.b1.q.val())
                            | (bit_cast::<CONN_LOC_BITS, 2>(self.fway1.q.val()) << 16)
                            | (1 << 18);
                        self.w_key_en.d.next = true;
                        self.w_value_en.d.next = true;
                        self.w_table.d.next = true;
                        self.w_way.d.next = self.fway1.q.val();
                        self.w_slot.d.next = (bit_cast::<CONN_SLOT_BITS, 96>(self.key.q.val())
                            << 17)
                            | (bit_cast::<CONN_SLOT_BITS, 16>(self.b0.q.val()) << 1)
                            | 1;
                        self.p_inc.d.next = true;
                    } else if self.sfree.q.val() {
                        self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                            .into();
                        self.p_walk.d.next = true;
                        self.p_inc.d.next = true;
                    } else {
                        self.rsp_st.d.next = 3 /* CONN_STATUS_FULL */
                            .into();
                    }
                } else if self.op.q.val() == 2
                /* CONN_OP_UPDATE */
                {
                    if self.f_any.q.val() {
                        if self.f_stash.q.val() {
                            self.p_stash_upd.d.next = true;
                        } else {
                            self.w_value_en.d.next = true;
                        }
                    }
                } else if (self.op.q.val() == 3/* CONN_OP_DELETE */) & self.f_any.q.val() {
                    self.p_dec.d.next = true;
                    if self.f_stash.q.val() {
                        self.p_stash_clr.d.next =
                            bit_cast::<CONN_STASH, 1>(1.into()) << self.f_sidx.q.val();
                    } else {
                        self.w_key_en.d.next = true;
                        if self.r_any.q.val() {
                            self.w_value_en.d.next = true;
                            self.w_value.d.next = self.rf_value.val();
                            self.w_slot.d.next =
                                (bit_cast::<CONN_SLOT_BITS, 96>(self.rf_key.val()) << 17)
                                    | (bit_cast::<CONN_SLOT_BITS, 16>(self.rf_alt.val()) << 1)
                                    | 1;
                            self.p_stash_clr.d.next =
                                bit_cast::<CONN_STASH, 1>(1.into()) << self.r_idx.q.val();
                        }
                    }
                }
                self.state.d.next = 9.into();
            }
            9 => {
                // ACT: apply the job.
                if self.w_table.q.val() {
                    self.t0_addr.next = self.b1.q.val().get_bits::<B>(0);
                    self.t1_addr.next = self.b1.q.val().get_bits::<B>(0);
                } else {
                    self.t0_addr.next = self.b0.q.val().get_bits::<B>(0);
                    self.t1_addr.next = self.b0.q.val().get_bits::<B>(0);
                }
                if self.w_key_en.q.val() {
                    self.we_key.next = bit_cast::<8, 1>(1.into())
                        << (bit_cast::<3, 1>(self.w_table.q.val().into()) << 2
                            | bit_cast::<3, 2>(self.w_way.q.val()));
                }
                if self.w_value_en.q.val() {
                    self.we_value.next = bit_cast::<8, 1>(1.into())
                        << (bit_cast::<3, 1>(self.w_table.q.val().into()) << 2
                            | bit_cast::<3, 2>(self.w_way.q.val()));
                }
                for j in 0..CONN_STASH {
                    if self.p_stash_upd.q.val() & (self.f_sidx.q.val().index() == j) {
                        self.s_value[j].d.next = self.value.q.val();
                    }
                }
                self.s_valid.d.next = self.s_valid.q.val() & !self.p_stash_clr.q.val();
                if self.p_inc.q.val() {
                    self.count.d.next = self.count_up.val();
                }
                if self.p_dec.q.val() {
                    self.count.d.next = self.count_down.val();
                }
                if self.p_walk.q.val() {
                    // The new entry becomes the carry, bound for table 0.
                    self.c_valid.d.next = true;
                    self.c_key.d.next = self.key.q.val();
                    self.c_value.d.next = self.value.q.val();
                    self.c_t.d.next = false;
                    self.c_bt.d.next = self.b0.q.val();
                    self.c_bo.d.next = self.b1.q.val();
                    self.c_new.d.next = true;
                    self.new_loc.d.next = 0.into();
                    self.kicks.d.next = 0.into();
                    self.state.d.next = 10.into();
                } else {
                    self.state.d.next = 14.into();
                }
            }
            10 => {
                // KREAD: the carry's target bucket (both tables read it).
                self.t0_addr.next = self.c_bt.q.val().get_bits::<B>(0);
                self.t1_addr.next = self.c_bt.q.val().get_bits::<B>(0);
                self.state.d.next = 11.into();
            }
            11 => {
                // KWAIT
                for i in 0..8 {
                    self.rk[i].d.next = self.rkey[i].val();
                    self.rv[i].d.next = self.rvalue[i].val();
                }
                self.state.d.next = 12.into();
            }
            12 => {
                // KDEC: free way or victim in the carry's table.
                for w in 0..4 {
                    if self.c_t.q.val() {
                        self.kocc.next = self
                            .kocc
                            .val()
                            .replace_bit(w, self.rk[4 + w].q.val().get_bit(0));
                    } else {
                        self.kocc.next = self
                            .kocc
                            .val()
                            .replace_bit(w, self.rk[w].q.val().get_bit(0));
                    }
                }
                self.k_free.d.next = self.kocc.val() != 0xf;
                self.k_last.d.next = self.kicks.q.val() == self.c_max_kicks.val();
                self.k_way.d.next = self.lfsr.q.val().get_bits::<2>(0);
                if self.kocc.val() != 0xf {
                    self.k_way.d.next = 0.into();
                    if self.kocc.val().get_bit(0) {
                        self.k_way.d.next = 1.into();
                        if self.kocc.val().get_bit(1) {
                            self.k_way.d.next = 2.into();
                            if self.kocc.val().get_bit(2) {
                                self.k_way.d.next = 3.into();
                            }
                        }
                    }
                }
                for w in 0..4 {
                    if self.lfsr.q.val().get_bits::<2>(0).index() == w {
                        if self.c_t.q.val() {
                            self.v_key.d.next = self.rk[4 + w].q.val().get_bits::<96>(17);
                            self.v_alt.d.next = self.rk[4 + w].q.val().get_bits::<16>(1);
                            self.v_value.d.next = self.rv[4 + w].q.val();
                        } else {
                            self.v_key.d.next = self.rk[w].q.val().get_bits::<96>(17);
                            self.v_alt.d.next = self.rk[w].q.val().get_bits::<16>(1);
                            self.v_value.d.next = self.rv[w].q.val();
                        }
                    }
                }
                self.k_victim_loc.next = bit_cast::<CONN_LOC_BITS, 16>(self.c_bt.q.val())
                    | (bit_cast::<CONN_LOC_BITS, 2>(self.lfsr.q.val().get_bits::<2>(0)) << 16);
                if self.c_t.q.val() {
                    self.k_victim_loc.next = self.k_victim_loc.val() | (1 << 18);
                }
                self.k_victim_new.d.next =
                    !self.c_new.q.val() & (self.k_victim_loc.val() == self.new_loc.q.val());
                // The write job: the carry, into the carry's table.
                self.w_table.d.next = self.c_t.q.val();
                self.w_slot.d.next = (bit_cast::<CONN_SLOT_BITS, 96>(self.c_key.q.val()) << 17)
                    | (bit_cast::<CONN_SLOT_BITS, 16>(self.c_bo.q.val()) << 1)
                    | 1;
                self.w_value.d.next = self.c_value.q.val();
                self.state.d.next = 13.into();
            }
            13 => {
                // KACT
                self.t0_addr.next = self.c_bt.q.val().get_bits::<B>(0);
                self.t1_addr.next = self.c_bt.q.val().get_bits::<B>(0);
                self.placed_loc.next = bit_cast::<CONN_LOC_BITS, 16>(self.c_bt.q.val())
                    | (bit_cast::<CONN_LOC_BITS, 2>(self.k_way.q.val()) << 16);
                if self.c_t.q.val() {
                    self.placed_loc.next = self.placed_loc.val() | (1 << 18);
                }
                self.stash_loc.next =
                    (bit_cast::<CONN_LOC_BITS, 2>(self.sfidx.q.val()) << 16) | (1 << 19);
                self.rsp_st.d.next = 0 /* CONN_STATUS_OK */
                    .into();
                self.rsp_val.d.next = 0.into();
                self.rsp_kk.d.next = self.kicks.q.val();
                self.rsp_lc.d.next = self.new_loc.q.val();
                if self.k_free.q.val() | !self.k_last.q.val() {
                    self.we_key.next = bit_cast::<8, 1>(1.into())
                        << (bit_cast::<3, 1>(self.c_t.q.val().into()) << 2
                            | bit_cast::<3, 2>(self.k_way.q.val()));
                    self.we_value.next = self.we_key.val();
                }
                if self.k_free.q.val() {
                    // Home: done.
                    self.c_valid.d.next = false;
                    if self.c_new.q.val() {
                        self.rsp_lc.d.next = self.placed_loc.val();
                    }
                    self.state.d.next = 14.into();
                } else if self.k_last.q.val() {
                    // Out of evictions: the carry goes to the free stash entry.
                    self.c_valid.d.next = false;
                    for j in 0..CONN_STASH {
                        if self.sfidx.q.val().index() == j {
                            self.s_key[j].d.next = self.c_key.q.val();
                            self.s_value[j].d.next = self.c_value.q.val();
                            if self.c_t.q.val() {
                                self.s_b0[j].d.next = self.c_bo.q.val();
                                self.s_b1[j].d.next = self.c_bt.q.val();
                            } else {
                                self.s_b0[j].d.next = self.c_bt.q.val();
                                self.s_b1[j].d.next = self.c_bo.q.val();
                            }
                        }
                    }
                    self.s_valid.d.next = self.s_valid.q.val()
                        | (bit_cast::<CONN_STASH, 1>(1.into()) << self.sfidx.q.val());
                    if self.c_new.q.val() {
                        self.rsp_lc.d.next = self.stash_loc.val();
                    }
                    self.state.d.next = 14.into();
                } else {
                    // Swap: the victim becomes the carry, bound for its other table.
                    self.c_key.d.next = self.v_key.q.val();
                    self.c_value.d.next = self.v_value.q.val();
                    self.c_t.d.next = !self.c_t.q.val();
                    self.c_bt.d.next = self.v_alt.q.val();
                    self.c_bo.d.next = self.c_bt.q.val();
                    self.c_new.d.next = self.k_victim_new.q.val();
                    if self.c_new.q.val() {
                        self.new_loc.d.next = self.placed_loc.val();
                    }
                    self.kicks.d.next = self.kick_next.val();
                    if self.lfsr.q.val().get_bit(0) {
                        self.lfsr.d.next = (self.lfsr.q.val() >> 1) ^ self.c_lfsr_taps.val();
                    } else {
                        self.lfsr.d.next = self.lfsr.q.val() >> 1;
                    }
                    self.state.d.next = 10.into();
                }
            }
            _ => {
                // RSP
                if (self.port.q.val() & self.o_rsp_ready.val())
                    | (!self.port.q.val() & self.h_rsp_ready.val())
                {
                    self.clear_cmd.d.next = false;
                    self.state.d.next = 1.into();
                }
            }
        }

        if self.rst.val() {
            self.state.d.next = 0.into();
            self.sel.d.next = false;
            self.port.d.next = false;
            self.op.d.next = 0.into();
            self.key.d.next = 0.into();
            self.value.d.next = 0.into();
            self.hash_go.d.next = false;
            self.b0.d.next = 0.into();
            self.b1.d.next = 0.into();
            for i in 0..8 {
                self.rk[i].d.next = 0.into();
                self.rv[i].d.next = 0.into();
            }
            for i in 0..12 {
                self.ceq[i].d.next = 0.into();
            }
            self.hits.d.next = 0.into();
            self.occ.d.next = 0.into();
            self.rf0.d.next = 0.into();
            self.rf1.d.next = 0.into();
            self.f_any.d.next = false;
            self.f_stash.d.next = false;
            self.f_table.d.next = false;
            self.f_way.d.next = 0.into();
            self.f_sidx.d.next = 0.into();
            self.f_value.d.next = 0.into();
            self.free0.d.next = false;
            self.fway0.d.next = 0.into();
            self.free1.d.next = false;
            self.fway1.d.next = 0.into();
            self.sfree.d.next = false;
            self.sfidx.d.next = 0.into();
            self.r_any.d.next = false;
            self.r_idx.d.next = 0.into();
            self.w_key_en.d.next = false;
            self.w_value_en.d.next = false;
            self.w_table.d.next = false;
            self.w_way.d.next = 0.into();
            self.w_slot.d.next = 0.into();
            self.w_value.d.next = 0.into();
            self.p_walk.d.next = false;
            self.p_stash_upd.d.next = false;
            self.p_stash_clr.d.next = 0.into();
            self.p_inc.d.next = false;
            self.p_dec.d.next = false;
            self.s_valid.d.next = 0.into();
            for j in 0..CONN_STASH {
                self.s_key[j].d.next = 0.into();
                self.s_value[j].d.next = 0.into();
                self.s_b0[j].d.next = 0.into();
                self.s_b1[j].d.next = 0.into();
            }
            self.c_valid.d.next = false;
            self.c_key.d.next = 0.into();
            self.c_value.d.next = 0.into();
            self.c_t.d.next = false;
            self.c_bt.d.next = 0.into();
            self.c_bo.d.next = 0.into();
            self.c_new.d.next = false;
            self.new_loc.d.next = 0.into();
            self.kicks.d.next = 0.into();
            self.lfsr.d.next = self.c_lfsr_seed.val();
            self.k_free.d.next = false;
            self.k_last.d.next = false;
            self.k_way.d.next = 0.into();
            self.k_victim_new.d.next = false;
            self.v_key.d.next = 0.into();
            self.v_alt.d.next = 0.into();
            self.v_value.d.next = 0.into();
            self.sweep.d.next = 0.into();
            self.clear_cmd.d.next = false;
            self.rsp_st.d.next = 0.into();
            self.rsp_val.d.next = 0.into();
            self.rsp_lc.d.next = 0.into();
            self.rsp_kk.d.next = 0.into();
            self.count.d.next = 0.into();
        }
    }
}
