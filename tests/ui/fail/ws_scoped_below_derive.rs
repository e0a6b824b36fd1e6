//! `#[ws_scoped]` below `#[derive(Clone)]`: the derive runs first and never sees the injected
//! connection field. Put `#[ws_scoped]` above the derives.
#[derive(Clone)]
#[tachometer::ws_scoped("user")]
struct User {
    name: String,
}

fn main() {
    let user = User {
        name: "ada".to_owned(),
        ws_connection: tachometer::WsConnection::open(),
    };
    let _other = user.clone();
}
