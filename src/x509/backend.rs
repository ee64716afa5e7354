//! Which implementation does the public-key arithmetic: aws-lc-rs (feature `aws-lc-rs`, on by
//! default), 2.5–4.6× faster on the machines we measured, or the pure-Rust RustCrypto crates,
//! always compiled and the only one in a `default-features = false` build. Parsing and every
//! policy decision stay in the crate either way; only the arithmetic moves. The randomness is
//! the caller's on both: nothing here reads aws-lc-rs's own RNG.

/// A signature-verification backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto's `rsa`, `p256`, `p384`, `p521` (pure Rust, portable).
    RustCrypto,
    /// aws-lc-rs (feature `aws-lc-rs`, on by default). Algorithm/curve pairs it lacks fall
    /// back to RustCrypto.
    #[cfg(feature = "aws-lc-rs")]
    AwsLcRs,
}

impl Backend {
    /// Every backend this build has, RustCrypto first: for callers (and tests) that check the
    /// backends agree.
    pub const ALL: &'static [Self] = &[
        Self::RustCrypto,
        #[cfg(feature = "aws-lc-rs")]
        Self::AwsLcRs,
    ];

    /// aws-lc-rs when the `aws-lc-rs` feature is on (the default), else RustCrypto.
    #[must_use]
    pub const fn preferred() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        {
            Self::AwsLcRs
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            Self::RustCrypto
        }
    }
}

impl Default for Backend {
    fn default() -> Self {
        Self::preferred()
    }
}

/// aws-lc-rs's parsed form of one key, for the algorithm it was first parsed with. A parsed RSA
/// key carries its Montgomery constants, which aws-lc-rs computes on the first verification
/// (a few percent of one); a registration verifies twice with the same key.
#[cfg(feature = "aws-lc-rs")]
#[derive(Clone, Default)]
pub(crate) struct AwsLcKeyCache(
    std::sync::OnceLock<Option<(crate::x509::algorithm::SignatureAlgorithm, aws_lc_rs::signature::ParsedPublicKey)>>,
);

#[cfg(feature = "aws-lc-rs")]
impl core::fmt::Debug for AwsLcKeyCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AwsLcKeyCache")
    }
}

#[cfg(feature = "aws-lc-rs")]
impl AwsLcKeyCache {
    /// aws-lc-rs verification of `signature` over `message`, or `None` when aws-lc-rs has no
    /// algorithm for this key and signature algorithm (the caller then uses RustCrypto).
    pub(crate) fn verify(
        &self,
        kind: crate::x509::algorithm::KeyKind,
        key: &[u8],
        algorithm: crate::x509::algorithm::SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let params = aws_lc_algorithm(kind, algorithm)?;
        let parse = || aws_lc_rs::signature::UnparsedPublicKey::new(params, key).parse().ok();
        let cached = self.0.get_or_init(|| parse().map(|p| (algorithm, p)));
        match cached {
            Some((alg, parsed)) if *alg == algorithm => Some(parsed.verify_sig(message, signature).is_ok()),
            _ => Some(parse().is_some_and(|p| p.verify_sig(message, signature).is_ok())),
        }
    }
}

/// The aws-lc-rs algorithm for a key kind and signature algorithm, if it has one.
#[cfg(feature = "aws-lc-rs")]
fn aws_lc_algorithm(
    kind: crate::x509::algorithm::KeyKind,
    algorithm: crate::x509::algorithm::SignatureAlgorithm,
) -> Option<&'static dyn aws_lc_rs::signature::VerificationAlgorithm> {
    use aws_lc_rs::signature as s;

    use crate::x509::algorithm::{HashAlgorithm as H, KeyKind as K, SignatureAlgorithm as A};
    Some(match (kind, algorithm) {
        (K::Rsa { .. }, A::RsaPkcs1(H::Sha1)) => &s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (K::Rsa { .. }, A::RsaPkcs1(H::Sha256)) => &s::RSA_PKCS1_2048_8192_SHA256,
        (K::Rsa { .. }, A::RsaPkcs1(H::Sha384)) => &s::RSA_PKCS1_2048_8192_SHA384,
        (K::Rsa { .. }, A::RsaPkcs1(H::Sha512)) => &s::RSA_PKCS1_2048_8192_SHA512,
        (K::Rsa { .. }, A::RsaPss(H::Sha256)) => &s::RSA_PSS_2048_8192_SHA256,
        (K::Rsa { .. }, A::RsaPss(H::Sha384)) => &s::RSA_PSS_2048_8192_SHA384,
        (K::Rsa { .. }, A::RsaPss(H::Sha512)) => &s::RSA_PSS_2048_8192_SHA512,
        (K::P256, A::Ecdsa(H::Sha1)) => &s::ECDSA_P256_SHA1_ASN1,
        (K::P256, A::Ecdsa(H::Sha256)) => &s::ECDSA_P256_SHA256_ASN1,
        (K::P256, A::Ecdsa(H::Sha384)) => &s::ECDSA_P256_SHA384_ASN1,
        (K::P256, A::Ecdsa(H::Sha512)) => &s::ECDSA_P256_SHA512_ASN1,
        (K::P384, A::Ecdsa(H::Sha256)) => &s::ECDSA_P384_SHA256_ASN1,
        (K::P384, A::Ecdsa(H::Sha384)) => &s::ECDSA_P384_SHA384_ASN1,
        (K::P384, A::Ecdsa(H::Sha512)) => &s::ECDSA_P384_SHA512_ASN1,
        (K::P521, A::Ecdsa(H::Sha1)) => &s::ECDSA_P521_SHA1_ASN1,
        (K::P521, A::Ecdsa(H::Sha256)) => &s::ECDSA_P521_SHA256_ASN1,
        (K::P521, A::Ecdsa(H::Sha384)) => &s::ECDSA_P521_SHA384_ASN1,
        (K::P521, A::Ecdsa(H::Sha512)) => &s::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}
