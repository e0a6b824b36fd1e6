tachometer::catalog! {
    /// Requests.
    #[cfg(feature = "http")]
    counter requests_total;
}

fn main() {}
