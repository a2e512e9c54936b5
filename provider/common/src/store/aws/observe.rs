//! Credentials on the wire: the process's credential observer, and the HTTP client whose
//! connectors tell it the credentials a request carries (headers, a web identity token, SSO OIDC
//! secrets) before sending it.

use std::path::Path;

use aws_credential_types::provider::SharedCredentialsProvider;

use super::config::ConnectError;
use super::https::{ca_bundle_client, https_client};
use super::withholding::Withholding;

#[cfg(doc)]
use super::connect::AwsSecretsManager;

/// Told every credential the store's clients use: the secret access key and session token of
/// every credential its credentials providers hand on ([`Withholding`]: from the environment,
/// a profile, a `credential_process`, SSO, the container or instance endpoint, the assumed
/// role), and every session token sent (`X-Amz-Security-Token`). The provider registers them with
/// its log and diagnostic scrubber, so that a server or proxy that reflects the request in its
/// error text (an STS refusing `assume_role`, a gateway before Secrets Manager) cannot show a
/// credential the SDK obtained itself, which the provider never sees otherwise.
pub(super) static CREDENTIAL_OBSERVER: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Sets the function told every credential the store's clients use (the private
/// `CREDENTIAL_OBSERVER`; once per process, later calls do nothing).
/// Call it before [`AwsSecretsManager::connect`].
pub fn observe_credentials(observer: fn(&str)) {
    let _ = CREDENTIAL_OBSERVER.set(observer);
}

/// The HTTP client [`AwsSecretsManager::connect`] gives its SDK configuration, for other AWS
/// clients (state-scrubber's S3): the SDK's HTTPS client trusting `ca_bundle` (else
/// `AWS_CA_BUNDLE`'s file, see [`ca_bundle_client`]), whose connectors tell the observer set by
/// [`observe_credentials`] the credentials every request carries (its session token, a bearer
/// token) before sending it.
pub fn observing_http_client(
    ca_bundle: Option<&Path>,
) -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, ConnectError> {
    let client = match ca_bundle_client(ca_bundle)? {
        Some(client) => client,
        None => https_client(None),
    };
    Ok(aws_smithy_runtime_api::client::http::SharedHttpClient::new(
        ObservingClient::new(client),
    ))
}

/// `provider` wrapped so that the secret access key and session token of every credential it
/// hands on are told to the observer set by [`observe_credentials`] first (as
/// [`AwsSecretsManager::connect`] wraps the SDK's chain), for other AWS clients (state-scrubber's
/// S3).
pub fn observed_credentials(provider: SharedCredentialsProvider) -> SharedCredentialsProvider {
    Withholding::wrap(provider)
}

/// Request headers that carry a credential: a session token (SigV4), SSO's bearer token
/// (GetRoleCredentials), the instance metadata service's session token, and `Authorization`
/// unless it is a SigV4 signature (`AWS4-...`, different on every request and no secret): the
/// container credentials endpoint's token as the SDK read it for this request (EKS Pod
/// Identity rotates the file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names), a bearer token.
const CREDENTIAL_HEADERS: [&str; 4] = [
    "x-amz-security-token",
    "x-amz-sso_bearer_token",
    "x-aws-ec2-metadata-token",
    "authorization",
];

/// The HTTP client of every AWS client the store's configuration makes, the SDK's inner ones
/// included (the profile chain's STS, which signs `role_arn` + `source_profile` /
/// `credential_source` with base credentials it never hands out; SSO; the instance metadata
/// service): its connectors tell [`CREDENTIAL_OBSERVER`] the credentials a request carries
/// ([`CREDENTIAL_HEADERS`], the JWT in an `AssumeRoleWithWebIdentity` form body: see
/// [`web_identity_token`], and the refresh token and client secret in an SSO OIDC `CreateToken`
/// JSON body: see [`oidc_token_secrets`]) before sending it. A secret access key never goes on the wire
/// (it signs); [`Withholding`] reports those.
///
/// The orchestrator asks for a connector on every attempt (the inner client caches its own), so
/// the credentials already reported are kept here, shared by every connector: without that,
/// each request re-registered its tokens (a write lock on the withheld list, a sort).
pub(super) struct ObservingClient {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    /// Credentials already reported (the same token is on every request until it expires).
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl std::fmt::Debug for ObservingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservingClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ObservingClient {
    pub(super) fn new(inner: aws_smithy_runtime_api::client::http::SharedHttpClient) -> Self {
        Self {
            inner,
            seen: Default::default(),
        }
    }

    /// `inner` wrapped, sharing this client's list of what was reported.
    pub(super) fn connector(
        &self,
        inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    ) -> ObservingConnector {
        ObservingConnector {
            inner,
            seen: self.seen.clone(),
        }
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for ObservingClient {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(
            self.connector(self.inner.http_connector(settings, components)),
        )
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// [`ObservingClient`]'s connector. `Debug` shows no credential.
pub(super) struct ObservingConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    /// [`ObservingClient`]'s list of the credentials already reported.
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl std::fmt::Debug for ObservingConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservingConnector")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ObservingConnector {
    /// Tells `observe` `value` unless it was told already (by any connector of the client).
    fn report(&self, observe: fn(&str), value: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.iter().any(|s| s == value) {
            observe(value);
            if seen.len() >= 16 {
                seen.clear();
            }
            seen.push(value.to_owned());
        }
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for ObservingConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        if let Some(observe) = CREDENTIAL_OBSERVER.get() {
            for name in CREDENTIAL_HEADERS {
                let Some(value) = request.headers().get(name) else {
                    continue;
                };
                if name == "authorization" && value.starts_with("AWS4-") {
                    continue;
                }
                self.report(*observe, value.strip_prefix("Bearer ").unwrap_or(value));
            }
            if let Some(token) = web_identity_token(&request) {
                self.report(*observe, &token);
            }
            for secret in oidc_token_secrets(&request) {
                self.report(*observe, &secret);
            }
        }
        self.inner.call(request)
    }
}

/// The JWT of an STS `AssumeRoleWithWebIdentity` request (its form body's `WebIdentityToken`,
/// percent-decoded), as the SDK is about to send it. The SDK reads the token file
/// (`AWS_WEB_IDENTITY_TOKEN_FILE`, a profile's `web_identity_token_file`, also as the source of
/// a profile's role chain) again at every credentials refresh, and EKS (IRSA) and CI runners
/// rotate it: the token read at ConfigureProvider (`credential_files`) is not the one sent an
/// hour later. Taken from the request itself, it is the one sent whichever path read the file,
/// and whenever the file changed. Only a form body held in memory is read (STS's query
/// protocol: `application/x-www-form-urlencoded`, built whole before it is sent); Secrets
/// Manager's JSON bodies, which hold secret values, are not looked at.
fn web_identity_token(
    request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Option<String> {
    const FIELD: &[u8] = b"WebIdentityToken=";
    let form = request
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return None;
    }
    let body = request.body().bytes()?;
    let value = body
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(FIELD))?;
    // `%XX` decoded (the query serializer encodes every byte but `A-Za-z0-9-._~`), `+` a space
    // as in any form; a token that is not UTF-8 is not one the SDK read from a token file.
    let mut decoded = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (value[i], hex(value.get(i + 1)), hex(value.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                decoded.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    // The SDK sends the file as it is, a final newline included; the token without it is in
    // every form an echo may take (trimmed, escaped, encoded).
    String::from_utf8(decoded)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The credentials in the JSON body of an SSO OIDC `CreateToken` request (`POST .../token`,
/// `application/json`), as the SDK is about to send it: the refresh token and the client
/// secret (and the authorization code, its verifier and the device code of the other grants).
/// The SDK's SSO token provider refreshes an expired access token with them, from the cache
/// file `aws sso login` wrote, and writes the refresh token CreateToken answers back to that
/// file: the one it sends next is one that nothing read at ConfigureProvider
/// (`credential_files`). Nowhere but in this body, which an OIDC endpoint or a proxy before it
/// may echo in an error. (aws-config 1.13 logs a failed CreateToken at debug only, which the
/// provider's logging caps away, and goes on with the expired token: no echo of it reaches a
/// diagnostic today. Registered all the same, so that it stays so if an SDK update surfaces that
/// error.) Only such a body, held in memory and at most 64 KiB, is parsed: Secrets
/// Manager's (`application/x-amz-json-1.1`), which hold secret values, are not looked at, nor
/// STS's forms or state-scrubber's S3 objects (`PUT`).
pub(super) fn oidc_token_secrets(
    request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Vec<String> {
    const FIELDS: [&str; 5] = [
        "refreshToken",
        "clientSecret",
        "code",
        "codeVerifier",
        "deviceCode",
    ];
    let json = request.headers().get("content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    let path = request.uri().split(['?', '#']).next().unwrap_or("");
    if !json || request.method() != "POST" || !path.ends_with("/token") {
        return Vec::new();
    }
    let Some(body) = request.body().bytes().filter(|b| b.len() <= 64 * 1024) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter_map(|f| fields.get(*f)?.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}
