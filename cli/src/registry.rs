//! STATE.json: what the account already holds, turned into the library's facts.

use iot_ca::{
    AccountFacts, CertificateId, CheckedRegistration, ParsedCertificate, TemplateFacts, TemplateName, TemplateType,
};
use serde_json::Value;

/// A certificate the registry holds: its id and subject.
struct Held {
    id: CertificateId,
    subject: Vec<u8>,
}

/// `{"caCertificates": [PEM…], "otherAccountsDefaultMode": [PEM…],
///   "provisioningTemplates": [{"templateName", "type", "enabled"}]}`, all optional.
#[derive(Default)]
pub struct Registry {
    own: Vec<Held>,
    others_default: Vec<CertificateId>,
    templates: Vec<(String, TemplateFacts)>,
}

fn held(pem: &Value, what: &str) -> Result<Held, String> {
    let text = pem.as_str().ok_or(format!("{what}: each entry must be a PEM string"))?;
    let (label, der) = pem_rfc7468::decode_vec(text.trim().as_bytes()).map_err(|e| format!("{what}: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(format!("{what}: expected a CERTIFICATE PEM, found {label}"));
    }
    let cert = ParsedCertificate::from_der(der).map_err(|e| format!("{what}: {e}"))?;
    Ok(Held { id: CertificateId::of_der(cert.der()), subject: cert.subject_der().to_vec() })
}

impl Registry {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("registry file: {e}"))?;
        let top = value.as_object().ok_or("registry file: expected a JSON object")?;
        let mut registry = Self::default();
        for key in top.keys() {
            if !["caCertificates", "otherAccountsDefaultMode", "provisioningTemplates"].contains(&key.as_str()) {
                return Err(format!("registry file: unknown member '{key}'"));
            }
        }
        let list = |key: &str| -> Result<Vec<Value>, String> {
            match top.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(a)) => Ok(a.clone()),
                Some(_) => Err(format!("registry file: '{key}' must be an array")),
            }
        };
        for pem in list("caCertificates")? {
            registry.own.push(held(&pem, "caCertificates")?);
        }
        for pem in list("otherAccountsDefaultMode")? {
            registry.others_default.push(held(&pem, "otherAccountsDefaultMode")?.id);
        }
        for t in list("provisioningTemplates")? {
            let name = t["templateName"].as_str().ok_or("provisioningTemplates: templateName must be a string")?;
            let kind = match t["type"].as_str() {
                Some("JITP") => TemplateType::Jitp,
                Some("FLEET_PROVISIONING") => TemplateType::FleetProvisioning,
                _ => return Err(format!("provisioningTemplates: {name}: type must be JITP or FLEET_PROVISIONING")),
            };
            let enabled = t
                .get("enabled")
                .map_or(Some(true), Value::as_bool)
                .ok_or("provisioningTemplates: enabled must be a boolean")?;
            registry.templates.push((name.to_owned(), TemplateFacts::new(kind).with_enabled(enabled)));
        }
        Ok(registry)
    }

    pub fn template(&self, name: &TemplateName) -> Option<TemplateFacts> {
        self.templates.iter().find(|(n, _)| n == name.as_str()).map(|(_, f)| *f)
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
}
