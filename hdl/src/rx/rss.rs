//! RSS: Toeplitz hash of the IPv4 (2-tuple) or IPv4/TCP (4-tuple) input
//! with the programmable 40-byte key, then the 64-entry indirection table
//! picks the RX queue.  Two registered stages; everything else of the
//! record passes through unchanged.
use rust_hdl::prelude::*;
use toe_contract::desc as d;

#[derive(LogicBlock)]
pub struct Rss {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub enable: Signal<In, Bit>,
    /// Key bit 0 (MSB of key byte 0) is bit 319.
    pub key: Signal<In, Bits<320>>,
    pub ind_table: Signal<In, Bits<128>>,
    pub in_valid: Signal<In, Bit>,
    pub in_cpl: Signal<In, Bits<256>>,
    pub in_reason: Signal<In, Bits<4>>,
    pub in_opts: Signal<In, Bits<320>>,
    pub in_olen: Signal<In, Bits<9>>,
    pub in_tuple: Signal<In, Bits<96>>,
    pub in_hkind: Signal<In, Bits<2>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_cpl: Signal<Out, Bits<256>>,
    pub out_reason: Signal<Out, Bits<4>>,
    pub out_queue: Signal<Out, Bits<2>>,
    pub out_opts: Signal<Out, Bits<320>>,
    pub out_olen: Signal<Out, Bits<9>>,
    /// The Toeplitz hash of the frame in stage 1 (one cycle after its
    /// `in_valid`, whether or not RSS is enabled; the setup offload's
    /// established-tuple filter is indexed by it).
    pub out_hash: Signal<Out, Bits<32>>,
    // stage 1
    s1_valid: DFF<Bit>,
    s1_cpl: DFF<Bits<256>>,
    s1_reason: DFF<Bits<4>>,
    s1_opts: DFF<Bits<320>>,
    s1_olen: DFF<Bits<9>>,
    s1_hash: DFF<Bits<32>>,
    s1_use: DFF<Bit>,
    // stage 2
    s2_valid: DFF<Bit>,
    s2_cpl: DFF<Bits<256>>,
    s2_reason: DFF<Bits<4>>,
    s2_opts: DFF<Bits<320>>,
    s2_olen: DFF<Bits<9>>,
    s2_queue: DFF<Bits<2>>,
    acc: Signal<Local, Bits<32>>,
    c_hash_bit: Constant<Bits<16>>,
}

impl Default for Rss {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            rst: Default::default(),
            enable: Default::default(),
            key: Default::default(),
            ind_table: Default::default(),
            in_valid: Default::default(),
            in_cpl: Default::default(),
            in_reason: Default::default(),
            in_opts: Default::default(),
            in_olen: Default::default(),
            in_tuple: Default::default(),
            in_hkind: Default::default(),
            out_valid: Default::default(),
            out_cpl: Default::default(),
            out_reason: Default::default(),
            out_queue: Default::default(),
            out_opts: Default::default(),
            out_olen: Default::default(),
            out_hash: Default::default(),
            s1_valid: Default::default(),
            s1_cpl: Default::default(),
            s1_reason: Default::default(),
            s1_opts: Default::default(),
            s1_olen: Default::default(),
            s1_hash: Default::default(),
            s1_use: Default::default(),
            s2_valid: Default::default(),
            s2_cpl: Default::default(),
            s2_reason: Default::default(),
            s2_opts: Default::default(),
            s2_olen: Default::default(),
            s2_queue: Default::default(),
            acc: Default::default(),
            c_hash_bit: Constant::new((d::CPL_HASH_BIT as u64).into()),
        }
    }
}

impl Logic for Rss {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_valid, s1_cpl, s1_reason, s1_opts, s1_olen, s1_hash, s1_use, s2_valid,
            s2_cpl, s2_reason, s2_opts, s2_olen, s2_queue
        );
        // Toeplitz: input bit i (i = 0 is the MSB of the first byte) selects
        // the 32-bit key window starting at key bit i.
        // Only for a frame (between frames the hash is not used; skipping it
        // saves simulation time).
        self.acc.next = 0.into();
        if self.in_valid.val() {
            for i in 0..64 {
                if self.in_tuple.val().get_bit(95 - i) {
                    self.acc.next = self.acc.val() ^ self.key.val().get_bits::<32>(288 - i);
                }
            }
            for i in 64..96 {
                if self.in_tuple.val().get_bit(95 - i) && (self.in_hkind.val() == 2) {
                    self.acc.next = self.acc.val() ^ self.key.val().get_bits::<32>(288 - i);
                }
            }
        }
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_cpl.d.next = self.in_cpl.val();
        self.s1_reason.d.next = self.in_reason.val();
        self.s1_opts.d.next = self.in_opts.val();
        self.s1_olen.d.next = self.in_olen.val();
        self.s1_hash.d.next = self.acc.val();
        self.s1_use.d.next = self.enable.val() && (self.in_hkind.val() != 0);
        // Stage 2: indirection table.
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_reason.d.next = self.s1_reason.q.val();
        self.s2_opts.d.next = self.s1_opts.q.val();
        self.s2_olen.d.next = self.s1_olen.q.val();
        self.s2_cpl.d.next = self.s1_cpl.q.val();
        self.s2_queue.d.next = 0.into();
        if self.s1_use.q.val() {
            self.s2_cpl.d.next = self.s1_cpl.q.val()
                | (bit_cast::<256, 32>(self.s1_hash.q.val()) << self.c_hash_bit.val());
            self.s2_queue.d.next = bit_cast::<2, 128>(
                self.ind_table.val() >> (bit_cast::<8, 32>(self.s1_hash.q.val() & 63) << 1),
            );
        }
        self.out_valid.next = self.s2_valid.q.val();
        self.out_cpl.next = self.s2_cpl.q.val();
        self.out_reason.next = self.s2_reason.q.val();
        self.out_queue.next = self.s2_queue.q.val();
        self.out_opts.next = self.s2_opts.q.val();
        self.out_olen.next = self.s2_olen.q.val();
        self.out_hash.next = self.s1_hash.q.val();
        if self.rst.val() {
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
        }
    }
}
