//! One walk stage of the TCP option walker (`rx::opt_walk`, stages T+2 to
//! T+6): the walk over the two blocks of four positions `P..P + 8`, one
//! register stage.
//!
//! In: the visited set so far (positions below `P` final), and the reach
//! sets of the positions from `P` on (`R` of them, `W = 41 - P` bits each,
//! bit k standing for position `P + k`).  For each block the (at most one)
//! visited position of the block adds its reach set, moved up by `P`.
//! Out, a cycle later: the new visited set, and the reach sets of the
//! positions from `P + 8` on with the 8 positions now behind them dropped
//! (`RN = R - 8` of `WN = W - 8` bits; none after the last stage).  The
//! frame's record, option bytes, end and option flags ride along.  As in
//! the walker, the visited set is 0 between frames; the rest moves every
//! cycle.
//!
//! The widths are parameters because rust-hdl's types cannot compute them
//! (`Default` checks they agree with `P`).
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct OptWalkStage<
    const P: usize,
    const R: usize,
    const W: usize,
    const RN: usize,
    const WN: usize,
> {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_pay: Signal<In, Bits<262>>,
    pub in_opts: Signal<In, Bits<320>>,
    pub in_end: Signal<In, Bits<82>>,
    pub in_ok: Signal<In, Bits<200>>,
    /// Positions visited so far (0..=40).
    pub in_visited: Signal<In, Bits<41>>,
    /// Reach sets of positions `P..40`, relative to `P`.
    pub in_reach: [Signal<In, Bits<W>>; R],
    pub out_valid: Signal<Out, Bit>,
    pub out_pay: Signal<Out, Bits<262>>,
    pub out_opts: Signal<Out, Bits<320>>,
    pub out_end: Signal<Out, Bits<82>>,
    pub out_ok: Signal<Out, Bits<200>>,
    pub out_visited: Signal<Out, Bits<41>>,
    /// Reach sets of positions `P + 8..40`, relative to `P + 8`.
    pub out_reach: [Signal<Out, Bits<WN>>; RN],
    r_valid: DFF<Bit>,
    r_pay: DFF<Bits<262>>,
    r_opts: DFF<Bits<320>>,
    r_end: DFF<Bits<82>>,
    r_ok: DFF<Bits<200>>,
    r_visited: DFF<Bits<41>>,
    r_reach: [DFF<Bits<WN>>; RN],
    /// `P` (a kernel cannot name a const generic in an expression).
    c_base: Constant<Bits<6>>,
    /// The visited set as the walk goes.
    visited: Signal<Local, Bits<41>>,
    /// `visited` from `P` on as the block's walk starts (its entry
    /// position).
    entry: Signal<Local, Bits<41>>,
    /// The reach set being added.
    reach: Signal<Local, Bits<W>>,
}

impl<const P: usize, const R: usize, const W: usize, const RN: usize, const WN: usize> Default
    for OptWalkStage<P, R, W, RN, WN>
{
    fn default() -> Self {
        assert!(P.is_multiple_of(8) && P + 8 <= 40, "stage start {P}");
        assert_eq!((R, W), (40 - P, 41 - P), "input reach sets of stage {P}");
        if P + 8 < 40 {
            assert_eq!((RN, WN), (R - 8, W - 8), "output reach sets of stage {P}");
        } else {
            assert_eq!(RN, 0, "the last stage passes no reach sets on");
        }
        Self {
            clock: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_pay: Default::default(),
            in_opts: Default::default(),
            in_end: Default::default(),
            in_ok: Default::default(),
            in_visited: Default::default(),
            in_reach: core::array::from_fn(|_| Default::default()),
            out_valid: Default::default(),
            out_pay: Default::default(),
            out_opts: Default::default(),
            out_end: Default::default(),
            out_ok: Default::default(),
            out_visited: Default::default(),
            out_reach: core::array::from_fn(|_| Default::default()),
            r_valid: Default::default(),
            r_pay: Default::default(),
            r_opts: Default::default(),
            r_end: Default::default(),
            r_ok: Default::default(),
            r_visited: Default::default(),
            r_reach: core::array::from_fn(|_| Default::default()),
            c_base: Constant::new((P as u64).into()),
            visited: Default::default(),
            entry: Default::default(),
            reach: Default::default(),
        }
    }
}

impl<const P: usize, const R: usize, const W: usize, const RN: usize, const WN: usize> Logic
    for OptWalkStage<P, R, W, RN, WN>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r_valid, r_pay, r_opts, r_end, r_ok, r_visited);
        for j in 0..RN {
            self.r_reach[j].clock.next = self.clock.val();
            self.r_reach[j].d.next = self.in_reach[j + 8].val().get_bits::<WN>(8);
        }
        self.r_valid.d.next = self.in_valid.val();
        self.r_pay.d.next = self.in_pay.val();
        self.r_opts.d.next = self.in_opts.val();
        self.r_end.d.next = self.in_end.val();
        self.r_ok.d.next = self.in_ok.val();
        self.visited.next = 0.into();
        self.entry.next = 0.into();
        self.reach.next = 0.into();
        self.r_visited.d.next = 0.into();
        if self.in_valid.val() {
            self.visited.next = self.in_visited.val();
            for b in 0..2 {
                self.entry.next = self.visited.val() >> self.c_base.val();
                for e in 0..4 {
                    if self.entry.val().get_bit(4 * b + e) {
                        self.reach.next = self.in_reach[4 * b + e].val();
                        self.visited.next = self.visited.val()
                            | (bit_cast::<41, W>(self.reach.val()) << self.c_base.val());
                    }
                }
            }
            self.r_visited.d.next = self.visited.val();
        }
        self.out_valid.next = self.r_valid.q.val();
        self.out_pay.next = self.r_pay.q.val();
        self.out_opts.next = self.r_opts.q.val();
        self.out_end.next = self.r_end.q.val();
        self.out_ok.next = self.r_ok.q.val();
        self.out_visited.next = self.r_visited.q.val();
        for j in 0..RN {
            self.out_reach[j].next = self.r_reach[j].q.val();
        }
        if self.rst.val() {
            self.r_valid.d.next = false;
        }
    }
}
