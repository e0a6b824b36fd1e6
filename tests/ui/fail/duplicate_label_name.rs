#[derive(Clone, Copy, tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
}

tachometer::catalog! {
    /// Cache operations.
    counter cache_operations_total { operation: CacheOperation, operation: CacheOperation }
}

fn main() {}
