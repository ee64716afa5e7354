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
