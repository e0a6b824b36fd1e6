tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events;
}

fn main() {}
