//! The connection-setup offload's control path (`toe_contract::regs`
//! `SETUP_*`, design in `toe_contract::setup` and docs/setup.md): keys,
//! clocks, what the NIC's SYN-ACK offers, and the listener table.
//!
//! For a listener entry with offload on, the NIC answers SYNs itself (SYN
//! cookies, no state) and delivers the client's validated final ACK as a
//! completion of kind `KIND_ESTABLISHED`; the host library
//! ([`crate::tcp::TcpStack::on_established`]) creates the connection from
//! it directly in ESTABLISHED.  Listeners without an entry, or with offload
//! off, keep the software handshake.
use crate::backend::Registers;
use crate::device::Device;
use crate::error::{Error, Result};
use toe_contract::regs as r;
use toe_contract::setup as s;

/// What the host programs for the setup offload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupParams {
    /// Key slots 0 and 1 (`None`: not valid).  The current slot must hold a
    /// key.  Keys must be secret and random (`getrandom`).
    pub keys: [Option<[u8; 16]>; 2],
    pub current_slot: u8,
    /// Oldest cookie accepted, in cookie-clock ticks (1 to 7): a cookie
    /// lives `max_age` to `max_age + 1` ticks.
    pub max_age: u32,
    /// Timestamp ticks per cookie-clock tick (not 0: cookies must expire).
    /// Default 64,000: 64 s at 1 ms ticks, as Linux's cookie clock; with
    /// `max_age` 1 a cookie is accepted for 64 to 128 s.
    pub cookie_period: u32,
    /// Core-clock cycles per timestamp tick (not 0); 250_000 is 1 ms at
    /// 250 MHz.
    pub ts_period: u32,
    pub mss_table: [u16; 4],
    /// What the SYN-ACK offers: these must be the host library's own (its
    /// `Config::syn_opts`), since the connection continues on the host.
    pub our_mss: u16,
    pub our_wscale: u8,
    pub our_window: u16,
    /// This host's MAC and unicast IPv4 addresses (1 to `LOCAL_IPS`): the
    /// NIC answers SYNs only to these (an any-IP listener entry matches
    /// only them) and drops SYNs to or from addresses no host can have.
    pub local_mac: [u8; 6],
    pub local_ips: Vec<[u8; 4]>,
}

impl Default for SetupParams {
    fn default() -> Self {
        SetupParams {
            keys: [None, None],
            current_slot: 0,
            max_age: r::DEFAULT_COOKIE_MAX_AGE,
            cookie_period: r::DEFAULT_COOKIE_PERIOD,
            ts_period: r::DEFAULT_TS_PERIOD,
            mss_table: s::DEFAULT_MSS_TABLE,
            our_mss: 1460,
            our_wscale: 7,
            our_window: 65535,
            local_mac: [0; 6],
            local_ips: Vec::new(),
        }
    }
}

impl SetupParams {
    /// Parameters whose SYN-ACK offers what the host library `cfg` would
    /// (MSS, window scale, receive window), with `key` in slot 0.
    pub fn matching(cfg: &crate::tcp::conn::Config, key: [u8; 16]) -> SetupParams {
        let ws = cfg.syn_opts.wscale.unwrap_or(0);
        SetupParams {
            keys: [Some(key), None],
            our_mss: cfg.syn_opts.mss.unwrap_or(cfg.mss),
            our_wscale: ws,
            // A SYN-ACK's window is never scaled (RFC 7323 2.2).
            our_window: cfg.recv_buffer.min(65535) as u16,
            ..SetupParams::default()
        }
    }

    /// The host's MAC and unicast addresses (see `local_ips`).
    pub fn with_local(mut self, mac: [u8; 6], ips: &[[u8; 4]]) -> SetupParams {
        self.local_mac = mac;
        self.local_ips = ips.to_vec();
        self
    }

    /// Why these parameters cannot be programmed, if they cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.current_slot > 1 || self.keys[self.current_slot as usize].is_none() {
            return Err(format!(
                "current key slot {} holds no key",
                self.current_slot
            ));
        }
        if self.max_age == 0 || self.max_age > s::MAX_COOKIE_AGE {
            return Err(format!(
                "max_age {} not in 1..={}",
                self.max_age,
                s::MAX_COOKIE_AGE
            ));
        }
        if self.cookie_period == 0 || self.ts_period == 0 {
            return Err("the cookie and timestamp clocks must run (period 0): \
                        cookies would never expire"
                .into());
        }
        if self.our_wscale > 14 {
            return Err(format!(
                "window scale {} above 14 (RFC 7323)",
                self.our_wscale
            ));
        }
        if self.our_mss < 88 || self.mss_table.iter().any(|&m| m < 88) {
            return Err("MSS below 88".into());
        }
        if self.local_ips.is_empty() {
            return Err("no local address (SetupParams::with_local): \
                        the NIC would answer for no one"
                .into());
        }
        if self.local_ips.len() > r::LOCAL_IPS as usize {
            return Err(format!(
                "{} local addresses, the NIC holds {}",
                self.local_ips.len(),
                r::LOCAL_IPS
            ));
        }
        if let Some(ip) = self.local_ips.iter().find(|ip| r::ip_is_martian(**ip)) {
            return Err(format!("local address {ip:?} is not a unicast address"));
        }
        if self.local_mac[0] & 1 != 0 || self.local_mac == [0; 6] {
            return Err(format!(
                "local MAC {:02x?} is not a unicast address",
                self.local_mac
            ));
        }
        Ok(())
    }
}

/// One listener-table entry (the contract's).
pub use toe_contract::regs::ListenEntry;

impl Device {
    fn setup_base(&self) -> Result<u32> {
        self.info()
            .blocks
            .iter()
            .find(|b| b.kind == r::TYPE_SETUP && b.version >> 16 == 1)
            .map(|b| b.offset)
            .ok_or(Error::MissingBlock("setup"))
    }

    /// Whether the device has the setup offload.
    pub fn has_setup_offload(&self) -> bool {
        self.setup_base().is_ok()
    }

    /// Programs keys, clocks and what the SYN-ACK offers, and enables the
    /// offload.  Listener entries are left as they are.
    pub fn setup_configure(&self, p: &SetupParams) -> Result<()> {
        let b = self.setup_base()?;
        p.check()
            .map_err(|why| Error::Config(format!("setup offload: {why}")))?;
        // Disable while the keys change, so no SYN-ACK mixes two states.
        self.setup_enable(false)?;
        for (slot, off) in [(0usize, r::SETUP_KEY0), (1, r::SETUP_KEY1)] {
            let words = r::setup_key_words(&p.keys[slot].unwrap_or([0; 16]));
            for (i, w) in words.into_iter().enumerate() {
                self.write32(b + off + 4 * i as u32, w);
            }
        }
        self.write32(b + r::SETUP_MAX_AGE, p.max_age);
        self.write32(b + r::SETUP_COOKIE_PERIOD, p.cookie_period);
        self.write32(b + r::SETUP_TS_PERIOD, p.ts_period);
        let m = p.local_mac;
        self.write32(
            b + r::SETUP_LOCAL_MAC_HI,
            u16::from_be_bytes([m[0], m[1]]) as u32,
        );
        self.write32(
            b + r::SETUP_LOCAL_MAC_LO,
            u32::from_be_bytes([m[2], m[3], m[4], m[5]]),
        );
        for i in 0..r::LOCAL_IPS as usize {
            let ip = p.local_ips.get(i).copied().unwrap_or([0; 4]);
            self.write32(b + r::SETUP_LOCAL_IP + 4 * i as u32, u32::from_be_bytes(ip));
        }
        // The established-tuple filter is indexed by the Toeplitz hash under
        // the RSS key.  With RSS off and no key programmed every tuple would
        // hash to 0 and share one bit: give the hash a secret key of its own,
        // derived from the current cookie key (RSS stays off, so steering is
        // unchanged: the key only feeds the hash).
        let key_words = |d: &Device| -> Vec<u32> {
            (0..toe_contract::RSS_KEY_BYTES as u32 / 4)
                .map(|i| d.read32(r::RSS_BASE + r::RSS_KEY + 4 * i))
                .collect()
        };
        if key_words(self).iter().all(|&w| w == 0) {
            let secret = p.keys[p.current_slot as usize].unwrap_or([0; 16]);
            for i in 0..toe_contract::RSS_KEY_BYTES as u32 / 4 {
                use std::hash::Hasher;
                let mut h = siphasher::sip::SipHasher24::new_with_key(&secret);
                h.write(b"toe est-filter rss key");
                h.write_u32(i);
                self.write32(r::RSS_BASE + r::RSS_KEY + 4 * i, h.finish() as u32);
            }
        }
        self.est_filter_clear_all()?;
        self.write32(b + r::SETUP_OURS, r::setup_ours(p.our_mss, p.our_wscale));
        self.write32(b + r::SETUP_WINDOW, p.our_window as u32);
        for (i, w) in r::setup_mss_table_words(&p.mss_table)
            .into_iter()
            .enumerate()
        {
            self.write32(b + r::SETUP_MSS_TABLE + 4 * i as u32, w);
        }
        let valid = [p.keys[0].is_some(), p.keys[1].is_some()];
        self.write32(
            b + r::SETUP_CTRL,
            r::setup_ctrl(true, p.current_slot, valid),
        );
        Ok(())
    }

    /// Adds a unicast address of this host to those the NIC answers for
    /// (nothing when it is there already).  The device holds one MAC: `mac`
    /// must be the configured one.
    pub fn setup_add_local(&self, mac: [u8; 6], ip: [u8; 4]) -> Result<()> {
        let b = self.setup_base()?;
        let bad = |why: String| Err(Error::Config(format!("setup offload: {why}")));
        let hi = self.read32(b + r::SETUP_LOCAL_MAC_HI);
        let lo = self.read32(b + r::SETUP_LOCAL_MAC_LO);
        let have = [
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 24) as u8,
            (lo >> 16) as u8,
            (lo >> 8) as u8,
            lo as u8,
        ];
        if have != mac {
            return bad(format!("MAC {mac:02x?} is not the device's {have:02x?}"));
        }
        if r::ip_is_martian(ip) {
            return bad(format!("{ip:?} is not a unicast address"));
        }
        let mut free = None;
        for i in 0..r::LOCAL_IPS {
            let w = self.read32(b + r::SETUP_LOCAL_IP + 4 * i);
            if w == u32::from_be_bytes(ip) {
                return Ok(());
            }
            if w == 0 && free.is_none() {
                free = Some(i);
            }
        }
        match free {
            Some(i) => {
                self.write32(b + r::SETUP_LOCAL_IP + 4 * i, u32::from_be_bytes(ip));
                Ok(())
            }
            None => bad(format!(
                "no room for {ip:?}: the NIC holds {} addresses",
                r::LOCAL_IPS
            )),
        }
    }

    /// Clears every bit of the established-tuple filter and waits until the
    /// NIC has (one bit per cycle: 65,536 cycles, 262 us at 250 MHz).
    pub fn est_filter_clear_all(&self) -> Result<()> {
        let b = self.setup_base()?;
        self.write32(b + r::SETUP_EST_FILTER, r::EST_FILTER_CLEAR_ALL);
        let start = std::time::Instant::now();
        while self.read32(b + r::SETUP_EST_FILTER) & r::EST_FILTER_CLEARING != 0 {
            if start.elapsed() > std::time::Duration::from_secs(30) {
                return Err(Error::Config(
                    "setup offload: the established-tuple filter did not clear within 30 s".into(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        Ok(())
    }

    /// The established-tuple filter as stack instances share it (see
    /// [`EstFilter`]), indexed under the RSS key the device holds now.
    pub fn est_filter(&self) -> Result<EstFilter> {
        let base = self.setup_base()?;
        let mut key = [0u8; toe_contract::RSS_KEY_BYTES];
        for i in 0..toe_contract::RSS_KEY_BYTES / 4 {
            let w = self.read32(r::RSS_BASE + r::RSS_KEY + 4 * i as u32);
            key[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        Ok(EstFilter::with_key(base, key))
    }

    /// Turns the offload on or off (off: every SYN and ACK goes to the host).
    pub fn setup_enable(&self, on: bool) -> Result<()> {
        let b = self.setup_base()?;
        let c = self.read32(b + r::SETUP_CTRL);
        let c = if on {
            c | r::SETUP_CTRL_ENABLE
        } else {
            c & !r::SETUP_CTRL_ENABLE
        };
        self.write32(b + r::SETUP_CTRL, c);
        Ok(())
    }

    /// Key rotation, step 1: `key` goes into the slot not in use, which
    /// becomes current; the old key stays valid for cookies already out.
    pub fn setup_rotate_key(&self, key: [u8; 16]) -> Result<()> {
        let b = self.setup_base()?;
        let c = self.read32(b + r::SETUP_CTRL);
        let new = (c & r::SETUP_CTRL_SLOT == 0) as u8;
        let off = if new == 0 {
            r::SETUP_KEY0
        } else {
            r::SETUP_KEY1
        };
        let valid_new = r::setup_key_valid_bit(new);
        // Invalidate the slot while its key changes.
        self.write32(b + r::SETUP_CTRL, c & !valid_new);
        for (i, w) in r::setup_key_words(&key).into_iter().enumerate() {
            self.write32(b + off + 4 * i as u32, w);
        }
        let mut c = (c | valid_new) & !r::SETUP_CTRL_SLOT;
        if new == 1 {
            c |= r::SETUP_CTRL_SLOT;
        }
        self.write32(b + r::SETUP_CTRL, c);
        Ok(())
    }

    /// Key rotation, step 2 (after the grace period, at least `max_age`
    /// cookie-clock ticks): the old key is no longer accepted.
    pub fn setup_retire_old_key(&self) -> Result<()> {
        let b = self.setup_base()?;
        let c = self.read32(b + r::SETUP_CTRL);
        // The slot not current.
        let old_valid = r::setup_key_valid_bit((c & r::SETUP_CTRL_SLOT == 0) as u8);
        self.write32(b + r::SETUP_CTRL, c & !old_valid);
        Ok(())
    }

    /// Sets the cookie clock (for a host-driven clock, `cookie_period` 0).
    pub fn setup_set_cookie_clock(&self, t: u32) -> Result<()> {
        let b = self.setup_base()?;
        self.write32(b + r::SETUP_COOKIE_T, t);
        Ok(())
    }

    pub fn setup_cookie_clock(&self) -> Result<u32> {
        Ok(self.read32(self.setup_base()? + r::SETUP_COOKIE_T))
    }

    /// Writes listener entry `index` (`None` clears it).
    pub fn set_listener(&self, index: usize, e: Option<ListenEntry>) -> Result<()> {
        let b = self.setup_base()?;
        if index >= r::LISTEN_ENTRIES as usize {
            return Err(Error::Config(format!(
                "listener entry {index}: the table has {}",
                r::LISTEN_ENTRIES
            )));
        }
        let (ip, w) = ListenEntry::words(e);
        self.write32(b + r::SETUP_LISTEN_INDEX, index as u32);
        self.write32(b + r::SETUP_LISTEN_IP, ip);
        self.write32(b + r::SETUP_LISTEN_PORT, w);
        Ok(())
    }

    /// Reads listener entry `index` back.
    pub fn listener(&self, index: usize) -> Result<Option<ListenEntry>> {
        let b = self.setup_base()?;
        if index >= r::LISTEN_ENTRIES as usize {
            return Err(Error::Config(format!(
                "listener entry {index} out of range"
            )));
        }
        self.write32(b + r::SETUP_LISTEN_INDEX, index as u32);
        let w = self.read32(b + r::SETUP_LISTEN_PORT);
        let ip = self.read32(b + r::SETUP_LISTEN_IP);
        Ok(ListenEntry::from_words(ip, w))
    }

    /// Adds (or updates) the entry for `(ip, port)` in the first free slot;
    /// returns its index.
    pub fn listen_offload(&self, ip: Option<[u8; 4]>, port: u16, offload: bool) -> Result<usize> {
        let mut free = None;
        for i in 0..r::LISTEN_ENTRIES as usize {
            match self.listener(i)? {
                Some(e) if e.ip == ip && e.port == port => {
                    self.set_listener(i, Some(ListenEntry { ip, port, offload }))?;
                    return Ok(i);
                }
                None if free.is_none() => free = Some(i),
                _ => {}
            }
        }
        let i = free.ok_or_else(|| {
            Error::Config(format!(
                "listener table full ({} entries)",
                r::LISTEN_ENTRIES
            ))
        })?;
        self.set_listener(i, Some(ListenEntry { ip, port, offload }))?;
        Ok(i)
    }

    /// Removes the entry for `(ip, port)`, if any.
    pub fn unlisten_offload(&self, ip: Option<[u8; 4]>, port: u16) -> Result<()> {
        for i in 0..r::LISTEN_ENTRIES as usize {
            if let Some(e) = self.listener(i)? {
                if e.ip == ip && e.port == port {
                    self.set_listener(i, None)?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------- established-tuple filter
//
// RFC 5961 section 4: a SYN for a connection in a synchronized state must
// draw a challenge ACK, never a new handshake.  The NIC keeps no
// per-connection state, so the host tells it which tuples it holds: one bit
// per value of the top 16 bits of the tuple's Toeplitz hash
// (`toe_contract::regs::est_filter_index`), set while at least one of the
// host's passive connections maps to it.  A SYN to an offloaded listener
// whose bit is set goes to the host: the connection's owner answers it with
// a challenge ACK, and a SYN whose bit is set only by another tuple (a
// false positive, probability about n / 65,536 with n connections) gets
// the host's software handshake instead of the NIC's.

struct EstFilterShared {
    base: u32,
    /// The top 16 bits of the Toeplitz hash, byte by byte: entry [i][v] is
    /// the contribution of input byte i holding v (the hash is linear: the
    /// contributions of the 12 bytes XOR together).
    table: Vec<[u16; 256]>,
    /// Connections per bit.  The lock also orders the register writes of
    /// the paths that share the device.
    counts: std::sync::Mutex<Vec<u16>>,
}

/// One device's established-tuple filter, shared by every stack instance
/// (clones are handles to the same counts).  From [`Device::est_filter`].
#[derive(Clone)]
pub struct EstFilter(std::sync::Arc<EstFilterShared>);

impl std::fmt::Debug for EstFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstFilter")
            .field("base", &self.0.base)
            .finish()
    }
}

impl EstFilter {
    /// A filter for tests of the socket layer: the setup block at its
    /// contract address, RSS key `rss_key`.
    pub fn detached(rss_key: [u8; toe_contract::RSS_KEY_BYTES]) -> EstFilter {
        EstFilter::with_key(r::SETUP_BASE, rss_key)
    }

    fn with_key(base: u32, key: [u8; toe_contract::RSS_KEY_BYTES]) -> EstFilter {
        let table = (0..12)
            .map(|i| {
                let mut t = [0u16; 256];
                for (v, e) in t.iter_mut().enumerate() {
                    let mut input = [0u8; 12];
                    input[i] = v as u8;
                    *e = (toe_contract::rss::toeplitz(&key, &input) >> 16) as u16;
                }
                t
            })
            .collect();
        EstFilter(std::sync::Arc::new(EstFilterShared {
            base,
            table,
            counts: std::sync::Mutex::new(vec![0; r::EST_FILTER_BITS as usize]),
        }))
    }

    /// The bit of a connection (`client` the peer that connected to us):
    /// `toe_contract::regs::est_filter_index`, from per-byte tables.
    pub fn index(&self, client: ([u8; 4], u16), server: ([u8; 4], u16)) -> u16 {
        let t = toe_contract::rss::tuple4(client.0, server.0, client.1, server.1);
        t.iter()
            .zip(&self.0.table)
            .fold(0, |h, (&b, tab)| h ^ tab[b as usize])
    }

    /// Connections counted on bit `index`.
    pub fn count(&self, index: u16) -> u16 {
        self.0.counts.lock().unwrap_or_else(|e| e.into_inner())[index as usize]
    }

    /// A passive connection came into being (`added`) or went away: the
    /// bit is written when its count moves between 0 and 1.  On a queue's
    /// lane (one path of several) a clear is followed by a read on the same
    /// lane, so that it reaches the device before any later set of the same
    /// bit from another lane; on the one shared path order is given.
    pub fn update(
        &self,
        regs: &dyn Registers,
        client: ([u8; 4], u16),
        server: ([u8; 4], u16),
        added: bool,
    ) {
        let i = self.index(client, server);
        let mut counts = self.0.counts.lock().unwrap_or_else(|e| e.into_inner());
        let c = &mut counts[i as usize];
        let reg = self.0.base + r::SETUP_EST_FILTER;
        if added {
            *c = c.saturating_add(1);
            if *c == 1 {
                regs.write32(reg, i as u32 | r::EST_FILTER_SET);
            }
        } else if *c > 0 {
            *c -= 1;
            if *c == 0 {
                regs.write32(reg, i as u32);
                if !regs.is_only_path() {
                    let _ = regs.read32(reg);
                }
            }
        }
    }
}

#[cfg(test)]
mod est_filter_tests {
    use super::*;

    /// The table-driven index is the contract's, for random keys and tuples.
    #[test]
    fn table_index_matches_the_contract() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..8 {
            let mut key = [0u8; toe_contract::RSS_KEY_BYTES];
            key.iter_mut().for_each(|b| *b = next() as u8);
            let f = EstFilter::detached(key);
            for _ in 0..200 {
                let n = next();
                let c = ((n as u32).to_be_bytes(), (n >> 32) as u16);
                let s = (((n >> 16) as u32).to_be_bytes(), (n >> 48) as u16);
                assert_eq!(f.index(c, s), r::est_filter_index(&key, c, s));
            }
        }
    }
}

// ---------------------------------------------------------------- active open
//
// The NIC sends a connection's SYN, retransmits it with exponential backoff
// and completes the handshake itself (`toe_contract::setup`, "active
// open"): the host stages the SYN as a control-frame record in the shared
// `SETUP_CONN_REC` registers and starts it in the slot of its local port.
// Everything here takes a register path ([`Registers`]): the device's own
// (a `Nic` run from one thread) or a queue's lane (a split NIC, one thread
// per queue), so that every stack instance can issue its own opens.

/// Most SYN retransmissions the NIC does (`toe_contract::regs::CONN_MAX_RETRIES`).
pub const CONNECT_MAX_RETRIES: u32 = r::CONN_MAX_RETRIES;

/// The core clock the timestamp clock's period (`SETUP_TS_PERIOD`, in
/// cycles) is counted in: the design's target, 250 MHz.
pub const CORE_CLOCK_HZ: u64 = 250_000_000;

/// What every user of one device's active-open registers shares: the lock
/// over the staging registers, the slot claims and the configured timing.
#[derive(Debug)]
pub(crate) struct ConnectShared {
    /// Held from the first staged word to the flushing read after the
    /// command, so that two paths never interleave their records.
    stage: std::sync::Mutex<()>,
    /// Bit i: slot i belongs to an open of some stack instance.
    claimed: std::sync::atomic::AtomicU16,
    /// `rto_ticks << 32 | retries` as last configured (the reset values
    /// until [`Device::connect_configure`]).
    timing: std::sync::atomic::AtomicU64,
}

impl Default for ConnectShared {
    fn default() -> Self {
        ConnectShared {
            stage: std::sync::Mutex::new(()),
            claimed: std::sync::atomic::AtomicU16::new(0),
            timing: std::sync::atomic::AtomicU64::new(
                (s::DEFAULT_CONNECT_RTO as u64) << 32 | s::DEFAULT_CONNECT_RETRIES as u64,
            ),
        }
    }
}

/// The active-open slots of one device, claimed by the stack instances
/// that use them (an open uses slot `local port % 16`,
/// [`toe_contract::setup::connect_slot`]): no two opens ever share a slot.
/// Cloning gives another handle to the same claims.
#[derive(Clone, Debug)]
pub struct ConnectSlots(std::sync::Arc<ConnectShared>);

impl Default for ConnectSlots {
    fn default() -> Self {
        ConnectSlots::new()
    }
}

impl ConnectSlots {
    /// A set of claims of its own, all slots free (a device has one,
    /// [`Device::connect_slots`]; this is for a stack used without one).
    pub fn new() -> ConnectSlots {
        ConnectSlots(std::sync::Arc::default())
    }

    /// Claims `slot`; false when it is out of range or taken.
    pub fn claim(&self, slot: usize) -> bool {
        use std::sync::atomic::Ordering;
        if slot >= s::CONNECT_SLOTS {
            return false;
        }
        let bit = 1u16 << slot;
        self.0.claimed.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Gives `slot` back.  Only its claimer calls this, after the NIC is
    /// done with the slot (it answered, timed out, or was told to abort).
    pub fn release(&self, slot: usize) {
        use std::sync::atomic::Ordering;
        if slot < s::CONNECT_SLOTS {
            self.0.claimed.fetch_and(!(1u16 << slot), Ordering::AcqRel);
        }
    }

    /// The claimed slots, bit i for slot i.
    pub fn claimed(&self) -> u16 {
        self.0.claimed.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// One device's active open as a stack instance uses it (`Send + Sync`,
/// cloned into every [`crate::socket::EndpointConfig`]): the setup block's
/// address, the shared slot claims and staging lock, and the timing the
/// host needs to know when to look for a timeout.  From
/// [`Device::nic_connector`].
#[derive(Clone, Debug)]
pub struct NicConnector {
    base: u32,
    shared: std::sync::Arc<ConnectShared>,
    rto_ticks: u32,
    retries: u32,
    tick: std::time::Duration,
}

fn slot_error(slot: usize) -> Error {
    Error::Config(format!(
        "active open: slot {slot} out of range (the NIC has {} slots)",
        s::CONNECT_SLOTS
    ))
}

impl NicConnector {
    /// A connector for tests of the socket layer, with claims of its own.
    #[cfg(test)]
    pub(crate) fn for_test(
        rto_ticks: u32,
        retries: u32,
        tick: std::time::Duration,
    ) -> NicConnector {
        NicConnector {
            base: r::SETUP_BASE,
            shared: std::sync::Arc::default(),
            rto_ticks,
            retries,
            tick,
        }
    }

    /// The slot claims shared by every instance of the device.
    pub fn slots(&self) -> ConnectSlots {
        ConnectSlots(self.shared.clone())
    }

    /// The first SYN retransmission timeout, in ticks, and the number of
    /// retransmissions, as configured when this connector was made.
    pub fn timing(&self) -> (u32, u32) {
        (self.rto_ticks, self.retries)
    }

    /// One tick of the NIC's timestamp clock on the host's clock.
    pub fn tick(&self) -> std::time::Duration {
        self.tick
    }

    /// Another tick length (for a device whose core clock is not
    /// [`CORE_CLOCK_HZ`], or a simulation whose host time runs faster).
    pub fn with_tick(mut self, tick: std::time::Duration) -> NicConnector {
        self.tick = tick;
        self
    }

    /// The first retransmission timeout on the host's clock.
    pub fn first_rto(&self) -> std::time::Duration {
        self.tick.saturating_mul(self.rto_ticks)
    }

    /// From the first SYN until the NIC gives up
    /// ([`toe_contract::setup::connect_give_up_ticks`]) on the host's clock.
    pub fn give_up(&self) -> std::time::Duration {
        let ticks = s::connect_give_up_ticks(self.rto_ticks, self.retries);
        let ns = (self.tick.as_nanos()).saturating_mul(ticks as u128);
        std::time::Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
    }

    /// Stages `req` and starts its open in slot `req.slot()`, which the
    /// caller must have claimed ([`ConnectSlots::claim`]).  The twelve
    /// record words, the ACK window and the command are written under the
    /// device's staging lock, and a read on the same path flushes them
    /// before the lock is released (writes of different lanes are not
    /// ordered with each other).
    pub fn start(&self, regs: &dyn Registers, req: &s::ConnectRequest) -> Result<()> {
        let slot = req.slot();
        let bad = |why: String| Err(Error::Config(format!("active open: {why}")));
        if self.slots().claimed() & (1 << slot) == 0 {
            return bad(format!(
                "slot {slot} (local port {}) is not claimed: claim it first so that no other \
                 open uses it",
                req.syn.src.1
            ));
        }
        let syn = &req.syn;
        if syn.flags & (s::TCP_SYN | s::TCP_ACK | s::TCP_RST | s::TCP_FIN) != s::TCP_SYN {
            return bad(format!(
                "the record's flags {:#04x} are not a plain SYN",
                syn.flags
            ));
        }
        if syn.src.1 == 0 || syn.dst.1 == 0 {
            return bad(format!(
                "port 0 in {}:{} -> {}:{}",
                ip(syn.src.0),
                syn.src.1,
                ip(syn.dst.0),
                syn.dst.1
            ));
        }
        if syn.wscale.is_some_and(|w| w > 14) {
            return bad(format!(
                "window scale {} above 14 (RFC 7323)",
                syn.wscale.unwrap_or(0)
            ));
        }
        if syn.dst_mac == [0; 6] || syn.dst_mac[0] & 1 == 1 || syn.src_mac[0] & 1 == 1 {
            return bad(format!(
                "next-hop MAC {:02x?} or our MAC {:02x?} is not a unicast address",
                syn.dst_mac, syn.src_mac
            ));
        }
        let b = self.base;
        let _g = self.shared.stage.lock().unwrap_or_else(|e| e.into_inner());
        for (i, w) in syn.words().into_iter().enumerate() {
            regs.write32(b + r::SETUP_CONN_REC + 4 * i as u32, w);
        }
        regs.write32(b + r::SETUP_CONN_ACK_WIN, req.ack_window as u32);
        regs.write32(b + r::SETUP_CONN_CMD, r::CONN_CMD_START | slot as u32);
        // Flush this path's writes before another path may stage.
        regs.read32(b + r::SETUP_CONN_PENDING);
        Ok(())
    }

    /// Tells the NIC to forget slot `slot`'s open (no more SYNs; an answer
    /// already on its way may still arrive).  Release the claim afterwards.
    pub fn abort(&self, regs: &dyn Registers, slot: usize) -> Result<()> {
        if slot >= s::CONNECT_SLOTS {
            return Err(slot_error(slot));
        }
        let b = self.base;
        let _g = self.shared.stage.lock().unwrap_or_else(|e| e.into_inner());
        regs.write32(b + r::SETUP_CONN_CMD, r::CONN_CMD_ABORT | slot as u32);
        regs.read32(b + r::SETUP_CONN_PENDING);
        Ok(())
    }

    /// Slots whose open is in progress (`SETUP_CONN_PENDING`).
    pub fn pending(&self, regs: &dyn Registers) -> u16 {
        regs.read32(self.base + r::SETUP_CONN_PENDING) as u16
    }

    /// Slots whose open timed out (`SETUP_CONN_TIMEDOUT`; a bit stays set
    /// until the slot's next start or abort).
    pub fn timed_out(&self, regs: &dyn Registers) -> u16 {
        regs.read32(self.base + r::SETUP_CONN_TIMEDOUT) as u16
    }
}

fn ip(a: [u8; 4]) -> std::net::Ipv4Addr {
    a.into()
}

impl Device {
    /// The active open's timing: first SYN retransmission after
    /// `rto_ticks` ticks of the timestamp clock, then `2 rto`, `4 rto` ...
    /// for `retries` retransmissions (RFC 6298 2.1 and 5.5; Linux's
    /// `tcp_syn_retries` is 6).
    pub fn connect_configure(&self, rto_ticks: u32, retries: u32) -> Result<()> {
        let b = self.setup_base()?;
        if rto_ticks == 0 {
            return Err(Error::Config(
                "active open: SYN retransmission timeout of 0 ticks (at least 1)".into(),
            ));
        }
        if retries > r::CONN_MAX_RETRIES {
            return Err(Error::Config(format!(
                "active open: {retries} SYN retransmissions, the NIC does at most {}",
                r::CONN_MAX_RETRIES
            )));
        }
        let _g = self.connect.stage.lock().unwrap_or_else(|e| e.into_inner());
        self.write32(b + r::SETUP_CONN_RTO, rto_ticks);
        self.write32(b + r::SETUP_CONN_RETRIES, retries);
        self.connect.timing.store(
            (rto_ticks as u64) << 32 | retries as u64,
            std::sync::atomic::Ordering::Release,
        );
        Ok(())
    }

    /// The active open for stack instances ([`NicConnector`]), with the
    /// timing last configured and the tick length from `SETUP_TS_PERIOD`
    /// at [`CORE_CLOCK_HZ`].  Fails when the device has no active open
    /// (`SETUP_CONN_SLOTS` is not 16) or its timestamp clock is stopped
    /// (the NIC would never retransmit nor give up).
    pub fn nic_connector(&self) -> Result<NicConnector> {
        let b = self.setup_base()?;
        let slots = self.read32(b + r::SETUP_CONN_SLOTS);
        if slots != s::CONNECT_SLOTS as u32 {
            return Err(Error::Config(format!(
                "active open: the device reports {slots} slots (SETUP_CONN_SLOTS), this driver \
                 needs {} (a design without active open reads 0)",
                s::CONNECT_SLOTS
            )));
        }
        let period = self.read32(b + r::SETUP_TS_PERIOD);
        if period == 0 {
            return Err(Error::Config(
                "active open: the NIC's timestamp clock is stopped (SETUP_TS_PERIOD 0), so SYNs \
                 would never be retransmitted: set SetupParams::ts_period (setup_configure) or \
                 setup_set_ts_period first"
                    .into(),
            ));
        }
        let timing = self
            .connect
            .timing
            .load(std::sync::atomic::Ordering::Acquire);
        Ok(NicConnector {
            base: b,
            shared: self.connect.clone(),
            rto_ticks: (timing >> 32) as u32,
            retries: timing as u32,
            tick: std::time::Duration::from_nanos(period as u64 * 1_000_000_000 / CORE_CLOCK_HZ),
        })
    }

    /// The timestamp clock's period in core cycles (0: stopped).
    pub fn setup_ts_period(&self) -> Result<u32> {
        Ok(self.read32(self.setup_base()? + r::SETUP_TS_PERIOD))
    }

    /// The timestamp clock (`SETUP_TS_NOW`).
    pub fn setup_ts_now(&self) -> Result<u32> {
        Ok(self.read32(self.setup_base()? + r::SETUP_TS_NOW))
    }

    /// Sets the timestamp clock's period in core cycles (0 stops it)
    /// without touching the rest of the setup offload.
    pub fn setup_set_ts_period(&self, cycles: u32) -> Result<()> {
        let b = self.setup_base()?;
        self.write32(b + r::SETUP_TS_PERIOD, cycles);
        Ok(())
    }

    fn connector_unchecked(&self) -> Result<NicConnector> {
        let timing = self
            .connect
            .timing
            .load(std::sync::atomic::Ordering::Acquire);
        Ok(NicConnector {
            base: self.setup_base()?,
            shared: self.connect.clone(),
            rto_ticks: (timing >> 32) as u32,
            retries: timing as u32,
            tick: std::time::Duration::ZERO,
        })
    }

    /// Stages `req` and starts its open on the device's own register path
    /// ([`NicConnector::start`]); its slot must be claimed
    /// ([`Device::connect_claim`]).
    pub fn connect_start(&self, req: &s::ConnectRequest) -> Result<()> {
        self.connector_unchecked()?.start(self, req)
    }

    /// Aborts slot `slot`'s open ([`NicConnector::abort`]).
    pub fn connect_abort(&self, slot: usize) -> Result<()> {
        self.connector_unchecked()?.abort(self, slot)
    }

    /// Slots whose open is in progress.
    pub fn connect_pending(&self) -> Result<u16> {
        Ok(self.connector_unchecked()?.pending(self))
    }

    /// Slots whose open timed out.
    pub fn connect_timed_out(&self) -> Result<u16> {
        Ok(self.connector_unchecked()?.timed_out(self))
    }

    /// Claims slot `slot` for an open; false when taken or out of range.
    pub fn connect_claim(&self, slot: usize) -> bool {
        ConnectSlots(self.connect.clone()).claim(slot)
    }

    /// Gives slot `slot` back.
    pub fn connect_release(&self, slot: usize) {
        ConnectSlots(self.connect.clone()).release(slot)
    }

    /// The device's slot claims, shared with every [`NicConnector`].
    pub fn connect_slots(&self) -> ConnectSlots {
        ConnectSlots(self.connect.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, DmaRegion, Lane};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    /// A register file shaped like the NIC's (ID, RSS, queues, counters and
    /// setup blocks) that logs every write with the lane it came by and
    /// plays the active-open command register: START sets the slot's
    /// pending bit and clears its timed-out bit, ABORT clears both.
    #[derive(Clone, Default)]
    struct Fake {
        regs: Arc<Mutex<HashMap<u32, u32>>>,
        log: Arc<Mutex<Vec<(u32, u32, u32)>>>,
    }

    const SB: u32 = r::SETUP_BASE;

    impl Fake {
        fn nic() -> Fake {
            let f = Fake::default();
            *f.regs.lock().unwrap() = crate::device::register_map(true);
            f
        }
        fn set(&self, off: u32, v: u32) {
            self.regs.lock().unwrap().insert(off, v);
        }
        fn get(&self, off: u32) -> u32 {
            *self.regs.lock().unwrap().get(&off).unwrap_or(&0)
        }
        fn write(&self, lane: u32, off: u32, val: u32) {
            // Give other threads every chance to interleave.
            std::thread::yield_now();
            self.log.lock().unwrap().push((lane, off, val));
            let mut m = self.regs.lock().unwrap();
            if off == SB + r::SETUP_CONN_CMD {
                let bit = 1u32 << (val & 0xF);
                let p = m.entry(SB + r::SETUP_CONN_PENDING).or_insert(0);
                if val & r::CONN_CMD_START != 0 {
                    *p |= bit;
                } else {
                    *p &= !bit;
                }
                *m.entry(SB + r::SETUP_CONN_TIMEDOUT).or_insert(0) &= !bit;
            } else if off == SB + r::SETUP_EST_FILTER {
                // A clear-all is over at once; bits are not kept.
                m.insert(off, 0);
            } else {
                m.insert(off, val);
            }
        }
        fn writes(&self) -> Vec<(u32, u32, u32)> {
            std::mem::take(&mut *self.log.lock().unwrap())
        }
    }

    impl Backend for Fake {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn read32(&self, off: u32) -> u32 {
            self.get(off)
        }
        fn write32(&self, off: u32, val: u32) {
            self.write(0, off, val)
        }
        fn check(&self) -> Result<()> {
            Ok(())
        }
        fn alloc_dma(&mut self, _len: usize) -> Result<DmaRegion> {
            Err(Error::Config("no DMA in the fake".into()))
        }
        fn lane(&self, k: u32) -> Result<Box<Lane>> {
            Ok(Box::new(FakeLane(self.clone(), k)))
        }
    }

    struct FakeLane(Fake, u32);

    impl Registers for FakeLane {
        fn describe(&self) -> String {
            format!("fake lane {}", self.1)
        }
        fn read32(&self, off: u32) -> u32 {
            self.0.get(off)
        }
        fn write32(&self, off: u32, val: u32) {
            self.0.write(self.1, off, val)
        }
        fn check(&self) -> Result<()> {
            Ok(())
        }
    }

    fn params() -> SetupParams {
        SetupParams::matching(&crate::tcp::conn::Config::default(), *b"0123456789abcdef")
            .with_local([2, 0, 0, 0, 0, 1], &[[10, 0, 0, 1]])
    }

    /// With RSS off and its key never written, every tuple would hash to 0
    /// and share one filter bit (every SYN would go to the host once one
    /// connection exists): setup_configure gives the hash a secret key; a
    /// key that is there stays.
    #[test]
    fn the_filter_hash_gets_a_key_when_rss_has_none() {
        let f = Fake::nic();
        let d = device(&f);
        d.setup_configure(&params()).unwrap();
        let key: Vec<u32> = (0..10)
            .map(|i| f.get(r::RSS_BASE + r::RSS_KEY + 4 * i))
            .collect();
        assert!(key.iter().any(|&w| w != 0), "no key written: {key:x?}");
        let filter = d.est_filter().unwrap();
        let idx: std::collections::HashSet<u16> = (0..64u16)
            .map(|p| filter.index(([10, 0, 0, 2], 20000 + p), ([10, 0, 0, 1], 80)))
            .collect();
        assert!(idx.len() > 50, "{} distinct bits for 64 tuples", idx.len());
        // A programmed key (RSS in use) is left alone.
        let f = Fake::nic();
        for i in 0..10 {
            f.set(r::RSS_BASE + r::RSS_KEY + 4 * i, 0x0101_0101 * (i + 1));
        }
        device(&f).setup_configure(&params()).unwrap();
        for i in 0..10 {
            assert_eq!(
                f.get(r::RSS_BASE + r::RSS_KEY + 4 * i),
                0x0101_0101 * (i + 1)
            );
        }
    }

    fn device(f: &Fake) -> Device {
        Device::open(Box::new(f.clone())).expect("the fake opens")
    }

    fn request(port: u16) -> s::ConnectRequest {
        s::ConnectRequest {
            syn: s::CtlRecord {
                dst_mac: [2, 0, 0, 0, 0, 2],
                src_mac: [2, 0, 0, 0, 0, 1],
                src: ([10, 0, 0, 1], port),
                dst: ([10, 0, 0, 2], 80),
                seq: 0x1234_5678 ^ port as u32,
                ack: 0,
                flags: s::TCP_SYN,
                window: 65535,
                mss: Some(1460),
                wscale: Some(7),
                sack_permitted: true,
                ts: Some((99, 0)),
            },
            ack_window: 512,
        }
    }

    #[test]
    fn configuration_is_validated_and_written() {
        let f = Fake::nic();
        let d = device(&f);
        let e = d.connect_configure(0, 3).unwrap_err().to_string();
        assert!(e.contains("timeout of 0 ticks"), "{e}");
        let e = d.connect_configure(10, 11).unwrap_err().to_string();
        assert!(
            e.contains("11 SYN retransmissions") && e.contains("at most 10"),
            "{e}"
        );
        assert!(
            f.writes().is_empty(),
            "nothing written for a bad configuration"
        );
        d.connect_configure(250, 2).unwrap();
        assert_eq!(f.get(SB + r::SETUP_CONN_RTO), 250);
        assert_eq!(f.get(SB + r::SETUP_CONN_RETRIES), 2);
        let c = d.nic_connector().unwrap();
        assert_eq!(c.timing(), (250, 2));
        // 250_000 cycles at 250 MHz: 1 ms ticks.
        assert_eq!(c.tick(), std::time::Duration::from_millis(1));
        assert_eq!(c.first_rto(), std::time::Duration::from_millis(250));
        // SYNs at 0, 250, 750 ms; the last waited for 1 s.
        assert_eq!(c.give_up(), std::time::Duration::from_millis(1750));
    }

    #[test]
    fn a_connector_needs_slots_and_a_running_clock() {
        let f = Fake::nic();
        let d = device(&f);
        let c = d.nic_connector().unwrap();
        assert_eq!(
            c.timing(),
            (s::DEFAULT_CONNECT_RTO, s::DEFAULT_CONNECT_RETRIES),
            "the reset values until configured"
        );
        f.set(SB + r::SETUP_TS_PERIOD, 0);
        let e = d.nic_connector().unwrap_err().to_string();
        assert!(e.contains("timestamp clock is stopped"), "{e}");
        d.setup_set_ts_period(500_000).unwrap();
        assert_eq!(
            d.nic_connector().unwrap().tick(),
            std::time::Duration::from_millis(2)
        );
        f.set(SB + r::SETUP_CONN_SLOTS, 0);
        let e = d.nic_connector().unwrap_err().to_string();
        assert!(e.contains("reports 0 slots"), "{e}");
    }

    #[test]
    fn a_start_stages_the_record_then_commands_the_claimed_slot() {
        let f = Fake::nic();
        let d = device(&f);
        let req = request(40001);
        let e = d.connect_start(&req).unwrap_err().to_string();
        assert!(e.contains("slot 1") && e.contains("not claimed"), "{e}");
        assert!(f.writes().is_empty());
        assert!(d.connect_claim(1));
        assert!(!d.connect_claim(1), "a slot is claimed once");
        d.connect_start(&req).unwrap();
        let w = f.writes();
        let mut want: Vec<(u32, u32, u32)> = req
            .syn
            .words()
            .iter()
            .enumerate()
            .map(|(i, &v)| (0, SB + r::SETUP_CONN_REC + 4 * i as u32, v))
            .collect();
        want.push((0, SB + r::SETUP_CONN_ACK_WIN, 512));
        want.push((0, SB + r::SETUP_CONN_CMD, r::CONN_CMD_START | 1));
        assert_eq!(w, want);
        assert_eq!(d.connect_pending().unwrap(), 1 << 1);
        assert_eq!(d.connect_timed_out().unwrap(), 0);
        f.set(SB + r::SETUP_CONN_TIMEDOUT, 1 << 1);
        assert_eq!(d.connect_timed_out().unwrap(), 1 << 1);
        d.connect_abort(1).unwrap();
        assert_eq!(
            f.writes(),
            vec![(0, SB + r::SETUP_CONN_CMD, r::CONN_CMD_ABORT | 1)]
        );
        assert_eq!(d.connect_pending().unwrap(), 0);
        d.connect_release(1);
        assert!(d.connect_claim(1), "released slots can be claimed again");
        let e = d.connect_abort(16).unwrap_err().to_string();
        assert!(e.contains("slot 16 out of range"), "{e}");
        assert!(!d.connect_claim(16));
    }

    #[test]
    fn records_that_are_not_a_sendable_syn_are_refused() {
        let f = Fake::nic();
        let d = device(&f);
        assert!(d.connect_claim(1));
        let mut req = request(40001);
        req.syn.flags = s::TCP_SYN | s::TCP_ACK;
        let e = d.connect_start(&req).unwrap_err().to_string();
        assert!(e.contains("not a plain SYN"), "{e}");
        let mut req = request(40001);
        req.syn.dst_mac = [0; 6];
        let e = d.connect_start(&req).unwrap_err().to_string();
        assert!(e.contains("not a unicast address"), "{e}");
        let mut req = request(40001);
        req.syn.wscale = Some(15);
        let e = d.connect_start(&req).unwrap_err().to_string();
        assert!(e.contains("window scale 15"), "{e}");
        let mut req = request(40001);
        req.syn.dst.1 = 0;
        let e = d.connect_start(&req).unwrap_err().to_string();
        assert!(e.contains("port 0"), "{e}");
        assert!(f.writes().is_empty(), "nothing staged for a refused record");
    }

    #[test]
    fn starts_from_many_lanes_never_interleave_their_records() {
        let f = Fake::nic();
        let d = device(&f);
        let c = d.nic_connector().unwrap();
        let threads: Vec<_> = (1..=4u32)
            .map(|k| {
                let lane = d.backend().lane(k).unwrap();
                let c = c.clone();
                std::thread::spawn(move || {
                    for i in 0..50u16 {
                        // Thread k uses slots 4(k-1) .. 4(k-1)+3.
                        let port = 40000 + 4 * (k as u16 - 1) + (i % 4);
                        let slot = s::connect_slot(port);
                        while !c.slots().claim(slot) {
                            std::thread::yield_now();
                        }
                        c.start(&lane, &request(port)).unwrap();
                        c.abort(&lane, slot).unwrap();
                        c.slots().release(slot);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let w = f.writes();
        assert_eq!(w.len(), 4 * 50 * 15);
        // Every START is the last of 14 writes in a row from its lane,
        // holding exactly that request's record.
        let mut starts = 0;
        for (i, &(lane, off, val)) in w.iter().enumerate() {
            if off == SB + r::SETUP_CONN_CMD && val & r::CONN_CMD_START != 0 {
                starts += 1;
                let run = &w[i - 13..i];
                assert!(run.iter().all(|x| x.0 == lane), "interleaved: {run:?}");
                let mut words = [0u32; 12];
                for (j, x) in run[..12].iter().enumerate() {
                    assert_eq!(x.1, SB + r::SETUP_CONN_REC + 4 * j as u32);
                    words[j] = x.2;
                }
                let rec = s::CtlRecord::from_words(&words);
                assert_eq!(s::connect_slot(rec.src.1) as u32, val & 0xF);
                assert_eq!(rec, request(rec.src.1).syn);
            }
        }
        assert_eq!(starts, 200);
        assert_eq!(c.slots().claimed(), 0);
    }
}
