//! What a registration costs, next to the bare crypto it cannot avoid.
//!
//! For RSA-2048, RSA-4096, P-256 and P-384 CAs, one group holds the full `check` + `admit` of a
//! DEFAULT-mode registration from PEM strings and the **floor**: the two signature
//! verifications (the CA's self-signature and the proof of possession) on pre-parsed keys and
//! signatures with the same crates, plus SHA-256 of the CA's DER. Fixtures, clock and RNG are
//! made outside the measured loops. With the `aws-lc-rs` feature (the default) the same group
//! also runs the full registration and the floor on aws-lc-rs, side by side.
//!
//! Claims: a P-256 claim on each backend, and RSA-2048 claims next to the bare RSA-2048 key
//! generation they are made of, both over the same eight seeds per iteration (RSA key
//! generation's time depends on the RNG's bytes, so only the same seeds compare).
//! Ratios are measured in pairs (see `paired`): `python3 benches/report.py` prints the medians
//! and the ratios.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use iot_ca::{
    AccountFacts, AccountId, AccountScope, Backend, CertificateMode, ClaimParams, KeyAlgorithm, ParsedCertificate,
    Policy, Region, RegisterCaCertificateRequest, RegistrationCode, TemplateFacts, TemplateName, TemplateType, admit,
    check, create_provisioning_claim,
};
use sha2::Digest;
use signature::Verifier;
use support::*;

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Case {
    name: &'static str,
    ca_der: Vec<u8>,
    proof_der: Vec<u8>,
    request: RegisterCaCertificateRequest,
}

fn case(name: &'static str, key: &'static Key) -> Case {
    let ca = Tbs::ca(key, "Bench Root");
    let proof = Tbs::leaf(p256_other(), &ca.subject, &name_with_code());
    let (ca_der, proof_der) = (ca.sign(key), proof.sign(key));
    let request = RegisterCaCertificateRequest::new(pem(&ca_der)).with_verification_certificate(pem(&proof_der));
    Case { name, ca_der, proof_der, request }
}

fn name_with_code() -> Vec<u8> {
    name(&[(CN, CODE)])
}

/// The bytes each signature covers, and the signature, sliced from the certificates.
fn signed_parts(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let c = ParsedCertificate::from_der(der.to_vec()).unwrap();
    (c.tbs_der().to_vec(), c.signature().to_vec())
}

/// The floor: verifications on pre-parsed keys and signatures, and one SHA-256 of the DER.
fn floor(case: &Case, key: &Key) -> Box<dyn Fn() -> bool> {
    let (ca_tbs, ca_sig) = signed_parts(&case.ca_der);
    let (proof_tbs, proof_sig) = signed_parts(&case.proof_der);
    let ca_der = case.ca_der.clone();
    match key {
        Key::Rsa(k) => {
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(k.to_public_key());
            let s1 = rsa::pkcs1v15::Signature::try_from(ca_sig.as_slice()).unwrap();
            let s2 = rsa::pkcs1v15::Signature::try_from(proof_sig.as_slice()).unwrap();
            Box::new(move || {
                vk.verify(&ca_tbs, &s1).is_ok()
                    && vk.verify(&proof_tbs, &s2).is_ok()
                    && sha2::Sha256::digest(&ca_der)[0] != 0xff
            })
        }
        Key::P256(k) => {
            let vk = *k.verifying_key();
            let s1 = p256::ecdsa::DerSignature::try_from(ca_sig.as_slice()).unwrap();
            let s2 = p256::ecdsa::DerSignature::try_from(proof_sig.as_slice()).unwrap();
            Box::new(move || {
                vk.verify(&ca_tbs, &s1).is_ok()
                    && vk.verify(&proof_tbs, &s2).is_ok()
                    && sha2::Sha256::digest(&ca_der)[0] != 0xff
            })
        }
        Key::P384(k) => {
            let vk = *k.verifying_key();
            let s1 = p384::ecdsa::DerSignature::try_from(ca_sig.as_slice()).unwrap();
            let s2 = p384::ecdsa::DerSignature::try_from(proof_sig.as_slice()).unwrap();
            Box::new(move || {
                vk.verify(&ca_tbs, &s1).is_ok()
                    && vk.verify(&proof_tbs, &s2).is_ok()
                    && sha2::Sha256::digest(&ca_der)[0] != 0xff
            })
        }
        Key::P521(_) => unreachable!("not benched"),
    }
}

/// What both aws-lc-rs floors verify: the key's bytes, the two signed messages and their
/// signatures, and the CA's DER to hash.
#[cfg(feature = "aws-lc-rs")]
struct AwsLcFloor {
    algorithm: &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    key: Vec<u8>,
    ca: (Vec<u8>, Vec<u8>),
    proof: (Vec<u8>, Vec<u8>),
    ca_der: Vec<u8>,
}

#[cfg(feature = "aws-lc-rs")]
impl AwsLcFloor {
    fn new(case: &Case, key: &Key) -> Self {
        use aws_lc_rs::signature as s;
        let ca = ParsedCertificate::from_der(case.ca_der.clone()).unwrap();
        let spki = <spki::SubjectPublicKeyInfoRef as der::Decode>::from_der(ca.spki_der()).unwrap();
        let algorithm: &'static dyn s::VerificationAlgorithm = match key {
            Key::Rsa(_) => &s::RSA_PKCS1_2048_8192_SHA256,
            Key::P256(_) => &s::ECDSA_P256_SHA256_ASN1,
            Key::P384(_) => &s::ECDSA_P384_SHA384_ASN1,
            Key::P521(_) => unreachable!("not benched"),
        };
        Self {
            algorithm,
            key: spki.subject_public_key.raw_bytes().to_vec(),
            ca: signed_parts(&case.ca_der),
            proof: signed_parts(&case.proof_der),
            ca_der: case.ca_der.clone(),
        }
    }

    fn parse(&self) -> aws_lc_rs::signature::ParsedPublicKey {
        aws_lc_rs::signature::UnparsedPublicKey::new(self.algorithm, &self.key[..]).parse().unwrap()
    }

    /// The two verifications with `key`, and SHA-256 of the CA's DER.
    fn verify(&self, key: &aws_lc_rs::signature::ParsedPublicKey) -> bool {
        key.verify_sig(&self.ca.0, &self.ca.1).is_ok()
            && key.verify_sig(&self.proof.0, &self.proof.1).is_ok()
            && aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.ca_der).as_ref()[0] != 0xff
    }
}

/// The aws-lc-rs floor: the same two verifications on one key parsed once by aws-lc-rs, and
/// SHA-256 by aws-lc-rs.
#[cfg(feature = "aws-lc-rs")]
fn floor_aws_lc(case: &Case, key: &Key) -> Box<dyn Fn() -> bool> {
    let floor = AwsLcFloor::new(case, key);
    let parsed = floor.parse();
    Box::new(move || floor.verify(&parsed))
}

/// The aws-lc-rs floor with each key as a registration meets it: parsed beforehand (outside the
/// timed block), but never used, so its first verification pays aws-lc's lazy per-key setup
/// (for RSA, the Montgomery constants: a `BN_div` of 2^4096 by the modulus), as the CA's
/// self-signature check of every registration does. Times a block of `n` pairs.
#[cfg(feature = "aws-lc-rs")]
fn floor_aws_lc_unused_key(case: &Case, key: &Key) -> Box<dyn FnMut(u64) -> Duration> {
    let floor = AwsLcFloor::new(case, key);
    Box::new(move |n| {
        let keys: Vec<_> = (0..n).map(|_| floor.parse()).collect();
        let start = Instant::now();
        for parsed in &keys {
            assert!(floor.verify(parsed));
        }
        let elapsed = start.elapsed();
        drop(keys);
        elapsed
    })
}

/// `n` calls of `f`, timed.
fn each(mut f: impl FnMut()) -> impl FnMut(u64) -> Duration {
    move |n| {
        let start = Instant::now();
        (0..n).for_each(|_| f());
        start.elapsed()
    }
}

fn registration(c: &mut Criterion) {
    let code = RegistrationCode::parse(CODE).unwrap();
    let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap());
    let facts = AccountFacts::new();
    for (name, key) in [("rsa2048", rsa2048()), ("rsa4096", rsa4096()), ("p256", p256()), ("p384", p384())] {
        let case = case(name, key);
        let mut rng = rng(1);
        let mut group = c.benchmark_group(format!("registration/{}", case.name));
        for &backend in Backend::ALL {
            let floor = match backend {
                #[cfg(feature = "aws-lc-rs")]
                Backend::AwsLcRs => floor_aws_lc(&case, key),
                _ => floor(&case, key),
            };
            assert!(floor(), "the floor's signatures verify");
            let policy = Policy::default().with_backend(backend);
            let mut full = || {
                let candidate = check(black_box(&case.request), &code, policy, NOW).unwrap();
                drop(black_box(admit(candidate, &facts, &scope, &mut rng).unwrap()));
            };
            let mut floor = || assert!(floor());
            let suffix = match backend {
                Backend::RustCrypto => "",
                _ => "_aws-lc-rs",
            };
            let mut pair = Pair::default();
            group.bench_function(format!("full{suffix}"), |b| {
                paired(b, BLOCK, &mut full, &mut each(&mut floor), &mut pair)
            });
            group.bench_function(format!("floor{suffix}"), |b| b.iter(&mut floor));
            pair.save(&format!("registration_{}_full{suffix}", case.name));
            #[cfg(feature = "aws-lc-rs")]
            if backend == Backend::AwsLcRs {
                let mut unused_key = floor_aws_lc_unused_key(&case, key);
                let mut pair = Pair::default();
                group.bench_function("full_aws-lc-rs_vs_unused_key", |b| {
                    paired(b, BLOCK, &mut full, &mut *unused_key, &mut pair)
                });
                pair.save(&format!("registration_{}_full_aws-lc-rs_unused_key", case.name));
            }
        }
        group.finish();
    }
}

/// Times `measured` for criterion, in blocks of `block` calls, each followed by a block of as
/// many calls of `other` (which times itself: see [`each`]); `pair` sums both. So the two are measured at the same moments and
/// their ratio (`report.py` reads it) holds on a machine whose speed drifts 20-30 % between
/// one bench and the next, which a ratio of two separate criterion results does not. Blocks,
/// not single calls, so each runs with its own data in the caches, as when run alone.
fn paired(
    b: &mut criterion::Bencher<'_>,
    block: u64,
    measured: &mut (impl FnMut() + ?Sized),
    other: &mut (impl FnMut(u64) -> Duration + ?Sized),
    pair: &mut Pair,
) {
    b.iter_custom(|iterations| {
        let mut total = Duration::ZERO;
        let mut left = iterations;
        while left > 0 {
            let now = left.min(block);
            let start = Instant::now();
            (0..now).for_each(|_| measured());
            let first = start.elapsed();
            pair.add(first, other(now));
            total += first;
            left -= now;
        }
        total
    })
}

/// Calls per block when [`paired`] compares a registration with its floor.
const BLOCK: u64 = 32;

/// Two sums of paired timings (see [`paired`]).
#[derive(Default)]
struct Pair {
    first: Duration,
    second: Duration,
}

impl Pair {
    fn add(&mut self, first: Duration, second: Duration) {
        self.first += first;
        self.second += second;
    }

    /// Written beside criterion's results, for `report.py`.
    fn save(&self, name: &str) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion/paired");
        let json = format!("{{\"first_ns\": {}, \"second_ns\": {}}}\n", self.first.as_nanos(), self.second.as_nanos());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), json).unwrap();
    }
}

fn parsing_and_sni(c: &mut Criterion) {
    let case = case("p256", p256());
    let ca_pem = pem(&case.ca_der);
    c.bench_function("parse/pem+der", |b| b.iter(|| ParsedCertificate::from_pem(black_box(&ca_pem)).unwrap()));
    let code = RegistrationCode::parse(CODE).unwrap();
    let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap());
    let sni = RegisterCaCertificateRequest::new(ca_pem).with_certificate_mode(CertificateMode::SniOnly);
    let mut rng = rng(2);
    c.bench_function("registration/sni_only_p256", |b| {
        b.iter(|| {
            let candidate = check(black_box(&sni), &code, Policy::default(), NOW).unwrap();
            admit(candidate, &AccountFacts::new(), &scope, &mut rng).unwrap()
        })
    });
}

/// The seeds every RSA key-generation iteration runs over, in order.
const KEYGEN_SEEDS: std::ops::Range<u64> = 100..108;

fn claims(c: &mut Criterion) {
    let template = TemplateName::parse("fleet").unwrap();
    let facts = Some(TemplateFacts::new(TemplateType::FleetProvisioning));
    let rsa_issuer = ParsedCertificate::from_der(Tbs::ca(rsa2048(), "Issuer").sign(rsa2048())).unwrap();
    let p256_issuer = ParsedCertificate::from_der(Tbs::ca(p256(), "Issuer").sign(p256())).unwrap();
    let Key::Rsa(rsa_key) = rsa2048() else { unreachable!() };
    let Key::P256(p256_key) = p256() else { unreachable!() };
    let rsa_signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_key.clone());
    let claim_p256 = |backend, r: &mut _| {
        create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
            &ClaimParams::new(&template, facts, &p256_issuer)
                .with_key_algorithm(KeyAlgorithm::P256)
                .with_backend(backend),
            p256_key,
            r,
            NOW,
        )
        .unwrap()
    };
    let claim_rsa_issuer = |alg, r: &mut _| {
        create_provisioning_claim::<_, rsa::pkcs1v15::Signature, _>(
            &ClaimParams::new(&template, facts, &rsa_issuer).with_key_algorithm(alg),
            &rsa_signer,
            r,
            NOW,
        )
        .unwrap()
    };

    let mut group = c.benchmark_group("claim");
    let mut r = rng(3);
    group.bench_function("p256_keypair/p256_issuer", |b| b.iter(|| claim_p256(Backend::preferred(), &mut r)));
    group.bench_function("p256_keypair/p256_issuer_rustcrypto", |b| b.iter(|| claim_p256(Backend::RustCrypto, &mut r)));
    group.bench_function("p256_keypair/rsa_issuer", |b| b.iter(|| claim_rsa_issuer(KeyAlgorithm::P256, &mut r)));
    group.finish();

    // RSA-2048: eight key pairs per iteration, from the same eight seeds in every bench, each
    // claim interleaved with bare key generation (one iteration each way: ~0.3 s apiece).
    let mut bare = || {
        KEYGEN_SEEDS.for_each(|seed| drop(black_box(rsa::PrivateKey::new(&mut rng(seed), 2048).unwrap())));
    };
    let mut claim_p256_issuer = || {
        KEYGEN_SEEDS.for_each(|seed| {
            drop(black_box(
                create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
                    &ClaimParams::new(&template, facts, &p256_issuer),
                    p256_key,
                    &mut rng(seed),
                    NOW,
                )
                .unwrap(),
            ))
        })
    };
    let mut claim_rsa_issuer =
        || KEYGEN_SEEDS.for_each(|seed| drop(black_box(claim_rsa_issuer(KeyAlgorithm::Rsa2048, &mut rng(seed)))));
    let mut group = c.benchmark_group("claim_rsa2048_x8");
    group.sample_size(10).sampling_mode(criterion::SamplingMode::Flat);
    group.bench_function("bare_keygen", |b| b.iter(&mut bare));
    for (name, claim) in
        [("claim_p256_issuer", &mut claim_p256_issuer as &mut dyn FnMut()), ("claim_rsa_issuer", &mut claim_rsa_issuer)]
    {
        let mut pair = Pair::default();
        group.bench_function(name, |b| paired(b, 1, &mut *claim, &mut each(&mut bare), &mut pair));
        pair.save(&format!("claim_rsa2048_x8_{name}"));
    }
    group.finish();
}

criterion_group!(benches, registration, parsing_and_sni, claims);
criterion_main!(benches);
