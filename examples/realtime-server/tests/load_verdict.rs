//! The load generator's verdict can fail: pointed at the `/metrics` of a server that did not
//! receive its traffic, it reports the disagreement and exits non-zero.

mod common;

use common::{load_command, start_server, stop_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_against_another_servers_metrics_reports_mismatch_and_fails() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let loaded = start_server(&dir.path().join("loaded.db").to_string_lossy(), None).await;
    let idle = start_server(&dir.path().join("idle.db").to_string_lossy(), None).await;

    let output = load_command(&loaded.api, &idle.metrics)
        .args(["--clients", "2", "--duration", "2s", "--settle", "3s"])
        .output()
        .await
        .expect("run the load generator");
    let summary = String::from_utf8_lossy(&output.stdout);

    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; summary:\n{summary}"
    );
    let requests = summary
        .lines()
        .find(|line| line.starts_with("HTTP requests, all routes"))
        .unwrap_or_else(|| panic!("no request line in:\n{summary}"));
    let fields: Vec<&str> = requests.split_whitespace().collect();
    let (sent, reported, verdict) = (fields[4], fields[5], fields[6]);
    assert!(
        sent.parse::<u64>().expect("sent is a number") > 0,
        "{requests}"
    );
    assert_eq!(reported, "0", "{requests}");
    assert_eq!(verdict, "MISMATCH", "{requests}");
    assert!(
        summary.contains("/metrics disagrees with what the load generator did"),
        "{summary}"
    );

    stop_server(loaded).await;
    stop_server(idle).await;
}
