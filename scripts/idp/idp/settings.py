"""Settings for Gatehouse's test OpenID Connect provider (django-oauth-toolkit).

This is a test fixture, never a production deployment. Everything that differs
between instances comes from the environment:

  IDP_ISSUER                issuer URL, e.g. http://127.0.0.1:9010/o (required)
  IDP_KEY_FILE              RSA private key (PEM) that signs ID tokens (required)
  IDP_DB                    SQLite database path (required)
  IDP_ROTATE_REFRESH        "true"/"false": rotate refresh tokens on use (default true)
  IDP_ACCESS_TOKEN_SECONDS  access token lifetime (default 3600)
  IDP_CODE_SECONDS          authorization code lifetime (default 8)
  IDP_AUTHZ_RESPONSE_ISS    "true"/"false": add RFC 9207 `iss` to authorization
                            responses and advertise it (default true)
  IDP_DEV_SERVER_SOCKETS    "true"/"false": keep the development server's Nagle's
                            algorithm on instead of setting TCP_NODELAY as production
                            servers do (default false; see idp/apps.py)
  IDP_CPU_LOG               "true"/"false": log each request's CPU time (default false)
"""
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def _env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"environment variable {name} is required")
    return value


def _env_bool(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', got {value!r}")
    return value == "true"


SECRET_KEY = os.environ.get("IDP_SECRET_KEY", "gatehouse-test-idp-not-a-secret")
DEBUG = _env_bool("IDP_DEBUG", "false")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
    "idp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
DEV_SERVER_SOCKETS = _env_bool("IDP_DEV_SERVER_SOCKETS", "false")
if _env_bool("IDP_CPU_LOG", "false"):
    MIDDLEWARE.insert(0, "idp.timing.RequestCPUMiddleware")

ROOT_URLCONF = "idp.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _env("IDP_DB"),
        # The dev server is threaded and the tests issue concurrent requests.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

# Users' passwords and DOT's hashed client secrets go through this hasher on
# every login and token request; Django's default (1,000,000 PBKDF2 rounds)
# would dominate the test suite's run time.
PASSWORD_HASHERS = ["idp.hashers.TestPBKDF2PasswordHasher"]

LOGIN_URL = "/accounts/login/"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

ISSUER = _env("IDP_ISSUER").rstrip("/")

_DEFAULT_ACCESS_TOKEN_SECONDS = int(_env("IDP_ACCESS_TOKEN_SECONDS", "3600"))


def _access_token_seconds(request):
    """Access token lifetime per token request: clients named gatehouse-life-N get N seconds
    (the refresh-storm tests' short-lived tokens), every other client the instance's default.
    oauthlib calls this for each token it issues; django-oauth-toolkit stores its expires_in."""
    client = getattr(request, "client", None)
    client_id = getattr(client, "client_id", None) or getattr(request, "client_id", None) or ""
    prefix = "gatehouse-life-"
    if client_id.startswith(prefix) and client_id[len(prefix):].isdigit():
        return int(client_id[len(prefix):])
    return _DEFAULT_ACCESS_TOKEN_SECONDS


OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": Path(_env("IDP_KEY_FILE")).read_text(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # Log out without a confirmation page when a valid id_token_hint is given.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "idp.validators.GatehouseTestValidator",
    "PKCE_REQUIRED": True,
    # Redirect URIs on http://localhost match any port, as those on 127.0.0.1 do (RFC 8252
    # §8.3): the several-hosts tests run the gateway at http://localhost:<free port>.
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "ROTATE_REFRESH_TOKEN": _env_bool("IDP_ROTATE_REFRESH", "true"),
    "ACCESS_TOKEN_EXPIRE_SECONDS": _access_token_seconds,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": int(_env("IDP_CODE_SECONDS", "8")),
    "SCOPES": {
        "openid": "OpenID Connect",
        "email": "Email address",
        "profile": "Name and username",
        "groups": "Group memberships",
        "introspection": "Introspect tokens",
    },
    "DEFAULT_SCOPES": ["openid"],
    # RFC 9700 behaviour that DOT 4.0 will make the default.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": _env_bool("IDP_AUTHZ_RESPONSE_ISS", "true"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Tracebacks of 500s go to the instance's log (.test-artifacts/idp-PORT.log).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "oauth2_provider": {"handlers": ["console"], "level": "INFO"},
        "oauthlib": {"handlers": ["console"], "level": "INFO"},
        "idp.cpu": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
