//! The client side of go-plugin, as Terraform plays it: the environment a
//! plugin is launched with, the handshake line, and a tonic channel over the
//! announced unix socket (or loopback TCP) with mutual TLS, presenting a
//! client certificate shaped like go-plugin's.
//!
//! Shared by `tests/runtime.rs` and by `examples/plugin_bench.rs`
//! (`#[path = "../tests/support/plugin_client.rs"] mod plugin_client;`).
//! Not a test target itself: cargo only picks up `tests/*.rs`.

#![allow(dead_code)] // each includer uses its own subset

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpStream, UnixStream};
use tonic::transport::{Channel, Endpoint, Uri};

/// go-plugin's magic cookie value for Terraform providers
/// (`TF_PLUGIN_MAGIC_COOKIE`).
pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client identity like go-plugin's `generateCert`: self-signed ECDSA
/// P-521, CN and SAN `localhost`, IsCA, EKU client and server auth.
pub struct ClientIdentity {
    pub pem: String,
    pub cert: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

pub fn go_plugin_like_identity() -> ClientIdentity {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    dn.push(DnType::OrganizationName, "HashiCorp");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// The handshake line a plugin prints on stdout:
/// `core|app|network|address|protocol|server-cert`.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub core_version: String,
    pub app_version: String,
    pub network: String,
    pub address: String,
    pub protocol: String,
    /// The server certificate (AutoMTLS), decoded from raw std base64.
    pub server_cert: Option<CertificateDer<'static>>,
}

impl Handshake {
    /// Parses one line (with or without its trailing newline).
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim_end_matches(['\n', '\r']);
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() != 6 {
            return Err(format!("handshake line {line:?}: want 6 fields"));
        }
        let server_cert = if parts[5].is_empty() {
            None
        } else {
            let der = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .map_err(|e| format!("server certificate (raw std base64): {e}"))?;
            Some(CertificateDer::from(der))
        };
        Ok(Self {
            core_version: parts[0].to_string(),
            app_version: parts[1].to_string(),
            network: parts[2].to_string(),
            address: parts[3].to_string(),
            protocol: parts[4].to_string(),
            server_cert,
        })
    }

    /// Connects a channel, trusting the announced certificate as go-plugin
    /// does ([`ServerTrust::Pinned`]); `identity` is the client certificate
    /// to present (None: present none). Errors are returned as text.
    pub async fn channel(&self, identity: Option<&ClientIdentity>) -> Result<Channel, String> {
        self.channel_with(ServerTrust::Pinned, identity).await
    }

    /// [`Handshake::channel`] with the server certificate held to `trust`.
    pub async fn channel_with(
        &self,
        trust: ServerTrust,
        identity: Option<&ClientIdentity>,
    ) -> Result<Channel, String> {
        connect_channel(
            &self.network,
            &self.address,
            self.server_cert.as_ref(),
            trust,
            identity,
        )
        .await
    }
}

/// How the client trusts the server certificate the plugin announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTrust {
    /// Exactly that certificate, byte for byte (see `PinnedServerCert`):
    /// go-plugin's trust decision, which also accepts a Go plugin's
    /// self-signed CA certificate used as its own leaf.
    Pinned,
    /// webpki path validation with that certificate as the only root:
    /// stricter than go-plugin (name `localhost`, validity, key usage, and
    /// no CA used as an end entity). Our own runtime's certificate is held
    /// to this in `tests/runtime.rs`; a Go plugin's fails it.
    WebPki,
}

/// A tonic channel to a plugin at `network`/`address`; TLS when the plugin
/// announced a `server_cert`, trusting only that certificate (as `trust`
/// says).
pub async fn connect_channel(
    network: &str,
    address: &str,
    server_cert: Option<&CertificateDer<'static>>,
    trust: ServerTrust,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, String> {
    let tls = server_cert.map(|server_cert| {
        let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let versions = rustls::ClientConfig::builder_with_provider(crypto.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match trust {
            ServerTrust::Pinned => versions
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedServerCert {
                    cert: server_cert.clone(),
                    crypto,
                })),
            ServerTrust::WebPki => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(server_cert.clone()).unwrap();
                versions.with_root_certificates(roots)
            }
        };
        let mut config = match identity {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![id.cert.clone()],
                    PrivateKeyDer::Pkcs8(id.key.clone_key()),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(config))
    });
    let network = network.to_string();
    let address = address.to_string();
    let connector = tower::service_fn(move |_: Uri| {
        let (tls, network, address) = (tls.clone(), network.clone(), address.clone());
        async move { connect(&network, &address, tls).await }
    });
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(connector)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// Trusts exactly the certificate the plugin announced, as go-plugin's
/// client does (it makes that certificate the only root). A Go plugin's
/// certificate is a self-signed CA used as its own leaf, which webpki's
/// path validation refuses (`CaUsedAsEndEntity`); comparing the bytes is
/// the same trust decision without that rule. Signatures are still checked.
#[derive(Debug)]
struct PinnedServerCert {
    cert: CertificateDer<'static>,
    crypto: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.crypto
            .signature_verification_algorithms
            .supported_schemes()
    }
}

enum Io {
    Unix(UnixStream),
    Tcp(TcpStream),
}

async fn connect(
    network: &str,
    address: &str,
    tls: Option<tokio_rustls::TlsConnector>,
) -> std::io::Result<TokioIo<Box<dyn Duplex>>> {
    let raw = match network {
        "unix" => Io::Unix(UnixStream::connect(address).await?),
        "tcp" => Io::Tcp(TcpStream::connect(address).await?),
        other => return Err(std::io::Error::other(format!("unexpected network {other}"))),
    };
    let stream: Box<dyn Duplex> = match (raw, tls) {
        (Io::Unix(s), None) => Box::new(s),
        (Io::Tcp(s), None) => Box::new(s),
        (Io::Unix(s), Some(tls)) => Box::new(tls.connect(server_name(), s).await?),
        (Io::Tcp(s), Some(tls)) => Box::new(tls.connect(server_name(), s).await?),
    };
    Ok(TokioIo::new(stream))
}

fn server_name() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

trait Duplex: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Duplex for T {}
