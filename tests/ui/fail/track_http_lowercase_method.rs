//! A method written in lower case: methods are upper case, as on the wire.
#[tachometer::track_http(get, "/users/{id}")]
async fn user() -> &'static str {
    "user"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
}
