//! A strict-DER TLV cursor over a byte slice, by absolute offsets.
//!
//! Headers are decoded by the `der` crate (which refuses indefinite and non-minimal lengths);
//! this file only keeps track of where each TLV lies, so callers can slice the bytes as they
//! arrived.

use core::fmt;

use core::ops::Range;

use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber};

/// A TLV located in the input: its tag, the whole encoding and the content octets.
pub(crate) struct Tlv {
    pub tag: Tag,
    pub whole: Range<usize>,
    pub value: Range<usize>,
}

/// A cursor over `input[pos..end]` that reads strict-DER TLVs by absolute offset.
pub(crate) struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a [u8], range: Range<usize>) -> Self {
        Self { input, pos: range.start, end: range.end }
    }

    /// Where the next TLV starts.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn peek_tag(&self) -> Option<Tag> {
        let window = self.input.get(self.pos..self.end)?;
        if let Some((tag, _, _)) = common_header(window) {
            return Some(tag);
        }
        let mut reader = SliceReader::new(window).ok()?;
        Header::decode(&mut reader).ok().map(|h| h.tag())
    }

    pub(crate) fn any(&mut self, field: &'static str) -> Result<Tlv, ParseError> {
        let window = self.input.get(self.pos..self.end).ok_or(ParseError::Der { field })?;
        let (tag, header_len, len) = match common_header(window) {
            Some(found) => found,
            None => {
                let mut reader = SliceReader::new(window).map_err(|_| ParseError::Der { field })?;
                let header = Header::decode(&mut reader).map_err(|_| ParseError::Der { field })?;
                let header_len = usize::try_from(reader.position()).map_err(|_| ParseError::Der { field })?;
                let len = usize::try_from(header.length()).map_err(|_| ParseError::Der { field })?;
                (header.tag(), header_len, len)
            }
        };
        let start = self.pos;
        let value_start = start + header_len;
        let value_end = value_start.checked_add(len).ok_or(ParseError::Der { field })?;
        if value_end > self.end {
            return Err(ParseError::Der { field });
        }
        self.pos = value_end;
        Ok(Tlv { tag, whole: start..value_end, value: value_start..value_end })
    }

    pub(crate) fn expect(&mut self, tag: Tag, field: &'static str) -> Result<Tlv, ParseError> {
        let tlv = self.any(field)?;
        if tlv.tag == tag { Ok(tlv) } else { Err(ParseError::Der { field }) }
    }

    pub(crate) fn finish(&self, field: &'static str) -> Result<(), ParseError> {
        if self.is_empty() { Ok(()) } else { Err(ParseError::Der { field }) }
    }

    /// Reads a TLV with `tag` and hands a cursor over its contents to `inner`, which must read
    /// them all: the one place where "every length is exact" is enforced for nested values.
    pub(crate) fn nested<T>(
        &mut self,
        tag: Tag,
        field: &'static str,
        inner: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        let tlv = self.expect(tag, field)?;
        let mut contents = Cursor::new(self.input, tlv.value);
        let out = inner(&mut contents)?;
        contents.finish(field)?;
        Ok(out)
    }

    /// The bytes of `range` in the input.
    pub(crate) fn bytes(&self, range: Range<usize>) -> &'a [u8] {
        self.input.get(range).unwrap_or_default()
    }

    /// Reads a SET OF (X.690 §8.12) with `tag` and hands each element's TLV to `each`, in order.
    /// The elements must stand in X.690 §11.6 order; with `non_empty`, the SET must hold one
    /// at least (`SET SIZE (1..MAX) OF`).
    pub(crate) fn set_of(
        &mut self,
        tag: Tag,
        field: &'static str,
        non_empty: bool,
        mut each: impl FnMut(&Tlv) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.nested(tag, field, |elements| {
            if non_empty && elements.is_empty() {
                return Err(ParseError::Der { field });
            }
            let mut previous: Option<&[u8]> = None;
            while !elements.is_empty() {
                let element = elements.any(field)?;
                let encoding = elements.bytes(element.whole.clone());
                if previous.is_some_and(|p| set_order(p, encoding) == core::cmp::Ordering::Greater) {
                    return Err(ParseError::Der { field });
                }
                each(&element)?;
                previous = Some(encoding);
            }
            Ok(())
        })
    }

    /// Reads every TLV left in the cursor and, inside each constructed one, every TLV down to
    /// `depth` levels: each header strict DER and each length exact, whatever the types. A
    /// constructed encoding deeper than `depth` is refused, which bounds the recursion.
    pub(crate) fn walk_all(&mut self, field: &'static str, depth: usize) -> Result<(), ParseError> {
        while !self.is_empty() {
            let tlv = self.any(field)?;
            if tlv.tag.is_constructed() {
                let depth = depth.checked_sub(1).ok_or(ParseError::Der { field })?;
                Cursor::new(self.input, tlv.value).walk_all(field, depth)?;
            }
        }
        Ok(())
    }
}

/// The header of the TLV at the start of `window` when it is one of the shapes a certificate
/// is made of: a one-octet tag that `der` maps to the same [`Tag`] (the universal types X.509
/// uses, SEQUENCE, SET, and context-specific tags 0..=30), and a definite length in its
/// shortest form of at most three octets. Returns (tag, header length, content length).
///
/// `None` means "not a common shape", never "invalid": the caller then asks `der`, which stays
/// the authority on everything else, errors included. This exists for speed alone: `der`'s
/// generic reader costs about as much as the rest of a certificate's walk (measured in
/// benches/README.md), and a registration walks two certificates of some 60 TLVs each.
#[inline(always)]
fn common_header(window: &[u8]) -> Option<(Tag, usize, usize)> {
    let (&first, rest) = window.split_first()?;
    let tag = match first {
        0x01 => Tag::Boolean,
        0x02 => Tag::Integer,
        0x03 => Tag::BitString,
        0x04 => Tag::OctetString,
        0x05 => Tag::Null,
        0x06 => Tag::ObjectIdentifier,
        0x0C => Tag::Utf8String,
        0x13 => Tag::PrintableString,
        0x16 => Tag::Ia5String,
        0x17 => Tag::UtcTime,
        0x18 => Tag::GeneralizedTime,
        0x30 => Tag::Sequence,
        0x31 => Tag::Set,
        0x80..=0x9E => context(u32::from(first & 0x1F), false),
        0xA0..=0xBE => context(u32::from(first & 0x1F), true),
        _ => return None,
    };
    let (len, header_len) = match *rest {
        [short, ..] if short < 0x80 => (usize::from(short), 2),
        // Long forms only when the first length octet is needed (X.690 §10.1).
        [0x81, one, ..] if one >= 0x80 => (usize::from(one), 3),
        [0x82, high, low, ..] if high != 0 => (usize::from(high) << 8 | usize::from(low), 4),
        _ => return None,
    };
    Some((tag, header_len, len))
}

/// Walks a Name (RFC 5280 §4.1.2.4) strictly: a SEQUENCE OF non-empty SETs, in DER order, of
/// AttributeTypeAndValue SEQUENCEs holding exactly a well-formed OBJECT IDENTIFIER and one value
/// (whose header the cursor checks, so a constructed string type is refused). `each` sees the
/// type's content octets and the value's TLV.
pub(crate) fn walk_name<'a>(
    cursor: &mut Cursor<'a>,
    field: &'static str,
    mut each: impl FnMut(&'a [u8], &Tlv),
) -> Result<(), ParseError> {
    cursor.nested(Tag::Sequence, field, |rdns| {
        while !rdns.is_empty() {
            rdns.nested(Tag::Set, field, |atvs| {
                let mut previous: Option<&[u8]> = None;
                if atvs.is_empty() {
                    // RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
                    return Err(ParseError::Der { field });
                }
                while !atvs.is_empty() {
                    let start = atvs.pos;
                    atvs.nested(Tag::Sequence, field, |parts| {
                        let kind = parts.expect(Tag::ObjectIdentifier, field)?;
                        let oid = parts.bytes(kind.value);
                        check_oid(oid, field)?;
                        let value = parts.any(field)?;
                        each(oid, &value);
                        Ok(())
                    })?;
                    // X.690 §11.6: a SET OF's elements in ascending order of their encodings.
                    let encoding = atvs.bytes(start..atvs.pos);
                    if previous.is_some_and(|p| set_order(p, encoding) == core::cmp::Ordering::Greater) {
                        return Err(ParseError::Der { field });
                    }
                    previous = Some(encoding);
                }
                Ok(())
            })?;
        }
        Ok(())
    })
}

/// An AlgorithmIdentifier (RFC 5280 §4.1.1.2) as [`algorithm_identifier`] reads it.
pub(crate) struct AlgorithmIdentifier<'a> {
    /// The OBJECT IDENTIFIER's content octets, checked by [`check_oid`].
    pub oid: &'a [u8],
    /// The parameters, when present.
    pub parameters: Option<Parameters<'a>>,
}

/// An AlgorithmIdentifier's parameters: any one TLV.
pub(crate) struct Parameters<'a> {
    pub tag: Tag,
    /// Content octets.
    pub value: &'a [u8],
    /// The whole TLV, header included.
    pub whole: &'a [u8],
}

impl Parameters<'_> {
    /// NULL, as RSA's identifiers carry it (RFC 4055 §2.1, RFC 3279 §2.3.1).
    pub(crate) fn is_null(&self) -> bool {
        self.tag == Tag::Null && self.value.is_empty()
    }
}

/// Reads an AlgorithmIdentifier strictly: a SEQUENCE of a well-formed OBJECT IDENTIFIER and at
/// most one parameters value. Which algorithms and parameters are accepted is the caller's rule.
pub(crate) fn algorithm_identifier<'a>(
    cursor: &mut Cursor<'a>,
    field: &'static str,
) -> Result<AlgorithmIdentifier<'a>, ParseError> {
    cursor.nested(Tag::Sequence, field, |parts| {
        let oid = parts.expect(Tag::ObjectIdentifier, field)?;
        let oid = parts.bytes(oid.value);
        check_oid(oid, field)?;
        let parameters = if parts.is_empty() {
            None
        } else {
            let tlv = parts.any(field)?;
            Some(Parameters { tag: tlv.tag, value: parts.bytes(tlv.value), whole: parts.bytes(tlv.whole) })
        };
        Ok(AlgorithmIdentifier { oid, parameters })
    })
}

/// Reads all of `der` with `read`: trailing bytes after what it reads are an error.
pub(crate) fn whole<'a, T>(
    der: &'a [u8],
    field: &'static str,
    read: impl FnOnce(&mut Cursor<'a>) -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    let mut cursor = Cursor::new(der, 0..der.len());
    let out = read(&mut cursor)?;
    cursor.finish(field)?;
    Ok(out)
}

/// The magnitude of a non-negative INTEGER's content octets (a minimal encoding, X.690 §8.3.2),
/// without the 0x00 octet that keeps its sign positive; `None` for a negative or non-minimal one.
pub(crate) fn unsigned_integer(content: &[u8]) -> Option<&[u8]> {
    check_integer(content, "INTEGER").ok()?;
    match content {
        [first, ..] if first & 0x80 != 0 => None,
        [0, rest @ ..] if !rest.is_empty() => Some(rest),
        _ => Some(content),
    }
}

/// OBJECT IDENTIFIER content octets as X.690 §8.19 fixes them, with `const-oid`'s bounds so
/// that every OID passed here is one `const-oid` (and so x509-cert) accepts: not empty, at most
/// [`MAX_OID_OCTETS`], a first octet that encodes arcs 0..=2 and 0..=39, every later arc within
/// a `u32`, the last octet ending an arc, and no arc led by 0x80 (X.690 §8.19.2: "the smallest
/// possible number of octets"), which `const-oid` lets through.
///
/// Written out rather than asking `const-oid`, whose arc iterator cost a tenth of a
/// certificate's DER walk; `check_oid_agrees_with_const_oid` holds the two together.
pub(crate) fn check_oid(content: &[u8], field: &'static str) -> Result<(), ParseError> {
    let bad = || ParseError::Der { field };
    let (&root, arcs) = content.split_first().ok_or_else(bad)?;
    // const-oid reads the first octet alone as 40 * first + second, first at most 2.
    if root >= 120 || content.len() > MAX_OID_OCTETS {
        return Err(bad());
    }
    let mut arc: u64 = 0;
    let mut starts_arc = true;
    for &octet in arcs {
        if starts_arc && octet == 0x80 {
            return Err(bad());
        }
        arc = (arc << 7) | u64::from(octet & 0x7f);
        if arc > u64::from(u32::MAX) {
            return Err(bad());
        }
        starts_arc = octet & 0x80 == 0;
        if starts_arc {
            arc = 0;
        }
    }
    if starts_arc { Ok(()) } else { Err(bad()) }
}

/// The longest OID `const-oid`'s `ObjectIdentifier` holds, in content octets.
const MAX_OID_OCTETS: usize = 39;

/// X.690 §11.6 order: octet strings compared with the shorter padded with trailing zeros.
fn set_order(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    let len = a.len().max(b.len());
    let pad = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..len).map(|i| pad(a, i).cmp(&pad(b, i))).find(|o| o.is_ne()).unwrap_or(core::cmp::Ordering::Equal)
}

pub(crate) const fn context(number: u32, constructed: bool) -> Tag {
    Tag::ContextSpecific { constructed, number: TagNumber(number) }
}

/// Checks that INTEGER content octets are minimally encoded (X.690 §8.3.2).
pub(crate) fn check_integer(bytes: &[u8], field: &'static str) -> Result<(), ParseError> {
    match bytes {
        [] => Err(ParseError::Der { field }),
        [0x00, next, ..] if *next < 0x80 => Err(ParseError::Der { field }),
        [0xff, next, ..] if *next >= 0x80 => Err(ParseError::Der { field }),
        _ => Ok(()),
    }
}

/// The DER inside the PEM is not exactly one strictly DER-encoded certificate (rule 1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// A field is not valid DER of the expected type (BER lengths, wrong tag, bad INTEGER…).
    Der {
        /// The ASN.1 field name, as RFC 5280 spells it.
        field: &'static str,
    },
    /// Bytes follow the certificate.
    TrailingData {
        /// How many.
        len: usize,
    },
    /// The version INTEGER is not v1, v2 or v3.
    UnsupportedVersion {
        /// The value found (its first eight octets).
        value: u64,
    },
    /// tbsCertificate.signature is not byte-equal to signatureAlgorithm.
    SignatureAlgorithmMismatch,
    /// The signature BIT STRING has unused bits.
    SignatureUnusedBits {
        /// The unused-bits count.
        unused: u8,
    },
    /// A validity time is not a UTCTime or GeneralizedTime as RFC 5280 §4.1.2.5 allows.
    Time {
        /// `notBefore` or `notAfter`.
        field: &'static str,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Der { field } => write!(f, "the certificate is not valid DER at {field}"),
            Self::TrailingData { len } => write!(f, "{len} bytes follow the certificate"),
            Self::UnsupportedVersion { value } => write!(f, "version value {value} is not v1, v2 or v3"),
            Self::SignatureAlgorithmMismatch => f.write_str("tbsCertificate.signature differs from signatureAlgorithm"),
            Self::SignatureUnusedBits { unused } => write!(f, "the signature BIT STRING declares {unused} unused bits"),
            Self::Time { field } => write!(f, "{field} is not a valid UTCTime or GeneralizedTime"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check_oid` accepts exactly what `const-oid` accepts, less arcs led by 0x80: every
    /// content of one and two octets, every three-octet content over octets that matter, arcs
    /// at the `u32` edge, and the length bound.
    #[test]
    fn check_oid_agrees_with_const_oid() {
        let theirs = |c: &[u8]| {
            let padded = c.iter().enumerate().any(|(i, &o)| i > 0 && o == 0x80 && (i == 1 || c[i - 1] & 0x80 == 0));
            const_oid::ObjectIdentifier::from_bytes(c).is_ok() && !padded
        };
        let mut cases: Vec<Vec<u8>> = vec![vec![]];
        cases.extend((0..=255u8).map(|a| vec![a]));
        cases.extend((0..=255u8).flat_map(|a| (0..=255u8).map(move |b| vec![a, b])));
        let octets = [0x00, 0x01, 0x2a, 0x77, 0x78, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0xff];
        for a in octets {
            for b in octets {
                for c in octets {
                    cases.push(vec![a, b, c]);
                    cases.push(vec![0x2a, a, b, c]);
                }
            }
        }
        // u32::MAX is 8f ff ff ff 7f in base 128; one more is 90 80 80 80 00.
        cases.push(vec![0x2a, 0x8f, 0xff, 0xff, 0xff, 0x7f]);
        cases.push(vec![0x2a, 0x90, 0x80, 0x80, 0x80, 0x00]);
        cases.push(vec![0x2a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00]);
        cases.push([vec![0x2a], vec![0x01; 38]].concat());
        cases.push([vec![0x2a], vec![0x01; 39]].concat());
        let mut accepted = 0;
        for case in &cases {
            let ours = check_oid(case, "oid").is_ok();
            assert_eq!(ours, theirs(case), "{case:02x?}");
            accepted += usize::from(ours);
        }
        assert!(accepted > 10_000, "{accepted}");
    }

    /// Wherever the fast path answers, `der` answers the same: every first octet, with every
    /// short length, every one-octet long form, and two-octet long forms around their edges.
    #[test]
    fn common_header_agrees_with_der() {
        let mut lengths: Vec<Vec<u8>> = (0..=255u8).map(|l| vec![l]).collect();
        lengths.extend((0..=255u8).map(|l| vec![0x81, l]));
        for high in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            lengths.extend((0..=255u8).map(|low| vec![0x82, high, low]));
        }
        lengths.push(vec![0x83, 0x01, 0x00, 0x00]);
        let mut fast = 0;
        for first in 0..=255u8 {
            for length in &lengths {
                let mut window = vec![first];
                window.extend_from_slice(length);
                let Some((tag, header_len, len)) = common_header(&window) else { continue };
                fast += 1;
                let mut reader = SliceReader::new(&window).unwrap();
                let header = Header::decode(&mut reader).unwrap();
                assert_eq!(header.tag(), tag, "{window:02x?}");
                assert_eq!(usize::try_from(header.length()).unwrap(), len, "{window:02x?}");
                assert_eq!(usize::try_from(reader.position()).unwrap(), header_len, "{window:02x?}");
            }
        }
        // 13 universal + 62 context-specific first octets, each with 128 + 128 + 4 × 256 lengths.
        assert_eq!(fast, 75 * (128 + 128 + 4 * 256));
    }
}
