"""Signing in, staying signed in and signing out, in a real browser, through the gateway —
against the demo's development IdP and against django-oauth-toolkit."""
from __future__ import annotations

import time

import pytest

from conftest import REFRESH_WINDOW
from pages import navigation_status, wait_for

SESSION_COOKIE = "gatehouse"  # GATEHOUSE_COOKIE_SECURE=false: no __Host- prefix
BINDING_PREFIX = "gatehouse-login-"


def cookie_names(browser) -> list[str]:
    return [cookie["name"] for cookie in browser.get_cookies()]


def test_sign_in_returns_to_the_page_asked_for(stack, browser, shots):
    """A deep link with a query → the IdP's login page → sign in → back on that very URL."""
    deep = "/reports/2026/q3?tab=summary&sort=-date&q=caf%C3%A9"
    browser.get(stack.url(deep))
    stack.sign_in(browser, "alice", shots)
    assert browser.current_url == stack.url(deep)
    assert navigation_status(browser) == 200
    shots.take(browser, "signed-in-on-the-deep-link")


def test_private_key_jwt_client_signs_in(dev_idp_private_key_jwt_stack, browser, shots):
    """The gateway authenticates to the IdP with a signed client assertion (a P-256 key file,
    no secret); the user sees nothing different."""
    stack = dev_idp_private_key_jwt_stack
    browser.get(stack.url("/account?tab=keys"))
    stack.sign_in(browser, "alice", shots)
    assert browser.current_url == stack.url("/account?tab=keys")
    assert navigation_status(browser) == 200
    assert "alice" in browser.page_source
    shots.take(browser, "signed-in-with-private-key-jwt")


def test_reload_keeps_the_session_and_the_cookie_is_http_only(stack, browser, shots):
    browser.get(stack.url("/"))
    stack.sign_in(browser, "alice", shots)
    session = browser.get_cookie(SESSION_COOKIE)
    assert session is not None, f"no {SESSION_COOKIE} cookie after sign-in: {cookie_names(browser)}"
    assert session["httpOnly"] is True
    assert session.get("sameSite") == "Lax"
    assert not [name for name in cookie_names(browser) if name.startswith(BINDING_PREFIX)], \
        "the login's binding cookie outlived the callback"

    browser.refresh()
    stack.wait_until_signed_in(browser, "alice")
    assert browser.current_url == stack.url("/")
    assert browser.get_cookie(SESSION_COOKIE)["value"] == session["value"]
    shots.take(browser, "reloaded")

    script_cookies = browser.execute_script("return document.cookie")
    assert SESSION_COOKIE + "=" not in script_cookies, f"document.cookie shows the session cookie: {script_cookies!r}"


def test_two_tabs_sign_in_at_the_same_time(stack, browser, shots):
    """Both tabs reach the login page (two logins in flight, one binding cookie each), then
    each signs in and lands on its own page; both stay signed in."""
    first, second = "/tabs/one?n=1", "/tabs/two?n=2"
    browser.get(stack.url(first))
    stack.wait_for_login_page(browser)
    tab1 = browser.current_window_handle
    browser.switch_to.new_window("tab")
    tab2 = browser.current_window_handle
    browser.get(stack.url(second))
    stack.wait_for_login_page(browser)
    shots.take(browser, "tab2-login-page")
    bindings = [name for name in cookie_names(browser) if name.startswith(BINDING_PREFIX)]
    assert len(bindings) == 2, f"expected two logins in flight, cookies: {cookie_names(browser)}"

    browser.switch_to.window(tab1)
    shots.take(browser, "tab1-login-page")
    stack.idp.sign_in(browser, *stack.users["alice"])
    stack.wait_until_signed_in(browser, "alice")
    assert browser.current_url == stack.url(first)
    shots.take(browser, "tab1-signed-in")

    browser.switch_to.window(tab2)
    if stack.name == "dot":
        # Django rotates its CSRF token when tab 1 signs in, so tab 2's form (rendered before)
        # would be refused by Django itself; reloading the login page is what a user does.
        browser.refresh()
        stack.wait_for_login_page(browser)
    stack.idp.sign_in(browser, *stack.users["alice"])
    stack.wait_until_signed_in(browser, "alice")
    assert browser.current_url == stack.url(second)
    shots.take(browser, "tab2-signed-in")

    browser.switch_to.window(tab1)
    browser.refresh()
    stack.wait_until_signed_in(browser, "alice")
    assert browser.current_url == stack.url(first)
    shots.take(browser, "tab1-still-signed-in")
    assert not [name for name in cookie_names(browser) if name.startswith(BINDING_PREFIX)]


@pytest.mark.parametrize("stack_name", ["demo", "dot_short_tokens"])
def test_expired_access_token_is_refreshed_silently(stack_name, request, browser, shots):
    """Access tokens live 2 x REFRESH_WINDOW seconds and the gateway refreshes one half way
    through (sooner than REFRESH_LEEWAY before it expires): a reload inside the window keeps the
    token, a page load after it gets a new one — same session cookie, no trip to the IdP, still
    signed in."""
    stack = request.getfixturevalue(f"{stack_name}_stack")
    browser.get(stack.url("/"))
    stack.wait_for_login_page(browser)
    clicked = time.time()  # the token is issued after this...
    stack.sign_in(browser, "alice", shots)
    arrived = time.time()  # ...and before this
    first_token = stack.token_marker(browser)
    session = browser.get_cookie(SESSION_COOKIE)["value"]

    browser.refresh()
    stack.wait_until_signed_in(browser, "alice")
    if time.time() < clicked + REFRESH_WINDOW - 1:
        assert stack.token_marker(browser) == first_token, "a fresh access token was refreshed"
    shots.take(browser, "reload-same-token")

    time.sleep(max(0.0, arrived + REFRESH_WINDOW + 1 - time.time()))
    browser.refresh()
    stack.wait_until_signed_in(browser, "alice")
    second_token = stack.token_marker(browser)
    shots.take(browser, "after-refresh-new-token")
    assert second_token != first_token, f"the access token was not refreshed after {REFRESH_WINDOW} s"
    assert browser.current_url == stack.url("/")
    assert browser.get_cookie(SESSION_COOKIE)["value"] == session, "a new session: that was a new login, not a refresh"


def test_sign_out_then_back_shows_nothing_private(stack, browser, shots):
    private = "/account/statement?month=10"
    browser.get(stack.url(private))
    stack.sign_in(browser, "alice", shots)
    shots.take(browser, "signed-in")

    stack.sign_out_button(browser).click()
    stack.wait_for_login_page(browser, "the login page after sign-out")
    shots.take(browser, "signed-out-login-page")
    assert browser.get_cookie(SESSION_COOKIE) is None, "the session cookie survived sign-out"

    browser.back()
    # Cache-Control: no-store → not restored from any cache: refetched, and without a session
    # the gateway sends the browser to the login page again.
    stack.wait_for_login_page(browser, "the login page after going back")
    assert stack.signed_in_user(browser) is None
    assert "Hello," not in browser.page_source
    shots.take(browser, "back-button-login-page")

    browser.get(stack.url(private))
    stack.wait_for_login_page(browser, "the login page when asking for the page again")
    shots.take(browser, "asked-again-login-page")


def test_sign_out_from_the_gateways_own_page(stack, browser, shots):
    """`GET /oauth2/sign_out` shows a confirmation with a button that POSTs the sign-out."""
    browser.get(stack.url("/"))
    stack.sign_in(browser, "alice", shots)
    browser.get(stack.url("/oauth2/sign_out"))
    wait_for(browser, lambda d: d.find_elements("css selector", "form[action='/oauth2/sign_out'] button"), "the sign-out page")
    shots.take(browser, "sign-out-page")
    browser.find_element("css selector", "form[action='/oauth2/sign_out'] button").click()
    stack.wait_for_login_page(browser, "the login page after sign-out")
    shots.take(browser, "signed-out-login-page")
    assert browser.get_cookie(SESSION_COOKIE) is None, "the session cookie survived sign-out"
