//! Without `registry(...)`, everything goes to `tachometer::global()`, next to the built-in
//! families. One test per process: the global registry is shared.

#![cfg(feature = "sqlite")]

mod common;

use std::time::Duration;

use common::value;
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use tachometer_db::{Debouncer, RecordsUpdater};

mod schema {
    diesel::table! {
        machines (id) {
            id -> Integer,
        }
    }
}

#[tokio::test]
async fn updater_and_debouncer_write_to_the_global_registry_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db").to_str().unwrap().to_owned();
    let mut conn = SqliteConnection::establish(&path).unwrap();
    diesel::sql_query("CREATE TABLE machines (id INTEGER)")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("INSERT INTO machines VALUES (1), (2), (3), (4), (5), (6)")
        .execute(&mut conn)
        .unwrap();

    let updater = RecordsUpdater::<SqliteConnection>::from_url(&path)
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();
    updater.refresh().await;
    let debouncer = Debouncer::new("machine", Duration::from_secs(60));
    assert!(debouncer.should_write(1_u8));
    assert!(!debouncer.should_write(1_u8));

    let text = tachometer::global().render();
    assert_eq!(
        value(&text, "database_records", "table", "machines"),
        Some(6.0)
    );
    assert_eq!(
        value(&text, "database_updates_skipped_total", "type", "machine"),
        Some(1.0)
    );
    assert!(text.contains("# TYPE database_records gauge"), "{text}");
    assert!(text.contains("# TYPE database_records_refresh_duration_seconds histogram"));
}
