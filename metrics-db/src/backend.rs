//! The counting queries of each backend.
//!
//! The sync queries run only on tokio's blocking pool, the async ones in a task of their own.
//! Each one bounds its own run time on the server where the backend allows it, so a
//! timed-out count does not keep scanning after the updater has given up on it.

use std::time::Duration;

use diesel::Connection;
use diesel::query_builder::QueryFragment;

/// A diesel connection type the updater can count rows with.
///
/// Implemented for the connection types of the enabled backends: `SqliteConnection` (feature
/// `sqlite`), `PgConnection` (feature `postgres`), `MysqlConnection` (feature `mysql`) and
/// diesel-async's `AsyncPgConnection` (feature `async-postgres`). The trait is sealed; its items
/// are internal.
pub trait CountConnection: sealed::Sealed + Send + 'static {
    #[doc(hidden)]
    /// The diesel backend whose SQL dialect the connection speaks.
    type Dialect: diesel::backend::Backend;

    #[doc(hidden)]
    /// The character diesel quotes identifiers with on this backend.
    const QUOTE: char;

    #[doc(hidden)]
    /// Renders a schema type as the quoted name diesel writes in a `FROM` clause.
    fn render_table<T: QueryFragment<Self::Dialect>>(table: &T) -> String;
}

/// A sync diesel connection: the updater runs its queries on tokio's blocking pool.
///
/// Implemented for `SqliteConnection`, `PgConnection` and `MysqlConnection`; sealed, with
/// internal methods.
pub trait BlockingConnection: CountConnection + Connection + sealed::Poolable {
    #[doc(hidden)]
    /// `COUNT(*)` of `quoted`, cancelled by the server after `budget` where the backend allows.
    fn count_exact(&mut self, quoted: &str, budget: Duration) -> diesel::QueryResult<i64>;

    #[doc(hidden)]
    /// The row estimate from the catalog, `None` when the database has none.
    fn count_estimate(
        &mut self,
        schema: Option<&str>,
        name: &str,
        quoted: &str,
    ) -> diesel::QueryResult<Option<f64>>;
}

#[allow(unreachable_pub)] // the sealed-trait pattern: public, but not nameable outside
mod sealed {
    pub trait Sealed {}

    /// With pools enabled, every sync connection can also be pooled.
    #[cfg(feature = "r2d2")]
    pub trait Poolable: diesel::r2d2::R2D2Connection {}
    #[cfg(feature = "r2d2")]
    impl<C: diesel::r2d2::R2D2Connection> Poolable for C {}

    #[cfg(not(feature = "r2d2"))]
    pub trait Poolable {}
    #[cfg(not(feature = "r2d2"))]
    impl<C> Poolable for C {}
}

#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "async-postgres"
))]
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whole milliseconds, at least 1 (0 would mean "no limit" to every server).
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "async-postgres")),
    allow(dead_code)
)]
/// Capped at `i32::MAX` milliseconds (about 24 days), the largest PostgreSQL accepts.
fn budget_millis(budget: Duration) -> u128 {
    budget.as_millis().clamp(1, i32::MAX as u128)
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use diesel::sql_types::{Nullable, Text};
    use diesel::sqlite::{Sqlite, SqliteConnection};
    use diesel::{QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Stat {
        #[diesel(sql_type = Nullable<Text>)]
        stat: Option<String>,
    }

    impl sealed::Sealed for SqliteConnection {}

    impl CountConnection for SqliteConnection {
        type Dialect = Sqlite;
        const QUOTE: char = '`';

        fn render_table<T: QueryFragment<Sqlite>>(table: &T) -> String {
            diesel::debug_query::<Sqlite, _>(table).to_string()
        }
    }

    impl BlockingConnection for SqliteConnection {
        fn count_exact(&mut self, quoted: &str, _budget: Duration) -> diesel::QueryResult<i64> {
            // SQLite runs in this process: there is no server to cancel the statement, so the
            // updater's own timeout and its one-refresh-per-table rule bound the cost instead.
            let query = format!("SELECT COUNT(*) AS n FROM {quoted}");
            diesel::sql_query(query)
                .get_result::<Count>(self)
                .map(|c| c.n)
        }

        fn count_estimate(
            &mut self,
            schema: Option<&str>,
            name: &str,
            _quoted: &str,
        ) -> diesel::QueryResult<Option<f64>> {
            // `ANALYZE` writes one `sqlite_stat1` row per index (or one with a NULL `idx` for a
            // table without indexes); the first number of `stat` is the table's row count at that
            // time. No `sqlite_stat1` table at all means ANALYZE never ran.
            let prefix = match schema {
                Some(schema) => format!("`{}`.", schema.replace('`', "``")),
                None => String::new(),
            };
            let has_stats = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM {prefix}sqlite_master \
                 WHERE type = 'table' AND name = 'sqlite_stat1'"
            ))
            .get_result::<Count>(self)?
            .n > 0;
            if !has_stats {
                return Ok(None);
            }

            let rows = diesel::sql_query(format!(
                "SELECT stat FROM {prefix}sqlite_stat1 WHERE tbl = ?"
            ))
            .bind::<Text, _>(name)
            .load::<Stat>(self)?;

            let estimate = rows
                .iter()
                .filter_map(|row| row.stat.as_deref())
                .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
                .max();
            Ok(estimate.map(|n| n as f64))
        }
    }
}

/// The PostgreSQL statements, shared by the sync and the async connection.
#[cfg(any(feature = "postgres", feature = "async-postgres"))]
mod pg_sql {
    use super::*;
    use diesel::QueryableByName;
    use diesel::sql_types::{Double, Nullable};

    /// Run first in the count's transaction. SET LOCAL ends with the transaction, so a pooled
    /// connection goes back unchanged. Parallel workers would make one background count occupy
    /// several server processes.
    pub(super) fn limits(budget: Duration) -> [String; 2] {
        [
            format!("SET LOCAL statement_timeout = {}", budget_millis(budget)),
            "SET LOCAL max_parallel_workers_per_gather = 0".to_owned(),
        ]
    }

    pub(super) fn count(quoted: &str) -> String {
        format!("SELECT COUNT(*) AS n FROM {quoted}")
    }

    /// What the planner itself does: the density seen by the last VACUUM or ANALYZE, scaled by
    /// the table's current size in pages, so the estimate follows growth between two ANALYZE
    /// runs. reltuples = -1 (PostgreSQL 14+) means never analyzed: no estimate. Partitioned
    /// parents have no pages of their own (relpages = -1): their reltuples, written by an ANALYZE
    /// of the parent, is taken as it is. `$1` is the quoted name.
    pub(super) const ESTIMATE: &str = "SELECT CASE \
           WHEN c.reltuples < 0 THEN NULL \
           WHEN c.relkind NOT IN ('r', 'm') OR c.relpages <= 0 THEN c.reltuples::float8 \
           ELSE c.reltuples::float8 / c.relpages \
                * (pg_relation_size(c.oid) / current_setting('block_size')::float8) \
         END AS estimate \
         FROM pg_catalog.pg_class c WHERE c.oid = to_regclass($1)";

    #[derive(QueryableByName)]
    pub(super) struct Estimate {
        #[diesel(sql_type = Nullable<Double>)]
        pub(super) estimate: Option<f64>,
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::pg_sql::{self, Estimate};
    use super::*;
    use diesel::pg::{Pg, PgConnection};
    use diesel::sql_types::Text;
    use diesel::{OptionalExtension, RunQueryDsl};

    impl sealed::Sealed for PgConnection {}

    impl CountConnection for PgConnection {
        type Dialect = Pg;
        const QUOTE: char = '"';

        fn render_table<T: QueryFragment<Pg>>(table: &T) -> String {
            diesel::debug_query::<Pg, _>(table).to_string()
        }
    }

    impl BlockingConnection for PgConnection {
        fn count_exact(&mut self, quoted: &str, budget: Duration) -> diesel::QueryResult<i64> {
            self.transaction(|conn| {
                for limit in pg_sql::limits(budget) {
                    diesel::sql_query(limit).execute(conn)?;
                }
                diesel::sql_query(pg_sql::count(quoted))
                    .get_result::<Count>(conn)
                    .map(|c| c.n)
            })
        }

        fn count_estimate(
            &mut self,
            _schema: Option<&str>,
            _name: &str,
            quoted: &str,
        ) -> diesel::QueryResult<Option<f64>> {
            let row = diesel::sql_query(pg_sql::ESTIMATE)
                .bind::<Text, _>(quoted)
                .get_result::<Estimate>(self)
                .optional()?;
            Ok(row.and_then(|row| row.estimate))
        }
    }
}

/// diesel-async's PostgreSQL connection, counted with the same statements as the sync one.
#[cfg(feature = "async-postgres")]
pub(crate) mod async_postgres {
    use super::pg_sql::{self, Estimate};
    use super::*;
    use diesel::OptionalExtension;
    use diesel::pg::Pg;
    use diesel::sql_types::Text;
    use diesel_async::scoped_futures::ScopedFutureExt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

    impl sealed::Sealed for AsyncPgConnection {}

    impl CountConnection for AsyncPgConnection {
        type Dialect = Pg;
        const QUOTE: char = '"';

        fn render_table<T: QueryFragment<Pg>>(table: &T) -> String {
            diesel::debug_query::<Pg, _>(table).to_string()
        }
    }

    /// `COUNT(*)` of `quoted`, cancelled by the server after `budget`.
    pub(crate) async fn count_exact(
        conn: &mut AsyncPgConnection,
        quoted: &str,
        budget: Duration,
    ) -> diesel::QueryResult<i64> {
        let count = pg_sql::count(quoted);
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                for limit in pg_sql::limits(budget) {
                    diesel::sql_query(limit).execute(conn).await?;
                }
                let row = diesel::sql_query(count).get_result::<Count>(conn).await?;
                Ok(row.n)
            }
            .scope_boxed()
        })
        .await
    }

    /// The catalog's estimate, `None` when there is none.
    pub(crate) async fn count_estimate(
        conn: &mut AsyncPgConnection,
        quoted: &str,
    ) -> diesel::QueryResult<Option<f64>> {
        let row = diesel::sql_query(pg_sql::ESTIMATE)
            .bind::<Text, _>(quoted.to_owned())
            .get_result::<Estimate>(conn)
            .await
            .optional()?;
        Ok(row.and_then(|row| row.estimate))
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use diesel::mysql::{Mysql, MysqlConnection};
    use diesel::sql_types::{BigInt, Nullable, Text};
    use diesel::{OptionalExtension, QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct WholeEstimate {
        #[diesel(sql_type = Nullable<BigInt>)]
        estimate: Option<i64>,
    }

    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }

    impl sealed::Sealed for MysqlConnection {}

    impl CountConnection for MysqlConnection {
        type Dialect = Mysql;
        const QUOTE: char = '`';

        fn render_table<T: QueryFragment<Mysql>>(table: &T) -> String {
            diesel::debug_query::<Mysql, _>(table).to_string()
        }
    }

    impl BlockingConnection for MysqlConnection {
        fn count_exact(&mut self, quoted: &str, budget: Duration) -> diesel::QueryResult<i64> {
            // Both limits apply to this one statement only, so pooled connections are untouched:
            // MariaDB's SET STATEMENT (seconds) and MySQL's optimizer hint (milliseconds).
            let version = diesel::sql_query("SELECT VERSION() AS version")
                .get_result::<Version>(self)?
                .version;
            let millis = budget_millis(budget);
            let query = if version.contains("MariaDB") {
                format!(
                    "SET STATEMENT max_statement_time = {}.{:03} FOR SELECT COUNT(*) AS n FROM {quoted}",
                    millis / 1000,
                    millis % 1000
                )
            } else {
                format!("SELECT /*+ MAX_EXECUTION_TIME({millis}) */ COUNT(*) AS n FROM {quoted}")
            };
            diesel::sql_query(query)
                .get_result::<Count>(self)
                .map(|c| c.n)
        }

        fn count_estimate(
            &mut self,
            schema: Option<&str>,
            name: &str,
            _quoted: &str,
        ) -> diesel::QueryResult<Option<f64>> {
            // TABLE_ROWS: exact for MyISAM/Aria, a sampled estimate for InnoDB (NULL for views).
            let query = "SELECT CAST(TABLE_ROWS AS SIGNED) AS estimate \
                 FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
            let row = diesel::sql_query(query)
                .bind::<Nullable<Text>, _>(schema)
                .bind::<Text, _>(name)
                .get_result::<WholeEstimate>(self)
                .optional()?;
            Ok(row.and_then(|row| row.estimate).map(|n| n as f64))
        }
    }
}
