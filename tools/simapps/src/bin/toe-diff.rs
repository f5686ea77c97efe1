//! `cargo xtask diff`: long differential runs of the Verilated chip against
//! the reference model (docs/fuzzing.md).
//!
//! The run is a sequence of epochs.  Between epochs, with the chip quiet,
//! the register state changes at random (RSS on or off with a new key and
//! table, CTRL_DROP_BAD_CSUM, MAX_FRAME, the setup offload on or off, an RX
//! queue disabled or reset, which zeroes its indices) and so do the
//! environment's knobs (MAC RX idle gaps, MAC TX backpressure, host memory
//! latency, bandwidth and stalls).  In an epoch, frames of every kind go in
//! from the MAC (valid TCP with every option layout, UDP, ICMP, ARP, IPv6,
//! fragments, every malformed class, SYN floods to an offloaded listener,
//! ACK storms) while the host sends frames with and without checksum
//! insertion and bad descriptors on the four TX queues.  Every delivered
//! frame and completion (per queue, in order), every frame the MAC sends
//! (SYN-ACKs and host frames; per TX queue in descriptor order), every TX
//! completion and every counter is compared with the model's prediction.
//!
//! On a mismatch: the seed and epoch are printed, the epoch's frames go to
//! DIR/mismatch-SEED.pcap (MAC RX and TX), the run is replayed from the
//! start with an FST waveform of that epoch (DIR/mismatch-SEED.fst), and
//! the epoch's traffic is shrunk on a fresh chip with the same register
//! state (bisecting the frame and send lists) to DIR/repro-SEED.pcap.
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use toe_contract::desc::{self as d, Completion, TxDesc};
use toe_contract::regs::{self as r, Counter};
use toe_model::cookie::SetupConfig;
use toe_model::gen::{self, GenFrame};
use toe_model::nic::{self, NicConfig, RxVerdict, TxVerdict};
use toe_model::setup::{Listener, SetupState};
use toe_sim::bfm::mac_source::MacFrame;
use toe_sim::bfm::pcap::{Direction, PcapCapture};
use toe_sim::harness::{Harness, HarnessConfig};
use toe_sim_support::host::Host;

#[derive(Parser, Clone)]
#[command(
    name = "toe-diff",
    about = "Differential run: the Verilated chip against the reference model"
)]
struct Args {
    /// Seed of the whole run (default: from the clock; always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after this many simulated cycles.
    #[arg(long, default_value_t = 1_000_000)]
    cycles: u64,
    /// Stop after this many RX frames (whichever comes first).
    #[arg(long)]
    frames: Option<u64>,
    /// Where mismatch artefacts (pcap, FST, reproduction) go.
    #[arg(long, default_value = "target/diff")]
    out: PathBuf,
    /// Most frames per epoch.
    #[arg(long, default_value_t = 96)]
    epoch_frames: usize,
    /// Skip the FST replay and the shrinking on a mismatch.
    #[arg(long)]
    no_artefacts: bool,
    /// All frames sent in an epoch ask for the same checksum offloads (host
    /// frames ask for both, as SYN-ACKs do, when the NIC answers SYNs).  A
    /// known RTL mismatch (docs/fuzzing.md: the TX checksum stage applies
    /// the next frame's flags when it follows within the summing latency)
    /// shows only with mixed flags; this keeps a long run looking for
    /// others until it is fixed.
    #[arg(long)]
    uniform_tx_flags: bool,
    /// After a mismatch, note it, start a fresh chip and go on (to count
    /// mismatches over a long run); artefacts are made for the first.
    #[arg(long)]
    keep_going: bool,
}

const LOG2: u32 = 7;
const SERVER: [u8; 4] = [10, 0, 0, 1];
const LOCAL_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
/// SYNs the NIC answers per epoch: below the 16-entry SYN-ACK queue, which
/// the model assumes never full.
const MAX_SYNACKS: usize = 12;

/// The traffic of one epoch.
#[derive(Clone, Debug, Default)]
struct Epoch {
    rx: Vec<GenFrame>,
    /// (queue, frame bytes, TX flags) or a bad descriptor (queue, kind).
    tx: Vec<Send>,
}

#[derive(Clone, Debug)]
enum Send {
    Frame {
        q: usize,
        bytes: Vec<u8>,
        flags: u16,
    },
    /// 0: misaligned address, 1: opcode set, 2: too short, 3: too long.
    Bad { q: usize, kind: u8 },
}

/// What went wrong, in words.
type Mismatch = String;

struct Totals {
    epochs: u64,
    rx_frames: u64,
    delivered: u64,
    tx_frames: u64,
    synacks: u64,
    reg_changes: u64,
    queue_resets: u64,
}

struct Chip {
    h: Harness,
    host: Host,
    cfg: NicConfig,
    want: HashMap<u32, u64>,
}

impl Chip {
    fn new(seed: u64, traceable: bool) -> Chip {
        let mut h = Harness::new(HarnessConfig {
            seed,
            use_env: false,
            traceable,
            ..Default::default()
        });
        let host = Host::new(&mut h, LOG2, 9216);
        let mut c = Chip {
            h,
            host,
            cfg: NicConfig::all_queues_enabled(),
            want: HashMap::new(),
        };
        for q in 0..4 {
            c.host.post_rx(&mut c.h, q, (1 << LOG2) - 1);
        }
        c.h.run(800);
        c
    }

    /// Programs every register the model depends on from `cfg`.
    fn apply(&mut self, cfg: &NicConfig) {
        let h = &mut self.h;
        toe_sim_support::program_rss(h, cfg);
        h.reg_write(
            r::ID_BASE + r::ID_CTRL,
            if cfg.drop_bad_csum {
                r::CTRL_DROP_BAD_CSUM
            } else {
                0
            },
        );
        h.reg_write(r::ID_BASE + r::ID_MAX_FRAME, cfg.max_frame as u32);
        toe_sim_support::program_setup(h, &cfg.setup);
        for q in 0..4 {
            if cfg.queue_enabled[q] != self.cfg.queue_enabled[q] {
                if cfg.queue_enabled[q] {
                    self.reset_queue(q);
                } else {
                    self.h.reg_write(r::rxq(q as u32, r::Q_CTRL), 0);
                }
            }
        }
        self.cfg = cfg.clone();
    }

    /// Disables and re-enables RX queue `q` (its indices go to 0), clears
    /// its completion ring and posts its buffers again.
    fn reset_queue(&mut self, q: usize) {
        let h = &mut self.h;
        h.reg_write(r::rxq(q as u32, r::Q_CTRL), 0);
        let ring = &mut self.host.rx[q];
        h.mem.fill(ring.cpl, (1 << LOG2) * d::CPL_BYTES, 0);
        ring.prod = 0;
        ring.cons = 0;
        h.reg_write(r::rxq(q as u32, r::Q_CTRL), r::Q_CTRL_ENABLE | LOG2);
        self.host.post_rx(h, q, (1 << LOG2) - 1);
    }

    fn count(&mut self, c: Counter) {
        *self.want.entry(c as u32).or_default() += 1;
    }

    /// Runs one epoch and compares everything with the model.
    fn run_epoch(
        &mut self,
        e: &Epoch,
        pcap: Option<&mut PcapCapture>,
    ) -> Result<(u64, u64, u64, u64), Mismatch> {
        // Frames already in the MAC sink (none: each epoch drains it).  Taken
        // before the sends: their doorbells run cycles, during which the
        // first frames may leave.
        let start_mac = self.h.mac_tx.frames.len();
        let mut exp_rx: Vec<Vec<(Vec<u8>, Completion)>> = vec![vec![]; 4];
        let mut exp_mac: Vec<Vec<u8>> = Vec::new();
        let mut synacks = 0u64;
        for f in &e.rx {
            self.count(Counter::RxFrames);
            let v = nic::predict_rx(&self.cfg, &f.bytes, f.mac_error);
            for c in v.counters() {
                self.count(*c);
            }
            if !f.mac_error {
                if let Some(sa) = nic::predict_synack(&self.cfg, &f.bytes) {
                    exp_mac.push(sa);
                    synacks += 1;
                }
            }
            if let RxVerdict::Deliver { queue, cpl, .. } = v {
                exp_rx[queue].push((f.bytes.clone(), cpl));
            }
            self.h.mac_rx.push(if f.mac_error {
                MacFrame::with_error(f.bytes.clone())
            } else {
                MacFrame::new(f.bytes.clone())
            });
        }
        // Host sends, with the model's verdict for each descriptor.
        let mut exp_cpl: Vec<Vec<Completion>> = vec![vec![]; 4];
        let mut per_queue_tx: Vec<Vec<Vec<u8>>> = vec![vec![]; 4];
        let mut bufs = Vec::new();
        for s in &e.tx {
            let (q, desc) = match s {
                Send::Frame { q, bytes, flags } => {
                    let desc = self.host.send(&mut self.h, *q, bytes, *flags);
                    bufs.push(desc.addr);
                    (*q, desc)
                }
                Send::Bad { q, kind } => {
                    let addr = self.h.mem.alloc(9216, 64);
                    bufs.push(addr);
                    let desc = match kind {
                        0 => TxDesc {
                            addr: addr + 8,
                            len: 60,
                            flags: 0,
                        },
                        1 => TxDesc {
                            addr,
                            len: 60,
                            flags: 1 << 12,
                        },
                        2 => TxDesc {
                            addr,
                            len: 13,
                            flags: 0,
                        },
                        _ => TxDesc {
                            addr,
                            len: 9019,
                            flags: 0,
                        },
                    };
                    self.host.post_tx_desc(&mut self.h, *q, desc);
                    (*q, desc)
                }
            };
            if std::env::var_os("TOE_DIFF_DEBUG").is_some() {
                let b = self.h.mem.read(desc.addr, (desc.len as usize).min(64));
                eprintln!(
                    "send q{q} len {} flags {:#x} bytes[12..26] {:02x?}",
                    desc.len,
                    desc.flags,
                    &b[12.min(b.len())..26.min(b.len())]
                );
            }
            let index = self.host.tx[q].prod.wrapping_sub(1);
            exp_cpl[q].push(nic::tx_completion(&desc, index));
            let buffer = self.h.mem.read(desc.addr, desc.len as usize);
            match nic::predict_tx(&desc, &buffer) {
                TxVerdict::Send(out) => {
                    exp_mac.push(out.clone());
                    per_queue_tx[q].push(out);
                    self.count(Counter::TxFrames);
                }
                _ => self.count(Counter::TxBadDescriptor),
            }
        }
        let want_rx: usize = exp_rx.iter().map(|v| v.len()).sum();
        let want_cpl: usize = exp_cpl.iter().map(|v| v.len()).sum();
        let mut got_rx: Vec<Vec<(Vec<u8>, Completion)>> = vec![vec![]; 4];
        let mut got_cpl: Vec<Vec<Completion>> = vec![vec![]; 4];
        let (host, h) = (&mut self.host, &mut self.h);
        let poll = |h: &Harness,
                    host: &mut Host,
                    got_rx: &mut Vec<Vec<(Vec<u8>, Completion)>>,
                    got_cpl: &mut Vec<Vec<Completion>>| {
            for q in 0..4 {
                while let Some((c, data)) = host.poll_rx(h, q) {
                    got_rx[q].push((data, c));
                }
                while let Some(c) = host.poll_tx(h, q) {
                    got_cpl[q].push(c);
                }
            }
        };
        let epoch_start = h.cycle();
        let mut errs_late: Vec<String> = Vec::new();
        let waited = h.run_until(3_000_000, |h| {
            poll(h, host, &mut got_rx, &mut got_cpl);
            h.mac_rx.is_idle()
                && got_rx.iter().map(|v| v.len()).sum::<usize>() >= want_rx
                && got_cpl.iter().map(|v| v.len()).sum::<usize>() >= want_cpl
                && h.mac_tx.frames.len() - start_mac >= exp_mac.len()
        });
        let at_timeout = format!(
            "at the wait's end: MAC source idle {}, {} deliveries, {} TX completions, {} MAC frames",
            h.mac_rx.is_idle(),
            got_rx.iter().map(|v| v.len()).sum::<usize>(),
            got_cpl.iter().map(|v| v.len()).sum::<usize>(),
            h.mac_tx.frames.len() - start_mac
        );
        h.mac_rx.sent.clear();
        // Time for anything unexpected to show.
        h.run(1500);
        poll(h, host, &mut got_rx, &mut got_cpl);
        if waited.is_err() {
            for f in h.mac_tx.frames.iter().skip(start_mac) {
                if f.end_cycle + 2000 > h.cycle() {
                    errs_late.push(format!(
                        "a {}-byte frame left the MAC from cycle {} to {} (epoch start {epoch_start}, wait ended {})",
                        f.data.len(),
                        f.start_cycle,
                        f.end_cycle,
                        h.cycle() - 1500
                    ));
                }
            }
        }
        let mac: Vec<Vec<u8>> = h.mac_tx.frames.drain(..).map(|f| f.data).collect();
        if let Some(p) = pcap {
            for f in &e.rx {
                p.write(0, &f.bytes);
            }
            for f in &mac {
                p.write(1, f);
            }
        }
        let mut errs = errs_late;
        if waited.is_err() {
            let mut st = format!(
                "{at_timeout}; MAC source has {} frames pending; queues:",
                h.mac_rx.pending()
            );
            for q in 0..4u32 {
                let (p, c) = (
                    h.reg_read(r::rxq(q, r::Q_PROD)),
                    h.reg_read(r::rxq(q, r::Q_CONS)),
                );
                let ring = &host.rx[q as usize];
                st += &format!(
                    " rx{q} {} host prod {} cons {}, chip prod {p} cons {c};",
                    if self.cfg.queue_enabled[q as usize] {
                        "on"
                    } else {
                        "off"
                    },
                    ring.prod,
                    ring.cons
                );
            }
            errs.push(st);
        }
        if let Err(t) = waited {
            errs.push(format!(
                "the epoch did not complete ({t}): {} of {want_rx} deliveries, {} of {want_cpl} TX completions, {} of {} MAC frames",
                got_rx.iter().map(|v| v.len()).sum::<usize>(),
                got_cpl.iter().map(|v| v.len()).sum::<usize>(),
                mac.len(),
                exp_mac.len()
            ));
        }
        for q in 0..4 {
            if got_rx[q].len() != exp_rx[q].len() {
                errs.push(format!(
                    "RX queue {q}: {} frames delivered, model {}",
                    got_rx[q].len(),
                    exp_rx[q].len()
                ));
            }
            for (i, ((gd, gc), (ed, ec))) in got_rx[q].iter().zip(&exp_rx[q]).enumerate() {
                if gd != ed {
                    errs.push(format!(
                        "RX queue {q} frame {i}: bytes differ (len {} vs model {})",
                        gd.len(),
                        ed.len()
                    ));
                    break;
                }
                let mut want = *ec;
                want.index = gc.index;
                want.phase = gc.phase;
                if *gc != want {
                    errs.push(format!(
                        "RX queue {q} frame {i}: completion {gc:?}, model {want:?}"
                    ));
                    break;
                }
            }
            if got_cpl[q].len() != exp_cpl[q].len() {
                errs.push(format!(
                    "TX queue {q}: {} completions, model {}",
                    got_cpl[q].len(),
                    exp_cpl[q].len()
                ));
            }
            for (i, (g, e)) in got_cpl[q].iter().zip(&exp_cpl[q]).enumerate() {
                let mut want = *e;
                want.phase = g.phase;
                if *g != want {
                    errs.push(format!(
                        "TX queue {q} completion {i}: {g:?}, model {want:?}"
                    ));
                    break;
                }
            }
            // Frames of one queue leave in descriptor order.
            let order: Vec<&Vec<u8>> = mac.iter().filter(|f| per_queue_tx[q].contains(f)).collect();
            let mut dedup = per_queue_tx[q].clone();
            dedup.dedup();
            if dedup.len() == per_queue_tx[q].len()
                && order.len() == per_queue_tx[q].len()
                && order.iter().zip(&per_queue_tx[q]).any(|(a, b)| *a != b)
            {
                errs.push(format!("TX queue {q}: frames left out of descriptor order"));
            }
        }
        let mut g = mac.clone();
        let mut w = exp_mac.clone();
        g.sort();
        w.sort();
        if g != w {
            let at = g.iter().zip(&w).position(|(a, b)| a != b);
            let detail = at.map_or(String::new(), |i| {
                let (a, b) = (&g[i], &w[i]);
                let byte = a.iter().zip(b.iter()).position(|(x, y)| x != y);
                if std::env::var_os("TOE_DIFF_DEBUG").is_some() {
                    eprintln!(
                        "chip  {:02x?}\nmodel {:02x?}",
                        &a[12..40.min(a.len())],
                        &b[12..40.min(b.len())]
                    );
                }
                format!(
                    ": chip frame of {} bytes, model {} bytes, first differing byte {byte:?}",
                    a.len(),
                    b.len()
                )
            });
            errs.push(format!(
                "MAC TX: {} frames, model {} ({} SYN-ACKs); first difference at sorted index {at:?}{detail}",
                g.len(),
                w.len(),
                synacks,
            ));
        }
        let delivered: usize = got_rx.iter().map(|v| v.len()).sum();
        for (q, rx) in got_rx.iter().enumerate() {
            host.post_rx(h, q, rx.len());
        }
        for b in bufs {
            h.mem.free(b);
        }
        for c in Counter::ALL {
            let v = toe_sim_support::counter(h, c);
            let w = self.want.get(&(c as u32)).copied().unwrap_or(0);
            if v != w {
                errs.push(format!("counter {c:?}: {v}, model {w}"));
            }
        }
        if errs.is_empty() {
            Ok((
                e.rx.len() as u64,
                delivered as u64,
                mac.len() as u64 - synacks,
                synacks,
            ))
        } else {
            Err(errs.join("\n  "))
        }
    }
}

fn setup_state(rng: &mut StdRng) -> SetupState {
    let mut key = [0u8; 16];
    rng.fill(&mut key[..]);
    let mut s = SetupState {
        enabled: true,
        cfg: SetupConfig {
            keys: [Some(key), None],
            ..SetupConfig::default()
        },
        cookie_t: rng.gen_range(0..1000),
        ts_now: rng.gen(),
        local_mac: LOCAL_MAC,
        local_ips: [SERVER, [0; 4], [0; 4], [0; 4]],
        ..SetupState::default()
    };
    s.listeners[0] = Some(Listener {
        ip: Some(SERVER),
        port: 80,
        offload: true,
    });
    s.listeners[1] = Some(Listener {
        ip: None,
        port: 22,
        offload: false,
    });
    s
}

/// The next register state (changes made between epochs).
fn next_config(rng: &mut StdRng, cur: &NicConfig, t: &mut Totals) -> NicConfig {
    let mut c = cur.clone();
    if rng.gen_ratio(1, 4) {
        t.reg_changes += 1;
        match rng.gen_range(0..6) {
            0 => {
                c.rss_enable = !c.rss_enable;
                rng.fill(&mut c.rss_key[..]);
                for e in c.rss_table.iter_mut() {
                    *e = rng.gen_range(0..4);
                }
            }
            1 => c.drop_bad_csum = !c.drop_bad_csum,
            2 => {
                c.max_frame = if rng.gen() {
                    9018
                } else {
                    rng.gen_range(60..9018)
                }
            }
            3 => {
                c.setup = if c.setup.enabled {
                    SetupState::default()
                } else {
                    setup_state(rng)
                };
            }
            4 => {
                let q = rng.gen_range(0..4);
                c.queue_enabled[q] = !c.queue_enabled[q];
            }
            _ => {}
        }
    }
    c
}

/// SYN (flood) or ACK (storm) frames to the offloaded listener.
fn to_listener(rng: &mut StdRng, syn: bool) -> GenFrame {
    let len = rng.gen_range(60..200);
    let mut s = gen::random_tcp(rng, len);
    s.ip.dst = SERVER;
    s.ip.dst_mac = LOCAL_MAC;
    s.ip.more_frags = false;
    s.ip.frag_offset = 0;
    s.dst_port = 80;
    s.flags = if syn { 0x02 } else { 0x10 };
    if syn {
        s.payload.clear();
    }
    GenFrame {
        bytes: gen::tcp_frame(&s),
        mac_error: false,
    }
}

fn make_epoch(rng: &mut StdRng, cfg: &NicConfig, max_frames: usize, uniform: bool) -> Epoch {
    let mut e = Epoch::default();
    let n = rng.gen_range(1..=max_frames);
    let mut synacks = 0;
    let flood = rng.gen_ratio(1, 5);
    let storm = rng.gen_ratio(1, 5);
    while e.rx.len() < n {
        let k = rng.gen_range(0..100);
        let f = if (flood && k < 40) || k < 8 {
            to_listener(rng, true)
        } else if (storm && k < 80) || k < 16 {
            to_listener(rng, false)
        } else if k < 30 {
            let class = gen::Malformed::ALL[rng.gen_range(0..gen::Malformed::ALL.len())];
            gen::malformed(rng, class, 9018)
        } else {
            gen::random_frame(rng, 9018).1
        };
        if f.bytes.is_empty() {
            continue;
        }
        if !f.mac_error && nic::predict_synack(cfg, &f.bytes).is_some() {
            if synacks >= MAX_SYNACKS {
                continue;
            }
            synacks += 1;
        }
        e.rx.push(f);
    }
    let sends = rng.gen_range(0..24);
    // SYN-ACKs share the TX checksum stage, with both insertions: with
    // uniform flags, an epoch with SYN-ACKs sends host frames with both.
    let epoch_flags: u16 = if synacks > 0 { 3 } else { rng.gen_range(0..4) };
    for i in 0..sends {
        let q = rng.gen_range(0..4);
        if rng.gen_ratio(1, 12) {
            e.tx.push(Send::Bad {
                q,
                kind: rng.gen_range(0..4),
            });
            continue;
        }
        let len = if i % 5 == 0 {
            rng.gen_range(60..9018)
        } else {
            rng.gen_range(60..1518)
        };
        let mut bytes = match rng.gen_range(0..4) {
            0 => gen::random_frame(rng, 9018).1.bytes,
            _ => gen::tcp_frame(&gen::random_tcp(rng, len)),
        };
        if bytes.len() < 14 {
            bytes.resize(60, 0);
        }
        if bytes.len() > 9018 {
            bytes.truncate(9018);
        }
        // Spoil the checksums sometimes, so that insertion shows.
        if bytes.len() > 60 && rng.gen() {
            bytes[24] ^= 0x5a;
        }
        let pick = rng.gen_range(0..4);
        let flags = match if uniform { epoch_flags } else { pick } {
            0 => 0,
            1 => d::TXF_CSUM_IP,
            2 => d::TXF_CSUM_TCP,
            _ => d::TXF_CSUM_IP | d::TXF_CSUM_TCP,
        };
        e.tx.push(Send::Frame { q, bytes, flags });
    }
    e
}

/// Environment knobs for the next epoch.
fn knobs(rng: &mut StdRng, h: &mut Harness) {
    h.mac_rx.beat_gap = [0.0, 0.0, 0.05, 0.3][rng.gen_range(0..4)];
    h.mac_rx.frame_gap = [0.0, 0.1, 0.5, 0.9][rng.gen_range(0..4)];
    h.mac_tx.backpressure = [0.0, 0.0, 0.2, 0.6][rng.gen_range(0..4)];
    let a = &mut h.axi.cfg;
    a.read_latency = [4, 40, 250, 600][rng.gen_range(0..4)];
    a.write_latency = [4, 40, 250][rng.gen_range(0..3)];
    a.read_bandwidth = [1.0, 1.0, 0.5, 0.25][rng.gen_range(0..4)];
    a.write_bandwidth = [1.0, 1.0, 0.5][rng.gen_range(0..3)];
    a.ready_stall = [0.0, 0.0, 0.1, 0.4][rng.gen_range(0..4)];
}

/// Everything a run needs to reproduce one epoch.
struct Failure {
    epoch: u64,
    cfg_before: NicConfig,
    traffic: Epoch,
    why: String,
}

/// The main loop; stops at `stop_epoch` (for the FST replay) or at the
/// budget.  Returns the totals and the first failure.
fn run(args: &Args, seed: u64, fst_epoch: Option<(u64, &Path)>) -> (Totals, u64, Vec<Failure>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut chip = Chip::new(seed, fst_epoch.is_some());
    let mut failures: Vec<Failure> = Vec::new();
    // Cycles of the chips replaced after a mismatch (--keep-going).
    let mut done_cycles = 0u64;
    let mut t = Totals {
        epochs: 0,
        rx_frames: 0,
        delivered: 0,
        tx_frames: 0,
        synacks: 0,
        reg_changes: 0,
        queue_resets: 0,
    };
    let start = Instant::now();
    let mut last_print = Instant::now();
    loop {
        if done_cycles + chip.h.cycle() >= args.cycles
            || args.frames.is_some_and(|f| t.rx_frames >= f)
        {
            break;
        }
        let cfg = next_config(&mut rng, &chip.cfg, &mut t);
        if cfg != chip.cfg {
            chip.apply(&cfg);
        }
        if rng.gen_ratio(1, 25) {
            let q = rng.gen_range(0..4);
            if chip.cfg.queue_enabled[q] {
                chip.reset_queue(q);
                t.queue_resets += 1;
            }
        }
        knobs(&mut rng, &mut chip.h);
        let e = make_epoch(
            &mut rng,
            &chip.cfg,
            args.epoch_frames,
            args.uniform_tx_flags,
        );
        let cfg_before = chip.cfg.clone();
        if let Some((k, path)) = fst_epoch {
            if k == t.epochs {
                chip.h.enable_fst(path).expect("start the waveform");
            }
        }
        match chip.run_epoch(&e, None) {
            Ok((rx, delivered, tx, sa)) => {
                t.rx_frames += rx;
                t.delivered += delivered;
                t.tx_frames += tx;
                t.synacks += sa;
            }
            Err(why) => {
                chip.h.flush();
                let epoch = t.epochs;
                let first = why.lines().next().unwrap_or("").to_string();
                failures.push(Failure {
                    epoch,
                    cfg_before,
                    traffic: e,
                    why,
                });
                if !args.keep_going || fst_epoch.is_some() {
                    let c = done_cycles + chip.h.cycle();
                    return (t, c, failures);
                }
                eprintln!(
                    "  mismatch {} at epoch {epoch} (cycle {}): {first}",
                    failures.len(),
                    done_cycles + chip.h.cycle()
                );
                done_cycles += chip.h.cycle();
                chip = Chip::new(seed ^ failures.len() as u64, false);
            }
        }
        t.epochs += 1;
        if fst_epoch.is_some_and(|(k, _)| t.epochs > k) {
            chip.h.flush();
            break;
        }
        if last_print.elapsed().as_secs() >= 30 {
            last_print = Instant::now();
            let c = done_cycles + chip.h.cycle();
            eprintln!(
                "  {} cycles ({:.0}%), {} epochs, {} frames in, {:.2} Mcycles/s",
                c,
                100.0 * c as f64 / args.cycles as f64,
                t.epochs,
                t.rx_frames,
                c as f64 / start.elapsed().as_secs_f64() / 1e6
            );
        }
    }
    let c = done_cycles + chip.h.cycle();
    (t, c, failures)
}

/// Whether `e` fails on a fresh chip whose registers are `cfg`.
fn fails_alone(seed: u64, cfg: &NicConfig, e: &Epoch) -> Option<String> {
    let mut chip = Chip::new(seed, false);
    chip.apply(cfg);
    chip.run_epoch(e, None).err()
}

/// Shrinks the epoch's traffic while it still fails on a fresh chip:
/// halves first, then single frames and sends.
fn shrink(seed: u64, cfg: &NicConfig, e: &Epoch) -> Option<Epoch> {
    fails_alone(seed, cfg, e)?;
    let mut cur = e.clone();
    let mut chunk = (cur.rx.len().max(cur.tx.len()) / 2).max(1);
    let mut tries = 0;
    while chunk >= 1 && tries < 200 {
        let mut progress = false;
        for list in 0..2 {
            let len = if list == 0 {
                cur.rx.len()
            } else {
                cur.tx.len()
            };
            let mut i = 0;
            while i < len && tries < 200 {
                let mut cand = cur.clone();
                if list == 0 {
                    let end = (i + chunk).min(cand.rx.len());
                    if i >= end {
                        break;
                    }
                    cand.rx.drain(i..end);
                } else {
                    let end = (i + chunk).min(cand.tx.len());
                    if i >= end {
                        break;
                    }
                    cand.tx.drain(i..end);
                }
                tries += 1;
                if fails_alone(seed, cfg, &cand).is_some() {
                    cur = cand;
                    progress = true;
                } else {
                    i += chunk;
                }
            }
        }
        if !progress {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    Some(cur)
}

fn main() {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    println!(
        "toe-diff: seed {seed} (replay with --seed {seed}), budget {} cycles{}",
        args.cycles,
        args.frames
            .map_or(String::new(), |f| format!(" or {f} frames"))
    );
    let t0 = Instant::now();
    let (t, cycles, fails) = run(&args, seed, None);
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "toe-diff: seed {seed}: {cycles} cycles, {} epochs, {} RX frames in, {} delivered, {} host frames sent, {} SYN-ACKs, {} register changes, {} queue resets, {} mismatches, in {secs:.0} s ({:.2} Mcycles/s)",
        t.epochs,
        t.rx_frames,
        t.delivered,
        t.tx_frames,
        t.synacks,
        t.reg_changes,
        t.queue_resets,
        fails.len(),
        cycles as f64 / secs / 1e6
    );
    if fails.len() > 1 {
        for f in &fails {
            println!(
                "  mismatch at epoch {}: {}",
                f.epoch,
                f.why.lines().next().unwrap_or("")
            );
        }
    }
    let Some(f) = fails.into_iter().next() else {
        return;
    };
    println!("MISMATCH at epoch {} (seed {seed}):\n  {}", f.epoch, f.why);
    std::fs::create_dir_all(&args.out).ok();
    let pcap_path = args.out.join(format!("mismatch-{seed}.pcap"));
    if let Ok(mut p) = PcapCapture::create(&pcap_path, Direction::Both) {
        let mut chip = Chip::new(seed, false);
        chip.apply(&f.cfg_before);
        let _ = chip.run_epoch(&f.traffic, Some(&mut p));
        p.flush();
        println!(
            "  the epoch's frames (fresh chip, same registers): {}",
            pcap_path.display()
        );
    }
    if !args.no_artefacts {
        let fst = args.out.join(format!("mismatch-{seed}.fst"));
        let replay = Args {
            cycles: u64::MAX,
            frames: None,
            ..args.clone()
        };
        let _ = run(&replay, seed, Some((f.epoch, &fst)));
        println!(
            "  waveform of the failing epoch (full replay): {}",
            fst.display()
        );
        match shrink(seed, &f.cfg_before, &f.traffic) {
            Some(small) => {
                let path = args.out.join(format!("repro-{seed}.pcap"));
                if let Ok(mut p) = PcapCapture::create(&path, Direction::Both) {
                    let mut chip = Chip::new(seed, false);
                    chip.apply(&f.cfg_before);
                    let why = chip.run_epoch(&small, Some(&mut p)).err().unwrap_or_default();
                    p.flush();
                    println!(
                        "  shortest reproduction found: {} RX frames, {} sends, on a fresh chip with the epoch's registers: {}\n  {}",
                        small.rx.len(),
                        small.tx.len(),
                        path.display(),
                        why
                    );
                    println!("  registers: {:?}", f.cfg_before);
                }
            }
            None => println!("  the epoch passes on a fresh chip: the mismatch needs the run's history (replay with --seed {seed})"),
        }
    }
    std::process::exit(1);
}
