const HALF: f64 = 0.5;

tachometer::catalog! {
    /// Time a request took.
    histogram request_duration_seconds buckets [0.1, HALF, 1.0];
}

fn main() {}
