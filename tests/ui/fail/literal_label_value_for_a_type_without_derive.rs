#[derive(Clone, Copy)]
enum Operation {
    Get,
}

impl tachometer::LabelValue for Operation {
    const ALL: &'static [Self] = &[Operation::Get];

    fn as_str(self) -> &'static str {
        "get"
    }

    fn index(self) -> usize {
        0
    }
}

tachometer::catalog! {
    /// Operations.
    counter operations_total { operation: Operation }
}

fn get() {
    tachometer::count!(operations_total, operation = "get");
}

fn main() {
    get();
}
