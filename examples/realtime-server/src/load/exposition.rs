//! A reader for the Prometheus text format, enough to compare samples by name and labels.

/// One sample line: `name{label="value",...} value`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
}

impl Sample {
    pub(crate) fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every sample of an exposition.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exposition {
    samples: Vec<Sample>,
}

/// A line that is not valid text format.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) reason: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl Exposition {
    pub(crate) fn parse(text: &str) -> Result<Exposition, ParseError> {
        let mut samples = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let sample = parse_line(line).map_err(|reason| ParseError {
                line: i + 1,
                reason,
            })?;
            samples.push(sample);
        }
        Ok(Exposition { samples })
    }

    /// Samples of `name` whose labels include every pair of `matching`.
    pub(crate) fn select<'a>(
        &'a self,
        name: &'a str,
        matching: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |s| s.name == name && matching.iter().all(|(k, v)| s.label(k) == Some(*v)))
    }

    /// The sum of the samples [`Exposition::select`] picks (0 when there are none).
    pub(crate) fn sum(&self, name: &str, matching: &[(&str, &str)]) -> f64 {
        self.select(name, matching).map(|s| s.value).sum()
    }

    /// The value of the one sample `select` picks, `None` when there is none.
    pub(crate) fn value(&self, name: &str, matching: &[(&str, &str)]) -> Option<f64> {
        self.select(name, matching).map(|s| s.value).next()
    }
}

fn parse_line(line: &str) -> Result<Sample, &'static str> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if name.is_empty() {
        return Err("empty metric name");
    }

    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        let (parsed, remaining) = parse_labels(after_brace)?;
        labels = parsed;
        rest = remaining;
    }

    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other.parse().map_err(|_| "value is not a number")?,
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Reads `k="v",...}` and returns the pairs and the text after the closing brace.
type Labels = Vec<(String, String)>;

fn parse_labels(mut text: &str) -> Result<(Labels, &str), &'static str> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start_matches(',');
        if let Some(rest) = text.strip_prefix('}') {
            return Ok((labels, rest));
        }

        let eq = text.find('=').ok_or("label without `=`")?;
        let key = text[..eq].trim().to_owned();
        text = text[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value without quotes")?;

        let mut value = String::new();
        let mut chars = text.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value"),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err("unknown escape in label value"),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((key, value));
        text = &text[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_with_escapes_and_sums_by_label() {
        let text = "# HELP x_total x\n# TYPE x_total counter\n\
                    x_total{a=\"1\",b=\"q\\\"\\\\\\n\"} 2\n\
                    x_total{a=\"2\",b=\"z\"} 3.5\n\
                    y 7\n";
        let exposition = Exposition::parse(text).unwrap();
        assert_eq!(exposition.sum("x_total", &[]), 5.5);
        assert_eq!(exposition.value("x_total", &[("b", "q\"\\\n")]), Some(2.0));
        assert_eq!(exposition.value("y", &[]), Some(7.0));
        assert_eq!(exposition.value("missing", &[]), None);
    }

    #[test]
    fn rejects_an_unterminated_label_value() {
        let error = Exposition::parse("x{a=\"1} 2\n").unwrap_err();
        assert_eq!(
            error,
            ParseError {
                line: 1,
                reason: "unterminated label value"
            }
        );
    }
}
