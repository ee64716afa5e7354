//! Provisioning templates, their versions, and RegisterThing: decoded with `iot_ca::wire`,
//! decided by the library (the template engine plans; `store::provisioning` applies the plan in
//! one transaction with the certificate it names).

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    BoundCertificateSource, CertificateStatus, Page, Policy, ProvisioningTemplate, RegisteredCa, TemplateName,
};
use serde_json::{Value, json};

use super::issuers;
use super::{Call, ServiceConfig, blocking, now};
use crate::error::ApiError;
use crate::route::Operation;
use crate::store::ops;
use crate::store::{CaLookup, Keyset, Store, provisioning};

const TIMES: TimeFormat = TimeFormat::EpochSeconds;

fn text(body: &[u8]) -> Result<&str, ApiError> {
    Ok(wire::request_document(body)?)
}

fn keyset(query: &iot_ca::ListQuery, after: Option<String>) -> Keyset<String> {
    Keyset { after, order: query.order(), limit: u32::from(query.page_size().get()) + 1 }
}

/// `{templateName}/{versionId}`, as the router joins them.
fn name_and_version(param: &str) -> Result<(TemplateName, u32), ApiError> {
    let (name, version) = param.split_once('/').unwrap_or((param, ""));
    Ok((TemplateName::parse(name)?, wire::template_version_id_from_path(version)?))
}

/// Serves the operations of this module.
///
/// # Errors
/// The operation's error, in AWS's shape.
pub(super) async fn handle<S: Store>(store: &S, call: Call<'_>, config: &ServiceConfig) -> Result<Value, ApiError> {
    let Call { route, scope, query, body, .. } = call;
    let param = route.param;
    let key = store.marker_key().clone();
    match route.operation {
        Operation::CreateProvisioningTemplate => {
            let request = wire::create_template_request_from_json(text(body)?)?;
            let name = request.template_name.clone();
            let at = now();
            let created = store
                .write(move |tx| {
                    provisioning::create_template(tx, &scope, &name, |existing| {
                        Ok(iot_ca::create_template(&request, existing.as_ref(), &scope, at)?)
                    })
                })
                .await?;
            Ok(wire::create_template_response_to_json(&created))
        }
        Operation::DescribeProvisioningTemplate => {
            let name = TemplateName::parse(&param)?;
            let looked_up = name.clone();
            let stored = store.lookup(move |tx| provisioning::template_with_body(tx, &scope, &looked_up)).await?;
            let Some((t, body)) = stored else {
                return Err(iot_ca::Error::from(iot_ca::RegistryError::TemplateNotFound {
                    template_name: name.to_string(),
                })
                .into());
            };
            Ok(wire::template_to_json(&t, Some(&body), TIMES))
        }
        Operation::ListProvisioningTemplates => {
            let list = wire::list_templates_query_from_rest(query)?;
            let listing = iot_ca::templates_listing(&scope);
            let ks = keyset(&list, list.after::<String>(&key, &listing)?);
            let rows = store.read(move |tx| provisioning::list_templates(tx, &scope, &ks)).await?;
            let page = Page::from_rows(rows.iter().collect(), &list, &key, &listing);
            Ok(wire::list_templates_response_to_json(&page, TIMES))
        }
        Operation::UpdateProvisioningTemplate => {
            let request = wire::update_template_request_from_rest(&param, text(body)?)?;
            let name = request.template_name.clone();
            let at = now();
            store
                .write(move |tx| {
                    provisioning::update_template(tx, &scope, &name, |stored, versions| {
                        Ok(iot_ca::update_template(&request, stored.as_ref(), &versions, at)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DeleteProvisioningTemplate => {
            let name = TemplateName::parse(&param)?;
            store
                .write(move |tx| {
                    provisioning::delete_template(tx, &scope, &name, |stored, cas| {
                        Ok(iot_ca::delete_template(&name, stored, cas)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::CreateProvisioningTemplateVersion => {
            let (name, template_body, set_as_default) =
                wire::create_template_version_request_from_rest(&param, query, text(body)?)?;
            let at = now();
            let (v, t) = store
                .write(move |tx| {
                    provisioning::create_version(tx, &scope, &name, |stored, versions| {
                        Ok(iot_ca::create_template_version(
                            &name,
                            &template_body,
                            set_as_default,
                            stored.as_ref(),
                            &versions,
                            at,
                        )?)
                    })
                })
                .await?;
            Ok(wire::create_template_version_response_to_json(&t, &v))
        }
        Operation::ListProvisioningTemplateVersions => {
            let name = TemplateName::parse(&param)?;
            let list = wire::list_templates_query_from_rest(query)?;
            let listing = iot_ca::template_versions_listing(&scope, &name);
            let looked_up = name.clone();
            let (stored, versions) = store
                .read(move |tx| {
                    Ok((
                        provisioning::template(tx, &scope, &looked_up)?,
                        provisioning::versions(tx, &scope, &looked_up)?,
                    ))
                })
                .await?;
            let t = iot_ca::describe_template(&name, stored.as_ref())?;
            let page = iot_ca::page_slice(&versions, &list, &key, &listing)?;
            Ok(wire::list_template_versions_response_to_json(t, &page, TIMES))
        }
        Operation::DescribeProvisioningTemplateVersion | Operation::DeleteProvisioningTemplateVersion => {
            let (name, version) = name_and_version(&param)?;
            if route.operation == Operation::DeleteProvisioningTemplateVersion {
                store
                    .write(move |tx| {
                        provisioning::delete_version(tx, &scope, &name, version, |stored, versions| {
                            Ok(iot_ca::delete_template_version(&name, version, stored, versions)?)
                        })
                    })
                    .await?;
                return Ok(json!({}));
            }
            let looked_up = name.clone();
            let (stored, versions) = store
                .read(move |tx| {
                    Ok((
                        provisioning::template(tx, &scope, &looked_up)?,
                        provisioning::versions(tx, &scope, &looked_up)?,
                    ))
                })
                .await?;
            let found = versions.iter().find(|v| v.version_id == version);
            let v = iot_ca::describe_template_version(&name, version, stored.as_ref(), found)?;
            let t = iot_ca::describe_template(&name, stored.as_ref())?;
            Ok(wire::template_version_to_json(t, v, true, TIMES))
        }
        Operation::RegisterThing => register_thing(store, scope, text(body)?, config).await,
        other => Err(ApiError::internal(format_args!("{} is not routed to the templates", other.name()))),
    }
}

/// RegisterThing: the body parsed and bound by the engine; a certificate from a CSR issued (off
/// the async workers) by the device issuer, one from a PEM checked as RegisterCertificate checks
/// it; then, in one write transaction, the facts read, the plan made and applied with the
/// certificate: all of what the template says, or nothing.
async fn register_thing<S: Store>(
    store: &S,
    scope: iot_ca::AccountScope,
    body: &str,
    config: &ServiceConfig,
) -> Result<Value, ApiError> {
    let (template_body, parameters) = wire::register_thing_request_from_json(body)?;
    let bound = blocking(move || -> Result<iot_ca::BoundTemplate, iot_ca::Error> {
        ProvisioningTemplate::parse(&template_body, None)?.bind(&parameters)
    })
    .await??;
    let at = now();
    // What the certificate resource names, made ready outside the transaction where that is
    // CPU work: an issued certificate (CSR), or a checked one (PEM).
    enum Ready {
        None,
        Stored(iot_ca::CertificateId),
        Issued(Box<iot_ca::CertificateDescription>),
        Checked(Box<iot_ca::CheckedCertificate>),
    }
    let ready = match bound.certificate.as_ref().map(|c| &c.source) {
        None => Ready::None,
        Some(BoundCertificateSource::Id(id)) => Ready::Stored(id.clone()),
        Some(BoundCertificateSource::Csr(csr)) => {
            let status = CertificateStatus::Inactive;
            let issued =
                issuers::issue_device_certificate(store, &scope, config, Some(csr.clone()), status, at).await?;
            Ready::Issued(Box::new(issued.description))
        }
        Some(BoundCertificateSource::Pem { pem, ca_pem }) => {
            let mut request = iot_ca::RegisterCertificateRequest::new(pem.clone());
            if let Some(ca) = ca_pem {
                request = request.with_ca_certificate_pem(ca.clone());
            }
            let checked = blocking(move || iot_ca::check_certificate(&request, Policy::default(), at)).await??;
            Ready::Checked(Box::new(checked))
        }
        Some(_) => return Err(ApiError::invalid_request("The template names its certificate in an unknown form.")),
    };
    let plan = store
        .write(move |tx| {
            let (certificate, is_new) = match ready {
                Ready::None => (None, false),
                Ready::Stored(id) => (ops::certificate(tx, &scope, &id)?, false),
                Ready::Issued(d) => (Some(*d), true),
                Ready::Checked(candidate) => {
                    let lookup = match (candidate.needs_ca(), candidate.ca_certificate_id()) {
                        (false, _) => CaLookup::None,
                        (true, Some(id)) => CaLookup::ById(id.clone()),
                        (true, None) => CaLookup::ByIssuer(candidate.issuer_der().to_vec()),
                    };
                    let (held, cas) = ops::registration_facts(tx, &scope, candidate.certificate_id(), &lookup)?;
                    let mut facts = iot_ca::CertificateFacts::new().with_already_registered(held);
                    for d in &cas {
                        facts = facts.with_ca(RegisteredCa::from_description(d).map_err(ApiError::internal)?);
                    }
                    let registration = iot_ca::admit_certificate(*candidate, &facts, &scope, &mut rand::rng())?;
                    (Some(registration.description), true)
                }
            };
            let new_certificate = if is_new { certificate.clone() } else { None };
            let facts = provisioning::plan_facts(tx, &scope, &bound, certificate, is_new)?;
            let plan = iot_ca::plan(&bound, &facts, &scope, &mut rand::rng(), at)?;
            provisioning::apply(tx, &scope, &plan.writes, new_certificate.as_ref())?;
            Ok(plan)
        })
        .await?;
    Ok(wire::register_thing_response_to_json(&plan))
}
