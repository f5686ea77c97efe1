//! Reference model of the connection-setup offload at the frame level:
//! which segments the NIC handles itself (docs/setup.md), the SYN-ACK frame
//! it sends, and how a valid final ACK's completion is rewritten.  The
//! cookie arithmetic is `crate::cookie`'s.
use crate::cookie::{self, SetupConfig, Syn};
use crate::gen;
use crate::parse::{Class, Parsed};
use toe_contract::desc::{Completion, OPT_SACK_PERM, WSCALE_PRESENT};
use toe_contract::regs as r;
use toe_contract::setup::KIND_ESTABLISHED;

/// One listener-table entry (the contract's).
pub use toe_contract::regs::ListenEntry as Listener;

/// The setup block's register state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupState {
    pub enabled: bool,
    pub cfg: SetupConfig,
    pub listeners: [Option<Listener>; r::LISTEN_ENTRIES as usize],
    /// The cookie clock and the timestamp clock.
    pub cookie_t: u32,
    pub ts_now: u32,
    /// Their periods as the tests program them (0: frozen, so that the
    /// model's `cookie_t` and `ts_now` stay exact; the RTL resets to the
    /// running `DEFAULT_*` periods).
    pub ts_period: u32,
    pub cookie_period: u32,
    /// This host's MAC and unicast addresses (`SETUP_LOCAL_*`; all-zero
    /// entries are empty).
    pub local_mac: [u8; 6],
    pub local_ips: [[u8; 4]; r::LOCAL_IPS as usize],
    /// Established-tuple filter bits that are set (`SETUP_EST_FILTER`).
    pub est_filter: std::collections::BTreeSet<u16>,
    /// Pending active opens (`crate::connect`).
    pub connect: crate::connect::Slots,
}

impl Default for SetupState {
    /// The RTL's reset state (disabled, no keys, no listeners, no local
    /// addresses), but with both clocks frozen (see `ts_period`).
    fn default() -> Self {
        SetupState {
            enabled: false,
            cfg: SetupConfig {
                keys: [None, None],
                ..SetupConfig::default()
            },
            listeners: [None; r::LISTEN_ENTRIES as usize],
            cookie_t: 0,
            ts_now: 0,
            ts_period: 0,
            cookie_period: 0,
            local_mac: [0; 6],
            local_ips: [[0; 4]; r::LOCAL_IPS as usize],
            est_filter: Default::default(),
            connect: [None; toe_contract::setup::CONNECT_SLOTS],
        }
    }
}

impl SetupState {
    /// The listener for a destination: the lowest-index exact entry, else
    /// the lowest-index any-IP entry.
    pub fn lookup(&self, ip: [u8; 4], port: u16) -> Option<&Listener> {
        let all = || self.listeners.iter().flatten().filter(|l| l.port == port);
        all()
            .find(|l| l.ip == Some(ip))
            .or_else(|| all().find(|l| l.ip.is_none()))
    }

    /// Whether `ip` is one of this host's unicast addresses.
    pub fn is_local(&self, ip: [u8; 4]) -> bool {
        ip != [0; 4] && self.local_ips.contains(&ip)
    }

    /// An offloaded listener for this destination: an exact entry, or an
    /// any-IP entry when the address is ours.
    fn offloaded(&self, ip: [u8; 4], port: u16) -> bool {
        self.enabled
            && self
                .lookup(ip, port)
                .is_some_and(|l| l.offload && (l.ip.is_some() || self.is_local(ip)))
    }

    /// Whether a segment is not for this host (docs/setup.md): Ethernet
    /// destination not our MAC, a martian source or destination address,
    /// a source that is ours, or source = destination (LAND).
    pub fn martian(&self, frame: &[u8], src: [u8; 4], dst: [u8; 4]) -> bool {
        frame[0..6] != self.local_mac
            || r::ip_is_martian(src)
            || r::ip_is_martian(dst)
            || src == dst
            || self.is_local(src)
    }
}

/// What the setup offload does with a received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupAction {
    /// Not the offload's: the frame goes its ordinary way.
    None,
    /// A SYN the NIC answers with this frame (and consumes).
    Answer(Vec<u8>),
    /// A final ACK whose cookie checks: its completion becomes "established".
    Established(cookie::Established),
    /// An ACK to an offloaded listener that carries no valid cookie
    /// (delivered as an ordinary segment, counted).
    NotCookie,
    /// A SYN to an offloaded listener that is not for this host: consumed,
    /// counted `SetupSynMartian`.
    Martian,
    /// A SYN to an offloaded listener left to the host (tuple in the
    /// established filter, MSS below the table, no valid key): delivered as an ordinary segment, counted
    /// `SetupSynToHost`.
    ToHost,
}

/// Decides what the offload does with `frame` (parsed as `p`).
pub fn action(
    s: &SetupState,
    rss_key: &[u8; toe_contract::RSS_KEY_BYTES],
    frame: &[u8],
    p: &Parsed,
) -> SetupAction {
    let (ip, t) = match (&p.ipv4, &p.tcp) {
        (Some(ip), Some(t)) if p.class == Class::Tcp && ip.csum_ok && t.csum_ok => (ip, t),
        _ => return SetupAction::None,
    };
    let syn = t.flags & 0x17 == 0x02;
    let ack = t.flags & 0x16 == 0x10;
    if !(syn || ack) || !s.offloaded(ip.dst, t.dst_port) {
        return SetupAction::None;
    }
    let martian = s.martian(frame, ip.src, ip.dst);
    if syn {
        if martian {
            return SetupAction::Martian;
        }
        let key_ok = s.cfg.keys[(s.cfg.current_slot & 1) as usize].is_some();
        let index = r::est_filter_index(rss_key, (ip.src, t.src_port), (ip.dst, t.dst_port));
        let client_mss = t.opts.mss.filter(|&m| m != 0).unwrap_or(536);
        let mss_low = s.cfg.mss_table.iter().all(|&m| m > client_mss);
        // Options that did not parse are taken as far as they did, as
        // Linux's tcp_parse_options does.
        if !key_ok || mss_low || s.est_filter.contains(&index) {
            return SetupAction::ToHost;
        }
        let syn = Syn {
            client: (ip.src, t.src_port),
            server: (ip.dst, t.dst_port),
            isn: t.seq,
            mss: t.opts.mss.filter(|&m| m != 0),
            wscale: t.opts.wscale_shift(),
            sack_permitted: t.opts.sack_perm,
            tsval: t.opts.timestamps.map(|(v, _)| v),
        };
        let sa = cookie::syn_ack(&s.cfg, &syn, s.cookie_t, s.ts_now).expect("key checked");
        let mut macs = [0u8; 12];
        macs[..6].copy_from_slice(&frame[6..12]);
        macs[6..].copy_from_slice(&frame[0..6]);
        return SetupAction::Answer(synack_frame(&macs, &syn, &sa));
    }
    if martian {
        return SetupAction::None;
    }
    let a = cookie::Ack {
        client: (ip.src, t.src_port),
        server: (ip.dst, t.dst_port),
        seq: t.seq,
        ack: t.ack,
        window: t.window,
        ts: t.opts.timestamps,
    };
    match cookie::check_ack(&s.cfg, &a, s.cookie_t) {
        Ok(e) if !t.opts.bad => SetupAction::Established(e),
        _ => SetupAction::NotCookie,
    }
}

/// Rewrites an ordinary RX completion into the "established" one.
pub fn established_cpl(cpl: &mut Completion, e: &cookie::Established) {
    cpl.kind = KIND_ESTABLISHED;
    cpl.mss = e.mss;
    cpl.wscale = e.client_wscale.map_or(0, |w| WSCALE_PRESENT | w);
    cpl.opts = (cpl.opts & !OPT_SACK_PERM) | if e.sack_permitted { OPT_SACK_PERM } else { 0 };
}

/// A TCP control frame as the NIC builds it (SYN-ACKs, and the active
/// open's SYNs and ACKs): `macs` = destination then source MAC, `from` and
/// `to` the (address, port) of the sender (the NIC's side) and the peer.
/// Options in Linux's order: MSS; timestamps as `SACK-permitted TS` or
/// `NOP NOP TS`, SACK-permitted without timestamps as `NOP NOP
/// SACK-permitted`; window scale as `NOP WS`.  Both checksums filled,
/// padded to 60 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctl {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub mss: Option<u16>,
    pub sack_permitted: bool,
    pub ts: Option<(u32, u32)>,
    pub wscale: Option<u8>,
}

pub fn ctl_frame(macs: &[u8; 12], from: ([u8; 4], u16), to: ([u8; 4], u16), c: &Ctl) -> Vec<u8> {
    let mut opts = vec![];
    if let Some(m) = c.mss {
        opts.extend_from_slice(&[2, 4]);
        opts.extend_from_slice(&m.to_be_bytes());
    }
    match c.ts {
        Some((v, e)) => {
            opts.extend_from_slice(if c.sack_permitted {
                &[4, 2, 8, 10]
            } else {
                &[1, 1, 8, 10]
            });
            opts.extend_from_slice(&v.to_be_bytes());
            opts.extend_from_slice(&e.to_be_bytes());
        }
        None if c.sack_permitted => opts.extend_from_slice(&[1, 1, 4, 2]),
        None => {}
    }
    if let Some(w) = c.wscale {
        opts.extend_from_slice(&[1, 3, 3, w & 0xF]);
    }
    let mut dst_mac = [0u8; 6];
    let mut src_mac = [0u8; 6];
    dst_mac.copy_from_slice(&macs[..6]);
    src_mac.copy_from_slice(&macs[6..]);
    gen::tcp_frame(&gen::TcpSpec {
        ip: gen::Ipv4Spec {
            dst_mac,
            src_mac,
            src: from.0,
            dst: to.0,
            ident: 0,
            ttl: 64,
            dont_frag: true,
            ..gen::Ipv4Spec::default()
        },
        src_port: from.1,
        dst_port: to.1,
        seq: c.seq,
        ack: c.ack,
        flags: c.flags,
        window: c.window,
        urgent: 0,
        options: opts,
        payload: Vec::new(),
    })
}

/// The SYN-ACK frame: `macs` = destination then source MAC; addresses and
/// ports are the SYN's swapped ([`ctl_frame`] with SYN|ACK and the MSS).
pub fn synack_frame(macs: &[u8; 12], syn: &Syn, sa: &cookie::SynAck) -> Vec<u8> {
    ctl_frame(
        macs,
        syn.server,
        syn.client,
        &Ctl {
            seq: sa.seq,
            ack: sa.ack,
            flags: 0x12,
            window: sa.window,
            mss: Some(sa.mss),
            sack_permitted: sa.sack_permitted,
            ts: sa.ts,
            wscale: sa.wscale,
        },
    )
}
