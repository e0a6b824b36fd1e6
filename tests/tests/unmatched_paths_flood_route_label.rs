//! Case C4: paths that match no route, and event types outside the known set, must not
//! become label values. A scanner probing random paths adds one series, not one per path.
//!
//! This binary holds one test, so the global registry's HTTP families hold only its
//! requests and the exact set of series can be asserted.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use tachometer::{Exporter, HttpMetricsLayer, LabelValue};
use tachometer_tests::{http_get, parse_ok};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum EventType {
    SessionAlive,
    MachineAlive,
    Message,
    Ping,
    Unknown,
}

tachometer::catalog! {
    /// WebSocket messages received, by type.
    counter websocket_events_total { event_type: EventType }
}

async fn user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

/// Sends `GET path` on a connection of its own and returns the response status.
async fn get_status(addr: SocketAddr, path: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Counts one received message whose type a client chose freely.
fn on_message(event_type: &str) {
    let event = EventType::from_label(event_type).unwrap_or(EventType::Unknown);
    tachometer::count!(websocket_events_total, event_type = event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_paths_flood_route_label() {
    register(tachometer::global());
    let exporter = Exporter::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/users/{id}", get(user))
        .layer(HttpMetricsLayer::new());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let probes: Vec<String> = (0..1000)
        .map(|_| format!("/probe-{}", uuid::Uuid::new_v4()))
        .collect();
    for batch in probes.chunks(50) {
        let requests: Vec<_> = batch
            .iter()
            .map(|path| {
                let path = path.clone();
                tokio::spawn(async move { get_status(app, &path).await })
            })
            .collect();
        for request in requests {
            assert_eq!(request.await.unwrap(), 404);
        }
    }
    for id in 1..=10 {
        assert_eq!(get_status(app, &format!("/users/{id}")).await, 200);
    }
    let random_types: Vec<String> = (0..500)
        .map(|_| format!("zz-{}", uuid::Uuid::new_v4()))
        .collect();
    for event_type in &random_types {
        on_message(event_type);
    }

    let metrics = exporter.local_addr();
    let (status, _, text) = tokio::task::spawn_blocking(move || http_get(metrics, "/metrics", &[]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    let exposition = parse_ok(&text);

    let mut requests: Vec<(String, String, String, f64)> = exposition
        .matching("http_requests_total", &[])
        .iter()
        .map(|s| {
            let label = |name: &str| s.labels[name].clone();
            (label("method"), label("route"), label("status"), s.value)
        })
        .collect();
    requests.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        requests,
        [
            ("GET".into(), "/users/{id}".into(), "200".into(), 10.0),
            ("GET".into(), "unmatched".into(), "404".into(), 1000.0),
        ]
    );
    assert_eq!(
        exposition.value(
            "http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
        ),
        Some(1000.0)
    );

    let mut event_types: Vec<&str> = exposition
        .matching("websocket_events_total", &[])
        .iter()
        .map(|s| s.labels["event_type"].as_str())
        .collect();
    event_types.sort_unstable();
    assert_eq!(
        event_types,
        [
            "machine_alive",
            "message",
            "ping",
            "session_alive",
            "unknown"
        ]
    );
    assert_eq!(
        exposition.value("websocket_events_total", &[("event_type", "unknown")]),
        Some(500.0)
    );

    assert!(!text.contains("/probe-"));
    assert!(!text.contains("zz-"));
    let raw_user_paths = text
        .match_indices("route=\"/users/")
        .filter(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(raw_user_paths, 0);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{"))
            .count(),
        2
    );
}
