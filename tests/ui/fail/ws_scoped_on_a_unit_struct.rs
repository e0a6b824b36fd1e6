//! `#[ws_scoped]` on a unit struct: it has no fields to hold the connection.
#[tachometer::ws_scoped("machine")]
struct Machine;

fn main() {
    let _machine = Machine;
}
