//! The compile-time suite: every file in `ui/pass` compiles, every file in `ui/fail` fails
//! with exactly the error beside it in its `.stderr` file.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
