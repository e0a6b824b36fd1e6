//! Tracked tables: the SQL name taken from a diesel schema type, the label, and how to count.

use std::fmt;
use std::time::Duration;

/// How the rows of a table are counted.
///
/// See the crate documentation for the accuracy and the cost of each mode on each backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountMode {
    /// `SELECT COUNT(*)`: always right, but a full scan whose cost grows with the table.
    Exact,
    /// The database's own statistics: constant cost, as accurate as the last statistics update.
    /// A table without statistics fails to refresh in this mode instead of reporting a guess.
    Estimated,
    /// The estimate, or an exact count when the estimate is missing, unusable, or below the
    /// auto threshold (small tables, where a count is cheap and the estimate least reliable).
    #[default]
    Auto,
}

impl CountMode {
    /// The mode's name as used in log fields: `exact`, `estimated` or `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            CountMode::Exact => "exact",
            CountMode::Estimated => "estimated",
            CountMode::Auto => "auto",
        }
    }
}

impl fmt::Display for CountMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-table settings that differ from the updater's defaults.
///
/// ```
/// use std::time::Duration;
/// use tachometer_db::{CountMode, TableOptions};
///
/// let options = TableOptions::new()
///     .mode(CountMode::Estimated)
///     .timeout(Duration::from_secs(2));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    pub(crate) mode: Option<CountMode>,
    pub(crate) timeout: Option<Duration>,
}

impl TableOptions {
    /// Options that inherit everything from the updater.
    pub fn new() -> Self {
        Self::default()
    }

    /// Count this table in `mode` instead of the updater's default mode.
    pub fn mode(mut self, mode: CountMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Give up on one refresh of this table after `timeout` instead of the updater's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A table's SQL name, as diesel's schema type renders it for one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    /// The quoted name ready for a `FROM` clause, exactly as diesel writes it.
    pub(crate) quoted: String,
    /// The schema (PostgreSQL) or database (MySQL) the schema type names, if any.
    pub(crate) schema: Option<String>,
    /// The bare table name.
    pub(crate) name: String,
}

impl TableName {
    /// Parses what diesel writes for a table: one or two identifiers quoted with `quote`
    /// (inner quotes doubled), joined by a dot.
    pub(crate) fn parse(quoted: &str, quote: char) -> Option<TableName> {
        let mut parts = Vec::new();
        let mut chars = quoted.chars().peekable();

        loop {
            if chars.next() != Some(quote) {
                return None;
            }
            let mut part = String::new();
            loop {
                match chars.next()? {
                    c if c == quote => {
                        if chars.peek() == Some(&quote) {
                            chars.next();
                            part.push(quote);
                        } else {
                            break;
                        }
                    }
                    c => part.push(c),
                }
            }
            parts.push(part);

            match chars.next() {
                None => break,
                Some('.') => continue,
                Some(_) => return None,
            }
        }

        let name = parts.pop()?;
        let schema = parts.pop();
        if !parts.is_empty() || name.is_empty() {
            return None;
        }

        Some(TableName {
            quoted: quoted.to_owned(),
            schema,
            name,
        })
    }
}

/// One configured table, with its settings resolved.
#[derive(Debug, Clone)]
pub(crate) struct TrackedTable {
    pub(crate) label: String,
    pub(crate) name: TableName,
    pub(crate) options: TableOptions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plain_quoted_name() {
        let name = TableName::parse("\"sessions\"", '"').unwrap();
        assert_eq!(name.name, "sessions");
        assert_eq!(name.schema, None);
        assert_eq!(name.quoted, "\"sessions\"");
    }

    #[test]
    fn parses_a_schema_qualified_name() {
        let name = TableName::parse("`app`.`machines`", '`').unwrap();
        assert_eq!(name.schema.as_deref(), Some("app"));
        assert_eq!(name.name, "machines");
    }

    #[test]
    fn doubled_quotes_inside_a_name_are_one_character() {
        let name = TableName::parse("\"we\"\"ird.name\"", '"').unwrap();
        assert_eq!(name.name, "we\"ird.name");
        assert_eq!(name.schema, None);
    }

    #[test]
    fn rejects_text_that_is_not_a_quoted_name() {
        assert_eq!(TableName::parse("sessions", '"'), None);
        assert_eq!(TableName::parse("\"a\".\"b\".\"c\"", '"'), None);
        assert_eq!(TableName::parse("\"unterminated", '"'), None);
        assert_eq!(TableName::parse("\"a\" AS \"b\"", '"'), None);
        assert_eq!(TableName::parse("\"\"", '"'), None);
    }
}
