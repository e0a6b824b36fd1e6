//! The counting queries of each backend.
//!
//! Every query here is synchronous diesel; the updater only ever calls them from tokio's blocking
//! pool. Each one bounds its own run time on the server where the backend allows it, so a
//! timed-out count does not keep scanning after the updater has given up on it.

use std::time::Duration;

use diesel::Connection;
use diesel::query_builder::QueryFragment;

/// A sync diesel connection the updater can count rows with.
///
/// Implemented for the connection types of the enabled backends: `SqliteConnection` (feature
/// `sqlite`), `PgConnection` (feature `postgres`) and `MysqlConnection` (feature `mysql`). The
/// trait is sealed; its methods are internal.
pub trait CountConnection: Connection + Send + 'static + sealed::Sealed {
    #[doc(hidden)]
    /// Renders a schema type as the quoted name diesel writes in a `FROM` clause.
    fn render_table<T: QueryFragment<Self::Backend>>(table: &T) -> String;

    #[doc(hidden)]
    /// The character diesel quotes identifiers with on this backend.
    const QUOTE: char;

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

mod sealed {
    #[cfg(not(feature = "r2d2"))]
    #[allow(unreachable_pub)] // the sealed-trait pattern: public, but not nameable outside
    pub trait Sealed {}

    /// With pools enabled, every countable connection can also be pooled.
    #[cfg(feature = "r2d2")]
    #[allow(unreachable_pub)]
    pub trait Sealed: diesel::r2d2::R2D2Connection {}
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whole milliseconds, at least 1 (0 would mean "no limit" to every server).
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
fn budget_millis(budget: Duration) -> u128 {
    budget.as_millis().max(1)
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
        const QUOTE: char = '`';

        fn render_table<T: QueryFragment<Sqlite>>(table: &T) -> String {
            diesel::debug_query::<Sqlite, _>(table).to_string()
        }

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

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use diesel::pg::{Pg, PgConnection};
    use diesel::sql_types::{Double, Nullable, Text};
    use diesel::{OptionalExtension, QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Estimate {
        #[diesel(sql_type = Nullable<Double>)]
        estimate: Option<f64>,
    }

    impl sealed::Sealed for PgConnection {}

    impl CountConnection for PgConnection {
        const QUOTE: char = '"';

        fn render_table<T: QueryFragment<Pg>>(table: &T) -> String {
            diesel::debug_query::<Pg, _>(table).to_string()
        }

        fn count_exact(&mut self, quoted: &str, budget: Duration) -> diesel::QueryResult<i64> {
            // SET LOCAL ends with the transaction, so a pooled connection goes back unchanged.
            // Parallel workers would make one background count occupy several server processes.
            let timeout = format!("SET LOCAL statement_timeout = {}", budget_millis(budget));
            let query = format!("SELECT COUNT(*) AS n FROM {quoted}");
            self.transaction(|conn| {
                diesel::sql_query(timeout).execute(conn)?;
                diesel::sql_query("SET LOCAL max_parallel_workers_per_gather = 0").execute(conn)?;
                diesel::sql_query(query)
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
            // What the planner itself does: the density seen by the last VACUUM or ANALYZE,
            // scaled by the table's current size in pages, so the estimate follows growth between
            // two ANALYZE runs. reltuples = -1 (PostgreSQL 14+) means never analyzed: no estimate.
            // Partitioned parents have no pages of their own (relpages = -1): their reltuples,
            // written by an ANALYZE of the parent, is taken as it is.
            let query = "SELECT CASE \
                   WHEN c.reltuples < 0 THEN NULL \
                   WHEN c.relkind NOT IN ('r', 'm') OR c.relpages <= 0 THEN c.reltuples::float8 \
                   ELSE c.reltuples::float8 / c.relpages \
                        * (pg_relation_size(c.oid) / current_setting('block_size')::float8) \
                 END AS estimate \
                 FROM pg_catalog.pg_class c WHERE c.oid = to_regclass($1)";
            let row = diesel::sql_query(query)
                .bind::<Text, _>(quoted)
                .get_result::<Estimate>(self)
                .optional()?;
            Ok(row.and_then(|row| row.estimate))
        }
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
        const QUOTE: char = '`';

        fn render_table<T: QueryFragment<Mysql>>(table: &T) -> String {
            diesel::debug_query::<Mysql, _>(table).to_string()
        }

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
