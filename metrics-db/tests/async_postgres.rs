//! Row counts through diesel-async's `AsyncPgConnection`, from a URL and from a deadpool pool,
//! on the real PostgreSQL server (`TACHOMETER_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test works in a schema of its own.

#![cfg(feature = "async-postgres")]

mod common;

use std::time::Duration;

use common::{errors, records, unique, with_param};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;
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
        fresh (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        million (id) {
            id -> Integer,
        }
    }
}

const URL_VARIABLE: &str = "TACHOMETER_POSTGRES_URL";

fn base_url() -> String {
    std::env::var(URL_VARIABLE)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema of its own, dropped at the end. Setup goes through a sync connection.
struct Pg {
    schema: String,
    url: String,
}

impl Pg {
    fn new() -> Option<Pg> {
        let mut admin = match PgConnection::establish(&base_url()) {
            Ok(conn) => conn,
            Err(error) => return common::unavailable("PostgreSQL", URL_VARIABLE, error),
        };
        let schema = unique("tachometer_db_async");
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .unwrap();
        let url = with_param(&base_url(), &format!("options=-csearch_path%3D{schema}"));
        Some(Pg { schema, url })
    }

    fn execute(&self, sql: &str) {
        let mut conn = PgConnection::establish(&self.url).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&base_url()) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                .execute(&mut admin);
        }
    }
}

fn rows(rows: u64, exact: bool) -> Result<Rows, RefreshError> {
    Ok(Rows { rows, exact })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_counts_follow_inserts_and_deletes_through_an_async_connection() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    let registry = Registry::new();
    let updater = RecordsUpdater::<AsyncPgConnection>::from_async_url(&pg.url)
        .registry(registry.clone())
        .mode(CountMode::Exact)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    assert_eq!(updater.refresh().await[0].result, rows(0, true));
    pg.execute("INSERT INTO sessions SELECT generate_series(1, 4321)");
    assert_eq!(updater.refresh().await[0].result, rows(4321, true));
    pg.execute("DELETE FROM sessions WHERE id <= 321");
    assert_eq!(updater.refresh().await[0].result, rows(4000, true));
    assert_eq!(records(&registry, "sessions"), Some(4000.0));
}

/// Case C11 through the async connection: reltuples = -1 is never published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_analysed_table_reports_its_rows_not_minus_one_through_an_async_connection() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE fresh (id int)");
    pg.execute("INSERT INTO fresh SELECT generate_series(1, 10)");
    let registry = Registry::new();
    let updater = RecordsUpdater::<AsyncPgConnection>::from_async_url(&pg.url)
        .registry(registry.clone())
        .auto_exact_below(0)
        .track(schema::fresh::table, "fresh")
        .build()
        .unwrap();

    assert_eq!(updater.refresh().await[0].result, rows(10, true));
    assert_eq!(records(&registry, "fresh"), Some(10.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_async_connections_estimate_count_and_report_missing_tables() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE million (id int)");
    pg.execute("INSERT INTO million SELECT generate_series(1, 1000000)");
    pg.execute("ANALYZE million");
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions VALUES (1), (2), (3)");

    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(&pg.url);
    let pool = Pool::builder(manager).max_size(2).build().unwrap();
    let registry = Registry::new();
    let updater = RecordsUpdater::from_async_pool(pool.clone())
        .registry(registry.clone())
        .track(schema::million::table, "million")
        .track(schema::sessions::table, "sessions")
        .track(schema::machines::table, "machines")
        .build()
        .unwrap();

    let report = updater.refresh().await;
    let Ok(Rows {
        rows: estimate,
        exact: false,
    }) = report[0].result
    else {
        panic!("expected an estimate, got {:?}", report[0].result);
    };
    assert!(
        (950_000..=1_050_000).contains(&estimate),
        "estimate {estimate}"
    );
    assert_eq!(report[1].result, rows(3, true));
    let Err(RefreshError::Query(message)) = &report[2].result else {
        panic!("expected a query error, got {:?}", report[2].result);
    };
    assert!(message.contains("\"machines\" does not exist"), "{message}");
    assert_eq!(records(&registry, "machines"), None);
    assert_eq!(errors(&registry, "machines"), Some(1.0));
    assert_eq!(
        pool.status().size - pool.status().available,
        0,
        "a connection is still out"
    );
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A count past its timeout is cancelled by the server and its transaction closed, so the pooled
/// connection goes back clean (no dangling `idle in transaction`) and keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_async_count_leaves_no_open_transaction_in_the_pool() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions VALUES (1)");
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(&pg.url);
    let pool = Pool::builder(manager).max_size(1).build().unwrap();
    let registry = Registry::new();
    let updater = RecordsUpdater::from_async_pool(pool.clone())
        .registry(registry.clone())
        .mode(CountMode::Exact)
        .timeout(Duration::from_millis(300))
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    let mut locker = PgConnection::establish(&pg.url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut locker).unwrap();
    diesel::sql_query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .unwrap();
    let report = updater.refresh().await;
    assert!(
        matches!(report[0].result, Err(RefreshError::Timeout(_))),
        "{:?}",
        report[0].result
    );
    assert_eq!(errors(&registry, "sessions"), Some(1.0));
    diesel::sql_query("INSERT INTO sessions VALUES (2)")
        .execute(&mut locker)
        .unwrap();
    diesel::sql_query("COMMIT").execute(&mut locker).unwrap();

    let mut recovered = None;
    for _ in 0..200 {
        let report = updater.refresh().await;
        if report[0].result.is_ok() {
            recovered = Some(report[0].result.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recovered, Some(rows(2, true)));

    let dangling = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE state LIKE 'idle in transaction%' AND query ILIKE '%{}%'",
        "sessions"
    ))
    .get_result::<Number>(&mut locker)
    .unwrap()
    .n;
    assert_eq!(dangling, 0);
}
