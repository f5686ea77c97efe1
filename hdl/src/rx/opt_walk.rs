//! The TCP option walker: the options of one frame per cycle, in a fixed
//! pipeline of [`OPT_WALK_LATENCY`] registered stages, each a few LUT
//! levels deep.
//!
//! ## What it computes
//!
//! The walk of docs/semantics.md (RFC 9293 3.1 kind/length/value, RFC 7323
//! window scale and timestamps, RFC 2018 SACK) over the `olen` option bytes
//! (byte p of the area is bits 8p+7:8p of `in_opts`), exactly as the
//! earlier chain of ten 4-step stages did, so at most 40 steps: from
//! position p = 0, p >= olen ends the walk (done); kind 0 (EOL) ends it
//! (done); kind 1 (NOP) goes to p + 1; any other kind needs its length
//! byte inside the area (p + 1 < olen), a length of at least 2 and
//! p + len <= olen, else the walk ends malformed (done and bad); it goes to
//! p + len.  Options recorded on the way (a later occurrence overrides an
//! earlier one; values found before a malformed option are kept): MSS
//! (kind 2, length 4), window scale (kind 3, length 3: 0x80 | min(shift,
//! 14)), SACK-permitted (kind 4, length 2), SACK (kind 5, lengths 10, 18,
//! 26, 34: 1 to 4 blocks), timestamps (kind 8, length 10).  Forty NOPs
//! filling a 40-byte area take all 40 steps: the walk then stops at
//! p = 40 without examining it, so `done` is 0 (the only way it can be 0
//! for a frame).  Requires olen <= 40 (the parser's 4-bit data offset
//! guarantees it).  Between frames (`out_valid` 0) every result output is
//! 0; `out_pay` rides along unchanged.
//!
//! ## Why this structure
//!
//! A walk is a chain: where the next option starts depends on the length
//! of this one.  Walking it step by step (a barrel shift of the 320-bit
//! area by the position per step, four steps per stage) made every stage
//! 32 to 34 LUT levels deep with long carry chains (the position adds and
//! compares) and cost about 7,000 LUTs per stage.  Here the chain is cut
//! into pieces that need neither shifts nor adders:
//!
//! * Every byte position is decoded at once, as if an option started
//!   there: its next position as a one-hot row over positions 0..=40
//!   (p + 1 for a NOP, p + len for a well-formed option, none when the walk
//!   would end there).  Length and area checks become a decoder of the
//!   length and a thermometer mask of `olen` (`q <= olen`): no adders, no
//!   comparators, no carry chains.
//! * Positions are grouped in blocks of four.  For each position i the
//!   closure inside its block is precomputed, `reach[i]`: i itself, the
//!   positions of its block the walk visits from i, and the first position
//!   after the block it lands on (or nothing when it ends in the block).
//!   `reach[i]` is at most ten inputs per bit over the rows (two levels).
//! * The walk itself is then a set of visited positions, `cur`, carried
//!   from block to block: for block b, `cur |= reach[i]` for the (at most
//!   one) position i of block b already in `cur`.  Per block an AND-OR of
//!   nine inputs per bit (two LUT levels); two blocks per stage.  Bits are
//!   never cleared, so after block 9 `cur` is the set of every position the
//!   walk examined, position 40 included when it got there.
//! * The results are selections from that set: `done` and `bad` are ORs of
//!   the visited positions' flags; for each recorded option the last
//!   visited position where it is well formed is picked (a one-hot
//!   priority select), and its value is taken from the option bytes with an
//!   AND-OR multiplexer.
//!
//! The option bytes are no longer shifted at all; they only ride along to
//! the last stage.  The per-position tables are wide (41 x 40 bits of rows,
//! then of reach sets) but shallow, and each chain stage needs only the
//! reach sets of the blocks still ahead of it.
//!
//! ## Pipeline (T: the cycle `in_valid` is high)
//!
//! | stage | logic | registered |
//! |---|---|---|
//! | T | per position: kind classes, length decoder, next-position row, a well-formed MSS/WS/SACK-permitted/SACK/timestamps option here; `olen` thermometer | `s1_row[p]`, option flags, `p < olen` |
//! | T+1 | reach sets per block; per position: the walk ends here, ends malformed here | `s2_reach[i]`, end flags |
//! | T+2 .. T+6 | the walk, blocks 0-1, 2-3, 4-5, 6-7, 8-9 (five `OptWalkStage`s, `rx::opt_walk_stage`) | visited set, reach sets still ahead |
//! | T+7 | done, bad; visited positions with a well-formed option, per kind; SACK-permitted, timestamps and window scale seen | per-kind masks |
//! | T+8 | last visited position per kind (one-hot, from a suffix OR) | selects |
//! | T+9 | values from the option bytes (AND-OR), window scale clamp, byte order | outputs |
//!
//! The results appear [`OPT_WALK_LATENCY`] cycles after the inputs, as
//! with the earlier walker (the late setup tap at P + 12 in `rx::path` and
//! `rx::event::LATE_TAP` count on it); throughput is one frame per cycle.
//! A stage computes only when it holds a frame, which saves simulation
//! time: its computed registers are 0 otherwise (an AND in synthesis, not
//! a hold multiplexer per bit); the record and the option bytes move every
//! cycle.  The reach sets carried through the walk stages drop the
//! positions already behind them (always 0).
//!
//! Measured with `cargo xtask depth --module 'top$rx$walk'` (docs/timing.md):
//! at most 4 LUT levels and no carry chain per stage (3 in each walk stage).
//! The walk stages are one block (`OptWalkStage`) placed five times.
//!
//! For simulation speed every per-position vector is at most 64 bits wide
//! (one machine word in Verilator): positions are moved with slices of
//! 64-bit copies and constant one-hot tables, never by shifting wider
//! vectors; wider groups are only packed into registers.
//!
//! Kernel note: `x.replace_bit(i, v)` renders as `... | (v << i)` in the
//! width of `x`, and a `!` in `v` (also `!y.any()`, rendered `~|y`) is
//! then taken at that width in Verilator, setting every bit above `i`;
//! the flags below use `== 0` instead.
use super::opt_walk_stage::OptWalkStage;
use rust_hdl::prelude::*;

/// Cycles from a frame's inputs to its results.
pub const OPT_WALK_LATENCY: usize = 10;
/// Bytes of the option area (positions 0..40; position 40 is its end).
pub const OPT_BYTES: usize = 40;

#[derive(LogicBlock)]
pub struct OptWalk {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    /// Opaque record carried along (completion + reason + queue).
    pub in_pay: Signal<In, Bits<262>>,
    pub in_opts: Signal<In, Bits<320>>,
    /// Option bytes (0..=40).
    pub in_olen: Signal<In, Bits<9>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_pay: Signal<Out, Bits<262>>,
    /// The walk ended within 40 steps (EOL, the area's end or a malformed
    /// option).
    pub out_done: Signal<Out, Bit>,
    /// The walk ended at a malformed option.
    pub out_bad: Signal<Out, Bit>,
    pub out_mss: Signal<Out, Bits<16>>,
    /// 0x80 | min(shift, 14) when present, else 0.
    pub out_ws: Signal<Out, Bits<8>>,
    pub out_sackp: Signal<Out, Bit>,
    /// SACK blocks of the last SACK option (0 to 4).
    pub out_sackb: Signal<Out, Bits<3>>,
    pub out_ts: Signal<Out, Bit>,
    pub out_tsval: Signal<Out, Bits<32>>,
    pub out_tsecr: Signal<Out, Bits<32>>,
    // ------------------------------------------------ stage 1: decode
    s1_valid: DFF<Bit>,
    s1_pay: DFF<Bits<262>>,
    s1_opts: DFF<Bits<320>>,
    /// Next position after p (one-hot over 0..=40), none when the walk
    /// ends at p.
    s1_row: [DFF<Bits<41>>; 40],
    /// Bit p: p < olen.
    s1_in_area: DFF<Bits<41>>,
    /// Bit p: the kind at p is neither EOL nor NOP.
    s1_k_opt: DFF<Bits<40>>,
    /// Not all 40 bytes are NOPs.
    s1_some_opt: DFF<Bit>,
    /// Bit p of each 40-bit field: a well-formed MSS (0), window scale
    /// (40), SACK-permitted (80), SACK (120), timestamps (160) option at p.
    s1_ok: DFF<Bits<200>>,
    // ------------------------------------------------ stage 2: reach sets
    s2_valid: DFF<Bit>,
    s2_pay: DFF<Bits<262>>,
    s2_opts: DFF<Bits<320>>,
    /// Reach set of i: i, the positions of i's block the walk visits from
    /// i, and the first position after the block it lands on.
    s2_reach: [DFF<Bits<41>>; 40],
    /// Per position: the walk ends here (0..=40), ends malformed here
    /// (41..=80).
    s2_end: DFF<Bits<82>>,
    s2_ok: DFF<Bits<200>>,
    // ------------------------------------------------ stages 3-7: the walk
    /// Blocks 0-1, 2-3, 4-5, 6-7, 8-9 (`OptWalkStage`: positions from P
    /// on, the reach sets of those still ahead).
    c1: OptWalkStage<0, 40, 41, 32, 33>,
    c2: OptWalkStage<8, 32, 33, 24, 25>,
    c3: OptWalkStage<16, 24, 25, 16, 17>,
    c4: OptWalkStage<24, 16, 17, 8, 9>,
    c5: OptWalkStage<32, 8, 9, 0, 1>,
    // ------------------------------------------------ stages 8-10: results
    f1_valid: DFF<Bit>,
    f1_pay: DFF<Bits<262>>,
    f1_opts: DFF<Bits<320>>,
    /// Visited positions with a well-formed MSS (0), window scale (40),
    /// SACK (80), timestamps (120) option.
    f1_found: DFF<Bits<160>>,
    /// done, bad, SACK-permitted, timestamps, window scale (bits 0..4).
    f1_seen: DFF<Bits<5>>,
    f2_valid: DFF<Bit>,
    f2_pay: DFF<Bits<262>>,
    f2_opts: DFF<Bits<320>>,
    /// The last of each `f1_found` field (one-hot or 0).
    f2_pick: DFF<Bits<160>>,
    f2_seen: DFF<Bits<5>>,
    r_valid: DFF<Bit>,
    r_pay: DFF<Bits<262>>,
    r_done: DFF<Bit>,
    r_bad: DFF<Bit>,
    r_mss: DFF<Bits<16>>,
    r_ws: DFF<Bits<8>>,
    r_sackp: DFF<Bit>,
    r_sackb: DFF<Bits<3>>,
    r_ts: DFF<Bit>,
    r_tsval: DFF<Bits<32>>,
    r_tsecr: DFF<Bits<32>>,
    // ------------------------------------------------ constants
    /// Ones at 0..=40.
    c_ones: Constant<Bits<41>>,
    /// 40 NOPs.
    c_nops: Constant<Bits<40>>,
    /// One at 0.
    c_one: Constant<Bits<41>>,
    /// Lengths of 2 or more (bits 2..=40).
    c_len_ok: Constant<Bits<41>>,
    /// Position i alone.
    c_unit: [Constant<Bits<41>>; 41],
    // ------------------------------------------------ scratch
    opt_bytes: Signal<Local, Bits<336>>,
    in_area: Signal<Local, Bits<41>>,
    upto_olen: Signal<Local, Bits<41>>,
    /// `upto_olen` with room for p + 34 (bits past 40 are 0).
    upto_pad: Signal<Local, Bits<80>>,
    kind: Signal<Local, Bits<8>>,
    len: Signal<Local, Bits<8>>,
    /// Next position relative to p (bit d: p + d), per p.
    rel: [Signal<Local, Bits<41>>; 40],
    rel_p: Signal<Local, Bits<41>>,
    /// `rel_p` placed so that a 41-bit slice moves it up by p.
    rel_pad: Signal<Local, Bits<64>>,
    k_opt: Signal<Local, Bits<40>>,
    nops: Signal<Local, Bits<40>>,
    ok_mss: Signal<Local, Bits<40>>,
    ok_ws: Signal<Local, Bits<40>>,
    ok_sackp: Signal<Local, Bits<40>>,
    ok_sack: Signal<Local, Bits<40>>,
    ok_ts: Signal<Local, Bits<40>>,
    reach0: Signal<Local, Bits<41>>,
    reach1: Signal<Local, Bits<41>>,
    reach2: Signal<Local, Bits<41>>,
    reach3: Signal<Local, Bits<41>>,
    ends: Signal<Local, Bits<41>>,
    bads: Signal<Local, Bits<41>>,
    seen_at: Signal<Local, Bits<40>>,
    found_mss: Signal<Local, Bits<40>>,
    found_ws: Signal<Local, Bits<40>>,
    found_sack: Signal<Local, Bits<40>>,
    found_ts: Signal<Local, Bits<40>>,
    /// Suffix OR: bit p set when a bit at p or above is.
    suffix: Signal<Local, Bits<40>>,
    pick_mss: Signal<Local, Bits<40>>,
    pick_ws: Signal<Local, Bits<40>>,
    pick_sack: Signal<Local, Bits<40>>,
    pick_ts: Signal<Local, Bits<40>>,
    mss_raw: Signal<Local, Bits<16>>,
    ws_raw: Signal<Local, Bits<8>>,
    sack_len: Signal<Local, Bits<8>>,
    ts_raw: Signal<Local, Bits<64>>,
}

impl Default for OptWalk {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_pay: Default::default(),
            in_opts: Default::default(),
            in_olen: Default::default(),
            out_valid: Default::default(),
            out_pay: Default::default(),
            out_done: Default::default(),
            out_bad: Default::default(),
            out_mss: Default::default(),
            out_ws: Default::default(),
            out_sackp: Default::default(),
            out_sackb: Default::default(),
            out_ts: Default::default(),
            out_tsval: Default::default(),
            out_tsecr: Default::default(),
            s1_valid: Default::default(),
            s1_pay: Default::default(),
            s1_opts: Default::default(),
            s1_row: array_init::array_init(|_| Default::default()),
            s1_in_area: Default::default(),
            s1_k_opt: Default::default(),
            s1_some_opt: Default::default(),
            s1_ok: Default::default(),
            s2_valid: Default::default(),
            s2_pay: Default::default(),
            s2_opts: Default::default(),
            s2_reach: array_init::array_init(|_| Default::default()),
            s2_end: Default::default(),
            s2_ok: Default::default(),
            c1: Default::default(),
            c2: Default::default(),
            c3: Default::default(),
            c4: Default::default(),
            c5: Default::default(),
            f1_valid: Default::default(),
            f1_pay: Default::default(),
            f1_opts: Default::default(),
            f1_found: Default::default(),
            f1_seen: Default::default(),
            f2_valid: Default::default(),
            f2_pay: Default::default(),
            f2_opts: Default::default(),
            f2_pick: Default::default(),
            f2_seen: Default::default(),
            r_valid: Default::default(),
            r_pay: Default::default(),
            r_done: Default::default(),
            r_bad: Default::default(),
            r_mss: Default::default(),
            r_ws: Default::default(),
            r_sackp: Default::default(),
            r_sackb: Default::default(),
            r_ts: Default::default(),
            r_tsval: Default::default(),
            r_tsecr: Default::default(),
            c_ones: Constant::new(Bits::<41>::from((1u64 << 41) - 1)),
            c_nops: Constant::new(Bits::<40>::from((1u64 << 40) - 1)),
            c_one: Constant::new(Bits::<41>::from(1u64)),
            c_len_ok: Constant::new(Bits::<41>::from(((1u64 << 41) - 1) & !3u64)),
            c_unit: array_init::array_init(|i| Constant::new(Bits::<41>::from(1u64 << i))),
            opt_bytes: Default::default(),
            in_area: Default::default(),
            upto_olen: Default::default(),
            upto_pad: Default::default(),
            kind: Default::default(),
            len: Default::default(),
            rel: array_init::array_init(|_| Default::default()),
            rel_p: Default::default(),
            rel_pad: Default::default(),
            k_opt: Default::default(),
            nops: Default::default(),
            ok_mss: Default::default(),
            ok_ws: Default::default(),
            ok_sackp: Default::default(),
            ok_sack: Default::default(),
            ok_ts: Default::default(),
            reach0: Default::default(),
            reach1: Default::default(),
            reach2: Default::default(),
            reach3: Default::default(),
            ends: Default::default(),
            bads: Default::default(),
            seen_at: Default::default(),
            found_mss: Default::default(),
            found_ws: Default::default(),
            found_sack: Default::default(),
            found_ts: Default::default(),
            suffix: Default::default(),
            pick_mss: Default::default(),
            pick_ws: Default::default(),
            pick_sack: Default::default(),
            pick_ts: Default::default(),
            mss_raw: Default::default(),
            ws_raw: Default::default(),
            sack_len: Default::default(),
            ts_raw: Default::default(),
        }
    }
}

impl Logic for OptWalk {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            s1_valid,
            s1_pay,
            s1_opts,
            s1_in_area,
            s1_k_opt,
            s1_some_opt,
            s1_ok,
            s2_valid,
            s2_pay,
            s2_opts,
            s2_end,
            s2_ok,
            f1_valid,
            f1_pay,
            f1_opts,
            f1_found,
            f1_seen,
            f2_valid,
            f2_pay,
            f2_opts,
            f2_pick,
            f2_seen,
            r_valid,
            r_pay,
            r_done,
            r_bad,
            r_mss,
            r_ws,
            r_sackp,
            r_sackb,
            r_ts,
            r_tsval,
            r_tsecr
        );
        for i in 0..40 {
            self.s1_row[i].clock.next = self.clock.val();
            self.s1_row[i].d.next = 0.into();
            self.s2_reach[i].clock.next = self.clock.val();
            self.s2_reach[i].d.next = 0.into();
            self.rel[i].next = 0.into();
        }
        // Scratch defaults (every local is assigned on every path).
        self.opt_bytes.next = 0.into();
        self.in_area.next = 0.into();
        self.upto_olen.next = 0.into();
        self.upto_pad.next = 0.into();
        self.kind.next = 0.into();
        self.len.next = 0.into();
        self.rel_p.next = 0.into();
        self.rel_pad.next = 0.into();
        self.k_opt.next = 0.into();
        self.nops.next = 0.into();
        self.ok_mss.next = 0.into();
        self.ok_ws.next = 0.into();
        self.ok_sackp.next = 0.into();
        self.ok_sack.next = 0.into();
        self.ok_ts.next = 0.into();
        self.reach0.next = 0.into();
        self.reach1.next = 0.into();
        self.reach2.next = 0.into();
        self.reach3.next = 0.into();
        self.ends.next = 0.into();
        self.bads.next = 0.into();
        self.seen_at.next = 0.into();
        self.found_mss.next = 0.into();
        self.found_ws.next = 0.into();
        self.found_sack.next = 0.into();
        self.found_ts.next = 0.into();
        self.suffix.next = 0.into();
        self.pick_mss.next = 0.into();
        self.pick_ws.next = 0.into();
        self.pick_sack.next = 0.into();
        self.pick_ts.next = 0.into();
        self.mss_raw.next = 0.into();
        self.ws_raw.next = 0.into();
        self.sack_len.next = 0.into();
        self.ts_raw.next = 0.into();

        // ---------------------------------------------- stage 1 (T): decode
        // Every position as if an option started there.  Bytes 40 and 41
        // (past the area) read as 0.
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_pay.d.next = self.in_pay.val();
        self.s1_opts.d.next = self.in_opts.val();
        self.s1_in_area.d.next = 0.into();
        self.s1_k_opt.d.next = 0.into();
        self.s1_some_opt.d.next = false;
        self.s1_ok.d.next = 0.into();
        if self.in_valid.val() {
            self.opt_bytes.next = bit_cast::<336, 320>(self.in_opts.val());
            // Thermometers of olen: p < olen, and q <= olen (a next
            // position q is allowed up to the area's end).
            self.in_area.next = !(self.c_ones.val() << self.in_olen.val());
            self.upto_olen.next = (self.in_area.val() << 1) | self.c_one.val();
            self.upto_pad.next = bit_cast::<80, 41>(self.upto_olen.val());
            for p in 0..40 {
                self.kind.next = self.opt_bytes.val().get_bits::<8>(8 * p);
                self.len.next = self.opt_bytes.val().get_bits::<8>(8 * p + 8);
                // Relative next position: len (>= 2, decoded one-hot) for
                // an option, 1 for a NOP, none for EOL.
                self.rel[p].next = (self.c_one.val() << self.len.val()) & self.c_len_ok.val();
                if self.kind.val() == 1 {
                    self.rel[p].next = 2.into();
                }
                if self.kind.val() == 0 {
                    self.rel[p].next = 0.into();
                }
                self.k_opt.next = self
                    .k_opt
                    .val()
                    .replace_bit(p, (self.kind.val() != 0) && (self.kind.val() != 1));
                self.nops.next = self.nops.val().replace_bit(p, self.kind.val() == 1);
                // The options recorded, well formed at p (their end inside
                // the area).
                self.ok_mss.next = self.ok_mss.val().replace_bit(
                    p,
                    (self.kind.val() == 2)
                        && (self.len.val() == 4)
                        && self.upto_pad.val().get_bit(p + 4),
                );
                self.ok_ws.next = self.ok_ws.val().replace_bit(
                    p,
                    (self.kind.val() == 3)
                        && (self.len.val() == 3)
                        && self.upto_pad.val().get_bit(p + 3),
                );
                self.ok_sackp.next = self.ok_sackp.val().replace_bit(
                    p,
                    (self.kind.val() == 4)
                        && (self.len.val() == 2)
                        && self.upto_pad.val().get_bit(p + 2),
                );
                self.ok_sack.next = self.ok_sack.val().replace_bit(
                    p,
                    (self.kind.val() == 5)
                        && (((self.len.val() == 10) && self.upto_pad.val().get_bit(p + 10))
                            || ((self.len.val() == 18) && self.upto_pad.val().get_bit(p + 18))
                            || ((self.len.val() == 26) && self.upto_pad.val().get_bit(p + 26))
                            || ((self.len.val() == 34) && self.upto_pad.val().get_bit(p + 34))),
                );
                self.ok_ts.next = self.ok_ts.val().replace_bit(
                    p,
                    (self.kind.val() == 8)
                        && (self.len.val() == 10)
                        && self.upto_pad.val().get_bit(p + 10),
                );
            }
            // Rows: the relative next position moved up by p (a slice of a
            // 64-bit copy), limited to the area.
            for p in 0..24 {
                self.rel_p.next = self.rel[p].val();
                self.rel_pad.next = bit_cast::<64, 41>(self.rel_p.val()) << 23;
                self.s1_row[p].d.next =
                    self.rel_pad.val().get_bits::<41>(23 - p) & self.upto_olen.val();
            }
            for p in 24..40 {
                // Relative positions up to 16 are enough here.
                self.rel_p.next = self.rel[p].val();
                self.rel_pad.next = bit_cast::<64, 41>(self.rel_p.val()) << 40;
                self.s1_row[p].d.next =
                    self.rel_pad.val().get_bits::<41>(40 - p) & self.upto_olen.val();
            }
            self.s1_in_area.d.next = self.in_area.val();
            self.s1_k_opt.d.next = self.k_opt.val();
            self.s1_some_opt.d.next = self.nops.val() != self.c_nops.val();
            self.s1_ok.d.next = bit_cast::<200, 40>(self.ok_mss.val())
                | (bit_cast::<200, 40>(self.ok_ws.val()) << 40)
                | (bit_cast::<200, 40>(self.ok_sackp.val()) << 80)
                | (bit_cast::<200, 40>(self.ok_sack.val()) << 120)
                | (bit_cast::<200, 40>(self.ok_ts.val()) << 160);
        }

        // ---------------------------------------------- stage 2 (T+1)
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_pay.d.next = self.s1_pay.q.val();
        self.s2_opts.d.next = self.s1_opts.q.val();
        self.s2_ok.d.next = self.s1_ok.q.val();
        self.s2_end.d.next = 0.into();
        if self.s1_valid.q.val() {
            // Reach sets per block of four (rows are one-hot: at most one
            // of the conditions holds).
            for b in 0..10 {
                self.reach3.next = self.c_unit[4 * b + 3].val() | self.s1_row[4 * b + 3].q.val();
                self.reach2.next = self.c_unit[4 * b + 2].val() | self.s1_row[4 * b + 2].q.val();
                if self.s1_row[4 * b + 2].q.val().get_bit(4 * b + 3) {
                    self.reach2.next = self.reach2.val() | self.reach3.val();
                }
                self.reach1.next = self.c_unit[4 * b + 1].val() | self.s1_row[4 * b + 1].q.val();
                if self.s1_row[4 * b + 1].q.val().get_bit(4 * b + 2) {
                    self.reach1.next = self.reach1.val() | self.reach2.val();
                }
                if self.s1_row[4 * b + 1].q.val().get_bit(4 * b + 3) {
                    self.reach1.next = self.reach1.val() | self.reach3.val();
                }
                self.reach0.next = self.c_unit[4 * b].val() | self.s1_row[4 * b].q.val();
                if self.s1_row[4 * b].q.val().get_bit(4 * b + 1) {
                    self.reach0.next = self.reach0.val() | self.reach1.val();
                }
                if self.s1_row[4 * b].q.val().get_bit(4 * b + 2) {
                    self.reach0.next = self.reach0.val() | self.reach2.val();
                }
                if self.s1_row[4 * b].q.val().get_bit(4 * b + 3) {
                    self.reach0.next = self.reach0.val() | self.reach3.val();
                }
                self.s2_reach[4 * b].d.next = self.reach0.val();
                self.s2_reach[4 * b + 1].d.next = self.reach1.val();
                self.s2_reach[4 * b + 2].d.next = self.reach2.val();
                self.s2_reach[4 * b + 3].d.next = self.reach3.val();
            }
            // Where the walk ends: no next position (EOL, the area's end, a
            // malformed option); malformed: an option kind inside the area.
            for p in 0..40 {
                self.ends.next = self.ends.val().replace_bit(p, self.s1_row[p].q.val() == 0);
                self.bads.next = self.bads.val().replace_bit(
                    p,
                    self.s1_in_area.q.val().get_bit(p)
                        && self.s1_k_opt.q.val().get_bit(p)
                        && (self.s1_row[p].q.val() == 0),
                );
            }
            // Position 40 ends the walk unless it took 40 NOPs to get there.
            self.ends.next = self.ends.val().replace_bit(40, self.s1_some_opt.q.val());
            self.s2_end.d.next =
                bit_cast::<82, 41>(self.ends.val()) | (bit_cast::<82, 41>(self.bads.val()) << 41);
        }

        // ---------------------------------------------- stages 3-7: the walk
        // Per block: the position of the block already visited (at most
        // one: where the walk enters it) adds its reach set.  The walk
        // starts at position 0.
        self.c1.clock.next = self.clock.val();
        self.c1.rst.next = self.rst.val();
        self.c1.in_valid.next = self.s2_valid.q.val();
        self.c1.in_pay.next = self.s2_pay.q.val();
        self.c1.in_opts.next = self.s2_opts.q.val();
        self.c1.in_end.next = self.s2_end.q.val();
        self.c1.in_ok.next = self.s2_ok.q.val();
        self.c1.in_visited.next = self.c_one.val();
        for i in 0..40 {
            self.c1.in_reach[i].next = self.s2_reach[i].q.val();
        }
        self.c2.clock.next = self.clock.val();
        self.c2.rst.next = self.rst.val();
        self.c2.in_valid.next = self.c1.out_valid.val();
        self.c2.in_pay.next = self.c1.out_pay.val();
        self.c2.in_opts.next = self.c1.out_opts.val();
        self.c2.in_end.next = self.c1.out_end.val();
        self.c2.in_ok.next = self.c1.out_ok.val();
        self.c2.in_visited.next = self.c1.out_visited.val();
        for i in 0..32 {
            self.c2.in_reach[i].next = self.c1.out_reach[i].val();
        }
        self.c3.clock.next = self.clock.val();
        self.c3.rst.next = self.rst.val();
        self.c3.in_valid.next = self.c2.out_valid.val();
        self.c3.in_pay.next = self.c2.out_pay.val();
        self.c3.in_opts.next = self.c2.out_opts.val();
        self.c3.in_end.next = self.c2.out_end.val();
        self.c3.in_ok.next = self.c2.out_ok.val();
        self.c3.in_visited.next = self.c2.out_visited.val();
        for i in 0..24 {
            self.c3.in_reach[i].next = self.c2.out_reach[i].val();
        }
        self.c4.clock.next = self.clock.val();
        self.c4.rst.next = self.rst.val();
        self.c4.in_valid.next = self.c3.out_valid.val();
        self.c4.in_pay.next = self.c3.out_pay.val();
        self.c4.in_opts.next = self.c3.out_opts.val();
        self.c4.in_end.next = self.c3.out_end.val();
        self.c4.in_ok.next = self.c3.out_ok.val();
        self.c4.in_visited.next = self.c3.out_visited.val();
        for i in 0..16 {
            self.c4.in_reach[i].next = self.c3.out_reach[i].val();
        }
        self.c5.clock.next = self.clock.val();
        self.c5.rst.next = self.rst.val();
        self.c5.in_valid.next = self.c4.out_valid.val();
        self.c5.in_pay.next = self.c4.out_pay.val();
        self.c5.in_opts.next = self.c4.out_opts.val();
        self.c5.in_end.next = self.c4.out_end.val();
        self.c5.in_ok.next = self.c4.out_ok.val();
        self.c5.in_visited.next = self.c4.out_visited.val();
        for i in 0..8 {
            self.c5.in_reach[i].next = self.c4.out_reach[i].val();
        }

        // ---------------------------------------------- stage 8 (T+7)
        self.f1_valid.d.next = self.c5.out_valid.val();
        self.f1_pay.d.next = self.c5.out_pay.val();
        self.f1_opts.d.next = self.c5.out_opts.val();
        self.f1_found.d.next = 0.into();
        self.f1_seen.d.next = 0.into();
        if self.c5.out_valid.val() {
            self.seen_at.next = bit_cast::<40, 41>(self.c5.out_visited.val());
            self.f1_found.d.next =
                bit_cast::<160, 40>(self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(0))
                    | (bit_cast::<160, 40>(
                        self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(40),
                    ) << 40)
                    | (bit_cast::<160, 40>(
                        self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(120),
                    ) << 80)
                    | (bit_cast::<160, 40>(
                        self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(160),
                    ) << 120);
            self.f1_seen.d.next = bit_cast::<5, 1>(
                (self.c5.out_visited.val() & self.c5.out_end.val().get_bits::<41>(0))
                    .any()
                    .into(),
            ) | (bit_cast::<5, 1>(
                (self.c5.out_visited.val() & self.c5.out_end.val().get_bits::<41>(41))
                    .any()
                    .into(),
            ) << 1)
                | (bit_cast::<5, 1>(
                    (self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(80))
                        .any()
                        .into(),
                ) << 2)
                | (bit_cast::<5, 1>(
                    (self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(160))
                        .any()
                        .into(),
                ) << 3)
                | (bit_cast::<5, 1>(
                    (self.seen_at.val() & self.c5.out_ok.val().get_bits::<40>(40))
                        .any()
                        .into(),
                ) << 4);
        }

        // ---------------------------------------------- stage 9 (T+8)
        // The last visited position of each kind: found, and none found
        // above it (a suffix OR moved down by one).
        self.f2_valid.d.next = self.f1_valid.q.val();
        self.f2_pay.d.next = self.f1_pay.q.val();
        self.f2_opts.d.next = self.f1_opts.q.val();
        self.f2_seen.d.next = self.f1_seen.q.val();
        self.f2_pick.d.next = 0.into();
        if self.f1_valid.q.val() {
            self.found_mss.next = self.f1_found.q.val().get_bits::<40>(0);
            self.found_ws.next = self.f1_found.q.val().get_bits::<40>(40);
            self.found_sack.next = self.f1_found.q.val().get_bits::<40>(80);
            self.found_ts.next = self.f1_found.q.val().get_bits::<40>(120);
            self.suffix.next = self.found_mss.val();
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 1);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 2);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 4);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 8);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 16);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 32);
            self.pick_mss.next = self.found_mss.val() & !(self.suffix.val() >> 1);
            self.suffix.next = self.found_ws.val();
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 1);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 2);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 4);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 8);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 16);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 32);
            self.pick_ws.next = self.found_ws.val() & !(self.suffix.val() >> 1);
            self.suffix.next = self.found_sack.val();
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 1);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 2);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 4);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 8);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 16);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 32);
            self.pick_sack.next = self.found_sack.val() & !(self.suffix.val() >> 1);
            self.suffix.next = self.found_ts.val();
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 1);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 2);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 4);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 8);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 16);
            self.suffix.next = self.suffix.val() | (self.suffix.val() >> 32);
            self.pick_ts.next = self.found_ts.val() & !(self.suffix.val() >> 1);
            self.f2_pick.d.next = bit_cast::<160, 40>(self.pick_mss.val())
                | (bit_cast::<160, 40>(self.pick_ws.val()) << 40)
                | (bit_cast::<160, 40>(self.pick_sack.val()) << 80)
                | (bit_cast::<160, 40>(self.pick_ts.val()) << 120);
        }

        // ---------------------------------------------- stage 10 (T+9)
        // Values from the option bytes at the picked positions (AND-OR:
        // at most one pick per kind).
        self.r_valid.d.next = self.f2_valid.q.val();
        self.r_done.d.next = false;
        self.r_bad.d.next = false;
        self.r_mss.d.next = 0.into();
        self.r_ws.d.next = 0.into();
        self.r_sackp.d.next = false;
        self.r_sackb.d.next = 0.into();
        self.r_ts.d.next = false;
        self.r_tsval.d.next = 0.into();
        self.r_tsecr.d.next = 0.into();
        self.r_pay.d.next = self.f2_pay.q.val();
        if self.f2_valid.q.val() {
            self.pick_mss.next = self.f2_pick.q.val().get_bits::<40>(0);
            self.pick_ws.next = self.f2_pick.q.val().get_bits::<40>(40);
            self.pick_sack.next = self.f2_pick.q.val().get_bits::<40>(80);
            self.pick_ts.next = self.f2_pick.q.val().get_bits::<40>(120);
            for p in 0..37 {
                if self.pick_mss.val().get_bit(p) {
                    self.mss_raw.next =
                        self.mss_raw.val() | self.f2_opts.q.val().get_bits::<16>(8 * p + 16);
                }
            }
            for p in 0..38 {
                if self.pick_ws.val().get_bit(p) {
                    self.ws_raw.next =
                        self.ws_raw.val() | self.f2_opts.q.val().get_bits::<8>(8 * p + 16);
                }
            }
            for p in 0..31 {
                if self.pick_sack.val().get_bit(p) {
                    self.sack_len.next =
                        self.sack_len.val() | self.f2_opts.q.val().get_bits::<8>(8 * p + 8);
                }
                if self.pick_ts.val().get_bit(p) {
                    self.ts_raw.next =
                        self.ts_raw.val() | self.f2_opts.q.val().get_bits::<64>(8 * p + 16);
                }
            }
            self.r_done.d.next = self.f2_seen.q.val().get_bit(0);
            self.r_bad.d.next = self.f2_seen.q.val().get_bit(1);
            self.r_sackp.d.next = self.f2_seen.q.val().get_bit(2);
            self.r_ts.d.next = self.f2_seen.q.val().get_bit(3);
            // Option bytes are big-endian.
            self.r_mss.d.next = ((self.mss_raw.val() & 0xFF) << 8) | (self.mss_raw.val() >> 8);
            if self.f2_seen.q.val().get_bit(4) {
                self.r_ws.d.next = self.ws_raw.val() | 0x80;
                if ((self.ws_raw.val() & 0xF0) != 0) || ((self.ws_raw.val() & 0x0F) == 0x0F) {
                    self.r_ws.d.next = 0x8E.into();
                }
            }
            // SACK lengths are 8 n + 2: n is bits 5:3.
            self.r_sackb.d.next = bit_cast::<3, 8>((self.sack_len.val() >> 3) & 0x7);
            self.r_tsval.d.next = bit_cast::<32, 64>(
                ((self.ts_raw.val() & 0xFF) << 24)
                    | ((self.ts_raw.val() & 0xFF00) << 8)
                    | ((self.ts_raw.val() >> 8) & 0xFF00)
                    | ((self.ts_raw.val() >> 24) & 0xFF),
            );
            self.r_tsecr.d.next = bit_cast::<32, 64>(
                ((self.ts_raw.val() >> 8) & 0xFF00_0000_u64)
                    | ((self.ts_raw.val() >> 24) & 0x00FF_0000)
                    | ((self.ts_raw.val() >> 40) & 0x0000_FF00)
                    | ((self.ts_raw.val() >> 56) & 0x0000_00FF),
            );
        }
        self.out_valid.next = self.r_valid.q.val();
        self.out_pay.next = self.r_pay.q.val();
        self.out_done.next = self.r_done.q.val();
        self.out_bad.next = self.r_bad.q.val();
        self.out_mss.next = self.r_mss.q.val();
        self.out_ws.next = self.r_ws.q.val();
        self.out_sackp.next = self.r_sackp.q.val();
        self.out_sackb.next = self.r_sackb.q.val();
        self.out_ts.next = self.r_ts.q.val();
        self.out_tsval.next = self.r_tsval.q.val();
        self.out_tsecr.next = self.r_tsecr.q.val();
        if self.rst.val() {
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.f1_valid.d.next = false;
            self.f2_valid.d.next = false;
            self.r_valid.d.next = false;
            self.r_done.d.next = false;
            self.r_bad.d.next = false;
            self.r_mss.d.next = 0.into();
            self.r_ws.d.next = 0.into();
            self.r_sackp.d.next = false;
            self.r_sackb.d.next = 0.into();
            self.r_ts.d.next = false;
            self.r_tsval.d.next = 0.into();
            self.r_tsecr.d.next = 0.into();
        }
    }
}
