//! Rendering the exposition of 10,000 counter series and 100 histograms: tachometer beside
//! prometheus-client's text encoder and metrics-exporter-prometheus (with buckets, and with
//! its default summaries).
//!
//! `cargo bench -p tachometer-benches --bench render`

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use prometheus_client::metrics::counter::Counter as PcCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram as PcHistogram;
use tachometer::{Descriptor, MetricKind, Registry};
use tachometer_benches::{BUCKETS, WARM_UP, observation};

/// Counter families, each with [`SERIES_PER_FAMILY`] series: 10,000 counter series.
const COUNTER_FAMILIES: usize = 100;
const SERIES_PER_FAMILY: usize = 100;
/// Histogram series, all in one family.
const HISTOGRAMS: usize = 100;
/// Observations per histogram series.
const OBSERVED: u64 = 50;

fn counter_name(family: usize) -> String {
    format!("bench_events_{family}_total")
}

fn series_value(family: usize, series: usize) -> u64 {
    (family * SERIES_PER_FAMILY + series) as u64 + 1
}

fn tachometer_registry() -> Registry {
    let registry = Registry::new();
    for family in 0..COUNTER_FAMILIES {
        let desc: &'static Descriptor = Box::leak(Box::new(Descriptor {
            name: Box::leak(counter_name(family).into_boxed_str()),
            help: "Events counted by the benchmark.",
            kind: MetricKind::Counter,
            labels: &["id"],
            buckets: &[],
        }));
        for series in 0..SERIES_PER_FAMILY {
            let id = series.to_string();
            registry
                .counter(desc, &[&id])
                .add(series_value(family, series));
        }
    }
    static LATENCY: Descriptor = Descriptor {
        name: "bench_latency_seconds",
        help: "Latency observed by the benchmark.",
        kind: MetricKind::Histogram,
        labels: &["id"],
        buckets: BUCKETS,
    };
    for series in 0..HISTOGRAMS {
        let histogram = registry.histogram(&LATENCY, &[&series.to_string()]);
        for i in 0..OBSERVED {
            histogram.observe(observation(i));
        }
    }
    registry
}

fn prometheus_client_registry() -> prometheus_client::registry::Registry {
    type Labels = Vec<(String, String)>;
    let mut registry = prometheus_client::registry::Registry::default();
    for family in 0..COUNTER_FAMILIES {
        let counters = Family::<Labels, PcCounter>::default();
        for series in 0..SERIES_PER_FAMILY {
            counters
                .get_or_create(&vec![("id".to_owned(), series.to_string())])
                .inc_by(series_value(family, series));
        }
        // prometheus-client appends `_total` to counter names itself.
        let name = counter_name(family);
        let name = name.trim_end_matches("_total");
        registry.register(name, "Events counted by the benchmark.", counters);
    }
    let histograms = Family::<Labels, PcHistogram>::new_with_constructor(|| {
        PcHistogram::new(BUCKETS.iter().copied())
    });
    for series in 0..HISTOGRAMS {
        let histogram = histograms.get_or_create(&vec![("id".to_owned(), series.to_string())]);
        for i in 0..OBSERVED {
            histogram.observe(observation(i));
        }
    }
    registry.register(
        "bench_latency_seconds",
        "Latency observed by the benchmark.",
        histograms,
    );
    registry
}

fn prometheus_exporter(recorder: &PrometheusRecorder) -> PrometheusHandle {
    metrics::with_local_recorder(recorder, || {
        for family in 0..COUNTER_FAMILIES {
            let name = counter_name(family);
            metrics::describe_counter!(name.clone(), "Events counted by the benchmark.");
            for series in 0..SERIES_PER_FAMILY {
                metrics::counter!(name.clone(), "id" => series.to_string())
                    .increment(series_value(family, series));
            }
        }
        metrics::describe_histogram!(
            "bench_latency_seconds",
            "Latency observed by the benchmark."
        );
        for series in 0..HISTOGRAMS {
            let histogram =
                metrics::histogram!("bench_latency_seconds", "id" => series.to_string());
            for i in 0..OBSERVED {
                histogram.record(observation(i));
            }
        }
    });
    recorder.handle()
}

/// Checks that an exposition holds every series, so the libraries render the same work.
fn check(library: &str, text: &str, histogram_line: &str) {
    let counters = text
        .lines()
        .filter(|l| l.starts_with("bench_events_"))
        .count();
    let histograms = text
        .lines()
        .filter(|l| l.starts_with(histogram_line))
        .count();
    assert_eq!(
        (counters, histograms),
        (COUNTER_FAMILIES * SERIES_PER_FAMILY, HISTOGRAMS),
        "{library} renders a different set of series"
    );
}

fn render(c: &mut Criterion) {
    let tachometer = tachometer_registry();
    let prometheus_client = prometheus_client_registry();
    let bucketed = prometheus_exporter(
        &PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the buckets are valid")
            .build_recorder(),
    );
    let summaries = prometheus_exporter(&PrometheusBuilder::new().build_recorder());

    let encode = |registry: &prometheus_client::registry::Registry| {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, registry).expect("writing to a String");
        out
    };
    check(
        "tachometer",
        &tachometer.render(),
        "bench_latency_seconds_count",
    );
    check(
        "prometheus-client",
        &encode(&prometheus_client),
        "bench_latency_seconds_count",
    );
    check(
        "metrics-exporter-prometheus",
        &bucketed.render(),
        "bench_latency_seconds_count",
    );
    check(
        "metrics-exporter-prometheus (summaries)",
        &summaries.render(),
        "bench_latency_seconds_count",
    );

    let mut group = c.benchmark_group("render_10k_counters_100_histograms");
    group
        .warm_up_time(WARM_UP)
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    group.bench_function("tachometer", |b| b.iter(|| black_box(tachometer.render())));
    group.bench_function("prometheus_client", |b| {
        b.iter(|| black_box(encode(&prometheus_client)));
    });
    group.bench_function("metrics_exporter_prometheus", |b| {
        b.iter(|| black_box(bucketed.render()));
    });
    group.bench_function("metrics_exporter_prometheus_summaries", |b| {
        b.iter(|| black_box(summaries.render()));
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    render(&mut c);
    c.final_summary();
}
