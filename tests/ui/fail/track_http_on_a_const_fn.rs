//! `#[track_http]` on a `const fn`.
#[tachometer::track_http(GET, "/health")]
const fn health() -> &'static str {
    "ok"
}

fn main() {
    let _ = health();
}
