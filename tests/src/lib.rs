//! Full-chip tests of the TOE SmartNIC on the toe-sim harness, and the
//! rigs the test files share.  Set `TOE_FST=/path/wave.fst` or
//! `TOE_PCAP=/path/mac.pcap` for a waveform or a capture of any test,
//! `TOE_SEED=n` to replay a randomized one.
//!
//! What runs the simulated NIC (the ring host, the simulator thread, the
//! smoltcp peer, network namespaces, register programming) lives in
//! `toe-sim-support` (sim/support), shared with the tools; it is
//! re-exported here so that tests name it `toe_tests::...`.
pub mod chip_rig;
pub mod faults;
pub mod rawsock;
pub mod redis_rig;
pub mod socket_rig;
pub mod tap_bench;

pub use toe_sim_support::{
    counter, enable_rss, host, netns, peer, program_rss, program_setup, set_est_filter, simdev,
};

use std::collections::HashMap;
use toe_sim::harness::Harness;

/// The seed of a randomized test: `TOE_SEED` if set, else `default`;
/// printed so that a failing run can be replayed.
pub fn seed(default: u64) -> u64 {
    let s = std::env::var("TOE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    println!("seed {s} (replay with TOE_SEED={s})");
    s
}

/// Checks every global counter but `TxFrames` (host frames are not
/// modelled per test) against the counts the model expects (by counter
/// index; absent: 0).
pub fn check_counters(h: &mut Harness, want: &HashMap<u32, u64>) {
    for c in toe_contract::regs::Counter::ALL {
        if c == toe_contract::regs::Counter::TxFrames {
            continue;
        }
        let w = want.get(&(c as u32)).copied().unwrap_or(0);
        assert_eq!(counter(h, c), w, "counter {c:?}");
    }
}
