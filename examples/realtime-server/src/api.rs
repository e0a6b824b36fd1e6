//! The HTTP API over accounts, sessions, messages and machines.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::db::{self, DbError, Session};
use crate::state::AppState;

/// Most rows a list endpoint returns.
const MAX_LIST: i64 = 100;

/// An error answered as `{"error": "..."}` with a status code.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn not_found(what: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("{what} not found"),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        tracing::error!(error = %e, "database request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "database unavailable".into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn created(value: impl serde::Serialize) -> ApiResult {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok((StatusCode::OK, Json(value)).into_response())
}

/// Checks a user-supplied name or title: 1 to 200 characters.
fn checked_text(field: &str, value: String) -> Result<String, ApiError> {
    let length = value.chars().count();
    if length == 0 || length > 200 {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1 to 200 characters"
        )));
    }
    Ok(value)
}

/// Looks a session up through the cache, filling the cache on a miss.
pub(crate) async fn load_session(app: &AppState, id: &str) -> Result<Option<Session>, DbError> {
    if let Some(session) = app.cache.get(id) {
        return Ok(Some(session));
    }

    let key = id.to_owned();
    let found = app.db.run(move |conn| db::find_session(conn, &key)).await?;
    if let Some(session) = &found {
        // A failed cache write only costs a later database read.
        let _ = app.cache.set(session.clone());
    }
    Ok(found)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewAccount {
    name: String,
}

/// `POST /v1/accounts`
#[tachometer::track_http(POST, "/v1/accounts")]
pub(crate) async fn create_account(
    State(app): State<AppState>,
    body: Result<Json<NewAccount>, JsonRejection>,
) -> ApiResult {
    let Json(input) = body?;
    let name = checked_text("name", input.name)?;

    let account = app
        .db
        .run(move |conn| db::insert_account(conn, name))
        .await?;
    created(account)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewSession {
    account_id: String,
    title: String,
}

/// `POST /v1/sessions`
#[tachometer::track_http(POST, "/v1/sessions")]
pub(crate) async fn create_session(
    State(app): State<AppState>,
    body: Result<Json<NewSession>, JsonRejection>,
) -> ApiResult {
    let Json(input) = body?;
    let title = checked_text("title", input.title)?;

    let account_id = input.account_id;
    let session = app
        .db
        .run(move |conn| db::insert_session(conn, account_id, title))
        .await?;
    let Some(session) = session else {
        return Err(ApiError::not_found("account"));
    };

    let _ = app.cache.set(session.clone());
    created(session)
}

/// `GET /v1/sessions/{id}`
#[tachometer::track_http(GET, "/v1/sessions/{id}")]
pub(crate) async fn get_session(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    match load_session(&app, &id).await? {
        Some(session) => ok(session),
        None => Err(ApiError::not_found("session")),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    account_id: Option<String>,
    limit: Option<i64>,
}

fn list_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(MAX_LIST).clamp(1, MAX_LIST)
}

/// `GET /v1/sessions?account_id=&limit=`
#[tachometer::track_http(GET, "/v1/sessions")]
pub(crate) async fn list_sessions(
    State(app): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let limit = list_limit(query.limit);

    let account_id = query.account_id;
    let sessions = app
        .db
        .run(move |conn| db::list_sessions(conn, account_id, limit))
        .await?;
    ok(sessions)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewMessage {
    body: String,
}

/// `POST /v1/sessions/{id}/messages`
#[tachometer::track_http(POST, "/v1/sessions/{id}/messages")]
pub(crate) async fn post_message(
    State(app): State<AppState>,
    Path(session_id): Path<String>,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> ApiResult {
    let Json(input) = body?;
    if input.body.is_empty() || input.body.len() > 16 * 1024 {
        return Err(ApiError::bad_request("body must be 1 byte to 16 KiB"));
    }
    if load_session(&app, &session_id).await?.is_none() {
        return Err(ApiError::not_found("session"));
    }

    let message = app
        .db
        .run(move |conn| db::insert_message(conn, session_id, input.body))
        .await?;
    created(message)
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessagesQuery {
    limit: Option<i64>,
}

/// `GET /v1/sessions/{id}/messages?limit=`
#[tachometer::track_http(GET, "/v1/sessions/{id}/messages")]
pub(crate) async fn list_messages(
    State(app): State<AppState>,
    Path(session_id): Path<String>,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let limit = list_limit(query.limit);
    if load_session(&app, &session_id).await?.is_none() {
        return Err(ApiError::not_found("session"));
    }

    let messages = app
        .db
        .run(move |conn| db::list_messages(conn, &session_id, limit))
        .await?;
    ok(messages)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewMachine {
    account_id: String,
    name: String,
}

/// `POST /v1/machines`
#[tachometer::track_http(POST, "/v1/machines")]
pub(crate) async fn register_machine(
    State(app): State<AppState>,
    body: Result<Json<NewMachine>, JsonRejection>,
) -> ApiResult {
    let Json(input) = body?;
    let name = checked_text("name", input.name)?;

    let account_id = input.account_id;
    let machine = app
        .db
        .run(move |conn| db::insert_machine(conn, account_id, name))
        .await?;
    match machine {
        Some(machine) => created(machine),
        None => Err(ApiError::not_found("account")),
    }
}
