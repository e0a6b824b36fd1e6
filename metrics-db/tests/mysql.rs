//! Row counts on a real MySQL or MariaDB server (`TACHOMETER_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306/test`). Each test works in a database of its own, dropped at the
//! end; an unreachable server skips the test unless `TACHOMETER_REQUIRE_SERVICES=1`.

#![cfg(feature = "mysql")]

mod common;

use std::time::Duration;

use common::{errors, records, unique};
use diesel::{Connection, MysqlConnection, RunQueryDsl};
use tachometer::Registry;
use tachometer_db::{CountMode, RecordsUpdater, RefreshError, Rows};

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
        messages (id) {
            id -> Integer,
        }
    }
}

const URL_VARIABLE: &str = "TACHOMETER_MYSQL_URL";

fn base_url() -> String {
    std::env::var(URL_VARIABLE).unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

/// A database of its own on the test server, dropped at the end.
struct My {
    database: String,
    url: String,
}

impl My {
    fn new() -> Option<My> {
        let mut admin = match MysqlConnection::establish(&base_url()) {
            Ok(conn) => conn,
            Err(error) => return common::unavailable("MySQL/MariaDB", URL_VARIABLE, error),
        };
        let database = unique("tachometer_db");
        diesel::sql_query(format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .unwrap();
        let base = base_url();
        let (server, _) = base.rsplit_once('/').expect("a URL with a database path");
        let url = format!("{server}/{database}");
        Some(My { database, url })
    }

    fn execute(&self, sql: &str) {
        let mut conn = MysqlConnection::establish(&self.url).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }

    fn updater(&self, registry: &Registry) -> RecordsUpdater<MysqlConnection> {
        RecordsUpdater::<MysqlConnection>::from_url(&self.url).registry(registry.clone())
    }
}

impl Drop for My {
    fn drop(&mut self) {
        if let Ok(mut admin) = MysqlConnection::establish(&base_url()) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", self.database))
                .execute(&mut admin);
        }
    }
}

fn rows(rows: u64, exact: bool) -> Result<Rows, RefreshError> {
    Ok(Rows { rows, exact })
}

/// Inserts `1..=n` (n at most 100 000) into `table` with one statement.
fn fill(my: &My, table: &str, n: u32) {
    let digit = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                 UNION ALL SELECT 8 UNION ALL SELECT 9)";
    my.execute(&format!(
        "INSERT INTO {table} (id) SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d \
         FROM {digit} a, {digit} b, {digit} c, {digit} e, {digit} f \
         WHERE a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d < {n}"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_counts_follow_inserts_and_deletes() {
    let Some(my) = My::new() else { return };
    my.execute("CREATE TABLE sessions (id INT PRIMARY KEY) ENGINE = InnoDB");
    let registry = Registry::new();
    let updater = my
        .updater(&registry)
        .mode(CountMode::Exact)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    assert_eq!(updater.refresh().await[0].result, rows(0, true));
    fill(&my, "sessions", 900);
    assert_eq!(updater.refresh().await[0].result, rows(900, true));
    my.execute("DELETE FROM sessions WHERE id % 3 = 0");
    assert_eq!(updater.refresh().await[0].result, rows(600, true));
    assert_eq!(records(&registry, "sessions"), Some(600.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_table_counts_errors_while_the_other_tables_keep_refreshing() {
    let Some(my) = My::new() else { return };
    my.execute("CREATE TABLE sessions (id INT)");
    my.execute("INSERT INTO sessions VALUES (1), (2), (3)");
    let registry = Registry::new();
    let updater = my
        .updater(&registry)
        .track(schema::sessions::table, "sessions")
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();

    for expected_errors in 1..=2 {
        let report = updater.refresh().await;
        assert_eq!(report[0].result, rows(3, true));
        let Err(RefreshError::Query(message)) = &report[1].result else {
            panic!("expected a query error, got {:?}", report[1].result);
        };
        assert!(message.contains("machines' doesn't exist"), "{message}");
        assert_eq!(errors(&registry, "machines"), Some(expected_errors as f64));
    }
    assert_eq!(records(&registry, "machines"), None);

    my.execute("CREATE TABLE machines (id INT)");
    my.execute("INSERT INTO machines VALUES (1), (2)");
    updater.refresh().await;
    assert_eq!(records(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimated_count_reads_table_statistics() {
    let Some(my) = My::new() else { return };
    // Aria/MyISAM keep an exact row count in their statistics; InnoDB's is sampled.
    my.execute("CREATE TABLE messages (id INT PRIMARY KEY) ENGINE = MyISAM");
    fill(&my, "messages", 5000);
    my.execute("CREATE TABLE sessions (id INT PRIMARY KEY) ENGINE = InnoDB");
    fill(&my, "sessions", 20000);
    my.execute("ANALYZE TABLE sessions");

    let registry = Registry::new();
    let updater = my
        .updater(&registry)
        .mode(CountMode::Estimated)
        .track(schema::messages::table, "messages")
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();
    let report = updater.refresh().await;

    assert_eq!(report[0].result, rows(5000, false));
    let Ok(Rows { rows, exact: false }) = report[1].result else {
        panic!("expected an estimate, got {:?}", report[1].result);
    };
    // InnoDB samples index pages; after ANALYZE the estimate is close, not exact.
    assert!(
        (10_000..=30_000).contains(&rows),
        "InnoDB estimate {rows} for 20000 rows"
    );
    assert_eq!(records(&registry, "sessions"), Some(rows as f64));

    // A table the statistics do not know: estimated mode reports no estimate, not 0.
    let missing = my
        .updater(&Registry::new())
        .mode(CountMode::Estimated)
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();
    assert_eq!(
        missing.refresh().await[0].result,
        Err(RefreshError::NoEstimate)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_count_past_its_timeout_is_cancelled_and_counted() {
    let Some(my) = My::new() else { return };
    my.execute("CREATE TABLE sessions (id INT) ENGINE = InnoDB");
    my.execute("INSERT INTO sessions VALUES (1), (2)");
    let registry = Registry::new();
    let updater = my
        .updater(&registry)
        .mode(CountMode::Exact)
        .timeout(Duration::from_millis(300))
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();
    updater.refresh().await;
    assert_eq!(records(&registry, "sessions"), Some(2.0));

    // A metadata lock held by another connection makes the count wait.
    let mut locker = MysqlConnection::establish(&my.url).unwrap();
    diesel::sql_query("LOCK TABLES sessions WRITE")
        .execute(&mut locker)
        .unwrap();
    let report = updater.refresh().await;
    assert!(
        matches!(report[0].result, Err(RefreshError::Timeout(_))),
        "{:?}",
        report[0].result
    );
    assert_eq!(errors(&registry, "sessions"), Some(1.0));
    assert_eq!(records(&registry, "sessions"), Some(2.0));

    diesel::sql_query("INSERT INTO sessions VALUES (3)")
        .execute(&mut locker)
        .unwrap();
    diesel::sql_query("UNLOCK TABLES")
        .execute(&mut locker)
        .unwrap();
    let mut recovered = None;
    for _ in 0..200 {
        let report = updater.refresh().await;
        if report[0].result.is_ok() {
            recovered = Some(report[0].result.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recovered, Some(rows(3, true)));
}
