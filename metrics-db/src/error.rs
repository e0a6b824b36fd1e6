//! Errors of a refresh and of the updater's configuration.

use std::fmt;
use std::time::Duration;

/// Why one refresh of one table failed.
///
/// Every variant's message is safe to log: none carries the connection URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshError {
    /// No connection could be made or taken from the pool.
    Connect(String),
    /// The database answered with an error: a missing table, a cancelled statement, a broken
    /// connection.
    Query(String),
    /// The refresh took longer than the table's timeout; the last good value stays.
    Timeout(Duration),
    /// [`CountMode::Estimated`](crate::CountMode::Estimated) was asked for, but the database
    /// has no statistics for the table yet (never analyzed).
    NoEstimate,
    /// The previous refresh of this table outlived its timeout and still holds a connection,
    /// so this one was not started (refreshes of one table never overlap).
    StillRunning,
    /// The blocking task running the query panicked.
    Panicked,
}

impl RefreshError {
    /// A short, stable name for the kind of failure, used as the `reason` log field.
    pub fn reason(&self) -> &'static str {
        match self {
            RefreshError::Connect(_) => "connect",
            RefreshError::Query(_) => "query",
            RefreshError::Timeout(_) => "timeout",
            RefreshError::NoEstimate => "no_estimate",
            RefreshError::StillRunning => "still_running",
            RefreshError::Panicked => "panicked",
        }
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshError::Connect(message) => write!(f, "cannot connect: {message}"),
            RefreshError::Query(message) => write!(f, "query failed: {message}"),
            RefreshError::Timeout(after) => write!(f, "timed out after {after:?}"),
            RefreshError::NoEstimate => f.write_str("the database has no row estimate yet"),
            RefreshError::StillRunning => {
                f.write_str("the previous refresh of this table is still running")
            }
            RefreshError::Panicked => f.write_str("the refresh task panicked"),
        }
    }
}

impl std::error::Error for RefreshError {}

impl From<diesel::result::Error> for RefreshError {
    fn from(error: diesel::result::Error) -> Self {
        RefreshError::Query(one_line(&error.to_string()))
    }
}

impl From<diesel::ConnectionError> for RefreshError {
    fn from(error: diesel::ConnectionError) -> Self {
        match error {
            // Some drivers quote the URL back in this message; never pass it on.
            diesel::ConnectionError::InvalidConnectionUrl(_) => {
                RefreshError::Connect("invalid connection URL".to_owned())
            }
            other => RefreshError::Connect(one_line(&other.to_string())),
        }
    }
}

/// Driver messages (libpq's in particular) span several lines; logs want one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why the updater could not be built or started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// No table was configured.
    NoTables,
    /// Two tables were given the same label; they would write the same series.
    DuplicateLabel(String),
    /// A label was empty.
    EmptyLabel,
    /// The refresh interval or a timeout was zero.
    ZeroDuration(&'static str),
    /// `start` was called outside a tokio runtime.
    NoRuntime,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoTables => f.write_str("no table to track: call `track` at least once"),
            StartError::DuplicateLabel(label) => {
                write!(
                    f,
                    "two tables share the label `{label}`; labels must be unique"
                )
            }
            StartError::EmptyLabel => f.write_str("a table label is empty"),
            StartError::ZeroDuration(what) => write!(f, "the {what} must be greater than zero"),
            StartError::NoRuntime => {
                f.write_str("the updater must be started from within a tokio runtime")
            }
        }
    }
}

impl std::error::Error for StartError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_url_errors_do_not_repeat_the_url() {
        let error = diesel::ConnectionError::InvalidConnectionUrl(
            "bad url postgres://user:secret@db/prod".to_owned(),
        );
        let message = RefreshError::from(error).to_string();
        assert_eq!(message, "cannot connect: invalid connection URL");
    }

    #[test]
    fn multi_line_driver_messages_become_one_line() {
        let error =
            diesel::ConnectionError::BadConnection("could not connect\n\tis it up?\n".into());
        assert_eq!(
            RefreshError::from(error).to_string(),
            "cannot connect: could not connect is it up?"
        );
    }
}
