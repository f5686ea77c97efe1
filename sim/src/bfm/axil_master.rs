//! AXI4-Lite master for the DUT's register slave (BAR0): queued reads and
//! writes, one transaction at a time, results collected by ticket.
use super::Violation;
use std::collections::{HashMap, VecDeque};

/// Pins the master drives (DUT inputs `s_axil_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxilMasterPins {
    pub awaddr: u32,
    pub awvalid: bool,
    pub wdata: u32,
    pub wstrb: u32,
    pub wvalid: bool,
    pub bready: bool,
    pub araddr: u32,
    pub arvalid: bool,
    pub rready: bool,
}

/// Pins the DUT drives (outputs `s_axil_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxilSlavePins {
    pub awready: bool,
    pub wready: bool,
    pub bresp: u32,
    pub bvalid: bool,
    pub arready: bool,
    pub rdata: u32,
    pub rresp: u32,
    pub rvalid: bool,
}

/// A queued register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxilOp {
    Write { addr: u32, data: u32, strb: u32 },
    Read { addr: u32 },
}

/// Outcome of a finished access.  `resp` is the AXI response (0 OKAY,
/// 2 SLVERR, 3 DECERR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxilResult {
    Write {
        resp: u32,
        issued: u64,
        done: u64,
    },
    Read {
        data: u32,
        resp: u32,
        issued: u64,
        done: u64,
    },
}

/// Handle of a queued access.
pub type Ticket = u64;

struct Cur {
    ticket: Ticket,
    op: AxilOp,
    a_done: bool,
    w_done: bool,
    issued: Option<u64>,
}

/// Issues queued accesses in order, one at a time: for a write, address
/// and data are offered together (each held until taken) and `bready` is
/// high; for a read, `arvalid` until taken, then `rready`.
pub struct AxilMaster {
    queue: VecDeque<(Ticket, AxilOp)>,
    cur: Option<Cur>,
    pins: AxilMasterPins,
    results: HashMap<Ticket, AxilResult>,
    next: Ticket,
    /// Completed accesses.
    pub completed: u64,
    pub violations: Vec<Violation>,
}

const MODEL: &str = "AXI4-Lite master";

impl Default for AxilMaster {
    fn default() -> Self {
        Self::new()
    }
}

impl AxilMaster {
    pub fn new() -> Self {
        AxilMaster {
            queue: VecDeque::new(),
            cur: None,
            pins: AxilMasterPins::default(),
            results: HashMap::new(),
            next: 0,
            completed: 0,
            violations: Vec::new(),
        }
    }

    fn push(&mut self, op: AxilOp) -> Ticket {
        let addr = match op {
            AxilOp::Write { addr, .. } | AxilOp::Read { addr } => addr,
        };
        assert!(
            addr <= 0xffff,
            "AXI4-Lite address {addr:#x} beyond the 16-bit BAR0"
        );
        assert!(
            addr % 4 == 0,
            "AXI4-Lite address {addr:#x} not 32-bit aligned"
        );
        let t = self.next;
        self.next += 1;
        self.queue.push_back((t, op));
        t
    }

    /// Queues a full-word write.
    pub fn write(&mut self, addr: u32, data: u32) -> Ticket {
        self.push(AxilOp::Write {
            addr,
            data,
            strb: 0xf,
        })
    }
    /// Queues a write with byte strobes (`strb` bit i enables byte i).
    pub fn write_strb(&mut self, addr: u32, data: u32, strb: u32) -> Ticket {
        self.push(AxilOp::Write {
            addr,
            data,
            strb: strb & 0xf,
        })
    }
    /// Queues a read.
    pub fn read(&mut self, addr: u32) -> Ticket {
        self.push(AxilOp::Read { addr })
    }
    /// Takes the result of a finished access.
    pub fn take(&mut self, t: Ticket) -> Option<AxilResult> {
        self.results.remove(&t)
    }
    /// Whether the access has finished (result not yet taken).
    pub fn is_done(&self, t: Ticket) -> bool {
        self.results.contains_key(&t)
    }
    /// No access queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.cur.is_none() && self.queue.is_empty()
    }

    /// Pins for this cycle.
    pub fn drive(&mut self) -> AxilMasterPins {
        if self.cur.is_none() {
            if let Some((ticket, op)) = self.queue.pop_front() {
                self.cur = Some(Cur {
                    ticket,
                    op,
                    a_done: false,
                    w_done: false,
                    issued: None,
                });
            }
        }
        // Address and data pins keep their last values when unused.
        let mut p = self.pins;
        p.awvalid = false;
        p.wvalid = false;
        p.bready = false;
        p.arvalid = false;
        p.rready = false;
        match &self.cur {
            Some(Cur {
                op: AxilOp::Write { addr, data, strb },
                a_done,
                w_done,
                ..
            }) => {
                p.awaddr = *addr;
                p.wdata = *data;
                p.wstrb = *strb;
                p.awvalid = !a_done;
                p.wvalid = !w_done;
                p.bready = true;
            }
            Some(Cur {
                op: AxilOp::Read { addr },
                a_done,
                ..
            }) => {
                p.araddr = *addr;
                p.arvalid = !a_done;
                p.rready = true;
            }
            None => {}
        }
        self.pins = p;
        p
    }

    /// Takes the slave's pins as sampled before the edge.
    pub fn update(&mut self, s: &AxilSlavePins, cycle: u64) {
        let p = self.pins;
        let Some(cur) = self.cur.as_mut() else {
            if s.bvalid || s.rvalid {
                let what = format!(
                    "bvalid={} rvalid={} with no access in flight",
                    s.bvalid, s.rvalid
                );
                self.violations.push(Violation {
                    cycle,
                    model: MODEL,
                    what,
                });
            }
            return;
        };
        cur.issued.get_or_insert(cycle);
        let mut bad = None;
        match cur.op {
            AxilOp::Write { .. } => {
                let b_ok = cur.a_done && cur.w_done;
                cur.a_done |= p.awvalid && s.awready;
                cur.w_done |= p.wvalid && s.wready;
                if s.rvalid {
                    bad = Some("rvalid during a write".to_string());
                }
                if s.bvalid {
                    if !b_ok {
                        bad = Some("bvalid before both address and data were taken".into());
                    }
                    let r = AxilResult::Write {
                        resp: s.bresp,
                        issued: cur.issued.unwrap(),
                        done: cycle,
                    };
                    self.results.insert(cur.ticket, r);
                    self.cur = None;
                    self.completed += 1;
                }
            }
            AxilOp::Read { .. } => {
                let r_ok = cur.a_done;
                cur.a_done |= p.arvalid && s.arready;
                if s.bvalid {
                    bad = Some("bvalid during a read".to_string());
                }
                if s.rvalid {
                    if !r_ok {
                        bad = Some("rvalid before the address was taken".into());
                    }
                    let r = AxilResult::Read {
                        data: s.rdata,
                        resp: s.rresp,
                        issued: cur.issued.unwrap(),
                        done: cycle,
                    };
                    self.results.insert(cur.ticket, r);
                    self.cur = None;
                    self.completed += 1;
                }
            }
        }
        if let Some(what) = bad {
            self.violations.push(Violation {
                cycle,
                model: MODEL,
                what,
            });
        }
    }
}
