//! DescribeCertificate, UpdateCertificate, DeleteCertificate, ListCertificates and
//! ListCertificatesByCA as pure decisions over what the caller's store holds (README table
//! "Device certificates", rule 7.3; AWS IoT API Reference).

use rand_core::CryptoRng;

use crate::device::certificate::CertificateDescription;
use crate::error::{CertificateError, Error};
use crate::model::certificate_id::CertificateId;
use crate::model::description::generation_id;
use crate::model::enums::CertificateStatus;
use crate::model::paging::{CreationKey, Keyed, ListQuery, Listing, MarkerKey, Page, page_slice};
use crate::model::scope::AccountScope;
use crate::x509::time::UnixTime;

/// DescribeCertificate: the stored description, or ResourceNotFoundException when the account
/// holds no certificate `id` (also when another account holds it).
///
/// # Errors
/// [`CertificateError::NotFound`].
pub fn describe_certificate(
    id: &CertificateId,
    stored: Option<CertificateDescription>,
) -> Result<CertificateDescription, Error> {
    stored.ok_or_else(|| not_found(id))
}

fn not_found(id: &CertificateId) -> Error {
    CertificateError::NotFound { certificate_id: id.clone() }.into()
}

/// An UpdateCertificate request (`PUT /certificate/{certificateId}?newStatus=…`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateCertificateRequest {
    certificate_id: CertificateId,
    new_status: CertificateStatus,
}

impl UpdateCertificateRequest {
    /// Both members are required.
    #[must_use]
    pub fn new(certificate_id: CertificateId, new_status: CertificateStatus) -> Self {
        Self { certificate_id, new_status }
    }

    /// The certificate to update: look it up.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.certificate_id
    }

    /// `newStatus`.
    #[must_use]
    pub fn new_status(&self) -> CertificateStatus {
        self.new_status
    }
}

/// What UpdateCertificate decided: the description to store, and whether it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateUpdate {
    /// The description after the update (the stored one when nothing changed).
    pub description: CertificateDescription,
    /// `false` when newStatus was the current status: nothing is to be written.
    pub changed: bool,
}

/// UpdateCertificate. newStatus must be ACTIVE, INACTIVE or REVOKED (the other states are
/// AWS IoT's own); the account must hold the certificate; REVOKED is final, and a certificate
/// pending transfer cannot be changed. A change bumps customerVersion, sets lastModifiedDate
/// to `now` and draws a new generationId from `rng`. PENDING_ACTIVATION → ACTIVE is how a
/// just-in-time registration handler activates a device.
///
/// # Errors
/// [`CertificateError::StatusNotSettable`] (InvalidRequestException),
/// [`CertificateError::NotFound`] (ResourceNotFoundException),
/// [`CertificateError::StatusFinal`] (CertificateStateException).
pub fn update_certificate<R: CryptoRng + ?Sized>(
    request: &UpdateCertificateRequest,
    stored: Option<CertificateDescription>,
    rng: &mut R,
    now: UnixTime,
) -> Result<CertificateUpdate, Error> {
    let new_status = request.new_status.settable("newStatus")?;
    let mut description = stored.ok_or_else(|| not_found(&request.certificate_id))?;
    if description.status == new_status {
        return Ok(CertificateUpdate { description, changed: false });
    }
    if matches!(description.status, CertificateStatus::Revoked | CertificateStatus::PendingTransfer) {
        return Err(CertificateError::StatusFinal { status: description.status, new_status }.into());
    }
    description.status = new_status;
    description.customer_version = description.customer_version.saturating_add(1);
    description.last_modified_date = now;
    description.generation_id = generation_id(rng);
    Ok(CertificateUpdate { description, changed: true })
}

/// A DeleteCertificate request (`DELETE /certificate/{certificateId}?forceDelete=…`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteCertificateRequest {
    certificate_id: CertificateId,
    force_delete: bool,
}

impl DeleteCertificateRequest {
    /// Deletes `certificate_id`, refusing while things or policies are attached.
    #[must_use]
    pub fn new(certificate_id: CertificateId) -> Self {
        Self { certificate_id, force_delete: false }
    }

    /// Sets `forceDelete`: delete even with things or policies attached.
    #[must_use]
    pub fn with_force_delete(mut self, force: bool) -> Self {
        self.force_delete = force;
        self
    }

    /// The certificate to delete: look it up, and whether anything is attached to it.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.certificate_id
    }

    /// `forceDelete`.
    #[must_use]
    pub fn force_delete(&self) -> bool {
        self.force_delete
    }
}

/// DeleteCertificate, given the stored status (`None`: the account does not hold it) and
/// whether things or policies are attached. An ACTIVE certificate must be deactivated
/// first; attachments refuse unless forceDelete, which skips that rule only.
///
/// # Errors
/// [`CertificateError::NotFound`] (ResourceNotFoundException),
/// [`CertificateError::DeleteActive`] (CertificateStateException),
/// [`CertificateError::Attached`] (DeleteConflictException).
pub fn delete_certificate(
    request: &DeleteCertificateRequest,
    stored: Option<CertificateStatus>,
    attached: bool,
) -> Result<(), Error> {
    let status = stored.ok_or_else(|| not_found(&request.certificate_id))?;
    if status == CertificateStatus::Active {
        return Err(CertificateError::DeleteActive.into());
    }
    if attached && !request.force_delete {
        return Err(CertificateError::Attached.into());
    }
    Ok(())
}

/// Device certificates are listed by `(creationDate, certificateId)`, as CA certificates are.
impl Keyed for CertificateDescription {
    type Key = CreationKey;

    fn page_key(&self) -> CreationKey {
        CreationKey::new(self.creation_date, self.certificate_id.clone())
    }
}

/// The listing ListCertificates' markers are bound to (`ca` `None`), or ListCertificatesByCA's
/// for the CA `ca`: the scope, the CA and (through the query) the order. A SQL store passes it
/// to [`ListQuery::after`] and [`Page::from_rows`].
#[must_use]
pub fn certificates_listing(ca: Option<&CertificateId>, scope: &AccountScope) -> Listing {
    match ca {
        None => Listing::new("ListCertificates", scope),
        Some(id) => Listing::new("ListCertificatesByCA", scope).with_filter("caCertificateId", Some(id.as_str())),
    }
}

/// ListCertificates over the account's stored device certificates (in any order), or
/// ListCertificatesByCA with `ca`: only those registered under that CA. A page of the query,
/// newest first unless ascending, ordered by (creationDate, certificateId). A CA the account
/// does not hold lists nothing.
///
/// # Errors
/// [`crate::PagingError::Marker`] for a marker this listing did not make.
pub fn list_certificates<'a>(
    stored: &'a [CertificateDescription],
    ca: Option<&CertificateId>,
    query: &ListQuery,
    scope: &AccountScope,
    key: &MarkerKey,
) -> Result<Page<&'a CertificateDescription>, Error> {
    let matching: Vec<&CertificateDescription> = stored
        .iter()
        .filter(|d| d.certificate_arn == scope.certificate_arn(&d.certificate_id))
        .filter(|d| ca.is_none_or(|ca| d.ca_certificate_id.as_ref() == Some(ca)))
        .collect();
    let page = page_slice(&matching, query, key, &certificates_listing(ca, scope))?;
    Ok(Page { items: page.items.into_iter().copied().collect(), next_marker: page.next_marker })
}
