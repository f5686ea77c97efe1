//! Plain Rust reference of the TCP option walker (`toe_hdl::rx::opt_walk`),
//! written from RFC 9293 3.1 (option format: kind, length, value; EOL and
//! NOP are single bytes), RFC 7323 2.2-2.3 and 3.2 (window scale, shift
//! limit 14; timestamps) and RFC 2018 2-3 (SACK-permitted; SACK blocks of 8
//! bytes after a 2-byte header), with the datapath's conventions of
//! docs/semantics.md: a walk of at most 40 steps (one per option or NOP),
//! malformed lengths end it with `bad`, later occurrences override earlier
//! ones, values recorded before a malformed option are kept.  Shared by
//! opt_walk_vlt.rs (included with `#[path]`).
#![allow(dead_code)]

/// What the walker reports for one option area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Walked {
    /// The walk ended within its 40 steps (EOL, end of area, malformed).
    pub done: bool,
    /// It ended at a malformed option.
    pub bad: bool,
    /// MSS (0 when absent).
    pub mss: u16,
    /// 0x80 | min(shift, 14) when a window scale option was seen, else 0.
    pub ws: u8,
    pub sack_perm: bool,
    /// SACK blocks of the last SACK option with 1 to 4 blocks.
    pub sack_blocks: u8,
    pub ts: bool,
    pub tsval: u32,
    pub tsecr: u32,
}

/// Steps the walker takes at most (10 stages x 4 in the first design).
pub const STEPS: usize = 40;

/// Walks `area[..olen]` (`olen <= 40`; bytes past it are ignored, however
/// they are set).
pub fn walk(area: &[u8; 40], olen: usize) -> Walked {
    assert!(olen <= 40, "an option area has at most 40 bytes");
    let byte = |i: usize| if i < olen { area[i] } else { 0 };
    let mut w = Walked::default();
    let mut at = 0usize;
    for _ in 0..STEPS {
        if at >= olen {
            w.done = true;
            break;
        }
        let kind = area[at];
        if kind == 0 {
            // End of option list.
            w.done = true;
            break;
        }
        if kind == 1 {
            // No-operation.
            at += 1;
            continue;
        }
        // Every other kind has a length byte counting kind and length.
        if at + 1 >= olen {
            w.bad = true;
            w.done = true;
            break;
        }
        let len = usize::from(area[at + 1]);
        if len < 2 || at + len > olen {
            w.bad = true;
            w.done = true;
            break;
        }
        let be16 = |i: usize| u16::from_be_bytes([byte(i), byte(i + 1)]);
        let be32 = |i: usize| u32::from_be_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);
        match (kind, len) {
            (2, 4) => w.mss = be16(at + 2),
            (3, 3) => w.ws = 0x80 | byte(at + 2).min(14),
            (4, 2) => w.sack_perm = true,
            (5, 10 | 18 | 26 | 34) => w.sack_blocks = ((len - 2) / 8) as u8,
            (8, 10) => {
                w.ts = true;
                w.tsval = be32(at + 2);
                w.tsecr = be32(at + 6);
            }
            // Known kinds with other lengths and unknown kinds are skipped.
            _ => {}
        }
        at += len;
    }
    w
}

/// One option area: its bytes (past `olen` anything) and length.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub bytes: [u8; 40],
    pub olen: usize,
}

impl Area {
    /// `opts` followed by `fill` bytes up to 40, with the area `olen` long.
    pub fn new(opts: &[u8], olen: usize, fill: u8) -> Area {
        assert!(opts.len() <= 40 && olen <= 40);
        let mut bytes = [fill; 40];
        bytes[..opts.len()].copy_from_slice(opts);
        Area { bytes, olen }
    }

    /// The area of exactly `opts`.
    pub fn exact(opts: &[u8]) -> Area {
        Area::new(opts, opts.len(), 0)
    }
}

/// Named directed cases: real stacks' layouts and every hostile shape.
pub fn directed() -> Vec<(&'static str, Area)> {
    let ts = [8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
    let mut v: Vec<(&'static str, Area)> = vec![];
    let mut add = |name: &'static str, a: Area| v.push((name, a));
    // Real layouts.
    // Linux SYN: MSS, SACK-permitted, timestamps, NOP, window scale 7.
    let mut linux = vec![2, 4, 0x05, 0xb4, 4, 2];
    linux.extend_from_slice(&ts);
    linux.extend_from_slice(&[1, 3, 3, 7]);
    add("linux syn", Area::exact(&linux));
    add(
        "linux syn, garbage after the area",
        Area::new(&linux, 20, 0xa5),
    );
    // Windows SYN: MSS, NOP, window scale 8, NOP, NOP, SACK-permitted.
    add(
        "windows syn",
        Area::exact(&[2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]),
    );
    // macOS SYN: MSS, NOP, WS 6, NOP, NOP, TS, SACK-permitted, EOL, EOL.
    let mut mac = vec![2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1];
    mac.extend_from_slice(&ts);
    mac.extend_from_slice(&[4, 2, 0, 0]);
    add("macos syn", Area::exact(&mac));
    // Linux data segment: NOP, NOP, timestamps.
    let mut data = vec![1, 1];
    data.extend_from_slice(&ts);
    add("linux ack with timestamps", Area::exact(&data));
    // Linux ACK with timestamps and one to three SACK blocks.
    for blocks in 1..=3usize {
        let mut s = data.clone();
        s.extend_from_slice(&[1, 1, 5, (2 + 8 * blocks) as u8]);
        for i in 0..8 * blocks {
            s.push(0x40 + i as u8);
        }
        add("linux ack with sack blocks", Area::exact(&s));
    }
    // Four SACK blocks fill 36 bytes after NOP NOP.
    let mut s4 = vec![1, 1, 5, 34];
    s4.extend((0..32).map(|i| i as u8));
    add("four sack blocks", Area::exact(&s4));
    add("no options", Area::exact(&[]));
    add("no options, garbage", Area::new(&[], 0, 2));
    // Hostile shapes.
    add("40 nops", Area::exact(&[1; 40]));
    add("39 nops, 39-byte area", Area::new(&[1; 39], 39, 1));
    let mut n39eol = [1u8; 40];
    n39eol[39] = 0;
    add("39 nops then eol", Area::exact(&n39eol));
    let mut n39k = [1u8; 40];
    n39k[39] = 2;
    add("39 nops then a kind without its length", Area::exact(&n39k));
    let mut n38ws = [1u8; 40];
    n38ws[37] = 3;
    n38ws[38] = 3;
    n38ws[39] = 9;
    add("37 nops then window scale at the end", Area::exact(&n38ws));
    let mut n36mss = [1u8; 40];
    n36mss[36..].copy_from_slice(&[2, 4, 0x12, 0x34]);
    add("36 nops then mss at the end", Area::exact(&n36mss));
    add("zero length", Area::exact(&[2, 0, 0, 0, 2, 4, 1, 1]));
    add("length one", Area::exact(&[8, 1, 2, 4, 1, 1]));
    add(
        "length past the area",
        Area::exact(&[2, 4, 1, 2, 8, 10, 1, 2, 3]),
    );
    add("length past 40", Area::exact(&[1, 1, 254, 60, 0, 0]));
    add("kind in the last byte", Area::exact(&[1, 1, 1, 1, 4]));
    add("eol then options", Area::exact(&[0, 2, 4, 1, 2, 4, 2]));
    add("eol after mss", Area::exact(&[2, 4, 1, 2, 0, 3, 3, 5]));
    add(
        "mss twice: the later wins",
        Area::exact(&[2, 4, 1, 2, 2, 4, 3, 4]),
    );
    add(
        "mss, then a bad option: mss kept",
        Area::exact(&[2, 4, 0xaa, 0xbb, 3, 3, 2, 9, 1]),
    );
    add(
        "mss with length 5 is skipped",
        Area::exact(&[2, 5, 1, 2, 3, 2, 4, 1, 2]),
    );
    add("window scale 14", Area::exact(&[3, 3, 14]));
    add("window scale 15 clamps", Area::exact(&[3, 3, 15]));
    add("window scale 255 clamps", Area::exact(&[3, 3, 255]));
    add("window scale 0", Area::exact(&[3, 3, 0, 1]));
    add("window scale twice", Area::exact(&[3, 3, 200, 3, 3, 2]));
    add(
        "sack-permitted with length 3 is skipped",
        Area::exact(&[4, 3, 0, 1]),
    );
    add(
        "sack then a sack of another length: the first stays",
        Area::exact(&[
            5, 10, 0, 0, 0, 0, 0, 0, 0, 0, 5, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]),
    );
    add(
        "two sacks: the later wins",
        Area::exact(&[
            5, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0,
        ]),
    );
    let mut ts4 = vec![];
    for i in 0..4u8 {
        ts4.extend_from_slice(&[8, 10, i, i, i, i, 0xf0 | i, i, i, i]);
    }
    add("four timestamps: the last wins", Area::exact(&ts4));
    add(
        "timestamps with length 9 skipped",
        Area::exact(&[8, 9, 1, 2, 3, 4, 5, 6, 7, 1]),
    );
    add(
        "unknown kinds",
        Area::exact(&[254, 4, 0xf9, 0x89, 255, 2, 30, 3, 0, 2, 4, 5, 6]),
    );
    add("twenty two-byte options", Area::exact(&[4, 2].repeat(20)));
    add(
        "a 40-byte unknown option",
        Area::exact(&{
            let mut a = [0u8; 40];
            a[0] = 99;
            a[1] = 40;
            a
        }),
    );
    add(
        "a 41-byte length in a 40-byte area",
        Area::exact(&{
            let mut a = [0u8; 40];
            a[0] = 99;
            a[1] = 41;
            a
        }),
    );
    add("area shorter than its options", Area::new(&linux, 9, 0));
    v
}

/// A random option area: random length, bytes mostly small kinds, NOPs,
/// EOLs and 254/255, lengths around the option sizes; or well-formed
/// options one after another (after a run of NOPs, sometimes filling the
/// area up to 40 NOPs), sometimes with a wrong length, the area ending at
/// an option boundary or anywhere; bytes past the area random.
pub fn random_area(rnd: &mut impl FnMut() -> u64) -> Area {
    let mut bytes = [0u8; 40];
    for b in bytes.iter_mut() {
        *b = rnd() as u8;
    }
    let mut olen = (rnd() % 41) as usize;
    let style = rnd() % 5;
    if style == 0 {
        // Independent bytes, biased.
        for b in bytes.iter_mut() {
            let r = rnd();
            *b = match r % 10 {
                0..=3 => (r >> 8) as u8 % 9,
                4 => 1,
                5 => 254 + ((r >> 8) & 1) as u8,
                6 | 7 => [2, 3, 4, 10, 18, 26, 34, 0][((r >> 8) % 8) as usize],
                _ => (r >> 8) as u8,
            };
        }
        return Area { bytes, olen };
    }
    // Options one after another, sometimes wrong.
    let mut at = 0;
    if style == 4 {
        // A run of NOPs first (up to all 40).
        at = (rnd() % 41) as usize;
        bytes[..at].fill(1);
    }
    let mut ends = vec![at];
    while at < 40 {
        let r = rnd();
        let (kind, len): (u8, usize) = match r % 12 {
            0 | 1 => (1, 1),
            2 => (2, 4),
            3 => (3, 3),
            4 => (4, 2),
            5 => (5, 2 + 8 * (1 + ((r >> 8) % 4) as usize)),
            6 => (8, 10),
            7 => (254 + ((r >> 8) & 1) as u8, 2 + ((r >> 10) % 12) as usize),
            8 => (0, 1),
            9 => ((r >> 8) as u8 % 9, ((r >> 16) % 12) as usize),
            _ => (1 + (r >> 8) as u8 % 8, 2 + ((r >> 16) % 9) as usize),
        };
        bytes[at] = kind;
        if kind > 1 && at + 1 < 40 {
            bytes[at + 1] = len as u8;
        }
        if kind == 3 && at + 2 < 40 && r & (1 << 40) != 0 {
            // Mostly a shift within the limit.
            bytes[at + 2] = (rnd() % 16) as u8;
        }
        // Occasionally a wrong length byte.
        if style == 3 && rnd().is_multiple_of(8) && at + 1 < 40 {
            bytes[at + 1] = (rnd() % 44) as u8;
        }
        at += len.max(1);
        if at <= 40 {
            ends.push(at);
        }
    }
    if rnd().is_multiple_of(2) {
        // The area ends where an option does.
        olen = ends[(rnd() % ends.len() as u64) as usize];
    }
    Area { bytes, olen }
}
