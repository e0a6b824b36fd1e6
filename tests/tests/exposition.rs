//! The exposition text: escaping, number formats, histogram shape, HELP/TYPE lines, and
//! the output accepted by `promtool check metrics`.

use std::io::Write;
use std::process::{Command, Stdio};

use tachometer::{Descriptor, MetricKind, Registry};
use tachometer_tests::parse_ok;

static EVENTS: Descriptor = Descriptor {
    name: "websocket_events_total",
    help: "WebSocket messages received, by type.",
    kind: MetricKind::Counter,
    labels: &["event_type"],
    buckets: &[],
};

const AWKWARD_VALUES: [&str; 5] = ["a\"b", "C:\\", "line1\nline2", "x\\\\y", "ü-ok"];

#[test]
fn label_values_with_quotes_backslashes_or_line_breaks_read_back_unchanged() {
    let registry = Registry::new();
    for value in AWKWARD_VALUES {
        registry.counter(&EVENTS, &[value]).inc();
    }
    let text = registry.render();

    let exposition = parse_ok(&text);
    let samples = exposition.matching("websocket_events_total", &[]);
    assert_eq!(samples.len(), 5, "five distinct series:\n{text}");
    for value in AWKWARD_VALUES {
        assert_eq!(
            exposition.value("websocket_events_total", &[("event_type", value)]),
            Some(1.0)
        );
    }
    for raw in [
        r#"websocket_events_total{event_type="a\"b"} 1"#,
        r#"websocket_events_total{event_type="C:\\"} 1"#,
        r#"websocket_events_total{event_type="line1\nline2"} 1"#,
        r#"websocket_events_total{event_type="x\\\\y"} 1"#,
        r#"websocket_events_total{event_type="ü-ok"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == raw),
            "missing line {raw}:\n{text}"
        );
    }
    assert!(!text.lines().any(|l| l.starts_with("line2")));
    promtool_accepts(&text);
}

#[test]
fn exporter_escaping_takes_a_backslash_pair_as_already_escaped() {
    // metrics-exporter-prometheus treats an existing `\\` as an escape it already made, so
    // `x\\y` comes back as `x\y`. Tachometer writes its own escaping for that reason.
    let theirs = metrics_exporter_prometheus::formatting::sanitize_label_value("x\\\\y");
    let exposition = parse_ok(&format!("m_total{{v=\"{theirs}\"}} 1\n"));
    assert_eq!(exposition.samples[0].labels["v"], "x\\y");

    let registry = Registry::new();
    registry.counter(&EVENTS, &["x\\\\y"]).inc();
    let ours = parse_ok(&registry.render());
    assert_eq!(ours.samples[0].labels["event_type"], "x\\\\y");
}

#[test]
fn every_builtin_family_has_one_help_and_one_type_line() {
    let text = Registry::with_builtins().render();
    for desc in tachometer::builtin::ALL {
        let help = format!("# HELP {} ", desc.name);
        let kind = format!("# TYPE {} {}", desc.name, desc.kind);
        assert_eq!(
            text.lines().filter(|l| l.starts_with(&help)).count(),
            1,
            "{}",
            desc.name
        );
        assert_eq!(
            text.lines().filter(|l| *l == kind).count(),
            1,
            "{}",
            desc.name
        );
    }
    let exposition = parse_ok(&text);
    for scope in ["user", "session", "machine"] {
        assert_eq!(
            exposition.value("websocket_connections_active", &[("scope", scope)]),
            Some(0.0)
        );
    }
    promtool_accepts(&text);
}

#[test]
fn histograms_render_buckets_sum_and_count_never_quantiles() {
    let registry = Registry::with_builtins();
    let labels = ["GET", "/users/{id}", "200"];
    let histogram =
        registry.histogram(&tachometer::builtin::HTTP_REQUEST_DURATION_SECONDS, &labels);
    for seconds in [0.0005, 0.003, 0.01, 0.2, 30.0] {
        histogram.observe(seconds);
    }
    let text = registry.render();
    assert!(!text.contains("quantile="));
    let exposition = parse_ok(&text);
    let le: Vec<(String, f64)> = exposition
        .matching(
            "http_request_duration_seconds_bucket",
            &[("route", "/users/{id}")],
        )
        .iter()
        .map(|s| (s.labels["le"].clone(), s.value))
        .collect();
    let expected = [
        ("0.001", 1.0),
        ("0.005", 2.0),
        ("0.01", 3.0),
        ("0.05", 3.0),
        ("0.1", 3.0),
        ("0.5", 4.0),
        ("1", 4.0),
        ("5", 4.0),
        ("10", 4.0),
        ("+Inf", 5.0),
    ];
    let expected: Vec<(String, f64)> = expected
        .iter()
        .map(|(l, v)| ((*l).to_owned(), *v))
        .collect();
    assert_eq!(le, expected);
    assert_eq!(
        exposition.value(
            "http_request_duration_seconds_count",
            &[
                ("method", "GET"),
                ("route", "/users/{id}"),
                ("status", "200")
            ]
        ),
        Some(5.0)
    );
    let sum = exposition
        .value(
            "http_request_duration_seconds_sum",
            &[
                ("method", "GET"),
                ("route", "/users/{id}"),
                ("status", "200"),
            ],
        )
        .unwrap();
    assert!((sum - 30.2135).abs() < 1e-9, "{sum}");
    promtool_accepts(&text);
}

#[test]
fn configured_buckets_replace_the_defaults() {
    let registry = Registry::with_builtins();
    registry
        .set_buckets("http_request_duration_seconds", &[0.25, 2.0])
        .unwrap();
    registry
        .histogram(
            &tachometer::builtin::HTTP_REQUEST_DURATION_SECONDS,
            &["GET", "/", "200"],
        )
        .observe(1.0);
    let exposition = parse_ok(&registry.render());
    let bounds: Vec<&str> = exposition
        .matching("http_request_duration_seconds_bucket", &[])
        .iter()
        .map(|s| s.labels["le"].as_str())
        .collect();
    assert_eq!(bounds, ["0.25", "2", "+Inf"]);
    assert!(
        registry
            .set_buckets("http_request_duration_seconds", &[1.0])
            .is_err()
    );
    assert!(
        registry
            .set_buckets("websocket_connections_active", &[1.0])
            .is_err()
    );
    assert!(
        Registry::new()
            .set_buckets("x_seconds", &[2.0, 1.0])
            .is_err()
    );
}

/// Pipes `text` through `promtool check metrics` and asserts it exits 0 with no findings.
/// Without promtool the check is skipped, unless `TACHOMETER_REQUIRE_SERVICES=1`.
pub fn promtool_accepts(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("TACHOMETER_REQUIRE_SERVICES").as_deref() != Ok("1") => {
            eprintln!("skipping promtool check: {e}");
            return;
        }
        Err(e) => panic!("promtool is required (TACHOMETER_REQUIRE_SERVICES=1): {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "promtool check metrics failed ({}):\n{}{}\n--- input ---\n{text}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
