"""Security checks (issue 6) on the real provider binary and a real apply.

1. The plugin socket: the provider started as Terraform starts it (magic cookie, protocol 6,
   PLUGIN_CLIENT_CERT = "Terraform's" certificate) listens on a unix socket that only its user
   can connect to (mode 0600 from its creation, in $TMPDIR as go-plugin puts it; the socket is
   removed when the provider stops), and serves only the client holding that certificate:
   a TLS client without a certificate or with another one is refused, the right one gets the
   HTTP/2 server preface. (The framework's runtime tests check the same on its example binary:
   provider/framework/tests/runtime.rs `client_with_another_certificate_is_refused`,
   `client_without_certificate_is_refused`, `socket_is_private_to_the_user`; this is the shipped
   binary.)
2. Temporary files: after an apply and a failing apply with canary values, run with the default
   temporary directory, no file that another user could read (mode o+r with every parent
   directory o+x) under /tmp, /var/tmp, /dev/shm or $TMPDIR that was written since the test
   started holds a canary; the test workspace itself is 0700.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest

import reliability_support as rs
from harness import canary as canaries

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

COOKIE = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def make_cert(d: Path, name: str) -> tuple[Path, Path]:
    key, crt = d / f"{name}.key", d / f"{name}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(crt), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=digitalSignature,keyEncipherment,keyCertSign",
         "-addext", "extendedKeyUsage=clientAuth,serverAuth"],
        check=True, capture_output=True, timeout=60,
    )
    key.chmod(0o600)
    return key, crt


def try_h2(sock_path: str, cert: tuple[Path, Path] | None) -> str:
    """'served' when the server sends its HTTP/2 SETTINGS after our preface, else why not."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's certificate is not what is tested here
    ctx.set_alpn_protocols(["h2"])
    if cert:
        ctx.load_cert_chain(str(cert[1]), str(cert[0]))
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(5)
    raw.connect(sock_path)
    try:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            # HTTP/2 preface + an empty SETTINGS frame
            s.sendall(H2_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            data = s.recv(9)
            if len(data) >= 4 and data[3] == 0x04:
                return "served"
            return f"no SETTINGS ({data!r})"
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return f"refused ({type(e).__name__})"


@pytest.fixture
def provider_proc(provider_bin, tmp_path):
    require_openssl = subprocess.run(["openssl", "version"], capture_output=True).returncode == 0
    assert require_openssl, "openssl is needed to make test certificates"
    tmp_path.chmod(0o700)
    terraform_cert = make_cert(tmp_path, "terraform")
    other_cert = make_cert(tmp_path, "other")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        COOKIE[0]: COOKIE[1],
        "PLUGIN_PROTOCOL_VERSIONS": "6",
        "PLUGIN_CLIENT_CERT": terraform_cert[1].read_text(),
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    p = subprocess.Popen([str(provider_bin)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    line = p.stdout.readline().decode().strip()
    yield p, line, terraform_cert, other_cert
    # SIGTERM, as a user's Ctrl-C or a supervisor would: the provider stops and removes its
    # socket (a SIGKILL would leave it in TMPDIR).
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        raise
    sock = line.split("|")[3]
    assert not os.path.lexists(sock), f"SIGTERM left the socket {sock} behind"


def test_plugin_socket_is_private_and_serves_only_terraforms_certificate(provider_proc):
    p, line, terraform_cert, other_cert = provider_proc
    parts = line.split("|")
    assert len(parts) == 6 and parts[:2] == ["1", "6"] and parts[2] == "unix" and parts[4] == "grpc", line
    sock = parts[3]
    assert parts[5], "AutoMTLS: the handshake carries the server certificate"
    base64.b64decode(parts[5] + "=" * (-len(parts[5]) % 4))
    assert os.path.dirname(sock) == os.environ.get("TMPDIR", "/tmp").rstrip("/"), sock
    s = os.lstat(sock)
    assert stat.S_ISSOCK(s.st_mode) and stat.S_IMODE(s.st_mode) == 0o600, oct(s.st_mode)
    assert s.st_uid == os.getuid()
    results = {
        "no client certificate": try_h2(sock, None),
        "another certificate": try_h2(sock, other_cert),
        "terraform's certificate": try_h2(sock, terraform_cert),
    }
    assert results["terraform's certificate"] == "served", results
    assert results["no client certificate"] != "served", results
    assert results["another certificate"] != "served", results
    rs.report("security: plugin socket", {"socket_mode": oct(stat.S_IMODE(s.st_mode)), **results})
    assert p.poll() is None, "the provider died from a refused client"


def _effectively_world_readable(p: Path) -> bool:
    try:
        if not os.stat(p).st_mode & stat.S_IROTH:
            return False
        for parent in p.parents:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
    except OSError:
        return False
    return True


def _recent_files(roots: list[Path], since: float, limit: int = 200_000):
    """Regular files under `roots` changed since `since`, walked with a stack of its own: a
    temporary directory may hold trees deeper than Python's recursion limit (os.walk recurses
    in 3.11 and raised RecursionError on a 2,000-deep tree another tool's test left in /tmp)."""
    seen = 0
    for root in roots:
        if not root.is_dir():
            continue
        stack = [str(root)]
        while stack:
            dirpath = stack.pop()
            # a directory other users cannot enter hides everything below it
            try:
                if not os.stat(dirpath).st_mode & stat.S_IXOTH:
                    continue
                entries = list(os.scandir(dirpath))
            except OSError:
                continue
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        continue
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                seen += 1
                if seen > limit:
                    return
                if stat.S_ISREG(st.st_mode) and max(st.st_mtime, st.st_ctime) >= since:
                    yield Path(e.path), st.st_size


def test_no_world_readable_temporary_file_holds_a_secret(ws, sm, moto):
    since = time.time() - 1
    value = ws.canary("tmpfiles")
    ws.set_var("secret", value)
    # the default temporary directory, as a user's shell would have it
    ws.env.pop("TMPDIR", None)
    ws.write(rs.many_secrets_config(moto.url, ws.prefix, ["a", "b"]))
    ws.apply()
    # an error path too: a value over the limit fails at plan, after the value went through
    # Terraform and the provider
    big = canaries.wrap(value.reveal() * 2000)
    ws.watch(big)
    ws.set_var("secret", big)
    ws.write(rs.many_secrets_config(moto.url, ws.prefix, ["a", "b"], trigger="2"))
    ws.apply(expect=1)
    ws.set_var("secret", value)

    # the workspace (state, plans, logs: all of it holds canaries somewhere) is private
    assert stat.S_IMODE(os.stat(ws.root).st_mode) == 0o700, oct(os.stat(ws.root).st_mode)

    roots = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    if os.environ.get("TMPDIR"):
        roots.append(Path(os.environ["TMPDIR"]))
    checked, readable, found = 0, 0, []
    for fp, size in _recent_files(roots, since):
        if not _effectively_world_readable(fp) or size > 64 << 20:
            continue
        readable += 1
        try:
            data = fp.read_bytes()
        except OSError:
            continue
        checked += 1
        found += canaries.search_bytes(str(fp), data, [value])
    assert not found, f"a canary is in a world-readable temporary file: {[str(f) for f in found[:5]]}"
    rs.report("security: temporary files", {"world_readable_recent_files_searched": checked, "canaries_found": 0})
    ws.sweep()
