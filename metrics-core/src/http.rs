//! HTTP request metrics: the guard `#[track_http]` expands to, and a tower layer.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Instant;

use crate::builtin::{HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS_TOTAL};
use crate::handles::{Counter, Histogram};
use crate::registry::{Registry, global};

/// Status recorded for a handler future dropped before it produced a response.
pub const STATUS_CLIENT_CLOSED: u16 = 499;
/// Status recorded for a handler that panicked.
pub const STATUS_PANICKED: u16 = 500;

/// The `method` label: the nine standard methods, everything else `other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `CONNECT`
    Connect,
    /// `TRACE`
    Trace,
    /// Any other method.
    Other,
}

impl Method {
    /// The label value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Connect => "CONNECT",
            Self::Trace => "TRACE",
            Self::Other => "other",
        }
    }

    /// The method named `name` (upper case, as on the wire), or [`Method::Other`].
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            "CONNECT" => Self::Connect,
            "TRACE" => Self::Trace,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two series one request writes.
#[derive(Clone, Debug)]
struct StatusSeries {
    requests: Counter,
    duration: Histogram,
}

impl StatusSeries {
    fn new(registry: &Registry, method: Method, route: &str, status: u16) -> Self {
        let status = itoa::Buffer::new().format(status).to_owned();
        let labels = [method.as_str(), route, &status];
        Self {
            requests: registry.counter(&HTTP_REQUESTS_TOTAL, &labels),
            duration: registry.histogram(&HTTP_REQUEST_DURATION_SECONDS, &labels),
        }
    }

    fn record(&self, started: Instant) {
        self.duration.observe_duration(started.elapsed());
        self.requests.inc();
    }
}

/// How many statuses one route remembers handles for without a registry lookup.
const CACHED_STATUSES: usize = 8;

/// One instrumented handler: its method, route template, and the handles of the statuses it
/// has answered with. `#[track_http]` places one in a `static` per handler.
pub struct HttpRoute {
    method: Method,
    route: &'static str,
    statuses: [AtomicU16; CACHED_STATUSES],
    series: [OnceLock<StatusSeries>; CACHED_STATUSES],
}

impl HttpRoute {
    /// A handler answering `method` on the route template `route`.
    #[must_use]
    pub const fn new(method: Method, route: &'static str) -> Self {
        Self {
            method,
            route,
            statuses: [const { AtomicU16::new(0) }; CACHED_STATUSES],
            series: [const { OnceLock::new() }; CACHED_STATUSES],
        }
    }

    /// Starts timing one request. The guard records on [`HttpGuard::finish`], or when it is
    /// dropped unfinished: as 500 during a panic, as 499 otherwise.
    #[must_use]
    pub fn start(&'static self) -> HttpGuard {
        HttpGuard {
            route: self,
            // With instrumentation compiled out there is nothing to time: no clock read.
            started: (!crate::handles::OFF).then(Instant::now),
            finished: false,
        }
    }

    fn record(&self, status: u16, started: Option<Instant>) {
        let Some(started) = started else {
            return;
        };
        for (slot, series) in self.statuses.iter().zip(&self.series) {
            let current = slot.load(Ordering::Acquire);
            let claimed = current == status
                || (current == 0
                    && match slot.compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => true,
                        Err(other) => other == status,
                    });
            if claimed {
                series
                    .get_or_init(|| StatusSeries::new(global(), self.method, self.route, status))
                    .record(started);
                return;
            }
        }
        StatusSeries::new(global(), self.method, self.route, status).record(started);
    }
}

impl fmt::Debug for HttpRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRoute")
            .field("method", &self.method)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

/// Times one request of an [`HttpRoute`] and records it exactly once.
#[derive(Debug)]
pub struct HttpGuard {
    route: &'static HttpRoute,
    /// `None` when the `off` feature compiled instrumentation out.
    started: Option<Instant>,
    finished: bool,
}

impl HttpGuard {
    /// Records the request with the status of its response.
    pub fn finish(mut self, status: u16) {
        self.finished = true;
        self.route.record(status, self.started);
    }

    /// Records the request with the status of `response`, and marks the response as
    /// recorded so that an [`HttpMetricsLayer`] around the router does not count it again.
    #[cfg(feature = "axum")]
    pub fn finish_response(self, response: &mut axum::response::Response) {
        response.extensions_mut().insert(RecordedByHandler);
        self.finish(response.status().as_u16());
    }
}

/// Marks a response whose request a `#[track_http]` handler has recorded.
#[cfg(feature = "axum")]
#[derive(Clone, Copy, Debug)]
struct RecordedByHandler;

impl Drop for HttpGuard {
    fn drop(&mut self) {
        if !self.finished {
            let status = if std::thread::panicking() {
                STATUS_PANICKED
            } else {
                STATUS_CLIENT_CLOSED
            };
            self.route.record(status, self.started);
        }
    }
}

/// Route label given to requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[cfg(feature = "axum")]
pub use layer::{HttpMetricsLayer, HttpMetricsService, ResponseFuture};

#[cfg(feature = "axum")]
mod layer {
    use std::collections::HashMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, PoisonError, RwLock};
    use std::task::{Context, Poll};
    use std::time::Instant;

    use axum::extract::MatchedPath;
    use http::{Request, Response};

    use super::{
        Method, RecordedByHandler, STATUS_CLIENT_CLOSED, STATUS_PANICKED, StatusSeries,
        UNMATCHED_ROUTE,
    };
    use crate::registry::{Registry, global};

    type SeriesKey = (Method, Arc<str>, u16);

    /// Handles of the series the layer has written, keyed by method, route and status.
    #[derive(Default)]
    struct LayerSeries {
        registry: Registry,
        map: RwLock<HashMap<SeriesKey, StatusSeries>>,
    }

    impl LayerSeries {
        fn record(&self, method: Method, route: &str, status: u16, started: Instant) {
            let key = (method, Arc::from(route), status);
            let cached = self
                .map
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                .cloned();
            let series = cached.unwrap_or_else(|| {
                let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
                map.entry(key)
                    .or_insert_with(|| StatusSeries::new(&self.registry, method, route, status))
                    .clone()
            });
            series.record(started);
        }
    }

    /// A tower layer that records `http_requests_total` and `http_request_duration_seconds`
    /// for the requests of an axum router.
    ///
    /// The route label is the matched route template (axum's `MatchedPath`); every request
    /// that matched no route shares `route="unmatched"`, so scanners probing random paths add
    /// one series per method and status, not one per path. Apply it with `Router::layer` so
    /// that it also sees the fallback.
    #[derive(Clone)]
    pub struct HttpMetricsLayer {
        series: Arc<LayerSeries>,
        unmatched_only: bool,
    }

    impl std::fmt::Debug for HttpMetricsLayer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("HttpMetricsLayer")
                .field("unmatched_only", &self.unmatched_only)
                .finish_non_exhaustive()
        }
    }

    impl Default for HttpMetricsLayer {
        fn default() -> Self {
            Self::new()
        }
    }

    impl HttpMetricsLayer {
        /// Records every request, into the global registry.
        #[must_use]
        pub fn new() -> Self {
            Self::with_registry(global().clone())
        }

        /// Records every request, into `registry`.
        #[must_use]
        pub fn with_registry(registry: Registry) -> Self {
            Self {
                series: Arc::new(LayerSeries {
                    registry,
                    map: std::sync::RwLock::default(),
                }),
                unmatched_only: false,
            }
        }

        /// Leaves the requests of matched routes to the handlers' `#[track_http]`. Use it on
        /// a router whose handlers carry the attribute, so that no request is counted twice.
        ///
        /// The layer still records a matched request that never reached a handler body and
        /// so was not recorded there: an extractor's rejection (a `Path` that does not
        /// parse, a JSON body that does not deserialize) or a method the route does not
        /// serve (405). A matched request dropped before it answers is left to the handler,
        /// which records it as 499 if its body had started.
        #[must_use]
        pub fn unmatched_only(mut self) -> Self {
            self.unmatched_only = true;
            self
        }
    }

    impl<S> tower::Layer<S> for HttpMetricsLayer {
        type Service = HttpMetricsService<S>;

        fn layer(&self, inner: S) -> Self::Service {
            HttpMetricsService {
                inner,
                layer: self.clone(),
            }
        }
    }

    /// The service [`HttpMetricsLayer`] wraps around a router.
    #[derive(Clone, Debug)]
    pub struct HttpMetricsService<S> {
        inner: S,
        layer: HttpMetricsLayer,
    }

    impl<S, B, ResBody> tower::Service<Request<B>> for HttpMetricsService<S>
    where
        S: tower::Service<Request<B>, Response = Response<ResBody>>,
    {
        type Response = Response<ResBody>;
        type Error = S::Error;
        type Future = ResponseFuture<S::Future>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, request: Request<B>) -> Self::Future {
            let matched = request.extensions().get::<MatchedPath>();
            let record = (!crate::handles::OFF).then(|| Pending {
                series: self.layer.series.clone(),
                method: Method::from_name(request.method().as_str()),
                left_to_handler: self.layer.unmatched_only && matched.is_some(),
                route: matched.cloned(),
                started: Instant::now(),
                finished: false,
            });
            ResponseFuture {
                inner: self.inner.call(request),
                record,
            }
        }
    }

    /// A request being timed; records on drop unless finished first.
    struct Pending {
        series: Arc<LayerSeries>,
        method: Method,
        /// The matched route template; `None` for a request that matched no route.
        route: Option<MatchedPath>,
        started: Instant,
        finished: bool,
        /// A matched route under [`HttpMetricsLayer::unmatched_only`]: its handler records
        /// it, so the layer records only a response the handler did not mark.
        left_to_handler: bool,
    }

    impl Pending {
        fn finish<ResBody>(mut self, response: Result<&Response<ResBody>, ()>) {
            self.finished = true;
            let status = match response {
                Ok(response) if response.extensions().get::<RecordedByHandler>().is_some() => {
                    return;
                }
                Ok(response) => response.status().as_u16(),
                Err(()) => STATUS_PANICKED,
            };
            self.record(status);
        }

        fn record(&self, status: u16) {
            let route = self
                .route
                .as_ref()
                .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
            self.series.record(self.method, route, status, self.started);
        }
    }

    impl Drop for Pending {
        fn drop(&mut self) {
            if self.finished || self.left_to_handler {
                return;
            }
            self.record(if std::thread::panicking() {
                STATUS_PANICKED
            } else {
                STATUS_CLIENT_CLOSED
            });
        }
    }

    pin_project_lite::pin_project! {
        /// The future of [`HttpMetricsService`].
        pub struct ResponseFuture<F> {
            #[pin]
            inner: F,
            record: Option<Pending>,
        }
    }

    impl<F, ResBody, E> Future for ResponseFuture<F>
    where
        F: Future<Output = Result<Response<ResBody>, E>>,
    {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let output = std::task::ready!(this.inner.poll(cx));
            if let Some(record) = this.record.take() {
                record.finish(output.as_ref().map_err(|_| ()));
            }
            Poll::Ready(output)
        }
    }
}
