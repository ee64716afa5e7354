//! Where a registration happens: the account, region and partition that make up ARNs.

use core::fmt;

use crate::error::{Error, RequestError};

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
    /// The partitions AWS has, each with the prefix of its regions' names (longest first, so
    /// `us-gov-` wins over nothing and `us-isob-` over `us-iso-`). A region without one of these
    /// prefixes is in `aws`.
    const PARTITIONS: [(&'static str, &'static str); 7] = [
        ("aws-us-gov", "us-gov-"),
        ("aws-iso-b", "us-isob-"),
        ("aws-iso-f", "us-isof-"),
        ("aws-iso-e", "eu-isoe-"),
        ("aws-iso", "us-iso-"),
        ("aws-cn", "cn-"),
        ("aws-eusc", "eusc-"),
    ];

    /// The commercial partition, `aws`.
    #[must_use]
    pub fn aws() -> Self {
        Self("aws".to_owned())
    }

    /// The partition `region` belongs to: `cn-*` → `aws-cn`, `us-gov-*` → `aws-us-gov`, the
    /// isolated and sovereign regions to theirs, every other region → `aws` (the partitions of
    /// the AWS SDKs' `partitions.json`).
    #[must_use]
    pub fn of_region(region: &Region) -> Self {
        let name = Self::PARTITIONS
            .iter()
            .find(|(_, prefix)| region.as_str().starts_with(prefix))
            .map_or("aws", |(partition, _)| partition);
        Self(name.to_owned())
    }

    /// Parses a partition name: one of AWS's partitions (`aws`, `aws-cn`, `aws-us-gov`,
    /// `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`, `aws-eusc`).
    ///
    /// # Errors
    /// [`RequestError::Pattern`] for any other name.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text == "aws" || Self::PARTITIONS.iter().any(|(name, _)| *name == text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(pattern_error("partition", text, PARTITION_PATTERN))
        }
    }

    /// The partition as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The partition names [`Partition::parse`] accepts, as a pattern for its error.
const PARTITION_PATTERN: &str = "^aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?$";

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

    /// A scope in the partition of `region` ([`Partition::of_region`]).
    #[must_use]
    pub fn new(account: AccountId, region: Region) -> Self {
        let partition = Partition::of_region(&region);
        Self { account, region, partition }
    }

    /// The same scope in another partition.
    #[must_use]
    pub fn with_partition(mut self, partition: Partition) -> Self {
        self.partition = partition;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
        assert!(Region::parse("US-EAST-1").is_err());
        assert!(Region::parse("").is_err());
        assert!(Partition::parse("aws:x").is_err());
    }

    /// The partition is the region's (the SDKs' partitions.json), and only AWS's partitions parse.
    #[test]
    fn partitions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            let region = Region::parse(region).unwrap();
            assert_eq!(Partition::of_region(&region).as_str(), partition, "{region:?}");
            let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), region);
            assert_eq!(scope.partition().as_str(), partition);
            assert_eq!(Partition::parse(partition).unwrap().as_str(), partition);
        }
        for bad in ["xyz", "aws-xyz", "AWS", "aws-", ""] {
            assert!(
                matches!(Partition::parse(bad), Err(Error::Request(RequestError::Pattern { member: "partition", .. }))),
                "{bad}"
            );
        }
    }
}
