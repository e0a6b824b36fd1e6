//! `#[ws_scoped]` without a scope.
#[tachometer::ws_scoped]
struct Session {
    user: String,
}

fn main() {
    let _session = Session {
        user: String::new(),
    };
}
