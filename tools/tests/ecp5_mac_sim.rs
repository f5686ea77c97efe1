//! The TrellisBoard MAC (tools/ecp5/rgmii_mac.v) in simulation: the
//! loopback testbench tools/ecp5/tb_mac_loopback.v under Verilator
//! (`--binary --timing`, C++20): seven frames of 42 to 1,514 bytes from the
//! core's 512-bit stream through the transmitter (padding, FCS) and the
//! receiver (FCS checked and removed) back to 512-bit beats, one with a byte
//! flipped on the wire that must arrive marked as bad.
//!
//! Ignored by default (a minute of Verilator compilation, kept out of the
//! CI budget): `cargo test -p toe-tools --test ecp5_mac_sim -- --ignored`.

use std::process::Command;

#[test]
#[ignore]
fn mac_loopback_in_verilator() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ecp5");
    let dir = std::env::temp_dir().join(format!("toe-ecp5-mac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new("verilator")
        .args([
            "--binary",
            "--timing",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
        ])
        .args(["--top-module", "tb", "-o", "tbx", "--Mdir"])
        .arg(dir.join("obj"))
        .arg(root.join("tb_mac_loopback.v"))
        .arg(root.join("cdc.v"))
        .arg(root.join("rgmii_mac.v"))
        .status()
        .expect("verilator (apt-get install verilator)");
    assert!(status.success(), "verilator could not build the testbench");
    let out = Command::new(dir.join("obj/tbx")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    println!("{text}");
    assert_eq!(text.matches("frame received").count(), 7, "{text}");
    assert!(
        text.contains("frame received: 200 bytes, tuser=1"),
        "{text}"
    );
    assert!(text.contains("errors=0"), "{text}");
    assert!(!text.contains("TIMEOUT"), "{text}");
}
