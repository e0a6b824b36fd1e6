//! A custom scope named like a known one: use the known scope directly.
#[tachometer::ws_scoped(custom = "session")]
struct Session {
    user: String,
}

fn main() {
    let session = Session {
        user: String::new(),
        ws_connection: tachometer::WsConnection::open(),
    };
    drop(session.user);
}
