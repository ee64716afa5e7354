//! Memory: what one registration allocates, against the size of its input. A regression guard
//! (no timing here: speed lives in the criterion benches).
//!
//! The crypto crates allocate on their own (RustCrypto's RSA about 7.7 KB per verification,
//! for its big integers, and more to build a key); that part is measured separately as the
//! "crypto floor" (building the key and the same two verifications) and the bound applies to
//! what the crate adds on top. Runs in debug and release builds alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use std::alloc::System;

use iot_ca::{
    AccountFacts, AccountId, AccountScope, Backend, ParsedCertificate, Policy, PublicKey, Region,
    RegisterCaCertificateRequest, RegistrationCode, SignatureAlgorithm, admit, check,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region as AllocRegion, StatsAlloc};
use support::*;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Bytes allocated by the crypto alone: building the key (for RustCrypto's RSA, its Montgomery
/// parameters) and the two verifications.
fn crypto_floor(ca_der: &[u8], proof_der: &[u8], backend: Backend) -> usize {
    let ca = ParsedCertificate::from_der(ca_der.to_vec()).unwrap();
    let proof = ParsedCertificate::from_der(proof_der.to_vec()).unwrap();
    let run = || {
        let key = PublicKey::from_spki_der(ca.spki_der()).unwrap();
        for c in [&ca, &proof] {
            let alg = SignatureAlgorithm::from_der(c.signature_algorithm_der()).unwrap();
            key.verify(backend, alg, c.tbs_der(), c.signature()).unwrap();
        }
    };
    run();
    let region = AllocRegion::new(GLOBAL);
    run();
    region.change().bytes_allocated
}

/// Bytes allocated by one check + admit, its allocation count, the crypto floor's bytes, and
/// the input size (both PEM fields).
fn measure(key: &'static Key, backend: Backend) -> (usize, usize, usize, usize) {
    let ca = Tbs::ca(key, "Alloc Root");
    let proof = Tbs::leaf(p256_other(), &ca.subject, &name(&[(CN, CODE)]));
    let (ca_der, proof_der) = (ca.sign(key), proof.sign(key));
    let floor = crypto_floor(&ca_der, &proof_der, backend);
    let (ca_pem, proof_pem) = (pem(&ca_der), pem(&proof_der));
    let input = ca_pem.len() + proof_pem.len();
    let request = RegisterCaCertificateRequest::new(ca_pem).with_verification_certificate(proof_pem);
    let code = RegistrationCode::parse(CODE).unwrap();
    let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap());
    let policy = Policy::default().with_backend(backend);
    let mut rng = rng(1);
    // Warm up once (lazy statics in the crypto crates), then measure.
    admit(check(&request, &code, policy, NOW).unwrap(), &AccountFacts::new(), &scope, &mut rng).unwrap();
    let region = AllocRegion::new(GLOBAL);
    let registration =
        admit(check(&request, &code, policy, NOW).unwrap(), &AccountFacts::new(), &scope, &mut rng).unwrap();
    let stats = region.change();
    drop(registration);
    (stats.bytes_allocated, stats.allocations, floor, input)
}

#[test]
fn a_registration_allocates_a_few_times_its_input() {
    for &backend in Backend::ALL {
        for (name, key) in [("RSA-2048", rsa2048()), ("P-256", p256()), ("P-384", p384())] {
            let (bytes, count, floor, input) = measure(key, backend);
            let ours = bytes.saturating_sub(floor);
            let ratio = ours as f64 / input as f64;
            println!(
                "allocations {name} {backend:?}: {bytes} bytes in {count} allocations for {input} input bytes; \
                 crypto floor {floor} bytes; the crate's own {ours} bytes ({ratio:.1}x the input)"
            );
            assert!(ratio <= 6.0, "{name} {backend:?}: {ratio:.1}x the input");
        }
    }
}
