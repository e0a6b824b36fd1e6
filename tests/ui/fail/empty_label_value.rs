#[derive(Clone, Copy, tachometer::LabelValue)]
enum Operation {
    Get,
    #[label = ""]
    Nothing,
}

fn main() {}
