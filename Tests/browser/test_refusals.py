"""Logins the gateway or the IdP refuses end on the gateway's own pages, in a real browser."""
from __future__ import annotations

import pytest

from pages import gateway_page, navigation_status, wait_for
from test_sign_in import SESSION_COOKIE


@pytest.mark.parametrize("stack_name", ["dev_idp_admins_only", "dot_staff_only"])
def test_user_outside_the_allowed_groups_gets_403(stack_name, request, browser, shots):
    """bob is in neither `admins` (dev IdP) nor `staff` (django-oauth-toolkit); alice is."""
    stack = request.getfixturevalue(f"{stack_name}_stack")
    browser.get(stack.url("/private?x=1"))
    stack.wait_for_login_page(browser)
    shots.take(browser, "login-page")
    stack.idp.sign_in(browser, *stack.users["bob"])
    wait_for(browser, lambda d: d.current_url.startswith(stack.url("/oauth2/callback")), "the gateway's callback")
    shots.take(browser, "access-denied")
    assert gateway_page(browser) == ("Access denied", "group_not_allowed")
    assert navigation_status(browser) == 403
    assert browser.get_cookie(SESSION_COOKIE) is None

    # The same gateway lets alice in.
    browser.delete_all_cookies()
    browser.get(stack.url("/private?x=1"))
    stack.sign_in(browser, "alice", shots, step="alice-")
    assert browser.current_url == stack.url("/private?x=1")
    shots.take(browser, "alice-signed-in")


@pytest.mark.parametrize("stack_name", ["demo", "dot_consent"])
def test_idp_access_denied_shows_the_login_failed_page(stack_name, request, browser, shots):
    """Cancel on the dev IdP's login form, or on django-oauth-toolkit's consent page (client
    gatehouse-consent): the IdP answers `error=access_denied`."""
    stack = request.getfixturevalue(f"{stack_name}_stack")
    browser.get(stack.url("/private?x=1"))
    stack.wait_for_login_page(browser)
    shots.take(browser, "login-page")
    stack.idp.refuse(browser, *stack.users["alice"], shots)
    wait_for(browser, lambda d: d.current_url.startswith(stack.url("/oauth2/callback")), "the gateway's callback")
    shots.take(browser, "login-failed")
    assert "error=access_denied" in browser.current_url, browser.current_url
    # django-oauth-toolkit 3.4.1 adds RFC 9207 `iss` to successful authorization responses
    # only, although its discovery says it sends it (RFC 9207 §2 wants it on error responses
    # too); the gateway then must reject the response (§2.4) before reading its error.
    expected = "missing_iss" if stack.name == "dot" else "access_denied"
    if stack.name == "dot":
        assert "iss=" not in browser.current_url, "DOT now sends iss on errors: expect access_denied here"
    assert gateway_page(browser) == ("Sign-in failed", expected)
    assert navigation_status(browser) == 400
    assert browser.get_cookie(SESSION_COOKIE) is None
    again = browser.find_element("link text", "Try again").get_attribute("href")
    assert again == stack.url("/oauth2/start?rd=%2Fprivate%3Fx%3D1"), again
