#[derive(Clone, Copy, tachometer::LabelValue)]
enum Operation {}

fn main() {}
