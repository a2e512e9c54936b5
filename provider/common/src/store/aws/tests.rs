//! Unit tests of `store::aws`.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use tracing::instrument::WithSubscriber;

use super::config::{validate_endpoint, validate_region, AssumeRole, AwsStoreConfig, ConnectError};
use super::connect::AwsSecretsManager;
use super::environment::{environment_problems, profile_problems};
use super::errors::error_chain;
use super::https::{https_client, read_ca_bundle, MAX_CA_BUNDLE_BYTES};
use super::observe::{observe_credentials, oidc_token_secrets, ObservingClient};
use super::secret_store::quietly;
use super::withholding::{
    credential_process_failure, without_process_output, CredentialProcessFailed, Withholding,
    CHAIN_TARGET, PROCESS_EXITED, PROCESS_OTHER,
};
use crate::store::SecretStore;

#[tokio::test]
async fn quietly_hides_events_from_the_installed_subscriber() {
    let lines = Lines::default();
    async {
        tracing::trace!("visible");
        quietly(async {
            tracing::trace!("hidden");
            tokio::task::yield_now().await;
            tracing::error!("hidden after a yield");
        })
        .await;
        tracing::trace!("visible again");
    }
    .with_subscriber(lines.clone())
    .await;
    assert_eq!(lines.0.lock().unwrap().len(), 2);
}

/// A file under a fresh private directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("offstate-aws-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempFile(dir.join(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn ca_bundle_errors_name_the_file_never_its_content() {
    let inside = "cnry-7d1f0e9a2b3c4d5e";
    for (name, content) in [
        (
            "bad-begin",
            format!("-----BEGIN CERTIFICATE {inside}\nAAAA\n-----END CERTIFICATE-----\n"),
        ),
        ("no-end", format!("-----BEGIN CERTIFICATE-----\n{inside}\n")),
        (
            "bad-base64",
            format!("-----BEGIN CERTIFICATE-----\n{inside}!!\n-----END CERTIFICATE-----\n"),
        ),
        (
            "credentials",
            format!("[default]\naws_secret_access_key = {inside}\n"),
        ),
    ] {
        let file = TempFile::new(name);
        std::fs::write(&file.0, &content).unwrap();
        let e = read_ca_bundle(&file.0, false).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&file.0.display().to_string()),
            "{name}: {text}"
        );
        let bytes: Vec<String> = inside.bytes().map(|b| b.to_string()).collect();
        assert!(
            !text.contains(inside) && !text.contains(&bytes[..8].join(", ")),
            "{name}: the error shows the file's content: {text}"
        );
    }
}

#[test]
fn ca_bundle_larger_than_any_is_refused_unread() {
    let file = TempFile::new("huge");
    // Sparse: no disk is used.
    std::fs::File::create(&file.0)
        .unwrap()
        .set_len(MAX_CA_BUNDLE_BYTES + 1)
        .unwrap();
    let e = read_ca_bundle(&file.0, true).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    assert!(e.to_string().contains("(AWS_CA_BUNDLE)"), "{e}");
}

#[tokio::test]
async fn debug_of_config_and_store_never_shows_a_credential() {
    let file = TempFile::new("credentials");
    let (key, token, external) = (
        "cnry-key-5a6b7c8d9e0f",
        "cnry-token-1a2b3c4d5e6f",
        "cnry-external-9f8e7d6c",
    );
    std::fs::write(
        &file.0,
        format!("[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {key}\naws_session_token = {token}\n"),
    )
    .unwrap();
    let cfg = AwsStoreConfig {
        region: Some("eu-west-1".into()),
        profile: Some("ci".into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        shared_credentials_files: vec![file.0.clone()],
        max_attempts: Some(1),
        assume_role: Some(AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            external_id: Some(external.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    // With an observer, the credentials providers and the HTTP client keep what they saw.
    observe_credentials(report);
    let store = AwsSecretsManager::connect(&cfg).await.unwrap();
    // Credentials are loaded by the first call (which then fails: nothing listens there).
    let _ = store.describe("x").await;
    let plain = AwsSecretsManager::connect(&AwsStoreConfig {
        assume_role: None,
        ..cfg.clone()
    })
    .await
    .unwrap();
    let _ = plain.describe("x").await;
    for text in [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{store:?}"),
        format!("{plain:?}"),
        // The SDK client prints its configuration, the observing HTTP client among it.
        format!("{:?}", plain.client),
    ] {
        for needle in [key, token, external] {
            assert!(!text.contains(needle), "Debug shows a credential: {text}");
        }
    }
}

/// Credentials the [`Withholding`] tests saw reported.
static REPORTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn report(secret: &str) {
    REPORTED.lock().unwrap().push(secret.to_owned());
}

fn process(command: &str) -> Withholding {
    Withholding {
        inner: SharedCredentialsProvider::new(
            aws_config::credential_process::CredentialProcessProvider::new(command.to_owned()),
        ),
        observe: Some(report),
        log: tracing::Dispatch::none(),
    }
}

/// The whole text of an error and its sources.
fn all_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{e} / {e:?}");
    let mut cause = e.source();
    while let Some(c) = cause {
        out += &format!(" / {c} / {c:?}");
        cause = c.source();
    }
    out
}

#[tokio::test]
async fn withholding_reports_the_secret_key_and_token_it_hands_on() {
    use aws_credential_types::provider::ProvideCredentials;
    let json = r#"{"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"cnry-process-key-1a2b","SessionToken":"cnry-process-token-3c4d","Expiration":"2099-01-01T00:00:00Z"}"#;
    let creds = process(&format!("printf '%s' '{json}'"))
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.secret_access_key(), "cnry-process-key-1a2b");
    let reported = REPORTED.lock().unwrap().clone();
    assert!(
        reported.iter().any(|s| s == "cnry-process-key-1a2b"),
        "{reported:?}"
    );
    assert!(
        reported.iter().any(|s| s == "cnry-process-token-3c4d"),
        "{reported:?}"
    );
    assert!(
        !reported.iter().any(|s| s == "AKIDPROCESS"),
        "the key id is not a secret"
    );
    assert!(!format!("{:?}", process("true")).contains("true"));
}

/// Every event it gets, as `target level message field=value...` lines.
#[derive(Default, Clone)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for Lines {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0 += &format!(" {}={value:?}", field.name());
            }
        }
        let meta = event.metadata();
        let mut text = Text(format!("{} {}", meta.target(), meta.level()));
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A source with credentials that logs, as a source may, on the way.
#[derive(Debug)]
struct Loud;

impl aws_credential_types::provider::ProvideCredentials for Loud {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        tracing::warn!(target: "aws_config::test_source", "a warning of the source");
        aws_credential_types::provider::future::ProvideCredentials::ready(Ok(
            aws_credential_types::Credentials::new(
                "AKIDCHAIN",
                "cnry-chain-key-7a8b9c0d",
                None,
                None,
                "test",
            ),
        ))
    }
}

/// With the chain's own events capped and withheld by the provider's logging, a debug line
/// of offstate's names the sources the chain tried and what each gave, and nothing else;
/// every other event still reaches the subscriber in force, and the chain's debug events are
/// not handed on to it beyond what it asks for.
#[tokio::test]
async fn withholding_logs_the_sources_the_chain_tried_by_name_only() {
    use aws_config::meta::credentials::CredentialsProviderChain;
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::ProvideCredentials;
    #[derive(Debug)]
    struct Empty;
    impl ProvideCredentials for Empty {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                CredentialsError::not_loaded("cnry-not-loaded-context-1f2e"),
            ))
        }
    }
    let chain = CredentialsProviderChain::first_try("Environment", Empty)
        .or_else("Profile", Empty)
        .or_else("WebIdentityToken", Loud);
    let ours = Lines::default();
    let outer = Lines::default();
    let withholding = Withholding {
        inner: SharedCredentialsProvider::new(chain),
        observe: None,
        log: tracing::Dispatch::new(ours.clone()),
    };
    withholding
        .provide_credentials()
        .with_subscriber(outer.clone())
        .await
        .unwrap();
    let ours = ours.0.lock().unwrap().clone();
    assert_eq!(
        ours,
        ["offstate_common::store::aws DEBUG message=AWS credentials resolved by the SDK's credentials chain tried=\"Environment: none, Profile: none, WebIdentityToken: loaded\""],
    );
    let outer = outer.0.lock().unwrap().clone();
    assert!(
        outer.iter().any(|l| l.contains("a warning of the source")),
        "{outer:?}"
    );
    // The outer subscriber wants everything: it got the chain's events too, which the
    // provider's logging caps (and withholds); none reached our line.
    assert!(
        outer.iter().any(|l| l.starts_with(CHAIN_TARGET)),
        "{outer:?}"
    );
    // One resolution inside another (an assumed role's STS client resolving its base
    // credentials): one line, from the inner one.
    #[derive(Debug)]
    struct Nested(SharedCredentialsProvider);
    impl ProvideCredentials for Nested {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::new(
                self.0.provide_credentials(),
            )
        }
    }
    let nested = Lines::default();
    let base = Withholding {
        inner: SharedCredentialsProvider::new(
            CredentialsProviderChain::first_try("Environment", Empty).or_else("Profile", Loud),
        ),
        observe: None,
        log: tracing::Dispatch::new(nested.clone()),
    };
    let outer_withholding = Withholding {
        inner: SharedCredentialsProvider::new(Nested(SharedCredentialsProvider::new(base))),
        observe: None,
        log: tracing::Dispatch::new(nested.clone()),
    };
    let top = Lines::default();
    outer_withholding
        .provide_credentials()
        .with_subscriber(top.clone())
        .await
        .unwrap();
    let nested = nested.0.lock().unwrap().clone();
    assert_eq!(nested.len(), 1, "{nested:?}");
    assert!(
        nested[0].contains("\"Environment: none, Profile: loaded\""),
        "{nested:?}"
    );
    let top = top.0.lock().unwrap().clone();
    assert!(
        top.iter().any(|l| l.contains("a warning of the source")),
        "{top:?}"
    );
    // A chain with no source that answers: the line says so.
    let lines = Lines::default();
    let failing = Withholding {
        inner: SharedCredentialsProvider::new(CredentialsProviderChain::first_try(
            "Environment",
            Empty,
        )),
        observe: None,
        log: tracing::Dispatch::new(lines.clone()),
    };
    assert!(failing.provide_credentials().await.is_err());
    let lines = lines.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("not resolved") && lines[0].contains("\"Environment: none\""),
        "{lines:?}"
    );
    assert!(!lines[0].contains("cnry"), "{lines:?}");
}

/// A fake endpoint for the SDK's clients: answers every request 200 with `answer`, and keeps
/// `record` of each request (in `seen`), as the request arrived.
#[derive(Clone)]
struct FakeEndpoint {
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    answer: &'static str,
    record: fn(&aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> String,
}

impl FakeEndpoint {
    fn new(
        answer: &'static str,
        record: fn(&aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> String,
    ) -> Self {
        FakeEndpoint {
            seen: Default::default(),
            answer,
            record,
        }
    }

    /// Answers 200 with no body, keeping nothing.
    fn ok() -> Self {
        Self::new("", |_| String::new())
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl std::fmt::Debug for FakeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeEndpoint")
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for FakeEndpoint {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let note = (self.record)(&request);
        self.seen.lock().unwrap().push(note);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(
            aws_smithy_runtime_api::http::Response::new(
                200.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from(self.answer),
            ),
        ))
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for FakeEndpoint {
    fn http_connector(
        &self,
        _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

/// The orchestrator asks the client for a connector on every attempt: a token already
/// reported through one is not reported again through the next.
#[tokio::test]
async fn observing_client_reports_a_token_once_across_connectors() {
    use aws_smithy_runtime_api::client::http::HttpConnector;
    observe_credentials(report);
    let client = ObservingClient::new(https_client(None));
    let token = "cnry-once-token-5d6e7f80";
    for _ in 0..3 {
        let connector = client.connector(
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(FakeEndpoint::ok()),
        );
        let mut request =
            aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
        request.headers_mut().insert("X-Amz-Security-Token", token);
        connector.call(request).await.unwrap();
    }
    let reported = REPORTED.lock().unwrap().clone();
    assert_eq!(reported.iter().filter(|s| *s == token).count(), 1);
    assert!(!format!("{client:?}").contains("cnry"));
}

#[tokio::test]
async fn observing_connector_reports_the_credentials_a_request_carries() {
    use aws_smithy_runtime_api::client::http::HttpConnector;
    observe_credentials(report);
    let connector = ObservingClient::new(https_client(None)).connector(
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(FakeEndpoint::ok()),
    );
    let mut request =
        aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
    request
        .headers_mut()
        .insert("X-Amz-Security-Token", "cnry-wire-token-0a1b2c3d");
    request
        .headers_mut()
        .insert("x-amz-sso_bearer_token", "cnry-wire-bearer-4e5f6a7b");
    request
        .headers_mut()
        .insert("x-amz-date", "20260101T000000Z");
    request.headers_mut().insert(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=cnrysig",
    );
    assert_eq!(
        connector.call(request).await.unwrap().status().as_u16(),
        200
    );
    let mut container =
        aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
    container
        .headers_mut()
        .insert("Authorization", "cnry-container-token-8c9d0e1f");
    connector.call(container).await.unwrap();
    let reported = REPORTED.lock().unwrap().clone();
    for token in [
        "cnry-wire-token-0a1b2c3d",
        "cnry-wire-bearer-4e5f6a7b",
        "cnry-container-token-8c9d0e1f",
    ] {
        assert!(reported.iter().any(|s| s == token), "{reported:?}");
    }
    assert!(!reported
        .iter()
        .any(|s| s.starts_with("2026") || s.contains("cnrysig")));
    assert!(!format!("{connector:?}").contains("cnry"));
}

/// A fake STS: every request gets an `AssumeRoleWithWebIdentity` success whose credentials
/// expire at once; each request's body is kept.
fn web_identity_sts() -> FakeEndpoint {
    FakeEndpoint::new(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEBIDENTITY00001</AccessKeyId>\
                <SecretAccessKey>webidentity-test-key</SecretAccessKey><SessionToken>webidentity-test-token</SessionToken>\
                <Expiration>2020-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>\
                </AssumeRoleWithWebIdentityResponse>",
        |request| String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned(),
    )
}

/// The SDK reads the web identity token file again at every refresh (EKS rotates it): the
/// token it sends after the file changed is reported before it goes out, although nothing
/// read the file in between. The real aws-config provider and STS client, through the
/// observing client to a fake STS.
#[tokio::test]
async fn a_rotated_web_identity_token_is_reported_before_it_is_sent() {
    use aws_config::web_identity_token::{
        StaticConfiguration, WebIdentityTokenCredentialsProvider,
    };
    use aws_credential_types::provider::ProvideCredentials;
    observe_credentials(report);
    let file = TempFile::new("web-identity-token");
    let sts = web_identity_sts();
    let client = aws_smithy_runtime_api::client::http::SharedHttpClient::new(ObservingClient::new(
        aws_smithy_runtime_api::client::http::SharedHttpClient::new(sts.clone()),
    ));
    let provider = WebIdentityTokenCredentialsProvider::builder()
        .configure(
            &aws_config::provider_config::ProviderConfig::without_region()
                .with_region(Some(Region::new("us-east-1")))
                .with_http_client(client),
        )
        .static_configuration(StaticConfiguration {
            web_identity_token_file: file.0.clone(),
            role_arn: "arn:aws:iam::123456789012:role/ci".to_owned(),
            session_name: "ci".to_owned(),
        })
        .build();
    // A JWT's alphabet, and characters the form body percent-encodes.
    let tokens = [
        "eyJhbGciOiJSUzI1NiJ9.cnry-first-jwt.c2lnbmF0dXJl",
        "eyJhbGciOiJSUzI1NiJ9.cnry-rotated+jwt/=.c2ln_bmF0-dXJl",
    ];
    for token in tokens {
        std::fs::write(&file.0, format!("{token}\n")).unwrap();
        provider.provide_credentials().await.unwrap();
    }
    let bodies = sts.seen();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[1].contains(
            "WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.cnry-rotated%2Bjwt%2F%3D.c2ln_bmF0-dXJl"
        ),
        "{bodies:?}"
    );
    let reported = REPORTED.lock().unwrap().clone();
    for token in tokens {
        assert!(reported.iter().any(|s| s == token), "{token}: {reported:?}");
    }
}

/// The refresh token and client secret of the SSO cache file in
/// [`a_renewed_sso_refresh_token_is_reported_before_it_is_sent`].
const SSO_CACHED: [&str; 2] = [
    "cnry-renewed-refresh-token-9f8e7d6c",
    "cnry-sso-client-secret-6c5b4a39",
];

/// A fake SSO OIDC: every request gets a `CreateToken` success; each request is kept with
/// whether the credentials in it had been reported when it arrived.
fn oidc() -> FakeEndpoint {
    FakeEndpoint::new(
        "{\"accessToken\":\"sso-new-access-token-1234\",\"expiresIn\":3600,\
                    \"refreshToken\":\"sso-next-refresh-token-5678\",\"tokenType\":\"Bearer\"}",
        |request| {
            let reported = REPORTED.lock().unwrap().clone();
            let before = SSO_CACHED.iter().all(|s| reported.iter().any(|r| r == s));
            let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default());
            format!(
                "{} {} reported-before-sent={before} {body}",
                request.method(),
                request.uri()
            )
        },
    )
}

/// SSO OIDC's refresh token and client secret go only in CreateToken's JSON body, and the
/// refresh token is renewed by every refresh (the SDK writes the new one to the cache file):
/// the one sent is reported before it goes out although nothing read the file before. The
/// real aws-config SSO token provider and OIDC client, through the observing client to a fake
/// OIDC; in a child process, whose HOME (where the SDK finds its SSO cache) is a temporary
/// directory.
#[test]
fn a_renewed_sso_refresh_token_is_reported_before_it_is_sent() {
    const CHILD: &str = "OFFSTATE_TEST_SSO_REFRESH_CHILD";
    // sha1("offstate-sso-test"): the cache file name the SDK uses for that session.
    const CACHE: &str = "e4bf82548b975360ff7e0fc23ede43f6b1833890.json";
    if std::env::var_os(CHILD).is_some() {
        use aws_credential_types::provider::token::ProvideToken;
        observe_credentials(report);
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        let cache = home.join(".aws/sso/cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            cache.join(CACHE),
            format!(
                "{{\"startUrl\":\"https://offstate.awsapps.com/start\",\"region\":\"us-east-1\",\
                 \"accessToken\":\"sso-expired-access-token\",\"expiresAt\":\"2020-01-01T00:00:00Z\",\
                 \"clientId\":\"offstate-test-client\",\"clientSecret\":\"{}\",\
                 \"registrationExpiresAt\":\"2099-01-01T00:00:00Z\",\"refreshToken\":\"{}\"}}",
                SSO_CACHED[1], SSO_CACHED[0]
            ),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let oidc = oidc();
        let client =
            aws_smithy_runtime_api::client::http::SharedHttpClient::new(ObservingClient::new(
                aws_smithy_runtime_api::client::http::SharedHttpClient::new(oidc.clone()),
            ));
        let sdk = rt.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .http_client(client)
                .no_credentials()
                .load(),
        );
        let provider = rt.block_on(
            aws_config::sso::SsoTokenProvider::builder()
                .configure(&sdk)
                .region(Region::new("us-east-1"))
                .session_name("offstate-sso-test")
                .start_url("https://offstate.awsapps.com/start")
                .build(),
        );
        let token = rt.block_on(provider.provide_token()).unwrap();
        for request in oidc.seen().iter() {
            println!("sso-request {request}");
        }
        println!("sso-token {}", token.token());
        return;
    }
    let dir = std::env::temp_dir().join(format!("offstate-sso-refresh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::aws::tests::a_renewed_sso_refresh_token_is_reported_before_it_is_sent",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(CHILD, "1")
        .env("HOME", &dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let requests: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.split_once("sso-request ").map(|(_, rest)| rest))
        .collect();
    // The refresh happened (the new access token is what the provider gives), with one
    // CreateToken carrying the cached refresh token and client secret, both reported first.
    assert!(
        stdout.contains("sso-token sso-new-access-token-1234"),
        "{stdout}"
    );
    assert_eq!(requests.len(), 1, "{stdout}");
    assert!(requests[0].starts_with("POST "), "{stdout}");
    assert!(
        SSO_CACHED.iter().all(|s| requests[0].contains(s)),
        "{stdout}"
    );
    assert!(
        requests[0].contains("reported-before-sent=true"),
        "{stdout}"
    );
}

/// Only an SSO OIDC CreateToken body is read: a Secrets Manager request (whose JSON body holds
/// a secret value), the same body without POST or `/token`, are not. JSON escapes decoded.
#[test]
fn only_an_oidc_token_body_is_read() {
    let request = |method: &str, uri: &str, content_type: &str, body| {
        let mut request = aws_smithy_runtime_api::http::Request::new(body);
        request.set_method(method).unwrap();
        request.set_uri(uri).unwrap();
        request
            .headers_mut()
            .insert("content-type", content_type.to_owned());
        request
    };
    let json = "{\"grantType\":\"refresh_token\",\"refreshToken\":\"rt-\\u00e9\\\"x\",\"clientSecret\":\"cs-1\",\"clientId\":\"id\"}";
    let sdk = |b: &str| aws_smithy_types::body::SdkBody::from(b.to_owned());
    assert_eq!(
        oidc_token_secrets(&request(
            "POST",
            "https://oidc.eu-west-1.amazonaws.com/token",
            "application/json",
            sdk(json)
        )),
        ["rt-\u{e9}\"x", "cs-1"]
    );
    for (method, uri, content_type) in [
        (
            "POST",
            "https://secretsmanager.eu-west-1.amazonaws.com/",
            "application/x-amz-json-1.1",
        ),
        (
            "POST",
            "https://secretsmanager.eu-west-1.amazonaws.com/token",
            "application/x-amz-json-1.1",
        ),
        (
            "PUT",
            "https://bucket.s3.amazonaws.com/token",
            "application/json",
        ),
        (
            "POST",
            "https://oidc.eu-west-1.amazonaws.com/client/register",
            "application/json",
        ),
    ] {
        assert!(
            oidc_token_secrets(&request(method, uri, content_type, sdk(json))).is_empty(),
            "{method} {uri} {content_type}"
        );
    }
}

#[tokio::test]
async fn a_failing_credential_process_is_reported_without_its_output() {
    use aws_credential_types::provider::ProvideCredentials;
    let canary = "cnry-stderr-token-5e6f7a8b";
    for (command, status) in [
        (
            format!("echo token={canary} >&2; exit 4"),
            Some("exit status: 4"),
        ),
        (
            format!("echo token={canary} >&2; kill -9 $$"),
            Some("signal: 9 (SIGKILL)"),
        ),
        (format!("echo 'not json {canary}'"), None),
        (
            format!(r#"printf '{{"Version": 2, "SecretAccessKey": "{canary}"}}'"#),
            None,
        ),
        (
            format!(
                r#"printf '{{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "{canary}", "Expiration": "x{canary}"}}'"#
            ),
            None,
        ),
    ] {
        let e = process(&command).provide_credentials().await.unwrap_err();
        let text = all_text(&e);
        assert!(!text.contains(canary), "{command}: {text}");
        assert!(
            text.contains("credential_process failed"),
            "{command}: {text}"
        );
        assert!(text.contains("its output is withheld"), "{command}: {text}");
        if let Some(status) = status {
            assert!(text.contains(&format!("({status})")), "{command}: {text}");
        }
        // As the profile provider hands it on: wrapped once more.
        let wrapped = without_process_output(
            aws_credential_types::provider::error::CredentialsError::provider_error(
                aws_credential_types::provider::error::CredentialsError::provider_error(format!(
                    "{PROCESS_EXITED}exit status: 1. Stderr: {canary}"
                )),
            ),
        );
        assert!(!all_text(&wrapped).contains(canary));
    }
    // Any other credentials error is handed on as it is.
    let other = without_process_output(
        aws_credential_types::provider::error::CredentialsError::not_loaded("no source"),
    );
    assert!(all_text(&other).contains("no source"));
    // A status that is not one is not kept.
    assert_eq!(
        credential_process_failure(&format!("{PROCESS_EXITED}{canary}. Stderr: x")),
        Some(CredentialProcessFailed::Exited { status: None })
    );
    // Not run at all (no /bin/sh in a distroless image): the OS error is kept, it is no
    // output of the process; anything else in its place is not.
    let not_run = credential_process_failure(&format!(
        "{PROCESS_OTHER}: No such file or directory (os error 2)"
    ))
    .unwrap()
    .to_string();
    assert!(
        not_run.contains("could not be run (No such file or directory (os error 2))"),
        "{not_run}"
    );
    assert!(!not_run.contains("output"), "it has no output: {not_run}");
    let odd = credential_process_failure(&format!("{PROCESS_OTHER}: {canary}"))
        .unwrap()
        .to_string();
    assert!(
        !odd.contains(canary) && odd.contains("could not be run"),
        "{odd}"
    );
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn environment_problems_agree_with_what_the_sdk_reads() {
    let pw = "cnry-proxy-pw-9a8b7c";
    let url = format!("http://user:{pw}@proxy.corp:3128");
    let ok: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("HTTPS_PROXY", &url), ("HTTP_PROXY", "https://proxy.corp")],
        vec![
            ("HTTPS_PROXY", "proxy.corp:3128"),
            ("http_proxy", "user:pw@proxy.corp:3128"),
        ],
        vec![("HTTPS_PROXY", "HTTP://proxy.corp:3128/")],
        // The first one set wins, even empty: the lower-case one is never read (nor judged).
        vec![("HTTPS_PROXY", ""), ("https_proxy", "")],
        vec![("HTTPS_PROXY", &url), ("https_proxy", "htp://x")],
        // ALL_PROXY is read only where HTTP_PROXY or HTTPS_PROXY is unset.
        vec![
            ("HTTPS_PROXY", &url),
            ("HTTP_PROXY", &url),
            ("ALL_PROXY", "socks5://x"),
        ],
        // A CGI process: the client reads no proxy at all (none set here).
        vec![("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", "")],
        // NO_PROXY matters only with a proxy.
        vec![("NO_PROXY", "*.example.com")],
        vec![
            ("HTTPS_PROXY", &url),
            (
                "NO_PROXY",
                " localhost, .corp,example.com,10.0.0.0/8,::1,fd00::/8,*,,my_host ",
            ),
        ],
        vec![
            ("AWS_USE_FIPS_ENDPOINT", "TRUE"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "false"),
        ],
    ];
    for vars in ok {
        assert_eq!(environment_problems(false, env(&vars)), [], "{vars:?}");
    }
    // (environment, the variable named, what the message says)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let bad: Vec<Case> = vec![
        (
            vec![("HTTPS_PROXY", "htp://user:PW@proxy.corp:3128")],
            "HTTPS_PROXY",
            "scheme other than",
        ),
        (
            vec![("http_proxy", "http://user:PW@proxy.corp:3128 x")],
            "http_proxy",
            "can read",
        ),
        (
            vec![("HTTPS_PROXY", "http://[::1")],
            "HTTPS_PROXY",
            "can read",
        ),
        (
            vec![("HTTPS_PROXY", "http://user:PW@")],
            "HTTPS_PROXY",
            "can read",
        ),
        (
            vec![("HTTPS_PROXY", "user:PW@proxy.corp:3128/")],
            "HTTPS_PROXY",
            "can read",
        ),
        (
            vec![("HTTPS_PROXY", "proxy.corp:3128?x")],
            "HTTPS_PROXY",
            "can read",
        ),
        (
            vec![("ALL_PROXY", "socks5h://user:PW@proxy.corp:1080")],
            "ALL_PROXY",
            "SOCKS",
        ),
        (
            vec![
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", "localhost,*.example.com"),
            ],
            "NO_PROXY",
            "\"*.example.com\"",
        ),
        (
            vec![("HTTP_PROXY", &url), ("no_proxy", "localhost:8443")],
            "no_proxy",
            "has a port",
        ),
        (
            vec![("HTTP_PROXY", &url), ("NO_PROXY", "http://example.com")],
            "NO_PROXY",
            "is a URL",
        ),
        (
            vec![("HTTP_PROXY", &url), ("NO_PROXY", "[::1]")],
            "NO_PROXY",
            "IPv6",
        ),
        (
            vec![("HTTP_PROXY", &url), ("NO_PROXY", "10.0.0.0/33")],
            "NO_PROXY",
            "IP network",
        ),
        (
            vec![("HTTP_PROXY", &url), ("NO_PROXY", "a b")],
            "NO_PROXY",
            "not a host name",
        ),
        (
            vec![("HTTP_PROXY", &url), ("NO_PROXY", "http://u:PW@h")],
            "NO_PROXY",
            "user name",
        ),
        (
            vec![("AWS_USE_FIPS_ENDPOINT", "maybe")],
            "AWS_USE_FIPS_ENDPOINT",
            "true or false",
        ),
        (
            vec![("AWS_USE_DUALSTACK_ENDPOINT", "1")],
            "AWS_USE_DUALSTACK_ENDPOINT",
            "true or false",
        ),
        // A CGI process: the client ignores every proxy, a good one too.
        (
            vec![("REQUEST_METHOD", "POST"), ("https_proxy", &url)],
            "https_proxy",
            "REQUEST_METHOD",
        ),
        // Set but empty: aws-config reads it (not the profile) and drops it.
        (
            vec![("AWS_USE_FIPS_ENDPOINT", "")],
            "AWS_USE_FIPS_ENDPOINT",
            "empty",
        ),
        // An empty upper-case spelling hides the lower-case one from the SDK, not from
        // Terraform (a CI system exporting an unset input over the runner's https_proxy).
        (
            vec![("HTTPS_PROXY", ""), ("https_proxy", &url)],
            "HTTPS_PROXY",
            "hides https_proxy",
        ),
        (
            vec![("ALL_PROXY", ""), ("all_proxy", &url)],
            "ALL_PROXY",
            "hides all_proxy",
        ),
        (
            vec![
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", ""),
                ("no_proxy", "10.0.0.0/8"),
            ],
            "NO_PROXY",
            "hides no_proxy",
        ),
        // ... and in a CGI process the lower-case one is what Terraform uses and the SDK not.
        (
            vec![
                ("REQUEST_METHOD", "GET"),
                ("HTTPS_PROXY", ""),
                ("https_proxy", &url),
            ],
            "https_proxy",
            "REQUEST_METHOD",
        ),
    ];
    for (vars, variable, says) in bad {
        let problems = environment_problems(false, env(&vars));
        assert_eq!(problems.len(), 1, "{vars:?}: {problems:?}");
        let text = problems[0].to_string();
        assert_eq!(problems[0].variable, variable, "{text}");
        // Only NO_PROXY entries and empty switches are warnings: the provider goes on.
        assert_eq!(
            problems[0].warning,
            variable.eq_ignore_ascii_case("NO_PROXY")
                || says == "empty"
                || says.starts_with("hides"),
            "{text}"
        );
        assert!(
            text.starts_with(variable) && text.contains(says),
            "{vars:?}: {text}"
        );
        assert!(
            !text.contains("PW") && !text.contains(pw) && !text.contains("proxy.corp"),
            "{text}"
        );
    }
    // A usable ALL_PROXY is what the client uses in place of an HTTP(S)_PROXY it drops or
    // an empty one hides: still an error (or a warning), saying where requests go.
    for (vars, warning) in [
        (
            vec![
                ("HTTPS_PROXY", "htp://user:PW@proxy.corp:3128"),
                ("ALL_PROXY", &url),
            ],
            false,
        ),
        (
            vec![
                ("http_proxy", "user:PW@proxy.corp:3128/"),
                ("all_proxy", &url),
            ],
            false,
        ),
        (
            vec![
                ("HTTPS_PROXY", ""),
                ("https_proxy", &url),
                ("ALL_PROXY", &url),
            ],
            true,
        ),
    ] {
        let problems = environment_problems(false, env(&vars));
        assert_eq!(problems.len(), 1, "{vars:?}: {problems:?}");
        assert_eq!(problems[0].warning, warning, "{problems:?}");
        let text = problems[0].to_string();
        let all = vars
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("ALL_PROXY"))
            .unwrap()
            .0;
        assert!(
            text.contains(&format!("through the proxy in {all} instead"))
                && !text.contains("without")
                && !text.contains("PW")
                && !text.contains("proxy.corp"),
            "{text}"
        );
    }
    // use_fips_endpoint configured: the variable is not read.
    assert_eq!(
        environment_problems(true, env(&[("AWS_USE_FIPS_ENDPOINT", "maybe")])),
        []
    );
    // Every problem at once, in one error.
    let all = environment_problems(
        false,
        env(&[
            ("HTTPS_PROXY", "htp://x"),
            ("HTTP_PROXY", "ftp://x"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "x"),
        ]),
    );
    assert_eq!(all.len(), 3, "{all:?}");
    let e = ConnectError::Environment(all).to_string();
    assert!(
        e.contains("HTTP_PROXY") && e.contains("HTTPS_PROXY") && e.contains("; "),
        "{e}"
    );
}

/// The proxy half of [`environment_problems`] against hyper-util's matcher, which
/// `ProxyConfig::from_env` hands the SDK's connector: a proxy URL is reported exactly when
/// the matcher would not use it as an HTTP(S) proxy with a host, and a `NO_PROXY` entry
/// exactly when it would not keep the host it was written for away from the proxy.
#[test]
fn proxy_problems_agree_with_hyper_util() {
    use hyper_util::client::proxy::matcher::Matcher;
    let dst = "https://secretsmanager.eu-west-1.amazonaws.com/";
    let mut disagree = Vec::new();
    for url in [
        "http://proxy.corp:3128",
        "HTTP://proxy.corp:3128/",
        "https://proxy.corp",
        "Https://u:p@proxy.corp:3128/path?q",
        "proxy.corp:3128",
        "u:p@proxy.corp:3128",
        "proxy.corp",
        "http://[::1]:3128",
        "[::1]:3128",
        "http://10.0.0.1:3128",
        "",
        " ",
        "http://proxy.corp:3128 ",
        " http://proxy.corp:3128",
        "http://proxy.corp:3128\n",
        "htp://proxy.corp:3128",
        "socks5://proxy.corp:1080",
        "SOCKS5h://proxy.corp:1080",
        "http://",
        "http://:3128",
        "http://u:p@",
        "http://u:p@:3128",
        "http://[::1",
        "http://proxy.corp:notaport",
        "http://proxy.corp:99999",
        "proxy.corp:3128/",
        "proxy.corp:3128?x",
        "//proxy.corp:3128",
        "/proxy",
        "http:/proxy.corp",
        "http://pro xy:3128",
        "http://u:p/w@proxy.corp:3128",
        "http://u%40x:p%2Fw@proxy.corp:3128",
        "http://u:p@x@proxy.corp:3128",
        "http://proxy.corp:3128#frag",
        ":3128",
        "u:p@:3128",
        "http://u:p@",
        "Socks5://proxy.corp:1080",
        "http://:notaport",
    ] {
        let intercept = Matcher::builder()
            .https(url)
            .build()
            .intercept(&dst.parse().unwrap());
        let usable = intercept.is_some_and(|i| {
            matches!(i.uri().scheme_str(), Some("http" | "https"))
                && i.uri().host().is_some_and(|h| !h.is_empty())
        });
        let ours = environment_problems(false, env(&[("HTTPS_PROXY", url)]));
        // An empty value is "unset" to both.
        if usable != ours.is_empty() && !url.is_empty() {
            disagree.push(format!(
                "proxy {url:?}: hyper-util usable={usable}, offstate {ours:?}"
            ));
        }
        // With a usable ALL_PROXY: the matcher uses it in place of a value it drops, and the
        // error says so exactly then (and that requests go direct never).
        let fallback = "http://fallback.corp:3128";
        let falls_back = Matcher::builder()
            .https(url)
            .all(fallback)
            .build()
            .intercept(&dst.parse().unwrap())
            .is_some_and(|i| i.uri().host() == Some("fallback.corp"));
        let ours = environment_problems(
            false,
            env(&[
                ("HTTPS_PROXY", url),
                ("HTTP_PROXY", "http://proxy.corp:3128"),
                ("ALL_PROXY", fallback),
            ]),
        );
        let text = ours
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let says_fallback = text.contains("through the proxy in ALL_PROXY instead");
        if (falls_back && !url.is_empty()) != says_fallback
            || text.contains("without the proxy")
            || (usable && !ours.is_empty())
        {
            disagree.push(format!(
                "proxy {url:?} with ALL_PROXY: hyper-util falls back={falls_back}, offstate {text:?}"
            ));
        }
    }
    // (entry, a host it is meant to keep away from the proxy)
    for (entry, host) in [
        ("localhost", "localhost"),
        ("LOCALHOST", "localhost"),
        (".corp", "a.corp"),
        ("corp", "a.b.corp"),
        ("example.com", "example.com"),
        (" example.com ", "sub.example.com"),
        ("my_host", "my_host"),
        ("*", "anything.example"),
        ("10.0.0.0/8", "10.1.2.3"),
        ("10.1.2.3/8", "10.9.9.9"),
        ("10.0.0.0/08", "10.1.2.3"),
        ("10.0.0.0/008", "10.1.2.3"),
        ("10.0.0.0/+8", "10.1.2.3"),
        ("10.0.0.0/33", "10.0.0.1"),
        ("010.0.0.0/8", "10.1.2.3"),
        ("10.0.0.1", "10.0.0.1"),
        ("010.0.0.1", "10.0.0.1"),
        ("10.0.0", "10.0.0.1"),
        ("10.0.0.", "10.0.0.1"),
        ("127.0.0.1:8080", "127.0.0.1"),
        ("::1", "[::1]"),
        ("[::1]", "[::1]"),
        ("fd00::/8", "[fd00::1]"),
        ("fd00::/0128", "[fd00::1]"),
        ("*.example.com", "a.example.com"),
        ("*example.com", "a.example.com"),
        ("localhost:8443", "localhost"),
        ("http://example.com", "example.com"),
        ("example.com/", "example.com"),
        ("169.254.169.254", "169.254.169.254"),
    ] {
        let matcher = Matcher::builder()
            .http("http://proxy.corp:3128")
            .https("http://proxy.corp:3128")
            .no(entry)
            .build();
        let bypassed = matcher
            .intercept(&format!("https://{host}/").parse().unwrap())
            .is_none();
        let ours = environment_problems(
            false,
            env(&[
                ("HTTPS_PROXY", "http://proxy.corp:3128"),
                ("NO_PROXY", entry),
            ]),
        );
        if bypassed != ours.is_empty() {
            disagree.push(format!(
                "NO_PROXY {entry:?} for {host}: hyper-util bypasses={bypassed}, offstate {ours:?}"
            ));
        }
    }
    assert!(disagree.is_empty(), "{disagree:#?}");
}

/// aws-config's IMDS error prints the whole response with `Debug`, body bytes included
/// (`error response from IMDS (code: {status}). {raw:?}`); the chain keeps the status only.
#[test]
fn error_chain_does_not_dump_a_response() {
    #[derive(Debug)]
    struct ImdsLike(String);
    impl std::fmt::Display for ImdsLike {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for ImdsLike {}
    #[derive(Debug)]
    struct Outer(ImdsLike);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an error occurred while loading credentials")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let mut raw = aws_smithy_runtime_api::http::Response::new(
        500.try_into().unwrap(),
        aws_smithy_types::body::SdkBody::from(
            r#"{"SecretAccessKey": "cnry-imds-body-key-1a2b3c", "Token": "cnry-imds-body-tok"}"#,
        ),
    );
    raw.headers_mut().insert("x-echo", "cnry-imds-header-4d5e");
    let imds = ImdsLike(format!(
        "error response from IMDS (code: {}). {:?}",
        raw.status().as_u16(),
        raw
    ));
    assert!(imds.0.contains("cnry-imds-body-key"), "the test's premise");
    let text = error_chain(&Outer(imds));
    assert!(!text.contains("cnry"), "{text}");
    assert_eq!(
        text,
        "an error occurred while loading credentials: error response from IMDS (code: 500) (the response is not shown)"
    );
    assert_eq!(
        error_chain(&ImdsLike("plain text. No response".into())),
        "plain text. No response"
    );
}

/// The child process of the two FIPS / dual-stack tests below: this test binary re-run as
/// `fips_and_dual_stack_switches_agree_with_aws_config` in a clean environment (HOME `home`,
/// the shared config file `config`, no credentials file, and `env`); returns what it printed
/// after `sdk-switches ` (`fips=Some(true) dual_stack=None`).
fn sdk_switches_of_child(
    home: &std::path::Path,
    config: &std::path::Path,
    env: &[(&str, &str)],
    what: &str,
) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::aws::tests::fips_and_dual_stack_switches_agree_with_aws_config",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(FIPS_SWITCH_CHILD, "1")
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("sdk-switches ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("child said nothing for {what}: {stdout}"))
        .to_owned()
}

/// The value after `key` (`fips=`) in a line of [`sdk_switches_of_child`].
fn switch_in<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    line.split(key).nth(1).and_then(|r| r.split(' ').next())
}

const FIPS_SWITCH_CHILD: &str = "OFFSTATE_TEST_FIPS_SWITCH_CHILD";

/// The FIPS and dual-stack half of [`environment_problems`] against aws-config itself: each
/// value is given to a child process (this test, re-run) whose shared config file turns both
/// switches on, and the loaded `SdkConfig` says whether the SDK honoured the variable. No
/// problem must be reported exactly when it did.
#[test]
fn fips_and_dual_stack_switches_agree_with_aws_config() {
    if std::env::var_os(FIPS_SWITCH_CHILD).is_some() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sdk = rt.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .load(),
        );
        println!(
            "sdk-switches fips={:?} dual_stack={:?}",
            sdk.use_fips(),
            sdk.use_dual_stack()
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("offstate-fips-switch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[default]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n",
    )
    .unwrap();
    let mut disagree = Vec::new();
    for value in ["", "true", "TRUE", "False", "maybe", " true", "1"] {
        let line = sdk_switches_of_child(
            &dir,
            &config,
            &[
                ("AWS_USE_FIPS_ENDPOINT", value),
                ("AWS_USE_DUALSTACK_ENDPOINT", value),
            ],
            &format!("{value:?}"),
        );
        let expected = Some(value.eq_ignore_ascii_case("true"));
        for (variable, key) in [
            ("AWS_USE_FIPS_ENDPOINT", "fips="),
            ("AWS_USE_DUALSTACK_ENDPOINT", "dual_stack="),
        ] {
            let honoured = switch_in(&line, key) == Some(format!("{expected:?}").as_str());
            let problems = environment_problems(false, env(&[(variable, value)]));
            if honoured != problems.is_empty() {
                disagree.push(format!(
                    "{variable}={value:?}: SDK {line:?}, offstate {problems:?}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(disagree.is_empty(), "{disagree:#?}");
}

/// The profile half: each value written as both switches of the shared config file's
/// profile, no variable set, given to the same child; [`profile_problems`] (on the profile as
/// `aws_config::profile::load` reads it, as [`AwsSecretsManager::connect`] does) reports a
/// problem exactly when the SDK dropped a value that was written.
#[test]
fn fips_and_dual_stack_profile_settings_agree_with_aws_config() {
    use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
    let dir = std::env::temp_dir().join(format!(
        "offstate-fips-profile-switch-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut disagree = Vec::new();
    for value in [
        "",
        "true",
        "TRUE",
        "False",
        "maybe",
        " true ",
        "1",
        "yes",
        "true # on",
        "tru\te",
    ] {
        for (profile, header) in [("default", "[default]"), ("ci", "[profile ci]")] {
            std::fs::write(
                &config,
                format!(
                    "{header}\nuse_fips_endpoint = {value}\nuse_dualstack_endpoint = {value}\n"
                ),
            )
            .unwrap();
            let line = sdk_switches_of_child(
                &dir,
                &config,
                &[("AWS_PROFILE", profile)],
                &format!("{value:?} in {profile}"),
            );
            let files = EnvConfigFiles::builder()
                .include_default_config_file(false)
                .include_default_credentials_file(false)
                .with_file(EnvConfigFileKind::Config, &config)
                .build();
            let profiles = rt
                .block_on(aws_config::profile::load(
                    &Default::default(),
                    &Default::default(),
                    &files,
                    Some(profile.into()),
                ))
                .unwrap();
            let problems = profile_problems(&profiles, false, |_| None);
            for (setting, key) in [
                ("use_fips_endpoint", "fips="),
                ("use_dualstack_endpoint", "dual_stack="),
            ] {
                let dropped = switch_in(&line, key) == Some("None") && !value.trim().is_empty();
                let reported: Vec<_> = problems.iter().filter(|p| p.setting == setting).collect();
                if dropped == reported.is_empty() || reported.iter().any(|p| p.profile != profile) {
                    disagree.push(format!(
                        "{setting} = {value:?} in {profile}: SDK {line:?}, offstate {problems:?}"
                    ));
                }
            }
        }
    }
    // A variable set, empty or not, is read instead of the profile; use_fips_endpoint
    // configured, the profile's is never read.
    std::fs::write(
        &config,
        "[default]\nuse_fips_endpoint = maybe\nuse_dualstack_endpoint = maybe\n",
    )
    .unwrap();
    let files = EnvConfigFiles::builder()
        .include_default_config_file(false)
        .with_file(EnvConfigFileKind::Config, &config)
        .build();
    let profiles = rt
        .block_on(aws_config::profile::load(
            &Default::default(),
            &Default::default(),
            &files,
            Some("default".into()),
        ))
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(disagree.is_empty(), "{disagree:#?}");
    assert_eq!(profile_problems(&profiles, false, |_| None).len(), 2);
    let only_dual_stack = profile_problems(&profiles, true, |_| None);
    assert_eq!(only_dual_stack.len(), 1);
    assert_eq!(
        only_dual_stack[0].to_string(),
        "use_dualstack_endpoint in profile \"default\" of the shared config files is neither true nor false, so the AWS SDK would ignore it; set it to true or false, or remove it"
    );
    assert_eq!(
        profile_problems(&profiles, false, |name| (name == "AWS_USE_FIPS_ENDPOINT")
            .then(String::new))
        .len(),
        1
    );
    assert!(profile_problems(&profiles, false, |_| Some("true".into())).is_empty());
}

#[test]
fn regions_table() {
    for ok in [
        "us-east-1",
        "eu-west-1",
        "eu-central-2",
        "ap-southeast-4",
        "us-gov-west-1",
        "us-isob-east-1",
        "cn-north-1",
        "il-central-1",
        "eusc-de-east-1",
    ] {
        assert_eq!(validate_region(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "US-EAST-1",
        "us_east_1",
        "useast1",
        "us-east-1a",
        "europe-east-1",
        "us--1",
        "us-east-",
        " us-east-1",
        "us-east-123",
    ] {
        assert!(validate_region(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn endpoints_table() {
    assert_eq!(validate_endpoint("http://127.0.0.1:4566"), Ok(()));
    assert_eq!(
        validate_endpoint("https://secretsmanager.eu-west-1.amazonaws.com/"),
        Ok(())
    );
    for bad in [
        "127.0.0.1:4566",
        "ftp://x",
        "http://",
        "http:///x",
        "https://a b",
    ] {
        assert_eq!(
            validate_endpoint(bad),
            Err(ConnectError::InvalidEndpoint),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn connect_validates_before_loading() {
    let bad =
        |cfg: AwsStoreConfig| async move { AwsSecretsManager::connect(&cfg).await.unwrap_err() };
    assert!(matches!(
        bad(AwsStoreConfig {
            region: Some("nowhere".into()),
            ..Default::default()
        })
        .await,
        ConnectError::InvalidRegion(_)
    ));
    assert_eq!(
        bad(AwsStoreConfig {
            region: Some("eu-west-1".into()),
            max_attempts: Some(0),
            ..Default::default()
        })
        .await,
        ConnectError::InvalidMaxAttempts
    );
    assert_eq!(
        bad(AwsStoreConfig {
            region: Some("eu-west-1".into()),
            endpoint: Some("localhost:4566".into()),
            ..Default::default()
        })
        .await,
        ConnectError::InvalidEndpoint
    );
    assert_eq!(
        bad(AwsStoreConfig {
            region: Some("eu-west-1".into()),
            assume_role: Some(AssumeRole {
                role_arn: "admin".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await,
        ConnectError::InvalidRoleArn
    );
}

/// A FIPS or dual-stack switch of the selected profile that the SDK would drop is refused
/// as the environment's is; the profile's other settings, another profile's, an empty value
/// and `use_fips_endpoint` configured are not.
#[tokio::test]
async fn connect_refuses_a_profile_switch_the_sdk_would_drop() {
    if std::env::var_os("AWS_USE_FIPS_ENDPOINT").is_some()
        || std::env::var_os("AWS_USE_DUALSTACK_ENDPOINT").is_some()
    {
        return; // the variables are read instead of the profile
    }
    let file = TempFile::new("profile-switches");
    std::fs::write(
        &file.0,
        "[profile odd]\nregion = eu-west-1\nuse_fips_endpoint = yes\nuse_dualstack_endpoint = false\n\
         [profile fine]\nuse_fips_endpoint = TRUE\nuse_dualstack_endpoint =\n",
    )
    .unwrap();
    let connect = |profile: &str, use_fips: Option<bool>| {
        let cfg = AwsStoreConfig {
            region: Some("eu-west-1".into()),
            profile: Some(profile.into()),
            endpoint: Some("http://127.0.0.1:9".into()),
            shared_config_files: vec![file.0.clone()],
            shared_credentials_files: vec![file.0.clone()],
            use_fips,
            ..Default::default()
        };
        async move { AwsSecretsManager::connect(&cfg).await }
    };
    match connect("odd", None).await {
        Err(ConnectError::Profile(problems)) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].setting, "use_fips_endpoint");
            assert_eq!(problems[0].profile, "odd");
            assert!(!problems[0].to_string().contains("yes"), "{problems:?}");
        }
        other => panic!("{other:?}"),
    }
    connect("odd", Some(false)).await.unwrap();
    connect("fine", None).await.unwrap();
}

#[tokio::test]
async fn connect_with_explicit_settings_makes_no_call() {
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        region: Some("eu-west-1".into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        assume_role: Some(AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            session_name: Some("offstate".into()),
            external_id: Some("ext".into()),
            duration: Some(Duration::from_secs(900)),
            policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
            policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            tags: [("team".to_string(), "payments".to_string())].into(),
            transitive_tag_keys: vec!["team".into()],
            source_identity: Some("ci-run".into()),
        }),
        max_attempts: Some(1),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(store.region(), "eu-west-1");
}

/// The role ARNs connect takes (and the provider's validate, which calls the same function):
/// arn:PARTITION:iam::12-digit-account:role/[PATH/]NAME.
#[test]
fn role_arns_are_checked_part_by_part() {
    for ok in [
        "arn:aws:iam::123456789012:role/deploy",
        "arn:aws:iam::123456789012:role/ci/deploy",
        "arn:aws-us-gov:iam::123456789012:role/deploy",
        "arn:aws-cn:iam::123456789012:role/a/b/c/deploy",
    ] {
        assert!(super::is_role_arn(ok), "{ok}");
    }
    for bad in [
        "",
        "arn:aws:iam::123456789012:user/ci",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::12345678901:role/deploy",
        "arn:aws:iam::1234567890123:role/deploy",
        "arn:aws:iam::12345678901a:role/deploy",
        "arn:aws:iam:us-east-1:123456789012:role/deploy",
        "arn:aws:sts::123456789012:role/deploy",
        "arn::iam::123456789012:role/deploy",
        "arn:AWS:iam::123456789012:role/deploy",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/ci/",
        "arn:aws:iam::123456789012:role/de ploy",
        "arn:aws:iam::123456789012:role",
        "role/deploy",
    ] {
        assert!(!super::is_role_arn(bad), "{bad:?}");
    }
    let long = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(2048));
    assert!(!super::is_role_arn(&long), "more than 2048 characters");
}

/// An endpoint on loopback that answers every request with Secrets Manager's throttling error,
/// counting them.
fn throttling_endpoint() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    answering_endpoint(
        "400 Bad Request",
        "ThrottlingException",
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    )
}

/// An endpoint on loopback that answers every request with `status`, an `x-amzn-ErrorType` of
/// `error_type` and the JSON `answer`, counting them.
fn answering_endpoint(
    status: &'static str,
    error_type: &'static str,
    answer: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                let mut reader = BufReader::new(conn);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let whole = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                         x-amzn-ErrorType: {error_type}\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if out.write_all(whole.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, requests)
}

/// Throttling that goes on (200 secrets applied at -parallelism=50) leaves every call its
/// retries: the SDK's shared retry quota (500 tokens per process, 5 a retry, none back for a
/// call that fails in the end) made every throttled call after the first hundred or so fail at
/// its first attempt. 150 calls throttled at each attempt: each is sent `max_attempts` times.
#[tokio::test]
async fn sustained_throttling_leaves_every_call_its_retries() {
    use aws_sdk_secretsmanager::config::retry::RetryConfig;
    use aws_sdk_secretsmanager::config::Credentials;
    const CALLS: usize = 150;
    const ATTEMPTS: u32 = 3;
    let (url, requests) = throttling_endpoint();
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        region: Some("us-east-1".into()),
        endpoint: Some(url),
        max_attempts: Some(ATTEMPTS),
        ..Default::default()
    })
    .await
    .unwrap();
    // The store's client with a backoff of a millisecond and test keys; its retry partition (and
    // so its quota), classifiers and interceptors are the store's.
    let conf = store
        .client
        .config()
        .to_builder()
        .credentials_provider(Credentials::new(
            "AKIDOFFSTATETEST",
            "not-a-secret",
            None,
            None,
            "test",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2)),
        )
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(conf);
    for _ in 0..CALLS {
        let err = client
            .describe_secret()
            .secret_id("s")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            super::errors::map_sdk_error(err).code(),
            "ThrottlingException"
        );
    }
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        CALLS * ATTEMPTS as usize,
        "every call was tried {ATTEMPTS} times"
    );
}

/// An endpoint that is not Secrets Manager but an API Gateway (a stage's URL, another service's,
/// or a path added to the URL) answers a signed request with 403 and
/// `MissingAuthenticationTokenException`: that code was no known one (an `Other` error, the
/// endpoint named nowhere); through the SDK as it reads the answer, it is now a credentials
/// fault whose advice names the endpoint settings.
#[tokio::test]
async fn an_api_gateway_answer_says_the_endpoint_is_probably_wrong() {
    use aws_sdk_secretsmanager::config::Credentials;
    let (url, requests) = answering_endpoint(
        "403 Forbidden",
        "MissingAuthenticationTokenException",
        r#"{"message":"Missing Authentication Token"}"#,
    );
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        region: Some("us-east-1".into()),
        endpoint: Some(format!("{url}/prod")),
        max_attempts: Some(1),
        ..Default::default()
    })
    .await
    .unwrap();
    let conf = store
        .client
        .config()
        .to_builder()
        .credentials_provider(Credentials::new(
            "AKIDOFFSTATETEST",
            "not-a-secret",
            None,
            None,
            "test",
        ))
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(conf);
    let err = client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap_err();
    let e = super::errors::map_sdk_error(err);
    assert_eq!(e.code(), "MissingAuthenticationTokenException");
    assert!(
        matches!(e, crate::store::StoreError::AccessDenied { .. }),
        "{e:?}"
    );
    let advice = e.credentials_advice().unwrap_or_default();
    assert!(
        advice.contains("the endpoint is probably wrong"),
        "{advice}"
    );
    assert!(
        advice.contains("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        "{advice}"
    );
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// STS answering `assume_role`'s AssumeRole as API Gateway does (403, `x-amzn-ErrorType:
/// MissingAuthenticationTokenException`, "Missing Authentication Token"): the STS endpoint
/// (here the profile's `endpoint_url`; `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL` alike) is a
/// URL with no API behind it. The advice named the Secrets Manager endpoint settings, which
/// STS never uses; it names STS's.
#[tokio::test]
async fn an_api_gateway_answer_to_assume_role_names_the_sts_endpoint() {
    let (url, requests) = answering_endpoint(
        "403 Forbidden",
        "MissingAuthenticationTokenException",
        r#"{"message":"Missing Authentication Token"}"#,
    );
    let file = TempFile::new("sts-no-such-api");
    std::fs::write(
        &file.0,
        format!(
            "[profile gw]\nregion = us-east-1\nendpoint_url = {url}/prod\n\
             aws_access_key_id = AKIDOFFSTATETEST\naws_secret_access_key = not-a-secret\n"
        ),
    )
    .unwrap();
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        region: Some("us-east-1".into()),
        profile: Some("gw".into()),
        shared_config_files: vec![file.0.clone()],
        shared_credentials_files: vec![file.0.clone()],
        endpoint: Some("http://127.0.0.1:9".into()),
        assume_role: Some(AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            ..Default::default()
        }),
        max_attempts: Some(1),
        ..Default::default()
    })
    .await
    .unwrap();
    let err = store
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap_err();
    let e = super::errors::map_sdk_error(err);
    assert_eq!(e.code(), "MissingAuthenticationTokenException", "{e:?}");
    assert!(e.message().contains("STS AssumeRole"), "{e:?}");
    let advice = e.credentials_advice().unwrap_or_default();
    assert!(
        advice.contains("STS endpoint is probably wrong"),
        "{advice}"
    );
    assert!(advice.contains("AWS_ENDPOINT_URL_STS"), "{advice}");
    assert!(
        !advice.contains("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        "{advice}"
    );
    assert!(requests.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
