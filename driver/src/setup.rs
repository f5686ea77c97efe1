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
    /// Oldest cookie accepted, in cookie-clock ticks (at most 7).
    pub max_age: u32,
    /// Core-clock cycles per cookie-clock tick (0: the clock moves only
    /// when the host writes it).  Linux ticks every 64 s.
    pub cookie_period: u32,
    /// Core-clock cycles per timestamp tick (0: stopped); 250_000 is 1 ms
    /// at 250 MHz.
    pub ts_period: u32,
    pub mss_table: [u16; 4],
    /// What the SYN-ACK offers: these must be the host library's own (its
    /// `Config::syn_opts`), since the connection continues on the host.
    pub our_mss: u16,
    pub our_wscale: u8,
    pub our_window: u16,
}

impl Default for SetupParams {
    fn default() -> Self {
        SetupParams {
            keys: [None, None],
            current_slot: 0,
            max_age: 2,
            cookie_period: 0,
            ts_period: 250_000,
            mss_table: s::DEFAULT_MSS_TABLE,
            our_mss: 1460,
            our_wscale: 7,
            our_window: 65535,
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
        let bad = |why: String| Err(Error::Config(format!("setup offload: {why}")));
        if p.current_slot > 1 || p.keys[p.current_slot as usize].is_none() {
            return bad(format!("current key slot {} holds no key", p.current_slot));
        }
        if p.max_age > s::MAX_COOKIE_AGE {
            return bad(format!("max_age {} above {}", p.max_age, s::MAX_COOKIE_AGE));
        }
        if p.our_wscale > 14 {
            return bad(format!("window scale {} above 14 (RFC 7323)", p.our_wscale));
        }
        if p.our_mss < 88 || p.mss_table.iter().any(|&m| m < 88) {
            return bad("MSS below 88".into());
        }
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
