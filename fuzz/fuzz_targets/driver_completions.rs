//! A device that writes garbage: completion records and RX buffers as the
//! driver reads them from device memory.  The NIC is a heap-memory fake
//! (`toe_fuzz::fakedev`); the input is a list of device actions (write a
//! completion, well formed or not, with a frame in the buffer its
//! descriptor names; scribble anywhere in the rings and buffers; complete
//! TX descriptors) interleaved with driver calls (`rx_burst`, `Endpoint::poll`
//! with a listener, sends, frees).
//!
//! Invariants: no panic; every packet handed out is at most a buffer long;
//! no buffer is handed out twice (every live packet is tagged, then each
//! must read back its own tag); buffers are conserved (pool + held + TX in flight never
//! exceed the pool); the endpoint's connection count stays bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use std::time::Duration;
use toe_contract::desc::{self as d, phase_for, Completion, RxDesc, CPL_BYTES, RECORD_BYTES};
use toe_driver::net::NetConfig;
use toe_driver::nic::{Nic, NicConfig, Packet};
use toe_driver::socket::{Endpoint, EndpointConfig};
use toe_fuzz::fakedev::HeapDev;
use toe_fuzz::Input;

const REGIONS_PER_QUEUE: usize = 5; // RX desc, RX cpl, TX desc, TX cpl, pool
const US: [u8; 4] = [10, 0, 0, 1];
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let log2 = 2 + (inp.u8() % 4) as u32; // 4..32 entries
    let queues = 1 + (inp.u8() % 2) as u32;
    let buf_size = 2048usize;
    let bufs = (2u32 << log2) + 8;
    let (dev, st) = HeapDev::new();
    let cfg = NicConfig {
        queue_pairs: queues,
        log2_ring: log2,
        buf_size,
        bufs_per_queue: bufs,
        reset: false,
        rss_key: None,
    };
    let mut nic = Nic::open(Box::new(dev), cfg).expect("the fake device opens");
    let mut ep =
        Endpoint::new(EndpointConfig::new(0, NetConfig::new(MAC, US, 24)), &nic).expect("endpoint");
    let listener = ep.listen(80, 8).expect("listen");
    let size = 1usize << log2;
    // Completions the fake device has written per ring (RX, TX) per queue.
    let mut produced = vec![[0u16; 2]; queues as usize];
    let mut held: Vec<(Packet, u64)> = Vec::new();
    let mut tag = 0u64;
    let mut now = Duration::from_secs(1);
    let mut events = Vec::new();
    let mut ops = 0;
    while !inp.is_empty() && ops < 200 {
        ops += 1;
        let q = (inp.u8() as u32 % queues) as usize;
        let base = q * REGIONS_PER_QUEUE;
        match inp.u8() % 8 {
            // A completion record in the next RX slot, with a frame in the
            // buffer the descriptor at `index` names.
            0 | 1 => {
                let rx = produced[q][0];
                let index = if inp.bool() { rx } else { inp.u16() };
                let frame = inp.frame(2200);
                let len = if inp.bool() {
                    frame.len() as u16
                } else {
                    inp.u16()
                };
                let kind = match inp.u8() % 8 {
                    0 => inp.u8(),
                    1 => toe_contract::setup::KIND_ESTABLISHED,
                    _ => d::KIND_RX,
                };
                let good_phase = phase_for(rx, log2);
                let phase = if inp.u8() % 16 == 0 {
                    !good_phase
                } else {
                    good_phase
                };
                let c = Completion {
                    index,
                    len,
                    hash: inp.u32(),
                    flags: inp.u16(),
                    l3_off: 14,
                    l4_off: inp.u8(),
                    kind,
                    tcp_flags: inp.u8(),
                    mss: inp.u16(),
                    wscale: inp.u8(),
                    opts: inp.u8(),
                    window: inp.u16(),
                    tsval: inp.u32(),
                    tsecr: inp.u32(),
                    phase,
                };
                let s = st.borrow();
                let slot = (index as usize) & (size - 1);
                let desc = s.peek(base, slot * RECORD_BYTES, RECORD_BYTES);
                let desc = RxDesc::decode(&desc.try_into().unwrap());
                let pool = &s.regions[base + 4];
                if desc.addr >= pool.iova && desc.addr < pool.iova + pool.len as u64 {
                    s.poke(base + 4, (desc.addr - pool.iova) as usize, frame);
                }
                let off = (rx as usize & (size - 1)) * CPL_BYTES;
                s.poke(base + 1, off, &c.encode());
                produced[q][0] = rx.wrapping_add(1);
            }
            // Garbage anywhere in this queue's rings or buffers.
            2 => {
                let region = base + (inp.u8() as usize % REGIONS_PER_QUEUE);
                let off = inp.u16() as usize;
                let n = inp.u8() as usize % 64;
                let bytes = inp.bytes(n);
                st.borrow().poke(region, off, bytes);
            }
            // The device completes the next TX descriptor (or a made-up one).
            3 => {
                let tx = produced[q][1];
                let index = if inp.bool() { tx } else { inp.u16() };
                let c = Completion {
                    index,
                    len: inp.u16(),
                    kind: d::KIND_TX,
                    flags: if inp.bool() { d::CPL_ERROR } else { 0 },
                    phase: phase_for(tx, log2),
                    ..Completion::default()
                };
                st.borrow().poke(
                    base + 3,
                    (tx as usize & (size - 1)) * CPL_BYTES,
                    &c.encode(),
                );
                produced[q][1] = tx.wrapping_add(1);
            }
            // The driver takes what is there.
            4 => {
                let mut out = Vec::new();
                let max = 1 + inp.u8() as usize % 64;
                let n = nic.rx_burst(q as u32, &mut out, max);
                assert_eq!(n, out.len());
                for mut p in out {
                    assert!(
                        p.len <= buf_size,
                        "packet of {} bytes from a {buf_size}-byte buffer",
                        p.len
                    );
                    let mut v = vec![0; p.len];
                    nic.read(&p, 0, &mut v);
                    tag += 1;
                    nic.write(&mut p, 0, &tag.to_le_bytes());
                    held.push((p, tag));
                }
            }
            // Free (or send) what the application holds.
            5 => {
                let send = inp.bool();
                let mut keep = Vec::new();
                let mut tx = Vec::new();
                for (p, t) in held.drain(..) {
                    if send && tx.len() < 4 {
                        tx.push(p);
                    } else if inp.bool() {
                        nic.free(p);
                    } else {
                        keep.push((p, t));
                    }
                }
                held = keep;
                for p in tx {
                    let qq = Nic::queue_of(&p);
                    let mut one = vec![p];
                    if nic.tx_burst(qq, &mut one) == 0 {
                        nic.free(one.pop().unwrap());
                    }
                }
            }
            // The host stack polls queue 0 (frames go up to ARP/IP/TCP).
            6 => {
                now += Duration::from_millis(inp.u16() as u64);
                ep.poll(&mut nic, now, &mut events);
                while let Ok(s) = ep.accept(listener) {
                    let mut b = [0u8; 4096];
                    let _ = ep.read(s, &mut b);
                    let _ = ep.write(s, b"hello");
                    if inp.bool() {
                        let _ = ep.close(s);
                    }
                }
                assert!(ep.connections() <= 4096);
            }
            // Allocate and send a frame of our own.
            _ => {
                if let Some(mut p) = nic.alloc(q as u32) {
                    let f = inp.frame(1514);
                    nic.write(&mut p, 0, f);
                    p.len = f.len().max(14);
                    let mut one = vec![p];
                    if nic.tx_burst(q as u32, &mut one) == 0 {
                        nic.free(one.pop().unwrap());
                    }
                }
            }
        }
        // No buffer handed out twice: fresh tags into every live packet
        // (the device may scribble on buffers, so tags are rewritten before
        // each check), then every packet still reads its own.
        for (p, t) in held.iter_mut() {
            tag += 1;
            *t = tag;
            nic.write(p, 0, &tag.to_le_bytes());
        }
        for (p, t) in &held {
            let mut b = [0u8; 8];
            nic.read(p, 0, &mut b);
            assert_eq!(
                u64::from_le_bytes(b),
                *t,
                "a buffer is held twice (or was reused while held)"
            );
        }
        for qq in 0..queues {
            let mine = held.iter().filter(|(p, _)| Nic::queue_of(p) == qq).count();
            let inflight = nic.tx_in_flight(qq) as usize;
            assert!(
                nic.pool_available(qq) + mine + inflight <= bufs as usize,
                "queue {qq}: pool {} + held {mine} + TX in flight {inflight} exceed {bufs} buffers",
                nic.pool_available(qq)
            );
        }
    }
    for (p, _) in held.drain(..) {
        nic.free(p);
    }
    drop(ep);
    drop(nic);
    let _ = Ipv4Addr::LOCALHOST;
});
