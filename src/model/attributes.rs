//! Thing and thing group attributes (`attributePayload`): a map of names to values, each held
//! to the service model's pattern and length, at most [`MAX_ATTRIBUTES`] of them.

use std::collections::BTreeMap;

use crate::error::{Error, RequestError, ThingError};

/// Most attributes a thing keeps (our rule: AWS's quota for a thing without a thing type is 3,
/// with one 50; we allow 50 either way).
pub const MAX_ATTRIBUTES: usize = 50;
/// Longest attribute name. AWS model: `AttributeName` max 128.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 128;
/// Longest attribute value. AWS model: `AttributeValue` max 800.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 800;
/// The pattern of attribute names. AWS model.
pub const ATTRIBUTE_NAME_PATTERN: &str = "[a-zA-Z0-9_.,@/:#-]+";
/// The pattern of attribute values (empty allowed: it removes the attribute when merging).
/// AWS model.
pub const ATTRIBUTE_VALUE_PATTERN: &str = r"[a-zA-Z0-9_.,@/:#=\[\]-]*";

/// The member attributes are reported under.
const MEMBER: &str = "attributePayload.attributes";

fn name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b',' | b'@' | b'/' | b':' | b'#' | b'-')
}

fn value_char(b: u8) -> bool {
    name_char(b) || matches!(b, b'=' | b'[' | b']')
}

/// Attributes, in name order. Values may be empty (an UpdateThing that merges removes those).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Attributes(BTreeMap<String, String>);

impl Attributes {
    /// Checks `pairs` as the attributes of a request.
    ///
    /// # Errors
    /// [`RequestError::Length`] / [`RequestError::Pattern`] for a name or value outside the model
    /// (InvalidRequestException); [`ThingError::TooManyAttributes`] past [`MAX_ATTRIBUTES`].
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Error> {
        let mut out = BTreeMap::new();
        for (name, value) in pairs {
            let name_len = name.chars().take(MAX_ATTRIBUTE_NAME_CHARS + 1).count();
            if name_len == 0 || name_len > MAX_ATTRIBUTE_NAME_CHARS {
                let len = if name_len == 0 { 0 } else { name.chars().count() };
                return Err(RequestError::Length { member: MEMBER, len, min: 1, max: MAX_ATTRIBUTE_NAME_CHARS }.into());
            }
            if !name.bytes().all(name_char) {
                return Err(pattern(name, ATTRIBUTE_NAME_PATTERN));
            }
            if value.chars().take(MAX_ATTRIBUTE_VALUE_CHARS + 1).count() > MAX_ATTRIBUTE_VALUE_CHARS {
                return Err(RequestError::Length {
                    member: MEMBER,
                    len: value.chars().count(),
                    min: 0,
                    max: MAX_ATTRIBUTE_VALUE_CHARS,
                }
                .into());
            }
            if !value.bytes().all(value_char) {
                return Err(pattern(value, ATTRIBUTE_VALUE_PATTERN));
            }
            out.insert(name.to_owned(), value.to_owned());
            if out.len() > MAX_ATTRIBUTES {
                return Err(ThingError::TooManyAttributes { count: out.len(), max: MAX_ATTRIBUTES }.into());
            }
        }
        Ok(Self(out))
    }

    /// The attributes, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These attributes with `other` applied: `merge` adds and overwrites, and an empty value in
    /// `other` removes the attribute; without `merge`, `other` replaces them (its empty values
    /// dropped).
    ///
    /// # Errors
    /// [`ThingError::TooManyAttributes`] when the result has more than [`MAX_ATTRIBUTES`].
    pub fn applied(&self, other: &Self, merge: bool) -> Result<Self, Error> {
        let mut out = if merge { self.0.clone() } else { BTreeMap::new() };
        for (name, value) in &other.0 {
            if value.is_empty() {
                out.remove(name);
            } else {
                out.insert(name.clone(), value.clone());
            }
        }
        if out.len() > MAX_ATTRIBUTES {
            return Err(ThingError::TooManyAttributes { count: out.len(), max: MAX_ATTRIBUTES }.into());
        }
        Ok(Self(out))
    }
}

fn pattern(value: &str, pattern: &'static str) -> Error {
    RequestError::Pattern { member: MEMBER, value: value.chars().take(256).collect(), pattern }.into()
}

/// `attributePayload`: attributes, and whether an update merges them into what is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AttributePayload {
    /// The attributes.
    pub attributes: Attributes,
    /// Merge into the stored attributes (UpdateThing), instead of replacing them.
    pub merge: bool,
}

impl AttributePayload {
    /// A payload of `attributes`, merged or not.
    #[must_use]
    pub fn new(attributes: Attributes, merge: bool) -> Self {
        Self { attributes, merge }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_the_model() {
        let a = Attributes::new([("color", "red"), ("serial", "a=[1]"), ("empty", "")]).unwrap();
        assert_eq!(a.get("serial"), Some("a=[1]"));
        assert_eq!(a.len(), 3);
        assert!(matches!(
            Attributes::new([("a b", "x")]),
            Err(Error::Request(RequestError::Pattern { pattern: ATTRIBUTE_NAME_PATTERN, .. }))
        ));
        assert!(matches!(
            Attributes::new([("a", "x y")]),
            Err(Error::Request(RequestError::Pattern { pattern: ATTRIBUTE_VALUE_PATTERN, .. }))
        ));
        assert!(matches!(
            Attributes::new([("", "x")]),
            Err(Error::Request(RequestError::Length { len: 0, min: 1, max: 128, .. }))
        ));
        let long = "v".repeat(801);
        assert!(matches!(
            Attributes::new([("a", long.as_str())]),
            Err(Error::Request(RequestError::Length { len: 801, max: 800, .. }))
        ));
        let names: Vec<String> = (0..51).map(|i| format!("a{i}")).collect();
        assert!(matches!(
            Attributes::new(names.iter().map(|n| (n.as_str(), "1"))),
            Err(Error::Thing(ThingError::TooManyAttributes { count: 51, max: 50 }))
        ));
    }

    #[test]
    fn merge_adds_overwrites_and_removes_replace_replaces() {
        let stored = Attributes::new([("a", "1"), ("b", "2")]).unwrap();
        let update = Attributes::new([("b", ""), ("c", "3"), ("a", "9")]).unwrap();
        let merged = stored.applied(&update, true).unwrap();
        assert_eq!(merged.iter().collect::<Vec<_>>(), [("a", "9"), ("c", "3")]);
        let replaced = stored.applied(&update, false).unwrap();
        assert_eq!(replaced.iter().collect::<Vec<_>>(), [("a", "9"), ("c", "3")]);
        let replaced = stored.applied(&Attributes::new([("z", "1")]).unwrap(), false).unwrap();
        assert_eq!(replaced.iter().collect::<Vec<_>>(), [("z", "1")]);
    }
}
