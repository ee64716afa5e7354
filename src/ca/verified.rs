//! The CA certificate rules of rule 1.3: errors, findings, and the proof type [`VerifiedCa`].

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::error::{CaError, Error};
use crate::model::certificate_id::CertificateId;
use crate::model::enums::Finding;
use crate::model::policy::Policy;
use crate::x509::algorithm::{HashAlgorithm, SignatureAlgorithm};
use crate::x509::cert::{ParsedCertificate, Version};
use crate::x509::key::PublicKey;
use crate::x509::time::UnixTime;

/// Largest serial number, in content octets (RFC 5280 §4.1.2.2).
pub const MAX_SERIAL_OCTETS: usize = 20;

/// Extensions a CA certificate may mark critical (rule 1.3.1).
const RECOGNISED: [ObjectIdentifier; 14] = [
    rfc5912::ID_CE_BASIC_CONSTRAINTS,
    rfc5912::ID_CE_KEY_USAGE,
    rfc5912::ID_CE_EXT_KEY_USAGE,
    rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc5912::ID_CE_SUBJECT_ALT_NAME,
    rfc5912::ID_CE_ISSUER_ALT_NAME,
    rfc5912::ID_CE_NAME_CONSTRAINTS,
    rfc5912::ID_CE_CERTIFICATE_POLICIES,
    rfc5912::ID_CE_POLICY_MAPPINGS,
    rfc5912::ID_CE_POLICY_CONSTRAINTS,
    rfc5912::ID_CE_INHIBIT_ANY_POLICY,
    rfc5912::ID_CE_CRL_DISTRIBUTION_POINTS,
    rfc5912::ID_PE_AUTHORITY_INFO_ACCESS,
];

/// A CA certificate that passed every rule of rules 1.2–1.3 at a given time, with its findings.
///
/// Only [`VerifiedCa::from_pem`] and [`VerifiedCa::from_der`] make one, so holding one is the
/// proof that the checks ran.
#[derive(Clone, Debug)]
pub struct VerifiedCa {
    backend: crate::x509::backend::Backend,
    cert: ParsedCertificate,
    key: PublicKey,
    findings: Vec<Finding>,
    id: CertificateId,
}

impl VerifiedCa {
    /// Checks a `caCertificate` field: PEM (rule 1.2), DER (rule 1.2), then the CA rules (rule 1.3) at `now`.
    ///
    /// # Errors
    /// [`Error::CaCertificate`] with the first rule that fails.
    pub fn from_pem(pem_text: &str, now: UnixTime, policy: Policy) -> Result<Self, Error> {
        let cert = ParsedCertificate::from_pem(pem_text).map_err(CaError::from)?;
        Self::check(cert, now, policy).map_err(Error::CaCertificate)
    }

    /// Checks a DER certificate against rule 1.2 and rule 1.3 at `now`.
    ///
    /// # Errors
    /// [`Error::CaCertificate`] with the first rule that fails.
    pub fn from_der(der: Vec<u8>, now: UnixTime, policy: Policy) -> Result<Self, Error> {
        let cert = ParsedCertificate::from_der(der).map_err(CaError::Parse)?;
        Self::check(cert, now, policy).map_err(Error::CaCertificate)
    }

    fn check(cert: ParsedCertificate, now: UnixTime, policy: Policy) -> Result<Self, CaError> {
        let mut findings = Vec::new();
        // Rule 1: v3, no duplicate extension, no unrecognised critical extension.
        if cert.version() != Version::V3 {
            return Err(CaError::NotVersion3 { version: cert.version() });
        }
        let exts = cert.extensions();
        for (i, ext) in exts.iter().enumerate() {
            let oid = cert.bytes(&ext.oid);
            if exts[..i].iter().any(|e| cert.bytes(&e.oid) == oid) {
                return Err(CaError::DuplicateExtension { oid: dotted(oid) });
            }
            if ext.critical && !RECOGNISED.iter().any(|r| r.as_bytes() == oid) {
                return Err(CaError::UnrecognisedCriticalExtension { oid: dotted(oid) });
            }
        }
        let find = |oid: ObjectIdentifier| exts.iter().find(|e| cert.bytes(&e.oid) == oid.as_bytes());
        let malformed = |oid: ObjectIdentifier| CaError::MalformedExtension { oid: oid.to_string() };

        // Rule 2: basicConstraints cA TRUE.
        let bc_ext = find(rfc5912::ID_CE_BASIC_CONSTRAINTS).ok_or(CaError::BasicConstraintsMissing)?;
        let bc =
            basic_constraints(cert.bytes(&bc_ext.value)).ok_or_else(|| malformed(rfc5912::ID_CE_BASIC_CONSTRAINTS))?;
        if !bc.ca {
            return Err(CaError::NotCa);
        }
        if !bc_ext.critical {
            findings.push(Finding::BasicConstraintsNotCritical);
        }
        // Rule 3: keyUsage, when present, asserts keyCertSign.
        match find(rfc5912::ID_CE_KEY_USAGE) {
            None => findings.push(Finding::KeyUsageAbsent),
            Some(ku_ext) => {
                let key_cert_sign =
                    key_cert_sign(cert.bytes(&ku_ext.value)).ok_or_else(|| malformed(rfc5912::ID_CE_KEY_USAGE))?;
                if !key_cert_sign {
                    return Err(CaError::KeyCertSignMissing);
                }
                if !ku_ext.critical {
                    findings.push(Finding::KeyUsageNotCritical);
                }
            }
        }
        if find(rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER).is_none() {
            findings.push(Finding::SubjectKeyIdentifierAbsent);
        }
        let root = cert.is_self_issued();
        if root && bc.path_len_constraint.is_some() {
            findings.push(Finding::PathLenOnRoot);
        }
        if root && find(rfc5912::ID_CE_EXT_KEY_USAGE).is_some() {
            findings.push(Finding::ExtKeyUsageOnRoot);
        }
        // Rule 4: valid at now.
        cert.check_validity(now).map_err(CaError::Validity)?;
        // Rule 5: a subject to count the per-subject limit by.
        if cert.subject_is_empty() {
            return Err(CaError::EmptySubject);
        }
        // Rule 6: key policy.
        let key = PublicKey::from_spki_der(cert.spki_der()).map_err(CaError::Key)?;
        // Rule 7: strong set, or SHA-1 with a finding.
        let algorithm =
            SignatureAlgorithm::from_der(cert.signature_algorithm_der()).map_err(CaError::SignatureAlgorithm)?;
        if algorithm.hash() == HashAlgorithm::Sha1 {
            findings.push(Finding::Sha1SelfSignature);
        }
        // Rule 8: a self-issued CA verifies under its own key.
        if root {
            key.verify(policy.backend(), algorithm, cert.tbs_der(), cert.signature())
                .map_err(CaError::SelfSignature)?;
        }
        // Rule 9: serial at most 20 octets; zero or negative is a finding.
        let serial = cert.serial();
        if serial.len() > MAX_SERIAL_OCTETS {
            return Err(CaError::SerialTooLong { len: serial.len() });
        }
        if serial[0] & 0x80 != 0 || serial.iter().all(|b| *b == 0) {
            findings.push(Finding::SerialNotPositive);
        }
        if let (true, Some(first)) = (policy.is_strict(), findings.first()) {
            return Err(CaError::StrictFinding(*first));
        }
        let id = CertificateId::of_der(cert.der());
        Ok(Self { backend: policy.backend(), cert, key, findings, id })
    }

    /// The backend its checks (and its proof of possession) verify on.
    pub(crate) fn backend(&self) -> crate::x509::backend::Backend {
        self.backend
    }

    /// The parsed certificate.
    #[must_use]
    pub fn certificate(&self) -> &ParsedCertificate {
        &self.cert
    }

    /// The CA's public key, which passed the key policy.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// The findings of rule 1.3, in check order (empty under the strict policy).
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The certificateId (SHA-256 of the DER).
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.id
    }
}

/// A basicConstraints extnValue. The two encodings CAs write (cA TRUE, with or without a
/// pathLenConstraint below 128) are answered by hand; x509-cert decides every other, errors
/// included. The generic decoder cost as much as the rest of the CA rules together;
/// `common_ca_extensions_agree_with_x509_cert` holds the two together.
fn basic_constraints(value: &[u8]) -> Option<BasicConstraints> {
    match *value {
        [0x30, 0x03, 0x01, 0x01, 0xff] => Some(BasicConstraints { ca: true, path_len_constraint: None }),
        [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, n @ 0..=0x7f] => {
            Some(BasicConstraints { ca: true, path_len_constraint: Some(n) })
        }
        _ => BasicConstraints::from_der(value).ok(),
    }
}

/// Whether a keyUsage extnValue asserts keyCertSign, `None` when it is malformed. The usual CA
/// encodings are answered by hand, as for [`basic_constraints`]; x509-cert decides the rest.
fn key_cert_sign(value: &[u8]) -> Option<bool> {
    match *value {
        // keyCertSign | cRLSign, with digitalSignature; keyCertSign alone.
        [0x03, 0x02, 0x01, 0x06 | 0x86] | [0x03, 0x02, 0x02, 0x04] => Some(true),
        _ => KeyUsage::from_der(value).ok().map(|ku| ku.key_cert_sign()),
    }
}

/// Dotted form of OID content octets, or hex when they are not a valid OID.
fn dotted(content: &[u8]) -> String {
    ObjectIdentifier::from_bytes(content)
        .map(|o| o.to_string())
        .unwrap_or_else(|_| format!("0x{}", crate::model::certificate_id::hex_lower(content)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the hand-written answers apply, x509-cert answers the same.
    #[test]
    fn common_ca_extensions_agree_with_x509_cert() {
        let mut bc = vec![vec![0x30, 0x03, 0x01, 0x01, 0xff]];
        bc.extend((0..=0x7f).map(|n| vec![0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, n]));
        for value in &bc {
            let theirs = BasicConstraints::from_der(value).unwrap();
            assert_eq!(basic_constraints(value), Some(theirs), "{value:02x?}");
        }
        for value in [[0x03, 0x02, 0x01, 0x06], [0x03, 0x02, 0x01, 0x86], [0x03, 0x02, 0x02, 0x04]] {
            assert!(KeyUsage::from_der(&value).unwrap().key_cert_sign(), "{value:02x?}");
            assert_eq!(key_cert_sign(&value), Some(true));
        }
        // Everything else still reaches x509-cert: a FALSE cA, a pathLen of 128, a keyUsage
        // without keyCertSign, and malformed values.
        assert_eq!(basic_constraints(&[0x30, 0x00]), Some(BasicConstraints { ca: false, path_len_constraint: None }));
        let wide = [0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x02, 0x00, 0x80];
        assert_eq!(basic_constraints(&wide), Some(BasicConstraints { ca: true, path_len_constraint: Some(128) }));
        assert_eq!(basic_constraints(&[0x30, 0x03, 0x01, 0x01, 0x01]), None);
        assert_eq!(key_cert_sign(&[0x03, 0x02, 0x07, 0x80]), Some(false));
        assert_eq!(key_cert_sign(&[0x03, 0x02, 0x01]), None);
    }
}
