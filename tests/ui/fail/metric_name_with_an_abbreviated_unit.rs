tachometer::catalog! {
    /// Time to answer.
    histogram request_duration_ms buckets [1, 10, 100];
}

fn main() {}
