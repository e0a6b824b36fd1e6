//! A misspelled scope: the error lists the known scopes and how to declare one's own. The
//! struct still gets its connection field, so building it reports nothing more.
#[tachometer::ws_scoped("sesion")]
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
