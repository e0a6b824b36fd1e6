//! The `metrics` facade: direct `metrics::counter!` calls land in the same exposition.

use std::fmt;

use metrics::{Key, KeyName, Metadata, SharedString, Unit};

use crate::descriptor::MetricKind;
use crate::registry::{CellRef, Registry, global};

/// A `metrics` recorder that writes into a tachometer [`Registry`].
///
/// Histograms recorded through it are real histograms with buckets (the registry's
/// configuration for that name, or the default HTTP buckets), folded on write.
#[derive(Clone, Debug)]
pub struct Recorder {
    registry: Registry,
}

impl Recorder {
    /// A recorder writing into `registry`; pass it to `metrics::with_local_recorder` in tests.
    #[must_use]
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }

    fn cell(&self, key: &Key, kind: MetricKind) -> Option<CellRef> {
        let pairs: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        self.registry
            .dynamic_family(key.name(), kind)?
            .series_for_pairs(&pairs)
    }
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.registry
            .describe_dynamic(key.as_str(), MetricKind::Counter, &description);
    }

    fn describe_gauge(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.registry
            .describe_dynamic(key.as_str(), MetricKind::Gauge, &description);
    }

    fn describe_histogram(&self, key: KeyName, _: Option<Unit>, description: SharedString) {
        self.registry
            .describe_dynamic(key.as_str(), MetricKind::Histogram, &description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        self.cell(key, MetricKind::Counter)
            .and_then(CellRef::into_counter)
            .map_or_else(metrics::Counter::noop, metrics::Counter::from_arc)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        self.cell(key, MetricKind::Gauge)
            .and_then(CellRef::into_gauge)
            .map_or_else(metrics::Gauge::noop, metrics::Gauge::from_arc)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        self.cell(key, MetricKind::Histogram)
            .and_then(CellRef::into_histogram)
            .map_or_else(metrics::Histogram::noop, metrics::Histogram::from_arc)
    }
}

/// A global `metrics` recorder was already installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallError;

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a global `metrics` recorder is already installed")
    }
}

impl std::error::Error for InstallError {}

/// Installs the global registry as the `metrics` facade's global recorder, so that
/// `metrics::counter!` and friends in application code land in the same exposition.
///
/// Tachometer's own macros never go through the facade: they write to the registry
/// whether or not this is called.
///
/// # Errors
///
/// [`InstallError`] if a global recorder is already installed (by an earlier call or by
/// another library). Nothing panics.
pub fn install_recorder() -> Result<(), InstallError> {
    metrics::set_global_recorder(Recorder::new(global().clone())).map_err(|_| InstallError)
}
