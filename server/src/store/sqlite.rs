//! The SQLite store: one file, WAL journal, `synchronous = FULL` (a commit is on disk before
//! the answer leaves). Transactions that decide on facts begin with `BEGIN IMMEDIATE`, so the
//! write lock is held from the first read: two registrations never both count nine CAs of one
//! subject, whichever process they run in.
//!
//! Reads run on pooled connections on blocking threads (WAL lets them run beside a writer).
//! A lookup by key ([`Store::lookup`]) runs on the async worker that asks, on an idle pooled
//! connection (else, or when its snapshot would wait, as a read): in WAL mode a reader never
//! waits for the writer, and a point read of cached pages takes microseconds, while the
//! hand-off to a blocking thread and back (two thread wake-ups) took ~40 µs of CPU, a third of
//! a DescribeCACertificate (`benches/LOAD.md`, "The HTTP ceiling").
//! Writes go to one writer thread, which **commits them in groups**: it takes every write
//! waiting (up to [`MAX_GROUP`]), runs each in its own savepoint inside one `BEGIN IMMEDIATE`
//! transaction (a write that fails is rolled back to its savepoint and answered with its error;
//! the others go on, each seeing the ones before it, as if run one after another), commits
//! once, and only then answers them all. So a burst of registrations costs one fsync instead of
//! one each, nothing is answered before it is on disk, and writers queue in arrival order
//! instead of polling SQLite's busy lock (whose back-off of up to 100 ms made the slow tail).
//! If the commit fails, every write of the group is answered with the error.
//!
//! The file is the one the server was started with, checked on every call: a read first, a
//! write group after its commit and before any answer. If its path is gone, names another file
//! or the file lost its SQLite header (deleted, replaced, truncated while the server runs, when
//! SQLite would go on writing into an unlinked inode or read an empty database), the call
//! answers ServiceUnavailableException and the log says which, so no write is acknowledged
//! that a restart would not find.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iot_ca::MarkerKey;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::sql::{Row, SCHEMA_VERSION, Tx, Value};
use super::{Store, StoreLimits, sql, within};
use crate::error::ApiError;

/// Read connections kept for reuse.
const POOL_SIZE: usize = 16;
/// Writes committed together at most.
pub const MAX_GROUP: usize = 64;

/// The SQLite store.
pub struct SqliteStore {
    /// The file the server was started with.
    file: Arc<StoreFile>,
    /// Idle read connections (a pool, not a lock on any rule: each call runs on its own).
    pool: Arc<Mutex<Vec<Connection>>>,
    /// The writer thread's queue.
    writer: Sender<Box<dyn Write>>,
    marker_key: MarkerKey,
    deadline: Duration,
}

/// The store's file as it was opened: its path, its identity (device, inode) and a handle to
/// read its header through.
struct StoreFile {
    path: PathBuf,
    identity: (u64, u64),
    handle: File,
    /// How long SQLite waits for a lock.
    busy: Duration,
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl StoreFile {
    fn open(path: &Path, busy: Duration) -> Result<Self, ApiError> {
        let handle = File::open(path).map_err(|e| ApiError::store_unavailable(format_args!("sqlite: {e}")))?;
        let meta = handle.metadata().map_err(|e| ApiError::store_unavailable(format_args!("sqlite: {e}")))?;
        Ok(Self { path: path.to_owned(), identity: (meta.dev(), meta.ino()), handle, busy })
    }

    /// Whether the path still names the file opened at start, with its SQLite header: a stat
    /// and a 16-byte read, a few microseconds.
    fn check(&self) -> Result<(), ApiError> {
        let problem = match std::fs::metadata(&self.path) {
            Err(e) => format!("cannot be found at its path ({e}): deleted or moved"),
            Ok(meta) if (meta.dev(), meta.ino()) != self.identity => "now names another file: replaced".to_owned(),
            Ok(_) => {
                let mut head = [0u8; 16];
                match self.handle.read_exact_at(&mut head, 0) {
                    Ok(()) if &head == SQLITE_HEADER => return Ok(()),
                    _ => "has lost its SQLite header: truncated or overwritten".to_owned(),
                }
            }
        };
        Err(ApiError::store_unavailable(format_args!(
            "sqlite: the store file {} {problem}; answering 503 until the server is restarted on a good file",
            self.path.display()
        )))
    }

    fn connect(&self) -> Result<Connection, ApiError> {
        let conn = Connection::open(&self.path).map_err(db)?;
        conn.busy_timeout(self.busy).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        Ok(conn)
    }
}

/// Runs `f` on an idle connection of `pool` (or a new one), after checking the file; the
/// connection goes back to the pool.
fn pooled<T>(
    file: &StoreFile,
    pool: &Mutex<Vec<Connection>>,
    f: impl FnOnce(&mut Connection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    file.check()?;
    let conn = match idle(pool)? {
        Some(c) => c,
        None => file.connect()?,
    };
    returned(pool, conn, f)
}

/// An idle connection of `pool`, if there is one.
fn idle(pool: &Mutex<Vec<Connection>>) -> Result<Option<Connection>, ApiError> {
    Ok(pool.lock().map_err(|_| ApiError::internal("sqlite pool poisoned"))?.pop())
}

/// Runs `f` on `conn`, then gives `conn` back to `pool`: not when it was left inside a
/// transaction (its end failed), nor past [`POOL_SIZE`].
fn returned<T>(
    pool: &Mutex<Vec<Connection>>,
    mut conn: Connection,
    f: impl FnOnce(&mut Connection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let out = f(&mut conn);
    if conn.is_autocommit()
        && let Ok(mut idle) = pool.lock()
        && idle.len() < POOL_SIZE
    {
        idle.push(conn);
    }
    out
}

/// Runs `f` in a deferred transaction, so every statement of `f` reads the same snapshot (WAL),
/// and ends it. BEGIN and ROLLBACK are cached statements: rusqlite's `transaction()` parses
/// both again on every call, 6 % of a DescribeCACertificate's CPU.
fn snapshot<T>(conn: &Connection, f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError>) -> Result<T, ApiError> {
    conn.prepare_cached("BEGIN DEFERRED").and_then(|mut begin| begin.execute([])).map_err(db)?;
    let out = f(&mut SqliteTx(conn));
    snapshot_end(conn)?;
    out
}

/// Begins a read on `conn` only if its snapshot can be taken without waiting: answers whether
/// it holds one (ended by [`snapshot_end`]). While the server has the file open, a WAL reader
/// waits only for another process recovering the WAL after a crash; an async worker must not
/// sleep in SQLite's busy handler for that, so the lookup goes to a blocking thread.
fn snapshot_at_once(conn: &Connection, busy: Duration) -> Result<bool, ApiError> {
    use rusqlite::ErrorCode as C;
    conn.busy_timeout(Duration::ZERO).map_err(db)?;
    // The first read of a table is what takes the snapshot (and the WAL read lock).
    let began = conn
        .prepare_cached("BEGIN DEFERRED")
        .and_then(|mut begin| begin.execute([]))
        .and_then(|_| conn.prepare_cached("SELECT 1 FROM meta LIMIT 1").and_then(|mut probe| probe.exists([])));
    conn.busy_timeout(busy).map_err(db)?;
    match began {
        Ok(_) => Ok(true),
        Err(e) => {
            if !conn.is_autocommit() {
                snapshot_end(conn)?;
            }
            match e {
                rusqlite::Error::SqliteFailure(code, _) if matches!(code.code, C::DatabaseBusy | C::DatabaseLocked) => {
                    Ok(false)
                }
                e => Err(db(e)),
            }
        }
    }
}

/// Ends a read: it keeps nothing, so ROLLBACK, whatever it answered.
fn snapshot_end(conn: &Connection) -> Result<(), ApiError> {
    conn.prepare_cached("ROLLBACK").and_then(|mut end| end.execute([])).map(drop).map_err(db)
}

/// A write waiting for the writer thread.
trait Write: Send {
    /// Runs inside the group's transaction; answers whether it succeeded (its changes stay).
    fn run(&mut self, tx: &Transaction<'_>) -> bool;
    /// Answers the caller: its own result, or `failed` when the group did not commit.
    fn answer(self: Box<Self>, failed: Option<&ApiError>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, ApiError>>,
    reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Write for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Transaction<'_>) -> Result<T, ApiError> + Send,
{
    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let result = match self.work.take() {
            // A write that panics is one failed write, not a stopped writer.
            Some(work) => std::panic::catch_unwind(AssertUnwindSafe(|| work(tx)))
                .unwrap_or_else(|_| Err(ApiError::internal("a store write panicked"))),
            None => Err(ApiError::internal("a store write ran twice")),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<&ApiError>) {
        let result = match (self.result, failed) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(e.clone()),
            (Some(Ok(v)), None) => Ok(v),
            (None, None) => Err(ApiError::internal("a store write was not run")),
        };
        // The caller may have gone (its connection closed); the write stands either way.
        let _ = self.reply.send(result);
    }
}

/// The writer thread: commits what is waiting, in groups, until the store is dropped.
fn writer(mut conn: Connection, file: &StoreFile, queue: &Receiver<Box<dyn Write>>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP
            && let Ok(next) = queue.try_recv()
        {
            group.push(next);
        }
        // Checked before the group (so nothing is written beside a file moved over the path,
        // whose WAL SQLite would share by name) and after its commit, before any answer (a
        // group committed into a file that is no longer the store's is answered 503).
        let failed = file.check().and_then(|()| commit_group(&mut conn, &mut group)).and_then(|()| file.check()).err();
        for write in group {
            write.answer(failed.as_ref());
        }
    }
}

/// Runs `group` in one transaction, each write in a savepoint, and commits.
fn commit_group(conn: &mut Connection, group: &mut [Box<dyn Write>]) -> Result<(), ApiError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    for write in group.iter_mut() {
        tx.execute_batch("SAVEPOINT write").map_err(db)?;
        if write.run(&tx) {
            tx.execute_batch("RELEASE write").map_err(db)?;
        } else {
            tx.execute_batch("ROLLBACK TO write; RELEASE write").map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}

/// A SQLite error as the answer: a unique violation is ResourceAlreadyExistsException; a file
/// that cannot serve (busy past the deadline, disk full, an I/O error, unopenable, read-only,
/// not or no longer a database) is ServiceUnavailableException; anything else is an internal
/// failure.
fn db(e: rusqlite::Error) -> ApiError {
    use rusqlite::ErrorCode as C;
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    let rusqlite::Error::SqliteFailure(code, _) = &e else {
        return ApiError::internal(format_args!("sqlite: {e}"));
    };
    if matches!(code.extended_code, SQLITE_CONSTRAINT_PRIMARYKEY | SQLITE_CONSTRAINT_UNIQUE) {
        return ApiError::new(409, "ResourceAlreadyExistsException", "The resource already exists.");
    }
    let cause = format!("sqlite: {e}");
    match code.code {
        C::DatabaseBusy
        | C::DatabaseLocked
        | C::DiskFull
        | C::SystemIoFailure
        | C::CannotOpen
        | C::ReadOnly
        | C::NotADatabase
        | C::DatabaseCorrupt
        | C::FileLockingProtocolFailed
        | C::OutOfMemory => ApiError::store_unavailable(cause),
        _ => ApiError::internal(cause),
    }
}

impl SqliteStore {
    /// Opens (creating when absent) the store at `path`, with its schema and the default
    /// [`StoreLimits`].
    ///
    /// # Errors
    /// The file cannot be opened, or holds a schema newer than this server's.
    pub async fn open(path: &Path) -> Result<Self, ApiError> {
        Self::open_with(path, StoreLimits::default()).await
    }

    /// The same, each call within `limits.deadline` (SQLite's wait for its lock included).
    ///
    /// # Errors
    /// The file cannot be opened, or holds a schema newer than this server's.
    pub async fn open_with(path: &Path, limits: StoreLimits) -> Result<Self, ApiError> {
        let path = path.to_owned();
        let deadline = limits.deadline;
        let (conn, file, marker_key) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            // Opened once to create the file when absent, so its identity can be taken.
            drop(Connection::open(&path).map_err(db)?);
            let file = StoreFile::open(&path, deadline)?;
            let mut conn = file.connect()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            tx.execute_batch(&sql::schema("BLOB", "INTEGER", "INTEGER")).map_err(db)?;
            let version: Option<i64> = tx
                .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
                .optional()
                .map_err(db)?;
            match version {
                None => {
                    tx.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)", [SCHEMA_VERSION])
                        .map_err(db)?;
                }
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(ApiError::internal(format_args!(
                        "the store's schema version {v} is newer than this server's {SCHEMA_VERSION}"
                    )));
                }
                Some(v) if v < SCHEMA_VERSION => {
                    tx.execute("UPDATE meta SET value = ?1 WHERE key = 'schema_version'", [SCHEMA_VERSION])
                        .map_err(db)?;
                }
                Some(_) => {}
            }
            let mut bytes = [0u8; 32];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('marker_key', ?1)", [&bytes[..]])
                .map_err(db)?;
            let stored: Vec<u8> =
                tx.query_row("SELECT value FROM meta WHERE key = 'marker_key'", [], |r| r.get(0)).map_err(db)?;
            let key: [u8; 32] =
                stored.try_into().map_err(|_| ApiError::internal("the stored marker key is not 32 bytes"))?;
            super::provisioning::migrate_templates(&mut SqliteTx(&tx))?;
            tx.commit().map_err(db)?;
            file.check()?;
            Ok((conn, Arc::new(file), MarkerKey::new(key)))
        })
        .await
        .map_err(ApiError::internal)??;
        let (writer, queue) = std::sync::mpsc::channel();
        let written = Arc::clone(&file);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || self::writer(conn, &written, &queue))
            .map_err(ApiError::internal)?;
        Ok(Self { file, pool: Arc::new(Mutex::new(Vec::new())), writer, marker_key, deadline })
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = Arc::clone(&self.pool);
        let file = Arc::clone(&self.file);
        let call = async move {
            tokio::task::spawn_blocking(move || pooled(&file, &pool, f)).await.map_err(ApiError::internal)?
        };
        within(self.deadline, "sqlite", call).await
    }

    /// Runs `f` on the writer thread inside a `BEGIN IMMEDIATE` transaction (shared with the
    /// writes waiting beside it, each in its own savepoint); its changes are kept when it answers
    /// `Ok`, and the answer comes once they are committed.
    async fn write_group<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { work: Some(f), result: None, reply };
        self.writer.send(Box::new(pending)).map_err(|_| ApiError::internal("the sqlite writer has stopped"))?;
        let answer = async { answer.await.map_err(|_| ApiError::internal("the sqlite writer dropped a write"))? };
        within(self.deadline, "sqlite", answer).await
    }
}

/// A SQLite transaction (or, for reads, a deferred one) as the operations' [`Tx`].
struct SqliteTx<'a>(&'a Connection);

fn bind(params: &[Value]) -> impl Iterator<Item = rusqlite::types::ToSqlOutput<'_>> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    params.iter().map(|v| match v {
        Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
    })
}

fn column(v: rusqlite::types::ValueRef<'_>) -> Result<Value, ApiError> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(ApiError::internal)?),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Real(_) => return Err(ApiError::internal("sqlite: a REAL column")),
    })
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, ApiError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let n = stmt.execute(rusqlite::params_from_iter(bind(params))).map_err(db)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, ApiError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params))).map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            let values = (0..width).map(|i| column(row.get_ref(i).map_err(db)?)).collect::<Result<_, _>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn lock(&mut self, _name: &str) -> Result<(), ApiError> {
        // Writes run inside BEGIN IMMEDIATE: the database's one write lock is held already.
        Ok(())
    }
}

impl Store for SqliteStore {
    fn marker_key(&self) -> &MarkerKey {
        &self.marker_key
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run(move |conn| snapshot(conn, f)).await
    }

    async fn lookup<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.file.check()?;
        // Inline only on an idle connection: opening one (the file, its pragmas, the schema)
        // may wait for a lock, so it happens on a blocking thread, as a read.
        let Some(conn) = idle(&self.pool)? else { return self.read(f).await };
        let mut waiting = Some(f);
        let busy = self.file.busy;
        let now = returned(&self.pool, conn, |conn| {
            if !snapshot_at_once(conn, busy)? {
                return Ok(None);
            }
            let out = waiting.take().map(|f| f(&mut SqliteTx(conn)));
            snapshot_end(conn)?;
            out.transpose()
        });
        match (now, waiting) {
            // The snapshot would have waited: `f` was not run; it runs as a read.
            (Ok(None), Some(f)) => self.read(f).await,
            (Ok(Some(out)), _) => Ok(out),
            (Ok(None), None) => Err(ApiError::internal("a lookup ran without an answer")),
            (Err(e), _) => Err(e),
        }
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.write_group(move |tx| f(&mut SqliteTx(tx))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.sqlite3")).await.unwrap();
        (dir, store)
    }

    fn rows(path: &Path, prefix: &str) -> Vec<String> {
        let c = Connection::open(path).unwrap();
        let mut stmt = c.prepare("SELECT key FROM meta WHERE key LIKE ?1 || '%' ORDER BY key").unwrap();
        stmt.query_map([prefix], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    /// Many writes at once (so they share groups): each counts the rows before it and inserts
    /// only under the limit, as the ten-per-subject rule does. Exactly the limit are kept,
    /// however the writes were grouped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_decides_each_write_on_the_ones_before_it() {
        let (dir, store) = store().await;
        let store = Arc::new(store);
        let attempts = (0..40).map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .write_group(move |tx| {
                        let n: i64 = tx
                            .query_row("SELECT COUNT(*) FROM meta WHERE key LIKE 'limit-%'", [], |r| r.get(0))
                            .map_err(db)?;
                        if n >= 10 {
                            return Err(ApiError::new(410, "LimitExceededException", "limit"));
                        }
                        tx.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", [format!("limit-{i:02}")])
                            .map_err(db)?;
                        Ok(())
                    })
                    .await
            })
        });
        let mut kept = 0;
        for a in attempts.collect::<Vec<_>>() {
            match a.await.unwrap() {
                Ok(()) => kept += 1,
                Err(e) => assert_eq!(e.name, "LimitExceededException"),
            }
        }
        assert_eq!(kept, 10);
        assert_eq!(rows(&dir.path().join("s.sqlite3"), "limit-").len(), 10);
    }

    /// A write that fails after changing rows is rolled back to its savepoint; the writes around
    /// it in the same group are kept; a write that panics is answered with InternalFailure and
    /// the writer goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_or_panicking_write_is_undone_alone() {
        let (dir, store) = store().await;
        let store = Arc::new(store);
        let attempts: Vec<_> = (0..30)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .write_group(move |tx| {
                            tx.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", [format!("w-{i:02}")])
                                .map_err(db)?;
                            match i % 3 {
                                0 => Ok(i),
                                1 => Err(ApiError::invalid_request(format!("write {i} refused"))),
                                _ => panic!("write {i} panics"),
                            }
                        })
                        .await
                })
            })
            .collect();
        for (i, a) in attempts.into_iter().enumerate() {
            match (i % 3, a.await.unwrap()) {
                (0, Ok(n)) => assert_eq!(n, i),
                (1, Err(e)) => assert_eq!(e.message, format!("write {i} refused")),
                (_, Err(e)) => assert_eq!(e.name, "InternalFailureException"),
                (_, other) => panic!("write {i}: {other:?}"),
            }
        }
        let expected: Vec<String> = (0..30).filter(|i| i % 3 == 0).map(|i| format!("w-{i:02}")).collect();
        assert_eq!(rows(&dir.path().join("s.sqlite3"), "w-"), expected);
        // The writer still writes.
        store
            .write_group(|tx| tx.execute("INSERT INTO meta (key, value) VALUES ('w-after', x'00')", []).map_err(db))
            .await
            .unwrap();
        assert_eq!(rows(&dir.path().join("s.sqlite3"), "w-after"), ["w-after"]);
    }

    /// A group whose commit fails answers every write in it with the error, the successful
    /// ones too, and keeps none of them.
    #[test]
    fn a_group_that_cannot_commit_answers_every_write_with_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(SqliteStore::open(&path)).unwrap();
        let mut conn = StoreFile::open(&path, Duration::from_secs(1)).unwrap().connect().unwrap();
        // A group of two good writes and one that ends the transaction under the group's feet,
        // so the savepoint release and the commit fail.
        let (mut group, mut answers): (Vec<Box<dyn Write>>, Vec<_>) = (Vec::new(), Vec::new());
        for i in 0..3 {
            let (reply, answer) = oneshot::channel::<Result<(), ApiError>>();
            let work = move |tx: &Transaction<'_>| {
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", [format!("c-{i}")]).map_err(db)?;
                if i == 1 {
                    tx.execute_batch("ROLLBACK").map_err(db)?;
                }
                Ok(())
            };
            group.push(Box::new(Pending { work: Some(work), result: None, reply }));
            answers.push(answer);
        }
        let failed = commit_group(&mut conn, &mut group).unwrap_err();
        for write in group {
            write.answer(Some(&failed));
        }
        for answer in answers {
            assert_eq!(answer.blocking_recv().unwrap().unwrap_err().name, "InternalFailureException");
        }
        assert!(rows(&path, "c-").is_empty());
    }

    fn put(key: &'static str) -> impl FnOnce(&mut dyn Tx) -> Result<(), ApiError> + Send + 'static {
        move |tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, x'00')", &[Value::Text(key.into())])?;
            Ok(())
        }
    }

    fn count(tx: &mut dyn Tx) -> Result<i64, ApiError> {
        tx.query("SELECT COUNT(*) FROM meta", &[])?[0].int(0)
    }

    fn assert_unavailable<T: core::fmt::Debug>(r: Result<T, ApiError>, cause: &str) {
        let e = r.unwrap_err();
        assert_eq!((e.status, e.name), (503, "ServiceUnavailableException"), "{e}");
        assert!(e.cause.as_deref().unwrap_or("").contains(cause), "{:?} lacks {cause}", e.cause);
    }

    /// A lookup runs where it is asked, sees what was committed, answers its own error, and
    /// leaves its pooled connection outside any transaction, so the writer is never kept from
    /// checkpointing and the next read sees the next commit.
    #[tokio::test]
    async fn a_lookup_reads_the_last_commit_and_ends_its_transaction() {
        let (_dir, store) = store().await;
        let before = store.lookup(count).await.unwrap();
        store.write(put("one")).await.unwrap();
        assert_eq!(store.lookup(count).await.unwrap(), before + 1);
        let failed =
            store.lookup(|tx| -> Result<(), ApiError> { tx.query("SELECT nothing FROM nowhere", &[]).map(drop) });
        assert_eq!(failed.await.unwrap_err().name, "InternalFailureException");
        store.write(put("two")).await.unwrap();
        assert_eq!(store.lookup(count).await.unwrap(), before + 2);
        assert_eq!(store.read(count).await.unwrap(), before + 2);
        assert!(store.pool.lock().unwrap().iter().all(Connection::is_autocommit));
    }

    /// A snapshot that would wait is not waited for: `snapshot_at_once` answers false at once
    /// (the lookup then runs as a read, on a blocking thread) and leaves the connection outside
    /// any transaction with its busy timeout back. While the server has its file open, WAL mode
    /// makes a reader wait only for another process recovering the WAL; here a rollback-journal
    /// file held EXCLUSIVE stands in for it.
    #[test]
    fn a_snapshot_that_would_wait_is_given_up_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.sqlite3");
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB); BEGIN EXCLUSIVE").unwrap();
        let reader = Connection::open(&path).unwrap();
        let started = std::time::Instant::now();
        assert!(!snapshot_at_once(&reader, Duration::from_secs(30)).unwrap());
        assert!(started.elapsed() < Duration::from_secs(10), "it waited: {:?}", started.elapsed());
        assert!(reader.is_autocommit());
        holder.execute_batch("COMMIT").unwrap();
        assert!(snapshot_at_once(&reader, Duration::from_secs(30)).unwrap());
        assert!(!reader.is_autocommit());
        snapshot_end(&reader).unwrap();
        assert!(reader.is_autocommit());
    }

    /// The file deleted (with its WAL and index) while the server runs: SQLite would commit
    /// into the unlinked inode and a restart would find nothing. Writes and reads answer 503,
    /// and nothing answered 200 is missing after a restart.
    #[tokio::test]
    async fn a_deleted_store_file_answers_503_not_a_lost_200() {
        let (dir, store) = store().await;
        let path = dir.path().join("s.sqlite3");
        store.write(put("before")).await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        assert_unavailable(store.write(put("after")).await, "deleted or moved");
        assert_unavailable(store.read(count).await, "deleted or moved");
        assert_unavailable(store.lookup(count).await, "deleted or moved");
    }

    /// Another database moved over the path: 503, and the other file is not written.
    #[tokio::test]
    async fn a_replaced_store_file_answers_503() {
        let (dir, store) = store().await;
        let path = dir.path().join("s.sqlite3");
        let other = dir.path().join("other.sqlite3");
        drop(SqliteStore::open(&other).await.unwrap());
        std::fs::rename(&other, &path).unwrap();
        assert_unavailable(store.write(put("after")).await, "replaced");
        assert_unavailable(store.read(count).await, "replaced");
        assert_unavailable(store.lookup(count).await, "replaced");
        assert!(rows(&path, "after").is_empty());
    }

    /// The file truncated in place (same inode): 503 at once, not a read that hangs.
    #[tokio::test]
    async fn a_truncated_store_file_answers_503() {
        let (dir, store) = store().await;
        let path = dir.path().join("s.sqlite3");
        store.write(put("before")).await.unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        assert_unavailable(store.read(count).await, "truncated");
        assert_unavailable(store.write(put("after")).await, "truncated");
    }

    /// A full disk (SQLite's SQLITE_FULL, here from max_page_count on the writer's connection)
    /// is 503 with SQLite's words in the log, not "An internal failure occurred.".
    #[tokio::test]
    async fn a_full_disk_is_503() {
        let (_dir, store) = store().await;
        let filled = store
            .write_group(|tx| {
                let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(db)?;
                tx.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get::<_, i64>(0)).map_err(db)?;
                tx.execute("INSERT INTO meta (key, value) VALUES ('big', zeroblob(1000000))", []).map_err(db)?;
                Ok(())
            })
            .await;
        assert_unavailable(filled, "full");
    }

    /// A write lock held elsewhere past the deadline: the call answers 503 in about the
    /// deadline, not after SQLite's old 30 s busy wait.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lock_held_past_the_deadline_is_503() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let limits = StoreLimits { deadline: Duration::from_millis(300), ..StoreLimits::default() };
        let store = SqliteStore::open_with(&path, limits).await.unwrap();
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let e = store.write(put("blocked")).await.unwrap_err();
        assert_eq!((e.status, e.name), (503, "ServiceUnavailableException"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        holder.execute_batch("ROLLBACK").unwrap();
        store.write(put("free")).await.unwrap();
    }
}
