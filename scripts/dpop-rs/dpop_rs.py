#!/usr/bin/env python3
"""An independent RFC 9449 (DPoP) resource server, for Gatehouse's tests.

It shares no code with Gatehouse: JOSE is joserfc's, HTTP is the standard library's. Every
GET or POST under /api/ needs `Authorization: DPoP <token>` and one `DPoP` proof; the token is
a JWT from --issuer (keys from its discovery document's jwks_uri, fetched again on an unknown
kid) and bound to the proof's key by `cnf.jkt`. A refusal is a 401 with
`WWW-Authenticate: DPoP error="..."` and a JSON body; every answer carries a `DPoP-Nonce`.

    .venv/bin/python scripts/dpop-rs/dpop_rs.py --issuer http://127.0.0.1:9010/o --port 0

prints `PORT <n>` on stdout once it listens, and one line per request on stderr (never a token or
a proof). `--echo-credentials`, for tests only, puts the accepted credentials in a 200's body.
"""

import argparse
import base64
import hashlib
import json
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jws, jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry, KeySet

# RFC 9864 deprecates the name "EdDSA" (for "Ed25519"); clients still send it, and it is as safe.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

# Asymmetric algorithms only (RFC 9449 §4.3 step 5): never "none", never a MAC.
PROOF_ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519"]
TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]


class ProofRegistry(jws.JWSRegistry):
    """joserfc's JWS rules with room for an RSA key in the header (its default limit is 512 bytes)."""

    max_header_length = 4096


class Refusal(Exception):
    """A 401 with an RFC 6750 §3 / RFC 9449 §7.1 challenge."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class IssuerKeys:
    """The issuer's signing keys, fetched on first use and again when a token names an unknown kid."""

    def __init__(self, issuer):
        self.issuer, self.keys, self.lock = issuer, None, threading.Lock()

    def _fetch(self):
        with urllib.request.urlopen(self.issuer + "/.well-known/openid-configuration", timeout=10) as answer:
            metadata = json.load(answer)
        if metadata.get("issuer") != self.issuer:
            raise RuntimeError("the discovery document names another issuer")
        with urllib.request.urlopen(metadata["jwks_uri"], timeout=10) as answer:
            return KeySet.import_key_set(json.load(answer))

    def key(self, kid):
        with self.lock:
            for attempt in range(2):
                if self.keys is None or attempt == 1:
                    self.keys = self._fetch()
                for key in self.keys.keys:
                    if kid is None or key.kid == kid:
                        return key
        raise Refusal("invalid_token", "no key of the issuer has this kid")


class Nonces:
    """Server nonces (RFC 9449 §9): a new one every `period` seconds; the current and the previous are accepted."""

    def __init__(self, period):
        self.period, self.lock = period, threading.Lock()
        self.current, self.previous, self.minted = secrets.token_urlsafe(16), None, time.monotonic()

    def now(self):
        with self.lock:
            if time.monotonic() - self.minted >= self.period:
                self.previous, self.current, self.minted = self.current, secrets.token_urlsafe(16), time.monotonic()
            return self.current

    def accepts(self, nonce):
        current = self.now()
        with self.lock:
            return nonce is not None and nonce in (current, self.previous)


class ReplayCache:
    """`jti`s of accepted proofs until their `iat` leaves the window (RFC 9449 §11.1)."""

    def __init__(self):
        self.seen, self.lock = {}, threading.Lock()

    def first_use(self, jti, expires):
        with self.lock:
            now = time.time()
            self.seen = {key: until for key, until in self.seen.items() if until > now}
            if jti in self.seen:
                return False
            self.seen[jti] = expires
            return True


class ResourceServer:
    def __init__(self, options):
        self.options = options
        self.issuer_keys = IssuerKeys(options.issuer)
        self.nonces = Nonces(options.nonce_period)
        self.replays = ReplayCache()

    def verify_token(self, token):
        """The access token: a JWT of the issuer, unexpired, with `cnf.jkt` (RFC 9449 §6.1)."""
        try:
            kid = jws.extract_compact(token.encode("ascii")).headers().get("kid")
            key = self.issuer_keys.key(kid)
            claims = jwt.decode(token, key, algorithms=TOKEN_ALGORITHMS).claims
            options = {"iss": {"essential": True, "value": self.options.issuer}, "exp": {"essential": True}}
            if self.options.audience:
                options["aud"] = {"essential": True, "value": self.options.audience}
            jwt.JWTClaimsRegistry(**options).validate(claims)
        except (JoseError, ValueError, UnicodeError) as error:
            raise Refusal("invalid_token", f"the access token is not valid: {error}")
        except (OSError, RuntimeError, KeyError) as error:  # discovery or JWKS unreachable or malformed
            raise Refusal("invalid_token", f"the issuer's keys are not available: {error}")
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not isinstance(jkt, str):
            raise Refusal("invalid_token", "the access token is not DPoP-bound (no cnf.jkt)")
        return claims, jkt

    def verify_proof(self, proof, method, url, token, jkt):
        """The proof, in RFC 9449 §4.3's order (steps 2-12), then §7.1's ath and key binding."""
        try:
            header = jws.extract_compact(proof.encode("ascii"), registry=ProofRegistry()).headers()
        except (JoseError, ValueError, UnicodeError):
            raise Refusal("invalid_dpop_proof", "the proof is not a JWS in compact serialization")
        if header.get("typ") != "dpop+jwt":
            raise Refusal("invalid_dpop_proof", "typ must be dpop+jwt")
        if header.get("alg") not in PROOF_ALGORITHMS:
            raise Refusal("invalid_dpop_proof", "alg must be an asymmetric algorithm")
        if not isinstance(header.get("jwk"), dict):
            raise Refusal("invalid_dpop_proof", "no jwk in the header")
        try:
            key = JWKRegistry.import_key(header["jwk"])
        except (JoseError, ValueError, TypeError) as error:
            raise Refusal("invalid_dpop_proof", f"the jwk is not a usable key: {error}")
        if key.is_private:
            raise Refusal("invalid_dpop_proof", "the jwk contains a private key")
        try:
            verified = jws.deserialize_compact(proof, key, registry=ProofRegistry(algorithms=[header["alg"]]))
            claims = json.loads(verified.payload)
        except (JoseError, ValueError) as error:
            raise Refusal("invalid_dpop_proof", f"the signature does not verify: {error}")
        if not isinstance(claims, dict) or any(name not in claims for name in ("jti", "htm", "htu", "iat")):
            raise Refusal("invalid_dpop_proof", "the proof needs jti, htm, htu and iat")
        if claims["htm"] != method:
            raise Refusal("invalid_dpop_proof", "htm does not match the request's method")
        if normalized(claims["htu"]) != normalized(url):
            raise Refusal("invalid_dpop_proof", "htu does not match the request's URL")
        if self.options.require_nonce and not self.nonces.accepts(claims.get("nonce")):
            raise Refusal("use_dpop_nonce", "Resource server requires nonce in DPoP proof")
        iat = claims["iat"]
        if isinstance(iat, bool) or not isinstance(iat, (int, float)) or abs(time.time() - iat) > self.options.iat_window:
            raise Refusal("invalid_dpop_proof", "iat is outside the acceptable window")
        if claims.get("ath") != b64url(hashlib.sha256(token.encode("ascii")).digest()):
            raise Refusal("invalid_dpop_proof", "ath does not match the access token")
        if key.thumbprint() != jkt:
            raise Refusal("invalid_dpop_proof", "the proof's key is not the one the token is bound to (cnf.jkt)")
        jti = claims["jti"]
        if not isinstance(jti, str) or not self.replays.first_use(jti, iat + 2 * self.options.iat_window):
            raise Refusal("invalid_dpop_proof", "the proof was used before (jti)")


def normalized(url):
    """htu without query and fragment, scheme and host lower-cased, default port dropped (RFC 9449 §4.3 step 9)."""
    parts = urllib.parse.urlsplit(url if isinstance(url, str) else "")
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, 80 if parts.scheme.lower() == "http" else 443) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}"


class Handler(BaseHTTPRequestHandler):
    server_version = "dpop-rs"
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def serve(self, method):
        rs = self.server.resource_server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urllib.parse.urlsplit(self.path).path
        if not path.startswith("/api/"):
            return self.answer(404, {"error": "not_found"}, outcome="not found")
        try:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            token = token.strip()
            if not token:
                raise Refusal("invalid_token", "an access token is required (Authorization: DPoP)")
            claims, jkt = rs.verify_token(token)
            if scheme.lower() != "dpop":  # RFC 9449 §7.1: a bound token is never a bearer token
                raise Refusal("invalid_token", "a DPoP-bound access token must use the DPoP scheme")
            proofs = self.headers.get_all("DPoP") or []
            if len(proofs) != 1:
                raise Refusal("invalid_dpop_proof", f"exactly one DPoP header is required, not {len(proofs)}")
            url = f"http://{self.headers.get('Host', '')}{path}"
            rs.verify_proof(proofs[0], method, url, token, jkt)
        except Refusal as refusal:
            description = refusal.description.replace('"', "'").replace("\\", "/")  # a quoted-string (RFC 9110 §5.6.4)
            algs = " ".join(PROOF_ALGORITHMS)
            challenge = f'DPoP error="{refusal.error}", error_description="{description}", algs="{algs}"'
            payload = {"error": refusal.error, "error_description": refusal.description}
            return self.answer(401, payload, challenge, outcome=f"refused {refusal.error}: {refusal.description}")
        payload = {"sub": claims.get("sub"), "jkt": jkt, "method": method, "path": path, "body_length": len(body)}
        if rs.options.echo_credentials:  # test-only: what was accepted, so that a test can replay it
            payload["authorization"] = self.headers.get("Authorization")
            payload["dpop"] = proofs[0]
        self.answer(200, payload, outcome=f"ok sub={claims.get('sub')}")

    def answer(self, status, payload, challenge=None, outcome=""):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("DPoP-Nonce", self.server.resource_server.nonces.now())
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.end_headers()
        self.wfile.write(data)
        sys.stderr.write(f"dpop-rs: {self.command} {urllib.parse.urlsplit(self.path).path} {status} {outcome}\n")
        sys.stderr.flush()

    def log_message(self, format, *args):  # one line per request, written by answer(); never the token
        pass


def main():
    # A parent may start us with SIGTERM and SIGINT blocked (Foundation's Process passes on its
    # thread's signal mask); unblock them so that terminating the process stops the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True, help="the OpenID provider whose access tokens are accepted")
    parser.add_argument("--audience", help="the aud the access tokens must carry (default: not checked)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as PORT <n>)")
    parser.add_argument("--iat-window", type=int, default=60, help="seconds a proof's iat may be off (default 60)")
    parser.add_argument("--nonce-period", type=int, default=300, help="seconds between new nonces (default 300)")
    parser.add_argument("--require-nonce", choices=["true", "false"], default="true")
    parser.add_argument(
        "--echo-credentials", action="store_true",
        help="TEST ONLY: a successful answer's JSON also carries the Authorization header and the DPoP proof it "
        "accepted (as \"authorization\" and \"dpop\"); it exists only so that tests can replay what a client sent "
        "(never in the log)")
    options = parser.parse_args()
    options.issuer = options.issuer.rstrip("/")
    options.require_nonce = options.require_nonce == "true"
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    server.resource_server = ResourceServer(options)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
