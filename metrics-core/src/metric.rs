//! Metric families declared by `catalog!`, and the per-call-site handle caches that
//! `#[count_event]` and `count!` expand to.

use std::sync::OnceLock;

use crate::descriptor::{Descriptor, MetricKind};
use crate::handles::{Counter, Gauge, Histogram};
use crate::label::LabelValue;
use crate::registry::{Registry, global};

/// A metric family declared in a `catalog!`.
///
/// The catalog turns each declaration into a type of this name whose fields are the
/// family's labels, so a value of the type names one series. Every label is a
/// [`LabelValue`], so the family's series are a closed set: [`Metric::SERIES`] of them,
/// numbered by [`Metric::index`].
pub trait Metric: Sized + 'static {
    /// Name, HELP text, kind, label names and buckets.
    const DESCRIPTOR: &'static Descriptor;

    /// How many label combinations the family has: the product of the number of values of
    /// each label, 1 for an unlabeled family.
    const SERIES: usize;

    /// This label combination's number, below [`Metric::SERIES`].
    fn index(&self) -> usize;

    /// The label combination numbered `index`, if `index` is below [`Metric::SERIES`].
    fn from_index(index: usize) -> Option<Self>;

    /// Calls `f` with the label values, in the order of the descriptor's label names.
    fn with_label_values<R, F: FnOnce(&[&'static str]) -> R>(&self, f: F) -> R;
}

/// A catalog metric declared as `counter`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a counter of a `tachometer::catalog!`",
    label = "not a catalog counter",
    note = "`#[count_event]` and `count!` count into a metric declared as `counter` in a `tachometer::catalog!`"
)]
pub trait CounterMetric: Metric {
    /// This series in `registry`, created at zero if new.
    #[must_use]
    fn counter(&self, registry: &Registry) -> Counter {
        self.with_label_values(|values| registry.counter(Self::DESCRIPTOR, values))
    }
}

/// A catalog metric declared as `gauge`.
pub trait GaugeMetric: Metric {
    /// This series in `registry`, created at zero if new.
    #[must_use]
    fn gauge(&self, registry: &Registry) -> Gauge {
        self.with_label_values(|values| registry.gauge(Self::DESCRIPTOR, values))
    }
}

/// A catalog metric declared as `histogram`.
pub trait HistogramMetric: Metric {
    /// This series in `registry`, created empty if new.
    #[must_use]
    fn histogram(&self, registry: &Registry) -> Histogram {
        self.with_label_values(|values| registry.histogram(Self::DESCRIPTOR, values))
    }
}

/// A label type that can take its value from what a function returned: the
/// `label = outcome` argument of `#[count_event]`.
///
/// `#[derive(LabelValue)]` implements it for `Result<T, E>` when the enum has values
/// `ok` and `error`, and for `Option<T>` when it has `hit` and `miss`. Implement it by
/// hand for other return types.
#[diagnostic::on_unimplemented(
    message = "label type `{Self}` cannot take its value from a `{R}`",
    label = "`{Self}` has no value for every outcome of `{R}`",
    note = "derive `LabelValue` on an enum with values `ok` and `error` (for `Result`) or `hit` and `miss` (for `Option`), implement `tachometer::FromOutcome<{R}>`, or map the value yourself with `outcome(path::to::fn)`"
)]
pub trait FromOutcome<R> {
    /// The label value for `returned`.
    fn from_outcome(returned: &R) -> Self;
}

/// A label type whose values a call site may spell as string literals:
/// `count!(websocket_events_total, event_type = "ping")`. `#[derive(LabelValue)]`
/// implements it; the literal is checked at compile time.
#[diagnostic::on_unimplemented(
    message = "the values of `{Self}` cannot be spelled as string literals",
    label = "a string literal needs a label type deriving `tachometer::LabelValue`",
    note = "derive `tachometer::LabelValue` on the label type, or give the value as an enum variant"
)]
pub trait LabelLiterals {
    /// The label of each value of [`LabelValue::ALL`], in the same order.
    const LABELS: &'static [&'static str];
}

/// The value of `T` whose label is `label`, evaluated at compile time at call sites.
#[must_use]
pub const fn literal_label<T: LabelValue + LabelLiterals>(label: &str) -> Option<T> {
    let mut i = 0;
    while i < T::LABELS.len() && i < T::ALL.len() {
        if str_eq(T::LABELS[i], label) {
            return Some(T::ALL[i]);
        }
        i += 1;
    }
    None
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Calls `body` once. `#[count_event]` runs a sync body with an `outcome` label through
/// it: a closure passed as `FnOnce` may return references to what it captured, as the
/// function body it wraps could.
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Makes `M`'s family present in `registry`, with every label combination at zero.
pub fn register<M: Metric>(registry: &Registry) {
    registry.describe(M::DESCRIPTOR);
    for index in 0..M::SERIES {
        let Some(series) = M::from_index(index) else {
            continue;
        };
        series.with_label_values(|values| match M::DESCRIPTOR.kind {
            MetricKind::Counter => drop(registry.counter(M::DESCRIPTOR, values)),
            MetricKind::Gauge => drop(registry.gauge(M::DESCRIPTOR, values)),
            MetricKind::Histogram => drop(registry.histogram(M::DESCRIPTOR, values)),
        });
    }
}

/// The handle of a call site whose labels are fixed: made on the first call, in the
/// global registry, and reused by every later call.
#[inline]
pub fn static_counter<M: CounterMetric>(
    cell: &OnceLock<Counter>,
    labels: impl FnOnce() -> M,
) -> &Counter {
    cell.get_or_init(|| labels().counter(global()))
}

/// The handles of a call site whose labels are known only at run time: one per label
/// combination of the family, made on the first call, chosen by [`Metric::index`].
#[derive(Debug)]
pub struct CounterSite {
    handles: OnceLock<Box<[Counter]>>,
}

impl CounterSite {
    /// An empty site, for a `static`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            handles: OnceLock::new(),
        }
    }

    /// Adds one to the series named by `labels`.
    #[inline]
    pub fn inc<M: CounterMetric>(&self, labels: &M) {
        let handles = self.handles.get_or_init(|| {
            (0..M::SERIES)
                .map(|index| {
                    M::from_index(index)
                        .map_or_else(Counter::detached, |series| series.counter(global()))
                })
                .collect()
        });
        if let Some(handle) = handles.get(labels.index()) {
            handle.inc();
        }
    }
}

impl Default for CounterSite {
    fn default() -> Self {
        Self::new()
    }
}
