//! A strict DER view of one PKCS#10 certification request (RFC 2986), and its verification:
//! the key policy of rule 1.3.6 and a self-signature from the strong set without SHA-1, as the
//! proof of possession is checked (rule 1.4.3).
//!
//! Like the certificate view (`cert.rs`), the view owns the DER and records where each field
//! lies in it, so the signed bytes, the subject and the key are always the bytes that arrived.
//! Structure is checked here (strict DER, version v1, attributes in DER order with a
//! well-formed extensionRequest, a whole-octet signature); the key and the signature are
//! checked by [`ParsedCsr::verify`].

use core::fmt;

use core::ops::Range;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Tag;

use crate::x509::algorithm::{KeyError, SignatureError};
use crate::x509::backend::Backend;
use crate::x509::cert;
use crate::x509::key::{PublicKey, verify_strong};
use crate::x509::pem::{self, PemError};
use crate::x509::tlv::{Cursor, ParseError, Tlv, check_oid, context, unsigned_integer};

/// How deep constructed encodings may nest inside one attribute value: the extensionRequest
/// nests two (ExtensionReq, Extension), other enrolment attributes a few. The bound keeps the
/// walk of an untrusted value from recursing without end (our rule: RFC 2986 sets none).
const MAX_ATTRIBUTE_DEPTH: usize = 16;

/// A parsed certification request: the DER it came from plus the position of each field.
///
/// ```text
/// CertificationRequest ::= SEQUENCE {
///     certificationRequestInfo CertificationRequestInfo,
///     signatureAlgorithm       AlgorithmIdentifier,
///     signature                BIT STRING }
/// CertificationRequestInfo ::= SEQUENCE {
///     version       INTEGER { v1(0) },
///     subject       Name,
///     subjectPKInfo SubjectPublicKeyInfo,
///     attributes    [0] IMPLICIT SET OF Attribute }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCsr {
    der: Vec<u8>,
    info: Range<usize>,
    subject: Range<usize>,
    spki: Range<usize>,
    attributes: Range<usize>,
    extension_request: Option<Range<usize>>,
    signature_algorithm: Range<usize>,
    signature: Range<usize>,
}

impl ParsedCsr {
    /// Parses exactly one strictly DER-encoded PKCS#10 CertificationRequest (RFC 2986 §4),
    /// with no trailing bytes: version v1 (0); the subject Name and the SubjectPublicKeyInfo
    /// walked as a certificate's are; the attributes present (the `[0]` may be empty), each
    /// an OBJECT IDENTIFIER and a non-empty SET of values, every SET in DER order, every TLV
    /// inside strict DER, no attribute type twice, and an extensionRequest (RFC 2985 §5.4.2)
    /// holding exactly one non-empty SEQUENCE of well-formed Extensions; a signature BIT STRING
    /// with no unused bits.
    ///
    /// # Errors
    /// [`CsrError`] naming the first field that is not as RFC 2986 and DER require.
    pub fn from_der(der: Vec<u8>) -> Result<Self, CsrError> {
        let mut top = Cursor::new(&der, 0..der.len());
        let request = top.expect(Tag::Sequence, "CertificationRequest").map_err(der_fault)?;
        if !top.is_empty() {
            return Err(CsrError::TrailingData { len: der.len() - request.whole.end });
        }
        let mut outer = Cursor::new(&der, request.value);
        let info = outer.expect(Tag::Sequence, "certificationRequestInfo").map_err(der_fault)?;
        let signature_algorithm = cert::algorithm_identifier(&mut outer, "signatureAlgorithm").map_err(der_fault)?;
        let signature = outer.expect(Tag::BitString, "signature").map_err(der_fault)?;
        outer.finish("CertificationRequest").map_err(der_fault)?;

        let mut fields = Cursor::new(&der, info.value);
        let version = fields.expect(Tag::Integer, "version").map_err(der_fault)?;
        check_version(fields.bytes(version.value))?;
        let subject = cert::name(&mut fields, "subject").map_err(der_fault)?;
        let spki = cert::subject_public_key_info(&mut fields).map_err(der_fault)?;
        let attributes_start = fields.position();
        let mut types: Vec<&[u8]> = Vec::new();
        let mut extension_request = None;
        fields
            .set_of(context(0, true), "attributes", false, |attribute| {
                let (kind, request) = read_attribute(&der, attribute)?;
                types.push(kind);
                if request.is_some() {
                    extension_request = request;
                }
                Ok(())
            })
            .map_err(der_fault)?;
        let attributes = attributes_start..fields.position();
        fields.finish("certificationRequestInfo").map_err(der_fault)?;
        types.sort_unstable();
        if let Some(pair) = types.windows(2).find(|pair| pair[0] == pair[1]) {
            let attribute = ObjectIdentifier::from_bytes(pair[0]).map_err(|_| CsrError::Der { field: "attributes" })?;
            return Err(CsrError::DuplicateAttribute { attribute });
        }

        let bits = &der[signature.value.clone()];
        match bits.first() {
            None => return Err(CsrError::Der { field: "signature" }),
            Some(0) => {}
            Some(&unused) => return Err(CsrError::SignatureUnusedBits { unused }),
        }
        let signature = signature.value.start + 1..signature.value.end;

        Ok(Self { info: info.whole, subject, spki, attributes, extension_request, signature_algorithm, signature, der })
    }

    /// Parses a certification request field's text: exactly one `CERTIFICATE REQUEST` PEM
    /// block (or `NEW CERTIFICATE REQUEST`, RFC 7468 §7), at most
    /// [`MAX_CSR_PEM_CHARS`](crate::MAX_CSR_PEM_CHARS) characters, with explanatory text
    /// around it and CRLF allowed; then [`ParsedCsr::from_der`].
    ///
    /// # Errors
    /// [`CsrError::Pem`] when the text is not one such block, else the errors of
    /// [`ParsedCsr::from_der`].
    pub fn from_pem(text: &str) -> Result<Self, CsrError> {
        let der = pem::decode_certificate_request(text).map_err(CsrError::Pem)?;
        Self::from_der(der)
    }

    /// Checks the subject public key against the key policy (rule 1.3.6: RSA 2048..=8192 bits,
    /// EC P-256, P-384 or P-521) and the self-signature over certificationRequestInfo, exactly
    /// as received, with an algorithm from the strong set without SHA-1 that fits the key (as
    /// the proof of possession, rule 1.4.3), on `backend`.
    ///
    /// # Errors
    /// [`CsrError::Key`] for a key outside the policy, [`CsrError::Signature`] for an algorithm
    /// outside the strong set, one that does not fit the key, or a signature that does not
    /// verify.
    pub fn verify(self, backend: Backend) -> Result<VerifiedCsr, CsrError> {
        let key = PublicKey::from_spki_der(self.spki_der()).map_err(CsrError::Key)?;
        verify_strong(backend, &key, self.signature_algorithm_der(), self.info_der(), self.signature())
            .map_err(CsrError::Signature)?;
        Ok(VerifiedCsr { csr: self, key })
    }

    /// The whole request, as received.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER of certificationRequestInfo exactly as received: the bytes the signature covers.
    #[must_use]
    pub fn info_der(&self) -> &[u8] {
        &self.der[self.info.clone()]
    }

    /// DER of the subject Name, as received.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        &self.der[self.subject.clone()]
    }

    /// DER of subjectPKInfo, as received.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.der[self.spki.clone()]
    }

    /// DER of the attributes, `[0]` header included, as received (`a0 00` when there are none).
    #[must_use]
    pub fn attributes_der(&self) -> &[u8] {
        &self.der[self.attributes.clone()]
    }

    /// DER of the extensionRequest attribute's value, the `SEQUENCE OF Extension` (RFC 2985
    /// §5.4.2), as received; `None` when the request has no extensionRequest.
    #[must_use]
    pub fn extension_request_der(&self) -> Option<&[u8]> {
        self.extension_request.as_ref().map(|range| &self.der[range.clone()])
    }

    /// DER of signatureAlgorithm, as received.
    #[must_use]
    pub fn signature_algorithm_der(&self) -> &[u8] {
        &self.der[self.signature_algorithm.clone()]
    }

    /// The signature value (the BIT STRING's octets, which have no unused bits).
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        &self.der[self.signature.clone()]
    }
}

/// A certification request whose key is within the key policy and whose self-signature
/// verified: what [`ParsedCsr::verify`] returns, and what issuing from a request needs.
#[derive(Clone, Debug)]
pub struct VerifiedCsr {
    csr: ParsedCsr,
    key: PublicKey,
}

impl VerifiedCsr {
    /// The request.
    #[must_use]
    pub fn csr(&self) -> &ParsedCsr {
        &self.csr
    }

    /// Its subject public key, parsed under the key policy.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

/// version INTEGER { v1(0) }: minimally encoded and non-negative, and then 0.
fn check_version(content: &[u8]) -> Result<(), CsrError> {
    let magnitude = unsigned_integer(content).ok_or(CsrError::Der { field: "version" })?;
    match magnitude {
        [0] => Ok(()),
        _ if magnitude.len() > 8 => Err(CsrError::Version { value: u64::MAX }),
        _ => Err(CsrError::Version { value: magnitude.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)) }),
    }
}

/// One Attribute (RFC 2986 §4.1): `SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE (1..MAX)
/// OF ANY }`, every value's TLVs strict DER. Returns the type's content octets and, for an
/// extensionRequest, the position of its one value.
fn read_attribute<'a>(der: &'a [u8], attribute: &Tlv) -> Result<(&'a [u8], Option<Range<usize>>), ParseError> {
    const FIELD: &str = "attribute";
    if attribute.tag != Tag::Sequence {
        return Err(ParseError::Der { field: FIELD });
    }
    let mut parts = Cursor::new(der, attribute.value.clone());
    let kind = parts.expect(Tag::ObjectIdentifier, FIELD)?;
    let kind = parts.bytes(kind.value);
    check_oid(kind, FIELD)?;
    let mut values = Vec::new();
    parts.set_of(Tag::Set, "attribute values", true, |value| {
        let mut inside = Cursor::new(der, value.whole.clone());
        inside.walk_all("attribute values", MAX_ATTRIBUTE_DEPTH)?;
        values.push(value.whole.clone());
        Ok(())
    })?;
    parts.finish(FIELD)?;
    if kind != rfc5912::ID_EXTENSION_REQ.as_bytes() {
        return Ok((kind, None));
    }
    // extensionRequest is single-valued (RFC 2985 §5.4.2): ExtensionReq ::= SEQUENCE SIZE
    // (1..MAX) OF Extension (RFC 5272 §3.1).
    let [value] = values.as_slice() else { return Err(ParseError::Der { field: "extensionRequest" }) };
    cert::parse_extensions(der, value.clone())?;
    Ok((kind, Some(value.clone())))
}

/// A certification request is not one strict PKCS#10 request, or does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrError {
    /// The PEM text.
    Pem(PemError),
    /// A field is not valid DER of the expected type (BER lengths, wrong tag, bad INTEGER,
    /// SET OF out of order…).
    Der {
        /// The ASN.1 field name, as RFC 2986 and RFC 5280 spell it.
        field: &'static str,
    },
    /// Bytes follow the request.
    TrailingData {
        /// How many.
        len: usize,
    },
    /// The version is not v1 (0), the only one RFC 2986 defines.
    Version {
        /// The value found (`u64::MAX` when it does not fit in 64 bits).
        value: u64,
    },
    /// An attribute type appears twice.
    DuplicateAttribute {
        /// The attribute type.
        attribute: ObjectIdentifier,
    },
    /// The signature BIT STRING has unused bits.
    SignatureUnusedBits {
        /// The unused-bits count.
        unused: u8,
    },
    /// The subject public key is outside the key policy (rule 1.3.6).
    Key(KeyError),
    /// The self-signature: an algorithm outside the strong set (SHA-1 included), one that does
    /// not fit the key, or a signature that does not verify.
    Signature(SignatureError),
}

/// A fault the DER walkers shared with the certificate view found. They answer
/// [`ParseError::Der`] alone; the other variants cannot reach a request and would still be
/// faults of its DER.
fn der_fault(e: ParseError) -> CsrError {
    match e {
        ParseError::Der { field } | ParseError::Time { field } => CsrError::Der { field },
        ParseError::TrailingData { len } => CsrError::TrailingData { len },
        ParseError::UnsupportedVersion { value } => CsrError::Version { value },
        ParseError::SignatureUnusedBits { unused } => CsrError::SignatureUnusedBits { unused },
        ParseError::SignatureAlgorithmMismatch => CsrError::Der { field: "signatureAlgorithm" },
    }
}

impl fmt::Display for CsrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(e) => e.fmt_for(f, &pem::CERTIFICATE_REQUEST),
            Self::Der { field } => write!(f, "the certificate request is not valid DER at {field}"),
            Self::TrailingData { len } => write!(f, "{len} bytes follow the certificate request"),
            Self::Version { value } => write!(f, "version value {value} is not v1 (0)"),
            Self::DuplicateAttribute { attribute } => write!(f, "attribute {attribute} appears more than once"),
            Self::SignatureUnusedBits { unused } => {
                write!(f, "the signature BIT STRING declares {unused} unused bits")
            }
            Self::Key(e) => e.fmt(f),
            Self::Signature(e) => write!(f, "self-signature: {e}"),
        }
    }
}

impl core::error::Error for CsrError {}

#[cfg(test)]
mod tests {
    use signature::Signer;
    use spki::EncodePublicKey;

    use super::*;
    use crate::x509::algorithm::{HashAlgorithm, KeyKind, SignatureAlgorithm};
    use crate::x509::pem::MAX_CSR_PEM_CHARS;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match u8::try_from(content.len()) {
            Ok(len) if len < 0x80 => out.push(len),
            Ok(len) => out.extend([0x81, len]),
            Err(_) => out.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    fn seq(parts: &[&[u8]]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    fn oid(dotted: &str) -> Vec<u8> {
        tlv(0x06, ObjectIdentifier::new_unwrap(dotted).as_bytes())
    }

    /// ecdsa-with-SHA256 (RFC 5758 §3.2).
    fn ecdsa_sha256() -> Vec<u8> {
        seq(&[&oid("1.2.840.10045.4.3.2")])
    }

    /// A P-256 key from fixed key material.
    fn key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap()
    }

    fn p256_spki() -> Vec<u8> {
        key().verifying_key().to_public_key_der().unwrap().as_bytes().to_vec()
    }

    /// `CN=device`.
    fn subject() -> Vec<u8> {
        seq(&[&tlv(0x31, &seq(&[&oid("2.5.4.3"), &tlv(0x0c, b"device")]))])
    }

    /// `attributes` with the given Attribute encodings, in the order given.
    fn attributes(list: &[&[u8]]) -> Vec<u8> {
        tlv(0xa0, &list.concat())
    }

    fn attribute(kind: &str, values: &[&[u8]]) -> Vec<u8> {
        seq(&[&oid(kind), &tlv(0x31, &values.concat())])
    }

    const CHALLENGE_PASSWORD: &str = "1.2.840.113549.1.9.7";
    const EXTENSION_REQUEST: &str = "1.2.840.113549.1.9.14";

    /// ExtensionReq with basicConstraints cA FALSE.
    fn extensions() -> Vec<u8> {
        seq(&[&seq(&[&oid("2.5.29.19"), &tlv(0x04, &seq(&[]))])])
    }

    fn extension_request() -> Vec<u8> {
        attribute(EXTENSION_REQUEST, &[&extensions()])
    }

    fn info_with(version: &[u8], spki: &[u8], attributes: &[u8]) -> Vec<u8> {
        seq(&[&tlv(0x02, version), &subject(), spki, attributes])
    }

    fn info(attributes: &[u8]) -> Vec<u8> {
        info_with(&[0], &p256_spki(), attributes)
    }

    fn assemble(info: &[u8], algorithm: &[u8], signature_bits: &[u8]) -> Vec<u8> {
        seq(&[info, algorithm, &tlv(0x03, signature_bits)])
    }

    /// `info` signed by [`key`] with ECDSA P-256 SHA-256.
    fn signed(info: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::DerSignature = key().sign(info);
        assemble(info, &ecdsa_sha256(), &[&[0][..], signature.as_bytes()].concat())
    }

    fn parse(der: Vec<u8>) -> Result<ParsedCsr, CsrError> {
        ParsedCsr::from_der(der)
    }

    /// Parses and verifies on every backend of the build, which must agree.
    fn verify(der: Vec<u8>) -> Result<VerifiedCsr, CsrError> {
        let mut answers: Vec<_> = Backend::ALL.iter().map(|&b| parse(der.clone())?.verify(b)).collect();
        for other in &answers[1..] {
            assert_eq!(other.as_ref().err(), answers[0].as_ref().err(), "the backends disagree");
        }
        answers.swap_remove(0)
    }

    fn pem(label: &str, der: &[u8]) -> String {
        pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
    }

    #[test]
    fn a_signed_request_parses_and_verifies() {
        let info = info(&attributes(&[]));
        let der = signed(&info);
        let verified = verify(der.clone()).unwrap();
        let csr = verified.csr();
        assert_eq!(csr.der(), der);
        assert_eq!(csr.info_der(), info);
        assert_eq!(csr.subject_der(), subject());
        assert_eq!(csr.spki_der(), p256_spki());
        assert_eq!(csr.attributes_der(), [0xa0, 0x00]);
        assert_eq!(csr.extension_request_der(), None);
        assert_eq!(csr.signature_algorithm_der(), ecdsa_sha256());
        assert_eq!(verified.public_key().kind(), KeyKind::P256);
    }

    #[test]
    fn attributes_in_der_order_and_the_extension_request() {
        let password = attribute(CHALLENGE_PASSWORD, &[&tlv(0x0c, b"secret")]);
        // The two encodings differ first in their length octets, 0x15 < 0x1a.
        let info = info(&attributes(&[&password, &extension_request()]));
        let verified = verify(signed(&info)).unwrap();
        assert_eq!(verified.csr().extension_request_der(), Some(extensions().as_slice()));
        assert_eq!(verified.csr().attributes_der(), attributes(&[&password, &extension_request()]));
    }

    #[test]
    fn pem_labels_bound_and_faults() {
        let der = signed(&info(&attributes(&[])));
        for label in ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] {
            let text = format!("Subject: CN=device\r\n{}", pem(label, &der).replace('\n', "\r\n"));
            assert_eq!(ParsedCsr::from_pem(&text).map(|c| c.der().to_vec()), Ok(der.clone()));
        }
        assert_eq!(ParsedCsr::from_pem(""), Err(CsrError::Pem(PemError::Empty)));
        assert_eq!(
            ParsedCsr::from_pem(&pem("CERTIFICATE", &der)),
            Err(CsrError::Pem(PemError::WrongLabel { label: "CERTIFICATE".into() }))
        );
        assert_eq!(ParsedCsr::from_pem("no block"), Err(CsrError::Pem(PemError::NoBlock)));
        let two = pem("CERTIFICATE REQUEST", &der).repeat(2);
        assert_eq!(ParsedCsr::from_pem(&two), Err(CsrError::Pem(PemError::MultipleBlocks { count: 2 })));
        let one = pem("CERTIFICATE REQUEST", &der);
        let cut = &one[..one.find("-----END").unwrap()];
        assert_eq!(ParsedCsr::from_pem(cut), Err(CsrError::Pem(PemError::Truncated)));
        let bad = one.replacen('M', "*", 2);
        assert_eq!(ParsedCsr::from_pem(&bad), Err(CsrError::Pem(PemError::Base64)));
        // 1..=4096 characters: the bound at N and N + 1.
        let padded = |n: usize| format!("{}\n{one}", "x".repeat(n - one.len() - 1));
        assert!(ParsedCsr::from_pem(&padded(MAX_CSR_PEM_CHARS)).is_ok());
        assert_eq!(
            ParsedCsr::from_pem(&padded(MAX_CSR_PEM_CHARS + 1)),
            Err(CsrError::Pem(PemError::TooLong { len: MAX_CSR_PEM_CHARS + 1, max: MAX_CSR_PEM_CHARS }))
        );
    }

    #[test]
    fn der_faults_name_the_field() {
        let good = signed(&info(&attributes(&[])));
        assert_eq!(parse(good[..good.len() - 1].to_vec()), Err(CsrError::Der { field: "CertificationRequest" }));
        // No attributes at all: RFC 2986 makes the [0] mandatory.
        let bare = seq(&[&tlv(0x02, &[0]), &subject(), &p256_spki()]);
        assert_eq!(parse(signed(&bare)), Err(CsrError::Der { field: "attributes" }));
        // Attributes out of DER order.
        let password = attribute(CHALLENGE_PASSWORD, &[&tlv(0x0c, b"secret")]);
        let unsorted = info(&attributes(&[&extension_request(), &password]));
        assert_eq!(parse(signed(&unsorted)), Err(CsrError::Der { field: "attributes" }));
        // An attribute without values, and one whose value hides a non-minimal length.
        let empty = info(&attributes(&[&attribute(CHALLENGE_PASSWORD, &[])]));
        assert_eq!(parse(signed(&empty)), Err(CsrError::Der { field: "attribute values" }));
        let ber = info(&attributes(&[&attribute("1.2.3.4", &[&[0x30, 0x03, 0x04, 0x81, 0x00][..]])]));
        assert_eq!(parse(signed(&ber)), Err(CsrError::Der { field: "attribute values" }));
        // extensionRequest: empty, two values, and an Extension without its value.
        let no_extensions = info(&attributes(&[&attribute(EXTENSION_REQUEST, &[&seq(&[])])]));
        assert_eq!(parse(signed(&no_extensions)), Err(CsrError::Der { field: "extensions" }));
        let two = info(&attributes(&[&attribute(EXTENSION_REQUEST, &[&extensions(), &extensions()])]));
        assert_eq!(parse(signed(&two)), Err(CsrError::Der { field: "extensionRequest" }));
        let valueless = info(&attributes(&[&attribute(EXTENSION_REQUEST, &[&seq(&[&seq(&[&oid("2.5.29.19")])])])]));
        assert_eq!(parse(signed(&valueless)), Err(CsrError::Der { field: "extnValue" }));
        // Nesting past the bound.
        let mut deep = tlv(0x05, &[]);
        for _ in 0..MAX_ATTRIBUTE_DEPTH {
            deep = seq(&[&deep]);
        }
        let shallow = info(&attributes(&[&attribute("1.2.3.4", &[&deep])]));
        assert!(parse(signed(&shallow)).is_ok());
        let deeper = info(&attributes(&[&attribute("1.2.3.4", &[&seq(&[&deep])])]));
        assert_eq!(parse(signed(&deeper)), Err(CsrError::Der { field: "attribute values" }));
        // A non-minimal or negative version.
        let padded = info_with(&[0, 0], &p256_spki(), &attributes(&[]));
        assert_eq!(parse(signed(&padded)), Err(CsrError::Der { field: "version" }));
        let negative = info_with(&[0xff], &p256_spki(), &attributes(&[]));
        assert_eq!(parse(signed(&negative)), Err(CsrError::Der { field: "version" }));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut der = signed(&info(&attributes(&[])));
        der.extend([0, 0]);
        assert_eq!(parse(der), Err(CsrError::TrailingData { len: 2 }));
    }

    #[test]
    fn only_version_1_is_accepted() {
        let v2 = info_with(&[1], &p256_spki(), &attributes(&[]));
        assert_eq!(parse(signed(&v2)), Err(CsrError::Version { value: 1 }));
        let huge = info_with(&[0x01; 9], &p256_spki(), &attributes(&[]));
        assert_eq!(parse(signed(&huge)), Err(CsrError::Version { value: u64::MAX }));
    }

    #[test]
    fn an_attribute_type_twice_is_refused() {
        let a = attribute(CHALLENGE_PASSWORD, &[&tlv(0x0c, b"a")]);
        let b = attribute(CHALLENGE_PASSWORD, &[&tlv(0x0c, b"b")]);
        let info = info(&attributes(&[&a, &b]));
        assert_eq!(
            parse(signed(&info)),
            Err(CsrError::DuplicateAttribute { attribute: ObjectIdentifier::new_unwrap(CHALLENGE_PASSWORD) })
        );
    }

    #[test]
    fn a_signature_with_unused_bits_is_refused() {
        let info = info(&attributes(&[]));
        let signature: p256::ecdsa::DerSignature = key().sign(&info);
        let der = assemble(&info, &ecdsa_sha256(), &[&[1][..], signature.as_bytes()].concat());
        assert_eq!(parse(der), Err(CsrError::SignatureUnusedBits { unused: 1 }));
        assert_eq!(parse(assemble(&info, &ecdsa_sha256(), &[])), Err(CsrError::Der { field: "signature" }));
    }

    #[test]
    fn a_key_outside_the_policy_is_refused() {
        // rsaEncryption, a 1024-bit modulus, e = 65537: refused before any signature check.
        let mut modulus = vec![0x00, 0xc1];
        modulus.extend([0x5a; 127]);
        let rsa_key = seq(&[&tlv(0x02, &modulus), &tlv(0x02, &[0x01, 0x00, 0x01])]);
        let rsa_spki =
            seq(&[&seq(&[&oid("1.2.840.113549.1.1.1"), &[0x05, 0x00]]), &tlv(0x03, &[&[0][..], &rsa_key].concat())]);
        let info = info_with(&[0], &rsa_spki, &attributes(&[]));
        let der = assemble(&info, &seq(&[&oid("1.2.840.113549.1.1.11"), &[0x05, 0x00]]), &[0; 129]);
        assert_eq!(verify(der).err(), Some(CsrError::Key(KeyError::RsaModulusSize { bits: 1024 })));
    }

    #[test]
    fn the_self_signature_must_be_strong_fit_and_verify() {
        let info = info(&attributes(&[]));
        let mut tampered = signed(&info);
        let at = tampered.windows(6).position(|w| w == b"device").unwrap();
        tampered[at] ^= 0x01;
        let ecdsa = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        assert_eq!(verify(tampered).err(), Some(CsrError::Signature(SignatureError::Invalid { algorithm: ecdsa })));
        let signature: p256::ecdsa::DerSignature = key().sign(&info);
        let bits = [&[0][..], signature.as_bytes()].concat();
        let sha1 = assemble(&info, &seq(&[&oid("1.2.840.10045.4.1")]), &bits);
        assert_eq!(verify(sha1).err(), Some(CsrError::Signature(SignatureError::Sha1NotAllowed)));
        let rsa = assemble(&info, &seq(&[&oid("1.2.840.113549.1.1.11"), &[0x05, 0x00]]), &bits);
        let mismatch = SignatureError::KeyMismatch {
            key: KeyKind::P256,
            algorithm: SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
        };
        assert_eq!(verify(rsa).err(), Some(CsrError::Signature(mismatch)));
    }

    #[test]
    fn messages_are_sentences_with_values() {
        let cases = [
            (
                CsrError::Pem(PemError::NoBlock),
                "no PEM block found: expected one -----BEGIN CERTIFICATE REQUEST----- block",
            ),
            (
                CsrError::Pem(PemError::MultipleBlocks { count: 2 }),
                "2 PEM blocks found: expected exactly one certificate request",
            ),
            (CsrError::Der { field: "attributes" }, "the certificate request is not valid DER at attributes"),
            (CsrError::TrailingData { len: 3 }, "3 bytes follow the certificate request"),
            (CsrError::Version { value: 1 }, "version value 1 is not v1 (0)"),
            (
                CsrError::DuplicateAttribute { attribute: ObjectIdentifier::new_unwrap(CHALLENGE_PASSWORD) },
                "attribute 1.2.840.113549.1.9.7 appears more than once",
            ),
            (CsrError::SignatureUnusedBits { unused: 1 }, "the signature BIT STRING declares 1 unused bits"),
            (
                CsrError::Signature(SignatureError::Sha1NotAllowed),
                "self-signature: SHA-1 signatures are not accepted here",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
