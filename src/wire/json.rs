//! The JSON plumbing every decoder and encoder shares: the request document and its bounds,
//! typed member readers that name the member at fault, times, tags and validity.

use serde_json::{Map, Value, json};

use crate::error::{Error, RequestError, TagError};
use crate::model::paging::{ListQuery, Marker, PageSize, SortOrder};
use crate::model::tags::Tags;
use crate::x509::time::UnixTime;

/// Largest request document accepted, in bytes: two certificate fields, a template body and
/// 50 tags fit with room to spare.
pub const MAX_REQUEST_JSON_BYTES: usize = 512 * 1024;

/// How times are written: RFC 3339 text (the CLI) or epoch seconds (the REST-JSON protocol).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeFormat {
    /// `2026-11-28T17:09:08Z`.
    #[default]
    Rfc3339,
    /// `1795885748`.
    EpochSeconds,
}

impl TimeFormat {
    /// `t` in this format.
    #[must_use]
    pub fn write(self, t: UnixTime) -> Value {
        match self {
            Self::Rfc3339 => Value::String(t.to_string()),
            Self::EpochSeconds => Value::from(t.as_secs()),
        }
    }
}

pub(crate) fn wrong_type(member: &str, expected: &'static str) -> Error {
    Error::Request(RequestError::WrongType { member: member.chars().take(256).collect(), expected })
}

pub(crate) fn refuse_unknown(object: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), Error> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(Error::Request(RequestError::UnknownMember {
            member: format!("{prefix}{k}").chars().take(256).collect(),
        })),
        None => Ok(()),
    }
}

/// A member that is absent or null reads as `None`.
pub(crate) fn string<'a>(object: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(path, "string")),
    }
}

pub(crate) fn boolean(object: &Map<String, Value>, key: &str) -> Result<bool, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(wrong_type(key, "boolean")),
    }
}

/// The request document as text: at most [`MAX_REQUEST_JSON_BYTES`] bytes of UTF-8, checked
/// before anything is parsed. A transport that reads a body calls this on the bytes it read.
///
/// # Errors
/// [`RequestError::DocumentTooLarge`], [`RequestError::NotUtf8`] (InvalidRequestException).
pub fn request_document(bytes: &[u8]) -> Result<&str, Error> {
    if bytes.len() > MAX_REQUEST_JSON_BYTES {
        return Err(RequestError::DocumentTooLarge { len: bytes.len(), max: MAX_REQUEST_JSON_BYTES }.into());
    }
    core::str::from_utf8(bytes).map_err(|e| RequestError::NotUtf8 { valid_up_to: e.valid_up_to() }.into())
}

/// The string form of `tags` that boto3's documentation gives for `--cli-input-json`:
/// `"key1=value1&key2=value2"`, split on `&`, then on the first `=`. An empty string is no
/// tags; the rules of [`Tags::new`] then apply as to the list form.
fn tags_from_query_form(text: &str) -> Result<Vec<(&str, &str)>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('&')
        .enumerate()
        .map(|(i, pair)| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key, value)),
            Some((_, _)) => {
                Err(TagError::KeyLength { index: i + 1, len: 0, max: crate::model::tags::MAX_TAG_KEY_CHARS }.into())
            }
            None => Err(TagError::NotKeyValue { index: i + 1, pair: pair.chars().take(256).collect() }.into()),
        })
        .collect()
}

/// The request document as a JSON object, at most [`MAX_REQUEST_JSON_BYTES`] bytes.
pub(crate) fn document_object(json: &str) -> Result<Map<String, Value>, Error> {
    if json.len() > MAX_REQUEST_JSON_BYTES {
        return Err(Error::Request(RequestError::DocumentTooLarge { len: json.len(), max: MAX_REQUEST_JSON_BYTES }));
    }
    match serde_json::from_str(json) {
        Ok(Value::Object(top)) => Ok(top),
        _ => Err(Error::Request(RequestError::MalformedJson)),
    }
}

/// templateBody, roleArn and templateName.
type ConfigMembers<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// The `registrationConfig` member's templateBody, roleArn and templateName, each type-checked;
/// `None` when the member is absent or null.
pub(crate) fn registration_config_members(top: &Map<String, Value>) -> Result<Option<ConfigMembers<'_>>, Error> {
    match top.get("registrationConfig") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(c)) => {
            refuse_unknown(c, "registrationConfig.", &["templateBody", "roleArn", "templateName"])?;
            Ok(Some((
                string(c, "templateBody", "registrationConfig.templateBody")?,
                string(c, "roleArn", "registrationConfig.roleArn")?,
                string(c, "templateName", "registrationConfig.templateName")?,
            )))
        }
        Some(_) => Err(wrong_type("registrationConfig", "object")),
    }
}

/// The `tags` member as `(Key, Value)` pairs, unchecked: the list form or the string form.
pub(crate) fn tag_pairs(top: &Map<String, Value>) -> Result<Vec<(&str, &str)>, Error> {
    let mut tags: Vec<(&str, &str)> = Vec::new();
    match top.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => tags = tags_from_query_form(text)?,
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("tags.{}.member", i + 1);
                let tag = item.as_object().ok_or_else(|| wrong_type(&path, "object"))?;
                refuse_unknown(tag, &format!("{path}."), &["Key", "Value"])?;
                let key = string(tag, "Key", &format!("{path}.Key"))?;
                let key = key.ok_or(Error::Request(RequestError::MissingMember { member: "tags.member.Key" }))?;
                tags.push((key, string(tag, "Value", &format!("{path}.Value"))?.unwrap_or("")));
            }
        }
        Some(_) => return Err(wrong_type("tags", "array")),
    }
    Ok(tags)
}

/// `tags` as AWS writes them: `[{"Key": …, "Value": …}]`.
#[must_use]
pub fn tags_to_json(tags: &Tags) -> Value {
    Value::Array(tags.as_slice().iter().map(|(k, v)| tag_to_json(k, v)).collect())
}

/// One tag as AWS writes it: `{"Key": …, "Value": …}`.
pub(crate) fn tag_to_json(key: &str, value: &str) -> Value {
    json!({ "Key": key, "Value": value })
}

/// A certificate's `validity`: `{"notBefore", "notAfter"}`.
pub(crate) fn validity_to_json(v: &crate::model::description::CertificateValidity, times: TimeFormat) -> Value {
    json!({ "notBefore": times.write(v.not_before), "notAfter": times.write(v.not_after) })
}

/// `text` with its `%XX` escapes decoded (RFC 3986 §2.1; `+` stays `+`, so a marker's `+`
/// survives a client that does not escape it). An escape that is not two hex digits is kept as
/// written, and bytes that are not UTF-8 become U+FFFD: either way the member then fails its
/// own rule.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The query string's parameters, decoded, in order.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        Self(
            query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(name), percent_decode(value))
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(wrong_type(name, "boolean")),
        }
    }
}

/// The paging members common to list operations: `pageSize`, `isAscendingOrder` and the
/// marker named `marker_member`.
pub(crate) fn list_query(query: &Query, marker_member: &'static str) -> Result<ListQuery, Error> {
    let mut out = ListQuery::new();
    if let Some(size) = query.get("pageSize") {
        let size: i64 = size.parse().map_err(|_| wrong_type("pageSize", "integer"))?;
        out = out.with_page_size(PageSize::new(size)?);
    }
    if let Some(ascending) = query.boolean("isAscendingOrder")? {
        out = out.with_order(SortOrder::from_is_ascending(ascending));
    }
    if let Some(marker) = query.get(marker_member) {
        out = out.with_marker(Marker::parse(marker, marker_member)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb%2fc+d"), "a+b/c+d");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        let q = Query::parse("?a=1&b&a=2&=x&c=%3D");
        assert_eq!((q.get("a"), q.get("b"), q.get("c"), q.get("")), (Some("1"), Some(""), Some("="), Some("x")));
    }
}
