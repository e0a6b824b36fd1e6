//! Requests that match a route but never reach the `#[track_http]` handler's body: an
//! extractor rejects them (400) or the route does not serve their method (405). The handler
//! cannot record them, so `HttpMetricsLayer` does, under the route template; a request the
//! handler recorded is not counted a second time.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use tachometer::HttpMetricsLayer;
use tachometer_tests::parse_ok;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tachometer::track_http(GET, "/rejected/{id}")]
async fn item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

/// Sends `method path` on a connection of its own and returns the response status.
async fn status_of(addr: SocketAddr, method: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn requests_rejected_before_the_handler_are_counted_once_under_their_route() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/rejected/{id}", get(item))
        .layer(HttpMetricsLayer::new());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    assert_eq!(status_of(app, "GET", "/rejected/7").await, 200);
    assert_eq!(status_of(app, "GET", "/rejected/8").await, 200);
    assert_eq!(status_of(app, "GET", "/rejected/abc").await, 400);
    assert_eq!(status_of(app, "DELETE", "/rejected/7").await, 405);
    assert_eq!(status_of(app, "GET", "/rejected-nowhere").await, 404);

    let exposition = parse_ok(&tachometer::global().render());
    let requests = |method, route, status| {
        exposition.value(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/rejected/{id}", "200"), Some(2.0));
    assert_eq!(requests("GET", "/rejected/{id}", "400"), Some(1.0));
    assert_eq!(requests("DELETE", "/rejected/{id}", "405"), Some(1.0));
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(
        exposition.sum("http_requests_total", &[("route", "/rejected/{id}")]),
        4.0
    );
    assert_eq!(
        exposition.sum(
            "http_request_duration_seconds_count",
            &[("route", "/rejected/{id}")]
        ),
        4.0
    );
}
