#[tachometer::count_event(name = "")]
fn on_alive() {}

fn main() {
    on_alive();
}
