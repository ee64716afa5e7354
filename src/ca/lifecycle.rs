//! The rest of a CA's life as pure decisions: DescribeCACertificate, UpdateCACertificate,
//! DeleteCACertificate, ListCACertificates, DeleteRegistrationCode, and TagResource,
//! UntagResource, ListTagsForResource on CA and device certificates.
//!
//! Each takes what the caller's store holds (the stored [`CaCertificateDescription`], the
//! resource's [`Tags`], `None` when there is nothing) and returns what to store or answer, or
//! the [`Error`]. Checks run in AWS's order: the request's own members (InvalidRequestException),
//! then whether the account holds the resource (ResourceNotFoundException), then its state.

use rand_core::CryptoRng;

use crate::error::{Error, LifecycleError, RegistryError, ResourceError};
use crate::model::arn::ResourceArn;
use crate::model::certificate_id::CertificateId;
use crate::model::description::{self, CaCertificateDescription};
use crate::model::enums::{AutoRegistrationStatus, CaStatus};
use crate::model::paging::{CreationKey, Keyed, ListQuery, Listing, MarkerKey, Page, SortOrder, page_slice};
use crate::model::registration_code::RegistrationCode;
use crate::model::registration_config::RegistrationConfig;
use crate::model::scope::AccountScope;
use crate::model::tags::{TagKeys, Tags};
use crate::model::template::{TemplateFacts, TemplateName};
use crate::x509::time::UnixTime;

impl Keyed for CaCertificateDescription {
    type Key = CreationKey;

    fn page_key(&self) -> CreationKey {
        CreationKey::new(self.creation_date, self.certificate_id.clone())
    }
}

/// The stored CA `id` of the account in `scope`, or ResourceNotFoundException. A description
/// whose ARN is not this account's, region's and partition's (another account's CA, handed
/// over by a store keyed by id alone) is not the account's.
fn held<'a>(
    id: &CertificateId,
    stored: Option<&'a CaCertificateDescription>,
    scope: &AccountScope,
) -> Result<&'a CaCertificateDescription, Error> {
    stored
        .filter(|d| d.certificate_id == *id && d.certificate_arn == scope.ca_certificate_arn(id))
        .ok_or_else(|| RegistryError::CaCertificateNotFound { certificate_id: id.to_string() }.into())
}

/// DescribeCACertificate: the stored description of CA `id`.
///
/// # Errors
/// [`RegistryError::CaCertificateNotFound`] when the account does not hold it.
pub fn describe_ca_certificate<'a>(
    id: &CertificateId,
    stored: Option<&'a CaCertificateDescription>,
    scope: &AccountScope,
) -> Result<&'a CaCertificateDescription, Error> {
    held(id, stored, scope)
}

/// An UpdateCACertificate request (`PUT /cacertificate/{caCertificateId}`): newStatus and
/// newAutoRegistrationStatus from the query string, registrationConfig and
/// removeAutoRegistration from the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateCaCertificateRequest {
    certificate_id: CertificateId,
    new_status: Option<CaStatus>,
    new_auto_registration_status: Option<AutoRegistrationStatus>,
    registration_config: Option<RegistrationConfig>,
    remove_auto_registration: bool,
}

impl UpdateCaCertificateRequest {
    /// A request that changes nothing on CA `certificate_id`.
    #[must_use]
    pub fn new(certificate_id: CertificateId) -> Self {
        Self {
            certificate_id,
            new_status: None,
            new_auto_registration_status: None,
            registration_config: None,
            remove_auto_registration: false,
        }
    }

    /// Sets `newStatus`.
    #[must_use]
    pub fn with_new_status(mut self, status: CaStatus) -> Self {
        self.new_status = Some(status);
        self
    }

    /// Sets `newAutoRegistrationStatus`.
    #[must_use]
    pub fn with_new_auto_registration_status(mut self, status: AutoRegistrationStatus) -> Self {
        self.new_auto_registration_status = Some(status);
        self
    }

    /// Sets `registrationConfig`.
    #[must_use]
    pub fn with_registration_config(mut self, config: RegistrationConfig) -> Self {
        self.registration_config = Some(config);
        self
    }

    /// Sets `removeAutoRegistration`.
    #[must_use]
    pub fn with_remove_auto_registration(mut self, remove: bool) -> Self {
        self.remove_auto_registration = remove;
        self
    }

    /// The CA to update.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.certificate_id
    }

    /// `newStatus`.
    #[must_use]
    pub fn new_status(&self) -> Option<CaStatus> {
        self.new_status
    }

    /// `newAutoRegistrationStatus`.
    #[must_use]
    pub fn new_auto_registration_status(&self) -> Option<AutoRegistrationStatus> {
        self.new_auto_registration_status
    }

    /// `registrationConfig`.
    #[must_use]
    pub fn registration_config(&self) -> Option<&RegistrationConfig> {
        self.registration_config.as_ref()
    }

    /// `removeAutoRegistration`.
    #[must_use]
    pub fn remove_auto_registration(&self) -> bool {
        self.remove_auto_registration
    }

    /// The JITP template to look up before [`update_ca_certificate`], if registrationConfig
    /// names one.
    #[must_use]
    pub fn template_name(&self) -> Option<&TemplateName> {
        self.registration_config.as_ref().and_then(RegistrationConfig::template_name)
    }
}

/// What UpdateCACertificate leaves: the description to store, and whether it differs from the
/// one stored (a request that changes nothing leaves the description as it was, version and
/// generationId included, and needs no write).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaCertificateUpdate {
    /// The description after the update.
    pub description: CaCertificateDescription,
    /// Whether anything changed.
    pub changed: bool,
}

/// UpdateCACertificate. `template` is what the account holds under the request's
/// [`UpdateCaCertificateRequest::template_name`], if it names one. A change bumps
/// customerVersion, sets lastModifiedDate to `now` and draws a new generationId from `rng`.
///
/// # Errors
/// In this order: [`LifecycleError::RemoveAutoRegistrationWithConfig`] (InvalidRequestException);
/// [`RegistryError::CaCertificateNotFound`]; [`RegistryError::TemplateNotFound`] /
/// [`RegistryError::TemplateWrongType`] for a template that is missing or not JITP.
pub fn update_ca_certificate<R: CryptoRng + ?Sized>(
    request: &UpdateCaCertificateRequest,
    stored: Option<&CaCertificateDescription>,
    template: Option<TemplateFacts>,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<CaCertificateUpdate, Error> {
    if request.remove_auto_registration && request.registration_config.is_some() {
        return Err(LifecycleError::RemoveAutoRegistrationWithConfig.into());
    }
    let current = held(&request.certificate_id, stored, scope)?;
    if let Some(name) = request.template_name() {
        name.require_jitp(template)?;
    }
    let mut next = current.clone();
    if let Some(status) = request.new_status {
        next.status = status;
    }
    if let Some(status) = request.new_auto_registration_status {
        next.auto_registration_status = status;
    }
    if request.remove_auto_registration {
        next.registration_config = None;
    } else if let Some(config) = &request.registration_config {
        next.registration_config = Some(config.clone());
    }
    let changed = next != *current;
    if changed {
        next.customer_version = current.customer_version.saturating_add(1);
        next.last_modified_date = now;
        next.generation_id = description::generation_id(rng);
    }
    Ok(CaCertificateUpdate { description: next, changed })
}

/// DeleteCACertificate: the CA may go when it is INACTIVE. Deleting it frees its place in the
/// per-subject limit and, in DEFAULT mode, the region-wide claim on it; the device
/// certificates it signed stay registered.
///
/// # Errors
/// [`RegistryError::CaCertificateNotFound`]; [`LifecycleError::CaCertificateActive`]
/// (CertificateStateException) for an ACTIVE CA.
pub fn delete_ca_certificate(
    id: &CertificateId,
    stored: Option<&CaCertificateDescription>,
    scope: &AccountScope,
) -> Result<(), Error> {
    let current = held(id, stored, scope)?;
    if current.status == CaStatus::Active {
        return Err(LifecycleError::CaCertificateActive { certificate_id: id.to_string() }.into());
    }
    Ok(())
}

/// The listing ListCACertificates' markers are bound to: the scope, the templateName filter and
/// (through the query) the order. A SQL store passes it to [`ListQuery::after`] and
/// [`Page::from_rows`].
#[must_use]
pub fn ca_certificates_listing(query: &ListQuery, scope: &AccountScope) -> Listing {
    Listing::new("ListCACertificates", scope).with_filter("templateName", query.template_name().map(|n| n.as_str()))
}

/// ListCACertificates over the account's stored CAs (in any order): the query's page, newest
/// first unless ascending, ordered by (creationDate, certificateId), only CAs whose
/// registrationConfig names the templateName filter when there is one.
///
/// # Errors
/// [`crate::PagingError::Marker`] for a marker this listing did not make.
pub fn list_ca_certificates<'a>(
    stored: &'a [CaCertificateDescription],
    query: &ListQuery,
    scope: &AccountScope,
    key: &MarkerKey,
) -> Result<Page<&'a CaCertificateDescription>, Error> {
    let matching: Vec<&CaCertificateDescription> = stored
        .iter()
        .filter(|d| d.certificate_arn == scope.ca_certificate_arn(&d.certificate_id))
        .filter(|d| match query.template_name() {
            None => true,
            Some(name) => d.registration_config.as_ref().and_then(RegistrationConfig::template_name) == Some(name),
        })
        .collect();
    let page = page_slice(&matching, query, key, &ca_certificates_listing(query, scope))?;
    Ok(Page { items: page.items.into_iter().copied().collect(), next_marker: page.next_marker })
}

/// DeleteRegistrationCode: the account's code goes; the next GetRegistrationCode makes a new
/// one, and proofs made with the old one no longer match.
///
/// # Errors
/// [`LifecycleError::NoRegistrationCode`] (ResourceNotFoundException) when there is none.
pub fn delete_registration_code(current: Option<&RegistrationCode>) -> Result<(), Error> {
    current.map(|_| ()).ok_or_else(|| LifecycleError::NoRegistrationCode.into())
}

/// A TagResource request: `resourceArn` and `tags`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TagResourceRequest {
    /// The resource.
    pub resource_arn: ResourceArn,
    /// The tags to add or overwrite.
    pub tags: Tags,
}

impl TagResourceRequest {
    /// Tags `resource_arn` with `tags`.
    #[must_use]
    pub fn new(resource_arn: ResourceArn, tags: Tags) -> Self {
        Self { resource_arn, tags }
    }
}

/// An UntagResource request: `resourceArn` and `tagKeys`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UntagResourceRequest {
    /// The resource.
    pub resource_arn: ResourceArn,
    /// The keys to remove.
    pub tag_keys: TagKeys,
}

impl UntagResourceRequest {
    /// Removes `tag_keys` from `resource_arn`.
    #[must_use]
    pub fn new(resource_arn: ResourceArn, tag_keys: TagKeys) -> Self {
        Self { resource_arn, tag_keys }
    }
}

/// A ListTagsForResource request: `resourceArn`, and the paging of its `nextToken`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListTagsForResourceRequest {
    /// The resource.
    pub resource_arn: ResourceArn,
    /// The page size and `nextToken`. Tags are always listed in ascending key order, whatever
    /// the query's order says.
    pub query: ListQuery,
}

impl ListTagsForResourceRequest {
    /// The page of `resource_arn`'s tags that `query` asks for.
    #[must_use]
    pub fn new(resource_arn: ResourceArn, query: ListQuery) -> Self {
        Self { resource_arn, query }
    }
}

fn resource<'a>(arn: &ResourceArn, current: Option<&'a Tags>) -> Result<&'a Tags, Error> {
    current.ok_or_else(|| ResourceError::NotFound { arn: arn.to_string() }.into())
}

/// TagResource: the resource's tags with the request's added, a key already there taking the
/// new value. `current` is the resource's tags, `None` when the account does not hold it.
/// Tags are not the certificate's description: customerVersion and generationId stay.
///
/// # Errors
/// [`ResourceError::NotFound`]; [`LifecycleError::TagLimit`] (LimitExceededException) when the
/// resource would hold more than 50 tags.
pub fn tag_resource(request: &TagResourceRequest, current: Option<&Tags>) -> Result<Tags, Error> {
    resource(&request.resource_arn, current)?.merged(&request.tags)
}

/// UntagResource: the resource's tags without the request's keys (absent keys are ignored).
///
/// # Errors
/// [`ResourceError::NotFound`] when the account does not hold the resource.
pub fn untag_resource(request: &UntagResourceRequest, current: Option<&Tags>) -> Result<Tags, Error> {
    Ok(resource(&request.resource_arn, current)?.without(&request.tag_keys))
}

/// The listing ListTagsForResource's nextTokens are bound to: the scope and the resource.
#[must_use]
pub fn tags_listing(request: &ListTagsForResourceRequest, scope: &AccountScope) -> Listing {
    Listing::new("ListTagsForResource", scope).with_filter("resourceArn", Some(request.resource_arn.as_str()))
}

/// ListTagsForResource: a page of the resource's tags in key order (Unicode code point order).
///
/// # Errors
/// [`ResourceError::NotFound`]; [`crate::PagingError::Marker`] for a nextToken this listing did
/// not make.
pub fn list_tags_for_resource<'a>(
    request: &ListTagsForResourceRequest,
    current: Option<&'a Tags>,
    scope: &AccountScope,
    key: &MarkerKey,
) -> Result<Page<&'a (String, String)>, Error> {
    let tags = resource(&request.resource_arn, current)?;
    let query = request.query.clone().with_order(SortOrder::Ascending);
    page_slice(tags.as_slice(), &query, key, &tags_listing(request, scope))
}
