"""A small OpenID Provider built on idpyoidc, for Gatehouse's interop tests.

    python op.py PORT STATE_DIR

Issuer http://127.0.0.1:PORT; PAR, DPoP and PKCE (S256, required) on; RS256 and ES256 keys;
two static clients (see CLIENTS) and two users picked by login_hint (alice by default), logged
in without a form. STATE_DIR holds idpyoidc's generated keys and the clients' private keys
(client-es256.pem, client-rs256.pem), written by start.sh before this starts.

idpyoidc is used as shipped, with the small patches below, each marked PATCH and listed in
README.md: loopback redirect URIs with any port, DPoP optional rather than demanded on every
token and userinfo request, a DPoP-bound token refused as a bearer token at userinfo, and
require_pushed_authorization_requests enforced.
"""

import contextvars
import json
import logging
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse, urlunparse

from cryptojwt.jwk.ec import ECKey
from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jws.jws import factory
from cryptojwt.key_jar import KeyJar
from cryptography.hazmat.primitives import serialization

from idpyoidc.message.oauth2 import ResponseMessage
from idpyoidc.message.oidc import AccessTokenRequest
from idpyoidc.server import Server
from idpyoidc.server.configure import OPConfiguration
from idpyoidc.server.oauth2 import authorization as oauth2_authorization
from idpyoidc.server.oauth2.add_on import dpop
from idpyoidc.server.oauth2.add_on.pkce import CC_METHOD
from idpyoidc.server.oidc.authorization import Authorization
from idpyoidc.server.oidc.token import Token
from idpyoidc.server.user_authn.user import NoAuthn
from idpyoidc.time_util import utc_time_sans_frac

USERS = {
    "alice": {
        "sub": "alice",
        "name": "Alice Idpy",
        "given_name": "Alice",
        "family_name": "Idpy",
        "preferred_username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
    },
    "bob": {
        "sub": "bob",
        "name": "Bob Idpy",
        "given_name": "Bob",
        "family_name": "Idpy",
        "preferred_username": "bob",
        "email": "bob@example.com",
        "email_verified": True,
    },
}

# Registered without a port: any loopback port matches (PATCH 1).
REDIRECT_URIS = ["http://127.0.0.1/oauth2/callback", "http://127.0.0.1/oauth2/callback/idpy"]
SCOPES = ["openid", "profile", "email", "offline_access"]

# ---- PATCH 1: RFC 8252 §7.3, loopback redirect URIs may vary in port -------------------------
# idpyoidc compares redirect_uri exactly. A client registered with a port-less loopback URI
# accepts that URI with any port; everything else is still compared exactly by idpyoidc.
_LOOPBACK = {"127.0.0.1", "[::1]", "localhost"}
_original_verify_uri = oauth2_authorization.verify_uri


def _without_port(uri):
    parts = urlparse(uri)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        return uri
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if host not in _LOOPBACK:
        return uri
    return urlunparse(parts._replace(netloc=host))


def _verify_uri(context, request, uri_type, client_id=None, endpoint_type="oidc"):
    if uri_type == "redirect_uri" and uri_type in request:
        probe = request.copy()
        probe[uri_type] = _without_port(request[uri_type])
        cid = request.get("client_id", client_id)
        registered = [u if isinstance(u, str) else u[0] for u in context.cdb.get(cid, {}).get("redirect_uris", [])]
        if probe[uri_type] in registered:
            return _original_verify_uri(context, probe, uri_type, client_id, endpoint_type)
    return _original_verify_uri(context, request, uri_type, client_id, endpoint_type)


oauth2_authorization.verify_uri = _verify_uri

# ---- PATCH 2 and 3: DPoP where the client asks for it --------------------------------------
# idpyoidc's add-on appends one check to each endpoint it names and that check demands a DPoP
# header on every request, so a client without DPoP could not use the same provider (RFC 9449
# makes DPoP the client's choice). Here the check runs when a proof is sent; without one, a
# token bound to a key (cnf.jkt) is refused at userinfo as a bearer token (RFC 9449 §7.2).
# The check itself (including its hex `ath`, see README.md) is idpyoidc's, unchanged.


def _dpop_when_present(request, client_id, context, **kwargs):
    http_info = kwargs.get("http_info") or {}
    headers = http_info.get("headers") or {}
    if headers.get("dpop"):
        return dpop.userinfo_post_parse_request(request, client_id, context, **kwargs)
    token = (kwargs.get("auth_info") or {}).get("token")
    if token and _bound_key(token):
        return ResponseMessage(error="invalid_token", error_description="a DPoP-bound token needs a DPoP proof")
    return request


def _bound_key(token):
    try:
        jws = factory(token)
        return (jws.jwt.payload().get("cnf") or {}).get("jkt") if jws else None
    except Exception:
        return None


# ---- login_hint picks the user (alice when absent) ------------------------------------------
_login_hint = contextvars.ContextVar("login_hint", default=None)


class HintedAuthorization(Authorization):
    """Remembers the (PAR-restored) request's login_hint for HintedNoAuthn, and enforces a
    client's require_pushed_authorization_requests (PATCH 4, RFC 9126 §6), which idpyoidc
    does not know."""

    def __init__(self, upstream_get, **kwargs):
        super().__init__(upstream_get, **kwargs)
        self.post_parse_request.insert(0, self._require_par)

    def parse_request(self, request, http_info=None, **kwargs):
        # PATCH 6: RFC 9126 §4 sends only client_id and request_uri; idpyoidc checks the front
        # channel's parameters (response_type required) before it restores the pushed request,
        # and never compares the pushed request's client with the front channel's.
        uri = request.get("request_uri", "") if isinstance(request, dict) else ""
        if uri.startswith("urn:uuid:"):
            pushed = self.upstream_get("context").par_db.get(uri)
            if pushed is not None:
                if pushed.get("client_id") != request.get("client_id"):
                    return self.error_cls(
                        error="invalid_request", error_description="the request_uri was pushed by another client"
                    )
                request = dict(pushed.to_dict(), **request)
        return super().parse_request(request, http_info=http_info, **kwargs)

    def _require_par(self, request, client_id, context, **kwargs):
        client = context.cdb.get(client_id) or {}
        if client.get("require_pushed_authorization_requests") and not str(request.get("request_uri", "")).startswith(
            "urn:uuid:"
        ):
            return self.error_cls(
                error="invalid_request", error_description="this client must use pushed authorization requests"
            )
        return request

    def setup_auth(self, request, redirect_uri, cinfo, cookie=None, acr=None, **kwargs):
        _login_hint.set(request.get("login_hint"))
        return super().setup_auth(request, redirect_uri, cinfo, cookie, acr, **kwargs)


class HintedNoAuthn(NoAuthn):
    def authenticated_as(self, client_id="", cookie=None, authorization="", **kwargs):
        hint = _login_hint.get()
        user = hint if hint in USERS else self.user
        return {"uid": user}, utc_time_sans_frac()


def configuration(issuer, state_dir):
    return {
        "issuer": issuer,
        "httpc_params": {"verify": False, "timeout": 4},
        "keys": {
            "private_path": os.path.join(state_dir, "op-jwks.json"),
            "key_defs": [
                {"type": "RSA", "use": ["sig"]},
                {"type": "EC", "crv": "P-256", "use": ["sig"]},
            ],
            "uri_path": "jwks.json",
            "read_only": False,
        },
        "preference": {
            "subject_types_supported": ["public"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        },
        "add_on": {
            "pkce": {
                "function": "idpyoidc.server.oauth2.add_on.pkce.add_support",
                "kwargs": {"essential": True, "code_challenge_methods": {"S256": CC_METHOD["S256"]}},
            },
            "dpop": {
                "function": "idpyoidc.server.oauth2.add_on.dpop.add_support",
                "kwargs": {
                    "dpop_signing_alg_values_supported": ["ES256"],
                    "dpop_endpoints": ["token", "userinfo"],
                },
            },
        },
        "authz": {
            "class": "idpyoidc.server.authz.AuthzHandling",
            "kwargs": {
                "grant_config": {
                    "usage_rules": {
                        "authorization_code": {
                            "supports_minting": ["access_token", "refresh_token", "id_token"],
                            "max_usage": 1,
                            "expires_in": 120,
                        },
                        "access_token": {"expires_in": 600},
                        "refresh_token": {
                            "supports_minting": ["access_token", "refresh_token", "id_token"],
                            "expires_in": 86400,
                        },
                    },
                    "expires_in": 43200,
                }
            },
        },
        "authentication": {
            "anon": {
                "acr": "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
                "class": HintedNoAuthn,
                "kwargs": {"user": "alice"},
            }
        },
        "userinfo": {"class": "idpyoidc.server.user_info.UserInfo", "kwargs": {"db": USERS}},
        "token_handler_args": {
            "jwks_def": {
                "private_path": os.path.join(state_dir, "token-jwks.json"),
                "read_only": False,
                "key_defs": [{"type": "oct", "bytes": "24", "use": ["enc"], "kid": "code"}],
            },
            "code": {"lifetime": 120, "kwargs": {"crypt_conf": _crypt_conf()}},
            "token": {
                "class": "idpyoidc.server.token.jwt_token.JWTToken",
                "kwargs": {"lifetime": 600, "add_claims_by_scope": True, "aud": [issuer]},
            },
            "refresh": {"kwargs": {"lifetime": 86400}},
            "id_token": {
                "class": "idpyoidc.server.token.id_token.IDToken",
                "kwargs": {"add_claims_by_scope": True},
            },
        },
        "endpoint": {
            "provider_config": {
                "path": ".well-known/openid-configuration",
                "class": "idpyoidc.server.oidc.provider_config.ProviderConfiguration",
                "kwargs": {"client_authn_method": None},
            },
            "authorization": {
                "path": "authorization",
                "class": HintedAuthorization,
                "kwargs": {
                    "client_authn_method": None,
                    "claims_parameter_supported": True,
                    "request_parameter_supported": False,
                    "request_uri_parameter_supported": True,
                    "response_types_supported": ["code"],
                    "response_modes_supported": ["query"],
                },
            },
            "pushed_authorization": {
                "path": "par",
                "class": "idpyoidc.server.oauth2.pushed_authorization.PushedAuthorization",
                "kwargs": {"client_authn_method": ["client_secret_basic", "client_secret_post", "private_key_jwt"]},
            },
            "token": {
                "path": "token",
                "class": "idpyoidc.server.oidc.token.Token",
                "kwargs": {"client_authn_method": ["client_secret_basic", "client_secret_post", "private_key_jwt"]},
            },
            "userinfo": {
                "path": "userinfo",
                "class": "idpyoidc.server.oidc.userinfo.UserInfo",
                "kwargs": {"client_authn_method": ["bearer_header", "dpop"]},
            },
        },
        "session_params": {"encrypter": _crypt_conf()},
        "template_dir": "templates",
    }


def _crypt_conf():
    return {
        "kwargs": {
            "keys": {
                "key_defs": [
                    {"type": "OCT", "use": ["enc"], "kid": "password"},
                    {"type": "OCT", "use": ["enc"], "kid": "salt"},
                ]
            },
            "iterations": 1,
        }
    }


def public_jwks(*pem_files):
    keys = []
    for path in pem_files:
        with open(path, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        public = private.public_key()
        key = ECKey(pub_key=public) if path.endswith("es256.pem") else RSAKey(pub_key=public)
        key.add_kid()
        keys.append(key.serialize(private=False))
    return {"keys": keys}


def register_clients(server, state_dir):
    context = server.context
    common = {
        "redirect_uris": [(uri, {}) for uri in REDIRECT_URIS],
        "response_types_supported": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "allowed_scopes": SCOPES,
        "client_salt": "gatehouse",
    }
    context.cdb["gatehouse-idpy"] = dict(
        common, client_secret="idpy-secret", token_endpoint_auth_method="client_secret_basic"
    )
    # The same secret; PAR required (RFC 9126 §6, PATCH 4).
    context.cdb["gatehouse-idpy-par"] = dict(
        common,
        client_secret="idpy-secret",
        token_endpoint_auth_method="client_secret_basic",
        require_pushed_authorization_requests=True,
    )
    jwks = public_jwks(os.path.join(state_dir, "client-es256.pem"), os.path.join(state_dir, "client-rs256.pem"))
    context.cdb["gatehouse-idpy-jwt"] = dict(common, token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    keyjar = server.keyjar
    keyjar.import_jwks(jwks, "gatehouse-idpy-jwt")


def build_server(issuer, state_dir):
    server = Server(OPConfiguration(configuration(issuer, state_dir), base_path=state_dir), cwd=state_dir)
    for name in ("token", "userinfo"):
        endpoint = server.get_endpoint(name)
        endpoint.post_parse_request = [
            _dpop_when_present if f is dpop.userinfo_post_parse_request else f for f in endpoint.post_parse_request
        ]
    # PATCH 7: RFC 9126 §2 (and RFC 7523bis): a client assertion's aud may be the issuer, the
    # token endpoint or the PAR endpoint at either endpoint; idpyoidc accepts only the URL of
    # the endpoint it arrives at.
    for name in ("token", "pushed_authorization"):
        server.get_endpoint(name).allowed_targets = ["", "token", "pushed_authorization"]
    # PATCH 5: the DPoP add-on writes dpop_signing_alg_values_supported into the metadata before
    # Server() rebuilds the metadata, so it is lost; the refresh grant only binds (token_type
    # DPoP) when that member is present.
    server.context.provider_info["dpop_signing_alg_values_supported"] = server.context.add_on["dpop"]["algs_supported"]
    # idpyoidc always sends iss in the authorization response (its mix-up defence) but does not
    # say so (RFC 9207 §3).
    server.context.provider_info["authorization_response_iss_parameter_supported"] = True
    server.context.provider_info["scopes_supported"] = SCOPES
    register_clients(server, state_dir)
    return server


class Handler(BaseHTTPRequestHandler):
    server_version = "gatehouse-idpy"

    def log_message(self, fmt, *args):
        sys.stderr.write("idpy: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        op = self.server.op
        parts = urlparse(self.path)
        path = parts.path.strip("/")
        if path == "jwks.json":
            return self._send(200, json.dumps(op.keyjar.export_jwks()), "application/json")
        routes = {
            ".well-known/openid-configuration": "provider_config",
            "authorization": "authorization",
            "par": "pushed_authorization",
            "token": "token",
            "userinfo": "userinfo",
        }
        name = routes.get(path)
        if name is None:
            return self._send(404, json.dumps({"error": "not_found"}), "application/json")
        endpoint = op.get_endpoint(name)
        http_info = {
            "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() not in ("cookie", "user-agent")},
            "method": method,
            "url": self.server.issuer + parts.path + (("?" + parts.query) if parts.query else ""),
            "cookie": [],
        }
        if method == "GET":
            request = {k: v[0] for k, v in parse_qs(parts.query).items()}
        else:
            length = int(self.headers.get("content-length") or 0)
            request = self.rfile.read(length).decode() if length else {}
        try:
            parsed = endpoint.parse_request(request, http_info=http_info)
        except Exception as err:
            logging.exception("parse_request at %s", name)
            return self._error(name, "invalid_request", str(err), 401 if "uthent" in type(err).__name__ else 400)
        if isinstance(parsed, ResponseMessage) and "error" in parsed:
            return self._error(name, parsed["error"], parsed.get("error_description", ""), 400, parsed)
        try:
            if isinstance(endpoint, Token):
                args = endpoint.process_request(AccessTokenRequest(**parsed), http_info=http_info)
            else:
                args = endpoint.process_request(parsed, http_info=http_info)
        except Exception as err:
            traceback.print_exc()
            return self._error(name, "invalid_request", str(err), 400)
        if "http_response" in args:
            return self._send(201 if name == "pushed_authorization" else 200, json.dumps(args["http_response"]),
                              "application/json")
        if "redirect_location" in args:
            return self._redirect(args["redirect_location"])
        if isinstance(args, ResponseMessage) and "error" in args:
            return self._error(name, args["error"], args.get("error_description", ""), 400, args)
        info = endpoint.do_response(request=parsed, **args)
        placement = info.get("response_placement", endpoint.response_placement)
        if placement == "url":
            return self._redirect(info["response"])
        status = info.get("response_code", 400 if "error" in args else 200)
        headers = dict(info.get("http_headers", []))
        content_type = headers.pop("Content-type", headers.pop("Content-Type", "application/json"))
        self._send(status, info["response"], content_type, headers)

    def _error(self, name, error, description, status, message=None):
        if name == "userinfo" and error == "invalid_token":
            status = 401
        body = {"error": error, "error_description": description}
        self._send(status, json.dumps(body), "application/json")

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status, body, content_type, headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def main():
    port = int(sys.argv[1])
    state_dir = os.path.abspath(sys.argv[2])
    logging.basicConfig(level=os.environ.get("IDPY_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    issuer = f"http://127.0.0.1:{port}"
    httpd = HTTPServer(("127.0.0.1", port), Handler)
    httpd.issuer = issuer
    httpd.op = build_server(issuer, state_dir)
    print(f"idpy: {issuer} ready", file=sys.stderr, flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
