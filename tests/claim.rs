//! CreateProvisioningClaim (SPEC §3): claims re-parsed by an independent parser (x509-parser),
//! verified by the crate's own verifier, with every field of §3 asserted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::{
    CLAIM_BACKDATE_SECS, CLAIM_LIFETIME_SECS, ClaimParams, Error, IssueError, KeyAlgorithm, ParsedCertificate,
    ProvisioningClaim, PublicKey, RegistryError, SignatureAlgorithm, TemplateFacts, TemplateName, TemplateType,
    create_provisioning_claim, verify_possession,
};
use support::*;
use x509_parser::prelude::*;

fn template() -> TemplateName {
    TemplateName::parse("fleet-template").unwrap()
}

fn fleet() -> Option<TemplateFacts> {
    Some(TemplateFacts::new(TemplateType::FleetProvisioning))
}

fn issuer(key: &Key) -> ParsedCertificate {
    ParsedCertificate::from_der(Tbs::ca(key, "Claim Issuer").sign(key)).unwrap()
}

fn rsa_signer() -> rsa::pkcs1v15::SigningKey<sha2::Sha256> {
    match rsa2048() {
        Key::Rsa(k) => rsa::pkcs1v15::SigningKey::new(k.clone()),
        _ => unreachable!(),
    }
}

fn p256_signer() -> p256::ecdsa::SigningKey {
    match p256() {
        Key::P256(k) => k.clone(),
        _ => unreachable!(),
    }
}

fn p384_signer() -> p384::ecdsa::SigningKey {
    match p384() {
        Key::P384(k) => k.clone(),
        _ => unreachable!(),
    }
}

fn rsa_claim(algorithm: KeyAlgorithm, seed: u64) -> (ParsedCertificate, ProvisioningClaim) {
    let issuer = issuer(rsa2048());
    let claim = create_provisioning_claim::<_, rsa::pkcs1v15::Signature, _>(
        &ClaimParams::new(&template(), fleet(), &issuer).with_key_algorithm(algorithm),
        &rsa_signer(),
        &mut rng(seed),
        NOW,
    )
    .unwrap();
    (issuer, claim)
}

fn p256_claim(algorithm: KeyAlgorithm, seed: u64) -> (ParsedCertificate, ProvisioningClaim) {
    let issuer = issuer(p256());
    let claim = create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
        &ClaimParams::new(&template(), fleet(), &issuer).with_key_algorithm(algorithm),
        &p256_signer(),
        &mut rng(seed),
        NOW,
    )
    .unwrap();
    (issuer, claim)
}

/// Every field of SPEC §3, read back by x509-parser, and the signature by the crate's verifier.
fn assert_claim(issuer: &ParsedCertificate, claim: &ProvisioningClaim) {
    let (rest, cert) = X509Certificate::from_der(&claim.certificate_der).unwrap();
    assert!(rest.is_empty());
    assert_eq!(cert.version(), X509Version::V3);
    let serial = cert.raw_serial();
    assert_eq!(serial.len(), 20, "20 random bytes");
    assert!(serial[0] & 0x80 == 0, "positive");
    let cn = cert.subject().iter_common_name().map(|c| c.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(cn.len(), 1);
    assert!(cn[0].len() == 64 && cn[0].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{cn:?}");
    assert_eq!(cert.issuer().as_raw(), issuer.subject_der());
    assert_eq!(cert.validity().not_before.timestamp(), NOW.as_secs() - CLAIM_BACKDATE_SECS);
    assert_eq!(cert.validity().not_after.timestamp(), NOW.as_secs() + CLAIM_LIFETIME_SECS);
    assert_eq!(claim.expiration.as_secs(), NOW.as_secs() + CLAIM_LIFETIME_SECS);
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_cert_sign());
    let ski = cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    });
    assert!(ski.is_some_and(|k| k.len() == 20));
    let aki = cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    });
    let (_, issuer_x) = X509Certificate::from_der(issuer.der()).unwrap();
    let issuer_ski = issuer_x.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    });
    assert_eq!(aki, issuer_ski, "AKI = the issuer's key id");
    // The crate's own verifier: issuer name, a strong signature by the issuer's key, validity.
    let parsed = ParsedCertificate::from_der(claim.certificate_der.clone()).unwrap();
    let issuer_key = PublicKey::from_spki_der(issuer.spki_der()).unwrap();
    verify_possession(iot_ca::Backend::preferred(), issuer.subject_der(), &issuer_key, &parsed, NOW).unwrap();
    assert_eq!(claim.certificate_id, iot_ca::CertificateId::of_der(&claim.certificate_der));
    let (label, der) = pem_rfc7468::decode_vec(claim.certificate_pem.as_bytes()).unwrap();
    assert_eq!((label, der), ("CERTIFICATE", claim.certificate_der.clone()));
    // The public key in the response is the certificate's.
    let (label, spki) = pem_rfc7468::decode_vec(claim.key_pair.public_key_pem().as_bytes()).unwrap();
    assert_eq!((label, spki.as_slice()), ("PUBLIC KEY", parsed.spki_der()));
}

/// The private key signs what the certificate's key verifies.
fn assert_private_key_matches(claim: &ProvisioningClaim) {
    let parsed = ParsedCertificate::from_der(claim.certificate_der.clone()).unwrap();
    let public = PublicKey::from_spki_der(parsed.spki_der()).unwrap();
    let message = b"provisioning claim key check";
    let pem = claim.key_pair.private_key_pem();
    let (alg, signature) = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = rsa::PrivateKey::from_pkcs1_pem(pem).unwrap();
        let alg = Alg::Pkcs1(Hash::Sha256);
        (alg, Key::Rsa(key).sign(alg, message))
    } else {
        assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{pem}");
        let key = p256::SecretKey::from_sec1_pem(pem).unwrap();
        let alg = Alg::Ecdsa(Hash::Sha256);
        (alg, Key::P256(key.into()).sign(alg, message))
    };
    let algorithm = SignatureAlgorithm::from_der(&alg.der()).unwrap();
    public.verify(iot_ca::Backend::preferred(), algorithm, message, &signature).unwrap();
    let mut other = message.to_vec();
    other[0] ^= 1;
    assert_eq!(
        public.verify(iot_ca::Backend::preferred(), algorithm, &other, &signature),
        Err(iot_ca::SignatureError::Invalid { algorithm })
    );
}

#[test]
fn rsa_issuer_rsa_2048_claim() {
    let (issuer, claim) = rsa_claim(KeyAlgorithm::Rsa2048, 1);
    assert_claim(&issuer, &claim);
    assert_private_key_matches(&claim);
}

#[test]
fn rsa_issuer_p256_claim() {
    let (issuer, claim) = rsa_claim(KeyAlgorithm::P256, 2);
    assert_claim(&issuer, &claim);
    assert_private_key_matches(&claim);
}

#[test]
fn p256_issuer_claims() {
    for (alg, seed) in [(KeyAlgorithm::P256, 3), (KeyAlgorithm::Rsa2048, 4)] {
        let (issuer, claim) = p256_claim(alg, seed);
        assert_claim(&issuer, &claim);
        assert_private_key_matches(&claim);
    }
}

#[test]
fn p384_issuer_claim() {
    let issuer = issuer(p384());
    let claim = create_provisioning_claim::<_, p384::ecdsa::DerSignature, _>(
        &ClaimParams::new(&template(), fleet(), &issuer).with_key_algorithm(KeyAlgorithm::P256),
        &p384_signer(),
        &mut rng(5),
        NOW,
    )
    .unwrap();
    assert_claim(&issuer, &claim);
}

#[test]
fn deterministic_for_a_seed_and_different_across_seeds() {
    let (_, a) = p256_claim(KeyAlgorithm::P256, 7);
    let (_, b) = p256_claim(KeyAlgorithm::P256, 7);
    let (_, c) = p256_claim(KeyAlgorithm::P256, 8);
    assert_eq!(a, b);
    assert_ne!(a.certificate_der, c.certificate_der);
    assert_ne!(a.key_pair.private_key_pem(), c.key_pair.private_key_pem());
}

/// The key pair is the RNG's, not the backend's: from one seed, every backend makes the same
/// P-256 key pair, and its PEMs are exactly what the p256 crate writes for that private key.
#[test]
fn p256_key_pairs_are_the_same_on_every_backend_and_as_p256_writes_them() {
    use p256::pkcs8::EncodePublicKey;
    for seed in 0..16 {
        let pairs: Vec<_> = iot_ca::Backend::ALL
            .iter()
            .map(|&backend| iot_ca::KeyPair::generate(KeyAlgorithm::P256, backend, &mut rng(seed)).unwrap())
            .collect();
        assert!(pairs.windows(2).all(|w| w[0] == w[1]), "seed {seed}: the backends disagree");
        let secret = p256::SecretKey::from_sec1_pem(pairs[0].private_key_pem()).unwrap();
        let written = secret.to_sec1_pem(p256::pkcs8::LineEnding::LF).unwrap();
        assert_eq!(pairs[0].private_key_pem(), written.as_str());
        let spki = secret.public_key().to_public_key_der().unwrap();
        assert_eq!(pairs[0].spki_der(), spki.as_bytes());
    }
}

#[test]
fn private_key_is_redacted_in_debug() {
    let (_, claim) = p256_claim(KeyAlgorithm::P256, 9);
    let debug = format!("{claim:?}");
    assert!(debug.contains("<redacted>"));
    assert!(!debug.contains("PRIVATE KEY"));
}

fn claim_error(template: Option<TemplateFacts>) -> Error {
    create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
        &ClaimParams::new(&template_name_for_errors(), template, &issuer(p256()))
            .with_key_algorithm(KeyAlgorithm::P256),
        &p256_signer(),
        &mut rng(1),
        NOW,
    )
    .unwrap_err()
}

fn template_name_for_errors() -> TemplateName {
    TemplateName::parse("t1").unwrap()
}

#[test]
fn missing_template_is_404() {
    let e = claim_error(None);
    assert_eq!(e, Error::Registry(RegistryError::TemplateNotFound { template_name: "t1".into() }));
    assert_eq!((e.exception().name(), e.exception().http_status()), ("ResourceNotFoundException", 404));
}

#[test]
fn jitp_or_disabled_template_is_invalid_request() {
    let e = claim_error(Some(TemplateFacts::new(TemplateType::Jitp)));
    let expected = Error::Registry(RegistryError::TemplateWrongType {
        template_name: "t1".into(),
        found: "JITP",
        needed: "FLEET_PROVISIONING",
    });
    assert_eq!(e, expected);
    assert_eq!(e.exception().name(), "InvalidRequestException");
    let e = claim_error(Some(TemplateFacts::new(TemplateType::FleetProvisioning).with_enabled(false)));
    assert_eq!(e, Error::Registry(RegistryError::TemplateDisabled { template_name: "t1".into() }));
    assert_eq!(e.exception().name(), "InvalidRequestException");
}

#[test]
fn a_signer_that_is_not_the_issuer_is_an_internal_failure() {
    let e = create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
        &ClaimParams::new(&template(), fleet(), &issuer(p384())).with_key_algorithm(KeyAlgorithm::P256),
        &p256_signer(),
        &mut rng(1),
        NOW,
    )
    .unwrap_err();
    assert_eq!(e, Error::Issue(IssueError::SignerIsNotIssuer));
    assert_eq!((e.exception().name(), e.exception().http_status()), ("InternalFailureException", 500));
}

#[test]
fn invalid_template_names_are_refused_before_anything() {
    assert!(matches!(TemplateName::parse("no spaces"), Err(Error::Request(iot_ca::RequestError::Pattern { .. }))));
}

// ------------------------------------------------------------------ the throwaway CA

#[test]
fn create_ca_certificate_makes_a_root_with_no_finding_on_every_key() {
    let until = NOW.checked_add(365 * 86_400).unwrap();
    let params = iot_ca::CaCertificateParams::new("CN=Throwaway Root,O=iot-ca tests,C=DE", until);
    let ders = [
        iot_ca::create_ca_certificate::<_, rsa::pkcs1v15::Signature, _>(&params, &rsa_signer(), &mut rng(1), NOW),
        iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &p256_signer(), &mut rng(2), NOW),
        iot_ca::create_ca_certificate::<_, p384::ecdsa::DerSignature, _>(&params, &p384_signer(), &mut rng(3), NOW),
    ];
    for der in ders {
        let ca = iot_ca::VerifiedCa::from_der(der.unwrap(), NOW, iot_ca::Policy::strict()).unwrap();
        assert!(ca.certificate().is_self_issued());
        assert_eq!(ca.certificate().not_before(), NOW);
        assert_eq!(ca.certificate().not_after(), until);
        // It can issue: a claim from it verifies under its key.
        let name = template();
        let claim_params = ClaimParams::new(&name, fleet(), ca.certificate()).with_key_algorithm(KeyAlgorithm::P256);
        let issued = match ca.public_key().kind() {
            iot_ca::KeyKind::Rsa { .. } => create_provisioning_claim::<_, rsa::pkcs1v15::Signature, _>(
                &claim_params,
                &rsa_signer(),
                &mut rng(4),
                NOW,
            ),
            iot_ca::KeyKind::P256 => create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
                &claim_params,
                &p256_signer(),
                &mut rng(4),
                NOW,
            ),
            _ => create_provisioning_claim::<_, p384::ecdsa::DerSignature, _>(
                &claim_params,
                &p384_signer(),
                &mut rng(4),
                NOW,
            ),
        };
        let claim = ParsedCertificate::from_der(issued.unwrap().certificate_der).unwrap();
        let backend = iot_ca::Backend::preferred();
        verify_possession(backend, ca.certificate().subject_der(), ca.public_key(), &claim, NOW).unwrap();
    }
}

#[test]
fn create_ca_certificate_refuses_a_subject_that_is_not_rfc_4514() {
    let params = iot_ca::CaCertificateParams::new("no equals sign", NOW.checked_add(60).unwrap());
    let e = iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &p256_signer(), &mut rng(1), NOW);
    assert_eq!(e, Err(IssueError::Encoding));
    assert_eq!(Error::from(e.unwrap_err()).exception().name(), "InternalFailureException");
}
