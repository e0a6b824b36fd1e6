//! The method given as a string literal instead of a bare word.
#[tachometer::track_http("GET", "/users/{id}")]
async fn user() -> &'static str {
    "user"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
}
