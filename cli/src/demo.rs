//! `iot-ca demo`: the whole story on throwaway keys, printed readably.

use std::collections::HashSet;
use std::io::Write;

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountFacts, AccountId, AccountScope, CaCertificateParams, CertificateFacts, CertificateId, ClaimParams,
    ConnectFacts, Connection, KeyAlgorithm, KeyPair, ParsedCertificate, Policy, Region, RegisterCaCertificateRequest,
    RegisterCertificateRequest, RegisteredCa, RegistrationCode, TemplateFacts, TemplateName, TemplateType, UnixTime,
    VerificationCertificateParams, VerifiedCa,
};
use p256::elliptic_curve::Generate;
use serde_json::Value;

/// `writeln!` to the demo's output; a write failure ends the demo with the CLI's message.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(crate::stdout_fault)?
    };
}

fn step(out: &mut dyn Write, n: u32, title: &str) -> Result<(), String> {
    say!(out, "\n== {n}. {title}");
    Ok(())
}

fn show(out: &mut dyn Write, v: &Value) -> Result<(), String> {
    say!(out, "{}", serde_json::to_string_pretty(v).unwrap_or_default());
    Ok(())
}

fn pem(der: &[u8]) -> Result<String, String> {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).map_err(|e| e.to_string())
}

/// A self-signed P-256 root, valid from `now` for ten years: the library's throwaway CA.
fn throwaway_root(
    rng: &mut rand::rngs::ThreadRng,
    now: UnixTime,
) -> Result<(p256::ecdsa::SigningKey, Vec<u8>), String> {
    let key = p256::ecdsa::SigningKey::generate_from_rng(rng);
    let until = now.checked_add(10 * 365 * 86_400).ok_or("time overflow")?;
    let params = CaCertificateParams::new("CN=iot-ca demo root,O=iot-ca demo,C=US", until);
    let der = iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &key, rng, now)
        .map_err(|e| e.to_string())?;
    Ok((key, der))
}

/// Shortens a PEM for display: first and last lines only.
fn brief(pem: &str) -> String {
    let lines: Vec<&str> = pem.lines().collect();
    match lines.as_slice() {
        [first, second, .., last] => format!("{first}\n{second}\n…\n{last}"),
        _ => pem.to_owned(),
    }
}

pub fn run(out: &mut dyn Write, rng: &mut rand::rngs::ThreadRng, now: UnixTime) -> Result<(), String> {
    let scope = AccountScope::new(
        AccountId::parse("123456789012").map_err(|e| e.to_string())?,
        Region::parse("us-east-1").map_err(|e| e.to_string())?,
    );
    let mut registered: HashSet<CertificateId> = HashSet::new();
    say!(
        out,
        "iot-ca demo: RegisterCACertificate, CreateProvisioningClaim, RegisterCertificate and a device's first \
         connection, decided locally at {now}"
    );
    say!(out, "(account {}, region {}; every key below is throwaway)", scope.account(), scope.region().as_str());

    step(out, 1, "GetRegistrationCode")?;
    let code = RegistrationCode::generate(rng);
    show(out, &wire::registration_code_to_json(&code))?;

    step(out, 2, "A new CA: self-signed P-256 root, preflight-checked against rules 1.2-1.3 (RULES.md)")?;
    let (ca_key, ca_der) = throwaway_root(rng, now)?;
    let ca_pem = pem(&ca_der)?;
    let preflight = VerifiedCa::from_pem(&ca_pem, now, Policy::default()).map_err(|e| e.to_string())?;
    say!(out, "{}", brief(&ca_pem));
    say!(
        out,
        "certificateId {} (SHA-256 of the DER), findings: {}",
        preflight.certificate_id(),
        preflight.findings().len()
    );
    for f in preflight.findings() {
        say!(out, "  finding: {f}");
    }

    step(out, 3, "The verification certificate: CN = the registration code, signed by the CA's key")?;
    let ca = ParsedCertificate::from_der(ca_der).map_err(|e| e.to_string())?;
    let verification_key =
        KeyPair::generate(KeyAlgorithm::P256, iot_ca::Backend::preferred(), rng).map_err(|e| e.to_string())?;
    let until = now.checked_add(365 * 86_400).ok_or("time overflow")?;
    let proof = iot_ca::create_verification_certificate::<_, p256::ecdsa::DerSignature, _>(
        &VerificationCertificateParams::new(&ca, verification_key.spki_der(), &code, until),
        &ca_key,
        rng,
        now,
    )
    .map_err(|e| e.to_string())?;
    let proof_pem = pem(&proof)?;
    say!(out, "{}", brief(&proof_pem));

    step(out, 4, "RegisterCACertificate (DEFAULT mode, setAsActive, allowAutoRegistration)")?;
    let request = RegisterCaCertificateRequest::new(ca_pem.clone())
        .with_verification_certificate(proof_pem.clone())
        .with_set_as_active(true)
        .with_allow_auto_registration(true);
    let register = |request: &RegisterCaCertificateRequest,
                    code: &RegistrationCode,
                    registered: &HashSet<CertificateId>,
                    rng: &mut rand::rngs::ThreadRng| {
        let candidate = iot_ca::check(request, code, Policy::default(), now)?;
        let facts = AccountFacts::new().with_already_registered(registered.contains(candidate.certificate_id()));
        iot_ca::admit(candidate, &facts, &scope, rng)
    };
    let registration = register(&request, &code, &registered, rng).map_err(|e| e.to_string())?;
    registered.insert(registration.certificate_id.clone());
    say!(out, "response:");
    show(out, &wire::register_response_to_json(&registration))?;
    say!(out, "stored description:");
    let mut description = wire::description_to_json(&registration.description, TimeFormat::Rfc3339);
    if let Some(pem_field) = description.get_mut("certificatePem") {
        *pem_field = Value::String(brief(&registration.description.certificate_pem));
    }
    show(out, &description)?;

    step(out, 5, "Refused: a verification certificate made for another account's registration code")?;
    let other_code = RegistrationCode::generate(rng);
    let other_key =
        KeyPair::generate(KeyAlgorithm::P256, iot_ca::Backend::preferred(), rng).map_err(|e| e.to_string())?;
    let wrong = iot_ca::create_verification_certificate::<_, p256::ecdsa::DerSignature, _>(
        &VerificationCertificateParams::new(&ca, other_key.spki_der(), &other_code, until),
        &ca_key,
        rng,
        now,
    )
    .map_err(|e| e.to_string())?;
    let request_wrong = RegisterCaCertificateRequest::new(ca_pem.clone()).with_verification_certificate(pem(&wrong)?);
    match register(&request_wrong, &code, &registered, rng) {
        Err(e) => show(out, &wire::error_to_json(&e))?,
        Ok(_) => return Err("a certificate for another code was accepted".into()),
    }

    step(out, 6, "Refused: registering the same CA a second time")?;
    match register(&request, &code, &registered, rng) {
        Err(e) => show(out, &wire::error_to_json(&e))?,
        Ok(_) => return Err("a duplicate registration was accepted".into()),
    }

    step(out, 7, "CreateProvisioningClaim (template demo-fleet, FLEET_PROVISIONING), issued by the demo CA")?;
    let template = TemplateName::parse("demo-fleet").map_err(|e| e.to_string())?;
    let params = ClaimParams::new(&template, Some(TemplateFacts::new(TemplateType::FleetProvisioning)), &ca);
    let claim = iot_ca::create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(&params, &ca_key, rng, now)
        .map_err(|e| e.to_string())?;
    let mut shown = wire::claim_to_json(&claim, TimeFormat::Rfc3339);
    shown["certificatePem"] = Value::String(brief(&claim.certificate_pem));
    shown["keyPair"]["PublicKey"] = Value::String(brief(claim.key_pair.public_key_pem()));
    shown["keyPair"]["PrivateKey"] =
        Value::String("-----BEGIN RSA PRIVATE KEY----- … (shown in full by create-provisioning-claim)".into());
    show(out, &shown)?;

    step(out, 8, "RegisterCertificate: a device certificate signed by the demo CA")?;
    let demo_ca = RegisteredCa::from_description(&registration.description).map_err(|e| e.to_string())?;
    let device_pem = device_certificate(&ca, &ca_key, rng, now, until)?;
    let request = RegisterCertificateRequest::new(device_pem).with_set_as_active(true);
    let candidate = iot_ca::check_certificate(&request, Policy::default(), now).map_err(|e| e.to_string())?;
    let facts = CertificateFacts::new().with_ca(demo_ca.clone());
    let device = iot_ca::admit_certificate(candidate, &facts, &scope, rng).map_err(|e| e.to_string())?;
    let mut shown = wire::certificate_registration_to_json(&device, TimeFormat::Rfc3339);
    shown["certificateDescription"]["certificatePem"] = Value::String(brief(&device.description.certificate_pem));
    show(out, &shown)?;

    step(out, 9, "A second device connects for the first time: just-in-time registration (JITR)")?;
    let second = device_certificate(&ca, &ca_key, rng, now, until)?;
    let connection = Connection::from_pem(&format!("{second}{ca_pem}")).map_err(|e| e.to_string())?;
    let decision = iot_ca::decide_connect(&connection, &ConnectFacts::new().with_ca(demo_ca), &scope, rng, now);
    if decision.name() != "JITR" {
        return Err(format!("expected just-in-time registration, got {}", decision.name()));
    }
    show(out, &wire::connect_decision_to_json(&decision))?;
    say!(
        out,
        "\nDone: one registration, two refusals with their AWS errors, one claim valid until {}, one device \
         certificate registered and one registered just in time (PENDING_ACTIVATION until a rule activates it).",
        claim.expiration
    );
    Ok(())
}

/// A device certificate signed by the demo CA; its commonName is a random 64-hex device id.
fn device_certificate(
    ca: &ParsedCertificate,
    ca_key: &p256::ecdsa::SigningKey,
    rng: &mut rand::rngs::ThreadRng,
    now: UnixTime,
    until: UnixTime,
) -> Result<String, String> {
    let device_id = RegistrationCode::generate(rng);
    let key = KeyPair::generate(KeyAlgorithm::P256, iot_ca::Backend::preferred(), rng).map_err(|e| e.to_string())?;
    let der = iot_ca::create_verification_certificate::<_, p256::ecdsa::DerSignature, _>(
        &VerificationCertificateParams::new(ca, key.spki_der(), &device_id, until),
        ca_key,
        rng,
        now,
    )
    .map_err(|e| e.to_string())?;
    pem(&der)
}
