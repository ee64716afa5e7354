//! IoT policies and what they and things are attached to (rule 10.2): CreatePolicy, GetPolicy,
//! DeletePolicy, AttachPolicy, DetachPolicy, AttachThingPrincipal, DetachThingPrincipal, and
//! the listings of these attachments. Policies are stored and attached, not evaluated.

use rand_core::CryptoRng;

use crate::error::{CertificateError, Error, ThingError};
use crate::model::arn::ResourceArn;
use crate::model::description::generation_id;
use crate::model::names::{PolicyName, ThingName};
use crate::model::paging::{Keyed, Listing};
use crate::model::policy_document::PolicyDocument;
use crate::model::scope::AccountScope;
use crate::model::tags::Tags;
use crate::x509::time::UnixTime;

/// Most policies attached to one target (AWS IoT quota: 10).
pub const MAX_POLICIES_PER_TARGET: usize = 10;
/// The policy's only version (versions are not kept: SetDefaultPolicyVersion is not served).
pub const POLICY_VERSION_ID: &str = "1";

/// A policy as the registry keeps it (GetPolicy's members).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyDescription {
    /// policyName.
    pub policy_name: PolicyName,
    /// policyArn.
    pub policy_arn: String,
    /// policyDocument, as given.
    pub policy_document: PolicyDocument,
    /// creationDate.
    pub creation_date: UnixTime,
    /// lastModifiedDate.
    pub last_modified_date: UnixTime,
    /// generationId: a UUID v4.
    pub generation_id: String,
    /// tags.
    pub tags: Tags,
}

impl PolicyDescription {
    /// defaultVersionId: always [`POLICY_VERSION_ID`].
    #[must_use]
    pub fn default_version_id(&self) -> &'static str {
        POLICY_VERSION_ID
    }
}

/// A policy is listed in name order.
impl Keyed for PolicyDescription {
    type Key = String;

    fn page_key(&self) -> String {
        self.policy_name.as_str().to_owned()
    }
}

/// CreatePolicy's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatePolicyRequest {
    /// policyName.
    pub policy_name: PolicyName,
    /// policyDocument.
    pub policy_document: PolicyDocument,
    /// tags.
    pub tags: Tags,
}

impl CreatePolicyRequest {
    /// A policy `policy_name` with `policy_document` and no tags.
    #[must_use]
    pub fn new(policy_name: PolicyName, policy_document: PolicyDocument) -> Self {
        Self { policy_name, policy_document, tags: Tags::default() }
    }
}

/// CreatePolicy.
///
/// # Errors
/// [`ThingError::PolicyExists`] when the scope holds a policy by that name.
pub fn create_policy<R: CryptoRng + ?Sized>(
    request: &CreatePolicyRequest,
    existing: Option<&PolicyDescription>,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<PolicyDescription, Error> {
    if let Some(existing) = existing {
        return Err(ThingError::PolicyExists {
            policy_name: existing.policy_name.to_string(),
            policy_arn: existing.policy_arn.clone(),
        }
        .into());
    }
    Ok(PolicyDescription {
        policy_name: request.policy_name.clone(),
        policy_arn: scope.policy_arn(&request.policy_name),
        policy_document: request.policy_document.clone(),
        creation_date: now,
        last_modified_date: now,
        generation_id: generation_id(rng),
        tags: request.tags.clone(),
    })
}

/// GetPolicy.
///
/// # Errors
/// [`ThingError::PolicyNotFound`].
pub fn get_policy<'a>(
    name: &PolicyName,
    stored: Option<&'a PolicyDescription>,
) -> Result<&'a PolicyDescription, Error> {
    stored.ok_or_else(|| ThingError::PolicyNotFound { policy_name: name.to_string() }.into())
}

/// DeletePolicy, given how many targets the policy is attached to.
///
/// # Errors
/// [`ThingError::PolicyNotFound`]; [`ThingError::PolicyAttached`] (DeleteConflictException).
pub fn delete_policy(name: &PolicyName, stored: Option<&PolicyDescription>, targets: usize) -> Result<(), Error> {
    get_policy(name, stored)?;
    if targets > 0 {
        return Err(ThingError::PolicyAttached { policy_name: name.to_string(), targets }.into());
    }
    Ok(())
}

/// What the caller's store knows for AttachPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachPolicyFacts {
    /// The policy exists.
    pub policy_exists: bool,
    /// The target certificate exists.
    pub target_exists: bool,
    /// The policy is attached to the target already.
    pub attached: bool,
    /// How many policies the target has attached.
    pub target_policies: usize,
}

impl AttachPolicyFacts {
    /// The facts: whether the policy and the target exist, whether this attachment exists, and
    /// how many policies the target has.
    #[must_use]
    pub fn new(policy_exists: bool, target_exists: bool, attached: bool, target_policies: usize) -> Self {
        Self { policy_exists, target_exists, attached, target_policies }
    }
}

/// AttachPolicy: `true` when the attachment is new (to be stored); attaching again is a
/// success that changes nothing.
///
/// # Errors
/// [`ThingError::PolicyNotFound`], the target's [`CertificateError::NotFound`]
/// (ResourceNotFoundException), [`ThingError::PolicyLimit`] (LimitExceededException).
pub fn attach_policy(name: &PolicyName, target: &ResourceArn, facts: AttachPolicyFacts) -> Result<bool, Error> {
    if !facts.policy_exists {
        return Err(ThingError::PolicyNotFound { policy_name: name.to_string() }.into());
    }
    if !facts.target_exists {
        return Err(CertificateError::NotFound { certificate_id: target.certificate_id().clone() }.into());
    }
    if facts.attached {
        return Ok(false);
    }
    if facts.target_policies >= MAX_POLICIES_PER_TARGET {
        return Err(ThingError::PolicyLimit { target: target.to_string(), max: MAX_POLICIES_PER_TARGET }.into());
    }
    Ok(true)
}

/// AttachThingPrincipal: the thing and the certificate must exist; attaching again changes
/// nothing.
///
/// # Errors
/// [`ThingError::ThingNotFound`], the principal's [`CertificateError::NotFound`].
pub fn attach_thing_principal(
    thing: &ThingName,
    principal: &ResourceArn,
    thing_exists: bool,
    principal_exists: bool,
) -> Result<(), Error> {
    if !thing_exists {
        return Err(ThingError::ThingNotFound { thing_name: thing.to_string() }.into());
    }
    if !principal_exists {
        return Err(CertificateError::NotFound { certificate_id: principal.certificate_id().clone() }.into());
    }
    Ok(())
}

/// DetachThingPrincipal: the thing must exist; detaching what is not attached changes nothing
/// (our rule).
///
/// # Errors
/// [`ThingError::ThingNotFound`].
pub fn detach_thing_principal(thing: &ThingName, thing_exists: bool) -> Result<(), Error> {
    if thing_exists { Ok(()) } else { Err(ThingError::ThingNotFound { thing_name: thing.to_string() }.into()) }
}

/// The listing ListPolicies' markers are bound to.
#[must_use]
pub fn policies_listing(scope: &AccountScope) -> Listing {
    Listing::new("ListPolicies", scope)
}

/// The listing ListAttachedPolicies' markers are bound to: the target's.
#[must_use]
pub fn attached_policies_listing(scope: &AccountScope, target: &ResourceArn) -> Listing {
    Listing::new("ListAttachedPolicies", scope).with_filter("target", Some(target.as_str()))
}

/// The listing ListTargetsForPolicy's markers are bound to: the policy's.
#[must_use]
pub fn policy_targets_listing(scope: &AccountScope, policy: &PolicyName) -> Listing {
    Listing::new("ListTargetsForPolicy", scope).with_filter("policyName", Some(policy.as_str()))
}

/// The listing ListThingPrincipals' tokens are bound to: the thing's.
#[must_use]
pub fn thing_principals_listing(scope: &AccountScope, thing: &ThingName) -> Listing {
    Listing::new("ListThingPrincipals", scope).with_filter("thingName", Some(thing.as_str()))
}

/// The listing ListPrincipalThings' tokens are bound to: the principal's.
#[must_use]
pub fn principal_things_listing(scope: &AccountScope, principal: &ResourceArn) -> Listing {
    Listing::new("ListPrincipalThings", scope).with_filter("principal", Some(principal.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::certificate_id::CertificateId;
    use crate::model::scope::{AccountId, Region};

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
    }

    const NOW: UnixTime = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z

    fn policy() -> PolicyDescription {
        let request = CreatePolicyRequest::new(
            PolicyName::parse("p1").unwrap(),
            PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow"}}"#).unwrap(),
        );
        let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
        create_policy(&request, None, &scope(), &mut rng, NOW).unwrap()
    }

    fn cert() -> ResourceArn {
        let id = CertificateId::of_der(b"device");
        ResourceArn::parse_certificate(&scope().certificate_arn(&id), &scope()).unwrap()
    }

    #[test]
    fn policies_are_created_once_and_deleted_when_detached() {
        let p = policy();
        assert_eq!(p.policy_arn, "arn:aws:iot:us-east-1:123456789012:policy/p1");
        assert_eq!(p.default_version_id(), "1");
        let request = CreatePolicyRequest::new(p.policy_name.clone(), p.policy_document.clone());
        let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(4);
        assert!(matches!(
            create_policy(&request, Some(&p), &scope(), &mut rng, NOW),
            Err(Error::Thing(ThingError::PolicyExists { .. }))
        ));
        assert!(matches!(
            delete_policy(&p.policy_name, Some(&p), 2),
            Err(Error::Thing(ThingError::PolicyAttached { targets: 2, .. }))
        ));
        assert_eq!(delete_policy(&p.policy_name, Some(&p), 0), Ok(()));
        assert!(matches!(delete_policy(&p.policy_name, None, 0), Err(Error::Thing(ThingError::PolicyNotFound { .. }))));
    }

    #[test]
    fn attachments_need_both_ends_and_stop_at_ten() {
        let name = PolicyName::parse("p1").unwrap();
        let all = AttachPolicyFacts { policy_exists: true, target_exists: true, attached: false, target_policies: 0 };
        assert_eq!(attach_policy(&name, &cert(), all), Ok(true));
        assert_eq!(attach_policy(&name, &cert(), AttachPolicyFacts { attached: true, ..all }), Ok(false));
        assert!(matches!(
            attach_policy(&name, &cert(), AttachPolicyFacts { policy_exists: false, ..all }),
            Err(Error::Thing(ThingError::PolicyNotFound { .. }))
        ));
        assert!(matches!(
            attach_policy(&name, &cert(), AttachPolicyFacts { target_exists: false, ..all }),
            Err(Error::Certificate(CertificateError::NotFound { .. }))
        ));
        assert!(matches!(
            attach_policy(&name, &cert(), AttachPolicyFacts { target_policies: 10, ..all }),
            Err(Error::Thing(ThingError::PolicyLimit { max: 10, .. }))
        ));
        let thing = ThingName::parse("t1").unwrap();
        assert_eq!(attach_thing_principal(&thing, &cert(), true, true), Ok(()));
        assert!(matches!(
            attach_thing_principal(&thing, &cert(), false, true),
            Err(Error::Thing(ThingError::ThingNotFound { .. }))
        ));
        assert!(matches!(
            attach_thing_principal(&thing, &cert(), true, false),
            Err(Error::Certificate(CertificateError::NotFound { .. }))
        ));
        assert!(matches!(detach_thing_principal(&thing, false), Err(Error::Thing(ThingError::ThingNotFound { .. }))));
    }
}
