//! Shared pieces of the demo and the benchmark: NIC bring-up on the
//! simulated device and frame generation.
use rand::Rng;

pub mod tcpdemo;
use toe_model::gen;

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
pub use toe_sim_support::enable_rss;
