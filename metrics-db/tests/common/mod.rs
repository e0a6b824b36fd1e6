//! Helpers shared by the integration tests: exposition parsing, service discovery, unique names.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One sample line of the Prometheus text format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses every sample line of a text-format exposition (comments skipped).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("unparsable line: {line:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];

    if let Some(after_brace) = rest.strip_prefix('{') {
        let mut chars = after_brace.char_indices();
        loop {
            // label name up to '=' (or the closing brace)
            let mut key = String::new();
            let mut closed = None;
            for (i, c) in chars.by_ref() {
                match c {
                    '=' => break,
                    '}' => {
                        closed = Some(i);
                        break;
                    }
                    ',' => {}
                    c => key.push(c),
                }
            }
            if let Some(i) = closed {
                rest = &after_brace[i + 1..];
                break;
            }
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        _ => return None,
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
        }
    }

    let value = rest.trim().split(' ').next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The value of the series `name{table="<table>"}` (or `type=`, given as `key`), if present.
pub fn value(text: &str, name: &str, key: &str, label: &str) -> Option<f64> {
    let matching: Vec<f64> = parse(text)
        .into_iter()
        .filter(|s| s.name == name && s.labels.get(key).map(String::as_str) == Some(label))
        .filter(|s| s.labels.len() == 1)
        .map(|s| s.value)
        .collect();
    assert!(
        matching.len() <= 1,
        "{name}{{{key}={label:?}}} appears {} times",
        matching.len()
    );
    matching.first().copied()
}

/// `database_records{table="<label>"}`.
pub fn records(registry: &tachometer::Registry, label: &str) -> Option<f64> {
    value(&registry.render(), "database_records", "table", label)
}

/// `database_records_refresh_errors_total{table="<label>"}`.
pub fn errors(registry: &tachometer::Registry, label: &str) -> Option<f64> {
    value(
        &registry.render(),
        "database_records_refresh_errors_total",
        "table",
        label,
    )
}

/// `database_records_last_refresh_timestamp_seconds{table="<label>"}`.
pub fn last_refresh(registry: &tachometer::Registry, label: &str) -> Option<f64> {
    value(
        &registry.render(),
        "database_records_last_refresh_timestamp_seconds",
        "table",
        label,
    )
}

/// `database_records_refresh_duration_seconds_count{table="<label>"}`: refreshes attempted.
pub fn refreshes(registry: &tachometer::Registry, label: &str) -> Option<f64> {
    value(
        &registry.render(),
        "database_records_refresh_duration_seconds_count",
        "table",
        label,
    )
}

/// Polls `condition` until it holds. The deadline only keeps a broken build from hanging CI;
/// it is generous on purpose and no result depends on it.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A name no other test (or concurrent run) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether an unreachable service fails the test (CI) instead of skipping it.
pub fn services_required() -> bool {
    std::env::var("TACHOMETER_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (returns `None`) or fails, depending on `TACHOMETER_REQUIRE_SERVICES`.
pub fn unavailable<T>(service: &str, variable: &str, error: impl std::fmt::Display) -> Option<T> {
    if services_required() {
        panic!(
            "{service} is unreachable (set by {variable}) and TACHOMETER_REQUIRE_SERVICES=1: {error}"
        );
    }
    eprintln!("skipping: {service} is unreachable (URL from {variable}): {error}");
    None
}

/// Appends a query parameter to a URL that may already have some.
pub fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// Replaces the `host:port` of a URL such as `postgres://user@host:port/db`.
pub fn with_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, _) = authority
        .rsplit_once('@')
        .map_or((None, authority), |(u, h)| (Some(u), h));
    let host = match user {
        Some(user) => format!("{user}@127.0.0.1:{port}"),
        None => format!("127.0.0.1:{port}"),
    };
    format!("{scheme}://{host}/{path}")
}

/// Captured `tracing` output of the current thread.
#[derive(Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    /// Installs a subscriber writing into this buffer for the current thread.
    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn parser_reads_labels_with_escapes() {
    let samples = parse(
        "# HELP x y\nx{a=\"q\\\"uote\",b=\"back\\\\slash\"} 3\ny 1.5\nz_bucket{le=\"+Inf\"} 2\n",
    );
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels["a"], "q\"uote");
    assert_eq!(samples[0].labels["b"], "back\\slash");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!(samples[1].name, "y");
    assert_eq!(samples[1].value, 1.5);
    assert_eq!(samples[2].labels["le"], "+Inf");
}
