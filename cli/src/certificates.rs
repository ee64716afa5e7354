//! `iot-ca register-certificate` and `iot-ca connect`: device certificates against STATE.json.

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{AccountScope, Connection, Error, Policy, UnixTime};
use serde_json::Value;

use crate::registry::Registry;

/// RegisterCertificate (or RegisterCertificateWithoutCA) of `document`, decided against `registry`.
pub fn register(
    document: &str,
    without_ca: bool,
    registry: &Registry,
    scope: &AccountScope,
    rng: &mut rand::rngs::ThreadRng,
    now: UnixTime,
) -> Result<Value, Error> {
    let candidate = if without_ca {
        let request = wire::register_certificate_without_ca_request_from_json(document)?;
        iot_ca::check_certificate_without_ca(&request, Policy::default(), now)?
    } else {
        let request = wire::register_certificate_request_from_json(document)?;
        iot_ca::check_certificate(&request, Policy::default(), now)?
    };
    let facts = registry.certificate_facts(&candidate);
    let registration = iot_ca::admit_certificate(candidate, &facts, scope, rng)?;
    Ok(wire::certificate_registration_to_json(&registration, TimeFormat::Rfc3339))
}

/// The decision for a device presenting `chain` (with or without SNI), against `registry`.
/// A malformed chain is the only error.
pub fn connect(
    chain: &str,
    sni: bool,
    registry: &Registry,
    scope: &AccountScope,
    rng: &mut rand::rngs::ThreadRng,
    now: UnixTime,
) -> Result<Value, Error> {
    let connection = Connection::from_pem(chain)?.with_sni(sni);
    let facts = registry.connect_facts(&connection, now);
    let decision = iot_ca::decide_connect(&connection, &facts, scope, rng, now);
    let mut out = wire::connect_decision_to_json(&decision);
    if let (iot_ca::ConnectDecision::Jitp { record, template, .. }, Some(o)) = (&decision, out.as_object_mut()) {
        // What the server would provision, against what the state file lists.
        match iot_ca::plan(template, &registry.plan_facts(template, record), scope, rng, now) {
            Ok(plan) => o.insert("plan".into(), wire::plan_to_json(&plan)),
            Err(e) => o.insert("planError".into(), wire::error_to_json(&e)),
        };
    }
    Ok(out)
}
