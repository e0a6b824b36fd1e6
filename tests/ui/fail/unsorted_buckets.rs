tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds buckets [0.1, 1.0, 0.5];
}

fn main() {}
