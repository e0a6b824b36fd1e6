//! A bounded in-memory cache of sessions in front of the database.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::Session;
use crate::telemetry::{self, CacheOperation, CacheResult};

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
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let found = match self.entries.lock() {
            Ok(entries) => entries.get(id).cloned(),
            Err(_) => None,
        };
        let result = if found.is_some() {
            CacheResult::Hit
        } else {
            CacheResult::Miss
        };
        telemetry::count_cache(CacheOperation::Get, result);
        found
    }

    /// Stores a session, evicting an arbitrary entry when full.
    pub(crate) fn set(&self, session: Session) -> Result<(), CachePoisoned> {
        let outcome = match self.entries.lock() {
            Ok(mut entries) => {
                if entries.len() >= self.capacity && !entries.contains_key(&session.id) {
                    if let Some(victim) = entries.keys().next().cloned() {
                        entries.remove(&victim);
                    }
                }
                entries.insert(session.id.clone(), session);
                Ok(())
            }
            Err(_) => Err(CachePoisoned),
        };
        let result = if outcome.is_ok() {
            CacheResult::Ok
        } else {
            CacheResult::Error
        };
        telemetry::count_cache(CacheOperation::Set, result);
        outcome
    }

    /// Forgets a session, so the next lookup reads the database.
    pub(crate) fn invalidate(&self, id: &str) -> Result<(), CachePoisoned> {
        let outcome = match self.entries.lock() {
            Ok(mut entries) => {
                entries.remove(id);
                Ok(())
            }
            Err(_) => Err(CachePoisoned),
        };
        let result = if outcome.is_ok() {
            CacheResult::Ok
        } else {
            CacheResult::Error
        };
        telemetry::count_cache(CacheOperation::Invalidate, result);
        outcome
    }
}
