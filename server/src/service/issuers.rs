//! The certificate-issuing CAs of a scope: the claim issuer (CreateProvisioningClaim) and the
//! device issuer (CreateKeysAndCertificate, CreateCertificateFromCsr, fleet provisioning). Each
//! is the one given at start, or one made on first use and kept in the store (every process
//! sharing the store then uses the one stored first). Keys are P-256.

use iot_ca::{AccountScope, CertificateStatus, IssueParams, IssuedCertificate, ParsedCertificate, PublicKey, UnixTime};

use super::{ServiceConfig, blocking, now};
use crate::error::ApiError;
use crate::store::ops::{self, IssuerKind};
use crate::store::{IssuerRecord, Store};

/// Lifetime of an issuer the server makes: thirty years, past the 2049 end of the device
/// certificates it signs.
const ISSUER_LIFETIME_SECS: i64 = 30 * 365 * 86_400;

const fn subject(kind: IssuerKind) -> &'static str {
    match kind {
        IssuerKind::Claim => "CN=iot-ca-server claim issuer,O=iot-ca",
        IssuerKind::Device => "CN=iot-ca-server device issuer,O=iot-ca",
    }
}

/// An issuer ready to sign: its certificate and its key.
pub struct Issuer {
    /// The CA certificate.
    pub certificate: ParsedCertificate,
    /// Its P-256 key.
    pub key: p256::ecdsa::SigningKey,
}

impl Issuer {
    /// Reads an issuer's PEM: a CA certificate and its P-256 key (PKCS#8 or SEC1), the key the
    /// certificate's.
    ///
    /// # Errors
    /// A sentence saying which part is wrong (the server refuses to start with it).
    pub fn from_record(record: &IssuerRecord) -> Result<Self, String> {
        use p256::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let certificate = ParsedCertificate::from_pem(&record.certificate_pem)
            .map_err(|e| format!("the issuer certificate does not parse: {e}"))?;
        let secret = p256::SecretKey::from_pkcs8_pem(&record.key_pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(&record.key_pem))
            .map_err(|_| "the issuer key is not a P-256 private key (PKCS#8 or SEC1 PEM)".to_owned())?;
        let spki = secret.public_key().to_public_key_der().map_err(|e| e.to_string())?;
        if spki.as_bytes() != certificate.spki_der() {
            return Err("the issuer key is not the issuer certificate's key".to_owned());
        }
        PublicKey::from_spki_der(certificate.spki_der()).map_err(|e| format!("the issuer's key: {e}"))?;
        Ok(Self { certificate, key: p256::ecdsa::SigningKey::from(secret) })
    }
}

/// A fresh P-256 issuer of `kind`: the key and its self-signed CA certificate, both PEM.
fn fresh(kind: IssuerKind, at: UnixTime) -> Result<IssuerRecord, ApiError> {
    use p256::elliptic_curve::Generate;
    use p256::pkcs8::EncodePrivateKey;
    let mut rng = rand::rng();
    let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
    let not_after = at.checked_add(ISSUER_LIFETIME_SECS).ok_or_else(|| ApiError::internal("clock out of range"))?;
    let params = iot_ca::CaCertificateParams::new(subject(kind), not_after);
    let der = iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &key, &mut rng, at)
        .map_err(iot_ca::Error::from)?;
    let certificate_pem =
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der).map_err(ApiError::internal)?;
    let secret = p256::SecretKey::from(key);
    let key_pem = secret.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).map_err(ApiError::internal)?.to_string();
    Ok(IssuerRecord { certificate_pem, key_pem })
}

/// The scope's issuer of `kind`: `configured` when the server was started with one, else the
/// stored one, made and stored on first use.
///
/// # Errors
/// The store's, or an issuer record that does not read (InternalFailure).
pub async fn scope_issuer<S: Store>(
    store: &S,
    scope: &AccountScope,
    kind: IssuerKind,
    configured: Option<&IssuerRecord>,
) -> Result<IssuerRecord, ApiError> {
    if let Some(issuer) = configured {
        return Ok(issuer.clone());
    }
    let read = scope.clone();
    if let Some(stored) = store.lookup(move |tx| ops::issuer(tx, &read, kind)).await? {
        return Ok(stored);
    }
    let at = now();
    let made = blocking(move || fresh(kind, at)).await??;
    let scope = scope.clone();
    store.write(move |tx| ops::issuer_or_insert(tx, &scope, kind, &made)).await
}

/// A device certificate from the scope's device issuer (`configured`, or the stored one), with
/// `status`: for a new RSA-2048 key pair when `csr` is `None` (CreateKeysAndCertificate), else
/// for the key of the CSR, which is checked first (CreateCertificateFromCsr, RegisterThing's
/// CSR, fleet provisioning). The key generation and signatures run off the async workers.
///
/// # Errors
/// The CSR's (CertificateValidation / InvalidRequest), the issuance's, the store's.
pub async fn issue_device_certificate<S: Store>(
    store: &S,
    scope: &AccountScope,
    config: &ServiceConfig,
    csr: Option<String>,
    status: CertificateStatus,
    at: UnixTime,
) -> Result<IssuedCertificate, ApiError> {
    let record = scope_issuer(store, scope, IssuerKind::Device, config.device_issuer.as_ref()).await?;
    let scope = scope.clone();
    config
        .heavy
        .run(move || -> Result<IssuedCertificate, ApiError> {
            let issuer = Issuer::from_record(&record).map_err(ApiError::internal)?;
            let params = IssueParams::new(&issuer.certificate, status);
            let mut rng = rand::rng();
            let issued = match csr {
                None => iot_ca::create_keys_and_certificate::<_, p256::ecdsa::DerSignature, _>(
                    &params,
                    &issuer.key,
                    &scope,
                    &mut rng,
                    at,
                )?,
                Some(pem) => {
                    let csr = iot_ca::ParsedCsr::from_pem(&pem)
                        .and_then(|c| c.verify(params.backend))
                        .map_err(iot_ca::Error::from)?;
                    iot_ca::create_certificate_from_csr::<_, p256::ecdsa::DerSignature, _>(
                        &params,
                        &csr,
                        &issuer.key,
                        &scope,
                        &mut rng,
                        at,
                    )?
                }
            };
            Ok(issued)
        })
        .await?
}
