#[derive(Clone, Copy, tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
}

#[derive(Clone, Copy, tachometer::LabelValue)]
enum CacheResult {
    Hit,
    Miss,
}

tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
    /// Session cache operations by operation and result.
    counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
    /// WebSocket connections open now.
    gauge websocket_connections_active;
}

fn get() {
    tachometer::count!(
        session_cache_operations_total,
        operation = "gett",
        result = CacheResult::Hit
    );
}

fn main() {}
