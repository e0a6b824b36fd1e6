tachometer::catalog! {
    /// Counted.
    counter zähler_total;
}

fn main() {}
