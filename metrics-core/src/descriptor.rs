//! Static descriptions of metric families and the naming rules they follow.

use std::fmt;

/// The Prometheus type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonic count; its name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations sorted into cumulative buckets, with their sum and count.
    Histogram,
}

impl MetricKind {
    /// The word used on the `# TYPE` line.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the runtime needs to know about one metric family, known at compile time.
///
/// The catalog macro and the built-in families produce these as `static` items; the naming
/// rules were checked when they were declared. Hand-written descriptors are checked by
/// [`Descriptor::validate`] when a registry first sees them.
#[derive(Debug)]
pub struct Descriptor {
    /// The family name, such as `http_requests_total`.
    pub name: &'static str,
    /// The text of the `# HELP` line.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// Label names, in the order label values are given.
    pub labels: &'static [&'static str],
    /// Default bucket upper bounds for a histogram (ignored for other kinds).
    pub buckets: &'static [f64],
}

impl Descriptor {
    /// Checks the naming rules: a valid name, `_total` on counters only, valid and
    /// non-reserved label names, and finite strictly increasing buckets.
    ///
    /// # Errors
    ///
    /// Returns the first rule the descriptor breaks.
    pub fn validate(&self) -> Result<(), NameError> {
        check_metric_name(self.name, self.kind)?;
        for (i, label) in self.labels.iter().enumerate() {
            check_label_name(label)?;
            if self.labels[..i].contains(label) {
                return Err(NameError::DuplicateLabel((*label).to_owned()));
            }
        }
        if self.kind == MetricKind::Histogram {
            check_buckets(self.buckets)?;
        }
        Ok(())
    }
}

/// A metric name, label name or bucket list that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name holds a character outside `[a-zA-Z0-9_]` or starts with a digit.
    InvalidCharacter(String),
    /// The name starts with `__`, which Prometheus keeps for itself.
    Reserved(String),
    /// A counter name that does not end in `_total`.
    CounterWithoutTotal(String),
    /// A gauge or histogram name that ends in `_total`, or a gauge ending in `_count`.
    NonCounterSuffix(String),
    /// A label name used twice in one family.
    DuplicateLabel(String),
    /// Histogram buckets that are empty, unsorted, repeated or not finite.
    InvalidBuckets,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("name is empty"),
            Self::InvalidCharacter(n) => write!(
                f,
                "`{n}` is not a valid name: use only ASCII letters, digits and `_`, not starting with a digit"
            ),
            Self::Reserved(n) => write!(f, "`{n}` is reserved for Prometheus's own use"),
            Self::CounterWithoutTotal(n) => write!(f, "counter name `{n}` must end in `_total`"),
            Self::NonCounterSuffix(n) => {
                write!(
                    f,
                    "`{n}` ends in a suffix that belongs to counters or histograms"
                )
            }
            Self::DuplicateLabel(n) => write!(f, "label `{n}` is declared twice"),
            Self::InvalidBuckets => f.write_str(
                "buckets must be a non-empty list of finite, strictly increasing numbers",
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks a metric family name against the text format's rules and the suffix conventions.
///
/// # Errors
///
/// Returns the rule the name breaks.
pub fn check_metric_name(name: &str, kind: MetricKind) -> Result<(), NameError> {
    check_identifier(name)?;
    match kind {
        MetricKind::Counter if !name.ends_with("_total") => {
            Err(NameError::CounterWithoutTotal(name.to_owned()))
        }
        // A gauge or histogram named like a counter or like a histogram's own series would
        // read as one, or clash with one (`lat_sum` beside the histogram `lat`).
        MetricKind::Gauge | MetricKind::Histogram
            if ["_total", "_count", "_sum", "_bucket"]
                .iter()
                .any(|suffix| name.ends_with(suffix)) =>
        {
            Err(NameError::NonCounterSuffix(name.to_owned()))
        }
        _ => Ok(()),
    }
}

/// Checks a label name: a valid identifier, not `le`, `quantile` or anything starting with `__`.
///
/// # Errors
///
/// Returns the rule the name breaks.
pub fn check_label_name(name: &str) -> Result<(), NameError> {
    check_identifier(name)?;
    if name == "le" || name == "quantile" {
        return Err(NameError::Reserved(name.to_owned()));
    }
    Ok(())
}

fn check_identifier(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    let Some(first) = bytes.first() else {
        return Err(NameError::Empty);
    };
    if first.is_ascii_digit()
        || !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return Err(NameError::InvalidCharacter(name.to_owned()));
    }
    if name.starts_with("__") {
        return Err(NameError::Reserved(name.to_owned()));
    }
    Ok(())
}

/// Checks histogram bucket bounds: non-empty, finite and strictly increasing.
///
/// # Errors
///
/// Returns [`NameError::InvalidBuckets`] otherwise.
pub fn check_buckets(buckets: &[f64]) -> Result<(), NameError> {
    let sorted = buckets.windows(2).all(|w| w[0] < w[1]);
    if buckets.is_empty() || !sorted || buckets.iter().any(|b| !b.is_finite()) {
        return Err(NameError::InvalidBuckets);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_dashes_dots_spaces_or_colons_are_rejected() {
        for name in [
            "session-alive_total",
            "a.b_total",
            "a b_total",
            "a:b_total",
            "9lives_total",
        ] {
            assert_eq!(
                check_metric_name(name, MetricKind::Counter),
                Err(NameError::InvalidCharacter(name.to_owned()))
            );
        }
        assert_eq!(
            check_metric_name("", MetricKind::Counter),
            Err(NameError::Empty)
        );
    }

    #[test]
    fn suffix_rules_follow_the_kind() {
        assert!(check_metric_name("session_alive_events_total", MetricKind::Counter).is_ok());
        assert!(check_metric_name("session_alive_events", MetricKind::Counter).is_err());
        assert!(check_metric_name("database_records_count", MetricKind::Gauge).is_err());
        assert!(check_metric_name("connections_active_total", MetricKind::Gauge).is_err());
        assert!(check_metric_name("request_seconds_total", MetricKind::Histogram).is_err());
        assert!(check_metric_name("latency_sum", MetricKind::Gauge).is_err());
        assert!(check_metric_name("latency_bucket", MetricKind::Gauge).is_err());
        assert!(check_metric_name("latency_count", MetricKind::Histogram).is_err());
        assert!(check_metric_name("latency_seconds", MetricKind::Histogram).is_ok());
    }

    #[test]
    fn reserved_label_names_are_rejected() {
        for name in ["le", "quantile", "__name"] {
            assert!(check_label_name(name).is_err(), "{name}");
        }
        assert!(check_label_name("route").is_ok());
    }

    #[test]
    fn buckets_must_be_finite_and_increasing() {
        assert!(check_buckets(&[0.1, 1.0]).is_ok());
        assert!(check_buckets(&[]).is_err());
        assert!(check_buckets(&[1.0, 0.1]).is_err());
        assert!(check_buckets(&[1.0, 1.0]).is_err());
        assert!(check_buckets(&[1.0, f64::INFINITY]).is_err());
        assert!(check_buckets(&[f64::NAN]).is_err());
    }
}
