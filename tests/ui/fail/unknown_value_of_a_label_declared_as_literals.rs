tachometer::catalog! {
    /// Probes by result.
    counter probe_results_total { result: "ok" | "timeout" }
}

fn probe() {
    tachometer::count!(probe_results_total, result = "timed_out");
}

fn main() {
    probe();
}
