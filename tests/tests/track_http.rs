//! `#[track_http]` over real sockets: the status of the real response, 499 for a handler
//! future dropped before it answered, 500 for a panicking handler, and the histogram shape.
//!
//! Every test uses routes of its own, so the tests of this binary can run in parallel while
//! asserting exact values read back from the exposition.

use std::future::pending;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tachometer::{Exporter, ExporterHandle, HttpMetricsLayer};
use tachometer_tests::{Exposition, http_get, parse_ok};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const REQUESTS: &str = "http_requests_total";
const DURATION_COUNT: &str = "http_request_duration_seconds_count";
const DURATION_SUM: &str = "http_request_duration_seconds_sum";
const DURATION_BUCKET: &str = "http_request_duration_seconds_bucket";

/// Serves `router` on a fresh loopback port.
async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A `/metrics` listener on the global registry.
async fn exporter() -> ExporterHandle {
    Exporter::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap()
}

/// Scrapes `/metrics` over HTTP and returns the exposition text.
async fn scrape_text(exporter: &ExporterHandle) -> String {
    let addr = exporter.local_addr();
    let (status, _, body) = tokio::task::spawn_blocking(move || http_get(addr, "/metrics", &[]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    body
}

/// Scrapes `/metrics` over HTTP and parses what a Prometheus server would read.
async fn scrape(exporter: &ExporterHandle) -> Exposition {
    parse_ok(&scrape_text(exporter).await)
}

/// Sends `GET path` and reads the response; `None` when the server closed the connection
/// without answering.
async fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // A reset connection is a server that did not answer, like an orderly close.
    let _ = stream.read_to_end(&mut raw).await;
    let head = String::from_utf8_lossy(&raw);
    head.lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
}

/// Sends `GET path` and hangs up after `patience`, as `curl --max-time` does. Returns true
/// when the client gave up before any response arrived.
async fn get_and_give_up(addr: SocketAddr, path: &str, patience: Duration) -> bool {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0_u8; 1];
    tokio::time::timeout(patience, stream.read(&mut first))
        .await
        .is_err()
}

/// Scrapes until `ready` holds for the exposition, for at most 20 s; returns the last one.
async fn scrape_until(
    exporter: &ExporterHandle,
    ready: impl Fn(&Exposition) -> bool,
) -> Exposition {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let exposition = scrape(exporter).await;
        if ready(&exposition) || Instant::now() > deadline {
            return exposition;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn labels<'a>(route: &'a str, status: &'a str) -> [(&'a str, &'a str); 3] {
    [("method", "GET"), ("route", route), ("status", status)]
}

/// Statuses that have a `http_requests_total` series for `route`.
fn statuses_of(exposition: &Exposition, route: &str) -> Vec<String> {
    let mut statuses: Vec<String> = exposition
        .matching(REQUESTS, &[("route", route)])
        .iter()
        .map(|s| s.labels["status"].clone())
        .collect();
    statuses.sort();
    statuses
}

#[tachometer::track_http(GET, "/never-answers")]
async fn never_answers() -> &'static str {
    pending::<()>().await;
    "unreachable"
}

#[tokio::test]
async fn handler_future_dropped_mid_flight_records_499() {
    let exporter = exporter().await;

    let outcome = tokio::time::timeout(Duration::from_millis(50), never_answers()).await;
    assert!(outcome.is_err(), "the handler never answers");

    let exposition = scrape(&exporter).await;
    let route = "/never-answers";
    assert_eq!(exposition.value(REQUESTS, &labels(route, "499")), Some(1.0));
    assert_eq!(
        exposition.value(DURATION_COUNT, &labels(route, "499")),
        Some(1.0)
    );
    assert_eq!(statuses_of(&exposition, route), ["499"]);
}

#[tachometer::track_http(GET, "/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(2)).await;
    "finally"
}

/// Case C5: clients that give up after 0.2 s on a 2 s handler are counted, with their
/// latency, as 499.
#[tokio::test]
async fn cancelled_requests_do_not_vanish_from_counts_and_latency() {
    let exporter = exporter().await;
    let app = serve(Router::new().route("/slow", get(slow))).await;

    for _ in 0..5 {
        assert!(get_and_give_up(app, "/slow", Duration::from_millis(200)).await);
    }

    let route = "/slow";
    let exposition = scrape_until(&exporter, |e| {
        e.value(REQUESTS, &labels(route, "499")) == Some(5.0)
    })
    .await;
    assert_eq!(exposition.value(REQUESTS, &labels(route, "499")), Some(5.0));
    assert_eq!(
        exposition.value(DURATION_COUNT, &labels(route, "499")),
        Some(5.0)
    );
    let sum = exposition
        .value(DURATION_SUM, &labels(route, "499"))
        .unwrap();
    assert!(
        (0.9..10.0).contains(&sum),
        "sum of five cancellations: {sum}"
    );

    // Long after the handlers would have finished, nothing turns up as 200.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let exposition = scrape(&exporter).await;
    assert_eq!(statuses_of(&exposition, route), ["499"]);
    assert_eq!(exposition.value(REQUESTS, &labels(route, "499")), Some(5.0));
}

#[tachometer::track_http(GET, "/panics/uncaught")]
async fn panics_uncaught() -> &'static str {
    tokio::task::yield_now().await;
    panic!("handler failure on purpose");
}

/// Without a panic-catching layer, a panicking handler takes its connection down: the
/// client gets no response at all. The request is still recorded once, as 500.
#[tokio::test]
async fn panicking_handler_without_a_catching_layer_records_500() {
    let exporter = exporter().await;
    let app = serve(Router::new().route("/panics/uncaught", get(panics_uncaught))).await;

    assert_eq!(get_status(app, "/panics/uncaught").await, None);

    let route = "/panics/uncaught";
    let exposition = scrape(&exporter).await;
    assert_eq!(exposition.value(REQUESTS, &labels(route, "500")), Some(1.0));
    assert_eq!(
        exposition.value(DURATION_COUNT, &labels(route, "500")),
        Some(1.0)
    );
    assert_eq!(statuses_of(&exposition, route), ["500"]);
}

#[tachometer::track_http(GET, "/panics/caught")]
async fn panics_caught() -> &'static str {
    tokio::task::yield_now().await;
    panic!("handler failure on purpose");
}

/// Behind tower-http's `CatchPanicLayer` the client gets a 500 response, and the request is
/// recorded exactly once as 500 (the layer's catch does not record it a second time).
#[tokio::test]
async fn panicking_handler_behind_catch_panic_records_500_once() {
    let exporter = exporter().await;
    let router = Router::new()
        .route("/panics/caught", get(panics_caught))
        .layer(tower_http::catch_panic::CatchPanicLayer::new());
    let app = serve(router).await;

    assert_eq!(get_status(app, "/panics/caught").await, Some(500));
    assert_eq!(get_status(app, "/panics/caught").await, Some(500));

    let route = "/panics/caught";
    let exposition = scrape(&exporter).await;
    assert_eq!(exposition.value(REQUESTS, &labels(route, "500")), Some(2.0));
    assert_eq!(
        exposition.value(DURATION_COUNT, &labels(route, "500")),
        Some(2.0)
    );
    assert_eq!(statuses_of(&exposition, route), ["500"]);
}

#[tachometer::track_http(GET, "/users/{id}")]
async fn user(Path(id): Path<u32>) -> String {
    tokio::time::sleep(Duration::from_millis(10)).await;
    format!("user {id}")
}

/// Case C2: the latency histogram has `_bucket` lines with the contract's bounds, never
/// `quantile` lines.
#[tokio::test]
async fn latency_histogram_is_exported_with_buckets_not_as_a_summary() {
    let exporter = exporter().await;
    let app = serve(Router::new().route("/users/{id}", get(user))).await;

    for id in 1..=3 {
        assert_eq!(get_status(app, &format!("/users/{id}")).await, Some(200));
    }

    let exposition = scrape(&exporter).await;
    let route = "/users/{id}";
    let series = labels(route, "200");
    let buckets = exposition.matching(DURATION_BUCKET, &series);
    let bounds: Vec<&str> = buckets.iter().map(|s| s.labels["le"].as_str()).collect();
    assert_eq!(
        bounds,
        [
            "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf"
        ]
    );
    let inf = buckets.iter().find(|s| s.labels["le"] == "+Inf").unwrap();
    assert_eq!(inf.value, 3.0);
    assert_eq!(exposition.value(DURATION_COUNT, &series), Some(3.0));
    let sum = exposition.value(DURATION_SUM, &series).unwrap();
    assert!(sum >= 0.03, "three 10 ms requests took {sum} s in total");
    assert_eq!(
        exposition.types.get("http_request_duration_seconds"),
        Some(&"histogram".to_owned())
    );

    let text = scrape_text(&exporter).await;
    assert!(!text.contains("quantile="));
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("http_request_duration_seconds_bucket{"))
            .filter(|l| l.contains("/users/{id}"))
            .count(),
        10
    );
}

#[derive(Debug)]
enum ParseError {
    NotANumber,
}

impl From<std::num::ParseIntError> for ParseError {
    fn from(_: std::num::ParseIntError) -> Self {
        Self::NotANumber
    }
}

impl IntoResponse for ParseError {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::UNPROCESSABLE_ENTITY, format!("{self:?}")).into_response()
    }
}

#[tachometer::track_http(GET, "/double/{n}")]
async fn double(Path(n): Path<String>) -> Result<impl IntoResponse, ParseError> {
    let n: i64 = n.parse()?;
    if n < 0 {
        return Ok((StatusCode::BAD_REQUEST, "negative".to_owned()));
    }
    Ok((StatusCode::OK, (2 * n).to_string()))
}

trait Greeting: Send + Sync + 'static {
    fn greet(&self) -> String;
}

struct English;

impl Greeting for English {
    fn greet(&self) -> String {
        "hello".to_owned()
    }
}

#[tachometer::track_http(GET, "/greet")]
async fn greet<G: Greeting>(State(greeting): State<Arc<G>>) -> impl IntoResponse {
    let text = greeting.greet();
    if text.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    text.into_response()
}

struct Inventory {
    items: Vec<&'static str>,
}

impl Inventory {
    #[tachometer::track_http(GET, "/inventory/{index}")]
    async fn item(&self, index: usize) -> Result<String, StatusCode> {
        tokio::task::yield_now().await;
        let item = self.items.get(index).ok_or(StatusCode::NOT_FOUND)?;
        Ok((*item).to_owned())
    }
}

/// The status label is the status of the response the handler really produced: through
/// `?` on a `Result`, an early `return` in an `impl IntoResponse` handler, a generic
/// handler and a `&self` method.
#[tokio::test]
async fn status_comes_from_the_real_response() {
    let exporter = exporter().await;
    let inventory = Arc::new(Inventory {
        items: vec!["bolt", "nut"],
    });
    let router = Router::new()
        .route("/double/{n}", get(double))
        .route("/greet", get(greet::<English>))
        .route(
            "/inventory/{index}",
            get(move |Path(index): Path<usize>| {
                let inventory = inventory.clone();
                async move { inventory.item(index).await }
            }),
        )
        .with_state(Arc::new(English));
    let app = serve(router).await;

    for (path, status) in [
        ("/double/21", 200),
        ("/double/-1", 400),
        ("/double/x", 422),
        ("/double/y", 422),
        ("/greet", 200),
        ("/inventory/1", 200),
        ("/inventory/7", 404),
    ] {
        assert_eq!(get_status(app, path).await, Some(status), "{path}");
    }

    let exposition = scrape(&exporter).await;
    assert_eq!(
        statuses_of(&exposition, "/double/{n}"),
        ["200", "400", "422"]
    );
    for (status, count) in [("200", 1.0), ("400", 1.0), ("422", 2.0)] {
        let series = labels("/double/{n}", status);
        assert_eq!(exposition.value(REQUESTS, &series), Some(count));
        assert_eq!(exposition.value(DURATION_COUNT, &series), Some(count));
    }
    assert_eq!(
        exposition.value(REQUESTS, &labels("/greet", "200")),
        Some(1.0)
    );
    assert_eq!(
        statuses_of(&exposition, "/inventory/{index}"),
        ["200", "404"]
    );
    assert_eq!(
        exposition.value(REQUESTS, &labels("/inventory/{index}", "404")),
        Some(1.0)
    );
}

#[tachometer::track_http(GET, "/orders/{id}")]
async fn order(Path(id): Path<u64>) -> String {
    format!("order {id}")
}

/// `#[track_http]` handlers with `HttpMetricsLayer::unmatched_only()` on the router: each
/// request is counted once, matched ones by the handler, the rest as `route="unmatched"`.
#[tokio::test]
async fn handlers_and_the_unmatched_only_layer_count_each_request_once() {
    let exporter = exporter().await;
    let router = Router::new()
        .route("/orders/{id}", get(order))
        .layer(HttpMetricsLayer::new().unmatched_only());
    let app = serve(router).await;

    for id in 1..=3 {
        assert_eq!(get_status(app, &format!("/orders/{id}")).await, Some(200));
    }
    for probe in ["/.env", "/wp-admin", "/orders", "/orders/1/extra"] {
        assert_eq!(get_status(app, probe).await, Some(404), "{probe}");
    }

    let exposition = scrape(&exporter).await;
    assert_eq!(
        exposition.value(REQUESTS, &labels("/orders/{id}", "200")),
        Some(3.0)
    );
    assert_eq!(statuses_of(&exposition, "/orders/{id}"), ["200"]);
    assert_eq!(
        exposition.value(REQUESTS, &labels("unmatched", "404")),
        Some(4.0)
    );
    assert_eq!(statuses_of(&exposition, "unmatched"), ["404"]);
}
