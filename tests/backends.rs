//! The backends agree: every signature the suite makes verifies (or fails) the same way on
//! RustCrypto and, with feature `aws-lc-rs`, on aws-lc-rs; and the preferred backend is the
//! one the feature selects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::{Backend, ParsedCertificate, Policy, PublicKey, SignatureAlgorithm, SignatureError};
use support::*;

#[test]
fn preferred_backend_follows_the_feature() {
    #[cfg(feature = "aws-lc-rs")]
    assert_eq!(Backend::preferred(), Backend::AwsLcRs);
    #[cfg(not(feature = "aws-lc-rs"))]
    assert_eq!(Backend::preferred(), Backend::RustCrypto);
    assert_eq!(Policy::default().backend(), Backend::preferred());
}

#[test]
fn every_key_and_algorithm_agrees_across_backends() {
    let cases = [
        (rsa2048(), Alg::Pkcs1(Hash::Sha1)),
        (rsa2048(), Alg::Pkcs1(Hash::Sha256)),
        (rsa2048(), Alg::Pkcs1(Hash::Sha384)),
        (rsa2048(), Alg::Pkcs1(Hash::Sha512)),
        (rsa2048(), Alg::Pss(Hash::Sha256)),
        (rsa2048(), Alg::Pss(Hash::Sha384)),
        (rsa2048(), Alg::Pss(Hash::Sha512)),
        (rsa4096(), Alg::Pkcs1(Hash::Sha256)),
        (p256(), Alg::Ecdsa(Hash::Sha1)),
        (p256(), Alg::Ecdsa(Hash::Sha256)),
        (p256(), Alg::Ecdsa(Hash::Sha512)),
        (p384(), Alg::Ecdsa(Hash::Sha256)),
        (p384(), Alg::Ecdsa(Hash::Sha384)),
        (p384(), Alg::Ecdsa(Hash::Sha1)),
        (p521(), Alg::Ecdsa(Hash::Sha256)),
        (p521(), Alg::Ecdsa(Hash::Sha512)),
    ];
    for (key, alg) in cases {
        let der = Tbs::ca(key, "Backend Root").sign_with(key, alg);
        let cert = ParsedCertificate::from_der(der).unwrap();
        let public = PublicKey::from_spki_der(cert.spki_der()).unwrap();
        let algorithm = SignatureAlgorithm::from_der(cert.signature_algorithm_der()).unwrap();
        let mut corrupted = cert.signature().to_vec();
        let last = corrupted.len() - 1;
        corrupted[last] ^= 1;
        let mut other_message = cert.tbs_der().to_vec();
        other_message[10] ^= 1;
        for &backend in Backend::ALL {
            assert!(public.verify(backend, algorithm, cert.tbs_der(), cert.signature()).is_ok(), "{alg:?} {backend:?}");
            let invalid = Err(SignatureError::Invalid { algorithm });
            let r = public.verify(backend, algorithm, cert.tbs_der(), &corrupted);
            // A corrupted ECDSA signature may no longer be DER at all.
            assert!(r == invalid || r == Err(SignatureError::MalformedSignature), "{alg:?} {backend:?}: {r:?}");
            assert_eq!(
                public.verify(backend, algorithm, &other_message, cert.signature()),
                invalid,
                "{alg:?} {backend:?}"
            );
        }
    }
}
