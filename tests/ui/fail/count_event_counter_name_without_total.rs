#[tachometer::count_event(name = "session_alive_events")]
fn on_alive() {}

fn main() {
    on_alive();
}
