//! The lookup pipeline of the connection table
//! ([`super::conn_table::ConnTable`]): one lookup per cycle, never stalled,
//! a result [`CONN_LOOKUP_LATENCY`] cycles later, on port A of the table
//! RAMs.
//!
//! | cycle  | stage                                                           |
//! |--------|-----------------------------------------------------------------|
//! | c      | `lk_valid`, `lk_key`, `lk_tag` on the inputs (registered)       |
//! | c+1..13| SipHash-2-4 of the key (12 stages); the key waits alongside     |
//! | c+13   | bucket addresses to the 8 RAMs (port A); stash, carry and `clearing` sampled on the same edge: the snapshot the lookup answers from |
//! | c+14   | RAM outputs registered                                          |
//! | c+15   | 12-bit chunk compares of the key with 8 slots, 4 stash entries and the carry, registered |
//! | c+16   | hit (one of 13 at most), value by AND-OR, registered            |
//! | c+17   | `out_valid`, `out_hit`, `out_value`, `out_tag`                   |
//!
//! A lookup whose snapshot falls in a clear sweep misses.
use super::conn_table::*;
use super::key_chunk_eq::{KeyChunkEq, KEY_CHUNKS};
use crate::common::siphash::{SipHash24, SIPHASH_LATENCY};
use rust_hdl::prelude::*;

/// Candidates of a lookup: 8 slots, the stash, the carry.
const CANDIDATES: usize = 8 + CONN_STASH + 1;
// Kernels index with literals (a constant's name would reach the Verilog):
// 11 is the last hash stage, 12 the carry's candidate.
const _: () = assert!(SIPHASH_LATENCY == 12 && CANDIDATES == 13);

#[derive(LogicBlock)]
pub struct ConnTableLookup<const B: usize, const V: usize> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub hash_k0: Signal<In, Bits<64>>,
    pub hash_k1: Signal<In, Bits<64>>,
    pub lk_valid: Signal<In, Bit>,
    pub lk_key: Signal<In, Bits<96>>,
    pub lk_tag: Signal<In, Bits<CONN_TAG_BITS>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_hit: Signal<Out, Bit>,
    pub out_value: Signal<Out, Bits<V>>,
    pub out_tag: Signal<Out, Bits<CONN_TAG_BITS>>,
    /// Port A of the RAMs.
    pub t0_addr: Signal<Out, Bits<B>>,
    pub t1_addr: Signal<Out, Bits<B>>,
    pub rkey: [Signal<In, Bits<CONN_SLOT_BITS>>; 8],
    pub rvalue: [Signal<In, Bits<V>>; 8],
    /// The engine's stash, carry and sweep.
    pub stash_valid: Signal<In, Bits<CONN_STASH>>,
    pub stash_key: [Signal<In, Bits<96>>; CONN_STASH],
    pub stash_value: [Signal<In, Bits<V>>; CONN_STASH],
    pub carry_valid: Signal<In, Bit>,
    pub carry_key: Signal<In, Bits<96>>,
    pub carry_value: Signal<In, Bits<V>>,
    pub clearing: Signal<In, Bit>,

    hasher: SipHash24,
    cmp: [KeyChunkEq; CANDIDATES],
    i_valid: DFF<Bit>,
    i_key: DFF<Bits<96>>,
    i_tag: DFF<Bits<CONN_TAG_BITS>>,
    /// The key and tag beside the hash: stage k holds cycle c + 2 + k.
    d_key: [DFF<Bits<96>>; SIPHASH_LATENCY],
    d_tag: [DFF<Bits<CONN_TAG_BITS>>; SIPHASH_LATENCY],
    /// Snapshot (c+13 edge).
    s1_valid: DFF<Bit>,
    s1_clr: DFF<Bit>,
    s1_key: DFF<Bits<96>>,
    s1_tag: DFF<Bits<CONN_TAG_BITS>>,
    s1_sv: DFF<Bits<CONN_STASH>>,
    s1_sk: [DFF<Bits<96>>; CONN_STASH],
    s1_sval: [DFF<Bits<V>>; CONN_STASH],
    s1_cv: DFF<Bit>,
    s1_ck: DFF<Bits<96>>,
    s1_cval: DFF<Bits<V>>,
    /// All candidates (c+14 edge): keys, values, valid bits.
    s2_valid: DFF<Bit>,
    s2_key: DFF<Bits<96>>,
    s2_tag: DFF<Bits<CONN_TAG_BITS>>,
    s2_ck: [DFF<Bits<96>>; CANDIDATES],
    s2_cval: [DFF<Bits<V>>; CANDIDATES],
    s2_cv: DFF<Bits<CANDIDATES>>,
    /// Chunk compares (c+15 edge).
    s3_valid: DFF<Bit>,
    s3_tag: DFF<Bits<CONN_TAG_BITS>>,
    s3_eq: [DFF<Bits<KEY_CHUNKS>>; CANDIDATES],
    s3_cval: [DFF<Bits<V>>; CANDIDATES],
    s3_cv: DFF<Bits<CANDIDATES>>,
    /// Result (c+16 edge).
    o_valid: DFF<Bit>,
    o_hit: DFF<Bit>,
    o_value: DFF<Bits<V>>,
    o_tag: DFF<Bits<CONN_TAG_BITS>>,
    c_domain: Constant<Bits<64>>,
    hitv: Signal<Local, Bits<CANDIDATES>>,
    val: Signal<Local, Bits<V>>,
}

impl<const B: usize, const V: usize> Default for ConnTableLookup<B, V> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            hash_k0: Default::default(),
            hash_k1: Default::default(),
            lk_valid: Default::default(),
            lk_key: Default::default(),
            lk_tag: Default::default(),
            out_valid: Default::default(),
            out_hit: Default::default(),
            out_value: Default::default(),
            out_tag: Default::default(),
            t0_addr: Default::default(),
            t1_addr: Default::default(),
            rkey: Default::default(),
            rvalue: Default::default(),
            stash_valid: Default::default(),
            stash_key: Default::default(),
            stash_value: Default::default(),
            carry_valid: Default::default(),
            carry_key: Default::default(),
            carry_value: Default::default(),
            clearing: Default::default(),
            hasher: Default::default(),
            cmp: Default::default(),
            i_valid: Default::default(),
            i_key: Default::default(),
            i_tag: Default::default(),
            d_key: Default::default(),
            d_tag: Default::default(),
            s1_valid: Default::default(),
            s1_clr: Default::default(),
            s1_key: Default::default(),
            s1_tag: Default::default(),
            s1_sv: Default::default(),
            s1_sk: Default::default(),
            s1_sval: Default::default(),
            s1_cv: Default::default(),
            s1_ck: Default::default(),
            s1_cval: Default::default(),
            s2_valid: Default::default(),
            s2_key: Default::default(),
            s2_tag: Default::default(),
            s2_ck: Default::default(),
            s2_cval: Default::default(),
            s2_cv: Default::default(),
            s3_valid: Default::default(),
            s3_tag: Default::default(),
            s3_eq: Default::default(),
            s3_cval: Default::default(),
            s3_cv: Default::default(),
            o_valid: Default::default(),
            o_hit: Default::default(),
            o_value: Default::default(),
            o_tag: Default::default(),
            c_domain: Constant::new((CONN_HASH_DOMAIN << 32).into()),
            hitv: Default::default(),
            val: Default::default(),
        }
    }
}

impl<const B: usize, const V: usize> Logic for ConnTableLookup<B, V> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, i_valid, i_key, i_tag, s1_valid, s1_clr, s1_key, s1_tag, s1_sv, s1_cv,
            s1_ck, s1_cval, s2_valid, s2_key, s2_tag, s2_cv, s3_valid, s3_tag, s3_cv, o_valid,
            o_hit, o_value, o_tag
        );
        for k in 0..SIPHASH_LATENCY {
            self.d_key[k].clock.next = self.clock.val();
            self.d_tag[k].clock.next = self.clock.val();
        }
        for j in 0..CONN_STASH {
            self.s1_sk[j].clock.next = self.clock.val();
            self.s1_sval[j].clock.next = self.clock.val();
        }
        for i in 0..CANDIDATES {
            self.s2_ck[i].clock.next = self.clock.val();
            self.s2_cval[i].clock.next = self.clock.val();
            self.s3_eq[i].clock.next = self.clock.val();
            self.s3_cval[i].clock.next = self.clock.val();
        }
        clock!(self, clock, hasher);

        // Cycle c: inputs registered.
        self.i_valid.d.next = self.lk_valid.val();
        self.i_key.d.next = self.lk_key.val();
        self.i_tag.d.next = self.lk_tag.val();

        // Cycles c+1..c+13: the hash; the key and tag travel beside it.
        self.hasher.rst.next = self.rst.val();
        self.hasher.k0.next = self.hash_k0.val();
        self.hasher.k1.next = self.hash_k1.val();
        self.hasher.in_valid.next = self.i_valid.q.val();
        self.hasher.m0.next = self.i_key.q.val().get_bits::<64>(0);
        self.hasher.m1.next =
            bit_cast::<64, 32>(self.i_key.q.val().get_bits::<32>(64)) | self.c_domain.val();
        self.hasher.m2.next = 0.into();
        self.hasher.in_tag.next = 0.into();
        self.d_key[0].d.next = self.i_key.q.val();
        self.d_tag[0].d.next = self.i_tag.q.val();
        for k in 1..SIPHASH_LATENCY {
            self.d_key[k].d.next = self.d_key[k - 1].q.val();
            self.d_tag[k].d.next = self.d_tag[k - 1].q.val();
        }

        // Cycle c+13: RAM addresses from the hash; the snapshot.
        self.t0_addr.next = self.hasher.hash.val().get_bits::<B>(0);
        self.t1_addr.next = self.hasher.hash.val().get_bits::<B>(32);
        self.s1_valid.d.next = self.hasher.out_valid.val();
        self.s1_clr.d.next = self.clearing.val();
        self.s1_key.d.next = self.d_key[11].q.val();
        self.s1_tag.d.next = self.d_tag[11].q.val();
        self.s1_sv.d.next = self.stash_valid.val();
        for j in 0..CONN_STASH {
            self.s1_sk[j].d.next = self.stash_key[j].val();
            self.s1_sval[j].d.next = self.stash_value[j].val();
        }
        self.s1_cv.d.next = self.carry_valid.val();
        self.s1_ck.d.next = self.carry_key.val();
        self.s1_cval.d.next = self.carry_value.val();

        // Cycle c+14: every candidate in one set of registers.
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_key.d.next = self.s1_key.q.val();
        self.s2_tag.d.next = self.s1_tag.q.val();
        self.s2_cv.d.next = 0.into();
        for i in 0..8 {
            self.s2_ck[i].d.next = self.rkey[i].val().get_bits::<96>(17);
            self.s2_cval[i].d.next = self.rvalue[i].val();
            self.s2_cv.d.next = self
                .s2_cv
                .d
                .val()
                .replace_bit(i, self.rkey[i].val().get_bit(0));
        }
        for j in 0..CONN_STASH {
            self.s2_ck[8 + j].d.next = self.s1_sk[j].q.val();
            self.s2_cval[8 + j].d.next = self.s1_sval[j].q.val();
            self.s2_cv.d.next = self
                .s2_cv
                .d
                .val()
                .replace_bit(8 + j, self.s1_sv.q.val().get_bit(j));
        }
        self.s2_ck[12].d.next = self.s1_ck.q.val();
        self.s2_cval[12].d.next = self.s1_cval.q.val();
        self.s2_cv.d.next = self.s2_cv.d.val().replace_bit(12, self.s1_cv.q.val());
        if self.s1_clr.q.val() {
            self.s2_cv.d.next = 0.into();
        }

        // Cycle c+15: chunk compares.
        self.s3_valid.d.next = self.s2_valid.q.val();
        self.s3_tag.d.next = self.s2_tag.q.val();
        self.s3_cv.d.next = self.s2_cv.q.val();
        for i in 0..CANDIDATES {
            self.cmp[i].a.next = self.s2_key.q.val();
            self.cmp[i].b.next = self.s2_ck[i].q.val();
            self.s3_eq[i].d.next = self.cmp[i].eq.val();
            self.s3_cval[i].d.next = self.s2_cval[i].q.val();
        }

        // Cycle c+16: the hit (at most one candidate holds the key).
        self.hitv.next = 0.into();
        self.val.next = 0.into();
        for i in 0..CANDIDATES {
            self.hitv.next = self.hitv.val().replace_bit(
                i,
                self.s3_eq[i].q.val().all() & self.s3_cv.q.val().get_bit(i),
            );
            if self.s3_eq[i].q.val().all() & self.s3_cv.q.val().get_bit(i) {
                self.val.next = self.val.val() | self.s3_cval[i].q.val();
            }
        }
        self.o_valid.d.next = self.s3_valid.q.val();
        self.o_tag.d.next = self.s3_tag.q.val();
        self.o_hit.d.next = self.s3_valid.q.val() & self.hitv.val().any();
        self.o_value.d.next = 0.into();
        if self.s3_valid.q.val() {
            self.o_value.d.next = self.val.val();
        }
        self.out_valid.next = self.o_valid.q.val();
        self.out_hit.next = self.o_hit.q.val();
        self.out_value.next = self.o_value.q.val();
        self.out_tag.next = self.o_tag.q.val();

        if self.rst.val() {
            self.i_valid.d.next = false;
            self.i_key.d.next = 0.into();
            self.i_tag.d.next = 0.into();
            for k in 0..SIPHASH_LATENCY {
                self.d_key[k].d.next = 0.into();
                self.d_tag[k].d.next = 0.into();
            }
            self.s1_valid.d.next = false;
            self.s1_clr.d.next = false;
            self.s1_key.d.next = 0.into();
            self.s1_tag.d.next = 0.into();
            self.s1_sv.d.next = 0.into();
            for j in 0..CONN_STASH {
                self.s1_sk[j].d.next = 0.into();
                self.s1_sval[j].d.next = 0.into();
            }
            self.s1_cv.d.next = false;
            self.s1_ck.d.next = 0.into();
            self.s1_cval.d.next = 0.into();
            self.s2_valid.d.next = false;
            self.s2_key.d.next = 0.into();
            self.s2_tag.d.next = 0.into();
            self.s2_cv.d.next = 0.into();
            for i in 0..CANDIDATES {
                self.s2_ck[i].d.next = 0.into();
                self.s2_cval[i].d.next = 0.into();
                self.s3_eq[i].d.next = 0.into();
                self.s3_cval[i].d.next = 0.into();
            }
            self.s3_valid.d.next = false;
            self.s3_tag.d.next = 0.into();
            self.s3_cv.d.next = 0.into();
            self.o_valid.d.next = false;
            self.o_hit.d.next = false;
            self.o_value.d.next = 0.into();
            self.o_tag.d.next = 0.into();
        }
    }
}
