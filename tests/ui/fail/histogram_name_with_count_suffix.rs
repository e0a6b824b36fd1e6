tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_count;
}

fn main() {}
