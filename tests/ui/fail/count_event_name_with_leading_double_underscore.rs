#[tachometer::count_event(name = "__reserved_total")]
fn on_alive() {}

fn main() {
    on_alive();
}
