//! Label values: bounded by construction.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

/// A type whose values are a closed set of label values, such as an enum deriving
/// `LabelValue`. Every combination is known at compile time, so the catalog can make each
/// series present at zero from start-up and call sites can index handles without hashing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a label value",
    label = "not a `tachometer::LabelValue`",
    note = "label values are bounded by construction: derive `tachometer::LabelValue` on a fieldless enum"
)]
pub trait LabelValue: Copy + Send + Sync + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];

    /// The label value as it appears in the exposition.
    fn as_str(self) -> &'static str;

    /// This value's position in [`LabelValue::ALL`].
    fn index(self) -> usize;

    /// The value whose label is `label`, if any.
    #[must_use]
    fn from_label(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == label)
    }
}

/// The value a [`LabelCap`] gives to every value past its limit.
pub const OTHER: &str = "other";

/// Caps the distinct values a runtime string label may take.
///
/// The first `limit` distinct values pass through; every later one reads [`OTHER`], so a
/// client that sends random strings cannot grow the number of series without bound.
#[derive(Debug)]
pub struct LabelCap {
    limit: usize,
    seen: RwLock<Option<HashSet<Box<str>>>>,
}

impl LabelCap {
    /// A cap that admits `limit` distinct values.
    #[must_use]
    pub const fn new(limit: usize) -> Self {
        Self {
            limit,
            seen: RwLock::new(None),
        }
    }

    /// `value` if it is admitted, otherwise `"other"`.
    pub fn admit<'a>(&self, value: &'a str) -> &'a str {
        if let Some(seen) = &*self.seen.read().unwrap_or_else(PoisonError::into_inner)
            && seen.contains(value)
        {
            return value;
        }
        let mut seen = self.seen.write().unwrap_or_else(PoisonError::into_inner);
        let seen = seen.get_or_insert_with(HashSet::new);
        if seen.contains(value) {
            value
        } else if seen.len() < self.limit {
            seen.insert(value.into());
            value
        } else {
            OTHER
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_the_cap_fold_into_other() {
        let cap = LabelCap::new(2);
        assert_eq!(cap.admit("a"), "a");
        assert_eq!(cap.admit("b"), "b");
        assert_eq!(cap.admit("c"), "other");
        assert_eq!(cap.admit("a"), "a");
    }
}
