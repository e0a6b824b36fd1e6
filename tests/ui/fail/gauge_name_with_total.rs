tachometer::catalog! {
    /// WebSocket connections open now.
    gauge websocket_connections_active_total;
}

fn main() {}
