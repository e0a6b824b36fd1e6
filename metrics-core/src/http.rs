//! HTTP request metrics: the guard `#[track_http]` expands to, and a tower layer.

use std::cell::Cell;
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
        mark_recorded();
    }
}

impl Drop for HttpGuard {
    fn drop(&mut self) {
        if !self.finished {
            let status = if std::thread::panicking() {
                STATUS_PANICKED
            } else {
                STATUS_CLIENT_CLOSED
            };
            self.route.record(status, self.started);
            mark_recorded();
        }
    }
}

thread_local! {
    /// Set when an [`HttpGuard`] records. An `HttpMetricsLayer` clears it before it polls or
    /// drops the request's future on this thread and reads it afterwards: a request whose
    /// handler recorded it is not counted a second time, whatever the layers in between did
    /// to the response.
    static HANDLER_RECORDED: Cell<bool> = const { Cell::new(false) };
}

fn mark_recorded() {
    // During thread teardown there is no layer left to tell.
    let _ = HANDLER_RECORDED.try_with(|recorded| recorded.set(true));
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
        HANDLER_RECORDED, Method, STATUS_CLIENT_CLOSED, STATUS_PANICKED, StatusSeries,
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
    /// It records every request that no `#[track_http]` handler recorded, so a router whose
    /// handlers carry the attribute counts each request exactly once: requests to handlers
    /// without the attribute, requests an extractor rejected before a handler body ran (a
    /// `Path` that does not parse: 400), methods a route does not serve (405), and requests
    /// that matched no route. The route label is the matched route template (axum's
    /// `MatchedPath`); every request that matched no route shares `route="unmatched"`, so
    /// scanners probing random paths add one series per method and status, not one per path.
    /// Apply it with `Router::layer` so that it also sees the fallback.
    ///
    /// Several layers on one request (stacked, or one on a nested router and one outside)
    /// count it once, under the innermost layer's route.
    ///
    /// # Limitations
    ///
    /// The layer learns that a handler recorded a request while it polls or drops the
    /// request's future, on the same thread. So a middleware inside it that moves the
    /// handler to a task of its own hides the handler's count, and the request is counted
    /// twice; and a handler that itself sends a request through a router *without* this
    /// layer, to a `#[track_http]` handler there, hides its own request from the layer.
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

        /// Records only the requests that matched no route, and leaves every matched route
        /// alone, whether or not its handler records.
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

        fn call(&mut self, mut request: Request<B>) -> Self::Future {
            let matched = request.extensions().get::<MatchedPath>();
            let skip = crate::handles::OFF || (self.layer.unmatched_only && matched.is_some());
            let record = (!skip).then(|| Pending {
                series: self.layer.series.clone(),
                method: Method::from_name(request.method().as_str()),
                route: matched.cloned(),
                started: Instant::now(),
            });
            // A second layer on the same request (stacked, or on a nested router) reports to
            // the first one whether the request got counted; a request a handler builds and
            // sends through another router is a new request and is counted on its own.
            let nested = request
                .extensions()
                .get::<UnderHttpMetricsLayer>()
                .is_some();
            if record.is_some() && !nested {
                request.extensions_mut().insert(UnderHttpMetricsLayer);
            }
            ResponseFuture {
                inner: Some(self.inner.call(request)),
                record,
                nested,
                handler_recorded: false,
                unwound: false,
            }
        }
    }

    /// Marks a request that an [`HttpMetricsLayer`] is already counting.
    #[derive(Clone, Copy, Debug)]
    struct UnderHttpMetricsLayer;

    /// A request being timed.
    struct Pending {
        series: Arc<LayerSeries>,
        method: Method,
        /// The matched route template; `None` for a request that matched no route.
        route: Option<MatchedPath>,
        started: Instant,
    }

    impl Pending {
        fn record(&self, status: u16) {
            let route = self
                .route
                .as_ref()
                .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
            self.series.record(self.method, route, status, self.started);
        }
    }

    /// Watches [`HANDLER_RECORDED`] for the span of one poll or drop of a request's future,
    /// unwinding included, and restores the value an enclosing layer was watching; for a
    /// layer nested on the same request, a count seen here is passed on to it.
    struct Watch<'a> {
        recorded: &'a mut bool,
        unwound: &'a mut bool,
        nested: bool,
        outer: bool,
    }

    impl<'a> Watch<'a> {
        fn start(recorded: &'a mut bool, unwound: &'a mut bool, nested: bool) -> Self {
            // `try_with`: a future dropped while its thread shuts down finds no flag, and a
            // panic here could abort an unwinding thread.
            let outer = HANDLER_RECORDED
                .try_with(|flag| flag.replace(false))
                .unwrap_or(false);
            Self {
                recorded,
                unwound,
                nested,
                outer,
            }
        }
    }

    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            let _ = HANDLER_RECORDED.try_with(|flag| {
                let here = flag.get();
                *self.recorded |= here;
                flag.set(self.outer || (self.nested && here));
            });
            if std::thread::panicking() {
                *self.unwound = true;
            }
        }
    }

    /// The status of a request whose future was dropped before it answered.
    fn dropped_status(unwound: bool) -> u16 {
        if unwound || std::thread::panicking() {
            STATUS_PANICKED
        } else {
            STATUS_CLIENT_CLOSED
        }
    }

    pin_project_lite::pin_project! {
        /// The future of [`HttpMetricsService`].
        pub struct ResponseFuture<F> {
            #[pin]
            inner: Option<F>,
            record: Option<Pending>,
            // Another layer on the same request waits to hear whether it got counted.
            nested: bool,
            handler_recorded: bool,
            // A poll panicked: a middleware outside caught it and drops the future later.
            unwound: bool,
        }

        impl<F> PinnedDrop for ResponseFuture<F> {
            fn drop(this: Pin<&mut Self>) {
                let mut this = this.project();
                {
                    // Dropping an unfinished handler future lets its guard record.
                    let _watch = Watch::start(this.handler_recorded, this.unwound, *this.nested);
                    this.inner.set(None);
                }
                if let Some(record) = this.record.take()
                    && !*this.handler_recorded
                {
                    record.record(dropped_status(*this.unwound));
                    if *this.nested {
                        super::mark_recorded();
                    }
                }
            }
        }
    }

    impl<F, ResBody, E> Future for ResponseFuture<F>
    where
        F: Future<Output = Result<Response<ResBody>, E>>,
    {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let Some(inner) = this.inner.as_pin_mut() else {
                // `inner` is emptied only when the future is dropped.
                return Poll::Pending;
            };
            let polled = {
                let _watch = Watch::start(this.handler_recorded, this.unwound, *this.nested);
                inner.poll(cx)
            };
            let output = std::task::ready!(polled);
            if let Some(record) = this.record.take()
                && !*this.handler_recorded
            {
                record.record(match &output {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => STATUS_PANICKED,
                });
                if *this.nested {
                    super::mark_recorded();
                }
            }
            Poll::Ready(output)
        }
    }
}
