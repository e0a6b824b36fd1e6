//! The runtime's own metric families: the metric contract.
//!
//! These names, kinds, labels and buckets are the contract tachometer keeps with
//! dashboards and alert rules: every family below is rendered from start-up (with its
//! `# HELP` and `# TYPE` lines), and they do not change between releases without notice.
//!
//! | name | kind | labels | recorded by | meaning |
//! | --- | --- | --- | --- | --- |
//! | `http_requests_total` | counter | `method`, `route`, `status` | `#[track_http]`, [`HttpMetricsLayer`](crate::HttpMetricsLayer) | HTTP requests finished, cancelled (499) or panicked (500) |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `status` | the same | time from handler entry to response, cancellation or panic |
//! | `websocket_connections_active` | gauge | `scope` | `#[ws_scoped]` | WebSocket connections open now |
//! | `websocket_connections_opened_total` | counter | `scope` | `#[ws_scoped]` | WebSocket connections ever opened |
//! | `websocket_connection_duration_seconds` | histogram | `scope` | `#[ws_scoped]` | how long closed connections stayed open |
//! | `database_records` | gauge | `table` | `tachometer-db` | rows in a tracked table, exact or estimated; absent until the table's first successful refresh, never a made-up 0 |
//! | `database_records_refresh_errors_total` | counter | `table` | `tachometer-db` | failed refreshes of `database_records` (unreachable database, missing table, timeout) |
//! | `database_records_last_refresh_timestamp_seconds` | gauge | `table` | `tachometer-db` | Unix time of the table's last successful refresh: how stale `database_records` is |
//! | `database_records_refresh_duration_seconds` | histogram | `table` | `tachometer-db` | time one refresh of one table took |
//! | `database_updates_skipped_total` | counter | `type` | `tachometer-db`'s debouncer | database writes skipped because the same entity was written less than an interval ago |
//!
//! Label values:
//!
//! - `method`: `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`, `CONNECT`,
//!   `TRACE`, anything else `other`.
//! - `route`: the route template (`/v1/sessions/{id}`), never the raw path; requests that
//!   match no route share `unmatched`, so probes of random paths cannot grow the series.
//! - `status`: the numeric status of the response; `499` for a handler future dropped
//!   before it answered (the client hung up), `500` for a handler that panicked.
//! - `scope`: `user`, `session`, `machine` (present at 0 from start-up), or a scope the
//!   application names in `#[ws_scoped("...")]`.
//! - `table`: the label the application gives a tracked table, not necessarily its SQL name.
//! - `type`: the kind of write the debouncer skipped (`session`, `machine`).
//!
//! Buckets are [`HTTP_DURATION_BUCKETS`], [`WEBSOCKET_DURATION_BUCKETS`] and
//! [`REFRESH_DURATION_BUCKETS`]; [`Registry::set_buckets`] replaces them before first use.

use crate::descriptor::{Descriptor, MetricKind};
use crate::registry::Registry;

/// Buckets of `http_request_duration_seconds`, in seconds.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// Buckets of `websocket_connection_duration_seconds`, in seconds.
pub const WEBSOCKET_DURATION_BUCKETS: &[f64] = &[
    1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 86400.0,
];

/// Buckets of `database_records_refresh_duration_seconds`, in seconds.
pub const REFRESH_DURATION_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

/// Buckets for histograms that arrive through the `metrics` facade without a configuration.
pub const DEFAULT_BUCKETS: &[f64] = HTTP_DURATION_BUCKETS;

/// The scopes of WebSocket connections known to the runtime.
pub const WEBSOCKET_SCOPES: &[&str] = &["user", "session", "machine"];

/// `http_requests_total{method, route, status}`.
pub static HTTP_REQUESTS_TOTAL: Descriptor = Descriptor {
    name: "http_requests_total",
    help: "HTTP requests finished, cancelled (status 499) or panicked (status 500).",
    kind: MetricKind::Counter,
    labels: &["method", "route", "status"],
    buckets: &[],
};

/// `http_request_duration_seconds{method, route, status}`.
pub static HTTP_REQUEST_DURATION_SECONDS: Descriptor = Descriptor {
    name: "http_request_duration_seconds",
    help: "Time from handler entry to response, cancellation or panic.",
    kind: MetricKind::Histogram,
    labels: &["method", "route", "status"],
    buckets: HTTP_DURATION_BUCKETS,
};

/// `websocket_connections_active{scope}`.
pub static WEBSOCKET_CONNECTIONS_ACTIVE: Descriptor = Descriptor {
    name: "websocket_connections_active",
    help: "WebSocket connections open now.",
    kind: MetricKind::Gauge,
    labels: &["scope"],
    buckets: &[],
};

/// `websocket_connections_opened_total{scope}`.
pub static WEBSOCKET_CONNECTIONS_OPENED_TOTAL: Descriptor = Descriptor {
    name: "websocket_connections_opened_total",
    help: "WebSocket connections ever opened.",
    kind: MetricKind::Counter,
    labels: &["scope"],
    buckets: &[],
};

/// `websocket_connection_duration_seconds{scope}`.
pub static WEBSOCKET_CONNECTION_DURATION_SECONDS: Descriptor = Descriptor {
    name: "websocket_connection_duration_seconds",
    help: "How long closed WebSocket connections stayed open.",
    kind: MetricKind::Histogram,
    labels: &["scope"],
    buckets: WEBSOCKET_DURATION_BUCKETS,
};

/// `database_records{table}`.
pub static DATABASE_RECORDS: Descriptor = Descriptor {
    name: "database_records",
    help: "Rows in a tracked table (exact or estimated).",
    kind: MetricKind::Gauge,
    labels: &["table"],
    buckets: &[],
};

/// `database_records_refresh_errors_total{table}`.
pub static DATABASE_RECORDS_REFRESH_ERRORS_TOTAL: Descriptor = Descriptor {
    name: "database_records_refresh_errors_total",
    help: "Failed refreshes of database_records.",
    kind: MetricKind::Counter,
    labels: &["table"],
    buckets: &[],
};

/// `database_records_last_refresh_timestamp_seconds{table}`.
pub static DATABASE_RECORDS_LAST_REFRESH_TIMESTAMP_SECONDS: Descriptor = Descriptor {
    name: "database_records_last_refresh_timestamp_seconds",
    help: "Unix time of the last successful refresh of database_records.",
    kind: MetricKind::Gauge,
    labels: &["table"],
    buckets: &[],
};

/// `database_records_refresh_duration_seconds{table}`.
pub static DATABASE_RECORDS_REFRESH_DURATION_SECONDS: Descriptor = Descriptor {
    name: "database_records_refresh_duration_seconds",
    help: "Time one refresh of one table took.",
    kind: MetricKind::Histogram,
    labels: &["table"],
    buckets: REFRESH_DURATION_BUCKETS,
};

/// `database_updates_skipped_total{type}`.
pub static DATABASE_UPDATES_SKIPPED_TOTAL: Descriptor = Descriptor {
    name: "database_updates_skipped_total",
    help: "Database writes skipped because of debouncing.",
    kind: MetricKind::Counter,
    labels: &["type"],
    buckets: &[],
};

/// Every built-in family, in rendering order.
pub static ALL: &[&Descriptor] = &[
    &HTTP_REQUESTS_TOTAL,
    &HTTP_REQUEST_DURATION_SECONDS,
    &WEBSOCKET_CONNECTIONS_ACTIVE,
    &WEBSOCKET_CONNECTIONS_OPENED_TOTAL,
    &WEBSOCKET_CONNECTION_DURATION_SECONDS,
    &DATABASE_RECORDS,
    &DATABASE_RECORDS_REFRESH_ERRORS_TOTAL,
    &DATABASE_RECORDS_LAST_REFRESH_TIMESTAMP_SECONDS,
    &DATABASE_RECORDS_REFRESH_DURATION_SECONDS,
    &DATABASE_UPDATES_SKIPPED_TOTAL,
];

/// Makes every built-in family present, with the known WebSocket scopes at zero.
pub(crate) fn describe_all(registry: &Registry) {
    for desc in ALL {
        registry.describe(desc);
    }
    for scope in WEBSOCKET_SCOPES {
        let _ = registry.gauge(&WEBSOCKET_CONNECTIONS_ACTIVE, &[scope]);
        let _ = registry.counter(&WEBSOCKET_CONNECTIONS_OPENED_TOTAL, &[scope]);
    }
}
