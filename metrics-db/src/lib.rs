//! Row-count gauges for diesel tables (docs below are being written).

mod backend;
mod debounce;
mod error;
mod table;
mod updater;

pub use backend::CountConnection;
pub use debounce::Debouncer;
pub use error::{RefreshError, StartError};
pub use table::{CountMode, TableOptions};
pub use updater::{
    DEFAULT_AUTO_EXACT_BELOW, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, RecordsUpdater, Rows,
    TableRefresh, Updater, UpdaterHandle,
};
