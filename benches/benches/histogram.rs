//! Histogram observations, tachometer beside the alternatives (one thread and two threads
//! writing the same series), then what `#[track_http]` adds to an empty async handler and
//! what one `#[ws_scoped]` connection costs from open to close.
//!
//! `cargo bench -p tachometer-benches --bench histogram`

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use tachometer::{Descriptor, HttpRoute, Method, MetricKind, Scope, WsConnection, WsScope};
use tachometer_benches::{
    BUCKETS, MEASUREMENT, SAMPLES, WARM_UP, alone, block_on, contended, observation,
};

static LATENCY: Descriptor = Descriptor {
    name: "bench_latency_seconds",
    help: "Latency observed by the benchmark.",
    kind: MetricKind::Histogram,
    labels: &[],
    buckets: BUCKETS,
};

static TACHOMETER: LazyLock<tachometer::Histogram> =
    LazyLock::new(|| tachometer::global().histogram(&LATENCY, &[]));

static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::histogram::Histogram> =
    LazyLock::new(|| {
        prometheus_client::metrics::histogram::Histogram::new(BUCKETS.iter().copied())
    });

/// metrics-exporter-prometheus told to keep buckets (its default is a summary). Its
/// histograms buffer every observation until a render or an upkeep folds them in.
static PROMETHEUS_RECORDER: LazyLock<PrometheusRecorder> = LazyLock::new(|| {
    PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .expect("the buckets are valid")
        .build_recorder()
});

static METRICS_CACHED: LazyLock<metrics::Histogram> = LazyLock::new(|| {
    metrics::with_local_recorder(&*PROMETHEUS_RECORDER, || {
        metrics::histogram!("bench_latency_seconds")
    })
});

#[derive(Clone, Copy)]
enum Threads {
    One,
    Two,
}

/// Times `op`, then runs `settle` outside the timed part (the exporter's upkeep, which
/// drains the buffered observations so the bench's memory stays flat).
fn bench<F: Fn(u64) + Sync>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    threads: Threads,
    name: &str,
    op: F,
    settle: impl Fn(),
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let elapsed = match threads {
                Threads::One => alone(iters, &op),
                Threads::Two => contended(iters, &op),
            };
            settle();
            elapsed
        });
    });
}

fn observe(c: &mut Criterion, group_name: &str, threads: Threads) {
    let mut group = c.benchmark_group(group_name);
    group
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES);
    let nothing = || {};
    bench(
        &mut group,
        threads,
        "tachometer_handle",
        |i| TACHOMETER.observe(observation(i)),
        nothing,
    );
    bench(
        &mut group,
        threads,
        "prometheus_client",
        |i| PROMETHEUS_CLIENT.observe(observation(i)),
        nothing,
    );
    bench(
        &mut group,
        threads,
        "metrics_cached_handle",
        |i| METRICS_CACHED.record(observation(i)),
        || PROMETHEUS_RECORDER.handle().run_upkeep(),
    );
    group.finish();
}

fn observe_one_thread(c: &mut Criterion) {
    observe(c, "histogram_observe_1_thread", Threads::One);
}

fn observe_two_threads(c: &mut Criterion) {
    observe(c, "histogram_observe_2_threads", Threads::Two);
}

/// The empty handler, uninstrumented. Its value becomes a response as axum would make it.
async fn empty_handler() -> StatusCode {
    StatusCode::OK
}

/// The same handler under `#[track_http]`.
#[tachometer::track_http(GET, "/bench/empty")]
async fn tracked_handler() -> StatusCode {
    StatusCode::OK
}

static ROUTE: HttpRoute = HttpRoute::new(Method::Get, "/bench/guard");

fn track_http(c: &mut Criterion) {
    let mut group = c.benchmark_group("track_http");
    group
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES);
    group.bench_function("empty_handler", |b| {
        b.iter(|| block_on(empty_handler()).into_response());
    });
    group.bench_function("empty_handler_track_http", |b| {
        b.iter(|| block_on(tracked_handler()).into_response());
    });
    group.bench_function("http_route_guard_only", |b| {
        b.iter(|| ROUTE.start().finish(200));
    });
    group.finish();
}

static BENCH_SCOPE: Scope = Scope::new("session");

/// A connection type implementing the trait by hand, as `#[ws_scoped]` does.
struct HandScoped;

impl WsScope for HandScoped {
    fn scope() -> &'static Scope {
        &BENCH_SCOPE
    }
}

/// A session type under `#[ws_scoped]`: a value is one open connection.
#[tachometer::ws_scoped("user")]
struct UserSession {
    id: u64,
}

fn ws_scoped(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_scoped");
    group
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES);
    group.bench_function("instant_now_x2", |b| {
        b.iter(|| {
            let opened = Instant::now();
            black_box(opened.elapsed())
        });
    });
    // The same two clock reads from the TSC, scaled to nanoseconds: what a cheaper clock
    // would save on every connection and every request.
    let clock = quanta::Clock::new();
    group.bench_function("quanta_now_x2", |b| {
        b.iter(|| {
            let opened = clock.now();
            black_box(clock.now() - opened)
        });
    });
    group.bench_function("ws_connection_open_close", |b| {
        b.iter(|| drop(black_box(WsConnection::<HandScoped>::open())));
    });
    group.bench_function("ws_scoped_struct_open_close", |b| {
        b.iter(|| {
            drop(black_box(UserSession {
                id: 7,
                ws_connection: WsConnection::open(),
            }));
        });
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    observe_one_thread(&mut c);
    observe_two_threads(&mut c);
    track_http(&mut c);
    ws_scoped(&mut c);
    c.final_summary();
}
