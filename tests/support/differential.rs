//! The differential oracle shared by `tests/strict_der.rs` and the `differential` fuzz target:
//! whatever [`ParsedCertificate::from_der`] accepts, x509-cert's DER decoder (strict by
//! construction, here without profile rules: `CertificateInner<Raw>`) accepts too, with the same
//! serial, issuer, subject and subjectPublicKeyInfo bytes.
//!
//! The one intended difference: a validity time before 1970. RFC 5280 allows UTCTime from 1950
//! and NIST PKITS 4.2.3 uses it; `der`'s `DateTime` stops at 1970, so x509-cert refuses what we
//! accept. Where we are stricter (SET OF order, empty RDNs, unique-id padding bits, extensions
//! in v1/v2, explicit DEFAULTs) the oracle has nothing to say: we refuse, so it is not asked.

use der::{Decode, Encode};
use iot_ca::{ParsedCertificate, UnixTime};
use x509_cert::certificate::{CertificateInner, Raw};

/// `Ok(true)` when our parser accepted `der` and x509-cert agreed; `Ok(false)` when our parser
/// refused it (or it is the intended pre-1970 difference); `Err` names the disagreement.
pub fn agrees(der: &[u8]) -> Result<bool, String> {
    let Ok(ours) = ParsedCertificate::from_der(der.to_vec()) else { return Ok(false) };
    let epoch = UnixTime::from_secs(0);
    if ours.not_before() < epoch || ours.not_after() < epoch {
        return Ok(false);
    }
    let theirs =
        CertificateInner::<Raw>::from_der(der).map_err(|e| format!("x509-cert refuses what we accept: {e}"))?;
    let tbs = theirs.tbs_certificate();
    let encode = |what: &str, r: der::Result<Vec<u8>>| r.map_err(|e| format!("x509-cert cannot re-encode {what}: {e}"));
    let pairs = [
        ("serialNumber", ours.serial().to_vec(), tbs.serial_number().as_bytes().to_vec()),
        ("issuer", ours.issuer_der().to_vec(), encode("issuer", tbs.issuer().to_der())?),
        ("subject", ours.subject_der().to_vec(), encode("subject", tbs.subject().to_der())?),
        (
            "subjectPublicKeyInfo",
            ours.spki_der().to_vec(),
            encode("subjectPublicKeyInfo", tbs.subject_public_key_info().to_der())?,
        ),
        ("signatureValue", ours.signature().to_vec(), theirs.signature().raw_bytes().to_vec()),
    ];
    for (field, a, b) in pairs {
        if a != b {
            return Err(format!("{field} differs: ours {a:02x?}, x509-cert {b:02x?}"));
        }
    }
    Ok(true)
}
