//! An HTTP method that does not exist: the error lists the valid ones. The handler is still
//! defined, so the router below reports nothing more.
#[tachometer::track_http(FETCH, "/users/{id}")]
async fn user() -> &'static str {
    "user"
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
}
