//! End to end: the real server binary, the load generator over real sockets, and a real
//! Prometheus scraping `/metrics` every second; every assertion goes through Prometheus's query
//! API, plus `promtool check metrics` on the exposition.
//!
//! Runs once on a fresh SQLite file, once on a fresh PostgreSQL database
//! (`TACHOMETER_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, used only to
//! create and drop the test's own database) and, with the `mysql` feature, once on a fresh MySQL
//! or MariaDB database (`TACHOMETER_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`).
//! Without `prometheus`/`promtool` on `PATH` or without the database server the test is skipped
//! with a message, unless `TACHOMETER_REQUIRE_SERVICES=1`, where either is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

mod common;

use common::{
    PATIENCE, Server, find_on_path, load_command, missing, promtool_check, scrape, start_server,
    stop_server,
};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use serde_json::Value;
use tokio::process::{Child, Command};

/// One scenario at a time: each starts a server, a Prometheus and the load.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The two Prometheus binaries, or `None` after a skip message.
fn prometheus_binaries() -> Option<(PathBuf, PathBuf)> {
    match (find_on_path("prometheus"), find_on_path("promtool")) {
        (Some(prometheus), Some(promtool)) => Some((prometheus, promtool)),
        _ => {
            missing(
                "`prometheus` and `promtool` are not both on PATH (Debian: apt-get install prometheus)",
            )?;
            None
        }
    }
}

/// A loopback port nobody listens on now, never Prometheus's default 9090.
fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("local address").port();
        if port != 9090 {
            return port;
        }
    }
}

struct Prometheus {
    _child: Child,
    base: String,
}

async fn start_prometheus(binary: &Path, dir: &Path, metrics_url: &str) -> Prometheus {
    let target = metrics_url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .expect("metrics URL of the form http://host:port/metrics");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: realtime-server\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("write prometheus.yml");

    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("create the prometheus log");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start prometheus");
    let prometheus = Prometheus {
        _child: child,
        base: format!("http://127.0.0.1:{port}"),
    };

    let http = reqwest::Client::new();
    let ready = async {
        loop {
            let response = http
                .get(format!("{}/-/ready", prometheus.base))
                .send()
                .await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(PATIENCE, ready)
        .await
        .expect("prometheus becomes ready");
    prometheus
}

/// One instant-vector result: labels and value.
#[derive(Debug)]
struct Series {
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Prometheus {
    async fn query(&self, query: &str) -> Vec<Series> {
        let response: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", query)])
            .send()
            .await
            .expect("query prometheus")
            .json()
            .await
            .expect("prometheus answers JSON");
        assert_eq!(
            response["status"], "success",
            "query {query} failed: {response}"
        );

        let results = response["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        results
            .iter()
            .map(|result| {
                let labels = result["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = result["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("query {query}: value is not a number: {result}"));
                Series { labels, value }
            })
            .collect()
    }

    /// The single value of `query`, `None` when the result is empty.
    async fn scalar(&self, query: &str) -> Option<f64> {
        let series = self.query(query).await;
        assert!(
            series.len() <= 1,
            "query {query} returned {} series: {series:?}",
            series.len()
        );
        series.first().map(|s| s.value)
    }

    /// Polls until `query` returns exactly `expected`; returns the last value seen.
    async fn wait_for(&self, query: &str, expected: f64) -> Option<f64> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let value = self.scalar(query).await;
            if value == Some(expected) || tokio::time::Instant::now() >= deadline {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Runs the load generator binary against the server; returns its JSON report.
async fn run_load(server: &Server, dir: &Path) -> Value {
    let report_path = dir.join("report.json");
    let output = load_command(&server.api, &server.metrics)
        .args([
            "--clients",
            "6",
            "--duration",
            "8s",
            "--ws-hold",
            "1500ms",
            "--abrupt-every",
            "2",
        ])
        .args(["--settle", "30s"])
        .arg("--report-json")
        .arg(&report_path)
        .output()
        .await
        .expect("run the load generator");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "load generator failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    let report = std::fs::read_to_string(&report_path).expect("read the load report");
    serde_json::from_str(&report).expect("the load report is JSON")
}

fn report_u64(report: &Value, pointer: &str) -> u64 {
    report
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("report has no {pointer}: {report}"))
}

/// The whole scenario against one database; `count_messages` reads the table directly.
async fn scenario(database_url: &str, count_messages: impl FnOnce() -> i64) {
    let Some((prometheus_bin, promtool)) = prometheus_binaries() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");

    let server = start_server(database_url, Some(&dir.path().join("server.log"))).await;
    let prometheus = start_prometheus(&prometheus_bin, dir.path(), &server.metrics).await;
    let up = prometheus
        .wait_for(r#"up{job="realtime-server"}"#, 1.0)
        .await;
    assert_eq!(up, Some(1.0), "prometheus scrapes the server");

    let report = run_load(&server, dir.path()).await;
    let requests = report_u64(&report, "/requests");
    let messages = report_u64(&report, "/rows_created/messages");
    assert!(
        requests > 0 && messages > 0,
        "the load did something: {report}"
    );

    // Requests sent against the sum Prometheus stored (polled until the last scrape is in).
    let sum = prometheus
        .wait_for("sum(http_requests_total)", requests as f64)
        .await;
    assert_eq!(
        sum,
        Some(requests as f64),
        "sum(http_requests_total) against requests sent"
    );

    // Unmatched paths: exactly one route="unmatched" series per method and status, no raw path.
    let unmatched = prometheus
        .query(r#"http_requests_total{route="unmatched"}"#)
        .await;
    let mut seen = BTreeMap::new();
    for series in &unmatched {
        let key = (
            series.labels["method"].clone(),
            series.labels["status"].clone(),
        );
        assert!(
            seen.insert(key.clone(), series.value).is_none(),
            "two unmatched series for {key:?}: {unmatched:?}"
        );
    }
    let sent: BTreeMap<(String, String), f64> = report["unmatched"]
        .as_array()
        .expect("unmatched list")
        .iter()
        .map(|u| {
            let key = (
                u["method"].as_str().unwrap_or_default().to_owned(),
                u["status"].to_string(),
            );
            (key, u["count"].as_f64().unwrap_or_default())
        })
        .collect();
    assert!(!sent.is_empty(), "the load sent unmatched requests");
    assert_eq!(
        seen, sent,
        "unmatched series against unmatched requests sent"
    );
    let routes: BTreeSet<String> = prometheus
        .query("http_requests_total")
        .await
        .into_iter()
        .map(|s| s.labels["route"].clone())
        .collect();
    for route in &routes {
        assert!(
            route == "unmatched" || route.starts_with("/v1/"),
            "unexpected route label {route:?}"
        );
    }

    // WebSocket connections: above 0 while clients were connected, 0 for every scope after.
    for scope in ["user", "session", "machine"] {
        let now = prometheus
            .wait_for(
                &format!(r#"websocket_connections_active{{scope="{scope}"}}"#),
                0.0,
            )
            .await;
        assert_eq!(
            now,
            Some(0.0),
            "websocket_connections_active{{scope={scope:?}}} after the clients left"
        );
        let peak = prometheus
            .scalar(&format!(
                r#"max_over_time(websocket_connections_active{{scope="{scope}"}}[10m])"#
            ))
            .await;
        assert!(
            peak.is_some_and(|p| p > 0.0),
            "scope {scope} was never seen open: {peak:?}"
        );
    }

    // Messages stored: the load's count, the table's own count and the gauge agree.
    let stored = count_messages();
    assert_eq!(
        stored, messages as i64,
        "messages in the table against messages the load stored"
    );
    let gauge = prometheus
        .wait_for(r#"database_records{table="messages"}"#, messages as f64)
        .await;
    assert_eq!(
        gauge,
        Some(messages as f64),
        "database_records{{table=\"messages\"}}"
    );

    // The latency histogram aggregates into a quantile.
    let p99 = prometheus
        .scalar("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))")
        .await;
    assert!(
        p99.is_some_and(f64::is_finite),
        "p99 latency is a number: {p99:?}"
    );

    promtool_check(&promtool, &scrape(&server.metrics).await).await;
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_server_under_load_matches_what_prometheus_stores() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("e2e.db");
    let path = file.to_string_lossy().into_owned();

    scenario(&format!("sqlite://{path}"), || {
        let mut conn = SqliteConnection::establish(&path).expect("open the SQLite file");
        let counted: MessageCount = diesel::sql_query(COUNT_MESSAGES)
            .get_result(&mut conn)
            .expect("count messages");
        counted.n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_under_load_matches_what_prometheus_stores() {
    let _serial = SERIAL.lock().await;
    let admin_url = std::env::var("TACHOMETER_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = match PgConnection::establish(&admin_url) {
        Ok(conn) => conn,
        Err(e) => {
            let _ = missing(&format!("PostgreSQL is unreachable ({e})"));
            return;
        }
    };

    let name = unique_database_name();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create the test database");
    let url = database_url_for(&admin_url, &name);

    let outcome = {
        let url = url.clone();
        tokio::spawn(async move {
            let count_url = url.clone();
            scenario(&url, move || {
                let mut conn =
                    PgConnection::establish(&count_url).expect("connect to the test database");
                let counted: MessageCount = diesel::sql_query(COUNT_MESSAGES)
                    .get_result(&mut conn)
                    .expect("count messages");
                counted.n
            })
            .await;
        })
        .await
    };

    let dropped = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop the test database");
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_server_under_load_matches_what_prometheus_stores() {
    use diesel::MysqlConnection;

    let _serial = SERIAL.lock().await;
    let admin_url = std::env::var("TACHOMETER_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
    let mut admin = match MysqlConnection::establish(&admin_url) {
        Ok(conn) => conn,
        Err(e) => {
            let _ = missing(&format!("MySQL is unreachable ({e})"));
            return;
        }
    };

    let name = unique_database_name();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create the test database");
    let url = database_url_for(&admin_url, &name);

    let outcome = tokio::spawn(async move {
        let count_url = url.clone();
        scenario(&url, move || {
            let mut conn =
                MysqlConnection::establish(&count_url).expect("connect to the test database");
            let counted: MessageCount = diesel::sql_query(COUNT_MESSAGES)
                .get_result(&mut conn)
                .expect("count messages");
            counted.n
        })
        .await;
    })
    .await;

    let dropped = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop the test database");
}

/// A database name no other run uses.
fn unique_database_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("tachometer_e2e_{}_{nanos}", std::process::id())
}

/// `admin_url` with its database name replaced by `name`.
fn database_url_for(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let prefix_end = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..prefix_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

const COUNT_MESSAGES: &str = "SELECT COUNT(*) AS n FROM messages";

#[derive(diesel::QueryableByName)]
struct MessageCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
