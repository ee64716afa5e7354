//! The SQLite store: one file, WAL journal, `synchronous = FULL` (a commit is on disk before
//! the answer leaves). Transactions that decide on facts begin with `BEGIN IMMEDIATE`, so the
//! write lock is held from the first read: two registrations never both count nine CAs of one
//! subject, whichever process they run in.
//!
//! Reads run on pooled connections on blocking threads (WAL lets them run beside a writer).
//! Writes go to one writer thread, which **commits them in groups**: it takes every write
//! waiting (up to [`MAX_GROUP`]), runs each in its own savepoint inside one `BEGIN IMMEDIATE`
//! transaction (a write that fails is rolled back to its savepoint and answered with its error;
//! the others go on, each seeing the ones before it, as if run one after another), commits
//! once, and only then answers them all. So a burst of registrations costs one fsync instead of
//! one each, nothing is answered before it is on disk, and writers queue in arrival order
//! instead of polling SQLite's busy lock (whose back-off of up to 100 ms made the slow tail).
//! If the commit fails, every write of the group is answered with the error.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iot_ca::{
    AccountFacts, AccountScope, CaCertificateDescription, CaCertificateUpdate, CertificateDescription, CertificateId,
    CertificateRegistration, CertificateStatus, CertificateUpdate, MarkerKey, Registration, RegistrationCode,
    ResourceArn, ResourceType, SortOrder, Tags, TemplateFacts, TemplateName, TemplateType,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::{
    CaLookup, ClaimIssuerRecord, Decide, Keyset, SCHEMA_VERSION, Store, TemplateRecord, ca_from_record,
    certificate_from_record, tags_from_text, tags_to_text, template_of,
};
use crate::error::ApiError;

/// Read connections kept for reuse.
const POOL_SIZE: usize = 16;
/// Writes committed together at most.
pub const MAX_GROUP: usize = 64;

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    /// Idle read connections (a pool, not a lock on any rule: each call runs on its own).
    pool: Arc<Mutex<Vec<Connection>>>,
    /// The writer thread's queue.
    writer: Sender<Box<dyn Write>>,
    marker_key: MarkerKey,
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
fn writer(mut conn: Connection, queue: &Receiver<Box<dyn Write>>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP
            && let Ok(next) = queue.try_recv()
        {
            group.push(next);
        }
        let failed = commit_group(&mut conn, &mut group).err();
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

fn db(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format_args!("sqlite: {e}"))
}

fn open(path: &Path) -> Result<Connection, ApiError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating when absent) the store at `path`, with its schema.
    ///
    /// # Errors
    /// The file cannot be opened, or holds a schema newer than this server's.
    pub async fn open(path: &Path) -> Result<Self, ApiError> {
        let path = path.to_owned();
        let opened = path.clone();
        let (conn, marker_key) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let mut conn = open(&opened)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            tx.execute_batch(&super::schema("BLOB", "INTEGER", "INTEGER")).map_err(db)?;
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
            tx.commit().map_err(db)?;
            Ok((conn, MarkerKey::new(key)))
        })
        .await
        .map_err(ApiError::internal)??;
        let (writer, queue) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || self::writer(conn, &queue))
            .map_err(ApiError::internal)?;
        Ok(Self { path, pool: Arc::new(Mutex::new(Vec::new())), writer, marker_key })
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = Arc::clone(&self.pool);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = pool.lock().map_err(|_| ApiError::internal("sqlite pool poisoned"))?.pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => open(&path)?,
            };
            let out = f(&mut conn);
            if let Ok(mut idle) = pool.lock()
                && idle.len() < POOL_SIZE
            {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs `f` on the writer thread inside a `BEGIN IMMEDIATE` transaction (shared with the
    /// writes waiting beside it, each in its own savepoint); its changes are kept when it answers
    /// `Ok`, and the answer comes once they are committed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { work: Some(f), result: None, reply };
        self.writer.send(Box::new(pending)).map_err(|_| ApiError::internal("the sqlite writer has stopped"))?;
        answer.await.map_err(|_| ApiError::internal("the sqlite writer dropped a write"))?
    }
}

impl SqliteStore {
    /// The `record`s of `table` in the scope, in keyset order, only those whose `column` is
    /// `filter` when given.
    async fn keyset_records(
        &self,
        scope: &AccountScope,
        table: &'static str,
        column: &'static str,
        filter: Option<String>,
        keyset: Keyset,
    ) -> Result<Vec<String>, ApiError> {
        let (a, r) = scope_keys(scope);
        self.run(move |c| {
            let (condition, order) = keyset_sql(&keyset, 5);
            let sql = format!(
                "SELECT record FROM {table} WHERE account = ?1 AND region = ?2
                 AND (?3 IS NULL OR {column} = ?3){condition}
                 ORDER BY creation_date {order}, id {order} LIMIT ?4"
            );
            let mut values: Vec<Box<dyn rusqlite::ToSql>> =
                vec![Box::new(a), Box::new(r), Box::new(filter), Box::new(i64::from(keyset.limit))];
            values.extend(keyset_params(&keyset));
            let mut stmt = c.prepare(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter().map(|v| v.as_ref())), |row| row.get::<_, String>(0))
                .map_err(db)?;
            rows.map(|row| row.map_err(db)).collect()
        })
        .await
    }
}

fn scope_keys(scope: &AccountScope) -> (String, String) {
    (scope.account().as_str().to_owned(), scope.region().as_str().to_owned())
}

fn load_ca(conn: &Connection, a: &str, r: &str, id: &str) -> Result<Option<CaCertificateDescription>, ApiError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT record FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
            params![a, r, id],
            |row| row.get(0),
        )
        .optional()
        .map_err(db)?;
    text.as_deref().map(ca_from_record).transpose()
}

fn load_certificate(
    conn: &Connection,
    a: &str,
    r: &str,
    id: &str,
) -> Result<Option<(CertificateDescription, String)>, ApiError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT record, tags FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
            params![a, r, id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(record, tags)| Ok((certificate_from_record(&record)?, tags))).transpose()
}

fn load_template(conn: &Connection, a: &str, r: &str, name: &str) -> Result<Option<TemplateFacts>, ApiError> {
    let row: Option<(String, bool)> = conn
        .query_row(
            "SELECT type, enabled FROM provisioning_templates WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![a, r, name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(kind, enabled)| {
        Ok(TemplateFacts::new(kind.parse::<TemplateType>().map_err(ApiError::internal)?).with_enabled(enabled))
    })
    .transpose()
}

fn record_text(d: &CaCertificateDescription) -> String {
    iot_ca::wire::ca_record_to_json(d).to_string()
}

fn write_ca(tx: &Transaction<'_>, a: &str, r: &str, d: &CaCertificateDescription) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE ca_certificates SET record = ?4, template_name = ?5 WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, d.certificate_id.as_str(), record_text(d), template_of(d)],
    )
    .map_err(db)?;
    Ok(())
}

/// The keyset condition and order for `keyset`, its parameters numbered from `first`.
fn keyset_sql(keyset: &Keyset, first: usize) -> (String, &'static str) {
    let (cmp, order) = match keyset.order {
        SortOrder::Ascending => (">", "ASC"),
        _ => ("<", "DESC"),
    };
    let condition = match keyset.after {
        Some(_) => format!(" AND (creation_date, id) {cmp} (?{first}, ?{})", first + 1),
        None => String::new(),
    };
    (condition, order)
}

fn keyset_params(keyset: &Keyset) -> Vec<Box<dyn rusqlite::ToSql>> {
    match &keyset.after {
        Some(k) => vec![Box::new(k.creation_date.as_secs()), Box::new(k.certificate_id.as_str().to_owned())],
        None => Vec::new(),
    }
}

impl Store for SqliteStore {
    fn marker_key(&self) -> &MarkerKey {
        &self.marker_key
    }

    async fn registration_code(&self, scope: &AccountScope) -> Result<Option<RegistrationCode>, ApiError> {
        let (a, r) = scope_keys(scope);
        let text: Option<String> = self
            .run(move |c| {
                c.query_row(
                    "SELECT code FROM registration_codes WHERE account = ?1 AND region = ?2",
                    params![a, r],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db)
            })
            .await?;
        text.map(|t| RegistrationCode::parse(&t).map_err(ApiError::internal)).transpose()
    }

    async fn registration_code_or_insert(
        &self,
        scope: &AccountScope,
        fresh: RegistrationCode,
    ) -> Result<RegistrationCode, ApiError> {
        let (a, r) = scope_keys(scope);
        let text: String = self
            .write(move |tx| {
                tx.execute(
                    "INSERT OR IGNORE INTO registration_codes (account, region, code) VALUES (?1, ?2, ?3)",
                    params![a, r, fresh.as_str()],
                )
                .map_err(db)?;
                tx.query_row(
                    "SELECT code FROM registration_codes WHERE account = ?1 AND region = ?2",
                    params![a, r],
                    |row| row.get(0),
                )
                .map_err(db)
            })
            .await?;
        RegistrationCode::parse(&text).map_err(ApiError::internal)
    }

    async fn delete_registration_code(&self, scope: &AccountScope) -> Result<bool, ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let n = tx
                .execute("DELETE FROM registration_codes WHERE account = ?1 AND region = ?2", params![a, r])
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn register_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        subject: Vec<u8>,
        template: Option<TemplateName>,
        decide: impl Decide<AccountFacts, Registration>,
    ) -> Result<Registration, ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let id = id.as_str();
            let held: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3)",
                    params![a, r, id],
                    |row| row.get(0),
                )
                .map_err(db)?;
            let same_subject: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM ca_certificates WHERE account = ?1 AND region = ?2 AND subject = ?3",
                    params![a, r, subject],
                    |row| row.get(0),
                )
                .map_err(db)?;
            let elsewhere: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM ca_certificates
                     WHERE region = ?1 AND id = ?2 AND mode = 'DEFAULT' AND account <> ?3)",
                    params![r, id, a],
                    |row| row.get(0),
                )
                .map_err(db)?;
            let mut facts = AccountFacts::new()
                .with_already_registered(held)
                .with_same_subject_count(usize::try_from(same_subject).unwrap_or(usize::MAX))
                .with_held_by_another_account_in_default_mode(elsewhere);
            if let Some(name) = &template
                && let Some(t) = load_template(tx, &a, &r, name.as_str())?
            {
                facts = facts.with_template(t);
            }
            let registration = decide(facts)?;
            let d = &registration.description;
            tx.execute(
                "INSERT INTO ca_certificates (account, region, id, subject, mode, creation_date, template_name, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    a,
                    r,
                    id,
                    subject,
                    d.certificate_mode.as_str(),
                    d.creation_date.as_secs(),
                    template_of(d),
                    record_text(d)
                ],
            )
            .map_err(db)?;
            Ok(registration)
        })
        .await
    }

    async fn ca(&self, scope: &AccountScope, id: &CertificateId) -> Result<Option<CaCertificateDescription>, ApiError> {
        let (a, r) = scope_keys(scope);
        let id = id.as_str().to_owned();
        self.run(move |c| load_ca(c, &a, &r, &id)).await
    }

    async fn update_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        template: Option<TemplateName>,
        decide: impl Decide<(Option<CaCertificateDescription>, Option<TemplateFacts>), CaCertificateUpdate>,
    ) -> Result<(), ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let stored = load_ca(tx, &a, &r, id.as_str())?;
            let facts = match &template {
                Some(name) => load_template(tx, &a, &r, name.as_str())?,
                None => None,
            };
            let update = decide((stored, facts))?;
            if update.changed {
                write_ca(tx, &a, &r, &update.description)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CaCertificateDescription>, ()>,
    ) -> Result<(), ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            decide(load_ca(tx, &a, &r, id.as_str())?)?;
            tx.execute(
                "DELETE FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
                params![a, r, id.as_str()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn list_cas(
        &self,
        scope: &AccountScope,
        template: Option<TemplateName>,
        keyset: Keyset,
    ) -> Result<Vec<CaCertificateDescription>, ApiError> {
        let filter = template.map(|t| t.as_str().to_owned());
        let rows = self.keyset_records(scope, "ca_certificates", "template_name", filter, keyset).await?;
        rows.iter().map(|text| ca_from_record(text)).collect()
    }

    async fn register_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        lookup: CaLookup,
        decide: impl Decide<(bool, Vec<CaCertificateDescription>), CertificateRegistration>,
    ) -> Result<CertificateRegistration, ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let held: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3)",
                    params![a, r, id.as_str()],
                    |row| row.get(0),
                )
                .map_err(db)?;
            let cas = match &lookup {
                CaLookup::None => Vec::new(),
                CaLookup::ById(ca) => load_ca(tx, &a, &r, ca.as_str())?.into_iter().collect(),
                CaLookup::ByIssuer(issuer) => {
                    let mut stmt = tx
                        .prepare("SELECT record FROM ca_certificates WHERE account = ?1 AND region = ?2 AND subject = ?3")
                        .map_err(db)?;
                    let rows = stmt.query_map(params![a, r, issuer], |row| row.get::<_, String>(0)).map_err(db)?;
                    rows.map(|row| ca_from_record(&row.map_err(db)?)).collect::<Result<Vec<_>, _>>()?
                }
            };
            let registration = decide((held, cas))?;
            let d = &registration.description;
            tx.execute(
                "INSERT INTO certificates (account, region, id, ca_id, creation_date, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    a,
                    r,
                    id.as_str(),
                    d.ca_certificate_id.as_ref().map(|c| c.as_str().to_owned()),
                    d.creation_date.as_secs(),
                    iot_ca::wire::certificate_record_to_json(d).to_string()
                ],
            )
            .map_err(db)?;
            Ok(registration)
        })
        .await
    }

    async fn certificate(
        &self,
        scope: &AccountScope,
        id: &CertificateId,
    ) -> Result<Option<CertificateDescription>, ApiError> {
        let (a, r) = scope_keys(scope);
        let id = id.as_str().to_owned();
        self.run(move |c| Ok(load_certificate(c, &a, &r, &id)?.map(|(d, _)| d))).await
    }

    async fn update_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateDescription>, CertificateUpdate>,
    ) -> Result<(), ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let stored = load_certificate(tx, &a, &r, id.as_str())?.map(|(d, _)| d);
            let update = decide(stored)?;
            if update.changed {
                tx.execute(
                    "UPDATE certificates SET record = ?4 WHERE account = ?1 AND region = ?2 AND id = ?3",
                    params![
                        a,
                        r,
                        id.as_str(),
                        iot_ca::wire::certificate_record_to_json(&update.description).to_string()
                    ],
                )
                .map_err(db)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateStatus>, ()>,
    ) -> Result<(), ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            decide(load_certificate(tx, &a, &r, id.as_str())?.map(|(d, _)| d.status))?;
            tx.execute(
                "DELETE FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
                params![a, r, id.as_str()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn list_certificates(
        &self,
        scope: &AccountScope,
        ca: Option<CertificateId>,
        keyset: Keyset,
    ) -> Result<Vec<CertificateDescription>, ApiError> {
        let filter = ca.map(|c| c.as_str().to_owned());
        let rows = self.keyset_records(scope, "certificates", "ca_id", filter, keyset).await?;
        rows.iter().map(|text| certificate_from_record(text)).collect()
    }

    async fn tags(&self, scope: &AccountScope, arn: &ResourceArn) -> Result<Option<Tags>, ApiError> {
        let (a, r) = scope_keys(scope);
        let arn = arn.clone();
        self.run(move |c| read_tags(c, &a, &r, &arn)).await
    }

    async fn update_tags(
        &self,
        scope: &AccountScope,
        arn: ResourceArn,
        decide: impl Decide<Option<Tags>, Tags>,
    ) -> Result<(), ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let id = arn.certificate_id().as_str();
            match arn.resource_type() {
                ResourceType::CaCertificate => {
                    let stored = load_ca(tx, &a, &r, id)?;
                    let tags = decide(stored.as_ref().map(|d| d.tags.clone()))?;
                    if let Some(mut d) = stored {
                        d.tags = tags;
                        write_ca(tx, &a, &r, &d)?;
                    }
                }
                _ => {
                    let stored = load_certificate(tx, &a, &r, id)?.map(|(_, t)| tags_from_text(&t)).transpose()?;
                    let tags = decide(stored)?;
                    tx.execute(
                        "UPDATE certificates SET tags = ?4 WHERE account = ?1 AND region = ?2 AND id = ?3",
                        params![a, r, id, tags_to_text(&tags)],
                    )
                    .map_err(db)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn template(&self, scope: &AccountScope, name: &TemplateName) -> Result<Option<TemplateFacts>, ApiError> {
        let (a, r) = scope_keys(scope);
        let name = name.as_str().to_owned();
        self.run(move |c| load_template(c, &a, &r, &name)).await
    }

    async fn create_template(&self, scope: &AccountScope, template: TemplateRecord) -> Result<bool, ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO provisioning_templates (account, region, name, type, enabled, document)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        a,
                        r,
                        template.name.as_str(),
                        template.facts.template_type().as_str(),
                        template.facts.enabled(),
                        template.document.to_string()
                    ],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_template(&self, scope: &AccountScope, name: &TemplateName) -> Result<bool, ApiError> {
        let (a, r) = scope_keys(scope);
        let name = name.as_str().to_owned();
        self.write(move |tx| {
            let n = tx
                .execute(
                    "DELETE FROM provisioning_templates WHERE account = ?1 AND region = ?2 AND name = ?3",
                    params![a, r, name],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn claim_issuer_or_insert(
        &self,
        scope: &AccountScope,
        fresh: ClaimIssuerRecord,
    ) -> Result<ClaimIssuerRecord, ApiError> {
        let (a, r) = scope_keys(scope);
        self.write(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO claim_issuers (account, region, certificate_pem, key_pem) VALUES (?1, ?2, ?3, ?4)",
                params![a, r, fresh.certificate_pem, fresh.key_pem],
            )
            .map_err(db)?;
            read_issuer(tx, &a, &r)?.ok_or_else(|| ApiError::internal("the claim issuer vanished"))
        })
        .await
    }

    async fn claim_issuer(&self, scope: &AccountScope) -> Result<Option<ClaimIssuerRecord>, ApiError> {
        let (a, r) = scope_keys(scope);
        self.run(move |c| read_issuer(c, &a, &r)).await
    }
}

fn read_issuer(c: &Connection, a: &str, r: &str) -> Result<Option<ClaimIssuerRecord>, ApiError> {
    c.query_row(
        "SELECT certificate_pem, key_pem FROM claim_issuers WHERE account = ?1 AND region = ?2",
        params![a, r],
        |row| Ok(ClaimIssuerRecord { certificate_pem: row.get(0)?, key_pem: row.get(1)? }),
    )
    .optional()
    .map_err(db)
}

fn read_tags(c: &Connection, a: &str, r: &str, arn: &ResourceArn) -> Result<Option<Tags>, ApiError> {
    let id = arn.certificate_id().as_str();
    match arn.resource_type() {
        ResourceType::CaCertificate => Ok(load_ca(c, a, r, id)?.map(|d| d.tags)),
        _ => load_certificate(c, a, r, id)?.map(|(_, t)| tags_from_text(&t)).transpose(),
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
                    .write(move |tx| {
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
                        .write(move |tx| {
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
            .write(|tx| tx.execute("INSERT INTO meta (key, value) VALUES ('w-after', x'00')", []).map_err(db))
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
        let mut conn = open(&path).unwrap();
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
}
