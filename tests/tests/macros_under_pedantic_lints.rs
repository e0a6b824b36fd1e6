//! The expansion of every catalog macro is clean under `#![deny(warnings)]` and clippy's
//! pedantic group: `cargo clippy --all-targets -- -D warnings` lints this file, so a lint
//! firing inside generated code fails the build. It also runs as a test.
#![deny(warnings, clippy::pedantic)]

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Operation {
    Get,
    Set,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum Outcome {
    Hit,
    Miss,
    Ok,
    Error,
}

tachometer::catalog! {
    /// Pedantic calls.
    counter pedantic_calls_total;
    /// Pedantic operations by operation and outcome.
    pub counter pedantic_operations_total { operation: Operation, outcome: Outcome }
    /// Pedantic rows.
    gauge pedantic_rows { operation: Operation }
    /// Pedantic probes.
    counter pedantic_probes_total { result: "ok" | "timeout" }
    /// Pedantic time.
    histogram pedantic_seconds buckets [0.25, 1];
}

#[tachometer::count_event(pedantic_calls_total)]
fn plain() {}

#[tachometer::count_event(pedantic_operations_total, operation = Operation::Get, outcome = outcome)]
fn get(key: u32) -> Option<u32> {
    (key > 0).then_some(key)
}

#[tachometer::count_event(pedantic_operations_total, operation = operation, outcome = outcome)]
async fn set(operation: Operation, value: &str) -> Result<u32, std::num::ParseIntError> {
    let parsed = value.parse()?;
    Ok(parsed)
}

#[tachometer::count_event(name = "pedantic_inline_total")]
fn inline() {}

#[tokio::test]
async fn every_macro_form_counts_under_pedantic_lints() {
    plain();
    assert_eq!(get(0), None);
    assert_eq!(set(Operation::Set, "7").await, Ok(7));
    inline();
    tachometer::count!(pedantic_probes_total, result = "timeout");
    tachometer::count!(
        pedantic_operations_total,
        operation = Operation::Set,
        outcome = Outcome::Hit
    );

    let parsed = tachometer_tests::parse_ok(&tachometer::global().render());
    let read = |operation: &str, outcome: &str| {
        parsed.value(
            "pedantic_operations_total",
            &[("operation", operation), ("outcome", outcome)],
        )
    };
    assert_eq!(parsed.value("pedantic_calls_total", &[]), Some(1.0));
    assert_eq!(parsed.value("pedantic_inline_total", &[]), Some(1.0));
    assert_eq!(read("get", "miss"), Some(1.0));
    assert_eq!(read("set", "ok"), Some(1.0));
    assert_eq!(read("set", "hit"), Some(1.0));
    assert_eq!(read("get", "hit"), Some(0.0));
    assert_eq!(
        parsed.value("pedantic_probes_total", &[("result", "timeout")]),
        Some(1.0)
    );
}
