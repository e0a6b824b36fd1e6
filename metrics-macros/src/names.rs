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
    check_suffix(name, kind)?;
    check_conventions(name)
}

/// Type names that the `# TYPE` line already gives.
const TYPE_WORDS: [&str; 4] = ["counter", "gauge", "histogram", "summary"];

/// SI and binary prefixes that make a unit that is not a base unit.
const UNIT_PREFIXES: [&str; 19] = [
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mebi", "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// The base units Prometheus names use.
const BASE_UNITS: [&str; 10] = [
    "amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds",
    "volts",
];

/// Units written as abbreviations, which Prometheus names spell out.
const ABBREVIATED_UNITS: [&str; 14] = [
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// The naming conventions `promtool check metrics` enforces: snake case, base units spelled
/// out, and no type name inside the metric name.
fn check_conventions(name: &str) -> Result<(), String> {
    check_snake_case("metric", name)?;
    let words: Vec<&str> = name.split('_').collect();
    for word in &words {
        if let Some(base) = non_base_unit(word) {
            return Err(format!(
                "metric name `{name}` measures in `{word}`: use the base unit `{base}` and scale \
                 the values to it"
            ));
        }
    }
    for word in words.iter().skip(1) {
        if TYPE_WORDS.contains(word) {
            return Err(format!(
                "metric name `{name}` must not name its type `{word}`: the `# TYPE` line gives it"
            ));
        }
        if ABBREVIATED_UNITS.contains(word) {
            return Err(format!(
                "metric name `{name}` abbreviates a unit as `{word}`: spell out the base unit, \
                 such as `seconds` or `bytes`"
            ));
        }
    }
    Ok(())
}

/// Refuses a camelCase name, which `promtool check metrics` flags for metrics and labels.
fn check_snake_case(what: &str, name: &str) -> Result<(), String> {
    if name
        .as_bytes()
        .windows(2)
        .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
    {
        return Err(format!(
            "{what} name `{name}` is camelCase: Prometheus names are snake_case, write `{}`",
            snake_case(name)
        ));
    }
    Ok(())
}

/// The base unit to use instead of `word`, when `word` is a scaled or non-base unit.
fn non_base_unit(word: &str) -> Option<&'static str> {
    match word {
        "minutes" | "hours" | "days" | "weeks" => return Some("seconds"),
        "bits" => return Some("bytes"),
        _ => {}
    }
    let unit = UNIT_PREFIXES
        .iter()
        .find_map(|prefix| word.strip_prefix(prefix))?;
    BASE_UNITS.iter().copied().find(|base| *base == unit)
}

/// `queueDepth` as `queue_depth`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
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
    check_snake_case("label", name)
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
        Kind::Gauge => {
            for suffix in ["_count", "_sum", "_bucket"] {
                if name.ends_with(suffix) {
                    return Err(format!(
                        "gauge name `{name}` must not end in `{suffix}`, which belongs to \
                         histograms and summaries"
                    ));
                }
            }
            Ok(())
        }
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
