//! Where a registration happens: the account, region and partition that make up ARNs.

use core::fmt;

use crate::error::{Error, RequestError};
use crate::model::certificate_id::CertificateId;

fn pattern_error(member: &'static str, value: &str, pattern: &'static str) -> Error {
    Error::Request(RequestError::Pattern { member, value: value.chars().take(256).collect(), pattern })
}

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// The pattern an account id matches.
    pub const PATTERN: &'static str = "^[0-9]{12}$";

    /// Parses a 12-digit account id.
    ///
    /// # Errors
    /// [`RequestError::Pattern`] for anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(pattern_error("accountId", text, Self::PATTERN))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase letters, digits and hyphens, starting with a letter, at most 64 characters.
fn arn_component(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An AWS region name (`us-east-1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);

/// An AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition(String);

const COMPONENT_PATTERN: &str = "^[a-z][a-z0-9-]{0,63}$";

impl Region {
    /// Parses a region name.
    ///
    /// # Errors
    /// [`RequestError::Pattern`] unless lowercase letters, digits and hyphens.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if arn_component(text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(pattern_error("region", text, COMPONENT_PATTERN))
        }
    }

    /// The region as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Partition {
    /// The commercial partition, `aws`.
    #[must_use]
    pub fn aws() -> Self {
        Self("aws".to_owned())
    }

    /// Parses a partition name.
    ///
    /// # Errors
    /// [`RequestError::Pattern`] unless lowercase letters, digits and hyphens.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if arn_component(text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(pattern_error("partition", text, COMPONENT_PATTERN))
        }
    }

    /// The partition as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The account, region and partition a call is made in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AccountScope {
    /// The caller's account.
    pub(crate) account: AccountId,
    /// The region.
    pub(crate) region: Region,
    /// The partition.
    pub(crate) partition: Partition,
}

impl AccountScope {
    /// The caller's account.
    #[must_use]
    pub const fn account(&self) -> &AccountId {
        &self.account
    }

    /// The region.
    #[must_use]
    pub const fn region(&self) -> &Region {
        &self.region
    }

    /// The partition.
    #[must_use]
    pub const fn partition(&self) -> &Partition {
        &self.partition
    }

    /// A scope in the `aws` partition.
    #[must_use]
    pub fn new(account: AccountId, region: Region) -> Self {
        Self { account, region, partition: Partition::aws() }
    }

    /// The same scope in another partition.
    #[must_use]
    pub fn with_partition(mut self, partition: Partition) -> Self {
        self.partition = partition;
        self
    }

    /// `arn:<partition>:iot:<region>:<account>:cacert/<certificateId>` (rule 1.7).
    #[must_use]
    pub fn ca_certificate_arn(&self, id: &CertificateId) -> String {
        crate::model::arn::text(self, crate::model::arn::ResourceType::CaCertificate, id)
    }

    /// `arn:<partition>:iot:<region>:<account>:cert/<certificateId>` (AWS IoT, device certificates).
    #[must_use]
    pub fn certificate_arn(&self, id: &CertificateId) -> String {
        crate::model::arn::text(self, crate::model::arn::ResourceType::Certificate, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
            .with_partition(Partition::parse("aws-cn").unwrap());
        let id = CertificateId::of_der(b"");
        assert_eq!(scope.ca_certificate_arn(&id), format!("arn:aws-cn:iot:us-east-1:123456789012:cacert/{id}"));
        assert_eq!(scope.certificate_arn(&id), format!("arn:aws-cn:iot:us-east-1:123456789012:cert/{id}"));
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
        assert!(Region::parse("US-EAST-1").is_err());
        assert!(Region::parse("").is_err());
        assert!(Partition::parse("aws:x").is_err());
    }
}
