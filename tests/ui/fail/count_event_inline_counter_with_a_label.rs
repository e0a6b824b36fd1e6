#[tachometer::count_event(name = "session_alive_events_total", scope = 1)]
fn on_alive() {}

fn main() {}
