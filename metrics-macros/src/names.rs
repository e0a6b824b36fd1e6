//! The naming rules of the Prometheus text format and of tachometer's metric contract,
//! checked at compile time. Each check returns the message of the rule a name breaks, in
//! the compiler's voice, for the caller to attach to the offending token.

/// The kind of a metric family, as written in a catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn parse(word: &str) -> Option<Self> {
        match word {
            "counter" => Some(Self::Counter),
            "gauge" => Some(Self::Gauge),
            "histogram" => Some(Self::Histogram),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// Checks a metric family name: the characters the text format allows, no reserved
/// prefix, and the suffix that goes with its kind.
pub(crate) fn check_metric_name(name: &str, kind: Kind) -> Result<(), String> {
    check_characters("metric", name)?;
    if name.contains(':') {
        return Err(format!(
            "invalid metric name `{name}`: `:` is meant for recording rules, use `_` instead"
        ));
    }
    check_suffix(name, kind)
}

/// Checks a label name: the characters the text format allows and no reserved name.
pub(crate) fn check_label_name(name: &str) -> Result<(), String> {
    check_characters("label", name)?;
    if name.contains(':') {
        return Err(format!(
            "invalid label name `{name}`: `:` is not allowed in label names, use `_` instead"
        ));
    }
    if name == "le" || name == "quantile" {
        return Err(format!(
            "label name `{name}` is reserved for histogram and summary series: choose another name"
        ));
    }
    Ok(())
}

fn check_characters(what: &str, name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err(format!(
            "{what} name is empty: use ASCII letters, digits and `_`"
        ));
    };
    if first.is_ascii_digit() {
        return Err(format!(
            "invalid {what} name `{name}`: a name cannot start with a digit"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == ':'))
    {
        let what_it_is = match bad {
            '-' => "`-` ends a name in the text format".to_owned(),
            '.' => "`.` is not allowed".to_owned(),
            ' ' => "a space is not allowed".to_owned(),
            c if c.is_whitespace() => "whitespace is not allowed".to_owned(),
            c => format!("`{c}` is not allowed"),
        };
        return Err(format!(
            "invalid {what} name `{name}`: {what_it_is}; use only ASCII letters, digits and `_`"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "invalid {what} name `{name}`: names starting with `__` are reserved for Prometheus"
        ));
    }
    Ok(())
}

fn check_suffix(name: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Counter if !name.ends_with("_total") => Err(format!(
            "counter name `{name}` must end in `_total`: rename it `{name}_total`"
        )),
        Kind::Gauge | Kind::Histogram if name.ends_with("_total") => Err(format!(
            "{} name `{name}` must not end in `_total`, which belongs to counters",
            kind.as_str()
        )),
        Kind::Gauge if name.ends_with("_count") => Err(format!(
            "gauge name `{name}` must not end in `_count`, which belongs to histograms and summaries"
        )),
        Kind::Histogram => {
            for suffix in ["_bucket", "_sum", "_count"] {
                if name.ends_with(suffix) {
                    return Err(format!(
                        "histogram name `{name}` must not end in `{suffix}`: the exposition adds \
                         `_bucket`, `_sum` and `_count` to it"
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_broken_rule_has_its_own_message() {
        let counter = |n| check_metric_name(n, Kind::Counter).unwrap_err();
        assert!(counter("session-alive_events_total").contains("`-`"));
        assert!(counter("9lives_total").contains("cannot start with a digit"));
        assert!(counter("websocket.events_total").contains("`.`"));
        assert!(counter("websocket events_total").contains("space"));
        assert!(counter("").contains("empty"));
        assert!(counter("__reserved_total").contains("reserved"));
        assert!(counter("websocket:events_total").contains("recording rules"));
        assert!(counter("session_alive_events").contains("must end in `_total`"));
        assert!(check_metric_name("session_alive_events_total", Kind::Counter).is_ok());
    }

    #[test]
    fn suffixes_follow_the_kind() {
        assert!(check_metric_name("connections_active_total", Kind::Gauge).is_err());
        assert!(check_metric_name("database_records_count", Kind::Gauge).is_err());
        assert!(check_metric_name("request_seconds_total", Kind::Histogram).is_err());
        assert!(check_metric_name("request_seconds_count", Kind::Histogram).is_err());
        assert!(check_metric_name("database_records", Kind::Gauge).is_ok());
        assert!(check_metric_name("request_seconds", Kind::Histogram).is_ok());
    }

    #[test]
    fn reserved_label_names_are_refused() {
        for name in ["le", "quantile", "__name__", "a-b", ""] {
            assert!(check_label_name(name).is_err(), "{name}");
        }
        assert!(check_label_name("route").is_ok());
        assert!(check_label_name("type").is_ok());
    }
}
