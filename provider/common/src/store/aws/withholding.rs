//! `Withholding`, the credentials provider around the SDK's: it reports every credential it
//! hands on, logs the sources the chain tried by name, and replaces a `credential_process`
//! failure, whose text may quote the process's output, with `CredentialProcessFailed`.

use aws_credential_types::provider::SharedCredentialsProvider;
use thiserror::Error;
use tracing::instrument::WithSubscriber;

use super::observe::CREDENTIAL_OBSERVER;
use super::LOG_TARGET;

#[cfg(doc)]
use super::connect::AwsSecretsManager;
#[cfg(doc)]
use super::secret_store::quietly;

/// A credentials provider around another: tells `observe` (the [`CREDENTIAL_OBSERVER`]) the
/// secret access key and session token of every credential before handing it on, and replaces
/// a `credential_process` failure with [`CredentialProcessFailed`].
///
/// [`AwsSecretsManager::connect`] puts one around the SDK's own chain, so that credentials from
/// any source are registered on first resolution: the SDK's STS client inside `assume_role`
/// signs with them (a secret key never goes on the wire, so no connector sees it); and one around
/// the assumed role's provider. `Debug` shows nothing of the inner provider (the assume-role one
/// prints its request, `ExternalId` included).
pub(super) struct Withholding {
    pub(super) inner: SharedCredentialsProvider,
    pub(super) observe: Option<fn(&str)>,
    /// Where [`Withholding::log_sources`] writes: the subscriber in force when the wrapper was
    /// made (at ConfigureProvider, not inside [`quietly`]), so that the line is not lost when the
    /// first resolution happens inside a call that carries a value.
    pub(super) log: tracing::Dispatch,
}

impl Withholding {
    /// `inner` wrapped, reporting to the process's [`CREDENTIAL_OBSERVER`] (if one is set).
    pub(super) fn wrap(inner: SharedCredentialsProvider) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Withholding {
            inner,
            observe: CREDENTIAL_OBSERVER.get().copied(),
            log: tracing::dispatcher::get_default(Clone::clone),
        })
    }

    /// Logs at debug level (offstate's own target, so `TF_LOG=debug` shows it) the credentials
    /// sources the SDK's default chain tried and what each gave (`Environment: none, Profile:
    /// loaded`), and whether credentials were resolved: names only, never an error text or a
    /// value. The chain's own events say the same but may quote a credential in their error
    /// text, so the provider's logging caps them at warnings and withholds their text. Nothing
    /// when no chain was asked (a provider around the assumed role's).
    fn log_sources(&self, tried: &[(&'static str, &'static str)], resolved: bool) {
        if tried.is_empty() {
            return;
        }
        let tried = tried
            .iter()
            .map(|(name, outcome)| format!("{name}: {outcome}"))
            .collect::<Vec<_>>()
            .join(", ");
        tracing::dispatcher::with_default(&self.log, || {
            if resolved {
                tracing::debug!(
                    target: LOG_TARGET,
                    tried,
                    "AWS credentials resolved by the SDK's credentials chain"
                );
            } else {
                tracing::debug!(
                    target: LOG_TARGET,
                    tried,
                    "AWS credentials not resolved by the SDK's credentials chain"
                );
            }
        });
    }
}

/// The sources the SDK's credentials chain tried, read from its events (target
/// `aws_config::meta::credentials::chain`, field `provider`: a source's fixed name such as
/// `Environment` or `WebIdentityToken`) while a [`Withholding`] resolves: a subscriber set for
/// that call only, which hands everything else (and the chain's events that the subscriber it
/// wraps wants) on to that subscriber. Only the name and the kind of outcome are kept; the
/// chain's `context` and `error` fields (an error's text) are not read.
struct ChainSources {
    inner: tracing::Dispatch,
    tried: std::sync::Mutex<Vec<(&'static str, &'static str)>>,
}

/// The chain's target in aws-config 1.x (`meta::credentials::chain`).
pub(super) const CHAIN_TARGET: &str = "aws_config::meta::credentials::chain";

impl ChainSources {
    fn is_chain(metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == CHAIN_TARGET && metadata.is_event()
    }
}

impl tracing::Subscriber for ChainSources {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if Self::is_chain(metadata) {
            tracing::subscriber::Interest::sometimes()
        } else {
            self.inner.register_callsite(metadata)
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        None
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        Self::is_chain(metadata) || self.inner.enabled(metadata)
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.inner.record(span, values)
    }

    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.inner.record_follows_from(span, follows)
    }

    fn event(&self, event: &tracing::Event<'_>) {
        if Self::is_chain(event.metadata()) {
            struct Fields {
                provider: Option<&'static str>,
                message: String,
            }
            impl tracing::field::Visit for Fields {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    match field.name() {
                        // A `Cow` of one of the chain's fixed names, recorded with Display.
                        "provider" => {
                            let name = format!("{value:?}");
                            self.provider = CHAIN_SOURCES.iter().copied().find(|n| *n == name);
                        }
                        "message" => self.message = format!("{value:?}"),
                        _ => {}
                    }
                }
            }
            let mut fields = Fields {
                provider: None,
                message: String::new(),
            };
            event.record(&mut fields);
            let outcome = match fields.message.as_str() {
                "loaded credentials" => Some("loaded"),
                "provider in chain did not provide credentials" => Some("none"),
                "provider failed to provide credentials" => Some("failed"),
                _ => None,
            };
            if let (Some(provider), Some(outcome)) = (fields.provider, outcome) {
                self.tried
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((provider, outcome));
            }
            if !self.inner.enabled(event.metadata()) {
                return;
            }
        }
        self.inner.event(event)
    }

    fn enter(&self, span: &tracing::span::Id) {
        self.inner.enter(span)
    }

    fn exit(&self, span: &tracing::span::Id) {
        self.inner.exit(span)
    }

    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: tracing::span::Id) -> bool {
        self.inner.try_close(id)
    }

    // `current_span` keeps its default (unknown): `Span::current()` inside the resolution finds
    // no span (nothing in the SDK's credentials code asks; tracing does not export the type
    // that forwarding it would name). Contextual parents come from the wrapped subscriber.
}

/// The names aws-config 1.x's default credentials chain gives its sources, in the order it tries
/// them (`DefaultCredentialsChain`); a name not among them is not logged.
const CHAIN_SOURCES: [&str; 5] = [
    "Environment",
    "Profile",
    "WebIdentityToken",
    "EcsContainer",
    "Ec2InstanceMetadata",
];

impl std::fmt::Debug for Withholding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Withholding").finish_non_exhaustive()
    }
}

impl aws_credential_types::provider::ProvideCredentials for Withholding {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            // The chain's sources, as it tries them, for a debug line (see `log_sources`).
            // Inside another one's resolution (the base credentials of an assumed role, which
            // its STS client resolves): hand on to what that one hands on to, so that the
            // chain's sources are logged once, by the resolution that asked them.
            let current = tracing::dispatcher::get_default(Clone::clone);
            let inner = match current.downcast_ref::<ChainSources>() {
                Some(outer) => outer.inner.clone(),
                None => current,
            };
            let sources = std::sync::Arc::new(ChainSources {
                inner,
                tried: Default::default(),
            });
            let result = self
                .inner
                .provide_credentials()
                .with_subscriber(tracing::Dispatch::from(sources.clone()))
                .await;
            let tried =
                std::mem::take(&mut *sources.tried.lock().unwrap_or_else(|e| e.into_inner()));
            self.log_sources(&tried, result.is_ok());
            match result {
                Ok(creds) => {
                    if let Some(observe) = self.observe {
                        observe(creds.secret_access_key());
                        if let Some(token) = creds.session_token() {
                            observe(token);
                        }
                    }
                    Ok(creds)
                }
                Err(e) => Err(without_process_output(e)),
            }
        })
    }

    fn fallback_on_interrupt(&self) -> Option<aws_credential_types::Credentials> {
        let creds = self.inner.fallback_on_interrupt()?;
        if let Some(observe) = self.observe {
            observe(creds.secret_access_key());
            if let Some(token) = creds.session_token() {
                observe(token);
            }
        }
        Some(creds)
    }
}

/// How a `credential_process` failed, without what it printed. aws-config's
/// `CredentialProcessProvider` reports every failure as a `CredentialsError::ProviderError`
/// around a plain string (no type of its own to match), and two of those strings quote the
/// process: a non-zero exit puts its whole stderr in ("Error retrieving credentials: external
/// process exited with code {status}. Stderr: {stderr}"), and a JSON parse error may quote its
/// stdout. A process that prints its token on failure, or a credential in malformed output,
/// would have it in the diagnostic. The profile provider wraps that error once more, so the
/// string is found by walking the error's sources.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialProcessFailed {
    /// The process exited unsuccessfully; the status as the SDK reported it (`exit status: 3`,
    /// `signal: 9 (SIGKILL)`), when it did.
    #[error("the profile's credential_process failed{}; its output is withheld, as it may hold a credential (run the command by hand to see it)", .status.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
    Exited {
        /// The exit status.
        status: Option<String>,
    },
    /// The process succeeded but its stdout is not the JSON the SDK reads.
    #[error("the profile's credential_process failed: it exited successfully but did not print the credentials JSON the AWS SDK reads (Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and Expiration); its output is withheld, as it may hold a credential (run the command by hand to see it)")]
    Unreadable,
    /// The process could not be run (started at all: `sh` missing, too many open files); it
    /// printed nothing.
    #[error("the profile's credential_process failed: it could not be run{}", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    NotRun {
        /// The operating system's error (`No such file or directory (os error 2)`), when the
        /// SDK's text ends with one.
        reason: Option<String>,
    },
}

/// The messages of aws-config 1.x's `credential_process` module that [`CredentialProcessFailed`]
/// replaces (checked against its source by the unit tests).
pub(super) const PROCESS_EXITED: &str =
    "Error retrieving credentials: external process exited with code ";
pub(super) const PROCESS_OTHER: &str = "Error retrieving credentials from external process";

/// What [`CredentialProcessFailed`] a `credential_process` error's text stands for; `None` when
/// the text is not one of that module's.
pub(super) fn credential_process_failure(text: &str) -> Option<CredentialProcessFailed> {
    if let Some(rest) = text.strip_prefix(PROCESS_EXITED) {
        // `ExitStatus`'s Display, then ". Stderr: ": only the status is kept, and only when it
        // looks like one (the process's own text comes after it).
        let status = rest
            .split_once(". Stderr: ")
            .map(|(status, _)| status)
            .filter(|s| {
                s.len() <= 48
                    && (s.starts_with("exit status: ") || s.starts_with("signal: "))
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" :()-".contains(&b))
            })
            .map(str::to_owned);
        return Some(CredentialProcessFailed::Exited { status });
    }
    let rest = text.strip_prefix(PROCESS_OTHER)?;
    if rest.starts_with(", could not parse response")
        || rest.starts_with(": could not decode output")
    {
        Some(CredentialProcessFailed::Unreadable)
    } else {
        // ": {io::Error}": kept when it is an OS error's Display ("... (os error N)"), which
        // quotes neither the command nor anything it printed.
        let reason = rest
            .strip_prefix(": ")
            .filter(|r| {
                r.len() <= 120
                    && r.rsplit_once(" (os error ").is_some_and(|(_, code)| {
                        code.strip_suffix(')')
                            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    })
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" .,'()-".contains(&b))
            })
            .map(str::to_owned);
        Some(CredentialProcessFailed::NotRun { reason })
    }
}

/// `err`, or a [`CredentialProcessFailed`] in its place when it (or one of its sources) is a
/// `credential_process` failure.
pub(super) fn without_process_output(
    err: aws_credential_types::provider::error::CredentialsError,
) -> aws_credential_types::provider::error::CredentialsError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if let Some(failed) = credential_process_failure(&e.to_string()) {
            return aws_credential_types::provider::error::CredentialsError::provider_error(failed);
        }
        cause = e.source();
    }
    err
}
