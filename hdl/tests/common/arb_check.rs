//! Bookkeeping of the round-robin arbiter tests (`frame_arb_vlt`,
//! `rec_arb_vlt`): each source's items leave in order, none lost or
//! repeated, all out after a drain ([`Ledger`], [`drain`]); a waiting
//! source is served before `N` grants of others end ([`Fairness`]); with
//! every source busy an item moves every cycle ([`assert_full_rate`]).
use std::collections::VecDeque;
use std::fmt::Debug;

/// What each source sent and has not yet seen come out, in order.
pub struct Ledger<T> {
    expect: Vec<VecDeque<T>>,
}

impl<T: PartialEq + Debug> Ledger<T> {
    pub fn new(sources: usize) -> Self {
        Ledger {
            expect: (0..sources).map(|_| VecDeque::new()).collect(),
        }
    }

    /// Source `src` offers `item` (after those it offered before).
    pub fn sent(&mut self, src: usize, item: T) {
        self.expect[src].push_back(item);
    }

    /// `item` of source `src` came out in cycle `c`: it must be the oldest
    /// still expected of that source.
    pub fn came_out(&mut self, src: usize, item: T, c: usize) {
        let want = self.expect[src].pop_front();
        assert_eq!(
            want,
            Some(item),
            "cycle {c}: source {src} out of order, lost or repeated"
        );
    }

    pub fn all_out(&self) -> bool {
        self.expect.iter().all(|q| q.is_empty())
    }

    pub fn assert_all_out(&self) {
        for (i, q) in self.expect.iter().enumerate() {
            assert!(q.is_empty(), "source {i}: {} items never came out", q.len());
        }
    }
}

/// Steps the block (`step(cycle)`, which reports what came out to the
/// ledger) until every item is out, at most `limit` cycles, then checks
/// that all are.
pub fn drain<T: PartialEq + Debug>(
    ledger: &mut Ledger<T>,
    limit: usize,
    mut step: impl FnMut(&mut Ledger<T>, usize),
) {
    for c in 0..limit {
        if ledger.all_out() {
            break;
        }
        step(ledger, c);
    }
    ledger.assert_all_out();
}

/// Round-robin fairness: a source that waits is served before `N` grants
/// of other sources end.
pub struct Fairness {
    /// Per source: waiting, with the grants of others ended since.
    waited: Vec<Option<usize>>,
    /// The longest wait seen, in grants of others.
    pub worst: usize,
}

impl Fairness {
    pub fn new(sources: usize) -> Self {
        Fairness {
            waited: vec![None; sources],
            worst: 0,
        }
    }

    /// Source `i` waits to be served (nothing when it already does).
    pub fn waits(&mut self, i: usize) {
        self.waited[i].get_or_insert(0);
    }

    /// Source `i` is served: it no longer waits.
    pub fn served(&mut self, i: usize) {
        self.waited[i] = None;
    }

    /// A grant of source `i` ended in cycle `c`: every other waiting
    /// source has waited one more, and no more than `N - 1`.
    pub fn grant_ended(&mut self, i: usize, c: usize) {
        let n = self.waited.len();
        for (j, w) in self.waited.iter_mut().enumerate() {
            if let (true, Some(w)) = (j != i, w.as_mut()) {
                *w += 1;
                self.worst = self.worst.max(*w);
                assert!(
                    *w < n,
                    "cycle {c}: source {j} waited {w} grants of others (N = {n})"
                );
            }
        }
    }
}

/// With every source busy and the output always ready, `moved` items in
/// `cycles` cycles: one a cycle, but for two cycles of slack.
pub fn assert_full_rate(n: usize, moved: usize, cycles: usize, what: &str) {
    println!("N = {n}, all busy: {moved} {what} in {cycles} cycles");
    assert!(
        moved + 2 >= cycles,
        "{moved} {what} in {cycles} cycles with every source busy"
    );
}
