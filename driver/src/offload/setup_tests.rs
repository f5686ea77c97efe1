//! Register sequences of the setup offload's commands and the active
//! open, on a register file shaped like the NIC's (with lanes).
use super::setup::*;
use crate::backend::{Backend, DmaRegion, Lane, Registers};
use crate::device::Device;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use toe_contract::regs as r;
use toe_contract::setup as s;

/// A register file shaped like the NIC's (ID, RSS, queues, counters and
/// setup blocks) that logs every write with the lane it came by and
/// plays the active-open command register: START sets the slot's
/// pending bit and clears its timed-out bit, ABORT clears both.
#[derive(Clone, Default)]
struct Fake {
    regs: Arc<Mutex<HashMap<u32, u32>>>,
    log: Arc<Mutex<Vec<(u32, u32, u32)>>>,
}

const SB: u32 = r::SETUP_BASE;

impl Fake {
    fn nic() -> Fake {
        let f = Fake::default();
        *f.regs.lock().unwrap() = crate::device::register_map(true);
        f
    }
    fn set(&self, off: u32, v: u32) {
        self.regs.lock().unwrap().insert(off, v);
    }
    fn get(&self, off: u32) -> u32 {
        *self.regs.lock().unwrap().get(&off).unwrap_or(&0)
    }
    fn write(&self, lane: u32, off: u32, val: u32) {
        // Give other threads every chance to interleave.
        std::thread::yield_now();
        self.log.lock().unwrap().push((lane, off, val));
        let mut m = self.regs.lock().unwrap();
        if off == SB + r::SETUP_CONN_CMD {
            let bit = 1u32 << (val & 0xF);
            let p = m.entry(SB + r::SETUP_CONN_PENDING).or_insert(0);
            if val & r::CONN_CMD_START != 0 {
                *p |= bit;
            } else {
                *p &= !bit;
            }
            *m.entry(SB + r::SETUP_CONN_TIMEDOUT).or_insert(0) &= !bit;
        } else if off == SB + r::SETUP_EST_FILTER {
            // A clear-all is over at once; bits are not kept.
            m.insert(off, 0);
        } else {
            m.insert(off, val);
        }
    }
    fn writes(&self) -> Vec<(u32, u32, u32)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Backend for Fake {
    fn describe(&self) -> String {
        "fake".into()
    }
    fn read32(&self, off: u32) -> u32 {
        self.get(off)
    }
    fn write32(&self, off: u32, val: u32) {
        self.write(0, off, val)
    }
    fn check(&self) -> Result<()> {
        Ok(())
    }
    fn alloc_dma(&mut self, _len: usize) -> Result<DmaRegion> {
        Err(Error::Config("no DMA in the fake".into()))
    }
    fn lane(&self, k: u32) -> Result<Box<Lane>> {
        Ok(Box::new(FakeLane(self.clone(), k)))
    }
}

struct FakeLane(Fake, u32);

impl Registers for FakeLane {
    fn describe(&self) -> String {
        format!("fake lane {}", self.1)
    }
    fn read32(&self, off: u32) -> u32 {
        self.0.get(off)
    }
    fn write32(&self, off: u32, val: u32) {
        self.0.write(self.1, off, val)
    }
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

fn params() -> SetupParams {
    SetupParams::matching(&crate::tcp::conn::Config::default(), *b"0123456789abcdef")
        .with_local([2, 0, 0, 0, 0, 1], &[[10, 0, 0, 1]])
}

/// With RSS off and its key never written, every tuple would hash to 0
/// and share one filter bit (every SYN would go to the host once one
/// connection exists): setup_configure gives the hash a secret key; a
/// key that is there stays.
#[test]
fn the_filter_hash_gets_a_key_when_rss_has_none() {
    let f = Fake::nic();
    let d = device(&f);
    d.setup_configure(&params()).unwrap();
    let key: Vec<u32> = (0..10)
        .map(|i| f.get(r::RSS_BASE + r::RSS_KEY + 4 * i))
        .collect();
    assert!(key.iter().any(|&w| w != 0), "no key written: {key:x?}");
    let filter = d.est_filter().unwrap();
    let idx: std::collections::HashSet<u16> = (0..64u16)
        .map(|p| filter.index(([10, 0, 0, 2], 20000 + p), ([10, 0, 0, 1], 80)))
        .collect();
    assert!(idx.len() > 50, "{} distinct bits for 64 tuples", idx.len());
    // A programmed key (RSS in use) is left alone.
    let f = Fake::nic();
    for i in 0..10 {
        f.set(r::RSS_BASE + r::RSS_KEY + 4 * i, 0x0101_0101 * (i + 1));
    }
    device(&f).setup_configure(&params()).unwrap();
    for i in 0..10 {
        assert_eq!(
            f.get(r::RSS_BASE + r::RSS_KEY + 4 * i),
            0x0101_0101 * (i + 1)
        );
    }
}

fn device(f: &Fake) -> Device {
    Device::open(Box::new(f.clone())).expect("the fake opens")
}

fn request(port: u16) -> s::ConnectRequest {
    s::ConnectRequest {
        syn: s::CtlRecord {
            dst_mac: [2, 0, 0, 0, 0, 2],
            src_mac: [2, 0, 0, 0, 0, 1],
            src: ([10, 0, 0, 1], port),
            dst: ([10, 0, 0, 2], 80),
            seq: 0x1234_5678 ^ port as u32,
            ack: 0,
            flags: s::TCP_SYN,
            window: 65535,
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            ts: Some((99, 0)),
        },
        ack_window: 512,
    }
}

#[test]
fn configuration_is_validated_and_written() {
    let f = Fake::nic();
    let d = device(&f);
    let e = d.connect_configure(0, 3).unwrap_err().to_string();
    assert!(e.contains("timeout of 0 ticks"), "{e}");
    let e = d.connect_configure(10, 11).unwrap_err().to_string();
    assert!(
        e.contains("11 SYN retransmissions") && e.contains("at most 10"),
        "{e}"
    );
    assert!(
        f.writes().is_empty(),
        "nothing written for a bad configuration"
    );
    d.connect_configure(250, 2).unwrap();
    assert_eq!(f.get(SB + r::SETUP_CONN_RTO), 250);
    assert_eq!(f.get(SB + r::SETUP_CONN_RETRIES), 2);
    let c = d.nic_connector().unwrap();
    assert_eq!(c.timing(), (250, 2));
    // 250_000 cycles at 250 MHz: 1 ms ticks.
    assert_eq!(c.tick(), std::time::Duration::from_millis(1));
    assert_eq!(c.first_rto(), std::time::Duration::from_millis(250));
    // SYNs at 0, 250, 750 ms; the last waited for 1 s.
    assert_eq!(c.give_up(), std::time::Duration::from_millis(1750));
}

#[test]
fn a_connector_needs_slots_and_a_running_clock() {
    let f = Fake::nic();
    let d = device(&f);
    let c = d.nic_connector().unwrap();
    assert_eq!(
        c.timing(),
        (s::DEFAULT_CONNECT_RTO, s::DEFAULT_CONNECT_RETRIES),
        "the reset values until configured"
    );
    f.set(SB + r::SETUP_TS_PERIOD, 0);
    let e = d.nic_connector().unwrap_err().to_string();
    assert!(e.contains("timestamp clock is stopped"), "{e}");
    d.setup_set_ts_period(500_000).unwrap();
    assert_eq!(
        d.nic_connector().unwrap().tick(),
        std::time::Duration::from_millis(2)
    );
    f.set(SB + r::SETUP_CONN_SLOTS, 0);
    let e = d.nic_connector().unwrap_err().to_string();
    assert!(e.contains("reports 0 slots"), "{e}");
}

#[test]
fn a_start_stages_the_record_then_commands_the_claimed_slot() {
    let f = Fake::nic();
    let d = device(&f);
    let req = request(40001);
    let e = d.connect_start(&req).unwrap_err().to_string();
    assert!(e.contains("slot 1") && e.contains("not claimed"), "{e}");
    assert!(f.writes().is_empty());
    assert!(d.connect_claim(1));
    assert!(!d.connect_claim(1), "a slot is claimed once");
    d.connect_start(&req).unwrap();
    let w = f.writes();
    let mut want: Vec<(u32, u32, u32)> = req
        .syn
        .words()
        .iter()
        .enumerate()
        .map(|(i, &v)| (0, SB + r::SETUP_CONN_REC + 4 * i as u32, v))
        .collect();
    want.push((0, SB + r::SETUP_CONN_ACK_WIN, 512));
    want.push((0, SB + r::SETUP_CONN_CMD, r::CONN_CMD_START | 1));
    assert_eq!(w, want);
    assert_eq!(d.connect_pending().unwrap(), 1 << 1);
    assert_eq!(d.connect_timed_out().unwrap(), 0);
    f.set(SB + r::SETUP_CONN_TIMEDOUT, 1 << 1);
    assert_eq!(d.connect_timed_out().unwrap(), 1 << 1);
    d.connect_abort(1).unwrap();
    assert_eq!(
        f.writes(),
        vec![(0, SB + r::SETUP_CONN_CMD, r::CONN_CMD_ABORT | 1)]
    );
    assert_eq!(d.connect_pending().unwrap(), 0);
    d.connect_release(1);
    assert!(d.connect_claim(1), "released slots can be claimed again");
    let e = d.connect_abort(16).unwrap_err().to_string();
    assert!(e.contains("slot 16 out of range"), "{e}");
    assert!(!d.connect_claim(16));
}

#[test]
fn records_that_are_not_a_sendable_syn_are_refused() {
    let f = Fake::nic();
    let d = device(&f);
    assert!(d.connect_claim(1));
    let mut req = request(40001);
    req.syn.flags = s::TCP_SYN | s::TCP_ACK;
    let e = d.connect_start(&req).unwrap_err().to_string();
    assert!(e.contains("not a plain SYN"), "{e}");
    let mut req = request(40001);
    req.syn.dst_mac = [0; 6];
    let e = d.connect_start(&req).unwrap_err().to_string();
    assert!(e.contains("not a unicast address"), "{e}");
    let mut req = request(40001);
    req.syn.wscale = Some(15);
    let e = d.connect_start(&req).unwrap_err().to_string();
    assert!(e.contains("window scale 15"), "{e}");
    let mut req = request(40001);
    req.syn.dst.1 = 0;
    let e = d.connect_start(&req).unwrap_err().to_string();
    assert!(e.contains("port 0"), "{e}");
    assert!(f.writes().is_empty(), "nothing staged for a refused record");
}

#[test]
fn starts_from_many_lanes_never_interleave_their_records() {
    let f = Fake::nic();
    let d = device(&f);
    let c = d.nic_connector().unwrap();
    let threads: Vec<_> = (1..=4u32)
        .map(|k| {
            let lane = d.backend().lane(k).unwrap();
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..50u16 {
                    // Thread k uses slots 4(k-1) .. 4(k-1)+3.
                    let port = 40000 + 4 * (k as u16 - 1) + (i % 4);
                    let slot = s::connect_slot(port);
                    while !c.slots().claim(slot) {
                        std::thread::yield_now();
                    }
                    c.start(&lane, &request(port)).unwrap();
                    c.abort(&lane, slot).unwrap();
                    c.slots().release(slot);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let w = f.writes();
    assert_eq!(w.len(), 4 * 50 * 15);
    // Every START is the last of 14 writes in a row from its lane,
    // holding exactly that request's record.
    let mut starts = 0;
    for (i, &(lane, off, val)) in w.iter().enumerate() {
        if off == SB + r::SETUP_CONN_CMD && val & r::CONN_CMD_START != 0 {
            starts += 1;
            let run = &w[i - 13..i];
            assert!(run.iter().all(|x| x.0 == lane), "interleaved: {run:?}");
            let mut words = [0u32; 12];
            for (j, x) in run[..12].iter().enumerate() {
                assert_eq!(x.1, SB + r::SETUP_CONN_REC + 4 * j as u32);
                words[j] = x.2;
            }
            let rec = s::CtlRecord::from_words(&words);
            assert_eq!(s::connect_slot(rec.src.1) as u32, val & 0xF);
            assert_eq!(rec, request(rec.src.1).syn);
        }
    }
    assert_eq!(starts, 200);
    assert_eq!(c.slots().claimed(), 0);
}
