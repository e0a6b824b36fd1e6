tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds buckets [0.1, 0.5, 0.5, 1.0];
}

fn main() {}
