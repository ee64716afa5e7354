//! The certificateId: lowercase hex SHA-256 of a certificate's DER (SPEC §1.7).

use core::fmt;

use sha2::{Digest, Sha256};

/// Length of a certificateId in characters. AWS model: `CertificateId` min 64, max 64.
pub const CERTIFICATE_ID_LEN: usize = 64;

/// A certificateId: 64 lowercase hex characters, the SHA-256 of the certificate's DER.
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
}
