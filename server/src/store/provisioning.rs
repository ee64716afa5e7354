//! The store's operations on provisioning templates and their versions, and the one place a
//! provisioning plan is applied: every write of a [`Plan`](iot_ca::Plan) in the transaction the caller runs
//! it in, so RegisterThing, JITP and fleet provisioning create all of what a template says or
//! nothing. Written once over a [`Tx`] as `ops.rs` is.

use iot_ca::wire::{self};
use iot_ca::{
    AccountId, AccountScope, BoundTemplate, CertificateDescription, PlanFacts, PlanWrite, PolicyName, Region,
    TemplateDescription, TemplateFacts, TemplateName, TemplateVersion, ThingGroupName,
};

use super::sql::{Tx, params};
use super::{Keyset, things};
use crate::error::ApiError;

fn keys(scope: &AccountScope) -> (&str, &str) {
    (scope.account().as_str(), scope.region().as_str())
}

fn lock_template(tx: &mut dyn Tx, scope: &AccountScope, name: &TemplateName) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.lock(&format!("template/{a}/{r}/{name}"))
}

fn record(text: &str) -> Result<TemplateDescription, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    wire::template_record_from_json(&value).map_err(ApiError::internal)
}

/// The scope's template `name`.
pub fn template(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
) -> Result<Option<TemplateDescription>, ApiError> {
    let (a, r) = keys(scope);
    let row = tx.query_opt(
        "SELECT record FROM templates WHERE account = ?1 AND region = ?2 AND name = ?3",
        params![a, r, name.as_str()],
    )?;
    row.map(|row| record(&row.text(0)?)).transpose()
}

/// The facts a claim or a CA's registrationConfig is decided on: the template's type and
/// whether it is enabled.
pub fn template_facts(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
) -> Result<Option<TemplateFacts>, ApiError> {
    Ok(template(tx, scope, name)?.map(|t| t.facts()))
}

/// The template's versions, in id order.
pub fn versions(tx: &mut dyn Tx, scope: &AccountScope, name: &TemplateName) -> Result<Vec<TemplateVersion>, ApiError> {
    let (a, r) = keys(scope);
    let rows = tx.query(
        "SELECT version_id, body, creation_date FROM template_versions
         WHERE account = ?1 AND region = ?2 AND name = ?3 ORDER BY version_id ASC",
        params![a, r, name.as_str()],
    )?;
    rows.iter()
        .map(|row| {
            let id = u32::try_from(row.int(0)?).map_err(ApiError::internal)?;
            Ok(TemplateVersion::new(id, row.text(1)?, iot_ca::UnixTime::from_secs(row.int(2)?)))
        })
        .collect()
}

/// The template and its default version's body.
pub fn template_with_body(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
) -> Result<Option<(TemplateDescription, String)>, ApiError> {
    let Some(t) = template(tx, scope, name)? else { return Ok(None) };
    let body = versions(tx, scope, name)?
        .into_iter()
        .find(|v| v.version_id == t.default_version_id)
        .map(|v| v.template_body)
        .ok_or_else(|| ApiError::internal(format_args!("template {name} has no default version")))?;
    Ok(Some((t, body)))
}

fn write_template(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    t: &TemplateDescription,
    insert: bool,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    let text = wire::template_record_to_json(t).to_string();
    let sql = if insert {
        "INSERT INTO templates (account, region, name, record) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "UPDATE templates SET record = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3"
    };
    tx.execute(sql, params![a, r, t.template_name.as_str(), text])?;
    Ok(())
}

fn insert_version(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    v: &TemplateVersion,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "INSERT INTO template_versions (account, region, name, version_id, body, creation_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![a, r, name.as_str(), i64::from(v.version_id), v.template_body.as_str(), v.creation_date.as_secs()],
    )?;
    Ok(())
}

/// CreateProvisioningTemplate: `decide` sees the template by that name; the new one is stored
/// with its version 1.
pub fn create_template(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    decide: impl FnOnce(Option<TemplateDescription>) -> Result<(TemplateDescription, TemplateVersion), ApiError>,
) -> Result<TemplateDescription, ApiError> {
    lock_template(tx, scope, name)?;
    let (t, v) = decide(template(tx, scope, name)?)?;
    write_template(tx, scope, &t, true)?;
    insert_version(tx, scope, name, &v)?;
    Ok(t)
}

fn version_ids(tx: &mut dyn Tx, scope: &AccountScope, name: &TemplateName) -> Result<Vec<u32>, ApiError> {
    Ok(versions(tx, scope, name)?.iter().map(|v| v.version_id).collect())
}

/// UpdateProvisioningTemplate: `decide` sees the template and its version ids.
pub fn update_template(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    decide: impl FnOnce(Option<TemplateDescription>, Vec<u32>) -> Result<TemplateDescription, ApiError>,
) -> Result<(), ApiError> {
    lock_template(tx, scope, name)?;
    let stored = template(tx, scope, name)?;
    let ids = version_ids(tx, scope, name)?;
    let t = decide(stored, ids)?;
    write_template(tx, scope, &t, false)
}

/// DeleteProvisioningTemplate: `decide` sees the template and how many CAs name it; on `Ok`
/// it goes with its versions.
pub fn delete_template(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    decide: impl FnOnce(Option<&TemplateDescription>, usize) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_template(tx, scope, name)?;
    let stored = template(tx, scope, name)?;
    let cas = tx
        .query_one(
            "SELECT COUNT(*) FROM ca_certificates WHERE account = ?1 AND region = ?2 AND template_name = ?3",
            params![a, r, name.as_str()],
        )?
        .int(0)?;
    decide(stored.as_ref(), usize::try_from(cas).unwrap_or(usize::MAX))?;
    tx.execute("DELETE FROM templates WHERE account = ?1 AND region = ?2 AND name = ?3", params![a, r, name.as_str()])?;
    tx.execute(
        "DELETE FROM template_versions WHERE account = ?1 AND region = ?2 AND name = ?3",
        params![a, r, name.as_str()],
    )?;
    Ok(())
}

/// CreateProvisioningTemplateVersion: `decide` sees the template and its version ids; the new
/// version is stored, and the template when it became its default.
pub fn create_version(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    decide: impl FnOnce(Option<TemplateDescription>, Vec<u32>) -> Result<(TemplateVersion, TemplateDescription), ApiError>,
) -> Result<(TemplateVersion, TemplateDescription), ApiError> {
    lock_template(tx, scope, name)?;
    let stored = template(tx, scope, name)?;
    let ids = version_ids(tx, scope, name)?;
    let (v, t) = decide(stored, ids)?;
    insert_version(tx, scope, name, &v)?;
    write_template(tx, scope, &t, false)?;
    Ok((v, t))
}

/// DeleteProvisioningTemplateVersion: `decide` sees the template and its version ids.
pub fn delete_version(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &TemplateName,
    version: u32,
    decide: impl FnOnce(Option<&TemplateDescription>, &[u32]) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_template(tx, scope, name)?;
    let stored = template(tx, scope, name)?;
    let ids = version_ids(tx, scope, name)?;
    decide(stored.as_ref(), &ids)?;
    tx.execute(
        "DELETE FROM template_versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version_id = ?4",
        params![a, r, name.as_str(), i64::from(version)],
    )?;
    Ok(())
}

/// The scope's templates after the keyset's name, in name order.
pub fn list_templates(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    keyset: &Keyset<String>,
) -> Result<Vec<TemplateDescription>, ApiError> {
    let (a, r) = keys(scope);
    let rows = match &keyset.after {
        Some(after) => tx.query(
            "SELECT record FROM templates WHERE account = ?1 AND region = ?2 AND name > ?4 ORDER BY name ASC LIMIT ?3",
            params![a, r, i64::from(keyset.limit), after.as_str()],
        )?,
        None => tx.query(
            "SELECT record FROM templates WHERE account = ?1 AND region = ?2 ORDER BY name ASC LIMIT ?3",
            params![a, r, i64::from(keyset.limit)],
        )?,
    };
    rows.iter().map(|row| record(&row.text(0)?)).collect()
}

/// Copies the templates an older server kept (`provisioning_templates`, each the
/// CreateProvisioningTemplate request as given) into `templates` and `template_versions`, once:
/// a store opened by this server keeps every template it held.
pub fn migrate_templates(tx: &mut dyn Tx) -> Result<usize, ApiError> {
    let rows = tx.query(
        "SELECT account, region, name, document FROM provisioning_templates p WHERE NOT EXISTS
         (SELECT 1 FROM templates t WHERE t.account = p.account AND t.region = p.region AND t.name = p.name)",
        &[],
    )?;
    for row in &rows {
        let (account, region, name, document) = (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
        let scope = AccountScope::new(
            AccountId::parse(&account).map_err(ApiError::internal)?,
            Region::parse(&region).map_err(ApiError::internal)?,
        );
        let mut value: serde_json::Value = serde_json::from_str(&document).map_err(ApiError::internal)?;
        let name = TemplateName::parse(&name).map_err(ApiError::internal)?;
        let body = value.get("templateBody").and_then(serde_json::Value::as_str).unwrap_or("{}").to_owned();
        if let Some(o) = value.as_object_mut() {
            o.insert("templateArn".into(), scope.template_arn(&name).into());
            o.insert("defaultVersionId".into(), 1.into());
            o.entry("type").or_insert("FLEET_PROVISIONING".into());
            o.entry("enabled").or_insert(false.into());
            o.remove("templateBody");
        }
        let t = wire::template_record_from_json(&value).map_err(ApiError::internal)?;
        write_template(tx, &scope, &t, true)?;
        insert_version(tx, &scope, &name, &TemplateVersion::new(1, body, t.creation_date))?;
    }
    Ok(rows.len())
}

/// The facts a bound template is planned on: the thing, its groups, its type and the groups and
/// policies it names, and `certificate` (the one it names: stored, or just registered or issued
/// when `is_new`).
pub fn plan_facts(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    bound: &BoundTemplate,
    certificate: Option<CertificateDescription>,
    is_new: bool,
) -> Result<PlanFacts, ApiError> {
    // What the plan decides about is locked before its facts are read, in the order every
    // writer takes them (certificate, thing, policies by name), so two provisionings of one
    // thing or policy on two PostgreSQL connections decide one after the other instead of both
    // creating it (SQLite's single writer holds them already).
    if let Some(c) = &certificate {
        super::ops::lock_certificate(tx, scope, c.certificate_id.as_str())?;
    }
    if let Some(t) = &bound.thing {
        things::lock_thing(tx, scope, &t.thing_name)?;
    }
    let mut policies: Vec<&PolicyName> = bound.policies.iter().map(|p| &p.policy_name).collect();
    policies.sort();
    policies.dedup();
    for name in policies {
        things::lock_policy(tx, scope, name)?;
    }
    let (a, r) = keys(scope);
    let mut facts = PlanFacts::new();
    if let Some(t) = &bound.thing {
        facts.thing = things::thing(tx, scope, &t.thing_name)?;
        facts.thing_groups = tx
            .query(
                "SELECT group_name FROM thing_group_members WHERE account = ?1 AND region = ?2 AND thing_name = ?3
                 ORDER BY group_name",
                params![a, r, t.thing_name.as_str()],
            )?
            .iter()
            .map(|row| ThingGroupName::parse(&row.text(0)?).map_err(ApiError::internal))
            .collect::<Result<_, _>>()?;
        if let Some(kind) = &t.thing_type_name {
            facts.thing_type_exists = things::thing_type(tx, scope, kind)?.is_some();
        }
        for group in t.thing_groups.iter().flatten() {
            if things::thing_group(tx, scope, group)?.is_some() {
                facts.groups_existing.push(group.clone());
            }
        }
    }
    for p in &bound.policies {
        if things::policy(tx, scope, &p.policy_name)?.is_some() {
            facts.policies_existing.push(p.policy_name.clone());
        }
    }
    facts.certificate = certificate;
    facts.certificate_is_new = is_new;
    Ok(facts)
}

/// Applies `writes` in order. `new_certificate` is a certificate the provisioning itself made
/// (JITP's registration, RegisterThing's CSR or PEM, fleet provisioning's is stored already):
/// it is inserted here, with its final status, in the same transaction.
pub fn apply(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    writes: &[PlanWrite],
    new_certificate: Option<&CertificateDescription>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    let mut inserted = None;
    if let Some(d) = new_certificate {
        let last = writes.iter().rev().find_map(|w| match w {
            PlanWrite::UpdateCertificate(u) if u.certificate_id == d.certificate_id => Some(u),
            _ => None,
        });
        super::ops::insert_certificate(tx, scope, last.unwrap_or(d))?;
        inserted = Some(d.certificate_id.clone());
    }
    for write in writes {
        match write {
            PlanWrite::CreateThing(thing) => {
                tx.execute(
                    "INSERT INTO things (account, region, name, record) VALUES (?1, ?2, ?3, ?4)",
                    params![a, r, thing.thing_name.as_str(), wire::thing_to_json(thing).to_string()],
                )?;
            }
            PlanWrite::UpdateThing(thing) => things::write_thing(tx, scope, thing)?,
            PlanWrite::AddThingToGroup { thing, group } => {
                tx.execute(
                    "INSERT INTO thing_group_members (account, region, group_name, thing_name) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    params![a, r, group.as_str(), thing.as_str()],
                )?;
            }
            PlanWrite::RemoveThingFromGroup { thing, group } => {
                tx.execute(
                    "DELETE FROM thing_group_members WHERE account = ?1 AND region = ?2 AND group_name = ?3 AND thing_name = ?4",
                    params![a, r, group.as_str(), thing.as_str()],
                )?;
            }
            PlanWrite::CreatePolicy(policy) => {
                let text = wire::policy_to_json(policy, wire::TimeFormat::EpochSeconds).to_string();
                tx.execute(
                    "INSERT INTO policies (account, region, name, record) VALUES (?1, ?2, ?3, ?4)",
                    params![a, r, policy.policy_name.as_str(), text],
                )?;
            }
            PlanWrite::AttachPolicy { policy, target } => {
                tx.execute(
                    "INSERT INTO policy_targets (account, region, policy_name, target) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    params![a, r, policy.as_str(), target.as_str()],
                )?;
            }
            PlanWrite::AttachThingPrincipal { thing, principal } => {
                tx.execute(
                    "INSERT INTO thing_principals (account, region, thing_name, principal) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    params![a, r, thing.as_str(), principal.as_str()],
                )?;
            }
            PlanWrite::UpdateCertificate(d) => {
                if inserted.as_ref() != Some(&d.certificate_id) {
                    super::ops::write_certificate(tx, scope, d)?;
                }
            }
            other => {
                return Err(ApiError::internal(format_args!("a plan write this server does not apply: {other:?}")));
            }
        }
    }
    Ok(())
}

/// Just-in-time provisioning, in the caller's one transaction: registers `record` (the
/// library's decision) and applies the plan of its bound `template` against what the account
/// holds, so the device comes out with the template's thing, groups, policies and attachments,
/// its certificate in the template's status, or nothing at all.
///
/// # Errors
/// What the plan refuses (a missing thing type, group or policy, an override FAIL), or the
/// store's.
pub fn provision_jitp(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    record: &CertificateDescription,
    template: &BoundTemplate,
    now: iot_ca::UnixTime,
) -> Result<iot_ca::Plan, ApiError> {
    let facts = plan_facts(tx, scope, template, Some(record.clone()), true)?;
    let plan = iot_ca::plan(template, &facts, scope, &mut rand::rng(), now)?;
    apply(tx, scope, &plan.writes, Some(record))?;
    Ok(plan)
}
