"""Scripted browser logins through an OpenID Connect relying party (Gatehouse or
mod_auth_openidc) against the django-oauth-toolkit test IdP, for scripts/bench.sh.

  login.py cookie BASE_URL COOKIE_NAME EXPECTED_BODY_FILE
      one full login; prints the `Cookie:` value (NAME=VALUE) that holds the session
  login.py many BASE_URL COOKIE_NAME EXPECTED_BODY_FILE COUNT CONCURRENCY
      COUNT independent full logins (fresh cookie jar each), CONCURRENCY at a time;
      prints one line of JSON: {"ok": n, "failed": n, "seconds": s, "logins_per_s": r, ...,
      "hops": {"1. rp GET /": p50 ms, "2. idp GET /o/authorize/": ..., ...}} (each hop's
      median wall time, keyed by its place, who answered it and its path)

A login is the whole redirect dance a browser performs: GET BASE_URL/ (Accept: text/html)
-> 302 to the IdP's /authorize -> 302 to its login form -> POST username/password
-> 302 back to /authorize -> 302 to the relying party's /oauth2/callback (code exchange,
ID-token validation, session stored) -> 302 to / -> 200 with the upstream's file, whose
bytes must equal EXPECTED_BODY_FILE. Every hop is followed by hand (no automatic redirects).
"""
import html
import json
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import requests

USERNAME = "alice"
PASSWORD = "alice-password-1"
HEADERS = {"Accept": "text/html,application/xhtml+xml", "User-Agent": "gatehouse-bench-login"}
INPUT = re.compile(r"<input\b([^>]*)>", re.I)
ATTR = re.compile(r'\b(name|value)="([^"]*)"', re.I)
FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.I)


class LoginFailed(Exception):
    pass


def form_fields(page):
    fields = {}
    for match in INPUT.finditer(page):
        attrs = {k.lower(): html.unescape(v) for k, v in ATTR.findall(match.group(1))}
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


def login(base, cookie_name, expected, hops=None):
    """One full login with a fresh cookie jar; returns the session cookie's value.
    When `hops` is a list, appends (hop name, wall seconds) for every request made."""
    session = requests.Session()
    session.headers.update(HEADERS)
    rp = urlsplit(base).netloc

    def timed(method, url, **kwargs):
        started = time.perf_counter()
        response = session.request(method, url, allow_redirects=False, timeout=30, **kwargs)
        if hops is not None:
            parts = urlsplit(url)
            hops.append((f"{len(hops) + 1}. {'rp' if parts.netloc == rp else 'idp'} {method} {parts.path}",
                         time.perf_counter() - started))
        return response

    response = timed("GET", base + "/")
    for _ in range(16):
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise LoginFailed(f"{response.status_code} without Location at {response.url}")
            response = timed("GET", urljoin(response.url, location))
            continue
        if response.status_code != 200:
            raise LoginFailed(f"{response.status_code} at {response.url}: {response.text[:300]!r}")
        if response.content == expected:
            value = session.cookies.get(cookie_name)
            if not value:
                names = sorted(c.name for c in session.cookies)
                raise LoginFailed(f"reached the upstream but no cookie {cookie_name!r} (have {names})")
            return value
        fields = form_fields(response.text)
        if "password" not in fields:
            raise LoginFailed(f"unexpected page at {response.url}: {response.text[:300]!r}")
        fields["username"], fields["password"] = USERNAME, PASSWORD
        action = FORM_ACTION.search(response.text)
        target = urljoin(response.url, html.unescape(action.group(1))) if action else response.url
        response = timed("POST", target, data=fields, headers={"Referer": response.url})
    raise LoginFailed("too many hops without reaching the upstream")


def main(argv):
    mode, base, cookie_name, expected_file = argv[1:5]
    base = base.rstrip("/")
    with open(expected_file, "rb") as f:
        expected = f.read()
    if mode == "cookie":
        print(f"{cookie_name}={login(base, cookie_name, expected)}")
        return 0
    if mode != "many":
        raise SystemExit(f"unknown mode {mode!r}")
    count, concurrency = int(argv[5]), int(argv[6])
    errors, lock = [], threading.Lock()
    durations, hop_times = [], {}

    def one(_):
        started, hops = time.perf_counter(), []
        try:
            login(base, cookie_name, expected, hops)
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(str(error))
            return
        with lock:
            durations.append(time.perf_counter() - started)
            for name, seconds in hops:
                hop_times.setdefault(name, []).append(seconds)

    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(count)))
    seconds = time.perf_counter() - started
    client_cpu_ms = (time.process_time() - cpu_started) * 1000 / max(count, 1)
    durations.sort()
    result = {
        "ok": len(durations),
        "failed": len(errors),
        "seconds": round(seconds, 3),
        "logins_per_s": round(len(durations) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(durations[len(durations) // 2] * 1000, 1) if durations else None,
        "p99_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1000, 1)
        if durations else None,
        "client_cpu_ms": round(client_cpu_ms, 1),
        "first_error": errors[0][:300] if errors else None,
        "hops": {name: round(statistics.median(times) * 1000, 2) for name, times in hop_times.items()},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
