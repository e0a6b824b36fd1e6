//! Serving `/metrics` over HTTP with axum.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::registry::{Registry, global};
use crate::text::CONTENT_TYPE;

/// The default `/metrics` address: loopback, on a port of its own.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

/// Prometheus's own port, which the exporter refuses so the two never collide.
pub const PROMETHEUS_PORT: u16 = 9090;

#[derive(Clone)]
struct Endpoint {
    registry: Registry,
    token: Option<Arc<str>>,
}

/// A router serving `registry` at `GET /metrics`, for mounting into an application's own.
pub fn metrics_router(registry: Registry) -> Router {
    endpoint_router(Endpoint {
        registry,
        token: None,
    })
}

fn endpoint_router(endpoint: Endpoint) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .with_state(endpoint)
}

async fn serve_metrics(State(endpoint): State<Endpoint>, headers: HeaderMap) -> Response {
    if let Some(token) = &endpoint.token
        && !authorized(&headers, token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        endpoint.registry.render(),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    // The scheme is case-insensitive (RFC 9110); the token is compared exactly, as bytes, so
    // a token outside ASCII matches the same bytes sent in the header.
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .and_then(|v| {
            let space = v.iter().position(|&b| b == b' ')?;
            let (scheme, rest) = v.split_at(space);
            scheme
                .eq_ignore_ascii_case(b"bearer")
                .then(|| rest.trim_ascii())
        })
    else {
        return false;
    };
    // Compare in time independent of where the first difference lies.
    given.len() == token.len()
        && given
            .iter()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Starts a standalone `/metrics` listener.
#[derive(Debug)]
pub struct Exporter;

impl Exporter {
    /// A builder with the defaults: the global registry, on 127.0.0.1:9464, no token.
    #[must_use]
    pub fn builder() -> ExporterBuilder {
        ExporterBuilder {
            addr: DEFAULT_ADDR,
            token: None,
            registry: global().clone(),
        }
    }
}

/// Configures the standalone `/metrics` listener.
#[derive(Debug)]
pub struct ExporterBuilder {
    addr: SocketAddr,
    token: Option<Arc<str>>,
    registry: Registry,
}

impl ExporterBuilder {
    /// The address to listen on. Port 0 picks a free port; port 9090 is refused.
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Requires `Authorization: Bearer <token>` on every scrape. White space around the
    /// token (the line break of a token file) is not part of it.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Arc::from(token.into().trim()));
        self
    }

    /// Serves `registry` instead of the global one.
    #[must_use]
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The router this configuration serves, for mounting elsewhere.
    pub fn router(&self) -> Router {
        endpoint_router(Endpoint {
            registry: self.registry.clone(),
            token: self.token.clone(),
        })
    }

    /// Binds the listener and serves on the current tokio runtime until the returned handle
    /// is shut down or dropped.
    ///
    /// # Errors
    ///
    /// [`ExporterError::ReservedPort`] for port 9090, [`ExporterError::EmptyToken`] for a
    /// bearer token that is empty or only white space (no request could present it),
    /// [`ExporterError::Bind`] when the address cannot be bound.
    pub async fn start(self) -> Result<ExporterHandle, ExporterError> {
        if self.addr.port() == PROMETHEUS_PORT {
            return Err(ExporterError::ReservedPort);
        }
        if self.token.as_deref().is_some_and(str::is_empty) {
            return Err(ExporterError::EmptyToken);
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(ExporterError::Bind)?;
        let local_addr = listener.local_addr().map_err(ExporterError::Bind)?;
        let router = self.router();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "metrics listener stopped with an error");
            }
        });
        Ok(ExporterHandle {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running `/metrics` listener. Dropping it stops the listener.
#[must_use = "dropping the handle stops the listener"]
#[derive(Debug)]
pub struct ExporterHandle {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ExporterHandle {
    /// The address the listener is bound to.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting scrapes and waits for the ones in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ExporterHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Why the listener could not start.
#[derive(Debug)]
pub enum ExporterError {
    /// Port 9090 belongs to Prometheus itself.
    ReservedPort,
    /// The bearer token is empty, so every scrape would be refused.
    EmptyToken,
    /// The address could not be bound.
    Bind(std::io::Error),
}

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedPort => {
                f.write_str("port 9090 is Prometheus's own; serve /metrics on another port")
            }
            Self::EmptyToken => f.write_str(
                "the bearer token is empty: every scrape would be refused; give a token or none",
            ),
            Self::Bind(e) => write!(f, "cannot bind the metrics listener: {e}"),
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ReservedPort | Self::EmptyToken => None,
            Self::Bind(e) => Some(e),
        }
    }
}
