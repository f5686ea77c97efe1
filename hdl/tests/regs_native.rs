//! RustHDL-native simulation of the register file (a small block, so rust-hdl's
//! own simulator is fast enough): AXI4-Lite writes and reads, the block
//! header chain, SLVERR on a partial write, counter latching.
use rust_hdl::prelude::*;
use toe_contract::regs as r;
use toe_hdl::regs::RegFile;

type S = Sim<RegFile>;

fn write(
    sim: &mut S,
    mut x: Box<RegFile>,
    addr: u32,
    data: u32,
    strb: u32,
) -> Result<(Box<RegFile>, u32), SimError> {
    x.awaddr.next = (addr as u64).into();
    x.wdata.next = (data as u64).into();
    x.wstrb.next = (strb as u64).into();
    x.awvalid.next = true;
    x.wvalid.next = true;
    x.bready.next = true;
    x = sim.watch(|x| x.awready.val() && x.wready.val(), x)?;
    wait_clock_cycle!(sim, clock, x);
    x.awvalid.next = false;
    x.wvalid.next = false;
    x = sim.watch(|x| x.bvalid.val(), x)?;
    let resp = x.bresp.val().to_u32();
    wait_clock_cycle!(sim, clock, x);
    Ok((x, resp))
}

fn read(sim: &mut S, mut x: Box<RegFile>, addr: u32) -> Result<(Box<RegFile>, u32), SimError> {
    x.araddr.next = (addr as u64).into();
    x.arvalid.next = true;
    x.rready.next = true;
    x = sim.watch(|x| x.arready.val(), x)?;
    wait_clock_cycle!(sim, clock, x);
    x.arvalid.next = false;
    x = sim.watch(|x| x.rvalid.val(), x)?;
    let data = x.rdata.val().to_u32();
    wait_clock_cycle!(sim, clock, x);
    Ok((x, data))
}

#[test]
fn register_file_over_axi_lite() {
    let mut uut = RegFile::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(2, |x: &mut Box<RegFile>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: S| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clock, x, 2);
        x.rst.next = false;
        wait_clock_cycle!(sim, clock, x);
        // The block chain: ID -> RSS -> queues -> counters -> end.
        let (y, t) = read(&mut sim, x, r::BLK_TYPE)?;
        sim_assert_eq!(sim, t, r::TYPE_ID, y);
        let (y, next) = read(&mut sim, y, r::BLK_NEXT)?;
        sim_assert_eq!(sim, next, r::RSS_BASE, y);
        let (y, t) = read(&mut sim, y, r::RSS_BASE + r::BLK_TYPE)?;
        sim_assert_eq!(sim, t, r::TYPE_RSS, y);
        let (y, id) = read(&mut sim, y, r::ID_DEVICE)?;
        sim_assert_eq!(sim, id, r::DEVICE_ID, y);
        let (y, mf) = read(&mut sim, y, r::ID_MAX_FRAME)?;
        sim_assert_eq!(sim, mf, toe_contract::MAX_FRAME as u32, y);
        // Scratch write and read back.
        let (y, resp) = write(&mut sim, y, r::ID_SCRATCH, 0x1234_5678, 0xF)?;
        sim_assert_eq!(sim, resp, 0, y);
        let (y, v) = read(&mut sim, y, r::ID_SCRATCH)?;
        sim_assert_eq!(sim, v, 0x1234_5678u32, y);
        // A partial write is refused with SLVERR and changes nothing.
        let (y, resp) = write(&mut sim, y, r::ID_SCRATCH, 0xFFFF_FFFF, 0x3)?;
        sim_assert_eq!(sim, resp, 2, y);
        let (y, v) = read(&mut sim, y, r::ID_SCRATCH)?;
        sim_assert_eq!(sim, v, 0x1234_5678u32, y);
        // RSS key word 3 and table entry 63 (the last one).
        let (y, _) = write(&mut sim, y, r::RSS_BASE + r::RSS_KEY + 12, 0xCAFE_F00D, 0xF)?;
        let (y, v) = read(&mut sim, y, r::RSS_BASE + r::RSS_KEY + 12)?;
        sim_assert_eq!(sim, v, 0xCAFE_F00Du32, y);
        let (y, _) = write(&mut sim, y, r::RSS_BASE + r::RSS_TABLE + 4 * 63, 2, 0xF)?;
        let (y, v) = read(&mut sim, y, r::RSS_BASE + r::RSS_TABLE + 4 * 63)?;
        sim_assert_eq!(sim, v, 2, y);
        // A queue's ring base (64-bit) and control word.
        let (y, _) = write(&mut sim, y, r::rxq(2, r::Q_DESC_LO), 0x8000_0040, 0xF)?;
        let (y, _) = write(&mut sim, y, r::rxq(2, r::Q_DESC_HI), 0x0000_0001, 0xF)?;
        let (y, lo) = read(&mut sim, y, r::rxq(2, r::Q_DESC_LO))?;
        let (y, hi) = read(&mut sim, y, r::rxq(2, r::Q_DESC_HI))?;
        sim_assert_eq!(sim, (hi, lo), (1u32, 0x8000_0040u32), y);
        let (y, _) = write(&mut sim, y, r::rxq(2, r::Q_CTRL), r::Q_CTRL_ENABLE | 9, 0xF)?;
        let (y, c) = read(&mut sim, y, r::rxq(2, r::Q_CTRL))?;
        sim_assert_eq!(sim, c, r::Q_CTRL_ENABLE | 9, y);
        // Doorbells of a TX and an RX queue one after the other.
        let (y, _) = write(&mut sim, y, r::txq(0, r::Q_PROD), 0x17, 0xF)?;
        let (y, _) = write(&mut sim, y, r::rxq(0, r::Q_PROD), 0x18, 0xF)?;
        let (y, t) = read(&mut sim, y, r::txq(0, r::Q_PROD))?;
        let (y, x) = read(&mut sim, y, r::rxq(0, r::Q_PROD))?;
        sim_assert_eq!(sim, (t, x), (0x17u32, 0x18u32), y);
        // A counter event, read LO then HI.
        let mut y = y;
        y.cnt_inc.next = 1u64.into();
        wait_clock_cycles!(sim, clock, y, 3);
        y.cnt_inc.next = 0u64.into();
        let (y, lo) = read(&mut sim, y, r::counter(r::Counter::RxFrames))?;
        let (y, hi) = read(&mut sim, y, r::counter(r::Counter::RxFrames) + 4)?;
        sim_assert_eq!(sim, (hi, lo), (0u32, 3u32), y);
        sim.done(y)
    });
    sim.run(Box::new(uut), 20_000).unwrap();
}
