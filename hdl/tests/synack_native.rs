//! RustHDL-native simulation of the SYN-ACK block
//! (`toe_hdl::setup::synack`) against the reference model
//! (`toe_model::cookie::syn_ack`): random SYNs (every option combination,
//! per-SYN keys, clocks and MSS tables) back to back with idle cycles,
//! every output checked every cycle at exactly `SYNACK_LATENCY`, then a
//! reset with SYNs in flight.  Seeded: `TOE_SEED=n` replays a run.
//!
//! About 750 cycles (well under a second here); synack_vlt.rs pushes tens
//! of thousands of SYNs through the Verilated block.
#[path = "common/seed.rs"]
mod seed;
#[path = "common/synack_ref.rs"]
mod synack_ref;

use rust_hdl::prelude::*;
use seed::seeded_rng;
use synack_ref::{check_round_trip, expected_values, random_syn, SynIn, OUTPUTS};
use toe_hdl::setup::synack::{SynAckGen, SYNACK_LATENCY};

type S = Sim<SynAckGen>;

fn drive(x: &mut Box<SynAckGen>, s: &SynIn, valid: bool) {
    let syn = &s.syn;
    x.in_valid.next = valid;
    x.in_cip.next = (u32::from_be_bytes(syn.client.0) as u64).into();
    x.in_cport.next = (syn.client.1 as u64).into();
    x.in_sip.next = (u32::from_be_bytes(syn.server.0) as u64).into();
    x.in_sport.next = (syn.server.1 as u64).into();
    x.in_isn.next = (syn.isn as u64).into();
    x.in_mss_present.next = syn.mss.is_some();
    x.in_mss.next = (syn.mss.unwrap_or(s.junk_mss) as u64).into();
    x.in_ws_present.next = syn.wscale.is_some();
    x.in_ws.next = (syn.wscale.unwrap_or(s.junk_ws) as u64).into();
    x.in_sackp.next = syn.sack_permitted;
    x.in_ts_present.next = syn.tsval.is_some();
    x.in_tsval.next = (syn.tsval.unwrap_or(s.junk_tsval) as u64).into();
    x.in_tag.next = (s.tag as u64).into();
    x.cookie_t.next = (s.t as u64).into();
    x.ts_now.next = (s.ts_now as u64).into();
    x.key_slot.next = s.slot == 1;
    x.k0.next = s.k0().into();
    x.k1.next = s.k1().into();
    x.mss_table.next = s.mss_table_bits().into();
    x.our_mss.next = (s.our_mss as u64).into();
    x.our_ws.next = (s.our_ws as u64).into();
    x.our_window.next = (s.our_window as u64).into();
}

/// The outputs in `OUTPUTS` order.
fn outputs(x: &SynAckGen) -> Vec<u64> {
    vec![
        x.out_valid.val() as u64,
        x.out_tag.val().to_u64(),
        x.out_src_ip.val().to_u64(),
        x.out_src_port.val().to_u64(),
        x.out_dst_ip.val().to_u64(),
        x.out_dst_port.val().to_u64(),
        x.out_seq.val().to_u64(),
        x.out_ack.val().to_u64(),
        x.out_window.val().to_u64(),
        x.out_mss.val().to_u64(),
        x.out_ws_present.val() as u64,
        x.out_ws.val().to_u64(),
        x.out_sackp.val() as u64,
        x.out_ts_present.val() as u64,
        x.out_tsval.val().to_u64(),
        x.out_tsecr.val().to_u64(),
    ]
}

#[test]
fn synack_native_matches_model() {
    let mut rnd = seeded_rng();
    // Input schedule, one entry per cycle: (valid, SYN).
    let mut schedule: Vec<(bool, SynIn)> = vec![];
    let mut sent = 0;
    while sent < 600 {
        let valid = !rnd().is_multiple_of(6);
        schedule.push((valid, random_syn(&mut rnd)));
        sent += valid as usize;
    }
    let expected: Vec<Option<Vec<u64>>> = schedule
        .iter()
        .map(|(v, s)| v.then(|| expected_values(s)))
        .collect();
    let burst: Vec<SynIn> = (0..8).map(|_| random_syn(&mut rnd)).collect();
    let lat = SYNACK_LATENCY;
    let n_cycles = schedule.len() + lat + 2 + burst.len() + lat + 4;

    let mut uut = SynAckGen::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(2, |x: &mut Box<SynAckGen>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: S| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clock, x, 2);
        x.rst.next = false;
        // Cycle n: check the outputs, then drive schedule[n] (sampled by
        // the edge that ends cycle n), so it must come out in cycle n + lat.
        let mut seen = 0;
        for n in 0..schedule.len() + lat + 2 {
            let want = n
                .checked_sub(lat)
                .and_then(|i| expected.get(i).cloned().flatten());
            let got = outputs(&x);
            match want {
                None => sim_assert!(sim, got[0] == 0, x),
                Some(want) => {
                    let s = &schedule[n - lat].1;
                    for k in 0..OUTPUTS.len() {
                        if got[k] != want[k] {
                            println!(
                                "{} in cycle {n}: got {:#x}, want {:#x} for {s:?}",
                                OUTPUTS[k].0, got[k], want[k]
                            );
                        }
                        sim_assert_eq!(sim, got[k], want[k], x);
                    }
                    check_round_trip(s, got[6] as u32, (got[13] == 1).then_some(got[14] as u32));
                    seen += 1;
                }
            }
            let (valid, s) = schedule.get(n).copied().unwrap_or((false, schedule[0].1));
            drive(&mut x, &s, valid);
            wait_clock_cycle!(sim, clock, x);
        }
        sim_assert_eq!(sim, seen, sent, x);
        // Reset with SYNs in flight: none of them may come out, and every
        // output reads zero after the reset edge.
        for s in &burst {
            drive(&mut x, s, true);
            wait_clock_cycle!(sim, clock, x);
        }
        x.rst.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.rst.next = false;
        x.in_valid.next = false;
        sim_assert!(sim, outputs(&x).iter().all(|&v| v == 0), x);
        for _ in 0..lat + 2 {
            sim_assert!(sim, !x.out_valid.val(), x);
            wait_clock_cycle!(sim, clock, x);
        }
        println!("{seen} SYN-ACKs checked");
        sim.done(x)
    });
    let t = std::time::Instant::now();
    sim.run(Box::new(uut), 1_000_000).unwrap();
    println!("about {n_cycles} cycles simulated in {:.1?}", t.elapsed());
}
