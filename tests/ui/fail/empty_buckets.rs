tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds buckets [];
}

fn main() {}
