//! The final-ACK validator (`toe_hdl::setup::ack::AckCheck`) in Verilator:
//! random ACKs back to back (half carrying a genuine cookie made by the
//! reference model, some of those with one field changed, the rest random),
//! random keys, key validity, maximum age and clock per ACK, every verdict
//! compared with `toe_model::cookie::check_ack` at exactly `ACK_LATENCY`;
//! then `verilator --lint-only -Wall` of its Verilog.  `TOE_SEED=n` replays.
mod common;
#[path = "common/seed.rs"]
mod seed;

use common::vlt_block::{Val, VltBlock};
use rust_hdl::prelude::*;
use seed::seeded_rng;
use toe_contract::setup as s;
use toe_hdl::setup::ack::{AckCheck, ACK_LATENCY};
use toe_model::cookie::{self, Ack, SetupConfig, Syn};

const ACKS: usize = 20_000;

const INPUTS: [(&str, usize); 17] = [
    ("in_valid", 1),
    ("in_cip", 32),
    ("in_cport", 16),
    ("in_sip", 32),
    ("in_sport", 16),
    ("in_seq", 32),
    ("in_ack", 32),
    ("in_tag", 3),
    ("now", 32),
    ("max_age", 3),
    ("key_valid", 2),
    ("key0_lo", 64),
    ("key0_hi", 64),
    ("key1_lo", 64),
    ("key1_hi", 64),
    ("mss_table", 64),
    ("rst", 1),
];
const OUTPUTS: [(&str, usize); 4] = [
    ("out_valid", 1),
    ("out_ok", 1),
    ("out_mss", 16),
    ("out_tag", 3),
];

fn block() -> VltBlock {
    let mut uut = AckCheck::default();
    uut.connect_all();
    let mut b = VltBlock::new("ackcheck", generate_verilog(&uut), "top").clock("clock");
    for (name, w) in INPUTS {
        b = b.input(name, w);
    }
    for (name, w) in OUTPUTS {
        b = b.output(name, w);
    }
    b
}

struct Case {
    valid: bool,
    rst: bool,
    cfg: SetupConfig,
    ack: Ack,
    now: u32,
    tag: u8,
}

fn key_halves(k: Option<[u8; 16]>) -> (u64, u64) {
    let k = k.unwrap_or([0; 16]);
    (
        u64::from_le_bytes(k[..8].try_into().unwrap()),
        u64::from_le_bytes(k[8..].try_into().unwrap()),
    )
}

fn random_case(rnd: &mut impl FnMut() -> u64) -> Case {
    fn key(rnd: &mut impl FnMut() -> u64, r: u64) -> Option<[u8; 16]> {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&rnd().to_le_bytes());
        k[8..].copy_from_slice(&rnd().to_le_bytes());
        (r % 8 != 0).then_some(k)
    }
    let r = rnd();
    let keys = [key(rnd, r), key(rnd, r >> 8)];
    let mut table = [0u16; 4];
    for t in table.iter_mut() {
        *t = 100 + (rnd() % 9000) as u16;
    }
    let cfg = SetupConfig {
        keys,
        current_slot: (r >> 16) as u8 & 1,
        mss_table: table,
        max_age: (r >> 20) as u32 & 7,
        ..SetupConfig::default()
    };
    // Sometimes just after 0, so that the cookie's clock wraps around.
    let now = if rnd() % 8 == 0 {
        (rnd() % 8) as u32
    } else {
        rnd() as u32
    };
    let syn = Syn {
        client: ((rnd() as u32).to_be_bytes(), rnd() as u16),
        server: ((rnd() as u32).to_be_bytes(), rnd() as u16),
        isn: rnd() as u32,
        mss: Some(rnd() as u16),
        wscale: None,
        sack_permitted: false,
        tsval: None,
    };
    // The cookie's clock: up to 9 ticks before now.
    let t = now.wrapping_sub((rnd() % 10) as u32);
    let mut ack = Ack {
        client: syn.client,
        server: syn.server,
        seq: syn.isn.wrapping_add(1),
        ack: rnd() as u32,
        window: 0,
        ts: None,
    };
    match r >> 24 & 7 {
        0..=3 => {
            if let Some(sa) = cookie::syn_ack(&cfg, &syn, t, 0) {
                ack.ack = sa.seq.wrapping_add(1);
            }
        }
        4 => {
            if let Some(sa) = cookie::syn_ack(&cfg, &syn, t, 0) {
                ack.ack = sa.seq.wrapping_add(1) ^ (1 << (rnd() % 32));
            }
        }
        5 => {
            if let Some(sa) = cookie::syn_ack(&cfg, &syn, t, 0) {
                ack.ack = sa.seq.wrapping_add(1);
                ack.seq ^= 1 << (rnd() % 32);
            }
        }
        _ => {}
    }
    Case {
        valid: rnd() % 10 != 0,
        rst: false,
        cfg,
        ack,
        now,
        tag: (rnd() & 7) as u8,
    }
}

fn row(c: &Case) -> Vec<Val> {
    let (k0l, k0h) = key_halves(c.cfg.keys[0]);
    let (k1l, k1h) = key_halves(c.cfg.keys[1]);
    let t = c.cfg.mss_table;
    let table = t[0] as u64 | (t[1] as u64) << 16 | (t[2] as u64) << 32 | (t[3] as u64) << 48;
    let kv = c.cfg.keys[0].is_some() as u64 | (c.cfg.keys[1].is_some() as u64) << 1;
    vec![
        c.valid.into(),
        u32::from_be_bytes(c.ack.client.0).into(),
        (c.ack.client.1 as u64).into(),
        u32::from_be_bytes(c.ack.server.0).into(),
        (c.ack.server.1 as u64).into(),
        c.ack.seq.into(),
        c.ack.ack.into(),
        (c.tag as u64).into(),
        c.now.into(),
        (c.cfg.max_age as u64).into(),
        kv.into(),
        k0l.into(),
        k0h.into(),
        k1l.into(),
        k1h.into(),
        table.into(),
        c.rst.into(),
    ]
}

#[test]
fn ack_check_verilated_matches_model() {
    let mut rnd = seeded_rng();
    let mut cases: Vec<Case> = vec![];
    for _ in 0..2 {
        let mut c = random_case(&mut rnd);
        c.rst = true;
        c.valid = false;
        cases.push(c);
    }
    for _ in 0..ACKS {
        cases.push(random_case(&mut rnd));
    }
    for _ in 0..ACK_LATENCY + 2 {
        let mut c = random_case(&mut rnd);
        c.valid = false;
        cases.push(c);
    }
    let inputs: Vec<Vec<Val>> = cases.iter().map(row).collect();
    let b = block();
    b.build();
    let outputs = b.run(&inputs);
    let (mut ok, mut bad, mut reasons) = (0, 0, [0usize; 3]);
    for (n, out) in outputs.iter().enumerate().skip(2) {
        let got: Vec<u64> = out.iter().map(Val::u64).collect();
        let src = n
            .checked_sub(ACK_LATENCY)
            .filter(|&i| i >= 2 && cases[i].valid);
        match src {
            None => assert_eq!(got[0], 0, "out_valid in cycle {n}"),
            Some(i) => {
                let c = &cases[i];
                let want = cookie::check_ack(&c.cfg, &c.ack, c.now);
                assert_eq!(got[0], 1, "out_valid in cycle {n}");
                assert_eq!(got[3], c.tag as u64, "tag in cycle {n}");
                assert_eq!(
                    got[1] == 1,
                    want.is_ok(),
                    "verdict for the ACK of cycle {i}: {want:?}"
                );
                match want {
                    Ok(e) => {
                        ok += 1;
                        // The MSS table is read at the output (documented):
                        // the class's entry in the table of cycle n.
                        let class = s::fields(e.our_isn).1 as usize;
                        assert_eq!(
                            got[2], cases[n].cfg.mss_table[class] as u64,
                            "MSS for the ACK of cycle {i}"
                        );
                    }
                    Err(r) => {
                        bad += 1;
                        reasons[match r {
                            cookie::Reject::NoKey => 0,
                            cookie::Reject::Expired { .. } => 1,
                            cookie::Reject::BadMac => 2,
                        }] += 1;
                    }
                }
            }
        }
    }
    println!(
        "{ok} accepted, {bad} rejected (no key, expired, bad MAC: {reasons:?}); max age up to {}",
        s::MAX_COOKIE_AGE
    );
    assert!(ok > 3000 && reasons.iter().all(|&r| r > 300));
}

#[test]
fn ack_check_lint_clean() {
    if let Err(findings) = block().lint() {
        panic!("verilator --lint-only -Wall:\n{findings}");
    }
}
