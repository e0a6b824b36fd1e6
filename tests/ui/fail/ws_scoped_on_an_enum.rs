//! `#[ws_scoped]` on an enum: there is no single place to hold the connection.
#[tachometer::ws_scoped("session")]
enum Session {
    Anonymous,
    User(String),
}

fn main() {
    let _session = Session::User(String::new());
    let _anonymous = Session::Anonymous;
}
