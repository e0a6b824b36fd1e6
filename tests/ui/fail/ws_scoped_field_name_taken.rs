//! The struct already has a field named like the connection field `#[ws_scoped]` adds.
#[tachometer::ws_scoped("session")]
struct Session {
    ws_connection: u64,
}

fn main() {
    let _session = Session { ws_connection: 1 };
}
