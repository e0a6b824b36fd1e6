tachometer::catalog! {
    /// Rows in a tracked table.
    gauge database_records_count;
}

fn main() {}
