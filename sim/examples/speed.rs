//! Prints the simulation speed of the full design.
//!
//! `cargo run --release -p toe-sim --example speed [cycles]`
use toe_sim::speed::{measure_speed_with, SpeedOptions};

fn main() {
    let cycles: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("cycles"))
        .unwrap_or(1_000_000);
    let fst = std::env::temp_dir().join("toe-sim-speed.fst");
    let runs = [
        ("fast model, idle", SpeedOptions::default()),
        (
            "fast model, MAC RX traffic",
            SpeedOptions {
                rx_traffic: true,
                ..Default::default()
            },
        ),
        (
            "fst model (not tracing), idle",
            SpeedOptions {
                traceable: true,
                ..Default::default()
            },
        ),
        (
            "fst model (not tracing), MAC RX traffic",
            SpeedOptions {
                rx_traffic: true,
                traceable: true,
                ..Default::default()
            },
        ),
        (
            "fst model writing FST, MAC RX traffic",
            SpeedOptions {
                rx_traffic: true,
                fst: Some(fst.clone()),
                ..Default::default()
            },
        ),
    ];
    for (name, opt) in runs {
        let n = if opt.fst.is_some() {
            cycles / 10
        } else {
            cycles
        };
        let s = measure_speed_with(n, &opt);
        println!(
            "{name:42} {:>10.0} cycles/s  {:>10.0} per CPU second  ({} cycles in {:.2} s, {:.2} s of the thread's processor time, {} RX frames, {} clock-low evals skipped, {} edges without ico)",
            s.cycles_per_second, s.cycles_per_cpu_second, s.cycles, s.seconds, s.cpu_seconds, s.rx_frames, s.skipped_evals, s.skipped_ico
        );
    }
    let _ = std::fs::remove_file(fst);
}
