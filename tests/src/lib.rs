//! Full-chip tests of the TOE SmartNIC on the toe-sim harness: the host
//! side of the rings (`host`) and helpers shared by the tests.  Set
//! `TOE_FST=/path/wave.fst` or `TOE_PCAP=/path/mac.pcap` for a waveform or a
//! capture of any test, `TOE_SEED=n` to replay a randomized one.
pub mod faults;
pub mod host;
pub mod netns;
pub mod peer;
pub mod simdev;

use toe_sim::harness::Harness;

/// Reads a 64-bit global counter (LO first, which latches HI).
pub fn counter(h: &mut Harness, c: toe_contract::regs::Counter) -> u64 {
    let a = toe_contract::regs::counter(c);
    let lo = h.reg_read(a) as u64;
    lo | (h.reg_read(a + 4) as u64) << 32
}

/// Enables RSS with a random key and a table spreading over the four
/// queues, programs the NIC, and returns the model configuration to match.
pub fn enable_rss(h: &mut Harness, rng: &mut impl rand::Rng) -> toe_model::nic::NicConfig {
    use toe_contract::regs as r;
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
