//! Tags (rule 1.5).

use unicode_general_category::{GeneralCategory as G, get_general_category};

use crate::error::{Error, LifecycleError, RequestError, TagError};

/// At most this many tags per request. AWS model: `TagList`.
pub const MAX_TAGS: usize = 50;
/// Longest tag key, in characters. AWS model: `TagKey` max 128.
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// Longest tag value, in characters. AWS model: `TagValue` max 256.
pub const MAX_TAG_VALUE_CHARS: usize = 256;
/// The AWS pattern tag keys must match.
pub const TAG_KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";

/// A character allowed in a tag key: a letter, a separator, a number, or one of `_.:/=+-@`.
fn key_char(c: char) -> bool {
    matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
        || matches!(
            get_general_category(c),
            G::UppercaseLetter
                | G::LowercaseLetter
                | G::TitlecaseLetter
                | G::ModifierLetter
                | G::OtherLetter
                | G::SpaceSeparator
                | G::LineSeparator
                | G::ParagraphSeparator
                | G::DecimalNumber
                | G::LetterNumber
                | G::OtherNumber
        )
}

/// The rules of a tag key: 1..=128 characters matching [`TAG_KEY_PATTERN`], not starting with
/// `aws:` in any case. `index` is the key's 1-based place in its list.
fn check_key(key: &str, index: usize) -> Result<(), TagError> {
    let shown = || key.chars().take(MAX_TAG_KEY_CHARS).collect::<String>();
    let len = key.chars().take(MAX_TAG_KEY_CHARS + 1).count();
    if len == 0 || len > MAX_TAG_KEY_CHARS {
        let len = if len > MAX_TAG_KEY_CHARS { key.chars().count() } else { len };
        return Err(TagError::KeyLength { index, len, max: MAX_TAG_KEY_CHARS });
    }
    if !key.chars().all(key_char) {
        return Err(TagError::KeyPattern { index, key: shown() });
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(TagError::ReservedPrefix { index, key: shown() });
    }
    Ok(())
}

/// A list of tags that passed every rule of rule 1.5, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// No tags.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Checks `(Key, Value)` pairs: at most 50; keys unique, 1..=128 characters matching
    /// [`TAG_KEY_PATTERN`], not starting with `aws:` in any case; values 0..=256 characters.
    ///
    /// # Errors
    /// [`TagError`] for the first tag that breaks a rule (InvalidRequestException).
    pub fn new<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Self, Error> {
        if pairs.len() > MAX_TAGS {
            return Err(TagError::TooMany { count: pairs.len(), max: MAX_TAGS }.into());
        }
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (i, (key, value)) in pairs.iter().enumerate() {
            let (key, value, index) = (key.as_ref(), value.as_ref(), i + 1);
            let shown = || key.chars().take(MAX_TAG_KEY_CHARS).collect::<String>();
            check_key(key, index).map_err(Error::Tag)?;
            if value.len() > MAX_TAG_VALUE_CHARS && value.chars().count() > MAX_TAG_VALUE_CHARS {
                return Err(
                    TagError::ValueLength { index, len: value.chars().count(), max: MAX_TAG_VALUE_CHARS }.into()
                );
            }
            if out.iter().any(|(k, _)| k == key) {
                return Err(TagError::DuplicateKey { index, key: shown() }.into());
            }
            out.push((key.to_owned(), value.to_owned()));
        }
        Ok(Self(out))
    }

    /// The tags as `(Key, Value)` pairs.
    #[must_use]
    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// `true` when there are no tags.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These tags with `new` added: a key already here takes the new value in its place, a new
    /// key is appended (TagResource).
    ///
    /// # Errors
    /// [`LifecycleError::TagLimit`] when the result would hold more than [`MAX_TAGS`]
    /// (LimitExceededException).
    pub fn merged(&self, new: &Self) -> Result<Self, Error> {
        let mut out = self.0.clone();
        for (key, value) in &new.0 {
            match out.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1.clone_from(value),
                None => out.push((key.clone(), value.clone())),
            }
        }
        if out.len() > MAX_TAGS {
            return Err(LifecycleError::TagLimit { count: out.len(), max: MAX_TAGS }.into());
        }
        Ok(Self(out))
    }

    /// These tags without the keys in `keys`; keys not here are ignored (UntagResource).
    #[must_use]
    pub fn without(&self, keys: &TagKeys) -> Self {
        Self(self.0.iter().filter(|(k, _)| !keys.0.contains(k)).cloned().collect())
    }
}

/// UntagResource's `tagKeys`: 1..=50 keys, each following the tag key rules. A key given twice
/// is removed once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagKeys(Vec<String>);

impl TagKeys {
    /// Checks the keys.
    ///
    /// # Errors
    /// [`RequestError::Length`] for no keys or more than 50, then `Error::TagKeys` for the
    /// first key that breaks a rule (InvalidRequestException).
    pub fn new<K: AsRef<str>>(keys: &[K]) -> Result<Self, Error> {
        if keys.is_empty() || keys.len() > MAX_TAGS {
            return Err(RequestError::Length { member: "tagKeys", len: keys.len(), min: 1, max: MAX_TAGS }.into());
        }
        let mut out = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            check_key(key.as_ref(), i + 1).map_err(Error::TagKeys)?;
            out.push(key.as_ref().to_owned());
        }
        Ok(Self(out))
    }

    /// The keys, as given.
    #[must_use]
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(pairs: &[(&str, &str)]) -> TagError {
        match Tags::new(pairs) {
            Err(Error::Tag(e)) => e,
            other => panic!("expected a tag error, got {other:?}"),
        }
    }

    #[test]
    fn each_rule() {
        assert!(Tags::new(&[("env", "prod"), ("Über straße 3", ""), ("a_.:/=+-@", "x")]).is_ok());
        assert_eq!(err(&[("", "v")]), TagError::KeyLength { index: 1, len: 0, max: 128 });
        let long = "k".repeat(129);
        assert_eq!(err(&[("ok", "v"), (&long, "v")]), TagError::KeyLength { index: 2, len: 129, max: 128 });
        assert!(Tags::new(&[("k".repeat(128), "v")]).is_ok());
        assert_eq!(err(&[("a*b", "v")]), TagError::KeyPattern { index: 1, key: "a*b".into() });
        assert_eq!(err(&[("tab\there", "v")]), TagError::KeyPattern { index: 1, key: "tab\there".into() });
        assert_eq!(err(&[("AwS:x", "v")]), TagError::ReservedPrefix { index: 1, key: "AwS:x".into() });
        assert!(Tags::new(&[("aws", "v"), ("awsx:", "v")]).is_ok());
        assert_eq!(err(&[("k", "v"), ("k", "w")]), TagError::DuplicateKey { index: 2, key: "k".into() });
        assert!(Tags::new(&[("k", "v"), ("K", "w")]).is_ok());
        let value = "é".repeat(257);
        assert_eq!(err(&[("k", &value)]), TagError::ValueLength { index: 1, len: 257, max: 256 });
        assert!(Tags::new(&[("k", "é".repeat(256))]).is_ok());
    }

    #[test]
    fn merge_overwrites_in_place_and_counts_the_result() {
        let old = Tags::new(&[("a", "1"), ("b", "2")]).unwrap();
        let merged = old.merged(&Tags::new(&[("b", "3"), ("c", "4")]).unwrap()).unwrap();
        assert_eq!(merged, Tags::new(&[("a", "1"), ("b", "3"), ("c", "4")]).unwrap());
        let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        let full = Tags::new(&fifty).unwrap();
        assert_eq!(full.merged(&Tags::new(&[("k0", "x")]).unwrap()).map(|t| t.as_slice().len()), Ok(50));
        assert_eq!(
            full.merged(&Tags::new(&[("new", "x")]).unwrap()),
            Err(Error::Lifecycle(LifecycleError::TagLimit { count: 51, max: 50 }))
        );
    }

    #[test]
    fn tag_keys() {
        let tags = Tags::new(&[("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(tags.without(&TagKeys::new(&["a", "a", "zz"]).unwrap()), Tags::new(&[("b", "2")]).unwrap());
        let none: [&str; 0] = [];
        let length = |len| Err(Error::Request(RequestError::Length { member: "tagKeys", len, min: 1, max: 50 }));
        assert_eq!(TagKeys::new(&none), length(0));
        assert_eq!(TagKeys::new(&vec!["k"; 51]), length(51));
        assert_eq!(
            TagKeys::new(&["ok", "aws:x"]),
            Err(Error::TagKeys(TagError::ReservedPrefix { index: 2, key: "aws:x".into() }))
        );
        assert_eq!(TagKeys::new(&[""]), Err(Error::TagKeys(TagError::KeyLength { index: 1, len: 0, max: 128 })));
    }

    #[test]
    fn count_bound_at_50_and_51() {
        let keys: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(Tags::new(&keys[..50]).is_ok());
        assert_eq!(Tags::new(&keys), Err(Error::Tag(TagError::TooMany { count: 51, max: 50 })));
    }
}
