//! Case C1: a connection gauge must never go below zero. Sessions held by tasks that return,
//! panic or are aborted, constructions that fail part-way, and clones all keep
//! `websocket_connections_active{scope="session"}` exact, and a scraper polling `/metrics`
//! throughout never reads a negative value.
//!
//! This binary holds one test, so the `session` scope's series hold only its connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tachometer::{Exporter, WsConnection};
use tachometer_tests::{Exposition, http_get, parse_ok};
use tokio::sync::{mpsc, oneshot};

/// Panics caused on purpose start with this, and the panic hook keeps them quiet.
const EXPECTED_PANIC: &str = "session task failure on purpose";

#[tachometer::ws_scoped("session")]
#[derive(Clone, Debug)]
struct Session {
    user: u32,
}

/// Why a session was refused.
#[derive(Debug)]
struct Refused;

impl Session {
    fn open(user: u32) -> Self {
        Self {
            user,
            ws_connection: WsConnection::open(),
        }
    }

    /// Opens the connection, then refuses the token: the refusal drops the opened connection.
    fn accept(user: u32, token: &str) -> Result<Self, Refused> {
        let ws_connection = WsConnection::open();
        if token != "valid" {
            return Err(Refused);
        }
        Ok(Self {
            user,
            ws_connection,
        })
    }

    /// Panics part-way through building the value, after its connection field is built.
    fn accept_profile(profile: Option<u32>) -> Self {
        Self {
            ws_connection: WsConnection::open(),
            user: profile.unwrap_or_else(|| panic!("{EXPECTED_PANIC}: no profile")),
        }
    }
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
async fn connection_gauge_driven_below_zero() {
    quiet_expected_panics();
    let exporter = Exporter::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let metrics = exporter.local_addr();
    let poller = Poller::start(metrics);

    // 1000 tasks, each holding one session until told its fate.
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<u32>();
    let mut fates = Vec::new();
    let mut tasks = Vec::new();
    for user in 0..1000 {
        let (fate_tx, fate_rx) = oneshot::channel::<Fate>();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let session = Session::open(user);
            ready.send(session.user).unwrap();
            match fate_rx.await {
                Ok(Fate::Panic) => panic!("{EXPECTED_PANIC}: user {}", session.user),
                Ok(Fate::Return) | Err(_) => drop(session),
            }
        }));
        fates.push(Some(fate_tx));
    }
    for opened in 1..=1000 {
        ready_rx.recv().await.unwrap();
        if opened % 100 == 0 {
            poller.wait_for_reads(1).await;
        }
    }
    let held = scrape_async(metrics).await;
    assert_eq!(active(&held), Some(1000.0));
    assert_eq!(
        session_value(&held, "websocket_connections_opened_total"),
        Some(1000.0)
    );

    // Ten constructions that fail after opening their connection.
    for user in 0..5 {
        assert!(Session::accept(5000 + user, "expired").is_err());
    }
    let panicking: Vec<_> = (0..5)
        .map(|_| tokio::spawn(async { Session::accept_profile(None) }))
        .collect();
    for construction in panicking {
        assert!(construction.await.unwrap_err().is_panic());
    }
    let after_failures = scrape_async(metrics).await;
    assert_eq!(active(&after_failures), Some(1000.0));
    assert_eq!(
        session_value(&after_failures, "websocket_connections_opened_total"),
        Some(1010.0)
    );
    assert_eq!(
        session_value(
            &after_failures,
            "websocket_connection_duration_seconds_count"
        ),
        Some(10.0)
    );

    // 100 panic while holding their session, 50 are aborted, 850 return.
    for (i, fate) in fates[..100].iter_mut().enumerate() {
        fate.take().unwrap().send(Fate::Panic).ok().unwrap();
        if i % 25 == 0 {
            poller.wait_for_reads(1).await;
        }
    }
    for task in &tasks[100..150] {
        task.abort();
    }
    poller.wait_for_reads(1).await;
    for (i, fate) in fates[150..].iter_mut().enumerate() {
        fate.take().unwrap().send(Fate::Return).ok().unwrap();
        if i % 100 == 0 {
            poller.wait_for_reads(1).await;
        }
    }
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
    assert_eq!((panicked, aborted, returned), (100, 50, 850));

    let closed = scrape_async(metrics).await;
    assert_eq!(active(&closed), Some(0.0));
    assert_eq!(
        session_value(&closed, "websocket_connections_opened_total"),
        Some(1010.0)
    );
    assert_eq!(
        session_value(&closed, "websocket_connection_duration_seconds_count"),
        Some(1010.0)
    );

    // The clone run: each clone is a connection of its own.
    let originals: Vec<Session> = (0..5).map(Session::open).collect();
    let clones: Vec<Session> = originals
        .iter()
        .flat_map(|s| [s.clone(), s.clone()])
        .collect();
    assert_eq!(clones.len(), 10);
    assert_eq!(active(&scrape_async(metrics).await), Some(15.0));
    poller.wait_for_reads(1).await;
    drop(clones);
    assert_eq!(active(&scrape_async(metrics).await), Some(5.0));
    poller.wait_for_reads(1).await;
    drop(originals);
    let end = scrape_async(metrics).await;
    assert_eq!(active(&end), Some(0.0));
    assert_eq!(
        session_value(&end, "websocket_connections_opened_total"),
        Some(1025.0)
    );

    let readings = poller.finish();
    assert!(readings.len() > 20, "{} reads", readings.len());
    let lowest = readings.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(lowest >= 0.0, "the gauge read {lowest}");
    assert_eq!(readings.last(), Some(&0.0));

    // The other scopes were never touched.
    for scope in ["user", "machine"] {
        let value = end.value("websocket_connections_active", &[("scope", scope)]);
        assert!(matches!(value, None | Some(0.0)), "{scope}: {value:?}");
    }
}
