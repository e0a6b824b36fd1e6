#[derive(Clone, Copy, tachometer::LabelValue)]
enum Operation {
    Get,
    Set(u8),
}

fn main() {}
