//! Every answer that is not a success, in AWS's REST-JSON error shape: the HTTP status, the
//! header `x-amzn-ErrorType: <ExceptionName>` and the body `{"message": …}` (plus `resourceId`
//! and `resourceArn` where AWS sends them). The library's errors map through
//! [`iot_ca::Error::exception`]; the server's own (authentication, routing, body limits, store
//! faults) are built here.

use core::fmt;

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The exception name (`x-amzn-ErrorType`).
    pub name: &'static str,
    /// `message`.
    pub message: String,
    /// `resourceId`, with `resourceArn`.
    pub resource: Option<(String, String)>,
    /// Whether the connection is to be closed after the answer (the request could not be read
    /// to its end).
    pub close: bool,
    /// What the log keeps and the client is not told: the fault behind a 500 or a 503 (the
    /// server prints it when the store cannot be opened at start).
    pub cause: Option<String>,
}

impl ApiError {
    /// An error with `status`, `name` and `message`.
    #[must_use]
    pub fn new(status: u16, name: &'static str, message: impl Into<String>) -> Self {
        Self { status, name, message: message.into(), resource: None, close: false, cause: None }
    }

    /// The same error, closing the connection after it.
    #[must_use]
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// 400 InvalidRequestException.
    #[must_use]
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }

    /// 404 ResourceNotFoundException.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message)
    }

    /// 500 InternalFailureException: a fault of the server or its store. The detail goes to the
    /// log, not to the client.
    #[must_use]
    pub fn internal(detail: impl fmt::Display) -> Self {
        let cause = detail.to_string();
        tracing::error!(%cause, "internal failure");
        Self { cause: Some(cause), ..Self::new(500, "InternalFailureException", "An internal failure occurred.") }
    }

    /// 503 ServiceUnavailableException for a store that is down, full, out of connections or
    /// too slow to answer: AWS's answer when a dependency is down, which SDKs retry. The cause
    /// goes to the log, not to the client.
    #[must_use]
    pub fn store_unavailable(cause: impl fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::error!(%cause, "store unavailable");
        Self { cause: Some(cause), ..Self::unavailable("The service is temporarily unavailable.") }
    }

    /// 503 ServiceUnavailableException.
    #[must_use]
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailableException", message)
    }

    /// 429 ThrottlingException "Rate exceeded" (AWS's answer to too many requests; the SDKs
    /// retry it with backoff).
    #[must_use]
    pub fn throttled() -> Self {
        Self::new(429, "ThrottlingException", "Rate exceeded")
    }

    /// 403 MissingAuthenticationTokenException: no `Authorization` header.
    #[must_use]
    pub fn missing_authentication() -> Self {
        Self::new(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    }

    /// 403 UnrecognizedClientException: an access key the server does not know.
    #[must_use]
    pub fn unrecognized_client() -> Self {
        Self::new(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    }

    /// 403 InvalidSignatureException.
    #[must_use]
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(403, "InvalidSignatureException", message)
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "message": self.message });
        if let (Some(object), Some((id, arn))) = (body.as_object_mut(), &self.resource) {
            object.insert("resourceId".into(), id.clone().into());
            object.insert("resourceArn".into(), arn.clone().into());
        }
        body
    }
}

impl From<iot_ca::Error> for ApiError {
    fn from(e: iot_ca::Error) -> Self {
        let ex = e.exception();
        let resource = ex.resource_id.clone().zip(ex.resource_arn.clone());
        Self { status: ex.http_status(), name: ex.name(), message: ex.message, resource, close: false, cause: None }
    }
}

/// `e` and every error beneath it, as one line (`postgres::Error` says only "db error" and
/// keeps the server's message in its source).
#[must_use]
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut next = e.source();
    while let Some(inner) = next {
        let text = inner.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = inner.source();
    }
    line
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.status, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_keep_their_exception_and_resource() {
        let e = iot_ca::Error::Registry(iot_ca::RegistryError::AlreadyExists {
            certificate_id: "i".into(),
            certificate_arn: "a".into(),
        });
        let api = ApiError::from(e);
        assert_eq!((api.status, api.name), (409, "ResourceAlreadyExistsException"));
        assert_eq!(api.body()["resourceId"], "i");
        assert_eq!(api.body()["resourceArn"], "a");
        assert!(ApiError::invalid_request("x").body().get("resourceId").is_none());
    }
}
