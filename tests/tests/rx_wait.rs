//! A frame whose RX buffer is posted but whose descriptor the NIC has not
//! fetched yet (about one host-memory read after the doorbell) waits for
//! it instead of being dropped; a frame with no buffer posted at all is
//! still dropped and counted.
use rand::SeedableRng;
use toe_contract::regs::Counter;
use toe_model::gen;
use toe_sim::harness::{Harness, HarnessConfig};
use toe_tests::counter;
use toe_tests::host::Host;

#[test]
fn frames_wait_for_posted_descriptors() {
    let mut h = Harness::new(HarnessConfig::default());
    let seed = h.config().seed;
    println!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut host = Host::new(&mut h, 4, 2048);
    // Doorbell and frames in the same breath: 8 buffers, 8 frames.
    let frames: Vec<Vec<u8>> = (0..8)
        .map(|i| gen::tcp_frame(&gen::random_tcp(&mut rng, 64 + 100 * i)))
        .collect();
    host.post_rx(&mut h, 0, 8);
    for f in &frames {
        h.mac_rx.push_bytes(f.clone());
    }
    let mut got = Vec::new();
    h.run(20_000);
    while let Some((_, data)) = host.poll_rx(&h, 0) {
        got.push(data);
    }
    assert_eq!(got, frames, "every frame waited for its descriptor");
    assert_eq!(counter(&mut h, Counter::RxDropNoBuffer), 0);
    // Nothing posted: dropped and counted, and the pipeline goes on.
    let lone = gen::tcp_frame(&gen::random_tcp(&mut rng, 200));
    h.mac_rx.push_bytes(lone);
    h.run(2_000);
    assert_eq!(counter(&mut h, Counter::RxDropNoBuffer), 1);
    host.post_rx(&mut h, 0, 1);
    let next = gen::tcp_frame(&gen::random_tcp(&mut rng, 300));
    h.mac_rx.push_bytes(next.clone());
    h.run(2_000);
    let (_, data) = host.poll_rx(&h, 0).expect("delivered after the repost");
    assert_eq!(data, next);
    assert_eq!(counter(&mut h, Counter::RxDropNoBuffer), 1);
}
