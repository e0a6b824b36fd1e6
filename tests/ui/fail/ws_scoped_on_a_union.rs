//! `#[ws_scoped]` on a union.
#[tachometer::ws_scoped("machine")]
union Machine {
    id: u64,
}

fn main() {
    let _machine = Machine { id: 1 };
}
