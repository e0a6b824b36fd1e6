#[tachometer::count_event(name = "session-alive_events_total")]
fn on_alive() {}

fn main() {
    on_alive();
}
