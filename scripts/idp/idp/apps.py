from django.apps import AppConfig
from django.conf import settings


class IdpConfig(AppConfig):
    name = "idp"

    def ready(self):
        # Django's development server writes an answer's status line, headers and body in
        # separate small writes with Nagle's algorithm on, so on a kept-alive connection the
        # later writes wait for the client's delayed ACK: a 40 ms stall on most answers (the
        # login form took 44 ms to serve against 0.7 ms of CPU). It penalises clients that
        # reuse connections, which is what a relying party should do. gunicorn, uWSGI and
        # Keycloak set TCP_NODELAY; so does this fixture unless IDP_DEV_SERVER_SOCKETS=true.
        if not settings.DEV_SERVER_SOCKETS:
            from django.core.servers.basehttp import WSGIRequestHandler

            WSGIRequestHandler.disable_nagle_algorithm = True
