//! Metric handles: cheap clones over shared atomic storage.
//!
//! A handle is made once (by a registry lookup) and then written with plain atomic
//! instructions: no lock, no hashing, no allocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Whether the `off` feature compiled instrumentation out.
pub(crate) const OFF: bool = cfg!(feature = "off");

/// Storage of one counter series.
#[derive(Debug, Default)]
pub(crate) struct CounterCell {
    value: AtomicU64,
}

impl CounterCell {
    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// Storage of one gauge series: an `f64` kept as its bit pattern.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
}

impl GaugeCell {
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    fn update(&self, f: impl Fn(f64) -> f64) {
        let mut current = self.bits.load(Ordering::Relaxed);
        loop {
            let next = f(f64::from_bits(current)).to_bits();
            match self.bits.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// Storage of one histogram series: a count per bucket (not cumulative) and the sum.
///
/// Observations are folded into the buckets when they are written, so memory is fixed at
/// `buckets + 2` words per series however many observations arrive between scrapes.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    bounds: Arc<[f64]>,
    /// One slot per bound, plus the `+Inf` slot at the end.
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
}

/// A consistent-enough reading of a histogram for rendering.
pub(crate) struct HistogramSnapshot {
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
}

impl HistogramCell {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self {
            bounds,
            counts,
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        let mut current = self.sum_bits.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + value).to_bits();
            match self.sum_bits.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let cumulative = self
            .counts
            .iter()
            .map(|c| {
                running += c.load(Ordering::Relaxed);
                running
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
        }
    }
}

/// A monotonic counter series.
#[derive(Clone, Debug)]
pub struct Counter {
    pub(crate) cell: Arc<CounterCell>,
}

impl Counter {
    /// A counter that belongs to no registry: writes go nowhere visible.
    #[must_use]
    pub fn detached() -> Self {
        Self {
            cell: Arc::default(),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        if OFF {
            return;
        }
        self.cell.value.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        if OFF {
            return;
        }
        self.cell.value.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.cell.get()
    }
}

/// A gauge series.
#[derive(Clone, Debug)]
pub struct Gauge {
    pub(crate) cell: Arc<GaugeCell>,
}

impl Gauge {
    /// A gauge that belongs to no registry.
    #[must_use]
    pub fn detached() -> Self {
        Self {
            cell: Arc::default(),
        }
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        if OFF {
            return;
        }
        self.cell.bits.store(value.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` (which may be negative).
    #[inline]
    pub fn add(&self, delta: f64) {
        if OFF {
            return;
        }
        self.cell.update(|v| v + delta);
    }

    /// Subtracts `delta`.
    #[inline]
    pub fn sub(&self, delta: f64) {
        if OFF {
            return;
        }
        self.cell.update(|v| v - delta);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.sub(1.0);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.cell.get()
    }
}

/// A histogram series with fixed buckets.
#[derive(Clone, Debug)]
pub struct Histogram {
    pub(crate) cell: Arc<HistogramCell>,
}

impl Histogram {
    /// A histogram that belongs to no registry, with the given bucket bounds.
    #[must_use]
    pub fn detached(bounds: &[f64]) -> Self {
        Self {
            cell: Arc::new(HistogramCell::new(bounds.into())),
        }
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        if OFF {
            return;
        }
        self.cell.observe(value);
    }

    /// Records a duration in seconds.
    #[inline]
    pub fn observe_duration(&self, duration: Duration) {
        if OFF {
            return;
        }
        self.cell.observe(duration.as_secs_f64());
    }

    /// The number of observations so far.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.cell.snapshot().cumulative.last().copied().unwrap_or(0)
    }

    /// The sum of all observations so far.
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.cell.snapshot().sum
    }
}

impl metrics::CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.value.fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
    }
}

impl metrics::GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }
}

impl metrics::HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        self.observe(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_folds_observations_into_cumulative_buckets() {
        let h = Histogram::detached(&[0.1, 1.0]);
        for v in [0.05, 0.1, 0.5, 2.0, f64::INFINITY] {
            h.observe(v);
        }
        let snap = h.cell.snapshot();
        assert_eq!(snap.cumulative, vec![2, 3, 5]);
        assert_eq!(h.count(), 5);
    }

    #[test]
    fn gauge_adds_and_subtracts_exactly() {
        let g = Gauge::detached();
        g.inc();
        g.inc();
        g.dec();
        g.add(2.5);
        assert!((g.get() - 3.5).abs() < f64::EPSILON);
    }
}
