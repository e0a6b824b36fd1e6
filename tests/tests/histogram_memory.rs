//! Case C9: histogram memory does not grow while nobody scrapes.
//!
//! Observations are folded into their bucket on write, so five million of them, never
//! scraped, cost nothing beyond the fixed per-series storage. This test runs in a process of
//! its own (its own test binary) so the resident set it reads is its own.

use std::time::Duration;

use tachometer::{HttpRoute, Method};
use tachometer_tests::parse_ok;

static ROUTE: HttpRoute = HttpRoute::new(Method::Get, "/memory/{id}");

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn histogram_memory_stays_flat_while_nobody_scrapes() {
    const OBSERVATIONS: u64 = 5_000_000;
    // Warm up: the series exist before the baseline is read.
    ROUTE.start().finish(200);
    ROUTE.start().finish(404);
    let before = resident_kib();

    for i in 1..OBSERVATIONS - 1 {
        let guard = ROUTE.start();
        guard.finish(if i % 10 == 0 { 404 } else { 200 });
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = resident_kib();
    let grown_mib = after.saturating_sub(before) / 1024;
    assert!(grown_mib < 32, "resident set grew by {grown_mib} MiB");

    let exposition = parse_ok(&tachometer::global().render());
    let count = exposition.sum(
        "http_request_duration_seconds_count",
        &[("route", "/memory/{id}")],
    );
    assert_eq!(count, 5_000_000.0);
    let requests = exposition.sum("http_requests_total", &[("route", "/memory/{id}")]);
    assert_eq!(requests, 5_000_000.0);
}
