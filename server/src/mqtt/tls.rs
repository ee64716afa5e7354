//! TLS for the device endpoint: the server's certificate (given, or made once and kept in the
//! store so every process sharing it serves the same), and a client-certificate verifier that
//! decides nothing.
//!
//! AWS IoT completes the handshake with a certificate it has never seen and refuses the device
//! at the MQTT layer (CONNACK), where it can say why. So the verifier requests a certificate
//! without requiring one, accepts any chain, and checks only that the client holds the key of
//! the certificate it presented (the handshake signature); the registry decides after the
//! handshake, at CONNECT.
//!
//! The signature is checked against the certificate's public key as the library reads it, not
//! through webpki's end-entity parser, which refuses X.509 v1 certificates: `openssl x509 -req`
//! without extensions makes v1 device certificates, and AWS IoT accepts them.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Decode;
use der::asn1::{AnyRef, BitStringRef};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, verify_tls13_signature_with_raw_key};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

use crate::error::ApiError;
use crate::store::Store;
use crate::store::devices::{self, TlsIdentityRecord};

/// The name the store keeps the root under.
const ROOT: &str = "root";
/// The root's subject commonName.
const ROOT_COMMON_NAME: &str = "iot-ca-server device endpoint root";
/// The root's lifetime: twenty years.
const ROOT_LIFETIME: Duration = Duration::from_secs(20 * 365 * 86_400);
/// A server certificate's lifetime: ten years (a private root; no browser rule applies).
const SERVER_LIFETIME: Duration = Duration::from_secs(10 * 365 * 86_400);
/// How far before now a certificate made here starts to be valid (clocks differ).
const BACKDATE: Duration = Duration::from_secs(3600);

/// Accepts any client certificate chain and verifies only the handshake signature, with the
/// provider's algorithms. Offered, not required: a client without a certificate is refused at
/// CONNECT, with a reason.
#[derive(Debug)]
pub struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyClientCertificate {
    /// The verifier, with `provider`'s signature algorithms.
    #[must_use]
    pub fn new(provider: &CryptoProvider) -> Self {
        Self { algorithms: provider.signature_verification_algorithms }
    }
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: a client then sends whatever certificate it has (RFC 8446 §4.3.2).
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    /// As rustls' `verify_tls12_signature`: every algorithm the provider maps the scheme to whose
    /// public-key algorithm is the key's is tried.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let spki = public_key_of(cert)?;
        let (algorithm, key) = spki_parts(&spki)?;
        let candidates = self.algorithms.mapping.iter().filter(|(scheme, _)| *scheme == dss.scheme);
        let verified = candidates
            .flat_map(|(_, algorithms)| algorithms.iter())
            .filter(|a| a.public_key_alg_id().as_ref() == algorithm)
            .any(|a| a.verify_signature(key, message, dss.signature()).is_ok());
        if verified {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature))
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let spki = public_key_of(cert)?;
        verify_tls13_signature_with_raw_key(
            message,
            &SubjectPublicKeyInfoDer::from(spki.as_slice()),
            dss,
            &self.algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn bad_encoding() -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
}

/// The certificate's SubjectPublicKeyInfo (DER), read by the library's strict parser (the one
/// the connect decision reads it with).
fn public_key_of(cert: &CertificateDer<'_>) -> Result<Vec<u8>, rustls::Error> {
    let parsed = iot_ca::ParsedCertificate::from_der(cert.as_ref().to_vec()).map_err(|_| bad_encoding())?;
    Ok(parsed.spki_der().to_vec())
}

/// A SubjectPublicKeyInfo's AlgorithmIdentifier contents and its key bits (RFC 5280 §4.1).
fn spki_parts(spki: &[u8]) -> Result<(&[u8], &[u8]), rustls::Error> {
    let outer = AnyRef::from_der(spki).map_err(|_| bad_encoding())?;
    let mut reader = der::SliceReader::new(outer.value()).map_err(|_| bad_encoding())?;
    let algorithm = AnyRef::decode(&mut reader).map_err(|_| bad_encoding())?;
    let key = BitStringRef::decode(&mut reader).map_err(|_| bad_encoding())?;
    Ok((algorithm.value(), key.as_bytes().ok_or_else(bad_encoding)?))
}

/// What the endpoint presents: its certificate chain and key, and the root a device trusts
/// (written to `--tls-root-out`) when the server made them.
#[derive(Clone)]
pub struct ServerIdentity {
    /// The chain, the server certificate first.
    pub chain: Vec<CertificateDer<'static>>,
    /// Its private key, PEM.
    key_pem: String,
    /// The root that signed it, PEM, when the server made it.
    pub root_pem: Option<String>,
}

impl core::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerIdentity").field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// The chain and key given as PEM (`--tls-cert`, `--tls-key`).
    ///
    /// # Errors
    /// A sentence when either does not read.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, String> {
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the certificate chain does not read: {e}"))?;
        if chain.is_empty() {
            return Err("the certificate file holds no CERTIFICATE block".into());
        }
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| format!("the key does not read: {e}"))?;
        Ok(Self { chain, key_pem: key_pem.to_owned(), root_pem: None })
    }

    /// The root and the server certificate for `endpoint_address` kept in `store`, made and
    /// stored first when absent (the first process to store one wins). The certificate names
    /// `endpoint_address`, `*.<endpoint address>` (so `<accountId>.<endpoint address>` works),
    /// `localhost` and `127.0.0.1`.
    ///
    /// # Errors
    /// The store's; a certificate that cannot be made for `endpoint_address` (not a DNS name
    /// or IP address) is InternalFailure with the reason in the log.
    pub async fn kept_in<S: Store>(store: &S, endpoint_address: &str) -> Result<Self, ApiError> {
        let root = match store.read(|tx| devices::tls_identity(tx, ROOT)).await? {
            Some(root) => root,
            None => {
                let fresh = crate::service::blocking(|| new_root(SystemTime::now())).await??;
                store.write(move |tx| devices::tls_identity_or_insert(tx, ROOT, &fresh)).await?
            }
        };
        let name = format!("server/{}", endpoint_address.to_ascii_lowercase());
        let looked_up = name.clone();
        let server = match store.read(move |tx| devices::tls_identity(tx, &looked_up)).await? {
            Some(server) => server,
            None => {
                let (signer, address) = (root.clone(), endpoint_address.to_owned());
                let fresh =
                    crate::service::blocking(move || new_server(&signer, &address, SystemTime::now())).await??;
                store.write(move |tx| devices::tls_identity_or_insert(tx, &name, &fresh)).await?
            }
        };
        let mut identity = Self::from_pem(&server.certificate_pem, &server.key_pem).map_err(ApiError::internal)?;
        identity.root_pem = Some(root.certificate_pem);
        Ok(identity)
    }

    /// The rustls configuration: TLS 1.3 and 1.2 with aws-lc-rs, this identity, and
    /// [`AnyClientCertificate`].
    ///
    /// # Errors
    /// A sentence when rustls refuses the key (a type aws-lc-rs does not sign with).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(AnyClientCertificate::new(&provider));
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|e| format!("the key: {e}"))?;
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS versions: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), key)
            .map_err(|e| format!("the server certificate and key: {e}"))?;
        Ok(Arc::new(config))
    }
}

fn offset(t: SystemTime) -> Result<time::OffsetDateTime, ApiError> {
    let secs = t.duration_since(UNIX_EPOCH).map_err(ApiError::internal)?.as_secs();
    let secs = i64::try_from(secs).map_err(ApiError::internal)?;
    time::OffsetDateTime::from_unix_timestamp(secs).map_err(ApiError::internal)
}

/// The validity of a certificate made at `now` for `lifetime`.
fn validity(now: SystemTime, lifetime: Duration) -> Result<(time::OffsetDateTime, time::OffsetDateTime), ApiError> {
    let start = now.checked_sub(BACKDATE).ok_or_else(|| ApiError::internal("clock out of range"))?;
    let end = now.checked_add(lifetime).ok_or_else(|| ApiError::internal("clock out of range"))?;
    Ok((offset(start)?, offset(end)?))
}

/// The root's subject: fixed, so a server certificate made by any process names the stored
/// root as its issuer.
fn root_name() -> rcgen::DistinguishedName {
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, ROOT_COMMON_NAME);
    name.push(rcgen::DnType::OrganizationName, "iot-ca");
    name
}

fn root_params() -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = root_name();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    params
}

fn rcgen_error(e: rcgen::Error) -> ApiError {
    ApiError::internal(format_args!("making the TLS certificate: {e}"))
}

/// A fresh P-256 root, self-signed.
fn new_root(now: SystemTime) -> Result<TlsIdentityRecord, ApiError> {
    let key = rcgen::KeyPair::generate().map_err(rcgen_error)?;
    let mut params = root_params();
    (params.not_before, params.not_after) = validity(now, ROOT_LIFETIME)?;
    let certificate = params.self_signed(&key).map_err(rcgen_error)?;
    Ok(TlsIdentityRecord { certificate_pem: certificate.pem(), key_pem: key.serialize_pem() })
}

/// The names a server certificate for `endpoint_address` carries.
fn server_names(endpoint_address: &str) -> Vec<String> {
    let address = endpoint_address.to_ascii_lowercase();
    let mut names = vec![address.clone()];
    if address.parse::<std::net::IpAddr>().is_err() {
        names.push(format!("*.{address}"));
    }
    for fixed in ["localhost", "127.0.0.1"] {
        if !names.iter().any(|n| n == fixed) {
            names.push(fixed.to_owned());
        }
    }
    names
}

/// A fresh P-256 server certificate for `endpoint_address`, signed by `root`.
fn new_server(
    root: &TlsIdentityRecord,
    endpoint_address: &str,
    now: SystemTime,
) -> Result<TlsIdentityRecord, ApiError> {
    let root_key = rcgen::KeyPair::from_pem(&root.key_pem).map_err(rcgen_error)?;
    let issuer = rcgen::Issuer::new(root_params(), root_key);
    let key = rcgen::KeyPair::generate().map_err(rcgen_error)?;
    let mut params = rcgen::CertificateParams::new(server_names(endpoint_address)).map_err(rcgen_error)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, endpoint_address);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    (params.not_before, params.not_after) = validity(now, SERVER_LIFETIME)?;
    let certificate = params.signed_by(&key, &issuer).map_err(rcgen_error)?;
    // The issuer is rebuilt from the fixed root name: check it names the stored root.
    let made = iot_ca::ParsedCertificate::from_der(certificate.der().to_vec()).map_err(ApiError::internal)?;
    let stored = iot_ca::ParsedCertificate::from_pem(&root.certificate_pem).map_err(ApiError::internal)?;
    if made.issuer_der() != stored.subject_der() {
        return Err(ApiError::internal("the stored TLS root's subject is not the one this server makes"));
    }
    Ok(TlsIdentityRecord { certificate_pem: certificate.pem(), key_pem: key.serialize_pem() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_key_splits_into_its_algorithm_and_bits() {
        use rcgen::PublicKeyData;
        let key = rcgen::KeyPair::generate().unwrap();
        let spki = key.subject_public_key_info();
        let (algorithm, bits) = spki_parts(&spki).unwrap();
        assert_eq!(algorithm, rustls::pki_types::alg_id::ECDSA_P256.as_ref());
        assert_eq!(bits, key.public_key_raw());
        assert!(spki_parts(&spki[..spki.len() - 1]).is_err());
        assert!(public_key_of(&CertificateDer::from(vec![0x30, 0x00])).is_err());
    }

    #[test]
    fn server_certificates_name_the_endpoint_its_accounts_and_loopback() {
        assert_eq!(server_names("iot.example"), ["iot.example", "*.iot.example", "localhost", "127.0.0.1"]);
        assert_eq!(server_names("localhost"), ["localhost", "*.localhost", "127.0.0.1"]);
        assert_eq!(server_names("10.0.0.1"), ["10.0.0.1", "localhost", "127.0.0.1"]);
    }

    #[test]
    fn a_made_server_certificate_chains_to_the_made_root_and_serves() {
        let now = SystemTime::now();
        let root = new_root(now).unwrap();
        let server = new_server(&root, "iot.example", now).unwrap();
        let identity = ServerIdentity::from_pem(&server.certificate_pem, &server.key_pem).unwrap();
        identity.server_config().unwrap();
        let made = iot_ca::ParsedCertificate::from_pem(&server.certificate_pem).unwrap();
        let root = iot_ca::ParsedCertificate::from_pem(&root.certificate_pem).unwrap();
        assert_eq!(made.issuer_der(), root.subject_der());
        assert!(ServerIdentity::from_pem("", &server.key_pem).is_err());
        assert!(ServerIdentity::from_pem(&server.certificate_pem, "not a key").is_err());
    }
}
