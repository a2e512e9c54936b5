//! The HTTPS client of every AWS client the store makes: the SDK's default one, trusting the
//! certificates of a CA bundle (`ca_bundle` or `AWS_CA_BUNDLE`) besides the system's, the bundle
//! read and checked first.

use std::path::Path;

use super::config::ConnectError;

/// The largest CA bundle read (the system's bundles are a few hundred KiB). A bigger file is
/// refused rather than read whole: `custom_ca_bundle = "/dev/zero"` would otherwise eat memory
/// until the provider is killed.
pub(super) const MAX_CA_BUNDLE_BYTES: u64 = 16 << 20;

/// What is wrong with a PEM item, without the file's content: rustls's `Display` of a bad
/// `-----BEGIN` line prints that whole line (as a byte list), and the file may be the wrong one
/// (a credentials file, a private key).
fn pem_error_without_content(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { .. } => "a section has no matching -----END line",
        Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed",
        Error::Base64Decode(_) => "a section is not valid base64",
        Error::SectionTooLarge => "a section is too large",
        _ => "it is not valid PEM",
    }
}

/// The certificates of a PEM CA bundle, checked the way the TLS client will load them (the SDK
/// panics on a certificate it cannot parse, so nothing unchecked reaches it).
pub(super) fn read_ca_bundle(path: &Path, from_env: bool) -> Result<Vec<u8>, ConnectError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    use std::io::Read as _;
    let fail = |reason: String| ConnectError::CaBundle {
        path: path.display().to_string(),
        from_env,
        reason,
    };
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_BUNDLE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_BUNDLE_BYTES {
        return Err(fail(format!(
            "larger than {} MiB, which no CA bundle is",
            MAX_CA_BUNDLE_BYTES >> 20
        )));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let cert = cert.map_err(|e| {
            fail(format!(
                "PEM item {} is not readable: {}",
                i + 1,
                pem_error_without_content(&e)
            ))
        })?;
        roots
            .add(cert)
            .map_err(|e| fail(format!("certificate {} is not usable: {e}", i + 1)))?;
    }
    if roots.is_empty() {
        return Err(fail("no PEM certificate in it".to_owned()));
    }
    Ok(pem)
}

/// The HTTPS client for a CA bundle: `path`, else the file `AWS_CA_BUNDLE` names; `Ok(None)` when
/// there is neither (the SDK's default client, the system's CAs, is then the one to use). For
/// every AWS client offstate makes, so that all of them trust the same CAs.
pub fn ca_bundle_client(
    path: Option<&Path>,
) -> Result<Option<aws_smithy_runtime_api::client::http::SharedHttpClient>, ConnectError> {
    let pem = match path {
        Some(path) => read_ca_bundle(path, false)?,
        None => match std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) {
            Some(path) => read_ca_bundle(Path::new(&path), true)?,
            None => return Ok(None),
        },
    };
    Ok(Some(https_client_trusting(pem)))
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxies from the environment as its
/// behavior version reads them), trusting `pem`'s CAs besides the system's.
fn https_client_trusting(pem: Vec<u8>) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    https_client(Some(pem))
}

/// The SDK's default HTTPS client, as aws-smithy-runtime 1.16's `default_https_client` builds it
/// for our behavior version (rustls with aws-lc, `ProxyConfig::from_env`), trusting `pem`'s CAs
/// besides the system's when given.
pub(super) fn https_client(
    pem: Option<Vec<u8>>,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    use aws_smithy_http_client::{Builder, Connector};
    let context = pem.map(|pem| {
        TlsContext::builder()
            .with_trust_store(TrustStore::default().with_pem_certificate(pem))
            .build()
            .expect("a TLS context without extra server names always builds")
    });
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = Connector::builder().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        if let Some(context) = &context {
            conn = conn.tls_context(context.clone());
        }
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}
