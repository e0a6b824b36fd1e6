#[tachometer::count_event(name = "9lives_total")]
fn on_alive() {}

fn main() {
    on_alive();
}
