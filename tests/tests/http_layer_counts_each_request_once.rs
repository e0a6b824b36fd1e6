//! `HttpMetricsLayer` around `#[track_http]` handlers counts each request exactly once,
//! whatever happens between them: a panic caught by a middleware, a timeout middleware that
//! drops the handler, a middleware that builds a new response, a client that hangs up, and a
//! handler without the attribute that is cancelled. Each test has routes of its own.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tachometer::HttpMetricsLayer;
use tachometer_tests::parse_ok;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Sends `GET path`, waits at most `patience` for an answer, and returns its status, or
/// `None` when the server answered nothing in time (the connection is then dropped).
async fn get_within(addr: SocketAddr, path: &str, patience: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(patience, stream.read_to_end(&mut raw))
        .await
        .ok()?
        .ok()?;
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1)?.parse().ok()
}

/// Every `http_requests_total` series of `route`, as `(method, status, value)`.
async fn requests_of(route: &str) -> Vec<(String, String, f64)> {
    // Recording on drop happens when the server notices the closed connection.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let exposition = parse_ok(&tachometer::global().render());
    let mut series: Vec<_> = exposition
        .matching("http_requests_total", &[("route", route)])
        .into_iter()
        .map(|s| {
            (
                s.labels["method"].clone(),
                s.labels["status"].clone(),
                s.value,
            )
        })
        .collect();
    series.sort_by(|a, b| a.partial_cmp(b).unwrap());
    series
}

fn one(status: &str) -> Vec<(String, String, f64)> {
    vec![("GET".to_owned(), status.to_owned(), 1.0)]
}

#[tachometer::track_http(GET, "/once/caught-panic")]
async fn panicking() -> &'static str {
    panic!("the handler fails")
}

#[tokio::test]
async fn a_panic_caught_by_a_middleware_counts_once_as_500() {
    let app = serve(
        Router::new()
            .route("/once/caught-panic", get(panicking))
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/caught-panic", Duration::from_secs(5)).await;
    assert_eq!(status, Some(500));
    assert_eq!(requests_of("/once/caught-panic").await, one("500"));
}

#[tachometer::track_http(GET, "/once/uncaught-panic")]
async fn panicking_uncaught() -> &'static str {
    panic!("the handler fails")
}

#[tokio::test]
async fn an_uncaught_panic_counts_once_as_500() {
    let app = serve(
        Router::new()
            .route("/once/uncaught-panic", get(panicking_uncaught))
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/uncaught-panic", Duration::from_secs(5)).await;
    assert_eq!(status, None);
    assert_eq!(requests_of("/once/uncaught-panic").await, one("500"));
}

#[tachometer::track_http(GET, "/once/timeout")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

async fn time_limit(request: Request, next: Next) -> Response {
    match tokio::time::timeout(Duration::from_millis(100), next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

#[tokio::test]
async fn a_handler_dropped_by_a_timeout_middleware_counts_once_as_499() {
    let app = serve(
        Router::new()
            .route("/once/timeout", get(slow))
            .layer(from_fn(time_limit))
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/timeout", Duration::from_secs(5)).await;
    assert_eq!(status, Some(408));
    // The handler's future was dropped before it answered: the contract's 499.
    assert_eq!(requests_of("/once/timeout").await, one("499"));
}

#[tachometer::track_http(GET, "/once/rebuilt")]
async fn answered() -> &'static str {
    "answer"
}

async fn rebuild(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    (response.status(), "rebuilt").into_response()
}

#[tokio::test]
async fn a_response_rebuilt_by_a_middleware_counts_once() {
    let app = serve(
        Router::new()
            .route("/once/rebuilt", get(answered))
            .layer(from_fn(rebuild))
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/rebuilt", Duration::from_secs(5)).await;
    assert_eq!(status, Some(200));
    assert_eq!(requests_of("/once/rebuilt").await, one("200"));
}

#[tachometer::track_http(GET, "/once/hang-up")]
async fn hanging() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

#[tokio::test]
async fn a_client_that_hangs_up_counts_once_as_499() {
    let app = serve(
        Router::new()
            .route("/once/hang-up", get(hanging))
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/hang-up", Duration::from_millis(200)).await;
    assert_eq!(status, None);
    assert_eq!(requests_of("/once/hang-up").await, one("499"));
}

async fn untracked_hanging() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

async fn untracked() -> &'static str {
    "fine"
}

#[tokio::test]
async fn handlers_without_the_attribute_are_counted_by_the_layer_cancelled_or_not() {
    let app = serve(
        Router::new()
            .route("/once/untracked-hang-up", get(untracked_hanging))
            .route("/once/untracked", get(untracked))
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    let hung_up = get_within(app, "/once/untracked-hang-up", Duration::from_millis(200)).await;
    assert_eq!(hung_up, None);
    let status = get_within(app, "/once/untracked", Duration::from_secs(5)).await;
    assert_eq!(status, Some(200));
    assert_eq!(requests_of("/once/untracked-hang-up").await, one("499"));
    assert_eq!(requests_of("/once/untracked").await, one("200"));
}

#[tachometer::track_http(GET, "/once/stacked/tracked")]
async fn stacked_tracked() -> &'static str {
    "fine"
}

#[tokio::test]
async fn two_layers_on_one_request_count_it_once() {
    let app = serve(
        Router::new()
            .route("/once/stacked/tracked", get(stacked_tracked))
            .route("/once/stacked/untracked", get(untracked))
            .layer(HttpMetricsLayer::new())
            .layer(HttpMetricsLayer::new()),
    )
    .await;
    for path in ["/once/stacked/tracked", "/once/stacked/untracked"] {
        assert_eq!(
            get_within(app, path, Duration::from_secs(5)).await,
            Some(200)
        );
    }
    assert_eq!(requests_of("/once/stacked/tracked").await, one("200"));
    assert_eq!(requests_of("/once/stacked/untracked").await, one("200"));
}

#[tachometer::track_http(GET, "/once/nested/api/tracked")]
async fn nested_tracked() -> &'static str {
    "fine"
}

async fn api_not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

#[tokio::test]
async fn a_layer_on_a_nested_router_and_one_outside_count_each_request_once() {
    let api = Router::new()
        .route("/tracked", get(nested_tracked))
        .route("/untracked", get(untracked))
        .fallback(api_not_found)
        .layer(HttpMetricsLayer::new());
    let app = serve(
        Router::new()
            .nest("/once/nested/api", api)
            .layer(HttpMetricsLayer::new().unmatched_only()),
    )
    .await;
    for (path, status) in [
        ("/once/nested/api/tracked", 200),
        ("/once/nested/api/untracked", 200),
    ] {
        assert_eq!(
            get_within(app, path, Duration::from_secs(5)).await,
            Some(status)
        );
    }
    let missing = get_within(app, "/once/nested/api/missing", Duration::from_secs(5)).await;
    assert_eq!(missing, Some(404));
    assert_eq!(requests_of("/once/nested/api/tracked").await, one("200"));
    assert_eq!(requests_of("/once/nested/api/untracked").await, one("200"));
    // The nested router's fallback: no other test of this binary leaves the routes.
    assert_eq!(requests_of("unmatched").await, one("404"));
}

async fn untracked_panicking() -> &'static str {
    panic!("the handler fails")
}

#[tokio::test]
async fn a_panic_caught_outside_the_layer_counts_as_500() {
    let app = serve(
        Router::new()
            .route("/once/caught-outside", get(untracked_panicking))
            .layer(HttpMetricsLayer::new())
            .layer(tower_http::catch_panic::CatchPanicLayer::new()),
    )
    .await;
    let status = get_within(app, "/once/caught-outside", Duration::from_secs(5)).await;
    assert_eq!(status, Some(500));
    assert_eq!(requests_of("/once/caught-outside").await, one("500"));
}
