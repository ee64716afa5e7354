//! Things, thing types and groups, policies and attachments on botocore's REST-JSON routes
//! (AWS IoT service model `iot/2015-05-28`):
//!
//! | operation | route | members |
//! |---|---|---|
//! | CreateThing | `POST /things/{thingName}` | thingTypeName, attributePayload, billingGroupName |
//! | DescribeThing | `GET /things/{thingName}` | |
//! | UpdateThing | `PATCH /things/{thingName}` | thingTypeName, attributePayload, expectedVersion, removeThingType |
//! | DeleteThing | `DELETE /things/{thingName}?expectedVersion` | |
//! | ListThings | `GET /things?maxResults&nextToken&attributeName&attributeValue&thingTypeName&usePrefixAttributeValue` | |
//! | CreateThingType | `POST /thing-types/{thingTypeName}` | thingTypeProperties, tags |
//! | CreateThingGroup | `POST /thing-groups/{thingGroupName}` | parentGroupName, thingGroupProperties, tags |
//! | AddThingToThingGroup | `PUT /thing-groups/addThingToThingGroup` | thingGroupName/Arn, thingName/Arn |
//! | CreatePolicy | `POST /policies/{policyName}` | policyDocument, tags |
//! | AttachPolicy / DetachPolicy | `PUT` / `POST /target-policies/{policyName}` | target |
//! | ListPolicies | `GET /policies?pageSize&marker&isAscendingOrder` | |
//! | ListAttachedPolicies | `POST /attached-policies/{target}?pageSize&marker&recursive` | |
//! | ListTargetsForPolicy | `POST /policy-targets/{policyName}?pageSize&marker` | |
//! | Attach/DetachThingPrincipal, ListThingPrincipals | `PUT`/`DELETE`/`GET /things/{thingName}/principals` | header `x-amzn-principal` |
//! | ListPrincipalThings | `GET /principals/things?maxResults&nextToken` | header `x-amzn-principal` |
//!
//! Lists that take `nextToken`/`maxResults` are in name order (our rule); those that take
//! `marker`/`pageSize` follow `isAscendingOrder` where they have it (name order, newest name
//! first by default as the CA lists are).

use serde_json::{Map, Value, json};

use super::json::{
    Query, TimeFormat, boolean, document_object, list_query, refuse_unknown, string, tag_pairs, tags_to_json,
    wrong_type,
};
use crate::error::{Error, RequestError};
use crate::model::arn::ResourceArn;
use crate::model::attributes::{AttributePayload, Attributes};
use crate::model::names::{BillingGroupName, PolicyName, ThingGroupName, ThingName, ThingTypeName};
use crate::model::paging::{ListQuery, Marker, Page, PageSize, SortOrder};
use crate::model::policy_document::PolicyDocument;
use crate::model::scope::AccountScope;
use crate::model::tags::Tags;
use crate::thing::groups::{
    AddThingToThingGroupRequest, CreateThingGroupRequest, CreateThingTypeRequest, ThingGroupDescription,
    ThingTypeDescription,
};
use crate::thing::policies::{CreatePolicyRequest, PolicyDescription};
use crate::thing::things::{CreateThingRequest, DeleteThingRequest, ThingDescription, UpdateThingRequest};
use crate::x509::time::UnixTime;

/// A body that may be empty (`{}`), as a JSON object.
fn body_object(body: &str) -> Result<Map<String, Value>, Error> {
    if body.trim().is_empty() { Ok(Map::new()) } else { document_object(body) }
}

/// `attributePayload` (or `thingGroupProperties.attributePayload`) at `path`.
fn attribute_payload(top: &Map<String, Value>, key: &str, path: &str) -> Result<Option<AttributePayload>, Error> {
    let payload = match top.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(wrong_type(path, "object")),
    };
    refuse_unknown(payload, &format!("{path}."), &["attributes", "merge"])?;
    let attributes = attributes_of(payload.get("attributes"), &format!("{path}.attributes"))?;
    Ok(Some(AttributePayload::new(attributes, boolean(payload, "merge")?)))
}

/// An `attributes` map at `path` (absent or null: none).
fn attributes_of(value: Option<&Value>, path: &str) -> Result<Attributes, Error> {
    match value {
        None | Some(Value::Null) => Ok(Attributes::default()),
        Some(Value::Object(map)) => {
            let mut pairs = Vec::with_capacity(map.len());
            for (name, value) in map {
                let value = value.as_str().ok_or_else(|| wrong_type(&format!("{path}.{name}"), "string"))?;
                pairs.push((name.as_str(), value));
            }
            Attributes::new(pairs)
        }
        Some(_) => Err(wrong_type(path, "object")),
    }
}

fn attributes_to_json(attributes: &Attributes) -> Value {
    Value::Object(attributes.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect())
}

fn tags(top: &Map<String, Value>) -> Result<Tags, Error> {
    Tags::new(&tag_pairs(top)?)
}

/// A version member (`expectedVersion`), a JSON integer.
fn version(top: &Map<String, Value>, key: &str) -> Result<Option<i64>, Error> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong_type(key, "integer")),
    }
}

/// The paging members of the registry lists (`maxResults`, `nextToken`), in name order.
fn registry_list_query(query: &Query) -> Result<ListQuery, Error> {
    let mut out = ListQuery::new().with_order(SortOrder::Ascending);
    if let Some(size) = query.get("maxResults") {
        let size: i64 = size.parse().map_err(|_| wrong_type("maxResults", "integer"))?;
        out = out.with_page_size(PageSize::new(size)?);
    }
    if let Some(token) = query.get("nextToken") {
        out = out.with_marker(Marker::parse(token, "nextToken")?);
    }
    Ok(out)
}

/// A page as `{<items>: [...], <next>: ...}`.
fn page_to_json<T>(page: &Page<T>, items: &str, next: &str, item: impl Fn(&T) -> Value) -> Value {
    let mut out = Map::new();
    out.insert(items.into(), Value::Array(page.items.iter().map(item).collect()));
    if let Some(marker) = &page.next_marker {
        out.insert(next.into(), Value::String(marker.clone()));
    }
    Value::Object(out)
}

/// CreateThing from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_thing_request_from_rest(path_name: &str, body: &str) -> Result<CreateThingRequest, Error> {
    let mut request = CreateThingRequest::new(ThingName::parse(path_name)?);
    let top = body_object(body)?;
    refuse_unknown(&top, "", &["thingTypeName", "attributePayload", "billingGroupName"])?;
    request.thing_type_name = string(&top, "thingTypeName", "thingTypeName")?.map(ThingTypeName::parse).transpose()?;
    request.attribute_payload = attribute_payload(&top, "attributePayload", "attributePayload")?;
    request.billing_group_name =
        string(&top, "billingGroupName", "billingGroupName")?.map(BillingGroupName::parse).transpose()?;
    Ok(request)
}

/// UpdateThing from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn update_thing_request_from_rest(path_name: &str, body: &str) -> Result<UpdateThingRequest, Error> {
    let mut request = UpdateThingRequest::new(ThingName::parse(path_name)?);
    let top = body_object(body)?;
    refuse_unknown(&top, "", &["thingTypeName", "attributePayload", "expectedVersion", "removeThingType"])?;
    request.thing_type_name = string(&top, "thingTypeName", "thingTypeName")?.map(ThingTypeName::parse).transpose()?;
    request.attribute_payload = attribute_payload(&top, "attributePayload", "attributePayload")?;
    request.expected_version = version(&top, "expectedVersion")?;
    request.remove_thing_type = boolean(&top, "removeThingType")?;
    Ok(request)
}

/// DeleteThing from its path name and query (`expectedVersion`).
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn delete_thing_request_from_rest(path_name: &str, query: &str) -> Result<DeleteThingRequest, Error> {
    let mut request = DeleteThingRequest::new(ThingName::parse(path_name)?);
    if let Some(v) = Query::parse(query).get("expectedVersion") {
        request.expected_version = Some(v.parse().map_err(|_| wrong_type("expectedVersion", "integer"))?);
    }
    Ok(request)
}

/// ListThings' filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingFilter {
    /// thingTypeName.
    pub thing_type_name: Option<ThingTypeName>,
    /// attributeName and attributeValue (both, or neither).
    pub attribute: Option<(String, String)>,
    /// usePrefixAttributeValue: the value is a prefix.
    pub prefix: bool,
}

impl ThingFilter {
    /// Whether `thing` passes the filter.
    #[must_use]
    pub fn admits(&self, thing: &ThingDescription) -> bool {
        let typed = self.thing_type_name.as_ref().is_none_or(|t| thing.thing_type_name.as_ref() == Some(t));
        let attributed = self.attribute.as_ref().is_none_or(|(name, value)| match thing.attributes.get(name) {
            Some(v) if self.prefix => v.starts_with(value.as_str()),
            Some(v) => v == value,
            None => false,
        });
        typed && attributed
    }
}

/// ListThings' query string: the paging members and the filters.
///
/// # Errors
/// InvalidRequestException errors naming the member (an attributeName without a value, or the
/// other way round, included).
pub fn list_things_query_from_rest(query: &str) -> Result<(ListQuery, ThingFilter), Error> {
    let query = Query::parse(query);
    let list = registry_list_query(&query)?;
    let mut filter = ThingFilter {
        thing_type_name: query.get("thingTypeName").map(ThingTypeName::parse).transpose()?,
        prefix: query.boolean("usePrefixAttributeValue")?.unwrap_or(false),
        ..ThingFilter::default()
    };
    match (query.get("attributeName"), query.get("attributeValue")) {
        (None, None) => {}
        (Some(name), Some(value)) => {
            let checked = Attributes::new([(name, value)])?;
            filter.attribute = checked.iter().next().map(|(n, v)| (n.to_owned(), v.to_owned()));
        }
        (Some(_), None) => return Err(RequestError::MissingMember { member: "attributeValue" }.into()),
        (None, Some(_)) => return Err(RequestError::MissingMember { member: "attributeName" }.into()),
    }
    Ok((list, filter))
}

/// CreateThing's response.
#[must_use]
pub fn create_thing_response_to_json(thing: &ThingDescription) -> Value {
    json!({ "thingName": thing.thing_name.as_str(), "thingArn": thing.thing_arn, "thingId": thing.thing_id })
}

/// DescribeThing's response (and the stored record: the same members).
#[must_use]
pub fn thing_to_json(thing: &ThingDescription) -> Value {
    let mut out = Map::new();
    out.insert("defaultClientId".into(), thing.thing_name.as_str().into());
    out.insert("thingName".into(), thing.thing_name.as_str().into());
    out.insert("thingId".into(), thing.thing_id.clone().into());
    out.insert("thingArn".into(), thing.thing_arn.clone().into());
    if let Some(t) = &thing.thing_type_name {
        out.insert("thingTypeName".into(), t.as_str().into());
    }
    out.insert("attributes".into(), attributes_to_json(&thing.attributes));
    out.insert("version".into(), thing.version.into());
    if let Some(b) = &thing.billing_group_name {
        out.insert("billingGroupName".into(), b.as_str().into());
    }
    Value::Object(out)
}

/// A stored thing record ([`thing_to_json`]'s shape) read back.
///
/// # Errors
/// A record that is not one this crate wrote.
pub fn thing_from_json(value: &Value) -> Result<ThingDescription, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("record", "object"))?;
    let text =
        |key: &'static str| string(o, key, key)?.ok_or(Error::Request(RequestError::MissingMember { member: key }));
    let mut thing = ThingDescription::new(
        ThingName::parse(text("thingName")?)?,
        text("thingId")?.to_owned(),
        text("thingArn")?.to_owned(),
        version(o, "version")?.unwrap_or(1),
    );
    thing.thing_type_name = string(o, "thingTypeName", "thingTypeName")?.map(ThingTypeName::parse).transpose()?;
    thing.billing_group_name =
        string(o, "billingGroupName", "billingGroupName")?.map(BillingGroupName::parse).transpose()?;
    thing.attributes = attributes_of(o.get("attributes"), "attributes")?;
    Ok(thing)
}

/// ListThings' response.
#[must_use]
pub fn list_things_response_to_json(page: &Page<&ThingDescription>) -> Value {
    page_to_json(page, "things", "nextToken", |t| {
        let mut entry = thing_to_json(t);
        if let Some(o) = entry.as_object_mut() {
            o.remove("defaultClientId");
            o.remove("thingId");
            o.remove("billingGroupName");
        }
        entry
    })
}

/// CreateThingType from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_thing_type_request_from_rest(path_name: &str, body: &str) -> Result<CreateThingTypeRequest, Error> {
    let mut request = CreateThingTypeRequest::new(ThingTypeName::parse(path_name)?);
    let top = body_object(body)?;
    refuse_unknown(&top, "", &["thingTypeProperties", "tags"])?;
    match top.get("thingTypeProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            refuse_unknown(
                p,
                "thingTypeProperties.",
                &["thingTypeDescription", "searchableAttributes", "mqtt5Configuration"],
            )?;
            request.description = description(p, "thingTypeDescription", "thingTypeProperties.thingTypeDescription")?;
            if let Some(list) = p.get("searchableAttributes").filter(|v| !v.is_null()) {
                let items =
                    list.as_array().ok_or_else(|| wrong_type("thingTypeProperties.searchableAttributes", "array"))?;
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    let name = item
                        .as_str()
                        .ok_or_else(|| wrong_type("thingTypeProperties.searchableAttributes", "string"))?;
                    Attributes::new([(name, "")])?;
                    names.push(name.to_owned());
                }
                request.searchable_attributes = names;
            }
        }
        Some(_) => return Err(wrong_type("thingTypeProperties", "object")),
    }
    request.tags = tags(&top)?;
    Ok(request)
}

/// Longest thing type or group description. AWS model: `ThingTypeDescription`,
/// `ThingGroupDescription` max 2028.
const MAX_DESCRIPTION_CHARS: usize = 2028;

fn description(o: &Map<String, Value>, key: &str, path: &'static str) -> Result<Option<String>, Error> {
    let Some(text) = string(o, key, path)? else { return Ok(None) };
    let len = text.chars().count();
    if len > MAX_DESCRIPTION_CHARS {
        return Err(RequestError::Length { member: path, len, min: 0, max: MAX_DESCRIPTION_CHARS }.into());
    }
    if text.chars().any(|c| c.is_control()) {
        return Err(RequestError::Pattern {
            member: path,
            value: text.chars().take(256).collect(),
            pattern: r"[\p{Graph}\x20]*",
        }
        .into());
    }
    Ok(Some(text.to_owned()))
}

/// CreateThingType's response.
#[must_use]
pub fn create_thing_type_response_to_json(t: &ThingTypeDescription) -> Value {
    json!({ "thingTypeName": t.thing_type_name.as_str(), "thingTypeArn": t.thing_type_arn, "thingTypeId": t.thing_type_id })
}

/// DescribeThingType's response (and, with `tags`, the stored record).
#[must_use]
pub fn thing_type_to_json(t: &ThingTypeDescription, times: TimeFormat) -> Value {
    let mut properties = Map::new();
    if let Some(d) = &t.description {
        properties.insert("thingTypeDescription".into(), d.clone().into());
    }
    properties.insert("searchableAttributes".into(), t.searchable_attributes.clone().into());
    json!({
        "thingTypeName": t.thing_type_name.as_str(),
        "thingTypeId": t.thing_type_id,
        "thingTypeArn": t.thing_type_arn,
        "thingTypeProperties": properties,
        "thingTypeMetadata": { "deprecated": false, "creationDate": times.write(t.creation_date) },
        "tags": tags_to_json(&t.tags),
    })
}

/// A stored thing type record ([`thing_type_to_json`] in epoch seconds) read back.
///
/// # Errors
/// A record that is not one this crate wrote.
pub fn thing_type_from_json(value: &Value) -> Result<ThingTypeDescription, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("record", "object"))?;
    let name =
        string(o, "thingTypeName", "thingTypeName")?.ok_or(RequestError::MissingMember { member: "thingTypeName" })?;
    let properties =
        serde_json::to_string(&json!({"thingTypeProperties": o.get("thingTypeProperties"), "tags": o.get("tags")}))
            .map_err(|_| Error::Request(RequestError::MalformedJson))?;
    let request = create_thing_type_request_from_rest(name, &properties)?;
    Ok(ThingTypeDescription {
        thing_type_name: request.thing_type_name,
        thing_type_id: string(o, "thingTypeId", "thingTypeId")?.unwrap_or_default().to_owned(),
        thing_type_arn: string(o, "thingTypeArn", "thingTypeArn")?.unwrap_or_default().to_owned(),
        description: request.description,
        searchable_attributes: request.searchable_attributes,
        creation_date: UnixTime::from_secs(
            o.get("thingTypeMetadata").and_then(|m| m.get("creationDate")).and_then(Value::as_i64).unwrap_or(0),
        ),
        tags: request.tags,
    })
}

/// CreateThingGroup from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_thing_group_request_from_rest(path_name: &str, body: &str) -> Result<CreateThingGroupRequest, Error> {
    let mut request = CreateThingGroupRequest::new(ThingGroupName::parse(path_name)?);
    let top = body_object(body)?;
    refuse_unknown(&top, "", &["parentGroupName", "thingGroupProperties", "tags"])?;
    request.parent_group_name = string(&top, "parentGroupName", "parentGroupName")?
        .map(|n| ThingGroupName::parse_member(n, "parentGroupName"))
        .transpose()?;
    match top.get("thingGroupProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            refuse_unknown(p, "thingGroupProperties.", &["thingGroupDescription", "attributePayload"])?;
            request.description =
                description(p, "thingGroupDescription", "thingGroupProperties.thingGroupDescription")?;
            request.attribute_payload =
                attribute_payload(p, "attributePayload", "thingGroupProperties.attributePayload")?;
        }
        Some(_) => return Err(wrong_type("thingGroupProperties", "object")),
    }
    request.tags = tags(&top)?;
    Ok(request)
}

/// CreateThingGroup's response.
#[must_use]
pub fn create_thing_group_response_to_json(g: &ThingGroupDescription) -> Value {
    json!({ "thingGroupName": g.thing_group_name.as_str(), "thingGroupArn": g.thing_group_arn, "thingGroupId": g.thing_group_id })
}

/// DescribeThingGroup's response (and, with `tags`, the stored record).
#[must_use]
pub fn thing_group_to_json(g: &ThingGroupDescription, times: TimeFormat) -> Value {
    let mut properties = Map::new();
    if let Some(d) = &g.description {
        properties.insert("thingGroupDescription".into(), d.clone().into());
    }
    properties.insert("attributePayload".into(), json!({ "attributes": attributes_to_json(&g.attributes) }));
    let mut metadata = Map::new();
    if let Some(parent) = &g.parent_group_name {
        metadata.insert("parentGroupName".into(), parent.as_str().into());
    }
    metadata.insert(
        "rootToParentThingGroups".into(),
        g.root_to_parent.iter().map(|(n, a)| json!({ "groupName": n.as_str(), "groupArn": a })).collect(),
    );
    metadata.insert("creationDate".into(), times.write(g.creation_date));
    json!({
        "thingGroupName": g.thing_group_name.as_str(),
        "thingGroupId": g.thing_group_id,
        "thingGroupArn": g.thing_group_arn,
        "version": g.version,
        "thingGroupProperties": properties,
        "thingGroupMetadata": metadata,
        "tags": tags_to_json(&g.tags),
    })
}

/// A stored thing group record ([`thing_group_to_json`] in epoch seconds) read back.
///
/// # Errors
/// A record that is not one this crate wrote.
pub fn thing_group_from_json(value: &Value) -> Result<ThingGroupDescription, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("record", "object"))?;
    let name = string(o, "thingGroupName", "thingGroupName")?
        .ok_or(RequestError::MissingMember { member: "thingGroupName" })?;
    let metadata = o.get("thingGroupMetadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let body = json!({
        "parentGroupName": metadata.get("parentGroupName"),
        "thingGroupProperties": o.get("thingGroupProperties"),
        "tags": o.get("tags"),
    });
    let request = create_thing_group_request_from_rest(name, &body.to_string())?;
    let mut root_to_parent = Vec::new();
    for entry in
        metadata.get("rootToParentThingGroups").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    {
        let group = entry.get("groupName").and_then(Value::as_str).unwrap_or_default();
        let arn = entry.get("groupArn").and_then(Value::as_str).unwrap_or_default();
        root_to_parent.push((ThingGroupName::parse(group)?, arn.to_owned()));
    }
    Ok(ThingGroupDescription {
        thing_group_name: request.thing_group_name,
        thing_group_id: string(o, "thingGroupId", "thingGroupId")?.unwrap_or_default().to_owned(),
        thing_group_arn: string(o, "thingGroupArn", "thingGroupArn")?.unwrap_or_default().to_owned(),
        version: version(o, "version")?.unwrap_or(1),
        description: request.description,
        attributes: request.attribute_payload.map(|p| p.attributes).unwrap_or_default(),
        parent_group_name: request.parent_group_name,
        root_to_parent,
        creation_date: UnixTime::from_secs(metadata.get("creationDate").and_then(Value::as_i64).unwrap_or(0)),
        tags: request.tags,
    })
}

/// AddThingToThingGroup from its body.
///
/// # Errors
/// InvalidRequestException errors naming the member; an ARN outside the scope is
/// ResourceNotFoundException.
pub fn add_thing_to_thing_group_request_from_json(
    body: &str,
    scope: &AccountScope,
) -> Result<AddThingToThingGroupRequest, Error> {
    let top = body_object(body)?;
    refuse_unknown(&top, "", &["thingGroupName", "thingGroupArn", "thingName", "thingArn", "overrideDynamicGroups"])?;
    boolean(&top, "overrideDynamicGroups")?;
    AddThingToThingGroupRequest::from_members(
        scope,
        string(&top, "thingGroupName", "thingGroupName")?,
        string(&top, "thingGroupArn", "thingGroupArn")?,
        string(&top, "thingName", "thingName")?,
        string(&top, "thingArn", "thingArn")?,
    )
}

/// CreatePolicy from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member; MalformedPolicyException for the document.
pub fn create_policy_request_from_rest(path_name: &str, body: &str) -> Result<CreatePolicyRequest, Error> {
    let name = PolicyName::parse(path_name)?;
    let top = document_object(body)?;
    refuse_unknown(&top, "", &["policyDocument", "tags"])?;
    let document = string(&top, "policyDocument", "policyDocument")?
        .ok_or(RequestError::MissingMember { member: "policyDocument" })?;
    let mut request = CreatePolicyRequest::new(name, PolicyDocument::parse(document)?);
    request.tags = tags(&top)?;
    Ok(request)
}

/// CreatePolicy's response.
#[must_use]
pub fn create_policy_response_to_json(p: &PolicyDescription) -> Value {
    json!({
        "policyName": p.policy_name.as_str(),
        "policyArn": p.policy_arn,
        "policyDocument": p.policy_document.as_str(),
        "policyVersionId": p.default_version_id(),
    })
}

/// GetPolicy's response (and, with `tags`, the stored record).
#[must_use]
pub fn policy_to_json(p: &PolicyDescription, times: TimeFormat) -> Value {
    json!({
        "policyName": p.policy_name.as_str(),
        "policyArn": p.policy_arn,
        "policyDocument": p.policy_document.as_str(),
        "defaultVersionId": p.default_version_id(),
        "creationDate": times.write(p.creation_date),
        "lastModifiedDate": times.write(p.last_modified_date),
        "generationId": p.generation_id,
        "tags": tags_to_json(&p.tags),
    })
}

/// A stored policy record ([`policy_to_json`] in epoch seconds) read back.
///
/// # Errors
/// A record that is not one this crate wrote.
pub fn policy_from_json(value: &Value) -> Result<PolicyDescription, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("record", "object"))?;
    let name = string(o, "policyName", "policyName")?.ok_or(RequestError::MissingMember { member: "policyName" })?;
    let body = json!({ "policyDocument": o.get("policyDocument"), "tags": o.get("tags") });
    let request = create_policy_request_from_rest(name, &body.to_string())?;
    let time = |key: &str| UnixTime::from_secs(o.get(key).and_then(Value::as_i64).unwrap_or(0));
    Ok(PolicyDescription {
        policy_name: request.policy_name,
        policy_arn: string(o, "policyArn", "policyArn")?.unwrap_or_default().to_owned(),
        policy_document: request.policy_document,
        creation_date: time("creationDate"),
        last_modified_date: time("lastModifiedDate"),
        generation_id: string(o, "generationId", "generationId")?.unwrap_or_default().to_owned(),
        tags: request.tags,
    })
}

/// ListPolicies' query string (`pageSize`, `marker`, `isAscendingOrder`).
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn list_policies_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    list_query(&Query::parse(query), "marker")
}

/// ListPolicies' and ListAttachedPolicies' response.
#[must_use]
pub fn list_policies_response_to_json(page: &Page<&PolicyDescription>) -> Value {
    page_to_json(
        page,
        "policies",
        "nextMarker",
        |p| json!({ "policyName": p.policy_name.as_str(), "policyArn": p.policy_arn }),
    )
}

/// AttachPolicy's and DetachPolicy's `target`: one of the scope's device certificates.
///
/// # Errors
/// InvalidRequestException for a body without a string `target`; an ARN that is not one of the
/// scope's certificates is ResourceNotFoundException.
pub fn policy_target_from_json(body: &str, scope: &AccountScope) -> Result<ResourceArn, Error> {
    let top = document_object(body)?;
    refuse_unknown(&top, "", &["target"])?;
    let target = string(&top, "target", "target")?.ok_or(RequestError::MissingMember { member: "target" })?;
    ResourceArn::parse_certificate(target, scope)
}

/// ListAttachedPolicies from its path target and query (`pageSize`, `marker`, `recursive`: no
/// group of a certificate carries policies here, so it changes nothing).
///
/// # Errors
/// InvalidRequestException errors naming the member; the target as [`policy_target_from_json`].
pub fn list_attached_policies_request_from_rest(
    path_target: &str,
    query: &str,
    scope: &AccountScope,
) -> Result<(ResourceArn, ListQuery), Error> {
    let target = ResourceArn::parse_certificate(path_target, scope)?;
    let query = Query::parse(query);
    query.boolean("recursive")?;
    let list = list_query(&query, "marker")?.with_order(SortOrder::Ascending);
    Ok((target, list))
}

/// ListTargetsForPolicy's query string (`pageSize`, `marker`), targets in ARN order.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn list_targets_for_policy_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    Ok(list_query(&Query::parse(query), "marker")?.with_order(SortOrder::Ascending))
}

/// ListTargetsForPolicy's response.
#[must_use]
pub fn list_targets_for_policy_response_to_json(page: &Page<&String>) -> Value {
    page_to_json(page, "targets", "nextMarker", |t| Value::String((*t).clone()))
}

/// The `x-amzn-principal` header of the thing principal operations: one of the scope's device
/// certificates.
///
/// # Errors
/// [`RequestError::MissingMember`] without the header (InvalidRequestException); an ARN that is
/// not one of the scope's certificates is ResourceNotFoundException.
pub fn principal_from_header(header: Option<&str>, scope: &AccountScope) -> Result<ResourceArn, Error> {
    let text = header.ok_or(RequestError::MissingMember { member: "principal" })?;
    ResourceArn::parse_certificate(text, scope)
}

/// ListThingPrincipals' and ListPrincipalThings' query string (`maxResults`, `nextToken`).
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn list_registry_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    registry_list_query(&Query::parse(query))
}

/// ListThingPrincipals' response.
#[must_use]
pub fn list_thing_principals_response_to_json(page: &Page<&String>) -> Value {
    page_to_json(page, "principals", "nextToken", |p| Value::String((*p).clone()))
}

/// ListPrincipalThings' response.
#[must_use]
pub fn list_principal_things_response_to_json(page: &Page<&String>) -> Value {
    page_to_json(page, "things", "nextToken", |t| Value::String((*t).clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ThingError;
    use crate::model::scope::{AccountId, Region};

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
    }

    #[test]
    fn things_decode_as_the_cli_sends_them() {
        let r = create_thing_request_from_rest(
            "t1",
            r#"{"thingTypeName": "tt", "attributePayload": {"attributes": {"color": "red", "size": "big"}}}"#,
        )
        .unwrap();
        assert_eq!(r.thing_type_name.unwrap().as_str(), "tt");
        assert_eq!(r.attribute_payload.unwrap().attributes.get("size"), Some("big"));
        assert!(create_thing_request_from_rest("t1", "").is_ok());
        assert!(matches!(
            create_thing_request_from_rest("t1", r#"{"attributePayload": {"attributes": {"a": 1}}}"#),
            Err(Error::Request(RequestError::WrongType { .. }))
        ));
        assert!(matches!(
            create_thing_request_from_rest("t 1", "{}"),
            Err(Error::Request(RequestError::Pattern { member: "thingName", .. }))
        ));
        let u = update_thing_request_from_rest(
            "t1",
            r#"{"attributePayload": {"attributes": {"color": "blue", "size": ""}, "merge": true}, "expectedVersion": 1, "removeThingType": true}"#,
        )
        .unwrap();
        assert!(u.remove_thing_type && u.attribute_payload.unwrap().merge);
        assert_eq!(u.expected_version, Some(1));
        assert_eq!(delete_thing_request_from_rest("t1", "expectedVersion=2").unwrap().expected_version, Some(2));
    }

    #[test]
    fn records_round_trip() {
        let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(9);
        let request =
            create_thing_request_from_rest("t1", r#"{"attributePayload": {"attributes": {"a": "1"}}}"#).unwrap();
        let thing =
            crate::thing::things::create_thing(&request, &crate::ThingFacts::new(), &scope(), &mut rng).unwrap().thing;
        assert_eq!(thing_from_json(&thing_to_json(&thing)).unwrap(), thing);
        let policy = crate::thing::policies::create_policy(
            &create_policy_request_from_rest(
                "p1",
                r#"{"policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":{}}", "tags": [{"Key": "k", "Value": "v"}]}"#,
            )
            .unwrap(),
            None,
            &scope(),
            &mut rng,
            UnixTime::from_secs(1_767_225_600),
        )
        .unwrap();
        assert_eq!(policy_from_json(&policy_to_json(&policy, TimeFormat::EpochSeconds)).unwrap(), policy);
        let group = crate::thing::groups::create_thing_group(
            &create_thing_group_request_from_rest(
                "g1",
                r#"{"thingGroupProperties": {"thingGroupDescription": "d", "attributePayload": {"attributes": {"a": "1"}}}}"#,
            )
            .unwrap(),
            None,
            None,
            &scope(),
            &mut rng,
            UnixTime::from_secs(1_767_225_600),
        )
        .unwrap()
        .group;
        assert_eq!(thing_group_from_json(&thing_group_to_json(&group, TimeFormat::EpochSeconds)).unwrap(), group);
        let t = crate::thing::groups::create_thing_type(
            &create_thing_type_request_from_rest("tt", r#"{"thingTypeProperties": {"searchableAttributes": ["a"]}}"#)
                .unwrap(),
            None,
            &scope(),
            &mut rng,
            UnixTime::from_secs(1_767_225_600),
        )
        .unwrap();
        assert_eq!(thing_type_from_json(&thing_type_to_json(&t, TimeFormat::EpochSeconds)).unwrap(), t);
    }

    #[test]
    fn policies_and_principals_decode() {
        assert!(matches!(
            create_policy_request_from_rest("p1", r#"{"policyDocument": "{}"}"#),
            Err(Error::Thing(ThingError::MalformedPolicy { .. }))
        ));
        assert!(matches!(
            create_policy_request_from_rest("p1", "{}"),
            Err(Error::Request(RequestError::MissingMember { member: "policyDocument" }))
        ));
        let arn = format!("arn:aws:iot:us-east-1:123456789012:cert/{}", "a".repeat(64));
        let target = policy_target_from_json(&format!(r#"{{"target": "{arn}"}}"#), &scope()).unwrap();
        assert_eq!(target.as_str(), arn);
        assert!(matches!(
            principal_from_header(None, &scope()),
            Err(Error::Request(RequestError::MissingMember { .. }))
        ));
        let ca = format!("arn:aws:iot:us-east-1:123456789012:cacert/{}", "a".repeat(64));
        assert!(matches!(principal_from_header(Some(&ca), &scope()), Err(Error::Resource(_))));
        let (list, filter) = list_things_query_from_rest(
            "maxResults=2&attributeName=color&attributeValue=re&usePrefixAttributeValue=true",
        )
        .unwrap();
        assert_eq!(list.page_size().get(), 2);
        assert!(filter.prefix && filter.attribute.is_some());
        assert!(matches!(
            list_things_query_from_rest("attributeName=color"),
            Err(Error::Request(RequestError::MissingMember { member: "attributeValue" }))
        ));
    }
}
