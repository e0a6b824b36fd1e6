//! tachometer's example: a realtime server instrumented with tachometer, and a load generator
//! that drives it over real sockets and checks `/metrics` against what it did.
//!
//! ```text
//! realtime-server demo --duration 30s     # server on a fresh SQLite file + load + summary
//! realtime-server serve                   # just the server (DATABASE_URL picks the database)
//! realtime-server load --duration 30s     # load against a running server
//! ```

mod api;
mod cache;
mod db;
mod load;
mod schema;
mod server;
mod state;
mod telemetry;
mod ws;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::db::DatabaseUrl;
use crate::load::{LoadConfig, Report};
use crate::server::ServerConfig;

#[derive(Debug, Parser)]
#[command(
    name = "realtime-server",
    version,
    about = "tachometer's example realtime server and load generator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Drive a running server with simulated clients, then compare with its /metrics.
    Load(LoadArgs),
    /// Start a server on a fresh SQLite file, run the load against it and print the summary.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// Where the HTTP and WebSocket API listens.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Where /metrics listens (its own port; 9090 is Prometheus's and is refused).
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_listen: SocketAddr,
    /// Largest number of pooled database connections.
    #[arg(long, default_value_t = 8)]
    pool_size: u32,
    /// How often the table counter refreshes `database_records`.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    refresh_interval: Duration,
    /// Shortest time between two last-active writes for one session or machine.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    debounce: Duration,
    /// Most sessions kept in the session cache.
    #[arg(long, default_value_t = 10_000)]
    cache_capacity: usize,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// `postgres://...`, `mysql://...` (with `--features mysql`), `sqlite://PATH` or a file path.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://realtime-server.db",
        hide_env_values = true
    )]
    database_url: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
struct LoadTuning {
    /// Simulated clients running at once.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long the clients keep starting new rounds.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// How long each round keeps its three WebSocket connections open.
    #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
    ws_hold: Duration,
    /// Every n-th round drops its WebSocket connections without a close frame (0: never).
    #[arg(long, default_value_t = 3)]
    abrupt_every: u64,
    /// How long to wait after the run for /metrics to catch up.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    settle: Duration,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    report_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// Base URL of the server's API.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    target: String,
    /// URL of the server's /metrics.
    #[arg(long, default_value = "http://127.0.0.1:9464/metrics")]
    metrics_url: String,
    #[command(flatten)]
    tuning: LoadTuning,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Database to use instead of a fresh SQLite file in a temporary folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(flatten)]
    tuning: LoadTuning,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        Command::Load(_) | Command::Demo(_) => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log redirected to a file stays plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprint_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Load(args) => load_command(args).await,
            Command::Demo(args) => demo(args).await,
        }
    });

    match result {
        Ok(code) => code,
        Err(message) => {
            eprint_line(&format!("error: {message}"));
            ExitCode::FAILURE
        }
    }
}

fn eprint_line(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn print_line(line: &str) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn server_config(url: DatabaseUrl, args: &ServerArgs) -> ServerConfig {
    ServerConfig {
        listen: args.listen,
        metrics_listen: args.metrics_listen,
        database_url: url,
        pool_size: args.pool_size.max(1),
        refresh_interval: args.refresh_interval,
        debounce: args.debounce,
        cache_capacity: args.cache_capacity,
    }
}

async fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let url = DatabaseUrl::parse(&args.database_url).map_err(|e| e.to_string())?;
    let running = server::start(server_config(url, &args.server))
        .await
        .map_err(|e| e.to_string())?;

    print_line(&format!("api: http://{}", running.http_addr()));
    print_line(&format!(
        "metrics: http://{}/metrics",
        running.metrics_addr()
    ));

    let token = running.shutdown_token();
    tokio::spawn(async move {
        server::shutdown_signal().await;
        token.cancel();
    });
    running.wait().await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn load_config(target: String, metrics_url: String, tuning: &LoadTuning) -> LoadConfig {
    LoadConfig {
        target,
        metrics_url,
        clients: tuning.clients.max(1),
        duration: tuning.duration,
        ws_hold: tuning.ws_hold,
        abrupt_every: tuning.abrupt_every,
        settle: tuning.settle,
    }
}

fn finish_report(report: &Report, json_path: Option<&PathBuf>) -> Result<ExitCode, String> {
    print_line(&report.render());
    if let Some(path) = json_path {
        let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn load_command(args: LoadArgs) -> Result<ExitCode, String> {
    let config = load_config(args.target, args.metrics_url, &args.tuning);
    let report = load::run(config).await.map_err(|e| e.to_string())?;
    finish_report(&report, args.tuning.report_json.as_ref())
}

/// Removes the demo's temporary folder when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn demo(args: DemoArgs) -> Result<ExitCode, String> {
    let mut temp = None;
    let url = match &args.database_url {
        Some(url) => DatabaseUrl::parse(url).map_err(|e| e.to_string())?,
        None => {
            let dir =
                std::env::temp_dir().join(format!("realtime-server-demo-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let file = dir.join("demo.db");
            temp = Some(TempDir(dir));
            DatabaseUrl::parse(&file.to_string_lossy()).map_err(|e| e.to_string())?
        }
    };

    let server_args = ServerArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        pool_size: 8,
        refresh_interval: Duration::from_secs(1),
        debounce: Duration::from_secs(5),
        cache_capacity: 10_000,
    };
    let running = server::start(server_config(url.clone(), &server_args))
        .await
        .map_err(|e| e.to_string())?;
    eprint_line(&format!(
        "server on http://{} ({} database), /metrics on http://{}/metrics; {} clients for {}",
        running.http_addr(),
        url.backend(),
        running.metrics_addr(),
        args.tuning.clients,
        humantime::format_duration(args.tuning.duration),
    ));

    let config = load_config(
        format!("http://{}", running.http_addr()),
        format!("http://{}/metrics", running.metrics_addr()),
        &args.tuning,
    );
    let outcome = load::run(config).await;
    running.shutdown().await.map_err(|e| e.to_string())?;
    drop(temp);

    let report = outcome.map_err(|e| e.to_string())?;
    finish_report(&report, args.tuning.report_json.as_ref())
}
