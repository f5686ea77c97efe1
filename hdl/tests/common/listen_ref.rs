//! Plain Rust reference of the listener table (`toe_hdl::setup::listen`),
//! shared by listen_native.rs and listen_vlt.rs (included with `#[path]`).
#![allow(dead_code)]

use toe_hdl::setup::listen::LISTEN_ENTRIES;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub valid: bool,
    pub any_ip: bool,
    pub ip: u32,
    pub port: u16,
    pub offload: bool,
}

/// A lookup's answer (index and offload are 0 on a miss).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub hit: bool,
    pub exact: bool,
    pub offload: bool,
    pub index: usize,
}

#[derive(Clone, Debug)]
pub struct ListenRef {
    pub entries: [Entry; LISTEN_ENTRIES],
}

impl Default for ListenRef {
    fn default() -> Self {
        ListenRef {
            entries: [Entry::default(); LISTEN_ENTRIES],
        }
    }
}

impl ListenRef {
    /// The lowest-index valid exact entry for (ip, port), else the
    /// lowest-index valid any-IP entry for port, else a miss.
    pub fn lookup(&self, ip: u32, port: u16) -> Answer {
        let exact = self
            .entries
            .iter()
            .position(|e| e.valid && !e.any_ip && e.ip == ip && e.port == port);
        let any = self
            .entries
            .iter()
            .position(|e| e.valid && e.any_ip && e.port == port);
        match (exact, any) {
            (Some(i), _) => Answer {
                hit: true,
                exact: true,
                offload: self.entries[i].offload,
                index: i,
            },
            (None, Some(i)) => Answer {
                hit: true,
                exact: false,
                offload: self.entries[i].offload,
                index: i,
            },
            (None, None) => Answer::default(),
        }
    }

    pub fn write(&mut self, index: usize, e: Entry) {
        self.entries[index] = e;
    }

    pub fn reset(&mut self) {
        *self = ListenRef::default();
    }
}

/// One cycle of stimulus for the listener table.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cycle {
    pub rst: bool,
    pub wr: Option<(usize, Entry)>,
    pub rd_index: usize,
    pub query: Option<(u32, u16, u32)>,
}

/// What the table must show: `reads[n]` and `answers[n]` are the outputs
/// in cycle `n` (`None`: not checked / out_valid low).
pub struct Expected {
    pub reads: Vec<Option<Entry>>,
    pub answers: Vec<Option<(Answer, u32)>>,
    pub coverage: Coverage,
}

/// What the answers exercised.
#[derive(Clone, Copy, Debug, Default)]
pub struct Coverage {
    pub queries: usize,
    pub dropped_by_reset: usize,
    pub misses: usize,
    pub exact_hits: usize,
    pub any_hits: usize,
    /// Exact hits with a matching any-IP entry at a lower index.
    pub exact_over_lower_any: usize,
    /// Hits with a lower-index entry of the same class also matching but
    /// not valid.
    pub invalid_skipped: usize,
    /// Hits whose winner is entry 32 or above.
    pub high_index_hits: usize,
    /// Queries that answered differently from the same query one cycle
    /// earlier because of a write in between.
    pub changed_by_write: usize,
}

/// Runs the reference over a stimulus (cycle convention of the module doc:
/// a query sees the table before the writes of its own cycle; the read-back
/// shows in the next cycle, the answer `latency` cycles later; a reset in
/// cycle r drops the queries of cycles r - latency + 1 ..= r).
pub fn expect(cycles: &[Cycle], latency: usize) -> Expected {
    let n = cycles.len() + latency + 1;
    let mut reads = vec![None; n];
    let mut answers = vec![None; n];
    let mut t = ListenRef::default();
    let mut cov = Coverage::default();
    let mut last_overwritten = Entry::default();
    for (c, cy) in cycles.iter().enumerate() {
        reads[c + 1] = Some(if cy.rst {
            Entry::default()
        } else {
            t.entries[cy.rd_index]
        });
        if let Some((ip, port, tag)) = cy.query {
            let dropped = (c..c + latency).any(|r| cycles.get(r).is_some_and(|x| x.rst));
            let a = t.lookup(ip, port);
            cov.queries += 1;
            if dropped {
                cov.dropped_by_reset += 1;
            } else {
                answers[c + latency] = Some((a, tag));
                match (a.hit, a.exact) {
                    (false, _) => cov.misses += 1,
                    (true, true) => cov.exact_hits += 1,
                    (true, false) => cov.any_hits += 1,
                }
                let below = &t.entries[..if a.hit { a.index } else { 0 }];
                if a.exact && below.iter().any(|e| e.valid && e.any_ip && e.port == port) {
                    cov.exact_over_lower_any += 1;
                }
                if below.iter().any(|e| {
                    !e.valid && e.port == port && e.any_ip != a.exact && (e.any_ip || e.ip == ip)
                }) {
                    cov.invalid_skipped += 1;
                }
                if a.hit && a.index >= 32 {
                    cov.high_index_hits += 1;
                }
            }
            if c > 0 && cycles[c - 1].wr.is_some() && !cycles[c - 1].rst {
                let mut before = t.clone();
                before.entries[cycles[c - 1].wr.unwrap().0] = last_overwritten;
                if before.lookup(ip, port) != a {
                    cov.changed_by_write += 1;
                }
            }
        }
        if cy.rst {
            t.reset();
        } else if let Some((i, e)) = cy.wr {
            last_overwritten = t.entries[i];
            t.write(i, e);
        }
    }
    Expected {
        reads,
        answers,
        coverage: cov,
    }
}

/// A random stimulus that makes hits likely: addresses and ports from small
/// pools, writes in about `write_pct`% of cycles, queries in 7/8 of them,
/// and a reset of 1 to 3 cycles about every `reset_every` cycles (none if 0).
pub fn random_cycles(
    rnd: &mut impl FnMut() -> u64,
    count: usize,
    write_pct: u64,
    reset_every: u64,
) -> Vec<Cycle> {
    let ips = [0x0a00_0001u32, 0x0a00_0002, 0xc0a8_0101, 0xffff_ffff, 0];
    let ports = [80u16, 443, 8080, 0, 0xffff, 22];
    let mut out = vec![];
    // Start with a reset.
    out.push(Cycle {
        rst: true,
        ..Default::default()
    });
    let mut hot = 0usize; // a few indices get most writes, to force rewrites
    while out.len() < count {
        let r = rnd();
        if reset_every > 0 && r.is_multiple_of(reset_every) {
            for _ in 0..1 + rnd() % 3 {
                out.push(Cycle {
                    rst: true,
                    rd_index: (rnd() % 64) as usize,
                    wr: Some((
                        (rnd() % 64) as usize,
                        Entry {
                            valid: true,
                            any_ip: true,
                            ip: 0,
                            port: 80,
                            offload: true,
                        },
                    )),
                    query: Some((ips[0], 80, rnd() as u32)),
                });
            }
            continue;
        }
        let wr = (rnd() % 100 < write_pct).then(|| {
            let index = if rnd().is_multiple_of(2) {
                hot = (hot + (rnd() % 3) as usize) % 8;
                hot * 9 % 64
            } else {
                (rnd() % 64) as usize
            };
            let w = rnd();
            (
                index,
                Entry {
                    valid: !w.is_multiple_of(5),
                    any_ip: (w >> 8).is_multiple_of(3),
                    ip: if (w >> 16).is_multiple_of(16) {
                        (w >> 32) as u32
                    } else {
                        ips[((w >> 20) % ips.len() as u64) as usize]
                    },
                    port: ports[((w >> 24) % ports.len() as u64) as usize],
                    offload: (w >> 28).is_multiple_of(2),
                },
            )
        });
        let q = rnd();
        let query = (!q.is_multiple_of(8)).then(|| {
            let ip = if (q >> 8).is_multiple_of(16) {
                (q >> 32) as u32
            } else {
                ips[((q >> 12) % ips.len() as u64) as usize]
            };
            (
                ip,
                ports[((q >> 16) % ports.len() as u64) as usize],
                rnd() as u32,
            )
        });
        out.push(Cycle {
            rst: false,
            wr,
            rd_index: (rnd() % 64) as usize,
            query,
        });
    }
    out
}

fn entry(valid: bool, any_ip: bool, ip: u32, port: u16, offload: bool) -> Entry {
    Entry {
        valid,
        any_ip,
        ip,
        port,
        offload,
    }
}

/// A directed sequence (after a reset): exact beats a lower-index any-IP
/// entry, invalid entries are skipped, a write is seen from the next
/// cycle's query on, the lowest index wins, entries 0 and 63, rewrites and
/// a reset.  Queries carry their position as the tag.
pub fn directed() -> Vec<Cycle> {
    let a1 = 0x0a00_0001u32;
    let a2 = 0x0a00_0002u32;
    let w = |i: usize, e: Entry| Cycle {
        wr: Some((i, e)),
        rd_index: i,
        ..Default::default()
    };
    let q = |ip: u32, port: u16| Cycle {
        query: Some((ip, port, 0)),
        ..Default::default()
    };
    let mut v = vec![
        Cycle {
            rst: true,
            ..Default::default()
        },
        w(5, entry(true, true, 0, 80, true)),
        w(9, entry(true, false, a1, 80, false)),
        w(2, entry(false, false, a1, 80, true)),
        w(3, entry(false, true, 0, 80, false)),
        q(a1, 80), // exact 9 over any-IP 5, invalid 2 skipped
        q(a2, 80), // any-IP 5, invalid 3 skipped
        q(a1, 81), // miss
        // Rewrite and query in the same cycle: the old entry answers
        // (offload 1), the next cycle's query sees offload 0.
        Cycle {
            wr: Some((5, entry(true, true, 0, 80, false))),
            query: Some((a2, 80, 0)),
            ..Default::default()
        },
        q(a2, 80),
        // Write and query in the same cycle: the old table answers.
        Cycle {
            wr: Some((63, entry(true, false, a2, 80, true))),
            query: Some((a2, 80, 0)),
            ..Default::default()
        },
        q(a2, 80), // now exact 63
        w(1, entry(true, true, 0xdead_beef, 80, false)),
        q(0x0102_0304, 80), // any-IP 1 (its ip is ignored)
        w(9, entry(false, false, a1, 80, false)),
        q(a1, 80), // exact 9 gone: any-IP 1
        w(0, entry(true, false, a1, 80, true)),
        q(a1, 80), // exact 0
        w(4, entry(true, false, a1, 80, false)),
        q(a1, 80), // still exact 0 (lowest index)
        Cycle {
            rd_index: 63,
            query: Some((a2, 80, 0)),
            ..Default::default()
        },
        Cycle {
            rst: true,
            ..Default::default()
        },
        q(a1, 80), // miss after reset
        Cycle {
            rd_index: 0,
            ..Default::default()
        },
        q(a2, 80),
        q(a2, 0),
    ];
    for (n, c) in v.iter_mut().enumerate() {
        if let Some(q) = &mut c.query {
            q.2 = n as u32 | 0xabc0_0000;
        }
    }
    v
}
