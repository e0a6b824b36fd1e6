#[derive(Clone, Copy, tachometer::LabelValue)]
enum Operation {
    Get,
    #[label = "get"]
    Fetch,
}

fn main() {}
