//! Starting and stopping the server: database, router, `/metrics` exporter and shutdown.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tachometer::{Exporter, ExporterError, ExporterHandle, HttpMetricsLayer};
use tachometer_db::{CountMode, Debouncer, RecordsUpdater, StartError, UpdaterHandle};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cache::SessionCache;
use crate::db::Backend;
use crate::db::{DatabaseUrl, Db, DbError};
use crate::schema::{accounts, machines, messages, sessions};
use crate::state::AppState;
use crate::{api, telemetry, ws};

/// How long shutdown waits for WebSocket connections to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    pub(crate) listen: SocketAddr,
    pub(crate) metrics_listen: SocketAddr,
    pub(crate) database_url: DatabaseUrl,
    pub(crate) pool_size: u32,
    pub(crate) refresh_interval: Duration,
    pub(crate) debounce: Duration,
    pub(crate) cache_capacity: usize,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug)]
pub(crate) enum ServerError {
    Database(DbError),
    Bind(std::io::Error),
    Exporter(ExporterError),
    TableCounter(StartError),
    Serve(std::io::Error),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Database(e) => write!(f, "{e}"),
            ServerError::Bind(e) => write!(f, "cannot listen for HTTP: {e}"),
            ServerError::Exporter(e) => write!(f, "cannot serve /metrics: {e}"),
            ServerError::TableCounter(e) => write!(f, "cannot start the table counter: {e}"),
            ServerError::Serve(e) => write!(f, "HTTP server failed: {e}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// A started server. Dropping it does not stop it: call [`RunningServer::shutdown`].
pub(crate) struct RunningServer {
    http_addr: SocketAddr,
    metrics_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    pub(crate) fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub(crate) fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// A token that starts shutdown when cancelled.
    pub(crate) fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server has stopped (after the shutdown token was cancelled).
    pub(crate) async fn wait(self) -> Result<(), ServerError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "server task ended abnormally");
                Ok(())
            }
        }
    }

    /// Starts shutdown and waits until every socket is closed and the background work stopped.
    pub(crate) async fn shutdown(self) -> Result<(), ServerError> {
        self.shutdown.cancel();
        self.wait().await
    }
}

/// The application's routes, without any state.
fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", post(api::create_account))
        .route(
            "/v1/sessions",
            post(api::create_session).get(api::list_sessions),
        )
        .route("/v1/sessions/{id}", get(api::get_session))
        .route(
            "/v1/sessions/{id}/messages",
            post(api::post_message).get(api::list_messages),
        )
        .route("/v1/machines", post(api::register_machine))
        .route("/v1/ws/user/{account_id}", get(ws::connect_user))
        .route("/v1/ws/session/{session_id}", get(ws::connect_session))
        .route("/v1/ws/machine/{machine_id}", get(ws::connect_machine))
}

/// Opens the database (applying migrations), binds both ports and starts serving.
pub(crate) async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let registry = tachometer::global();
    telemetry::register(registry);

    let backend = config.database_url.backend();
    let db = Db::open(config.database_url.clone(), config.pool_size)
        .await
        .map_err(ServerError::Database)?;
    tracing::info!(%backend, "database ready, migrations applied");

    let exporter = Exporter::builder()
        .bind(config.metrics_listen)
        .registry(registry.clone())
        .start()
        .await
        .map_err(ServerError::Exporter)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(ServerError::Bind)?;
    let http_addr = listener.local_addr().map_err(ServerError::Bind)?;
    let metrics_addr = exporter.local_addr();

    let shutdown = CancellationToken::new();
    let state = AppState {
        db,
        cache: Arc::new(SessionCache::new(config.cache_capacity)),
        sessions_debounce: Arc::new(Debouncer::new("session", config.debounce)),
        machines_debounce: Arc::new(Debouncer::new("machine", config.debounce)),
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    };
    // Every handler records itself (`#[track_http]`); the layer counts what no handler recorded:
    // paths that match no route, extractor rejections, methods a route does not serve.
    let app = routes()
        .layer(HttpMetricsLayer::new())
        .with_state(state.clone());

    let table_counter = start_table_counter(&config.database_url, config.refresh_interval)?;

    let task = tokio::spawn(serve(listener, app, state, exporter, table_counter));
    Ok(RunningServer {
        http_addr,
        metrics_addr,
        shutdown,
        task,
    })
}

async fn serve(
    listener: TcpListener,
    app: Router,
    state: AppState,
    exporter: ExporterHandle,
    table_counter: UpdaterHandle,
) -> Result<(), ServerError> {
    let stop = state.shutdown.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;

    // HTTP has drained; upgraded WebSocket connections saw the same token and are closing.
    state.shutdown.cancel();
    state.tasks.close();
    if tokio::time::timeout(CLOSE_GRACE, state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = state.tasks.len(),
            "websocket connections still open after the grace period"
        );
    }

    table_counter.shutdown().await;
    exporter.shutdown().await;
    tracing::info!("server stopped");
    served.map_err(ServerError::Serve)
}

/// Tracks the four tables in `database_records{table}` with exact counts, refreshed every
/// `interval` through a connection of its own.
fn start_table_counter(
    url: &DatabaseUrl,
    interval: Duration,
) -> Result<UpdaterHandle, ServerError> {
    macro_rules! track_all {
        ($connection:ty) => {
            RecordsUpdater::<$connection>::from_url(url.connect_string())
                .track(accounts::table, "accounts")
                .track(sessions::table, "sessions")
                .track(messages::table, "messages")
                .track(machines::table, "machines")
                .mode(CountMode::Exact)
                .interval(interval)
                .start()
                .map_err(ServerError::TableCounter)
        };
    }

    match url.backend() {
        Backend::Sqlite => track_all!(diesel::SqliteConnection),
        Backend::Postgres => track_all!(diesel::PgConnection),
        #[cfg(feature = "mysql")]
        Backend::Mysql => track_all!(diesel::MysqlConnection),
        #[cfg(not(feature = "mysql"))]
        Backend::Mysql => Err(ServerError::Database(DbError::MysqlNotBuilt)),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
