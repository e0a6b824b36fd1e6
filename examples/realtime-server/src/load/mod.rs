//! The load generator: simulated clients over real sockets, then what they did against what
//! `/metrics` reports.

mod client;
mod exposition;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use client::{ClientContext, EVENT_TYPES, SCOPES, Tally, load};
pub(crate) use exposition::Exposition;

/// The tables the server's table counter tracks, with the tally field for each.
const TABLES: [&str; 4] = ["accounts", "sessions", "messages", "machines"];

/// How to run the load.
#[derive(Clone, Debug)]
pub(crate) struct LoadConfig {
    /// `http://host:port` of the application.
    pub(crate) target: String,
    /// Full URL of the server's `/metrics`.
    pub(crate) metrics_url: String,
    pub(crate) clients: usize,
    pub(crate) duration: Duration,
    pub(crate) ws_hold: Duration,
    pub(crate) abrupt_every: u64,
    /// How long to wait after the run for `/metrics` to catch up (table counts refresh
    /// periodically, closed sockets are noticed asynchronously).
    pub(crate) settle: Duration,
}

/// One line of the summary: a quantity as the load generator saw it and as `/metrics` reports it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) what: String,
    pub(crate) sent: String,
    pub(crate) reported: String,
    pub(crate) ok: bool,
}

/// Unmatched requests of one method and status.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct UnmatchedCount {
    pub(crate) method: String,
    pub(crate) status: u16,
    pub(crate) count: u64,
}

/// Everything the run did and how `/metrics` agreed; also written as JSON for scripts.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) clients: usize,
    pub(crate) seconds: f64,
    pub(crate) rounds: u64,
    pub(crate) requests: u64,
    pub(crate) unmatched: Vec<UnmatchedCount>,
    pub(crate) rows_created: BTreeMap<String, u64>,
    pub(crate) websocket_opened: BTreeMap<String, u64>,
    pub(crate) websocket_closed_cleanly: u64,
    pub(crate) websocket_dropped: u64,
    pub(crate) events: BTreeMap<String, u64>,
    pub(crate) session_alive: u64,
    pub(crate) machine_alive: u64,
    pub(crate) failures: Vec<String>,
    pub(crate) peak_active: BTreeMap<String, f64>,
    pub(crate) checks: Vec<Check>,
    pub(crate) ok: bool,
}

/// Why the load could not run at all.
#[derive(Debug)]
pub(crate) struct LoadError(String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

async fn scrape(http: &reqwest::Client, url: &str) -> Result<Exposition, LoadError> {
    let response = http
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| LoadError(format!("cannot read {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(LoadError(format!("{url} answered {}", response.status())));
    }
    let text = response
        .text()
        .await
        .map_err(|e| LoadError(format!("cannot read {url}: {e}")))?;
    Exposition::parse(&text).map_err(|e| LoadError(format!("{url} is not valid text format: {e}")))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Every table counted at least once after `since` (Unix seconds).
fn tables_fresh(metrics: &Exposition, since: f64) -> bool {
    TABLES.iter().all(|table| {
        metrics
            .value(
                "database_records_last_refresh_timestamp_seconds",
                &[("table", table)],
            )
            .is_some_and(|at| at >= since)
    })
}

/// Scrapes until every table has been counted after `since`, or `timeout` passes.
async fn scrape_fresh(
    http: &reqwest::Client,
    url: &str,
    since: f64,
    timeout: Duration,
) -> Result<Exposition, LoadError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let metrics = scrape(http, url).await?;
        if tables_fresh(&metrics, since) || tokio::time::Instant::now() >= deadline {
            return Ok(metrics);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn print_err(line: &str) {
    let _ = std::io::stderr().write_all(line.as_bytes());
    let _ = std::io::stderr().flush();
}

/// Runs the load and compares; `Ok` carries the report whether or not the numbers agreed.
pub(crate) async fn run(config: LoadConfig) -> Result<Report, LoadError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(config.clients.max(1))
        .build()
        .map_err(|e| LoadError(format!("cannot build the HTTP client: {e}")))?;
    let target = config.target.trim_end_matches('/').to_owned();
    let ws_base = if let Some(rest) = target.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return Err(LoadError(format!(
            "target must start with http://, got {target}"
        )));
    };

    let baseline = scrape_fresh(&http, &config.metrics_url, 0.0, config.settle).await?;
    let context = Arc::new(ClientContext {
        http: http.clone(),
        base: target,
        ws_base,
        ws_hold: config.ws_hold,
        abrupt_every: config.abrupt_every,
        tally: Tally::default(),
    });

    let started = tokio::time::Instant::now();
    let deadline = started + config.duration;
    let mut clients = Vec::with_capacity(config.clients);
    for client in 0..config.clients {
        clients.push(tokio::spawn(client::run_client(
            context.clone(),
            client,
            deadline,
        )));
    }

    let peak_active = watch_progress(&http, &config, &context.tally, started, &clients).await;
    for handle in clients {
        if let Err(e) = handle.await {
            context
                .tally
                .failures
                .lock()
                .map(|mut f| f.push(format!("client task failed: {e}")))
                .ok();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let finished_at = unix_now();

    // Wait for /metrics to catch up: table counts refresh on an interval and closed sockets are
    // noticed by the server asynchronously. Stop early once everything agrees.
    let settle_deadline = tokio::time::Instant::now() + config.settle;
    let report = loop {
        let now = scrape_fresh(&http, &config.metrics_url, finished_at, config.settle).await?;
        let report = compare(
            &config,
            &context.tally,
            &baseline,
            &now,
            seconds,
            peak_active.clone(),
        );
        if report.ok || tokio::time::Instant::now() >= settle_deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    Ok(report)
}

/// Prints a progress line each second until every client is done; returns the highest
/// `websocket_connections_active` seen per scope.
async fn watch_progress(
    http: &reqwest::Client,
    config: &LoadConfig,
    tally: &Tally,
    started: tokio::time::Instant,
    clients: &[tokio::task::JoinHandle<()>],
) -> BTreeMap<String, f64> {
    let terminal = std::io::stderr().is_terminal();
    let mut peak: BTreeMap<String, f64> = SCOPES.iter().map(|s| ((*s).to_owned(), 0.0)).collect();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut ticks = 0u64;
    loop {
        tick.tick().await;
        ticks += 1;
        let mut server_open = 0.0;
        if let Ok(metrics) = scrape(http, &config.metrics_url).await {
            for scope in SCOPES {
                let active = metrics
                    .value("websocket_connections_active", &[("scope", scope)])
                    .unwrap_or(0.0);
                server_open += active;
                let seen = peak.entry(scope.to_owned()).or_insert(0.0);
                *seen = seen.max(active);
            }
        }

        let done = clients.iter().all(|c| c.is_finished());
        let line = format!(
            "[{:>5.1}s/{:.0}s] requests {:>7}  rows {:>6}  ws open {:>3} (server {:>3})  events {:>7}  failures {}",
            started.elapsed().as_secs_f64(),
            config.duration.as_secs_f64(),
            load(&tally.requests),
            load(&tally.accounts)
                + load(&tally.sessions)
                + load(&tally.messages)
                + load(&tally.machines),
            client::open_now(tally),
            server_open,
            tally.events.iter().map(load).sum::<u64>(),
            tally.failure_count(),
        );
        if terminal {
            print_err(&format!("\r{line}"));
        } else if ticks % 10 == 0 || done {
            print_err(&format!("{line}\n"));
        }
        if done {
            if terminal {
                print_err("\n");
            }
            return peak;
        }
    }
}

fn check(what: impl Into<String>, sent: u64, reported: f64) -> Check {
    Check {
        what: what.into(),
        sent: sent.to_string(),
        reported: format_number(reported),
        ok: reported == sent as f64,
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

fn compare(
    config: &LoadConfig,
    tally: &Tally,
    before: &Exposition,
    after: &Exposition,
    seconds: f64,
    peak_active: BTreeMap<String, f64>,
) -> Report {
    let delta = |name: &str, matching: &[(&str, &str)]| {
        after.sum(name, matching) - before.sum(name, matching)
    };
    let mut checks = Vec::new();

    let requests = load(&tally.requests);
    checks.push(check(
        "HTTP requests, all routes",
        requests,
        delta("http_requests_total", &[]),
    ));

    let unmatched: Vec<UnmatchedCount> = tally
        .unmatched
        .lock()
        .map(|map| {
            map.iter()
                .map(|((method, status), count)| UnmatchedCount {
                    method: method.clone(),
                    status: *status,
                    count: *count,
                })
                .collect()
        })
        .unwrap_or_default();
    for entry in &unmatched {
        let status = entry.status.to_string();
        let matching = [
            ("route", "unmatched"),
            ("method", entry.method.as_str()),
            ("status", status.as_str()),
        ];
        checks.push(check(
            format!("  unmatched {} {}", entry.method, entry.status),
            entry.count,
            delta("http_requests_total", &matching),
        ));
    }
    let raw_paths = after
        .select("http_requests_total", &[])
        .filter(|s| {
            s.label("route")
                .is_some_and(|r| r != "unmatched" && !r.starts_with("/v1/"))
        })
        .count();
    checks.push(Check {
        what: "  series with a raw path as route".into(),
        sent: "0".into(),
        reported: raw_paths.to_string(),
        ok: raw_paths == 0,
    });

    let created = [
        &tally.accounts,
        &tally.sessions,
        &tally.messages,
        &tally.machines,
    ];
    let mut rows_created = BTreeMap::new();
    for (table, counter) in TABLES.iter().zip(created) {
        let n = load(counter);
        rows_created.insert((*table).to_owned(), n);
        checks.push(check(
            format!("rows created: {table}"),
            n,
            delta("database_records", &[("table", table)]),
        ));
    }

    let mut websocket_opened = BTreeMap::new();
    for (scope, counter) in SCOPES.iter().zip(&tally.ws_opened) {
        let n = load(counter);
        websocket_opened.insert((*scope).to_owned(), n);
        checks.push(check(
            format!("websocket opened: {scope}"),
            n,
            delta("websocket_connections_opened_total", &[("scope", scope)]),
        ));
    }
    for scope in SCOPES {
        let open = after
            .value("websocket_connections_active", &[("scope", scope)])
            .unwrap_or(0.0);
        checks.push(check(
            format!("websocket open after the run: {scope}"),
            0,
            open,
        ));
    }
    for scope in SCOPES {
        let peak = peak_active.get(scope).copied().unwrap_or(0.0);
        checks.push(Check {
            what: format!("websocket open at peak: {scope}"),
            sent: "> 0".into(),
            reported: format_number(peak),
            ok: peak > 0.0,
        });
    }

    let mut events = BTreeMap::new();
    for (event, counter) in EVENT_TYPES.iter().zip(&tally.events) {
        let n = load(counter);
        events.insert((*event).to_owned(), n);
        checks.push(check(
            format!("websocket events: {event}"),
            n,
            delta("websocket_events_total", &[("event_type", event)]),
        ));
    }
    let session_alive = load(&tally.session_alive);
    let machine_alive = load(&tally.machine_alive);
    checks.push(check(
        "session alive events",
        session_alive,
        delta("session_alive_events_total", &[]),
    ));
    checks.push(check(
        "machine alive events",
        machine_alive,
        delta("machine_alive_events_total", &[]),
    ));

    let failures = tally.failures.lock().map(|f| f.clone()).unwrap_or_default();
    checks.push(Check {
        what: "failed rounds".into(),
        sent: "0".into(),
        reported: failures.len().to_string(),
        ok: failures.is_empty(),
    });

    let ok = checks.iter().all(|c| c.ok) && load(&tally.rounds) > 0;
    Report {
        clients: config.clients,
        seconds,
        rounds: load(&tally.rounds),
        requests,
        unmatched,
        rows_created,
        websocket_opened,
        websocket_closed_cleanly: load(&tally.ws_closed_cleanly),
        websocket_dropped: load(&tally.ws_dropped),
        events,
        session_alive,
        machine_alive,
        failures,
        peak_active,
        checks,
        ok,
    }
}

impl Report {
    /// The summary table, ready to print.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} clients for {:.1} s: {} rounds, {} HTTP requests, {} websocket connections ({} closed cleanly, {} dropped without a close frame)\n",
            self.clients,
            self.seconds,
            self.rounds,
            self.requests,
            self.websocket_opened.values().sum::<u64>(),
            self.websocket_closed_cleanly,
            self.websocket_dropped,
        );
        let width = self
            .checks
            .iter()
            .map(|c| c.what.len())
            .max()
            .unwrap_or(10)
            .max(10);
        let _ = writeln!(
            out,
            "{:<width$}  {:>14}  {:>14}  ",
            "", "load generator", "/metrics"
        );
        let _ = writeln!(out, "{}", "-".repeat(width + 36));
        for check in &self.checks {
            let mark = if check.ok { "ok" } else { "MISMATCH" };
            let _ = writeln!(
                out,
                "{:<width$}  {:>14}  {:>14}  {mark}",
                check.what, check.sent, check.reported
            );
        }
        let _ = writeln!(out);
        for failure in self.failures.iter().take(10) {
            let _ = writeln!(out, "failure: {failure}");
        }
        if self.failures.len() > 10 {
            let _ = writeln!(out, "... and {} more failures", self.failures.len() - 10);
        }
        if self.rounds == 0 {
            let _ = writeln!(out, "no round completed: nothing to compare");
        }
        let verdict = if self.ok {
            "every number on /metrics matches what the load generator did"
        } else {
            "/metrics disagrees with what the load generator did"
        };
        let _ = writeln!(out, "{verdict}");
        out
    }
}
