tachometer::catalog! {
    /// Total latency so far, which a histogram's `_sum` already is.
    gauge request_latency_sum;
}

fn main() {}
