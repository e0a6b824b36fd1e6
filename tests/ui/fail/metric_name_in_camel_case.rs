tachometer::catalog! {
    /// Messages waiting.
    gauge queueDepth;
}

fn main() {}
