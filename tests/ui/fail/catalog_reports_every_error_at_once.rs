tachometer::catalog! {
    /// Sessions.
    counter session_alive_events;
    /// Connections.
    gauge websocket_connections_active_total;
    /// Time.
    histogram request_duration_seconds buckets [1.0, 0.5];
}

fn main() {}
