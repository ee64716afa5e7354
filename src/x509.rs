//! Strict X.509, with no AWS word: the DER cursor, PEM, the certificate view, the
//! certification request (PKCS#10) view, algorithms and keys, the signature backends,
//! certificate times, and issuing certificates. Each file owns its error type, as `der` and
//! `x509-cert` do; [`crate::Error`] lifts them.

pub(crate) mod algorithm;
pub(crate) mod backend;
pub(crate) mod cert;
pub(crate) mod csr;
pub(crate) mod issue;
pub(crate) mod key;
pub(crate) mod pem;
pub(crate) mod self_signed;
pub(crate) mod time;
pub(crate) mod tlv;
