//! Drives the Verilated connection table (`toe_hdl::common::conn_table`)
//! in closed loop and checks every result against the reference model
//! (`toe_model::conn_table`): command responses (status, previous value,
//! location, evictions) exactly, entry and stash counts whenever no command
//! is in progress, and every lookup against the documented ordering rule.
//!
//! The ordering rule checked: a lookup presented in cycle `c` answers from
//! the table as of its snapshot `S = c + 13` (the edge that ends cycle
//! `c + 13`).  A command whose response first shows in a cycle `r <= S` must
//! be visible; one accepted in a cycle `a >= S` must not; one in progress
//! (`a < S < r`) may be either (only its own key can differ).  A lookup's
//! result must come exactly CONN_LOOKUP_LATENCY cycles after it, unless a
//! reset fell in between.  Shared by tests/conn_table_vlt.rs and
//! benches/conn_table.rs.
#![allow(dead_code)]

use crate::common::vlt_block::{Val, VltBlock};
use crate::vlt_live::VltLive;
use rust_hdl::prelude::*;
use std::collections::HashMap;
use toe_hdl::common::conn_table::{ConnTable, CONN_LOOKUP_LATENCY};
use toe_model::conn_table::{ConnTableModel, Response, Status, OP_CLEAR};

pub const VALUE_BITS: usize = 32;

/// The block's Verilog and ports, for `2^B`-bucket tables.
pub fn block<const B: usize>(name: &str) -> VltBlock {
    let mut uut = ConnTable::<B, VALUE_BITS>::default();
    uut.connect_all();
    VltBlock::new(name, generate_verilog(&uut), "top")
        .clock("clock")
        .input("rst", 1)
        .input("hash_k0", 64)
        .input("hash_k1", 64)
        .input("lk_valid", 1)
        .input("lk_key", 96)
        .input("lk_tag", 32)
        .input("h_cmd_valid", 1)
        .input("h_cmd_op", 3)
        .input("h_cmd_key", 96)
        .input("h_cmd_value", 32)
        .input("h_rsp_ready", 1)
        .input("o_cmd_valid", 1)
        .input("o_cmd_op", 3)
        .input("o_cmd_key", 96)
        .input("o_cmd_value", 32)
        .input("o_rsp_ready", 1)
        .output("lk_out_valid", 1)
        .output("lk_out_hit", 1)
        .output("lk_out_value", 32)
        .output("lk_out_tag", 32)
        .output("h_cmd_ready", 1)
        .output("h_rsp_valid", 1)
        .output("h_rsp_status", 2)
        .output("h_rsp_value", 32)
        .output("h_rsp_loc", 20)
        .output("h_rsp_kicks", 8)
        .output("o_cmd_ready", 1)
        .output("o_rsp_valid", 1)
        .output("o_rsp_status", 2)
        .output("o_rsp_value", 32)
        .output("o_rsp_loc", 20)
        .output("o_rsp_kicks", 8)
        .output("clearing", 1)
        .output("busy", 1)
        .output("entries", 20)
        .output("stash_used", 3)
}

// Output indices.
const O_LK_VALID: usize = 0;
const O_LK_HIT: usize = 1;
const O_LK_VALUE: usize = 2;
const O_LK_TAG: usize = 3;
/// Command port p's outputs start at 4 + 6p: ready, rsp valid, status,
/// value, loc, kicks.
const O_PORT: usize = 4;
const O_CLEARING: usize = 16;
const O_BUSY: usize = 17;
const O_ENTRIES: usize = 18;
const O_STASH: usize = 19;

/// A command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmd {
    pub op: u8,
    pub key: u128,
    pub value: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    cmd: Cmd,
    accepted: u64,
    expect: Response,
    event: usize,
}

/// A change of the table: a command (key `Some`) or a clear (`None`), with
/// its acceptance cycle, the first cycle of its response (or the end of
/// the sweep) and the key's value after it.
#[derive(Clone, Debug)]
struct Event {
    a: u64,
    r: Option<u64>,
    key: Option<u128>,
    after: Option<u64>,
}

/// A logged command and its result.
#[derive(Clone, Debug)]
pub struct Done {
    pub port: usize,
    pub cmd: Cmd,
    pub rsp: Response,
    /// Cycles from acceptance to the first cycle of the response.
    pub cycles: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub lookups: u64,
    pub lookup_hits: u64,
    /// Lookups whose key had a command in progress at the snapshot.
    pub lookup_in_flight: u64,
    pub lookups_lost_to_reset: u64,
    pub commands: u64,
    pub by_status: [u64; 4],
    pub by_op: [u64; 5],
    pub walks: u64,
    pub max_kicks: u32,
    pub resets: u64,
    pub count_checks: u64,
    /// Cycles of the first and the last lookup result.
    pub first_result: Option<u64>,
    pub last_result: u64,
}

pub struct Tb {
    pub sim: VltLive,
    pub model: ConnTableModel,
    pub k0: u64,
    pub k1: u64,
    /// The command each port presents (until accepted).
    pub port_cmd: [Option<Cmd>; 2],
    pending: [Option<Pending>; 2],
    pub rsp_ready: [bool; 2],
    lookups: HashMap<u32, (u64, u128)>,
    next_tag: u32,
    events: Vec<Event>,
    by_key: HashMap<u128, Vec<usize>>,
    clears: Vec<usize>,
    open_reset: Option<usize>,
    pub stats: Stats,
    pub log: Vec<Done>,
    /// The outputs of the last cycle.
    pub last: Vec<Val>,
}

fn v(x: u64) -> Val {
    Val(vec![x])
}

fn v128(x: u128) -> Val {
    Val::from(x)
}

impl Tb {
    /// Starts the simulation of `b` (a table of `2^bucket_bits` buckets),
    /// resets it and waits for the sweep.
    pub fn new(b: &VltBlock, bucket_bits: u32, k0: u64, k1: u64) -> Tb {
        let mut tb = Tb {
            sim: VltLive::start(b),
            model: ConnTableModel::new(bucket_bits, VALUE_BITS as u32, k0, k1),
            k0,
            k1,
            port_cmd: [None, None],
            pending: [None, None],
            rsp_ready: [true, true],
            lookups: HashMap::new(),
            next_tag: 0,
            events: vec![],
            by_key: HashMap::new(),
            clears: vec![],
            open_reset: None,
            stats: Stats::default(),
            log: vec![],
            last: vec![],
        };
        tb.reset(2);
        tb.idle_until_ready();
        tb
    }

    /// `n` cycles of reset.
    pub fn reset(&mut self, n: usize) {
        for _ in 0..n {
            self.cycle_inner(true, None);
        }
    }

    /// Idle cycles until the sweep is over and no command is in progress.
    pub fn idle_until_ready(&mut self) {
        let mut guard = 0;
        loop {
            self.cycle(None);
            let idle = self.pending.iter().all(Option::is_none)
                && self.port_cmd.iter().all(Option::is_none)
                && !self.last[O_CLEARING].bit()
                && !self.last[O_BUSY].bit();
            if idle && self.lookups.is_empty() {
                return;
            }
            guard += 1;
            assert!(guard < 1 << 22, "table never became idle");
        }
    }

    /// One cycle with an optional lookup.
    pub fn cycle(&mut self, lookup: Option<u128>) {
        self.cycle_inner(false, lookup);
    }

    fn inputs(&mut self, rst: bool, lookup: Option<u128>) -> Vec<Val> {
        let mut inp = vec![v(rst as u64), v(self.k0), v(self.k1), v(0), v(0), v(0)];
        if let (false, Some(k)) = (rst, lookup) {
            inp[3] = v(1);
            inp[4] = v128(k);
            inp[5] = v(self.next_tag as u64);
        }
        for p in 0..2 {
            match (rst, self.port_cmd[p]) {
                (false, Some(c)) => {
                    inp.extend([v(1), v(c.op as u64), v128(c.key), v(c.value)]);
                }
                _ => inp.extend([v(0), v(0), v(0), v(0)]),
            }
            inp.push(v(self.rsp_ready[p] as u64));
        }
        inp
    }

    fn cycle_inner(&mut self, rst: bool, lookup: Option<u128>) {
        let n = self.sim.cycle;
        let inp = self.inputs(rst, lookup);
        let o = self.sim.step(&inp);
        self.process(n, rst, lookup, o);
    }

    fn process(&mut self, n: u64, rst: bool, lookup: Option<u128>, o: Vec<Val>) {
        // Lookup results.
        if o[O_LK_VALID].bit() {
            let tag = o[O_LK_TAG].u64() as u32;
            let (c, key) = self
                .lookups
                .remove(&tag)
                .unwrap_or_else(|| panic!("cycle {n}: lookup result with unknown tag {tag}"));
            assert_eq!(
                n,
                c + CONN_LOOKUP_LATENCY as u64,
                "lookup {tag} of key {key:x} presented in cycle {c}: result in cycle {n}"
            );
            let (base, in_flight) = self.allowed(key, c + 13);
            let got = o[O_LK_HIT].bit().then(|| o[O_LK_VALUE].u64());
            if !o[O_LK_HIT].bit() {
                assert_eq!(o[O_LK_VALUE].u64(), 0, "cycle {n}: a miss with a value");
            }
            let ok = got == base || in_flight.is_some_and(|x| x == got);
            assert!(
                ok,
                "cycle {n}: lookup of key {key:x} (presented in cycle {c}, snapshot cycle {}): \
                 got {got:x?}, expected {base:x?}{}",
                c + 13,
                match in_flight {
                    Some(x) => format!(" or {x:x?} (a command in progress)"),
                    None => String::new(),
                }
            );
            self.stats.lookups += 1;
            self.stats.first_result.get_or_insert(n);
            self.stats.last_result = n;
            self.stats.lookup_hits += got.is_some() as u64;
            self.stats.lookup_in_flight += in_flight.is_some() as u64;
        }
        if rst {
            // Everything in flight is dropped; the table is emptied.
            let lost: Vec<u32> = self
                .lookups
                .iter()
                .filter(|(_, (c, _))| c + CONN_LOOKUP_LATENCY as u64 > n)
                .map(|(t, _)| *t)
                .collect();
            for t in lost {
                self.lookups.remove(&t);
                self.stats.lookups_lost_to_reset += 1;
            }
            for p in 0..2 {
                if let Some(pd) = self.pending[p].take() {
                    // Its effect, if any, is wiped by the reset's sweep.
                    let e = &mut self.events[pd.event];
                    if e.r.is_none() {
                        e.r = Some(n);
                    }
                }
            }
            if self.open_reset.is_none() {
                self.model.clear();
                let idx = self.push_event(n, None, None);
                self.open_reset = Some(idx);
                self.stats.resets += 1;
            }
            self.last = o;
            return;
        }
        if let Some(idx) = self.open_reset {
            if !o[O_CLEARING].bit() {
                self.events[idx].r = Some(n);
                self.open_reset = None;
            }
        }
        // Counts, when no command is in progress.
        if self.pending.iter().all(Option::is_none) && self.open_reset.is_none() && !o[O_BUSY].bit()
        {
            assert_eq!(
                (o[O_ENTRIES].u64() as usize, o[O_STASH].u64() as usize),
                (self.model.entries(), self.model.stash_used()),
                "cycle {n}: (entries, stash used)"
            );
            self.stats.count_checks += 1;
        }
        for p in 0..2 {
            let base = O_PORT + 6 * p;
            // Response.
            if o[base + 1].bit() {
                let pd = self.pending[p]
                    .as_ref()
                    .unwrap_or_else(|| panic!("cycle {n}: response on port {p} without a command"));
                let ev = pd.event;
                if self.events[ev].r.is_none() {
                    self.events[ev].r = Some(n);
                }
                if self.rsp_ready[p] {
                    let pd = self.pending[p].take().unwrap();
                    let got = (
                        o[base + 2].u64(),
                        o[base + 3].u64(),
                        o[base + 4].u64() as u32,
                        o[base + 5].u64() as u32,
                    );
                    let want = (
                        pd.expect.status as u64,
                        pd.expect.value,
                        pd.expect.loc_bits(),
                        pd.expect.kicks,
                    );
                    assert_eq!(
                        got, want,
                        "cycle {n}: response (status, value, loc, kicks) on port {p} to {:x?} accepted in cycle {}",
                        pd.cmd, pd.accepted
                    );
                    self.stats.commands += 1;
                    self.stats.by_status[pd.expect.status as usize] += 1;
                    self.stats.by_op[(pd.cmd.op as usize).min(4)] += 1;
                    if pd.expect.kicks > 0
                        || matches!(pd.expect.loc, Some(toe_model::conn_table::Loc::Stash(_)))
                            && pd.cmd.op == 1
                    {
                        self.stats.walks += 1;
                    }
                    self.stats.max_kicks = self.stats.max_kicks.max(pd.expect.kicks);
                    self.log.push(Done {
                        port: p,
                        cmd: pd.cmd,
                        rsp: pd.expect,
                        cycles: self.events[ev].r.unwrap() - pd.accepted,
                    });
                }
            }
            // Acceptance.
            if let Some(c) = self.port_cmd[p] {
                if o[base].bit() {
                    assert!(
                        self.pending[p].is_none(),
                        "port {p} accepted a second command"
                    );
                    let expect = self.model.command(c.op, c.key, c.value);
                    let event = if c.op == OP_CLEAR {
                        self.push_event(n, None, None)
                    } else {
                        let after = self.model.lookup(c.key);
                        self.push_event(n, Some(c.key), after)
                    };
                    self.pending[p] = Some(Pending {
                        cmd: c,
                        accepted: n,
                        expect,
                        event,
                    });
                    self.port_cmd[p] = None;
                }
            }
        }
        if let Some(k) = lookup {
            self.lookups.insert(self.next_tag, (n, k));
            self.next_tag = self.next_tag.wrapping_add(1);
        }
        self.last = o;
    }

    fn push_event(&mut self, a: u64, key: Option<u128>, after: Option<u64>) -> usize {
        let i = self.events.len();
        self.events.push(Event {
            a,
            r: None,
            key,
            after,
        });
        match key {
            Some(k) => self.by_key.entry(k).or_default().push(i),
            None => self.clears.push(i),
        }
        i
    }

    /// The value a lookup of `key` with snapshot `s` must give, and the
    /// other one it may give (a command on the key in progress).
    fn allowed(&self, key: u128, s: u64) -> (Option<u64>, Option<Option<u64>>) {
        let empty = vec![];
        let ks = self.by_key.get(&key).unwrap_or(&empty);
        let (mut i, mut j) = (0, 0);
        let mut base = None;
        let mut in_flight = None;
        loop {
            let next = match (ks.get(i), self.clears.get(j)) {
                (Some(&a), Some(&b)) => {
                    if a < b {
                        i += 1;
                        a
                    } else {
                        j += 1;
                        b
                    }
                }
                (Some(&a), None) => {
                    i += 1;
                    a
                }
                (None, Some(&b)) => {
                    j += 1;
                    b
                }
                (None, None) => break,
            };
            let e = &self.events[next];
            if e.r.is_some_and(|r| r <= s) {
                base = e.after;
                in_flight = None;
            } else if e.a < s {
                in_flight = Some(e.after);
            } else {
                break;
            }
        }
        (base, in_flight)
    }

    /// Whether port `p` can take a new command to present.
    pub fn port_free(&self, p: usize) -> bool {
        self.port_cmd[p].is_none()
    }

    pub fn in_progress(&self, p: usize) -> bool {
        self.pending[p].is_some()
    }

    /// Runs one command on port `p` to completion (lookups idle; other port
    /// idle) in hold mode; returns the checked response and its cycles from
    /// acceptance to response.
    pub fn command_hold(&mut self, p: usize, c: Cmd) -> (Response, u64) {
        assert!(
            self.port_cmd.iter().all(Option::is_none) && self.pending.iter().all(Option::is_none)
        );
        assert!(self.lookups.is_empty());
        self.port_cmd[p] = Some(c);
        let base = O_PORT + 6 * p;
        let inp = self.inputs(false, None);
        let (k, o) = self.sim.hold_until(&inp, base, 1 << 20);
        let n = self.sim.cycle - 1;
        assert!(o[base].bit(), "port {p} not ready after {k} cycles");
        self.process(n, false, None, o);
        // Wait for the response with the command withdrawn.
        let inp = self.inputs(false, None);
        let (k, o) = self.sim.hold_until(&inp, base + 1, 1 << 20);
        let n = self.sim.cycle - 1;
        assert!(o[base + 1].bit(), "no response after {k} cycles");
        self.process(n, false, None, o);
        let d = self.log.last().unwrap();
        (d.rsp, d.cycles)
    }

    pub fn insert(&mut self, key: u128, value: u64) -> Status {
        self.command_hold(0, Cmd { op: 1, key, value }).0.status
    }
}
