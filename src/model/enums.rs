//! certificateMode (rule 1.1, rule 1.4).

crate::model::wire_enum::wire_enum! {
    /// How devices present certificates issued by the CA.
    #[derive(Default)]
    pub enum CertificateMode (member "certificateMode") {
        /// The registration needs a verification certificate (proof of possession).
        #[default]
        Default = "DEFAULT",
        /// No verification certificate; the CA may be registered in several accounts.
        SniOnly = "SNI_ONLY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, RequestError};

    #[test]
    fn modes_parse_exactly() {
        assert_eq!("DEFAULT".parse::<CertificateMode>(), Ok(CertificateMode::Default));
        assert_eq!("SNI_ONLY".parse::<CertificateMode>(), Ok(CertificateMode::SniOnly));
        for bad in ["default", "sni_only", "", "SNI"] {
            assert!(
                matches!(
                    CertificateMode::parse(bad, "certificateMode"),
                    Err(Error::Request(RequestError::Enum { .. }))
                ),
                "{bad}"
            );
        }
    }
}
