//! The expansions of `#[track_http]` and `#[ws_scoped]` are clean under `#![deny(warnings)]`
//! and clippy's pedantic group: `cargo clippy --all-targets -- -D warnings` lints this file,
//! so a lint firing inside generated code fails the build. It also runs as a test.
#![deny(warnings, clippy::pedantic)]

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// A handler with an extractor and a plain return type.
#[tachometer::track_http(GET, "/pedantic/users/{id}")]
async fn user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

/// A handler returning `impl IntoResponse` with an early return.
#[tachometer::track_http(POST, "/pedantic/items")]
async fn create(body: String) -> impl IntoResponse {
    if body.is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    StatusCode::CREATED
}

/// A generic handler returning a `Result` through `?`.
#[tachometer::track_http(PUT, "/pedantic/items/{id}")]
async fn put<S>(State(state): State<Arc<S>>, Path(id): Path<String>) -> Result<String, StatusCode>
where
    S: AsRef<str> + Send + Sync + 'static,
{
    let id: u64 = id.parse().map_err(|_| StatusCode::BAD_REQUEST)?;
    Ok(format!("{} {id}", (*state).as_ref()))
}

/// A handler without a return type.
#[tachometer::track_http(DELETE, "/pedantic/items")]
async fn clear() {}

struct Service {
    name: &'static str,
}

impl Service {
    /// A method handler.
    #[tachometer::track_http(GET, "/pedantic/health")]
    async fn health(&self) -> &'static str {
        self.name
    }
}

/// A public session type.
#[tachometer::ws_scoped("session")]
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: String,
}

/// A generic tuple struct with a scope of the application's own.
#[tachometer::ws_scoped(custom = "pedantic_device")]
#[derive(Default)]
struct Device<T>(T);

#[tokio::test]
async fn pedantic_expansions_still_record() {
    assert_eq!(
        user(Path(3)).await.status(),
        StatusCode::OK,
        "a handler answers through its response"
    );
    assert_eq!(
        create(String::new()).await.status(),
        StatusCode::BAD_REQUEST
    );
    let state = Arc::new("item".to_owned());
    let response = put(State(state), Path("x".to_owned())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(clear().await.status(), StatusCode::OK);
    let service = Service { name: "api" };
    assert_eq!(service.health().await.status(), StatusCode::OK);

    let session = Session {
        user: "ada".to_owned(),
        ws_connection: tachometer::WsConnection::open(),
    };
    let device: Device<u8> = Device::default();
    assert_eq!(session.clone().user, "ada");
    assert_eq!(device.0, 0);

    let exposition = tachometer_tests::parse_ok(&tachometer::global().render());
    let requests = |method: &str, route: &str, status: &str| {
        exposition.value(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/pedantic/users/{id}", "200"), Some(1.0));
    assert_eq!(requests("POST", "/pedantic/items", "400"), Some(1.0));
    assert_eq!(requests("PUT", "/pedantic/items/{id}", "400"), Some(1.0));
    assert_eq!(requests("DELETE", "/pedantic/items", "200"), Some(1.0));
    assert_eq!(requests("GET", "/pedantic/health", "200"), Some(1.0));
    let active =
        |scope: &str| exposition.value("websocket_connections_active", &[("scope", scope)]);
    assert_eq!(active("session"), Some(1.0));
    assert_eq!(active("pedantic_device"), Some(1.0));
}
