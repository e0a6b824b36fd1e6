//! `catalog!` and `#[derive(LabelValue)]` at run time: what `register` makes present, how
//! label values read back from the exposition, and the catalog's handle accessors.

use tachometer::{CounterMetric, GaugeMetric, HistogramMetric, LabelValue, Metric, Registry};
use tachometer_tests::parse_ok;

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
    Invalidate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum CacheResult {
    Hit,
    Miss,
    Ok,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Table {
    Accounts,
    #[label = "sessions_v2"]
    Sessions,
}

/// The five raw strings of case C3, as known values of a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum AwkwardEvent {
    #[label = "a\"b"]
    Quote,
    #[label = "C:\\"]
    TrailingBackslash,
    #[label = "line1\nline2"]
    LineFeed,
    #[label = "x\\\\y"]
    TwoBackslashes,
    #[label = "ü-ok"]
    NonAscii,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Kind {
    HTTPError,
    SessionAlive,
    V2Ping,
}

tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
    /// Session cache operations
    /// by operation and result.
    counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
    /// Rows in a tracked table.
    gauge tracked_rows { table: Table }
    /// Time one refresh took.
    histogram refresh_seconds { table: Table } buckets [0.5, 1, 2.5];
    /// Time with the default buckets.
    histogram default_bucket_seconds;
    /// A label named after a Rust keyword.
    counter skipped_writes_total { r#type: Table }
    /// WebSocket messages received, by type.
    counter websocket_events_total { event_type: AwkwardEvent }
    /// Probes by result, the values declared as string literals.
    counter probe_results_total { result: "ok" | "timeout" | "a \"quoted\" one", kind: Kind }
}

#[test]
fn register_makes_every_family_and_label_combination_present_at_zero() {
    let registry = Registry::new();
    register(&registry);
    let parsed = parse_ok(&registry.render());

    assert_eq!(parsed.value("session_alive_events_total", &[]), Some(0.0));
    for operation in ["get", "set", "invalidate"] {
        for result in ["hit", "miss", "ok", "error"] {
            assert_eq!(
                parsed.value(
                    "session_cache_operations_total",
                    &[("operation", operation), ("result", result)]
                ),
                Some(0.0),
                "{operation}/{result}"
            );
        }
    }
    assert_eq!(
        parsed.matching("session_cache_operations_total", &[]).len(),
        12
    );
    assert_eq!(
        parsed.value("tracked_rows", &[("table", "accounts")]),
        Some(0.0)
    );
    assert_eq!(
        parsed.value("tracked_rows", &[("table", "sessions_v2")]),
        Some(0.0)
    );
    assert_eq!(
        parsed.value("skipped_writes_total", &[("type", "accounts")]),
        Some(0.0)
    );
    assert_eq!(
        parsed.value(
            "refresh_seconds_bucket",
            &[("table", "accounts"), ("le", "2.5")]
        ),
        Some(0.0)
    );
    assert_eq!(parsed.matching("refresh_seconds_bucket", &[]).len(), 8);
    assert_eq!(parsed.value("default_bucket_seconds_count", &[]), Some(0.0));
    assert_eq!(
        parsed.matching("default_bucket_seconds_bucket", &[]).len(),
        10
    );

    assert_eq!(parsed.types["session_alive_events_total"], "counter");
    assert_eq!(parsed.types["tracked_rows"], "gauge");
    assert_eq!(parsed.types["refresh_seconds"], "histogram");
    assert_eq!(
        parsed.helps["session_cache_operations_total"],
        "Session cache operations by operation and result."
    );
}

#[test]
fn catalog_types_give_handles_of_their_kind() {
    let registry = Registry::new();
    tracked_rows {
        table: Table::Sessions,
    }
    .gauge(&registry)
    .set(42.0);
    let refresh = refresh_seconds {
        table: Table::Accounts,
    };
    refresh.histogram(&registry).observe(0.75);
    refresh.histogram(&registry).observe(3.0);
    session_cache_operations_total {
        operation: CacheOperation::Set,
        result: CacheResult::Error,
    }
    .counter(&registry)
    .add(2);

    let parsed = parse_ok(&registry.render());
    assert_eq!(
        parsed.value("tracked_rows", &[("table", "sessions_v2")]),
        Some(42.0)
    );
    let bucket = |le: &str| {
        parsed.value(
            "refresh_seconds_bucket",
            &[("table", "accounts"), ("le", le)],
        )
    };
    assert_eq!(bucket("0.5"), Some(0.0));
    assert_eq!(bucket("1"), Some(1.0));
    assert_eq!(bucket("2.5"), Some(1.0));
    assert_eq!(bucket("+Inf"), Some(2.0));
    assert_eq!(
        parsed.value("refresh_seconds_sum", &[("table", "accounts")]),
        Some(3.75)
    );
    assert_eq!(
        parsed.value(
            "session_cache_operations_total",
            &[("operation", "set"), ("result", "error")]
        ),
        Some(2.0)
    );
}

#[test]
fn series_numbering_covers_every_combination_once() {
    assert_eq!(session_cache_operations_total::SERIES, 12);
    assert_eq!(session_alive_events_total::SERIES, 1);
    let mut seen = Vec::new();
    for index in 0..session_cache_operations_total::SERIES {
        let series = session_cache_operations_total::from_index(index).expect("in range");
        assert_eq!(series.index(), index);
        seen.push((series.operation, series.result));
    }
    seen.sort_by_key(|(o, r)| (o.index(), r.index()));
    seen.dedup();
    assert_eq!(seen.len(), 12);
    assert!(session_cache_operations_total::from_index(12).is_none());
    assert_eq!(
        session_cache_operations_total::DESCRIPTOR.labels,
        &["operation", "result"]
    );
    assert_eq!(skipped_writes_total::DESCRIPTOR.labels, &["type"]);
    assert_eq!(refresh_seconds::DESCRIPTOR.buckets, &[0.5, 1.0, 2.5]);
}

#[test]
fn derived_label_values_are_snake_case_unless_overridden() {
    assert_eq!(
        Kind::ALL,
        &[Kind::HTTPError, Kind::SessionAlive, Kind::V2Ping]
    );
    assert_eq!(Kind::HTTPError.as_str(), "http_error");
    assert_eq!(Kind::SessionAlive.as_str(), "session_alive");
    assert_eq!(Kind::V2Ping.as_str(), "v2_ping");
    assert_eq!(Kind::V2Ping.index(), 2);
    assert_eq!(Kind::from_label("session_alive"), Some(Kind::SessionAlive));
    assert_eq!(Kind::from_label("SessionAlive"), None);
    assert_eq!(Table::Sessions.as_str(), "sessions_v2");
    assert_eq!(Table::from_label("sessions"), None);
    assert_eq!(AwkwardEvent::LineFeed.as_str(), "line1\nline2");
    assert_eq!(
        AwkwardEvent::from_label("C:\\"),
        Some(AwkwardEvent::TrailingBackslash)
    );
}

/// C3: label values with quotes, backslashes or line breaks read back unchanged.
#[test]
fn label_values_with_quotes_backslashes_or_line_breaks_round_trip() {
    for raw in ["a\"b", "C:\\", "line1\nline2", "x\\\\y", "ü-ok"] {
        let event = AwkwardEvent::from_label(raw).expect("a declared value");
        tachometer::count!(websocket_events_total, event_type = event);
    }
    let text = tachometer::global().render();
    let parsed = parse_ok(&text);

    let samples = parsed.matching("websocket_events_total", &[]);
    for raw in ["a\"b", "C:\\", "line1\nline2", "x\\\\y", "ü-ok"] {
        assert_eq!(
            parsed.value("websocket_events_total", &[("event_type", raw)]),
            Some(1.0),
            "{raw:?}"
        );
    }
    assert_eq!(samples.iter().filter(|s| s.value == 1.0).count(), 5);
    assert_eq!(
        parsed.value("websocket_events_total", &[("event_type", "unknown")]),
        Some(0.0)
    );
    for line in [
        r#"websocket_events_total{event_type="a\"b"} 1"#,
        r#"websocket_events_total{event_type="C:\\"} 1"#,
        r#"websocket_events_total{event_type="line1\nline2"} 1"#,
        r#"websocket_events_total{event_type="x\\\\y"} 1"#,
        r#"websocket_events_total{event_type="ü-ok"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing line {line}\n{text}"
        );
    }
    assert!(!text.lines().any(|l| l.starts_with("line2")));
}

#[test]
fn labels_declared_as_string_literals_take_literal_values() {
    let registry = Registry::new();
    register(&registry);
    let parsed = parse_ok(&registry.render());
    assert_eq!(parsed.matching("probe_results_total", &[]).len(), 9);
    assert_eq!(
        parsed.value(
            "probe_results_total",
            &[("result", "a \"quoted\" one"), ("kind", "v2_ping")]
        ),
        Some(0.0)
    );

    for _ in 0..3 {
        tachometer::count!(probe_results_total, result = "timeout", kind = Kind::V2Ping);
    }
    tachometer::count!(
        probe_results_total,
        result = "a \"quoted\" one",
        kind = "http_error"
    );
    let parsed = parse_ok(&tachometer::global().render());
    assert_eq!(
        parsed.value(
            "probe_results_total",
            &[("result", "timeout"), ("kind", "v2_ping")]
        ),
        Some(3.0)
    );
    assert_eq!(
        parsed.value(
            "probe_results_total",
            &[("result", "a \"quoted\" one"), ("kind", "http_error")]
        ),
        Some(1.0)
    );
}
