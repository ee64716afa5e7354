//! Bounded PEM input (SPEC §1.2): one `CERTIFICATE` block in, DER bytes out.

use crate::error::PemError;

/// Largest accepted certificate field, in characters. AWS model: `CertificatePem` max 65536.
pub const MAX_PEM_CHARS: usize = 65_536;

/// The only PEM label a certificate field may carry (RFC 7468 §5.1).
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// Checks the length bound of a certificate field (1..=[`MAX_PEM_CHARS`] characters) without
/// looking at more of the input than the bound needs.
pub(crate) fn check_length(text: &str) -> Result<(), PemError> {
    if text.is_empty() {
        return Err(PemError::Empty);
    }
    // A char is at most 4 bytes: past 4 * MAX bytes the field is too long whatever it holds.
    if text.len() > 4 * MAX_PEM_CHARS {
        return Err(PemError::TooLong { len: text.len(), max: MAX_PEM_CHARS });
    }
    if text.len() > MAX_PEM_CHARS {
        let len = text.chars().count();
        if len > MAX_PEM_CHARS {
            return Err(PemError::TooLong { len, max: MAX_PEM_CHARS });
        }
    }
    Ok(())
}

/// Decodes a field that must hold exactly one `CERTIFICATE` PEM block (RFC 7468), with
/// optional explanatory text around it and LF or CRLF line endings.
///
/// # Errors
/// [`PemError`] naming what was found instead: nothing, several blocks, another label,
/// a block without its end line, or bad base64.
pub(crate) fn decode_certificate(text: &str) -> Result<Vec<u8>, PemError> {
    check_length(text)?;
    let mut begins = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(label) = boundary(line, "-----BEGIN ") {
            begins.push((offset, label));
        }
        offset += line.len();
    }
    let (start, label) = match begins.as_slice() {
        [] => return Err(PemError::NoBlock),
        [one] => *one,
        more => return Err(PemError::MultipleBlocks { count: more.len() }),
    };
    if label != CERTIFICATE_LABEL {
        return Err(PemError::WrongLabel { label: label.chars().take(64).collect() });
    }
    let mut end = None;
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        offset += line.len();
        if boundary(line, "-----END ") == Some(label) {
            end = Some(offset);
            break;
        }
    }
    let end = end.ok_or(PemError::Truncated)?;
    let block = text[start..end].trim_end_matches(['\r', '\n', ' ', '\t']);
    let (found, der) = pem_rfc7468::decode_vec(block.as_bytes()).map_err(|e| match e {
        pem_rfc7468::Error::Base64(_) => PemError::Base64,
        _ => PemError::Malformed,
    })?;
    if found != CERTIFICATE_LABEL {
        return Err(PemError::Malformed);
    }
    if der.is_empty() {
        return Err(PemError::Malformed);
    }
    Ok(der)
}

/// One canonical `CERTIFICATE` PEM block (64-column base64, LF line endings) for `der`.
pub(crate) fn encode_certificate(der: &[u8]) -> String {
    // Encoding cannot fail for a label this short; fall back to an empty string rather than panic.
    pem_rfc7468::encode_string(CERTIFICATE_LABEL, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// The label of an encapsulation boundary line (`-----BEGIN X-----`), if `line` is one.
fn boundary<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim_end_matches(['\r', '\n', ' ', '\t']).strip_prefix(prefix)?.strip_suffix("-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "MAMCAQA=";

    fn block(label: &str) -> String {
        format!("-----BEGIN {label}-----\n{BODY}\n-----END {label}-----\n")
    }

    #[test]
    fn one_block_with_text_and_crlf() {
        let text = format!("Subject: x\r\n{}", block("CERTIFICATE").replace('\n', "\r\n"));
        assert_eq!(decode_certificate(&text), Ok(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        let text = format!("{}trailing words\n", block("CERTIFICATE"));
        assert_eq!(decode_certificate(&text), Ok(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
    }

    #[test]
    fn each_bad_shape_is_named() {
        assert_eq!(decode_certificate(""), Err(PemError::Empty));
        assert_eq!(decode_certificate("not a pem"), Err(PemError::NoBlock));
        let two = format!("{}{}", block("CERTIFICATE"), block("CERTIFICATE"));
        assert_eq!(decode_certificate(&two), Err(PemError::MultipleBlocks { count: 2 }));
        assert_eq!(
            decode_certificate(&block("PRIVATE KEY")),
            Err(PemError::WrongLabel { label: "PRIVATE KEY".into() })
        );
        assert_eq!(
            decode_certificate(&block("CERTIFICATE REQUEST")),
            Err(PemError::WrongLabel { label: "CERTIFICATE REQUEST".into() })
        );
        let cut = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n";
        assert_eq!(decode_certificate(cut), Err(PemError::Truncated));
        let bad = block("CERTIFICATE").replace(BODY, "MA*CAQA=");
        assert_eq!(decode_certificate(&bad), Err(PemError::Base64));
    }

    #[test]
    fn length_bound_at_n_and_n_plus_one() {
        let pad = |n: usize| {
            let b = block("CERTIFICATE");
            format!("{}\n{b}", "x".repeat(n - b.len() - 1))
        };
        assert_eq!(pad(MAX_PEM_CHARS).chars().count(), MAX_PEM_CHARS);
        assert!(decode_certificate(&pad(MAX_PEM_CHARS)).is_ok());
        assert_eq!(
            decode_certificate(&pad(MAX_PEM_CHARS + 1)),
            Err(PemError::TooLong { len: MAX_PEM_CHARS + 1, max: MAX_PEM_CHARS })
        );
        let wide = "é".repeat(MAX_PEM_CHARS);
        assert_eq!(check_length(&wide), Ok(()));
    }
}
