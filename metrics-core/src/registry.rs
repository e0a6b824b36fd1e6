//! The registry: metric families, their series, and rendering them as exposition text.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock, PoisonError, RwLock};

use crate::descriptor::{Descriptor, MetricKind, NameError, check_buckets};
use crate::handles::{Counter, CounterCell, Gauge, GaugeCell, Histogram, HistogramCell};
use crate::text;

/// A set of metric families that renders as one exposition.
///
/// Cloning is cheap and yields a handle to the same registry. The process-wide registry is
/// [`global()`]; a [`Registry::new`] one is isolated, which suits tests that run in parallel.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    families: RwLock<Families>,
}

#[derive(Default)]
struct Families {
    list: Vec<Arc<Family>>,
    by_name: HashMap<Box<str>, usize>,
    bucket_overrides: HashMap<Box<str>, Arc<[f64]>>,
}

/// Where a family's label names come from.
enum LabelNames {
    /// Fixed at declaration; series are keyed by values in this order.
    Declared(&'static [&'static str]),
    /// Given per series (families created through the `metrics` facade); series are keyed by
    /// alternating names and values, sorted by name. Once a declared metric has adopted the
    /// family, its label names are the only ones a series may have.
    PerSeries {
        adopted: OnceLock<&'static [&'static str]>,
    },
}

struct Family {
    name: Box<str>,
    help: RwLock<Box<str>>,
    kind: MetricKind,
    labels: LabelNames,
    buckets: RwLock<Arc<[f64]>>,
    series: RwLock<SeriesMap>,
}

#[derive(Default)]
struct SeriesMap {
    /// Keyed by [`series_key`] of the label values.
    index: HashMap<String, usize>,
    list: Vec<Series>,
}

struct Series {
    /// The escaped inside of the label block, `a="x",b="y"`; empty for no labels.
    labels: String,
    cell: Cell,
}

#[derive(Clone)]
enum Cell {
    Counter(Arc<CounterCell>),
    Gauge(Arc<GaugeCell>),
    Histogram(Arc<HistogramCell>),
}

/// A bucket configuration the registry refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The buckets break a rule.
    Invalid(NameError),
    /// The family already has series, whose buckets cannot change any more.
    AlreadyInUse(String),
    /// The family exists and is not a histogram.
    NotAHistogram(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => e.fmt(f),
            Self::AlreadyInUse(n) => {
                write!(
                    f,
                    "histogram `{n}` already has series; set its buckets before first use"
                )
            }
            Self::NotAHistogram(n) => write!(f, "`{n}` is not a histogram"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The HELP text of a family that was given none.
const NO_HELP: &str = "No description given.";

static GLOBAL: LazyLock<Registry> = LazyLock::new(|| {
    let registry = Registry::new();
    crate::builtin::describe_all(&registry);
    registry
});

/// The process-wide registry, created with every built-in family on first use.
///
/// Handles taken from it are live from the moment they are made: nothing recorded before the
/// `/metrics` endpoint starts, or before [`install_recorder`](crate::install_recorder) runs, is lost.
#[must_use]
pub fn global() -> &'static Registry {
    &GLOBAL
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let families = read(&self.inner.families);
        f.debug_struct("Registry")
            .field("families", &families.list.len())
            .finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// An empty registry, isolated from every other.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An isolated registry holding the built-in families, as [`global()`] does.
    #[must_use]
    pub fn with_builtins() -> Self {
        let registry = Self::new();
        crate::builtin::describe_all(&registry);
        registry
    }

    /// Makes a family present: its `# HELP` and `# TYPE` lines render from now on, and an
    /// unlabeled family gets its single series at zero.
    pub fn describe(&self, desc: &'static Descriptor) {
        if let Some(family) = self.declared_family(desc)
            && desc.labels.is_empty()
        {
            family.declared_series(desc.labels, &[]);
        }
    }

    /// The counter series of `desc` with these label values, created at zero if new.
    ///
    /// A label count that does not match the descriptor, or a name already used for another
    /// kind, yields a detached handle and one logged error.
    #[must_use]
    pub fn counter(&self, desc: &'static Descriptor, label_values: &[&str]) -> Counter {
        match self.cell(desc, MetricKind::Counter, label_values) {
            Some(Cell::Counter(cell)) => Counter { cell },
            _ => Counter::detached(),
        }
    }

    /// The gauge series of `desc` with these label values, created at zero if new.
    #[must_use]
    pub fn gauge(&self, desc: &'static Descriptor, label_values: &[&str]) -> Gauge {
        match self.cell(desc, MetricKind::Gauge, label_values) {
            Some(Cell::Gauge(cell)) => Gauge { cell },
            _ => Gauge::detached(),
        }
    }

    /// The histogram series of `desc` with these label values, created empty if new.
    #[must_use]
    pub fn histogram(&self, desc: &'static Descriptor, label_values: &[&str]) -> Histogram {
        match self.cell(desc, MetricKind::Histogram, label_values) {
            Some(Cell::Histogram(cell)) => Histogram { cell },
            _ => Histogram::detached(desc.buckets),
        }
    }

    /// Sets the bucket bounds of the histogram family `name`, replacing the declared
    /// defaults. Call it at start-up, before the family's first series exists.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the bounds are not finite and strictly increasing, when the
    /// family already has series, or when `name` is a family of another kind.
    pub fn set_buckets(&self, name: &str, buckets: &[f64]) -> Result<(), ConfigError> {
        check_buckets(buckets).map_err(ConfigError::Invalid)?;
        let mut families = write(&self.inner.families);
        if let Some(&i) = families.by_name.get(name) {
            let family = &families.list[i];
            if family.kind != MetricKind::Histogram {
                return Err(ConfigError::NotAHistogram(name.to_owned()));
            }
            // The series lock stays held while the buckets change, so no series can be made
            // in between with the old ones (a new series reads the buckets under that lock).
            let series = read(&family.series);
            if !series.list.is_empty() {
                return Err(ConfigError::AlreadyInUse(name.to_owned()));
            }
            *write(&family.buckets) = buckets.into();
            drop(series);
        }
        families
            .bucket_overrides
            .insert(name.into(), buckets.into());
        Ok(())
    }

    /// Renders every family as Prometheus text exposition format 0.0.4.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render_into(&mut out);
        out
    }

    /// Appends the exposition to `out`.
    pub fn render_into(&self, out: &mut String) {
        let families: Vec<Arc<Family>> = read(&self.inner.families).list.clone();
        for family in &families {
            family.render(out);
        }
    }

    fn cell(&self, desc: &'static Descriptor, kind: MetricKind, values: &[&str]) -> Option<Cell> {
        if desc.kind != kind || values.len() != desc.labels.len() {
            tracing::error!(
                metric = desc.name,
                expected_labels = desc.labels.len(),
                given_labels = values.len(),
                "metric used with the wrong kind or label count; the write goes nowhere"
            );
            return None;
        }
        Some(
            self.declared_family(desc)?
                .declared_series(desc.labels, values),
        )
    }

    fn find(&self, name: &str) -> Option<Arc<Family>> {
        let families = read(&self.inner.families);
        families
            .by_name
            .get(name)
            .map(|&i| families.list[i].clone())
    }

    /// The family for a declared descriptor, created on first use.
    fn declared_family(&self, desc: &'static Descriptor) -> Option<Arc<Family>> {
        if let Some(family) = self.find(desc.name)
            && let LabelNames::Declared(names) = family.labels
        {
            return (family.kind == desc.kind && names == desc.labels)
                .then_some(family)
                .or_else(|| conflict(desc.name));
        }
        if let Err(error) = desc.validate() {
            tracing::error!(metric = desc.name, %error, "invalid metric descriptor; not registered");
            return None;
        }
        // A family of the facade is adopted under the write lock, as `set_buckets` runs, so
        // the two never interleave.
        let mut families = write(&self.inner.families);
        let overridden = families.bucket_overrides.get(desc.name).cloned();
        let buckets = overridden.unwrap_or_else(|| desc.buckets.into());
        if let Some(&i) = families.by_name.get(desc.name) {
            let family = families.list[i].clone();
            return family
                .adopt(desc, buckets)
                .then_some(family)
                .or_else(|| conflict(desc.name));
        }
        let family = Arc::new(Family {
            name: desc.name.into(),
            help: RwLock::new(desc.help.into()),
            kind: desc.kind,
            labels: LabelNames::Declared(desc.labels),
            buckets: RwLock::new(buckets),
            series: RwLock::default(),
        });
        families.push(family.clone());
        Some(family)
    }

    /// The family for a name that arrives at run time through the `metrics` facade.
    pub(crate) fn dynamic_family(&self, name: &str, kind: MetricKind) -> Option<Arc<FamilyRef>> {
        if let Some(family) = self.find(name) {
            return (family.kind == kind)
                .then(|| Arc::new(FamilyRef(family)))
                .or_else(|| conflict(name));
        }
        if let Err(error) = crate::descriptor::check_metric_name(name, kind) {
            tracing::error!(metric = name, %error, "invalid metric name from the metrics facade; dropped");
            return None;
        }
        let mut families = write(&self.inner.families);
        if let Some(&i) = families.by_name.get(name) {
            let family = families.list[i].clone();
            return (family.kind == kind)
                .then(|| Arc::new(FamilyRef(family)))
                .or_else(|| conflict(name));
        }
        let buckets = families
            .bucket_overrides
            .get(name)
            .cloned()
            .unwrap_or_else(|| crate::builtin::DEFAULT_BUCKETS.into());
        let family = Arc::new(Family {
            name: name.into(),
            help: RwLock::new(Box::from("")),
            kind,
            labels: LabelNames::PerSeries {
                adopted: OnceLock::new(),
            },
            buckets: RwLock::new(buckets),
            series: RwLock::default(),
        });
        families.push(family.clone());
        Some(Arc::new(FamilyRef(family)))
    }

    /// Sets the HELP text of a family created through the `metrics` facade.
    pub(crate) fn describe_dynamic(&self, name: &str, kind: MetricKind, help: &str) {
        if let Some(family) = self.dynamic_family(name, kind) {
            let family = &family.0;
            if matches!(family.labels, LabelNames::PerSeries { .. }) {
                *write(&family.help) = help.into();
            }
        }
    }
}

fn conflict<T>(name: &str) -> Option<T> {
    tracing::error!(
        metric = name,
        "metric name already registered with another kind, help or label set; the write goes nowhere"
    );
    None
}

impl Families {
    fn push(&mut self, family: Arc<Family>) {
        self.by_name.insert(family.name.clone(), self.list.len());
        self.list.push(family);
    }
}

/// A family reached through the `metrics` facade.
pub(crate) struct FamilyRef(Arc<Family>);

impl FamilyRef {
    /// The series for `(name, value)` label pairs, in any order: the same set of pairs is
    /// the same series. A label given twice drops the write, since no series can have it.
    pub(crate) fn series_for_pairs(&self, pairs: &[(&str, &str)]) -> Option<CellRef> {
        let family = &self.0;
        let mut pairs = pairs.to_vec();
        pairs.sort_unstable_by_key(|&(name, _)| name);
        if let Some(pair) = pairs.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            tracing::error!(metric = %family.name, label = pair[0].0, "label given twice; dropped");
            return None;
        }
        match family.labels {
            LabelNames::Declared(names) => {
                let mut values = Vec::with_capacity(names.len());
                for name in names {
                    let Some(&(_, value)) = pairs.iter().find(|(n, _)| n == name) else {
                        return conflict(&family.name);
                    };
                    values.push(value);
                }
                if pairs.len() != names.len() {
                    return conflict(&family.name);
                }
                Some(CellRef(family.series_for(&values)))
            }
            LabelNames::PerSeries { ref adopted } => {
                if let Some(names) = adopted.get()
                    && (pairs.len() != names.len()
                        || !names.iter().all(|n| pairs.iter().any(|(p, _)| p == n)))
                {
                    return conflict(&family.name);
                }
                for (name, _) in &pairs {
                    if crate::descriptor::check_label_name(name).is_err() {
                        tracing::error!(metric = %family.name, label = name, "invalid label name; dropped");
                        return None;
                    }
                }
                let key: Vec<&str> = pairs.iter().flat_map(|(n, v)| [*n, *v]).collect();
                Some(CellRef(family.series_for(&key)))
            }
        }
    }
}

/// Storage of one series reached through the `metrics` facade.
pub(crate) struct CellRef(Cell);

impl CellRef {
    pub(crate) fn into_counter(self) -> Option<Arc<CounterCell>> {
        match self.0 {
            Cell::Counter(c) => Some(c),
            _ => None,
        }
    }

    pub(crate) fn into_gauge(self) -> Option<Arc<GaugeCell>> {
        match self.0 {
            Cell::Gauge(c) => Some(c),
            _ => None,
        }
    }

    pub(crate) fn into_histogram(self) -> Option<Arc<HistogramCell>> {
        match self.0 {
            Cell::Histogram(c) => Some(c),
            _ => None,
        }
    }
}

impl Family {
    /// Whether `desc` may write into this family. A family the `metrics` facade made first
    /// (a `describe_counter!` or a `counter!` before the catalog registered) is adopted when
    /// its series, if any, have the declared label names: it takes the declared series as
    /// they come, with the declared HELP text when it had none and the declared (or
    /// configured) buckets while it has no series yet. From then on it refuses series with
    /// other label names, as a declared family does. Called with the registry's family lock
    /// held for writing.
    fn adopt(&self, desc: &'static Descriptor, buckets: Arc<[f64]>) -> bool {
        if self.kind != desc.kind {
            return false;
        }
        let adopted = match &self.labels {
            LabelNames::Declared(names) => return *names == desc.labels,
            LabelNames::PerSeries { adopted } => adopted,
        };
        if let Some(names) = adopted.get() {
            return *names == desc.labels;
        }
        let mut declared: Vec<&str> = desc.labels.to_vec();
        declared.sort_unstable();
        let series = read(&self.series);
        if series.index.keys().any(|key| key_names(key) != declared) {
            return false;
        }
        if self.kind == MetricKind::Histogram {
            let mut current = write(&self.buckets);
            if **current != *buckets {
                if !series.list.is_empty() {
                    return false;
                }
                *current = buckets;
            }
        }
        drop(series);
        let mut help = write(&self.help);
        if help.is_empty() {
            *help = desc.help.into();
        }
        let _ = adopted.set(desc.labels);
        true
    }

    /// The series of a declared metric with these label values, in the order of `names`.
    fn declared_series(&self, names: &[&str], values: &[&str]) -> Cell {
        match self.labels {
            LabelNames::Declared(_) => self.series_for(values),
            LabelNames::PerSeries { .. } => {
                let mut pairs: Vec<(&str, &str)> =
                    names.iter().copied().zip(values.iter().copied()).collect();
                pairs.sort_unstable_by_key(|&(name, _)| name);
                let key: Vec<&str> = pairs.iter().flat_map(|(n, v)| [*n, *v]).collect();
                self.series_for(&key)
            }
        }
    }

    /// The series with this key (label values, or alternating names and values for
    /// per-series label names), created if new.
    fn series_for(&self, key: &[&str]) -> Cell {
        let encoded = series_key(key);
        {
            let series = read(&self.series);
            if let Some(&i) = series.index.get(&encoded) {
                return series.list[i].cell.clone();
            }
        }
        let mut series = write(&self.series);
        if let Some(&i) = series.index.get(&encoded) {
            return series.list[i].cell.clone();
        }
        let labels = match self.labels {
            LabelNames::Declared(names) => {
                text::label_pairs(names.iter().copied().zip(key.iter().copied()))
            }
            LabelNames::PerSeries { .. } => {
                text::label_pairs(key.chunks_exact(2).map(|pair| (pair[0], pair[1])))
            }
        };
        let cell = match self.kind {
            MetricKind::Counter => Cell::Counter(Arc::default()),
            MetricKind::Gauge => Cell::Gauge(Arc::default()),
            MetricKind::Histogram => {
                Cell::Histogram(Arc::new(HistogramCell::new(read(&self.buckets).clone())))
            }
        };
        let index = series.list.len();
        series.index.insert(encoded, index);
        series.list.push(Series {
            labels,
            cell: cell.clone(),
        });
        cell
    }

    fn render(&self, out: &mut String) {
        // Every family has a HELP line; one made through the `metrics` facade without a
        // `describe_*` call says so.
        let help = read(&self.help);
        out.push_str("# HELP ");
        out.push_str(&self.name);
        out.push(' ');
        text::push_help(out, if help.is_empty() { NO_HELP } else { &help });
        out.push('\n');
        out.push_str("# TYPE ");
        out.push_str(&self.name);
        out.push(' ');
        out.push_str(self.kind.as_str());
        out.push('\n');

        let series = read(&self.series);
        let mut bounds: Vec<String> = Vec::new();
        for s in &series.list {
            match &s.cell {
                Cell::Counter(c) => {
                    self.push_sample_start(out, "", &s.labels, None);
                    text::push_u64(out, c.get());
                    out.push('\n');
                }
                Cell::Gauge(g) => {
                    self.push_sample_start(out, "", &s.labels, None);
                    text::push_f64(out, g.get());
                    out.push('\n');
                }
                Cell::Histogram(h) => {
                    if bounds.len() != h.bounds().len() + 1 {
                        bounds = h.bounds().iter().map(|b| bound_label(*b)).collect();
                        bounds.push("+Inf".to_owned());
                    }
                    let snapshot = h.snapshot();
                    for (le, count) in bounds.iter().zip(&snapshot.cumulative) {
                        self.push_sample_start(out, "_bucket", &s.labels, Some(le));
                        text::push_u64(out, *count);
                        out.push('\n');
                    }
                    self.push_sample_start(out, "_sum", &s.labels, None);
                    text::push_f64(out, snapshot.sum);
                    out.push('\n');
                    self.push_sample_start(out, "_count", &s.labels, None);
                    text::push_u64(out, snapshot.cumulative.last().copied().unwrap_or(0));
                    out.push('\n');
                }
            }
        }
    }

    fn push_sample_start(&self, out: &mut String, suffix: &str, labels: &str, le: Option<&str>) {
        out.push_str(&self.name);
        out.push_str(suffix);
        if !labels.is_empty() || le.is_some() {
            out.push('{');
            out.push_str(labels);
            if let Some(le) = le {
                if !labels.is_empty() {
                    out.push(',');
                }
                out.push_str("le=\"");
                out.push_str(le);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
    }
}

/// Joins label values into one unambiguous map key: each value preceded by its length.
fn series_key(values: &[&str]) -> String {
    let mut key = String::with_capacity(values.iter().map(|v| v.len() + 4).sum());
    for value in values {
        key.push_str(itoa::Buffer::new().format(value.len()));
        key.push(':');
        key.push_str(value);
    }
    key
}

/// The label names in the key of a facade series (alternating names and values), in key
/// order.
fn key_names(key: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = key;
    while let Some((len, tail)) = rest.split_once(':') {
        let Ok(len) = len.parse::<usize>() else { break };
        let Some(part) = tail.get(..len) else { break };
        parts.push(part);
        rest = &tail[len..];
    }
    parts.into_iter().step_by(2).collect()
}

fn bound_label(bound: f64) -> String {
    let mut s = String::new();
    text::push_f64(&mut s, bound);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    static REQUESTS: Descriptor = Descriptor {
        name: "jobs_total",
        help: "Jobs run.",
        kind: MetricKind::Counter,
        labels: &["queue"],
        buckets: &[],
    };

    static LATENCY: Descriptor = Descriptor {
        name: "job_seconds",
        help: "Job time.",
        kind: MetricKind::Histogram,
        labels: &[],
        buckets: &[0.5, 1.0],
    };

    #[test]
    fn renders_help_type_and_samples() {
        let registry = Registry::new();
        registry.counter(&REQUESTS, &["a\"b"]).add(3);
        registry.histogram(&LATENCY, &[]).observe(0.75);
        assert_eq!(
            registry.render(),
            "# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total{queue=\"a\\\"b\"} 3\n\
             # HELP job_seconds Job time.\n# TYPE job_seconds histogram\n\
             job_seconds_bucket{le=\"0.5\"} 0\njob_seconds_bucket{le=\"1\"} 1\n\
             job_seconds_bucket{le=\"+Inf\"} 1\njob_seconds_sum 0.75\njob_seconds_count 1\n"
        );
    }

    #[test]
    fn facade_description_before_the_catalog_does_not_detach_declared_handles() {
        let registry = Registry::new();
        let recorder = crate::Recorder::new(registry.clone());
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("jobs_total", "Jobs, as the facade describes them.");
            metrics::describe_histogram!("job_seconds", "Job time.");
        });
        registry.counter(&REQUESTS, &["fast"]).add(2);
        registry.histogram(&LATENCY, &[]).observe(0.75);
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("jobs_total", "queue" => "fast").increment(1);
        });
        assert_eq!(
            registry.render(),
            "# HELP jobs_total Jobs, as the facade describes them.\n# TYPE jobs_total counter\n\
             jobs_total{queue=\"fast\"} 3\n\
             # HELP job_seconds Job time.\n# TYPE job_seconds histogram\n\
             job_seconds_bucket{le=\"0.5\"} 0\njob_seconds_bucket{le=\"1\"} 1\n\
             job_seconds_bucket{le=\"+Inf\"} 1\njob_seconds_sum 0.75\njob_seconds_count 1\n"
        );
    }

    #[test]
    fn facade_series_before_the_catalog_share_the_declared_series() {
        let registry = Registry::new();
        let recorder = crate::Recorder::new(registry.clone());
        let early = metrics::with_local_recorder(
            &recorder,
            || metrics::counter!("jobs_total", "queue" => "slow"),
        );
        early.increment(1);
        registry.counter(&REQUESTS, &["slow"]).add(4);
        early.increment(1);
        assert!(
            registry
                .render()
                .contains("\njobs_total{queue=\"slow\"} 6\n"),
            "{}",
            registry.render()
        );
        // A facade histogram with series keeps its buckets: declared ones that differ
        // cannot apply to it, and the declared handle is detached instead.
        metrics::with_local_recorder(&recorder, || {
            metrics::histogram!("job_seconds").record(0.2);
        });
        registry.histogram(&LATENCY, &[]).observe(0.75);
        assert!(registry.render().contains("job_seconds_count 1\n"));
    }

    #[test]
    fn an_adopted_facade_family_keeps_the_declared_label_set() {
        static OTHER_LABELS: Descriptor = Descriptor {
            name: "jobs_total",
            help: "Jobs run.",
            kind: MetricKind::Counter,
            labels: &["tenant"],
            buckets: &[],
        };
        let registry = Registry::new();
        let recorder = crate::Recorder::new(registry.clone());
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("jobs_total", "Jobs run.");
        });
        registry.counter(&REQUESTS, &["fast"]).inc();
        // Another label set, from the facade or from a second descriptor, goes nowhere.
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("jobs_total", "wrong" => "w").increment(1);
            metrics::counter!("jobs_total", "queue" => "fast", "wrong" => "w").increment(1);
        });
        registry.counter(&OTHER_LABELS, &["acme"]).inc();
        assert_eq!(
            registry.render(),
            "# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total{queue=\"fast\"} 1\n"
        );
    }

    #[test]
    fn a_facade_family_with_other_label_names_is_not_adopted() {
        let registry = Registry::new();
        let recorder = crate::Recorder::new(registry.clone());
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("jobs_total", "tenant" => "acme").increment(1);
        });
        registry.counter(&REQUESTS, &["fast"]).inc();
        assert_eq!(
            registry.render(),
            "# HELP jobs_total No description given.\n# TYPE jobs_total counter\n\
             jobs_total{tenant=\"acme\"} 1\n"
        );
    }

    #[test]
    fn an_invalid_descriptor_is_refused_when_the_facade_came_first() {
        static UNSORTED: Descriptor = Descriptor {
            name: "job_seconds",
            help: "Job time.",
            kind: MetricKind::Histogram,
            labels: &[],
            buckets: &[1.0, 0.5],
        };
        static RESERVED_LABEL: Descriptor = Descriptor {
            name: "job_seconds",
            help: "Job time.",
            kind: MetricKind::Histogram,
            labels: &["le"],
            buckets: &[0.5, 1.0],
        };
        let registry = Registry::new();
        let recorder = crate::Recorder::new(registry.clone());
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_histogram!("job_seconds", "Job time.");
        });
        registry.histogram(&UNSORTED, &[]).observe(0.7);
        registry.histogram(&RESERVED_LABEL, &["x"]).observe(0.7);
        assert_eq!(
            registry.render(),
            "# HELP job_seconds Job time.\n# TYPE job_seconds histogram\n"
        );
    }

    #[test]
    fn set_buckets_racing_the_adoption_of_a_facade_histogram_neither_deadlocks_nor_is_lost() {
        static BUCKETED: Descriptor = Descriptor {
            name: "raced_seconds",
            help: "Raced.",
            kind: MetricKind::Histogram,
            labels: &["id"],
            buckets: &[0.5, 1.0],
        };
        for _ in 0..200 {
            let registry = Registry::new();
            let recorder = crate::Recorder::new(registry.clone());
            metrics::with_local_recorder(&recorder, || {
                metrics::describe_histogram!("raced_seconds", "Raced.");
            });
            let configured = std::thread::scope(|scope| {
                let writers: Vec<_> = (0..3)
                    .map(|t| {
                        let registry = &registry;
                        scope.spawn(move || {
                            for i in 0..20 {
                                let id = format!("{t}-{i}");
                                registry.histogram(&BUCKETED, &[&id]).observe(0.7);
                            }
                        })
                    })
                    .collect();
                let configured = registry.set_buckets("raced_seconds", &[2.0]).is_ok();
                for writer in writers {
                    writer.join().unwrap();
                }
                configured
            });
            let text = registry.render();
            let le_2 = text.matches("le=\"2\"").count();
            let le_half = text.matches("le=\"0.5\"").count();
            // Either the configuration came first and every series has its bucket, or it
            // came too late, said so, and every series has the declared ones.
            if configured {
                assert_eq!((le_2, le_half), (60, 0), "{text}");
            } else {
                assert_eq!((le_2, le_half), (0, 60), "{text}");
            }
        }
    }

    #[test]
    fn wrong_label_count_gives_a_detached_handle() {
        let registry = Registry::new();
        let c = registry.counter(&REQUESTS, &[]);
        c.inc();
        assert_eq!(registry.render(), "");
    }

    #[test]
    fn bucket_override_applies_before_first_use_only() {
        let registry = Registry::new();
        registry.set_buckets("job_seconds", &[2.0]).unwrap();
        registry.histogram(&LATENCY, &[]).observe(1.0);
        assert!(
            registry
                .render()
                .contains("job_seconds_bucket{le=\"2\"} 1\n")
        );
        assert_eq!(
            registry.set_buckets("job_seconds", &[3.0]),
            Err(ConfigError::AlreadyInUse("job_seconds".into()))
        );
    }
}
