//! Row counts on SQLite files: exact and estimated counts, missing tables, the updater's
//! lifecycle and its configuration errors.

#![cfg(feature = "sqlite")]

mod common;

use std::time::Duration;

use common::{Logs, errors, last_refresh, records, refreshes, wait_until};
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use tachometer::Registry;
use tachometer_db::{CountMode, RecordsUpdater, RefreshError, Rows, StartError, TableOptions};

mod schema {
    diesel::table! {
        sessions (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        machines (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        accounts (id) {
            id -> Integer,
        }
    }
}

/// A SQLite file in its own temporary directory, removed with it.
struct Db {
    _dir: tempfile::TempDir,
    path: String,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db").to_str().unwrap().to_owned();
        Db { _dir: dir, path }
    }

    fn execute(&self, sql: &str) {
        let mut conn = SqliteConnection::establish(&self.path).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }

    fn updater(&self, registry: &Registry) -> RecordsUpdater<SqliteConnection> {
        RecordsUpdater::<SqliteConnection>::from_url(&self.path).registry(registry.clone())
    }
}

fn rows(rows: u64, exact: bool) -> Result<Rows, RefreshError> {
    Ok(Rows { rows, exact })
}

#[tokio::test]
async fn exact_counts_follow_inserts_and_deletes() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .mode(CountMode::Exact)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    let report = updater.refresh().await;
    assert_eq!(report[0].result, rows(0, true));
    assert_eq!(records(&registry, "sessions"), Some(0.0));

    db.execute("INSERT INTO sessions (id) VALUES (1), (2), (3), (4), (5)");
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(5.0));

    db.execute("DELETE FROM sessions WHERE id IN (2, 4)");
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(3.0));

    db.execute("WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 1009) INSERT INTO sessions (id) SELECT i FROM n");
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(1003.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

#[tokio::test]
async fn estimated_count_reads_the_statistics_of_the_last_analyze() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, account INTEGER)");
    db.execute("CREATE INDEX sessions_account ON sessions (account)");
    db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) INSERT INTO sessions (id, account) SELECT i, i % 7 FROM n");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .mode(CountMode::Estimated)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    // Never analyzed: no statistics, so no value rather than a guess.
    assert_eq!(
        updater.refresh().await[0].result,
        Err(RefreshError::NoEstimate)
    );
    assert_eq!(records(&registry, "sessions"), None);
    assert_eq!(errors(&registry, "sessions"), Some(1.0));

    db.execute("ANALYZE");
    assert_eq!(updater.refresh().await[0].result, rows(2500, false));

    // The estimate is the statistics', not the table's, until the next ANALYZE.
    db.execute("DELETE FROM sessions WHERE id > 2000");
    assert_eq!(updater.refresh().await[0].result, rows(2500, false));
    db.execute("ANALYZE");
    assert_eq!(updater.refresh().await[0].result, rows(2000, false));
    assert_eq!(records(&registry, "sessions"), Some(2000.0));
}

#[tokio::test]
async fn auto_mode_counts_exactly_when_there_is_no_estimate_or_the_table_is_small() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)");
    db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)");
    db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO sessions (id) SELECT i FROM n");
    db.execute("INSERT INTO accounts (id) VALUES (1), (2)");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .auto_exact_below(100)
        .track(schema::sessions::table, "sessions")
        .track(schema::accounts::table, "accounts")
        .build()
        .unwrap();

    // No statistics at all yet: both exact.
    let report = updater.refresh().await;
    assert_eq!(report[0].result, rows(300, true));
    assert_eq!(report[1].result, rows(2, true));

    db.execute("ANALYZE");
    db.execute("INSERT INTO sessions (id) VALUES (1000)");
    db.execute("INSERT INTO accounts (id) VALUES (3)");
    let report = updater.refresh().await;
    // 300 rows by the statistics, at or above the threshold: the estimate (stale by one row).
    assert_eq!(report[0].result, rows(300, false));
    // 2 rows by the statistics, below it: counted, so the new row shows.
    assert_eq!(report[1].result, rows(3, true));
}

/// Case C12: the per-table query fails while the table is absent. That failure must neither stop
/// the other tables nor turn into a count of 0.
#[tokio::test]
async fn tracked_table_that_does_not_exist_yet_is_an_error_not_a_zero() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    db.execute("INSERT INTO sessions VALUES (1), (2), (3)");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .track(schema::sessions::table, "sessions")
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();

    for _ in 0..2 {
        let report = updater.refresh().await;
        assert_eq!(report[0].result, rows(3, true));
        let Err(RefreshError::Query(message)) = &report[1].result else {
            panic!("expected a query error, got {:?}", report[1].result);
        };
        assert!(message.contains("no such table: machines"), "{message}");
    }
    assert_eq!(records(&registry, "sessions"), Some(3.0));
    assert_eq!(
        records(&registry, "machines"),
        None,
        "a made-up 0 is the fault"
    );
    assert_eq!(last_refresh(&registry, "machines"), None);
    assert_eq!(errors(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));

    db.execute("CREATE TABLE machines (id INTEGER)");
    db.execute("INSERT INTO machines VALUES (1), (2)");
    updater.refresh().await;
    assert_eq!(records(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "machines"), Some(2.0));
    assert_eq!(records(&registry, "sessions"), Some(3.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

#[test]
fn missing_table_logs_one_warning_without_the_connection_url_and_others_keep_refreshing() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    db.execute("INSERT INTO sessions VALUES (1)");
    let registry = Registry::new();
    let logs = Logs::default();
    let _capture = logs.capture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    runtime.block_on(async {
        let updater = db
            .updater(&registry)
            .track(schema::machines::table, "machines")
            .track(schema::sessions::table, "sessions")
            .build()
            .unwrap();
        updater.refresh().await;
        db.execute("INSERT INTO sessions VALUES (2)");
        updater.refresh().await;
    });

    assert_eq!(records(&registry, "sessions"), Some(2.0));
    assert_eq!(errors(&registry, "machines"), Some(2.0));
    let text = logs.text();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 2, "one warning per failed refresh:\n{text}");
    for warning in &warnings {
        assert!(warning.contains("table=machines"), "{warning}");
        assert!(warning.contains("reason=\"query\""), "{warning}");
        assert!(warning.contains("no such table: machines"), "{warning}");
    }
    assert!(
        warnings[0].contains("consecutive_failures=1"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("consecutive_failures=2"),
        "{}",
        warnings[1]
    );
    assert!(
        !text.contains(&db.path),
        "the log names the database file:\n{text}"
    );
}

#[tokio::test]
async fn background_updater_refreshes_on_its_own_and_stops_on_shutdown() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    let registry = Registry::new();
    let handle = db
        .updater(&registry)
        .interval(Duration::from_millis(20))
        .jitter(Duration::from_millis(5))
        .track(schema::sessions::table, "sessions")
        .start()
        .unwrap();

    wait_until("the first refresh", || {
        records(&registry, "sessions") == Some(0.0)
    })
    .await;
    db.execute("INSERT INTO sessions VALUES (1), (2)");
    wait_until("the insert shows", || {
        records(&registry, "sessions") == Some(2.0)
    })
    .await;
    let stamp = last_refresh(&registry, "sessions").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        stamp > now - 3600.0 && stamp <= now,
        "timestamp {stamp} is not Unix time"
    );

    handle.shutdown().await;
    let after_shutdown = refreshes(&registry, "sessions").unwrap();
    db.execute("INSERT INTO sessions VALUES (3)");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(refreshes(&registry, "sessions"), Some(after_shutdown));
    assert_eq!(records(&registry, "sessions"), Some(2.0));
}

#[tokio::test]
async fn dropping_the_handle_stops_the_updater() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    let registry = Registry::new();
    let handle = db
        .updater(&registry)
        .interval(Duration::from_millis(20))
        .track(schema::sessions::table, "sessions")
        .start()
        .unwrap();
    wait_until("two refreshes", || {
        refreshes(&registry, "sessions") >= Some(2.0)
    })
    .await;

    drop(handle);
    // The loop ends after the cycle in progress, if any (a cycle here takes about a millisecond).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = refreshes(&registry, "sessions").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(refreshes(&registry, "sessions"), Some(settled));
}

#[tokio::test]
async fn per_table_timeout_counts_an_error_and_keeps_the_last_value() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    db.execute("INSERT INTO sessions VALUES (1)");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(1.0));

    // An exclusive transaction elsewhere makes every read wait on the lock (busy) or fail.
    let mut locker = SqliteConnection::establish(&db.path).unwrap();
    diesel::sql_query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .unwrap();
    diesel::sql_query("INSERT INTO sessions VALUES (2)")
        .execute(&mut locker)
        .unwrap();
    let report = updater.refresh().await;
    assert!(report[0].result.is_err(), "{:?}", report[0].result);
    assert_eq!(
        records(&registry, "sessions"),
        Some(1.0),
        "the last good value stays"
    );
    assert_eq!(errors(&registry, "sessions"), Some(1.0));

    diesel::sql_query("COMMIT").execute(&mut locker).unwrap();
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(2.0));
    assert_eq!(errors(&registry, "sessions"), Some(1.0));
}

#[tokio::test]
async fn refresh_duration_is_a_histogram_with_the_contract_buckets() {
    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    let registry = Registry::new();
    let updater = db
        .updater(&registry)
        .track(schema::sessions::table, "sessions")
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();
    updater.refresh().await;
    updater.refresh().await;

    let samples = common::parse(&registry.render());
    for table in ["sessions", "machines"] {
        let bounds: Vec<f64> = samples
            .iter()
            .filter(|s| s.name == "database_records_refresh_duration_seconds_bucket")
            .filter(|s| s.labels["table"] == table)
            .map(|s| {
                s.labels["le"]
                    .replace("+Inf", "inf")
                    .parse::<f64>()
                    .unwrap()
            })
            .collect();
        let expected = [
            0.001,
            0.005,
            0.01,
            0.05,
            0.1,
            0.5,
            1.0,
            5.0,
            30.0,
            f64::INFINITY,
        ];
        assert_eq!(bounds, expected, "{table}");
        // Failed refreshes are observed too: both tables were attempted twice.
        assert_eq!(refreshes(&registry, table), Some(2.0), "{table}");
    }
    assert!(!samples.iter().any(|s| s.labels.contains_key("quantile")));
}

#[tokio::test]
async fn configuration_mistakes_are_reported_before_anything_runs() {
    let db = Db::new();
    let build = |updater: RecordsUpdater<SqliteConnection>| updater.build().err();

    assert_eq!(
        build(db.updater(&Registry::new())),
        Some(StartError::NoTables)
    );
    assert_eq!(
        build(
            db.updater(&Registry::new())
                .track(schema::sessions::table, "sessions")
                .track(schema::machines::table, "sessions")
        ),
        Some(StartError::DuplicateLabel("sessions".to_owned()))
    );
    assert_eq!(
        build(
            db.updater(&Registry::new())
                .track(schema::sessions::table, "")
        ),
        Some(StartError::EmptyLabel)
    );
    assert_eq!(
        build(
            db.updater(&Registry::new())
                .interval(Duration::ZERO)
                .track(schema::sessions::table, "sessions")
        ),
        Some(StartError::ZeroDuration("refresh interval"))
    );
    assert_eq!(
        build(db.updater(&Registry::new()).track_with(
            schema::sessions::table,
            "sessions",
            TableOptions::new().timeout(Duration::ZERO)
        )),
        Some(StartError::ZeroDuration("refresh timeout"))
    );
}

#[test]
fn starting_outside_a_tokio_runtime_is_an_error() {
    let db = Db::new();
    let registry = Registry::new();
    let started = db
        .updater(&registry)
        .track(schema::sessions::table, "sessions")
        .start();
    assert_eq!(started.err(), Some(StartError::NoRuntime));
    assert_eq!(
        errors(&registry, "sessions"),
        None,
        "a failed start left a series"
    );
}

#[cfg(feature = "r2d2")]
#[tokio::test]
async fn counts_through_an_r2d2_pool() {
    use diesel::r2d2::{ConnectionManager, Pool};

    let db = Db::new();
    db.execute("CREATE TABLE sessions (id INTEGER)");
    db.execute("INSERT INTO sessions VALUES (1), (2), (3), (4)");
    let pool = Pool::builder()
        .max_size(2)
        .build(ConnectionManager::<SqliteConnection>::new(&db.path))
        .unwrap();
    let registry = Registry::new();
    let updater = RecordsUpdater::from_pool(pool.clone())
        .registry(registry.clone())
        .track(schema::sessions::table, "sessions")
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();

    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(4.0));
    assert_eq!(errors(&registry, "machines"), Some(1.0));
    assert_eq!(pool.state().connections - pool.state().idle_connections, 0);
}
