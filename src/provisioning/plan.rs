//! What a bound template provisions, decided against what the account holds ([`PlanFacts`]):
//! a [`Plan`], the ordered writes (create or update the thing, its groups, create policies,
//! attach them to the certificate, attach the certificate to the thing, set the certificate's
//! status) with the resources' ARNs by logical name, the thing's name and the device
//! configuration. The caller applies it in one store transaction: all of it or nothing.

use rand_core::CryptoRng;

use crate::device::certificate::CertificateDescription;
use crate::error::{CertificateError, Error, TemplateError, TemplateProblem, ThingError};
use crate::model::arn::{ResourceArn, ResourceType};
use crate::model::attributes::Attributes;
use crate::model::description::generation_id;
use crate::model::enums::CertificateStatus;
use crate::model::names::{PolicyName, ThingGroupName, ThingName};
use crate::model::scope::AccountScope;
use crate::model::tags::Tags;
use crate::provisioning::template::{BoundCertificateSource, BoundTemplate, Override};
use crate::thing::policies::PolicyDescription;
use crate::thing::things::ThingDescription;
use crate::x509::time::UnixTime;

/// What the caller's store holds of what a bound template names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanFacts {
    /// The thing by the template's thing name, if it exists.
    pub thing: Option<ThingDescription>,
    /// The groups that thing is in.
    pub thing_groups: Vec<ThingGroupName>,
    /// Whether the template's thing type exists.
    pub thing_type_exists: bool,
    /// Which of the template's thing groups exist.
    pub groups_existing: Vec<ThingGroupName>,
    /// Which of the template's policies exist (by name).
    pub policies_existing: Vec<PolicyName>,
    /// The certificate the template names, as stored (or as just registered or issued).
    pub certificate: Option<CertificateDescription>,
    /// Whether that certificate is new to this provisioning (JITP's registration, fleet
    /// provisioning's certificate, RegisterThing's CSR or PEM): its status is then the
    /// template's whatever the override setting.
    pub certificate_is_new: bool,
}

impl PlanFacts {
    /// No facts: nothing exists.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// One write of a plan, in the order it is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanWrite {
    /// Store a new thing.
    CreateThing(ThingDescription),
    /// Write the thing changed.
    UpdateThing(ThingDescription),
    /// Add the thing to a group.
    AddThingToGroup {
        /// The thing.
        thing: ThingName,
        /// The group.
        group: ThingGroupName,
    },
    /// Remove the thing from a group (ThingGroups REPLACE).
    RemoveThingFromGroup {
        /// The thing.
        thing: ThingName,
        /// The group.
        group: ThingGroupName,
    },
    /// Store a new policy.
    CreatePolicy(PolicyDescription),
    /// Attach a policy to the certificate.
    AttachPolicy {
        /// The policy.
        policy: PolicyName,
        /// The certificate.
        target: ResourceArn,
    },
    /// Attach the certificate to the thing.
    AttachThingPrincipal {
        /// The thing.
        thing: ThingName,
        /// The certificate.
        principal: ResourceArn,
    },
    /// Write the certificate with its new status.
    UpdateCertificate(CertificateDescription),
}

/// What a template provisions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The writes, in order.
    pub writes: Vec<PlanWrite>,
    /// Each resource's ARN by its logical name (RegisterThing's `resourceArns`).
    pub resource_arns: Vec<(String, String)>,
    /// The thing's name (fleet provisioning's `thingName`).
    pub thing_name: Option<ThingName>,
    /// DeviceConfiguration (fleet provisioning's `deviceConfiguration`).
    pub device_configuration: Vec<(String, String)>,
    /// The certificate as it ends (its status set), if the template has one.
    pub certificate: Option<CertificateDescription>,
}

fn conflict(logical: &str, resource: String) -> Error {
    TemplateError::at(&format!("Resources.{logical}"), TemplateProblem::Conflict { resource }).into()
}

/// Decides what `bound` provisions against `facts`. OverrideSettings apply to what exists:
/// DO_NOTHING (the default, our rule) leaves it, REPLACE replaces it, FAIL refuses
/// (ResourceRegistrationFailureException), MERGE merges a thing's attributes and groups.
/// A thing type, thing group or named policy must exist; billing groups are not kept.
///
/// # Errors
/// [`TemplateError`] ([`TemplateProblem::Conflict`]), [`ThingError`] for a missing type,
/// group, billing group or policy, [`CertificateError::NotFound`] for a certificate the account
/// does not hold.
pub fn plan<R: CryptoRng + ?Sized>(
    bound: &BoundTemplate,
    facts: &PlanFacts,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<Plan, Error> {
    let mut writes = Vec::new();
    let mut resource_arns = Vec::new();
    let certificate = match &bound.certificate {
        None => None,
        Some(c) => {
            let stored = facts.certificate.clone().ok_or_else(|| match &c.source {
                BoundCertificateSource::Id(id) => {
                    Error::from(CertificateError::NotFound { certificate_id: id.clone() })
                }
                _ => Error::from(TemplateError::at(&format!("Resources.{}", c.logical), TemplateProblem::Missing)),
            })?;
            resource_arns.push((c.logical.clone(), stored.certificate_arn.clone()));
            Some((c, stored))
        }
    };
    let principal =
        certificate.as_ref().map(|(_, d)| ResourceArn::new(scope, ResourceType::Certificate, d.certificate_id.clone()));
    if let Some(t) = &bound.thing {
        if let Some(kind) = &t.thing_type_name
            && !facts.thing_type_exists
        {
            return Err(ThingError::ThingTypeNotFound { thing_type_name: kind.to_string() }.into());
        }
        if let Some(billing) = &t.billing_group {
            return Err(ThingError::BillingGroupNotFound { billing_group_name: billing.to_string() }.into());
        }
        for group in t.thing_groups.iter().flatten() {
            if !facts.groups_existing.contains(group) {
                return Err(ThingError::ThingGroupNotFound { thing_group_name: group.to_string() }.into());
            }
        }
        let wanted_groups = t.thing_groups.clone().unwrap_or_default();
        match &facts.thing {
            None => {
                let mut thing =
                    ThingDescription::new(t.thing_name.clone(), generation_id(rng), scope.thing_arn(&t.thing_name), 1);
                thing.thing_type_name.clone_from(&t.thing_type_name);
                if let Some(a) = &t.attributes {
                    thing.attributes = Attributes::default().applied(a, false)?;
                }
                resource_arns.push((t.logical.clone(), thing.thing_arn.clone()));
                writes.push(PlanWrite::CreateThing(thing));
                for group in wanted_groups {
                    writes.push(PlanWrite::AddThingToGroup { thing: t.thing_name.clone(), group });
                }
            }
            Some(existing) => {
                let mut thing = existing.clone();
                let o = t.overrides;
                let mut changed = false;
                if let Some(a) = &t.attributes
                    && thing.attributes != *a
                {
                    match o.attribute_payload {
                        Override::DoNothing => {}
                        Override::Fail => return Err(conflict(&t.logical, format!("thing {}", t.thing_name))),
                        Override::Replace => {
                            thing.attributes = Attributes::default().applied(a, false)?;
                            changed = true;
                        }
                        Override::Merge => {
                            thing.attributes = thing.attributes.applied(a, true)?;
                            changed = true;
                        }
                    }
                }
                if t.thing_type_name.is_some() && thing.thing_type_name != t.thing_type_name {
                    match o.thing_type_name {
                        Override::DoNothing | Override::Merge => {}
                        Override::Fail => return Err(conflict(&t.logical, format!("thing {}", t.thing_name))),
                        Override::Replace => {
                            thing.thing_type_name.clone_from(&t.thing_type_name);
                            changed = true;
                        }
                    }
                }
                if changed {
                    thing.version = thing.version.saturating_add(1);
                    writes.push(PlanWrite::UpdateThing(thing.clone()));
                }
                if t.thing_groups.is_some() {
                    let missing: Vec<&ThingGroupName> =
                        wanted_groups.iter().filter(|g| !facts.thing_groups.contains(g)).collect();
                    let extra: Vec<&ThingGroupName> =
                        facts.thing_groups.iter().filter(|g| !wanted_groups.contains(g)).collect();
                    match o.thing_groups {
                        Override::DoNothing => {}
                        Override::Fail if !missing.is_empty() || !extra.is_empty() => {
                            return Err(conflict(&t.logical, format!("thing {}", t.thing_name)));
                        }
                        Override::Fail => {}
                        Override::Merge | Override::Replace => {
                            if o.thing_groups == Override::Replace {
                                for group in extra {
                                    writes.push(PlanWrite::RemoveThingFromGroup {
                                        thing: t.thing_name.clone(),
                                        group: group.clone(),
                                    });
                                }
                            }
                            for group in missing {
                                writes.push(PlanWrite::AddThingToGroup {
                                    thing: t.thing_name.clone(),
                                    group: group.clone(),
                                });
                            }
                        }
                    }
                }
                resource_arns.push((t.logical.clone(), thing.thing_arn.clone()));
            }
        }
    }
    for p in &bound.policies {
        let arn = scope.policy_arn(&p.policy_name);
        if !facts.policies_existing.contains(&p.policy_name) {
            let Some(document) = &p.document else {
                return Err(ThingError::PolicyNotFound { policy_name: p.policy_name.to_string() }.into());
            };
            writes.push(PlanWrite::CreatePolicy(PolicyDescription {
                policy_name: p.policy_name.clone(),
                policy_arn: arn.clone(),
                policy_document: document.clone(),
                creation_date: now,
                last_modified_date: now,
                generation_id: generation_id(rng),
                tags: Tags::default(),
            }));
        }
        if let Some(target) = &principal {
            writes.push(PlanWrite::AttachPolicy { policy: p.policy_name.clone(), target: target.clone() });
        }
        resource_arns.push((p.logical.clone(), arn));
    }
    if let (Some(t), Some(target)) = (&bound.thing, &principal) {
        writes.push(PlanWrite::AttachThingPrincipal { thing: t.thing_name.clone(), principal: target.clone() });
    }
    let certificate = match certificate {
        None => None,
        Some((c, mut d)) => {
            let set = facts.certificate_is_new
                || match c.status_override {
                    Override::Replace | Override::Merge => true,
                    Override::DoNothing => false,
                    Override::Fail if d.status != c.status => {
                        return Err(conflict(&c.logical, format!("certificate {}", d.certificate_id)));
                    }
                    Override::Fail => false,
                };
            if set && d.status != c.status {
                if d.status == CertificateStatus::Revoked {
                    return Err(CertificateError::StatusFinal { status: d.status, new_status: c.status }.into());
                }
                d.status = c.status;
                d.last_modified_date = now;
                d.customer_version = d.customer_version.saturating_add(1);
                d.generation_id = generation_id(rng);
                writes.push(PlanWrite::UpdateCertificate(d.clone()));
            }
            Some(d)
        }
    };
    Ok(Plan {
        writes,
        resource_arns,
        thing_name: bound.thing.as_ref().map(|t| t.thing_name.clone()),
        device_configuration: bound.device_configuration.clone(),
        certificate,
    })
}
