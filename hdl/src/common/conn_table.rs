//! The hashed connection table: IPv4 4-tuple (96-bit key) to a value of
//! `V` bits, for the teardown and splicing offloads.  Lookups run one per
//! cycle whatever the size and are never stalled; inserts, updates, deletes
//! and reads come from two command ports (host and offload logic) and take
//! a bounded time; an insert that finds no room reports "full" and changes
//! nothing.  Design, timing and measurements: docs/conn_table.md; reference
//! model: `toe_model::conn_table`.
//!
//! Organisation: bucketed cuckoo hashing with two tables of `2^B` buckets
//! of 4 slots (every key has one bucket in each table) and a stash of 4
//! entries in registers.
//!
//! * Cuckoo hashing: R. Pagh and F. F. Rodler, "Cuckoo hashing", J.
//!   Algorithms 51 (2004).  Buckets of several slots ("blocked" or
//!   bucketized cuckoo hashing) raise the load a table reaches before an
//!   insert fails from 50% (one slot) to about 98% with 4 slots per bucket
//!   (M. Dietzfelbinger and C. Weidling, "Balanced allocation and
//!   dictionaries with tightly packed constant size bins", TCS 380 (2007);
//!   B. Fan, D. G. Andersen, M. Kaminsky, "MemC3", NSDI 2013, which uses
//!   4-way buckets as here).  An insert whose two buckets are full evicts
//!   entries along a random walk (victim way from an LFSR), at most
//!   [`CONN_MAX_KICKS`] evictions, so its time is bounded; d-left hashing
//!   (Broder and Mitzenmacher, "Using multiple hash functions to improve IP
//!   lookups", INFOCOM 2001), which never moves entries, was the other
//!   choice: simpler, but its first overflow comes at a lower load (with
//!   2 choices of 4-slot buckets, the fullest bucket overflows well before
//!   the table is full) and it needs a larger stash for the same guarantee.
//! * Stash: A. Kirsch, M. Mitzenmacher, U. Wieder, "More robust hashing:
//!   cuckoo hashing with a stash", SIAM J. Comput. 39 (2009): a few extra
//!   entries turn the rare failed walk (probability O(1/n)) into a stored
//!   entry (failure O(1/n^(s+1)) for a stash of s).  The stash is searched by
//!   every lookup in parallel (registers), so it costs no extra cycle.  An
//!   insert reports full only when its two buckets are full *and* the stash
//!   is full (the test is made before the walk starts, so a walk always ends
//!   in a slot or the stash: nothing is ever overwritten or lost).  A delete
//!   that frees a slot moves the lowest stash entry that hashes to that
//!   bucket into it, so stash entries leave as soon as room appears.
//! * Keyed hash: SipHash-2-4 (J.-P. Aumasson, D. J. Bernstein, "SipHash: a
//!   fast short-input PRF", INDOCRYPT 2012) under a 128-bit key the host
//!   draws at random ([`ConnTable::hash_k0`], `hash_k1`), the pipelined block
//!   `common::siphash::SipHash24` reused by composition (one instance for the
//!   lookups, one for the engine).  The message is the key with a domain
//!   word ("conn") so that a key shared with the SYN cookies gives unrelated
//!   values.  A PRF's output is unpredictable without its key, so a remote
//!   sender choosing 4-tuples cannot aim them at one bucket (the flooding
//!   attack of S. A. Crosby and D. S. Wallach, "Denial of service via
//!   algorithmic complexity attacks", USENIX Security 2003); CRC- or
//!   Toeplitz-based placement (AccelTCP's CRC32 splice table) is linear and
//!   can be aimed.  Bucket in table 0: hash bits `B-1:0`; table 1: bits
//!   `32+B-1:32`.  Change the key only with a clear.
//!
//! Storage: per table and way one RAM of `2^B` words of
//! [`CONN_SLOT_BITS`] (valid, the entry's bucket in the other table, key)
//! and one of `V` bits (value), each a [`DualPortRam`]: port A serves the
//! lookups every cycle, port B the modification engine, so neither waits
//! for the other.  The stored other-table bucket lets an eviction find the
//! victim's next bucket without hashing it again.
//!
//! Ordering (coherence): the engine applies one command at a time; each
//! change of the table's contents is a single clock edge (a new entry, a
//! value, a removal, one eviction step, which swaps the carried entry and
//! the victim, or a stash refill), and a lookup answers from the contents
//! of one edge: the RAMs, the stash and the carry all sampled on the edge
//! that ends cycle c+13 for a lookup accepted in cycle c.  Hence: a lookup
//! sees every command whose response came before its snapshot edge (in
//! particular every command whose response was given before the lookup was
//! accepted), none accepted after it, and a key that a walk moves is found
//! all the time, neither lost nor doubled.  A command in progress at the
//! snapshot shows its change or not (only its own key can differ).  Lookups
//! never stall the engine and the engine never stalls lookups.
//!
//! Reset (synchronous, `rst`) and the CLEAR command sweep all buckets
//! (`2^B` cycles, `clearing` high, commands wait); lookups whose snapshot
//! falls in the sweep miss.
use super::conn_table_engine::ConnTableEngine;
use super::conn_table_lookup::ConnTableLookup;
use super::dual_port_ram::DualPortRam;
use rust_hdl::prelude::*;

/// Bucket-index bits of the default table: 2 tables x 8192 buckets x 4 slots.
pub const CONN_TABLE_BUCKET_BITS: usize = 13;
/// Entries of the default table (table slots; the stash adds 4).
pub const CONN_TABLE_ENTRIES: usize = (2 * CONN_WAYS) << CONN_TABLE_BUCKET_BITS;
const _: () = assert!(CONN_TABLE_ENTRIES == 65536);
/// Value width of the default table.
pub const CONN_VALUE_BITS: usize = 32;
/// Slots per bucket.
pub const CONN_WAYS: usize = 4;
/// Stash entries.
pub const CONN_STASH: usize = 4;
/// Evictions an insert may make before its homeless entry goes to the stash.
pub const CONN_MAX_KICKS: usize = 64;
/// A slot's key-RAM word: bit 0 valid, bits 16:1 the entry's bucket in the
/// other table, bits 112:17 the key.
pub const CONN_SLOT_BITS: usize = 113;
/// Lookup tag width (opaque, travels with the lookup).
pub const CONN_TAG_BITS: usize = 32;
/// Cycles from a lookup on the inputs to its result on the outputs.
pub const CONN_LOOKUP_LATENCY: usize = 17;
/// Opcode width and opcodes (other codes behave as READ).
pub const CONN_OP_BITS: usize = 3;
pub const CONN_OP_READ: u64 = 0;
pub const CONN_OP_INSERT: u64 = 1;
pub const CONN_OP_UPDATE: u64 = 2;
pub const CONN_OP_DELETE: u64 = 3;
pub const CONN_OP_CLEAR: u64 = 4;
/// Response status codes.
pub const CONN_STATUS_OK: u64 = 0;
pub const CONN_STATUS_EXISTS: u64 = 1;
pub const CONN_STATUS_MISSING: u64 = 2;
pub const CONN_STATUS_FULL: u64 = 3;
/// Location of an entry in a response: bit 19 stash, bit 18 table, bits
/// 17:16 way (stash index), bits 15:0 bucket.
pub const CONN_LOC_BITS: usize = 20;
/// Width of the eviction count of a response.
pub const CONN_KICK_BITS: usize = 8;
/// Width of the entry count.
pub const CONN_COUNT_BITS: usize = 20;
/// "conn": bits 63:32 of the hash's second message word.
pub const CONN_HASH_DOMAIN: u64 = 0x636f_6e6e;
/// Victim-choice LFSR (Galois, x^16 + x^14 + x^13 + x^11 + 1): value after
/// reset and clear, feedback taps.
pub const CONN_LFSR_SEED: u16 = 0xace1;
pub const CONN_LFSR_TAPS: u16 = 0xb400;

/// The default table: 65536 entries of 32-bit values.
pub type ConnTable64K = ConnTable<CONN_TABLE_BUCKET_BITS, CONN_VALUE_BITS>;
/// A small table for tests: 2 x 16 buckets x 4 = 128 entries.
pub type ConnTableSmall = ConnTable<4, CONN_VALUE_BITS>;

/// The table: `2 * 4 * 2^B` entries, values of `V` bits.
#[derive(LogicBlock)]
pub struct ConnTable<const B: usize, const V: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: starts the clear sweep.
    pub rst: Signal<In, Bit>,
    /// SipHash key (bytes 0-7 and 8-15, little-endian).
    pub hash_k0: Signal<In, Bits<64>>,
    pub hash_k1: Signal<In, Bits<64>>,
    /// Lookups: one per cycle, no backpressure.
    pub lk_valid: Signal<In, Bit>,
    pub lk_key: Signal<In, Bits<96>>,
    pub lk_tag: Signal<In, Bits<CONN_TAG_BITS>>,
    /// Results, CONN_LOOKUP_LATENCY cycles after the lookup.
    pub lk_out_valid: Signal<Out, Bit>,
    pub lk_out_hit: Signal<Out, Bit>,
    pub lk_out_value: Signal<Out, Bits<V>>,
    pub lk_out_tag: Signal<Out, Bits<CONN_TAG_BITS>>,
    /// Host command port: a command when valid and ready; its response
    /// (status, value before the command, location, evictions) when
    /// `h_rsp_valid` and `h_rsp_ready`.
    pub h_cmd_valid: Signal<In, Bit>,
    pub h_cmd_ready: Signal<Out, Bit>,
    pub h_cmd_op: Signal<In, Bits<CONN_OP_BITS>>,
    pub h_cmd_key: Signal<In, Bits<96>>,
    pub h_cmd_value: Signal<In, Bits<V>>,
    pub h_rsp_valid: Signal<Out, Bit>,
    pub h_rsp_ready: Signal<In, Bit>,
    pub h_rsp_status: Signal<Out, Bits<2>>,
    pub h_rsp_value: Signal<Out, Bits<V>>,
    pub h_rsp_loc: Signal<Out, Bits<CONN_LOC_BITS>>,
    pub h_rsp_kicks: Signal<Out, Bits<CONN_KICK_BITS>>,
    /// Offload command port, the same.
    pub o_cmd_valid: Signal<In, Bit>,
    pub o_cmd_ready: Signal<Out, Bit>,
    pub o_cmd_op: Signal<In, Bits<CONN_OP_BITS>>,
    pub o_cmd_key: Signal<In, Bits<96>>,
    pub o_cmd_value: Signal<In, Bits<V>>,
    pub o_rsp_valid: Signal<Out, Bit>,
    pub o_rsp_ready: Signal<In, Bit>,
    pub o_rsp_status: Signal<Out, Bits<2>>,
    pub o_rsp_value: Signal<Out, Bits<V>>,
    pub o_rsp_loc: Signal<Out, Bits<CONN_LOC_BITS>>,
    pub o_rsp_kicks: Signal<Out, Bits<CONN_KICK_BITS>>,
    /// The clear sweep runs (after reset or a CLEAR command).
    pub clearing: Signal<Out, Bit>,
    /// The engine is not idle.
    pub busy: Signal<Out, Bit>,
    /// Entries held (stash included), stash entries in use.
    pub entries: Signal<Out, Bits<CONN_COUNT_BITS>>,
    pub stash_used: Signal<Out, Bits<3>>,
    kram: [DualPortRam<Bits<CONN_SLOT_BITS>, B>; 8],
    vram: [DualPortRam<Bits<V>, B>; 8],
    engine: ConnTableEngine<B, V>,
    lookup: ConnTableLookup<B, V>,
}

impl<const B: usize, const V: usize> Default for ConnTable<B, V> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            hash_k0: Default::default(),
            hash_k1: Default::default(),
            lk_valid: Default::default(),
            lk_key: Default::default(),
            lk_tag: Default::default(),
            lk_out_valid: Default::default(),
            lk_out_hit: Default::default(),
            lk_out_value: Default::default(),
            lk_out_tag: Default::default(),
            h_cmd_valid: Default::default(),
            h_cmd_ready: Default::default(),
            h_cmd_op: Default::default(),
            h_cmd_key: Default::default(),
            h_cmd_value: Default::default(),
            h_rsp_valid: Default::default(),
            h_rsp_ready: Default::default(),
            h_rsp_status: Default::default(),
            h_rsp_value: Default::default(),
            h_rsp_loc: Default::default(),
            h_rsp_kicks: Default::default(),
            o_cmd_valid: Default::default(),
            o_cmd_ready: Default::default(),
            o_cmd_op: Default::default(),
            o_cmd_key: Default::default(),
            o_cmd_value: Default::default(),
            o_rsp_valid: Default::default(),
            o_rsp_ready: Default::default(),
            o_rsp_status: Default::default(),
            o_rsp_value: Default::default(),
            o_rsp_loc: Default::default(),
            o_rsp_kicks: Default::default(),
            clearing: Default::default(),
            busy: Default::default(),
            entries: Default::default(),
            stash_used: Default::default(),
            kram: Default::default(),
            vram: Default::default(),
            engine: Default::default(),
            lookup: Default::default(),
        }
    }
}

impl<const B: usize, const V: usize> Logic for ConnTable<B, V> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, engine, lookup);
        for i in 0..8 {
            self.kram[i].clock.next = self.clock.val();
            self.vram[i].clock.next = self.clock.val();
        }
        // The engine: command ports, key, port B.
        self.engine.rst.next = self.rst.val();
        self.engine.hash_k0.next = self.hash_k0.val();
        self.engine.hash_k1.next = self.hash_k1.val();
        self.engine.h_cmd_valid.next = self.h_cmd_valid.val();
        self.engine.h_cmd_op.next = self.h_cmd_op.val();
        self.engine.h_cmd_key.next = self.h_cmd_key.val();
        self.engine.h_cmd_value.next = self.h_cmd_value.val();
        self.engine.h_rsp_ready.next = self.h_rsp_ready.val();
        self.engine.o_cmd_valid.next = self.o_cmd_valid.val();
        self.engine.o_cmd_op.next = self.o_cmd_op.val();
        self.engine.o_cmd_key.next = self.o_cmd_key.val();
        self.engine.o_cmd_value.next = self.o_cmd_value.val();
        self.engine.o_rsp_ready.next = self.o_rsp_ready.val();
        self.h_cmd_ready.next = self.engine.h_cmd_ready.val();
        self.h_rsp_valid.next = self.engine.h_rsp_valid.val();
        self.h_rsp_status.next = self.engine.rsp_status.val();
        self.h_rsp_value.next = self.engine.rsp_value.val();
        self.h_rsp_loc.next = self.engine.rsp_loc.val();
        self.h_rsp_kicks.next = self.engine.rsp_kicks.val();
        self.o_cmd_ready.next = self.engine.o_cmd_ready.val();
        self.o_rsp_valid.next = self.engine.o_rsp_valid.val();
        self.o_rsp_status.next = self.engine.rsp_status.val();
        self.o_rsp_value.next = self.engine.rsp_value.val();
        self.o_rsp_loc.next = self.engine.rsp_loc.val();
        self.o_rsp_kicks.next = self.engine.rsp_kicks.val();
        self.clearing.next = self.engine.clearing.val();
        self.busy.next = self.engine.busy.val();
        self.entries.next = self.engine.entries.val();
        self.stash_used.next = self.engine.stash_used.val();
        for i in 0..4 {
            self.kram[i].b_addr.next = self.engine.t0_addr.val();
            self.vram[i].b_addr.next = self.engine.t0_addr.val();
            self.kram[4 + i].b_addr.next = self.engine.t1_addr.val();
            self.vram[4 + i].b_addr.next = self.engine.t1_addr.val();
            self.kram[i].a_addr.next = self.lookup.t0_addr.val();
            self.vram[i].a_addr.next = self.lookup.t0_addr.val();
            self.kram[4 + i].a_addr.next = self.lookup.t1_addr.val();
            self.vram[4 + i].a_addr.next = self.lookup.t1_addr.val();
        }
        for i in 0..8 {
            self.kram[i].b_we.next = self.engine.we_key.val().get_bit(i);
            self.kram[i].b_wdata.next = self.engine.wkey.val();
            self.vram[i].b_we.next = self.engine.we_value.val().get_bit(i);
            self.vram[i].b_wdata.next = self.engine.wvalue.val();
            self.engine.rkey[i].next = self.kram[i].b_data.val();
            self.engine.rvalue[i].next = self.vram[i].b_data.val();
            self.lookup.rkey[i].next = self.kram[i].a_data.val();
            self.lookup.rvalue[i].next = self.vram[i].a_data.val();
        }
        // The lookups.
        self.lookup.rst.next = self.rst.val();
        self.lookup.hash_k0.next = self.hash_k0.val();
        self.lookup.hash_k1.next = self.hash_k1.val();
        self.lookup.lk_valid.next = self.lk_valid.val();
        self.lookup.lk_key.next = self.lk_key.val();
        self.lookup.lk_tag.next = self.lk_tag.val();
        self.lookup.stash_valid.next = self.engine.stash_valid.val();
        for j in 0..CONN_STASH {
            self.lookup.stash_key[j].next = self.engine.stash_key[j].val();
            self.lookup.stash_value[j].next = self.engine.stash_value[j].val();
        }
        self.lookup.carry_valid.next = self.engine.carry_valid.val();
        self.lookup.carry_key.next = self.engine.carry_key.val();
        self.lookup.carry_value.next = self.engine.carry_value.val();
        self.lookup.clearing.next = self.engine.clearing.val();
        self.lk_out_valid.next = self.lookup.out_valid.val();
        self.lk_out_hit.next = self.lookup.out_hit.val();
        self.lk_out_value.next = self.lookup.out_value.val();
        self.lk_out_tag.next = self.lookup.out_tag.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_table_generates_verilog() {
        let mut uut = ConnTableSmall::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
