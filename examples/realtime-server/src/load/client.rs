//! One simulated client: HTTP calls over every route and WebSocket connections in every scope.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long one request or one WebSocket reply may take before the round is given up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The connection scopes, in the order the tally keeps them.
pub(crate) const SCOPES: [&str; 3] = ["user", "session", "machine"];

/// Event types as the server labels them, in the order the tally keeps them.
pub(crate) const EVENT_TYPES: [&str; 5] = [
    "session_alive",
    "machine_alive",
    "message",
    "ping",
    "unknown",
];

const SESSION_ALIVE: usize = 0;
const MACHINE_ALIVE: usize = 1;
const MESSAGE: usize = 2;
const PING: usize = 3;
const UNKNOWN: usize = 4;

/// Paths that match no route, with the method used for each.
const UNMATCHED: [(&str, &str); 4] = [
    ("GET", "/probe-{uuid}"),
    ("POST", "/wp-admin/{uuid}.php"),
    ("GET", "/.env"),
    ("DELETE", "/v1/nope/{uuid}"),
];

/// What every client did, added up. Each count is taken when the server's answer arrived.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// HTTP responses received, WebSocket upgrades included.
    pub(crate) requests: AtomicU64,
    /// Responses to unmatched paths, by method and status.
    pub(crate) unmatched: Mutex<BTreeMap<(String, u16), u64>>,
    pub(crate) accounts: AtomicU64,
    pub(crate) sessions: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) machines: AtomicU64,
    pub(crate) ws_opened: [AtomicU64; 3],
    pub(crate) ws_open_now: AtomicI64,
    pub(crate) ws_closed_cleanly: AtomicU64,
    pub(crate) ws_dropped: AtomicU64,
    /// Events whose reply arrived, by `EVENT_TYPES` index.
    pub(crate) events: [AtomicU64; 5],
    /// Alive events the server applied (answered `ok`).
    pub(crate) session_alive: AtomicU64,
    pub(crate) machine_alive: AtomicU64,
    pub(crate) rounds: AtomicU64,
    pub(crate) failures: Mutex<Vec<String>>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Tally {
    fn fail(&self, error: RoundError) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.push(error.to_string());
        }
    }

    pub(crate) fn failure_count(&self) -> usize {
        self.failures.lock().map(|f| f.len()).unwrap_or(0)
    }
}

/// Why a round stopped early.
#[derive(Debug)]
pub(crate) enum RoundError {
    Transport(String),
    Status {
        what: String,
        expected: u16,
        got: u16,
    },
    Reply {
        what: String,
        got: String,
    },
    Timeout(String),
}

impl fmt::Display for RoundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoundError::Transport(e) => write!(f, "transport error: {e}"),
            RoundError::Status {
                what,
                expected,
                got,
            } => {
                write!(f, "{what}: expected status {expected}, got {got}")
            }
            RoundError::Reply { what, got } => write!(f, "{what}: unexpected reply {got}"),
            RoundError::Timeout(what) => write!(f, "{what}: no answer within {REPLY_TIMEOUT:?}"),
        }
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a simulated client needs; shared by all of them.
#[derive(Debug)]
pub(crate) struct ClientContext {
    pub(crate) http: reqwest::Client,
    /// `http://host:port`, no trailing slash.
    pub(crate) base: String,
    /// `ws://host:port`.
    pub(crate) ws_base: String,
    pub(crate) ws_hold: Duration,
    /// Every n-th round drops its WebSocket connections without a close frame (0: never).
    pub(crate) abrupt_every: u64,
    pub(crate) tally: Tally,
}

impl ClientContext {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Result<Value, RoundError> {
        let what = format!("{method} {path}");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }

        let response = tokio::time::timeout(REPLY_TIMEOUT, request.send())
            .await
            .map_err(|_| RoundError::Timeout(what.clone()))?
            .map_err(|e| RoundError::Transport(format!("{what}: {e}")))?;
        add(&self.tally.requests, 1);

        let status = response.status();
        let bytes = tokio::time::timeout(REPLY_TIMEOUT, response.bytes())
            .await
            .map_err(|_| RoundError::Timeout(what.clone()))?
            .map_err(|e| RoundError::Transport(format!("{what}: {e}")))?;
        if status != expected {
            return Err(RoundError::Status {
                what,
                expected: expected.as_u16(),
                got: status.as_u16(),
            });
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn unmatched(&self, round: u64) -> Result<(), RoundError> {
        let (method, template) = UNMATCHED[(round as usize) % UNMATCHED.len()];
        let path = template.replace("{uuid}", &uuid::Uuid::new_v4().to_string());
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let result = self
            .call(method.clone(), &path, None, StatusCode::NOT_FOUND)
            .await;

        let status = match &result {
            Ok(_) => Some(404),
            Err(RoundError::Status { got, .. }) => Some(*got),
            Err(_) => None,
        };
        if let (Some(status), Ok(mut unmatched)) = (status, self.tally.unmatched.lock()) {
            *unmatched.entry((method.to_string(), status)).or_insert(0) += 1;
        }
        result.map(|_| ())
    }

    async fn open_socket(&self, scope: usize, id: &str) -> Result<Socket, RoundError> {
        let url = format!("{}/v1/ws/{}/{id}", self.ws_base, SCOPES[scope]);
        let what = format!("GET /v1/ws/{}/{{id}}", SCOPES[scope]);
        let connected = tokio::time::timeout(REPLY_TIMEOUT, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| RoundError::Timeout(what.clone()))?;

        match connected {
            Ok((socket, _response)) => {
                add(&self.tally.requests, 1);
                add(&self.tally.ws_opened[scope], 1);
                self.tally.ws_open_now.fetch_add(1, Ordering::Relaxed);
                Ok(socket)
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                add(&self.tally.requests, 1);
                Err(RoundError::Status {
                    what,
                    expected: 101,
                    got: response.status().as_u16(),
                })
            }
            Err(e) => Err(RoundError::Transport(format!("{what}: {e}"))),
        }
    }

    /// Sends one frame and waits for the server's answer, which must have `"type": expected`.
    async fn exchange(
        &self,
        socket: &mut Socket,
        frame: Message,
        event: usize,
        expected: &str,
    ) -> Result<Value, RoundError> {
        let what = format!("websocket {}", EVENT_TYPES[event]);
        socket
            .send(frame)
            .await
            .map_err(|e| RoundError::Transport(format!("{what}: {e}")))?;

        let reply = loop {
            let next = tokio::time::timeout(REPLY_TIMEOUT, socket.next())
                .await
                .map_err(|_| RoundError::Timeout(what.clone()))?;
            match next {
                Some(Ok(Message::Text(text))) => break text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => {
                    return Err(RoundError::Reply {
                        what,
                        got: format!("{other:?}"),
                    });
                }
                Some(Err(e)) => return Err(RoundError::Transport(format!("{what}: {e}"))),
                None => return Err(RoundError::Transport(format!("{what}: connection closed"))),
            }
        };
        add(&self.tally.events[event], 1);

        let value: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
        if value["type"] != expected {
            return Err(RoundError::Reply { what, got: reply });
        }
        Ok(value)
    }

    async fn send_event(
        &self,
        socket: &mut Socket,
        event: usize,
        body: Value,
        expected: &str,
    ) -> Result<Value, RoundError> {
        self.exchange(
            socket,
            Message::Text(body.to_string().into()),
            event,
            expected,
        )
        .await
    }

    /// Closes with a close frame and waits for the server's, or drops the TCP connection.
    async fn finish_socket(&self, mut socket: Socket, abrupt: bool) {
        self.tally.ws_open_now.fetch_sub(1, Ordering::Relaxed);
        if abrupt {
            drop(socket);
            add(&self.tally.ws_dropped, 1);
            return;
        }

        let closing = async {
            let _ = socket.close(None).await;
            while let Some(Ok(_)) = socket.next().await {}
        };
        let _ = tokio::time::timeout(REPLY_TIMEOUT, closing).await;
        add(&self.tally.ws_closed_cleanly, 1);
    }

    /// One round of a client: create the entities, connect in all three scopes, exercise every
    /// route and message kind, hold the connections a while, then leave.
    async fn round(&self, client: usize, round: u64) -> Result<(), RoundError> {
        let tally = &self.tally;
        let created = StatusCode::CREATED;

        let account = self
            .call(
                Method::POST,
                "/v1/accounts",
                Some(json!({ "name": format!("client-{client}") })),
                created,
            )
            .await?;
        add(&tally.accounts, 1);
        let account_id = account["id"].as_str().unwrap_or_default().to_owned();

        let machine_body =
            json!({ "account_id": account_id, "name": format!("machine-{client}-{round}") });
        let machine = self
            .call(Method::POST, "/v1/machines", Some(machine_body), created)
            .await?;
        add(&tally.machines, 1);
        let machine_id = machine["id"].as_str().unwrap_or_default().to_owned();

        let session_body = json!({ "account_id": account_id, "title": format!("round {round}") });
        let session = self
            .call(Method::POST, "/v1/sessions", Some(session_body), created)
            .await?;
        add(&tally.sessions, 1);
        let session_id = session["id"].as_str().unwrap_or_default().to_owned();

        let mut user_socket = self.open_socket(0, &account_id).await?;
        let mut session_socket = self.open_socket(1, &session_id).await?;
        let mut machine_socket = self.open_socket(2, &machine_id).await?;

        let ok = StatusCode::OK;
        let session_path = format!("/v1/sessions/{session_id}");
        self.call(Method::GET, &session_path, None, ok).await?;
        self.call(Method::GET, &session_path, None, ok).await?;
        self.call(
            Method::GET,
            &format!("/v1/sessions?account_id={account_id}&limit=10"),
            None,
            ok,
        )
        .await?;
        for n in 0..2 {
            let body = json!({ "body": format!("hello {n} from client {client}") });
            self.call(
                Method::POST,
                &format!("{session_path}/messages"),
                Some(body),
                created,
            )
            .await?;
            add(&tally.messages, 1);
        }
        self.call(
            Method::GET,
            &format!("{session_path}/messages?limit=20"),
            None,
            ok,
        )
        .await?;
        let missing = format!("/v1/sessions/{}", uuid::Uuid::new_v4());
        self.call(Method::GET, &missing, None, StatusCode::NOT_FOUND)
            .await?;
        self.unmatched(round).await?;

        // Session scope: every known kind plus two unknown ones.
        self.send_event(
            &mut session_socket,
            SESSION_ALIVE,
            json!({ "type": "session-alive" }),
            "ok",
        )
        .await?;
        add(&tally.session_alive, 1);
        self.send_event(
            &mut session_socket,
            MESSAGE,
            json!({ "type": "message", "body": "over the socket" }),
            "stored",
        )
        .await?;
        add(&tally.messages, 1);
        self.send_event(&mut session_socket, PING, json!({ "type": "ping" }), "pong")
            .await?;
        self.send_event(
            &mut session_socket,
            UNKNOWN,
            json!({ "type": "typing" }),
            "error",
        )
        .await?;
        self.exchange(
            &mut session_socket,
            Message::Text("not json".into()),
            UNKNOWN,
            "error",
        )
        .await?;

        // User scope: alive for a named session, and a message that needs a session connection.
        let alive = json!({ "type": "session-alive", "session_id": session_id });
        self.send_event(&mut user_socket, SESSION_ALIVE, alive, "ok")
            .await?;
        add(&tally.session_alive, 1);
        self.send_event(
            &mut user_socket,
            MESSAGE,
            json!({ "type": "message", "body": "nowhere" }),
            "error",
        )
        .await?;
        self.send_event(&mut user_socket, PING, json!({ "type": "ping" }), "pong")
            .await?;

        // Machine scope: alive, ping and a binary frame the server does not understand.
        self.send_event(
            &mut machine_socket,
            MACHINE_ALIVE,
            json!({ "type": "machine-alive" }),
            "ok",
        )
        .await?;
        add(&tally.machine_alive, 1);
        self.send_event(&mut machine_socket, PING, json!({ "type": "ping" }), "pong")
            .await?;
        self.exchange(
            &mut machine_socket,
            Message::Binary(vec![0xde, 0xad].into()),
            UNKNOWN,
            "error",
        )
        .await?;

        tokio::time::sleep(self.ws_hold).await;
        self.send_event(
            &mut machine_socket,
            MACHINE_ALIVE,
            json!({ "type": "machine-alive" }),
            "ok",
        )
        .await?;
        add(&tally.machine_alive, 1);

        let abrupt = self.abrupt_every > 0 && round % self.abrupt_every == self.abrupt_every - 1;
        self.finish_socket(user_socket, abrupt).await;
        self.finish_socket(session_socket, abrupt).await;
        self.finish_socket(machine_socket, abrupt).await;

        add(&tally.rounds, 1);
        Ok(())
    }
}

/// Runs rounds until `deadline`; a failed round is recorded and the next one starts.
pub(crate) async fn run_client(
    context: std::sync::Arc<ClientContext>,
    client: usize,
    deadline: tokio::time::Instant,
) {
    let mut round = 0;
    while tokio::time::Instant::now() < deadline {
        if let Err(error) = context.round(client, round).await {
            context.tally.fail(error);
        }
        round += 1;
    }
}

/// Reads the open-socket count the client side believes in (for the progress line).
pub(crate) fn open_now(tally: &Tally) -> i64 {
    tally.ws_open_now.load(Ordering::Relaxed)
}

pub(crate) fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
