//! Shared pieces of the demo and the benchmark: NIC bring-up on the
//! simulated device and frame generation.
use rand::Rng;
use toe_contract::regs as r;
use toe_model::gen;
use toe_sim::harness::Harness;

/// A well-formed Ethernet/IPv4/TCP frame of exactly `len` bytes (FCS not
/// included), correct checksums.
pub fn tcp_frame(rng: &mut impl Rng, len: usize) -> Vec<u8> {
    for _ in 0..100 {
        let f = gen::tcp_frame(&gen::random_tcp(rng, len));
        if f.len() == len {
            return f;
        }
    }
    panic!("cannot build a {len}-byte TCP frame");
}

/// Programs a random RSS key and a table spreading over all four queues.
pub fn enable_rss(h: &mut Harness, rng: &mut impl Rng) -> toe_model::nic::NicConfig {
    let mut cfg = toe_model::nic::NicConfig::all_queues_enabled();
    cfg.rss_enable = true;
    rng.fill(&mut cfg.rss_key[..]);
    for i in 0..64 {
        cfg.rss_table[i] = (i % 4) as u8;
    }
    for i in 0..10 {
        let w = u32::from_be_bytes(cfg.rss_key[4 * i..4 * i + 4].try_into().unwrap());
        h.reg_write(r::RSS_BASE + r::RSS_KEY + 4 * i as u32, w);
    }
    for i in 0..64u32 {
        h.reg_write(
            r::RSS_BASE + r::RSS_TABLE + 4 * i,
            cfg.rss_table[i as usize] as u32,
        );
    }
    h.reg_write(r::RSS_BASE + r::RSS_CTRL, r::RSS_CTRL_ENABLE);
    cfg
}
