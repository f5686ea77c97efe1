//! Tests of the harness around the real design.  They check the harness
//! (reset, clocking, register access, waveforms, captures, the shim's
//! evaluation skipping), not the design's datapath.
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use toe_contract::regs;
use toe_sim::bfm::MacFrame;
use toe_sim::dut::{Dut, FstError};
use toe_sim::{Harness, HarnessConfig};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("toe-sim-test-{}-{name}", std::process::id()))
}

/// Config that ignores TOE_* variables, so tests behave the same whatever
/// the developer's environment.
fn cfg() -> HarnessConfig {
    HarnessConfig {
        use_env: false,
        ..Default::default()
    }
}

#[test]
fn reset_leaves_outputs_idle_and_registers_readable() {
    let mut h = Harness::new(cfg());
    assert_eq!(h.cycle(), 8, "reset cycles are counted");
    h.run(4);
    let d = &h.dut;
    assert!(!d.tx_tvalid(), "tx_tvalid after reset");
    assert!(
        !d.m_axi_awvalid() && !d.m_axi_wvalid() && !d.m_axi_arvalid(),
        "DMA request after reset"
    );
    assert!(
        !d.s_axil_bvalid() && !d.s_axil_rvalid(),
        "AXI4-Lite response after reset"
    );
    assert_eq!(h.reg_read(regs::ID_BASE + regs::BLK_TYPE), regs::TYPE_ID);
    h.reg_write(regs::ID_BASE + regs::ID_SCRATCH, 0xdead_beef);
    assert_eq!(h.reg_read(regs::ID_BASE + regs::ID_SCRATCH), 0xdead_beef);
    // Reset can be applied again mid-run.
    h.reset(4);
    assert_eq!(h.reg_read(regs::ID_BASE + regs::BLK_TYPE), regs::TYPE_ID);
    assert!(h.violations().is_empty());
}

#[test]
fn waits_are_bounded() {
    let mut h = Harness::new(HarnessConfig {
        reg_timeout: 1,
        ..cfg()
    });
    let e = h.run_until(10, |_| false).unwrap_err();
    assert_eq!(e.waited, 10);
    let start = h.cycle();
    assert_eq!(h.run_until(10, |h| h.cycle() >= start + 2), Ok(2));
    // A register access cannot finish in one cycle: it must time out.
    let e = h.try_reg_read(0).unwrap_err();
    assert!(e.to_string().contains("no response within 1 cycles"), "{e}");
}

#[test]
fn fst_waveform_is_written() {
    let path = tmp("w.fst");
    {
        let mut h = Harness::new(HarnessConfig {
            fst: Some(path.clone()),
            ..cfg()
        });
        h.mac_rx.push_bytes(vec![0x55; 200]);
        h.run(200);
    }
    let len = std::fs::metadata(&path).expect("fst file").len();
    assert!(len > 1000, "FST file only {len} bytes");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn fst_can_start_mid_run_on_a_traceable_model() {
    let mut h = Harness::new(cfg());
    assert_eq!(h.enable_fst(tmp("never.fst")), Err(FstError::NotTraceable));
    let path = tmp("late.fst");
    let mut h = Harness::new(HarnessConfig {
        traceable: true,
        ..cfg()
    });
    h.run(100);
    h.enable_fst(&path).unwrap();
    assert_eq!(h.enable_fst(&path), Err(FstError::AlreadyOpen));
    h.run(100);
    drop(h);
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn pcap_capture_parses_back() {
    let path = tmp("cap.pcap");
    let frames: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8 + 1; 60 + 100 * i]).collect();
    let sent = {
        let mut h = Harness::new(HarnessConfig {
            pcap: Some(path.clone()),
            ..cfg()
        });
        for f in &frames {
            h.mac_rx.push(MacFrame::new(f.clone()));
        }
        h.run_until(10_000, |h| h.mac_rx.is_idle())
            .expect("frames not taken by the design");
        h.flush();
        h.mac_rx.sent.clone()
    };
    let mut r = pcap_file::pcap::PcapReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut got = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        got.push((p.timestamp.as_nanos() as u64, p.data.to_vec()));
    }
    // The design may transmit frames of its own: keep the RX ones, which
    // are stamped with their last beat's cycle.
    for (i, s) in sent.iter().enumerate() {
        assert!(
            got.contains(&(s.end_cycle * 4, frames[i].clone())),
            "RX frame {i} (end cycle {}) missing from the capture",
            s.end_cycle
        );
    }
    std::fs::remove_file(&path).unwrap();
}

/// Random inputs held for random stretches, applied to two models with
/// separate clock-low and rising-edge evaluations, one of which may skip
/// clock-low evaluations with unchanged inputs and the input-combinational
/// region on rising edges: every output must match at every evaluation.
#[test]
fn skipping_unchanged_evaluations_is_transparent() {
    let mut a = Dut::new();
    let mut b = Dut::new();
    let possible = a.set_skip_identical(true);
    b.set_skip_identical(false);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut hold = 0;
    for cycle in 0..20_000u64 {
        if hold == 0 {
            hold = rng.gen_range(1..20);
            let i = a.inputs_mut();
            let keep_clock = i.clock;
            i.rst = (cycle < 10 || rng.gen_bool(0.002)) as u32;
            i.rx_tdata = rng.gen();
            i.rx_tkeep = [!0, !0];
            i.rx_tvalid = rng.gen_bool(0.5) as u32;
            i.rx_tlast = rng.gen_bool(0.2) as u32;
            i.rx_tuser = rng.gen_bool(0.05) as u32;
            i.tx_tready = rng.gen_bool(0.8) as u32;
            i.s_axil_araddr = rng.gen_range(0..0x40) * 4;
            i.s_axil_arvalid = rng.gen_bool(0.3) as u32;
            i.s_axil_rready = 1;
            i.s_axil_bready = 1;
            i.m_axi_awready = rng.gen_bool(0.7) as u32;
            i.m_axi_wready = rng.gen_bool(0.7) as u32;
            i.m_axi_arready = rng.gen_bool(0.7) as u32;
            i.m_axi_rvalid = rng.gen_bool(0.3) as u32;
            i.m_axi_rdata = rng.gen();
            i.m_axi_rlast = rng.gen_bool(0.5) as u32;
            i.clock = keep_clock;
            *b.inputs_mut() = a.inputs().clone();
        }
        hold -= 1;
        a.eval();
        b.eval();
        assert_eq!(
            a.outputs(),
            b.outputs(),
            "clock-low outputs differ at cycle {cycle}"
        );
        a.posedge();
        b.posedge();
        assert_eq!(
            a.outputs(),
            b.outputs(),
            "post-edge outputs differ at cycle {cycle}"
        );
    }
    assert_eq!(b.skipped_evals(), 0);
    assert_eq!(b.skipped_ico_regions(), 0);

    if possible {
        assert!(
            a.skipped_evals() > 10_000,
            "only {} evaluations skipped",
            a.skipped_evals()
        );
        assert!(
            a.skipped_ico_regions() > 10_000,
            "only {} ico regions skipped",
            a.skipped_ico_regions()
        );
    }
}

/// Random inputs held for random stretches, applied through [`Dut::step`]
/// to two models: one on the one-evaluation-per-cycle path (inputs applied
/// with the rising edge; the input-combinational region skipped when they
/// did not change), the other with skipping off (two real evaluations per
/// cycle, clock low then the edge, with the check that no output changes at
/// clock low).  Every output must match after every cycle.
#[test]
fn one_evaluation_per_cycle_is_transparent() {
    let mut a = Dut::new();
    let mut b = Dut::new();
    let possible = a.set_skip_identical(true);
    b.set_skip_identical(false);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut hold = 0;
    let cycles = 20_000u64;
    for cycle in 0..cycles {
        if hold == 0 {
            // Often a new input every cycle, sometimes long stretches.
            hold = if rng.gen_bool(0.5) {
                1
            } else {
                rng.gen_range(1..20)
            };
            let i = a.inputs_mut();
            i.rst = (cycle < 10 || rng.gen_bool(0.002)) as u32;
            i.rx_tdata = rng.gen();
            i.rx_tkeep = [!0, rng.gen()];
            i.rx_tvalid = rng.gen_bool(0.6) as u32;
            i.rx_tlast = rng.gen_bool(0.2) as u32;
            i.rx_tuser = rng.gen_bool(0.05) as u32;
            i.tx_tready = rng.gen_bool(0.8) as u32;
            i.s_axil_awaddr = rng.gen_range(0..0x40) * 4;
            i.s_axil_awvalid = rng.gen_bool(0.1) as u32;
            i.s_axil_wdata = rng.gen();
            i.s_axil_wstrb = 0xf;
            i.s_axil_wvalid = rng.gen_bool(0.1) as u32;
            i.s_axil_araddr = rng.gen_range(0..0x40) * 4;
            i.s_axil_arvalid = rng.gen_bool(0.3) as u32;
            i.s_axil_rready = rng.gen_bool(0.8) as u32;
            i.s_axil_bready = rng.gen_bool(0.8) as u32;
            i.m_axi_awready = rng.gen_bool(0.7) as u32;
            i.m_axi_wready = rng.gen_bool(0.7) as u32;
            i.m_axi_bvalid = rng.gen_bool(0.1) as u32;
            i.m_axi_arready = rng.gen_bool(0.7) as u32;
            i.m_axi_rvalid = rng.gen_bool(0.3) as u32;
            i.m_axi_rdata = rng.gen();
            i.m_axi_rlast = rng.gen_bool(0.5) as u32;
            *b.inputs_mut() = a.inputs().clone();
        }
        hold -= 1;
        a.step();
        b.step();
        assert_eq!(
            a.outputs(),
            b.outputs(),
            "outputs differ after cycle {cycle}"
        );
    }
    assert_eq!(b.skipped_evals(), 0);
    assert_eq!(b.skipped_ico_regions(), 0);
    if possible {
        // Every cycle but the first (which initialises the model) in one
        // evaluation, some of them without the ico region.
        assert_eq!(a.skipped_evals(), cycles - 1);
        assert!(
            a.skipped_ico_regions() > 1_000,
            "only {} ico regions skipped",
            a.skipped_ico_regions()
        );
    }
}

/// Frames received into host memory, a frame transmitted, registers read
/// and written, with every cycle evaluated twice and checked: no output of
/// the model changes at the clock-low evaluation with the new inputs
/// (`Dut::step` panics if one does), so sampling outputs before the
/// evaluation, as the harness does, is exact.
#[test]
fn outputs_are_registers_under_traffic() {
    use toe_contract::desc::{RxDesc, TxDesc, CPL_BYTES, RECORD_BYTES};
    let mut h = Harness::new(HarnessConfig {
        check_registered_outputs: true,
        ..cfg()
    });
    assert_eq!(h.dut.skipped_evals(), 0);
    let n = 16usize;
    for is_rx in [true, false] {
        let reg = |x| {
            if is_rx {
                regs::rxq(0, x)
            } else {
                regs::txq(0, x)
            }
        };
        let desc = h.mem.alloc(n * RECORD_BYTES, 4096);
        let cpl = h.mem.alloc(n * CPL_BYTES, 4096);
        h.reg_write(reg(regs::Q_DESC_LO), desc as u32);
        h.reg_write(reg(regs::Q_DESC_HI), (desc >> 32) as u32);
        h.reg_write(reg(regs::Q_CPL_LO), cpl as u32);
        h.reg_write(reg(regs::Q_CPL_HI), (cpl >> 32) as u32);
        h.reg_write(reg(regs::Q_CTRL), regs::Q_CTRL_ENABLE | n.trailing_zeros());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        if is_rx {
            for slot in 0..n {
                let buf = h.mem.alloc(2048, 64);
                let d = RxDesc {
                    addr: buf,
                    len: 2048,
                };
                h.mem
                    .write(desc + (slot * RECORD_BYTES) as u64, &d.encode());
            }
            h.reg_write(reg(regs::Q_PROD), n as u32);
            for len in [60, 64, 65, 200, 1514, 128, 61, 1000] {
                let f = toe_sim::speed::filler_frame(&mut rng, len);
                h.mac_rx.push(MacFrame::new(f));
            }
        } else {
            let f = toe_sim::speed::filler_frame(&mut rng, 300);
            let buf = h.mem.alloc(320, 64);
            h.mem.write(buf, &f);
            let d = TxDesc {
                addr: buf,
                len: f.len() as u16,
                flags: 0,
            };
            h.mem.write(desc, &d.encode());
            h.reg_write(reg(regs::Q_PROD), 1);
        }
    }
    h.run_until(20_000, |h| {
        h.mac_rx.is_idle() && h.mac_tx.frame_count == 1 && h.axi.is_idle()
    })
    .expect("traffic did not finish");
    h.run(100);
    assert_eq!(h.mac_rx.sent.len(), 8);
    assert!(
        h.axi.stats.write_beats >= 8,
        "frames written to host memory"
    );
    assert!(h.axi.stats.read_beats >= 2, "descriptors and TX data read");
    assert_eq!(h.reg_read(regs::rxq(0, regs::Q_PROD)), n as u32);
    assert_eq!(h.dut.skipped_evals(), 0);
    assert!(h.violations().is_empty());
}

/// The faster wide left shift force-included into the model (csrc/vlfast.h)
/// gives Verilator's results bit for bit.
#[test]
fn fast_wide_shift_matches_verilator() {
    assert_eq!(toe_sim::dut::shift_helper_mismatches(200_000, 0x5eed), 0);
}

#[test]
fn speed_is_measurable() {
    let s = toe_sim::speed::measure_speed_with(
        5_000,
        &toe_sim::speed::SpeedOptions {
            rx_traffic: true,
            ..Default::default()
        },
    );
    assert!(s.cycles_per_second > 1000.0);
    assert!(s.rx_frames > 0 || s.cycles < 10_000);
}
