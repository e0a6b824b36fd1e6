//! Prometheus metrics for realtime Rust servers, by annotation.
//!
//! Tachometer keeps one registry per process. Metrics are declared once, in a catalog whose
//! names, labels and buckets the compiler checks, and recorded by attributes on the code
//! that does the work: `#[track_http]` on an axum handler, `#[ws_scoped]` on a WebSocket
//! connection type, `#[count_event]` on any function.
//!
//! # The runtime
//!
//! - [`global()`] is the process registry. It exists from first use, with every built-in
//!   family of the [metric contract](builtin) present, so nothing recorded before
//!   `/metrics` starts is lost and a handle cached before set-up keeps counting afterwards.
//! - Handles ([`Counter`], [`Gauge`], [`Histogram`]) are made once and written with atomic
//!   instructions. Histograms fold each observation into its bucket on write: memory is
//!   fixed per series, however long nobody scrapes. A histogram series keeps two shards
//!   per CPU (a power of two, at most 16), each `buckets + 2` counters rounded up to 128
//!   bytes (512 bytes a series for the default HTTP buckets on a 2-CPU machine), so threads
//!   on different cores record into different cache lines.
//! - [`Registry::render`] writes the Prometheus text format 0.0.4; every histogram renders
//!   as `_bucket`/`_sum`/`_count`, never as a summary. Label values are escaped exactly as
//!   the format defines (`\\`, `\"`, `\n`), so any string reads back unchanged.
//! - [`Exporter`] serves `/metrics` on its own loopback port (9464 by default, never 9090),
//!   optionally behind a bearer token; [`metrics_router`] mounts the same endpoint into an
//!   application's router.
//! - [`install_recorder`] makes direct `metrics::counter!` calls land in the same exposition.
//!
//! ```
//! let registry = tachometer::Registry::with_builtins();
//! let opened = registry.counter(&tachometer::builtin::WEBSOCKET_CONNECTIONS_OPENED_TOTAL, &["user"]);
//! opened.inc();
//! assert!(registry.render().contains("websocket_connections_opened_total{scope=\"user\"} 1\n"));
//! ```
//!
//! # Serving `/metrics`
//!
//! The exporter runs on the application's tokio runtime (the application depends on
//! `tokio` itself; tachometer's macros do not need it). Keep the handle: dropping it stops
//! the listener.
//!
//! ```no_run
//! # async fn serve() -> Result<(), tachometer::ExporterError> {
//! let metrics = tachometer::Exporter::builder()
//!     .bind("127.0.0.1:9464".parse().unwrap())
//!     .start()
//!     .await?;
//! println!("scrape http://{}/metrics", metrics.local_addr());
//! // ... run the application; then, to wait for a scrape in flight:
//! metrics.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! To serve `/metrics` from a router of your own instead, merge [`metrics_router`] into it,
//! or [`ExporterBuilder::router`] for the builder's bearer token check too.
//!
//! # Errors
//!
//! Nothing in the runtime panics on bad input. A descriptor used with the wrong label count
//! or kind yields a detached handle and one `tracing` error; an invalid name from the
//! `metrics` facade is dropped the same way. Misuse of the macros is a compile error.
#![doc = include_str!("catalog.md")]

extern crate self as tachometer;

pub mod builtin;
mod descriptor;
#[cfg(feature = "axum")]
mod exporter;
mod facade;
mod handles;
mod http;
mod label;
mod metric;
mod registry;
mod text;
mod ws;

pub use descriptor::{
    Descriptor, MetricKind, NameError, check_buckets, check_label_name, check_metric_name,
};
#[cfg(feature = "axum")]
pub use exporter::{
    DEFAULT_ADDR, Exporter, ExporterBuilder, ExporterError, ExporterHandle, PROMETHEUS_PORT,
    metrics_router,
};
pub use facade::{InstallError, Recorder, install_recorder};
pub use handles::{Counter, Gauge, Histogram};
pub use http::{
    HttpGuard, HttpRoute, Method, STATUS_CLIENT_CLOSED, STATUS_PANICKED, UNMATCHED_ROUTE,
};
#[cfg(feature = "axum")]
pub use http::{HttpMetricsLayer, HttpMetricsService, ResponseFuture};
pub use label::{LabelCap, LabelValue, OTHER};
pub use metric::{CounterMetric, FromOutcome, GaugeMetric, HistogramMetric, Metric};
pub use registry::{ConfigError, Registry, global};
pub use tachometer_macros::{LabelValue, catalog, count, count_event};
pub use text::CONTENT_TYPE;
pub use ws::{Scope, WsConnection, WsScope};

/// Records the requests of an axum handler.
///
/// `#[track_http(METHOD, "/route/{template}")]` on an `async fn` handler records
/// `http_requests_total` and `http_request_duration_seconds` with the labels `method`,
/// `route` (the template as written, never the raw path) and `status`:
///
/// - the status of the response the handler returns: its value is converted with
///   `IntoResponse`, and the handler's return type becomes [`axum::response::Response`];
/// - `499` when the handler future is dropped before it answers (the client hung up, a
///   timeout fired): the guard that times the request records on drop;
/// - `500` when the handler panics.
///
/// The body stays as written: `self` receivers, generics, `impl IntoResponse`, early
/// `return` and `?` on a `Result` return type all work. The handles are made once per
/// handler and status and live in a `static`, so a request does no registry lookup.
///
/// ```
/// use axum::{Router, extract::Path, routing::get};
///
/// #[tachometer::track_http(GET, "/users/{id}")]
/// async fn user(Path(id): Path<u32>) -> String {
///     format!("user {id}")
/// }
///
/// let app: Router = Router::new().route("/users/{id}", get(user));
/// ```
///
/// # Arguments
///
/// - `METHOD`: one of `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`,
///   `CONNECT`, `TRACE`, upper case.
/// - the route template, a string literal starting with `/`; give the same one to the router.
///   Under `Router::nest`, write the whole template, prefix included
///   (`"/v1/users/{id}"` for `.nest("/v1", Router::new().route("/users/{id}", ..))`), so that
///   it matches what [`HttpMetricsLayer`] records for the requests the handler never sees.
///
/// # Errors
///
/// Compile errors, on the offending token: an unknown method, a template that does not
/// start with `/`, missing arguments, a handler that is not `async` or is `const`, and a
/// return type that does not implement `IntoResponse`.
///
/// ```compile_fail
/// #[tachometer::track_http(FETCH, "/users/{id}")]
/// async fn user() -> &'static str { "user" }
/// ```
///
/// # Limitations
///
/// - Requests that match no route never reach a handler, and neither do requests an
///   extractor rejects (a `Path` that does not parse: 400) or whose method the route does
///   not serve (405). Count them with [`HttpMetricsLayer`] on the router: it records
///   exactly the requests no `#[track_http]` handler recorded.
/// - The `method` label is the one in the attribute. axum also routes `HEAD` requests to a
///   `GET` handler; those count as `GET`.
#[cfg(feature = "axum")]
pub use tachometer_macros::track_http;

/// Counts the values of a struct as open WebSocket connections of one scope.
///
/// `#[ws_scoped("session")]` adds a field `ws_connection: tachometer::WsConnection<Self>` to
/// the struct and implements [`WsScope`] for it. While a value lives it counts in
/// `websocket_connections_active{scope}`; building it counts in
/// `websocket_connections_opened_total{scope}`, dropping it observes the time it was open in
/// `websocket_connection_duration_seconds{scope}`. The decrement happens in the field's
/// `Drop`, so a task that returns, panics or is aborted closes it exactly once, and there is
/// no manual decrement.
///
/// ```
/// #[tachometer::ws_scoped("session")]
/// struct Session {
///     user: String,
/// }
///
/// let session = Session {
///     user: "ada".to_owned(),
///     ws_connection: tachometer::WsConnection::open(),
/// };
/// assert_eq!(session.ws_connection.scope_name(), "session");
/// drop(session);
/// ```
///
/// Build the field with [`WsConnection::open`] or `Default::default()`. A tuple struct gets
/// the connection as its last field. The field has the struct's visibility.
///
/// A clone is a connection of its own: a struct deriving `Clone` opens one connection per
/// clone and closes it when the clone drops, so the gauge stays exact.
///
/// # Arguments
///
/// - `"user"`, `"session"` or `"machine"`: the scopes the runtime knows.
/// - `custom = "device"`: a scope of the application's own, a label value matching
///   `[a-z][a-z0-9_]*`.
/// - `field = name`: the name of the injected field (structs with named fields only).
///
/// ```
/// #[tachometer::ws_scoped(custom = "device", field = connection)]
/// #[derive(Clone)]
/// struct Device<T> {
///     state: T,
/// }
///
/// let device = Device { state: 1_u8, connection: tachometer::WsConnection::open() };
/// assert_eq!(device.connection.scope_name(), "device");
/// ```
///
/// # Errors
///
/// Compile errors: an unknown scope (listing the known ones), an invalid custom scope, an
/// enum, union or unit struct, missing arguments, a field name already taken.
///
/// ```compile_fail
/// #[tachometer::ws_scoped("sesion")]
/// struct Session { user: String }
/// ```
///
/// # Limitations
///
/// Write `#[ws_scoped]` above any `#[derive]`. A derive listed first runs on the struct as
/// written, without the connection field, and its generated code fails with "missing field
/// `ws_connection`".
///
/// [`WsConnection`] implements `Clone`, `Debug` and `Default`, so those derives work on the
/// struct; `PartialEq`, `Hash` and the like do not, because two connections are never the
/// same one. Implement them by hand over the fields that identify a session.
///
/// ```compile_fail
/// #[derive(Clone)]
/// #[tachometer::ws_scoped("user")]
/// struct User { name: String }
/// ```
pub use tachometer_macros::ws_scoped;

/// Items the macros expand to. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use core;
    pub use std;
    pub use std::sync::OnceLock;

    #[cfg(feature = "axum")]
    pub use axum::response::{IntoResponse, Response};

    pub use crate::builtin;
    pub use crate::descriptor::{Descriptor, MetricKind};
    pub use crate::handles::{Counter, Gauge, Histogram};
    pub use crate::http::{HttpGuard, HttpRoute, Method};
    pub use crate::label::LabelValue;
    pub use crate::metric::{
        CounterMetric, CounterSite, FromOutcome, GaugeMetric, HistogramMetric, LabelLiterals,
        Metric, call_once, literal_label, register, static_counter,
    };
    pub use crate::registry::{Registry, global};
    pub use crate::ws::{Scope, WsConnection, WsScope};
}
