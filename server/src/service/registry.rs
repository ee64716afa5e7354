//! Things, thing types and groups, policies and their attachments, the certificates AWS IoT
//! issues itself, and DescribeEndpoint: decoded with `iot_ca::wire`, decided by the library's
//! pure functions inside the store's transaction (`store::things`), answered in AWS's shapes.

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{CertificateStatus, Page, PolicyName, ThingError, ThingGroupName, ThingName, ThingTypeName};
use serde_json::{Value, json};

use super::issuers;
use super::{Call, ServiceConfig, now};
use crate::error::ApiError;
use crate::route::Operation;
use crate::store::{Keyset, Store, things};

const TIMES: TimeFormat = TimeFormat::EpochSeconds;

fn text(body: &[u8]) -> Result<&str, ApiError> {
    Ok(wire::request_document(body)?)
}

/// A keyset over names for `query`.
fn keyset(query: &iot_ca::ListQuery, after: Option<String>) -> Keyset<String> {
    Keyset { after, order: query.order(), limit: u32::from(query.page_size().get()) + 1 }
}

/// `setAsActive` of the query: ACTIVE or INACTIVE.
fn status_of(query: &str) -> Result<CertificateStatus, ApiError> {
    let active = iot_ca::wire::set_as_active_from_query(query)?;
    Ok(if active { CertificateStatus::Active } else { CertificateStatus::Inactive })
}

/// Serves the operations of this module.
///
/// # Errors
/// The operation's error, in AWS's shape.
pub(super) async fn handle<S: Store>(store: &S, call: Call<'_>, config: &ServiceConfig) -> Result<Value, ApiError> {
    let Call { route, scope, query, body, principal } = call;
    let param = route.param;
    let key = store.marker_key().clone();
    match route.operation {
        Operation::CreateThing => {
            let request = wire::create_thing_request_from_rest(&param, text(body)?)?;
            let (name, kind) = (request.thing_name.clone(), request.thing_type_name.clone());
            let thing = store
                .write(move |tx| {
                    things::create_thing(tx, &scope, &name, kind.as_ref(), |facts| {
                        Ok(iot_ca::create_thing(&request, &facts, &scope, &mut rand::rng())?)
                    })
                })
                .await?;
            Ok(wire::create_thing_response_to_json(&thing))
        }
        Operation::DescribeThing => {
            let name = ThingName::parse(&param)?;
            let looked_up = name.clone();
            let stored = store.lookup(move |tx| things::thing(tx, &scope, &looked_up)).await?;
            Ok(wire::thing_to_json(iot_ca::describe_thing(&name, stored.as_ref())?))
        }
        Operation::UpdateThing => {
            let request = wire::update_thing_request_from_rest(&param, text(body)?)?;
            let (name, kind) = (request.thing_name.clone(), request.thing_type_name.clone());
            store
                .write(move |tx| {
                    things::update_thing(tx, &scope, &name, kind.as_ref(), |facts| {
                        Ok(iot_ca::update_thing(&request, &facts)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DeleteThing => {
            let request = wire::delete_thing_request_from_rest(&param, query)?;
            let name = request.thing_name.clone();
            store
                .write(move |tx| {
                    things::delete_thing(tx, &scope, &name, |stored, principals| {
                        Ok(iot_ca::delete_thing(&request, stored, principals)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListThings => {
            let (list, filter) = wire::list_things_query_from_rest(query)?;
            let attribute = filter.attribute.as_ref().map(|(n, v)| (n.as_str(), v.as_str()));
            let listing = iot_ca::things_listing(&scope, filter.thing_type_name.as_ref(), attribute)
                .with_filter("prefix", Some(if filter.prefix { "true" } else { "false" }));
            let after = list.after::<String>(&key, &listing)?;
            let ks = keyset(&list, after);
            let rows = store.read(move |tx| things::list_things(tx, &scope, |t| filter.admits(t), &ks)).await?;
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_things_response_to_json(&page))
        }
        Operation::CreateThingType => {
            let request = wire::create_thing_type_request_from_rest(&param, text(body)?)?;
            let name = request.thing_type_name.clone();
            let at = now();
            let created = store
                .write(move |tx| {
                    things::create_thing_type(tx, &scope, &name, |existing| {
                        Ok(iot_ca::create_thing_type(&request, existing.as_ref(), &scope, &mut rand::rng(), at)?)
                    })
                })
                .await?;
            Ok(wire::create_thing_type_response_to_json(&created))
        }
        Operation::DescribeThingType => {
            let name = ThingTypeName::parse(&param)?;
            let looked_up = name.clone();
            let stored = store.lookup(move |tx| things::thing_type(tx, &scope, &looked_up)).await?;
            let mut out = wire::thing_type_to_json(iot_ca::describe_thing_type(&name, stored.as_ref())?, TIMES);
            if let Some(o) = out.as_object_mut() {
                o.remove("tags");
            }
            Ok(out)
        }
        Operation::CreateThingGroup => {
            let request = wire::create_thing_group_request_from_rest(&param, text(body)?)?;
            let (name, parent) = (request.thing_group_name.clone(), request.parent_group_name.clone());
            let at = now();
            let group = store
                .write(move |tx| {
                    things::create_thing_group(tx, &scope, &name, parent.as_ref(), |existing, parent| {
                        Ok(iot_ca::create_thing_group(
                            &request,
                            existing.as_ref(),
                            parent.as_ref(),
                            &scope,
                            &mut rand::rng(),
                            at,
                        )?)
                    })
                })
                .await?;
            Ok(wire::create_thing_group_response_to_json(&group))
        }
        Operation::DescribeThingGroup => {
            let name = ThingGroupName::parse(&param)?;
            let looked_up = name.clone();
            let stored = store.lookup(move |tx| things::thing_group(tx, &scope, &looked_up)).await?;
            let mut out = wire::thing_group_to_json(iot_ca::describe_thing_group(&name, stored.as_ref())?, TIMES);
            if let Some(o) = out.as_object_mut() {
                o.remove("tags");
            }
            Ok(out)
        }
        Operation::AddThingToThingGroup => {
            let request = wire::add_thing_to_thing_group_request_from_json(text(body)?, &scope)?;
            store
                .write(move |tx| {
                    things::add_thing_to_thing_group(
                        tx,
                        &scope,
                        &request.thing_group_name,
                        &request.thing_name,
                        |group, thing| Ok(iot_ca::add_thing_to_thing_group(&request, group, thing)?),
                    )
                })
                .await?;
            Ok(json!({}))
        }
        Operation::CreatePolicy => {
            let request = wire::create_policy_request_from_rest(&param, text(body)?)?;
            let name = request.policy_name.clone();
            let at = now();
            let created = store
                .write(move |tx| {
                    things::create_policy(tx, &scope, &name, |existing| {
                        Ok(iot_ca::create_policy(&request, existing.as_ref(), &scope, &mut rand::rng(), at)?)
                    })
                })
                .await?;
            Ok(wire::create_policy_response_to_json(&created))
        }
        Operation::GetPolicy => {
            let name = PolicyName::parse(&param)?;
            let looked_up = name.clone();
            let stored = store.lookup(move |tx| things::policy(tx, &scope, &looked_up)).await?;
            let mut out = wire::policy_to_json(iot_ca::get_policy(&name, stored.as_ref())?, TIMES);
            if let Some(o) = out.as_object_mut() {
                o.remove("tags");
            }
            Ok(out)
        }
        Operation::DeletePolicy => {
            let name = PolicyName::parse(&param)?;
            store
                .write(move |tx| {
                    things::delete_policy(tx, &scope, &name, |stored, targets| {
                        Ok(iot_ca::delete_policy(&name, stored, targets)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListPolicies => {
            let list = wire::list_policies_query_from_rest(query)?;
            let listing = iot_ca::policies_listing(&scope);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let rows = store.read(move |tx| things::list_policies(tx, &scope, &ks)).await?;
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_policies_response_to_json(&page))
        }
        Operation::AttachPolicy => {
            let name = PolicyName::parse(&param)?;
            let target = wire::policy_target_from_json(text(body)?, &scope)?;
            store
                .write(move |tx| {
                    things::attach_policy(tx, &scope, &name, &target, |facts| {
                        Ok(iot_ca::attach_policy(&name, &target, facts)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DetachPolicy => {
            let name = PolicyName::parse(&param)?;
            let target = wire::policy_target_from_json(text(body)?, &scope)?;
            store.write(move |tx| things::detach_policy(tx, &scope, &name, &target)).await?;
            Ok(json!({}))
        }
        Operation::ListAttachedPolicies => {
            let (target, list) = wire::list_attached_policies_request_from_rest(&param, query, &scope)?;
            let listing = iot_ca::attached_policies_listing(&scope, &target);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let looked_up = target.clone();
            let rows = store.read(move |tx| things::list_attached_policies(tx, &scope, &looked_up, &ks)).await?;
            let rows = rows.ok_or_else(|| not_found_certificate(&target))?;
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_policies_response_to_json(&page))
        }
        Operation::ListTargetsForPolicy => {
            let name = PolicyName::parse(&param)?;
            let list = wire::list_targets_for_policy_query_from_rest(query)?;
            let listing = iot_ca::policy_targets_listing(&scope, &name);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let looked_up = name.clone();
            let rows = store.read(move |tx| things::list_targets_for_policy(tx, &scope, &looked_up, &ks)).await?;
            let rows = match rows {
                Some(rows) => rows,
                None => {
                    return Err(
                        iot_ca::Error::from(ThingError::PolicyNotFound { policy_name: name.to_string() }).into()
                    );
                }
            };
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_targets_for_policy_response_to_json(&page))
        }
        Operation::AttachThingPrincipal => {
            let name = ThingName::parse(&param)?;
            let principal = wire::principal_from_header(principal, &scope)?;
            wire::thing_principal_type_from_query(query)?;
            store
                .write(move |tx| {
                    things::attach_thing_principal(tx, &scope, &name, &principal, |thing, cert| {
                        Ok(iot_ca::attach_thing_principal(&name, &principal, thing, cert)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DetachThingPrincipal => {
            let name = ThingName::parse(&param)?;
            let principal = wire::principal_from_header(principal, &scope)?;
            store
                .write(move |tx| {
                    things::detach_thing_principal(tx, &scope, &name, &principal, |thing| {
                        Ok(iot_ca::detach_thing_principal(&name, thing)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListThingPrincipals => {
            let name = ThingName::parse(&param)?;
            let list = wire::list_registry_query_from_rest(query)?;
            let listing = iot_ca::thing_principals_listing(&scope, &name);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let looked_up = name.clone();
            let rows = store.read(move |tx| things::list_thing_principals(tx, &scope, &looked_up, &ks)).await?;
            let rows = match rows {
                Some(rows) => rows,
                None => {
                    return Err(iot_ca::Error::from(ThingError::ThingNotFound { thing_name: name.to_string() }).into());
                }
            };
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_thing_principals_response_to_json(&page))
        }
        Operation::ListPrincipalThings => {
            let principal = wire::principal_from_header(principal, &scope)?;
            let list = wire::list_registry_query_from_rest(query)?;
            let listing = iot_ca::principal_things_listing(&scope, &principal);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let looked_up = principal.clone();
            let rows = store.read(move |tx| things::list_principal_things(tx, &scope, &looked_up, &ks)).await?;
            let rows = rows.ok_or_else(|| not_found_certificate(&principal))?;
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_principal_things_response_to_json(&page))
        }
        Operation::CreateKeysAndCertificate | Operation::CreateCertificateFromCsr => {
            let status = status_of(query)?;
            let csr = match route.operation {
                Operation::CreateCertificateFromCsr => Some(wire::certificate_signing_request_from_json(text(body)?)?),
                _ => None,
            };
            let issued = issuers::issue_device_certificate(store, &scope, config, csr, status, now()).await?;
            let description = issued.description.clone();
            store.write(move |tx| crate::store::ops::insert_certificate(tx, &scope, &description)).await?;
            Ok(wire::issued_certificate_to_json(&issued))
        }
        Operation::DescribeEndpoint => {
            wire::endpoint_type_from_query(query)?;
            Ok(json!({ "endpointAddress": config.endpoint_address }))
        }
        other => Err(ApiError::internal(format_args!("{} is not routed to the registry", other.name()))),
    }
}

/// ResourceNotFoundException for a certificate ARN the scope does not hold.
fn not_found_certificate(arn: &iot_ca::ResourceArn) -> ApiError {
    iot_ca::Error::Certificate(iot_ca::CertificateError::NotFound { certificate_id: arn.certificate_id().clone() })
        .into()
}
