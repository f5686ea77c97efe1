//! The seeded stimulus generator of the block tests (one for all).

/// xorshift64 from a seed (`TOE_SEED`, default 1; printed).
pub fn seeded_rng() -> impl FnMut() -> u64 {
    let seed = std::env::var("TOE_SEED")
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("TOE_SEED={s:?} is not a number"))
        })
        .unwrap_or(1u64);
    println!("seed {seed} (replay with TOE_SEED={seed})");
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}
