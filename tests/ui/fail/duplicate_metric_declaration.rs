tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
    /// Sessions reported alive, again.
    counter session_alive_events_total;
}

fn main() {}
