//! Cost of one table refresh on PostgreSQL, `estimated` against `exact`, at 10 thousand, 1
//! million and 10 million rows. The estimate's cost should not grow with the table; the exact count's does.
//!
//! `cargo bench -p tachometer-db --features postgres --bench refresh_cost`
//! (server from `TACHOMETER_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`;
//! skipped with a message when it is unreachable).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use diesel::{Connection, PgConnection, RunQueryDsl};
use tachometer::Registry;
use tachometer_db::{CountMode, RecordsUpdater, Updater};

mod schema {
    diesel::table! {
        rows_10k (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        rows_1m (id) {
            id -> Integer,
        }
    }

    diesel::table! {
        rows_10m (id) {
            id -> Integer,
        }
    }
}

/// The tables' sizes: their label in the report, and their rows.
const SIZES: [(&str, u64); 3] = [("10k", 10_000), ("1M", 1_000_000), ("10M", 10_000_000)];

/// A schema holding the two tables, dropped when the bench ends.
struct Fixture {
    admin: PgConnection,
    schema: String,
    url: String,
}

impl Fixture {
    fn create(base: &str) -> Result<Fixture, diesel::ConnectionError> {
        let mut admin = PgConnection::establish(base)?;
        let schema = format!("tachometer_bench_{}", std::process::id());
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}");

        let mut setup = vec![
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            format!("CREATE SCHEMA {schema}"),
        ];
        for (label, rows) in SIZES {
            let table = format!("{schema}.rows_{}", label.to_lowercase());
            setup.push(format!(
                "CREATE TABLE {table} AS SELECT g AS id FROM generate_series(1, {rows}) AS g"
            ));
            setup.push(format!("ANALYZE {table}"));
        }
        for sql in setup {
            diesel::sql_query(sql)
                .execute(&mut admin)
                .expect("bench setup query");
        }
        Ok(Fixture { admin, schema, url })
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let drop_schema = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        let _ = diesel::sql_query(drop_schema).execute(&mut self.admin);
    }
}

/// Time spent and refreshes run, by (rows, mode).
type Totals = BTreeMap<(&'static str, &'static str), (Duration, u64)>;

fn updater(url: &str, mode: CountMode, rows: &str) -> Updater {
    let builder = RecordsUpdater::<PgConnection>::from_url(url)
        .registry(Registry::new())
        .mode(mode)
        .timeout(Duration::from_secs(120));
    let builder = match rows {
        "10k" => builder.track(schema::rows_10k::table, "rows_10k"),
        "1M" => builder.track(schema::rows_1m::table, "rows_1m"),
        _ => builder.track(schema::rows_10m::table, "rows_10m"),
    };
    builder.build().expect("a valid configuration")
}

fn main() {
    let base = std::env::var("TACHOMETER_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let fixture = match Fixture::create(&base) {
        Ok(fixture) => fixture,
        Err(error) => {
            eprintln!(
                "refresh_cost: skipped, PostgreSQL is unreachable (URL from TACHOMETER_POSTGRES_URL): {error}"
            );
            return;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    // Mean time per refresh of every (rows, mode), measured inside criterion's own iterations.
    let totals: Mutex<Totals> = Mutex::new(BTreeMap::new());
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let mut group = criterion.benchmark_group("refresh");
    for (rows, _) in SIZES {
        for mode in [CountMode::Estimated, CountMode::Exact] {
            let updater = updater(&fixture.url, mode, rows);
            let check = runtime.block_on(updater.refresh());
            assert!(check[0].result.is_ok(), "{:?}", check[0].result);

            group.bench_function(BenchmarkId::new(mode.as_str(), rows), |bencher| {
                bencher.iter_custom(|iterations| {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let report = runtime.block_on(updater.refresh());
                        assert!(report[0].result.is_ok(), "{:?}", report[0].result);
                    }
                    let elapsed = started.elapsed();
                    let mut totals = totals.lock().unwrap();
                    let entry = totals.entry((rows, mode.as_str())).or_default();
                    entry.0 += elapsed;
                    entry.1 += iterations;
                    elapsed
                });
            });
        }
    }
    group.finish();
    criterion.final_summary();

    print_side_by_side(&totals.into_inner().unwrap());
}

#[allow(clippy::print_stdout)] // a bench's report is its output
fn print_side_by_side(totals: &Totals) {
    let mean_ms = |rows: &str, mode: &str| -> Option<f64> {
        match totals.get(&(rows, mode)) {
            Some((total, n)) if *n > 0 => Some(total.as_secs_f64() * 1e3 / *n as f64),
            _ => None,
        }
    };
    let show = |ms: Option<f64>| ms.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3} ms"));
    println!();
    println!("mean time of one refresh (PostgreSQL)");
    println!(
        "{:>10}  {:>14}  {:>14}  {:>16}",
        "rows", "estimated", "exact", "exact/estimated"
    );
    for (rows, _) in SIZES {
        let (estimated, exact) = (mean_ms(rows, "estimated"), mean_ms(rows, "exact"));
        let ratio = estimated
            .zip(exact)
            .map_or_else(|| "-".to_owned(), |(e, x)| format!("{:.0}x", x / e));
        println!(
            "{:>10}  {:>14}  {:>14}  {:>16}",
            rows,
            show(estimated),
            show(exact),
            ratio
        );
    }
    let (first, last) = (SIZES[0].0, SIZES[SIZES.len() - 1].0);
    if let Some((small, big)) = mean_ms(first, "estimated").zip(mean_ms(last, "estimated")) {
        println!(
            "estimated at {last} / estimated at {first}: {:.2}x",
            big / small
        );
    }
}
