tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds buckets [0.1, 1.0, f64::INFINITY];
}

fn main() {}
