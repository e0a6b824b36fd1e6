//! Debounced writes: "write now or skip", with every skip counted.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tachometer::builtin::DATABASE_UPDATES_SKIPPED_TOTAL;
use tachometer::{Counter, Registry};

/// Decides, per entity id, whether a write happens now or is skipped because the same entity
/// was written less than `interval` ago; counts each skip in
/// `database_updates_skipped_total{type="<kind>"}`.
///
/// ```
/// use std::time::Duration;
/// use tachometer_db::Debouncer;
///
/// let registry = tachometer::Registry::new();
/// let last_active = Debouncer::with_registry(&registry, "session", Duration::from_secs(30));
///
/// assert!(last_active.should_write(42_u64)); // first time: write
/// assert!(!last_active.should_write(42_u64)); // again within 30 s: skip, counted
/// assert!(last_active.should_write(7_u64)); // another session: write
/// ```
///
/// # Memory
///
/// The debouncer remembers the time of the last write of each key. Entries older than the
/// interval are dropped by a sweep that runs at most once per interval, on a call, so at any
/// moment it holds no more keys than were written during the last two intervals, and its table
/// is shrunk after a sweep that emptied most of it. With no calls at all nothing is swept, and
/// nothing grows either.
///
/// All keys share one mutex; each call holds it for one hash-map lookup (and, once per interval,
/// for the sweep, which is linear in the keys held).
pub struct Debouncer<K> {
    interval: Duration,
    skipped: Counter,
    state: Mutex<State<K>>,
}

struct State<K> {
    last_write: HashMap<K, Instant>,
    last_sweep: Option<Instant>,
}

impl<K: Hash + Eq> Debouncer<K> {
    /// A debouncer counting its skips under `type="<kind>"` in [`tachometer::global()`].
    pub fn new(kind: &str, interval: Duration) -> Self {
        Self::with_registry(tachometer::global(), kind, interval)
    }

    /// A debouncer counting its skips under `type="<kind>"` in `registry`.
    ///
    /// The counter series exists (at 0) from this call on, so `rate()` works before any skip.
    pub fn with_registry(registry: &Registry, kind: &str, interval: Duration) -> Self {
        Debouncer {
            interval,
            skipped: registry.counter(&DATABASE_UPDATES_SKIPPED_TOTAL, &[kind]),
            state: Mutex::new(State {
                last_write: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// `true`: write now (the write time of `key` is recorded). `false`: `key` was written less
    /// than the interval ago, skip this write (it is counted).
    pub fn should_write(&self, key: K) -> bool {
        self.should_write_at(key, Instant::now())
    }

    /// [`should_write`](Self::should_write) at an explicit time, for callers that already read
    /// the clock. Times earlier than a key's last write count as inside the interval.
    pub fn should_write_at(&self, key: K, now: Instant) -> bool {
        let write = {
            let mut state = self.lock();
            state.sweep_if_due(now, self.interval);
            match state.last_write.get_mut(&key) {
                Some(last) if now.saturating_duration_since(*last) < self.interval => false,
                Some(last) => {
                    *last = now;
                    true
                }
                None => {
                    state.last_write.insert(key, now);
                    true
                }
            }
        };

        if !write {
            self.skipped.inc();
        }
        write
    }

    /// Forgets `key`, so its next write goes through (for example when a session closes).
    pub fn forget(&self, key: &K) {
        self.lock().last_write.remove(key);
    }

    /// How many keys are remembered now.
    pub fn tracked_keys(&self) -> usize {
        self.lock().last_write.len()
    }

    /// How many keys the table has room for without growing; memory use is proportional to it.
    pub fn capacity(&self) -> usize {
        self.lock().last_write.capacity()
    }

    /// The minimum time between two writes of one key.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        // The state stays consistent even if a holder panicked: every update is one map call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Hash + Eq> State<K> {
    fn sweep_if_due(&mut self, now: Instant, interval: Duration) {
        let due = match self.last_sweep {
            None => true,
            Some(last) => now.saturating_duration_since(last) >= interval,
        };
        if !due {
            return;
        }

        self.last_write
            .retain(|_, written| now.saturating_duration_since(*written) < interval);
        self.last_sweep = Some(now);

        // Give memory back once most of the table is empty, keeping room to grow again.
        let len = self.last_write.len();
        if self.last_write.capacity() > 64 && self.last_write.capacity() / 4 > len {
            self.last_write.shrink_to(len * 2);
        }
    }
}

impl<K> fmt::Debug for Debouncer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Debouncer")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}
