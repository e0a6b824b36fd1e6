//! The server's own metrics, declared once in a catalog on top of tachometer's built-in
//! families. `register` makes every family and label combination present from start-up.

/// Kinds of WebSocket message the server understands; anything else is `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
pub(crate) enum EventType {
    SessionAlive,
    MachineAlive,
    Message,
    Ping,
    Unknown,
}

impl EventType {
    /// The `type` field clients put on the wire.
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            EventType::SessionAlive => "session-alive",
            EventType::MachineAlive => "machine-alive",
            EventType::Message => "message",
            EventType::Ping => "ping",
            EventType::Unknown => "unknown",
        }
    }

    /// Reads a wire `type`; every string outside the known set is `Unknown`, so a client
    /// cannot add series by inventing types.
    pub(crate) fn from_wire(name: &str) -> EventType {
        match name {
            "session-alive" => EventType::SessionAlive,
            "machine-alive" => EventType::MachineAlive,
            "message" => EventType::Message,
            "ping" => EventType::Ping,
            _ => EventType::Unknown,
        }
    }
}

/// Session cache operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
pub(crate) enum CacheOperation {
    Get,
    Set,
    Invalidate,
}

/// Session cache outcomes: `hit`/`miss` for lookups, `ok`/`error` for writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
pub(crate) enum CacheResult {
    Hit,
    Miss,
    Ok,
    Error,
}

tachometer::catalog! {
    /// Sessions reported alive over WebSocket.
    counter session_alive_events_total;
    /// Machines reported alive over WebSocket.
    counter machine_alive_events_total;
    /// Session cache operations by operation and result.
    counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
    /// WebSocket messages received, by type.
    counter websocket_events_total { event_type: EventType }
}
