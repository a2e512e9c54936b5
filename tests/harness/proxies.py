"""Loopback proxies for the provider-configuration tests, on the harness server (relay.py). Neither
keeps a header or a body (bodies carry values).

- `ForwardProxy`: a plain-HTTP forward proxy, as a corporate proxy is: requests in absolute form
  are relayed; a CONNECT (a tunnel to AWS itself) is recorded, to show which host the client
  chose, and refused (nothing beyond loopback is reachable here).
- `TlsFront`: an HTTPS front for moto signed by a private CA, as a TLS-inspecting proxy or a
  private endpoint presents: a client trusts it only when given the CA (custom_ca_bundle /
  AWS_CA_BUNDLE). It writes `ca.pem` into its directory.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .relay import Server, forward, read_body, send_answer


def _relay(h: BaseHTTPRequestHandler, netloc: str, path: str) -> None:
    """Sends the request `h` holds to http://`netloc``path` and its answer back."""
    u = urlsplit("//" + netloc)
    send_answer(h, *forward(h, u.hostname, u.port or 80, read_body(h), path or "/"))


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca_and_leaf(dir: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, leaf.pem, leaf.key) under `dir`: a CA, and a leaf for IP 127.0.0.1 it signed."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("offstate e2e CA"))
        .issuer_name(_name("offstate e2e CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    dir.mkdir(parents=True, exist_ok=True)
    ca_pem, leaf_pem, leaf_key_pem = dir / "ca.pem", dir / "leaf.pem", dir / "leaf.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaf_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    leaf_key_pem.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_pem, leaf_pem, leaf_key_pem


class TlsFront(Server):
    def __init__(self, upstream: str, dir: Path) -> None:
        self.ca_pem, leaf_pem, leaf_key = make_ca_and_leaf(dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(leaf_pem, leaf_key)
        super().__init__(tls=context, methods=("GET", "POST"))
        self.requests = 0
        self.upstream = urlsplit(upstream).netloc
        self.start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        _relay(h, self.upstream, h.path)


class ForwardProxy(Server):
    """A plain-HTTP forward proxy on loopback; `seen` holds (method, host) of each request."""

    def __init__(self) -> None:
        super().__init__(methods=("GET", "POST", "CONNECT"))
        self.seen: list[tuple[str, str]] = []
        self.start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.command == "CONNECT":
            # A tunnel to AWS itself: recorded (which host the client chose), then refused, as
            # nothing beyond loopback is reachable here.
            self.seen.append((h.command, h.path))
            h.send_error(502, "no tunnels here")
            return
        target = urlsplit(h.path)
        if not target.netloc:  # origin form: not sent to a proxy
            h.send_error(400, "not a proxy request")
            return
        self.seen.append((h.command, target.netloc))
        _relay(h, target.netloc, target._replace(scheme="", netloc="").geturl())
