//! The connection-setup offload's passive-open commands (`toe_contract::regs`
//! `SETUP_*`, design in `toe_contract::setup` and docs/setup.md): keys,
//! clocks, what the NIC's SYN-ACK offers, the listener table, and the
//! established-tuple filter the host keeps for it.  The active open, which
//! shares the setup block, is in [`super::connect`].
//!
//! For a listener entry with offload on, the NIC answers SYNs itself (SYN
//! cookies, no state) and delivers the client's validated final ACK as a
//! completion of kind `KIND_ESTABLISHED`; the host library
//! ([`crate::tcp::stack::TcpStack::on_established`]) creates the connection from
//! it directly in ESTABLISHED.  Listeners without an entry, or with offload
//! off, keep the software handshake.
use crate::backend::Registers;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::tcp::conn::Handle;
use crate::tcp::offload::SetupHooks;
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

    /// The registers these parameters set (`check` them first).
    pub fn regs(&self) -> s::SetupRegs<'_> {
        s::SetupRegs {
            keys: self.keys,
            current_slot: self.current_slot,
            max_age: self.max_age,
            mss_table: self.mss_table,
            our_mss: self.our_mss,
            our_wscale: self.our_wscale,
            our_window: self.our_window,
            local_mac: self.local_mac,
            local_ips: &self.local_ips,
        }
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
    pub(crate) fn setup_base(&self) -> Result<u32> {
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
        let regs = p.regs();
        regs.write(|off, v| self.write32(b + off, v));
        self.write32(b + r::SETUP_COOKIE_PERIOD, p.cookie_period);
        self.write32(b + r::SETUP_TS_PERIOD, p.ts_period);
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
        self.write32(b + r::SETUP_CTRL, regs.ctrl(true));
        Ok(())
    }

    /// Adds a unicast address of this host to those the NIC answers for
    /// (nothing when it is there already).  The device holds one MAC: `mac`
    /// must be the configured one.
    pub fn setup_add_local(&self, mac: [u8; 6], ip: [u8; 4]) -> Result<()> {
        let b = self.setup_base()?;
        let bad = |why: String| Err(Error::Config(format!("setup offload: {why}")));
        let have = r::setup_local_mac(
            self.read32(b + r::SETUP_LOCAL_MAC_HI),
            self.read32(b + r::SETUP_LOCAL_MAC_LO),
        );
        if have != mac {
            return bad(format!("MAC {mac:02x?} is not the device's {have:02x?}"));
        }
        if r::ip_is_martian(ip) {
            return bad(format!("{ip:?} is not a unicast address"));
        }
        let mut free = None;
        for i in 0..r::LOCAL_IPS {
            let w = self.read32(b + r::SETUP_LOCAL_IP + 4 * i);
            if w == r::setup_local_ip_word(ip) {
                return Ok(());
            }
            if w == 0 && free.is_none() {
                free = Some(i);
            }
        }
        match free {
            Some(i) => {
                self.write32(b + r::SETUP_LOCAL_IP + 4 * i, r::setup_local_ip_word(ip));
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

/// Marks the passive connections the TCP core reports ([`SetupHooks`])
/// in the NIC's established-tuple filter through `regs` (the queue's
/// register path).  Without a filter or a path the reports are dropped
/// (the core records none when the filter is off).
pub fn mark_tuples<T: SetupHooks + ?Sized>(
    filter: Option<&EstFilter>,
    tcp: &mut T,
    regs: Option<&dyn Registers>,
    local: [u8; 4],
    scratch: &mut Vec<(Handle, bool)>,
) {
    tcp.take_tuple_events(scratch);
    if scratch.is_empty() {
        return;
    }
    if let (Some(f), Some(regs)) = (filter, regs) {
        for &((lport, rip, rport), added) in scratch.iter() {
            f.update(regs, (rip.octets(), rport), (local, lport), added);
        }
    }
    scratch.clear();
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
