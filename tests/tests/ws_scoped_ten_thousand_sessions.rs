//! Ten thousand `#[ws_scoped]` sessions across tasks: some tasks panic, some are aborted,
//! the rest drop their session. `websocket_connections_active` ends at 0 and no scrape taken
//! in between reads below 0.
//!
//! This binary holds one test, so the `session` scope's series hold only its connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tachometer::{Exporter, WsConnection};
use tachometer_tests::{Exposition, http_get, parse_ok};
use tokio::sync::{mpsc, oneshot};

const SESSIONS: usize = 10_000;

/// Panics caused on purpose start with this, and the panic hook keeps them quiet.
const EXPECTED_PANIC: &str = "session task failure on purpose";

#[tachometer::ws_scoped("session")]
struct Session {
    id: usize,
}

enum Fate {
    Panic,
    Return,
}

fn quiet_expected_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if !message.is_some_and(|m| m.starts_with(EXPECTED_PANIC)) {
            report(info);
        }
    }));
}

fn scrape(metrics: SocketAddr) -> Exposition {
    let (status, _, body) = http_get(metrics, "/metrics", &[]).unwrap();
    assert_eq!(status, 200);
    parse_ok(&body)
}

async fn scrape_async(metrics: SocketAddr) -> Exposition {
    tokio::task::spawn_blocking(move || scrape(metrics))
        .await
        .unwrap()
}

fn session_value(exposition: &Exposition, name: &str) -> Option<f64> {
    exposition.value(name, &[("scope", "session")])
}

fn active(exposition: &Exposition) -> Option<f64> {
    session_value(exposition, "websocket_connections_active")
}

/// A scraper polling `/metrics` on a thread of its own, recording every value of the
/// session gauge it reads.
struct Poller {
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
    thread: JoinHandle<Vec<f64>>,
}

impl Poller {
    fn start(metrics: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, reads) = (stop.clone(), reads.clone());
            std::thread::spawn(move || {
                let mut readings = Vec::new();
                loop {
                    let stopping = stop.load(Ordering::Acquire);
                    if let Some(value) = active(&scrape(metrics)) {
                        readings.push(value);
                    }
                    reads.fetch_add(1, Ordering::AcqRel);
                    if stopping {
                        return readings;
                    }
                }
            })
        };
        Self {
            stop,
            reads,
            thread,
        }
    }

    /// Waits until the poller has finished `more` further scrapes, so that its reads fall
    /// between the steps of the run as well as during them.
    async fn wait_for_reads(&self, more: usize) {
        let target = self.reads.load(Ordering::Acquire) + more;
        while self.reads.load(Ordering::Acquire) < target {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Stops after one last scrape that starts now, and returns every value read.
    fn finish(self) -> Vec<f64> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sessions_that_panic_abort_or_drop_end_at_zero() {
    quiet_expected_panics();
    let exporter = Exporter::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let metrics = exporter.local_addr();
    let poller = Poller::start(metrics);

    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<usize>();
    let mut fates = Vec::with_capacity(SESSIONS);
    let mut tasks = Vec::with_capacity(SESSIONS);
    for id in 0..SESSIONS {
        let (fate_tx, fate_rx) = oneshot::channel::<Fate>();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let session = Session {
                id,
                ws_connection: WsConnection::open(),
            };
            tokio::task::yield_now().await;
            ready.send(session.id).unwrap();
            match fate_rx.await {
                Ok(Fate::Panic) => panic!("{EXPECTED_PANIC}: session {}", session.id),
                Ok(Fate::Return) | Err(_) => drop(session),
            }
        }));
        fates.push(Some(fate_tx));
        if id % 1000 == 0 {
            poller.wait_for_reads(1).await;
        }
    }
    for _ in 0..SESSIONS {
        ready_rx.recv().await.unwrap();
    }
    let open = scrape_async(metrics).await;
    assert_eq!(active(&open), Some(10_000.0));

    // Every tenth task panics, every fifth of the rest is aborted, the others return; the
    // three kinds of ending interleave.
    let (mut to_panic, mut to_abort) = (0, 0);
    for (id, fate) in fates.iter_mut().enumerate() {
        if id % 10 == 0 {
            fate.take().unwrap().send(Fate::Panic).ok().unwrap();
            to_panic += 1;
        } else if id % 5 == 1 {
            tasks[id].abort();
            to_abort += 1;
        } else {
            fate.take().unwrap().send(Fate::Return).ok().unwrap();
        }
        if id % 500 == 0 {
            poller.wait_for_reads(1).await;
        }
    }
    assert_eq!((to_panic, to_abort), (1000, 2000));

    let (mut panicked, mut aborted, mut returned) = (0, 0, 0);
    for task in tasks {
        match task.await {
            Ok(()) => returned += 1,
            Err(e) if e.is_panic() => panicked += 1,
            Err(e) if e.is_cancelled() => aborted += 1,
            Err(e) => panic!("unexpected join error {e}"),
        }
    }
    drop(fates);
    assert_eq!((panicked, aborted, returned), (1000, 2000, 7000));

    let end = scrape_async(metrics).await;
    assert_eq!(active(&end), Some(0.0));
    assert_eq!(
        session_value(&end, "websocket_connections_opened_total"),
        Some(10_000.0)
    );
    assert_eq!(
        session_value(&end, "websocket_connection_duration_seconds_count"),
        Some(10_000.0)
    );

    let readings = poller.finish();
    assert!(readings.len() > 20, "{} reads", readings.len());
    let lowest = readings.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(lowest >= 0.0, "the gauge read {lowest}");
    assert_eq!(readings.last(), Some(&0.0));
}
