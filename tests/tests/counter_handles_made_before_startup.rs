//! C6, counter handles made before start-up write nowhere: a `#[count_event]` call site
//! caches its handle on its first call. Here that first call happens before the catalog is
//! registered and before the `/metrics` exporter starts. The global registry exists from
//! first use, so those early events are kept: tachometer documents that events recorded
//! before start-up count, and the scrape reads 5 (2 before, 3 after), never 0 or 3.
//!
//! This file is a test binary of its own so that nothing else touches the global registry
//! before the first call.

use std::net::SocketAddr;

use tachometer_tests::{http_get, parse_ok};

tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
}

#[tachometer::count_event(session_alive_events_total)]
fn on_session_alive() {}

#[tokio::test]
async fn counter_handles_made_before_startup_keep_counting() {
    on_session_alive();
    on_session_alive();

    register(tachometer::global());
    let exporter = tachometer::Exporter::builder()
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .await
        .expect("the exporter starts on a free loopback port");
    let addr = exporter.local_addr();

    for _ in 0..3 {
        on_session_alive();
    }

    let (status, _, body) = tokio::task::spawn_blocking(move || http_get(addr, "/metrics", &[]))
        .await
        .expect("the scrape task finishes")
        .expect("the exporter answers");
    assert_eq!(status, 200);
    let parsed = parse_ok(&body);
    assert_eq!(parsed.value("session_alive_events_total", &[]), Some(5.0));
    assert_eq!(
        parsed
            .types
            .get("session_alive_events_total")
            .map(String::as_str),
        Some("counter")
    );
    assert_eq!(
        parsed
            .helps
            .get("session_alive_events_total")
            .map(String::as_str),
        Some("Sessions reported alive over WebSocket.")
    );
    exporter.shutdown().await;
}
