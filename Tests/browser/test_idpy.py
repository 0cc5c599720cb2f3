"""Signing in through `gatehouse serve` against idpyoidc (scripts/idpy/), an independent
OpenID Provider, in a real browser: pushed authorization requests (GATEHOUSE_PAR=always) and
DPoP-bound tokens (GATEHOUSE_DPOP=true) relayed to the application (GATEHOUSE_PASS_ACCESS_TOKEN).

    scripts/idpy/start.sh 9014
    GATEHOUSE_TEST_IDPY_ISSUER=http://127.0.0.1:9014 .venv/bin/python -m pytest Tests/browser/test_idpy.py -q

idpyoidc signs alice in without a form (`NoAuthn`), so a login shows only as the trip through
its authorization endpoint: the browser here keeps Chromium's performance log (every request
it sent, redirects included) to see that trip and the URL it carried. Without
GATEHOUSE_TEST_IDPY_ISSUER, or with a provider that does not answer, the tests fail.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from conftest import _executable
from pages import navigation_status, wait_for
from servers import Gateway, free_port, http_status

CLIENT_ID = "gatehouse-idpy"
CLIENT_SECRET = "idpy-secret"
SESSION_COOKIE = "gatehouse"  # GATEHOUSE_COOKIE_SECURE=false: no __Host- prefix
LOOP_COOKIE = "gatehouse-loop"  # the sign-in loop counter: `<bounces>.<window start>.<completed at>`
PROTECTED = "/statements/2026?month=10&q=caf%C3%A9"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 for an EC key."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


# --- the application behind the gateway ---

class Upstream:
    """An application that remembers every request's headers (for the test, not the page) and
    shows the identity headers, the `Authorization` scheme and whether a `DPoP` proof came —
    never the token itself, so that a token in the page could only have come from elsewhere."""

    def __init__(self):
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                headers = {name.lower(): value for name, value in self.headers.items()}
                with upstream.lock:
                    upstream.requests.append((self.path, headers))
                esc = html.escape
                user = headers.get("x-forwarded-preferred-username") or headers.get("x-forwarded-user")
                greeting = f"Hello, <strong>{esc(user)}</strong>." if user else "No identity arrived with this request."
                scheme = (headers.get("authorization") or "none").split(" ", 1)[0]
                body = (
                    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Upstream</title></head><body>"
                    f"<h1>Upstream</h1><p id='greeting'>{greeting}</p>"
                    f"<p>Asked for <code id='request-target'>{esc(self.path)}</code></p>"
                    f"<p>Email <code id='email'>{esc(headers.get('x-forwarded-email') or '')}</code></p>"
                    f"<p>Authorization scheme <code id='scheme'>{esc(scheme)}</code>, "
                    f"DPoP proof <code id='proof'>{'yes' if headers.get('dpop') else 'no'}</code></p>"
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last(self, path: str) -> dict[str, str]:
        with self.lock:
            found = [headers for target, headers in self.requests if target == path]
        assert found, f"the upstream never got {path}; it got {[target for target, _ in self.requests]}"
        return found[-1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- fixtures ---

@pytest.fixture(scope="module")
def idpy_issuer() -> str:
    issuer = os.environ.get("GATEHOUSE_TEST_IDPY_ISSUER")
    if not issuer:
        pytest.fail("GATEHOUSE_TEST_IDPY_ISSUER is not set: start idpyoidc with `scripts/idpy/start.sh 9014` and set "
                    "GATEHOUSE_TEST_IDPY_ISSUER=http://127.0.0.1:9014 (scripts/test.sh does both)")
    issuer = issuer.rstrip("/")
    if http_status(issuer + "/.well-known/openid-configuration") != 200:
        pytest.fail(f"idpyoidc at {issuer} does not answer: start it with scripts/idpy/start.sh")
    return issuer


@pytest.fixture(scope="module")
def idpy_metadata(idpy_issuer) -> dict:
    with urllib.request.urlopen(idpy_issuer + "/.well-known/openid-configuration", timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def upstream():
    app = Upstream()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def idpy_gateway(tmp_path_factory, idpy_issuer, upstream):
    """`gatehouse serve` for idpyoidc's `gatehouse-idpy` client (client_secret_basic), PAR
    always, DPoP on, access tokens relayed to the upstream."""
    gateway = Gateway("serve-idpy", free_port(), tmp_path_factory.mktemp("serve-idpy"), {
        "GATEHOUSE_ISSUER": idpy_issuer,
        "GATEHOUSE_CLIENT_ID": CLIENT_ID,
        "GATEHOUSE_CLIENT_SECRET": CLIENT_SECRET,
        "GATEHOUSE_SCOPES": "openid email profile",
        "GATEHOUSE_UPSTREAM": upstream.base,
        "GATEHOUSE_PAR": "always",
        "GATEHOUSE_DPOP": "true",
        "GATEHOUSE_PASS_ACCESS_TOKEN": "true",
    })
    yield gateway
    gateway.stop()


@pytest.fixture
def browser(request, shots):
    """conftest's headless Chromium, with the performance log on (the requests it sent)."""
    options = webdriver.ChromeOptions()
    options.binary_location = _executable("CHROMIUM_BINARY", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,900",
                     "--disable-features=PasswordLeakDetection", "--no-first-run", "--no-default-browser-check"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    log = shots.directory / "chromedriver.log"
    service = Service(executable_path=_executable("CHROMEDRIVER", "/usr/bin/chromedriver"), log_output=str(log))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    yield driver
    report = getattr(request.node, "report_call", None)
    try:
        if report is not None and report.failed:
            shots.take(driver, "FAILED")
    finally:
        driver.quit()


# --- what the browser did ---

def sent_urls(driver) -> list[str]:
    """Every URL the browser requested since the last call (redirect hops included), in order."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def all_cookies(driver) -> list[dict]:
    """Every cookie in the browser, whatever its origin (cookies do not tell ports apart)."""
    return driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]


def signed_in_user(driver, gateway) -> str | None:
    if not driver.current_url.startswith(gateway.base + "/"):
        return None
    found = driver.find_elements(By.CSS_SELECTOR, "p#greeting strong")
    return found[0].text if found else None


def authorization_visits(urls: list[str], metadata: dict) -> list[str]:
    return [url for url in urls if url.split("?", 1)[0] == metadata["authorization_endpoint"]]


def sign_in(driver, gateway, metadata, shots, path: str = PROTECTED) -> list[str]:
    """Opens `path`; idpyoidc signs alice in without a form. Returns the URLs the browser sent."""
    driver.get(gateway.base + path)
    wait_for(driver, lambda d: signed_in_user(d, gateway) == "alice", "the upstream to greet alice")
    shots.take(driver, "signed-in")
    assert driver.current_url == gateway.base + path
    assert navigation_status(driver) == 200
    urls = sent_urls(driver)
    assert len(authorization_visits(urls, metadata)) == 1, f"not one trip through idpyoidc: {urls}"
    return urls


def start_location(gateway) -> str:
    """The `Location` of `/oauth2/start` (fetched without following it, no cookies)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(gateway.base + "/oauth2/start?rd=%2F", timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 302, f"/oauth2/start answered {error.code}"
        return error.headers["Location"]
    raise AssertionError("/oauth2/start did not redirect")


def protected_status(gateway, session: str) -> tuple[int, str | None]:
    """The status (and Location) of the protected URL with only `session` as cookie, not following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(gateway.base + PROTECTED, headers={
        "Cookie": f"{SESSION_COOKIE}={session}", "Accept": "text/html"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


# --- the tests ---

def test_par_and_dpop_login_reaches_the_upstream_with_a_bound_token(
        idpy_gateway, idpy_metadata, upstream, browser, shots):
    """Chromium asks for a protected page; the gateway pushes the authorization request, so the
    browser carries only `client_id` and `request_uri` to idpyoidc; alice lands on the page she
    asked for, the upstream sees her and gets the access token as `Authorization: DPoP` with a
    proof of the session's key (for its own URL, with the token's hash); the browser holds the
    session cookie and nothing of the tokens."""
    gateway = idpy_gateway
    assert idpy_metadata.get("pushed_authorization_request_endpoint"), "idpyoidc publishes no PAR endpoint"

    # The front channel, as the gateway writes it: PAR → client_id and request_uri only.
    location = start_location(gateway)
    assert location.split("?", 1)[0] == idpy_metadata["authorization_endpoint"], location
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert set(query) == {"client_id", "request_uri"}, location
    assert query["client_id"] == [CLIENT_ID]
    assert query["request_uri"][0].startswith("urn:"), location

    # The browser's login.
    urls = sign_in(browser, gateway, idpy_metadata, shots)
    [visited] = authorization_visits(urls, idpy_metadata)
    visited_query = parse_qs(urlsplit(visited).query, keep_blank_values=True)
    assert set(visited_query) == {"client_id", "request_uri"}, f"the browser carried more to idpyoidc: {visited}"
    assert visited_query["client_id"] == [CLIENT_ID]
    callbacks = [url for url in urls if url.startswith(gateway.base + "/oauth2/callback?")]
    assert len(callbacks) == 1, urls

    # What the upstream saw.
    assert browser.find_element(By.ID, "email").text == "alice@example.com"
    assert browser.find_element(By.ID, "scheme").text == "DPoP"
    assert browser.find_element(By.ID, "proof").text == "yes"
    headers = upstream.last(PROTECTED)
    assert headers.get("x-forwarded-email") == "alice@example.com"
    assert headers.get("x-forwarded-preferred-username") == "alice"
    assert headers.get("x-forwarded-user"), "no subject"  # idpyoidc's subject: a hash, not the user name
    authorization = headers.get("authorization", "")
    assert authorization.startswith("DPoP "), f"the upstream got {authorization[:12]!r}, not a DPoP token"
    assert not authorization.lower().startswith("bearer")
    token = authorization[len("DPoP "):]
    _, claims = jwt_parts(token)
    assert claims.get("sub") == "alice"  # the access token names the user; the ID token's subject is a hash
    bound = (claims.get("cnf") or {}).get("jkt")
    assert bound, "the access token is not bound to a key (no cnf.jkt)"

    proof = headers.get("dpop")
    assert proof, "the upstream got no DPoP proof"
    proof_header, proof_claims = jwt_parts(proof)
    assert proof_header.get("typ") == "dpop+jwt"
    assert proof_header.get("alg") == "ES256"
    assert jwk_thumbprint(proof_header["jwk"]) == bound, "the proof is not made with the token's key"
    assert proof_claims.get("htm") == "GET"
    assert proof_claims.get("htu") == upstream.base + urlsplit(PROTECTED).path
    assert proof_claims.get("ath") == b64url(hashlib.sha256(token.encode()).digest())
    assert proof_claims.get("jti") and proof_claims.get("iat")

    # Nothing of the tokens in the browser: cookies, storage, the page, the URLs it visited.
    cookies = all_cookies(browser)
    names = sorted(cookie["name"] for cookie in cookies)
    assert SESSION_COOKIE in names, f"no session cookie: {names}"
    assert set(names) <= {SESSION_COOKIE, LOOP_COOKIE}, f"cookies besides the session's: {names}"
    session = next(cookie for cookie in cookies if cookie["name"] == SESSION_COOKIE)
    assert session["httpOnly"] is True
    for cookie in cookies:
        if cookie["name"] == LOOP_COOKIE:
            assert re.fullmatch(r"\d+\.\d+\.\d+", cookie["value"]), cookie["value"]
        assert token not in cookie["value"] and proof not in cookie["value"]
        assert cookie["value"].count(".") < 2 or cookie["name"] == LOOP_COOKIE, f"a JWT in {cookie['name']}"
    storage = browser.execute_script(
        "const all = {}; for (const s of [localStorage, sessionStorage])"
        " for (let i = 0; i < s.length; i++) all[s.key(i)] = s.getItem(s.key(i)); return all;")
    assert storage == {}, f"web storage is not empty: {list(storage)}"
    source = browser.page_source
    assert token not in source and proof not in source
    assert token.split(".")[1] not in source, "the token's claims are in the page"
    assert not [url for url in urls if token.split(".")[1] in url or proof.split(".")[1] in url]
    shots.take(browser, "checked")


def test_sign_out_then_the_protected_page_needs_a_login_again(idpy_gateway, idpy_metadata, upstream, browser, shots):
    """alice signs in; the page's Sign out button POSTs /oauth2/sign_out. idpyoidc signs in
    without a page, so a login shows as a trip through its authorization endpoint: the gateway
    ends the session, clears the cookie and sends the browser to `/`, which is not served
    until the browser has been through idpyoidc again (a new session). The ended session's
    cookie, put back into the browser, gets the protected page only after another login."""
    gateway = idpy_gateway
    sign_in(browser, gateway, idpy_metadata, shots)
    before = browser.get_cookie(SESSION_COOKIE)
    assert before is not None
    assert protected_status(gateway, before["value"])[0] == 200
    served = len(upstream.requests)

    browser.find_element(By.XPATH, "//form[@action='/oauth2/sign_out']//button[normalize-space(.)='Sign out']").click()
    wait_for(browser, lambda d: signed_in_user(d, gateway) == "alice" and d.current_url == gateway.base + "/",
             "the browser to come back to / after sign-out and a new login")
    shots.take(browser, "signed-out-then-in-again")
    trip = sent_urls(browser)
    assert trip[0] == gateway.base + "/oauth2/sign_out", trip
    hops = [url.split("?", 1)[0] for url in trip if not url.endswith("/favicon.ico")]
    assert hops == [
        gateway.base + "/oauth2/sign_out", gateway.base + "/", gateway.base + "/oauth2/start",
        idpy_metadata["authorization_endpoint"], gateway.base + "/oauth2/callback", gateway.base + "/",
    ], f"after sign-out, / was not behind a new login: {trip}"
    [visit] = authorization_visits(trip, idpy_metadata)
    assert set(parse_qs(urlsplit(visit).query)) == {"client_id", "request_uri"}, visit
    # The upstream got one request since: the `/` after the new login, with an identity.
    assert [path for path, _ in upstream.requests[served:] if path != "/favicon.ico"] == ["/"]
    assert upstream.last("/").get("authorization", "").startswith("DPoP ")
    second = browser.get_cookie(SESSION_COOKIE)
    assert second is not None and second["value"] != before["value"], "the same session after sign-out"

    # The ended session: refused at the gateway, and in the browser the protected page takes a login.
    status, location = protected_status(gateway, before["value"])
    assert status == 302 and (location or "").startswith("/oauth2/start?"), \
        f"the ended session is not sent to sign in: {status} {location}"
    browser.delete_cookie(SESSION_COOKIE)
    browser.add_cookie({"name": SESSION_COOKIE, "value": before["value"], "path": "/", "httpOnly": True})
    served = len(upstream.requests)
    urls = sign_in(browser, gateway, idpy_metadata, shots)
    assert urls[0] == gateway.base + PROTECTED
    assert urls[1].startswith(gateway.base + "/oauth2/start?"), urls
    assert [path for path, _ in upstream.requests[served:] if path != "/favicon.ico"] == [PROTECTED], \
        "the upstream was reached before the login"
    third = browser.get_cookie(SESSION_COOKIE)["value"]
    assert third not in (before["value"], second["value"]), "no new session for the new login"
