"""A local Secrets Manager: `moto_server` on a free loopback port, started and stopped by the tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REGION = "us-east-1"
# moto accepts any credentials; these are the documented dummy ones.
DUMMY_CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_command() -> list[str] | None:
    exe = shutil.which("moto_server")
    if exe:
        return [exe]
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "moto.server"]


class MotoServer:
    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "MotoServer":
        cmd = moto_command()
        if cmd is None:
            raise RuntimeError("moto_server not found (pip install 'moto[server]')")
        # A port picked free can be taken before moto binds it; try a few.
        last = ""
        for _ in range(5):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                cmd + ["-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last = f"moto_server exited with {self.proc.returncode}; see {self.log_path}"
                    break
                if self.ready():
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                raise RuntimeError(f"moto_server not ready on {self.url} after {timeout}s; see {self.log_path}")
        raise RuntimeError(last)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        # Our own process group (start_new_session): its id is the server's pid.
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def client(url: str, service: str = "secretsmanager"):
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=DUMMY_CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDS["AWS_SESSION_TOKEN"],
    )
