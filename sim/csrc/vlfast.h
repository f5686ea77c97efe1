// Faster replacement for one Verilator 5 runtime helper, force-included
// (g++ -include) into every C++ file of the Verilated model by sim/build.rs.
//
// VL_SHIFTL_WWI (wide value shifted left by a 32-bit amount) zeroes the
// result and then calls _vl_insert_WW, a general bit-field insert with
// per-word branches; for the design's many shifts of 500+-bit values by
// constants that are not multiples of 32 (FIFO word packing, header field
// alignment) it was the largest single cost of the model.  toe_shiftl_wwi
// computes the same words with one funnel shift per word.  It handles only
// the case where the operand and the result have the same width and the
// shift is unaligned and in range; everything else goes to Verilator's own
// function.  Results are bit-for-bit identical, including the top word's
// unused bits (cleared, as _vl_insert_WW does); the shim's
// selftest_shiftl compares both on random operands (test: sim/tests/harness.rs).
#pragma once
#include "verilated.h"

static inline WDataOutP toe_shiftl_wwi(int obits, int lbits, int rbits, WDataOutP owp,
                                       WDataInP const lwp, IData rd) VL_MT_SAFE {
    const int bit_shift = VL_BITBIT_E(rd);
    if (lbits != obits || bit_shift == 0 || rd >= static_cast<IData>(obits)) {
        return VL_SHIFTL_WWI(obits, lbits, rbits, owp, lwp, rd);  // Verilator's
    }
    const int words = VL_WORDS_I(obits);
    const int word_shift = VL_BITWORD_E(rd);
    for (int i = 0; i < word_shift; ++i) owp[i] = 0;
    owp[word_shift] = lwp[0] << bit_shift;
    for (int i = word_shift + 1; i < words; ++i) {
        owp[i] = (lwp[i - word_shift] << bit_shift)
                 | (lwp[i - word_shift - 1] >> (VL_EDATASIZE - bit_shift));
    }
    owp[words - 1] &= VL_MASK_E(obits);
    return owp;
}

// From here on the generated code calls toe_shiftl_wwi; `(VL_SHIFTL_WWI)(...)`
// still names Verilator's function.
#define VL_SHIFTL_WWI(...) toe_shiftl_wwi(__VA_ARGS__)
