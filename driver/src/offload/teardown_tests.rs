//! The teardown offload's device discovery and the queue layer's accounts
//! of hand-over buffers.  The hand-over itself, against the reference
//! model, is in `socket_teardown_tests.rs`.
use super::*;
use crate::backend::{Backend, DmaRegion};
use std::sync::{Arc, Mutex};

/// A register file shaped like the NIC's; writes are kept.
#[derive(Clone)]
struct Regs(Arc<Mutex<HashMap<u32, u32>>>);

impl Backend for Regs {
    fn describe(&self) -> String {
        "fake".into()
    }
    fn read32(&self, off: u32) -> u32 {
        *self.0.lock().unwrap().get(&off).unwrap_or(&0)
    }
    fn write32(&self, off: u32, val: u32) {
        self.0.lock().unwrap().insert(off, val);
    }
    fn check(&self) -> Result<()> {
        Ok(())
    }
    fn alloc_dma(&mut self, _len: usize) -> Result<DmaRegion> {
        Err(Error::Config("no DMA in the fake".into()))
    }
}

fn device(setup: bool, teardown: bool) -> (Regs, Device) {
    let r = Regs(Arc::new(Mutex::new(crate::device::register_map_with(
        setup, teardown,
    ))));
    let d = Device::open(Box::new(r.clone())).expect("the fake opens");
    (r, d)
}

/// Today's device lists no teardown block: asking for the offload fails
/// and says which block is missing and what the device has instead.
#[test]
fn a_device_without_the_teardown_block_says_so() {
    let (_, d) = device(true, false);
    assert!(!d.has_teardown_offload());
    let e = d.teardown_params().unwrap_err().to_string();
    assert!(
        e.contains("does not implement the teardown offload")
            && e.contains("0x544f0006")
            && e.contains("setup 0x544f0005"),
        "{e}"
    );
    let e = d.teardown_enable(true).unwrap_err().to_string();
    assert!(e.contains("teardown offload"), "{e}");
}

/// With the block in the list (wherever the list puts it), the offload
/// is found by walking, its tick comes from the setup block's timestamp
/// clock, and TD_CTRL is written at the block found.
#[test]
fn the_teardown_block_is_found_by_walking_the_list() {
    let (r, d) = device(true, true);
    assert!(d.has_teardown_offload());
    let p = d.teardown_params().unwrap();
    // register_map: SETUP_TS_PERIOD 250,000 cycles at 250 MHz.
    assert_eq!(p.tick, Duration::from_millis(1));
    d.teardown_enable(true).unwrap();
    assert_eq!(
        r.read32(t::TEARDOWN_BASE + t::TD_CTRL) & t::TD_CTRL_ENABLE,
        1
    );
    d.teardown_enable(false).unwrap();
    assert_eq!(r.read32(t::TEARDOWN_BASE + t::TD_CTRL), 0);
    r.write32(t::TEARDOWN_BASE + t::TD_CNT_FIRST + 8, 7);
    r.write32(t::TEARDOWN_BASE + t::TD_CNT_FIRST + 12, 1);
    assert_eq!(
        d.teardown_counter(t::TdCounter::Fallback).unwrap(),
        1 << 32 | 7
    );
    // A stopped timestamp clock would stop every teardown timer.
    r.write32(r::SETUP_BASE + r::SETUP_TS_PERIOD, 0);
    let e = d.teardown_params().unwrap_err().to_string();
    assert!(e.contains("timestamp clock is stopped"), "{e}");
    // Without a setup block the clock runs at its reset rate.
    let (_, d) = device(false, true);
    assert_eq!(d.teardown_params().unwrap().tick, Duration::from_millis(1));
}

#[test]
fn rto_in_ticks_rounds_up_and_stays_in_the_field() {
    let p = TeardownParams::with_tick(Duration::from_millis(1));
    assert_eq!(p.ticks(Duration::from_millis(200)), 200);
    assert_eq!(p.ticks(Duration::from_micros(200_001)), 201);
    assert_eq!(p.ticks(Duration::ZERO), 1, "the record's RTO is never 0");
    assert_eq!(p.ticks(Duration::from_secs(3600)), u16::MAX);
    let p = TeardownParams::with_tick(Duration::from_millis(4));
    assert_eq!(p.ticks(Duration::from_millis(1000)), 250);
    assert_eq!(Teardowns::max_kept(2048), 2048 - 64);
    assert_eq!(Teardowns::max_kept(65536), t::MAX_KEPT_BYTES);
}

fn ev(tag: u32, reason: t::Reason) -> t::TeardownEvent {
    t::TeardownEvent {
        reason,
        state: None,
        retries: 0,
        duration: 5,
        tag,
    }
}

/// With kept bytes, a buffer goes back only when both its TX completion
/// and its event were seen, in either order; a rejected descriptor's at
/// once; an event naming no buffer is refused.
#[test]
fn hand_over_buffers_return_after_completion_and_event() {
    let mut b: HandOverBufs<&str> = HandOverBufs::default();
    b.posted(1);
    b.posted(2);
    b.posted(3);
    assert_eq!(b.held(), 3);
    // 1: completion first, then the event.
    assert_eq!(b.tx_done(1, "one", 10, false), None, "the NIC's");
    assert_eq!(b.take(), None, "held until its event");
    assert!(b.event(ev(1, t::Reason::Normal)));
    assert_eq!(
        b.take(),
        Some(Returned {
            tag: 1,
            event: Some(ev(1, t::Reason::Normal)),
            buf: Some("one")
        })
    );
    // 2: the event first (a fallback completes at once, on the other ring).
    assert!(b.event(ev(2, t::Reason::Fallback)));
    assert_eq!(b.take(), None, "the TX ring still has the descriptor");
    assert_eq!(b.tx_done(2, "two", 10, false), None);
    assert_eq!(
        b.take().map(|r| (r.tag, r.event, r.buf)),
        Some((2, Some(ev(2, t::Reason::Fallback)), Some("two")))
    );
    // 3: rejected (CPL_ERROR): back at once, no event.
    assert_eq!(b.tx_done(3, "three", 10, true), None);
    assert_eq!(
        b.take().map(|r| (r.tag, r.event, r.buf)),
        Some((3, None, Some("three")))
    );
    assert_eq!(b.held(), 0);
    // Events naming nothing: a tag never posted, or one already returned.
    assert!(!b.event(ev(9, t::Reason::Normal)));
    assert!(!b.event(ev(1, t::Reason::Normal)));
    // A second event for a descriptor still on the ring is refused too.
    b.posted(4);
    assert!(b.event(ev(4, t::Reason::Normal)));
    assert!(!b.event(ev(4, t::Reason::Recycled)));
    assert_eq!(b.tx_done(4, "four", 10, false), None);
    assert_eq!(
        b.take().map(|r| r.event),
        Some(Some(ev(4, t::Reason::Normal)))
    );
    assert_eq!(b.take(), None);
    assert_eq!(b.held(), 0);
}

/// Without kept bytes the buffer goes back with the TX completion, in
/// every case (the NIC copied the record and never reads it again); the
/// hand-over still ends only with its event (or the rejection), without a
/// buffer, and events are checked as with kept bytes.
#[test]
fn hand_over_buffers_without_kept_bytes_return_with_the_tx_completion() {
    let mut b: HandOverBufs<&str> = HandOverBufs::default();
    b.posted(1);
    b.posted(2);
    b.posted(3);
    // 1: completion, then (60 s later) the event.
    assert_eq!(b.tx_done(1, "one", 0, false), Some("one"), "back now");
    assert_eq!(b.take(), None, "the teardown has not ended");
    assert_eq!((b.held(), b.released()), (2, 1));
    assert!(b.event(ev(1, t::Reason::Normal)));
    assert_eq!(
        b.take(),
        Some(Returned {
            tag: 1,
            event: Some(ev(1, t::Reason::Normal)),
            buf: None
        })
    );
    assert!(!b.event(ev(1, t::Reason::Normal)), "ended already");
    // 2: the event (a fallback) first.
    assert!(b.event(ev(2, t::Reason::Fallback)));
    assert_eq!(b.tx_done(2, "two", 0, false), Some("two"));
    assert_eq!(
        b.take().map(|r| (r.tag, r.event, r.buf)),
        Some((2, Some(ev(2, t::Reason::Fallback)), None))
    );
    // 3: rejected.
    assert_eq!(b.tx_done(3, "three", 0, true), Some("three"));
    assert_eq!(
        b.take().map(|r| (r.tag, r.event, r.buf)),
        Some((3, None, None))
    );
    assert_eq!((b.held(), b.released()), (0, 0));
    assert!(!b.event(ev(3, t::Reason::Normal)));
    assert_eq!(b.take(), None);
}

/// The record the fallback needs stays in host memory, small: the bound
/// `max_records` (65,536 by default) is a few MB, not buffers.
#[test]
fn the_record_kept_per_hand_over_is_small() {
    assert!(
        std::mem::size_of::<InFlight>() <= 96,
        "{}",
        std::mem::size_of::<InFlight>()
    );
    let p = TeardownParams::with_tick(Duration::from_millis(1));
    assert_eq!((p.max_held_buffers, p.max_records), (256, 65_536));
}
