//! Plain Rust reference for the completion coalescer's test
//! (hdl/tests/cpl_coalesce_vlt.rs), from docs/contract.md: where a
//! completion request goes (ring base + 32 * slot, slot = index & (size -
//! 1)) and what record is written there (the engine's record with the
//! index in bits 15:0 and the phase bit 255 set on even passes over the
//! ring), and a checker of the lines the block hands out: every record
//! once, in each engine's order, at its address, two records in a line
//! only when they are its two halves.
#![allow(dead_code)]

use std::collections::VecDeque;

/// A completion request as an engine sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Req {
    /// The engine's record (bits 255:0; index and phase are overwritten).
    pub rec: [u64; 4],
    /// Ring 0..7 (TX queues 0..3, RX queues 4..7).
    pub ring: usize,
    pub index: u16,
}

impl Req {
    /// The 275-bit request word: record, ring (258:256), index (274:259).
    pub fn word(&self) -> Vec<u64> {
        let mut w = self.rec.to_vec();
        w.push(self.ring as u64 | (self.index as u64) << 3);
        w
    }
}

/// Where a record goes and what it is: (line address, half, record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub line: u64,
    pub half: usize,
    pub rec: [u64; 4],
}

pub fn place(req: &Req, base: &[u64; 8], log2: &[u32; 8]) -> Placed {
    let l = log2[req.ring];
    let slot = req.index as u64 & ((1u64 << l) - 1);
    let addr = base[req.ring].wrapping_add(32 * slot);
    let mut rec = req.rec;
    rec[0] = (rec[0] & !0xFFFF) | req.index as u64;
    let phase = (req.index as u64 >> l) & 1 == 0;
    rec[3] = (rec[3] & !(1 << 63)) | (phase as u64) << 63;
    Placed {
        line: addr & !63,
        half: ((addr >> 5) & 1) as usize,
        rec,
    }
}

/// Records expected from each engine, in order.
#[derive(Default)]
pub struct Checker {
    pub rx: VecDeque<Placed>,
    pub tx: VecDeque<Placed>,
    pub lines: u64,
    pub full_lines: u64,
}

impl Checker {
    /// A line taken: its address, data (8 limbs) and strobes.  Its records
    /// must be the next 0 to 2 of each engine.
    pub fn take(&mut self, addr: u64, data: &[u64], strb: u64) -> Result<(), String> {
        if addr % 64 != 0 {
            return Err(format!("line address {addr:#x} not 64-byte aligned"));
        }
        let mut got: Vec<Placed> = vec![];
        for (half, mask) in [(0, 0xFFFF_FFFFu64), (1, 0xFFFF_FFFF_0000_0000u64)] {
            match strb & mask {
                0 => {}
                m if m == mask => got.push(Placed {
                    line: addr,
                    half,
                    rec: data[4 * half..4 * half + 4].try_into().unwrap(),
                }),
                _ => {
                    return Err(format!(
                        "strobes {strb:#018x}: a record half written in part"
                    ))
                }
            }
        }
        if got.is_empty() {
            return Err("a line with no strobe".into());
        }
        for krx in 0..=got.len() {
            let ktx = got.len() - krx;
            if krx > self.rx.len() || ktx > self.tx.len() {
                continue;
            }
            let mut want: Vec<Placed> = self.rx.iter().take(krx).copied().collect();
            want.extend(self.tx.iter().take(ktx).copied());
            let all = got.iter().all(|g| want.contains(g)) && want.iter().all(|w| got.contains(w));
            if all {
                self.rx.drain(..krx);
                self.tx.drain(..ktx);
                self.lines += 1;
                self.full_lines += (got.len() == 2) as u64;
                return Ok(());
            }
        }
        Err(format!(
            "line {addr:#x} strobes {strb:#018x}: records {got:x?} are not the next of RX {:x?} / TX {:x?}",
            self.rx.iter().take(2).collect::<Vec<_>>(),
            self.tx.iter().take(2).collect::<Vec<_>>()
        ))
    }
}
