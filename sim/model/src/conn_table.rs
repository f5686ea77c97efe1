//! Reference model of the hashed connection table (`toe_hdl::common::conn_table`,
//! docs/conn_table.md): the same keyed hash, the same placement rules and the
//! same victim choice as the RTL, so that every command result (status,
//! previous value, location, kick count) and every lookup matches it bit for
//! bit, including which insert is the first to report "full".
//!
//! Structure: two tables of `2^bucket_bits` buckets of [`WAYS`] slots each
//! (bucketed cuckoo hashing, one bucket per table for every key), plus a
//! stash of [`STASH`] entries.  The bucket of a key in table 0 is bits
//! `bucket_bits-1:0` of SipHash-2-4 (key `k0`, `k1`) of the 24-byte message
//! [`message`], its bucket in table 1 bits `32+bucket_bits-1:32`.
//!
//! Insert: if the key is present, `Exists`; else the first free way of its
//! table-0 bucket, else the first free way of its table-1 bucket; else, when
//! the stash has a free entry, a random walk: the new entry goes to table 0,
//! evicting the entry in way `lfsr & 3` of its bucket, which goes to its
//! bucket in the other table (first free way, else it evicts way `lfsr & 3`
//! there, ...), the LFSR stepping once per eviction; after [`MAX_KICKS`]
//! evictions the entry still homeless (its target bucket full) goes to the
//! first free stash entry.  With both buckets full and the stash full the
//! insert reports `Full` and changes nothing.  Delete frees a slot; the
//! lowest stash entry whose bucket in that table is the freed slot's bucket
//! moves into it.
use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// Slots per bucket.
pub const WAYS: usize = 4;
/// Stash entries.
pub const STASH: usize = 4;
/// Evictions of one insert before its homeless entry goes to the stash.
pub const MAX_KICKS: u32 = 64;
/// Width of the bucket fields (location, stored alternate bucket).
pub const ALT_BITS: u32 = 16;
/// The LFSR's value after reset and clear.
pub const LFSR_SEED: u16 = 0xace1;
/// Galois LFSR feedback (x^16 + x^14 + x^13 + x^11 + 1).
pub const LFSR_TAPS: u16 = 0xb400;
/// Bits 63:32 of the second message word: "conn", a domain separator from
/// the SipHash uses of the setup offload.
pub const DOMAIN: u64 = 0x636f_6e6e;

/// Command opcodes (`cmd_op`).
pub const OP_READ: u8 = 0;
pub const OP_INSERT: u8 = 1;
pub const OP_UPDATE: u8 = 2;
pub const OP_DELETE: u8 = 3;
pub const OP_CLEAR: u8 = 4;

/// Response status (`rsp_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    Exists = 1,
    Missing = 2,
    Full = 3,
}

/// Where an entry is: a table slot or a stash entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Slot { table: u8, way: u8, bucket: u32 },
    Stash(u8),
}

impl Loc {
    /// The RTL's 20-bit encoding: bit 19 stash, bit 18 table, bits 17:16
    /// way (stash index for the stash), bits 15:0 bucket.
    pub fn bits(self) -> u32 {
        match self {
            Loc::Slot { table, way, bucket } => (table as u32) << 18 | (way as u32) << 16 | bucket,
            Loc::Stash(i) => 1 << 19 | (i as u32) << 16,
        }
    }
}

/// A command's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    /// The key's value before the command (0 when absent).
    pub value: u64,
    /// Where the key is found (read, update, delete, exists) or placed
    /// (insert: at the end of its walk); `None` for missing and full.
    pub loc: Option<Loc>,
    /// Evictions done by an insert.
    pub kicks: u32,
}

impl Response {
    fn new(status: Status, value: u64, loc: Option<Loc>) -> Response {
        Response {
            status,
            value,
            loc,
            kicks: 0,
        }
    }

    pub fn loc_bits(&self) -> u32 {
        self.loc.map_or(0, Loc::bits)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    key: u128,
    value: u64,
    /// The entry's bucket in the other table.
    alt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StashEntry {
    key: u128,
    value: u64,
    b: [u32; 2],
}

/// The 24-byte SipHash message of a 96-bit key, as three little-endian
/// words: key bits 63:0, then key bits 95:64 with [`DOMAIN`] above, then 0.
pub fn message(key: u128) -> [u64; 3] {
    [
        key as u64,
        (key >> 64) as u64 & 0xffff_ffff | DOMAIN << 32,
        0,
    ]
}

/// SipHash-2-4 of [`message`] under `(k0, k1)`.
pub fn key_hash(k0: u64, k1: u64, key: u128) -> u64 {
    let mut h = SipHasher24::new_with_keys(k0, k1);
    for w in message(key) {
        h.write(&w.to_le_bytes());
    }
    h.finish()
}

/// The 96-bit key of an IPv4 4-tuple: source address (95:64), destination
/// address (63:32), source port (31:16), destination port (15:0).
pub fn tuple_key(src_ip: u32, dst_ip: u32, src_port: u16, dst_port: u16) -> u128 {
    (src_ip as u128) << 64 | (dst_ip as u128) << 32 | (src_port as u128) << 16 | dst_port as u128
}

/// One LFSR step.
pub fn lfsr_next(x: u16) -> u16 {
    if x & 1 != 0 {
        (x >> 1) ^ LFSR_TAPS
    } else {
        x >> 1
    }
}

/// The model.
#[derive(Clone, Debug)]
pub struct ConnTableModel {
    bucket_bits: u32,
    value_bits: u32,
    k0: u64,
    k1: u64,
    tables: [Vec<[Option<Slot>; WAYS]>; 2],
    stash: [Option<StashEntry>; STASH],
    lfsr: u16,
    entries: usize,
}

impl ConnTableModel {
    /// An empty table of `2 * WAYS * 2^bucket_bits` slots, values of
    /// `value_bits` bits, hash key `(k0, k1)`.
    pub fn new(bucket_bits: u32, value_bits: u32, k0: u64, k1: u64) -> ConnTableModel {
        assert!((1..=ALT_BITS).contains(&bucket_bits) && (1..=64).contains(&value_bits));
        let n = 1usize << bucket_bits;
        ConnTableModel {
            bucket_bits,
            value_bits,
            k0,
            k1,
            tables: [vec![[None; WAYS]; n], vec![[None; WAYS]; n]],
            stash: [None; STASH],
            lfsr: LFSR_SEED,
            entries: 0,
        }
    }

    /// Table slots (the stash not counted).
    pub fn capacity(&self) -> usize {
        (2 * WAYS) << self.bucket_bits
    }

    /// Entries held, the stash included.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Stash entries in use.
    pub fn stash_used(&self) -> usize {
        self.stash.iter().filter(|s| s.is_some()).count()
    }

    /// The key's buckets in table 0 and table 1.
    pub fn buckets(&self, key: u128) -> [u32; 2] {
        let h = key_hash(self.k0, self.k1, key);
        let mask = (1u64 << self.bucket_bits) - 1;
        [(h & mask) as u32, (h >> 32 & mask) as u32]
    }

    fn find(&self, key: u128, b: [u32; 2]) -> Option<(Loc, u64)> {
        for (t, &bt) in b.iter().enumerate() {
            for w in 0..WAYS {
                if let Some(s) = self.tables[t][bt as usize][w] {
                    if s.key == key {
                        let loc = Loc::Slot {
                            table: t as u8,
                            way: w as u8,
                            bucket: bt,
                        };
                        return Some((loc, s.value));
                    }
                }
            }
        }
        for (i, s) in self.stash.iter().enumerate() {
            if let Some(s) = s {
                if s.key == key {
                    return Some((Loc::Stash(i as u8), s.value));
                }
            }
        }
        None
    }

    /// The value of `key`, if present.
    pub fn lookup(&self, key: u128) -> Option<u64> {
        self.find(key, self.buckets(key)).map(|(_, v)| v)
    }

    /// Empties the table (the RTL's clear sweep and reset).
    pub fn clear(&mut self) {
        for t in &mut self.tables {
            for b in t.iter_mut() {
                *b = [None; WAYS];
            }
        }
        self.stash = [None; STASH];
        self.lfsr = LFSR_SEED;
        self.entries = 0;
    }

    fn first_free(&self, t: usize, b: u32) -> Option<usize> {
        self.tables[t][b as usize].iter().position(|s| s.is_none())
    }

    /// Runs one command (`OP_*`); `value` is masked to the value width.
    pub fn command(&mut self, op: u8, key: u128, value: u64) -> Response {
        let key = key & ((1u128 << 96) - 1);
        let value = if self.value_bits == 64 {
            value
        } else {
            value & ((1u64 << self.value_bits) - 1)
        };
        if op == OP_CLEAR {
            self.clear();
            return Response::new(Status::Ok, 0, None);
        }
        let b = self.buckets(key);
        let found = self.find(key, b);
        match op {
            OP_READ => match found {
                Some((loc, v)) => Response::new(Status::Ok, v, Some(loc)),
                None => Response::new(Status::Missing, 0, None),
            },
            OP_UPDATE => match found {
                Some((loc, v)) => {
                    match loc {
                        Loc::Slot { table, way, bucket } => {
                            let s = self.tables[table as usize][bucket as usize][way as usize]
                                .as_mut()
                                .unwrap();
                            s.value = value;
                        }
                        Loc::Stash(i) => self.stash[i as usize].as_mut().unwrap().value = value,
                    }
                    Response::new(Status::Ok, v, Some(loc))
                }
                None => Response::new(Status::Missing, 0, None),
            },
            OP_DELETE => match found {
                Some((loc, v)) => {
                    match loc {
                        Loc::Slot { table, way, bucket } => {
                            let t = table as usize;
                            let refill = self
                                .stash
                                .iter()
                                .position(|s| s.is_some_and(|s| s.b[t] == bucket));
                            self.tables[t][bucket as usize][way as usize] = refill.map(|i| {
                                let s = self.stash[i].take().unwrap();
                                Slot {
                                    key: s.key,
                                    value: s.value,
                                    alt: s.b[1 - t],
                                }
                            });
                        }
                        Loc::Stash(i) => self.stash[i as usize] = None,
                    }
                    self.entries -= 1;
                    Response::new(Status::Ok, v, Some(loc))
                }
                None => Response::new(Status::Missing, 0, None),
            },
            OP_INSERT => {
                if let Some((loc, v)) = found {
                    return Response::new(Status::Exists, v, Some(loc));
                }
                for t in 0..2 {
                    if let Some(w) = self.first_free(t, b[t]) {
                        self.tables[t][b[t] as usize][w] = Some(Slot {
                            key,
                            value,
                            alt: b[1 - t],
                        });
                        self.entries += 1;
                        let loc = Loc::Slot {
                            table: t as u8,
                            way: w as u8,
                            bucket: b[t],
                        };
                        return Response::new(Status::Ok, 0, Some(loc));
                    }
                }
                let Some(free_stash) = self.stash.iter().position(|s| s.is_none()) else {
                    return Response::new(Status::Full, 0, None);
                };
                self.entries += 1;
                self.walk(key, value, b, free_stash)
            }
            _ => panic!("opcode {op}"),
        }
    }

    /// The random walk of an insert whose two buckets are full; ends in a
    /// table slot or in stash entry `free_stash`.
    fn walk(&mut self, key: u128, value: u64, b: [u32; 2], free_stash: usize) -> Response {
        // The homeless entry: key, value, target table, its buckets.
        let (mut ck, mut cv, mut t, mut cb) = (key, value, 0usize, b);
        let mut new_loc: Option<Loc> = None;
        let mut carry_is_new = true;
        let mut kicks = 0;
        loop {
            let bucket = cb[t];
            if let Some(w) = self.first_free(t, bucket) {
                self.tables[t][bucket as usize][w] = Some(Slot {
                    key: ck,
                    value: cv,
                    alt: cb[1 - t],
                });
                let loc = Loc::Slot {
                    table: t as u8,
                    way: w as u8,
                    bucket,
                };
                if carry_is_new {
                    new_loc = Some(loc);
                }
                let mut r = Response::new(Status::Ok, 0, new_loc);
                r.kicks = kicks;
                return r;
            }
            if kicks == MAX_KICKS {
                self.stash[free_stash] = Some(StashEntry {
                    key: ck,
                    value: cv,
                    b: cb,
                });
                if carry_is_new {
                    new_loc = Some(Loc::Stash(free_stash as u8));
                }
                let mut r = Response::new(Status::Ok, 0, new_loc);
                r.kicks = kicks;
                return r;
            }
            let w = (self.lfsr & 3) as usize;
            self.lfsr = lfsr_next(self.lfsr);
            let victim = self.tables[t][bucket as usize][w].expect("full bucket");
            self.tables[t][bucket as usize][w] = Some(Slot {
                key: ck,
                value: cv,
                alt: cb[1 - t],
            });
            let here = Loc::Slot {
                table: t as u8,
                way: w as u8,
                bucket,
            };
            let victim_is_new = new_loc == Some(here);
            if carry_is_new {
                new_loc = Some(here);
            }
            carry_is_new = victim_is_new;
            ck = victim.key;
            cv = victim.value;
            let mut nb = [0; 2];
            nb[t] = bucket;
            nb[1 - t] = victim.alt;
            cb = nb;
            t = 1 - t;
            kicks += 1;
        }
    }

    /// Checks the structure's invariants (for tests): every entry sits in
    /// one of its own buckets with the right alternate, no key twice, the
    /// count right, and every stash entry's two buckets full.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for t in 0..2 {
            for (bi, bucket) in self.tables[t].iter().enumerate() {
                for s in bucket.iter().flatten() {
                    let b = self.buckets(s.key);
                    if b[t] as usize != bi || b[1 - t] != s.alt {
                        return Err(format!("key {:x} misplaced", s.key));
                    }
                    if !seen.insert(s.key) {
                        return Err(format!("key {:x} twice", s.key));
                    }
                    n += 1;
                }
            }
        }
        for s in self.stash.iter().flatten() {
            if s.b != self.buckets(s.key) || !seen.insert(s.key) {
                return Err(format!("stash key {:x} wrong or twice", s.key));
            }
            for t in 0..2 {
                if self.first_free(t, s.b[t]).is_some() {
                    return Err(format!(
                        "stash key {:x} has a free slot in table {t}",
                        s.key
                    ));
                }
            }
            n += 1;
        }
        if n != self.entries {
            return Err(format!("count {} but {n} entries", self.entries));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn key(r: &mut impl FnMut() -> u64) -> u128 {
        (r() as u128) << 32 ^ r() as u128 & ((1u128 << 96) - 1)
    }

    #[test]
    fn conn_table_model_hash_is_siphash_of_the_message() {
        // Independent of the message layout helper: bytes written one by one.
        let (k0, k1) = (0x0706050403020100, 0x0f0e0d0c0b0a0908);
        let key = tuple_key(0x0a000001, 0x0a000002, 40000, 80);
        let mut bytes = vec![];
        bytes.extend_from_slice(&(key as u64).to_le_bytes());
        bytes.extend_from_slice(&((key >> 64) as u32).to_le_bytes());
        bytes.extend_from_slice(b"nnoc");
        bytes.extend_from_slice(&[0; 8]);
        let mut h = SipHasher24::new_with_keys(k0, k1);
        h.write(&bytes);
        assert_eq!(key_hash(k0, k1, key), h.finish());
    }

    #[test]
    fn conn_table_model_commands() {
        let mut m = ConnTableModel::new(4, 32, 1, 2);
        let k = tuple_key(1, 2, 3, 4);
        assert_eq!(m.command(OP_READ, k, 0).status, Status::Missing);
        let r = m.command(OP_INSERT, k, 0x1_2345_6789);
        assert_eq!(r.status, Status::Ok);
        assert_eq!(m.lookup(k), Some(0x2345_6789));
        let r2 = m.command(OP_INSERT, k, 5);
        assert_eq!(
            (r2.status, r2.value, r2.loc),
            (Status::Exists, 0x2345_6789, r.loc)
        );
        assert_eq!(m.command(OP_UPDATE, k, 7).value, 0x2345_6789);
        assert_eq!(m.lookup(k), Some(7));
        assert_eq!(m.command(OP_DELETE, k, 0).status, Status::Ok);
        assert_eq!(m.command(OP_DELETE, k, 0).status, Status::Missing);
        assert_eq!(m.command(OP_UPDATE, k, 0).status, Status::Missing);
        assert_eq!(m.entries(), 0);
    }

    /// Fill until the first full, churn, check invariants throughout.
    #[test]
    fn conn_table_model_fills_and_keeps_invariants() {
        let mut r = rng(7);
        let mut m = ConnTableModel::new(5, 32, r(), r());
        let mut keys = vec![];
        loop {
            let k = key(&mut r);
            let res = m.command(OP_INSERT, k, k as u64);
            if res.status == Status::Full {
                break;
            }
            assert_eq!(res.status, Status::Ok);
            keys.push(k);
            m.check_invariants().unwrap();
        }
        let load = m.entries() as f64 / m.capacity() as f64;
        assert!(load > 0.8, "load factor at first full {load}");
        for &k in &keys {
            assert_eq!(m.lookup(k), Some(k as u64 & 0xffff_ffff));
        }
        for i in 0..2000 {
            let j = (r() as usize) % keys.len();
            if i % 2 == 0 {
                assert_eq!(m.command(OP_DELETE, keys[j], 0).status, Status::Ok);
                keys.swap_remove(j);
            } else {
                let k = key(&mut r);
                if m.command(OP_INSERT, k, 1).status == Status::Ok {
                    keys.push(k);
                }
            }
            m.check_invariants().unwrap();
        }
    }

    /// Load factor at the first full for the default size (printed; the
    /// bench measures the RTL's).
    #[test]
    #[ignore]
    fn conn_table_model_load_factor_survey() {
        for bits in [4, 5, 8, 13] {
            let mut lf = vec![];
            for seed in 1..=5 {
                let mut r = rng(seed);
                let mut m = ConnTableModel::new(bits, 32, r(), r());
                while m.command(OP_INSERT, key(&mut r), 0).status != Status::Full {}
                lf.push(m.entries() as f64 / m.capacity() as f64);
            }
            println!("bucket bits {bits}: load at first full {lf:.4?}");
        }
    }
}
