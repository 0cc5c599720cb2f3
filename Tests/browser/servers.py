"""The servers the browser tests run against, each started on free ports and stopped again.

- ``Demo``: ``gatehouse demo`` (development IdP + gateway + whoami app in one process).
- ``DevIdP``: ``gatehouse dev-idp`` alone, for a gateway with settings the demo does not take.
- ``Gateway``: ``gatehouse serve`` configured by ``GATEHOUSE_*`` variables.
- ``EchoApp``: a small upstream (in this process) that shows the identity headers it got.

Everything listens on 127.0.0.1. A server that does not come up fails the test with its log.
"""
from __future__ import annotations

import ctypes
import hashlib
import html
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".test-artifacts"
STARTUP_SECONDS = 60


def gatehouse_binary() -> Path:
    """``GATEHOUSE_BINARY`` or ``.build/debug/gatehouse``; a missing one fails the test."""
    path = Path(os.environ.get("GATEHOUSE_BINARY") or ROOT / ".build/debug/gatehouse")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"the gatehouse executable {path} is missing: run `swift build` first (or set GATEHOUSE_BINARY)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 2) -> int | None:
    """The status `url` answers with (redirects not followed), or ``None`` when nothing answers."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _die_with_parent() -> None:
    """In the child: SIGTERM when pytest dies, even by SIGKILL (Linux PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Process:
    """A child process whose output goes to a log file under ``.test-artifacts/browser/``."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None):
        logs = ARTIFACTS / "browser"
        logs.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, cwd=ROOT, preexec_fn=_die_with_parent)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready, what: str) -> None:
        """Polls `ready()` until it is true; fails with the log if the process exits or time runs out."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"{self.name} exited with status {self.process.returncode} before {what}; log:\n{self.log()}")
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name}: {what} not within {STARTUP_SECONDS} s; log:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class Demo:
    """``gatehouse demo`` on free ports, its state in `directory`. With `providers_example`,
    ``examples/providers.yaml`` as written but for its ports: two development IdPs, corp at
    `idp_base` (alice, bob) and partner at `partner_base` (carol, erin)."""

    def __init__(self, directory: Path, access_token_lifetime: str, providers_example: bool = False):
        self.gateway_port, self.idp_port, self.app_port = free_port(), free_port(), free_port()
        self.partner_port = free_port()
        self.base = f"http://127.0.0.1:{self.gateway_port}"
        self.idp_base = f"http://127.0.0.1:{self.idp_port}"
        self.partner_base = f"http://127.0.0.1:{self.partner_port}"
        extra: list[str] = []
        if providers_example:
            example = (ROOT / "examples/providers.yaml").read_text()
            for old, new in (("4181", self.idp_port), ("4182", self.app_port), ("4183", self.partner_port)):
                example = example.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
            config = directory / "providers.yaml"
            config.write_text(example)
            extra = ["--config", str(config)]
        self.process = Process("demo-providers" if providers_example else "demo", [
            str(gatehouse_binary()), "demo", "--directory", str(directory),
            "--gateway-port", str(self.gateway_port), "--idp-port", str(self.idp_port),
            "--app-port", str(self.app_port), "--access-token-lifetime", access_token_lifetime, *extra,
        ])
        self.process.wait_until(lambda: "Gatehouse demo is running" in self.process.log(), "the demo said it is running")

    def stop(self) -> None:
        self.process.stop()


class DevIdP:
    """``gatehouse dev-idp`` (users alice/alice, bob/bob) with one client for `gateway_base`."""

    client_id = "gatehouse-browser"
    client_secret = "browser-test-secret"

    def __init__(self, gateway_base: str, name: str = "dev-idp", client_public_key: Path | None = None):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        credentials = (["--client-public-key", str(client_public_key)] if client_public_key
                       else ["--client-secret", self.client_secret])
        self.process = Process(name, [
            str(gatehouse_binary()), "dev-idp", "--port", str(self.port), "--client-id", self.client_id,
            *credentials,
            "--redirect-uri", gateway_base + "/oauth2/callback",
            "--post-logout-redirect-uri", gateway_base + "/",
        ])
        self.process.wait_until(
            lambda: http_status(self.issuer + "/.well-known/openid-configuration") == 200, "discovery answered")

    def stop(self) -> None:
        self.process.stop()


class Gateway:
    """``gatehouse serve`` on `port` with the given ``GATEHOUSE_*`` settings, a fresh SQLite
    store and a fresh encryption key in `directory`."""

    def __init__(self, name: str, port: int, directory: Path, settings: dict[str, str], config: str | None = None):
        binary = gatehouse_binary()
        key = subprocess.run([str(binary), "keys", "generate"], check=True, capture_output=True, text=True).stdout.strip()
        self.base = f"http://127.0.0.1:{port}"
        directory.mkdir(parents=True, exist_ok=True)
        env = {
            "GATEHOUSE_LISTEN": f"127.0.0.1:{port}",
            "GATEHOUSE_PUBLIC_URL": self.base,
            "GATEHOUSE_STORE": f"sqlite:{directory / 'gatehouse.sqlite'}",
            "GATEHOUSE_ENCRYPTION_KEYS": key,
            "GATEHOUSE_COOKIE_SECURE": "false",
            **settings,
        }
        arguments = [str(binary), "serve"]
        if config is not None:
            (directory / "gatehouse.yaml").write_text(config)
            arguments += ["--config", str(directory / "gatehouse.yaml")]
        self.process = Process(name, arguments, env=env)
        self.process.wait_until(lambda: http_status(self.base + "/readyz") == 200, "/readyz answered 200")

    def stop(self) -> None:
        self.process.stop()


class EchoApp:
    """The upstream behind ``gatehouse serve``: an HTML page with the identity headers, the
    path and query it was asked for, and a fingerprint of the access token (so a refreshed
    token is visible without showing the token). ``Cache-Control: no-store``, as a page with
    private data should send; a sign-out button that POSTs to the gateway."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _EchoHandler(BaseHTTPRequestHandler):
    IDENTITY = [
        "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups",
        "X-Forwarded-Provider",
    ]

    def do_GET(self):
        esc = html.escape
        user = self.headers.get("X-Forwarded-Preferred-Username") or self.headers.get("X-Forwarded-User")
        greeting = f"Hello, <strong>{esc(user)}</strong>." if user else "No identity arrived with this request."
        rows = "".join(
            f"<tr><th>{name}</th><td id='{name.lower()}'>{esc(self.headers.get(name) or '')}</td></tr>"
            for name in self.IDENTITY)
        authorization = self.headers.get("Authorization") or ""
        token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
        fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "none"
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Echo app</title></head><body>"
            f"<h1>Echo app</h1><p id='greeting'>{greeting}</p>"
            f"<p>Asked for <code id='request-target'>{esc(self.path)}</code></p>"
            f"<table>{rows}</table>"
            f"<p>Access token fingerprint: <code id='token-fingerprint'>{fingerprint}</code></p>"
            "<form method='post' action='/oauth2/sign_out'><button type='submit'>Sign out</button></form>"
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass
