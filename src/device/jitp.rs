//! Just-in-time provisioning parameters: what a device certificate's subject gives a
//! provisioning template (AWS IoT Developer Guide, "Just-in-time provisioning", provisioning
//! template parameters).

use const_oid::ObjectIdentifier;
use der::Tag;

use crate::model::certificate_id::CertificateId;
use crate::model::registration_config::TemplateBody;
use crate::x509::cert::ParsedCertificate;

/// The template parameter that carries the certificateId.
pub const CERTIFICATE_ID_PARAMETER: &str = "AWS::IoT::Certificate::Id";

/// The subject attributes a template can read, with the parameter each fills (RFC 4519 and
/// X.520 attribute types).
const SUBJECT_PARAMETERS: [(&str, ObjectIdentifier); 7] = [
    ("AWS::IoT::Certificate::Country", ObjectIdentifier::new_unwrap("2.5.4.6")),
    ("AWS::IoT::Certificate::Organization", ObjectIdentifier::new_unwrap("2.5.4.10")),
    ("AWS::IoT::Certificate::OrganizationalUnit", ObjectIdentifier::new_unwrap("2.5.4.11")),
    ("AWS::IoT::Certificate::DistinguishedNameQualifier", ObjectIdentifier::new_unwrap("2.5.4.46")),
    ("AWS::IoT::Certificate::StateName", ObjectIdentifier::new_unwrap("2.5.4.8")),
    ("AWS::IoT::Certificate::CommonName", ObjectIdentifier::new_unwrap("2.5.4.3")),
    ("AWS::IoT::Certificate::SerialNumber", ObjectIdentifier::new_unwrap("2.5.4.5")),
];

/// The parameters a JITP template is applied with, by name (sorted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateParameters(Vec<(String, String)>);

impl TemplateParameters {
    /// Parameters from (name, value) pairs (RegisterThing's `parameters`, fleet provisioning's);
    /// the first of a repeated name wins.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = Self::default();
        for (name, value) in pairs {
            out.insert_if_absent(name, value.to_owned());
        }
        out
    }

    /// The same with `name` set to `value` unless it is set already.
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.insert_if_absent(name, value.to_owned());
        self
    }

    /// The value of parameter `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every (name, value), sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there are none (never, for a decision: `Id` is always there).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn insert_if_absent(&mut self, name: &str, value: String) {
        if let Err(at) = self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            self.0.insert(at, (name.to_owned(), value));
        }
    }
}

/// The parameters for `cert` under `body`: every `AWS::IoT::Certificate::*` value the subject
/// provides (the first attribute of each type, when it decodes as a directory string), the
/// certificateId as `AWS::IoT::Certificate::Id`, and the `Default` of each parameter the
/// template declares (`Parameters`) that is still missing.
///
/// Returns the name of the first declared parameter (in name order) that has neither.
pub(crate) fn template_parameters(
    cert: &ParsedCertificate,
    id: &CertificateId,
    body: &TemplateBody,
) -> Result<TemplateParameters, String> {
    let mut out = TemplateParameters::default();
    out.insert_if_absent(CERTIFICATE_ID_PARAMETER, id.as_str().to_owned());
    let attributes = cert.subject_attributes();
    for (name, oid) in SUBJECT_PARAMETERS {
        let value = attributes
            .iter()
            .filter(|(kind, _, _)| *kind == oid.as_bytes())
            .find_map(|(_, tag, bytes)| directory_string(*tag, bytes));
        if let Some(value) = value {
            out.insert_if_absent(name, value);
        }
    }
    let declared = serde_json::from_str::<serde_json::Value>(body.as_str())
        .ok()
        .and_then(|v| v.get("Parameters").and_then(serde_json::Value::as_object).cloned())
        .unwrap_or_default();
    for (name, declaration) in &declared {
        if out.get(name).is_some() {
            continue;
        }
        match declaration.get("Default").and_then(scalar) {
            Some(default) => out.insert_if_absent(name, default),
            None => return Err(name.clone()),
        }
    }
    Ok(out)
}

/// A `Default` as text: a string as is, a number or boolean as JSON writes it.
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A DirectoryString (RFC 5280 §4.1.2.4) or the PrintableString / IA5String that C, serialNumber
/// and dnQualifier use, as text; `None` for another type or an invalid encoding.
fn directory_string(tag: Tag, bytes: &[u8]) -> Option<String> {
    match tag {
        Tag::Utf8String => core::str::from_utf8(bytes).ok().map(str::to_owned),
        Tag::PrintableString | Tag::Ia5String | Tag::VisibleString | Tag::NumericString => {
            bytes.is_ascii().then(|| bytes.iter().map(|b| char::from(*b)).collect())
        }
        // T.61 in theory; Latin-1 in practice (what OpenSSL and most decoders assume).
        Tag::TeletexString => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_strings() {
        assert_eq!(directory_string(Tag::Utf8String, "é".as_bytes()).as_deref(), Some("é"));
        assert_eq!(directory_string(Tag::PrintableString, b"US").as_deref(), Some("US"));
        assert_eq!(directory_string(Tag::PrintableString, &[0xff]), None);
        assert_eq!(directory_string(Tag::TeletexString, &[0xe9]).as_deref(), Some("é"));
        assert_eq!(directory_string(Tag::BmpString, &[0x00, 0xe9]).as_deref(), Some("é"));
        assert_eq!(directory_string(Tag::BmpString, &[0x00]), None);
        assert_eq!(directory_string(Tag::BmpString, &[0xd8, 0x00]), None);
        assert_eq!(directory_string(Tag::OctetString, b"x"), None);
    }

    #[test]
    fn parameters_keep_sorted_and_first_wins() {
        let mut p = TemplateParameters::default();
        p.insert_if_absent("b", "1".into());
        p.insert_if_absent("a", "2".into());
        p.insert_if_absent("b", "3".into());
        assert_eq!(p.iter().collect::<Vec<_>>(), [("a", "2"), ("b", "1")]);
        assert_eq!(p.len(), 2);
    }
}
