import sys

from oauth2_provider.oauth2_validators import OAuth2Validator

# Written to the instance's log for every refresh_token grant request: the refresh-counting
# tests read it (the access log cannot tell a refresh from a login's code exchange, which
# other tests make on the same instance at the same time).
REFRESH_GRANT_MARKER = "gatehouse-idp: refresh_token grant"
# Written for every userinfo request, with the client the access token belongs to: a test counts
# its own client's calls while other tests call userinfo on the same instance.
USERINFO_MARKER = "gatehouse-idp: userinfo for"


# Clients whose ID tokens carry only the protocol claims (sub, iss, aud, exp, nonce, ...):
# their profile, email and group claims come from the userinfo endpoint alone, as OpenID
# Connect Core §5.4 allows when an access token is issued (Zitadel's default, Okta's
# "thin" ID tokens).
THIN_ID_TOKEN_CLIENTS = {"gatehouse-thin"}

# Login clients that may also use the client credentials grant: a gateway route with
# `token: client_credentials` asks its provider's client (DOT allows one grant per application).
CLIENT_CREDENTIALS_TOO = {"gatehouse-test"}

# A nested claim for rules on dotted claim paths (`org.id`): the user's organisation.
ORGANISATIONS = {"alice": 42, "bob": 7, "carol": 99, "erin": 99}


class GatehouseTestValidator(OAuth2Validator):
    """Adds profile, email and group claims to ID tokens and userinfo."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "groups", "org": "profile"}

    # The request-agnostic form (no `request` parameter) lets discovery list the
    # claims in `claims_supported`; each value is evaluated per request.
    def get_additional_claims(self):
        return {
            "email": lambda request: request.user.email,
            "email_verified": lambda request: True,
            "name": lambda request: request.user.get_full_name(),
            "preferred_username": lambda request: request.user.get_username(),
            "groups": lambda request: sorted(request.user.groups.values_list("name", flat=True)),
            "org": lambda request: {"id": ORGANISATIONS.get(request.user.get_username(), 0)},
        }

    # DOT 3.4.1 advertises prompt=none but leaves these oauthlib hooks
    # unimplemented (NotImplementedError -> HTTP 500). DOT's AuthorizationView
    # already answers an anonymous prompt=none request with login_required
    # before honouring it, so a silent login is only reached with a session.
    def validate_silent_login(self, request):
        return True

    # Without a stored consent, only clients that skip the consent page can be
    # authorized silently; others get consent_required.
    def validate_silent_authorization(self, request):
        return bool(request.client and request.client.skip_authorization)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type == "client_credentials" and client_id in CLIENT_CREDENTIALS_TOO:
            return True
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def get_userinfo_claims(self, request):
        client_id = getattr(request.client, "client_id", "-")
        print(f"{USERINFO_MARKER} {client_id}", file=sys.stderr, flush=True)
        return super().get_userinfo_claims(request)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        print(REFRESH_GRANT_MARKER, file=sys.stderr, flush=True)
        return super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        if request.client.client_id in THIN_ID_TOKEN_CLIENTS:
            for name in self.get_additional_claims():
                claims.pop(name, None)
        return claims, expiration_time
