//! Row counts on a real PostgreSQL server (`TACHOMETER_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test works in a schema of its own, dropped at
//! the end; an unreachable server skips the test unless `TACHOMETER_REQUIRE_SERVICES=1`.

#![cfg(feature = "postgres")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{errors, last_refresh, records, refreshes, unique, wait_until, with_param, with_port};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use tachometer::Registry;
use tachometer_db::{CountMode, RecordsUpdater, RefreshError, Rows, TableOptions};

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
        big (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        big_locked (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        million (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        fresh (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        parts (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        empty_t (id) {
            id -> Integer,
        }
    }
}

const URL_VARIABLE: &str = "TACHOMETER_POSTGRES_URL";

fn base_url() -> String {
    std::env::var(URL_VARIABLE)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema of its own on the test server, dropped with everything in it at the end.
struct Pg {
    schema: String,
    /// Connects with the schema first on the search path, so `table!` names resolve into it.
    url: String,
}

impl Pg {
    fn new() -> Option<Pg> {
        let mut admin = match PgConnection::establish(&base_url()) {
            Ok(conn) => conn,
            Err(error) => return common::unavailable("PostgreSQL", URL_VARIABLE, error),
        };
        let schema = unique("tachometer_db");
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .unwrap();
        let url = with_param(&base_url(), &format!("options=-csearch_path%3D{schema}"));
        Some(Pg { schema, url })
    }

    fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    fn execute(&self, sql: &str) {
        diesel::sql_query(sql).execute(&mut self.conn()).unwrap();
    }

    fn updater(&self, registry: &Registry) -> RecordsUpdater<PgConnection> {
        RecordsUpdater::<PgConnection>::from_url(&self.url).registry(registry.clone())
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

#[derive(QueryableByName, Debug)]
struct Reltuples {
    #[diesel(sql_type = diesel::sql_types::Double)]
    reltuples: f64,
}

#[derive(QueryableByName, Debug)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn reltuples(conn: &mut PgConnection, table: &str) -> f64 {
    diesel::sql_query(format!(
        "SELECT reltuples::float8 AS reltuples FROM pg_class WHERE oid = to_regclass('{table}')"
    ))
    .get_result::<Reltuples>(conn)
    .unwrap()
    .reltuples
}

fn rows(rows: u64, exact: bool) -> Result<Rows, RefreshError> {
    Ok(Rows { rows, exact })
}

/// Taken by the tests that load the server with bulk inserts and by those whose refreshes have
/// short timeouts, so the first never starve the second on a small machine.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_counts_follow_inserts_and_deletes() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    let registry = Registry::new();
    let updater = pg
        .updater(&registry)
        .mode(CountMode::Exact)
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    assert_eq!(updater.refresh().await[0].result, rows(0, true));
    pg.execute("INSERT INTO sessions SELECT generate_series(1, 12345)");
    assert_eq!(updater.refresh().await[0].result, rows(12345, true));
    pg.execute("DELETE FROM sessions WHERE id % 5 = 0");
    assert_eq!(updater.refresh().await[0].result, rows(12345 - 2469, true));
    assert_eq!(records(&registry, "sessions"), Some(9876.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_of_a_million_rows_after_analyze_is_within_five_percent() {
    let _heavy = HEAVY.lock().await;
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE million (id int)");
    pg.execute("INSERT INTO million SELECT generate_series(1, 1000000)");
    pg.execute("ANALYZE million");
    let registry = Registry::new();
    let updater = pg
        .updater(&registry)
        .mode(CountMode::Estimated)
        .track(schema::million::table, "million")
        .build()
        .unwrap();

    let report = updater.refresh().await;
    let Ok(Rows { rows, exact: false }) = report[0].result else {
        panic!("expected an estimate, got {:?}", report[0].result);
    };
    assert!(
        (950_000..=1_050_000).contains(&rows),
        "estimate {rows} is more than 5% off 1000000"
    );
    assert_eq!(records(&registry, "million"), Some(rows as f64));

    // Growth after the ANALYZE shows through the table's size, without another ANALYZE.
    pg.execute("INSERT INTO million SELECT generate_series(1, 500000)");
    let report = updater.refresh().await;
    let Ok(Rows { rows, exact: false }) = report[0].result else {
        panic!("expected an estimate, got {:?}", report[0].result);
    };
    assert!(
        (1_425_000..=1_575_000).contains(&rows),
        "estimate {rows} is more than 5% off 1500000"
    );
}

/// Case C11: since PostgreSQL 14 a never-analysed table has `reltuples = -1` (unknown). That -1,
/// or a 0 clamped from it, must never be published as the row count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_analysed_table_reports_its_rows_not_minus_one() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE fresh (id int)");
    pg.execute("INSERT INTO fresh SELECT generate_series(1, 10)");
    pg.execute("CREATE TABLE empty_t (id int)");
    let mut conn = pg.conn();
    assert_eq!(
        reltuples(&mut conn, "fresh"),
        -1.0,
        "setup: fresh was analysed"
    );
    assert_eq!(
        reltuples(&mut conn, "empty_t"),
        -1.0,
        "setup: empty_t was analysed"
    );

    let registry = Registry::new();
    let updater = pg
        .updater(&registry)
        .auto_exact_below(0) // trust any estimate there is: the fallback must come from -1 alone
        .track(schema::fresh::table, "fresh")
        .track(schema::empty_t::table, "empty_t")
        .build()
        .unwrap();
    let report = updater.refresh().await;

    assert_eq!(report[0].result, rows(10, true));
    assert_eq!(report[1].result, rows(0, true));
    assert_eq!(records(&registry, "fresh"), Some(10.0));
    assert_eq!(records(&registry, "empty_t"), Some(0.0));
    let negative: Vec<_> = common::parse(&registry.render())
        .into_iter()
        .filter(|s| s.name == "database_records" && s.value < 0.0)
        .collect();
    assert!(negative.is_empty(), "{negative:?}");

    // Estimated mode never guesses: no statistics is an error, not a value.
    let estimated = pg
        .updater(&Registry::new())
        .mode(CountMode::Estimated)
        .track(schema::fresh::table, "fresh")
        .build()
        .unwrap();
    assert_eq!(
        estimated.refresh().await[0].result,
        Err(RefreshError::NoEstimate)
    );
}

/// A partitioned parent has no pages of its own (`relpages = -1`); scaling by them must not turn
/// its estimate into 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_table_estimate_is_never_a_zero_from_missing_pages() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE parts (id int) PARTITION BY RANGE (id)");
    pg.execute("CREATE TABLE parts_low PARTITION OF parts FOR VALUES FROM (0) TO (10000)");
    pg.execute("CREATE TABLE parts_high PARTITION OF parts FOR VALUES FROM (10000) TO (100000)");
    pg.execute("INSERT INTO parts SELECT generate_series(1, 30000)");
    let registry = Registry::new();
    let estimated = pg
        .updater(&registry)
        .mode(CountMode::Estimated)
        .track(schema::parts::table, "parts")
        .build()
        .unwrap();
    let auto = pg
        .updater(&Registry::new())
        .auto_exact_below(0)
        .track(schema::parts::table, "parts")
        .build()
        .unwrap();

    assert_eq!(
        estimated.refresh().await[0].result,
        Err(RefreshError::NoEstimate)
    );
    assert_eq!(auto.refresh().await[0].result, rows(30000, true));

    pg.execute("ANALYZE parts");
    assert_eq!(estimated.refresh().await[0].result, rows(30000, false));
    assert_eq!(auto.refresh().await[0].result, rows(30000, false));
    assert_eq!(records(&registry, "parts"), Some(30000.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_table_counts_errors_while_the_other_tables_keep_refreshing() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions VALUES (1), (2), (3)");
    let registry = Registry::new();
    let updater = pg
        .updater(&registry)
        .track(schema::machines::table, "machines")
        .track(schema::sessions::table, "sessions")
        .build()
        .unwrap();

    for expected_errors in 1..=2 {
        let report = updater.refresh().await;
        let Err(RefreshError::Query(message)) = &report[0].result else {
            panic!("expected a query error, got {:?}", report[0].result);
        };
        assert!(message.contains("\"machines\" does not exist"), "{message}");
        assert_eq!(report[1].result, rows(3, true));
        assert_eq!(errors(&registry, "machines"), Some(expected_errors as f64));
    }
    assert_eq!(records(&registry, "machines"), None);

    pg.execute("CREATE TABLE machines (id int)");
    pg.execute("INSERT INTO machines VALUES (1), (2)");
    updater.refresh().await;
    assert_eq!(records(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "machines"), Some(2.0));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
}

/// A timeout longer than the server's own limit for `statement_timeout` still counts (the limit is
/// capped), and no arithmetic on it overflows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_timeout_and_interval_are_accepted() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions VALUES (1), (2)");
    let registry = Registry::new();
    let handle = pg
        .updater(&registry)
        .mode(CountMode::Exact)
        .timeout(Duration::MAX)
        .interval(Duration::MAX)
        .jitter(Duration::MAX)
        .track(schema::sessions::table, "sessions")
        .start()
        .unwrap();
    wait_until("the first refresh", || {
        records(&registry, "sessions") == Some(2.0)
    })
    .await;
    assert_eq!(handle.refresh().await[0].result, rows(2, true));
    assert_eq!(errors(&registry, "sessions"), Some(0.0));
    handle.shutdown().await;
}

/// Holds `ACCESS EXCLUSIVE` on a table from another connection, so every query of it waits.
struct TableLock {
    release: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TableLock {
    fn hold(url: &str, table: &str) -> TableLock {
        let mut conn = PgConnection::establish(url).unwrap();
        diesel::sql_query("BEGIN").execute(&mut conn).unwrap();
        diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            .execute(&mut conn)
            .unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let flag = release.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(10));
            }
            diesel::sql_query("ROLLBACK").execute(&mut conn).unwrap();
        });
        TableLock {
            release,
            thread: Some(thread),
        }
    }

    fn release(mut self) {
        self.release.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap();
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        self.release.store(true, Ordering::Release);
    }
}

/// Each refresh that runs into the timeout adds exactly 1 to the error counter, and the value
/// stays the last good one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refresh_that_hits_the_timeout_adds_one_error() {
    let _heavy = HEAVY.lock().await;
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE big_locked (id int)");
    pg.execute("INSERT INTO big_locked SELECT generate_series(1, 50)");
    let registry = Registry::new();
    let updater = pg
        .updater(&registry)
        .mode(CountMode::Exact)
        .timeout(Duration::from_millis(500))
        .track(schema::big_locked::table, "big_locked")
        .build()
        .unwrap();
    // The first refresh also connects; on a busy machine that may not fit the timeout.
    let mut warm = 0;
    while records(&registry, "big_locked").is_none() {
        assert!(warm < 20, "no successful refresh in 20 attempts");
        updater.refresh().await;
        warm += 1;
    }
    assert_eq!(records(&registry, "big_locked"), Some(50.0));
    let before = errors(&registry, "big_locked").unwrap();

    let lock = TableLock::hold(&pg.url, "big_locked");
    for attempt in 1..=4 {
        let report = updater.refresh().await;
        assert!(
            matches!(
                report[0].result,
                Err(RefreshError::Timeout(_) | RefreshError::StillRunning)
            ),
            "{:?}",
            report[0].result
        );
        assert_eq!(
            errors(&registry, "big_locked"),
            Some(before + attempt as f64)
        );
        assert_eq!(records(&registry, "big_locked"), Some(50.0));
    }
    lock.release();

    pg.execute("INSERT INTO big_locked VALUES (51)");
    // The server cancels the last timed-out count shortly; until then a refresh may still find
    // it running.
    let mut recovered = None;
    for _ in 0..200 {
        let report = updater.refresh().await;
        if report[0].result.is_ok() {
            recovered = Some(report[0].result.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recovered, Some(rows(51, true)));
    assert_eq!(records(&registry, "big_locked"), Some(51.0));
}

#[derive(QueryableByName)]
struct Active {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Case C10: an exact count can take longer than the interval. Cycles must not pile up, small
/// tables must stay fresh, and a count that overruns its timeout is an error, not a stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_count_slower_than_the_interval_neither_piles_up_nor_stalls_small_tables() {
    let _heavy = HEAVY.lock().await;
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE big (id int)");
    pg.execute("INSERT INTO big SELECT generate_series(1, 5000000)");
    pg.execute("ANALYZE big");
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions VALUES (1), (2), (3)");
    // A table whose exact count can never finish in time while the test holds its lock.
    pg.execute("CREATE TABLE big_locked (id int)");
    pg.execute("INSERT INTO big_locked SELECT generate_series(1, 1000)");
    let lock = TableLock::hold(&pg.url, "big_locked");

    // Watch for overlapping counts for the whole test, as the case's query does.
    let watching = Arc::new(AtomicBool::new(true));
    let most_active = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (watching, most_active, url) = (watching.clone(), most_active.clone(), pg.url.clone());
        std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            while watching.load(Ordering::Acquire) {
                let active = diesel::sql_query(
                    "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE state = 'active' AND pid <> pg_backend_pid() \
                       AND query ILIKE '%count(%' AND query ILIKE '%big%'",
                )
                .get_result::<Active>(&mut conn)
                .unwrap()
                .n;
                most_active.fetch_max(active as u64, Ordering::AcqRel);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let registry = Registry::new();
    let handle = pg
        .updater(&registry)
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(200))
        .track(schema::big::table, "big")
        .track_with(
            schema::big_locked::table,
            "big_locked",
            TableOptions::new().mode(CountMode::Exact),
        )
        .track(schema::sessions::table, "sessions")
        .start()
        .unwrap();

    // The first cycle also connects, which a busy machine may not fit in 200 ms: the checks
    // below start from the first cycle in which both tables refreshed.
    wait_until("both tables refreshed", || {
        records(&registry, "sessions") == Some(3.0) && records(&registry, "big").is_some()
    })
    .await;
    let big_errors = errors(&registry, "big").unwrap();
    let sessions_errors = errors(&registry, "sessions").unwrap();
    let big = records(&registry, "big").unwrap();
    assert!(
        (4_500_000.0..=5_500_000.0).contains(&big),
        "big reads {big}, more than 10% off 5000000"
    );

    pg.execute("INSERT INTO sessions VALUES (4)");
    let cycles_at_insert = refreshes(&registry, "sessions").unwrap();
    let mut stamps = vec![last_refresh(&registry, "sessions").unwrap()];
    wait_until("two more cycles", || {
        let stamp = last_refresh(&registry, "sessions").unwrap();
        if stamp != *stamps.last().unwrap() {
            stamps.push(stamp);
        }
        refreshes(&registry, "sessions").unwrap() >= cycles_at_insert + 2.0
    })
    .await;
    assert_eq!(
        records(&registry, "sessions"),
        Some(4.0),
        "stale after two cycles"
    );
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    assert!(
        stamps.len() >= 2,
        "the timestamp did not advance: {stamps:?}"
    );

    wait_until("three timeouts", || {
        errors(&registry, "big_locked") >= Some(3.0)
    })
    .await;
    assert_eq!(
        records(&registry, "big_locked"),
        None,
        "no made-up value for big_locked"
    );
    assert_eq!(errors(&registry, "big"), Some(big_errors));
    assert_eq!(errors(&registry, "sessions"), Some(sessions_errors));
    // One error per cycle, never more: a refresh still running blocks the next one only.
    let cycles = refreshes(&registry, "sessions").unwrap();
    let timeouts = errors(&registry, "big_locked").unwrap();
    assert!(
        timeouts <= cycles + 1.0,
        "{timeouts} errors in {cycles} cycles"
    );

    lock.release();
    wait_until("big_locked recovers", || {
        records(&registry, "big_locked") == Some(1000.0)
    })
    .await;
    handle.shutdown().await;

    watching.store(false, Ordering::Release);
    watcher.join().unwrap();
    let most = most_active.load(Ordering::Acquire);
    assert!(most <= 1, "{most} counts of big ran at once");
}

/// A TCP proxy on 127.0.0.1 whose link to the server the test can cut and restore.
mod proxy {
    use std::sync::{Arc, Mutex};

    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::AbortHandle;

    pub(super) struct Proxy {
        pub(super) port: u16,
        state: Arc<Mutex<State>>,
        accept: AbortHandle,
    }

    #[derive(Default)]
    struct State {
        cut: bool,
        links: Vec<AbortHandle>,
    }

    impl Proxy {
        pub(super) async fn start(upstream: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let state = Arc::new(Mutex::new(State::default()));
            let shared = state.clone();
            let accept = tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if shared.lock().unwrap().cut {
                        drop(client); // accepted and closed at once: the link is down
                        continue;
                    }
                    let upstream = upstream.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    shared.lock().unwrap().links.push(link.abort_handle());
                }
            })
            .abort_handle();
            Proxy {
                port,
                state,
                accept,
            }
        }

        /// Closes every open link and refuses new ones.
        pub(super) fn cut(&self) {
            let mut state = self.state.lock().unwrap();
            state.cut = true;
            for link in state.links.drain(..) {
                link.abort();
            }
        }

        pub(super) fn restore(&self) {
            self.state.lock().unwrap().cut = false;
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.accept.abort();
            self.cut();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_for_several_intervals_counts_errors_then_recovers_fresh_values() {
    let _heavy = HEAVY.lock().await;
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions SELECT generate_series(1, 7)");

    let upstream = {
        let url = base_url();
        let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
        let host = authority.rsplit('@').next().unwrap().to_owned();
        if host.contains(':') {
            host
        } else {
            format!("{host}:5432")
        }
    };
    let proxy = proxy::Proxy::start(upstream).await;
    let proxied = with_port(&pg.url, proxy.port);

    let interval = Duration::from_millis(200);
    let registry = Registry::new();
    let handle = RecordsUpdater::<PgConnection>::from_url(proxied)
        .registry(registry.clone())
        .interval(interval)
        .jitter(Duration::from_millis(20))
        .timeout(Duration::from_secs(2))
        .track(schema::sessions::table, "sessions")
        .start()
        .unwrap();
    wait_until("the first value", || {
        records(&registry, "sessions") == Some(7.0)
    })
    .await;
    assert_eq!(errors(&registry, "sessions"), Some(0.0));

    proxy.cut();
    pg.execute("INSERT INTO sessions SELECT generate_series(8, 10)");
    wait_until("errors over several intervals", || {
        errors(&registry, "sessions") >= Some(4.0)
    })
    .await;
    assert_eq!(
        records(&registry, "sessions"),
        Some(7.0),
        "the last good value stays"
    );

    let errors_at_restore = errors(&registry, "sessions").unwrap();
    proxy.restore();
    wait_until("a fresh value", || {
        records(&registry, "sessions") == Some(10.0)
    })
    .await;
    // At most the one cycle in flight at the moment of the restore can still fail: the first
    // cycle that starts after it succeeds, so the value is fresh within one interval.
    let errors_after = errors(&registry, "sessions").unwrap();
    assert!(
        errors_after <= errors_at_restore + 1.0,
        "{errors_at_restore} errors at restore, {errors_after} after"
    );
    handle.shutdown().await;
}

/// The count runs on the blocking pool: on a single-threaded runtime another task keeps its
/// schedule while a count waits on a lock.
#[test]
fn another_task_keeps_its_schedule_on_a_single_threaded_runtime_while_a_slow_count_runs() {
    let Some(pg) = Pg::new() else { return };
    pg.execute("CREATE TABLE sessions (id int)");
    pg.execute("INSERT INTO sessions SELECT generate_series(1, 42)");
    let registry = Registry::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let lock = TableLock::hold(&pg.url, "sessions");
    let ticks = Arc::new(AtomicU64::new(0));
    let ticks_while_waiting = Arc::new(AtomicU64::new(0));

    // Outside the runtime: once the count is seen waiting on the lock, let the ticker run 20
    // ticks, then release. If the count blocked the runtime's only thread there are no ticks,
    // and the deadline releases the lock so the test fails instead of hanging.
    let referee = {
        let (url, ticks, ticks_while_waiting) =
            (pg.url.clone(), ticks.clone(), ticks_while_waiting.clone());
        std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let waiting = diesel::sql_query(
                    "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE wait_event_type = 'Lock' AND query ILIKE '%count(%sessions%'",
                )
                .get_result::<Number>(&mut conn)
                .unwrap()
                .n;
                if waiting == 1 || std::time::Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let start = ticks.load(Ordering::Acquire);
            while ticks.load(Ordering::Acquire) < start + 20 && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            ticks_while_waiting.store(ticks.load(Ordering::Acquire) - start, Ordering::Release);
            lock.release();
        })
    };

    let report = runtime.block_on(async {
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(10));
                loop {
                    every.tick().await;
                    ticks.fetch_add(1, Ordering::AcqRel);
                }
            })
        };
        let updater = pg
            .updater(&registry)
            .mode(CountMode::Exact)
            .timeout(Duration::from_secs(60))
            .track(schema::sessions::table, "sessions")
            .build()
            .unwrap();
        let report = updater.refresh().await;
        ticker.abort();
        report
    });
    referee.join().unwrap();

    assert_eq!(report[0].result, rows(42, true));
    assert!(
        ticks_while_waiting.load(Ordering::Acquire) >= 20,
        "the ticker ran {} times while the count waited",
        ticks_while_waiting.load(Ordering::Acquire)
    );
}
