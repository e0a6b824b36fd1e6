//! The names on the example server's `/metrics` after every macro has recorded something:
//! `promtool check metrics` finds nothing, suffixes follow the kinds, and every sample name is
//! a classic Prometheus name.

mod common;

use common::{load_command, promtool, promtool_check, scrape, start_server, stop_server};

/// Families that only have samples once each macro and the table counter did their work.
const USED: [&str; 8] = [
    "http_requests_total",
    "websocket_connections_opened_total",
    "session_alive_events_total",
    "machine_alive_events_total",
    "session_cache_operations_total",
    "websocket_events_total",
    "database_records",
    "database_updates_skipped_total",
];

/// Starts the server, drives every route, scope and message kind with one client for two
/// seconds (enough for a refresh and a debounced write), and returns one scrape.
async fn exposition_after_every_macro_ran() -> String {
    let dir = tempfile::tempdir().expect("temporary folder");
    let server = start_server(&dir.path().join("names.db").to_string_lossy(), None).await;
    let output = load_command(&server.api, &server.metrics)
        .args(["--clients", "1", "--duration", "2s", "--settle", "30s"])
        .output()
        .await
        .expect("run the load generator");
    assert!(
        output.status.success(),
        "load generator failed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = scrape(&server.metrics).await;
    stop_server(server).await;

    for family in USED {
        let counted = samples(&text).any(|(name, value)| name == family && value > 0.0);
        assert!(counted, "no sample of {family} above 0 in:\n{text}");
    }
    text
}

/// `(sample name, value)` of every sample line.
fn samples(text: &str) -> impl Iterator<Item = (&str, f64)> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let name_end = line.find(['{', ' ']).unwrap_or(line.len());
            let value = line.rsplit(' ').next().unwrap_or_default();
            (&line[..name_end], value.parse().unwrap_or(f64::NAN))
        })
}

/// `(family, kind)` of every `# TYPE` line.
fn types(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("# TYPE ")?.split(' ');
            Some((words.next()?, words.next()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_total_and_count_suffixes() {
    let Some(promtool) = promtool() else { return };
    let text = exposition_after_every_macro_ran().await;

    promtool_check(&promtool, &text).await;
    let types = types(&text);
    assert!(types.len() >= 14, "families: {types:?}");
    let gauges_with_counter_suffix: Vec<_> = types
        .iter()
        .filter(|(name, kind)| {
            *kind == "gauge" && (name.ends_with("_total") || name.ends_with("_count"))
        })
        .collect();
    assert_eq!(gauges_with_counter_suffix, Vec::<&(&str, &str)>::new());
    let counters_without_total: Vec<_> = types
        .iter()
        .filter(|(name, kind)| *kind == "counter" && !name.ends_with("_total"))
        .collect();
    assert_eq!(counters_without_total, Vec::<&(&str, &str)>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_names_with_invalid_characters() {
    let text = exposition_after_every_macro_ran().await;

    let classic = |name: &str| {
        name.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let bad: Vec<&str> = samples(&text)
        .map(|(name, _)| name)
        .filter(|name| !classic(name))
        .collect();
    assert_eq!(
        bad,
        Vec::<&str>::new(),
        "sample names outside [a-zA-Z_][a-zA-Z0-9_]*"
    );
    assert!(samples(&text).count() > 100, "{text}");
}
