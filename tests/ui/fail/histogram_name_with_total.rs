tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds_total;
}

fn main() {}
