//! Every enum AWS sends as a string, each declared once with its wire values (from which
//! `VALUES`, `parse`, `as_str`, `FromStr` and `Display` are derived), and the [`Finding`]s a CA
//! registration reports.

use core::fmt;

use crate::error::CertificateError;

/// Declares a wire enum. `$member` is the member name `FromStr` reports in its error; `parse`
/// takes the member a request actually used (`status`, `newStatus`, …).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident (member $member:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`.")] $variant,)*
        }

        impl $name {
            /// Every value, as the wire spells it.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            /// Parses the wire value given as the request member `member`.
            ///
            /// # Errors
            /// [`RequestError::Enum`](crate::RequestError::Enum) naming `member`, for any other
            /// string (InvalidRequestException).
            pub fn parse(text: &str, member: &'static str) -> Result<Self, crate::Error> {
                match text {
                    $($wire => Ok(Self::$variant),)*
                    other => Err(crate::error::RequestError::Enum {
                        member,
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
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl core::str::FromStr for $name {
            type Err = crate::Error;

            #[doc = concat!("Parses the wire value, as the member `", $member, "`.")]
            fn from_str(text: &str) -> Result<Self, crate::Error> {
                Self::parse(text, $member)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// How devices present certificates issued by the CA.
    #[derive(Default)]
    pub enum CertificateMode (member "certificateMode") {
        /// The registration needs a verification certificate (proof of possession).
        #[default]
        Default = "DEFAULT",
        /// No verification certificate; the CA may be registered in several accounts.
        SniOnly = "SNI_ONLY",
    }
}

wire_enum! {
    /// A CA certificate's status.
    pub enum CaStatus (member "newStatus") {
        /// Devices whose certificates it signed may register and connect.
        Active = "ACTIVE",
        /// Deactivated.
        Inactive = "INACTIVE",
    }
}

wire_enum! {
    /// Whether devices with certificates from this CA register themselves on first connect.
    pub enum AutoRegistrationStatus (member "newAutoRegistrationStatus") {
        /// Just-in-time registration on.
        Enable = "ENABLE",
        /// Off.
        Disable = "DISABLE",
    }
}

wire_enum! {
    /// A device certificate's status (AWS model `CertificateStatus`). Whether an operation
    /// accepts a value is that operation's rule.
    pub enum CertificateStatus (member "status") {
        /// The device may connect.
        Active = "ACTIVE",
        /// Deactivated.
        Inactive = "INACTIVE",
        /// Final: no change leads out of it.
        Revoked = "REVOKED",
        /// An AWS-internal state (certificate transfer between accounts).
        PendingTransfer = "PENDING_TRANSFER",
        /// An AWS-internal state.
        RegisterInactive = "REGISTER_INACTIVE",
        /// Registered by just-in-time registration, waiting for a handler to activate it.
        PendingActivation = "PENDING_ACTIVATION",
    }
}

impl CertificateStatus {
    /// A caller may set this status (RegisterCertificate's `status`, UpdateCertificate's
    /// `newStatus`): ACTIVE, INACTIVE or REVOKED. The others are states AWS IoT sets itself.
    #[must_use]
    pub const fn is_settable(self) -> bool {
        matches!(self, Self::Active | Self::Inactive | Self::Revoked)
    }

    /// Refuses a status the caller may not set, naming `member`.
    pub(crate) fn settable(self, member: &'static str) -> Result<Self, CertificateError> {
        if self.is_settable() { Ok(self) } else { Err(CertificateError::StatusNotSettable { member, status: self }) }
    }
}

wire_enum! {
    /// A provisioning template's type.
    pub enum TemplateType (member "type") {
        /// Just-in-time provisioning (what registrationConfig.templateName needs).
        Jitp = "JITP",
        /// Fleet provisioning (what CreateProvisioningClaim needs).
        FleetProvisioning = "FLEET_PROVISIONING",
    }
}

/// Declares [`Finding`] once: each finding with its stable id, its reference and its
/// sentence, from which `ALL`, `id`, `reference` and `Display` are derived.
macro_rules! findings {
    ($($(#[doc = $doc:literal])* $name:ident = ($id:literal, $reference:literal, $what:literal),)*) => {
        /// Something a CA certificate does that RFC 5280 or the CA/B Forum advise against, but
        /// that AWS accepts. Reported with the result; refused under [`Policy::strict`](crate::Policy::strict).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Finding {
            $($(#[doc = $doc])* $name,)*
        }

        impl Finding {
            /// Every finding, in the order they are checked.
            pub const ALL: &'static [Self] = &[$(Self::$name),*];

            /// Stable id (`bc-not-critical`, …).
            #[must_use]
            pub const fn id(self) -> &'static str {
                match self {
                    $(Self::$name => $id,)*
                }
            }

            /// The RFC section (or guideline) behind it.
            #[must_use]
            pub const fn reference(self) -> &'static str {
                match self {
                    $(Self::$name => $reference,)*
                }
            }

            const fn what(self) -> &'static str {
                match self {
                    $(Self::$name => $what,)*
                }
            }
        }
    };
}

findings! {
    /// basicConstraints is not marked critical.
    BasicConstraintsNotCritical = ("bc-not-critical", "RFC 5280 §4.2.1.9", "basicConstraints is not critical"),
    /// No keyUsage extension.
    KeyUsageAbsent = ("ku-absent", "RFC 5280 §4.2.1.3", "keyUsage is absent"),
    /// keyUsage is not marked critical.
    KeyUsageNotCritical = ("ku-not-critical", "RFC 5280 §4.2.1.3", "keyUsage is not critical"),
    /// No subjectKeyIdentifier extension.
    SubjectKeyIdentifierAbsent = ("ski-absent", "RFC 5280 §4.2.1.2", "subjectKeyIdentifier is absent"),
    /// A self-issued CA with a pathLenConstraint.
    PathLenOnRoot = ("pathlen-on-root", "RFC 5280 §4.2.1.9, CA/B Forum BR §7.1.2.1", "a root carries pathLenConstraint"),
    /// A self-issued CA with extKeyUsage.
    ExtKeyUsageOnRoot = ("eku-on-root", "RFC 5280 §4.2.1.12, CA/B Forum BR §7.1.2.1", "a root carries extKeyUsage"),
    /// The CA certificate itself is signed with SHA-1.
    Sha1SelfSignature = ("sha1-self-signature", "RFC 9155, CA/B Forum BR §7.1.3.2", "the CA certificate is signed with SHA-1"),
    /// The serial number is zero or negative.
    SerialNotPositive = ("serial-not-positive", "RFC 5280 §4.1.2.2", "the serial number is zero or negative"),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.what(), self.id(), self.reference())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, RequestError};

    #[test]
    fn modes_parse_exactly() {
        assert_eq!("DEFAULT".parse::<CertificateMode>(), Ok(CertificateMode::Default));
        assert_eq!("SNI_ONLY".parse::<CertificateMode>(), Ok(CertificateMode::SniOnly));
        for bad in ["default", "sni_only", "", "SNI"] {
            assert!(
                matches!(
                    CertificateMode::parse(bad, "certificateMode"),
                    Err(Error::Request(RequestError::Enum { .. }))
                ),
                "{bad}"
            );
        }
    }
}
