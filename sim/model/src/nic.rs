//! The datapath model: what the NIC does with one RX frame or one TX
//! descriptor, per docs/semantics.md.

use crate::connect::ConnectAction;
use crate::csum;
use crate::parse::{parse, Class, Parsed, ETHERTYPE_IPV4, ETH_HLEN, PROTO_TCP};
use crate::setup::{self, SetupAction, SetupState};
use crate::toeplitz::{toeplitz, tuple2, tuple4};
use toe_contract::desc::*;
use toe_contract::regs::Counter;
use toe_contract::{BUF_ALIGN, MAX_FRAME, NUM_QUEUES, RSS_KEY_BYTES, RSS_TABLE_ENTRIES};

/// The register state the datapath depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicConfig {
    /// RSS_CTRL.RSS_CTRL_ENABLE.
    pub rss_enable: bool,
    /// RSS_KEY as bytes (byte 4i is bits 31:24 of key word i).
    pub rss_key: [u8; RSS_KEY_BYTES],
    /// RSS_TABLE entries (only bits 1:0 matter).
    pub rss_table: [u8; RSS_TABLE_ENTRIES],
    /// ID_MAX_FRAME.
    pub max_frame: u16,
    /// ID_CTRL.CTRL_DROP_BAD_CSUM.
    pub drop_bad_csum: bool,
    /// Q_CTRL_ENABLE of each RX queue.
    pub queue_enabled: [bool; NUM_QUEUES],
    /// The setup offload's registers (listeners, keys, clocks).
    pub setup: SetupState,
}

impl Default for NicConfig {
    /// The RTL reset state.
    fn default() -> Self {
        NicConfig {
            rss_enable: false,
            rss_key: [0; RSS_KEY_BYTES],
            rss_table: [0; RSS_TABLE_ENTRIES],
            max_frame: MAX_FRAME as u16,
            drop_bad_csum: false,
            queue_enabled: [false; NUM_QUEUES],
            setup: SetupState::default(),
        }
    }
}

impl NicConfig {
    /// Reset state with every queue enabled (the usual test setup).
    pub fn all_queues_enabled() -> Self {
        NicConfig {
            queue_enabled: [true; NUM_QUEUES],
            ..Default::default()
        }
    }
}

/// What the NIC does with a received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RxVerdict {
    /// Dropped: `reason` is the counter of the check that dropped it;
    /// `counters` lists every global counter the frame increments besides
    /// RxFrames, in order, `reason` included (e.g. `[RxBadIpCsum,
    /// RxDropQueueDisabled]`).
    Drop {
        reason: Counter,
        counters: Vec<Counter>,
    },
    /// Passes the datapath checks and goes to `queue`.  The caller still
    /// decides NoBuffer / BufferTooSmall from its buffer bookkeeping (those
    /// drops increment `counters` too), then fills `cpl.index` and
    /// `cpl.phase` (left 0/false here).  `counters` lists the global counters
    /// it increments besides RxFrames (RxBadIpCsum, RxBadTcpCsum); the
    /// per-queue RX packet/byte counters count it only once delivered.
    Deliver {
        queue: usize,
        cpl: Completion,
        counters: Vec<Counter>,
    },
}

impl RxVerdict {
    /// Global counters incremented besides RxFrames (for Deliver: assuming
    /// a buffer is available).
    pub fn counters(&self) -> &[Counter] {
        match self {
            RxVerdict::Drop { counters, .. } | RxVerdict::Deliver { counters, .. } => counters,
        }
    }
    /// The drop reason, if dropped.
    pub fn drop_reason(&self) -> Option<Counter> {
        match self {
            RxVerdict::Drop { reason, .. } => Some(*reason),
            RxVerdict::Deliver { .. } => None,
        }
    }
    /// The completion (index/phase still 0), if delivered.
    pub fn completion(&self) -> Option<&Completion> {
        match self {
            RxVerdict::Deliver { cpl, .. } => Some(cpl),
            RxVerdict::Drop { .. } => None,
        }
    }
}

/// RSS hash and queue for a parsed frame (hash 0, queue 0 when RSS is off
/// or the frame is not IPv4).
pub fn rss(cfg: &NicConfig, p: &Parsed) -> (u32, usize) {
    let ip = match (&p.ipv4, cfg.rss_enable) {
        (Some(ip), true) => ip,
        _ => return (0, 0),
    };
    let hash = match &p.tcp {
        Some(t) => toeplitz(
            &cfg.rss_key,
            &tuple4(ip.src, ip.dst, t.src_port, t.dst_port),
        ),
        None => toeplitz(&cfg.rss_key, &tuple2(ip.src, ip.dst)),
    };
    let queue = crate::toeplitz::queue_of(hash, &cfg.rss_table);
    (hash, queue)
}

/// Predicts the datapath's handling of one RX frame (bytes without FCS).
/// Never panics, whatever the bytes.
pub fn predict_rx(cfg: &NicConfig, frame: &[u8], mac_error: bool) -> RxVerdict {
    let p = parse(frame, mac_error, cfg.max_frame);
    let drop1 = |c: Counter| RxVerdict::Drop {
        reason: c,
        counters: vec![c],
    };
    match p.class {
        Class::MacError => return drop1(Counter::RxDropMacError),
        Class::Runt => return drop1(Counter::RxDropRunt),
        Class::Oversize => return drop1(Counter::RxDropOversize),
        Class::MalformedL3 => return drop1(Counter::RxDropMalformedL3),
        _ => {}
    }
    let mut counters = Vec::new();
    let mut cpl = Completion {
        len: p.len as u16,
        kind: KIND_RX,
        ..Default::default()
    };
    let mut bad_csum = false;
    if let Some(ip) = &p.ipv4 {
        cpl.flags |= CPL_IPV4;
        cpl.l3_off = ETH_HLEN as u8;
        if ip.csum_ok {
            cpl.flags |= CPL_IP_CSUM_OK;
        } else {
            cpl.flags |= CPL_IP_CSUM_BAD;
            counters.push(Counter::RxBadIpCsum);
            bad_csum = true;
        }
        if ip.is_fragment() {
            cpl.flags |= CPL_FRAGMENT;
        }
    }
    if p.class == Class::MalformedL4 {
        counters.push(Counter::RxDropMalformedL4);
        return RxVerdict::Drop {
            reason: Counter::RxDropMalformedL4,
            counters,
        };
    }
    if let (Some(ip), Some(t)) = (&p.ipv4, &p.tcp) {
        cpl.flags |= CPL_TCP;
        cpl.l4_off = (ETH_HLEN + ip.header_len()) as u8;
        if t.csum_ok {
            cpl.flags |= CPL_TCP_CSUM_OK;
        } else {
            cpl.flags |= CPL_TCP_CSUM_BAD;
            counters.push(Counter::RxBadTcpCsum);
            bad_csum = true;
        }
        if t.opts.bad {
            cpl.flags |= CPL_OPT_BAD;
        }
        cpl.tcp_flags = t.flags;
        cpl.mss = t.opts.mss.unwrap_or(0);
        cpl.wscale = t.opts.wscale_shift().map_or(0, |s| WSCALE_PRESENT | s);
        cpl.opts = (if t.opts.sack_perm { OPT_SACK_PERM } else { 0 })
            | (if t.opts.timestamps.is_some() {
                OPT_TS
            } else {
                0
            })
            | t.opts.sack_blocks << OPT_SACK_BLOCKS_SHIFT;
        cpl.window = t.window;
        let (tsval, tsecr) = t.opts.timestamps.unwrap_or((0, 0));
        cpl.tsval = tsval;
        cpl.tsecr = tsecr;
    }
    match setup::action(&cfg.setup, &cfg.rss_key, frame, &p) {
        SetupAction::None => {}
        SetupAction::Martian => {
            counters.push(Counter::SetupSynMartian);
            return RxVerdict::Drop {
                reason: Counter::SetupSynMartian,
                counters,
            };
        }
        SetupAction::ToHost => counters.push(Counter::SetupSynToHost),
        SetupAction::Answer(_) => {
            // Consumed: the NIC answered with a SYN-ACK (predict_synack).
            counters.push(Counter::SetupSynAck);
            return RxVerdict::Drop {
                reason: Counter::SetupSynAck,
                counters,
            };
        }
        SetupAction::Established(e) => {
            setup::established_cpl(&mut cpl, &e);
            counters.push(Counter::SetupEstablished);
        }
        SetupAction::NotCookie => counters.push(Counter::SetupAckNotCookie),
    }
    match crate::connect::action(&cfg.setup.connect, &p) {
        ConnectAction::None => {}
        ConnectAction::Connected { .. } => {
            cpl.kind = toe_contract::setup::KIND_CONNECTED;
            counters.push(Counter::ConnectEstablished);
        }
        ConnectAction::Refused { .. } => {
            cpl.kind = toe_contract::setup::KIND_CONNECT_REFUSED;
            counters.push(Counter::ConnectRefused);
        }
    }
    if cfg.drop_bad_csum && bad_csum {
        // Already counted as RxBad*Csum; no other counter.
        return RxVerdict::Drop {
            reason: counters[0],
            counters,
        };
    }
    let (hash, queue) = rss(cfg, &p);
    cpl.hash = hash;
    if !cfg.queue_enabled[queue] {
        counters.push(Counter::RxDropQueueDisabled);
        return RxVerdict::Drop {
            reason: Counter::RxDropQueueDisabled,
            counters,
        };
    }
    RxVerdict::Deliver {
        queue,
        cpl,
        counters,
    }
}

/// The SYN-ACK the NIC sends for a received frame, when the setup offload
/// answers it (`predict_rx` then reports the SYN dropped with reason
/// `SetupSynAck`).  Assumes the SYN-ACK queue has room.
pub fn predict_synack(cfg: &NicConfig, frame: &[u8]) -> Option<Vec<u8>> {
    let p = parse(frame, false, cfg.max_frame);
    match setup::action(&cfg.setup, &cfg.rss_key, frame, &p) {
        SetupAction::Answer(f) => Some(f),
        _ => None,
    }
}

/// What a received frame does to the pending active opens: the slot it
/// completes (with the handshake ACK the NIC sends) or refuses.
pub fn predict_connect(cfg: &NicConfig, frame: &[u8]) -> ConnectAction {
    let p = parse(frame, false, cfg.max_frame);
    crate::connect::action(&cfg.setup.connect, &p)
}

/// What the NIC does with a TX descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxVerdict {
    /// Nothing sent; the counter (TxBadDescriptor) is incremented and the
    /// completion carries CPL_ERROR.
    Reject(Counter),
    /// This frame goes to the MAC (TxFrames, per-queue TX counters).
    Send(Vec<u8>),
}

/// True when a TX descriptor is rejected (opcode, length, alignment).
pub fn tx_desc_bad(desc: &TxDesc) -> bool {
    let len = usize::from(desc.len);
    desc.flags >> TXF_OPCODE_SHIFT != TX_OP_SEND
        || !(MIN_TX_LEN..=MAX_FRAME).contains(&len)
        || !desc.addr.is_multiple_of(BUF_ALIGN)
}

/// Predicts the frame sent for a TX descriptor whose buffer holds `buffer`
/// (at least `desc.len` bytes are needed for a valid descriptor; only the
/// first `desc.len` are used).
pub fn predict_tx(desc: &TxDesc, buffer: &[u8]) -> TxVerdict {
    if tx_desc_bad(desc) {
        return TxVerdict::Reject(Counter::TxBadDescriptor);
    }
    let l = usize::from(desc.len);
    assert!(
        buffer.len() >= l,
        "predict_tx: buffer ({} bytes) shorter than desc.len ({l})",
        buffer.len()
    );
    let mut f = buffer[..l].to_vec();
    let want_ip = desc.flags & TXF_CSUM_IP != 0;
    let want_tcp = desc.flags & TXF_CSUM_TCP != 0;
    if !(want_ip || want_tcp) || l <= ETH_HLEN {
        return TxVerdict::Send(f);
    }
    let ethertype = u16::from_be_bytes([f[12], f[13]]);
    let version = f[ETH_HLEN] >> 4;
    let ihl = usize::from(f[ETH_HLEN] & 0xF);
    let hlen = ihl * 4;
    if ethertype != ETHERTYPE_IPV4 || version != 4 || ihl < 5 || ETH_HLEN + hlen > l {
        return TxVerdict::Send(f);
    }
    if want_ip {
        let c = csum::ipv4_header_checksum(&f[ETH_HLEN..ETH_HLEN + hlen]);
        f[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&c.to_be_bytes());
    }
    if want_tcp {
        let ip = &f[ETH_HLEN..];
        let tl = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let frag = u16::from_be_bytes([ip[6], ip[7]]) & 0x3FFF != 0;
        if tl >= hlen + 20 && ETH_HLEN + tl <= l && ip[9] == PROTO_TCP && !frag {
            let src = [ip[12], ip[13], ip[14], ip[15]];
            let dst = [ip[16], ip[17], ip[18], ip[19]];
            let c = csum::tcp_checksum(src, dst, &ip[hlen..tl]);
            let at = ETH_HLEN + hlen + 16;
            f[at..at + 2].copy_from_slice(&c.to_be_bytes());
        }
    }
    TxVerdict::Send(f)
}

/// The TX completion for a descriptor at ring index `index` (phase left
/// false for the caller): kind KIND_TX, len = desc.len, CPL_ERROR if
/// rejected.
pub fn tx_completion(desc: &TxDesc, index: u16) -> Completion {
    Completion {
        index,
        len: desc.len,
        kind: KIND_TX,
        flags: if tx_desc_bad(desc) { CPL_ERROR } else { 0 },
        ..Default::default()
    }
}
