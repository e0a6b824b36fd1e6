//! The WebSocket endpoint: one connection type per scope, and the events clients send.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tachometer::WsConnection;

use crate::api::{ApiError, load_session};
use crate::db;
use crate::state::AppState;
use crate::telemetry::{EventType, websocket_events_total};

/// Which entity a connection belongs to.
#[derive(Clone, Debug)]
enum Owner {
    User { account_id: String },
    Session { session_id: String },
    Machine { machine_id: String },
}

/// A connection opened by a signed-in user, outside any one session.
#[tachometer::ws_scoped("user")]
struct UserConnection {
    account_id: String,
}

/// A connection bound to one chat session.
#[tachometer::ws_scoped("session")]
struct SessionConnection {
    session_id: String,
}

/// A connection opened by a registered machine.
#[tachometer::ws_scoped("machine")]
struct MachineConnection {
    machine_id: String,
}

/// What the event loop needs from any of the three connection types.
trait Connection: Send + 'static {
    fn owner(&self) -> Owner;
}

impl Connection for UserConnection {
    fn owner(&self) -> Owner {
        Owner::User {
            account_id: self.account_id.clone(),
        }
    }
}

impl Connection for SessionConnection {
    fn owner(&self) -> Owner {
        Owner::Session {
            session_id: self.session_id.clone(),
        }
    }
}

impl Connection for MachineConnection {
    fn owner(&self) -> Owner {
        Owner::Machine {
            machine_id: self.machine_id.clone(),
        }
    }
}

fn upgrade_rejected(rejection: WebSocketUpgradeRejection) -> Response {
    rejection.into_response()
}

/// `GET /v1/ws/user/{account_id}`
#[tachometer::track_http(GET, "/v1/ws/user/{account_id}")]
pub(crate) async fn connect_user(
    State(app): State<AppState>,
    Path(account_id): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return upgrade_rejected(rejection),
    };
    let key = account_id.clone();
    match app.db.run(move |conn| db::account_exists(conn, &key)).await {
        Ok(true) => {}
        Ok(false) => return ApiError::not_found("account").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }

    let token = app.tasks.token();
    upgrade.on_upgrade(move |socket| async move {
        let connection = UserConnection {
            account_id,
            ws_connection: WsConnection::open(),
        };
        serve_socket(socket, connection, app).await;
        drop(token);
    })
}

/// `GET /v1/ws/session/{session_id}`
#[tachometer::track_http(GET, "/v1/ws/session/{session_id}")]
pub(crate) async fn connect_session(
    State(app): State<AppState>,
    Path(session_id): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return upgrade_rejected(rejection),
    };
    match load_session(&app, &session_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return ApiError::not_found("session").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }

    let token = app.tasks.token();
    upgrade.on_upgrade(move |socket| async move {
        let connection = SessionConnection {
            session_id,
            ws_connection: WsConnection::open(),
        };
        serve_socket(socket, connection, app).await;
        drop(token);
    })
}

/// `GET /v1/ws/machine/{machine_id}`
#[tachometer::track_http(GET, "/v1/ws/machine/{machine_id}")]
pub(crate) async fn connect_machine(
    State(app): State<AppState>,
    Path(machine_id): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return upgrade_rejected(rejection),
    };
    let key = machine_id.clone();
    match app.db.run(move |conn| db::machine_exists(conn, &key)).await {
        Ok(true) => {}
        Ok(false) => return ApiError::not_found("machine").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }

    let token = app.tasks.token();
    upgrade.on_upgrade(move |socket| async move {
        let connection = MachineConnection {
            machine_id,
            ws_connection: WsConnection::open(),
        };
        serve_socket(socket, connection, app).await;
        drop(token);
    })
}

/// Reads events until the client leaves, the socket fails or the server shuts down. The
/// connection value lives exactly as long as this function runs.
async fn serve_socket<C: Connection>(mut socket: WebSocket, connection: C, app: AppState) {
    let owner = connection.owner();
    loop {
        let incoming = tokio::select! {
            () = app.shutdown.cancelled() => {
                let frame = CloseFrame { code: close_code::AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                break;
            }
            incoming = socket.recv() => incoming,
        };

        let reply = match incoming {
            None | Some(Ok(Message::Close(_))) => break,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "websocket closed without a close frame");
                break;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Text(text))) => handle_event(&app, &owner, text.as_str()).await,
            Some(Ok(Message::Binary(_))) => {
                tachometer::count!(websocket_events_total, event_type = EventType::Unknown);
                json!({ "type": "error", "reason": "binary frames are not understood" })
            }
        };

        if socket
            .send(Message::Text(reply.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    drop(connection);
}

/// A message from a client: `{"type": "...", ...}`.
#[derive(Debug, Default, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: Option<String>,
    session_id: Option<String>,
    machine_id: Option<String>,
    body: Option<String>,
}

fn error_reply(reason: &str) -> Value {
    json!({ "type": "error", "reason": reason })
}

/// Counts one received event and answers it.
async fn handle_event(app: &AppState, owner: &Owner, text: &str) -> Value {
    let event: Event = serde_json::from_str(text).unwrap_or_default();
    let kind = event
        .kind
        .as_deref()
        .map_or(EventType::Unknown, EventType::from_wire);
    tachometer::count!(websocket_events_total, event_type = kind);

    match kind {
        EventType::Ping => json!({ "type": "pong" }),
        EventType::Unknown => error_reply("unknown message type"),
        EventType::SessionAlive => {
            let target = match (owner, event.session_id) {
                (Owner::Session { session_id }, None) => session_id.clone(),
                (Owner::User { account_id }, Some(id)) => match load_session(app, &id).await {
                    Ok(Some(session)) if session.account_id == *account_id => id,
                    Ok(_) => return error_reply("no such session for this account"),
                    Err(e) => {
                        tracing::error!(error = %e, "session lookup failed");
                        return error_reply("database unavailable");
                    }
                },
                (_, Some(id)) => id,
                _ => return error_reply("session-alive needs a session_id"),
            };
            match app.session_alive(&target).await {
                Ok(()) => json!({ "type": "ok", "event": kind.wire_name() }),
                Err(e) => {
                    tracing::error!(error = %e, "session-alive update failed");
                    error_reply("database unavailable")
                }
            }
        }
        EventType::MachineAlive => {
            let target = match (owner, event.machine_id) {
                (_, Some(id)) => id,
                (Owner::Machine { machine_id }, None) => machine_id.clone(),
                _ => return error_reply("machine-alive needs a machine_id"),
            };
            match app.machine_alive(&target).await {
                Ok(()) => json!({ "type": "ok", "event": kind.wire_name() }),
                Err(e) => {
                    tracing::error!(error = %e, "machine-alive update failed");
                    error_reply("database unavailable")
                }
            }
        }
        EventType::Message => {
            let Owner::Session { session_id } = owner else {
                return error_reply("messages are sent on a session connection");
            };
            let Some(body) = event.body.filter(|b| !b.is_empty() && b.len() <= 16 * 1024) else {
                return error_reply("message needs a body of 1 byte to 16 KiB");
            };
            let session_id = session_id.clone();
            match app
                .db
                .run(move |conn| db::insert_message(conn, session_id, body))
                .await
            {
                Ok(message) => json!({ "type": "stored", "id": message.id }),
                Err(e) => {
                    tracing::error!(error = %e, "storing a websocket message failed");
                    error_reply("database unavailable")
                }
            }
        }
    }
}
