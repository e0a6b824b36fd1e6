//! Serving `/metrics`: content type, loopback default, bearer token, the reserved port, and
//! the `metrics` facade landing in the same exposition.

use std::net::SocketAddr;

use tachometer::{Exporter, ExporterError, Registry};
use tachometer_tests::{http_get, parse_ok};

fn loopback_any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn get(
    addr: SocketAddr,
    headers: &[(&str, &str)],
) -> (u16, std::collections::HashMap<String, String>, String) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        http_get(addr, "/metrics", &headers).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn metrics_are_served_with_the_text_format_content_type() {
    let registry = Registry::with_builtins();
    registry
        .counter(
            &tachometer::builtin::WEBSOCKET_CONNECTIONS_OPENED_TOTAL,
            &["user"],
        )
        .add(7);
    let handle = Exporter::builder()
        .bind(loopback_any_port())
        .registry(registry)
        .start()
        .await
        .unwrap();
    assert!(handle.local_addr().ip().is_loopback());

    let (status, headers, body) = get(handle.local_addr(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let exposition = parse_ok(&body);
    assert_eq!(
        exposition.value("websocket_connections_opened_total", &[("scope", "user")]),
        Some(7.0)
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn a_bearer_token_is_required_when_configured() {
    let handle = Exporter::builder()
        .bind(loopback_any_port())
        .registry(Registry::with_builtins())
        .bearer_token("s3cret")
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr();

    assert_eq!(get(addr, &[]).await.0, 401);
    assert_eq!(
        get(addr, &[("Authorization", "Bearer wrong!")]).await.0,
        401
    );
    assert_eq!(get(addr, &[("Authorization", "Basic s3cret")]).await.0, 401);
    let (status, _, body) = get(addr, &[("Authorization", "Bearer s3cret")]).await;
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE http_requests_total counter\n"));
    // The scheme is case-insensitive; the token is not.
    assert_eq!(
        get(addr, &[("Authorization", "bearer s3cret")]).await.0,
        200
    );
    assert_eq!(
        get(addr, &[("Authorization", "BEARER s3cret")]).await.0,
        200
    );
    assert_eq!(
        get(addr, &[("Authorization", "Bearer S3CRET")]).await.0,
        401
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn a_token_read_from_a_file_with_its_line_break_still_matches() {
    let handle = Exporter::builder()
        .bind(loopback_any_port())
        .registry(Registry::with_builtins())
        .bearer_token("s3cret\n")
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr();
    assert_eq!(
        get(addr, &[("Authorization", "Bearer s3cret")]).await.0,
        200
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn a_token_outside_ascii_matches_its_own_bytes() {
    let handle = Exporter::builder()
        .bind(loopback_any_port())
        .registry(Registry::with_builtins())
        .bearer_token("pässwörd")
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr();
    assert_eq!(
        get(addr, &[("Authorization", "Bearer pässwörd")]).await.0,
        200
    );
    assert_eq!(
        get(addr, &[("Authorization", "Bearer passwort")]).await.0,
        401
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn an_empty_bearer_token_is_refused_at_start() {
    for token in ["", "   "] {
        let refused = Exporter::builder()
            .bind(loopback_any_port())
            .bearer_token(token)
            .start()
            .await;
        assert!(
            matches!(refused, Err(ExporterError::EmptyToken)),
            "{token:?}"
        );
    }
}

#[tokio::test]
async fn port_9090_is_refused_and_the_default_is_loopback() {
    let refused = Exporter::builder()
        .bind("127.0.0.1:9090".parse().unwrap())
        .start()
        .await;
    assert!(matches!(refused, Err(ExporterError::ReservedPort)));
    assert!(tachometer::DEFAULT_ADDR.ip().is_loopback());
    assert_ne!(tachometer::DEFAULT_ADDR.port(), 9090);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_listener() {
    let handle = Exporter::builder()
        .bind(loopback_any_port())
        .registry(Registry::new())
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr();
    drop(handle);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "listener still accepting after its handle was dropped"
    );
}

#[test]
fn facade_calls_land_in_the_registry_as_real_histograms() {
    let registry = Registry::new();
    let recorder = tachometer::Recorder::new(registry.clone());
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("jobs_done_total", "Jobs finished.");
        metrics::counter!("jobs_done_total", "queue" => "fast").increment(2);
        metrics::counter!("jobs_done_total", "queue" => "fast").increment(1);
        metrics::gauge!("queue_depth").set(4.5);
        metrics::histogram!("job_duration_seconds").record(0.02);
        // Invalid names are dropped, not sanitized into another metric.
        metrics::counter!("job-done_total").increment(1);
    });
    let text = registry.render();
    let exposition = parse_ok(&text);
    assert_eq!(exposition.helps["jobs_done_total"], "Jobs finished.");
    assert_eq!(
        exposition.value("jobs_done_total", &[("queue", "fast")]),
        Some(3.0)
    );
    assert_eq!(exposition.value("queue_depth", &[]), Some(4.5));
    assert_eq!(exposition.types["job_duration_seconds"], "histogram");
    assert_eq!(
        exposition.value("job_duration_seconds_bucket", &[("le", "0.05")]),
        Some(1.0)
    );
    assert_eq!(
        exposition.value("job_duration_seconds_count", &[]),
        Some(1.0)
    );
    assert!(!text.contains("job-done") && !text.contains("job_done_total"));
}

#[test]
fn facade_labels_on_a_declared_family_map_by_name() {
    let registry = Registry::with_builtins();
    let recorder = tachometer::Recorder::new(registry.clone());
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("http_requests_total", "status" => "200", "route" => "/a", "method" => "GET")
            .increment(1);
    });
    let exposition = parse_ok(&registry.render());
    assert_eq!(
        exposition.value(
            "http_requests_total",
            &[("method", "GET"), ("route", "/a"), ("status", "200")]
        ),
        Some(1.0)
    );
}

#[test]
fn installing_the_recorder_twice_is_an_error_not_a_panic() {
    assert_eq!(tachometer::install_recorder(), Ok(()));
    assert_eq!(
        tachometer::install_recorder(),
        Err(tachometer::InstallError)
    );
    metrics::counter!("facade_global_events_total").increment(3);
    let exposition = parse_ok(&tachometer::global().render());
    assert_eq!(
        exposition.value("facade_global_events_total", &[]),
        Some(3.0)
    );
}
