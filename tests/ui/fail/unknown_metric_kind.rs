tachometer::catalog! {
    /// Requests.
    summary request_duration_seconds;
}

fn main() {}
