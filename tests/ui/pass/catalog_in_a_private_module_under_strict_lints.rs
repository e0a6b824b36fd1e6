//! A catalog in a private module of a binary, with private label enums, under the
//! workspace's lints: no `unreachable_pub`, `missing_docs` or `private_interfaces` finding.
#![deny(warnings, unreachable_pub, missing_docs, unused_qualifications)]

mod telemetry {
    #[derive(Clone, Copy, tachometer::LabelValue)]
    enum CacheOperation {
        Get,
        Set,
    }

    #[derive(Clone, Copy, tachometer::LabelValue)]
    enum CacheResult {
        Hit,
        Miss,
        Ok,
        Error,
    }

    tachometer::catalog! {
        /// Sessions reported alive over WebSocket.
        counter session_alive_events_total;
        /// Session cache operations by operation and result.
        counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
        /// Probes by result.
        counter probe_results_total { result: "ok" | "timeout" }
    }

    #[tachometer::count_event(session_alive_events_total)]
    pub(crate) fn on_alive() {}

    #[tachometer::count_event(session_cache_operations_total, operation = CacheOperation::Get, result = outcome)]
    pub(crate) fn get(key: u32) -> Option<u32> {
        (key > 0).then_some(key)
    }

    #[tachometer::count_event(session_cache_operations_total, operation = CacheOperation::Set, result = outcome)]
    pub(crate) fn set(key: u32) -> Result<u32, String> {
        if key == 0 {
            return Err("zero".to_owned());
        }
        Ok(key)
    }
}

fn main() {
    telemetry::register(tachometer::global());
    telemetry::on_alive();
    let _ = telemetry::get(1);
    let _ = telemetry::set(0);
    tachometer::count!(telemetry::probe_results_total, result = "ok");
}
