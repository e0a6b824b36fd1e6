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
//!   family of the metric contract present, so nothing recorded before `/metrics` starts is
//!   lost and a handle cached before set-up keeps counting afterwards.
//! - Handles ([`Counter`], [`Gauge`], [`Histogram`]) are made once and written with atomic
//!   instructions. Histograms fold each observation into its bucket on write: memory is
//!   `buckets + 2` words per series, however long nobody scrapes.
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
//! # Errors
//!
//! Nothing in the runtime panics on bad input. A descriptor used with the wrong label count
//! or kind yields a detached handle and one `tracing` error; an invalid name from the
//! `metrics` facade is dropped the same way. Misuse of the macros is a compile error.

extern crate self as tachometer;

pub mod builtin;
mod descriptor;
#[cfg(feature = "axum")]
mod exporter;
mod facade;
mod handles;
mod http;
mod label;
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
pub use registry::{ConfigError, Registry, global};
pub use text::CONTENT_TYPE;
pub use ws::{Scope, WsConnection, WsScope};

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
    pub use crate::registry::{Registry, global};
    pub use crate::ws::{Scope, WsConnection, WsScope};
}
