//! Stimulus and expectations for the SYN-ACK block
//! (`toe_hdl::setup::synack`), shared by synack_native.rs and
//! synack_vlt.rs (included with `#[path]`).  Expectations come from the
//! reference model, `toe_model::cookie::syn_ack`.
#![allow(dead_code)]

use toe_contract::setup as s;
use toe_model::cookie::{self, SetupConfig, Syn, SynAck};

/// One SYN with the configuration it is answered under.
#[derive(Clone, Copy, Debug)]
pub struct SynIn {
    pub syn: Syn,
    /// What the block's inputs carry when the option is absent (must be
    /// ignored).
    pub junk_mss: u16,
    pub junk_ws: u8,
    pub junk_tsval: u32,
    pub t: u32,
    pub ts_now: u32,
    pub slot: u8,
    pub key: [u8; 16],
    pub mss_table: [u16; 4],
    pub our_mss: u16,
    pub our_ws: u8,
    pub our_window: u16,
    pub tag: u32,
}

impl SynIn {
    pub fn cfg(&self) -> SetupConfig {
        let mut keys = [None, None];
        keys[self.slot as usize] = Some(self.key);
        SetupConfig {
            keys,
            current_slot: self.slot,
            mss_table: self.mss_table,
            max_age: 7,
            our_mss: self.our_mss,
            our_wscale: self.our_ws,
            our_window: self.our_window,
        }
    }

    /// The model's SYN-ACK (the slot always holds a key here).
    pub fn expected(&self) -> SynAck {
        cookie::syn_ack(&self.cfg(), &self.syn, self.t, self.ts_now).expect("slot has a key")
    }

    pub fn k0(&self) -> u64 {
        u64::from_le_bytes(self.key[0..8].try_into().unwrap())
    }

    pub fn k1(&self) -> u64 {
        u64::from_le_bytes(self.key[8..16].try_into().unwrap())
    }

    pub fn mss_table_bits(&self) -> u64 {
        (0..4).map(|i| (self.mss_table[i] as u64) << (16 * i)).sum()
    }
}

const KEYS: [[u8; 16]; 3] = [
    [0x11; 16],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [0xff; 16],
];

/// A random SYN: options present or not in every combination, MSS values
/// around the table's entries, default, sorted, unsorted and duplicated
/// MSS tables, window scales above 14, clocks across their whole range.
pub fn random_syn(rnd: &mut impl FnMut() -> u64) -> SynIn {
    let r = rnd();
    let mss_table = match r % 8 {
        0 => {
            let mut t = [0u16; 4];
            for e in &mut t {
                *e = rnd() as u16;
            }
            t.sort();
            t
        }
        1 => {
            let mut t = [0u16; 4];
            for e in &mut t {
                *e = 500 + (rnd() % 1000) as u16;
            }
            t
        }
        2 => {
            let a = 500 + (rnd() % 1000) as u16;
            let b = 500 + (rnd() % 1000) as u16;
            [a, b, a, b]
        }
        _ => s::DEFAULT_MSS_TABLE,
    };
    let m = rnd();
    let mss = match m % 6 {
        0 => None,
        1 => Some((m >> 8) as u16 % 700),
        2 => Some((m >> 8) as u16),
        _ => {
            let e = mss_table[((m >> 8) % 4) as usize];
            Some(e.wrapping_add(((m >> 12) % 3) as u16).wrapping_sub(1))
        }
    };
    let w = rnd();
    let wscale = match w % 8 {
        0 | 1 => None,
        2 => Some((w >> 8) as u8),
        _ => Some(((w >> 8) % 15) as u8),
    };
    let o = rnd();
    let key = if o.is_multiple_of(4) {
        let a = rnd().to_le_bytes();
        let b = rnd().to_le_bytes();
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&a);
        k[8..].copy_from_slice(&b);
        k
    } else {
        KEYS[((o >> 2) % 3) as usize]
    };
    let addr = rnd();
    SynIn {
        syn: Syn {
            client: (((addr >> 32) as u32).to_be_bytes(), rnd() as u16),
            server: (
                if addr.is_multiple_of(2) {
                    [198, 51, 100, 1]
                } else {
                    (addr as u32).to_be_bytes()
                },
                if (addr >> 1).is_multiple_of(2) {
                    80
                } else {
                    (addr >> 8) as u16
                },
            ),
            isn: if o % 16 == 5 { u32::MAX } else { rnd() as u32 },
            mss,
            wscale,
            sack_permitted: (o >> 8).is_multiple_of(2),
            tsval: (!(o >> 9).is_multiple_of(4)).then(|| rnd() as u32),
        },
        junk_mss: rnd() as u16,
        junk_ws: rnd() as u8,
        junk_tsval: rnd() as u32,
        t: rnd() as u32,
        ts_now: rnd() as u32,
        slot: ((o >> 12) % 2) as u8,
        key,
        mss_table,
        our_mss: if (o >> 13).is_multiple_of(2) {
            1460
        } else {
            rnd() as u16
        },
        our_ws: ((o >> 14) % 15) as u8,
        our_window: rnd() as u16,
        tag: rnd() as u32,
    }
}

/// The block's input values for one cycle, in port order (see
/// [`INPUTS`]); with `valid` false, an idle cycle carrying junk.
pub fn input_values(s: &SynIn, valid: bool) -> Vec<u64> {
    let syn = &s.syn;
    vec![
        valid as u64,
        u32::from_be_bytes(syn.client.0) as u64,
        syn.client.1 as u64,
        u32::from_be_bytes(syn.server.0) as u64,
        syn.server.1 as u64,
        syn.isn as u64,
        syn.mss.is_some() as u64,
        syn.mss.unwrap_or(s.junk_mss) as u64,
        syn.wscale.is_some() as u64,
        syn.wscale.unwrap_or(s.junk_ws) as u64,
        syn.sack_permitted as u64,
        syn.tsval.is_some() as u64,
        syn.tsval.unwrap_or(s.junk_tsval) as u64,
        s.tag as u64,
        s.t as u64,
        s.ts_now as u64,
        s.slot as u64,
        s.k0(),
        s.k1(),
        s.mss_table_bits(),
        s.our_mss as u64,
        s.our_ws as u64,
        s.our_window as u64,
    ]
}

/// Input ports (after `rst`) with their widths, in [`input_values`] order.
pub const INPUTS: [(&str, usize); 23] = [
    ("in_valid", 1),
    ("in_cip", 32),
    ("in_cport", 16),
    ("in_sip", 32),
    ("in_sport", 16),
    ("in_isn", 32),
    ("in_mss_present", 1),
    ("in_mss", 16),
    ("in_ws_present", 1),
    ("in_ws", 8),
    ("in_sackp", 1),
    ("in_ts_present", 1),
    ("in_tsval", 32),
    ("in_tag", 32),
    ("cookie_t", 32),
    ("ts_now", 32),
    ("key_slot", 1),
    ("k0", 64),
    ("k1", 64),
    ("mss_table", 64),
    ("our_mss", 16),
    ("our_ws", 4),
    ("our_window", 16),
];

/// Output ports with their widths, in [`expected_values`] order.
pub const OUTPUTS: [(&str, usize); 16] = [
    ("out_valid", 1),
    ("out_tag", 32),
    ("out_src_ip", 32),
    ("out_src_port", 16),
    ("out_dst_ip", 32),
    ("out_dst_port", 16),
    ("out_seq", 32),
    ("out_ack", 32),
    ("out_window", 16),
    ("out_mss", 16),
    ("out_ws_present", 1),
    ("out_ws", 4),
    ("out_sackp", 1),
    ("out_ts_present", 1),
    ("out_tsval", 32),
    ("out_tsecr", 32),
];

/// What the outputs must be for `s`, in [`OUTPUTS`] order: the model's
/// SYN-ACK, the 4-tuple swapped, the tag; absent options read 0.
pub fn expected_values(s: &SynIn) -> Vec<u64> {
    let a = s.expected();
    let syn = &s.syn;
    let (tsval, tsecr) = a.ts.unwrap_or((0, 0));
    vec![
        1,
        s.tag as u64,
        u32::from_be_bytes(syn.server.0) as u64,
        syn.server.1 as u64,
        u32::from_be_bytes(syn.client.0) as u64,
        syn.client.1 as u64,
        a.seq as u64,
        a.ack as u64,
        a.window as u64,
        a.mss as u64,
        a.wscale.is_some() as u64,
        a.wscale.unwrap_or(0) as u64,
        a.sack_permitted as u64,
        a.ts.is_some() as u64,
        tsval as u64,
        tsecr as u64,
    ]
}

/// The client's final ACK for the block's SYN-ACK fields (`seq`, TSval),
/// judged by the model at the SYN's own clock: it must be accepted with
/// the SYN's parameters.
pub fn check_round_trip(s: &SynIn, seq: u32, tsval: Option<u32>) {
    let ack = cookie::Ack {
        client: s.syn.client,
        server: s.syn.server,
        seq: s.syn.isn.wrapping_add(1),
        ack: seq.wrapping_add(1),
        window: 1000,
        ts: tsval.map(|v| (1, v)),
    };
    let e = cookie::check_ack(&s.cfg(), &ack, s.t)
        .unwrap_or_else(|r| panic!("model rejects the block's cookie {seq:#x} for {s:?}: {r:?}"));
    let class = s::mss_class(&s.mss_table, s.syn.mss);
    assert_eq!(e.mss, s.mss_table[class as usize]);
    if s.syn.tsval.is_some() {
        assert_eq!(e.client_wscale, s.syn.wscale.map(|w| w.min(14)));
        assert_eq!(e.sack_permitted, s.syn.sack_permitted);
    }
}
