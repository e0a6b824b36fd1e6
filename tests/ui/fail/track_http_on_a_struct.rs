//! `#[track_http]` on something that is not a function.
#[tachometer::track_http(GET, "/health")]
struct Health;

fn main() {
    let _health = Health;
}
