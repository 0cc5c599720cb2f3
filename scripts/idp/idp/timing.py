"""Per-request CPU time of the test IdP, for benchmarks (IDP_CPU_LOG=true).

Logs one line per request: `cpu METHOD PATH STATUS MS USER-AGENT`, the CPU time the request's thread
spent in Django (middleware, view, database), not wall time. Off by default.
"""
import logging
import time

logger = logging.getLogger("idp.cpu")


class RequestCPUMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.thread_time()
        response = self.get_response(request)
        spent_ms = (time.thread_time() - started) * 1000
        agent = request.META.get("HTTP_USER_AGENT", "-")[:40]
        logger.info("cpu %s %s %s %.2f %s", request.method, request.path, response.status_code, spent_ms, agent)
        return response
