//! Resource ARNs of certificates, made and read in one place:
//! `arn:<partition>:iot:<region>:<account>:cacert/<certificateId>` for CA certificates and
//! `…:cert/<certificateId>` for device certificates (AWS IoT's ARN formats, "Resource types
//! defined by AWS IoT" in the Service Authorization Reference).

use core::fmt;

use crate::error::{Error, ResourceError};
use crate::model::certificate_id::CertificateId;
use crate::model::names::{PolicyName, ThingGroupName, ThingName, ThingTypeName};
use crate::model::scope::AccountScope;
use crate::model::template::TemplateName;

/// What a certificate ARN names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceType {
    /// `cacert/<id>`: a registered CA certificate.
    CaCertificate,
    /// `cert/<id>`: a device certificate.
    Certificate,
}

impl ResourceType {
    /// The ARN's resource type word.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CaCertificate => "cacert",
            Self::Certificate => "cert",
        }
    }
}

/// The ARN of a CA or device certificate of one account and region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceArn {
    text: String,
    resource_type: ResourceType,
    certificate_id: CertificateId,
}

/// Longest ARN text kept in an error.
const SHOWN_CHARS: usize = 256;

fn shown(text: &str) -> String {
    text.chars().take(SHOWN_CHARS).collect()
}

impl ResourceArn {
    /// The ARN of `certificate_id` of `resource_type` in `scope`.
    #[must_use]
    pub fn new(scope: &AccountScope, resource_type: ResourceType, certificate_id: CertificateId) -> Self {
        let text = text(scope, resource_type.as_str(), certificate_id.as_str());
        Self { text, resource_type, certificate_id }
    }

    /// Reads a `resourceArn` and checks it belongs to `scope`. The id is matched without regard
    /// to case, as path ids are, and answered in lower case.
    ///
    /// # Errors
    /// [`ResourceError`] (ResourceNotFoundException: an ARN that is not one of this account's
    /// certificates names nothing it can tag): not an IoT certificate ARN, another resource
    /// type, an id that is not 64 hex digits, or another partition, region or account.
    pub fn parse(text: &str, scope: &AccountScope) -> Result<Self, Error> {
        let malformed = || Error::Resource(ResourceError::MalformedArn { arn: shown(text) });
        let mut parts = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iot"), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let (kind, id) = resource.split_once('/').ok_or_else(malformed)?;
        let resource_type = match kind {
            "cacert" => ResourceType::CaCertificate,
            "cert" => ResourceType::Certificate,
            other => {
                return Err(
                    ResourceError::UnsupportedResourceType { arn: shown(text), resource_type: shown(other) }.into()
                );
            }
        };
        let certificate_id = CertificateId::parse(&id.to_ascii_lowercase())
            .ok_or_else(|| ResourceError::MalformedCertificateId { arn: shown(text), certificate_id: shown(id) })?;
        for (field, found, expected) in [
            ("partition", partition, scope.partition.as_str()),
            ("region", region, scope.region.as_str()),
            ("account", account, scope.account.as_str()),
        ] {
            if found != expected {
                return Err(Error::Resource(ResourceError::OutOfScope {
                    arn: shown(text),
                    field,
                    found: shown(found),
                    expected: expected.to_owned(),
                }));
            }
        }
        Ok(Self::new(scope, resource_type, certificate_id))
    }

    /// Reads a principal or policy target: the ARN of one of `scope`'s device certificates.
    ///
    /// # Errors
    /// As [`ResourceArn::parse`], and [`ResourceError::UnsupportedResourceType`] for a CA
    /// certificate's ARN (ResourceNotFoundException).
    pub fn parse_certificate(text: &str, scope: &AccountScope) -> Result<Self, Error> {
        let arn = Self::parse(text, scope)?;
        if arn.resource_type != ResourceType::Certificate {
            return Err(ResourceError::UnsupportedResourceType {
                arn: shown(text),
                resource_type: ResourceType::CaCertificate.as_str().to_owned(),
            }
            .into());
        }
        Ok(arn)
    }

    /// What the ARN names.
    #[must_use]
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The certificate's id.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.certificate_id
    }

    /// The ARN as text (the id in lower case).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `arn:<partition>:iot:<region>:<account>:<resource>/<name>`, joined in one allocation
/// (a registration builds one; `format!` took a third of `admit`).
fn text(scope: &AccountScope, resource: &str, name: &str) -> String {
    [
        "arn:",
        scope.partition.as_str(),
        ":iot:",
        scope.region.as_str(),
        ":",
        scope.account.as_str(),
        ":",
        resource,
        "/",
        name,
    ]
    .concat()
}

/// The ARNs of the scope's resources.
impl AccountScope {
    /// `arn:<partition>:iot:<region>:<account>:cacert/<certificateId>` (rule 1.7).
    #[must_use]
    pub fn ca_certificate_arn(&self, id: &CertificateId) -> String {
        text(self, ResourceType::CaCertificate.as_str(), id.as_str())
    }

    /// `arn:<partition>:iot:<region>:<account>:cert/<certificateId>` (AWS IoT, device certificates).
    #[must_use]
    pub fn certificate_arn(&self, id: &CertificateId) -> String {
        text(self, ResourceType::Certificate.as_str(), id.as_str())
    }

    /// `arn:<partition>:iot:<region>:<account>:thing/<thingName>`.
    #[must_use]
    pub fn thing_arn(&self, name: &ThingName) -> String {
        text(self, "thing", name.as_str())
    }

    /// `arn:<partition>:iot:<region>:<account>:thingtype/<thingTypeName>`.
    #[must_use]
    pub fn thing_type_arn(&self, name: &ThingTypeName) -> String {
        text(self, "thingtype", name.as_str())
    }

    /// `arn:<partition>:iot:<region>:<account>:thinggroup/<thingGroupName>`.
    #[must_use]
    pub fn thing_group_arn(&self, name: &ThingGroupName) -> String {
        text(self, "thinggroup", name.as_str())
    }

    /// `arn:<partition>:iot:<region>:<account>:policy/<policyName>`.
    #[must_use]
    pub fn policy_arn(&self, name: &PolicyName) -> String {
        text(self, "policy", name.as_str())
    }

    /// The name an ARN of `resource` (`thing`, `thinggroup`) in this scope names, if it is one.
    #[must_use]
    pub(crate) fn name_in_arn<'a>(&self, arn: &'a str, resource: &str) -> Option<&'a str> {
        let prefix = text(self, resource, "");
        arn.strip_prefix(prefix.as_str()).filter(|name| !name.is_empty())
    }

    /// `arn:<partition>:iot:<region>:<account>:provisioningtemplate/<templateName>`.
    #[must_use]
    pub fn template_arn(&self, name: &TemplateName) -> String {
        text(self, "provisioningtemplate", name.as_str())
    }
}

impl fmt::Display for ResourceArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Partition, Region};

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("eu-west-1").unwrap())
    }

    #[test]
    fn scope_arns() {
        let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("cn-north-1").unwrap());
        let id = CertificateId::of_der(b"");
        assert_eq!(scope.ca_certificate_arn(&id), format!("arn:aws-cn:iot:cn-north-1:123456789012:cacert/{id}"));
        assert_eq!(scope.certificate_arn(&id), format!("arn:aws-cn:iot:cn-north-1:123456789012:cert/{id}"));
        let name = TemplateName::parse("fleet").unwrap();
        assert_eq!(scope.template_arn(&name), "arn:aws-cn:iot:cn-north-1:123456789012:provisioningtemplate/fleet");
    }

    fn err(text: &str) -> ResourceError {
        match ResourceArn::parse(text, &scope()) {
            Err(Error::Resource(e)) => e,
            other => panic!("expected a resource error, got {other:?}"),
        }
    }

    #[test]
    fn both_types_round_trip() {
        let id = CertificateId::of_der(b"x");
        for t in [ResourceType::CaCertificate, ResourceType::Certificate] {
            let arn = ResourceArn::new(&scope(), t, id.clone());
            assert_eq!(arn.as_str(), format!("arn:aws:iot:eu-west-1:123456789012:{}/{id}", t.as_str()));
            assert_eq!(ResourceArn::parse(arn.as_str(), &scope()), Ok(arn.clone()));
            let upper = arn.as_str().replace(id.as_str(), &id.as_str().to_ascii_uppercase());
            assert_eq!(ResourceArn::parse(&upper, &scope()), Ok(arn));
        }
    }

    #[test]
    fn each_refusal() {
        let id = CertificateId::of_der(b"x");
        assert_eq!(err("nope"), ResourceError::MalformedArn { arn: "nope".into() });
        let s3 = format!("arn:aws:s3:eu-west-1:123456789012:cacert/{id}");
        assert_eq!(err(&s3), ResourceError::MalformedArn { arn: s3.clone() });
        assert_eq!(
            err("arn:aws:iot:eu-west-1:123456789012:cacert"),
            ResourceError::MalformedArn { arn: "arn:aws:iot:eu-west-1:123456789012:cacert".into() }
        );
        assert_eq!(
            err(&format!("arn:aws:iot:eu-west-1:123456789012:thing/{id}")),
            ResourceError::UnsupportedResourceType {
                arn: format!("arn:aws:iot:eu-west-1:123456789012:thing/{id}"),
                resource_type: "thing".into()
            }
        );
        assert_eq!(
            err("arn:aws:iot:eu-west-1:123456789012:cert/abc"),
            ResourceError::MalformedCertificateId {
                arn: "arn:aws:iot:eu-west-1:123456789012:cert/abc".into(),
                certificate_id: "abc".into()
            }
        );
        assert_eq!(
            err(&format!("arn:aws-cn:iot:eu-west-1:123456789012:cert/{id}")),
            ResourceError::OutOfScope {
                arn: format!("arn:aws-cn:iot:eu-west-1:123456789012:cert/{id}"),
                field: "partition",
                found: "aws-cn".into(),
                expected: "aws".into()
            }
        );
        assert_eq!(
            err(&format!("arn:aws:iot:us-east-1:123456789012:cert/{id}")),
            ResourceError::OutOfScope {
                arn: format!("arn:aws:iot:us-east-1:123456789012:cert/{id}"),
                field: "region",
                found: "us-east-1".into(),
                expected: "eu-west-1".into()
            }
        );
        assert_eq!(
            err(&format!("arn:aws:iot:eu-west-1:210987654321:cert/{id}")),
            ResourceError::OutOfScope {
                arn: format!("arn:aws:iot:eu-west-1:210987654321:cert/{id}"),
                field: "account",
                found: "210987654321".into(),
                expected: "123456789012".into()
            }
        );
        let cn = scope().with_partition(Partition::parse("aws-cn").unwrap());
        assert!(ResourceArn::parse(&format!("arn:aws-cn:iot:eu-west-1:123456789012:cert/{id}"), &cn).is_ok());
    }
}
