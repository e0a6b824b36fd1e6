#[derive(Clone, Copy, tachometer::LabelValue)]
struct Operation {
    name: u8,
}

fn main() {}
