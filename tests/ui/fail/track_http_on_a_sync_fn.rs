//! `#[track_http]` on a handler that is not `async`.
#[tachometer::track_http(GET, "/health")]
fn health() -> &'static str {
    "ok"
}

fn main() {
    let _ = health();
}
