//! A route template that does not start with `/`: axum would refuse it at start-up, and the
//! `route` label would not match the registered path.
#[tachometer::track_http(GET, "users/{id}")]
async fn user() -> &'static str {
    "user"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
}
