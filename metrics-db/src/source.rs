//! Where connections come from, and one count of one table on one of them.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::backend::BlockingConnection;
use crate::error::RefreshError;
use crate::table::{CountMode, TableName};

/// What one successful refresh found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// The number of rows published in `database_records`.
    pub rows: u64,
    /// Whether it came from `COUNT(*)` rather than the database's estimate.
    pub exact: bool,
}

/// How one refresh of one table should count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) mode: CountMode,
    pub(crate) auto_exact_below: u64,
    pub(crate) budget: Duration,
}

/// Held by the task running a query; dropping it marks the table free again.
pub(crate) type InFlight = Box<dyn Send>;

type BlockingCount = dyn Fn(&TableName, Plan) -> Result<Rows, RefreshError> + Send + Sync;

#[cfg(feature = "async-postgres")]
type AsyncCount = dyn Fn(
        TableName,
        Plan,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Rows, RefreshError>> + Send>>
    + Send
    + Sync;

/// The count of one table, with the connection type erased.
#[derive(Clone)]
pub(crate) enum Probe {
    /// Sync diesel: runs on tokio's blocking pool.
    Blocking(Arc<BlockingCount>),
    /// diesel-async: runs as a task of its own.
    #[cfg(feature = "async-postgres")]
    Async(Arc<AsyncCount>),
}

impl Probe {
    /// One sync connection made from `url`, kept between refreshes.
    pub(crate) fn url<C: BlockingConnection>(url: String) -> Probe {
        let source = Arc::new(UrlSource::<C> {
            url,
            idle: Mutex::new(Vec::new()),
        });
        Probe::Blocking(Arc::new(move |table, plan| {
            source.with_connection(|conn| count_blocking(conn, table, plan))
        }))
    }

    /// Connections from an r2d2 pool.
    #[cfg(feature = "r2d2")]
    pub(crate) fn r2d2<C: BlockingConnection + diesel::r2d2::R2D2Connection>(
        pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<C>>,
    ) -> Probe {
        Probe::Blocking(Arc::new(move |table, plan| {
            let mut conn = pool
                .get_timeout(plan.budget)
                .map_err(|error| RefreshError::Connect(error.to_string()))?;
            count_blocking(&mut *conn, table, plan)
        }))
    }

    /// Starts one count. The task runs to its end even if nobody waits for it any more, so a
    /// connection is never dropped in the middle of a transaction.
    pub(crate) fn spawn(
        &self,
        table: TableName,
        plan: Plan,
        in_flight: InFlight,
    ) -> JoinHandle<Result<Rows, RefreshError>> {
        match self {
            Probe::Blocking(count) => {
                let count = count.clone();
                tokio::task::spawn_blocking(move || {
                    let _in_flight = in_flight;
                    count(&table, plan)
                })
            }
            #[cfg(feature = "async-postgres")]
            Probe::Async(count) => {
                let counting = count(table, plan);
                tokio::spawn(async move {
                    let _in_flight = in_flight;
                    counting.await
                })
            }
        }
    }
}

/// Connections made from a URL and kept between refreshes. Refreshes run one at a time, so
/// one connection serves them all, unless a timed-out count still holds it: then the next
/// refresh makes another, and both stay for later (at most [`MAX_IDLE`]).
struct UrlSource<C> {
    url: String,
    /// Idle connections, each with whether its last use failed.
    idle: Mutex<Vec<(C, bool)>>,
}

/// Idle connections a URL source keeps; any more are closed when they come back.
const MAX_IDLE: usize = 2;

/// Takes an idle connection, healthy ones first.
fn take_idle<C>(idle: &Mutex<Vec<(C, bool)>>) -> Option<(C, bool)> {
    idle.lock().unwrap_or_else(PoisonError::into_inner).pop()
}

/// Gives a connection back; a full set closes it instead.
fn give_back<C>(idle: &Mutex<Vec<(C, bool)>>, conn: C, failed: bool) {
    let mut idle = idle.lock().unwrap_or_else(PoisonError::into_inner);
    if idle.len() < MAX_IDLE {
        // `take_idle` pops from the end: healthy connections go there.
        if failed {
            idle.insert(0, (conn, failed));
        } else {
            idle.push((conn, failed));
        }
    }
}

impl<C: BlockingConnection> UrlSource<C> {
    /// Runs `work` on the connection. Blocking: call only from the blocking pool.
    fn with_connection<R>(
        &self,
        work: impl FnOnce(&mut C) -> Result<R, RefreshError>,
    ) -> Result<R, RefreshError> {
        let mut conn = match take_idle(&self.idle) {
            // A connection whose last query failed may be broken: check it first.
            Some((mut conn, true)) => match conn.batch_execute("SELECT 1") {
                Ok(()) => conn,
                Err(_) => C::establish(&self.url)?,
            },
            Some((conn, false)) => conn,
            None => C::establish(&self.url)?,
        };
        let result = work(&mut conn);
        give_back(&self.idle, conn, result.is_err());
        result
    }
}

/// Counts one table on a sync connection. Blocking.
fn count_blocking<C: BlockingConnection>(
    conn: &mut C,
    table: &TableName,
    plan: Plan,
) -> Result<Rows, RefreshError> {
    let deadline = Deadline::after(plan.budget);

    if plan.mode != CountMode::Exact {
        let estimate = conn.count_estimate(table.schema.as_deref(), &table.name, &table.quoted)?;
        if let Some(settled) = settle(plan, usable(estimate)) {
            return settled;
        }
    }

    let remaining = deadline.remaining();
    let rows = conn
        .count_exact(&table.quoted, remaining)
        .map_err(|error| exact_count_error(error, plan.budget))?;
    Ok(exact_rows(rows))
}

/// The end of a refresh's time budget; a budget too large to add to the clock has none.
struct Deadline(Option<std::time::Instant>);

impl Deadline {
    fn after(budget: Duration) -> Deadline {
        Deadline(std::time::Instant::now().checked_add(budget))
    }

    /// Time left, for the server-side limit of the exact count that follows an estimate.
    fn remaining(&self) -> Duration {
        match self.0 {
            Some(deadline) => deadline.saturating_duration_since(std::time::Instant::now()),
            None => Duration::MAX,
        }
    }
}

/// Negative, NaN or infinite values are the catalog saying "unknown".
fn usable(estimate: Option<f64>) -> Option<u64> {
    estimate
        .filter(|rows| rows.is_finite() && *rows >= 0.0)
        .map(|rows| rows.round() as u64)
}

/// `Some(result)` when the estimate settles the refresh, `None` when an exact count must follow.
fn settle(plan: Plan, estimate: Option<u64>) -> Option<Result<Rows, RefreshError>> {
    match (plan.mode, estimate) {
        (CountMode::Exact, _) => None,
        (CountMode::Estimated, Some(rows)) => Some(Ok(Rows { rows, exact: false })),
        (CountMode::Estimated, None) => Some(Err(RefreshError::NoEstimate)),
        (CountMode::Auto, Some(rows)) if rows > 0 && rows >= plan.auto_exact_below => {
            Some(Ok(Rows { rows, exact: false }))
        }
        (CountMode::Auto, _) => None,
    }
}

fn exact_rows(rows: i64) -> Rows {
    Rows {
        rows: u64::try_from(rows).unwrap_or(0),
        exact: true,
    }
}

/// A server cancelling the count at the limit we set is a timeout like any other.
fn exact_count_error(error: diesel::result::Error, budget: Duration) -> RefreshError {
    match RefreshError::from(error) {
        RefreshError::Query(message) if is_server_timeout(&message) => {
            RefreshError::Timeout(budget)
        }
        other => other,
    }
}

/// PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`, MySQL's
/// `MAX_EXECUTION_TIME`.
fn is_server_timeout(message: &str) -> bool {
    message.contains("canceling statement due to statement timeout")
        || message.contains("max_statement_time exceeded")
        || message.contains("maximum statement execution time exceeded")
}

#[cfg(feature = "async-postgres")]
mod asynchronous {
    use super::*;
    use crate::backend::async_postgres::{count_estimate, count_exact};
    use diesel_async::pooled_connection::deadpool::Pool;
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

    impl Probe {
        /// One `AsyncPgConnection` made from `url`, kept between refreshes.
        pub(crate) fn async_url(url: String) -> Probe {
            let source = Arc::new(AsyncUrlSource {
                url,
                idle: Mutex::new(Vec::new()),
            });
            Probe::Async(Arc::new(move |table, plan| {
                let source = source.clone();
                Box::pin(async move { source.count(&table, plan).await })
            }))
        }

        /// Connections from a deadpool pool of `AsyncPgConnection`s.
        pub(crate) fn deadpool(pool: Pool<AsyncPgConnection>) -> Probe {
            Probe::Async(Arc::new(move |table, plan| {
                let pool = pool.clone();
                Box::pin(async move {
                    let mut conn = match tokio::time::timeout(plan.budget, pool.get()).await {
                        Ok(Ok(conn)) => conn,
                        Ok(Err(error)) => return Err(RefreshError::Connect(error.to_string())),
                        Err(_) => return Err(RefreshError::Timeout(plan.budget)),
                    };
                    count_async(&mut conn, &table, plan).await
                })
            }))
        }
    }

    /// As [`UrlSource`], with diesel-async connections.
    struct AsyncUrlSource {
        url: String,
        idle: Mutex<Vec<(AsyncPgConnection, bool)>>,
    }

    impl AsyncUrlSource {
        async fn count(&self, table: &TableName, plan: Plan) -> Result<Rows, RefreshError> {
            let mut conn = match take_idle(&self.idle) {
                Some((mut conn, true)) => match conn.batch_execute("SELECT 1").await {
                    Ok(()) => conn,
                    Err(_) => AsyncPgConnection::establish(&self.url).await?,
                },
                Some((conn, false)) => conn,
                None => AsyncPgConnection::establish(&self.url).await?,
            };
            let result = count_async(&mut conn, table, plan).await;
            give_back(&self.idle, conn, result.is_err());
            result
        }
    }

    async fn count_async(
        conn: &mut AsyncPgConnection,
        table: &TableName,
        plan: Plan,
    ) -> Result<Rows, RefreshError> {
        let deadline = Deadline::after(plan.budget);

        if plan.mode != CountMode::Exact {
            let estimate = count_estimate(conn, &table.quoted).await?;
            if let Some(settled) = settle(plan, usable(estimate)) {
                return settled;
            }
        }

        let remaining = deadline.remaining();
        let rows = count_exact(conn, &table.quoted, remaining)
            .await
            .map_err(|error| exact_count_error(error, plan.budget))?;
        Ok(exact_rows(rows))
    }
}
