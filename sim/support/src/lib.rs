//! What runs the simulated SmartNIC, shared by the tests (`toe-tests`) and
//! the programs under tools/ (`toe-simapps`), so that neither depends on the
//! other:
//!
//! * [`host`]: the host side of the rings on the cycle-level harness;
//! * [`simdev`]: the simulator in a thread, behind the driver's
//!   shared-memory backend ([`simdev::SimThread`]);
//! * [`peer`]: smoltcp as an in-process peer on the simulated wire;
//! * [`netns`]: Linux network namespaces for benches on a TAP device;
//! * register programming on the harness: [`counter`], [`enable_rss`],
//!   [`program_rss`], [`set_est_filter`], [`program_setup`].
pub mod host;
pub mod netns;
pub mod peer;
pub mod simdev;

use toe_sim::harness::Harness;

/// Reads a 64-bit global counter (LO first, which latches HI).
pub fn counter(h: &mut Harness, c: toe_contract::regs::Counter) -> u64 {
    let a = toe_contract::regs::counter(c);
    let lo = h.reg_read(a) as u64;
    lo | (h.reg_read(a + 4) as u64) << 32
}

/// Enables RSS with a random key and a table spreading over the four
/// queues, programs the NIC, and returns the model configuration to match.
pub fn enable_rss(h: &mut Harness, rng: &mut impl rand::Rng) -> toe_model::nic::NicConfig {
    let mut cfg = toe_model::nic::NicConfig::all_queues_enabled();
    cfg.rss_enable = true;
    rng.fill(&mut cfg.rss_key[..]);
    for i in 0..64 {
        cfg.rss_table[i] = (i % 4) as u8;
    }
    program_rss(h, &cfg);
    cfg
}

/// Programs the RSS block from `cfg`: key, indirection table, then the
/// enable bit.
pub fn program_rss(h: &mut Harness, cfg: &toe_model::nic::NicConfig) {
    use toe_contract::regs as r;
    for i in 0..10 {
        let w = u32::from_be_bytes(cfg.rss_key[4 * i..4 * i + 4].try_into().unwrap());
        h.reg_write(r::RSS_BASE + r::RSS_KEY + 4 * i as u32, w);
    }
    for i in 0..64u32 {
        h.reg_write(
            r::RSS_BASE + r::RSS_TABLE + 4 * i,
            cfg.rss_table[i as usize] as u32,
        );
    }
    let ctrl = if cfg.rss_enable {
        r::RSS_CTRL_ENABLE
    } else {
        0
    };
    h.reg_write(r::RSS_BASE + r::RSS_CTRL, ctrl);
}

/// Sets or clears one bit of the established-tuple filter.
pub fn set_est_filter(h: &mut Harness, index: u16, value: bool) {
    use toe_contract::regs as r;
    let v = index as u32 | if value { r::EST_FILTER_SET } else { 0 };
    h.reg_write(r::SETUP_BASE + r::SETUP_EST_FILTER, v);
}

/// Programs the setup offload's registers from the model's state (keys,
/// clocks, what the SYN-ACK offers, the MSS table, every listener entry,
/// then the control word).
pub fn program_setup(h: &mut Harness, s: &toe_model::setup::SetupState) {
    use toe_contract::regs as r;
    let b = r::SETUP_BASE;
    for (slot, base) in [(0, r::SETUP_KEY0), (1, r::SETUP_KEY1)] {
        let words = r::setup_key_words(&s.cfg.keys[slot].unwrap_or([0; 16]));
        for (i, w) in words.into_iter().enumerate() {
            h.reg_write(b + base + 4 * i as u32, w);
        }
    }
    h.reg_write(b + r::SETUP_MAX_AGE, s.cfg.max_age);
    // Periods first, so that the clocks hold the values written next.
    h.reg_write(b + r::SETUP_TS_PERIOD, s.ts_period);
    h.reg_write(b + r::SETUP_COOKIE_PERIOD, s.cookie_period);
    h.reg_write(b + r::SETUP_COOKIE_T, s.cookie_t);
    h.reg_write(b + r::SETUP_TS_NOW, s.ts_now);
    let m = s.local_mac;
    h.reg_write(
        b + r::SETUP_LOCAL_MAC_HI,
        u16::from_be_bytes([m[0], m[1]]) as u32,
    );
    h.reg_write(
        b + r::SETUP_LOCAL_MAC_LO,
        u32::from_be_bytes([m[2], m[3], m[4], m[5]]),
    );
    for (i, ip) in s.local_ips.iter().enumerate() {
        h.reg_write(
            b + r::SETUP_LOCAL_IP + 4 * i as u32,
            u32::from_be_bytes(*ip),
        );
    }
    // Filter bits the state holds are set (bits it lacks are left as they
    // are: clear them with `set_est_filter`).
    for &i in &s.est_filter {
        set_est_filter(h, i, true);
    }
    h.reg_write(
        b + r::SETUP_OURS,
        r::setup_ours(s.cfg.our_mss, s.cfg.our_wscale),
    );
    h.reg_write(b + r::SETUP_WINDOW, s.cfg.our_window as u32);
    for (i, w) in r::setup_mss_table_words(&s.cfg.mss_table)
        .into_iter()
        .enumerate()
    {
        h.reg_write(b + r::SETUP_MSS_TABLE + 4 * i as u32, w);
    }
    for (i, l) in s.listeners.iter().enumerate() {
        let (ip, w) = r::ListenEntry::words(*l);
        h.reg_write(b + r::SETUP_LISTEN_INDEX, i as u32);
        h.reg_write(b + r::SETUP_LISTEN_IP, ip);
        h.reg_write(b + r::SETUP_LISTEN_PORT, w);
    }
    let valid = [s.cfg.keys[0].is_some(), s.cfg.keys[1].is_some()];
    h.reg_write(
        b + r::SETUP_CTRL,
        r::setup_ctrl(s.enabled, s.cfg.current_slot, valid),
    );
}
