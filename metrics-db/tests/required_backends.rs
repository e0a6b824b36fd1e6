//! With `TACHOMETER_REQUIRE_SERVICES=1`, a build without the server backends would skip every
//! PostgreSQL and MariaDB test silently; this makes that a failure instead.

mod common;

#[test]
fn server_backends_are_compiled_in_when_services_are_required() {
    if !common::services_required() {
        return;
    }
    let missing: Vec<&str> = [
        ("postgres", cfg!(feature = "postgres")),
        ("mysql", cfg!(feature = "mysql")),
    ]
    .into_iter()
    .filter(|(_, enabled)| !enabled)
    .map(|(name, _)| name)
    .collect();
    assert!(
        missing.is_empty(),
        "TACHOMETER_REQUIRE_SERVICES=1, but tachometer-db was built without the features {missing:?}: \
         their database tests did not run (use --all-features or --features postgres,mysql)"
    );
}
