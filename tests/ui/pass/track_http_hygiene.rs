//! `#[track_http]` expands to code that compiles with no prelude, beside a user module named
//! `metrics`, and with every warning denied.
#![no_implicit_prelude]
#![deny(warnings)]

mod metrics {
    pub(crate) struct Counter;
}

struct AppError;

impl ::axum::response::IntoResponse for AppError {
    fn into_response(self) -> ::axum::response::Response {
        ::axum::response::IntoResponse::into_response(::axum::http::StatusCode::BAD_REQUEST)
    }
}

impl ::core::convert::From<::core::num::ParseIntError> for AppError {
    fn from(_: ::core::num::ParseIntError) -> Self {
        Self
    }
}

#[::tachometer::track_http(GET, "/users/{id}")]
async fn user(
    ::axum::extract::Path(id): ::axum::extract::Path<::std::string::String>,
) -> ::core::result::Result<::std::string::String, AppError> {
    let _unused = metrics::Counter;
    let id: u32 = id.parse()?;
    ::core::result::Result::Ok(::std::format!("user {id}"))
}

#[::tachometer::track_http(POST, "/sessions")]
async fn create(body: ::std::string::String) -> impl ::axum::response::IntoResponse {
    if body.is_empty() {
        return ::axum::http::StatusCode::BAD_REQUEST;
    }
    ::axum::http::StatusCode::CREATED
}

#[::tachometer::track_http(HEAD, "/")]
async fn root() {}

fn main() {
    let _router: ::axum::Router = ::axum::Router::new()
        .route("/users/{id}", ::axum::routing::get(user))
        .route("/sessions", ::axum::routing::post(create))
        .route("/", ::axum::routing::head(root));
}
