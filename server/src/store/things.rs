//! The store's operations on things, thing types and groups, policies and their attachments,
//! written once over a [`Tx`] as `ops.rs` is. Every write that checks an attachment's two ends
//! takes their locks first, always in the order certificate, thing, policy, so that an
//! attachment and a delete of either end never both commit: no attachment outlives what it
//! attaches, in one process or several sharing PostgreSQL.

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountScope, AttachPolicyFacts, PolicyDescription, PolicyName, ResourceArn, SortOrder, ThingCreation,
    ThingDescription, ThingFacts, ThingGroupCreation, ThingGroupDescription, ThingGroupName, ThingName,
    ThingTypeDescription, ThingTypeName,
};

use super::Keyset;
use super::sql::{Tx, Value, params};
use crate::error::ApiError;

fn keys(scope: &AccountScope) -> (&str, &str) {
    (scope.account().as_str(), scope.region().as_str())
}

/// A stored record read back by `read`.
fn record<T>(text: &str, read: fn(&serde_json::Value) -> Result<T, iot_ca::Error>) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    read(&value).map_err(ApiError::internal)
}

/// The `record` of `name` in `table` (things, thing_types, thing_groups, policies).
fn load(tx: &mut dyn Tx, table: &str, scope: &AccountScope, name: &str) -> Result<Option<String>, ApiError> {
    let (a, r) = keys(scope);
    let sql = format!("SELECT record FROM {table} WHERE account = ?1 AND region = ?2 AND name = ?3");
    tx.query_opt(&sql, params![a, r, name])?.map(|row| row.text(0)).transpose()
}

fn insert(tx: &mut dyn Tx, table: &str, scope: &AccountScope, name: &str, text: String) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    let sql = format!("INSERT INTO {table} (account, region, name, record) VALUES (?1, ?2, ?3, ?4)");
    tx.execute(&sql, params![a, r, name, text])?;
    Ok(())
}

pub(super) fn lock_thing(tx: &mut dyn Tx, scope: &AccountScope, name: &ThingName) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.lock(&format!("thing/{a}/{r}/{name}"))
}

pub(super) fn lock_policy(tx: &mut dyn Tx, scope: &AccountScope, name: &PolicyName) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.lock(&format!("policy/{a}/{r}/{name}"))
}

/// The lock `ops.rs` takes for a device certificate's writes.
fn lock_certificate(tx: &mut dyn Tx, scope: &AccountScope, arn: &ResourceArn) -> Result<(), ApiError> {
    super::ops::lock_certificate(tx, scope, arn.certificate_id().as_str())
}

fn certificate_exists(tx: &mut dyn Tx, scope: &AccountScope, arn: &ResourceArn) -> Result<bool, ApiError> {
    let (a, r) = keys(scope);
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3)",
        params![a, r, arn.certificate_id().as_str()],
    )?
    .bool(0)
}

/// Names of `column` in `table` where `filter_column` = `filter`, in keyset order of `column`.
fn names_after(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    table: &str,
    column: &str,
    filter: Option<(&str, &str)>,
    keyset: &Keyset<String>,
) -> Result<Vec<String>, ApiError> {
    let (a, r) = keys(scope);
    let (cmp, order) = match keyset.order {
        SortOrder::Ascending => (">", "ASC"),
        _ => ("<", "DESC"),
    };
    let mut values: Vec<Value> = params![a, r, i64::from(keyset.limit)].to_vec();
    let mut sql = format!("SELECT {column} FROM {table} WHERE account = ?1 AND region = ?2");
    if let Some((filter_column, value)) = filter {
        values.push(Value::from(value));
        sql.push_str(&format!(" AND {filter_column} = ?{}", values.len()));
    }
    if let Some(after) = &keyset.after {
        values.push(Value::from(after.as_str()));
        sql.push_str(&format!(" AND {column} {cmp} ?{}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY {column} {order} LIMIT ?3"));
    tx.query(&sql, &values)?.iter().map(|row| row.text(0)).collect()
}

/// The scope's thing `name`.
pub fn thing(tx: &mut dyn Tx, scope: &AccountScope, name: &ThingName) -> Result<Option<ThingDescription>, ApiError> {
    load(tx, "things", scope, name.as_str())?.map(|t| record(&t, wire::thing_from_json)).transpose()
}

/// The scope's thing type `name`.
pub fn thing_type(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingTypeName,
) -> Result<Option<ThingTypeDescription>, ApiError> {
    load(tx, "thing_types", scope, name.as_str())?.map(|t| record(&t, wire::thing_type_from_json)).transpose()
}

/// The scope's thing group `name`.
pub fn thing_group(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingGroupName,
) -> Result<Option<ThingGroupDescription>, ApiError> {
    load(tx, "thing_groups", scope, name.as_str())?.map(|t| record(&t, wire::thing_group_from_json)).transpose()
}

/// The scope's policy `name`.
pub fn policy(tx: &mut dyn Tx, scope: &AccountScope, name: &PolicyName) -> Result<Option<PolicyDescription>, ApiError> {
    load(tx, "policies", scope, name.as_str())?.map(|t| record(&t, wire::policy_from_json)).transpose()
}

/// The facts CreateThing and UpdateThing decide on: the thing, and whether `thing_type` exists.
fn thing_facts(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    thing_type_name: Option<&ThingTypeName>,
) -> Result<ThingFacts, ApiError> {
    let existing = thing(tx, scope, name)?;
    let type_exists = match thing_type_name {
        Some(t) => thing_type(tx, scope, t)?.is_some(),
        None => false,
    };
    Ok(ThingFacts::new().with_existing(existing).with_thing_type_exists(type_exists))
}

/// CreateThing: `decide` sees the facts; a new thing is stored.
pub fn create_thing(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    thing_type_name: Option<&ThingTypeName>,
    decide: impl FnOnce(ThingFacts) -> Result<ThingCreation, ApiError>,
) -> Result<ThingDescription, ApiError> {
    lock_thing(tx, scope, name)?;
    let creation = decide(thing_facts(tx, scope, name, thing_type_name)?)?;
    if creation.created {
        insert(tx, "things", scope, name.as_str(), wire::thing_to_json(&creation.thing).to_string())?;
    }
    Ok(creation.thing)
}

/// Writes a changed thing.
pub fn write_thing(tx: &mut dyn Tx, scope: &AccountScope, thing: &ThingDescription) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "UPDATE things SET record = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
        params![a, r, thing.thing_name.as_str(), wire::thing_to_json(thing).to_string()],
    )?;
    Ok(())
}

/// UpdateThing: `decide` sees the facts and answers the updated thing, which is written.
pub fn update_thing(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    thing_type_name: Option<&ThingTypeName>,
    decide: impl FnOnce(ThingFacts) -> Result<ThingDescription, ApiError>,
) -> Result<(), ApiError> {
    lock_thing(tx, scope, name)?;
    let updated = decide(thing_facts(tx, scope, name, thing_type_name)?)?;
    write_thing(tx, scope, &updated)
}

/// How many principals are attached to thing `name`.
fn principal_count(tx: &mut dyn Tx, scope: &AccountScope, name: &ThingName) -> Result<usize, ApiError> {
    let (a, r) = keys(scope);
    let n = tx
        .query_one(
            "SELECT COUNT(*) FROM thing_principals WHERE account = ?1 AND region = ?2 AND thing_name = ?3",
            params![a, r, name.as_str()],
        )?
        .int(0)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// DeleteThing: `decide` sees the thing and how many principals it has; on `Ok(true)` the thing
/// and its group memberships go.
pub fn delete_thing(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    decide: impl FnOnce(Option<&ThingDescription>, usize) -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_thing(tx, scope, name)?;
    let stored = thing(tx, scope, name)?;
    let principals = principal_count(tx, scope, name)?;
    if decide(stored.as_ref(), principals)? {
        tx.execute(
            "DELETE FROM things WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![a, r, name.as_str()],
        )?;
        tx.execute(
            "DELETE FROM thing_group_members WHERE account = ?1 AND region = ?2 AND thing_name = ?3",
            params![a, r, name.as_str()],
        )?;
    }
    Ok(())
}

/// The scope's things after `keyset`'s key in name order that `admit` passes, at most
/// `keyset.limit` of them (the filter is applied here, so a page is full when enough match).
pub fn list_things(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    admit: impl Fn(&ThingDescription) -> bool,
    keyset: &Keyset<String>,
) -> Result<Vec<ThingDescription>, ApiError> {
    let (a, r) = keys(scope);
    let mut out = Vec::new();
    let mut after = keyset.after.clone();
    let batch = i64::from(keyset.limit.max(64));
    loop {
        let rows = match &after {
            Some(key) => tx.query(
                "SELECT name, record FROM things WHERE account = ?1 AND region = ?2 AND name > ?4
                 ORDER BY name ASC LIMIT ?3",
                params![a, r, batch, key.as_str()],
            )?,
            None => tx.query(
                "SELECT name, record FROM things WHERE account = ?1 AND region = ?2 ORDER BY name ASC LIMIT ?3",
                params![a, r, batch],
            )?,
        };
        let full = rows.len() as i64 == batch;
        for row in &rows {
            after = Some(row.text(0)?);
            let thing = record(&row.text(1)?, wire::thing_from_json)?;
            if admit(&thing) {
                out.push(thing);
                if out.len() >= keyset.limit as usize {
                    return Ok(out);
                }
            }
        }
        if !full {
            return Ok(out);
        }
    }
}

/// CreateThingType: `decide` sees the type by that name; a new one is stored.
pub fn create_thing_type(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingTypeName,
    decide: impl FnOnce(Option<ThingTypeDescription>) -> Result<ThingTypeDescription, ApiError>,
) -> Result<ThingTypeDescription, ApiError> {
    let created = decide(thing_type(tx, scope, name)?)?;
    insert(
        tx,
        "thing_types",
        scope,
        name.as_str(),
        wire::thing_type_to_json(&created, TimeFormat::EpochSeconds).to_string(),
    )?;
    Ok(created)
}

/// CreateThingGroup: `decide` sees the group by that name and its parent; a new one is stored.
pub fn create_thing_group(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingGroupName,
    parent: Option<&ThingGroupName>,
    decide: impl FnOnce(
        Option<ThingGroupDescription>,
        Option<ThingGroupDescription>,
    ) -> Result<ThingGroupCreation, ApiError>,
) -> Result<ThingGroupDescription, ApiError> {
    let existing = thing_group(tx, scope, name)?;
    let parent = match parent {
        Some(p) => thing_group(tx, scope, p)?,
        None => None,
    };
    let creation = decide(existing, parent)?;
    if creation.created {
        let text = wire::thing_group_to_json(&creation.group, TimeFormat::EpochSeconds).to_string();
        insert(tx, "thing_groups", scope, name.as_str(), text)?;
    }
    Ok(creation.group)
}

/// AddThingToThingGroup: `decide` sees whether both exist; the membership is kept once.
pub fn add_thing_to_thing_group(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    group: &ThingGroupName,
    thing_name: &ThingName,
    decide: impl FnOnce(bool, bool) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_thing(tx, scope, thing_name)?;
    let group_exists = thing_group(tx, scope, group)?.is_some();
    let thing_exists = thing(tx, scope, thing_name)?.is_some();
    decide(group_exists, thing_exists)?;
    tx.execute(
        "INSERT INTO thing_group_members (account, region, group_name, thing_name) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![a, r, group.as_str(), thing_name.as_str()],
    )?;
    Ok(())
}

/// CreatePolicy: `decide` sees the policy by that name; a new one is stored.
pub fn create_policy(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &PolicyName,
    decide: impl FnOnce(Option<PolicyDescription>) -> Result<PolicyDescription, ApiError>,
) -> Result<PolicyDescription, ApiError> {
    lock_policy(tx, scope, name)?;
    let created = decide(policy(tx, scope, name)?)?;
    insert(tx, "policies", scope, name.as_str(), wire::policy_to_json(&created, TimeFormat::EpochSeconds).to_string())?;
    Ok(created)
}

/// How many targets policy `name` is attached to.
fn target_count(tx: &mut dyn Tx, scope: &AccountScope, name: &PolicyName) -> Result<usize, ApiError> {
    let (a, r) = keys(scope);
    let n = tx
        .query_one(
            "SELECT COUNT(*) FROM policy_targets WHERE account = ?1 AND region = ?2 AND policy_name = ?3",
            params![a, r, name.as_str()],
        )?
        .int(0)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// DeletePolicy: `decide` sees the policy and how many targets it has; on `Ok` it goes.
pub fn delete_policy(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &PolicyName,
    decide: impl FnOnce(Option<&PolicyDescription>, usize) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_policy(tx, scope, name)?;
    let stored = policy(tx, scope, name)?;
    let targets = target_count(tx, scope, name)?;
    decide(stored.as_ref(), targets)?;
    tx.execute("DELETE FROM policies WHERE account = ?1 AND region = ?2 AND name = ?3", params![a, r, name.as_str()])?;
    Ok(())
}

/// The scope's policies in keyset order of their names.
pub fn list_policies(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    keyset: &Keyset<String>,
) -> Result<Vec<PolicyDescription>, ApiError> {
    let names = names_after(tx, scope, "policies", "name", None, keyset)?;
    names_to_policies(tx, scope, &names)
}

fn names_to_policies(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    names: &[String],
) -> Result<Vec<PolicyDescription>, ApiError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if let Some(text) = load(tx, "policies", scope, name)? {
            out.push(record(&text, wire::policy_from_json)?);
        }
    }
    Ok(out)
}

/// AttachPolicy: `decide` sees the facts; a new attachment is stored.
pub fn attach_policy(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &PolicyName,
    target: &ResourceArn,
    decide: impl FnOnce(AttachPolicyFacts) -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, target)?;
    lock_policy(tx, scope, name)?;
    let policy_exists = policy(tx, scope, name)?.is_some();
    let target_exists = certificate_exists(tx, scope, target)?;
    let attached = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM policy_targets
             WHERE account = ?1 AND region = ?2 AND policy_name = ?3 AND target = ?4)",
            params![a, r, name.as_str(), target.as_str()],
        )?
        .bool(0)?;
    let count = tx
        .query_one(
            "SELECT COUNT(*) FROM policy_targets WHERE account = ?1 AND region = ?2 AND target = ?3",
            params![a, r, target.as_str()],
        )?
        .int(0)?;
    let facts =
        AttachPolicyFacts::new(policy_exists, target_exists, attached, usize::try_from(count).unwrap_or(usize::MAX));
    if decide(facts)? {
        tx.execute(
            "INSERT INTO policy_targets (account, region, policy_name, target) VALUES (?1, ?2, ?3, ?4)",
            params![a, r, name.as_str(), target.as_str()],
        )?;
    }
    Ok(())
}

/// DetachPolicy: the attachment goes, if there is one (our rule: detaching what is not attached
/// is a success, as DetachPolicy names no not-found error).
pub fn detach_policy(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &PolicyName,
    target: &ResourceArn,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, target)?;
    lock_policy(tx, scope, name)?;
    tx.execute(
        "DELETE FROM policy_targets WHERE account = ?1 AND region = ?2 AND policy_name = ?3 AND target = ?4",
        params![a, r, name.as_str(), target.as_str()],
    )?;
    Ok(())
}

/// The policies attached to `target`, in keyset order of their names; `None` when the target is
/// not one of the scope's certificates.
pub fn list_attached_policies(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    target: &ResourceArn,
    keyset: &Keyset<String>,
) -> Result<Option<Vec<PolicyDescription>>, ApiError> {
    if !certificate_exists(tx, scope, target)? {
        return Ok(None);
    }
    let names = names_after(tx, scope, "policy_targets", "policy_name", Some(("target", target.as_str())), keyset)?;
    names_to_policies(tx, scope, &names).map(Some)
}

/// The targets of policy `name` in keyset order; `None` when the scope holds no such policy.
pub fn list_targets_for_policy(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &PolicyName,
    keyset: &Keyset<String>,
) -> Result<Option<Vec<String>>, ApiError> {
    if policy(tx, scope, name)?.is_none() {
        return Ok(None);
    }
    names_after(tx, scope, "policy_targets", "target", Some(("policy_name", name.as_str())), keyset).map(Some)
}

/// AttachThingPrincipal: `decide` sees whether the thing and the certificate exist; the
/// attachment is kept once.
pub fn attach_thing_principal(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    principal: &ResourceArn,
    decide: impl FnOnce(bool, bool) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, principal)?;
    lock_thing(tx, scope, name)?;
    let thing_exists = thing(tx, scope, name)?.is_some();
    let principal_exists = certificate_exists(tx, scope, principal)?;
    decide(thing_exists, principal_exists)?;
    tx.execute(
        "INSERT INTO thing_principals (account, region, thing_name, principal) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![a, r, name.as_str(), principal.as_str()],
    )?;
    Ok(())
}

/// DetachThingPrincipal: `decide` sees whether the thing exists; the attachment goes.
pub fn detach_thing_principal(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    principal: &ResourceArn,
    decide: impl FnOnce(bool) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, principal)?;
    lock_thing(tx, scope, name)?;
    decide(thing(tx, scope, name)?.is_some())?;
    tx.execute(
        "DELETE FROM thing_principals WHERE account = ?1 AND region = ?2 AND thing_name = ?3 AND principal = ?4",
        params![a, r, name.as_str(), principal.as_str()],
    )?;
    Ok(())
}

/// The principals of thing `name` in keyset order; `None` when the scope holds no such thing.
pub fn list_thing_principals(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    name: &ThingName,
    keyset: &Keyset<String>,
) -> Result<Option<Vec<String>>, ApiError> {
    if thing(tx, scope, name)?.is_none() {
        return Ok(None);
    }
    names_after(tx, scope, "thing_principals", "principal", Some(("thing_name", name.as_str())), keyset).map(Some)
}

/// The things `principal` is attached to, in keyset order; `None` when it is not one of the
/// scope's certificates.
pub fn list_principal_things(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    principal: &ResourceArn,
    keyset: &Keyset<String>,
) -> Result<Option<Vec<String>>, ApiError> {
    if !certificate_exists(tx, scope, principal)? {
        return Ok(None);
    }
    names_after(tx, scope, "thing_principals", "thing_name", Some(("principal", principal.as_str())), keyset).map(Some)
}

/// Whether things or policies are attached to the certificate `arn` (DeleteCertificate's fact).
pub fn certificate_attached(tx: &mut dyn Tx, scope: &AccountScope, arn: &ResourceArn) -> Result<bool, ApiError> {
    let (a, r) = keys(scope);
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM thing_principals WHERE account = ?1 AND region = ?2 AND principal = ?3)
             OR EXISTS (SELECT 1 FROM policy_targets WHERE account = ?1 AND region = ?2 AND target = ?3)",
        params![a, r, arn.as_str()],
    )?
    .bool(0)
}

/// Removes every attachment of the certificate `arn` (a forced DeleteCertificate).
pub fn detach_certificate(tx: &mut dyn Tx, scope: &AccountScope, arn: &ResourceArn) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "DELETE FROM thing_principals WHERE account = ?1 AND region = ?2 AND principal = ?3",
        params![a, r, arn.as_str()],
    )?;
    tx.execute(
        "DELETE FROM policy_targets WHERE account = ?1 AND region = ?2 AND target = ?3",
        params![a, r, arn.as_str()],
    )?;
    Ok(())
}
