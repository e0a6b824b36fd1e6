//! Starting the server binary for a test and reading the addresses it announces.

#![allow(
    dead_code,
    reason = "each test file uses a different part of these helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How long to wait for something that should happen within seconds. Generous: CI machines
/// are slow and busy.
pub(crate) const PATIENCE: Duration = Duration::from_secs(120);

/// A running `realtime-server serve` and the URLs it printed.
pub(crate) struct Server {
    pub(crate) child: Child,
    /// `http://127.0.0.1:PORT` of the API.
    pub(crate) api: String,
    /// `http://127.0.0.1:PORT/metrics`.
    pub(crate) metrics: String,
}

/// `realtime-server load` against the API at `target`, comparing with the `/metrics` at
/// `metrics_url`; the caller adds the load's options and runs it.
pub(crate) fn load_command(target: &str, metrics_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime-server"));
    command.args(["load", "--target", target, "--metrics-url", metrics_url]);
    command
}

/// Starts the server on ephemeral loopback ports with the given database; its log goes to
/// `log` (or nowhere). The process is killed if the `Server` is dropped while still running.
pub(crate) async fn start_server(database_url: &str, log: Option<&Path>) -> Server {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("create the server log")),
        None => Stdio::null(),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_realtime-server"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .args(["--refresh-interval", "1s"])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");

    let stdout = child.stdout.take().expect("server stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut api, mut metrics) = (None, None);
    let announced = async {
        while api.is_none() || metrics.is_none() {
            let Some(line) = lines.next_line().await.expect("read server stdout") else {
                panic!("the server exited before announcing its addresses");
            };
            if let Some(url) = line.strip_prefix("api: ") {
                api = Some(url.to_owned());
            } else if let Some(url) = line.strip_prefix("metrics: ") {
                metrics = Some(url.to_owned());
            }
        }
    };
    tokio::time::timeout(PATIENCE, announced)
        .await
        .expect("the server announces its addresses");

    Server {
        child,
        api: api.expect("api address"),
        metrics: metrics.expect("metrics address"),
    }
}

/// Sends SIGTERM and waits for a clean exit.
pub(crate) async fn stop_server(mut server: Server) {
    let pid = server.child.id().expect("server still running").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");

    let exit = tokio::time::timeout(PATIENCE, server.child.wait())
        .await
        .expect("the server stops after SIGTERM")
        .expect("wait for the server");
    assert!(
        exit.success(),
        "the server exited with {exit} after SIGTERM"
    );
}

/// Whether `TACHOMETER_REQUIRE_SERVICES=1` turns a missing service into a failure.
pub(crate) fn services_required() -> bool {
    std::env::var("TACHOMETER_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips the test (returns `None`) or fails it, depending on `TACHOMETER_REQUIRE_SERVICES`.
pub(crate) fn missing(what: &str) -> Option<std::convert::Infallible> {
    if services_required() {
        panic!("{what}, and TACHOMETER_REQUIRE_SERVICES=1 makes that a failure");
    }
    eprintln!("skipped: {what} (set TACHOMETER_REQUIRE_SERVICES=1 to make this a failure)");
    None
}

/// The first `program` file in a folder of `PATH`.
pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `promtool`, or `None` after a skip message.
pub(crate) fn promtool() -> Option<PathBuf> {
    if let Some(promtool) = find_on_path("promtool") {
        return Some(promtool);
    }
    missing("`promtool` is not on PATH (Debian: apt-get install prometheus)")?;
    None
}

/// The body of one request to `/metrics`.
pub(crate) async fn scrape(metrics_url: &str) -> String {
    reqwest::get(metrics_url)
        .await
        .expect("scrape /metrics")
        .text()
        .await
        .expect("read /metrics")
}

/// `promtool check metrics` on an exposition: it must exit 0 and print no lint finding.
pub(crate) async fn promtool_check(promtool: &Path, exposition: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    let mut stdin = child.stdin.take().expect("promtool stdin");
    stdin
        .write_all(exposition.as_bytes())
        .await
        .expect("write to promtool");
    drop(stdin);

    let output = child.wait_with_output().await.expect("run promtool");
    let findings = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && findings.is_empty(),
        "promtool check metrics exited with {} and printed:\n{findings}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
