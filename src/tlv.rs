//! A strict-DER TLV cursor over a byte slice, by absolute offsets.
//!
//! Headers are decoded by the `der` crate (which refuses indefinite and non-minimal lengths);
//! this file only keeps track of where each TLV lies, so callers can slice the bytes as they
//! arrived.

use core::ops::Range;

use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber};

use crate::error::ParseError;

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
        let mut reader = SliceReader::new(window).ok()?;
        Header::decode(&mut reader).ok().map(|h| h.tag())
    }

    pub(crate) fn any(&mut self, field: &'static str) -> Result<Tlv, ParseError> {
        let window = self.input.get(self.pos..self.end).ok_or(ParseError::Der { field })?;
        let mut reader = SliceReader::new(window).map_err(|_| ParseError::Der { field })?;
        let header = Header::decode(&mut reader).map_err(|_| ParseError::Der { field })?;
        let header_len = usize::try_from(reader.position()).map_err(|_| ParseError::Der { field })?;
        let len = usize::try_from(header.length()).map_err(|_| ParseError::Der { field })?;
        let start = self.pos;
        let value_start = start + header_len;
        let value_end = value_start.checked_add(len).ok_or(ParseError::Der { field })?;
        if value_end > self.end {
            return Err(ParseError::Der { field });
        }
        self.pos = value_end;
        Ok(Tlv { tag: header.tag(), whole: start..value_end, value: value_start..value_end })
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

/// OBJECT IDENTIFIER content octets as X.690 §8.19 fixes them: what `const-oid` checks (not
/// empty, within its size, the last octet ends a subidentifier), and no subidentifier led by
/// 0x80 (X.690 §8.19.2: "the smallest possible number of octets"), which `const-oid` lets through.
pub(crate) fn check_oid(content: &[u8], field: &'static str) -> Result<(), ParseError> {
    let mut starts_subidentifier = true;
    for &octet in content {
        if starts_subidentifier && octet == 0x80 {
            return Err(ParseError::Der { field });
        }
        starts_subidentifier = octet & 0x80 == 0;
    }
    const_oid::ObjectIdentifier::from_bytes(content).map(|_| ()).map_err(|_| ParseError::Der { field })
}

/// X.690 §11.6 order: octet strings compared with the shorter padded with trailing zeros.
fn set_order(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    let len = a.len().max(b.len());
    let pad = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..len).map(|i| pad(a, i).cmp(&pad(b, i))).find(|o| o.is_ne()).unwrap_or(core::cmp::Ordering::Equal)
}

pub(crate) fn context(number: u32, constructed: bool) -> Tag {
    TagNumber(number).context_specific(constructed)
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
