//! A certificate field from fuzz bytes: the text itself when it is UTF-8 with a BEGIN line,
//! else the bytes as hex inside a CERTIFICATE block (not base64: it exercises the PEM error
//! paths; the raw-DER path is pem_ca's).

pub fn field(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => text.to_owned(),
        _ => {
            let body: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        }
    }
}
