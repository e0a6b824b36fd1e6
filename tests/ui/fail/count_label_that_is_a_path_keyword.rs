#[derive(Clone, Copy, tachometer::LabelValue)]
enum Side {
    Client,
    Server,
}

tachometer::catalog! {
    /// Connections by side.
    counter connections_total { side: Side }
}

fn main() {
    tachometer::count!(connections_total, super = Side::Client);
}
