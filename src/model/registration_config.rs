//! registrationConfig (rule 1.1): a JITP template by name, or a template body with its role.

use crate::error::{Error, RequestError, TemplateBodyProblem};
use crate::model::template::TemplateName;

/// Longest templateBody, in characters. AWS model: `TemplateBody` max 10240.
pub const MAX_TEMPLATE_BODY_CHARS: usize = 10_240;
/// Shortest roleArn. AWS model: `RoleArn` min 20.
pub const MIN_ROLE_ARN_CHARS: usize = 20;
/// Longest roleArn. AWS model: `RoleArn` max 2048.
pub const MAX_ROLE_ARN_CHARS: usize = 2048;
/// The roleArn shape we accept (rule 1.1).
pub const ROLE_ARN_PATTERN: &str = "^arn:[a-z][a-z0-9-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$";

/// Length in characters, counting no further than `max + 1`.
fn bounded_len(text: &str, max: usize) -> usize {
    if text.len() <= max { text.chars().count() } else { text.chars().take(max + 1).count() }
}

/// A provisioning template body: a JSON object with a `Resources` object, ≤ 10,240 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplateBody(String);

impl TemplateBody {
    /// Checks the length bound, then parses the JSON.
    ///
    /// # Errors
    /// [`RequestError::Length`] or [`RequestError::TemplateBody`] (InvalidRequestException).
    pub fn parse(text: &str) -> Result<Self, Error> {
        const MEMBER: &str = "registrationConfig.templateBody";
        if text.len() > 4 * MAX_TEMPLATE_BODY_CHARS
            || bounded_len(text, MAX_TEMPLATE_BODY_CHARS) > MAX_TEMPLATE_BODY_CHARS
        {
            let len = text.chars().count();
            return Err(RequestError::Length { member: MEMBER, len, min: 0, max: MAX_TEMPLATE_BODY_CHARS }.into());
        }
        let problem = |reason| Error::Request(RequestError::TemplateBody { reason });
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| problem(TemplateBodyProblem::NotJson))?;
        let object = value.as_object().ok_or(problem(TemplateBodyProblem::NotObject))?;
        if !object.get("Resources").is_some_and(serde_json::Value::is_object) {
            return Err(problem(TemplateBodyProblem::NoResources));
        }
        Ok(Self(text.to_owned()))
    }

    /// The body as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<name>`, 20..=2048 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleArn(String);

impl RoleArn {
    /// Checks length and shape, as `registrationConfig.roleArn`.
    ///
    /// # Errors
    /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_member(text, "registrationConfig.roleArn")
    }

    /// Checks length and shape, as the member `member` (`provisioningRoleArn`).
    ///
    /// # Errors
    /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
    pub fn parse_member(text: &str, member: &'static str) -> Result<Self, Error> {
        let len = bounded_len(text, MAX_ROLE_ARN_CHARS);
        if !(MIN_ROLE_ARN_CHARS..=MAX_ROLE_ARN_CHARS).contains(&len) {
            let len = if len > MAX_ROLE_ARN_CHARS { text.chars().count() } else { len };
            return Err(RequestError::Length { member, len, min: MIN_ROLE_ARN_CHARS, max: MAX_ROLE_ARN_CHARS }.into());
        }
        if !role_arn_shape(text) {
            return Err(RequestError::Pattern {
                member,
                value: text.chars().take(256).collect(),
                pattern: ROLE_ARN_PATTERN,
            }
            .into());
        }
        Ok(Self(text.to_owned()))
    }

    /// The ARN as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` matches [`ROLE_ARN_PATTERN`].
fn role_arn_shape(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let partition_ok = partition.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && partition.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let name_ok = resource.strip_prefix("role/").is_some_and(|name| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_/-".contains(&b))
    });
    partition_ok && account_ok && name_ok
}

/// What the CA's auto-registration provisions with: a JITP template by name, or a template
/// body and the role that applies it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistrationConfig {
    /// `templateName`: a JITP template the account holds.
    TemplateName(TemplateName),
    /// `templateBody` with `roleArn`.
    TemplateBody {
        /// The template.
        body: TemplateBody,
        /// The role AWS IoT assumes to apply it.
        role_arn: RoleArn,
    },
}

impl RegistrationConfig {
    /// Builds the config from the three optional wire members, checking each, then the
    /// combination: templateName alone, or templateBody with roleArn. All three absent is no
    /// config (`Ok(None)`).
    ///
    /// # Errors
    /// The member's own error, or [`RequestError::TemplateNameWithBody`] /
    /// [`RequestError::BodyAndRoleTogether`] (InvalidRequestException).
    pub fn from_members(
        template_body: Option<&str>,
        role_arn: Option<&str>,
        template_name: Option<&str>,
    ) -> Result<Option<Self>, Error> {
        let body = template_body.map(TemplateBody::parse).transpose()?;
        let role = role_arn.map(RoleArn::parse).transpose()?;
        let name =
            template_name.map(|n| TemplateName::parse_member(n, "registrationConfig.templateName")).transpose()?;
        match (name, body, role) {
            (None, None, None) => Ok(None),
            (Some(name), None, None) => Ok(Some(Self::TemplateName(name))),
            (Some(_), _, _) => Err(RequestError::TemplateNameWithBody.into()),
            (None, Some(body), Some(role_arn)) => Ok(Some(Self::TemplateBody { body, role_arn })),
            (None, _, _) => Err(RequestError::BodyAndRoleTogether.into()),
        }
    }

    /// The template to look up, when the config names one.
    #[must_use]
    pub fn template_name(&self) -> Option<&TemplateName> {
        match self {
            Self::TemplateName(name) => Some(name),
            Self::TemplateBody { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"Resources": {"thing": {"Type": "AWS::IoT::Thing"}}}"#;
    const ROLE: &str = "arn:aws:iam::123456789012:role/JITPRole";

    fn request_error(r: Result<Option<RegistrationConfig>, Error>) -> RequestError {
        match r {
            Err(Error::Request(e)) => e,
            other => panic!("expected a request error, got {other:?}"),
        }
    }

    #[test]
    fn combinations() {
        assert_eq!(RegistrationConfig::from_members(None, None, None), Ok(None));
        assert!(matches!(
            RegistrationConfig::from_members(None, None, Some("jitp")),
            Ok(Some(RegistrationConfig::TemplateName(_)))
        ));
        assert!(matches!(
            RegistrationConfig::from_members(Some(BODY), Some(ROLE), None),
            Ok(Some(RegistrationConfig::TemplateBody { .. }))
        ));
        let e = request_error(RegistrationConfig::from_members(Some(BODY), Some(ROLE), Some("jitp")));
        assert_eq!(e, RequestError::TemplateNameWithBody);
        assert_eq!(
            request_error(RegistrationConfig::from_members(Some(BODY), None, None)),
            RequestError::BodyAndRoleTogether
        );
        assert_eq!(
            request_error(RegistrationConfig::from_members(None, Some(ROLE), None)),
            RequestError::BodyAndRoleTogether
        );
    }

    #[test]
    fn template_bodies() {
        let reason = |b: &str| match TemplateBody::parse(b) {
            Err(Error::Request(RequestError::TemplateBody { reason })) => Some(reason),
            _ => None,
        };
        assert_eq!(reason("{"), Some(TemplateBodyProblem::NotJson));
        assert_eq!(reason(""), Some(TemplateBodyProblem::NotJson));
        assert_eq!(reason("[]"), Some(TemplateBodyProblem::NotObject));
        assert_eq!(reason(r#"{"Parameters": {}}"#), Some(TemplateBodyProblem::NoResources));
        assert_eq!(reason(r#"{"Resources": []}"#), Some(TemplateBodyProblem::NoResources));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(reason(&deep), Some(TemplateBodyProblem::NotJson));
    }

    #[test]
    fn template_body_bound_at_n_and_n_plus_one() {
        let fill = |n: usize| {
            let base = r#"{"Resources": {}, "x": ""}"#;
            format!(r#"{{"Resources": {{}}, "x": "{}"}}"#, "a".repeat(n - base.len()))
        };
        assert!(TemplateBody::parse(&fill(MAX_TEMPLATE_BODY_CHARS)).is_ok());
        assert_eq!(
            TemplateBody::parse(&fill(MAX_TEMPLATE_BODY_CHARS + 1)),
            Err(Error::Request(RequestError::Length {
                member: "registrationConfig.templateBody",
                len: MAX_TEMPLATE_BODY_CHARS + 1,
                min: 0,
                max: MAX_TEMPLATE_BODY_CHARS
            }))
        );
    }

    #[test]
    fn role_arns() {
        assert!(RoleArn::parse(ROLE).is_ok());
        assert!(RoleArn::parse("arn:aws-cn:iam::123456789012:role/path/to/Role_1").is_ok());
        for bad in [
            "arn:aws:iam::12345678901:role/JITPRole",
            "arn:aws:iam:us-east-1:123456789012:role/R",
            "arn:aws:s3::123456789012:role/JITPRole",
            "arn:aws:iam::123456789012:user/JITPRole",
            "arn:aws:iam::123456789012:role/",
            "arn:AWS:iam::123456789012:role/JITPRole",
            "arn:aws:iam::123456789012:role/a b",
        ] {
            assert!(matches!(RoleArn::parse(bad), Err(Error::Request(RequestError::Pattern { .. }))), "{bad}");
        }
        assert!(matches!(RoleArn::parse("arn:aws:iam::1"), Err(Error::Request(RequestError::Length { len: 14, .. }))));
    }
}
