"""Create (or reset) the users and OAuth applications Gatehouse's tests expect.

IDP_USERS=partner seeds other people (a second provider of the multi-provider tests): their
subjects ("1", "2": user ids) are the same strings as the standard users', so only the issuer
tells them apart."""
import os

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import Application

# Any port on 127.0.0.1 matches (RFC 8252 loopback redirects); one callback per provider id of
# the multi-provider tests.
REDIRECT_URIS = " ".join(
    ["http://127.0.0.1:4180/oauth2/callback", "http://127.0.0.1/callback", "http://localhost:4180/oauth2/callback"]
    + [f"http://127.0.0.1:4180/oauth2/callback/{provider}" for provider in ("corp", "partner", "dev")]
)
POST_LOGOUT_REDIRECT_URIS = "http://127.0.0.1:4180/"

USERS = [
    # username, password, email, first name, last name, groups
    ("alice", "alice-password-1", "alice@example.com", "Alice", "Liddell", ["staff"]),
    ("bob", "bob-password-1", "bob@example.org", "Bob", "Builder", []),
]
PARTNER_USERS = [
    ("carol", "carol-password-1", "carol@partner.example", "Carol", "Partner", ["partners"]),
    ("erin", "erin-password-1", "erin@partner.example", "Erin", "Partner", []),
]

APPLICATIONS = [
    # client_id, secret ("" = public client), grant type, skip consent
    ("gatehouse-test", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, True),
    ("gatehouse-consent", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, False),
    ("gatehouse-public", "", Application.GRANT_AUTHORIZATION_CODE, True),
    ("gatehouse-service", "gatehouse-service-secret", Application.GRANT_CLIENT_CREDENTIALS, True),
    # Access tokens of 5, 40 and 75 seconds (settings._access_token_seconds): refresh storms
    ("gatehouse-life-5", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, True),
    ("gatehouse-life-40", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, True),
    ("gatehouse-life-75", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, True),
    # ID tokens without profile, email and group claims (idp/validators.py)
    ("gatehouse-thin", "gatehouse-test-secret", Application.GRANT_AUTHORIZATION_CODE, True),
]


class Command(BaseCommand):
    help = __doc__

    @transaction.atomic
    def handle(self, *args, **options):
        users = PARTNER_USERS if os.environ.get("IDP_USERS") == "partner" else USERS
        for username, password, email, first, last, groups in users:
            user, _ = User.objects.get_or_create(username=username)
            user.email, user.first_name, user.last_name = email, first, last
            user.set_password(password)
            user.save()
            user.groups.set(Group.objects.get_or_create(name=g)[0] for g in groups)

        for client_id, secret, grant_type, skip_authorization in APPLICATIONS:
            public = not secret
            redirects = grant_type == Application.GRANT_AUTHORIZATION_CODE
            Application.objects.update_or_create(
                client_id=client_id,
                defaults={
                    "name": client_id,
                    "client_type": Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
                    "authorization_grant_type": grant_type,
                    # Saved in plaintext here; DOT hashes it on save (public: nothing to hash).
                    "client_secret": secret,
                    "hash_client_secret": not public,
                    "algorithm": Application.RS256_ALGORITHM,
                    "skip_authorization": skip_authorization,
                    "redirect_uris": REDIRECT_URIS if redirects else "",
                    "post_logout_redirect_uris": POST_LOGOUT_REDIRECT_URIS if redirects else "",
                },
            )
        self.stdout.write(f"seeded {len(users)} users and {len(APPLICATIONS)} applications")
