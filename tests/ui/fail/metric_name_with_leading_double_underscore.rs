tachometer::catalog! {
    /// Reserved.
    counter __cache_operations_total;
}

fn main() {}
