//! One stage of the TCP option walker: up to `STEPS` options (or NOPs) per
//! cycle, registered.  A chain of stages walks the 40-byte option area in
//! any order (RFC 9293 3.1: kind, length, value; RFC 7323, RFC 2018).
//! Option bytes: byte p of the area is bits 8p+7:8p of `opts`.
use rust_hdl::prelude::*;

/// Option and NOP steps per stage.
pub const STEPS: usize = 4;

/// The walker state that flows from stage to stage.
#[derive(LogicBlock, Default)]
pub struct OptWalk {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    /// Opaque record carried along (completion + reason + queue).
    pub in_pay: Signal<In, Bits<262>>,
    pub in_opts: Signal<In, Bits<320>>,
    pub in_olen: Signal<In, Bits<9>>,
    pub in_pos: Signal<In, Bits<9>>,
    pub in_done: Signal<In, Bit>,
    pub in_bad: Signal<In, Bit>,
    pub in_mss: Signal<In, Bits<16>>,
    pub in_ws: Signal<In, Bits<8>>,
    pub in_sackp: Signal<In, Bit>,
    pub in_sackb: Signal<In, Bits<3>>,
    pub in_ts: Signal<In, Bit>,
    pub in_tsval: Signal<In, Bits<32>>,
    pub in_tsecr: Signal<In, Bits<32>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_pay: Signal<Out, Bits<262>>,
    pub out_opts: Signal<Out, Bits<320>>,
    pub out_olen: Signal<Out, Bits<9>>,
    pub out_pos: Signal<Out, Bits<9>>,
    pub out_done: Signal<Out, Bit>,
    pub out_bad: Signal<Out, Bit>,
    pub out_mss: Signal<Out, Bits<16>>,
    pub out_ws: Signal<Out, Bits<8>>,
    pub out_sackp: Signal<Out, Bit>,
    pub out_sackb: Signal<Out, Bits<3>>,
    pub out_ts: Signal<Out, Bit>,
    pub out_tsval: Signal<Out, Bits<32>>,
    pub out_tsecr: Signal<Out, Bits<32>>,
    r_valid: DFF<Bit>,
    r_pay: DFF<Bits<262>>,
    r_opts: DFF<Bits<320>>,
    r_olen: DFF<Bits<9>>,
    r_pos: DFF<Bits<9>>,
    r_done: DFF<Bit>,
    r_bad: DFF<Bit>,
    r_mss: DFF<Bits<16>>,
    r_ws: DFF<Bits<8>>,
    r_sackp: DFF<Bit>,
    r_sackb: DFF<Bits<3>>,
    r_ts: DFF<Bit>,
    r_tsval: DFF<Bits<32>>,
    r_tsecr: DFF<Bits<32>>,
    // scratch: the walker state within the cycle
    p: Signal<Local, Bits<9>>,
    done: Signal<Local, Bit>,
    bad: Signal<Local, Bit>,
    mss: Signal<Local, Bits<16>>,
    ws: Signal<Local, Bits<8>>,
    sackp: Signal<Local, Bit>,
    sackb: Signal<Local, Bits<3>>,
    ts: Signal<Local, Bit>,
    tsval: Signal<Local, Bits<32>>,
    tsecr: Signal<Local, Bits<32>>,
    win: Signal<Local, Bits<80>>,
    kind: Signal<Local, Bits<8>>,
    olen: Signal<Local, Bits<9>>,
}

impl Logic for OptWalk {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, r_valid, r_pay, r_opts, r_olen, r_pos, r_done, r_bad, r_mss, r_ws,
            r_sackp, r_sackb, r_ts, r_tsval, r_tsecr
        );
        self.p.next = self.in_pos.val();
        self.done.next = self.in_done.val();
        self.bad.next = self.in_bad.val();
        self.mss.next = self.in_mss.val();
        self.ws.next = self.in_ws.val();
        self.sackp.next = self.in_sackp.val();
        self.sackb.next = self.in_sackb.val();
        self.ts.next = self.in_ts.val();
        self.tsval.next = self.in_tsval.val();
        self.tsecr.next = self.in_tsecr.val();
        self.win.next = 0.into();
        self.kind.next = 0.into();
        self.olen.next = 0.into();
        // Only for a frame (saves simulation time between frames).
        for _s in 0..STEPS {
            if self.in_valid.val() && !self.done.val() {
                // win: bytes p..p+10 of the option area; byte j at bits 8j+7:8j.
                self.win.next = bit_cast::<80, 320>(self.in_opts.val() >> (self.p.val() << 3));
                self.kind.next = bit_cast::<8, 80>(self.win.val() & 0xFF);
                self.olen.next = bit_cast::<9, 80>((self.win.val() >> 8) & 0xFF);
                if self.p.val() >= self.in_olen.val() {
                    self.done.next = true;
                } else if self.kind.val() == 0 {
                    self.done.next = true;
                } else if self.kind.val() == 1 {
                    self.p.next = self.p.val() + 1;
                } else if (self.p.val() + 1 >= self.in_olen.val())
                    || (self.olen.val() < 2)
                    || (self.p.val() + self.olen.val() > self.in_olen.val())
                {
                    self.bad.next = true;
                    self.done.next = true;
                } else {
                    if (self.kind.val() == 2) && (self.olen.val() == 4) {
                        self.mss.next = bit_cast::<16, 80>(
                            ((self.win.val() >> 8) & 0xFF00) | ((self.win.val() >> 24) & 0xFF),
                        );
                    }
                    if (self.kind.val() == 3) && (self.olen.val() == 3) {
                        self.ws.next = bit_cast::<8, 80>(((self.win.val() >> 16) & 0xFF) | 0x80);
                        if ((self.win.val() >> 16) & 0xFF) > 14 {
                            self.ws.next = 0x8E.into();
                        }
                    }
                    if (self.kind.val() == 4) && (self.olen.val() == 2) {
                        self.sackp.next = true;
                    }
                    if (self.kind.val() == 5)
                        && ((self.olen.val() == 10)
                            || (self.olen.val() == 18)
                            || (self.olen.val() == 26)
                            || (self.olen.val() == 34))
                    {
                        self.sackb.next = bit_cast::<3, 9>((self.olen.val() - 2) >> 3);
                    }
                    if (self.kind.val() == 8) && (self.olen.val() == 10) {
                        self.ts.next = true;
                        self.tsval.next = bit_cast::<32, 80>(
                            ((self.win.val() << 8) & 0xFF00_0000_u64)
                                | ((self.win.val() >> 8) & 0x00FF_0000)
                                | ((self.win.val() >> 24) & 0x0000_FF00)
                                | ((self.win.val() >> 40) & 0x0000_00FF),
                        );
                        self.tsecr.next = bit_cast::<32, 80>(
                            ((self.win.val() >> 24) & 0xFF00_0000_u64)
                                | ((self.win.val() >> 40) & 0x00FF_0000)
                                | ((self.win.val() >> 56) & 0x0000_FF00)
                                | ((self.win.val() >> 72) & 0x0000_00FF),
                        );
                    }
                    self.p.next = self.p.val() + self.olen.val();
                }
            }
        }
        self.r_valid.d.next = self.in_valid.val();
        self.r_pay.d.next = self.in_pay.val();
        self.r_opts.d.next = self.in_opts.val();
        self.r_olen.d.next = self.in_olen.val();
        self.r_pos.d.next = self.p.val();
        self.r_done.d.next = self.done.val();
        self.r_bad.d.next = self.bad.val();
        self.r_mss.d.next = self.mss.val();
        self.r_ws.d.next = self.ws.val();
        self.r_sackp.d.next = self.sackp.val();
        self.r_sackb.d.next = self.sackb.val();
        self.r_ts.d.next = self.ts.val();
        self.r_tsval.d.next = self.tsval.val();
        self.r_tsecr.d.next = self.tsecr.val();
        self.out_valid.next = self.r_valid.q.val();
        self.out_pay.next = self.r_pay.q.val();
        self.out_opts.next = self.r_opts.q.val();
        self.out_olen.next = self.r_olen.q.val();
        self.out_pos.next = self.r_pos.q.val();
        self.out_done.next = self.r_done.q.val();
        self.out_bad.next = self.r_bad.q.val();
        self.out_mss.next = self.r_mss.q.val();
        self.out_ws.next = self.r_ws.q.val();
        self.out_sackp.next = self.r_sackp.q.val();
        self.out_sackb.next = self.r_sackb.q.val();
        self.out_ts.next = self.r_ts.q.val();
        self.out_tsval.next = self.r_tsval.q.val();
        self.out_tsecr.next = self.r_tsecr.q.val();
        if self.rst.val() {
            self.r_valid.d.next = false;
        }
    }
}
