#[derive(Clone, Copy, tachometer::LabelValue)]
enum Side {
    Client,
    Server,
}

tachometer::catalog! {
    /// Connections by side.
    counter connections_total { self: Side }
}

fn main() {}
