//! Mozilla's root store (the `webpki-root-certs` crate) through the CA checks at fixed times.
//!
//! Every root must be accepted, or rejected for a reason this test lists. A new root-store
//! version that changes an outcome fails here on purpose, so the change gets looked at.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use std::collections::BTreeMap;

use der::Decode;
use iot_ca::{CaError, Error, Finding, Policy, UnixTime, ValidityError, VerifiedCa};

/// 2026-01-01T00:00:00Z.
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);
/// 2040-01-01T00:00:00Z: by then most of today's roots have expired.
const LATER: UnixTime = UnixTime::from_secs(2_208_988_800);

fn subject(ca_der: &[u8]) -> String {
    x509_cert::Certificate::from_der(ca_der).map(|c| c.tbs_certificate().subject().to_string()).unwrap_or_default()
}

/// Root subjects by finding id.
type FindingsById = BTreeMap<&'static str, Vec<String>>;

/// Runs every root at `now`; returns (accepted, findings by id, rejections by reason).
fn run(now: UnixTime) -> (usize, FindingsById, Vec<(String, Error)>) {
    let mut accepted = 0;
    let mut findings = FindingsById::new();
    let mut rejected = Vec::new();
    for root in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let der = root.as_ref().to_vec();
        match VerifiedCa::from_der(der.clone(), now, Policy::default()) {
            Ok(ca) => {
                accepted += 1;
                for f in ca.findings() {
                    findings.entry(f.id()).or_default().push(subject(&der));
                }
            }
            Err(e) => rejected.push((subject(&der), e)),
        }
    }
    (accepted, findings, rejected)
}

#[test]
fn every_root_is_accepted_today_with_its_findings_counted() {
    let (accepted, findings, rejected) = run(NOW);
    println!("mozilla roots at {NOW}: {accepted} accepted, {} rejected", rejected.len());
    for (id, names) in &findings {
        println!("  finding {id}: {} roots, e.g. {}", names.len(), names[0]);
    }
    for (name, e) in &rejected {
        println!("  rejected {name}: {e}");
    }
    // No root of today's store breaks a §1.3 error rule.
    assert!(rejected.is_empty());
    assert_eq!(accepted, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
    // Findings that real roots are known to carry.
    assert!(findings.contains_key(Finding::SerialNotPositive.id()), "Starfield-style serial-0 roots");
    assert!(findings.contains_key(Finding::Sha1SelfSignature.id()), "SHA-1 self-signed roots");
    for id in findings.keys() {
        assert!(Finding::ALL.iter().any(|f| f.id() == *id));
    }
}

#[test]
fn roots_rejected_in_2040_are_rejected_only_for_expiry() {
    let (accepted, _, rejected) = run(LATER);
    println!("mozilla roots at {LATER}: {accepted} accepted, {} rejected (expired)", rejected.len());
    assert!(!rejected.is_empty());
    for (name, e) in &rejected {
        assert!(
            matches!(e, Error::CaCertificate(CaError::Validity(ValidityError::Expired { now, .. })) if *now == LATER),
            "{name}: {e}"
        );
        assert_eq!(e.exception().name(), "CertificateValidationException");
    }
}
