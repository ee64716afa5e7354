#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ca;
mod cert;
mod certificate_id;
mod error;
mod exception;
mod key;
mod pem;
mod policy;
mod time;
mod tlv;

pub use ca::{Finding, MAX_SERIAL_OCTETS, VerifiedCa};
pub use cert::{ParsedCertificate, Version};
pub use certificate_id::{CERTIFICATE_ID_LEN, CertificateId};
pub use error::{
    CaError, Error, KeyError, ParseError, PemError, RegistrationCodeError, SignatureError, ValidityError,
    VerificationError,
};
pub use exception::{Exception, ExceptionKind};
pub use key::{HashAlgorithm, KeyKind, PublicKey, RSA_MAX_BITS, RSA_MIN_BITS, SignatureAlgorithm, verify_signed_data};
pub use pem::MAX_PEM_CHARS;
pub use policy::Policy;
pub use time::UnixTime;
