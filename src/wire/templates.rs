//! Provisioning templates and RegisterThing on botocore's REST-JSON routes:
//!
//! | operation | route |
//! |---|---|
//! | CreateProvisioningTemplate | `POST /provisioning-templates` |
//! | DescribeProvisioningTemplate | `GET /provisioning-templates/{templateName}` |
//! | ListProvisioningTemplates | `GET /provisioning-templates?maxResults&nextToken` |
//! | UpdateProvisioningTemplate | `PATCH /provisioning-templates/{templateName}` |
//! | DeleteProvisioningTemplate | `DELETE /provisioning-templates/{templateName}` |
//! | CreateProvisioningTemplateVersion | `POST /provisioning-templates/{templateName}/versions?setAsDefault` |
//! | ListProvisioningTemplateVersions | `GET /provisioning-templates/{templateName}/versions` |
//! | Describe/DeleteProvisioningTemplateVersion | `GET`/`DELETE /provisioning-templates/{templateName}/versions/{versionId}` |
//! | RegisterThing | `POST /things` (templateBody, parameters) |

use serde_json::{Map, Value, json};

use super::json::{
    Query, TimeFormat, boolean, document_object, refuse_unknown, string, tag_pairs, tags_to_json, wrong_type,
};
use crate::device::jitp::TemplateParameters;
use crate::error::{Error, RequestError};
use crate::model::enums::TemplateType;
use crate::model::paging::{ListQuery, Marker, Page, PageSize, SortOrder};
use crate::model::registration_config::RoleArn;
use crate::model::tags::Tags;
use crate::model::template::TemplateName;
use crate::provisioning::plan::Plan;
use crate::provisioning::templates::{
    CreateTemplateRequest, ProvisioningHook, TemplateDescription, TemplateVersion, UpdateTemplateRequest,
    check_description,
};
use crate::x509::time::UnixTime;

/// Longest RegisterThing parameter name. AWS model: `Parameter` max 2048.
pub const MAX_PARAMETER_NAME_CHARS: usize = 2048;
/// Longest RegisterThing parameter value. AWS model: `Value` max 4096.
pub const MAX_PARAMETER_VALUE_CHARS: usize = 4096;
/// Most parameters a request may give (our rule: a template reads at most as many as it
/// declares, which its 10,240 characters bound).
pub const MAX_PARAMETERS: usize = 256;

fn hook(o: &Map<String, Value>) -> Result<Option<ProvisioningHook>, Error> {
    match o.get("preProvisioningHook") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(h)) => {
            refuse_unknown(h, "preProvisioningHook.", &["targetArn", "payloadVersion"])?;
            let target = string(h, "targetArn", "preProvisioningHook.targetArn")?
                .ok_or(RequestError::MissingMember { member: "preProvisioningHook.targetArn" })?;
            ProvisioningHook::new(target, string(h, "payloadVersion", "preProvisioningHook.payloadVersion")?).map(Some)
        }
        Some(_) => Err(wrong_type("preProvisioningHook", "object")),
    }
}

fn description(o: &Map<String, Value>) -> Result<Option<String>, Error> {
    let text = string(o, "description", "description")?;
    if let Some(text) = text {
        check_description(text)?;
    }
    Ok(text.map(str::to_owned))
}

fn required<'a>(o: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, Error> {
    string(o, key, key)?.ok_or(Error::Request(RequestError::MissingMember { member: key }))
}

/// CreateProvisioningTemplate's body: every member of the model. The body itself is checked by
/// the engine when the template is created.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_template_request_from_json(body: &str) -> Result<CreateTemplateRequest, Error> {
    let o = document_object(body)?;
    refuse_unknown(
        &o,
        "",
        &[
            "templateName",
            "description",
            "templateBody",
            "enabled",
            "provisioningRoleArn",
            "preProvisioningHook",
            "tags",
            "type",
        ],
    )?;
    let name = TemplateName::parse(required(&o, "templateName")?)?;
    let template_body = required(&o, "templateBody")?.to_owned();
    let role = RoleArn::parse_member(required(&o, "provisioningRoleArn")?, "provisioningRoleArn")?;
    let mut request = CreateTemplateRequest::new(name, template_body, role);
    request.description = description(&o)?;
    request.enabled = boolean(&o, "enabled")?;
    request.pre_provisioning_hook = hook(&o)?;
    request.tags = Tags::new(&tag_pairs(&o)?)?;
    if let Some(kind) = string(&o, "type", "type")? {
        request.template_type = TemplateType::parse(kind, "type")?;
    }
    Ok(request)
}

/// UpdateProvisioningTemplate from its path name and body.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn update_template_request_from_rest(path_name: &str, body: &str) -> Result<UpdateTemplateRequest, Error> {
    let mut request = UpdateTemplateRequest::new(TemplateName::parse(path_name)?);
    let o = if body.trim().is_empty() { Map::new() } else { document_object(body)? };
    refuse_unknown(
        &o,
        "",
        &[
            "description",
            "enabled",
            "defaultVersionId",
            "provisioningRoleArn",
            "preProvisioningHook",
            "removePreProvisioningHook",
        ],
    )?;
    request.description = description(&o)?;
    request.enabled = match o.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(wrong_type("enabled", "boolean")),
    };
    request.default_version_id = match o.get("defaultVersionId") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| wrong_type("defaultVersionId", "integer"))?,
        ),
    };
    request.provisioning_role_arn = string(&o, "provisioningRoleArn", "provisioningRoleArn")?
        .map(|r| RoleArn::parse_member(r, "provisioningRoleArn"))
        .transpose()?;
    request.pre_provisioning_hook = hook(&o)?;
    request.remove_pre_provisioning_hook = boolean(&o, "removePreProvisioningHook")?;
    Ok(request)
}

/// CreateProvisioningTemplateVersion from its path name, query and body: the name, the body
/// and `setAsDefault`.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_template_version_request_from_rest(
    path_name: &str,
    query: &str,
    body: &str,
) -> Result<(TemplateName, String, bool), Error> {
    let name = TemplateName::parse(path_name)?;
    let set_as_default = Query::parse(query).boolean("setAsDefault")?.unwrap_or(false);
    let o = document_object(body)?;
    refuse_unknown(&o, "", &["templateBody"])?;
    Ok((name, required(&o, "templateBody")?.to_owned(), set_as_default))
}

/// A `{versionId}` path segment.
///
/// # Errors
/// [`RequestError::WrongType`] unless a positive integer (InvalidRequestException).
pub fn template_version_id_from_path(text: &str) -> Result<u32, Error> {
    text.parse::<u32>().ok().filter(|v| *v > 0).ok_or_else(|| wrong_type("versionId", "integer"))
}

/// The query string of ListProvisioningTemplates and ListProvisioningTemplateVersions
/// (`maxResults`, `nextToken`), in name (or id) order.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn list_templates_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    let query = Query::parse(query);
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

/// CreateProvisioningTemplate's response.
#[must_use]
pub fn create_template_response_to_json(t: &TemplateDescription) -> Value {
    json!({
        "templateArn": t.template_arn,
        "templateName": t.template_name.as_str(),
        "defaultVersionId": t.default_version_id,
    })
}

/// A template as stored (`record`), or, with its default version's body, as
/// DescribeProvisioningTemplate answers.
#[must_use]
pub fn template_to_json(t: &TemplateDescription, body: Option<&str>, times: TimeFormat) -> Value {
    let mut o = Map::new();
    o.insert("templateArn".into(), t.template_arn.clone().into());
    o.insert("templateName".into(), t.template_name.as_str().into());
    if let Some(d) = &t.description {
        o.insert("description".into(), d.clone().into());
    }
    o.insert("creationDate".into(), times.write(t.creation_date));
    o.insert("lastModifiedDate".into(), times.write(t.last_modified_date));
    o.insert("defaultVersionId".into(), t.default_version_id.into());
    if let Some(body) = body {
        o.insert("templateBody".into(), body.into());
    }
    o.insert("enabled".into(), t.enabled.into());
    o.insert("provisioningRoleArn".into(), t.provisioning_role_arn.as_str().into());
    if let Some(h) = &t.pre_provisioning_hook {
        o.insert(
            "preProvisioningHook".into(),
            json!({ "targetArn": h.target_arn, "payloadVersion": h.payload_version }),
        );
    }
    o.insert("type".into(), t.template_type.as_str().into());
    Value::Object(o)
}

/// The stored record of a template: [`template_to_json`] in epoch seconds, with its tags.
#[must_use]
pub fn template_record_to_json(t: &TemplateDescription) -> Value {
    let mut v = template_to_json(t, None, TimeFormat::EpochSeconds);
    if let Some(o) = v.as_object_mut() {
        o.insert("tags".into(), tags_to_json(&t.tags));
    }
    v
}

/// A stored template record read back.
///
/// # Errors
/// A record that is not one this crate wrote.
pub fn template_record_from_json(value: &Value) -> Result<TemplateDescription, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("record", "object"))?;
    let name = TemplateName::parse(required(o, "templateName")?)?;
    let role = RoleArn::parse_member(required(o, "provisioningRoleArn")?, "provisioningRoleArn")?;
    let time = |key: &str| UnixTime::from_secs(o.get(key).and_then(Value::as_i64).unwrap_or(0));
    Ok(TemplateDescription {
        template_arn: required(o, "templateArn")?.to_owned(),
        template_name: name,
        description: description(o)?,
        enabled: boolean(o, "enabled")?,
        provisioning_role_arn: role,
        template_type: TemplateType::parse(required(o, "type")?, "type")?,
        pre_provisioning_hook: hook(o)?,
        default_version_id: o
            .get("defaultVersionId")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| wrong_type("defaultVersionId", "integer"))?,
        creation_date: time("creationDate"),
        last_modified_date: time("lastModifiedDate"),
        tags: Tags::new(&tag_pairs(o)?)?,
    })
}

/// ListProvisioningTemplates' response.
#[must_use]
pub fn list_templates_response_to_json(page: &Page<&TemplateDescription>, times: TimeFormat) -> Value {
    let mut out = Map::new();
    let entries = page
        .items
        .iter()
        .map(|t| {
            let mut e = template_to_json(t, None, times);
            if let Some(o) = e.as_object_mut() {
                for key in ["defaultVersionId", "provisioningRoleArn", "preProvisioningHook"] {
                    o.remove(key);
                }
            }
            e
        })
        .collect();
    out.insert("templates".into(), Value::Array(entries));
    if let Some(token) = &page.next_marker {
        out.insert("nextToken".into(), token.clone().into());
    }
    Value::Object(out)
}

/// CreateProvisioningTemplateVersion's response.
#[must_use]
pub fn create_template_version_response_to_json(t: &TemplateDescription, v: &TemplateVersion) -> Value {
    json!({
        "templateArn": t.template_arn,
        "templateName": t.template_name.as_str(),
        "versionId": v.version_id,
        "isDefaultVersion": t.default_version_id == v.version_id,
    })
}

/// DescribeProvisioningTemplateVersion's response (`with_body`), or one entry of
/// ListProvisioningTemplateVersions.
#[must_use]
pub fn template_version_to_json(
    t: &TemplateDescription,
    v: &TemplateVersion,
    with_body: bool,
    times: TimeFormat,
) -> Value {
    let mut o = Map::new();
    o.insert("versionId".into(), v.version_id.into());
    o.insert("creationDate".into(), times.write(v.creation_date));
    if with_body {
        o.insert("templateBody".into(), v.template_body.clone().into());
    }
    o.insert("isDefaultVersion".into(), (t.default_version_id == v.version_id).into());
    Value::Object(o)
}

/// ListProvisioningTemplateVersions' response.
#[must_use]
pub fn list_template_versions_response_to_json(
    t: &TemplateDescription,
    page: &Page<&TemplateVersion>,
    times: TimeFormat,
) -> Value {
    let mut out = Map::new();
    out.insert(
        "versions".into(),
        Value::Array(page.items.iter().map(|v| template_version_to_json(t, v, false, times)).collect()),
    );
    if let Some(token) = &page.next_marker {
        out.insert("nextToken".into(), token.clone().into());
    }
    Value::Object(out)
}

/// A `parameters` map as JSON (the pre-provisioning hook's input).
#[must_use]
pub fn template_parameters_to_json(parameters: &TemplateParameters) -> Value {
    Value::Object(parameters.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect())
}

/// A `parameters` map (RegisterThing, fleet provisioning): names 0..=2048 and values 0..=4096
/// characters, at most [`MAX_PARAMETERS`].
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn template_parameters_from_json(value: Option<&Value>) -> Result<TemplateParameters, Error> {
    let map = match value {
        None | Some(Value::Null) => return Ok(TemplateParameters::default()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(wrong_type("parameters", "object")),
    };
    if map.len() > MAX_PARAMETERS {
        return Err(RequestError::Length { member: "parameters", len: map.len(), min: 0, max: MAX_PARAMETERS }.into());
    }
    let mut pairs = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = value.as_str().ok_or_else(|| {
            wrong_type(&format!("parameters.{}", name.chars().take(256).collect::<String>()), "string")
        })?;
        let (n, v) = (name.chars().count(), value.chars().count());
        if n > MAX_PARAMETER_NAME_CHARS {
            return Err(RequestError::Length {
                member: "parameters.key",
                len: n,
                min: 0,
                max: MAX_PARAMETER_NAME_CHARS,
            }
            .into());
        }
        if v > MAX_PARAMETER_VALUE_CHARS {
            return Err(RequestError::Length {
                member: "parameters.value",
                len: v,
                min: 0,
                max: MAX_PARAMETER_VALUE_CHARS,
            }
            .into());
        }
        pairs.push((name.as_str(), value));
    }
    Ok(TemplateParameters::from_pairs(pairs))
}

/// RegisterThing's body: the template body and its parameters.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn register_thing_request_from_json(body: &str) -> Result<(String, TemplateParameters), Error> {
    let o = document_object(body)?;
    refuse_unknown(&o, "", &["templateBody", "parameters"])?;
    let template_body = required(&o, "templateBody")?.to_owned();
    Ok((template_body, template_parameters_from_json(o.get("parameters"))?))
}

/// RegisterThing's response: `certificatePem` (when the template has a certificate) and
/// `resourceArns` by logical name.
#[must_use]
pub fn register_thing_response_to_json(plan: &Plan) -> Value {
    let mut out = Map::new();
    if let Some(c) = &plan.certificate {
        out.insert("certificatePem".into(), c.certificate_pem.clone().into());
    }
    let arns: Map<String, Value> = plan.resource_arns.iter().map(|(l, a)| (l.clone(), a.clone().into())).collect();
    out.insert("resourceArns".into(), Value::Object(arns));
    Value::Object(out)
}

/// A plan as the CLI shows it: `{"thingName"?, "resourceArns", "deviceConfiguration", "writes":
/// [{"write", ...}]}`, each write named as the operation it amounts to.
#[must_use]
pub fn plan_to_json(plan: &Plan) -> Value {
    use crate::provisioning::plan::PlanWrite as W;
    let writes: Vec<Value> = plan
        .writes
        .iter()
        .map(|w| match w {
            W::CreateThing(t) => json!({ "write": "CreateThing", "thingName": t.thing_name.as_str(), "thingArn": t.thing_arn }),
            W::UpdateThing(t) => json!({ "write": "UpdateThing", "thingName": t.thing_name.as_str(), "version": t.version }),
            W::AddThingToGroup { thing, group } => {
                json!({ "write": "AddThingToThingGroup", "thingName": thing.as_str(), "thingGroupName": group.as_str() })
            }
            W::RemoveThingFromGroup { thing, group } => json!({
                "write": "RemoveThingFromThingGroup", "thingName": thing.as_str(), "thingGroupName": group.as_str()
            }),
            W::CreatePolicy(p) => json!({ "write": "CreatePolicy", "policyName": p.policy_name.as_str() }),
            W::AttachPolicy { policy, target } => {
                json!({ "write": "AttachPolicy", "policyName": policy.as_str(), "target": target.as_str() })
            }
            W::AttachThingPrincipal { thing, principal } => {
                json!({ "write": "AttachThingPrincipal", "thingName": thing.as_str(), "principal": principal.as_str() })
            }
            W::UpdateCertificate(d) => json!({
                "write": "UpdateCertificate", "certificateId": d.certificate_id.as_str(), "newStatus": d.status.as_str()
            }),
        })
        .collect();
    let mut out = Map::new();
    if let Some(name) = &plan.thing_name {
        out.insert("thingName".into(), name.as_str().into());
    }
    out.insert(
        "resourceArns".into(),
        Value::Object(plan.resource_arns.iter().map(|(l, a)| (l.clone(), a.clone().into())).collect()),
    );
    out.insert(
        "deviceConfiguration".into(),
        Value::Object(plan.device_configuration.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect()),
    );
    out.insert("writes".into(), Value::Array(writes));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_decode_as_the_cli_sends_them() {
        let r = create_template_request_from_json(
            r#"{"templateName": "tpl", "templateBody": "{\"Resources\":{}}", "enabled": true,
                "provisioningRoleArn": "arn:aws:iam::123456789012:role/ProvRole",
                "preProvisioningHook": {"targetArn": "arn:aws:lambda:us-east-1:123456789012:function:hook"},
                "tags": [{"Key": "env", "Value": "dev"}], "type": "FLEET_PROVISIONING"}"#,
        )
        .unwrap();
        assert!(r.enabled);
        assert_eq!(r.pre_provisioning_hook.unwrap().payload_version, "2020-04-01");
        assert!(matches!(
            create_template_request_from_json(r#"{"templateName": "tpl", "templateBody": "{}"}"#),
            Err(Error::Request(RequestError::MissingMember { member: "provisioningRoleArn" }))
        ));
        let u = update_template_request_from_rest(
            "tpl",
            r#"{"enabled": false, "defaultVersionId": 2, "removePreProvisioningHook": true}"#,
        )
        .unwrap();
        assert_eq!((u.enabled, u.default_version_id, u.remove_pre_provisioning_hook), (Some(false), Some(2), true));
        let (name, body, default) =
            create_template_version_request_from_rest("tpl", "setAsDefault=true", r#"{"templateBody": "{}"}"#).unwrap();
        assert_eq!((name.as_str(), body.as_str(), default), ("tpl", "{}", true));
        assert_eq!(template_version_id_from_path("2"), Ok(2));
        assert!(template_version_id_from_path("0").is_err());
        let (body, params) =
            register_thing_request_from_json(r#"{"templateBody": "{}", "parameters": {"ThingName": "t1"}}"#).unwrap();
        assert_eq!((body.as_str(), params.get("ThingName")), ("{}", Some("t1")));
        assert!(matches!(
            register_thing_request_from_json(r#"{"templateBody": "{}", "parameters": {"a": 1}}"#),
            Err(Error::Request(RequestError::WrongType { .. }))
        ));
    }
}
