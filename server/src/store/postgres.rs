//! The PostgreSQL store: several server processes share one registry. Each operation runs in
//! one transaction on a pooled connection, on a blocking thread (the synchronous `postgres`
//! client, so the operations of `ops.rs` are the same code as SQLite's). A transaction that
//! decides on facts first takes transaction-scoped advisory locks on what it decides about
//! (`pg_advisory_xact_lock`), so the facts it reads cannot change before it commits, in this
//! process or any other. The unique keys (primary keys, and the partial unique index on
//! (region, id) WHERE mode = 'DEFAULT') hold regardless; a violation (23505) answers
//! ResourceAlreadyExistsException.

use std::collections::HashMap;
use std::time::Duration;

use iot_ca::MarkerKey;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{GenericClient, NoTls, Statement};

use super::sql::{Row, SCHEMA_VERSION, Tx, Value, dollar_params};
use super::{Store, StoreLimits, sql, within};
use crate::error::{ApiError, chain};

/// Prepared statements kept per connection at most (the operations have a few dozen texts).
const STATEMENTS_KEPT: usize = 256;

/// A pooled connection with the statements it has prepared, by their text: a statement is
/// parsed and planned once per connection, then each call is one round trip.
pub struct Connection {
    client: postgres::Client,
    statements: HashMap<String, Statement>,
}

/// Makes and checks [`Connection`]s for r2d2.
struct Manager(postgres::Config);

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection { client: self.0.connect(NoTls)?, statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

type Pool = r2d2::Pool<Manager>;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    marker_key: MarkerKey,
    deadline: Duration,
}

/// A PostgreSQL error as the answer: a unique violation is ResourceAlreadyExistsException; a
/// database that cannot serve (the connection lost or refused, too many clients, disk full,
/// shutting down, a statement past its deadline, an I/O error) is ServiceUnavailableException;
/// anything else is an internal failure. The log keeps the server's own message.
fn db(e: &postgres::Error) -> ApiError {
    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
        return ApiError::new(409, "ResourceAlreadyExistsException", "The resource already exists.");
    }
    let cause = format!("postgres: {}", chain(e));
    if unavailable(e) { ApiError::store_unavailable(cause) } else { ApiError::internal(cause) }
}

/// Whether `e` says the database cannot serve now, rather than that a statement is wrong.
fn unavailable(e: &postgres::Error) -> bool {
    // SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, out of
    // memory, too many connections), 57 operator intervention (shutdown, statement_timeout's
    // query_canceled), 58 system error (I/O).
    let class = e.code().map(|c| &c.code()[..2]);
    e.is_closed()
        || matches!(class, Some("08" | "53" | "57" | "58"))
        || (class.is_none() && std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()))
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Null => Ok(IsNull::Yes),
            Self::Int(v) => v.to_sql(ty, out),
            Self::Bool(v) => v.to_sql(ty, out),
            Self::Text(v) => v.to_sql(ty, out),
            Self::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each value checks the parameter's type itself in `to_sql`.
        true
    }

    to_sql_checked!();
}

/// Column `i` of `row` as a [`Value`], by its type.
fn column(row: &postgres::Row, i: usize) -> Result<Value, ApiError> {
    let ty = row.columns().get(i).map(|c| c.type_().clone()).unwrap_or(Type::UNKNOWN);
    let value = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(|v| Value::Int(i64::from(v)))),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(Value::Bool)),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map(Value::Bytes)),
        _ => row.try_get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
    };
    Ok(value.map_err(|e| db(&e))?.unwrap_or(Value::Null))
}

fn as_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// A PostgreSQL transaction (or, for reads, a bare connection) as the operations' [`Tx`],
/// with its connection's prepared statements.
struct PgTx<'a, C: GenericClient> {
    client: &'a mut C,
    statements: &'a mut HashMap<String, Statement>,
}

impl<C: GenericClient> PgTx<'_, C> {
    /// `sql` prepared on this connection, once.
    fn statement(&mut self, sql: &str) -> Result<Statement, ApiError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&dollar_params(sql)).map_err(|e| db(&e))?;
        if self.statements.len() >= STATEMENTS_KEPT {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl<C: GenericClient> Tx for PgTx<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, ApiError> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, &as_params(params)).map_err(|e| db(&e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, ApiError> {
        let statement = self.statement(sql)?;
        let rows = self.client.query(&statement, &as_params(params)).map_err(|e| db(&e))?;
        rows.iter().map(|row| Ok(Row((0..row.len()).map(|i| column(row, i)).collect::<Result<_, _>>()?))).collect()
    }

    fn lock(&mut self, name: &str) -> Result<(), ApiError> {
        self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))", &[Value::from(name)])?;
        Ok(())
    }
}

/// Creates the schema when absent and reads (or makes) the marker key, one process at a time.
fn prepare(client: &mut postgres::Client) -> Result<MarkerKey, ApiError> {
    let mut tx = client.transaction().map_err(|e| db(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('iot-ca-server schema', 0))", &[]).map_err(|e| db(&e))?;
    tx.batch_execute(&sql::schema("BYTEA", "BIGINT", "BOOLEAN")).map_err(|e| db(&e))?;
    let version = tx
        .query_opt("SELECT convert_from(value, 'UTF8') FROM meta WHERE key = 'schema_version'", &[])
        .map_err(|e| db(&e))?
        .map(|row| row.get::<_, String>(0));
    match version.as_deref().map(str::parse::<i64>) {
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1)",
                &[&SCHEMA_VERSION.to_string().into_bytes()],
            )
            .map_err(|e| db(&e))?;
        }
        Some(Ok(v)) if v < SCHEMA_VERSION => {
            tx.execute(
                "UPDATE meta SET value = $1 WHERE key = 'schema_version'",
                &[&SCHEMA_VERSION.to_string().into_bytes()],
            )
            .map_err(|e| db(&e))?;
        }
        Some(Ok(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err(ApiError::internal(format_args!(
                "the store's schema version {v:?} is not one this server ({SCHEMA_VERSION}) reads"
            )));
        }
    }
    let mut bytes = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('marker_key', $1) ON CONFLICT (key) DO NOTHING",
        &[&bytes.to_vec()],
    )
    .map_err(|e| db(&e))?;
    let stored: Vec<u8> =
        tx.query_one("SELECT value FROM meta WHERE key = 'marker_key'", &[]).map_err(|e| db(&e))?.get(0);
    super::provisioning::migrate_templates(&mut PgTx { client: &mut tx, statements: &mut HashMap::new() })?;
    tx.commit().map_err(|e| db(&e))?;
    let key: [u8; 32] = stored.try_into().map_err(|_| ApiError::internal("the stored marker key is not 32 bytes"))?;
    Ok(MarkerKey::new(key))
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with the default [`StoreLimits`] and
    /// creates the schema when absent.
    ///
    /// # Errors
    /// The database cannot be reached, or holds a schema newer than this server's.
    pub async fn open(url: &str) -> Result<Self, ApiError> {
        Self::open_with(url, StoreLimits::default()).await
    }

    /// The same, with at most `limits.connections` connections, each call within
    /// `limits.deadline` (the wait for a connection included), and that deadline as the
    /// connections' `statement_timeout` and connect timeout.
    ///
    /// # Errors
    /// The database cannot be reached, or holds a schema newer than this server's.
    pub async fn open_with(url: &str, limits: StoreLimits) -> Result<Self, ApiError> {
        let mut config: postgres::Config = url.parse().map_err(|e| db(&e))?;
        let millis = limits.deadline.as_millis();
        config.connect_timeout(limits.deadline).options(&format!("-c statement_timeout={millis}"));
        let deadline = limits.deadline;
        tokio::task::spawn_blocking(move || {
            let pool = r2d2::Pool::builder()
                .max_size(limits.connections)
                .min_idle(Some(1))
                .connection_timeout(limits.deadline)
                // A check-out test is a round trip per request; a closed connection is still
                // noticed (`has_broken`) and replaced.
                .test_on_check_out(false)
                .error_handler(Box::new(r2d2::LoggingErrorHandler))
                .build_unchecked(Manager(config));
            let mut conn = pool.get().map_err(|e| ApiError::store_unavailable(format_args!("postgres: {e}")))?;
            let marker_key = prepare(&mut conn.client)?;
            drop(conn);
            Ok(Self { pool, marker_key, deadline })
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = self.pool.clone();
        let call = async move {
            tokio::task::spawn_blocking(move || {
                // r2d2 waits for a connection within the deadline and names the last connect
                // error ("sorry, too many clients already") when none comes.
                let mut conn =
                    pool.get().map_err(|e| ApiError::store_unavailable(format_args!("postgres pool: {e}")))?;
                f(&mut conn)
            })
            .await
            .map_err(ApiError::internal)?
        };
        within(self.deadline, "postgres", call).await
    }
}

impl Store for PostgresStore {
    fn marker_key(&self) -> &MarkerKey {
        &self.marker_key
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        // Statement by statement, each in its own snapshot: a transaction would cost two round
        // trips more per read. What must read several rows as one snapshot runs as a write.
        self.run(move |conn| f(&mut PgTx { client: &mut conn.client, statements: &mut conn.statements })).await
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run(move |conn| {
            let mut tx = conn.client.transaction().map_err(|e| db(&e))?;
            let out = f(&mut PgTx { client: &mut tx, statements: &mut conn.statements })?;
            tx.commit().map_err(|e| db(&e))?;
            Ok(out)
        })
        .await
    }
}
