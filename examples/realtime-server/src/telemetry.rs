//! The server's own metrics, declared on top of tachometer's built-in families.

use std::sync::OnceLock;

use tachometer::{Counter, Descriptor, MetricKind, Registry};

/// Kinds of WebSocket message the server understands; anything else is `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    SessionAlive,
    MachineAlive,
    Message,
    Ping,
    Unknown,
}

impl EventType {
    pub(crate) const ALL: [EventType; 5] = [
        EventType::SessionAlive,
        EventType::MachineAlive,
        EventType::Message,
        EventType::Ping,
        EventType::Unknown,
    ];

    /// The `event_type` label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::SessionAlive => "session_alive",
            EventType::MachineAlive => "machine_alive",
            EventType::Message => "message",
            EventType::Ping => "ping",
            EventType::Unknown => "unknown",
        }
    }

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

    /// Reads a wire `type`; every string outside the known set is `Unknown`.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheOperation {
    Get,
    Set,
    Invalidate,
}

impl CacheOperation {
    const ALL: [CacheOperation; 3] = [
        CacheOperation::Get,
        CacheOperation::Set,
        CacheOperation::Invalidate,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CacheOperation::Get => "get",
            CacheOperation::Set => "set",
            CacheOperation::Invalidate => "invalidate",
        }
    }
}

/// Session cache outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheResult {
    Hit,
    Miss,
    Ok,
    Error,
}

impl CacheResult {
    const ALL: [CacheResult; 4] = [
        CacheResult::Hit,
        CacheResult::Miss,
        CacheResult::Ok,
        CacheResult::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CacheResult::Hit => "hit",
            CacheResult::Miss => "miss",
            CacheResult::Ok => "ok",
            CacheResult::Error => "error",
        }
    }
}

static SESSION_ALIVE_EVENTS_TOTAL: Descriptor = Descriptor {
    name: "session_alive_events_total",
    help: "Sessions reported alive over WebSocket.",
    kind: MetricKind::Counter,
    labels: &[],
    buckets: &[],
};

static MACHINE_ALIVE_EVENTS_TOTAL: Descriptor = Descriptor {
    name: "machine_alive_events_total",
    help: "Machines reported alive over WebSocket.",
    kind: MetricKind::Counter,
    labels: &[],
    buckets: &[],
};

static SESSION_CACHE_OPERATIONS_TOTAL: Descriptor = Descriptor {
    name: "session_cache_operations_total",
    help: "Session cache operations by operation and result.",
    kind: MetricKind::Counter,
    labels: &["operation", "result"],
    buckets: &[],
};

static WEBSOCKET_EVENTS_TOTAL: Descriptor = Descriptor {
    name: "websocket_events_total",
    help: "WebSocket messages received, by type.",
    kind: MetricKind::Counter,
    labels: &["event_type"],
    buckets: &[],
};

struct Handles {
    session_alive: Counter,
    machine_alive: Counter,
    cache: Vec<Counter>,
    events: Vec<Counter>,
}

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(|| {
        let registry = tachometer::global();
        let mut cache = Vec::new();
        for operation in CacheOperation::ALL {
            for result in CacheResult::ALL {
                cache.push(registry.counter(
                    &SESSION_CACHE_OPERATIONS_TOTAL,
                    &[operation.as_str(), result.as_str()],
                ));
            }
        }
        Handles {
            session_alive: registry.counter(&SESSION_ALIVE_EVENTS_TOTAL, &[]),
            machine_alive: registry.counter(&MACHINE_ALIVE_EVENTS_TOTAL, &[]),
            cache,
            events: EventType::ALL
                .iter()
                .map(|event| registry.counter(&WEBSOCKET_EVENTS_TOTAL, &[event.as_str()]))
                .collect(),
        }
    })
}

/// Makes every family and label combination of the server's metrics present at zero.
pub(crate) fn register(registry: &Registry) {
    for desc in [
        &SESSION_ALIVE_EVENTS_TOTAL,
        &MACHINE_ALIVE_EVENTS_TOTAL,
        &SESSION_CACHE_OPERATIONS_TOTAL,
        &WEBSOCKET_EVENTS_TOTAL,
    ] {
        registry.describe(desc);
    }
    let _ = handles();
}

pub(crate) fn count_event(event: EventType) {
    let index = EventType::ALL
        .iter()
        .position(|e| *e == event)
        .unwrap_or(EventType::ALL.len() - 1);
    handles().events[index].inc();
}

pub(crate) fn count_session_alive() {
    handles().session_alive.inc();
}

pub(crate) fn count_machine_alive() {
    handles().machine_alive.inc();
}

pub(crate) fn count_cache(operation: CacheOperation, result: CacheResult) {
    let op = CacheOperation::ALL
        .iter()
        .position(|o| *o == operation)
        .unwrap_or(0);
    let res = CacheResult::ALL
        .iter()
        .position(|r| *r == result)
        .unwrap_or(0);
    handles().cache[op * CacheResult::ALL.len() + res].inc();
}
