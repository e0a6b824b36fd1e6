//! An argument `#[ws_scoped]` does not take.
#[tachometer::ws_scoped("session", name = conn)]
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
