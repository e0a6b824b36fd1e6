//! Writing the Prometheus text exposition format, version 0.0.4.

/// The content type `/metrics` answers with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Appends a label value escaped as the text format requires: `\` as `\\`, `"` as `\"`
/// and a line feed as `\n`. Every other character, non-ASCII included, is written as is.
pub(crate) fn push_label_value(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(pos) = rest.find(['\\', '"', '\n']) {
        out.push_str(&rest[..pos]);
        out.push_str(match rest.as_bytes()[pos] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => "\\n",
        });
        rest = &rest[pos + 1..];
    }
    out.push_str(rest);
}

/// Appends HELP text escaped as the text format requires: `\` as `\\`, a line feed as `\n`.
pub(crate) fn push_help(out: &mut String, help: &str) {
    let mut rest = help;
    while let Some(pos) = rest.find(['\\', '\n']) {
        out.push_str(&rest[..pos]);
        out.push_str(if rest.as_bytes()[pos] == b'\\' {
            "\\\\"
        } else {
            "\\n"
        });
        rest = &rest[pos + 1..];
    }
    out.push_str(rest);
}

/// Builds the inside of a label block, `a="x",b="y"`, from names and values.
pub(crate) fn label_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        push_label_value(&mut out, value);
        out.push('"');
    }
    out
}

/// Appends a sample value: integers without a fraction, `+Inf`, `-Inf` and `NaN` spelled
/// as Prometheus spells them, other numbers in their shortest round-trip form.
pub(crate) fn push_f64(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 9.007_199_254_740_992e15 {
        #[allow(clippy::cast_possible_truncation)] // exact: integral and below 2^53
        let int = value as i64;
        out.push_str(itoa::Buffer::new().format(int));
    } else {
        out.push_str(ryu::Buffer::new().format_finite(value));
    }
}

/// Appends an unsigned integer sample value.
pub(crate) fn push_u64(out: &mut String, value: u64) {
    out.push_str(itoa::Buffer::new().format(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(value: &str) -> String {
        let mut out = String::new();
        push_label_value(&mut out, value);
        out
    }

    #[test]
    fn label_values_escape_backslash_quote_and_line_feed_only() {
        assert_eq!(escaped("a\"b"), "a\\\"b");
        assert_eq!(escaped("C:\\"), "C:\\\\");
        assert_eq!(escaped("line1\nline2"), "line1\\nline2");
        assert_eq!(escaped("x\\\\y"), "x\\\\\\\\y");
        assert_eq!(escaped("ü-ok\t"), "ü-ok\t");
    }

    #[test]
    fn numbers_render_as_prometheus_reads_them() {
        let render = |v: f64| {
            let mut s = String::new();
            push_f64(&mut s, v);
            s
        };
        assert_eq!(render(1000.0), "1000");
        assert_eq!(render(-1.0), "-1");
        assert_eq!(render(0.25), "0.25");
        assert_eq!(render(f64::INFINITY), "+Inf");
        assert_eq!(render(f64::NAN), "NaN");
        assert_eq!(render(1e300), "1e300");
    }
}
