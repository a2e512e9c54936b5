//! go-plugin AutoMTLS on the server side.
//!
//! Terraform generates a fresh self-signed client certificate for every
//! plugin launch and passes it in `PLUGIN_CLIENT_CERT` (PEM). The plugin
//! answers with its own fresh certificate in the handshake line; the client
//! then trusts exactly that certificate, and the server must trust exactly
//! the client's (go-plugin `server.go`: `ClientAuth:
//! RequireAndVerifyClientCert`, `ClientCAs` = the client cert).
//!
//! Why a pinned-certificate verifier instead of rustls'
//! `WebPkiClientVerifier`: go-plugin's client certificate is self-signed
//! with `IsCA: true` (go-plugin `mtls.go`), and webpki refuses a CA
//! certificate presented as an end-entity (`CaUsedAsEndEntity`), so the
//! chain verifier would reject every real Terraform. Pinning is what the
//! Go server's trust store amounts to anyway: one certificate, handed over
//! out of band for this process only. We require the client to present
//! that exact certificate (byte-for-byte DER) and to prove possession of
//! its key through the TLS handshake signature, checked with the aws-lc-rs
//! algorithms (the client key is ECDSA P-521/SHA-512, which only the
//! aws-lc-rs backend verifies). Client authentication is mandatory.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::{CertifiedKey, Signer, SigningKey, SingleCertAndKey};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureAlgorithm,
    SignatureScheme,
};

use super::RuntimeError;

/// The host name go-plugin's client verifies the server certificate for.
pub const SERVER_NAME: &str = "localhost";

/// Server-side TLS material for one plugin process.
pub struct ServerTls {
    config: Arc<ServerConfig>,
    cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Builds the server configuration from the client's PEM certificate:
    /// generates a server certificate for `localhost` and requires the
    /// client to authenticate with exactly `client_cert_pem`.
    pub fn from_client_cert_pem(client_cert_pem: &str) -> Result<Self, RuntimeError> {
        let client_cert = parse_single_cert(client_cert_pem)?;
        let (cert_der, key) = generate_server_cert()?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(PinnedClientCert {
            cert: client_cert,
            algorithms: provider.signature_verification_algorithms,
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(RuntimeError::Tls)?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(CertifiedKey::new(
                vec![cert_der.clone()],
                Arc::new(TlsServerKey(key)),
            ))));
        // gRPC runs over HTTP/2; grpc-go clients (Terraform) refuse a TLS
        // server that does not negotiate ALPN "h2".
        config.alpn_protocols = vec![b"h2".to_vec()];
        // No resumption: each plugin process has one client, which connects
        // once with a certificate made for this process alone. rustls would
        // otherwise keep every session's secrets in a cache and send tickets
        // for them that nobody will present.
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;

        Ok(Self {
            config: Arc::new(config),
            cert_der,
        })
    }

    /// The rustls configuration for accepting connections.
    pub fn config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }

    /// DER of the server certificate, for the handshake line.
    pub fn cert_der(&self) -> &[u8] {
        self.cert_der.as_ref()
    }
}

/// Parses `PLUGIN_CLIENT_CERT`: PEM holding one certificate.
fn parse_single_cert(pem: &str) -> Result<CertificateDer<'static>, RuntimeError> {
    let mut reader = pem.as_bytes();
    let mut certs = rustls_pemfile::certs(&mut reader);
    match certs.next() {
        Some(Ok(cert)) => Ok(cert),
        Some(Err(e)) => Err(RuntimeError::ClientCert(e.to_string())),
        None => Err(RuntimeError::ClientCert(
            "no CERTIFICATE block in PLUGIN_CLIENT_CERT".to_string(),
        )),
    }
}

/// A fresh ECDSA P-256 certificate for `localhost`, self-signed, server
/// authentication only, and not a CA: go-plugin's client puts it in its
/// root pool and Go accepts a leaf that is itself a root; webpki-based
/// clients (our tests) reject a CA certificate used as a leaf.
///
/// P-256 rather than go-plugin's P-521: far cheaper to make and sign with,
/// in every process Terraform starts. Not Ed25519, though it measured
/// slightly cheaper still (0.03 ms per process): a Go TLS client restricted
/// by BoringCrypto's `crypto/tls/fipsonly`, as FIPS builds are, accepts
/// ECDSA P-256 but not Ed25519 signatures.
///
/// The key is made once, inside aws-lc, and that one key object signs both
/// the certificate and every handshake: it is never serialized (no PKCS#8
/// copy of the private key sits in our heap) and never parsed back, which
/// rcgen's `KeyPair` followed by rustls' `with_single_cert` did three times
/// (rcgen's own re-parse, then rustls trying RSA before ECDSA), each parse
/// recomputing the public key to check it.
fn generate_server_cert() -> Result<(CertificateDer<'static>, Arc<ServerKey>), RuntimeError> {
    use rcgen::{
        CertificateParams, DistinguishedName as Dn, DnType, ExtendedKeyUsagePurpose, IsCa,
        KeyUsagePurpose,
    };

    let key = Arc::new(ServerKey::generate()?);
    let mut params =
        CertificateParams::new(vec![SERVER_NAME.to_string()]).map_err(RuntimeError::CertGen)?;
    let mut dn = Dn::new();
    dn.push(DnType::CommonName, SERVER_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&*key).map_err(RuntimeError::CertGen)?;
    Ok((cert.der().clone(), key))
}

/// The server's ECDSA P-256 key for this process (see `generate_server_cert`).
struct ServerKey(EcdsaKeyPair);

impl ServerKey {
    fn generate() -> Result<Self, RuntimeError> {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map(Self)
            .map_err(RuntimeError::KeyGen)
    }

    /// An ASN.1 DER ECDSA signature over SHA-256 of `message`, as both X.509
    /// and TLS want it.
    fn sign_der(&self, message: &[u8]) -> Option<Vec<u8>> {
        let sig = self.0.sign(&SystemRandom::new(), message).ok()?;
        Some(sig.as_ref().to_vec())
    }
}

// Never prints key material, not even the public half.
impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(ECDSA P-256)")
    }
}

impl rcgen::PublicKeyData for ServerKey {
    /// The uncompressed point, as the certificate's subjectPublicKey.
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for ServerKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.sign_der(msg).ok_or(rcgen::Error::RingUnspecified)
    }
}

/// The same key for rustls: it offers the one scheme a P-256 key has.
#[derive(Debug)]
struct TlsServerKey(Arc<ServerKey>);

impl SigningKey for TlsServerKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(TlsServerKey(Arc::clone(&self.0))) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for TlsServerKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.0
            .sign_der(message)
            .ok_or_else(|| rustls::Error::General("ECDSA P-256 signing failed".to_string()))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// Accepts exactly one client certificate; see the module docs.
#[derive(Debug)]
struct PinnedClientCert {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    // An empty hint list tells the client to send whatever certificate it
    // has; Go's client then sends its only one.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The aws-lc-rs crypto provider, for callers (tests) that build matching
/// client configurations.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pem_without_certificate() {
        let err = ServerTls::from_client_cert_pem("not a pem").unwrap_err();
        assert!(matches!(err, RuntimeError::ClientCert(_)), "{err}");
    }

    #[test]
    fn p521_scheme_is_verifiable() {
        // go-plugin's client key is P-521; the handshake signature must be
        // checkable with the provider we configure.
        let schemes = crypto_provider()
            .signature_verification_algorithms
            .supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    /// Moves everything `from` has to send into `to`.
    fn pump<A, B>(from: &mut rustls::ConnectionCommon<A>, to: &mut rustls::ConnectionCommon<B>) {
        let mut buf = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            to.read_tls(&mut rd).unwrap();
            to.process_new_packets().unwrap();
        }
    }

    /// Runs one TLS handshake in memory between `client` and a fresh
    /// connection of `server`, then lets the server flush what it sends
    /// after the handshake (where session tickets would go).
    fn handshake(
        client: &Arc<rustls::ClientConfig>,
        server: &Arc<ServerConfig>,
    ) -> rustls::HandshakeKind {
        let name = rustls::pki_types::ServerName::try_from(SERVER_NAME).unwrap();
        let mut c = rustls::ClientConnection::new(Arc::clone(client), name).unwrap();
        let mut s = rustls::ServerConnection::new(Arc::clone(server)).unwrap();
        for _ in 0..10 {
            pump(&mut c, &mut s);
            pump(&mut s, &mut c);
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        c.handshake_kind().unwrap()
    }

    /// A fresh server for a fresh P-256 client identity, and a client
    /// config speaking `versions` that trusts exactly the server's
    /// certificate and authenticates with that identity.
    fn server_and_client(
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (Arc<ServerConfig>, Arc<rustls::ClientConfig>) {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let id = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let client_cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&id)
            .unwrap();
        let tls = ServerTls::from_client_cert_pem(&client_cert.pem()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(tls.cert_der.clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![client_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.serialize_der())),
            )
            .unwrap();
        (tls.config(), Arc::new(client))
    }

    #[test]
    fn no_session_is_kept_for_resumption() {
        // A second connection of the same client (rustls keeps tickets in
        // memory by default) must still be a full handshake: the server
        // keeps no session secrets and sends no tickets.
        let (server, client) = server_and_client(&[&rustls::version::TLS13]);
        assert_eq!(handshake(&client, &server), rustls::HandshakeKind::Full);
        assert_eq!(handshake(&client, &server), rustls::HandshakeKind::Full);
    }

    #[test]
    fn the_certificate_key_signs_tls_1_3_and_1_2_handshakes() {
        // The client checks the server's handshake signature against the
        // public key in the certificate: a key that signed the certificate
        // but differs from the one signing handshakes fails here.
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let (server, client) = server_and_client(&[version]);
            assert_eq!(handshake(&client, &server), rustls::HandshakeKind::Full);
        }
    }

    #[test]
    fn server_cert_is_a_non_ca_localhost_leaf() {
        let client = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let tls = ServerTls::from_client_cert_pem(&client.cert.pem()).unwrap();
        assert!(!tls.cert_der().is_empty());
        assert_eq!(tls.config().alpn_protocols, vec![b"h2".to_vec()]);
    }
}
