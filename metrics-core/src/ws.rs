//! WebSocket connection tracking by scope.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::builtin::{
    WEBSOCKET_CONNECTION_DURATION_SECONDS, WEBSOCKET_CONNECTIONS_ACTIVE,
    WEBSOCKET_CONNECTIONS_OPENED_TOTAL,
};
use crate::handles::{Counter, Gauge, Histogram};
use crate::registry::global;

/// A connection scope (`user`, `session`, `machine`, or one the application declares) and
/// its three series, looked up once.
pub struct Scope {
    name: &'static str,
    series: OnceLock<ScopeSeries>,
}

struct ScopeSeries {
    active: Gauge,
    opened: Counter,
    duration: Histogram,
}

impl Scope {
    /// A scope named `name`. Names are label values; `#[ws_scoped]` checks them at compile time.
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            series: OnceLock::new(),
        }
    }

    /// The scope's label value.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// How many connections of this scope are open now.
    #[must_use]
    pub fn active(&self) -> f64 {
        self.series().active.get()
    }

    fn series(&self) -> &ScopeSeries {
        self.series.get_or_init(|| {
            let registry = global();
            ScopeSeries {
                active: registry.gauge(&WEBSOCKET_CONNECTIONS_ACTIVE, &[self.name]),
                opened: registry.counter(&WEBSOCKET_CONNECTIONS_OPENED_TOTAL, &[self.name]),
                duration: registry.histogram(&WEBSOCKET_CONNECTION_DURATION_SECONDS, &[self.name]),
            }
        })
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A type whose values are WebSocket connections of one scope.
///
/// `#[ws_scoped("session")]` implements it; there is rarely a reason to do so by hand.
pub trait WsScope {
    /// The scope every value of the type counts in.
    fn scope() -> &'static Scope;
}

/// One open WebSocket connection of scope `S`, counted from creation to drop.
///
/// Creating one adds 1 to `websocket_connections_active{scope}` and
/// `websocket_connections_opened_total{scope}`; dropping it subtracts 1 from the first and
/// observes the time it was open in `websocket_connection_duration_seconds{scope}`. Because the
/// decrement lives in `Drop`, a task that returns, panics or is aborted closes it exactly once.
/// A clone is a connection of its own: it counts when made and when dropped.
pub struct WsConnection<S: WsScope> {
    opened_at: Instant,
    scope: PhantomData<fn() -> S>,
}

impl<S: WsScope> WsConnection<S> {
    /// Opens a connection of scope `S`.
    #[must_use]
    pub fn open() -> Self {
        if crate::handles::OFF {
            return Self {
                opened_at: Instant::now(),
                scope: PhantomData,
            };
        }
        let series = S::scope().series();
        series.opened.inc();
        series.active.inc();
        Self {
            opened_at: Instant::now(),
            scope: PhantomData,
        }
    }

    /// How long this connection has been open.
    #[must_use]
    pub fn open_for(&self) -> Duration {
        self.opened_at.elapsed()
    }

    /// The scope's label value.
    #[must_use]
    pub fn scope_name(&self) -> &'static str {
        S::scope().name()
    }
}

impl<S: WsScope> Default for WsConnection<S> {
    fn default() -> Self {
        Self::open()
    }
}

impl<S: WsScope> Clone for WsConnection<S> {
    fn clone(&self) -> Self {
        Self::open()
    }
}

impl<S: WsScope> Drop for WsConnection<S> {
    fn drop(&mut self) {
        if crate::handles::OFF {
            return;
        }
        let series = S::scope().series();
        series.active.dec();
        series.duration.observe_duration(self.opened_at.elapsed());
    }
}

impl<S: WsScope> fmt::Debug for WsConnection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnection")
            .field("scope", &S::scope().name())
            .field("open_for", &self.open_for())
            .finish()
    }
}
