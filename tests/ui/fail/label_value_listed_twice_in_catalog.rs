tachometer::catalog! {
    /// Probes by result.
    counter probe_results_total { result: "ok" | "timeout" | "ok" }
}

fn main() {}
