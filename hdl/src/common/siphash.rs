//! SipHash-2-4 of a fixed 24-byte message, fully pipelined: one message per
//! cycle, no backpressure, a result [`SIPHASH_LATENCY`] cycles later.
//!
//! The algorithm is that of J.-P. Aumasson and D. J. Bernstein, "SipHash: a
//! fast short-input PRF", INDOCRYPT 2012 (IACR ePrint 2012/351,
//! <https://131002.net/siphash/siphash.pdf>), with 2 compression and 4
//! finalization rounds.  For a message of exactly
//! three 64-bit little-endian words `m0`, `m1`, `m2` (the SYN cookie's
//! message, `toe_contract::setup::message`) and the key halves `k0`, `k1`
//! (as `siphasher::sip::SipHasher24::new_with_keys(k0, k1)` takes them):
//!
//! ```text
//! v0 = k0 ^ "somepseu"   v1 = k1 ^ "dorandom"   v2 = k0 ^ "lygenera"   v3 = k1 ^ "tedbytes"
//! for m in [m0, m1, m2, b]:  v3 ^= m; SipRound; SipRound; v0 ^= m      (b = 24 << 56: the length)
//! v2 ^= 0xff; 4 x SipRound; hash = v0 ^ v1 ^ v2 ^ v3
//! ```
//!
//! One SipRound per pipeline stage (its critical path is add, xor, add,
//! xor on 64 bits: the budget of a 250 MHz stage); the message and constant
//! XORs ride on the edges of the stages around them:
//!
//! | stage | before the round        | round | after the round             |
//! |-------|-------------------------|-------|-----------------------------|
//! | 1     | init from key, v3 ^= m0 | 1     |                             |
//! | 2     |                         | 2     | v0 ^= m0, v3 ^= m1          |
//! | 3     |                         | 3     |                             |
//! | 4     |                         | 4     | v0 ^= m1, v3 ^= m2          |
//! | 5     |                         | 5     |                             |
//! | 6     |                         | 6     | v0 ^= m2, v3 ^= b           |
//! | 7     |                         | 7     |                             |
//! | 8     |                         | 8     | v0 ^= b, v2 ^= 0xff         |
//! | 9-11  |                         | 9-11  |                             |
//! | 12    |                         | 12    | hash = v0 ^ v1 ^ v2 ^ v3    |
//!
//! Each stage ends in registers, so inputs presented in cycle `t` (sampled
//! by the rising edge that ends it) appear on `out_valid`, `hash` and
//! `out_tag` in cycle `t + SIPHASH_LATENCY`.  `in_tag` is opaque sideband
//! data that travels with the message.  `rst` (synchronous) clears every
//! register, so `out_valid` is low from the cycle after the reset edge until
//! new messages come through.
use rust_hdl::prelude::*;

/// Cycles from a message on the inputs to its hash on the outputs.
pub const SIPHASH_LATENCY: usize = 12;

/// Width of the sideband tag.
pub const SIPHASH_TAG_BITS: usize = 32;

/// Number of SipRounds (2 per message word and the length block, then 4).
const ROUNDS: usize = 12;

/// One SipRound, combinational:
///
/// ```text
/// v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32;   v2 += v3; v3 <<<= 16; v3 ^= v2;
/// v0 += v3; v3 <<<= 21; v3 ^= v0;               v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32;
/// ```
#[derive(LogicBlock, Default)]
pub struct SipRound {
    /// Computes only when set (the outputs read 0 otherwise): a stage with
    /// no message costs no simulation time.
    pub en: Signal<In, Bit>,
    pub v0: Signal<In, Bits<64>>,
    pub v1: Signal<In, Bits<64>>,
    pub v2: Signal<In, Bits<64>>,
    pub v3: Signal<In, Bits<64>>,
    pub o0: Signal<Out, Bits<64>>,
    pub o1: Signal<Out, Bits<64>>,
    pub o2: Signal<Out, Bits<64>>,
    pub o3: Signal<Out, Bits<64>>,
    /// After the first half-round.
    h0: Signal<Local, Bits<64>>,
    h1: Signal<Local, Bits<64>>,
    h2: Signal<Local, Bits<64>>,
    h3: Signal<Local, Bits<64>>,
    /// The second half's sums.
    s0: Signal<Local, Bits<64>>,
    s2: Signal<Local, Bits<64>>,
}

impl Logic for SipRound {
    #[hdl_gen]
    fn update(&mut self) {
        self.h0.next = 0.into();
        self.h1.next = 0.into();
        self.h2.next = 0.into();
        self.h3.next = 0.into();
        self.s0.next = 0.into();
        self.s2.next = 0.into();
        self.o0.next = 0.into();
        self.o1.next = 0.into();
        self.o2.next = 0.into();
        self.o3.next = 0.into();
        if self.en.val() {
            // First half: the two independent additions.
            self.h0.next = self.v0.val() + self.v1.val();
            self.h2.next = self.v2.val() + self.v3.val();
            self.h1.next = ((self.v1.val() << 13) | (self.v1.val() >> 51)) ^ self.h0.val();
            self.h3.next = ((self.v3.val() << 16) | (self.v3.val() >> 48)) ^ self.h2.val();
            // Second half (v0 is rotated by 32 between the halves).
            self.s0.next = ((self.h0.val() << 32) | (self.h0.val() >> 32)) + self.h3.val();
            self.s2.next = self.h2.val() + self.h1.val();
            self.o0.next = self.s0.val();
            self.o3.next = ((self.h3.val() << 21) | (self.h3.val() >> 43)) ^ self.s0.val();
            self.o1.next = ((self.h1.val() << 17) | (self.h1.val() >> 47)) ^ self.s2.val();
            self.o2.next = (self.s2.val() << 32) | (self.s2.val() >> 32);
        }
    }
}

/// The pipelined SipHash-2-4 of `(m0, m1)` under the key `(k0, k1)`.
#[derive(LogicBlock)]
pub struct SipHash24 {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    /// Key as two little-endian 64-bit halves (key bytes 0-7 and 8-15).
    pub k0: Signal<In, Bits<64>>,
    pub k1: Signal<In, Bits<64>>,
    /// Message bytes 0-7, 8-15 and 16-23 as little-endian 64-bit words.
    pub m0: Signal<In, Bits<64>>,
    pub m1: Signal<In, Bits<64>>,
    pub m2: Signal<In, Bits<64>>,
    pub in_tag: Signal<In, Bits<SIPHASH_TAG_BITS>>,
    pub out_valid: Signal<Out, Bit>,
    pub hash: Signal<Out, Bits<64>>,
    pub out_tag: Signal<Out, Bits<SIPHASH_TAG_BITS>>,
    rounds: [SipRound; ROUNDS],
    /// State after stages 1 to 11 (index = stage - 1).
    sv0: [DFF<Bits<64>>; 11],
    sv1: [DFF<Bits<64>>; 11],
    sv2: [DFF<Bits<64>>; 11],
    sv3: [DFF<Bits<64>>; 11],
    /// m0 after stage 1; m1 after stages 1 to 3; m2 after stages 1 to 5.
    sm0: DFF<Bits<64>>,
    sm1: [DFF<Bits<64>>; 3],
    sm2: [DFF<Bits<64>>; 5],
    /// After stage 12.
    shash: DFF<Bits<64>>,
    /// Valid and tag after stages 1 to 10.
    svalid: [DFF<Bit>; ROUNDS],
    stag: [DFF<Bits<SIPHASH_TAG_BITS>>; ROUNDS],
    /// "somepseudorandomlygeneratedbytes" as four big-endian words.
    c0: Constant<Bits<64>>,
    c1: Constant<Bits<64>>,
    c2: Constant<Bits<64>>,
    c3: Constant<Bits<64>>,
    /// The final block: message length 24 in the top byte, no tail bytes.
    c_len: Constant<Bits<64>>,
}

impl Default for SipHash24 {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            k0: Default::default(),
            k1: Default::default(),
            m0: Default::default(),
            m1: Default::default(),
            m2: Default::default(),
            in_tag: Default::default(),
            out_valid: Default::default(),
            hash: Default::default(),
            out_tag: Default::default(),
            rounds: Default::default(),
            sv0: Default::default(),
            sv1: Default::default(),
            sv2: Default::default(),
            sv3: Default::default(),
            sm0: Default::default(),
            sm1: Default::default(),
            sm2: Default::default(),
            shash: Default::default(),
            svalid: Default::default(),
            stag: Default::default(),
            c0: Constant::new(0x736f_6d65_7073_6575u64.into()),
            c1: Constant::new(0x646f_7261_6e64_6f6du64.into()),
            c2: Constant::new(0x6c79_6765_6e65_7261u64.into()),
            c3: Constant::new(0x7465_6462_7974_6573u64.into()),
            c_len: Constant::new((24u64 << 56).into()),
        }
    }
}

impl Logic for SipHash24 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sm0, shash);
        for i in 0..11 {
            self.sv0[i].clock.next = self.clock.val();
            self.sv1[i].clock.next = self.clock.val();
            self.sv2[i].clock.next = self.clock.val();
            self.sv3[i].clock.next = self.clock.val();
        }
        for i in 0..3 {
            self.sm1[i].clock.next = self.clock.val();
        }
        for i in 0..5 {
            self.sm2[i].clock.next = self.clock.val();
        }
        for i in 0..ROUNDS {
            self.svalid[i].clock.next = self.clock.val();
            self.stag[i].clock.next = self.clock.val();
        }
        // Valid and tag travel alongside.
        self.svalid[0].d.next = self.in_valid.val();
        self.stag[0].d.next = self.in_tag.val();
        for i in 1..ROUNDS {
            self.svalid[i].d.next = self.svalid[i - 1].q.val();
            self.stag[i].d.next = self.stag[i - 1].q.val();
        }
        // Each round computes only for a message in its stage.
        self.rounds[0].en.next = self.in_valid.val();
        for i in 1..ROUNDS {
            self.rounds[i].en.next = self.svalid[i - 1].q.val();
        }
        // Stage 1: initial state from the key, v3 ^= m0, round 1.
        self.rounds[0].v0.next = self.k0.val() ^ self.c0.val();
        self.rounds[0].v1.next = self.k1.val() ^ self.c1.val();
        self.rounds[0].v2.next = self.k0.val() ^ self.c2.val();
        self.rounds[0].v3.next = self.k1.val() ^ self.c3.val() ^ self.m0.val();
        self.sm0.d.next = self.m0.val();
        self.sm1[0].d.next = self.m1.val();
        self.sm1[1].d.next = self.sm1[0].q.val();
        self.sm1[2].d.next = self.sm1[1].q.val();
        self.sm2[0].d.next = self.m2.val();
        for i in 1..5 {
            self.sm2[i].d.next = self.sm2[i - 1].q.val();
        }
        // Stages 2 to 12: round i + 1 reads the state after stage i.
        for i in 1..ROUNDS {
            self.rounds[i].v0.next = self.sv0[i - 1].q.val();
            self.rounds[i].v1.next = self.sv1[i - 1].q.val();
            self.rounds[i].v2.next = self.sv2[i - 1].q.val();
            self.rounds[i].v3.next = self.sv3[i - 1].q.val();
        }
        // Stages 1 to 11 register their round's output; the XORs of the
        // table in the module doc are applied on the way in.
        for i in 0..11 {
            self.sv0[i].d.next = self.rounds[i].o0.val();
            self.sv1[i].d.next = self.rounds[i].o1.val();
            self.sv2[i].d.next = self.rounds[i].o2.val();
            self.sv3[i].d.next = self.rounds[i].o3.val();
        }
        // Stage 2: the end of block m0, the start of block m1.
        self.sv0[1].d.next = self.rounds[1].o0.val() ^ self.sm0.q.val();
        self.sv3[1].d.next = self.rounds[1].o3.val() ^ self.sm1[0].q.val();
        // Stage 4: the end of block m1, the start of block m2.
        self.sv0[3].d.next = self.rounds[3].o0.val() ^ self.sm1[2].q.val();
        self.sv3[3].d.next = self.rounds[3].o3.val() ^ self.sm2[2].q.val();
        // Stage 6: the end of block m2, the start of the length block.
        self.sv0[5].d.next = self.rounds[5].o0.val() ^ self.sm2[4].q.val();
        self.sv3[5].d.next = self.rounds[5].o3.val() ^ self.c_len.val();
        // Stage 8: the end of the length block, finalization.
        self.sv0[7].d.next = self.rounds[7].o0.val() ^ self.c_len.val();
        self.sv2[7].d.next = self.rounds[7].o2.val() ^ 0xff;
        // Stage 12: the last round and the output fold.
        self.shash.d.next = self.rounds[11].o0.val()
            ^ self.rounds[11].o1.val()
            ^ self.rounds[11].o2.val()
            ^ self.rounds[11].o3.val();
        self.out_valid.next = self.svalid[11].q.val();
        self.hash.next = self.shash.q.val();
        self.out_tag.next = self.stag[11].q.val();
        if self.rst.val() {
            self.sm0.d.next = 0.into();
            self.shash.d.next = 0.into();
            for i in 0..11 {
                self.sv0[i].d.next = 0.into();
                self.sv1[i].d.next = 0.into();
                self.sv2[i].d.next = 0.into();
                self.sv3[i].d.next = 0.into();
            }
            for i in 0..3 {
                self.sm1[i].d.next = 0.into();
            }
            for i in 0..5 {
                self.sm2[i].d.next = 0.into();
            }
            for i in 0..ROUNDS {
                self.svalid[i].d.next = false;
                self.stag[i].d.next = 0.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Software model of the schedule above, to check the table against the
    /// textbook algorithm without a simulator.
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn siphash24(k0: u64, k1: u64, m: [u64; 3]) -> u64 {
        let mut v = [
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ];
        for m in [m[0], m[1], m[2], 24u64 << 56] {
            v[3] ^= m;
            round(&mut v);
            round(&mut v);
            v[0] ^= m;
        }
        v[2] ^= 0xff;
        for _ in 0..4 {
            round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }

    /// The schedule against the `siphasher` crate (whose own tests check
    /// the reference implementation's vectors) for key 00..0f and message
    /// 00..17.
    #[test]
    fn setup_siphash_model_matches_reference_vector() {
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let m2 = u64::from_le_bytes([16, 17, 18, 19, 20, 21, 22, 23]);
        let want = {
            use std::hash::Hasher;
            let mut h = siphasher::sip::SipHasher24::new_with_keys(k0, k1);
            h.write(&(0u8..24).collect::<Vec<u8>>());
            h.finish()
        };
        assert_eq!(siphash24(k0, k1, [k0, k1, m2]), want);
    }

    #[test]
    fn setup_siphash_generates_verilog() {
        let mut uut = SipHash24::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top("));
    }
}
