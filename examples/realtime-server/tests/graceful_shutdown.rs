//! SIGTERM while WebSocket clients are connected: each open socket gets a close frame with code
//! 1001 (going away) and the process exits with status 0.

mod common;

use common::{PATIENCE, start_server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The value of `websocket_connections_active{scope="<scope>"}` in an exposition, if present.
fn active(exposition: &str, scope: &str) -> Option<f64> {
    let prefix = format!("websocket_connections_active{{scope=\"{scope}\"}} ");
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_open_websockets_with_going_away_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let database = dir.path().join("shutdown.db");
    let server = start_server(&database.to_string_lossy(), None).await;
    let (api, metrics) = (server.api.clone(), server.metrics.clone());

    let http = reqwest::Client::new();
    let account: Value = http
        .post(format!("{api}/v1/accounts"))
        .json(&json!({ "name": "shutdown" }))
        .send()
        .await
        .expect("create an account")
        .json()
        .await
        .expect("account JSON");
    let account_id = account["id"].as_str().expect("account id");
    let session: Value = http
        .post(format!("{api}/v1/sessions"))
        .json(&json!({ "account_id": account_id, "title": "t" }))
        .send()
        .await
        .expect("create a session")
        .json()
        .await
        .expect("session JSON");
    let session_id = session["id"].as_str().expect("session id");

    let ws = api.replacen("http://", "ws://", 1);
    let (mut user, _) = tokio_tungstenite::connect_async(format!("{ws}/v1/ws/user/{account_id}"))
        .await
        .expect("open a user socket");
    let (mut chat, _) =
        tokio_tungstenite::connect_async(format!("{ws}/v1/ws/session/{session_id}"))
            .await
            .expect("open a session socket");

    // A round trip on each socket proves the server holds both connections.
    for socket in [&mut user, &mut chat] {
        socket
            .send(Message::Text(json!({ "type": "ping" }).to_string().into()))
            .await
            .expect("send ping");
        let reply = socket.next().await.expect("a reply").expect("a frame");
        assert_eq!(
            reply.into_text().expect("text reply").as_str(),
            r#"{"type":"pong"}"#
        );
    }
    let before = http
        .get(&metrics)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    assert_eq!(active(&before, "user"), Some(1.0), "{before}");
    assert_eq!(active(&before, "session"), Some(1.0), "{before}");

    let pid = server.child.id().expect("server pid").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(killed.success());

    for socket in [&mut user, &mut chat] {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("the server closes the socket")
            .expect("a frame before the end")
            .expect("a well-formed frame");
        match frame {
            Message::Close(Some(close)) => assert_eq!(close.code, CloseCode::Away),
            other => panic!("expected a close frame with code 1001, got {other:?}"),
        }
    }

    let mut child = server.child;
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .expect("wait for the server");
    assert!(exit.success(), "exit status {exit}");
}
