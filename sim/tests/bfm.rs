//! Unit tests of the bus-functional models, in pure Rust (no design).
use toe_sim::bfm::axi_slave::{OKAY, SLVERR};
use toe_sim::bfm::*;

// ------------------------------------------------------------------ host memory

#[test]
fn host_memory_alloc_post_free() {
    let mut m = HostMemory::new();
    let a = m.alloc(100, 64);
    let b = m.alloc(4096, 4096);
    assert_eq!(a % 64, 0);
    assert_eq!(b % 4096, 0);
    assert!(a >= 1 << 32, "allocations live above 4 GiB");
    assert!(m.is_posted(a, 100));
    assert!(!m.is_posted(a, 101), "guard after each region");
    assert_eq!(m.first_unposted(a + 90, 20), Some(a + 100));
    m.write(a + 10, &[1, 2, 3]);
    assert_eq!(m.read(a + 9, 5), vec![0, 1, 2, 3, 0]);
    m.fill(b, 4096, 0xab);
    assert_eq!(m.read_u32(b + 100), 0xabab_abab);
    m.write_u64(b + 8, 0x0102_0304_0506_0708);
    assert_eq!(m.read(b + 8, 2), vec![8, 7]);
    assert_eq!(m.region_of(b + 4095), Some((b, 4096)));
    m.free(a);
    assert!(!m.is_posted(a, 1));
    // Adjacent fixed regions count as one posted range.
    m.post(0x1000, 64);
    m.post(0x1040, 64);
    assert!(m.is_posted(0x1000, 128));
}

#[test]
#[should_panic(expected = "unposted")]
fn host_memory_host_access_outside_posted_panics() {
    let m = HostMemory::new();
    m.read(0x1234, 4);
}

#[test]
#[should_panic(expected = "overlaps")]
fn host_memory_overlapping_post_panics() {
    let mut m = HostMemory::new();
    m.post(0x1000, 128);
    m.post(0x1040, 64);
}

// ------------------------------------------------------------------ AXI4 slave

/// A minimal pin-level AXI4 master for driving the slave model directly.
struct Bench {
    s: AxiSlave,
    mem: HostMemory,
    cycle: u64,
}

impl Bench {
    fn new(cfg: AxiSlaveConfig) -> Bench {
        Bench {
            s: AxiSlave::new(cfg, 1),
            mem: HostMemory::new(),
            cycle: 0,
        }
    }
    /// One cycle with master pins `m`; returns the slave's pins of that cycle.
    fn tick(&mut self, m: &AxiMasterPins) -> AxiSlavePins {
        let p = *self.s.drive(&self.mem, self.cycle);
        self.s.update(m, &mut self.mem, self.cycle);
        self.cycle += 1;
        p
    }
    /// Offers an address request until taken.
    fn request(&mut self, ch: Channel, a: AddrPins) {
        let mut m = AxiMasterPins {
            bready: true,
            rready: true,
            ..Default::default()
        };
        let a = AddrPins { valid: true, ..a };
        for _ in 0..100 {
            match ch {
                Channel::Read => m.ar = a,
                Channel::Write => m.aw = a,
            }
            let p = self.tick(&m);
            if (ch == Channel::Read && p.arready) || (ch == Channel::Write && p.awready) {
                return;
            }
        }
        panic!("request never taken");
    }
    /// Collects read beats until `n` bursts completed: (cycle, rid, data, rresp, rlast).
    fn read_beats(&mut self, bursts: usize) -> Vec<(u64, u32, [u8; 64], u32, bool)> {
        let m = AxiMasterPins {
            rready: true,
            ..Default::default()
        };
        let mut v = Vec::new();
        let mut done = 0;
        for _ in 0..10_000 {
            let c = self.cycle;
            let p = self.tick(&m);
            if p.rvalid {
                v.push((c, p.rid, p.rdata, p.rresp, p.rlast));
                if p.rlast {
                    done += 1;
                    if done == bursts {
                        return v;
                    }
                }
            }
        }
        panic!("read data never came");
    }
    /// Sends write data beats (one offered per cycle, held until taken)
    /// then waits for the response.  Returns bresp.
    fn write_data(&mut self, beats: &[([u8; 64], u64, bool)]) -> u32 {
        let mut i = 0;
        for _ in 0..10_000 {
            let mut m = AxiMasterPins {
                bready: true,
                ..Default::default()
            };
            if i < beats.len() {
                m.wvalid = true;
                m.wdata = beats[i].0;
                m.wstrb = beats[i].1;
                m.wlast = beats[i].2;
            }
            let p = self.tick(&m);
            if m.wvalid && p.wready {
                i += 1;
            }
            if p.bvalid {
                assert_eq!(i, beats.len(), "bvalid before the last data beat");
                return p.bresp;
            }
        }
        panic!("no write response");
    }
}

fn req(addr: u64, len: u32) -> AddrPins {
    AddrPins {
        id: 1,
        addr,
        len,
        size: 6,
        burst: 1,
        valid: true,
    }
}

#[test]
fn axi_read_latency_data_and_stats() {
    let mut b = Bench::new(AxiSlaveConfig {
        read_latency: 20,
        ..Default::default()
    });
    let a = b.mem.alloc(4096, 4096);
    let data: Vec<u8> = (0..256).map(|i| i as u8).collect();
    b.mem.write(a, &data);
    let issued = b.cycle;
    b.request(Channel::Read, req(a, 3));
    let beats = b.read_beats(1);
    assert_eq!(beats.len(), 4);
    assert!(
        beats[0].0 >= issued + 20,
        "first beat at {} before the latency",
        beats[0].0
    );
    for (i, (_, id, d, resp, last)) in beats.iter().enumerate() {
        assert_eq!(*id, 1);
        assert_eq!(*resp, OKAY);
        assert_eq!(*last, i == 3);
        assert_eq!(&d[..], &data[64 * i..64 * i + 64]);
    }
    assert_eq!(b.s.stats.read_bursts, 1);
    assert_eq!(b.s.stats.read_beats, 4);
    assert!(b.s.violations.is_empty(), "{:?}", b.s.violations);
}

#[test]
fn axi_reads_outstanding_return_in_issue_order() {
    let mut b = Bench::new(AxiSlaveConfig {
        read_latency: 50,
        ..Default::default()
    });
    let a = b.mem.alloc(8192, 4096);
    for i in 0..4u64 {
        b.mem.fill(a + 1024 * i, 1024, i as u8 + 1);
    }
    // Four requests back to back with different IDs.
    let mut m = AxiMasterPins::default();
    for i in 0..4u64 {
        m.ar = AddrPins {
            id: 3 - i as u32,
            ..req(a + 1024 * i, 0)
        };
        assert!(b.tick(&m).arready);
    }
    assert_eq!(b.s.reads_outstanding(), 4);
    let beats = b.read_beats(4);
    let ids: Vec<u32> = beats.iter().map(|x| x.1).collect();
    assert_eq!(ids, vec![3, 2, 1, 0]);
    for (i, x) in beats.iter().enumerate() {
        assert_eq!(x.2[0], i as u8 + 1);
    }
    assert_eq!(b.s.stats.max_reads_outstanding, 4);
}

#[test]
fn axi_read_bandwidth_half() {
    let mut b = Bench::new(AxiSlaveConfig {
        read_latency: 5,
        read_bandwidth: 0.5,
        ..Default::default()
    });
    let a = b.mem.alloc(4096, 4096);
    b.request(Channel::Read, req(a, 7));
    let beats = b.read_beats(1);
    assert_eq!(beats.len(), 8);
    for w in beats.windows(2) {
        assert_eq!(w[1].0 - w[0].0, 2, "one beat every 2 cycles");
    }
}

#[test]
fn axi_write_with_strobes_and_response() {
    let mut b = Bench::new(AxiSlaveConfig::default());
    let a = b.mem.alloc(4096, 4096);
    b.request(Channel::Write, req(a + 64, 1));
    let resp = b.write_data(&[([0x11; 64], !0, false), ([0x22; 64], 0xf, true)]);
    assert_eq!(resp, OKAY);
    assert_eq!(b.mem.read(a + 64, 64), vec![0x11; 64]);
    assert_eq!(b.mem.read(a + 128, 6), vec![0x22, 0x22, 0x22, 0x22, 0, 0]);
    assert_eq!(b.s.stats.write_beats, 2);
    assert_eq!(b.s.stats.write_bytes, 68);
    assert!(b.s.violations.is_empty(), "{:?}", b.s.violations);
}

/// Issues one request and returns the violations it caused.
fn bad_request(ch: Channel, a: AddrPins, post: Option<(u64, usize)>) -> Vec<Violation> {
    let mut b = Bench::new(AxiSlaveConfig {
        read_latency: 1,
        ..Default::default()
    });
    if let Some((addr, len)) = post {
        b.mem.post(addr, len);
    }
    b.request(ch, a);
    b.s.violations.clone()
}

fn assert_violation(v: &[Violation], needle: &str) {
    assert!(
        v.iter().any(|x| x.what.contains(needle)),
        "no violation mentioning {needle:?} in {v:#?}"
    );
}

#[test]
fn axi_checks_4k_crossing() {
    let v = bad_request(Channel::Read, req(0x10_0fc0, 1), Some((0x10_0000, 0x4000)));
    assert_violation(&v, "crosses the 4 KiB boundary at 0x101000");
    assert!(
        v[0].to_string().contains("read burst addr=0x100fc0 len=1"),
        "{}",
        v[0]
    );
    let v = bad_request(
        Channel::Write,
        req(0x10_0800, 63),
        Some((0x10_0000, 0x4000)),
    );
    assert_violation(&v, "crosses the 4 KiB boundary");
}

#[test]
fn axi_checks_unposted_read() {
    let v = bad_request(Channel::Read, req(0x20_0000, 0), None);
    assert_violation(&v, "reads unposted host memory at 0x200000");
    // Partly posted: the first unposted byte is named.
    let v = bad_request(Channel::Read, req(0x20_0000, 1), Some((0x20_0000, 100)));
    assert_violation(&v, "reads unposted host memory at 0x200064");
}

#[test]
fn axi_checks_size_burst_alignment_len() {
    let post = Some((0x30_0000, 0x1000));
    let v = bad_request(
        Channel::Read,
        AddrPins {
            size: 5,
            ..req(0x30_0000, 0)
        },
        post,
    );
    assert_violation(&v, "size=5");
    let v = bad_request(
        Channel::Write,
        AddrPins {
            burst: 0,
            ..req(0x30_0000, 0)
        },
        post,
    );
    assert_violation(&v, "burst type 0");
    let v = bad_request(
        Channel::Read,
        AddrPins {
            burst: 2,
            ..req(0x30_0000, 0)
        },
        post,
    );
    assert_violation(&v, "burst type 2");
    let v = bad_request(Channel::Write, req(0x30_0020, 0), post);
    assert_violation(&v, "not 64-byte aligned");
    let v = bad_request(Channel::Read, req(0x30_0000, 256), post);
    assert_violation(&v, "len > 255");
    // A good request is silent.
    let v = bad_request(Channel::Read, req(0x30_0000, 63), post);
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn axi_checks_unposted_write_bytes() {
    let mut b = Bench::new(AxiSlaveConfig::default());
    b.mem.post(0x40_0000, 32);
    b.request(Channel::Write, req(0x40_0000, 0));
    // Strobes only on posted bytes: fine.
    b.write_data(&[([1; 64], 0xffff_ffff, true)]);
    assert!(b.s.violations.is_empty(), "{:?}", b.s.violations);
    b.request(Channel::Write, req(0x40_0000, 0));
    b.write_data(&[([1; 64], 1 << 40, true)]);
    assert_violation(&b.s.violations, "writes unposted host memory at 0x400028");
}

#[test]
fn axi_checks_wlast() {
    let mut b = Bench::new(AxiSlaveConfig::default());
    let a = b.mem.alloc(4096, 4096);
    b.request(Channel::Write, req(a, 1));
    b.write_data(&[([0; 64], !0, true), ([0; 64], !0, true)]);
    assert_violation(&b.s.violations, "wlast=1 on beat 0 of 2");
    let mut b = Bench::new(AxiSlaveConfig::default());
    let a = b.mem.alloc(4096, 4096);
    b.request(Channel::Write, req(a, 1));
    b.write_data(&[([0; 64], !0, false), ([0; 64], !0, false)]);
    assert_violation(&b.s.violations, "wlast=0 on beat 1 of 2");
}

#[test]
fn axi_checks_address_stability() {
    let mut b = Bench::new(AxiSlaveConfig {
        max_reads: 1,
        read_latency: 1000,
        ..Default::default()
    });
    let a = b.mem.alloc(4096, 4096);
    let mut m = AxiMasterPins {
        ar: req(a, 0),
        ..Default::default()
    };
    assert!(b.tick(&m).arready);
    // Queue full: arready low; the master then changes its request.
    assert!(!b.tick(&m).arready);
    m.ar.addr += 64;
    b.tick(&m);
    assert_violation(
        &b.s.violations,
        "read address request changed while waiting",
    );
    m.ar.valid = false;
    b.tick(&m);
    assert_violation(&b.s.violations, "read address valid dropped");
}

#[test]
fn axi_error_injection() {
    let mut b = Bench::new(AxiSlaveConfig {
        read_latency: 2,
        ..Default::default()
    });
    let a = b.mem.alloc(8192, 4096);
    b.s.inject_error(Channel::Read, a + 4096..a + 4160);
    b.s.inject_error(Channel::Write, a..a + 1);
    b.request(Channel::Read, req(a, 0));
    b.request(Channel::Read, req(a + 4096, 1));
    let beats = b.read_beats(2);
    let resps: Vec<u32> = beats.iter().map(|x| x.3).collect();
    assert_eq!(resps, vec![OKAY, SLVERR, SLVERR]);
    b.request(Channel::Write, req(a, 0));
    assert_eq!(b.write_data(&[([7; 64], !0, true)]), SLVERR);
    assert_eq!(
        b.mem.read(a, 1),
        vec![0],
        "data of a failed write is dropped"
    );
    assert_eq!(b.s.stats.error_responses, 2);
    assert!(b.s.violations.is_empty());
}

// ------------------------------------------------------------------ MAC source / sink

/// Wires a MacSource straight into a MacSink for `cycles` cycles.
fn wire(src: &mut MacSource, sink: &mut MacSink, cycles: u64) {
    for c in 0..cycles {
        let beat = *src.drive();
        let ready = sink.drive();
        src.update(ready, c);
        sink.update(&beat, c);
    }
}

#[test]
fn mac_source_to_sink_round_trip_with_gaps_and_backpressure() {
    let mut src = MacSource::new(9);
    src.beat_gap = 0.3;
    src.frame_gap = 0.5;
    let mut sink = MacSink::new(9);
    sink.backpressure = 0.4;
    let frames: Vec<MacFrame> = (0..40)
        .map(|i| {
            let len = 1 + (i * 37) % 300;
            let data = (0..len).map(|j| (i * 7 + j) as u8).collect();
            if i % 5 == 0 {
                MacFrame::with_error(data)
            } else {
                MacFrame::new(data)
            }
        })
        .collect();
    for f in &frames {
        src.push(f.clone());
    }
    wire(&mut src, &mut sink, 5000);
    assert!(src.is_idle());
    assert!(src.stall_cycles > 0, "backpressure was exercised");
    assert!(sink.violations.is_empty(), "{:?}", sink.violations);
    assert_eq!(sink.frames.len(), frames.len());
    for (i, (got, want)) in sink.frames.iter().zip(&frames).enumerate() {
        assert_eq!(got.data, want.data, "frame {i}");
        assert_eq!(got.error, want.error, "frame {i}");
        let sent = src.sent[i];
        assert_eq!(
            (sent.id, sent.len, sent.error),
            (i as u64, want.data.len(), want.error)
        );
        assert_eq!(
            (got.start_cycle, got.end_cycle),
            (sent.start_cycle, sent.end_cycle)
        );
    }
}

#[test]
fn mac_source_is_deterministic_per_seed() {
    let run = |seed| {
        let mut src = MacSource::new(seed);
        src.beat_gap = 0.5;
        let mut sink = MacSink::new(seed);
        for _ in 0..5 {
            src.push_bytes(vec![1; 200]);
        }
        wire(&mut src, &mut sink, 500);
        src.sent.clone()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn mac_source_beats_are_well_formed() {
    let mut src = MacSource::new(1);
    src.push_bytes((0..130).map(|i| i as u8).collect());
    let b = *src.drive();
    assert!(b.valid && !b.last && b.keep == !0 && b.data[0] == 0);
    // Not ready: the same beat is held.
    src.update(false, 0);
    assert_eq!(*src.drive(), b);
    src.update(true, 1);
    let b = *src.drive();
    assert!(!b.last && b.data[0] == 64);
    src.update(true, 2);
    let b = *src.drive();
    assert!(b.last && b.keep == 0b11 && b.data[..2] == [128, 129] && !b.user);
    assert!(src.update(true, 3));
    assert_eq!(src.sent[0].start_cycle, 1);
    assert_eq!(src.sent[0].end_cycle, 3);
    assert_eq!(src.last_done().unwrap().data.len(), 130);
}

#[test]
fn mac_sink_checks_protocol() {
    let beat = |keep, last, valid| StreamBeat {
        data: [5; 64],
        keep,
        valid,
        last,
        user: false,
    };
    let mut s = MacSink::new(1);
    s.drive();
    s.update(&beat(0xff, false, true), 0);
    assert!(
        s.violations[0].what.contains("not full"),
        "{:?}",
        s.violations
    );
    let mut s = MacSink::new(1);
    s.drive();
    s.update(&beat(0b101, true, true), 0);
    assert!(
        s.violations[0].what.contains("not contiguous"),
        "{:?}",
        s.violations
    );
    assert_eq!(s.frames[0].data, vec![5, 5]);
    let mut s = MacSink::new(1);
    s.drive();
    s.update(&beat(0, true, true), 0);
    assert_eq!(s.violations.len(), 1, "empty last beat");
    // tvalid dropped while stalled.
    let mut s = MacSink::new(1);
    s.backpressure = 1.0;
    s.drive();
    s.update(&beat(!0, false, true), 0);
    s.drive();
    s.update(&beat(!0, false, false), 1);
    assert!(
        s.violations[0].what.contains("dropped"),
        "{:?}",
        s.violations
    );
    // Good frame: no violations.
    let mut s = MacSink::new(1);
    s.drive();
    s.update(&beat(!0, false, true), 0);
    s.drive();
    assert!(s.update(&beat(1, true, true), 1));
    assert!(s.violations.is_empty());
    assert_eq!(s.pop().unwrap().data.len(), 65);
}

// ------------------------------------------------------------------ AXI4-Lite master

/// A tiny AXI4-Lite slave with 16 registers, ready after a delay, for
/// exercising the master.
struct RegSlave {
    regs: [u32; 16],
    pins: AxilSlavePins,
    aw: Option<u32>,
    w: Option<(u32, u32)>,
    cycle: u64,
}

impl RegSlave {
    fn drive(&mut self) -> AxilSlavePins {
        // Ready only on odd cycles, to exercise held valids.
        let odd = self.cycle % 2 == 1;
        self.pins.awready = odd && self.aw.is_none() && !self.pins.bvalid;
        self.pins.wready = odd && self.w.is_none() && !self.pins.bvalid;
        self.pins.arready = odd && !self.pins.rvalid;
        self.pins
    }
    fn update(&mut self, m: &AxilMasterPins) {
        let p = self.pins;
        if p.bvalid && m.bready {
            self.pins.bvalid = false;
        }
        if p.rvalid && m.rready {
            self.pins.rvalid = false;
        }
        if m.awvalid && p.awready {
            self.aw = Some(m.awaddr);
        }
        if m.wvalid && p.wready {
            self.w = Some((m.wdata, m.wstrb));
        }
        if let (Some(a), Some((d, s))) = (self.aw, self.w) {
            let r = &mut self.regs[(a / 4) as usize % 16];
            for i in 0..4 {
                if s >> i & 1 != 0 {
                    *r = (*r & !(0xff << (8 * i))) | (d & (0xff << (8 * i)));
                }
            }
            self.aw = None;
            self.w = None;
            self.pins.bvalid = true;
            self.pins.bresp = if a >= 0x40 { 2 } else { 0 };
        }
        if m.arvalid && p.arready {
            self.pins.rvalid = true;
            self.pins.rdata = self.regs[(m.araddr / 4) as usize % 16];
            self.pins.rresp = 0;
        }
        self.cycle += 1;
    }
}

#[test]
fn axil_master_against_register_slave() {
    let mut m = AxilMaster::new();
    let mut s = RegSlave {
        regs: [0; 16],
        pins: AxilSlavePins::default(),
        aw: None,
        w: None,
        cycle: 0,
    };
    let t1 = m.write(0x8, 0x1234_5678);
    let t2 = m.write_strb(0x8, 0xaaaa_aaaa, 0b0010);
    let t3 = m.read(0x8);
    let t4 = m.write(0x40, 1);
    for c in 0..200 {
        let mp = m.drive();
        let sp = s.drive();
        m.update(&sp, c);
        s.update(&mp);
    }
    assert!(m.is_idle());
    assert!(m.violations.is_empty(), "{:?}", m.violations);
    assert!(matches!(
        m.take(t1),
        Some(AxilResult::Write { resp: 0, .. })
    ));
    assert!(matches!(
        m.take(t2),
        Some(AxilResult::Write { resp: 0, .. })
    ));
    match m.take(t3) {
        Some(AxilResult::Read {
            data,
            resp: 0,
            issued,
            done,
        }) => {
            assert_eq!(data, 0x1234_aa78);
            assert!(done > issued);
        }
        r => panic!("{r:?}"),
    }
    assert!(matches!(
        m.take(t4),
        Some(AxilResult::Write { resp: 2, .. })
    ));
    assert_eq!(m.completed, 4);
}

// ------------------------------------------------------------------ pcap

#[test]
fn pcap_round_trip() {
    let path = std::env::temp_dir().join(format!("toe-sim-unit-{}.pcap", std::process::id()));
    {
        let mut p = PcapCapture::create(&path, Direction::Both).unwrap();
        p.write(10, &[1, 2, 3]);
        p.write(250, &[9; 1500]);
    }
    let mut r = pcap_file::pcap::PcapReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(r.header().datalink, pcap_file::DataLink::ETHERNET);
    let a = r.next_packet().unwrap().unwrap();
    assert_eq!(&a.data[..], &[1, 2, 3]);
    assert_eq!(a.timestamp.as_nanos(), 40);
    let b = r.next_packet().unwrap().unwrap();
    assert_eq!(b.data.len(), 1500);
    assert_eq!(b.timestamp.as_nanos(), 1000);
    assert!(r.next_packet().is_none());
    std::fs::remove_file(&path).unwrap();
}
