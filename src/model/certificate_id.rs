//! The certificateId: lowercase hex SHA-256 of a certificate's DER (rule 1.7).

use core::fmt;

use sha2::{Digest, Sha256};

use crate::error::{Error, RequestError};

/// Length of a certificateId in characters. AWS model: `CertificateId` min 64, max 64.
pub const CERTIFICATE_ID_LEN: usize = 64;

/// The pattern a certificateId in a request matches. AWS model: `CertificateId` pattern.
pub const CERTIFICATE_ID_PATTERN: &str = "(0x)?[a-fA-F0-9]+";

/// A certificateId: 64 lowercase hex characters, the SHA-256 of the certificate's DER.
///
/// An id read from a request with [`CertificateId::parse_path`] may also be AWS's `0x` form
/// (`0x` and 62 hex digits): the model allows it, but no certificate has such an id, so it
/// names nothing and every lookup of it misses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertificateId(String);

impl CertificateId {
    /// The id of the certificate whose DER is `der`.
    #[must_use]
    pub fn of_der(der: &[u8]) -> Self {
        Self(hex_lower(&Sha256::digest(der)))
    }

    /// Parses an id given as text (e.g. from a URL path): exactly 64 lowercase hex characters.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == CERTIFICATE_ID_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_owned()))
    }

    /// Parses an id given in a request (a URL path such as `/cacertificate/{caCertificateId}`,
    /// or a member named `member`): 64 characters matching [`CERTIFICATE_ID_PATTERN`], hex
    /// digits in either case. The id is answered in lower case, so `ABC…` and `abc…` name the
    /// same certificate. The `0x` form passes (AWS's model allows it) and is kept, lowercased;
    /// it names no certificate, so the operation answers ResourceNotFoundException.
    ///
    /// # Errors
    /// [`RequestError::Length`] unless 64 characters, then [`RequestError::Pattern`]
    /// (InvalidRequestException, with AWS's `1 validation error detected` wording).
    pub fn parse_path(text: &str, member: &'static str) -> Result<Self, Error> {
        let len = text.chars().take(CERTIFICATE_ID_LEN * 4 + 1).count();
        if len != CERTIFICATE_ID_LEN {
            let len = if len > CERTIFICATE_ID_LEN { text.chars().count() } else { len };
            return Err(Error::Request(RequestError::Length {
                member,
                len,
                min: CERTIFICATE_ID_LEN,
                max: CERTIFICATE_ID_LEN,
            }));
        }
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Request(RequestError::Pattern {
                member,
                value: text.to_owned(),
                pattern: CERTIFICATE_ID_PATTERN,
            }));
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_sha256_hex() {
        // SHA-256 of the empty string.
        let id = CertificateId::of_der(b"");
        assert_eq!(id.as_str(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(CertificateId::parse(id.as_str()), Some(id));
        assert_eq!(CertificateId::parse(&"A".repeat(64)), None);
        assert_eq!(CertificateId::parse(&"a".repeat(63)), None);
    }

    fn path(text: &str) -> Result<CertificateId, Error> {
        CertificateId::parse_path(text, "certificateId")
    }

    #[test]
    fn path_ids_match_case_insensitively_and_answer_lowercase() {
        let id = CertificateId::of_der(b"");
        assert_eq!(path(id.as_str()), Ok(id.clone()));
        assert_eq!(path(&id.as_str().to_ascii_uppercase()), Ok(id));
        let zero_x = format!("0x{}", "Ab".repeat(31));
        assert_eq!(path(&zero_x).map(|i| i.as_str().to_owned()), Ok(format!("0x{}", "ab".repeat(31))));
    }

    #[test]
    fn path_ids_refused_with_the_member_named() {
        let length = |len| Err(Error::Request(RequestError::Length { member: "certificateId", len, min: 64, max: 64 }));
        assert_eq!(path(""), length(0));
        assert_eq!(path(&"a".repeat(63)), length(63));
        assert_eq!(path(&"a".repeat(65)), length(65));
        assert_eq!(path(&"é".repeat(63)), length(63));
        let pattern = |value: &str| {
            Err(Error::Request(RequestError::Pattern {
                member: "certificateId",
                value: value.to_owned(),
                pattern: CERTIFICATE_ID_PATTERN,
            }))
        };
        for bad in [
            format!("{}g", "a".repeat(63)),
            format!("0X{}", "a".repeat(62)),
            "é".repeat(64),
            format!("0x0x{}", "a".repeat(60)),
        ] {
            assert_eq!(path(&bad), pattern(&bad), "{bad}");
        }
    }
}
