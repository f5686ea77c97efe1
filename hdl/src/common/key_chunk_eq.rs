//! Equality of two 96-bit keys in eight 12-bit chunks, combinational: bit
//! `i` of `eq` is set when bits `12i+11:12i` agree.  Each chunk is 4 LUT6
//! (three bit pairs each) and one LUT of their AND, two LUT levels; the
//! user registers `eq` and ANDs the eight bits in the next stage, so that a
//! 96-bit compare costs two short stages instead of one deep one.
use rust_hdl::prelude::*;

/// Chunks of a key compare.
pub const KEY_CHUNKS: usize = 8;

#[derive(LogicBlock, Default)]
pub struct KeyChunkEq {
    pub a: Signal<In, Bits<96>>,
    pub b: Signal<In, Bits<96>>,
    pub eq: Signal<Out, Bits<KEY_CHUNKS>>,
}

impl Logic for KeyChunkEq {
    #[hdl_gen]
    fn update(&mut self) {
        self.eq.next = 0.into();
        for i in 0..KEY_CHUNKS {
            self.eq.next = self.eq.val().replace_bit(
                i,
                self.a.val().get_bits::<12>(12 * i) == self.b.val().get_bits::<12>(12 * i),
            );
        }
    }
}
