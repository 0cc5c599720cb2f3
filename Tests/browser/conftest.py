"""Fixtures of the real-browser tests: headless Chromium through Selenium, and the stacks
(gateway + IdP + application) the flows run against, each started on free ports and stopped
at the end.

    .venv/bin/python -m pytest Tests/browser -q

Needs: /usr/bin/chromium and /usr/bin/chromedriver (Debian's chromium, chromium-driver; or
CHROMIUM_BINARY / CHROMEDRIVER), the gatehouse executable (.build/debug/gatehouse or
GATEHOUSE_BINARY), and for the django-oauth-toolkit stacks GATEHOUSE_TEST_IDP_ISSUER (set by
scripts/test.sh). Anything missing fails the tests; they never skip.

Screenshots of every step: .test-artifacts/screenshots/<test>/; server logs:
.test-artifacts/browser/.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from pages import DevIdPPages, DOTPages, Shots, Stack
from servers import ARTIFACTS, ROOT, Demo, DevIdP, EchoApp, Gateway, free_port, http_status

SCREENSHOTS = ARTIFACTS / "screenshots"

# The gateway refreshes an access token once less than REFRESH_LEEWAY of it remains
# (AuthSettings.refreshLeeway, not configurable from the command line), but never before half
# its lifetime (TokenSet.isRefreshDue). Access tokens live twice REFRESH_WINDOW, shorter than
# the leeway: a token is kept for its first REFRESH_WINDOW seconds and refreshed after.
REFRESH_LEEWAY = 60
REFRESH_WINDOW = 12
ACCESS_TOKEN_SECONDS = 2 * REFRESH_WINDOW
assert ACCESS_TOKEN_SECONDS / 2 < REFRESH_LEEWAY

DEV_USERS = {"alice": ("alice", "alice"), "bob": ("bob", "bob")}
DOT_USERS = {"alice": ("alice", "alice-password-1"), "bob": ("bob", "bob-password-1")}
DOT_SECRET = "gatehouse-test-secret"


def pytest_sessionstart(session):
    # SIGTERM (a timeout, a CI runner) stops the run like Ctrl-C, so the fixtures still stop
    # every server and browser they started.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


# --- the browser ---

def _executable(variable: str, default: str) -> str:
    path = os.environ.get(variable) or default
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{path} is missing: install Debian's chromium and chromium-driver (or set {variable})")
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def shots(request) -> Shots:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.nodeid.split("::", 1)[-1]).strip("-")
    module = Path(request.node.path).stem
    return Shots(SCREENSHOTS / f"{module}.{name}")


@pytest.fixture
def browser(request, shots):
    """A fresh headless Chromium (no cookies, no history) per test; a screenshot on failure."""
    options = webdriver.ChromeOptions()
    options.binary_location = _executable("CHROMIUM_BINARY", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,900",
                     "--disable-features=PasswordLeakDetection", "--no-first-run", "--no-default-browser-check"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"credentials_enable_service": False, "profile.password_manager_enabled": False})
    log = shots.directory / "chromedriver.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=_executable("CHROMEDRIVER", "/usr/bin/chromedriver"), log_output=str(log))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    report = getattr(request.node, "report_call", None)
    try:
        if report is not None and report.failed:
            shots.take(driver, "FAILED")
    finally:
        driver.quit()


# --- the stacks ---

def _dot_issuer() -> str:
    issuer = os.environ.get("GATEHOUSE_TEST_IDP_ISSUER")
    if not issuer:
        pytest.fail("GATEHOUSE_TEST_IDP_ISSUER is not set: run the tests with scripts/test.sh, which starts the IdP")
    if http_status(issuer + "/.well-known/openid-configuration") != 200:
        pytest.fail(f"django-oauth-toolkit at {issuer} does not answer: start it with scripts/start-idp.sh")
    return issuer.rstrip("/")


@pytest.fixture(scope="session")
def echo_app():
    app = EchoApp()
    yield app
    app.stop()


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory):
    """`gatehouse demo`: the dev IdP, the gateway and the whoami app (which shows the access
    token's claims, `jti` among them)."""
    demo = Demo(tmp_path_factory.mktemp("demo"), access_token_lifetime=f"{ACCESS_TOKEN_SECONDS}s")
    yield Stack("demo", demo.base, DevIdPPages(demo.idp_base), DEV_USERS, [demo])
    demo.stop()


@pytest.fixture(scope="session")
def providers_demo(tmp_path_factory):
    """`gatehouse demo --config examples/providers.yaml`: two development IdPs (corp with alice
    and bob, partner with carol and erin), a chooser, and a corp-only admin route with step-up."""
    demo = Demo(tmp_path_factory.mktemp("demo-providers"), access_token_lifetime="300s", providers_example=True)
    yield demo
    demo.stop()


@pytest.fixture(scope="session")
def dot_providers_gateway(tmp_path_factory, echo_app):
    """`gatehouse serve --config` with two django-oauth-toolkit providers: corp
    (GATEHOUSE_TEST_IDP_ISSUER: alice, bob) and partner (GATEHOUSE_TEST_IDP_PARTNER_ISSUER:
    carol, erin); `/corp` admits corp's sessions only."""
    corp = _dot_issuer()
    partner = os.environ.get("GATEHOUSE_TEST_IDP_PARTNER_ISSUER")
    if not partner or http_status(partner + "/.well-known/openid-configuration") != 200:
        pytest.fail("GATEHOUSE_TEST_IDP_PARTNER_ISSUER is not set or does not answer: run scripts/test.sh")
    provider = "    client_id: gatehouse-test\n    client_secret: " + DOT_SECRET + "\n    scopes: openid email profile groups\n"
    config = (
        f"providers:\n  - id: corp\n    name: Corporate SSO\n    issuer: {corp}\n{provider}"
        f"  - id: partner\n    name: Partner login\n    issuer: {partner.rstrip('/')}\n{provider}"
        f"routes:\n  - name: corp\n    match: {{path_prefix: /corp}}\n    upstream: {echo_app.base}\n    providers: [corp]\n"
        f"  - name: app\n    upstream: {echo_app.base}\n"
    )
    gateway = Gateway("serve-dot-providers", free_port(), tmp_path_factory.mktemp("serve-dot-providers"), {}, config)
    yield gateway, corp, partner.rstrip("/")
    gateway.stop()


def _dot_gateway(name: str, tmp_path_factory, echo_app, issuer: str, **settings: str) -> Gateway:
    return Gateway(name, free_port(), tmp_path_factory.mktemp(name), {
        "GATEHOUSE_ISSUER": issuer,
        "GATEHOUSE_CLIENT_ID": "gatehouse-test",
        "GATEHOUSE_CLIENT_SECRET": DOT_SECRET,
        "GATEHOUSE_SCOPES": "openid email profile groups",
        "GATEHOUSE_UPSTREAM": echo_app.base,
        "GATEHOUSE_PASS_ACCESS_TOKEN": "true",
        **{f"GATEHOUSE_{key.upper()}": value for key, value in settings.items()},
    })


@pytest.fixture(scope="session")
def dot_stack(tmp_path_factory, echo_app):
    """`gatehouse serve` with django-oauth-toolkit (GATEHOUSE_TEST_IDP_ISSUER) and the echo app."""
    issuer = _dot_issuer()
    gateway = _dot_gateway("serve-dot", tmp_path_factory, echo_app, issuer)
    yield Stack("dot", gateway.base, DOTPages(issuer), DOT_USERS, [gateway])
    gateway.stop()


@pytest.fixture(scope="session")
def dot_short_tokens_stack(tmp_path_factory, echo_app):
    """`gatehouse serve` with a django-oauth-toolkit instance of its own (scripts/start-idp.sh)
    whose access tokens live ACCESS_TOKEN_SECONDS: the shared ones issue hour-long tokens."""
    _dot_issuer()  # the shared instances are up, so .venv/ and the seed work
    port = free_port()
    started = subprocess.run(
        ["bash", str(ROOT / "scripts/start-idp.sh"), str(port), "true", str(ACCESS_TOKEN_SECONDS)],
        cwd=ROOT, capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"scripts/start-idp.sh {port} failed:\n{started.stdout}\n{started.stderr}")
    pid = int((ARTIFACTS / f"idp-{port}.pid").read_text())
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        gateway = _dot_gateway("serve-dot-short-tokens", tmp_path_factory, echo_app, issuer)
    except BaseException:
        _stop_pid(pid)
        raise
    yield Stack("dot", gateway.base, DOTPages(issuer), DOT_USERS, [gateway])
    gateway.stop()
    _stop_pid(pid)
    for suffix in (".pid", ".sqlite3", ".sqlite3-wal", ".sqlite3-shm", "-key.pem"):
        (ARTIFACTS / f"idp-{port}{suffix}").unlink(missing_ok=True)


def _stop_pid(pid: int) -> None:
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _dev_idp_stack(gateway_name: str, tmp_path_factory, echo_app, settings: dict[str, str], **idp_options):
    """`gatehouse dev-idp` (with `idp_options`) + `gatehouse serve` in front of the echo app, with
    `settings` added to the gateway's; yields the stack, then stops both."""
    port = free_port()
    idp = DevIdP(f"http://127.0.0.1:{port}", **idp_options)
    try:
        gateway = Gateway(gateway_name, port, tmp_path_factory.mktemp(gateway_name), {
            "GATEHOUSE_ISSUER": idp.issuer,
            "GATEHOUSE_CLIENT_ID": DevIdP.client_id,
            "GATEHOUSE_UPSTREAM": echo_app.base,
            **settings,
        })
    except BaseException:
        idp.stop()
        raise
    yield Stack("dev-idp", gateway.base, DevIdPPages(idp.issuer), DEV_USERS, [gateway, idp])
    gateway.stop()
    idp.stop()


@pytest.fixture(scope="session")
def dev_idp_admins_only_stack(tmp_path_factory, echo_app):
    """`gatehouse dev-idp` + `gatehouse serve` with GATEHOUSE_ALLOWED_GROUPS=admins (the demo
    takes no access rules): alice is in admins, bob is not."""
    yield from _dev_idp_stack("serve-dev-idp-admins", tmp_path_factory, echo_app, {
        "GATEHOUSE_CLIENT_SECRET": DevIdP.client_secret,
        "GATEHOUSE_ALLOWED_GROUPS": "admins",
    })


@pytest.fixture(scope="session")
def dev_idp_private_key_jwt_stack(tmp_path_factory, echo_app):
    """`gatehouse dev-idp` with a client registered by its public key + `gatehouse serve`
    holding the private key (GATEHOUSE_CLIENT_KEY_FILE, no secret): private_key_jwt."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    directory = tmp_path_factory.mktemp("client-key")
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = directory / "client.pem"
    private_pem.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public_pem = directory / "client.pub.pem"
    public_pem.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    yield from _dev_idp_stack(
        "serve-private-key-jwt", tmp_path_factory, echo_app, {"GATEHOUSE_CLIENT_KEY_FILE": str(private_pem)},
        name="dev-idp-private-key-jwt", client_public_key=public_pem)


@pytest.fixture(scope="session")
def dot_staff_only_stack(tmp_path_factory, echo_app):
    """`gatehouse serve` with django-oauth-toolkit and GATEHOUSE_ALLOWED_GROUPS=staff."""
    issuer = _dot_issuer()
    gateway = _dot_gateway("serve-dot-staff", tmp_path_factory, echo_app, issuer, allowed_groups="staff")
    yield Stack("dot", gateway.base, DOTPages(issuer), DOT_USERS, [gateway])
    gateway.stop()


@pytest.fixture(scope="session")
def dot_consent_stack(tmp_path_factory, echo_app):
    """`gatehouse serve` with DOT's `gatehouse-consent` client, which gets a consent page."""
    issuer = _dot_issuer()
    gateway = _dot_gateway("serve-dot-consent", tmp_path_factory, echo_app, issuer, client_id="gatehouse-consent")
    yield Stack("dot", gateway.base, DOTPages(issuer), DOT_USERS, [gateway])
    gateway.stop()


@pytest.fixture(params=["demo", "dot"])
def stack(request) -> Stack:
    """Each flow against the demo (development IdP) and against django-oauth-toolkit."""
    return request.getfixturevalue(f"{request.param}_stack")
