//! Row counts of database tables as Prometheus gauges, kept fresh in the background through
//! diesel, and a debouncer that counts the writes it skips.
//!
//! tachometer-db publishes how many rows the tables of an application hold (accounts, sessions,
//! messages, machines...) as `database_records{table="<label>"}`, refreshed on a timer without
//! ever blocking the async runtime, hurting the database, or dying quietly. Tables are named
//! through diesel's schema types, so a table that is not in the schema does not compile.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use diesel::SqliteConnection;
//! use tachometer_db::{CountMode, RecordsUpdater, TableOptions};
//!
//! mod schema {
//!     diesel::table! {
//!         sessions (id) {
//!             id -> Integer,
//!         }
//!     }
//!     diesel::table! {
//!         messages (id) {
//!             id -> Integer,
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let database_url = dir.path().join("app.db").to_str().unwrap().to_owned();
//! # {
//! #     use diesel::{Connection, RunQueryDsl};
//! #     let mut conn = SqliteConnection::establish(&database_url)?;
//! #     diesel::sql_query("CREATE TABLE sessions (id INTEGER)").execute(&mut conn)?;
//! #     diesel::sql_query("CREATE TABLE messages (id INTEGER)").execute(&mut conn)?;
//! #     diesel::sql_query("INSERT INTO sessions VALUES (1), (2)").execute(&mut conn)?;
//! # }
//! // At start-up, inside the tokio runtime:
//! let updater = RecordsUpdater::<SqliteConnection>::from_url(&database_url)
//!     .track(schema::sessions::table, "sessions")
//!     .track_with(
//!         schema::messages::table,
//!         "messages",
//!         TableOptions::new().mode(CountMode::Estimated).timeout(Duration::from_secs(2)),
//!     )
//!     .interval(Duration::from_secs(60))
//!     .start()?;
//!
//! // ... serve; `tachometer::global()` now holds, after the first refresh:
//! // database_records{table="sessions"} 2
//!
//! // At shutdown: waits for the refresh in flight, if any.
//! updater.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`RecordsUpdater::start`] runs a first refresh at once, then one every interval. To refresh
//! on demand instead (before serving, or in tests), [`build`](RecordsUpdater::build) an
//! [`Updater`] and call [`Updater::refresh`]; it returns each table's outcome. The gauges go to
//! [`tachometer::global()`] unless [`registry`](RecordsUpdater::registry) names another.
//!
//! Connections come from a URL ([`RecordsUpdater::from_url`]: one connection, kept between
//! refreshes and replaced when it breaks) or from the application's r2d2 pool
//! (`RecordsUpdater::from_pool`, feature `r2d2`). With the feature `async-postgres`,
//! `RecordsUpdater::<AsyncPgConnection>` counts through diesel-async instead, from a URL
//! (`from_async_url`) or a deadpool pool (`from_async_pool`).
//!
//! # Metrics
//!
//! | series | when it exists |
//! | --- | --- |
//! | `database_records{table}` | from the first successful refresh of the table on; never a made-up 0 before it |
//! | `database_records_last_refresh_timestamp_seconds{table}` | Unix time of the last success, from the first one on |
//! | `database_records_refresh_errors_total{table}` | from start-up, at 0 |
//! | `database_records_refresh_duration_seconds{table}` | from start-up; one observation per refresh attempted, failed ones included |
//! | `database_updates_skipped_total{type}` | from the creation of a [`Debouncer`] of that type, at 0 |
//!
//! Staleness is `time() - database_records_last_refresh_timestamp_seconds`; a table that never
//! refreshed has no gauge, which `absent(database_records{table="..."})` catches.
//!
//! # Count modes
//!
//! | mode | PostgreSQL | MySQL / MariaDB | SQLite | cost |
//! | --- | --- | --- | --- | --- |
//! | [`Exact`](CountMode::Exact) | `COUNT(*)` | `COUNT(*)` | `COUNT(*)` | a full scan (or index scan): grows with the table |
//! | [`Estimated`](CountMode::Estimated) | `pg_class.reltuples` scaled to the table's current size in pages, as the planner does | `information_schema.TABLES.TABLE_ROWS` | `sqlite_stat1`, written by `ANALYZE` | one catalog lookup: constant |
//! | [`Auto`](CountMode::Auto) (default) | estimate, exact when there is none, it is 0, or it is below [`auto_exact_below`](RecordsUpdater::auto_exact_below) (10 000 by default) | same | same | constant on large tables, a cheap count on small ones |
//!
//! Accuracy of the estimates:
//!
//! - **PostgreSQL**: as good as the last `VACUUM`/`ANALYZE` (autovacuum runs them after about
//!   10% of a table changed), and growth since then shows through the size of the table's files.
//!   This crate's tests hold a million-row table's estimate after `ANALYZE` within 5%. Since
//!   PostgreSQL 14 a never-analysed table reports `reltuples = -1`: that is "no estimate",
//!   never published; `Auto` counts such a table exactly.
//! - **MySQL / MariaDB**: exact for MyISAM and Aria; for InnoDB a sample of index pages, commonly
//!   10% and sometimes 40-50% off, refreshed after about 10% of the table changed or by
//!   `ANALYZE TABLE`. MySQL 8 also caches these statistics for
//!   `information_schema_stats_expiry` seconds (a day by default).
//! - **SQLite**: the row count at the last `ANALYZE`, exactly; no `ANALYZE` yet means no
//!   estimate.
//!
//! In `Estimated` mode a table without an estimate fails to refresh with
//! [`RefreshError::NoEstimate`] (also the answer for a table missing from the catalog) instead of
//! publishing a guess; `Auto` counts it instead.
//!
//! # Scheduling and cost
//!
//! - Every sync query runs on tokio's blocking pool (`spawn_blocking`); the runtime's worker
//!   threads only wait on it. A single-threaded runtime keeps running its other tasks while a
//!   count runs. diesel-async counts run as tasks of their own.
//! - A count the updater stopped waiting for still runs to its end (the server cancels it at the
//!   time limit), so a pooled connection never goes back in the middle of a transaction.
//! - Tables refresh one after another, each bounded by its timeout (10 s by default, per table
//!   with [`TableOptions::timeout`]). On PostgreSQL and MySQL/MariaDB the server itself cancels
//!   an exact count at that time limit (`SET LOCAL statement_timeout`, `SET STATEMENT
//!   max_statement_time`, `MAX_EXECUTION_TIME`), so an abandoned count stops scanning; on
//!   PostgreSQL it also runs without parallel workers, one server process per count.
//! - Cycles never overlap: a cycle starts at least an interval after the previous one started
//!   and never before it ended. A refresh whose query outlived its timeout blocks the next
//!   refresh of that table only ([`RefreshError::StillRunning`]), so one table has at most one
//!   query running, whatever happens to the network.
//! - Waits between cycles are the interval (60 s by default) plus a random jitter of up to a tenth
//!   of it (configurable), so replicas started together do not query in step.
//!
//! Measured by `cargo bench -p tachometer-db --features postgres --bench refresh_cost` on a
//! 2-core machine with PostgreSQL 15 on the same host: one refresh took about 0.3 ms estimated
//! at both 10 thousand and 1 million rows, and 1.2 ms exact at 10 thousand rows against 56 ms at
//! 1 million.
//!
//! # Errors
//!
//! A refresh fails when the database is unreachable, the table does not exist, the query
//! fails or the timeout passes ([`RefreshError`]). Each failure:
//!
//! - adds 1 to `database_records_refresh_errors_total{table}`;
//! - logs one `tracing` warning with the fields `table`, `mode`, `reason` (see
//!   [`RefreshError::reason`]), `error` and `consecutive_failures`, and never the connection URL;
//!   the first success after failures logs one `info` line;
//! - keeps the gauge at its last good value (or keeps it absent), and does not stop the other
//!   tables or the next cycle.
//!
//! Configuration mistakes (no table, a duplicate or empty label, a zero interval or timeout,
//! starting outside a tokio runtime) are a [`StartError`] from [`RecordsUpdater::build`] or
//! [`RecordsUpdater::start`].
//!
//! # Debouncing writes
//!
//! [`Debouncer`] answers "write now or skip" per entity id, for writes such as a session's "last
//! active" time that need to happen at most once per interval, and counts every skip in
//! `database_updates_skipped_total{type}`. Its memory is bounded by the keys written during the
//! last two intervals; see its documentation.
//!
//! # Feature flags
//!
//! | feature | what it adds | system library |
//! | --- | --- | --- |
//! | `sqlite` (default) | `SqliteConnection` | none: SQLite is compiled from source |
//! | `postgres` | `PgConnection` | libpq (`apt-get install libpq-dev`) |
//! | `mysql` | `MysqlConnection`, for MySQL and MariaDB | the MariaDB or MySQL client (`apt-get install libmariadb-dev`) |
//! | `r2d2` | `RecordsUpdater::from_pool` | none |
//! | `async-postgres` | diesel-async's `AsyncPgConnection`, from a URL or a deadpool pool | none: tokio-postgres is pure Rust |
//!
//! # Limitations
//!
//! - Only diesel `table!` types can be tracked; a table missing from the schema is a compile
//!   error:
//!
//! ```compile_fail
//! mod schema {
//!     diesel::table! {
//!         sessions (id) {
//!             id -> Integer,
//!         }
//!     }
//! }
//!
//! let updater = tachometer_db::RecordsUpdater::<diesel::SqliteConnection>::from_url("app.db")
//!     .track(schema::machines::table, "machines"); // no `machines` in `schema`
//! ```
//!
//! and so is anything that is not a table, such as a raw name:
//!
//! ```compile_fail
//! let updater = tachometer_db::RecordsUpdater::<diesel::SqliteConnection>::from_url("app.db")
//!     .track("machines", "machines");
//! ```
//!
//! - SQLite has no server to cancel a count: a count past its timeout finishes in the
//!   background, and the table is skipped ([`RefreshError::StillRunning`]) until it does.
//! - After a failed refresh, a URL source checks its connection with `SELECT 1` before the next
//!   use and connects again if that fails: one extra round trip per failed refresh.
//! - A PostgreSQL partitioned table has an estimate only once its parent has been analyzed
//!   by hand (autovacuum analyzes the partitions, not the parent), and views have none: `Auto`
//!   counts them exactly, `Estimated` reports [`RefreshError::NoEstimate`].
//! - diesel-async is supported for PostgreSQL only (`async-postgres`), with deadpool as its pool;
//!   MySQL and SQLite count through sync connections.

mod backend;
mod debounce;
mod error;
mod source;
mod table;
mod updater;

pub use backend::{BlockingConnection, CountConnection};
pub use debounce::Debouncer;
pub use error::{RefreshError, StartError};
pub use source::Rows;
pub use table::{CountMode, TableOptions};
pub use updater::{
    DEFAULT_AUTO_EXACT_BELOW, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, RecordsUpdater, TableRefresh,
    Updater, UpdaterHandle,
};
