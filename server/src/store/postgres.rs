//! The PostgreSQL store: several server processes share one registry. A transaction that
//! decides on facts first takes transaction-scoped advisory locks on what it decides about
//! (`pg_advisory_xact_lock`: the (account, region, subject) of a CA, the (region, id) of its
//! DEFAULT-mode claim, the (account, region, id) of a device certificate), so the facts it reads
//! cannot change before it commits, in this process or any other. The unique keys (primary
//! keys, and the partial unique index on (region, id) WHERE mode = 'DEFAULT') hold regardless;
//! a violation (23505) answers ResourceAlreadyExistsException.

use std::sync::{Arc, Mutex};

use iot_ca::{
    AccountFacts, AccountScope, CaCertificateDescription, CaCertificateUpdate, CertificateDescription, CertificateId,
    CertificateRegistration, CertificateStatus, CertificateUpdate, MarkerKey, Registration, RegistrationCode,
    ResourceArn, ResourceType, SortOrder, Tags, TemplateFacts, TemplateName, TemplateType,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls};

use super::{
    CaLookup, ClaimIssuerRecord, Decide, Keyset, SCHEMA_VERSION, Store, TemplateRecord, ca_from_record,
    certificate_from_record, tags_from_text, tags_to_text, template_of,
};
use crate::error::ApiError;

/// Connections kept for reuse.
const POOL_SIZE: usize = 16;

/// The PostgreSQL store.
pub struct PostgresStore {
    url: String,
    /// Idle connections (a pool, not a lock on any rule).
    pool: Arc<Mutex<Vec<Client>>>,
    marker_key: MarkerKey,
}

fn db(e: tokio_postgres::Error) -> ApiError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        return ApiError::new(409, "ResourceAlreadyExistsException", "The resource already exists.");
    }
    ApiError::internal(format_args!("postgres: {e}"))
}

async fn connect(url: &str) -> Result<Client, ApiError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(db)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

/// A connection from the pool, given back when dropped.
struct Pooled {
    client: Option<Client>,
    pool: Arc<Mutex<Vec<Client>>>,
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let (Some(client), Ok(mut idle)) = (self.client.take(), self.pool.lock())
            && !client.is_closed()
            && idle.len() < POOL_SIZE
        {
            idle.push(client);
        }
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and creates the schema when absent.
    ///
    /// # Errors
    /// The database cannot be reached, or holds a schema newer than this server's.
    pub async fn open(url: &str) -> Result<Self, ApiError> {
        let mut client = connect(url).await?;
        let tx = client.transaction().await.map_err(db)?;
        // One process creates the schema at a time.
        tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('iot-ca-server schema', 0))", &[])
            .await
            .map_err(db)?;
        tx.batch_execute(&super::schema("BYTEA", "BIGINT", "BOOLEAN")).await.map_err(db)?;
        let version = tx
            .query_opt("SELECT convert_from(value, 'UTF8') FROM meta WHERE key = 'schema_version'", &[])
            .await
            .map_err(db)?
            .map(|row| row.get::<_, String>(0));
        match version.as_deref().map(str::parse::<i64>) {
            None => {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', $1)",
                    &[&SCHEMA_VERSION.to_string().into_bytes()],
                )
                .await
                .map_err(db)?;
            }
            Some(Ok(v)) if v <= SCHEMA_VERSION => {}
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
        .await
        .map_err(db)?;
        let stored: Vec<u8> =
            tx.query_one("SELECT value FROM meta WHERE key = 'marker_key'", &[]).await.map_err(db)?.get(0);
        tx.commit().await.map_err(db)?;
        let key: [u8; 32] =
            stored.try_into().map_err(|_| ApiError::internal("the stored marker key is not 32 bytes"))?;
        Ok(Self { url: url.to_owned(), pool: Arc::new(Mutex::new(vec![client])), marker_key: MarkerKey::new(key) })
    }

    async fn client(&self) -> Result<Pooled, ApiError> {
        let idle = self.pool.lock().map_err(|_| ApiError::internal("postgres pool poisoned"))?.pop();
        let client = match idle {
            Some(c) => c,
            None => connect(&self.url).await?,
        };
        Ok(Pooled { client: Some(client), pool: Arc::clone(&self.pool) })
    }
}

impl PostgresStore {
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
        let (a, r) = keys(scope);
        let (condition, order) = keyset_sql(&keyset, 5);
        let sql = format!(
            "SELECT record FROM {table} WHERE account = $1 AND region = $2
             AND ($3::TEXT IS NULL OR {column} = $3){condition}
             ORDER BY creation_date {order}, id {order} LIMIT $4"
        );
        let mut values: Vec<Param> =
            vec![Box::new(a), Box::new(r), Box::new(filter), Box::new(i64::from(keyset.limit))];
        values.extend(keyset_params(&keyset));
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
        let mut c = self.client().await?;
        let rows = c.get()?.query(&sql, &params).await.map_err(db)?;
        Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
    }
}

impl Pooled {
    fn get(&mut self) -> Result<&mut Client, ApiError> {
        self.client.as_mut().ok_or_else(|| ApiError::internal("postgres connection taken"))
    }
}

fn keys(scope: &AccountScope) -> (String, String) {
    (scope.account().as_str().to_owned(), scope.region().as_str().to_owned())
}

/// Takes the transaction-scoped advisory lock named `name`.
async fn lock(tx: &impl GenericClient, name: &str) -> Result<(), ApiError> {
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&name]).await.map_err(db)?;
    Ok(())
}

/// Runs `decide` off the async workers (it may verify signatures).
async fn decided<In: Send + 'static, Out: Send + 'static>(
    decide: impl Decide<In, Out>,
    input: In,
) -> Result<Out, ApiError> {
    tokio::task::spawn_blocking(move || decide(input)).await.map_err(ApiError::internal)?
}

async fn load_ca(
    c: &impl GenericClient,
    a: &str,
    r: &str,
    id: &str,
    for_update: bool,
) -> Result<Option<CaCertificateDescription>, ApiError> {
    let sql = if for_update {
        "SELECT record FROM ca_certificates WHERE account = $1 AND region = $2 AND id = $3 FOR UPDATE"
    } else {
        "SELECT record FROM ca_certificates WHERE account = $1 AND region = $2 AND id = $3"
    };
    let row = c.query_opt(sql, &[&a, &r, &id]).await.map_err(db)?;
    row.map(|row| ca_from_record(&row.get::<_, String>(0))).transpose()
}

async fn load_certificate(
    c: &impl GenericClient,
    a: &str,
    r: &str,
    id: &str,
    for_update: bool,
) -> Result<Option<(CertificateDescription, String)>, ApiError> {
    let sql = if for_update {
        "SELECT record, tags FROM certificates WHERE account = $1 AND region = $2 AND id = $3 FOR UPDATE"
    } else {
        "SELECT record, tags FROM certificates WHERE account = $1 AND region = $2 AND id = $3"
    };
    let row = c.query_opt(sql, &[&a, &r, &id]).await.map_err(db)?;
    row.map(|row| Ok((certificate_from_record(&row.get::<_, String>(0))?, row.get::<_, String>(1)))).transpose()
}

async fn load_template(
    c: &impl GenericClient,
    a: &str,
    r: &str,
    name: &str,
) -> Result<Option<TemplateFacts>, ApiError> {
    let row = c
        .query_opt(
            "SELECT type, enabled FROM provisioning_templates WHERE account = $1 AND region = $2 AND name = $3",
            &[&a, &r, &name],
        )
        .await
        .map_err(db)?;
    row.map(|row| {
        let kind: String = row.get(0);
        Ok(TemplateFacts::new(kind.parse::<TemplateType>().map_err(ApiError::internal)?).with_enabled(row.get(1)))
    })
    .transpose()
}

async fn write_ca(c: &impl GenericClient, a: &str, r: &str, d: &CaCertificateDescription) -> Result<(), ApiError> {
    let record = iot_ca::wire::ca_record_to_json(d).to_string();
    c.execute(
        "UPDATE ca_certificates SET record = $4, template_name = $5 WHERE account = $1 AND region = $2 AND id = $3",
        &[&a, &r, &d.certificate_id.as_str(), &record, &template_of(d)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

fn keyset_sql(keyset: &Keyset, first: usize) -> (String, &'static str) {
    let (cmp, order) = match keyset.order {
        SortOrder::Ascending => (">", "ASC"),
        _ => ("<", "DESC"),
    };
    let condition = match keyset.after {
        Some(_) => format!(" AND (creation_date, id) {cmp} (${first}, ${})", first + 1),
        None => String::new(),
    };
    (condition, order)
}

type Param = Box<dyn ToSql + Sync + Send>;

fn keyset_params(keyset: &Keyset) -> Vec<Param> {
    match &keyset.after {
        Some(k) => vec![Box::new(k.creation_date.as_secs()), Box::new(k.certificate_id.as_str().to_owned())],
        None => Vec::new(),
    }
}

impl Store for PostgresStore {
    fn marker_key(&self) -> &MarkerKey {
        &self.marker_key
    }

    async fn registration_code(&self, scope: &AccountScope) -> Result<Option<RegistrationCode>, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let row = c
            .get()?
            .query_opt("SELECT code FROM registration_codes WHERE account = $1 AND region = $2", &[&a, &r])
            .await
            .map_err(db)?;
        row.map(|row| RegistrationCode::parse(&row.get::<_, String>(0)).map_err(ApiError::internal)).transpose()
    }

    async fn registration_code_or_insert(
        &self,
        scope: &AccountScope,
        fresh: RegistrationCode,
    ) -> Result<RegistrationCode, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let c = c.get()?;
        c.execute(
            "INSERT INTO registration_codes (account, region, code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&a, &r, &fresh.as_str()],
        )
        .await
        .map_err(db)?;
        let row = c
            .query_one("SELECT code FROM registration_codes WHERE account = $1 AND region = $2", &[&a, &r])
            .await
            .map_err(db)?;
        RegistrationCode::parse(&row.get::<_, String>(0)).map_err(ApiError::internal)
    }

    async fn delete_registration_code(&self, scope: &AccountScope) -> Result<bool, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let n = c
            .get()?
            .execute("DELETE FROM registration_codes WHERE account = $1 AND region = $2", &[&a, &r])
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn register_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        subject: Vec<u8>,
        template: Option<TemplateName>,
        decide: impl Decide<AccountFacts, Registration>,
    ) -> Result<Registration, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        let subject_hex = crate::sigv4::hex(&subject);
        // Subject first, then the DEFAULT-mode claim: every transaction locks in this order.
        lock(&tx, &format!("subject/{a}/{r}/{subject_hex}")).await?;
        lock(&tx, &format!("default/{r}/{}", id.as_str())).await?;
        let id_text = id.as_str();
        let held: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM ca_certificates WHERE account = $1 AND region = $2 AND id = $3)",
                &[&a, &r, &id_text],
            )
            .await
            .map_err(db)?
            .get(0);
        let same_subject: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM ca_certificates WHERE account = $1 AND region = $2 AND subject = $3",
                &[&a, &r, &subject],
            )
            .await
            .map_err(db)?
            .get(0);
        let elsewhere: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM ca_certificates
                 WHERE region = $1 AND id = $2 AND mode = 'DEFAULT' AND account <> $3)",
                &[&r, &id_text, &a],
            )
            .await
            .map_err(db)?
            .get(0);
        let mut facts = AccountFacts::new()
            .with_already_registered(held)
            .with_same_subject_count(usize::try_from(same_subject).unwrap_or(usize::MAX))
            .with_held_by_another_account_in_default_mode(elsewhere);
        if let Some(name) = &template
            && let Some(t) = load_template(&tx, &a, &r, name.as_str()).await?
        {
            facts = facts.with_template(t);
        }
        let registration = decided(decide, facts).await?;
        let d = &registration.description;
        tx.execute(
            "INSERT INTO ca_certificates (account, region, id, subject, mode, creation_date, template_name, record)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &a,
                &r,
                &id_text,
                &subject,
                &d.certificate_mode.as_str(),
                &d.creation_date.as_secs(),
                &template_of(d),
                &iot_ca::wire::ca_record_to_json(d).to_string(),
            ],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(registration)
    }

    async fn ca(&self, scope: &AccountScope, id: &CertificateId) -> Result<Option<CaCertificateDescription>, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        load_ca(c.get()?, &a, &r, id.as_str(), false).await
    }

    async fn update_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        template: Option<TemplateName>,
        decide: impl Decide<(Option<CaCertificateDescription>, Option<TemplateFacts>), CaCertificateUpdate>,
    ) -> Result<(), ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        let stored = load_ca(&tx, &a, &r, id.as_str(), true).await?;
        let facts = match &template {
            Some(name) => load_template(&tx, &a, &r, name.as_str()).await?,
            None => None,
        };
        let update = decided(decide, (stored, facts)).await?;
        if update.changed {
            write_ca(&tx, &a, &r, &update.description).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn delete_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CaCertificateDescription>, ()>,
    ) -> Result<(), ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        decided(decide, load_ca(&tx, &a, &r, id.as_str(), true).await?).await?;
        tx.execute(
            "DELETE FROM ca_certificates WHERE account = $1 AND region = $2 AND id = $3",
            &[&a, &r, &id.as_str()],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
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
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        lock(&tx, &format!("certificate/{a}/{r}/{}", id.as_str())).await?;
        let held: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM certificates WHERE account = $1 AND region = $2 AND id = $3)",
                &[&a, &r, &id.as_str()],
            )
            .await
            .map_err(db)?
            .get(0);
        let cas = match &lookup {
            CaLookup::None => Vec::new(),
            CaLookup::ById(ca) => load_ca(&tx, &a, &r, ca.as_str(), false).await?.into_iter().collect(),
            CaLookup::ByIssuer(issuer) => {
                let rows = tx
                    .query(
                        "SELECT record FROM ca_certificates WHERE account = $1 AND region = $2 AND subject = $3",
                        &[&a, &r, issuer],
                    )
                    .await
                    .map_err(db)?;
                rows.iter().map(|row| ca_from_record(&row.get::<_, String>(0))).collect::<Result<Vec<_>, _>>()?
            }
        };
        let registration = decided(decide, (held, cas)).await?;
        let d = &registration.description;
        tx.execute(
            "INSERT INTO certificates (account, region, id, ca_id, creation_date, record) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &a,
                &r,
                &id.as_str(),
                &d.ca_certificate_id.as_ref().map(|c| c.as_str().to_owned()),
                &d.creation_date.as_secs(),
                &iot_ca::wire::certificate_record_to_json(d).to_string(),
            ],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(registration)
    }

    async fn certificate(
        &self,
        scope: &AccountScope,
        id: &CertificateId,
    ) -> Result<Option<CertificateDescription>, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        Ok(load_certificate(c.get()?, &a, &r, id.as_str(), false).await?.map(|(d, _)| d))
    }

    async fn update_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateDescription>, CertificateUpdate>,
    ) -> Result<(), ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        let stored = load_certificate(&tx, &a, &r, id.as_str(), true).await?.map(|(d, _)| d);
        let update = decided(decide, stored).await?;
        if update.changed {
            let record = iot_ca::wire::certificate_record_to_json(&update.description).to_string();
            tx.execute(
                "UPDATE certificates SET record = $4 WHERE account = $1 AND region = $2 AND id = $3",
                &[&a, &r, &id.as_str(), &record],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn delete_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateStatus>, ()>,
    ) -> Result<(), ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        let status = load_certificate(&tx, &a, &r, id.as_str(), true).await?.map(|(d, _)| d.status);
        decided(decide, status).await?;
        tx.execute("DELETE FROM certificates WHERE account = $1 AND region = $2 AND id = $3", &[&a, &r, &id.as_str()])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
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
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let c = c.get()?;
        let id = arn.certificate_id().as_str();
        match arn.resource_type() {
            ResourceType::CaCertificate => Ok(load_ca(c, &a, &r, id, false).await?.map(|d| d.tags)),
            _ => load_certificate(c, &a, &r, id, false).await?.map(|(_, t)| tags_from_text(&t)).transpose(),
        }
    }

    async fn update_tags(
        &self,
        scope: &AccountScope,
        arn: ResourceArn,
        decide: impl Decide<Option<Tags>, Tags>,
    ) -> Result<(), ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let tx = c.get()?.transaction().await.map_err(db)?;
        let id = arn.certificate_id().as_str();
        match arn.resource_type() {
            ResourceType::CaCertificate => {
                let stored = load_ca(&tx, &a, &r, id, true).await?;
                let tags = decided(decide, stored.as_ref().map(|d| d.tags.clone())).await?;
                if let Some(mut d) = stored {
                    d.tags = tags;
                    write_ca(&tx, &a, &r, &d).await?;
                }
            }
            _ => {
                let stored =
                    load_certificate(&tx, &a, &r, id, true).await?.map(|(_, t)| tags_from_text(&t)).transpose()?;
                let tags = decided(decide, stored).await?;
                tx.execute(
                    "UPDATE certificates SET tags = $4 WHERE account = $1 AND region = $2 AND id = $3",
                    &[&a, &r, &id, &tags_to_text(&tags)],
                )
                .await
                .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)
    }

    async fn template(&self, scope: &AccountScope, name: &TemplateName) -> Result<Option<TemplateFacts>, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        load_template(c.get()?, &a, &r, name.as_str()).await
    }

    async fn create_template(&self, scope: &AccountScope, template: TemplateRecord) -> Result<bool, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let n = c
            .get()?
            .execute(
                "INSERT INTO provisioning_templates (account, region, name, type, enabled, document)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &a,
                    &r,
                    &template.name.as_str(),
                    &template.facts.template_type().as_str(),
                    &template.facts.enabled(),
                    &template.document.to_string(),
                ],
            )
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn delete_template(&self, scope: &AccountScope, name: &TemplateName) -> Result<bool, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let n = c
            .get()?
            .execute(
                "DELETE FROM provisioning_templates WHERE account = $1 AND region = $2 AND name = $3",
                &[&a, &r, &name.as_str()],
            )
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn claim_issuer_or_insert(
        &self,
        scope: &AccountScope,
        fresh: ClaimIssuerRecord,
    ) -> Result<ClaimIssuerRecord, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        let c = c.get()?;
        c.execute(
            "INSERT INTO claim_issuers (account, region, certificate_pem, key_pem) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&a, &r, &fresh.certificate_pem, &fresh.key_pem],
        )
        .await
        .map_err(db)?;
        read_issuer(c, &a, &r).await?.ok_or_else(|| ApiError::internal("the claim issuer vanished"))
    }

    async fn claim_issuer(&self, scope: &AccountScope) -> Result<Option<ClaimIssuerRecord>, ApiError> {
        let (a, r) = keys(scope);
        let mut c = self.client().await?;
        read_issuer(c.get()?, &a, &r).await
    }
}

async fn read_issuer(c: &impl GenericClient, a: &str, r: &str) -> Result<Option<ClaimIssuerRecord>, ApiError> {
    let row = c
        .query_opt("SELECT certificate_pem, key_pem FROM claim_issuers WHERE account = $1 AND region = $2", &[&a, &r])
        .await
        .map_err(db)?;
    Ok(row.map(|row| ClaimIssuerRecord { certificate_pem: row.get(0), key_pem: row.get(1) }))
}
