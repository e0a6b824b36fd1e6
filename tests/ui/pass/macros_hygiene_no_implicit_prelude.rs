//! Every macro of the catalog family expands to code that names nothing from the prelude.
#![no_implicit_prelude]
#![deny(warnings)]

#[derive(::core::clone::Clone, ::core::marker::Copy, ::tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
}

#[derive(::core::clone::Clone, ::core::marker::Copy, ::tachometer::LabelValue)]
enum CacheResult {
    Hit,
    Miss,
    Ok,
    Error,
}

::tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
    /// Session cache operations by operation and result.
    counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
    /// Rows in a tracked table.
    gauge tracked_rows { operation: CacheOperation }
    /// Time one refresh took.
    histogram refresh_seconds buckets [0.5, 1, 2.5];
    /// Probes by result.
    counter probe_results_total { result: "ok" | "timeout" }
}

#[::tachometer::count_event(session_alive_events_total)]
fn on_alive() {}

#[::tachometer::count_event(session_cache_operations_total, operation = CacheOperation::Get, result = outcome)]
fn get(key: u32) -> ::core::option::Option<u32> {
    if key == 0 {
        return ::core::option::Option::None;
    }
    ::core::option::Option::Some(key)
}

#[::tachometer::count_event(session_cache_operations_total, operation = op, result = outcome)]
fn set(op: CacheOperation, value: u32) -> ::core::result::Result<u32, u32> {
    let _ = op;
    if value == 0 {
        ::core::result::Result::Err(value)
    } else {
        ::core::result::Result::Ok(value)
    }
}

#[::tachometer::count_event(name = "inline_events_total", help = "Inline events.")]
async fn inline() {}

fn main() {
    register(::tachometer::global());
    on_alive();
    let _ = get(1);
    let _ = set(CacheOperation::Set, 0);
    let _ = inline();
    ::tachometer::count!(session_cache_operations_total, operation = CacheOperation::Set, result = CacheResult::Ok);
    ::tachometer::count!(session_cache_operations_total, operation = "get", result = "hit");
    ::tachometer::count!(probe_results_total, result = "timeout");
}
