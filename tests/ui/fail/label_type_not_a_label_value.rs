tachometer::catalog! {
    /// Requests by route.
    counter requests_total { route: String }
}

fn main() {}
