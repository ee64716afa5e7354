//! Provisioning templates: names, and the facts a caller looks up about one.

use core::fmt;

use crate::error::{Error, RegistryError, RequestError};
use crate::model::enums::TemplateType;

/// Longest template name. AWS model: `TemplateName` max 36.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 36;
/// The AWS pattern template names must match.
pub const TEMPLATE_NAME_PATTERN: &str = "^[0-9A-Za-z_-]+$";

/// A provisioning template name: 1..=36 characters of `[0-9A-Za-z_-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateName(String);

impl TemplateName {
    /// Checks a name given as `member` (e.g. `registrationConfig.templateName`).
    ///
    /// # Errors
    /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
    pub fn parse_member(text: &str, member: &'static str) -> Result<Self, Error> {
        let len = text.chars().take(MAX_TEMPLATE_NAME_CHARS + 1).count();
        if len == 0 || len > MAX_TEMPLATE_NAME_CHARS {
            let len = if len > MAX_TEMPLATE_NAME_CHARS { text.chars().count() } else { len };
            return Err(RequestError::Length { member, len, min: 1, max: MAX_TEMPLATE_NAME_CHARS }.into());
        }
        if !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(RequestError::Pattern { member, value: text.to_owned(), pattern: TEMPLATE_NAME_PATTERN }.into());
        }
        Ok(Self(text.to_owned()))
    }

    /// Checks a name given as the `templateName` member.
    ///
    /// # Errors
    /// As [`TemplateName::parse_member`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_member(text, "templateName")
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks what the caller found under this name for a registrationConfig: a JITP template.
    pub(crate) fn require_jitp(&self, found: Option<TemplateFacts>) -> Result<(), Error> {
        let template = found.ok_or_else(|| RegistryError::TemplateNotFound { template_name: self.to_string() })?;
        if template.template_type != TemplateType::Jitp {
            return Err(RegistryError::TemplateWrongType {
                template_name: self.to_string(),
                found: template.template_type.as_str(),
                needed: TemplateType::Jitp.as_str(),
            }
            .into());
        }
        Ok(())
    }
}

impl fmt::Display for TemplateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the caller's database knows about a template it found by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TemplateFacts {
    /// Its type.
    pub(crate) template_type: TemplateType,
    /// Whether it is enabled.
    pub(crate) enabled: bool,
}

impl TemplateFacts {
    /// Its type.
    #[must_use]
    pub const fn template_type(&self) -> TemplateType {
        self.template_type
    }

    /// Whether it is enabled.
    #[must_use]
    pub const fn enabled(&self) -> bool {
        self.enabled
    }

    /// An enabled template of `template_type`.
    #[must_use]
    pub const fn new(template_type: TemplateType) -> Self {
        Self { template_type, enabled: true }
    }

    /// The same template, enabled or not.
    #[must_use]
    pub const fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(TemplateName::parse("Fleet_template-1").is_ok());
        assert!(TemplateName::parse(&"a".repeat(36)).is_ok());
        let e = TemplateName::parse(&"a".repeat(37));
        assert_eq!(e, Err(Error::Request(RequestError::Length { member: "templateName", len: 37, min: 1, max: 36 })));
        assert!(matches!(TemplateName::parse(""), Err(Error::Request(RequestError::Length { len: 0, .. }))));
        assert!(matches!(TemplateName::parse("a b"), Err(Error::Request(RequestError::Pattern { .. }))));
        assert!(matches!(TemplateName::parse("é"), Err(Error::Request(RequestError::Pattern { .. }))));
    }

    #[test]
    fn types_parse_exactly() {
        assert_eq!("JITP".parse::<TemplateType>(), Ok(TemplateType::Jitp));
        assert_eq!("FLEET_PROVISIONING".parse::<TemplateType>(), Ok(TemplateType::FleetProvisioning));
        for bad in ["jitp", "", "FLEET"] {
            assert!(
                matches!(TemplateType::parse(bad, "type"), Err(Error::Request(RequestError::Enum { .. }))),
                "{bad}"
            );
        }
    }
}
