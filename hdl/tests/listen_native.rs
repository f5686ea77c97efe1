//! RustHDL-native simulation of the listener table
//! (`toe_hdl::setup::listen`) against the plain Rust table of
//! common/listen_ref.rs: the directed sequence (exact over any-IP, invalid
//! entries, write and query in one cycle, rewrites, reset) and a short
//! random run with resets, every output checked every cycle.  Seeded:
//! `TOE_SEED=n` replays a run.
//!
//! About a thousand cycles (a fraction of a second here); listen_vlt.rs
//! runs tens of thousands of cycles in Verilator.
#[path = "common/listen_ref.rs"]
mod listen_ref;
#[path = "common/seed.rs"]
mod seed;

use listen_ref::{directed, expect, random_cycles, Cycle};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_hdl::setup::listen::{ListenTable, LISTEN_LATENCY};

type S = Sim<ListenTable>;

#[test]
fn listen_native_matches_reference() {
    let mut rnd = seeded_rng();
    let mut cycles = directed();
    cycles.extend(random_cycles(&mut rnd, 1000, 30, 200));
    for _ in 0..LISTEN_LATENCY + 2 {
        cycles.push(Cycle::default());
    }
    let want = expect(&cycles, LISTEN_LATENCY);
    println!("{:?}", want.coverage);
    let n_cycles = cycles.len();

    let mut uut = ListenTable::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(2, |x: &mut Box<ListenTable>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: S| {
        let mut x = sim.init()?;
        // Cycle n: drive cycles[n], check the outputs of cycle n, then the
        // edge that ends cycle n.
        for (n, c) in cycles.iter().enumerate() {
            x.rst.next = c.rst;
            let (wr_en, (wi, we)) = match c.wr {
                Some(w) => (true, w),
                None => (false, (0, Default::default())),
            };
            x.wr_en.next = wr_en;
            x.wr_index.next = (wi as u64).into();
            x.wr_valid.next = we.valid;
            x.wr_any_ip.next = we.any_ip;
            x.wr_ip.next = (we.ip as u64).into();
            x.wr_port.next = (we.port as u64).into();
            x.wr_offload.next = we.offload;
            x.rd_index.next = (c.rd_index as u64).into();
            x.rd_en.next = true;
            let (qv, (ip, port, tag)) = match c.query {
                Some(q) => (true, q),
                None => (false, (0, 0, 0)),
            };
            x.in_valid.next = qv;
            x.in_ip.next = (ip as u64).into();
            x.in_port.next = (port as u64).into();
            x.in_tag.next = (tag as u64).into();
            if n > 0 {
                if let Some(e) = want.reads[n] {
                    sim_assert_eq!(sim, x.rd_valid.val(), e.valid, x);
                    sim_assert_eq!(sim, x.rd_any_ip.val(), e.any_ip, x);
                    sim_assert_eq!(sim, x.rd_ip.val().to_u64(), e.ip as u64, x);
                    sim_assert_eq!(sim, x.rd_port.val().to_u64(), e.port as u64, x);
                    sim_assert_eq!(sim, x.rd_offload.val(), e.offload, x);
                }
                match want.answers[n] {
                    None => {
                        sim_assert!(sim, !x.out_valid.val() && !x.out_hit.val(), x);
                    }
                    Some((a, tag)) => {
                        sim_assert!(sim, x.out_valid.val(), x);
                        sim_assert_eq!(sim, x.out_hit.val(), a.hit, x);
                        sim_assert_eq!(sim, x.out_exact.val(), a.exact, x);
                        sim_assert_eq!(sim, x.out_offload.val(), a.offload, x);
                        sim_assert_eq!(sim, x.out_index.val().to_u64(), a.index as u64, x);
                        sim_assert_eq!(sim, x.out_tag.val().to_u64(), tag as u64, x);
                    }
                }
            }
            wait_clock_cycle!(sim, clock, x);
        }
        sim.done(x)
    });
    let t = std::time::Instant::now();
    sim.run(Box::new(uut), 100_000).unwrap();
    println!("{n_cycles} cycles simulated in {:.1?}", t.elapsed());
}
