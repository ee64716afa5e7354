//! GetRegistrationCode (rule 2): generate a code from the caller's RNG, or parse one.

use core::fmt;

use rand_core::CryptoRng;

use crate::error::{Error, RegistrationCodeError};
use crate::model::certificate_id::hex_lower;

/// Length of a registration code in characters.
pub const REGISTRATION_CODE_LEN: usize = 64;

/// An account's registration code: 64 lowercase hex characters (32 random bytes).
///
/// The verification certificate's commonName must equal it byte for byte, so `0x` prefixes and
/// upper case are refused rather than normalised (rule 2).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegistrationCode(String);

impl RegistrationCode {
    /// A fresh code from 32 bytes of the caller's RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; REGISTRATION_CODE_LEN / 2];
        rng.fill_bytes(&mut bytes);
        Self(hex_lower(&bytes))
    }

    /// Parses a code given by the caller.
    ///
    /// # Errors
    /// [`RegistrationCodeError::Malformed`] unless the text is exactly 64 characters of
    /// `0-9a-f` (InvalidRequestException).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let ok = text.len() == REGISTRATION_CODE_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            let len = text.chars().take(REGISTRATION_CODE_LEN * 4).count();
            Err(RegistrationCodeError::Malformed { len }.into())
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl rand_core::TryRng for Counter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(u32::from(self.0))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(u64::from(self.0))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Counter {}

    #[test]
    fn generated_codes_are_64_lowercase_hex_from_the_rng() {
        let code = RegistrationCode::generate(&mut Counter(0));
        assert_eq!(code.as_str(), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        assert_eq!(RegistrationCode::parse(code.as_str()), Ok(code));
    }

    #[test]
    fn parse_refuses_case_prefix_and_length() {
        let good = "ab".repeat(32);
        assert!(RegistrationCode::parse(&good).is_ok());
        for bad in
            [good.to_uppercase(), format!("0x{}", &good[2..]), good[1..].to_owned(), format!("{good}0"), String::new()]
        {
            let len = bad.chars().count();
            assert_eq!(
                RegistrationCode::parse(&bad),
                Err(Error::RegistrationCode(RegistrationCodeError::Malformed { len }))
            );
        }
    }
}
