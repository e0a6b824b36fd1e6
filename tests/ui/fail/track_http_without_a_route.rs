//! `#[track_http]` with a method but no route template.
#[tachometer::track_http(GET)]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/health", axum::routing::get(health));
}
