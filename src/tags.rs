//! Tags (SPEC §1.5).

use unicode_general_category::{GeneralCategory as G, get_general_category};

use crate::error::{Error, TagError};

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

/// A list of tags that passed every rule of SPEC §1.5, in the order given.
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
            let len = key.chars().take(MAX_TAG_KEY_CHARS + 1).count();
            if len == 0 || len > MAX_TAG_KEY_CHARS {
                let len = if len > MAX_TAG_KEY_CHARS { key.chars().count() } else { len };
                return Err(TagError::KeyLength { index, len, max: MAX_TAG_KEY_CHARS }.into());
            }
            if !key.chars().all(key_char) {
                return Err(TagError::KeyPattern { index, key: shown() }.into());
            }
            if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
                return Err(TagError::ReservedPrefix { index, key: shown() }.into());
            }
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
    fn count_bound_at_50_and_51() {
        let keys: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(Tags::new(&keys[..50]).is_ok());
        assert_eq!(Tags::new(&keys), Err(Error::Tag(TagError::TooMany { count: 51, max: 50 })));
    }
}
