//! A bounded in-memory cache of sessions in front of the database.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::Session;
use crate::telemetry::{CacheOperation, session_cache_operations_total};

/// The cache refused an operation because an earlier holder of its lock panicked.
#[derive(Debug)]
pub(crate) struct CachePoisoned;

/// Sessions by id, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct SessionCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Session>>,
}

impl SessionCache {
    pub(crate) fn new(capacity: usize) -> SessionCache {
        SessionCache {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached session, counted as a hit or a miss.
    #[tachometer::count_event(
        session_cache_operations_total,
        operation = CacheOperation::Get,
        result = outcome
    )]
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        self.entries.lock().ok()?.get(id).cloned()
    }

    /// Stores a session, evicting an arbitrary entry when full.
    #[tachometer::count_event(
        session_cache_operations_total,
        operation = CacheOperation::Set,
        result = outcome
    )]
    pub(crate) fn set(&self, session: Session) -> Result<(), CachePoisoned> {
        let mut entries = self.entries.lock().map_err(|_| CachePoisoned)?;
        if entries.len() >= self.capacity && !entries.contains_key(&session.id) {
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(session.id.clone(), session);
        Ok(())
    }

    /// Forgets a session, so the next lookup reads the database.
    #[tachometer::count_event(
        session_cache_operations_total,
        operation = CacheOperation::Invalidate,
        result = outcome
    )]
    pub(crate) fn invalidate(&self, id: &str) -> Result<(), CachePoisoned> {
        self.entries.lock().map_err(|_| CachePoisoned)?.remove(id);
        Ok(())
    }
}
