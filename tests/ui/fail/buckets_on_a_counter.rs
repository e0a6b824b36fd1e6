tachometer::catalog! {
    /// Requests.
    counter requests_total buckets [0.1, 1.0];
}

fn main() {}
