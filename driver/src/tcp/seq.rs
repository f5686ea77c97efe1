//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293
//! section 3.4, "all arithmetic dealing with sequence numbers must be
//! performed modulo 2**32").  `a < b` means `b` is ahead of `a` by less
//! than 2^31.
use std::cmp::Ordering;
use std::ops::{Add, Sub};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Seq(pub u32);

impl Seq {
    /// Whether `self` lies in `[start, start + len)` (RFC 9293 3.4's
    /// acceptability tests are built from this).
    pub fn in_window(self, start: Seq, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// The later of two sequence numbers.
    pub fn max(self, other: Seq) -> Seq {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// The earlier of two sequence numbers.
    pub fn min(self, other: Seq) -> Seq {
        if self <= other {
            self
        } else {
            other
        }
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Seq) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered by the signed 32-bit difference: `b` is after `a` when `b - a`
/// (mod 2^32) is in 1..2^31.  Within any window of less than 2^31 this is
/// a total order; two numbers exactly 2^31 apart (a case RFC 9293 leaves
/// undefined, and which no window spans) each compare as the earlier one.
impl Ord for Seq {
    fn cmp(&self, other: &Seq) -> Ordering {
        (self.0.wrapping_sub(other.0) as i32).cmp(&0)
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    fn add(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }
}

impl Sub<u32> for Seq {
    type Output = Seq;
    fn sub(self, n: u32) -> Seq {
        Seq(self.0.wrapping_sub(n))
    }
}

/// Distance from `other` forward to `self`, in bytes (wrapping).
impl Sub<Seq> for Seq {
    type Output = u32;
    fn sub(self, other: Seq) -> u32 {
        self.0.wrapping_sub(other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::nonminimal_bool)] // both directions, on purpose
    fn comparisons_wrap() {
        let a = Seq(u32::MAX - 10);
        let b = a + 20;
        assert_eq!(b, Seq(9));
        assert!(a < b && b > a);
        assert_eq!(b - a, 20);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert!(Seq(5) > Seq(0) && Seq(0) < Seq(0x7fff_ffff));
        // More than half the space ahead counts as behind.
        assert!(Seq(0) > Seq(0x8000_0001));
    }

    #[test]
    fn windows_wrap() {
        let start = Seq(u32::MAX - 1);
        assert!(start.in_window(start, 1));
        assert!((start + 3).in_window(start, 4));
        assert!(!(start + 4).in_window(start, 4));
        assert!(!(start - 1).in_window(start, 4));
        assert!(!start.in_window(start, 0));
    }
}
