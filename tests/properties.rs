//! Property tests: the string rules accept exactly what AWS's patterns and lengths accept
//! (checked against the `regex` crate as an independent oracle, with inputs generated from
//! both sides of each rule), and no input, however malformed, panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use std::sync::LazyLock;

use iot_ca::{
    CertificateMode, ParsedCertificate, Policy, RegisterCaCertificateRequest, RegistrationCode, RegistrationConfig,
    RoleArn, Tags, TemplateBody, TemplateName, UnixTime, VerifiedCa, check,
};
use proptest::prelude::*;
use regex::Regex;

static TAG_KEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(iot_ca::TAG_KEY_PATTERN).unwrap());
static TEMPLATE_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(iot_ca::TEMPLATE_NAME_PATTERN).unwrap());

fn key_oracle(key: &str) -> bool {
    let len = key.chars().count();
    TAG_KEY.is_match(key) && (1..=128).contains(&len) && !key.to_lowercase().starts_with("aws:")
}

/// Strings near the rule: mostly allowed characters, sometimes a forbidden one, lengths
/// around the bound, sometimes the reserved prefix.
fn tag_key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0,130}",
        "[a-zA-Z0-9]{120,130}",
        "(aws:|AWS:|Aws:|aws)[a-z]{0,5}",
        "[\\p{L}]{0,5}[\\t\\n*#!\"'<>{}\\p{So}\\p{Cc}\\p{Mn}][\\p{L}]{0,5}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tag_keys_follow_the_aws_rule(key in tag_key_strategy()) {
        prop_assert_eq!(Tags::new(&[(key.as_str(), "v")]).is_ok(), key_oracle(&key), "{:?}", key);
    }

    #[test]
    fn tag_values_follow_the_length_rule(value in prop_oneof!["\\PC{250,260}", ".{0,10}", any::<String>()]) {
        let ok = value.chars().count() <= 256;
        prop_assert_eq!(Tags::new(&[("k", value.as_str())]).is_ok(), ok);
    }

    #[test]
    fn template_names_follow_the_aws_rule(name in prop_oneof!["[0-9A-Za-z_-]{0,40}", "[0-9A-Za-z_ .é-]{1,10}", any::<String>()]) {
        let ok = TEMPLATE_NAME.is_match(&name) && (1..=36).contains(&name.chars().count());
        prop_assert_eq!(TemplateName::parse(&name).is_ok(), ok);
        let config = RegistrationConfig::from_members(None, None, Some(&name));
        prop_assert_eq!(config.is_ok(), ok);
    }

    #[test]
    fn registration_codes_are_exactly_64_lowercase_hex(text in prop_oneof!["[0-9a-f]{62,66}", "[0-9a-fA-F]{64}", any::<String>()]) {
        let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        prop_assert_eq!(RegistrationCode::parse(&text).is_ok(), ok);
    }

    #[test]
    fn no_string_panics(text in any::<String>()) {
        let now = UnixTime::from_secs(1_767_225_600);
        let _ = VerifiedCa::from_pem(&text, now, Policy::default());
        let _ = TemplateBody::parse(&text);
        let _ = RoleArn::parse(&text);
        let _ = CertificateMode::parse(&text, "certificateMode");
        let _ = UnixTime::parse_rfc3339(&text);
        let _ = Tags::new(&[(text.as_str(), text.as_str())]);
        let code = RegistrationCode::parse(&"a".repeat(64)).unwrap();
        let request = RegisterCaCertificateRequest::new(text.clone()).with_verification_certificate(text.clone());
        let _ = check(&request, &code, Policy::default(), now);
    }

    #[test]
    fn no_byte_string_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ParsedCertificate::from_der(bytes.clone());
        let _ = VerifiedCa::from_der(bytes, UnixTime::from_secs(0), Policy::strict());
    }
}

/// A valid P-256 root as DER, built once.
static ROOT: LazyLock<Vec<u8>> =
    LazyLock::new(|| support::Tbs::ca(support::p256(), "Mutation Root").sign(support::p256()));

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Mutating a valid self-issued root never panics, and a mutant is accepted only when the
    /// bytes its signature covers are intact, or when the mutation made it not self-issued (an
    /// intermediate, whose own signature SPEC §1.3 does not check).
    #[test]
    fn mutations_never_panic_and_never_forge(
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
        truncate in any::<bool>(),
        append in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let original = ParsedCertificate::from_der(ROOT.clone()).unwrap();
        let mut der = ROOT.clone();
        let i = position.index(der.len());
        if truncate {
            der.truncate(i);
        } else {
            der[i] ^= mask;
        }
        der.extend_from_slice(&append);
        if let Ok(ca) = VerifiedCa::from_der(der, support::NOW, Policy::default()) {
            let cert = ca.certificate();
            prop_assert!(
                cert.tbs_der() == original.tbs_der() || !cert.is_self_issued(),
                "a mutant with changed signed bytes verified as self-issued"
            );
        }
    }
}
