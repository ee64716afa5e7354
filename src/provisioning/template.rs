//! A provisioning template body, parsed and checked once ([`ProvisioningTemplate::parse`]),
//! then bound to parameters ([`ProvisioningTemplate::bind`]): every property evaluated, with
//! the intrinsic functions `Ref`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap` and
//! `Fn::Sub` (AWS IoT Developer Guide, "Provisioning templates"). Every fault is a
//! [`TemplateError`] naming the path in the body (`Resources.thing.Properties.ThingName`).
//!
//! The body is untrusted: it is bounded in size before it is parsed, in depth while it is
//! walked, and every list it can make is bounded.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::device::jitp::TemplateParameters;
use crate::error::{Error, TemplateError, TemplateProblem};
use crate::model::attributes::Attributes;
use crate::model::certificate_id::CertificateId;
use crate::model::enums::{CertificateStatus, TemplateType};
use crate::model::names::{BillingGroupName, PolicyName, ThingGroupName, ThingName, ThingTypeName};
use crate::model::policy_document::PolicyDocument;
use crate::model::registration_config::MAX_TEMPLATE_BODY_CHARS;

/// Deepest nesting of JSON a template may have (our rule; AWS's examples nest 5 levels).
pub const MAX_TEMPLATE_DEPTH: usize = 16;
/// Most policies one template may create or attach (AWS IoT quota: 10 policies per target).
pub const MAX_TEMPLATE_POLICIES: usize = 10;
/// Most items a list the template builds may have (`Fn::Split`, `ThingGroups`; our rule).
pub const MAX_LIST_ITEMS: usize = 256;
/// Longest string an intrinsic function may build (our rule: the body's own bound).
pub const MAX_BUILT_CHARS: usize = MAX_TEMPLATE_BODY_CHARS;

/// An override setting (`OverrideSettings`): what to do when a resource exists already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Override {
    /// Leave what exists (our rule: the default when a setting is absent).
    #[default]
    DoNothing,
    /// Replace it with the template's.
    Replace,
    /// Refuse the provisioning (ResourceRegistrationFailureException).
    Fail,
    /// Merge (a thing's AttributePayload and ThingGroups only).
    Merge,
}

impl Override {
    fn parse(text: &str, path: &str, merge_allowed: bool) -> Result<Self, TemplateError> {
        match text {
            "DO_NOTHING" => Ok(Self::DoNothing),
            "REPLACE" => Ok(Self::Replace),
            "FAIL" => Ok(Self::Fail),
            "MERGE" if merge_allowed => Ok(Self::Merge),
            other => Err(TemplateError::at(path, TemplateProblem::OverrideValue { value: shown(other) })),
        }
    }
}

/// A thing's override settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ThingOverrides {
    /// `AttributePayload`.
    pub attribute_payload: Override,
    /// `ThingTypeName`.
    pub thing_type_name: Override,
    /// `ThingGroups`.
    pub thing_groups: Override,
}

fn shown(text: &str) -> String {
    text.chars().take(256).collect()
}

/// An expression of the template: a literal or an intrinsic function, kept as the JSON it was
/// and the path it stands at.
#[derive(Clone, Debug, PartialEq)]
struct Expr {
    value: Value,
    path: String,
}

/// A thing resource.
#[derive(Clone, Debug, PartialEq)]
struct ThingResource {
    logical: String,
    name: Option<Expr>,
    attributes: Option<Expr>,
    thing_type: Option<Expr>,
    groups: Option<Expr>,
    billing_group: Option<Expr>,
    overrides: ThingOverrides,
}

/// How a certificate resource names its certificate.
#[derive(Clone, Debug, PartialEq)]
enum CertificateSource {
    Id(Expr),
    Pem { pem: Expr, ca_pem: Option<Expr> },
    Csr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
struct CertificateResource {
    logical: String,
    source: CertificateSource,
    status: Option<Expr>,
    status_override: Override,
}

#[derive(Clone, Debug, PartialEq)]
struct PolicyResource {
    logical: String,
    name: Option<Expr>,
    document: Option<Expr>,
}

/// A template that passed every structural check: sections, parameter declarations, resource
/// types and properties, function names and their argument shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvisioningTemplate {
    kind: Option<TemplateType>,
    parameters: BTreeMap<String, Option<String>>,
    mappings: Map<String, Value>,
    thing: Option<ThingResource>,
    certificate: Option<CertificateResource>,
    policies: Vec<PolicyResource>,
    device_configuration: Vec<(String, Expr)>,
}

/// The functions a template may call.
const FUNCTIONS: [&str; 6] = ["Ref", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::Sub"];

fn wrong_type(path: &str, expected: &'static str) -> TemplateError {
    TemplateError::at(path, TemplateProblem::WrongType { expected })
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, TemplateError> {
    value.as_object().ok_or_else(|| wrong_type(path, "object"))
}

fn refuse_unknown(object: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), TemplateError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(TemplateError::at(&format!("{path}.{}", shown(k)), TemplateProblem::UnknownKey)),
        None => Ok(()),
    }
}

/// Checks `value` as an expression at `path`: literals, lists and maps of expressions, and
/// single-key objects naming a known function with arguments of its shape.
fn check_expr(value: &Value, path: &str, depth: usize) -> Result<(), TemplateError> {
    if depth > MAX_TEMPLATE_DEPTH {
        return Err(TemplateError::at(path, TemplateProblem::TooDeep { max: MAX_TEMPLATE_DEPTH }));
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_expr(item, &format!("{path}.{i}"), depth + 1)?;
            }
            Ok(())
        }
        Value::Object(o) => {
            if let Some(key) = function_of(o) {
                let args = &o[key];
                let fpath = format!("{path}.{key}");
                let arity = |n: usize| -> Result<&Vec<Value>, TemplateError> {
                    match args.as_array() {
                        Some(a) if a.len() == n => Ok(a),
                        _ => Err(TemplateError::at(&fpath, TemplateProblem::FunctionArguments)),
                    }
                };
                match key {
                    "Ref" => {
                        if !args.is_string() {
                            return Err(TemplateError::at(&fpath, TemplateProblem::FunctionArguments));
                        }
                    }
                    "Fn::Join" | "Fn::Select" | "Fn::Split" => {
                        for (i, arg) in arity(2)?.iter().enumerate() {
                            check_expr(arg, &format!("{fpath}.{i}"), depth + 1)?;
                        }
                    }
                    "Fn::FindInMap" => {
                        for (i, arg) in arity(3)?.iter().enumerate() {
                            check_expr(arg, &format!("{fpath}.{i}"), depth + 1)?;
                        }
                    }
                    _ => match args {
                        Value::String(_) => {}
                        Value::Array(a) if a.len() == 2 && a[0].is_string() => {
                            let vars = object(&a[1], &format!("{fpath}.1"))?;
                            for (name, v) in vars {
                                check_expr(v, &format!("{fpath}.1.{}", shown(name)), depth + 1)?;
                            }
                        }
                        _ => return Err(TemplateError::at(&fpath, TemplateProblem::FunctionArguments)),
                    },
                }
                return Ok(());
            }
            if let Some(k) = o.keys().find(|k| k.starts_with("Fn::")) {
                return Err(TemplateError::at(&format!("{path}.{}", shown(k)), TemplateProblem::UnknownFunction));
            }
            for (k, v) in o {
                check_expr(v, &format!("{path}.{}", shown(k)), depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The function a single-key object calls, if it is one.
fn function_of(o: &Map<String, Value>) -> Option<&'static str> {
    if o.len() != 1 {
        return None;
    }
    let key = o.keys().next()?;
    FUNCTIONS.iter().copied().find(|f| *f == key)
}

fn expr(value: &Value, path: String) -> Result<Expr, TemplateError> {
    check_expr(value, &path, 3)?;
    Ok(Expr { value: value.clone(), path })
}

fn optional(properties: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Expr>, TemplateError> {
    match properties.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => expr(v, format!("{path}.{key}")).map(Some),
    }
}

fn overrides(resource: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<Map<String, Value>, TemplateError> {
    match resource.get("OverrideSettings") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(v) => {
            let path = format!("{path}.OverrideSettings");
            let o = object(v, &path)?;
            refuse_unknown(o, &path, allowed)?;
            Ok(o.clone())
        }
    }
}

fn override_of(settings: &Map<String, Value>, key: &str, path: &str, merge: bool) -> Result<Override, TemplateError> {
    match settings.get(key) {
        None => Ok(Override::DoNothing),
        Some(Value::String(s)) => Override::parse(s, &format!("{path}.OverrideSettings.{key}"), merge),
        Some(_) => Err(wrong_type(&format!("{path}.OverrideSettings.{key}"), "string")),
    }
}

impl ProvisioningTemplate {
    /// Parses and checks a template body of `kind` (`None`: RegisterThing's body, any
    /// certificate form). JITP and fleet provisioning templates name their certificate by
    /// `CertificateId` only; `DeviceConfiguration` belongs to fleet provisioning templates.
    ///
    /// # Errors
    /// [`TemplateError`] naming the path of the first fault (InvalidRequestException).
    pub fn parse(body: &str, kind: Option<TemplateType>) -> Result<Self, Error> {
        let len = body.chars().take(MAX_TEMPLATE_BODY_CHARS + 1).count();
        if body.len() > 4 * MAX_TEMPLATE_BODY_CHARS || len > MAX_TEMPLATE_BODY_CHARS {
            return Err(TemplateError::at("", TemplateProblem::TooLong { max: MAX_TEMPLATE_BODY_CHARS }).into());
        }
        let value: Value = serde_json::from_str(body).map_err(|_| TemplateError::at("", TemplateProblem::NotJson))?;
        Ok(Self::from_value(&value, kind)?)
    }

    fn from_value(value: &Value, kind: Option<TemplateType>) -> Result<Self, TemplateError> {
        let top = object(value, "")?;
        let mut known = vec!["Parameters", "Resources", "Mappings"];
        if kind == Some(TemplateType::FleetProvisioning) {
            known.push("DeviceConfiguration");
        }
        if let Some(k) = top.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(TemplateError::at(&shown(k), TemplateProblem::UnknownKey));
        }
        let mut out = Self {
            kind,
            parameters: BTreeMap::new(),
            mappings: Map::new(),
            thing: None,
            certificate: None,
            policies: Vec::new(),
            device_configuration: Vec::new(),
        };
        if let Some(params) = top.get("Parameters").filter(|v| !v.is_null()) {
            for (name, declaration) in object(params, "Parameters")? {
                let path = format!("Parameters.{}", shown(name));
                let d = object(declaration, &path)?;
                refuse_unknown(d, &path, &["Type", "Default", "Description"])?;
                if d.get("Type").and_then(Value::as_str) != Some("String") {
                    return Err(TemplateError::at(&format!("{path}.Type"), TemplateProblem::ParameterType));
                }
                let default = match d.get("Default") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(Value::Bool(b)) => Some(b.to_string()),
                    Some(_) => return Err(wrong_type(&format!("{path}.Default"), "string")),
                };
                out.parameters.insert(name.clone(), default);
            }
        }
        if let Some(mappings) = top.get("Mappings").filter(|v| !v.is_null()) {
            for (name, map) in object(mappings, "Mappings")? {
                let path = format!("Mappings.{}", shown(name));
                for (key, inner) in object(map, &path)? {
                    let ipath = format!("{path}.{}", shown(key));
                    for (k, v) in object(inner, &ipath)? {
                        if !(v.is_string() || v.is_number() || v.is_boolean()) {
                            return Err(wrong_type(&format!("{ipath}.{}", shown(k)), "string"));
                        }
                    }
                }
            }
            out.mappings = object(mappings, "Mappings")?.clone();
        }
        let resources = top.get("Resources").ok_or_else(|| TemplateError::at("Resources", TemplateProblem::Missing))?;
        for (logical, resource) in object(resources, "Resources")? {
            out.add_resource(logical, resource)?;
        }
        if let Some(config) = top.get("DeviceConfiguration").filter(|v| !v.is_null()) {
            for (key, value) in object(config, "DeviceConfiguration")? {
                let path = format!("DeviceConfiguration.{}", shown(key));
                if let Some(o) = value.as_object()
                    && function_of(o).is_none()
                {
                    return Err(TemplateError::at(&path, TemplateProblem::Nested));
                }
                out.device_configuration.push((key.clone(), expr(value, path)?));
            }
        }
        Ok(out)
    }

    fn add_resource(&mut self, logical: &str, resource: &Value) -> Result<(), TemplateError> {
        let path = format!("Resources.{}", shown(logical));
        let r = object(resource, &path)?;
        refuse_unknown(r, &path, &["Type", "Properties", "OverrideSettings"])?;
        let kind = r
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| TemplateError::at(&format!("{path}.Type"), TemplateProblem::Missing))?;
        let ppath = format!("{path}.Properties");
        let empty = Map::new();
        let props = match r.get("Properties") {
            None | Some(Value::Null) => &empty,
            Some(v) => object(v, &ppath)?,
        };
        match kind {
            "AWS::IoT::Thing" => {
                if self.thing.is_some() {
                    return Err(TemplateError::at(&path, TemplateProblem::Duplicate));
                }
                refuse_unknown(
                    props,
                    &ppath,
                    &[
                        "ThingName",
                        "AttributePayload",
                        "ThingTypeName",
                        "ThingGroups",
                        "BillingGroup",
                        "PackageVersions",
                    ],
                )?;
                if props.contains_key("PackageVersions") {
                    return Err(TemplateError::at(&format!("{ppath}.PackageVersions"), TemplateProblem::Unsupported));
                }
                let settings = overrides(r, &path, &["AttributePayload", "ThingTypeName", "ThingGroups"])?;
                self.thing = Some(ThingResource {
                    logical: logical.to_owned(),
                    name: optional(props, "ThingName", &ppath)?,
                    attributes: optional(props, "AttributePayload", &ppath)?,
                    thing_type: optional(props, "ThingTypeName", &ppath)?,
                    groups: optional(props, "ThingGroups", &ppath)?,
                    billing_group: optional(props, "BillingGroup", &ppath)?,
                    overrides: ThingOverrides {
                        attribute_payload: override_of(&settings, "AttributePayload", &path, true)?,
                        thing_type_name: override_of(&settings, "ThingTypeName", &path, false)?,
                        thing_groups: override_of(&settings, "ThingGroups", &path, true)?,
                    },
                });
            }
            "AWS::IoT::Certificate" => {
                if self.certificate.is_some() {
                    return Err(TemplateError::at(&path, TemplateProblem::Duplicate));
                }
                refuse_unknown(
                    props,
                    &ppath,
                    &["CertificateId", "CertificatePem", "CACertificatePem", "CertificateSigningRequest", "Status"],
                )?;
                let id = optional(props, "CertificateId", &ppath)?;
                let pem = optional(props, "CertificatePem", &ppath)?;
                let ca_pem = optional(props, "CACertificatePem", &ppath)?;
                let csr = optional(props, "CertificateSigningRequest", &ppath)?;
                let source = match (id, pem, csr) {
                    (Some(id), None, None) if ca_pem.is_none() => CertificateSource::Id(id),
                    (None, Some(pem), None) => CertificateSource::Pem { pem, ca_pem },
                    (None, None, Some(csr)) if ca_pem.is_none() => CertificateSource::Csr(csr),
                    _ => return Err(TemplateError::at(&ppath, TemplateProblem::CertificateForm)),
                };
                if self.kind.is_some() && !matches!(source, CertificateSource::Id(_)) {
                    return Err(TemplateError::at(&ppath, TemplateProblem::CertificateIdOnly));
                }
                let settings = overrides(r, &path, &["Status"])?;
                self.certificate = Some(CertificateResource {
                    logical: logical.to_owned(),
                    source,
                    status: optional(props, "Status", &ppath)?,
                    status_override: override_of(&settings, "Status", &path, false)?,
                });
            }
            "AWS::IoT::Policy" => {
                if self.policies.len() >= MAX_TEMPLATE_POLICIES {
                    return Err(TemplateError::at(
                        &path,
                        TemplateProblem::TooManyPolicies { max: MAX_TEMPLATE_POLICIES },
                    ));
                }
                refuse_unknown(props, &ppath, &["PolicyName", "PolicyDocument"])?;
                if r.get("OverrideSettings").is_some() {
                    return Err(TemplateError::at(&format!("{path}.OverrideSettings"), TemplateProblem::UnknownKey));
                }
                let name = optional(props, "PolicyName", &ppath)?;
                let document = optional(props, "PolicyDocument", &ppath)?;
                if name.is_some() == document.is_some() {
                    return Err(TemplateError::at(&ppath, TemplateProblem::PolicyForm));
                }
                self.policies.push(PolicyResource { logical: logical.to_owned(), name, document });
            }
            other => {
                return Err(TemplateError::at(
                    &format!("{path}.Type"),
                    TemplateProblem::UnknownResourceType { found: shown(other) },
                ));
            }
        }
        Ok(())
    }

    /// The parameters the template declares, with their defaults.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.parameters.iter().map(|(n, d)| (n.as_str(), d.as_deref()))
    }

    /// Binds `given` (plus each declared parameter's `Default`) and evaluates every property.
    ///
    /// # Errors
    /// [`TemplateError`]: a `Ref` to an undeclared parameter or one with no value, a function
    /// that cannot be applied, a value outside its resource's rules (names, attributes,
    /// policies), each naming the path.
    pub fn bind(&self, given: &TemplateParameters) -> Result<BoundTemplate, Error> {
        let env = Env { template: self, given };
        let thing = self.thing.as_ref().map(|t| env.thing(t)).transpose()?;
        let certificate = self.certificate.as_ref().map(|c| env.certificate(c)).transpose()?;
        let policies = self.policies.iter().map(|p| env.policy(p)).collect::<Result<Vec<_>, _>>()?;
        let mut device_configuration = Vec::with_capacity(self.device_configuration.len());
        for (key, e) in &self.device_configuration {
            device_configuration.push((key.clone(), env.string(e)?));
        }
        Ok(BoundTemplate { thing, certificate, policies, device_configuration })
    }
}

/// A value a function answers: text, or a list of texts.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Text(String),
    List(Vec<String>),
}

struct Env<'a> {
    template: &'a ProvisioningTemplate,
    given: &'a TemplateParameters,
}

impl Env<'_> {
    fn parameter(&self, name: &str, path: &str) -> Result<String, TemplateError> {
        let Some(default) = self.template.parameters.get(name) else {
            return Err(TemplateError::at(path, TemplateProblem::UndeclaredParameter { name: shown(name) }));
        };
        self.given
            .get(name)
            .map(str::to_owned)
            .or_else(|| default.clone())
            .ok_or_else(|| TemplateError::at(path, TemplateProblem::MissingParameter { name: shown(name) }))
    }

    /// Evaluates `value` at `path`; objects that are not functions stay JSON (a literal policy
    /// document), with functions inside them applied.
    fn eval(&self, value: &Value, path: &str) -> Result<Value, TemplateError> {
        match value {
            Value::Object(o) => match function_of(o) {
                Some(f) => Ok(match self.call(f, &o[f], &format!("{path}.{f}"))? {
                    Val::Text(t) => Value::String(t),
                    Val::List(items) => Value::Array(items.into_iter().map(Value::String).collect()),
                }),
                None => {
                    let mut out = Map::new();
                    for (k, v) in o {
                        out.insert(k.clone(), self.eval(v, &format!("{path}.{k}"))?);
                    }
                    Ok(Value::Object(out))
                }
            },
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.eval(v, &format!("{path}.{i}")))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    fn text(&self, value: &Value, path: &str) -> Result<String, TemplateError> {
        match self.eval(value, path)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(wrong_type(path, "string")),
        }
    }

    fn list(&self, value: &Value, path: &str) -> Result<Vec<String>, TemplateError> {
        match self.eval(value, path)? {
            Value::Array(items) => {
                if items.len() > MAX_LIST_ITEMS {
                    return Err(TemplateError::at(path, TemplateProblem::TooMany { max: MAX_LIST_ITEMS }));
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(s) => Ok(s),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(wrong_type(&format!("{path}.{i}"), "string")),
                    })
                    .collect()
            }
            _ => Err(wrong_type(path, "array")),
        }
    }

    fn built(text: String, path: &str) -> Result<String, TemplateError> {
        if text.chars().take(MAX_BUILT_CHARS + 1).count() > MAX_BUILT_CHARS {
            return Err(TemplateError::at(path, TemplateProblem::TooLong { max: MAX_BUILT_CHARS }));
        }
        Ok(text)
    }

    fn call(&self, function: &str, args: &Value, path: &str) -> Result<Val, TemplateError> {
        let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
        let at = |i: usize| format!("{path}.{i}");
        match function {
            "Ref" => Ok(Val::Text(self.parameter(args.as_str().unwrap_or_default(), path)?)),
            "Fn::Join" => {
                let delimiter = self.text(arg(0), &at(0))?;
                let items = self.list(arg(1), &at(1))?;
                Ok(Val::Text(Self::built(items.join(&delimiter), path)?))
            }
            "Fn::Select" => {
                let index_text = self.text(arg(0), &at(0))?;
                let items = self.list(arg(1), &at(1))?;
                let index: usize = index_text
                    .parse()
                    .map_err(|_| TemplateError::at(&at(0), TemplateProblem::WrongType { expected: "index" }))?;
                items.get(index).cloned().map(Val::Text).ok_or_else(|| {
                    TemplateError::at(path, TemplateProblem::IndexOutOfRange { index, len: items.len() })
                })
            }
            "Fn::Split" => {
                let delimiter = self.text(arg(0), &at(0))?;
                let text = self.text(arg(1), &at(1))?;
                if delimiter.is_empty() {
                    return Err(TemplateError::at(
                        &at(0),
                        TemplateProblem::WrongType { expected: "non-empty delimiter" },
                    ));
                }
                let items: Vec<String> =
                    text.split(delimiter.as_str()).take(MAX_LIST_ITEMS + 1).map(str::to_owned).collect();
                if items.len() > MAX_LIST_ITEMS {
                    return Err(TemplateError::at(path, TemplateProblem::TooMany { max: MAX_LIST_ITEMS }));
                }
                Ok(Val::List(items))
            }
            "Fn::FindInMap" => {
                let keys = [self.text(arg(0), &at(0))?, self.text(arg(1), &at(1))?, self.text(arg(2), &at(2))?];
                let found = self
                    .template
                    .mappings
                    .get(&keys[0])
                    .and_then(|m| m.get(&keys[1]))
                    .and_then(|m| m.get(&keys[2]))
                    .ok_or_else(|| TemplateError::at(path, TemplateProblem::NotInMappings { keys: keys.join(".") }))?;
                match found {
                    Value::String(s) => Ok(Val::Text(s.clone())),
                    other => Ok(Val::Text(other.to_string())),
                }
            }
            _ => {
                let (text, vars) = match args {
                    Value::String(s) => (s.as_str(), None),
                    _ => (arg(0).as_str().unwrap_or_default(), arg(1).as_object()),
                };
                let mut out = String::new();
                let mut rest = text;
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let after = &rest[start + 2..];
                    let end =
                        after.find('}').ok_or_else(|| TemplateError::at(path, TemplateProblem::FunctionArguments))?;
                    let name = &after[..end];
                    let value = match vars.and_then(|v| v.get(name)) {
                        Some(v) => self.text(v, &format!("{path}.1.{name}"))?,
                        None => self.parameter(name, path)?,
                    };
                    out.push_str(&value);
                    if out.len() > 4 * MAX_BUILT_CHARS {
                        return Err(TemplateError::at(path, TemplateProblem::TooLong { max: MAX_BUILT_CHARS }));
                    }
                    rest = &after[end + 1..];
                }
                out.push_str(rest);
                Ok(Val::Text(Self::built(out, path)?))
            }
        }
    }

    fn string(&self, e: &Expr) -> Result<String, TemplateError> {
        self.text(&e.value, &e.path)
    }

    fn name<T>(
        &self,
        e: &Expr,
        parse: fn(&str, &'static str) -> Result<T, Error>,
        member: &'static str,
    ) -> Result<T, TemplateError> {
        let text = self.string(e)?;
        parse(&text, member)
            .map_err(|inner| TemplateError::at(&e.path, TemplateProblem::Value { reason: inner.to_string() }))
    }

    fn thing(&self, t: &ThingResource) -> Result<BoundThing, TemplateError> {
        let name_expr = t.name.as_ref().ok_or_else(|| {
            TemplateError::at(&format!("Resources.{}.Properties.ThingName", t.logical), TemplateProblem::Missing)
        })?;
        let name = self.name(name_expr, ThingName::parse_member, "ThingName")?;
        let attributes = match &t.attributes {
            None => None,
            Some(e) => {
                let value = self.eval(&e.value, &e.path)?;
                let o = value.as_object().ok_or_else(|| wrong_type(&e.path, "object"))?;
                let mut pairs = Vec::with_capacity(o.len());
                for (k, v) in o {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return Err(wrong_type(&format!("{}.{k}", e.path), "string")),
                    };
                    pairs.push((k.clone(), v));
                }
                let attributes =
                    Attributes::new(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|inner| {
                        TemplateError::at(&e.path, TemplateProblem::Value { reason: inner.to_string() })
                    })?;
                Some(attributes)
            }
        };
        let thing_type =
            t.thing_type.as_ref().map(|e| self.name(e, ThingTypeName::parse_member, "ThingTypeName")).transpose()?;
        let billing_group = t
            .billing_group
            .as_ref()
            .map(|e| self.name(e, BillingGroupName::parse_member, "BillingGroup"))
            .transpose()?;
        let groups = match &t.groups {
            None => None,
            Some(e) => {
                let mut out = Vec::new();
                for (i, g) in self.list(&e.value, &e.path)?.into_iter().enumerate() {
                    let group = ThingGroupName::parse_member(&g, "ThingGroups").map_err(|inner| {
                        TemplateError::at(
                            &format!("{}.{i}", e.path),
                            TemplateProblem::Value { reason: inner.to_string() },
                        )
                    })?;
                    if !out.contains(&group) {
                        out.push(group);
                    }
                }
                Some(out)
            }
        };
        Ok(BoundThing {
            logical: t.logical.clone(),
            thing_name: name,
            attributes,
            thing_type_name: thing_type,
            thing_groups: groups,
            billing_group,
            overrides: t.overrides,
        })
    }

    fn certificate(&self, c: &CertificateResource) -> Result<BoundCertificate, TemplateError> {
        let source = match &c.source {
            CertificateSource::Id(e) => {
                let text = self.string(e)?;
                let id = CertificateId::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
                    TemplateError::at(
                        &e.path,
                        TemplateProblem::Value { reason: format!("{} is not a certificateId", shown(&text)) },
                    )
                })?;
                BoundCertificateSource::Id(id)
            }
            CertificateSource::Pem { pem, ca_pem } => BoundCertificateSource::Pem {
                pem: self.string(pem)?,
                ca_pem: ca_pem.as_ref().map(|e| self.string(e)).transpose()?,
            },
            CertificateSource::Csr(e) => BoundCertificateSource::Csr(self.string(e)?),
        };
        let status = match &c.status {
            None => CertificateStatus::Active,
            Some(e) => match self.string(e)?.to_ascii_uppercase().as_str() {
                "ACTIVE" => CertificateStatus::Active,
                "INACTIVE" => CertificateStatus::Inactive,
                other => {
                    return Err(TemplateError::at(
                        &e.path,
                        TemplateProblem::Value { reason: format!("Status {} is not ACTIVE or INACTIVE", shown(other)) },
                    ));
                }
            },
        };
        Ok(BoundCertificate { logical: c.logical.clone(), source, status, status_override: c.status_override })
    }

    fn policy(&self, p: &PolicyResource) -> Result<BoundPolicy, TemplateError> {
        if let Some(e) = &p.name {
            return Ok(BoundPolicy {
                logical: p.logical.clone(),
                policy_name: self.name(e, PolicyName::parse_member, "PolicyName")?,
                document: None,
            });
        }
        let e = p.document.as_ref().ok_or_else(|| TemplateError::at(&p.logical, TemplateProblem::PolicyForm))?;
        let text = match self.eval(&e.value, &e.path)? {
            Value::String(s) => s,
            object @ Value::Object(_) => object.to_string(),
            _ => return Err(wrong_type(&e.path, "string")),
        };
        let document = PolicyDocument::parse_member(&text, "PolicyDocument")
            .map_err(|inner| TemplateError::at(&e.path, TemplateProblem::Value { reason: inner.to_string() }))?;
        let policy_name = PolicyName::parse_member(&policy_name_of(&document), "PolicyName")
            .map_err(|inner| TemplateError::at(&e.path, TemplateProblem::Value { reason: inner.to_string() }))?;
        Ok(BoundPolicy { logical: p.logical.clone(), policy_name, document: Some(document) })
    }
}

/// The name a template's policy without `PolicyName` gets: the upper-case hex SHA-1 of its
/// document's text (our rule; AWS's example ARN ends in 40 upper-case hex digits).
fn policy_name_of(document: &PolicyDocument) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(document.as_str().as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
}

/// A bound thing resource.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundThing {
    /// Its logical name.
    pub logical: String,
    /// ThingName.
    pub thing_name: ThingName,
    /// AttributePayload, when given.
    pub attributes: Option<Attributes>,
    /// ThingTypeName, when given.
    pub thing_type_name: Option<ThingTypeName>,
    /// ThingGroups, when given (without duplicates).
    pub thing_groups: Option<Vec<ThingGroupName>>,
    /// BillingGroup, when given.
    pub billing_group: Option<BillingGroupName>,
    /// OverrideSettings.
    pub overrides: ThingOverrides,
}

/// How a bound certificate resource names its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundCertificateSource {
    /// An existing (or just registered / issued) certificate.
    Id(CertificateId),
    /// A certificate to register, and the CA that signed it if given.
    Pem {
        /// CertificatePem.
        pem: String,
        /// CACertificatePem.
        ca_pem: Option<String>,
    },
    /// A CSR to issue a certificate for.
    Csr(String),
}

/// A bound certificate resource.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundCertificate {
    /// Its logical name.
    pub logical: String,
    /// Which certificate.
    pub source: BoundCertificateSource,
    /// Status: ACTIVE (default) or INACTIVE.
    pub status: CertificateStatus,
    /// OverrideSettings.Status.
    pub status_override: Override,
}

/// A bound policy resource.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundPolicy {
    /// Its logical name.
    pub logical: String,
    /// PolicyName, or the name a document-only policy gets.
    pub policy_name: PolicyName,
    /// PolicyDocument: the policy to create when the account has none by that name.
    pub document: Option<PolicyDocument>,
}

/// A template bound to its parameters: every property a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundTemplate {
    /// The thing, if the template has one.
    pub thing: Option<BoundThing>,
    /// The certificate, if the template has one.
    pub certificate: Option<BoundCertificate>,
    /// The policies.
    pub policies: Vec<BoundPolicy>,
    /// DeviceConfiguration, in the template's order.
    pub device_configuration: Vec<(String, String)>,
}
