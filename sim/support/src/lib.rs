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
    let regs = toe_contract::setup::SetupRegs {
        keys: s.cfg.keys,
        current_slot: s.cfg.current_slot,
        max_age: s.cfg.max_age,
        mss_table: s.cfg.mss_table,
        our_mss: s.cfg.our_mss,
        our_wscale: s.cfg.our_wscale,
        our_window: s.cfg.our_window,
        local_mac: s.local_mac,
        local_ips: &s.local_ips,
    };
    regs.write(|off, v| h.reg_write(b + off, v));
    // Periods first, so that the clocks hold the values written next.
    h.reg_write(b + r::SETUP_TS_PERIOD, s.ts_period);
    h.reg_write(b + r::SETUP_COOKIE_PERIOD, s.cookie_period);
    h.reg_write(b + r::SETUP_COOKIE_T, s.cookie_t);
    h.reg_write(b + r::SETUP_TS_NOW, s.ts_now);
    // Filter bits the state holds are set (bits it lacks are left as they
    // are: clear them with `set_est_filter`).
    for &i in &s.est_filter {
        set_est_filter(h, i, true);
    }
    for (i, l) in s.listeners.iter().enumerate() {
        let (ip, w) = r::ListenEntry::words(*l);
        h.reg_write(b + r::SETUP_LISTEN_INDEX, i as u32);
        h.reg_write(b + r::SETUP_LISTEN_IP, ip);
        h.reg_write(b + r::SETUP_LISTEN_PORT, w);
    }
    h.reg_write(b + r::SETUP_CTRL, regs.ctrl(s.enabled));
}
