//! Conformance against test data we did not write: `../shared/conformance/` (x509-limbo,
//! Chromium signature cases, pyca certificates), read in place, never copied.
//!
//! Each suite prints `N passed, N failed` and one line per divergence. When the folder is
//! absent (a user's clone) the suites say so and pass. Deliberate divergences are listed in
//! `tests/conformance-exceptions.txt` with a reason each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use std::fs;
use std::path::{Path, PathBuf};

use iot_ca::{
    AccountId, AccountScope, CaStatus, CertificateError, CertificateFacts, CertificateMode, Error, ParsedCertificate,
    Policy, PublicKey, Region, RegisterCaCertificateRequest, RegisterCertificateRequest, RegisteredCa,
    RegistrationCode, UnixTime, VerifiedCa, admit_certificate, check, check_certificate, verify_possession,
    verify_signed_data,
};
use serde_json::Value;

fn root() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("conformance: {} not found, suites skipped", dir.display());
        None
    }
}

/// `id expected actual reason` lines of deliberate divergences.
fn exceptions() -> Vec<(String, String)> {
    let text = include_str!("conformance-exceptions.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    suite: &'static str,
    passed: usize,
    failed: usize,
    skipped: usize,
    excepted: usize,
    lines: Vec<String>,
}

impl Tally {
    fn new(suite: &'static str) -> Self {
        Self { suite, ..Self::default() }
    }

    fn record(&mut self, id: &str, expected: &str, actual: Result<String, String>) {
        let (verdict, detail) = match &actual {
            Ok(d) => ("accept", d.clone()),
            Err(e) => ("reject", e.clone()),
        };
        match expected {
            "accept" | "reject" if expected == verdict => self.passed += 1,
            "accept" | "reject" => {
                if exceptions().iter().any(|(eid, exp)| eid == id && exp == expected) {
                    self.excepted += 1;
                    self.lines.push(format!("  excepted {id}: expected {expected}, got {verdict} ({detail})"));
                } else {
                    self.failed += 1;
                    self.lines.push(format!("  DIVERGES {id}: expected {expected}, got {verdict} ({detail})"));
                }
            }
            _ => self.skipped += 1,
        }
    }

    fn finish(self) {
        println!(
            "conformance {}: {} passed, {} failed, {} skipped ({} listed exceptions)",
            self.suite, self.passed, self.failed, self.skipped, self.excepted
        );
        for l in &self.lines {
            println!("{l}");
        }
        assert_eq!(self.failed, 0, "{} diverges from its manifest", self.suite);
    }
}

fn time(v: &Value) -> UnixTime {
    UnixTime::parse_rfc3339(v.as_str().expect("time")).expect("RFC 3339 time")
}

fn ca_outcome(result: Result<VerifiedCa, iot_ca::Error>) -> Result<String, String> {
    match result {
        Ok(ca) => Ok(format!("findings {:?}", ca.findings().iter().map(|f| f.id()).collect::<Vec<_>>())),
        Err(e) => Err(format!("{} {e}", e.exception().name())),
    }
}

#[test]
fn pyca_certificates_as_cas() {
    let Some(root) = root() else { return };
    let manifest: Value = serde_json::from_str(&fs::read_to_string(root.join("pyca/expected.json")).unwrap()).unwrap();
    let mut tally = Tally::new("pyca");
    for e in manifest["entries"].as_array().unwrap() {
        let file = e["file"].as_str().unwrap();
        let bytes = fs::read(root.join("pyca").join(file)).unwrap();
        let now = time(&e["time"]);
        let result = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => VerifiedCa::from_pem(text, now, Policy::default()),
            _ => VerifiedCa::from_der(bytes, now, Policy::default()),
        };
        let outcome = ca_outcome(result);
        if let (Ok(_), Some(expected)) = (&outcome, e["findings"].as_array()) {
            let expected: Vec<&str> = expected.iter().filter_map(Value::as_str).collect();
            let ok = outcome.as_ref().unwrap();
            for f in &expected {
                assert!(ok.contains(f), "pyca {file}: expected finding {f}, got {ok}");
            }
        }
        tally.record(file, e["expect"].as_str().unwrap(), outcome);
    }
    tally.finish();
}

#[test]
fn limbo_cases_ca_side() {
    let Some(root) = root() else { return };
    let manifest: Value = serde_json::from_str(&fs::read_to_string(root.join("limbo/cases.json")).unwrap()).unwrap();
    let mut tally = Tally::new("limbo (CA)");
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let now = time(&case["time"]);
        let outcome = ca_outcome(VerifiedCa::from_pem(case["ca"].as_str().unwrap(), now, Policy::default()));
        tally.record(id, case["expect_ca"].as_str().unwrap(), outcome);
    }
    tally.finish();
}

fn parse_pem(text: &str) -> Result<ParsedCertificate, String> {
    let (_, der) = pem_rfc7468::decode_vec(text.as_bytes()).map_err(|e| e.to_string())?;
    ParsedCertificate::from_der(der).map_err(|e| e.to_string())
}

/// §1.4 items 1–4 of the child against the CA's subject and key, whatever the CA rules say.
fn child_outcome(ca_pem: &str, child_pem: &str, now: UnixTime) -> Result<String, String> {
    let ca = parse_pem(ca_pem)?;
    let key = PublicKey::from_spki_der(ca.spki_der()).map_err(|e| format!("CA key: {e}"))?;
    let child = parse_pem(child_pem)?;
    verify_possession(iot_ca::Backend::preferred(), ca.subject_der(), &key, &child, now)
        .map(|()| "possession proven".into())
        .map_err(|e| e.to_string())
}

#[test]
fn limbo_cases_child_side() {
    let Some(root) = root() else { return };
    let manifest: Value = serde_json::from_str(&fs::read_to_string(root.join("limbo/cases.json")).unwrap()).unwrap();
    let mut tally = Tally::new("limbo (child)");
    // Any well-formed code: the children's CNs are not registration codes, so a child that passes
    // items 1-4 ends in RegistrationCodeValidationException (the code is checked last).
    let code = RegistrationCode::parse(&"0".repeat(64)).unwrap();
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let expected = case["expect_child"].as_str().unwrap();
        let Some(child) = case["child"].as_str() else {
            tally.record(id, "n/a", Err("no child".into()));
            continue;
        };
        let now = time(&case["time"]);
        let ca = case["ca"].as_str().unwrap();
        let outcome = child_outcome(ca, child, now);
        if case["expect_ca"] == "accept" && matches!(expected, "accept" | "reject") {
            // The same decision through the public registration API.
            let request = RegisterCaCertificateRequest::new(ca).with_verification_certificate(child);
            let through_api = match check(&request, &code, Policy::default(), now) {
                Err(e) => e.exception().name(),
                Ok(_) => "accepted with a wrong code",
            };
            let api_accepts = through_api == "RegistrationCodeValidationException";
            assert_eq!(api_accepts, outcome.is_ok(), "{id}: check() says {through_api}, direct check says {outcome:?}");
            let sni = RegisterCaCertificateRequest::new(ca).with_certificate_mode(CertificateMode::SniOnly);
            assert!(check(&sni, &code, Policy::default(), now).is_ok(), "{id}: SNI_ONLY route");
        }
        tally.record(id, expected, outcome);
    }
    tally.finish();
}

/// The child registered as a device certificate under the case's CA (registered ACTIVE,
/// named by caCertificatePem).
fn register_certificate_outcome(ca_pem: &str, child_pem: &str, now: UnixTime) -> Result<(), Error> {
    let ca = RegisteredCa::from_pem(ca_pem, CaStatus::Active)?;
    let request = RegisterCertificateRequest::new(child_pem).with_ca_certificate_pem(ca_pem);
    let candidate = check_certificate(&request, Policy::default(), now)?;
    let scope = AccountScope::new(AccountId::parse("123456789012")?, Region::parse("us-east-1")?);
    let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(13);
    admit_certificate(candidate, &CertificateFacts::new().with_ca(ca), &scope, &mut rng).map(|_| ())
}

/// The same manifest through RegisterCertificate. Its signature step is the proof-of-possession
/// check, so it must agree with `expect_child`, except where a device-certificate rule the
/// proof of possession does not have (the child's own key, a v2 child) refuses first.
#[test]
fn limbo_cases_child_side_through_register_certificate() {
    let Some(root) = root() else { return };
    let manifest: Value = serde_json::from_str(&fs::read_to_string(root.join("limbo/cases.json")).unwrap()).unwrap();
    let mut tally = Tally::new("limbo (RegisterCertificate)");
    let mut device_rule = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let expected = case["expect_child"].as_str().unwrap();
        let Some(child) = case["child"].as_str() else {
            tally.record(id, "n/a", Err("no child".into()));
            continue;
        };
        let outcome = register_certificate_outcome(case["ca"].as_str().unwrap(), child, time(&case["time"]));
        if let (Err(Error::Certificate(CertificateError::Key(_) | CertificateError::Version { .. })), "accept") =
            (&outcome, expected)
        {
            device_rule += 1;
            tally.record(id, "n/a", Err("device-certificate rule".into()));
            continue;
        }
        tally.record(id, expected, outcome.map(|()| "registered".into()).map_err(|e| e.to_string()));
    }
    println!("limbo (RegisterCertificate): {device_rule} accepted children refused by a device-certificate rule");
    tally.finish();
}

/// The four PEM blocks of a Chromium `verify_signed_data` file, by label.
fn chromium_blocks(text: &str) -> std::collections::HashMap<String, Vec<u8>> {
    let mut out = std::collections::HashMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label = &after[..after.find("-----").unwrap()];
        let end_marker = format!("-----END {label}-----");
        let end = rest.find(&end_marker).unwrap() + end_marker.len();
        // Chromium wraps at 76 columns, which RFC 7468's strict reader refuses: decode the body alone.
        let body: String = rest[start..end].lines().filter(|l| !l.starts_with("-----")).collect();
        out.insert(label.to_owned(), <base64ct::Base64 as base64ct::Encoding>::decode_vec(&body).expect("base64"));
        rest = &rest[end..];
    }
    out
}

#[test]
fn chromium_signature_cases() {
    let Some(root) = root() else { return };
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(root.join("chromium/expected.json")).unwrap()).unwrap();
    let mut tally = Tally::new("chromium");
    for e in manifest["entries"].as_array().unwrap() {
        let file = e["file"].as_str().unwrap();
        let blocks = chromium_blocks(&fs::read_to_string(root.join("chromium").join(file)).unwrap());
        let outcome = verify_signed_data(
            iot_ca::Backend::preferred(),
            &blocks["PUBLIC KEY"],
            &blocks["ALGORITHM"],
            &blocks["DATA"],
            &blocks["SIGNATURE"],
        )
        .map(|()| "verified".to_owned())
        .map_err(|e| e.to_string());
        tally.record(file, e["expect"].as_str().unwrap(), outcome);
    }
    tally.finish();
}
