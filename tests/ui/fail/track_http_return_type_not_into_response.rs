//! A handler whose return type is no response: the error points at the return type.
struct Report {
    _lines: Vec<String>,
}

#[tachometer::track_http(GET, "/report")]
async fn report() -> Report {
    Report { _lines: Vec::new() }
}

fn main() {
    let _router: axum::Router = axum::Router::new().route("/report", axum::routing::get(report));
}
