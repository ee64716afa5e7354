//! Loading issuing keys from PEM (PKCS#8, PKCS#1 or SEC1) and signing through them.

use iot_ca::{ClaimParams, Error, ProvisioningClaim, UnixTime, VerificationCertificateParams};
use p256::pkcs8::DecodePrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;

/// An issuing key: RSA (PKCS#1 v1.5 with SHA-256), ECDSA P-256 or P-384.
pub enum Signer {
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl Signer {
    /// Reads a private key PEM: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC1), RSA or EC P-256/P-384.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let rsa_signer = |k: rsa::PrivateKey| Self::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)));
        let begin = text.find("-----BEGIN ").ok_or("no PEM block found in the key file")?;
        let block = &text[begin..];
        let label = block["-----BEGIN ".len()..].split("-----").next().unwrap_or_default();
        match label {
            "RSA PRIVATE KEY" => {
                rsa::PrivateKey::from_pkcs1_pem(block).map(rsa_signer).map_err(|e| format!("PKCS#1 key: {e}"))
            }
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_pem(block)
                .map(|k| Self::P256(k.into()))
                .or_else(|_| p384::SecretKey::from_sec1_pem(block).map(|k| Self::P384(k.into())))
                .map_err(|e| format!("SEC1 key (P-256 or P-384 expected): {e}")),
            "PRIVATE KEY" => rsa::PrivateKey::from_pkcs8_pem(block)
                .map(rsa_signer)
                .or_else(|_| p256::SecretKey::from_pkcs8_pem(block).map(|k| Self::P256(k.into())))
                .or_else(|_| p384::SecretKey::from_pkcs8_pem(block).map(|k| Self::P384(k.into())))
                .map_err(|e| format!("PKCS#8 key (RSA, P-256 or P-384 expected): {e}")),
            other => Err(format!("unsupported key PEM label '{other}'")),
        }
    }

    pub fn verification_certificate(
        &self,
        params: &VerificationCertificateParams<'_>,
        rng: &mut rand::rngs::ThreadRng,
        now: UnixTime,
    ) -> Result<Vec<u8>, Error> {
        use iot_ca::create_verification_certificate as make;
        match self {
            Self::Rsa(k) => make::<_, rsa::pkcs1v15::Signature, _>(params, k.as_ref(), rng, now),
            Self::P256(k) => make::<_, p256::ecdsa::DerSignature, _>(params, k, rng, now),
            Self::P384(k) => make::<_, p384::ecdsa::DerSignature, _>(params, k, rng, now),
        }
    }

    pub fn claim(
        &self,
        params: &ClaimParams<'_>,
        rng: &mut rand::rngs::ThreadRng,
        now: UnixTime,
    ) -> Result<ProvisioningClaim, Error> {
        use iot_ca::create_provisioning_claim as make;
        match self {
            Self::Rsa(k) => make::<_, rsa::pkcs1v15::Signature, _>(params, k.as_ref(), rng, now),
            Self::P256(k) => make::<_, p256::ecdsa::DerSignature, _>(params, k, rng, now),
            Self::P384(k) => make::<_, p384::ecdsa::DerSignature, _>(params, k, rng, now),
        }
    }

    pub fn certificate_from_csr(
        &self,
        params: &iot_ca::IssueParams<'_>,
        csr: &iot_ca::VerifiedCsr,
        scope: &iot_ca::AccountScope,
        rng: &mut rand::rngs::ThreadRng,
        now: UnixTime,
    ) -> Result<iot_ca::IssuedCertificate, Error> {
        use iot_ca::create_certificate_from_csr as make;
        match self {
            Self::Rsa(k) => make::<_, rsa::pkcs1v15::Signature, _>(params, csr, k.as_ref(), scope, rng, now),
            Self::P256(k) => make::<_, p256::ecdsa::DerSignature, _>(params, csr, k, scope, rng, now),
            Self::P384(k) => make::<_, p384::ecdsa::DerSignature, _>(params, csr, k, scope, rng, now),
        }
    }
}
