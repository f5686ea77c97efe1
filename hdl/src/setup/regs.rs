//! The setup offload's register block (`toe_contract::regs::SETUP_*`):
//! enable, key slots, cookie and timestamp clocks, what the SYN-ACK offers,
//! the MSS table, and the listener table's write and read-back port.
//!
//! The main register file passes writes in the block's range on through
//! the register port `regs` (`we`, `waddr` as an offset in the block,
//! `wdata`) and returns `rdata` (a function of `raddr`, an offset) for
//! reads in it; it serves the block's header words (type, version, next)
//! itself, from the register-block table.  Every register has
//! a reset value.  The timestamp clock ticks every `SETUP_TS_PERIOD` core
//! cycles and the cookie clock every `SETUP_COOKIE_PERIOD` timestamp ticks
//! (0: only host writes move them); both run from reset.  Also here: the
//! host's MAC and unicast addresses (what the NIC may answer for) and the
//! write port of the established-tuple filter.
use crate::common::reg_port::RegPort;
use rust_hdl::prelude::*;
use toe_contract::regs as r;
use toe_contract::setup as s;

/// An 8-bit register offset as a kernel constant.
pub(crate) fn c8(v: u32) -> Constant<Bits<8>> {
    Constant::new((v as u64).into())
}

/// The setup block's configuration, from `SetupRegs` to `SetupRx` (and the
/// listener table's read-back and the filter's state back): `SetupRegs`'
/// side.  The parent joins them: `SetupCfg::join(&mut regs.cfg, &mut rx.cfg)`.
#[derive(LogicInterface, Default)]
#[join = "SetupCfgIn"]
pub struct SetupCfg {
    // Configuration
    pub enable: Signal<Out, Bit>,
    pub slot: Signal<Out, Bit>,
    pub key_valid: Signal<Out, Bits<2>>,
    /// Key slot k as two little-endian 64-bit halves.
    pub key0_lo: Signal<Out, Bits<64>>,
    pub key0_hi: Signal<Out, Bits<64>>,
    pub key1_lo: Signal<Out, Bits<64>>,
    pub key1_hi: Signal<Out, Bits<64>>,
    pub max_age: Signal<Out, Bits<3>>,
    pub cookie_t: Signal<Out, Bits<32>>,
    pub ts_now: Signal<Out, Bits<32>>,
    pub our_mss: Signal<Out, Bits<16>>,
    pub our_ws: Signal<Out, Bits<4>>,
    pub our_window: Signal<Out, Bits<16>>,
    pub mss_table: Signal<Out, Bits<64>>,
    // Listener table write port and read-back
    pub lt_wr_en: Signal<Out, Bit>,
    pub lt_index: Signal<Out, Bits<6>>,
    pub lt_wr_valid: Signal<Out, Bit>,
    pub lt_wr_any_ip: Signal<Out, Bit>,
    pub lt_wr_ip: Signal<Out, Bits<32>>,
    pub lt_wr_port: Signal<Out, Bits<16>>,
    pub lt_wr_offload: Signal<Out, Bit>,
    /// Listener read-back load enable: any write to the block, this cycle
    /// or the last (index and entries change only by writes).
    pub lt_rd_en: Signal<Out, Bit>,
    pub lt_rd_valid: Signal<In, Bit>,
    pub lt_rd_any_ip: Signal<In, Bit>,
    pub lt_rd_ip: Signal<In, Bits<32>>,
    pub lt_rd_port: Signal<In, Bits<16>>,
    pub lt_rd_offload: Signal<In, Bit>,
    /// This host's MAC, first byte in bits 47:40.
    pub local_mac: Signal<Out, Bits<48>>,
    /// This host's unicast addresses: entry i in bits 32i+31:32i (0: empty).
    pub local_ips: Signal<Out, Bits<128>>,
    // Established-tuple filter write port (see SetupRx)
    pub ef_wr_en: Signal<Out, Bit>,
    pub ef_wr_index: Signal<Out, Bits<16>>,
    pub ef_wr_value: Signal<Out, Bit>,
    /// Pulse: clear every filter bit.
    pub ef_clear: Signal<Out, Bit>,
    /// A clear-all is running.
    pub ef_clearing: Signal<In, Bit>,
}

/// The setup block's configuration, `SetupRx`'s side.
#[derive(LogicInterface, Default)]
#[join = "SetupCfg"]
pub struct SetupCfgIn {
    // Configuration
    pub enable: Signal<In, Bit>,
    pub slot: Signal<In, Bit>,
    pub key_valid: Signal<In, Bits<2>>,
    /// Key slot k as two little-endian 64-bit halves.
    pub key0_lo: Signal<In, Bits<64>>,
    pub key0_hi: Signal<In, Bits<64>>,
    pub key1_lo: Signal<In, Bits<64>>,
    pub key1_hi: Signal<In, Bits<64>>,
    pub max_age: Signal<In, Bits<3>>,
    pub cookie_t: Signal<In, Bits<32>>,
    pub ts_now: Signal<In, Bits<32>>,
    pub our_mss: Signal<In, Bits<16>>,
    pub our_ws: Signal<In, Bits<4>>,
    pub our_window: Signal<In, Bits<16>>,
    pub mss_table: Signal<In, Bits<64>>,
    // Listener table write port and read-back
    pub lt_wr_en: Signal<In, Bit>,
    pub lt_index: Signal<In, Bits<6>>,
    pub lt_wr_valid: Signal<In, Bit>,
    pub lt_wr_any_ip: Signal<In, Bit>,
    pub lt_wr_ip: Signal<In, Bits<32>>,
    pub lt_wr_port: Signal<In, Bits<16>>,
    pub lt_wr_offload: Signal<In, Bit>,
    /// Listener read-back load enable: any write to the block, this cycle
    /// or the last (index and entries change only by writes).
    pub lt_rd_en: Signal<In, Bit>,
    pub lt_rd_valid: Signal<Out, Bit>,
    pub lt_rd_any_ip: Signal<Out, Bit>,
    pub lt_rd_ip: Signal<Out, Bits<32>>,
    pub lt_rd_port: Signal<Out, Bits<16>>,
    pub lt_rd_offload: Signal<Out, Bit>,
    /// This host's MAC, first byte in bits 47:40.
    pub local_mac: Signal<In, Bits<48>>,
    /// This host's unicast addresses: entry i in bits 32i+31:32i (0: empty).
    pub local_ips: Signal<In, Bits<128>>,
    // Established-tuple filter write port (see SetupRx)
    pub ef_wr_en: Signal<In, Bit>,
    pub ef_wr_index: Signal<In, Bits<16>>,
    pub ef_wr_value: Signal<In, Bit>,
    /// Pulse: clear every filter bit.
    pub ef_clear: Signal<In, Bit>,
    /// A clear-all is running.
    pub ef_clearing: Signal<Out, Bit>,
}

#[derive(LogicBlock)]
pub struct SetupRegs {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Register port (`regs::PORT_SETUP_REGS`): offsets in the setup block.
    pub regs: RegPort,
    /// Configuration to `SetupRx`, and its state back.
    pub cfg: SetupCfg,
    ctrl: DFF<Bits<4>>,
    age: DFF<Bits<3>>,
    ct: DFF<Bits<32>>,
    ct_period: DFF<Bits<32>>,
    ct_cnt: DFF<Bits<32>>,
    ts: DFF<Bits<32>>,
    ts_period: DFF<Bits<32>>,
    ts_cnt: DFF<Bits<32>>,
    ours: DFF<Bits<20>>,
    win: DFF<Bits<16>>,
    mtab: DFF<Bits<64>>,
    key0: DFF<Bits<128>>,
    key1: DFF<Bits<128>>,
    lidx: DFF<Bits<6>>,
    lip: DFF<Bits<32>>,
    local_mac_r: DFF<Bits<48>>,
    local_ip_r: [DFF<Bits<32>>; 4],
    we_prev: DFF<Bit>,
    we_prev2: DFF<Bit>,
    /// A listener-table write, registered (decode and data) so that the
    /// table's 64-way write starts at flip-flops: it lands one cycle after
    /// the register write.
    lt_we_r: DFF<Bit>,
    lt_word_r: DFF<Bits<32>>,
    lt_index_r: DFF<Bits<6>>,
    lt_ip_r: DFF<Bits<32>>,
    /// The timestamp clock ticks this cycle.
    ts_tick: Signal<Local, Bit>,
    wo: Signal<Local, Bits<8>>,
    ro: Signal<Local, Bits<8>>,
    c_ctrl: Constant<Bits<8>>,
    c_age: Constant<Bits<8>>,
    c_ct: Constant<Bits<8>>,
    c_ct_period: Constant<Bits<8>>,
    c_ts: Constant<Bits<8>>,
    c_ts_period: Constant<Bits<8>>,
    c_ours: Constant<Bits<8>>,
    c_win: Constant<Bits<8>>,
    c_mtab: Constant<Bits<8>>,
    c_key0: Constant<Bits<8>>,
    c_key1: Constant<Bits<8>>,
    c_lidx: Constant<Bits<8>>,
    c_lip: Constant<Bits<8>>,
    c_lport: Constant<Bits<8>>,
    c_lcount: Constant<Bits<8>>,
    c_lmac_hi: Constant<Bits<8>>,
    c_lmac_lo: Constant<Bits<8>>,
    c_lip0: Constant<Bits<8>>,
    c_efilter: Constant<Bits<8>>,
    c_ts_period_reset: Constant<Bits<32>>,
    c_age_reset: Constant<Bits<3>>,
    c_ct_period_reset: Constant<Bits<32>>,
    c_mtab_reset: Constant<Bits<64>>,
    c_ones32: Constant<Bits<32>>,
    c_ws14: Constant<Bits<20>>,
    c_ours_reset: Constant<Bits<20>>,
}

impl Default for SetupRegs {
    fn default() -> Self {
        let t = s::DEFAULT_MSS_TABLE;
        let mtab = t[0] as u64 | (t[1] as u64) << 16 | (t[2] as u64) << 32 | (t[3] as u64) << 48;
        Self {
            clock: Default::default(),
            rst: Default::default(),
            regs: Default::default(),
            cfg: Default::default(),
            ctrl: Default::default(),
            age: Default::default(),
            ct: Default::default(),
            ct_period: Default::default(),
            ct_cnt: Default::default(),
            ts: Default::default(),
            ts_period: Default::default(),
            ts_cnt: Default::default(),
            ours: Default::default(),
            win: Default::default(),
            mtab: Default::default(),
            key0: Default::default(),
            key1: Default::default(),
            lidx: Default::default(),
            lip: Default::default(),
            local_mac_r: Default::default(),
            local_ip_r: Default::default(),
            we_prev: Default::default(),
            we_prev2: Default::default(),
            lt_we_r: Default::default(),
            lt_word_r: Default::default(),
            lt_index_r: Default::default(),
            lt_ip_r: Default::default(),
            ts_tick: Default::default(),
            wo: Default::default(),
            ro: Default::default(),
            c_ctrl: c8(r::SETUP_CTRL),
            c_age: c8(r::SETUP_MAX_AGE),
            c_ct: c8(r::SETUP_COOKIE_T),
            c_ct_period: c8(r::SETUP_COOKIE_PERIOD),
            c_ts: c8(r::SETUP_TS_NOW),
            c_ts_period: c8(r::SETUP_TS_PERIOD),
            c_ours: c8(r::SETUP_OURS),
            c_win: c8(r::SETUP_WINDOW),
            c_mtab: c8(r::SETUP_MSS_TABLE),
            c_key0: c8(r::SETUP_KEY0),
            c_key1: c8(r::SETUP_KEY1),
            c_lidx: c8(r::SETUP_LISTEN_INDEX),
            c_lip: c8(r::SETUP_LISTEN_IP),
            c_lport: c8(r::SETUP_LISTEN_PORT),
            c_lcount: c8(r::SETUP_LISTEN_COUNT),
            c_lmac_hi: c8(r::SETUP_LOCAL_MAC_HI),
            c_lmac_lo: c8(r::SETUP_LOCAL_MAC_LO),
            c_lip0: c8(r::SETUP_LOCAL_IP),
            c_efilter: c8(r::SETUP_EST_FILTER),
            c_ts_period_reset: Constant::new((r::DEFAULT_TS_PERIOD as u64).into()),
            c_age_reset: Constant::new((r::DEFAULT_COOKIE_MAX_AGE as u64).into()),
            c_ct_period_reset: Constant::new((r::DEFAULT_COOKIE_PERIOD as u64).into()),
            c_mtab_reset: Constant::new(mtab.into()),
            c_ones32: Constant::new(0xFFFF_FFFFu64.into()),
            c_ws14: Constant::new((14u64 << 16).into()),
            c_ours_reset: Constant::new((7u64 << 16 | 1460).into()),
        }
    }
}

impl Logic for SetupRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            ctrl,
            age,
            ct,
            ct_period,
            ct_cnt,
            ts,
            ts_period,
            ts_cnt,
            ours,
            win,
            mtab,
            key0,
            key1,
            lidx,
            lip,
            local_mac_r,
            we_prev,
            we_prev2,
            lt_we_r,
            lt_word_r,
            lt_index_r,
            lt_ip_r
        );
        for i in 0..4 {
            self.local_ip_r[i].clock.next = self.clock.val();
            self.local_ip_r[i].d.next = self.local_ip_r[i].q.val();
        }
        self.we_prev.d.next = self.regs.we.val();
        self.we_prev2.d.next = self.we_prev.q.val();
        // (a listener write lands a cycle after its register write, and
        // the read-back loads the cycle after that)
        self.cfg.lt_rd_en.next =
            self.regs.we.val() || self.we_prev.q.val() || self.we_prev2.q.val() || self.rst.val();
        // ------------------------------------------------------ clocks
        self.ts_tick.next = false;
        self.ts_cnt.d.next = self.ts_cnt.q.val() + 1;
        if (self.ts_period.q.val() != 0) && (self.ts_cnt.q.val() + 1 >= self.ts_period.q.val()) {
            self.ts_cnt.d.next = 0.into();
            self.ts.d.next = self.ts.q.val() + 1;
            self.ts_tick.next = true;
        }
        if self.ts_period.q.val() == 0 {
            self.ts_cnt.d.next = 0.into();
        }
        // The cookie clock counts timestamp ticks.
        if self.ts_tick.val() {
            self.ct_cnt.d.next = self.ct_cnt.q.val() + 1;
            if (self.ct_period.q.val() != 0) && (self.ct_cnt.q.val() + 1 >= self.ct_period.q.val())
            {
                self.ct_cnt.d.next = 0.into();
                self.ct.d.next = self.ct.q.val() + 1;
            }
        }
        if self.ct_period.q.val() == 0 {
            self.ct_cnt.d.next = 0.into();
        }
        // ------------------------------------------------------ writes
        self.wo.next = bit_cast::<8, 16>(self.regs.waddr.val());
        self.lt_we_r.d.next = false;
        self.cfg.ef_wr_en.next = false;
        self.cfg.ef_clear.next = false;
        if self.regs.we.val() && (self.regs.waddr.val() < 256) {
            if self.wo.val() == self.c_lmac_hi.val() {
                self.local_mac_r.d.next = (self.local_mac_r.q.val() & 0xFFFF_FFFF_u64)
                    | (bit_cast::<48, 32>(self.regs.wdata.val() & 0xFFFF) << 32);
            }
            if self.wo.val() == self.c_lmac_lo.val() {
                self.local_mac_r.d.next = (self.local_mac_r.q.val() & 0xFFFF_0000_0000_u64)
                    | bit_cast::<48, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_lip0.val() + 0 {
                self.local_ip_r[0].d.next = self.regs.wdata.val();
            }
            if self.wo.val() == self.c_lip0.val() + 4 {
                self.local_ip_r[1].d.next = self.regs.wdata.val();
            }
            if self.wo.val() == self.c_lip0.val() + 8 {
                self.local_ip_r[2].d.next = self.regs.wdata.val();
            }
            if self.wo.val() == self.c_lip0.val() + 12 {
                self.local_ip_r[3].d.next = self.regs.wdata.val();
            }
            if self.wo.val() == self.c_efilter.val() {
                if self.regs.wdata.val().get_bit(31) {
                    self.cfg.ef_clear.next = true;
                } else {
                    self.cfg.ef_wr_en.next = !self.cfg.ef_clearing.val();
                }
            }
            if self.wo.val() == self.c_ctrl.val() {
                self.ctrl.d.next = bit_cast::<4, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_age.val() {
                self.age.d.next = bit_cast::<3, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_ct.val() {
                self.ct.d.next = self.regs.wdata.val();
                self.ct_cnt.d.next = 0.into();
            }
            if self.wo.val() == self.c_ct_period.val() {
                self.ct_period.d.next = self.regs.wdata.val();
                self.ct_cnt.d.next = 0.into();
            }
            if self.wo.val() == self.c_ts.val() {
                self.ts.d.next = self.regs.wdata.val();
                self.ts_cnt.d.next = 0.into();
            }
            if self.wo.val() == self.c_ts_period.val() {
                self.ts_period.d.next = self.regs.wdata.val();
                self.ts_cnt.d.next = 0.into();
            }
            if self.wo.val() == self.c_ours.val() {
                self.ours.d.next = bit_cast::<20, 32>(self.regs.wdata.val());
                if ((self.regs.wdata.val() >> 16) & 0xF) > 14 {
                    self.ours.d.next =
                        bit_cast::<20, 32>(self.regs.wdata.val() & 0xFFFF) | self.c_ws14.val();
                }
            }
            if self.wo.val() == self.c_win.val() {
                self.win.d.next = bit_cast::<16, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_mtab.val() {
                self.mtab.d.next = (self.mtab.q.val() & 0xFFFF_FFFF_0000_0000_u64)
                    | bit_cast::<64, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_mtab.val() + 4 {
                self.mtab.d.next = (self.mtab.q.val() & 0xFFFF_FFFF_u64)
                    | (bit_cast::<64, 32>(self.regs.wdata.val()) << 32);
            }
            if self.wo.val() == self.c_key0.val() + 0 {
                self.key0.d.next = (self.key0.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 0))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 0);
            }
            if self.wo.val() == self.c_key0.val() + 4 {
                self.key0.d.next = (self.key0.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 32))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 32);
            }
            if self.wo.val() == self.c_key0.val() + 8 {
                self.key0.d.next = (self.key0.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 64))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 64);
            }
            if self.wo.val() == self.c_key0.val() + 12 {
                self.key0.d.next = (self.key0.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 96))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 96);
            }
            if self.wo.val() == self.c_key1.val() + 0 {
                self.key1.d.next = (self.key1.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 0))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 0);
            }
            if self.wo.val() == self.c_key1.val() + 4 {
                self.key1.d.next = (self.key1.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 32))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 32);
            }
            if self.wo.val() == self.c_key1.val() + 8 {
                self.key1.d.next = (self.key1.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 64))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 64);
            }
            if self.wo.val() == self.c_key1.val() + 12 {
                self.key1.d.next = (self.key1.q.val()
                    & !(bit_cast::<128, 32>(self.c_ones32.val()) << 96))
                    | (bit_cast::<128, 32>(self.regs.wdata.val()) << 96);
            }
            if self.wo.val() == self.c_lidx.val() {
                self.lidx.d.next = bit_cast::<6, 32>(self.regs.wdata.val());
            }
            if self.wo.val() == self.c_lip.val() {
                self.lip.d.next = self.regs.wdata.val();
            }
            if self.wo.val() == self.c_lport.val() {
                self.lt_we_r.d.next = true;
            }
        }
        self.lt_word_r.d.next = self.regs.wdata.val();
        self.lt_index_r.d.next = self.lidx.q.val();
        self.lt_ip_r.d.next = self.lip.q.val();
        self.cfg.lt_wr_en.next = self.lt_we_r.q.val();
        self.cfg.lt_index.next = self.lt_index_r.q.val();
        self.cfg.lt_wr_valid.next = self.lt_word_r.q.val().get_bit(16);
        self.cfg.lt_wr_any_ip.next = self.lt_word_r.q.val().get_bit(17);
        self.cfg.lt_wr_offload.next = self.lt_word_r.q.val().get_bit(18);
        self.cfg.lt_wr_port.next = bit_cast::<16, 32>(self.lt_word_r.q.val());
        self.cfg.lt_wr_ip.next = self.lt_ip_r.q.val();
        self.cfg.ef_wr_index.next = bit_cast::<16, 32>(self.regs.wdata.val());
        self.cfg.ef_wr_value.next = self.regs.wdata.val().get_bit(16);
        // ------------------------------------------------------ reads
        self.ro.next = bit_cast::<8, 16>(self.regs.raddr.val());
        self.regs.rdata.next = 0.into();
        if self.regs.raddr.val() < 256 {
            if self.ro.val() == self.c_ctrl.val() {
                self.regs.rdata.next = bit_cast::<32, 4>(self.ctrl.q.val());
            }
            if self.ro.val() == self.c_age.val() {
                self.regs.rdata.next = bit_cast::<32, 3>(self.age.q.val());
            }
            if self.ro.val() == self.c_ct.val() {
                self.regs.rdata.next = self.ct.q.val();
            }
            if self.ro.val() == self.c_ct_period.val() {
                self.regs.rdata.next = self.ct_period.q.val();
            }
            if self.ro.val() == self.c_ts.val() {
                self.regs.rdata.next = self.ts.q.val();
            }
            if self.ro.val() == self.c_ts_period.val() {
                self.regs.rdata.next = self.ts_period.q.val();
            }
            if self.ro.val() == self.c_ours.val() {
                self.regs.rdata.next = bit_cast::<32, 20>(self.ours.q.val());
            }
            if self.ro.val() == self.c_win.val() {
                self.regs.rdata.next = bit_cast::<32, 16>(self.win.q.val());
            }
            if self.ro.val() == self.c_mtab.val() {
                self.regs.rdata.next = bit_cast::<32, 64>(self.mtab.q.val());
            }
            if self.ro.val() == self.c_mtab.val() + 4 {
                self.regs.rdata.next = bit_cast::<32, 64>(self.mtab.q.val() >> 32);
            }
            if self.ro.val() == self.c_lidx.val() {
                self.regs.rdata.next = bit_cast::<32, 6>(self.lidx.q.val());
            }
            if self.ro.val() == self.c_lip.val() {
                self.regs.rdata.next = self.cfg.lt_rd_ip.val();
            }
            if self.ro.val() == self.c_lport.val() {
                self.regs.rdata.next = bit_cast::<32, 16>(self.cfg.lt_rd_port.val())
                    | (bit_cast::<32, 1>(self.cfg.lt_rd_valid.val().into()) << 16)
                    | (bit_cast::<32, 1>(self.cfg.lt_rd_any_ip.val().into()) << 17)
                    | (bit_cast::<32, 1>(self.cfg.lt_rd_offload.val().into()) << 18);
            }
            if self.ro.val() == self.c_lcount.val() {
                self.regs.rdata.next = 64.into();
            }
            if self.ro.val() == self.c_lmac_hi.val() {
                self.regs.rdata.next = bit_cast::<32, 48>(self.local_mac_r.q.val() >> 32);
            }
            if self.ro.val() == self.c_lmac_lo.val() {
                self.regs.rdata.next = bit_cast::<32, 48>(self.local_mac_r.q.val());
            }
            if self.ro.val() == self.c_lip0.val() + 0 {
                self.regs.rdata.next = self.local_ip_r[0].q.val();
            }
            if self.ro.val() == self.c_lip0.val() + 4 {
                self.regs.rdata.next = self.local_ip_r[1].q.val();
            }
            if self.ro.val() == self.c_lip0.val() + 8 {
                self.regs.rdata.next = self.local_ip_r[2].q.val();
            }
            if self.ro.val() == self.c_lip0.val() + 12 {
                self.regs.rdata.next = self.local_ip_r[3].q.val();
            }
            if self.ro.val() == self.c_efilter.val() {
                self.regs.rdata.next = bit_cast::<32, 1>(self.cfg.ef_clearing.val().into()) << 31;
            }
        }
        // ------------------------------------------------------ outputs
        self.cfg.enable.next = self.ctrl.q.val().get_bit(0);
        self.cfg.slot.next = self.ctrl.q.val().get_bit(1);
        self.cfg.key_valid.next = bit_cast::<2, 4>(self.ctrl.q.val() >> 2);
        self.cfg.key0_lo.next = bit_cast::<64, 128>(self.key0.q.val());
        self.cfg.key0_hi.next = bit_cast::<64, 128>(self.key0.q.val() >> 64);
        self.cfg.key1_lo.next = bit_cast::<64, 128>(self.key1.q.val());
        self.cfg.key1_hi.next = bit_cast::<64, 128>(self.key1.q.val() >> 64);
        self.cfg.max_age.next = self.age.q.val();
        self.cfg.cookie_t.next = self.ct.q.val();
        self.cfg.ts_now.next = self.ts.q.val();
        self.cfg.our_mss.next = bit_cast::<16, 20>(self.ours.q.val());
        self.cfg.our_ws.next = bit_cast::<4, 20>(self.ours.q.val() >> 16);
        self.cfg.our_window.next = self.win.q.val();
        self.cfg.mss_table.next = self.mtab.q.val();
        self.cfg.local_mac.next = self.local_mac_r.q.val();
        self.cfg.local_ips.next = bit_cast::<128, 32>(self.local_ip_r[0].q.val())
            | (bit_cast::<128, 32>(self.local_ip_r[1].q.val()) << 32)
            | (bit_cast::<128, 32>(self.local_ip_r[2].q.val()) << 64)
            | (bit_cast::<128, 32>(self.local_ip_r[3].q.val()) << 96);
        if self.rst.val() {
            self.lt_we_r.d.next = false;
            self.lt_word_r.d.next = 0.into();
            self.lt_index_r.d.next = 0.into();
            self.lt_ip_r.d.next = 0.into();
            self.we_prev.d.next = false;
            self.we_prev2.d.next = false;
            self.local_mac_r.d.next = 0.into();
            for i in 0..4 {
                self.local_ip_r[i].d.next = 0.into();
            }
            self.cfg.ef_wr_en.next = false;
            self.cfg.ef_clear.next = false;
            self.ctrl.d.next = 0.into();
            self.age.d.next = self.c_age_reset.val();
            self.ct.d.next = 0.into();
            self.ct_period.d.next = self.c_ct_period_reset.val();
            self.ct_cnt.d.next = 0.into();
            self.ts.d.next = 0.into();
            self.ts_period.d.next = self.c_ts_period_reset.val();
            self.ts_cnt.d.next = 0.into();
            self.ours.d.next = self.c_ours_reset.val();
            self.win.d.next = 65535.into();
            self.mtab.d.next = self.c_mtab_reset.val();
            self.key0.d.next = 0.into();
            self.key1.d.next = 0.into();
            self.lidx.d.next = 0.into();
            self.lip.d.next = 0.into();
            self.cfg.lt_wr_en.next = false;
        }
    }
}
