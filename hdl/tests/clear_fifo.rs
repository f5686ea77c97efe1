//! RustHDL-native simulation of `ClearFifo` against a queue model: random
//! writes, reads and clears, checking every output every cycle.
use rust_hdl::prelude::*;
use std::collections::VecDeque;
use toe_hdl::declare_clear_fifo;

declare_clear_fifo!(F16, Bits<8>, 16, 3);
type S = Sim<F16>;

#[test]
fn clear_fifo_matches_a_queue() {
    let mut uut = F16::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(2, |x: &mut Box<F16>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: S| {
        let mut x = sim.init()?;
        // Model: entries written (visible two edges later) and pending.
        let mut q: VecDeque<u8> = VecDeque::new();
        let mut fresh: VecDeque<(u8, u32)> = VecDeque::new();
        let mut seed: u64 = 0x1234_5678;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut next = 0u8;
        let mut reads = 0;
        for cycle in 0..3000u32 {
            // Entries written two edges ago are visible now.
            while fresh.front().is_some_and(|&(_, c)| c + 2 <= cycle) {
                q.push_back(fresh.pop_front().unwrap().0);
            }
            let total = q.len() + fresh.len();
            sim_assert_eq!(sim, x.empty.val(), q.is_empty(), x);
            sim_assert_eq!(sim, x.full.val(), total == 16, x);
            sim_assert_eq!(sim, x.almost_full.val(), total >= 13, x);
            if let Some(&h) = q.front() {
                sim_assert_eq!(sim, x.data_out.val().to_u32() as u8, h, x);
            }
            let r = rnd();
            // Phases: fill-heavy, drain-heavy, mixed; rare clears.
            let phase = (cycle / 200) % 3;
            let wp = [80, 20, 50][phase as usize];
            let rp = [20, 80, 50][phase as usize];
            let write = (r % 100) < wp;
            let read = ((r >> 8) % 100) < rp;
            let clear = (r >> 16) % 97 == 0;
            x.write.next = write;
            x.data_in.next = (next as u64).into();
            x.read.next = read;
            x.clear.next = clear;
            wait_clock_cycle!(sim, clock, x);
            if clear {
                q.clear();
                fresh.clear();
            } else {
                if read && !q.is_empty() {
                    q.pop_front();
                    reads += 1;
                }
                if write && total < 16 {
                    fresh.push_back((next, cycle));
                    next = next.wrapping_add(1);
                }
            }
        }
        sim_assert!(sim, reads > 500, x);
        sim.done(x)
    });
    sim.run(Box::new(uut), 100_000).unwrap();
}
