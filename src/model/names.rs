//! The names of things, thing types, thing groups, billing groups and policies: each a newtype
//! whose constructor enforces the service model's length and pattern.

use core::fmt;

use crate::error::{Error, RequestError};

/// Longest registry name (things, thing types, groups, policies). AWS model: `ThingName`,
/// `ThingTypeName`, `ThingGroupName`, `BillingGroupName`, `PolicyName` max 128.
pub const MAX_NAME_CHARS: usize = 128;
/// The pattern of thing, thing type, thing group and billing group names. AWS model.
pub const THING_NAME_PATTERN: &str = "[a-zA-Z0-9:_-]+";
/// The pattern of policy names (`\w` is ASCII letters, digits and `_`). AWS model.
pub const POLICY_NAME_PATTERN: &str = r"[\w+=,.@-]+";

fn thing_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-')
}

fn policy_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
}

/// Checks `text` against 1..=[`MAX_NAME_CHARS`] characters of `allowed`, as `member`.
fn checked(text: &str, member: &'static str, allowed: fn(u8) -> bool, pattern: &'static str) -> Result<String, Error> {
    let len = text.chars().take(MAX_NAME_CHARS + 1).count();
    if len == 0 || len > MAX_NAME_CHARS {
        let len = if len > MAX_NAME_CHARS { text.chars().count() } else { len };
        return Err(RequestError::Length { member, len, min: 1, max: MAX_NAME_CHARS }.into());
    }
    if !text.bytes().all(allowed) {
        return Err(RequestError::Pattern { member, value: text.chars().take(256).collect(), pattern }.into());
    }
    Ok(text.to_owned())
}

/// Declares a registry name: a newtype over `String` with `parse`, `parse_member`, `as_str`
/// and `Display`.
macro_rules! registry_name {
    ($(#[$meta:meta])* $name:ident, member $member:literal, $allowed:expr, $pattern:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks a name given as the member `", $member, "`.")]
            ///
            /// # Errors
            /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
            pub fn parse(text: &str) -> Result<Self, Error> {
                Self::parse_member(text, $member)
            }

            /// Checks a name given as `member` (a template's property, a body member).
            ///
            /// # Errors
            /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
            pub fn parse_member(text: &str, member: &'static str) -> Result<Self, Error> {
                checked(text, member, $allowed, $pattern).map(Self)
            }

            /// The name as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

registry_name! {
    /// A thing's name: 1..=128 characters of `[a-zA-Z0-9:_-]`.
    ThingName, member "thingName", thing_char, THING_NAME_PATTERN
}

registry_name! {
    /// A thing type's name: 1..=128 characters of `[a-zA-Z0-9:_-]`.
    ThingTypeName, member "thingTypeName", thing_char, THING_NAME_PATTERN
}

registry_name! {
    /// A thing group's name: 1..=128 characters of `[a-zA-Z0-9:_-]`.
    ThingGroupName, member "thingGroupName", thing_char, THING_NAME_PATTERN
}

registry_name! {
    /// A billing group's name: 1..=128 characters of `[a-zA-Z0-9:_-]`.
    BillingGroupName, member "billingGroupName", thing_char, THING_NAME_PATTERN
}

registry_name! {
    /// An IoT policy's name: 1..=128 characters of `[\w+=,.@-]`.
    PolicyName, member "policyName", policy_char, POLICY_NAME_PATTERN
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_follow_the_model() {
        assert_eq!(ThingName::parse("dev:1_a-B").unwrap().as_str(), "dev:1_a-B");
        assert!(matches!(
            ThingName::parse(""),
            Err(Error::Request(RequestError::Length { member: "thingName", len: 0, min: 1, max: 128 }))
        ));
        assert!(matches!(
            ThingName::parse(&"a".repeat(129)),
            Err(Error::Request(RequestError::Length { member: "thingName", len: 129, .. }))
        ));
        assert!(ThingName::parse(&"a".repeat(128)).is_ok());
        assert!(matches!(
            ThingName::parse("a b"),
            Err(Error::Request(RequestError::Pattern { member: "thingName", pattern: THING_NAME_PATTERN, .. }))
        ));
        assert!(matches!(
            ThingGroupName::parse_member("a/b", "Resources.thing.Properties.ThingGroups"),
            Err(Error::Request(RequestError::Pattern { member: "Resources.thing.Properties.ThingGroups", .. }))
        ));
        assert_eq!(PolicyName::parse("p_1+=,.@-").unwrap().as_str(), "p_1+=,.@-");
        assert!(matches!(
            PolicyName::parse("p:1"),
            Err(Error::Request(RequestError::Pattern { member: "policyName", pattern: POLICY_NAME_PATTERN, .. }))
        ));
        // The 128 is counted in characters: a multi-byte character is refused by the pattern.
        assert!(matches!(ThingName::parse("é"), Err(Error::Request(RequestError::Pattern { .. }))));
    }

    proptest! {
        /// Any string is a name or a typed refusal, never a panic; accepted names match the pattern.
        #[test]
        fn any_text_is_a_name_or_a_refusal(text in "\\PC{0,140}") {
            if let Ok(name) = ThingName::parse(&text) {
                prop_assert!(name.as_str().bytes().all(thing_char));
                prop_assert!((1..=128).contains(&name.as_str().len()));
            }
            if let Ok(name) = PolicyName::parse(&text) {
                prop_assert!(name.as_str().bytes().all(policy_char));
            }
        }
    }
}
