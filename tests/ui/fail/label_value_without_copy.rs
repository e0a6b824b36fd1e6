#[derive(tachometer::LabelValue)]
enum Operation {
    Get,
}

fn main() {}
