//! SDK errors: `map_sdk_error`, the one place they become `StoreError`; `error_chain`, an
//! error's causes without a response dump; the retry classifier for HTTP 429.

use aws_sdk_secretsmanager::config::interceptors::InterceptorContext;
use aws_sdk_secretsmanager::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

use crate::store::StoreError;

/// AWS's code for a URL with no API behind it ([`crate::store::CredentialsFault::NoSuchApi`]).
const NO_SUCH_API: &str = "MissingAuthenticationTokenException";

/// Retries HTTP 429 as throttling whatever the body. The SDK's classifiers
/// retry 500/502/503/504 and the AWS throttling *error codes*, but a 429 from a
/// proxy, gateway or load balancer in front of the endpoint carries no AWS
/// error code (plain-text body), so it failed the call at once: the fault test
/// (`tests/reliability`, kind `throttle429`) found it.
#[derive(Debug)]
pub(super) struct TooManyRequests;

impl ClassifyRetry for TooManyRequests {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(r) if r.status().as_u16() == 429 => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "HTTP 429 Too Many Requests"
    }
}

/// The one place SDK errors become [`StoreError`]: service errors keep their AWS code and
/// message; failures before or outside the service are named after the SDK's error kind. The
/// raw HTTP response is never formatted (its body is the service's, and `Debug` of the
/// `SdkError` would print it).
pub(super) fn map_sdk_error<E>(err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            // A success status with an error is an answer the SDK could not read (malformed
            // JSON, a member of the wrong type, a proxy answering for AWS): "HTTP200: the
            // service answered HTTP 200 with no message" read as if AWS had failed the call.
            if (200..300).contains(&status) && e.code().is_none() {
                return StoreError::Other {
                    code: "UnreadableResponse".to_owned(),
                    message: format!(
                        "the service answered HTTP {status} with a body that is not a valid answer to the call (not shown); \
                         the call may have been carried out"
                    ),
                };
            }
            let code = e
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP{status}"));
            let message = e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("the service answered HTTP {status} with no message"));
            StoreError::from_code(code, message)
        }
        SdkError::TimeoutError(_) => StoreError::Other {
            code: "TimeoutError".to_owned(),
            message: "the request timed out".to_owned(),
        },
        SdkError::DispatchFailure(_) => {
            assume_role_refused_credentials(&err).unwrap_or_else(|| StoreError::Other {
                code: "DispatchFailure".to_owned(),
                message: error_chain(&err),
            })
        }
        SdkError::ResponseError(_) => StoreError::Other {
            code: "ResponseError".to_owned(),
            message: error_chain(&err),
        },
        SdkError::ConstructionFailure(_) => StoreError::Other {
            code: "ConstructionFailure".to_owned(),
            message: error_chain(&err),
        },
        _ => StoreError::Other {
            code: "SdkError".to_owned(),
            message: error_chain(&err),
        },
    }
}

/// When the credentials could not be loaded because STS refused an `AssumeRole` call for a fault
/// of the credentials it was signed with (expired, unknown,
/// a clock off: [`StoreError::credentials_advice`] has advice for it), that refusal under its
/// own code, so the diagnostic says what to do; else `None` (the dispatch failure as it is).
/// The call is the provider's `assume_role` or a profile's `role_arn`: the error keeps STS's
/// answer apart from its caller ([`StoreError::assume_role_refused`]).
/// `MissingAuthenticationTokenException` (also from an API Gateway's `x-amzn-ErrorType` header,
/// whose JSON body STS's client cannot read) is the STS endpoint URL's fault, not the
/// credentials': its message says so, and its advice names STS's endpoint settings.
/// Without it the error was "DispatchFailure: dispatch failure: other: an error occurred while
/// loading credentials: service error: unhandled error (ExpiredToken): ...", with no advice.
fn assume_role_refused_credentials(err: &(dyn std::error::Error + 'static)) -> Option<StoreError> {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(SdkError::ServiceError(sts)) =
            cause.downcast_ref::<aws_sdk_sts::error::SdkError<AssumeRoleError>>()
        {
            // An API Gateway (an STS endpoint URL with a path, another service's) names its
            // error in the x-amzn-ErrorType header over a JSON body, which STS's XML error parser
            // cannot read: no code, and the failure was "error parsing XML: no root element".
            let code = match sts.err().code() {
                Some(code) => code,
                None => sts
                    .raw()
                    .headers()
                    .get("x-amzn-errortype")
                    .and_then(|t| t.split(':').next())
                    .filter(|t| *t == NO_SUCH_API)?,
            };
            let message = sts.err().message().unwrap_or("(no message)");
            let refused = StoreError::assume_role_refused(
                code,
                if code == NO_SUCH_API {
                    format!(
                        "was answered by a URL with no STS API behind it (HTTP {}{})",
                        sts.raw().status().as_u16(),
                        sts.err()
                            .message()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    )
                } else {
                    format!("refused the credentials it was signed with: {message}")
                },
            );
            return refused.credentials_advice().is_some().then_some(refused);
        }
        source = cause.source();
    }
    None
}

/// An error and its causes, each by its `Display`, joined with ": " ("dispatch failure: io error:
/// client error (Connect): tcp connect error: Connection refused (os error 111)"). Unlike
/// `DisplayErrorContext`, no cause is formatted with `Debug`, and a cause whose text the previous
/// one already contains is left out.
///
/// A cause's text stops before the `Debug` of an HTTP response that some SDK errors append to
/// their `Display` (aws-config's `ImdsError::ErrorResponse`: "error response from IMDS (code:
/// 500). Response { status, headers, body: SdkBody { .. b\"...\" } }"): that body is whatever
/// the server (or a proxy before it) answered, credentials it meant to hand over included, and
/// nothing had registered them yet.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![without_response_dump(err.to_string())];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = without_response_dump(cause.to_string());
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// `text` cut before the `Debug` of an `aws_smithy_runtime_api` HTTP response, if it holds one.
fn without_response_dump(text: String) -> String {
    match text.find("Response { status: ") {
        Some(i) => format!(
            "{} (the response is not shown)",
            text[..i].trim_end_matches([' ', '.', ':'])
        ),
        None => text,
    }
}
