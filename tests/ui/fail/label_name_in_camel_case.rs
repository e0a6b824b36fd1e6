tachometer::catalog! {
    /// WebSocket messages received, by type.
    counter websocket_events_total { eventType: "ping" | "message" }
}

fn main() {}
