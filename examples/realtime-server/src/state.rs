//! State shared by every handler and connection.

use std::sync::Arc;

use tachometer_db::Debouncer;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cache::SessionCache;
use crate::db::{self, Db, DbError};
use crate::telemetry::{machine_alive_events_total, session_alive_events_total};

/// Handles to everything a request or connection needs; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) cache: Arc<SessionCache>,
    pub(crate) sessions_debounce: Arc<Debouncer<String>>,
    pub(crate) machines_debounce: Arc<Debouncer<String>>,
    /// Cancelled when the server begins to shut down.
    pub(crate) shutdown: CancellationToken,
    /// Tracks open WebSocket connections, so shutdown can wait for them to close.
    pub(crate) tasks: TaskTracker,
}

impl AppState {
    /// A session reported alive: counted, then its last-active time written unless debounced.
    #[tachometer::count_event(session_alive_events_total)]
    pub(crate) async fn session_alive(&self, session_id: &str) -> Result<(), DbError> {
        if !self.sessions_debounce.should_write(session_id.to_owned()) {
            return Ok(());
        }

        let id = session_id.to_owned();
        self.db
            .run(move |conn| db::touch_session(conn, &id, db::now_millis()))
            .await?;
        // The cached copy now holds a stale last-active time.
        let _ = self.cache.invalidate(session_id);
        Ok(())
    }

    /// A machine reported alive: counted, then its last-active time written unless debounced.
    #[tachometer::count_event(machine_alive_events_total)]
    pub(crate) async fn machine_alive(&self, machine_id: &str) -> Result<(), DbError> {
        if !self.machines_debounce.should_write(machine_id.to_owned()) {
            return Ok(());
        }

        let id = machine_id.to_owned();
        self.db
            .run(move |conn| db::touch_machine(conn, &id, db::now_millis()))
            .await?;
        Ok(())
    }
}
