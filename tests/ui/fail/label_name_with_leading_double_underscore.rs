#[derive(Clone, Copy, tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
}

tachometer::catalog! {
    /// Cache operations.
    counter cache_operations_total { __operation: CacheOperation }
}

fn main() {}
