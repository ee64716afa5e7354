//! An IoT policy document: the JSON text CreatePolicy stores and templates carry. Kept as given;
//! checked as AWS IoT's policy rules say, not evaluated (policy evaluation is not part of this
//! crate yet).

use core::fmt;

use serde_json::Value;

use crate::error::{Error, RequestError, ThingError};

/// Longest policy document AWS accepts on the wire. AWS model: `PolicyDocument` max 404600.
pub const MAX_POLICY_DOCUMENT_CHARS: usize = 404_600;
/// Longest policy document, not counting white space (AWS IoT quota "Maximum policy document
/// size": 2048 characters, excluding white space).
pub const MAX_POLICY_CHARS_WITHOUT_WHITESPACE: usize = 2048;

/// What is wrong with a policy document (MalformedPolicyException).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyDocumentProblem {
    /// Not JSON.
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// No `Version` string.
    MissingVersion,
    /// No `Statement` (an object, or a non-empty array of objects).
    MissingStatement,
    /// A statement that is not an object.
    StatementNotObject {
        /// Its index in `Statement`.
        index: usize,
    },
    /// Longer than the quota without white space.
    TooLong {
        /// Its length without white space.
        len: usize,
        /// The quota.
        max: usize,
    },
}

impl fmt::Display for PolicyDocumentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson => f.write_str("the policy document is not JSON"),
            Self::NotObject => f.write_str("the policy document is not a JSON object"),
            Self::MissingVersion => f.write_str("the policy document has no Version string"),
            Self::MissingStatement => {
                f.write_str("the policy document has no Statement (an object or a non-empty array of them)")
            }
            Self::StatementNotObject { index } => {
                write!(f, "Statement {index} of the policy document is not an object")
            }
            Self::TooLong { len, max } => {
                write!(f, "the policy document has {len} characters without white space, more than {max}")
            }
        }
    }
}

/// A policy document that passed the checks: its text exactly as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyDocument(String);

impl PolicyDocument {
    /// Checks a policy document given as `member` (`policyDocument`, a template's
    /// `PolicyDocument`).
    ///
    /// # Errors
    /// [`RequestError::Length`] past the model's bound (InvalidRequestException);
    /// [`ThingError::MalformedPolicy`] for anything else (MalformedPolicyException).
    pub fn parse_member(text: &str, member: &'static str) -> Result<Self, Error> {
        if text.len() > MAX_POLICY_DOCUMENT_CHARS {
            let len = text.chars().count();
            if len > MAX_POLICY_DOCUMENT_CHARS {
                return Err(RequestError::Length { member, len, min: 0, max: MAX_POLICY_DOCUMENT_CHARS }.into());
            }
        }
        let bad = |problem| Error::from(ThingError::MalformedPolicy { problem });
        let len = text.chars().filter(|c| !c.is_whitespace()).count();
        if len > MAX_POLICY_CHARS_WITHOUT_WHITESPACE {
            return Err(bad(PolicyDocumentProblem::TooLong { len, max: MAX_POLICY_CHARS_WITHOUT_WHITESPACE }));
        }
        let value: Value = serde_json::from_str(text).map_err(|_| bad(PolicyDocumentProblem::NotJson))?;
        let object = value.as_object().ok_or_else(|| bad(PolicyDocumentProblem::NotObject))?;
        if !object.get("Version").is_some_and(Value::is_string) {
            return Err(bad(PolicyDocumentProblem::MissingVersion));
        }
        match object.get("Statement") {
            Some(Value::Object(_)) => {}
            Some(Value::Array(items)) if !items.is_empty() => {
                if let Some(index) = items.iter().position(|s| !s.is_object()) {
                    return Err(bad(PolicyDocumentProblem::StatementNotObject { index }));
                }
            }
            _ => return Err(bad(PolicyDocumentProblem::MissingStatement)),
        }
        Ok(Self(text.to_owned()))
    }

    /// Checks the `policyDocument` member.
    ///
    /// # Errors
    /// As [`PolicyDocument::parse_member`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_member(text, "policyDocument")
    }

    /// The document as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> PolicyDocumentProblem {
        match PolicyDocument::parse(text) {
            Err(Error::Thing(ThingError::MalformedPolicy { problem })) => problem,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn documents_follow_aws_iot_rules() {
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}"#;
        assert_eq!(PolicyDocument::parse(ok).unwrap().as_str(), ok);
        assert!(PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny"}}"#).is_ok());
        assert_eq!(problem("nope"), PolicyDocumentProblem::NotJson);
        assert_eq!(problem("[]"), PolicyDocumentProblem::NotObject);
        assert_eq!(problem(r#"{"Statement": []}"#), PolicyDocumentProblem::MissingVersion);
        assert_eq!(problem(r#"{"Version": "1", "Statement": []}"#), PolicyDocumentProblem::MissingStatement);
        assert_eq!(problem(r#"{"Version": "1"}"#), PolicyDocumentProblem::MissingStatement);
        assert_eq!(
            problem(r#"{"Version": "1", "Statement": [{}, 3]}"#),
            PolicyDocumentProblem::StatementNotObject { index: 1 }
        );
        // White space does not count towards the 2048.
        let padded =
            format!(r#"{{"Version": "1", "Statement": {{"Resource": "{}"}}}}{}"#, "a".repeat(2000), " ".repeat(5000));
        assert!(PolicyDocument::parse(&padded).is_ok());
        let long = format!(r#"{{"Version": "1", "Statement": {{"Resource": "{}"}}}}"#, "a".repeat(2048));
        assert!(matches!(problem(&long), PolicyDocumentProblem::TooLong { max: 2048, .. }));
        let huge = " ".repeat(MAX_POLICY_DOCUMENT_CHARS + 1);
        assert!(matches!(
            PolicyDocument::parse(&huge),
            Err(Error::Request(RequestError::Length { member: "policyDocument", .. }))
        ));
    }
}
