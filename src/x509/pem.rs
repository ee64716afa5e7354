//! Bounded PEM input (rule 1.2): one `CERTIFICATE` block in, DER bytes out; and the same
//! decoder for a certification request's `CERTIFICATE REQUEST` block.

use core::fmt;

/// Largest accepted certificate field, in characters: the service model's `CertificatePem` max 65536.
pub const MAX_PEM_CHARS: usize = 65_536;

/// Largest accepted certification request field, in characters: the service model's
/// `CertificateSigningRequest` (iot-2015-05-28, CreateCertificateFromCsr) is 1..=4096.
pub const MAX_CSR_PEM_CHARS: usize = 4_096;

/// What a PEM field holds: the label of its block (RFC 7468 §5.1, §7), other labels tools
/// write for the same content, the field's length bound, and what messages call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PemKind {
    label: &'static str,
    aliases: &'static [&'static str],
    max_chars: usize,
    noun: &'static str,
}

impl PemKind {
    fn accepts(&self, label: &str) -> bool {
        label == self.label || self.aliases.contains(&label)
    }
}

/// A certificate field: one `CERTIFICATE` block (RFC 7468 §5.1), at most [`MAX_PEM_CHARS`].
pub(crate) const CERTIFICATE: PemKind =
    PemKind { label: "CERTIFICATE", aliases: &[], max_chars: MAX_PEM_CHARS, noun: "certificate" };

/// A certification request field: one `CERTIFICATE REQUEST` block (RFC 7468 §7), or `NEW
/// CERTIFICATE REQUEST` as `openssl req -newhdr`, Windows certreq and older tools write it
/// (RFC 7468 §7: parsers MAY treat the two as equivalent), at most [`MAX_CSR_PEM_CHARS`].
pub(crate) const CERTIFICATE_REQUEST: PemKind = PemKind {
    label: "CERTIFICATE REQUEST",
    aliases: &["NEW CERTIFICATE REQUEST"],
    max_chars: MAX_CSR_PEM_CHARS,
    noun: "certificate request",
};

/// Checks the length bound of a certificate field (1..=[`MAX_PEM_CHARS`] characters) without
/// looking at more of the input than the bound needs.
pub(crate) fn check_length(text: &str) -> Result<(), PemError> {
    check_length_within(text, MAX_PEM_CHARS)
}

/// Checks that `text` holds 1..=`max` characters, looking at no more of it than the bound needs.
fn check_length_within(text: &str, max: usize) -> Result<(), PemError> {
    if text.is_empty() {
        return Err(PemError::Empty);
    }
    // A char is at most 4 bytes: past 4 * max bytes the field is too long whatever it holds.
    if text.len() > max.saturating_mul(4) {
        return Err(PemError::TooLong { len: text.len(), max });
    }
    if text.len() > max {
        let len = text.chars().count();
        if len > max {
            return Err(PemError::TooLong { len, max });
        }
    }
    Ok(())
}

/// Decodes a field that must hold exactly one `CERTIFICATE` PEM block (RFC 7468), with
/// optional explanatory text around it and LF or CRLF line endings. The body may be wrapped at
/// any width (RFC 7468 §3's lax reading); it is decoded with a SIMD base64 decoder (padded,
/// canonical: non-zero trailing bits are refused), as a certificate is public and needs no
/// constant-time decoding.
///
/// # Errors
/// [`PemError`] naming what was found instead: nothing, several blocks, another label,
/// a block without its end line, or bad base64.
pub(crate) fn decode_certificate(text: &str) -> Result<Vec<u8>, PemError> {
    decode(text, &CERTIFICATE)
}

/// Decodes a field that must hold exactly one `CERTIFICATE REQUEST` (or `NEW CERTIFICATE
/// REQUEST`) PEM block, at most [`MAX_CSR_PEM_CHARS`] characters, as [`decode_certificate`]
/// decodes a certificate's.
///
/// # Errors
/// [`PemError`], as for [`decode_certificate`].
pub(crate) fn decode_certificate_request(text: &str) -> Result<Vec<u8>, PemError> {
    decode(text, &CERTIFICATE_REQUEST)
}

/// Decodes a field that must hold exactly one PEM block of `kind`.
fn decode(text: &str, kind: &PemKind) -> Result<Vec<u8>, PemError> {
    check_length_within(text, kind.max_chars)?;
    let mut begins = 0;
    let mut label = None;
    let mut body = Vec::with_capacity(text.len());
    let mut state = Block::Before;
    for line in lines(text) {
        // Only a line that starts with '-' can be a boundary; the body lines skip both tests.
        if line.starts_with('-') {
            if let Some(found) = boundary(line, "-----BEGIN ") {
                begins += 1;
                if state == Block::Before {
                    label = Some(found);
                    state = Block::Inside;
                }
                continue;
            }
            if state == Block::Inside && boundary(line, "-----END ") == label {
                state = Block::After;
                continue;
            }
        }
        if state == Block::Inside {
            body.extend_from_slice(trim_blanks(line.as_bytes()));
        }
    }
    let label = match (begins, label) {
        (0, _) | (_, None) => return Err(PemError::NoBlock),
        (1, Some(label)) => label,
        (count, _) => return Err(PemError::MultipleBlocks { count }),
    };
    if !kind.accepts(label) {
        return Err(PemError::WrongLabel { label: label.chars().take(64).collect() });
    }
    if state != Block::After {
        return Err(PemError::Truncated);
    }
    if memchr::memchr(b':', &body).is_some() {
        // RFC 1421 headers (Proc-Type, DEK-Info) have no place in a certificate or request block.
        return Err(PemError::Malformed);
    }
    let der = base64_simd::STANDARD.decode_to_vec(&body).map_err(|_| PemError::Base64)?;
    if der.is_empty() {
        return Err(PemError::Malformed);
    }
    Ok(der)
}

/// Decodes a chain: one or more `CERTIFICATE` blocks, each as [`decode_certificate`] takes
/// one (text between blocks is ignored). The text may be as long as `max` fields.
///
/// # Errors
/// The index of the faulty block and its [`PemError`].
pub(crate) fn decode_certificates(text: &str, max: usize) -> Result<Vec<Vec<u8>>, (usize, PemError)> {
    if text.len() > max.saturating_mul(4 * MAX_PEM_CHARS) {
        return Err((0, PemError::TooLong { len: text.len(), max: max.saturating_mul(MAX_PEM_CHARS) }));
    }
    let mut blocks = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if boundary(line, "-----END ").is_some() {
            blocks.push(&text[start..offset]);
            start = offset;
        }
    }
    if text[start..].contains("-----BEGIN ") || blocks.is_empty() {
        blocks.push(&text[start..]);
    }
    blocks.iter().enumerate().map(|(i, block)| decode_certificate(block).map_err(|e| (i, e))).collect()
}

/// Where the line scan is relative to the (first) block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Before,
    Inside,
    After,
}

/// One canonical `CERTIFICATE` PEM block (64-column base64, LF line endings) for `der`.
pub(crate) fn encode_certificate(der: &[u8]) -> String {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----\n";
    const END: &str = "-----END CERTIFICATE-----\n";
    // One encoder call for the whole body (one per 64-column line costs twice as much), then
    // the lines are copied out of it.
    let body = base64_simd::STANDARD.encode_to_string(der);
    let mut out = String::with_capacity(BEGIN.len() + body.len() + body.len().div_ceil(64) + END.len());
    out.push_str(BEGIN);
    let mut rest = body.as_str();
    while !rest.is_empty() {
        // base64 is ASCII, so any split is on a character boundary.
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(END);
    out
}

/// `text` split on '\n' exactly as `str::split('\n')` splits it, with memchr's SIMD search:
/// `str`'s own char searcher cost a third of a certificate's PEM decoding.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes()).chain(core::iter::once(text.len())).map(move |end| {
        // '\n' is ASCII, so both ends are character boundaries.
        let line = text.get(start..end).unwrap_or_default();
        start = end + 1;
        line
    })
}

/// `line` without the spaces, tabs and carriage returns at either end.
fn trim_blanks(line: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b'\r' | b' ' | b'\t');
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !blank(b)).map_or(start, |i| i + 1);
    line.get(start..end).unwrap_or_default()
}

/// The label of an encapsulation boundary line (`-----BEGIN X-----`), if `line` is one.
fn boundary<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim_end_matches(['\r', '\n', ' ', '\t']).strip_prefix(prefix)?.strip_suffix("-----")
}

/// A PEM field's text is not one well-formed block of the label the field takes: `CERTIFICATE`
/// (rule 1.2), or `CERTIFICATE REQUEST` (rule 10.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// The field is empty.
    Empty,
    /// The field is longer than its bound ([`MAX_PEM_CHARS`], [`MAX_CSR_PEM_CHARS`]).
    TooLong {
        /// Length in characters (or bytes, when far past the bound).
        len: usize,
        /// The bound.
        max: usize,
    },
    /// No `-----BEGIN` line.
    NoBlock,
    /// More than one PEM block.
    MultipleBlocks {
        /// How many `-----BEGIN` lines were found.
        count: usize,
    },
    /// A block with another label (a key, a CSR…).
    WrongLabel {
        /// The label found (at most 64 characters of it).
        label: String,
    },
    /// A `-----BEGIN` line with no matching `-----END` line.
    Truncated,
    /// The block's body is not valid base64.
    Base64,
    /// The block is not laid out as RFC 7468 requires, or holds nothing.
    Malformed,
}

impl PemError {
    /// The sentence for a field that holds `kind`'s blocks: [`Display`](fmt::Display) says it
    /// for a certificate field, a certification request's error for its own field.
    pub(crate) fn fmt_for(&self, f: &mut fmt::Formatter<'_>, kind: &PemKind) -> fmt::Result {
        let PemKind { label, noun, .. } = kind;
        match self {
            Self::Empty => f.write_str("the field is empty"),
            Self::TooLong { len, max } => write!(f, "the field has {len} characters, more than the {max} allowed"),
            Self::NoBlock => write!(f, "no PEM block found: expected one -----BEGIN {label}----- block"),
            Self::MultipleBlocks { count } => write!(f, "{count} PEM blocks found: expected exactly one {noun}"),
            Self::WrongLabel { label: found } => write!(f, "the PEM block is labelled {found}, not {label}"),
            Self::Truncated => write!(f, "the PEM block has no -----END {label}----- line (truncated)"),
            Self::Base64 => f.write_str("the PEM block's body is not valid base64"),
            Self::Malformed => f.write_str("the PEM block is malformed"),
        }
    }
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_for(f, &CERTIFICATE)
    }
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
    fn request_fields_take_either_request_label_and_their_own_bound() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        for label in ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] {
            assert_eq!(decode_certificate_request(&block(label)), Ok(der.clone()));
            assert_eq!(decode_certificate(&block(label)), Err(PemError::WrongLabel { label: label.into() }));
        }
        assert_eq!(
            decode_certificate_request(&block("CERTIFICATE")),
            Err(PemError::WrongLabel { label: "CERTIFICATE".into() })
        );
        let mixed = "-----BEGIN NEW CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n";
        assert_eq!(decode_certificate_request(mixed), Err(PemError::Truncated));
        let long = format!("{}\n{}", "x".repeat(MAX_CSR_PEM_CHARS), block("CERTIFICATE REQUEST"));
        let len = long.len();
        assert_eq!(decode_certificate_request(&long), Err(PemError::TooLong { len, max: MAX_CSR_PEM_CHARS }));
        // The same length is well within a certificate field's bound.
        assert!(decode_certificate(&long.replace("CERTIFICATE REQUEST", "CERTIFICATE")).is_ok());
    }

    #[test]
    fn encoding_is_canonical_rfc_7468() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let pem = encode_certificate(&der);
        assert_eq!(pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der).unwrap(), pem);
        assert_eq!(decode_certificate(&pem), Ok(der));
    }

    /// The SIMD decoder refuses exactly what base64ct (RustCrypto's strict, padded, canonical
    /// decoder) refuses, and agrees with it on the bytes: bodies of the alphabet with some
    /// '=' and strays, of every length up to 12, and the canonical/padding edge cases by name.
    #[test]
    fn body_decoding_agrees_with_base64ct() {
        use base64ct::Encoding;
        let named = ["Zg==", "Zh==", "Zm8=", "Zm9=", "Zg=", "Zg", "Z===", "====", "Zm9v", "Zm=v", "Zg==Zg==", "Zm 9v"];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let random = (0..20_000).map(|_| {
            let len = usize::try_from(next() % 13).unwrap();
            let mut pick = || match next() % 100 {
                0..=5 => '=',
                6..=9 => char::from(b"-_ *"[usize::try_from(next() % 4).unwrap()]),
                _ => char::from(alphabet[usize::try_from(next() % 64).unwrap()]),
            };
            (0..len).map(|_| pick()).collect::<String>()
        });
        let mut accepted = 0;
        for body in named.iter().map(|s| (*s).to_owned()).chain(random) {
            let ours = base64_simd::STANDARD.decode_to_vec(body.as_bytes()).ok();
            assert_eq!(ours, base64ct::Base64::decode_vec(&body).ok(), "{body:?}");
            accepted += usize::from(ours.is_some_and(|d| !d.is_empty()));
        }
        // Both sides of the comparison are exercised, not only refusals.
        assert!(accepted > 1_000, "{accepted}");
        // Certificate-sized bodies, where the SIMD path runs: one stray or misplaced byte
        // anywhere is refused, as base64ct refuses it.
        let good = base64ct::Base64::encode_string(&(0..=255u8).cycle().take(900).collect::<Vec<_>>());
        for position in (0..good.len()).step_by(7) {
            for stray in [b'=', b'-', b'_', b' ', b'\n', 0x80, 0xff] {
                let mut body = good.clone().into_bytes();
                body[position] = stray;
                let ours = base64_simd::STANDARD.decode_to_vec(&body).ok();
                let theirs = base64ct::Base64::decode_vec(&String::from_utf8_lossy(&body)).ok();
                assert_eq!((ours, theirs), (None, None), "{position} {stray:#x}");
            }
        }
        assert_eq!(base64_simd::STANDARD.decode_to_vec(good.as_bytes()).ok(), base64ct::Base64::decode_vec(&good).ok());
        for len in 0..200 {
            let der: Vec<u8> = (0..len).map(|i| u8::try_from(i * 7 % 256).unwrap()).collect();
            assert_eq!(base64_simd::STANDARD.encode_to_string(&der), base64ct::Base64::encode_string(&der));
        }
    }

    #[test]
    fn lines_split_as_str_split_does() {
        for text in ["", "\n", "a", "a\n", "\na", "a\nb\r\n\nc", "é\n€\n", "\n\n\n"] {
            assert_eq!(lines(text).collect::<Vec<_>>(), text.split('\n').collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn any_wrapping_width_but_no_headers() {
        let long = "-----BEGIN CERTIFICATE-----\nMAMC\n  AQA=  \n-----END CERTIFICATE-----";
        assert_eq!(decode_certificate(long), Ok(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        let headers = "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        assert_eq!(decode_certificate(headers), Err(PemError::Malformed));
        let mismatched = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
        assert_eq!(decode_certificate(mismatched), Err(PemError::Truncated));
        let empty = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        assert_eq!(decode_certificate(empty), Err(PemError::Malformed));
    }

    #[test]
    fn chains_of_blocks() {
        let one = block("CERTIFICATE");
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        assert_eq!(decode_certificates(&format!("leaf\n{one}issuer\r\n{one}"), 3), Ok(vec![der.clone(), der.clone()]));
        assert_eq!(decode_certificates("", 3), Err((0, PemError::Empty)));
        assert_eq!(decode_certificates("text", 3), Err((0, PemError::NoBlock)));
        assert_eq!(decode_certificates(&one.repeat(4), 3).map(|v| v.len()), Ok(4));
        let key = block("PRIVATE KEY");
        assert_eq!(
            decode_certificates(&format!("{one}{key}"), 3),
            Err((1, PemError::WrongLabel { label: "PRIVATE KEY".into() }))
        );
        assert_eq!(
            decode_certificates(&format!("{one}-----BEGIN CERTIFICATE-----\nMAMC"), 3),
            Err((1, PemError::Truncated))
        );
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
