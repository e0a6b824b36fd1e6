//! C8: a valid name declared by `#[count_event(name = "...")]` compiles.
#![deny(warnings)]

/// Sessions reported alive over WebSocket.
#[tachometer::count_event(name = "session_alive_events_total")]
fn on_alive() {}

#[tachometer::count_event(name = "machine_alive_events_total", help = "Machines reported alive.")]
fn on_machine_alive() {}

fn main() {
    on_alive();
    on_machine_alive();
}
