//! One counter increment, tachometer beside the alternatives, on one thread and on two
//! threads writing the same series. Ratios are to the bare atomic of the same group.
//!
//! `cargo bench -p tachometer-benches --bench counter`

use std::hint::black_box;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tachometer::{Descriptor, MetricKind};
use tachometer_benches::{MEASUREMENT, SAMPLES, WARM_UP, alone, contended};

/// The floor: what any counter must do at least.
static ATOMIC: AtomicU64 = AtomicU64::new(0);

/// The floor of a labelled counter whose label is known only at run time: one atomic per
/// label combination (3 operations x 2 results), chosen by an index computed per call.
static ATOMICS: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];

static EVENTS: Descriptor = Descriptor {
    name: "bench_events_total",
    help: "Events counted by the benchmark.",
    kind: MetricKind::Counter,
    labels: &[],
    buckets: &[],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Operation {
    Get,
    Set,
    Invalidate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Outcome {
    Hit,
    Miss,
}

tachometer::catalog! {
    /// Calls of the counted function, no labels.
    counter bench_calls_total;
    /// Cache operations by operation and result.
    counter bench_cache_operations_total { operation: Operation, result: Outcome }
}

/// Static labels: the handle is made on the first call and reused.
#[tachometer::count_event(bench_cache_operations_total, operation = Operation::Get, result = Outcome::Hit)]
fn count_event_static() {}

/// Labels from the arguments: one handle per label combination, chosen by index.
#[tachometer::count_event(bench_cache_operations_total, operation = operation, result = result)]
fn count_event_enum(operation: Operation, result: Outcome) {
    black_box((operation, result));
}

/// No labels at all.
#[tachometer::count_event(bench_calls_total)]
fn count_event_unlabeled() {}

/// A handle made once from the process registry, as a call site caches it.
static TACHOMETER: LazyLock<tachometer::Counter> =
    LazyLock::new(|| tachometer::global().counter(&EVENTS, &[]));

/// metrics-exporter-prometheus as the global `metrics` recorder, installed before any
/// `metrics::counter!` runs (autometrics with its `metrics-0_24` backend records into it too).
static PROMETHEUS_RECORDER: LazyLock<PrometheusHandle> = LazyLock::new(|| {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).expect("the benchmark installs the recorder once");
    handle
});

static METRICS_CACHED: LazyLock<metrics::Counter> = LazyLock::new(|| {
    LazyLock::force(&PROMETHEUS_RECORDER);
    metrics::counter!("bench_cached_total")
});

static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::counter::Counter> =
    LazyLock::new(|| {
        let counter = prometheus_client::metrics::counter::Counter::default();
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("bench_events", "Events counted.", counter.clone());
        // The registry only renders; the counter writes its own atomic either way.
        drop(registry);
        counter
    });

/// An empty function under autometrics: its counter, histogram and caller labels per call.
#[autometrics::autometrics]
fn autometrics_counted() {}

#[derive(Clone, Copy)]
enum Threads {
    One,
    Two,
}

fn bench<F: Fn() + Sync>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    threads: Threads,
    name: &str,
    op: F,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| match threads {
            Threads::One => alone(iters, |_| op()),
            Threads::Two => contended(iters, |_| op()),
        });
    });
}

fn counters(c: &mut Criterion, group_name: &str, threads: Threads) {
    LazyLock::force(&PROMETHEUS_RECORDER);
    let runtime_label = String::from("alice");
    let mut group = c.benchmark_group(group_name);
    group
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES);

    bench(&mut group, threads, "atomic_fetch_add", || {
        ATOMIC.fetch_add(1, Ordering::Relaxed);
    });
    bench(&mut group, threads, "atomic_array_runtime_index", || {
        let (operation, result) = (black_box(Operation::Set), black_box(Outcome::Miss));
        ATOMICS[operation as usize * 2 + result as usize].fetch_add(1, Ordering::Relaxed);
    });
    bench(&mut group, threads, "tachometer_handle", || {
        TACHOMETER.inc()
    });
    bench(
        &mut group,
        threads,
        "count_event_unlabeled",
        count_event_unlabeled,
    );
    bench(
        &mut group,
        threads,
        "count_event_static_labels",
        count_event_static,
    );
    bench(&mut group, threads, "count_event_enum_labels", || {
        count_event_enum(black_box(Operation::Set), black_box(Outcome::Miss));
    });
    bench(&mut group, threads, "count_statement_static_labels", || {
        tachometer::count!(
            bench_cache_operations_total,
            operation = Operation::Invalidate,
            result = Outcome::Miss
        );
    });
    bench(&mut group, threads, "count_statement_enum_labels", || {
        let (operation, result) = (black_box(Operation::Get), black_box(Outcome::Hit));
        tachometer::count!(
            bench_cache_operations_total,
            operation = operation,
            result = result
        );
    });
    bench(&mut group, threads, "count_statement_mixed_labels", || {
        let result = black_box(Outcome::Hit);
        tachometer::count!(
            bench_cache_operations_total,
            operation = Operation::Get,
            result = result
        );
    });
    bench(&mut group, threads, "metrics_cached_handle", || {
        METRICS_CACHED.increment(1);
    });
    bench(&mut group, threads, "metrics_counter_per_call", || {
        metrics::counter!("bench_per_call_total").increment(1);
    });
    bench(
        &mut group,
        threads,
        "metrics_counter_per_call_3_static_labels",
        || {
            metrics::counter!(
                "bench_per_call_labeled_total",
                "service" => "api",
                "region" => "eu",
                "kind" => "login"
            )
            .increment(1);
        },
    );
    bench(
        &mut group,
        threads,
        "metrics_counter_per_call_string_label",
        || {
            metrics::counter!("bench_per_call_user_total", "user" => black_box(&runtime_label).clone())
            .increment(1);
        },
    );
    bench(&mut group, threads, "prometheus_client", || {
        PROMETHEUS_CLIENT.inc();
    });
    bench(&mut group, threads, "autometrics_fn", autometrics_counted);
    group.finish();
}

fn one_thread(c: &mut Criterion) {
    counters(c, "counter_1_thread", Threads::One);
}

fn two_threads(c: &mut Criterion) {
    counters(c, "counter_2_threads", Threads::Two);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    one_thread(&mut c);
    two_threads(&mut c);
    c.final_summary();
}
