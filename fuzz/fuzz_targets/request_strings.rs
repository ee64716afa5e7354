//! Tags, registrationConfig members, template names, codes and modes from arbitrary strings.
#![no_main]

use iot_ca::{CertificateMode, RegistrationCode, RegistrationConfig, Tags, TemplateName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\u{1}').collect();
    let pairs: Vec<(&str, &str)> = parts.chunks(2).map(|c| (c[0], c.get(1).copied().unwrap_or(""))).collect();
    let _ = Tags::new(&pairs);
    let get = |i: usize| parts.get(i).copied();
    let _ = RegistrationConfig::from_members(get(0), get(1), get(2));
    let _ = TemplateName::parse(&text);
    let _ = RegistrationCode::parse(&text);
    let _ = CertificateMode::parse(&text, "certificateMode");
});
