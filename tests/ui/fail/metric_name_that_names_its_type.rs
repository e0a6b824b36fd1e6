tachometer::catalog! {
    /// Connections open now.
    gauge connections_gauge;
}

fn main() {}
