//! botocore's REST-JSON routes of the operations served (AWS IoT service model `iot/2015-05-28`).

use crate::error::ApiError;

/// An operation the server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /registrationcode`.
    GetRegistrationCode,
    /// `DELETE /registrationcode`.
    DeleteRegistrationCode,
    /// `POST /cacertificate`.
    RegisterCaCertificate,
    /// `GET /cacertificate/{caCertificateId}`.
    DescribeCaCertificate,
    /// `PUT /cacertificate/{caCertificateId}`.
    UpdateCaCertificate,
    /// `DELETE /cacertificate/{caCertificateId}`.
    DeleteCaCertificate,
    /// `GET /cacertificates`.
    ListCaCertificates,
    /// `POST /certificate/register`.
    RegisterCertificate,
    /// `POST /certificate/register-no-ca`.
    RegisterCertificateWithoutCa,
    /// `GET /certificates/{certificateId}`.
    DescribeCertificate,
    /// `PUT /certificates/{certificateId}`.
    UpdateCertificate,
    /// `DELETE /certificates/{certificateId}`.
    DeleteCertificate,
    /// `GET /certificates`.
    ListCertificates,
    /// `GET /certificates-by-ca/{caCertificateId}`.
    ListCertificatesByCa,
    /// `POST /tags`.
    TagResource,
    /// `POST /untag`.
    UntagResource,
    /// `GET /tags`.
    ListTagsForResource,
    /// `POST /provisioning-templates`.
    CreateProvisioningTemplate,
    /// `DELETE /provisioning-templates/{templateName}`.
    DeleteProvisioningTemplate,
    /// `POST /provisioning-templates/{templateName}/provisioning-claim`.
    CreateProvisioningClaim,
    /// `POST /things/{thingName}`.
    CreateThing,
    /// `GET /things/{thingName}`.
    DescribeThing,
    /// `PATCH /things/{thingName}`.
    UpdateThing,
    /// `DELETE /things/{thingName}`.
    DeleteThing,
    /// `GET /things`.
    ListThings,
    /// `POST /thing-types/{thingTypeName}`.
    CreateThingType,
    /// `GET /thing-types/{thingTypeName}`.
    DescribeThingType,
    /// `POST /thing-groups/{thingGroupName}`.
    CreateThingGroup,
    /// `GET /thing-groups/{thingGroupName}`.
    DescribeThingGroup,
    /// `PUT /thing-groups/addThingToThingGroup`.
    AddThingToThingGroup,
    /// `POST /policies/{policyName}`.
    CreatePolicy,
    /// `GET /policies/{policyName}`.
    GetPolicy,
    /// `DELETE /policies/{policyName}`.
    DeletePolicy,
    /// `GET /policies`.
    ListPolicies,
    /// `PUT /target-policies/{policyName}`.
    AttachPolicy,
    /// `POST /target-policies/{policyName}`.
    DetachPolicy,
    /// `POST /attached-policies/{target}`.
    ListAttachedPolicies,
    /// `POST /policy-targets/{policyName}`.
    ListTargetsForPolicy,
    /// `PUT /things/{thingName}/principals`.
    AttachThingPrincipal,
    /// `DELETE /things/{thingName}/principals`.
    DetachThingPrincipal,
    /// `GET /things/{thingName}/principals`.
    ListThingPrincipals,
    /// `GET /principals/things`.
    ListPrincipalThings,
    /// `POST /keys-and-certificate`.
    CreateKeysAndCertificate,
    /// `POST /certificates`.
    CreateCertificateFromCsr,
    /// `GET /endpoint`.
    DescribeEndpoint,
    /// `GET /provisioning-templates/{templateName}`.
    DescribeProvisioningTemplate,
    /// `GET /provisioning-templates`.
    ListProvisioningTemplates,
    /// `PATCH /provisioning-templates/{templateName}`.
    UpdateProvisioningTemplate,
    /// `POST /provisioning-templates/{templateName}/versions`.
    CreateProvisioningTemplateVersion,
    /// `GET /provisioning-templates/{templateName}/versions`.
    ListProvisioningTemplateVersions,
    /// `GET /provisioning-templates/{templateName}/versions/{versionId}`.
    DescribeProvisioningTemplateVersion,
    /// `DELETE /provisioning-templates/{templateName}/versions/{versionId}`.
    DeleteProvisioningTemplateVersion,
    /// `POST /things`.
    RegisterThing,
}

impl Operation {
    /// The AWS operation name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::GetRegistrationCode => "GetRegistrationCode",
            Self::DeleteRegistrationCode => "DeleteRegistrationCode",
            Self::RegisterCaCertificate => "RegisterCACertificate",
            Self::DescribeCaCertificate => "DescribeCACertificate",
            Self::UpdateCaCertificate => "UpdateCACertificate",
            Self::DeleteCaCertificate => "DeleteCACertificate",
            Self::ListCaCertificates => "ListCACertificates",
            Self::RegisterCertificate => "RegisterCertificate",
            Self::RegisterCertificateWithoutCa => "RegisterCertificateWithoutCA",
            Self::DescribeCertificate => "DescribeCertificate",
            Self::UpdateCertificate => "UpdateCertificate",
            Self::DeleteCertificate => "DeleteCertificate",
            Self::ListCertificates => "ListCertificates",
            Self::ListCertificatesByCa => "ListCertificatesByCA",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::ListTagsForResource => "ListTagsForResource",
            Self::CreateProvisioningTemplate => "CreateProvisioningTemplate",
            Self::DeleteProvisioningTemplate => "DeleteProvisioningTemplate",
            Self::CreateProvisioningClaim => "CreateProvisioningClaim",
            Self::CreateThing => "CreateThing",
            Self::DescribeThing => "DescribeThing",
            Self::UpdateThing => "UpdateThing",
            Self::DeleteThing => "DeleteThing",
            Self::ListThings => "ListThings",
            Self::CreateThingType => "CreateThingType",
            Self::DescribeThingType => "DescribeThingType",
            Self::CreateThingGroup => "CreateThingGroup",
            Self::DescribeThingGroup => "DescribeThingGroup",
            Self::AddThingToThingGroup => "AddThingToThingGroup",
            Self::CreatePolicy => "CreatePolicy",
            Self::GetPolicy => "GetPolicy",
            Self::DeletePolicy => "DeletePolicy",
            Self::ListPolicies => "ListPolicies",
            Self::AttachPolicy => "AttachPolicy",
            Self::DetachPolicy => "DetachPolicy",
            Self::ListAttachedPolicies => "ListAttachedPolicies",
            Self::ListTargetsForPolicy => "ListTargetsForPolicy",
            Self::AttachThingPrincipal => "AttachThingPrincipal",
            Self::DetachThingPrincipal => "DetachThingPrincipal",
            Self::ListThingPrincipals => "ListThingPrincipals",
            Self::ListPrincipalThings => "ListPrincipalThings",
            Self::CreateKeysAndCertificate => "CreateKeysAndCertificate",
            Self::CreateCertificateFromCsr => "CreateCertificateFromCsr",
            Self::DescribeEndpoint => "DescribeEndpoint",
            Self::DescribeProvisioningTemplate => "DescribeProvisioningTemplate",
            Self::ListProvisioningTemplates => "ListProvisioningTemplates",
            Self::UpdateProvisioningTemplate => "UpdateProvisioningTemplate",
            Self::CreateProvisioningTemplateVersion => "CreateProvisioningTemplateVersion",
            Self::ListProvisioningTemplateVersions => "ListProvisioningTemplateVersions",
            Self::DescribeProvisioningTemplateVersion => "DescribeProvisioningTemplateVersion",
            Self::DeleteProvisioningTemplateVersion => "DeleteProvisioningTemplateVersion",
            Self::RegisterThing => "RegisterThing",
        }
    }
}

/// A routed request: the operation and its path parameter, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The operation.
    pub operation: Operation,
    /// `{caCertificateId}`, `{certificateId}` or `{templateName}`, percent-decoded.
    pub param: String,
}

/// A path segment with its `%XX` escapes decoded, strictly: a `%` not followed by two hex
/// digits, or bytes that are not UTF-8, are refused (`percent-encoding` itself keeps a bad
/// escape as written).
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let escapes_whole = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'%')
        .all(|(i, _)| bytes.get(i + 1..i + 3).is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)));
    escapes_whole.then(|| percent_encoding::percent_decode_str(segment).decode_utf8().ok().map(|s| s.into_owned()))?
}

/// Routes `method` and the raw (still encoded) `path`.
///
/// # Errors
/// 400 InvalidRequestException for a path that is not valid percent-encoded UTF-8; 404
/// UnknownOperationException for a path no operation has; 405 MethodNotAllowedException for a
/// known path with another method.
pub fn route(method: &str, raw_path: &str) -> Result<Route, ApiError> {
    let segments: Vec<String> = raw_path
        .strip_prefix('/')
        .unwrap_or(raw_path)
        .split('/')
        .map(|s| decode_segment(s).ok_or(()))
        .collect::<Result<_, ()>>()
        .map_err(|()| ApiError::invalid_request("The request path is not valid percent-encoded UTF-8."))?;
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    use Operation as O;
    // The one route with two parameters: `{templateName}/{versionId}` as its param.
    if let ["provisioning-templates", name, "versions", version] = parts.as_slice()
        && !name.is_empty()
        && !version.is_empty()
    {
        let operation = match method {
            "GET" => O::DescribeProvisioningTemplateVersion,
            "DELETE" => O::DeleteProvisioningTemplateVersion,
            _ => {
                return Err(ApiError::new(
                    405,
                    "MethodNotAllowedException",
                    format!("{method} is not allowed on {raw_path}; allowed: GET, DELETE."),
                ));
            }
        };
        return Ok(Route { operation, param: format!("{name}/{version}") });
    }
    let (allowed, param): (&[(&str, Operation)], &str) = match parts.as_slice() {
        ["registrationcode"] => (&[("GET", O::GetRegistrationCode), ("DELETE", O::DeleteRegistrationCode)], ""),
        ["cacertificate"] => (&[("POST", O::RegisterCaCertificate)], ""),
        ["cacertificate", id] if !id.is_empty() => (
            &[("GET", O::DescribeCaCertificate), ("PUT", O::UpdateCaCertificate), ("DELETE", O::DeleteCaCertificate)],
            id,
        ),
        ["cacertificates"] => (&[("GET", O::ListCaCertificates)], ""),
        ["certificate", "register"] => (&[("POST", O::RegisterCertificate)], ""),
        ["certificate", "register-no-ca"] => (&[("POST", O::RegisterCertificateWithoutCa)], ""),
        ["certificates"] => (&[("GET", O::ListCertificates), ("POST", O::CreateCertificateFromCsr)], ""),
        ["certificates", id] if !id.is_empty() => {
            (&[("GET", O::DescribeCertificate), ("PUT", O::UpdateCertificate), ("DELETE", O::DeleteCertificate)], id)
        }
        ["certificates-by-ca", id] if !id.is_empty() => (&[("GET", O::ListCertificatesByCa)], id),
        ["tags"] => (&[("POST", O::TagResource), ("GET", O::ListTagsForResource)], ""),
        ["untag"] => (&[("POST", O::UntagResource)], ""),
        ["provisioning-templates"] => {
            (&[("POST", O::CreateProvisioningTemplate), ("GET", O::ListProvisioningTemplates)], "")
        }
        ["provisioning-templates", name] if !name.is_empty() => (
            &[
                ("GET", O::DescribeProvisioningTemplate),
                ("PATCH", O::UpdateProvisioningTemplate),
                ("DELETE", O::DeleteProvisioningTemplate),
            ],
            name,
        ),
        ["provisioning-templates", name, "versions"] if !name.is_empty() => {
            (&[("POST", O::CreateProvisioningTemplateVersion), ("GET", O::ListProvisioningTemplateVersions)], name)
        }
        ["provisioning-templates", name, "provisioning-claim"] if !name.is_empty() => {
            (&[("POST", O::CreateProvisioningClaim)], name)
        }
        ["things"] => (&[("GET", O::ListThings), ("POST", O::RegisterThing)], ""),
        ["things", name] if !name.is_empty() => (
            &[
                ("POST", O::CreateThing),
                ("GET", O::DescribeThing),
                ("PATCH", O::UpdateThing),
                ("DELETE", O::DeleteThing),
            ],
            name,
        ),
        ["things", name, "principals"] if !name.is_empty() => (
            &[("PUT", O::AttachThingPrincipal), ("DELETE", O::DetachThingPrincipal), ("GET", O::ListThingPrincipals)],
            name,
        ),
        ["principals", "things"] => (&[("GET", O::ListPrincipalThings)], ""),
        ["thing-types", name] if !name.is_empty() => {
            (&[("POST", O::CreateThingType), ("GET", O::DescribeThingType)], name)
        }
        ["thing-groups", "addThingToThingGroup"] => (
            &[("PUT", O::AddThingToThingGroup), ("POST", O::CreateThingGroup), ("GET", O::DescribeThingGroup)],
            "addThingToThingGroup",
        ),
        ["thing-groups", name] if !name.is_empty() => {
            (&[("POST", O::CreateThingGroup), ("GET", O::DescribeThingGroup)], name)
        }
        ["policies"] => (&[("GET", O::ListPolicies)], ""),
        ["policies", name] if !name.is_empty() => {
            (&[("POST", O::CreatePolicy), ("GET", O::GetPolicy), ("DELETE", O::DeletePolicy)], name)
        }
        ["target-policies", name] if !name.is_empty() => (&[("PUT", O::AttachPolicy), ("POST", O::DetachPolicy)], name),
        ["attached-policies", target] if !target.is_empty() => (&[("POST", O::ListAttachedPolicies)], target),
        ["policy-targets", name] if !name.is_empty() => (&[("POST", O::ListTargetsForPolicy)], name),
        ["keys-and-certificate"] => (&[("POST", O::CreateKeysAndCertificate)], ""),
        ["endpoint"] => (&[("GET", O::DescribeEndpoint)], ""),
        _ => {
            return Err(ApiError::new(
                404,
                "UnknownOperationException",
                format!("No operation is served at {method} {raw_path}."),
            ));
        }
    };
    match allowed.iter().find(|(m, _)| *m == method) {
        Some((_, operation)) => Ok(Route { operation: *operation, param: param.to_owned() }),
        None => {
            let methods: Vec<&str> = allowed.iter().map(|(m, _)| *m).collect();
            Err(ApiError::new(
                405,
                "MethodNotAllowedException",
                format!("{method} is not allowed on {raw_path}; allowed: {}.", methods.join(", ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("GET", "/cacertificate/ab%63").unwrap();
        assert_eq!((r.operation, r.param.as_str()), (Operation::DescribeCaCertificate, "abc"));
        let r = route("POST", "/provisioning-templates/fleet/provisioning-claim").unwrap();
        assert_eq!((r.operation, r.param.as_str()), (Operation::CreateProvisioningClaim, "fleet"));
        assert_eq!(route("GET", "/tags").unwrap().operation, Operation::ListTagsForResource);
        let r = route("POST", "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fab").unwrap();
        assert_eq!(
            (r.operation, r.param.as_str()),
            (Operation::ListAttachedPolicies, "arn:aws:iot:us-east-1:123456789012:cert/ab")
        );
        let r = route("PATCH", "/things/my%3Athing").unwrap();
        assert_eq!((r.operation, r.param.as_str()), (Operation::UpdateThing, "my:thing"));
        assert_eq!(
            route("PUT", "/thing-groups/addThingToThingGroup").unwrap().operation,
            Operation::AddThingToThingGroup
        );
        assert_eq!(route("GET", "/thing-groups/g1").unwrap().operation, Operation::DescribeThingGroup);
        assert_eq!(route("POST", "/certificates").unwrap().operation, Operation::CreateCertificateFromCsr);
        assert_eq!(route("POST", "/target-policies/p1").unwrap().operation, Operation::DetachPolicy);
        let r = route("DELETE", "/provisioning-templates/t1/versions/2").unwrap();
        assert_eq!((r.operation, r.param.as_str()), (Operation::DeleteProvisioningTemplateVersion, "t1/2"));
        assert_eq!(route("POST", "/provisioning-templates/t1/versions/2").unwrap_err().status, 405);
        assert_eq!(route("POST", "/things").unwrap().operation, Operation::RegisterThing);
        assert_eq!(route("POST", "/nope").unwrap_err().status, 404);
        assert_eq!(route("PATCH", "/cacertificates").unwrap_err().name, "MethodNotAllowedException");
        assert_eq!(route("GET", "/cacertificate/%zz").unwrap_err().name, "InvalidRequestException");
        assert_eq!(route("GET", "/cacertificate/%ff").unwrap_err().status, 400);
        assert_eq!(route("GET", "/cacertificate/").unwrap_err().status, 404);
    }
}
