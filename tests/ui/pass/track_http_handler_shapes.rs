//! `#[track_http]` keeps the handler's body in place: `&self` methods, generic handlers,
//! `impl IntoResponse`, `Result` with `?` and early `return` all compile, and the result is
//! still an axum handler.
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, put};

#[derive(Debug)]
enum AppError {
    BadId,
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        Self::BadId
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::BAD_REQUEST, format!("{self:?}")).into_response()
    }
}

trait Store: Send + Sync + 'static {
    fn put(&self, key: u64, value: String);
}

#[derive(Default)]
struct Memory(std::sync::Mutex<Vec<(u64, String)>>);

impl Store for Memory {
    fn put(&self, key: u64, value: String) {
        self.0.lock().unwrap().push((key, value));
    }
}

struct Service {
    name: String,
}

impl Service {
    #[tachometer::track_http(GET, "/health")]
    async fn health(&self) -> String {
        format!("{} ok", self.name)
    }

    #[tachometer::track_http(GET, "/owned")]
    async fn owned(self: Arc<Self>) -> impl IntoResponse {
        Self::label(&self.name)
    }

    fn label(name: &str) -> String {
        name.to_owned()
    }
}

#[tachometer::track_http(PUT, "/items/{id}")]
async fn put_item<S>(
    State(store): State<Arc<S>>,
    Path(id): Path<String>,
    body: String,
) -> Result<StatusCode, AppError>
where
    S: Store,
{
    let id: u64 = id.parse()?;
    if body.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    store.put(id, body);
    Ok(StatusCode::CREATED)
}

#[tachometer::track_http(DELETE, "/items/{id}")]
async fn delete_item(Path(id): Path<String>) -> Result<impl IntoResponse, AppError> {
    let id: u64 = id.parse()?;
    tokio::task::yield_now().await;
    Ok((StatusCode::OK, format!("deleted {id}")))
}

fn main() {
    let service = Arc::new(Service {
        name: "api".to_owned(),
    });
    let health = service.clone();
    let owned = service;
    let _router: Router = Router::new()
        .route("/items/{id}", put(put_item::<Memory>).delete(delete_item))
        .route("/gone/{id}", delete(delete_item))
        .route(
            "/health",
            get(move || {
                let service = health.clone();
                async move { service.health().await }
            }),
        )
        .route("/owned", get(move || owned.clone().owned()))
        .with_state(Arc::new(Memory::default()));
}
