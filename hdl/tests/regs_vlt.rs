//! The BAR0 register file (`toe_hdl::regs::RegFile`) in Verilator, driven
//! cycle by cycle (step mode) by an AXI4-Lite master that holds each
//! request until it is taken and offers address and data of a write in
//! either order, with random gaps, back-to-back requests, reads while
//! writes are in flight and random `bready`/`rready` backpressure, while
//! counter events and consumer indices change every cycle.  Checked
//! against a plain Rust reference (common/regs_ref.rs), every cycle:
//!
//! * every response: its data (reads sample the registers in the cycle
//!   after the address handshake, the offload ports' `ext_p_rdata` included),
//!   its AXI response, its exact cycle (`READ_LATENCY` after the address
//!   handshake; `WRITE_LATENCY` after the later of a write's handshakes or
//!   after the previous response was taken), and that it stays unchanged
//!   until taken; no response without a request;
//! * every configuration output against the reference's registers, with a
//!   write's effect visible from the cycle its response rises, and the
//!   queue-reset pulse in exactly that cycle;
//! * the setup block's write strobe in exactly the cycle before the
//!   response of a write in its range, with its offset and data, on both
//!   of the block's register ports (`ext_0`, `ext_1`: `SetupRegs` and
//!   `Connect` in the chip), which also see the same read offset; the two
//!   ports answer disjoint halves of the block (`port_value`), so a read
//!   shows that both ports' `rdata` are sampled and ORed;
//! * that no output changes with the inputs of its own cycle (the outputs
//!   before and after the inputs are applied are equal);
//! * 64-bit counters read LO then HI against the value at the LO read;
//!   an event is counted in the cycle after it is presented (the events
//!   are registered before the counters' adders).
//!
//! A directed sequence comes first, then random traffic with a reset in
//! the middle; then `verilator --lint-only -Wall`.  `TOE_SEED=n` replays.
mod common;
#[path = "common/regs_ref.rs"]
mod regs_ref;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use regs_ref::{read_kind, ReadKind, RegsRef, WriteEffect};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use std::collections::VecDeque;
use toe_contract::regs as r;
use toe_hdl::regs::{RegFile, READ_LATENCY, WRITE_LATENCY};

const RANDOM_CYCLES: u64 = 160_000;

// Inputs, in the order given to the block.
const I_RST: usize = 0;
const I_AWADDR: usize = 1;
const I_AWVALID: usize = 2;
const I_WDATA: usize = 3;
const I_WSTRB: usize = 4;
const I_WVALID: usize = 5;
const I_BREADY: usize = 6;
const I_ARADDR: usize = 7;
const I_ARVALID: usize = 8;
const I_RREADY: usize = 9;
const I_CONS: usize = 10;
const I_CNT_INC: usize = 11;
const I_RXQ_EVT: usize = 12;
const I_RXQ_ID: usize = 13;
const I_RXQ_LEN: usize = 14;
const I_TXQ_EVT: usize = 15;
const I_TXQ_ID: usize = 16;
const I_TXQ_LEN: usize = 17;
const I_EXT_RDATA: usize = 18;
const I_EXT1_RDATA: usize = 19;
const INPUTS: usize = 20;
// Outputs.
const O_AWREADY: usize = 0;
const O_WREADY: usize = 1;
const O_BRESP: usize = 2;
const O_BVALID: usize = 3;
const O_ARREADY: usize = 4;
const O_RDATA: usize = 5;
const O_RRESP: usize = 6;
const O_RVALID: usize = 7;
const O_DROP: usize = 8;
const O_MAXF: usize = 9;
const O_RSS_EN: usize = 10;
const O_BUSES: usize = 11; // rss_key .. prod, in RegsRef::buses order except qreset
const O_QRESET: usize = 17;
const O_EXT_WE: usize = 18;
const O_EXT_WADDR: usize = 19;
const O_EXT_WDATA: usize = 20;
const O_EXT_RADDR: usize = 21;
/// The second register port's outputs, in the same order.
const O_EXT1_WE: usize = 22;

fn block() -> VltBlock {
    let mut uut = RegFile::default();
    uut.connect_all();
    let b = VltBlock::new("regs", generate_verilog(&uut).replace('$', "_"), "top")
        .clock("clock")
        .input("rst", 1)
        .input("awaddr", 16)
        .input("awvalid", 1)
        .input("wdata", 32)
        .input("wstrb", 4)
        .input("wvalid", 1)
        .input("bready", 1)
        .input("araddr", 16)
        .input("arvalid", 1)
        .input("rready", 1)
        .input("cons", 128)
        .input("cnt_inc", 24)
        .input("rxq_evt", 1)
        .input("rxq_id", 2)
        .input("rxq_len", 16)
        .input("txq_evt", 1)
        .input("txq_id", 2)
        .input("txq_len", 16)
        .input("ext_0_rdata", 32)
        .input("ext_1_rdata", 32);
    assert_eq!(b.inputs.len(), INPUTS);
    b.output("awready", 1)
        .output("wready", 1)
        .output("bresp", 2)
        .output("bvalid", 1)
        .output("arready", 1)
        .output("rdata", 32)
        .output("rresp", 2)
        .output("rvalid", 1)
        .output("drop_bad_csum", 1)
        .output("max_frame", 16)
        .output("rss_enable", 1)
        .output("rss_key", 320)
        .output("rss_table", 128)
        .output("desc_base", 512)
        .output("cpl_base", 512)
        .output("qctl_out", 64)
        .output("prod", 128)
        .output("qreset", 8)
        .output("ext_0_we", 1)
        .output("ext_0_waddr", 16)
        .output("ext_0_wdata", 32)
        .output("ext_0_raddr", 16)
        .output("ext_1_we", 1)
        .output("ext_1_waddr", 16)
        .output("ext_1_wdata", 32)
        .output("ext_1_raddr", 16)
}

/// What the setup block answers for offset `off` in cycle `t`: changes
/// every cycle, so a sample taken in the wrong cycle shows.
fn ext_value(off: u16, t: u64) -> u32 {
    let x = (off as u64) << 32 ^ t.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x ^ x >> 29).wrapping_mul(0xBF58_476D_1CE4_E5B9) as u32
}

/// What register port `port` of the setup block answers: port 0 the
/// offsets with bit 2 clear, port 1 those with bit 2 set (zero elsewhere,
/// as a module without a register there must).
fn port_value(port: u16, off: u16, t: u64) -> u32 {
    if (off >> 2) & 1 == port {
        ext_value(off ^ port << 12, t)
    } else {
        0
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Write(u16, u32, u32),
    Read(u16),
}

/// Interesting aligned addresses: every register, the edges of every
/// range, holes, the setup block, the queue windows.
fn addresses() -> Vec<u16> {
    let mut v: Vec<u32> = vec![];
    v.extend((0..=0x28).step_by(4));
    v.extend((0x100..0x150).step_by(4));
    v.extend([0x230, 0x234, 0x238, 0x23C, 0x240, 0x244, 0x2FC]);
    v.extend((0x300..=0x310).step_by(4));
    v.extend((0x400..=0x420).step_by(4));
    v.extend((0x4B0..=0x4D8).step_by(4));
    v.extend([0x5FC, 0x600, 0x604, 0x6FC, 0x700, 0x7FC]);
    for q in 0..4 {
        for reg in (0..0x40).step_by(4) {
            v.push(r::txq(q, reg));
            v.push(r::rxq(q, reg));
        }
    }
    v.extend([0x0FFC, 0x1100, 0x1140, 0x2100, 0x3000, 0xFFFC]);
    v.into_iter().map(|a| a as u16).collect()
}

fn random_op(rnd: &mut impl FnMut() -> u64, addrs: &[u16]) -> Op {
    let x = rnd();
    let a = match x % 16 {
        0 => (rnd() as u16) & !3,
        // The flooded counter's words (see the test), so that HI words
        // with bits set are read.
        1 => r::rxq(2, r::Q_BYTES_LO) as u16,
        2 => r::rxq(2, r::Q_BYTES_HI) as u16,
        _ => addrs[(x >> 8) as usize % addrs.len()],
    };
    if (x >> 40) % 3 == 0 {
        let mut data = rnd() as u32;
        if let Some((_, r::Q_CTRL)) = regs_ref::queue_window(a) {
            data &= 0x8000_000F;
        }
        let strb = if (x >> 44) % 10 == 0 {
            (rnd() % 16) as u32
        } else {
            0xF
        };
        Op::Write(a, data, strb)
    } else {
        Op::Read(a)
    }
}

/// The directed sequence: the block chain, every register written and
/// read back, a partial write, a queue reset, the setup block, counters.
fn directed() -> Vec<Op> {
    let mut v = vec![];
    for a in addresses() {
        v.push(Op::Read(a));
    }
    let mut k = 0x1357_9BDFu32;
    for a in addresses() {
        k = k.rotate_left(7) ^ 0xA5A5_1234;
        let data = match regs_ref::queue_window(a) {
            Some((_, r::Q_CTRL)) => k & 0x8000_000F,
            _ => k,
        };
        v.push(Op::Write(a, data, 0xF));
        v.push(Op::Read(a));
    }
    v.push(Op::Write(r::ID_SCRATCH as u16, 0xFFFF_FFFF, 0x3));
    v.push(Op::Read(r::ID_SCRATCH as u16));
    v.push(Op::Write(r::txq(1, r::Q_PROD) as u16, 0x55, 0xF));
    v.push(Op::Write(
        r::txq(1, r::Q_CTRL) as u16,
        r::Q_CTRL_ENABLE | 5,
        0xF,
    ));
    v.push(Op::Read(r::txq(1, r::Q_PROD) as u16));
    for c in [0u32, 13, 23] {
        let lo = (r::COUNTERS_BASE + r::CNT_FIRST + 8 * c) as u16;
        v.push(Op::Read(lo));
        v.push(Op::Read(lo + 4));
    }
    for q in 0..4 {
        for reg in [r::Q_PKTS_LO, r::Q_BYTES_LO] {
            v.push(Op::Read(r::rxq(q, reg) as u16));
            v.push(Op::Read(r::rxq(q, reg + 4) as u16));
            v.push(Op::Read(r::txq(q, reg) as u16));
            v.push(Op::Read(r::txq(q, reg + 4) as u16));
        }
    }
    v
}

struct WriteOp {
    addr: u16,
    data: u32,
    strb: u32,
    aw_t: Option<u64>,
    w_t: Option<u64>,
}

impl WriteOp {
    fn new(addr: u16, data: u32, strb: u32) -> WriteOp {
        WriteOp {
            addr,
            data,
            strb,
            aw_t: None,
            w_t: None,
        }
    }
}

struct PendingWrite {
    addr: u16,
    data: u32,
    strb: u32,
    /// Cycle of the later of its two handshakes.
    done: u64,
}

#[derive(Default)]
struct Coverage {
    reads: u64,
    writes: u64,
    slverr: u64,
    ext_writes: u64,
    ext_reads: u64,
    ext1_reads: u64,
    qresets: u64,
    hi_nonzero: u64,
    back_to_back_reads: u64,
    reads_during_writes: u64,
    w_before_aw: u64,
    rready_stalls: u64,
    bready_stalls: u64,
    resets: u64,
}

#[test]
fn regs_verilated_matches_reference() {
    let mut rnd = seeded_rng();
    let b = block();
    let t0 = std::time::Instant::now();
    let mut st = b.start();
    println!("built and started in {:.1?}", t0.elapsed());
    let addrs = addresses();
    let mut ops: VecDeque<Op> = directed().into();
    let mut reference = RegsRef::new();
    let mut pending_events = None;
    // Master state: writes not yet fully handed over (with the cycles of
    // their address and data handshakes), reads not yet offered, the
    // request on each channel.
    let mut writes: VecDeque<WriteOp> = VecDeque::new();
    let mut rq: VecDeque<u16> = VecDeque::new();
    let mut aw_cur: Option<usize> = None;
    let mut w_cur: Option<usize> = None;
    let mut ar_cur: Option<u16> = None;
    let mut wr_done: VecDeque<PendingWrite> = VecDeque::new();
    // Reads: handshakes waiting for their sample, samples waiting for R.
    let mut ar_hs: VecDeque<(u16, u64)> = VecDeque::new();
    let mut r_expect: VecDeque<(u16, u32, u64)> = VecDeque::new();
    let mut b_seen = false;
    let mut r_seen: Option<u32> = None;
    let mut last_b_hs: Option<u64> = None;
    let mut last_r_hs: Option<u64> = None;
    let mut ext_pulse: Option<(u64, u16, u32)> = None;
    // The last LO counter read (counter, its 64-bit value) for the HI check.
    let mut last_lo: Option<u64> = None;
    let mut cons = [0u16; 8];
    let mut cov = Coverage::default();
    let mut in_reset = true;
    let mut random_left = RANDOM_CYCLES;
    let mut flood: Option<(bool, usize)> = None;
    let mut t: u64 = 0;
    loop {
        let pre = st.peek().to_vec();
        let bit = |i: usize| pre[i].bit();
        if !in_reset {
            // -------------------------------------------- write responses
            let mut qreset_expect = 0u8;
            let mut b_rise: Option<WriteEffect> = None;
            if bit(O_BVALID) && !b_seen {
                let w = wr_done
                    .pop_front()
                    .unwrap_or_else(|| panic!("cycle {t}: bvalid with no write taken"));
                let due = w.done.max(last_b_hs.unwrap_or(0)) + WRITE_LATENCY as u64;
                assert_eq!(
                    t, due,
                    "write response to {:#06x} in cycle {t}, expected in {due}",
                    w.addr
                );
                let e = reference.write(w.addr, w.data, w.strb);
                assert_eq!(
                    pre[O_BRESP].u64() as u32,
                    e.resp,
                    "cycle {t}: bresp of the write of {:#010x} to {:#06x} (strobes {:#x})",
                    w.data,
                    w.addr,
                    w.strb
                );
                cov.writes += 1;
                cov.slverr += (e.resp != 0) as u64;
                cov.qresets += (e.qreset != 0) as u64;
                qreset_expect = e.qreset;
                b_rise = Some(e);
                b_seen = true;
            }
            // The setup block's strobe of the cycle before.
            let ext_expect = b_rise.and_then(|e| e.ext);
            match (ext_pulse.take(), ext_expect) {
                (None, None) => {}
                (Some((c, off, data)), Some((eoff, edata))) => {
                    assert_eq!(
                        (c + 1, off, data),
                        (t, eoff, edata),
                        "setup block write strobe (cycle, offset, data)"
                    );
                    cov.ext_writes += 1;
                }
                (p, e) => panic!("cycle {t}: setup block write strobe {p:x?}, expected {e:x?}"),
            }
            // Both ports of the block see the same strobe and read offset.
            assert_eq!(
                pre[O_EXT1_WE..O_EXT1_WE + 4],
                pre[O_EXT_WE..O_EXT_WE + 4],
                "cycle {t}: register port 1 (we, waddr, wdata, raddr) differs from port 0"
            );
            if bit(O_EXT_WE) {
                ext_pulse = Some((
                    t,
                    pre[O_EXT_WADDR].u64() as u16,
                    pre[O_EXT_WDATA].u64() as u32,
                ));
            }
            // -------------------------------------------- configuration
            let buses = reference.buses();
            let names = [
                "rss_key",
                "rss_table",
                "desc_base",
                "cpl_base",
                "qctl_out",
                "prod",
            ];
            for (k, want) in buses.iter().enumerate() {
                assert_eq!(
                    pre[O_BUSES + k],
                    Val(want.clone()),
                    "cycle {t}: {} differs from the reference",
                    names[k]
                );
            }
            assert_eq!(
                (
                    bit(O_DROP),
                    pre[O_MAXF].u64() as u16,
                    bit(O_RSS_EN),
                    pre[O_QRESET].u64() as u8
                ),
                (
                    reference.ctrl & 1 == 1,
                    reference.max_frame,
                    reference.rss_ctrl,
                    qreset_expect
                ),
                "cycle {t}: (drop_bad_csum, max_frame, rss_enable, qreset)"
            );
        }
        // ------------------------------------------------ this cycle's inputs
        let mut inp = vec![Val::from(0u64); INPUTS];
        let rst = t == 0 || (random_left == RANDOM_CYCLES / 2 && ops.is_empty());
        if t % 7 == 0 {
            let q = (rnd() % 8) as usize;
            cons[q] = cons[q].wrapping_add((rnd() % 5) as u16);
        }
        let mut cons_v = vec![0u64; 2];
        for (q, c) in cons.iter().enumerate() {
            regs_ref::put(&mut cons_v, 16 * q, 16, *c as u64);
        }
        inp[I_CONS] = Val(cons_v);
        let raddr = pre[O_EXT_RADDR].u64() as u16;
        inp[I_EXT_RDATA] = (port_value(0, raddr, t) as u64).into();
        inp[I_EXT1_RDATA] = (port_value(1, pre[O_EXT1_WE + 3].u64() as u16, t) as u64).into();
        if !in_reset {
            // -------------------------------------------- read samples
            while let Some(&(a, hs)) = ar_hs.front() {
                if hs + 1 != t {
                    assert!(hs + 1 > t);
                    break;
                }
                ar_hs.pop_front();
                let kind = read_kind(a);
                let before_hi = reference.hi_snap;
                let v = reference.read(a, &cons, |off| {
                    port_value(0, off, t) | port_value(1, off, t)
                });
                match kind {
                    ReadKind::CounterLo(i) => last_lo = Some(reference.cnt[i]),
                    ReadKind::CounterHi => {
                        cov.hi_nonzero += (before_hi != 0) as u64;
                        if let Some(lo) = last_lo {
                            assert_eq!(v, (lo >> 32) as u32, "HI word after its LO read");
                        }
                    }
                    ReadKind::Other => {}
                }
                let in_block = (a as u32) >> 8 == r::SETUP_BASE >> 8;
                cov.ext_reads += in_block as u64;
                cov.ext1_reads += (in_block && (a >> 2) & 1 == 1) as u64;
                r_expect.push_back((a, v, hs + READ_LATENCY as u64));
            }
            // -------------------------------------------- read responses
            if bit(O_RVALID) {
                match r_seen {
                    None => {
                        let (a, v, due) = r_expect
                            .pop_front()
                            .unwrap_or_else(|| panic!("cycle {t}: rvalid with no read taken"));
                        assert_eq!(t, due, "read response of {a:#06x}: cycle");
                        assert_eq!(
                            pre[O_RDATA].u64() as u32,
                            v,
                            "cycle {t}: read of {a:#06x}: got {:#010x}, reference {v:#010x}",
                            pre[O_RDATA].u64()
                        );
                        assert_eq!(pre[O_RRESP].u64(), 0, "rresp");
                        cov.reads += 1;
                        r_seen = Some(v);
                    }
                    Some(v) => assert_eq!(
                        pre[O_RDATA].u64() as u32,
                        v,
                        "cycle {t}: rdata changed while waiting"
                    ),
                }
            }
        }
        inp[I_RST] = rst.into();
        let mut cnt_inc = 0u32;
        let mut rx_ev = None;
        let mut tx_ev = None;
        let mut ar_now = false;
        if !rst {
            // -------------------------------------------- master
            let idle = writes.is_empty()
                && rq.is_empty()
                && ar_cur.is_none()
                && wr_done.is_empty()
                && ar_hs.is_empty()
                && r_expect.is_empty()
                && r_seen.is_none();
            if !ops.is_empty() {
                // Directed: one access at a time, as the driver's BFM.
                if idle {
                    match ops.pop_front().unwrap() {
                        Op::Write(a, d, s) => writes.push_back(WriteOp::new(a, d, s)),
                        Op::Read(a) => rq.push_back(a),
                    }
                }
            } else if random_left > 0 && writes.len() + rq.len() < 4 {
                // Random: accesses queued on both channels.
                match random_op(&mut rnd, &addrs) {
                    Op::Write(a, d, s) => writes.push_back(WriteOp::new(a, d, s)),
                    Op::Read(a) => rq.push_back(a),
                }
            }
            let eager = !ops.is_empty() || rnd() % 4 != 0;
            if aw_cur.is_none() && (eager || rnd() % 2 == 0) {
                // The first write whose address is not taken, with at
                // most three writes between address and response.
                if let Some(k) = writes.iter().position(|w| w.aw_t.is_none()) {
                    if wr_done.len() + k < 3 {
                        aw_cur = Some(k);
                    }
                }
            }
            if w_cur.is_none() && (eager || rnd() % 2 == 0) {
                // The data may run one write ahead of the addresses.
                let addressed = writes.iter().filter(|w| w.aw_t.is_some()).count();
                if let Some(k) = writes.iter().position(|w| w.w_t.is_none()) {
                    if k <= addressed && wr_done.len() + k < 3 {
                        w_cur = Some(k);
                    }
                }
            }
            if ar_cur.is_none() && eager {
                ar_cur = rq.pop_front();
            }
            if let Some(k) = aw_cur {
                inp[I_AWADDR] = (writes[k].addr as u64).into();
                inp[I_AWVALID] = true.into();
            }
            if let Some(k) = w_cur {
                inp[I_WDATA] = (writes[k].data as u64).into();
                inp[I_WSTRB] = (writes[k].strb as u64).into();
                inp[I_WVALID] = true.into();
            }
            if let Some(a) = ar_cur {
                inp[I_ARADDR] = (a as u64).into();
                inp[I_ARVALID] = true.into();
                ar_now = true;
            }
            let phase = (t / 3000) % 4;
            let ready_p = [100, 70, 30, 90][phase as usize];
            inp[I_BREADY] = (rnd() % 100 < ready_p).into();
            inp[I_RREADY] = (rnd() % 100 < ready_p).into();
            // -------------------------------------------- counter events
            cnt_inc = (rnd() & rnd() & 0xFF_FFFF) as u32;
            if let Some((rx, q)) = flood {
                let ev = Some((q, 0xFFFF));
                if rx {
                    rx_ev = ev
                } else {
                    tx_ev = ev
                }
            } else {
                if rnd() % 2 == 0 {
                    rx_ev = Some(((rnd() % 4) as usize, rnd() as u16));
                }
                if rnd() % 2 == 0 {
                    tx_ev = Some(((rnd() % 4) as usize, rnd() as u16));
                }
            }
        }
        inp[I_CNT_INC] = (cnt_inc as u64).into();
        if let Some((q, len)) = rx_ev {
            inp[I_RXQ_EVT] = true.into();
            inp[I_RXQ_ID] = (q as u64).into();
            inp[I_RXQ_LEN] = (len as u64).into();
        }
        if let Some((q, len)) = tx_ev {
            inp[I_TXQ_EVT] = true.into();
            inp[I_TXQ_ID] = (q as u64).into();
            inp[I_TXQ_LEN] = (len as u64).into();
        }
        // ------------------------------------------------ the cycle
        let post = st.step(&inp);
        for (i, (a, b)) in pre.iter().zip(&post).enumerate() {
            assert_eq!(
                a,
                b,
                "cycle {t}: output {} changed with this cycle's inputs",
                block().outputs[i].name
            );
        }
        // ------------------------------------------------ handshakes
        if !rst {
            let pb = |i: usize| post[i].bit();
            if inp[I_AWVALID].bit() && pb(O_AWREADY) {
                let k = aw_cur.take().unwrap();
                writes[k].aw_t = Some(t);
            }
            if inp[I_WVALID].bit() && pb(O_WREADY) {
                let k = w_cur.take().unwrap();
                writes[k].w_t = Some(t);
                if writes[k].aw_t.is_none() {
                    cov.w_before_aw += 1;
                }
            }
            while let Some(w) = writes.front() {
                let (Some(ta), Some(tw)) = (w.aw_t, w.w_t) else {
                    break;
                };
                wr_done.push_back(PendingWrite {
                    addr: w.addr,
                    data: w.data,
                    strb: w.strb,
                    done: ta.max(tw),
                });
                writes.pop_front();
                // Indices of the requests on the channels move down by one.
                aw_cur = aw_cur.map(|k| k - 1);
                w_cur = w_cur.map(|k| k - 1);
            }
            if ar_now && pb(O_ARREADY) {
                let a = ar_cur.take().unwrap();
                if last_r_hs.is_some_and(|c| c + 1 >= t) {
                    cov.back_to_back_reads += 1;
                }
                if !wr_done.is_empty() || writes.iter().any(|w| w.aw_t.is_some() || w.w_t.is_some())
                {
                    cov.reads_during_writes += 1;
                }
                ar_hs.push_back((a, t));
            }
            if pb(O_BVALID) {
                if inp[I_BREADY].bit() {
                    b_seen = false;
                    last_b_hs = Some(t);
                } else {
                    cov.bready_stalls += 1;
                }
            }
            if pb(O_RVALID) {
                if inp[I_RREADY].bit() {
                    r_seen = None;
                    last_r_hs = Some(t);
                } else {
                    cov.rready_stalls += 1;
                }
            }
        }
        // Events are registered before the counters: counted a cycle later.
        if let Some((i, r, x)) = pending_events.replace((cnt_inc, rx_ev, tx_ev)) {
            reference.count(i, r, x);
        }
        if rst {
            pending_events = None;
            reference = RegsRef::new();
            aw_cur = None;
            w_cur = None;
            ar_cur = None;
            writes.clear();
            rq.clear();
            wr_done.clear();
            ar_hs.clear();
            r_expect.clear();
            b_seen = false;
            r_seen = None;
            last_b_hs = None;
            last_r_hs = None;
            ext_pulse = None;
            last_lo = None;
            cov.resets += 1;
        }
        in_reset = rst;
        t += 1;
        if ops.is_empty() {
            if random_left == 0 {
                break;
            }
            random_left -= 1;
            // Flood RX queue 2's byte counter past 2^32 (66,000 cycles of
            // 65,535-byte events) in the first half, so HI words are read.
            flood = match random_left {
                x if x > RANDOM_CYCLES / 2 + 1000 => Some((true, 2)),
                _ => None,
            };
        }
    }
    // Drain: the last responses are checked above or are in flight.
    println!("{t} cycles in {:.1?}", t0.elapsed());
    println!(
        "reads {} writes {} slverr {} ext writes {} ext reads {} (port 1 {}) queue resets {} HI reads nonzero {} \
         back-to-back reads {} reads during writes {} data before address {} rready stalls {} \
         bready stalls {} resets {}",
        cov.reads,
        cov.writes,
        cov.slverr,
        cov.ext_writes,
        cov.ext_reads,
        cov.ext1_reads,
        cov.qresets,
        cov.hi_nonzero,
        cov.back_to_back_reads,
        cov.reads_during_writes,
        cov.w_before_aw,
        cov.rready_stalls,
        cov.bready_stalls,
        cov.resets
    );
    assert!(cov.reads > 10_000 && cov.writes > 5_000, "too few accesses");
    assert!(cov.slverr > 100 && cov.ext_writes > 50 && cov.ext_reads > 50 && cov.ext1_reads > 20);
    assert!(cov.qresets > 50 && cov.hi_nonzero > 20);
    assert!(cov.back_to_back_reads > 1000 && cov.reads_during_writes > 1000);
    assert!(cov.w_before_aw > 100 && cov.rready_stalls > 1000 && cov.bready_stalls > 1000);
    assert!(cov.resets == 2);
}

#[test]
fn regs_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
