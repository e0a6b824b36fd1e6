//! Database access: the connection type, the pool, embedded migrations and the domain queries.
//!
//! diesel is synchronous, so every query runs on tokio's blocking pool through [`Db::run`] and
//! never on an async worker thread.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use serde::Serialize;

use crate::schema::{accounts, machines, messages, sessions};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// One connection to whichever database the URL selected.
#[cfg(not(feature = "mysql"))]
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

/// One connection to whichever database the URL selected.
#[cfg(feature = "mysql")]
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
    Mysql(diesel::MysqlConnection),
}

/// The database products the server can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        })
    }
}

/// A database URL, split into the backend it names and the string diesel connects with.
///
/// `Debug` and `Display` never show the URL itself: it may carry a password.
#[derive(Clone)]
pub(crate) struct DatabaseUrl {
    backend: Backend,
    connect: String,
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({}, <redacted>)", self.backend)
    }
}

impl DatabaseUrl {
    /// Reads `postgres://`, `postgresql://`, `mysql://`, `sqlite://PATH` or a bare SQLite file path.
    pub(crate) fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let (backend, connect) =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                (Backend::Postgres, url.to_owned())
            } else if url.starts_with("mysql://") {
                (Backend::Mysql, url.to_owned())
            } else if let Some(path) = url.strip_prefix("sqlite://") {
                (Backend::Sqlite, path.to_owned())
            } else if let Some(path) = url.strip_prefix("sqlite:") {
                (Backend::Sqlite, path.to_owned())
            } else if url.contains("://") {
                return Err(DbError::UnsupportedUrl);
            } else {
                (Backend::Sqlite, url.to_owned())
            };

        if backend == Backend::Mysql && !cfg!(feature = "mysql") {
            return Err(DbError::MysqlNotBuilt);
        }
        if connect.is_empty() {
            return Err(DbError::UnsupportedUrl);
        }
        Ok(DatabaseUrl { backend, connect })
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The string to hand to diesel (a file path for SQLite, the URL otherwise).
    pub(crate) fn connect_string(&self) -> &str {
        &self.connect
    }
}

/// What can go wrong talking to the database.
#[derive(Debug)]
pub(crate) enum DbError {
    UnsupportedUrl,
    MysqlNotBuilt,
    Connect(ConnectionError),
    Pool(r2d2::PoolError),
    Migration(String),
    Query(diesel::result::Error),
    TaskFailed,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::UnsupportedUrl => f.write_str(
                "unsupported database URL: expected postgres://, mysql://, sqlite://PATH or a file path",
            ),
            DbError::MysqlNotBuilt => {
                f.write_str("mysql:// URLs need the server built with `--features mysql`")
            }
            DbError::Connect(e) => write!(f, "cannot connect to the database: {e}"),
            DbError::Pool(e) => write!(f, "no database connection available: {e}"),
            DbError::Migration(e) => write!(f, "migrations failed: {e}"),
            DbError::Query(e) => write!(f, "query failed: {e}"),
            DbError::TaskFailed => f.write_str("database task stopped before it finished"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> DbError {
        DbError::Query(e)
    }
}

/// Opens one connection of the kind the URL names.
pub(crate) fn establish(url: &DatabaseUrl) -> Result<AnyConnection, DbError> {
    let conn = match url.backend() {
        Backend::Sqlite => AnyConnection::Sqlite(
            diesel::SqliteConnection::establish(url.connect_string()).map_err(DbError::Connect)?,
        ),
        Backend::Postgres => AnyConnection::Postgres(
            diesel::PgConnection::establish(url.connect_string()).map_err(DbError::Connect)?,
        ),
        #[cfg(feature = "mysql")]
        Backend::Mysql => AnyConnection::Mysql(
            diesel::MysqlConnection::establish(url.connect_string()).map_err(DbError::Connect)?,
        ),
        #[cfg(not(feature = "mysql"))]
        Backend::Mysql => return Err(DbError::MysqlNotBuilt),
    };
    Ok(conn)
}

/// Per-connection settings: SQLite gets WAL and a busy timeout so that pooled writers wait for
/// each other instead of failing with "database is locked".
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<AnyConnection, r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        if let AnyConnection::Sqlite(sqlite) = conn {
            sqlite
                .batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A pool of connections, cheap to clone.
#[derive(Clone)]
pub(crate) struct Db {
    pool: Pool<ConnectionManager<AnyConnection>>,
}

impl Db {
    /// Applies the embedded migrations, then opens the pool.
    pub(crate) async fn open(url: DatabaseUrl, max_connections: u32) -> Result<Db, DbError> {
        let setup_url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = establish(&setup_url)?;
            if let AnyConnection::Sqlite(sqlite) = &mut conn {
                sqlite
                    .batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;")
                    .map_err(DbError::Query)?;
            }
            conn.run_pending_migrations(MIGRATIONS)
                .map_err(|e| DbError::Migration(e.to_string()))?;

            let manager = ConnectionManager::<AnyConnection>::new(setup_url.connect_string());
            let pool = Pool::builder()
                .max_size(max_connections)
                .connection_timeout(Duration::from_secs(30))
                .connection_customizer(Box::new(ConnectionSetup))
                .build(manager)
                .map_err(DbError::Pool)?;
            Ok(Db { pool })
        })
        .await
        .map_err(|_| DbError::TaskFailed)?
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::Pool)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| DbError::TaskFailed)?
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[derive(Clone, Debug, Queryable, Insertable, Serialize)]
#[diesel(table_name = accounts)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, Serialize)]
#[diesel(table_name = sessions)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) title: String,
    pub(crate) created_at: i64,
    pub(crate) last_active_at: i64,
}

#[derive(Clone, Debug, Queryable, Insertable, Serialize)]
#[diesel(table_name = messages)]
pub(crate) struct Message {
    pub(crate) id: String,
    pub(crate) session_id: String,
    pub(crate) body: String,
    pub(crate) created_at: i64,
}

#[derive(Clone, Debug, Queryable, Insertable, Serialize)]
#[diesel(table_name = machines)]
pub(crate) struct Machine {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
    pub(crate) last_active_at: i64,
}

pub(crate) fn insert_account(conn: &mut AnyConnection, name: String) -> Result<Account, DbError> {
    let account = Account {
        id: new_id(),
        name,
        created_at: now_millis(),
    };
    diesel::insert_into(accounts::table)
        .values(&account)
        .execute(conn)?;
    Ok(account)
}

pub(crate) fn account_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, DbError> {
    let found: i64 = accounts::table
        .filter(accounts::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Creates a session for an existing account; `None` when the account does not exist.
pub(crate) fn insert_session(
    conn: &mut AnyConnection,
    account_id: String,
    title: String,
) -> Result<Option<Session>, DbError> {
    if !account_exists(conn, &account_id)? {
        return Ok(None);
    }

    let now = now_millis();
    let session = Session {
        id: new_id(),
        account_id,
        title,
        created_at: now,
        last_active_at: now,
    };
    diesel::insert_into(sessions::table)
        .values(&session)
        .execute(conn)?;
    Ok(Some(session))
}

pub(crate) fn find_session(conn: &mut AnyConnection, id: &str) -> Result<Option<Session>, DbError> {
    Ok(sessions::table
        .filter(sessions::id.eq(id))
        .first::<Session>(conn)
        .optional()?)
}

pub(crate) fn list_sessions(
    conn: &mut AnyConnection,
    account_id: Option<String>,
    limit: i64,
) -> Result<Vec<Session>, DbError> {
    let mut query = sessions::table.into_boxed();
    if let Some(account_id) = account_id {
        query = query.filter(sessions::account_id.eq(account_id));
    }
    Ok(query
        .order((sessions::created_at.desc(), sessions::id.asc()))
        .limit(limit)
        .load(conn)?)
}

pub(crate) fn insert_message(
    conn: &mut AnyConnection,
    session_id: String,
    body: String,
) -> Result<Message, DbError> {
    let message = Message {
        id: new_id(),
        session_id,
        body,
        created_at: now_millis(),
    };
    diesel::insert_into(messages::table)
        .values(&message)
        .execute(conn)?;
    Ok(message)
}

pub(crate) fn list_messages(
    conn: &mut AnyConnection,
    session_id: &str,
    limit: i64,
) -> Result<Vec<Message>, DbError> {
    Ok(messages::table
        .filter(messages::session_id.eq(session_id))
        .order((messages::created_at.asc(), messages::id.asc()))
        .limit(limit)
        .load(conn)?)
}

/// Registers a machine for an existing account; `None` when the account does not exist.
pub(crate) fn insert_machine(
    conn: &mut AnyConnection,
    account_id: String,
    name: String,
) -> Result<Option<Machine>, DbError> {
    if !account_exists(conn, &account_id)? {
        return Ok(None);
    }

    let now = now_millis();
    let machine = Machine {
        id: new_id(),
        account_id,
        name,
        created_at: now,
        last_active_at: now,
    };
    diesel::insert_into(machines::table)
        .values(&machine)
        .execute(conn)?;
    Ok(Some(machine))
}

pub(crate) fn machine_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, DbError> {
    let found: i64 = machines::table
        .filter(machines::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Sets a session's last-active time; returns how many rows changed (0 or 1).
pub(crate) fn touch_session(conn: &mut AnyConnection, id: &str, at: i64) -> Result<usize, DbError> {
    Ok(diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::last_active_at.eq(at))
        .execute(conn)?)
}

/// Sets a machine's last-active time; returns how many rows changed (0 or 1).
pub(crate) fn touch_machine(conn: &mut AnyConnection, id: &str, at: i64) -> Result<usize, DbError> {
    Ok(diesel::update(machines::table.filter(machines::id.eq(id)))
        .set(machines::last_active_at.eq(at))
        .execute(conn)?)
}
