//! Criterion benchmarks of tachometer beside the alternatives.
//!
//! The benches live in `benches/` and run with `cargo bench -p tachometer-benches`; the
//! figures and how to read them are in `BENCHMARKS.md` at the repository root. This library
//! holds what the three bench files share: running an operation on two contending threads,
//! polling a future to completion without a runtime, and the observed values.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Warm-up time of every bench: short, so a full `cargo bench` run takes minutes.
pub const WARM_UP: Duration = Duration::from_millis(300);

/// Measurement time of every nanosecond-scale bench.
pub const MEASUREMENT: Duration = Duration::from_millis(1200);

/// Samples per nanosecond-scale bench.
pub const SAMPLES: usize = 20;

/// Bucket bounds shared by every histogram in the benches: tachometer's HTTP duration
/// buckets, given to each library so that all of them fold into the same buckets.
pub const BUCKETS: &[f64] = tachometer::builtin::HTTP_DURATION_BUCKETS;

/// Observed values, spread over the buckets and `+Inf` so the bucket search is not always
/// the shortest one. Index with `i % OBSERVATIONS.len()`.
pub const OBSERVATIONS: [f64; 16] = [
    0.0004, 0.002, 0.003, 0.007, 0.009, 0.02, 0.04, 0.07, 0.09, 0.2, 0.3, 0.7, 2.0, 4.0, 7.0, 12.0,
];

/// Runs `op` with the iteration numbers `0..iters` on this thread, and returns the time taken.
pub fn alone(iters: u64, op: impl Fn(u64)) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        op(i);
    }
    start.elapsed()
}

/// Runs `op` with the iteration numbers `0..iters` on this thread and on a second thread at
/// once, and returns the wall time. Divided by `iters`, as criterion does, it is the time one
/// operation takes while another thread does the same to the same storage.
pub fn contended(iters: u64, op: impl Fn(u64) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..iters {
                op(i);
            }
        });
        for i in 0..iters {
            op(i);
        }
    });
    start.elapsed()
}

/// The observed value for iteration `i`: the values cycle through every bucket.
#[must_use]
pub fn observation(i: u64) -> f64 {
    // The remainder is below 16, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    OBSERVATIONS[(i % OBSERVATIONS.len() as u64) as usize]
}

/// Polls `future` until it is ready, on this thread, with a waker that does nothing: the
/// cheapest executor there is, so a bench of an async handler measures the handler.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[test]
    fn contended_runs_the_operation_on_both_threads() {
        let count = AtomicU64::new(0);
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        contended(1000, |_| {
            count.fetch_add(1, Ordering::Relaxed);
            threads.lock().unwrap().insert(std::thread::current().id());
        });
        assert_eq!(count.load(Ordering::Relaxed), 2000);
        assert_eq!(threads.lock().unwrap().len(), 2);
    }

    #[test]
    fn block_on_returns_the_output_after_pending_polls() {
        let mut polls = 0;
        let output = block_on(std::future::poll_fn(|cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(polls * 10)
            }
        }));
        assert_eq!(output, 30);
    }

    #[test]
    fn alone_passes_every_iteration_number() {
        let sum = AtomicU64::new(0);
        alone(100, |i| {
            sum.fetch_add(i, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 4950);
        assert_eq!(observation(17), OBSERVATIONS[1]);
    }

    #[test]
    fn observations_cover_every_bucket_and_inf() {
        for (i, bound) in BUCKETS.iter().enumerate() {
            let lower = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
            assert!(
                OBSERVATIONS.iter().any(|v| *v > lower && *v <= *bound),
                "no observation in bucket le={bound}"
            );
        }
        assert!(OBSERVATIONS.iter().any(|v| *v > BUCKETS[BUCKETS.len() - 1]));
    }
}
