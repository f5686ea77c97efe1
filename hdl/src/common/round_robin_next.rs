//! The next grant of a round-robin arbiter of `N` requesters: the first
//! requester after the current grant in cyclic order.  Combinational; the
//! arbiters (`FrameArb`, `RecArbN`) hold the grant in a register and load
//! `pick` into it when they move.
//!
//! `above` marks the requesters after the granted one (`!(g | (g - 1))` of
//! the one-hot grant `g`); the first request among them is the lowest set
//! bit of `others & above` (`x & -x`), else the lowest request overall (the
//! wrap).  The current grant's own request does not count: `any` is low
//! when no other requester waits, and `pick` is then 0.  (A port cannot be
//! called `next`: rust-hdl reads `x.next` as the assignment target.)
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RoundRobinNext<const N: usize> {
    /// The current grant (one-hot).
    pub grant: Signal<In, Bits<N>>,
    /// The requests, one bit a requester.
    pub req: Signal<In, Bits<N>>,
    /// Some requester other than the granted one waits.
    pub any: Signal<Out, Bit>,
    /// The first of them after the granted one, cyclically (one-hot; 0
    /// when `any` is low).
    pub pick: Signal<Out, Bits<N>>,
    /// Requests other than the granted one.
    others: Signal<Local, Bits<N>>,
    gm1: Signal<Local, Bits<N>>,
    above: Signal<Local, Bits<N>>,
    after: Signal<Local, Bits<N>>,
    after_neg: Signal<Local, Bits<N>>,
    others_neg: Signal<Local, Bits<N>>,
}

impl<const N: usize> Default for RoundRobinNext<N> {
    fn default() -> Self {
        assert!((1..=32).contains(&N), "1 to 32 requesters");
        Self {
            grant: Default::default(),
            req: Default::default(),
            any: Default::default(),
            pick: Default::default(),
            others: Default::default(),
            gm1: Default::default(),
            above: Default::default(),
            after: Default::default(),
            after_neg: Default::default(),
            others_neg: Default::default(),
        }
    }
}

impl<const N: usize> Logic for RoundRobinNext<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.others.next = self.req.val() & !self.grant.val();
        self.gm1.next = self.grant.val() - 1;
        self.above.next = !(self.grant.val() | self.gm1.val());
        self.after.next = self.others.val() & self.above.val();
        self.after_neg.next = !self.after.val() + 1;
        self.others_neg.next = !self.others.val() + 1;
        self.pick.next = self.others.val() & self.others_neg.val();
        if self.after.val().any() {
            self.pick.next = self.after.val() & self.after_neg.val();
        }
        self.any.next = self.others.val().any();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the definition, for every one-hot grant and every request
    /// set of 5 requesters, in rust-hdl's simulator.
    #[test]
    fn next_is_the_first_other_requester_after_the_grant() {
        const N: usize = 5;
        let mut uut = RoundRobinNext::<N>::default();
        uut.connect_all();
        for g in 0..N {
            for req in 0..1u64 << N {
                uut.grant.next = (1u64 << g).into();
                uut.req.next = req.into();
                // Settle the combinational logic.
                for _ in 0..4 {
                    uut.update_all();
                }
                let want = (1..N).map(|k| (g + k) % N).find(|&i| req >> i & 1 == 1);
                assert_eq!(uut.any.val(), want.is_some(), "grant {g} req {req:05b}");
                let pick = uut.pick.val().to_u64();
                assert_eq!(pick, want.map_or(0, |i| 1 << i), "grant {g} req {req:05b}");
            }
        }
    }

    #[test]
    fn round_robin_next_generates_verilog() {
        let mut uut = RoundRobinNext::<3>::default();
        uut.connect_all();
        assert!(generate_verilog(&uut).contains("module top("));
    }
}
