//! The background updater: configuration, one refresh cycle, the loop and its handle.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::Table;
use diesel::query_builder::QueryFragment;
use tachometer::builtin::{
    DATABASE_RECORDS, DATABASE_RECORDS_LAST_REFRESH_TIMESTAMP_SECONDS,
    DATABASE_RECORDS_REFRESH_DURATION_SECONDS, DATABASE_RECORDS_REFRESH_ERRORS_TOTAL,
};
use tachometer::{Counter, Gauge, Histogram, Registry};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backend::{BlockingConnection, CountConnection};
use crate::error::{RefreshError, StartError};
use crate::source::{Plan, Probe, Rows};
use crate::table::{CountMode, TableName, TableOptions, TrackedTable};

/// Refresh interval when none is configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Per-table timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Under [`CountMode::Auto`], estimates below this many rows are replaced by an exact count.
pub const DEFAULT_AUTO_EXACT_BELOW: u64 = 10_000;

/// Configures which tables to count and how; [`start`](RecordsUpdater::start) runs it.
///
/// `C` is the diesel connection type of the database: `SqliteConnection`, `PgConnection` or
/// `MysqlConnection`, or diesel-async's `AsyncPgConnection` (feature `async-postgres`). See the
/// [crate documentation](crate) for an example.
#[must_use = "an updater does nothing until it is started"]
pub struct RecordsUpdater<C: CountConnection> {
    probe: Probe,
    connection: PhantomData<fn() -> C>,
    tables: Vec<TrackedTable>,
    interval: Duration,
    jitter: Option<Duration>,
    timeout: Duration,
    mode: CountMode,
    auto_exact_below: u64,
    registry: Option<Registry>,
}

impl<C: BlockingConnection> RecordsUpdater<C> {
    /// Counts through one connection made from `url` (a file path for SQLite), kept open between
    /// refreshes, checked after a failed one and made again when it is broken.
    ///
    /// The URL is used only to connect: it never appears in a log line, an error or a label.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self::with_probe(Probe::url::<C>(url.into()))
    }

    /// Counts through connections taken from an r2d2 pool, such as the application's own.
    ///
    /// Each refresh of each table holds one connection for the time of its query. Waiting for a
    /// free connection counts against the table's timeout.
    #[cfg(feature = "r2d2")]
    pub fn from_pool(pool: diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<C>>) -> Self {
        Self::with_probe(Probe::r2d2(pool))
    }
}

#[cfg(feature = "async-postgres")]
impl RecordsUpdater<diesel_async::AsyncPgConnection> {
    /// Counts through one diesel-async PostgreSQL connection made from `url`, kept open between
    /// refreshes, checked after a failed one and made again when it is broken.
    pub fn from_async_url(url: impl Into<String>) -> Self {
        Self::with_probe(Probe::async_url(url.into()))
    }

    /// Counts through connections taken from a diesel-async deadpool pool, such as the
    /// application's own. Waiting for a free connection counts against the table's timeout.
    pub fn from_async_pool(
        pool: diesel_async::pooled_connection::deadpool::Pool<diesel_async::AsyncPgConnection>,
    ) -> Self {
        Self::with_probe(Probe::deadpool(pool))
    }
}

impl<C: CountConnection> RecordsUpdater<C> {
    fn with_probe(probe: Probe) -> Self {
        RecordsUpdater {
            probe,
            connection: PhantomData,
            tables: Vec::new(),
            interval: DEFAULT_INTERVAL,
            jitter: None,
            timeout: DEFAULT_TIMEOUT,
            mode: CountMode::Auto,
            auto_exact_below: DEFAULT_AUTO_EXACT_BELOW,
            registry: None,
        }
    }

    /// Tracks `table` (a diesel `table!` type, such as `schema::sessions::table`) under the
    /// `table` label value `label`, with the updater's default mode and timeout.
    pub fn track<T>(self, table: T, label: impl Into<String>) -> Self
    where
        T: Table + QueryFragment<C::Dialect>,
    {
        self.track_with(table, label, TableOptions::new())
    }

    /// Tracks `table` under `label` with its own mode or timeout.
    pub fn track_with<T>(
        mut self,
        table: T,
        label: impl Into<String>,
        options: TableOptions,
    ) -> Self
    where
        T: Table + QueryFragment<C::Dialect>,
    {
        let rendered = C::render_table(&table);
        let sql = rendered
            .strip_suffix(" -- binds: []")
            .unwrap_or(&rendered)
            .trim();
        // A `table!` type always renders as quoted identifiers.
        let name = TableName::parse(sql, C::QUOTE)
            .unwrap_or_else(|| panic!("diesel rendered a table as `{sql}`, not a quoted name"));

        self.tables.push(TrackedTable {
            label: label.into(),
            name,
            options,
        });
        self
    }

    /// Time between the start of one refresh cycle and the next (default 60 s), plus jitter.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Each wait between cycles is the interval plus a random extra between zero and `jitter`
    /// (default: a tenth of the interval), so replicas started together drift apart.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// How long one refresh of one table may take before it counts as failed (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The count mode of tables tracked without their own (default [`CountMode::Auto`]).
    pub fn mode(mut self, mode: CountMode) -> Self {
        self.mode = mode;
        self
    }

    /// Under [`CountMode::Auto`], an estimate below `rows` is replaced by an exact count
    /// (default 10 000). `0` trusts every estimate the database has.
    pub fn auto_exact_below(mut self, rows: u64) -> Self {
        self.auto_exact_below = rows;
        self
    }

    /// Writes the gauges to `registry` instead of [`tachometer::global()`].
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Checks the configuration and returns an updater that refreshes only when asked
    /// ([`Updater::refresh`]) until [`Updater::spawn`] starts its loop.
    pub fn build(self) -> Result<Updater, StartError> {
        if self.tables.is_empty() {
            return Err(StartError::NoTables);
        }
        if self.interval.is_zero() {
            return Err(StartError::ZeroDuration("refresh interval"));
        }
        let mut labels = HashSet::new();
        for table in &self.tables {
            if table.label.is_empty() {
                return Err(StartError::EmptyLabel);
            }
            if !labels.insert(table.label.as_str()) {
                return Err(StartError::DuplicateLabel(table.label.clone()));
            }
            if self.timeout.is_zero() || table.options.timeout == Some(Duration::ZERO) {
                return Err(StartError::ZeroDuration("refresh timeout"));
            }
        }

        let registry = self
            .registry
            .unwrap_or_else(|| tachometer::global().clone());
        let tables = self
            .tables
            .into_iter()
            .map(|table| TableState::new(&registry, table, self.mode, self.timeout))
            .collect();
        Ok(Updater {
            inner: Arc::new(Inner {
                tables,
                probe: self.probe,
                auto_exact_below: self.auto_exact_below,
                interval: self.interval,
                jitter: self.jitter.unwrap_or(self.interval / 10),
                cycle: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Builds the updater and starts its loop on the current tokio runtime: a first refresh
    /// right away, then one every interval (plus jitter) until the handle is dropped or shut down.
    pub fn start(self) -> Result<UpdaterHandle, StartError> {
        // Checked first, so a failed start leaves no series behind.
        tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        self.build()?.spawn()
    }
}

/// The outcome of one table in one refresh cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRefresh {
    /// The table's label.
    pub label: String,
    /// The rows found, or why the refresh failed.
    pub result: Result<Rows, RefreshError>,
}

/// One tracked table and its series.
struct TableState {
    registry: Registry,
    label: String,
    name: TableName,
    mode: CountMode,
    timeout: Duration,
    errors: Counter,
    duration: Histogram,
    /// Made on the first success only: asking the registry for a handle creates the series at
    /// 0, and a made-up 0 would read as an empty table.
    records: OnceLock<Gauge>,
    last_refresh: OnceLock<Gauge>,
    /// Set while a blocking query of this table runs, even one the updater stopped waiting for.
    in_flight: Arc<AtomicBool>,
    consecutive_failures: AtomicU64,
}

impl TableState {
    fn new(registry: &Registry, table: TrackedTable, mode: CountMode, timeout: Duration) -> Self {
        let labels = [table.label.as_str()];
        TableState {
            errors: registry.counter(&DATABASE_RECORDS_REFRESH_ERRORS_TOTAL, &labels),
            duration: registry.histogram(&DATABASE_RECORDS_REFRESH_DURATION_SECONDS, &labels),
            mode: table.options.mode.unwrap_or(mode),
            timeout: table.options.timeout.unwrap_or(timeout),
            records: OnceLock::new(),
            last_refresh: OnceLock::new(),
            in_flight: Arc::new(AtomicBool::new(false)),
            consecutive_failures: AtomicU64::new(0),
            registry: registry.clone(),
            label: table.label,
            name: table.name,
        }
    }
}

/// Clears a table's in-flight flag when the blocking query ends, however it ends.
struct InFlight(Arc<AtomicBool>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

struct Inner {
    tables: Vec<TableState>,
    probe: Probe,
    auto_exact_below: u64,
    interval: Duration,
    jitter: Duration,
    /// Held for a whole cycle, so cycles never overlap.
    cycle: tokio::sync::Mutex<()>,
}

impl Inner {
    async fn cycle(&self) -> Vec<TableRefresh> {
        let _cycle = self.cycle.lock().await;

        let mut outcomes = Vec::with_capacity(self.tables.len());
        for table in &self.tables {
            outcomes.push(TableRefresh {
                label: table.label.clone(),
                result: self.refresh(table).await,
            });
        }
        outcomes
    }

    async fn refresh(&self, table: &TableState) -> Result<Rows, RefreshError> {
        let result = self.count(table).await;

        match &result {
            Ok(rows) => {
                let records = table
                    .records
                    .get_or_init(|| table.registry_gauge(&DATABASE_RECORDS));
                records.set(rows.rows as f64);
                let last_refresh = table.last_refresh.get_or_init(|| {
                    table.registry_gauge(&DATABASE_RECORDS_LAST_REFRESH_TIMESTAMP_SECONDS)
                });
                last_refresh.set(unix_time_seconds());

                let failures = table.consecutive_failures.swap(0, Ordering::Relaxed);
                if failures > 0 {
                    tracing::info!(
                        table = %table.label,
                        failed_refreshes = failures,
                        rows = rows.rows,
                        "row count refresh recovered"
                    );
                }
            }
            Err(error) => {
                table.errors.inc();
                let failures = table.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    table = %table.label,
                    mode = %table.mode,
                    reason = error.reason(),
                    error = %error,
                    consecutive_failures = failures,
                    "row count refresh failed; keeping the last value"
                );
            }
        }
        result
    }

    /// Runs the count on the blocking pool, bounded by the table's timeout.
    async fn count(&self, table: &TableState) -> Result<Rows, RefreshError> {
        if table
            .in_flight
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(RefreshError::StillRunning);
        }
        let in_flight = Box::new(InFlight(table.in_flight.clone()));

        let budget = table.timeout;
        let plan = Plan {
            mode: table.mode,
            auto_exact_below: self.auto_exact_below,
            budget,
        };
        let started = Instant::now();
        let task = self.probe.spawn(table.name.clone(), plan, in_flight);

        let result = match tokio::time::timeout(budget, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(_join_error)) => Err(RefreshError::Panicked),
            Err(_elapsed) => Err(RefreshError::Timeout(budget)),
        };
        table.duration.observe_duration(started.elapsed());
        result
    }

    async fn run(self: Arc<Self>, mut stop: oneshot::Receiver<()>) {
        let mut next = Instant::now();
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                _ = tokio::time::sleep_until(next) => {}
            }

            let started = Instant::now();
            self.cycle().await;

            let wait = self
                .interval
                .saturating_add(self.jitter.mul_f64(random_fraction()));
            // An interval too long for the clock means "never again"; a year is as good.
            let wait = wait.min(Duration::from_secs(365 * 24 * 3600));
            next = started + wait;
            // A cycle longer than the interval is followed by a full wait, not a burst.
            let now = Instant::now();
            if next <= now {
                next = now + wait;
            }
        }
    }
}

impl TableState {
    fn registry_gauge(&self, desc: &'static tachometer::Descriptor) -> Gauge {
        self.registry.gauge(desc, &[self.label.as_str()])
    }
}

/// A configured updater that refreshes when asked; [`spawn`](Updater::spawn) runs it in the
/// background.
#[derive(Clone)]
pub struct Updater {
    inner: Arc<Inner>,
}

impl Updater {
    /// Runs one refresh cycle now over every table, waiting for a cycle already in progress to
    /// end first, and returns each table's outcome. The gauges are updated as in the background.
    pub async fn refresh(&self) -> Vec<TableRefresh> {
        self.inner.cycle().await
    }

    /// Starts the background loop on the current tokio runtime.
    pub fn spawn(self) -> Result<UpdaterHandle, StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let (stop, stopped) = oneshot::channel();
        let task = runtime.spawn(self.inner.clone().run(stopped));
        Ok(UpdaterHandle {
            updater: self,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// Keeps the background updater running; dropping it stops the loop after the cycle in progress.
#[must_use = "dropping the handle stops the updater"]
pub struct UpdaterHandle {
    updater: Updater,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl UpdaterHandle {
    /// Runs one cycle now, between the background ones (they never overlap).
    pub async fn refresh(&self) -> Vec<TableRefresh> {
        self.updater.refresh().await
    }

    /// Stops the loop and waits for the refresh in flight, if any, to finish.
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            // The loop never panics; a JoinError here could only be a cancelled runtime.
            let _ = task.await;
        }
    }
}

impl Drop for UpdaterHandle {
    fn drop(&mut self) {
        // Dropping the sender wakes the loop, which ends after the cycle in progress.
        self.stop.take();
    }
}

fn unix_time_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs_f64())
        .unwrap_or(0.0)
}

/// A number in [0, 1) that differs between calls and processes; enough for jitter.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};

    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_fractions_stay_in_range_and_vary() {
        let samples: Vec<f64> = (0..1000).map(|_| random_fraction()).collect();
        assert!(samples.iter().all(|x| (0.0..1.0).contains(x)));
        let distinct: HashSet<u64> = samples.iter().map(|x| x.to_bits()).collect();
        assert!(
            distinct.len() > 990,
            "only {} distinct values",
            distinct.len()
        );
    }
}
