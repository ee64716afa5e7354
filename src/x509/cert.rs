//! A strict DER view of one X.509 certificate (rule 1.2).
//!
//! The view owns the DER and records where each field lies in it, so that the signed bytes,
//! names and keys are always the bytes that arrived, never a re-encoding. Structure is checked
//! here (strict DER, v1/v2/v3, unique-id and extension placement, times, a whole-octet
//! signature); policy (which keys, which extensions) lives in `key.rs` and `ca.rs`.

use core::fmt;

use core::ops::Range;

use der::Tag;

use crate::x509::pem::PemError;
use crate::x509::time::UnixTime;
use crate::x509::tlv::ParseError;
use crate::x509::tlv::{self, Cursor, Tlv, check_integer, check_oid, context, walk_name};

/// Certificate version (RFC 5280 §4.1.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// v1: no extensions.
    V1,
    /// v2: unique identifiers, no extensions.
    V2,
    /// v3: extensions.
    V3,
}

/// One extension, as it stands in the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawExtension {
    /// Content octets of the extnID OBJECT IDENTIFIER.
    pub oid: Range<usize>,
    pub critical: bool,
    /// Content octets of the extnValue OCTET STRING.
    pub value: Range<usize>,
}

/// One attribute of a Name: its type (content octets of the OID), the tag of its value and the
/// value's content octets.
pub(crate) type SubjectAttribute<'a> = (&'a [u8], Tag, &'a [u8]);

/// A parsed certificate: the DER it came from plus the position of each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    version: Version,
    serial: Range<usize>,
    signature_algorithm: Range<usize>,
    issuer: Range<usize>,
    not_before: UnixTime,
    not_after: UnixTime,
    subject: Range<usize>,
    spki: Range<usize>,
    extensions: Vec<RawExtension>,
    signature: Range<usize>,
}

/// Decodes a UTCTime or GeneralizedTime (without fractions) per RFC 5280 §4.1.2.5: every
/// time from 1950 (UTCTime) or year 0000 (GeneralizedTime) to 9999-12-31T23:59:59Z.
fn parse_time(der: &[u8], tlv: &Tlv, field: &'static str) -> Result<UnixTime, ParseError> {
    let generalized = match tlv.tag {
        Tag::UtcTime => false,
        Tag::GeneralizedTime => true,
        _ => return Err(ParseError::Time { field }),
    };
    UnixTime::from_asn1(&der[tlv.value.clone()], generalized).ok_or(ParseError::Time { field })
}

impl ParsedCertificate {
    /// Parses exactly one strictly DER-encoded certificate, with no trailing bytes.
    ///
    /// # Errors
    /// [`ParseError`] naming the first field that is not as RFC 5280 and DER require.
    pub fn from_der(der: Vec<u8>) -> Result<Self, ParseError> {
        let mut top = Cursor::new(&der, 0..der.len());
        let cert = top.expect(Tag::Sequence, "Certificate")?;
        if !top.is_empty() {
            return Err(ParseError::TrailingData { len: der.len() - cert.whole.end });
        }
        let mut outer = Cursor::new(&der, cert.value);
        let tbs = outer.expect(Tag::Sequence, "tbsCertificate")?;
        let outer_alg = algorithm_identifier(&mut outer, "signatureAlgorithm")?;
        let signature = outer.expect(Tag::BitString, "signatureValue")?;
        outer.finish("Certificate")?;

        let mut t = Cursor::new(&der, tbs.value.clone());
        let version = if t.peek_tag() == Some(context(0, true)) {
            let wrapper = t.expect(context(0, true), "version")?;
            let mut inner = Cursor::new(&der, wrapper.value);
            let int = inner.expect(Tag::Integer, "version")?;
            inner.finish("version")?;
            match &der[int.value] {
                [1] => Version::V2,
                [2] => Version::V3,
                // v1 is the DEFAULT and must not be encoded (X.690 §11.5).
                [0] => return Err(ParseError::Der { field: "version" }),
                other => {
                    let value = other.iter().take(8).fold(0u64, |a, b| (a << 8) | u64::from(*b));
                    return Err(ParseError::UnsupportedVersion { value });
                }
            }
        } else {
            Version::V1
        };
        let serial = t.expect(Tag::Integer, "serialNumber")?;
        check_integer(&der[serial.value.clone()], "serialNumber")?;
        let inner_alg = algorithm_identifier(&mut t, "signature")?;
        let issuer = name(&mut t, "issuer")?;
        let validity = t.expect(Tag::Sequence, "validity")?;
        let subject = name(&mut t, "subject")?;
        let spki = subject_public_key_info(&mut t)?;
        for (number, field) in [(1, "issuerUniqueID"), (2, "subjectUniqueID")] {
            if t.peek_tag() == Some(context(number, false)) {
                let id = t.any(field)?;
                if version == Version::V1 {
                    return Err(ParseError::Der { field });
                }
                check_bit_string(&der[id.value], field)?;
            }
        }
        let mut extensions = Vec::new();
        if t.peek_tag() == Some(context(3, true)) {
            let wrapper = t.expect(context(3, true), "extensions")?;
            if version != Version::V3 {
                return Err(ParseError::Der { field: "extensions" });
            }
            extensions = parse_extensions(&der, wrapper.value)?;
        }
        t.finish("tbsCertificate")?;

        if der[inner_alg.clone()] != der[outer_alg.clone()] {
            return Err(ParseError::SignatureAlgorithmMismatch);
        }
        let mut v = Cursor::new(&der, validity.value);
        let nb = v.any("notBefore")?;
        let na = v.any("notAfter")?;
        v.finish("validity")?;
        let not_before = parse_time(&der, &nb, "notBefore")?;
        let not_after = parse_time(&der, &na, "notAfter")?;

        let bits = &der[signature.value.clone()];
        match bits.first() {
            None => return Err(ParseError::Der { field: "signatureValue" }),
            Some(0) => {}
            Some(&unused) => return Err(ParseError::SignatureUnusedBits { unused }),
        }
        let signature = signature.value.start + 1..signature.value.end;

        Ok(Self {
            tbs: tbs.whole,
            version,
            serial: serial.value,
            signature_algorithm: outer_alg,
            issuer,
            not_before,
            not_after,
            subject,
            spki,
            extensions,
            signature,
            der,
        })
    }

    /// Parses a certificate field's text: exactly one `CERTIFICATE` PEM block (explanatory
    /// text around it and CRLF allowed, RFC 7468), then [`ParsedCertificate::from_der`].
    ///
    /// # Errors
    /// [`CertificateInputError`] saying whether the PEM or the DER is at fault.
    pub fn from_pem(text: &str) -> Result<Self, CertificateInputError> {
        let der = crate::x509::pem::decode_certificate(text).map_err(CertificateInputError::Pem)?;
        Self::from_der(der).map_err(CertificateInputError::Parse)
    }

    /// notBefore ≤ now ≤ notAfter, both ends inclusive, and notBefore ≤ notAfter
    /// (rule 1.3.4 and rule 1.4.4 share this rule).
    ///
    /// # Errors
    /// [`ValidityError`] saying which bound fails.
    pub fn check_validity(&self, now: UnixTime) -> Result<(), ValidityError> {
        let (not_before, not_after) = (self.not_before, self.not_after);
        if not_before > not_after {
            return Err(ValidityError::Inverted { not_before, not_after });
        }
        if now < not_before {
            return Err(ValidityError::NotYetValid { not_before, now });
        }
        if now > not_after {
            return Err(ValidityError::Expired { not_after, now });
        }
        Ok(())
    }

    /// The whole certificate, as received.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER of tbsCertificate exactly as received: the bytes the signature covers.
    #[must_use]
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// The certificate version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Content octets of the serial number INTEGER (two's complement, big-endian).
    #[must_use]
    pub fn serial(&self) -> &[u8] {
        &self.der[self.serial.clone()]
    }

    /// DER of signatureAlgorithm (byte-equal to tbsCertificate.signature).
    #[must_use]
    pub fn signature_algorithm_der(&self) -> &[u8] {
        &self.der[self.signature_algorithm.clone()]
    }

    /// DER of the issuer Name, as received.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        &self.der[self.issuer.clone()]
    }

    /// DER of the subject Name, as received.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        &self.der[self.subject.clone()]
    }

    /// DER of subjectPublicKeyInfo, as received.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.der[self.spki.clone()]
    }

    /// notBefore, in whole seconds.
    #[must_use]
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// notAfter, in whole seconds.
    #[must_use]
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// The signature value (the BIT STRING's octets, which have no unused bits).
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        &self.der[self.signature.clone()]
    }

    /// subject and issuer are byte-equal.
    #[must_use]
    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    /// The content octets of every attribute of type `oid` (content octets of its OID) in the
    /// subject, in order, whatever string type carries them. Walks the Name as received.
    pub(crate) fn subject_attribute_values(&self, oid: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        self.each_subject_attribute(|(kind, _, value)| {
            if kind == oid {
                out.push(value);
            }
        });
        out
    }

    /// Every attribute of the subject, in order: the content octets of its type OID, the tag
    /// of its value and the value's content octets. Walks the Name as received.
    pub(crate) fn subject_attributes(&self) -> Vec<SubjectAttribute<'_>> {
        let mut out = Vec::new();
        self.each_subject_attribute(|attribute| out.push(attribute));
        out
    }

    /// Hands every attribute of the subject, in order, to `each`.
    fn each_subject_attribute<'a>(&'a self, mut each: impl FnMut(SubjectAttribute<'a>)) {
        let der = self.der.as_slice();
        let mut name = Cursor::new(der, self.subject.clone());
        // `from_der` walked this Name already, so the walk cannot fail here.
        let _walked = walk_name(&mut name, "subject", |kind, value| {
            each((kind, value.tag, der.get(value.value.clone()).unwrap_or_default()));
        });
    }

    /// The subject holds no attribute at all: an empty RDNSequence (RDNs cannot be empty).
    pub(crate) fn subject_is_empty(&self) -> bool {
        self.subject_der() == [0x30, 0x00]
    }

    pub(crate) fn extensions(&self) -> &[RawExtension] {
        &self.extensions
    }

    pub(crate) fn bytes(&self, range: &Range<usize>) -> &[u8] {
        &self.der[range.clone()]
    }
}

/// An AlgorithmIdentifier, read by [`tlv::algorithm_identifier`]; its whole TLV's position.
/// Shared with the certification request (`csr.rs`).
pub(crate) fn algorithm_identifier(cursor: &mut Cursor<'_>, field: &'static str) -> Result<Range<usize>, ParseError> {
    let start = cursor.position();
    tlv::algorithm_identifier(cursor, field)?;
    Ok(start..cursor.position())
}

/// A Name, walked strictly; its whole TLV's position.
pub(crate) fn name(cursor: &mut Cursor<'_>, field: &'static str) -> Result<Range<usize>, ParseError> {
    let start = cursor.position();
    walk_name(cursor, field, |_, _| {})?;
    Ok(start..cursor.position())
}

/// A SubjectPublicKeyInfo by shape (RFC 5280 §4.1.2.7): an AlgorithmIdentifier and a DER BIT
/// STRING; its whole TLV's position. Which keys are accepted is `key.rs`'s rule.
pub(crate) fn subject_public_key_info(cursor: &mut Cursor<'_>) -> Result<Range<usize>, ParseError> {
    let start = cursor.position();
    cursor.nested(Tag::Sequence, "subjectPublicKeyInfo", |parts| {
        algorithm_identifier(parts, "subjectPublicKeyInfo")?;
        let key = parts.expect(Tag::BitString, "subjectPublicKey")?;
        check_bit_string(parts.bytes(key.value), "subjectPublicKey")
    })?;
    Ok(start..cursor.position())
}

/// BIT STRING content octets as DER fixes them (X.690 §8.6.2, §11.2): an unused-bits count of
/// 0 to 7, none without a following octet, and unused bits zero.
fn check_bit_string(content: &[u8], field: &'static str) -> Result<(), ParseError> {
    match content {
        [0] => Ok(()),
        [unused @ 0..=7, .., last] if last & ((1u8 << unused) - 1) == 0 => Ok(()),
        _ => Err(ParseError::Der { field }),
    }
}

/// The Extensions inside `range`, which must hold exactly one non-empty SEQUENCE OF Extension
/// (RFC 5280 §4.1): a certificate's `[3]` wrapper, or a request's extensionRequest values.
pub(crate) fn parse_extensions(der: &[u8], range: Range<usize>) -> Result<Vec<RawExtension>, ParseError> {
    const FIELD: &str = "extensions";
    let mut wrapper = Cursor::new(der, range);
    let seq = wrapper.expect(Tag::Sequence, FIELD)?;
    wrapper.finish(FIELD)?;
    let mut list = Cursor::new(der, seq.value);
    if list.is_empty() {
        // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
        return Err(ParseError::Der { field: FIELD });
    }
    let mut out = Vec::new();
    while !list.is_empty() {
        let ext = list.expect(Tag::Sequence, "extension")?;
        let mut e = Cursor::new(der, ext.value);
        let oid = e.expect(Tag::ObjectIdentifier, "extnID")?;
        check_oid(&der[oid.value.clone()], "extnID")?;
        let mut critical = false;
        if e.peek_tag() == Some(Tag::Boolean) {
            let b = e.expect(Tag::Boolean, "critical")?;
            match &der[b.value] {
                // DER: TRUE is 0xFF, and FALSE (the DEFAULT) is not encoded at all.
                [0xff] => critical = true,
                _ => return Err(ParseError::Der { field: "critical" }),
            }
        }
        let value = e.expect(Tag::OctetString, "extnValue")?;
        e.finish("extension")?;
        out.push(RawExtension { oid: oid.value, critical, value: value.value });
    }
    Ok(out)
}

/// A certificate field's text is not one certificate: its PEM or the DER inside.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateInputError {
    /// The PEM text.
    Pem(PemError),
    /// The DER inside it.
    Parse(ParseError),
}

impl fmt::Display for CertificateInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(e) => e.fmt(f),
            Self::Parse(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for CertificateInputError {}

/// A certificate is not valid at `now` (rule 1.3.4, rule 1.4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityError {
    /// now > notAfter.
    Expired {
        /// notAfter.
        not_after: UnixTime,
        /// The time checked.
        now: UnixTime,
    },
    /// now < notBefore.
    NotYetValid {
        /// notBefore.
        not_before: UnixTime,
        /// The time checked.
        now: UnixTime,
    },
    /// notBefore > notAfter.
    Inverted {
        /// notBefore.
        not_before: UnixTime,
        /// notAfter.
        not_after: UnixTime,
    },
}

impl fmt::Display for ValidityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { not_after, now } => write!(f, "expired at {not_after} (now {now})"),
            Self::NotYetValid { not_before, now } => write!(f, "not valid before {not_before} (now {now})"),
            Self::Inverted { not_before, not_after } => {
                write!(f, "notBefore {not_before} is after notAfter {not_after}")
            }
        }
    }
}
