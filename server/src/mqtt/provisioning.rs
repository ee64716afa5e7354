//! Fleet provisioning over MQTT: where a PUBLISH to `$aws/certificates/create/{json,cbor}`,
//! `$aws/certificates/create-from-csr/{json,cbor}` or
//! `$aws/provisioning-templates/<name>/provision/{json,cbor}` is answered.
//!
//! **Placeholder.** This build answers every request on `<request topic>/rejected` with
//! `{"statusCode": 503, "errorCode": "ServiceUnavailable", "errorMessage": "fleet provisioning
//! is not served by this build"}` (CBOR on the `/cbor` topics). The fleet-provisioning API
//! (CreateKeysAndCertificate, CreateCertificateFromCsr, RegisterThing over MQTT) replaces
//! [`handle`]'s body; its signature is the seam: the connection routes every such PUBLISH here
//! and delivers what comes back to the requesting connection only, through its own
//! subscriptions (a device that publishes before subscribing gets nothing, as with AWS IoT).

use iot_ca::{AccountScope, CertificateId};

use crate::store::Store;

/// An answer to deliver to the requesting connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The topic (`<request topic>/accepted` or `/rejected`).
    pub topic: String,
    /// The payload: JSON, or CBOR on the `/cbor` topics.
    pub payload: Vec<u8>,
}

/// Answers one fleet-provisioning request: `payload` published to `topic` by a connection of
/// `scope`'s account with certificate `certificate_id`.
///
/// For now: `<topic>/rejected` with status 503 ServiceUnavailable (see the module docs).
pub async fn handle<S: Store>(
    store: &S,
    scope: &AccountScope,
    certificate_id: &CertificateId,
    topic: &str,
    payload: &[u8],
) -> Vec<Answer> {
    let _ = (store, scope, certificate_id, payload);
    let message = "fleet provisioning is not served by this build";
    let payload = if topic.ends_with("/cbor") {
        cbor_error(503, "ServiceUnavailable", message)
    } else {
        serde_json::json!({ "statusCode": 503, "errorCode": "ServiceUnavailable", "errorMessage": message })
            .to_string()
            .into_bytes()
    };
    vec![Answer { topic: format!("{topic}/rejected"), payload }]
}

/// A CBOR head (RFC 8949 §3): major type `major`, argument `n`.
fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// `{statusCode, errorCode, errorMessage}` as a CBOR map.
fn cbor_error(status: u16, code: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_head(&mut out, 5, 3);
    cbor_text(&mut out, "statusCode");
    cbor_head(&mut out, 0, u64::from(status));
    cbor_text(&mut out, "errorCode");
    cbor_text(&mut out, code);
    cbor_text(&mut out, "errorMessage");
    cbor_text(&mut out, message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_answers_are_a_three_entry_map() {
        let bytes = cbor_error(503, "ServiceUnavailable", "no");
        // a3 (map of 3), 6a "statusCode", 19 01f7 (503), 69 "errorCode", 72 "ServiceUnavailable", ...
        assert_eq!(bytes[0], 0xa3);
        assert_eq!(&bytes[1..12], b"\x6astatusCode");
        assert_eq!(&bytes[12..15], &[0x19, 0x01, 0xf7]);
        assert!(bytes.ends_with(b"\x6cerrorMessage\x62no"));
        let mut long = Vec::new();
        cbor_head(&mut long, 3, 300);
        assert_eq!(long, [0x79, 0x01, 0x2c]);
    }
}
