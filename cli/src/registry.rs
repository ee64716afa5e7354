//! STATE.json: what the account already holds, turned into the library's facts.

use iot_ca::wire::{TemplateEntry, template_facts_from_json};
use iot_ca::{
    AccountFacts, AutoRegistrationStatus, CaStatus, CertificateFacts, CertificateId, CertificateMode,
    CertificateRecord, CertificateStatus, CheckedCertificate, CheckedRegistration, ConnectFacts, Connection,
    ParsedCertificate, RegisteredCa, RegistrationConfig, TemplateFacts, TemplateName, UnixTime,
};
use serde_json::{Map, Value};

/// A certificate the registry holds: its id and subject.
struct Held {
    id: CertificateId,
    subject: Vec<u8>,
}

/// A device certificate the registry holds.
struct Device {
    id: CertificateId,
    status: CertificateStatus,
    creation_date: Option<UnixTime>,
}

/// `{"caCertificates": [PEM | {"certificatePem", "status", "autoRegistrationStatus",
///   "certificateMode", "registrationConfig"}…], "otherAccountsDefaultMode": [PEM…],
///   "certificates": [{"certificatePem", "status", "creationDate"?}…],
///   "provisioningTemplates": [{"templateName", "type", "enabled", "templateBody"?}]}`, all optional.
#[derive(Default)]
pub struct Registry {
    own: Vec<Held>,
    cas: Vec<RegisteredCa>,
    others_default: Vec<CertificateId>,
    devices: Vec<Device>,
    templates: Vec<TemplateEntry>,
    /// Names of thing types, thing groups and policies the account holds (for JITP plans).
    thing_types: Vec<String>,
    thing_groups: Vec<String>,
    policies: Vec<String>,
}

fn parsed(pem: &str, what: &str) -> Result<ParsedCertificate, String> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| format!("{what}: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(format!("{what}: expected a CERTIFICATE PEM, found {label}"));
    }
    ParsedCertificate::from_der(der).map_err(|e| format!("{what}: {e}"))
}

fn held(pem: &str, what: &str) -> Result<Held, String> {
    let cert = parsed(pem, what)?;
    Ok(Held { id: CertificateId::of_der(cert.der()), subject: cert.subject_der().to_vec() })
}

fn member<'a>(object: &'a Map<String, Value>, key: &str, what: &str) -> Result<Option<&'a str>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{what}: '{key}' must be a string")),
    }
}

fn refuse_unknown(object: &Map<String, Value>, known: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("{what}: unknown member '{k}'")),
        None => Ok(()),
    }
}

/// A `caCertificates` entry: a PEM string (ACTIVE, DEFAULT mode, auto-registration DISABLE, no
/// registrationConfig) or an object saying each.
fn registered_ca(entry: &Value) -> Result<(Held, RegisteredCa), String> {
    const WHAT: &str = "caCertificates";
    let (pem, object) = match entry {
        Value::String(pem) => (pem.as_str(), None),
        Value::Object(o) => {
            refuse_unknown(
                o,
                &["certificatePem", "status", "autoRegistrationStatus", "certificateMode", "registrationConfig"],
                WHAT,
            )?;
            let pem = member(o, "certificatePem", WHAT)?.ok_or("caCertificates: certificatePem is required")?;
            (pem, Some(o))
        }
        _ => return Err("caCertificates: each entry must be a PEM string or an object".into()),
    };
    let h = held(pem, WHAT)?;
    let Some(o) = object else {
        let ca = RegisteredCa::from_pem(pem, CaStatus::Active).map_err(|e| format!("{WHAT}: {e}"))?;
        return Ok((h, ca));
    };
    let status = member(o, "status", WHAT)?
        .map(|t| CaStatus::parse(t, "status"))
        .transpose()
        .map_err(|e| format!("{WHAT}: {e}"))?
        .unwrap_or(CaStatus::Active);
    let auto = member(o, "autoRegistrationStatus", WHAT)?
        .map(|t| AutoRegistrationStatus::parse(t, "autoRegistrationStatus"))
        .transpose()
        .map_err(|e| format!("{WHAT}: {e}"))?
        .unwrap_or(AutoRegistrationStatus::Disable);
    let mode = member(o, "certificateMode", WHAT)?
        .map(str::parse::<CertificateMode>)
        .transpose()
        .map_err(|e| format!("{WHAT}: {e}"))?
        .unwrap_or_default();
    let mut ca = RegisteredCa::from_pem(pem, status)
        .map_err(|e| format!("{WHAT}: {e}"))?
        .with_auto_registration_status(auto)
        .with_certificate_mode(mode);
    match o.get("registrationConfig") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            const CONFIG: &str = "caCertificates.registrationConfig";
            refuse_unknown(c, &["templateBody", "roleArn", "templateName"], CONFIG)?;
            let config = RegistrationConfig::from_members(
                member(c, "templateBody", CONFIG)?,
                member(c, "roleArn", CONFIG)?,
                member(c, "templateName", CONFIG)?,
            )
            .map_err(|e| format!("{CONFIG}: {e}"))?;
            if let Some(config) = config {
                ca = ca.with_registration_config(config);
            }
        }
        Some(_) => return Err("caCertificates: registrationConfig must be an object".into()),
    }
    Ok((h, ca))
}

/// A `certificates` entry: `{"certificatePem", "status", "creationDate"?}`.
fn device(entry: &Value) -> Result<Device, String> {
    const WHAT: &str = "certificates";
    let o = entry.as_object().ok_or("certificates: each entry must be an object")?;
    refuse_unknown(o, &["certificatePem", "status", "creationDate"], WHAT)?;
    let pem = member(o, "certificatePem", WHAT)?.ok_or("certificates: certificatePem is required")?;
    let status = member(o, "status", WHAT)?.ok_or("certificates: status is required")?;
    let status = CertificateStatus::parse(status, "status").map_err(|e| format!("{WHAT}: {e}"))?;
    let creation_date = member(o, "creationDate", WHAT)?
        .map(|t| UnixTime::parse_rfc3339(t).ok_or(format!("{WHAT}: creationDate '{t}' is not an RFC 3339 UTC time")))
        .transpose()?;
    Ok(Device { id: held(pem, WHAT)?.id, status, creation_date })
}

impl Registry {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("registry file: {e}"))?;
        let top = value.as_object().ok_or("registry file: expected a JSON object")?;
        refuse_unknown(
            top,
            &[
                "caCertificates",
                "otherAccountsDefaultMode",
                "certificates",
                "provisioningTemplates",
                "thingTypes",
                "thingGroups",
                "policies",
            ],
            "registry file",
        )?;
        let list = |key: &str| -> Result<&[Value], String> {
            match top.get(key) {
                None => Ok(&[]),
                Some(Value::Array(a)) => Ok(a),
                Some(_) => Err(format!("registry file: '{key}' must be an array")),
            }
        };
        let mut registry = Self::default();
        for entry in list("caCertificates")? {
            let (h, ca) = registered_ca(entry)?;
            registry.own.push(h);
            registry.cas.push(ca);
        }
        for pem in list("otherAccountsDefaultMode")? {
            let pem = pem.as_str().ok_or("otherAccountsDefaultMode: each entry must be a PEM string")?;
            registry.others_default.push(held(pem, "otherAccountsDefaultMode")?.id);
        }
        for entry in list("certificates")? {
            registry.devices.push(device(entry)?);
        }
        for (key, names) in [
            ("thingTypes", &mut registry.thing_types),
            ("thingGroups", &mut registry.thing_groups),
            ("policies", &mut registry.policies),
        ] {
            for name in list(key)? {
                names.push(name.as_str().ok_or(format!("{key}: each entry must be a name"))?.to_owned());
            }
        }
        if let Some(templates) = top.get("provisioningTemplates") {
            registry.templates = template_facts_from_json(templates).map_err(|e| format!("registry file: {e}"))?;
        }
        Ok(registry)
    }

    /// What a JITP plan is decided on: the new certificate, and which of the thing type, groups
    /// and policies the template names the state file lists (things are not listed: a JITP
    /// thing is taken as new).
    pub fn plan_facts(
        &self,
        template: &iot_ca::BoundTemplate,
        record: &iot_ca::CertificateDescription,
    ) -> iot_ca::PlanFacts {
        let mut facts = iot_ca::PlanFacts::new();
        if let Some(thing) = &template.thing {
            facts.thing_type_exists =
                thing.thing_type_name.as_ref().is_some_and(|t| self.thing_types.iter().any(|n| n == t.as_str()));
            facts.groups_existing = thing
                .thing_groups
                .iter()
                .flatten()
                .filter(|g| self.thing_groups.iter().any(|n| n == g.as_str()))
                .cloned()
                .collect();
        }
        facts.policies_existing = template
            .policies
            .iter()
            .filter(|p| self.policies.iter().any(|n| n == p.policy_name.as_str()))
            .map(|p| p.policy_name.clone())
            .collect();
        facts.certificate = Some(record.clone());
        facts.certificate_is_new = true;
        facts
    }

    pub fn template(&self, name: &TemplateName) -> Option<TemplateFacts> {
        self.templates.iter().find(|t| &t.name == name).map(|t| t.facts)
    }

    /// The facts `admit` needs for `candidate`.
    pub fn facts(&self, candidate: &CheckedRegistration) -> AccountFacts {
        let id = candidate.certificate_id();
        let mut facts = AccountFacts::new()
            .with_already_registered(self.own.iter().any(|h| &h.id == id))
            .with_same_subject_count(self.own.iter().filter(|h| h.subject == candidate.subject_der()).count())
            .with_held_by_another_account_in_default_mode(self.others_default.contains(id));
        if let Some(t) = candidate.template_name().and_then(|n| self.template(n)) {
            facts = facts.with_template(t);
        }
        facts
    }

    /// The facts `admit_certificate` needs for `candidate`.
    pub fn certificate_facts(&self, candidate: &CheckedCertificate) -> CertificateFacts {
        let mut facts = CertificateFacts::new()
            .with_already_registered(self.devices.iter().any(|d| &d.id == candidate.certificate_id()));
        if candidate.needs_ca() {
            let wanted = |ca: &RegisteredCa| match candidate.ca_certificate_id() {
                Some(id) => ca.certificate_id() == id,
                None => ca.subject_der() == candidate.issuer_der(),
            };
            for ca in self.cas.iter().filter(|ca| wanted(ca)) {
                facts = facts.with_ca(ca.clone());
            }
        }
        facts
    }

    /// The facts `decide_connect` needs for `connection`; a record without creationDate is
    /// taken as made at `now`.
    pub fn connect_facts(&self, connection: &Connection, now: UnixTime) -> ConnectFacts {
        let mut facts = ConnectFacts::new();
        if let Some(d) = self.devices.iter().find(|d| &d.id == connection.certificate_id()) {
            facts = facts.with_record(CertificateRecord::new(d.status, d.creation_date.unwrap_or(now)));
        }
        for ca in self.cas.iter().filter(|ca| ca.subject_der() == connection.issuer_der()) {
            let named = ca.registration_config().and_then(RegistrationConfig::template_name);
            if let Some(body) =
                named.and_then(|n| self.templates.iter().find(|t| &t.name == n)).and_then(|t| t.body.clone())
            {
                facts = facts.with_template_body(body);
            }
            facts = facts.with_ca(ca.clone());
        }
        facts
    }
}
