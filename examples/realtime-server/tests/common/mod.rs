//! Starting the server binary for a test and reading the addresses it announces.

#![allow(
    dead_code,
    reason = "each test file uses a different part of these helpers"
)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
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
