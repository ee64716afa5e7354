//! certificateMode (rule 1.1, rule 1.4).

use core::fmt;

use crate::error::{Error, RequestError};

/// How devices present certificates issued by the CA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateMode {
    /// `DEFAULT`: the registration needs a verification certificate (proof of possession).
    #[default]
    Default,
    /// `SNI_ONLY`: no verification certificate; the CA may be registered in several accounts.
    SniOnly,
}

impl CertificateMode {
    /// The values AWS accepts, as the wire spells them.
    pub const VALUES: &'static [&'static str] = &["DEFAULT", "SNI_ONLY"];

    /// Parses the wire value.
    ///
    /// # Errors
    /// [`RequestError::Enum`] for any other string (InvalidRequestException).
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "DEFAULT" => Ok(Self::Default),
            "SNI_ONLY" => Ok(Self::SniOnly),
            other => Err(RequestError::Enum {
                member: "certificateMode",
                value: other.chars().take(256).collect(),
                allowed: Self::VALUES,
            }
            .into()),
        }
    }

    /// The wire value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::SniOnly => "SNI_ONLY",
        }
    }
}

impl core::str::FromStr for CertificateMode {
    type Err = Error;

    /// [`CertificateMode::parse`].
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl fmt::Display for CertificateMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_exactly() {
        assert_eq!(CertificateMode::parse("DEFAULT"), Ok(CertificateMode::Default));
        assert_eq!(CertificateMode::parse("SNI_ONLY"), Ok(CertificateMode::SniOnly));
        for bad in ["default", "sni_only", "", "SNI"] {
            assert!(matches!(CertificateMode::parse(bad), Err(Error::Request(RequestError::Enum { .. }))), "{bad}");
        }
    }
}
