//! A user module named `metrics` (or `tachometer`-looking names) does not capture paths in
//! the expansion, and the user needs no dependency on `metrics` or `tokio`.
#![deny(warnings)]

mod metrics {
    pub fn counter() {}
    pub struct Counter;
    pub mod __private {}
}

mod telemetry {
    #[derive(Clone, Copy, tachometer::LabelValue)]
    pub(crate) enum EventType {
        SessionAlive,
        Message,
    }

    tachometer::catalog! {
        /// Sessions reported alive over WebSocket.
        counter session_alive_events_total;
        /// WebSocket messages received, by type.
        counter websocket_events_total { event_type: EventType }
    }
}

struct OnceLock;
struct Counter;
struct Descriptor;
fn global() {}

#[tachometer::count_event(telemetry::session_alive_events_total)]
fn on_alive() {
    metrics::counter();
    let _ = metrics::Counter;
}

fn on_event(event: telemetry::EventType) {
    tachometer::count!(telemetry::websocket_events_total, event_type = event);
}

fn main() {
    let _ = (OnceLock, Counter, Descriptor);
    global();
    telemetry::register(tachometer::global());
    on_alive();
    on_event(telemetry::EventType::Message);
    on_event(telemetry::EventType::SessionAlive);
}
