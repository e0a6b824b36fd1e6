#[tachometer::count_event(name = "websocket events_total")]
fn on_alive() {}

fn main() {
    on_alive();
}
