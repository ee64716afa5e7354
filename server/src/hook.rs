//! Pre-provisioning hooks (AWS IoT Developer Guide, "Pre-provisioning hooks"): a template's
//! `preProvisioningHook.targetArn` is mapped to a URL at start (`--pre-provisioning-hook
//! ARN=URL`), and RegisterThing POSTs AWS's hook input there and reads `{allowProvisioning,
//! parameterOverrides}`. Any failure denies, within a five-second deadline (AWS's): no mapping for
//! the target, a connection that fails, a status other than 2xx, a body that is not the answer,
//! or an answer that does not allow.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use iot_ca::{ProvisioningError, TemplateParameters};
use serde_json::Value;

/// How long a hook has (AWS: "must finish running and return within 5 seconds").
pub const HOOK_DEADLINE: Duration = Duration::from_secs(5);
/// Largest hook answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The hooks the server may call: target ARN → `http://host:port/path`.
#[derive(Clone, Debug, Default)]
pub struct Hooks(Vec<(String, HookUrl)>);

/// Where a hook answers: plain HTTP on a host and port, with a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookUrl {
    authority: String,
    path: String,
}

impl Hooks {
    /// Reads `ARN=http://host:port/path` mappings.
    ///
    /// # Errors
    /// A sentence naming the mapping that is not of that shape (only `http://` is served).
    pub fn parse(mappings: &[String]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(mappings.len());
        for m in mappings {
            let (arn, url) =
                m.split_once('=').ok_or_else(|| format!("--pre-provisioning-hook {m}: expected ARN=URL"))?;
            let rest = url
                .strip_prefix("http://")
                .ok_or_else(|| format!("--pre-provisioning-hook {m}: only http:// URLs are served"))?;
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            if authority.is_empty() || arn.is_empty() {
                return Err(format!("--pre-provisioning-hook {m}: expected ARN=http://host:port/path"));
            }
            out.push((arn.to_owned(), HookUrl { authority: authority.to_owned(), path: path.to_owned() }));
        }
        Ok(Self(out))
    }

    fn url(&self, target_arn: &str) -> Option<&HookUrl> {
        self.0.iter().find(|(arn, _)| arn == target_arn).map(|(_, url)| url)
    }

    /// Asks the hook `target_arn` about `input` (AWS's hook input). Answers the parameter
    /// overrides when it allows.
    ///
    /// # Errors
    /// [`ProvisioningError::HookRefused`] with the reason, for every way a hook can deny.
    pub async fn ask(&self, target_arn: &str, input: &Value) -> Result<TemplateParameters, iot_ca::Error> {
        let refuse = |reason: String| {
            iot_ca::Error::from(ProvisioningError::HookRefused { target_arn: target_arn.to_owned(), reason })
        };
        let url = self.url(target_arn).ok_or_else(|| refuse("no --pre-provisioning-hook maps this target".into()))?;
        let answer = tokio::time::timeout(HOOK_DEADLINE, post(url, input.to_string()))
            .await
            .map_err(|_| refuse(format!("no answer within {} s", HOOK_DEADLINE.as_secs())))?
            .map_err(refuse)?;
        let allowed = match answer.get("allowProvisioning") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        if !allowed {
            return Err(refuse("the hook answered allowProvisioning false".into()));
        }
        let overrides = iot_ca::wire::template_parameters_from_json(answer.get("parameterOverrides"))
            .map_err(|e| refuse(format!("parameterOverrides: {e}")))?;
        Ok(overrides)
    }
}

async fn post(url: &HookUrl, body: String) -> Result<Value, String> {
    let stream = tokio::net::TcpStream::connect(url.authority.as_str()).await.map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::post(url.path.as_str())
        .header(HOST, url.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| format!("answer: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("the hook answered HTTP {status}"));
    }
    serde_json::from_slice(&body).map_err(|_| "the hook's answer is not JSON".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_parse() {
        let hooks = Hooks::parse(&["arn:aws:lambda:us-east-1:1:function:f=http://127.0.0.1:9/hook".into()]).unwrap();
        assert_eq!(hooks.url("arn:aws:lambda:us-east-1:1:function:f").unwrap().path, "/hook");
        assert!(Hooks::parse(&["x".into()]).unwrap_err().contains("ARN=URL"));
        assert!(Hooks::parse(&["a=https://h/x".into()]).unwrap_err().contains("only http://"));
    }

    #[tokio::test]
    async fn an_unmapped_or_unreachable_hook_denies() {
        let hooks = Hooks::parse(&["arn:f=http://127.0.0.1:9/hook".into()]).unwrap();
        let e = hooks.ask("arn:g", &Value::Null).await.unwrap_err();
        assert_eq!(e.rejection().error_code, "AccessDenied");
        let e = hooks.ask("arn:f", &Value::Null).await.unwrap_err();
        assert!(e.to_string().contains("connect"), "{e}");
    }
}
