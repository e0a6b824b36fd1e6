//! `#[track_http]` with no method and no route.
#[tachometer::track_http]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/health", axum::routing::get(health));
}
