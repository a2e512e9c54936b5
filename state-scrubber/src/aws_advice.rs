//! What to do when an AWS call never reached the service: no credentials anywhere in the chain,
//! or nothing answering at the endpoint (a local test server not started, a mistyped port or
//! host). Both were only the SDK's dispatch failure, with no advice, the credential chain's
//! report over several lines (printed as `\u{a}` escapes on one), and no word of where to look.
//! Used by `scrub`/`restore` (Secrets Manager, [`crate::scrub::store::with_advice`]) and
//! `audit s3://` ([`crate::s3`]), each naming its own endpoint settings.

/// The endpoint settings of Secrets Manager, in the order they are read.
pub const SECRETS_MANAGER_ENDPOINT: &str =
    "--endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL";
/// The endpoint settings of S3, in the order they are read.
pub const S3_ENDPOINT: &str = "--endpoint, AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL";

/// The advice for a dispatch failure's `message` (the SDK's error chain), or `None` when it
/// is neither of the two failures above. `endpoint_settings` names where the endpoint comes
/// from ([`SECRETS_MANAGER_ENDPOINT`], [`S3_ENDPOINT`]).
pub fn dispatch_advice(message: &str, endpoint_settings: &str) -> Option<String> {
    if message.contains("no credentials found in chain") {
        return Some(
            "No AWS credentials were found (the environment, the shared config and credentials \
             files, web identity, the container endpoint and instance metadata were tried): set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with --profile or \
             AWS_PROFILE (for SSO, run `aws sso login --profile P` first). A local test server \
             such as moto_server takes any keys (AWS_ACCESS_KEY_ID=testing \
             AWS_SECRET_ACCESS_KEY=testing)."
                .to_string(),
        );
    }
    let unreachable = ["tcp connect error", "dns error", "connect timeout"]
        .iter()
        .any(|m| message.contains(m));
    unreachable.then(|| {
        format!(
            "Nothing answered at the endpoint: check {endpoint_settings} (a local test server \
             such as moto_server must be running at that host and port), else the network, the \
             region and HTTPS_PROXY / NO_PROXY."
        )
    })
}

/// `text` on one line: the SDK's multi-line reports (the credential chain's "Attempted:" list)
/// joined with "; ", as an error line is printed with its line breaks escaped.
pub fn one_line(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0 && !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

/// `text` on one line ([`one_line`]) followed by [`dispatch_advice`], if any.
pub fn with_dispatch_advice(text: &str, endpoint_settings: &str) -> String {
    let line = one_line(text);
    match dispatch_advice(&line, endpoint_settings) {
        Some(a) if line.ends_with('.') => format!("{line} {a}"),
        Some(a) => format!("{line}. {a}"),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws-config's report when the chain found nothing, as it is displayed.
    const NO_CREDENTIALS: &str = "dispatch failure: other: the credential provider was not enabled: no credentials found in chain. Attempted:\n  Environment: the credential provider was not enabled: environment variable not set\n  Profile: the credential provider was not enabled\n  Ec2InstanceMetadata: the credential provider was not enabled: IMDS disabled by AWS_EC2_METADATA_DISABLED env var set to `true`";

    #[test]
    fn no_credentials_is_one_line_with_what_to_set() {
        let text = with_dispatch_advice(NO_CREDENTIALS, SECRETS_MANAGER_ENDPOINT);
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("Attempted: Environment: "), "{text}");
        assert!(text.contains("not set; Profile: "), "{text}");
        assert!(text.contains("No AWS credentials were found"), "{text}");
        assert!(
            text.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            "{text}"
        );
        assert!(text.contains("--profile"), "{text}");
    }

    #[test]
    fn nothing_listening_names_the_endpoint_settings() {
        for cause in [
            "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)",
            "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known",
            "dispatch failure: timeout: HTTP connect timeout occurred after 3.1s",
        ] {
            let sm = with_dispatch_advice(cause, SECRETS_MANAGER_ENDPOINT);
            assert!(sm.starts_with(cause), "{sm}");
            assert!(sm.contains("Nothing answered at the endpoint: check --endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL"), "{sm}");
            let s3 = with_dispatch_advice(cause, S3_ENDPOINT);
            assert!(s3.contains("AWS_ENDPOINT_URL_S3"), "{s3}");
        }
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        for cause in [
            "AccessDeniedException: not authorized",
            "dispatch failure: io error: connection reset",
        ] {
            assert_eq!(with_dispatch_advice(cause, S3_ENDPOINT), cause);
        }
    }
}
