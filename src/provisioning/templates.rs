//! A provisioning template's whole life (rule 11.1): CreateProvisioningTemplate,
//! DescribeProvisioningTemplate, ListProvisioningTemplates, UpdateProvisioningTemplate,
//! DeleteProvisioningTemplate and the versions (create, list, describe, delete), as pure
//! decisions over what the caller's store holds. Every body is checked by the engine
//! ([`ProvisioningTemplate::parse`]) on its way in.

use crate::error::{Error, ProvisioningError, RegistryError, RequestError};
use crate::model::enums::TemplateType;
use crate::model::paging::{Keyed, Listing};
use crate::model::registration_config::RoleArn;
use crate::model::scope::AccountScope;
use crate::model::tags::Tags;
use crate::model::template::{TemplateFacts, TemplateName};
use crate::provisioning::template::ProvisioningTemplate;
use crate::x509::time::UnixTime;

/// Most versions a template keeps (AWS IoT quota: 5).
pub const MAX_TEMPLATE_VERSIONS: usize = 5;
/// Longest template description. AWS model: `TemplateDescription` max 500.
pub const MAX_TEMPLATE_DESCRIPTION_CHARS: usize = 500;
/// The only pre-provisioning hook payload version (AWS: `2020-04-01`).
pub const HOOK_PAYLOAD_VERSION: &str = "2020-04-01";
/// Longest hook target ARN. AWS model: `TargetArn` max 2048.
pub const MAX_HOOK_TARGET_CHARS: usize = 2048;

/// A pre-provisioning hook: the function RegisterThing asks before it provisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ProvisioningHook {
    /// targetArn.
    pub target_arn: String,
    /// payloadVersion.
    pub payload_version: String,
}

impl ProvisioningHook {
    /// Checks `targetArn` (1..=2048 characters) and `payloadVersion` (absent: 2020-04-01, the
    /// only version).
    ///
    /// # Errors
    /// [`RequestError::Length`] / [`RequestError::Enum`] (InvalidRequestException).
    pub fn new(target_arn: &str, payload_version: Option<&str>) -> Result<Self, Error> {
        let len = target_arn.chars().count();
        if len == 0 || len > MAX_HOOK_TARGET_CHARS {
            return Err(RequestError::Length {
                member: "preProvisioningHook.targetArn",
                len,
                min: 1,
                max: MAX_HOOK_TARGET_CHARS,
            }
            .into());
        }
        let version = payload_version.unwrap_or(HOOK_PAYLOAD_VERSION);
        if version != HOOK_PAYLOAD_VERSION {
            return Err(RequestError::Enum {
                member: "preProvisioningHook.payloadVersion",
                value: version.chars().take(256).collect(),
                allowed: &[HOOK_PAYLOAD_VERSION],
            }
            .into());
        }
        Ok(Self { target_arn: target_arn.to_owned(), payload_version: version.to_owned() })
    }
}

/// A template as the registry keeps it (DescribeProvisioningTemplate's members, but the body,
/// which is its default version's).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateDescription {
    /// templateName.
    pub template_name: TemplateName,
    /// templateArn.
    pub template_arn: String,
    /// description.
    pub description: Option<String>,
    /// enabled.
    pub enabled: bool,
    /// provisioningRoleArn.
    pub provisioning_role_arn: RoleArn,
    /// type.
    pub template_type: TemplateType,
    /// preProvisioningHook.
    pub pre_provisioning_hook: Option<ProvisioningHook>,
    /// defaultVersionId.
    pub default_version_id: u32,
    /// creationDate.
    pub creation_date: UnixTime,
    /// lastModifiedDate.
    pub last_modified_date: UnixTime,
    /// tags.
    pub tags: Tags,
}

impl TemplateDescription {
    /// The facts a claim or a registrationConfig is decided on.
    #[must_use]
    pub fn facts(&self) -> TemplateFacts {
        TemplateFacts::new(self.template_type).with_enabled(self.enabled)
    }
}

/// Templates are listed in name order.
impl Keyed for TemplateDescription {
    type Key = String;

    fn page_key(&self) -> String {
        self.template_name.as_str().to_owned()
    }
}

/// One version of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateVersion {
    /// versionId: 1, 2, … in the order they were made.
    pub version_id: u32,
    /// templateBody, as given (checked by the engine).
    pub template_body: String,
    /// creationDate.
    pub creation_date: UnixTime,
}

impl TemplateVersion {
    /// A version as a store keeps it.
    #[must_use]
    pub fn new(version_id: u32, template_body: String, creation_date: UnixTime) -> Self {
        Self { version_id, template_body, creation_date }
    }
}

/// Versions are listed in id order.
impl Keyed for TemplateVersion {
    type Key = String;

    fn page_key(&self) -> String {
        // Zero-padded, so text order is number order.
        format!("{:010}", self.version_id)
    }
}

/// CreateProvisioningTemplate's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateTemplateRequest {
    /// templateName.
    pub template_name: TemplateName,
    /// description.
    pub description: Option<String>,
    /// templateBody.
    pub template_body: String,
    /// enabled (default false, as AWS).
    pub enabled: bool,
    /// provisioningRoleArn.
    pub provisioning_role_arn: RoleArn,
    /// preProvisioningHook.
    pub pre_provisioning_hook: Option<ProvisioningHook>,
    /// tags.
    pub tags: Tags,
    /// type (default FLEET_PROVISIONING).
    pub template_type: TemplateType,
}

impl CreateTemplateRequest {
    /// A disabled FLEET_PROVISIONING template with `body` and `role`.
    #[must_use]
    pub fn new(template_name: TemplateName, template_body: String, provisioning_role_arn: RoleArn) -> Self {
        Self {
            template_name,
            description: None,
            template_body,
            enabled: false,
            provisioning_role_arn,
            pre_provisioning_hook: None,
            tags: Tags::default(),
            template_type: TemplateType::FleetProvisioning,
        }
    }
}

/// Checks a description (0..=500 characters, no control characters).
///
/// # Errors
/// [`RequestError::Length`] / [`RequestError::Pattern`] (InvalidRequestException).
pub fn check_description(text: &str) -> Result<(), Error> {
    let len = text.chars().count();
    if len > MAX_TEMPLATE_DESCRIPTION_CHARS {
        return Err(
            RequestError::Length { member: "description", len, min: 0, max: MAX_TEMPLATE_DESCRIPTION_CHARS }.into()
        );
    }
    if text.chars().any(char::is_control) {
        return Err(RequestError::Pattern {
            member: "description",
            value: text.chars().take(256).collect(),
            pattern: r"[^\p{C}]*",
        }
        .into());
    }
    Ok(())
}

/// CreateProvisioningTemplate: the template and its version 1.
///
/// # Errors
/// The engine's [`TemplateError`](crate::TemplateError) for the body;
/// [`ProvisioningError::HookOnJitp`]; [`ProvisioningError::TemplateExists`].
pub fn create_template(
    request: &CreateTemplateRequest,
    existing: Option<&TemplateDescription>,
    scope: &AccountScope,
    now: UnixTime,
) -> Result<(TemplateDescription, TemplateVersion), Error> {
    ProvisioningTemplate::parse(&request.template_body, Some(request.template_type))?;
    if request.template_type == TemplateType::Jitp && request.pre_provisioning_hook.is_some() {
        return Err(ProvisioningError::HookOnJitp.into());
    }
    if let Some(existing) = existing {
        return Err(ProvisioningError::TemplateExists {
            template_name: existing.template_name.to_string(),
            template_arn: existing.template_arn.clone(),
        }
        .into());
    }
    let description = TemplateDescription {
        template_name: request.template_name.clone(),
        template_arn: scope.template_arn(&request.template_name),
        description: request.description.clone(),
        enabled: request.enabled,
        provisioning_role_arn: request.provisioning_role_arn.clone(),
        template_type: request.template_type,
        pre_provisioning_hook: request.pre_provisioning_hook.clone(),
        default_version_id: 1,
        creation_date: now,
        last_modified_date: now,
        tags: request.tags.clone(),
    };
    Ok((description, TemplateVersion::new(1, request.template_body.clone(), now)))
}

/// DescribeProvisioningTemplate (and every other operation on a template by name).
///
/// # Errors
/// [`RegistryError::TemplateNotFound`] (ResourceNotFoundException).
pub fn describe_template<'a>(
    name: &TemplateName,
    stored: Option<&'a TemplateDescription>,
) -> Result<&'a TemplateDescription, Error> {
    stored.ok_or_else(|| RegistryError::TemplateNotFound { template_name: name.to_string() }.into())
}

/// UpdateProvisioningTemplate's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateTemplateRequest {
    /// templateName.
    pub template_name: TemplateName,
    /// description.
    pub description: Option<String>,
    /// enabled.
    pub enabled: Option<bool>,
    /// defaultVersionId.
    pub default_version_id: Option<u32>,
    /// provisioningRoleArn.
    pub provisioning_role_arn: Option<RoleArn>,
    /// preProvisioningHook.
    pub pre_provisioning_hook: Option<ProvisioningHook>,
    /// removePreProvisioningHook.
    pub remove_pre_provisioning_hook: bool,
}

impl UpdateTemplateRequest {
    /// An update of `template_name` that changes nothing yet.
    #[must_use]
    pub fn new(template_name: TemplateName) -> Self {
        Self {
            template_name,
            description: None,
            enabled: None,
            default_version_id: None,
            provisioning_role_arn: None,
            pre_provisioning_hook: None,
            remove_pre_provisioning_hook: false,
        }
    }
}

/// UpdateProvisioningTemplate: the updated template (lastModifiedDate `now`). `versions` are
/// the template's version ids.
///
/// # Errors
/// [`RegistryError::TemplateNotFound`]; [`ProvisioningError::VersionNotFound`] for a
/// defaultVersionId it does not have; [`ProvisioningError::HookAndRemoveHook`];
/// [`ProvisioningError::HookOnJitp`].
pub fn update_template(
    request: &UpdateTemplateRequest,
    stored: Option<&TemplateDescription>,
    versions: &[u32],
    now: UnixTime,
) -> Result<TemplateDescription, Error> {
    let mut t = describe_template(&request.template_name, stored)?.clone();
    if request.remove_pre_provisioning_hook && request.pre_provisioning_hook.is_some() {
        return Err(ProvisioningError::HookAndRemoveHook.into());
    }
    if let Some(version) = request.default_version_id {
        if !versions.contains(&version) {
            return Err(
                ProvisioningError::VersionNotFound { template_name: t.template_name.to_string(), version }.into()
            );
        }
        t.default_version_id = version;
    }
    if let Some(d) = &request.description {
        t.description = Some(d.clone());
    }
    if let Some(enabled) = request.enabled {
        t.enabled = enabled;
    }
    if let Some(role) = &request.provisioning_role_arn {
        t.provisioning_role_arn = role.clone();
    }
    if let Some(hook) = &request.pre_provisioning_hook {
        if t.template_type == TemplateType::Jitp {
            return Err(ProvisioningError::HookOnJitp.into());
        }
        t.pre_provisioning_hook = Some(hook.clone());
    }
    if request.remove_pre_provisioning_hook {
        t.pre_provisioning_hook = None;
    }
    t.last_modified_date = now;
    Ok(t)
}

/// DeleteProvisioningTemplate: `cas` is how many of the account's CAs name it in their
/// registrationConfig (our rule: those keep it, DeleteConflictException).
///
/// # Errors
/// [`RegistryError::TemplateNotFound`]; [`ProvisioningError::TemplateInUse`].
pub fn delete_template(name: &TemplateName, stored: Option<&TemplateDescription>, cas: usize) -> Result<(), Error> {
    describe_template(name, stored)?;
    if cas > 0 {
        return Err(ProvisioningError::TemplateInUse { template_name: name.to_string(), cas }.into());
    }
    Ok(())
}

/// CreateProvisioningTemplateVersion: the new version (the next id), and the template with it
/// as default when `set_as_default`.
///
/// # Errors
/// [`RegistryError::TemplateNotFound`]; the engine's errors for the body;
/// [`ProvisioningError::VersionsLimit`] past [`MAX_TEMPLATE_VERSIONS`].
pub fn create_template_version(
    name: &TemplateName,
    body: &str,
    set_as_default: bool,
    stored: Option<&TemplateDescription>,
    versions: &[u32],
    now: UnixTime,
) -> Result<(TemplateVersion, TemplateDescription), Error> {
    let mut t = describe_template(name, stored)?.clone();
    ProvisioningTemplate::parse(body, Some(t.template_type))?;
    if versions.len() >= MAX_TEMPLATE_VERSIONS {
        return Err(
            ProvisioningError::VersionsLimit { template_name: name.to_string(), max: MAX_TEMPLATE_VERSIONS }.into()
        );
    }
    let version_id = versions.iter().copied().max().unwrap_or(0).saturating_add(1);
    if set_as_default {
        t.default_version_id = version_id;
        t.last_modified_date = now;
    }
    Ok((TemplateVersion::new(version_id, body.to_owned(), now), t))
}

/// DescribeProvisioningTemplateVersion (the version of the template, if it has it).
///
/// # Errors
/// [`RegistryError::TemplateNotFound`]; [`ProvisioningError::VersionNotFound`].
pub fn describe_template_version<'a>(
    name: &TemplateName,
    version_id: u32,
    stored: Option<&TemplateDescription>,
    version: Option<&'a TemplateVersion>,
) -> Result<&'a TemplateVersion, Error> {
    describe_template(name, stored)?;
    version.ok_or_else(|| {
        ProvisioningError::VersionNotFound { template_name: name.to_string(), version: version_id }.into()
    })
}

/// DeleteProvisioningTemplateVersion: the default version stays (DeleteConflictException).
///
/// # Errors
/// [`RegistryError::TemplateNotFound`]; [`ProvisioningError::VersionNotFound`];
/// [`ProvisioningError::DefaultVersion`].
pub fn delete_template_version(
    name: &TemplateName,
    version_id: u32,
    stored: Option<&TemplateDescription>,
    versions: &[u32],
) -> Result<(), Error> {
    let t = describe_template(name, stored)?;
    if !versions.contains(&version_id) {
        return Err(ProvisioningError::VersionNotFound { template_name: name.to_string(), version: version_id }.into());
    }
    if t.default_version_id == version_id {
        return Err(ProvisioningError::DefaultVersion { template_name: name.to_string(), version: version_id }.into());
    }
    Ok(())
}

/// The listing ListProvisioningTemplates' tokens are bound to.
#[must_use]
pub fn templates_listing(scope: &AccountScope) -> Listing {
    Listing::new("ListProvisioningTemplates", scope)
}

/// The listing ListProvisioningTemplateVersions' tokens are bound to: the template's.
#[must_use]
pub fn template_versions_listing(scope: &AccountScope, name: &TemplateName) -> Listing {
    Listing::new("ListProvisioningTemplateVersions", scope).with_filter("templateName", Some(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};

    const NOW: UnixTime = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
    const BODY: &str = r#"{"Resources": {}}"#;

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
    }

    fn request() -> CreateTemplateRequest {
        CreateTemplateRequest::new(
            TemplateName::parse("fleet").unwrap(),
            BODY.to_owned(),
            RoleArn::parse("arn:aws:iam::123456789012:role/Provisioning").unwrap(),
        )
    }

    #[test]
    fn a_templates_life() {
        let (t, v1) = create_template(&request(), None, &scope(), NOW).unwrap();
        assert_eq!(t.template_arn, "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/fleet");
        assert_eq!((t.default_version_id, v1.version_id, t.enabled), (1, 1, false));
        assert!(matches!(
            create_template(&request(), Some(&t), &scope(), NOW),
            Err(Error::Provisioning(ProvisioningError::TemplateExists { .. }))
        ));
        let mut bad = request();
        bad.template_body = "{}".into();
        assert!(matches!(create_template(&bad, None, &scope(), NOW), Err(Error::Template(_))));
        let mut hooked = request();
        hooked.template_type = TemplateType::Jitp;
        hooked.pre_provisioning_hook =
            Some(ProvisioningHook::new("arn:aws:lambda:us-east-1:1:function:f", None).unwrap());
        assert!(matches!(
            create_template(&hooked, None, &scope(), NOW),
            Err(Error::Provisioning(ProvisioningError::HookOnJitp))
        ));
        let mut versions = vec![1];
        for expected in 2..=5 {
            let (v, _) = create_template_version(&t.template_name, BODY, false, Some(&t), &versions, NOW).unwrap();
            assert_eq!(v.version_id, expected);
            versions.push(v.version_id);
        }
        assert!(matches!(
            create_template_version(&t.template_name, BODY, false, Some(&t), &versions, NOW),
            Err(Error::Provisioning(ProvisioningError::VersionsLimit { max: 5, .. }))
        ));
        assert!(matches!(
            delete_template_version(&t.template_name, 1, Some(&t), &versions),
            Err(Error::Provisioning(ProvisioningError::DefaultVersion { version: 1, .. }))
        ));
        assert_eq!(delete_template_version(&t.template_name, 3, Some(&t), &versions), Ok(()));
        let mut update = UpdateTemplateRequest::new(t.template_name.clone());
        update.default_version_id = Some(9);
        assert!(matches!(
            update_template(&update, Some(&t), &versions, NOW),
            Err(Error::Provisioning(ProvisioningError::VersionNotFound { version: 9, .. }))
        ));
        update.default_version_id = Some(2);
        update.enabled = Some(true);
        let updated = update_template(&update, Some(&t), &versions, NOW).unwrap();
        assert_eq!((updated.default_version_id, updated.enabled), (2, true));
        assert!(matches!(
            delete_template(&t.template_name, Some(&t), 1),
            Err(Error::Provisioning(ProvisioningError::TemplateInUse { cas: 1, .. }))
        ));
        assert_eq!(delete_template(&t.template_name, Some(&t), 0), Ok(()));
        assert!(matches!(
            delete_template(&t.template_name, None, 0),
            Err(Error::Registry(RegistryError::TemplateNotFound { .. }))
        ));
        assert!(matches!(
            ProvisioningHook::new("x", Some("2019-01-01")),
            Err(Error::Request(RequestError::Enum { member: "preProvisioningHook.payloadVersion", .. }))
        ));
    }
}
