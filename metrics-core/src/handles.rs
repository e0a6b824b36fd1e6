//! Metric handles: cheap clones over shared atomic storage.
//!
//! A handle is made once (by a registry lookup) and then written with plain atomic
//! instructions: no lock, no hashing, no allocation.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// Words in one cache line pair: shards are this far apart, so two threads writing
/// different shards never share a line (nor the adjacent line a CPU may prefetch with it).
const LINE_WORDS: usize = 16;

/// One 128-byte line of atomic words.
#[derive(Debug)]
#[repr(align(128))]
struct Line([AtomicU64; LINE_WORDS]);

impl Line {
    fn new() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// The most shards a histogram series keeps.
const MAX_SHARDS: usize = 16;

/// Shards per histogram series: twice the CPUs the process may use, as a power of two, at
/// most [`MAX_SHARDS`]. Read once.
fn shard_count() -> usize {
    static SHARDS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SHARDS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        (cpus * 2).next_power_of_two().min(MAX_SHARDS)
    })
}

/// Hands out a starting shard to each thread, round robin.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The shard this thread writes; it moves on when a write finds another thread there.
    static THREAD_SHARD: Cell<usize> = Cell::new(NEXT_SHARD.fetch_add(1, Ordering::Relaxed));
}

/// Storage of one histogram series: per shard, a count per bucket (not cumulative) and the
/// sum.
///
/// Observations are folded into the buckets when they are written, so memory is fixed at
/// `shards x (buckets + 2)` words (each shard rounded up to 128 bytes) per series, however
/// many observations arrive between scrapes. Each thread writes one shard; a thread whose
/// write races another thread's on the same shard moves to the next one, so threads on
/// different cores end up on different cache lines and do not slow each other down.
/// Rendering adds the shards up.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    bounds: Arc<[f64]>,
    /// Shard `s` owns lines `s * lines_per_shard ..`; its word 0 is the sum's bits, words
    /// `1..=bounds.len() + 1` the bucket counts, `+Inf` last.
    lines: Box<[Line]>,
    lines_per_shard: usize,
    /// `shards - 1`; the shard count is a power of two.
    shard_mask: usize,
}

/// A consistent-enough reading of a histogram for rendering.
pub(crate) struct HistogramSnapshot {
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
}

impl HistogramCell {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Self {
        let shards = shard_count();
        let lines_per_shard = (bounds.len() + 2).div_ceil(LINE_WORDS);
        let lines = (0..shards * lines_per_shard).map(|_| Line::new()).collect();
        Self {
            bounds,
            lines,
            lines_per_shard,
            shard_mask: shards - 1,
        }
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Word `word` of shard `shard`.
    fn word(&self, shard: usize, word: usize) -> &AtomicU64 {
        &self.lines[shard * self.lines_per_shard + word / LINE_WORDS].0[word % LINE_WORDS]
    }

    fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        let shard = THREAD_SHARD.with(Cell::get) & self.shard_mask;
        self.word(shard, slot + 1).fetch_add(1, Ordering::Relaxed);

        let sum = self.word(shard, 0);
        let mut current = sum.load(Ordering::Relaxed);
        let mut raced = false;
        loop {
            let next = (f64::from_bits(current) + value).to_bits();
            match sum.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => {
                    raced = true;
                    current = actual;
                }
            }
        }
        if raced {
            THREAD_SHARD.with(|s| s.set(s.get().wrapping_add(1)));
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let shards = self.shard_mask + 1;
        let mut cumulative = vec![0; self.bounds.len() + 1];
        let mut sum = 0.0;
        for shard in 0..shards {
            sum += f64::from_bits(self.word(shard, 0).load(Ordering::Relaxed));
            for (slot, total) in cumulative.iter_mut().enumerate() {
                *total += self.word(shard, slot + 1).load(Ordering::Relaxed);
            }
        }
        let mut running = 0;
        for total in &mut cumulative {
            running += *total;
            *total = running;
        }
        HistogramSnapshot { cumulative, sum }
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

// Writes through the `metrics` facade are compiled out by `off` like the handles' own.
impl metrics::CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        if OFF {
            return;
        }
        self.value.fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        if OFF {
            return;
        }
        self.value.fetch_max(value, Ordering::Relaxed);
    }
}

impl metrics::GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        if OFF {
            return;
        }
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        if OFF {
            return;
        }
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        if OFF {
            return;
        }
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }
}

impl metrics::HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        if OFF {
            return;
        }
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
    fn histogram_adds_up_the_shards_of_many_writing_threads() {
        // More buckets than one line holds, so a shard spans two lines.
        let bounds: Vec<f64> = (1..=20).map(f64::from).collect();
        let h = Histogram::detached(&bounds);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for i in 0..10_000 {
                        h.observe(if i % 2 == 0 { 0.5 } else { 25.0 });
                    }
                });
            }
        });
        let snap = h.cell.snapshot();
        assert_eq!(snap.cumulative.len(), 21);
        assert_eq!(snap.cumulative[0], 40_000);
        assert_eq!(snap.cumulative[19], 40_000);
        assert_eq!(snap.cumulative[20], 80_000);
        assert!((snap.sum - 40_000.0 * 25.5).abs() < 1e-6, "{}", snap.sum);
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
