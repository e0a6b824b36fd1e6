//! A route template whose capture never closes: axum would refuse it at start-up.
#[tachometer::track_http(GET, "/users/{id")]
async fn user() -> &'static str {
    "user"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
}
